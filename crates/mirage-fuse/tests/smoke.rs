#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A workspace mounted with FUSE behaves as a directory for std::fs.

mod common;

use std::sync::Arc;

use common::skip;
use mirage_fuse::{FuseOptions, mount};
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_written_through_fuse_are_in_the_workspace_and_back() {
    if skip() {
        return;
    }
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/hello.txt", "hello\n").unwrap();
    let ws = Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = mount(&ws, dir.path(), FuseOptions::default())
        .await
        .unwrap();
    let root = dir.path().to_path_buf();
    let ws2 = ws.clone();
    tokio::task::spawn_blocking(move || {
        let d = root.join("data");
        assert_eq!(
            std::fs::read_to_string(d.join("hello.txt")).unwrap(),
            "hello\n"
        );
        std::fs::write(d.join("new.txt"), "made here\n").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::rename(d.join("new.txt"), d.join("sub/moved.txt")).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["hello.txt", "sub"]);
        let rt = tokio::runtime::Handle::current();
        let out = rt
            .block_on(ws2.execute("default", "cat /data/sub/moved.txt", None))
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "made here\n");
        // a write through the shell is visible through FUSE at once
        rt.block_on(ws2.execute("default", "echo changed > /data/hello.txt", None))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("hello.txt")).unwrap(),
            "changed\n"
        );
        std::fs::remove_file(d.join("sub/moved.txt")).unwrap();
        std::fs::remove_dir(d.join("sub")).unwrap();
        assert!(!d.join("sub").exists());
    })
    .await
    .unwrap();
    m.unmount().unwrap();
}
