//! The daemon's HTTP client: one request per CLI command, the bearer
//! token on each, errors that say what to do, and the daemon started on
//! demand (`mirage workspace create` when none answers).

use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use crate::settings::Settings;

/// How long a spawned daemon has to answer `/v1/health`.
const SPAWN_WAIT: Duration = Duration::from_secs(5);

/// A command's failure: the message `mirage` prints (after `mirage: `) and
/// its exit status.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: i32,
    /// What went wrong and, where we know it, what to do.
    pub msg: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Failure {}

/// A [`Failure`] with exit status `code`, as an `anyhow::Error`.
pub fn fail(code: i32, msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        code,
        msg: msg.into(),
    })
}

/// The client of one CLI invocation.
pub struct Client {
    /// The settings it was made from.
    pub settings: Settings,
    http: reqwest::Client,
}

/// `s` as one URL path segment (percent-encoded).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path` with the query `pairs` (percent-encoded) appended.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", seg(k), seg(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

impl Client {
    /// A client for `settings` (no proxy: the daemon is reached directly).
    pub fn new(settings: Settings) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Client { settings, http })
    }

    /// A client for the settings of the environment and config file.
    pub fn from_env() -> anyhow::Result<Client> {
        let settings = Settings::load().map_err(|e| fail(2, e))?;
        Client::new(settings)
    }

    /// A request to `path` (which starts with `/v1/`), with the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let rb = self
            .http
            .request(method, format!("{}{}", self.settings.url, path));
        if self.settings.token.is_empty() {
            rb
        } else {
            rb.bearer_auth(&self.settings.token)
        }
    }

    /// The error for a request that reached no daemon.
    pub fn no_daemon(&self) -> anyhow::Error {
        fail(
            1,
            format!(
                "no daemon at {}; run `mirage workspace create CONFIG` to start one",
                self.settings.url
            ),
        )
    }

    /// Sends `rb`; a reply of 400 or more becomes a [`Failure`]: 401 says
    /// how to give the token, a VFS call's `errno` reply is its own words
    /// (exit 1), any other its `detail` (exit 2).
    pub async fn send(&self, rb: RequestBuilder) -> anyhow::Result<Response> {
        let r = match rb.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Err(self.no_daemon()),
            Err(e) => return Err(fail(1, format!("request to the daemon failed: {e}"))),
        };
        if r.status().as_u16() < 400 {
            return Ok(r);
        }
        Err(self.refusal(r).await)
    }

    /// The [`Failure`] a reply of 400 or more means.
    pub async fn refusal(&self, r: Response) -> anyhow::Error {
        let status = r.status();
        if status == StatusCode::UNAUTHORIZED {
            return fail(
                1,
                format!(
                    "the daemon at {} refused the token; set MIRAGE_TOKEN or [daemon] auth_token in ~/.mirage/config.toml",
                    self.settings.url
                ),
            );
        }
        let text = r.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let detail = match body.get("detail") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None if text.is_empty() => status.to_string(),
            None => text.trim_end().to_string(),
        };
        if let Some(errno) = body.get("errno").and_then(Value::as_str) {
            return fail(1, format!("{detail} ({errno})"));
        }
        fail(2, format!("daemon error {}: {detail}", status.as_u16()))
    }

    /// Sends a JSON request (`body` when given) and returns the JSON reply
    /// (`{}` for an empty one).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut rb = self.request(method, path);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = self.send(rb).await?;
        let bytes = r.bytes().await?;
        if bytes.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| fail(2, format!("the daemon's reply is not JSON ({e})")))
    }

    /// `GET /v1/health` within `timeout`: the reply, or `None` when no
    /// daemon answers (or it answers with an error).
    pub async fn health(&self, timeout: Duration) -> Option<Value> {
        let r = self
            .request(Method::GET, "/v1/health")
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }

    /// Makes sure a daemon answers (commands other than `workspace create`
    /// and `load` do not ask first: their one request fails with
    /// [`Client::no_daemon`]). When none does and `spawn` is set and
    /// the URL is on this machine, starts `mirage daemon run` detached
    /// (its output in `~/.mirage/daemon.log`) and waits up to 5 s for it.
    pub async fn ensure_running(&self, spawn: bool) -> anyhow::Result<()> {
        if self.health(Duration::from_millis(1500)).await.is_some() {
            return Ok(());
        }
        if !spawn {
            return Err(self.no_daemon());
        }
        if !self.settings.is_local() {
            return Err(fail(
                1,
                format!(
                    "no daemon at {}, and it is not on this machine: start one there (`mirage daemon run`)",
                    self.settings.url
                ),
            ));
        }
        let mut child = self.spawn_daemon()?;
        let log = self.settings.log_file();
        let deadline = Instant::now() + SPAWN_WAIT;
        while Instant::now() < deadline {
            if self.health(Duration::from_millis(300)).await.is_some() {
                return Ok(());
            }
            if let Ok(Some(st)) = child.try_wait() {
                // lost the port to another daemon started at once: use it
                if self.health(Duration::from_millis(500)).await.is_some() {
                    return Ok(());
                }
                return Err(fail(
                    1,
                    format!(
                        "the daemon exited ({st}) before answering {}/v1/health; see {}",
                        self.settings.url,
                        log.display()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(fail(
            1,
            format!(
                "the daemon started but did not answer {}/v1/health within {} s; see {}",
                self.settings.url,
                SPAWN_WAIT.as_secs(),
                log.display()
            ),
        ))
    }

    /// Starts `mirage daemon run --port PORT` in a process group of its
    /// own (a Ctrl-C at the terminal does not reach it), stdin from
    /// `/dev/null`, stdout and stderr appended to `~/.mirage/daemon.log`.
    fn spawn_daemon(&self) -> anyhow::Result<std::process::Child> {
        use std::os::unix::process::CommandExt;
        let exe = std::env::current_exe().map_err(|e| {
            fail(
                1,
                format!("cannot find the mirage binary to start a daemon: {e}"),
            )
        })?;
        std::fs::create_dir_all(&self.settings.home)
            .map_err(|e| fail(1, format!("{}: {e}", self.settings.home.display())))?;
        let log_path = self.settings.log_file();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| fail(1, format!("{}: {e}", log_path.display())))?;
        let log2 = log.try_clone()?;
        std::process::Command::new(exe)
            .args(["daemon", "run", "--port", &self.settings.port().to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0)
            .spawn()
            .map_err(|e| fail(1, format!("starting the daemon: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(seg("ws-1_a.b~"), "ws-1_a.b~");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
        assert_eq!(seg("é"), "%C3%A9");
    }
}
