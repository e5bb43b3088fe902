//! `fmt`: refill paragraphs, as GNU coreutils 9.1 `fmt` does, byte for
//! byte: `-w N`/`--width=N`/`-N` (first argument only; default 75),
//! `-g N`/`--goal` (default 93% of the width), `-s`, `-u`, `-c`, `-t`,
//! `-p STR`, several files and stdin.
//!
//! Paragraphs are runs of lines with the same indentation (the first two
//! may differ under `-c`/`-t`), separated by blank lines; with `-p` only
//! lines that start with the prefix take part, the others are copied as
//! they are. Line breaks are chosen by a dynamic program over the words of
//! a paragraph that minimises a cost, with the published constants of GNU
//! fmt: a line `d` columns away from the goal costs `(10d)^2`, a line that
//! differs from the next by `d` costs half that, every line costs `70^2`,
//! the last line is free of the length costs; breaks after a sentence end
//! or punctuation and before an opening bracket earn bonuses, breaks after
//! a period that ends no sentence, after the first word of a sentence or
//! before its last word are penalised. Columns count bytes (9.1 is not
//! multibyte-aware); a tab in the input lets the output indent with tabs.
//!
//! Streams by paragraph: input is read byte by byte as it arrives, a
//! paragraph is printed once the start of the line after it is seen, and,
//! as GNU does, a paragraph of more than 998 words or 5000
//! bytes of text is printed in parts.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::bytestr;
use mirage_types::command::{CmdError, CommandCtx};

use futures::StreamExt;

use crate::util::{gnu_quote, open_input_err, operands_or_stdin};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("crown", Some('c'), Some("crown-margin")),
    OptSpec::value("prefix", Some('p'), Some("prefix")),
    OptSpec::flag("split", Some('s'), Some("split-only")),
    OptSpec::flag("tagged", Some('t'), Some("tagged-paragraph")),
    OptSpec::flag("uniform", Some('u'), Some("uniform-spacing")),
    OptSpec::value("width", Some('w'), Some("width")),
    OptSpec::value("goal", Some('g'), Some("goal")),
];

/// The spec of `fmt`.
pub static SPEC: CommandSpec = CommandSpec::new("fmt", OPTS, PathOperands::All);

crate::register_command!("fmt", SPEC, run);

/// The default maximum width.
const DEFAULT_WIDTH: i64 = 75;
/// The largest width accepted (GNU: half its 5000-byte buffer).
const WIDTH_LIMIT: u64 = 2500;
/// Tab stops, for reading indentation and writing it back.
const TAB: i64 = 8;
/// Words held before a long paragraph is printed in part (GNU's 1000 - 2).
const WORD_LIMIT: usize = 998;
/// Bytes of word text held before a long paragraph is printed in part.
const TEXT_LIMIT: usize = 5000;
/// How much output is gathered before it is written.
const OUT_CHUNK: usize = 4096;

/// The cost unit: a departure of `n` tenths of a column, squared.
const fn equiv(n: i64) -> i64 {
    n * n
}
/// Every line costs this much.
const PER_LINE: i64 = equiv(70);
/// Breaking after a sentence end earns this.
const AFTER_SENTENCE: i64 = equiv(50);
/// Breaking after a period that ends no sentence costs this.
const AFTER_FALSE_PERIOD: i64 = equiv(600);
/// Breaking before an opening bracket or quote earns this.
const BEFORE_OPENER: i64 = equiv(40);
/// Breaking after other punctuation earns this.
const AFTER_PUNCT: i64 = equiv(40);
/// Each later split point of a long paragraph is favoured by this.
const LATER_SPLIT: i64 = equiv(3);

/// Cost of a line `d` columns away from the goal.
fn off_goal(d: i64) -> i64 {
    equiv(d * 10)
}
/// Cost of two neighbouring lines whose lengths differ by `d`.
fn uneven(d: i64) -> i64 {
    off_goal(d) / 2
}
/// Cost of a line ending after the first word (of `len` bytes) of a sentence.
fn lone_first(len: i64) -> i64 {
    equiv(200) / (len + 2)
}
/// Cost of a line starting with the last word (of `len` bytes) of a sentence.
fn lone_last(len: i64) -> i64 {
    equiv(150) / (len + 2)
}

