//! Recall, Mirage's cache: between the router and every remote resource,
//! an **IndexStore** (stat results and listings, with negative entries) and
//! a **FileStore** (bytes, whole files and byte ranges), both kept in a
//! tier chosen by the workspace config (memory bounded in bytes, a redb
//! file that survives a restart, or a Redis server shared by daemons).
//!
//! The rules (seed documents' "one door for bytes"):
//! - The router mounts a [`CachedResource`] in place of a remote resource,
//!   so every read, listing and change of the mount passes through it; no
//!   other path reaches cached bytes.
//! - Every file entry carries the backend's version token (ETag,
//!   VersionId, mtime+size, or `Unknown`). Under `read: fresh` a cached
//!   entry is revalidated by one conditional request (`If-None-Match`; a
//!   304 serves the cache); an `Unknown` token is never trusted. Under
//!   `read: bounded` with `ttl`, an entry is trusted until it is `ttl`
//!   old, then revalidated the same way. `read: off` passes every call on.
//! - Stat results and listings are trusted for `ttl` under `bounded` and
//!   for the index's `ttl` (default 600 s) under `fresh` (a listing has no
//!   conditional request on S3).
//! - A change (write, append, delete, rename, mkdir, chmod) drops exactly
//!   the entries it makes stale, once, where it happens: the path's bytes,
//!   ranges and stat, the stat and listings of its ancestors, and for a
//!   directory rename or removal everything below it. A read that was in
//!   flight during the change never stores what it saw (an epoch guard).
//! - `write: conditional` sends the version last read with the write
//!   (`If-Match` on S3, a compare-and-set script on Redis); the backend
//!   refuses a stale one with [`mirage_types::ErrorKind::Conflict`]. A path
//!   never read, stat'ed or written here is written unconditionally.
#![deny(missing_docs)]

mod cached;
pub mod config;
mod entry;
pub mod tier;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mirage_ops::Resource;
use mirage_types::Result;
use serde::{Deserialize, Serialize};

pub use cached::{CachedResource, MountCache};
pub use config::{CacheConfig, IndexConfig, MountPolicy, ReadPolicy, StoreType, WritePolicy};
use tier::{MemoryTier, RedbTier, RedisTier, SharedTier};

/// One mount's counters, as `mirage cache stats` and the workspace API show
/// them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Answers served from the cache (a 304 revalidation counts here too).
    pub hits: u64,
    /// Answers that had to be fetched from the backend.
    pub misses: u64,
    /// Bytes of file contents served from the cache.
    pub bytes_served: u64,
    /// Calls made to the backend resource (each is one request or more).
    pub backend_requests: u64,
    /// Conditional reads the backend answered "not modified".
    pub revalidated: u64,
    /// Conditional writes refused because the object changed.
    pub conflicts: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub bytes_served: AtomicU64,
    pub backend: AtomicU64,
    pub revalidated: AtomicU64,
    pub conflicts: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> CacheStats {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheStats {
            hits: g(&self.hits),
            misses: g(&self.misses),
            bytes_served: g(&self.bytes_served),
            backend_requests: g(&self.backend),
            revalidated: g(&self.revalidated),
            conflicts: g(&self.conflicts),
        }
    }
}

/// A workspace's cache: the FileStore and IndexStore tiers, shared by its
/// remote mounts.
pub struct Recall {
    files: SharedTier,
    index: SharedTier,
    index_ttl: Duration,
    max_entry: u64,
}

impl Recall {
    /// The cache of a workspace config's `cache:` and `index:` blocks
    /// (both optional: memory, 512 MiB, index ttl 600 s).
    ///
    /// Errors: `InvalidInput` for a bad `limit` or a `type: disk` without
    /// `root`; `Io` when the redb file cannot be opened.
    pub fn from_config(cache: Option<&CacheConfig>, index: Option<&IndexConfig>) -> Result<Self> {
        let default_cache = CacheConfig::default();
        let cache = cache.unwrap_or(&default_cache);
        let limit = cache.limit_bytes()?;
        let store = if cache.persist == Some(true) && cache.store == StoreType::Ram {
            StoreType::Disk
        } else {
            cache.store
        };
        let files: SharedTier = match store {
            StoreType::Ram => Arc::new(MemoryTier::new(limit)),
            StoreType::Disk => {
                let root = cache.root.as_deref().ok_or_else(|| {
                    mirage_types::Error::msg(
                        mirage_types::ErrorKind::InvalidInput,
                        "cache: type: disk needs root: (a directory for the cache file)",
                    )
                })?;
                Arc::new(RedbTier::open(std::path::Path::new(root), limit)?)
            }
            StoreType::Redis => Arc::new(RedisTier::new(
                cache.url.as_deref().unwrap_or("redis://localhost:6379/0"),
                cache.key_prefix.as_deref().unwrap_or("mirage:cache:"),
            )),
        };
        let default_index = IndexConfig::default();
        let index_cfg = index.unwrap_or(&default_index);
        let index: SharedTier = match index_cfg.store {
            StoreType::Redis => Arc::new(RedisTier::new(
                index_cfg
                    .url
                    .as_deref()
                    .unwrap_or("redis://localhost:6379/0"),
                index_cfg.key_prefix.as_deref().unwrap_or("mirage:index:"),
            )),
            // stat results are small: a memory tier of 1/8 of the limit
            // (at least 16 MiB); `disk` is accepted and kept in memory
            StoreType::Ram | StoreType::Disk => {
                Arc::new(MemoryTier::new((limit / 8).max(16 << 20)))
            }
        };
        let index_ttl = index_cfg
            .ttl
            .filter(|t| t.is_finite() && *t > 0.0)
            .map_or(Duration::from_secs(config::DEFAULT_TTL_SECS), |t| {
                Duration::from_secs_f64(t.min(1e9))
            });
        Ok(Recall {
            files,
            index,
            index_ttl,
            // one file takes at most a quarter of the limit (and 1 GiB)
            max_entry: (limit / 4).min(1 << 30),
        })
    }

    /// The index's `ttl` (how long stats and listings are trusted under
    /// `read: fresh`).
    pub fn index_ttl(&self) -> Duration {
        self.index_ttl
    }

    /// `inner` behind this cache for a mount whose keys live under `ns`
    /// (the workspace passes the resource type, a hash of the mount's
    /// config and the mount prefix, so daemons sharing a Redis tier share
    /// entries only of the same backend at the same prefix), with
    /// `policy`. Returns the resource to mount and the mount's cache
    /// handle (stats, forget).
    pub fn wrap(
        &self,
        ns: &str,
        inner: Arc<dyn Resource>,
        policy: MountPolicy,
    ) -> (Arc<dyn Resource>, Arc<MountCache>) {
        let mc = Arc::new(MountCache::new(
            ns.to_string(),
            policy,
            self.files.clone(),
            self.index.clone(),
            self.max_entry,
        ));
        (Arc::new(CachedResource::new(inner, mc.clone())), mc)
    }
}
