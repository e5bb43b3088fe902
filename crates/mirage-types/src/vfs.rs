use std::collections::VecDeque;

use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::{ByteSource, FileStat, FileType, Result, VersionToken};

/// A byte range of a file: `len` bytes from `offset` (to the end of the
/// file when `len` is `None`), as HTTP's `Range: bytes=OFFSET-` /
/// `bytes=OFFSET-(OFFSET+LEN-1)`. A range that starts at or past the end
/// of the file reads as empty (as `pread(2)`, not as HTTP's 416); the end
/// is clamped to the file's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ByteRange {
    /// First byte, counted from 0.
    pub offset: u64,
    /// How many bytes at most; `None` reads to the end.
    pub len: Option<u64>,
}

impl ByteRange {
    /// `len` bytes from `offset`.
    pub fn new(offset: u64, len: u64) -> Self {
        ByteRange {
            offset,
            len: Some(len),
        }
    }
    /// Everything from `offset` to the end of the file.
    pub fn from_offset(offset: u64) -> Self {
        ByteRange { offset, len: None }
    }
}

impl From<std::ops::Range<u64>> for ByteRange {
    /// `a..b` is `b - a` bytes from `a` (empty when `b <= a`).
    fn from(r: std::ops::Range<u64>) -> Self {
        ByteRange::new(r.start, r.end.saturating_sub(r.start))
    }
}

/// Options of [`Vfs::read_with`] (and `Resource::read_with`): a byte range
/// and a conditional read, as OpenDAL's `OpRead` and HTTP's `Range` and
/// `If-None-Match`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Read only these bytes (all of them when `None`).
    pub range: Option<ByteRange>,
    /// Answer [`ReadResult::Unchanged`] instead of the bytes when the
    /// file's current version equals this token. A
    /// [`VersionToken::Unknown`] token never matches.
    pub if_none_match: Option<VersionToken>,
}

impl ReadOptions {
    /// Whether a file whose current version is `current` is unchanged for
    /// this conditional read (never for `Unknown` on either side).
    pub fn is_unchanged(&self, current: &VersionToken) -> bool {
        match &self.if_none_match {
            Some(v) => *v != VersionToken::Unknown && v == current,
            None => false,
        }
    }

    /// The answer to this read for a file at `version` whose whole bytes
    /// the future `read` gives: [`ReadResult::Unchanged`] when
    /// [`is_unchanged`](Self::is_unchanged) (then `read` is dropped unpolled,
    /// so nothing is read), else the bytes cut to `range` without collecting
    /// them ([`ByteSource::slice_range`]). Errors: those of `read`. The
    /// default `read_with` of [`Vfs`] and of `mirage_ops::Resource`: `stat`
    /// first (so the version is never newer than the bytes), then this.
    pub async fn answer(
        &self,
        version: VersionToken,
        read: impl Future<Output = Result<ByteSource>>,
    ) -> Result<ReadResult> {
        if self.is_unchanged(&version) {
            return Ok(ReadResult::Unchanged);
        }
        let source = read.await?;
        let source = match self.range {
            Some(r) => source.slice_range(r),
            None => source,
        };
        Ok(ReadResult::Data { source, version })
    }
}

/// Options of a write (`Resource::write_with`): a conditional write, as
/// HTTP's `If-Match` (S3 conditional PUT) and Redis `WATCH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Write only if the file's current version equals this token;
    /// otherwise fail with [`crate::ErrorKind::Conflict`] and change
    /// nothing. A missing file also fails (it changed: it was deleted).
    /// `None`: an unconditional write (the last write wins).
    pub if_match: Option<VersionToken>,
}

/// The answer of [`Vfs::read_with`].
#[derive(Debug)]
pub enum ReadResult {
    /// The bytes asked for, and the version of the file they were read
    /// from. The version is never newer than the bytes (a resource that
    /// cannot read both at once takes the version first), so a cache that
    /// stores the pair can only revalidate too often, never keep stale
    /// bytes. `Unknown` when the backend gives no version.
    Data {
        /// The bytes (the range only, when one was asked for).
        source: ByteSource,
        /// The version of the file the bytes come from.
        version: VersionToken,
    },
    /// The file's version equals [`ReadOptions::if_none_match`]: the caller's
    /// copy is current (HTTP 304).
    Unchanged,
}

impl ReadResult {
    /// The bytes, or `None` for [`ReadResult::Unchanged`].
    pub fn into_source(self) -> Option<ByteSource> {
        match self {
            ReadResult::Data { source, .. } => Some(source),
            ReadResult::Unchanged => None,
        }
    }
}