/// What the command line asks for.
#[derive(Debug, Clone)]
struct Settings {
    /// Lines stay shorter than this (one long word may pass it).
    width: i64,
    /// The preferred line length.
    goal: i64,
    split: bool,
    uniform: bool,
    crown: bool,
    tagged: bool,
    /// The prefix without its leading and trailing spaces.
    prefix: Vec<u8>,
    /// Spaces before the prefix in `-p`.
    prefix_lead: i64,
    /// The prefix's length with its trailing spaces.
    prefix_span: i64,
}

impl Settings {
    /// Settings without `-p`, for the given width and goal.
    #[cfg(test)]
    fn plain(width: i64, goal: i64) -> Self {
        Settings {
            width,
            goal,
            split: false,
            uniform: false,
            crown: false,
            tagged: false,
            prefix: Vec::new(),
            prefix_lead: 0,
            prefix_span: 0,
        }
    }

    /// Sets the `-p` prefix: leading spaces are counted apart, trailing
    /// ones are dropped from the printed prefix but still required.
    fn set_prefix(&mut self, raw: &[u8]) {
        let lead = raw.iter().take_while(|&&b| b == b' ').count();
        let body = &raw[lead..];
        let kept = body.len() - body.iter().rev().take_while(|&&b| b == b' ').count();
        self.prefix_lead = to_i64(lead);
        self.prefix_span = to_i64(body.len());
        self.prefix = body[..kept].to_vec();
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Parses a width as GNU's `xdectoumax` does (blanks and `+` allowed in
/// front, decimal digits only), accepting `0..=max`.
fn parse_width(s: &str, max: u64) -> Result<i64, String> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid width: {}", gnu_quote(s)));
    }
    match digits.parse::<u64>() {
        Ok(n) if n <= max => Ok(i64::try_from(n).unwrap_or(i64::MAX)),
        Ok(_) => Err(format!(
            "invalid width: {}: Numerical result out of range",
            gnu_quote(s)
        )),
        Err(_) => Err(format!(
            "invalid width: {}: Value too large for defined data type",
            gnu_quote(s)
        )),
    }
}

/// Reads the options; `legacy` is the `-N` first argument.
fn settings(p: &mirage_types::args::ParsedArgs, legacy: Option<&str>) -> Result<Settings, String> {
    let mut s = Settings {
        width: DEFAULT_WIDTH,
        goal: 0,
        split: p.has("split"),
        uniform: p.has("uniform"),
        crown: p.has("crown"),
        tagged: p.has("tagged"),
        prefix: Vec::new(),
        prefix_lead: 0,
        prefix_span: 0,
    };
    let width_arg = p.value("width").or(legacy);
    if let Some(w) = width_arg {
        s.width = parse_width(w, WIDTH_LIMIT)?;
    }
    match p.value("goal") {
        Some(g) => {
            s.goal = parse_width(g, u64::try_from(s.width).unwrap_or(0))?;
            if width_arg.is_none() {
                s.width = s.goal + 10;
            }
        }
        None => s.goal = s.width * 187 / 200,
    }
    if let Some(pre) = p.value("prefix") {
        s.set_prefix(&bytestr::encode(pre));
    }
    Ok(s)
}

/// What follows the leading blanks (and prefix) of a line, or the blanks
/// after a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// More text on the line.
    Text,
    /// The line ends with a newline.
    Newline,
    /// The input ends.
    Eof,
}

/// A word of a paragraph.
#[derive(Debug, Clone, Copy, Default)]
struct Word {
    /// Where its bytes start in the paragraph's text.
    start: usize,
    /// Its length in bytes (= columns).
    len: i64,
    /// The columns after it when it is not last on an output line.
    gap: i64,
    /// It starts with an opening bracket or quote.
    opener: bool,
    /// It ends with punctuation.
    punct: bool,
    /// It ends with `.`, `?` or `!` (before closing brackets and quotes).
    period: bool,
    /// It ends a sentence (a period then a line end or two blanks).
    sentence_end: bool,
}

