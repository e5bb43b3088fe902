//! The FUSE rows of `cargo xtask bench`: a RAM workspace mounted with
//! [`mirage_fuse::mount`] (default [`FuseOptions`]) read by ordinary
//! blocking `std::fs` calls and by `git`, against the same files in a
//! directory on the host's tmpfs (/dev/shm), in the same run.
//!
//! | workload | what is timed (both sides) | data |
//! | --- | --- | --- |
//! | `fuse_read` | open + read to the end with a 1 MiB buffer | one 1 GiB file |
//! | `fuse_small` | `stat` then read, of each of the 2,000 files in turn | the 2,000 × 4 KB files of `grep_r` |
//! | `fuse_git` | `git status --porcelain` as a whole process | a `git clone` of this repository |
//!
//! Fairness of caches:
//!
//! - `fuse_read` and `fuse_small`: **every timed run is on a fresh FUSE
//!   mount** of the same workspace (mounted and unmounted outside the
//!   timing), so nothing is in the kernel's page, attribute or entry
//!   caches for it: every byte and every `stat` goes through the FUSE
//!   daemon. tmpfs keeps its files in the page cache by nature, so it has
//!   nothing to drop. `fuse_small` also reports, in a note, a warm figure
//!   (a second pass on the same mount, entries and attributes within the
//!   mount's TTL) and a steady one (a third pass). Requests per file, as
//!   counted with the kernel's `fuse:fuse_request_send` tracepoint: cold
//!   LOOKUP, OPEN, READ and RELEASE; warm GETATTR, OPEN and RELEASE (every
//!   FUSE READ makes the kernel drop the atime it holds, and `stat` asks
//!   for it); steady OPEN and RELEASE. RELEASE is sent in the background.
//! - `fuse_git`: one mount; `git status` runs once on each side to refresh
//!   its index and warm the caches, then the timed runs (warm on both
//!   sides, as a user's repeated `git status`). The checkout is copied
//!   into the mount through the mount point with `cp -a`, so it was made
//!   by FUSE writes.
//!
//! The FUSE answers run on the multi-threaded runtime of the bench; every
//! blocking measurement runs in `spawn_blocking`, off its workers. The
//! first (warm-up) pass of each side computes a checksum of what it read,
//! and the two sides must agree (`ours`/`gnu` output in the bench's
//! comparison). Skipped, with the reason printed, when `/dev/fuse` cannot
//! be opened.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use mirage_fuse::{FuseMount, FuseOptions};
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

/// The FUSE rows, in table order.
pub const WORKLOADS: [&str; 3] = ["fuse_read", "fuse_small", "fuse_git"];

/// The size of the `fuse_read` file (1 GiB).
pub const READ_SIZE: usize = 1 << 30;
/// The read buffer of `fuse_read` (1 MiB).
const READ_BUF: usize = 1 << 20;

/// What one FUSE row measured.
pub struct Measured {
    /// Times through FUSE (ms), one per timed run.
    pub fuse_ms: Vec<f64>,
    /// What the FUSE side read (a checksum line), for the comparison.
    pub fuse_out: Vec<u8>,
    /// Times on tmpfs (ms); `None` with `--no-gnu`.
    pub tmpfs: Option<(Vec<f64>, Vec<u8>)>,
    /// A figure that is not a time (`fuse_read`: MB/s through FUSE) and its unit.
    pub value: Option<(f64, &'static str)>,
    /// Lines for the report.
    pub notes: Vec<String>,
}

/// What a FUSE row came to.
pub enum Outcome {
    /// `/dev/fuse` cannot be opened: the reason.
    Skipped(String),
    /// Measured, or the error that stopped it.
    Done(anyhow::Result<Measured>),
}

/// Runs the FUSE row `workload` (`runs` timed runs after a warm-up).
/// `small` are the bench's 2,000 small files, also written under
/// `small_dir` on tmpfs; `scratch` is a tmpfs directory for the rest.
pub fn bench(
    rt: &tokio::runtime::Runtime,
    workload: &str,
    runs: usize,
    no_tmpfs: bool,
    small: &[(String, Bytes)],
    small_dir: &Path,
    scratch: &Path,
) -> Outcome {
    if let Err(why) = mirage_fuse::fuse_available() {
        return Outcome::Skipped(why);
    }
    let load = load_avg();
    let r = match workload {
        "fuse_read" => rt.block_on(fuse_read(runs, no_tmpfs, scratch)),
        "fuse_small" => rt.block_on(fuse_small(runs, no_tmpfs, small, small_dir)),
        "fuse_git" => rt.block_on(fuse_git(runs, no_tmpfs, scratch)),
        other => Err(anyhow!("unknown FUSE workload {other:?}")),
    };
    // FUSE round trips are thread hand-offs: their cost moves with the
    // machine's load, so the report says what it was
    Outcome::Done(r.map(|mut m| {
        if let Some(l) = load {
            m.notes
                .push(format!("{workload}: load average {l:.2} at the start"));
        }
        m
    }))
}

/// The one-minute load average (`/proc/loadavg`).
fn load_avg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The median of `v` (ms), for notes.
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// MB/s (10^6 bytes per second) for `bytes` read in `ms`.
fn mb_per_s(bytes: usize, ms: f64) -> f64 {
    bytes as f64 / 1e6 / (ms / 1e3)
}

// --------------------------------------------------------------- mount ---

/// A FUSE mount on its own empty directory under the temp dir (not on
/// the tmpfs scratch, which is removed recursively). Unmounted by
/// [`Mounted::unmount`] off the runtime's workers, or by `FuseMount`'s drop.
struct Mounted {
    mount: Option<FuseMount>,
    dir: PathBuf,
}

impl Mounted {
    async fn new(ws: &Workspace) -> anyhow::Result<Self> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mirage-bench-fuse-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mount = mirage_fuse::mount(ws, &dir, FuseOptions::default())
            .await
            .map_err(|e| anyhow!("mounting on {}: {e}", dir.display()))?;
        Ok(Mounted {
            mount: Some(mount),
            dir,
        })
    }

