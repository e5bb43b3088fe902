//! Mirage over FUSE: any program on the host (git, python, a compiler, an
//! editor) sees a [`Workspace`] — its whole tree or one subtree — as a real
//! directory.
//!
//! Every operation goes through the workspace's router, so mount modes,
//! the cache and (later) policy apply exactly as in the shell: a write to
//! a `read` mount fails with `EROFS`, a missing path with `ENOENT`, and
//! every error kind maps to its errno through the one table,
//! [`mirage_types::ErrorKind::errno`].
//!
//! - **Concurrency:** requests are answered on the tokio runtime the mount
//!   was made on, each in its own task: a slow S3 read never holds up an
//!   `ls` of a RAM mount.
//! - **Reads** go through a sequential reader per open file, re-opened
//!   with a range read when the offset jumps: a small read never fetches
//!   the whole object from a resource with range reads.
//! - **Writes** are staged per file (shared by every descriptor open on
//!   it, so a read through another descriptor sees them and two writers
//!   never lose each other's bytes) and committed in one
//!   [`Vfs::write`](mirage_types::Vfs::write) at `flush` (`close(2)`), `fsync` or `release`, so the
//!   resource sees one atomic replace: a writer that dies leaves the old
//!   bytes. `O_TRUNC` is taken atomically (`FUSE_ATOMIC_O_TRUNC`).
//! - **Caches:** the kernel keeps attributes and entries for
//!   [`FuseOptions::ttl`] (for a cached remote mount, the cache time of its
//!   read policy, [`Workspace::cache_ttl`]; an hour for a RAM mount, which
//!   changes only through the workspace), and keeps file pages across
//!   opens. Every change made through the workspace (the shell, the API,
//!   this mount) drops the kernel's cached attributes and pages for that
//!   path: a change made elsewhere than this mount returns only once the
//!   kernel has dropped them ([`Workspace::add_change_hook`]), so it is
//!   seen through FUSE at once.
//! - `rename` across mounts answers `EXDEV`, as the kernel expects between
//!   file systems (`mv` then copies); a hard link answers `EPERM` (as on a
//!   file system without them), special files (fifos, sockets, devices)
//!   and extended attributes `ENOSYS`. The kernel checks permissions
//!   against the mode bits shown (`default_permissions`); every entry is
//!   owned by the user who mounted.
#![deny(missing_docs)]

mod fs;
mod inodes;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fuser::{Config, INodeNo, MountOption, SessionACL};
use mirage_types::{Error, ErrorKind, Result, normalize_path};
use mirage_workspace::Workspace;

/// How a workspace is mounted.
#[derive(Debug, Clone)]
pub struct FuseOptions {
    /// Refuse every change with `EROFS`, whatever the mounts' own modes
    /// (`mirage mount --read-only`); the kernel mount is read-only too.
    pub read_only: bool,
    /// The virtual directory shown as the mount's root: `/` for the whole
    /// workspace, or a mount prefix (`/data`) for one mount.
    pub root: String,
    /// How long the kernel may keep attributes and directory entries
    /// without asking again. Changes made through the workspace drop
    /// them at once anyway; the TTL bounds how stale a change made
    /// outside Mirage (a host edit under a disk mount) can look.
    pub ttl: Duration,
    /// The source name the host's mount table shows (`mirage`).
    pub fs_name: String,
    /// Request threads reading from `/dev/fuse` (answers run on tokio).
    pub threads: usize,
    /// Let other users than the one who mounted see the tree
    /// (`allow_other`; needs `user_allow_other` in `/etc/fuse.conf` for
    /// a user other than root).
    pub allow_other: bool,
}

impl Default for FuseOptions {
    fn default() -> Self {
        FuseOptions {
            read_only: false,
            root: "/".to_string(),
            ttl: Duration::from_secs(1),
            fs_name: "mirage".to_string(),
            threads: 2,
            allow_other: false,
        }
    }
}

/// The kernel cache time of a RAM mount: its contents change only
/// through the workspace, and each change drops what the kernel caches.
const RAM_TTL: Duration = Duration::from_secs(3600);

/// The longest a change made through the workspace waits for the kernel
/// to drop its caches of the path.
const INVALIDATION_WAIT: Duration = Duration::from_secs(2);

/// A mounted workspace. Dropping it (or [`FuseMount::unmount`]) unmounts.
pub struct FuseMount {
    session: Option<fuser::BackgroundSession>,
    mountpoint: PathBuf,
    /// Tells the invalidation thread to end.
    invalidator: Option<Arc<AtomicBool>>,
    /// Removes the workspace's change hook (and with it the thread's feed).
    unhook: Option<Box<dyn FnOnce() + Send>>,
    /// The file system's state, for [`FuseMount::inode_count`].
    shared: std::sync::Weak<fs::Shared>,
}

