//! The VFS router: the one door for bytes. It resolves a virtual path to a
//! mount by longest prefix, enforces the mount mode on every change, and
//! calls the resource with the resource path. Nothing else calls a resource.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use futures::future::BoxFuture;
use mirage_ops::Resource;
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, FileType, ListChildren, ListOptions,
    MAX_SYMLINK_HOPS, MountInfo, MountMode, ReadOptions, ReadResult, Result, Vfs, basename,
    normalize_path, strip_mount_prefix,
};

/// One mount: a resource attached at a prefix with a mode.
///
/// The resource is private to this crate: outside code reaches it only
/// through the [`Router`]'s [`Vfs`] methods, which check the mode first.
#[derive(Clone)]
pub struct Mount {
    /// The normalised prefix (`/data`, or `/`).
    pub prefix: String,
    /// The resource (crate-private: the one door).
    pub(crate) resource: Arc<dyn Resource>,
    /// The mode.
    pub mode: MountMode,
}

impl Mount {
    /// A mount of `resource` at `prefix` (normalised by [`Router::new`])
    /// with `mode`.
    pub fn new(prefix: &str, resource: Arc<dyn Resource>, mode: MountMode) -> Self {
        Mount {
            prefix: prefix.to_string(),
            resource,
            mode,
        }
    }

    /// The registered name of the mounted resource (`ram`, `disk`).
    pub fn resource_name(&self) -> &'static str {
        self.resource.name()
    }
}

/// The mount table and router. Implements [`Vfs`].
///
/// Its [`Vfs`] methods are the only way in from outside this crate: the
/// mount lookup and the mounted resources are crate-private, so no caller
/// can reach a resource without the mode check.
///
/// ```compile_fail
/// let r = mirage_workspace::Router::new(Vec::new()).unwrap();
/// let _ = r.resolve("/x"); // private: go through `Vfs`
/// ```
pub struct Router {
    /// Mounts, longest prefix first.
    mounts: Vec<Mount>,
    /// Every change that went through, as its virtual path ([`Router::changes`]).
    changes: tokio::sync::broadcast::Sender<String>,
    /// Listeners the change waits for ([`Router::add_change_hook`]).
    hooks: std::sync::RwLock<Vec<(u64, ChangeHook)>>,
    next_hook: std::sync::atomic::AtomicU64,
}

/// A listener of changes that the change itself waits for: called with the
/// virtual path after each change, before the call that made it returns;
/// the future it may answer is awaited (a FUSE mount answers one that ends
/// once the kernel has dropped what it cached of that path, so a write made
/// through the shell is seen through FUSE at once). Must be cheap, and
/// must answer `None` where waiting could deadlock (a FUSE mount's own
/// requests).
pub type ChangeHook = Arc<dyn Fn(&str) -> Option<BoxFuture<'static, ()>> + Send + Sync>;

