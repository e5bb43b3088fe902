#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Symlinks on RAM mounts through the router: an absolute target is a
//! virtual path (possibly in another mount), and the mount the link leads
//! to decides what may happen there: a link in a writable mount never opens
//! a read-only one for writing.

use std::sync::Arc;

use mirage_ops::Resource as _;
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, ErrorKind, FileType, MountMode};
use mirage_workspace::Workspace;

fn ws() -> (Workspace, Arc<RamResource>) {
    let ro = Arc::new(RamResource::new());
    ro.insert_file("/keep.txt", "kept\n").unwrap();
    ro.insert_dir("/dir").unwrap();
    let ws = Workspace::builder()
        .mount("/w", Arc::new(RamResource::new()), MountMode::Write)
        .mount("/ro", ro.clone(), MountMode::Read)
        .cwd("/w")
        .build()
        .unwrap();
    (ws, ro)
}

async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let r = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8_lossy(&r.stdout).into_owned(),
        String::from_utf8_lossy(&r.stderr).into_owned(),
        r.exit_code,
    )
}

#[tokio::test]
async fn an_absolute_link_leads_into_another_mount_for_reading() {
    let (ws, _) = ws();
    let (out, err, code) = run(
        &ws,
        "ln -s /ro/keep.txt /w/k && cat /w/k && readlink /w/k && readlink -f /w/k && ln -s /ro/dir /w/d && ls -d /w/d/ && cd -P /w/d && pwd",
    )
    .await;
    assert_eq!(err, "");
    assert_eq!(code, 0);
    assert_eq!(out, "kept\n/ro/keep.txt\n/ro/keep.txt\n/w/d/\n/ro/dir\n");
}

#[tokio::test]
async fn a_link_never_opens_a_read_only_mount_for_writing() {
    let (ws, ro) = ws();
    let vfs = ws.vfs();
    vfs.symlink("/ro/keep.txt", "/w/k").await.unwrap();
    vfs.symlink("/ro/dir", "/w/d").await.unwrap();
    vfs.symlink("/ro/new.txt", "/w/dangling").await.unwrap();
    let e = vfs
        .write("/w/k", ByteSource::from(b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    for (what, r) in [
        (
            "append",
            vfs.append("/w/k", ByteSource::from(b"x".to_vec())).await,
        ),
        (
            "create through a dangling link",
            vfs.write("/w/dangling", ByteSource::from(b"x".to_vec()))
                .await,
        ),
        ("mkdir below", vfs.mkdir("/w/d/sub", false).await),
        ("mkdir -p below", vfs.mkdir("/w/d/a/b", true).await),
        ("chmod", vfs.chmod("/w/k", 0o600).await),
        ("unlink below", vfs.unlink("/w/d/x").await),
        ("rename into", vfs.rename("/w/k", "/w/d/moved").await),
    ] {
        assert_eq!(r.unwrap_err().kind, ErrorKind::ReadOnly, "{what}");
    }
    // through the shell too
    let (_, err, code) = run(&ws, "echo x > /w/k").await;
    assert_eq!(code, 1);
    assert!(err.contains("Read-only file system"), "{err}");
    // the link itself is the writable mount's: removing it is allowed
    vfs.unlink("/w/k").await.unwrap();
    assert_eq!(
        ro.stat("/keep.txt").await.map(|s| s.size).ok(),
        Some(5),
        "the target is intact"
    );
    assert!(ro.stat("/new.txt").await.is_err());
}

#[tokio::test]
async fn lstat_sees_the_link_and_loops_are_eloop() {
    let (ws, _) = ws();
    let vfs = ws.vfs();
    vfs.symlink("/w/b", "/w/a").await.unwrap();
    vfs.symlink("/w/a", "/w/b").await.unwrap();
    assert_eq!(
        vfs.lstat("/w/a").await.unwrap().file_type,
        FileType::Symlink
    );
    assert_eq!(
        vfs.stat("/w/a").await.unwrap_err().kind,
        ErrorKind::TooManyLinks
    );
    assert_eq!(
        vfs.read("/w/a").await.err().map(|e| e.kind),
        Some(ErrorKind::TooManyLinks)
    );
    // a relative loop inside the mount, too
    vfs.symlink("c", "/w/d").await.unwrap();
    vfs.symlink("d", "/w/c").await.unwrap();
    assert_eq!(
        vfs.stat("/w/c").await.unwrap_err().kind,
        ErrorKind::TooManyLinks
    );
}
