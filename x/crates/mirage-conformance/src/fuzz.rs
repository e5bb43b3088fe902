//! The fuzzer's judge (`cargo xtask fuzz`): an input passes when the shell
//! finishes it, whatever it prints. A panic, a run that does not end or a
//! run that cannot start fails. The replay test of saved regressions
//! (`tests/fuzz_regressions.rs`) uses the same judge and files.
//!
//! Every input runs under small execution limits ([`fuzz_limits`]: the
//! workspace config's `limits:` keys, and a bounded `/data` mount), so an
//! endless loop the generator made (`while read -<<r v; do …; done`) ends on
//! its own, by its loop-iteration or wall-time limit, with a message and a
//! status. An input that outlives its wall time by a clear margin (the
//! timeout measured from outside, [`HANG_TIMEOUT`] by default) is a real
//! bug: some path does not check the limits.

use std::collections::BTreeMap;
use std::time::Duration;

use mirage_resource_ram::RamLimits;
use mirage_workspace::{Limits, LimitsConfig};

use crate::{Case, CaseLimits, Status, run_case_with};

/// The wall time of one fuzz input, in seconds (the `limits:` key
/// `wall_time_secs`).
pub const WALL_TIME_SECS: f64 = 2.0;

/// How long an input may run, measured from outside, before it counts as
/// a hang: ten times its own wall time, a clear margin even on a busy host.
pub const HANG_TIMEOUT: Duration = Duration::from_secs(20);

/// The limits every fuzz input runs under: the workspace config's
/// `limits:` section with a wall time of [`WALL_TIME_SECS`], 100,000 loop
/// iterations, 1,000,000 commands, 16 MiB of output, 16 MiB values and 16
/// background jobs; the `/data` mount holds at most 64 MiB in 10,000
/// entries.
pub fn fuzz_limits() -> CaseLimits {
    let config = LimitsConfig {
        wall_time_secs: Some(WALL_TIME_SECS),
        max_loop_iterations: Some(100_000),
        max_commands: Some(1_000_000),
        max_output_bytes: Some(16 << 20),
        max_value_bytes: Some(16 << 20),
        max_jobs: Some(16),
        ..LimitsConfig::default()
    };
    CaseLimits {
        shell: Some(config.apply(Limits::default())),
        ram: RamLimits {
            max_bytes: Some(64 << 20),
            max_entries: Some(10_000),
        },
    }
}

/// The files every fuzz input starts with, under `/data`.
pub fn fuzz_files() -> BTreeMap<String, String> {
    [
        (
            "/data/f.txt",
            "alpha beta\ngamma delta\nalpha 3\n\nlast line\n",
        ),
        ("/data/n.txt", "3\n1\n2\n10\n"),
        ("/data/j.json", "{\"a\":1,\"b\":[1,2,{\"c\":\"x\"}]}\n"),
        ("/data/d/x.csv", "k,v\na,1\nb,2\n"),
        (
            "/data/s.sh",
            "echo in-script \"$1\"\nreturn 2 2>/dev/null || exit 3\n",
        ),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_string(), c.to_string()))
    .collect()
}

/// Runs `script` as a case over [`fuzz_files`] under [`fuzz_limits`] (its
/// own thread and runtime, see [`run_case_with`]).
///
/// # Errors
/// The reason, when the run panicked (`panic: MESSAGE`), did not end within
/// `timeout` (measured from outside: past its own wall-time limit), or
/// could not start.
pub fn survives(script: &str, timeout: Duration) -> Result<(), String> {
    let case = Case {
        name: "fuzz".into(),
        tags: vec![],
        files: fuzz_files(),
        script: script.to_string(),
        stdout: String::new(),
        stderr: None,
        exit_code: 0,
        file: String::new(),
    };
    match run_case_with(&case, timeout, fuzz_limits()).status {
        Status::Passed | Status::Mismatch { .. } => Ok(()),
        Status::Panicked(m) => Err(format!("panic: {m}")),
        Status::TimedOut(d) => Err(format!("no end within {d:?}")),
        Status::SetupFailed(m) => Err(format!("could not run: {m}")),
    }
}
