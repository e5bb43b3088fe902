//! The connection to the server and the key layout (the model product's
//! `accessor` and `store`): key names, timestamps, error mapping, and the
//! one retry after a dropped connection.

use std::time::{Duration, SystemTime};

use mirage_types::{Error, ErrorKind, Result, VersionToken, bytestr};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::config::{RedisConfig, redact_url};

/// How long a connection attempt may take before the op fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one request may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// The server of one mount and its key names.
pub(crate) struct Accessor {
    client: redis::Client,
    /// The URL without its password, for messages.
    pub(crate) url: String,
    /// The key prefix, as bytes.
    pub(crate) prefix: Vec<u8>,
    /// Made on first use (inside the caller's runtime), so building a mount
    /// never blocks and a server that is down fails the op, not the build.
    conn: OnceCell<ConnectionManager>,
}

impl Accessor {
    /// An accessor for `cfg` (no connection yet).
    ///
    /// Errors: `InvalidInput` for a URL the redis crate cannot read.
    pub(crate) fn new(cfg: &RedisConfig) -> Result<Self> {
        let url = redact_url(&cfg.url);
        let client = redis::Client::open(cfg.url.as_str()).map_err(|e| {
            Error::msg(
                ErrorKind::InvalidInput,
                format!("redis: invalid url {url}: {e}"),
            )
        })?;
        Ok(Accessor {
            client,
            url,
            prefix: cfg.key_prefix.as_bytes().to_vec(),
            conn: OnceCell::new(),
        })
    }

    /// The shared connection (a clone of the manager, which multiplexes
    /// and reconnects by itself), made on first use; the root `/` is added
    /// to the directory set then (`SADD`, as the model product's
    /// constructor does).
    pub(crate) async fn conn(&self) -> Result<ConnectionManager> {
        let c = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(2)
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_millis(500));
                let mut m = ConnectionManager::new_with_config(self.client.clone(), config)
                    .await
                    .map_err(|e| self.error(&e))?;
                let _: i64 = redis::cmd("SADD")
                    .arg(self.dir_key())
                    .arg("/")
                    .query_async(&mut m)
                    .await
                    .map_err(|e| self.error(&e))?;
                Ok::<_, Error>(m)
            })
            .await?;
        Ok(c.clone())
    }

    /// Runs `op` on the connection; when it fails because the connection
    /// dropped (a restarted server), runs it once more on the manager's new
    /// connection. `repeatable` ops (reads, `SET`, and the scripts, which
    /// re-check their conditions) are retried after any dropped
    /// connection; a retried mkdir, unlink or rename whose first attempt
    /// did land but lost its reply then reports `AlreadyExists` or
    /// `NotFound`. Other ops (a plain `APPEND`) are retried only when the
    /// command cannot have been sent.
    pub(crate) async fn run<T, F, Fut>(&self, repeatable: bool, op: F) -> Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let c = self.conn().await?;
        match op(c.clone()).await {
            Ok(v) => Ok(v),
            Err(e) if retryable(&e, repeatable) => {
                tracing::debug!(url = %self.url, error = %e, "redis: retrying once");
                tokio::time::sleep(Duration::from_millis(100)).await;
                op(c).await.map_err(|e| self.error(&e))
            }
            Err(e) => Err(self.error(&e)),
        }
    }

    /// A redis error as ours: `Remote { retryable }` naming the server.
    pub(crate) fn error(&self, e: &redis::RedisError) -> Error {
        let retryable = e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal();
        Error::msg(
            ErrorKind::Remote { retryable },
            format!("redis {}: {e}", self.url),
        )
    }

    /// A key: the prefix, `kind`, then the path's bytes.
    fn key(&self, kind: &str, path: &str) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(kind.as_bytes());
        k.extend_from_slice(&bytestr::encode(path));
        k
    }

    /// `{prefix}file:{path}`: the file's bytes (STRING).
    pub(crate) fn file_key(&self, path: &str) -> Vec<u8> {
        self.key("file:", path)
    }

    /// `{prefix}modified:{path}`: the RFC 3339 mtime (STRING).
    pub(crate) fn modified_key(&self, path: &str) -> Vec<u8> {
        self.key("modified:", path)
    }

    /// `{prefix}attrs:{path}`: `mode` (decimal) and the model's other fields (HASH).
    pub(crate) fn attrs_key(&self, path: &str) -> Vec<u8> {
        self.key("attrs:", path)
    }

    /// `{prefix}dir`: the SET of every directory path.
    pub(crate) fn dir_key(&self) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(b"dir");
        k
    }

    /// `{prefix}tmp:{unique}`: where a large write is staged before it
    /// replaces the file in one step (the model's `clear()` removes these).
    pub(crate) fn tmp_key(&self) -> Vec<u8> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let n = N.fetch_add(1, Ordering::Relaxed);
        let mut k = self.prefix.clone();
        k.extend_from_slice(format!("tmp:{}-{nanos}-{n}", std::process::id()).as_bytes());
        k
    }

    /// The MATCH pattern of every file key directly or deeply under `dir`
    /// (`{prefix}file:{dir}/*`), glob characters escaped.
    pub(crate) fn file_children_pattern(&self, dir: &str) -> Vec<u8> {
        let mut p = escape_glob(&self.prefix);
        p.extend_from_slice(b"file:");
        p.extend_from_slice(&children_pattern(dir));
        p
    }
}