/// The paragraph being gathered.
#[derive(Debug, Default)]
struct Para {
    prefix_col: i64,
    first_indent: i64,
    /// Input lines read into it.
    lines: usize,
    words: Vec<Word>,
    /// The bytes of the words, then of the word being read.
    text: Vec<u8>,
    /// Where the word being read starts in `text`.
    pending: usize,
    /// The length of the last line printed of it (after a part was printed).
    last_line: i64,
}

/// The line breaks chosen for some words: for word `i` starting a line,
/// the word starting the next one, that line's length, and the cost of
/// the rest of the paragraph from `i`.
struct Plan {
    next: Vec<usize>,
    line_len: Vec<i64>,
    cost: Vec<i64>,
}

/// Chooses the cheapest breaks for `words` (all of them, the last line
/// being free of length costs).
fn plan(
    words: &[Word],
    first_indent: i64,
    other_indent: i64,
    last_line: i64,
    s: &Settings,
) -> Plan {
    let n = words.len();
    let mut pl = Plan {
        next: vec![n; n + 1],
        line_len: vec![0; n + 1],
        cost: vec![0; n + 1],
    };
    for i in (0..n).rev() {
        let mut len = if i == 0 { first_indent } else { other_indent } + words[i].len;
        let mut best = i64::MAX;
        let mut end = i + 1;
        loop {
            // A line of words i..end.
            let mut c = pl.cost[end];
            if end < n {
                c += off_goal(s.goal - len);
                if pl.next[end] != n {
                    c += uneven(len - pl.line_len[end]);
                }
            }
            if i == 0 && last_line > 0 {
                c += uneven(len - last_line);
            }
            if c < best {
                best = c;
                pl.next[i] = end;
                pl.line_len[i] = len;
            }
            if end == n {
                break;
            }
            len += words[end - 1].gap + words[end].len;
            if len >= s.width {
                break;
            }
            end += 1;
        }
        pl.cost[i] = best.saturating_add(break_cost(words, i));
    }
    pl
}

/// The part of the cost of a line starting at word `i` that does not
/// depend on its length.
fn break_cost(words: &[Word], i: usize) -> i64 {
    let mut c = PER_LINE;
    if i > 0 {
        let before = &words[i - 1];
        if before.period {
            if before.sentence_end {
                c -= AFTER_SENTENCE;
            } else {
                c += AFTER_FALSE_PERIOD;
            }
        } else if before.punct {
            c -= AFTER_PUNCT;
        } else if i > 1 && words[i - 2].sentence_end {
            c += lone_first(before.len);
        }
    }
    let w = &words[i];
    if w.opener {
        c -= BEFORE_OPENER;
    } else if w.sentence_end {
        c += lone_last(w.len);
    }
    c
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Where the reader is within the current input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// In the blanks at the start of a line.
    Lead,
    /// Matching the `-p` prefix; so many bytes matched.
    Prefix(usize),
    /// In the blanks after the prefix.
    AfterPrefix,
    /// Copying the rest of a line that is not part of a paragraph.
    Copy,
    /// Inside a word of a paragraph line.
    Word,
    /// In the blanks after a word (the word waits for them to end).
    Gap,
}

/// The state of formatting one input file. Bytes are taken as they come
/// ([`Formatter::feed`]), so a line of any length is read in bounded
/// memory, as GNU reads character by character.
struct Formatter<'a> {
    s: &'a Settings,
    /// A tab was read: indentation and gaps may be written with tabs.
    tabs: bool,
    /// The indentation of the lines after the first (kept between
    /// paragraphs for `-t`).
    other_indent: i64,
    para: Option<Para>,
    /// The output column.
    col: i64,
    phase: Phase,
    /// The input column.
    in_col: i64,
    /// The column of the prefix on the current line.
    prefix_col: i64,
    /// The column where the word being read starts.
    word_col: i64,
    /// The column where the blanks after the last word start.
    gap_from: i64,
    /// The last word read, until the blanks after it end.
    last: Word,
}

