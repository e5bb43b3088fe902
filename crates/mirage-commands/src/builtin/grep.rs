//! `grep`: print lines that match patterns, as GNU grep 3.8 (`-E`, `-F`,
//! `-G`, `-P`, `-e`, `-f`, `-i`, `-v`, `-w`, `-x`, `-c`, `-l`, `-L`, `-o`,
//! `-q`, `-s`, `-n`, `-b`, `-h`, `-H`, `-m`, `-A`, `-B`, `-C`, `-r`, `-R`,
//! `-z`, `-a`, `-I`, `--include`, `--exclude`, `--exclude-dir`, `--label`).
//!
//! Built on `grep-searcher` and `grep-regex`: the matcher and the searcher
//! are built once and reused for every file. POSIX basic and extended
//! regular expressions are translated to the `regex` crate's syntax by
//! [`translate_posix`]. Files are read whole through the VFS and searched
//! with `search_slice`; standard input is searched chunk by chunk (whole
//! when context lines are asked for). Exit status: 0 when a line was
//! selected, 1 when none was, 2 on error (unless `-q` found a match).

use std::io::Write as _;

use globset::{Glob, GlobSet, GlobSetBuilder};
use grep_matcher::{LineTerminator, Matcher};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{Searcher, SearcherBuilder, Sink, SinkContext, SinkContextKind, SinkMatch};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ErrorKind, FileType, Input};

use crate::fixed_set::{self, Anchor, FixedSet};
use crate::util::parse_args;

const OPTS: &[OptSpec] = &[
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

/// The message for a back-reference, which the `regex` engine cannot run.
const BACKREF_MSG: &str = "unsupported: back-references in regular expressions";

/// Appends `c` to `out` as a literal in `regex` syntax.
/// A byte that Mirage's string form carries as an escape character
/// ([`mirage_types::bytestr`]) becomes `(?-u:\xNN)`, so the pattern matches
/// that raw byte, as GNU grep matches the bytes of its pattern.
fn push_literal(out: &mut String, c: char) {
    let mut b = [0u8; 4];
    let enc = c.encode_utf8(&mut b);
    match mirage_types::bytestr::encode(enc) {
        std::borrow::Cow::Owned(raw) => {
            for byte in raw {
                out.push_str(&format!("(?-u:\\x{byte:02X})"));
            }
        }
        std::borrow::Cow::Borrowed(_) => out.push_str(&regex::escape(enc)),
    }
}

/// `s` as a regex that matches it literally, byte for byte.
fn literal_regex(s: &str) -> String {
    if !mirage_types::bytestr::has_escapes(s) {
        return regex::escape(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_literal(&mut out, c);
    }
    out
}

/// Parses an interval body starting at `chars[i]` (just after the `{`),
/// ending with `}` (or `\}` in a BRE). Returns the `regex` interval and
/// the index after it, or `None` when it is not a valid interval.
fn parse_interval(chars: &[char], mut i: usize, extended: bool) -> Option<(String, usize)> {
    let mut lo = String::new();
    while i < chars.len() && chars[i].is_ascii_digit() {
        lo.push(chars[i]);
        i += 1;
    }
    let mut hi: Option<String> = None;
    if i < chars.len() && chars[i] == ',' {
        i += 1;
        let mut h = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            h.push(chars[i]);
            i += 1;
        }
        hi = Some(h);
    }
    if extended {
        if chars.get(i) != Some(&'}') {
            return None;
        }
        i += 1;
    } else {
        if chars.get(i) != Some(&'\\') || chars.get(i + 1) != Some(&'}') {
            return None;
        }
        i += 2;
    }
    if lo.is_empty() && hi.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let lo = if lo.is_empty() { "0".to_string() } else { lo };
    let s = match hi {
        None => format!("{{{lo}}}"),
        Some(h) if h.is_empty() => format!("{{{lo},}}"),
        Some(h) => {
            let (a, b) = (lo.parse::<u64>().ok()?, h.parse::<u64>().ok()?);
            if a > b {
                return None;
            }
            format!("{{{lo},{h}}}")
        }
    };
    Some((s, i))
}

/// Translates a bracket expression starting at `chars[i] == '['`; returns
/// the `regex` class and the index after the closing `]`.
fn translate_bracket(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    const UNMATCHED: &str = "Unmatched [, [^, [:, [., or [=";
    let mut out = String::from("[");
    i += 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(UNMATCHED.into());
        };
        if c == ']' && !first {
            out.push(']');
            return Ok((out, i + 1));
        }
        first = false;
        if c == '['
            && let Some(&k) = chars.get(i + 1)
            && (k == ':' || k == '=' || k == '.')
        {
            // find the closing k]
            let mut j = i + 2;
            while j + 1 < chars.len() && !(chars[j] == k && chars[j + 1] == ']') {
                j += 1;
            }
            if j + 1 >= chars.len() {
                return Err(UNMATCHED.into());
            }
            let inner: String = chars[i + 2..j].iter().collect();
            if k == ':' {
                const CLASSES: &[&str] = &[
                    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                    "punct", "space", "upper", "xdigit",
                ];
                if !CLASSES.contains(&inner.as_str()) {
                    return Err("Invalid character class name".into());
                }
                out.push_str(&format!("[:{inner}:]"));
            } else {
                for ch in inner.chars() {
                    push_class_char(&mut out, ch);
                }
            }
            i = j + 2;
            continue;
        }
        if c == '-' {
            out.push('-');
        } else {
            push_class_char(&mut out, c);
        }
        i += 1;
    }
}

