//! The redis resource against real `redis-server` processes, each test on
//! its own server (a free loopback port, no persistence), so a test may
//! kill and restart it: the key layout the model product reads, the
//! model's keys read back, an atomic subtree rename, conditional writes,
//! and reconnecting after a restart. Skipped with a message when
//! `redis-server` is not in PATH, unless MIRAGE_TEST_REQUIRE_SERVERS is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::Resource;
use mirage_types::{
    ByteRange, ByteSource, ErrorKind, ReadOptions, ReadResult, VersionToken, WriteOptions,
};

/// A `redis-server` of this test's own, killed when dropped.
struct Server {
    port: u16,
    child: Option<Child>,
}

impl Server {
    /// Starts one on a free port; `None` (after a message) when
    /// `redis-server` is missing and servers are not required.
    fn start() -> Option<Server> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            let required = std::env::var("MIRAGE_TEST_REQUIRE_SERVERS")
                .is_ok_and(|v| !v.is_empty() && v != "0");
            assert!(!required, "redis-server is not in PATH");
            eprintln!("skipped: redis-server is not in PATH");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Server { port, child: None };
        s.launch();
        Some(s)
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = self.raw_try()
                && redis::cmd("PING").query::<String>(&mut c).is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn raw_try(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(1))
    }

    /// A plain client, as the model product (or anyone) would use.
    fn raw(&self) -> redis::Connection {
        self.raw_try().unwrap()
    }

    fn resource(&self, prefix: &str) -> Arc<dyn Resource> {
        mirage_resource_redis::build(&serde_json::json!({"url": self.url(), "key_prefix": prefix}))
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn src(b: &'static [u8]) -> ByteSource {
    ByteSource::Bytes(Bytes::from_static(b))
}

async fn read(res: &dyn Resource, p: &str) -> Vec<u8> {
    res.read(p).await.unwrap().collect().await.unwrap().to_vec()
}

fn all_keys(c: &mut redis::Connection) -> BTreeSet<String> {
    let mut cursor = 0u64;
    let mut out = BTreeSet::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query(c)
            .unwrap();
        out.extend(keys);
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}

/// `2026-12-02T04:23:07.431338Z`: RFC 3339 UTC with six fraction digits.
fn is_model_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() == 27
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..26)
        && b[26] == b'Z'
}

