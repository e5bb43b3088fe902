//! `grep`: print lines that match patterns, as GNU grep 3.8 (`-E`, `-F`,
//! `-G`, `-P`, `-e`, `-f`, `-i`, `-v`, `-w`, `-x`, `-c`, `-l`, `-L`, `-o`,
//! `-q`, `-s`, `-n`, `-b`, `-h`, `-H`, `-m`, `-A`, `-B`, `-C`, `-r`, `-R`,
//! `-z`, `-a`, `-I`, `--include`, `--exclude`, `--exclude-dir`, `--label`).
//!
//! Built on `grep-searcher` and `grep-regex`: the matcher and the searcher
//! are built once and reused for every file. POSIX basic and extended
//! regular expressions are translated to the `regex` crate's syntax by
//! [`mirage_regex::translate`]; a pattern with back-references runs on
//! [`mirage_regex::backref`]. Bytes already in memory (a RAM file) and
//! inputs up to 256 KiB are searched as one slice; a longer stream (a disk
//! file, a pipe) is searched as it arrives, on a blocking thread fed
//! through a bounded channel, so memory stays flat and `-m`, `-q`, `-l`
//! and a closed stdout stop the reading. Exit status: 0 when a line was
//! selected, 1 when none was, 2 on error (unless `-q` found a match).

use std::cell::Cell;
use std::io::Write as _;
use std::rc::Rc;
use std::sync::Arc;

use bytes::{Buf as _, Bytes};
use futures::StreamExt as _;

use globset::{Glob, GlobSet, GlobSetBuilder};
use grep_matcher::{LineTerminator, Matcher};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{Searcher, Sink, SinkContext, SinkContextKind, SinkMatch};
use mirage_regex::{RegexError, RegexErrorKind};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ByteSource, ByteStream, ErrorKind, FileType, Input};

use crate::fixed_set::{self, Anchor, FixedSet};
use crate::util::parse_args;

pub(crate) const OPTS: &[OptSpec] = &[
    OptSpec::flag("extended", Some('E'), Some("extended-regexp")),
    OptSpec::flag("fixed", Some('F'), Some("fixed-strings")),
    OptSpec::flag("basic", Some('G'), Some("basic-regexp")),
    OptSpec::flag("perl", Some('P'), Some("perl-regexp")),
    OptSpec::value("regexp", Some('e'), Some("regexp")),
    OptSpec::value("file", Some('f'), Some("file")),
    OptSpec::flag("ignore-case", Some('i'), Some("ignore-case")),
    OptSpec::flag("ignore-case", Some('y'), None),
    OptSpec::flag("no-ignore-case", None, Some("no-ignore-case")),
    OptSpec::flag("word", Some('w'), Some("word-regexp")),
    OptSpec::flag("line", Some('x'), Some("line-regexp")),
    OptSpec::flag("null-data", Some('z'), Some("null-data")),
    OptSpec::flag("no-messages", Some('s'), Some("no-messages")),
    OptSpec::flag("invert", Some('v'), Some("invert-match")),
    OptSpec::value("max-count", Some('m'), Some("max-count")),
    OptSpec::flag("byte-offset", Some('b'), Some("byte-offset")),
    OptSpec::flag("line-number", Some('n'), Some("line-number")),
    OptSpec::flag("no-line-number", None, Some("no-line-number")),
    OptSpec::flag("line-buffered", None, Some("line-buffered")),
    OptSpec::flag("with-filename", Some('H'), Some("with-filename")),
    OptSpec::flag("no-filename", Some('h'), Some("no-filename")),
    OptSpec::value("label", None, Some("label")),
    OptSpec::flag("only-matching", Some('o'), Some("only-matching")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("quiet", None, Some("silent")),
    OptSpec::value("binary-files", None, Some("binary-files")),
    OptSpec::flag("text", Some('a'), Some("text")),
    OptSpec::flag("skip-binary", Some('I'), None),
    OptSpec::value("directories", Some('d'), Some("directories")),
    OptSpec::value("devices", Some('D'), Some("devices")),
    OptSpec::flag("recursive", Some('r'), Some("recursive")),
    OptSpec::flag("deref-recursive", Some('R'), Some("dereference-recursive")),
    OptSpec::value("include", None, Some("include")),
    OptSpec::value("exclude", None, Some("exclude")),
    OptSpec::value("exclude-dir", None, Some("exclude-dir")),
    OptSpec::flag(
        "files-without-match",
        Some('L'),
        Some("files-without-match"),
    ),
    OptSpec::flag("files-with-matches", Some('l'), Some("files-with-matches")),
    OptSpec::flag("count", Some('c'), Some("count")),
    OptSpec::flag("initial-tab", Some('T'), Some("initial-tab")),
    OptSpec::flag("null", Some('Z'), Some("null")),
    OptSpec::value("before", Some('B'), Some("before-context")),
    OptSpec::value("after", Some('A'), Some("after-context")),
    OptSpec::value("context", Some('C'), Some("context")),
    OptSpec::optional("color", None, Some("color")),
    OptSpec::optional("color", None, Some("colour")),
    OptSpec::value("group-separator", None, Some("group-separator")),
    OptSpec::flag("no-group-separator", None, Some("no-group-separator")),
    OptSpec::flag("binary", Some('U'), Some("binary")),
];

/// The spec of `grep` (usage errors exit 2; `-NUM` means `-C NUM`).
pub static SPEC: CommandSpec = CommandSpec {
    name: "grep",
    options: OPTS,
    paths: PathOperands::SkipFirstUnless(&["regexp", "file"]),
    numeric_key: Some("context"),
    stop_at_operand: false,
    usage_status: 2,
};

crate::register_command!("grep", SPEC, run);

/// How the patterns are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// POSIX basic (`-G`).
    Basic,
    /// POSIX extended (`-E`).
    Extended,
    /// Literal strings (`-F`).
    Fixed,
    /// Perl (`-P`): the `regex` crate, or `fancy-regex` for look-around
    /// and back-references.
    Perl,
    /// The `regex` crate's own syntax, as ripgrep reads patterns.
    Rust,
}

