//! Helpers shared by the daemon tests (`daemon_e2e.rs`, `daemon_python.rs`):
//! a scratch HOME, a free loopback port, a daemon process that is killed when
//! the test ends, and commands run with a time limit.
#![allow(dead_code)]

pub mod venv;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long one CLI command may take before the test gives up on it.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// A scratch directory holding `home/` (HOME, so `~/.mirage` is the test's
/// own) and whatever else a test writes; removed at the end.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("mirage-daemon-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Scratch { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    /// Writes `rel` under the scratch dir (parents made) and returns its path.
    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, data).unwrap();
        p
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The environment every daemon-side process of a test gets: a clean one
/// (no MIRAGE_TOKEN or proxy of the caller's), HOME in the scratch dir, and
/// the daemon's URL.
pub fn clean_env(cmd: &mut Command, home: &Path, url: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        .env("TZ", "UTC")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("MIRAGE_DAEMON_URL", url);
    if let Some(v) = std::env::var_os("RUST_LOG") {
        cmd.env("RUST_LOG", v);
    }
}

/// `GET /v1/health` over a plain socket: whether it answers 200.
pub fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        format!("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// Whether anything accepts a connection on the port.
pub fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// A daemon process started by the test: killed (SIGKILL, by its own pid)
/// if still running when dropped.
pub struct Daemon {
    child: Child,
    pub port: u16,
    pub url: String,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Daemon {
    /// Spawns `cmd` with its output to `log`, then waits up to `limit` for
    /// `/v1/health` to answer 200 (panics with the log when it does not).
    pub fn start(mut cmd: Command, port: u16, log: PathBuf, limit: Duration) -> Daemon {
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting the daemon {cmd:?}: {e}"));
        let mut d = Daemon {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        loop {
            if health_ok(port) {
                return d;
            }
            if let Ok(Some(st)) = d.child.try_wait() {
                panic!(
                    "the daemon exited ({st}) before answering /v1/health; its log:\n{}",
                    d.log_text()
                );
            }
            if start.elapsed() > limit {
                panic!(
                    "the daemon did not answer /v1/health within {limit:?}; its log:\n{}",
                    d.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The daemon's resident set (`VmRSS`, KiB), while it runs.
    pub fn rss_kb(&self) -> Option<u64> {
        rss_kb(self.child.id())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What a finished command gave.
#[derive(Debug)]
pub struct Out {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// How long it ran.
    pub took: Duration,
}

impl Out {
    /// The stdout parsed as JSON (panics with the whole output when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// Runs `cmd` with `stdin` as its input (`None`: /dev/null), killing it
/// after `limit`.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Out {
    let start = Instant::now();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let feeder = stdin.map(|data| {
        let mut w = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = start.elapsed();
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    Out {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        took,
    }
}

/// Asserts the command succeeded (exit 0), showing its output when not.
#[track_caller]
pub fn ok(out: Out) -> Out {
    assert_eq!(out.code, 0, "expected success: {out:#?}");
    out
}

/// Whether a tar archive's first header looks like one (`ustar` magic).
pub fn is_tar(bytes: &[u8]) -> bool {
    bytes.len() >= 512 && &bytes[257..262] == b"ustar"
}

/// The workspace YAML of both scenarios: a RAM mount at /data and a
/// read-only disk mount of `disk_root` at /disk, in the key the model
/// product spells (`vfs:`), which its own CLI validates before sending.
pub fn workspace_yaml(disk_root: &Path) -> String {
    format!(
        "mounts:\n  /data:\n    vfs: ram\n    mode: write\n  /disk:\n    vfs: disk\n    mode: read\n    config:\n      root: {}\n",
        disk_root.display()
    )
}
