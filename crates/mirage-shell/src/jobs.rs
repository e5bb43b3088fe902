//! Background jobs (`cmd &`), cancellation and the per-line budget.
//!
//! `cmd &` spawns a tokio task running `cmd` in a copy of the shell state
//! (a subshell, as bash forks one) with standard input from `/dev/null`
//! (bash's rule when job control is off) and the line's stdout and stderr,
//! and returns at once with `$!` set. The job keeps running after its line
//! ends; a later `wait` in the same session finds it. `kill` delivers a
//! cancellation: the job's task is dropped at its next await point and its
//! status is 128 + the signal's number, as bash reports a job killed by a
//! signal.
//!
//! Every line runs under a [`CancellationToken`] ([`ShellState::cancel`]).
//! Loops check it (and yield to the runtime every [`YIELD_EVERY`]
//! iterations) so a tight `while true; do :; done` stops when the token is
//! cancelled or the wall-time limit passes, and background jobs get the CPU
//! on a single-threaded runtime.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

pub use tokio_util::sync::CancellationToken;

use crate::ast::Cmd;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// Loops and commands yield to the runtime once every this many steps.
pub const YIELD_EVERY: u64 = 128;

/// The status of a line stopped by its cancellation token (bash's status
/// for a command killed by `SIGINT`).
pub const CANCELLED_STATUS: i32 = 130;

/// The status of a line stopped by the wall-time limit (as `timeout`).
pub const TIMEOUT_STATUS: i32 = 124;

/// The process ids handed to background jobs (`$!`): distinct within the
/// process, above the shell's own `$$`.
static NEXT_PID: AtomicU32 = AtomicU32::new(5000);

/// What one line has used of its limits, shared by the subshells and
/// pipeline stages of the line.
#[derive(Debug, Default)]
pub struct LineBudget {
    loops: AtomicU64,
    commands: AtomicU64,
    output_reported: std::sync::atomic::AtomicBool,
}

/// Reads how many bytes the running line has written to the caller's
/// streams so far (set by the workspace for [`crate::state::Limits::max_output_bytes`]).
#[derive(Clone)]
pub struct OutputMeter(pub Arc<dyn Fn() -> u64 + Send + Sync>);

impl std::fmt::Debug for OutputMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputMeter")
    }
}

/// One background job.
struct Job {
    /// Its job number (`%N`).
    num: usize,
    /// Its process id (`$!`).
    pid: u32,
    /// The command as written, without the `&`.
    text: String,
    /// The running task; `None` once its status is known.
    handle: Option<tokio::task::JoinHandle<i32>>,
    /// The exit status, once finished.
    status: Option<i32>,
    /// Cancels the job.
    cancel: CancellationToken,
    /// The signal `kill` sent (0: none).
    signal: Arc<AtomicI32>,
}

impl Job {
    /// The status if the job has finished (without waiting).
    fn poll_status(&mut self) -> Option<i32> {
        if self.status.is_none()
            && let Some(h) = &self.handle
            && h.is_finished()
            && let Some(h) = self.handle.take()
        {
            use futures::FutureExt;
            self.status = Some(join_status(h.now_or_never(), &self.signal));
        }
        self.status
    }

    /// Waits for the job and returns its status.
    async fn finish(&mut self) -> i32 {
        if let Some(s) = self.status {
            return s;
        }
        let s = match self.handle.as_mut() {
            Some(h) => join_status(Some(h.await), &self.signal),
            None => 0,
        };
        self.handle = None;
        self.status = Some(s);
        s
    }
}

fn join_status(r: Option<Result<i32, tokio::task::JoinError>>, signal: &AtomicI32) -> i32 {
    let sig = signal.load(Ordering::Relaxed);
    match r {
        _ if sig != 0 => 128 + sig,
        Some(Ok(s)) => s,
        _ => 1,
    }
}

/// The session's background jobs (bash's job table). A copy of the state
/// (a subshell) starts with an empty table, as a forked bash has no
/// children, but keeps `$!`.
#[derive(Default)]
pub struct Jobs {
    list: Vec<Job>,
    /// Statuses of jobs already removed from the table, by pid (bash's
    /// `bgpids`: `wait $pid` still answers for them).
    reaped: HashMap<u32, i32>,
    last_pid: Option<u32>,
}

