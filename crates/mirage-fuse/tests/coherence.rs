#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The workspace and its FUSE view stay one: a write through the shell is
//! visible through FUSE (the kernel's cached attributes, pages and entries
//! are dropped, even with a 600 s TTL), and a rename across two mounts answers `EXDEV`, so `mv`
//! falls back to copying.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::skip;
use mirage_fuse::{FuseOptions, mount};
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

/// Waits (at most 2 s, far below the 600 s TTL the test mounts with, so
/// only an invalidation can make it true) until `cond` holds. (A change
/// made through the workspace returns only once the kernel has dropped its
/// caches, so `cond` normally holds at once; `a_shell_write_is_visible_immediately`
/// checks that strictly.)
fn settles(cond: impl Fn() -> bool, what: &str) {
    let t = std::time::Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{what}: not visible through FUSE after 2 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The strict form of the "visible at once": a `stat` right after
/// the shell's write returns sees the new size, 100 times out of 100 (the
/// write waits, through the workspace's change hook, until the kernel has
/// dropped its cache; it failed about 17 times in 100 when the cache was
/// dropped after the write returned).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shell_write_is_visible_immediately() {
    if skip() {
        return;
    }
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f", "old\n").unwrap();
    let ws = Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = FuseOptions {
        ttl: Duration::from_secs(600),
        ..FuseOptions::default()
    };
    let m = mount(&ws, dir.path(), opts).await.unwrap();
    let f = dir.path().join("data/f");
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        let mut misses = 0;
        for i in 0..100usize {
            let _ = std::fs::metadata(&f).unwrap().len();
            let cmd = format!("echo {} > /data/f", "y".repeat(i % 7 + 3));
            rt.block_on(ws.execute("default", &cmd, None)).unwrap();
            if std::fs::metadata(&f).unwrap().len() != (i % 7 + 4) as u64 {
                misses += 1;
            }
        }
        assert_eq!(misses, 0, "stale sizes right after a shell write, of 100");
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shell_write_is_visible_through_fuse() {
    if skip() {
        return;
    }
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f", "old contents\n").unwrap();
    let ws = Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // a long TTL: only the invalidation can make the change visible
    let opts = FuseOptions {
        ttl: Duration::from_secs(600),
        ..FuseOptions::default()
    };
    let m = mount(&ws, dir.path(), opts).await.unwrap();
    let d = dir.path().join("data");
    let ws2 = ws.clone();
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        let f = d.join("f");
        // FUSE reads and stats it: the kernel now caches pages and attributes
        for _ in 0..3 {
            assert_eq!(std::fs::read_to_string(&f).unwrap(), "old contents\n");
            assert_eq!(std::fs::metadata(&f).unwrap().len(), 13);
        }
        rt.block_on(ws2.execute("default", "echo x > /data/f", None))
            .unwrap();
        settles(
            || std::fs::metadata(&f).unwrap().len() == 2,
            "size after a shell write",
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "x\n");
        // longer again, appended by the shell
        rt.block_on(ws2.execute("default", "echo more text >> /data/f", None))
            .unwrap();
        settles(
            || std::fs::metadata(&f).unwrap().len() == 12,
            "size after a shell append",
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "x\nmore text\n");
        // a new file made by the shell appears in a listing FUSE had cached,
        // and a file removed by the shell disappears
        let names = |d: &std::path::Path| {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&d), ["f"]);
        assert!(!d.join("g").exists(), "a negative lookup first");
        rt.block_on(ws2.execute("default", "echo g > /data/g", None))
            .unwrap();
        settles(|| d.join("g").exists(), "a file made by the shell");
        assert_eq!(names(&d), ["f", "g"]);
        assert_eq!(std::fs::read_to_string(d.join("g")).unwrap(), "g\n");
        rt.block_on(ws2.execute("default", "rm /data/f", None))
            .unwrap();
        settles(|| !f.exists(), "a file removed by the shell");
        assert_eq!(names(&d), ["g"]);
        // and a write through FUSE is in the workspace at close
        std::fs::write(d.join("g"), "from fuse\n").unwrap();
        let out = rt
            .block_on(ws2.execute("default", "cat /data/g", None))
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "from fuse\n");
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rename_across_mounts_is_exdev_and_mv_copies() {
    if skip() {
        return;
    }
    let a = Arc::new(RamResource::new());
    a.insert_file("/f", "from a\n").unwrap();
    a.insert_file("/dir/inner", "inner\n").unwrap();
    let b = Arc::new(RamResource::new());
    let ws = Workspace::builder()
        .mount("/a", a, MountMode::Write)
        .mount("/b", b, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = mount(&ws, dir.path(), FuseOptions::default())
        .await
        .unwrap();
    let root = dir.path().to_path_buf();
    let ws2 = ws.clone();
    tokio::task::spawn_blocking(move || {
        let (fa, fb) = (root.join("a/f"), root.join("b/f"));
        let e = std::fs::rename(&fa, &fb).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EXDEV), "{e}");
        let e = std::fs::rename(root.join("a/dir"), root.join("b/dir")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EXDEV), "{e}");
        assert_eq!(
            std::fs::read_to_string(&fa).unwrap(),
            "from a\n",
            "left in place"
        );
        for (from, to) in [
            (fa.clone(), fb.clone()),
            (root.join("a/dir"), root.join("b/dir")),
        ] {
            let st = Command::new("timeout")
                .arg("120")
                .arg("mv")
                .arg(&from)
                .arg(&to)
                .status()
                .unwrap();
            assert!(
                st.success(),
                "mv {} {}: {st:?}",
                from.display(),
                to.display()
            );
        }
        assert!(!fa.exists());
        assert!(!root.join("a/dir").exists());
        assert_eq!(std::fs::read_to_string(&fb).unwrap(), "from a\n");
        assert_eq!(
            std::fs::read_to_string(root.join("b/dir/inner")).unwrap(),
            "inner\n"
        );
        let rt = tokio::runtime::Handle::current();
        let out = rt
            .block_on(ws2.execute("default", "ls /a; cat /b/f /b/dir/inner", None))
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "from a\ninner\n");
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unmount_lets_the_workspace_go() {
    if skip() {
        return;
    }
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f", "x\n").unwrap();
    let ws = Workspace::builder()
        .mount("/data", ram.clone(), MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = mount(&ws, dir.path(), FuseOptions::default())
        .await
        .unwrap();
    let d = dir.path().join("data");
    tokio::task::spawn_blocking(move || {
        std::fs::write(d.join("g"), "y\n").unwrap();
        assert_eq!(std::fs::read_to_string(d.join("f")).unwrap(), "x\n");
    })
    .await
    .unwrap();
    m.unmount().unwrap();
    drop(ws);
    // nothing of the mount (request tasks, the invalidation thread) keeps
    // the workspace's resources alive
    let t = std::time::Instant::now();
    while Arc::strong_count(&ram) > 1 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the RAM resource is still held"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_mount_as_the_root_with_its_links() {
    if skip() {
        return;
    }
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f", "f\n").unwrap();
    let ws = Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = FuseOptions {
        root: "/data".to_string(),
        ..FuseOptions::default()
    };
    let m = mount(&ws, dir.path(), opts).await.unwrap();
    let root = dir.path().canonicalize().unwrap();
    let ws2 = ws.clone();
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        assert_eq!(std::fs::read_to_string(root.join("f")).unwrap(), "f\n");
        std::fs::create_dir(root.join("d")).unwrap();
        std::fs::write(root.join("d/g"), "g\n").unwrap();
        // an absolute link made in the shell reads as the host path
        rt.block_on(ws2.execute("default", "ln -s /data/d/g /data/abs", None))
            .unwrap();
        assert_eq!(
            std::fs::read_link(root.join("abs")).unwrap(),
            root.join("d/g")
        );
        assert_eq!(std::fs::read_to_string(root.join("abs")).unwrap(), "g\n");
        // and one made through FUSE to a host path under the mount point
        // is the virtual path in the shell
        std::os::unix::fs::symlink(root.join("f"), root.join("abs2")).unwrap();
        let out = rt
            .block_on(ws2.execute(
                "default",
                "readlink /data/abs2; cat /data/abs2 /data/d/g",
                None,
            ))
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "/data/f\nf\ng\n");
        let mut names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["abs", "abs2", "d", "f"]);
    })
    .await
    .unwrap();
    drop(m);
}
