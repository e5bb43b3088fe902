//! `cargo xtask loadtest`: the daemon under load on loopback.
//!
//! Starts the release `mirage daemon run` on a free port (HOME in a scratch
//! directory), creates a workspace with one RAM mount, warms up, then runs
//! `--clients` concurrent clients (tokio tasks, one keep-alive HTTP client
//! each) × `--calls` synchronous `POST /v1/workspaces/{id}/shell
//! {"command":"echo hi"}` calls each. Every answer must be 200 with exit
//! code 0 and stdout `hi\n`; anything else counts as a failed request.
//!
//! Reports lines per second (calls / wall time of the timed phase), p50,
//! p99 and max latency per call, the failed requests, and the daemon's
//! resident set (`VmRSS` from `/proc/PID/status`) before and after.
//! Targets (issue 7): at least 5,000 lines/s and p99 under 5 ms on the
//! 2-core CI machine, with no failed request. Exits 1 when a request
//! failed, 0 otherwise (a missed speed target is printed, not an error).
//!
//! `--url URL` drives a daemon that already runs (ours or the model
//! product's) instead of starting one; `MIRAGE_TOKEN` is its bearer token.
//! `cargo xtask bench` runs the same measure for its `daemon_rps` and
//! `daemon_p99_ms` rows ([`measure_release`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde::{Deserialize, Serialize};

/// The lines per second the daemon should reach (issue 7).
pub const TARGET_LINES_PER_S: f64 = 5000.0;
/// The p99 latency, in ms, the daemon should stay under (issue 7).
pub const TARGET_P99_MS: f64 = 5.0;

#[derive(clap::Args)]
pub struct Args {
    /// Concurrent clients (each a tokio task with its own keep-alive connection).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Synchronous calls per client.
    #[arg(long, default_value_t = 500)]
    calls: usize,
    /// The shell line each call runs (its answer must be exit 0; for the
    /// default, stdout `hi`).
    #[arg(long, default_value = "echo hi")]
    command: String,
    /// Each client runs its lines in a session of its own instead of the
    /// workspace's default session.
    #[arg(long)]
    session_per_client: bool,
    /// Drive the daemon already running at this URL instead of starting the
    /// release `mirage daemon run` (its RSS is then not reported).
    #[arg(long)]
    url: Option<String>,
    /// Run in this existing workspace instead of creating one (with
    /// `--url`: a second run on the same workspace shows whether its memory
    /// keeps growing).
    #[arg(long, value_name = "ID")]
    workspace: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// What one load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub clients: usize,
    pub calls_per_client: usize,
    /// Calls answered as expected.
    pub ok: usize,
    /// Calls that failed (transport error, a status other than 200, or an
    /// answer other than exit 0 with the expected stdout).
    pub failed: usize,
    /// The first failure, as text.
    pub first_failure: Option<String>,
    /// Wall time of the timed phase, in seconds.
    pub seconds: f64,
    /// Calls per second over the timed phase.
    pub lines_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The daemon's VmRSS after the warm-up, before the timed phase (KiB).
    pub rss_before_kb: Option<u64>,
    /// The daemon's VmRSS after the timed phase (KiB).
    pub rss_after_kb: Option<u64>,
    /// The machine's 1-minute load average when the run started (other
    /// processes competing for the cores widen the latency tail).
    pub load_avg: Option<f64>,
}

