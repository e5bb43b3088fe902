//! The behaviour suite: one set of checks, run against every resource
//! (as Apache OpenDAL's behaviour tests), skipping what a resource's
//! [`Capability`] says it cannot do.
//!
//! Every registered resource runs it: the `mirage` facade's `behaviour`
//! test (a `libtest-mimic` harness) makes one test per resource and check,
//! named `RESOURCE::CHECK`, from each [`ResourceRegistration`]'s
//! `test_config` and `build` (see [`trials`]). A resource crate can run the
//! same trials in its own `harness = false` test with [`trials`].
//!
//! Each check works in its own scratch directory `/suite-NAME` (created
//! with `mkdir` when the resource has real directories) of a fresh
//! instance. Checks of kind [`CheckFn::ReadOnly`] also get the resource
//! mounted `read` through a router (the caller's `mount_read_only`), and
//! check that every change is refused with `ReadOnly` and changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::StreamExt;
use mirage_types::{
    ByteRange, ByteSource, Error, ErrorKind, FileType, ListOptions, ReadOptions, ReadResult,
    Result as MResult, VersionToken, Vfs, WriteOptions,
};

use crate::{Capability, Resource, ResourceRegistration};

/// The outcome of one check: `Err` carries a human-readable reason.
pub type CheckResult = std::result::Result<(), String>;

/// A check body on the resource itself: gets the resource and its scratch
/// directory (`/suite-NAME`).
pub type ResourceCheck = for<'a> fn(&'a dyn Resource, &'a str) -> BoxFuture<'a, CheckResult>;

/// A check body on a read-only mount: gets the resource mounted `read` at
/// `/` through a router, the resource itself (to prepare data and verify
/// it stayed), and the scratch directory.
pub type ReadOnlyCheck =
    for<'a> fn(&'a dyn Vfs, &'a dyn Resource, &'a str) -> BoxFuture<'a, CheckResult>;

/// The body of a check.
#[derive(Clone, Copy)]
pub enum CheckFn {
    /// Runs on the resource.
    Resource(ResourceCheck),
    /// Runs on a read-only mount of the resource (and the resource).
    ReadOnly(ReadOnlyCheck),
}

/// A check: its name, whether it applies to a capability, and its body.
pub struct Check {
    /// Short name, also used in the scratch directory name.
    pub name: &'static str,
    /// Whether the check applies to a resource with this capability.
    pub applies: fn(Capability) -> bool,
    /// The check itself.
    pub run: CheckFn,
}

/// Mounts a resource read-only at `/` behind the one door (the workspace's
/// `Router`, which `mirage-ops` cannot name: the caller passes it).
pub type MountReadOnly = fn(Arc<dyn Resource>) -> MResult<Arc<dyn Vfs>>;

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
fn with_chmod(c: Capability) -> bool {
    c.write && c.chmod
}
fn always(_: Capability) -> bool {
    true
}

/// Every check, in the order `run_all` runs them.
pub const CHECKS: &[Check] = &[
    Check {
        name: "root",
        applies: always,
        run: CheckFn::Resource(|r, b| Box::pin(check_root(r, b))),
    },
    Check {
        name: "write_read",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_write_read(r, b))),
    },
    Check {
        name: "write_stream",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_write_stream(r, b))),
    },
    Check {
        name: "failed_write_keeps_old",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_failed_write_keeps_old(r, b))),
    },
    Check {
        name: "missing",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_missing(r, b))),
    },
    Check {
        name: "version",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_version(r, b))),
    },
    Check {
        name: "append",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_append(r, b))),
    },
    Check {
        name: "odd_names",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_odd_names(r, b))),
    },
    Check {
        name: "large_file",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_large_file(r, b))),
    },
    Check {
        name: "concurrent_writers",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_concurrent_writers(r, b))),
    },
    Check {
        name: "conditional_write",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_conditional_write(r, b))),
    },
    Check {
        name: "mkdir_readdir",
        applies: with_dirs,
        run: CheckFn::Resource(|r, b| Box::pin(check_mkdir_readdir(r, b))),
    },
    Check {
        name: "write_errors",
        applies: with_dirs,
        run: CheckFn::Resource(|r, b| Box::pin(check_write_errors(r, b))),
    },
    Check {
        name: "unlink",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_unlink(r, b))),
    },
    Check {
        name: "rmdir",
        applies: with_dirs,
        run: CheckFn::Resource(|r, b| Box::pin(check_rmdir(r, b))),
    },
    Check {
        name: "rename_file",
        applies: with_rename,
        run: CheckFn::Resource(|r, b| Box::pin(check_rename_file(r, b))),
    },
    Check {
        name: "rename_dir",
        applies: with_dir_rename,
        run: CheckFn::Resource(|r, b| Box::pin(check_rename_dir(r, b))),
    },
    Check {
        name: "symlink_basics",
        applies: with_links,
        run: CheckFn::Resource(|r, b| Box::pin(check_symlink_basics(r, b))),
    },
    Check {
        name: "symlink_write",
        applies: with_links,
        run: CheckFn::Resource(|r, b| Box::pin(check_symlink_write(r, b))),
    },
    Check {
        name: "symlink_remove",
        applies: with_links,
        run: CheckFn::Resource(|r, b| Box::pin(check_symlink_remove(r, b))),
    },
    Check {
        name: "symlink_loop",
        applies: with_links,
        run: CheckFn::Resource(|r, b| Box::pin(check_symlink_loop(r, b))),
    },
    Check {
        name: "chmod",
        applies: with_chmod,
        run: CheckFn::Resource(|r, b| Box::pin(check_chmod(r, b))),
    },
    Check {
        name: "range_read",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_range_read(r, b))),
    },
    Check {
        name: "conditional_read",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_conditional_read(r, b))),
    },
    Check {
        name: "list_stream",
        applies: with_dirs,
        run: CheckFn::Resource(|r, b| Box::pin(check_list_stream(r, b))),
    },
    Check {
        name: "large_read_early_drop",
        applies: writable,
        run: CheckFn::Resource(|r, b| Box::pin(check_large_read_early_drop(r, b))),
    },
    Check {
        name: "read_only_refuses",
        applies: always,
        run: CheckFn::ReadOnly(|v, r, b| Box::pin(check_read_only_refuses(v, r, b))),
    },
    Check {
        name: "read_only_reads",
        applies: writable,
        run: CheckFn::ReadOnly(|v, r, b| Box::pin(check_read_only_reads(v, r, b))),
    },
];

