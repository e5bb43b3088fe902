//! Writing a file: replace (atomic: an unnamed `O_TMPFILE` file linked in
//! when complete) or append. A symlink in the last component is followed
//! inside the root, as `open(2)` does. Bytes go to a blocking writer task
//! through a bounded channel, so memory stays flat while a stream is
//! written.

use std::io::Write;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use cap_std::fs::{Dir, Metadata, OpenOptions, OpenOptionsExt, PermissionsExt};
use futures::StreamExt;
use mirage_types::{ByteSource, Error, ErrorKind, Result};
use rustix::fs::OFlags;
use tokio::sync::mpsc;

use crate::{blocking, join_error};

/// Marker in the names of temporary files. They are not hidden: with
/// `O_TMPFILE` a name exists only for the instant between `linkat` and
/// `renameat`; without it (the fallback), for the duration of the write.
pub(crate) const TMP_MARKER: &str = ".mirage-tmp-";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How the bytes land.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Replace the whole file atomically.
    Replace,
    /// Add to the end (creating the file).
    Append,
}

enum Msg {
    Chunk(Bytes),
    /// The input ended cleanly: finish the write.
    Commit,
}

/// Writes `data` to `rel` (see [`Mode`]). On any error, including one
/// from the input stream, a replace leaves the old file as it was and no
/// temp file behind; an append may have added part of the data.
pub(crate) async fn write(
    root: Arc<Dir>,
    path: &str,
    rel: PathBuf,
    data: ByteSource,
    mode: Mode,
) -> Result<()> {
    if crate::path::is_root(&rel) {
        return Err(Error::at(ErrorKind::IsADirectory, path));
    }
    match data {
        ByteSource::Bytes(b) => {
            let mut msgs = [Msg::Chunk(b), Msg::Commit].into_iter();
            blocking(path, move || {
                write_blocking(&root, &rel, mode, || msgs.next())
            })
            .await
        }
        ByteSource::Stream(mut s) => {
            let (tx, mut rx) = mpsc::channel::<Msg>(4);
            let task = tokio::task::spawn_blocking(move || {
                write_blocking(&root, &rel, mode, || rx.blocking_recv())
            });
            let mut stream_err = None;
            while let Some(item) = s.next().await {
                match item {
                    Ok(b) if b.is_empty() => {}
                    Ok(b) => {
                        if tx.send(Msg::Chunk(b)).await.is_err() {
                            break; // the writer failed; its error is below
                        }
                    }
                    Err(e) => {
                        stream_err = Some(e);
                        break;
                    }
                }
            }
            if stream_err.is_none() {
                let _ = tx.send(Msg::Commit).await;
            }
            drop(tx);
            let res = match task.await {
                Ok(r) => r,
                Err(e) => Err(join_error(e)),
            };
            match stream_err {
                Some(e) => Err(e),
                None => res.map_err(|e| {
                    if e.path.is_none() {
                        e.with_path(path)
                    } else {
                        e
                    }
                }),
            }
        }
    }
}

fn aborted() -> Error {
    Error::msg(ErrorKind::Io, "write aborted")
}

/// How many symlinks a path may pass through, as Linux counts (`ELOOP`).
pub(crate) const MAX_LINKS: usize = 40;

/// Follows symlinks in the last component of `rel`, as `open(2)` with
/// `O_CREAT` does, and returns the path (relative to the root) of the
/// entry a write lands on: a file, or a missing name in an existing
/// directory. Every step stays inside the root: an absolute target or one
/// climbing out gives `PermissionDenied`, a loop (more than
/// [`MAX_LINKS`] links) gives `TooManyLinks`.
pub(crate) fn resolve_links(root: &Dir, rel: &Path) -> Result<PathBuf> {
    let mut cur = rel.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match root.symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {}
            _ => return Ok(cur),
        }
        let target = root.read_link_contents(&cur)?;
        if target.is_absolute() {
            return Err(Error::msg(
                ErrorKind::PermissionDenied,
                "symbolic link leads outside the mount",
            ));
        }
        let joined = match cur.parent() {
            Some(p) => p.join(&target),
            None => target.clone(),
        };
        let name = match joined.file_name() {
            Some(n) if !target.as_os_str().as_encoded_bytes().ends_with(b"/") => n.to_os_string(),
            // `..`, `.` or `dir/`: the link names a directory.
            _ => return Err(Error::new(ErrorKind::IsADirectory)),
        };
        let dir = match joined.parent() {
            Some(d) if !d.as_os_str().is_empty() => root.canonicalize(d)?,
            _ => PathBuf::new(),
        };
        cur = dir.join(name);
    }
    Err(Error::new(ErrorKind::TooManyLinks))
}

