//! Helpers shared by commands: argument parsing with GNU diagnostics,
//! iterating over input files (`-` is stdin), line splitting.

use bytes::Bytes;
use mirage_types::args::{CommandSpec, ParsedArgs, parse};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind, Input};

/// Joins a display or absolute path with a child name, with no doubled
/// `/` (`/` and `a` give `/a`; `d/` and `a` give `d/a`).
pub fn child_path(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Parses the context's arguments by `spec`; on a usage error prints
/// `NAME: MSG` and `Try 'NAME --help' for more information.` on stderr and
/// returns `Err(spec.usage_status)`.
pub async fn parse_args(ctx: &mut CommandCtx, spec: &CommandSpec) -> Result<ParsedArgs, i32> {
    match parse_cmd(ctx, spec) {
        Ok(p) => Ok(p),
        Err(e) => Err(ctx.finish(Err(e)).await),
    }
}

/// Parses the context's arguments by `spec` for a handler body that
/// returns [`CmdError`]: a bad option is a usage error with
/// `spec.usage_status` (`?` then reports it as GNU does).
pub fn parse_cmd(ctx: &CommandCtx, spec: &CommandSpec) -> Result<ParsedArgs, CmdError> {
    parse(spec, &ctx.args).map_err(|msg| CmdError::usage(msg).with_status(spec.usage_status))
}

/// Prints a usage error as GNU tools do, `NAME: MSG` then
/// `Try 'NAME --help' for more information.` on stderr, and returns `status`
/// (a [`CmdError::usage`] reported at once, for handlers not written with
/// [`CmdError`]).
pub async fn usage_error(ctx: &mut CommandCtx, msg: &str, status: i32) -> i32 {
    ctx.finish(Err(CmdError::usage(msg).with_status(status)))
        .await
}

/// `s` quoted as GNU's `quote()` shows an operand in a message under a
/// UTF-8 locale: `‘s’` (`sleep: invalid time interval ‘1x’`).
pub fn gnu_quote(s: &str) -> String {
    format!("\u{2018}{s}\u{2019}")
}

/// GNU's `XARGMATCH` for the value `v` of `option` (`--group`): the
/// entry of `valid` it names exactly or by a unique prefix (`ap` is
/// `append`). Errors: a usage error `invalid argument ‘V’ for ‘OPTION’`
/// (`ambiguous argument` for a prefix of several names), then
/// `Valid arguments are:` and `  - ‘NAME’` for each name, as coreutils 9.1
/// prints it.
pub fn argmatch<T: Copy>(v: &str, option: &str, valid: &[(&str, T)]) -> Result<T, CmdError> {
    if let Some((_, t)) = valid.iter().find(|(name, _)| *name == v) {
        return Ok(*t);
    }
    let mut prefixed = valid.iter().filter(|(name, _)| name.starts_with(v));
    let why = match (prefixed.next(), prefixed.next()) {
        (Some((_, t)), None) => return Ok(*t),
        (Some(_), Some(_)) => "ambiguous",
        _ => "invalid",
    };
    let mut msg = format!(
        "{why} argument {} for {}\nValid arguments are:",
        gnu_quote(v),
        gnu_quote(option)
    );
    for (name, _) in valid {
        msg.push_str(&format!("\n  - {}", gnu_quote(name)));
    }
    Err(CmdError::usage(msg))
}

/// `name` quoted as GNU's `quoteaf()` shows an ordinary file name in a
/// message: `'x'`, or `"x'y"` when it holds a single quote and no double
/// quote (`rmdir: removing directory, 'd'`, `join: extra operand 'c'`).
pub fn quoteaf(name: &str) -> String {
    if name.contains('\'') && !name.contains('"') {
        format!("\"{name}\"")
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// Checks that `p` has exactly two operands, as GNU coreutils' two-file
/// commands (`comm`, `join`) do: a usage error `missing operand`,
/// `missing operand after ‘A’` or `extra operand C`, `C` quoted by
/// `quote_extra` (`comm` uses [`gnu_quote`], `join` [`quoteaf`]).
pub fn two_operands(p: &ParsedArgs, quote_extra: fn(&str) -> String) -> Result<(), CmdError> {
    match p.operands.len() {
        0 => Err(CmdError::usage("missing operand")),
        1 => Err(CmdError::usage(format!(
            "missing operand after {}",
            gnu_quote(&p.operands[0])
        ))),
        2 => Ok(()),
        _ => Err(CmdError::usage(format!(
            "extra operand {}",
            quote_extra(&p.operands[2])
        ))),
    }
}

/// Opens an input operand: `-` is stdin (taken once), anything else is read
/// through the router. The error is already GNU-shaped: `PATH: MESSAGE`,
/// with the operand as the user typed it.
pub async fn open_input(ctx: &mut CommandCtx, operand: &str) -> Result<ByteSource, String> {
    if operand == "-" {
        let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
        return Ok(stdin.into_source());
    }
    let abs = ctx.resolve(operand);
    match ctx.vfs.stat(&abs).await {
        Ok(st) if st.is_dir() => {
            return Err(format!(
                "{operand}: {}",
                ErrorKind::IsADirectory.gnu_message()
            ));
        }
        Ok(_) => {}
        Err(e) => return Err(format!("{operand}: {}", e.message())),
    }
    match ctx.read_path(operand).await {
        Ok(src) => Ok(src),
        Err(e) => Err(format!("{operand}: {}", e.message())),
    }
}

/// Whether `e` is the error of reading a standard input the shell closed
/// (`<&-`): the shell's stdin then fails with "Bad file descriptor".
pub fn is_closed_stdin(e: &mirage_types::Error) -> bool {
    e.kind == ErrorKind::Io && e.message() == "Bad file descriptor"
}

/// Opens an input operand and reads it whole (see [`open_input`]).
pub async fn read_input(ctx: &mut CommandCtx, operand: &str) -> Result<Bytes, String> {
    let src = open_input(ctx, operand).await?;
    src.collect()
        .await
        .map_err(|e| format!("{operand}: {}", e.message()))
}

/// The operands, or `["-"]` when there are none (read stdin).
pub fn operands_or_stdin(p: &ParsedArgs) -> Vec<String> {
    if p.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        p.operands.clone()
    }
}

/// Splits `data` into lines, each without its `\n`; a final line without
/// `\n` is included, an empty trailing piece is not (as GNU tools see lines).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    trimmed.split(|&b| b == b'\n').filter(move |_| !empty)
}

/// Opens an input operand like [`open_input`], but keeps the error as a
/// [`mirage_types::Error`] so a command can word it as its GNU original does
/// (`head: cannot open 'x' for reading: …`, `sort: cannot read: x: …`).
/// A directory gives [`ErrorKind::IsADirectory`].
pub async fn open_input_err(
    ctx: &mut CommandCtx,
    operand: &str,
) -> Result<ByteSource, mirage_types::Error> {
    if operand == "-" {
        let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
        return Ok(stdin.into_source());
    }
    let abs = ctx.resolve(operand);
    let st = ctx.vfs.stat(&abs).await?;
    if st.is_dir() {
        return Err(mirage_types::Error::new(ErrorKind::IsADirectory));
    }
    ctx.read_path(operand).await
}

/// Splits a stream of chunks into records ending with `delim` (`\n`, or
/// NUL for `-z`) without collecting the input: a record that lies inside
/// one chunk is handed out as a slice of it (no copy).
pub struct RecordReader {
    stream: mirage_types::ByteStream,
    cur: Bytes,
    pos: usize,
    carry: Vec<u8>,
    delim: u8,
    done: bool,
}

impl RecordReader {
    /// A reader over `src` splitting at `delim`.
    pub fn new(src: ByteSource, delim: u8) -> Self {
        RecordReader {
            stream: src.into_stream(),
            cur: Bytes::new(),
            pos: 0,
            carry: Vec::new(),
            delim,
            done: false,
        }
    }
    /// The next record including its delimiter (the last one may lack it),
    /// or `None` at end of input.
    pub async fn next_record(&mut self) -> mirage_types::Result<Option<Bytes>> {
        use futures::StreamExt;
        loop {
            if self.pos < self.cur.len() {
                let rest = &self.cur[self.pos..];
                if let Some(i) = memchr::memchr(self.delim, rest) {
                    let start = self.pos;
                    self.pos += i + 1;
                    if self.carry.is_empty() {
                        return Ok(Some(self.cur.slice(start..self.pos)));
                    }
                    self.carry.extend_from_slice(&self.cur[start..self.pos]);
                    return Ok(Some(Bytes::from(std::mem::take(&mut self.carry))));
                }
                self.carry.extend_from_slice(rest);
                self.pos = self.cur.len();
            }
            if self.done {
                return Ok(if self.carry.is_empty() {
                    None
                } else {
                    Some(Bytes::from(std::mem::take(&mut self.carry)))
                });
            }
            match self.stream.next().await {
                Some(Ok(b)) => {
                    self.cur = b;
                    self.pos = 0;
                }
                Some(Err(e)) => return Err(e),
                None => self.done = true,
            }
        }
    }
}

/// The count options shared by `head` and `tail`: which of `-n`/`-c` was
/// given last, its parsed value (through `parse`), and the record delimiter
/// (`-z`). On a bad number prints GNU's `invalid number of lines: 'X'` (or
/// bytes) and returns `Err(1)`.
pub(crate) async fn parse_line_or_byte_count<C>(
    ctx: &mut CommandCtx,
    p: &ParsedArgs,
    parse: fn(&str) -> Option<C>,
    default: C,
) -> Result<(C, bool, u8), i32> {
    let bytes = p.last_of(&["lines", "bytes"]) == Some("bytes");
    let (raw, what) = if bytes {
        (Some(p.value("bytes").unwrap_or("")), "bytes")
    } else {
        (p.value("lines"), "lines")
    };
    let count = match raw {
        Some(v) => match parse(v) {
            Some(c) => c,
            None => {
                ctx.error(format!("invalid number of {what}: '{v}'")).await;
                return Err(1);
            }
        },
        None => default,
    };
    let delim = if p.has("zero") { 0 } else { b'\n' };
    Ok((count, bytes, delim))
}

/// Where [`map_lines_with`] ends an output line with the record delimiter.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// Where the input line had one (a last line without stays without).
    AsInput,
    /// After every line, the last one too (GNU `nl`).
    Always,
    /// Never: the line function writes it where it wants one (GNU `cut`,
    /// which drops some lines and ends every other one).
    Caller,
}

