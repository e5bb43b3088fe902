//! Running cases: one fresh workspace per case, on its own thread, with a
//! timeout.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mirage_resource_ram::{RamLimits, RamResource};
use mirage_types::{ByteSource, MountMode, dirname};
use mirage_workspace::{Limits, Workspace};

use crate::{Case, CaseResult, Report, Status};

/// The mount every case's files live under.
pub const DATA_MOUNT: &str = "/data";

/// The session environment every case runs with (as `oracle.py` gives bash).
pub const CASE_ENV: &[(&str, &str)] = &[
    ("HOME", "/data"),
    ("PWD", "/data"),
    ("PATH", "/usr/bin:/bin"),
    ("LC_ALL", "C.UTF-8"),
    ("TZ", "UTC"),
];

/// How to run a batch of cases.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long one case may take before it counts as failed (default 10 s).
    pub timeout: Duration,
    /// How many cases run at the same time (default: the number of CPUs).
    pub jobs: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        let jobs = std::thread::available_parallelism()
            .map(std::num::NonZero::get)
            .unwrap_or(2);
        RunOptions {
            timeout: Duration::from_secs(10),
            jobs,
        }
    }
}

/// What a script printed and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutput {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error (not compared; shown in reports).
    pub stderr: Vec<u8>,
    /// Exit status.
    pub exit_code: i32,
}

/// Builds the workspace a case runs in: a fresh RAM resource mounted
/// writable at `/data` holding the case's files, the default session's cwd
/// `/data`, and the environment [`CASE_ENV`].
///
/// Files are written through the workspace's VFS (the one door for bytes),
/// after `mkdir -p` of their parent directory.
pub async fn case_workspace(case: &Case) -> Result<Workspace, String> {
    case_workspace_with(case, &CaseLimits::default()).await
}

/// Execution limits a case may run under (the fuzzer gives every input
/// small ones, so an endless loop it made ends on its own). The default
/// adds none: the workspace's and the mount's own defaults apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseLimits {
    /// The shell's limits of the case's session (`None`: [`Limits::default`]).
    pub shell: Option<Limits>,
    /// The limits of the RAM mount at [`DATA_MOUNT`] (default: none).
    pub ram: RamLimits,
}

/// [`case_workspace`] under `limits`: the session runs with
/// `limits.shell`, the `/data` mount holds at most `limits.ram`.
pub async fn case_workspace_with(case: &Case, limits: &CaseLimits) -> Result<Workspace, String> {
    let ram = Arc::new(RamResource::with_limits(limits.ram));
    let mut builder = Workspace::builder()
        .mount(DATA_MOUNT, ram, MountMode::Write)
        .cwd(DATA_MOUNT);
    if let Some(l) = limits.shell {
        builder = builder.limits(l);
    }
    for (k, v) in CASE_ENV {
        builder = builder.env(k, v);
    }
    let ws = builder
        .build()
        .map_err(|e| format!("building the workspace: {e}"))?;
    if case.files.is_empty() {
        return Ok(ws);
    }
    let vfs = ws.vfs();
    for (path, content) in &case.files {
        let parent = dirname(path);
        if parent != DATA_MOUNT && parent != "/" {
            vfs.mkdir(&parent, true)
                .await
                .map_err(|e| format!("mkdir -p {parent}: {e}"))?;
        }
        let data = ByteSource::Bytes(Bytes::from(content.clone().into_bytes()));
        vfs.write(path, data)
            .await
            .map_err(|e| format!("writing {path}: {e}"))?;
    }
    Ok(ws)
}

/// Runs a case's script in a fresh workspace (see [`case_workspace`]) with
/// empty stdin, on the current tokio runtime, without a timeout.
pub async fn execute_case(case: &Case) -> Result<CaseOutput, String> {
    execute_case_with(case, &CaseLimits::default()).await
}

/// [`execute_case`] in a workspace built by [`case_workspace_with`].
pub async fn execute_case_with(case: &Case, limits: &CaseLimits) -> Result<CaseOutput, String> {
    let ws = case_workspace_with(case, limits).await?;
    let out = ws
        .execute("default", &case.script, Some(Bytes::new()))
        .await
        .map_err(|e| format!("execute: {e}"))?;
    Ok(CaseOutput {
        stdout: out.stdout,
        stderr: out.stderr,
        exit_code: out.exit_code,
    })
}

/// Judges an output against the case's expectation.
pub fn judge(case: &Case, out: CaseOutput) -> Status {
    let stderr_ok = case
        .stderr
        .as_deref()
        .is_none_or(|want| stderr_matches(want.as_bytes(), &out.stderr));
    if out.stdout == case.stdout.as_bytes() && out.exit_code == case.exit_code && stderr_ok {
        Status::Passed
    } else {
        Status::Mismatch {
            stdout: out.stdout,
            stderr: out.stderr,
            exit_code: out.exit_code,
        }
    }
}

/// The text of a panic payload.
/// The name Mirage's shell declares for the stderr comparison: a line
/// starting with `mirage: ` stands for bash's `bash: `.
pub const SHELL_NAME: &str = "mirage";

