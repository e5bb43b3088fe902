#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end through the real binaries: `mirage daemon run` on a free
//! loopback port (HOME, and so `~/.mirage`, in a scratch directory), driven
//! by the stateless CLI (`MIRAGE_DAEMON_URL`): a workspace from YAML (a RAM
//! mount and a read-only disk mount of a scratch directory), lines in two
//! sessions whose cwd and env stay apart, a background job waited for,
//! `sleep 100` cancelled within 100 ms, a snapshot, delete, load, the
//! loaded workspace answering the same, a write to the read-only mount
//! refused, and `mirage daemon stop` with the process gone.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{COMMAND_LIMIT, Daemon, Out, Scratch, ok, run};
use serde_json::Value;

/// The cancel of a running line must end it within this (issue 7).
const CANCEL_LIMIT: Duration = Duration::from_millis(100);

struct World {
    scratch: Scratch,
    url: String,
}

impl World {
    fn new() -> (World, u16) {
        let port = common::free_port();
        let w = World {
            scratch: Scratch::new(),
            url: format!("http://127.0.0.1:{port}"),
        };
        (w, port)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mirage"));
        c.args(args);
        common::clean_env(&mut c, &self.scratch.home(), &self.url);
        c.current_dir(self.scratch.path());
        c
    }

    /// `mirage ARGS`.
    fn m(&self, args: &[&str]) -> Out {
        run(&mut self.cmd(args), None, COMMAND_LIMIT)
    }

    /// `mirage ARGS --json`, parsed.
    fn mj(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        ok(self.m(&a)).json()
    }

    /// `mirage execute -w WS [-s S] -c LINE`.
    fn ex(&self, ws: &str, session: Option<&str>, line: &str) -> Out {
        let mut args = vec!["execute", "-w", ws];
        if let Some(s) = session {
            args.extend(["-s", s]);
        }
        args.extend(["-c", line]);
        self.m(&args)
    }

    fn start_daemon(&self, port: u16) -> Daemon {
        let cmd = self.cmd(&["daemon", "run"]);
        Daemon::start(
            cmd,
            port,
            self.scratch.path().join("daemon.log"),
            Duration::from_secs(30),
        )
    }
}

/// The workspace YAML in the seed's spelling (`resource:`; the Python test
/// uses the model product's `vfs:`).
fn yaml(disk: &std::path::Path) -> String {
    common::workspace_yaml(disk).replace("vfs:", "resource:")
}

