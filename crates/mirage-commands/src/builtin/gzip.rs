//! `gzip`, `gunzip`, `zcat` and `zgrep`, as GNU gzip 1.12 (`-c -d -k -f -l
//! -t -q -v -n -S -1..-9`, `--fast`, `--best`). The deflate work is done by
//! `flate2` (zlib-rs), so the compressed bytes differ from GNU's while the
//! format, the messages and the exit codes are GNU's: 1 for an error, 2 for
//! a warning (`unknown suffix -- ignored`, `already exists;\tnot
//! overwritten`) when no error happened.
//!
//! Everything streams: each chunk read through the router is pushed through
//! a `flate2` *write* codec whose output buffer is drained after each chunk,
//! and the output file is written by the router from a bounded channel, so
//! neither the input nor the output is ever held whole. `zgrep` decompresses
//! into a pipe that feeds the `grep` command.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::Output;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, Error, ErrorKind, Input, Vfs};
use tokio::sync::mpsc;

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("stdout", Some('c'), Some("stdout")),
    OptSpec::flag("to-stdout", None, Some("to-stdout")),
    OptSpec::flag("decompress", Some('d'), Some("decompress")),
    OptSpec::flag("uncompress", None, Some("uncompress")),
    OptSpec::flag("keep", Some('k'), Some("keep")),
    OptSpec::flag("force", Some('f'), Some("force")),
    OptSpec::flag("list", Some('l'), Some("list")),
    OptSpec::flag("test", Some('t'), Some("test")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag("no-name", Some('n'), Some("no-name")),
    OptSpec::flag("name", Some('N'), Some("name")),
    OptSpec::flag("recursive", Some('r'), Some("recursive")),
    OptSpec::value("suffix", Some('S'), Some("suffix")),
    OptSpec::flag("1", Some('1'), Some("fast")),
    OptSpec::flag("2", Some('2'), None),
    OptSpec::flag("3", Some('3'), None),
    OptSpec::flag("4", Some('4'), None),
    OptSpec::flag("5", Some('5'), None),
    OptSpec::flag("6", Some('6'), None),
    OptSpec::flag("7", Some('7'), None),
    OptSpec::flag("8", Some('8'), None),
    OptSpec::flag("9", Some('9'), Some("best")),
];

/// The spec of `gzip`.
pub static SPEC: CommandSpec = CommandSpec::new("gzip", OPTS, PathOperands::All);
/// The spec of `gunzip` (`gzip -d`).
pub static GUNZIP_SPEC: CommandSpec = CommandSpec::new("gunzip", OPTS, PathOperands::All);
/// The spec of `zcat` (`gzip -dc`).
pub static ZCAT_SPEC: CommandSpec = CommandSpec::new("zcat", OPTS, PathOperands::All);
/// The spec of `zgrep`: its options are grep's, parsed by `grep` itself.
pub static ZGREP_SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    usage_status: 2,
    ..CommandSpec::new("zgrep", &[], PathOperands::SkipFirst)
};

crate::register_command!("gzip", SPEC, run_gzip, true);
crate::register_command!("gunzip", GUNZIP_SPEC, run_gunzip, true);
crate::register_command!("zcat", ZCAT_SPEC, run_zcat);
crate::register_command!("zgrep", ZGREP_SPEC, run_zgrep);

mirage_types::command_handler!(fn run_gzip = gzip_body);
mirage_types::command_handler!(fn run_gunzip = gunzip_body);
mirage_types::command_handler!(fn run_zcat = zcat_body);
mirage_types::command_handler!(fn run_zgrep = zgrep_body);

async fn gzip_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    body(ctx, &SPEC, false, false).await
}
async fn gunzip_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    body(ctx, &GUNZIP_SPEC, true, false).await
}
async fn zcat_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    body(ctx, &ZCAT_SPEC, true, true).await
}

/// A sender of output chunks to a file being written by the router.
pub(crate) type ChunkTx = mpsc::Sender<mirage_types::Result<Bytes>>;

