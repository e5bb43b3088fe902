//! [`CachedResource`]: a remote resource with Recall in front of it. The
//! router mounts this in place of the resource, so every read, listing and
//! change of the mount passes here, and no path reaches cached bytes around
//! it (the design's "one door for bytes").

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_types::{
    ByteRange, ByteSource, EntryStream, Error, ErrorKind, FileStat, ListOptions, ReadOptions,
    ReadResult, Result, VersionToken, WriteOptions, basename, normalize_path,
};

use crate::config::{MountPolicy, ReadPolicy, WritePolicy};
use crate::entry::{FileEntry, IndexBody, decode_index, encode_index, now_ms, young};
use crate::tier::SharedTier;
use crate::{CacheStats, Counters};

/// How many files a tree walk that reads them (`grep -r`) fetches at once.
const READ_AHEAD: usize = 16;
/// A walk's read-ahead is skipped for a tree of more files than this…
const READ_AHEAD_FILES: usize = 10_000;
/// …or of more bytes than this (or than one cache entry may hold).
const READ_AHEAD_BYTES: u64 = 64 << 20;
/// Listings longer than this are streamed through but not cached.
const MAX_LISTING: usize = 100_000;
/// How many exact keys the stale-store guard remembers before it forgets
/// them all and refuses stores begun before that moment.
const MAX_MARKS: usize = 50_000;

/// Whether a change that failed with `kind` surely changed nothing on the
/// backend (a refusal), as opposed to an outcome we cannot know (a
/// timeout, a dropped connection).
fn unchanged_by(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::Remote { .. } | ErrorKind::Io | ErrorKind::BrokenPipe
    )
}

/// Which keys a change makes stale, and from which moment (an epoch).
#[derive(Default)]
struct Marks {
    exact: HashMap<String, u64>,
    prefixes: Vec<(String, u64)>,
    floor: u64,
}

/// The per-mount state of Recall, shared by the [`CachedResource`] and the
/// workspace's cache controls (stats, forget, refresh).
pub struct MountCache {
    ns: String,
    policy: MountPolicy,
    files: SharedTier,
    index: SharedTier,
    max_entry: u64,
    counters: Counters,
    epoch: AtomicU64,
    marks: Mutex<Marks>,
    /// The version of each path last read or written here, for
    /// `write: conditional`.
    seen: Mutex<HashMap<String, VersionToken>>,
}

fn ancestors(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = p;
    while let Some(i) = cur.rfind('/') {
        cur = &cur[..i];
        out.push(if cur.is_empty() {
            "/".to_string()
        } else {
            cur.to_string()
        });
        if cur.is_empty() {
            break;
        }
    }
    out
}