/// Runs `line` in the foreground (`mirage execute`), cancels it with
/// `cancel` once it runs, and returns how long the line took to end after
/// the cancel command started, with the foreground command's output.
fn cancel_foreground(w: &World, ws: &str, session: &str, cancel: &[&str]) -> (Duration, Out) {
    let mut fg = w.cmd(&["execute", "-w", ws, "-s", session, "-c", "sleep 100"]);
    fg.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = fg.spawn().unwrap();
    // running once the daemon lists it as a running job of the session
    let start = Instant::now();
    loop {
        let jobs = w.mj(&["job", "list", "-w", ws]);
        let running = jobs.as_array().into_iter().flatten().any(|j| {
            j["session_id"] == session && j["status"] == "running" && j["command"] == "sleep 100"
        });
        if running {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the line ended before it was cancelled"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the line never showed as running: {jobs:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = w.cmd(cancel);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let t0 = Instant::now();
    let mut canceller = c.spawn().unwrap();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("`sleep 100` still runs 20 s after {cancel:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let took = t0.elapsed();
    eprintln!("{cancel:?}: the line ended {took:?} after the cancel command started");
    assert!(canceller.wait().unwrap().success(), "{cancel:?} failed");
    let out = child.wait_with_output().unwrap();
    let out = Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    };
    (took, out)
}

#[test]
fn daemon_end_to_end() {
    let (w, port) = World::new();
    let disk = w.scratch.path().join("disk");
    w.scratch.write("disk/hello.txt", b"disk content\n");
    let cfg = w.scratch.write("ws.yaml", yaml(&disk).as_bytes());
    let mut daemon = w.start_daemon(port);

    // --- a workspace from YAML
    let created = w.mj(&["workspace", "create", cfg.to_str().unwrap(), "--id", "w1"]);
    assert_eq!(created["id"], "w1", "{created:#}");
    let listed = w.mj(&["workspace", "list"]);
    assert!(
        listed.as_array().unwrap().iter().any(|x| x["id"] == "w1"),
        "{listed:#}"
    );

    // --- two sessions whose cwd and env stay apart
    ok(w.m(&[
        "session", "create", "w1", "--id", "s1", "--cwd", "/data", "--env", "X=one",
    ]));
    ok(w.m(&[
        "session", "create", "w1", "--id", "s2", "--cwd", "/disk", "--env", "X=two",
    ]));
    let out = ok(w.ex("w1", Some("s1"), "pwd; echo $X"));
    assert_eq!(out.stdout, "/data\none\n");
    let out = ok(w.ex("w1", Some("s2"), "pwd; echo $X; cat hello.txt"));
    assert_eq!(out.stdout, "/disk\ntwo\ndisk content\n");
    ok(w.ex(
        "w1",
        Some("s1"),
        "mkdir -p a && cd a && echo hi > f.txt && export Y=set-in-s1",
    ));
    let out = ok(w.ex("w1", Some("s1"), "pwd; echo $X $Y; cat f.txt"));
    assert_eq!(out.stdout, "/data/a\none set-in-s1\nhi\n");
    let out = ok(w.ex("w1", Some("s2"), "pwd; echo $X ${Y-unset}"));
    assert_eq!(
        out.stdout, "/disk\ntwo unset\n",
        "s1's cd and export stay in s1"
    );
    // the PATCH of a session's cwd and env
    ok(w.m(&[
        "session", "patch", "w1", "s2", "--cwd", "/", "--env", "Z=zed",
    ]));
    let out = ok(w.ex("w1", Some("s2"), "pwd; echo $X $Z"));
    assert_eq!(out.stdout, "/\ntwo zed\n");
    ok(w.m(&["session", "patch", "w1", "s2", "--cwd", "/disk"]));

    // --- output streams apart, the line's exit code is the CLI's
    let out = w.ex("w1", None, "echo out; echo err >&2; exit 3");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out\n", "err\n"),
        "{out:#?}"
    );
    let mut piped = w.cmd(&["execute", "-w", "w1", "-c", "tr a-z A-Z"]);
    let out = ok(run(&mut piped, Some(b"piped input\n"), COMMAND_LIMIT));
    assert_eq!(out.stdout, "PIPED INPUT\n", "stdin reaches the line");

    // --- a write to the read-only mount is refused
    let out = w.ex("w1", Some("s2"), "echo x > /disk/new.txt");
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(out.stderr.contains("Read-only file system"), "{out:#?}");
    assert!(!disk.join("new.txt").exists(), "the write reached the disk");

    // --- a background job, waited for
    let out = ok(w.m(&[
        "execute",
        "--bg",
        "-w",
        "w1",
        "-s",
        "s1",
        "-c",
        "sleep 0.3; echo bgdone; exit 4",
    ]));
    let job = out.stdout.trim().to_string();
    assert!(
        !job.is_empty() && !job.contains('\n'),
        "--bg prints the job id: {out:#?}"
    );
    let waited = w.m(&["job", "wait", &job]);
    assert_eq!(
        waited.code, 4,
        "job wait exits with the line's code: {waited:#?}"
    );
    assert_eq!(waited.stdout, "bgdone\n", "{waited:#?}");
    // `job get` exits with the line's code too, as the model product's does
    let got = w.m(&["job", "get", &job, "--json"]);
    assert_eq!(got.code, 4, "{got:#?}");
    let got = got.json();
    assert_eq!(got["status"], "done", "{got:#}");
    assert_eq!(got["result"]["exit_code"], 4, "{got:#}");

    // --- `sleep 100` cancelled: by the session's cancel, by the
    // workspace's, and a background job by its id
    let (took, out) = cancel_foreground(&w, "w1", "s2", &["session", "cancel", "w1", "s2"]);
    assert!(
        took < CANCEL_LIMIT,
        "the cancelled line ended {took:?} after the cancel call: {out:#?}"
    );
    assert_ne!(out.code, 0, "a cancelled line does not succeed: {out:#?}");
    let (took, out) = cancel_foreground(&w, "w1", "s2", &["workspace", "cancel", "w1"]);
    assert!(
        took < CANCEL_LIMIT,
        "the cancelled line ended {took:?} after the cancel call: {out:#?}"
    );
    let out = ok(w.m(&["execute", "--bg", "-w", "w1", "-c", "sleep 100"]));
    let job = out.stdout.trim().to_string();
    let t0 = Instant::now();
    ok(w.m(&["job", "cancel", &job]));
    let waited = w.m(&["job", "wait", &job, "--timeout", "10"]);
    assert!(t0.elapsed() < Duration::from_secs(5), "{waited:#?}");
    assert_ne!(waited.code, 0, "{waited:#?}");
    let got = w.m(&["job", "get", &job, "--json"]).json();
    assert_eq!(got["status"], "canceled", "{got:#}");
    // the session still works after its line was cancelled
    let out = ok(w.ex("w1", Some("s2"), "pwd; echo $X"));
    assert_eq!(out.stdout, "/disk\ntwo\n");

    // --- snapshot, delete, load (under the deleted workspace's id)
    let snap = w.scratch.path().join("snap.tar");
    let snap_s = snap.to_str().unwrap();
    ok(w.m(&["workspace", "snapshot", "w1", snap_s]));
    assert!(common::is_tar(&std::fs::read(&snap).unwrap()), "not a tar");
    ok(w.m(&["workspace", "delete", "w1"]));
    let gone = w.ex("w1", None, "echo hi");
    assert_ne!(gone.code, 0, "{gone:#?}");
    assert!(gone.stdout.is_empty(), "{gone:#?}");
    // without --id the daemon picks a fresh id, as the model product's does
    let loaded = w.mj(&["workspace", "load", snap_s, "--id", "w1"]);
    assert_eq!(loaded["id"], "w1", "{loaded:#}");

    // --- the loaded workspace answers the same
    let out = ok(w.ex("w1", Some("s1"), "pwd; echo $X $Y; cat f.txt"));
    assert_eq!(out.stdout, "/data/a\none set-in-s1\nhi\n");
    let out = ok(w.ex(
        "w1",
        Some("s2"),
        "pwd; echo $X $Z ${Y-unset}; cat hello.txt",
    ));
    assert_eq!(out.stdout, "/disk\ntwo zed unset\ndisk content\n");
    let out = w.ex("w1", Some("s2"), "echo x > /disk/new.txt");
    assert_ne!(out.code, 0, "the loaded /disk is still read-only: {out:#?}");
    assert!(out.stderr.contains("Read-only file system"), "{out:#?}");
    assert!(!disk.join("new.txt").exists());

    // --- shutdown, and the process is gone
    ok(w.m(&["daemon", "stop"]));
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "the daemon still runs after `mirage daemon stop`; its log:\n{}",
        daemon.log_text()
    );
    assert!(!common::listening(port), "the port still answers");
    let out = w.m(&["daemon", "status"]);
    assert_eq!(out.code, 1, "no daemon answers now: {out:#?}");
}

