#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Workspace behaviour through the shell: the router as the one door
//! (read-only mounts, mount listing, cross-mount commands), streaming with
//! early stop, and disk confinement.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use mirage_resource_disk::DiskResource;
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, MountMode};
use mirage_workspace::Workspace;

mod common;
use common::Endless;

fn ws_with(ro: Arc<RamResource>, rw: Arc<RamResource>) -> Workspace {
    Workspace::builder()
        .mount("/ro", ro, MountMode::Read)
        .mount("/rw", rw, MountMode::Write)
        .cwd("/rw")
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
async fn read_only_mount_refuses_every_write_path_and_keeps_data() {
    let ro = Arc::new(RamResource::new());
    ro.insert_file("/keep.txt", Bytes::from_static(b"original\n"))
        .unwrap();
    let ws = ws_with(ro.clone(), Arc::new(RamResource::new()));
    for line in [
        "echo x > /ro/keep.txt",
        "echo x >> /ro/keep.txt",
        "rm /ro/keep.txt",
        "mv /ro/keep.txt /ro/moved.txt",
        "cp /rw/../ro/keep.txt /ro/copy.txt",
        "touch /ro/new.txt",
        "mkdir /ro/d",
        "echo x | tee /ro/keep.txt",
        "sort -o /ro/keep.txt /ro/keep.txt",
    ] {
        let (_, err, code) = run(&ws, line).await;
        assert_ne!(code, 0, "{line} should fail");
        assert!(err.contains("Read-only file system"), "{line}: {err}");
    }
    // the API path (the router itself) refuses too
    let e = ws
        .vfs()
        .write("/ro/keep.txt", ByteSource::from(b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, mirage_types::ErrorKind::ReadOnly);
    let (out, _, code) = run(&ws, "cat /ro/keep.txt; ls /ro").await;
    assert_eq!((out.as_str(), code), ("original\nkeep.txt\n", 0));
}

#[tokio::test]
async fn ls_root_shows_mount_points_and_commands_span_mounts() {
    let ro = Arc::new(RamResource::new());
    ro.insert_file("/a.txt", Bytes::from_static(b"alpha needle\n"))
        .unwrap();
    let rw = Arc::new(RamResource::new());
    rw.insert_file("/b.txt", Bytes::from_static(b"beta\nneedle two\n"))
        .unwrap();
    let ws = ws_with(ro, rw);
    // every workspace has /dev (null, zero, stdin, …)
    assert_eq!(run(&ws, "ls /").await.0, "dev\nro\nrw\n");
    assert_eq!(
        run(&ws, "cat /ro/a.txt /rw/b.txt").await.0,
        "alpha needle\nbeta\nneedle two\n"
    );
    let (out, _, code) = run(&ws, "grep -r needle /ro /rw").await;
    assert_eq!(
        (out.as_str(), code),
        ("/ro/a.txt:alpha needle\n/rw/b.txt:needle two\n", 0)
    );
    assert_eq!(
        run(&ws, "wc -l /ro/a.txt /rw/b.txt").await.0,
        " 1 /ro/a.txt\n 2 /rw/b.txt\n 3 total\n"
    );
    // cross-mount copy and move go through the router
    let (_, err, code) = run(
        &ws,
        "cp /ro/a.txt /rw/c.txt && mv /rw/c.txt /rw/d.txt && cat /rw/d.txt",
    )
    .await;
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn pipelines_stream_and_stop_early() {
    let endless = Endless::new(b"line\n".repeat(13_000));
    let pulled = endless.pulled.clone();
    let ws = Workspace::builder()
        .mount("/inf", Arc::new(endless), MountMode::Read)
        .build()
        .unwrap();
    let (out, _, code) = run(&ws, "cat /inf/big | grep line | head -n 2").await;
    assert_eq!((out.as_str(), code), ("line\nline\n", 0));
    // an endless file was read only a few chunks deep
    assert!(
        pulled.load(Ordering::SeqCst) < 64,
        "pulled {} chunks",
        pulled.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn disk_mount_stays_inside_its_root() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret\n").unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("in.txt"), "inside\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.path().join("link"))
        .unwrap();
    let disk = Arc::new(DiskResource::open(root.path()).unwrap());
    let ws = Workspace::builder()
        .mount("/d", disk, MountMode::Write)
        .cwd("/d")
        .build()
        .unwrap();
    let (out, _, _) = run(
        &ws,
        "cat in.txt; cat ../../../etc/passwd; cat link; cat /d/../../secret.txt",
    )
    .await;
    assert_eq!(out, "inside\n");
    let secret = outside.path().join("secret.txt").display().to_string();
    let (out, _, code) = run(&ws, &format!("cat {secret}")).await;
    assert_eq!((out.as_str(), code), ("", 1));
    let (_, _, code) = run(&ws, "echo pwned > link").await;
    assert_eq!(code, 1);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("secret.txt")).unwrap(),
        "secret\n"
    );
}

#[tokio::test]
async fn sessions_keep_cwd_env_and_status() {
    let ws = ws_with(Arc::new(RamResource::new()), Arc::new(RamResource::new()));
    run(
        &ws,
        "mkdir -p /rw/x && cd /rw/x && export GREETING=hi; false",
    )
    .await;
    assert_eq!(
        run(&ws, "echo \"$? $PWD $GREETING\"").await.0,
        "1 /rw/x hi\n"
    );
    let other = ws
        .create_session(mirage_workspace::SessionOptions::default())
        .unwrap();
    let o = ws
        .execute(&other, "pwd; echo \"[$GREETING]\"", None)
        .await
        .unwrap();
    assert_eq!(o.stdout, b"/rw\n[]\n");
}

#[tokio::test]
async fn syntax_errors_exit_2_and_name_the_token() {
    let ws = ws_with(Arc::new(RamResource::new()), Arc::new(RamResource::new()));
    let (out, err, code) = run(&ws, "echo first\nif then fi").await;
    assert_eq!((out.as_str(), code), ("first\n", 2));
    assert!(err.contains("syntax error"), "{err}");
    let (_, err, code) = run(&ws, "echo a; done").await;
    assert_eq!(code, 2);
    assert!(err.contains("`done'"), "{err}");
}

#[tokio::test]
async fn history_records_each_line_and_the_history_builtin_lists_them_when_on() {
    let ws = ws_with(Arc::new(RamResource::new()), Arc::new(RamResource::new()));
    ws.execute("default", "cd /rw; echo hello", None)
        .await
        .unwrap();
    ws.execute("default", "false", None).await.unwrap();
    let h = ws.history("default").unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].line, "cd /rw; echo hello");
    assert_eq!(h[0].exit_code, 0);
    assert_eq!(h[0].bytes_out, Some(6));
    assert_eq!(h[1].cwd, "/rw");
    assert_eq!(h[1].exit_code, 1);
    assert!(h[0].started_at > 1.7e9);
    // off by default: `history` lists nothing, as under `bash -c`
    assert_eq!(run(&ws, "history").await.0, "");
    ws.record_shell_history(true);
    ws.execute("default", "echo one", None).await.unwrap();
    assert_eq!(
        run(&ws, "history").await.0,
        "    1  echo one\n    2  history\n"
    );
}

