//! The S3 resource against a real S3-compatible server (moto), counting
//! the requests it sends in the server's access log, not in our code.
//!
//! Needs `MIRAGE_TEST_S3_ENDPOINT` (and `MIRAGE_TEST_S3_LOG`, moto's log,
//! for the request counts); `cargo xtask test-resources` sets both. Unset,
//! each test says so and passes, unless `MIRAGE_TEST_REQUIRE_SERVERS=1`,
//! which makes it fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::Resource;
use mirage_types::{
    ByteRange, ByteSource, Error, ErrorKind, ListOptions, ReadOptions, ReadResult, VersionToken,
    WriteOptions,
};
use serde_json::json;

struct Server {
    endpoint: String,
    bucket: String,
    log: Option<PathBuf>,
}

fn required() -> bool {
    std::env::var("MIRAGE_TEST_REQUIRE_SERVERS").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn skip(why: &str) {
    assert!(!required(), "{why}, and MIRAGE_TEST_REQUIRE_SERVERS is set");
    eprintln!("skipped: {why}");
}

/// The test server, or `None` (after saying why) when there is none.
/// `need_log`: the test counts requests in moto's log.
fn server(need_log: bool) -> Option<Server> {
    let Some(endpoint) = std::env::var("MIRAGE_TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        skip("MIRAGE_TEST_S3_ENDPOINT is not set");
        return None;
    };
    let bucket = std::env::var("MIRAGE_TEST_S3_BUCKET")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "mirage-test".into());
    let log = std::env::var("MIRAGE_TEST_S3_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if need_log && log.is_none() {
        skip("MIRAGE_TEST_S3_LOG (the S3 server's access log) is not set");
        return None;
    }
    Some(Server {
        endpoint,
        bucket,
        log,
    })
}

static N: AtomicUsize = AtomicUsize::new(0);

/// A unique key prefix for one test (`s3crate-{pid}-{n}-{tag}`).
fn unique(tag: &str) -> String {
    format!(
        "s3crate-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Server {
    fn mount(&self, prefix: &str) -> Arc<dyn Resource> {
        mirage_resource_s3::build(&json!({
            "bucket": self.bucket,
            "endpoint_url": self.endpoint,
            "region": "us-east-1",
            "key_prefix": prefix,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }))
        .unwrap()
    }

    /// Deletes the test's keys (the large ones would pile up in the
    /// server across runs).
    async fn clean(&self, prefix: &str) {
        let settings = serde_json::from_value::<mirage_resource_s3::config::S3Config>(json!({
            "bucket": self.bucket,
            "endpoint_url": self.endpoint,
            "key_prefix": prefix,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }))
        .unwrap()
        .resolve()
        .unwrap();
        mirage_resource_s3::accessor::Accessor::new(&settings)
            .unwrap()
            .delete_prefix()
            .await
            .unwrap();
    }

    /// The size of the log now (requests after it are the test's).
    fn mark(&self) -> u64 {
        std::fs::metadata(self.log.as_ref().unwrap()).map_or(0, |m| m.len())
    }

    /// The log lines written since `mark` that mention `needle`. moto
    /// writes a line after it has answered, so this waits until the
    /// matching lines stop changing (half a second, at most 10 s).
    async fn lines_since(&self, mark: u64, needle: &str) -> Vec<String> {
        let mut last: Vec<String> = Vec::new();
        let mut stable = 0;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.read_lines(mark, needle);
            if now == last && !now.is_empty() {
                stable += 1;
                if stable >= 5 {
                    break;
                }
            } else {
                stable = 0;
                last = now;
            }
        }
        last
    }

    fn read_lines(&self, mark: u64, needle: &str) -> Vec<String> {
        let all = std::fs::read(self.log.as_ref().unwrap()).unwrap();
        let new = &all[usize::try_from(mark).unwrap().min(all.len())..];
        String::from_utf8_lossy(new)
            .lines()
            .map(strip_ansi)
            .filter(|l| l.contains(needle) && l.contains("HTTP/1.1\""))
            .collect()
    }
}

/// The line without terminal colour codes (werkzeug colours the lines of
/// non-200 answers: `ESC[35mESC[1mGET ... HTTP/1.1ESC[0m" 206`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
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

async fn put(r: &dyn Resource, path: &str, data: impl Into<Bytes>) {
    r.write(path, ByteSource::Bytes(data.into())).await.unwrap();
}

