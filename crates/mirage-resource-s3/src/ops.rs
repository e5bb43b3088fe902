//! The VFS functions of an S3 mount, on an [`Accessor`]: stat, list,
//! read, write, unlink, mkdir, rmdir, rename.

use std::borrow::Cow;
use std::time::SystemTime;

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, ListOptions, ReadOptions, ReadResult,
    Result, VersionToken, normalize_path,
};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    UpdateVersion, WriteMultipart,
};

use crate::accessor::{Accessor, map_err};

/// Bytes of a multipart part; a write of more than this is multipart.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Keys per listing request when the caller gives no `page_size` (S3's
/// maximum).
pub const LIST_PAGE: usize = 1000;

/// HEAD requests at once when a recursive listing tells empty files from
/// directory markers.
const HEAD_CONCURRENCY: usize = 8;

/// Parts uploaded at once by a multipart write.
const PART_CONCURRENCY: usize = 2;

fn last_name(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((_, n)) if !n.is_empty() => n.to_string(),
        _ => "/".to_string(),
    }
}

fn etag(e: Option<&String>) -> VersionToken {
    e.map_or(VersionToken::Unknown, |e| VersionToken::ETag(e.clone()))
}

fn file_stat(name: String, meta: &ObjectMeta) -> FileStat {
    let mut st = FileStat::file(name, meta.size);
    st.modified = Some(SystemTime::from(meta.last_modified));
    st.version = etag(meta.e_tag.as_ref());
    st
}

impl Accessor {
    /// One listing request: keys under the raw prefix `prefix`.
    async fn list_page(
        &self,
        prefix: &str,
        delimiter: bool,
        max_keys: usize,
        offset: Option<String>,
        token: Option<String>,
        path: &str,
    ) -> Result<object_store::list::PaginatedListResult> {
        let opts = PaginatedListOptions {
            offset,
            delimiter: delimiter.then_some(Cow::Borrowed("/")),
            max_keys: Some(max_keys),
            page_token: token,
            ..PaginatedListOptions::default()
        };
        let p = (!prefix.is_empty()).then_some(prefix);
        self.store
            .list_paginated(p, opts)
            .await
            .map_err(|e| self.err(e, path))
    }

    /// Whether the directory `path` exists: its marker or any key under
    /// it (one listing request with `max-keys` 1). The root always does.
    pub async fn dir_exists(&self, path: &str) -> Result<bool> {
        if path == "/" {
            return Ok(true);
        }
        let prefix = self.dir_prefix(path);
        let page = self.list_page(&prefix, false, 1, None, None, path).await?;
        Ok(!page.result.objects.is_empty() || !page.result.common_prefixes.is_empty())
    }

    /// `stat(2)`: HEAD the key; if absent, a directory when its prefix
    /// holds a key (one listing request); if not, below the root, a HEAD
    /// of the parent tells `NotADirectory` (the parent is a file) from
    /// `NotFound`. A file costs 1 request, a directory 2, a miss 3.
    pub async fn stat(&self, path: &str) -> Result<FileStat> {
        let path = normalize_path(path);
        if path == "/" {
            return Ok(FileStat::dir("/"));
        }
        let loc = self.location(&path)?;
        match self.store.head(&loc).await {
            Ok(meta) => Ok(file_stat(last_name(&path), &meta)),
            Err(object_store::Error::NotFound { .. }) => {
                if self.dir_exists(&path).await? {
                    return Ok(FileStat::dir(last_name(&path)));
                }
                // Missing: under a file it is `NotADirectory`, as stat(2).
                let parent = mirage_types::dirname(&path);
                if parent != "/" {
                    match self.store.head(&self.location(&parent)?).await {
                        Ok(_) => return Err(Error::at(ErrorKind::NotADirectory, path)),
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(self.err(e, &path)),
                    }
                }
                Err(Error::at(ErrorKind::NotFound, path))
            }
            Err(e) => Err(self.err(e, &path)),
        }
    }

    /// The error for a missing file `path`: `IsADirectory` when it is a
    /// directory, else `NotFound`.
    async fn missing_file(&self, path: &str) -> Error {
        match self.dir_exists(path).await {
            Ok(true) => Error::at(ErrorKind::IsADirectory, path),
            Ok(false) => Error::at(ErrorKind::NotFound, path),
            Err(e) => e,
        }
    }

