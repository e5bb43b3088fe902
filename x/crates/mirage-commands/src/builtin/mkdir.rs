//! `mkdir`: make directories, as GNU coreutils 9.1 `mkdir` (`-p`, `-v`,
//! `-m` accepted). Messages: `mkdir: cannot create directory 'x': File
//! exists`, `… No such file or directory`, `… Read-only file system`;
//! `-v` prints `mkdir: created directory 'x'` for each directory made
//! (each missing parent too with `-p`).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{Error, ErrorKind};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("parents", Some('p'), Some("parents")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::value("mode", Some('m'), Some("mode")),
    OptSpec::flag("context", Some('Z'), None),
];

/// The spec of `mkdir`.
pub static SPEC: CommandSpec = CommandSpec::new("mkdir", OPTS, PathOperands::All);

crate::register_command!("mkdir", SPEC, run, true);

/// The prefixes of `operand` from the first component to the whole
/// (`a/b/c` gives `a`, `a/b`, `a/b/c`; a leading `/` is kept).
fn prefixes(operand: &str) -> Vec<String> {
    let trimmed = operand.trim_end_matches('/');
    let mut out = Vec::new();
    for (i, c) in trimmed.char_indices() {
        if c == '/' && i > 0 && !trimmed[..i].ends_with('/') {
            out.push(trimmed[..i].to_string());
        }
    }
    if !trimmed.is_empty() {
        out.push(trimmed.to_string());
    }
    out
}

async fn created(ctx: &mut CommandCtx, verbose: bool, shown: &str) -> bool {
    if verbose {
        let line = format!("mkdir: created directory '{shown}'\n");
        if let Err(e) = ctx.stdout.write_str(&line).await {
            return e.kind == ErrorKind::BrokenPipe;
        }
    }
    false
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let parents = p.has("parents");
    let verbose = p.has("verbose");
    let mut status = 0;
    for op in &p.operands {
        let abs = ctx.resolve(op);
        if parents {
            if !verbose {
                match ctx.vfs.mkdir(&abs, true).await {
                    Ok(()) => ctx.io.wrote(&abs),
                    Err(e) => {
                        ctx.error(format!("cannot create directory '{op}': {}", e.message()))
                            .await;
                        status = 1;
                    }
                }
                continue;
            }
            for pre in prefixes(op) {
                let pabs = ctx.resolve(&pre);
                match ctx.vfs.stat(&pabs).await {
                    Ok(st) if st.is_dir() => continue,
                    Ok(_) => {
                        let e = Error::new(ErrorKind::AlreadyExists);
                        let msg = if pre.len() == op.trim_end_matches('/').len() {
                            e.message().to_string()
                        } else {
                            ErrorKind::NotADirectory.gnu_message().to_string()
                        };
                        ctx.error(format!("cannot create directory '{op}': {msg}"))
                            .await;
                        status = 1;
                        break;
                    }
                    Err(_) => {}
                }
                match ctx.vfs.mkdir(&pabs, false).await {
                    Ok(()) => {
                        ctx.io.wrote(&pabs);
                        if created(ctx, verbose, &pre).await {
                            return Ok(status);
                        }
                    }
                    Err(e) => {
                        ctx.error(format!("cannot create directory '{op}': {}", e.message()))
                            .await;
                        status = 1;
                        break;
                    }
                }
            }
            continue;
        }
        match ctx.vfs.mkdir(&abs, false).await {
            Ok(()) => {
                ctx.io.wrote(&abs);
                if created(ctx, verbose, op).await {
                    return Ok(status);
                }
            }
            Err(e) => {
                ctx.error(format!("cannot create directory '{op}': {}", e.message()))
                    .await;
                status = 1;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn prefixes_of_paths() {
        assert_eq!(prefixes("a/b/c"), vec!["a", "a/b", "a/b/c"]);
        assert_eq!(prefixes("/x/y/"), vec!["/x", "/x/y"]);
    }

    #[test]
    fn creates_and_reports() {
        let v = MemVfs::with(&[("/d/f", "x")]);
        assert_eq!(run_cmd(&v, run, "mkdir", &["/d/x"], "/", "").2, 0);
        let (_, e, s) = run_cmd(&v, run, "mkdir", &["/d/x"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            ("mkdir: cannot create directory '/d/x': File exists\n", 1)
        );
        let (_, e, s) = run_cmd(&v, run, "mkdir", &["y/z"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "mkdir: cannot create directory 'y/z': No such file or directory\n",
                1
            )
        );
        let (o, _, s) = run_cmd(&v, run, "mkdir", &["-pv", "a/b"], "/d", "");
        assert_eq!(
            (o.as_str(), s),
            (
                "mkdir: created directory 'a'\nmkdir: created directory 'a/b'\n",
                0
            )
        );
        assert_eq!(
            run_cmd(&v, run, "mkdir", &["-p", "/d/a/b/c/d", "/d/a"], "/", "").2,
            0
        );
        let (_, e, s) = run_cmd(&v, run, "mkdir", &["/ro/x"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "mkdir: cannot create directory '/ro/x': Read-only file system\n",
                1
            )
        );
    }
}
