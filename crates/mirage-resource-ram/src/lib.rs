//! The `ram` resource: an in-memory directory tree.
//!
//! Files are [`bytes::Bytes`], so a read hands out a reference-counted view
//! of the stored buffer without copying. Every mutation takes a write lock
//! for its whole check-and-change step, so each op is atomic with respect
//! to the others; a `write` collects its input before it takes the lock,
//! and a failed input stream leaves the old contents in place.
//!
//! Paths are resource paths (`/dir/file`); they are normalised again here
//! (see [`mirage_types::normalize_path`]) so `//a/./b` and `/a/b` name the
//! same entry. Errors carry the normalised resource path.
#![deny(missing_docs)]

mod tree;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::{Capability, Resource, ResourceRegistration, TestConfig};
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, ListOptions, ReadOptions, ReadResult,
    Result, normalize_path,
};

use tree::{Tree, Walk};

/// An in-memory resource (registered as `ram`; its config is ignored).
///
/// Capability: `write`, native `append` and `rename`, `real_directories`, `chmod`,
/// `symlinks` (a relative target is followed here; an absolute one names a
/// virtual path, which [`Resource::link_redirect`] hands to the router),
/// native range and conditional reads, and native (paged) recursive
/// listings: a listing takes the lock for one page of entries at a time
/// (`page_size`, default 1000) and continues after the last key it saw,
/// so a listing sees a consistent page, and a change between pages shows
/// up or not. The root `/`
/// always exists. Each entry keeps its permission bits: `0o644` for a
/// new file and `0o755` for a new directory, changed by `chmod` (a
/// rewritten file keeps its bits). `stat` reports them, the last
/// modification time, and a
/// [`mirage_types::VersionToken::Generation`] taken from a counter that
/// grows on every change, so a (path, generation) pair never names two
/// different contents.
pub struct RamResource {
    tree: RwLock<Tree>,
    limits: RamLimits,
}

/// The most a `ram` mount may hold. A write or append that would pass a
/// limit fails with `No space left on device` (`ENOSPC`), leaving the file
/// as it was, and the data it streams is read only up to the limit (so
/// `yes > /tmp/x` fails instead of filling the host's memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RamLimits {
    /// The most bytes all files together may hold (`None`: no limit).
    pub max_bytes: Option<u64>,
    /// The most entries (files and directories, the root included).
    pub max_entries: Option<usize>,
}

impl Default for RamResource {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RamResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RamResource")
            .field("entries", &self.read_tree().len())
            .finish()
    }
}

impl RamResource {
    /// An empty tree holding only the root directory `/`.
    pub fn new() -> Self {
        Self::with_limits(RamLimits::default())
    }

    /// An empty tree that holds at most `limits`.
    pub fn with_limits(limits: RamLimits) -> Self {
        RamResource {
            tree: RwLock::new(Tree::new()),
            limits,
        }
    }

