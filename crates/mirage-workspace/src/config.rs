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
    /// `read` (default), `write` or `exec`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub mode: MountMode,
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

    /// The JSON Schema of the config document.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(WorkspaceConfig))
            .unwrap_or(serde_json::Value::Null)
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
        assert_eq!(c.mounts["/data"].mode, MountMode::Write);
        assert_eq!(c.mounts["/b"].resource, "ram");
        assert_eq!(c.mounts["/b"].mode, MountMode::Read);
        let e = WorkspaceConfig::from_yaml("mounts:\n  /data: {resource: ram, colour: red}\n")
            .unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn interpolation_names_all_missing() {
        let e = interpolate("${A} ${B} ${A}", |_| None).unwrap_err();
        assert!(e.to_string().contains("A, B"), "{e}");
        assert_eq!(interpolate("x${A}y", |_| Some("1".into())).unwrap(), "x1y");
    }
}