/// How [`map_lines_with`] splits records, reports an operand it cannot
/// open and ends its output lines.
pub(crate) struct LineLoop {
    /// The message (without the `NAME: ` prefix) for an operand that cannot
    /// be opened, given the operand and the error.
    pub open_error: fn(&str, &mirage_types::Error) -> String,
    /// Where output lines get the delimiter.
    pub end: LineEnd,
    /// The record delimiter: `\n`, or NUL with `-z`.
    pub delim: u8,
}

impl LineLoop {
    /// The coreutils way: `NAME: message` for an operand that cannot be
    /// opened; newline-ended records; a last line without newline stays
    /// without one.
    pub(crate) const COREUTILS: LineLoop = LineLoop {
        open_error: |operand, e| format!("{operand}: {}", e.message()),
        end: LineEnd::AsInput,
        delim: b'\n',
    };
}

/// Runs `f` on each line of each operand (`-` or none is stdin), streaming:
/// `f(line, out)` appends the line's output without its newline, which is
/// added back when the input line had one. A file that cannot be opened or
/// read gives `NAME: message` and status 1, and the walk goes on; a closed
/// stdout stops it. Used by the coreutils line filters (`expand`,
/// `unexpand`, `fold`) that GNU runs line by line.
pub(crate) async fn map_lines(
    ctx: &mut CommandCtx,
    p: &ParsedArgs,
    f: impl FnMut(&[u8], &mut Vec<u8>),
) -> i32 {
    map_lines_with(ctx, p, &LineLoop::COREUTILS, f).await
}