/// Writes the virtual file `abs` from the chunks `produce` sends, as they
/// come (a channel of 8 chunks between the two, so memory stays bounded).
/// Returns the router's answer and `produce`'s. A failed write closes the
/// channel, so `produce` sees its sends fail and can stop.
pub(crate) async fn write_streamed<F, Fut, T>(
    vfs: &Arc<dyn Vfs>,
    abs: &str,
    produce: F,
) -> (mirage_types::Result<()>, T)
where
    F: FnOnce(ChunkTx) -> Fut,
    Fut: Future<Output = T>,
{
    let (tx, rx) = mpsc::channel::<mirage_types::Result<Bytes>>(8);
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
            .boxed();
    let write = vfs.write(abs, ByteSource::Stream(stream));
    tokio::join!(write, produce(tx))
}

/// Where compressed or decompressed bytes go: stdout, a file being written,
/// or nowhere (`gzip -t`).
pub(crate) enum Out<'a> {
    /// The command's stdout.
    Std(&'a mut Output),
    /// A file written through [`write_streamed`].
    Chan(ChunkTx),
    /// Discarded.
    Null,
}

impl Out<'_> {
    /// Sends `data` on; `false` when the reader is gone (a closed pipe, a
    /// failed write).
    pub(crate) async fn send(&mut self, data: Vec<u8>) -> bool {
        if data.is_empty() {
            return true;
        }
        match self {
            Out::Std(o) => o.write_bytes(Bytes::from(data)).await.is_ok(),
            Out::Chan(tx) => tx.send(Ok(Bytes::from(data))).await.is_ok(),
            Out::Null => true,
        }
    }
    /// Makes the file being written fail (so no partial file is kept).
    pub(crate) async fn fail(&mut self, e: Error) {
        if let Out::Chan(tx) = self {
            let _ = tx.send(Err(e)).await;
        }
    }
}

/// Why a gzip stream could not be read, with GNU gzip's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GzError {
    /// The magic bytes are not `1f 8b`.
    NotGzip,
    /// The stream stops inside a member.
    Eof,
    /// The deflate data or the trailer is corrupt.
    Corrupt,
}

impl GzError {
    /// GNU gzip's message for this error.
    pub(crate) fn message(self) -> &'static str {
        match self {
            GzError::NotGzip => "not in gzip format",
            GzError::Eof => "unexpected end of file",
            GzError::Corrupt => "invalid compressed data--format violated",
        }
    }
}

/// A streaming gzip decoder: push compressed chunks, get the bytes they
/// decode to. Reads concatenated members, as gzip does.
pub(crate) struct GzDec {
    dec: flate2::write::MultiGzDecoder<Vec<u8>>,
    magic: Vec<u8>,
    /// The first bytes, for the header's length (`gzip -v`).
    head: Vec<u8>,
    total_in: u64,
}

impl GzDec {
    /// A decoder at the start of a stream.
    pub(crate) fn new() -> Self {
        GzDec {
            dec: flate2::write::MultiGzDecoder::new(Vec::new()),
            magic: Vec::with_capacity(2),
            head: Vec::new(),
            total_in: 0,
        }
    }
    /// Feeds `data`; returns the decompressed bytes available so far.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<Vec<u8>, GzError> {
        if self.magic.len() < 2 {
            let need = 2 - self.magic.len();
            self.magic.extend_from_slice(&data[..need.min(data.len())]);
            if self.magic.len() == 2 && self.magic != [0x1f, 0x8b] {
                return Err(GzError::NotGzip);
            }
        }
        self.total_in += data.len() as u64;
        if self.head.len() < 512 {
            let n = (512 - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
        }
        self.dec.write_all(data).map_err(|_| GzError::Corrupt)?;
        Ok(std::mem::take(self.dec.get_mut()))
    }
    /// Ends the stream; returns the last bytes.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, GzError> {
        if self.total_in == 0 {
            return Err(GzError::Eof);
        }
        if self.magic.len() < 2 {
            return Err(GzError::NotGzip);
        }
        // corrupt data fails in `push`; what fails only here is a stream
        // that stops inside a member
        match self.dec.try_finish() {
            Ok(()) => Ok(std::mem::take(self.dec.get_mut())),
            Err(_) => Err(GzError::Eof),
        }
    }
}

