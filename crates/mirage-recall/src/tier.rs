//! Key-value tiers the FileStore and IndexStore keep their entries in:
//! memory (bounded in bytes, S3-FIFO eviction by `quick_cache`), redb (a
//! file that survives a restart) and Redis (shared by several daemons).
//!
//! A tier never decides whether an entry is current: entries carry their
//! version token and the time they were stored, and the caller checks
//! them. A tier that fails (Redis down, disk full) behaves as a miss and
//! never fails the read or write that used it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use redb::ReadableDatabase;
use tokio::sync::OnceCell;

/// A byte-valued key-value store for cache entries.
#[async_trait]
pub trait Tier: Send + Sync {
    /// The value of `key`, if stored.
    async fn get(&self, key: &str) -> Option<Bytes>;
    /// Stores `value` under `key` (it may be evicted at once when larger
    /// than the tier allows).
    async fn put(&self, key: &str, value: Bytes);
    /// Removes `key`.
    async fn remove(&self, key: &str);
    /// Removes every key starting with `prefix`.
    async fn remove_prefix(&self, prefix: &str);
    /// Bytes held (values only; `None` where the tier cannot tell cheaply).
    fn weight(&self) -> Option<u64>;
}

#[derive(Clone)]
struct ByLen;
impl quick_cache::Weighter<String, Bytes> for ByLen {
    fn weight(&self, key: &String, val: &Bytes) -> u64 {
        (key.len() + val.len()) as u64 + 64
    }
}

/// The memory tier: at most `limit` bytes (keys, values and 64 bytes of
/// overhead per entry), evicted by `quick_cache`'s S3-FIFO policy (better
/// than LRU on scans such as one `grep -r`). A sorted set of the keys
/// stored serves [`Tier::remove_prefix`] (it may name evicted keys, which
/// is harmless).
pub struct MemoryTier {
    cache: quick_cache::sync::Cache<String, Bytes, ByLen>,
    keys: Mutex<BTreeSet<String>>,
}

impl MemoryTier {
    /// A tier bounded by `limit` bytes.
    pub fn new(limit: u64) -> Self {
        let items = usize::try_from((limit / 4096).clamp(64, 1 << 20)).unwrap_or(1 << 20);
        MemoryTier {
            cache: quick_cache::sync::Cache::with_weighter(items, limit.max(1), ByLen),
            keys: Mutex::new(BTreeSet::new()),
        }
    }
}

#[async_trait]
impl Tier for MemoryTier {
    async fn get(&self, key: &str) -> Option<Bytes> {
        self.cache.get(key)
    }
    async fn put(&self, key: &str, value: Bytes) {
        if let Ok(mut k) = self.keys.lock() {
            k.insert(key.to_string());
        }
        self.cache.insert(key.to_string(), value);
    }
    async fn remove(&self, key: &str) {
        self.cache.remove(key);
        if let Ok(mut k) = self.keys.lock() {
            k.remove(key);
        }
    }
    async fn remove_prefix(&self, prefix: &str) {
        let doomed: Vec<String> = match self.keys.lock() {
            Ok(k) => k
                .range(prefix.to_string()..)
                .take_while(|k| k.starts_with(prefix))
                .cloned()
                .collect(),
            Err(_) => {
                self.cache.clear();
                return;
            }
        };
        for k in doomed {
            self.remove(&k).await;
        }
    }
    fn weight(&self) -> Option<u64> {
        Some(self.cache.weight())
    }
}

const TABLE: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("recall");

/// The disk tier: one redb file (`recall.redb` under the configured
/// root) that survives a restart. Bounded approximately: past `limit`
/// bytes of values, the file's entries are dropped in key order until it
/// is under 3/4 of the limit (the entries carry their own times and
/// tokens, so dropping any of them is always safe).
pub struct RedbTier {
    db: redb::Database,
    limit: u64,
    held: Mutex<u64>,
}

