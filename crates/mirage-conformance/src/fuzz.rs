//! The fuzzer's judge (`cargo xtask fuzz`): an input passes when the shell
//! finishes it, whatever it prints. A panic, a run that does not end or a
//! run that cannot start fails. The replay test of saved regressions
//! (`tests/fuzz_regressions.rs`) uses the same judge and files.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{Case, Status, run_case};

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

/// Runs `script` as a case over [`fuzz_files`] (its own thread and
/// runtime, see [`run_case`]).
///
/// # Errors
/// The reason, when the run panicked (`panic: MESSAGE`), did not end within
/// `timeout`, or could not start.
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
    match run_case(&case, timeout).status {
        Status::Passed | Status::Mismatch { .. } => Ok(()),
        Status::Panicked(m) => Err(format!("panic: {m}")),
        Status::TimedOut(d) => Err(format!("no end within {d:?}")),
        Status::SetupFailed(m) => Err(format!("could not run: {m}")),
    }
}
