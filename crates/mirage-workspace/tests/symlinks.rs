#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Symlinks through the whole stack (shell, commands, router, disk): they
//! behave as on Linux and never destroy what they point to. Links are made
//! on the host (there is no `ln` yet) inside a tempdir mounted as `/d`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mirage_resource_disk::DiskResource;
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

struct Fx {
    tmp: tempfile::TempDir,
    ws: Workspace,
}

impl Fx {
    /// tempdir/{root/ (mounted at /d, writable), outside/secret}; RAM at /r.
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("root")).unwrap();
        std::fs::create_dir(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/secret"), "secret\n").unwrap();
        let disk = Arc::new(DiskResource::open(&tmp.path().join("root")).unwrap());
        let ws = Workspace::builder()
            .mount("/d", disk, MountMode::Write)
            .mount("/r", Arc::new(RamResource::new()), MountMode::Write)
            .cwd("/d")
            .build()
            .unwrap();
        Fx { tmp, ws }
    }
    fn host(&self, p: &str) -> PathBuf {
        self.tmp.path().join("root").join(p)
    }
    fn file(&self, p: &str, content: &str) {
        let h = self.host(p);
        std::fs::create_dir_all(h.parent().unwrap()).unwrap();
        std::fs::write(h, content).unwrap();
    }
    fn dir(&self, p: &str) {
        std::fs::create_dir_all(self.host(p)).unwrap();
    }
    fn link(&self, target: impl AsRef<Path>, p: &str) {
        symlink(target, self.host(p)).unwrap();
    }
    fn read(&self, p: &str) -> String {
        std::fs::read_to_string(self.host(p)).unwrap()
    }
    fn is_link(&self, p: &str) -> bool {
        std::fs::symlink_metadata(self.host(p))
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
    }
    fn exists(&self, p: &str) -> bool {
        std::fs::symlink_metadata(self.host(p)).is_ok()
    }
    fn outside_intact(&self) {
        assert_eq!(
            std::fs::read_to_string(self.tmp.path().join("outside/secret")).unwrap(),
            "secret\n"
        );
    }
    async fn run(&self, line: &str) -> (String, String, i32) {
        let o = self.ws.execute("default", line, None).await.unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.exit_code,
        )
    }
}

/// `keep/{k1,sub/k2}`, `d/a/link -> ../../keep`, `d/a/f`.
fn keep_tree(fx: &Fx) {
    fx.file("keep/k1", "one\n");
    fx.file("keep/sub/k2", "two\n");
    fx.file("d/a/f", "f\n");
    fx.link("../../keep", "d/a/link");
}

fn keep_intact(fx: &Fx) {
    assert_eq!(fx.read("keep/k1"), "one\n");
    assert_eq!(fx.read("keep/sub/k2"), "two\n");
}

#[tokio::test]
async fn rm_r_removes_links_and_keeps_their_targets() {
    let fx = Fx::new();
    keep_tree(&fx);
    let (_, err, code) = fx.run("rm -rf d/a").await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(!fx.exists("d/a"));
    keep_intact(&fx);
    // A link operand to a directory: removed as a link, with or without -r.
    fx.link("keep", "kl");
    assert_eq!(fx.run("rm kl").await.2, 0);
    assert!(!fx.exists("kl"));
    fx.link("keep", "kl");
    assert_eq!(fx.run("rm -r kl").await.2, 0);
    assert!(!fx.exists("kl"));
    keep_intact(&fx);
}

#[tokio::test]
async fn find_delete_removes_links_not_targets() {
    let fx = Fx::new();
    keep_tree(&fx);
    let (_, err, code) = fx.run("find d -delete").await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(!fx.exists("d"));
    keep_intact(&fx);
}