/// The existing entry at `rel`, if any; refuses directories and special
/// files.
fn existing(root: &Dir, rel: &Path) -> Result<Option<Metadata>> {
    match root.symlink_metadata(rel) {
        Ok(m) if m.is_dir() => Err(Error::new(ErrorKind::IsADirectory)),
        Ok(m) if !m.is_file() => Err(Error::msg(ErrorKind::InvalidInput, "not a regular file")),
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Copies the messages into `f` until `Commit` (`Ok`) or the end of the
/// channel (`aborted`).
fn pump(f: &mut std::fs::File, next: &mut impl FnMut() -> Option<Msg>) -> Result<()> {
    loop {
        match next() {
            Some(Msg::Chunk(b)) => f.write_all(&b)?,
            Some(Msg::Commit) => return Ok(()),
            None => return Err(aborted()),
        }
    }
}

fn write_blocking(
    root: &Dir,
    rel: &Path,
    mode: Mode,
    mut next: impl FnMut() -> Option<Msg>,
) -> Result<()> {
    let rel = resolve_links(root, rel)?;
    let old = existing(root, &rel)?;
    if mode == Mode::Append {
        // O_NONBLOCK, then fstat: a file swapped for a FIFO after the check
        // above cannot block the open.
        let f = root.open_with(
            &rel,
            OpenOptions::new()
                .append(true)
                .create(true)
                .custom_flags(OFlags::NONBLOCK.bits() as i32),
        )?;
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(Error::msg(ErrorKind::InvalidInput, "not a regular file"));
        }
        let mut f = f.into_std();
        return pump(&mut f, &mut next);
    }
    let name = match rel.file_name() {
        Some(n) => n.to_os_string(),
        None => return Err(Error::new(ErrorKind::IsADirectory)),
    };
    let parent_dir;
    let dir: &Dir = match rel.parent() {
        Some(p) if !p.as_os_str().is_empty() => {
            parent_dir = root.open_dir(p)?;
            &parent_dir
        }
        _ => root,
    };
    let perms = old.as_ref().map(cap_std::fs::Metadata::permissions);
    match open_tmpfile(dir) {
        Ok(mut f) => {
            // An anonymous file: if we stop before linking it (error, drop,
            // or a killed process), the kernel frees it and nothing is left.
            pump(&mut f, &mut next)?;
            if let Some(p) = perms {
                f.set_permissions(std::fs::Permissions::from_mode(p.mode()))?;
            }
            link_tmpfile(&f, dir, &name, old.is_some())
        }
        Err(e) if tmpfile_unsupported(&e) => write_via_named_tmp(dir, &name, perms, &mut next),
        Err(e) => Err(e.into()),
    }
}

/// Opens an unnamed file in `dir` (`O_TMPFILE`).
fn open_tmpfile(dir: &Dir) -> std::io::Result<std::fs::File> {
    let fd = rustix::fs::openat(
        dir,
        ".",
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        rustix::fs::Mode::from_raw_mode(0o666),
    )?;
    Ok(std::fs::File::from(fd))
}

/// Whether the file system (or kernel) has no `O_TMPFILE`.
fn tmpfile_unsupported(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        e.raw_os_error().map(Errno::from_raw_os_error),
        Some(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS)
    )
}

