//! [`MirageFs`]: the `fuser::Filesystem` over a workspace's router. Every
//! request is answered on the tokio runtime, so a slow read never holds up
//! the others, and every byte goes through [`Vfs`], so mount modes and the
//! cache apply exactly as in the shell.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use fuser::{
    Errno, FileAttr, FileHandle, FileType as FuseType, Filesystem, FopenFlags, Generation, INodeNo,
    InitFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};
use futures::StreamExt;
use mirage_types::{
    ByteRange, ByteSource, ByteStream, Error, ErrorKind, FileStat, FileType, ReadOptions,
    ReadResult, Vfs, bytestr,
};
use tokio::runtime::Handle as Runtime;

use crate::inodes::{Inodes, ROOT_INO};

/// The errno FUSE answers for `e`: the one table is
/// [`ErrorKind::errno`] (`ReadOnly` → `EROFS`, `NotFound` → `ENOENT`,
/// `Unsupported` → `EOPNOTSUPP`, …).
pub(crate) fn errno(e: &Error) -> Errno {
    Errno::from_i32(e.kind.errno())
}

tokio::task_local! {
    /// Set while a FUSE request is answered: a change it makes must not
    /// wait for the kernel to drop its caches (the kernel may hold a lock
    /// until this very request is answered).
    pub(crate) static IN_FUSE_REQUEST: ();
}

/// The longest name a directory entry may have, as Linux's `NAME_MAX`.
const NAME_MAX: usize = 255;

/// The largest write the kernel sends at once (and the read-ahead asked).
const MAX_IO: u32 = 1 << 20;

/// One open file.
struct OpenFile {
    ino: u64,
    /// Opened for writing (`O_WRONLY`/`O_RDWR`).
    write: bool,
    /// `O_APPEND`: every write goes to the end.
    append: bool,
    /// The inode's staged bytes, shared by every descriptor open on it.
    stage: Arc<Stage>,
    /// This descriptor's sequential reader: where it is and what it has
    /// not handed out.
    reader: tokio::sync::Mutex<Option<Reader>>,
}

/// The staged (not yet committed) contents of one inode, shared by every
/// descriptor open on it, as the page cache is on Linux: a write through
/// one descriptor is seen by reads through the others at once, and two
/// writers never overwrite each other's bytes at commit.
struct Stage {
    /// Set while writes are staged and not yet committed; with `size`,
    /// lets `getattr` report the staged size without the lock.
    dirty: AtomicBool,
    size: AtomicU64,
    /// Bumped at every change of the bytes (staged or committed): a
    /// reader opened before it is stale.
    generation: AtomicU64,
    /// The bytes (`None`: not loaded; `O_TRUNC` starts empty).
    data: tokio::sync::Mutex<Option<Vec<u8>>>,
}

struct Reader {
    /// The [`Stage::generation`] the reader was opened at.
    generation: u64,
    pos: u64,
    pending: Bytes,
    rest: Option<ByteStream>,
}

/// One open directory: its entries, taken at `opendir` (so paging with
/// offsets is stable while it changes).
struct OpenDir {
    entries: Vec<(u64, FuseType, Vec<u8>)>,
}

/// Settings of a mounted [`MirageFs`].
pub(crate) struct Settings {
    pub(crate) read_only: bool,
    /// The kernel cache time of a path whose mount has no cache policy.
    pub(crate) ttl: Duration,
    /// Mount prefixes whose cache policy sets the kernel cache time
    /// ([`mirage_workspace::Workspace::cache_ttl`]), longest first.
    pub(crate) mount_ttls: Vec<(String, Duration)>,
    /// Where the tree is mounted on the host (for absolute link targets).
    pub(crate) mountpoint: PathBuf,
    /// The virtual directory shown as the root.
    pub(crate) root: String,
}

/// The shared state behind every request.
pub(crate) struct Shared {
    vfs: Arc<dyn Vfs>,
    pub(crate) inodes: Mutex<Inodes>,
    files: Mutex<HashMap<u64, Arc<OpenFile>>>,
    /// The staged bytes of every inode open now, by inode number.
    stages: Mutex<HashMap<u64, std::sync::Weak<Stage>>>,
    dirs: Mutex<HashMap<u64, OpenDir>>,
    next_fh: AtomicU64,
    settings: Settings,
    uid: u32,
    gid: u32,
}

