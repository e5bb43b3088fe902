#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! sed reaches no host file and no host process: `r`, `w`, `s///w` and
//! `-i` go through the VFS router (a read-only mount refuses the write
//! with `Read-only file system`), `e` and `s///e` are refused, and input
//! streams (`sed p` over an endless file stops when `head` has its line).

mod common;
use common::{ro_etc_ws, run};

use std::sync::Arc;

use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

async fn ws() -> Workspace {
    Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/tmp")
        .build()
        .unwrap()
}

#[tokio::test]
async fn w_into_a_read_only_mount_is_refused() {
    let ws = ro_etc_ws().await;
    let host = std::path::Path::new("/etc/x");
    let existed = host.exists();
    let (out, err, code) = run(&ws, "echo hi | sed 'w /etc/x'").await;
    assert_eq!(code, 4, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(host.exists(), existed, "a host file was touched");
    let (_, err, code) = run(&ws, "echo hi | sed 's/h/j/w /etc/y'").await;
    assert_eq!(code, 4);
    assert!(err.contains("Read-only file system"), "{err}");
    let (out, _, code) = run(&ws, "ls /etc").await;
    assert_eq!((out.as_str(), code), ("conf\n", 0));
}

#[tokio::test]
async fn w_and_r_go_through_the_router() {
    let ws = ro_etc_ws().await;
    let name = format!("/tmp/mirage-sed-isolation-{}", std::process::id());
    let line = format!("printf 'a\\nb\\n' | sed -n '/a/w {name}'; cat {name}");
    let (out, err, code) = run(&ws, &line).await;
    assert_eq!((out.as_str(), err.as_str(), code), ("a\n", "", 0));
    assert!(
        !std::path::Path::new(&name).exists(),
        "sed wrote a host file"
    );
    let (out, _, code) = run(&ws, "echo x | sed 'r /etc/conf'").await;
    assert_eq!((out.as_str(), code), ("x\nkeep\n", 0));
    // A file missing from the VFS reads as empty, even if the host has it.
    let (out, _, code) = run(&ws, "echo x | sed 'r /etc/passwd'").await;
    assert_eq!((out.as_str(), code), ("x\n", 0));
    let (out, _, _) = run(&ws, "echo x | sed 'w /dev/stdout'").await;
    assert_eq!(out, "x\nx\n");
}

#[tokio::test]
async fn e_is_refused() {
    let ws = ws().await;
    for line in [
        "echo hi | sed e",
        "echo id | sed 'e'",
        "echo hi | sed '1e id'",
        "echo hi | sed 's/hi/id/e'",
    ] {
        let (out, err, code) = run(&ws, line).await;
        assert_eq!(code, 1, "{line}: {err}");
        assert_eq!(out, "", "{line}");
        assert!(
            err.starts_with("sed: -e expression #1, char "),
            "{line}: {err}"
        );
        assert!(err.contains("disabled"), "{line}: {err}");
    }
}

#[tokio::test]
async fn in_place_on_a_read_only_mount_is_refused() {
    let ws = ro_etc_ws().await;
    let (_, err, code) = run(&ws, "sed -i s/keep/lost/ /etc/conf").await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let (_, err, code) = run(&ws, "sed -i.bak s/keep/lost/ /etc/conf").await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let (out, _, _) = run(&ws, "cat /etc/conf; ls /etc").await;
    assert_eq!(out, "keep\nconf\n");
    let (out, err, code) = run(
        &ws,
        "cp /etc/conf c; sed -i.orig s/keep/new/ c; cat c c.orig",
    )
    .await;
    assert_eq!((out.as_str(), err.as_str(), code), ("new\nkeep\n", "", 0));
}

#[tokio::test]
async fn sed_streams() {
    let ws = Workspace::builder()
        .mount(
            "/e",
            Arc::new(common::Endless::new(b"foo bar\n".repeat(1024))),
            MountMode::Read,
        )
        .build()
        .unwrap();
    let (out, err, code) = run(&ws, "cat /e/big | sed p | head -1").await;
    assert_eq!((out.as_str(), err.as_str(), code), ("foo bar\n", "", 0));
    let (out, _, code) = run(&ws, "sed 's/foo/baz/g' /e/big | head -n 2").await;
    assert_eq!((out.as_str(), code), ("baz bar\nbaz bar\n", 0));
}

#[tokio::test]
async fn an_endless_loop_can_be_stopped() {
    let ws = ws().await;
    let (out, _, code) = run(&ws, "echo x | timeout 0.2 sed ':a;ba'; echo rc=$?").await;
    assert_eq!((out.as_str(), code), ("rc=124\n", 0));
}
