//! `/dev`: the device files bash scripts expect, in every workspace.
//!
//! Two parts:
//!
//! - [`DevResource`], a small built-in resource that every
//!   [`crate::Workspace`] mounts at `/dev` (unless the config mounts
//!   something there itself). It holds `null` (reads are empty, writes
//!   succeed and vanish), `zero` (an endless stream of zero bytes; writes
//!   vanish), and `stdin`, `stdout`, `stderr` and `fd/0`–`fd/2`, which
//!   exist so `test -e` and `ls /dev` see them. `zero` is left out of the
//!   listing so that a recursive walk (`grep -r x /`) never reads it
//!   forever; it can still be named. Without a command around
//!   them (the resource alone), `stdin` reads as empty and writing to the
//!   standard streams fails with `Operation not supported`.
//! - [`DevStreams`], a [`Vfs`] overlay the command host puts in front of the
//!   router for one command whose operands name `/dev/stdin`,
//!   `/dev/stdout`, `/dev/stderr` or `/dev/fd/0`–`/dev/fd/2`: reading
//!   `/dev/stdin` reads the command's own stdin (`echo hi | cat /dev/stdin`),
//!   writing `/dev/stdout` or `/dev/stderr` writes its own stdout or stderr
//!   (`tee /dev/stderr`). Redirects (`> /dev/stderr`, `< /dev/stdin`) are
//!   mapped by the shell to the same streams.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, Input, ListOptions, MountInfo, Output,
    ReadOptions, ReadResult, Result, Sink, VersionToken, Vfs, normalize_path,
};

/// Where `/dev` is mounted.
pub const DEV_PREFIX: &str = "/dev";

/// The standard stream a `/dev` path stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdStream {
    /// `/dev/stdin`, `/dev/fd/0`.
    Stdin,
    /// `/dev/stdout`, `/dev/fd/1`.
    Stdout,
    /// `/dev/stderr`, `/dev/fd/2`.
    Stderr,
}

/// The standard stream the virtual path `path` names, if any
/// (`/dev/stdin`, `/dev/fd/1`, `//dev/./stderr`, …).
pub fn std_stream(path: &str) -> Option<StdStream> {
    match normalize_path(path).as_str() {
        "/dev/stdin" | "/dev/fd/0" => Some(StdStream::Stdin),
        "/dev/stdout" | "/dev/fd/1" => Some(StdStream::Stdout),
        "/dev/stderr" | "/dev/fd/2" => Some(StdStream::Stderr),
        _ => None,
    }
}

/// 64 KiB of zeros, handed out again and again by reads of `/dev/zero`.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The files of the `/dev` mount (resource paths).
const FILES: &[&str] = &[
    "/null", "/zero", "/stdin", "/stdout", "/stderr", "/fd/0", "/fd/1", "/fd/2",
];

/// The `/dev` resource (see the module docs). Mounted with mode `write` so
/// that writes to `/dev/null` succeed even in a workspace with no writable
/// mount; creating, removing or renaming entries fails with
/// `Permission denied`, as for a non-root user on Linux.
#[derive(Debug, Default)]
pub struct DevResource;

impl DevResource {
    /// The resource.
    pub fn new() -> Self {
        DevResource
    }
}

/// Reads and drops all of `data` (a write to `/dev/null`).
async fn drain(data: ByteSource) -> Result<()> {
    let mut s = data.into_stream();
    while let Some(chunk) = s.next().await {
        chunk?;
    }
    Ok(())
}