/// A streaming gzip encoder: push plain chunks, get compressed bytes.
pub(crate) struct GzEnc {
    enc: flate2::write::GzEncoder<Vec<u8>>,
}

impl GzEnc {
    /// An encoder at `level` (1-9); `name` and `mtime` (seconds since the
    /// epoch, 0 for none) go into the header as GNU gzip puts them.
    pub(crate) fn new(level: u32, name: Option<&[u8]>, mtime: u32) -> Self {
        let mut b = flate2::GzBuilder::new().mtime(mtime).operating_system(3);
        if let Some(n) = name {
            b = b.filename(n.to_vec());
        }
        GzEnc {
            enc: b.write(Vec::new(), flate2::Compression::new(level)),
        }
    }
    /// Feeds `data`; returns the compressed bytes ready so far.
    pub(crate) fn push(&mut self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        self.enc.write_all(data)?;
        Ok(std::mem::take(self.enc.get_mut()))
    }
    /// Ends the stream; returns the last bytes (the trailer included).
    pub(crate) fn finish(self) -> std::io::Result<Vec<u8>> {
        self.enc.finish()
    }
}

/// What went wrong while streaming through a codec.
enum FlowError {
    /// Reading the input failed (the router's message).
    Read(String),
    /// The gzip data is bad.
    Gz(GzError),
    /// The output's reader went away or the encoder failed.
    Write,
}

/// Streams `src` through the decoder to `out`; returns the number of
/// compressed and decompressed bytes and the size of the gzip header and
/// trailer.
async fn decompress(src: ByteSource, out: &mut Out<'_>) -> Result<(u64, u64, u64), FlowError> {
    let mut dec = GzDec::new();
    let mut stream = src.into_stream();
    let (mut n_in, mut n_out) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FlowError::Read(e.message().to_string()))?;
        n_in += chunk.len() as u64;
        let plain = dec.push(&chunk).map_err(FlowError::Gz)?;
        n_out += plain.len() as u64;
        if !out.send(plain).await {
            return Err(FlowError::Write);
        }
    }
    let overhead = header_len(&dec.head).unwrap_or(10) + 8;
    let plain = dec.finish().map_err(FlowError::Gz)?;
    n_out += plain.len() as u64;
    if !out.send(plain).await {
        return Err(FlowError::Write);
    }
    Ok((n_in, n_out, overhead))
}

/// Streams `src` through an encoder to `out`; returns the number of
/// compressed and plain bytes.
async fn compress(
    src: ByteSource,
    mut enc: GzEnc,
    out: &mut Out<'_>,
) -> Result<(u64, u64), FlowError> {
    let mut stream = src.into_stream();
    let (mut n_in, mut n_out) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FlowError::Read(e.message().to_string()))?;
        n_in += chunk.len() as u64;
        let z = enc.push(&chunk).map_err(|_| FlowError::Write)?;
        n_out += z.len() as u64;
        if !out.send(z).await {
            return Err(FlowError::Write);
        }
    }
    let z = enc.finish().map_err(|_| FlowError::Write)?;
    n_out += z.len() as u64;
    if out.send(z).await {
        Ok((n_out, n_in))
    } else {
        Err(FlowError::Write)
    }
}

/// The options of one gzip run.
struct Opts {
    decompress: bool,
    stdout: bool,
    keep: bool,
    force: bool,
    list: bool,
    test: bool,
    quiet: bool,
    verbose: bool,
    no_name: bool,
    level: u32,
    suffix: String,
}

/// Exit status as gzip keeps it: an error (1) wins over a warning (2).
#[derive(Default)]
struct Status(i32);

impl Status {
    fn error(&mut self) {
        self.0 = 1;
    }
    fn warn(&mut self) {
        if self.0 == 0 {
            self.0 = 2;
        }
    }
}

/// `gzip -l` totals.
#[derive(Default)]
struct ListTotals {
    files: u32,
    compressed: u64,
    uncompressed: u64,
}

