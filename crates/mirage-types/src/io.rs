use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures::stream::{BoxStream, StreamExt};
use tokio::sync::mpsc;

use crate::{Error, ErrorKind, Result};

/// A boxed stream of byte chunks, as produced by a streaming read.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// Bytes that are either already in memory or arrive as a stream of chunks
/// (seed 001's `ByteSource`). Chunks are `Bytes`, so slicing a RAM file or
/// passing a chunk down a pipe never copies.
pub enum ByteSource {
    /// All the bytes, in memory.
    Bytes(Bytes),
    /// Chunks that arrive over time; the stream ends at end of file.
    Stream(ByteStream),
}

impl std::fmt::Debug for ByteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ByteSource::Bytes(b) => write!(f, "ByteSource::Bytes({} bytes)", b.len()),
            ByteSource::Stream(_) => f.write_str("ByteSource::Stream(..)"),
        }
    }
}

impl ByteSource {
    /// An empty source.
    pub fn empty() -> Self {
        ByteSource::Bytes(Bytes::new())
    }
    /// Reads everything into one buffer (copies only when the source was a
    /// stream of more than one chunk).
    pub async fn collect(self) -> Result<Bytes> {
        match self {
            ByteSource::Bytes(b) => Ok(b),
            ByteSource::Stream(mut s) => {
                let mut first: Option<Bytes> = None;
                let mut buf = BytesMut::new();
                while let Some(chunk) = s.next().await {
                    let chunk = chunk?;
                    if chunk.is_empty() {
                        continue;
                    }
                    match first.take() {
                        None if buf.is_empty() => first = Some(chunk),
                        None => buf.extend_from_slice(&chunk),
                        Some(f) => {
                            buf.extend_from_slice(&f);
                            buf.extend_from_slice(&chunk);
                        }
                    }
                }
                Ok(first.unwrap_or_else(|| buf.freeze()))
            }
        }
    }
    /// Turns the source into a stream of chunks of at most 64 KiB each for
    /// in-memory bytes (slices of the same buffer, no copy).
    pub fn into_stream(self) -> ByteStream {
        match self {
            ByteSource::Stream(s) => s,
            ByteSource::Bytes(b) => {
                const CHUNK: usize = 64 * 1024;
                let mut parts = Vec::with_capacity(b.len() / CHUNK + 1);
                let mut off = 0;
                while off < b.len() {
                    let end = (off + CHUNK).min(b.len());
                    parts.push(Ok(b.slice(off..end)));
                    off = end;
                }
                futures::stream::iter(parts).boxed()
            }
        }
    }
}

impl ByteSource {
    /// The bytes of `range` only (see [`crate::ByteRange`]): in-memory
    /// bytes are sliced without a copy; a stream skips up to the offset and
    /// ends (dropping, so closing, the rest of the stream) once `len` bytes
    /// have passed. A range past the end gives an empty source. This is the
    /// default range read of a resource without native ranges.
    pub fn slice_range(self, range: crate::ByteRange) -> ByteSource {
        match self {
            ByteSource::Bytes(b) => {
                let len = b.len() as u64;
                let start = range.offset.min(len);
                let end = match range.len {
                    Some(n) => start.saturating_add(n).min(len),
                    None => len,
                };
                // Both are at most `b.len()`, so they fit in usize.
                ByteSource::Bytes(
                    b.slice(usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0)),
                )
            }
            ByteSource::Stream(s) => {
                if range.len == Some(0) {
                    return ByteSource::empty();
                }
                let state = (Some(s), range.offset, range.len);
                let out = futures::stream::unfold(state, |(s, mut skip, mut left)| async move {
                    let mut s = s?;
                    loop {
                        if left == Some(0) {
                            return None; // drops the inner stream: the reader stops
                        }
                        let mut chunk = match s.next().await? {
                            Ok(c) => c,
                            Err(e) => return Some((Err(e), (None, 0, Some(0)))),
                        };
                        if skip > 0 {
                            let n = chunk.len() as u64;
                            if n <= skip {
                                skip -= n;
                                continue;
                            }
                            chunk = chunk.slice(usize::try_from(skip).unwrap_or(0)..);
                            skip = 0;
                        }
                        if let Some(l) = left {
                            if (chunk.len() as u64) > l {
                                chunk.truncate(usize::try_from(l).unwrap_or(0));
                            }
                            left = Some(l - chunk.len() as u64);
                        }
                        if chunk.is_empty() {
                            continue;
                        }
                        // Done: drop the inner stream now, not at the next poll.
                        let rest = if left == Some(0) { None } else { Some(s) };
                        return Some((Ok(chunk), (rest, 0, left)));
                    }
                });
                ByteSource::Stream(out.boxed())
            }
        }
    }
}