#[async_trait]
impl Resource for DevResource {
    fn name(&self) -> &'static str {
        "dev"
    }

    fn capability(&self) -> Capability {
        Capability {
            write: true,
            real_directories: true,
            ..Capability::default()
        }
    }

    async fn stat(&self, path: &str) -> Result<FileStat> {
        let p = normalize_path(path);
        match p.as_str() {
            "/" | "/fd" => Ok(FileStat::dir(mirage_types::basename(&p))),
            f if FILES.contains(&f) => {
                let mut s = FileStat::file(mirage_types::basename(f), 0);
                s.mode = Some(0o666);
                Ok(s)
            }
            _ => Err(Error::not_found(p)),
        }
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        let p = normalize_path(path);
        let dir = if p == "/" {
            String::from("/")
        } else {
            format!("{p}/")
        };
        match p.as_str() {
            "/" | "/fd" => {}
            f if FILES.contains(&f) => return Err(Error::at(ErrorKind::NotADirectory, p)),
            _ => return Err(Error::not_found(p)),
        }
        let mut out = Vec::new();
        if p == "/" {
            out.push(FileStat::dir("fd"));
        }
        // `zero` is not listed: walkers (`grep -r /`, `du /`, `cp -r`) see
        // files through listings, and one must never read an endless file
        // (GNU grep -r skips devices the same way)
        for f in FILES.iter().filter(|f| **f != "/zero") {
            if let Some(name) = f.strip_prefix(&dir).filter(|n| !n.contains('/')) {
                out.push(self.stat(&format!("{dir}{name}")).await?);
            }
        }
        Ok(out)
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        let p = normalize_path(path);
        match p.as_str() {
            "/zero" => Ok(ByteSource::Stream(
                futures::stream::unfold((), |()| async {
                    // a cooperative point: a reader that never waits
                    // otherwise (`read v < /dev/zero`) still lets the line's
                    // wall time and cancel token stop it
                    tokio::task::coop::consume_budget().await;
                    Some((Ok(Bytes::from_static(&ZEROS)), ()))
                })
                .boxed(),
            )),
            "/" | "/fd" => Err(Error::at(ErrorKind::IsADirectory, p)),
            f if FILES.contains(&f) => Ok(ByteSource::empty()),
            _ => Err(Error::not_found(p)),
        }
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let p = normalize_path(path);
        match p.as_str() {
            "/null" | "/zero" => drain(data).await,
            "/" | "/fd" => Err(Error::at(ErrorKind::IsADirectory, p)),
            f if FILES.contains(&f) => Err(Error::at(ErrorKind::Unsupported, p)),
            _ => Err(Error::at(ErrorKind::PermissionDenied, p)),
        }
    }

    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        self.write(path, data).await
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        Err(Error::at(ErrorKind::PermissionDenied, normalize_path(path)))
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        Err(Error::at(ErrorKind::PermissionDenied, normalize_path(path)))
    }

    async fn rmdir(&self, path: &str) -> Result<()> {
        Err(Error::at(ErrorKind::PermissionDenied, normalize_path(path)))
    }

    async fn rename(&self, from: &str, _to: &str) -> Result<()> {
        Err(Error::at(ErrorKind::PermissionDenied, normalize_path(from)))
    }
}

/// The router seen by one command, with `/dev/stdin`, `/dev/stdout` and
/// `/dev/stderr` (and `/dev/fd/0`–`2`) bound to that command's streams.
/// Every other path passes to `inner` unchanged.
pub struct DevStreams {
    inner: Arc<dyn Vfs>,
    /// The command's stdin, taken by the first read of `/dev/stdin`
    /// (later reads see end of file, as a pipe that was read to the end).
    stdin: Mutex<Option<Input>>,
    stdout: Sink,
    stderr: Sink,
}

impl DevStreams {
    /// An overlay over `inner` whose `/dev/stdin` reads `stdin` and whose
    /// `/dev/stdout` and `/dev/stderr` write to `stdout` and `stderr`.
    pub fn new(inner: Arc<dyn Vfs>, stdin: Input, stdout: Sink, stderr: Sink) -> Self {
        DevStreams {
            inner,
            stdin: Mutex::new(Some(stdin)),
            stdout,
            stderr,
        }
    }

    fn take_stdin(&self) -> Input {
        let mut g = match self.stdin.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.take().unwrap_or_else(Input::empty)
    }

