//! The files of process substitution (`<(cmd)`): a [`Vfs`] overlay that
//! serves `/dev/fd/N` from the captured output and passes everything else
//! to the router unchanged (every `Vfs` method, the link ones included: a
//! method left to the trait's default would answer as if links did not
//! exist).
//!
//! `>(cmd)` as an argument (`tee >(wc -c) < f`) expands to `/dev/fd/N`
//! (numbered from 63 down, shared with `<(…)`, as bash numbers them); what
//! the command writes to that file is gathered, and once the command has
//! finished, `cmd` runs in a subshell with it as its standard input and
//! the command's stdout and stderr as its own ([`finish_outs`]). bash runs
//! `cmd` at the same time and does not wait for it, so its output may come
//! before, among or after the command's and the next commands'; Mirage
//! always puts it right after the command, before the next one runs, which
//! is what bash gives in practice for a short `cmd`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
    /// `/dev/fd/N` of `>(cmd)` → what the command has written to it.
    pub outs: HashMap<String, Arc<Mutex<Vec<u8>>>>,
}

/// One `>(cmd)` of the command being run: its path, the inner command and
/// what has been written to it.
#[derive(Clone)]
pub struct OutSub {
    path: String,
    script: Arc<crate::ast::Script>,
    buf: Arc<Mutex<Vec<u8>>>,
}

/// The next `/dev/fd/N` of a process substitution of the current command
/// (63, 62, … as bash gives them).
pub fn next_path(st: &crate::state::ShellState) -> String {
    let used = st.procsubs.len() + st.exec_fds.outsubs.len();
    format!("/dev/fd/{}", 63usize.saturating_sub(used))
}

/// Expands `>(cmd)`: registers it for the current command and returns its
/// path.
pub fn out_path(st: &mut crate::state::ShellState, script: &Arc<crate::ast::Script>) -> String {
    let path = next_path(st);
    st.exec_fds.outsubs.push(OutSub {
        path: path.clone(),
        script: script.clone(),
        buf: Arc::new(Mutex::new(Vec::new())),
    });
    path
}

/// The `>(cmd)` files of the current command, for [`ProcSubVfs::outs`].
pub fn out_files(st: &crate::state::ShellState) -> HashMap<String, Arc<Mutex<Vec<u8>>>> {
    st.exec_fds
        .outsubs
        .iter()
        .map(|o| (o.path.clone(), o.buf.clone()))
        .collect()
}

/// After a command: runs each of its `>(cmd)` (in the order written) in a
/// subshell, with what the command wrote to it as stdin and the shell's
/// stdout and stderr (as `exec` left them).
pub async fn finish_outs(
    interp: &crate::exec::Interp,
    st: &mut crate::state::ShellState,
    io: &crate::exec::Io,
) {
    if st.exec_fds.outsubs.is_empty() {
        return;
    }
    let outs = std::mem::take(&mut st.exec_fds.outsubs);
    let remapped = crate::execfd::remap(st, io);
    let io = remapped.as_ref().unwrap_or(io);
    for o in outs {
        let data = match o.buf.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(e) => std::mem::take(&mut *e.into_inner()),
        };
        let sub_io = crate::exec::Io::new(
            mirage_types::Input::from_source(ByteSource::from(data)),
            io.stdout.clone(),
            io.stderr.clone(),
        );
        let mut sub = st.clone();
        crate::trace::enter_subshell(&mut sub);
        let _ = interp.run_script(&o.script, &mut sub, &sub_io).await;
    }
}

