#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The shell's rarer keywords where bash's output is not deterministic or
//! Mirage differs on purpose: `coproc` is an honest "not supported" that
//! runs nothing, and `time` measures the real time of what it runs.

use std::sync::Arc;

use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

fn ws() -> Workspace {
    Workspace::builder()
        .mount("/data", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/data")
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

#[tokio::test]
async fn coproc_is_unsupported_and_runs_nothing() {
    let ws = ws();
    for line in [
        "coproc echo ran > /data/x; echo rc=$?",
        "coproc NAME { echo ran > /data/x; }; echo rc=$?",
        "coproc { echo ran > /data/x; }; echo rc=$?",
        "coproc NAME (echo ran > /data/x); echo rc=$?",
        "coproc while true; do echo ran > /data/x; done; echo rc=$?",
    ] {
        let (out, err, code) = run(&ws, line).await;
        assert_eq!(out, "rc=2\n", "{line}");
        assert_eq!(err, "mirage: coproc: not supported\n", "{line}");
        assert_eq!(code, 0, "{line}");
        let (out, _, _) = run(&ws, "cat /data/x 2>&1; echo $?").await;
        assert_eq!(
            out, "cat: /data/x: No such file or directory\n1\n",
            "{line}"
        );
    }
    // a word named coproc elsewhere is an ordinary word
    let (out, _, _) = run(&ws, "echo coproc").await;
    assert_eq!(out, "coproc\n");
}

#[tokio::test]
async fn time_reports_the_elapsed_time() {
    let ws = ws();
    let (out, err, code) = run(&ws, "TIMEFORMAT='%1R'; time sleep 0.3; echo rc=$?").await;
    assert_eq!((out.as_str(), code), ("rc=0\n", 0));
    let secs: f64 = err.trim().parse().unwrap();
    assert!(secs >= 0.3, "{err}");
    // the default report, user and system time reported as 0
    let (_, err, _) = run(&ws, "unset TIMEFORMAT; time true").await;
    assert!(err.starts_with("\nreal\t0m0.0"), "{err:?}");
    assert!(
        err.ends_with("s\nuser\t0m0.000s\nsys\t0m0.000s\n"),
        "{err:?}"
    );
}