/// Builds the single `regex` pattern for all of `patterns`.
fn combine_patterns(patterns: &[String], syntax: Syntax) -> Result<String, RegexError> {
    if patterns.is_empty() {
        // no pattern at all (`-f /dev/null`): matches nothing
        return Ok("[a&&b]".to_string());
    }
    let mut parts = Vec::with_capacity(patterns.len());
    for p in patterns {
        let t = match syntax {
            Syntax::Fixed => mirage_regex::literal(p),
            Syntax::Basic => mirage_regex::translate(p, mirage_regex::Syntax::Basic)?,
            Syntax::Extended => mirage_regex::translate(p, mirage_regex::Syntax::Extended)?,
            Syntax::Perl | Syntax::Rust => p.clone(),
        };
        parts.push(t);
    }
    if parts.len() == 1 {
        return Ok(parts.pop().unwrap_or_default());
    }
    Ok(parts
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|"))
}

/// How a matcher matches, besides its patterns.
#[derive(Clone, Copy)]
pub(crate) struct MatchOpts {
    /// `-i`.
    pub(crate) ignore_case: bool,
    /// `-x`: the whole line.
    pub(crate) line: bool,
    /// `-w`: whole words.
    pub(crate) word: bool,
    /// The record terminator (`\n`, or NUL with `-z`).
    pub(crate) eol: u8,
}

/// The matcher for `patterns` read as `syntax` (any of them matching):
/// the `regex` crate's, the back-reference matcher when a POSIX pattern
/// has back-references, or `fancy-regex` for a `-P` pattern the `regex`
/// crate refuses (look-around, back-references). The error is the
/// engine's message (its last line is GNU grep's wording).
pub(crate) fn build_matcher(
    patterns: &[String],
    syntax: Syntax,
    o: MatchOpts,
) -> Result<AnyMatcher, String> {
    match combine_patterns(patterns, syntax) {
        Err(e) if e.kind() == RegexErrorKind::BackReference => {
            let opts = mirage_regex::Options {
                ignore_case: o.ignore_case,
                whole_line: o.line,
                word: o.word,
            };
            let dialect = if syntax == Syntax::Extended {
                mirage_regex::Syntax::Extended
            } else {
                mirage_regex::Syntax::Basic
            };
            let mut progs = Vec::with_capacity(patterns.len());
            for pat in patterns {
                progs.push(
                    mirage_regex::backref::Program::new(pat, dialect, &opts)
                        .map_err(|e| e.message().to_string())?,
                );
            }
            Ok(AnyMatcher::Backtrack(progs))
        }
        Err(e) => Err(e.message().to_string()),
        Ok(pattern) => {
            let mut mb = RegexMatcherBuilder::new();
            mb.case_insensitive(o.ignore_case)
                .line_terminator(Some(o.eol));
            if o.line {
                mb.whole_line(true);
            } else if o.word {
                mb.word(true);
            }
            match mb.build(&pattern) {
                Ok(m) => {
                    // POSIX leftmost-longest ends for -o and spans (GNU grep
                    // -o 'a\|ab' prints `ab`); -w keeps grep-regex's rule
                    let posix = matches!(syntax, Syntax::Basic | Syntax::Extended);
                    let longest = (posix && !o.word)
                        .then(|| mirage_regex::longest::Longest::new(&pattern, o.ignore_case))
                        .flatten()
                        .map(Box::new);
                    Ok(AnyMatcher::Re(m, longest))
                }
                Err(e) if syntax == Syntax::Perl => {
                    // look-around or a back-reference: the backtracking engine
                    FancyMatcher::new(&pattern, o)
                        .map(|m| AnyMatcher::Fancy(Box::new(m)))
                        .map_err(|fe| format!("{e}\n{fe}"))
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// The matcher grep runs: the `regex` engine, the backtracking one
/// when a pattern has back-references, or the literal set for `-F` with
/// several patterns.
pub(crate) enum AnyMatcher {
    /// The `regex` engine, with the pattern's leftmost-longest twin when
    /// POSIX and leftmost-first can disagree on a match's end.
    Re(RegexMatcher, Option<Box<mirage_regex::longest::Longest>>),
    Backtrack(Vec<mirage_regex::backref::Program>),
    Fixed(Box<FixedSet>),
    Fancy(Box<FancyMatcher>),
}

/// A `-P` pattern the `regex` crate cannot run (look-around,
/// back-references), on `fancy-regex`'s backtracking engine. It is asked
/// one line at a time (it has no line terminator), and matches on text:
/// a line that is not UTF-8 is searched one valid run at a time.
pub(crate) struct FancyMatcher {
    re: fancy_regex::Regex,
    eol: u8,
}

impl FancyMatcher {
    /// `pattern` with grep's `-i`, `-w` and `-x` applied as PCRE does them.
    fn new(pattern: &str, o: MatchOpts) -> Result<Self, String> {
        let mut p = if o.line {
            format!("^(?:{pattern})$")
        } else if o.word {
            format!("(?<!\\w)(?:{pattern})(?!\\w)")
        } else {
            pattern.to_string()
        };
        if o.ignore_case {
            p = format!("(?i){p}");
        }
        fancy_regex::Regex::new(&p)
            .map(|re| FancyMatcher { re, eol: o.eol })
            .map_err(|e| e.to_string())
    }

    fn find_at(&self, haystack: &[u8], at: usize) -> Option<(usize, usize)> {
        let hay = haystack.strip_suffix(&[self.eol]).unwrap_or(haystack);
        if at > hay.len() {
            return None;
        }
        if let Ok(text) = std::str::from_utf8(hay) {
            return self.find_in(text, at, 0);
        }
        // one valid run at a time, offsets put back into the line
        let mut base = 0;
        for chunk in bstr::ByteSlice::utf8_chunks(hay) {
            let valid = chunk.valid();
            let end = base + valid.len();
            if end >= at
                && let Some(m) = self.find_in(valid, at.saturating_sub(base), base)
            {
                return Some(m);
            }
            base = end + chunk.invalid().len();
        }
        None
    }

    fn find_in(&self, text: &str, at: usize, base: usize) -> Option<(usize, usize)> {
        if !text.is_char_boundary(at) {
            return None;
        }
        match self.re.find_from_pos(text, at) {
            Ok(Some(m)) => Some((base + m.start(), base + m.end())),
            _ => None,
        }
    }
}

impl Matcher for AnyMatcher {
    type Captures = grep_matcher::NoCaptures;
    type Error = grep_matcher::NoError;

    fn find_at(
        &self,
        haystack: &[u8],
        at: usize,
    ) -> Result<Option<grep_matcher::Match>, Self::Error> {
        match self {
            AnyMatcher::Re(m, None) => m.find_at(haystack, at),
            AnyMatcher::Re(m, Some(longest)) => Ok(m.find_at(haystack, at)?.map(|found| {
                let end = longest
                    .end(haystack, found.start())
                    .map_or(found.end(), |e| e.max(found.end()));
                grep_matcher::Match::new(found.start(), end)
            })),
            AnyMatcher::Fixed(m) => m.find_at(haystack, at),
            AnyMatcher::Fancy(m) => Ok(m
                .find_at(haystack, at)
                .map(|(s, e)| grep_matcher::Match::new(s, e))),
            AnyMatcher::Backtrack(progs) => {
                let mut best: Option<(usize, usize)> = None;
                for p in progs {
                    if let Some(m) = p.find_at(haystack, at)
                        && best.is_none_or(|b| m.0 < b.0 || (m.0 == b.0 && m.1 > b.1))
                    {
                        best = Some(m);
                    }
                }
                Ok(best.map(|(s, e)| grep_matcher::Match::new(s, e)))
            }
        }
    }

    fn new_captures(&self) -> Result<Self::Captures, Self::Error> {
        Ok(grep_matcher::NoCaptures::new())
    }

    fn shortest_match_at(&self, haystack: &[u8], at: usize) -> Result<Option<usize>, Self::Error> {
        match self {
            AnyMatcher::Re(m, _) => m.shortest_match_at(haystack, at),
            AnyMatcher::Fixed(m) => m.shortest_match_at(haystack, at),
            AnyMatcher::Backtrack(_) | AnyMatcher::Fancy(_) => {
                Ok(self.find_at(haystack, at)?.map(|m| m.end()))
            }
        }
    }

    fn non_matching_bytes(&self) -> Option<&grep_matcher::ByteSet> {
        match self {
            AnyMatcher::Re(m, _) => m.non_matching_bytes(),
            AnyMatcher::Backtrack(_) | AnyMatcher::Fixed(_) | AnyMatcher::Fancy(_) => None,
        }
    }

    fn line_terminator(&self) -> Option<LineTerminator> {
        match self {
            AnyMatcher::Re(m, _) => m.line_terminator(),
            AnyMatcher::Fixed(m) => m.line_terminator(),
            AnyMatcher::Backtrack(_) | AnyMatcher::Fancy(_) => None,
        }
    }

    fn find_candidate_line(
        &self,
        haystack: &[u8],
    ) -> Result<Option<grep_matcher::LineMatchKind>, Self::Error> {
        match self {
            AnyMatcher::Re(m, _) => m.find_candidate_line(haystack),
            AnyMatcher::Backtrack(_) | AnyMatcher::Fixed(_) | AnyMatcher::Fancy(_) => Ok(self
                .shortest_match(haystack)?
                .map(grep_matcher::LineMatchKind::Confirmed)),
        }
    }
}

/// What grep prints.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Lines,
    Only,
    Count,
    FilesWith,
    FilesWithout,
    Quiet,
}

/// Options that shape output.
pub(crate) struct Cfg {
    pub(crate) mode: Mode,
    pub(crate) line_number: bool,
    pub(crate) byte_offset: bool,
    pub(crate) invert: bool,
    pub(crate) null_after_name: bool,
    pub(crate) eol: u8,
    pub(crate) context: bool,
    pub(crate) max_count: Option<u64>,
    pub(crate) group_sep: Option<Vec<u8>>,
    pub(crate) initial_tab: bool,
    /// `-c` prints a count of 0 (GNU grep); ripgrep prints nothing.
    pub(crate) count_zero: bool,
    /// ripgrep's `-r TEXT`: each match printed as `TEXT` with `$1`,
    /// `${name}` interpolated (only with the `regex` matcher).
    pub(crate) replace: Option<Vec<u8>>,
    /// ripgrep's conventions: a match in binary data is told on stdout
    /// (`binary file matches (found "\0" byte around offset N)`), not as
    /// GNU grep's `FILE: binary file matches` on stderr; a file error is
    /// `PATH: MESSAGE (os error N)` without the command's name.
    pub(crate) rg: bool,
    /// ripgrep's `--heading`: each file's path on a line of its own above
    /// its lines (only when paths are shown), a blank line between files.
    pub(crate) heading: bool,
    /// ripgrep's `--column`: the 1-based column of the first match after
    /// the line number.
    pub(crate) column: bool,
    /// ripgrep's `--vimgrep`: `-o`'s one line per match, printing the
    /// whole line.
    pub(crate) vimgrep: bool,
}

impl Cfg {
    /// The count at which the sink itself stops the search: `-m` without
    /// context (with context, the searcher's `max_matches` stops it after
    /// the trailing context).
    fn sink_limit(&self) -> Option<u64> {
        if self.context { None } else { self.max_count }
    }
}

/// Inputs up to this size (or in memory already) are searched as one slice.
const SLICE_LIMIT: usize = 256 * 1024;

/// Chunks in flight from the source to the search thread.
const STREAM_CHUNKS: usize = 4;

/// Output is handed back from the search thread in blocks of this size.
const OUT_BLOCK: usize = 32 * 1024;

/// `chunks` as one buffer (no copy for a single chunk).
fn concat(mut chunks: Vec<Bytes>) -> Bytes {
    if chunks.len() <= 1 {
        return chunks.pop().unwrap_or_default();
    }
    let mut buf = Vec::with_capacity(chunks.iter().map(Bytes::len).sum());
    for c in &chunks {
        buf.extend_from_slice(c);
    }
    Bytes::from(buf)
}

/// The reading end of [`Grep::search_stream`]: a `std::io::Read` over the
/// chunks the async side sends. It flags binary data (a NUL byte) as the
/// chunks arrive, so lines before the first NUL print as text, as GNU grep
/// does; with `-I` binary data ends the input.
struct ChanReader {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    cur: Bytes,
    done: bool,
    detect_binary: bool,
    skip_binary: bool,
    binary: Rc<Cell<bool>>,
    skipped: Rc<Cell<bool>>,
    /// Set by the sink when the search is over (see [`OutSink::stopped`]).
    stop: Rc<Cell<bool>>,
}

impl std::io::Read for ChanReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.get() {
            return Ok(0);
        }
        while self.cur.is_empty() {
            if self.done {
                return Ok(0);
            }
            let Some(chunk) = self.rx.blocking_recv() else {
                self.done = true;
                return Ok(0);
            };
            if self.detect_binary && !self.binary.get() && memchr::memchr(0, &chunk).is_some() {
                self.binary.set(true);
                if self.skip_binary {
                    self.skipped.set(true);
                    self.done = true;
                    return Ok(0);
                }
            }
            self.cur = chunk;
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur.advance(n);
        Ok(n)
    }
}

/// The sink of [`Grep::search_stream`]: an [`OutSink`] that follows the
/// reader's binary flag and hands full output blocks to the async side.
struct StreamSink<'a> {
    inner: OutSink<'a>,
    binary: &'a Cell<bool>,
    stop: &'a Cell<bool>,
    tx: &'a tokio::sync::mpsc::Sender<Vec<u8>>,
}

impl StreamSink<'_> {
    fn send_full(&mut self) -> std::io::Result<()> {
        if self.inner.stopped {
            self.stop.set(true);
        }
        if self.inner.buf.len() >= OUT_BLOCK {
            let block = std::mem::replace(self.inner.buf, Vec::with_capacity(OUT_BLOCK * 2));
            self.tx
                .blocking_send(block)
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        }
        Ok(())
    }
}

impl Sink for StreamSink<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, s: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        self.inner.binary = self.binary.get();
        let go = self.inner.matched(s, mat)?;
        self.send_full()?;
        Ok(go)
    }

    fn context(&mut self, s: &Searcher, ctx: &SinkContext<'_>) -> Result<bool, Self::Error> {
        self.inner.binary = self.binary.get();
        let go = self.inner.context(s, ctx)?;
        self.send_full()?;
        Ok(go)
    }

    fn context_break(&mut self, s: &Searcher) -> Result<bool, Self::Error> {
        self.inner.binary = self.binary.get();
        let go = self.inner.context_break(s)?;
        self.send_full()?;
        Ok(go)
    }
}