/// The FUSE filesystem.
pub(crate) struct MirageFs {
    pub(crate) shared: Arc<Shared>,
    rt: Runtime,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn kind_of(t: FileType) -> FuseType {
    match t {
        FileType::Directory => FuseType::Directory,
        FileType::Symlink => FuseType::Symlink,
        FileType::File => FuseType::RegularFile,
    }
}

fn name_str(name: &OsStr) -> String {
    bytestr::decode(name.as_bytes()).into_owned()
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => path[..i].to_string(),
    }
}

impl MirageFs {
    pub(crate) fn new(vfs: Arc<dyn Vfs>, rt: Runtime, settings: Settings) -> Self {
        // SAFETY: geteuid/getegid have no preconditions and cannot fail.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let inodes = Mutex::new(Inodes::new(&settings.root));
        MirageFs {
            shared: Arc::new(Shared {
                vfs,
                inodes,
                files: Mutex::new(HashMap::new()),
                stages: Mutex::new(HashMap::new()),
                dirs: Mutex::new(HashMap::new()),
                next_fh: AtomicU64::new(1),
                settings,
                uid,
                gid,
            }),
            rt,
        }
    }

    /// Commits the staged writes of the open file `fh` and answers
    /// (`flush` at `close(2)`, and `fsync`).
    fn commit_and_reply(&self, fh: FileHandle, reply: ReplyEmpty) {
        self.spawn(move |s| async move {
            let r = match s.file(fh.0) {
                Ok(f) => s.commit(&f).await,
                Err(e) => Err(e),
            };
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
            }
        });
    }

    /// Answers a request with `f` on the shared state: polled once here,
    /// on the FUSE thread, so a request that needs no waiting (most on a
    /// RAM mount) is answered without a hand-off between threads; one
    /// that must wait goes on as a task on the runtime, so a slow read
    /// never holds up the others. Runs inside [`IN_FUSE_REQUEST`].
    fn spawn<F, Fut>(&self, f: F)
    where
        F: FnOnce(Arc<Shared>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let _rt = self.rt.enter();
        let mut fut = Box::pin(IN_FUSE_REQUEST.scope((), f(self.shared.clone())));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if fut.as_mut().poll(&mut cx).is_pending() {
            self.rt.spawn(fut);
        }
    }
}

