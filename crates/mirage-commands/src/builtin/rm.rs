//! `rm`: remove files or directories, as GNU coreutils 9.1 `rm` (`-r`/`-R`,
//! `-f`, `-d`, `-v`; `-i`/`-I` accepted and not asked). Messages: `rm:
//! cannot remove 'x': No such file or directory` (silent with `-f`), `…
//! Is a directory` without `-r`, `… Directory not empty` with `-d`,
//! `refusing to remove '.' or '..' directory`, `-v` prints `removed 'x'`
//! and `removed directory 'd'` (children first). Symlinks are removed as
//! links, on the command line and inside a tree, and never descended into
//! (whatever their target, even one outside the mount).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, FileType};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("recursive", Some('r'), Some("recursive")),
    OptSpec::flag("recursive", Some('R'), None),
    OptSpec::flag("force", Some('f'), Some("force")),
    OptSpec::flag("dir", Some('d'), Some("dir")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag("interactive", Some('i'), None),
    OptSpec::flag("interactive", Some('I'), None),
    OptSpec::optional("interactive", None, Some("interactive")),
    OptSpec::flag("one-file-system", None, Some("one-file-system")),
    OptSpec::flag("no-preserve-root", None, Some("no-preserve-root")),
    OptSpec::optional("preserve-root", None, Some("preserve-root")),
];

/// The spec of `rm`.
pub static SPEC: CommandSpec = CommandSpec::new("rm", OPTS, PathOperands::All);

crate::register_command!("rm", SPEC, run, true);

/// Whether the last component of `op` is `.` or `..`.
fn is_dot_or_dotdot(op: &str) -> bool {
    let t = op.trim_end_matches('/');
    let last = t.rsplit('/').next().unwrap_or(t);
    last == "." || last == ".."
}

struct Rm {
    force: bool,
    verbose: bool,
    status: i32,
    broken: bool,
}

impl Rm {
    async fn say(&mut self, ctx: &mut CommandCtx, line: String) {
        if self.verbose
            && !self.broken
            && let Err(e) = ctx.stdout.write_str(&line).await
            && e.kind == ErrorKind::BrokenPipe
        {
            self.broken = true;
        }
    }

    async fn fail(&mut self, ctx: &mut CommandCtx, display: &str, msg: &str) {
        ctx.error(format!("cannot remove '{display}': {msg}")).await;
        self.status = 1;
    }

