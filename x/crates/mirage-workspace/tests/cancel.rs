#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cancelling a running line from outside stops it at its next await
//! point: inside `sleep`, a tight loop, a pipe with a busy writer, a long
//! `grep -r`. Each stops within 100 ms of the cancel, and the session runs
//! the next line normally.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mirage_resource_ram::RamResource;
use mirage_types::{Input, MountMode, Sink};
use mirage_workspace::{CancellationToken, Workspace};

fn ws() -> Workspace {
    let ram = Arc::new(RamResource::new());
    // a large tree: 4,000 files of 256 KiB (one shared buffer) with no match
    let data = Bytes::from(vec![b'a'; 256 * 1024]);
    for i in 0..4000 {
        ram.insert_file(&format!("/tree/d{}/f{i}", i % 40), data.clone())
            .unwrap();
    }
    Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .cwd("/data")
        .build()
        .unwrap()
}

/// Runs `line`, cancels it after `after`, and returns how long it took to
/// stop once cancelled, with its status and stderr.
async fn cancel_after(ws: &Workspace, line: &str, after: Duration) -> (Duration, i32, String) {
    let token = CancellationToken::new();
    let (err_sink, err_buf) = Sink::capture();
    let run = {
        let ws = ws.clone();
        let token = token.clone();
        let line = line.to_string();
        tokio::spawn(async move {
            ws.execute_streaming_cancellable(
                "default",
                &line,
                Input::empty(),
                Sink::Null,
                err_sink,
                token,
            )
            .await
            .unwrap()
        })
    };
    tokio::time::sleep(after).await;
    assert!(!run.is_finished(), "{line}: ended before the cancel");
    let t = Instant::now();
    token.cancel();
    let code = run.await.unwrap();
    let err = String::from_utf8_lossy(&err_buf.lock().unwrap()).into_owned();
    (t.elapsed(), code, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_line_stops_within_100ms() {
    let ws = ws();
    for line in [
        "sleep 100",
        "while true; do :; done",
        "yes | cat",
        "grep -r needle /data/tree; grep -r needle /data/tree; grep -r needle /data/tree",
        "f() { while :; do x=$((x+1)); done; }; f",
        "for ((i = 0; ; i++)); do :; done",
        "for i in 1 2 3 4 5 6 7 8 9; do sleep 1; done",
        "yes | while read l; do :; done",
        "sleep 100 | cat",
        "echo $(sleep 100)",
    ] {
        let (took, code, err) = cancel_after(&ws, line, Duration::from_millis(300)).await;
        assert!(took < Duration::from_millis(100), "{line}: {took:?}");
        assert_eq!(code, 130, "{line}");
        assert_eq!(err, "", "{line}");
        // the session is usable afterwards
        let o = ws.execute("default", "echo ok", None).await.unwrap();
        assert_eq!(o.stdout, b"ok\n", "{line}");
    }
}

#[tokio::test]
async fn cancel_on_one_thread() {
    // a current-thread runtime: the canceller runs only when the line yields
    let ws = ws();
    let (took, code, _) =
        cancel_after(&ws, "while true; do :; done", Duration::from_millis(100)).await;
    assert!(took < Duration::from_millis(100), "{took:?}");
    assert_eq!(code, 130);
}

#[tokio::test]
async fn a_cancelled_token_stops_the_line_at_once() {
    let ws = ws();
    let token = CancellationToken::new();
    token.cancel();
    let o = ws
        .execute_cancellable("default", "sleep 100; echo no", None, token)
        .await
        .unwrap();
    assert_eq!(o.exit_code, 130);
    assert_eq!(o.stdout, b"");
}
