#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The daemon under a small load (the test form of `cargo xtask loadtest`):
//! 16 concurrent clients, each with its own keep-alive connection, × 100
//! synchronous `POST /v1/workspaces/{id}/shell {"command":"echo hi"}`.
//! Every call must answer 200 with exit code 0 and `hi\n`, and the
//! daemon's resident set must stay flat (under 50 MB of growth). No speed
//! is asserted here: `cargo xtask loadtest` measures it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Daemon, Scratch};
use serde_json::{Value, json};

const CLIENTS: usize = 16;
const CALLS: usize = 100;
/// The most the daemon's VmRSS may grow over the run.
const RSS_GROWTH_LIMIT_KB: u64 = 50 * 1024;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One call; `Err` says what was wrong with it.
async fn one(c: &reqwest::Client, url: &str) -> Result<(), String> {
    let r = c
        .post(url)
        .json(&json!({"command": "echo hi"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("{status}: {text}"));
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    if v["exit_code"] != 0 || v["stdout"] != "hi\n" {
        return Err(format!("unexpected answer {v}"));
    }
    Ok(())
}

#[test]
fn sixteen_clients_no_failed_request_flat_memory() {
    let scratch = Scratch::new();
    let port = common::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mirage"));
    cmd.args(["daemon", "run"]);
    common::clean_env(&mut cmd, &scratch.home(), &url);
    cmd.current_dir(scratch.path());
    let daemon = Daemon::start(
        cmd,
        port,
        scratch.path().join("daemon.log"),
        Duration::from_secs(30),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (failures, before, after) = rt.block_on(async {
        let c = client();
        let created: Value = c
            .post(format!("{url}/v1/workspaces"))
            .json(&json!({"config": {"mounts": {"/data": {"resource": "ram", "mode": "write"}}}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id: {created:#}"))
            .to_string();
        let shell = format!("{url}/v1/workspaces/{id}/shell");
        // warm up, so the baseline holds the daemon's steady state
        for _ in 0..20 {
            one(&c, &shell).await.unwrap();
        }
        let before = daemon.rss_kb().unwrap();
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let shell = shell.clone();
                tokio::spawn(async move {
                    let c = client();
                    let mut failures = Vec::new();
                    for _ in 0..CALLS {
                        if let Err(e) = one(&c, &shell).await {
                            failures.push(e);
                        }
                    }
                    failures
                })
            })
            .collect();
        let mut failures = Vec::new();
        for t in tasks {
            failures.extend(t.await.unwrap());
        }
        (failures, before, daemon.rss_kb().unwrap())
    });
    assert!(
        failures.is_empty(),
        "{} of {} requests failed; the first: {}\ndaemon log:\n{}",
        failures.len(),
        CLIENTS * CALLS,
        failures[0],
        daemon.log_text()
    );
    eprintln!(
        "daemon RSS {} KiB before, {} KiB after {} calls",
        before,
        after,
        CLIENTS * CALLS
    );
    assert!(
        after.saturating_sub(before) < RSS_GROWTH_LIMIT_KB,
        "the daemon's RSS grew from {before} KiB to {after} KiB over {} calls",
        CLIENTS * CALLS
    );
}
