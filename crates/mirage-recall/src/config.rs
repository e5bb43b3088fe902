//! The cache's config shapes, as the model product spells them
//! (`daemon-api.md`): the workspace's `cache:` and `index:` blocks and a
//! mount's `read`, `ttl` and `write` keys.

use std::time::Duration;

use mirage_types::{Error, ErrorKind, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The default `ttl` of `read: bounded` (and of a mount without `read:`),
/// in seconds, as the model product's `DEFAULT_READ_TTL`.
pub const DEFAULT_TTL_SECS: u64 = 600;

/// The default memory limit of the file cache: 512 MiB (the model's `512MB`).
pub const DEFAULT_LIMIT_BYTES: u64 = 512 << 20;

/// Where cached bytes live (`cache: {type: …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoreType {
    /// In this process's memory, bounded by `limit` (S3-FIFO eviction).
    #[default]
    Ram,
    /// In a Redis server (`url`, `key_prefix`), shared by several daemons.
    Redis,
    /// In a redb file under `root`, which survives a restart (our
    /// extension: the model product has no disk cache).
    Disk,
}

/// The workspace's `cache:` block: where the FileStore keeps bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// `ram` (default), `redis` or `disk`.
    #[serde(default, rename = "type")]
    pub store: StoreType,
    /// The byte bound: an integer, or digits with `K`, `KB`, `M`, `MB`, `G`,
    /// `GB` (binary: `MB` is 2^20, as the model's `parse_limit`). Default
    /// `512MB`. For `redis`, the server's own `maxmemory` bounds it.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub limit: Option<serde_json::Value>,
    /// Accepted for the model product's configs; unused.
    #[serde(default)]
    pub max_drain_bytes: Option<u64>,
    /// `redis`: the server (default `redis://localhost:6379/0`).
    #[serde(default)]
    pub url: Option<String>,
    /// `redis`: the prefix of every key (default `mirage:cache:`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// `disk`: the directory of the redb file (created if missing).
    #[serde(default)]
    pub root: Option<String>,
    /// Accepted from earlier configs: `true` is `type: disk`.
    #[serde(default)]
    pub persist: Option<bool>,
}

impl CacheConfig {
    /// The `limit` in bytes. Errors: `InvalidInput` naming the bad value.
    pub fn limit_bytes(&self) -> Result<u64> {
        match &self.limit {
            None | Some(serde_json::Value::Null) => Ok(DEFAULT_LIMIT_BYTES),
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().ok_or_else(|| bad_limit(&n.to_string()))
            }
            Some(serde_json::Value::String(s)) => parse_limit(s),
            Some(v) => Err(bad_limit(&v.to_string())),
        }
    }
}

fn bad_limit(s: &str) -> Error {
    Error::msg(
        ErrorKind::InvalidInput,
        format!("cache: limit: {s:?} is not a size (use a number of bytes or e.g. 512MB)"),
    )
}

/// Parses a size as the model product's `parse_limit`: bare digits are
/// bytes; a `K`/`KB`, `M`/`MB`, `G`/`GB` suffix (any case) multiplies by
/// 2^10, 2^20, 2^30. Errors: `InvalidInput`.
pub fn parse_limit(s: &str) -> Result<u64> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let (digits, shift) = [
        ("GB", 30),
        ("MB", 20),
        ("KB", 10),
        ("G", 30),
        ("M", 20),
        ("K", 10),
    ]
    .iter()
    .find_map(|(suf, sh)| upper.strip_suffix(suf).map(|d| (d.trim().to_string(), *sh)))
    .unwrap_or((upper.clone(), 0));
    let n: u64 = digits.parse().map_err(|_| bad_limit(s))?;
    n.checked_mul(1u64 << shift).ok_or_else(|| bad_limit(s))
}

/// The workspace's `index:` block: where stat results and listings are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// `ram` (default) or `redis`.
    #[serde(default, rename = "type")]
    pub store: StoreType,
    /// Seconds a stat or a listing is trusted on a `read: fresh` mount
    /// (default 600, as the model). A `bounded` mount uses its own `ttl`.
    #[serde(default)]
    pub ttl: Option<f64>,
    /// `redis`: the server (default `redis://localhost:6379/0`).
    #[serde(default)]
    pub url: Option<String>,
    /// `redis`: the prefix of every key (default `mirage:index:`).
    #[serde(default)]
    pub key_prefix: Option<String>,
}

/// How a mount's reads use the cache (`read:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPolicy {
    /// Every read of cached bytes is revalidated with the backend by a
    /// conditional request (`If-None-Match`; a 304 serves the cache).
    Fresh,
    /// A cached entry is trusted for this long, then revalidated.
    Bounded(Duration),
    /// No cache: every call goes to the backend.
    Off,
}