#[tokio::test]
async fn mv_across_mounts_never_deletes_through_a_link() {
    let fx = Fx::new();
    keep_tree(&fx);
    fx.file("d/a/g", "g\n");
    fx.link("g", "d/a/glink");
    // RAM keeps links too: both links come across as links, with their
    // targets as stored, and nothing they point to is touched.
    let (out, err, code) = fx
        .run("mv d/a /r/a && readlink /r/a/link /r/a/glink && test -L /r/a/link && cat /r/a/glink")
        .await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert_eq!(out, "../../keep\ng\ng\n");
    assert!(!fx.exists("d/a"));
    // Back to disk: a disk-to-disk move across mounts copies links as links.
    keep_intact(&fx);
}

#[tokio::test]
async fn mv_across_disk_mounts_copies_links_as_links() {
    let fx = Fx::new();
    keep_tree(&fx);
    let other = tempfile::tempdir().unwrap();
    let ws = Workspace::builder()
        .mount(
            "/d",
            Arc::new(DiskResource::open(&fx.host("")).unwrap()),
            MountMode::Write,
        )
        .mount(
            "/e",
            Arc::new(DiskResource::open(other.path()).unwrap()),
            MountMode::Write,
        )
        .cwd("/d")
        .build()
        .unwrap();
    let o = ws.execute("default", "mv d/a /e/a", None).await.unwrap();
    assert_eq!(o.exit_code, 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!fx.exists("d/a"));
    keep_intact(&fx);
    let moved = other.path().join("a/link");
    assert_eq!(std::fs::read_link(moved).unwrap(), Path::new("../../keep"));
}

#[tokio::test]
async fn walkers_do_not_follow_links_by_default() {
    let fx = Fx::new();
    keep_tree(&fx);
    assert_eq!(fx.run("find d").await.0, "d\nd/a\nd/a/f\nd/a/link\n");
    assert_eq!(fx.run("find d -type l").await.0, "d/a/link\n");
    assert_eq!(
        fx.run("find -L d -type f").await.0,
        "d/a/f\nd/a/link/k1\nd/a/link/sub/k2\n"
    );
    assert_eq!(
        fx.run("find -H d/a/link -type f").await.0,
        "d/a/link/k1\nd/a/link/sub/k2\n"
    );
    assert_eq!(fx.run("find d/a/link").await.0, "d/a/link\n");
    let (out, _, code) = fx.run("grep -r one d").await;
    assert_eq!((out.as_str(), code), ("", 1));
    let (out, _, code) = fx.run("grep -R one d").await;
    assert_eq!((out.as_str(), code), ("d/a/link/k1:one\n", 0));
    assert_eq!(fx.run("ls -R d").await.0, "d:\na\n\nd/a:\nf\nlink\n");
    let (out, _, _) = fx.run("ls -l d/a").await;
    assert!(out.contains(" link -> ../../keep\n"), "{out}");
    assert!(out.starts_with("total "), "{out}");
    // The shell's tests still follow.
    assert_eq!(
        fx.run("[ -d d/a/link ] && [ -L d/a/link ] && cat d/a/link/k1")
            .await
            .0,
        "one\n"
    );
}

#[tokio::test]
async fn cp_copies_links_as_links_unless_told() {
    let fx = Fx::new();
    keep_tree(&fx);
    let (_, err, code) = fx.run("cp -r d/a c1").await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(fx.is_link("c1/link"));
    assert_eq!(
        std::fs::read_link(fx.host("c1/link")).unwrap(),
        Path::new("../../keep")
    );
    let (_, err, code) = fx.run("cp -rL d/a c2").await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(!fx.is_link("c2/link"));
    assert_eq!(fx.read("c2/link/sub/k2"), "two\n");
    // Without -r an operand link is followed: its file is copied.
    fx.link("keep/k1", "k1link");
    assert_eq!(fx.run("cp k1link plain").await.2, 0);
    assert!(!fx.is_link("plain"));
    assert_eq!(fx.read("plain"), "one\n");
    assert_eq!(fx.run("cp -P k1link alsolink").await.2, 0);
    assert!(fx.is_link("alsolink"));
    keep_intact(&fx);
}

