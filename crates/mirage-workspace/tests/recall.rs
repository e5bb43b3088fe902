//! Recall in the router, on a RAM resource that declares itself remote and
//! counts the calls that reach it (the backend requests a cache saves).
//! The same rules run against the real S3 and Redis servers in
//! `recall_servers.rs`; these pin the logic on every machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mirage_ops::{Capability, Resource};
use mirage_recall::{MountPolicy, ReadPolicy, Recall, WritePolicy};
use mirage_resource_ram::RamResource;
use mirage_types::{
    ByteSource, EntryStream, ErrorKind, FileStat, ListOptions, MountMode, ReadOptions, ReadResult,
    Result, VersionToken, Vfs, WriteOptions,
};
use mirage_workspace::Workspace;

/// A RAM resource posing as a remote one, counting every call by name.
struct Remote {
    ram: Arc<RamResource>,
    calls: Mutex<HashMap<&'static str, u64>>,
}

impl Remote {
    fn new() -> Arc<Self> {
        Arc::new(Remote {
            ram: Arc::new(RamResource::new()),
            calls: Mutex::new(HashMap::new()),
        })
    }
    fn hit(&self, op: &'static str) {
        *self.calls.lock().unwrap().entry(op).or_default() += 1;
    }
    fn count(&self, op: &str) -> u64 {
        self.calls.lock().unwrap().get(op).copied().unwrap_or(0)
    }
    fn total(&self) -> u64 {
        self.calls.lock().unwrap().values().sum()
    }
    /// A change made behind Mirage's back (another client).
    async fn put_behind(&self, path: &str, data: &'static str) {
        self.ram
            .write(path, ByteSource::Bytes(Bytes::from_static(data.as_bytes())))
            .await
            .unwrap();
    }
}

#[async_trait]
impl Resource for Remote {
    fn name(&self) -> &'static str {
        "fake-remote"
    }
    fn capability(&self) -> Capability {
        Capability {
            remote: true,
            symlinks: false,
            ..self.ram.capability()
        }
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.hit("stat");
        self.ram.stat(path).await
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        self.hit("list");
        self.ram.readdir(path).await
    }
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        self.hit("list");
        self.ram.list(path, opts).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        self.hit("read");
        self.ram.read(path).await
    }
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        self.hit(if opts.if_none_match.is_some() {
            "conditional_read"
        } else if opts.range.is_some() {
            "ranged_read"
        } else {
            "read"
        });
        let r = self.ram.read_with(path, opts).await;
        if matches!(r, Ok(ReadResult::Unchanged)) {
            self.hit("304");
        }
        r
    }
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        self.hit("write");
        self.ram.write(path, data).await
    }
    async fn write_with(
        &self,
        path: &str,
        data: ByteSource,
        opts: &WriteOptions,
    ) -> Result<VersionToken> {
        self.hit("write");
        self.ram.write_with(path, data, opts).await
    }
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        self.hit("append");
        self.ram.append(path, data).await
    }
    async fn mkdir(&self, path: &str) -> Result<()> {
        self.hit("mkdir");
        self.ram.mkdir(path).await
    }
    async fn unlink(&self, path: &str) -> Result<()> {
        self.hit("unlink");
        self.ram.unlink(path).await
    }
    async fn rmdir(&self, path: &str) -> Result<()> {
        self.hit("rmdir");
        self.ram.rmdir(path).await
    }
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.hit("rename");
        self.ram.rename(from, to).await
    }
}

fn policy(read: ReadPolicy, write: WritePolicy) -> MountPolicy {
    MountPolicy {
        read,
        write,
        index_ttl: Duration::from_secs(600),
    }
}

fn ws(remote: &Arc<Remote>, p: MountPolicy) -> Workspace {
    Workspace::builder()
        .cache(Recall::from_config(None, None).unwrap())
        .mount("/r", remote.clone(), MountMode::Write)
        .mount_policy("/r", p)
        .build()
        .unwrap()
}

async fn cat(vfs: &dyn Vfs, p: &str) -> String {
    let b = vfs.read(p).await.unwrap().collect().await.unwrap();
    String::from_utf8(b.to_vec()).unwrap()
}

async fn put(vfs: &dyn Vfs, p: &str, s: &str) -> Result<()> {
    vfs.write(p, ByteSource::Bytes(Bytes::from(s.to_string())))
        .await
}

