#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A mount left behind by a killed process ("Transport endpoint is not
//! connected") is detected and cleaned by the next mount at that place.
//!
//! The killed process is this test binary itself, re-run with
//! `MIRAGE_FUSE_STALE_DIR` set so that `helper_mounts_and_waits` mounts
//! there and sleeps until it is killed with SIGKILL.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mirage_fuse::{FuseOptions, clean_stale_mount, fuse_available, mount};
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

const ENV: &str = "MIRAGE_FUSE_STALE_DIR";

fn workspace(text: &str) -> Workspace {
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f", text.to_string()).unwrap();
    Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap()
}

/// Not a test of its own: the process the real test kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper: runs only when re-run by a_killed_mount_is_cleaned_by_the_next_mount"]
async fn helper_mounts_and_waits() {
    let Ok(dir) = std::env::var(ENV) else {
        return;
    };
    let ws = workspace("from the killed process\n");
    let m = mount(&ws, std::path::Path::new(&dir), FuseOptions::default())
        .await
        .unwrap();
    println!("MOUNTED");
    tokio::time::sleep(Duration::from_secs(120)).await;
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_mount_is_cleaned_by_the_next_mount() {
    if let Err(why) = fuse_available() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let exe = std::env::current_exe().unwrap();
    let p2 = path.clone();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "helper_mounts_and_waits",
                "--ignored",
                "--nocapture",
            ])
            .env(ENV, &p2)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // wait until the helper's tree is there
        let t = Instant::now();
        while std::fs::read_to_string(p2.join("data/f")).ok().as_deref()
            != Some("from the killed process\n")
        {
            if t.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the helper never mounted");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL: no unmount
        child.wait().unwrap();
        // a name the kernel has not cached must ask the dead process
        let e = std::fs::metadata(p2.join("data/never-looked-up")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTCONN), "a stale mount: {e}");
    })
    .await
    .unwrap();
    // a fresh mount at the same place cleans it and works
    let ws = workspace("fresh\n");
    let m = mount(&ws, &path, FuseOptions::default()).await;
    let m = match m {
        Ok(m) => m,
        Err(e) => {
            let _ = clean_stale_mount(&path);
            panic!("mount over a stale mount: {e}");
        }
    };
    let p3 = path.clone();
    tokio::task::spawn_blocking(move || {
        assert_eq!(
            std::fs::read_to_string(p3.join("data/f")).unwrap(),
            "fresh\n"
        );
    })
    .await
    .unwrap();
    m.unmount().unwrap();
    assert!(!clean_stale_mount(&path).unwrap(), "nothing left behind");
    assert_eq!(
        std::fs::read_dir(&path).unwrap().count(),
        0,
        "the mount point is empty again"
    );
}
