//! Recall against the real servers `cargo xtask test-resources` starts
//! (moto for S3, redis-server): request counts read from the S3 server's
//! own access log, never from our counters. Each test is skipped with a
//! message when the servers are not set, and fails then when
//! `MIRAGE_TEST_REQUIRE_SERVERS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mirage::{Workspace, WorkspaceConfig};

static N: AtomicUsize = AtomicUsize::new(0);

struct Env {
    endpoint: String,
    bucket: String,
    log: Option<String>,
    redis: Option<String>,
}

fn env() -> Option<Env> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let required = get("MIRAGE_TEST_REQUIRE_SERVERS").is_some_and(|v| v != "0");
    match get("MIRAGE_TEST_S3_ENDPOINT") {
        Some(endpoint) => Some(Env {
            endpoint,
            bucket: get("MIRAGE_TEST_S3_BUCKET").unwrap_or_else(|| "mirage-test".into()),
            log: get("MIRAGE_TEST_S3_LOG"),
            redis: get("MIRAGE_TEST_REDIS_URL"),
        }),
        None if required => {
            panic!("MIRAGE_TEST_S3_ENDPOINT is not set (run `cargo xtask test-resources`)")
        }
        None => {
            eprintln!(
                "skipped: no S3 test server (MIRAGE_TEST_S3_ENDPOINT unset; `cargo xtask test-resources` starts one)"
            );
            None
        }
    }
}

