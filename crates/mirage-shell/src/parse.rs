//! The bash grammar → [`Script`]: a hand-written recursive-descent parser
//! that follows bash 5.2's `parse.y`.
//!
//! The token rules are bash's: a word runs to an unquoted metacharacter
//! (blank, newline, `; & | ( ) < >`), quotes, `$(…)`, `${…}`, `$((…))`,
//! backquotes and `<(…)`/`>(…)` are part of the word they appear in, and a
//! reserved word (`if`, `{`, `done`, …) is one only in command position.
//! `$(…)` is parsed recursively to find its end, so a `case` or a
//! here-document inside it is read exactly as bash reads it.
//! Here-document bodies are read when the newline that ends their line is
//! consumed, as bash reads them.
//!
//! Words keep their source text and are lexed by [`crate::word`].
//!
//! Recursion (nested compound commands, `$(…)`, `${…}`, quotes) is bounded
//! by [`MAX_NESTING`]: deeper input fails with ``nesting too deep`` instead of
//! overflowing the stack.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use crate::ast::*;
use crate::word::{lex_heredoc, lex_word, lex_words};

/// How deeply constructs may nest (compound commands, `$(…)`, `${…}`,
/// quotes inside substitutions, `&&`/`||` chains) before parsing fails with
/// ``nesting too deep``. Each level runs in `grow`, so any thread stack
/// suffices.
pub const MAX_NESTING: usize = 1000;

/// A syntax error, worded as bash words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The message without the `bash: ` prefix, e.g.
    /// ``syntax error near unexpected token `fi'``.
    pub message: String,
    /// The 1-based line of the input where the error was found (0: unknown).
    pub line: usize,
}

impl SyntaxError {
    /// ``syntax error near unexpected token `TOKEN'``.
    pub fn near(token: &str) -> Self {
        SyntaxError {
            message: format!("syntax error near unexpected token `{token}'"),
            line: 0,
        }
    }
    /// An unterminated quote or construct.
    pub fn eof(what: &str) -> Self {
        SyntaxError {
            message: format!("unexpected EOF while looking for matching `{what}'"),
            line: 0,
        }
    }
    /// ``syntax error: unexpected end of file``.
    pub fn end_of_file() -> Self {
        SyntaxError {
            message: "syntax error: unexpected end of file".into(),
            line: 0,
        }
    }
    /// `${…}` that bash rejects.
    pub fn bad_subst() -> Self {
        SyntaxError {
            message: "bad substitution".into(),
            line: 0,
        }
    }
    /// A construct we parse but do not run.
    pub fn unsupported(what: &str) -> Self {
        SyntaxError {
            message: format!("unsupported: {what}"),
            line: 0,
        }
    }
    /// Nesting deeper than [`MAX_NESTING`].
    pub fn too_deep() -> Self {
        SyntaxError {
            message: format!("nesting too deep (more than {MAX_NESTING} levels)"),
            line: 0,
        }
    }
}

impl SyntaxError {
    /// The error as bash reports it for `bash -c SRC`, with `mirage` for
    /// `bash`: ``mirage: -c: line N: MESSAGE``, then, for an unexpected
    /// token, ``mirage: -c: line N: `THE LINE'``. Ends with a newline.
    pub fn report(&self, src: &str) -> String {
        let line = self.line.max(1);
        let mut out = format!("mirage: -c: line {line}: {}\n", self.message);
        if self.message.starts_with("syntax error near")
            && let Some(text) = src.split('\n').nth(line - 1)
        {
            out.push_str(&format!("mirage: -c: line {line}: `{text}'\n"));
        }
        out
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// The result of parsing a whole input the way bash reads it: the complete
/// commands before the first syntax error run, then the error is reported.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The commands that parsed.
    pub script: Script,
    /// The first syntax error, if any.
    pub error: Option<SyntaxError>,
    /// The parse settings ([`crate::alias`]) this was parsed with.
    pub epoch: u64,
    /// For each line: the index of its first item and the character offset
    /// in the source where it starts.
    pub line_offsets: Vec<(usize, usize)>,
    /// The character offset where the line with the syntax error starts.
    pub end_offset: usize,
    /// Warnings to print (after `bash: `) before the item at each index
    /// runs: bash prints them as it reads that line.
    pub warnings: Vec<(usize, String)>,
}

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Above zero while a function body (or text for the function printer)
    /// is parsed: words then keep their source text ([`Word::src`]).
    static RECORD: Cell<usize> = const { Cell::new(0) };
}

/// Whether words being parsed keep their source text (inside a function
/// body, or text parsed for [`crate::funcprint`]).
pub(crate) fn recording() -> bool {
    RECORD.with(|r| r.get() > 0)
}

/// Words keep their source text while this lives (released on drop).
pub(crate) struct RecordGuard;

impl RecordGuard {
    /// Starts recording words' source text.
    pub(crate) fn enter() -> RecordGuard {
        RECORD.with(|r| r.set(r.get() + 1));
        RecordGuard
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        RECORD.with(|r| r.set(r.get().saturating_sub(1)));
    }
}

/// One level of nesting, released on drop. Shared by the parser and the word
/// lexer, so recursion through `$(…)` and `${…}` counts once per level.
pub(crate) struct DepthGuard;

