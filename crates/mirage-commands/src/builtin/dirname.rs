//! `dirname`: strip the last component from file names, as GNU coreutils
//! 9.1 `dirname` (`NAME...`, `-z`).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};

use crate::util::parse_args;

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

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        if p.operands.is_empty() {
            ctx.error("missing operand").await;
            let _ = ctx.stderr.write(b"Try 'dirname --help' for more information.\n").await;
            return 1;
        }
        let end = if p.has("zero") { '\0' } else { '\n' };
        let mut out = String::new();
        for n in &p.operands {
            out.push_str(&dir_name(n));
            out.push(end);
        }
        let _ = ctx.stdout.write(out.as_bytes()).await;
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
