//! The workspace config document (YAML or JSON), as `daemon-api.md`
//! describes it. `resource:` (the seed's key) and `vfs:` (the model
//! product's) are both accepted. Unknown keys are errors that name the key.

use std::collections::BTreeMap;

use mirage_types::{Error, ErrorKind, MountMode, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use mirage_recall::{CacheConfig, IndexConfig};

/// A whole workspace config.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// Mount prefix → mount.
    #[serde(default)]
    pub mounts: BTreeMap<String, MountConfig>,
    /// Where Recall keeps cached bytes: `{type: ram|redis|disk, limit,
    /// url, key_prefix, root}` (the model product's `cache:` block, plus
    /// `disk`).
    #[serde(default)]
    pub cache: Option<CacheConfig>,
    /// Where Recall keeps stat results and listings: `{type: ram|redis,
    /// ttl, url, key_prefix}` (the model product's `index:` block).
    #[serde(default)]
    pub index: Option<IndexConfig>,
    /// Environment of new sessions (exported).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The default session's working directory (default: the first mount).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Execution limits of every line (defaults: [`mirage_shell::state::Limits`]).
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The mode of every mount that names none (`read`, `write` or
    /// `exec`; the model product's workspace-level `mode`). Unset: `read`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mode: Option<MountMode>,
    /// The workspace id the daemon gives it when the create request names
    /// none (the model product's `workspace_id`).
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// The id of the session lines run in when they name none (default
    /// `default`; the model product's `default_session_id`).
    #[serde(default)]
    pub default_session_id: Option<String>,
    /// What `curl` and `wget` may reach (default: nothing). See
    /// [`crate::net::NetworkConfig`].
    #[serde(default)]
    pub network: crate::net::NetworkConfig,
}

/// The `limits:` section: each key set replaces the shell's default
/// ([`mirage_shell::state::Limits`]); past a limit the line stops with a
/// message on stderr and a non-zero status, and the workspace stays usable.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Wall time of one line in seconds (default 600; 0: no limit). Past
    /// it the line stops with status 124.
    #[serde(default)]
    pub wall_time_secs: Option<f64>,
    /// Loop iterations one line may run (default 100,000,000).
    #[serde(default)]
    pub max_loop_iterations: Option<u64>,
    /// How deep shell functions may nest (default 200).
    #[serde(default)]
    pub max_call_depth: Option<usize>,
    /// Simple commands one line may run (default 100,000,000).
    #[serde(default)]
    pub max_commands: Option<u64>,
    /// Bytes of stdout and stderr together one line may produce through
    /// `Workspace::execute` (default 1 GiB).
    #[serde(default)]
    pub max_output_bytes: Option<u64>,
    /// The largest value of one variable or word, in bytes (default 256 MiB).
    #[serde(default)]
    pub max_value_bytes: Option<usize>,
    /// Background jobs running at once in a session (default 256).
    #[serde(default)]
    pub max_jobs: Option<usize>,
}

impl LimitsConfig {
    /// The shell's limits with the keys set here replacing the defaults.
    pub fn apply(&self, mut l: mirage_shell::state::Limits) -> mirage_shell::state::Limits {
        if let Some(s) = self.wall_time_secs {
            l.wall_time =
                (s > 0.0 && s.is_finite()).then(|| std::time::Duration::from_secs_f64(s.min(1e9)));
        }
        if let Some(v) = self.max_loop_iterations {
            l.max_loop_iterations = v;
        }
        if let Some(v) = self.max_call_depth {
            l.max_call_depth = v;
        }
        if let Some(v) = self.max_commands {
            l.max_commands = v;
        }
        if let Some(v) = self.max_output_bytes {
            l.max_output_bytes = v;
        }
        if let Some(v) = self.max_value_bytes {
            l.max_value_bytes = v;
        }
        if let Some(v) = self.max_jobs {
            l.max_jobs = v;
        }
        l
    }
}