    /// The mount point.
    fn path(&self) -> PathBuf {
        self.dir.clone()
    }

    async fn unmount(mut self) -> anyhow::Result<()> {
        if let Some(m) = self.mount.take() {
            tokio::task::spawn_blocking(move || m.unmount())
                .await?
                .map_err(|e| anyhow!("unmounting: {e}"))?;
        }
        Ok(())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.mount.take());
        // only an empty directory: never recurse into a mount point
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn ram_workspace(ram: Arc<RamResource>) -> anyhow::Result<Workspace> {
    Workspace::builder()
        .mount("/bench", ram, MountMode::Write)
        .build()
        .map_err(|e| anyhow!("building the workspace: {e}"))
}

/// Runs blocking `f` off the runtime's workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
}

// ----------------------------------------------------------- fuse_read ---

/// The 1 GiB file: a 1 MiB block of pseudo-random bytes, repeated with
/// each copy's first 8 bytes set to its index (so a misplaced block shows
/// in the checksum).
fn gib_file() -> Bytes {
    let mut rng = crate::bench::Lcg(99);
    let block: Vec<u8> = (0..READ_BUF).map(|_| rng.next() as u8).collect();
    let mut buf = Vec::with_capacity(READ_SIZE);
    for i in 0..READ_SIZE / READ_BUF {
        let at = buf.len();
        buf.extend_from_slice(&block);
        buf[at..at + 8].copy_from_slice(&(i as u64).to_le_bytes());
    }
    Bytes::from(buf)
}

/// A cheap order-sensitive checksum (FNV-1a over 8-byte words).
#[derive(Clone, Copy)]
struct Sum(u64);
impl Sum {
    fn new() -> Self {
        Sum(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0 ^ u64::from_le_bytes(w)).wrapping_mul(0x0100_0000_01b3);
        }
        for &x in chunks.remainder() {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Reads `path` to the end with a 1 MiB buffer; the bytes read and, with
/// `check`, their checksum. Reads land on 1 MiB boundaries, so the
/// checksum is the same on both sides.
fn read_all(path: &Path, check: bool) -> anyhow::Result<(usize, u64)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; READ_BUF];
    let mut sum = Sum::new();
    let mut total = 0usize;
    let mut filled = 0usize;
    loop {
        let n = f
            .read(&mut buf[filled..])
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        total += n;
        filled += n;
        if filled == buf.len() {
            if check {
                sum.add(&buf);
            }
            filled = 0;
        }
    }
    if check {
        sum.add(&buf[..filled]);
    }
    Ok((total, sum.0))
}

/// One read of `path` timed (ms), after checking it has `READ_SIZE` bytes.
fn time_read(path: &Path) -> anyhow::Result<f64> {
    let t = Instant::now();
    let (n, _) = read_all(path, false)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    if n != READ_SIZE {
        bail!("{}: read {n} bytes, expected {READ_SIZE}", path.display());
    }
    Ok(ms)
}

