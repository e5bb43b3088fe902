#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `> file` and `>> file` stream the command's output into the file as it
//! is produced: writing hundreds of MB through a redirect keeps memory flat.

use std::sync::Arc;

use mirage_resource_disk::DiskResource;
use mirage_types::MountMode;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_to_disk_streams_with_flat_memory() {
    let root = tempfile::tempdir().unwrap();
    let ws = Workspace::builder()
        .mount(
            "/inf",
            Arc::new(Endless::new(vec![b'x'; 64 * 1024])),
            MountMode::Read,
        )
        .mount(
            "/d",
            Arc::new(DiskResource::open(root.path()).unwrap()),
            MountMode::Write,
        )
        .cwd("/d")
        .build()
        .unwrap();
    const N: u64 = 1024 * 1024 * 1024;
    let before = status_kib("VmRSS:");
    let o = ws
        .execute(
            "default",
            &format!("cat /inf/big | head -c {N} > out"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(o.exit_code, 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::metadata(root.path().join("out")).unwrap().len(), N);
    let o = ws
        .execute("default", "head -c 1000 /inf/big >> out", None)
        .await
        .unwrap();
    assert_eq!(o.exit_code, 0);
    assert_eq!(
        std::fs::metadata(root.path().join("out")).unwrap().len(),
        N + 1000
    );
    let peak = status_kib("VmHWM:");
    if before > 0 && peak > 0 {
        // Buffering the output would need at least N bytes.
        let grown_mib = peak.saturating_sub(before) / 1024;
        eprintln!(
            "peak memory grew by {grown_mib} MiB writing {} MiB",
            N >> 20
        );
        assert!(
            grown_mib < 64,
            "peak memory grew by {grown_mib} MiB writing {} MiB",
            N >> 20
        );
    }
    // No file besides `out` appeared (no temporary names).
    let names: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["out"]);
}

#[tokio::test]
async fn redirect_order_and_truncation_are_kept() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("f"), "old contents\n").unwrap();
    let ws = Workspace::builder()
        .mount(
            "/d",
            Arc::new(DiskResource::open(root.path()).unwrap()),
            MountMode::Write,
        )
        .cwd("/d")
        .build()
        .unwrap();
    // `cat f > f` truncates first, as bash does; each command's output is
    // complete before the next command runs.
    let o = ws.execute("default", "cat f > f; wc -c < f; echo a > g; echo b >> g; cat g; { echo 1; echo 2 >&2; } > h 2>&1; cat h", None).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "0\na\nb\n1\n2\n");
    let o = ws
        .execute("default", "echo x > nodir/f", None)
        .await
        .unwrap();
    assert_eq!(o.exit_code, 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("nodir/f: No such file or directory"));
}
