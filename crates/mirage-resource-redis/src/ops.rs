//! The VFS functions on the model product's layout (its `core/redis/*`):
//! stat, listings, reads, and the changes, each change one Lua script.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, ListOptions, ReadOptions, ReadResult,
    Result, VersionToken, WriteOptions, bytestr, normalize_path,
};
use redis::Script;

use crate::RedisResource;
use crate::accessor::{
    Accessor, child_prefix, children_pattern, format_stamp, name_of, now_stamp, parent, parse_mode,
    parse_stamp, stamp_time, version,
};
use crate::scripts;

/// Bytes per `GETRANGE` when a large file is streamed, and the most a
/// write holds in memory before it stages the rest on the server.
pub(crate) const CHUNK: u64 = 4 << 20;
/// Entries whose details one pipeline fetches during a listing.
const DETAIL_BATCH: usize = 512;
/// `COUNT` hint of each `SCAN`/`SSCAN` step.
const SCAN_COUNT: usize = 1000;
/// How long a staged (tmp) key lives if the writer dies mid-write.
const STAGE_TTL_MS: u64 = 3_600_000;

/// What a stat pipeline answers for one path.
type StatReply = (bool, bool, u64, Option<Vec<u8>>, Option<Vec<u8>>);

impl Accessor {
    /// Runs `script` with `keys` and `args`; see [`Accessor::run`] for retries.
    async fn eval(
        &self,
        script: &Script,
        keys: &[Vec<u8>],
        args: &[Bytes],
        repeatable: bool,
    ) -> Result<String> {
        self.run(repeatable, |mut c| async move {
            let mut inv = script.prepare_invoke();
            for k in keys {
                inv.key(k.as_slice());
            }
            for a in args {
                inv.arg(a.as_ref());
            }
            inv.invoke_async::<String>(&mut c).await
        })
        .await
    }

    /// Whether `path` is a directory, whether it is a file, its size,
    /// mtime and stored mode, read atomically.
    async fn stat_reply(&self, p: &str) -> Result<StatReply> {
        let (dk, fk, mk, ak) = (
            self.dir_key(),
            self.file_key(p),
            self.modified_key(p),
            self.attrs_key(p),
        );
        self.run(true, |mut c| {
            let mut pipe = redis::pipe();
            pipe.atomic()
                .sismember(&dk, bytestr::encode(p).as_ref())
                .exists(&fk)
                .strlen(&fk)
                .get(&mk)
                .hget(&ak, "mode");
            async move { pipe.query_async::<StatReply>(&mut c).await }
        })
        .await
    }

    /// The error for a missing `p`: `NotADirectory` when an ancestor is a
    /// file (as `stat("/file/x")`), else `NotFound`.
    async fn missing(&self, p: &str) -> Error {
        let mut ancestors = Vec::new();
        let mut a = parent(p);
        while a != "/" {
            let next = parent(&a);
            ancestors.push(a);
            a = next;
        }
        if !ancestors.is_empty() {
            let keys: Vec<Vec<u8>> = ancestors.iter().map(|a| self.file_key(a)).collect();
            let found = self
                .run(true, |mut c| {
                    let mut pipe = redis::pipe();
                    for k in &keys {
                        pipe.exists(k);
                    }
                    async move { pipe.query_async::<Vec<bool>>(&mut c).await }
                })
                .await;
            match found {
                Ok(v) if v.iter().any(|&b| b) => return Error::at(ErrorKind::NotADirectory, p),
                Ok(_) => {}
                Err(e) => return e,
            }
        }
        Error::at(ErrorKind::NotFound, p)
    }

