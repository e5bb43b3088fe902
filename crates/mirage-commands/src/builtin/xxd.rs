//! `xxd`: hex dumps and their reverse, as vim 9's `xxd` (2022-01-14):
//! the normal dump (`-c COLS`, `-g BYTES`, `-u`, `-d`, `-o OFF`), `-p`
//! plain hex, `-i` C include style (`-n NAME`, `-C`), `-b` bits, `-l LEN`,
//! `-s [+][-]SEEK`, and `-r` (with or without `-p`) turning a dump back
//! into bytes. Options are xxd's own single-dash words (`-ps`, `-cols 8`,
//! `-c8`); `xxd [options] [infile [outfile]]`.
//!
//! It streams: input is dumped chunk by chunk, carrying at most one partial
//! line, and `-r` writes each line's bytes as it reads it. An outfile is
//! written through the VFS as the output is produced.

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind, Output};
use tokio::sync::mpsc;

use crate::util::open_input_err;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("a", Some('a'), None),
    OptSpec::flag("b", Some('b'), None),
    OptSpec::flag("C", Some('C'), None),
    OptSpec::value("c", Some('c'), None),
    OptSpec::flag("d", Some('d'), None),
    OptSpec::value("g", Some('g'), None),
    OptSpec::flag("i", Some('i'), None),
    OptSpec::value("l", Some('l'), None),
    OptSpec::value("n", Some('n'), None),
    OptSpec::value("o", Some('o'), None),
    OptSpec::flag("p", Some('p'), None),
    OptSpec::flag("r", Some('r'), None),
    OptSpec::value("s", Some('s'), None),
    OptSpec::flag("u", Some('u'), None),
];

/// The spec of `xxd` (for `--help` and discovery; the arguments are parsed
/// by xxd's own rules).
pub static SPEC: CommandSpec = CommandSpec::new("xxd", OPTS, PathOperands::All);

crate::register_command!("xxd", SPEC, run, true);

/// xxd's usage text (stderr, status 1, for a bad option or value).
const USAGE: &str = "Usage:
       xxd [options] [infile [outfile]]
    or
       xxd -r [-s [-]offset] [-c cols] [-ps] [infile [outfile]]
Options:
    -a          toggle autoskip: A single '*' replaces nul-lines. Default off.
    -b          binary digit dump (incompatible with -ps,-i,-r). Default hex.
    -C          capitalize variable names in C include file style (-i).
    -c cols     format <cols> octets per line. Default 16 (-i: 12, -ps: 30).
    -E          show characters in EBCDIC. Default ASCII.
    -e          little-endian dump (incompatible with -ps,-i,-r).
    -g bytes    number of octets per group in normal output. Default 2 (-e: 4).
    -h          print this summary.
    -i          output in C include file style.
    -l len      stop after <len> octets.
    -n name     set the variable name used in C include output (-i).
    -o off      add <off> to the displayed file position.
    -ps         output in postscript plain hexdump style.
    -r          reverse operation: convert (or patch) hexdump into binary.
    -r -s off   revert with <off> added to file positions found in hexdump.
    -d          show offset in decimal instead of hex.
    -s [+][-]seek  start at <seek> bytes abs. (or +: rel.) infile offset.
    -u          use upper case hex letters.
    -v          show version: \"xxd 2022-01-14 by Juergen Weigert et al.\".
";

/// The dump style.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Normal,
    Plain,
    Include,
    Bits,
}

/// xxd's settings after argument parsing.
#[derive(Debug)]
struct Opts {
    style: Style,
    little_endian: bool,
    autoskip: bool,
    cols: Option<i64>,
    group: Option<i64>,
    upper: bool,
    decimal: bool,
    capitalize: bool,
    reverse: bool,
    len: Option<i64>,
    name: Option<String>,
    display_off: i64,
    seek: Option<(bool, bool, i64)>,
    infile: Option<String>,
    outfile: Option<String>,
}

/// What argument parsing asks for instead of a dump.
enum ParseEnd {
    Usage,
    Version,
    Error(String),
}

