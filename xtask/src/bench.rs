//! `cargo xtask bench`: Mirage in-process on a RAM mount against GNU bash +
//! coreutils on /dev/shm, in the same run.
//!
//! Workloads (names as in `target/bench.json`):
//!
//! | workload | script | data |
//! | --- | --- | --- |
//! | `echo` | `echo hi`, 1000 times (ms per 1000 lines = µs per line) | none |
//! | `grep_r` | `grep -r needle /bench` | 2,000 × 4 KB files, 1% contain `needle` |
//! | `cat_wc` | `cat /bench/big \| wc -l` | one 50 MB file |
//! | `sed_sub` | `sed 's/foo/bar/g' /bench/foo.txt \| tail -n 2` | 50 MB of words, a quarter with `foo` |
//! | `find` | `find /bench -name '*.txt' \| wc -l` | the 2,000 files (90% `.txt`) |
//! | `loop` | a 10,000-iteration loop with arithmetic | none |
//! | `cold` | `mirage execute -c 'echo hi'` as a whole process (×10 runs) | none |
//! | `sort_k` | `sort -t, -k2,2 /bench/rows.csv \| tail -n 3` | 1,000,000 CSV lines |
//! | `awk_sum` | `awk '{s+=$2} END{print s}' /bench/nums.txt` | 1,000,000 lines `KEY N WORD` |
//! | `jq_select` | `jq -c 'select(.level=="error")' /bench/events.jsonl \| wc -l` | 200,000 JSON lines |
//! | `sha256` | `sha256sum /bench/big` | the 50 MB file of `cat_wc` |
//! | `tar_gz` | `tar -czf /out/b.tgz -C /bench . && tar -tzf /out/b.tgz \| wc -l` (`/out`: a second RAM mount; GNU: a dir on /dev/shm) | the 2,000 files of `grep_r` |
//! | `s3_grep_cold` | `grep -r ERROR /s3/logs` on a fresh workspace (empty cache) | 200 objects in the local moto S3 server |
//! | `s3_grep_warm` | the same, again on the same workspace (`read: bounded, ttl: 600`) | the same |
//! | `daemon_rps` | 16 clients × 500 `POST /v1/workspaces/{id}/shell` `{"command":"echo hi"}` to the release `mirage daemon run` on loopback: lines per second (`value`, unit `lines/s`) | none |
//! | `daemon_p99_ms` | the same run's 99th-percentile latency per call (`ours_ms`) | none |
//! | `fuse_read` | a RAM workspace mounted with FUSE: sequential read with a 1 MiB buffer (`value`: MB/s through FUSE); GNU column: the same file on /dev/shm | one 1 GiB file |
//! | `fuse_small` | `stat` + read of each file through FUSE, against the same on /dev/shm | the 2,000 files of `grep_r` |
//! | `fuse_git` | `git status` on a clone of this repository copied (`cp -a`) into the FUSE mount, against the clone on /dev/shm | this repository |
//!
//! The FUSE rows ([`crate::bench_fuse`], which says how the caches are made
//! fair) are skipped, with the reason in a note, when `/dev/fuse` cannot be
//! opened; the GNU column is then the host's tmpfs, not GNU tools.
//!
//! The daemon rows run [`crate::loadtest`] once (no GNU side); the run
//! fails the rows if any request failed.
//!
//! The S3 rows ([`crate::bench_s3`]) start the test servers
//! ([`crate::servers`]) and add the requests each run sent, counted from
//! the server's access log, to `target/bench.json` (`requests`).
//!
//! Workloads over one generated file (`cat_wc`, `sort_k`, …) are rows of
//! [`DATA_WORKLOADS`]: adding one is one row (a name, a script, a file name
//! and a generator). Each runs in a child process (this binary,
//! re-executed) so its peak RSS (`VmHWM`) is its own; the report gives the
//! peak and its growth over the input's size.
//!
//! Ours: `Workspace::execute` timed in-process. GNU: `bash -c SCRIPT` timed
//! as a subprocess (process start-up included), with `/bench` rewritten to a
//! directory on /dev/shm holding the same files. For `echo`, GNU runs one
//! script of 1000 `echo hi` lines. Each workload runs once to warm up, then
//! `--runs` times; the median is reported.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;
use serde::{Deserialize, Serialize};