/// Whether `got` matches the expected standard error `want` under the
/// corpus rule (fixtures/conformance/README.md, "Comparing a run with a
/// case"): equal line by line, where an expected line starting with
/// `bash: ` also matches the same line starting with `mirage: ` (the rest,
/// `line N: ` included, must be equal). Every other line is compared as it is.
pub fn stderr_matches(want: &[u8], got: &[u8]) -> bool {
    let want: Vec<&[u8]> = want.split_inclusive(|&b| b == b'\n').collect();
    let got: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    want.len() == got.len()
        && want.iter().zip(&got).all(|(w, g)| {
            if w == g {
                return true;
            }
            let own = format!("{SHELL_NAME}: ");
            match (w.strip_prefix(b"bash: "), g.strip_prefix(own.as_bytes())) {
                (Some(w), Some(g)) => w == g,
                _ => false,
            }
        })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs one case in isolation and judges it.
///
/// The case gets its own OS thread with its own tokio runtime, and runs as a
/// tokio task there, so a panic is caught (its message becomes the failure)
/// and the timeout is measured by the calling thread: even a case that spins
/// without ever yielding counts as [`Status::TimedOut`] instead of hanging
/// the run (its thread is abandoned).
pub fn run_case(case: &Case, timeout: Duration) -> CaseResult {
    run_case_with(case, timeout, CaseLimits::default())
}

/// [`run_case`] in a workspace built by [`case_workspace_with`] under
/// `limits`; `timeout` is still measured from outside (a path that never
/// checks a limit is still caught).
pub fn run_case_with(case: &Case, timeout: Duration, limits: CaseLimits) -> CaseResult {
    let start = Instant::now();
    let (tx, rx) = mpsc::channel::<Status>();
    let owned = case.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("case {}", case.name))
        .spawn(move || {
            let status =
                std::panic::catch_unwind(AssertUnwindSafe(|| run_on_own_runtime(owned, limits)))
                    .unwrap_or_else(|p| Status::Panicked(panic_message(p.as_ref())));
            let _ = tx.send(status);
        });
    let status = match spawned {
        Err(e) => Status::SetupFailed(format!("spawning the case thread: {e}")),
        Ok(handle) => match rx.recv_timeout(timeout) {
            Ok(status) => {
                let _ = handle.join();
                status
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Status::TimedOut(timeout),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Status::Panicked("the case thread died".to_string())
            }
        },
    };
    CaseResult {
        name: case.name.clone(),
        file: case.file.clone(),
        expected_stdout: case.stdout.clone(),
        expected_exit_code: case.exit_code,
        expected_stderr: case.stderr.clone(),
        status,
        elapsed: start.elapsed(),
    }
}

fn run_on_own_runtime(case: Case, limits: CaseLimits) -> Status {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(format!("case {}", case.name))
        .thread_stack_size(256 * 1024 * 1024)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Status::SetupFailed(format!("building a tokio runtime: {e}")),
    };
    let status = rt.block_on(async move {
        let task = tokio::spawn(async move {
            match execute_case_with(&case, &limits).await {
                Ok(out) => judge(&case, out),
                Err(e) => Status::SetupFailed(e),
            }
        });
        match task.await {
            Ok(status) => status,
            Err(e) if e.is_panic() => Status::Panicked(panic_message(e.into_panic().as_ref())),
            Err(e) => Status::Panicked(format!("the case task failed: {e}")),
        }
    });
    // Tasks the script left behind (background jobs) must not keep us here.
    rt.shutdown_background();
    status
}

/// Runs `cases`, `opts.jobs` at a time, each isolated as in [`run_case`],
/// and returns the results in the order of `cases`. `on_result` is called
/// as each case finishes (for progress output).
pub fn run_cases_with(
    cases: &[Case],
    opts: &RunOptions,
    on_result: &(dyn Fn(&CaseResult) + Sync),
) -> Report {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    let jobs = opts.jobs.clamp(1, cases.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let result = run_case(case, opts.timeout);
                    on_result(&result);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    let slots = slots
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let results = slots
        .into_iter()
        .zip(cases)
        .map(|(r, case)| {
            r.unwrap_or_else(|| CaseResult {
                name: case.name.clone(),
                file: case.file.clone(),
                expected_stdout: case.stdout.clone(),
                expected_exit_code: case.exit_code,
                expected_stderr: case.stderr.clone(),
                status: Status::Panicked("the runner lost this result".to_string()),
                elapsed: Duration::ZERO,
            })
        })
        .collect();
    Report { results }
}

/// Runs `cases` as [`run_cases_with`] does, without progress output.
pub fn run_cases(cases: &[Case], opts: &RunOptions) -> Report {
    run_cases_with(cases, opts, &|_| {})
}

#[cfg(test)]
mod tests {
    use super::stderr_matches;

    #[test]
    fn stderr_rule_maps_the_shell_name_only_at_line_start() {
        let want = b"bash: line 1: foo: command not found\nls: cannot access 'x'\n";
        assert!(stderr_matches(want, want));
        assert!(stderr_matches(
            want,
            b"mirage: line 1: foo: command not found\nls: cannot access 'x'\n"
        ));
        // the rest of the line, `line N: ` included, must be equal
        assert!(!stderr_matches(
            want,
            b"mirage: foo: command not found\nls: cannot access 'x'\n"
        ));
        // other lines compare as they are; no renaming of command names
        assert!(!stderr_matches(
            b"ls: cannot access 'x'\n",
            b"mirage: cannot access 'x'\n"
        ));
        // a missing or extra line fails, and so does a missing final newline
        assert!(!stderr_matches(
            want,
            b"bash: line 1: foo: command not found\n"
        ));
        assert!(!stderr_matches(b"x\n", b"x"));
        assert!(stderr_matches(b"", b""));
    }
}