/// [`map_lines`] with the record delimiter, open-error wording and line
/// ends of `how` (`rev`'s `cannot open NAME: …`, `nl`'s newline after every
/// line, `cut -z`). A read error still gives `NAME: message` and ends that
/// operand.
pub(crate) async fn map_lines_with(
    ctx: &mut CommandCtx,
    p: &ParsedArgs,
    how: &LineLoop,
    mut f: impl FnMut(&[u8], &mut Vec<u8>),
) -> i32 {
    let mut status = 0;
    let mut out = Vec::with_capacity(64 * 1024);
    for operand in operands_or_stdin(p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error((how.open_error)(&operand, &e)).await;
                status = 1;
                continue;
            }
        };
        let mut reader = RecordReader::new(src, how.delim);
        loop {
            let rec = match reader.next_record().await {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    status = 1;
                    break;
                }
            };
            let (line, ended) = match rec.strip_suffix(&[how.delim]) {
                Some(l) => (l, true),
                None => (&rec[..], false),
            };
            f(line, &mut out);
            let end = match how.end {
                LineEnd::AsInput => ended,
                LineEnd::Always => true,
                LineEnd::Caller => false,
            };
            if end {
                out.push(how.delim);
            }
            if out.len() >= 32 * 1024 {
                if let Err(e) = ctx.stdout.write(&out).await
                    && e.kind == ErrorKind::BrokenPipe
                {
                    return status;
                }
                out.clear();
            }
        }
    }
    let _ = ctx.stdout.write(&out).await;
    status
}

/// How one file of a multi-file command ended.
pub(crate) enum FileEnd {
    /// Read to the end (or as far as needed).
    Done,
    /// The reader of stdout went away: stop quietly.
    BrokenPipe,
    /// A read failed with this message.
    ReadError(String),
}