    async fn send(sink: &Sink, data: ByteSource) -> Result<()> {
        let mut out = Output::new(sink.clone());
        let mut s = data.into_stream();
        while let Some(chunk) = s.next().await {
            out.write_bytes(chunk?).await?;
        }
        out.flush().await
    }
}

#[async_trait]
impl Vfs for DevStreams {
    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.inner.stat(path).await
    }
    async fn lstat(&self, path: &str) -> Result<FileStat> {
        self.inner.lstat(path).await
    }
    async fn readlink(&self, path: &str) -> Result<String> {
        self.inner.readlink(path).await
    }
    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        self.inner.symlink(target, path).await
    }
    async fn prefetch_tree(&self, path: &str, contents: bool) -> Result<()> {
        self.inner.prefetch_tree(path, contents).await
    }
    async fn realpath(&self, path: &str) -> Result<String> {
        self.inner.realpath(path).await
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        self.inner.readdir(path).await
    }
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        self.inner.list(path, opts).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        match std_stream(path) {
            Some(StdStream::Stdin) => Ok(self.take_stdin().into_source()),
            _ => self.inner.read(path).await,
        }
    }
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        match std_stream(path) {
            // A stream has no version: never "unchanged".
            Some(StdStream::Stdin) => {
                let source = self.take_stdin().into_source();
                Ok(ReadResult::Data {
                    source: match opts.range {
                        Some(r) => source.slice_range(r),
                        None => source,
                    },
                    version: VersionToken::Unknown,
                })
            }
            _ => self.inner.read_with(path, opts).await,
        }
    }
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        match std_stream(path) {
            Some(StdStream::Stdout) => Self::send(&self.stdout, data).await,
            Some(StdStream::Stderr) => Self::send(&self.stderr, data).await,
            _ => self.inner.write(path, data).await,
        }
    }
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        match std_stream(path) {
            Some(StdStream::Stdout) => Self::send(&self.stdout, data).await,
            Some(StdStream::Stderr) => Self::send(&self.stderr, data).await,
            _ => self.inner.append(path, data).await,
        }
    }
    async fn mkdir(&self, path: &str, parents: bool) -> Result<()> {
        self.inner.mkdir(path, parents).await
    }
    async fn unlink(&self, path: &str) -> Result<()> {
        self.inner.unlink(path).await
    }
    async fn rmdir(&self, path: &str) -> Result<()> {
        self.inner.rmdir(path).await
    }
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.inner.rename(from, to).await
    }
    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        self.inner.chmod(path, mode).await
    }
    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        self.inner.set_modified(path, time).await
    }
    fn mount_of(&self, path: &str) -> Option<MountInfo> {
        self.inner.mount_of(path)
    }
    fn mounts(&self) -> Vec<MountInfo> {
        self.inner.mounts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn null_and_zero() {
        let d = DevResource::new();
        assert!(
            d.read("/null")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap()
                .is_empty()
        );
        d.write("/null", ByteSource::from(vec![1u8; 10]))
            .await
            .unwrap();
        let mut s = d.read("/zero").await.unwrap().into_stream();
        let first = s.next().await.unwrap().unwrap();
        assert!(!first.is_empty() && first.iter().all(|b| *b == 0));
        assert_eq!(
            d.unlink("/null").await.unwrap_err().kind,
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            d.write("/new", ByteSource::empty()).await.unwrap_err().kind,
            ErrorKind::PermissionDenied
        );
        let names: Vec<String> = d
            .readdir("/")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(
            names.contains(&"null".to_string()) && names.contains(&"fd".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn names_of_streams() {
        assert_eq!(std_stream("/dev/fd/0"), Some(StdStream::Stdin));
        assert_eq!(std_stream("//dev/./stderr"), Some(StdStream::Stderr));
        assert_eq!(std_stream("/dev/null"), None);
    }
}
