//! Ops, the fingers every resource implements (seed 000): read, readdir,
//! stat, write, append, mkdir, unlink, rmdir, rename.
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
#[cfg(doc)]
use mirage_types::FileType;
use mirage_types::{ByteSource, Error, ErrorKind, FileStat, Result};

pub use mirage_types;

#[cfg(feature = "testsuite")]
pub mod testsuite;

/// What a resource can do, so callers (and the behaviour suite) can skip
/// what it cannot, as OpenDAL's `Capability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capability {
    /// `write`, `append`, `mkdir`, `unlink`, `rmdir` are implemented.
    pub write: bool,
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
    /// callers decide whether to follow it.
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>>;
    /// The bytes of the file `path`, as a stream where the backend streams.
    async fn read(&self, path: &str) -> Result<ByteSource>;
    /// Replaces or creates `path` with `data`, atomically where the backend
    /// allows: on error, the old contents stay.
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let _ = (path, data);
        Err(Error::new(ErrorKind::Unsupported))
    }
    /// Appends `data` to `path`, creating it if missing. The default reads,
    /// concatenates and writes.
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let old = match self.read(path).await {
            Ok(s) => s.collect().await?,
            Err(e) if e.kind == ErrorKind::NotFound => bytes::Bytes::new(),
            Err(e) => return Err(e),
        };
        let new = data.collect().await?;
        let mut all = Vec::with_capacity(old.len() + new.len());
        all.extend_from_slice(&old);
        all.extend_from_slice(&new);
        self.write(path, ByteSource::from(all)).await
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
}

/// Builds a resource from its mount's `config` object.
pub type ResourceFactory = fn(config: &serde_json::Value) -> Result<Arc<dyn Resource>>;

/// A resource type registered at link time.
pub struct ResourceRegistration {
    /// The name used in configs (`resource: ram`).
    pub name: &'static str,
    /// One line for `mirage resources` and errors.
    pub summary: &'static str,
    /// The constructor.
    pub build: ResourceFactory,
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