/// The model product's verified layout after `mkdir -p /r/d1/d2; echo hi >
/// /r/d1/d2/a.txt; echo x > '/r/d1/sp ace%.txt'; mv /r/d1/d2/a.txt
/// /r/d1/b.txt`: the same keys, types and values, and nothing else.
#[test]
fn layout_is_the_model_products() {
    let Some(server) = Server::start() else {
        return;
    };
    let res = server.resource("mirage:fs:");
    rt().block_on(async {
        res.mkdir("/d1").await.unwrap();
        res.mkdir("/d1/d2").await.unwrap();
        res.write("/d1/d2/a.txt", src(b"hi\n")).await.unwrap();
        res.write("/d1/sp ace%.txt", src(b"x\n")).await.unwrap();
        res.rename("/d1/d2/a.txt", "/d1/b.txt").await.unwrap();
    });
    let mut c = server.raw();
    let want: BTreeSet<String> = [
        "mirage:fs:dir",
        "mirage:fs:file:/d1/b.txt",
        "mirage:fs:file:/d1/sp ace%.txt",
        "mirage:fs:modified:/d1",
        "mirage:fs:modified:/d1/d2",
        "mirage:fs:modified:/d1/b.txt",
        "mirage:fs:modified:/d1/sp ace%.txt",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(all_keys(&mut c), want);
    let dirs: BTreeSet<String> = redis::cmd("SMEMBERS")
        .arg("mirage:fs:dir")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        dirs,
        ["/", "/d1", "/d1/d2"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    for k in &want {
        let ty: String = redis::cmd("TYPE").arg(k).query(&mut c).unwrap();
        let ttl: i64 = redis::cmd("TTL").arg(k).query(&mut c).unwrap();
        assert_eq!(ttl, -1, "{k} has a TTL");
        if k == "mirage:fs:dir" {
            assert_eq!(ty, "set");
            continue;
        }
        assert_eq!(ty, "string", "{k}");
        let v: String = redis::cmd("GET").arg(k).query(&mut c).unwrap();
        if k.contains(":modified:") {
            assert!(is_model_stamp(&v), "{k} = {v:?}");
        } else if k.ends_with("b.txt") {
            assert_eq!(v, "hi\n");
        } else {
            assert_eq!(v, "x\n");
        }
    }
    // chmod writes the model's attrs hash: mode in decimal
    rt().block_on(res.chmod("/d1/b.txt", 0o755)).unwrap();
    let mode: String = redis::cmd("HGET")
        .arg("mirage:fs:attrs:/d1/b.txt")
        .arg("mode")
        .query(&mut c)
        .unwrap();
    assert_eq!(mode, "493");
}

/// Keys written in the model product's form (mtimes with and without a
/// fraction, a decimal mode, a missing root member) read back.
#[test]
fn reads_what_the_model_product_wrote() {
    let Some(server) = Server::start() else {
        return;
    };
    let mut c = server.raw();
    let p = "mirage:fs:";
    let set = |c: &mut redis::Connection, k: &str, v: &str| {
        redis::cmd("SET")
            .arg(format!("{p}{k}"))
            .arg(v)
            .query::<()>(c)
            .unwrap();
    };
    redis::cmd("SADD")
        .arg(format!("{p}dir"))
        .arg("/m")
        .arg("/m/sub")
        .query::<()>(&mut c)
        .unwrap();
    set(&mut c, "file:/m/whole.txt", "hello");
    set(&mut c, "modified:/m/whole.txt", "2026-12-02T18:02:31Z");
    set(&mut c, "file:/m/frac.txt", "");
    set(
        &mut c,
        "modified:/m/frac.txt",
        "2026-12-02T18:02:30.968047Z",
    );
    set(&mut c, "file:/m/sub/deep", "d");
    set(&mut c, "file:/top", "t");
    redis::cmd("HSET")
        .arg(format!("{p}attrs:/m/whole.txt"))
        .arg("mode")
        .arg("493")
        .query::<()>(&mut c)
        .unwrap();
    let res = server.resource(p);
    rt().block_on(async {
        let st = res.stat("/m/whole.txt").await.unwrap();
        assert_eq!(st.size, 5);
        assert_eq!(st.mode, Some(0o755));
        assert_eq!(
            st.modified,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_234_551))
        );
        assert_eq!(
            st.version,
            VersionToken::MtimeSize(1_796_234_551_000_000_000, 5)
        );
        let st = res.stat("/m/frac.txt").await.unwrap();
        assert_eq!((st.size, st.mode), (0, Some(0o644)));
        assert_eq!(
            st.modified,
            Some(SystemTime::UNIX_EPOCH + Duration::new(1_796_234_550, 968_047_000))
        );
        assert_eq!(read(res.as_ref(), "/m/whole.txt").await, b"hello");
        let mut names: Vec<(String, bool)> = res
            .readdir("/m")
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.name.clone(), e.is_dir()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("frac.txt".to_string(), false),
                ("sub".to_string(), true),
                ("whole.txt".to_string(), false)
            ]
        );
        // the root is a directory even before anything added it to the set
        let mut top: Vec<String> = res
            .readdir("/")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        top.sort();
        assert_eq!(top, ["m", "top"]);
        assert_eq!(read(res.as_ref(), "/m/sub/deep").await, b"d");
    });
}