    /// The listing of the directory `path`, page by page (see
    /// [`mirage_ops::Resource::list`]). Non-recursive: one delimiter
    /// listing request per page. Recursive: one listing without a
    /// delimiter, each page of keys turned into entries named relative to
    /// `path`, the directories the keys imply emitted once, before their
    /// contents (keys come sorted, so a directory's keys are contiguous).
    /// The directory's own marker is never listed. Errors: `NotFound`, or
    /// `NotADirectory` when `path` is a file.
    pub async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let path = normalize_path(path);
        let prefix = self.dir_prefix(&path);
        let limit = opts.page_size.unwrap_or(LIST_PAGE).clamp(1, LIST_PAGE);
        let recursive = opts.recursive;
        let after = opts.start_after.clone();
        let offset = after.as_ref().map(|a| format!("{prefix}{a}"));
        let first = self
            .list_page(&prefix, !recursive, limit, offset.clone(), None, &path)
            .await?;
        if path != "/"
            && first.result.objects.is_empty()
            && first.result.common_prefixes.is_empty()
            && first.page_token.is_none()
            && after.is_none()
        {
            // Nothing under it, not even a marker.
            let loc = self.location(&path)?;
            return match self.store.head(&loc).await {
                Ok(_) => Err(Error::at(ErrorKind::NotADirectory, path)),
                Err(object_store::Error::NotFound { .. }) => {
                    Err(Error::at(ErrorKind::NotFound, path))
                }
                Err(e) => Err(self.err(e, &path)),
            };
        }
        struct State {
            page: Option<object_store::list::PaginatedListResult>,
            done: bool,
            // Recursive: the directories of the last key, already emitted.
            dirs: Vec<String>,
        }
        let state = State {
            page: Some(first),
            done: false,
            dirs: Vec::new(),
        };
        let stripped = prefix.trim_end_matches('/').to_string();
        let s = futures::stream::unfold(state, move |mut st| {
            let prefix = prefix.clone();
            let stripped = stripped.clone();
            let path = path.clone();
            let after = after.clone();
            let offset = offset.clone();
            async move {
                if st.done {
                    return None;
                }
                // `done` is set whenever no next page was fetched.
                let page = st.page.take()?;
                let token = page.page_token.clone();
                let mut out: Vec<Result<FileStat>> = Vec::new();
                if recursive {
                    self.recursive_entries(&page.result.objects, &stripped, &mut st.dirs, &mut out)
                        .await;
                } else {
                    for p in &page.result.common_prefixes {
                        if let Some(name) = rel(p.as_ref(), &stripped) {
                            out.push(Ok(FileStat::dir(name)));
                        }
                    }
                    for m in &page.result.objects {
                        if let Some(name) = rel(m.location.as_ref(), &stripped) {
                            out.push(Ok(file_stat(name.to_string(), m)));
                        }
                    }
                }
                if let Some(a) = &after {
                    out.retain(|e| e.as_ref().map_or(true, |e| e.name.as_str() > a.as_str()));
                }
                match token {
                    None => st.done = true,
                    Some(t) => {
                        match self
                            .list_page(&prefix, !recursive, limit, offset, Some(t), &path)
                            .await
                        {
                            Ok(p) => st.page = Some(p),
                            Err(e) => {
                                out.push(Err(e));
                                st.done = true;
                            }
                        }
                    }
                }
                Some((futures::stream::iter(out), st))
            }
        });
        Ok(s.flatten().boxed())
    }

    /// The entries of one page of a recursive listing (see [`Self::list`]).
    /// A zero-byte object may be a directory marker (object_store drops
    /// the key's trailing `/`): it is one when the next key lies under it
    /// or the previous key sorts after it (so its key must end with `/`);
    /// otherwise a HEAD of the key without the `/` tells (404: a marker).
    /// Those HEADs run [`HEAD_CONCURRENCY`] at a time, so a tree of many
    /// empty files costs one HEAD per empty file.
    async fn recursive_entries(
        &self,
        objects: &[ObjectMeta],
        stripped: &str,
        dirs: &mut Vec<String>,
        out: &mut Vec<Result<FileStat>>,
    ) {
        let mut marker: Vec<Option<bool>> = objects
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if m.size != 0 {
                    return Some(false);
                }
                let k = m.location.as_ref();
                let under = format!("{k}/");
                let next_under = objects
                    .get(i + 1)
                    .is_some_and(|n| n.location.as_ref().starts_with(&under));
                let prev_after = i > 0 && objects[i - 1].location.as_ref() >= k;
                (next_under || prev_after).then_some(true)
            })
            .collect();
        let unknown: Vec<usize> = (0..objects.len())
            .filter(|&i| marker[i].is_none())
            .collect();
        let heads: Vec<(usize, std::result::Result<bool, Error>)> = futures::stream::iter(unknown)
            .map(|i| async move {
                let m = &objects[i];
                let r = match self.store.head(&m.location).await {
                    Ok(_) => Ok(false),
                    Err(object_store::Error::NotFound { .. }) => Ok(true),
                    Err(e) => Err(self.err(e, m.location.as_ref())),
                };
                (i, r)
            })
            .buffered(HEAD_CONCURRENCY)
            .collect()
            .await;
        for (i, r) in heads {
            match r {
                Ok(d) => marker[i] = Some(d),
                Err(e) => {
                    out.push(Err(e));
                    marker[i] = Some(false);
                }
            }
        }
        for (m, is_dir) in objects.iter().zip(marker) {
            let Some(name) = rel(m.location.as_ref(), stripped) else {
                continue;
            };
            let name = name.to_string();
            let is_dir = is_dir.unwrap_or(false);
            let comps: Vec<&str> = name.split('/').collect();
            let parents = if is_dir { comps.len() } else { comps.len() - 1 };
            // Keep the emitted directories that are ancestors of this key.
            let mut keep = 0;
            while keep < dirs.len() && keep < parents && dirs[keep] == comps[keep] {
                keep += 1;
            }
            dirs.truncate(keep);
            for (d, comp) in comps.iter().enumerate().take(parents).skip(keep) {
                dirs.push((*comp).to_string());
                out.push(Ok(FileStat::dir(comps[..=d].join("/"))));
            }
            if !is_dir {
                out.push(Ok(file_stat(name, m)));
            }
        }
    }

    /// A streaming GET of the file `path`. Errors: `NotFound`,
    /// `IsADirectory`.
    pub async fn read(&self, path: &str) -> Result<ByteSource> {
        let path = normalize_path(path);
        let loc = self.location(&path)?;
        match self.store.get(&loc).await {
            Ok(r) => Ok(self.source(r, &path)),
            Err(object_store::Error::NotFound { .. }) => Err(self.missing_file(&path).await),
            Err(e) => Err(self.err(e, &path)),
        }
    }

    fn source(&self, r: object_store::GetResult, path: &str) -> ByteSource {
        let (name, url) = (self.name, self.bucket_url.clone());
        let path = path.to_string();
        ByteSource::Stream(
            r.into_stream()
                .map(move |c| c.map_err(|e| map_err(name, &url, e, &path)))
                .boxed(),
        )
    }

    /// A ranged and/or conditional GET: one request. The version is the
    /// ETag of the response, as object_store gives it.
    pub async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let path = normalize_path(path);
        let loc = self.location(&path)?;
        let if_none_match = match &opts.if_none_match {
            Some(VersionToken::ETag(e)) => Some(e.clone()),
            _ => None,
        };
        let empty_range = opts.range.is_some_and(|r| r.len == Some(0));
        let range = match opts.range {
            Some(r) if !empty_range => Some(match r.len {
                Some(len) => GetRange::Bounded(r.offset..r.offset.saturating_add(len)),
                None => GetRange::Offset(r.offset),
            }),
            _ => None,
        };
        let go = GetOptions {
            if_none_match: if_none_match.clone(),
            range: range.clone(),
            head: empty_range,
            ..GetOptions::default()
        };
        match self.store.get_opts(&loc, go).await {
            Ok(r) => {
                let version = etag(r.meta.e_tag.as_ref());
                let source = if empty_range {
                    ByteSource::empty()
                } else {
                    self.source(r, &path)
                };
                Ok(ReadResult::Data { source, version })
            }
            Err(object_store::Error::NotModified { .. }) => Ok(ReadResult::Unchanged),
            Err(object_store::Error::NotFound { .. }) => Err(self.missing_file(&path).await),
            Err(e) if range.is_some() => {
                // A range past the end (416, or object_store's own range
                // check): read as empty, as pread(2), if the file is there.
                let head = GetOptions {
                    if_none_match,
                    head: true,
                    ..GetOptions::default()
                };
                match self.store.get_opts(&loc, head).await {
                    Ok(r) if opts.range.is_some_and(|x| x.offset >= r.meta.size) => {
                        Ok(ReadResult::Data {
                            source: ByteSource::empty(),
                            version: etag(r.meta.e_tag.as_ref()),
                        })
                    }
                    Err(object_store::Error::NotModified { .. }) => Ok(ReadResult::Unchanged),
                    _ => Err(self.err(e, &path)),
                }
            }
            Err(e) => Err(self.err(e, &path)),
        }
    }

    /// Writes `data` to `path`: up to [`PART_SIZE`] bytes (or any size
    /// with `mode` conditional) in one PUT; more as a multipart upload in
    /// [`PART_SIZE`] parts, streamed, aborted on any error, so a partial
    /// object is never visible. Answers the new ETag. Errors: `Conflict`
    /// when a conditional PUT loses; those of the input stream.
    pub async fn write(&self, path: &str, data: ByteSource, mode: PutMode) -> Result<VersionToken> {
        let path = normalize_path(path);
        let loc = self.location(&path)?;
        self.check_writable(&path).await?;
        let conditional = !matches!(mode, PutMode::Overwrite);
        let mut stream = data.into_stream();
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut size = 0usize;
        while size <= PART_SIZE || conditional {
            match stream.next().await {
                Some(c) => {
                    let c = c?;
                    size += c.len();
                    chunks.push(c);
                }
                None => {
                    let opts = PutOptions {
                        mode,
                        ..PutOptions::default()
                    };
                    let r = self
                        .store
                        .put_opts(&loc, PutPayload::from_iter(chunks), opts)
                        .await
                        .map_err(|e| self.err(e, &path))?;
                    return Ok(etag(r.e_tag.as_ref()));
                }
            }
        }
        let upload = self
            .store
            .put_multipart(&loc)
            .await
            .map_err(|e| self.err(e, &path))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for c in chunks {
            w.put(c);
        }
        loop {
            if let Err(e) = w.wait_for_capacity(PART_CONCURRENCY).await {
                self.abort(w, &path).await;
                return Err(self.err(e, &path));
            }
            match stream.next().await {
                Some(Ok(c)) => w.put(c),
                Some(Err(e)) => {
                    self.abort(w, &path).await;
                    return Err(e);
                }
                None => break,
            }
        }
        let r = w.finish().await.map_err(|e| self.err(e, &path))?;
        Ok(etag(r.e_tag.as_ref()))
    }

    /// Aborts a multipart upload (its parts are dropped, nothing becomes
    /// visible); a failure to abort is only logged, as the write's own
    /// error is what the caller needs (the bucket's lifecycle rule, if
    /// any, cleans up the parts).
    async fn abort(&self, w: WriteMultipart, path: &str) {
        if let Err(e) = w.abort().await {
            tracing::warn!(path, error = %self.err(e, path), "s3: aborting a multipart upload failed");
        }
    }

    /// Checks that a file may be written at `path`, as a file system
    /// would: it is not a directory, and its parent is one. Two listing
    /// requests (`max-keys` 1) at once: under `path`, and, below the root,
    /// under its parent; only when the parent holds nothing, a HEAD of the
    /// parent tells a file (`NotADirectory`) from nothing (`NotFound`).
    /// Errors: `IsADirectory`, `NotADirectory`, `NotFound`.
    async fn check_writable(&self, path: &str) -> Result<()> {
        let parent = mirage_types::dirname(path);
        let (is_dir, parent_dir) = futures::join!(self.dir_exists(path), self.dir_exists(&parent));
        if is_dir? {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        if parent_dir? {
            return Ok(());
        }
        match self.store.head(&self.location(&parent)?).await {
            Ok(_) => Err(Error::at(ErrorKind::NotADirectory, path)),
            Err(object_store::Error::NotFound { .. }) => Err(Error::at(ErrorKind::NotFound, path)),
            Err(e) => Err(self.err(e, path)),
        }
    }

    /// The put mode of a conditional write on `if_match`. Errors:
    /// `Conflict` for a token that is not an ETag (it can never match).
    pub fn update_mode(path: &str, if_match: &VersionToken) -> Result<PutMode> {
        match if_match {
            VersionToken::ETag(e) => Ok(PutMode::Update(UpdateVersion {
                e_tag: Some(e.clone()),
                version: None,
            })),
            _ => Err(Error::at(ErrorKind::Conflict, path)),
        }
    }

    /// DELETE of the file `path` (HEAD first: a missing key is `NotFound`,
    /// a directory `IsADirectory`).
    pub async fn unlink(&self, path: &str) -> Result<()> {
        let path = normalize_path(path);
        let loc = self.location(&path)?;
        match self.store.head(&loc).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => {
                return Err(self.missing_file(&path).await);
            }
            Err(e) => return Err(self.err(e, &path)),
        }
        self.store
            .delete(&loc)
            .await
            .map_err(|e| self.err(e, &path))
    }

    /// Creates the directory `path`: writes the zero-byte marker key
    /// `{key}/`. Its parent must exist. Errors: `AlreadyExists`,
    /// `NotFound` (parent), `NotADirectory` (parent is a file).
    pub async fn mkdir(&self, path: &str) -> Result<()> {
        let path = normalize_path(path);
        if path == "/" {
            return Err(Error::at(ErrorKind::AlreadyExists, path));
        }
        match self.stat(&path).await {
            Ok(_) => return Err(Error::at(ErrorKind::AlreadyExists, path)),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let parent = mirage_types::dirname(&path);
        if parent != "/" {
            match self.stat(&parent).await {
                Ok(st) if st.is_dir() => {}
                Ok(_) => return Err(Error::at(ErrorKind::NotADirectory, path)),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    return Err(Error::at(ErrorKind::NotFound, path));
                }
                Err(e) => return Err(e),
            }
        }
        self.put_marker(&path).await
    }

    async fn put_marker(&self, path: &str) -> Result<()> {
        let key = self.dir_prefix(path);
        match self.raw("PUT", &key).await? {
            200..=299 => Ok(()),
            s => Err(Error::msg(
                ErrorKind::Remote { retryable: false },
                format!("{}: PUT {key}: status {s}", self.name),
            )
            .with_path(path)),
        }
    }

    async fn delete_marker(&self, path: &str) -> Result<()> {
        let key = self.dir_prefix(path);
        match self.raw("DELETE", &key).await? {
            200..=299 | 404 => Ok(()),
            s => Err(Error::msg(
                ErrorKind::Remote { retryable: false },
                format!("{}: DELETE {key}: status {s}", self.name),
            )
            .with_path(path)),
        }
    }

    /// Whether the directory `path` holds no key but its marker (one
    /// listing request).
    async fn dir_is_empty(&self, path: &str) -> Result<bool> {
        let prefix = self.dir_prefix(path);
        let stripped = prefix.trim_end_matches('/');
        let page = self.list_page(&prefix, false, 2, None, None, path).await?;
        Ok(!page
            .result
            .objects
            .iter()
            .any(|m| m.location.as_ref() != stripped))
    }

    /// Removes the empty directory `path` (one listing request, then the
    /// marker's DELETE). Errors: `DirectoryNotEmpty`, `NotADirectory`,
    /// `NotFound`.
    pub async fn rmdir(&self, path: &str) -> Result<()> {
        let path = normalize_path(path);
        if path == "/" {
            return Err(Error::at(ErrorKind::InvalidInput, path));
        }
        let st = self.stat(&path).await?;
        if !st.is_dir() {
            return Err(Error::at(ErrorKind::NotADirectory, path));
        }
        if !self.dir_is_empty(&path).await? {
            return Err(Error::at(ErrorKind::DirectoryNotEmpty, path));
        }
        self.delete_marker(&path).await
    }

    /// Deletes every key under the mount's key prefix, markers included
    /// (bulk deletes of up to 1000 keys; a marker by its own request).
    /// For test cleanup. Errors: the first failed request.
    pub async fn delete_prefix(&self) -> Result<()> {
        let mut token = None;
        loop {
            let page = self
                .list_page(&self.prefix, false, LIST_PAGE, None, token, "/")
                .await?;
            let (markers, files): (Vec<&ObjectMeta>, Vec<&ObjectMeta>) =
                page.result.objects.iter().partition(|m| m.size == 0);
            let locs = files
                .iter()
                .map(|m| Ok(m.location.clone()))
                .collect::<Vec<_>>();
            let mut deleted = self
                .store
                .delete_stream(futures::stream::iter(locs).boxed());
            while let Some(r) = deleted.next().await {
                r.map_err(|e| self.err(e, "/"))?;
            }
            for m in markers {
                // An empty file, or a marker whose key ends with `/`.
                let k = m.location.as_ref();
                self.store
                    .delete(&m.location)
                    .await
                    .map_err(|e| self.err(e, k))?;
                self.raw("DELETE", &format!("{k}/")).await?;
            }
            token = page.page_token;
            if token.is_none() {
                return Ok(());
            }
        }
    }

    /// Renames by copy + delete (not atomic: a reader may see both names
    /// for a moment, and a failure half-way leaves both). A directory is
    /// renamed key by key (one recursive listing, a copy and a delete per
    /// key, markers included).
    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let from = normalize_path(from);
        let to = normalize_path(to);
        if from == to {
            self.stat(&from).await?;
            return Ok(());
        }
        let st = self.stat(&from).await?;
        if !st.is_dir() {
            // As a write: `to` is not a directory, its parent is one.
            self.check_writable(&to).await?;
            let (a, b) = (self.location(&from)?, self.location(&to)?);
            self.store
                .copy(&a, &b)
                .await
                .map_err(|e| self.err(e, &from))?;
            return self.store.delete(&a).await.map_err(|e| self.err(e, &from));
        }
        if to == "/" || to.starts_with(&format!("{from}/")) {
            return Err(Error::at(ErrorKind::InvalidInput, to));
        }
        match self.stat(&to).await {
            Ok(t) if !t.is_dir() => return Err(Error::at(ErrorKind::NotADirectory, to)),
            Ok(_) => {
                if !self.dir_is_empty(&to).await? {
                    return Err(Error::at(ErrorKind::DirectoryNotEmpty, to));
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                if !self.dir_exists(&mirage_types::dirname(&to)).await? {
                    return Err(Error::at(ErrorKind::NotFound, to));
                }
            }
            Err(e) => return Err(e),
        }
        let src_prefix = self.dir_prefix(&from);
        let dst_prefix = self.dir_prefix(&to);
        let stripped = src_prefix.trim_end_matches('/').to_string();
        let mut token = None;
        loop {
            let page = self
                .list_page(&src_prefix, false, LIST_PAGE, None, token, &from)
                .await?;
            for m in &page.result.objects {
                let raw = m.location.as_ref();
                let Some(rest) = rel(raw, &stripped) else {
                    continue;
                };
                let dst = Path::parse(format!("{dst_prefix}{rest}")).map_err(|e| {
                    Error::msg(ErrorKind::InvalidInput, format!("{}: {e}", self.name))
                })?;
                match self.store.copy(&m.location, &dst).await {
                    Ok(()) => self
                        .store
                        .delete(&m.location)
                        .await
                        .map_err(|e| self.err(e, &from))?,
                    // A zero-byte listing entry without its key: a marker.
                    Err(object_store::Error::NotFound { .. }) if m.size == 0 => {
                        let sub = format!("{from}/{rest}");
                        let dsub = format!("{to}/{rest}");
                        self.put_marker(&dsub).await?;
                        self.delete_marker(&sub).await?;
                    }
                    Err(e) => return Err(self.err(e, &from)),
                }
            }
            token = page.page_token;
            if token.is_none() {
                break;
            }
        }
        self.put_marker(&to).await?;
        self.delete_marker(&from).await
    }
}

/// `raw` relative to the listed directory `stripped` (its prefix without
/// the trailing `/`, `""` for the bucket root): `None` for the directory
/// itself (its marker) or a key outside it.
fn rel<'k>(raw: &'k str, stripped: &str) -> Option<&'k str> {
    if stripped.is_empty() {
        return (!raw.is_empty()).then_some(raw);
    }
    raw.strip_prefix(stripped)?
        .strip_prefix('/')
        .filter(|r| !r.is_empty())
}
