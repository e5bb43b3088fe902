//! Mirage's conformance runner.
//!
//! The corpus in `fixtures/conformance/cases/*.json` holds short scripts, the
//! files they start with, and the stdout and exit code that real GNU bash 5.2
//! and coreutils 9.1 gave (recorded by `fixtures/conformance/oracle.py`).
//! This crate runs each case in-process against a Mirage
//! [`Workspace`](mirage_workspace::Workspace) and compares stdout, the exit code
//! and, where the case records it, stderr ([`stderr_matches`] gives the
//! rule: the shell may print its own name, `mirage: `, where bash prints
//! `bash: `).
//!
//! Every case runs in a fresh workspace set up as the oracle set up bash (see
//! [`case_workspace`]): a RAM resource mounted writable at `/data` holding the
//! case's files, cwd `/data`, `HOME=/data PWD=/data PATH=/usr/bin:/bin
//! LC_ALL=C.UTF-8 TZ=UTC`, and empty stdin. Each case is isolated on its own
//! thread and runtime with a timeout ([`run_case`]): a panic or a hang is a
//! failed case, not a crashed run.
//!
//! ```no_run
//! use mirage_conformance::{KnownFailures, RenderOptions, RunOptions, load_cases, run_cases};
//!
//! let dir = mirage_conformance::fixtures_dir();
//! let cases = load_cases(&[dir.join("cases")]).unwrap();
//! let report = run_cases(&cases, &RunOptions::default());
//! let known = KnownFailures::load(&dir.join("known-failures.txt")).unwrap();
//! print!("{}", report.render(Some(&known), RenderOptions::default()));
//! ```
//!
//! `fixtures/conformance/known-failures.txt` lists the cases allowed to fail;
//! [`KnownFailures::check`] reports regressions and listed cases that pass
//! again, so the list only shrinks.
#![deny(missing_docs)]

mod case;
mod known;
mod report;
mod runner;

use std::path::PathBuf;

pub mod fuzz;
pub use case::{Case, LoadError, case_files, load_cases, load_file, parse_cases};
pub use known::{KnownCheck, KnownFailures};
pub use report::{CaseResult, FileSummary, RenderOptions, Report, Status, line_diff};
pub use runner::{
    CASE_ENV, CaseLimits, CaseOutput, DATA_MOUNT, RunOptions, SHELL_NAME, case_workspace,
    case_workspace_with, execute_case, execute_case_with, judge, run_case, run_case_with,
    run_cases, run_cases_with, stderr_matches,
};

/// `fixtures/conformance` of this source tree (README, oracle, `cases/`,
/// `known-failures.txt`), located from this crate's manifest directory.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/conformance")
}