/// Runs every check that applies to `res.capability()` on `res`, each in
/// a fresh scratch directory `/suite-NAME`; the read-only checks only when
/// `mount_read_only` is given.
///
/// Errors: one line per failing check (`name: reason`), joined by `\n`.
pub async fn run_all(
    res: Arc<dyn Resource>,
    mount_read_only: Option<MountReadOnly>,
) -> CheckResult {
    let cap = res.capability();
    let mut failures = Vec::new();
    for check in CHECKS {
        if !(check.applies)(cap) {
            continue;
        }
        if matches!(check.run, CheckFn::ReadOnly(_)) && mount_read_only.is_none() {
            continue;
        }
        if let Err(e) = run_one(res.clone(), check, mount_read_only).await {
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
pub async fn run_named(
    res: Arc<dyn Resource>,
    name: &str,
    mount_read_only: Option<MountReadOnly>,
) -> CheckResult {
    let check = CHECKS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("unknown check {name}"))?;
    run_one(res, check, mount_read_only).await
}

/// Runs one check on `res`: makes its scratch directory, then the body.
///
/// Errors: the check's reason; a read-only check without `mount_read_only`
/// fails.
pub async fn run_one(
    res: Arc<dyn Resource>,
    check: &Check,
    mount_read_only: Option<MountReadOnly>,
) -> CheckResult {
    let base = format!("/suite-{}", check.name);
    if res.capability().write && res.capability().real_directories {
        ctx(res.mkdir(&base).await, &format!("mkdir {base}"))?;
    }
    match check.run {
        CheckFn::Resource(f) => f(res.as_ref(), &base).await,
        CheckFn::ReadOnly(f) => {
            let mount = mount_read_only.ok_or("no read-only mount given")?;
            let vfs = ctx(mount(res.clone()), "mount read-only")?;
            f(vfs.as_ref(), res.as_ref(), &base).await
        }
    }
}

/// One test per check for the registered resource `reg`, named
/// `NAME::CHECK`, for a `libtest-mimic` harness. Each test makes a fresh
/// instance (`test_config`, then `build`) and runs the check on a tokio
/// runtime; checks that do not apply to the resource's capability are
/// listed as ignored. A resource whose `test_config` or `build` fails
/// fails every test.
pub fn trials(
    reg: &'static ResourceRegistration,
    mount_read_only: MountReadOnly,
) -> Vec<libtest_mimic::Trial> {
    // Whether a check applies needs an instance; build one to ask (an
    // error is reported by every trial).
    let made = (reg.test_config)();
    // A remote resource whose server is not running here skips (see
    // [`no_server`]), unless servers are required.
    let skip = match &made {
        Err(e) if e.kind == ErrorKind::Unsupported && !servers_required() => {
            eprintln!("{}: behaviour suite skipped: {e}", reg.name);
            true
        }
        _ => false,
    };
    let cap = made
        .and_then(|t| (reg.build)(&t.config).map(|r| (r.capability(), t.guard)))
        .ok()
        .map(|(c, _guard)| c);
    CHECKS
        .iter()
        .map(|check| {
            let name = format!("{}::{}", reg.name, check.name);
            let applies = !skip && cap.is_none_or(|c| (check.applies)(c));
            libtest_mimic::Trial::test(name, move || {
                run_trial(reg, check, mount_read_only).map_err(Into::into)
            })
            .with_ignored_flag(!applies)
        })
        .collect()
}

/// The environment variable that makes a missing test server an error
/// instead of a skip: `cargo xtask test-resources` and CI set it to `1`
/// after starting the servers.
pub const REQUIRE_SERVERS_VAR: &str = "MIRAGE_TEST_REQUIRE_SERVERS";

fn servers_required() -> bool {
    std::env::var(REQUIRE_SERVERS_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The error a remote resource's `test_config` gives when its test server
/// is not configured (`var`, such as `MIRAGE_TEST_REDIS_URL`, is unset):
/// kind `Unsupported`, so [`trials`] lists its checks as ignored with this
/// message, unless [`REQUIRE_SERVERS_VAR`] is set (then every check fails
/// with it).
pub fn no_server(resource: &str, var: &str) -> Error {
    Error::msg(
        ErrorKind::Unsupported,
        format!(
            "no {resource} test server: {var} is not set (`cargo xtask test-resources` starts one and sets it)"
        ),
    )
}

fn run_trial(
    reg: &'static ResourceRegistration,
    check: &'static Check,
    mount_read_only: MountReadOnly,
) -> CheckResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let t = (reg.test_config)().map_err(|e| format!("{}: test_config: {e}", reg.name))?;
    let res = (reg.build)(&t.config).map_err(|e| format!("{}: build: {e}", reg.name))?;
    let out = rt.block_on(run_one(res, check, Some(mount_read_only)));
    drop(rt);
    drop(t.guard);
    out
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

/// Names with spaces, non-ASCII letters, leading dots, `%` (also as a
/// would-be percent escape such as `%2F`), `+` and `~` round-trip, for
/// files and for directories (made with `mkdir` when the resource has real
/// directories, else implied by a file under them): `stat` names them,
/// `readdir` lists them with their type.
pub async fn check_odd_names(res: &dyn Resource, base: &str) -> CheckResult {
    let names = [
        "with space.txt",
        "ünïcödé-名前",
        ".hidden",
        "a=b,c;d",
        "100% done.txt",
        "%2F%41%",
        "a+b ~c",
    ];
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
            listed.get(n) == Some(&FileType::File),
            "readdir {base} lacks file {n:?}: {listed:?}"
        );
    }
    let dirs = ["dir with space", "dïr-名前", "50%25 off"];
    for d in dirs {
        let dp = format!("{base}/{d}");
        if res.capability().real_directories {
            ctx(res.mkdir(&dp).await, &format!("mkdir {dp}"))?;
            let st = ctx(res.stat(&dp).await, &format!("stat {dp}"))?;
            ensure!(st.is_dir() && st.name == d, "stat {dp}: {st:?}");
        }
        let f = format!("{dp}/ä b%c.txt");
        ctx(
            res.write(&f, ByteSource::from(d.as_bytes().to_vec())).await,
            &format!("write {f}"),
        )?;
        expect_content(res, &f, d.as_bytes()).await?;
        let inner = listing(res, &dp).await?;
        ensure!(
            inner.len() == 1 && inner.get("ä b%c.txt") == Some(&FileType::File),
            "readdir {dp}: {inner:?}"
        );
    }
    let listed = listing(res, base).await?;
    for d in dirs {
        ensure!(
            listed.get(d) == Some(&FileType::Directory),
            "readdir {base} lacks directory {d:?}: {listed:?}"
        );
    }
    ensure!(
        listed.len() == names.len() + dirs.len(),
        "readdir {base}: {} entries, expected {}: {listed:?}",
        listed.len(),
        names.len() + dirs.len()
    );
    Ok(())
}

/// Byte `i` of the large file: a pattern that shows an offset error, a
/// lost or repeated chunk, and chunks out of order.
fn large_byte(i: usize) -> u8 {
    ((i % 251) as u8) ^ ((i / 1_000_000) as u8)
}

/// A 20 MB (20,000,000 bytes) file written as a stream of 1 MB chunks is
/// read back the same (compared chunk by chunk as it streams, whatever the
/// resource's chunking), and `stat` reports its size.
pub async fn check_large_file(res: &dyn Resource, base: &str) -> CheckResult {
    const SIZE: usize = 20_000_000;
    const CHUNK: usize = 1_000_000;
    let p = format!("{base}/large.bin");
    let chunks = futures::stream::iter((0..SIZE / CHUNK).map(|c| {
        let start = c * CHUNK;
        Ok(Bytes::from(
            (start..start + CHUNK).map(large_byte).collect::<Vec<u8>>(),
        ))
    }));
    ctx(
        res.write(&p, ByteSource::Stream(chunks.boxed())).await,
        "write 20 MB",
    )?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(st.size == SIZE as u64, "stat size {} != {SIZE}", st.size);
    let src = ctx(res.read(&p).await, "read")?;
    let mut s = src.into_stream();
    let mut offset = 0usize;
    while let Some(chunk) = s.next().await {
        let chunk = ctx(chunk, &format!("read at offset {offset}"))?;
        if let Some(k) = chunk
            .iter()
            .enumerate()
            .position(|(k, b)| *b != large_byte(offset + k))
        {
            return Err(format!(
                "read back differs at byte {} (got {}, expected {})",
                offset + k,
                chunk[k],
                large_byte(offset + k)
            ));
        }
        offset += chunk.len();
        ensure!(offset <= SIZE, "read back more than {SIZE} bytes");
    }
    ensure!(offset == SIZE, "read back {offset} bytes, expected {SIZE}");
    Ok(())
}

/// 8 concurrent writers (interleaved futures) each write their own file 20
/// times and, each round, one shared file (as a 3-chunk stream, so writes
/// can interleave mid-way): at the end every own file holds its last
/// round, and the shared file holds exactly one writer's complete contents,
/// never a mix.
pub async fn check_concurrent_writers(res: &dyn Resource, base: &str) -> CheckResult {
    const WRITERS: usize = 8;
    const ROUNDS: usize = 20;
    const PART: usize = 16 * 1024;
    let shared = format!("{base}/shared");
    let writer = |w: usize| {
        let shared = shared.clone();
        async move {
            let own = format!("{base}/own-{w}");
            for r in 0..ROUNDS {
                let text = format!("writer {w} round {r}\n");
                ctx(
                    res.write(&own, ByteSource::from(text.into_bytes())).await,
                    &format!("write {own}"),
                )?;
                // Byte value w * ROUNDS + r (< 160) tells writer and round.
                let byte = (w * ROUNDS + r) as u8;
                let parts =
                    futures::stream::iter((0..3).map(move |_| Ok(Bytes::from(vec![byte; PART]))))
                        .then(|part| async move {
                            tokio::task::yield_now().await;
                            part
                        });
                ctx(
                    res.write(&shared, ByteSource::Stream(parts.boxed())).await,
                    &format!("write {shared}"),
                )?;
            }
            Ok::<(), String>(())
        }
    };
    let results = futures::future::join_all((0..WRITERS).map(writer)).await;
    for r in results {
        r?;
    }
    for w in 0..WRITERS {
        let want = format!("writer {w} round {}\n", ROUNDS - 1);
        expect_content(res, &format!("{base}/own-{w}"), want.as_bytes()).await?;
    }
    let got = read_all(res, &shared).await?;
    ensure!(
        got.len() == 3 * PART,
        "{shared}: {} bytes, expected {} (one writer's contents)",
        got.len(),
        3 * PART
    );
    let first = got[0];
    ensure!(
        usize::from(first) < WRITERS * ROUNDS && got.iter().all(|b| *b == first),
        "{shared} mixes writers' contents (first byte {first}, others differ)"
    );
    let listed = listing(res, base).await?;
    ensure!(
        listed.len() == WRITERS + 1,
        "readdir {base}: {listed:?}, expected {} files",
        WRITERS + 1
    );
    Ok(())
}

async fn write_if(
    res: &dyn Resource,
    path: &str,
    data: &'static [u8],
    version: &VersionToken,
) -> MResult<VersionToken> {
    let opts = WriteOptions {
        if_match: Some(version.clone()),
    };
    res.write_with(path, ByteSource::Bytes(Bytes::from_static(data)), &opts)
        .await
}

/// `write_with(if_match)`: with the current version it writes (and a
/// version it answers is the one `stat` then reports); after another
/// write, the old version is refused with `Conflict` and the bytes stay
/// those of the other write; a missing file is a `Conflict` too. A
/// resource whose `stat` gives [`VersionToken::Unknown`] passes after the
/// first step (it cannot take part in conditional writes).
pub async fn check_conditional_write(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/cond.txt");
    put(res, &p, b"one").await?;
    let v = ctx(res.stat(&p).await, "stat")?.version;
    if v == VersionToken::Unknown {
        // No version token: nothing to condition on; skipped.
        return Ok(());
    }
    // Every write changes the size: an `MtimeSize` token of two writes
    // within one tick of a filesystem's coarse clock differs only there.
    let answered = ctx(
        write_if(res, &p, b"two!!", &v).await,
        "write_with(if_match: current version)",
    )?;
    expect_content(res, &p, b"two!!").await?;
    let v2 = ctx(res.stat(&p).await, "stat after conditional write")?.version;
    ensure!(
        v2 != v,
        "version did not change on a conditional write: {v:?}"
    );
    if answered != VersionToken::Unknown {
        ensure!(
            answered == v2,
            "write_with answered version {answered:?}, stat reports {v2:?}"
        );
    }
    put(res, &p, b"three!").await?;
    expect_kind(
        write_if(res, &p, b"four", &v).await,
        ErrorKind::Conflict,
        "write_with(if_match: a stale version)",
    )?;
    expect_content(res, &p, b"three!").await?;
    expect_kind(
        write_if(res, &p, b"four", &v2).await,
        ErrorKind::Conflict,
        "write_with(if_match: the version before the last write)",
    )?;
    expect_content(res, &p, b"three!").await?;
    let gone = format!("{base}/missing.txt");
    expect_kind(
        write_if(res, &gone, b"x", &v).await,
        ErrorKind::Conflict,
        "write_with(if_match) on a missing file",
    )?;
    expect_kind(
        res.stat(&gone).await,
        ErrorKind::NotFound,
        "stat after a refused conditional create",
    )?;
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

/// A file of `len` bytes whose byte `i` is `i % 251` (a pattern that shows
/// an offset error), streamed in 64 KiB chunks.
fn pattern(len: usize) -> (ByteSource, Vec<u8>) {
    let all: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<MResult<Bytes>> = all
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    (
        ByteSource::Stream(futures::stream::iter(chunks).boxed()),
        all,
    )
}

async fn read_range(
    res: &dyn Resource,
    path: &str,
    range: ByteRange,
) -> std::result::Result<Bytes, String> {
    let opts = ReadOptions {
        range: Some(range),
        ..ReadOptions::default()
    };
    match ctx(
        res.read_with(path, &opts).await,
        &format!("read_with {path} {range:?}"),
    )? {
        ReadResult::Data { source, .. } => ctx(source.collect().await, "collect range"),
        ReadResult::Unchanged => Err(format!(
            "read_with {path} {range:?}: Unchanged without a condition"
        )),
    }
}

/// Range reads: the first bytes, the middle, the end, open-ended, past the
/// end (empty), an empty range, on a small file and on one of 3 MiB
/// (larger than a resource's "read whole" threshold).
pub async fn check_range_read(res: &dyn Resource, base: &str) -> CheckResult {
    for (name, len) in [("small", 1000usize), ("big", 3 << 20)] {
        let p = format!("{base}/{name}");
        let (src, all) = pattern(len);
        ctx(res.write(&p, src).await, &format!("write {p}"))?;
        let n = len as u64;
        let cases: [(ByteRange, std::ops::Range<usize>); 7] = [
            (ByteRange::new(0, 10), 0..10),
            (ByteRange::new(n / 2, 300), len / 2..len / 2 + 300),
            (ByteRange::new(n - 7, 7), len - 7..len),
            (ByteRange::new(n - 3, 100), len - 3..len),
            (
                ByteRange::from_offset(n - 70_000.min(n - 1)),
                len - 70_000.min(len - 1)..len,
            ),
            (ByteRange::new(n + 10, 5), 0..0),
            (ByteRange::new(5, 0), 0..0),
        ];
        for (range, want) in cases {
            let got = read_range(res, &p, range).await?;
            ensure!(
                got.as_ref() == &all[want.clone()],
                "{p} {range:?}: got {} bytes, expected {} (bytes {want:?})",
                got.len(),
                want.len()
            );
        }
        let whole = read_range(res, &p, ByteRange::from_offset(0)).await?;
        ensure!(
            whole.as_ref() == all.as_slice(),
            "{p}: range 0.. is not the whole file"
        );
    }
    expect_kind(
        res.read_with(
            &format!("{base}/nope"),
            &ReadOptions {
                range: Some(ByteRange::new(0, 1)),
                ..ReadOptions::default()
            },
        )
        .await
        .map(|_| ()),
        ErrorKind::NotFound,
        "range read of a missing file",
    )
}

/// Conditional reads: with the current version the answer is `Unchanged`
/// (unless the resource has no versions), after a write it is the new
/// data with a new version; an `Unknown` token never matches; the version
/// of a read equals `stat`'s.
pub async fn check_conditional_read(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/c");
    put(res, &p, b"first").await?;
    let v1 = ctx(res.stat(&p).await, "stat")?.version;
    let plain = ctx(
        res.read_with(&p, &ReadOptions::default()).await,
        "read_with",
    )?;
    match plain {
        ReadResult::Data { source, version } => {
            ensure!(
                version == v1,
                "read_with version {version:?} != stat version {v1:?}"
            );
            let b = ctx(source.collect().await, "collect")?;
            ensure!(b.as_ref() == b"first", "read_with: {b:?}");
        }
        ReadResult::Unchanged => return Err("read_with without a condition: Unchanged".into()),
    }
    let cond = |v: VersionToken| ReadOptions {
        if_none_match: Some(v),
        ..ReadOptions::default()
    };
    let same = ctx(
        res.read_with(&p, &cond(v1.clone())).await,
        "conditional read",
    )?;
    if v1 == VersionToken::Unknown {
        ensure!(
            matches!(same, ReadResult::Data { .. }),
            "Unknown matched: {same:?}"
        );
        return Ok(());
    }
    ensure!(
        matches!(same, ReadResult::Unchanged),
        "same version: {same:?}, expected Unchanged"
    );
    let unknown = ctx(
        res.read_with(&p, &cond(VersionToken::Unknown)).await,
        "read",
    )?;
    ensure!(
        matches!(unknown, ReadResult::Data { .. }),
        "Unknown token matched: {unknown:?}"
    );
    put(res, &p, b"second!").await?;
    match ctx(
        res.read_with(&p, &cond(v1.clone())).await,
        "conditional read after write",
    )? {
        ReadResult::Data { source, version } => {
            ensure!(
                version != v1,
                "version unchanged after a write: {version:?}"
            );
            let b = ctx(source.collect().await, "collect")?;
            ensure!(b.as_ref() == b"second!", "after write: {b:?}");
        }
        ReadResult::Unchanged => return Err("Unchanged after a write".into()),
    }
    Ok(())
}

/// `list` streams what `readdir` returns, pages (`page_size`) do not change
/// it, `start_after` resumes, and a recursive listing (native or walked)
/// names every descendant by its relative path, directories first.
pub async fn check_list_stream(res: &dyn Resource, base: &str) -> CheckResult {
    let d = format!("{base}/t");
    ctx(res.mkdir(&d).await, "mkdir")?;
    for n in ["a", "b", "c", "d", "e"] {
        put(res, &format!("{d}/{n}"), b"x").await?;
    }
    ctx(res.mkdir(&format!("{d}/sub")).await, "mkdir sub")?;
    ctx(res.mkdir(&format!("{d}/sub/inner")).await, "mkdir inner")?;
    put(res, &format!("{d}/sub/inner/deep"), b"deep").await?;
    put(res, &format!("{d}/sub/f"), b"f").await?;
    async fn names(
        res: &dyn Resource,
        d: &str,
        opts: &ListOptions,
    ) -> std::result::Result<Vec<String>, String> {
        let mut s = ctx(
            crate::list(res, d, opts).await,
            &format!("list {d} {opts:?}"),
        )?;
        let mut out = Vec::new();
        while let Some(e) = s.next().await {
            out.push(ctx(e, "list item")?.name);
        }
        Ok(out)
    }
    let mut want: Vec<String> = listing(res, &d).await?.into_keys().collect();
    want.sort();
    for page_size in [None, Some(1), Some(2), Some(1000)] {
        let opts = ListOptions {
            page_size,
            ..ListOptions::default()
        };
        let mut got = names(res, &d, &opts).await?;
        got.sort();
        ensure!(
            got == want,
            "list {d} page {page_size:?}: {got:?}, readdir {want:?}"
        );
    }
    let opts = ListOptions {
        start_after: Some("c".into()),
        page_size: Some(2),
        ..ListOptions::default()
    };
    let mut got = names(res, &d, &opts).await?;
    got.sort();
    ensure!(got == ["d", "e", "sub"], "list start_after c: {got:?}");
    let opts = ListOptions {
        recursive: true,
        page_size: Some(2),
        ..ListOptions::default()
    };
    let got = names(res, &d, &opts).await?;
    let mut sorted = got.clone();
    sorted.sort();
    let all = [
        "a",
        "b",
        "c",
        "d",
        "e",
        "sub",
        "sub/f",
        "sub/inner",
        "sub/inner/deep",
    ];
    ensure!(sorted == all, "recursive list: {got:?}");
    let pos = |n: &str| got.iter().position(|g| g == n);
    ensure!(
        pos("sub") < pos("sub/f") && pos("sub/inner") < pos("sub/inner/deep"),
        "recursive list: a directory after its contents: {got:?}"
    );
    let opts = ListOptions {
        recursive: true,
        start_after: Some("sub/f".into()),
        ..ListOptions::default()
    };
    let mut got = names(res, &d, &opts).await?;
    got.sort();
    ensure!(
        got == ["sub/inner", "sub/inner/deep"],
        "recursive start_after: {got:?}"
    );
    expect_kind(
        crate::list(res, &format!("{d}/nope"), &ListOptions::default())
            .await
            .map(|_| ()),
        ErrorKind::NotFound,
        "list missing",
    )?;
    expect_kind(
        crate::list(res, &format!("{d}/a"), &ListOptions::default())
            .await
            .map(|_| ()),
        ErrorKind::NotADirectory,
        "list a file",
    )
}

/// Peak resident memory of this process in bytes (`VmHWM`), after
/// resetting the peak to the current size when `reset` (Linux
/// `/proc/self/clear_refs`). `None` where /proc is missing.
fn peak_rss(reset: bool) -> Option<u64> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A 256 MiB file written from a stream; reading it, taking one chunk and
/// dropping the rest keeps memory bounded (under 64 MiB above what the
/// process held before the read): a read must stream or share, never
/// copy the whole file.
pub async fn check_large_read_early_drop(res: &dyn Resource, base: &str) -> CheckResult {
    const SIZE: usize = 256 << 20;
    const CHUNK: usize = 1 << 20;
    let p = format!("{base}/huge");
    let block = Bytes::from(vec![b'z'; CHUNK]);
    let chunks = futures::stream::iter((0..SIZE / CHUNK).map(move |_| Ok(block.clone())));
    ctx(
        res.write(&p, ByteSource::Stream(chunks.boxed())).await,
        "write 256 MiB",
    )?;
    let before = peak_rss(true);
    {
        let src = ctx(res.read(&p).await, "read")?;
        let mut s = src.into_stream();
        let first = s.next().await.ok_or("empty stream")?;
        let first = ctx(first, "first chunk")?;
        ensure!(
            !first.is_empty() && first[0] == b'z',
            "first chunk: {:?}",
            &first[..first.len().min(8)]
        );
    }
    // Let a reader task notice the drop.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    if let (Some(before), Some(after)) = (before, peak_rss(false)) {
        let grew = after.saturating_sub(before);
        ensure!(
            grew < 64 << 20,
            "reading one chunk of a 256 MiB file raised peak memory by {} MiB",
            grew >> 20
        );
    }
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(st.size == SIZE as u64, "size {} != {SIZE}", st.size);
    ctx(res.unlink(&p).await, "unlink")
}

/// `chmod` sets the bits `stat` and the listing report (set-ID and sticky
/// bits too, nothing above `0o7777`); a rewrite and a rename keep them, the
/// contents stay; a directory takes them too (with real directories); a
/// missing path is `NotFound`.
pub async fn check_chmod(res: &dyn Resource, base: &str) -> CheckResult {
    let p = format!("{base}/tool.sh");
    put(res, &p, b"echo hi\n").await?;
    ctx(res.chmod(&p, 0o755).await, "chmod 755")?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(
        st.mode == Some(0o755),
        "after chmod 755: mode {:?}",
        st.mode
    );
    ctx(res.chmod(&p, 0o10_4710).await, "chmod 104710")?;
    let st = ctx(res.stat(&p).await, "stat")?;
    ensure!(
        st.mode == Some(0o4710),
        "after chmod 4710: mode {:?}",
        st.mode
    );
    expect_content(res, &p, b"echo hi\n").await?;
    put(res, &p, b"echo again\n").await?;
    let st = ctx(res.stat(&p).await, "stat after rewrite")?;
    ensure!(
        st.mode == Some(0o4710),
        "rewrite changed the mode: {:?}",
        st.mode
    );
    ctx(res.chmod(&p, 0o640).await, "chmod 640")?;
    if res.capability().rename {
        let q = format!("{base}/moved.sh");
        ctx(res.rename(&p, &q).await, "rename")?;
        let st = ctx(res.stat(&q).await, "stat after rename")?;
        ensure!(
            st.mode == Some(0o640),
            "rename changed the mode: {:?}",
            st.mode
        );
        ctx(res.rename(&q, &p).await, "rename back")?;
    }
    let listed = ctx(res.readdir(base).await, "readdir")?;
    let entry = listed.iter().find(|e| e.name == "tool.sh");
    ensure!(
        entry.is_some_and(|e| e.mode == Some(0o640)),
        "readdir {base}: {entry:?}"
    );
    if res.capability().real_directories {
        let d = format!("{base}/dir");
        ctx(res.mkdir(&d).await, "mkdir")?;
        ctx(res.chmod(&d, 0o700).await, "chmod dir")?;
        let st = ctx(res.stat(&d).await, "stat dir")?;
        ensure!(
            st.is_dir() && st.mode == Some(0o700),
            "dir after chmod 700: {st:?}"
        );
        ctx(res.chmod(&d, 0o755).await, "chmod dir back")?;
    }
    expect_kind(
        res.chmod(&format!("{base}/missing"), 0o644).await,
        ErrorKind::NotFound,
        "chmod missing",
    )
}

/// Through a read-only mount, every change is refused with `ReadOnly`:
/// write, append, mkdir (with and without parents), unlink, rmdir,
/// rename, symlink and chmod.
pub async fn check_read_only_refuses(vfs: &dyn Vfs, res: &dyn Resource, base: &str) -> CheckResult {
    let writable = res.capability().write;
    let f = format!("{base}/f");
    let d = format!("{base}/d");
    if writable {
        put(res, &f, b"keep me").await?;
        if res.capability().real_directories {
            ctx(res.mkdir(&d).await, "mkdir")?;
        }
    }
    let data = || ByteSource::from(b"x".to_vec());
    expect_kind(vfs.write(&f, data()).await, ErrorKind::ReadOnly, "write")?;
    expect_kind(
        vfs.write(&format!("{base}/new"), data()).await,
        ErrorKind::ReadOnly,
        "create",
    )?;
    expect_kind(vfs.append(&f, data()).await, ErrorKind::ReadOnly, "append")?;
    expect_kind(
        vfs.mkdir(&format!("{base}/m"), false).await,
        ErrorKind::ReadOnly,
        "mkdir",
    )?;
    expect_kind(
        vfs.mkdir(&format!("{base}/m/n"), true).await,
        ErrorKind::ReadOnly,
        "mkdir -p",
    )?;
    expect_kind(vfs.unlink(&f).await, ErrorKind::ReadOnly, "unlink")?;
    expect_kind(vfs.rmdir(&d).await, ErrorKind::ReadOnly, "rmdir")?;
    expect_kind(
        vfs.rename(&f, &format!("{base}/g")).await,
        ErrorKind::ReadOnly,
        "rename",
    )?;
    expect_kind(
        vfs.symlink("f", &format!("{base}/l")).await,
        ErrorKind::ReadOnly,
        "symlink",
    )?;
    expect_kind(vfs.chmod(&f, 0o777).await, ErrorKind::ReadOnly, "chmod")?;
    if writable {
        if let Ok(st) = res.stat(&f).await
            && res.capability().chmod
        {
            ensure!(
                st.mode != Some(0o777),
                "chmod through a read-only mount changed {f}: {:?}",
                st.mode
            );
        }
        expect_content(res, &f, b"keep me").await?;
        let names = listing(res, base).await?;
        let mut want = vec!["f"];
        if res.capability().real_directories {
            want.insert(0, "d");
        }
        ensure!(
            names.keys().map(String::as_str).collect::<Vec<_>>() == want,
            "read-only mount changed {base}: {names:?}"
        );
    }
    Ok(())
}

/// Through a read-only mount, reads work: stat, readdir, list, read, a
/// range read and a conditional read.
pub async fn check_read_only_reads(vfs: &dyn Vfs, res: &dyn Resource, base: &str) -> CheckResult {
    let f = format!("{base}/f");
    put(res, &f, b"0123456789").await?;
    let st = ctx(vfs.stat(&f).await, "stat")?;
    ensure!(st.size == 10, "stat through the mount: {st:?}");
    let got = ctx(ctx(vfs.read(&f).await, "read")?.collect().await, "collect")?;
    ensure!(
        got.as_ref() == b"0123456789",
        "read through the mount: {got:?}"
    );
    let opts = ReadOptions {
        range: Some(ByteRange::new(3, 4)),
        ..ReadOptions::default()
    };
    match ctx(vfs.read_with(&f, &opts).await, "range read")? {
        ReadResult::Data { source, .. } => {
            let b = ctx(source.collect().await, "collect")?;
            ensure!(b.as_ref() == b"3456", "range through the mount: {b:?}");
        }
        ReadResult::Unchanged => return Err("range read: Unchanged".into()),
    }
    if st.version != VersionToken::Unknown {
        let opts = ReadOptions {
            if_none_match: Some(st.version.clone()),
            ..ReadOptions::default()
        };
        let r = ctx(vfs.read_with(&f, &opts).await, "conditional read")?;
        ensure!(
            matches!(r, ReadResult::Unchanged),
            "conditional read through the mount: {r:?}"
        );
    }
    let entries = ctx(vfs.readdir(base).await, "readdir")?;
    ensure!(
        entries.iter().any(|e| e.name == "f"),
        "readdir through the mount: {entries:?}"
    );
    let mut s = ctx(vfs.list(base, &ListOptions::default()).await, "list")?;
    let mut seen = false;
    while let Some(e) = s.next().await {
        seen |= ctx(e, "list item")?.name == "f";
    }
    ensure!(seen, "list through the mount lacks f");
    Ok(())
}
