//! The `disk` resource: a host directory, confined with `cap-std`.
//!
//! Every operation goes through a [`cap_std::fs::Dir`] opened on the root,
//! with paths relative to it, so `..`, absolute symlinks and relative
//! symlinks that climb out of the root are refused by the capability layer
//! (errors map to `PermissionDenied`, or `NotFound` where the system says
//! so). Resource paths containing a `..` component are refused up front.
//!
//! Blocking system calls run in `tokio::task::spawn_blocking`, so the
//! resource needs a tokio runtime. Reads of files under 1 MiB return one
//! buffer; larger files stream in 64 KiB chunks, and the reader stops when
//! the consumer drops the stream; a file is opened with `O_NONBLOCK` and its
//! type checked on the descriptor, so a FIFO or device gives `InvalidInput`
//! instead of blocking.
//!
//! A write goes to an unnamed file (`O_TMPFILE`) in the target's directory,
//! linked in (`linkat`, then `renameat` over an existing file) only when
//! complete: a failed, dropped or killed write leaves the old contents and
//! no file behind. Where the file system has no `O_TMPFILE`, a visible
//! temporary name `.NAME.mirage-tmp-PID-N` is used instead and removed on
//! error or drop (only a killed process leaves it). Nothing is hidden from
//! `readdir`. An append writes in place (a failed append may leave part of
//! its data). Writes are not fsynced.
//!
//! Symlinks behave as on Linux, confined to the root: `stat`, `read`,
//! `write`, `append` and `chmod` follow them (a link leading out of the
//! root, or absolute, is refused with `PermissionDenied`; a loop gives
//! `TooManyLinks`); `lstat`, `readdir`, `readlink`, `unlink` and `rename`
//! act on the link itself, wherever it points.
#![deny(missing_docs)]

mod config;
mod path;
mod read;
mod write;

use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use cap_std::fs::{Dir, Metadata, MetadataExt};
use futures::StreamExt;
use mirage_ops::{Capability, Resource, ResourceRegistration, TestConfig};
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, FileType, ListOptions, ReadOptions,
    ReadResult, Result, VersionToken, basename,
};

pub use config::DiskConfig;

use path::{is_root, relative};

/// A host directory mounted as a resource (registered as `disk`).
///
/// Capability: `write`, native `append` (`O_APPEND`) and `rename`,
/// `real_directories`, `symlinks`, `chmod`, native range reads (a seek) and
/// conditional reads (the version checked on the open descriptor).
/// Listings stream from a blocking reader (`page_size` entries buffered at
/// most); a recursive listing is walked by the router. `stat` reports the
/// size in bytes, the modification time, the permission bits
/// (`mode & 0o7777`) and a [`VersionToken::MtimeSize`] (nanoseconds since
/// the Unix epoch, size). Symlinks are followed while they stay inside the
/// root; `lstat` and `readdir` report a link as [`FileType::Symlink`].
pub struct DiskResource {
    root: Arc<Dir>,
    root_path: PathBuf,
}

impl std::fmt::Debug for DiskResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskResource")
            .field("root", &self.root_path)
            .finish()
    }
}

impl DiskResource {
    /// Opens the host directory `root` as the resource's root (a blocking
    /// call, made once at mount time).
    ///
    /// Errors: `NotFound` when `root` does not exist, `NotADirectory` when
    /// it is not a directory, `PermissionDenied` when it cannot be opened;
    /// the error's path is `root`.
    pub fn open(root: &Path) -> Result<Self> {
        let dir = Dir::open_ambient_dir(root, cap_std::ambient_authority())
            .map_err(|e| Error::from(e).with_path(root.display().to_string()))?;
        Ok(DiskResource {
            root: Arc::new(dir),
            root_path: root.to_path_buf(),
        })
    }

    /// Opens the directory named by a parsed config (see [`DiskResource::open`]).
    pub fn from_config(config: &DiskConfig) -> Result<Self> {
        Self::open(&config.root)
    }

    /// The host path of the root, as given to [`DiskResource::open`].
    pub fn root_path(&self) -> &Path {
        &self.root_path
    }
}

/// Runs `f` on the blocking pool; errors without a path get `path`.
pub(crate) async fn blocking<T, F>(path: &str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let res = match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(join_error(e)),
    };
    res.map_err(|e| {
        if e.path.is_none() {
            e.with_path(path)
        } else {
            e
        }
    })
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn join_error(e: tokio::task::JoinError) -> Error {
    Error::msg(ErrorKind::Io, format!("disk task failed: {e}"))
}