/// A key prefix no other test uses, made of letters and digits only so it
/// appears as is in the server log (listing URLs encode `/`).
fn unique() -> String {
    format!(
        "rc{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn s3_mount(e: &Env, prefix: &str, policy: &str) -> String {
    // `config_timeout: N` in `policy` sets the S3 config's `timeout`
    let mut timeout = String::new();
    let policy: String = policy
        .lines()
        .filter(|l| match l.trim().strip_prefix("config_timeout:") {
            Some(t) => {
                timeout = format!("      timeout: {}\n", t.trim());
                false
            }
            None => true,
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        r#"
  /s3:
    resource: s3
    mode: write
{policy}
    config:
      bucket: {}
      endpoint_url: {}
      region: us-east-1
      aws_access_key_id: test
      aws_secret_access_key: test
      key_prefix: {prefix}/
{timeout}"#,
        e.bucket, e.endpoint
    )
}

async fn workspace(e: &Env, prefix: &str, policy: &str, cache: &str) -> Workspace {
    mirage::link_resources();
    let yaml = format!(
        "mounts:{}\n  /tmp:\n    resource: ram\n    mode: write\n{cache}",
        s3_mount(e, prefix, policy)
    );
    let cfg = WorkspaceConfig::from_yaml(&yaml).unwrap();
    Workspace::from_config(&cfg).await.unwrap()
}

async fn sh(w: &Workspace, line: &str) -> (String, String, i32) {
    let r = w.execute("default", line, None).await.unwrap();
    (
        String::from_utf8_lossy(&r.stdout).into_owned(),
        String::from_utf8_lossy(&r.stderr).into_owned(),
        r.exit_code,
    )
}

/// The S3 server's access-log lines about `prefix` after `from` bytes.
struct Log {
    path: String,
}

impl Log {
    fn offset(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }
    /// `(method, status)` of each request naming `prefix` since `from`
    /// (after letting the server flush its log).
    fn since(&self, from: u64, prefix: &str) -> Vec<(String, String, String)> {
        std::thread::sleep(Duration::from_millis(300));
        let all = std::fs::read(&self.path).unwrap();
        let text = String::from_utf8_lossy(&all[usize::try_from(from).unwrap().min(all.len())..])
            .into_owned();
        text.lines()
            .map(strip_ansi)
            .filter(|l| l.contains(prefix))
            .filter_map(|l| {
                // 127.0.0.1 - - [date] "GET /bucket/key?x HTTP/1.1" 200 -
                let q = l.split('"').nth(1)?;
                let status = l.split('"').nth(2)?.split_whitespace().next()?.to_string();
                let mut parts = q.split_whitespace();
                Some((parts.next()?.to_string(), parts.next()?.to_string(), status))
            })
            .collect()
    }
}

/// The line without terminal colour sequences (moto colours its log).
fn strip_ansi(l: &str) -> String {
    let mut out = String::with_capacity(l.len());
    let mut it = l.chars();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_list(r: &(String, String, String)) -> bool {
    r.0 == "GET" && r.1.contains("list-type=2")
}

#[tokio::test]
async fn grep_r_costs_one_listing_and_one_get_per_object_then_nothing() {
    let Some(e) = env() else { return };
    let Some(path) = e.log.clone() else {
        eprintln!("skipped: MIRAGE_TEST_S3_LOG unset");
        return;
    };
    let log = Log { path };
    let pfx = unique();
    // 200 objects under logs/, in 4 directories, written through a mount without cache
    let writer = workspace(&e, &pfx, "    read: off", "").await;
    let (_, err, code) = sh(
        &writer,
        "for d in a b c d; do mkdir -p /s3/logs/$d; for i in $(seq 50); do if [ $((i % 10)) = 0 ]; then echo \"ERROR $d$i\"; else echo \"ok $d$i\"; fi > /s3/logs/$d/f$i.log; done; done",
    )
    .await;
    assert_eq!(code, 0, "{err}");

    for (policy, name) in [
        ("    read: bounded\n    ttl: 600", "bounded"),
        ("    read: fresh", "fresh"),
    ] {
        let w = workspace(&e, &pfx, policy, "").await;
        let from = log.offset();
        let (out, err, code) = sh(&w, "grep -r ERROR /s3/logs | wc -l").await;
        assert_eq!((out.as_str(), code), ("20\n", 0), "{name}: {err}");
        let reqs = log.since(from, &pfx);
        let lists = reqs.iter().filter(|r| is_list(r)).count();
        let gets = reqs.iter().filter(|r| r.0 == "GET" && !is_list(r)).count();
        let others = reqs.len() - lists - gets;
        assert!(lists <= 1, "{name} cold: {lists} listings: {reqs:?}");
        assert_eq!(gets, 200, "{name} cold: {gets} GETs");
        assert_eq!(others, 0, "{name} cold: other requests {reqs:?}");

        let from = log.offset();
        let (out, _, _) = sh(&w, "grep -r ERROR /s3/logs | wc -l").await;
        assert_eq!(out, "20\n");
        let reqs = log.since(from, &pfx);
        if name == "bounded" {
            assert!(
                reqs.is_empty(),
                "bounded warm: {} requests: {:?}",
                reqs.len(),
                &reqs[..reqs.len().min(5)]
            );
        } else {
            assert_eq!(
                reqs.len(),
                200,
                "fresh warm: one conditional GET per object"
            );
            assert!(
                reqs.iter().all(|r| r.0 == "GET" && r.2 == "304"),
                "fresh warm: {:?}",
                &reqs[..5]
            );
        }
        // a glob over a directory: one listing, the stats come from it
        let g = workspace(&e, &pfx, policy, "").await;
        let from = log.offset();
        let (out, err, code) = sh(&g, "cat /s3/logs/a/*.log | grep -c ERROR").await;
        assert_eq!((out.as_str(), code), ("5\n", 0), "{name}: {err}");
        let reqs = log.since(from, &pfx);
        let lists = reqs.iter().filter(|r| is_list(r)).count();
        let gets = reqs.iter().filter(|r| r.0 == "GET" && !is_list(r)).count();
        assert!(
            lists <= 1 && gets == 50 && reqs.len() == lists + gets,
            "{name} glob: {reqs:?}"
        );
        let stats = w.cache_stats();
        assert_eq!(stats[0].0, "/s3");
        println!("{name}: {:?}", stats[0].1);
    }
}

#[tokio::test]
async fn changes_behind_the_back_and_through_mirage() {
    let Some(e) = env() else { return };
    let pfx = unique();
    let other = workspace(&e, &pfx, "    read: off", "").await;
    sh(&other, "echo v1 > /s3/f").await;
    let fresh = workspace(&e, &pfx, "    read: fresh", "").await;
    let bounded = workspace(&e, &pfx, "    read: bounded\n    ttl: 1", "").await;
    assert_eq!(sh(&fresh, "cat /s3/f").await.0, "v1\n");
    assert_eq!(sh(&bounded, "cat /s3/f").await.0, "v1\n");
    sh(&other, "echo v2 > /s3/f").await;
    assert_eq!(sh(&fresh, "cat /s3/f").await.0, "v2\n", "fresh: at once");
    assert_eq!(
        sh(&bounded, "cat /s3/f").await.0,
        "v1\n",
        "bounded: within the ttl"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        sh(&bounded, "cat /s3/f").await.0,
        "v2\n",
        "bounded: after the ttl"
    );
    // a write through Mirage, then a read: the new bytes, always
    for i in 0..5 {
        let (out, err, code) = sh(&bounded, &format!("echo w{i} > /s3/f; cat /s3/f")).await;
        assert_eq!((out, code), (format!("w{i}\n"), 0), "{err}");
    }
    // a rename invalidates both sides
    let (out, err, code) = sh(
        &bounded,
        "ls /s3; mv /s3/f /s3/g; ls /s3; cat /s3/f; cat /s3/g",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "f\ng\nw4\n");
    assert!(err.contains("/s3/f: No such file or directory"), "{err}");
}

#[tokio::test]
async fn conditional_write_refuses_an_unseen_change() {
    let Some(e) = env() else { return };
    let pfx = unique();
    let other = workspace(&e, &pfx, "    read: off", "").await;
    sh(&other, "echo theirs-1 > /s3/x").await;
    let w = workspace(&e, &pfx, "    read: fresh\n    write: conditional", "").await;
    assert_eq!(sh(&w, "cat /s3/x").await.0, "theirs-1\n");
    sh(&other, "echo theirs-2 > /s3/x").await;
    let (_, err, code) = sh(&w, "echo mine > /s3/x").await;
    assert_eq!(code, 1);
    assert!(
        err.contains("/s3/x")
            && err.contains("changed since it was read; read it again before writing"),
        "{err}"
    );
    assert_eq!(
        sh(&other, "cat /s3/x").await.0,
        "theirs-2\n",
        "the other write stays"
    );
    // read it again, then the write goes through
    let (out, err, code) = sh(&w, "cat /s3/x; echo mine > /s3/x; cat /s3/x").await;
    assert_eq!((out.as_str(), code), ("theirs-2\nmine\n", 0), "{err}");
    assert_eq!(w.cache_stats()[0].1.conflicts, 1);
}

#[tokio::test]
async fn the_disk_tier_survives_a_restart_and_still_checks_tokens() {
    let Some(e) = env() else { return };
    let Some(path) = e.log.clone() else { return };
    let log = Log { path };
    let pfx = unique();
    let dir = tempfile::tempdir().unwrap();
    let cache = format!("cache:\n  type: disk\n  root: {}\n", dir.path().display());
    let other = workspace(&e, &pfx, "    read: off", "").await;
    sh(&other, "echo one > /s3/f").await;
    {
        let w = workspace(&e, &pfx, "    read: fresh", &cache).await;
        assert_eq!(sh(&w, "cat /s3/f").await.0, "one\n");
    }
    // a new workspace (a restarted daemon) on the same cache file
    let w = workspace(&e, &pfx, "    read: fresh", &cache).await;
    let from = log.offset();
    assert_eq!(sh(&w, "cat /s3/f").await.0, "one\n");
    let reqs = log.since(from, &pfx);
    assert!(
        reqs.iter().any(|r| r.0 == "GET" && r.2 == "304")
            && !reqs
                .iter()
                .any(|r| r.0 == "GET" && r.2 == "200" && !is_list(r)),
        "served from disk after a 304: {reqs:?}"
    );
    // the token is still checked: a change made meanwhile is seen
    sh(&other, "echo two > /s3/f").await;
    drop(w);
    let w = workspace(&e, &pfx, "    read: fresh", &cache).await;
    assert_eq!(sh(&w, "cat /s3/f").await.0, "two\n");
}

#[tokio::test]
async fn the_redis_tier_is_shared_by_two_workspaces() {
    let Some(e) = env() else { return };
    let (Some(url), Some(path)) = (e.redis.clone(), e.log.clone()) else {
        eprintln!("skipped: MIRAGE_TEST_REDIS_URL or MIRAGE_TEST_S3_LOG unset");
        return;
    };
    let log = Log { path };
    let pfx = unique();
    let cache = format!(
        "cache:\n  type: redis\n  url: {url}\n  key_prefix: 'mirage:cachetest:{pfx}:'\nindex:\n  type: redis\n  url: {url}\n  key_prefix: 'mirage:indextest:{pfx}:'\n"
    );
    let other = workspace(&e, &pfx, "    read: off", "").await;
    sh(&other, "echo shared > /s3/f").await;
    let a = workspace(&e, &pfx, "    read: bounded\n    ttl: 600", &cache).await;
    assert_eq!(sh(&a, "cat /s3/f").await.0, "shared\n");
    let b = workspace(&e, &pfx, "    read: bounded\n    ttl: 600", &cache).await;
    let from = log.offset();
    assert_eq!(sh(&b, "cat /s3/f").await.0, "shared\n");
    let reqs = log.since(from, &pfx);
    assert!(
        reqs.is_empty(),
        "the second workspace read the shared cache: {reqs:?}"
    );
    // a write through one drops the shared entry for both
    sh(&a, "echo new > /s3/f").await;
    assert_eq!(sh(&b, "cat /s3/f").await.0, "new\n");
}

/// 8 tasks writing, renaming and reading through one workspace while a
/// second client changes the objects directly (`MIRAGE_CHAOS_SECS`,
/// default 60): a read never returns bytes older than the task's last
/// completed write through Mirage.
///
/// moto rewrites an object's buffer in place, so a GET that overlaps a PUT
/// of the same key can return a mix of both (seen here, with the cache
/// off too). Each object therefore has a lock that a task holds for one
/// command and the direct client for one write: the changes still land
/// between a task's write and its reads, which is what the cache must
/// notice. (The RAM chaos test in mirage-workspace runs without locks.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_on_s3() {
    let Some(e) = env() else { return };
    let secs: u64 = std::env::var("MIRAGE_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let pfx = unique();
    let policy =
        std::env::var("CHAOS_POLICY").unwrap_or_else(|_| "    read: bounded\n    ttl: 600".into());
    let w = workspace(&e, &pfx, &policy, "").await;
    let other = workspace(&e, &pfx, "    read: off", "").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let tick = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1));
    let done: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, u64>>> =
        Default::default();
    let locks: std::sync::Arc<Vec<tokio::sync::Mutex<()>>> =
        std::sync::Arc::new((0..8).map(|_| tokio::sync::Mutex::new(())).collect());
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let (w, tick, done) = (w.clone(), tick.clone(), done.clone());
        let locks = locks.clone();
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            let mut reads = 0u64;
            while std::time::Instant::now() < deadline {
                seq += 1;
                let start = tick.fetch_add(1, Ordering::SeqCst);
                let line = if seq.is_multiple_of(4) {
                    format!("echo mirage:{seq} > /s3/t{t}.tmp && mv /s3/t{t}.tmp /s3/t{t}")
                } else {
                    format!("echo mirage:{seq} > /s3/t{t}")
                };
                let (_, err, code) = {
                    let _g = locks[t as usize].lock().await;
                    sh(&w, &line).await
                };
                assert_eq!(code, 0, "task {t}: {line}: {err}");
                for _ in 0..2 {
                    let (got, err, code) = {
                        let _g = locks[t as usize].lock().await;
                        sh(&w, &format!("cat /s3/t{t}")).await
                    };
                    assert_eq!(code, 0, "{err}");
                    reads += 1;
                    let got = got.trim_end();
                    if let Some(n) = got.strip_prefix("mirage:") {
                        assert!(
                            n.parse::<u64>().unwrap() >= seq,
                            "task {t}: read {got} after writing mirage:{seq}"
                        );
                    } else if let Some(x) = got.strip_prefix("direct:") {
                        let d = done.lock().unwrap().get(&x.parse().unwrap()).copied();
                        assert!(
                            d.is_none_or(|d| d > start),
                            "task {t}: read {got}, written before our write began"
                        );
                    } else {
                        panic!("task {t}: read {got:?} after writing mirage:{seq}: {line}");
                    }
                }
            }
            reads
        }));
    }
    let direct = tokio::spawn(async move {
        let locks = locks;
        let mut n = 0u64;
        while std::time::Instant::now() < deadline && std::env::var("CHAOS_NO_DIRECT").is_err() {
            let _g = locks[usize::try_from(n % 8).unwrap()].lock().await;
            let x = tick.fetch_add(1, Ordering::SeqCst);
            sh(&other, &format!("echo direct:{x} > /s3/t{}", n % 8)).await;
            let d = tick.fetch_add(1, Ordering::SeqCst);
            drop(_g);
            done.lock().unwrap().insert(x, d);
            n += 1;
        }
        n
    });
    let mut reads = 0;
    for t in tasks {
        reads += t.await.unwrap();
    }
    let n = direct.await.unwrap();
    println!("chaos: {reads} reads, {n} direct writes in {secs} s");
    assert!(reads > 16 && n > 2, "reads {reads}, direct {n}");
}