impl Router {
    /// A router over `mounts` (any order). Errors with `AlreadyExists` if a
    /// prefix is mounted twice.
    pub fn new(mut mounts: Vec<Mount>) -> Result<Self> {
        for m in &mut mounts {
            m.prefix = normalize_path(&m.prefix);
        }
        mounts.sort_by(|a, b| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then(a.prefix.cmp(&b.prefix))
        });
        for w in mounts.windows(2) {
            if w[0].prefix == w[1].prefix {
                return Err(Error::msg(
                    ErrorKind::AlreadyExists,
                    format!("{}: mounted twice", w[0].prefix),
                ));
            }
        }
        let (changes, _) = tokio::sync::broadcast::channel(CHANGE_FEED_DEPTH);
        Ok(Router {
            mounts,
            changes,
            hooks: std::sync::RwLock::new(Vec::new()),
            next_hook: std::sync::atomic::AtomicU64::new(1),
        })
    }

    /// A feed of the virtual paths that changed through this router: after
    /// every successful write, append, mkdir, unlink, rmdir, symlink,
    /// chmod and time change, the path (the path the change really
    /// landed on, links followed); after a rename, both paths. A FUSE
    /// mount uses it to drop the kernel's cached attributes and pages at
    /// once. A receiver that falls more than 4,096 changes behind gets
    /// `Lagged` and should drop everything it caches. Costs nothing while
    /// nobody listens.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    /// Adds a listener every change waits for ([`ChangeHook`]); answers
    /// its id for [`Router::remove_change_hook`].
    pub fn add_change_hook(&self, hook: ChangeHook) -> u64 {
        let id = self
            .next_hook
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.hooks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((id, hook));
        id
    }

    /// Removes the listener `id` (a no-op when it is gone already).
    pub fn remove_change_hook(&self, id: u64) {
        self.hooks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(i, _)| *i != id);
    }

    /// Tells the listeners of [`Router::changes`] and the change hooks
    /// that `path` changed, and waits for the hooks.
    async fn changed(&self, path: &str) {
        if self.changes.receiver_count() > 0 {
            let _ = self.changes.send(path.to_string());
        }
        let waits: Vec<BoxFuture<'static, ()>> = {
            let hooks = self
                .hooks
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if hooks.is_empty() {
                return;
            }
            hooks.iter().filter_map(|(_, h)| h(path)).collect()
        };
        for w in waits {
            w.await;
        }
    }

    /// Runs `r`'s change and, when it succeeded, reports `path` changed.
    async fn report<T>(&self, path: &str, r: Result<T>) -> Result<T> {
        if r.is_ok() {
            self.changed(path).await;
        }
        r
    }

    /// The mount owning `path` (longest prefix) and the resource path.
    /// Crate-private: a caller with the mount could skip the mode check.
    pub(crate) fn resolve(&self, path: &str) -> Option<(&Mount, String)> {
        let path = normalize_path(path);
        self.mounts
            .iter()
            .find(|m| {
                m.prefix == "/" || path == m.prefix || path.starts_with(&format!("{}/", m.prefix))
            })
            .map(|m| (m, strip_mount_prefix(&path, &m.prefix)))
    }

    /// The mounts, longest prefix first. Crate-private, as [`Router::resolve`].
    #[allow(dead_code)]
    pub(crate) fn mount_list(&self) -> &[Mount] {
        &self.mounts
    }

    /// Names of mount points directly under `dir` that are not `dir` itself.
    fn child_mounts(&self, dir: &str) -> Vec<String> {
        let dir = normalize_path(dir);
        let base = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let mut out: Vec<String> = self
            .mounts
            .iter()
            .filter(|m| m.prefix != dir && m.prefix.starts_with(&base))
            .filter_map(|m| m.prefix[base.len()..].split('/').next().map(str::to_string))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `path` with every symlink whose target is an absolute virtual path
    /// followed ([`Resource::link_redirect`]; the last component only with
    /// `follow_last`), so the call goes to the mount where the path really
    /// is, and that mount's mode applies: a link in a writable mount never
    /// opens a read-only one for writing. Links with relative targets stay
    /// in their mount, which follows them itself. Errors: `TooManyLinks`
    /// after [`MAX_SYMLINK_HOPS`] redirects, as Linux's `ELOOP`.
    fn locate(&self, path: &str, follow_last: bool) -> Result<String> {
        let mut p = normalize_path(path);
        for _ in 0..=MAX_SYMLINK_HOPS {
            let Some((m, rel)) = self.resolve(&p) else {
                return Ok(p);
            };
            match m.resource.link_redirect(&rel, follow_last) {
                Ok(None) => return Ok(p),
                Ok(Some(v)) => p = normalize_path(&v),
                Err(e) => return Err(at(e, path)),
            }
        }
        Err(Error::at(ErrorKind::TooManyLinks, path))
    }

    fn writable(&self, path: &str) -> Result<(&Mount, String)> {
        match self.resolve(path) {
            Some((m, rel)) if m.mode.allows_write() => Ok((m, rel)),
            Some(_) => Err(Error::at(ErrorKind::ReadOnly, path)),
            None => Err(Error::at(
                if self.is_virtual_dir(path) {
                    ErrorKind::ReadOnly
                } else {
                    ErrorKind::NotFound
                },
                path,
            )),
        }
    }

    fn is_virtual_dir(&self, path: &str) -> bool {
        let p = normalize_path(path);
        p == "/" || !self.child_mounts(&p).is_empty()
    }

    /// Copies the tree at `from` to `to` (a `rename` across mounts). A
    /// symlink is copied as a link when the destination keeps links;
    /// otherwise the file it points to is copied (a link to a directory is
    /// refused with `Unsupported`, so no loop can make the copy endless).
    /// Links are never descended into. Files and directories keep their
    /// mode bits (as GNU `mv` across file systems) where the destination
    /// keeps them.
    fn copy_tree<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let st = self.lstat(from).await?;
            match st.file_type {
                FileType::Directory => {
                    self.mkdir(to, true).await?;
                    for e in self.readdir(from).await? {
                        let f = format!("{}/{}", from.trim_end_matches('/'), e.name);
                        let t = format!("{}/{}", to.trim_end_matches('/'), e.name);
                        self.copy_tree(&f, &t).await?;
                    }
                    self.copy_mode(&st, to).await
                }
                FileType::Symlink => {
                    let target = self.readlink(from).await?;
                    match self.symlink(&target, to).await {
                        Err(e) if e.kind == ErrorKind::Unsupported => {
                            if self.stat(from).await?.is_dir() {
                                return Err(Error::msg(
                                    ErrorKind::Unsupported,
                                    format!(
                                        "{from}: cannot move a symbolic link to a directory to a mount without links"
                                    ),
                                ));
                            }
                            let data = self.read(from).await?;
                            self.write(to, data).await
                        }
                        r => r,
                    }
                }
                FileType::File => {
                    let data = self.read(from).await?;
                    self.write(to, data).await?;
                    self.copy_mode(&st, to).await
                }
            }
        })
    }

    /// Gives `to` the mode bits of `st` (a no-op where the destination
    /// keeps none, or where `st` has none).
    async fn copy_mode(&self, st: &FileStat, to: &str) -> Result<()> {
        let Some(mode) = st.mode else {
            return Ok(());
        };
        match self.chmod(to, mode).await {
            Err(e) if e.kind == ErrorKind::Unsupported => Ok(()),
            r => r,
        }
    }

    /// Removes the tree at `path`; symlinks are unlinked, never followed.
    fn remove_tree<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let st = self.lstat(path).await?;
            if st.is_dir() {
                for e in self.readdir(path).await? {
                    self.remove_tree(&format!("{}/{}", path.trim_end_matches('/'), e.name))
                        .await?;
                }
                self.rmdir(path).await
            } else {
                self.unlink(path).await
            }
        })
    }
}