impl Clone for Jobs {
    /// A subshell's view of the table: the same jobs (so `jobs | wc -l`
    /// and `kill %1` in a pipeline work, as in bash) without their tasks;
    /// the subshell cannot wait for them.
    fn clone(&self) -> Self {
        Jobs {
            list: self
                .list
                .iter()
                .map(|j| Job {
                    num: j.num,
                    pid: j.pid,
                    text: j.text.clone(),
                    handle: None,
                    status: j
                        .status
                        .or_else(|| j.handle.as_ref().and_then(|h| h.is_finished().then_some(0))),
                    cancel: j.cancel.clone(),
                    signal: j.signal.clone(),
                })
                .collect(),
            reaped: HashMap::new(),
            last_pid: self.last_pid,
        }
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("jobs", &self.list.iter().map(|j| j.pid).collect::<Vec<_>>())
            .field("last_pid", &self.last_pid)
            .finish()
    }
}

/// A job chosen by a `%` spec or a pid.
pub(crate) enum Target {
    /// An index into the table.
    Job(usize),
    /// A pid of a job already removed from the table, with its status.
    Reaped(i32),
}

impl Jobs {
    /// `$!`: the pid of the last background job, if any was started.
    pub fn last_pid(&self) -> Option<String> {
        self.last_pid.map(|p| p.to_string())
    }

    /// How many jobs are still running.
    pub fn running(&mut self) -> usize {
        self.list
            .iter_mut()
            .filter_map(|j| j.poll_status().is_none().then_some(()))
            .count()
    }

    /// Cancels every job (the session is going away).
    pub fn cancel_all(&mut self) {
        for j in &self.list {
            j.signal.store(libc_sig("HUP"), Ordering::Relaxed);
            j.cancel.cancel();
        }
    }

    /// Removes finished jobs from the table (bash's non-interactive shell
    /// does so silently), remembering their statuses by pid.
    fn reap_finished(&mut self) {
        let mut i = 0;
        while i < self.list.len() {
            if let Some(s) = self.list[i].poll_status() {
                let j = self.list.remove(i);
                self.reaped.insert(j.pid, s);
            } else {
                i += 1;
            }
        }
    }

    /// The job a spec names: `%N`, `%+`/`%%`/`%` (current), `%-`
    /// (previous), `%name` (starts with), `%?text` (contains), or a pid.
    /// `Err` holds bash's message (`%3: no such job`).
    pub(crate) fn find(&self, spec: &str) -> Result<Target, String> {
        if let Some(rest) = spec.strip_prefix('%') {
            let n = self.list.len();
            let idx = match rest {
                "" | "+" | "%" => n.checked_sub(1),
                "-" => n.checked_sub(2).or(n.checked_sub(1)),
                r if r.bytes().all(|b| b.is_ascii_digit()) => {
                    let num: usize = r.parse().unwrap_or(0);
                    self.list.iter().position(|j| j.num == num)
                }
                r => {
                    let hits: Vec<usize> = match r.strip_prefix('?') {
                        Some(t) => (0..n).filter(|&i| self.list[i].text.contains(t)).collect(),
                        None => (0..n)
                            .filter(|&i| self.list[i].text.starts_with(r))
                            .collect(),
                    };
                    if hits.len() > 1 {
                        return Err(format!("{spec}: ambiguous job spec"));
                    }
                    hits.first().copied()
                }
            };
            return idx.map(Target::Job).ok_or_else(|| {
                let what = if matches!(rest, "" | "+" | "%" | "-") {
                    "current"
                } else {
                    spec
                };
                format!("{what}: no such job")
            });
        }
        let pid: u32 = spec
            .parse()
            .map_err(|_| format!("`{spec}': not a pid or valid job spec"))?;
        if let Some(i) = self.list.iter().position(|j| j.pid == pid) {
            return Ok(Target::Job(i));
        }
        match self.reaped.get(&pid) {
            Some(s) => Ok(Target::Reaped(*s)),
            None => Err(format!("pid {pid} is not a child of this shell")),
        }
    }
}

/// Linux's signal numbers and bash's names for them (without `SIG`).
pub use mirage_types::signal::SIGNALS;

fn libc_sig(name: &str) -> i32 {
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(15, |(_, v)| *v)
}

/// The signal a `kill` argument names: a number (0–64), a name with or
/// without `SIG`, in any case (`TERM`, `sigterm`, `KILL`).
pub fn parse_signal(s: &str) -> Option<i32> {
    mirage_types::signal::number(s)
}