impl Shared {
    fn path(&self, ino: u64) -> Result<String, Errno> {
        lock(&self.inodes).path(ino).ok_or(Errno::ENOENT)
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<String, Errno> {
        let dir = self.path(parent)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let name = name_str(name);
        if name.contains('/') || name.is_empty() {
            return Err(Errno::EINVAL);
        }
        Ok(join(&dir, &name))
    }

    fn ino(&self, path: &str) -> u64 {
        lock(&self.inodes).ino(path)
    }

    /// Refuses a change when the whole mount is read-only (`--read-only`);
    /// otherwise the router decides, by each mount's mode.
    fn check_write(&self) -> Result<(), Errno> {
        if self.settings.read_only {
            return Err(Errno::EROFS);
        }
        Ok(())
    }

    /// Whether `path`'s mount takes writes (checked at `open` for writing,
    /// so `O_WRONLY` on a read-only mount fails at once, as on Linux).
    fn writable(&self, path: &str) -> Result<(), Errno> {
        self.check_write()?;
        match self.vfs.mount_of(path) {
            Some(m) if m.mode.allows_write() => Ok(()),
            _ => Err(Errno::EROFS),
        }
    }

    fn attr(&self, ino: u64, st: &FileStat) -> FileAttr {
        let mut size = st.size;
        if st.file_type == FileType::File
            && let Some(stage) = lock(&self.stages)
                .get(&ino)
                .and_then(std::sync::Weak::upgrade)
            && stage.dirty.load(Ordering::Acquire)
        {
            size = stage.size.load(Ordering::Acquire);
        }
        let kind = kind_of(st.file_type);
        let perm = st.mode.unwrap_or(match st.file_type {
            FileType::Directory => 0o755,
            FileType::Symlink => 0o777,
            FileType::File => 0o644,
        });
        let mtime = st.modified.unwrap_or(SystemTime::UNIX_EPOCH);
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: mtime,
            mtime,
            ctime: mtime,
            crtime: mtime,
            kind,
            perm: u16::try_from(perm & 0o7777).unwrap_or(0o644),
            nlink: if kind == FuseType::Directory { 2 } else { 1 },
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    /// `lstat` of `path` as a FUSE attribute (FUSE never follows the last
    /// link: the kernel does), for an entry reply: the kernel counts the
    /// inode once more (given back by `forget`).
    async fn entry_attr(&self, path: &str) -> Result<FileAttr, Errno> {
        let st = self.vfs.lstat(path).await.map_err(|e| errno(&e))?;
        let ino = lock(&self.inodes).entry(path);
        Ok(self.attr(ino, &st))
    }

    fn file(&self, fh: u64) -> Result<Arc<OpenFile>, Errno> {
        lock(&self.files).get(&fh).cloned().ok_or(Errno::EBADF)
    }

    /// The shared stage of `ino`, made when the first descriptor opens it.
    fn stage(&self, ino: u64) -> Arc<Stage> {
        let mut stages = lock(&self.stages);
        if let Some(s) = stages.get(&ino).and_then(std::sync::Weak::upgrade) {
            return s;
        }
        let s = Arc::new(Stage {
            dirty: AtomicBool::new(false),
            size: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            data: tokio::sync::Mutex::new(None),
        });
        // a descriptor released while a request still held it leaves a
        // dead entry behind: sweep them now and then
        if stages.len() >= 1024 && stages.len().is_power_of_two() {
            stages.retain(|_, w| w.strong_count() > 0);
        }
        stages.insert(ino, Arc::downgrade(&s));
        s
    }

    /// Before `path` is removed or replaced: when a descriptor is open on
    /// it, its bytes are loaded into the stage, so the descriptor keeps
    /// reading and writing them after the name is gone, as an unlinked
    /// open file on Linux (`tempfile.TemporaryFile`, `mkstemp` + unlink).
    async fn keep_open_bytes(&self, path: &str) {
        let Some(ino) = lock(&self.inodes).known(path) else {
            return;
        };
        let Some(stage) = lock(&self.stages)
            .get(&ino)
            .and_then(std::sync::Weak::upgrade)
        else {
            return;
        };
        let mut data = stage.data.lock().await;
        match self.load_stage(ino, &mut data).await {
            Ok(bytes) => stage.size.store(bytes.len() as u64, Ordering::Release),
            Err(e) => tracing::debug!(path, ?e, "fuse: bytes of an open file not kept"),
        }
    }

    /// The attributes of `ino` when it has no name any more but is still
    /// open (its bytes kept by `keep_open_bytes`), after setting its size
    /// to `size` if asked.
    async fn orphan_attr(&self, ino: u64, size: Option<u64>) -> Option<FileAttr> {
        let stage = lock(&self.stages)
            .get(&ino)
            .and_then(std::sync::Weak::upgrade)?;
        let mut data = stage.data.lock().await;
        let bytes = data.as_mut()?;
        if let Some(n) = size {
            bytes.resize(usize::try_from(n).ok()?, 0);
            stage.generation.fetch_add(1, Ordering::AcqRel);
        }
        let len = bytes.len() as u64;
        stage.size.store(len, Ordering::Release);
        let mut a = self.attr(ino, &FileStat::file("", len));
        a.size = len;
        a.blocks = len.div_ceil(512);
        a.nlink = 0;
        Some(a)
    }

    /// A descriptor on `ino`; with `trunc`, the file's bytes are now none
    /// (staged, committed at close), for every descriptor open on it.
    async fn open_file(&self, ino: u64, write: bool, append: bool, trunc: bool) -> OpenFile {
        let stage = self.stage(ino);
        if trunc {
            let mut data = stage.data.lock().await;
            *data = Some(Vec::new());
            stage.size.store(0, Ordering::Release);
            stage.dirty.store(true, Ordering::Release);
            stage.generation.fetch_add(1, Ordering::AcqRel);
        }
        OpenFile {
            ino,
            write,
            append,
            stage,
            reader: tokio::sync::Mutex::new(None),
        }
    }

    /// Forgets the descriptor `fh`, and its inode's stage once no
    /// descriptor holds it.
    fn remove_file(&self, fh: u64) {
        let f = lock(&self.files).remove(&fh);
        if let Some(f) = f {
            let ino = f.ino;
            drop(f);
            let mut stages = lock(&self.stages);
            if stages.get(&ino).is_some_and(|w| w.strong_count() == 0) {
                stages.remove(&ino);
            }
        }
    }

    fn add_file(&self, f: OpenFile) -> u64 {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        lock(&self.files).insert(fh, Arc::new(f));
        fh
    }

    /// Loads the staged bytes of `ino` (the file's bytes) if not loaded.
    async fn load_stage<'a>(
        &self,
        ino: u64,
        data: &'a mut Option<Vec<u8>>,
    ) -> Result<&'a mut Vec<u8>, Errno> {
        if data.is_none() {
            let path = self.path(ino)?;
            let bytes = match self.vfs.read(&path).await {
                Ok(src) => src.collect().await.map_err(|e| errno(&e))?.to_vec(),
                Err(e) if e.kind == ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(errno(&e)),
            };
            *data = Some(bytes);
        }
        Ok(data.get_or_insert_with(Vec::new))
    }