#[tokio::test]
async fn a_session_snapshot_restores_cwd_env_functions_and_history_elsewhere() {
    let ws = ws_with(Arc::new(RamResource::new()), Arc::new(RamResource::new()));
    let line = "cd /rw; export COLOR=blue; greet() { echo \"hi $1 from $COLOR\"; }; greet x";
    let out = ws.execute("default", line, None).await.unwrap();
    assert_eq!(out.stdout, b"hi x from blue\n");
    let snap = ws.session_snapshot("default").await.unwrap();
    assert_eq!(snap.cwd, "/rw");
    assert_eq!(snap.env.get("COLOR").map(String::as_str), Some("blue"));
    assert!(!snap.env.contains_key("PWD"));
    assert!(snap.functions.contains("greet ()"), "{}", snap.functions);
    let json = serde_json::to_string(&snap).unwrap();

    let other = ws_with(Arc::new(RamResource::new()), Arc::new(RamResource::new()));
    let mut snap2: mirage_workspace::SessionSnapshot = serde_json::from_str(&json).unwrap();
    snap2.id = "agent".into();
    other.restore_session(&snap2).await.unwrap();
    let (out, _, code) = {
        let o = other.execute("agent", "pwd; greet y", None).await.unwrap();
        (String::from_utf8(o.stdout).unwrap(), o.stderr, o.exit_code)
    };
    assert_eq!((out.as_str(), code), ("/rw\nhi y from blue\n", 0));
    let h = other.history("agent").unwrap();
    assert_eq!(h.len(), 2, "the restored line plus the new one");
    assert_eq!(h[0].line, line);
}