impl From<Bytes> for ByteSource {
    fn from(b: Bytes) -> Self {
        ByteSource::Bytes(b)
    }
}
impl From<Vec<u8>> for ByteSource {
    fn from(b: Vec<u8>) -> Self {
        ByteSource::Bytes(Bytes::from(b))
    }
}

/// A command's standard input: chunks read on demand, with helpers to read
/// lines or everything. Dropping it closes the pipe, which stops the writer
/// upstream (`cat big | head -1` reads little).
pub struct Input {
    stream: Option<ByteStream>,
    pending: VecDeque<Bytes>,
}

impl Input {
    /// Empty stdin (end of file at once), as `bash -c` with stdin from `/dev/null`.
    pub fn empty() -> Self {
        Input {
            stream: None,
            pending: VecDeque::new(),
        }
    }
    /// Stdin from a byte source.
    pub fn from_source(src: ByteSource) -> Self {
        match src {
            ByteSource::Bytes(b) => {
                let mut pending = VecDeque::new();
                if !b.is_empty() {
                    pending.push_back(b);
                }
                Input {
                    stream: None,
                    pending,
                }
            }
            ByteSource::Stream(s) => Input {
                stream: Some(s),
                pending: VecDeque::new(),
            },
        }
    }
    /// Whether this input is known to hold nothing, with no stream behind
    /// it (as [`Input::empty`], `bash -c` with stdin from `/dev/null`):
    /// `rg` with no path searches the cwd rather than such a stdin.
    pub fn is_empty_source(&self) -> bool {
        self.stream.is_none() && self.pending.is_empty()
    }
    /// Stdin fed by the receiving end of a pipe.
    pub fn from_pipe(rx: mpsc::Receiver<Bytes>) -> Self {
        let s =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) },
            )
            .boxed();
        Input {
            stream: Some(s),
            pending: VecDeque::new(),
        }
    }
    /// The next chunk, or `None` at end of input.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if let Some(b) = self.pending.pop_front() {
            return Ok(Some(b));
        }
        let Some(s) = self.stream.as_mut() else {
            return Ok(None);
        };
        loop {
            match s.next().await {
                Some(Ok(b)) if b.is_empty() => continue,
                Some(Ok(b)) => return Ok(Some(b)),
                Some(Err(e)) => return Err(e),
                None => {
                    self.stream = None;
                    return Ok(None);
                }
            }
        }
    }
    /// Puts bytes back in front of the input (used after reading a line).
    pub fn unread(&mut self, b: Bytes) {
        if !b.is_empty() {
            self.pending.push_front(b);
        }
    }
    /// Reads everything that is left.
    pub async fn read_all(&mut self) -> Result<Bytes> {
        let mut out: Option<Bytes> = None;
        let mut buf = BytesMut::new();
        while let Some(b) = self.chunk().await? {
            match out.take() {
                None if buf.is_empty() => out = Some(b),
                None => buf.extend_from_slice(&b),
                Some(f) => {
                    buf.extend_from_slice(&f);
                    buf.extend_from_slice(&b);
                }
            }
        }
        Ok(out.unwrap_or_else(|| buf.freeze()))
    }
    /// Reads one line including its `\n` (the last line may lack it), or
    /// `None` at end of input. Reads no further than the newline, so the
    /// rest stays for the next reader (as bash's `read` builtin).
    pub async fn read_line(&mut self) -> Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        loop {
            let Some(b) = self.chunk().await? else {
                return Ok(if line.is_empty() { None } else { Some(line) });
            };
            if let Some(i) = memchr_nl(&b) {
                line.extend_from_slice(&b[..=i]);
                self.unread(b.slice(i + 1..));
                return Ok(Some(line));
            }
            line.extend_from_slice(&b);
        }
    }
    /// Converts what is left into a byte source (for handing stdin on).
    pub fn into_source(self) -> ByteSource {
        let pending: Vec<Result<Bytes>> = self.pending.into_iter().map(Ok).collect();
        match self.stream {
            None if pending.is_empty() => ByteSource::empty(),
            None if pending.len() == 1 => match pending.into_iter().next() {
                Some(Ok(b)) => ByteSource::Bytes(b),
                _ => ByteSource::empty(),
            },
            None => ByteSource::Stream(futures::stream::iter(pending).boxed()),
            Some(s) => ByteSource::Stream(futures::stream::iter(pending).chain(s).boxed()),
        }
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Where a command's output goes. Cloning shares the destination, so
/// `echo a; echo b` append to the same capture.
#[derive(Clone)]
pub enum Sink {
    /// Discard (`/dev/null`).
    Null,
    /// The writing end of a pipe (bounded; a full pipe applies back-pressure,
    /// a closed one gives [`ErrorKind::BrokenPipe`]).
    Pipe(mpsc::Sender<Bytes>),
    /// An in-memory capture (the final stdout/stderr of a run, `$(…)`).
    Capture(Arc<Mutex<Vec<u8>>>),
    /// A closed descriptor (`>&-`, `exec >&-`): every write fails with
    /// `EBADF` ([`ErrorKind::Io`], "Bad file descriptor") and counts one in
    /// the shared counter, so the shell can tell that a command tried to
    /// write and report it as bash does (`echo: write error: Bad file
    /// descriptor`).
    Closed(Arc<std::sync::atomic::AtomicUsize>),
    /// A file kept open by the shell (`exec >FILE`): each block is appended
    /// to `path` through `vfs` as it is sent, so the next command already
    /// sees it (the writer waits for the append; its error is the write's).
    File(Arc<dyn crate::Vfs>, Arc<str>),
    /// One of several streams sharing one bounded channel, each block
    /// sent with the stream's tag (for example 1 for stdout, 2 for
    /// stderr), so the reader sees the blocks of all of them in the order
    /// they were written (the daemon's NDJSON output). A closed channel
    /// gives [`ErrorKind::BrokenPipe`].
    Tagged(mpsc::Sender<(u8, Bytes)>, u8),
}

impl Sink {
    /// A fresh capture and the sink that writes to it.
    pub fn capture() -> (Sink, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (Sink::Capture(buf.clone()), buf)
    }

    /// Sends one block as it is, unbuffered (an [`Output`] gathers small
    /// writes into blocks and sends them with this). Errors: a closed pipe
    /// gives [`ErrorKind::BrokenPipe`]; a closed descriptor and a kept
    /// file give theirs (see the variants).
    pub async fn send(&self, b: Bytes) -> Result<()> {
        match self {
            Sink::Null => {
                // a sink that never waits is a cooperative point: an endless
                // writer (`yes > /dev/null`) still lets the line's wall time
                // and cancel token stop it
                tokio::task::coop::consume_budget().await;
                Ok(())
            }
            Sink::Pipe(tx) => tx
                .send(b)
                .await
                .map_err(|_| Error::new(ErrorKind::BrokenPipe)),
            Sink::Capture(buf) => {
                match buf.lock() {
                    Ok(mut g) => g.extend_from_slice(&b),
                    Err(p) => p.into_inner().extend_from_slice(&b),
                }
                tokio::task::coop::consume_budget().await;
                Ok(())
            }
            Sink::Closed(n) => {
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(Error::msg(ErrorKind::Io, "Bad file descriptor"))
            }
            Sink::File(vfs, path) => vfs.append(path, ByteSource::Bytes(b)).await,
            Sink::Tagged(tx, tag) => tx
                .send((*tag, b))
                .await
                .map_err(|_| Error::new(ErrorKind::BrokenPipe)),
        }
    }

    /// A fresh closed descriptor (see [`Sink::Closed`]).
    pub fn closed() -> Sink {
        Sink::Closed(Arc::new(std::sync::atomic::AtomicUsize::new(0)))
    }

    /// For a [`Sink::Closed`], how many writes it has refused so far.
    pub fn closed_writes(&self) -> Option<usize> {
        match self {
            Sink::Closed(n) => Some(n.load(std::sync::atomic::Ordering::Relaxed)),
            _ => None,
        }
    }

    /// Whether two sinks write to the same place (for `2>&1` ordering).
    pub fn same_as(&self, other: &Sink) -> bool {
        match (self, other) {
            (Sink::Null, Sink::Null) => true,
            (Sink::Pipe(a), Sink::Pipe(b)) => a.same_channel(b),
            (Sink::Capture(a), Sink::Capture(b)) => Arc::ptr_eq(a, b),
            (Sink::Closed(a), Sink::Closed(b)) => Arc::ptr_eq(a, b),
            (Sink::File(_, a), Sink::File(_, b)) => a == b,
            (Sink::Tagged(a, x), Sink::Tagged(b, y)) => x == y && a.same_channel(b),
            _ => false,
        }
    }
}

/// A buffered writer over a [`Sink`]. Small writes gather into 32 KiB
/// blocks; [`Output::write_bytes`] passes large chunks through without a
/// copy. Call [`Output::flush`] before the command ends.
pub struct Output {
    sink: Sink,
    buf: BytesMut,
}

const OUT_BLOCK: usize = 32 * 1024;

impl Output {
    /// A writer over `sink`.
    pub fn new(sink: Sink) -> Self {
        Output {
            sink,
            buf: BytesMut::new(),
        }
    }
    /// A writer that discards everything.
    pub fn null() -> Self {
        Output::new(Sink::Null)
    }
    /// The destination.
    pub fn sink(&self) -> &Sink {
        &self.sink
    }
    /// Whether output is discarded (lets commands skip work, as `grep -q`).
    pub fn is_null(&self) -> bool {
        matches!(self.sink, Sink::Null)
    }
    /// Writes `data`, buffering small writes.
    /// Errors with [`ErrorKind::BrokenPipe`] when the reader has gone.
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        if matches!(self.sink, Sink::Null) {
            tokio::task::coop::consume_budget().await;
            return Ok(());
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= OUT_BLOCK {
            self.flush().await?;
        }
        Ok(())
    }
    /// Writes a string in Mirage's byte-exact form (see [`crate::bytestr`]):
    /// escaped bytes are written as the raw bytes they stand for.
    pub async fn write_str(&mut self, s: &str) -> Result<()> {
        self.write(&crate::bytestr::encode(s)).await
    }
    /// Writes a chunk, passing it on without a copy when it is large.
    pub async fn write_bytes(&mut self, data: Bytes) -> Result<()> {
        if matches!(self.sink, Sink::Null) {
            tokio::task::coop::consume_budget().await;
            return Ok(());
        }
        if data.len() < 4096 {
            return self.write(&data).await;
        }
        self.flush().await?;
        self.sink.send(data).await
    }
    /// Sends what is buffered.
    pub async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let b = self.buf.split().freeze();
        self.sink.send(b).await
    }
}