    /// Reads `data` for a write (`append`: added to the file) at `path`,
    /// stopping as soon as the mount's limits would be passed: then the
    /// bytes that fit come with a `No space left on device` error (a full
    /// disk keeps what was written before the write failed).
    async fn collect_within(
        &self,
        path: &str,
        data: ByteSource,
        append: bool,
    ) -> Result<(Bytes, Option<Error>)> {
        let (max_bytes, max_entries) = (self.limits.max_bytes, self.limits.max_entries);
        if max_bytes.is_none() && max_entries.is_none() {
            return Ok((data.collect().await?, None));
        }
        let room = {
            let t = self.read_tree();
            if let Some(m) = max_entries
                && !t.exists(path)
                && t.len() >= m
            {
                return Err(no_space(path));
            }
            let (total, own) = t.usage(path);
            let used = if append { total } else { total - own };
            max_bytes.map(|m| m.saturating_sub(used))
        };
        let Some(room) = room else {
            return Ok((data.collect().await?, None));
        };
        let mut stream = data.into_stream();
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let left = usize::try_from(room).unwrap_or(usize::MAX) - buf.len();
            if chunk.len() > left {
                buf.extend_from_slice(&chunk[..left]);
                return Ok((buf.freeze(), Some(no_space(path))));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((buf.freeze(), None))
    }

    /// Stores `data` at `path`, creating missing parent directories (as
    /// `mkdir -p` then a write); a convenience for tests, fixtures and
    /// benchmarks.
    ///
    /// Errors: `IsADirectory` when `path` is a directory (or `/`),
    /// `NotADirectory` when an ancestor is a file.
    pub fn insert_file(&self, path: &str, data: impl Into<Bytes>) -> Result<()> {
        let path = normalize_path(path);
        let mut t = self.write_tree();
        t.create_parents(&path)?;
        t.write(&path, data.into())
    }

    /// Creates the directory `path` and its missing ancestors (`mkdir -p`);
    /// succeeds when it already exists.
    ///
    /// Errors: `NotADirectory` when `path` or an ancestor is a file.
    pub fn insert_dir(&self, path: &str) -> Result<()> {
        let path = normalize_path(path);
        let mut t = self.write_tree();
        t.create_parents(&path)?;
        t.mkdir_p_leaf(&path)
    }

    /// The number of entries, the root included.
    pub fn len(&self) -> usize {
        self.read_tree().len()
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    fn read_tree(&self) -> RwLockReadGuard<'_, Tree> {
        self.tree
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_tree(&self) -> RwLockWriteGuard<'_, Tree> {
        self.tree
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Resource for RamResource {
    fn name(&self) -> &'static str {
        "ram"
    }

    fn capability(&self) -> Capability {
        Capability {
            write: true,
            append: true,
            rename: true,
            real_directories: true,
            range_read: true,
            conditional_read: true,
            chmod: true,
            recursive_list: true,
            symlinks: true,
            ..Capability::default()
        }
    }

    fn link_redirect(&self, path: &str, follow_last: bool) -> Result<Option<String>> {
        match self
            .read_tree()
            .walk(&normalize_path(path), follow_last, true)?
        {
            Walk::Here(_) => Ok(None),
            Walk::Out(v) => Ok(Some(v)),
        }
    }

    async fn stat(&self, path: &str) -> Result<FileStat> {
        let t = self.read_tree();
        let p = t.lookup(&normalize_path(path), true)?;
        let mut st = t.stat(&p)?;
        st.name = mirage_types::basename(&normalize_path(path));
        Ok(st)
    }

    async fn lstat(&self, path: &str) -> Result<FileStat> {
        let t = self.read_tree();
        t.stat(&t.lookup(&normalize_path(path), false)?)
    }

    async fn readlink(&self, path: &str) -> Result<String> {
        let t = self.read_tree();
        t.readlink(&t.lookup(&normalize_path(path), false)?)
    }

    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        let mut t = self.write_tree();
        let p = t.lookup(&normalize_path(path), false)?;
        if self.limits.max_entries.is_some_and(|m| t.len() >= m) {
            return Err(no_space(&p));
        }
        t.symlink(target, &p)
    }

    async fn realpath(&self, path: &str) -> Result<String> {
        let t = self.read_tree();
        let p = t.lookup(&normalize_path(path), true)?;
        t.stat(&p)?;
        Ok(p)
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        let t = self.read_tree();
        t.readdir(&t.lookup(&normalize_path(path), true)?)
    }

    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let dir = self.read_tree().lookup(&normalize_path(path), true)?;
        if !self.read_tree().stat(&dir)?.is_dir() {
            return Err(Error::at(ErrorKind::NotADirectory, dir));
        }
        let limit = opts.page_size.unwrap_or(LIST_PAGE).max(1);
        let recursive = opts.recursive;
        // Keys sort as relative names do under one prefix, so resuming
        // after `prefix + start_after` is `start_after` applied.
        let start = opts.start_after.as_ref().map(|a| {
            if dir == "/" {
                format!("/{a}")
            } else {
                format!("{dir}/{a}")
            }
        });
        let pages = futures::stream::unfold(Some(start), move |cursor| {
            let dir = dir.clone();
            async move {
                let after = cursor?;
                let (page, next) =
                    self.read_tree()
                        .list_page(&dir, recursive, after.as_deref(), limit);
                // `next` is None at the end: stop after this page.
                let cursor = next.map(Some);
                Some((page, cursor))
            }
        });
        Ok(pages
            .flat_map(|page| futures::stream::iter(page.into_iter().map(Ok)))
            .boxed())
    }

    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let (data, version) = {
            let t = self.read_tree();
            t.read_versioned(&t.lookup(&normalize_path(path), true)?)?
        };
        if opts.is_unchanged(&version) {
            return Ok(ReadResult::Unchanged);
        }
        let source = match opts.range {
            Some(r) => ByteSource::Bytes(data).slice_range(r),
            None => ByteSource::Bytes(data),
        };
        Ok(ReadResult::Data { source, version })
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        let t = self.read_tree();
        t.read(&t.lookup(&normalize_path(path), true)?)
            .map(ByteSource::Bytes)
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let path = self.read_tree().lookup(&normalize_path(path), true)?;
        // Cheap checks first, so a doomed write does not drain its stream.
        self.read_tree().check_writable(&path)?;
        let (data, full) = self.collect_within(&path, data, false).await?;
        self.write_tree().write(&path, data)?;
        full.map_or(Ok(()), Err)
    }

    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let path = self.read_tree().lookup(&normalize_path(path), true)?;
        self.read_tree().check_writable(&path)?;
        let (data, full) = self.collect_within(&path, data, true).await?;
        self.write_tree().append(&path, data)?;
        full.map_or(Ok(()), Err)
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        let mut t = self.write_tree();
        let path = t.lookup(&normalize_path(path), false)?;
        if self.limits.max_entries.is_some_and(|m| t.len() >= m) && !t.exists(&path) {
            return Err(no_space(&path));
        }
        t.mkdir(&path)
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        let mut t = self.write_tree();
        let p = t.lookup(&normalize_path(path), false)?;
        t.unlink(&p)
    }

    async fn rmdir(&self, path: &str) -> Result<()> {
        let mut t = self.write_tree();
        let p = t.lookup(&normalize_path(path), false)?;
        t.rmdir(&p)
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let mut t = self.write_tree();
        let from = t.lookup(&normalize_path(from), false)?;
        let to = t.lookup(&normalize_path(to), false)?;
        t.rename(&from, &to)
    }

    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        let mut t = self.write_tree();
        let p = t.lookup(&normalize_path(path), true)?;
        t.chmod(&p, mode)
    }

    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        let mut t = self.write_tree();
        let p = t.lookup(&normalize_path(path), true)?;
        t.set_modified(&p, time)
    }
}

