//! `command [-vV] NAME [ARG]...`, `builtin NAME [ARG]...` and
//! `exec NAME [ARG]...`.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, is_builtin, out, run_command_words, run_command_words_nofunc};
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `command [-vV] NAME [ARG]...`, `builtin NAME [ARG]...` and
/// `exec NAME [ARG]...`.
pub struct Command;

#[async_trait]
impl Builtin for Command {
    fn names(&self) -> &'static [&'static str] {
        &["command", "builtin", "exec"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        if name == "command" {
            let (i, how) = match command_options(args) {
                Ok(x) => x,
                Err(c) => {
                    io.err(&format!(
                        "{}command: -{c}: invalid option\ncommand: usage: command [-pVv] command [arg ...]\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(2);
                }
            };
            if let Some(verbose) = how.describe {
                return describe(interp, &args[i..], verbose, how.std_path, st, io).await;
            }
            if i >= args.len() {
                return Ok(0);
            }
            return run_command_words_nofunc(interp, &args[i..], st, io).await;
        }
        let mut i = 0;
        while i < args.len() && args[i].starts_with('-') {
            i += 1;
        }
        if i >= args.len() {
            return Ok(0);
        }
        let r = if name == "exec" {
            let cmd = &args[i];
            if !cmd.contains('/')
                && !is_builtin(cmd)
                && !st.functions.contains_key(cmd)
                && !interp.host.has_command(cmd)
            {
                // bash: `exec: NAME: not found`, and the shell exits 127
                io.err(&format!("{}exec: {cmd}: not found\n", st.diag()))
                    .await;
                return Err(Flow::Exit(127));
            }
            run_command_words(interp, &args[i..], st, io).await
        } else {
            run_command_words_nofunc(interp, &args[i..], st, io).await
        };
        if name == "exec" {
            return Err(Flow::Exit(r.unwrap_or(0)));
        }
        r
    }
}

/// The options of `command`: `-p`, and `-v`/`-V` (the last one given wins).
#[derive(Default)]
struct CommandOpts {
    /// `-p`: bash's standard path.
    std_path: bool,
    /// `-v` (false) or `-V` (true): describe the names instead of running.
    describe: Option<bool>,
}

/// Reads `command`'s options (grouped letters, `--`, a lone `-` ends them):
/// the index of the first name and the options, or the bad letter.
fn command_options(args: &[String]) -> Result<(usize, CommandOpts), char> {
    let mut o = CommandOpts::default();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
            break;
        };
        for c in letters.chars() {
            match c {
                'p' => o.std_path = true,
                'v' => o.describe = Some(false),
                'V' => o.describe = Some(true),
                c => return Err(c),
            }
        }
        i += 1;
    }
    Ok((i, o))
}

/// `command -v NAME…` / `command -V NAME…`: each name as bash describes it
/// (see `type::describe`); `-V` says `command: NAME: not found` for a name
/// with no meaning. Status 0 when any name was found, else 1.
async fn describe(
    interp: &Interp,
    names: &[String],
    verbose: bool,
    std_path: bool,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let mut found = names.is_empty();
    for n in names {
        match super::r#type::describe(interp, st, n, verbose, std_path).await {
            Some(text) => {
                found = true;
                out(io, &bytestr::encode(&text)).await?;
            }
            None if verbose => {
                io.err(&format!("{}command: {n}: not found\n", st.diag()))
                    .await;
            }
            None => {}
        }
    }
    Ok(if found { 0 } else { 1 })
}