#[derive(clap::Args)]
pub struct Args {
    /// Timed runs per workload (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Only these workloads (comma-separated: echo,grep_r,cat_wc,sort_k,find,loop,
    /// tar_gz,s3_grep_cold,s3_grep_warm,daemon_rps,daemon_p99_ms,fuse_read,
    /// fuse_small,fuse_git); `fuse` selects the three FUSE rows.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip the GNU side.
    #[arg(long)]
    no_gnu: bool,
}

/// The workloads that need no generated file (see [`DATA_WORKLOADS`]).
const SCRIPT_WORKLOADS: [&str; 6] = ["echo", "grep_r", "find", "loop", "cold", "tar_gz"];
/// The workloads against the local S3 server (see [`crate::bench_s3`]).
const S3_WORKLOADS: [&str; 2] = ["s3_grep_cold", "s3_grep_warm"];
/// The daemon's rows (see [`crate::loadtest`]).
const DAEMON_WORKLOADS: [&str; 2] = ["daemon_rps", "daemon_p99_ms"];

/// A workload over one generated file in `/bench`.
struct DataWorkload {
    /// Its name in the table and in `--only`.
    name: &'static str,
    /// The script, naming the file as `/bench/FILE`.
    script: &'static str,
    /// The file's name under `/bench`.
    file: &'static str,
    /// Builds the file's bytes (deterministic).
    data: fn() -> Bytes,
}

/// The data workloads, in table order. Add a row to add one.
const DATA_WORKLOADS: &[DataWorkload] = &[
    DataWorkload {
        name: "cat_wc",
        script: CAT_SCRIPT,
        file: "big",
        data: || big_file().0,
    },
    DataWorkload {
        name: "sed_sub",
        script: "sed 's/foo/bar/g' /bench/foo.txt | tail -n 2",
        file: "foo.txt",
        data: foo_text,
    },
    DataWorkload {
        name: "sort_k",
        script: "sort -t, -k2,2 /bench/rows.csv | tail -n 3",
        file: "rows.csv",
        data: csv_rows,
    },
    DataWorkload {
        name: "awk_sum",
        script: "awk '{s+=$2} END{print s}' /bench/nums.txt",
        file: "nums.txt",
        data: num_rows,
    },
    DataWorkload {
        name: "jq_select",
        script: "jq -c 'select(.level==\"error\")' /bench/events.jsonl | wc -l",
        file: "events.jsonl",
        data: json_lines,
    },
    DataWorkload {
        name: "sha256",
        script: "sha256sum /bench/big",
        file: "big",
        data: || big_file().0,
    },
];

/// Every workload name, in table order.
fn workload_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SCRIPT_WORKLOADS[..2].to_vec();
    v.extend(DATA_WORKLOADS.iter().map(|d| d.name));
    v.extend_from_slice(&SCRIPT_WORKLOADS[2..]);
    v.extend_from_slice(&S3_WORKLOADS);
    v.extend_from_slice(&DAEMON_WORKLOADS);
    v.extend_from_slice(&crate::bench_fuse::WORKLOADS);
    v
}
const N_FILES: usize = 2000;
const FILE_SIZE: usize = 4096;
const BIG_SIZE: usize = 50 * 1024 * 1024;
const ECHO_LINES: usize = 1000;
const GREP_SCRIPT: &str = "grep -r needle /bench";
const CAT_SCRIPT: &str = "cat /bench/big | wc -l";
const FIND_SCRIPT: &str = "find /bench -name '*.txt' | wc -l";
/// The `tar_gz` workload: the 2,000 files to a gzip archive on a second
/// RAM mount, then listed.
const TAR_SCRIPT: &str = "tar -czf /out/b.tgz -C /bench . && tar -tzf /out/b.tgz | wc -l";
const LOOP_SCRIPTS: [&str; 2] = [
    "s=0; for ((i=0; i<10000; i++)); do s=$((s+i)); done; echo $s",
    "i=0; s=0; while [ $i -lt 10000 ]; do s=$((s+i)); i=$((i+1)); done; echo $s",
];
const LOOP_EXPECTED: &str = "49995000\n";
/// The `cold` workload's line (a whole `mirage` process against `bash -c`).
const COLD_SCRIPT: &str = "echo hi";
/// How long one in-process run may take before the workload is abandoned.
const OURS_TIMEOUT: Duration = Duration::from_secs(120);
const ENV: &[(&str, &str)] = &[
    ("HOME", "/bench"),
    ("PATH", "/usr/bin:/bin"),
    ("LC_ALL", "C.UTF-8"),
    ("TZ", "UTC"),
];

