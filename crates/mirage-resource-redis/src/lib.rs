//! The `redis` resource: a directory tree in Redis, with the model
//! product's key layout, so a mount written by either product reads in the
//! other:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{key_prefix}file:{path}` | STRING | the file's bytes |
//! | `{key_prefix}dir` | SET | every directory path (`/` always) |
//! | `{key_prefix}modified:{path}` | STRING | mtime, RFC 3339 UTC (`2026-12-02T04:23:07.431338Z`) |
//! | `{key_prefix}attrs:{path}` | HASH | `mode` (decimal, as `chmod` sets it) |
//!
//! Paths are the resource paths (`/d/a.txt`, no escaping: spaces and `%`
//! stay raw); the default `key_prefix` is `mirage:fs:`. We write mtimes
//! with six fraction digits, and read them with or without a fraction.
//!
//! Listings use `SSCAN` on the directory set and `SCAN MATCH
//! {key_prefix}file:{dir}/*` (never `KEYS`), keeping direct children, or
//! every descendant for a recursive listing (`find`, `grep -r`: one scan
//! for the whole subtree, not one per directory).
//!
//! Every change is one Lua script, so it is atomic on the server: a write
//! checks that the parent is a directory in the same step, a rename moves
//! a whole subtree at once (the model product moves key by key), and a
//! conditional write (`write_with` with `if_match`) compares the stored
//! version in the same step as the `SET`.
//!
//! Versions are [`mirage_types::VersionToken::MtimeSize`]: the stored mtime
//! (to the microsecond) and the size. Two writes of the same size within
//! one microsecond look alike.
//!
//! The connection ([`redis::aio::ConnectionManager`]) is made on first
//! use, with a 3 s connect timeout, so building a mount never blocks; it
//! reconnects by itself after a server restart, and an op that fails on
//! the dropped connection is retried once (an append only when nothing
//! was sent). Errors from the server are `Remote { retryable }` naming the
//! URL (its password hidden).
#![deny(missing_docs)]

mod accessor;
pub mod config;
mod ops;
mod scripts;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mirage_ops::{Resource, ResourceRegistration, TestConfig};
use mirage_types::{Error, ErrorKind, Result};

use accessor::Accessor;
pub use config::RedisConfig;

/// A directory tree stored in one Redis database under a key prefix (see
/// the crate docs for the layout). Capability: write, native append and
/// rename, real directories, remote, range reads, conditional writes,
/// chmod, recursive listings (one SCAN for a whole subtree).
pub struct RedisResource {
    acc: Arc<Accessor>,
}

impl std::fmt::Debug for RedisResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisResource")
            .field("url", &self.acc.url)
            .field("key_prefix", &String::from_utf8_lossy(&self.acc.prefix))
            .finish()
    }
}

impl RedisResource {
    /// A resource on the server and prefix of `cfg`. It does not connect:
    /// the first op does.
    ///
    /// # Errors
    /// `InvalidInput` for a URL that is not a Redis URL.
    pub fn new(cfg: &RedisConfig) -> Result<Self> {
        Ok(RedisResource {
            acc: Arc::new(Accessor::new(cfg)?),
        })
    }
}

/// Builds the resource from its mount's `config:` object (`url`,
/// `key_prefix`; see [`RedisConfig`]).
///
/// # Errors
/// `InvalidInput` for an unknown key or a bad URL. A server that is down
/// is not an error here: the first op fails with `Remote`.
pub fn build(config: &serde_json::Value) -> Result<Arc<dyn Resource>> {
    let cfg = RedisConfig::from_json(config)?;
    Ok(Arc::new(RedisResource::new(&cfg)?))
}

/// The variable that names the behaviour suite's Redis server.
pub const TEST_URL_VAR: &str = "MIRAGE_TEST_REDIS_URL";

/// Deletes every key under a prefix when dropped (best effort): the
/// behaviour suite's scratch instance cleans up after itself.
struct PrefixGuard {
    url: String,
    prefix: String,
}

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        let _ = delete_prefix(&self.url, &self.prefix);
    }
}

/// Deletes every key whose name starts with `prefix` (SCAN + DEL), on a
/// blocking connection (a guard drops outside any runtime).
fn delete_prefix(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut c = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let pattern = {
        let mut p = accessor::escape_glob(prefix.as_bytes());
        p.push(b'*');
        p
    };
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut c)?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).query::<i64>(&mut c)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// A scratch config for the behaviour suite: the server named by
/// `MIRAGE_TEST_REDIS_URL`, with a key prefix of its own
/// (`mirage:test:{pid}:{n}:fs:`) whose keys are deleted when the guard
/// drops. Errors: `no_server`'s `Unsupported` when the variable is unset.
fn test_config() -> Result<TestConfig> {
    static N: AtomicU64 = AtomicU64::new(0);
    let url = match std::env::var(TEST_URL_VAR) {
        Ok(u) if !u.is_empty() => u,
        _ => {
            // the text of mirage_ops::testsuite::no_server (a test-only feature)
            return Err(Error::msg(
                ErrorKind::Unsupported,
                format!(
                    "no redis test server: {TEST_URL_VAR} is not set (`cargo xtask test-resources` starts one and sets it)"
                ),
            ));
        }
    };
    let prefix = format!(
        "mirage:test:{}:{}:fs:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    Ok(TestConfig {
        config: serde_json::json!({"url": url, "key_prefix": prefix}),
        guard: Box::new(PrefixGuard { url, prefix }),
    })
}

inventory::submit! {
    ResourceRegistration {
        name: "redis",
        summary: "files in Redis, with the model product's key layout (file:, dir, modified:, attrs:)",
        build,
        config_schema: || schemars::schema_for!(RedisConfig),
        test_config,
        main_key: Some("url"),
    }
}
