//! Reading a file: small files in one go, large ones as a stream of
//! 64 KiB chunks produced by a blocking reader task.

use std::io::{Read, Seek};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use cap_std::fs::{Dir, File, OpenOptions, OpenOptionsExt};
use futures::StreamExt;
use mirage_types::{ByteSource, Error, ErrorKind, ReadOptions, ReadResult, Result, VersionToken};
use rustix::fs::OFlags;
use tokio::sync::mpsc;

use crate::blocking;

/// Chunk size of a streamed read.
pub(crate) const CHUNK: usize = 64 * 1024;
/// Files smaller than this are read whole into one buffer.
pub(crate) const SMALL: u64 = 1024 * 1024;
/// Chunks buffered between the reader task and the consumer.
const DEPTH: usize = 4;

enum Opened {
    Small(Bytes),
    Large(File, Option<u64>),
    Unchanged,
}

/// Reads the file at `rel`: `Bytes` under 1 MiB, else a stream that stops
/// reading when the consumer drops it.
///
/// Errors: `NotFound`, `IsADirectory`, `InvalidInput` for a special file
/// (FIFO, device, socket), `PermissionDenied` for a path or link leading
/// out of the root.
pub(crate) async fn read(root: Arc<Dir>, path: &str, rel: PathBuf) -> Result<ByteSource> {
    match read_with(root, path, rel, &ReadOptions::default()).await? {
        ReadResult::Data { source, .. } => Ok(source),
        ReadResult::Unchanged => Ok(ByteSource::empty()),
    }
}

/// [`read`] with a range (a seek, then at most `len` bytes) and a
/// conditional version, both checked on the open descriptor: the version
/// (mtime+size from `fstat`) is that of the bytes read.
pub(crate) async fn read_with(
    root: Arc<Dir>,
    path: &str,
    rel: PathBuf,
    opts: &ReadOptions,
) -> Result<ReadResult> {
    let opts = opts.clone();
    let (opened, version) = blocking(path, move || {
        // Open without blocking (a FIFO would block a plain open), then
        // check the type on the open descriptor: no window between a check
        // and the open for the file to be swapped.
        let mut f = root.open_with(
            &rel,
            OpenOptions::new()
                .read(true)
                .custom_flags(OFlags::NONBLOCK.bits() as i32),
        )?;
        let meta = f.metadata()?;
        if meta.is_dir() {
            return Err(Error::new(ErrorKind::IsADirectory));
        }
        if !meta.is_file() {
            return Err(Error::msg(ErrorKind::InvalidInput, "not a regular file"));
        }
        let version = VersionToken::MtimeSize(crate::mtime_nanos(&meta), meta.len());
        if opts.is_unchanged(&version) {
            return Ok((Opened::Unchanged, version));
        }
        let size = meta.len();
        let (start, len) = match opts.range {
            Some(r) => {
                let start = r.offset.min(size);
                (start, r.len.map_or(size - start, |l| l.min(size - start)))
            }
            None => (0, size),
        };
        if start > 0 {
            f.seek(std::io::SeekFrom::Start(start))?;
        }
        if len < SMALL {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            (&mut f).take(len).read_to_end(&mut buf)?;
            return Ok((Opened::Small(Bytes::from(buf)), version));
        }
        // A ranged stream stops at the range's end; a whole file streams
        // to its end (it may grow meanwhile, as `cat` reads it).
        let limit = opts.range.and_then(|r| r.len).map(|_| len);
        Ok((Opened::Large(f, limit), version))
    })
    .await?;
    let source = match opened {
        Opened::Unchanged => return Ok(ReadResult::Unchanged),
        Opened::Small(b) => ByteSource::Bytes(b),
        Opened::Large(f, limit) => stream(f, path.to_string(), limit),
    };
    Ok(ReadResult::Data { source, version })
}

/// Fills `buf` as far as the file allows; returns the number of bytes
/// read (less than `buf.len()` only at end of file).
fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn stream(mut f: File, path: String, mut limit: Option<u64>) -> ByteSource {
    let (tx, rx) = mpsc::channel::<Result<Bytes>>(DEPTH);
    tokio::task::spawn_blocking(move || {
        loop {
            let want = limit.map_or(CHUNK, |l| usize::try_from(l).unwrap_or(CHUNK).min(CHUNK));
            if want == 0 {
                return;
            }
            let mut buf = vec![0u8; want];
            let n = match read_full(&mut f, &mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = tx.blocking_send(Err(Error::from(e).with_path(path)));
                    return;
                }
            };
            if n == 0 {
                return;
            }
            buf.truncate(n);
            if let Some(l) = limit.as_mut() {
                *l -= n as u64;
            }
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return; // the consumer went away (`head`): stop reading
            }
        }
    });
    let s = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    ByteSource::Stream(s.boxed())
}
