//! The config of a `redis` mount: the model product's two keys.

/// The default server: the local Redis, database 0.
pub const DEFAULT_URL: &str = "redis://localhost:6379/0";
/// The default key prefix (the model product's).
pub const DEFAULT_KEY_PREFIX: &str = "mirage:fs:";

/// Config of a `redis` mount (`config:` in the workspace file). Unknown
/// keys are refused (`deny_unknown_fields`), so a typo is an error.
///
/// ```yaml
/// mounts:
///   /r: {resource: redis, config: {url: "redis://127.0.0.1:6379/0", key_prefix: "mirage:fs:"}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// The server, as a Redis URL: `redis://[user:password@]host[:port][/db]`
    /// (`rediss://` for TLS is not built in). Default
    /// `redis://localhost:6379/0`. `--mount /r=redis:URL` sets it.
    #[serde(default = "default_url")]
    pub url: String,
    /// The prefix of every key this mount reads and writes (default
    /// `mirage:fs:`): files are `{key_prefix}file:{path}`, the directory set
    /// `{key_prefix}dir`, mtimes `{key_prefix}modified:{path}`, mode bits the
    /// hash `{key_prefix}attrs:{path}`. Two mounts with different prefixes
    /// share a server without seeing each other.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

fn default_url() -> String {
    DEFAULT_URL.to_string()
}

fn default_key_prefix() -> String {
    DEFAULT_KEY_PREFIX.to_string()
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: default_url(),
            key_prefix: default_key_prefix(),
        }
    }
}

impl RedisConfig {
    /// Reads a mount's `config:` object (`null` gives the defaults).
    ///
    /// # Errors
    /// `InvalidInput` naming the bad key or value.
    pub fn from_json(config: &serde_json::Value) -> mirage_types::Result<Self> {
        if config.is_null() {
            return Ok(RedisConfig::default());
        }
        serde_json::from_value(config.clone()).map_err(|e| {
            mirage_types::Error::msg(
                mirage_types::ErrorKind::InvalidInput,
                format!("redis: invalid config: {e}"),
            )
        })
    }
}

/// `url` with any password replaced by `***`, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..auth_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let user = match userinfo.find(':') {
        Some(colon) => format!("{}:***", &userinfo[..colon]),
        None if userinfo.is_empty() => String::new(),
        // `redis://secret@host`: a bare password (the redis crate reads it so)
        None => "***".to_string(),
    };
    format!("{}{user}{}", &url[..scheme_end + 3], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("redis://localhost:6379/0"),
            "redis://localhost:6379/0"
        );
        assert_eq!(redact_url("redis://u:p%40ss@h:1/2"), "redis://u:***@h:1/2");
        assert_eq!(redact_url("redis://:pw@h/0"), "redis://:***@h/0");
        assert_eq!(redact_url("redis://pw@h"), "redis://***@h");
    }

    #[test]
    fn defaults_and_unknown_keys() {
        let c = RedisConfig::from_json(&serde_json::json!({})).unwrap();
        assert_eq!(c, RedisConfig::default());
        assert!(RedisConfig::from_json(&serde_json::json!({"urll": "x"})).is_err());
        let c = RedisConfig::from_json(&serde_json::json!({"url": "redis://h/1"})).unwrap();
        assert_eq!(
            (c.url.as_str(), c.key_prefix.as_str()),
            ("redis://h/1", "mirage:fs:")
        );
    }
}