impl Router {
    /// `stat` (`follow`) or `lstat` (not `follow`) of `path`: the mount's
    /// answer, with a mount root named after its mount point; a virtual
    /// directory (`/`, or a parent of mount points) the mount does not hold
    /// is a directory.
    async fn stat_with(&self, path: &str, follow: bool) -> Result<FileStat> {
        let asked = normalize_path(path);
        let path = self.locate(&asked, follow)?;
        match self.resolve(&path) {
            Some((m, rel)) => {
                let r = if follow {
                    m.resource.stat(&rel).await
                } else {
                    m.resource.lstat(&rel).await
                };
                match r {
                    Ok(mut s) => {
                        if rel == "/" || path != asked {
                            s.name = basename(&asked);
                        }
                        Ok(s)
                    }
                    Err(e) if e.kind == ErrorKind::NotFound && self.is_virtual_dir(&path) => {
                        Ok(FileStat::dir(basename(&path)))
                    }
                    Err(e) => Err(at(e, &path)),
                }
            }
            None if self.is_virtual_dir(&path) => Ok(FileStat::dir(basename(&path))),
            None => Err(Error::not_found(path)),
        }
    }
}

/// How many changes [`Router::changes`] keeps for a slow listener.
const CHANGE_FEED_DEPTH: usize = 4096;