/// `strtol(s, NULL, 0)` as C reads it: optional sign, `0x` hex, leading `0`
/// octal, digits up to the first bad one (0 when none).
fn strtol(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.starts_with('0') {
        (8, s)
    } else {
        (10, s)
    };
    let mut v: i64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        v = v
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    if neg { -v } else { v }
}

/// Parses xxd's arguments: options are matched by their first letter after
/// `-` (as xxd does), value options take the rest of the word or the next
/// argument.
fn parse_opts(args: &[String]) -> Result<Opts, ParseEnd> {
    let mut o = Opts {
        style: Style::Normal,
        little_endian: false,
        autoskip: false,
        cols: None,
        group: None,
        upper: false,
        decimal: false,
        capitalize: false,
        reverse: false,
        len: None,
        name: None,
        display_off: 0,
        seek: None,
        infile: None,
        outfile: None,
    };
    let mut i = 0;
    let mut operands = Vec::new();
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if !a.starts_with('-') || a == "-" {
            operands.push(a.clone());
            continue;
        }
        let letter = a.as_bytes().get(1).copied().unwrap_or(b'-');
        // value options: the attached rest unless it is the long word's tail
        let long_tail = |word: &str| a.len() > 2 && word.starts_with(&a[2..]);
        let mut value = |word: &str| -> Result<String, ParseEnd> {
            if a.len() > 2 && !long_tail(word) {
                Ok(a[2..].to_string())
            } else {
                let v = args.get(i).cloned().ok_or(ParseEnd::Usage)?;
                i += 1;
                Ok(v)
            }
        };
        match letter {
            b'a' => o.autoskip = !o.autoskip,
            b'b' => o.style = Style::Bits,
            b'e' => o.little_endian = true,
            b'E' => return Err(ParseEnd::Error("EBCDIC (-E) is not supported".into())),
            b'u' => o.upper = true,
            b'p' => o.style = Style::Plain,
            b'i' => o.style = Style::Include,
            b'd' => o.decimal = true,
            b'r' => o.reverse = true,
            b'v' => return Err(ParseEnd::Version),
            b'h' => return Err(ParseEnd::Usage),
            b'C' => o.capitalize = true,
            b'c' => {
                if a.len() > 2 && "apitalize".starts_with(&a[2..]) {
                    o.capitalize = true;
                } else {
                    o.cols = Some(strtol(&value("ols")?));
                }
            }
            b'g' => o.group = Some(strtol(&value("roupsize")?)),
            b'o' => o.display_off = strtol(&value("ffset")?),
            b'l' => o.len = Some(strtol(&value("en")?)),
            b'n' => o.name = Some(value("ame")?),
            b's' => {
                let v = value("eek")?;
                let t = v.trim_start();
                let rel = t.starts_with('+');
                let t = t.trim_start_matches('+');
                let from_end = t.starts_with('-');
                o.seek = Some((rel, from_end, strtol(t).abs()));
            }
            _ => return Err(ParseEnd::Usage),
        }
    }
    let mut ops = operands.into_iter();
    o.infile = ops.next().filter(|f| f != "-");
    o.outfile = ops.next().filter(|f| f != "-");
    if ops.next().is_some() {
        return Err(ParseEnd::Usage);
    }
    Ok(o)
}

/// Where output goes: stdout, or a channel feeding the outfile's writer.
pub(crate) enum Emit<'a> {
    /// The command's stdout.
    Stdout(&'a mut Output),
    /// The sending end of an outfile's writer.
    File(mpsc::Sender<Bytes>),
}

impl Emit<'_> {
    /// Sends `data`; `false` when the reader went away (stop quietly).
    pub(crate) async fn send(&mut self, data: &[u8]) -> bool {
        if data.is_empty() {
            return true;
        }
        match self {
            Emit::Stdout(o) => match o.write(data).await {
                Ok(()) => true,
                Err(e) => e.kind != ErrorKind::BrokenPipe,
            },
            Emit::File(tx) => tx.send(Bytes::copy_from_slice(data)).await.is_ok(),
        }
    }
}

/// A byte source fed by the receiving end of a channel.
pub(crate) fn channel_source(rx: mpsc::Receiver<Bytes>) -> ByteSource {
    let s = futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) },
    )
    .boxed();
    ByteSource::Stream(s)
}