async fn body(
    ctx: &mut CommandCtx,
    spec: &CommandSpec,
    decompress_mode: bool,
    cat_mode: bool,
) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, spec)?;
    let level = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
        .iter()
        .rev()
        .find(|k| p.last_of(&["1", "2", "3", "4", "5", "6", "7", "8", "9"]) == Some(**k))
        .and_then(|k| k.parse().ok())
        .unwrap_or(6);
    let o = Opts {
        decompress: decompress_mode
            || p.has("decompress")
            || p.has("uncompress")
            || p.has("test")
            || p.has("list"),
        stdout: cat_mode || p.has("stdout") || p.has("to-stdout"),
        keep: p.has("keep"),
        force: p.has("force"),
        list: p.has("list"),
        test: p.has("test"),
        quiet: p.has("quiet"),
        verbose: p.has("verbose") && !p.has("quiet"),
        no_name: p.has("no-name"),
        level,
        suffix: p.value("suffix").unwrap_or(".gz").to_string(),
    };
    if o.suffix.is_empty() {
        gz_err(ctx, "invalid suffix ''").await;
        return Ok(1);
    }
    let mut status = Status::default();
    let mut totals = ListTotals::default();
    let operands = if p.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        p.operands.clone()
    };
    if o.list {
        ctx.stdout
            .write_str("         compressed        uncompressed  ratio uncompressed_name\n")
            .await?;
    }
    for op in &operands {
        one(ctx, &o, op, &mut status, &mut totals).await?;
    }
    if o.list && totals.files > 1 {
        let line = list_line(totals.compressed, totals.uncompressed, 0, "(totals)");
        ctx.stdout.write_str(&line).await?;
    }
    Ok(status.0)
}

/// A `gzip -l` row: the ratio counts the deflate data only (`compressed`
/// less the header and trailer, `overhead` bytes), as GNU does.
fn list_line(compressed: u64, uncompressed: u64, overhead: u64, name: &str) -> String {
    let data = compressed.saturating_sub(overhead) as f64;
    let un = uncompressed as f64;
    let ratio = if uncompressed == 0 {
        0.0
    } else {
        100.0 * (un - data) / un
    };
    format!("{compressed:>19} {uncompressed:>19} {ratio:5.1}% {name}\n")
}

/// The header and trailer bytes of a stream written by [`GzEnc`] with the
/// stored name `name`.
fn compress_overhead(name: Option<&str>) -> u64 {
    10 + name.map_or(0, |n| n.len() as u64 + 1) + 8
}

/// The size of the gzip header at the start of `head` (10 bytes plus the
/// optional extra field, name, comment and header CRC), if it is all there.
fn header_len(head: &[u8]) -> Option<u64> {
    if head.len() < 10 {
        return None;
    }
    let flags = head[3];
    let mut i = 10usize;
    if flags & 4 != 0 {
        let xlen = usize::from(*head.get(i)?) | (usize::from(*head.get(i + 1)?) << 8);
        i += 2 + xlen;
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            let end = head.get(i..)?.iter().position(|&b| b == 0)?;
            i += end + 1;
        }
    }
    if flags & 2 != 0 {
        i += 2;
    }
    Some(i as u64)
}

/// The name `gunzip` gives the output of `name`, by its suffix.
fn strip_suffix(name: &str, suffix: &str) -> Option<String> {
    let base_start = name.rfind('/').map_or(0, |i| i + 1);
    let base = &name[base_start..];
    let lower = base.to_ascii_lowercase();
    let mut known: Vec<(&str, &str)> = vec![(suffix, "")];
    known.extend([
        (".gz", ""),
        ("-gz", ""),
        (".z", ""),
        ("-z", ""),
        ("_z", ""),
        (".tgz", ".tar"),
        (".taz", ".tar"),
    ]);
    for (suf, repl) in known {
        let suf_l = suf.to_ascii_lowercase();
        if lower.len() > suf_l.len() && lower.ends_with(&suf_l) {
            let keep = name.len() - suf.len();
            return Some(format!("{}{repl}", &name[..keep]));
        }
    }
    None
}

