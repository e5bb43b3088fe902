#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `chmod` through the one door: a `read` mount refuses it as any write, a
//! resource without mode bits says "Operation not supported", and on disk
//! the change stays inside the root.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use bytes::Bytes;
use mirage_resource_ram::RamResource;
use mirage_types::{ErrorKind, MountMode};
use mirage_workspace::Workspace;

const SCRIPT: &str = "#!/bin/bash\necho \"ran $#\"\n";

async fn run(w: &Workspace, line: &str) -> (String, String, i32) {
    let o = w.execute("default", line, None).await.unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.exit_code,
    )
}

#[tokio::test]
async fn read_only_mount_refuses_chmod() {
    let ro = Arc::new(RamResource::new());
    ro.insert_file("/s.sh", Bytes::from_static(SCRIPT.as_bytes()))
        .unwrap();
    let w = Workspace::builder()
        .mount("/ro", ro.clone(), MountMode::Read)
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/tmp")
        .build()
        .unwrap();
    let (out, err, code) = run(&w, "chmod +x /ro/s.sh; echo rc=$?").await;
    assert_eq!(out, "rc=1\n");
    assert_eq!(
        err,
        "chmod: changing permissions of '/ro/s.sh': Read-only file system\n"
    );
    assert_eq!(code, 0);
    // -v reports the failure on stdout; -f silences the error, not the status
    let (out, err, _) = run(
        &w,
        "chmod -v 755 /ro/s.sh; chmod -f 755 /ro/s.sh; echo rc=$?",
    )
    .await;
    assert_eq!(
        out,
        "failed to change mode of '/ro/s.sh' from 0644 (rw-r--r--) to 0755 (rwxr-xr-x)\nrc=1\n"
    );
    assert_eq!(
        err,
        "chmod: changing permissions of '/ro/s.sh': Read-only file system\n"
    );
    // nothing changed: the script still cannot run by path
    let (out, err, _) = run(&w, "ls -l /ro/s.sh | cut -c1-10; /ro/s.sh; echo rc=$?").await;
    assert_eq!(out, "-rw-r--r--\nrc=126\n");
    assert!(err.ends_with("/ro/s.sh: Permission denied\n"), "{err}");
    // the router says ReadOnly whoever calls it, and the writable mount works
    let e = w.vfs().chmod("/ro/s.sh", 0o755).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    assert_eq!(e.path.as_deref(), Some("/ro/s.sh"));
    let (out, _, _) = run(
        &w,
        "cp /ro/s.sh /tmp/s.sh; chmod +x /tmp/s.sh; /tmp/s.sh a b; ./s.sh",
    )
    .await;
    assert_eq!(out, "ran 2\nran 0\n");
}

#[tokio::test]
async fn resource_without_modes_says_unsupported() {
    let w = Workspace::builder()
        .mount(
            "/inf",
            Arc::new(common::Endless::new("x")),
            MountMode::Write,
        )
        .build()
        .unwrap();
    let (out, err, _) = run(&w, "chmod 600 /inf/big; echo rc=$?").await;
    assert_eq!(out, "rc=1\n");
    assert_eq!(
        err,
        "chmod: changing permissions of '/inf/big': Operation not supported\n"
    );
}

#[tokio::test]
async fn disk_chmod_stays_in_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(tmp.path().join("secret"), "s").unwrap();
    std::fs::set_permissions(
        tmp.path().join("secret"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(root.join("s.sh"), SCRIPT).unwrap();
    std::os::unix::fs::symlink("../secret", root.join("out")).unwrap();
    std::os::unix::fs::symlink("s.sh", root.join("in")).unwrap();
    let disk = mirage_resource_disk::DiskResource::open(&root).unwrap();
    let w = Workspace::builder()
        .mount("/d", Arc::new(disk), MountMode::Write)
        .cwd("/d")
        .build()
        .unwrap();
    let (out, err, _) = run(
        &w,
        "chmod 777 out; echo rc=$?; chmod -R 777 .; echo rc=$?; chmod 750 in; ./s.sh x",
    )
    .await;
    assert_eq!(out, "rc=1\nrc=0\nran 1\n");
    assert_eq!(err, "chmod: cannot access 'out': Permission denied\n");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&tmp.path().join("secret")), 0o600);
    assert_eq!(mode(&root.join("s.sh")), 0o750);
    assert_eq!(mode(&root), 0o777);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `mv` across mounts (copy then delete) keeps the mode bits, of files and
/// of directories, as GNU `mv` across file systems does.
#[tokio::test]
async fn mv_across_mounts_keeps_mode_bits() {
    let w = Workspace::builder()
        .mount("/a", Arc::new(RamResource::new()), MountMode::Write)
        .mount("/b", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/a")
        .build()
        .unwrap();
    let line = format!(
        "printf '{}' > s.sh; chmod 750 s.sh; mkdir d; touch d/f; chmod 4711 d/f; chmod 700 d; \
         mv s.sh d /b/; ls -l /b/s.sh /b/d/f | cut -c1-10; ls -ld /b/d | cut -c1-10; /b/s.sh 1 2 3",
        SCRIPT.replace('\n', "\\n")
    );
    let (out, err, _) = run(&w, &line).await;
    assert_eq!(
        out, "-rws--x--x\n-rwxr-x---\ndrwx------\nran 3\n",
        "stderr: {err}"
    );
}

/// `touch -d` on a disk mount sets the host file's mtime (it used to be
/// silently skipped: only RAM kept times), and a link leading out of the
/// root is refused with the outside file's time untouched.
#[tokio::test]
async fn disk_touch_sets_times_inside_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(tmp.path().join("secret"), "s").unwrap();
    std::os::unix::fs::symlink("../secret", root.join("out")).unwrap();
    let before = std::fs::metadata(tmp.path().join("secret"))
        .unwrap()
        .modified()
        .unwrap();
    let disk = mirage_resource_disk::DiskResource::open(&root).unwrap();
    let w = Workspace::builder()
        .mount("/disk", Arc::new(disk), MountMode::Write)
        .build()
        .unwrap();
    let (out, err, code) = run(
        &w,
        "touch /disk/f && touch -d '2020-01-01 00:00:00 UTC' /disk/f && mkdir /disk/d && touch -d @86400 /disk/d && stat -c '%Y %n' /disk/f /disk/d",
    )
    .await;
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("1577836800 /disk/f\n86400 /disk/d\n", "", 0)
    );
    let host = std::fs::metadata(root.join("f"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        host.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_577_836_800
    );
    let (_, err, code) = run(&w, "touch -d @0 /disk/out").await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        std::fs::metadata(tmp.path().join("secret"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
}
