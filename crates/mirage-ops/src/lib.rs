//! Ops, the fingers every resource implements (seed 000): read, readdir,
//! stat, write, append, mkdir, unlink, rmdir, rename (and, where the
//! resource keeps them, links and mode bits: symlink, readlink, chmod).
//!
//! A resource crate implements [`Resource`] and registers a
//! [`ResourceRegistration`] with `inventory::submit!`, so the workspace can
//! build it from a config by name without a central list.
//!
//! Paths given to a resource are *resource paths*: absolute within the
//! resource, normalised, starting with `/` (the mount prefix already
//! stripped, see [`mirage_types::PathSpec::resource_path`]). Errors may carry
//! the resource path; the router replaces it with the virtual path.
#![deny(missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
#[cfg(doc)]
use mirage_types::FileType;
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, ListChildren, ListOptions, ReadOptions,
    ReadResult, Result, VersionToken, WriteOptions,
};

pub use mirage_types;
pub use schemars;

/// A recursive listing of `path` on `res` built from non-recursive
/// [`Resource::list`] calls (a lazy walk, see [`mirage_types::walk`]); what
/// the router does for a resource without [`Capability::recursive_list`].
///
/// Errors: those of listing `path` itself; errors below it come as items.
pub async fn walk<'a>(
    res: &'a dyn Resource,
    path: &str,
    opts: &ListOptions,
) -> Result<EntryStream<'a>> {
    let flat = ListOptions {
        page_size: opts.page_size,
        ..ListOptions::default()
    };
    let root = res.list(path, &flat).await?;
    let lister: ListChildren<'a> = Box::new(move |p: String| {
        let flat = flat.clone();
        Box::pin(async move { res.list(&p, &flat).await })
    });
    Ok(mirage_types::walk(path, opts, root, lister))
}

/// Collects a listing into a `Vec` (the first `Err` item ends it), for a
/// resource whose `readdir` is its native `list` collected.
///
/// Errors: the first error item.
pub async fn collect_list(mut s: EntryStream<'_>) -> Result<Vec<FileStat>> {
    let mut out = Vec::new();
    while let Some(e) = s.next().await {
        out.push(e?);
    }
    Ok(out)
}

/// Lists `path` on `res` as the router does: natively when the resource
/// can (non-recursive, or recursive with [`Capability::recursive_list`]),
/// else by [`walk`]. The behaviour suite and the router call resources
/// through it.
pub async fn list<'a>(
    res: &'a dyn Resource,
    path: &str,
    opts: &ListOptions,
) -> Result<EntryStream<'a>> {
    if opts.recursive && !res.capability().recursive_list {
        walk(res, path, opts).await
    } else {
        res.list(path, opts).await
    }
}

#[cfg(feature = "testsuite")]
pub mod testsuite;

/// What a resource can do, and what it does natively, so callers (the
/// router, later Recall) pick the cheap way and the behaviour suite skips
/// what does not apply, as OpenDAL's `Capability`. Every flag defaults to
/// `false`; build one with `Capability { write: true, ..Capability::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct Capability {
    /// `write`, `append`, `mkdir`, `unlink`, `rmdir` are implemented.
    pub write: bool,
    /// `append` is native (`O_APPEND`, an append API); otherwise the
    /// default streams the old contents and the new bytes into `write`.
    pub append: bool,
    /// `rename` is implemented natively (otherwise copy + delete).
    pub rename: bool,
    /// Directories exist on their own (not only as key prefixes).
    pub real_directories: bool,
    /// The resource is remote (its reads are worth caching).
    pub remote: bool,
    /// Symbolic links exist: `lstat`, `readlink`, `symlink` and `realpath`
    /// are implemented, `readdir` reports links as [`FileType::Symlink`]
    /// (`mirage_types::FileType::Symlink`), and `write` follows a link.
    pub symlinks: bool,
    /// `read_with` reads a byte range natively (a seek, an HTTP `Range`
    /// request), without reading the bytes before it.
    pub range_read: bool,
    /// `read_with` answers a conditional read natively (HTTP
    /// `If-None-Match`), without a separate `stat`.
    pub conditional_read: bool,
    /// `list` answers `recursive: true` natively (an S3 listing without a
    /// delimiter). Otherwise the router walks the tree with non-recursive
    /// listings, and the resource never sees `recursive: true`.
    pub recursive_list: bool,
    /// `write_with` checks `if_match` atomically with the write (S3
    /// conditional PUT, a Redis compare-and-set script), so `write: conditional`
    /// has no race window.
    pub conditional_write: bool,
    /// The backend has a search API a resource-specific `grep` may use.
    pub search: bool,
    /// Permission bits are kept: [`Resource::chmod`] is implemented and
    /// `stat` reports the bits it set (`chmod +x ./tool && ./tool`).
    pub chmod: bool,
}