async fn sh(ws: &Workspace, line: &str) -> (String, i32) {
    let r = ws.execute("default", line, None).await.unwrap();
    (String::from_utf8_lossy(&r.stdout).into_owned(), r.exit_code)
}

#[tokio::test]
async fn bounded_serves_from_cache_and_a_write_is_seen_at_once() {
    let remote = Remote::new();
    remote.put_behind("/a.txt", "one\n").await;
    let w = ws(&remote, MountPolicy::default());
    let vfs = w.vfs();
    assert_eq!(cat(vfs.as_ref(), "/r/a.txt").await, "one\n");
    assert_eq!(cat(vfs.as_ref(), "/r/a.txt").await, "one\n");
    assert_eq!(
        remote.count("read"),
        1,
        "the second read came from the cache"
    );
    put(vfs.as_ref(), "/r/a.txt", "two\n").await.unwrap();
    assert_eq!(cat(vfs.as_ref(), "/r/a.txt").await, "two\n");
    // stats are counted per mount
    let stats = w.cache_stats();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].0, "/r");
    assert!(
        stats[0].1.hits >= 1 && stats[0].1.bytes_served >= 4,
        "{:?}",
        stats[0].1
    );
    // and the shell sees the same
    let (out, code) = sh(&w, "cat /r/a.txt; cache stats --json").await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("two\n{\"/r\":{") && out.contains("\"hits\":"),
        "{out}"
    );
}