/// How a mount's writes treat the version last read (`write:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WritePolicy {
    /// The last write wins (default).
    #[default]
    Unconditional,
    /// A write carries the version token last read (`If-Match` on S3, a
    /// compare-and-set script on Redis) and is refused with `Conflict`
    /// when the object changed since.
    Conditional,
}

/// One mount's cache policy, from its `read`, `ttl`, `write` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountPolicy {
    /// Reads.
    pub read: ReadPolicy,
    /// Writes.
    pub write: WritePolicy,
    /// How long a stat or listing is trusted under `fresh` (the index's `ttl`).
    pub index_ttl: Duration,
}

impl Default for MountPolicy {
    fn default() -> Self {
        MountPolicy {
            read: ReadPolicy::Bounded(Duration::from_secs(DEFAULT_TTL_SECS)),
            write: WritePolicy::Unconditional,
            index_ttl: Duration::from_secs(DEFAULT_TTL_SECS),
        }
    }
}

impl MountPolicy {
    /// Builds the policy of the mount `prefix` from its keys, with the
    /// model product's rules: no `read` is `bounded` with a 600 s `ttl`;
    /// `ttl` needs `read: bounded` (or no `read`); `ttl` is at least 1;
    /// `read: off` (ours) turns the cache off; `pinned` and `staged` are
    /// refused; `write: conditional` needs a cache (`read` not `off`).
    ///
    /// Errors: `InvalidInput` with a message naming the mount and the key.
    pub fn from_keys(
        prefix: &str,
        read: Option<&str>,
        ttl: Option<u64>,
        write: Option<&str>,
        index_ttl: Duration,
    ) -> Result<Self> {
        let bad = |m: String| Error::msg(ErrorKind::InvalidInput, format!("mount '{prefix}': {m}"));
        if ttl == Some(0) {
            return Err(bad("ttl must be at least 1 second".into()));
        }
        let read = match (read, ttl) {
            (None | Some("bounded"), t) => {
                ReadPolicy::Bounded(Duration::from_secs(t.unwrap_or(DEFAULT_TTL_SECS)))
            }
            (Some("fresh"), None) => ReadPolicy::Fresh,
            (Some("off"), None) => ReadPolicy::Off,
            (Some(r @ ("fresh" | "off")), Some(_)) => {
                return Err(bad(format!(
                    "ttl pins the read bound; it takes read: bounded, not read: {r}"
                )));
            }
            (Some("pinned"), _) => return Err(bad("read: pinned is not supported".into())),
            (Some(r), _) => {
                return Err(bad(format!(
                    "read: {r:?} is not one of fresh, bounded, off"
                )));
            }
        };
        let write = match write {
            None | Some("unconditional") => WritePolicy::Unconditional,
            Some("conditional") => WritePolicy::Conditional,
            Some("staged") => return Err(bad("write: staged is not supported".into())),
            Some(w) => {
                return Err(bad(format!(
                    "write: {w:?} is not one of unconditional, conditional"
                )));
            }
        };
        if write == WritePolicy::Conditional && read == ReadPolicy::Off {
            return Err(bad(
                "write: conditional needs a mount that caches reads (read: fresh or bounded)"
                    .into(),
            ));
        }
        Ok(MountPolicy {
            read,
            write,
            index_ttl,
        })
    }

    /// How long a stat or listing entry is trusted.
    pub fn index_trust(&self) -> Option<Duration> {
        match self.read {
            ReadPolicy::Fresh => Some(self.index_ttl),
            ReadPolicy::Bounded(t) => Some(t),
            ReadPolicy::Off => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn limits_parse_as_the_model() {
        assert_eq!(parse_limit("512MB").unwrap(), 512 << 20);
        assert_eq!(parse_limit("1g").unwrap(), 1 << 30);
        assert_eq!(parse_limit("10k").unwrap(), 10 << 10);
        assert_eq!(parse_limit("123").unwrap(), 123);
        assert!(parse_limit("lots").is_err());
    }

    #[test]
    fn policies_follow_the_model_rules() {
        let t = Duration::from_secs(600);
        let p = MountPolicy::from_keys("/s3", None, None, None, t).unwrap();
        assert_eq!(p.read, ReadPolicy::Bounded(Duration::from_secs(600)));
        let p = MountPolicy::from_keys("/s3", Some("fresh"), None, Some("conditional"), t).unwrap();
        assert_eq!(
            (p.read, p.write),
            (ReadPolicy::Fresh, WritePolicy::Conditional)
        );
        let e = MountPolicy::from_keys("/s3", Some("fresh"), Some(5), None, t).unwrap_err();
        assert!(e.to_string().contains("ttl pins the read bound"), "{e}");
        assert!(MountPolicy::from_keys("/s3", Some("off"), None, Some("conditional"), t).is_err());
        assert!(MountPolicy::from_keys("/s3", None, Some(0), None, t).is_err());
        assert!(MountPolicy::from_keys("/s3", Some("pinned"), None, None, t).is_err());
    }
}