    /// Removes the tree at `abs` (a directory), children first.
    async fn remove_tree(&mut self, ctx: &mut CommandCtx, display: &str, abs: &str) {
        // (display, abs, is_dir, expanded)
        let mut stack: Vec<(String, String, bool, bool)> =
            vec![(display.to_string(), abs.to_string(), true, false)];
        while let Some((d, a, is_dir, expanded)) = stack.pop() {
            if !is_dir {
                match ctx.vfs.unlink(&a).await {
                    Ok(()) => {
                        ctx.io.wrote(&a);
                        self.say(ctx, format!("removed '{d}'\n")).await;
                    }
                    Err(e) => self.fail(ctx, &d, e.message()).await,
                }
                continue;
            }
            if expanded {
                match ctx.vfs.rmdir(&a).await {
                    Ok(()) => {
                        ctx.io.wrote(&a);
                        self.say(ctx, format!("removed directory '{d}'\n")).await;
                    }
                    Err(e) if e.kind == ErrorKind::DirectoryNotEmpty => {
                        // a child could not be removed; it was already reported
                        if self.status == 0 {
                            self.fail(ctx, &d, e.message()).await;
                        }
                    }
                    Err(e) => self.fail(ctx, &d, e.message()).await,
                }
                continue;
            }
            match ctx.vfs.readdir(&a).await {
                Ok(entries) => {
                    stack.push((d.clone(), a.clone(), true, true));
                    for ent in entries.into_iter().rev() {
                        let dir = ent.file_type == FileType::Directory;
                        stack.push((
                            crate::util::child_path(&d, &ent.name),
                            crate::util::child_path(&a, &ent.name),
                            dir,
                            false,
                        ));
                    }
                }
                Err(e) => self.fail(ctx, &d, e.message()).await,
            }
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let recursive = p.has("recursive");
    let dir = p.has("dir");
    let mut rm = Rm {
        force: p.has("force"),
        verbose: p.has("verbose"),
        status: 0,
        broken: false,
    };
    if p.operands.is_empty() {
        if rm.force {
            return Ok(0);
        }
        return Err(CmdError::usage("missing operand"));
    }
    for op in &p.operands {
        if recursive && is_dot_or_dotdot(op) {
            ctx.error(format!(
                "refusing to remove '.' or '..' directory: skipping '{op}'"
            ))
            .await;
            rm.status = 1;
            continue;
        }
        let abs = ctx.resolve(op);
        if recursive && abs == "/" && !p.has("no-preserve-root") {
            ctx.error(format!(
                "it is dangerous to operate recursively on '{op}'\nrm: use --no-preserve-root to override this failsafe"
            ))
            .await;
            rm.status = 1;
            continue;
        }
        // The operand itself: a symlink is removed as a link, never followed.
        let st = match ctx.vfs.lstat(&abs).await {
            Ok(s) => s,
            Err(e) => {
                if !(rm.force && e.kind == ErrorKind::NotFound) {
                    rm.fail(ctx, op, e.message()).await;
                }
                continue;
            }
        };
        if st.is_dir() {
            if recursive {
                rm.remove_tree(ctx, op, &abs).await;
            } else if dir {
                match ctx.vfs.rmdir(&abs).await {
                    Ok(()) => {
                        ctx.io.wrote(&abs);
                        rm.say(ctx, format!("removed directory '{op}'\n")).await;
                    }
                    Err(e) => rm.fail(ctx, op, e.message()).await,
                }
            } else {
                rm.fail(ctx, op, ErrorKind::IsADirectory.gnu_message())
                    .await;
            }
            continue;
        }
        match ctx.vfs.unlink(&abs).await {
            Ok(()) => {
                ctx.io.wrote(&abs);
                rm.say(ctx, format!("removed '{op}'\n")).await;
            }
            Err(e) => {
                if !(rm.force && e.kind == ErrorKind::NotFound) {
                    rm.fail(ctx, op, e.message()).await;
                }
            }
        }
        if rm.broken {
            break;
        }
    }
    Ok(rm.status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn removes_and_reports() {
        let v = MemVfs::with(&[
            ("/d/dd/s/x", ""),
            ("/d/dd/y", ""),
            ("/d/f", "1"),
            ("/d/e/", ""),
            ("/ro/", ""),
        ]);
        let (o, _, s) = run_cmd(&v, run, "rm", &["-rv", "dd"], "/d", "");
        assert_eq!(
            (o.as_str(), s),
            (
                "removed 'dd/s/x'\nremoved directory 'dd/s'\nremoved 'dd/y'\nremoved directory 'dd'\n",
                0
            )
        );
        let (_, e, s) = run_cmd(&v, run, "rm", &["/d/missing"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "rm: cannot remove '/d/missing': No such file or directory\n",
                1
            )
        );
        assert_eq!(run_cmd(&v, run, "rm", &["-f", "/d/missing"], "/", "").2, 0);
        let (_, e, s) = run_cmd(&v, run, "rm", &["e"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            ("rm: cannot remove 'e': Is a directory\n", 1)
        );
        assert_eq!(run_cmd(&v, run, "rm", &["-d", "e", "f"], "/d", "").2, 0);
        assert_eq!(
            v.tree
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with("/d/"))
                .count(),
            0
        );
        let (_, e, s) = run_cmd(&v, run, "rm", &["-r", "."], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "rm: refusing to remove '.' or '..' directory: skipping '.'\n",
                1
            )
        );
    }

    #[test]
    fn read_only() {
        let v = MemVfs::with(&[("/ro/x", "1")]);
        let (_, e, s) = run_cmd(&v, run, "rm", &["/ro/x"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            ("rm: cannot remove '/ro/x': Read-only file system\n", 1)
        );
    }
}
