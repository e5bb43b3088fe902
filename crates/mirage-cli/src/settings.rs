//! Where the daemon is and how to talk to it (seed 002's precedence).
//!
//! Highest first: `MIRAGE_DAEMON_URL` (the URL), `MIRAGE_TOKEN` (the bearer
//! token), then `~/.mirage/config.toml`'s `[daemon]` table (`url`,
//! `auth_token`, `persist_dir`, `idle_grace_seconds`), then the defaults
//! (`http://127.0.0.1:8765`, no token, no persistence, 30 s of grace).
//! `MIRAGE_HOME` replaces `~/.mirage` (as the model product's CLI reads it).

use std::path::{Path, PathBuf};

/// The daemon's URL when nothing names one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8765";

/// Seconds the daemon lives on after its last workspace is gone, by default.
pub const DEFAULT_IDLE_GRACE: f64 = 30.0;

/// The resolved settings of one CLI invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The daemon's base URL, without a trailing `/`.
    pub url: String,
    /// The bearer token sent on every request; empty: none.
    pub token: String,
    /// Where a daemon started from these settings persists workspaces.
    pub persist_dir: Option<PathBuf>,
    /// Seconds a daemon lives on after its last workspace is gone.
    pub idle_grace_seconds: f64,
    /// `~/.mirage`: the config file, the daemon's log and pid file.
    pub home: PathBuf,
}

/// The `[daemon]` table of `config.toml`; other tables are ignored, an
/// unknown key of this one is an error (a typo would silently do nothing).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DaemonTable {
    url: Option<String>,
    auth_token: Option<String>,
    persist_dir: Option<String>,
    idle_grace_seconds: Option<f64>,
    // the model product's keys, accepted so one config file serves both
    #[allow(dead_code)]
    port: Option<u16>,
    #[allow(dead_code)]
    socket: Option<String>,
    #[allow(dead_code)]
    allowed_hosts: Option<toml::Value>,
    #[allow(dead_code)]
    auth_mode: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    daemon: Option<DaemonTable>,
}

/// Refuses a daemon URL this client cannot reach: not a URL, or not
/// `http://` (this build speaks no TLS).
fn check_url(url: &str) -> Result<(), String> {
    let u = reqwest::Url::parse(url).map_err(|e| {
        format!("the daemon URL '{url}' is not a URL ({e}); expected http://HOST:PORT")
    })?;
    match u.scheme() {
        "http" if u.host_str().is_some() => Ok(()),
        "https" => Err(format!(
            "the daemon URL '{url}': https is not supported by this client; \
             use http:// (over an SSH tunnel or behind a TLS-terminating proxy)"
        )),
        _ => Err(format!("the daemon URL '{url}': expected http://HOST:PORT")),
    }
}

