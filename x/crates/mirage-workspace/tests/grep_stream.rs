#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! grep searches a stream as it arrives: on an endless source `-m1`, `-q`
//! and `| head -1` stop reading, context (`-A/-B/-C`) on stdin does not
//! collect it, a gigabyte through `grep -c` keeps memory flat, and a
//! streamed input gives byte for byte the output of the same bytes searched
//! in memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::StreamExt;
use mirage_resource_disk::DiskResource;
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, Input, MountMode, Sink};
use mirage_workspace::Workspace;

mod common;
use common::Endless;

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// 64 KiB of 1 KiB lines (`aaa…`), the 33rd of which is `x needle x`.
fn chunk() -> Bytes {
    let mut c = Vec::with_capacity(64 * 1024);
    for i in 0..64 {
        let mut line = if i == 32 {
            b"x needle x".to_vec()
        } else {
            vec![b'a'; 10]
        };
        line.resize(1023, b'a');
        line.push(b'\n');
        c.extend_from_slice(&line);
    }
    c.into()
}

fn endless_ws() -> (Workspace, Arc<std::sync::atomic::AtomicUsize>) {
    let inf = Endless::new(chunk());
    let pulled = inf.pulled.clone();
    let ws = Workspace::builder()
        .mount("/inf", Arc::new(inf), MountMode::Read)
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/tmp")
        .build()
        .unwrap();
    (ws, pulled)
}

async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let o = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.exit_code,
    )
}

/// The needle line as grep prints it.
fn needle_line() -> String {
    let mut l = "x needle x".to_string();
    l.push_str(&"a".repeat(1013));
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_reading_an_endless_source_early() {
    let (ws, pulled) = endless_ws();
    // -m1 on a file operand
    let (o, e, s) = run(&ws, "grep -m1 -n needle /inf/big").await;
    assert_eq!(
        (o, e.as_str(), s),
        (format!("33:{}\n", needle_line()), "", 0)
    );
    let n = pulled.swap(0, Ordering::SeqCst);
    assert!(n < 64, "grep -m1 pulled {n} chunks");

    // -q, -l and -c -m2
    assert_eq!(
        run(&ws, "grep -q needle /inf/big").await,
        (String::new(), String::new(), 0)
    );
    assert_eq!(
        run(&ws, "grep -l needle /inf/big").await,
        ("/inf/big\n".into(), String::new(), 0)
    );
    assert_eq!(
        run(&ws, "grep -c -m2 needle /inf/big").await,
        ("2\n".into(), String::new(), 0)
    );
    let n = pulled.swap(0, Ordering::SeqCst);
    assert!(n < 3 * 64, "-q, -l, -c -m2 pulled {n} chunks");

    // stdin from a pipe, with context: -m1 stops after the trailing context
    let (o, _, s) = run(&ws, "cat /inf/big | grep -m1 -n -B1 -A1 needle").await;
    assert_eq!(s, 0);
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines.len(), 3, "{o:.200}");
    assert!(lines[0].starts_with("32-aaaa") && lines[2].starts_with("34-aaaa"));
    assert_eq!(lines[1], format!("33:{}", needle_line()));
    let n = pulled.swap(0, Ordering::SeqCst);
    assert!(n < 64, "cat | grep -m1 -A1 pulled {n} chunks");

    // the reader of grep's output goes away: grep stops (SIGPIPE)
    let (o, _, s) = run(&ws, "grep -n needle /inf/big | head -1").await;
    assert_eq!((o, s), (format!("33:{}\n", needle_line()), 0));
    let (o, _, s) = run(&ws, "cat /inf/big | grep -b -C2 needle | head -2").await;
    assert_eq!(s, 0);
    assert!(
        o.starts_with("30720-aaa") && o.lines().count() == 2,
        "{o:.100}"
    );
    let (o, _, s) = run(&ws, "cat /inf/big | grep -v needle | head -3").await;
    assert_eq!((o, s), (format!("{}\n", "a".repeat(1023)).repeat(3), 0));
    // -v with -m stops too (grep-searcher does not stop an inverted search
    // by itself at a buffer's end)
    let (o, _, s) = run(&ws, "grep -v -m2 -c needle /inf/big").await;
    assert_eq!((o.as_str(), s), ("2\n", 0));
    let n = pulled.swap(0, Ordering::SeqCst);
    assert!(n < 1024, "| head pulled {n} chunks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigabyte_through_grep_keeps_memory_flat() {
    const CHUNKS: usize = 16 * 1024; // 16384 × 64 KiB = 1 GiB
    let ws = Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/tmp")
        .build()
        .unwrap();
    let c = chunk();
    let source = |n: usize| {
        let c = c.clone();
        let s = futures::stream::iter(0..n).map(move |_| Ok(c.clone()));
        Input::from_source(ByteSource::Stream(s.boxed()))
    };
    let before = status_kib("VmRSS:");
    let exec = |line: &'static str, input: Input| {
        let ws = &ws;
        async move {
            let (out, buf) = Sink::capture();
            let (err, ebuf) = Sink::capture();
            let code = ws
                .execute_streaming("default", line, input, out, err)
                .await
                .unwrap();
            let o = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
            let e = String::from_utf8(ebuf.lock().unwrap().clone()).unwrap();
            (o, e, code)
        }
    };
    let (o, e, code) = exec("grep -c needle", source(CHUNKS)).await;
    assert_eq!((o, e.as_str(), code), (format!("{CHUNKS}\n"), "", 0));
    // context on stdin: the last match and its neighbours, nothing collected
    let (o, _, code) = exec("grep -n -B1 -A1 needle | tail -n 3", source(CHUNKS / 4)).await;
    assert_eq!(code, 0);
    let last = (CHUNKS / 4 - 1) * 64 + 33;
    assert!(
        o.starts_with(&format!("{}-aaa", last - 1)) && o.contains(&format!("\n{last}:x needle")),
        "{o:.200}"
    );
    let peak = status_kib("VmHWM:");
    if before > 0 && peak > 0 {
        let grown_mib = peak.saturating_sub(before) / 1024;
        eprintln!("peak memory grew by {grown_mib} MiB for 1 GiB through grep -c");
        assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");
    }
}

