//! Writing a file: replace (atomic, through a temp file and a rename) or
//! append. Bytes go to a blocking writer task through a bounded channel,
//! so memory stays flat while a stream is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use cap_std::fs::{Dir, Metadata, OpenOptions};
use futures::StreamExt;
use mirage_types::{ByteSource, Error, ErrorKind, Result};
use tokio::sync::mpsc;

use crate::{blocking, join_error};

/// Marker in the names of temp files (hidden from `readdir`).
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
pub(crate) async fn write(root: Arc<Dir>, path: &str, rel: PathBuf, data: ByteSource, mode: Mode) -> Result<()> {
    if crate::path::is_root(&rel) {
        return Err(Error::at(ErrorKind::IsADirectory, path));
    }
    match data {
        ByteSource::Bytes(b) => {
            let mut msgs = [Msg::Chunk(b), Msg::Commit].into_iter();
            blocking(path, move || write_blocking(&root, &rel, mode, || msgs.next())).await
        }
        ByteSource::Stream(mut s) => {
            let (tx, mut rx) = mpsc::channel::<Msg>(4);
            let task = tokio::task::spawn_blocking(move || write_blocking(&root, &rel, mode, || rx.blocking_recv()));
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
                None => res.map_err(|e| if e.path.is_none() { e.with_path(path) } else { e }),
            }
        }
    }
}

fn aborted() -> Error {
    Error::msg(ErrorKind::Io, "write aborted")
}

/// The existing entry at `rel`, if any; refuses directories and special
/// files.
fn existing(root: &Dir, rel: &Path) -> Result<Option<Metadata>> {
    match root.metadata(rel) {
        Ok(m) if m.is_dir() => Err(Error::new(ErrorKind::IsADirectory)),
        Ok(m) if !m.is_file() => Err(Error::msg(ErrorKind::InvalidInput, "not a regular file")),
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn write_blocking(root: &Dir, rel: &Path, mode: Mode, mut next: impl FnMut() -> Option<Msg>) -> Result<()> {
    let old = existing(root, rel)?;
    if mode == Mode::Append {
        let mut f = root.open_with(rel, OpenOptions::new().append(true).create(true))?;
        loop {
            match next() {
                Some(Msg::Chunk(b)) => f.write_all(&b)?,
                Some(Msg::Commit) => return Ok(()),
                None => return Err(aborted()),
            }
        }
    }
    let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp_name = format!(".{name}{TMP_MARKER}{}-{n}", std::process::id());
    let tmp = match rel.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(tmp_name),
        _ => PathBuf::from(tmp_name),
    };
    let mut f = root.open_with(&tmp, OpenOptions::new().write(true).create_new(true))?;
    let res = (|| {
        loop {
            match next() {
                Some(Msg::Chunk(b)) => f.write_all(&b)?,
                Some(Msg::Commit) => break,
                None => return Err(aborted()),
            }
        }
        if let Some(m) = &old {
            // Keep the replaced file's permission bits.
            f.set_permissions(m.permissions())?;
        }
        f.flush()?;
        root.rename(&tmp, root, rel)?;
        Ok(())
    })();
    drop(f);
    if res.is_err() {
        let _ = root.remove_file(&tmp);
    }
    res
}
