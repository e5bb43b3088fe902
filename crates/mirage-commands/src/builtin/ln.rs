//! `ln`: make links, as GNU coreutils 9.1 `ln` (`-s`, `-f`, `-n`, `-v`,
//! `-T`, `-t DIR`, `-r`; `-i`, `-b`, `-L`, `-P` accepted). Symlinks are made
//! through the VFS on resources that keep them; elsewhere the call fails
//! with GNU's wording, `ln: failed to create symbolic link 'x': Operation
//! not supported`. Hard links exist on no resource: `ln` without `-s`
//! reports `failed to create hard link 'b' => 'a': Operation not supported`
//! (after GNU's own checks: a missing target, a directory).
//!
//! Operand forms as GNU: `ln TARGET` (a link named after it in the cwd,
//! shown as `./NAME`), `ln TARGET LINK`, `ln TARGET... DIR` (a link in DIR
//! for each target; DIR followed when it is a symlink unless `-n`).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, FileType};
use mirage_types::{basename, dirname};

use crate::builtin::realpath::{Mode, canonicalize, relative};
use crate::util::{child_path, parse_cmd, quoteaf};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("symbolic", Some('s'), Some("symbolic")),
    OptSpec::flag("force", Some('f'), Some("force")),
    OptSpec::flag("no-dereference", Some('n'), Some("no-dereference")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag(
        "no-target-directory",
        Some('T'),
        Some("no-target-directory"),
    ),
    OptSpec::value("target-directory", Some('t'), Some("target-directory")),
    OptSpec::flag("relative", Some('r'), Some("relative")),
    OptSpec::flag("interactive", Some('i'), Some("interactive")),
    OptSpec::flag("backup", Some('b'), None),
    OptSpec::optional("backup-long", None, Some("backup")),
    OptSpec::value("suffix", Some('S'), Some("suffix")),
    OptSpec::flag("logical", Some('L'), Some("logical")),
    OptSpec::flag("physical", Some('P'), Some("physical")),
    OptSpec::flag("directory", Some('d'), Some("directory")),
];

/// The spec of `ln`.
pub static SPEC: CommandSpec = CommandSpec::new("ln", OPTS, PathOperands::All);

crate::register_command!("ln", SPEC, run, true);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let symbolic = p.has("symbolic");
    let no_deref = p.has("no-dereference");
    let no_target_dir = p.has("no-target-directory");
    let mut ops = p.operands.clone();
    if ops.is_empty() {
        return Err(CmdError::usage("missing file operand"));
    }
    // (target, link as shown)
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(dir) = p.value("target-directory") {
        if no_target_dir {
            return Err(CmdError::usage(
                "cannot combine --target-directory and --no-target-directory",
            ));
        }
        if !is_dir(ctx, dir, false).await {
            ctx.error(format!("target {}: Not a directory", quoteaf(dir)))
                .await;
            return Ok(1);
        }
        for t in &ops {
            pairs.push((t.clone(), child_path(dir, &basename(t))));
        }
    } else if ops.len() == 1 {
        let t = ops.remove(0);
        pairs.push((t.clone(), format!("./{}", basename(&t))));
    } else if no_target_dir {
        if ops.len() > 2 {
            return Err(CmdError::usage(format!(
                "extra operand {}",
                quoteaf(&ops[2])
            )));
        }
        pairs.push((ops[0].clone(), ops[1].clone()));
    } else {
        let dest = ops.pop().unwrap_or_default();
        let dir = is_dir(ctx, &dest, no_deref).await;
        if ops.len() > 1 && !dir {
            let abs = ctx.resolve(&dest);
            let why = match ctx.vfs.stat(&abs).await {
                Err(e) => e.message().to_string(),
                Ok(_) => ErrorKind::NotADirectory.gnu_message().to_string(),
            };
            ctx.error(format!("target {}: {why}", quoteaf(&dest))).await;
            return Ok(1);
        }
        for t in ops {
            let link = if dir {
                child_path(&dest, &basename(&t))
            } else {
                dest.clone()
            };
            pairs.push((t, link));
        }
    }
    let mut status = 0;
    for (target, link) in pairs {
        if !make(ctx, &p, symbolic, &target, &link).await? {
            status = 1;
        }
    }
    Ok(status)
}

/// Whether `path` is a directory (a symlink to one counts unless
/// `no_deref`).
async fn is_dir(ctx: &mut CommandCtx, path: &str, no_deref: bool) -> bool {
    let abs = ctx.resolve(path);
    let vfs = ctx.vfs.clone();
    if no_deref
        && let Ok(st) = vfs.lstat(&abs).await
        && st.file_type == FileType::Symlink
    {
        return false;
    }
    vfs.stat(&abs).await.is_ok_and(|s| s.is_dir())
}

