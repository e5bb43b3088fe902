//! `exec` with redirections and no command (`exec 2>&1`, `exec >/dev/null`,
//! `exec 2>/dev/null`): they change the shell's own stdout and stderr for
//! the rest of the session, as in bash.
//!
//! The session remembers what fd 1 and fd 2 now point to, as a target
//! relative to the streams of each run ([`ExecFds`]). A simple command whose
//! stdout or stderr is still the run's own stream gets the target instead
//! ([`remap`]); a stream that a redirect or a pipe already replaced is left
//! alone, so `{ ls /x; } 2>/dev/null` still discards after `exec 2>&1`.
//! `exec > FILE` (and `>>`, `2>`) keeps a [`Sink::File`], which appends
//! each block through the VFS as it is written, so the next command sees
//! it; `exec >&-` keeps a [`Sink::Closed`], whose writes fail with
//! `Bad file descriptor` ([`closed_stdout`] reports them as bash and the
//! GNU tools do). `exec < FILE` replaces the run's standard input.
//!
//! `{name}>file` and the other `{name}` forms ([`var_alloc`],
//! [`var_assign`], [`var_close`]) open descriptors from 10 up and leave
//! them open after the command, as bash 5.2 does unless
//! `shopt -s varredir_close`.
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

impl std::fmt::Debug for FdEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FdEntry::File(p) => write!(f, "File({p:?})"),
            FdEntry::Std(t) => write!(f, "Std({t:?})"),
            FdEntry::Sink(Sink::File(_, p)) => write!(f, "Sink(File({p:?}))"),
            FdEntry::Sink(Sink::Closed(_)) => f.write_str("Sink(Closed)"),
            FdEntry::Sink(_) => f.write_str("Sink(..)"),
            FdEntry::Input(_) => f.write_str("Input(..)"),
        }
    }
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
    /// Where fd 1 points (`None`: the run's stdout): [`FdEntry::Std`], or
    /// [`FdEntry::Sink`] holding a [`Sink::File`] (`exec >FILE`) or a
    /// [`Sink::Closed`] (`exec >&-`).
    pub stdout: Option<FdEntry>,
    /// Where fd 2 points (`None`: the run's stderr), as `stdout`.
    pub stderr: Option<FdEntry>,
    /// The current run's stdout and stderr (set by [`crate::run`]).
    run: Option<(Sink, Sink)>,
    /// Descriptors 3 and up (`exec 3>file`), by number.
    pub fds: BTreeMap<u32, FdEntry>,
    /// The `>(cmd)` arguments of the command being expanded and run.
    pub(crate) outsubs: Vec<crate::procsub::OutSub>,
    /// `exec > >(cmd)`: the process substitutions kept by `exec`
    /// ([`crate::procsub::keep`]), in the order made.
    pub(crate) kept: Vec<crate::procsub::Kept>,
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

    /// Takes the run's streams of `other` (a kept copy of the shell must
    /// not hold a finished run's pipes open).
    pub(crate) fn run_from(&mut self, other: &ExecFds) {
        self.run = other.run.clone();
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

    /// The entry that keeps `s` beyond the current command: one of the
    /// run's streams, `/dev/null`, a kept file or a closed descriptor.
    pub(crate) fn keepable(&self, s: &Sink) -> Option<FdEntry> {
        match s {
            Sink::File(..) | Sink::Closed(_) => Some(FdEntry::Sink(s.clone())),
            Sink::Capture(_) if self.kept.iter().any(|k| k.sink.same_as(s)) => {
                Some(FdEntry::Sink(s.clone()))
            }
            _ => self.target_of(s).map(FdEntry::Std),
        }
    }

    /// The sink an entry of fd 1 or 2 stands for in the current run.
    pub(crate) fn sink_of(&self, e: &FdEntry) -> Option<Sink> {
        match e {
            FdEntry::Std(t) => self.resolve(*t),
            FdEntry::Sink(s) => Some(s.clone()),
            FdEntry::File(_) | FdEntry::Input(_) => None,
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
    let pick =
        |cur: &Sink, own: &Sink, e: &Option<FdEntry>| match e.as_ref().and_then(|e| fds.sink_of(e))
        {
            Some(s) if cur.same_as(own) => s,
            _ => cur.clone(),
        };
    Some(Io {
        stdin: io.stdin.clone(),
        stdout: pick(&io.stdout, out, &fds.stdout),
        stderr: pick(&io.stderr, err, &fds.stderr),
    })
}

/// After `exec REDIRECTS` with no command: keeps where the redirects pointed
/// stdin, stdout and stderr (`io` before them, `rio` after): for output,
/// when that is one of the run's streams, `/dev/null`, a file (`exec >f`
/// makes a [`Sink::File`]) or a closed descriptor; a new stdin replaces
/// the input every later command of the run reads (`exec <f`).
pub fn record(st: &mut ShellState, io: &Io, rio: &Io) {
    if !rio.stdout.same_as(&io.stdout)
        && let Some(e) = st.exec_fds.keepable(&rio.stdout)
    {
        st.exec_fds.stdout = Some(e).filter(|e| !matches!(e, FdEntry::Std(FdTarget::Stdout)));
    }
    if !rio.stderr.same_as(&io.stderr)
        && let Some(e) = st.exec_fds.keepable(&rio.stderr)
    {
        st.exec_fds.stderr = Some(e).filter(|e| !matches!(e, FdEntry::Std(FdTarget::Stderr)));
    }
    if !Arc::ptr_eq(&rio.stdin, &io.stdin) {
        io.put_stdin(rio.take_stdin());
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

/// `N>&M-` / `N<&M-` (bash's move): the target `M-` becomes `M`, and `M`
/// goes to `moved`, for [`close_moved`] once the copy is made, with
/// whether `N` was open before. Any other target is returned as it is.
pub fn split_move(
    st: &ShellState,
    r: &crate::ast::Redir,
    target: String,
    moved: &mut Option<(u32, bool)>,
) -> String {
    use crate::ast::RedirOp;
    let n = match r.op {
        RedirOp::DupOut => r.fd.unwrap_or(1),
        RedirOp::DupIn => r.fd.unwrap_or(0),
        _ => return target,
    };
    match target.strip_suffix('-').map(|m| (m, m.parse::<u32>())) {
        Some((m, Ok(from))) if m.bytes().all(|b| b.is_ascii_digit()) => {
            let was_open = r.var.is_none() && (n < 3 || st.exec_fds.fds.contains_key(&n));
            *moved = Some((from, was_open));
            m.to_string()
        }
        _ => target,
    }
}

/// Closes the descriptor a move (`>&3-`) copied, if it is 3 or more.
/// `undo` gets what it was, so the command's redirects restore it after,
/// only when the copy replaced a descriptor that was open: bash leaves
/// `3` closed after `echo hi 5>&3-` but not after `echo hi >&3-`.
pub fn close_moved(
    st: &mut ShellState,
    moved: Option<(u32, bool)>,
    undo: impl FnOnce(u32, Option<FdEntry>),
) {
    if let Some((m, was_open)) = moved.filter(|m| m.0 >= 3) {
        let prev = set_fd(st, m, None);
        if was_open {
            undo(m, prev);
        }
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
    Some(
        st.exec_fds
            .keepable(s)
            .unwrap_or_else(|| FdEntry::Sink(s.clone())),
    )
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
        _ => FdEntry::File(create(interp, st, io, target, append, clobber).await?),
    };
    Ok(set_fd(st, n, Some(entry)))
}

/// Opens `target` for output as `>`, `>|` and `>>` do, for any descriptor:
/// refuses an existing file under `noclobber` unless `clobber` or
/// `append` (`cannot overwrite existing file`), then creates or truncates
/// it (or creates it for appending), so errors show before the command
/// runs. The virtual path, or `Err(())` after reporting the error.
pub async fn create(
    interp: &Interp,
    st: &ShellState,
    io: &Io,
    target: &str,
    append: bool,
    clobber: bool,
) -> Result<String, ()> {
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
    Ok(path)
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

/// After a builtin or command ran with a closed stdout (`>&-`, `exec >&-`;
/// `before` is the closed sink's count of refused writes when it started):
/// reports the failed write as bash (`NAME: write error: Bad file
/// descriptor`, status 1) or the GNU tool (each with its own words and
/// status) reports it, and returns the command's status. A command that
/// wrote nothing succeeds, except `cat`, which checks its output first.
pub async fn closed_stdout(
    st: &ShellState,
    rio: &Io,
    before: usize,
    name: &str,
    builtin: bool,
    code: i32,
) -> i32 {
    let wrote = rio.stdout.closed_writes().is_some_and(|n| n > before);
    if builtin {
        if !wrote {
            return code;
        }
        rio.err(&format!(
            "{}{name}: write error: Bad file descriptor\n",
            st.diag()
        ))
        .await;
        return 1;
    }
    if code != 0 && code != 141 || !wrote && name != "cat" {
        return code;
    }
    let (msg, status) = match name {
        "cat" | "yes" => (format!("{name}: standard output: Bad file descriptor\n"), 1),
        "tee" => (
            "tee: 'standard output': Bad file descriptor\n".to_string(),
            1,
        ),
        "sed" => (
            "sed: couldn't close stdout: Bad file descriptor\n".to_string(),
            4,
        ),
        "sort" => (
            "sort: fflush failed: 'standard output': Bad file descriptor\n\
             sort: write error: Bad file descriptor\n"
                .to_string(),
            2,
        ),
        "ls" | "grep" | "egrep" | "fgrep" | "diff" | "cmp" => {
            (format!("{name}: write error: Bad file descriptor\n"), 2)
        }
        _ => (format!("{name}: write error: Bad file descriptor\n"), 1),
    };
    rio.err(&msg).await;
    status
}

/// The first descriptor bash gives a `{name}` redirection.
const VAR_FD_MIN: u32 = 10;

/// `{name}>&-` / `{name}<&-` (bash 5.2): closes the descriptor whose
/// number `name` holds (a value that is not a number closes nothing; an
/// unset `name` is `name: ambiguous redirect`, `Err(())` after saying so).
pub async fn var_close(st: &mut ShellState, io: &Io, name: &str) -> Result<(), ()> {
    let Some(v) = st.get(name) else {
        io.err(&format!("{}{name}: ambiguous redirect\n", st.diag()))
            .await;
        return Err(());
    };
    if let Ok(n) = v.trim().parse::<u32>()
        && n >= 3
    {
        set_fd(st, n, None);
    }
    Ok(())
}

/// The descriptor a `{name}>file`, `{name}<file`, `{name}>&M`… redirection
/// opens: the lowest free one of 10 or more, as bash allocates them.
pub fn var_alloc(st: &ShellState) -> u32 {
    let mut n = VAR_FD_MIN;
    while st.exec_fds.fds.contains_key(&n) {
        n += 1;
    }
    n
}

/// Stores descriptor `n`, opened by a `{name}` redirection, in `name`.
/// A readonly `name` closes it again and fails (`Err(())`) after bash's two
/// messages (`readonly variable`, `cannot assign fd to variable`).
pub async fn var_assign(st: &mut ShellState, io: &Io, name: &str, n: u32) -> Result<(), ()> {
    let target = st.resolve(name).into_owned();
    if st.vars.get(&target).is_some_and(|v| v.readonly) {
        set_fd(st, n, None);
        io.err(&format!(
            "{d}{target}: readonly variable\n{d}{target}: cannot assign fd to variable\n",
            d = st.diag()
        ))
        .await;
        return Err(());
    }
    st.set(&target, n.to_string());
    Ok(())
}

/// A redirection target as bash names it in `ambiguous redirect` and
/// `Bad file descriptor` messages: the word as written (`$fd`), rebuilt
/// from its parts when the source text was not kept.
pub fn word_text(w: &crate::ast::Word) -> String {
    use crate::ast::{ParamOp, WordPart};
    fn parts(ps: &[WordPart], out: &mut String) {
        for p in ps {
            match p {
                WordPart::Lit(t) => out.push_str(t),
                WordPart::Quoted(t) => {
                    out.push('\'');
                    out.push_str(t);
                    out.push('\'');
                }
                WordPart::Double(inner) => {
                    out.push('"');
                    parts(inner, out);
                    out.push('"');
                }
                WordPart::Param(pe) => {
                    if pe.index.is_none() && !pe.indirect && matches!(pe.op, ParamOp::Plain) {
                        out.push('$');
                        out.push_str(&pe.name);
                    } else {
                        out.push_str("${");
                        out.push_str(&pe.name);
                        out.push('}');
                    }
                }
                WordPart::CmdSub(_) => out.push_str("$(...)"),
                WordPart::Arith(_) => out.push_str("$((...))"),
                #[allow(unreachable_patterns)]
                _ => out.push_str("<(...)"),
            }
        }
    }
    if let Some(src) = &w.src {
        return src.to_string();
    }
    let mut s = String::new();
    parts(&w.parts, &mut s);
    s
}

/// Whether an expanded `>&WORD` / `<&WORD` target names a descriptor (a
/// number) or closes one (`-`); anything else is a file (`>&file`) or
/// an ambiguous redirect.
pub fn is_fd_word(t: &str) -> bool {
    t == "-" || (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
}
