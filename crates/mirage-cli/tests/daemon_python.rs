#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Compatibility with a client we did not write: the model product's own
//! Python CLI (`pip install mirage-ai==0.0.7`) drives OUR daemon
//! (`mirage daemon run`) through the whole scenario of `daemon_e2e.rs` —
//! a workspace from YAML, two sessions whose cwd and env stay apart, piped
//! stdin, exit codes, a read-only mount refusing a write, a background job
//! waited for, `sleep 100` cancelled, VFS calls and glob, snapshot,
//! delete, load, the loaded workspace answering the same, and `mirage
//! daemon stop` — every call with the bearer token (`MIRAGE_TOKEN`), and a
//! call without it refused.
//!
//! The venv is made once under `target/test-venv/mirage-ai-VERSION/`
//! (`python3 -m venv` + pip, about 40 s) and reused by later runs. When
//! pip cannot reach PyPI the test fails saying so, unless
//! `MIRAGE_TEST_ALLOW_NO_PYPI=1`, which makes it skip instead.
//!
//! `MIRAGE_TEST_MODEL_DAEMON=1` runs the same scenario against the model
//! product's own daemon (uvicorn from the venv) instead of ours: a check of
//! the scenario itself against the reference.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::venv::model_venv;
use common::{COMMAND_LIMIT, Daemon, Out, Scratch, ok, run};
use serde_json::Value;

/// Runs the model product's CLI as its `mirage` script does (the script's
/// own shebang names the venv's path before the rename, so it is not used).
const PY_MAIN: &str =
    "import sys; sys.argv[0] = 'mirage'; from mirage.cli.main import main; sys.exit(main())";

/// One test's world: the scratch dir, the venv, the daemon's URL and the
/// bearer token the daemon requires.
struct World {
    scratch: Scratch,
    venv: PathBuf,
    url: String,
    token: String,
}

impl World {
    /// `mirage ARGS` of the model product's CLI.
    fn py(&self, args: &[&str]) -> Out {
        self.py_in(args, None)
    }

    fn py_in(&self, args: &[&str], stdin: Option<&[u8]>) -> Out {
        let mut c = self.py_cmd(args);
        c.env("MIRAGE_TOKEN", &self.token);
        run(&mut c, stdin, COMMAND_LIMIT)
    }

    /// The command without the token.
    fn py_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.venv.join("bin/python"));
        c.args(["-c", PY_MAIN]).args(args);
        common::clean_env(&mut c, &self.scratch.home(), &self.url);
        c.current_dir(self.scratch.path());
        c
    }

    /// `mirage shell -w WS [-s S] -c LINE`.
    fn sh(&self, ws: &str, session: Option<&str>, line: &str) -> Out {
        let mut args = vec!["shell", "-w", ws];
        if let Some(s) = session {
            args.extend(["-s", s]);
        }
        args.extend(["-c", line]);
        self.py(&args)
    }
}

