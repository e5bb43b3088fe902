use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{ByteSource, FileStat, Result};

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
    /// The mount that owns `path` (longest prefix), if any.
    fn mount_of(&self, path: &str) -> Option<MountInfo>;
    /// Every mount, sorted by prefix.
    fn mounts(&self) -> Vec<MountInfo>;
}