impl MountCache {
    pub(crate) fn new(
        ns: String,
        policy: MountPolicy,
        files: SharedTier,
        index: SharedTier,
        max_entry: u64,
    ) -> Self {
        MountCache {
            ns,
            policy,
            files,
            index,
            max_entry,
            counters: Counters::default(),
            epoch: AtomicU64::new(0),
            marks: Mutex::new(Marks::default()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The mount's policy.
    pub fn policy(&self) -> MountPolicy {
        self.policy
    }

    /// The mount's counters so far.
    pub fn stats(&self) -> CacheStats {
        self.counters.snapshot()
    }

    fn ns_of(&self) -> &str {
        &self.ns
    }

    fn key(&self, kind: char, p: &str) -> String {
        format!("{kind}:{}{p}", self.ns)
    }
    fn range_prefix(&self, p: &str) -> String {
        format!("r:{}{p}\u{0}", self.ns)
    }
    fn range_key(&self, p: &str, r: ByteRange) -> String {
        let len = r.len.map_or_else(|| "-".to_string(), |l| l.to_string());
        format!("{}{}+{len}", self.range_prefix(p), r.offset)
    }

    /// The keys (exact, prefixes) a change at `p` makes stale: its own
    /// entries, the stat and listings of every ancestor (a write may create
    /// a directory that only existed as a key prefix), and with `subtree`
    /// everything below it.
    fn stale_keys(&self, p: &str, subtree: bool) -> (Vec<String>, Vec<String>) {
        let mut exact: Vec<String> = ['d', 's', 'l', 'L']
            .iter()
            .map(|k| self.key(*k, p))
            .collect();
        for a in ancestors(p) {
            for k in ['s', 'l', 'L'] {
                exact.push(self.key(k, &a));
            }
        }
        let mut prefixes = vec![self.range_prefix(p)];
        if subtree {
            let dir = if p == "/" {
                String::new()
            } else {
                p.to_string()
            };
            for k in ['d', 's', 'l', 'L', 'r'] {
                prefixes.push(self.key(k, &format!("{dir}/")));
            }
        }
        (exact, prefixes)
    }

    fn mark(&self, exact: &[String], prefixes: &[String]) {
        let e = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut m) = self.marks.lock() {
            if m.exact.len() + exact.len() > MAX_MARKS || m.prefixes.len() > 1000 {
                m.exact.clear();
                m.prefixes.clear();
                m.floor = e;
            }
            for k in exact {
                m.exact.insert(k.clone(), e);
            }
            for p in prefixes {
                m.prefixes.push((p.clone(), e));
            }
        }
    }

    fn stale(&self, key: &str, snapshot: u64) -> bool {
        let Ok(m) = self.marks.lock() else {
            return true;
        };
        snapshot < m.floor
            || m.exact.get(key).is_some_and(|e| *e > snapshot)
            || m.prefixes
                .iter()
                .any(|(p, e)| *e > snapshot && key.starts_with(p.as_str()))
    }

    fn snapshot(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Stores `value` under `key` unless a change marked it after
    /// `snapshot` (the moment the data was fetched); checked again after
    /// the store, so a change that raced the store removes it.
    async fn store(&self, tier: &SharedTier, key: &str, value: Bytes, snapshot: u64) {
        if self.stale(key, snapshot) {
            return;
        }
        tier.put(key, value).await;
        if self.stale(key, snapshot) {
            tier.remove(key).await;
        }
    }

    async fn drop_keys(&self, exact: &[String], prefixes: &[String]) {
        for k in exact {
            if k.starts_with("d:") {
                self.files.remove(k).await;
            } else {
                self.index.remove(k).await;
            }
        }
        for p in prefixes {
            if p.starts_with("d:") || p.starts_with("r:") {
                self.files.remove_prefix(p).await;
            } else {
                self.index.remove_prefix(p).await;
            }
        }
    }

    /// Drops every entry of `p` and below it (files, stats, listings) and
    /// the listings that show it (`mirage cache forget`, as rclone's
    /// `vfs/forget`). `p` is a resource path.
    pub async fn forget(&self, p: &str) {
        let p = normalize_path(p);
        let (exact, prefixes) = self.stale_keys(&p, true);
        self.mark(&exact, &prefixes);
        self.drop_keys(&exact, &prefixes).await;
        if let Ok(mut s) = self.seen.lock() {
            s.remove(&p);
        }
    }

    fn seen_version(&self, p: &str) -> Option<VersionToken> {
        self.seen.lock().ok()?.get(p).cloned()
    }
    fn set_seen(&self, p: &str, v: &VersionToken) {
        if self.policy.write != WritePolicy::Conditional {
            return;
        }
        if let Ok(mut s) = self.seen.lock() {
            if *v == VersionToken::Unknown {
                s.remove(p);
            } else {
                s.insert(p.to_string(), v.clone());
            }
        }
    }

    async fn index_get(&self, key: &str) -> Option<IndexBody> {
        let trust = self.policy.index_trust()?;
        let raw = self.index.get(key).await?;
        let (ms, body) = decode_index(&raw)?;
        young(ms, trust).then_some(body)
    }
}

/// A remote resource behind Recall (see the crate docs for the rules).
pub struct CachedResource {
    inner: Arc<dyn Resource>,
    cache: Arc<MountCache>,
}

impl CachedResource {
    /// `inner` behind the mount cache `cache`.
    pub fn new(inner: Arc<dyn Resource>, cache: Arc<MountCache>) -> Self {
        CachedResource { inner, cache }
    }

    fn off(&self) -> bool {
        self.cache.policy.read == ReadPolicy::Off
    }

    fn backend(&self) {
        self.cache.counters.backend.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs the change `op` at `paths` with the stale-store guard: marks
    /// the keys, runs it, drops the entries, marks again (so a read that
    /// began during the change does not store what it saw).
    async fn change<T>(
        &self,
        paths: &[(&str, bool)],
        op: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let mut exact = Vec::new();
        let mut prefixes = Vec::new();
        for (p, subtree) in paths {
            let (e, pr) = self.cache.stale_keys(&normalize_path(p), *subtree);
            exact.extend(e);
            prefixes.extend(pr);
        }
        self.cache.mark(&exact, &prefixes);
        self.backend();
        let r = op.await;
        if let Err(e) = &r
            && unchanged_by(e.kind)
        {
            // a refused change changed nothing: keep every other entry
            // (the path's own are dropped: a conflict means they are stale)
            exact.retain(|k| {
                paths.iter().any(|(p, _)| {
                    k.ends_with(&format!("{}{}", self.cache.ns_of(), normalize_path(p)))
                }) && (k.starts_with("d:") || k.starts_with("s:"))
            });
            prefixes.retain(|k| k.starts_with("r:"));
        }
        self.cache.drop_keys(&exact, &prefixes).await;
        self.cache.mark(&exact, &prefixes);
        r
    }

    async fn stat_cached(&self, path: &str) -> Result<FileStat> {
        let p = normalize_path(path);
        let key = self.cache.key('s', &p);
        let c = &self.cache.counters;
        if let Some(IndexBody::Stat(s)) = self.cache.index_get(&key).await {
            c.hits.fetch_add(1, Ordering::Relaxed);
            return s.ok_or_else(|| Error::not_found(p.clone()));
        }
        c.misses.fetch_add(1, Ordering::Relaxed);
        let snap = self.cache.snapshot();
        self.backend();
        let r = self.inner.stat(&p).await;
        let body = match &r {
            Ok(s) => IndexBody::Stat(Some(s.clone())),
            Err(e) if e.kind == ErrorKind::NotFound => IndexBody::Stat(None),
            Err(_) => return r,
        };
        if let Ok(s) = &r {
            self.cache.set_seen(&p, &s.version);
        }
        self.cache
            .store(&self.cache.index, &key, encode_index(&body), snap)
            .await;
        r
    }

    /// Serves `range` of a cached entry.
    fn serve(&self, data: Bytes, range: Option<ByteRange>) -> ByteSource {
        let src = ByteSource::Bytes(data);
        let src = match range {
            Some(r) => src.slice_range(r),
            None => src,
        };
        if let ByteSource::Bytes(b) = &src {
            self.cache
                .counters
                .bytes_served
                .fetch_add(b.len() as u64, Ordering::Relaxed);
        }
        src
    }

    /// Passes `source` on while keeping a copy (up to the entry bound);
    /// when it ends complete, stores the copy under `key` with `version`.
    async fn tee(
        &self,
        key: String,
        version: VersionToken,
        source: ByteSource,
        snap: u64,
    ) -> ByteSource {
        let cache = self.cache.clone();
        match source {
            ByteSource::Bytes(b) => {
                if (b.len() as u64) <= cache.max_entry {
                    let e = FileEntry {
                        stored_ms: now_ms(),
                        version,
                        data: b.clone(),
                    };
                    cache.store(&cache.files, &key, e.encode(), snap).await;
                }
                ByteSource::Bytes(b)
            }
            ByteSource::Stream(s) => {
                struct St {
                    s: mirage_types::ByteStream,
                    buf: Option<BytesMut>,
                    done: bool,
                }
                let st = St {
                    s,
                    buf: Some(BytesMut::new()),
                    done: false,
                };
                let out = futures::stream::unfold(st, move |mut st| {
                    let cache = cache.clone();
                    let key = key.clone();
                    let version = version.clone();
                    async move {
                        if st.done {
                            return None;
                        }
                        match st.s.next().await {
                            Some(Ok(chunk)) => {
                                if let Some(b) = st.buf.as_mut() {
                                    if (b.len() + chunk.len()) as u64 <= cache.max_entry {
                                        b.extend_from_slice(&chunk);
                                    } else {
                                        st.buf = None;
                                    }
                                }
                                Some((Ok(chunk), st))
                            }
                            Some(Err(e)) => {
                                st.done = true;
                                Some((Err(e), st))
                            }
                            None => {
                                if let Some(b) = st.buf.take() {
                                    let e = FileEntry {
                                        stored_ms: now_ms(),
                                        version,
                                        data: b.freeze(),
                                    };
                                    let tier = cache.files.clone();
                                    cache.store(&tier, &key, e.encode(), snap).await;
                                }
                                None
                            }
                        }
                    }
                });
                ByteSource::Stream(out.boxed())
            }
        }
    }

    async fn read_cached(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let p = normalize_path(path);
        let c = &self.cache.counters;
        let whole_key = self.cache.key('d', &p);
        let range_key = opts.range.map(|r| self.cache.range_key(&p, r));
        // the whole file, or else this very range
        let mut found: Option<(FileEntry, bool)> = None;
        if let Some(raw) = self.cache.files.get(&whole_key).await
            && let Some(e) = FileEntry::decode(&raw)
        {
            found = Some((e, true));
        } else if let Some(k) = &range_key
            && let Some(raw) = self.cache.files.get(k).await
            && let Some(e) = FileEntry::decode(&raw)
        {
            found = Some((e, false));
        }
        let snap = self.cache.snapshot();
        if let Some((e, whole)) = found {
            let trusted = match self.cache.policy.read {
                ReadPolicy::Bounded(t) => young(e.stored_ms, t),
                _ => false,
            };
            let range = if whole { opts.range } else { None };
            if trusted {
                c.hits.fetch_add(1, Ordering::Relaxed);
                self.cache.set_seen(&p, &e.version);
                return Ok(ReadResult::Data {
                    source: self.serve(e.data, range),
                    version: e.version,
                });
            }
            if e.version != VersionToken::Unknown {
                // revalidate: one conditional request (If-None-Match)
                let cond = ReadOptions {
                    range: if whole { None } else { opts.range },
                    if_none_match: Some(e.version.clone()),
                };
                self.backend();
                match self.inner.read_with(&p, &cond).await {
                    Ok(ReadResult::Unchanged) => {
                        c.hits.fetch_add(1, Ordering::Relaxed);
                        c.revalidated.fetch_add(1, Ordering::Relaxed);
                        let fresh = FileEntry {
                            stored_ms: now_ms(),
                            ..e.clone()
                        };
                        let key = if whole {
                            &whole_key
                        } else {
                            range_key.as_ref().unwrap_or(&whole_key)
                        };
                        self.cache
                            .store(&self.cache.files, key, fresh.encode(), snap)
                            .await;
                        self.cache.set_seen(&p, &e.version);
                        return Ok(ReadResult::Data {
                            source: self.serve(e.data, range),
                            version: e.version,
                        });
                    }
                    Ok(ReadResult::Data { source, version }) => {
                        c.misses.fetch_add(1, Ordering::Relaxed);
                        self.changed_behind(&p).await;
                        self.cache.set_seen(&p, &version);
                        let key = if whole {
                            whole_key
                        } else {
                            range_key.unwrap_or(whole_key)
                        };
                        let source = self.tee(key, version.clone(), source, snap).await;
                        let source = match (whole, opts.range) {
                            (true, Some(r)) => source.slice_range(r),
                            _ => source,
                        };
                        return Ok(ReadResult::Data { source, version });
                    }
                    Err(e) => {
                        if e.kind == ErrorKind::NotFound {
                            self.changed_behind(&p).await;
                        }
                        return Err(e);
                    }
                }
            }
        }
        c.misses.fetch_add(1, Ordering::Relaxed);
        let plain = ReadOptions {
            range: opts.range,
            if_none_match: None,
        };
        self.backend();
        match self.inner.read_with(&p, &plain).await? {
            ReadResult::Data { source, version } => {
                self.cache.set_seen(&p, &version);
                let key = range_key.unwrap_or(whole_key);
                let source = self.tee(key, version.clone(), source, snap).await;
                Ok(ReadResult::Data { source, version })
            }
            ReadResult::Unchanged => Ok(ReadResult::Unchanged),
        }
    }

    /// The backend answered with other bytes than the cached ones (or none):
    /// drop what the cache knows of `p` (its stat, its parent's listings).
    async fn changed_behind(&self, p: &str) {
        let (exact, prefixes) = self.cache.stale_keys(p, false);
        self.cache.mark(&exact, &prefixes);
        self.cache.drop_keys(&exact, &prefixes).await;
    }

    async fn list_cached<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let p = normalize_path(path);
        let key = self.cache.key(if opts.recursive { 'L' } else { 'l' }, &p);
        let c = &self.cache.counters;
        if let Some(IndexBody::List(v)) = self.cache.index_get(&key).await {
            c.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(mirage_types::list_from_vec(v, opts));
        }
        if opts.start_after.is_some() {
            self.backend();
            return self.inner.list(&p, opts).await;
        }
        c.misses.fetch_add(1, Ordering::Relaxed);
        let snap = self.cache.snapshot();
        self.backend();
        let s = self.inner.list(&p, opts).await?;
        let cache = self.cache.clone();
        let recursive = opts.recursive;
        struct St<'a> {
            s: EntryStream<'a>,
            got: Option<Vec<FileStat>>,
        }
        let st = St {
            s,
            got: Some(Vec::new()),
        };
        let out = futures::stream::unfold(st, move |mut st| {
            let cache = cache.clone();
            let key = key.clone();
            let p = p.clone();
            async move {
                match st.s.next().await {
                    Some(Ok(e)) => {
                        if let Some(g) = st.got.as_mut() {
                            if g.len() < MAX_LISTING {
                                g.push(e.clone());
                            } else {
                                st.got = None;
                            }
                        }
                        Some((Ok(e), st))
                    }
                    Some(Err(e)) => {
                        st.got = None;
                        Some((Err(e), st))
                    }
                    None => {
                        if let Some(v) = st.got.take()
                            && !(recursive && v.is_empty())
                        {
                            if recursive {
                                // every directory's listing and every stat
                                derive_tree(&cache, &p, &v, snap).await;
                            } else {
                                // each entry's stat, so `stat` after `ls` costs nothing
                                let base = if p == "/" { String::new() } else { p.clone() };
                                for e in &v {
                                    let child = format!("{base}/{}", e.name);
                                    let mut s = e.clone();
                                    s.name = basename(&child);
                                    let k = cache.key('s', &child);
                                    let body = encode_index(&IndexBody::Stat(Some(s)));
                                    cache.store(&cache.index, &k, body, snap).await;
                                }
                            }
                            cache
                                .store(&cache.index, &key, encode_index(&IndexBody::List(v)), snap)
                                .await;
                        }
                        None
                    }
                }
            }
        });
        Ok(out.boxed())
    }
}

/// From a complete recursive listing of `p` (names relative to it), the
/// listing of every directory in the tree and `p`'s own stat (a directory
/// when anything is under it), so a walk (`grep -r`, `find`) that lists
/// each directory in turn asks the backend nothing more. Directories only
/// implied by deeper names are made up as entries.
async fn derive_tree(cache: &MountCache, p: &str, entries: &[FileStat], snap: u64) {
    use std::collections::BTreeMap;
    let mut dirs: BTreeMap<String, Vec<FileStat>> = BTreeMap::new();
    dirs.insert(String::new(), Vec::new());
    for e in entries {
        let rel = e.name.trim_matches('/');
        if rel.is_empty() {
            continue;
        }
        // every ancestor directory of the entry exists and lists its child
        let parts: Vec<&str> = rel.split('/').collect();
        for i in 0..parts.len() {
            let parent = parts[..i].join("/");
            let child = parts[..=i].join("/");
            let is_leaf = i + 1 == parts.len();
            let listing = dirs.entry(parent).or_default();
            if !listing.iter().any(|c| c.name == parts[i]) {
                let mut st = if is_leaf {
                    e.clone()
                } else {
                    FileStat::dir(parts[i])
                };
                st.name = parts[i].to_string();
                listing.push(st);
            }
            if !is_leaf || e.is_dir() {
                dirs.entry(child).or_default();
            }
        }
    }
    let base = if p == "/" {
        String::new()
    } else {
        p.to_string()
    };
    let full = |rel: &str| {
        if rel.is_empty() {
            if base.is_empty() {
                "/".to_string()
            } else {
                base.clone()
            }
        } else {
            format!("{base}/{rel}")
        }
    };
    if !entries.is_empty() {
        let k = cache.key('s', &full(""));
        let st = FileStat::dir(basename(&full("")));
        cache
            .store(
                &cache.index,
                &k,
                encode_index(&IndexBody::Stat(Some(st))),
                snap,
            )
            .await;
    }
    for (rel, listing) in dirs {
        let dir = full(&rel);
        for e in &listing {
            let child = if dir == "/" {
                format!("/{}", e.name)
            } else {
                format!("{dir}/{}", e.name)
            };
            let k = cache.key('s', &child);
            cache
                .store(
                    &cache.index,
                    &k,
                    encode_index(&IndexBody::Stat(Some(e.clone()))),
                    snap,
                )
                .await;
        }
        let k = cache.key('l', &dir);
        cache
            .store(
                &cache.index,
                &k,
                encode_index(&IndexBody::List(listing)),
                snap,
            )
            .await;
    }
}

#[async_trait]
impl Resource for CachedResource {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn capability(&self) -> Capability {
        self.inner.capability()
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        if self.off() {
            self.backend();
            return self.inner.stat(path).await;
        }
        self.stat_cached(path).await
    }
    async fn lstat(&self, path: &str) -> Result<FileStat> {
        if self.inner.capability().symlinks || self.off() {
            self.backend();
            return self.inner.lstat(path).await;
        }
        self.stat_cached(path).await
    }
    fn link_redirect(&self, path: &str, follow_last: bool) -> Result<Option<String>> {
        self.inner.link_redirect(path, follow_last)
    }
    async fn readlink(&self, path: &str) -> Result<String> {
        self.backend();
        self.inner.readlink(path).await
    }
    async fn symlink(&self, target: &str, path: &str) -> Result<()> {
        self.change(&[(path, false)], self.inner.symlink(target, path))
            .await
    }
    async fn realpath(&self, path: &str) -> Result<String> {
        if self.inner.capability().symlinks {
            self.backend();
            return self.inner.realpath(path).await;
        }
        self.stat(path).await?;
        Ok(normalize_path(path))
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        mirage_ops::collect_list(self.list(path, &ListOptions::default()).await?).await
    }
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        if self.off() {
            self.backend();
            return self.inner.list(path, opts).await;
        }
        self.list_cached(path, opts).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        match self.read_with(path, &ReadOptions::default()).await? {
            ReadResult::Data { source, .. } => Ok(source),
            ReadResult::Unchanged => Err(Error::at(ErrorKind::Io, path)),
        }
    }
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        if self.off() || opts.if_none_match.is_some() {
            self.backend();
            return self.inner.read_with(path, opts).await;
        }
        self.read_cached(path, opts).await
    }
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        self.write_with(path, data, &WriteOptions::default())
            .await
            .map(|_| ())
    }
    async fn write_with(
        &self,
        path: &str,
        data: ByteSource,
        opts: &WriteOptions,
    ) -> Result<VersionToken> {
        let p = normalize_path(path);
        let mut o = opts.clone();
        if self.cache.policy.write == WritePolicy::Conditional && o.if_match.is_none() {
            o.if_match = self.cache.seen_version(&p);
        }
        let r = self
            .change(&[(&p, false)], self.inner.write_with(&p, data, &o))
            .await;
        match &r {
            Ok(v) => self.cache.set_seen(&p, v),
            Err(e) => {
                if e.kind == ErrorKind::Conflict {
                    self.cache
                        .counters
                        .conflicts
                        .fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(mut s) = self.cache.seen.lock() {
                    s.remove(&p);
                }
            }
        }
        r
    }
    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let p = normalize_path(path);
        let r = self
            .change(&[(&p, false)], self.inner.append(&p, data))
            .await;
        if let Ok(mut s) = self.cache.seen.lock() {
            s.remove(&p);
        }
        r
    }
    async fn mkdir(&self, path: &str) -> Result<()> {
        self.change(&[(path, false)], self.inner.mkdir(path)).await
    }
    async fn unlink(&self, path: &str) -> Result<()> {
        self.change(&[(path, false)], self.inner.unlink(path)).await
    }
    async fn rmdir(&self, path: &str) -> Result<()> {
        self.change(&[(path, true)], self.inner.rmdir(path)).await
    }
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.change(&[(from, true), (to, true)], self.inner.rename(from, to))
            .await
    }
    async fn prefetch_tree(&self, path: &str, contents: bool) -> Result<()> {
        if self.off() || !self.inner.capability().recursive_list {
            return Ok(());
        }
        let opts = ListOptions {
            recursive: true,
            ..ListOptions::default()
        };
        let mut s = self.list_cached(path, &opts).await?;
        let mut files = Vec::new();
        let mut total = 0u64;
        let mut within = contents && matches!(self.cache.policy.read, ReadPolicy::Bounded(_));
        while let Some(e) = s.next().await {
            let e = e?;
            if within && e.is_file() {
                total += e.size;
                files.push(e.name);
                within = files.len() <= READ_AHEAD_FILES
                    && total <= self.cache.max_entry.min(READ_AHEAD_BYTES);
            }
        }
        if !within {
            return Ok(());
        }
        // read-ahead: the walk reads every file, so fetch them `READ_AHEAD`
        // at a time now (each through the cache: one GET, stored), instead
        // of one after another later; only under `bounded`, where the walk's
        // own reads are then answered without a request
        let base = normalize_path(path);
        futures::stream::iter(files)
            .for_each_concurrent(READ_AHEAD, |rel| {
                let p = if base == "/" {
                    format!("/{rel}")
                } else {
                    format!("{base}/{rel}")
                };
                async move {
                    // already cached and trusted: nothing to fetch (and no
                    // hit counted for a read nobody asked for)
                    if let ReadPolicy::Bounded(t) = self.cache.policy.read
                        && let Some(raw) = self.cache.files.get(&self.cache.key('d', &p)).await
                        && FileEntry::decode(&raw).is_some_and(|e| young(e.stored_ms, t))
                    {
                        return;
                    }
                    if let Ok(ReadResult::Data { source, .. }) =
                        self.read_cached(&p, &ReadOptions::default()).await
                    {
                        let mut s = source.into_stream();
                        while let Some(Ok(_)) = s.next().await {}
                    }
                }
            })
            .await;
        Ok(())
    }
    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        self.change(&[(path, false)], self.inner.chmod(path, mode))
            .await
    }
    async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
        self.change(&[(path, false)], self.inner.set_modified(path, time))
            .await
    }
}