fn at(e: Error, path: &str) -> Error {
    e.with_path(path)
}

/// An error from a resource with a resource path made virtual (the mount
/// prefix put in front).
fn to_virtual(e: Error, prefix: &str) -> Error {
    match e.path.clone() {
        Some(p) if prefix != "/" => {
            e.with_path(format!("{prefix}{}", if p == "/" { "" } else { &p }))
        }
        _ => e,
    }
}

impl Router {
    /// The direct children of `path` as a stream: the resource's entries
    /// (none for a virtual directory), then the mount points below `path`
    /// that the resource did not list (kept small: only those names are
    /// remembered).
    async fn list_dir<'a>(&'a self, path: String, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let flat = ListOptions {
            recursive: false,
            ..opts.clone()
        };
        let entries: EntryStream<'a> = match self.resolve(&path) {
            Some((m, rel)) => match mirage_ops::list(m.resource.as_ref(), &rel, &flat).await {
                Ok(s) => {
                    let p = path.clone();
                    s.map(move |r| r.map_err(|e| at(e, &p))).boxed()
                }
                Err(e) if e.kind == ErrorKind::NotFound && self.is_virtual_dir(&path) => {
                    futures::stream::empty().boxed()
                }
                Err(e) => return Err(at(e, &path)),
            },
            None if self.is_virtual_dir(&path) => futures::stream::empty().boxed(),
            None => return Err(Error::not_found(path)),
        };
        let mounts = self.child_mounts(&path);
        if mounts.is_empty() {
            return Ok(entries);
        }
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen_w = seen.clone();
        let names = mounts.clone();
        let entries = entries.inspect(move |r| {
            if let Ok(e) = r
                && names.contains(&e.name)
                && let Ok(mut g) = seen_w.lock()
            {
                g.push(e.name.clone());
            }
        });
        let after = opts.start_after.clone();
        let rest = futures::stream::once(async move {
            let seen = seen.lock().map(|g| g.clone()).unwrap_or_default();
            let extra: Vec<Result<FileStat>> = mounts
                .into_iter()
                .filter(|n| !seen.contains(n))
                .filter(|n| after.as_ref().is_none_or(|a| n.as_str() > a.as_str()))
                .map(|n| Ok(FileStat::dir(n)))
                .collect();
            futures::stream::iter(extra)
        })
        .flatten();
        Ok(entries.chain(rest).boxed())
    }
}