/// How bash describes a job killed by `sig` when it reports it
/// (`Killed`, `Hangup`); `None` for the signals it reports silently
/// (`INT`, `PIPE`, `TERM` in a non-interactive shell).
fn signal_description(sig: i32) -> Option<&'static str> {
    Some(match sig {
        1 => "Hangup",
        3 => "Quit",
        4 => "Illegal instruction",
        5 => "Trace/breakpoint trap",
        6 => "Aborted",
        7 => "Bus error",
        8 => "Floating point exception",
        9 => "Killed",
        10 => "User defined signal 1",
        11 => "Segmentation fault",
        12 => "User defined signal 2",
        14 => "Alarm clock",
        16 => "Stack fault",
        24 => "CPU time limit exceeded",
        25 => "File size limit exceeded",
        26 => "Virtual timer expired",
        27 => "Profiling timer expired",
        29 => "I/O possible",
        30 => "Power failure",
        31 => "Bad system call",
        _ => return None,
    })
}

/// Reports a job that a signal ended, as bash does when it reaps it
/// (`bash: line 1: 5001 Killed                  sleep 10`).
async fn report(st: &ShellState, io: &Io, job: &Job) {
    let sig = job.signal.load(Ordering::Relaxed);
    if let Some(d) = signal_description(sig) {
        io.err(&format!("{}{} {d:<24}{}\n", st.diag(), job.pid, job.text))
            .await;
    }
}

/// Runs `cmd &`: starts `cmd` as a background job and returns at once
/// (status 0, `$!` set). Without a tokio runtime the command runs to
/// completion first. Past [`crate::state::Limits::max_jobs`] running jobs
/// it fails with a message and status 1.
pub async fn background(
    interp: &Interp,
    cmd: &Cmd,
    text: &str,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    if tokio::runtime::Handle::try_current().is_err() {
        let mut sub = st.clone();
        let _ = interp.exec(cmd, &mut sub, io).await;
        return Ok(0);
    }
    st.jobs.reap_finished();
    if st.jobs.running() >= st.limits.max_jobs {
        io.err(&format!(
            "{}{text}: too many background jobs (limit {})\n",
            st.diag(),
            st.limits.max_jobs
        ))
        .await;
        return Ok(1);
    }
    let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
    let cancel = CancellationToken::new();
    let signal = Arc::new(AtomicI32::new(0));
    let mut sub = st.clone();
    sub.cancel = cancel.clone();
    sub.budget = Arc::new(LineBudget::default());
    // bash -c leaves a job the shell's standard input (shared, as a file
    // descriptor is)
    let jio = io.clone();
    let interp = interp.clone();
    let cmd = cmd.clone();
    let (tok, sig) = (cancel.clone(), signal.clone());
    let handle = tokio::spawn(async move {
        let run = async {
            match interp.exec(&cmd, &mut sub, &jio).await {
                Ok(s) | Err(Flow::Exit(s) | Flow::Return(s) | Flow::Abort(s)) => s,
                Err(_) => sub.last_status,
            }
        };
        let s = tokio::select! {
            s = run => s,
            () = tok.cancelled() => CANCELLED_STATUS,
        };
        match sig.load(Ordering::Relaxed) {
            0 => s,
            n => 128 + n,
        }
    });
    let num = st.jobs.list.iter().map(|j| j.num).max().unwrap_or(0) + 1;
    st.jobs.list.push(Job {
        num,
        pid,
        text: text.trim().to_string(),
        handle: Some(handle),
        status: None,
        cancel,
        signal,
    });
    st.jobs.last_pid = Some(pid);
    Ok(0)
}

/// Counts one loop iteration against the line's budget: stops the line
/// when it was cancelled or past [`crate::state::Limits::max_loop_iterations`],
/// and yields to the runtime every [`YIELD_EVERY`] iterations.
pub async fn tick_loop(st: &ShellState, io: &Io) -> Result<(), Flow> {
    let n = st.budget.loops.fetch_add(1, Ordering::Relaxed) + 1;
    tick(st, io, n, st.limits.max_loop_iterations, "loop iteration").await
}

/// Counts one simple command against the line's budget
/// ([`crate::state::Limits::max_commands`]), as [`tick_loop`].
pub async fn tick_command(st: &ShellState, io: &Io) -> Result<(), Flow> {
    let n = st.budget.commands.fetch_add(1, Ordering::Relaxed) + 1;
    tick(st, io, n, st.limits.max_commands, "command").await
}

