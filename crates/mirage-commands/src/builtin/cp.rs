//! `cp`: copy files and directories, as GNU coreutils 9.1 `cp` (`-r`/`-R`,
//! `-a`, `-p`/`--preserve` accepted, `-n`, `-f`, `-v`, `-T`, `-t DIR`).
//! A destination that is a directory receives `DEST/NAME`. Bytes stream
//! from the source's read to the destination's write through the VFS, so
//! a copy across mounts works. Messages: `cp: cannot stat 'x': No such
//! file or directory`, `cp: -r not specified; omitting directory 'd'`,
//! `cp: cannot create regular file 'x': Read-only file system`, `cp: 'a'
//! and 'a' are the same file`; `-v` prints `'a' -> 'b'`.
//!
//! Symlinks as GNU: without `-r` an operand link is followed (its file is
//! copied); `-r` copies links as links (operands and inside the tree), as
//! `-P`, `-d` and `-a` do; `-H` follows operands only; `-L` follows every
//! link, and a directory reached again is `cannot copy cyclic symbolic
//! link 'X'`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, FileType};

use crate::util::{copy_targets, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("recursive", Some('r'), Some("recursive")),
    OptSpec::flag("recursive", Some('R'), None),
    OptSpec::flag("archive", Some('a'), Some("archive")),
    OptSpec::flag("preserve", Some('p'), None),
    OptSpec::optional("preserve", None, Some("preserve")),
    OptSpec::flag("no-clobber", Some('n'), Some("no-clobber")),
    OptSpec::flag("force", Some('f'), Some("force")),
    OptSpec::flag("interactive", Some('i'), Some("interactive")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag(
        "no-target-directory",
        Some('T'),
        Some("no-target-directory"),
    ),
    OptSpec::value("target-directory", Some('t'), Some("target-directory")),
    OptSpec::flag("no-dereference", Some('P'), Some("no-dereference")),
    OptSpec::flag("dereference", Some('L'), Some("dereference")),
    OptSpec::flag("H", Some('H'), None),
    OptSpec::flag("update", Some('u'), None),
    OptSpec::flag("d", Some('d'), None),
    OptSpec::flag("x", Some('x'), Some("one-file-system")),
];

/// The spec of `cp`.
pub static SPEC: CommandSpec = CommandSpec::new("cp", OPTS, PathOperands::All);

crate::register_command!("cp", SPEC, run, true);

/// The last component of an operand as typed (`a/b/` gives `b`).
fn last_name(op: &str) -> String {
    mirage_types::basename(op)
}

struct Cp {
    /// `-L`: follow links inside trees too.
    dereference: bool,
    /// Follow symlinks given as operands (`-L`, `-H`, or no `-r`/`-P`/`-d`/`-a`).
    deref_operands: bool,
    recursive: bool,
    no_clobber: bool,
    verbose: bool,
    status: i32,
    broken: bool,
}

impl Cp {
    async fn say(&mut self, ctx: &mut CommandCtx, src: &str, dst: &str) {
        if self.verbose && !self.broken {
            let line = format!("'{src}' -> '{dst}'\n");
            if let Err(e) = ctx.stdout.write_str(&line).await
                && e.kind == ErrorKind::BrokenPipe
            {
                self.broken = true;
            }
        }
    }

    async fn err(&mut self, ctx: &mut CommandCtx, msg: String) {
        ctx.error(msg).await;
        self.status = 1;
    }

    /// Copies one regular file (`src_abs` to `dst_abs`).
    async fn copy_file(
        &mut self,
        ctx: &mut CommandCtx,
        src: &str,
        src_abs: &str,
        dst: &str,
        dst_abs: &str,
    ) {
        match ctx.vfs.stat(dst_abs).await {
            Ok(st) if st.is_dir() => {
                self.err(
                    ctx,
                    format!("cannot overwrite directory '{dst}' with non-directory"),
                )
                .await;
                return;
            }
            Ok(_) if self.no_clobber => return,
            _ => {}
        }
        let data = match ctx.vfs.read(src_abs).await {
            Ok(d) => d,
            Err(e) => {
                self.err(
                    ctx,
                    format!("cannot open '{src}' for reading: {}", e.message()),
                )
                .await;
                return;
            }
        };
        ctx.io.read(src_abs);
        match ctx.vfs.write(dst_abs, data).await {
            Ok(()) => {
                ctx.io.wrote(dst_abs);
                self.say(ctx, src, dst).await;
            }
            Err(e) => {
                self.err(
                    ctx,
                    format!("cannot create regular file '{dst}': {}", e.message()),
                )
                .await;
            }
        }
    }

    /// Copies the symlink `src_abs` as a link (`cp -P`, `-d`, `-a`, and `-r`
    /// inside a tree): the same target, stored as is.
    async fn copy_link(
        &mut self,
        ctx: &mut CommandCtx,
        src: &str,
        src_abs: &str,
        dst: &str,
        dst_abs: &str,
    ) {
        let target = match ctx.vfs.readlink(src_abs).await {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    ctx,
                    format!("cannot read symbolic link '{src}': {}", e.message()),
                )
                .await;
                return;
            }
        };
        match ctx.vfs.lstat(dst_abs).await {
            Ok(_) if self.no_clobber => return,
            Ok(st) if st.is_dir() => {
                self.err(
                    ctx,
                    format!("cannot overwrite directory '{dst}' with non-directory"),
                )
                .await;
                return;
            }
            Ok(_) => {
                if let Err(e) = ctx.vfs.unlink(dst_abs).await {
                    self.err(ctx, format!("cannot remove '{dst}': {}", e.message()))
                        .await;
                    return;
                }
            }
            Err(_) => {}
        }
        match ctx.vfs.symlink(&target, dst_abs).await {
            Ok(()) => {
                ctx.io.wrote(dst_abs);
                self.say(ctx, src, dst).await;
            }
            Err(e) => {
                self.err(
                    ctx,
                    format!("cannot create symbolic link '{dst}': {}", e.message()),
                )
                .await;
            }
        }
    }

    /// Copies `src` (already stat'ed, or lstat'ed when links are not
    /// followed: `ft`) to exactly `dst`. Links inside a tree are copied as
    /// links, or followed with `-L` (a directory met again through a link
    /// is `cannot copy cyclic symbolic link`).
    async fn copy(
        &mut self,
        ctx: &mut CommandCtx,
        src: &str,
        src_abs: &str,
        ft: FileType,
        dst: &str,
        dst_abs: &str,
    ) {
        match ft {
            FileType::File => return self.copy_file(ctx, src, src_abs, dst, dst_abs).await,
            FileType::Symlink => return self.copy_link(ctx, src, src_abs, dst, dst_abs).await,
            FileType::Directory => {}
        }
        if !self.recursive {
            self.err(ctx, format!("-r not specified; omitting directory '{src}'"))
                .await;
            return;
        }
        if dst_abs == src_abs || dst_abs.starts_with(&crate::util::child_path(src_abs, "")) {
            self.err(
                ctx,
                format!("cannot copy a directory, '{src}', into itself, '{dst}'"),
            )
            .await;
            return;
        }
        // pre-order: make each directory, then copy its entries; with -L,
        // each directory carries the real paths of the directories above it.
        type Ancestors = std::sync::Arc<Vec<String>>;
        let mut stack: Vec<(String, String, String, String, FileType, Ancestors)> = vec![(
            src.to_string(),
            src_abs.to_string(),
            dst.to_string(),
            dst_abs.to_string(),
            FileType::Directory,
            Ancestors::default(),
        )];
        while let Some((s, sa, d, da, ft, ancestors)) = stack.pop() {
            if self.broken {
                return;
            }
            match ft {
                FileType::File => {
                    self.copy_file(ctx, &s, &sa, &d, &da).await;
                    continue;
                }
                FileType::Symlink => {
                    self.copy_link(ctx, &s, &sa, &d, &da).await;
                    continue;
                }
                FileType::Directory => {}
            }
            let mut ancestors = ancestors;
            if self.dereference {
                let real = ctx.vfs.realpath(&sa).await.unwrap_or_else(|_| sa.clone());
                if ancestors.contains(&real) {
                    self.err(ctx, format!("cannot copy cyclic symbolic link '{s}'"))
                        .await;
                    continue;
                }
                let mut v = (*ancestors).clone();
                v.push(real);
                ancestors = std::sync::Arc::new(v);
            }
            match ctx.vfs.stat(&da).await {
                Ok(st) if st.is_dir() => {}
                Ok(_) => {
                    self.err(
                        ctx,
                        format!("cannot overwrite non-directory '{d}' with directory '{s}'"),
                    )
                    .await;
                    continue;
                }
                Err(_) => match ctx.vfs.mkdir(&da, false).await {
                    Ok(()) => {
                        ctx.io.wrote(&da);
                        self.say(ctx, &s, &d).await;
                    }
                    Err(e) => {
                        self.err(
                            ctx,
                            format!("cannot create directory '{d}': {}", e.message()),
                        )
                        .await;
                        continue;
                    }
                },
            }
            let entries = match ctx.vfs.readdir(&sa).await {
                Ok(e) => e,
                Err(e) => {
                    self.err(ctx, format!("cannot access '{s}': {}", e.message()))
                        .await;
                    continue;
                }
            };
            let mut children = Vec::with_capacity(entries.len());
            for ent in entries {
                let (cs, csa) = (
                    crate::util::child_path(&s, &ent.name),
                    crate::util::child_path(&sa, &ent.name),
                );
                let mut ft = ent.file_type;
                if ft == FileType::Symlink && self.dereference {
                    match ctx.vfs.stat(&csa).await {
                        Ok(t) => ft = t.file_type,
                        Err(e) => {
                            self.err(ctx, format!("cannot stat '{cs}': {}", e.message()))
                                .await;
                            continue;
                        }
                    }
                }
                children.push((
                    cs,
                    csa,
                    crate::util::child_path(&d, &ent.name),
                    crate::util::child_path(&da, &ent.name),
                    ft,
                    ancestors.clone(),
                ));
            }
            stack.extend(children.into_iter().rev());
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let recursive = p.has("recursive") || p.has("archive");
    // GNU: -L follows every link, -H the operands only; -P, -d and -a
    // follow none; otherwise operands are followed unless copying
    // recursively, and links inside a tree never are.
    let dereference =
        p.last_of(&["dereference", "no-dereference", "d", "archive", "H"]) == Some("dereference");
    let no_deref = p.has("no-dereference") || p.has("d") || p.has("archive");
    let deref_operands = dereference
        || p.last_of(&["dereference", "no-dereference", "d", "archive", "H"]) == Some("H")
        || (!no_deref && !recursive);
    let mut cp = Cp {
        dereference,
        deref_operands,
        recursive,
        no_clobber: p.has("no-clobber"),
        verbose: p.has("verbose"),
        status: 0,
        broken: false,
    };
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
    for src in &sources {
        if cp.broken {
            break;
        }
        let sabs = ctx.resolve(src);
        let st = if cp.deref_operands {
            ctx.vfs.stat(&sabs).await
        } else {
            ctx.vfs.lstat(&sabs).await
        };
        let st = match st {
            Ok(s) => s,
            Err(e) => {
                cp.err(ctx, format!("cannot stat '{src}': {}", e.message()))
                    .await;
                continue;
            }
        };
        let dst = if into_dir {
            crate::util::child_path(&dest, &last_name(src))
        } else {
            dest.clone()
        };
        let dabs = ctx.resolve(&dst);
        if dabs == sabs && !st.is_dir() {
            cp.err(ctx, format!("'{src}' and '{dst}' are the same file"))
                .await;
            continue;
        }
        cp.copy(ctx, src, &sabs, st.file_type, &dst, &dabs).await;
    }
    Ok(cp.status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn content(v: &std::sync::Arc<MemVfs>, p: &str) -> Option<String> {
        v.tree
            .lock()
            .unwrap()
            .get(p)
            .cloned()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    #[test]
    fn files_into_dirs_and_verbose() {
        let v = MemVfs::with(&[
            ("/d/a.txt", "A\n"),
            ("/d/b.txt", "B\n"),
            ("/d/dir/existing", ""),
        ]);
        assert_eq!(run_cmd(&v, run, "cp", &["a.txt", "c.txt"], "/d", "").2, 0);
        assert_eq!(content(&v, "/d/c.txt").as_deref(), Some("A\n"));
        assert_eq!(
            run_cmd(&v, run, "cp", &["-n", "a.txt", "b.txt"], "/d", "").2,
            0
        );
        assert_eq!(content(&v, "/d/b.txt").as_deref(), Some("B\n"));
        let (o, _, s) = run_cmd(&v, run, "cp", &["-v", "a.txt", "b.txt", "dir/"], "/d", "");
        assert_eq!(
            (o.as_str(), s),
            ("'a.txt' -> 'dir/a.txt'\n'b.txt' -> 'dir/b.txt'\n", 0)
        );
        let (_, e, s) = run_cmd(&v, run, "cp", &["a.txt", "b.txt", "c.txt"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            ("cp: target 'c.txt' is not a directory\n", 1)
        );
        let (_, e, s) = run_cmd(&v, run, "cp", &["nope", "x"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            ("cp: cannot stat 'nope': No such file or directory\n", 1)
        );
        let (_, e, s) = run_cmd(&v, run, "cp", &["a.txt", "a.txt"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            ("cp: 'a.txt' and 'a.txt' are the same file\n", 1)
        );
        let (_, e, s) = run_cmd(&v, run, "cp", &["a.txt", "/ro/a"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "cp: cannot create regular file '/ro/a': Read-only file system\n",
                1
            )
        );
    }

    #[test]
    fn directories() {
        let v = MemVfs::with(&[("/d/src/f", "1"), ("/d/src/s/g", "2"), ("/d/out/", "")]);
        let (_, e, s) = run_cmd(&v, run, "cp", &["src", "e"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            ("cp: -r not specified; omitting directory 'src'\n", 1)
        );
        let (o, _, s) = run_cmd(&v, run, "cp", &["-rv", "src", "copy"], "/d", "");
        assert_eq!(
            (o.as_str(), s),
            (
                "'src' -> 'copy'\n'src/f' -> 'copy/f'\n'src/s' -> 'copy/s'\n'src/s/g' -> 'copy/s/g'\n",
                0
            )
        );
        assert_eq!(content(&v, "/d/copy/s/g").as_deref(), Some("2"));
        assert_eq!(run_cmd(&v, run, "cp", &["-r", "src", "out"], "/d", "").2, 0);
        assert_eq!(content(&v, "/d/out/src/f").as_deref(), Some("1"));
        let (_, e, s) = run_cmd(&v, run, "cp", &["-r", "src", "src/s"], "/d", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "cp: cannot copy a directory, 'src', into itself, 'src/s/src'\n",
                1
            )
        );
    }
}