impl DepthGuard {
    /// Enters one level, or fails when [`MAX_NESTING`] is exceeded.
    pub(crate) fn enter() -> Result<DepthGuard, SyntaxError> {
        DEPTH.with(|d| {
            let v = d.get();
            if v >= MAX_NESTING {
                return Err(SyntaxError::too_deep());
            }
            d.set(v + 1);
            Ok(DepthGuard)
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs `f` with at least 256 KiB of stack, switching to a new heap-allocated
/// stack segment when the current one runs low (`stacker`), so recursion to
/// [`MAX_NESTING`] cannot overflow even a small thread stack.
pub(crate) fn grow<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, f)
}

/// Parses an input like `bash -c`: bash reads and runs one line (a complete
/// command ending at a newline) at a time, so the commands of the complete
/// lines before a syntax error are returned to run, with the error.
pub fn parse_input(src: &str) -> Parsed {
    parse_input_from(src, 0)
}

/// [`parse_input`] of the text from character offset `start` on (line
/// numbers still count from the start of `src`).
pub fn parse_input_from(src: &str, start: usize) -> Parsed {
    let chars: Vec<char> = src.chars().collect();
    let mut p = Parser::new(&chars, start, false);
    let mut items = Vec::new();
    let mut line_starts = Vec::new();
    let mut line_offsets = Vec::new();
    let epoch = crate::alias::current_epoch();
    let mut end_offset;
    let mut warnings = Vec::new();
    let error = loop {
        end_offset = p.pos;
        match p.top_line() {
            Ok(Some(mut line)) => {
                p.fill_heredocs(&mut line);
                for w in std::mem::take(&mut p.warnings) {
                    warnings.push((items.len(), w));
                }
                if !items.is_empty() && !line.is_empty() {
                    line_starts.push(items.len());
                }
                if !line.is_empty() {
                    line_offsets.push((items.len(), end_offset));
                }
                items.extend(line);
            }
            Ok(None) => break None,
            Err(mut e) => {
                if e.line == 0 {
                    e.line = p.line_at(p.pos);
                }
                for w in std::mem::take(&mut p.warnings) {
                    warnings.push((items.len(), w));
                }
                break Some(e);
            }
        }
    };
    Parsed {
        script: Script { items, line_starts },
        error,
        epoch,
        line_offsets,
        end_offset,
        warnings,
    }
}

/// Parses a complete script; any syntax error fails the whole parse.
pub fn parse_script(src: &str) -> Result<Script, SyntaxError> {
    let parsed = parse_input(src);
    match parsed.error {
        Some(e) => Err(e),
        None => Ok(parsed.script),
    }
}

/// Checks the syntax of `src` without running it, as `bash -n` does.
pub fn check_syntax(src: &str) -> Result<(), SyntaxError> {
    parse_script(src).map(|_| ())
}

/// Whether `src` stops in the middle of a command, so that an interactive
/// shell reads another line (on its `PS2` prompt) before running it, as
/// bash does: an open quote, `$(`, `${` or `` ` ``, a compound command
/// without its closing word (`if` without `fi`, `{` without `}`), a
/// trailing `|`, `&&` or `||`, a backslash-newline at the end, or a
/// here-document still waiting for its delimiter. A real syntax error
/// (`fi` alone, `echo )`) is not incomplete: it is reported at once.
pub fn is_incomplete(src: &str) -> bool {
    if let Some(e) = parse_input(src).error {
        return e
            .message
            .starts_with("unexpected EOF while looking for matching")
            || e.message == SyntaxError::end_of_file().message;
    }
    // a backslash-newline at the end continues the line, unless it is in
    // a comment (then a quote put in its place opens nothing)
    let body = src.strip_suffix('\n').unwrap_or(src);
    let backslashes = body.len() - body.trim_end_matches('\\').len();
    if backslashes % 2 == 1 {
        let before = &body[..body.len() - 1];
        if parse_input(&format!("{before}'")).error.is_some() {
            return true;
        }
    }
    // an open here-document swallows a line that would otherwise be an error
    parse_input(&format!("{src}\n)\n")).error.is_none()
}

/// For `$(`, `<(` and `>(` whose body starts at `from`: the index of the
/// closing `)`, found by parsing the body as bash does.
pub(crate) fn subst_end(chars: &[char], from: usize) -> Result<usize, SyntaxError> {
    grow(|| subst_end_inner(chars, from))
}

/// For the `[` at `open`: the index of the `]` that closes it (brackets
/// nest), or `None` when the text ends first. `escapes`: a backslash hides
/// the character after it (as in an assignment's `name[…]=`).
pub(crate) fn bracket_end(chars: &[char], open: usize, escapes: bool) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            '\\' if escapes => i += 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn subst_end_inner(chars: &[char], from: usize) -> Result<usize, SyntaxError> {
    let _g = DepthGuard::enter()?;
    let mut p = Parser::new(chars, from, true);
    p.compound_list(true)?;
    match p.peek()? {
        Tok::Op(")") => Ok(p.pos_after_blanks()),
        Tok::Eof => Err(SyntaxError::eof(")")),
        t => Err(p.unexpected(&t)),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A word, as its source text.
    Word(String),
    /// A file descriptor number right before a redirection operator.
    IoNum(u32),
    /// `{name}` right before a redirection operator (`{fd}>file`).
    IoVar(String),
    /// An operator (`;`, `&&`, `>>`, `(`, …).
    Op(&'static str),
    Newline,
    Eof,
}

const OPS: [&str; 24] = [
    ";;&", "<<<", "<<-", "&>>", ";;", ";&", "&&", "&>", "||", "|&", "<<", "<&", "<>", ">>", ">&",
    ">|", ";", "&", "|", "<", ">", "(", ")", "\n",
];

const RESERVED_END: [&str; 8] = ["}", "fi", "then", "else", "elif", "do", "done", "esac"];

struct PendingDoc {
    delim: String,
    strip: bool,
    quoted: bool,
    index: usize,
    /// The line of its `<<`.
    line: usize,
}

/// The recursive-descent parser over a character buffer.
struct Parser<'a> {
    c: &'a [char],
    pos: usize,
    /// The peeked token: (position, the `array_ok` it depends on if it met `name=(`, token, end).
    peeked: Option<(usize, Option<bool>, Tok, usize)>,
    pending: Vec<PendingDoc>,
    /// Warnings bash prints while it reads (a here-document ended by the
    /// end of the text), without the `bash: ` prefix.
    warnings: Vec<String>,
    /// Here-document bodies by index: (body, quoted).
    docs: Vec<(String, bool)>,
    /// Compound assignment `name=(…)` allowed in the next word.
    array_ok: bool,
    /// Build words (false: only find where constructs end, for `$(…)`
    /// inside a word, which the word lexer parses again).
    lexing: bool,
    /// Set when a scan met `name=(`, whose meaning depends on `array_ok`.
    array_seen: Cell<bool>,
    /// Where each newline of `c` is (found on first use).
    newlines: std::cell::OnceCell<Vec<usize>>,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
    )
}

/// The length of `name=`, `name+=` or `name[…]=` at the start of `w`, if it
/// is an assignment word.
fn assign_prefix(w: &[char]) -> Option<usize> {
    let mut i = 0;
    if !w
        .first()
        .is_some_and(|c| *c == '_' || c.is_ascii_alphabetic())
    {
        return None;
    }
    while i < w.len() && (w[i] == '_' || w[i].is_ascii_alphanumeric()) {
        i += 1;
    }
    if w.get(i) == Some(&'[') {
        i = bracket_end(w, i, true)? + 1;
    }
    if w.get(i) == Some(&'+') {
        i += 1;
    }
    if w.get(i) == Some(&'=') {
        Some(i + 1)
    } else {
        None
    }
}

/// Removes quotes from a here-document delimiter; true when any quoting was seen.
fn unquote_delim(raw: &str) -> (String, bool) {
    let mut out = String::new();
    let mut quoted = false;
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' => {
                quoted = true;
                for d in it.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    out.push(d);
                }
            }
            '"' => {
                quoted = true;
                while let Some(d) = it.next() {
                    if d == '"' {
                        break;
                    }
                    if d == '\\'
                        && it
                            .peek()
                            .is_some_and(|n| matches!(n, '"' | '\\' | '$' | '`'))
                    {
                        if let Some(n) = it.next() {
                            out.push(n);
                        }
                        continue;
                    }
                    out.push(d);
                }
            }
            '\\' => {
                quoted = true;
                if let Some(n) = it.next() {
                    out.push(n);
                }
            }
            '$' if matches!(it.peek(), Some('\'' | '"')) => {}
            _ => out.push(c),
        }
    }
    (out, quoted)
}

