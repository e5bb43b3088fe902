#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bytes are never changed: host file names and file contents that are
//! not UTF-8 pass through the shell, the router and the disk resource byte
//! for byte (issue 11's reproducers: `x=$(cat latin1.txt)` kept 13 bytes
//! for 8, and `bad\xff` / `bad\xef\xbf\xbd` listed as one name, so `rm`
//! removed the wrong file).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use mirage_resource_disk::DiskResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

fn disk_ws(dir: &std::path::Path) -> Workspace {
    let disk = DiskResource::open(dir).unwrap();
    Workspace::builder()
        .mount("/d", Arc::new(disk), MountMode::Write)
        .cwd("/d")
        .build()
        .unwrap()
}

async fn run(ws: &Workspace, line: &str) -> (Vec<u8>, String, i32) {
    let o = ws.execute("default", line, None).await.unwrap();
    (
        o.stdout.clone(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.exit_code,
    )
}

#[tokio::test]
async fn latin1_command_substitution_keeps_its_eight_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("latin1.txt"), b"caf\xe9 ol\xe9").unwrap();
    let ws = disk_ws(tmp.path());
    let (out, err, code) = run(&ws, "x=$(cat latin1.txt); printf %s \"$x\"").await;
    assert_eq!((out.as_slice(), code), (&b"caf\xe9 ol\xe9"[..], 0), "{err}");
    let (out, _, _) = run(
        &ws,
        "x=$(cat latin1.txt); printf %s \"$x\" > copy.txt; cat copy.txt",
    )
    .await;
    assert_eq!(out, b"caf\xe9 ol\xe9");
    assert_eq!(
        std::fs::read(tmp.path().join("copy.txt")).unwrap(),
        b"caf\xe9 ol\xe9"
    );
}

#[tokio::test]
async fn look_alike_host_names_stay_two_files_and_rm_removes_the_right_one() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = OsStr::from_bytes(b"bad\xff");
    let repl = OsStr::from_bytes(b"bad\xef\xbf\xbd");
    std::fs::write(tmp.path().join(raw), b"raw\n").unwrap();
    std::fs::write(tmp.path().join(repl), b"replacement\n").unwrap();
    let ws = disk_ws(tmp.path());

    let (out, _, code) = run(&ws, "ls").await;
    assert_eq!(
        (out.as_slice(), code),
        (&b"bad\xef\xbf\xbd\nbad\xff\n"[..], 0)
    );
    let (out, _, _) = run(&ws, "for f in bad*; do cat \"$f\"; done").await;
    assert_eq!(out, b"replacement\nraw\n");

    let (_, err, code) = run(&ws, "rm $'bad\\xff'").await;
    assert_eq!(code, 0, "{err}");
    assert!(
        !tmp.path().join(raw).exists(),
        "the raw-byte name is removed"
    );
    assert_eq!(
        std::fs::read(tmp.path().join(repl)).unwrap(),
        b"replacement\n",
        "the look-alike is kept"
    );
}

#[tokio::test]
async fn find_and_grep_print_raw_names() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(OsStr::from_bytes(b"n\xe9.txt")), b"hit\n").unwrap();
    let ws = disk_ws(tmp.path());
    let (out, _, _) = run(&ws, "find . -name 'n*'").await;
    assert_eq!(out, b"./n\xe9.txt\n");
    let (out, _, _) = run(&ws, "grep -l hit *").await;
    assert_eq!(out, b"n\xe9.txt\n");
    let (out, _, _) = run(&ws, "echo n?.txt").await;
    assert_eq!(out, b"n\xe9.txt\n");
}

#[tokio::test]
async fn a_line_that_is_not_utf8_runs_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = disk_ws(tmp.path());
    let line =
        mirage_types::bytestr::decode(b"printf '%s' '\xfe\xff' > raw; wc -c < raw").into_owned();
    let (out, _, code) = run(&ws, &line).await;
    assert_eq!((out.as_slice(), code), (&b"2\n"[..], 0));
    assert_eq!(std::fs::read(tmp.path().join("raw")).unwrap(), b"\xfe\xff");
}