/// One mount.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MountConfig {
    /// The registered resource name (`ram`, `disk`, …); `vfs` is an alias.
    #[serde(alias = "vfs")]
    pub resource: String,
    /// `read`, `write` or `exec`; unset: the workspace's `mode`, else `read`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mode: Option<MountMode>,
    /// The resource's own config object.
    #[serde(default)]
    pub config: serde_json::Value,
    /// How a remote mount's reads use the cache: `fresh` (revalidate
    /// each read with a conditional request), `bounded` (trust an entry
    /// for `ttl`; the default, with 600 s) or `off`. See
    /// [`mirage_recall::MountPolicy::from_keys`].
    #[serde(default)]
    pub read: Option<String>,
    /// Seconds a `bounded` cache entry is trusted (at least 1).
    #[serde(default)]
    pub ttl: Option<u64>,
    /// `unconditional` (default: the last write wins) or `conditional`
    /// (a write carries the version last read and is refused when the
    /// object changed since).
    #[serde(default)]
    pub write: Option<String>,
    /// How the mount is shown to the host (the model product's
    /// `backend`): `workspace` (the default: only inside Mirage), `fuse`
    /// (the daemon also mounts this mount's subtree, rooted at its
    /// prefix, with FUSE at `mountpoint` when the workspace is created,
    /// and unmounts it at delete, close and shutdown) or `fskit`/`nfs`
    /// (the model's macOS and NFS kernel mounts: refused as unsupported
    /// by [`WorkspaceConfig::kernel_mounts`]).
    #[serde(default, skip_serializing_if = "MountBackend::is_workspace")]
    pub backend: MountBackend,
    /// The host directory a `backend: fuse` mount appears at: an existing
    /// directory, absolute (the CLI makes a relative one absolute against
    /// its current directory). Unset: the daemon makes a fresh directory
    /// under the system's temp directory, as the model product does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mountpoint: Option<String>,
}

/// How a mount is shown to the host (`backend:` of a mount block; the
/// model product's `MountBackend`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MountBackend {
    /// Only inside Mirage's own filesystem (shell, API): nothing is
    /// registered with the kernel.
    #[default]
    Workspace,
    /// Also a FUSE mount of the mount's subtree at `mountpoint`
    /// (`mirage-fuse`; Linux, `/dev/fuse`).
    Fuse,
    /// The model product's macOS FSKit mount: not supported here.
    Fskit,
    /// The model product's NFS mount: not supported here.
    Nfs,
}

impl MountBackend {
    /// Whether this is the default `workspace` backend.
    pub fn is_workspace(&self) -> bool {
        *self == MountBackend::Workspace
    }
    /// The word the config spells it with.
    pub fn as_str(&self) -> &'static str {
        match self {
            MountBackend::Workspace => "workspace",
            MountBackend::Fuse => "fuse",
            MountBackend::Fskit => "fskit",
            MountBackend::Nfs => "nfs",
        }
    }
}

/// Replaces `${VAR}` with environment values via `lookup`; names every
/// missing variable at once in the error.
pub fn interpolate(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut missing: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        if !missing.iter().any(|m| m == name) {
                            missing.push(name.to_string());
                        }
                    }
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    if !missing.is_empty() {
        return Err(Error::msg(
            ErrorKind::InvalidInput,
            format!("missing environment variables: {}", missing.join(", ")),
        ));
    }
    Ok(out)
}

impl WorkspaceConfig {
    /// Parses YAML (JSON is YAML too) after `${VAR}` interpolation from the
    /// process environment. Errors name the offending key and line.
    pub fn from_yaml(text: &str) -> Result<Self> {
        let text = interpolate(text, |n| std::env::var(n).ok())?;
        serde_saphyr::from_str(&text)
            .map_err(|e| Error::msg(ErrorKind::InvalidInput, format!("config: {e}")))
    }