/// Kills a daemon the CLI spawned (not our child) by its pid if the test
/// ends while it still runs.
struct SpawnedDaemon(Option<u32>);

impl Drop for SpawnedDaemon {
    fn drop(&mut self) {
        if let Some(pid) = self.0
            && common::rss_kb(pid).is_some()
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// `mirage workspace create` starts a daemon when none answers; the daemon
/// exits `idle_grace_seconds` (here 1, from `~/.mirage/config.toml`) after
/// its last workspace is deleted.
#[test]
fn create_spawns_the_daemon_which_exits_when_idle() {
    let (w, port) = World::new();
    w.scratch.write(
        "home/.mirage/config.toml",
        b"[daemon]\nidle_grace_seconds = 1\n",
    );
    let disk = w.scratch.path().join("disk");
    w.scratch.write("disk/hello.txt", b"disk content\n");
    let cfg = w.scratch.write("ws.yaml", yaml(&disk).as_bytes());
    assert!(!common::listening(port));

    let created = w.mj(&["workspace", "create", cfg.to_str().unwrap(), "--id", "solo"]);
    assert_eq!(created["id"], "solo", "{created:#}");
    let status = w.mj(&["daemon", "status"]);
    let pid = status["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no pid in {status:#}")) as u32;
    let guard = SpawnedDaemon(Some(pid));
    let out = ok(w.ex("solo", None, "cat /disk/hello.txt"));
    assert_eq!(out.stdout, "disk content\n");

    // still up while a workspace exists, even past the grace
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        common::health_ok(port),
        "the daemon left with a workspace open"
    );
    ok(w.m(&["workspace", "delete", "solo"]));
    let start = Instant::now();
    while common::rss_kb(pid).is_some() && start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let gone_after = start.elapsed();
    assert!(
        common::rss_kb(pid).is_none() || is_zombie(pid),
        "the daemon (pid {pid}) still runs {gone_after:?} after its last workspace was deleted"
    );
    assert!(
        gone_after >= Duration::from_millis(500),
        "the daemon left {gone_after:?} after the delete, before its 1 s grace"
    );
    assert!(!common::listening(port));
    drop(guard);
}