/// The C identifier xxd makes of a file name: every byte that is not a
/// letter or digit becomes `_`, and a leading digit gets `__` before it.
fn c_name(file: &str, capitalize: bool) -> String {
    let mut s: String = file
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "__");
    }
    if capitalize {
        s = s.to_ascii_uppercase();
    }
    s
}

/// Turns input bytes into dump text, keeping line state across chunks.
struct Dumper {
    style: Style,
    cols: usize,
    group: usize,
    upper: bool,
    decimal: bool,
    /// The displayed offset of the next line.
    offset: u64,
    /// Bytes of the current (partial) line.
    line: Vec<u8>,
    /// Bytes dumped so far (`-i` counts them; separators between bytes).
    total: u64,
    /// `-e`: little-endian groups.
    little_endian: bool,
    /// `-a`: runs of all-NUL lines become one `*`.
    autoskip: bool,
    /// `-a`: how many all-NUL lines in a row were seen (xxd's `zero_seen`).
    zero_seen: i32,
    /// `-a`: the second NUL line of a run, shown instead of `*` when the
    /// run is exactly two lines long.
    saved: Vec<u8>,
    /// `-a`: the last full line, shown at the end if it was held back.
    last: Vec<u8>,
}

impl Dumper {
    fn hex_byte(&self, b: u8, out: &mut Vec<u8>) {
        const LOWER: &[u8; 16] = b"0123456789abcdef";
        const UPPER: &[u8; 16] = b"0123456789ABCDEF";
        let d = if self.upper { UPPER } else { LOWER };
        out.push(d[usize::from(b >> 4)]);
        out.push(d[usize::from(b & 15)]);
    }

    /// Writes one normal or bits line of `self.line`, through `-a`'s
    /// NUL-line skipping (`forced`: the last, partial line, always shown).
    fn flush_line(&mut self, out: &mut Vec<u8>, forced: bool) {
        if self.line.is_empty() {
            return;
        }
        let nz = if forced || !self.autoskip || self.line.iter().any(|&b| b != 0) {
            1
        } else {
            0
        };
        let mut l = Vec::with_capacity(80);
        self.format_line(&mut l);
        self.emit(l, nz, out);
    }

    /// xxd's `xxdline`: shows line `l` (`nz`: 1 holds a non-NUL byte, 0
    /// is all NUL, -1 is the final flush of a held-back line).
    fn emit(&mut self, l: Vec<u8>, nz: i32, out: &mut Vec<u8>) {
        if !self.autoskip {
            out.extend_from_slice(&l);
            return;
        }
        if nz == 0 && self.zero_seen == 1 {
            self.saved.clone_from(&l);
        }
        let show = nz != 0 || {
            let first = self.zero_seen == 0;
            self.zero_seen += 1;
            first
        };
        if show {
            if nz != 0 {
                if nz < 0 {
                    self.zero_seen -= 1;
                }
                if self.zero_seen == 2 {
                    out.extend_from_slice(&self.saved);
                }
                if self.zero_seen > 2 {
                    out.extend_from_slice(b"*\n");
                }
            }
            if nz >= 0 || self.zero_seen > 0 {
                out.extend_from_slice(&l);
            }
            if nz != 0 {
                self.zero_seen = 0;
            }
        }
        self.last = l;
    }