impl RedbTier {
    /// Opens or creates `dir/recall.redb`. Errors: the directory or the
    /// file cannot be made (the message names the path).
    pub fn open(dir: &std::path::Path, limit: u64) -> mirage_types::Result<Self> {
        let io = |e: &dyn std::fmt::Display| {
            mirage_types::Error::msg(
                mirage_types::ErrorKind::Io,
                format!("cache: {}: {e}", dir.display()),
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| io(&e))?;
        let db = redb::Database::create(dir.join("recall.redb")).map_err(|e| io(&e))?;
        let mut held = 0u64;
        {
            let tx = db.begin_write().map_err(|e| io(&e))?;
            {
                let t = tx.open_table(TABLE).map_err(|e| io(&e))?;
                if let Ok(it) = redb::ReadableTable::iter(&t) {
                    for (_, v) in it.flatten() {
                        held += v.value().len() as u64;
                    }
                }
            }
            tx.commit().map_err(|e| io(&e))?;
        }
        Ok(RedbTier {
            db,
            limit,
            held: Mutex::new(held),
        })
    }

    fn write(&self, f: impl FnOnce(&mut redb::Table<&str, &[u8]>) -> i64) {
        let Ok(tx) = self.db.begin_write() else {
            return;
        };
        let delta = match tx.open_table(TABLE) {
            Ok(mut t) => f(&mut t),
            Err(_) => return,
        };
        if tx.commit().is_ok()
            && let Ok(mut h) = self.held.lock()
        {
            *h = h.saturating_add_signed(delta);
        }
    }

    fn shrink(&self) {
        let over = self.held.lock().map(|h| *h > self.limit).unwrap_or(false);
        if !over {
            return;
        }
        let target = self.limit / 4 * 3;
        let mut now = self.held.lock().map(|h| *h).unwrap_or(0);
        self.write(|t| {
            let mut freed = 0i64;
            let _ = t.retain(|_, v| {
                if now <= target {
                    return true;
                }
                now = now.saturating_sub(v.len() as u64);
                freed -= v.len() as i64;
                false
            });
            freed
        });
    }
}

#[async_trait]
impl Tier for RedbTier {
    async fn get(&self, key: &str) -> Option<Bytes> {
        let tx = self.db.begin_read().ok()?;
        let t = tx.open_table(TABLE).ok()?;
        let v = redb::ReadableTable::get(&t, key).ok()??;
        Some(Bytes::copy_from_slice(v.value()))
    }
    async fn put(&self, key: &str, value: Bytes) {
        if value.len() as u64 > self.limit {
            return self.remove(key).await;
        }
        self.write(|t| {
            let old = t
                .insert(key, value.as_ref())
                .ok()
                .flatten()
                .map_or(0, |g| g.value().len() as i64);
            value.len() as i64 - old
        });
        self.shrink();
    }
    async fn remove(&self, key: &str) {
        self.write(|t| {
            t.remove(key)
                .ok()
                .flatten()
                .map_or(0, |g| -(g.value().len() as i64))
        });
    }
    async fn remove_prefix(&self, prefix: &str) {
        self.write(|t| {
            let mut freed = 0i64;
            let _ = t.retain_in(prefix.., |k, v| {
                if k.starts_with(prefix) {
                    freed -= v.len() as i64;
                    false
                } else {
                    true
                }
            });
            freed
        });
    }
    fn weight(&self) -> Option<u64> {
        self.held.lock().ok().map(|h| *h)
    }
}

/// The Redis tier: keys `{key_prefix}{key}` holding the entry bytes. The
/// connection is made on first use and reconnects by itself
/// (`ConnectionManager`); while the server is away the tier misses.
pub struct RedisTier {
    url: String,
    prefix: String,
    conn: OnceCell<Option<redis::aio::ConnectionManager>>,
}

impl RedisTier {
    /// A tier on the server at `url` with keys under `prefix`.
    pub fn new(url: &str, prefix: &str) -> Self {
        RedisTier {
            url: url.to_string(),
            prefix: prefix.to_string(),
            conn: OnceCell::new(),
        }
    }