impl Report {
    /// Human-readable lines.
    pub fn print(&self) {
        println!(
            "loadtest: {} clients x {} calls of POST /shell: {} ok, {} failed in {:.2} s",
            self.clients, self.calls_per_client, self.ok, self.failed, self.seconds
        );
        println!(
            "  {:.0} lines/s (target >= {TARGET_LINES_PER_S:.0}: {})",
            self.lines_per_s,
            met(self.lines_per_s >= TARGET_LINES_PER_S)
        );
        println!(
            "  latency p50 {:.3} ms, p99 {:.3} ms (target < {TARGET_P99_MS}: {}), max {:.3} ms",
            self.p50_ms,
            self.p99_ms,
            met(self.p99_ms < TARGET_P99_MS),
            self.max_ms
        );
        if let (Some(b), Some(a)) = (self.rss_before_kb, self.rss_after_kb) {
            println!(
                "  daemon RSS {:.1} MB before, {:.1} MB after ({:+.1} MB)",
                b as f64 / 1024.0,
                a as f64 / 1024.0,
                (a as f64 - b as f64) / 1024.0
            );
        }
        if let Some(l) = self.load_avg {
            println!(
                "  load average {l:.2} on {} cores at the start",
                std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
            );
        }
        if let Some(f) = &self.first_failure {
            println!("  first failure: {f}");
        }
    }
}

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "NOT met" }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.clients == 0 || args.calls == 0 {
        bail!("--clients and --calls must be at least 1");
    }
    let rt = runtime()?;
    let opts = Load {
        clients: args.clients,
        calls: args.calls,
        command: args.command.clone(),
        session_per_client: args.session_per_client,
        workspace: args.workspace.clone(),
    };
    let report = match &args.url {
        Some(url) => {
            let token = std::env::var("MIRAGE_TOKEN").ok().filter(|t| !t.is_empty());
            rt.block_on(load(url, token.as_deref(), None, &opts))?
        }
        None => {
            let bin = crate::bench::mirage_binary()?;
            let daemon = DaemonProcess::start(&bin)?;
            let r = rt.block_on(load(&daemon.url, None, Some(daemon.pid()), &opts));
            daemon.stop();
            r?
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    Ok(if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The load of `cargo xtask bench`'s daemon rows: the default 16 × 500
/// against a freshly started release daemon.
pub fn measure_release(rt: &tokio::runtime::Runtime) -> anyhow::Result<Report> {
    let bin = crate::bench::mirage_binary()?;
    let daemon = DaemonProcess::start(&bin)?;
    let opts = Load {
        clients: 16,
        calls: 500,
        command: "echo hi".into(),
        session_per_client: false,
        workspace: None,
    };
    let r = rt.block_on(load(&daemon.url, None, Some(daemon.pid()), &opts));
    daemon.stop();
    let r = r?;
    if r.failed > 0 {
        bail!(
            "{} of {} daemon requests failed; first: {}",
            r.failed,
            r.failed + r.ok,
            r.first_failure.as_deref().unwrap_or("?")
        );
    }
    Ok(r)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// What to run.
struct Load {
    clients: usize,
    calls: usize,
    command: String,
    session_per_client: bool,
    /// Run in this existing workspace instead of creating one.
    workspace: Option<String>,
}

/// `mirage daemon run` on a free loopback port with HOME in a scratch
/// directory; killed (by its own pid) when dropped.
struct DaemonProcess {
    child: Child,
    url: String,
    home: PathBuf,
}

impl DaemonProcess {
    fn start(bin: &Path) -> anyhow::Result<DaemonProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free loopback port")?
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let home = std::env::temp_dir().join(format!("mirage-loadtest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
        let log = std::fs::File::create(home.join("daemon.log"))?;
        let child = Command::new(bin)
            .args(["daemon", "run"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("MIRAGE_DAEMON_URL", &url)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {} daemon run", bin.display()))?;
        let mut d = DaemonProcess { child, url, home };
        let start = Instant::now();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let req = format!(
                    "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                );
                let mut head = [0u8; 12];
                if s.write_all(req.as_bytes()).is_ok()
                    && s.read_exact(&mut head).is_ok()
                    && head.starts_with(b"HTTP/1.1 200")
                {
                    return Ok(d);
                }
            }
            if let Ok(Some(st)) = d.child.try_wait() {
                bail!(
                    "the daemon exited ({st}) before answering; its log:\n{}",
                    std::fs::read_to_string(d.home.join("daemon.log")).unwrap_or_default()
                );
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("the daemon did not answer /v1/health within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(self) {
        drop(self);
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}

fn with_token(rb: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(t) => rb.bearer_auth(t),
        None => rb,
    }
}

/// The part of a shell answer the load checks.
#[derive(Deserialize)]
struct ShellAnswer {
    exit_code: i64,
    #[serde(default)]
    stdout: String,
}

/// Creates a workspace with one RAM mount; returns its id.
async fn create_workspace(
    setup: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<String> {
    // `vfs:` is the model product's key (ours accepts it too), so `--url`
    // can drive either daemon.
    let body = serde_json::json!({
        "config": {"mounts": {"/data": {"vfs": "ram", "mode": "write"}}}
    });
    let resp = with_token(setup.post(format!("{url}/v1/workspaces")), token)
        .json(&body)
        .send()
        .await
        .context("creating the workspace")?;
    let status = resp.status();
    let created: serde_json::Value = resp.json().await.context("reading the created workspace")?;
    if !status.is_success() {
        bail!("creating the workspace: {status}: {created}");
    }
    Ok(created["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no id in the created workspace: {created}"))?
        .to_string())
}

/// Creates the workspace (unless given), warms up, runs the timed phase.
async fn load(
    url: &str,
    token: Option<&str>,
    pid: Option<u32>,
    opts: &Load,
) -> anyhow::Result<Report> {
    let url = url.trim_end_matches('/').to_string();
    let setup = client()?;
    let id = match &opts.workspace {
        Some(id) => id.clone(),
        None => create_workspace(&setup, &url, token).await?,
    };
    let shell = format!("{url}/v1/workspaces/{id}/shell");
    let mut sessions = Vec::with_capacity(opts.clients);
    for i in 0..opts.clients {
        if !opts.session_per_client {
            sessions.push(None);
            continue;
        }
        let sid = format!("load{i}");
        let resp = with_token(
            setup.post(format!("{url}/v1/workspaces/{id}/sessions")),
            token,
        )
        .json(&serde_json::json!({"session_id": sid}))
        .send()
        .await?;
        // 409: the session exists (a second run on --workspace)
        if !resp.status().is_success() && resp.status() != reqwest::StatusCode::CONFLICT {
            bail!("creating session {sid}: {}", resp.status());
        }
        sessions.push(Some(sid));
    }
    let expect_hi = opts.command == "echo hi";

    // One client per task, each warmed up with a few calls first.
    let warmup = 20.min(opts.calls);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(opts.clients + 1));
    let mut tasks = Vec::with_capacity(opts.clients);
    for sid in sessions {
        let shell = shell.clone();
        let command = opts.command.clone();
        let token = token.map(str::to_string);
        let barrier = barrier.clone();
        let calls = opts.calls;
        tasks.push(tokio::spawn(async move {
            let c = client()?;
            let mut body = serde_json::json!({"command": command});
            if let Some(s) = &sid {
                body["session_id"] = serde_json::Value::String(s.clone());
            }
            let body = serde_json::to_vec(&body)?;
            let one = |c: &reqwest::Client| {
                let rb = c
                    .post(&shell)
                    .header("content-type", "application/json")
                    .body(body.clone());
                let rb = with_token(rb, token.as_deref());
                async move {
                    let resp = rb.send().await.map_err(|e| format!("{e}"))?;
                    let status = resp.status();
                    let bytes = resp.bytes().await.map_err(|e| format!("{e}"))?;
                    if status != reqwest::StatusCode::OK {
                        return Err(format!(
                            "{status}: {}",
                            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                        ));
                    }
                    let a: ShellAnswer = serde_json::from_slice(&bytes).map_err(|e| {
                        format!(
                            "{e}: {}",
                            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                        )
                    })?;
                    if a.exit_code != 0 || (expect_hi && a.stdout != "hi\n") {
                        return Err(format!("exit {} stdout {:?}", a.exit_code, a.stdout));
                    }
                    Ok(())
                }
            };
            for _ in 0..warmup {
                let _ = one(&c).await;
            }
            barrier.wait().await;
            let mut lat = Vec::with_capacity(calls);
            let mut failed = 0usize;
            let mut first = None;
            for _ in 0..calls {
                let t = Instant::now();
                let r = one(&c).await;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                if let Err(e) = r {
                    failed += 1;
                    first.get_or_insert(e);
                }
            }
            anyhow::Ok((lat, failed, first))
        }));
    }
    barrier.wait().await;
    let rss_before_kb = pid.and_then(rss_kb);
    let load_avg = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok());
    let start = Instant::now();
    let mut lat = Vec::with_capacity(opts.clients * opts.calls);
    let mut failed = 0;
    let mut first_failure = None;
    for t in tasks {
        let (l, f, first) = t.await??;
        lat.extend(l);
        failed += f;
        if first_failure.is_none() {
            first_failure = first;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let rss_after_kb = pid.and_then(rss_kb);
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i]
    };
    let total = lat.len();
    let round = |v: f64| (v * 1e3).round() / 1e3;
    Ok(Report {
        clients: opts.clients,
        calls_per_client: opts.calls,
        ok: total - failed,
        failed,
        first_failure,
        seconds: round(seconds),
        lines_per_s: round(total as f64 / seconds),
        p50_ms: round(pct(0.50)),
        p99_ms: round(pct(0.99)),
        max_ms: round(lat.last().copied().unwrap_or(0.0)),
        rss_before_kb,
        rss_after_kb,
        load_avg,
    })
}