/// Options of a listing ([`Vfs::list`], `Resource::list`), as OpenDAL's
/// `OpList`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// List every descendant, not only the direct children. Each entry's
    /// [`FileStat::name`] is then its path relative to the listed
    /// directory (`sub/deep.txt`); directories are listed before their
    /// contents, and links are listed, never followed.
    pub recursive: bool,
    /// How many entries to fetch per backend request (S3's `max-keys`); a
    /// hint that does not change what is listed. `None`: the backend's
    /// default.
    pub page_size: Option<usize>,
    /// List only entries whose name (relative path when recursive) sorts
    /// after this one in string order, to resume a listing.
    pub start_after: Option<String>,
}

/// A listing: entries as they arrive, in the backend's order (not sorted).
/// Errors for a part of the tree (a subdirectory that cannot be read) come
/// as `Err` items and the listing goes on.
pub type EntryStream<'a> = BoxStream<'a, Result<FileStat>>;

/// Lists the children of a directory (given its path): one page of a walk.
pub type ListChildren<'a> =
    Box<dyn Fn(String) -> BoxFuture<'a, Result<EntryStream<'a>>> + Send + Sync + 'a>;

/// A recursive listing of `dir` built on a non-recursive one, as a lazy
/// depth-first walk: `root` is the listing of `dir` itself, and
/// `list_children(path)` lists each subdirectory when the walk reaches it.
/// One directory's stream is open per level, never the whole tree in
/// memory. Symlinks are listed, never followed. Entries are named by their
/// path relative to `dir`; `opts.start_after` is applied.
pub fn walk<'a>(
    dir: &str,
    opts: &ListOptions,
    root: EntryStream<'a>,
    list_children: ListChildren<'a>,
) -> EntryStream<'a> {
    struct State<'a> {
        base: String,
        lister: ListChildren<'a>,
        stack: Vec<(String, EntryStream<'a>)>,
        pending: VecDeque<Result<FileStat>>,
    }
    let state = State {
        base: dir.trim_end_matches('/').to_string(),
        lister: list_children,
        stack: vec![(String::new(), root)],
        pending: VecDeque::new(),
    };
    let s = futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((item, st));
            }
            let (prefix, top) = st.stack.last_mut()?;
            match top.next().await {
                None => {
                    st.stack.pop();
                }
                Some(Err(e)) => return Some((Err(e), st)),
                Some(Ok(mut entry)) => {
                    let rel = format!("{prefix}{}", entry.name);
                    entry.name.clone_from(&rel);
                    if entry.file_type == FileType::Directory {
                        let path = format!("{}/{rel}", st.base);
                        match (st.lister)(path).await {
                            Ok(s) => st.stack.push((format!("{rel}/"), s)),
                            Err(e) => st.pending.push_back(Err(e)),
                        }
                    }
                    return Some((Ok(entry), st));
                }
            }
        }
    });
    filter_start_after(s.boxed(), opts.start_after.clone())
}

/// Keeps only entries named after `start_after` (see [`ListOptions`]).
pub fn filter_start_after(s: EntryStream<'_>, start_after: Option<String>) -> EntryStream<'_> {
    match start_after {
        None => s,
        Some(after) => s
            .filter(move |e| {
                let keep = match e {
                    Ok(e) => e.name.as_str() > after.as_str(),
                    Err(_) => true,
                };
                futures::future::ready(keep)
            })
            .boxed(),
    }
}

/// The entries of a `Vec` as a listing (for a backend that lists a
/// directory in one call), with `start_after` applied.
pub fn list_from_vec<'a>(entries: Vec<FileStat>, opts: &ListOptions) -> EntryStream<'a> {
    filter_start_after(
        futures::stream::iter(entries.into_iter().map(Ok)).boxed(),
        opts.start_after.clone(),
    )
}

/// A mount's permission (seed 000): `read` refuses every change, `write`
/// allows changes, `exec` also allows resource-specific commands with side
/// effects (sending a message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MountMode {
    /// Read-only: every write gives "Read-only file system".
    #[default]
    Read,
    /// Read and write.
    Write,
    /// Read, write and side-effecting commands.
    Exec,
}

impl MountMode {
    /// Whether changes (write, append, mkdir, unlink, rmdir, rename) are allowed.
    pub fn allows_write(self) -> bool {
        !matches!(self, MountMode::Read)
    }
    /// Parses `read`, `write` or `exec` (also `ro`/`rw`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" | "ro" | "r" => Some(MountMode::Read),
            "write" | "rw" | "w" => Some(MountMode::Write),
            "exec" | "x" => Some(MountMode::Exec),
            _ => None,
        }
    }
    /// The config spelling: `read`, `write` or `exec`.
    pub fn as_str(self) -> &'static str {
        match self {
            MountMode::Read => "read",
            MountMode::Write => "write",
            MountMode::Exec => "exec",
        }
    }
}