/// Walks the operands of `head`/`tail` (`-` is stdin) with the
/// `==> NAME <==` headers of GNU coreutils 9.1: shown with `-v`, or for
/// more than one file unless `-q`; a blank line before every header but
/// the first. Open errors print `cannot open 'NAME' for reading: …`, read
/// errors `error reading 'NAME': …`; either makes [`FileWalk::status`] 1.
pub(crate) struct FileWalk {
    files: std::vec::IntoIter<String>,
    headers: bool,
    first: bool,
    name: String,
    /// The exit status so far.
    pub status: i32,
    /// Which part of each file the walk's command prints, when it is a
    /// part a ranged read can fetch alone (see [`Part`]).
    pub part: Option<Part>,
}

/// A part of a file that a ranged read fetches without the rest (where
/// the mount reads ranges natively, an S3 `Range` GET): only for regular
/// files of at least [`RANGED_FROM`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The first N bytes (`head -c N`).
    FirstBytes(u64),
    /// The last N bytes (`tail -c N`).
    LastBytes(u64),
    /// The last N records ending in the delimiter (`tail -n N`): read in
    /// blocks from the end until they hold N records.
    LastRecords(u64, u8),
}

/// Files smaller than this are read whole (one request either way).
pub(crate) const RANGED_FROM: u64 = 1 << 20;

/// The bytes of `abs` that hold `part` (a suffix or prefix the command's
/// own code then cuts exactly as it would cut the whole file), or `None`
/// to read the whole file (not a large regular file, or any error: the
/// normal open reports it).
async fn ranged_part(vfs: &dyn mirage_types::Vfs, abs: &str, part: Part) -> Option<ByteSource> {
    use mirage_types::{ByteRange, ReadOptions};
    let st = vfs.stat(abs).await.ok()?;
    if !st.is_file() || st.size < RANGED_FROM {
        return None;
    }
    let size = st.size;
    let read = |range: ByteRange| async move {
        let opts = ReadOptions {
            range: Some(range),
            if_none_match: None,
        };
        vfs.read_with(abs, &opts).await.ok()?.into_source()
    };
    match part {
        Part::FirstBytes(n) => read(ByteRange::new(0, n)).await,
        Part::LastBytes(n) => read(ByteRange::from_offset(size.saturating_sub(n))).await,
        Part::LastRecords(n, delim) => {
            // blocks from the end, doubling, until the suffix holds n
            // records after its first delimiter (or is the whole file)
            let mut start = size;
            let mut block: u64 = 64 << 10;
            let mut suffix = bytes::BytesMut::new();
            loop {
                let from = start.saturating_sub(block);
                let chunk = read(ByteRange::new(from, start - from))
                    .await?
                    .collect()
                    .await
                    .ok()?;
                let mut joined = bytes::BytesMut::with_capacity(chunk.len() + suffix.len());
                joined.extend_from_slice(&chunk);
                joined.extend_from_slice(&suffix);
                suffix = joined;
                start = from;
                if start == 0 {
                    break;
                }
                let body = suffix.strip_suffix(&[delim]).unwrap_or(&suffix);
                // n records need n delimiters before them in the suffix
                if memchr::memchr_iter(delim, body).count() as u64 >= n {
                    break;
                }
                block = block.saturating_mul(2);
            }
            Some(ByteSource::Bytes(suffix.freeze()))
        }
    }
}

impl FileWalk {
    /// A walk over the operands of `p`.
    pub(crate) fn new(p: &ParsedArgs) -> Self {
        let files = operands_or_stdin(p);
        let headers = p.last_of(&["quiet", "verbose"]) == Some("verbose")
            || (files.len() > 1 && !p.has("quiet"));
        FileWalk {
            files: files.into_iter(),
            headers,
            first: true,
            name: String::new(),
            status: 0,
            part: None,
        }
    }

    /// Opens the next file and prints its header; `None` at the end or
    /// when stdout's reader has gone.
    pub(crate) async fn next(&mut self, ctx: &mut CommandCtx) -> Option<ByteSource> {
        for operand in self.files.by_ref() {
            self.name = if operand == "-" {
                "standard input".to_string()
            } else {
                operand.clone()
            };
            let header = format!(
                "{}==> {} <==\n",
                if self.first { "" } else { "\n" },
                self.name
            );
            let ranged = match self.part {
                Some(part) if operand != "-" => {
                    let abs = ctx.resolve(&operand);
                    let vfs = ctx.vfs.clone();
                    ranged_part(vfs.as_ref(), &abs, part).await
                }
                _ => None,
            };
            let opened = match ranged {
                Some(src) => Ok(src),
                None => open_input_err(ctx, &operand).await,
            };
            let src = match opened {
                Ok(s) => s,
                Err(e) if e.kind == ErrorKind::IsADirectory => {
                    if self.headers {
                        self.first = false;
                        let _ = ctx.stdout.write_str(&header).await;
                    }
                    ctx.error(format!("error reading '{}': {}", self.name, e.message()))
                        .await;
                    self.status = 1;
                    continue;
                }
                Err(e) => {
                    ctx.error(format!(
                        "cannot open '{}' for reading: {}",
                        self.name,
                        e.message()
                    ))
                    .await;
                    self.status = 1;
                    continue;
                }
            };
            if self.headers
                && let Err(e) = ctx.stdout.write_str(&header).await
                && e.kind == ErrorKind::BrokenPipe
            {
                return None;
            }
            self.first = false;
            return Some(src);
        }
        None
    }