    /// Writes the staged bytes of `f`'s inode to the resource in one
    /// `write` (atomic there: a failed write leaves the old bytes), if any
    /// are waiting. A file removed meanwhile is not brought back.
    async fn commit(&self, f: &OpenFile) -> Result<(), Errno> {
        self.commit_stage(f.ino, &f.stage).await
    }

    /// [`Shared::commit`] of the stage of `ino`.
    async fn commit_stage(&self, ino: u64, stage: &Stage) -> Result<(), Errno> {
        if !stage.dirty.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut data = stage.data.lock().await;
        if !stage.dirty.load(Ordering::Acquire) {
            return Ok(());
        }
        let Some(path) = lock(&self.inodes).path(ino) else {
            // removed meanwhile: the bytes stay for the descriptors still
            // open on it (see `keep_open_bytes`), and go with the last
            stage.dirty.store(false, Ordering::Release);
            return Ok(());
        };
        let bytes = Bytes::from(data.take().unwrap_or_default());
        let r = self
            .vfs
            .write(&path, ByteSource::Bytes(bytes.clone()))
            .await;
        match r {
            Ok(()) => {
                stage.dirty.store(false, Ordering::Release);
                stage.generation.fetch_add(1, Ordering::AcqRel);
                Ok(())
            }
            Err(e) => {
                // keep the bytes staged: a later fsync or close may retry
                *data = Some(bytes.to_vec());
                Err(errno(&e))
            }
        }
    }

    /// `size` bytes of `f` from `offset`, through its sequential reader
    /// (re-opened with a range read when the offset jumps).
    async fn read_at(&self, f: &OpenFile, offset: u64, size: u32) -> Result<Bytes, Errno> {
        let mut reader = f.reader.lock().await;
        let generation = {
            let data = f.stage.data.lock().await;
            if let Some(stage) = &*data {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(stage.len());
                let end = start.saturating_add(size as usize).min(stage.len());
                return Ok(Bytes::copy_from_slice(&stage[start..end]));
            }
            f.stage.generation.load(Ordering::Acquire)
        };
        if reader
            .as_ref()
            .is_none_or(|r| r.pos != offset || r.generation != generation)
        {
            let path = self.path(f.ino)?;
            let opts = ReadOptions {
                range: Some(ByteRange { offset, len: None }),
                if_none_match: None,
            };
            let source = match self.vfs.read_with(&path, &opts).await {
                Ok(ReadResult::Data { source, .. }) => source,
                Ok(_) => return Err(Errno::EIO),
                Err(e) => return Err(errno(&e)),
            };
            *reader = Some(match source {
                ByteSource::Bytes(b) => Reader {
                    generation,
                    pos: offset,
                    pending: b,
                    rest: None,
                },
                ByteSource::Stream(s) => Reader {
                    generation,
                    pos: offset,
                    pending: Bytes::new(),
                    rest: Some(s),
                },
            });
        }
        let Some(r) = reader.as_mut() else {
            return Err(Errno::EIO);
        };
        let want = size as usize;
        if r.pending.len() >= want {
            let out = r.pending.split_to(want);
            r.pos += want as u64;
            return Ok(out);
        }
        let mut buf = BytesMut::with_capacity(want);
        buf.extend_from_slice(&std::mem::take(&mut r.pending));
        while buf.len() < want {
            let Some(s) = r.rest.as_mut() else { break };
            match s.next().await {
                Some(Ok(mut chunk)) => {
                    let need = want - buf.len();
                    if chunk.len() > need {
                        r.pending = chunk.split_off(need);
                    }
                    buf.extend_from_slice(&chunk);
                }
                Some(Err(e)) => {
                    *reader = None;
                    return Err(errno(&e));
                }
                None => r.rest = None,
            }
        }
        r.pos += buf.len() as u64;
        Ok(buf.freeze())
    }