#[tokio::test]
async fn behind_the_back_changes_fresh_at_once_bounded_after_ttl() {
    let remote = Remote::new();
    remote.put_behind("/f", "v1").await;
    let fresh = ws(
        &remote,
        policy(ReadPolicy::Fresh, WritePolicy::Unconditional),
    );
    let v = fresh.vfs();
    assert_eq!(cat(v.as_ref(), "/r/f").await, "v1");
    assert_eq!(cat(v.as_ref(), "/r/f").await, "v1");
    assert_eq!(
        remote.count("304"),
        1,
        "the warm read was one conditional request"
    );
    remote.put_behind("/f", "v2").await;
    assert_eq!(
        cat(v.as_ref(), "/r/f").await,
        "v2",
        "fresh sees the change at once"
    );

    let remote = Remote::new();
    remote.put_behind("/f", "v1").await;
    let bounded = ws(
        &remote,
        policy(
            ReadPolicy::Bounded(Duration::from_millis(300)),
            WritePolicy::Unconditional,
        ),
    );
    let v = bounded.vfs();
    assert_eq!(cat(v.as_ref(), "/r/f").await, "v1");
    remote.put_behind("/f", "v2").await;
    assert_eq!(
        cat(v.as_ref(), "/r/f").await,
        "v1",
        "trusted within the ttl"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(cat(v.as_ref(), "/r/f").await, "v2", "seen after the ttl");
}

#[tokio::test]
async fn listings_and_stats_are_cached_and_dropped_by_changes() {
    let remote = Remote::new();
    remote.ram.mkdir("/d").await.unwrap();
    remote.put_behind("/d/x", "x").await;
    let w = ws(&remote, MountPolicy::default());
    let (out, _) = sh(
        &w,
        "ls /r/d; ls /r/d; stat -c %s /r/d/x 2>/dev/null || wc -c < /r/d/x",
    )
    .await;
    assert!(out.starts_with("x\nx\n"), "{out}");
    assert_eq!(remote.count("list"), 1, "one listing");
    // a write drops the parent listing: the new file shows
    put(w.vfs().as_ref(), "/r/d/y", "y").await.unwrap();
    let (out, _) = sh(&w, "ls /r/d").await;
    assert_eq!(out, "x\ny\n");
    // rename drops both sides
    let (out, code) = sh(
        &w,
        "cat /r/d/x; mv /r/d/x /r/d/z; ls /r/d; cat /r/d/x; cat /r/d/z",
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "xy\nz\nx", "after the rename: {out:?}");
    // a negative entry: a missing file, then created through Mirage
    let (_, code) = sh(&w, "cat /r/d/new").await;
    assert_eq!(code, 1);
    put(w.vfs().as_ref(), "/r/d/new", "n").await.unwrap();
    assert_eq!(cat(w.vfs().as_ref(), "/r/d/new").await, "n");
}

#[tokio::test]
async fn a_failed_write_drops_nothing_else() {
    let remote = Remote::new();
    remote.put_behind("/keep", "k").await;
    remote.put_behind("/f", "f1").await;
    let w = ws(
        &remote,
        policy(
            ReadPolicy::Bounded(Duration::from_secs(60)),
            WritePolicy::Conditional,
        ),
    );
    let v = w.vfs();
    assert_eq!(cat(v.as_ref(), "/r/keep").await, "k");
    assert_eq!(cat(v.as_ref(), "/r/f").await, "f1");
    let reads = remote.count("read");
    // another client changes /f; our conditional write is refused
    remote.put_behind("/f", "f2").await;
    let e = put(v.as_ref(), "/r/f", "mine").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(
        e.to_string()
            .contains("changed since it was read; read it again before writing"),
        "{e}"
    );
    assert_eq!(cat(v.as_ref(), "/r/keep").await, "k");
    assert_eq!(remote.count("read"), reads, "/keep stayed cached");
    // the refused path is read again, and then the write goes through
    assert_eq!(cat(v.as_ref(), "/r/f").await, "f2");
    put(v.as_ref(), "/r/f", "mine").await.unwrap();
    assert_eq!(cat(v.as_ref(), "/r/f").await, "mine");
    // the shell reports the conflict with the path
    remote.put_behind("/f", "theirs").await;
    let r = w.execute("default", "echo x > /r/f", None).await.unwrap();
    assert_eq!(r.exit_code, 1);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(
        err.contains("/r/f") && err.contains("changed since it was read"),
        "{err}"
    );
}

#[tokio::test]
async fn forget_and_refresh_drop_entries() {
    let remote = Remote::new();
    remote.put_behind("/f", "v1").await;
    let w = ws(&remote, MountPolicy::default());
    assert_eq!(cat(w.vfs().as_ref(), "/r/f").await, "v1");
    remote.put_behind("/f", "v2").await;
    assert_eq!(cat(w.vfs().as_ref(), "/r/f").await, "v1");
    let (_, code) = sh(&w, "cache forget /r/f").await;
    assert_eq!(code, 0);
    assert_eq!(cat(w.vfs().as_ref(), "/r/f").await, "v2");
    remote.put_behind("/g", "g").await;
    let (out, _) = sh(&w, "ls /r; cache refresh /r; ls /r").await;
    assert!(out.ends_with("f\ng\n"), "{out}");
    let (_, code) = sh(&w, "cache forget /nowhere").await;
    assert_eq!(code, 1);
}

#[tokio::test]
async fn cache_off_passes_everything_on() {
    let remote = Remote::new();
    remote.put_behind("/f", "v1").await;
    let w = ws(&remote, policy(ReadPolicy::Off, WritePolicy::Unconditional));
    for _ in 0..3 {
        assert_eq!(cat(w.vfs().as_ref(), "/r/f").await, "v1");
    }
    assert_eq!(remote.count("read"), 3);
}

#[tokio::test]
async fn ranges_are_cached_and_served_from_whole_entries() {
    let remote = Remote::new();
    remote.put_behind("/big", "0123456789").await;
    let w = ws(&remote, MountPolicy::default());
    let v = w.vfs();
    let opts = ReadOptions {
        range: Some(mirage_types::ByteRange::new(2, 3)),
        if_none_match: None,
    };
    for _ in 0..2 {
        let b = v
            .read_with("/r/big", &opts)
            .await
            .unwrap()
            .into_source()
            .unwrap();
        assert_eq!(&b.collect().await.unwrap()[..], b"234");
    }
    assert_eq!(remote.count("ranged_read"), 1, "the range was cached");
    assert_eq!(cat(v.as_ref(), "/r/big").await, "0123456789");
    let before = remote.total();
    let b = v
        .read_with(
            "/r/big",
            &ReadOptions {
                range: Some(mirage_types::ByteRange::new(7, 10)),
                if_none_match: None,
            },
        )
        .await
        .unwrap()
        .into_source()
        .unwrap();
    assert_eq!(&b.collect().await.unwrap()[..], b"789");
    assert_eq!(remote.total(), before, "served from the whole entry");
}

/// The chaos test: 8 tasks writing, renaming and reading through one
/// workspace while a second client changes objects directly; a read never
/// returns bytes older than the task's last completed write through
/// Mirage. (`MIRAGE_CHAOS_SECS`, default 3 here; the server version runs 60.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_never_reads_older_than_the_last_write() {
    let secs: u64 = std::env::var("MIRAGE_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let remote = Remote::new();
    let w = ws(
        &remote,
        policy(
            ReadPolicy::Bounded(Duration::from_secs(600)),
            WritePolicy::Unconditional,
        ),
    );
    let tick = Arc::new(AtomicU64::new(1));
    // direct writes: value "direct:<end tick>" is written, then its end tick recorded
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    let done: Arc<Mutex<HashMap<u64, u64>>> = Arc::default();
    for t in 0..8u64 {
        let w = w.clone();
        let tick = tick.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let v = w.vfs();
            let mine = format!("/r/t{t}");
            let mut seq = 0u64;
            let mut reads = 0u64;
            while std::time::Instant::now() < deadline {
                seq += 1;
                let start = tick.fetch_add(1, Ordering::SeqCst);
                put(v.as_ref(), &mine, &format!("mirage:{seq}")).await.unwrap();
                if seq.is_multiple_of(5) {
                    // rename away and back
                    v.rename(&mine, &format!("{mine}.tmp")).await.unwrap();
                    v.rename(&format!("{mine}.tmp"), &mine).await.unwrap();
                }
                for _ in 0..3 {
                    let got = cat(v.as_ref(), &mine).await;
                    reads += 1;
                    if let Some(n) = got.strip_prefix("mirage:") {
                        let n: u64 = n.parse().unwrap();
                        assert!(n >= seq, "task {t}: read mirage:{n} after writing mirage:{seq}");
                    } else if let Some(x) = got.strip_prefix("direct:") {
                        let x: u64 = x.parse().unwrap();
                        let done = done.lock().unwrap().get(&x).copied();
                        assert!(
                            done.is_none_or(|d| d > start),
                            "task {t}: read a direct write that completed at {done:?}, before our write began at {start}"
                        );
                    } else {
                        panic!("task {t}: read {got:?}");
                    }
                }
            }
            reads
        }));
    }
    let direct = {
        let remote = remote.clone();
        let tick = tick.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while std::time::Instant::now() < deadline {
                let t = n % 8;
                let end = tick.fetch_add(1, Ordering::SeqCst);
                // the value names a tick taken before it is written: a read of
                // it is legitimate only by a write that began before that tick
                let _ = remote
                    .ram
                    .write(
                        &format!("/t{t}"),
                        ByteSource::Bytes(Bytes::from(format!("direct:{end}"))),
                    )
                    .await;
                let d = tick.fetch_add(1, Ordering::SeqCst);
                done.lock().unwrap().insert(end, d);
                n += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            n
        })
    };
    let mut reads = 0;
    for t in tasks {
        reads += t.await.unwrap();
    }
    let n = direct.await.unwrap();
    assert!(reads > 100 && n > 10, "reads {reads}, direct writes {n}");
}