    /// Formats `self.line` into `out` and moves the offset past it.
    fn format_line(&mut self, out: &mut Vec<u8>) {
        let off = if self.decimal {
            format!("{:08}: ", self.offset)
        } else {
            format!("{:08x}: ", self.offset)
        };
        out.extend_from_slice(off.as_bytes());
        let width = if self.style == Style::Bits { 8 } else { 2 };
        let group = if self.group == 0 {
            self.cols
        } else {
            self.group
        };
        let mut used = 0;
        if self.little_endian {
            // -e: each group's bytes in reverse order, a short last group
            // right-aligned in its column
            let groups = self.cols.div_ceil(group);
            for gi in 0..groups {
                let start = (gi * group).min(self.line.len());
                let end = ((gi + 1) * group).min(self.line.len());
                let part = &self.line[start..end];
                out.extend(std::iter::repeat_n(b' ', (group - part.len()) * 2));
                for &b in part.iter().rev() {
                    self.hex_byte(b, out);
                }
                if gi + 1 < groups {
                    out.push(b' ');
                }
            }
        }
        for i in 0..self.cols {
            if self.little_endian {
                break;
            }
            if let Some(&b) = self.line.get(i) {
                if self.style == Style::Bits {
                    out.extend_from_slice(format!("{b:08b}").as_bytes());
                } else {
                    self.hex_byte(b, out);
                }
            } else {
                out.extend(std::iter::repeat_n(b' ', width));
            }
            used += width;
            if (i + 1) % group == 0 && i + 1 < self.cols {
                out.push(b' ');
                used += 1;
            }
        }
        let _ = used;
        out.extend_from_slice(b"  ");
        for &b in &self.line {
            out.push(if (0x20..0x7f).contains(&b) { b } else { b'.' });
        }
        out.push(b'\n');
        self.offset += self.line.len() as u64;
        self.line.clear();
    }

    /// Dumps `data`.
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        match self.style {
            Style::Normal | Style::Bits => {
                for &b in data {
                    self.line.push(b);
                    if self.line.len() == self.cols {
                        self.flush_line(out, false);
                    }
                }
            }
            Style::Plain => {
                for &b in data {
                    self.hex_byte(b, out);
                    self.total += 1;
                    if self.cols != 0 && self.total.is_multiple_of(self.cols as u64) {
                        out.push(b'\n');
                    }
                }
            }
            Style::Include => {
                for &b in data {
                    if self.total == 0 {
                        out.extend_from_slice(b"  ");
                    } else if self.total.is_multiple_of(self.cols as u64) {
                        out.extend_from_slice(b",\n  ");
                    } else {
                        out.extend_from_slice(b", ");
                    }
                    out.extend_from_slice(if self.upper { b"0X" } else { b"0x" });
                    self.hex_byte(b, out);
                    self.total += 1;
                }
            }
        }
    }

    /// Ends the dump.
    fn finish(&mut self, out: &mut Vec<u8>) {
        match self.style {
            Style::Normal | Style::Bits => {
                if !self.line.is_empty() {
                    self.flush_line(out, true);
                } else if self.autoskip && !self.last.is_empty() {
                    let l = std::mem::take(&mut self.last);
                    self.emit(l, -1, out);
                }
            }
            Style::Plain => {
                if self.total > 0
                    && (self.cols == 0 || !self.total.is_multiple_of(self.cols as u64))
                {
                    out.push(b'\n');
                }
            }
            Style::Include => {
                if self.total > 0 {
                    out.push(b'\n');
                }
            }
        }
    }
}

/// The value of hex digit `c`.
fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Reverses a dump line by line, keeping the output position.
struct Reverser {
    plain: bool,
    cols: usize,
    /// Added to every offset found in the dump (`-r -s OFF`).
    add: i64,
    /// Bytes written so far.
    pos: u64,
    /// `-p`: a half byte waiting for its second digit.
    nibble: Option<u8>,
    /// `-p`: skipping the rest of a line after a bad character.
    skipping: bool,
    /// Normal: the current line being gathered.
    line: Vec<u8>,
}