async fn fuse_read(runs: usize, no_tmpfs: bool, scratch: &Path) -> anyhow::Result<Measured> {
    let data = gib_file();
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/big", data.clone())
        .map_err(|e| anyhow!("inserting /big: {e}"))?;
    let ws = ram_workspace(ram)?;
    let mut notes = Vec::new();

    // warm-up on its own mount: the checksum of what FUSE returns
    let m = Mounted::new(&ws).await?;
    let file = m.path().join("bench/big");
    let (n, sum) = blocking(move || read_all(&file, true)).await?;
    m.unmount().await?;
    let fuse_out = format!("{n} bytes, sum {sum:016x}\n").into_bytes();

    let mut fuse_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let m = Mounted::new(&ws).await?;
        let file = m.path().join("bench/big");
        fuse_ms.push(blocking(move || time_read(&file)).await?);
        m.unmount().await?;
    }
    // a second read on one mount: the kernel drops the file's pages at
    // each open (no FOPEN_KEEP_CACHE), so this goes through FUSE too
    let m = Mounted::new(&ws).await?;
    let file = m.path().join("bench/big");
    let same_mount = blocking(move || {
        time_read(&file)?;
        time_read(&file)
    })
    .await?;
    m.unmount().await?;
    drop(ws);

    let tmpfs = if no_tmpfs {
        None
    } else {
        let path = scratch.join("fuse-read-big");
        let p = path.clone();
        let r = blocking(move || {
            std::fs::write(&p, &data).with_context(|| format!("writing {}", p.display()))?;
            drop(data);
            let (n, sum) = read_all(&p, true)?;
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                times.push(time_read(&p)?);
            }
            Ok((times, format!("{n} bytes, sum {sum:016x}\n").into_bytes()))
        })
        .await;
        let _ = std::fs::remove_file(&path);
        Some(r?)
    };
    let fuse_mb = mb_per_s(READ_SIZE, median(&fuse_ms));
    notes.push(format!(
        "fuse_read: 1 GiB read with a 1 MiB buffer: FUSE {fuse_mb:.0} MB/s (fresh mount each run){}; same mount, second open (one run): {:.0} MB/s; target >= 1000 MB/s",
        match &tmpfs {
            Some((t, _)) => format!(", tmpfs {:.0} MB/s", mb_per_s(READ_SIZE, median(t))),
            None => String::new(),
        },
        mb_per_s(READ_SIZE, same_mount),
    ));
    Ok(Measured {
        fuse_ms,
        fuse_out,
        tmpfs,
        value: Some((fuse_mb.round(), "MB/s")),
        notes,
    })
}

// ---------------------------------------------------------- fuse_small ---

/// `stat` then read of every file of `paths` under `root`, in order;
/// the time (ms) and a line with the count, bytes and checksum.
fn stat_read_all(root: &Path, paths: &[String]) -> anyhow::Result<(f64, Vec<u8>)> {
    let t = Instant::now();
    let mut sum = Sum::new();
    let mut bytes = 0u64;
    for p in paths {
        let path = root.join(p);
        let md = std::fs::metadata(&path).with_context(|| format!("stat {}", path.display()))?;
        let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if md.len() != data.len() as u64 {
            bail!(
                "{}: stat says {} bytes, read {}",
                path.display(),
                md.len(),
                data.len()
            );
        }
        bytes += data.len() as u64;
        sum.add(&data);
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    Ok((
        ms,
        format!("{} files, {bytes} bytes, sum {:016x}\n", paths.len(), sum.0).into_bytes(),
    ))
}

async fn fuse_small(
    runs: usize,
    no_tmpfs: bool,
    small: &[(String, Bytes)],
    small_dir: &Path,
) -> anyhow::Result<Measured> {
    let ram = Arc::new(RamResource::new());
    for (p, data) in small {
        ram.insert_file(&format!("/{p}"), data.clone())
            .map_err(|e| anyhow!("inserting {p}: {e}"))?;
    }
    let ws = ram_workspace(ram)?;
    let paths: Arc<Vec<String>> = Arc::new(small.iter().map(|(p, _)| p.clone()).collect());

    let mut fuse_ms = Vec::with_capacity(runs);
    let mut warm_ms = Vec::with_capacity(runs);
    let mut steady_ms = Vec::with_capacity(runs);
    let mut fuse_out = Vec::new();
    // the warm-up run, then the timed runs: each on a fresh mount
    for i in 0..=runs {
        let m = Mounted::new(&ws).await?;
        let root = m.path().join("bench");
        let ps = paths.clone();
        let (cold, warm, steady, out) = blocking(move || {
            let (cold, out) = stat_read_all(&root, &ps)?;
            let (warm, _) = stat_read_all(&root, &ps)?;
            let (steady, _) = stat_read_all(&root, &ps)?;
            Ok((cold, warm, steady, out))
        })
        .await?;
        m.unmount().await?;
        if i == 0 {
            fuse_out = out;
        } else {
            fuse_ms.push(cold);
            warm_ms.push(warm);
            steady_ms.push(steady);
        }
    }
    let tmpfs = if no_tmpfs {
        None
    } else {
        let root = small_dir.to_path_buf();
        let ps = paths.clone();
        Some(
            blocking(move || {
                let (_, out) = stat_read_all(&root, &ps)?;
                let mut times = Vec::with_capacity(runs);
                for _ in 0..runs {
                    times.push(stat_read_all(&root, &ps)?.0);
                }
                Ok((times, out))
            })
            .await?,
        )
    };
    let per_file = |ms: f64| ms * 1e3 / paths.len() as f64;
    let mut note = format!(
        "fuse_small: stat + read of {} files of 4 KB: FUSE {:.1} ms ({:.1} µs/file) on a fresh mount each run, {:.1} ms warm (second pass, same mount: the kernel asks for the attributes again, since a read makes it drop the cached atime), {:.1} ms steady (third pass: one open round trip per file)",
        paths.len(),
        median(&fuse_ms),
        per_file(median(&fuse_ms)),
        median(&warm_ms),
        median(&steady_ms),
    );
    if let Some((t, _)) = &tmpfs {
        let tm = median(t);
        note.push_str(&format!(
            "; tmpfs {tm:.1} ms ({:.1} µs/file); warm/tmpfs {:.2}x, steady/tmpfs {:.2}x; aim <= 3x",
            per_file(tm),
            median(&warm_ms) / tm,
            median(&steady_ms) / tm
        ));
    }
    Ok(Measured {
        fuse_ms,
        fuse_out,
        tmpfs,
        value: None,
        notes: vec![note],
    })
}

// ------------------------------------------------------------ fuse_git ---

/// Runs `cmd` (with `timeout 600` in front); its stdout, or an error with
/// its stderr.
fn run(cmd: &mut Command, what: &str) -> anyhow::Result<Vec<u8>> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// `git status --porcelain` in `dir`, under `timeout 120`.
fn git_status(dir: &Path) -> anyhow::Result<(f64, Vec<u8>)> {
    let t = Instant::now();
    let out = run(
        Command::new("timeout")
            .args([
                "120",
                "git",
                "-c",
                "safe.directory=*",
                "status",
                "--porcelain",
            ])
            .current_dir(dir),
        &format!("git status in {}", dir.display()),
    )?;
    Ok((t.elapsed().as_secs_f64() * 1e3, out))
}

/// A warm-up `git status`, then `runs` timed ones.
fn time_git(dir: &Path, runs: usize) -> anyhow::Result<(Vec<f64>, Vec<u8>)> {
    let (_, out) = git_status(dir)?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(git_status(dir)?.0);
    }
    Ok((times, out))
}

