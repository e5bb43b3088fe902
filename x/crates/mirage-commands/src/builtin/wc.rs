//! `wc`: count lines, words, characters and bytes, as GNU coreutils 9.1
//! `wc` in a UTF-8 locale (`-l`, `-w`, `-m`, `-c`, `-L`, the `total` line
//! and GNU's column width rule). Streams: counts chunk by chunk; `-l` and
//! `-c` alone only count newlines with `memchr`.

use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};

use crate::util::{open_input_err, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("lines", Some('l'), Some("lines")),
    OptSpec::flag("words", Some('w'), Some("words")),
    OptSpec::flag("chars", Some('m'), Some("chars")),
    OptSpec::flag("bytes", Some('c'), Some("bytes")),
    OptSpec::flag("max-line-length", Some('L'), Some("max-line-length")),
];

/// The spec of `wc`.
pub static SPEC: CommandSpec = CommandSpec::new("wc", OPTS, PathOperands::All);

crate::register_command!("wc", SPEC, run);

/// Which counts to print, in GNU's column order.
#[derive(Debug, Clone, Copy, Default)]
struct Which {
    lines: bool,
    words: bool,
    chars: bool,
    bytes: bool,
    max_line: bool,
}

impl Which {
    fn how_many(&self) -> usize {
        [
            self.lines,
            self.words,
            self.chars,
            self.bytes,
            self.max_line,
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}

/// The counts of one input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    lines: u64,
    words: u64,
    chars: u64,
    bytes: u64,
    max_line: u64,
}

/// Counting state carried across chunks.
#[derive(Debug, Default)]
struct Counter {
    c: Counts,
    in_word: bool,
    line_pos: u64,
    /// Bytes of a UTF-8 sequence cut by the chunk boundary.
    partial: Vec<u8>,
}

/// Whether `c` is a space for glibc's `iswspace` (beyond ASCII).
fn is_unicode_space(c: u32) -> bool {
    matches!(c, 0x1680 | 0x2000..=0x2006 | 0x2008..=0x200A | 0x2028 | 0x2029 | 0x205F | 0x3000)
}

/// Display width of a non-ASCII character, as glibc's `wcwidth` (through
/// `unicode-width`, which follows the same East Asian Width and zero-width
/// tables; glibc differs on U+00AD, handled here): 2 for wide characters,
/// 0 for combining marks and characters that are not printable.
fn char_width(c: u32) -> u64 {
    // glibc gives SOFT HYPHEN width 1 (unicode-width: 0, default-ignorable)
    if c == 0xAD {
        return 1;
    }
    char::from_u32(c)
        .and_then(unicode_width::UnicodeWidthChar::width)
        .map_or(0, |w| w as u64)
}

/// The length of the UTF-8 sequence a lead byte announces, if valid.
fn utf8_len(b: u8) -> Option<usize> {
    match b {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

impl Counter {
    fn separator(&mut self) {
        self.in_word = false;
    }
    fn word_char(&mut self) {
        if !self.in_word {
            self.c.words += 1;
            self.in_word = true;
        }
    }
    fn end_line(&mut self) {
        self.c.max_line = self.c.max_line.max(self.line_pos);
        self.line_pos = 0;
    }
    fn ascii(&mut self, b: u8) {
        self.c.chars += 1;
        match b {
            b'\n' => {
                self.c.lines += 1;
                self.end_line();
                self.separator();
            }
            b'\r' | 0x0c => {
                self.end_line();
                self.separator();
            }
            b'\t' => {
                self.line_pos += 8 - (self.line_pos % 8);
                self.separator();
            }
            b' ' => {
                self.line_pos += 1;
                self.separator();
            }
            0x0b => self.separator(),
            0x21..=0x7e => {
                self.line_pos += 1;
                self.word_char();
            }
            _ => {}
        }
    }
    fn wide(&mut self, c: u32) {
        self.c.chars += 1;
        if (0x80..0xA0).contains(&c) {
            return; // C1 controls are not printable
        }
        self.line_pos += char_width(c);
        if is_unicode_space(c) {
            self.separator();
        } else {
            self.word_char();
        }
    }
    /// Counts `data` with full character handling (words, chars, width).
    fn feed(&mut self, data: &[u8]) {
        self.c.bytes += data.len() as u64;
        let joined;
        let data = if self.partial.is_empty() {
            data
        } else {
            let mut v = std::mem::take(&mut self.partial);
            v.extend_from_slice(data);
            joined = v;
            &joined[..]
        };
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            if b < 0x80 {
                self.ascii(b);
                i += 1;
                continue;
            }
            let Some(len) = utf8_len(b) else {
                i += 1; // an invalid byte is neither a character nor a separator
                continue;
            };
            if i + len > data.len() {
                // Maybe cut by the chunk boundary: keep it if it is a valid start.
                let tail = &data[i..];
                if tail[1..].iter().all(|&x| (0x80..0xC0).contains(&x)) {
                    self.partial = tail.to_vec();
                    return;
                }
                i += 1;
                continue;
            }
            match std::str::from_utf8(&data[i..i + len]) {
                Ok(s) => {
                    let c = s.chars().next().map(u32::from).unwrap_or(0);
                    self.wide(c);
                    i += len;
                }
                Err(_) => i += 1,
            }
        }
    }
    /// Counts only lines and bytes.
    fn feed_fast(&mut self, data: &[u8]) {
        self.c.bytes += data.len() as u64;
        self.c.lines += memchr::memchr_iter(b'\n', data).count() as u64;
    }
    fn finish(mut self) -> Counts {
        self.partial.clear();
        self.end_line();
        self.c
    }
}

/// GNU's column width: the digits of the total size of the regular files
/// (at least 7 when an input is not a regular file); 1 when a single input
/// has a single count or the first input could not be examined.
/// `inputs` holds `Some((is_regular, size))` per input, `None` when stat failed.
fn number_width(inputs: &[Option<(bool, u64)>], single_count: bool) -> usize {
    if inputs.is_empty() || (inputs.len() == 1 && single_count) {
        return 1;
    }
    if inputs[0].is_none() {
        return 1;
    }
    let mut minimum = 1;
    let mut total: u64 = 0;
    for (regular, size) in inputs.iter().flatten() {
        if *regular {
            total = total.saturating_add(*size);
        } else {
            minimum = 7;
        }
    }
    let mut width = 1;
    while total >= 10 {
        total /= 10;
        width += 1;
    }
    width.max(minimum)
}

/// One output line: the selected counts right-aligned in `width`, then the name.
fn format_counts(c: &Counts, which: &Which, width: usize, name: Option<&str>) -> String {
    let mut fields = Vec::new();
    if which.lines {
        fields.push(c.lines);
    }
    if which.words {
        fields.push(c.words);
    }
    if which.chars {
        fields.push(c.chars);
    }
    if which.bytes {
        fields.push(c.bytes);
    }
    if which.max_line {
        fields.push(c.max_line);
    }
    let mut s = fields
        .iter()
        .map(|n| format!("{n:>width$}"))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(n) = name {
        s.push(' ');
        s.push_str(n);
    }
    s.push('\n');
    s
}

async fn count_source(src: ByteSource, full: bool) -> Result<Counts, mirage_types::Error> {
    let mut stream = src.into_stream();
    let mut counter = Counter::default();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if full {
            counter.feed(&chunk);
        } else {
            counter.feed_fast(&chunk);
        }
    }
    Ok(counter.finish())
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut which = Which {
        lines: p.has("lines"),
        words: p.has("words"),
        chars: p.has("chars"),
        bytes: p.has("bytes"),
        max_line: p.has("max-line-length"),
    };
    if which.how_many() == 0 {
        which = Which {
            lines: true,
            words: true,
            bytes: true,
            ..Which::default()
        };
    }
    let full = which.words || which.chars || which.max_line;
    let named = !p.operands.is_empty();
    let files: Vec<String> = if named {
        p.operands.clone()
    } else {
        vec!["-".to_string()]
    };
    let single_count = which.how_many() == 1;
    let mut stats = Vec::with_capacity(files.len());
    if !(files.len() == 1 && single_count) {
        for f in &files {
            if f == "-" {
                stats.push(Some((false, 0)));
                continue;
            }
            let abs = ctx.resolve(f);
            stats.push(match ctx.vfs.stat(&abs).await {
                Ok(st) => Some((st.is_file(), st.size)),
                Err(_) => None,
            });
        }
    }
    let width = if stats.is_empty() {
        1
    } else {
        number_width(&stats, single_count)
    };
    let mut total = Counts::default();
    let mut status = 0;
    for f in &files {
        let name = if named { Some(f.as_str()) } else { None };
        let res = match open_input_err(ctx, f).await {
            Ok(src) => count_source(src, full).await,
            Err(e) => Err(e),
        };
        let counts = match res {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::IsADirectory => {
                ctx.error(format!("{f}: {}", e.message())).await;
                status = 1;
                Counts::default()
            }
            Err(e) => {
                ctx.error(format!("{f}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        total.lines += counts.lines;
        total.words += counts.words;
        total.chars += counts.chars;
        total.bytes += counts.bytes;
        total.max_line = total.max_line.max(counts.max_line);
        let line = format_counts(&counts, &which, width, name);
        if let Err(e) = ctx.stdout.write_str(&line).await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Ok(status);
        }
    }
    if files.len() > 1 {
        let line = format_counts(&total, &which, width, Some("total"));
        let _ = ctx.stdout.write_str(&line).await;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn count(parts: &[&[u8]]) -> Counts {
        let mut c = Counter::default();
        for p in parts {
            c.feed(p);
        }
        c.finish()
    }

    #[test]
    fn words_chars_and_width() {
        let c = count(&[b"h\xc3\xa9llo world\n"]);
        assert_eq!(
            (c.lines, c.words, c.chars, c.bytes, c.max_line),
            (1, 2, 12, 13, 11)
        );
        // A character cut across chunks counts once.
        let c = count(&[b"\xe6\x97", b"\xa5x\n"]);
        assert_eq!((c.chars, c.max_line, c.words), (3, 3, 1));
        // Non-printable bytes neither start nor end words; invalid bytes are not chars.
        assert_eq!(count(&[b"a\x01b \x01 c\n"]).words, 2);
        assert_eq!(count(&[b"\x01 \x01\n"]).words, 0);
        assert_eq!(count(&[b"a\xffb\n"]).chars, 3);
        assert_eq!(count(&[b"a\tb\n"]).max_line, 9);
        assert_eq!(count(&[b"a\xe3\x80\x80b\n"]).words, 2);
    }

    #[test]
    fn gnu_widths() {
        // wc a.txt b.txt with 6 and 8 bytes: width 2.
        assert_eq!(number_width(&[Some((true, 6)), Some((true, 8))], false), 2);
        // stdin (a pipe) among the inputs: at least 7.
        assert_eq!(number_width(&[Some((false, 0))], false), 7);
        // A single input with a single count: no padding.
        assert_eq!(number_width(&[Some((true, 12345))], true), 1);
        // The first input missing: width 1.
        assert_eq!(number_width(&[None, Some((true, 12345))], false), 1);
        let w = Which {
            lines: true,
            words: true,
            bytes: true,
            ..Which::default()
        };
        let c = Counts {
            lines: 3,
            words: 5,
            bytes: 20,
            ..Counts::default()
        };
        assert_eq!(format_counts(&c, &w, 7, None), "      3       5      20\n");
        assert_eq!(format_counts(&c, &w, 2, Some("f")), " 3  5 20 f\n");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["a.txt"], "", "3 3 9 a.txt\n", 0),
            (&["-l", "a.txt"], "", "3 a.txt\n", 0),
            (
                &["-l", "a.txt", "b.txt", "empty.txt"],
                "",
                " 3 a.txt\n 2 b.txt\n 0 empty.txt\n 5 total\n",
                0,
            ),
            (
                &["a.txt", "b.txt"],
                "",
                " 3  3  9 a.txt\n 2  2  6 b.txt\n 5  5 15 total\n",
                0,
            ),
            (&[], "a b\nc\n", "      2       3       6\n", 0),
            (&["-l"], "a\nb\n", "2\n", 0),
            (&["-c"], "abc", "3\n", 0),
            (&["-m", "utf.txt"], "", "21 utf.txt\n", 0),
            (&["-L", "utf.txt"], "", "11 utf.txt\n", 0),
            (&["-w", "utf.txt"], "", "4 utf.txt\n", 0),
            (&["missing", "a.txt"], "", "3 3 9 a.txt\n3 3 9 total\n", 1),
            (&["a.txt", "missing"], "", "3 3 9 a.txt\n3 3 9 total\n", 1),
            (&["dir"], "", "      0       0       0 dir\n", 1),
            (&["-lwmcL", "utf.txt"], "", " 2  4 21 29 11 utf.txt\n", 0),
            (
                &["-", "a.txt"],
                "x y z\n",
                "      1       3       6 -\n      3       3       9 a.txt\n      4       6      15 total\n",
                0,
            ),
            (&["-l", "-"], "1\n2\n", "2 -\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "wc", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-c", "-l", "a.txt"], "", "3 9 a.txt\n", 0),
            (&["-w"], "  a   b  \n\tc\n", "3\n", 0),
            (&["-L"], "a\tb\nabcdefghij\n", "10\n", 0),
            (&["nonl.txt"], "", "2 3 5 nonl.txt\n", 0),
            (
                &["-l", "nonl.txt", "a.txt"],
                "",
                " 2 nonl.txt\n 3 a.txt\n 5 total\n",
                0,
            ),
            (&["-m"], "日本語", "3\n", 0),
            (&["empty.txt"], "", "0 0 0 empty.txt\n", 0),
            (
                &["-c", "dir", "a.txt"],
                "",
                "      0 dir\n      9 a.txt\n      9 total\n",
                1,
            ),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "wc", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