/// A reverse failure: xxd's message and status.
struct RevError(&'static str, i32);

impl Reverser {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), RevError> {
        if self.plain {
            for &c in data {
                if c == b'\n' {
                    self.skipping = false;
                    continue;
                }
                if self.skipping || c == b' ' || c == b'\t' || c == b'\r' {
                    continue;
                }
                match hex_val(c) {
                    Some(d) => match self.nibble.take() {
                        Some(h) => {
                            out.push((h << 4) | d);
                            self.pos += 1;
                        }
                        None => self.nibble = Some(d),
                    },
                    None => {
                        self.nibble = None;
                        self.skipping = true;
                    }
                }
            }
            return Ok(());
        }
        for &c in data {
            if c == b'\n' {
                let line = std::mem::take(&mut self.line);
                self.line_out(&line, out)?;
            } else {
                self.line.push(c);
            }
        }
        Ok(())
    }

    /// Writes the bytes of one normal dump line at its offset.
    fn line_out(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<(), RevError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            return Ok(());
        };
        let mut off: i64 = 0;
        for &c in &line[..colon] {
            if let Some(d) = hex_val(c) {
                off = off.saturating_mul(16).saturating_add(i64::from(d));
            }
        }
        let want = off.saturating_add(self.add).max(0) as u64;
        let mut bytes = Vec::new();
        let mut half: Option<u8> = None;
        let mut bad_run = 0;
        for &c in &line[colon + 1..] {
            if bytes.len() >= self.cols {
                break;
            }
            match hex_val(c) {
                Some(d) => {
                    bad_run = 0;
                    match half.take() {
                        Some(h) => bytes.push((h << 4) | d),
                        None => half = Some(d),
                    }
                }
                None => {
                    half = None;
                    bad_run += 1;
                    if bad_run >= 2 {
                        break;
                    }
                }
            }
        }
        if bytes.is_empty() {
            return Ok(());
        }
        if want < self.pos {
            return Err(RevError("Sorry, cannot seek backwards.", 5));
        }
        out.extend(std::iter::repeat_n(0u8, (want - self.pos) as usize));
        out.extend_from_slice(&bytes);
        self.pos = want + bytes.len() as u64;
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), RevError> {
        if !self.plain && !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_out(&line, out)?;
        }
        Ok(())
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let o = match parse_opts(&ctx.args) {
        Ok(o) => o,
        Err(ParseEnd::Usage) => {
            let _ = ctx.stderr.write_str(USAGE).await;
            return Ok(1);
        }
        Err(ParseEnd::Version) => {
            let _ = ctx
                .stderr
                .write_str("xxd 2022-01-14 by Juergen Weigert et al.\n")
                .await;
            return Ok(0);
        }
        Err(ParseEnd::Error(m)) => return Err(CmdError::new(1, m)),
    };
    let cols_default = match (o.reverse, o.style) {
        (false, Style::Include) => 12,
        (false, Style::Bits) => 6,
        (_, Style::Plain) => 30,
        _ => 16,
    };
    let cols = match o.cols {
        Some(c) if c < 0 => {
            return Err(CmdError::new(1, "invalid number of columns (max. 256)."));
        }
        Some(c) if c > 256 && o.style != Style::Plain => {
            return Err(CmdError::new(1, "invalid number of columns (max. 256)."));
        }
        Some(0) if o.style != Style::Plain || o.reverse => cols_default,
        Some(c) => c as usize,
        None => cols_default,
    };
    let little = o.little_endian && o.style == Style::Normal && !o.reverse;
    let group = match o.group {
        Some(g) if g >= 0 => g as usize,
        Some(_) | None => {
            if o.style == Style::Bits {
                1
            } else if little {
                4
            } else {
                2
            }
        }
    };
    if little && !(group == 0 || group.is_power_of_two()) {
        return Err(CmdError::new(
            1,
            "number of octets per group must be a power of 2 with -e.",
        ));
    }
    let group = if little && group == 0 { cols } else { group };
    let operand = o.infile.clone().unwrap_or_else(|| "-".into());
    let src = match open_input_err(ctx, &operand).await {
        Ok(s) => s,
        Err(e) => {
            ctx.error(format!("{operand}: {}", e.message())).await;
            return Ok(2);
        }
    };
    // -s: how many input bytes to skip (from the end needs the file size)
    let mut skip: u64 = 0;
    if let Some((_rel, from_end, n)) = o.seek
        && !o.reverse
    {
        if from_end {
            let size = match &o.infile {
                Some(f) => ctx.vfs.stat(&ctx.resolve(f)).await.map(|s| s.size).ok(),
                None => None,
            };
            let Some(size) = size else {
                return Err(CmdError::new(4, "Sorry, cannot seek."));
            };
            skip = size.saturating_sub(n as u64);
        } else {
            skip = n as u64;
        }
    }
    let limit = o.len.map(|l| l.max(0) as u64);
    let (tx, rx) = match &o.outfile {
        Some(_) => {
            let (tx, rx) = mpsc::channel::<Bytes>(16);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let out_abs = o.outfile.as_ref().map(|f| ctx.resolve(f));
    let vfs = ctx.vfs.clone();
    let writer = {
        let out_abs = out_abs.clone();
        async move {
            match (rx, out_abs) {
                (Some(rx), Some(path)) => vfs.write(&path, channel_source(rx)).await,
                _ => Ok(()),
            }
        }
    };
    let emit = match tx {
        Some(tx) => Emit::File(tx),
        None => Emit::Stdout(&mut ctx.stdout),
    };
    let var_name = match (&o.name, &o.infile) {
        (Some(n), _) => Some(if o.capitalize {
            n.to_ascii_uppercase()
        } else {
            n.clone()
        }),
        (None, Some(f)) => Some(c_name(f, o.capitalize)),
        (None, None) => None,
    };
    let produce = async move {
        let mut emit = emit;
        let mut stream = src.into_stream();
        let mut out = Vec::with_capacity(256 * 1024);
        if o.reverse {
            let add = match o.seek {
                Some((_, neg, n)) => {
                    if neg {
                        -n
                    } else {
                        n
                    }
                }
                None => 0,
            };
            let mut r = Reverser {
                plain: o.style == Style::Plain,
                cols,
                add,
                pos: 0,
                nibble: None,
                skipping: false,
                line: Vec::new(),
            };
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| (format!("{operand}: {}", e.message()), 2))?;
                out.clear();
                let res = r.feed(&chunk, &mut out);
                if !emit.send(&out).await {
                    return Ok(());
                }
                res.map_err(|RevError(m, s)| (m.to_string(), s))?;
            }
            out.clear();
            let res = r.finish(&mut out);
            emit.send(&out).await;
            return res.map_err(|RevError(m, s)| (m.to_string(), s));
        }
        let mut d = Dumper {
            style: o.style,
            cols,
            group,
            upper: o.upper,
            decimal: o.decimal,
            offset: skip.wrapping_add(o.display_off as u64),
            line: Vec::new(),
            total: 0,
            little_endian: o.little_endian && o.style == Style::Normal,
            autoskip: o.autoskip,
            zero_seen: 0,
            saved: Vec::new(),
            last: Vec::new(),
        };
        if o.style == Style::Include
            && let Some(n) = &var_name
        {
            emit.send(format!("unsigned char {n}[] = {{\n").as_bytes())
                .await;
        }
        let mut to_skip = skip;
        let mut left = limit;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| (format!("{operand}: {}", e.message()), 2))?;
            let mut data: &[u8] = &chunk;
            if to_skip > 0 {
                let n = to_skip.min(data.len() as u64) as usize;
                data = &data[n..];
                to_skip -= n as u64;
            }
            if let Some(l) = left.as_mut() {
                let n = (*l).min(data.len() as u64) as usize;
                data = &data[..n];
                *l -= n as u64;
            }
            out.clear();
            d.feed(data, &mut out);
            if !emit.send(&out).await {
                return Ok(());
            }
            if left == Some(0) {
                break;
            }
        }
        out.clear();
        d.finish(&mut out);
        if o.style == Style::Include
            && let Some(n) = &var_name
        {
            out.extend_from_slice(format!("}};\nunsigned int {n}_len = {};\n", d.total).as_bytes());
        }
        emit.send(&out).await;
        Ok(())
    };
    let (res, wres): (Result<(), (String, i32)>, _) = futures::join!(produce, writer);
    if let (Err(e), Some(f)) = (wres, &o.outfile) {
        ctx.error(format!("{f}: {}", e.message())).await;
        return Ok(3);
    }
    if let Some(abs) = &out_abs {
        ctx.io.wrote(abs);
    }
    match res {
        Ok(()) => Ok(0),
        Err((m, s)) => Err(CmdError::new(s, m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn xxd(args: &[&str], stdin: &str) -> (String, String, i32) {
        let v = MemVfs::with(&[("/d/1a-b.c", "AB")]);
        run_cmd(&v, run, "xxd", args, "/d", stdin)
    }

    #[test]
    fn layouts() {
        assert_eq!(
            xxd(&["-c", "5", "-g", "2"], "abc").0,
            "00000000: 6162 63       abc\n"
        );
        assert_eq!(
            xxd(&["-g3"], "Hello, World!\nab").0,
            "00000000: 48656c 6c6f2c 20576f 726c64 210a61 62  Hello, World!.ab\n"
        );
        assert_eq!(
            xxd(&["-b"], "abc").0,
            "00000000: 01100001 01100010 01100011                             abc\n"
        );
        assert_eq!(
            xxd(&["-s", "+2", "-o", "16"], "abcdef").0,
            "00000012: 6364 6566                                cdef\n"
        );
        assert_eq!(
            xxd(&["-i", "-u", "1a-b.c"], "").0,
            "unsigned char __1a_b_c[] = {\n  0X41, 0X42\n};\nunsigned int __1a_b_c_len = 2;\n"
        );
        assert_eq!(xxd(&["-ps", "-c", "2"], "abc").0, "6162\n63\n");
        assert_eq!(xxd(&["-p"], "").0, "");
    }

    #[test]
    fn little_endian() {
        assert_eq!(
            xxd(&["-e"], "abcdefghijklmnopqrstu").0,
            "00000000: 64636261 68676665 6c6b6a69 706f6e6d  abcdefghijklmnop\n\
             00000010: 74737271       75                    qrstu\n"
        );
        assert_eq!(
            xxd(&["-e", "-g", "2"], "abcdefghijklmnopqrstu").0,
            "00000000: 6261 6463 6665 6867 6a69 6c6b 6e6d 706f  abcdefghijklmnop\n\
             00000010: 7271 7473   75                           qrstu\n"
        );
        assert_eq!(
            xxd(&["-e", "-g", "8"], "abcdefghij").0,
            "00000000: 6867666564636261             6a69  abcdefghij\n"
        );
        let (_, err, st) = xxd(&["-e", "-g", "3"], "abc");
        assert_eq!(
            (err.as_str(), st),
            (
                "xxd: number of octets per group must be a power of 2 with -e.\n",
                1
            )
        );
    }

    #[test]
    fn autoskip() {
        let z = |n: usize| "\0".repeat(n);
        let (out, _, _) = xxd(&["-a"], &format!("a{}b", z(63)));
        assert_eq!(
            out,
            "00000000: 6100 0000 0000 0000 0000 0000 0000 0000  a...............\n\
             00000010: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
             *\n\
             00000040: 62                                       b\n"
        );
        let (out, _, _) = xxd(&["-a"], &z(64));
        assert_eq!(
            out,
            "00000000: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
             *\n\
             00000030: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n"
        );
        let (out, _, _) = xxd(&["-a"], &format!("{}x", z(32)));
        assert_eq!(out.lines().count(), 3);
        assert!(!out.contains('*'));
    }

    #[test]
    fn reverse() {
        assert_eq!(xxd(&["-r", "-p"], "4 1\n42 zz 43\n44").0, "ABD");
        assert_eq!(
            xxd(&["-r"], "00000002: 4142  AB\n00000004: 41  42\n").0,
            "\0\0ABA"
        );
        let (out, err, st) = xxd(&["-r"], "00000010: 4142\n00000000: 4344  ab\n");
        assert_eq!(out.len(), 18);
        assert_eq!(
            (err.as_str(), st),
            ("xxd: Sorry, cannot seek backwards.\n", 5)
        );
    }

    #[test]
    fn errors() {
        let (_, err, st) = xxd(&["nosuch"], "");
        assert_eq!(
            (err.as_str(), st),
            ("xxd: nosuch: No such file or directory\n", 2)
        );
        let (_, err, st) = xxd(&["-x"], "");
        assert!(err.starts_with("Usage:\n"));
        assert_eq!(st, 1);
        let (_, err, st) = xxd(&["-c", "300"], "");
        assert_eq!(
            (err.as_str(), st),
            ("xxd: invalid number of columns (max. 256).\n", 1)
        );
    }
}