async fn content(r: &dyn Resource, path: &str) -> Bytes {
    r.read(path).await.unwrap().collect().await.unwrap()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranged_read_is_one_ranged_get() {
    let Some(s) = server(true) else { return };
    let p = unique("range");
    let r = s.mount(&p);
    let data = pattern(1 << 20);
    put(r.as_ref(), "/big.bin", data.clone()).await;
    let mark = s.mark();
    let opts = ReadOptions {
        range: Some(ByteRange::new(1000, 50)),
        ..ReadOptions::default()
    };
    let got = match r.read_with("/big.bin", &opts).await.unwrap() {
        ReadResult::Data { source, version } => {
            assert!(matches!(version, VersionToken::ETag(_)), "{version:?}");
            source.collect().await.unwrap()
        }
        ReadResult::Unchanged => panic!("unconditional read answered Unchanged"),
    };
    assert_eq!(&got[..], &data[1000..1050]);
    let lines = s.lines_since(mark, &p).await;
    assert_eq!(lines.len(), 1, "one request: {lines:#?}");
    assert!(
        lines[0].contains(&format!("\"GET /{}/{p}/big.bin HTTP/1.1\" 206", s.bucket)),
        "{lines:#?}"
    );
    // A range past the end reads as empty (pread(2)), not an error.
    let past = ReadOptions {
        range: Some(ByteRange::from_offset(5 << 20)),
        ..ReadOptions::default()
    };
    let got = r.read_with("/big.bin", &past).await.unwrap();
    assert!(
        got.into_source()
            .unwrap()
            .collect()
            .await
            .unwrap()
            .is_empty()
    );
    s.clean(&p).await;
    assert_eq!(
        r.stat("/big.bin").await.unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_read_answers_unchanged_with_304() {
    let Some(s) = server(true) else { return };
    let p = unique("cond");
    let r = s.mount(&p);
    put(r.as_ref(), "/f.txt", "hello").await;
    let v = r.stat("/f.txt").await.unwrap().version;
    assert!(matches!(v, VersionToken::ETag(_)), "{v:?}");
    let mark = s.mark();
    let opts = ReadOptions {
        if_none_match: Some(v.clone()),
        ..ReadOptions::default()
    };
    assert!(matches!(
        r.read_with("/f.txt", &opts).await.unwrap(),
        ReadResult::Unchanged
    ));
    let lines = s.lines_since(mark, &p).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("\"GET ") && lines[0].contains("HTTP/1.1\" 304"),
        "{lines:#?}"
    );
    // Changed: the new bytes and the new version, in one GET.
    put(r.as_ref(), "/f.txt", "changed").await;
    match r.read_with("/f.txt", &opts).await.unwrap() {
        ReadResult::Data { source, version } => {
            assert_eq!(&source.collect().await.unwrap()[..], b"changed");
            assert_ne!(version, v);
            assert_eq!(version, r.stat("/f.txt").await.unwrap().version);
        }
        ReadResult::Unchanged => panic!("changed file answered Unchanged"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_write_loses_to_another_client() {
    let Some(s) = server(false) else { return };
    let p = unique("cw");
    let r = s.mount(&p);
    let other = s.mount(&p);
    put(r.as_ref(), "/f.txt", "v1").await;
    let v1 = r.stat("/f.txt").await.unwrap().version;
    // A conditional write on the current version wins and answers the new ETag.
    let cond = |v: &VersionToken| WriteOptions {
        if_match: Some(v.clone()),
    };
    let v2 = r
        .write_with("/f.txt", ByteSource::from(b"v2".to_vec()), &cond(&v1))
        .await
        .unwrap();
    assert_eq!(v2, r.stat("/f.txt").await.unwrap().version);
    // Another client changes it behind our back.
    put(other.as_ref(), "/f.txt", "theirs").await;
    let e = r
        .write_with("/f.txt", ByteSource::from(b"mine".to_vec()), &cond(&v2))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert_eq!(&content(r.as_ref(), "/f.txt").await[..], b"theirs");
    // Deleted behind our back: also a conflict, and nothing is created.
    other.unlink("/f.txt").await.unwrap();
    let v3 = VersionToken::ETag("\"0123\"".into());
    let e = r
        .write_with("/f.txt", ByteSource::from(b"mine".to_vec()), &cond(&v3))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert_eq!(
        r.stat("/f.txt").await.unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_write_is_multipart_and_small_is_one_put() {
    let Some(s) = server(true) else { return };
    let p = unique("mp");
    let r = s.mount(&p);
    let data = pattern(20 * 1000 * 1000);
    let mark = s.mark();
    // Streamed in 1 MB chunks, as a pipe gives it.
    let chunks: Vec<mirage_types::Result<Bytes>> = data
        .chunks(1_000_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    r.write(
        "/big.bin",
        ByteSource::Stream(futures::stream::iter(chunks).boxed()),
    )
    .await
    .unwrap();
    let lines = s.lines_since(mark, &format!("{p}/big.bin")).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"POST ") && l.contains("?uploads")),
        "{lines:#?}"
    );
    let parts = lines
        .iter()
        .filter(|l| l.contains("\"PUT ") && l.contains("partNumber="))
        .count();
    assert_eq!(parts, 3, "20 MB in 8 MiB parts: {lines:#?}");
    assert_eq!(r.stat("/big.bin").await.unwrap().size, 20_000_000);
    assert!(content(r.as_ref(), "/big.bin").await == data);

    let mark = s.mark();
    put(r.as_ref(), "/small.bin", pattern(1 << 20)).await;
    let lines = s.lines_since(mark, &format!("{p}/small.bin")).await;
    let puts: Vec<_> = lines.iter().filter(|l| l.contains("\"PUT ")).collect();
    assert_eq!(puts.len(), 1, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("uploads")), "{lines:#?}");
    s.clean(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_large_write_leaves_no_object() {
    let Some(s) = server(true) else { return };
    let p = unique("abort");
    let r = s.mount(&p);
    put(r.as_ref(), "/keep.bin", "old").await;
    let mark = s.mark();
    let mut items: Vec<mirage_types::Result<Bytes>> = (0..12)
        .map(|_| Ok(Bytes::from(pattern(1_000_000))))
        .collect();
    items.push(Err(Error::msg(ErrorKind::Io, "injected")));
    for path in ["/new.bin", "/keep.bin"] {
        let e = r
            .write(
                path,
                ByteSource::Stream(futures::stream::iter(items.clone()).boxed()),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io, "{e}");
    }
    assert_eq!(
        r.stat("/new.bin").await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(&content(r.as_ref(), "/keep.bin").await[..], b"old");
    let lines = s.lines_since(mark, &p).await;
    let aborts = lines
        .iter()
        .filter(|l| l.contains("\"DELETE ") && l.contains("uploadId="))
        .count();
    assert_eq!(aborts, 2, "each upload aborted: {lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_listing_is_one_list_request() {
    let Some(s) = server(true) else { return };
    let p = unique("rec");
    let r = s.mount(&p);
    for d in ["/a", "/a/b", "/a/b/c", "/a/empty", "/z"] {
        r.mkdir(d).await.unwrap();
    }
    for f in [
        "/a/b/c/d.txt",
        "/a/b/y.txt",
        "/a/x.txt",
        "/e.txt",
        "/a/b/c/zero",
    ] {
        let data: &[u8] = if f.ends_with("zero") { b"" } else { b"data" };
        put(r.as_ref(), f, data.to_vec()).await;
    }
    let mark = s.mark();
    let opts = ListOptions {
        recursive: true,
        ..ListOptions::default()
    };
    let entries = mirage_ops::collect_list(r.list("/", &opts).await.unwrap())
        .await
        .unwrap();
    let got: Vec<(String, bool)> = entries
        .iter()
        .map(|e| (e.name.clone(), e.is_dir()))
        .collect();
    let want: Vec<(String, bool)> = [
        ("a", true),
        ("a/b", true),
        ("a/b/c", true),
        ("a/b/c/d.txt", false),
        ("a/b/c/zero", false),
        ("a/b/y.txt", false),
        ("a/empty", true),
        ("a/x.txt", false),
        ("e.txt", false),
        ("z", true),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), *d))
    .collect();
    assert_eq!(got, want);
    let lines = s.lines_since(mark, &p).await;
    // A listed file's version is the one stat and read give.
    let d = entries.iter().find(|e| e.name == "a/b/c/d.txt").unwrap();
    assert_eq!(d.version, r.stat("/a/b/c/d.txt").await.unwrap().version);
    assert_eq!(d.size, 4);
    let lists: Vec<_> = lines.iter().filter(|l| l.contains("list-type=2")).collect();
    assert_eq!(lists.len(), 1, "{lines:#?}");
    assert!(!lists[0].contains("delimiter"), "{lists:#?}");

    // Non-recursive: one delimiter listing, markers as directories.
    let mark = s.mark();
    let mut top: Vec<(String, bool)> = r
        .readdir("/a")
        .await
        .unwrap()
        .iter()
        .map(|e| (e.name.clone(), e.is_dir()))
        .collect();
    top.sort();
    assert_eq!(
        top,
        [("b", true), ("empty", true), ("x.txt", false)]
            .iter()
            .map(|(n, d)| (n.to_string(), *d))
            .collect::<Vec<_>>()
    );
    let lines = s.lines_since(mark, &p).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("delimiter=/"), "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_and_resumes() {
    let Some(s) = server(false) else { return };
    let p = unique("page");
    let r = s.mount(&p);
    for i in 0..7 {
        put(r.as_ref(), &format!("/f{i}"), "x").await;
    }
    let opts = ListOptions {
        page_size: Some(2),
        ..ListOptions::default()
    };
    let names: Vec<String> = mirage_ops::collect_list(r.list("/", &opts).await.unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["f0", "f1", "f2", "f3", "f4", "f5", "f6"]);
    let after = ListOptions {
        start_after: Some("f4".into()),
        ..opts
    };
    let names: Vec<String> = mirage_ops::collect_list(r.list("/", &after).await.unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["f5", "f6"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marker_is_the_model_products_layout() {
    let Some(s) = server(false) else { return };
    let p = unique("marker");
    let r = s.mount(&p);
    r.mkdir("/d").await.unwrap();
    // Seen from the bucket root (no key prefix): the marker `{p}/d/`.
    let root = s.mount("");
    let top = root.readdir(&format!("/{p}")).await.unwrap();
    assert_eq!(top.len(), 1);
    assert!(top[0].is_dir() && top[0].name == "d", "{top:?}");
    assert!(r.stat("/d").await.unwrap().is_dir());
    assert!(r.readdir("/d").await.unwrap().is_empty());
    r.rmdir("/d").await.unwrap();
    assert_eq!(r.stat("/d").await.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presets_reach_the_server() {
    let Some(s) = server(false) else { return };
    let p = unique("preset");
    for name in [
        "minio",
        "ceph",
        "r2",
        "gcs",
        "wasabi",
        "backblaze",
        "digitalocean",
    ] {
        let reg = mirage_ops::resource_type(name).unwrap();
        let r = (reg.build)(&json!({
            "bucket": s.bucket,
            "endpoint_url": s.endpoint,
            "region": "us-east-1",
            "key_prefix": format!("{p}/{name}"),
            "access_key_id": "test",
            "secret_access_key": "test",
        }))
        .unwrap();
        assert_eq!(r.name(), name);
        put(r.as_ref(), "/x", name.to_string()).await;
        assert_eq!(&content(r.as_ref(), "/x").await[..], name.as_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_clear_retryable_error() {
    // Nothing listens on port 9 of loopback (discard is not run here).
    let r = mirage_resource_s3::build(&json!({
        "bucket": "b",
        "endpoint_url": "http://127.0.0.1:9",
        "timeout": 2,
        "aws_access_key_id": "AKIDSECRET1",
        "aws_secret_access_key": "SSSECRET2",
    }))
    .unwrap();
    let e = r.stat("/x").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Remote { retryable: true }, "{e}");
    let text = e.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert!(text.contains("s3: "), "{text}");
    assert!(text.contains("Connection refused"), "{text}");
    assert!(text.contains("http://127.0.0.1:9/b"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_write_is_two_listings_and_one_put() {
    let Some(s) = server(true) else { return };
    let p = unique("wr");
    let r = s.mount(&p);
    r.mkdir("/d").await.unwrap();
    let mark = s.mark();
    put(r.as_ref(), "/d/f.txt", "x").await;
    let lines = s.lines_since(mark, &p).await;
    let lists = lines.iter().filter(|l| l.contains("list-type=2")).count();
    let puts = lines.iter().filter(|l| l.contains("\"PUT ")).count();
    assert_eq!((lists, puts, lines.len()), (2, 1, 3), "{lines:#?}");
    // Under a file and under nothing: refused, nothing written.
    let e = r
        .write("/d/f.txt/x", ByteSource::from(b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotADirectory, "{e}");
    let e = r
        .write("/nope/x", ByteSource::from(b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_directory_names_round_trip() {
    let Some(s) = server(false) else { return };
    let p = unique("odd");
    let r = s.mount(&p);
    for name in ["/sp ace", "/pl+us", "/pct%41", "/uni é✓", "/amp&eq=q?"] {
        r.mkdir(name).await.unwrap();
        assert!(r.stat(name).await.unwrap().is_dir(), "{name}");
        put(r.as_ref(), &format!("{name}/f"), "x").await;
        let inner = r.readdir(name).await.unwrap();
        assert_eq!(inner.len(), 1, "{name}: {inner:?}");
        r.unlink(&format!("{name}/f")).await.unwrap();
        // The marker keeps the emptied directory.
        assert!(r.readdir(name).await.unwrap().is_empty(), "{name}");
        r.rmdir(name).await.unwrap();
        assert_eq!(
            r.stat(name).await.unwrap_err().kind,
            ErrorKind::NotFound,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_are_refused_as_permission_denied() {
    let Some(s) = server(false) else { return };
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        eprintln!("skipped: AWS_ACCESS_KEY_ID is set, so requests would be signed");
        return;
    }
    // No credentials anywhere: requests go unsigned, and moto refuses an
    // unsigned GET of a private object with 403.
    let p = unique("unsigned");
    put(s.mount(&p).as_ref(), "/x", "secret").await;
    let r = mirage_resource_s3::build(&json!({
        "bucket": s.bucket,
        "endpoint_url": s.endpoint,
        "key_prefix": p,
    }))
    .unwrap();
    let e = r.read("/x").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stat_costs_one_head_or_a_head_and_a_listing() {
    let Some(s) = server(true) else { return };
    let p = unique("stat");
    let r = s.mount(&p);
    r.mkdir("/d").await.unwrap();
    put(r.as_ref(), "/d/f", "x").await;
    let mark = s.mark();
    assert!(r.stat("/d/f").await.unwrap().is_file());
    let lines = s.lines_since(mark, &p).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("\"HEAD "), "{lines:#?}");
    let mark = s.mark();
    assert!(r.stat("/d").await.unwrap().is_dir());
    let lines = s.lines_since(mark, &p).await;
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(
        r.stat("/d/f/x").await.unwrap_err().kind,
        ErrorKind::NotADirectory
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_needs_the_target_parent() {
    let Some(s) = server(false) else { return };
    let p = unique("mv");
    let r = s.mount(&p);
    put(r.as_ref(), "/f", "x").await;
    r.mkdir("/d").await.unwrap();
    for to in ["/missing/f", "/missing/d"] {
        let from = if to.ends_with('f') { "/f" } else { "/d" };
        let e = r.rename(from, to).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{from} -> {to}: {e}");
    }
    assert_eq!(
        r.rename("/f", "/f/g").await.unwrap_err().kind,
        ErrorKind::NotADirectory
    );
    r.rename("/f", "/d/f").await.unwrap();
    assert_eq!(&content(r.as_ref(), "/d/f").await[..], b"x");
    assert_eq!(r.stat("/f").await.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_listing_tells_empty_files_from_markers() {
    let Some(s) = server(true) else { return };
    let p = unique("empty");
    let r = s.mount(&p);
    r.mkdir("/m").await.unwrap();
    put(r.as_ref(), "/m.txt", "data").await;
    for f in ["/e1", "/e2", "/e3"] {
        put(r.as_ref(), f, "").await;
    }
    let mark = s.mark();
    let opts = ListOptions {
        recursive: true,
        ..ListOptions::default()
    };
    let mut got: Vec<(String, bool)> = mirage_ops::collect_list(r.list("/", &opts).await.unwrap())
        .await
        .unwrap()
        .iter()
        .map(|e| (e.name.clone(), e.is_dir()))
        .collect();
    got.sort();
    let want: Vec<(String, bool)> = [
        ("e1", false),
        ("e2", false),
        ("e3", false),
        ("m", true),
        ("m.txt", false),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), *d))
    .collect();
    assert_eq!(got, want);
    let lines = s.lines_since(mark, &p).await;
    let lists = lines.iter().filter(|l| l.contains("list-type=2")).count();
    let heads = lines.iter().filter(|l| l.contains("\"HEAD ")).count();
    // `m/` sorts after `m.txt`, so it is a marker without asking; each
    // empty file takes one HEAD.
    assert_eq!((lists, heads), (1, 3), "{lines:#?}");
}