/// A backend mounted into the workspace.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The registered resource name (`ram`, `disk`, `s3`), used by dispatch.
    fn name(&self) -> &'static str;
    /// What this resource supports.
    fn capability(&self) -> Capability;
    /// Metadata of `path`, following symlinks (`stat(2)`).
    async fn stat(&self, path: &str) -> Result<FileStat>;
    /// Metadata of `path` without following a symlink in its last component
    /// (`lstat(2)`). The default, for a resource without links, is `stat`.
    async fn lstat(&self, path: &str) -> Result<FileStat> {
        self.stat(path).await
    }
    /// The stored target of the symlink `path` (`readlink(2)`). Errors:
    /// `InvalidInput` when `path` is not a link; `Unsupported` (the default)
    /// for a resource without links.
    async fn readlink(&self, path: &str) -> Result<String> {
        let _ = path;
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Creates the symlink `path` with the target `target`, stored as given
    /// (`symlink(2)`). Default: `Unsupported`.
    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        let _ = (target, path);
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Where `path` leads when a symlink on the way has an absolute target:
    /// `Ok(Some(virtual_path))`, the link's target joined with the rest of
    /// `path`, which the router resolves again from the workspace root
    /// (an absolute target names a virtual path, possibly in another
    /// mount, as `ln -s /data/real /data/alias` means). `Ok(None)` when
    /// `path` stays in this resource; the operation then follows the
    /// relative links itself. The last component is followed only with
    /// `follow_last` (`stat` follows it, `lstat`, `unlink` and `rename` do
    /// not). Synchronous and cheap: the router asks before every call.
    ///
    /// The default answers `Ok(None)`: a resource without links, or one
    /// that confines every link to its own root (disk). Errors:
    /// `TooManyLinks` for a loop.
    fn link_redirect(&self, path: &str, follow_last: bool) -> Result<Option<String>> {
        let _ = (path, follow_last);
        Ok(None)
    }
    /// The canonical resource path of `path` with every symlink resolved
    /// (`realpath(3)`); used by walkers to detect loops. The default, for a
    /// resource without links, checks that `path` exists and returns it
    /// normalised. Errors: those of `stat`; `TooManyLinks` for a loop.
    async fn realpath(&self, path: &str) -> Result<String> {
        self.stat(path).await?;
        Ok(mirage_types::normalize_path(path))
    }
    /// Entries of the directory `path`, in any order (the router sorts). A
    /// symlink is reported as [`FileType::Symlink`] (as `lstat` sees it);
    /// callers decide whether to follow it. A resource that implements
    /// [`Resource::list`] natively can answer this with
    /// [`collect_list`]`(self.list(path, &ListOptions::default()).await?)`.
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>>;
    /// The entries of the directory `path` as a stream, in any order: a
    /// large directory or object-store prefix is fetched page by page
    /// (`opts.page_size` entries at a time where the backend pages) and
    /// never arrives as one `Vec`. Entries are as [`Resource::readdir`]'s;
    /// `opts.start_after` must be applied ([`mirage_types::list_from_vec`]
    /// does it for a backend that lists in one call).
    ///
    /// `opts.recursive` is set only when [`Capability::recursive_list`] is
    /// (otherwise the router walks with non-recursive listings,
    /// [`walk`]); entries are then named by their path relative to `path`,
    /// every directory before its contents (a backend without real
    /// directories may list files only). Errors: `NotFound`,
    /// `NotADirectory` for the directory itself, as the call's error;
    /// later failures as `Err` items.
    ///
    /// The default streams `readdir`'s `Vec` (fine for a local backend; a
    /// remote one overrides it).
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        Ok(mirage_types::list_from_vec(self.readdir(path).await?, opts))
    }
    /// The bytes of the file `path`, as a stream where the backend streams.
    async fn read(&self, path: &str) -> Result<ByteSource>;
    /// A read with a byte range and/or a conditional version (see
    /// [`ReadOptions`]). Resources with [`Capability::range_read`] or
    /// [`Capability::conditional_read`] override it.
    ///
    /// The default takes the version with `stat` first (so the version is
    /// never newer than the bytes), answers `Unchanged` when it equals
    /// `opts.if_none_match`, then reads and skips/limits the stream without
    /// collecting it ([`ReadOptions::answer`]).
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let version = self.stat(path).await?.version;
        opts.answer(version, self.read(path)).await
    }
    /// Replaces or creates `path` with `data`, atomically where the backend
    /// allows: on error, the old contents stay.
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let _ = (path, data);
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// A write with options: with `opts.if_match`, only if the file's
    /// current version equals that token (S3 `If-Match`, a Redis compare-and-set script),
    /// else `Conflict` and nothing changes. Answers the new version of the
    /// file where the backend reports it in the same call (S3's `ETag`),
    /// else [`VersionToken::Unknown`] (a cache then takes no version and
    /// revalidates).
    ///
    /// The default, for a backend with no conditional write: `stat`,
    /// compare, then `write` (a race window between the two remains, which
    /// a resource with [`Capability::conditional_write`] closes).
    async fn write_with(
        &self,
        path: &str,
        data: ByteSource,
        opts: &WriteOptions,
    ) -> Result<VersionToken> {
        if let Some(want) = &opts.if_match {
            let current = match self.stat(path).await {
                Ok(s) => s.version,
                Err(e) if e.kind == ErrorKind::NotFound => {
                    return Err(Error::at(ErrorKind::Conflict, path));
                }
                Err(e) => return Err(e),
            };
            if *want == VersionToken::Unknown || current != *want {
                return Err(Error::at(ErrorKind::Conflict, path));
            }
        }
        self.write(path, data).await?;
        Ok(VersionToken::Unknown)
    }
    /// Appends `data` to `path`, creating it if missing.
    ///
    /// The default streams: it writes the old contents followed by `data`
    /// as one stream into [`Resource::write`], never holding either in
    /// memory. It relies on `write`'s contract (the old contents stay until
    /// the new ones are complete), so it reads the old file while the new
    /// one is being written. A resource with [`Capability::append`]
    /// overrides it.
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let old = match self.read(path).await {
            Ok(s) => s.into_stream(),
            Err(e) if e.kind == ErrorKind::NotFound => futures::stream::empty().boxed(),
            Err(e) => return Err(e),
        };
        let all = old.chain(data.into_stream()).boxed();
        self.write(path, ByteSource::Stream(all)).await
    }
    /// Creates the directory `path` (its parent must exist).
    async fn mkdir(&self, path: &str) -> Result<()> {
        let _ = path;
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Removes the file or symlink `path` (never a link's target).
    async fn unlink(&self, path: &str) -> Result<()> {
        let _ = path;
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Removes the empty directory `path`.
    async fn rmdir(&self, path: &str) -> Result<()> {
        let _ = path;
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Renames `from` to `to` within this resource (replacing a file at `to`).
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let _ = (from, to);
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// A hint that the caller is about to walk the whole tree below the
    /// directory `path` (`grep -r`, `find`, `du`): a cache in front of a
    /// resource with [`Capability::recursive_list`] fetches it in one
    /// recursive listing (seed 003's scope push-down) and answers the
    /// walk's per-directory listings and stats from it; with `contents`
    /// (the walk reads every file: `grep -r`) it may also fetch the files'
    /// bytes concurrently, within a budget. The default does
    /// nothing. Errors: none that the caller must act on (it may ignore
    /// them; the walk reports its own).
    async fn prefetch_tree(&self, path: &str, contents: bool) -> Result<()> {
        let _ = (path, contents);
        Ok(())
    }
    /// Sets the permission bits of `path` to `mode & 0o7777`, following a
    /// symlink as `chmod(2)` does (confined to the resource); `stat` then
    /// reports the new bits. The router calls it only on a writable mount.
    /// Errors: `NotFound`; `Unsupported` (the default, "Operation not
    /// supported") for a resource that keeps no mode bits.
    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        let _ = (path, mode);
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Sets the modification time of `path` (following a symlink, confined
    /// to the resource), as `touch -d` does; `stat` then reports it. The
    /// router calls it only on a writable mount. Errors: `NotFound`;
    /// `Unsupported` (the default) for a resource that keeps no times.
    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        let _ = (path, time);
        Err(Error::new(ErrorKind::Unsupported))
    }
}

/// Builds a resource from its mount's `config` object.
pub type ResourceFactory = fn(config: &serde_json::Value) -> Result<Arc<dyn Resource>>;

/// A config for a scratch instance of a resource, used by the behaviour
/// suite: [`ResourceRegistration::build`] on `config` must give an empty
/// (or at least `/suite-*`-free) instance, writable where the resource
/// writes. `guard` is kept alive while the instance is in use and cleans
/// up when dropped (a temporary directory, a test bucket).
pub struct TestConfig {
    /// The mount's `config:` object.
    pub config: serde_json::Value,
    /// Whatever must live as long as the instance (dropped after it).
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

impl TestConfig {
    /// A config that needs no cleanup.
    pub fn new(config: serde_json::Value) -> Self {
        TestConfig {
            config,
            guard: Box::new(()),
        }
    }
}

/// A resource type registered at link time (`inventory::submit!`).
pub struct ResourceRegistration {
    /// The name used in configs (`resource: ram`).
    pub name: &'static str,
    /// One line for `mirage resources` and errors.
    pub summary: &'static str,
    /// The constructor.
    pub build: ResourceFactory,
    /// The JSON Schema of the mount's `config:` object (derive
    /// `schemars::JsonSchema` on the config type and give
    /// `|| schemars::schema_for!(MyConfig)`); `mirage config schema`
    /// includes it.
    pub config_schema: fn() -> schemars::Schema,
    /// Makes a scratch config for the behaviour suite, which every
    /// registered resource runs (the `mirage` facade's `behaviour` test
    /// fails for a resource whose `test_config` errs). Errors: whatever
    /// prevents a scratch instance (no temporary directory, no server).
    pub test_config: fn() -> Result<TestConfig>,
    /// The config key that the CLI's `--mount PREFIX=TYPE:ARG[:MODE]` sets
    /// to ARG (a string), such as disk's `root`; `None` when the type takes
    /// no ARG (`--mount /scratch=ram`).
    pub main_key: Option<&'static str>,
}

inventory::collect!(ResourceRegistration);

/// Finds the registered resource type `name`.
pub fn resource_type(name: &str) -> Option<&'static ResourceRegistration> {
    inventory::iter::<ResourceRegistration>
        .into_iter()
        .find(|r| r.name == name)
}

/// Every registered resource type, sorted by name.
pub fn resource_types() -> Vec<&'static ResourceRegistration> {
    let mut v: Vec<_> = inventory::iter::<ResourceRegistration>
        .into_iter()
        .collect();
    v.sort_by_key(|r| r.name);
    v
}