impl<'a> Formatter<'a> {
    fn new(s: &'a Settings) -> Self {
        Formatter {
            s,
            tabs: false,
            other_indent: 0,
            para: None,
            col: 0,
            phase: Phase::Lead,
            in_col: 0,
            prefix_col: 0,
            word_col: 0,
            gap_from: 0,
            last: Word::default(),
        }
    }

    /// Moves the input column over a blank (space or tab).
    fn blank(&mut self, b: u8) {
        if b == b'\t' {
            self.tabs = true;
            self.in_col = (self.in_col / TAB + 1) * TAB;
        } else {
            self.in_col += 1;
        }
    }

    /// Takes the next bytes of the input.
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < data.len() {
            if self.phase == Phase::Copy {
                // The rest of a copied line goes out as it is.
                match memchr::memchr(b'\n', &data[i..]) {
                    Some(k) => {
                        out.extend_from_slice(&data[i..=i + k]);
                        self.new_line();
                        i += k + 1;
                    }
                    None => {
                        out.extend_from_slice(&data[i..]);
                        return;
                    }
                }
                continue;
            }
            self.byte(data[i], out);
            i += 1;
        }
    }

    fn new_line(&mut self) {
        self.in_col = 0;
        self.phase = Phase::Lead;
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.phase {
            Phase::Lead | Phase::AfterPrefix if b == b' ' || b == b'\t' => self.blank(b),
            Phase::Lead => {
                if self.s.prefix.is_empty() {
                    self.prefix_col = self.s.prefix_lead.min(self.in_col);
                    self.head_done(b, out);
                } else {
                    self.prefix_col = self.in_col;
                    self.phase = Phase::Prefix(0);
                    self.byte(b, out);
                }
            }
            Phase::Prefix(k) => {
                if self.s.prefix.get(k) == Some(&b) {
                    self.in_col += 1;
                    self.phase = if k + 1 == self.s.prefix.len() {
                        Phase::AfterPrefix
                    } else {
                        Phase::Prefix(k + 1)
                    };
                } else {
                    self.head_done(b, out);
                }
            }
            Phase::AfterPrefix => self.head_done(b, out),
            Phase::Copy => {
                out.push(b);
                if b == b'\n' {
                    self.new_line();
                }
            }
            Phase::Word => {
                if is_c_space(b) {
                    self.end_word();
                    self.byte(b, out);
                } else {
                    self.word_byte(b, out);
                }
            }
            Phase::Gap => match b {
                b' ' | b'\t' => self.blank(b),
                b'\n' => {
                    self.push_word(After::Newline, out);
                    self.new_line();
                }
                _ => {
                    self.push_word(After::Text, out);
                    self.start_word(b, out);
                }
            },
        }
    }

    /// The blanks and prefix of a line are read and `b` follows them.
    fn head_done(&mut self, b: u8, out: &mut Vec<u8>) {
        let after = if b == b'\n' {
            After::Newline
        } else {
            After::Text
        };
        if self.take_line(after, out) {
            self.start_word(b, out);
        } else {
            self.copy_head(after, out);
            out.push(b);
            if b == b'\n' {
                self.new_line();
            } else {
                self.phase = Phase::Copy;
            }
        }
    }

    /// Decides where a line whose head is read goes: `true` when it
    /// continues or starts a paragraph, `false` when it is copied (a
    /// paragraph it ends is printed first).
    fn take_line(&mut self, after: After, out: &mut Vec<u8>) -> bool {
        let (col, pcol) = (self.in_col, self.prefix_col);
        if let Some(p) = &self.para {
            let (lines, first) = (p.lines, p.first_indent);
            let same =
                pcol == p.prefix_col && col >= pcol + self.s.prefix_span && after == After::Text;
            if lines == 1 {
                self.choose_other_indent(same, col, first);
            }
            let goes_on = if self.s.split {
                false
            } else if lines == 1 && self.s.crown {
                same
            } else if lines == 1 && self.s.tagged {
                same && col != first
            } else {
                same && col == self.other_indent
            };
            if goes_on {
                if let Some(p) = &mut self.para {
                    p.lines += 1;
                }
                return true;
            }
            self.end_para(out);
        }
        if after != After::Text || pcol < self.s.prefix_lead || col < pcol + self.s.prefix_span {
            return false;
        }
        self.para = Some(Para {
            prefix_col: pcol,
            first_indent: col,
            lines: 1,
            ..Para::default()
        });
        true
    }

    /// The end of the input.
    fn finish(&mut self, out: &mut Vec<u8>) {
        match self.phase {
            Phase::Copy => return,
            Phase::Word => {
                self.end_word();
                self.push_word(After::Eof, out);
                self.new_line();
            }
            Phase::Gap => {
                self.push_word(After::Eof, out);
                self.new_line();
            }
            Phase::Lead | Phase::Prefix(_) | Phase::AfterPrefix => {}
        }
        if self.phase == Phase::Lead {
            self.prefix_col = if self.s.prefix.is_empty() {
                self.s.prefix_lead.min(self.in_col)
            } else {
                self.in_col
            };
        }
        if !self.take_line(After::Eof, out) {
            self.copy_head(After::Eof, out);
        }
    }

    /// Sets the indentation of the lines after the first, from whether the
    /// line at column `col` continues a paragraph starting at `first`.
    fn choose_other_indent(&mut self, same: bool, col: i64, first: i64) {
        if self.s.split {
            self.other_indent = first;
        } else if self.s.crown {
            self.other_indent = if same { col } else { first };
        } else if self.s.tagged {
            if same && col != first {
                self.other_indent = col;
            } else if self.other_indent == first {
                self.other_indent = if first == 0 { 3 } else { 0 };
            }
        } else {
            self.other_indent = first;
        }
    }

    /// Writes the start of a line that is blank or lacks the prefix: its
    /// indentation and the part of the prefix it has.
    fn copy_head(&mut self, after: After, out: &mut Vec<u8>) {
        let (col, pcol) = (self.in_col, self.prefix_col);
        self.col = 0;
        if col > pcol || after == After::Text {
            self.space(pcol, out);
            for &b in &self.s.prefix {
                if self.col == col {
                    break;
                }
                out.push(b);
                self.col += 1;
            }
            if after == After::Text {
                self.space(col - self.col, out);
            }
            if after == After::Eof && col >= pcol + to_i64(self.s.prefix.len()) {
                out.push(b'\n');
            }
        }
    }

    /// Starts a word with byte `b`.
    fn start_word(&mut self, b: u8, out: &mut Vec<u8>) {
        self.word_col = self.in_col;
        if let Some(p) = &mut self.para {
            p.pending = p.text.len();
        }
        self.phase = Phase::Word;
        self.word_byte(b, out);
    }

    /// Adds a byte to the word being read (printing part of the paragraph
    /// first when its text is full).
    fn word_byte(&mut self, b: u8, out: &mut Vec<u8>) {
        if self
            .para
            .as_ref()
            .is_some_and(|p| p.text.len() >= TEXT_LIMIT)
        {
            self.choose_other_indent_mid(self.word_col);
            self.print_part(out);
        }
        if let Some(p) = &mut self.para {
            p.text.push(b);
        }
    }

    /// The word being read is complete: notes what it ends with.
    fn end_word(&mut self) {
        let Some(p) = &self.para else { return };
        let bytes = &p.text[p.pending..];
        let len = to_i64(bytes.len());
        let mut w = Word {
            start: p.pending,
            len,
            ..Word::default()
        };
        if let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) {
            w.opener = b"(['`\"".contains(&first);
            w.punct = last.is_ascii_punctuation();
            let mut k = bytes.len() - 1;
            while k > 0 && b")]'\"".contains(&bytes[k]) {
                k -= 1;
            }
            w.period = b".?!".contains(&bytes[k]);
        }
        self.in_col = self.word_col + len;
        self.gap_from = self.in_col;
        self.last = w;
        self.phase = Phase::Gap;
    }

    /// The blanks after the last word end with `after`: adds the word.
    fn push_word(&mut self, after: After, out: &mut Vec<u8>) {
        let mut w = self.last;
        w.gap = self.in_col - self.gap_from;
        w.sentence_end =
            after == After::Eof || (w.period && (after == After::Newline || w.gap > 1));
        if after != After::Text || self.s.uniform {
            w.gap = if w.sentence_end { 2 } else { 1 };
        }
        if self
            .para
            .as_ref()
            .is_some_and(|p| p.words.len() >= WORD_LIMIT)
        {
            self.choose_other_indent_mid(self.in_col);
            self.print_part(out);
        }
        if let Some(p) = &mut self.para {
            w.start = p.pending;
            p.words.push(w);
        }
    }

    /// GNU resets the other lines' indentation from the current column
    /// before printing part of a long paragraph.
    fn choose_other_indent_mid(&mut self, col: i64) {
        if let Some(first) = self.para.as_ref().map(|p| p.first_indent) {
            self.choose_other_indent(true, col, first);
        }
    }

    /// Prints the first lines of an over-long paragraph, up to a cheap
    /// break, keeping the rest (and the word being read).
    fn print_part(&mut self, out: &mut Vec<u8>) {
        let Some(mut p) = self.para.take() else {
            return;
        };
        if p.words.is_empty() {
            // One word that fills the buffer: it goes out as it is.
            out.extend_from_slice(&p.text);
            p.text.clear();
            p.pending = 0;
            self.para = Some(p);
            return;
        }
        let n = p.words.len();
        let pl = plan(
            &p.words,
            p.first_indent,
            self.other_indent,
            p.last_line,
            self.s,
        );
        let mut cut = n;
        let mut best = i64::MAX;
        let mut w = pl.next[0];
        while w != n {
            let d = pl.cost[w] - pl.cost[pl.next[w]];
            if d < best {
                cut = w;
                best = d;
            }
            if best <= i64::MAX - LATER_SPLIT {
                best += LATER_SPLIT;
            }
            w = pl.next[w];
        }
        p.last_line = self.print_lines(&p, &pl, cut, out);
        let shift = if cut < n {
            p.words[cut].start
        } else {
            p.pending
        };
        p.text.drain(..shift);
        p.words.drain(..cut);
        for w in &mut p.words {
            w.start -= shift;
        }
        p.pending -= shift;
        self.para = Some(p);
    }

    /// Prints the lines of `p` from its first word up to word `cut`;
    /// returns the length of the last line printed.
    fn print_lines(&mut self, p: &Para, pl: &Plan, cut: usize, out: &mut Vec<u8>) -> i64 {
        let mut w = 0;
        loop {
            let indent = if w == 0 {
                p.first_indent
            } else {
                self.other_indent
            };
            let last = self.print_line(p, w, pl.next[w], indent, out);
            w = pl.next[w];
            if w == cut || w >= p.words.len() {
                return last;
            }
        }
    }

    /// Prints words `from..to` of `p` as a line; returns its length.
    fn print_line(
        &mut self,
        p: &Para,
        from: usize,
        to: usize,
        indent: i64,
        out: &mut Vec<u8>,
    ) -> i64 {
        self.col = 0;
        self.space(p.prefix_col, out);
        out.extend_from_slice(&self.s.prefix);
        self.col += to_i64(self.s.prefix.len());
        self.space(indent - self.col, out);
        for k in from..to {
            let w = &p.words[k];
            let end = w.start + usize::try_from(w.len).unwrap_or(0);
            out.extend_from_slice(&p.text[w.start..end]);
            self.col += w.len;
            if k + 1 < to {
                self.space(w.gap, out);
            }
        }
        out.push(b'\n');
        self.col
    }

    /// Formats and prints the whole paragraph being gathered.
    fn end_para(&mut self, out: &mut Vec<u8>) {
        let Some(mut p) = self.para.take() else {
            return;
        };
        let Some(last) = p.words.last_mut() else {
            return;
        };
        last.period = true;
        last.sentence_end = true;
        let pl = plan(
            &p.words,
            p.first_indent,
            self.other_indent,
            p.last_line,
            self.s,
        );
        let n = p.words.len();
        let _ = self.print_lines(&p, &pl, n, out);
    }

    /// Moves the output column on by `n`, with tabs when the input had them.
    fn space(&mut self, n: i64, out: &mut Vec<u8>) {
        let target = self.col + n;
        if self.tabs {
            let tab_target = target / TAB * TAB;
            if self.col + 1 < tab_target {
                while self.col < tab_target {
                    out.push(b'\t');
                    self.col = (self.col / TAB + 1) * TAB;
                }
            }
        }
        while self.col < target {
            out.push(b' ');
            self.col += 1;
        }
    }
}