    async fn conn(&self) -> Option<redis::aio::ConnectionManager> {
        self.conn
            .get_or_init(|| async {
                let client = redis::Client::open(self.url.as_str()).ok()?;
                let fut = redis::aio::ConnectionManager::new(client);
                match tokio::time::timeout(std::time::Duration::from_secs(5), fut).await {
                    Ok(Ok(c)) => Some(c),
                    _ => {
                        tracing::warn!("cache: redis tier unreachable; caching nothing there");
                        None
                    }
                }
            })
            .await
            .clone()
    }
}

/// Escapes the glob metacharacters of Redis `MATCH` patterns.
pub(crate) fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Tier for RedisTier {
    async fn get(&self, key: &str) -> Option<Bytes> {
        let mut c = self.conn().await?;
        let v: Option<Vec<u8>> = redis::cmd("GET")
            .arg(format!("{}{key}", self.prefix))
            .query_async(&mut c)
            .await
            .ok()?;
        v.map(Bytes::from)
    }
    async fn put(&self, key: &str, value: Bytes) {
        if let Some(mut c) = self.conn().await {
            let _: Result<(), _> = redis::cmd("SET")
                .arg(format!("{}{key}", self.prefix))
                .arg(value.as_ref())
                .query_async(&mut c)
                .await;
        }
    }
    async fn remove(&self, key: &str) {
        if let Some(mut c) = self.conn().await {
            let _: Result<(), _> = redis::cmd("DEL")
                .arg(format!("{}{key}", self.prefix))
                .query_async(&mut c)
                .await;
        }
    }
    async fn remove_prefix(&self, prefix: &str) {
        let Some(mut c) = self.conn().await else {
            return;
        };
        let pattern = format!("{}*", escape_glob(&format!("{}{prefix}", self.prefix)));
        let mut cursor: u64 = 0;
        loop {
            let r: Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut c)
                .await;
            let Ok((next, keys)) = r else {
                return;
            };
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query_async(&mut c).await;
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
    fn weight(&self) -> Option<u64> {
        None
    }
}

/// A shared tier.
pub type SharedTier = Arc<dyn Tier>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_memory_tier_stays_within_its_byte_bound() {
        let t = MemoryTier::new(1 << 20);
        for i in 0..200 {
            t.put(&format!("d:/f{i}"), Bytes::from(vec![b'x'; 64 << 10]))
                .await;
        }
        let w = t.weight().unwrap();
        assert!(w <= 1 << 20, "{w} bytes held for a 1 MiB bound");
        assert!(w > 512 << 10, "the bound is used: {w}");
        // prefix removal reaches exactly the keys under the prefix
        t.put("d:/dir/a", Bytes::from_static(b"a")).await;
        t.put("d:/dirx", Bytes::from_static(b"b")).await;
        t.remove_prefix("d:/dir/").await;
        assert!(t.get("d:/dir/a").await.is_none());
        assert_eq!(t.get("d:/dirx").await.unwrap(), Bytes::from_static(b"b"));
    }

    #[tokio::test]
    async fn the_redb_tier_survives_a_reopen_and_keeps_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        {
            let t = RedbTier::open(dir.path(), 1 << 20).unwrap();
            t.put("d:/a", Bytes::from_static(b"alpha")).await;
            t.put("d:/sub/b", Bytes::from_static(b"beta")).await;
            t.put("d:/subx", Bytes::from_static(b"gamma")).await;
            t.remove_prefix("d:/sub/").await;
        }
        let t = RedbTier::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(t.get("d:/a").await.unwrap(), Bytes::from_static(b"alpha"));
        assert!(t.get("d:/sub/b").await.is_none());
        assert_eq!(
            t.get("d:/subx").await.unwrap(),
            Bytes::from_static(b"gamma")
        );
        assert_eq!(t.weight(), Some(10));
        for i in 0..40 {
            t.put(&format!("d:/big{i}"), Bytes::from(vec![0u8; 64 << 10]))
                .await;
        }
        assert!(t.weight().unwrap() <= 1 << 20, "{:?}", t.weight());
    }
}
