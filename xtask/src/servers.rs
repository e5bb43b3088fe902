//! Local test servers for the remote resources: `redis-server` (from apt)
//! and moto's S3 server (from PyPI, in a venv under `target/test-servers`).
//!
//! [`Servers::start`] finds or installs both, starts them on free loopback
//! ports, waits until each answers, creates the bucket `mirage-test`, and
//! returns a guard that kills and waits for both on drop, and on Ctrl-C,
//! SIGTERM or SIGHUP from the moment they start (then the process exits
//! 130, unless [`Servers::stop_on_signal`] set another action).
//! [`Servers::env`] is the environment the behaviour suites and cache
//! tests read.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::repo_root;

/// The servers the signal handler stops (those of the last [`Servers`]).
static ON_SIGNAL_STOP: Mutex<Option<Stopper>> = Mutex::new(None);
/// What the signal handler does after stopping them (default: exit 130).
type Action = Box<dyn Fn() + Send>;
static ON_SIGNAL_THEN: Mutex<Option<Action>> = Mutex::new(None);

/// Installs the process's one Ctrl-C / SIGTERM / SIGHUP handler (once).
fn install_handler() -> Result<()> {
    static INSTALLED: std::sync::OnceLock<std::result::Result<(), String>> =
        std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                let stopper = ON_SIGNAL_STOP
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                if let Some(s) = stopper {
                    s.stop();
                }
                let then = ON_SIGNAL_THEN
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                match then.as_ref() {
                    Some(f) => f(),
                    None => std::process::exit(130),
                }
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow!("installing the Ctrl-C handler: {e}"))
}

/// The moto version installed into the venv.
const MOTO: &str = "moto[server]==5.2.5";
/// The bucket created on the S3 server.
pub const BUCKET: &str = "mirage-test";

/// The running servers. Dropping it kills and waits for both.
pub struct Servers {
    children: Arc<Mutex<Vec<(&'static str, Child)>>>,
    /// The loopback port redis-server listens on.
    pub redis_port: u16,
    /// The loopback port moto listens on.
    pub s3_port: u16,
    /// moto's access log (one line per request), absolute.
    pub s3_log: PathBuf,
}

/// Stops the servers from another thread (a signal handler).
#[derive(Clone)]
pub struct Stopper(Arc<Mutex<Vec<(&'static str, Child)>>>);

impl Stopper {
    /// Kills and waits for every server still running.
    pub fn stop(&self) {
        let mut children = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, mut child) in children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stopper().stop();
    }
}

impl Servers {
    /// Finds or installs redis-server and moto, starts both on free
    /// loopback ports, waits until they answer and creates the bucket.
    ///
    /// Errors: an install that fails, a server that exits or does not
    /// answer in time (with the tail of its log).
    pub fn start() -> Result<Servers> {
        let dir = repo_root().join("target/test-servers");
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let redis_bin = find_or_install_redis()?;
        let moto_bin = find_or_install_moto(&dir)?;

        let children = Arc::new(Mutex::new(Vec::new()));
        install_handler()?;
        *ON_SIGNAL_STOP
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Stopper(Arc::clone(&children)));
        let redis_port = free_port()?;
        let s3_port = free_port()?;
        let servers = Servers {
            children,
            redis_port,
            s3_port,
            s3_log: dir.join("moto.log"),
        };

        let redis_log = dir.join("redis.log");
        let child = spawn(
            Command::new(&redis_bin)
                .args(["--port", &redis_port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&dir),
            &redis_log,
        )
        .with_context(|| format!("starting {}", redis_bin.display()))?;
        servers.push("redis-server", child);

        let child = spawn(
            Command::new(&moto_bin)
                .args(["-H", "127.0.0.1", "-p", &s3_port.to_string()])
                .env("PYTHONUNBUFFERED", "1"),
            &servers.s3_log,
        )
        .with_context(|| format!("starting {}", moto_bin.display()))?;
        servers.push("moto_server", child);

        let started = Instant::now();
        servers.wait_ready("redis-server", &redis_log, Duration::from_secs(20), || {
            redis_ping(redis_port)
        })?;
        servers.wait_ready(
            "moto_server",
            &servers.s3_log,
            Duration::from_secs(60),
            || http(s3_port, "GET", "/").map(|_| ()),
        )?;
        let status = http(s3_port, "PUT", &format!("/{BUCKET}"))?;
        if status != 200 {
            bail!("moto: PUT /{BUCKET} answered {status}, expected 200");
        }
        eprintln!(
            "xtask: redis-server on 127.0.0.1:{redis_port}, moto on 127.0.0.1:{s3_port} (bucket {BUCKET}), ready in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(servers)
    }

    fn push(&self, name: &'static str, child: Child) {
        self.children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name, child));
    }

    /// A handle that stops the servers from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.children.clone())
    }