impl Settings {
    /// Settings from the process environment and `$HOME/.mirage/config.toml`.
    /// Errors: the config file exists but is not valid TOML or has an
    /// unknown `[daemon]` key (the message names the file).
    pub fn load() -> Result<Settings, String> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Self::resolve(|k| std::env::var(k).ok(), home.as_deref())
    }

    /// The settings `env` (a variable lookup) and the config file under
    /// `home` give, with seed 002's precedence.
    pub fn resolve(
        env: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Settings, String> {
        let user_home = home.unwrap_or_else(|| Path::new("/"));
        let home = match env("MIRAGE_HOME").filter(|h| !h.is_empty()) {
            Some(h) => std::path::absolute(&h).unwrap_or_else(|_| PathBuf::from(h)),
            None => user_home.join(".mirage"),
        };
        let path = home.join("config.toml");
        let table = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file: ConfigFile = toml::from_str(&text)
                    .map_err(|e| format!("{}: {}", path.display(), e.message()))?;
                file.daemon.unwrap_or_default()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DaemonTable::default(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        let url = nonempty(env("MIRAGE_DAEMON_URL"))
            .or(nonempty(table.url))
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        check_url(&url)?;
        let token = nonempty(env("MIRAGE_TOKEN"))
            .or(table.auth_token)
            .unwrap_or_default();
        let idle = table.idle_grace_seconds.unwrap_or(DEFAULT_IDLE_GRACE);
        if !idle.is_finite() || idle < 0.0 {
            return Err(format!(
                "{}: idle_grace_seconds must be a number of seconds, not {idle}",
                path.display()
            ));
        }
        Ok(Settings {
            url: url.trim_end_matches('/').to_string(),
            token,
            // `~/…` is the user's home, as a shell would read it
            persist_dir: nonempty(table.persist_dir).map(|p| match p.strip_prefix("~/") {
                Some(rest) => user_home.join(rest),
                None => PathBuf::from(p),
            }),
            idle_grace_seconds: idle,
            home,
        })
    }

    /// Whether the URL names this machine (a loopback host): only then may
    /// the CLI start a daemon for it.
    pub fn is_local(&self) -> bool {
        matches!(
            self.host().as_deref(),
            Some("127.0.0.1" | "localhost" | "::1" | "[::1]")
        )
    }

    /// The URL's host, if it parses.
    fn host(&self) -> Option<String> {
        reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
    }

    /// The URL's port (default 8765 when it names none: the daemon's).
    pub fn port(&self) -> u16 {
        reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.port())
            .unwrap_or(8765)
    }

    /// The daemon's log file, `~/.mirage/daemon.log`.
    pub fn log_file(&self) -> PathBuf {
        self.home.join("daemon.log")
    }

    /// The daemon's pid file, `~/.mirage/daemon.pid` (written by
    /// `mirage daemon run`, as the model product's daemon writes it).
    pub fn pid_file(&self) -> PathBuf {
        self.home.join("daemon.pid")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn home_with(config: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".mirage")).unwrap();
        std::fs::write(d.path().join(".mirage/config.toml"), config).unwrap();
        d
    }

    #[test]
    fn defaults_without_env_or_file() {
        let d = tempfile::tempdir().unwrap();
        let s = Settings::resolve(env(&[]), Some(d.path())).unwrap();
        assert_eq!(s.url, DEFAULT_URL);
        assert_eq!(s.token, "");
        assert_eq!(s.persist_dir, None);
        assert_eq!(s.idle_grace_seconds, 30.0);
        assert_eq!(s.port(), 8765);
        assert!(s.is_local());
        assert_eq!(s.log_file(), d.path().join(".mirage/daemon.log"));
    }

    #[test]
    fn file_values_are_used() {
        let d = home_with(
            "[other]\nx = 1\n[daemon]\nurl = \"http://localhost:9000/\"\nauth_token = \"filetok\"\n\
             persist_dir = \"/var/mirage\"\nidle_grace_seconds = 5\n",
        );
        let s = Settings::resolve(env(&[]), Some(d.path())).unwrap();
        assert_eq!(s.url, "http://localhost:9000");
        assert_eq!(s.token, "filetok");
        assert_eq!(s.persist_dir, Some(PathBuf::from("/var/mirage")));
        assert_eq!(s.idle_grace_seconds, 5.0);
        assert_eq!(s.port(), 9000);
    }

    #[test]
    fn env_beats_file() {
        let d = home_with("[daemon]\nurl = \"http://localhost:9000\"\nauth_token = \"filetok\"\n");
        let s = Settings::resolve(
            env(&[
                ("MIRAGE_DAEMON_URL", "http://10.0.0.5:7000"),
                ("MIRAGE_TOKEN", "envtok"),
            ]),
            Some(d.path()),
        )
        .unwrap();
        assert_eq!(s.url, "http://10.0.0.5:7000");
        assert_eq!(s.token, "envtok");
        assert!(!s.is_local());
        // each variable on its own overrides only its own key
        let s = Settings::resolve(env(&[("MIRAGE_TOKEN", "envtok")]), Some(d.path())).unwrap();
        assert_eq!(s.url, "http://localhost:9000");
        assert_eq!(s.token, "envtok");
        let s = Settings::resolve(
            env(&[("MIRAGE_DAEMON_URL", "http://127.0.0.1:1")]),
            Some(d.path()),
        )
        .unwrap();
        assert_eq!(s.url, "http://127.0.0.1:1");
        assert_eq!(s.token, "filetok");
        // an empty variable counts as unset
        let s = Settings::resolve(env(&[("MIRAGE_TOKEN", "")]), Some(d.path())).unwrap();
        assert_eq!(s.token, "filetok");
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let d = home_with("[daemon]\npersist_dir = \"~/state\"\n");
        let s = Settings::resolve(env(&[]), Some(d.path())).unwrap();
        assert_eq!(s.persist_dir, Some(d.path().join("state")));
        // MIRAGE_HOME holds the config file instead of ~/.mirage
        let other = tempfile::tempdir().unwrap();
        std::fs::write(
            other.path().join("config.toml"),
            "[daemon]\nauth_token = \"t2\"\n",
        )
        .unwrap();
        let s = Settings::resolve(
            env(&[("MIRAGE_HOME", other.path().to_str().unwrap())]),
            Some(d.path()),
        )
        .unwrap();
        assert_eq!(s.token, "t2");
        assert_eq!(s.pid_file(), other.path().join("daemon.pid"));
        let d = home_with("[daemon\n");
        let e = Settings::resolve(env(&[]), Some(d.path())).unwrap_err();
        assert!(e.contains("config.toml"), "{e}");
        let d = home_with("[daemon]\nurll = \"x\"\n");
        let e = Settings::resolve(env(&[]), Some(d.path())).unwrap_err();
        assert!(e.contains("urll"), "{e}");
        for bad in ["notaurl", "https://127.0.0.1:1", "ftp://x"] {
            let d = tempfile::tempdir().unwrap();
            let e =
                Settings::resolve(env(&[("MIRAGE_DAEMON_URL", bad)]), Some(d.path())).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
        let d = home_with("[daemon]\nidle_grace_seconds = -1\n");
        assert!(Settings::resolve(env(&[]), Some(d.path())).is_err());
    }
}