    /// Sets the size of `path` (`truncate(2)`), on the open file `fh`'s
    /// staged bytes when it is open for writing, else on the resource.
    async fn truncate(
        &self,
        ino: u64,
        path: &str,
        fh: Option<u64>,
        size: u64,
    ) -> Result<(), Errno> {
        let open = fh
            .and_then(|h| self.file(h).ok())
            .map(|f| f.stage.clone())
            .or_else(|| {
                lock(&self.stages)
                    .get(&ino)
                    .and_then(std::sync::Weak::upgrade)
            });
        let new_len = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
        if let Some(stage) = open {
            // open somewhere: the new size is staged with the other writes
            let mut data = stage.data.lock().await;
            let bytes = self.load_stage(ino, &mut data).await?;
            bytes.resize(new_len, 0);
            stage.size.store(size, Ordering::Release);
            stage.dirty.store(true, Ordering::Release);
            stage.generation.fetch_add(1, Ordering::AcqRel);
            drop(data);
            if fh.is_none() {
                // truncate(2) by path: on the resource now
                return self.commit_stage(ino, &stage).await;
            }
            return Ok(());
        }
        let mut data = match self.vfs.read(path).await {
            Ok(src) => src.collect().await.map_err(|e| errno(&e))?.to_vec(),
            Err(e) => return Err(errno(&e)),
        };
        data.resize(new_len, 0);
        self.vfs
            .write(path, ByteSource::Bytes(Bytes::from(data)))
            .await
            .map_err(|e| errno(&e))
    }

    /// A link target as the host should see it: an absolute virtual path
    /// inside the mounted tree becomes the same path under the mount point.
    /// An absolute target that no mount of the workspace holds (a host
    /// path given through FUSE, as `ln -s /etc/hostname`) is left as it is.
    fn host_target(&self, target: &str) -> Vec<u8> {
        let root = &self.settings.root;
        if target.starts_with('/') && self.vfs.mount_of(target).is_some() {
            let rest = if root == "/" {
                Some(target)
            } else if target == root {
                Some("")
            } else {
                target
                    .strip_prefix(root.as_str())
                    .filter(|r| r.starts_with('/'))
            };
            if let Some(rest) = rest {
                let mut out = self.settings.mountpoint.as_os_str().as_bytes().to_vec();
                out.extend_from_slice(&bytestr::encode(rest.trim_end_matches('/')));
                if rest.is_empty() || rest == "/" {
                    return self.settings.mountpoint.as_os_str().as_bytes().to_vec();
                }
                return out;
            }
        }
        bytestr::encode(target).into_owned()
    }

    /// A link target given by the host: an absolute path under the mount
    /// point becomes the virtual path it stands for.
    fn virtual_target(&self, target: &Path) -> String {
        if let Ok(rest) = target.strip_prefix(&self.settings.mountpoint) {
            let rest = bytestr::decode(rest.as_os_str().as_bytes()).into_owned();
            return if rest.is_empty() {
                self.settings.root.clone()
            } else {
                join(&self.settings.root, &rest)
            };
        }
        bytestr::decode(target.as_os_str().as_bytes()).into_owned()
    }

    /// Applies a new mode, ignoring a resource that keeps none.
    async fn apply_mode(&self, path: &str, mode: u32, default: u32) {
        if mode & 0o7777 != default
            && let Err(e) = self.vfs.chmod(path, mode & 0o7777).await
            && e.kind != ErrorKind::Unsupported
        {
            tracing::debug!(path, error = %e, "fuse: mode not applied");
        }
    }
}

/// How long the kernel may keep what it learns of inode `ino`: the cache
/// time of its mount's policy, else [`Settings::ttl`].
fn ttl_of(s: &Shared, ino: u64) -> Duration {
    if s.settings.mount_ttls.is_empty() {
        return s.settings.ttl;
    }
    let Some(path) = lock(&s.inodes).path(ino) else {
        return s.settings.ttl;
    };
    s.settings
        .mount_ttls
        .iter()
        .find(|(p, _)| p == "/" || path == *p || path.starts_with(&format!("{p}/")))
        .map_or(s.settings.ttl, |(_, t)| *t)
}

