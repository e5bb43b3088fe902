//! `exec` with redirections and no command (`exec 2>&1`, `exec >/dev/null`,
//! `exec 2>/dev/null`): they change the shell's own stdout and stderr for
//! the rest of the session, as in bash.
//!
//! The session remembers what fd 1 and fd 2 now point to, as a target
//! relative to the streams of each run ([`ExecFds`]). A simple command whose
//! stdout or stderr is still the run's own stream gets the target instead
//! ([`remap`]); a stream that a redirect or a pipe already replaced is left
//! alone, so `{ ls /x; } 2>/dev/null` still discards after `exec 2>&1`.
//! Redirecting to a file with `exec > FILE` is not kept yet: the file is
//! opened as bash opens it, then `exec` says `unsupported` and returns 1,
//! so a script never silently writes where it did not ask to.
//!
//! Descriptors 3 and up live in a table ([`ExecFds::fds`]): `3>file`,
//! `3>>file`, `3<file`, `3>&1`, `3<&0`, `3>&-` on any command set an entry
//! for that command (restored when it ends); on `exec` alone they stay for
//! the rest of the session. `>&3`, `2>&3`, `<&3` and `read -u 3` use them;
//! a missing one is bash's `3: Bad file descriptor`. An output entry names
//! its file, and each command writing to it appends, so the bytes land in
//! order as with a shared offset.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mirage_types::{ByteSource, Input, Sink};

use crate::exec::{Interp, Io, StdinSlot};
use crate::state::ShellState;

/// What a descriptor of 3 or more refers to.
#[derive(Clone)]
pub enum FdEntry {
    /// A file opened for writing (each write appends to it).
    File(String),
    /// One of the run's own streams (`3>&1`), or `/dev/null`.
    Std(FdTarget),
    /// Another output stream (a pipe of the command being run).
    Sink(Sink),
    /// A file or stream opened for reading, shared by every reader.
    Input(StdinSlot),
}

/// Where `exec` pointed one of the shell's own output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdTarget {
    /// The run's standard output.
    Stdout,
    /// The run's standard error.
    Stderr,
    /// Discarded (`/dev/null`).
    Null,
}

/// The shell's own stdout and stderr as `exec` left them (kept in
/// [`ShellState`] between lines), plus the streams of the current run.
#[derive(Clone, Default)]
pub struct ExecFds {
    /// Where fd 1 points (`None`: the run's stdout).
    pub stdout: Option<FdTarget>,
    /// Where fd 2 points (`None`: the run's stderr).
    pub stderr: Option<FdTarget>,
    /// The current run's stdout and stderr (set by [`crate::run`]).
    run: Option<(Sink, Sink)>,
    /// Descriptors 3 and up (`exec 3>file`), by number.
    pub fds: BTreeMap<u32, FdEntry>,
}

impl std::fmt::Debug for ExecFds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecFds")
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

impl ExecFds {
    /// Records the streams of a new run (one `execute`).
    pub fn start_run(&mut self, stdout: &Sink, stderr: &Sink) {
        self.run = Some((stdout.clone(), stderr.clone()));
    }

    fn resolve(&self, t: FdTarget) -> Option<Sink> {
        let (out, err) = self.run.as_ref()?;
        Some(match t {
            FdTarget::Stdout => out.clone(),
            FdTarget::Stderr => err.clone(),
            FdTarget::Null => Sink::Null,
        })
    }

    fn target_of(&self, s: &Sink) -> Option<FdTarget> {
        let (out, err) = self.run.as_ref()?;
        if matches!(s, Sink::Null) {
            Some(FdTarget::Null)
        } else if s.same_as(out) {
            Some(FdTarget::Stdout)
        } else if s.same_as(err) {
            Some(FdTarget::Stderr)
        } else {
            None
        }
    }
}

/// `io` with the run's own stdout and stderr replaced by where `exec` left
/// them; `None` when nothing changes.
pub fn remap(st: &ShellState, io: &Io) -> Option<Io> {
    let fds = &st.exec_fds;
    if fds.stdout.is_none() && fds.stderr.is_none() {
        return None;
    }
    let (out, err) = fds.run.as_ref()?;
    let pick = |cur: &Sink, own: &Sink, t: Option<FdTarget>| match t.and_then(|t| fds.resolve(t)) {
        Some(s) if cur.same_as(own) => s,
        _ => cur.clone(),
    };
    Some(Io {
        stdin: io.stdin.clone(),
        stdout: pick(&io.stdout, out, fds.stdout),
        stderr: pick(&io.stderr, err, fds.stderr),
    })
}

/// After `exec REDIRECTS` with no command: keeps where the redirects pointed
/// stdout and stderr (`io` before them, `rio` after), when that is one of
/// the run's streams or `/dev/null`.
pub fn record(st: &mut ShellState, io: &Io, rio: &Io) {
    if !rio.stdout.same_as(&io.stdout)
        && let Some(t) = st.exec_fds.target_of(&rio.stdout)
    {
        st.exec_fds.stdout = Some(t).filter(|t| *t != FdTarget::Stdout);
    }
    if !rio.stderr.same_as(&io.stderr)
        && let Some(t) = st.exec_fds.target_of(&rio.stderr)
    {
        st.exec_fds.stderr = Some(t).filter(|t| *t != FdTarget::Stderr);
    }
}

/// Where output to descriptor `m` goes, for `>&m`.
pub enum OutFd {
    /// A stream.
    Sink(Sink),
    /// A file to append to.
    File(String),
}

