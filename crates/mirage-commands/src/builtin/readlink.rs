//! `readlink`: print a symlink's target or a canonical path, as GNU
//! coreutils 9.1 `readlink` (`-f`, `-e`, `-m`, `-n`, `-q`/`-s`, `-v`,
//! `-z`). Without `-f/-e/-m` an operand that is not a link prints nothing
//! and makes the status 1, silently unless `-v`. `-n` with several
//! operands is ignored with a warning, as GNU does.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, FileType};

use crate::builtin::realpath::{Mode, canonicalize};
use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("canonicalize", Some('f'), Some("canonicalize")),
    OptSpec::flag(
        "canonicalize-existing",
        Some('e'),
        Some("canonicalize-existing"),
    ),
    OptSpec::flag(
        "canonicalize-missing",
        Some('m'),
        Some("canonicalize-missing"),
    ),
    OptSpec::flag("no-newline", Some('n'), Some("no-newline")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("silent", Some('s'), Some("silent")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag("zero", Some('z'), Some("zero")),
];

/// The spec of `readlink`.
pub static SPEC: CommandSpec = CommandSpec::new("readlink", OPTS, PathOperands::All);

crate::register_command!("readlink", SPEC, run);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let mode = match p.last_of(&[
        "canonicalize",
        "canonicalize-existing",
        "canonicalize-missing",
    ]) {
        Some("canonicalize") => Some(Mode::AllButLast),
        Some("canonicalize-existing") => Some(Mode::Existing),
        Some("canonicalize-missing") => Some(Mode::Missing),
        _ => None,
    };
    let verbose = p.last_of(&["verbose", "quiet", "silent"]) == Some("verbose");
    let mut no_newline = p.has("no-newline");
    if no_newline && p.operands.len() > 1 {
        ctx.error("ignoring --no-newline with multiple arguments")
            .await;
        no_newline = false;
    }
    let end = if p.has("zero") {
        "\0"
    } else if no_newline {
        ""
    } else {
        "\n"
    };
    let vfs = ctx.vfs.clone();
    let cwd = ctx.cwd.clone();
    let mut status = 0;
    for op in &p.operands {
        let got = match mode {
            Some(m) => canonicalize(&*vfs, &cwd, op, m, true).await,
            None => {
                let abs = ctx.resolve(op);
                match vfs.lstat(&abs).await {
                    Ok(st) if st.file_type == FileType::Symlink => vfs.readlink(&abs).await,
                    Ok(_) => Err(mirage_types::Error::new(ErrorKind::InvalidInput)),
                    Err(e) => Err(e),
                }
            }
        };
        match got {
            Ok(t) => {
                let line = format!("{t}{end}");
                ctx.stdout
                    .write(&mirage_types::bytestr::encode(&line))
                    .await?;
            }
            Err(e) => {
                if verbose {
                    ctx.error(format!("{op}: {}", e.message())).await;
                }
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
    fn not_links_and_canonical_paths() {
        let v = MemVfs::with(&[("/d/real/f", "x")]);
        let r = |args: &[&str]| run_cmd(&v, run, "readlink", args, "/d", "");
        assert_eq!(r(&["-f", "real/./f"]).0, "/d/real/f\n");
        assert_eq!(r(&["-n", "-f", "real"]).0, "/d/real");
        assert_eq!(r(&["real/f"]), (String::new(), String::new(), 1));
        assert_eq!(
            r(&["-v", "real/f"]).1,
            "readlink: real/f: Invalid argument\n"
        );
        assert_eq!(r(&["-e", "real/nope"]).2, 1);
        assert_eq!(r(&["-f", "real/nope"]).0, "/d/real/nope\n");
        assert_eq!(r(&["-f", "nope/x"]).2, 1);
        assert_eq!(r(&["-m", "nope/x/../y"]).0, "/d/nope/y\n");
        assert_eq!(
            r(&["-n", "-f", "real", "real/f"]),
            (
                "/d/real\n/d/real/f\n".into(),
                "readlink: ignoring --no-newline with multiple arguments\n".into(),
                0
            )
        );
    }
}