impl<'a> Parser<'a> {
    fn new(c: &'a [char], pos: usize, in_subst: bool) -> Self {
        Parser {
            c,
            pos,
            peeked: None,
            pending: Vec::new(),
            warnings: Vec::new(),
            docs: Vec::new(),
            array_ok: false,
            lexing: !in_subst,
            array_seen: Cell::new(false),
            newlines: std::cell::OnceCell::new(),
        }
    }

    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }

    fn line_at(&self, pos: usize) -> usize {
        let newlines = self.newlines.get_or_init(|| {
            self.c
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i)
                .collect()
        });
        1 + newlines.partition_point(|&i| i < pos)
    }

    /// The line of the next token (the peeked one, if any).
    fn tok_line(&self) -> u32 {
        let at = match &self.peeked {
            Some((start, ..)) => *start,
            None => self.pos_after_blanks(),
        };
        u32::try_from(self.line_at(at)).unwrap_or(u32::MAX)
    }

    fn err_at(&self, mut e: SyntaxError) -> SyntaxError {
        if e.line == 0 {
            e.line = self.line_at(self.pos);
        }
        e
    }

    /// The error for an unexpected token.
    fn unexpected(&self, t: &Tok) -> SyntaxError {
        let e = match t {
            Tok::Eof => {
                // bash's lexer reads one more (empty) line at the end of
                // the text before it knows the input is over
                let mut e = SyntaxError::end_of_file();
                e.line = self.line_at(self.c.len()) + usize::from(self.c.last() != Some(&'\n'));
                e
            }
            Tok::Newline => {
                // the line the newline ends (the lexer is past it)
                let mut e = SyntaxError::near("newline");
                if self.pos > 0 && self.at(self.pos - 1) == Some('\n') {
                    e.line = self.line_at(self.pos - 1);
                }
                e
            }
            Tok::Op(o) => SyntaxError::near(o),
            Tok::IoNum(n) => SyntaxError::near(&n.to_string()),
            Tok::IoVar(v) => SyntaxError::near(&format!("{{{v}}}")),
            Tok::Word(w) => SyntaxError::near(w),
        };
        self.err_at(e)
    }

    /// Skips blanks, line continuations and a comment; returns the new position.
    fn skip_blanks_from(&self, mut i: usize) -> usize {
        loop {
            match self.at(i) {
                Some(' ' | '\t') => i += 1,
                Some('\\') if self.at(i + 1) == Some('\n') => i += 2,
                Some('#') => {
                    while i < self.c.len() && self.c[i] != '\n' {
                        i += 1;
                    }
                }
                _ => return i,
            }
        }
    }

    fn pos_after_blanks(&self) -> usize {
        self.skip_blanks_from(self.pos)
    }

    /// The source text from `start` to the current position, trimmed
    /// (a background job's command, for `jobs`).
    fn text_since(&self, start: usize) -> String {
        self.c
            .get(start..self.pos)
            .map(|t| t.iter().collect::<String>().trim().to_string())
            .unwrap_or_default()
    }

    /// The next token without consuming it.
    fn peek(&mut self) -> Result<Tok, SyntaxError> {
        if let Some((p, a, t, _)) = &self.peeked {
            // only a word with `name=(` scans differently with `array_ok`
            if *p == self.pos && a.is_none_or(|a| a == self.array_ok) {
                return Ok(t.clone());
            }
        }
        let start = self.skip_blanks_from(self.pos);
        self.array_seen.set(false);
        let (tok, end) = self.scan(start).map_err(|e| self.err_at(e))?;
        let sensitive = self.array_seen.get().then_some(self.array_ok);
        self.peeked = Some((self.pos, sensitive, tok.clone(), end));
        Ok(tok)
    }

    /// Consumes the peeked token; a newline reads pending here-document bodies.
    fn bump(&mut self) -> Result<Tok, SyntaxError> {
        let t = self.peek()?;
        if let Some((_, _, _, end)) = self.peeked.take() {
            self.pos = end;
        }
        // at the end of the text a pending here-document is empty (bash:
        // "delimited by end-of-file")
        if t == Tok::Newline || (t == Tok::Eof && !self.pending.is_empty()) {
            self.read_heredocs();
        }
        Ok(t)
    }

    fn read_heredocs(&mut self) {
        for doc in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            let mut closed = false;
            while self.pos < self.c.len() {
                let start = self.pos;
                let mut end = start;
                while end < self.c.len() && self.c[end] != '\n' {
                    end += 1;
                }
                let line: String = self.c[start..end].iter().collect();
                self.pos = (end + 1).min(self.c.len());
                let content = if doc.strip {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if content == doc.delim {
                    closed = true;
                    break;
                }
                body.push_str(content);
                body.push('\n');
                if end >= self.c.len() {
                    break;
                }
            }
            if !closed {
                // bash 5.2 names the last line of the text
                let newlines = self.c.iter().filter(|c| **c == '\n').count();
                let last = newlines + usize::from(self.c.last().is_some_and(|c| *c != '\n'));
                self.warnings.push(format!(
                    "line {}: warning: here-document at line {} delimited by end-of-file (wanted `{}')",
                    last.max(1),
                    doc.line,
                    doc.delim
                ));
            }
            if self.docs.len() <= doc.index {
                self.docs.resize(doc.index + 1, (String::new(), false));
            }
            self.docs[doc.index] = (body, doc.quoted);
        }
    }

    fn scan(&self, i: usize) -> Result<(Tok, usize), SyntaxError> {
        let Some(c) = self.at(i) else {
            return Ok((Tok::Eof, i));
        };
        if is_meta(c) {
            // process substitution starts a word
            if (c == '<' || c == '>') && self.at(i + 1) == Some('(') {
                let end = self.scan_word(i)?;
                return Ok((Tok::Word(self.c[i..end].iter().collect()), end));
            }
            for op in OPS {
                let n = op.chars().count();
                if self.c.len() >= i + n && op.chars().zip(&self.c[i..i + n]).all(|(a, b)| a == *b)
                {
                    let tok = if op == "\n" {
                        Tok::Newline
                    } else {
                        Tok::Op(op)
                    };
                    return Ok((tok, i + n));
                }
            }
            return Ok((Tok::Op(";"), i + 1));
        }
        let end = self.scan_word(i)?;
        let text: String = self.c[i..end].iter().collect();
        if matches!(self.at(end), Some('<' | '>'))
            && !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = text.parse::<u32>()
        {
            return Ok((Tok::IoNum(n), end));
        }
        if let Some(v) = io_var(&text)
            && matches!(self.at(end), Some('<' | '>'))
        {
            return Ok((Tok::IoVar(v), end));
        }
        Ok((Tok::Word(text), end))
    }

    /// The end of the word that starts at `i`.
    fn scan_word(&self, mut i: usize) -> Result<usize, SyntaxError> {
        let start = i;
        while let Some(c) = self.at(i) {
            match c {
                '<' | '>' if self.at(i + 1) == Some('(') => {
                    i = subst_end(self.c, i + 2)? + 1;
                }
                '(' if assign_prefix(&self.c[start..i]) == Some(i - start) => {
                    self.array_seen.set(true);
                    if !self.array_ok {
                        break;
                    }
                    i = self.scan_array(i + 1)?;
                }
                '(' if crate::alias::opens_group(self.c, start, i) => {
                    i = crate::alias::group_end(self.c, i)?;
                }
                c if is_meta(c) => break,
                _ => i = self.scan_piece(i, false)?,
            }
        }
        Ok(i)
    }

    /// `(…)` of a compound assignment: the index after its `)`.
    fn scan_array(&self, mut i: usize) -> Result<usize, SyntaxError> {
        loop {
            match self.at(i) {
                None => return Err(SyntaxError::eof(")")),
                Some(')') => return Ok(i + 1),
                Some(' ' | '\t' | '\n') => i += 1,
                Some('#')
                    if matches!(self.at(i.wrapping_sub(1)), Some(' ' | '\t' | '\n' | '(')) =>
                {
                    while i < self.c.len() && self.c[i] != '\n' {
                        i += 1;
                    }
                }
                Some(c) if is_meta(c) => return Err(SyntaxError::near(&c.to_string())),
                Some(_) => {
                    while let Some(c) = self.at(i) {
                        if is_meta(c) {
                            break;
                        }
                        i = self.scan_piece(i, false)?;
                    }
                }
            }
        }
    }

    /// One unit of a word at `i` (a character, a quoted string, an
    /// expansion); returns the index after it. `dq`: inside double quotes.
    fn scan_piece(&self, i: usize, dq: bool) -> Result<usize, SyntaxError> {
        if matches!(self.c[i], '"' | '$') {
            grow(|| self.scan_piece_inner(i, dq))
        } else {
            self.scan_piece_inner(i, dq)
        }
    }

    fn scan_piece_inner(&self, i: usize, dq: bool) -> Result<usize, SyntaxError> {
        let c = self.c[i];
        match c {
            '\\' => Ok((i + 2).min(self.c.len())),
            '\'' if !dq => {
                let mut j = i + 1;
                while j < self.c.len() && self.c[j] != '\'' {
                    j += 1;
                }
                if j >= self.c.len() {
                    return Err(SyntaxError::eof("'"));
                }
                Ok(j + 1)
            }
            '"' if !dq => {
                let _g = DepthGuard::enter()?;
                let mut j = i + 1;
                loop {
                    match self.at(j) {
                        None => return Err(SyntaxError::eof("\"")),
                        Some('"') => return Ok(j + 1),
                        Some(_) => j = self.scan_piece(j, true)?,
                    }
                }
            }
            '`' => self.escaped_end(i + 1, '`'),
            '$' => match self.at(i + 1) {
                Some('\'') if !dq => self.escaped_end(i + 2, '\''),
                Some('"') if !dq => self.scan_piece(i + 1, false),
                Some('(') if self.at(i + 2) == Some('(') => match self.arith_end(i + 3)? {
                    Some(end) => Ok(end + 2),
                    None => Ok(subst_end(self.c, i + 2)? + 1),
                },
                Some('(') => Ok(subst_end(self.c, i + 2)? + 1),
                Some('[') => bracket_end(self.c, i + 1, false)
                    .map(|j| j + 1)
                    .ok_or_else(|| SyntaxError::eof("]")),
                Some('{') => {
                    let _g = DepthGuard::enter()?;
                    let mut j = i + 2;
                    loop {
                        match self.at(j) {
                            None => return Err(SyntaxError::eof("}")),
                            Some('}') => return Ok(j + 1),
                            Some('\'') if dq => j += 1,
                            Some(_) => j = self.scan_piece(j, false)?,
                        }
                    }
                }
                _ => Ok(i + 1),
            },
            _ => Ok(i + 1),
        }
    }

    /// The index after the first `close` from `from` on, a backslash hiding
    /// the character after it (the end of a `` `…` `` or `$'…'`).
    fn escaped_end(&self, from: usize, close: char) -> Result<usize, SyntaxError> {
        let mut j = from;
        loop {
            match self.at(j) {
                None => return Err(SyntaxError::eof(close.encode_utf8(&mut [0; 4]))),
                Some(c) if c == close => return Ok(j + 1),
                Some('\\') => j += 2,
                Some(_) => j += 1,
            }
        }
    }

    /// For `$((` / `((` whose text starts at `from`: the index of the first
    /// `)` of the closing `))`, or `None` when the parentheses close with a
    /// single `)` (then it is a command substitution or subshell).
    fn arith_end(&self, from: usize) -> Result<Option<usize>, SyntaxError> {
        match self.arith_close(from)? {
            Some(i) => Ok((self.at(i + 1) == Some(')')).then_some(i)),
            None => Err(SyntaxError::eof(")")),
        }
    }

    /// Arithmetic text from `from` read as plain characters, with
    /// parentheses nested and quotes, backslashes and `$( )` skipped whole:
    /// the index of the first `)` outside parentheses, or `None` when the
    /// text ends first.
    fn arith_close(&self, from: usize) -> Result<Option<usize>, SyntaxError> {
        let mut depth = 0usize;
        let mut i = from;
        while let Some(c) = self.at(i) {
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                ')' => return Ok(Some(i)),
                '\'' | '"' | '`' | '\\' => {
                    i = self.scan_piece(i, false)?;
                    continue;
                }
                '$' if self.at(i + 1) == Some('(') => {
                    i = self.scan_piece(i, false)?;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        Ok(None)
    }

    /// For `for ((`: the index of the first `)` of the closing `))`. bash
    /// reads this text as plain characters to the first `))` outside
    /// parentheses, skipping a stray `)` (with a stray `(`: the first `))`).
    fn for_arith_end(&self, from: usize) -> Result<usize, SyntaxError> {
        let mut i = from;
        while let Some(close) = self.arith_close(i)? {
            if self.at(close + 1) == Some(')') {
                return Ok(close);
            }
            // a stray `)`: skipped, still outside parentheses
            i = close + 1;
        }
        // an unbalanced `(`: the first `))`
        (from..self.c.len().saturating_sub(1))
            .find(|&j| self.c[j] == ')' && self.c[j + 1] == ')')
            .ok_or_else(|| SyntaxError::eof(")"))
    }

    fn skip_newlines(&mut self) -> Result<(), SyntaxError> {
        while self.peek()? == Tok::Newline {
            self.bump()?;
        }
        Ok(())
    }

    fn is_word(&mut self, w: &str) -> Result<bool, SyntaxError> {
        Ok(matches!(self.peek()?, Tok::Word(ref s) if s == w))
    }

    fn expect_word(&mut self, w: &str) -> Result<(), SyntaxError> {
        let t = self.peek()?;
        if matches!(&t, Tok::Word(s) if s == w) {
            self.bump()?;
            Ok(())
        } else {
            Err(self.unexpected(&t))
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), SyntaxError> {
        let t = self.peek()?;
        if matches!(t, Tok::Op(o) if o == op) {
            self.bump()?;
            Ok(())
        } else {
            Err(self.unexpected(&t))
        }
    }

    /// One top-level line: its commands, or `None` at the end of input.
    fn top_line(&mut self) -> Result<Option<Vec<Cmd>>, SyntaxError> {
        self.skip_newlines()?;
        if self.peek()? == Tok::Eof {
            return Ok(None);
        }
        let mut items = Vec::new();
        loop {
            let t = self.peek()?;
            if matches!(t, Tok::Eof | Tok::Newline) {
                break;
            }
            let start = self.pos_after_blanks();
            let cmd = self.and_or()?;
            match self.peek()? {
                Tok::Op(";") => {
                    self.bump()?;
                    items.push(cmd);
                }
                Tok::Op("&") => {
                    let text = self.text_since(start);
                    self.bump()?;
                    items.push(Cmd::Background(Box::new(cmd), text));
                }
                Tok::Newline => {
                    self.bump()?;
                    items.push(cmd);
                    break;
                }
                Tok::Eof => {
                    items.push(cmd);
                    break;
                }
                t => return Err(self.unexpected(&t)),
            }
        }
        Ok(Some(items))
    }

    /// A compound list, up to (not including) a closing reserved word, `)`,
    /// a case terminator or the end of input. Empty lists are errors unless
    /// `allow_empty`.
    fn compound_list(&mut self, allow_empty: bool) -> Result<Vec<Cmd>, SyntaxError> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines()?;
            let t = self.peek()?;
            if self.ends_list(&t) {
                break;
            }
            let start = self.pos_after_blanks();
            let cmd = self.and_or()?;
            match self.peek()? {
                Tok::Op(";") | Tok::Newline => {
                    self.bump()?;
                    items.push(cmd);
                }
                Tok::Op("&") => {
                    let text = self.text_since(start);
                    self.bump()?;
                    items.push(Cmd::Background(Box::new(cmd), text));
                }
                t if self.ends_list(&t) => {
                    items.push(cmd);
                    break;
                }
                t => return Err(self.unexpected(&t)),
            }
        }
        if items.is_empty() && !allow_empty {
            let t = self.peek()?;
            return Err(self.unexpected(&t));
        }
        Ok(items)
    }

    fn ends_list(&self, t: &Tok) -> bool {
        match t {
            Tok::Eof => true,
            Tok::Op(o) => matches!(*o, ")" | ";;" | ";&" | ";;&"),
            Tok::Word(w) => RESERVED_END.contains(&w.as_str()),
            _ => false,
        }
    }

    /// `pipeline { (&& | ||) newlines pipeline }`, as one flat
    /// [`Cmd::AndOr`]: a chain of any length is a loop, not nesting.
    fn and_or(&mut self) -> Result<Cmd, SyntaxError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let and = match self.peek()? {
                Tok::Op("&&") => true,
                Tok::Op("||") => false,
                _ => break,
            };
            self.bump()?;
            self.skip_newlines()?;
            rest.push((and, self.pipeline()?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Cmd::AndOr(Box::new(first), rest)
        })
    }

    fn pipeline(&mut self) -> Result<Cmd, SyntaxError> {
        let mut negate = false;
        let mut bangs = false;
        let mut prefix = false;
        let mut timed: Option<bool> = None;
        loop {
            if self.is_word("!")? {
                self.bump()?;
                negate = !negate;
                prefix = true;
                bangs = true;
            } else if self.is_word("time")? {
                self.bump()?;
                prefix = true;
                // `time -p`, and `time --` (bash 5.2 gives the POSIX form too)
                let mut posix = timed.unwrap_or(false);
                if self.is_word("-p")? {
                    self.bump()?;
                    posix = true;
                }
                if self.is_word("--")? {
                    self.bump()?;
                    posix = true;
                }
                timed = Some(posix);
            } else {
                break;
            }
        }
        let t = self.peek()?;
        let first = if prefix
            && matches!(
                t,
                Tok::Eof | Tok::Newline | Tok::Op(";" | ")" | ";;" | ";&" | ";;&")
            ) {
            // `!` or `time` alone
            Cmd::Empty
        } else {
            self.command()?
        };
        let mut stages = vec![first];
        let mut errs = vec![false];
        loop {
            let err = match self.peek()? {
                Tok::Op("|") => false,
                Tok::Op("|&") => true,
                _ => break,
            };
            if stages.len() == 1 && matches!(stages[0], Cmd::Empty) {
                let t = self.peek()?;
                return Err(self.unexpected(&t));
            }
            self.bump()?;
            if let Some(last) = errs.last_mut() {
                *last = err;
            }
            self.skip_newlines()?;
            stages.push(self.command()?);
            errs.push(false);
        }
        let cmd = if stages.len() == 1 {
            stages.pop().unwrap_or(Cmd::Empty)
        } else {
            Cmd::Pipeline(stages, errs)
        };
        let cmd = if negate { Cmd::Not(Box::new(cmd)) } else { cmd };
        // `! !` alone: the empty command's 0, negated twice (see Cmd::Not)
        let cmd = match cmd {
            Cmd::Empty if bangs => Cmd::Not(Box::new(Cmd::Not(Box::new(Cmd::Empty)))),
            c => c,
        };
        Ok(match timed {
            Some(posix) => Cmd::Time {
                posix,
                cmd: Box::new(cmd),
            },
            None => cmd,
        })
    }

    fn command(&mut self) -> Result<Cmd, SyntaxError> {
        grow(|| self.command_inner())
    }

    fn command_inner(&mut self) -> Result<Cmd, SyntaxError> {
        let _g = DepthGuard::enter().map_err(|e| self.err_at(e))?;
        self.array_ok = true;
        let t = self.peek()?;
        let compound = match &t {
            Tok::Word(w) => match w.as_str() {
                "{" | "if" | "while" | "until" | "for" | "select" | "case" | "[[" => {
                    Some(self.compound()?)
                }
                "function" => return self.function_kw(),
                "coproc" => return self.coproc_kw(),
                "}" | "fi" | "then" | "else" | "elif" | "do" | "done" | "esac" | "in" | "!"
                | "]]" => return Err(self.unexpected(&t)),
                _ => None,
            },
            Tok::Op("(") => Some(self.compound()?),
            Tok::Op(o) if o.contains('<') || o.contains('>') => None,
            Tok::IoNum(_) | Tok::IoVar(_) => None,
            _ => return Err(self.unexpected(&t)),
        };
        match compound {
            Some(c) => self.with_redirects(c),
            None => self.simple(),
        }
    }

    /// Trailing redirections of a compound command.
    fn with_redirects(&mut self, c: Cmd) -> Result<Cmd, SyntaxError> {
        let mut redirs = Vec::new();
        while let Some(r) = self.try_redirect()? {
            redirs.push(r);
        }
        Ok(if redirs.is_empty() {
            c
        } else {
            Cmd::Redirected(Box::new(c), redirs)
        })
    }

    /// A compound command (the current token starts one).
    fn compound(&mut self) -> Result<Cmd, SyntaxError> {
        let t = self.peek()?;
        let line = self.tok_line();
        match t {
            Tok::Op("(") => {
                if self.at(self.pos_after_blanks() + 1) == Some('(') {
                    let open = self.pos_after_blanks();
                    if let Some(end) = self.arith_end(open + 2).map_err(|e| self.err_at(e))? {
                        let inner: String = self.c[open + 2..end].iter().collect();
                        self.peeked = None;
                        self.pos = end + 2;
                        return Ok(Cmd::Arith(self.lex_dq(&inner)?, line));
                    }
                }
                self.bump()?;
                let body = self.compound_list(false)?;
                self.expect_op(")")?;
                Ok(Cmd::Subshell(Box::new(seq(body))))
            }
            Tok::Word(ref w) => match w.as_str() {
                "{" => {
                    self.bump()?;
                    let body = self.compound_list(false)?;
                    self.expect_word("}")?;
                    Ok(Cmd::Group(Box::new(seq(body))))
                }
                "if" => self.if_cmd(),
                "while" | "until" => {
                    self.bump()?;
                    let cond = self.compound_list(false)?;
                    self.expect_word("do")?;
                    let body = self.compound_list(false)?;
                    self.expect_word("done")?;
                    Ok(Cmd::While(
                        Box::new(seq(cond)),
                        Box::new(seq(body)),
                        w == "until",
                    ))
                }
                "for" | "select" => self.for_cmd(w == "select", line),
                "case" => self.case_cmd(line),
                "[[" => self.cond_cmd(line),
                _ => Err(self.unexpected(&t)),
            },
            t => Err(self.unexpected(&t)),
        }
    }

    fn if_cmd(&mut self) -> Result<Cmd, SyntaxError> {
        self.bump()?;
        let mut arms = Vec::new();
        let mut els = None;
        loop {
            let cond = self.compound_list(false)?;
            self.expect_word("then")?;
            let body = self.compound_list(false)?;
            arms.push((seq(cond), seq(body)));
            let t = self.peek()?;
            match &t {
                Tok::Word(w) if w == "elif" => {
                    self.bump()?;
                }
                Tok::Word(w) if w == "else" => {
                    self.bump()?;
                    els = Some(Box::new(seq(self.compound_list(false)?)));
                    self.expect_word("fi")?;
                    break;
                }
                Tok::Word(w) if w == "fi" => {
                    self.bump()?;
                    break;
                }
                _ => return Err(self.unexpected(&t)),
            }
        }
        Ok(Cmd::If(arms, els))
    }

    /// `do list done` or `{ list }` after `for`/`select`.
    fn loop_body(&mut self) -> Result<Cmd, SyntaxError> {
        let t = self.peek()?;
        let close = match &t {
            Tok::Word(w) if w == "do" => "done",
            Tok::Word(w) if w == "{" => "}",
            _ => return Err(self.unexpected(&t)),
        };
        self.bump()?;
        let body = self.compound_list(false)?;
        self.expect_word(close)?;
        Ok(seq(body))
    }

    fn for_cmd(&mut self, select: bool, line: u32) -> Result<Cmd, SyntaxError> {
        self.bump()?;
        let open = self.pos_after_blanks();
        if !select && self.at(open) == Some('(') && self.at(open + 1) == Some('(') {
            let end = self.for_arith_end(open + 2).map_err(|e| self.err_at(e))?;
            let inner: String = self.c[open + 2..end].iter().collect();
            self.peeked = None;
            self.pos = end + 2;
            let parts: Vec<&str> = inner.split(';').collect();
            if parts.len() != 3 {
                return Err(self.err_at(SyntaxError {
                    message: "syntax error: arithmetic expression required".into(),
                    line: 0,
                }));
            }
            let mut ws = Vec::new();
            for p in &parts {
                let raw = p;
                let p = p.trim();
                ws.push(if p.is_empty() {
                    None
                } else {
                    // trailing blanks kept: bash's error messages show them
                    let mut w = self.lex_dq(raw.trim_start())?;
                    if w.src.is_some() {
                        // bash prints each part from its first non-blank on
                        w.src = Some(raw.trim_start().into());
                    }
                    Some(w)
                });
            }
            if self.peek()? == Tok::Op(";") {
                self.bump()?;
            }
            self.skip_newlines()?;
            let body = self.loop_body()?;
            let mut it = ws.into_iter();
            let (a, b, c) = (
                it.next().flatten(),
                it.next().flatten(),
                it.next().flatten(),
            );
            return Ok(Cmd::CFor(a, b, c, Box::new(body), line));
        }
        let name = match self.bump()? {
            Tok::Word(w) => w,
            t => return Err(self.unexpected(&t)),
        };
        self.skip_newlines()?;
        let mut words = None;
        if self.is_word("in")? {
            self.bump()?;
            let mut ws = Vec::new();
            loop {
                match self.peek()? {
                    Tok::Word(w) => {
                        self.bump()?;
                        ws.push(self.cond_word(&w)?);
                    }
                    Tok::Op(";") | Tok::Newline => {
                        self.bump()?;
                        break;
                    }
                    t => return Err(self.unexpected(&t)),
                }
            }
            words = Some(ws);
        } else if self.peek()? == Tok::Op(";") {
            self.bump()?;
        }
        self.skip_newlines()?;
        let body = self.loop_body()?;
        if select {
            let body = Box::new(body);
            return Ok(Cmd::Select {
                name,
                words,
                body,
                line,
            });
        }
        Ok(Cmd::For(name, words, Box::new(body), line))
    }

    fn case_cmd(&mut self, line: u32) -> Result<Cmd, SyntaxError> {
        self.bump()?;
        let word = match self.bump()? {
            Tok::Word(w) => self.cond_word(&w)?,
            t => return Err(self.unexpected(&t)),
        };
        self.skip_newlines()?;
        self.expect_word("in")?;
        let mut items = Vec::new();
        loop {
            self.skip_newlines()?;
            if self.is_word("esac")? {
                self.bump()?;
                break;
            }
            if self.peek()? == Tok::Op("(") {
                self.bump()?;
            }
            let mut patterns = Vec::new();
            loop {
                match self.bump()? {
                    Tok::Word(w) => patterns.push(self.cond_word(&w)?),
                    t => return Err(self.unexpected(&t)),
                }
                match self.bump()? {
                    Tok::Op("|") => continue,
                    Tok::Op(")") => break,
                    t => return Err(self.unexpected(&t)),
                }
            }
            let body = self.compound_list(true)?;
            let t = self.peek()?;
            let term = match &t {
                Tok::Op(";;") => CaseTerm::Break,
                Tok::Op(";&") => CaseTerm::FallThrough,
                Tok::Op(";;&") => CaseTerm::Continue,
                Tok::Word(w) if w == "esac" => {
                    items.push(CaseItem {
                        patterns,
                        body: seq(body),
                        term: CaseTerm::Break,
                    });
                    self.bump()?;
                    break;
                }
                _ => return Err(self.unexpected(&t)),
            };
            self.bump()?;
            items.push(CaseItem {
                patterns,
                body: seq(body),
                term,
            });
        }
        Ok(Cmd::Case(word, items, line))
    }

    /// `[[ … ]]`: checks the expression's shape as bash does and keeps its
    /// words in order (operators as literal words).
    fn cond_cmd(&mut self, line: u32) -> Result<Cmd, SyntaxError> {
        self.bump()?;
        let _extglob = crate::alias::CondGuard::enter();
        let mut words = Vec::new();
        self.cond_or(&mut words)?;
        match self.cond_tok()? {
            (Tok::Word(w), _) if w == "]]" => {}
            (t, _) => return Err(self.unexpected(&t)),
        }
        Ok(Cmd::Cond(words, line))
    }

    /// The next token inside `[[ ]]`, consumed, with its source text.
    fn cond_tok(&mut self) -> Result<(Tok, String), SyntaxError> {
        let t = self.bump()?;
        let s = match &t {
            Tok::Word(w) => w.clone(),
            Tok::Op(o) => o.to_string(),
            Tok::IoNum(n) => n.to_string(),
            Tok::IoVar(v) => format!("{{{v}}}"),
            _ => String::new(),
        };
        Ok((t, s))
    }

    fn cond_peek(&mut self) -> Result<Tok, SyntaxError> {
        let t = self.peek()?;
        // an fd number before `<`/`>` is a plain word here
        if let Tok::IoVar(v) = &t {
            let text = format!("{{{v}}}");
            let end = self.pos_after_blanks() + text.chars().count();
            self.peeked = Some((self.pos, None, Tok::Word(text.clone()), end));
            return Ok(Tok::Word(text));
        }
        if let Tok::IoNum(_) = t {
            let start = self.pos_after_blanks();
            let mut end = start;
            while self.at(end).is_some_and(|c| c.is_ascii_digit()) {
                end += 1;
            }
            let text: String = self.c[start..end].iter().collect();
            self.peeked = Some((self.pos, None, Tok::Word(text.clone()), end));
            return Ok(Tok::Word(text));
        }
        Ok(t)
    }

    fn cond_or(&mut self, out: &mut Vec<Word>) -> Result<(), SyntaxError> {
        grow(|| self.cond_or_inner(out))
    }

    fn cond_or_inner(&mut self, out: &mut Vec<Word>) -> Result<(), SyntaxError> {
        let _g = DepthGuard::enter().map_err(|e| self.err_at(e))?;
        self.cond_and(out)?;
        while self.cond_peek()? == Tok::Op("||") {
            self.bump()?;
            out.push(Word::lit("||"));
            self.cond_and(out)?;
        }
        Ok(())
    }

    fn cond_and(&mut self, out: &mut Vec<Word>) -> Result<(), SyntaxError> {
        self.cond_term(out)?;
        while self.cond_peek()? == Tok::Op("&&") {
            self.bump()?;
            out.push(Word::lit("&&"));
            self.cond_term(out)?;
        }
        Ok(())
    }

    fn cond_word(&self, w: &str) -> Result<Word, SyntaxError> {
        if !self.lexing {
            return Ok(Word::default());
        }
        let mut word = lex_word(w).map_err(|e| self.err_at(e))?;
        if recording() {
            word.src = Some(w.into());
        }
        Ok(word)
    }

    fn lex_dq(&self, w: &str) -> Result<Word, SyntaxError> {
        if !self.lexing {
            return Ok(Word::default());
        }
        let mut word = lex_heredoc(w).map_err(|e| self.err_at(e))?;
        if recording() {
            word.src = Some(w.into());
        }
        Ok(word)
    }

    fn cond_term(&mut self, out: &mut Vec<Word>) -> Result<(), SyntaxError> {
        self.skip_newlines()?;
        let t = self.cond_peek()?;
        match &t {
            Tok::Op("(") => {
                self.bump()?;
                out.push(Word::lit("("));
                self.cond_or(out)?;
                self.skip_newlines()?;
                if self.cond_peek()? != Tok::Op(")") {
                    let t = self.peek()?;
                    return Err(self.unexpected(&t));
                }
                self.bump()?;
                out.push(Word::lit(")"));
                Ok(())
            }
            Tok::Word(w) if w == "!" => {
                self.bump()?;
                let next = self.cond_peek()?;
                if matches!(&next, Tok::Word(x) if x == "]]")
                    || matches!(next, Tok::Op("&&" | "||" | ")"))
                {
                    out.push(Word::lit("!"));
                    return Ok(());
                }
                out.push(Word::lit("!"));
                let _g = DepthGuard::enter().map_err(|e| self.err_at(e))?;
                grow(|| self.cond_term(out))
            }
            Tok::Word(w) if w == "]]" => Err(self.unexpected(&t)),
            Tok::Word(w) => {
                let w = w.clone();
                self.bump()?;
                let unary = w.len() == 2
                    && w.starts_with('-')
                    && "abcdefghknoprstuvwxzGLNORS".contains(&w[1..]);
                if unary {
                    match self.cond_peek()? {
                        Tok::Word(x) if x != "]]" => {
                            self.bump()?;
                            out.push(self.cond_word(&w)?);
                            out.push(self.cond_word(&x)?);
                            return Ok(());
                        }
                        t => return Err(self.unexpected(&t)),
                    }
                }
                out.push(self.cond_word(&w)?);
                let next = self.cond_peek()?;
                let op = match &next {
                    Tok::Op(o @ ("<" | ">")) => o.to_string(),
                    Tok::Word(x)
                        if matches!(
                            x.as_str(),
                            "==" | "="
                                | "!="
                                | "=~"
                                | "-eq"
                                | "-ne"
                                | "-lt"
                                | "-le"
                                | "-gt"
                                | "-ge"
                                | "-nt"
                                | "-ot"
                                | "-ef"
                        ) =>
                    {
                        x.clone()
                    }
                    Tok::Word(x) if x == "]]" => return Ok(()),
                    Tok::Op("&&" | "||" | ")") => return Ok(()),
                    _ => return Err(self.unexpected(&next)),
                };
                self.bump()?;
                out.push(Word::lit(op.clone()));
                if op == "=~" {
                    let start = self.pos_after_blanks();
                    let end = self.scan_regex(start).map_err(|e| self.err_at(e))?;
                    if end == start {
                        let t = self.peek()?;
                        return Err(self.unexpected(&t));
                    }
                    let text: String = self.c[start..end].iter().collect();
                    self.peeked = None;
                    self.pos = end;
                    out.push(self.cond_word(&text)?);
                    return Ok(());
                }
                match self.cond_peek()? {
                    Tok::Word(x) if x != "]]" => {
                        self.bump()?;
                        out.push(self.cond_word(&x)?);
                        Ok(())
                    }
                    t => Err(self.unexpected(&t)),
                }
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    /// The right side of `=~`: a word in which `( ) |` and, inside
    /// parentheses, blanks are part of the regular expression.
    fn scan_regex(&self, mut i: usize) -> Result<usize, SyntaxError> {
        let mut depth = 0usize;
        while let Some(c) = self.at(i) {
            match c {
                '(' => {
                    depth += 1;
                    i += 1;
                }
                ')' if depth > 0 => {
                    depth -= 1;
                    i += 1;
                }
                ' ' | '\t' | '\n' if depth > 0 => i += 1,
                '|' | '<' | '>' => i += 1,
                c if is_meta(c) => break,
                _ => i = self.scan_piece(i, false)?,
            }
        }
        Ok(i)
    }

    /// `coproc [NAME] command`: parsed as bash parses it (`NAME` only
    /// before a compound command), then run as an honest error
    /// ([`unsupported_cmd`]): the command does not run.
    fn coproc_kw(&mut self) -> Result<Cmd, SyntaxError> {
        self.bump()?;
        if let Tok::Word(w) = self.peek()?
            && !is_compound_start(&w)
        {
            // `coproc NAME { …; }`: look one word further
            let saved = (self.pos, self.peeked.clone());
            self.bump()?;
            let next = self.peek()?;
            if !(matches!(&next, Tok::Word(n) if is_compound_start(n)) || next == Tok::Op("(")) {
                (self.pos, self.peeked) = saved;
            }
        }
        if self.peek()? == Tok::Eof {
            // bash reads the end of `-c` text here as a newline
            return Err(self.err_at(SyntaxError::near("newline")));
        }
        self.command()?;
        Ok(unsupported_cmd("coproc"))
    }

    fn function_kw(&mut self) -> Result<Cmd, SyntaxError> {
        self.bump()?;
        let name = match self.bump()? {
            Tok::Word(w) => w,
            t => return Err(self.unexpected(&t)),
        };
        if self.peek()? == Tok::Op("(") {
            self.bump()?;
            self.expect_op(")")?;
        }
        self.function_body(name)
    }

    fn function_body(&mut self, name: String) -> Result<Cmd, SyntaxError> {
        self.skip_newlines()?;
        let t = self.peek()?;
        let ok = match &t {
            Tok::Word(w) => matches!(
                w.as_str(),
                "{" | "if" | "while" | "until" | "for" | "select" | "case" | "[["
            ),
            Tok::Op("(") => true,
            _ => false,
        };
        if !ok {
            return Err(self.unexpected(&t));
        }
        let body = {
            let _g = DepthGuard::enter().map_err(|e| self.err_at(e))?;
            let _rec = RecordGuard::enter();
            let c = self.compound()?;
            self.with_redirects(c)?
        };
        Ok(Cmd::FuncDef(name, Arc::new(body)))
    }

    /// A redirection if one comes next.
    fn try_redirect(&mut self) -> Result<Option<Redir>, SyntaxError> {
        let t = self.peek()?;
        let mut var = None;
        let fd = match t {
            Tok::IoNum(n) => {
                self.bump()?;
                Some(n)
            }
            Tok::IoVar(v) => {
                self.bump()?;
                var = Some(v);
                None
            }
            Tok::Op(o) if is_redir_op(o) => None,
            _ => return Ok(None),
        };
        let op = match self.bump()? {
            Tok::Op(o) if is_redir_op(o) => o,
            t => return Err(self.unexpected(&t)),
        };
        self.array_ok = false;
        let target = match self.bump()? {
            Tok::Word(w) => w,
            // bash reads the end of `-c` text as a newline first
            Tok::Eof => return Err(self.unexpected(&Tok::Newline)),
            t => return Err(self.unexpected(&t)),
        };
        let lex = |s: &str| self.cond_word(s);
        if matches!(op, ">" | ">>" | ">|") && target.starts_with(">(") {
            let tc: Vec<char> = target.chars().collect();
            if subst_end(&tc, 2).ok() == Some(tc.len() - 1) {
                let inner: String = tc[2..tc.len() - 1].iter().collect();
                let script = if self.lexing {
                    parse_script(&inner).map_err(|e| self.err_at(e))?
                } else {
                    Script::default()
                };
                return Ok(Some(Redir {
                    fd,
                    var: var.clone(),
                    op: RedirOp::OutProcess,
                    target: Word {
                        parts: vec![WordPart::CmdSub(Arc::new(script))],
                        src: recording().then(|| target.as_str().into()),
                    },
                }));
            }
        }
        let r = match op {
            "<<" | "<<-" => {
                let (delim, quoted) = unquote_delim(&target);
                let index = self.docs.len() + self.pending.len();
                // the header as bash prints it, for the function printer
                let header = recording().then(|| {
                    let dash = if op == "<<-" { "-" } else { "" };
                    let d = if quoted {
                        crate::trace::single_quote(&delim)
                    } else {
                        delim.clone()
                    };
                    format!("<<{dash}{d}\n{delim}")
                });
                self.pending.push(PendingDoc {
                    delim,
                    strip: op == "<<-",
                    quoted,
                    index,
                    line: self.line_at(self.pos),
                });
                let mut target = Word::lit(format!("{HEREDOC_MARK}{index}"));
                target.src = header.map(String::into_boxed_str);
                Redir {
                    fd,
                    var: var.clone(),
                    op: RedirOp::HereDoc,
                    target,
                }
            }
            "<<<" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::HereString,
                target: lex(&target)?,
            },
            ">" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::Out,
                target: lex(&target)?,
            },
            ">|" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::Clobber,
                target: lex(&target)?,
            },
            ">>" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::Append,
                target: lex(&target)?,
            },
            "<" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::In,
                target: lex(&target)?,
            },
            "&>" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::OutErr,
                target: lex(&target)?,
            },
            "&>>" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::AppendOutErr,
                target: lex(&target)?,
            },
            "<>" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::ReadWrite,
                target: lex(&target)?,
            },
            "<&" => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::DupIn,
                target: lex(&target)?,
            },
            // `>&`: a descriptor number or `-` duplicates or closes; a file
            // name (known once expanded) is `&>` there, but stays `>&file`
            // for the function printer, as bash keeps it
            _ => Redir {
                fd,
                var: var.clone(),
                op: RedirOp::DupOut,
                target: lex(&target)?,
            },
        };
        Ok(Some(r))
    }

    fn simple(&mut self) -> Result<Cmd, SyntaxError> {
        let mut s = Simple {
            line: self.tok_line(),
            ..Simple::default()
        };
        let mut decl: Option<String> = None;
        let mut decl_args: Vec<DeclArg> = Vec::new();
        loop {
            self.array_ok = s.words.is_empty() || decl.is_some();
            if let Some(r) = self.try_redirect()? {
                s.redirs.push(r);
                continue;
            }
            self.array_ok = s.words.is_empty() || decl.is_some();
            match self.peek()? {
                Tok::Word(w) => {
                    if let Some((p, _, _, end)) = &self.peeked {
                        let start = self.skip_blanks_from(*p);
                        crate::alias::record(self.c, start, *end, s.words.is_empty());
                    }
                    self.bump()?;
                    let chars: Vec<char> = w.chars().collect();
                    if s.words.is_empty() && assign_prefix(&chars).is_some() {
                        s.assigns.push(self.assign(&w)?);
                        continue;
                    }
                    if decl.is_some() {
                        decl_args.push(if assign_prefix(&chars).is_some() {
                            DeclArg::Assign(self.assign(&w)?)
                        } else {
                            DeclArg::Word(self.cond_word(&w)?)
                        });
                        continue;
                    }
                    if s.words.is_empty()
                        && s.assigns.is_empty()
                        && matches!(
                            w.as_str(),
                            "declare" | "local" | "export" | "readonly" | "typeset"
                        )
                    {
                        decl = Some(w.clone());
                    }
                    let first = s.words.is_empty() && s.assigns.is_empty() && s.redirs.is_empty();
                    s.words.push(self.cond_word(&w)?);
                    self.array_ok = decl.is_some();
                    if first && self.peek()? == Tok::Op("(") {
                        // `name ( ) compound-command`
                        self.bump()?;
                        if self.peek()? == Tok::Eof {
                            // bash reads the end of `-c` text as a newline
                            // first, which cannot stand here
                            return Err(self.unexpected(&Tok::Newline));
                        }
                        self.expect_op(")")?;
                        return self.function_body(w);
                    }
                }
                Tok::Op("(") => {
                    let t = Tok::Op("(");
                    return Err(self.unexpected(&t));
                }
                _ => break,
            }
        }
        self.array_ok = false;
        if let Some(kw) = decl {
            return Ok(Cmd::Decl(kw, decl_args, s.redirs, s.line));
        }
        Ok(Cmd::Simple(s))
    }

    fn assign(&self, w: &str) -> Result<Assign, SyntaxError> {
        let chars: Vec<char> = w.chars().collect();
        let n = assign_prefix(&chars).unwrap_or(0);
        let mut head: String = chars[..n.saturating_sub(1)].iter().collect();
        let append = head.ends_with('+');
        if append {
            head.pop();
        }
        let (name, index) = match head.split_once('[') {
            Some((nm, rest)) => {
                let idx = rest.strip_suffix(']').unwrap_or(rest);
                (nm.to_string(), Some(self.cond_word(idx)?))
            }
            None => (head, None),
        };
        let value_text: String = chars[n..].iter().collect();
        let value = if value_text.starts_with('(')
            && value_text.ends_with(')')
            && self.array_value_ok(&chars[n..])
        {
            let inner = &value_text[1..value_text.len() - 1];
            if !self.lexing {
                return Ok(Assign {
                    name,
                    index,
                    append,
                    value: AssignValue::Array(vec![]),
                });
            }
            AssignValue::Array(lex_words(&strip_array_comments(inner)).map_err(|e| self.err_at(e))?)
        } else {
            AssignValue::Scalar(self.cond_word(&value_text)?)
        };
        Ok(Assign {
            name,
            index,
            append,
            value,
        })
    }

    /// Whether `(…)` after `=` is a compound assignment (not `$(…)` etc.).
    fn array_value_ok(&self, v: &[char]) -> bool {
        v.first() == Some(&'(')
    }

    /// Replaces the here-document markers in `cmds` with their bodies.
    fn fill_heredocs(&mut self, cmds: &mut [Cmd]) {
        // a here-document still open at the end of the text is empty
        if !self.pending.is_empty() && self.pos >= self.c.len() {
            self.read_heredocs();
        }
        if self.docs.is_empty() || !self.lexing {
            return;
        }
        for c in cmds.iter_mut() {
            fill_cmd(c, &self.docs);
        }
    }
}