/// The daemon under test: ours (`mirage daemon run`), or with
/// MIRAGE_TEST_MODEL_DAEMON=1 the model product's own.
fn start_daemon(world: &World, port: u16) -> Daemon {
    let log = world.scratch.path().join("daemon.log");
    let mut cmd = if std::env::var("MIRAGE_TEST_MODEL_DAEMON").as_deref() == Ok("1") {
        let mut c = Command::new(world.venv.join("bin/python"));
        c.args(["-m", "uvicorn", "mirage.server.daemon:app", "--host"])
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .args(["--log-level", "warning"]);
        c
    } else {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mirage"));
        c.args(["daemon", "run"]);
        c
    };
    common::clean_env(&mut cmd, &world.scratch.home(), &world.url);
    // ours reads MIRAGE_TOKEN, the model product's daemon MIRAGE_AUTH_TOKEN
    cmd.env("MIRAGE_TOKEN", &world.token)
        .env("MIRAGE_AUTH_TOKEN", &world.token);
    cmd.current_dir(world.scratch.path());
    Daemon::start(cmd, port, log, Duration::from_secs(60))
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {v:#}"))
}

/// A session's cwd as a workspace's detail lists it.
fn session_cwd(detail: &Value, sid: &str) -> Option<String> {
    detail["sessions"]
        .as_array()?
        .iter()
        .find(|s| s["session_id"] == sid)
        .and_then(|s| s["cwd"].as_str().map(str::to_string))
}

#[test]
fn the_model_products_cli_drives_our_daemon() {
    let Some(venv) = model_venv() else {
        return;
    };
    let scratch = Scratch::new();
    let disk = scratch.path().join("disk");
    scratch.write("disk/hello.txt", b"disk content\n");
    let yaml = scratch.write("ws.yaml", common::workspace_yaml(&disk).as_bytes());
    let yaml = yaml.to_str().unwrap();
    let port = common::free_port();
    let world = World {
        scratch,
        venv,
        url: format!("http://127.0.0.1:{port}"),
        token: format!("test-token-{port}"),
    };
    let mut daemon = start_daemon(&world, port);

    // --- the daemon requires the token; the CLI sends MIRAGE_TOKEN
    let refused = run(
        &mut world.py_cmd(&["workspace", "list"]),
        None,
        COMMAND_LIMIT,
    );
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(refused.stderr.contains("401"), "{refused:#?}");
    let mut wrong = world.py_cmd(&["workspace", "list"]);
    wrong.env("MIRAGE_TOKEN", "not-the-token");
    let refused = run(&mut wrong, None, COMMAND_LIMIT);
    assert!(refused.stderr.contains("401"), "{refused:#?}");

    // --- a workspace from YAML, as the CLI validates and sends it
    let created = ok(world.py(&["workspace", "create", yaml, "--id", "w1"])).json();
    assert_eq!(created["id"], "w1", "{created:#}");
    // the fields the CLI's own table reads
    for key in ["mode", "created_at", "mounts", "sessions"] {
        assert!(created.get(key).is_some(), "no {key:?} in {created:#}");
    }
    let prefixes: Vec<&str> = created["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["prefix"].as_str().unwrap_or("").trim_end_matches('/'))
        .collect();
    assert!(
        prefixes.contains(&"/data") && prefixes.contains(&"/disk"),
        "{created:#}"
    );
    let listed = ok(world.py(&["workspace", "list"])).json();
    assert!(
        listed.as_array().unwrap().iter().any(|w| w["id"] == "w1"),
        "{listed:#}"
    );

    // --- two sessions whose cwd and env stay apart
    for s in ["s1", "s2"] {
        let made = ok(world.py(&["session", "create", "w1", "--id", s])).json();
        assert_eq!(made["session_id"], s, "{made:#}");
    }
    let out = ok(world.sh(
        "w1",
        Some("s1"),
        "mkdir -p /data/a && cd /data/a && export X=one && echo hi > f.txt && pwd",
    ));
    assert_eq!(out.stdout, "/data/a\n");
    let out = ok(world.sh("w1", Some("s2"), "cd /disk && export X=two; pwd"));
    assert_eq!(out.stdout, "/disk\n");
    let out = ok(world.sh("w1", Some("s1"), "pwd; echo $X; cat f.txt"));
    assert_eq!(out.stdout, "/data/a\none\nhi\n");
    let out = ok(world.sh("w1", Some("s2"), "pwd; echo $X; cat hello.txt"));
    assert_eq!(out.stdout, "/disk\ntwo\ndisk content\n");
    let sessions = ok(world.py(&["session", "list", "w1"])).json();
    let ids: Vec<&str> = sessions
        .as_array()
        .unwrap_or_else(|| panic!("session list is not an array: {sessions:#}"))
        .iter()
        .filter_map(|s| s["session_id"].as_str())
        .collect();
    assert!(ids.contains(&"s1") && ids.contains(&"s2"), "{sessions:#}");

    // --- the line's exit code is the CLI's; piped stdin reaches the line
    let out = world.sh("w1", None, "echo out; echo err >&2; exit 3");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out\n", "err\n"),
        "{out:#?}"
    );
    let out = ok(world.py_in(
        &["shell", "-w", "w1", "-c", "tr a-z A-Z"],
        Some(b"piped input\n"),
    ));
    assert_eq!(out.stdout, "PIPED INPUT\n");

    // --- a write to the read-only mount is refused
    let out = world.sh("w1", Some("s2"), "echo x > /disk/new.txt");
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(
        out.stderr.contains("Read-only file system"),
        "the refusal names the cause: {out:#?}"
    );
    assert!(!disk.join("new.txt").exists(), "the write reached the disk");

    // --- VFS calls without a shell, and glob
    ok(world.py(&[
        "vfs",
        "write",
        "/data/v.txt",
        "--data",
        "vfs bytes\n",
        "-w",
        "w1",
    ]));
    let read = ok(world.py(&["vfs", "read", "/data/v.txt", "-w", "w1"])).json();
    let data = base64::engine::general_purpose::STANDARD
        .decode(str_field(&read, "data_base64"))
        .unwrap();
    assert_eq!(data, b"vfs bytes\n", "{read:#}");
    let st = ok(world.py(&["vfs", "stat", "/data/v.txt", "-w", "w1"])).json();
    assert_eq!(st["stat"]["size"], 10, "{st:#}");
    assert_eq!(st["stat"]["type"], "file", "{st:#}");
    ok(world.py(&["vfs", "mkdir", "/data/d", "-w", "w1"]));
    ok(world.py(&["vfs", "rename", "/data/v.txt", "/data/d/v.txt", "-w", "w1"]));
    let ex = ok(world.py(&["vfs", "exists", "/data/v.txt", "-w", "w1"])).json();
    assert_eq!(ex["exists"], false, "{ex:#}");
    let rd = ok(world.py(&["vfs", "readdir", "/data/d", "-w", "w1"])).json();
    let entries: Vec<&str> = rd["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{rd:#}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(entries, ["/data/d/v.txt"], "{rd:#}");
    let g = ok(world.py(&["glob", "/data/d/*.txt", "-w", "w1"])).json();
    assert_eq!(g["paths"], serde_json::json!(["/data/d/v.txt"]), "{g:#}");
    let out = ok(world.sh("w1", Some("s1"), "cat /data/d/v.txt"));
    assert_eq!(
        out.stdout, "vfs bytes\n",
        "the shell sees the VFS call's file"
    );
    let out = world.py(&["vfs", "write", "/disk/x", "--data", "x", "-w", "w1"]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr.contains("EROFS"),
        "the refusal names its errno: {out:#?}"
    );
    assert!(!disk.join("x").exists());

    // --- a background job, waited for
    let job = ok(world.py(&[
        "shell",
        "-w",
        "w1",
        "-s",
        "s1",
        "--bg",
        "-c",
        "sleep 0.5; echo bgdone; exit 4",
    ]))
    .json();
    let jid = str_field(&job, "job_id").to_string();
    let waited = world.py(&["job", "wait", &jid]);
    assert_eq!(
        waited.code, 4,
        "job wait exits with the line's code: {waited:#?}"
    );
    let w = waited.json();
    assert_eq!(w["status"], "done", "{w:#}");
    assert_eq!(w["result"]["stdout"], "bgdone\n", "{w:#}");
    assert_eq!(w["result"]["exit_code"], 4, "{w:#}");
    let jobs = ok(world.py(&["job", "list"])).json();
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .any(|j| j["job_id"] == jid.as_str()),
        "{jobs:#}"
    );

    // --- `sleep 100` cancelled
    let job = ok(world.py(&["shell", "-w", "w1", "-s", "s1", "--bg", "-c", "sleep 100"])).json();
    let jid = str_field(&job, "job_id").to_string();
    let start = Instant::now();
    loop {
        let got = world.py(&["job", "get", &jid]).json();
        if got["status"] == "running" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the job never ran: {got:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let cancelled = ok(world.py(&["job", "cancel", &jid])).json();
    assert_eq!(cancelled["job_id"], jid.as_str(), "{cancelled:#}");
    let waited = world.py(&["job", "wait", &jid, "--timeout", "10"]);
    let w = waited.json();
    assert_eq!(w["status"], "canceled", "{w:#}");
    assert_eq!(
        waited.code, 2,
        "a cancelled job's wait exits 2: {waited:#?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "sleep 100 was not stopped"
    );

    // --- snapshot, delete, load
    let snap = world.scratch.path().join("snap.tar");
    let snap_s = snap.to_str().unwrap();
    let out = ok(world.py(&["workspace", "snapshot", "w1", snap_s])).json();
    assert_eq!(out["id"], "w1", "{out:#}");
    let bytes = std::fs::read(&snap).unwrap();
    assert!(common::is_tar(&bytes), "the snapshot is not a tar");
    let out = ok(world.py(&["workspace", "delete", "w1"])).json();
    assert_eq!(out["id"], "w1", "{out:#}");
    let gone = world.sh("w1", None, "echo hi");
    assert_eq!(gone.code, 2, "{gone:#?}");
    assert!(gone.stderr.contains("404"), "{gone:#?}");

    let loaded = ok(world.py(&["workspace", "load", snap_s, "--id", "w2"])).json();
    assert_eq!(loaded["id"], "w2", "{loaded:#}");
    assert_eq!(
        session_cwd(&loaded, "s1").as_deref(),
        Some("/data/a"),
        "{loaded:#}"
    );
    assert_eq!(
        session_cwd(&loaded, "s2").as_deref(),
        Some("/disk"),
        "{loaded:#}"
    );
    let detail = ok(world.py(&["workspace", "get", "w2"])).json();
    assert_eq!(detail["id"], "w2", "{detail:#}");

    // --- the loaded workspace answers the same
    let out = ok(world.sh("w2", Some("s1"), "pwd; echo $X; cat f.txt"));
    assert_eq!(out.stdout, "/data/a\none\nhi\n");
    let out = ok(world.sh("w2", Some("s2"), "pwd; echo $X; cat hello.txt"));
    assert_eq!(out.stdout, "/disk\ntwo\ndisk content\n");
    let out = world.sh("w2", Some("s2"), "echo x > /disk/new.txt");
    assert_ne!(out.code, 0, "the loaded /disk is still read-only: {out:#?}");
    assert!(!disk.join("new.txt").exists());

    // --- shutdown: the CLI's `daemon stop`, and the process is gone
    let out = ok(world.py(&["daemon", "stop"])).json();
    assert_eq!(out["stopped"], true, "{out:#}");
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "the daemon still runs after `mirage daemon stop`; its log:\n{}",
        daemon.log_text()
    );
    assert!(!common::listening(port), "the port still answers");
}