impl std::fmt::Debug for FuseMount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuseMount")
            .field("mountpoint", &self.mountpoint)
            .finish()
    }
}

impl FuseMount {
    /// The host directory the tree is mounted on.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// How many inode numbers the mount remembers now, the root included:
    /// those the kernel still holds (given back by its `forget` when it
    /// drops them from its cache) and at most
    /// 65,536 more handed out in directory listings. 0 once unmounted.
    pub fn inode_count(&self) -> usize {
        self.shared
            .upgrade()
            .map_or(0, |s| fs::lock_inodes(&s).len())
    }

    /// Unmounts and waits for the request threads to end. Errors: the
    /// kernel refused to unmount (a process still has the tree busy; the
    /// mount is then detached lazily).
    pub fn unmount(mut self) -> Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> Result<()> {
        if let Some(t) = self.invalidator.take() {
            t.store(true, Ordering::Release);
        }
        if let Some(u) = self.unhook.take() {
            u();
        }
        if let Some(s) = self.session.take() {
            s.umount_and_join().map_err(|e| {
                let _ = detach(&self.mountpoint);
                Error::msg(
                    ErrorKind::Io,
                    format!("{}: cannot unmount: {e}", self.mountpoint.display()),
                )
            })?;
        }
        Ok(())
    }
}

impl Drop for FuseMount {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "fuse: unmount at drop failed");
        }
    }
}

/// Whether FUSE can be used here: `/dev/fuse` opens for reading and
/// writing. Errors: why not, in words a user can act on.
pub fn fuse_available() -> std::result::Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map(|_| ())
        .map_err(|e| format!("/dev/fuse cannot be opened ({e}); FUSE needs the fuse kernel module and, here, root"))
}

/// Detects a stale mount left at `mountpoint` by a process that was
/// killed (`stat` fails with `ENOTCONN`, "Transport endpoint is not
/// connected") and detaches it (`umount2(MNT_DETACH)`). Answers whether
/// one was cleaned. Errors: the detach failed.
pub fn clean_stale_mount(mountpoint: &Path) -> Result<bool> {
    // `statfs` always asks the file system's process (the kernel may still
    // answer `stat` from attributes it cached before the process died).
    let stale = match std::ffi::CString::new(mountpoint.as_os_str().as_bytes()) {
        Ok(c) => {
            // SAFETY: `c` is a valid NUL-terminated path; `buf` is a
            // zeroed statfs the call fills.
            let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
            // SAFETY: as above; both outlive the call.
            let rc = unsafe { libc::statfs(c.as_ptr(), &mut buf) };
            rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOTCONN)
        }
        Err(_) => false,
    };
    let stale = stale
        || matches!(std::fs::metadata(mountpoint),
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN));
    if stale {
        detach(mountpoint)?;
    }
    Ok(stale)
}

fn detach(mountpoint: &Path) -> Result<()> {
    let c = std::ffi::CString::new(mountpoint.as_os_str().as_bytes())
        .map_err(|_| Error::at(ErrorKind::InvalidInput, mountpoint.display().to_string()))?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::from(std::io::Error::last_os_error())
            .with_path(mountpoint.display().to_string()))
    }
}