    /// Records how the current file ended; `false` means stop (broken pipe).
    pub(crate) async fn finish(&mut self, ctx: &mut CommandCtx, end: FileEnd) -> bool {
        match end {
            FileEnd::Done => true,
            FileEnd::BrokenPipe => false,
            FileEnd::ReadError(msg) => {
                ctx.error(format!("error reading '{}': {msg}", self.name))
                    .await;
                self.status = 1;
                true
            }
        }
    }

    /// Runs `one(ctx, source, arg)` on each file of the walk in turn
    /// (headers, open and read errors as [`FileWalk::next`] and
    /// [`FileWalk::finish`] say; `Err` is how a file ended early) and
    /// returns the exit status. `head` and `tail` are this walk around
    /// their own copy of one file.
    pub(crate) async fn each<A: Copy>(
        mut self,
        ctx: &mut CommandCtx,
        arg: A,
        one: OneFile<A>,
    ) -> i32 {
        while let Some(src) = self.next(ctx).await {
            let end = one(ctx, src, arg).await.err().unwrap_or(FileEnd::Done);
            if !self.finish(ctx, end).await {
                break;
            }
        }
        self.status
    }
}

/// The copy of one file of a [`FileWalk::each`]: given stdout's context,
/// the file's bytes and the command's argument `A`; `Err` is how the file
/// ended early.
pub(crate) type OneFile<A> = for<'a> fn(
    &'a mut CommandCtx,
    ByteSource,
    A,
) -> futures::future::BoxFuture<'a, Result<(), FileEnd>>;

/// What one file of `head`/`tail` is given: the count, whether it counts
/// bytes, and the record delimiter.
pub(crate) type CountArgs<C> = (C, bool, u8);

/// The body of `head` and `tail` once their options are parsed: the count
/// of `-n`/`-c` ([`parse_line_or_byte_count`] with `parse` and `default`),
/// then `one` on each file of a [`FileWalk`]; the exit status.
pub(crate) async fn count_each_file<C: Copy>(
    ctx: &mut CommandCtx,
    p: &ParsedArgs,
    parse: fn(&str) -> Option<C>,
    default: C,
    part: fn(CountArgs<C>) -> Option<Part>,
    one: OneFile<CountArgs<C>>,
) -> i32 {
    match parse_line_or_byte_count(ctx, p, parse, default).await {
        Ok(arg) => {
            let mut walk = FileWalk::new(p);
            walk.part = part(arg);
            walk.each(ctx, arg, one).await
        }
        Err(code) => code,
    }
}

/// Writes `b` to stdout for one file of a [`FileWalk`]:
/// `Err(FileEnd::BrokenPipe)` once stdout's reader has gone (the walk then
/// stops quietly); other write errors are left to the output's own
/// reporting.
pub(crate) async fn write_part(ctx: &mut CommandCtx, b: Bytes) -> Result<(), FileEnd> {
    match ctx.stdout.write_bytes(b).await {
        Err(e) if e.kind == ErrorKind::BrokenPipe => Err(FileEnd::BrokenPipe),
        _ => Ok(()),
    }
}

/// Where the last `n` records (ending in `delim`; a last one may lack it)
/// of `data` start: `data.len()` for `n == 0`, 0 when `data` holds `n`
/// records or fewer. `head -n -N` prints what is before, `tail -n N` what
/// is after.
pub(crate) fn last_records_start(data: &[u8], n: u64, delim: u8) -> usize {
    if n == 0 {
        return data.len();
    }
    let mut end = data.len();
    if end > 0 && data[end - 1] == delim {
        end -= 1;
    }
    let mut remaining = n;
    for i in memchr::memrchr_iter(delim, &data[..end]) {
        remaining -= 1;
        if remaining == 0 {
            return i + 1;
        }
    }
    0
}

/// The chunks of a stream that may still hold its last `n` units (bytes,
/// or records ending in `delim`), for `head -n -N` / `tail -n N`: memory
/// stays near `n` units plus one chunk, whatever the stream's length.
pub(crate) struct LastUnits {
    held: std::collections::VecDeque<Bytes>,
    held_units: u64,
    n: u64,
    bytes: bool,
    delim: u8,
}