/// A directory named with glob characters lists its own children only
/// (the MATCH pattern is escaped), and a large write is staged and leaves
/// no `tmp:` key or TTL behind, a failed one neither.
#[test]
fn globs_and_staged_writes() {
    let Some(server) = Server::start() else {
        return;
    };
    let res = server.resource("t[1]*:");
    rt().block_on(async {
        res.mkdir("/g[1]*").await.unwrap();
        res.mkdir("/g1x").await.unwrap();
        res.write("/g[1]*/in", src(b"1")).await.unwrap();
        res.write("/g1x/out", src(b"2")).await.unwrap();
        res.write("/g[1]*x", src(b"3")).await.unwrap();
        let names: Vec<String> = res
            .readdir("/g[1]*")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["in"]);
        let big: Vec<u8> = (0..9_500_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<_> = big
            .chunks(1 << 20)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        res.write(
            "/big",
            ByteSource::Stream(futures::stream::iter(chunks).boxed()),
        )
        .await
        .unwrap();
        assert_eq!(read(res.as_ref(), "/big").await, big);
        let failing = futures::stream::iter(vec![
            Ok(Bytes::from(vec![7u8; 5 << 20])),
            Ok(Bytes::from(vec![8u8; 5 << 20])),
            Err(mirage_types::Error::msg(ErrorKind::Io, "injected")),
        ]);
        assert!(
            res.write("/big", ByteSource::Stream(failing.boxed()))
                .await
                .is_err()
        );
        assert_eq!(read(res.as_ref(), "/big").await, big);
        res.append("/big", ByteSource::from(vec![1u8; 5 << 20]))
            .await
            .unwrap();
        assert_eq!(res.stat("/big").await.unwrap().size, 9_500_000 + (5 << 20));
    });
    let mut c = server.raw();
    let keys = all_keys(&mut c);
    assert!(!keys.iter().any(|k| k.contains("tmp:")), "{keys:?}");
    let ttl: i64 = redis::cmd("TTL")
        .arg("t[1]*:file:/big")
        .query(&mut c)
        .unwrap();
    assert_eq!(ttl, -1);
}

/// The commands the server ran while `f` ran, as `MONITOR` prints them:
/// those sent by a client and those run inside a script (`[0 lua]`).
fn monitor(server: &Server, f: impl FnOnce()) -> (Vec<String>, Vec<String>) {
    let mut mon = Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "monitor"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = mon.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    std::thread::sleep(Duration::from_millis(300));
    f();
    std::thread::sleep(Duration::from_millis(300));
    let _ = mon.kill();
    let _ = mon.wait();
    let lines = lines.join().unwrap();
    let clients = lines
        .iter()
        .filter(|l| l.contains(" 127.0.0.1:") && !l.to_lowercase().contains("\"monitor\""))
        .cloned()
        .collect();
    let lua = lines
        .iter()
        .filter(|l| l.contains("[0 lua]"))
        .cloned()
        .collect();
    (clients, lua)
}