#[async_trait]
impl Vfs for Router {
    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.stat_with(path, true).await
    }

    async fn lstat(&self, path: &str) -> Result<FileStat> {
        self.stat_with(path, false).await
    }

    async fn readlink(&self, path: &str) -> Result<String> {
        let path = self.locate(path, false)?;
        match self.resolve(&path) {
            Some((_, rel)) if rel == "/" => Err(Error::at(ErrorKind::InvalidInput, path)),
            Some((m, rel)) => m.resource.readlink(&rel).await.map_err(|e| at(e, &path)),
            None if self.is_virtual_dir(&path) => Err(Error::at(ErrorKind::InvalidInput, path)),
            None => Err(Error::not_found(path)),
        }
    }

    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        let path = self.locate(path, false)?;
        if self.is_virtual_dir(&path) || self.mounts.iter().any(|m| m.prefix == path) {
            return Err(Error::at(ErrorKind::AlreadyExists, path));
        }
        let (m, rel) = self.writable(&path)?;
        let r = m
            .resource
            .symlink(target, &rel)
            .await
            .map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn realpath(&self, path: &str) -> Result<String> {
        let path = self.locate(path, true)?;
        match self.resolve(&path) {
            Some((m, rel)) => match m.resource.realpath(&rel).await {
                Ok(r) if r == "/" || r.is_empty() => Ok(m.prefix.clone()),
                Ok(r) if m.prefix == "/" => Ok(normalize_path(&r)),
                Ok(r) => Ok(normalize_path(&format!(
                    "{}/{}",
                    m.prefix,
                    r.trim_start_matches('/')
                ))),
                Err(e) if e.kind == ErrorKind::NotFound && self.is_virtual_dir(&path) => Ok(path),
                Err(e) => Err(at(e, &path)),
            },
            None if self.is_virtual_dir(&path) => Ok(path),
            None => Err(Error::not_found(path)),
        }
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        let path = self.locate(path, true)?;
        let mut entries = match self.resolve(&path) {
            Some((m, rel)) => match m.resource.readdir(&rel).await {
                Ok(v) => v,
                Err(e) if e.kind == ErrorKind::NotFound && self.is_virtual_dir(&path) => Vec::new(),
                Err(e) => return Err(at(e, &path)),
            },
            None if self.is_virtual_dir(&path) => Vec::new(),
            None => return Err(Error::not_found(path)),
        };
        for name in self.child_mounts(&path) {
            if !entries.iter().any(|e| e.name == name) {
                entries.push(FileStat::dir(name));
            }
        }
        entries.sort_by(|a, b| mirage_types::bytestr::cmp(&a.name, &b.name));
        Ok(entries)
    }

    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let path = self.locate(path, true)?;
        if !opts.recursive {
            return self.list_dir(path, opts).await;
        }
        if let Some((m, rel)) = self.resolve(&path)
            && m.resource.capability().recursive_list
            && self.child_mounts(&path).is_empty()
        {
            // Natively, when no other mount lies below.
            let s = mirage_ops::list(m.resource.as_ref(), &rel, opts)
                .await
                .map_err(|e| at(e, &path))?;
            let prefix = m.prefix.clone();
            return Ok(s
                .map(move |r| r.map_err(|e| to_virtual(e, &prefix)))
                .boxed());
        }
        // Walk with non-recursive listings through the router, so the walk
        // goes into the mounts below `path`.
        let flat = ListOptions {
            page_size: opts.page_size,
            ..ListOptions::default()
        };
        let root = self.list_dir(path.clone(), &flat).await?;
        let lister: ListChildren<'a> = Box::new(move |p: String| {
            let flat = flat.clone();
            Box::pin(async move { self.list_dir(p, &flat).await })
        });
        Ok(mirage_types::walk(&path, opts, root, lister))
    }

    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        // a cooperative point: a walk over many in-memory files (`grep -r`)
        // lets a cancelled line stop and other tasks run between files
        tokio::task::yield_now().await;
        let path = self.locate(path, true)?;
        match self.resolve(&path) {
            Some((m, rel)) => match m.resource.read_with(&rel, opts).await {
                // A directory made by mount points below it.
                Err(e) if e.kind == ErrorKind::NotFound && self.is_virtual_dir(&path) => {
                    Err(Error::at(ErrorKind::IsADirectory, path))
                }
                r => r.map_err(|e| at(e, &path)),
            },
            None if self.is_virtual_dir(&path) => Err(Error::at(ErrorKind::IsADirectory, path)),
            None => Err(Error::not_found(path)),
        }
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        // a cooperative point: a walk over many in-memory files (`grep -r`)
        // lets a cancelled line stop and other tasks run between files
        tokio::task::yield_now().await;
        let path = self.locate(path, true)?;
        match self.resolve(&path) {
            Some((m, rel)) => match m.resource.read(&rel).await {
                // A directory made by mount points below it.
                Err(e) if e.kind == ErrorKind::NotFound && self.is_virtual_dir(&path) => {
                    Err(Error::at(ErrorKind::IsADirectory, path))
                }
                r => r.map_err(|e| at(e, &path)),
            },
            None if self.is_virtual_dir(&path) => Err(Error::at(ErrorKind::IsADirectory, path)),
            None => Err(Error::not_found(path)),
        }
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let path = self.locate(path, true)?;
        let (m, rel) = self.writable(&path)?;
        let r = m.resource.write(&rel, data).await.map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let path = self.locate(path, true)?;
        let (m, rel) = self.writable(&path)?;
        let r = m
            .resource
            .append(&rel, data)
            .await
            .map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn mkdir(&self, path: &str, parents: bool) -> Result<()> {
        let path = self.locate(path, false)?;
        if !parents {
            if self.is_virtual_dir(&path) || self.mounts.iter().any(|m| m.prefix == path) {
                return Err(Error::at(ErrorKind::AlreadyExists, path));
            }
            let (m, rel) = self.writable(&path)?;
            let r = m.resource.mkdir(&rel).await.map_err(|e| at(e, &path));
            return self.report(&path, r).await;
        }
        let mut cur = String::new();
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            cur.push('/');
            cur.push_str(comp);
            match self.stat(&cur).await {
                Ok(s) if s.is_dir() => continue,
                Ok(_) => return Err(Error::at(ErrorKind::NotADirectory, cur)),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    let at_path = self.locate(&cur, false)?;
                    let (m, rel) = self.writable(&at_path)?;
                    match m.resource.mkdir(&rel).await {
                        Ok(()) => self.changed(&at_path).await,
                        Err(e) if e.kind == ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(at(e, &cur)),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        let path = self.locate(path, false)?;
        let (m, rel) = self.writable(&path)?;
        let r = m.resource.unlink(&rel).await.map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn rmdir(&self, path: &str) -> Result<()> {
        let path = self.locate(path, false)?;
        if self.mounts.iter().any(|m| m.prefix == path) {
            return Err(Error::at(ErrorKind::PermissionDenied, path));
        }
        let (m, rel) = self.writable(&path)?;
        let r = m.resource.rmdir(&rel).await.map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (self.locate(from, false)?, self.locate(to, false)?);
        let (mf, rf) = self.writable(&from)?;
        let (mt, rt) = self.writable(&to)?;
        if mf.prefix == mt.prefix {
            let r = mf.resource.rename(&rf, &rt).await.map_err(|e| at(e, &from));
            if r.is_ok() {
                self.changed(&from).await;
                self.changed(&to).await;
            }
            return r;
        }
        // across mounts: copy, then delete the source
        self.copy_tree(&from, &to).await?;
        self.remove_tree(&from).await
    }

    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        let path = self.locate(path, true)?;
        let (m, rel) = self.writable(&path)?;
        let r = m
            .resource
            .chmod(&rel, mode & 0o7777)
            .await
            .map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        let path = self.locate(path, true)?;
        let (m, rel) = self.writable(&path)?;
        let r = m
            .resource
            .set_modified(&rel, time)
            .await
            .map_err(|e| at(e, &path));
        self.report(&path, r).await
    }

    async fn prefetch_tree(&self, path: &str, contents: bool) -> Result<()> {
        let path = self.locate(path, true)?;
        match self.resolve(&path) {
            Some((m, rel)) => m
                .resource
                .prefetch_tree(&rel, contents)
                .await
                .map_err(|e| at(e, &path)),
            None => Ok(()),
        }
    }

    fn mount_of(&self, path: &str) -> Option<MountInfo> {
        self.resolve(path).map(|(m, _)| MountInfo {
            prefix: m.prefix.clone(),
            resource: m.resource.name().to_string(),
            mode: m.mode,
        })
    }

    fn mounts(&self) -> Vec<MountInfo> {
        let mut v: Vec<MountInfo> = self
            .mounts
            .iter()
            .map(|m| MountInfo {
                prefix: m.prefix.clone(),
                resource: m.resource.name().to_string(),
                mode: m.mode,
            })
            .collect();
        v.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        v
    }
}
