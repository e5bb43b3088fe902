//! `mirage daemon run|status|stop|restart|kill`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, fail};
use crate::remote::output;
use crate::settings::Settings;

/// The largest request body `mirage daemon run` accepts (256 MiB: a
/// snapshot upload).
const MAX_BODY: usize = 256 << 20;

/// The flags of `mirage daemon run`.
#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// The IP address to listen on (default 127.0.0.1). Without a token
    /// the daemon serves loopback only.
    #[arg(long, value_name = "IP")]
    pub addr: Option<String>,
    /// The port (default: the port of the configured URL, 8765); 0 takes
    /// any free port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Read the bearer token from this environment variable (default:
    /// MIRAGE_TOKEN, else `[daemon] auth_token`).
    #[arg(long, value_name = "VAR")]
    pub token_from_env: Option<String>,
    /// Keep workspaces in this directory so they survive a restart
    /// (default: `[daemon] persist_dir`; none: not kept).
    #[arg(long, value_name = "DIR")]
    pub persist_dir: Option<PathBuf>,
    /// Exit this many seconds after the last workspace is gone (default:
    /// `[daemon] idle_grace_seconds`, 30); 0 never exits on its own.
    #[arg(long, value_name = "SECS")]
    pub idle_grace: Option<f64>,
    /// A `Host` header value to admit besides the loopback names (the
    /// check against DNS rebinding); repeatable, `*` admits any. Also
    /// MIRAGE_ALLOWED_HOSTS, comma-separated.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
}

/// The daemon's settings from the flags over `settings`.
pub fn daemon_settings(
    args: &RunArgs,
    settings: &Settings,
) -> anyhow::Result<mirage_server::DaemonSettings> {
    let ip: IpAddr = match &args.addr {
        Some(a) => match a.parse::<SocketAddr>() {
            Ok(sa) if args.port.is_none() => {
                return finish(args, settings, sa);
            }
            _ => a
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| fail(2, format!("--addr {a}: not an IP address")))?,
        },
        None => IpAddr::from([127, 0, 0, 1]),
    };
    let port = args.port.unwrap_or_else(|| settings.port());
    finish(args, settings, SocketAddr::new(ip, port))
}

fn finish(
    args: &RunArgs,
    settings: &Settings,
    addr: SocketAddr,
) -> anyhow::Result<mirage_server::DaemonSettings> {
    let token = match &args.token_from_env {
        Some(var) => std::env::var(var).map_err(|_| {
            fail(
                2,
                format!("--token-from-env {var}: the variable is not set"),
            )
        })?,
        None => settings.token.clone(),
    };
    let idle = args.idle_grace.unwrap_or(settings.idle_grace_seconds);
    if !idle.is_finite() || idle < 0.0 {
        return Err(fail(
            2,
            format!("--idle-grace {idle}: not a number of seconds"),
        ));
    }
    Ok(mirage_server::DaemonSettings {
        addr,
        token,
        persist_dir: args
            .persist_dir
            .clone()
            .or_else(|| settings.persist_dir.clone()),
        idle_grace: (idle > 0.0).then(|| Duration::from_secs_f64(idle.min(1e9))),
        max_body_bytes: MAX_BODY,
        allowed_hosts: allowed_hosts(args),
    })
}

/// The loopback names, then MIRAGE_ALLOWED_HOSTS's and the flags' hosts.
fn allowed_hosts(args: &RunArgs) -> Vec<String> {
    let mut hosts: Vec<String> = mirage_server::DEFAULT_ALLOWED_HOSTS
        .iter()
        .map(ToString::to_string)
        .collect();
    let from_env = std::env::var("MIRAGE_ALLOWED_HOSTS").unwrap_or_default();
    for h in from_env
        .split(',')
        .map(str::trim)
        .chain(args.allowed_hosts.iter().map(String::as_str))
    {
        if !h.is_empty() && !hosts.iter().any(|x| x == h) {
            hosts.push(h.to_string());
        }
    }
    hosts
}

