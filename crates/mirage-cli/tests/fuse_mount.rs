#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! FUSE through the real `mirage` binary (issue 9): `mirage mount` in the
//! foreground (read and write through the mount point with std::fs,
//! SIGTERM unmounts with exit 0, `--read-only` refuses writes with EROFS,
//! a mount left by `kill -9` is cleaned by the next `mirage mount`, clear
//! errors with exit 1/2), and the daemon's FUSE mounts (`backend: fuse`
//! and `mountpoint:` in a workspace config, `workspace unmount`,
//! `workspace mount` of a running workspace, unmounted at delete and at
//! daemon stop). Every test prints `SKIPPED:` and returns when /dev/fuse
//! cannot be opened.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{COMMAND_LIMIT, Daemon, Out, Scratch, ok, run};

/// How long a mount may take to come up or go away.
const MOUNT_LIMIT: Duration = Duration::from_secs(30);

/// Whether FUSE can run here; prints why not.
fn fuse_ok(test: &str) -> bool {
    match mirage_fuse::fuse_available() {
        Ok(()) => true,
        Err(why) => {
            println!("SKIPPED: {test}: {why}");
            false
        }
    }
}

/// The mount points in /proc/self/mountinfo (field 5, octal escapes
/// undone for the space, tab, newline and backslash the kernel escapes).
fn mount_points() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            p.replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\")
        })
        .collect()
}

fn is_mounted(dir: &Path) -> bool {
    let d = dir.to_string_lossy();
    mount_points().iter().any(|m| *m == d)
}

