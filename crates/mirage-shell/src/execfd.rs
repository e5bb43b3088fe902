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

use mirage_types::Sink;

use crate::exec::Io;
use crate::state::ShellState;

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