/// Stops the line once its output passed
/// [`crate::state::Limits::max_output_bytes`] (checked between commands
/// and loop iterations: one command's own output is not cut short).
async fn check_output(st: &ShellState, io: &Io) -> Result<(), Flow> {
    if let Some(m) = &st.output_meter {
        let max = st.limits.max_output_bytes;
        if (m.0)() > max {
            if !st.budget.output_reported.swap(true, Ordering::Relaxed) {
                io.err(&format!(
                    "{}output limit of {max} bytes per line exceeded\n",
                    st.diag()
                ))
                .await;
            }
            return Err(Flow::Exit(1));
        }
    }
    Ok(())
}

async fn tick(st: &ShellState, io: &Io, n: u64, max: u64, what: &str) -> Result<(), Flow> {
    if st.cancel.is_cancelled() {
        return Err(Flow::Exit(CANCELLED_STATUS));
    }
    check_output(st, io).await?;
    if n > max {
        if n == max + 1 {
            io.err(&format!(
                "{}{what} limit of {max} per line exceeded\n",
                st.diag()
            ))
            .await;
        }
        return Err(Flow::Exit(1));
    }
    if n.is_multiple_of(YIELD_EVERY) {
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// Counts one simple command as [`tick_command`] does when that would
/// neither stop the line, report, nor yield; returns false, counting
/// nothing, when [`tick_command`] must run instead.
pub(crate) fn tick_command_now(st: &ShellState) -> bool {
    let n = st.budget.commands.load(Ordering::Relaxed) + 1;
    if st.cancel.is_cancelled()
        || n > st.limits.max_commands
        || n.is_multiple_of(YIELD_EVERY)
        || st
            .output_meter
            .as_ref()
            .is_some_and(|m| (m.0)() > st.limits.max_output_bytes)
    {
        return false;
    }
    st.budget.commands.fetch_add(1, Ordering::Relaxed);
    true
}

/// Starts a fresh budget for a new line.
pub fn new_line(st: &mut ShellState) {
    st.budget = Arc::new(LineBudget::default());
}

/// `wait [-fn] [-p VAR] [ID …]`, as bash 5.2.
pub async fn wait(argv: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut any = false;
    let mut var: Option<String> = None;
    let usage = "wait [-fn] [-p var] [id ...]";
    let i = match options(argv, "wait", usage, "p", st, io, |c, v| match c {
        'n' => {
            any = true;
            true
        }
        'f' => true,
        'p' => {
            var = v;
            true
        }
        _ => false,
    })
    .await
    {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    let ids = &argv[i..];
    if let Some(v) = &var {
        st.vars.remove(v);
    }
    if any {
        return wait_any(ids, var.as_deref(), st, io).await;
    }
    if ids.is_empty() {
        let mut jobs = std::mem::take(&mut st.jobs.list);
        for j in &mut jobs {
            let s = j.finish().await;
            st.jobs.reaped.insert(j.pid, s);
            report(st, io, j).await;
        }
        return Ok(0);
    }
    let mut status = 0;
    for id in ids {
        status = match st.jobs.find(id) {
            Ok(Target::Reaped(s)) => s,
            Ok(Target::Job(k)) => {
                let mut j = st.jobs.list.remove(k);
                let s = j.finish().await;
                st.jobs.reaped.insert(j.pid, s);
                report(st, io, &j).await;
                if let Some(v) = &var {
                    st.set(v, j.pid.to_string());
                }
                s
            }
            Err(msg) => {
                io.err(&format!("{}wait: {msg}\n", st.diag())).await;
                // a word that is no pid or job spec at all: 1
                if msg.starts_with('`') { 1 } else { 127 }
            }
        };
    }
    Ok(status)
}

/// The leading options of `wait`, `jobs` and `disown`, as bash's
/// `internal_getopt` reads them: `-` words up to `--` or the first operand,
/// each letter given to `set` (with its value for a letter of `values`:
/// the rest of the word, or the next word). Returns the index of the first
/// operand; `Err(2)` after bash's `NAME: -c: invalid option` (an unknown
/// letter: `set` answered false) or `option requires an argument`, each
/// followed by `NAME: usage: USAGE`.
async fn options(
    argv: &[String],
    name: &str,
    usage: &str,
    values: &str,
    st: &ShellState,
    io: &Io,
    mut set: impl FnMut(char, Option<String>) -> bool,
) -> Result<usize, i32> {
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        if a == "--" {
            return Ok(i + 1);
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let mut chars = a[1..].chars();
        while let Some(c) = chars.next() {
            let mut value = None;
            if values.contains(c) {
                let rest: String = chars.by_ref().collect();
                if rest.is_empty() {
                    i += 1;
                    match argv.get(i) {
                        Some(v) => value = Some(v.clone()),
                        None => {
                            io.err(&format!(
                                "{}{name}: -{c}: option requires an argument\n{name}: usage: {usage}\n",
                                st.diag()
                            ))
                            .await;
                            return Err(2);
                        }
                    }
                } else {
                    value = Some(rest);
                }
            }
            if !set(c, value) {
                io.err(&format!(
                    "{}{name}: -{c}: invalid option\n{name}: usage: {usage}\n",
                    st.diag()
                ))
                .await;
                return Err(2);
            }
        }
        i += 1;
    }
    Ok(i)
}

/// `wait -n`: the first of the jobs (or of `ids`) to finish.
async fn wait_any(ids: &[String], var: Option<&str>, st: &mut ShellState, io: &Io) -> ExecResult {
    let mut pick: Vec<usize> = Vec::new();
    for id in ids {
        match st.jobs.find(id) {
            Ok(Target::Job(k)) => pick.push(k),
            Ok(Target::Reaped(_)) => {}
            Err(msg) => io.err(&format!("{}wait: {msg}\n", st.diag())).await,
        }
    }
    if ids.is_empty() {
        pick = (0..st.jobs.list.len()).collect();
    }
    if pick.is_empty() {
        return Ok(127);
    }
    // one already finished answers at once
    let done = pick
        .iter()
        .copied()
        .find(|&k| st.jobs.list[k].poll_status().is_some());
    let k = match done {
        Some(k) => k,
        None => {
            let futs: Vec<_> = st
                .jobs
                .list
                .iter_mut()
                .enumerate()
                .filter(|(k, _)| pick.contains(k))
                .filter_map(|(k, j)| {
                    j.handle
                        .as_mut()
                        .map(|h| Box::pin(async move { (k, h.await) }))
                })
                .collect();
            if futs.is_empty() {
                return Ok(127);
            }
            let ((k, r), _, _) = futures::future::select_all(futs).await;
            let j = &mut st.jobs.list[k];
            j.handle = None;
            j.status = Some(join_status(Some(r), &j.signal));
            k
        }
    };
    let j = st.jobs.list.remove(k);
    let s = j.status.unwrap_or(0);
    st.jobs.reaped.insert(j.pid, s);
    report(st, io, &j).await;
    if let Some(v) = var {
        st.set(v, j.pid.to_string());
    }
    Ok(s)
}

/// `jobs [-lnprs] [JOBSPEC …]`: the running jobs (finished ones are
/// removed silently, as in bash's non-interactive shell).
pub async fn jobs(argv: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let (mut long, mut pids) = (false, false);
    let usage = "jobs [-lnprs] [jobspec ...] or jobs -x command [args]";
    let i = match options(argv, "jobs", usage, "", st, io, |c, _| match c {
        'l' => {
            long = true;
            true
        }
        'p' => {
            pids = true;
            true
        }
        'n' | 'r' | 's' => true,
        _ => false,
    })
    .await
    {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    st.jobs.reap_finished();
    let n = st.jobs.list.len();
    let mut chosen: Vec<usize> = Vec::new();
    let mut status = 0;
    if argv.len() > i {
        for spec in &argv[i..] {
            match st.jobs.find(spec) {
                Ok(Target::Job(k)) => chosen.push(k),
                Ok(Target::Reaped(_)) | Err(_) => {
                    io.err(&format!("{}jobs: {spec}: no such job\n", st.diag()))
                        .await;
                    status = 1;
                }
            }
        }
    } else {
        chosen = (0..n).collect();
    }
    let mut out = String::new();
    for k in chosen {
        let j = &st.jobs.list[k];
        if pids {
            out.push_str(&format!("{}\n", j.pid));
            continue;
        }
        let mark = if k + 1 == n {
            '+'
        } else if k + 2 == n {
            '-'
        } else {
            ' '
        };
        if long {
            out.push_str(&format!(
                "[{}]{mark} {} {:<24}{} &\n",
                j.num, j.pid, "Running", j.text
            ));
        } else {
            out.push_str(&format!(
                "[{}]{mark}  {:<24}{} &\n",
                j.num, "Running", j.text
            ));
        }
    }
    write_out(io, out.as_bytes()).await;
    Ok(status)
}

async fn write_out(io: &Io, data: &[u8]) {
    let mut o = mirage_types::Output::new(io.stdout.clone());
    if o.write(data).await.is_ok() {
        let _ = o.flush().await;
    }
}

/// `kill [-s SIG | -n NUM | -SIG] PID|JOBSPEC …`: delivers a cancellation
/// to background jobs. `-l`/`-L` are answered by [`crate::builtins`]'s
/// `kill` before this is called.
pub async fn kill(argv: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    const USAGE: &str = "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n";
    let mut sig = 15;
    let mut i = 1;
    let bad_sig = |s: &str| format!("{}kill: {s}: invalid signal specification\n", st.diag());
    if let Some(a) = argv.get(1) {
        if a == "-s" || a == "-n" {
            let Some(v) = argv.get(2) else {
                io.err(&format!(
                    "{}kill: {a}: option requires an argument\n",
                    st.diag()
                ))
                .await;
                return Ok(1);
            };
            match parse_signal(v) {
                Some(n) => sig = n,
                None => {
                    io.err(&bad_sig(v)).await;
                    return Ok(1);
                }
            }
            i = 3;
        } else if a == "--" {
            i = 2;
        } else if let Some(s) = a.strip_prefix('-')
            && !s.is_empty()
        {
            match parse_signal(s) {
                Some(n) => sig = n,
                None => {
                    io.err(&bad_sig(s)).await;
                    return Ok(1);
                }
            }
            i = 2;
            if argv.get(2).is_some_and(|a| a == "--") {
                i = 3;
            }
        }
    }
    if argv.len() <= i {
        io.err(USAGE).await;
        return Ok(2);
    }
    let mut status = 0;
    for t in &argv[i..] {
        let is_pid = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let negative = t.starts_with('-') && t[1..].parse::<u32>().is_ok();
        if !(t.starts_with('%') || is_pid || negative) {
            io.err(&format!(
                "{}kill: {t}: arguments must be process or job IDs\n",
                st.diag()
            ))
            .await;
            status = 1;
            continue;
        }
        match st.jobs.find(t) {
            Ok(Target::Job(k)) => {
                let j = &mut st.jobs.list[k];
                // signals whose default action is to ignore or stop
                if sig != 0 && !matches!(sig, 17 | 18 | 19 | 20 | 21 | 22 | 23 | 28) {
                    if j.poll_status().is_none() {
                        j.signal.store(sig, Ordering::Relaxed);
                    }
                    j.cancel.cancel();
                }
            }
            Ok(Target::Reaped(_)) | Err(_) if !t.starts_with('%') => {
                io.err(&format!("{}kill: ({t}) - No such process\n", st.diag()))
                    .await;
                status = 1;
            }
            _ => {
                io.err(&format!("{}kill: {t}: no such job\n", st.diag()))
                    .await;
                status = 1;
            }
        }
    }
    // let the cancelled tasks run to their end before the next command
    tokio::task::yield_now().await;
    Ok(status)
}

/// `disown [-ar] [-h] [JOBSPEC … | PID …]`: forgets jobs (they keep running).
pub async fn disown(argv: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut all = false;
    let usage = "disown [-h] [-ar] [jobspec ... | pid ...]";
    let i = match options(argv, "disown", usage, "", st, io, |c, _| match c {
        'a' => {
            all = true;
            true
        }
        'h' | 'r' => true,
        _ => false,
    })
    .await
    {
        Ok(i) => i,
        Err(code) => return Ok(code),
    };
    if all {
        st.jobs.list.clear();
        return Ok(0);
    }
    let specs: Vec<String> = if argv.len() > i {
        argv[i..].to_vec()
    } else {
        vec!["%+".into()]
    };
    let mut status = 0;
    for s in &specs {
        match st.jobs.find(s) {
            Ok(Target::Job(k)) => {
                st.jobs.list.remove(k);
            }
            Ok(Target::Reaped(_)) | Err(_) => {
                let shown = if argv.len() > i {
                    s.as_str()
                } else {
                    "current"
                };
                io.err(&format!("{}disown: {shown}: no such job\n", st.diag()))
                    .await;
                status = 1;
            }
        }
    }
    Ok(status)
}