/// One row of `target/bench.json`.
#[derive(Debug, Clone, Serialize)]
struct Row {
    workload: &'static str,
    ours_ms: Option<f64>,
    gnu_ms: Option<f64>,
    ratio: Option<f64>,
    peak_rss_mb: Option<f64>,
    /// The S3 requests of one run (the S3 rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<crate::bench_s3::Requests>,
    /// A figure that is not a time (`daemon_rps`), in `unit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    /// The unit of `value` (`lines/s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'static str>,
}

/// What the `bench-child` process prints.
#[derive(Debug, Serialize, Deserialize)]
struct ChildReport {
    times_ms: Vec<f64>,
    stdout: String,
    /// Peak RSS after the big file was built, before the first run (kB).
    baseline_hwm_kb: Option<u64>,
    /// Peak RSS at the end (kB).
    hwm_kb: Option<u64>,
    /// The size of the input file (bytes).
    input_bytes: u64,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---------------------------------------------------------------- data ---

/// A deterministic pseudo-random generator (no dependency needed).
pub(crate) struct Lcg(pub(crate) u64);
impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const WORDS: [&str; 16] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa",
];

/// The 2,000 small files: `dNN/fNNNN.txt` (every tenth is `.log`), 4 KB of
/// words each; files 42, 142, … (1%) contain `needle` on one line.
fn small_files() -> Vec<(String, Bytes)> {
    let mut rng = Lcg(42);
    (0..N_FILES)
        .map(|i| {
            let ext = if i % 10 == 9 { "log" } else { "txt" };
            let path = format!("d{:02}/f{i:04}.{ext}", i / 100);
            let mut buf = Vec::with_capacity(FILE_SIZE);
            let mut line_no = 0;
            while buf.len() < FILE_SIZE {
                let mut line = format!("{line_no:04}");
                for _ in 0..8 {
                    line.push(' ');
                    line.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
                }
                if i % 100 == 42 && line_no == 20 {
                    line.push_str(" needle");
                }
                line.push('\n');
                buf.extend_from_slice(line.as_bytes());
                line_no += 1;
            }
            buf.truncate(FILE_SIZE - 1);
            buf.push(b'\n');
            (path, Bytes::from(buf))
        })
        .collect()
}

/// The 50 MB file, built once in one allocation and frozen without a copy.
/// Returns the bytes and its number of lines.
fn big_file() -> (Bytes, usize) {
    let mut buf: Vec<u8> = Vec::with_capacity(BIG_SIZE);
    let mut n = 0usize;
    let filler = b" the quick brown fox jumps over the lazy dog, again and again\n";
    loop {
        let prefix = format!("{n:010}");
        if buf.len() + prefix.len() + filler.len() > BIG_SIZE {
            break;
        }
        buf.extend_from_slice(prefix.as_bytes());
        buf.extend_from_slice(filler);
        n += 1;
    }
    (Bytes::from(buf), n)
}

/// 50 MB of lines of pseudo-random words for `sed_sub`; a quarter of
/// the words are or hold `foo` (`foo`, `foobar`, `food`).
fn foo_text() -> Bytes {
    let mut rng = Lcg(5);
    let words: [&[u8]; 12] = [
        b"foo", b"alpha", b"bravo", b"foobar", b"charlie", b"delta", b"echo", b"food", b"golf",
        b"hotel", b"india", b"juliet",
    ];
    let mut buf = Vec::with_capacity(BIG_SIZE);
    while buf.len() + 200 < BIG_SIZE {
        let n = 4 + rng.next() % 12;
        for i in 0..n {
            if i > 0 {
                buf.push(b' ');
            }
            buf.extend_from_slice(words[(rng.next() % 12) as usize]);
        }
        buf.push(b'\n');
    }
    Bytes::from(buf)
}

/// 1,000,000 lines `KEY N WORD` for `awk_sum` (N below 100,000).
fn num_rows() -> Bytes {
    let mut rng = Lcg(5);
    let words = ["alpha", "bravo", "charlie", "delta"];
    let mut buf = Vec::with_capacity(24 * 1_000_000);
    for i in 0..1_000_000u32 {
        let n = rng.next() % 100_000;
        let w = words[(rng.next() % 4) as usize];
        buf.extend_from_slice(format!("k{} {n} {w}\n", i % 1000).as_bytes());
    }
    Bytes::from(buf)
}

