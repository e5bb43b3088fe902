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
        let mut i = 0;
        let mut verbose = false;
        while i < args.len() && args[i].starts_with('-') {
            if args[i] == "-v" || args[i] == "-V" {
                verbose = true;
            }
            i += 1;
        }
        if verbose {
            let mut status = 0;
            for a in &args[i..] {
                if is_builtin(a) || st.functions.contains_key(a) {
                    out(io, &bytestr::encode(&format!("{a}\n"))).await?;
                } else if interp.host.has_command(a) {
                    out(io, &bytestr::encode(&format!("/usr/bin/{a}\n"))).await?;
                } else {
                    status = 1;
                }
            }
            return Ok(status);
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
