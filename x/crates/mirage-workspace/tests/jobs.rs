#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Background jobs run concurrently: `cmd &` returns at once, `wait`,
//! `jobs`, `kill` and `disown` act on the running task, and a job outlives
//! its line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::run;
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

mod common;

fn ws() -> Workspace {
    common::ram_ws("/tmp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_returns_at_once_and_wait_finds_it() {
    let ws = ws();
    let t = Instant::now();
    let (out, _, code) = run(&ws, "sleep 5 & echo started $!").await;
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(out.starts_with("started "), "{out}");
    assert_eq!(code, 0);
    // the job is still there on the next line
    let (out, _, _) = run(&ws, "jobs").await;
    assert_eq!(out, "[1]+  Running                 sleep 5 &\n");
    let (out, err, _) = run(&ws, "kill %1; wait %1; echo $?; jobs").await;
    assert_eq!(out, "143\n", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pattern_does_not_hang() {
    // `server & sleep; client`: the server loops for ever in the background
    let ws = ws();
    let t = Instant::now();
    let (out, err, code) = run(
        &ws,
        "while true; do echo tick > /tmp/beat; sleep 0.01; done & sleep 0.2; cat /tmp/beat; kill $!; wait $!; echo $?",
    )
    .await;
    assert_eq!(out, "tick\n143\n", "{err}");
    assert_eq!(code, 0);
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn jobs_run_concurrently_on_one_thread() {
    // a tight loop in the background yields, so the foreground runs
    let ws = ws();
    let (out, err, _) = run(
        &ws,
        "i=0; while :; do i=$((i+1)); done & sleep 0.05; kill -9 $!; wait $!; echo $?",
    )
    .await;
    assert_eq!(out, "137\n");
    assert!(err.contains(" Killed "), "{err}");
    assert!(
        err.ends_with("i=0; while :; do i=$((i+1)); done\n") || err.contains("while :"),
        "{err}"
    );
}

#[tokio::test]
async fn wait_statuses_as_bash() {
    let ws = ws();
    let (out, err, _) = run(
        &ws,
        "(exit 3) & wait $!; echo $?; false & wait -n; echo $?; wait -n; echo $?; \
         wait 12345; echo $?; wait %4; echo $?; (exit 7) & p=$!; sleep 0.05; jobs; wait $p; echo $?",
    )
    .await;
    assert_eq!(out, "3\n1\n127\n127\n127\n7\n");
    assert!(
        err.contains("wait: pid 12345 is not a child of this shell"),
        "{err}"
    );
    assert!(err.contains("wait: %4: no such job"), "{err}");
}

#[tokio::test]
async fn output_goes_where_redirects_say() {
    let ws = ws();
    let (out, _, _) = run(
        &ws,
        "{ echo a; echo b >&2; } > /tmp/o 2>/tmp/e & wait; cat /tmp/o /tmp/e",
    )
    .await;
    assert_eq!(out, "a\nb\n");
    let (out, _, _) = run(&ws, "echo bg & wait").await;
    assert_eq!(out, "bg\n");
}

#[tokio::test]
async fn job_state_is_a_subshell() {
    let ws = ws();
    let (out, _, _) = run(&ws, "x=1; x=2 & wait; echo $x; cd / & wait; pwd").await;
    assert_eq!(out, "1\n/tmp\n");
}

#[tokio::test]
async fn kill_disown_fg_bg() {
    let ws = ws();
    let (out, err, _) = run(
        &ws,
        "kill %2; echo $?; kill 99999; echo $?; kill -FOO 1; echo $?; kill; echo $?; \
         sleep 9 & disown; jobs; echo n; disown; echo $?; fg; echo $?; bg; echo $?; \
         sleep 9 & sleep 9 & jobs -p | wc -l; kill %1 %2; wait; jobs",
    )
    .await;
    assert_eq!(out, "1\n1\n1\n2\nn\n1\n1\n1\n2\n");
    for m in [
        "kill: %2: no such job",
        "kill: (99999) - No such process",
        "kill: FOO: invalid signal specification",
        "kill: usage: kill [-s sigspec",
        "disown: current: no such job",
        "fg: no job control",
        "bg: no job control",
    ] {
        assert!(err.contains(m), "{m} in {err}");
    }
}

#[tokio::test]
async fn too_many_jobs_is_an_error() {
    let limits = mirage_workspace::Limits {
        max_jobs: 2,
        ..Default::default()
    };
    let ws = Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .limits(limits)
        .build()
        .unwrap();
    let (out, err, _) = run(
        &ws,
        "sleep 5 & sleep 5 & sleep 5 & echo $?; kill %1 %2; wait; sleep 0 & wait $!; echo $?",
    )
    .await;
    assert_eq!(out, "1\n0\n");
    assert!(err.contains("too many background jobs (limit 2)"), "{err}");
}