#[tokio::test]
async fn loops_are_detected_and_fast() {
    let fx = Fx::new();
    fx.file("l/f", "needle\n");
    fx.link(".", "l/self");
    fx.link(".", "l/again");
    fx.dir("l/sub");
    fx.link("..", "l/sub/up");
    fx.link("loopy", "l/loopy");
    let t = Instant::now();
    let (out, _, code) = fx.run("find l").await;
    assert_eq!(
        (out.as_str(), code),
        ("l\nl/again\nl/f\nl/loopy\nl/self\nl/sub\nl/sub/up\n", 0)
    );
    let (out, err, code) = fx.run("find -L l").await;
    assert_eq!((out.as_str(), code), ("l\nl/f\nl/sub\n", 1));
    assert!(
        err.contains("find: File system loop detected; \u{2018}l/self\u{2019} is part of the same file system loop as \u{2018}l\u{2019}.\n"),
        "{err}"
    );
    assert!(
        err.contains("find: \u{2018}l/loopy\u{2019}: Too many levels of symbolic links\n"),
        "{err}"
    );
    let (out, err, code) = fx.run("grep -R needle l").await;
    assert_eq!((out.as_str(), code), ("l/f:needle\n", 2));
    assert!(
        err.contains("grep: l/self: warning: recursive directory loop\n"),
        "{err}"
    );
    assert!(
        err.contains("grep: l/loopy: Too many levels of symbolic links\n"),
        "{err}"
    );
    let (_, err, code) = fx.run("cp -rL l c").await;
    assert_eq!(code, 1);
    assert!(
        err.contains("cp: cannot copy cyclic symbolic link 'l/self'"),
        "{err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "loops made the walk slow"
    );
    // A loop is ELOOP, not a permission error.
    let (_, err, code) = fx.run("cat l/loopy; echo x > l/loopy").await;
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "cat: l/loopy: Too many levels of symbolic links\nmirage: l/loopy: Too many levels of symbolic links\n"
            .replace("mirage: ", &err_prefix(&err))
    );
}

/// The shell's prefix for a redirect error (whatever the shell names itself).
fn err_prefix(err: &str) -> String {
    let second = err.lines().nth(1).unwrap_or("");
    second.split("l/loopy").next().unwrap_or("").to_string()
}

#[tokio::test]
async fn writing_through_a_link_writes_the_target() {
    let fx = Fx::new();
    fx.file("t/file", "old\n");
    fx.link("t/file", "link");
    let (_, err, code) = fx.run("echo NEW > link; echo more >> link; cat link").await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(fx.is_link("link"));
    assert_eq!(fx.read("t/file"), "NEW\nmore\n");
    // A link leading out of the root: following is refused, the link stays;
    // removing and moving it works.
    fx.link("../outside/secret", "out");
    let (_, _, code) = fx.run("echo pwned > out").await;
    assert_ne!(code, 0);
    assert!(fx.is_link("out"));
    fx.outside_intact();
    let (_, err, code) = fx.run("mv out out2 && rm out2").await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(!fx.exists("out") && !fx.exists("out2"));
    fx.outside_intact();
}

#[tokio::test]
async fn process_substitution_does_not_hide_links() {
    // A command with a `<(…)` operand sees the VFS through an overlay; the
    // overlay must pass the link operations on, or links look like files.
    let fx = Fx::new();
    fx.file("a.txt", "a\n");
    fx.link("a.txt", "l");
    let (out, err, code) = fx.run("ls -l l <(true) | grep -c ' l -> a.txt'").await;
    assert_eq!((out.as_str(), code), ("1\n", 0), "{err}");
    let (out, _, _) = fx.run("rm l <(true) 2>/dev/null; cat a.txt").await;
    assert_eq!(out, "a\n");
    assert!(!fx.exists("l"));
}