/// Entries per listing page when the caller gives no `page_size`.
const LIST_PAGE: usize = 1000;

fn no_space(path: &str) -> Error {
    Error::msg(ErrorKind::Io, "No space left on device").with_path(path)
}

/// Config of a `ram` mount: its limits ([`RamLimits`]). The config may be
/// absent, `null` or `{}`; any other key is refused (`deny_unknown_fields`),
/// so a typo is an error rather than a silently ignored setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RamConfig {
    /// The most bytes all files together may hold (default: no limit).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// The most entries, files and directories (default: no limit).
    #[serde(default)]
    pub max_entries: Option<usize>,
}

fn build(config: &serde_json::Value) -> Result<Arc<dyn Resource>> {
    let cfg = if config.is_null() {
        RamConfig::default()
    } else {
        serde_json::from_value::<RamConfig>(config.clone()).map_err(|e| {
            mirage_types::Error::msg(
                mirage_types::ErrorKind::InvalidInput,
                format!("ram: invalid config: {e}"),
            )
        })?
    };
    Ok(Arc::new(RamResource::with_limits(RamLimits {
        max_bytes: cfg.max_bytes,
        max_entries: cfg.max_entries,
    })))
}

inventory::submit! {
    ResourceRegistration {
        name: "ram",
        summary: "in-memory directory tree (zero-copy reads; contents are lost when the workspace ends)",
        build,
        config_schema: || schemars::schema_for!(RamConfig),
        test_config: || Ok(TestConfig::new(serde_json::Value::Null)),
        main_key: None,
    }
}