/// What the search thread of [`Grep::search_stream`] owns.
struct StreamJob {
    cfg: Arc<Cfg>,
    matcher: Arc<AnyMatcher>,
    searcher: Searcher,
    st: FileState,
    name: Option<Vec<u8>>,
    detect_binary: bool,
    skip_binary: bool,
}

impl StreamJob {
    /// Searches the chunks from `rx`; returns the file's state, whether it
    /// held binary data, and the output not sent yet.
    fn run(
        mut self,
        rx: tokio::sync::mpsc::Receiver<Bytes>,
        tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> (FileState, bool, Vec<u8>, bool) {
        let binary = Rc::new(Cell::new(false));
        let skipped = Rc::new(Cell::new(false));
        let stop = Rc::new(Cell::new(false));
        let reader = ChanReader {
            stop: stop.clone(),
            rx,
            cur: Bytes::new(),
            done: false,
            detect_binary: self.detect_binary,
            skip_binary: self.skip_binary,
            binary: binary.clone(),
            skipped: skipped.clone(),
        };
        let mut buf = Vec::with_capacity(OUT_BLOCK * 2);
        let mut sink = StreamSink {
            inner: OutSink {
                buf: &mut buf,
                cfg: &self.cfg,
                matcher: &self.matcher,
                name: self.name.as_deref(),
                st: &mut self.st,
                binary: false,
                limit: self.cfg.sink_limit(),
                stopped: false,
            },
            binary: &binary,
            stop: &stop,
            tx: &tx,
        };
        // a line over the heap limit is an `Other` error; a closed output
        // (`BrokenPipe`) needs no word
        let exhausted = matches!(
            self.searcher.search_reader(&*self.matcher, reader, &mut sink),
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe
        );
        if skipped.get() {
            // `-I`: a binary input counts as not matching
            self.st = FileState {
                pending_sep: self.st.pending_sep,
                ..FileState::default()
            };
            return (self.st, false, buf, exhausted);
        }
        (self.st, binary.get(), buf, exhausted)
    }
}

/// Per-file state shared between segments of one input.
#[derive(Default)]
struct FileState {
    count: u64,
    line_base: u64,
    byte_base: u64,
    pending_sep: bool,
    printed: bool,
    /// Where the first NUL byte of a binary input is (ripgrep's message).
    nul_offset: u64,
    /// Another file printed lines before this one (ripgrep's `--heading`).
    after_other: bool,
}

/// The sink: formats selected and context lines into `buf`.
struct OutSink<'a> {
    buf: &'a mut Vec<u8>,
    cfg: &'a Cfg,
    matcher: &'a AnyMatcher,
    name: Option<&'a [u8]>,
    st: &'a mut FileState,
    binary: bool,
    /// Stop after this many selected lines (`-m` without context).
    limit: Option<u64>,
    /// Set once the sink asked the searcher to stop. `grep-searcher`
    /// 0.1.17 ignores that answer for inverted matches (`-v`) at the end
    /// of each buffer and goes on with the next one, so every later call
    /// answers "stop" again and prints nothing.
    stopped: bool,
}

impl OutSink<'_> {
    fn sep_if_needed(&mut self) {
        if self.cfg.heading
            && !self.st.printed
            && let Some(n) = self.name
        {
            // ripgrep's --heading: the path on its own line, files apart
            if self.st.after_other {
                self.buf.push(b'\n');
            }
            self.buf.extend_from_slice(n);
            self.buf.push(b'\n');
        }
        if self.st.pending_sep {
            self.st.pending_sep = false;
            if let Some(sep) = &self.cfg.group_sep {
                self.buf.extend_from_slice(sep);
                self.buf.push(b'\n');
            }
        }
        self.st.printed = true;
    }

    fn prefix(&mut self, line: Option<u64>, offset: u64, sep: u8, column: Option<usize>) {
        if let Some(n) = self.name.filter(|_| !self.cfg.heading) {
            self.buf.extend_from_slice(n);
            self.buf
                .push(if self.cfg.null_after_name { 0 } else { sep });
        }
        if self.cfg.line_number {
            let _ = write!(self.buf, "{}", line.unwrap_or(0) + self.st.line_base);
            self.buf.push(sep);
        }
        if let Some(c) = column.filter(|_| self.cfg.column) {
            let _ = write!(self.buf, "{}", c + 1);
            self.buf.push(sep);
        }
        if self.cfg.byte_offset {
            let _ = write!(self.buf, "{}", offset + self.st.byte_base);
            self.buf.push(sep);
        }
        if self.cfg.initial_tab
            && (self.name.is_some() || self.cfg.line_number || self.cfg.byte_offset)
        {
            self.buf.push(b'\t');
        }
    }

    fn line(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if bytes.last() != Some(&self.cfg.eol) {
            self.buf.push(self.cfg.eol);
        }
    }
}

