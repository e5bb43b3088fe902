#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Differential test: one seeded random sequence of 5,000 file operations
//! applied with `std::fs` both through FUSE on a RAM mount and on a
//! directory of the host's tmpfs (`/dev/shm`, else the system temp dir).
//!
//! - After **every** operation its outcome (the bytes read, or `Ok`, or the
//!   error's errno) must be the same on both sides.
//! - After **every** operation the whole tree (names, types, sizes and
//!   contents) must be the same on both sides.
//!
//! Names come from a pool of 6 at depth ≤ 3 (half the time an entry that
//! exists, or a new name in an existing directory), so operations collide:
//! writes past EOF, `O_APPEND`, truncates shorter and longer, renames of
//! files and directories over existing entries, rmdir of non-empty
//! directories, unlink of directories, creating below files, `fstat` and
//! `stat` of a file with staged writes, a descriptor kept open across a
//! rename (of the file or its directory) or an unlink, and two descriptors
//! writing one file in turn with reads through a third between.
//!
//! The seed is printed; `MIRAGE_FUSE_SEED=N` replays another sequence, and
//! `MIRAGE_FUSE_OPS=N` changes the count.

mod common;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use common::{ram_mount, skip};

const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
const DEFAULT_SEED: u64 = 0x5eed_f00d_1234_9abc;
const DEFAULT_OPS: usize = 5_000;

/// xorshift64*: small, deterministic, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| b'a' + self.below(26) as u8).collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// `File::create` (O_CREAT|O_TRUNC) and write the bytes.
    Create(String, Vec<u8>),
    /// Open for writing (no truncation), seek, write.
    WriteAt(String, u64, Vec<u8>),
    /// Open for writing, seek, write, and (the file still open) `fstat`
    /// and `stat` it by path: sizes of staged writes.
    WriteStat(String, u64, Vec<u8>),
    /// Open with O_APPEND and write.
    Append(String, Vec<u8>),
    /// Open for writing and `set_len`.
    Truncate(String, u64),
    Rename(String, String),
    Mkdir(String),
    Unlink(String),
    Rmdir(String),
    /// `fs::read` of the whole file.
    ReadAll(String),
    /// Open, seek, read up to `len` bytes.
    ReadRange(String, u64, usize),
    /// `read_dir` of a directory (names and types, sorted).
    List(String),
    /// Open the file for writing, write, rename it (or its top directory)
    /// `from` → `to` while open, write again, close: the bytes follow.
    OpenRename(String, String, String, Vec<u8>, Vec<u8>),
    /// Open the file for reading and writing, write, unlink it while
    /// open, write again, `fstat` and read it back through the
    /// descriptor, close: the name stays gone.
    OpenUnlink(String, Vec<u8>),
    /// Two descriptors open for writing at once (both `O_APPEND` when the
    /// flag is set), writing in turn, with the file read through a third
    /// descriptor between the writes and closes: no write is lost, and
    /// every reader sees every write so far.
    TwoWriters(String, bool, u64, Vec<u8>, u64, Vec<u8>),
    /// `metadata`: type and size.
    Stat(String),
}