const HEREDOC_MARK: &str = "\u{0}mirage-heredoc:";

/// The name in a `{name}` redirection word (bash's `{varname}>file`): a
/// valid identifier between braces, or `None`.
fn io_var(text: &str) -> Option<String> {
    let name = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut c = name.chars();
    let ok = matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric());
    ok.then(|| name.to_string())
}

fn is_redir_op(o: &str) -> bool {
    matches!(
        o,
        "<" | ">" | ">>" | ">|" | "<<" | "<<-" | "<<<" | "<&" | ">&" | "<>" | "&>" | "&>>"
    )
}

fn seq(mut v: Vec<Cmd>) -> Cmd {
    if v.len() == 1 {
        v.pop().unwrap_or(Cmd::Empty)
    } else {
        Cmd::Seq(v)
    }
}

/// Whether a word opens a compound command.
fn is_compound_start(w: &str) -> bool {
    matches!(
        w,
        "{" | "if" | "while" | "until" | "for" | "select" | "case" | "[["
    )
}

/// A command that fails at run time with `mirage: WHAT: not supported` on
/// stderr and status 2 (for constructs bash accepts that Mirage does not run).
pub(crate) fn unsupported_cmd(what: &str) -> Cmd {
    let msg = format!("mirage: {what}: not supported").replace('\'', "'\\''");
    Cmd::Simple(Simple {
        assigns: vec![],
        words: vec![
            Word::lit("eval"),
            Word::quoted(format!("echo '{msg}' >&2; (exit 2)")),
        ],
        redirs: vec![],
        line: 0,
    })
}