/// Handles one operand of gzip/gunzip/zcat.
async fn one(
    ctx: &mut CommandCtx,
    o: &Opts,
    op: &str,
    status: &mut Status,
    totals: &mut ListTotals,
) -> Result<(), CmdError> {
    if op == "-" {
        let stdin = std::mem::replace(&mut ctx.stdin, Input::empty()).into_source();
        return stream_one(ctx, o, "stdin", stdin, None, status, totals).await;
    }
    // gunzip NAME also finds NAME.gz
    let mut name = op.to_string();
    let mut st = ctx.vfs.stat(&ctx.resolve(&name)).await;
    if o.decompress
        && matches!(&st, Err(e) if e.kind == ErrorKind::NotFound)
        && strip_suffix(op, &o.suffix).is_none()
    {
        let alt = format!("{op}{}", o.suffix);
        if let Ok(s) = ctx.vfs.stat(&ctx.resolve(&alt)).await {
            name = alt;
            st = Ok(s);
        }
    }
    let st = match st {
        Ok(st) => st,
        Err(e) => {
            let shown = if o.decompress && strip_suffix(op, &o.suffix).is_none() {
                format!("{op}{}", o.suffix)
            } else {
                op.to_string()
            };
            if !o.quiet {
                gz_err(ctx, format!("{shown}: {}", e.message())).await;
            }
            status.error();
            return Ok(());
        }
    };
    if st.is_dir() {
        if !o.quiet {
            gz_err(ctx, format!("{name} is a directory -- ignored")).await;
        }
        status.warn();
        return Ok(());
    }
    let abs = ctx.resolve(&name);
    let to_file = !(o.stdout || o.test || o.list);
    let out_name = if !to_file {
        None
    } else if o.decompress {
        match strip_suffix(&name, &o.suffix) {
            Some(n) => Some(n),
            None => {
                if !o.quiet {
                    gz_err(ctx, format!("{name}: unknown suffix -- ignored")).await;
                }
                status.warn();
                return Ok(());
            }
        }
    } else {
        if !o.force && strip_suffix(&name, &o.suffix).is_some() {
            if !o.quiet {
                gz_err(
                    ctx,
                    format!("{name} already has {} suffix -- unchanged", o.suffix),
                )
                .await;
            }
            // GNU gzip leaves the exit status alone here
            return Ok(());
        }
        Some(format!("{name}{}", o.suffix))
    };
    if let Some(out) = &out_name
        && !o.force
        && ctx.vfs.stat(&ctx.resolve(out)).await.is_ok()
    {
        if !o.quiet {
            gz_err(ctx, format!("{out} already exists;\tnot overwritten")).await;
        }
        status.warn();
        return Ok(());
    }
    let src = match ctx.vfs.read(&abs).await {
        Ok(s) => s,
        Err(e) => {
            gz_err(ctx, format!("{name}: {}", e.message())).await;
            status.error();
            return Ok(());
        }
    };
    let mtime = st
        .modified
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(0));
    let base = name.rsplit('/').next().unwrap_or(&name).to_string();
    let meta = Some(Meta {
        base,
        mtime,
        out_name,
        stat: (st.modified, st.mode),
    });
    stream_one(ctx, o, &name, src, meta, status, totals).await?;
    Ok(())
}

/// What a file operand brings to [`stream_one`].
struct Meta {
    /// The base name stored in the header (unless `-n`).
    base: String,
    /// The mtime stored in the header (unless `-n`), in seconds.
    mtime: u32,
    /// The output file, if not standard output.
    out_name: Option<String>,
    /// The input's mtime and mode, given to the output file as GNU gzip
    /// 1.12 does (`copy_stat`).
    stat: (Option<std::time::SystemTime>, Option<u32>),
}