impl Sink for OutSink<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, _s: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        if self.stopped {
            return Ok(false);
        }
        let go = self.matched_line(mat);
        self.stopped = !go;
        Ok(go)
    }

    fn context(&mut self, _s: &Searcher, ctx: &SinkContext<'_>) -> Result<bool, Self::Error> {
        if self.stopped {
            return Ok(false);
        }
        if self.binary || !matches!(self.cfg.mode, Mode::Lines) {
            return Ok(true);
        }
        if matches!(ctx.kind(), SinkContextKind::Other) {
            return Ok(true);
        }
        self.sep_if_needed();
        self.prefix(ctx.line_number(), ctx.absolute_byte_offset(), b'-', None);
        self.line(ctx.bytes());
        Ok(true)
    }

    fn context_break(&mut self, _s: &Searcher) -> Result<bool, Self::Error> {
        if self.stopped {
            return Ok(false);
        }
        if !self.binary && matches!(self.cfg.mode, Mode::Lines | Mode::Only) && self.st.printed {
            self.st.pending_sep = true;
        }
        Ok(true)
    }
}

impl OutSink<'_> {
    /// Formats one selected line; whether the search goes on.
    fn matched_line(&mut self, mat: &SinkMatch<'_>) -> bool {
        self.st.count += 1;
        match self.cfg.mode {
            Mode::Quiet | Mode::FilesWith | Mode::FilesWithout => return false,
            Mode::Count => {}
            _ if self.binary => return false,
            Mode::Lines => {
                self.sep_if_needed();
                let column = if self.cfg.column && !self.cfg.invert {
                    let bytes = mat.bytes();
                    let body = bytes.strip_suffix(&[self.cfg.eol]).unwrap_or(bytes);
                    self.matcher.find(body).ok().flatten().map(|m| m.start())
                } else {
                    None
                };
                self.prefix(
                    mat.line_number(),
                    mat.absolute_byte_offset(),
                    b':',
                    column.or(Some(0)),
                );
                match (&self.cfg.replace, self.matcher, self.cfg.invert) {
                    (Some(rep), AnyMatcher::Re(m, _), false) => {
                        let bytes = mat.bytes();
                        let body = bytes.strip_suffix(&[self.cfg.eol]).unwrap_or(bytes);
                        let mut line = Vec::with_capacity(body.len());
                        replace_all(m, body, rep, &mut line);
                        self.line(&line);
                    }
                    _ => self.line(mat.bytes()),
                }
            }
            Mode::Only => {
                if !self.cfg.invert {
                    self.sep_if_needed();
                    let bytes = mat.bytes();
                    let body = bytes.strip_suffix(&[self.cfg.eol]).unwrap_or(bytes);
                    let base = mat.absolute_byte_offset();
                    let line = mat.line_number();
                    let matcher = self.matcher;
                    let mut found: Vec<(usize, usize)> = Vec::new();
                    let _ = matcher.find_iter(body, |m| {
                        if m.start() < m.end() {
                            found.push((m.start(), m.end()));
                        }
                        true
                    });
                    for (a, b) in found {
                        self.prefix(line, base + a as u64, b':', Some(a));
                        match (&self.cfg.replace, matcher) {
                            _ if self.cfg.vimgrep => self.buf.extend_from_slice(body),
                            (Some(rep), AnyMatcher::Re(m, _)) => {
                                let mut out = Vec::new();
                                replace_all(m, &body[a..b], rep, &mut out);
                                self.buf.extend_from_slice(&out);
                            }
                            _ => self.buf.extend_from_slice(&body[a..b]),
                        }
                        self.buf.push(self.cfg.eol);
                    }
                }
            }
        }
        self.limit.is_none_or(|m| self.st.count < m)
    }
}

/// `haystack` with every match of `m` replaced by `rep` (`$1`, `${name}`
/// interpolated, as ripgrep's `-r`), appended to `dst`.
fn replace_all(m: &RegexMatcher, haystack: &[u8], rep: &[u8], dst: &mut Vec<u8>) {
    let Ok(mut caps) = m.new_captures() else {
        dst.extend_from_slice(haystack);
        return;
    };
    let done = m.replace_with_captures(haystack, &mut caps, dst, |caps, dst| {
        grep_matcher::Captures::interpolate(caps, |name| m.capture_index(name), haystack, rep, dst);
        true
    });
    if done.is_err() {
        dst.clear();
        dst.extend_from_slice(haystack);
    }
}

/// ` (os error N)` after an error message, as Rust's `io::Error` (and so
/// ripgrep) prints one, for the messages Mirage's errors carry.
fn os_error_suffix(msg: &str) -> &'static str {
    match msg {
        "No such file or directory" => " (os error 2)",
        "Permission denied" => " (os error 13)",
        "Not a directory" => " (os error 20)",
        "Is a directory" => " (os error 21)",
        "Read-only file system" => " (os error 30)",
        "Too many levels of symbolic links" => " (os error 40)",
        _ => "",
    }
}

/// One grep run (shared with `rg`, which walks its own tree and hands
/// each file to [`Grep::file`]).
pub(crate) struct Grep {
    pub(crate) cfg: Arc<Cfg>,
    pub(crate) matcher: Arc<AnyMatcher>,
    pub(crate) searcher: Searcher,
    /// The searcher for streams: as `searcher`, with a heap limit.
    pub(crate) stream_searcher: Searcher,
    pub(crate) out: Vec<u8>,
    pub(crate) quiet_errors: bool,
    pub(crate) text: bool,
    pub(crate) skip_binary: bool,
    pub(crate) null_data: bool,
    pub(crate) any_printed: bool,
    pub(crate) selected: bool,
    pub(crate) error: bool,
    pub(crate) include: Option<GlobSet>,
    pub(crate) exclude: Option<GlobSet>,
    pub(crate) exclude_dir: Option<GlobSet>,
    pub(crate) recursive: bool,
    pub(crate) deref: bool,
    pub(crate) skip_dirs: bool,
    pub(crate) with_filename: Option<bool>,
    pub(crate) stdin_label: String,
}

/// What the caller should do after one input.
#[derive(PartialEq, Eq)]
pub(crate) enum Flow {
    Go,
    Stop,
}

fn build_globset(globs: &[&str]) -> Result<Option<GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let g = g.trim_end_matches('/');
        b.add(Glob::new(g).map_err(|e| e.to_string())?);
    }
    b.build().map(Some).map_err(|e| e.to_string())
}

fn matches_set(set: &Option<GlobSet>, display: &str) -> bool {
    let Some(set) = set else { return false };
    let base = display
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(display);
    set.is_match(base) || set.is_match(display)
}

