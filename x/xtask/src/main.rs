//! `cargo xtask`: project tasks that are not plain `cargo` commands.
//!
//! - `cargo xtask conformance [PATH...]` runs the GNU conformance corpus.
//! - `cargo xtask bench` compares Mirage with GNU bash + coreutils.
//! - `cargo xtask test-resources` runs the resource test suites.

mod bench;
mod conformance;
mod fuzz;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Mirage project tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run conformance cases (scripts with GNU bash's recorded stdout and
    /// exit code) in-process, one fresh workspace per case.
    ///
    /// Prints each failing case with a short diff, a per-file table, and last
    /// the line `N passed, M failed`. Exits 1 if a case outside
    /// fixtures/conformance/known-failures.txt fails.
    Conformance(conformance::Args),
    /// Feed random bash built from real fragments to the whole shell for
    /// `--minutes N`; a panic, hang or failed run is shrunk and saved under
    /// fixtures/fuzz/regressions/ (replayed by the tests), and exits 1.
    Fuzz(fuzz::Args),
    /// Time in-process workloads on a RAM mount against GNU bash + coreutils
    /// on /dev/shm, print medians and ratios, and write target/bench.json.
    Bench(bench::Args),
    /// Run the resource test suites.
    ///
    /// For now this runs `cargo nextest run --workspace` (every resource's
    /// behaviour suite runs in its crate's tests). Later issues start real
    /// servers here (S3-compatible store, HTTP fixtures) before the tests.
    TestResources {
        /// Extra arguments passed to `cargo nextest run`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// (internal) Runs one bench workload in a fresh process and prints its
    /// timings and peak memory as JSON.
    #[command(hide = true)]
    BenchChild {
        /// The workload (`cat_wc`).
        workload: String,
        /// How many timed runs.
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
}

/// The repository root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conformance(args) => conformance::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::BenchChild { workload, runs } => bench::child(&workload, runs),
        Command::TestResources { args } => test_resources(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn test_resources(args: &[String]) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = std::process::Command::new(&cargo)
        .args(["nextest", "run", "--workspace"])
        .args(args)
        .current_dir(repo_root())
        .status()?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
