#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Each failing call answers the errno Linux gives (checked against the
//! same call on tmpfs too): the cases the differential test meets only by
//! chance, named one by one.

mod common;

use std::fs;
use std::path::Path;

use common::{ram_mount, skip};

fn setup(d: &Path) {
    fs::create_dir(d.join("full")).unwrap();
    fs::write(d.join("full/x"), "x").unwrap();
    fs::create_dir(d.join("full/sub")).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    fs::create_dir(d.join("other")).unwrap();
    fs::write(d.join("other/y"), "y").unwrap();
    fs::write(d.join("file"), "f").unwrap();
}

type Case = (&'static str, i32, fn(&Path) -> std::io::Result<()>);

fn cases() -> Vec<Case> {
    vec![
        ("rmdir non-empty", libc::ENOTEMPTY, |d| {
            fs::remove_dir(d.join("full"))
        }),
        ("rmdir a file", libc::ENOTDIR, |d| {
            fs::remove_dir(d.join("file"))
        }),
        ("rmdir missing", libc::ENOENT, |d| {
            fs::remove_dir(d.join("nope"))
        }),
        ("unlink a dir", libc::EISDIR, |d| {
            fs::remove_file(d.join("empty"))
        }),
        ("unlink missing", libc::ENOENT, |d| {
            fs::remove_file(d.join("nope"))
        }),
        ("rename dir over non-empty dir", libc::ENOTEMPTY, |d| {
            fs::rename(d.join("empty"), d.join("other"))
        }),
        ("rename dir over file", libc::ENOTDIR, |d| {
            fs::rename(d.join("empty"), d.join("file"))
        }),
        ("rename file over dir", libc::EISDIR, |d| {
            fs::rename(d.join("file"), d.join("empty"))
        }),
        ("rename dir into itself", libc::EINVAL, |d| {
            fs::rename(d.join("full"), d.join("full/sub/in"))
        }),
        ("rename missing", libc::ENOENT, |d| {
            fs::rename(d.join("nope"), d.join("n2"))
        }),
        ("rename into missing dir", libc::ENOENT, |d| {
            fs::rename(d.join("file"), d.join("nope/file"))
        }),
        ("rename below a file", libc::ENOTDIR, |d| {
            fs::rename(d.join("empty"), d.join("file/e"))
        }),
        ("mkdir existing dir", libc::EEXIST, |d| {
            fs::create_dir(d.join("full"))
        }),
        ("mkdir existing file", libc::EEXIST, |d| {
            fs::create_dir(d.join("file"))
        }),
        ("mkdir below a file", libc::ENOTDIR, |d| {
            fs::create_dir(d.join("file/x"))
        }),
        ("mkdir in missing dir", libc::ENOENT, |d| {
            fs::create_dir(d.join("nope/x"))
        }),
        ("create below a file", libc::ENOTDIR, |d| {
            fs::write(d.join("file/x"), "x")
        }),
        ("create in missing dir", libc::ENOENT, |d| {
            fs::write(d.join("nope/x"), "x")
        }),
        ("open missing", libc::ENOENT, |d| {
            fs::read(d.join("nope")).map(|_| ())
        }),
        ("open a dir for writing", libc::EISDIR, |d| {
            fs::write(d.join("empty"), "x")
        }),
        ("read a dir", libc::EISDIR, |d| {
            fs::read(d.join("empty")).map(|_| ())
        }),
        ("create_new over existing", libc::EEXIST, |d| {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(d.join("file"))
                .map(|_| ())
        }),
        ("readdir of a file", libc::ENOTDIR, |d| {
            fs::read_dir(d.join("file")).map(|_| ())
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_failure_has_the_errno_linux_gives() {
    if skip() {
        return;
    }
    let (m, _dir, fuse) = ram_mount(&[]).await;
    tokio::task::spawn_blocking(move || {
        let host =
            tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
        setup(&fuse);
        setup(host.path());
        let mut bad = Vec::new();
        for (name, want, f) in cases() {
            let got = |d: &Path| f(d).err().and_then(|e| e.raw_os_error()).unwrap_or(0);
            let (ours, linux) = (got(&fuse), got(host.path()));
            if ours != want || linux != want {
                bad.push(format!(
                    "{name}: FUSE errno {ours}, tmpfs {linux}, expected {want}"
                ));
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    })
    .await
    .unwrap();
    drop(m);
}