/// 1,000,000 CSV lines `N,KEY,VALUE` with 5-letter pseudo-random keys
/// (many ties, so the whole-line last resort of `sort -k` is exercised).
fn csv_rows() -> Bytes {
    let mut rng = Lcg(7);
    let mut buf = Vec::with_capacity(32 * 1_000_000);
    for n in 0..1_000_000u32 {
        let mut key = [0u8; 5];
        for k in &mut key {
            *k = b'a' + (rng.next() % 20) as u8;
        }
        let v = rng.next() % 100_000;
        buf.extend_from_slice(format!("{n},").as_bytes());
        buf.extend_from_slice(&key);
        buf.extend_from_slice(format!(",{v}\n").as_bytes());
    }
    Bytes::from(buf)
}

/// 200,000 JSON log lines for `jq_select`: one in eight has level `error`.
fn json_lines() -> Bytes {
    let mut rng = Lcg(11);
    let levels = [
        "info", "debug", "warn", "info", "info", "debug", "info", "error",
    ];
    let mut buf = Vec::with_capacity(110 * 200_000);
    for n in 0..200_000u32 {
        let level = levels[(rng.next() % 8) as usize];
        let ms = rng.next() % 5000;
        let user = rng.next() % 1000;
        buf.extend_from_slice(
            format!(
                "{{\"ts\":\"2024-01-15T10:{:02}:{:02}Z\",\"level\":\"{level}\",\"user\":\"u{user}\",\"ms\":{ms},\"n\":{n},\"msg\":\"request handled\"}}\n",
                (n / 60) % 60,
                n % 60
            )
            .as_bytes(),
        );
    }
    Bytes::from(buf)
}

fn workspace_with(files: &[(String, Bytes)]) -> anyhow::Result<Workspace> {
    let ram = Arc::new(RamResource::new());
    for (path, data) in files {
        ram.insert_file(&format!("/{path}"), data.clone())
            .map_err(|e| anyhow!("inserting {path}: {e}"))?;
    }
    let mut b = Workspace::builder()
        .mount("/bench", ram, MountMode::Write)
        .cwd("/bench");
    for (k, v) in ENV {
        b = b.env(k, v);
    }
    b.build()
        .map_err(|e| anyhow!("building the workspace: {e}"))
}

/// The `tar_gz` workspace: the files at `/bench` and an empty RAM mount at
/// `/out` for the archive.
fn tar_workspace(files: &[(String, Bytes)]) -> anyhow::Result<Workspace> {
    let ram = Arc::new(RamResource::new());
    for (path, data) in files {
        ram.insert_file(&format!("/{path}"), data.clone())
            .map_err(|e| anyhow!("inserting {path}: {e}"))?;
    }
    let mut b = Workspace::builder()
        .mount("/bench", ram, MountMode::Write)
        .mount("/out", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/bench");
    for (k, v) in ENV {
        b = b.env(k, v);
    }
    b.build()
        .map_err(|e| anyhow!("building the workspace: {e}"))
}

// ---------------------------------------------------------------- ours ---

/// Runs `script` once in the default session.
async fn exec(ws: &Workspace, script: &str) -> anyhow::Result<(Vec<u8>, i32)> {
    let out = tokio::time::timeout(
        OURS_TIMEOUT,
        ws.execute("default", script, Some(Bytes::new())),
    )
    .await
    .map_err(|_| anyhow!("`{script}` took longer than {}s", OURS_TIMEOUT.as_secs()))?
    .map_err(|e| anyhow!("`{script}`: {e}"))?;
    Ok((out.stdout, out.exit_code))
}

/// Warm-up, then `runs` timed runs; returns the times (ms) and the first stdout.
async fn time_ours(
    ws: &Workspace,
    script: &str,
    runs: usize,
) -> anyhow::Result<(Vec<f64>, Vec<u8>)> {
    let (stdout, _) = exec(ws, script).await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        exec(ws, script).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((times, stdout))
}

/// `echo hi` ×1000 per run; returns the times (ms per 1000 lines).
async fn time_ours_echo(ws: &Workspace, runs: usize) -> anyhow::Result<(Vec<f64>, Vec<u8>)> {
    let (stdout, _) = exec(ws, "echo hi").await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        for _ in 0..ECHO_LINES {
            exec(ws, "echo hi").await?;
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((times, stdout))
}

// ----------------------------------------------------------------- gnu ---

/// Runs `bash ARGS` once; returns the wall time (ms) and stdout.
fn bash_once(dir: &Path, args: &[&str]) -> anyhow::Result<(f64, Vec<u8>)> {
    let t = Instant::now();
    let out = std::process::Command::new("bash")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(ENV.iter().map(|(k, v)| {
            (
                *k,
                if *k == "HOME" {
                    dir.to_str().unwrap_or("/")
                } else {
                    *v
                },
            )
        }))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .context("running bash")?;
    Ok((t.elapsed().as_secs_f64() * 1e3, out.stdout))
}

/// The `mirage` binary of this build's profile (`target/release/mirage`
/// next to the running xtask), built first so the `cold` workload times a
/// fresh binary.
pub(crate) fn mirage_binary() -> anyhow::Result<PathBuf> {
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--release", "--bin", "mirage"])
            .current_dir(crate::repo_root())
            .status()
            .context("running cargo build --bin mirage")?;
    if !status.success() {
        bail!("cargo build --release --bin mirage failed");
    }
    let exe = std::env::current_exe().context("locating xtask")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("xtask has no directory"))?;
    Ok(dir.join("mirage"))
}

/// `mirage execute -c 'echo hi'` as a whole process, `runs` times: the
/// cold start a user sees (runtime, registry, workspace, parse, run, exit).
fn time_cold(runs: usize) -> anyhow::Result<(Vec<f64>, Vec<u8>)> {
    let bin = mirage_binary()?;
    let once = || -> anyhow::Result<(f64, Vec<u8>)> {
        let t = Instant::now();
        let out = std::process::Command::new(&bin)
            .args(["execute", "-c", COLD_SCRIPT])
            .env_clear()
            .envs(ENV.iter().copied())
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        Ok((t.elapsed().as_secs_f64() * 1e3, out.stdout))
    };
    let (_, stdout) = once()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(once()?.0);
    }
    Ok((times, stdout))
}