/// Appends a literal character inside a `regex` class.
fn push_class_char(out: &mut String, c: char) {
    if matches!(c, '\\' | '[' | ']' | '&' | '~' | '^' | '-') {
        out.push('\\');
    }
    out.push(c);
}

/// Translates a POSIX regular expression as GNU grep reads it (a basic RE
/// when `extended` is false, an extended RE otherwise) into `regex` crate
/// syntax. In a BRE `\( \) \{ \} \| \+ \?` are operators and bare
/// `( ) { } | + ?` are literal; `*` at the start of an expression is
/// literal; `\<`, `\>`, `\w`, `\s`, `\b` keep their GNU meaning. The error
/// is GNU's diagnostic (`Unmatched ( or \(`).
pub fn translate_posix(pat: &str, extended: bool) -> Result<String, String> {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len() + 8);
    let mut i = 0;
    let mut at_start = true;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                return Err("Trailing backslash".into());
            };
            i += 2;
            if !extended {
                match n {
                    '(' => {
                        out.push('(');
                        depth += 1;
                        at_start = true;
                        continue;
                    }
                    ')' => {
                        if depth == 0 {
                            return Err("Unmatched ) or \\)".into());
                        }
                        depth -= 1;
                        out.push(')');
                        at_start = false;
                        continue;
                    }
                    '|' => {
                        out.push('|');
                        at_start = true;
                        continue;
                    }
                    '{' => {
                        if at_start {
                            push_literal(&mut out, '{');
                            at_start = false;
                            continue;
                        }
                        match parse_interval(&chars, i, false) {
                            Some((s, next)) => {
                                out.push_str(&s);
                                i = next;
                                continue;
                            }
                            None => return Err("Unmatched \\{".into()),
                        }
                    }
                    '}' => {
                        push_literal(&mut out, '}');
                        at_start = false;
                        continue;
                    }
                    '+' | '?' => {
                        if at_start {
                            push_literal(&mut out, n);
                            at_start = false;
                        } else {
                            out.push(n);
                        }
                        continue;
                    }
                    _ => {}
                }
            }
            match n {
                '<' => out.push_str(r"\b{start}"),
                '>' => out.push_str(r"\b{end}"),
                'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                    out.push('\\');
                    out.push(n);
                }
                '`' => out.push_str(r"\A"),
                '\'' => out.push_str(r"\z"),
                '1'..='9' => return Err(BACKREF_MSG.into()),
                _ => push_literal(&mut out, n),
            }
            at_start = false;
            continue;
        }
        i += 1;
        match c {
            '[' => {
                let (cls, next) = translate_bracket(&chars, i - 1)?;
                out.push_str(&cls);
                i = next;
                at_start = false;
            }
            '.' => {
                out.push('.');
                at_start = false;
            }
            '*' => {
                if at_start {
                    push_literal(&mut out, '*');
                    at_start = false;
                } else {
                    out.push('*');
                }
            }
            '^' => {
                if extended || at_start {
                    out.push('^');
                } else {
                    push_literal(&mut out, '^');
                    at_start = false;
                }
            }
            '$' => {
                let anchor = extended
                    || i == chars.len()
                    || (chars.get(i) == Some(&'\\') && matches!(chars.get(i + 1), Some(')' | '|')));
                if anchor {
                    out.push('$');
                } else {
                    push_literal(&mut out, '$');
                }
                at_start = false;
            }
            '(' if extended => {
                out.push('(');
                depth += 1;
                at_start = true;
            }
            ')' if extended => {
                if depth == 0 {
                    push_literal(&mut out, ')');
                } else {
                    depth -= 1;
                    out.push(')');
                }
                at_start = false;
            }
            '|' if extended => {
                out.push('|');
                at_start = true;
            }
            '+' | '?' if extended => {
                if at_start {
                    push_literal(&mut out, c);
                    at_start = false;
                } else {
                    out.push(c);
                }
            }
            '{' if extended => {
                if at_start {
                    push_literal(&mut out, '{');
                    at_start = false;
                    continue;
                }
                match parse_interval(&chars, i, true) {
                    Some((s, next)) => {
                        out.push_str(&s);
                        i = next;
                    }
                    None => push_literal(&mut out, '{'),
                }
            }
            _ => {
                push_literal(&mut out, c);
                at_start = false;
            }
        }
    }
    if depth > 0 {
        return Err("Unmatched ( or \\(".into());
    }
    Ok(out)
}

/// How the patterns are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Basic,
    Extended,
    Fixed,
    Perl,
}