/// A conditional read is one round trip, hit or miss, and a hit on an
/// mtime the model product wrote without a fraction is still a hit.
#[test]
fn conditional_read_is_one_round_trip() {
    let Some(server) = Server::start() else {
        return;
    };
    let res = server.resource("mirage:fs:");
    let rt = rt();
    let cond = |v: VersionToken| ReadOptions {
        if_none_match: Some(v),
        ..ReadOptions::default()
    };
    let v = rt.block_on(async {
        res.write("/f", src(b"0123456789")).await.unwrap();
        let v = res.stat("/f").await.unwrap().version;
        // load the script
        res.read_with("/f", &cond(v.clone())).await.unwrap();
        v
    });
    let (clients, _) = monitor(&server, || {
        let r = rt.block_on(res.read_with("/f", &cond(v.clone()))).unwrap();
        assert!(matches!(r, ReadResult::Unchanged), "{r:?}");
    });
    assert_eq!(clients.len(), 1, "{clients:#?}");
    let stale = VersionToken::MtimeSize(1, 10);
    let (clients, _) = monitor(&server, || {
        let opts = ReadOptions {
            range: Some(ByteRange::new(2, 3)),
            if_none_match: Some(stale),
        };
        match rt.block_on(res.read_with("/f", &opts)).unwrap() {
            ReadResult::Data { source, version } => {
                assert_eq!(version, v);
                let b = rt.block_on(source.collect()).unwrap();
                assert_eq!(b.as_ref(), b"234");
            }
            ReadResult::Unchanged => panic!("stale token matched"),
        }
    });
    assert_eq!(clients.len(), 1, "{clients:#?}");
    let mut c = server.raw();
    redis::cmd("SET")
        .arg("mirage:fs:modified:/f")
        .arg("2026-12-02T18:02:31Z")
        .query::<()>(&mut c)
        .unwrap();
    rt.block_on(async {
        let v = res.stat("/f").await.unwrap().version;
        assert_eq!(v, VersionToken::MtimeSize(1_796_234_551_000_000_000, 10));
        let r = res.read_with("/f", &cond(v)).await.unwrap();
        assert!(matches!(r, ReadResult::Unchanged), "{r:?}");
        let e = res
            .read_with("/nope", &cond(VersionToken::MtimeSize(1, 1)))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
    });
}

/// A subtree rename is one script call: `MONITOR` shows a single command
/// from our client (EVALSHA), and the moves happen inside it.
#[test]
fn subtree_rename_is_one_eval() {
    let Some(server) = Server::start() else {
        return;
    };
    let res = server.resource("mirage:fs:");
    let rt = rt();
    rt.block_on(async {
        res.mkdir("/a").await.unwrap();
        res.mkdir("/a/b").await.unwrap();
        for i in 0..20 {
            res.write(&format!("/a/f{i}"), src(b"x")).await.unwrap();
            res.write(&format!("/a/b/g{i}"), src(b"y")).await.unwrap();
        }
        // load the script (the first call may be EVALSHA, NOSCRIPT, EVAL)
        res.mkdir("/w").await.unwrap();
        res.rename("/w", "/w2").await.unwrap();
    });
    let (from_clients, lua) = monitor(&server, || rt.block_on(res.rename("/a", "/z")).unwrap());
    assert_eq!(from_clients.len(), 1, "{from_clients:#?}");
    assert!(
        from_clients[0].to_lowercase().contains("\"evalsha\""),
        "{from_clients:?}"
    );
    let inside = lua.len();
    assert!(inside > 40, "only {inside} commands inside the script");
    rt.block_on(async {
        assert!(res.stat("/a").await.is_err());
        assert_eq!(read(res.as_ref(), "/z/b/g19").await, b"y");
        assert_eq!(res.readdir("/z").await.unwrap().len(), 21);
    });
    let mut c = server.raw();
    let keys = all_keys(&mut c);
    assert!(!keys.iter().any(|k| k.contains(":/a/")), "{keys:?}");
}

