//! `mv`: move or rename files, as GNU coreutils 9.1 `mv` (`-f`, `-n`, `-v`,
//! `-i` accepted and not asked, `-T`, `-t DIR`). A destination that is a
//! directory receives `DEST/NAME`. Uses the VFS rename (copy then delete
//! across mounts). Messages: `mv: cannot stat 'x': No such file or
//! directory`, `mv: cannot move 'd' to a subdirectory of itself, 'd/x'`,
//! `mv: cannot move 'a' to 'b': Read-only file system`; `-v` prints
//! `renamed 'a' -> 'b'`.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{copy_targets, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("force", Some('f'), Some("force")),
    OptSpec::flag("no-clobber", Some('n'), Some("no-clobber")),
    OptSpec::flag("interactive", Some('i'), Some("interactive")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag(
        "no-target-directory",
        Some('T'),
        Some("no-target-directory"),
    ),
    OptSpec::value("target-directory", Some('t'), Some("target-directory")),
    OptSpec::flag("update", Some('u'), None),
    OptSpec::optional("backup", None, Some("backup")),
    OptSpec::flag(
        "strip-trailing-slashes",
        None,
        Some("strip-trailing-slashes"),
    ),
];

/// The spec of `mv`.
pub static SPEC: CommandSpec = CommandSpec::new("mv", OPTS, PathOperands::All);

crate::register_command!("mv", SPEC, run, true);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let no_clobber = p.has("no-clobber")
        && p.last_of(&["no-clobber", "force", "interactive"]) == Some("no-clobber");
    let verbose = p.has("verbose");
    let target_dir = p.value("target-directory").map(str::to_string);
    let (sources, dest, into_dir) = match copy_targets(
        ctx,
        p.operands.clone(),
        target_dir,
        p.has("no-target-directory"),
    )
    .await
    {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    let mut status = 0;
    for src in &sources {
        let sabs = ctx.resolve(src);
        // The operand itself: a symlink is moved as a link, wherever it points.
        let st = match ctx.vfs.lstat(&sabs).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("cannot stat '{src}': {}", e.message()))
                    .await;
                status = 1;
                continue;
            }
        };
        let dst = if into_dir {
            crate::util::child_path(&dest, &mirage_types::basename(src))
        } else {
            dest.clone()
        };
        let dabs = ctx.resolve(&dst);
        if dabs == sabs {
            ctx.error(format!("'{src}' and '{dst}' are the same file"))
                .await;
            status = 1;
            continue;
        }
        if st.is_dir() && dabs.starts_with(&crate::util::child_path(&sabs, "")) {
            ctx.error(format!(
                "cannot move '{src}' to a subdirectory of itself, '{dst}'"
            ))
            .await;
            status = 1;
            continue;
        }
        match ctx.vfs.stat(&dabs).await {
            Ok(_) if no_clobber => continue,
            Ok(dst_st) if dst_st.is_dir() && !st.is_dir() => {
                ctx.error(format!(
                    "cannot overwrite directory '{dst}' with non-directory"
                ))
                .await;
                status = 1;
                continue;
            }
            Ok(dst_st) if !dst_st.is_dir() && st.is_dir() => {
                ctx.error(format!(
                    "cannot overwrite non-directory '{dst}' with directory '{src}'"
                ))
                .await;
                status = 1;
                continue;
            }
            _ => {}
        }
        match ctx.vfs.rename(&sabs, &dabs).await {
            Ok(()) => {
                ctx.io.wrote(&sabs);
                ctx.io.wrote(&dabs);
                if verbose {
                    let line = format!("renamed '{src}' -> '{dst}'\n");
                    if let Err(e) = ctx.stdout.write_str(&line).await
                        && e.kind == ErrorKind::BrokenPipe
                    {
                        return Ok(status);
                    }
                }
            }
            Err(e) => {
                ctx.error(format!("cannot move '{src}' to '{dst}': {}", e.message()))
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

    fn has(v: &std::sync::Arc<MemVfs>, p: &str) -> bool {
        v.tree.lock().unwrap().contains_key(p)
    }

    #[test]
    fn renames_and_moves_into_dirs() {
        let v = MemVfs::with(&[
            ("/d/a.log", "a"),
            ("/d/b.log", "b"),
            ("/d/old", "p"),
            ("/d/archive/", ""),
            ("/d/s/t", ""),
        ]);
        let (o, _, s) = run_cmd(&v, run, "mv", &["-v", "old", "new"], "/d", "");
        assert_eq!((o.as_str(), s), ("renamed 'old' -> 'new'\n", 0));
        assert!(has(&v, "/d/new") && !has(&v, "/d/old"));
        assert_eq!(
            run_cmd(&v, run, "mv", &["a.log", "b.log", "archive/"], "/d", "").2,
            0
        );
        assert!(has(&v, "/d/archive/a.log") && has(&v, "/d/archive/b.log"));
        let (_, e, s) = run_cmd(&v, run, "mv", &["nope", "x"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            ("mv: cannot stat 'nope': No such file or directory\n", 1)
        );
        let (_, e, s) = run_cmd(&v, run, "mv", &["s", "s/x"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "mv: cannot move 's' to a subdirectory of itself, 's/x'\n",
                1
            )
        );
        let (_, e, s) = run_cmd(&v, run, "mv", &["new", "/ro/x"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "mv: cannot move 'new' to '/ro/x': Read-only file system\n",
                1
            )
        );
        assert_eq!(run_cmd(&v, run, "mv", &["-n", "new", "s/t"], "/d", "").2, 0);
        assert!(has(&v, "/d/new"));
    }
}
