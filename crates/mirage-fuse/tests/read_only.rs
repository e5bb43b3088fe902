#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Read-only enforcement through FUSE for every write syscall: each fails
//! with `EROFS` and the tree is left intact (names, types, contents). Twice:
//! a workspace mount whose mode is `read` (the kernel mount itself is
//! read-write, so every refusal comes from Mirage), and a writable mount
//! under `FuseOptions { read_only: true, .. }` (`mirage mount --read-only`).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use mirage_fuse::{FuseOptions, fuse_available, mount};
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

const EROFS: i32 = libc::EROFS;

fn tree(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if fs::symlink_metadata(&p).unwrap().is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                out.insert(rel, Some(fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// `open(2)` with raw flags; answers the errno, or closes and answers 0.
fn open_raw(p: &Path, flags: i32) -> i32 {
    let path = c(p);
    // SAFETY: a valid NUL-terminated path; the fd is closed at once.
    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o644) };
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error().unwrap_or(-1);
    }
    // SAFETY: fd was just opened by us.
    unsafe { libc::close(fd) };
    0
}

fn last_errno(rc: i32) -> i32 {
    if rc == 0 {
        0
    } else {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    }
}

/// The errno of a failed call, 0 for a success.
fn err<T>(r: std::io::Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1),
    }
}

/// Every write syscall on the tree at `d` (holding `f.txt`, `d/g.txt`,
/// `empty/`) fails with `EROFS`; answers the names of the checks made.
fn every_write_fails(d: &Path) -> Vec<&'static str> {
    let f = d.join("f.txt");
    let g = d.join("d/g.txt");
    let new = d.join("new.txt");
    let mut checks: Vec<(&'static str, i32)> = vec![
        (
            "open O_WRONLY",
            err(OpenOptions::new().write(true).open(&f)),
        ),
        (
            "open O_RDWR",
            err(OpenOptions::new().read(true).write(true).open(&f)),
        ),
        (
            "open O_RDONLY|O_TRUNC",
            open_raw(&f, libc::O_RDONLY | libc::O_TRUNC),
        ),
        (
            "open O_WRONLY|O_TRUNC",
            open_raw(&f, libc::O_WRONLY | libc::O_TRUNC),
        ),
        (
            "open O_APPEND",
            err(OpenOptions::new().append(true).open(&f)),
        ),
        (
            "open O_CREAT new",
            err(OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&new)),
        ),
        (
            "open O_CREAT|O_EXCL new",
            open_raw(&new, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL),
        ),
        (
            "open O_RDONLY|O_CREAT new",
            open_raw(&new, libc::O_RDONLY | libc::O_CREAT),
        ),
        ("fs::write", err(fs::write(&f, "overwritten"))),
        // SAFETY: valid NUL-terminated path.
        (
            "truncate",
            last_errno(unsafe { libc::truncate(c(&f).as_ptr(), 0) }),
        ),
        (
            "truncate longer",
            last_errno(unsafe { libc::truncate(c(&f).as_ptr(), 100) }),
        ),
        ("unlink", err(fs::remove_file(&f))),
        ("unlink nested", err(fs::remove_file(&g))),
        ("rename within", err(fs::rename(&f, d.join("h.txt")))),
        ("rename over", err(fs::rename(&f, &g))),
        ("rename into dir", err(fs::rename(&f, d.join("d/f.txt")))),
        ("rename out of dir", err(fs::rename(&g, d.join("g.txt")))),
        ("rename dir", err(fs::rename(d.join("d"), d.join("d2")))),
        ("mkdir", err(fs::create_dir(d.join("m")))),
        ("mkdir nested", err(fs::create_dir(d.join("d/m")))),
        ("rmdir empty", err(fs::remove_dir(d.join("empty")))),
        ("rmdir non-empty", err(fs::remove_dir(d.join("d")))),
        (
            "symlink",
            err(std::os::unix::fs::symlink("f.txt", d.join("l"))),
        ),
        (
            "chmod",
            err(fs::set_permissions(&f, fs::Permissions::from_mode(0o600))),
        ),
        (
            "chmod dir",
            err(fs::set_permissions(
                d.join("d"),
                fs::Permissions::from_mode(0o700),
            )),
        ),
    ];
    // utimensat(2): a given mtime, and "now" (touch)
    let times = [
        libc::timespec {
            tv_sec: 1_000_000,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: 1_000_000,
            tv_nsec: 0,
        },
    ];
    // SAFETY: valid path and a two-element timespec array.
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c(&f).as_ptr(), times.as_ptr(), 0) };
    checks.push(("utimensat mtime", last_errno(rc)));
    // SAFETY: a null `times` means "now".
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c(&f).as_ptr(), std::ptr::null(), 0) };
    checks.push(("utimensat now", last_errno(rc)));
    // atime only (`touch -a`): still a change
    let atime_only = [
        libc::timespec {
            tv_sec: 2_000_000,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    ];
    // SAFETY: valid path and a two-element timespec array.
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c(&f).as_ptr(), atime_only.as_ptr(), 0) };
    checks.push(("utimensat atime only", last_errno(rc)));
    // chown to the owner it already has: still refused on a read-only fs
    // SAFETY: geteuid/getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    checks.push((
        "chown same owner",
        err(std::os::unix::fs::chown(&f, Some(uid), Some(gid))),
    ));
    let bad: Vec<String> = checks
        .iter()
        .filter(|(_, e)| *e != EROFS)
        .map(|(n, e)| format!("{n}: errno {e}"))
        .collect();
    assert!(
        bad.is_empty(),
        "expected EROFS (30) from every write: {bad:#?}"
    );

    // write(2) needs a writable descriptor, which open refuses; on a
    // read-only descriptor it fails and the bytes stay.
    let mut ro = fs::File::open(&f).unwrap();
    assert_eq!(err(ro.write(b"x")), libc::EBADF);
    assert_eq!(err(ro.set_len(0)), libc::EINVAL);
    let mut s = String::new();
    ro.read_to_string(&mut s).unwrap();
    assert_eq!(s, "original\n");
    assert!(!new.exists());
    checks.iter().map(|(n, _)| *n).collect()
}

async fn check(mode: MountMode, opts: FuseOptions) {
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/f.txt", "original\n").unwrap();
    ram.insert_file("/d/g.txt", "inner\n").unwrap();
    ram.insert_dir("/empty").unwrap();
    let ws = Workspace::builder()
        .mount("/data", ram, mode)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = mount(&ws, dir.path(), opts).await.unwrap();
    let data = dir.path().join("data");
    let ws2 = ws.clone();
    tokio::task::spawn_blocking(move || {
        let before = tree(&data);
        assert_eq!(before.len(), 4, "{before:?}");
        let n = every_write_fails(&data);
        assert!(n.len() >= 25);
        let after = tree(&data);
        assert_eq!(before, after, "the tree is intact");
        // and the workspace itself agrees
        let rt = tokio::runtime::Handle::current();
        let out = rt
            .block_on(ws2.execute("default", "cat /data/f.txt /data/d/g.txt; ls /data", None))
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "original\ninner\nd\nempty\nf.txt\n"
        );
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_mode_mount_refuses_every_write_with_erofs() {
    if let Err(why) = fuse_available() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    check(MountMode::Read, FuseOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_only_fuse_option_refuses_every_write_with_erofs() {
    if let Err(why) = fuse_available() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    check(
        MountMode::Write,
        FuseOptions {
            read_only: true,
            ..FuseOptions::default()
        },
    )
    .await;
}