/// Sets descriptor `n` (3 or more) to `e` (`None` closes it); returns
/// what it was, for [`restore`].
pub fn set_fd(st: &mut ShellState, n: u32, e: Option<FdEntry>) -> Option<FdEntry> {
    match e {
        Some(e) => st.exec_fds.fds.insert(n, e),
        None => st.exec_fds.fds.remove(&n),
    }
}

/// Puts descriptor `n` back as it was before a command's redirect.
pub fn restore(st: &mut ShellState, n: u32, prev: Option<FdEntry>) {
    set_fd(st, n, prev);
}

/// The output behind descriptor `m` (`io`'s own for 1 and 2); `None`
/// when it is not open for writing.
pub fn out_fd(st: &ShellState, io: &Io, m: u32) -> Option<OutFd> {
    match m {
        1 => return Some(OutFd::Sink(io.stdout.clone())),
        2 => return Some(OutFd::Sink(io.stderr.clone())),
        _ => {}
    }
    match st.exec_fds.fds.get(&m)? {
        FdEntry::File(p) => Some(OutFd::File(p.clone())),
        FdEntry::Std(t) => st.exec_fds.resolve(*t).map(OutFd::Sink),
        FdEntry::Sink(s) => Some(OutFd::Sink(s.clone())),
        FdEntry::Input(_) => None,
    }
}

/// The entry `N>&M` gives descriptor N: a copy of M's (the run's own
/// stream for 1 and 2 when `io` still writes there).
pub fn dup_out(st: &ShellState, io: &Io, m: u32) -> Option<FdEntry> {
    if m >= 3 {
        return st
            .exec_fds
            .fds
            .get(&m)
            .filter(|e| !matches!(e, FdEntry::Input(_)))
            .cloned();
    }
    let s = match m {
        1 => &io.stdout,
        2 => &io.stderr,
        _ => return None,
    };
    Some(match st.exec_fds.target_of(s) {
        Some(t) => FdEntry::Std(t),
        None => FdEntry::Sink(s.clone()),
    })
}

/// The input behind descriptor `m` (`io`'s stdin for 0), for `<&m` and
/// `read -u m`.
pub fn in_fd(st: &ShellState, io: &Io, m: u32) -> Option<StdinSlot> {
    if m == 0 {
        return Some(io.stdin.clone());
    }
    match st.exec_fds.fds.get(&m)? {
        FdEntry::Input(slot) => Some(slot.clone()),
        _ => None,
    }
}

/// `N>file` / `N>>file` for N of 3 or more: creates or truncates `target`
/// (refusing an existing file under `noclobber` unless `clobber`) and
/// points N at it. `Err(())` after reporting an error; `Ok(previous)`.
pub async fn open_out(
    interp: &Interp,
    st: &mut ShellState,
    io: &Io,
    n: u32,
    target: &str,
    append: bool,
    clobber: bool,
) -> Result<Option<FdEntry>, ()> {
    let entry = match target {
        "/dev/null" | "/dev/zero" => FdEntry::Std(FdTarget::Null),
        "/dev/stdout" | "/dev/fd/1" => dup_out(st, io, 1).ok_or(())?,
        "/dev/stderr" | "/dev/fd/2" => dup_out(st, io, 2).ok_or(())?,
        _ => {
            let path = mirage_types::join_path(&st.cwd, target);
            if st.options.noclobber
                && !clobber
                && !append
                && interp.vfs.stat(&path).await.is_ok_and(|s| s.is_file())
            {
                io.err(&format!(
                    "{}{target}: cannot overwrite existing file\n",
                    st.diag()
                ))
                .await;
                return Err(());
            }
            let res = if append {
                interp.vfs.append(&path, ByteSource::empty()).await
            } else {
                interp.vfs.write(&path, ByteSource::empty()).await
            };
            if let Err(e) = res {
                io.err(&format!("{}{target}: {}\n", st.diag(), e.message()))
                    .await;
                return Err(());
            }
            FdEntry::File(path)
        }
    };
    Ok(set_fd(st, n, Some(entry)))
}

/// `N<file` for N of 3 or more: opens `target` for reading and points N
/// at it. `Err(())` after reporting an error; `Ok(previous)`.
pub async fn open_in(
    interp: &Interp,
    st: &mut ShellState,
    io: &Io,
    n: u32,
    target: &str,
) -> Result<Option<FdEntry>, ()> {
    let input = if target == "/dev/null" {
        Input::empty()
    } else if let Some(data) = st.procsubs.get(target) {
        Input::from_source(ByteSource::Bytes(data.clone()))
    } else {
        let path = mirage_types::join_path(&st.cwd, target);
        let src = match interp.vfs.stat(&path).await {
            Ok(s) if s.is_dir() => {
                io.err(&format!("{}{target}: Is a directory\n", st.diag()))
                    .await;
                return Err(());
            }
            _ => interp.vfs.read(&path).await,
        };
        match src {
            Ok(src) => Input::from_source(src),
            Err(e) => {
                io.err(&format!("{}{target}: {}\n", st.diag(), e.message()))
                    .await;
                return Err(());
            }
        }
    };
    Ok(set_fd(
        st,
        n,
        Some(FdEntry::Input(Arc::new(Mutex::new(input)))),
    ))
}

/// Reports bash's `N: Bad file descriptor` for a redirect to a descriptor
/// that is not open.
pub async fn bad_fd(st: &ShellState, io: &Io, n: &str) {
    io.err(&format!("{}{n}: Bad file descriptor\n", st.diag()))
        .await;
}