    /// Parses a config already held as JSON (a daemon request's `config`),
    /// without interpolation. Errors (`InvalidInput`) name the unknown or
    /// malformed key.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self> {
        serde_json::from_value(value)
            .map_err(|e| Error::msg(ErrorKind::InvalidInput, format!("config: {e}")))
    }

    /// The mode of mount `m`: its own `mode`, else the workspace's, else `read`.
    pub fn mode_of(&self, m: &MountConfig) -> MountMode {
        m.mode.or(self.mode).unwrap_or(MountMode::Read)
    }

    /// This config with every credential replaced by [`REDACTED`]: the value
    /// of each key whose name says it holds one (`secret`, `password`,
    /// `token`, `access_key`, `api_key`, `credential`, `private_key`, in any
    /// case, at any depth: mount configs, `env:`, `cache:`), and the password
    /// of any URL (`redis://:pw@host` becomes `redis://:***@host`). What
    /// snapshots, replies and logs carry.
    pub fn redacted(&self) -> WorkspaceConfig {
        let Ok(mut v) = serde_json::to_value(self) else {
            return WorkspaceConfig::default();
        };
        redact_value(&mut v);
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Fills every [`REDACTED`] value (as [`WorkspaceConfig::redacted`]
    /// left it) from the environment variable named as its key in upper
    /// case (`aws_secret_access_key` from `AWS_SECRET_ACCESS_KEY`), looked up
    /// with `lookup`. Errors (`InvalidInput`): the missing variables, all
    /// named at once; a URL whose password was redacted (give the config
    /// again with it).
    pub fn restore_secrets(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<()> {
        let mut v = serde_json::to_value(&*self)
            .map_err(|e| Error::msg(ErrorKind::InvalidInput, format!("config: {e}")))?;
        let mut missing = Vec::new();
        restore_value(&mut v, &lookup, &mut missing);
        if !missing.is_empty() {
            missing.dedup();
            return Err(Error::msg(
                ErrorKind::InvalidInput,
                format!(
                    "missing environment variables for redacted credentials: {}",
                    missing.join(", ")
                ),
            ));
        }
        *self = Self::from_json_value(v)?;
        Ok(())
    }

    /// The mounts to show to the host with FUSE (the model product's
    /// `kernel_mounts()`): mount prefix → its `mountpoint` (`None`: the
    /// caller picks a fresh directory), for every mount whose `backend`
    /// is `fuse`, in prefix order. Mounts on the default `workspace`
    /// backend are absent. Errors (`Unsupported`): a mount asks for
    /// `fskit` or `nfs`, which this build cannot serve (the message
    /// names the prefix and the backend); (`InvalidInput`) a relative
    /// `mountpoint`.
    pub fn kernel_mounts(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut out = Vec::new();
        for (prefix, m) in &self.mounts {
            match m.backend {
                MountBackend::Workspace => {}
                MountBackend::Fuse => {
                    if let Some(mp) = &m.mountpoint
                        && !mp.starts_with('/')
                    {
                        return Err(Error::msg(
                            ErrorKind::InvalidInput,
                            format!("mounts.{prefix}.mountpoint: '{mp}' must be an absolute path"),
                        ));
                    }
                    out.push((prefix.clone(), m.mountpoint.clone()));
                }
                b @ (MountBackend::Fskit | MountBackend::Nfs) => {
                    return Err(Error::msg(
                        ErrorKind::Unsupported,
                        format!(
                            "mounts.{prefix}.backend: '{}' is unsupported here (only 'workspace' and 'fuse')",
                            b.as_str()
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The JSON Schema of the config document.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(WorkspaceConfig))
            .unwrap_or(serde_json::Value::Null)
    }
}

/// What a redacted credential reads as.
pub const REDACTED: &str = "***";

/// The words that mark a key as holding a credential.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "access_key",
    "api_key",
    "apikey",
    "credential",
    "private_key",
];

/// Whether a key's name says its value is a credential.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

/// `text` with the password of a URL in it replaced by [`REDACTED`]
/// (`scheme://user:pw@host…`); other text unchanged.
fn redact_url(text: &str) -> Option<String> {
    let scheme_end = text.find("://")? + 3;
    let rest = &text[scheme_end..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..auth_end].rfind('@')?;
    let colon = rest[..at].find(':')?;
    if &rest[colon + 1..at] == REDACTED {
        return None;
    }
    Some(format!(
        "{}{}:{REDACTED}{}",
        &text[..scheme_end],
        &rest[..colon],
        &rest[at..]
    ))
}

fn redact_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match val {
                    serde_json::Value::String(s) if is_secret_key(k) && !s.is_empty() => {
                        *s = REDACTED.to_string();
                    }
                    // the headers `network.allow` injects carry tokens: all
                    // of their values are secret
                    serde_json::Value::Object(h) if k == "headers" => {
                        for hv in h.values_mut() {
                            if let serde_json::Value::String(s) = hv
                                && !s.is_empty()
                            {
                                *s = REDACTED.to_string();
                            }
                        }
                    }
                    _ => redact_value(val),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        serde_json::Value::String(s) => {
            if let Some(r) = redact_url(s) {
                *s = r;
            }
        }
        _ => {}
    }
}

fn restore_value(
    v: &mut serde_json::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match val {
                    serde_json::Value::String(s) if s == REDACTED => {
                        let name = k.to_ascii_uppercase().replace('-', "_");
                        match lookup(&name) {
                            Some(x) => *s = x,
                            None => missing.push(name),
                        }
                    }
                    serde_json::Value::String(s) if s.contains(&format!(":{REDACTED}@")) => {
                        missing.push(format!("(the password of {k}: give the config again)"));
                    }
                    _ => restore_value(val, lookup, missing),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for x in items {
                restore_value(x, lookup, missing);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_keys_and_rejects_unknown() {
        let c = WorkspaceConfig::from_yaml(
            "mounts:\n  /data: {resource: ram, mode: write}\n  /b: {vfs: ram}\n",
        )
        .unwrap();
        assert_eq!(c.mode_of(&c.mounts["/data"]), MountMode::Write);
        assert_eq!(c.mounts["/b"].resource, "ram");
        assert_eq!(c.mode_of(&c.mounts["/b"]), MountMode::Read);
        let c = WorkspaceConfig::from_yaml("mode: write\nmounts:\n  /b: {vfs: ram}\n").unwrap();
        assert_eq!(c.mode_of(&c.mounts["/b"]), MountMode::Write);
        let e = WorkspaceConfig::from_yaml("mounts:\n  /data: {resource: ram, colour: red}\n")
            .unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn redaction_round_trips_through_the_environment() {
        let c = WorkspaceConfig::from_yaml(
            "mounts:\n  /s3: {resource: s3, config: {bucket: b, aws_access_key_id: AKIA1, aws_secret_access_key: s3cr3t}}\n\
             env: {API_TOKEN: tok1, GREETING: hi}\n\
             cache: {type: redis, url: 'redis://:pw9@127.0.0.1:6379/0'}\n",
        )
        .unwrap();
        let r = c.redacted();
        let text = serde_json::to_string(&r).unwrap();
        for secret in ["AKIA1", "s3cr3t", "tok1", "pw9"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("\"GREETING\":\"hi\""), "{text}");
        assert!(text.contains("redis://:***@127.0.0.1:6379/0"), "{text}");
        let mut back = r.clone();
        let e = back.restore_secrets(|_| None).unwrap_err().to_string();
        assert!(
            e.contains("AWS_SECRET_ACCESS_KEY") && e.contains("API_TOKEN"),
            "{e}"
        );
        let mut back = WorkspaceConfig { cache: None, ..r };
        back.restore_secrets(|n| Some(format!("from-{n}"))).unwrap();
        assert_eq!(back.env["API_TOKEN"], "from-API_TOKEN");
        assert_eq!(
            back.mounts["/s3"].config["aws_secret_access_key"],
            "from-AWS_SECRET_ACCESS_KEY"
        );
    }

    #[test]
    fn kernel_mounts_of_the_backend_keys() {
        let c = WorkspaceConfig::from_yaml(
            "mounts:\n  /data: {vfs: ram, backend: fuse, mountpoint: /mnt/d}\n  \
             /b: {vfs: ram, backend: workspace}\n  /c: {vfs: ram, backend: fuse}\n  /e: {vfs: ram}\n",
        )
        .unwrap();
        assert_eq!(
            c.kernel_mounts().unwrap(),
            vec![
                ("/c".to_string(), None),
                ("/data".to_string(), Some("/mnt/d".to_string()))
            ]
        );
        // the default backend is not written back
        let v = serde_json::to_value(&c).unwrap();
        assert!(v["mounts"]["/e"].get("backend").is_none(), "{v}");
        assert_eq!(v["mounts"]["/data"]["backend"], "fuse");
        let c = WorkspaceConfig::from_yaml("mounts:\n  /m: {vfs: ram, backend: fskit}\n").unwrap();
        let e = c.kernel_mounts().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(e.to_string().contains("'fskit' is unsupported"), "{e}");
        let c = WorkspaceConfig::from_yaml(
            "mounts:\n  /m: {vfs: ram, backend: fuse, mountpoint: rel}\n",
        )
        .unwrap();
        assert!(
            c.kernel_mounts()
                .unwrap_err()
                .to_string()
                .contains("absolute")
        );
        let e =
            WorkspaceConfig::from_yaml("mounts:\n  /m: {vfs: ram, backend: kernel}\n").unwrap_err();
        assert!(e.to_string().contains("kernel"), "{e}");
    }

    #[test]
    fn interpolation_names_all_missing() {
        let e = interpolate("${A} ${B} ${A}", |_| None).unwrap_err();
        assert!(e.to_string().contains("A, B"), "{e}");
        assert_eq!(interpolate("x${A}y", |_| Some("1".into())).unwrap(), "x1y");
    }
}