/// `mtime` as nanoseconds since the Unix epoch.
pub(crate) fn mtime_nanos(m: &Metadata) -> i128 {
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

fn stat_of(name: String, m: &Metadata) -> FileStat {
    let file_type = if m.is_dir() {
        FileType::Directory
    } else if m.is_symlink() {
        FileType::Symlink
    } else {
        FileType::File
    };
    FileStat {
        name,
        file_type,
        size: m.len(),
        modified: m.modified().ok().map(cap_std::time::SystemTime::into_std),
        mode: Some(m.mode() & 0o7777),
        version: VersionToken::MtimeSize(mtime_nanos(m), m.len()),
    }
}

fn name_of(path: &str) -> String {
    basename(&mirage_types::normalize_path(path))
}

#[async_trait]
impl Resource for DiskResource {
    fn name(&self) -> &'static str {
        "disk"
    }

    fn capability(&self) -> Capability {
        Capability {
            write: true,
            append: true,
            rename: true,
            real_directories: true,
            symlinks: true,
            range_read: true,
            conditional_read: true,
            chmod: true,
            ..Capability::default()
        }
    }

    async fn stat(&self, path: &str) -> Result<FileStat> {
        let rel = relative(path)?;
        let root = self.root.clone();
        let name = name_of(path);
        blocking(path, move || {
            let m = if is_root(&rel) {
                root.dir_metadata()?
            } else {
                root.metadata(&rel)?
            };
            Ok(stat_of(name, &m))
        })
        .await
    }

    async fn lstat(&self, path: &str) -> Result<FileStat> {
        let rel = relative(path)?;
        let root = self.root.clone();
        let name = name_of(path);
        blocking(path, move || {
            let m = if is_root(&rel) {
                root.dir_metadata()?
            } else {
                root.symlink_metadata(&rel)?
            };
            Ok(stat_of(name, &m))
        })
        .await
    }

    async fn readlink(&self, path: &str) -> Result<String> {
        let rel = relative(path)?;
        let root = self.root.clone();
        blocking(path, move || {
            if is_root(&rel) || !root.symlink_metadata(&rel)?.file_type().is_symlink() {
                return Err(Error::new(ErrorKind::InvalidInput));
            }
            let target = root.read_link_contents(&rel)?;
            Ok(mirage_types::bytestr::decode_owned(
                target.into_os_string().into_vec(),
            ))
        })
        .await
    }

    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        let rel = relative(path)?;
        if is_root(&rel) {
            return Err(Error::at(ErrorKind::AlreadyExists, path));
        }
        if target.is_empty() || target.contains('\0') {
            return Err(Error::at(ErrorKind::InvalidInput, path));
        }
        let target = PathBuf::from(std::ffi::OsString::from_vec(
            mirage_types::bytestr::encode(target).into_owned(),
        ));
        let root = self.root.clone();
        // Stored as given (an absolute or climbing target too, as `ln -s`
        // does); following it later stays confined.
        blocking(path, move || Ok(root.symlink_contents(&target, &rel)?)).await
    }

    async fn realpath(&self, path: &str) -> Result<String> {
        let rel = relative(path)?;
        let root = self.root.clone();
        blocking(path, move || {
            if is_root(&rel) {
                return Ok("/".to_string());
            }
            let canon = root.canonicalize(&rel)?;
            let s = mirage_types::bytestr::decode_owned(canon.into_os_string().into_vec());
            Ok(mirage_types::normalize_path(&format!("/{s}")))
        })
        .await
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        mirage_ops::collect_list(self.list(path, &ListOptions::default()).await?).await
    }

    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let rel = relative(path)?;
        let root = self.root.clone();
        let entries = blocking(path, move || {
            Ok(if is_root(&rel) {
                root.entries()?
            } else {
                root.read_dir(&rel)?
            })
        })
        .await?;
        let depth = opts.page_size.unwrap_or(LIST_DEPTH).clamp(1, 10_000);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<FileStat>>(depth);
        let dir = path.to_string();
        tokio::task::spawn_blocking(move || {
            for entry in entries {
                let item = match entry {
                    Err(e) => Err(Error::from(e).with_path(dir.clone())),
                    Ok(entry) => {
                        let name = mirage_types::bytestr::decode(
                            std::os::unix::ffi::OsStrExt::as_bytes(entry.file_name().as_os_str()),
                        )
                        .into_owned();
                        // The entry itself (lstat): a symlink is reported as one.
                        match entry.metadata() {
                            Ok(m) => Ok(stat_of(name, &m)),
                            // removed meanwhile
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) => Err(Error::from(e).with_path(dir.clone())),
                        }
                    }
                };
                if tx.blocking_send(item).is_err() {
                    return; // the consumer went away: stop reading the directory
                }
            }
        });
        let s = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Ok(mirage_types::filter_start_after(
            s.boxed(),
            opts.start_after.clone(),
        ))
    }

    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let rel = relative(path)?;
        read::read_with(self.root.clone(), path, rel, opts).await
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        let rel = relative(path)?;
        read::read(self.root.clone(), path, rel).await
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let rel = relative(path)?;
        write::write(self.root.clone(), path, rel, data, write::Mode::Replace).await
    }

    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let rel = relative(path)?;
        write::write(self.root.clone(), path, rel, data, write::Mode::Append).await
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        let rel = relative(path)?;
        if is_root(&rel) {
            return Err(Error::at(ErrorKind::AlreadyExists, path));
        }
        let root = self.root.clone();
        blocking(path, move || Ok(root.create_dir(&rel)?)).await
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        let rel = relative(path)?;
        if is_root(&rel) {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        let root = self.root.clone();
        blocking(path, move || Ok(root.remove_file(&rel)?)).await
    }

    async fn rmdir(&self, path: &str) -> Result<()> {
        let rel = relative(path)?;
        if is_root(&rel) {
            // rmdir(2) gives EBUSY for a mount point; the closest kind we have.
            return Err(Error::at(ErrorKind::PermissionDenied, path));
        }
        let root = self.root.clone();
        blocking(path, move || Ok(root.remove_dir(&rel)?)).await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let from_rel = relative(from)?;
        let to_rel = relative(to)?;
        if is_root(&from_rel) {
            return Err(Error::at(ErrorKind::InvalidInput, from));
        }
        if is_root(&to_rel) {
            // The root is a non-empty directory (it holds `from`).
            let kind = if self.stat(from).await?.is_dir() {
                ErrorKind::DirectoryNotEmpty
            } else {
                ErrorKind::IsADirectory
            };
            return Err(Error::at(kind, to));
        }
        let root = self.root.clone();
        let res = blocking(from, move || {
            let both_dirs = || {
                root.metadata(&from_rel)
                    .map(|m| m.is_dir())
                    .unwrap_or(false)
                    && root.metadata(&to_rel).map(|m| m.is_dir()).unwrap_or(false)
            };
            match root.rename(&from_rel, &root, &to_rel) {
                Ok(()) => Ok(()),
                // Some file systems say EEXIST for a non-empty target directory.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && both_dirs() => {
                    Err(Error::new(ErrorKind::DirectoryNotEmpty))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await;
        res.map_err(|e| match e.kind {
            // Errors about the target name `to`.
            ErrorKind::IsADirectory | ErrorKind::NotADirectory | ErrorKind::DirectoryNotEmpty => {
                e.with_path(to)
            }
            _ => e,
        })
    }

    /// `chmod(2)` confined to the root: cap-std resolves the path relative
    /// to the root (following symlinks only while they stay inside it;
    /// one leading out gives `PermissionDenied`) and changes the bits of
    /// what it resolved.
    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let rel = relative(path)?;
        let root = self.root.clone();
        blocking(path, move || {
            let perm =
                cap_std::fs::Permissions::from_std(std::fs::Permissions::from_mode(mode & 0o7777));
            Ok(root.set_permissions(&rel, perm)?)
        })
        .await
    }

    /// As `touch -m -d`: opens `path` inside the root (following symlinks,
    /// confined) and sets its mtime with `futimens(2)`. A FIFO, socket or
    /// device is `Unsupported` (opening one could block).
    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        let rel = relative(path)?;
        let root = self.root.clone();
        blocking(path, move || {
            // a directory opens read-only too (cap-std's directory
            // handles are O_PATH, which futimens refuses)
            let at: &Path = &rel; // "." for the root
            let m = root.metadata(at)?;
            if !m.is_dir() && !m.is_file() {
                return Err(Error::new(ErrorKind::Unsupported));
            }
            let file = match root.open(at) {
                Ok(f) => f.into_std(),
                // a file the user may write but not read
                Err(_) if m.is_file() => root
                    .open_with(at, cap_std::fs::OpenOptions::new().write(true))?
                    .into_std(),
                Err(e) => return Err(e.into()),
            };
            file.set_times(std::fs::FileTimes::new().set_modified(time))?;
            Ok(())
        })
        .await
    }
}

/// Entries buffered between the directory reader and the consumer when
/// the caller gives no `page_size`.
const LIST_DEPTH: usize = 256;

/// A scratch directory for the behaviour suite, removed when dropped.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn test_config() -> Result<TestConfig> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mirage-disk-suite-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::from(e).with_path(dir.display().to_string()))?;
    Ok(TestConfig {
        config: serde_json::json!({ "root": dir }),
        guard: Box::new(ScratchDir(dir)),
    })
}

fn build(config: &serde_json::Value) -> Result<Arc<dyn Resource>> {
    let cfg: DiskConfig = serde_json::from_value(config.clone()).map_err(|e| {
        Error::msg(
            ErrorKind::InvalidInput,
            format!("disk: invalid config: {e}"),
        )
    })?;
    Ok(Arc::new(DiskResource::from_config(&cfg)?))
}

inventory::submit! {
    ResourceRegistration {
        name: "disk",
        summary: "a host directory, confined to its root (config: {\"root\": PATH})",
        build,
        config_schema: || schemars::schema_for!(DiskConfig),
        test_config,
        main_key: Some("root"),
    }
}
