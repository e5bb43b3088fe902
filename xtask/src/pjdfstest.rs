//! `cargo xtask pjdfstest`: the POSIX file system test suite pjdfstest
//! (its Rust port, crate `pjdfstest` on crates.io, pinned to
//! [`VERSION`]) run in a RAM workspace mounted with FUSE, and, for
//! comparison, in a directory on the host's tmpfs.
//!
//! - Installs the runner with `cargo install --locked --version =VERSION
//!   --root target/pjdfstest pjdfstest` (cargo skips it when installed).
//! - Writes its configuration to `target/pjdfstest/pjdfstest.toml`: the
//!   Linux syscalls as features (`posix_fallocate`, `utimensat`,
//!   `utime_now`), `naptime` 0.01 s, no remounts, and the existing system
//!   users `nobody`/`nogroup` and `daemon`/`daemon` as its two dummy users
//!   (nothing is added to the host's users).
//! - Mounts an empty RAM workspace at `/` of a temp directory (the RAM
//!   mount at `/fs`, writable) with `allow_other`, since the suite switches
//!   to the dummy users, and runs the suite in `MOUNT/fs` on a
//!   multi-threaded runtime (the FUSE answers run on it).
//! - Prints the failed test names with their first message line, the
//!   suite's summary for both, and last `N passed, M failed, K skipped`
//!   (FUSE). Each run's whole output is kept in
//!   `target/pjdfstest/{fuse,tmpfs}.log`.
//!
//! Exits 0 when no test failed through FUSE, 1 when one did, and 2 when
//! the suite could not be run. Without `/dev/fuse` it prints `SKIPPED:`
//! and the reason, and exits 0.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use mirage_fuse::FuseOptions;
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

/// The pjdfstest release installed.
pub const VERSION: &str = "0.2.2";

/// The suite's configuration (see the module doc).
const CONFIG: &str = r#"# written by cargo xtask pjdfstest
[features]
posix_fallocate = {}
utimensat = {}
utime_now = {}

[settings]
naptime = 0.01
allow_remount = false

[dummy_auth]
entries = [["nobody", "nogroup"], ["daemon", "daemon"]]
"#;

#[derive(clap::Args)]
pub struct Args {
    /// Only the tests whose names match these patterns (pjdfstest's
    /// filter, e.g. `chmod` or `rename::`).
    patterns: Vec<String>,
    /// Skip the tmpfs run.
    #[arg(long)]
    no_tmpfs: bool,
}

/// The counts of one run, from the runner's lines `NAME   ok|FAILED|skipped`.
#[derive(Debug, Default)]
struct Counts {
    passed: usize,
    failed: Vec<(String, String)>,
    skipped: usize,
    /// The runner's own `Summary:` line.
    summary: Option<String>,
}

fn parse(out: &str) -> Counts {
    let mut c = Counts::default();
    let lines: Vec<&str> = out.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_end();
        if let Some(s) = t.strip_prefix("Summary: ") {
            c.summary = Some(s.to_string());
        } else if line.starts_with('\t') {
            // a message under the test above
        } else if t.ends_with(" ok") {
            c.passed += 1;
        } else if let Some(name) = t.strip_suffix(" FAILED") {
            let why = lines
                .get(i + 1)
                .filter(|l| l.starts_with('\t'))
                .map_or(String::new(), |l| l.trim().to_string());
            c.failed.push((name.trim().to_string(), why));
        } else if t.ends_with(" skipped") {
            c.skipped += 1;
        }
    }
    c
}

/// Installs the runner under `target/pjdfstest`; its path.
fn install(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("pjdfstest: cargo install pjdfstest {VERSION} ...");
    let status = Command::new(cargo)
        .args(["install", "--quiet", "--locked", "--version"])
        .arg(format!("={VERSION}"))
        .arg("--root")
        .arg(root)
        .arg("pjdfstest")
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("cargo install pjdfstest {VERSION} failed ({status})");
    }
    Ok(root.join("bin/pjdfstest"))
}

/// Runs the suite in `dir`; its counts, its output kept in `log`.
fn run_suite(
    bin: &Path,
    config: &Path,
    dir: &Path,
    patterns: &[String],
    log: &Path,
) -> anyhow::Result<Counts> {
    let out = Command::new("timeout")
        .arg("1800")
        .arg(bin)
        .arg("-c")
        .arg(config)
        .arg("-p")
        .arg(dir)
        .args(patterns)
        .env("RUST_BACKTRACE", "0")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    std::fs::write(log, &text).with_context(|| format!("writing {}", log.display()))?;
    let c = parse(&text);
    if c.summary.is_none() {
        bail!(
            "pjdfstest in {} ended ({}) without its summary; see {}",
            dir.display(),
            out.status,
            log.display()
        );
    }
    Ok(c)
}

fn report(side: &str, c: &Counts) {
    println!("== {side}");
    for (name, why) in &c.failed {
        println!("FAILED {name}: {why}");
    }
    println!("{side}: {}", c.summary.as_deref().unwrap_or("(no summary)"));
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Err(why) = mirage_fuse::fuse_available() {
        println!("SKIPPED: {why}");
        return Ok(ExitCode::SUCCESS);
    }
    let root = crate::repo_root().join("target/pjdfstest");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let bin = install(&root)?;
    let config = root.join("pjdfstest.toml");
    std::fs::write(&config, CONFIG).with_context(|| format!("writing {}", config.display()))?;

    let tmpfs = if args.no_tmpfs {
        None
    } else {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("mirage-pjdfstest-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let r = run_suite(&bin, &config, &dir, &args.patterns, &root.join("tmpfs.log"));
        let _ = std::fs::remove_dir_all(&dir);
        Some(r?)
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mountpoint =
        std::env::temp_dir().join(format!("mirage-pjdfstest-mnt-{}", std::process::id()));
    std::fs::create_dir_all(&mountpoint)?;
    let fuse = rt.block_on(async {
        let ws = Workspace::builder()
            .mount("/fs", Arc::new(RamResource::new()), MountMode::Write)
            .build()
            .map_err(|e| anyhow!("building the workspace: {e}"))?;
        let opts = FuseOptions {
            allow_other: true,
            ..FuseOptions::default()
        };
        let m = mirage_fuse::mount(&ws, &mountpoint, opts)
            .await
            .map_err(|e| anyhow!("mounting on {}: {e}", mountpoint.display()))?;
        let (b, c, d, p, l) = (
            bin.clone(),
            config.clone(),
            mountpoint.join("fs"),
            args.patterns.clone(),
            root.join("fuse.log"),
        );
        let r = tokio::task::spawn_blocking(move || run_suite(&b, &c, &d, &p, &l)).await;
        let u = tokio::task::spawn_blocking(move || m.unmount()).await;
        if let Ok(Err(e)) = u {
            eprintln!("pjdfstest: unmount: {e}");
        }
        r?
    });
    // only an empty directory: never recurse into a mount point
    let _ = std::fs::remove_dir(&mountpoint);
    let fuse = fuse?;

    if let Some(t) = &tmpfs {
        report("tmpfs", t);
    }
    report("FUSE (RAM workspace)", &fuse);
    println!(
        "logs: {} and {}",
        root.join("fuse.log").display(),
        root.join("tmpfs.log").display()
    );
    println!(
        "{} passed, {} failed, {} skipped",
        fuse.passed,
        fuse.failed.len(),
        fuse.skipped
    );
    Ok(if fuse.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