/// A TCP proxy in front of the S3 server that dies (drops every
/// connection and stops listening) once `limit` bytes went from the client
/// to the server: to Mirage, the server died in the middle of an upload,
/// while the real server stays up so the test can look at what it holds.
async fn dying_proxy(upstream: String, limit: u64) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let up = upstream.trim_start_matches("http://").to_string();
    let handle = tokio::spawn(async move {
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let dead = std::sync::Arc::new(tokio::sync::Notify::new());
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                () = dead.notified() => break,
                r = listener.accept() => {
                    let Ok((mut client, _)) = r else { break };
                    let up = up.clone();
                    let (sent, dead) = (sent.clone(), dead.clone());
                    conns.spawn(async move {
                        let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else { return };
                        let (mut cr, mut cw) = client.split();
                        let (mut sr, mut sw) = server.split();
                        let up_dir = async {
                            let mut buf = vec![0u8; 64 << 10];
                            loop {
                                let n = match cr.read(&mut buf).await { Ok(0) | Err(_) => return, Ok(n) => n };
                                if sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit {
                                    dead.notify_one();
                                    return;
                                }
                                if sw.write_all(&buf[..n]).await.is_err() { return; }
                            }
                        };
                        let down = async {
                            let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        };
                        tokio::select! { () = up_dir => {}, () = down => {} }
                    });
                }
            }
        }
        conns.abort_all();
    });
    (addr, handle)
}

