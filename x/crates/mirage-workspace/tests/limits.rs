#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Each execution limit fires with a clear message on stderr and a
//! non-zero status, never a hang or an abort, and the session runs the
//! next line normally afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mirage_resource_ram::{RamLimits, RamResource};
use mirage_types::MountMode;
use mirage_workspace::{Limits, Workspace, WorkspaceConfig};

fn ws(limits: Limits) -> Workspace {
    let tmp = RamResource::with_limits(RamLimits {
        max_bytes: Some(64 << 20),
        max_entries: Some(100),
    });
    Workspace::builder()
        .mount("/tmp", Arc::new(tmp), MountMode::Write)
        .cwd("/tmp")
        .limits(limits)
        .build()
        .unwrap()
}

async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let o = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.exit_code,
    )
}

/// Runs `line`, expects `message` on stderr and `status`, then checks the
/// session still works.
async fn fires(ws: &Workspace, line: &str, message: &str, status: i32) {
    let (_, err, code) = run(ws, line).await;
    assert!(err.contains(message), "{line}: {err}");
    assert_eq!(code, status, "{line}: {err}");
    let (out, err, code) = run(ws, "echo still here").await;
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("still here\n", "", 0),
        "after {line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_time_stops_an_endless_loop() {
    let ws = ws(Limits {
        wall_time: Some(Duration::from_millis(300)),
        ..Limits::default()
    });
    let t = Instant::now();
    fires(
        &ws,
        "while true; do :; done; echo never",
        "wall time limit of 0.3 seconds exceeded",
        124,
    )
    .await;
    assert!(t.elapsed() < Duration::from_secs(3));
    fires(&ws, "sleep 100", "wall time limit", 124).await;
}

#[tokio::test]
async fn recursion_depth() {
    let ws = ws(Limits::default());
    fires(
        &ws,
        "f(){ f; }; f",
        // the depth limit (200), or the free-stack guard on a small test stack
        "nesting level exceeded",
        1,
    )
    .await;
    let ws = ws_with(Limits {
        max_call_depth: 10,
        ..Limits::default()
    });
    fires(
        &ws,
        "g(){ g; }; g",
        "g: maximum function nesting level exceeded (10)",
        1,
    )
    .await;
}

fn ws_with(limits: Limits) -> Workspace {
    ws(limits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ram_mount_fills_and_says_no_space() {
    let ws = ws(Limits::default());
    fires(&ws, "yes > /tmp/x", "/tmp/x: No space left on device", 1).await;
    let (out, _, _) = run(
        &ws,
        "wc -c < /tmp/x; rm /tmp/x; echo ok > /tmp/y; cat /tmp/y",
    )
    .await;
    assert_eq!(out, "67108864\nok\n");
    // entries
    fires(
        &ws,
        "for i in {1..200}; do echo > /tmp/f$i || break; done",
        "/tmp/f99: No space left on device",
        0,
    )
    .await;
    let (out, _, _) = run(&ws, "ls /tmp | wc -l").await;
    assert_eq!(out, "99\n");
}

#[tokio::test]
async fn huge_words_and_values() {
    let ws = ws(Limits::default());
    fires(
        &ws,
        "echo {1..10000000}",
        "brace expansion: more than 1000000 words",
        1,
    )
    .await;
    fires(
        &ws,
        "printf '%1073741824d' 1",
        "output would exceed the limit",
        1,
    )
    .await;
    let ws = ws_with(Limits {
        max_value_bytes: 1000,
        ..Limits::default()
    });
    fires(
        &ws,
        "x=$(printf '%2000d' 1)",
        "x: value exceeds the limit of 1000 bytes",
        1,
    )
    .await;
}

#[tokio::test]
async fn loop_iterations_commands_and_output() {
    let ws = ws(Limits {
        max_loop_iterations: 1000,
        max_commands: 5000,
        max_output_bytes: 100_000,
        ..Limits::default()
    });
    fires(
        &ws,
        "i=0; while true; do i=$((i+1)); done",
        "loop iteration limit of 1000 per line exceeded",
        1,
    )
    .await;
    // a new line has a new budget
    let (out, _, code) = run(&ws, "for i in {1..999}; do :; done; echo $i").await;
    assert_eq!((out.as_str(), code), ("999\n", 0));
    fires(
        &ws,
        "f() { :; :; :; :; :; :; :; :; :; :; }; for i in {1..900}; do f; done",
        "command limit of 5000 per line exceeded",
        1,
    )
    .await;
    fires(
        &ws,
        "for i in {1..900}; do printf '%1000d\\n' 1; done",
        "output limit of 100000 bytes per line exceeded",
        1,
    )
    .await;
}

#[tokio::test]
async fn limits_come_from_the_config() {
    let cfg = WorkspaceConfig::from_yaml(
        "mounts:\n  /tmp: {resource: ram, mode: write, config: {max_bytes: 1000}}\n\
         limits: {wall_time_secs: 0.2, max_call_depth: 5, max_jobs: 1}\n",
    )
    .unwrap();
    let ws = Workspace::from_config(&cfg).await.unwrap();
    let l = ws.session_limits("default").await.unwrap();
    assert_eq!(l.max_call_depth, 5);
    assert_eq!(l.max_jobs, 1);
    assert_eq!(l.wall_time, Some(Duration::from_millis(200)));
    fires(&ws, "sleep 10", "wall time limit of 0.2 seconds", 124).await;
    fires(
        &ws,
        "printf '%2000d' 1 > /tmp/x",
        "No space left on device",
        1,
    )
    .await;
    let e = WorkspaceConfig::from_yaml("limits: {wall_tme: 1}\n").unwrap_err();
    assert!(e.to_string().contains("wall_tme"), "{e}");
}

/// The `EXIT` trap runs under the line's wall time too (found by the
/// fuzzer: an endless trap outlived the line's limit): after a line that
/// ended in time it gets what is left (at least a second's grace, or the
/// wall time if shorter), after a stopped line its grace, then stops with
/// the limit's message and status 124.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_time_covers_the_exit_trap() {
    let ws = ws(Limits {
        wall_time: Some(Duration::from_millis(300)),
        ..Limits::default()
    });
    let t = Instant::now();
    fires(
        &ws,
        "trap 'while :; do sleep 0.01; done' EXIT; echo body",
        "wall time limit of 0.3 seconds exceeded",
        124,
    )
    .await;
    let (out, _, code) = run(&ws, "trap 'echo trapped' EXIT; sleep 100").await;
    assert_eq!((out.as_str(), code), ("trapped\n", 124));
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// A reader of an endless source that never waits (`/dev/zero`) and a
/// writer into a sink that never waits (`/dev/null`, a capture) are
/// cooperative points too: the wall time stops them (found by probing the
/// paths the fuzzer's limits rely on).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn wall_time_stops_endless_sources_and_sinks() {
    let ws = ws(Limits {
        wall_time: Some(Duration::from_millis(300)),
        ..Limits::default()
    });
    let t = Instant::now();
    for line in [
        "read v < /dev/zero",
        "mapfile a < /dev/zero",
        "sed -n p /dev/zero",
        "yes > /dev/null",
        "cat /dev/zero > /dev/null",
        "seq inf > /dev/null",
    ] {
        fires(&ws, line, "wall time limit of 0.3 seconds exceeded", 124).await;
    }
    assert!(t.elapsed() < Duration::from_secs(30));
}