fn child_display(parent: &str, name: &str, omit_dot: bool) -> String {
    if omit_dot && parent == "." {
        name.to_string()
    } else if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

impl Grep {
    /// Searches the whole input `data` and appends output.
    fn search(&mut self, data: &[u8], name: Option<&[u8]>, st: &mut FileState, binary: bool) {
        let mut sink = OutSink {
            buf: &mut self.out,
            cfg: &self.cfg,
            matcher: &self.matcher,
            name,
            st,
            binary,
            limit: self.cfg.sink_limit(),
            stopped: false,
        };
        let _ = self.searcher.search_slice(&*self.matcher, data, &mut sink);
    }

    fn begin_file(&self) -> FileState {
        FileState {
            pending_sep: self.cfg.context && self.any_printed && !self.cfg.heading,
            after_other: self.any_printed,
            ..FileState::default()
        }
    }

    /// Prints the per-file summary (`-c`, `-l`, `-L`, binary message) and
    /// sends the buffered output. Returns `Stop` on a broken pipe or a `-q` match.
    async fn end_file(
        &mut self,
        ctx: &mut CommandCtx,
        display: &str,
        name: Option<&str>,
        st: &FileState,
        binary: bool,
    ) -> Flow {
        if st.count > 0 {
            self.selected = true;
        }
        if st.printed {
            self.any_printed = true;
        }
        let term = if self.cfg.null_after_name { 0u8 } else { b'\n' };
        match self.cfg.mode {
            Mode::Quiet => {
                if st.count > 0 {
                    return Flow::Stop;
                }
            }
            Mode::Count if st.count == 0 && !self.cfg.count_zero => {}
            Mode::Count => {
                if let Some(n) = name {
                    self.out
                        .extend_from_slice(&mirage_types::bytestr::encode(n));
                    self.out
                        .push(if self.cfg.null_after_name { 0 } else { b':' });
                }
                let _ = writeln!(self.out, "{}", st.count);
            }
            Mode::FilesWith => {
                if st.count > 0 {
                    self.out
                        .extend_from_slice(&mirage_types::bytestr::encode(display));
                    self.out.push(term);
                }
            }
            Mode::FilesWithout => {
                if st.count == 0 {
                    self.out
                        .extend_from_slice(&mirage_types::bytestr::encode(display));
                    self.out.push(term);
                }
            }
            Mode::Lines | Mode::Only => {}
        }
        if binary
            && st.count > 0
            && self.cfg.rg
            && matches!(self.cfg.mode, Mode::Lines | Mode::Only)
        {
            if let Some(n) = name {
                self.out
                    .extend_from_slice(&mirage_types::bytestr::encode(n));
                self.out.extend_from_slice(b": ");
            }
            let _ = writeln!(
                self.out,
                "binary file matches (found \"\\0\" byte around offset {})",
                st.nul_offset
            );
        }
        let flow = self.flush(ctx, false).await;
        if binary
            && st.count > 0
            && !self.cfg.rg
            && matches!(self.cfg.mode, Mode::Lines | Mode::Only)
        {
            ctx.error(format!("{display}: binary file matches")).await;
        }
        flow
    }

    pub(crate) async fn flush(&mut self, ctx: &mut CommandCtx, only_if_big: bool) -> Flow {
        if self.out.is_empty() || (only_if_big && self.out.len() < 32 * 1024) {
            return Flow::Go;
        }
        let res = ctx.stdout.write(&self.out).await;
        self.out.clear();
        match res {
            Err(e) if e.kind == ErrorKind::BrokenPipe => Flow::Stop,
            _ => Flow::Go,
        }
    }

    fn is_binary(&self, data: &[u8]) -> bool {
        !self.text && !self.null_data && memchr::memchr(0, data).is_some()
    }

    /// Searches one whole buffer as the file `display`.
    async fn search_data(
        &mut self,
        ctx: &mut CommandCtx,
        display: &str,
        show_name: bool,
        data: &[u8],
    ) -> Flow {
        let binary = self.is_binary(data);
        if binary && self.skip_binary {
            let st = self.begin_file();
            return self
                .end_file(ctx, display, show_name.then_some(display), &st, false)
                .await;
        }
        let mut st = self.begin_file();
        if binary {
            st.nul_offset = memchr::memchr(0, data).unwrap_or(0) as u64;
        }
        let name = show_name.then_some(display);
        let encoded = name.map(mirage_types::bytestr::encode);
        self.search(data, encoded.as_deref(), &mut st, binary);
        self.end_file(ctx, display, name, &st, binary).await
    }

    /// Searches standard input (see [`Grep::search_source`]).
    pub(crate) async fn search_stdin(&mut self, ctx: &mut CommandCtx, show_name: bool) -> Flow {
        let input = std::mem::replace(&mut ctx.stdin, Input::empty());
        let label = self.stdin_label.clone();
        // dropping the rest of the input at the end closes the pipe
        self.search_source(ctx, &label, show_name, input.into_source())
            .await
    }

    /// Searches one input. Bytes already in memory (a RAM file) and short
    /// streams are searched as one slice; a longer stream is searched as
    /// it arrives by [`Grep::search_stream`], with bounded memory.
    async fn search_source(
        &mut self,
        ctx: &mut CommandCtx,
        display: &str,
        show_name: bool,
        src: ByteSource,
    ) -> Flow {
        let mut stream = match src {
            ByteSource::Bytes(b) => return self.search_data(ctx, display, show_name, &b).await,
            ByteSource::Stream(s) => s,
        };
        let mut head: Vec<Bytes> = Vec::new();
        let mut held = 0usize;
        let mut error = None;
        let mut ended = false;
        while held < SLICE_LIMIT {
            match stream.next().await {
                Some(Ok(b)) => {
                    held += b.len();
                    head.push(b);
                }
                Some(Err(e)) => {
                    error = Some(e);
                    break;
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if let Some(e) = error {
            // what was read before the error is searched, then the error told
            let data = concat(head);
            let flow = self.search_data(ctx, display, show_name, &data).await;
            self.file_error(ctx, display, e.message()).await;
            return flow;
        }
        if ended {
            let data = concat(head);
            return self.search_data(ctx, display, show_name, &data).await;
        }
        self.search_stream(ctx, display, show_name, head, stream)
            .await
    }

    /// Searches a stream that does not fit [`SLICE_LIMIT`]: `grep-searcher`
    /// runs on a blocking thread over a reader fed with the chunks (`head`
    /// first), through a channel of a few chunks; output comes back in
    /// blocks of about 32 KiB. When the search stops early (`-m`, `-q`,
    /// `-l`, a match in binary data) no more chunks are pulled; when the
    /// reader of stdout has gone, both sides stop.
    async fn search_stream(
        &mut self,
        ctx: &mut CommandCtx,
        display: &str,
        show_name: bool,
        head: Vec<Bytes>,
        mut stream: ByteStream,
    ) -> Flow {
        let (in_tx, in_rx) = tokio::sync::mpsc::channel::<Bytes>(STREAM_CHUNKS);
        let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
        let job = StreamJob {
            cfg: self.cfg.clone(),
            matcher: self.matcher.clone(),
            searcher: self.stream_searcher.clone(),
            st: self.begin_file(),
            name: show_name.then(|| mirage_types::bytestr::encode(display).into_owned()),
            detect_binary: !self.text && !self.null_data,
            skip_binary: self.skip_binary,
        };
        let task = tokio::task::spawn_blocking(move || job.run(in_rx, out_tx));
        let mut in_tx = Some(in_tx);
        let mut pending: std::collections::VecDeque<Bytes> = head.into();
        let mut src_done = false;
        let mut read_error = None;
        /// What one turn of the loop below saw.
        enum Step {
            Go,
            OutDone,
            Broken,
            InClosed,
            ReadFailed(mirage_types::Error),
        }
        loop {
            let step = tokio::select! {
                biased;
                out = out_rx.recv() => match out {
                    Some(block) => match ctx.stdout.write(&block).await {
                        Err(e) if e.kind == ErrorKind::BrokenPipe => Step::Broken,
                        _ => Step::Go,
                    },
                    None => Step::OutDone,
                },
                permit = async { in_tx.as_ref()?.reserve().await.ok() }, if !pending.is_empty() => {
                    match permit {
                        Some(permit) => {
                            if let Some(b) = pending.pop_front() {
                                permit.send(b);
                            }
                            Step::Go
                        }
                        // the search ended early: read no more
                        None => Step::InClosed,
                    }
                }
                next = stream.next(), if pending.is_empty() && !src_done => match next {
                    Some(Ok(b)) => {
                        pending.push_back(b);
                        Step::Go
                    }
                    Some(Err(e)) => Step::ReadFailed(e),
                    None => Step::InClosed,
                },
            };
            match step {
                Step::Go => {}
                Step::OutDone => break,
                // the reader has gone: the thread sees both channels
                // closed and ends
                Step::Broken => return Flow::Stop,
                Step::InClosed => {
                    pending.clear();
                    src_done = true;
                    in_tx = None;
                }
                Step::ReadFailed(e) => {
                    read_error = Some(e);
                    pending.clear();
                    src_done = true;
                    in_tx = None;
                }
            }
        }
        drop(in_tx);
        drop(stream);
        let Ok((st, binary, rest, exhausted)) = task.await else {
            self.file_error(ctx, display, "search failed").await;
            return Flow::Go;
        };
        self.out.extend_from_slice(&rest);
        if exhausted {
            // as GNU grep, which stops at once
            let _ = self.flush(ctx, false).await;
            ctx.error("memory exhausted").await;
            self.error = true;
            return Flow::Stop;
        }
        if let Some(e) = read_error {
            self.file_error(ctx, display, e.message()).await;
        }
        let name = show_name.then_some(display);
        self.end_file(ctx, display, name, &st, binary).await
    }

    pub(crate) async fn file_error(&mut self, ctx: &mut CommandCtx, display: &str, msg: &str) {
        self.error = true;
        if !self.quiet_errors {
            let _ = self.flush(ctx, false).await;
            if self.cfg.rg {
                let _ = ctx.stdout.flush().await;
                let line = format!("{display}: {msg}{}\n", os_error_suffix(msg));
                let _ = ctx
                    .stderr
                    .write(&mirage_types::bytestr::encode(&line))
                    .await;
                let _ = ctx.stderr.flush().await;
            } else {
                ctx.error(format!("{display}: {msg}")).await;
            }
        }
    }

    fn show_name(&self, default: bool) -> bool {
        self.with_filename.unwrap_or(default)
    }

    /// Searches a file operand (or a directory, recursively).
    async fn operand(
        &mut self,
        ctx: &mut CommandCtx,
        operand: &str,
        multi: bool,
        omit_dot: bool,
    ) -> Flow {
        if operand == "-" {
            let show = self.show_name(multi);
            return self.search_stdin(ctx, show).await;
        }
        let abs = ctx.resolve(operand);
        if self.recursive && !self.skip_dirs {
            // one recursive listing of the tree where the mount can (a hint)
            let _ = ctx.vfs.prefetch_tree(&abs, true).await;
        }
        let st = match ctx.vfs.stat(&abs).await {
            Ok(s) => s,
            Err(e) => {
                self.file_error(ctx, operand, e.message()).await;
                return Flow::Go;
            }
        };
        if st.is_dir() {
            if self.skip_dirs {
                return Flow::Go;
            }
            if !self.recursive {
                self.file_error(ctx, operand, ErrorKind::IsADirectory.gnu_message())
                    .await;
                return Flow::Go;
            }
            if !omit_dot && matches_set(&self.exclude_dir, operand) && operand != "." {
                return Flow::Go;
            }
            let show = self.show_name(true);
            return self.walk(ctx, operand, &abs, show, omit_dot).await;
        }
        if matches_set(&self.exclude, operand)
            || (self.include.is_some() && !matches_set(&self.include, operand))
        {
            return Flow::Go;
        }
        let show = self.show_name(multi);
        self.file(ctx, operand, &abs, show).await
    }

    pub(crate) async fn file(
        &mut self,
        ctx: &mut CommandCtx,
        display: &str,
        abs: &str,
        show: bool,
    ) -> Flow {
        let src = match ctx.vfs.read(abs).await {
            Ok(src) => src,
            Err(e) => {
                self.file_error(ctx, display, e.message()).await;
                return Flow::Go;
            }
        };
        // recorded without the linear duplicate check of `IOResult::read`
        // (quadratic over a tree); `run` removes duplicates at the end
        ctx.io.reads.push(abs.to_string());
        self.search_source(ctx, display, show, src).await
    }

    /// Walks the directory `abs` in pre-order, entries sorted by name.
    async fn walk(
        &mut self,
        ctx: &mut CommandCtx,
        display: &str,
        abs: &str,
        show: bool,
        omit_dot: bool,
    ) -> Flow {
        // stack of (display, abs) directories to list, plus files to search
        // With -R, a directory carries the real paths of those above it: one
        // reached again through a link is a loop (GNU: `warning: recursive
        // directory loop`, skipped, status unchanged).
        enum Item {
            Dir(String, String, std::sync::Arc<Vec<String>>),
            File(String, String),
        }
        let mut stack = vec![Item::Dir(
            display.to_string(),
            abs.to_string(),
            Default::default(),
        )];
        while let Some(item) = stack.pop() {
            match item {
                Item::File(d, a) => {
                    if self.file(ctx, &d, &a, show).await == Flow::Stop {
                        return Flow::Stop;
                    }
                }
                Item::Dir(d, a, ancestors) => {
                    let mut ancestors = ancestors;
                    if self.deref {
                        let real = ctx.vfs.realpath(&a).await.unwrap_or_else(|_| a.clone());
                        if ancestors.contains(&real) {
                            let _ = self.flush(ctx, false).await;
                            ctx.error(format!("{d}: warning: recursive directory loop"))
                                .await;
                            continue;
                        }
                        let mut v = (*ancestors).clone();
                        v.push(real);
                        ancestors = std::sync::Arc::new(v);
                    }
                    let entries = match ctx.vfs.readdir(&a).await {
                        Ok(e) => e,
                        Err(e) => {
                            self.file_error(ctx, &d, e.message()).await;
                            continue;
                        }
                    };
                    let mut children = Vec::with_capacity(entries.len());
                    for ent in entries {
                        let cd = child_display(&d, &ent.name, omit_dot);
                        let ca = if a == "/" {
                            format!("/{}", ent.name)
                        } else {
                            format!("{a}/{}", ent.name)
                        };
                        // a broken or looping link is an error (GNU: status 2)
                        let deref = self.deref;
                        let Some(ft) = self.entry_type(ctx, ent.file_type, deref, &cd, &ca).await
                        else {
                            continue;
                        };
                        match ft {
                            FileType::Directory => {
                                if matches_set(&self.exclude_dir, &ent.name) {
                                    continue;
                                }
                                children.push(Item::Dir(cd, ca, ancestors.clone()));
                            }
                            FileType::File => {
                                if matches_set(&self.exclude, &ent.name)
                                    || (self.include.is_some()
                                        && !matches_set(&self.include, &ent.name))
                                {
                                    continue;
                                }
                                children.push(Item::File(cd, ca));
                            }
                            FileType::Symlink => {}
                        }
                    }
                    stack.extend(children.into_iter().rev());
                }
            }
        }
        Flow::Go
    }
}

/// Drops repeated paths from `reads`, keeping the first of each (what
/// `IOResult::read` does one path at a time, in linear time overall).
fn dedup_reads(reads: &mut Vec<String>) {
    if reads.len() < 2 {
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(reads.len());
    let keep: Vec<bool> = reads.iter().map(|r| seen.insert(r.as_str())).collect();
    drop(seen);
    let mut keep = keep.into_iter();
    reads.retain(|_| keep.next().unwrap_or(true));
}

fn parse_num(ctx_name: &str, v: &str, what: &str) -> Result<u64, String> {
    let _ = ctx_name;
    v.trim()
        .parse::<u64>()
        .map_err(|_| format!("invalid {what} argument"))
}

pub(crate) fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let mut operands = p.operands.clone();
        let mut patterns: Vec<String> = Vec::new();
        // `-F`: the patterns stay bytes in one buffer, each ended by `\n`
        // (a million patterns are never a million `String`s)
        // two different matchers (`-E -F`, or `egrep -F`): GNU refuses them
        let matchers = ["extended", "fixed", "basic", "perl"];
        if matchers.iter().filter(|m| p.has(m)).count() > 1 {
            ctx.error("conflicting matchers specified").await;
            return 2;
        }
        let fixed = p.last_of(&["extended", "fixed", "basic", "perl"]) == Some("fixed");
        let mut fixed_buf: Vec<u8> = Vec::new();
        let mut have_pattern_opt = false;
        for (k, v) in &p.opts {
            match (*k, v) {
                ("regexp", Some(v)) if fixed => {
                    have_pattern_opt = true;
                    fixed_set::push_patterns(&mut fixed_buf, &mirage_types::bytestr::encode(v));
                }
                ("regexp", Some(v)) => {
                    have_pattern_opt = true;
                    patterns.extend(v.split('\n').map(str::to_string));
                }
                ("file", Some(f)) => {
                    have_pattern_opt = true;
                    let data = if f == "-" {
                        let mut input = std::mem::replace(&mut ctx.stdin, Input::empty());
                        input.read_all().await.map_err(|e| e.message().to_string())
                    } else {
                        match ctx.read_path(f).await {
                            Ok(src) => src.collect().await.map_err(|e| e.message().to_string()),
                            Err(e) => Err(e.message().to_string()),
                        }
                    };
                    match data {
                        Ok(d) if fixed => fixed_set::push_pattern_file(&mut fixed_buf, d),
                        Ok(d) => {
                            let text = mirage_types::bytestr::decode(&d);
                            let text = text.strip_suffix('\n').unwrap_or(&text);
                            if !d.is_empty() {
                                patterns.extend(text.split('\n').map(str::to_string));
                            }
                        }
                        Err(msg) => {
                            ctx.error(format!("{f}: {msg}")).await;
                            return 2;
                        }
                    }
                }
                _ => {}
            }
        }
        if !have_pattern_opt {
            if operands.is_empty() {
                let _ = ctx.stdout.flush().await;
                let _ = ctx
                    .stderr
                    .write(b"Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
                    .await;
                let _ = ctx.stderr.flush().await;
                return 2;
            }
            let pat = operands.remove(0);
            if fixed {
                fixed_set::push_patterns(&mut fixed_buf, &mirage_types::bytestr::encode(&pat));
            } else {
                patterns.extend(pat.split('\n').map(str::to_string));
            }
        }
        let syntax = match p.last_of(&["extended", "fixed", "basic", "perl"]) {
            Some("extended") => Syntax::Extended,
            Some("fixed") => Syntax::Fixed,
            Some("perl") => Syntax::Perl,
            _ => Syntax::Basic,
        };
        let mode = Mode::from_args(&p, p.has("only-matching"), false);
        let num = |key: &str, what: &str| -> Result<Option<u64>, String> {
            match p.value(key) {
                Some(v) => parse_num("grep", v, what).map(Some),
                None => Ok(None),
            }
        };
        let (ctx_all, after, before, max_count) = match (
            num("context", "context length"),
            num("after", "context length"),
            num("before", "context length"),
            {
                match p.value("max-count") {
                    Some(v) => v
                        .trim()
                        .parse::<i64>()
                        .map(Some)
                        .map_err(|_| "invalid max count".to_string()),
                    None => Ok(None),
                }
            },
        ) {
            (Ok(c), Ok(a), Ok(b), Ok(m)) => (c, a, b, m),
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
                ctx.error(e).await;
                return 2;
            }
        };
        let max_count = max_count.and_then(|m| if m < 0 { None } else { Some(m as u64) });
        let after = after.or(ctx_all).unwrap_or(0) as usize;
        let before = before.or(ctx_all).unwrap_or(0) as usize;
        let context = (after > 0 || before > 0) && matches!(mode, Mode::Lines | Mode::Only);
        let null_data = p.has("null-data");
        let eol = if null_data { 0u8 } else { b'\n' };
        let ignore_case = p.has("ignore-case")
            && p.last_of(&["ignore-case", "no-ignore-case"]) == Some("ignore-case");
        // No pattern at all (`-f /dev/null`): GNU sees that nothing can match
        // and exits 1 at once, printing nothing (not even `-c` counts), unless
        // `-v` (every line) or `-L` (every file)
        if patterns.is_empty()
            && fixed_buf.is_empty()
            && !p.has("invert")
            && mode != Mode::FilesWithout
        {
            return 1;
        }

        // `-F` with several patterns (`-F -f words.txt`): a literal set whose
        // memory is on the order of the pattern bytes; other `-F` runs (one
        // pattern, non-ASCII `-i`, invalid UTF-8) take the regex path
        let mut literal_set = None;
        if fixed {
            let opts = fixed_set::Options {
                ignore_case,
                anchor: if p.has("line") {
                    Anchor::Line
                } else if p.has("word") {
                    Anchor::Word
                } else {
                    Anchor::Anywhere
                },
                eol,
            };
            if fixed_set::pattern_count(&fixed_buf) > 1 && FixedSet::supports(&fixed_buf, &opts) {
                match FixedSet::new(std::mem::take(&mut fixed_buf), opts) {
                    Ok(set) => literal_set = Some(set),
                    Err(buf) => fixed_buf = buf,
                }
            }
            if literal_set.is_none() {
                let body = fixed_buf.strip_suffix(b"\n").unwrap_or(&fixed_buf);
                if !fixed_buf.is_empty() {
                    patterns.extend(
                        body.split(|&b| b == b'\n')
                            .map(|p| mirage_types::bytestr::decode(p).into_owned()),
                    );
                }
            }
        }
        let combined = if literal_set.is_some() {
            Ok(String::new())
        } else {
            combine_patterns(&patterns, syntax)
        };
        let mopts = MatchOpts {
            ignore_case,
            line: p.has("line"),
            word: p.has("word"),
            eol,
        };
        let matcher = match (literal_set, combined) {
            (Some(set), _) => AnyMatcher::Fixed(Box::new(set)),
            (None, _) => match build_matcher(&patterns, syntax, mopts) {
                Ok(m) => m,
                Err(msg) => {
                    let msg = msg
                        .lines()
                        .last()
                        .unwrap_or("invalid regular expression")
                        .trim()
                        .to_string();
                    ctx.error(msg).await;
                    return 2;
                }
            },
        };
        let globs = |key: &str| p.values(key);
        let (include, exclude, exclude_dir) = match (
            build_globset(&globs("include")),
            build_globset(&globs("exclude")),
            build_globset(&globs("exclude-dir")),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                ctx.error(e).await;
                return 2;
            }
        };
        let binary_files = p.value("binary-files");
        let recursive = p.has("recursive")
            || p.has("deref-recursive")
            || p.value("directories") == Some("recurse");
        let with_filename = match p.last_of(&["with-filename", "no-filename"]) {
            Some("with-filename") => Some(true),
            Some(_) => Some(false),
            None => None,
        };
        let cfg = Cfg {
            mode,
            line_number: p.has("line-number")
                && p.last_of(&["line-number", "no-line-number"]) == Some("line-number"),
            byte_offset: p.has("byte-offset"),
            invert: p.has("invert"),
            null_after_name: p.has("null"),
            eol,
            context,
            max_count,
            group_sep: if p.has("no-group-separator") {
                None
            } else {
                Some(
                    p.value("group-separator")
                        .unwrap_or("--")
                        .as_bytes()
                        .to_vec(),
                )
            },
            initial_tab: p.has("initial-tab"),
            count_zero: true,
            replace: None,
            rg: false,
            heading: false,
            column: false,
            vimgrep: false,
        };
        // the stream searcher holds at most STREAM_LINE_LIMIT bytes of one
        // line (`grep x /dev/zero` must not take all memory; GNU grep:
        // `memory exhausted`)
        let mut g = Grep {
            quiet_errors: p.has("no-messages"),
            text: p.has("text") || binary_files == Some("text"),
            skip_binary: p.has("skip-binary") || binary_files == Some("without-match"),
            include,
            exclude,
            exclude_dir,
            recursive,
            deref: p.has("deref-recursive"),
            skip_dirs: p.value("directories") == Some("skip"),
            with_filename,
            stdin_label: p.value("label").unwrap_or("(standard input)").to_string(),
            ..Grep::new(cfg, matcher, after, before)
        };
        if max_count == Some(0) {
            return 1;
        }
        let omit_dot = operands.is_empty() && recursive;
        if operands.is_empty() {
            operands.push(if recursive {
                ".".to_string()
            } else {
                "-".to_string()
            });
        }
        let multi = operands.len() > 1;
        for op in &operands {
            if g.operand(ctx, op, multi, omit_dot).await == Flow::Stop {
                break;
            }
        }
        let _ = g.flush(ctx, false).await;
        dedup_reads(&mut ctx.io.reads);
        if g.cfg.mode == Mode::Quiet && g.selected {
            return 0;
        }
        if g.error {
            2
        } else if g.selected {
            0
        } else {
            1
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_match(re: &str, s: &str) -> bool {
        regex::Regex::new(re).unwrap().is_match(s)
    }

    #[test]
    fn reads_keep_the_first_of_each_path() {
        let mut r: Vec<String> = ["/a", "/b", "/a", "/c", "/b"].map(String::from).to_vec();
        dedup_reads(&mut r);
        assert_eq!(r, ["/a", "/b", "/c"]);
    }

    #[test]
    fn combine_multiple_and_fixed() {
        let s = combine_patterns(&["a.b*".to_string()], Syntax::Fixed).unwrap();
        assert!(is_match(&s, "a.b*c") && !is_match(&s, "axbbb"));
        let m = combine_patterns(&["-v".into(), "--help".into()], Syntax::Basic).unwrap();
        assert!(is_match(&m, "see --help"));
        let none = combine_patterns(&[], Syntax::Basic).unwrap();
        assert!(!is_match(&none, "anything"));
    }

    use crate::util::testing::{MemVfs, run as run_cmd};

    const APP: &str = "l1 INFO start\nl2 WARN slow query\nl3 ERROR failed\nl4 INFO retry\nl5 ERROR again\nl6 INFO x\nl7 INFO y\nl8 WARN dep\nl9 ERROR lost\nl10 INFO back\n";

    fn g(
        vfs: &std::sync::Arc<MemVfs>,
        args: &[&str],
        cwd: &str,
        stdin: &str,
    ) -> (String, String, i32) {
        run_cmd(vfs, run, "grep", args, cwd, stdin)
    }

    #[test]
    fn basic_count_and_status() {
        let v = MemVfs::with(&[("/d/app.log", APP), ("/d/a.txt", "foo bar\n")]);
        assert_eq!(
            g(&v, &["ERROR", "/d/app.log"], "/", "").0,
            "l3 ERROR failed\nl5 ERROR again\nl9 ERROR lost\n"
        );
        assert_eq!(
            g(&v, &["-c", "nomatch", "/d/app.log"], "/", ""),
            ("0\n".into(), String::new(), 1)
        );
        let (o, e, s) = g(&v, &["foo", "/d/a.txt", "/d/missing.txt"], "/", "");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "/d/a.txt:foo bar\n",
                "grep: /d/missing.txt: No such file or directory\n",
                2
            )
        );
        let (_, e, s) = g(&v, &["foo", "/d"], "/", "");
        assert_eq!((e.as_str(), s), ("grep: /d: Is a directory\n", 2));
        assert_eq!(g(&v, &["-q", "foo", "/nope", "/d/a.txt"], "/", "").2, 0);
        assert_eq!(
            g(&v, &["-m", "1", "-n", "INFO", "/d/app.log"], "/", "").0,
            "1:l1 INFO start\n"
        );
    }

    #[test]
    fn context_and_separators() {
        let v = MemVfs::with(&[("/d/app.log", APP)]);
        let (o, _, _) = g(&v, &["-n", "-C", "1", "ERROR", "/d/app.log"], "/", "");
        assert_eq!(
            o,
            "2-l2 WARN slow query\n3:l3 ERROR failed\n4-l4 INFO retry\n5:l5 ERROR again\n6-l6 INFO x\n--\n8-l8 WARN dep\n9:l9 ERROR lost\n10-l10 INFO back\n"
        );
        let seq: String = (1..=20).map(|i| format!("{i}\n")).collect();
        assert_eq!(
            g(&v, &["-A", "1", "-E", "^(3|9|10)$"], "/", &seq).0,
            "3\n4\n--\n9\n10\n11\n"
        );
    }

    #[test]
    fn recursive_and_filters() {
        let v = MemVfs::with(&[
            ("/p/src/main.py", "import sys\n# TODO: x\ndef main():\n"),
            ("/p/src/web/h.js", "function a() {}\n// FIXME\n"),
            ("/p/tests/t.py", "def test():\n    # TODO: more\n"),
            ("/p/README.md", "make it\n"),
        ]);
        assert_eq!(
            g(&v, &["-rn", "def ", "."], "/p", "").0,
            "./src/main.py:3:def main():\n./tests/t.py:1:def test():\n"
        );
        assert_eq!(
            g(&v, &["-r", "TODO"], "/p", "").0,
            "src/main.py:# TODO: x\ntests/t.py:    # TODO: more\n"
        );
        assert_eq!(
            g(&v, &["-rc", "TODO", "src"], "/p", "").0,
            "src/main.py:1\nsrc/web/h.js:0\n"
        );
        assert_eq!(
            g(&v, &["-rl", "--exclude-dir=tests", "TODO", "."], "/p", "").0,
            "./src/main.py\n"
        );
        assert_eq!(
            g(
                &v,
                &["-r", "--include=*.js", "-c", "function", "/p"],
                "/",
                ""
            )
            .0,
            "/p/src/web/h.js:1\n"
        );
        assert_eq!(
            g(&v, &["-L", "TODO", "src/main.py", "README.md"], "/p", "").0,
            "README.md\n"
        );
    }

    #[test]
    fn only_matching_words_lines_and_binary() {
        let v = MemVfs::with(&[
            ("/s.txt", "Apple pie\napple juice\nPineapple\napple\n"),
            ("/bin", "x\0needle\n"),
        ]);
        assert_eq!(
            g(&v, &["-oE", "[0-9]+"], "/", "a1 b22 c333 d\n").0,
            "1\n22\n333\n"
        );
        assert_eq!(
            g(&v, &["-w", "apple", "/s.txt"], "/", "").0,
            "apple juice\napple\n"
        );
        assert_eq!(g(&v, &["-x", "apple", "/s.txt"], "/", "").0, "apple\n");
        assert_eq!(g(&v, &["-ci", "apple", "/s.txt"], "/", "").0, "4\n");
        let (o, e, s) = g(&v, &["needle", "/bin"], "/", "");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("", "grep: /bin: binary file matches\n", 0)
        );
        assert_eq!(
            g(&v, &["-H", "--label=input", "stdin"], "/", "from stdin\n").0,
            "input:from stdin\n"
        );
        assert_eq!(
            g(
                &v,
                &["-e", "-v", "-e", "--help"],
                "/",
                "use -v\nno\nsee --help\n"
            )
            .0,
            "use -v\nsee --help\n"
        );
        assert_eq!(g(&v, &["-b", "-o", "b"], "/", "ab\nab\n").0, "1:b\n4:b\n");
        assert_eq!(
            g(&v, &["-z", "two"], "/", "one\0two words\0three\0").0,
            "two words\0"
        );
        assert_eq!(g(&v, &["-c", ""], "/", "a\n\nb\n").0, "3\n");
    }

    #[test]
    fn back_references() {
        let v = MemVfs::with(&[("/w.txt", "hello\nworld\nbook\nabab\nabc\n")]);
        assert_eq!(
            g(&v, &["-E", "(.)\\1", "/w.txt"], "/", "").0,
            "hello\nbook\n"
        );
        assert_eq!(g(&v, &["\\(ab\\)\\1", "/w.txt"], "/", "").0, "abab\n");
        assert_eq!(g(&v, &["-o", "\\(l\\)\\1", "/w.txt"], "/", "").0, "ll\n");
        assert_eq!(
            g(&v, &["-c", "-i", "\\(O\\)\\1", "/w.txt"], "/", "").0,
            "1\n"
        );
        assert_eq!(
            g(&v, &["-n", "^\\(b\\)\\1$"], "/", "x\nbb\nabb\n").0,
            "2:bb\n"
        );
    }

    #[test]
    fn fixed_strings_from_a_big_pattern_file() {
        let mut pats = String::new();
        for n in 0..200_000 {
            pats.push_str(&format!("w{n}\n"));
        }
        pats.push_str("w5\nw7");
        let input = "w199999\nw200000\nnothing here\nxw7y\nW5\n";
        let v = MemVfs::with(&[("/p", pats.as_str()), ("/in", input)]);
        let run = |args: &[&str]| g(&v, args, "/", "");
        assert_eq!(run(&["-c", "-F", "-f", "/p", "/in"]).0, "3\n");
        assert_eq!(run(&["-cx", "-F", "-f", "/p", "/in"]).0, "1\n");
        assert_eq!(run(&["-cw", "-F", "-f", "/p", "/in"]).0, "1\n");
        assert_eq!(run(&["-ci", "-F", "-f", "/p", "/in"]).0, "4\n");
        assert_eq!(run(&["-cv", "-F", "-f", "/p", "/in"]).0, "2\n");
        assert_eq!(
            run(&["-on", "-F", "-f", "/p", "-e", "here", "/in"]).0,
            "1:w199999\n2:w20000\n3:here\n4:w7\n"
        );
        assert_eq!(run(&["-l", "-F", "-f", "/p", "/in", "/p"]).0, "/in\n/p\n");
        let (o, e, s) = run(&["-c", "-F", "-f", "/missing", "/in"]);
        assert_eq!((o.as_str(), s), ("", 2));
        assert!(e.contains("/missing: No such file or directory"), "{e}");
    }

    #[test]
    fn perl_look_around_and_conflicting_matchers() {
        let v = MemVfs::with(&[("/d/f", "slow 1532ms\nport 80\n\u{e9}t\u{e9} 5ms\n")]);
        assert_eq!(
            g(&v, &["-oP", r"\d+(?=ms)", "/d/f"], "/", "").0,
            "1532\n5\n"
        );
        assert_eq!(
            g(&v, &["-P", r"(?<!\w)port", "/d/f"], "/", "").0,
            "port 80\n"
        );
        assert_eq!(
            g(&v, &["-xP", r"port (?=8)\d+", "/d/f"], "/", "").0,
            "port 80\n"
        );
        let (o, e, s) = g(&v, &["-E", "-F", "x", "/d/f"], "/", "");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("", "grep: conflicting matchers specified\n", 2)
        );
        assert_eq!(g(&v, &["-E", "-E", "port", "/d/f"], "/", "").2, 0);
    }
}