/// Scope push-down: `grep -r` and `find` over a nested tree cost one
/// (recursive) listing, and a warm run under `bounded` costs nothing.
#[tokio::test]
async fn a_tree_walk_costs_one_listing() {
    let remote = Remote::new();
    for d in ["/logs", "/logs/a", "/logs/a/b", "/logs/c"] {
        remote.ram.mkdir(d).await.unwrap();
    }
    for (i, d) in ["/logs", "/logs/a", "/logs/a/b", "/logs/c"]
        .iter()
        .enumerate()
    {
        for j in 0..3 {
            let body = if j == 1 { "ERROR here\n" } else { "fine\n" };
            remote.put_behind(&format!("{d}/f{i}{j}.log"), body).await;
        }
    }
    // find walks the tree without reading it: one listing, no read
    let f = ws(&remote, MountPolicy::default());
    let (out, _) = sh(&f, "find /r/logs -name '*.log' | wc -l").await;
    assert_eq!(out, "12\n");
    assert_eq!((remote.count("list"), remote.count("read")), (1, 0));
    remote.calls.lock().unwrap().clear();
    let w = ws(&remote, MountPolicy::default());
    let (out, code) = sh(&w, "grep -rc ERROR /r/logs | sort").await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 12, "{out}");
    assert_eq!(
        remote.count("list"),
        1,
        "one recursive listing for 4 directories"
    );
    assert_eq!(remote.count("stat"), 0, "stats came from the listing");
    assert_eq!(remote.count("read"), 12);
    let before = remote.total();
    let (out2, _) = sh(
        &w,
        "grep -rc ERROR /r/logs | sort; find /r/logs -name '*.log' | wc -l",
    )
    .await;
    assert!(out2.starts_with(&out) && out2.ends_with("12\n"), "{out2}");
    assert_eq!(remote.total(), before, "warm: no backend request");
}

