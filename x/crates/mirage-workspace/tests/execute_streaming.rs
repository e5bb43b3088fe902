#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `Workspace::execute_streaming` hands the output to the caller's sinks
//! as it is produced and keeps no clone of them once it returns, so a
//! reader draining a pipe sink sees the end.

use std::sync::Arc;

use mirage_resource_ram::RamResource;
use mirage_types::{Input, MountMode, Sink};
use mirage_workspace::Workspace;

#[tokio::test]
async fn pipe_sinks_close_when_the_run_returns() {
    let ws = Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .build()
        .unwrap();
    for line in ["echo out; echo err >&2", "exec 2>&1; echo both >&2"] {
        let (otx, mut orx) = tokio::sync::mpsc::channel(64);
        let (etx, mut erx) = tokio::sync::mpsc::channel(64);
        let code = ws
            .execute_streaming(
                "default",
                line,
                Input::empty(),
                Sink::Pipe(otx),
                Sink::Pipe(etx),
            )
            .await
            .unwrap();
        assert_eq!(code, 0);
        let drain = async {
            let mut out = Vec::new();
            while let Some(b) = orx.recv().await {
                out.extend_from_slice(&b);
            }
            let mut err = Vec::new();
            while let Some(b) = erx.recv().await {
                err.extend_from_slice(&b);
            }
            (out, err)
        };
        let (out, err) = tokio::time::timeout(std::time::Duration::from_secs(30), drain)
            .await
            .expect("a sink is still held after the run");
        assert!(!out.is_empty() || !err.is_empty(), "{line}");
    }
    // `exec 2>&1` lasts across runs: stderr goes to the next run's stdout
    let out = ws.execute("default", "echo again >&2", None).await.unwrap();
    assert_eq!(out.stdout, b"again\n");
}