/// Compresses, decompresses, tests or lists one input `src` named `name`
/// (`stdin` for standard input); `meta` describes a file operand.
async fn stream_one(
    ctx: &mut CommandCtx,
    o: &Opts,
    name: &str,
    src: ByteSource,
    meta: Option<Meta>,
    status: &mut Status,
    totals: &mut ListTotals,
) -> Result<(), CmdError> {
    let (base, mtime, out_file, in_stat) = match meta {
        Some(m) => (Some(m.base), m.mtime, m.out_name, m.stat),
        None => (None, 0, None, (None, None)),
    };
    // -n: "do not save the original file name and timestamp" (GNU gzip)
    let mtime = if o.no_name { 0 } else { mtime };
    let result: Result<(u64, u64, u64), FlowError> = if o.list {
        // count the bytes and keep the header and the last 4 (ISIZE)
        let mut stream = src.into_stream();
        let mut head = Vec::new();
        let mut tail = Vec::new();
        let mut n = 0u64;
        let mut err = None;
        while let Some(c) = stream.next().await {
            match c {
                Ok(c) => {
                    n += c.len() as u64;
                    if head.len() < 1024 {
                        head.extend_from_slice(&c[..c.len().min(1024 - head.len())]);
                    }
                    tail.extend_from_slice(&c);
                    if tail.len() > 8 {
                        tail.drain(..tail.len() - 8);
                    }
                }
                Err(e) => {
                    err = Some(FlowError::Read(e.message().to_string()));
                    break;
                }
            }
        }
        match err {
            Some(e) => Err(e),
            None if head.len() < 2 || head[..2] != [0x1f, 0x8b] => {
                Err(FlowError::Gz(GzError::NotGzip))
            }
            None if n < 18 => Err(FlowError::Gz(GzError::Eof)),
            None => {
                let isize = tail
                    .get(4..8)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                let overhead = header_len(&head).unwrap_or(10) + 8;
                Ok((n, u64::from(isize), overhead))
            }
        }
    } else if let Some(file) = &out_file {
        let abs = ctx.resolve(file);
        let vfs = ctx.vfs.clone();
        let (w, r) = write_streamed(&vfs, &abs, |tx| async move {
            let mut out = Out::Chan(tx);
            let r = if o.decompress {
                decompress(src, &mut out).await
            } else {
                let stored = if o.no_name { None } else { base.as_deref() };
                let enc = GzEnc::new(o.level, stored.map(str::as_bytes), mtime);
                compress(src, enc, &mut out)
                    .await
                    .map(|(z, n)| (z, n, compress_overhead(stored)))
            };
            if r.is_err() {
                out.fail(Error::msg(ErrorKind::Io, "aborted")).await;
            }
            r
        })
        .await;
        match (r, w) {
            (Err(e), _) => {
                let _ = ctx.vfs.unlink(&abs).await;
                Err(e)
            }
            (Ok(_), Err(e)) => {
                let _ = ctx.vfs.unlink(&abs).await;
                gz_err(ctx, format!("{file}: {}", e.message())).await;
                status.error();
                return Ok(());
            }
            (Ok(counts), Ok(())) => {
                ctx.io.wrote(&abs);
                // the output keeps the input's time and mode, where the
                // resource keeps them
                if let Some(t) = in_stat.0 {
                    let _ = ctx.vfs.set_modified(&abs, t).await;
                }
                if let Some(m) = in_stat.1 {
                    let _ = ctx.vfs.chmod(&abs, m).await;
                }
                Ok(counts)
            }
        }
    } else if o.decompress {
        let mut out = if o.test {
            Out::Null
        } else {
            Out::Std(&mut ctx.stdout)
        };
        decompress(src, &mut out).await
    } else {
        let stored = if o.no_name { None } else { base.as_deref() };
        let enc = GzEnc::new(o.level, stored.map(str::as_bytes), mtime);
        compress(src, enc, &mut Out::Std(&mut ctx.stdout))
            .await
            .map(|(z, n)| (z, n, compress_overhead(stored)))
    };
    match result {
        Ok((n_in, n_out, overhead)) => {
            if o.list {
                let shown = match &out_file {
                    _ if name == "stdin" => "stdout".to_string(),
                    _ => strip_suffix(name, &o.suffix).unwrap_or_else(|| name.to_string()),
                };
                totals.files += 1;
                totals.compressed += n_in;
                totals.uncompressed += n_out;
                let line = list_line(n_in, n_out, overhead, &shown);
                ctx.stdout.write_str(&line).await?;
            } else if o.test && o.verbose {
                let _ = ctx.stderr.write_str(&format!("{name}:\t OK\n")).await;
            } else if o.verbose && !o.test {
                // GNU's ratio counts the deflate data only
                let data = n_in.saturating_sub(overhead) as f64;
                let ratio = if n_out == 0 {
                    0.0
                } else {
                    100.0 * (n_out as f64 - data) / n_out as f64
                };
                let line = match &out_file {
                    _ if name == "stdin" => format!("{ratio:5.1}%\n"),
                    Some(f) if o.keep => format!("{name}:\t{ratio:5.1}% -- created {f}\n"),
                    Some(f) => format!("{name}:\t{ratio:5.1}% -- replaced with {f}\n"),
                    None => format!("{name}:\t{ratio:5.1}% -- replaced with stdout\n"),
                };
                let _ = ctx.stderr.write_str(&line).await;
            }
            if let Some(_file) = out_file
                && !o.keep
                && name != "stdin"
            {
                let abs = ctx.resolve(name);
                if let Err(e) = ctx.vfs.unlink(&abs).await {
                    gz_err(ctx, format!("{name}: {}", e.message())).await;
                    status.error();
                }
            }
        }
        Err(FlowError::Gz(g)) => {
            if !o.quiet || g != GzError::NotGzip {
                let _ = ctx
                    .stderr
                    .write_str(&format!("\ngzip: {name}: {}\n", g.message()))
                    .await;
            }
            status.error();
        }
        Err(FlowError::Read(m)) => {
            gz_err(ctx, format!("{name}: {m}")).await;
            status.error();
        }
        Err(FlowError::Write) => {
            status.error();
        }
    }
    Ok(())
}