/// The cache keys of a mount block are checked when the workspace is
/// built, with the model product's rules, and `write: conditional` on a
/// local mount says it is not supported instead of doing nothing.
#[tokio::test]
async fn mount_cache_keys_are_validated() {
    let bad = [
        (
            "{resource: ram, mode: write, write: conditional}",
            "write: conditional is not supported on a ram mount",
        ),
        (
            "{resource: ram, read: fresh, ttl: 5}",
            "ttl pins the read bound",
        ),
        (
            "{resource: ram, read: sometimes}",
            "read: \"sometimes\" is not one of fresh, bounded, off",
        ),
        ("{resource: ram, ttl: 0}", "ttl must be at least 1 second"),
    ];
    for (mount, want) in bad {
        let cfg =
            mirage_workspace::WorkspaceConfig::from_yaml(&format!("mounts:\n  /m: {mount}\n"))
                .unwrap();
        let Err(e) = Workspace::from_config(&cfg).await else {
            panic!("{mount}: accepted")
        };
        assert!(e.to_string().contains(want), "{mount}: {e}");
    }
}

/// `head -c`, `tail -c` and `tail -n` of a large file read only its ends
/// (ranged reads), with the same output as reading it whole.
#[tokio::test]
async fn head_and_tail_of_a_large_file_are_ranged_reads() {
    let remote = Remote::new();
    let mut text = String::new();
    for i in 0..300_000 {
        text.push_str(&format!("line {i}\n"));
    }
    let size = text.len();
    assert!(size > 3 << 20);
    remote
        .ram
        .write("/big", ByteSource::Bytes(Bytes::from(text.clone())))
        .await
        .unwrap();
    remote
        .ram
        .write(
            "/nonl",
            ByteSource::Bytes(Bytes::from(text.trim_end().to_string())),
        )
        .await
        .unwrap();
    let w = ws(&remote, policy(ReadPolicy::Off, WritePolicy::Unconditional));
    let lines: Vec<&str> = text.lines().collect();
    let last = |n: usize| lines[lines.len() - n..].join("\n") + "\n";
    let cases: Vec<(&str, String)> = vec![
        ("tail -n 5 /r/big", last(5)),
        (
            "tail -n 20000 /r/big | sed -n '1p;$p'",
            format!(
                "{}\n{}\n",
                lines[lines.len() - 20000],
                lines[lines.len() - 1]
            ),
        ),
        ("tail -n 20000 /r/big | wc -l", "20000\n".to_string()),
        ("tail -c 13 /r/big", text[size - 13..].to_string()),
        ("head -c 12 /r/big", text[..12].to_string()),
        ("tail -n 2 /r/nonl", last(2).trim_end().to_string()),
    ];
    for (line, want) in cases {
        let (out, code) = sh(&w, line).await;
        assert_eq!((out, code), (want, 0), "{line}");
    }
    assert_eq!(remote.count("read"), 0, "no command read the whole file");
    assert!(remote.count("ranged_read") >= 5);
}

#[tokio::test]
async fn cache_ttl_follows_the_mount_policy() {
    let remote = Remote::new();
    let bounded = ws(
        &remote,
        policy(
            ReadPolicy::Bounded(Duration::from_secs(42)),
            WritePolicy::Unconditional,
        ),
    );
    assert_eq!(bounded.cache_ttl("/r/a.txt"), Some(Duration::from_secs(42)));
    for read in [ReadPolicy::Fresh, ReadPolicy::Off] {
        let w = ws(&remote, policy(read, WritePolicy::Unconditional));
        assert_eq!(w.cache_ttl("/r/x"), Some(Duration::ZERO), "{read:?}");
    }
    let local = Workspace::builder()
        .mount("/m", Arc::new(RamResource::new()), MountMode::Write)
        .build()
        .unwrap();
    assert_eq!(local.cache_ttl("/m/x"), None, "a mount without a cache");
    assert_eq!(local.cache_ttl("/elsewhere"), None);
}