/// Mounts `ws` (its tree below `opts.root`) at `mountpoint`, which must be
/// an existing empty directory; a stale mount left there by a killed
/// process is cleaned first. Must be called inside a tokio runtime (the
/// requests are answered on it) that is multi-threaded, or the caller must
/// not block it while the mount is used.
///
/// Errors: `/dev/fuse` cannot be opened, the mount point is missing or
/// not a directory, `opts.root` is not a directory of the workspace, or
/// the kernel refused the mount.
pub async fn mount(ws: &Workspace, mountpoint: &Path, opts: FuseOptions) -> Result<FuseMount> {
    fuse_available().map_err(|m| Error::msg(ErrorKind::Unsupported, m))?;
    clean_stale_mount(mountpoint)?;
    let mountpoint = std::fs::canonicalize(mountpoint)
        .map_err(|e| Error::from(e).with_path(mountpoint.display().to_string()))?;
    if !mountpoint.is_dir() {
        return Err(Error::at(
            ErrorKind::NotADirectory,
            mountpoint.display().to_string(),
        ));
    }
    let root = normalize_path(&opts.root);
    let vfs = ws.vfs();
    let st = vfs.stat(&root).await?;
    if !st.is_dir() {
        return Err(Error::at(ErrorKind::NotADirectory, root));
    }
    let rt = tokio::runtime::Handle::current();
    let fs = fs::MirageFs::new(
        vfs,
        rt.clone(),
        fs::Settings {
            read_only: opts.read_only,
            ttl: opts.ttl,
            mount_ttls: {
                let mut v: Vec<(String, Duration)> = ws
                    .mounts()
                    .into_iter()
                    .filter_map(|m| {
                        let t = ws.cache_ttl(&m.prefix).or(
                            // RAM changes only through the workspace, and
                            // every such change drops the kernel's caches
                            (m.resource == "ram").then_some(RAM_TTL),
                        )?;
                        Some((m.prefix, t))
                    })
                    .collect();
                v.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
                v
            },
            mountpoint: mountpoint.clone(),
            root: root.clone(),
        },
    );
    // Weak: the thread must not keep the file system (and through it the
    // workspace's router, the feed's sender) alive after unmount.
    let shared = Arc::downgrade(&fs.shared);
    let shared_for_count = shared.clone();
    let mut options = vec![
        MountOption::FSName(opts.fs_name.clone()),
        MountOption::Subtype("mirage".to_string()),
        MountOption::NoDev,
        MountOption::NoSuid,
        // the kernel checks permissions against the mode bits it is shown
        MountOption::DefaultPermissions,
    ];
    options.push(if opts.read_only {
        MountOption::RO
    } else {
        MountOption::RW
    });
    let mut config = Config::default();
    config.mount_options = options;
    config.n_threads = Some(opts.threads.max(1));
    config.clone_fd = opts.threads > 1;
    if opts.allow_other {
        config.acl = SessionACL::All;
    }
    let mp = mountpoint.clone();
    let session = tokio::task::spawn_blocking(move || fuser::spawn_mount(fs, &mp, &config))
        .await
        .map_err(|e| Error::msg(ErrorKind::Io, format!("fuse: mount task failed: {e}")))?
        .map_err(|e| Error::from(e).with_path(mountpoint.display().to_string()))?;
    // Changes made through the workspace drop what the kernel caches. A
    // plain thread (not a runtime task) does the notifications, which
    // write to /dev/fuse and may wait on the kernel. A change made
    // elsewhere (the shell, the API) waits until the kernel has dropped
    // its caches of that path, so it is seen through FUSE at once; one
    // made by this mount's own requests does not wait (the kernel may
    // hold a lock until that very request is answered).
    let notifier = session.notifier();
    type Note = (String, Option<tokio::sync::oneshot::Sender<()>>);
    let (tx, rx) = std::sync::mpsc::channel::<Note>();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("mirage-fuse-inval".to_string())
        .spawn(move || {
            while let Ok((path, ack)) = rx.recv() {
                if stop2.load(Ordering::Acquire) {
                    return;
                }
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let (ino, parent) = {
                    let t = fs::lock_inodes(&shared);
                    let parent_path = match path.rfind('/') {
                        Some(0) | None => "/".to_string(),
                        Some(i) => path[..i].to_string(),
                    };
                    (t.known(&path), t.known(&parent_path))
                };
                drop(shared);
                let name = path.rsplit('/').next().unwrap_or("").to_string();
                if let Some(i) = ino {
                    let _ = notifier.inval_inode(INodeNo(i), 0, 0);
                }
                if let Some(p) = parent {
                    let raw = mirage_types::bytestr::encode(&name).into_owned();
                    let _ = notifier.inval_entry(INodeNo(p), OsStr::from_bytes(&raw));
                    let _ = notifier.inval_inode(INodeNo(p), 0, 0);
                }
                if let Some(a) = ack {
                    let _ = a.send(());
                }
            }
        });
    if let Err(e) = spawned {
        return Err(Error::msg(
            ErrorKind::Io,
            format!("fuse: cannot start the invalidation thread: {e}"),
        ));
    }
    let hook: mirage_workspace::ChangeHook = Arc::new(move |path: &str| {
        if fs::IN_FUSE_REQUEST.try_with(|()| ()).is_ok() {
            let _ = tx.send((path.to_string(), None));
            return None;
        }
        let (ack, done) = tokio::sync::oneshot::channel();
        if tx.send((path.to_string(), Some(ack))).is_err() {
            return None;
        }
        Some(Box::pin(async move {
            // never hold a change up for long, whatever the kernel does
            let _ = tokio::time::timeout(INVALIDATION_WAIT, done).await;
        }))
    });
    let hook_id = ws.add_change_hook(hook);
    let ws_for_unhook = ws.clone();
    let unhook: Box<dyn FnOnce() + Send> =
        Box::new(move || ws_for_unhook.remove_change_hook(hook_id));
    let invalidator = Some(stop);
    Ok(FuseMount {
        session: Some(session),
        mountpoint,
        invalidator,
        unhook: Some(unhook),
        shared: shared_for_count,
    })
}