/// Faults: the S3 server dies in the middle of a `cp` of a 40 MB file
/// (a multipart upload): the command fails with a clear error, no partial
/// object is visible, and the workspace keeps serving its other mounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dying_mid_cp_leaves_no_partial_object() {
    let Some(e) = env() else { return };
    let pfx = unique();
    let (proxy, handle) = dying_proxy(e.endpoint.clone(), 12 << 20).await;
    let dying = Env {
        endpoint: proxy,
        bucket: e.bucket.clone(),
        log: None,
        redis: None,
    };
    let w = workspace(
        &dying,
        &pfx,
        "    read: bounded\n    ttl: 600\n    config_timeout: 3",
        "",
    )
    .await;
    let (_, err, code) = sh(
        &w,
        "head -c 40000000 /dev/zero > /tmp/big; echo kept > /tmp/small",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let started = std::time::Instant::now();
    let (out, cp_err, code) = sh(&w, "cp /tmp/big /s3/big").await;
    let took = started.elapsed();
    let err = cp_err.clone();
    assert_eq!(code, 1, "cp must fail: {out} {err}");
    assert!(
        err.starts_with("cp: ") && err.contains("/s3/big"),
        "a clear error: {err}"
    );
    assert!(took < Duration::from_secs(60), "failed in {took:?}");
    handle.await.unwrap();
    // the workspace keeps serving other mounts
    let (out, _, code) = sh(&w, "cat /tmp/small; wc -c < /tmp/big").await;
    assert_eq!((out.as_str(), code), ("kept\n40000000\n", 0));
    // and the server holds no object, partial or whole
    let direct = workspace(&e, &pfx, "    read: off", "").await;
    let (out, err, code) = sh(&direct, "ls -A /s3; test -e /s3/big && echo visible").await;
    assert_eq!((out.as_str(), code), ("", 1), "{err}");
    println!("cp failed after {took:?}: {}", cp_err.trim_end());
}