/// Gives the unnamed file `f` the name `name` in `dir`. A new name is
/// linked directly (atomic); an existing file is replaced through a
/// unique temporary name and `renameat`, so readers see the old or the
/// new contents, never a mix. Only a crash between those two calls can
/// leave the temporary name behind.
fn link_tmpfile(f: &std::fs::File, dir: &Dir, name: &std::ffi::OsStr, exists: bool) -> Result<()> {
    if !exists {
        match link_fd(f, dir, name) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
    }
    for _ in 0..16 {
        let tmp = tmp_name(name);
        match link_fd(f, dir, &tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
        return match rustix::fs::renameat(dir, &tmp, dir, name) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = rustix::fs::unlinkat(dir, &tmp, rustix::fs::AtFlags::empty());
                Err(std::io::Error::from(e).into())
            }
        };
    }
    Err(Error::new(ErrorKind::AlreadyExists))
}

/// `linkat` of an open unnamed file: `AT_EMPTY_PATH` where allowed
/// (`CAP_DAC_READ_SEARCH`), else through `/proc/self/fd/N`.
fn link_fd(f: &std::fs::File, dir: &Dir, name: &std::ffi::OsStr) -> std::io::Result<()> {
    match rustix::fs::linkat(f, "", dir, name, rustix::fs::AtFlags::EMPTY_PATH) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::PERM | rustix::io::Errno::ACCESS) => {
            link_fd_proc(f, dir, name)
        }
        Err(e) => Err(e.into()),
    }
}

/// `linkat` through `/proc/self/fd/N` (no capability needed).
fn link_fd_proc(f: &std::fs::File, dir: &Dir, name: &std::ffi::OsStr) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", f.as_raw_fd());
    Ok(rustix::fs::linkat(
        rustix::fs::CWD,
        proc_path.as_str(),
        dir,
        name,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    )?)
}

/// A fresh temporary name next to `name`: `.NAME.mirage-tmp-PID-N`.
fn tmp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!("{TMP_MARKER}{}-{n}", std::process::id()));
    tmp
}

/// The fallback where `O_TMPFILE` is missing: a visible temporary name
/// (`.NAME.mirage-tmp-PID-N`, listed like any file), removed on error or
/// when the write is dropped, renamed over `name` on success.
fn write_via_named_tmp(
    dir: &Dir,
    name: &std::ffi::OsStr,
    perms: Option<cap_std::fs::Permissions>,
    next: &mut impl FnMut() -> Option<Msg>,
) -> Result<()> {
    let tmp = tmp_name(name);
    let mut f = dir
        .open_with(&tmp, OpenOptions::new().write(true).create_new(true))?
        .into_std();
    let res = (|| {
        pump(&mut f, next)?;
        if let Some(p) = perms {
            f.set_permissions(std::fs::Permissions::from_mode(p.mode()))?;
        }
        dir.rename(&tmp, dir, name)?;
        Ok(())
    })();
    drop(f);
    if res.is_err() {
        let _ = dir.remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of naming an unnamed file work here (as root, and through
    /// `/proc` as anyone), on the temp dir's file system and on tmpfs.
    #[test]
    fn tmpfile_link_both_ways() {
        let mut roots = vec![std::env::temp_dir()];
        if std::path::Path::new("/dev/shm").is_dir() {
            roots.push("/dev/shm".into());
        }
        for base in roots {
            let Ok(tmp) = tempfile_dir(&base) else {
                continue;
            };
            let dir = Dir::open_ambient_dir(&tmp, cap_std::ambient_authority()).unwrap();
            let mut f = open_tmpfile(&dir).unwrap();
            f.write_all(b"one").unwrap();
            link_fd_proc(&f, &dir, std::ffi::OsStr::new("a")).unwrap();
            let mut g = open_tmpfile(&dir).unwrap();
            g.write_all(b"two").unwrap();
            link_tmpfile(&g, &dir, std::ffi::OsStr::new("a"), true).unwrap();
            assert_eq!(std::fs::read_to_string(tmp.join("a")).unwrap(), "two");
            let names: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
            assert_eq!(names.len(), 1);
            std::fs::remove_dir_all(&tmp).unwrap();
        }
    }

    fn tempfile_dir(base: &std::path::Path) -> std::io::Result<PathBuf> {
        let p = base.join(format!(
            "mirage-tmpfile-test-{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&p)?;
        Ok(p)
    }
}