/// A conditional write: the current token writes and answers the next
/// one; a stale token, a missing file, or a change by another client
/// between our read of the version and our write is `Conflict`, and the
/// bytes stay as the other client left them.
#[test]
fn conditional_write_conflicts() {
    let Some(server) = Server::start() else {
        return;
    };
    let res = server.resource("mirage:fs:");
    let url = server.url();
    rt().block_on(async {
        res.write("/f", src(b"one")).await.unwrap();
        let v1 = res.stat("/f").await.unwrap().version;
        let opts = |v: &VersionToken| WriteOptions {
            if_match: Some(v.clone()),
        };
        let v2 = res.write_with("/f", src(b"two"), &opts(&v1)).await.unwrap();
        assert_eq!(v2, res.stat("/f").await.unwrap().version);
        assert_ne!(v1, v2);
        let e = res
            .write_with("/f", src(b"stale"), &opts(&v1))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        let e = res
            .write_with("/nope", src(b"x"), &opts(&v2))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert!(res.stat("/nope").await.is_err());
        // another client writes while our data is still streaming in:
        // after we read the version, before our write lands
        let raw_url = url.clone();
        let sneaky = futures::stream::once(async move {
            let mut c = redis::Client::open(raw_url)
                .unwrap()
                .get_connection()
                .unwrap();
            redis::cmd("SET")
                .arg("mirage:fs:file:/f")
                .arg("theirs")
                .query::<()>(&mut c)
                .unwrap();
            Ok(Bytes::from_static(b"ours"))
        });
        let e = res
            .write_with("/f", ByteSource::Stream(sneaky.boxed()), &opts(&v2))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(read(res.as_ref(), "/f").await, b"theirs");
        // the same through a large, staged write: nothing changes, no tmp key
        let v3 = res.stat("/f").await.unwrap().version;
        let raw_url = url.clone();
        let big = futures::stream::iter(0..3).then(move |i| {
            let raw_url = raw_url.clone();
            async move {
                if i == 2 {
                    let mut c = redis::Client::open(raw_url)
                        .unwrap()
                        .get_connection()
                        .unwrap();
                    redis::cmd("SET")
                        .arg("mirage:fs:modified:/f")
                        .arg("2030-01-01T00:00:00Z")
                        .query::<()>(&mut c)
                        .unwrap();
                }
                Ok(Bytes::from(vec![b'z'; 3 << 20]))
            }
        });
        let e = res
            .write_with("/f", ByteSource::Stream(big.boxed()), &opts(&v3))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(read(res.as_ref(), "/f").await, b"theirs");
    });
    let keys = all_keys(&mut server.raw());
    assert!(!keys.iter().any(|k| k.contains("tmp:")), "{keys:?}");
}

/// The server is killed and restarted under a mounted resource: while it
/// is down an op fails soon with a retryable `Remote` error naming the
/// URL; once it is back, the next op succeeds by itself.
#[test]
fn reconnects_after_a_restart() {
    let Some(mut server) = Server::start() else {
        return;
    };
    let url = server.url();
    let res = server.resource("mirage:fs:");
    let rt = rt();
    rt.block_on(async {
        res.write("/a", src(b"before")).await.unwrap();
        assert_eq!(read(res.as_ref(), "/a").await, b"before");
    });
    server.kill();
    rt.block_on(async {
        let t = Instant::now();
        let e = res.stat("/a").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Remote { retryable: true }, "{e}");
        assert!(e.to_string().contains(&url), "{e}");
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    });
    server.launch();
    rt.block_on(async {
        // a fresh server without persistence: the tree is empty again
        res.write("/b", src(b"after")).await.unwrap();
        assert_eq!(read(res.as_ref(), "/b").await, b"after");
        let names: Vec<String> = res
            .readdir("/")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["b"]);
    });
    // a restart while idle, with no failing op in between
    server.kill();
    server.launch();
    rt.block_on(async {
        res.mkdir("/d").await.unwrap();
        assert!(res.stat("/d").await.unwrap().is_dir());
    });
    // an append first after a restart (retried only when nothing was sent)
    server.kill();
    server.launch();
    rt.block_on(async {
        res.append("/log", src(b"x")).await.unwrap();
        res.append("/log", src(b"y")).await.unwrap();
        assert_eq!(read(res.as_ref(), "/log").await, b"xy");
    });
}

/// One mount used from two runtimes in turn (the first one gone before
/// the second starts), as a resource built once and used by successive
/// `mirage execute` runs in one process would be.
#[test]
fn outlives_the_runtime_that_connected() {
    let Some(server) = Server::start() else {
        return;
    };
    let res = server.resource("mirage:fs:");
    {
        let rt1 = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt1.block_on(res.write("/a", src(b"one"))).unwrap();
    }
    let rt2 = rt();
    rt2.block_on(async {
        let t = Instant::now();
        assert_eq!(read(res.as_ref(), "/a").await, b"one");
        res.write("/b", src(b"two")).await.unwrap();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    });
}