/// Waits up to [`MOUNT_LIMIT`] for `dir` to be (or stop being) a mount point.
fn wait_mounted(dir: &Path, want: bool) {
    let start = Instant::now();
    while is_mounted(dir) != want {
        assert!(
            start.elapsed() < MOUNT_LIMIT,
            "{} still {} after {MOUNT_LIMIT:?}",
            dir.display(),
            if want { "not mounted" } else { "mounted" }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Detaches whatever is still mounted on the directories when dropped, so
/// a failing test never leaves a mount behind.
struct Unmounter(Vec<PathBuf>);

impl Drop for Unmounter {
    fn drop(&mut self) {
        for d in &self.0 {
            if is_mounted(d) {
                let _ = Command::new("umount").arg("-l").arg(d).status();
            }
        }
    }
}

/// A scratch directory (canonical: the kernel's mount table shows the
/// resolved path) with a workspace config and mount point directories.
struct World {
    scratch: Scratch,
    root: PathBuf,
    url: String,
}

impl World {
    fn new() -> World {
        let scratch = Scratch::new();
        let root = std::fs::canonicalize(scratch.path()).unwrap();
        World {
            scratch,
            root,
            url: format!("http://127.0.0.1:{}", common::free_port()),
        }
    }

    /// A fresh empty directory `name` under the scratch dir.
    fn dir(&self, name: &str) -> PathBuf {
        let d = self.root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mirage"));
        c.args(args);
        common::clean_env(&mut c, &self.scratch.home(), &self.url);
        c.current_dir(&self.root);
        c
    }

    fn m(&self, args: &[&str]) -> Out {
        run(&mut self.cmd(args), None, COMMAND_LIMIT)
    }
}

/// A running `mirage mount`: its first stdout line has been read.
struct Mounted {
    child: Child,
    line: String,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `mirage ARGS` and waits for its "mounted at" line (panics with
/// its stderr when it exits first).
fn start_mount(w: &World, args: &[&str]) -> Mounted {
    let (child, mut lines) = start_mount_lines(w, args, 1);
    Mounted {
        child,
        line: lines.remove(0),
    }
}

/// Starts `mirage ARGS` and waits for its first `n` stdout lines (panics
/// with its stderr when it exits first).
fn start_mount_lines(w: &World, args: &[&str], n: usize) -> (Child, Vec<String>) {
    let mut c = w.cmd(args);
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        for _ in 0..n {
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        let line = rx.recv_timeout(MOUNT_LIMIT).unwrap_or_default();
        if line.is_empty() {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "mirage {args:?} printed {} of {n} mount lines; stderr: {}",
                lines.len(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        lines.push(line);
    }
    (child, lines)
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Waits for the process to exit; its exit code.
fn wait_exit(m: &mut Mounted) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(st) = m.child.try_wait().unwrap() {
            return st.code();
        }
        assert!(
            start.elapsed() < MOUNT_LIMIT,
            "mirage mount did not exit within {MOUNT_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

const WS_YAML: &str = "mounts:\n  /data:\n    resource: ram\n    mode: write\n  /ro:\n    resource: ram\n    mode: read\n";

#[test]
fn mount_reads_writes_and_sigterm_unmounts() {
    if !fuse_ok("mount_reads_writes_and_sigterm_unmounts") {
        return;
    }
    let w = World::new();
    std::fs::write(w.root.join("ws.yaml"), WS_YAML).unwrap();
    let mp = w.dir("mnt");
    let _guard = Unmounter(vec![mp.clone()]);
    let mut m = start_mount(&w, &["mount", "--config", "ws.yaml", "mnt"]);
    assert!(
        m.line.contains(&format!("mounted at {}", mp.display())) && m.line.contains("kill"),
        "{}",
        m.line
    );
    assert!(is_mounted(&mp), "{} not in mountinfo", mp.display());
    let mut names: Vec<String> = std::fs::read_dir(&mp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.contains(&"data".to_string()) && names.contains(&"ro".to_string()),
        "{names:?}"
    );
    // write, read back, write at an offset, rename, list
    let f = mp.join("data/a.txt");
    std::fs::write(&f, b"hello fuse\n").unwrap();
    assert_eq!(std::fs::read(&f).unwrap(), b"hello fuse\n");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut h = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        h.seek(SeekFrom::Start(6)).unwrap();
        h.write_all(b"FUSE").unwrap();
    }
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "hello FUSE\n");
    std::fs::rename(&f, mp.join("data/b.txt")).unwrap();
    assert!(!f.exists());
    assert_eq!(
        std::fs::read_to_string(mp.join("data/b.txt")).unwrap(),
        "hello FUSE\n"
    );
    // the read mount refuses, through the router
    let e = std::fs::write(mp.join("ro/x"), b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(30), "EROFS expected: {e}");
    // SIGTERM: unmounted, exit 0
    signal(m.child.id(), "-TERM");
    assert_eq!(wait_exit(&mut m), Some(0));
    assert!(!is_mounted(&mp), "{} still mounted", mp.display());
    assert!(!mp.join("data").exists());
}

#[test]
fn read_only_and_root_subtree() {
    if !fuse_ok("read_only_and_root_subtree") {
        return;
    }
    let w = World::new();
    let disk = w.dir("disk");
    std::fs::write(disk.join("f.txt"), b"on disk\n").unwrap();
    let yaml = format!(
        "mounts:\n  /data:\n    resource: disk\n    mode: write\n    config:\n      root: {}\n",
        disk.display()
    );
    std::fs::write(w.root.join("ws.yaml"), yaml).unwrap();
    let mp = w.dir("mnt");
    let _guard = Unmounter(vec![mp.clone()]);
    let mut m = start_mount(
        &w,
        &[
            "mount",
            "--config",
            "ws.yaml",
            "--root",
            "/data",
            "--read-only",
            "mnt",
        ],
    );
    assert!(m.line.contains("read-only"), "{}", m.line);
    // the subtree is the root of the mount
    assert_eq!(
        std::fs::read_to_string(mp.join("f.txt")).unwrap(),
        "on disk\n"
    );
    let e = std::fs::write(mp.join("f.txt"), b"changed").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(30), "{e}");
    let e = std::fs::remove_file(mp.join("f.txt")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(30), "{e}");
    let e = std::fs::create_dir(mp.join("d")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(30), "{e}");
    assert_eq!(
        std::fs::read_to_string(disk.join("f.txt")).unwrap(),
        "on disk\n"
    );
    // Ctrl-C unmounts as SIGTERM does
    signal(m.child.id(), "-INT");
    assert_eq!(wait_exit(&mut m), Some(0));
    assert!(!is_mounted(&mp));
}

#[test]
fn a_mount_left_by_kill_9_is_cleaned_by_the_next() {
    if !fuse_ok("a_mount_left_by_kill_9_is_cleaned_by_the_next") {
        return;
    }
    let w = World::new();
    std::fs::write(w.root.join("ws.yaml"), WS_YAML).unwrap();
    let mp = w.dir("mnt");
    let _guard = Unmounter(vec![mp.clone()]);
    let mut first = start_mount(&w, &["mount", "--config", "ws.yaml", "mnt"]);
    std::fs::write(mp.join("data/a"), b"1").unwrap();
    signal(first.child.id(), "-KILL");
    let _ = first.child.wait();
    // the kernel keeps the dead mount: "Transport endpoint is not connected"
    let e = std::fs::metadata(&mp).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(107), "ENOTCONN expected: {e}");
    assert!(is_mounted(&mp));
    let mut second = start_mount(&w, &["mount", "--config", "ws.yaml", "mnt"]);
    assert!(std::fs::metadata(&mp).unwrap().is_dir());
    // a fresh workspace: the first one's file is gone, the tree is there
    assert!(mp.join("data").is_dir());
    assert!(!mp.join("data/a").exists());
    std::fs::write(mp.join("data/b"), b"2").unwrap();
    assert_eq!(std::fs::read(mp.join("data/b")).unwrap(), b"2");
    let n = mount_points()
        .iter()
        .filter(|p| **p == mp.to_string_lossy())
        .count();
    assert_eq!(n, 1, "one mount at {}", mp.display());
    signal(second.child.id(), "-TERM");
    assert_eq!(wait_exit(&mut second), Some(0));
    assert!(!is_mounted(&mp));
}

#[test]
fn mount_errors_are_one_line() {
    let w = World::new();
    std::fs::write(w.root.join("ws.yaml"), WS_YAML).unwrap();
    std::fs::write(
        w.root.join("bad.yaml"),
        "mounts:\n  /d: {resource: ram, colour: red}\n",
    )
    .unwrap();
    let mp = w.dir("mnt");
    let _guard = Unmounter(vec![mp.clone()]);
    // a bad config: exit 2, naming the key
    let o = w.m(&["mount", "--config", "bad.yaml", "mnt"]);
    assert_eq!(o.code, 2, "{o:#?}");
    // (the config parser's message: its first line names file and key)
    assert!(
        o.stderr.lines().next().unwrap_or("").contains("bad.yaml")
            && o.stderr.lines().next().unwrap_or("").contains("colour"),
        "{o:#?}"
    );
    // a root that is not in the workspace: exit 2
    let o = w.m(&["mount", "--config", "ws.yaml", "--root", "/nope", "mnt"]);
    assert_eq!(o.code, 2, "{o:#?}");
    assert_eq!(
        o.stderr,
        "mirage: --root /nope: No such file or directory\n"
    );
    // a missing mount point (or no FUSE at all): exit 1, one line
    let o = w.m(&["mount", "--config", "ws.yaml", "missing"]);
    assert_eq!(o.code, 1, "{o:#?}");
    assert_eq!(o.stderr.lines().count(), 1, "{o:#?}");
    if mirage_fuse::fuse_available().is_ok() {
        assert!(
            o.stderr.contains("missing: No such file or directory"),
            "{o:#?}"
        );
    } else {
        assert!(o.stderr.contains("/dev/fuse"), "{o:#?}");
    }
    assert!(!is_mounted(&mp));
    // no MOUNTPOINT: a config without `backend: fuse` mounts, or none
    let o = w.m(&["mount", "--config", "ws.yaml"]);
    assert_eq!(o.code, 2, "{o:#?}");
    assert_eq!(
        o.stderr,
        "mirage: ws.yaml: no mount has `backend: fuse`; give a MOUNTPOINT\n"
    );
    let o = w.m(&["mount"]);
    assert_eq!(o.code, 2, "{o:#?}");
    assert_eq!(
        o.stderr,
        "mirage: mount: give a MOUNTPOINT, or --config with mounts on `backend: fuse`\n"
    );
}

/// `mirage mount --config ws.yaml` without a MOUNTPOINT mounts each
/// `backend: fuse` block at its `mountpoint:`, or at a fresh directory it
/// removes again; SIGTERM unmounts them all.
#[test]
fn mount_without_mountpoint_uses_the_configs_fuse_blocks() {
    if !fuse_ok("mount_without_mountpoint_uses_the_configs_fuse_blocks") {
        return;
    }
    let w = World::new();
    let a = w.dir("a");
    let _guard = Unmounter(vec![a.clone()]);
    // a relative mountpoint is from the current directory (the scratch dir)
    let yaml = "mounts:\n  /a: {resource: ram, mode: write, backend: fuse, mountpoint: a}\n  /b: {resource: ram, mode: write, backend: fuse}\n  /c: {resource: ram, mode: write}\n";
    std::fs::write(w.root.join("ws.yaml"), yaml).unwrap();
    let (child, lines) = start_mount_lines(&w, &["mount", "--config", "ws.yaml"], 2);
    let (l1, l2) = (lines[0].clone(), lines[1].clone());
    let mut m = Mounted {
        child,
        line: l1.clone(),
    };
    assert!(
        l1.starts_with(&format!("mirage: /a mounted at {} ", a.display())),
        "{l1}"
    );
    assert!(l2.starts_with("mirage: /b mounted at "), "{l2}");
    let b = PathBuf::from(
        l2.trim_start_matches("mirage: /b mounted at ")
            .split(' ')
            .next()
            .unwrap(),
    );
    let _guard_b = Unmounter(vec![b.clone()]);
    assert!(is_mounted(&a) && is_mounted(&b), "{l1}{l2}");
    // each is rooted at its prefix: /a's files at the top of its directory
    std::fs::write(a.join("x.txt"), "in a\n").unwrap();
    std::fs::write(b.join("y.txt"), "in b\n").unwrap();
    assert_eq!(std::fs::read_to_string(a.join("x.txt")).unwrap(), "in a\n");
    let names: Vec<String> = std::fs::read_dir(&b)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["y.txt"]);
    signal(m.child.id(), "-TERM");
    assert_eq!(wait_exit(&mut m), Some(0));
    assert!(!is_mounted(&a) && !is_mounted(&b));
    assert!(a.exists(), "the configured directory stays");
    assert!(!b.exists(), "the fresh directory is removed");
}

/// The detail's `fuse_mountpoints`.
fn fuse_mountpoints(w: &World, id: &str) -> serde_json::Value {
    ok(w.m(&["workspace", "get", id, "--json"])).json()["fuse_mountpoints"].clone()
}

#[test]
fn daemon_mounts_config_backend_fuse_and_running_workspaces() {
    if !fuse_ok("daemon_mounts_config_backend_fuse_and_running_workspaces") {
        return;
    }
    let w = World::new();
    let port: u16 = w.url.rsplit(':').next().unwrap().parse().unwrap();
    let (mp1, mp2, mp3, mp4) = (w.dir("mp1"), w.dir("mp2"), w.dir("mp3"), w.dir("mp4"));
    let _guard = Unmounter(vec![mp1.clone(), mp2.clone(), mp3.clone(), mp4.clone()]);
    let mut daemon = Daemon::start(
        w.cmd(&["daemon", "run"]),
        port,
        w.root.join("daemon.log"),
        Duration::from_secs(30),
    );
    // a relative mountpoint is taken from the CLI's current directory
    std::fs::write(
        w.root.join("ws.yaml"),
        "mounts:\n  /data:\n    vfs: ram\n    mode: write\n    backend: fuse\n    mountpoint: mp1\n  /other:\n    vfs: ram\n    mode: write\n",
    )
    .unwrap();
    let d = ok(w.m(&["workspace", "create", "ws.yaml", "--id", "fz", "--json"])).json();
    assert_eq!(
        d["fuse_mountpoints"],
        serde_json::json!({"/data": mp1.to_string_lossy()}),
        "{d}"
    );
    assert!(is_mounted(&mp1));
    // a line's write is seen through the mount point at once, and back
    ok(w.m(&["execute", "-w", "fz", "-c", "echo hi > /data/a.txt"]));
    assert_eq!(std::fs::read_to_string(mp1.join("a.txt")).unwrap(), "hi\n");
    std::fs::write(mp1.join("b.txt"), b"from the host\n").unwrap();
    let o = ok(w.m(&["execute", "-w", "fz", "-c", "cat /data/b.txt"]));
    assert_eq!(o.stdout, "from the host\n");
    // the mount's subtree only: /other is not under it
    assert!(!mp1.join("other").exists());
    let text = ok(w.m(&["workspace", "get", "fz"])).stdout;
    assert!(
        text.contains("FUSE mounts:") && text.contains(&*mp1.to_string_lossy()),
        "{text}"
    );

    // unmount: gone from the host, the workspace keeps its files
    let o = ok(w.m(&["workspace", "unmount", "fz", "mp1"]));
    assert!(o.stdout.contains("Unmounted /data"), "{o:#?}");
    assert!(!is_mounted(&mp1));
    assert!(!mp1.join("a.txt").exists());
    assert_eq!(fuse_mountpoints(&w, "fz"), serde_json::json!({}));
    let o = w.m(&["workspace", "unmount", "fz", "mp1"]);
    assert_ne!(o.code, 0, "a second unmount is refused: {o:#?}");
    assert!(o.stderr.contains("no FUSE mount"), "{o:#?}");

    // mount a running workspace: one prefix read-only, and the whole tree
    let o = ok(w.m(&[
        "workspace",
        "mount",
        "fz",
        "mp2",
        "--prefix",
        "/data",
        "--read-only",
    ]));
    assert!(o.stdout.contains("Mounted /data of fz at"), "{o:#?}");
    assert_eq!(std::fs::read_to_string(mp2.join("a.txt")).unwrap(), "hi\n");
    let e = std::fs::write(mp2.join("a.txt"), b"no").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(30), "{e}");
    ok(w.m(&["workspace", "mount", "fz", &mp3.to_string_lossy()]));
    assert_eq!(
        std::fs::read_to_string(mp3.join("data/b.txt")).unwrap(),
        "from the host\n"
    );
    std::fs::write(mp3.join("other/c.txt"), b"c").unwrap();
    let o = ok(w.m(&["execute", "-w", "fz", "-c", "cat /other/c.txt"]));
    assert_eq!(o.stdout, "c");
    assert_eq!(
        fuse_mountpoints(&w, "fz"),
        serde_json::json!({"/": mp3.to_string_lossy(), "/data": mp2.to_string_lossy()})
    );
    // the same prefix twice, or a directory already used: refused
    let o = w.m(&["workspace", "mount", "fz", "mp4", "--prefix", "/data"]);
    assert_ne!(o.code, 0, "{o:#?}");
    assert!(o.stderr.contains("already mounted"), "{o:#?}");
    assert!(!is_mounted(&mp4));

    // delete unmounts them all
    ok(w.m(&["workspace", "delete", "fz"]));
    assert!(!is_mounted(&mp2) && !is_mounted(&mp3));

    // fskit is refused, and nothing is created
    std::fs::write(
        w.root.join("fskit.yaml"),
        "mounts:\n  /data:\n    vfs: ram\n    backend: fskit\n    mountpoint: mp4\n",
    )
    .unwrap();
    let o = w.m(&["workspace", "create", "fskit.yaml", "--id", "fk"]);
    assert_ne!(o.code, 0, "{o:#?}");
    assert!(o.stderr.contains("'fskit' is unsupported"), "{o:#?}");
    assert_ne!(w.m(&["workspace", "get", "fk"]).code, 0);

    // no mountpoint: a fresh directory, removed after the unmount
    std::fs::write(
        w.root.join("tmp.yaml"),
        "mounts:\n  /data:\n    vfs: ram\n    mode: write\n    backend: fuse\n",
    )
    .unwrap();
    let d = ok(w.m(&["workspace", "create", "tmp.yaml", "--id", "ft", "--json"])).json();
    let made = PathBuf::from(d["fuse_mountpoints"]["/data"].as_str().unwrap());
    let _guard2 = Unmounter(vec![made.clone()]);
    assert!(is_mounted(&made), "{d}");
    ok(w.m(&["execute", "-w", "ft", "-c", "echo t > /data/t"]));
    assert_eq!(std::fs::read_to_string(made.join("t")).unwrap(), "t\n");
    ok(w.m(&["workspace", "delete", "ft"]));
    assert!(!is_mounted(&made));
    assert!(!made.exists(), "{} left behind", made.display());

    // daemon stop unmounts what it holds
    std::fs::write(
        w.root.join("ws4.yaml"),
        format!(
            "mounts:\n  /data:\n    vfs: ram\n    mode: write\n    backend: fuse\n    mountpoint: {}\n",
            mp4.display()
        ),
    )
    .unwrap();
    ok(w.m(&["workspace", "create", "ws4.yaml", "--id", "f4"]));
    assert!(is_mounted(&mp4));
    ok(w.m(&["daemon", "stop"]));
    assert!(
        daemon.wait_exit(MOUNT_LIMIT).is_some(),
        "{}",
        daemon.log_text()
    );
    wait_mounted(&mp4, false);
}
