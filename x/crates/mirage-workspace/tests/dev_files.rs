#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `/dev` in every workspace, `exec 2>&1` across lines, and config errors.

use std::sync::Arc;

use bytes::Bytes;
use mirage_types::MountMode;
use mirage_workspace::{Workspace, WorkspaceConfig};

fn ws() -> Workspace {
    let ram = Arc::new(mirage_resource_ram::RamResource::new());
    Workspace::builder()
        .mount("/data", ram, MountMode::Read)
        .cwd("/data")
        .build()
        .unwrap()
}

#[tokio::test]
async fn dev_files_exist_and_behave() {
    let w = ws();
    let o = w.execute("default", "cat /dev/null; echo rc=$?; echo x > /dev/null; echo rc=$?; head -c 5 /dev/zero | wc -c; ls /dev", None).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "rc=0\nrc=0\n5\nfd\nnull\nstderr\nstdin\nstdout\n"
    );
    // a recursive walk from / never reads the endless /dev/zero
    let o = w
        .execute(
            "default",
            "grep -r needle / ; echo rc=$?; ls /dev/zero",
            None,
        )
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "rc=1\n/dev/zero\n");
    // the default cwd is still the first user mount, not /dev
    assert_eq!(w.session_cwd("default").await.unwrap(), "/data");
    let o = w
        .execute(
            "default",
            "cat /dev/stdin; grep -c b /dev/fd/0 </dev/null",
            Some(Bytes::from_static(b"a\nb\n")),
        )
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "a\nb\n0\n");
    let o = w
        .execute(
            "default",
            "echo hi | tee /dev/stderr; rm /dev/null; echo rc=$?",
            None,
        )
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi\nrc=1\n");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "hi\nrm: cannot remove '/dev/null': Permission denied\n"
    );
}

#[tokio::test]
async fn exec_redirects_last_for_the_session() {
    let w = ws();
    let o = w.execute("default", "exec 2>&1", None).await.unwrap();
    assert_eq!(o.exit_code, 0);
    let o = w
        .execute("default", "ls /nope; echo rc=$?", None)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "ls: cannot access '/nope': No such file or directory\nrc=2\n"
    );
    assert!(o.stderr.is_empty());
    let o = w
        .execute("default", "exec 2>/dev/null; ls /nope; echo rc=$?", None)
        .await
        .unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&o.stdout).as_ref(), o.stderr.len()),
        ("rc=2\n", 0)
    );
    // another session is not affected
    w.create_session(mirage_workspace::SessionOptions {
        id: Some("s2".into()),
        ..Default::default()
    })
    .unwrap();
    let o = w.execute("s2", "ls /nope", None).await.unwrap();
    assert!(o.stdout.is_empty() && !o.stderr.is_empty());
}

#[tokio::test]
async fn config_cwd_and_resource_config_are_checked() {
    let bad = [
        (
            "mounts:\n  /d: {resource: ram}\ncwd: d\n",
            "must be an absolute path",
        ),
        (
            "mounts:\n  /d: {resource: ram}\ncwd: /d/x\n",
            "No such file or directory",
        ),
        (
            "mounts:\n  /d: {resource: ram, config: {size: 3}}\n",
            "size",
        ),
    ];
    for (text, want) in bad {
        let cfg = WorkspaceConfig::from_yaml(text).unwrap();
        let e = Workspace::from_config(&cfg)
            .await
            .err()
            .unwrap_or_else(|| panic!("{text}: accepted"));
        assert!(e.to_string().contains(want), "{text}: {e}");
    }
    let cfg = WorkspaceConfig::from_yaml(
        "mounts:\n  /d: {resource: ram}\n  /d/sub: {resource: ram}\ncwd: /d/sub\n",
    )
    .unwrap();
    let w = Workspace::from_config(&cfg).await.unwrap();
    assert_eq!(w.session_cwd("default").await.unwrap(), "/d/sub");
}

#[tokio::test]
async fn exec_to_a_file_keeps_writing_there_in_later_lines() {
    let ram = Arc::new(mirage_resource_ram::RamResource::new());
    let w = Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .cwd("/data")
        .build()
        .unwrap();
    let o = w
        .execute("default", "exec 3>&1 > out.txt; echo one", None)
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "");
    // the next line still writes to the file, until fd 1 is put back
    let o = w
        .execute("default", "echo two; exec >&3; cat out.txt", None)
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "one\ntwo\n");
    // `exec 2>&1` and friends still work
    let o = w
        .execute("default", "exec 2>&1; ls /nope 2>&1 | wc -l", None)
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1\n");
}