impl Filesystem for MirageFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let wanted = InitFlags::FUSE_ATOMIC_O_TRUNC
            | InitFlags::FUSE_BIG_WRITES
            | InitFlags::FUSE_PARALLEL_DIROPS
            | InitFlags::FUSE_MAX_PAGES
            | InitFlags::FUSE_AUTO_INVAL_DATA;
        if let Err(missing) = config.add_capabilities(wanted) {
            tracing::debug!(?missing, "fuse: kernel lacks some capabilities");
            let _ = config.add_capabilities(wanted - missing);
        }
        let _ = config.set_max_write(MAX_IO);
        let _ = config.set_max_readahead(MAX_IO);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let name = name.to_os_string();
        self.spawn(move |s| async move {
            let r = async {
                let path = s.child(parent.0, &name)?;
                s.entry_attr(&path).await
            }
            .await;
            match r {
                Ok(a) => reply.entry(&ttl_of(&s, a.ino.0), &a, Generation(0)),
                Err(e) => reply.error(e),
            }
        });
    }

    // (fuser's default `batch_forget` calls this for each inode: its
    // `ForgetOne` is not public, so it cannot be taken over.)
    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        lock(&self.shared.inodes).forget(ino.0, nlookup);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        self.spawn(move |s| async move {
            let r = async {
                let path = match s.path(ino.0) {
                    Ok(p) => p,
                    // an unlinked file still open (`fstat`)
                    Err(e) => return s.orphan_attr(ino.0, None).await.ok_or(e),
                };
                let st = s.vfs.lstat(&path).await.map_err(|e| errno(&e))?;
                Ok::<_, Errno>(s.attr(ino.0, &st))
            }
            .await;
            match r {
                Ok(a) => reply.attr(&ttl_of(&s, a.ino.0), &a),
                Err(e) => reply.error(e),
            }
        });
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        self.spawn(move |s| async move {
            let r = async {
                let path = match s.path(ino.0) {
                    Ok(p) => p,
                    // an unlinked file still open (`ftruncate`, `fchmod`)
                    Err(e) => return s.orphan_attr(ino.0, size).await.ok_or(e),
                };
                // Any change asked (even one that changes nothing, as a
                // chown to the same owner or an atime-only touch, which
                // never reach the router) fails with EROFS on a read-only
                // mount, as on Linux.
                let changes = mode.is_some()
                    || size.is_some()
                    || mtime.is_some()
                    || atime.is_some()
                    || uid.is_some()
                    || gid.is_some();
                if changes {
                    s.writable(&path)?;
                }
                if uid.is_some_and(|u| u != s.uid) || gid.is_some_and(|g| g != s.gid) {
                    return Err(Errno::EPERM);
                }
                if let Some(size) = size {
                    s.truncate(ino.0, &path, fh.map(|h| h.0), size).await?;
                }
                if let Some(mode) = mode {
                    s.vfs
                        .chmod(&path, mode & 0o7777)
                        .await
                        .map_err(|e| errno(&e))?;
                }
                if let Some(t) = mtime {
                    let t = match t {
                        TimeOrNow::SpecificTime(t) => t,
                        TimeOrNow::Now => SystemTime::now(),
                    };
                    match s.vfs.set_modified(&path, t).await {
                        // a resource that keeps no times: `touch` still works
                        Err(e) if e.kind == ErrorKind::Unsupported => {}
                        r => r.map_err(|e| errno(&e))?,
                    }
                }
                let st = s.vfs.lstat(&path).await.map_err(|e| errno(&e))?;
                Ok(s.attr(ino.0, &st))
            }
            .await;
            match r {
                Ok(a) => reply.attr(&ttl_of(&s, a.ino.0), &a),
                Err(e) => reply.error(e),
            }
        });
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        self.spawn(move |s| async move {
            let r = async {
                let path = s.path(ino.0)?;
                let t = s.vfs.readlink(&path).await.map_err(|e| errno(&e))?;
                Ok::<_, Errno>(s.host_target(&t))
            }
            .await;
            match r {
                Ok(t) => reply.data(&t),
                Err(e) => reply.error(e),
            }
        });
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let name = name.to_os_string();
        self.spawn(move |s| async move {
            let r = async {
                s.check_write()?;
                let path = s.child(parent.0, &name)?;
                s.vfs.mkdir(&path, false).await.map_err(|e| errno(&e))?;
                s.apply_mode(&path, mode & !umask, 0o755).await;
                s.entry_attr(&path).await
            }
            .await;
            match r {
                Ok(a) => reply.entry(&ttl_of(&s, a.ino.0), &a, Generation(0)),
                Err(e) => reply.error(e),
            }
        });
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let name = name.to_os_string();
        self.spawn(move |s| async move {
            let r = async {
                s.check_write()?;
                let path = s.child(parent.0, &name)?;
                s.keep_open_bytes(&path).await;
                s.vfs.unlink(&path).await.map_err(|e| errno(&e))?;
                lock(&s.inodes).remove(&path);
                Ok::<_, Errno>(())
            }
            .await;
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
            }
        });
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let name = name.to_os_string();
        self.spawn(move |s| async move {
            let r = async {
                s.check_write()?;
                let path = s.child(parent.0, &name)?;
                s.vfs.rmdir(&path).await.map_err(|e| errno(&e))?;
                lock(&s.inodes).remove(&path);
                Ok::<_, Errno>(())
            }
            .await;
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
            }
        });
    }

    fn symlink(
        &self,
        _req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let name = link_name.to_os_string();
        let target = target.to_path_buf();
        self.spawn(move |s| async move {
            let r = async {
                s.check_write()?;
                let path = s.child(parent.0, &name)?;
                let t = s.virtual_target(&target);
                s.vfs.symlink(&t, &path).await.map_err(|e| errno(&e))?;
                s.entry_attr(&path).await
            }
            .await;
            match r {
                Ok(a) => reply.entry(&ttl_of(&s, a.ino.0), &a, Generation(0)),
                Err(e) => reply.error(e),
            }
        });
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let (name, newname) = (name.to_os_string(), newname.to_os_string());
        self.spawn(move |s| async move {
            let r = async {
                s.check_write()?;
                let from = s.child(parent.0, &name)?;
                let to = s.child(newparent.0, &newname)?;
                let (mf, mt) = (s.vfs.mount_of(&from), s.vfs.mount_of(&to));
                if mf.map(|m| m.prefix) != mt.map(|m| m.prefix) {
                    // the kernel's answer across file systems: `mv` copies
                    return Err(Errno::EXDEV);
                }
                if flags.contains(RenameFlags::RENAME_EXCHANGE) {
                    return Err(Errno::EINVAL);
                }
                if flags.contains(RenameFlags::RENAME_NOREPLACE) && s.vfs.lstat(&to).await.is_ok() {
                    return Err(Errno::EEXIST);
                }
                // staged writes land before the name moves
                let open = {
                    let ino = lock(&s.inodes).known(&from);
                    ino.and_then(|i| {
                        lock(&s.stages)
                            .get(&i)
                            .and_then(std::sync::Weak::upgrade)
                            .map(|st| (i, st))
                    })
                };
                if let Some((i, stage)) = open {
                    s.commit_stage(i, &stage).await?;
                }
                // a file open under the name replaced keeps its bytes
                s.keep_open_bytes(&to).await;
                s.vfs.rename(&from, &to).await.map_err(|e| errno(&e))?;
                lock(&s.inodes).rename(&from, &to);
                Ok::<_, Errno>(())
            }
            .await;
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
            }
        });
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        self.spawn(move |s| async move {
            let r = async {
                let path = s.path(ino.0)?;
                let acc = flags.0 & libc::O_ACCMODE;
                let write = acc == libc::O_WRONLY || acc == libc::O_RDWR;
                let trunc = flags.0 & libc::O_TRUNC != 0;
                if write || trunc {
                    s.writable(&path)?;
                }
                let st = s.vfs.stat(&path).await.map_err(|e| errno(&e))?;
                if st.is_dir() && write {
                    return Err(Errno::EISDIR);
                }
                let f = s
                    .open_file(ino.0, write, flags.0 & libc::O_APPEND != 0, trunc)
                    .await;
                Ok::<_, Errno>((s.add_file(f), write || trunc))
            }
            .await;
            match r {
                // The kernel keeps the file's pages across opens: every
                // change through the workspace drops them (the change
                // hook), and one made elsewhere shows in the attributes
                // (FUSE_AUTO_INVAL_DATA) once their cache time ends. A
                // descriptor that cannot write has nothing to flush at
                // close(2): the kernel skips that round trip.
                Ok((fh, writes)) => {
                    let mut flags = FopenFlags::FOPEN_KEEP_CACHE;
                    if !writes {
                        flags |= FopenFlags::FOPEN_NOFLUSH;
                    }
                    reply.opened(FileHandle(fh), flags);
                }
                Err(e) => reply.error(e),
            }
        });
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let name = name.to_os_string();
        self.spawn(move |s| async move {
            let r = async {
                let path = s.child(parent.0, &name)?;
                s.writable(&path)?;
                let exists = s.vfs.lstat(&path).await.is_ok();
                if exists && flags & libc::O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                let trunc = !exists || flags & libc::O_TRUNC != 0;
                if !exists {
                    s.vfs
                        .write(&path, ByteSource::Bytes(Bytes::new()))
                        .await
                        .map_err(|e| errno(&e))?;
                    s.apply_mode(&path, mode & !umask, 0o644).await;
                }
                let attr = s.entry_attr(&path).await?;
                let acc = flags & libc::O_ACCMODE;
                // a new file is empty on the resource already
                let f = s
                    .open_file(
                        attr.ino.0,
                        acc == libc::O_WRONLY || acc == libc::O_RDWR,
                        flags & libc::O_APPEND != 0,
                        exists && trunc,
                    )
                    .await;
                Ok::<_, Errno>((attr, s.add_file(f)))
            }
            .await;
            match r {
                Ok((a, fh)) => reply.created(
                    &ttl_of(&s, a.ino.0),
                    &a,
                    Generation(0),
                    FileHandle(fh),
                    FopenFlags::empty(),
                ),
                Err(e) => reply.error(e),
            }
        });
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.spawn(move |s| async move {
            let r = async {
                let f = s.file(fh.0)?;
                s.read_at(&f, offset, size).await
            }
            .await;
            match r {
                Ok(b) => reply.data(&b),
                Err(e) => reply.error(e),
            }
        });
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let data = data.to_vec();
        self.spawn(move |s| async move {
            let r = async {
                let f = s.file(fh.0)?;
                if !f.write {
                    return Err(Errno::EBADF);
                }
                let mut staged = f.stage.data.lock().await;
                let stage = s.load_stage(f.ino, &mut staged).await?;
                let at = if f.append {
                    stage.len()
                } else {
                    usize::try_from(offset).map_err(|_| Errno::EFBIG)?
                };
                let end = at.checked_add(data.len()).ok_or(Errno::EFBIG)?;
                if stage.len() < end {
                    stage.resize(end, 0);
                }
                stage[at..end].copy_from_slice(&data);
                let len = stage.len() as u64;
                f.stage.size.store(len, Ordering::Release);
                f.stage.dirty.store(true, Ordering::Release);
                f.stage.generation.fetch_add(1, Ordering::AcqRel);
                u32::try_from(data.len()).map_err(|_| Errno::EFBIG)
            }
            .await;
            match r {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(e),
            }
        });
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        self.commit_and_reply(fh, reply);
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.spawn(move |s| async move {
            let f = lock(&s.files).get(&fh.0).cloned();
            let r = match f {
                Some(f) => s.commit(&f).await,
                None => Ok(()),
            };
            s.remove_file(fh.0);
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
            }
        });
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.commit_and_reply(fh, reply);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        self.spawn(move |s| async move {
            let r = async {
                let path = s.path(ino.0)?;
                let list = s.vfs.readdir(&path).await.map_err(|e| errno(&e))?;
                let parent_ino = if ino.0 == ROOT_INO {
                    ROOT_INO
                } else {
                    s.ino(&parent_of(&path))
                };
                let mut entries = Vec::with_capacity(list.len() + 2);
                entries.push((ino.0, FuseType::Directory, b".".to_vec()));
                entries.push((parent_ino, FuseType::Directory, b"..".to_vec()));
                {
                    let mut inodes = lock(&s.inodes);
                    for e in list {
                        let child = inodes.ino(&join(&path, &e.name));
                        entries.push((
                            child,
                            kind_of(e.file_type),
                            bytestr::encode(&e.name).into_owned(),
                        ));
                    }
                }
                let fh = s.next_fh.fetch_add(1, Ordering::Relaxed);
                lock(&s.dirs).insert(fh, OpenDir { entries });
                Ok::<_, Errno>(fh)
            }
            .await;
            match r {
                // The kernel may keep the listing (FOPEN_CACHE_DIR) until
                // the directory changes: every change through the
                // workspace drops it (the change hook invalidates the
                // parent's inode), and one made elsewhere shows in its
                // attributes once their cache time ends.
                Ok(fh) => reply.opened(
                    FileHandle(fh),
                    FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_CACHE_DIR,
                ),
                Err(e) => reply.error(e),
            }
        });
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let dirs = lock(&self.shared.dirs);
        let Some(d) = dirs.get(&fh.0) else {
            reply.error(Errno::EBADF);
            return;
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, (ino, kind, name)) in d.entries.iter().enumerate().skip(start) {
            if reply.add(
                INodeNo(*ino),
                (i + 1) as u64,
                *kind,
                OsStr::from_bytes(name),
            ) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        lock(&self.shared.dirs).remove(&fh.0);
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // No resource reports its free space: a large, honest "plenty".
        const BLOCKS: u64 = 1 << 30;
        reply.statfs(BLOCKS, BLOCKS, BLOCKS, 1 << 24, 1 << 24, 4096, 255, 4096);
    }
}

/// The inode table of a mounted filesystem (for the invalidation task).
pub(crate) fn lock_inodes(s: &Shared) -> MutexGuard<'_, Inodes> {
    lock(&s.inodes)
}