    /// Maps a script's status word to the error it stands for at `p`.
    async fn status(&self, word: &str, p: &str) -> Result<()> {
        let kind = match word {
            "OK" => return Ok(()),
            "NOENT" | "NOPARENT" => return Err(self.missing(p).await),
            "ISDIR" => ErrorKind::IsADirectory,
            "NOTDIR" => ErrorKind::NotADirectory,
            "EXIST" => ErrorKind::AlreadyExists,
            "NOTEMPTY" => ErrorKind::DirectoryNotEmpty,
            "CONFLICT" => ErrorKind::Conflict,
            "INVAL" => ErrorKind::InvalidInput,
            // rmdir(2) gives EBUSY for a mount point, as the ram resource
            "ROOT" => ErrorKind::PermissionDenied,
            other => {
                return Err(Error::msg(
                    ErrorKind::Remote { retryable: false },
                    format!("redis {}: unexpected script reply {other:?}", self.url),
                ));
            }
        };
        Err(Error::at(kind, p))
    }

    /// `SCAN`/`SSCAN` (`set` given) with `MATCH pattern` to the end.
    async fn scan_all(&self, set: Option<&[u8]>, pattern: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, page) = self
                .run(true, |mut c| {
                    let mut cmd = match set {
                        Some(s) => {
                            let mut cmd = redis::cmd("SSCAN");
                            cmd.arg(s);
                            cmd
                        }
                        None => redis::cmd("SCAN"),
                    };
                    cmd.arg(cursor)
                        .arg("MATCH")
                        .arg(pattern)
                        .arg("COUNT")
                        .arg(SCAN_COUNT);
                    async move { cmd.query_async::<(u64, Vec<Vec<u8>>)>(&mut c).await }
                })
                .await?;
            out.extend(page);
            if next == 0 {
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// The direct children of the directory `dir` with their details, or
    /// with `recursive` every descendant, named by its path relative to
    /// `dir` and sorted (so a directory comes before its contents): one
    /// `SSCAN` and one `SCAN` either way.
    async fn children(&self, dir: &str, recursive: bool) -> Result<Vec<FileStat>> {
        let base = child_prefix(dir);
        let direct = |full: String| -> Option<String> {
            let rest = full.strip_prefix(base.as_str())?;
            (!rest.is_empty() && (recursive || !rest.contains('/'))).then(|| full.clone())
        };
        let dir_key = self.dir_key();
        let mut dirs: Vec<String> = self
            .scan_all(Some(&dir_key), &children_pattern(dir))
            .await?
            .into_iter()
            .filter_map(|m| direct(bytestr::decode_owned(m)))
            .collect();
        dirs.sort();
        dirs.dedup();
        let strip = self.prefix.len() + "file:".len();
        let mut files: Vec<String> = self
            .scan_all(None, &self.file_children_pattern(dir))
            .await?
            .into_iter()
            .filter_map(|k| direct(bytestr::decode_owned(k.get(strip..)?.to_vec())))
            .filter(|f| dirs.binary_search(f).is_err())
            .collect();
        files.sort();
        files.dedup();
        let mut out = Vec::with_capacity(dirs.len() + files.len());
        for batch in dirs.chunks(DETAIL_BATCH) {
            let keys: Vec<(Vec<u8>, Vec<u8>)> = batch
                .iter()
                .map(|d| (self.modified_key(d), self.attrs_key(d)))
                .collect();
            let got = self
                .run(true, |mut c| {
                    let mut pipe = redis::pipe();
                    for (mk, ak) in &keys {
                        pipe.get(mk).hget(ak, "mode");
                    }
                    async move { pipe.query_async::<Vec<Option<Vec<u8>>>>(&mut c).await }
                })
                .await?;
            for (d, v) in batch.iter().zip(got.chunks(2)) {
                out.push(dir_stat(
                    d,
                    v.first().cloned().flatten(),
                    v.get(1).cloned().flatten(),
                ));
            }
        }
        for batch in files.chunks(DETAIL_BATCH) {
            let keys: Vec<[Vec<u8>; 3]> = batch
                .iter()
                .map(|f| [self.file_key(f), self.modified_key(f), self.attrs_key(f)])
                .collect();
            let got = self
                .run(true, |mut c| {
                    let mut pipe = redis::pipe();
                    for [fk, mk, ak] in &keys {
                        pipe.strlen(fk).get(mk).hget(ak, "mode");
                    }
                    async move { pipe.query_async::<Vec<redis::Value>>(&mut c).await }
                })
                .await?;
            for (f, v) in batch.iter().zip(got.chunks(3)) {
                let size = match v.first() {
                    Some(redis::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                };
                let bytes = |i: usize| match v.get(i) {
                    Some(redis::Value::BulkString(b)) => Some(b.clone()),
                    _ => None,
                };
                out.push(file_stat(f, size, bytes(1), bytes(2)));
            }
        }
        if recursive {
            let full: Vec<&String> = dirs.iter().chain(files.iter()).collect();
            for (st, f) in out.iter_mut().zip(full) {
                st.name = f[base.len()..].to_string();
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(out)
    }

    /// Reads `len` bytes (to the end when `None`) from `offset` of the
    /// file `p`, with its version: one atomic round trip for the first
    /// [`CHUNK`], then one per chunk, each checking that the file's mtime
    /// and size stayed (else the stream ends with an `Io` error: the file
    /// changed while it was read).
    ///
    /// With `unless` (a conditional read), the first round trip is the
    /// `CGET` script, which answers without the bytes when the file still
    /// has that version: then `None`, in one round trip either way.
    async fn read_range(
        self: &Arc<Self>,
        p: &str,
        offset: u64,
        len: Option<u64>,
        unless: Option<&VersionToken>,
    ) -> Result<Option<(ByteSource, VersionToken)>> {
        let (fk, mk) = (self.file_key(p), self.modified_key(p));
        let want = len.unwrap_or(u64::MAX);
        let first = want.min(CHUNK);
        let (start, stop) = getrange_bounds(offset, first);
        let (exists, size, modified, data) = match unless {
            Some(VersionToken::MtimeSize(nanos, expect_size)) => {
                let keys = [fk.clone(), mk.clone()];
                let args = [
                    Bytes::from(format_stamp(*nanos)),
                    Bytes::from(expect_size.to_string()),
                    Bytes::from(start.to_string()),
                    Bytes::from(stop.to_string()),
                ];
                let reply: Vec<redis::Value> = self
                    .run(true, |mut c| {
                        let mut inv = scripts::CGET.prepare_invoke();
                        for k in &keys {
                            inv.key(k.as_slice());
                        }
                        for a in &args {
                            inv.arg(a.as_ref());
                        }
                        async move { inv.invoke_async(&mut c).await }
                    })
                    .await?;
                let bulk = |i: usize| match reply.get(i) {
                    Some(redis::Value::BulkString(b)) => b.clone(),
                    Some(redis::Value::SimpleString(s)) => s.clone().into_bytes(),
                    _ => Vec::new(),
                };
                match bulk(0).as_slice() {
                    b"SAME" => return Ok(None),
                    b"NOENT" => (false, 0, None, Vec::new()),
                    _ => {
                        let size = match reply.get(1) {
                            Some(redis::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                            _ => 0,
                        };
                        let m = Some(bulk(2)).filter(|m| !m.is_empty());
                        (true, size, m, bulk(3))
                    }
                }
            }
            _ => {
                self.run(true, |mut c| {
                    let mut pipe = redis::pipe();
                    pipe.atomic()
                        .exists(&fk)
                        .strlen(&fk)
                        .get(&mk)
                        .getrange(&fk, start, stop);
                    async move {
                        pipe.query_async::<(bool, u64, Option<Vec<u8>>, Vec<u8>)>(&mut c)
                            .await
                    }
                })
                .await?
            }
        };
        if !exists {
            let (is_dir, ..) = self.stat_reply(p).await?;
            if is_dir || p == "/" {
                return Err(Error::at(ErrorKind::IsADirectory, p));
            }
            return Err(self.missing(p).await);
        }
        let ts = parse_stamp(modified.as_deref());
        let v = version(ts, size);
        if unless == Some(&v) {
            // the same instant written another way (`...:31Z`)
            return Ok(None);
        }
        let end = offset.saturating_add(want).min(size);
        let total = end.saturating_sub(offset);
        let got = data.len() as u64;
        if got >= total {
            return Ok(Some((ByteSource::Bytes(Bytes::from(data)), v)));
        }
        let acc = Arc::clone(self);
        let path = p.to_string();
        let head = futures::stream::once(async move { Ok(Bytes::from(data)) });
        let rest = futures::stream::unfold(offset + got, move |at| {
            let acc = Arc::clone(&acc);
            let (fk, mk, path, modified) = (fk.clone(), mk.clone(), path.clone(), modified.clone());
            async move {
                if at >= end {
                    return None;
                }
                let n = (end - at).min(CHUNK);
                let r = acc
                    .run(true, |mut c| {
                        let mut pipe = redis::pipe();
                        let (start, stop) = getrange_bounds(at, n);
                        pipe.atomic()
                            .strlen(&fk)
                            .get(&mk)
                            .getrange(&fk, start, stop);
                        async move {
                            pipe.query_async::<(u64, Option<Vec<u8>>, Vec<u8>)>(&mut c)
                                .await
                        }
                    })
                    .await;
                match r {
                    Ok((now_size, now_mod, chunk))
                        if now_size == size && now_mod == modified && !chunk.is_empty() =>
                    {
                        let next = at + chunk.len() as u64;
                        Some((Ok(Bytes::from(chunk)), next))
                    }
                    Ok(_) => Some((
                        Err(Error::msg(ErrorKind::Io, "file changed while it was read")
                            .with_path(path)),
                        end,
                    )),
                    Err(e) => Some((Err(e), end)),
                }
            }
        });
        Ok(Some((ByteSource::Stream(head.chain(rest).boxed()), v)))
    }

    /// Writes (`append`: appends) `data` to the file `p` in one atomic
    /// step; `expect` makes it conditional on the file's stored mtime
    /// string and size. Data beyond [`CHUNK`] is staged in a `tmp:` key
    /// first, so memory stays bounded and a failing stream changes
    /// nothing. Answers the new version.
    async fn put(
        &self,
        p: &str,
        data: ByteSource,
        append: bool,
        expect: Option<(Vec<u8>, u64)>,
    ) -> Result<VersionToken> {
        if p == "/" {
            return Err(Error::at(ErrorKind::IsADirectory, p));
        }
        let par = parent(p);
        // Cheap checks first, so a doomed write does not drain its stream.
        let (dk, ep, epar) = (
            self.dir_key(),
            bytestr::encode(p).into_owned(),
            bytestr::encode(&par).into_owned(),
        );
        let (is_dir, parent_ok) = self
            .run(true, |mut c| {
                let mut pipe = redis::pipe();
                pipe.sismember(&dk, ep.as_slice())
                    .sismember(&dk, epar.as_slice());
                async move { pipe.query_async::<(bool, bool)>(&mut c).await }
            })
            .await?;
        if is_dir {
            return Err(Error::at(ErrorKind::IsADirectory, p));
        }
        if !parent_ok && par != "/" {
            return Err(self.missing(p).await);
        }
        let mut staged: Option<Vec<u8>> = None;
        let mut buf = BytesMut::new();
        let mut stream = data.into_stream();
        let drained: Result<()> = async {
            while let Some(chunk) = stream.next().await {
                buf.extend_from_slice(&chunk?);
                if buf.len() as u64 >= CHUNK {
                    let tmp = staged.get_or_insert_with(|| self.tmp_key()).clone();
                    self.stage(&tmp, buf.split().freeze()).await?;
                }
            }
            if let Some(tmp) = &staged
                && !buf.is_empty()
            {
                self.stage(tmp, buf.split().freeze()).await?;
            }
            Ok(())
        }
        .await;
        let drop_staged = async |staged: &Option<Vec<u8>>| {
            if let Some(tmp) = staged {
                let _ = self
                    .run(true, |mut c| async move {
                        redis::cmd("DEL").arg(tmp).query_async::<i64>(&mut c).await
                    })
                    .await;
            }
        };
        if let Err(e) = drained {
            drop_staged(&staged).await;
            return Err(e);
        }
        let op = match (append, staged.is_some()) {
            (false, false) => "set",
            (true, false) => "append",
            (false, true) => "set_tmp",
            (true, true) => "append_tmp",
        };
        let (stamp, nanos) = now_stamp();
        let (cond, em, es) = match &expect {
            Some((m, s)) => ("1", Bytes::from(m.clone()), s.to_string()),
            None => ("0", Bytes::new(), String::new()),
        };
        let keys = [
            self.dir_key(),
            self.file_key(p),
            self.modified_key(p),
            staged.clone().unwrap_or_else(|| self.file_key(p)),
        ];
        let args = [
            Bytes::from(ep),
            Bytes::from(epar),
            Bytes::from(stamp),
            Bytes::from_static(op.as_bytes()),
            buf.freeze(),
            Bytes::from_static(cond.as_bytes()),
            em,
            Bytes::from(es),
        ];
        // a plain append would add its bytes twice if its first attempt
        // landed; a staged one finds its tmp key gone and adds nothing
        let repeatable = op != "append";
        let reply = self.eval(&scripts::PUT, &keys, &args, repeatable).await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                drop_staged(&staged).await;
                return Err(e);
            }
        };
        match reply.parse::<u64>() {
            Ok(size) => Ok(VersionToken::MtimeSize(nanos, size)),
            Err(_) => {
                drop_staged(&staged).await;
                self.status(&reply, p).await?;
                Err(Error::at(ErrorKind::Io, p))
            }
        }
    }

    /// Appends `data` to the staging key `tmp` (which expires if we die).
    async fn stage(&self, tmp: &[u8], data: Bytes) -> Result<()> {
        self.run(false, |mut c| {
            let mut pipe = redis::pipe();
            pipe.append(tmp, data.as_ref()).ignore();
            pipe.pexpire(tmp, STAGE_TTL_MS as i64).ignore();
            async move { pipe.query_async::<()>(&mut c).await }
        })
        .await
    }
}

/// GETRANGE's inclusive bounds for `n` bytes from `offset` (`1 0`, an
/// empty answer, for none: `0 -1` would mean the whole string).
fn getrange_bounds(offset: u64, n: u64) -> (isize, isize) {
    if n == 0 {
        return (1, 0);
    }
    let start = isize::try_from(offset).unwrap_or(isize::MAX);
    let end = isize::try_from(offset.saturating_add(n - 1)).unwrap_or(isize::MAX);
    (start, end)
}

fn dir_stat(p: &str, modified: Option<Vec<u8>>, mode: Option<Vec<u8>>) -> FileStat {
    let mut st = FileStat::dir(name_of(p));
    st.modified = stamp_time(parse_stamp(modified.as_deref()));
    if let Some(m) = parse_mode(mode.as_deref()) {
        st.mode = Some(m);
    }
    st
}

fn file_stat(p: &str, size: u64, modified: Option<Vec<u8>>, mode: Option<Vec<u8>>) -> FileStat {
    let ts = parse_stamp(modified.as_deref());
    let mut st = FileStat::file(name_of(p), size);
    st.modified = stamp_time(ts);
    st.version = version(ts, size);
    if let Some(m) = parse_mode(mode.as_deref()) {
        st.mode = Some(m);
    }
    st
}

#[async_trait]
impl Resource for RedisResource {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn capability(&self) -> Capability {
        Capability {
            write: true,
            append: true,
            rename: true,
            real_directories: true,
            remote: true,
            range_read: true,
            conditional_read: true,
            conditional_write: true,
            chmod: true,
            recursive_list: true,
            ..Capability::default()
        }
    }

    async fn stat(&self, path: &str) -> Result<FileStat> {
        let p = normalize_path(path);
        let (is_dir, is_file, size, modified, mode) = self.acc.stat_reply(&p).await?;
        if is_dir || p == "/" {
            Ok(dir_stat(&p, modified, mode))
        } else if is_file {
            Ok(file_stat(&p, size, modified, mode))
        } else {
            Err(self.acc.missing(&p).await)
        }
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        let p = normalize_path(path);
        let (is_dir, is_file, ..) = self.acc.stat_reply(&p).await?;
        if !is_dir && p != "/" {
            if is_file {
                return Err(Error::at(ErrorKind::NotADirectory, p));
            }
            return Err(self.acc.missing(&p).await);
        }
        self.acc.children(&p, false).await
    }

    /// A listing from one `SSCAN` of the directory set and one `SCAN` of
    /// the file keys under `path` (recursive or not), then the details in
    /// pipelines of 512 entries; `start_after` applied after.
    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        let p = normalize_path(path);
        let (is_dir, is_file, ..) = self.acc.stat_reply(&p).await?;
        if !is_dir && p != "/" {
            if is_file {
                return Err(Error::at(ErrorKind::NotADirectory, p));
            }
            return Err(self.acc.missing(&p).await);
        }
        let entries = self.acc.children(&p, opts.recursive).await?;
        Ok(mirage_types::list_from_vec(entries, opts))
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        let p = normalize_path(path);
        match self.acc.read_range(&p, 0, None, None).await? {
            Some((source, _)) => Ok(source),
            None => Err(Error::at(ErrorKind::Io, p)),
        }
    }

    /// A range read (`GETRANGE`, the file's size, mtime and existence in
    /// one atomic pipeline) and/or a conditional one: the `CGET` script
    /// compares the stored mtime and size with the token and sends the
    /// bytes only when they differ, one round trip either way.
    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        let p = normalize_path(path);
        let (offset, len) = opts.range.map_or((0, None), |r| (r.offset, r.len));
        let unless = opts
            .if_none_match
            .as_ref()
            .filter(|v| **v != VersionToken::Unknown);
        Ok(match self.acc.read_range(&p, offset, len, unless).await? {
            Some((source, version)) => ReadResult::Data { source, version },
            None => ReadResult::Unchanged,
        })
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let p = normalize_path(path);
        self.acc.put(&p, data, false, None).await.map(|_| ())
    }

    /// A write that, with `if_match`, happens only while the file still
    /// has that version: the stored mtime string and size are read, the
    /// token compared, and the write script checks both again on the
    /// server in the same step as the `SET` (an optimistic check as
    /// `WATCH`/`MULTI` gives, without a dedicated connection). Answers
    /// the new `MtimeSize` version.
    async fn write_with(
        &self,
        path: &str,
        data: ByteSource,
        opts: &WriteOptions,
    ) -> Result<VersionToken> {
        let p = normalize_path(path);
        let Some(want) = &opts.if_match else {
            return self.acc.put(&p, data, false, None).await;
        };
        let (fk, mk) = (self.acc.file_key(&p), self.acc.modified_key(&p));
        let (exists, size, modified) = self
            .acc
            .run(true, |mut c| {
                let mut pipe = redis::pipe();
                pipe.atomic().exists(&fk).strlen(&fk).get(&mk);
                async move {
                    pipe.query_async::<(bool, u64, Option<Vec<u8>>)>(&mut c)
                        .await
                }
            })
            .await?;
        if !exists {
            return Err(Error::at(ErrorKind::Conflict, p));
        }
        let current = version(parse_stamp(modified.as_deref()), size);
        if *want == VersionToken::Unknown || current != *want {
            return Err(Error::at(ErrorKind::Conflict, p));
        }
        self.acc
            .put(&p, data, false, Some((modified.unwrap_or_default(), size)))
            .await
    }

    async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
        let p = normalize_path(path);
        self.acc.put(&p, data, true, None).await.map(|_| ())
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        let p = normalize_path(path);
        if p == "/" {
            return Err(Error::at(ErrorKind::AlreadyExists, p));
        }
        let (stamp, _) = now_stamp();
        let keys = [
            self.acc.dir_key(),
            self.acc.file_key(&p),
            self.acc.modified_key(&p),
        ];
        let args = [
            Bytes::from(bytestr::encode(&p).into_owned()),
            Bytes::from(bytestr::encode(&parent(&p)).into_owned()),
            Bytes::from(stamp),
        ];
        let r = self.acc.eval(&scripts::MKDIR, &keys, &args, true).await?;
        self.acc.status(&r, &p).await
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        let p = normalize_path(path);
        if p == "/" {
            return Err(Error::at(ErrorKind::IsADirectory, p));
        }
        let keys = [
            self.acc.dir_key(),
            self.acc.file_key(&p),
            self.acc.modified_key(&p),
            self.acc.attrs_key(&p),
        ];
        let args = [Bytes::from(bytestr::encode(&p).into_owned())];
        let r = self.acc.eval(&scripts::UNLINK, &keys, &args, true).await?;
        self.acc.status(&r, &p).await
    }

