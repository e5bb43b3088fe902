//! `rmdir`: remove empty directories, as GNU coreutils 9.1 `rmdir`
//! (`-p`, `-v`, `--ignore-fail-on-non-empty`). Messages: `rmdir: failed to
//! remove 'x': Directory not empty` (or `No such file or directory`,
//! `Not a directory`); with `-p` a parent that cannot go gives `rmdir:
//! failed to remove directory 'a': …` and stops that operand. `-v` prints
//! `rmdir: removing directory, 'x'` before each attempt. Exit 1 on any
//! failure.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{Error, ErrorKind};

use crate::util::{parse_cmd, quoteaf};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("parents", Some('p'), Some("parents")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag(
        "ignore-fail-on-non-empty",
        None,
        Some("ignore-fail-on-non-empty"),
    ),
];

/// The spec of `rmdir`.
pub static SPEC: CommandSpec = CommandSpec::new("rmdir", OPTS, PathOperands::All);

crate::register_command!("rmdir", SPEC, run, true);

/// The parents `rmdir -p` tries after `dir`, nearest first (`a/b/c` gives
/// `a/b`, `a`; `/x/y` gives `/x`, `/`).
fn parents(dir: &str) -> Vec<String> {
    let mut cur = dir.trim_end_matches('/').to_string();
    let mut out = Vec::new();
    while let Some(i) = cur.rfind('/') {
        let head = cur[..i].trim_end_matches('/');
        cur = if head.is_empty() {
            "/".to_string()
        } else {
            head.to_string()
        };
        out.push(cur.clone());
        if cur == "/" {
            break;
        }
    }
    out
}

/// Whether `--ignore-fail-on-non-empty` hides this failure.
fn ignorable(ignore: bool, e: &Error) -> bool {
    ignore
        && matches!(
            e.kind,
            ErrorKind::DirectoryNotEmpty | ErrorKind::AlreadyExists
        )
}

/// Prints `rmdir: removing directory, 'x'`; true when stdout's reader has gone.
async fn announce(ctx: &mut CommandCtx, verbose: bool, dir: &str) -> bool {
    if !verbose {
        return false;
    }
    let line = format!("rmdir: removing directory, {}\n", quoteaf(dir));
    matches!(ctx.stdout.write_str(&line).await, Err(e) if e.kind == ErrorKind::BrokenPipe)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let parents_too = p.has("parents");
    let verbose = p.has("verbose");
    let ignore = p.has("ignore-fail-on-non-empty");
    let mut status = 0;
    for op in &p.operands {
        if announce(ctx, verbose, op).await {
            return Ok(status);
        }
        let abs = ctx.resolve(op);
        match ctx.vfs.rmdir(&abs).await {
            Ok(()) => ctx.io.wrote(&abs),
            Err(e) => {
                if !ignorable(ignore, &e) {
                    ctx.error(format!("failed to remove {}: {}", quoteaf(op), e.message()))
                        .await;
                    status = 1;
                }
                continue;
            }
        }
        if !parents_too {
            continue;
        }
        for parent in parents(op) {
            if announce(ctx, verbose, &parent).await {
                return Ok(status);
            }
            let pabs = ctx.resolve(&parent);
            match ctx.vfs.rmdir(&pabs).await {
                Ok(()) => ctx.io.wrote(&pabs),
                Err(e) => {
                    if !ignorable(ignore, &e) {
                        let what = if e.kind == ErrorKind::NotADirectory {
                            ""
                        } else {
                            "directory "
                        };
                        ctx.error(format!(
                            "failed to remove {what}{}: {}",
                            quoteaf(&parent),
                            e.message()
                        ))
                        .await;
                        status = 1;
                    }
                    break;
                }
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
    fn parents_of_paths() {
        assert_eq!(parents("a/b/c"), vec!["a/b", "a"]);
        assert_eq!(parents("a//b/"), vec!["a"]);
        assert_eq!(parents("/x/y"), vec!["/x", "/"]);
        assert!(parents("a").is_empty());
        assert_eq!(quoteaf("a b"), "'a b'");
        assert_eq!(quoteaf("it's"), "\"it's\"");
    }

    #[test]
    fn removes_only_empty_dirs() {
        let v = MemVfs::with(&[("/d/e/", ""), ("/d/ne/f", "x"), ("/d/file", "y")]);
        assert_eq!(
            run_cmd(&v, run, "rmdir", &["e"], "/d", ""),
            (String::new(), String::new(), 0)
        );
        let (o, e, s) = run_cmd(&v, run, "rmdir", &["ne", "missing", "file", "e"], "/d", "");
        assert_eq!(o, "");
        assert_eq!(
            e,
            "rmdir: failed to remove 'ne': Directory not empty\n\
             rmdir: failed to remove 'missing': No such file or directory\n\
             rmdir: failed to remove 'file': Not a directory\n\
             rmdir: failed to remove 'e': No such file or directory\n"
        );
        assert_eq!(s, 1);
        assert_eq!(
            run_cmd(
                &v,
                run,
                "rmdir",
                &["--ignore-fail-on-non-empty", "ne"],
                "/d",
                ""
            )
            .2,
            0
        );
        let (_, e, s) = run_cmd(&v, run, "rmdir", &[], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "rmdir: missing operand\nTry 'rmdir --help' for more information.\n",
                1
            )
        );
    }

    #[test]
    fn parents_and_verbose() {
        let v = MemVfs::with(&[("/w/a/b/c/", ""), ("/w/keep", "k")]);
        let (o, e, s) = run_cmd(&v, run, "rmdir", &["-pv", "a/b/c"], "/w", "");
        assert_eq!(
            o,
            "rmdir: removing directory, 'a/b/c'\nrmdir: removing directory, 'a/b'\nrmdir: removing directory, 'a'\n"
        );
        assert_eq!((e.as_str(), s), ("", 0));
        let v = MemVfs::with(&[("/w/a/b/", ""), ("/w/keep", "k")]);
        let (_, e, s) = run_cmd(&v, run, "rmdir", &["-p", "/w/a/b"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "rmdir: failed to remove directory '/w': Directory not empty\n",
                1
            )
        );
        assert!(
            v.tree
                .lock()
                .map(|t| !t.contains_key("/w/a"))
                .unwrap_or(false)
        );
    }
}