/// `exec > >(cmd)` (also `2>`, `N>`): a process substitution the shell
/// keeps writing to. What it is sent is gathered in `sink`; when the shell
/// (or the subshell that made it) ends, `cmd` runs with it as its standard
/// input ([`flush_kept`]). bash runs `cmd` at the same time, but a filter
/// such as `tr` or `sed` writes its output only once its input ends, when
/// the shell exits: the same place Mirage puts it.
#[derive(Clone)]
pub struct Kept {
    script: Arc<crate::ast::Script>,
    /// The shell as it was at the `exec` (the substitution's own copy).
    state: Box<crate::state::ShellState>,
    /// The capture the shell's descriptor writes to.
    pub(crate) sink: mirage_types::Sink,
    buf: Arc<Mutex<Vec<u8>>>,
    /// Where the shell's stdout and stderr pointed at the `exec`: the
    /// substitution's own (`None`: the run's streams).
    out: Option<crate::execfd::FdEntry>,
    err: Option<crate::execfd::FdEntry>,
}

/// Keeps the process substitution `script` whose output capture is `buf`,
/// made by `exec` with `io` its streams before the redirects.
pub fn keep(
    st: &mut crate::state::ShellState,
    io: &crate::exec::Io,
    script: Arc<crate::ast::Script>,
    state: Box<crate::state::ShellState>,
    buf: Arc<Mutex<Vec<u8>>>,
) {
    let out = st.exec_fds.keepable(&io.stdout);
    let err = st.exec_fds.keepable(&io.stderr);
    // the copy holds no run's streams: they are the current run's when it runs
    let mut state = state;
    state
        .exec_fds
        .start_run(&mirage_types::Sink::Null, &mirage_types::Sink::Null);
    st.exec_fds.kept.push(Kept {
        script,
        state,
        sink: mirage_types::Sink::Capture(buf.clone()),
        buf,
        out,
        err,
    });
}

/// Runs the kept process substitutions from index `from` on (those a
/// subshell made, or all at the end of a run), the latest first (one may
/// write into an earlier one), each with what it was sent; the entries stay
/// (a later run of the session sends them more).
pub async fn flush_kept(
    interp: &crate::exec::Interp,
    st: &mut crate::state::ShellState,
    io: &crate::exec::Io,
    from: usize,
) {
    let kept: Vec<Kept> = st.exec_fds.kept.get(from..).unwrap_or_default().to_vec();
    for k in kept.into_iter().rev() {
        let data = match k.buf.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(e) => std::mem::take(&mut *e.into_inner()),
        };
        let pick = |e: &Option<crate::execfd::FdEntry>, own: &mirage_types::Sink| {
            e.as_ref()
                .and_then(|e| st.exec_fds.sink_of(e))
                .unwrap_or_else(|| own.clone())
        };
        let sub_io = crate::exec::Io::new(
            mirage_types::Input::from_source(ByteSource::from(data)),
            pick(&k.out, &io.stdout),
            pick(&k.err, &io.stderr),
        );
        let mut sub = *k.state;
        sub.exec_fds.run_from(&st.exec_fds);
        crate::trace::enter_subshell(&mut sub);
        let _ = interp.run_script(&k.script, &mut sub, &sub_io).await;
    }
}

impl ProcSubVfs {
    /// Appends `data` to the `>(cmd)` file `path`, if it is one.
    async fn write_out(&self, path: &str, data: ByteSource) -> Option<Result<()>> {
        let buf = self.outs.get(path)?;
        Some(match data.collect().await {
            Ok(b) => {
                match buf.lock() {
                    Ok(mut g) => g.extend_from_slice(&b),
                    Err(e) => e.into_inner().extend_from_slice(&b),
                }
                Ok(())
            }
            Err(e) => Err(e),
        })
    }
}

#[async_trait]
impl Vfs for ProcSubVfs {
    async fn stat(&self, path: &str) -> Result<FileStat> {
        if self.outs.contains_key(path) {
            return Ok(FileStat::file(mirage_types::basename(path), 0));
        }
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
    async fn prefetch_tree(&self, path: &str, contents: bool) -> Result<()> {
        self.inner.prefetch_tree(path, contents).await
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
        if self.outs.contains_key(path) {
            return self.write_out(path, data).await.unwrap_or(Ok(()));
        }
        self.inner.write(path, data).await
    }
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        if self.outs.contains_key(path) {
            return self.write_out(path, data).await.unwrap_or(Ok(()));
        }
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