    /// On Ctrl-C, SIGTERM or SIGHUP, after stopping the servers, run `then`
    /// (once per signal) instead of exiting 130.
    pub fn stop_on_signal(&self, then: impl Fn() + Send + 'static) {
        *ON_SIGNAL_THEN
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Box::new(then));
    }

    /// The environment for the tests: the servers' addresses, the bucket,
    /// moto's log, and `MIRAGE_TEST_REQUIRE_SERVERS=1`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "MIRAGE_TEST_REDIS_URL",
                format!("redis://127.0.0.1:{}/0", self.redis_port),
            ),
            (
                "MIRAGE_TEST_S3_ENDPOINT",
                format!("http://127.0.0.1:{}", self.s3_port),
            ),
            ("MIRAGE_TEST_S3_BUCKET", BUCKET.to_string()),
            ("MIRAGE_TEST_S3_LOG", self.s3_log.display().to_string()),
            ("MIRAGE_TEST_REQUIRE_SERVERS", "1".to_string()),
        ]
    }

    /// Polls `probe` until it succeeds, the server exits, or `limit` passes.
    fn wait_ready(
        &self,
        name: &str,
        log: &Path,
        limit: Duration,
        probe: impl Fn() -> Result<()>,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            let last = match probe() {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let exited = {
                let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
                children
                    .iter_mut()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, c)| c.try_wait().ok().flatten())
            };
            if let Some(status) = exited {
                bail!(
                    "{name} exited ({status}) before answering; the end of {}:\n{}",
                    log.display(),
                    tail(log)
                );
            }
            if start.elapsed() > limit {
                bail!(
                    "{name} did not answer within {} s ({last:#}); the end of {}:\n{}",
                    limit.as_secs(),
                    log.display(),
                    tail(log)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts `cmd` in its own process group (so a terminal's Ctrl-C reaches
/// only xtask, which stops the servers in order), stdout and stderr to `log`.
fn spawn(cmd: &mut Command, log: &Path) -> Result<Child> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    Ok(cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()?)
}

/// The last lines of a log file (for an error message).
fn tail(log: &Path) -> String {
    let text = fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A free loopback port (bind port 0, read it, close).
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a free loopback port")?;
    Ok(l.local_addr()?.port())
}

fn connect(port: u16) -> Result<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    Ok(s)
}

/// Sends redis an inline `PING` and expects `+PONG`.
fn redis_ping(port: u16) -> Result<()> {
    let mut s = connect(port)?;
    s.write_all(b"PING\r\n")?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    if buf[..n].starts_with(b"+PONG") {
        Ok(())
    } else {
        Err(anyhow!(
            "PING answered {:?}",
            String::from_utf8_lossy(&buf[..n])
        ))
    }
}

/// A bodiless HTTP/1.1 request to 127.0.0.1:`port`; returns the status.
/// (moto checks no signatures, so bucket creation needs no SigV4.)
pub fn http(port: u16, method: &str, path: &str) -> Result<u16> {
    let mut s = connect(port)?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let head = String::from_utf8_lossy(&resp[..resp.len().min(200)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .filter(|_| head.starts_with("HTTP/1."))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP answer: {head:?}"))
}

/// `name` found on PATH (or in /usr/sbin, /usr/bin).
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `cmd` as root: directly when root, else through sudo when present.
fn as_root(args: &[&str]) -> Result<bool> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if !root && which("sudo").is_some() {
        let mut c = Command::new("sudo");
        c.args(args);
        c
    } else {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    };
    let status = cmd
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .with_context(|| format!("running {}", args.join(" ")))?;
    Ok(status.success())
}

/// `apt-get install -y -qq PKG`, after `apt-get update -qq` if the first try fails.
fn apt_install(pkg: &str) -> Result<()> {
    let start = Instant::now();
    eprintln!("xtask: installing {pkg} with apt-get");
    let install = ["apt-get", "install", "-y", "-qq", pkg];
    if !as_root(&install)? {
        eprintln!("xtask: apt-get install {pkg} failed; running apt-get update first");
        if !as_root(&["apt-get", "update", "-qq"])? || !as_root(&install)? {
            bail!("apt-get install {pkg} failed");
        }
    }
    eprintln!(
        "xtask: installed {pkg} in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn find_or_install_redis() -> Result<PathBuf> {
    if let Some(p) = which("redis-server") {
        return Ok(p);
    }
    apt_install("redis-server")?;
    which("redis-server").ok_or_else(|| anyhow!("redis-server not found after installing it"))
}

/// moto's server from the venv `DIR/moto-venv`, made and filled when missing.
fn find_or_install_moto(dir: &Path) -> Result<PathBuf> {
    let venv = dir.join("moto-venv");
    let bin = venv.join("bin/moto_server");
    if bin.is_file() {
        return Ok(bin);
    }
    let start = Instant::now();
    // A venv without pip (a python3 -m venv that failed half-way for lack
    // of python3-venv) is made again.
    if !venv.join("bin/pip").is_file() {
        let _ = fs::remove_dir_all(&venv);
        eprintln!("xtask: making a Python venv at {}", venv.display());
        if !make_venv(&venv)? {
            eprintln!("xtask: python3 -m venv failed; installing python3-venv");
            let _ = fs::remove_dir_all(&venv);
            if which("python3").is_none() {
                apt_install("python3")?;
            }
            apt_install("python3-venv")?;
            if !make_venv(&venv)? {
                let _ = fs::remove_dir_all(&venv);
                bail!("python3 -m venv {} failed", venv.display());
            }
        }
    }
    eprintln!("xtask: pip install {MOTO} into {}", venv.display());
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check", MOTO])
        .status()
        .context("running pip")?
        .success();
    if !ok || !bin.is_file() {
        bail!("pip install {MOTO} failed");
    }
    eprintln!(
        "xtask: installed moto in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(bin)
}

fn make_venv(venv: &Path) -> Result<bool> {
    Ok(Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .stdout(Stdio::null())
        .status()
        .context("running python3 -m venv")?
        .success()
        && venv.join("bin/pip").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot fake server on a free port: reads one request, answers `reply`.
    fn fake(reply: &'static [u8]) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = vec![0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            s.write_all(reply).unwrap();
            buf.truncate(n);
            buf
        });
        (port, h)
    }

    #[test]
    fn http_sends_a_bodiless_request_and_reads_the_status() {
        let (port, h) = fake(b"HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(http(port, "PUT", "/mirage-test").unwrap(), 409);
        let req = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(req.starts_with("PUT /mirage-test HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Content-Length: 0\r\n"), "{req}");
        let (port, _h) = fake(b"+PONG\r\n");
        assert!(http(port, "GET", "/").is_err());
    }

    #[test]
    fn redis_ping_wants_pong() {
        let (port, h) = fake(b"+PONG\r\n");
        redis_ping(port).unwrap();
        assert_eq!(h.join().unwrap(), b"PING\r\n");
        let (port, _h) = fake(b"-LOADING\r\n");
        assert!(redis_ping(port).is_err());
    }

    #[test]
    fn dropping_the_guard_kills_and_reaps_its_children() {
        let children = Arc::new(Mutex::new(Vec::new()));
        let child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id();
        children.lock().unwrap().push(("sleep", child));
        drop(Servers {
            children,
            redis_port: 0,
            s3_port: 0,
            s3_log: PathBuf::new(),
        });
        // Reaped: no /proc entry (not even a zombie) is left.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