/// The lines of the differential input: short and long lines, matches
/// near each other (context groups merge) and far apart (separators).
fn differential_input() -> Vec<u8> {
    let mut v = Vec::new();
    let mut i: u64 = 7;
    while v.len() < 700 * 1024 {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (i >> 33) % 100;
        let len = if r < 3 {
            5000 + (r as usize) * 3000
        } else {
            (r as usize) % 70
        };
        let word = if r.is_multiple_of(17) {
            "needle"
        } else if r.is_multiple_of(11) {
            "Needle"
        } else {
            "hay"
        };
        v.extend_from_slice(format!("{word} {r} ").as_bytes());
        v.extend(std::iter::repeat_n(b'.', len));
        v.push(b'\n');
    }
    v.extend_from_slice(b"needle without newline");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_file_prints_what_the_in_memory_one_prints() {
    let data = differential_input();
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f", data.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), &data).unwrap();
    let ws = Workspace::builder()
        .mount("/ram", ram, MountMode::Read)
        .mount(
            "/disk",
            Arc::new(DiskResource::open(dir.path()).unwrap()),
            MountMode::Read,
        )
        .cwd("/ram")
        .build()
        .unwrap();
    for opts in [
        "-n",
        "-c",
        "-b",
        "-o -b",
        "-n -A2",
        "-n -B3",
        "-C1",
        "-C4 -m7",
        "-v -c",
        "-n -v -m50",
        "-l",
        "-L",
        "-i -n",
        "-w -c",
        "-x -c",
        "-m3 -A5",
        "-n -o -i",
        "-H -n -C2",
        "--no-group-separator -A1",
    ] {
        // the RAM file is searched in memory; the disk file and the pipe
        // arrive as streams of chunks
        let mem = run(&ws, &format!("cd /ram && grep {opts} needle f")).await;
        let disk = run(&ws, &format!("cd /disk && grep {opts} needle f")).await;
        let pipe = run(
            &ws,
            &format!("cd /ram && cat f | grep --label=f {opts} needle"),
        )
        .await;
        assert_eq!(mem.1, "", "grep {opts}");
        assert_eq!(mem, disk, "grep {opts}: disk stream differs");
        assert_eq!(pipe, mem, "grep {opts}: piped stream differs");
    }
    // binary data early in the stream: "binary file matches", as in memory
    let mut bin = data.clone();
    bin[100] = 0;
    std::fs::write(dir.path().join("b"), &bin).unwrap();
    let disk = run(&ws, "cd /disk && grep needle b").await;
    assert_eq!(
        disk,
        (String::new(), "grep: b: binary file matches\n".into(), 0)
    );
    let disk = run(&ws, "cd /disk && grep -c -I needle b").await;
    assert_eq!(disk.0, "0\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_line_ends_with_memory_exhausted() {
    // no newline ever: the line buffer is capped (GNU grep: `memory
    // exhausted`, status 2) instead of taking all memory
    let inf = Endless::new(vec![b'a'; 64 * 1024]);
    let ws = Workspace::builder()
        .mount("/inf", Arc::new(inf), MountMode::Read)
        .cwd("/")
        .build()
        .unwrap();
    let (o, e, s) = run(&ws, "grep -c x /inf/big; echo rc=$?").await;
    assert_eq!(
        (o.as_str(), e.as_str(), s),
        ("rc=2\n", "grep: memory exhausted\n", 0)
    );
}