async fn fuse_git(runs: usize, no_tmpfs: bool, scratch: &Path) -> anyhow::Result<Measured> {
    let clone = scratch.join("fuse-git-clone");
    let _ = std::fs::remove_dir_all(&clone);
    let src = crate::repo_root();
    let c = clone.clone();
    let files = blocking(move || {
        run(
            Command::new("timeout")
                .args(["300", "git", "clone", "-q"])
                .arg(&src)
                .arg(&c),
            "git clone",
        )?;
        let n = run(
            Command::new("git")
                .args(["-c", "safe.directory=*", "ls-files"])
                .current_dir(&c),
            "git ls-files",
        )?;
        Ok(n.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count())
    })
    .await?;

    let ws = ram_workspace(Arc::new(RamResource::new()))?;
    let m = Mounted::new(&ws).await?;
    let target = m.path().join("bench/repo");
    let (c, t) = (clone.clone(), target.clone());
    let copy_ms = blocking(move || {
        let start = Instant::now();
        run(
            Command::new("timeout")
                .args(["600", "cp", "-a"])
                .arg(&c)
                .arg(&t),
            "cp -a into the FUSE mount",
        )?;
        Ok(start.elapsed().as_secs_f64() * 1e3)
    })
    .await;
    let measured = match copy_ms {
        Ok(copy_ms) => {
            let t = target.clone();
            blocking(move || time_git(&t, runs))
                .await
                .map(|r| (copy_ms, r))
        }
        Err(e) => Err(e),
    };
    m.unmount().await?;
    let (copy_ms, (fuse_ms, fuse_out)) = measured?;

    let tmpfs = if no_tmpfs {
        None
    } else {
        let c = clone.clone();
        Some(blocking(move || time_git(&c, runs)).await?)
    };
    let _ = std::fs::remove_dir_all(&clone);
    let mut notes = vec![format!(
        "fuse_git: `git status` on a clone of this repository ({files} tracked files), warm on both sides; `cp -a` of the clone into the mount took {copy_ms:.0} ms"
    )];
    if !fuse_out.is_empty() {
        notes.push(format!(
            "fuse_git: `git status --porcelain` through FUSE is not clean: {:?}",
            String::from_utf8_lossy(&fuse_out[..fuse_out.len().min(200)])
        ));
    }
    Ok(Measured {
        fuse_ms,
        fuse_out,
        tmpfs,
        value: None,
        notes,
    })
}