/// Makes one link; false after reporting an error.
async fn make(
    ctx: &mut CommandCtx,
    p: &mirage_types::args::ParsedArgs,
    symbolic: bool,
    target: &str,
    link: &str,
) -> Result<bool, CmdError> {
    let abs = ctx.resolve(link);
    if !symbolic {
        let tabs = ctx.resolve(target);
        match ctx.vfs.stat(&tabs).await {
            Err(e) => {
                ctx.error(format!(
                    "failed to access {}: {}",
                    quoteaf(target),
                    e.message()
                ))
                .await;
                return Ok(false);
            }
            Ok(st) if st.is_dir() => {
                ctx.error(format!("{target}: hard link not allowed for directory"))
                    .await;
                return Ok(false);
            }
            Ok(_) => {}
        }
    }
    let mut stored = target.to_string();
    if symbolic && p.has("relative") {
        let vfs = ctx.vfs.clone();
        let cwd = ctx.cwd.clone();
        let t = canonicalize(&*vfs, &cwd, target, Mode::Missing, true).await;
        let parent = dirname(&abs);
        let d = canonicalize(&*vfs, &cwd, &parent, Mode::Missing, true).await;
        if let (Ok(t), Ok(d)) = (t, d) {
            stored = relative(&t, &d);
        }
    }
    let fail = |e: &str| {
        if symbolic {
            format!("failed to create symbolic link {}: {e}", quoteaf(link))
        } else {
            format!(
                "failed to create hard link {} => {}: {e}",
                quoteaf(link),
                quoteaf(target)
            )
        }
    };
    if let Ok(st) = ctx.vfs.lstat(&abs).await {
        if !p.has("force") {
            // GNU names only the link here, for both kinds
            ctx.error(format!(
                "failed to create {} link {}: {}",
                if symbolic { "symbolic" } else { "hard" },
                quoteaf(link),
                ErrorKind::AlreadyExists.gnu_message()
            ))
            .await;
            return Ok(false);
        }
        if st.is_dir() {
            ctx.error(format!("{link}: cannot overwrite directory"))
                .await;
            return Ok(false);
        }
        if !symbolic {
            // no resource keeps hard links: say so before removing anything
            ctx.error(fail(ErrorKind::Unsupported.gnu_message())).await;
            return Ok(false);
        }
        if let Err(e) = ctx.vfs.unlink(&abs).await {
            ctx.error(format!("cannot remove {}: {}", quoteaf(link), e.message()))
                .await;
            return Ok(false);
        }
    }
    // a missing parent is reported as GNU reports it, before the
    // resource says whether it keeps links
    let parent = dirname(&abs);
    let res = match ctx.vfs.stat(&parent).await {
        Err(e) => Err(e),
        Ok(st) if !st.is_dir() => Err(mirage_types::Error::new(ErrorKind::NotADirectory)),
        Ok(_) if symbolic => ctx.vfs.symlink(&stored, &abs).await,
        Ok(_) => Err(mirage_types::Error::new(ErrorKind::Unsupported)),
    };
    match res {
        Ok(()) => {
            ctx.io.wrote(&abs);
            if p.has("verbose") {
                let arrow = if symbolic { "->" } else { "=>" };
                let line = format!("{} {arrow} {}\n", quoteaf(link), quoteaf(&stored));
                ctx.stdout
                    .write(&mirage_types::bytestr::encode(&line))
                    .await?;
            }
            Ok(true)
        }
        Err(e) => {
            ctx.error(fail(e.message())).await;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn errors_as_gnu() {
        // the RAM resource keeps symlinks, but no hard links: GNU's
        // wording for ENOTSUP
        let v = MemVfs::with(&[("/d/a", "A\n"), ("/d/b", "B\n"), ("/d/sub/", "")]);
        let r = |args: &[&str]| run_cmd(&v, run, "ln", args, "/d", "");
        assert_eq!(r(&["-s", "a", "cur"]), (String::new(), String::new(), 0));
        assert_eq!(
            r(&["-s", "a", "b"]).1,
            "ln: failed to create symbolic link 'b': File exists\n"
        );
        assert_eq!(
            r(&["-s", "a", "b", "c"]).1,
            "ln: target 'c': No such file or directory\n"
        );
        assert_eq!(
            r(&["-s", "a", "nodir/x"]).1,
            "ln: failed to create symbolic link 'nodir/x': No such file or directory\n"
        );
        assert_eq!(
            r(&["-sv", "a", "sub"]),
            ("'sub/a' -> 'a'\n".to_string(), String::new(), 0)
        );
        assert_eq!(
            r(&["-sfT", "a", "sub"]).1,
            "ln: sub: cannot overwrite directory\n"
        );
        assert_eq!(
            r(&["a", "h"]).1,
            "ln: failed to create hard link 'h' => 'a': Operation not supported\n"
        );
        assert_eq!(
            r(&["x", "h"]).1,
            "ln: failed to access 'x': No such file or directory\n"
        );
        assert_eq!(
            r(&["-s", "a", "/ro/x"]).1,
            "ln: failed to create symbolic link '/ro/x': Read-only file system\n"
        );
        let (_, e, s) = r(&[]);
        assert_eq!(s, 1);
        assert!(e.starts_with("ln: missing file operand\n"), "{e}");
    }
}