impl LastUnits {
    /// Keeps the last `n` bytes (`bytes`) or records ending in `delim`.
    pub(crate) fn new(n: u64, bytes: bool, delim: u8) -> Self {
        LastUnits {
            held: std::collections::VecDeque::new(),
            held_units: 0,
            n,
            bytes,
            delim,
        }
    }

    fn units(&self, b: &[u8]) -> u64 {
        if self.bytes {
            b.len() as u64
        } else {
            memchr::memchr_iter(self.delim, b).count() as u64
        }
    }

    /// Adds the next chunk of the stream.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        self.held_units += self.units(&chunk);
        self.held.push_back(chunk);
    }

    /// The oldest held chunk when it lies wholly before the last `n` units
    /// (the later chunks hold `n` bytes, or more than `n` delimiters, so the
    /// last `n` records); call until `None` after each [`push`](Self::push).
    pub(crate) fn pop_before(&mut self) -> Option<Bytes> {
        if self.held.len() < 2 {
            return None;
        }
        let front = self.units(self.held.front()?);
        let others = self.held_units - front;
        let enough = if self.bytes {
            others >= self.n
        } else {
            others > self.n
        };
        if !enough {
            return None;
        }
        self.held_units -= front;
        self.held.pop_front()
    }

    /// The held bytes at the end of the stream, and where the last `n`
    /// units start in them.
    pub(crate) fn finish(self) -> (Bytes, usize) {
        let mut rest = Vec::new();
        for b in &self.held {
            rest.extend_from_slice(b);
        }
        let start = if self.bytes {
            rest.len()
                .saturating_sub(usize::try_from(self.n).unwrap_or(usize::MAX))
        } else {
            last_records_start(&rest, self.n, self.delim)
        };
        (Bytes::from(rest), start)
    }
}

/// The operands of `cp`/`mv` as GNU coreutils 9.1 reads them:
/// `SOURCE… DEST`, `-t DIR SOURCE…` and `-T SOURCE DEST`. Returns the
/// sources, the destination, and whether the destination is a directory to
/// put the sources into. Usage errors (`missing destination file operand
/// after 'X'`, `target 'X' is not a directory`, …) are printed and give
/// `Err(1)`.
pub(crate) async fn copy_targets(
    ctx: &mut CommandCtx,
    mut ops: Vec<String>,
    target_dir: Option<String>,
    no_target: bool,
) -> Result<(Vec<String>, String, bool), i32> {
    let name = ctx.name.clone();
    if ops.is_empty() {
        ctx.error(format!(
            "missing file operand\nTry '{name} --help' for more information."
        ))
        .await;
        return Err(1);
    }
    if let Some(t) = target_dir {
        let tabs = ctx.resolve(&t);
        return match ctx.vfs.stat(&tabs).await {
            Ok(st) if st.is_dir() => Ok((ops, t, true)),
            Ok(_) => {
                ctx.error(format!("target directory '{t}' is not a directory"))
                    .await;
                Err(1)
            }
            Err(e) => {
                ctx.error(format!("target directory '{t}': {}", e.message()))
                    .await;
                Err(1)
            }
        };
    }
    if ops.len() == 1 {
        let only = &ops[0];
        ctx.error(format!("missing destination file operand after '{only}'\nTry '{name} --help' for more information."))
            .await;
        return Err(1);
    }
    let dest = ops.pop().unwrap_or_default();
    let dabs = ctx.resolve(&dest);
    let dstat = ctx.vfs.stat(&dabs).await;
    let dest_is_dir = matches!(&dstat, Ok(st) if st.is_dir());
    if no_target {
        if ops.len() > 1 {
            ctx.error(format!(
                "extra operand '{}'\nTry '{name} --help' for more information.",
                ops[1]
            ))
            .await;
            return Err(1);
        }
        return Ok((ops, dest, false));
    }
    if ops.len() > 1 && !dest_is_dir {
        match dstat {
            Ok(_) => {
                ctx.error(format!("target '{dest}' is not a directory"))
                    .await;
            }
            Err(e) => ctx.error(format!("target '{dest}': {}", e.message())).await,
        }
        return Err(1);
    }
    Ok((ops, dest, dest_is_dir))
}