/// A path to operate on: often an existing entry or a new name in an
/// existing directory (`existing`: the reference tree's entries, with
/// `true` for directories), else any path of the pool.
fn random_path(rng: &mut Rng, existing: &[(String, bool)]) -> String {
    let roll = rng.below(10);
    if !existing.is_empty() && roll < 5 {
        return existing[rng.below(existing.len() as u64) as usize]
            .0
            .clone();
    }
    let dirs: Vec<&String> = existing
        .iter()
        .filter(|(_, d)| *d)
        .map(|(p, _)| p)
        .collect();
    if !dirs.is_empty() && roll < 7 {
        let d = dirs[rng.below(dirs.len() as u64) as usize];
        if d.matches('/').count() < 2 {
            return format!("{d}/{}", NAMES[rng.below(NAMES.len() as u64) as usize]);
        }
    }
    let depth = 1 + rng.below(3) as usize;
    // shallow paths are likelier, so deeper ones have parents to land in
    let depth = depth.min(1 + rng.below(3) as usize);
    (0..depth)
        .map(|_| NAMES[rng.below(NAMES.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join("/")
}

fn random_op(rng: &mut Rng, existing: &[(String, bool)]) -> Op {
    let p = random_path(rng, existing);
    match rng.below(108) {
        0..=14 => {
            let n = rng.below(40) as usize;
            Op::Create(p, rng.bytes(n))
        }
        15..=26 => {
            let off = rng.below(80);
            let n = 1 + rng.below(40) as usize;
            Op::WriteAt(p, off, rng.bytes(n))
        }
        96..=97 => {
            let off = rng.below(80);
            let n = 1 + rng.below(40) as usize;
            Op::WriteStat(p, off, rng.bytes(n))
        }
        27..=31 => {
            let n = 1 + rng.below(20) as usize;
            Op::Append(p, rng.bytes(n))
        }
        32..=39 => Op::Truncate(p, rng.below(90)),
        40..=51 => Op::Rename(p, random_path(rng, existing)),
        52..=63 => Op::Mkdir(p),
        64..=70 => Op::Unlink(p),
        71..=77 => Op::Rmdir(p),
        78..=85 => Op::ReadAll(p),
        86..=91 => Op::ReadRange(p, rng.below(60), 1 + rng.below(40) as usize),
        92..=95 => Op::List(if rng.below(3) == 0 { String::new() } else { p }),
        98..=99 => Op::Stat(p),
        100..=101 => {
            let from = if rng.below(2) == 0 {
                p.split('/').next().unwrap_or("").to_string()
            } else {
                p.clone()
            };
            let to = random_path(rng, existing);
            let (n1, n2) = (1 + rng.below(20) as usize, 1 + rng.below(20) as usize);
            let (d1, d2) = (rng.bytes(n1), rng.bytes(n2));
            Op::OpenRename(p, from, to, d1, d2)
        }
        102..=103 => {
            let n = 1 + rng.below(20) as usize;
            Op::OpenUnlink(p, rng.bytes(n))
        }
        _ => {
            let append = rng.below(2) == 0;
            let (o1, o2) = (rng.below(50), rng.below(50));
            let (n1, n2) = (1 + rng.below(20) as usize, 1 + rng.below(20) as usize);
            let (d1, d2) = (rng.bytes(n1), rng.bytes(n2));
            Op::TwoWriters(p, append, o1, d1, o2, d2)
        }
    }
}

/// What an operation answered: data for reads, or the errno.
type Outcome = Result<Vec<u8>, i32>;

fn errno(e: std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(-1)
}

fn apply(root: &Path, op: &Op) -> Outcome {
    let at = |p: &str| -> PathBuf {
        if p.is_empty() {
            root.to_path_buf()
        } else {
            root.join(p)
        }
    };
    let r: std::io::Result<Vec<u8>> = (|| match op {
        Op::Create(p, data) => {
            let mut f = fs::File::create(at(p))?;
            f.write_all(data)?;
            Ok(Vec::new())
        }
        Op::WriteAt(p, off, data) => {
            let mut f = OpenOptions::new().write(true).open(at(p))?;
            f.seek(SeekFrom::Start(*off))?;
            f.write_all(data)?;
            Ok(Vec::new())
        }
        Op::WriteStat(p, off, data) => {
            let mut f = OpenOptions::new().write(true).open(at(p))?;
            f.seek(SeekFrom::Start(*off))?;
            f.write_all(data)?;
            let by_fd = f.metadata()?.len();
            let by_path = fs::metadata(at(p))?.len();
            Ok(format!("fstat={by_fd} stat={by_path}").into_bytes())
        }
        Op::Append(p, data) => {
            let mut f = OpenOptions::new().append(true).open(at(p))?;
            f.write_all(data)?;
            Ok(Vec::new())
        }
        Op::Truncate(p, n) => {
            let f = OpenOptions::new().write(true).open(at(p))?;
            f.set_len(*n)?;
            Ok(Vec::new())
        }
        Op::Rename(a, b) => fs::rename(at(a), at(b)).map(|_| Vec::new()),
        Op::Mkdir(p) => fs::create_dir(at(p)).map(|_| Vec::new()),
        Op::Unlink(p) => fs::remove_file(at(p)).map(|_| Vec::new()),
        Op::Rmdir(p) => fs::remove_dir(at(p)).map(|_| Vec::new()),
        Op::ReadAll(p) => fs::read(at(p)),
        Op::ReadRange(p, off, len) => {
            let mut f = fs::File::open(at(p))?;
            f.seek(SeekFrom::Start(*off))?;
            let mut buf = Vec::new();
            f.take(*len as u64).read_to_end(&mut buf)?;
            Ok(buf)
        }
        Op::List(p) => {
            let mut names: Vec<String> = fs::read_dir(at(p))?
                .map(|e| {
                    let e = e?;
                    let t = if e.file_type()?.is_dir() { "/" } else { "" };
                    Ok(format!("{}{t}", e.file_name().to_string_lossy()))
                })
                .collect::<std::io::Result<_>>()?;
            names.sort();
            Ok(names.join("\n").into_bytes())
        }
        Op::OpenRename(p, from, to, d1, d2) => {
            let mut f = OpenOptions::new().write(true).open(at(p))?;
            f.write_all(d1)?;
            fs::rename(at(from), at(to))?;
            f.write_all(d2)?;
            drop(f);
            Ok(Vec::new())
        }
        Op::OpenUnlink(p, data) => {
            let mut f = OpenOptions::new().read(true).write(true).open(at(p))?;
            f.write_all(data)?;
            fs::remove_file(at(p))?;
            f.write_all(data)?;
            // the descriptor still has the bytes, and their size
            let len = f.metadata()?.len();
            f.seek(SeekFrom::Start(0))?;
            let mut out = Vec::new();
            f.read_to_end(&mut out)?;
            out.extend(format!("|{len}").into_bytes());
            drop(f);
            Ok(out)
        }
        Op::TwoWriters(p, append, o1, d1, o2, d2) => {
            let open = || {
                let mut o = OpenOptions::new();
                if *append {
                    o.append(true);
                } else {
                    o.write(true);
                }
                o.open(at(p))
            };
            let mut out = Vec::new();
            let (mut a, mut b) = (open()?, open()?);
            a.seek(SeekFrom::Start(*o1))?;
            a.write_all(d1)?;
            out.extend(fs::read(at(p))?);
            out.push(b'|');
            b.seek(SeekFrom::Start(*o2))?;
            b.write_all(d2)?;
            out.extend(fs::read(at(p))?);
            out.push(b'|');
            drop(a);
            out.extend(fs::read(at(p))?);
            out.push(b'|');
            drop(b);
            Ok(out)
        }
        Op::Stat(p) => {
            let m = fs::metadata(at(p))?;
            Ok(format!(
                "dir={} len={}",
                m.is_dir(),
                if m.is_dir() { 0 } else { m.len() }
            )
            .into_bytes())
        }
    })();
    r.map_err(errno)
}

/// The whole tree below `root`: relative path → `dir`, or the file's bytes
/// (after checking that `metadata().len()` agrees with them).
fn snapshot(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                let data = fs::read(&p).unwrap();
                assert_eq!(
                    m.len(),
                    data.len() as u64,
                    "{rel}: size from stat vs bytes read"
                );
                out.insert(rel, Some(data));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn host_tmp() -> tempfile::TempDir {
    if Path::new("/dev/shm").is_dir()
        && let Ok(d) = tempfile::tempdir_in("/dev/shm")
    {
        return d;
    }
    tempfile::tempdir().unwrap()
}

fn env_u64(key: &str) -> Option<u64> {
    let v = std::env::var(key).ok()?;
    let v = v.trim();
    if let Some(h) = v.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else {
        v.parse().ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fuse_on_ram_matches_tmpfs_op_for_op() {
    if skip() {
        return;
    }
    let seed = env_u64("MIRAGE_FUSE_SEED").unwrap_or(DEFAULT_SEED);
    let ops = env_u64("MIRAGE_FUSE_OPS").map_or(DEFAULT_OPS, |n| n as usize);
    eprintln!(
        "differential: seed {seed:#x} ({seed}), {ops} operations (MIRAGE_FUSE_SEED to replay)"
    );

    let (m, _dir, fuse_root) = ram_mount(&[]).await;
    let host = host_tmp();
    let host_root = host.path().to_path_buf();

    let done = tokio::task::spawn_blocking(move || {
        // splitmix64 of the seed: every seed gives its own non-zero state
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let mut rng = Rng((z ^ (z >> 31)) | 1);
        let mut log: Vec<String> = Vec::new();
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut existing: Vec<(String, bool)> = Vec::new();
        for step in 0..ops {
            let op = random_op(&mut rng, &existing);
            let a = apply(&fuse_root, &op);
            let b = apply(&host_root, &op);
            log.push(format!("{step}: {op:?} -> {b:?}"));
            let kind = format!("{op:?}").split('(').next().unwrap_or("").to_string();
            let c = counts.entry(kind).or_default();
            if b.is_ok() {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
            let tail = || log[log.len().saturating_sub(12)..].join("\n");
            let show = |o: &Outcome| match o {
                Ok(v) => format!("Ok({:?})", String::from_utf8_lossy(v)),
                Err(e) => format!("Err(errno {e})"),
            };
            assert!(
                a == b,
                "seed {seed:#x}, step {step}: {op:?}: FUSE answered {}, tmpfs {}\nlast operations:\n{}",
                show(&a),
                show(&b),
                tail()
            );
            let (ta, tb) = (snapshot(&fuse_root), snapshot(&host_root));
            assert_eq!(ta, tb, "seed {seed:#x}, step {step}: trees differ after {op:?}\nlast operations:\n{}", tail());
            existing = tb.iter().map(|(p, v)| (p.clone(), v.is_none())).collect();
        }
        let last = snapshot(&host_root);
        eprintln!("differential: done; final tree has {} entries; (ok, err) per op: {counts:?}", last.len());
        counts
    })
    .await;
    drop(m);
    let counts = done.unwrap();
    // the generator really exercised both successes and failures
    for (k, (ok, err)) in &counts {
        if ops >= 1000 {
            assert!(*ok > 0, "{k} never succeeded");
            assert!(*err > 0 || k == "List", "{k} never failed");
        }
    }
}
