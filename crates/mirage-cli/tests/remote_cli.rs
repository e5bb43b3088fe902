#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The stateless CLI of the daemon through the real binary: every
//! command's `--help`, completions, the errors that say what to do (no
//! daemon, a refused token, a config with missing variables), and a small
//! session with our daemon — `mirage workspace create` starting it,
//! `execute -w` streaming and exit codes, a background job waited for,
//! `daemon stop`. (The big scenario is `daemon_e2e.rs`.)

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `mirage ARGS` with HOME in `home`, the daemon URL on `port`, no token
/// or proxy from the caller, stdin from /dev/null.
fn mirage_in(home: &Path, port: u16, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mirage"));
    c.args(args)
        .current_dir(home)
        .env("HOME", home)
        .env("MIRAGE_DAEMON_URL", format!("http://127.0.0.1:{port}"))
        .env_remove("MIRAGE_TOKEN")
        .env_remove("MIRAGE_HOME")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .stdin(Stdio::null());
    c
}

fn run(home: &Path, port: u16, args: &[&str]) -> Output {
    mirage_in(home, port, args).output().expect("run mirage")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_command_has_help() {
    let d = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["execute"],
        &["shell"],
        &["workspace"],
        &["workspace", "create"],
        &["workspace", "list"],
        &["workspace", "get"],
        &["workspace", "delete"],
        &["workspace", "close"],
        &["workspace", "clone"],
        &["workspace", "snapshot"],
        &["workspace", "load"],
        &["workspace", "cancel"],
        &["workspace", "kill"],
        &["workspace", "history"],
        &["session"],
        &["session", "create"],
        &["session", "list"],
        &["session", "patch"],
        &["session", "delete"],
        &["job"],
        &["job", "list"],
        &["job", "get"],
        &["job", "wait"],
        &["job", "cancel"],
        &["daemon"],
        &["daemon", "run"],
        &["daemon", "status"],
        &["daemon", "stop"],
        &["daemon", "restart"],
        &["daemon", "kill"],
        &["vfs"],
        &["vfs", "read"],
        &["vfs", "write"],
        &["vfs", "ls"],
        &["vfs", "rm"],
        &["vfs", "mv"],
        &["glob"],
        &["completions"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--help");
        let o = run(d.path(), 1, &args);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(out.contains("Usage: mirage"), "{args:?}: {out}");
        // a one-line about above the usage
        let first = out.lines().next().unwrap_or("");
        assert!(!first.starts_with("Usage"), "{args:?} has no about: {out}");
    }
    // the main help and the main commands' show examples
    for c in [
        &["--help"][..],
        &["execute", "--help"],
        &["workspace", "create", "--help"],
        &["job", "wait", "--help"],
        &["vfs", "write", "--help"],
    ] {
        let out = stdout(&run(d.path(), 1, c));
        assert!(out.contains("Example"), "{c:?}: {out}");
    }
    let out = stdout(&run(d.path(), 1, &["--help"]));
    for word in [
        "workspace",
        "session",
        "job",
        "vfs",
        "glob",
        "daemon",
        "completions",
    ] {
        assert!(out.contains(word), "{word} not in --help: {out}");
    }
}

#[test]
fn completions_mention_the_commands() {
    let d = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let o = run(d.path(), 1, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.len() > 1000, "{shell}: {out}");
        for word in ["workspace", "session", "daemon", "execute", "snapshot"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let o = run(d.path(), 1, &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn no_daemon_says_what_to_do() {
    let d = tempfile::tempdir().unwrap();
    let port = free_port();
    let want = format!(
        "mirage: no daemon at http://127.0.0.1:{port}; run `mirage workspace create CONFIG` to start one\n"
    );
    for args in [
        &["workspace", "list"][..],
        &["workspace", "get", "x"],
        &["execute", "-w", "x", "-c", "true"],
        &["shell", "-w", "x", "-c", "true"],
        &["session", "list", "x"],
        &["job", "list"],
        &["vfs", "read", "-w", "x", "/a"],
        &["glob", "-w", "x", "/*"],
        &["daemon", "stop"],
    ] {
        let o = run(d.path(), port, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), want, "{args:?}");
        assert_eq!(stdout(&o), "", "{args:?}");
    }
    // status answers (exit 1) rather than failing
    let o = run(d.path(), port, &["daemon", "status"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        format!("Daemon not running. URL: http://127.0.0.1:{port}\n")
    );
    let o = run(d.path(), port, &["daemon", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["running"], false);
    // nothing was started
    assert!(!d.path().join(".mirage/daemon.log").exists());
    // the URL from ~/.mirage/config.toml when MIRAGE_DAEMON_URL is unset
    std::fs::create_dir_all(d.path().join(".mirage")).unwrap();
    std::fs::write(
        d.path().join(".mirage/config.toml"),
        format!("[daemon]\nurl = \"http://localhost:{port}\"\n"),
    )
    .unwrap();
    let o = mirage_in(d.path(), port, &["workspace", "list"])
        .env_remove("MIRAGE_DAEMON_URL")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("no daemon at http://localhost:{port};")),
        "{}",
        stderr(&o)
    );
    // a broken config file is named
    std::fs::write(d.path().join(".mirage/config.toml"), "[daemon]\nurl = 5\n").unwrap();
    let o = run(d.path(), port, &["workspace", "list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("config.toml"), "{}", stderr(&o));
}

#[test]
fn embedded_flags_do_not_mix_with_a_workspace() {
    let d = tempfile::tempdir().unwrap();
    let o = run(
        d.path(),
        1,
        &["execute", "-w", "x", "--write", "-c", "true"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot be combined with -w"),
        "{}",
        stderr(&o)
    );
    let o = run(d.path(), 1, &["execute", "--bg", "-c", "true"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // without -w: embedded, as before
    let o = run(d.path(), 1, &["shell", "-c", "echo embedded; exit 4"]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(stdout(&o), "embedded\n");
}

#[test]
fn bad_config_fails_before_any_daemon_starts() {
    let d = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        d.path().join("ws.yaml"),
        "mounts:\n  /s3: {resource: s3, config: {bucket: \"${NO_SUCH_B}\", endpoint_url: \"${NO_SUCH_A}\"}}\n",
    )
    .unwrap();
    let o = run(d.path(), port, &["workspace", "create", "ws.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("NO_SUCH_B") && e.contains("NO_SUCH_A"), "{e}");
    std::fs::write(
        d.path().join("ws.yaml"),
        "mounts:\n  /a: {resource: ram, colour: red}\n",
    )
    .unwrap();
    let o = run(d.path(), port, &["workspace", "create", "ws.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("colour"), "{}", stderr(&o));
    let o = run(d.path(), port, &["workspace", "create", "missing.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing.yaml: No such file"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join(".mirage/daemon.log").exists());
}

/// Kills the daemon a test started (`mirage daemon kill`, by its pid
/// file) however the test ends.
struct KillOnDrop<'a> {
    home: &'a Path,
    port: u16,
}

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = run(self.home, self.port, &["daemon", "kill"]);
    }
}

#[test]
fn a_session_with_our_daemon() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path();
    let port = free_port();
    let _guard = KillOnDrop { home, port };
    std::fs::write(
        home.join("ws.yaml"),
        "mounts:\n  /data: {resource: ram, mode: write}\n",
    )
    .unwrap();
    // no daemon: create starts one (detached, logging to ~/.mirage/daemon.log)
    let o = run(
        home,
        port,
        &["workspace", "create", "ws.yaml", "--id", "demo"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ID:        demo"), "{}", stdout(&o));
    assert!(home.join(".mirage/daemon.log").exists());
    let o = run(home, port, &["daemon", "status", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["running"], true);
    let pid = v["pid"].as_i64().unwrap();
    assert_eq!(
        std::fs::read_to_string(home.join(".mirage/daemon.pid"))
            .unwrap()
            .trim(),
        pid.to_string()
    );
    // a line: its output, its exit status
    let o = run(
        home,
        port,
        &[
            "execute",
            "-w",
            "demo",
            "-c",
            "echo hi; echo oops >&2; exit 3",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stdout(&o), "hi\n");
    assert_eq!(stderr(&o), "oops\n");
    // the model product's spelling, and stdin forwarded from a pipe
    let mut c = mirage_in(
        home,
        port,
        &["shell", "-w", "demo", "-c", "sort > /data/s; cat /data/s"],
    );
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        i.write_all(b"b\na\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "a\nb\n");
    // output streams as it comes: the first line is read while the line
    // still waits for a file only the test writes
    {
        use std::io::BufRead;
        let mut c = mirage_in(
            home,
            port,
            &[
                "execute",
                "-w",
                "demo",
                "-c",
                // bounded (30 s): output held back until the end fails
                // the test instead of hanging it
                "echo first; i=0; while ! test -e /data/go && [ $i -lt 1500 ]; do \
                 sleep 0.02; i=$((i+1)); done; if test -e /data/go; then echo second; \
                 else echo timeout; fi",
            ],
        );
        c.stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert_eq!(first, "first\n");
        let o = run(
            home,
            port,
            &["vfs", "write", "-w", "demo", "/data/go", "--data", ""],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        assert_eq!(rest, "second\n");
        assert!(child.wait().unwrap().success());
        let o = run(home, port, &["vfs", "unlink", "-w", "demo", "/data/go"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // shell -w without -c: the script on stdin runs on the daemon
    let mut c = mirage_in(home, port, &["shell", "-w", "demo"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        i.write_all(b"x=script\necho $x\nexit 7\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert_eq!(stdout(&o), "script\n");
    // Ctrl-C: exit 130, and the line is cancelled on the daemon
    {
        use std::io::BufRead;
        let mut c = mirage_in(
            home,
            port,
            &["execute", "-w", "demo", "-c", "echo go; sleep 100"],
        );
        c.stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert_eq!(first, "go\n");
        let st = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(child.wait().unwrap().code(), Some(130));
        let start = Instant::now();
        loop {
            let o = run(home, port, &["job", "list", "--json"]);
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let job = v
                .as_array()
                .unwrap()
                .iter()
                .find(|j| j["command"] == "echo go; sleep 100")
                .cloned()
                .unwrap();
            if job["status"] == "canceled" {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{job}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // --no-stdin: a stdin that never ends is not waited for
    let mut c = mirage_in(
        home,
        port,
        &["execute", "-w", "demo", "--no-stdin", "-c", "echo free"],
    );
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let held = child.stdin.take();
    let o = child.wait_with_output().unwrap();
    drop(held);
    assert_eq!(stdout(&o), "free\n");
    // --json: the result as one object
    let o = run(
        home,
        port,
        &["execute", "-w", "demo", "--json", "-c", "printf x; exit 5"],
    );
    assert_eq!(o.status.code(), Some(5));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stdout"], "x");
    assert_eq!(v["exit_code"], 5);
    // --cwd and --env for this line only
    let o = run(
        home,
        port,
        &[
            "execute",
            "-w",
            "demo",
            "--cwd",
            "/",
            "--env",
            "A=x=y",
            "-c",
            "echo $A; pwd",
        ],
    );
    assert_eq!(stdout(&o), "x=y\n/\n", "{}", stderr(&o));
    let o = run(
        home,
        port,
        &["execute", "-w", "demo", "-c", "echo \"[$A]\"; pwd"],
    );
    assert_eq!(stdout(&o), "[]\n/data\n");
    // bytes that are not UTF-8 come through as they are
    let o = run(
        home,
        port,
        &["execute", "-w", "demo", "-c", "printf '\\377\\376x'"],
    );
    assert_eq!(o.stdout, b"\xff\xfex");
    let o = run(
        home,
        port,
        &["execute", "-w", "demo", "--json", "-c", "printf '\\377'"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stdout"], "/w==");
    assert_eq!(v["stdout_encoding"], "base64");
    // a background job, waited for
    let o = run(
        home,
        port,
        &[
            "execute",
            "-w",
            "demo",
            "--bg",
            "-c",
            "sleep 0.3; echo bg; exit 6",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let job = stdout(&o).trim().to_string();
    assert!(!job.is_empty());
    let o = run(home, port, &["job", "wait", &job, "--timeout", "20"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert_eq!(stdout(&o), "bg\n");
    let o = run(home, port, &["job", "get", &job, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "done");
    // VFS calls and glob
    let o = run(
        home,
        port,
        &["vfs", "write", "-w", "demo", "/data/f", "--data", "hello"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(home, port, &["vfs", "read", "-w", "demo", "/data/f"]);
    assert_eq!(stdout(&o), "hello");
    let o = run(home, port, &["glob", "-w", "demo", "/data/*"]);
    assert_eq!(stdout(&o), "/data/f\n/data/s\n");
    let o = run(
        home,
        port,
        &[
            "vfs", "pwrite", "-w", "demo", "/data/f", "1", "--data", "EL",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(
        home,
        port,
        &[
            "vfs", "read", "-w", "demo", "/data/f", "--offset", "1", "--size", "3",
        ],
    );
    assert_eq!(stdout(&o), "ELl");
    let o = run(home, port, &["vfs", "is-dir", "-w", "demo", "/data"]);
    assert_eq!(stdout(&o), "true\n");
    let o = run(home, port, &["vfs", "exists", "-w", "demo", "/data/nope"]);
    assert_eq!(stdout(&o), "false\n");
    let o = run(home, port, &["vfs", "read", "-w", "demo", "/data/nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ENOENT"), "{}", stderr(&o));
    // the history: every line run, with its status
    let o = run(home, port, &["workspace", "history", "demo", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &v.as_array().unwrap()[0];
    assert_eq!(first["line"], "echo hi; echo oops >&2; exit 3");
    assert_eq!(first["exit_code"], 3);
    let o = run(home, port, &["workspace", "history", "demo"]);
    assert!(
        stdout(&o).starts_with("SESSION  EXIT  MS"),
        "{}",
        stdout(&o)
    );
    // clone with an override (YAML, ${VAR} filled from our environment)
    std::fs::write(home.join("over.yaml"), "env: {X: \"${I7_OVER}\"}\n").unwrap();
    let o = mirage_in(
        home,
        port,
        &[
            "workspace",
            "clone",
            "demo",
            "--id",
            "twin",
            "--override",
            "over.yaml",
        ],
    )
    .env("I7_OVER", "over")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(home, port, &["execute", "-w", "twin", "-c", "echo $X"]);
    assert_eq!(stdout(&o), "over\n", "{}", stderr(&o));
    // snapshot, delete, load: the file is back
    let o = run(home, port, &["workspace", "snapshot", "demo", "demo.tar"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("Snapshot demo -> demo.tar ("),
        "{}",
        stdout(&o)
    );
    let o = run(home, port, &["workspace", "delete", "demo"]);
    assert_eq!(stdout(&o), "Deleted workspace demo.\n", "{}", stderr(&o));
    let o = run(
        home,
        port,
        &["workspace", "load", "demo.tar", "--id", "demo"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(home, port, &["vfs", "read", "-w", "demo", "/data/f"]);
    assert_eq!(stdout(&o), "hELlo", "{}", stderr(&o));
    // an unknown workspace: the reply's detail
    let o = run(home, port, &["workspace", "get", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("mirage: daemon error 404: "),
        "{}",
        stderr(&o)
    );
    // stop: graceful, and the daemon is gone
    let o = run(home, port, &["daemon", "stop"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("Daemon stopped (PID"),
        "{}",
        stdout(&o)
    );
    let o = run(home, port, &["daemon", "status"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_refused_token_says_how_to_give_one() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path();
    let port = free_port();
    let _guard = KillOnDrop { home, port };
    let mut daemon = mirage_in(home, port, &["daemon", "run", "--port", &port.to_string()])
        .env("MIRAGE_TOKEN", "sesame")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let o = run(home, port, &["daemon", "status"]);
        if o.status.code() == Some(0) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = run(home, port, &["workspace", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("refused the token; set MIRAGE_TOKEN"),
        "{}",
        stderr(&o)
    );
    // stop without the token: refused at once, the daemon stays
    let o = run(home, port, &["daemon", "stop"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refused the token"), "{}", stderr(&o));
    assert_eq!(
        run(home, port, &["daemon", "status"]).status.code(),
        Some(0)
    );
    // the token from the config file
    std::fs::write(
        home.join(".mirage/config.toml"),
        "[daemon]\nauth_token = \"sesame\"\n",
    )
    .unwrap();
    let o = run(home, port, &["workspace", "list", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "[]");
    let o = run(home, port, &["daemon", "stop"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let st = daemon.wait().unwrap();
    assert!(st.success(), "{st}");
}

#[test]
fn daemon_kill_ends_a_daemon_that_will_not_stop() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path();
    let port = free_port();
    let _guard = KillOnDrop { home, port };
    std::fs::write(home.join("ws.yaml"), "mounts:\n  /t: {resource: ram}\n").unwrap();
    let o = run(home, port, &["workspace", "create", "ws.yaml", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let o = run(home, port, &["workspace", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["id"], id.as_str());
    let pid = std::fs::read_to_string(home.join(".mirage/daemon.pid")).unwrap();
    let o = run(home, port, &["daemon", "kill"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("Killed PID {}.\n", pid.trim()));
    let start = Instant::now();
    while run(home, port, &["daemon", "status"]).status.code() == Some(0) {
        assert!(start.elapsed() < Duration::from_secs(5), "still answering");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = run(home, port, &["daemon", "kill"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).starts_with("Killed"), "{}", stdout(&o));
}

#[test]
fn a_spawned_daemon_leaves_after_its_idle_grace() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path();
    let port = free_port();
    let _guard = KillOnDrop { home, port };
    std::fs::create_dir_all(home.join(".mirage")).unwrap();
    std::fs::write(
        home.join(".mirage/config.toml"),
        "[daemon]\nidle_grace_seconds = 0.5\n",
    )
    .unwrap();
    std::fs::write(home.join("ws.yaml"), "mounts:\n  /t: {resource: ram}\n").unwrap();
    let o = run(home, port, &["workspace", "create", "ws.yaml", "--id", "w"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(home, port, &["workspace", "delete", "w"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let start = Instant::now();
    while run(home, port, &["daemon", "status"]).status.code() == Some(0) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the daemon is still up long after its idle grace"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // its pid file is gone with it
    let start = Instant::now();
    while home.join(".mirage/daemon.pid").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the pid file stays"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The model product's venv that `daemon_python.rs` makes
/// (`target/test-venv/mirage-ai-0.0.7`), when it is there.
/// Our CLI against the model product's own daemon (uvicorn from the venv
/// `common/venv.rs` makes when it is missing, as `daemon_python.rs` does;
/// skipped only under `MIRAGE_TEST_ALLOW_NO_PYPI=1` without PyPI): the
/// same `/v1` protocol both ways.
#[test]
fn our_cli_drives_the_model_products_daemon() {
    let Some(venv) = common::venv::model_venv() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let home = d.path();
    let port = free_port();
    let mut daemon = Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "uvicorn",
            "mirage.server.daemon:app",
            "--host",
            "127.0.0.1",
        ])
        .args(["--port", &port.to_string(), "--log-level", "warning"])
        .current_dir(home)
        .env("HOME", home)
        .env("MIRAGE_IDLE_GRACE_SECONDS", "600")
        .env_remove("MIRAGE_TOKEN")
        .env_remove("MIRAGE_AUTH_TOKEN")
        .env_remove("MIRAGE_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let start = Instant::now();
    while run(home, port, &["daemon", "status"]).status.code() != Some(0) {
        if let Ok(Some(st)) = daemon.try_wait() {
            panic!("the model daemon exited: {st}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the model daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut daemon = Reap(daemon);
    // the model product spells a mount's resource `vfs:`
    std::fs::write(
        home.join("ws.yaml"),
        "mounts:\n  /data: {vfs: ram, mode: write}\n",
    )
    .unwrap();
    let o = run(
        home,
        port,
        &["workspace", "create", "ws.yaml", "--id", "m1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(
        home,
        port,
        &[
            "execute",
            "-w",
            "m1",
            "-c",
            "echo hi; echo oops >&2; exit 3",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    assert_eq!(stderr(&o), "oops\n");
    let mut c = mirage_in(home, port, &["shell", "-w", "m1", "-c", "sort"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"b\na\n").unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "a\nb\n", "{}", stderr(&o));
    let o = run(
        home,
        port,
        &["execute", "-w", "m1", "--bg", "-c", "sleep 0.2; echo bg"],
    );
    let job = stdout(&o).trim().to_string();
    let o = run(home, port, &["job", "wait", &job, "--timeout", "20"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "bg\n"),
        "{}",
        stderr(&o)
    );
    let o = run(
        home,
        port,
        &["vfs", "write", "-w", "m1", "/data/f", "--data", "hello"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&run(home, port, &["vfs", "read", "-w", "m1", "/data/f"])),
        "hello"
    );
    assert_eq!(
        stdout(&run(home, port, &["glob", "-w", "m1", "/data/*"])),
        "/data/f\n"
    );
    let o = run(home, port, &["vfs", "read", "-w", "m1", "/data/nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ENOENT"), "{}", stderr(&o));
    let o = run(home, port, &["workspace", "snapshot", "m1", "m1.tar"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    run(home, port, &["workspace", "delete", "m1"]);
    let o = run(home, port, &["workspace", "load", "m1.tar", "--id", "m2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&run(home, port, &["vfs", "read", "-w", "m2", "/data/f"])),
        "hello"
    );
    let o = run(home, port, &["daemon", "stop"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        run(home, port, &["daemon", "status"]).status.code(),
        Some(1)
    );
    // (the model daemon ends itself by a signal: its status is not checked)
    let _ = daemon.0.wait();
}