/// Builds the single `regex` pattern for all of `patterns`.
fn combine_patterns(patterns: &[String], syntax: Syntax) -> Result<String, String> {
    if patterns.is_empty() {
        // no pattern at all (`-f /dev/null`): matches nothing
        return Ok("[a&&b]".to_string());
    }
    let mut parts = Vec::with_capacity(patterns.len());
    for p in patterns {
        let t = match syntax {
            Syntax::Fixed => literal_regex(p),
            Syntax::Basic => translate_posix(p, false)?,
            Syntax::Extended => translate_posix(p, true)?,
            Syntax::Perl => p.clone(),
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

/// A small backtracking matcher for POSIX patterns with back-references
/// (`\(ab\)\1`, `(.)\1`), which the `regex` engine cannot run. Used only
/// when a pattern has one; it matches within one line.
mod backtrack {
    /// One compiled instruction.
    #[derive(Debug, Clone)]
    enum Inst {
        Char(char),
        Any,
        Class(Class),
        Split(usize, usize),
        Jmp(usize),
        Save(usize),
        Start,
        End,
        WordB(bool),
        WordStart,
        WordEnd,
        Backref(usize),
        Match,
    }

    #[derive(Debug, Clone)]
    enum Item {
        Ch(char),
        Range(char, char),
        Named(String),
    }

    #[derive(Debug, Clone)]
    struct Class {
        neg: bool,
        items: Vec<Item>,
    }

    fn named(name: &str, c: char) -> bool {
        match name {
            "alnum" => c.is_alphanumeric(),
            "alpha" => c.is_alphabetic(),
            "blank" => c == ' ' || c == '\t',
            "cntrl" => c.is_control(),
            "digit" => c.is_ascii_digit(),
            "graph" => !c.is_whitespace() && !c.is_control(),
            "lower" => c.is_lowercase(),
            "print" => !c.is_control(),
            "punct" => c.is_ascii_punctuation(),
            "space" => c.is_whitespace(),
            "upper" => c.is_uppercase(),
            "xdigit" => c.is_ascii_hexdigit(),
            "word" => c.is_alphanumeric() || c == '_',
            _ => false,
        }
    }

    impl Class {
        fn test1(&self, c: char) -> bool {
            self.items.iter().any(|it| match it {
                Item::Ch(x) => *x == c,
                Item::Range(a, b) => *a <= c && c <= *b,
                Item::Named(n) => named(n, c),
            })
        }
        fn test(&self, c: char, icase: bool) -> bool {
            let hit = self.test1(c)
                || (icase
                    && (c.to_lowercase().any(|l| self.test1(l))
                        || c.to_uppercase().any(|u| self.test1(u))));
            hit != self.neg
        }
    }

    /// AST node.
    #[derive(Debug, Clone)]
    enum Node {
        Inst(Inst),
        Group(Box<Node>, usize),
        Alt(Vec<Node>),
        Concat(Vec<Node>),
        Repeat(Box<Node>, u32, Option<u32>),
    }

    struct Parser {
        c: Vec<char>,
        i: usize,
        ext: bool,
        groups: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.c.get(self.i).copied()
        }
        fn at_alt(&self) -> bool {
            if self.ext {
                self.peek() == Some('|')
            } else {
                self.peek() == Some('\\') && self.c.get(self.i + 1) == Some(&'|')
            }
        }
        fn at_close(&self) -> bool {
            if self.ext {
                self.peek() == Some(')')
            } else {
                self.peek() == Some('\\') && self.c.get(self.i + 1) == Some(&')')
            }
        }
        fn alt(&mut self) -> Result<Node, String> {
            let mut branches = vec![self.concat()?];
            while self.at_alt() {
                self.i += if self.ext { 1 } else { 2 };
                branches.push(self.concat()?);
            }
            Ok(if branches.len() == 1 {
                branches.pop().unwrap_or(Node::Concat(vec![]))
            } else {
                Node::Alt(branches)
            })
        }
        fn concat(&mut self) -> Result<Node, String> {
            let mut items: Vec<Node> = Vec::new();
            let start = self.i;
            while self.peek().is_some() && !self.at_alt() && !self.at_close() {
                let at_start = self.i == start;
                let atom = self.atom(at_start)?;
                let atom = self.quantifiers(atom)?;
                items.push(atom);
            }
            Ok(Node::Concat(items))
        }
        fn quantifiers(&mut self, mut atom: Node) -> Result<Node, String> {
            loop {
                let (min, max, len) = match (self.peek(), self.c.get(self.i + 1).copied()) {
                    (Some('*'), _) => (0, None, 1),
                    (Some('+'), _) if self.ext => (1, None, 1),
                    (Some('?'), _) if self.ext => (0, Some(1), 1),
                    (Some('\\'), Some('+')) if !self.ext => (1, None, 2),
                    (Some('\\'), Some('?')) if !self.ext => (0, Some(1), 2),
                    (Some('{'), _) if self.ext => match self.interval(self.i + 1) {
                        Some((a, b, end)) => (a, b, end - self.i),
                        None => return Ok(atom),
                    },
                    (Some('\\'), Some('{')) if !self.ext => match self.interval(self.i + 2) {
                        Some((a, b, end)) => (a, b, end - self.i),
                        None => return Err("Unmatched \\{".into()),
                    },
                    _ => return Ok(atom),
                };
                self.i += len;
                atom = Node::Repeat(Box::new(atom), min, max);
            }
        }
        fn interval(&self, mut j: usize) -> Option<(u32, Option<u32>, usize)> {
            let num = |j: &mut usize| {
                let s = *j;
                while self.c.get(*j).is_some_and(char::is_ascii_digit) {
                    *j += 1;
                }
                self.c[s..*j].iter().collect::<String>()
            };
            let lo = num(&mut j);
            let hi = if self.c.get(j) == Some(&',') {
                j += 1;
                Some(num(&mut j))
            } else {
                None
            };
            if self.ext {
                if self.c.get(j) != Some(&'}') {
                    return None;
                }
                j += 1;
            } else {
                if self.c.get(j) != Some(&'\\') || self.c.get(j + 1) != Some(&'}') {
                    return None;
                }
                j += 2;
            }
            let a: u32 = if lo.is_empty() { 0 } else { lo.parse().ok()? };
            let b = match hi {
                None => Some(a),
                Some(h) if h.is_empty() => None,
                Some(h) => Some(h.parse().ok()?),
            };
            Some((a, b, j))
        }
        fn atom(&mut self, at_start: bool) -> Result<Node, String> {
            let Some(c) = self.peek() else {
                return Err("unexpected end".into());
            };
            self.i += 1;
            let lit = |c: char| Ok(Node::Inst(Inst::Char(c)));
            match c {
                '\\' => {
                    let Some(n) = self.peek() else {
                        return Err("Trailing backslash".into());
                    };
                    self.i += 1;
                    match n {
                        '(' if !self.ext => self.group(),
                        '1'..='9' => Ok(Node::Inst(Inst::Backref(n as usize - '0' as usize))),
                        '<' => Ok(Node::Inst(Inst::WordStart)),
                        '>' => Ok(Node::Inst(Inst::WordEnd)),
                        'b' => Ok(Node::Inst(Inst::WordB(true))),
                        'B' => Ok(Node::Inst(Inst::WordB(false))),
                        'w' | 'W' => Ok(Node::Inst(Inst::Class(Class {
                            neg: n == 'W',
                            items: vec![Item::Named("word".into())],
                        }))),
                        's' | 'S' => Ok(Node::Inst(Inst::Class(Class {
                            neg: n == 'S',
                            items: vec![Item::Named("space".into())],
                        }))),
                        '`' => Ok(Node::Inst(Inst::Start)),
                        '\'' => Ok(Node::Inst(Inst::End)),
                        _ => lit(n),
                    }
                }
                '(' if self.ext => self.group(),
                '[' => self.class(),
                '.' => Ok(Node::Inst(Inst::Any)),
                '^' if self.ext || at_start => Ok(Node::Inst(Inst::Start)),
                '$' if self.ext || self.peek().is_none() || self.at_close() || self.at_alt() => {
                    Ok(Node::Inst(Inst::End))
                }
                '*' if at_start => lit('*'),
                _ => lit(c),
            }
        }
        fn group(&mut self) -> Result<Node, String> {
            self.groups += 1;
            let idx = self.groups;
            let inner = self.alt()?;
            if !self.at_close() {
                return Err("Unmatched ( or \\(".into());
            }
            self.i += if self.ext { 1 } else { 2 };
            Ok(Node::Group(Box::new(inner), idx))
        }
        fn class(&mut self) -> Result<Node, String> {
            let mut cls = Class {
                neg: false,
                items: Vec::new(),
            };
            if self.peek() == Some('^') {
                cls.neg = true;
                self.i += 1;
            }
            let mut first = true;
            loop {
                let Some(c) = self.peek() else {
                    return Err("Unmatched [, [^, [:, [., or [=".into());
                };
                self.i += 1;
                if c == ']' && !first {
                    break;
                }
                first = false;
                if c == '[' && matches!(self.peek(), Some(':' | '=' | '.')) {
                    let k = self.peek().unwrap_or(':');
                    let s = self.i + 1;
                    let mut j = s;
                    while j + 1 < self.c.len() && !(self.c[j] == k && self.c[j + 1] == ']') {
                        j += 1;
                    }
                    if j + 1 >= self.c.len() {
                        return Err("Unmatched [, [^, [:, [., or [=".into());
                    }
                    let inner: String = self.c[s..j].iter().collect();
                    self.i = j + 2;
                    if k == ':' {
                        cls.items.push(Item::Named(inner));
                    } else {
                        cls.items.extend(inner.chars().map(Item::Ch));
                    }
                    continue;
                }
                if self.peek() == Some('-') && self.c.get(self.i + 1).is_some_and(|&n| n != ']') {
                    let hi = self.c[self.i + 1];
                    self.i += 2;
                    cls.items.push(Item::Range(c, hi));
                } else {
                    cls.items.push(Item::Ch(c));
                }
            }
            Ok(Node::Inst(Inst::Class(cls)))
        }
    }

    fn compile(n: &Node, prog: &mut Vec<Inst>) {
        match n {
            Node::Inst(i) => prog.push(i.clone()),
            Node::Group(inner, idx) => {
                prog.push(Inst::Save(2 * idx));
                compile(inner, prog);
                prog.push(Inst::Save(2 * idx + 1));
            }
            Node::Concat(v) => v.iter().for_each(|x| compile(x, prog)),
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (k, b) in branches.iter().enumerate() {
                    if k + 1 < branches.len() {
                        let split = prog.len();
                        prog.push(Inst::Split(split + 1, 0));
                        compile(b, prog);
                        jumps.push(prog.len());
                        prog.push(Inst::Jmp(0));
                        let next = prog.len();
                        prog[split] = Inst::Split(split + 1, next);
                    } else {
                        compile(b, prog);
                    }
                }
                let end = prog.len();
                for j in jumps {
                    prog[j] = Inst::Jmp(end);
                }
            }
            Node::Repeat(inner, min, max) => {
                for _ in 0..*min {
                    compile(inner, prog);
                }
                match max {
                    None => {
                        let split = prog.len();
                        prog.push(Inst::Split(split + 1, 0));
                        compile(inner, prog);
                        prog.push(Inst::Jmp(split));
                        let end = prog.len();
                        prog[split] = Inst::Split(split + 1, end);
                    }
                    Some(mx) => {
                        let mut splits = Vec::new();
                        for _ in *min..*mx {
                            splits.push(prog.len());
                            prog.push(Inst::Split(0, 0));
                            compile(inner, prog);
                        }
                        let end = prog.len();
                        for s in splits {
                            prog[s] = Inst::Split(s + 1, end);
                        }
                    }
                }
            }
        }
    }

    /// A compiled pattern.
    #[derive(Debug, Clone)]
    pub(super) struct Prog {
        insts: Vec<Inst>,
        slots: usize,
        icase: bool,
    }

    fn is_word(c: char) -> bool {
        c.is_alphanumeric() || c == '_'
    }

    fn char_at(h: &[u8], pos: usize) -> Option<(char, usize)> {
        let rest = h.get(pos..)?;
        let first = *rest.first()?;
        let len = match first {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        match rest.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
            Some(s) => s.chars().next().map(|c| (c, len)),
            None => Some((char::REPLACEMENT_CHARACTER, 1)),
        }
    }

    fn char_before(h: &[u8], pos: usize) -> Option<char> {
        if pos == 0 {
            return None;
        }
        let mut s = pos - 1;
        while s > 0 && pos - s < 4 && (h[s] & 0xc0) == 0x80 {
            s -= 1;
        }
        char_at(h, s).map(|(c, _)| c)
    }

    impl Prog {
        /// Compiles a POSIX pattern (`extended` for ERE); `whole_line` and
        /// `word` wrap it as `-x` and `-w` do.
        pub(super) fn new(
            pat: &str,
            extended: bool,
            icase: bool,
            whole_line: bool,
            word: bool,
        ) -> Result<Prog, String> {
            let mut p = Parser {
                c: pat.chars().collect(),
                i: 0,
                ext: extended,
                groups: 0,
            };
            let node = p.alt()?;
            if p.i < p.c.len() {
                return Err("Unmatched ) or \\)".into());
            }
            let node = if whole_line {
                Node::Concat(vec![
                    Node::Inst(Inst::Start),
                    Node::Group(Box::new(node), 0),
                    Node::Inst(Inst::End),
                ])
            } else if word {
                Node::Concat(vec![
                    Node::Inst(Inst::WordB(true)),
                    Node::Group(Box::new(node), 0),
                    Node::Inst(Inst::WordB(true)),
                ])
            } else {
                Node::Group(Box::new(node), 0)
            };
            let mut insts = Vec::new();
            compile(&node, &mut insts);
            insts.push(Inst::Match);
            Ok(Prog {
                insts,
                slots: 2 * (p.groups + 1),
                icase,
            })
        }

        fn eq(&self, a: char, b: char) -> bool {
            a == b || (self.icase && a.to_lowercase().eq(b.to_lowercase()))
        }

        /// Runs from `start`; the end of the match (group 0).
        fn run_at(&self, h: &[u8], start: usize) -> Option<(usize, usize)> {
            let mut stack: Vec<(usize, usize, Vec<Option<usize>>)> =
                vec![(0, start, vec![None; self.slots])];
            let mut steps = 0u32;
            while let Some((mut pc, mut pos, mut slots)) = stack.pop() {
                loop {
                    steps += 1;
                    if steps > 1_000_000 {
                        return None;
                    }
                    match &self.insts[pc] {
                        Inst::Match => {
                            let s = slots.first().copied().flatten().unwrap_or(start);
                            let e = slots.get(1).copied().flatten().unwrap_or(pos);
                            return Some((s, e));
                        }
                        Inst::Char(c) => match char_at(h, pos) {
                            Some((x, l)) if self.eq(x, *c) => {
                                pos += l;
                                pc += 1;
                            }
                            _ => break,
                        },
                        Inst::Any => match char_at(h, pos) {
                            Some((x, l)) if x != '\n' => {
                                pos += l;
                                pc += 1;
                            }
                            _ => break,
                        },
                        Inst::Class(cls) => match char_at(h, pos) {
                            Some((x, l)) if x != '\n' && cls.test(x, self.icase) => {
                                pos += l;
                                pc += 1;
                            }
                            _ => break,
                        },
                        Inst::Split(a, b) => {
                            stack.push((*b, pos, slots.clone()));
                            pc = *a;
                        }
                        Inst::Jmp(t) => pc = *t,
                        Inst::Save(k) => {
                            if let Some(s) = slots.get_mut(*k) {
                                *s = Some(pos);
                            }
                            pc += 1;
                        }
                        Inst::Start => {
                            if pos != 0 {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::End => {
                            if !(pos == h.len() || (pos + 1 == h.len() && h[pos] == b'\n')) {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::WordB(want) => {
                            let a = char_before(h, pos).is_some_and(is_word);
                            let b = char_at(h, pos).is_some_and(|(c, _)| is_word(c));
                            if (a != b) != *want {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::WordStart => {
                            let a = char_before(h, pos).is_some_and(is_word);
                            let b = char_at(h, pos).is_some_and(|(c, _)| is_word(c));
                            if a || !b {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::WordEnd => {
                            let a = char_before(h, pos).is_some_and(is_word);
                            let b = char_at(h, pos).is_some_and(|(c, _)| is_word(c));
                            if !a || b {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::Backref(k) => {
                            let (Some(Some(s)), Some(Some(e))) =
                                (slots.get(2 * k), slots.get(2 * k + 1))
                            else {
                                break;
                            };
                            let (s, e) = (*s, *e);
                            let sub = &h[s..e];
                            let ok = if self.icase {
                                h.get(pos..pos + sub.len()).is_some_and(|t| {
                                    String::from_utf8_lossy(t).to_lowercase()
                                        == String::from_utf8_lossy(sub).to_lowercase()
                                })
                            } else {
                                h.get(pos..pos + sub.len()) == Some(sub)
                            };
                            if !ok {
                                break;
                            }
                            pos += sub.len();
                            pc += 1;
                        }
                    }
                }
            }
            None
        }

        /// The leftmost match at or after `at`.
        pub(super) fn find_at(&self, h: &[u8], at: usize) -> Option<(usize, usize)> {
            let mut s = at;
            while s <= h.len() {
                if s < h.len() && (h[s] & 0xc0) == 0x80 {
                    s += 1;
                    continue;
                }
                if let Some(m) = self.run_at(h, s) {
                    return Some(m);
                }
                s += 1;
            }
            None
        }
    }
}

/// The matcher grep runs: the `regex` engine, the backtracking one
/// when a pattern has back-references, or the literal set for `-F` with
/// several patterns.
enum AnyMatcher {
    Re(RegexMatcher),
    Backtrack(Vec<backtrack::Prog>),
    Fixed(Box<FixedSet>),
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
            AnyMatcher::Re(m) => m.find_at(haystack, at),
            AnyMatcher::Fixed(m) => m.find_at(haystack, at),
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
            AnyMatcher::Re(m) => m.shortest_match_at(haystack, at),
            AnyMatcher::Fixed(m) => m.shortest_match_at(haystack, at),
            AnyMatcher::Backtrack(_) => Ok(self.find_at(haystack, at)?.map(|m| m.end())),
        }
    }

    fn non_matching_bytes(&self) -> Option<&grep_matcher::ByteSet> {
        match self {
            AnyMatcher::Re(m) => m.non_matching_bytes(),
            AnyMatcher::Backtrack(_) | AnyMatcher::Fixed(_) => None,
        }
    }

    fn line_terminator(&self) -> Option<LineTerminator> {
        match self {
            AnyMatcher::Re(m) => m.line_terminator(),
            AnyMatcher::Fixed(m) => m.line_terminator(),
            AnyMatcher::Backtrack(_) => None,
        }
    }

    fn find_candidate_line(
        &self,
        haystack: &[u8],
    ) -> Result<Option<grep_matcher::LineMatchKind>, Self::Error> {
        match self {
            AnyMatcher::Re(m) => m.find_candidate_line(haystack),
            AnyMatcher::Backtrack(_) | AnyMatcher::Fixed(_) => Ok(self
                .shortest_match(haystack)?
                .map(grep_matcher::LineMatchKind::Confirmed)),
        }
    }
}

/// What grep prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Lines,
    Only,
    Count,
    FilesWith,
    FilesWithout,
    Quiet,
}

/// Options that shape output.
struct Cfg {
    mode: Mode,
    line_number: bool,
    byte_offset: bool,
    invert: bool,
    null_after_name: bool,
    eol: u8,
    context: bool,
    max_count: Option<u64>,
    group_sep: Option<Vec<u8>>,
    initial_tab: bool,
}

/// Per-file state shared between segments of one input.
#[derive(Default)]
struct FileState {
    count: u64,
    line_base: u64,
    byte_base: u64,
    pending_sep: bool,
    printed: bool,
}

/// The sink: formats selected and context lines into `buf`.
struct OutSink<'a> {
    buf: &'a mut Vec<u8>,
    cfg: &'a Cfg,
    matcher: &'a AnyMatcher,
    name: Option<&'a [u8]>,
    st: &'a mut FileState,
    binary: bool,
    /// Stop after this many selected lines (streamed input without context).
    limit: Option<u64>,
}

impl OutSink<'_> {
    fn sep_if_needed(&mut self) {
        if self.st.pending_sep {
            self.st.pending_sep = false;
            if let Some(sep) = &self.cfg.group_sep {
                self.buf.extend_from_slice(sep);
                self.buf.push(b'\n');
            }
        }
        self.st.printed = true;
    }

    fn prefix(&mut self, line: Option<u64>, offset: u64, sep: u8) {
        if let Some(n) = self.name {
            self.buf.extend_from_slice(n);
            self.buf
                .push(if self.cfg.null_after_name { 0 } else { sep });
        }
        if self.cfg.line_number {
            let _ = write!(self.buf, "{}", line.unwrap_or(0) + self.st.line_base);
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
        self.st.count += 1;
        match self.cfg.mode {
            Mode::Quiet | Mode::FilesWith | Mode::FilesWithout => return Ok(false),
            Mode::Count => {}
            _ if self.binary => return Ok(false),
            Mode::Lines => {
                self.sep_if_needed();
                self.prefix(mat.line_number(), mat.absolute_byte_offset(), b':');
                self.line(mat.bytes());
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
                        self.prefix(line, base + a as u64, b':');
                        self.buf.extend_from_slice(&body[a..b]);
                        self.buf.push(self.cfg.eol);
                    }
                }
            }
        }
        Ok(self.limit.is_none_or(|m| self.st.count < m))
    }

    fn context(&mut self, _s: &Searcher, ctx: &SinkContext<'_>) -> Result<bool, Self::Error> {
        if self.binary || !matches!(self.cfg.mode, Mode::Lines) {
            return Ok(true);
        }
        if matches!(ctx.kind(), SinkContextKind::Other) {
            return Ok(true);
        }
        self.sep_if_needed();
        self.prefix(ctx.line_number(), ctx.absolute_byte_offset(), b'-');
        self.line(ctx.bytes());
        Ok(true)
    }

    fn context_break(&mut self, _s: &Searcher) -> Result<bool, Self::Error> {
        if !self.binary && matches!(self.cfg.mode, Mode::Lines | Mode::Only) && self.st.printed {
            self.st.pending_sep = true;
        }
        Ok(true)
    }
}

/// One grep run.
struct Grep {
    cfg: Cfg,
    matcher: AnyMatcher,
    searcher: Searcher,
    out: Vec<u8>,
    quiet_errors: bool,
    text: bool,
    skip_binary: bool,
    null_data: bool,
    any_printed: bool,
    selected: bool,
    error: bool,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    exclude_dir: Option<GlobSet>,
    recursive: bool,
    deref: bool,
    skip_dirs: bool,
    with_filename: Option<bool>,
    stdin_label: String,
}

/// What the caller should do after one input.
#[derive(PartialEq, Eq)]
enum Flow {
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
    /// Searches `data` (one segment of the input) and appends output.
    fn search(&mut self, data: &[u8], name: Option<&str>, st: &mut FileState, binary: bool) {
        let limit = if self.cfg.context {
            None
        } else {
            self.cfg.max_count
        };
        let mut sink = OutSink {
            buf: &mut self.out,
            cfg: &self.cfg,
            matcher: &self.matcher,
            name: name.map(str::as_bytes),
            st,
            binary,
            limit,
        };
        let _ = self.searcher.search_slice(&self.matcher, data, &mut sink);
    }

    fn begin_file(&self) -> FileState {
        FileState {
            pending_sep: self.cfg.context && self.any_printed,
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
        let flow = self.flush(ctx, false).await;
        if binary && st.count > 0 && matches!(self.cfg.mode, Mode::Lines | Mode::Only) {
            ctx.error(format!("{display}: binary file matches")).await;
        }
        flow
    }

    async fn flush(&mut self, ctx: &mut CommandCtx, only_if_big: bool) -> Flow {
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
        let name = show_name.then_some(display);
        self.search(data, name, &mut st, binary);
        self.end_file(ctx, display, name, &st, binary).await
    }

    /// Searches standard input chunk by chunk.
    async fn search_stdin(&mut self, ctx: &mut CommandCtx, show_name: bool) -> Flow {
        let mut input = std::mem::replace(&mut ctx.stdin, Input::empty());
        let label = self.stdin_label.clone();
        let name = show_name.then_some(label.as_str());
        if self.cfg.context {
            let data = match input.read_all().await {
                Ok(d) => d,
                Err(e) => {
                    self.file_error(ctx, &label, e.message()).await;
                    return Flow::Go;
                }
            };
            return self.search_data(ctx, &label, show_name, &data).await;
        }
        let mut st = self.begin_file();
        let mut carry: Vec<u8> = Vec::new();
        let mut binary = false;
        let eol = self.cfg.eol;
        let done = |g: &Grep, st: &FileState| match g.cfg.mode {
            Mode::Quiet | Mode::FilesWith | Mode::FilesWithout => st.count > 0,
            _ => g.cfg.max_count.is_some_and(|m| st.count >= m),
        };
        loop {
            let chunk = match input.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    self.file_error(ctx, &label, e.message()).await;
                    break;
                }
            };
            if !binary && self.is_binary(&chunk) {
                binary = true;
                if self.skip_binary {
                    st = self.begin_file();
                    carry.clear();
                    break;
                }
            }
            let Some(last) = memchr::memrchr(eol, &chunk) else {
                carry.extend_from_slice(&chunk);
                continue;
            };
            let (head, tail) = chunk.split_at(last + 1);
            if !carry.is_empty() {
                carry.extend_from_slice(head);
            }
            let mut seg_owned = std::mem::take(&mut carry);
            let seg: &[u8] = if seg_owned.is_empty() {
                head
            } else {
                &seg_owned
            };
            let seg_lines = if self.cfg.line_number {
                memchr::memchr_iter(eol, seg).count() as u64
            } else {
                0
            };
            let seg_len = seg.len() as u64;
            self.search(seg, name, &mut st, binary);
            st.line_base += seg_lines;
            st.byte_base += seg_len;
            seg_owned.clear();
            carry = seg_owned;
            carry.extend_from_slice(tail);
            if done(self, &st)
                || (binary && st.count > 0 && matches!(self.cfg.mode, Mode::Lines | Mode::Only))
            {
                carry.clear();
                break;
            }
            if self.flush(ctx, true).await == Flow::Stop {
                return Flow::Stop;
            }
        }
        if !carry.is_empty() && !done(self, &st) {
            let seg = std::mem::take(&mut carry);
            self.search(&seg, name, &mut st, binary);
        }
        self.end_file(ctx, &label, name, &st, binary).await
    }

    async fn file_error(&mut self, ctx: &mut CommandCtx, display: &str, msg: &str) {
        self.error = true;
        if !self.quiet_errors {
            let _ = self.flush(ctx, false).await;
            ctx.error(format!("{display}: {msg}")).await;
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

    async fn file(&mut self, ctx: &mut CommandCtx, display: &str, abs: &str, show: bool) -> Flow {
        let data = match ctx.vfs.read(abs).await {
            Ok(src) => match src.collect().await {
                Ok(d) => d,
                Err(e) => {
                    self.file_error(ctx, display, e.message()).await;
                    return Flow::Go;
                }
            },
            Err(e) => {
                self.file_error(ctx, display, e.message()).await;
                return Flow::Go;
            }
        };
        ctx.io.read(abs);
        self.search_data(ctx, display, show, &data).await
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
                        let ft = match ent.file_type {
                            FileType::Symlink if self.deref => match ctx.vfs.stat(&ca).await {
                                Ok(s) => s.file_type,
                                Err(e) => {
                                    // A broken or looping link (GNU: status 2).
                                    self.file_error(ctx, &cd, e.message()).await;
                                    continue;
                                }
                            },
                            t => t,
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

fn parse_num(ctx_name: &str, v: &str, what: &str) -> Result<u64, String> {
    let _ = ctx_name;
    v.trim()
        .parse::<u64>()
        .map_err(|_| format!("invalid {what} argument"))
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let mut operands = p.operands.clone();
        let mut patterns: Vec<String> = Vec::new();
        // `-F`: the patterns stay bytes in one buffer, each ended by `\n`
        // (a million patterns are never a million `String`s)
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
        let mode = if p.has("quiet") {
            Mode::Quiet
        } else if p.has("files-with-matches") || p.has("files-without-match") {
            if p.last_of(&["files-with-matches", "files-without-match"])
                == Some("files-without-match")
            {
                Mode::FilesWithout
            } else {
                Mode::FilesWith
            }
        } else if p.has("count") {
            Mode::Count
        } else if p.has("only-matching") {
            Mode::Only
        } else {
            Mode::Lines
        };
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
        let matcher = match (literal_set, combined) {
            (Some(set), _) => AnyMatcher::Fixed(Box::new(set)),
            (None, Err(msg)) if msg == BACKREF_MSG => {
                let mut progs = Vec::with_capacity(patterns.len());
                for pat in &patterns {
                    match backtrack::Prog::new(
                        pat,
                        syntax == Syntax::Extended,
                        ignore_case,
                        p.has("line"),
                        p.has("word"),
                    ) {
                        Ok(prog) => progs.push(prog),
                        Err(msg) => {
                            ctx.error(msg).await;
                            return 2;
                        }
                    }
                }
                AnyMatcher::Backtrack(progs)
            }
            (None, Err(msg)) => {
                ctx.error(msg).await;
                return 2;
            }
            (None, Ok(pattern)) => {
                let mut mb = RegexMatcherBuilder::new();
                mb.case_insensitive(ignore_case).line_terminator(Some(eol));
                if p.has("line") {
                    mb.whole_line(true);
                } else if p.has("word") {
                    mb.word(true);
                }
                match mb.build(&pattern) {
                    Ok(m) => AnyMatcher::Re(m),
                    Err(e) => {
                        let msg = e.to_string();
                        let msg = if syntax == Syntax::Perl && msg.contains("look-around") {
                            "unsupported: look-around in -P patterns".to_string()
                        } else {
                            msg.lines()
                                .last()
                                .unwrap_or("invalid regular expression")
                                .trim()
                                .to_string()
                        };
                        ctx.error(msg).await;
                        return 2;
                    }
                }
            }
        };
        let searcher = SearcherBuilder::new()
            .line_terminator(LineTerminator::byte(eol))
            .invert_match(p.has("invert"))
            .line_number(
                p.has("line-number")
                    && !matches!(
                        p.last_of(&["line-number", "no-line-number"]),
                        Some("no-line-number")
                    ),
            )
            .after_context(if context { after } else { 0 })
            .before_context(if context { before } else { 0 })
            .max_matches(if context { max_count } else { None })
            .build();
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
        };
        let mut g = Grep {
            cfg,
            matcher,
            searcher,
            out: Vec::with_capacity(64 * 1024),
            quiet_errors: p.has("no-messages"),
            text: p.has("text") || binary_files == Some("text"),
            skip_binary: p.has("skip-binary") || binary_files == Some("without-match"),
            null_data,
            any_printed: false,
            selected: false,
            error: false,
            include,
            exclude,
            exclude_dir,
            recursive,
            deref: p.has("deref-recursive"),
            skip_dirs: p.value("directories") == Some("skip"),
            with_filename,
            stdin_label: p.value("label").unwrap_or("(standard input)").to_string(),
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

    fn bre(p: &str) -> String {
        translate_posix(p, false).unwrap()
    }
    fn ere(p: &str) -> String {
        translate_posix(p, true).unwrap()
    }
    fn is_match(re: &str, s: &str) -> bool {
        regex::Regex::new(re).unwrap().is_match(s)
    }

    #[test]
    fn bre_operators_and_literals() {
        assert_eq!(bre(r"fail\(ed\)\? to"), "fail(ed)? to");
        assert_eq!(bre(r"x\{2,\}"), "x{2,}");
        assert_eq!(bre("a+b"), r"a\+b");
        assert_eq!(bre("(a|b){2}"), r"\(a\|b\)\{2\}");
        assert_eq!(bre("*a"), r"\*a");
        assert_eq!(bre("a^b$c"), r"a\^b\$c");
        assert_eq!(bre("^ab$"), "^ab$");
        assert!(is_match(&bre(r"a.b*"), "axbbb"));
        assert!(!is_match(&bre("a+b"), "aab"));
        assert!(is_match(&bre("a+b"), "a+b"));
    }

    #[test]
    fn ere_intervals_and_literal_braces() {
        assert_eq!(ere("x{"), r"x\{");
        assert_eq!(ere("a{,3}"), "a{0,3}");
        assert_eq!(ere("*a"), r"\*a");
        assert!(is_match(
            &ere(r"^[0-9]{1,3}(\.[0-9]{1,3}){3} "),
            "10.0.0.1 - -"
        ));
        assert!(is_match(&ere("WARN|ERROR"), "x ERROR y"));
    }

    #[test]
    fn brackets_and_words() {
        assert_eq!(bre(r"[a\]"), r"[a\\]");
        assert!(is_match(&bre("[]x]"), "]"));
        assert!(is_match(&bre("[[:digit:]]+"), "5+"));
        assert!(is_match(&ere(r"\<ab\>"), "x ab y"));
        assert!(!is_match(&ere(r"\<ab\>"), "xab"));
        assert!(translate_posix("[abc", false).is_err());
    }

    #[test]
    fn errors_are_gnu_messages() {
        assert_eq!(
            translate_posix(r"a\(", false).unwrap_err(),
            r"Unmatched ( or \("
        );
        assert_eq!(
            translate_posix(r"x\{2", false).unwrap_err(),
            r"Unmatched \{"
        );
        assert_eq!(
            translate_posix("a(", true).unwrap_err(),
            r"Unmatched ( or \("
        );
        assert!(translate_posix(r"\(a\)\1", false).is_err());
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
        let p = backtrack::Prog::new("^\\(a\\|b\\)*\\1$", false, false, false, false).unwrap();
        assert_eq!(p.find_at(b"abb", 0), Some((0, 3)));
        assert_eq!(p.find_at(b"ab", 0), None);
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
}
