//! The files of process substitution (`<(cmd)`): a [`Vfs`] overlay that
//! serves `/dev/fd/N` from the captured output and passes everything else
//! to the router unchanged (every `Vfs` method, the link ones included: a
//! method left to the trait's default would answer as if links did not
//! exist).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use mirage_types::{
    ByteSource, EntryStream, FileStat, ListOptions, MountInfo, ReadOptions, ReadResult, Result,
    VersionToken, Vfs,
};

/// The router plus the `/dev/fd/N` files of one command.
pub struct ProcSubVfs {
    /// The router.
    pub inner: Arc<dyn Vfs>,
    /// `/dev/fd/N` → the substituted command's output.
    pub files: HashMap<String, Bytes>,
}

#[async_trait]
impl Vfs for ProcSubVfs {
    async fn stat(&self, path: &str) -> Result<FileStat> {
        match self.files.get(path) {
            Some(b) => Ok(FileStat::file(mirage_types::basename(path), b.len() as u64)),
            None => self.inner.stat(path).await,
        }
    }
    async fn lstat(&self, path: &str) -> Result<FileStat> {
        match self.files.get(path) {
            Some(b) => Ok(FileStat::file(mirage_types::basename(path), b.len() as u64)),
            None => self.inner.lstat(path).await,
        }
    }
    async fn readlink(&self, path: &str) -> Result<String> {
        self.inner.readlink(path).await
    }
    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        self.inner.symlink(target, path).await
    }
    async fn realpath(&self, path: &str) -> Result<String> {
        match self.files.get(path) {
            Some(_) => Ok(path.to_string()),
            None => self.inner.realpath(path).await,
        }
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        self.inner.readdir(path).await
    }
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        self.inner.list(path, opts).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        match self.files.get(path) {
            Some(b) => Ok(ByteSource::Bytes(b.clone())),
            None => self.inner.read(path).await,
        }
    }
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        match self.files.get(path) {
            Some(b) => {
                let source = ByteSource::Bytes(b.clone());
                Ok(ReadResult::Data {
                    source: match opts.range {
                        Some(r) => source.slice_range(r),
                        None => source,
                    },
                    version: VersionToken::Unknown,
                })
            }
            None => self.inner.read_with(path, opts).await,
        }
    }
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        self.inner.write(path, data).await
    }
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        self.inner.append(path, data).await
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
    fn mount_of(&self, path: &str) -> Option<MountInfo> {
        self.inner.mount_of(path)
    }
    fn mounts(&self) -> Vec<MountInfo> {
        self.inner.mounts()
    }
}