/// `mirage daemon run`: the daemon in the foreground until it is shut
/// down; its pid in `~/.mirage/daemon.pid` while it runs.
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let settings = Settings::load().map_err(|e| fail(2, e))?;
    let ds = daemon_settings(&args, &settings)?;
    init_log()?;
    let pid_file = settings.pid_file();
    let pid = std::process::id();
    let wrote = std::fs::create_dir_all(&settings.home)
        .and_then(|()| std::fs::write(&pid_file, format!("{pid}\n")))
        .is_ok();
    let result = mirage_server::run(ds).await;
    if wrote && read_pid(&settings) == Some(pid as i32) {
        let _ = std::fs::remove_file(&pid_file);
    }
    result.map(|()| 0)
}

/// The daemon's log on stderr (`~/.mirage/daemon.log` when `workspace
/// create` started it): lifecycle events at `info`, or the level
/// MIRAGE_LOG names (`error`, `warn`, `info`, `debug`, `trace`).
fn init_log() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let level = match std::env::var("MIRAGE_LOG").as_deref().unwrap_or("info") {
        "error" => tracing_subscriber::filter::LevelFilter::ERROR,
        "warn" => tracing_subscriber::filter::LevelFilter::WARN,
        "info" | "" => tracing_subscriber::filter::LevelFilter::INFO,
        "debug" => tracing_subscriber::filter::LevelFilter::DEBUG,
        "trace" => tracing_subscriber::filter::LevelFilter::TRACE,
        "off" => tracing_subscriber::filter::LevelFilter::OFF,
        other => {
            return Err(fail(
                2,
                format!("MIRAGE_LOG={other}: expected error, warn, info, debug, trace or off"),
            ));
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    Ok(())
}

/// The pid in `~/.mirage/daemon.pid`, if any.
fn read_pid(settings: &Settings) -> Option<i32> {
    std::fs::read_to_string(settings.pid_file())
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether process `pid` exists.
fn alive(pid: i32) -> bool {
    let Some(p) = rustix::process::Pid::from_raw(pid) else {
        return false;
    };
    match rustix::process::test_kill_process(p) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// Sends `sig` to `pid`; false when there is no such process.
fn signal(pid: i32, sig: rustix::process::Signal) -> bool {
    rustix::process::Pid::from_raw(pid)
        .map(|p| rustix::process::kill_process(p, sig).is_ok())
        .unwrap_or(false)
}

/// The daemon's pid: its health reply's `pid`, else the pid file's.
fn pid_of(health: Option<&Value>, settings: &Settings) -> Option<i32> {
    health
        .and_then(|h| h.get("pid"))
        .and_then(Value::as_i64)
        .and_then(|p| i32::try_from(p).ok())
        .or_else(|| read_pid(settings))
}

/// `mirage daemon status`: exit 0 when a daemon answers, 1 when none does.
pub async fn status(client: &Client, json: bool) -> anyhow::Result<i32> {
    let url = client.settings.url.clone();
    match client.health(Duration::from_secs(2)).await {
        None => {
            let v = json!({"running": false, "url": url});
            output::emit(json, &v, |_| format!("Daemon not running. URL: {url}"))?;
            Ok(1)
        }
        Some(h) => {
            let mut v = json!({"running": true, "url": url});
            if let (Some(o), Some(h)) = (v.as_object_mut(), h.as_object()) {
                for (k, x) in h {
                    o.insert(k.clone(), x.clone());
                }
            }
            if v.get("pid").is_none()
                && let Some(p) = read_pid(&client.settings)
            {
                v["pid"] = json!(p);
            }
            output::emit(json, &v, |v| {
                let mut parts = vec![format!("Running. PID {}", output::text(v, "pid"))];
                if let Some(u) = v.get("uptime_s").and_then(Value::as_f64) {
                    parts.push(format!("uptime {}", output::span(u)));
                }
                if let Some(n) = v.get("workspaces").and_then(Value::as_u64) {
                    parts.push(format!("{n} workspace{}", if n == 1 { "" } else { "s" }));
                }
                format!("{}. URL: {url}", parts.join(", "))
            })?;
            Ok(0)
        }
    }
}

/// Waits until no daemon answers, up to `timeout`; true when none does.
async fn gone(client: &Client, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if client.health(Duration::from_millis(300)).await.is_none() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the daemon: `POST /v1/shutdown`, then SIGTERM to its pid when it
/// has not gone within `timeout`. The reply `{stopped, via, pid}`.
async fn stop_inner(client: &Client, timeout: Duration) -> anyhow::Result<Value> {
    let health = client.health(Duration::from_secs(2)).await;
    let Some(health) = health else {
        return Err(client.no_daemon());
    };
    let mut pid = pid_of(Some(&health), &client.settings);
    // a reply of 400 or more (a refused token) is the answer; a daemon
    // that goes before answering is stopping
    if let Ok(r) = client.request(Method::POST, "/v1/shutdown").send().await {
        if r.status().as_u16() >= 400 {
            return Err(client.refusal(r).await);
        }
        if pid.is_none()
            && let Ok(v) = r.json::<Value>().await
        {
            pid = v
                .get("pid")
                .and_then(Value::as_i64)
                .and_then(|p| i32::try_from(p).ok());
        }
    }
    if gone(client, timeout).await {
        return Ok(json!({"stopped": true, "via": "graceful", "pid": pid}));
    }
    if let Some(p) = pid.filter(|p| alive(*p))
        && signal(p, rustix::process::Signal::TERM)
        && gone(client, timeout).await
    {
        return Ok(json!({"stopped": true, "via": "sigterm", "pid": p}));
    }
    Err(fail(
        2,
        format!(
            "the daemon did not exit within {} s of POST /v1/shutdown{}; try `mirage daemon kill`",
            timeout.as_secs_f64(),
            if pid.is_some() { " and SIGTERM" } else { "" }
        ),
    ))
}

fn stopped(v: &Value) -> String {
    // "via" is "graceful" (POST /v1/shutdown) or "sigterm"
    let how = match output::text(v, "via").as_str() {
        "graceful" => String::new(),
        other => format!(" by {}", other.to_uppercase()),
    };
    match v.get("pid").and_then(Value::as_i64) {
        Some(p) => format!("Daemon stopped{how} (PID {p})."),
        None => format!("Daemon stopped{how}."),
    }
}

/// `mirage daemon stop`.
pub async fn stop(client: &Client, timeout: f64, json: bool) -> anyhow::Result<i32> {
    let v = stop_inner(client, secs(timeout)?).await?;
    output::emit(json, &v, stopped)?;
    Ok(0)
}

fn secs(t: f64) -> anyhow::Result<Duration> {
    if !t.is_finite() || t < 0.0 {
        return Err(fail(2, format!("--timeout {t}: not a number of seconds")));
    }
    Ok(Duration::from_secs_f64(t.min(1e6)))
}

/// `mirage daemon restart`: stop (when one runs), then start a fresh one
/// when `eager`, else leave it to the next `mirage workspace create`.
pub async fn restart(
    client: &Client,
    timeout: f64,
    eager: bool,
    json: bool,
) -> anyhow::Result<i32> {
    let timeout = secs(timeout)?;
    if client.health(Duration::from_secs(1)).await.is_some() {
        stop_inner(client, timeout).await?;
    }
    if eager {
        client.ensure_running(true).await?;
    }
    let v = json!({"restarted": true, "spawned_fresh": eager});
    output::emit(json, &v, |_| {
        if eager {
            "Restarted.".to_string()
        } else {
            "Stopped; the next `mirage workspace create` starts a fresh daemon.".to_string()
        }
    })?;
    Ok(0)
}

/// `mirage daemon kill`: SIGKILL to the daemon's pid (from its health
/// reply, else `~/.mirage/daemon.pid`). Workspaces not persisted are lost.
pub async fn kill(client: &Client, json: bool) -> anyhow::Result<i32> {
    let health = client.health(Duration::from_secs(1)).await;
    let pid = pid_of(health.as_ref(), &client.settings);
    let v = match pid {
        None => json!({"killed": false, "reason": "no daemon running", "pid": null}),
        Some(p) if !alive(p) => {
            json!({"killed": false, "reason": "process already gone", "pid": p})
        }
        Some(p) => {
            if signal(p, rustix::process::Signal::KILL) {
                if read_pid(&client.settings) == Some(p) {
                    let _ = std::fs::remove_file(client.settings.pid_file());
                }
                json!({"killed": true, "pid": p})
            } else {
                json!({"killed": false, "reason": "process gone", "pid": p})
            }
        }
    };
    output::emit(json, &v, |v| {
        match (v["killed"].as_bool(), v["pid"].as_i64()) {
            (Some(true), Some(p)) => format!("Killed PID {p}."),
            (_, None) => "Daemon not running.".to_string(),
            (_, Some(p)) => format!("Already gone (PID {p})."),
        }
    })?;
    Ok(0)
}