/// One row of the mount table, as shown by the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountInfo {
    /// The mount point, e.g. `/data` (`/` for a root mount).
    pub prefix: String,
    /// The resource's registered name, e.g. `ram`, `disk`.
    pub resource: String,
    /// The mount's mode.
    pub mode: MountMode,
}

/// The one door for bytes: every read, write, listing and stat of a virtual
/// path goes through an implementation of this trait (the workspace's VFS
/// router), which resolves the mount by longest prefix, enforces the mount
/// mode and calls the resource.
///
/// All paths are absolute, normalised virtual paths (`/data/a.txt`). Errors
/// carry the virtual path.
#[async_trait]
pub trait Vfs: Send + Sync {
    /// Metadata of `path`, following symlinks (`stat(2)`). Mount points and
    /// their parents are directories.
    async fn stat(&self, path: &str) -> Result<FileStat>;
    /// Metadata of `path` without following a symlink in the last component
    /// (`lstat(2)`): a link reports [`crate::FileType::Symlink`] and the
    /// length of its target as its size. A VFS without links answers as
    /// [`Vfs::stat`].
    ///
    /// The link methods have no defaults on purpose: an overlay (`<(…)`,
    /// `/dev/stdin`, later a cache layer) that forgot to pass one on would
    /// silently answer as if links did not exist. (`Resource` keeps
    /// defaults: a backend without links is normal.)
    async fn lstat(&self, path: &str) -> Result<FileStat>;
    /// The target of the symlink `path`, as stored in the link
    /// (`readlink(2)`; relative targets are relative to the link's
    /// directory). Errors: `InvalidInput` when `path` is not a link (as
    /// `EINVAL`), `Unsupported` where links do not exist.
    async fn readlink(&self, path: &str) -> Result<String>;
    /// Creates a symlink at `path` whose target is `target`, stored as given
    /// (`symlink(2)`). Errors: `AlreadyExists`, `ReadOnly`, `Unsupported`
    /// where the mount keeps no links.
    async fn symlink(&self, target: &str, path: &str) -> Result<()>;
    /// The canonical virtual path of `path`, every symlink resolved
    /// (`realpath(3)`), used to detect loops while following links (GNU
    /// tools compare device and inode; two paths with the same canonical
    /// path are the same entry). Without links it is the normalised path
    /// once it exists. Errors: those of `stat`, `TooManyLinks` for a loop.
    async fn realpath(&self, path: &str) -> Result<String>;
    /// Entries of the directory `path`, sorted by name (byte order). Mount
    /// points under `path` appear as directories.
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>>;
    /// The bytes of the file `path`, streamed.
    async fn read(&self, path: &str) -> Result<ByteSource>;
    /// A read with options: a byte range, and a conditional read that
    /// answers [`ReadResult::Unchanged`] when the file's version equals
    /// `opts.if_none_match`. The router passes it to the resource, which
    /// does it natively where it can.
    ///
    /// The default, safe for an overlay because it uses only its own
    /// `stat` and `read`, takes the version with `stat` first, then reads
    /// and skips/limits the stream ([`ReadOptions::answer`]).
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let version = self.stat(path).await?.version;
        opts.answer(version, self.read(path)).await
    }
    /// The entries of the directory `path` as a stream (a large directory
    /// or object-store prefix never arrives as one `Vec`), in the
    /// backend's order; recursive with `opts.recursive` (names are then
    /// paths relative to `path`). Mount points under `path` appear as
    /// directories, and a recursive listing goes into them.
    ///
    /// The default, safe for an overlay because it uses only its own
    /// `readdir`, streams `readdir`'s entries and walks them for a
    /// recursive listing.
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        if opts.recursive {
            let lister: ListChildren<'a> = Box::new(move |p: String| {
                Box::pin(async move {
                    let v = self.readdir(&p).await?;
                    Ok(list_from_vec(v, &ListOptions::default()))
                })
            });
            let root = list_from_vec(self.readdir(path).await?, &ListOptions::default());
            return Ok(walk(path, opts, root, lister));
        }
        Ok(list_from_vec(self.readdir(path).await?, opts))
    }
    /// Replaces (or creates) the file `path` with `data`. On error the old
    /// contents stay intact. A symlink is followed (as `open(2)` with
    /// `O_CREAT|O_TRUNC`): its target is written and the link stays.
    async fn write(&self, path: &str, data: ByteSource) -> Result<()>;
    /// Appends `data` to `path`, creating it if missing.
    async fn append(&self, path: &str, data: ByteSource) -> Result<()>;
    /// Creates the directory `path`; with `parents`, also missing parents and
    /// no error if it exists (`mkdir -p`).
    async fn mkdir(&self, path: &str, parents: bool) -> Result<()>;
    /// Removes the file or symlink `path` (a link is removed itself, never
    /// its target).
    async fn unlink(&self, path: &str) -> Result<()>;
    /// Removes the empty directory `path`.
    async fn rmdir(&self, path: &str) -> Result<()>;
    /// Renames `from` to `to`; across mounts this is copy then delete.
    async fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Sets the permission bits of `path` to `mode` (`& 0o7777`: the
    /// `rwx` bits plus setuid, setgid and sticky), following a symlink as
    /// `chmod(2)` does (a link that leads out of its mount is refused). A
    /// change: a `read` mount refuses it with `ReadOnly`.
    ///
    /// Errors: `NotFound`, `ReadOnly`, `Unsupported` ("Operation not
    /// supported") where the mount keeps no mode bits. The default answers
    /// `Unsupported`; an overlay must pass the call on to its inner VFS
    /// (it has a default, unlike the link methods, so that an overlay
    /// written before it still builds).
    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        let _ = mode;
        Err(crate::Error::at(crate::ErrorKind::Unsupported, path))
    }
    /// Sets the modification time of `path` (`utimensat(2)` for the
    /// mtime, following a symlink), as `touch -d/-t/-r` does. A change: a
    /// `read` mount refuses it with `ReadOnly`.
    ///
    /// Errors: `NotFound`, `ReadOnly`, `Unsupported` where the mount keeps
    /// no times (the default; an overlay must pass the call on).
    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        let _ = time;
        Err(crate::Error::at(crate::ErrorKind::Unsupported, path))
    }
    /// A hint that the caller is about to walk the whole tree below the
    /// directory `path` (`grep -r`, `find`, `du`, `rg`), and with
    /// `contents` also to read every file in it (`grep -r`, `rg`): the
    /// router passes it to the mount's cache, which may fetch the tree in
    /// one recursive listing (seed 003's scope push-down) and the files'
    /// bytes concurrently, within a budget. The default (an overlay, a
    /// local mount) does nothing. Callers ignore its errors.
    async fn prefetch_tree(&self, path: &str, contents: bool) -> Result<()> {
        let _ = (path, contents);
        Ok(())
    }
    /// The mount that owns `path` (longest prefix), if any.
    fn mount_of(&self, path: &str) -> Option<MountInfo>;
    /// Every mount, sorted by prefix.
    fn mounts(&self) -> Vec<MountInfo>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::{Error, ErrorKind};
    use bytes::Bytes;

    fn bytes(s: &'static [u8]) -> ByteSource {
        ByteSource::Bytes(Bytes::from_static(s))
    }

    /// The shared default of `read_with`: a matching version answers
    /// `Unchanged` without polling the read; otherwise the range is cut
    /// and the version kept; a read error passes through.
    #[tokio::test]
    async fn answer_checks_the_version_then_reads_the_range() {
        let v = VersionToken::Generation(7);
        let cond = ReadOptions {
            if_none_match: Some(v.clone()),
            ..ReadOptions::default()
        };
        let never = async { panic!("read polled for an unchanged file") };
        assert!(matches!(
            cond.answer(v.clone(), never).await.unwrap(),
            ReadResult::Unchanged
        ));

        let ranged = ReadOptions {
            range: Some(ByteRange::new(2, 3)),
            if_none_match: Some(VersionToken::Generation(6)),
        };
        match ranged
            .answer(v.clone(), async { Ok(bytes(b"abcdefg")) })
            .await
            .unwrap()
        {
            ReadResult::Data { source, version } => {
                assert_eq!(version, v);
                assert_eq!(&source.collect().await.unwrap()[..], b"cde");
            }
            ReadResult::Unchanged => panic!("changed file answered Unchanged"),
        }

        // `Unknown` never matches, and a read error is the answer.
        let unknown = ReadOptions {
            if_none_match: Some(VersionToken::Unknown),
            ..ReadOptions::default()
        };
        let err = unknown
            .answer(VersionToken::Unknown, async {
                Err(Error::new(ErrorKind::NotFound))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
    }
}
