//! The Mirage shell (seed 004): bash parsed by our own parser into an AST,
//! expanded and executed with GNU bash 5.2 semantics.
//!
//! The shell knows no resource: it reaches files through
//! [`mirage_types::Vfs`] and runs non-builtin commands through
//! [`mirage_types::command::CommandHost`].
//!
//! ```text
//! line ──parse──▶ Script ──exec──▶ builtins / functions / CommandHost::run
//!                   │ expand: brace, tilde, $param, $(cmd), $((arith)), split, glob (Vfs)
//! ```
#![deny(missing_docs)]

pub mod alias;
pub mod arith;
pub mod ast;
pub mod bashargv;
pub mod builtins;
pub mod exec;
pub mod execfd;
pub mod expand;
mod fastpath;
pub mod funcprint;
pub mod glob;
pub mod jobs;
pub mod parse;
pub mod parsecache;
pub mod pattern;
pub mod printf;
pub mod procsub;
pub mod select;
pub mod special;
pub mod state;
pub mod test;
pub mod timecmd;
pub mod trace;
pub mod transform;
pub mod verbose;
pub mod word;

use std::sync::Arc;

use mirage_types::command::CommandHost;
use mirage_types::{Input, Sink};

pub use exec::{Flow, Interp, Io};
pub use state::ShellState;

/// Runs one input (a line or a multi-line script) like `bash -c`: complete
/// commands before a syntax error run, then the error is reported on stderr
/// with status 2. Returns the exit status.
pub async fn run(
    host: Arc<dyn CommandHost>,
    st: &mut ShellState,
    src: &str,
    stdin: Input,
    stdout: Sink,
    stderr: Sink,
) -> i32 {
    let cancel = jobs::CancellationToken::new();
    run_cancellable(host, st, src, stdin, stdout, stderr, cancel).await
}

/// [`run`] under a cancellation token and the session's wall-time limit
/// ([`state::Limits::wall_time`]): when `cancel` fires, the line stops at
/// its next await point (loops check the token and yield) with status 130
/// and no message; past the wall time it stops with status 124 and
/// `bash: line N: wall time limit of S seconds exceeded` on stderr. The
/// `EXIT` trap still runs. Background jobs the line started keep running.
pub async fn run_cancellable(
    host: Arc<dyn CommandHost>,
    st: &mut ShellState,
    src: &str,
    stdin: Input,
    stdout: Sink,
    stderr: Sink,
    cancel: jobs::CancellationToken,
) -> i32 {
    let interp = Interp::new(host);
    st.exec_fds.start_run(&stdout, &stderr);
    st.cancel = cancel.clone();
    jobs::new_line(st);
    let io = Io::new(stdin, stdout, stderr);
    let wall = st
        .limits
        .wall_time
        .filter(|_| tokio::runtime::Handle::try_current().is_ok());
    let started = tokio::time::Instant::now();
    let stopped = {
        let mut body = std::pin::pin!(run_items(&interp, st, &io, src));
        // most lines end on their first poll: then no timer and no
        // cancellation waiter is ever registered
        if cancel.is_cancelled() {
            Some(jobs::CANCELLED_STATUS)
        } else if futures::poll!(body.as_mut()).is_ready() {
            None
        } else {
            let deadline = async {
                match wall {
                    Some(d) => tokio::time::sleep_until(started + d).await,
                    None => futures::future::pending().await,
                }
            };
            // not biased: a body that spends the task's whole coop budget
            // each poll must not starve the deadline
            tokio::select! {
                () = body => None,
                () = cancel.cancelled() => Some(jobs::CANCELLED_STATUS),
                () = deadline => Some(jobs::TIMEOUT_STATUS),
            }
        }
    };
    if let Some(code) = stopped {
        if code == jobs::TIMEOUT_STATUS {
            let secs = wall.map_or(0.0, |d| d.as_secs_f64());
            io.err(&format!(
                "{}wall time limit of {secs} seconds exceeded\n",
                st.diag()
            ))
            .await;
        }
        st.last_status = code;
    }
    // `trap … EXIT` runs when the script ends (an interactive shell: when it exits)
    if (!st.interactive || st.exited)
        && let Some(action) = st.traps.remove("EXIT")
    {
        let status = st.last_status;
        // the trap runs under the line's limits too: what is left of its
        // wall time (at least a grace of a second) and its token (unless
        // the token stopped the line: then the trap still runs, in its grace)
        let left = wall.map(|d| trap_time_left(d, started.elapsed()));
        let watch_cancel = !cancel.is_cancelled();
        let trap = builtins::run_source(&interp, &action, st, &io);
        let deadline = async {
            match left {
                Some(d) => tokio::time::sleep(d).await,
                None => futures::future::pending().await,
            }
        };
        let cancelled = async {
            if watch_cancel {
                cancel.cancelled().await;
            } else {
                futures::future::pending::<()>().await;
            }
        };
        let mut timed_out = false;
        let r = tokio::select! {
            r = trap => r,
            () = cancelled => Err(Flow::Exit(jobs::CANCELLED_STATUS)),
            () = deadline => {
                timed_out = true;
                Err(Flow::Exit(jobs::TIMEOUT_STATUS))
            }
        };
        if timed_out {
            let secs = wall.map_or(0.0, |d| d.as_secs_f64());
            io.err(&format!(
                "{}wall time limit of {secs} seconds exceeded\n",
                st.diag()
            ))
            .await;
        }
        st.last_status = match r {
            Err(Flow::Exit(s)) => s,
            _ => status,
        };
    }
    // `exec > >(cmd)`: the shell is done writing to cmd
    procsub::flush_kept(&interp, st, &io, 0).await;
    // forget the run's streams: the caller's sinks close when `run` returns
    // (a reader draining a pipe sink waits for that)
    st.exec_fds.start_run(&Sink::Null, &Sink::Null);
    st.last_status
}

