//! `cargo xtask`: project tasks that are not plain `cargo` commands.
//!
//! - `cargo xtask conformance [PATH...]` runs the GNU conformance corpus.
//! - `cargo xtask bench` compares Mirage with GNU bash + coreutils.
//! - `cargo xtask loadtest` puts the daemon under load (16 clients × 500
//!   `shell` calls) and reports lines/s, latency and RSS.
//! - `cargo xtask test-resources` starts the test servers (redis, moto's
//!   S3) and runs the tests against them.
//! - `cargo xtask servers` starts them and prints their environment.
//! - `cargo xtask pjdfstest` runs the POSIX suite pjdfstest in a RAM
//!   workspace mounted with FUSE (and on tmpfs, for comparison).

mod bench;
mod bench_fuse;
mod bench_s3;
mod conformance;
mod fuzz;
mod loadtest;
mod pjdfstest;
mod servers;

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
    /// Start the release `mirage daemon run` on a free port and load it:
    /// 16 concurrent clients × 500 `POST /v1/workspaces/{id}/shell`
    /// `{"command":"echo hi"}` calls; print lines/s, p50/p99 latency, failed
    /// requests and the daemon's RSS before and after. Exits 1 if a request
    /// failed.
    Loadtest(loadtest::Args),
    /// Start the test servers, run `cargo nextest run --workspace` against
    /// them, stop them, and exit with nextest's status.
    ///
    /// Installs what is missing (redis-server from apt, moto in a venv at
    /// target/test-servers/moto-venv), starts both on free loopback ports,
    /// creates the bucket `mirage-test`, and sets MIRAGE_TEST_REDIS_URL,
    /// MIRAGE_TEST_S3_ENDPOINT, MIRAGE_TEST_S3_BUCKET, MIRAGE_TEST_S3_LOG
    /// (moto's access log) and MIRAGE_TEST_REQUIRE_SERVERS=1 for the tests.
    /// The servers are stopped even when a test fails or on Ctrl-C.
    /// With `-p CRATE` among the arguments, only those crates run.
    TestResources {
        /// Extra arguments passed to `cargo nextest run`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Start the test servers, print their environment as `export` lines,
    /// and stay in the foreground until Ctrl-C (to run single tests by hand).
    Servers,
    /// Install pjdfstest (the Rust port, from crates.io, into
    /// target/pjdfstest), run it on tmpfs and then in a RAM workspace
    /// mounted with FUSE, and print the failed tests and the counts.
    ///
    /// Exits 1 if a test failed through FUSE; prints `SKIPPED:` and exits 0
    /// when /dev/fuse cannot be opened.
    Pjdfstest(pjdfstest::Args),
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
        Command::Loadtest(args) => loadtest::run(args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::BenchChild { workload, runs } => bench::child(&workload, runs),
        Command::TestResources { args } => test_resources(&args),
        Command::Servers => run_servers(),
        Command::Pjdfstest(args) => pjdfstest::run(args),
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
    let servers = servers::Servers::start()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    // `-p CRATE` among the arguments narrows the run to those crates.
    let narrowed = args
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package") || a.starts_with("-p"));
    let scope: &[&str] = if narrowed { &[] } else { &["--workspace"] };
    let mut child = std::process::Command::new(&cargo)
        .args(["nextest", "run"])
        .args(scope)
        .args(args)
        .envs(servers.env())
        .current_dir(repo_root())
        .spawn()?;
    // On Ctrl-C (which nextest, in our process group, also gets) or a
    // SIGTERM to xtask alone: stop the servers and interrupt nextest.
    let pid = child.id().to_string();
    servers.stop_on_signal(move || {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status();
    });
    let status = child.wait()?;
    drop(servers);
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

fn run_servers() -> anyhow::Result<ExitCode> {
    let servers = servers::Servers::start()?;
    for (k, v) in servers.env() {
        println!("export {k}='{}'", v.replace('\'', "'\\''"));
    }
    eprintln!("xtask: servers running; Ctrl-C stops them");
    let (tx, rx) = std::sync::mpsc::channel();
    servers.stop_on_signal(move || {
        let _ = tx.send(());
    });
    let _ = rx.recv();
    drop(servers);
    eprintln!("xtask: servers stopped");
    Ok(ExitCode::SUCCESS)
}