/// Formats a whole input held in memory (for tests).
#[cfg(test)]
fn format_all(input: &[u8], s: &Settings) -> Vec<u8> {
    let mut out = Vec::new();
    let mut f = Formatter::new(s);
    f.feed(input, &mut out);
    f.finish(&mut out);
    out
}

/// A file name as GNU's `quoteaf` shows ordinary names: `'x'`, or `"x'y"`
/// when it holds a single quote.
fn quote_name(name: &str) -> String {
    if name.contains('\'') && !name.contains('"') {
        format!("\"{name}\"")
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// Splits off GNU's `-N` width, recognised only as the first argument.
fn legacy_width(args: &[String]) -> (Option<&str>, &[String]) {
    match args.first() {
        Some(a) if a.len() > 1 && a.starts_with('-') && a.as_bytes()[1].is_ascii_digit() => {
            (Some(&a[1..]), &args[1..])
        }
        _ => (None, args),
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let args = ctx.args.clone();
    let (legacy, rest) = legacy_width(&args);
    let p = mirage_types::args::parse(&SPEC, rest).map_err(|msg| {
        let digit = msg
            .strip_prefix("invalid option -- '")
            .and_then(|r| r.strip_suffix('\''))
            .filter(|c| c.len() == 1 && c.as_bytes()[0].is_ascii_digit());
        match digit {
            Some(d) => CmdError::usage(format!(
                "invalid option -- {d}; -WIDTH is recognized only when it is the first\noption; use -w N instead"
            )),
            None => CmdError::usage(msg),
        }
    })?;
    let s = settings(&p, legacy).map_err(|m| CmdError::new(1, m))?;
    let mut status = 0;
    let mut out = Vec::with_capacity(2 * OUT_CHUNK);
    for operand in operands_or_stdin(&p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(src) => src,
            Err(e) => {
                ctx.stdout.write(&out).await?;
                out.clear();
                if e.kind == ErrorKind::IsADirectory {
                    ctx.error("read error").await;
                } else {
                    ctx.error(format!(
                        "cannot open {} for reading: {}",
                        quote_name(&operand),
                        e.message()
                    ))
                    .await;
                }
                status = 1;
                continue;
            }
        };
        let mut f = Formatter::new(&s);
        let mut stream = src.into_stream();
        let mut failed = false;
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else {
                failed = true;
                break;
            };
            for piece in chunk.chunks(OUT_CHUNK) {
                f.feed(piece, &mut out);
                if out.len() >= OUT_CHUNK {
                    ctx.stdout.write(&out).await?;
                    out.clear();
                }
            }
        }
        f.finish(&mut out);
        if failed {
            ctx.stdout.write(&out).await?;
            out.clear();
            ctx.error("read error").await;
            status = 1;
        }
    }
    ctx.stdout.write(&out).await?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn fmt_str(input: &str, s: &Settings) -> String {
        String::from_utf8_lossy(&format_all(input.as_bytes(), s)).into_owned()
    }

    #[test]
    fn widths_parse_as_gnu() {
        assert_eq!(parse_width(" +5", 2500), Ok(5));
        assert_eq!(parse_width("010", 2500), Ok(10));
        assert!(parse_width("-5", 2500).is_err());
        assert!(parse_width("5 ", 2500).is_err());
        assert_eq!(
            parse_width("2501", 2500).unwrap_err(),
            "invalid width: \u{2018}2501\u{2019}: Numerical result out of range"
        );
    }

    #[test]
    fn formats_as_gnu() {
        // Each expectation was printed by GNU fmt 9.1.
        let s = Settings::plain(14, 14 * 187 / 200);
        assert_eq!(
            fmt_str("aaaa bbbb cccc dddd eeee\n", &s),
            "aaaa bbbb\ncccc dddd\neeee\n"
        );
        let s = Settings::plain(15, 15 * 187 / 200);
        assert_eq!(
            fmt_str("aaaa bbbb cccc dddd eeee\n", &s),
            "aaaa bbbb cccc\ndddd eeee\n"
        );
        let s = Settings::plain(75, 69);
        assert_eq!(fmt_str("abc\n   ", &s), "abc\n\n");
        assert_eq!(fmt_str("x", &s), "x\n");
    }

    #[test]
    fn long_paragraphs_print_in_parts_as_gnu() {
        // GNU fmt 9.1: 1500 words come out as 250 equal lines; a word that
        // fills the 5000-byte buffer goes out raw, without its indentation.
        let s = Settings::plain(20, 20 * 187 / 200);
        let input = format!("{}\n", vec!["ab"; 1500].join(" "));
        let out = fmt_str(&input, &s);
        assert_eq!(out, "ab ab ab ab ab ab\n".repeat(250));
        let s = Settings::plain(75, 69);
        let input = format!("    {} end\n", "z".repeat(5003));
        let want = format!("{}    zzz end\n", "z".repeat(5000));
        assert_eq!(fmt_str(&input, &s), want);
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let s = Settings::plain(20, 18);
        let input = b"  one two.  three\tfour\r five\n\n\tsix seven eight nine ten eleven\n  \nend";
        let whole = format_all(input, &s);
        let mut out = Vec::new();
        let mut f = Formatter::new(&s);
        for b in input.chunks(1) {
            f.feed(b, &mut out);
        }
        f.finish(&mut out);
        assert_eq!(out, whole);
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-w", "5"], "a b c\n", "a\nb c\n", 0),
            (&["-w", "x"], "", "", 1),
            (&["-3", "-5"], "", "", 1),
            (&["nope"], "", "", 1),
            (&["/d/a.txt"], "", "a1 a2 a3\n", 0),
            (
                &["-t"],
                "single line tagged paragraph\n\nanother one\n",
                "single line tagged paragraph\n\nanother one\n",
                0,
            ),
            (
                &["-w", "20", "-p", "# "],
                "# one two three four five six\n#\ncode\n#x y\n# end",
                "# one two three\n# four five six\n#\ncode\n#x y\n# end\n",
                0,
            ),
            (
                &["-w", "30"],
                "para one has some words to wrap around\n\n\tnext para, tabbed indent and gap\n",
                "para one has some words to\nwrap around\n\n\tnext para, tabbed\n\tindent and gap\n",
                0,
            ),
            (
                &["-w", "25"],
                "a\tb\tc d e f g h i j k l m n o p\n",
                "a\tb\tc d e f\ng h i j k l m n o p\n",
                0,
            ),
            (
                &["-c", "-w", "20"],
                "  crown first line\nrest of the lines and more\n",
                "  crown first line\nrest of the lines\nand more\n",
                0,
            ),
            (&["-s", "-u"], "a  b.   c\n  d   e\n", "a b.  c\n  d e\n", 0),
            (&["-w", "20"], "x\r y\x0cz end.\n", "x\r y\x0cz end.\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "fmt", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