/// How long the `EXIT` trap of a line may run: what is left of the line's
/// `wall` time after `spent`, but at least a grace of one second (or
/// `wall`, if shorter), so a line stopped by its wall time still runs it.
fn trap_time_left(wall: std::time::Duration, spent: std::time::Duration) -> std::time::Duration {
    wall.saturating_sub(spent)
        .max(wall.min(std::time::Duration::from_secs(1)))
}

/// The commands of one input, then its syntax error if it has one.
async fn run_items(interp: &Interp, st: &mut ShellState, io: &Io, src: &str) {
    // parse under the session's settings (`extglob`, aliases), from the
    // cache when this text ran before
    alias::install(&st.parse);
    let first = parsecache::parse(src);
    let mut exited = false;
    let mut reparsed: Option<parse::Parsed> = None;
    let mut history = builtins::history::Reader::new(src);
    let mut i = 0;
    loop {
        // `shopt -s extglob`, `alias`: the next lines parse again
        if let Some(p) = alias::refresh(reparsed.as_ref().unwrap_or(&first), i, st, src) {
            reparsed = Some(p);
            i = 0;
        }
        let parsed = reparsed.as_ref().unwrap_or(&first);
        let script = &parsed.script;
        let Some(item) = script.items.get(i) else {
            break;
        };
        history.before(st, parsed, i);
        verbose::before(st, io, parsed, i, src).await;
        for (_, w) in parsed.warnings.iter().filter(|(at, _)| *at == i) {
            io.err(&format!("{}: {w}\n", st.script_name)).await;
        }
        i += 1;
        match interp.exec(item, st, io).await {
            Ok(s) | Err(Flow::Return(s)) => {
                st.last_status = s;
            }
            Err(Flow::Exit(s)) => {
                st.last_status = s;
                exited = true;
                break;
            }
            Err(Flow::Abort(s)) => {
                // bash discards the rest of the line
                st.last_status = s;
                i = script.next_line(i - 1);
            }
            Err(Flow::Break(_) | Flow::Continue(_)) => {}
        }
    }
    if !exited {
        verbose::before_error(st, io, reparsed.as_ref().unwrap_or(&first), src).await;
    }
    let parsed = reparsed.as_ref().unwrap_or(&first);
    if !exited && let Some(e) = &parsed.error {
        for (_, w) in parsed
            .warnings
            .iter()
            .filter(|(at, _)| *at >= parsed.script.items.len())
        {
            io.err(&format!("{}: {w}\n", st.script_name)).await;
        }
        io.err(&e.report(src)).await;
        st.last_status = 2;
    }
}