/// Whether `op` may run again after failing with `e`: any dropped
/// connection for a `repeatable` op; for another (an append) only when
/// the command cannot have reached the server (refused, broken pipe, not
/// connected), so bytes are never appended twice.
fn retryable(e: &redis::RedisError, repeatable: bool) -> bool {
    use std::io::ErrorKind as Io;
    if repeatable {
        return e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal();
    }
    e.is_connection_refusal()
        || matches!(
            io_kind(e),
            Some(Io::BrokenPipe | Io::NotConnected | Io::ConnectionRefused)
        )
}

/// The kind of the I/O error under a redis error, if it is one.
fn io_kind(e: &redis::RedisError) -> Option<std::io::ErrorKind> {
    let src = std::error::Error::source(e)?;
    if let Some(io) = src.downcast_ref::<std::io::Error>() {
        return Some(io.kind());
    }
    let inner = src.downcast_ref::<std::sync::Arc<dyn std::error::Error + Send + Sync>>()?;
    inner
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
}

/// `s` with Redis glob metacharacters (`* ? [ ] \`) escaped by `\`.
pub(crate) fn escape_glob(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// The MATCH pattern of every path under `dir` (`{dir}/*`, `/*` for the root).
pub(crate) fn children_pattern(dir: &str) -> Vec<u8> {
    let mut p = escape_glob(&bytestr::encode(child_prefix(dir).as_str()));
    p.push(b'*');
    p
}

/// `dir` followed by one `/` (`/` for the root).
pub(crate) fn child_prefix(dir: &str) -> String {
    if dir == "/" {
        "/".to_string()
    } else {
        format!("{dir}/")
    }
}

/// The parent of a normalised path (`/` for a top-level entry and the root).
pub(crate) fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => path[..i].to_string(),
    }
}

/// The last component of a normalised path (`/` for the root).
pub(crate) fn name_of(path: &str) -> String {
    if path == "/" {
        return "/".to_string();
    }
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Now, as the model product writes it: RFC 3339 UTC with six fraction
/// digits (`2026-12-02T04:23:07.431338Z`), and its nanoseconds since the
/// epoch (truncated to the microsecond, so the token we compute from the
/// string we wrote is the token a later `stat` computes).
pub(crate) fn now_stamp() -> (String, i128) {
    let micros = jiff::Timestamp::now().as_microsecond();
    let nanos = i128::from(micros) * 1000;
    (format_stamp(nanos), nanos)
}

/// The mtime string we write for `nanos` since the epoch (six fraction
/// digits), to compare a version token with a stored string.
pub(crate) fn format_stamp(nanos: i128) -> String {
    jiff::Timestamp::from_nanosecond(nanos)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}

/// A stored mtime: RFC 3339 with or without a fraction (Python's
/// `isoformat` drops it when the microseconds are 0), `Z` or an offset.
/// `None` when missing or unreadable.
pub(crate) fn parse_stamp(raw: Option<&[u8]>) -> Option<jiff::Timestamp> {
    let s = std::str::from_utf8(raw?).ok()?;
    s.trim().parse::<jiff::Timestamp>().ok()
}

/// The `SystemTime` of a stored mtime.
pub(crate) fn stamp_time(ts: Option<jiff::Timestamp>) -> Option<SystemTime> {
    ts.map(SystemTime::from)
}

/// A file's version token: its mtime in nanoseconds (0 when it has none)
/// and its size. Two writes of the same size within one microsecond share
/// a token (the mtime is stored to the microsecond).
pub(crate) fn version(ts: Option<jiff::Timestamp>, size: u64) -> VersionToken {
    VersionToken::MtimeSize(ts.map_or(0, jiff::Timestamp::as_nanosecond), size)
}

/// The permission bits stored in an attrs hash's `mode` field: decimal as
/// the model product writes (`str(0o644)` = `"420"`), or `0o`-prefixed
/// octal; masked to `0o7777`.
pub(crate) fn parse_mode(raw: Option<&[u8]>) -> Option<u32> {
    let s = std::str::from_utf8(raw?).ok()?.trim();
    let m = match s.strip_prefix("0o") {
        Some(oct) => u32::from_str_radix(oct, 8).ok()?,
        None => s.parse::<u32>().ok()?,
    };
    Some(m & 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let (s, nanos) = now_stamp();
        assert_eq!(s.len(), 27, "{s}");
        let ts = parse_stamp(Some(s.as_bytes())).unwrap();
        assert_eq!(ts.as_nanosecond(), nanos);
        let whole = parse_stamp(Some(b"2026-12-02T18:02:31Z")).unwrap();
        assert_eq!(whole.as_second(), 1_796_234_551);
        assert_eq!(whole.subsec_nanosecond(), 0);
        let frac = parse_stamp(Some(b"2026-12-02T18:02:30.968047Z")).unwrap();
        assert_eq!(frac.subsec_nanosecond(), 968_047_000);
        assert!(parse_stamp(Some(b"yesterday")).is_none());
        assert!(parse_stamp(None).is_none());
    }

    #[test]
    fn globs_and_paths() {
        assert_eq!(escape_glob(b"a*b?[c]\\"), b"a\\*b\\?\\[c\\]\\\\".to_vec());
        assert_eq!(children_pattern("/"), b"/*".to_vec());
        assert_eq!(children_pattern("/a[1]"), b"/a\\[1\\]/*".to_vec());
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(name_of("/a/b c"), "b c");
        assert_eq!(parse_mode(Some(b"493")), Some(0o755));
        assert_eq!(parse_mode(Some(b"0o4710")), Some(0o4710));
        assert_eq!(parse_mode(Some(b"x")), None);
    }
}
