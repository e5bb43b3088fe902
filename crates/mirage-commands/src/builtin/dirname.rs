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
    use crate::util::testing::{MemVfs, run as run_cmd};

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
        let vfs = MemVfs::with(&[
            ("/d/a.txt", "a1\na2\na3\n"),
            ("/d/b.txt", "b1\nb2\n"),
            (
                "/d/lines.txt",
                "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\nline 11\nline 12\nline 13\nline 14\nline 15\n",
            ),
            ("/d/s.txt", "a 10 x\nb 9 y\nc 100 z\nd 9 a\n"),
            ("/d/st.txt", "b 2\na 3\nb 1\na 1\n"),
            (
                "/d/emp.csv",
                "id,name,dept,salary\n1,Alice,Eng,120000\n2,Bob,Mkt,85000\n3,Carol,Eng,135000\n4,Dan,Sales,70000\n",
            ),
            ("/d/nonl.txt", "x\ny\nz"),
            ("/d/u.txt", "a\na\nb\na\na\na\nc\n"),
            ("/d/v.txt", "v1.10.0\nv1.2.10\nv2.0.0\nv1.9.3\nv1.2.0\n"),
            ("/d/h.txt", "2K\n1M\n512\n10K\n1G\n"),
            ("/d/utf.txt", "héllo wörld\n日本語 text\n"),
            ("/d/empty.txt", ""),
            ("/d/dir/", ""),
        ]);
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