#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use mirage_types::command::{CommandCtx, CommandFn};
    use mirage_types::{
        ByteSource, FileStat, IOResult, Input, MountInfo, MountMode, Output, Result, Sink, Vfs,
    };

    /// The test tree: the real RAM resource mounted writable at `/` and a
    /// second one mounted read-only at `/ro`, behind the workspace's
    /// router (so streamed writes, read-only refusals and errors are the
    /// real ones). Every mtime reads as 2023-11-14 22:13:20 UTC, so `ls -l`
    /// output is stable.
    pub(crate) struct MemVfs {
        router: mirage_workspace::Router,
        /// The files, for assertions (`tree.lock()`).
        pub(crate) tree: Snapshot,
    }

    /// The files the commands' `matches_gnu` tests run on (their expected
    /// outputs were taken from GNU coreutils 9.1 over the same files).
    pub(crate) const GNU_FILES: &[(&str, &str)] = &[
        ("/d/a.txt", "a1\na2\na3\n"),
        ("/d/b.txt", "b1\nb2\n"),
        (
            "/d/lines.txt",
            "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\nline 11\nline 12\nline 13\nline 14\nline 15\n",
        ),
        ("/d/s.txt", "a 10 x\nb 9 y\nc 100 z\nd 9 a\n"),
        ("/d/st.txt", "b 2\na 3\nb 1\na 1\n"),
        (
            "/d/emp.csv",
            "id,name,dept,salary\n1,Alice,Eng,120000\n2,Bob,Mkt,85000\n3,Carol,Eng,135000\n4,Dan,Sales,70000\n",
        ),
        ("/d/nonl.txt", "x\ny\nz"),
        ("/d/u.txt", "a\na\nb\na\na\na\nc\n"),
        ("/d/v.txt", "v1.10.0\nv1.2.10\nv2.0.0\nv1.9.3\nv1.2.0\n"),
        ("/d/h.txt", "2K\n1M\n512\n10K\n1G\n"),
        ("/d/utf.txt", "héllo wörld\n日本語 text\n"),
        ("/d/empty.txt", ""),
        ("/d/dir/", ""),
    ];

    const FIXED_MTIME: u64 = 1_700_000_000;

    fn pin(mut st: FileStat) -> FileStat {
        st.modified = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(FIXED_MTIME));
        st
    }

    impl MemVfs {
        /// The router underneath, whose stats keep the real times (this
        /// VFS pins every mtime).
        pub(crate) fn router(&self) -> &mirage_workspace::Router {
            &self.router
        }
        /// A tree with `/`, `/ro` and the given files (parents created; a
        /// path ending in `/` is a directory).
        pub(crate) fn with(files: &[(&str, &str)]) -> Arc<MemVfs> {
            use mirage_resource_ram::RamResource;
            let root = Arc::new(RamResource::new());
            let ro = Arc::new(RamResource::new());
            for (p, c) in files {
                let (res, rel) = match p.strip_prefix("/ro") {
                    Some(rest) if rest.is_empty() || rest.starts_with('/') => (&ro, rest),
                    _ => (&root, *p),
                };
                if let Some(d) = rel.strip_suffix('/') {
                    res.insert_dir(if d.is_empty() { "/" } else { d }).unwrap();
                } else {
                    res.insert_file(rel, Bytes::from(c.to_string())).unwrap();
                }
            }
            let router = mirage_workspace::Router::new(vec![
                mirage_workspace::Mount::new("/", root.clone(), MountMode::Write),
                mirage_workspace::Mount::new("/ro", ro.clone(), MountMode::Read),
            ])
            .unwrap();
            Arc::new(MemVfs {
                router,
                tree: Snapshot { root, ro },
            })
        }
    }

    /// What the old hand-written tree offered tests: `tree.lock()` gives
    /// a snapshot of every path (`/` and `/ro` included) → `Some(bytes)`
    /// for a file, `None` for a directory, read from the RAM resources.
    pub(crate) struct Snapshot {
        root: Arc<mirage_resource_ram::RamResource>,
        ro: Arc<mirage_resource_ram::RamResource>,
    }

    impl Snapshot {
        /// The snapshot (never an error; a `LockResult` for the old call
        /// shape `tree.lock().unwrap()`).
        pub(crate) fn lock(&self) -> std::sync::LockResult<BTreeMap<String, Option<Bytes>>> {
            use futures::StreamExt;
            use mirage_ops::Resource;
            let mut out = BTreeMap::new();
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
                return Ok(out);
            };
            rt.block_on(async {
                for (prefix, res) in [("", &self.root), ("/ro", &self.ro)] {
                    let opts = mirage_types::ListOptions {
                        recursive: true,
                        ..Default::default()
                    };
                    out.insert(
                        if prefix.is_empty() {
                            "/".into()
                        } else {
                            prefix.into()
                        },
                        None,
                    );
                    let Ok(mut s) = res.list("/", &opts).await else {
                        continue;
                    };
                    while let Some(Ok(e)) = s.next().await {
                        let path = format!("{prefix}/{}", e.name);
                        let val = if e.is_dir() {
                            None
                        } else {
                            res.read(&path[prefix.len()..])
                                .await
                                .ok()
                                .map(|b| async { b.collect().await.ok() })
                        };
                        let val = match val {
                            Some(f) => f.await,
                            None => None,
                        };
                        out.insert(path, val);
                    }
                }
            });
            Ok(out)
        }
    }

    #[async_trait::async_trait]
    impl Vfs for MemVfs {
        async fn stat(&self, path: &str) -> Result<FileStat> {
            self.router.stat(path).await.map(pin)
        }
        async fn lstat(&self, path: &str) -> Result<FileStat> {
            self.router.lstat(path).await.map(pin)
        }
        async fn readlink(&self, path: &str) -> Result<String> {
            self.router.readlink(path).await
        }
        async fn symlink(&self, target: &str, path: &str) -> Result<()> {
            self.router.symlink(target, path).await
        }
        async fn realpath(&self, path: &str) -> Result<String> {
            self.router.realpath(path).await
        }
        async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
            Ok(self
                .router
                .readdir(path)
                .await?
                .into_iter()
                .map(pin)
                .collect())
        }
        async fn read(&self, path: &str) -> Result<ByteSource> {
            self.router.read(path).await
        }
        async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
            self.router.write(path, data).await
        }
        async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
            self.router.append(path, data).await
        }
        async fn mkdir(&self, path: &str, parents: bool) -> Result<()> {
            self.router.mkdir(path, parents).await
        }
        async fn unlink(&self, path: &str) -> Result<()> {
            self.router.unlink(path).await
        }
        async fn rmdir(&self, path: &str) -> Result<()> {
            self.router.rmdir(path).await
        }
        async fn rename(&self, from: &str, to: &str) -> Result<()> {
            self.router.rename(from, to).await
        }
        async fn set_modified(&self, path: &str, time: std::time::SystemTime) -> Result<()> {
            self.router.set_modified(path, time).await
        }
        fn mount_of(&self, path: &str) -> Option<MountInfo> {
            self.router.mount_of(path)
        }
        fn mounts(&self) -> Vec<MountInfo> {
            self.router.mounts()
        }
    }

    /// Runs `handler` as `name args…` in `cwd` with `stdin`; returns
    /// (stdout, stderr, status).
    pub(crate) fn run(
        vfs: &Arc<MemVfs>,
        handler: CommandFn,
        name: &str,
        args: &[&str],
        cwd: &str,
        stdin: &str,
    ) -> (String, String, i32) {
        let (out_sink, out) = Sink::capture();
        let (err_sink, err) = Sink::capture();
        let mut ctx = CommandCtx {
            name: name.to_string(),
            args: args.iter().map(std::string::ToString::to_string).collect(),
            cwd: cwd.to_string(),
            env: BTreeMap::new(),
            vfs: vfs.clone(),
            stdin: Input::from_source(ByteSource::Bytes(Bytes::from(stdin.to_string()))),
            stdout: Output::new(out_sink),
            stderr: Output::new(err_sink),
            io: IOResult::default(),
            mount: None,
            runner: None,
            net: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread().build();
        let Ok(rt) = rt else {
            return (String::new(), "no runtime".into(), -1);
        };
        let status = rt.block_on(async {
            let s = handler(&mut ctx).await;
            let _ = ctx.stdout.flush().await;
            let _ = ctx.stderr.flush().await;
            s
        });
        let get = |b: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&b.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
                .into_owned()
        };
        (get(&out), get(&err), status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` to a [`LastUnits`]; returns what it let go early and
    /// the final (before, last n units) split, as strings.
    fn keep(chunks: &[&'static str], n: u64, bytes: bool) -> (String, String, String) {
        let mut k = LastUnits::new(n, bytes, b'\n');
        let mut early = Vec::new();
        for c in chunks {
            k.push(Bytes::from_static(c.as_bytes()));
            while let Some(b) = k.pop_before() {
                early.extend_from_slice(&b);
            }
        }
        let (rest, start) = k.finish();
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap_or_default();
        (s(&early), s(&rest[..start]), s(&rest[start..]))
    }

    #[test]
    fn last_units_hold_only_what_may_be_last() {
        // lines: a chunk goes once the later ones hold more than n newlines
        let (early, before, last) = keep(&["a\nb\n", "c\n", "d\ne\n", "f"], 2, false);
        assert_eq!(
            (early.as_str(), before.as_str(), last.as_str()),
            ("a\nb\n", "c\nd\n", "e\nf")
        );
        // bytes: once the later ones hold n bytes
        let (early, before, last) = keep(&["abc", "de", "fg", "h"], 3, true);
        assert_eq!(
            (early.as_str(), before.as_str(), last.as_str()),
            ("abcde", "", "fgh")
        );
        // fewer units than n: all of it is last; n = 0: none of it
        assert_eq!(
            keep(&["a\n", "b"], 5, false),
            (String::new(), String::new(), "a\nb".into())
        );
        let (early, before, last) = keep(&["ab", "c"], 0, true);
        assert_eq!(format!("{early}{before}"), "abc");
        assert_eq!(last, "");
    }
}