    async fn rmdir(&self, path: &str) -> Result<()> {
        let p = normalize_path(path);
        let keys = [
            self.acc.dir_key(),
            self.acc.file_key(&p),
            self.acc.modified_key(&p),
            self.acc.attrs_key(&p),
        ];
        let args = [
            Bytes::from(bytestr::encode(&p).into_owned()),
            Bytes::from(children_pattern(&p)),
            Bytes::from(self.acc.file_children_pattern(&p)),
        ];
        let r = self.acc.eval(&scripts::RMDIR, &keys, &args, true).await?;
        self.acc.status(&r, &p).await
    }

    /// Renames a file or a whole directory subtree in one Lua script (one
    /// `EVALSHA`): another client sees the old tree or the new one, never
    /// a mix. Mtimes and attrs move along.
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (f, t) = (normalize_path(from), normalize_path(to));
        let enc = |s: &str| Bytes::from(bytestr::encode(s).into_owned());
        let keys = [self.acc.dir_key()];
        let args = [
            Bytes::from(self.acc.prefix.clone()),
            enc(&f),
            enc(&t),
            enc(&parent(&t)),
            Bytes::from(children_pattern(&f)),
            Bytes::from(self.acc.file_children_pattern(&f)),
            Bytes::from(children_pattern(&t)),
            Bytes::from(self.acc.file_children_pattern(&t)),
        ];
        let r = self.acc.eval(&scripts::RENAME, &keys, &args, true).await?;
        match r.as_str() {
            "NOENT" => self.acc.status(&r, &f).await,
            "INVAL" if f == "/" => self.acc.status(&r, &f).await,
            _ => self.acc.status(&r, &t).await,
        }
    }

    /// Stores `mode & 0o7777` in the attrs hash's `mode` field, in decimal
    /// as the model product does.
    async fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        let p = normalize_path(path);
        let keys = [
            self.acc.dir_key(),
            self.acc.file_key(&p),
            self.acc.attrs_key(&p),
        ];
        let args = [
            Bytes::from(bytestr::encode(&p).into_owned()),
            Bytes::from((mode & 0o7777).to_string()),
        ];
        let r = self.acc.eval(&scripts::CHMOD, &keys, &args, true).await?;
        self.acc.status(&r, &p).await
    }
}