/// Whether the process is a zombie (exited, not yet reaped by its parent).
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// With `persist_dir` (here from `~/.mirage/config.toml`), a stopped
/// daemon's workspaces, RAM contents and sessions come back when a new
/// daemon starts.
#[test]
fn persist_dir_keeps_workspaces_across_a_restart() {
    let (w, port) = World::new();
    let persist = w.scratch.path().join("persist");
    w.scratch.write(
        "home/.mirage/config.toml",
        format!("[daemon]\npersist_dir = \"{}\"\n", persist.display()).as_bytes(),
    );
    let disk = w.scratch.path().join("disk");
    w.scratch.write("disk/hello.txt", b"disk content\n");
    let cfg = w.scratch.write("ws.yaml", yaml(&disk).as_bytes());

    let mut daemon = w.start_daemon(port);
    ok(w.m(&["workspace", "create", cfg.to_str().unwrap(), "--id", "kept"]));
    ok(w.m(&[
        "session", "create", "kept", "--id", "s1", "--cwd", "/data", "--env", "X=one",
    ]));
    ok(w.ex(
        "kept",
        Some("s1"),
        "mkdir -p a && cd a && echo persisted > f.txt && export Y=two",
    ));
    ok(w.m(&["daemon", "stop"]));
    assert!(
        daemon.wait_exit(Duration::from_secs(10)).is_some(),
        "the daemon did not stop; its log:\n{}",
        daemon.log_text()
    );
    drop(daemon);

    let _daemon = w.start_daemon(port);
    let listed = w.mj(&["workspace", "list"]);
    assert!(
        listed.as_array().unwrap().iter().any(|x| x["id"] == "kept"),
        "{listed:#}"
    );
    let out = ok(w.ex(
        "kept",
        Some("s1"),
        "pwd; echo $X $Y; cat f.txt /disk/hello.txt",
    ));
    assert_eq!(out.stdout, "/data/a\none two\npersisted\ndisk content\n");
    let out = w.ex("kept", Some("s1"), "echo x > /disk/new.txt");
    assert_ne!(out.code, 0, "/disk is still read-only: {out:#?}");
    ok(w.m(&["daemon", "stop"]));
}
