//! The behaviour suite: one set of checks, run against every resource
//! (as Apache OpenDAL's behaviour tests), skipping what a resource's
//! [`Capability`] says it cannot do.
//!
//! A resource crate calls it from a test:
//!
//! ```ignore
//! #[tokio::test]
//! async fn behaviour() {
//!     let res: Arc<dyn Resource> = Arc::new(MyResource::new());
//!     mirage_ops::testsuite::run_all(res).await.unwrap();
//! }
//! ```
//!
//! Each check works in its own scratch directory `/suite-NAME` (created
//! with `mkdir` when the resource has real directories), so the resource
//! should start empty or at least not hold those names. Failures are
//! collected: `run_all` runs every applicable check and reports all the
//! failing ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::StreamExt;
use mirage_types::{ByteSource, Error, ErrorKind, FileType, Result as MResult, VersionToken};

use crate::{Capability, Resource};

/// The outcome of one check: `Err` carries a human-readable reason.
pub type CheckResult = std::result::Result<(), String>;

/// A check: its name, whether it applies to a capability, and its body,
/// which gets the resource and its scratch directory (`/suite-NAME`).
pub struct Check {
    /// Short name, also used in the scratch directory name.
    pub name: &'static str,
    /// Whether the check applies to a resource with this capability.
    pub applies: fn(Capability) -> bool,
    /// The check itself.
    pub run: for<'a> fn(&'a dyn Resource, &'a str) -> BoxFuture<'a, CheckResult>,
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// `Ok` when `r` failed with `want`.
fn expect_kind<T>(r: MResult<T>, want: ErrorKind, what: &str) -> CheckResult {
    match r {
        Ok(_) => Err(format!("{what}: succeeded, expected {want:?}")),
        Err(e) if e.kind == want => Ok(()),
        Err(e) => Err(format!("{what}: got {:?} ({e}), expected {want:?}", e.kind)),
    }
}

fn ctx<T>(r: MResult<T>, what: &str) -> std::result::Result<T, String> {
    r.map_err(|e| format!("{what}: {e} ({:?})", e.kind))
}

async fn read_all(res: &dyn Resource, path: &str) -> std::result::Result<Bytes, String> {
    let src = ctx(res.read(path).await, &format!("read {path}"))?;
    ctx(src.collect().await, &format!("collect {path}"))
}

async fn put(res: &dyn Resource, path: &str, data: &'static [u8]) -> CheckResult {
    ctx(
        res.write(path, ByteSource::Bytes(Bytes::from_static(data)))
            .await,
        &format!("write {path}"),
    )
}

async fn expect_content(res: &dyn Resource, path: &str, want: &[u8]) -> CheckResult {
    let got = read_all(res, path).await?;
    ensure!(
        got.as_ref() == want,
        "read {path}: got {} bytes {:?}, expected {} bytes {:?}",
        got.len(),
        String::from_utf8_lossy(&got[..got.len().min(40)]),
        want.len(),
        String::from_utf8_lossy(&want[..want.len().min(40)])
    );
    Ok(())
}

/// Names and types of the entries of `dir`.
async fn listing(
    res: &dyn Resource,
    dir: &str,
) -> std::result::Result<BTreeMap<String, FileType>, String> {
    let entries = ctx(res.readdir(dir).await, &format!("readdir {dir}"))?;
    Ok(entries.into_iter().map(|e| (e.name, e.file_type)).collect())
}

/// A stream of `chunks` chunks of `size` bytes, chunk `i` filled with byte `i`,
/// followed by an error when `fail` is set.
fn chunked(chunks: u8, size: usize, fail: bool) -> (ByteSource, Vec<u8>) {
    let mut all = Vec::new();
    let mut items: Vec<MResult<Bytes>> = Vec::new();
    for i in 0..chunks {
        let c = vec![i; size];
        all.extend_from_slice(&c);
        items.push(Ok(Bytes::from(c)));
    }
    if fail {
        items.push(Err(Error::msg(
            ErrorKind::Io,
            "suite: injected stream failure",
        )));
    }
    (
        ByteSource::Stream(futures::stream::iter(items).boxed()),
        all,
    )
}

fn writable(c: Capability) -> bool {
    c.write
}
fn with_dirs(c: Capability) -> bool {
    c.write && c.real_directories
}
fn with_rename(c: Capability) -> bool {
    c.write && c.rename
}
fn with_dir_rename(c: Capability) -> bool {
    c.write && c.rename && c.real_directories
}
fn with_links(c: Capability) -> bool {
    c.symlinks && c.write && c.real_directories && c.rename
}
fn always(_: Capability) -> bool {
    true
}

/// Every check, in the order `run_all` runs them.
pub const CHECKS: &[Check] = &[
    Check {
        name: "root",
        applies: always,
        run: |r, b| Box::pin(check_root(r, b)),
    },
    Check {
        name: "write_read",
        applies: writable,
        run: |r, b| Box::pin(check_write_read(r, b)),
    },
    Check {
        name: "write_stream",
        applies: writable,
        run: |r, b| Box::pin(check_write_stream(r, b)),
    },
    Check {
        name: "failed_write_keeps_old",
        applies: writable,
        run: |r, b| Box::pin(check_failed_write_keeps_old(r, b)),
    },
    Check {
        name: "missing",
        applies: writable,
        run: |r, b| Box::pin(check_missing(r, b)),
    },
    Check {
        name: "version",
        applies: writable,
        run: |r, b| Box::pin(check_version(r, b)),
    },
    Check {
        name: "append",
        applies: writable,
        run: |r, b| Box::pin(check_append(r, b)),
    },
    Check {
        name: "odd_names",
        applies: writable,
        run: |r, b| Box::pin(check_odd_names(r, b)),
    },
    Check {
        name: "mkdir_readdir",
        applies: with_dirs,
        run: |r, b| Box::pin(check_mkdir_readdir(r, b)),
    },
    Check {
        name: "write_errors",
        applies: with_dirs,
        run: |r, b| Box::pin(check_write_errors(r, b)),
    },
    Check {
        name: "unlink",
        applies: writable,
        run: |r, b| Box::pin(check_unlink(r, b)),
    },
    Check {
        name: "rmdir",
        applies: with_dirs,
        run: |r, b| Box::pin(check_rmdir(r, b)),
    },
    Check {
        name: "rename_file",
        applies: with_rename,
        run: |r, b| Box::pin(check_rename_file(r, b)),
    },
    Check {
        name: "rename_dir",
        applies: with_dir_rename,
        run: |r, b| Box::pin(check_rename_dir(r, b)),
    },
    Check {
        name: "symlink_basics",
        applies: with_links,
        run: |r, b| Box::pin(check_symlink_basics(r, b)),
    },
    Check {
        name: "symlink_write",
        applies: with_links,
        run: |r, b| Box::pin(check_symlink_write(r, b)),
    },
    Check {
        name: "symlink_remove",
        applies: with_links,
        run: |r, b| Box::pin(check_symlink_remove(r, b)),
    },
    Check {
        name: "symlink_loop",
        applies: with_links,
        run: |r, b| Box::pin(check_symlink_loop(r, b)),
    },
];

/// Runs every check that applies to `res.capability()`, each in a fresh
/// scratch directory `/suite-NAME`.
///
/// Errors: one line per failing check (`name: reason`), joined by `\n`.
pub async fn run_all(res: Arc<dyn Resource>) -> CheckResult {
    let cap = res.capability();
    let mut failures = Vec::new();
    for check in CHECKS {
        if !(check.applies)(cap) {
            continue;
        }
        if let Err(e) = run_one(res.as_ref(), check).await {
            failures.push(format!("{} [{}]: {e}", check.name, res.name()));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Runs the check named `name` (see [`CHECKS`]), whether or not it applies.
///
/// Errors: the check's reason, or `unknown check` for an unknown name.
pub async fn run_named(res: Arc<dyn Resource>, name: &str) -> CheckResult {
    let check = CHECKS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("unknown check {name}"))?;
    run_one(res.as_ref(), check).await
}

async fn run_one(res: &dyn Resource, check: &Check) -> CheckResult {
    let base = format!("/suite-{}", check.name);
    if res.capability().write && res.capability().real_directories {
        ctx(res.mkdir(&base).await, &format!("mkdir {base}"))?;
    }
    (check.run)(res, &base).await
}

/// `/` is a directory and can be listed.
pub async fn check_root(res: &dyn Resource, _base: &str) -> CheckResult {
    let st = ctx(res.stat("/").await, "stat /")?;
    ensure!(st.is_dir(), "stat /: not a directory: {st:?}");
    ctx(res.readdir("/").await, "readdir /")?;
    Ok(())
}

/// Write, read back, stat, overwrite with shorter data, empty file.
pub async fn check_write_read(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/hello.txt");
    put(res, &p, b"hello, world\n").await?;
    expect_content(res, &p, b"hello, world\n").await?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(st.is_file(), "stat {p}: not a file: {st:?}");
    ensure!(st.size == 13, "stat {p}: size {} != 13", st.size);
    ensure!(st.name == "hello.txt", "stat {p}: name {:?}", st.name);
    put(res, &p, b"bye").await?;
    expect_content(res, &p, b"bye").await?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(st.size == 3, "stat after overwrite: size {} != 3", st.size);
    let e = format!("{base}/empty");
    put(res, &e, b"").await?;
    expect_content(res, &e, b"").await?;
    let st = ctx(res.stat(&e).await, "stat empty")?;
    ensure!(st.is_file() && st.size == 0, "stat empty file: {st:?}");
    let names = listing(res, base).await?;
    ensure!(
        names.get("hello.txt") == Some(&FileType::File)
            && names.get("empty") == Some(&FileType::File),
        "readdir {base}: {names:?}"
    );
    Ok(())
}

/// A multi-chunk stream (300 KiB) is written whole and read back the same,
/// whether the resource returns bytes or a stream.
pub async fn check_write_stream(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/big.bin");
    let (src, all) = chunked(5, 60 * 1024, false);
    ctx(res.write(&p, src).await, "write stream")?;
    expect_content(res, &p, &all).await?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(
        st.size == all.len() as u64,
        "size {} != {}",
        st.size,
        all.len()
    );
    Ok(())
}

/// A write whose input stream fails midway errors and leaves the old
/// contents, and leaves no file behind when there was none.
pub async fn check_failed_write_keeps_old(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/keep.txt");
    put(res, &p, b"old contents").await?;
    let (src, _) = chunked(3, 100 * 1024, true);
    ensure!(
        res.write(&p, src).await.is_err(),
        "write of a failing stream succeeded"
    );
    expect_content(res, &p, b"old contents").await?;
    let n = format!("{base}/new.txt");
    let (src, _) = chunked(2, 1000, true);
    ensure!(
        res.write(&n, src).await.is_err(),
        "write of a failing stream succeeded"
    );
    expect_kind(
        res.stat(&n).await,
        ErrorKind::NotFound,
        "stat after failed create",
    )?;
    let names = listing(res, base).await.unwrap_or_default();
    ensure!(
        names.len() <= 1,
        "failed writes left entries behind: {names:?}"
    );
    Ok(())
}

/// Missing entries give `NotFound` for read, stat and (with directories)
/// readdir.
pub async fn check_missing(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/nope");
    expect_kind(
        res.read(&p).await.map(|_| ()),
        ErrorKind::NotFound,
        "read missing",
    )?;
    expect_kind(res.stat(&p).await, ErrorKind::NotFound, "stat missing")?;
    if res.capability().real_directories {
        expect_kind(
            res.readdir(&p).await,
            ErrorKind::NotFound,
            "readdir missing",
        )?;
    }
    Ok(())
}

/// The version token changes when the contents change (unless Unknown).
pub async fn check_version(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/v");
    put(res, &p, b"a").await?;
    let v1 = ctx(res.stat(&p).await, "stat")?.version;
    put(res, &p, b"bbbb").await?;
    let v2 = ctx(res.stat(&p).await, "stat")?.version;
    if v1 != VersionToken::Unknown {
        ensure!(v1 != v2, "version did not change on write: {v1:?}");
    }
    Ok(())
}

/// Append creates a missing file and then adds to its end.
pub async fn check_append(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/log");
    ctx(
        res.append(&p, ByteSource::from(b"one\n".to_vec())).await,
        "append (create)",
    )?;
    ctx(
        res.append(&p, ByteSource::from(b"two\n".to_vec())).await,
        "append",
    )?;
    let (src, all) = chunked(2, 70 * 1024, false);
    ctx(res.append(&p, src).await, "append stream")?;
    let mut want = b"one\ntwo\n".to_vec();
    want.extend_from_slice(&all);
    expect_content(res, &p, &want).await?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(
        st.size == want.len() as u64,
        "size {} != {}",
        st.size,
        want.len()
    );
    if res.capability().real_directories {
        expect_kind(
            res.append(base, ByteSource::from(b"x".to_vec())).await,
            ErrorKind::IsADirectory,
            "append to dir",
        )?;
    }
    Ok(())
}

/// Names with spaces, non-ASCII letters and leading dots round-trip.
pub async fn check_odd_names(res: &dyn Resource, base: &str) -> CheckResult {
    let names = ["with space.txt", "ünïcödé-名前", ".hidden", "a=b,c;d"];
    for n in names {
        let p = format!("{base}/{n}");
        ctx(
            res.write(&p, ByteSource::from(n.as_bytes().to_vec())).await,
            &format!("write {p}"),
        )?;
        expect_content(res, &p, n.as_bytes()).await?;
        let st = ctx(res.stat(&p).await, &format!("stat {p}"))?;
        ensure!(st.name == n, "stat {p}: name {:?}", st.name);
    }
    let listed = listing(res, base).await?;
    for n in names {
        ensure!(
            listed.contains_key(n),
            "readdir {base} lacks {n:?}: {listed:?}"
        );
    }
    Ok(())
}

/// mkdir and readdir: direct children only, with types; `AlreadyExists`,
/// `NotFound` parent, readdir of a file is `NotADirectory`, read of a
/// directory is `IsADirectory`.
pub async fn check_mkdir_readdir(res: &dyn Resource, base: &str) -> CheckResult {
    let d = format!("{base}/d");
    ctx(res.mkdir(&d).await, "mkdir")?;
    let st = ctx(res.stat(&d).await, "stat dir")?;
    ensure!(st.is_dir() && st.name == "d", "stat {d}: {st:?}");
    put(res, &format!("{d}/a"), b"A").await?;
    put(res, &format!("{d}/b"), b"BB").await?;
    ctx(res.mkdir(&format!("{d}/sub")).await, "mkdir sub")?;
    put(res, &format!("{d}/sub/deep"), b"x").await?;
    let names = listing(res, &d).await?;
    let want: BTreeMap<String, FileType> = [
        ("a".to_string(), FileType::File),
        ("b".to_string(), FileType::File),
        ("sub".to_string(), FileType::Directory),
    ]
    .into_iter()
    .collect();
    ensure!(names == want, "readdir {d}: {names:?}, expected {want:?}");
    let entries = ctx(res.readdir(&d).await, "readdir")?;
    let b = entries.iter().find(|e| e.name == "b");
    ensure!(b.map(|e| e.size) == Some(2), "readdir size of b: {b:?}");
    let top = listing(res, base).await?;
    ensure!(
        top.len() == 1 && top.get("d") == Some(&FileType::Directory),
        "readdir {base}: {top:?}"
    );
    expect_kind(
        res.mkdir(&d).await,
        ErrorKind::AlreadyExists,
        "mkdir existing dir",
    )?;
    expect_kind(
        res.mkdir(&format!("{d}/a")).await,
        ErrorKind::AlreadyExists,
        "mkdir over file",
    )?;
    expect_kind(
        res.mkdir(&format!("{base}/no/such")).await,
        ErrorKind::NotFound,
        "mkdir missing parent",
    )?;
    expect_kind(
        res.readdir(&format!("{d}/a")).await,
        ErrorKind::NotADirectory,
        "readdir file",
    )?;
    expect_kind(
        res.read(&d).await.map(|_| ()),
        ErrorKind::IsADirectory,
        "read dir",
    )?;
    Ok(())
}

/// Writes onto a directory, under a missing parent, or under a file fail
/// with `IsADirectory`, `NotFound` and `NotADirectory`.
pub async fn check_write_errors(res: &dyn Resource, base: &str) -> CheckResult {
    let d = format!("{base}/dir");
    ctx(res.mkdir(&d).await, "mkdir")?;
    let f = format!("{base}/file");
    put(res, &f, b"f").await?;
    expect_kind(
        res.write(&d, ByteSource::from(b"x".to_vec())).await,
        ErrorKind::IsADirectory,
        "write to dir",
    )?;
    expect_kind(
        res.write(
            &format!("{base}/missing/x"),
            ByteSource::from(b"x".to_vec()),
        )
        .await,
        ErrorKind::NotFound,
        "write under missing parent",
    )?;
    expect_kind(
        res.write(&format!("{f}/x"), ByteSource::from(b"x".to_vec()))
            .await,
        ErrorKind::NotADirectory,
        "write under a file",
    )?;
    expect_kind(
        res.stat(&format!("{f}/x")).await,
        ErrorKind::NotADirectory,
        "stat under a file",
    )?;
    let st = ctx(res.stat(&d).await, "stat dir")?;
    ensure!(st.is_dir(), "directory changed by failed write: {st:?}");
    expect_content(res, &f, b"f").await
}

/// unlink removes a file; missing gives `NotFound`, a directory
/// `IsADirectory`.
pub async fn check_unlink(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/gone");
    put(res, &p, b"x").await?;
    ctx(res.unlink(&p).await, "unlink")?;
    expect_kind(res.stat(&p).await, ErrorKind::NotFound, "stat after unlink")?;
    expect_kind(res.unlink(&p).await, ErrorKind::NotFound, "unlink missing")?;
    if res.capability().real_directories {
        let d = format!("{base}/dir");
        ctx(res.mkdir(&d).await, "mkdir")?;
        expect_kind(res.unlink(&d).await, ErrorKind::IsADirectory, "unlink dir")?;
        let st = ctx(res.stat(&d).await, "stat dir")?;
        ensure!(st.is_dir(), "dir changed by unlink: {st:?}");
    }
    Ok(())
}

/// rmdir removes an empty directory; non-empty gives
/// `DirectoryNotEmpty`, a file `NotADirectory`, missing `NotFound`.
pub async fn check_rmdir(res: &dyn Resource, base: &str) -> CheckResult {
    let d = format!("{base}/d");
    ctx(res.mkdir(&d).await, "mkdir")?;
    put(res, &format!("{d}/f"), b"x").await?;
    expect_kind(
        res.rmdir(&d).await,
        ErrorKind::DirectoryNotEmpty,
        "rmdir non-empty",
    )?;
    expect_kind(
        res.rmdir(&format!("{d}/f")).await,
        ErrorKind::NotADirectory,
        "rmdir file",
    )?;
    expect_kind(
        res.rmdir(&format!("{base}/nope")).await,
        ErrorKind::NotFound,
        "rmdir missing",
    )?;
    ctx(res.unlink(&format!("{d}/f")).await, "unlink")?;
    ctx(res.rmdir(&d).await, "rmdir empty")?;
    expect_kind(res.stat(&d).await, ErrorKind::NotFound, "stat after rmdir")?;
    Ok(())
}

/// rename moves a file, replaces an existing file, and fails with
/// `NotFound` for a missing source.
pub async fn check_rename_file(res: &dyn Resource, base: &str) -> CheckResult {
    let a = format!("{base}/a");
    let b = format!("{base}/b");
    put(res, &a, b"AAA").await?;
    ctx(res.rename(&a, &b).await, "rename")?;
    expect_kind(
        res.stat(&a).await,
        ErrorKind::NotFound,
        "stat source after rename",
    )?;
    expect_content(res, &b, b"AAA").await?;
    put(res, &a, b"new").await?;
    ctx(res.rename(&a, &b).await, "rename over file")?;
    expect_content(res, &b, b"new").await?;
    expect_kind(
        res.rename(&a, &b).await,
        ErrorKind::NotFound,
        "rename missing",
    )?;
    expect_content(res, &b, b"new").await?;
    Ok(())
}

/// rename moves a directory with its subtree, replaces an empty
/// directory, refuses a non-empty one (`DirectoryNotEmpty`), a file over a
/// directory (`IsADirectory`) and a directory over a file
/// (`NotADirectory`).
pub async fn check_rename_dir(res: &dyn Resource, base: &str) -> CheckResult {
    let src = format!("{base}/src");
    ctx(res.mkdir(&src).await, "mkdir src")?;
    ctx(res.mkdir(&format!("{src}/inner")).await, "mkdir inner")?;
    put(res, &format!("{src}/inner/x"), b"x").await?;
    put(res, &format!("{src}/y"), b"y").await?;
    let full = format!("{base}/full");
    ctx(res.mkdir(&full).await, "mkdir full")?;
    put(res, &format!("{full}/keep"), b"k").await?;
    let file = format!("{base}/file");
    put(res, &file, b"f").await?;
    expect_kind(
        res.rename(&src, &full).await,
        ErrorKind::DirectoryNotEmpty,
        "rename onto non-empty dir",
    )?;
    expect_kind(
        res.rename(&src, &file).await,
        ErrorKind::NotADirectory,
        "rename dir onto file",
    )?;
    expect_kind(
        res.rename(&file, &full).await,
        ErrorKind::IsADirectory,
        "rename file onto dir",
    )?;
    let dst = format!("{base}/dst");
    ctx(res.rename(&src, &dst).await, "rename dir")?;
    expect_kind(
        res.stat(&src).await,
        ErrorKind::NotFound,
        "stat source after rename",
    )?;
    expect_content(res, &format!("{dst}/inner/x"), b"x").await?;
    expect_content(res, &format!("{dst}/y"), b"y").await?;
    let empty = format!("{base}/empty");
    ctx(res.mkdir(&empty).await, "mkdir empty")?;
    ctx(res.rename(&dst, &empty).await, "rename onto empty dir")?;
    expect_content(res, &format!("{empty}/inner/x"), b"x").await?;
    expect_content(res, &format!("{full}/keep"), b"k").await?;
    let top = listing(res, base).await?;
    let names: Vec<&str> = top.keys().map(String::as_str).collect();
    ensure!(
        names == ["empty", "file", "full"],
        "readdir {base}: {names:?}"
    );
    Ok(())
}

/// A link is created as given; `readlink` returns its target, `lstat` and
/// `readdir` see a link, `stat`, `read` and `realpath` follow it.
pub async fn check_symlink_basics(res: &dyn Resource, base: &str) -> CheckResult {
    ctx(res.mkdir(&format!("{base}/dir")).await, "mkdir dir")?;
    put(res, &format!("{base}/dir/f"), b"target").await?;
    ctx(
        res.symlink("dir/f", &format!("{base}/flink")).await,
        "symlink flink",
    )?;
    ctx(
        res.symlink("dir", &format!("{base}/dlink")).await,
        "symlink dlink",
    )?;
    let t = ctx(res.readlink(&format!("{base}/flink")).await, "readlink")?;
    ensure!(t == "dir/f", "readlink flink: {t:?}");
    expect_kind(
        res.readlink(&format!("{base}/dir")).await,
        ErrorKind::InvalidInput,
        "readlink of a directory",
    )?;
    let l = ctx(res.lstat(&format!("{base}/dlink")).await, "lstat dlink")?;
    ensure!(l.file_type == FileType::Symlink, "lstat dlink: {l:?}");
    let st = ctx(res.stat(&format!("{base}/dlink")).await, "stat dlink")?;
    ensure!(st.is_dir(), "stat dlink does not follow: {st:?}");
    expect_content(res, &format!("{base}/flink"), b"target").await?;
    expect_content(res, &format!("{base}/dlink/f"), b"target").await?;
    let names = listing(res, base).await?;
    ensure!(
        names.get("dlink") == Some(&FileType::Symlink),
        "readdir: {names:?}"
    );
    ensure!(
        names.get("flink") == Some(&FileType::Symlink),
        "readdir: {names:?}"
    );
    let real = ctx(res.realpath(&format!("{base}/dlink/f")).await, "realpath")?;
    ensure!(
        real == format!("{base}/dir/f"),
        "realpath dlink/f: {real:?}"
    );
    expect_kind(
        res.symlink("x", &format!("{base}/flink")).await,
        ErrorKind::AlreadyExists,
        "symlink over a link",
    )?;
    Ok(())
}

/// Writing or appending to a link writes its target (a dangling one
/// creates it) and leaves the link a link.
pub async fn check_symlink_write(res: &dyn Resource, base: &str) -> CheckResult {
    put(res, &format!("{base}/f"), b"old").await?;
    ctx(res.symlink("f", &format!("{base}/l")).await, "symlink")?;
    ctx(
        res.symlink("new", &format!("{base}/dangling")).await,
        "symlink dangling",
    )?;
    put(res, &format!("{base}/l"), b"new").await?;
    ctx(
        res.append(&format!("{base}/l"), ByteSource::from(b"+".to_vec()))
            .await,
        "append",
    )?;
    expect_content(res, &format!("{base}/f"), b"new+").await?;
    let l = ctx(res.lstat(&format!("{base}/l")).await, "lstat")?;
    ensure!(
        l.file_type == FileType::Symlink,
        "write replaced the link: {l:?}"
    );
    put(res, &format!("{base}/dangling"), b"made").await?;
    expect_content(res, &format!("{base}/new"), b"made").await?;
    Ok(())
}

/// `unlink` and `rename` act on the link, never on its target (even a
/// dangling one).
pub async fn check_symlink_remove(res: &dyn Resource, base: &str) -> CheckResult {
    ctx(res.mkdir(&format!("{base}/keep")).await, "mkdir keep")?;
    put(res, &format!("{base}/keep/k"), b"k").await?;
    ctx(res.symlink("keep", &format!("{base}/l")).await, "symlink")?;
    ctx(
        res.symlink("nowhere", &format!("{base}/broken")).await,
        "symlink broken",
    )?;
    ctx(
        res.rename(&format!("{base}/l"), &format!("{base}/l2"))
            .await,
        "rename link",
    )?;
    let t = ctx(res.readlink(&format!("{base}/l2")).await, "readlink moved")?;
    ensure!(t == "keep", "moved link target {t:?}");
    ctx(res.unlink(&format!("{base}/l2")).await, "unlink link")?;
    ctx(
        res.unlink(&format!("{base}/broken")).await,
        "unlink broken link",
    )?;
    expect_content(res, &format!("{base}/keep/k"), b"k").await?;
    let names = listing(res, base).await?;
    ensure!(
        names.keys().collect::<Vec<_>>() == ["keep"],
        "left: {names:?}"
    );
    Ok(())
}

/// A loop is `TooManyLinks` (ELOOP) for every following operation.
pub async fn check_symlink_loop(res: &dyn Resource, base: &str) -> CheckResult {
    ctx(res.symlink("b", &format!("{base}/a")).await, "symlink a")?;
    ctx(res.symlink("a", &format!("{base}/b")).await, "symlink b")?;
    let a = format!("{base}/a");
    expect_kind(
        res.stat(&a).await,
        ErrorKind::TooManyLinks,
        "stat of a loop",
    )?;
    expect_kind(
        res.read(&a).await,
        ErrorKind::TooManyLinks,
        "read of a loop",
    )?;
    expect_kind(
        res.write(&a, ByteSource::from(b"x".to_vec())).await,
        ErrorKind::TooManyLinks,
        "write of a loop",
    )?;
    let l = ctx(res.lstat(&a).await, "lstat of a loop")?;
    ensure!(l.file_type == FileType::Symlink, "lstat a: {l:?}");
    Ok(())
}
