//! `dirname`: strip the last component from file names, as GNU coreutils
//! 9.1 `dirname` (`NAME...`, `-z`).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[OptSpec::flag("zero", Some('z'), Some("zero"))];

/// The spec of `dirname`.
pub static SPEC: CommandSpec = CommandSpec::new("dirname", OPTS, PathOperands::None);

crate::register_command!("dirname", SPEC, run);

/// The directory part of `name` (GNU `dir_name`): `.` without a slash,
/// `/` for the root, trailing slashes of the result removed.
fn dir_name(name: &str) -> String {
    let b = name.as_bytes();
    // Drop trailing slashes, then the last component, then the slashes before it.
    let mut end = b.len();
    while end > 1 && b[end - 1] == b'/' {
        end -= 1;
    }
    while end > 0 && b[end - 1] != b'/' {
        end -= 1;
    }
    if end == 0 {
        return ".".to_string();
    }
    while end > 1 && b[end - 1] == b'/' {
        end -= 1;
    }
    name[..end].to_string()
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        ctx.error("missing operand").await;
        let _ = ctx
            .stderr
            .write(b"Try 'dirname --help' for more information.\n")
            .await;
        return Ok(1);
    }
    let end = if p.has("zero") { '\0' } else { '\n' };
    let mut out = String::new();
    for n in &p.operands {
        out.push_str(&dir_name(n));
        out.push(end);
    }
    let _ = ctx.stdout.write_str(&out).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    #[test]
    fn gnu_dir_names() {
        assert_eq!(dir_name("/data/reports/summary.csv"), "/data/reports");
        assert_eq!(dir_name("/data/reports/"), "/data");
        assert_eq!(dir_name("file.txt"), ".");
        assert_eq!(dir_name("a/b/c"), "a/b");
        assert_eq!(dir_name("//a"), "/");
        assert_eq!(dir_name("//"), "/");
        assert_eq!(dir_name("///a/b//"), "///a");
        assert_eq!(dir_name("a//b"), "a");
        assert_eq!(dir_name(""), ".");
        assert_eq!(dir_name("/"), "/");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["/data/reports/summary.csv"], "", "/data/reports\n", 0),
            (&["/data/reports/"], "", "/data\n", 0),
            (&["file.txt"], "", ".\n", 0),
            (&["a/b/c"], "", "a/b\n", 0),
            (&["/data/a", "/data/b/c"], "", "/data\n/data/b\n", 0),
            (&[], "", "", 1),
            (&["-z", "a/b"], "", "a\0", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "dirname", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