/// Writes `gzip: MSG` to stderr: the four commands speak as gzip, as
/// GNU's `gunzip`, `zcat` and `zgrep` scripts do.
async fn gz_err(ctx: &mut CommandCtx, msg: impl AsRef<str>) {
    let _ = ctx
        .stderr
        .write_str(&format!("gzip: {}\n", msg.as_ref()))
        .await;
}

/// grep's options that take their value as the next argument.
const GREP_VALUE_OPTS: &[&str] = &[
    "-e",
    "-f",
    "-m",
    "-A",
    "-B",
    "-C",
    "-d",
    "-D",
    "--regexp",
    "--file",
    "--max-count",
    "--after-context",
    "--before-context",
    "--context",
    "--label",
    "--include",
    "--exclude",
];

/// `zgrep [GREP OPTIONS] PATTERN [FILE]...`: each file decompressed into
/// a pipe read by `grep`; several files are named as grep names them.
async fn zgrep_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let args = ctx.args.clone();
    let mut opts: Vec<String> = Vec::new();
    let mut operands: Vec<String> = Vec::new();
    let mut pattern_given = false;
    let mut no_name = false;
    let mut i = 0;
    let mut ended = false;
    while i < args.len() {
        let a = &args[i];
        if ended || a == "-" || !a.starts_with('-') {
            operands.push(a.clone());
        } else if a == "--" {
            ended = true;
            opts.push(a.clone());
        } else {
            opts.push(a.clone());
            let takes = GREP_VALUE_OPTS.contains(&a.as_str())
                || (a.len() > 1
                    && !a.starts_with("--")
                    && a[1..]
                        .char_indices()
                        .find(|(_, c)| "efmABCdD".contains(*c))
                        .is_some_and(|(j, _)| j + 2 == a.len()));
            if a == "-h" || a == "--no-filename" {
                no_name = true;
            }
            if a.starts_with("-e")
                || a.starts_with("-f")
                || a.starts_with("--regexp")
                || a.starts_with("--file")
            {
                pattern_given = true;
            }
            if takes && i + 1 < args.len() {
                i += 1;
                opts.push(args[i].clone());
            }
        }
        i += 1;
    }
    if ended {
        opts.retain(|a| a != "--");
    }
    if !pattern_given {
        if operands.is_empty() {
            ctx.stderr.write_str("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n").await?;
            return Ok(2);
        }
        opts.push("-e".to_string());
        opts.push(operands.remove(0));
    }
    let Some(runner) = ctx.runner.clone() else {
        gz_err(ctx, "zgrep: cannot run grep here").await;
        return Ok(2);
    };
    let files = if operands.is_empty() {
        vec!["-".to_string()]
    } else {
        operands
    };
    let many = files.len() > 1 && !no_name;
    let mut any_match = false;
    let mut any_error = false;
    ctx.stdout.flush().await?;
    for f in &files {
        let src = if f == "-" {
            std::mem::replace(&mut ctx.stdin, Input::empty()).into_source()
        } else {
            match crate::util::open_input(ctx, f).await {
                Ok(s) => s,
                Err(m) => {
                    gz_err(ctx, m).await;
                    any_error = true;
                    continue;
                }
            }
        };
        let mut argv = vec!["grep".to_string()];
        if many {
            argv.push("-H".to_string());
        }
        argv.push(format!("--label={f}"));
        argv.extend(opts.iter().cloned());
        let (tx, rx) = mpsc::channel::<Bytes>(8);
        let feed = async move {
            let mut dec = GzDec::new();
            let mut stream = src.into_stream();
            while let Some(c) = stream.next().await {
                let c = c.map_err(|e| e.message().to_string())?;
                let plain = dec.push(&c).map_err(|g| g.message().to_string())?;
                if !plain.is_empty() && tx.send(Bytes::from(plain)).await.is_err() {
                    return Ok(());
                }
            }
            let plain = dec.finish().map_err(|g| g.message().to_string())?;
            if !plain.is_empty() {
                let _ = tx.send(Bytes::from(plain)).await;
            }
            Ok::<(), String>(())
        };
        let grep = runner.run_argv(
            argv,
            ctx.cwd.clone(),
            ctx.env.clone(),
            Input::from_pipe(rx),
            ctx.stdout.sink().clone(),
            ctx.stderr.sink().clone(),
        );
        let (fed, s) = tokio::join!(feed, grep);
        if let Err(m) = fed {
            let shown = if f == "-" { "stdin" } else { f.as_str() };
            let _ = ctx
                .stderr
                .write_str(&format!("\ngzip: {shown}: {m}\n"))
                .await;
            any_error = true;
        }
        match s {
            0 => any_match = true,
            1 => {}
            _ => any_error = true,
        }
    }
    Ok(if any_error {
        2
    } else if any_match {
        0
    } else {
        1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_roundtrip_in_small_chunks() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut enc = GzEnc::new(6, Some(b"x.bin"), 0);
        let mut z = Vec::new();
        for c in data.chunks(777) {
            z.extend(enc.push(c).unwrap());
        }
        z.extend(enc.finish().unwrap());
        let mut dec = GzDec::new();
        let mut back = Vec::new();
        for c in z.chunks(13) {
            back.extend(dec.push(c).unwrap());
        }
        back.extend(dec.finish().unwrap());
        assert_eq!(back, data);
    }

    #[test]
    fn decoder_errors_are_gnus() {
        let mut d = GzDec::new();
        assert_eq!(d.push(b"plain\n"), Err(GzError::NotGzip));
        let mut enc = GzEnc::new(6, None, 0);
        let mut z = enc.push(b"hello hello hello\n").unwrap();
        z.extend(enc.finish().unwrap());
        let mut d = GzDec::new();
        d.push(&z[..z.len() - 5]).unwrap();
        assert_eq!(d.finish(), Err(GzError::Eof));
        assert_eq!(GzDec::new().finish(), Err(GzError::Eof));
    }

    #[test]
    fn suffixes() {
        assert_eq!(strip_suffix("a.txt.gz", ".gz").as_deref(), Some("a.txt"));
        assert_eq!(strip_suffix("d/a.tgz", ".gz").as_deref(), Some("d/a.tar"));
        assert_eq!(strip_suffix("a.txt", ".gz"), None);
        assert_eq!(strip_suffix(".gz", ".gz"), None);
    }
}
