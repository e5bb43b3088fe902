#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The mount remembers only the inodes the kernel holds: when the kernel
//! drops them from its cache (`forget`), the mount's inode table shrinks,
//! and the files are found again afterwards.

mod common;

use std::time::{Duration, Instant};

use common::{ram_mount, skip};

const FILES: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forgotten_inodes_leave_the_table_and_come_back_on_lookup() {
    if skip() {
        return;
    }
    // dropping the kernel's dentry and inode caches needs root (and a
    // writable /proc/sys, which some containers lack)
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "2\n") {
        eprintln!("SKIPPED: /proc/sys/vm/drop_caches cannot be written: {e}");
        return;
    }
    let names: Vec<(String, String)> = (0..FILES)
        .map(|i| (format!("/d/f{i}"), format!("{i}\n")))
        .collect();
    let files: Vec<(&str, &str)> = names
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let (m, dir, _) = ram_mount(&files).await;
    let root = dir.path().join("data/d");
    let m2 = &m;
    // blocking file calls on this worker (the others answer FUSE)
    tokio::task::block_in_place(|| {
        let before = m2.inode_count();
        for i in 0..FILES {
            assert!(
                std::fs::metadata(root.join(format!("f{i}")))
                    .unwrap()
                    .is_file()
            );
        }
        let looked_up = m2.inode_count();
        assert!(
            looked_up >= before + FILES,
            "every looked-up file has a number: {before} then {looked_up}"
        );
        // the kernel drops its unused dentries and inodes, and tells the
        // mount with FORGET
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            std::fs::write("/proc/sys/vm/drop_caches", "2\n").unwrap();
            std::thread::sleep(Duration::from_millis(100));
            if m2.inode_count() < FILES / 10 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the table kept {} of {} numbers after the kernel dropped its caches",
                m2.inode_count(),
                looked_up
            );
        }
        // forgotten files are found again, with their contents
        for i in (0..FILES).step_by(7) {
            assert_eq!(
                std::fs::read_to_string(root.join(format!("f{i}"))).unwrap(),
                format!("{i}\n")
            );
        }
        let mut n = std::fs::read_dir(&root).unwrap().count();
        assert_eq!(n, FILES);
        // a rename and a removal after forgetting still work
        std::fs::rename(root.join("f1"), root.join("g1")).unwrap();
        std::fs::remove_file(root.join("f2")).unwrap();
        n = std::fs::read_dir(&root).unwrap().count();
        assert_eq!(n, FILES - 1);
        assert_eq!(std::fs::read_to_string(root.join("g1")).unwrap(), "1\n");
    });
    m.unmount().unwrap();
}