/// A script that fails when run with bash's message for a syntax error
/// found only at run time (bash parses a backquoted command when it runs it).
/// Its second line, for an unexpected token, is the offending line of
/// `src`, as [`SyntaxError::report`] does.
pub(crate) fn error_script(e: &SyntaxError, src: &str) -> Script {
    let line = e.line.max(1);
    let mut msg = format!("bash: command substitution: line {line}: {}", e.message);
    if e.message.starts_with("syntax error near")
        && let Some(text) = src.split('\n').nth(line - 1)
    {
        msg.push_str(&format!(
            "\nbash: command substitution: line {line}: `{text}'"
        ));
    }
    let msg = msg.replace('\'', "'\\''");
    Script::of(vec![Cmd::Simple(Simple {
        assigns: vec![],
        words: vec![
            Word::lit("eval"),
            Word::quoted(format!("echo '{msg}' >&2; (exit 2)")),
        ],
        redirs: vec![],
        line: 0,
    })])
}

/// Drops `# comments` from the inside of a compound assignment.
fn strip_array_comments(s: &str) -> String {
    if !s.contains('#') {
        return s.to_string();
    }
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut cut = chars.len();
        while i < chars.len() {
            match chars[i] {
                '\\' => i += 1,
                '\'' => {
                    i += 1;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                }
                '"' => {
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                '#' if i == 0 || matches!(chars[i - 1], ' ' | '\t') => {
                    cut = i;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        out.extend(chars[..cut].iter());
        if cut < chars.len() && line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn fill_redirs(rs: &mut [Redir], docs: &[(String, bool)]) {
    for r in rs.iter_mut() {
        if r.op != RedirOp::HereDoc {
            continue;
        }
        let idx = match r.target.parts.as_slice() {
            [WordPart::Lit(t)] => t
                .strip_prefix(HEREDOC_MARK)
                .and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        };
        if let Some(i) = idx {
            let (body, quoted) = docs.get(i).cloned().unwrap_or_default();
            // a recorded header `<<EOF\nEOF` becomes `<<EOF\nBODYEOF`
            let src = r.target.src.take().map(|h| {
                let (head, delim) = h.split_once('\n').unwrap_or((&h, ""));
                format!("{head}\n{body}{delim}").into_boxed_str()
            });
            r.target = if quoted {
                Word::quoted(body)
            } else {
                lex_heredoc(&body).unwrap_or_else(|_| Word::quoted(body))
            };
            r.target.src = src;
        }
    }
}

fn fill_cmd(c: &mut Cmd, docs: &[(String, bool)]) {
    match c {
        Cmd::Simple(s) => fill_redirs(&mut s.redirs, docs),
        Cmd::Decl(_, _, r, _) => fill_redirs(r, docs),
        Cmd::Redirected(inner, r) => {
            fill_redirs(r, docs);
            fill_cmd(inner, docs);
        }
        Cmd::Pipeline(v, _) | Cmd::Seq(v) => v.iter_mut().for_each(|c| fill_cmd(c, docs)),
        Cmd::AndOr(first, rest) => {
            fill_cmd(first, docs);
            rest.iter_mut().for_each(|(_, c)| fill_cmd(c, docs));
        }
        Cmd::Not(a) | Cmd::Background(a, _) | Cmd::Group(a) | Cmd::Subshell(a) => fill_cmd(a, docs),
        Cmd::Time { cmd: a, .. } | Cmd::Select { body: a, .. } => fill_cmd(a, docs),
        Cmd::If(arms, els) => {
            for (a, b) in arms.iter_mut() {
                fill_cmd(a, docs);
                fill_cmd(b, docs);
            }
            if let Some(e) = els {
                fill_cmd(e, docs);
            }
        }
        Cmd::For(_, _, b, _) | Cmd::CFor(_, _, _, b, _) => fill_cmd(b, docs),
        Cmd::While(a, b, _) => {
            fill_cmd(a, docs);
            fill_cmd(b, docs);
        }
        Cmd::Case(_, items, _) => items.iter_mut().for_each(|i| fill_cmd(&mut i.body, docs)),
        Cmd::FuncDef(_, body) => {
            if let Some(b) = Arc::get_mut(body) {
                fill_cmd(b, docs);
            }
        }
        Cmd::Arith(..) | Cmd::Cond(..) | Cmd::Empty => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_on_first_command_of_and_list() {
        let s = parse_script("cat <<EOF | grep x && echo ok\na x\nEOF\necho after").unwrap();
        assert_eq!(s.items.len(), 2);
        let Cmd::AndOr(l, rest) = &s.items[0] else {
            panic!("{:?}", s.items[0])
        };
        assert!(rest.len() == 1 && rest[0].0, "{rest:?}");
        let Cmd::Pipeline(stages, _) = &**l else {
            panic!("{l:?}")
        };
        let Cmd::Simple(cat) = &stages[0] else {
            panic!()
        };
        assert_eq!(cat.redirs[0].op, RedirOp::HereDoc);
        assert_eq!(cat.redirs[0].target, lex_heredoc("a x\n").unwrap());
    }

    #[test]
    fn syntax_error_names_token() {
        let p = parse_input("echo first\nif true; then echo x; fi fi\n");
        assert_eq!(p.script.items.len(), 1);
        let e = p.error.unwrap();
        assert_eq!(e.message, "syntax error near unexpected token `fi'");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn structures() {
        let s = parse_script(
            "for i in a b; do echo $i; done; while false; do :; done; case x in a|b) echo;; esac",
        )
        .unwrap();
        assert!(matches!(s.items[0], Cmd::For(..)));
        assert!(matches!(s.items[1], Cmd::While(..)));
        assert!(matches!(s.items[2], Cmd::Case(..)));
    }

    #[test]
    fn redirect_target_is_one_word() {
        let s = parse_script("echo a > >(cat) b").unwrap();
        let Cmd::Simple(c) = &s.items[0] else {
            panic!()
        };
        assert_eq!(c.words.len(), 3);
        assert_eq!(c.redirs[0].op, RedirOp::OutProcess);
        let s = parse_script("echo hi > /tmp/o extra").unwrap();
        let Cmd::Simple(c) = &s.items[0] else {
            panic!()
        };
        assert_eq!(c.words.len(), 3);
        assert_eq!(c.redirs[0].target, Word::lit("/tmp/o"));
    }

    #[test]
    fn accepted_forms() {
        for l in [
            "x=$(cat <<'EOF'\nhello )\nEOF\n)",
            "x=$(case a in a) echo;; esac)",
            "for x in ; do echo $x; done",
            "[ \\( x \\) ]",
            "! if false; then :; fi",
            "cat > f <<< X",
            "exec 3<> f; cat <&- ; echo >&- ; echo 1>&-",
            "diff <(a) <(b); echo x<(y)",
            "echo ${!@Q} ${x@U} ${x@Q}",
            "[[ $x =~ ^(a|b c)$ && -f y ]]",
            "f() { :; } >x; function g { :; }",
            "a=(1 2 # c\n 3) b[1]=2 c+=x",
            "((i++)); for ((i=0; i<3; i++)); do :; done",
            "if true; then { :; } fi",
            "! ! true",
        ] {
            assert!(parse_script(l).is_ok(), "{l:?}: {:?}", parse_script(l));
        }
    }

    #[test]
    fn rejected_forms() {
        for l in [
            "{ }",
            "f() echo",
            "echo a &; b",
            "echo a | | b",
            "if true; then :; fi foo",
            "echo (",
            "echo )",
            "a | ! b",
            "[[ a b ]]",
            "[[ -f ]]",
        ] {
            assert!(parse_script(l).is_err(), "{l:?}");
        }
    }

    #[test]
    fn random_input_never_panics() {
        // xorshift over an alphabet of shell metacharacters and quotes
        let alphabet: Vec<char> = "ab01 \t\n;&|()<>{}[]$`'\"\\#=!*?@%^,:-+/~é"
            .chars()
            .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = parse_input(&s);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let n = 100_000;
        for src in [
            "{ ".repeat(n) + ":" + &"; }".repeat(n),
            "( ".repeat(n) + ":" + &" )".repeat(n),
            "if true; then ".repeat(n) + ":" + &"; fi".repeat(n),
            "echo ${x:-".repeat(n) + &"}".repeat(n),
            "echo $(".repeat(n) + &")".repeat(n),
            "echo \"$(".repeat(n) + &")\"".repeat(n),
        ] {
            let e = parse_script(&src).unwrap_err();
            assert!(e.message.contains("nesting too deep"), "{e}");
        }
        // a chain is not nesting: 100,000 `&&`/`||` parse as one flat list
        let src = "true".to_string() + &" && true || false".repeat(n / 2);
        let Ok(s) = parse_script(&src) else {
            panic!("a long && chain must parse")
        };
        let Cmd::AndOr(_, rest) = &s.items[0] else {
            panic!("not an and-or list")
        };
        assert_eq!(rest.len(), n);
        // a million nested arithmetic parentheses parse (the evaluator limits them)
        let src =
            "echo $((".to_string() + &"(".repeat(1_000_000) + "1" + &")".repeat(1_000_000) + "))";
        assert!(parse_script(&src).is_ok());
    }
}