fn time_gnu(dir: &Path, args: &[&str], runs: usize) -> anyhow::Result<(Vec<f64>, Vec<u8>)> {
    let (_, stdout) = bash_once(dir, args)?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(bash_once(dir, args)?.0);
    }
    Ok((times, stdout))
}

/// A scratch directory on /dev/shm (or the temp dir), removed on drop.
struct Scratch(PathBuf);
impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("mirage-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }
    fn write(&self, rel: &str, data: &[u8]) -> anyhow::Result<()> {
        let p = self.0.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, data).with_context(|| format!("writing {}", p.display()))
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The script with `/bench` pointing at `dir`.
fn gnu_script(script: &str, dir: &Path) -> String {
    script.replace("/bench", &dir.display().to_string())
}

// ---------------------------------------------------------------- main ---

fn sorted_lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    v.sort();
    v
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runs = args.runs.max(1);
    let all = workload_names();
    let selected: Vec<&'static str> = if args.only.is_empty() {
        all.clone()
    } else {
        for w in &args.only {
            if w != "fuse" && !all.contains(&w.as_str()) {
                bail!("unknown workload {w:?} (known: {})", all.join(", "));
            }
        }
        all.iter()
            .copied()
            .filter(|w| {
                args.only
                    .iter()
                    .any(|o| o == w || (o == "fuse" && w.starts_with("fuse_")))
            })
            .collect()
    };
    let rt = runtime()?;
    let scratch = Scratch::new()?;
    let small = small_files();
    let small_dir = scratch.0.join("small");
    let big_dir = scratch.0.join("bigdir");
    for (p, data) in &small {
        scratch.write(&format!("small/{p}"), data)?;
    }
    std::fs::create_dir_all(&big_dir)?;
    let small_ws = workspace_with(&small)?;
    let empty_ws = workspace_with(&[])?;
    let s3 = selected
        .iter()
        .any(|w| S3_WORKLOADS.contains(w))
        .then(|| crate::bench_s3::bench(&rt, runs, args.no_gnu, &scratch.0.join("s3logs")));
    let daemon = selected
        .iter()
        .any(|w| DAEMON_WORKLOADS.contains(w))
        .then(|| crate::loadtest::measure_release(&rt));

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for &w in &selected {
        eprintln!("bench: {w} ...");
        let mut ours: anyhow::Result<(Vec<f64>, Vec<u8>)> = Err(anyhow!("not run"));
        let mut gnu: anyhow::Result<(Vec<f64>, Vec<u8>)> = Err(anyhow!("not run"));
        let mut peak = None;
        let mut requests = None;
        let mut value = None;
        let mut unit = "lines/s";
        let mut skipped = None;
        let mut compare_sorted = false;
        match w {
            "echo" => {
                ours = rt.block_on(time_ours_echo(&empty_ws, runs));
                if !args.no_gnu {
                    scratch.write("echo.sh", "echo hi\n".repeat(ECHO_LINES).as_bytes())?;
                    let script = scratch.0.join("echo.sh");
                    let script = script
                        .to_str()
                        .ok_or_else(|| anyhow!("non-UTF-8 scratch path"))?;
                    // Compare one line's output: the script prints 1000.
                    gnu = time_gnu(&scratch.0, &[script], runs).map(|(t, _)| (t, b"hi\n".to_vec()));
                }
                notes.push("echo: ms for 1000 lines, i.e. µs per line".to_string());
            }
            "cold" => {
                // ten times the runs: a process start is short and noisy
                ours = time_cold(runs * 10);
                if !args.no_gnu {
                    gnu = time_gnu(&scratch.0, &["-c", COLD_SCRIPT], runs * 10);
                }
                notes.push("cold: one whole process (`mirage execute -c 'echo hi'` against `bash -c 'echo hi'`)".into());
            }
            "grep_r" => {
                ours = rt.block_on(time_ours(&small_ws, GREP_SCRIPT, runs));
                if !args.no_gnu {
                    gnu = time_gnu(
                        &scratch.0,
                        &["-c", &gnu_script(GREP_SCRIPT, &small_dir)],
                        runs,
                    )
                    .map(|(t, out)| (t, fix_paths(&out, &small_dir)));
                }
                compare_sorted = true;
            }
            "tar_gz" => {
                let ws = tar_workspace(&small);
                ours = match ws {
                    Ok(ws) => rt.block_on(time_ours(&ws, TAR_SCRIPT, runs)),
                    Err(e) => Err(e),
                };
                if !args.no_gnu {
                    let out_dir = scratch.0.join("tarout");
                    std::fs::create_dir_all(&out_dir)?;
                    let script = gnu_script(TAR_SCRIPT, &small_dir)
                        .replace("/out/", &format!("{}/", out_dir.display()));
                    gnu = time_gnu(&scratch.0, &["-c", &script], runs);
                }
            }
            "find" => {
                ours = rt.block_on(time_ours(&small_ws, FIND_SCRIPT, runs));
                if !args.no_gnu {
                    gnu = time_gnu(
                        &scratch.0,
                        &["-c", &gnu_script(FIND_SCRIPT, &small_dir)],
                        runs,
                    );
                }
            }
            _ if crate::bench_fuse::WORKLOADS.contains(&w) => {
                use crate::bench_fuse::Outcome;
                match crate::bench_fuse::bench(
                    &rt,
                    w,
                    runs,
                    args.no_gnu,
                    &small,
                    &small_dir,
                    &scratch.0,
                ) {
                    Outcome::Skipped(why) => skipped = Some(why),
                    Outcome::Done(Ok(m)) => {
                        ours = Ok((m.fuse_ms, m.fuse_out));
                        if let Some(t) = m.tmpfs {
                            gnu = Ok(t);
                        }
                        if let Some((v, u)) = m.value {
                            value = Some(v);
                            unit = u;
                        }
                        notes.extend(m.notes);
                    }
                    Outcome::Done(Err(e)) => ours = Err(e),
                }
            }
            _ if data_workload(w).is_some() => {
                let Some(d) = data_workload(w) else {
                    continue;
                };
                match child_run(w, runs) {
                    Ok(r) => {
                        peak = r.hwm_kb.map(|kb| kb as f64 / 1024.0);
                        if let (Some(b), Some(h)) = (r.baseline_hwm_kb, r.hwm_kb) {
                            let growth = h.saturating_sub(b) as f64 / 1024.0;
                            let input = r.input_bytes as f64 / (1024.0 * 1024.0);
                            notes.push(format!(
                                "{w}: peak RSS {:.1} MB, of which {:.1} MB before the first run (the {input:.1} MB input in RAM); growth {growth:.1} MB = {:.2}x the input",
                                h as f64 / 1024.0,
                                b as f64 / 1024.0,
                                if input > 0.0 { growth / input } else { 0.0 }
                            ));
                        }
                        ours = Ok((r.times_ms, r.stdout.into_bytes()));
                    }
                    Err(e) => ours = Err(e),
                }
                if !args.no_gnu {
                    let data = (d.data)();
                    std::fs::write(big_dir.join(d.file), &data)?;
                    drop(data);
                    gnu = time_gnu(&scratch.0, &["-c", &gnu_script(d.script, &big_dir)], runs)
                        .map(|(t, out)| (t, fix_paths(&out, &big_dir)));
                    let _ = std::fs::remove_file(big_dir.join(d.file));
                }
            }
            "s3_grep_cold" | "s3_grep_warm" => match &s3 {
                Some(Ok(r)) => {
                    let cold = w == "s3_grep_cold";
                    let times = if cold { &r.cold_ms } else { &r.warm_ms };
                    ours = Ok((times.clone(), r.stdout.clone()));
                    let q = if cold {
                        r.cold_requests
                    } else {
                        r.warm_requests
                    };
                    requests = Some(q);
                    if let Some(g) = &r.gnu {
                        gnu = match g {
                            Ok(x) => Ok(x.clone()),
                            Err(e) => Err(anyhow!("{e:#}")),
                        };
                    }
                    compare_sorted = true;
                    notes.push(format!(
                        "{w}: requests per run (moto's log): {} listings, {} GETs, {} answered 304, {} other{}",
                        q.listings,
                        q.gets,
                        q.not_modified,
                        q.other,
                        if cold {
                            format!("; {} objects, each run on a fresh workspace", crate::bench_s3::OBJECTS)
                        } else {
                            String::new()
                        }
                    ));
                }
                Some(Err(e)) => ours = Err(anyhow!("{e:#}")),
                None => {}
            },
            "daemon_rps" | "daemon_p99_ms" => match &daemon {
                Some(Ok(r)) => {
                    if w == "daemon_rps" {
                        // not a time: the figure is `value`
                        ours = Ok((Vec::new(), Vec::new()));
                        value = Some(r.lines_per_s);
                        notes.push(format!(
                            "daemon (one run, not a median): {} clients x {} `echo hi` calls: {:.0} lines/s, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, 0 failed; daemon RSS {} MB before, {} MB after; load average {} at the start",
                            r.clients,
                            r.calls_per_client,
                            r.lines_per_s,
                            r.p50_ms,
                            r.p99_ms,
                            r.max_ms,
                            r.rss_before_kb.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
                            r.rss_after_kb.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
                            r.load_avg.map_or("?".into(), |l| format!("{l:.2}")),
                        ));
                    } else {
                        ours = Ok((vec![r.p99_ms], Vec::new()));
                    }
                }
                Some(Err(e)) => ours = Err(anyhow!("{e:#}")),
                None => {}
            },
            "loop" => {
                let mut chosen = None;
                let mut got = Vec::new();
                for script in LOOP_SCRIPTS {
                    match rt.block_on(exec(&empty_ws, script)) {
                        Ok((out, _)) if out == LOOP_EXPECTED.as_bytes() => {
                            chosen = Some(script);
                            break;
                        }
                        Ok((out, code)) => got.push(format!(
                            "`{script}` gave {:?} (exit {code})",
                            String::from_utf8_lossy(&out)
                        )),
                        Err(e) => got.push(format!("{e:#}")),
                    }
                }
                match chosen {
                    Some(script) => {
                        if script != LOOP_SCRIPTS[0] {
                            notes.push("loop: the shell cannot run `for ((…))` yet; timed the `while [ … ]` loop".into());
                        }
                        ours = rt.block_on(time_ours(&empty_ws, script, runs));
                        if !args.no_gnu {
                            gnu = time_gnu(&scratch.0, &["-c", script], runs);
                        }
                    }
                    None => {
                        ours = Err(anyhow!(
                            "the shell cannot run the loop yet: {}",
                            got.join("; ")
                        ));
                        if !args.no_gnu {
                            gnu = time_gnu(&scratch.0, &["-c", LOOP_SCRIPTS[0]], runs);
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(why) = &skipped {
            notes.push(format!("{w}: SKIPPED: {why}"));
            gnu = Err(anyhow!("skipped"));
        }
        let ours_ms = match &ours {
            Ok((t, _)) => median(t.clone()),
            Err(_) if skipped.is_some() => None,
            Err(e) => {
                notes.push(format!("{w}: ours failed: {e:#}"));
                None
            }
        };
        let gnu_ms = match &gnu {
            Ok((t, _)) => median(t.clone()),
            Err(e) => {
                if !args.no_gnu && skipped.is_none() {
                    notes.push(format!("{w}: GNU failed: {e:#}"));
                }
                None
            }
        };
        let round = |x: Option<f64>| x.map(|v| (v * 1e4).round() / 1e4);
        let (ours_ms, gnu_ms, peak) = (round(ours_ms), round(gnu_ms), round(peak));
        if let (Ok((_, a)), Ok((_, b))) = (&ours, &gnu) {
            let same = if compare_sorted {
                sorted_lines(a) == sorted_lines(b)
            } else {
                a == b
            };
            if !same {
                notes.push(format!(
                    "{w}: ours and GNU print different output: ours {:?}…, GNU {:?}…",
                    String::from_utf8_lossy(&a[..a.len().min(80)]),
                    String::from_utf8_lossy(&b[..b.len().min(80)])
                ));
            }
        }
        let ratio = match (ours_ms, gnu_ms) {
            (Some(o), Some(g)) if g > 0.0 => round(Some(o / g)),
            _ => None,
        };
        rows.push(Row {
            workload: w,
            ours_ms,
            gnu_ms,
            ratio,
            peak_rss_mb: peak,
            requests,
            value,
            unit: value.map(|_| unit),
        });
    }

    print_table(&rows, runs);
    for n in &notes {
        println!("note: {n}");
    }
    let out = crate::repo_root().join("target");
    std::fs::create_dir_all(&out)?;
    let path = out.join("bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// GNU's `grep -r` output names the scratch dir; name `/bench` instead.
fn fix_paths(out: &[u8], dir: &Path) -> Vec<u8> {
    String::from_utf8_lossy(out)
        .replace(&dir.display().to_string(), "/bench")
        .into_bytes()
}

fn print_table(rows: &[Row], runs: usize) {
    let f = |v: Option<f64>, suffix: &str| {
        v.map_or_else(|| "-".to_string(), |x| format!("{x:.3}{suffix}"))
    };
    println!("median of {runs} runs");
    println!(
        "{:<12} {:>12} {:>12} {:>10} {:>13}",
        "workload", "ours ms", "gnu ms", "ours/gnu", "peak RSS MB"
    );
    for r in rows {
        println!(
            "{:<12} {:>12} {:>12} {:>10} {:>13}",
            r.workload,
            match (r.ours_ms, r.value) {
                (None, Some(v)) => format!("{v:.0} {}", r.unit.unwrap_or("")),
                _ => f(r.ours_ms, ""),
            },
            f(r.gnu_ms, ""),
            r.ratio
                .map_or_else(|| "-".to_string(), |x| format!("{x:.2}x")),
            r.peak_rss_mb
                .map_or_else(|| "-".to_string(), |x| format!("{x:.1}")),
        );
    }
}

// --------------------------------------------------------------- child ---

/// The data workload named `name`.
fn data_workload(name: &str) -> Option<&'static DataWorkload> {
    DATA_WORKLOADS.iter().find(|d| d.name == name)
}

/// Re-executes this binary as `bench-child NAME` and reads its report.
fn child_run(name: &str, runs: usize) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let out = std::process::Command::new(exe)
        .args(["bench-child", name, "--runs", &runs.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running the bench child")?;
    if !out.status.success() {
        bail!("the bench child failed ({})", out.status);
    }
    serde_json::from_slice(&out.stdout).context("reading the bench child's report")
}

/// `VmHWM` (peak resident set) of this process, in kB.
fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The hidden `bench-child` subcommand: runs one workload in this fresh
/// process and prints a [`ChildReport`] as JSON.
pub fn child(workload: &str, runs: usize) -> anyhow::Result<ExitCode> {
    let Some(d) = data_workload(workload) else {
        bail!("bench-child: unknown workload {workload:?}");
    };
    let rt = runtime()?;
    let data = (d.data)();
    let input_bytes = data.len() as u64;
    let ws = workspace_with(&[(d.file.to_string(), data)])?;
    let baseline_hwm_kb = vm_hwm_kb();
    let (times_ms, stdout) = rt.block_on(time_ours(&ws, d.script, runs.max(1)))?;
    let hwm_kb = vm_hwm_kb();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    let report = ChildReport {
        times_ms,
        stdout,
        baseline_hwm_kb,
        hwm_kb,
        input_bytes,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}
