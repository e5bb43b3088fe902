//! The sed script compiler: GNU sed 4.9's grammar (addresses, commands,
//! `s` and `y` arguments, a/i/c text, labels, blocks) into a flat list of
//! [`Cmd`]s where `{` and the branches carry the index they jump to.
//! Errors are GNU's wording; the caller adds the location
//! (`-e expression #1, char 5: `).

use mirage_regex::longest::Longest;
use mirage_regex::{Options, PosixRegex, Syntax};
use mirage_types::bytestr;

/// A compiled sed regular expression. `.` matches a newline, as in GNU sed
/// (the pattern space can hold several lines); `^`/`$` anchor at the
/// pattern space's ends unless the `M` flag asks for line anchors.
#[derive(Debug)]
pub(crate) enum Rx {
    /// The `regex` crate over the translated pattern, with its POSIX
    /// leftmost-longest twin when the two rules can pick different ends
    /// (GNU sed: `echo abcd | sed -E 's/a|ab/X/'` prints `Xcd`).
    Fast(regex::bytes::Regex, Option<Box<Longest>>),
    /// The back-reference engine of `mirage_regex`.
    Posix(PosixRegex),
}

impl Rx {
    /// Compiles `pat` (already freed of sed's own escapes).
    fn compile(pat: &str, ere: bool, icase: bool, mline: bool) -> Result<Rx, String> {
        let syntax = if ere { Syntax::Extended } else { Syntax::Basic };
        match mirage_regex::translate(pat, syntax) {
            Ok(t) => {
                let fast = regex::bytes::RegexBuilder::new(&t)
                    .case_insensitive(icase)
                    .multi_line(mline)
                    .dot_matches_new_line(true)
                    .build()
                    .map_err(|e| mirage_regex::RegexError::engine(&e).message().to_string())?;
                // the same flags, inline, for the twin
                let flags = if mline { "(?sm)" } else { "(?s)" };
                let longest = Longest::new(&format!("{flags}{t}"), icase).map(Box::new);
                Ok(Rx::Fast(fast, longest))
            }
            Err(e) if e.kind() == mirage_regex::RegexErrorKind::BackReference => {
                let opts = Options {
                    ignore_case: icase,
                    ..Options::default()
                };
                PosixRegex::new(pat, syntax, &opts)
                    .map(Rx::Posix)
                    .map_err(|e| e.message().to_string())
            }
            Err(e) => Err(e.message().to_string()),
        }
    }

    /// Whether the regex matches anywhere in `h`.
    pub(crate) fn is_match(&self, h: &[u8]) -> bool {
        match self {
            Rx::Fast(r, _) => r.is_match(h),
            Rx::Posix(p) => p.is_match(h),
        }
    }

    /// The leftmost-longest match at or after `at` (bytes before count for
    /// anchors).
    pub(crate) fn find_at(&self, h: &[u8], at: usize) -> Option<(usize, usize)> {
        match self {
            Rx::Fast(r, longest) => r.find_at(h, at).map(|m| {
                let end = longest
                    .as_ref()
                    .and_then(|l| l.end(h, m.start()))
                    .map_or(m.end(), |e| e.max(m.end()));
                (m.start(), end)
            }),
            Rx::Posix(p) => p.find_at(h, at).map(|m| (m.start, m.end)),
        }
    }

    /// The leftmost-longest match at or after `at` with its groups (0 is
    /// the match).
    pub(crate) fn captures_at(
        &self,
        h: &[u8],
        at: usize,
        out: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        out.clear();
        match self {
            Rx::Fast(r, longest) => match r.captures_at(h, at) {
                Some(c) => {
                    if let (Some(l), Some(m)) = (longest, c.get(0))
                        && l.end(h, m.start()).is_some_and(|e| e > m.end())
                        && let Some(groups) = l.captures(h, m.start())
                    {
                        out.extend(groups.into_iter().map(|g| g.map(|r| (r.start, r.end))));
                        return true;
                    }
                    out.extend(c.iter().map(|g| g.map(|m| (m.start(), m.end()))));
                    true
                }
                None => false,
            },
            Rx::Posix(p) => match p.captures_at(h, at) {
                Some(c) => {
                    out.extend((0..c.len()).map(|i| c.get(i).map(|r| (r.start, r.end))));
                    true
                }
                None => false,
            },
        }
    }

    /// The number of groups, not counting the whole match.
    fn groups(&self) -> usize {
        match self {
            Rx::Fast(r, _) => r.captures_len().saturating_sub(1),
            Rx::Posix(p) => p.group_count().saturating_sub(1),
        }
    }
}

/// A first address.
#[derive(Debug, Clone)]
pub(crate) enum Addr {
    /// Line `n`.
    Line(u64),
    /// `$`.
    Last,
    /// `/re/` (an index in [`Script::regexes`]; `None` is the last regex used).
    Re(Option<usize>),
    /// `first~step`.
    Step(u64, u64),
    /// `0` in `0,/re/`.
    Zero,
}

/// A second address.
#[derive(Debug, Clone)]
pub(crate) enum Addr2 {
    /// Line `n`.
    Line(u64),
    /// `$`.
    Last,
    /// `/re/`.
    Re(Option<usize>),
    /// `+N`: the N lines after the first.
    Plus(u64),
    /// `~N`: up to the next line that is a multiple of N.
    Mult(u64),
}

/// A case conversion in a replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaseOp {
    /// `\U`.
    Upper,
    /// `\L`.
    Lower,
    /// `\u`.
    UpperOne,
    /// `\l`.
    LowerOne,
    /// `\E`.
    End,
}

/// A piece of an `s` replacement.
#[derive(Debug, Clone)]
pub(crate) enum Repl {
    /// Bytes copied as they are.
    Lit(Vec<u8>),
    /// `&` (0) or `\1`..`\9`.
    Group(usize),
    /// A case conversion.
    Case(CaseOp),
}

/// The `s` command.
#[derive(Debug)]
pub(crate) struct Subst {
    /// The regex (`None`: the last regex used).
    pub re: Option<usize>,
    /// The replacement.
    pub repl: Vec<Repl>,
    /// `g`.
    pub global: bool,
    /// The `N` flag (1 by default).
    pub nth: u64,
    /// `p`.
    pub print: bool,
    /// `w FILE` (an index in [`Script::wfiles`]).
    pub wfile: Option<usize>,
    /// Whether the replacement needs the groups (`\1`..`\9` or case ops).
    pub needs_groups: bool,
}

/// What a command does.
#[derive(Debug)]
pub(crate) enum Kind {
    /// `{`: when the address does not match, jump to the index.
    Block(usize),
    /// `}`, `:label`, `#comment`: nothing.
    Nop,
    /// `b`, `t`, `T` (b'b', b't', b'T') to an index (the end for none).
    Branch(u8, usize),
    /// `=`.
    LineNo,
    /// `a TEXT` (the text ends with a newline).
    Append(Vec<u8>),
    /// `i TEXT`.
    Insert(Vec<u8>),
    /// `c TEXT`.
    Change(Vec<u8>),
    /// `d`.
    Delete,
    /// `D`.
    DeleteFirst,
    /// `g`.
    GetHold,
    /// `G`.
    GetHoldAppend,
    /// `h`.
    Hold,
    /// `H`.
    HoldAppend,
    /// `x`.
    Exchange,
    /// `l [N]`.
    List(Option<usize>),
    /// `n`.
    Next,
    /// `N`.
    NextAppend,
    /// `p`.
    Print,
    /// `P`.
    PrintFirst,
    /// `q [CODE]`.
    Quit(i32),
    /// `Q [CODE]`.
    QuitSilent(i32),
    /// `r FILE`.
    ReadFile(String),
    /// `R FILE`.
    ReadLine(String),
    /// `w FILE`.
    Write(usize),
    /// `W FILE`.
    WriteFirst(usize),
    /// `s`.
    Subst(Box<Subst>),
    /// `y` as a byte map.
    Translit(Box<[u8; 256]>),
    /// `y` with multibyte characters: (from, to) pairs.
    TranslitChars(Vec<(Vec<u8>, Vec<u8>)>),
    /// `z`.
    Zap,
    /// `F`.
    FileName,
}

/// One command with its addresses.
#[derive(Debug)]
pub(crate) struct Cmd {
    /// The first address.
    pub a1: Option<Addr>,
    /// The second address.
    pub a2: Option<Addr2>,
    /// `!`.
    pub neg: bool,
    /// The command.
    pub kind: Kind,
}

/// A compiled script.
#[derive(Debug, Default)]
pub(crate) struct Script {
    /// The commands in order.
    pub cmds: Vec<Cmd>,
    /// The regexes the commands refer to.
    pub regexes: Vec<Rx>,
    /// The files of `w`/`W` and `s///w`, as written.
    pub wfiles: Vec<String>,
    /// `#n` on the first line.
    pub hash_n: bool,
}

/// A compile error: GNU's message and the 0-based char offset in the
/// joined script where it was noticed (the count of characters read),
/// or `None` for an error without a location.
#[derive(Debug)]
pub(crate) struct ParseError {
    /// The message.
    pub msg: String,
    /// Characters read when the error was found.
    pub pos: Option<usize>,
}

/// Where the script pieces came from, to word error locations.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// `-e` number n (1-based), or the script operand (1).
    Expr(usize),
    /// `-f FILE`.
    File(String),
}

/// A script piece: its origin and its text.
pub(crate) struct Piece {
    /// Where it came from.
    pub origin: Origin,
    /// The text.
    pub text: String,
}

/// The location prefix of an error at `pos` in the joined `pieces`
/// (`-e expression #2, char 5: ` or `file F line 3: `).
pub(crate) fn locate(pieces: &[Piece], pos: Option<usize>) -> String {
    let Some(pos) = pos else {
        return String::new();
    };
    let mut start = 0usize;
    for (i, p) in pieces.iter().enumerate() {
        let len = p.text.chars().count();
        let last = i + 1 == pieces.len();
        if pos <= start + len || last {
            let off = pos.saturating_sub(start).min(len + usize::from(!last));
            let off = off.min(len);
            return match &p.origin {
                Origin::Expr(n) => format!("-e expression #{n}, char {off}: "),
                Origin::File(f) => {
                    let line = 1 + p.text.chars().take(off).filter(|&c| c == '\n').count();
                    let line = if off > 0 && p.text.chars().nth(off - 1) == Some('\n') {
                        line - 1
                    } else {
                        line
                    };
                    format!("file {f} line {line}: ")
                }
            };
        }
        start += len + 1;
    }
    String::new()
}

/// Compiler state.
struct Parser<'a> {
    s: Vec<char>,
    pos: usize,
    ere: bool,
    script: Script,
    /// Open `{` command indices.
    blocks: Vec<usize>,
    /// Labels: name → command index.
    labels: Vec<(String, usize)>,
    /// Branches to resolve: (command index, label).
    jumps: Vec<(usize, String)>,
    sandbox: bool,
    _p: std::marker::PhantomData<&'a ()>,
}

type PResult<T> = Result<T, ParseError>;

/// Compiles the joined script text.
pub(crate) fn compile(text: &str, ere: bool, sandbox: bool) -> PResult<Script> {
    let mut p = Parser {
        s: text.chars().collect(),
        pos: 0,
        ere,
        script: Script::default(),
        blocks: Vec::new(),
        labels: Vec::new(),
        jumps: Vec::new(),
        sandbox,
        _p: std::marker::PhantomData,
    };
    if p.s.len() >= 2 && p.s[0] == '#' && p.s[1] == 'n' && p.s.get(2).is_none_or(|&c| c == '\n') {
        p.script.hash_n = true;
    }
    p.program()?;
    if !p.blocks.is_empty() {
        return Err(ParseError {
            msg: "unmatched `{'".into(),
            pos: Some(0),
        });
    }
    let end = p.script.cmds.len();
    for (at, label) in std::mem::take(&mut p.jumps) {
        let target = if label.is_empty() {
            end
        } else {
            match p.labels.iter().find(|(l, _)| *l == label) {
                Some((_, i)) => *i,
                None => {
                    return Err(ParseError {
                        msg: format!("can't find label for jump to `{label}'"),
                        pos: None,
                    });
                }
            }
        };
        if let Kind::Branch(_, t) = &mut p.script.cmds[at].kind {
            *t = target;
        }
    }
    Ok(p.script)
}

impl Parser<'_> {
    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            msg: msg.into(),
            pos: Some(self.pos),
        })
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn getc(&mut self) -> Option<char> {
        let c = self.s.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn skip_ws_nl(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ';' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn number(&mut self) -> u64 {
        let mut n: u64 = 0;
        while let Some(c) = self.peek() {
            match c.to_digit(10) {
                Some(d) => {
                    n = n.saturating_mul(10).saturating_add(u64::from(d));
                    self.pos += 1;
                }
                None => break,
            }
        }
        n
    }

    fn program(&mut self) -> PResult<()> {
        loop {
            self.skip_ws_nl();
            let Some(c) = self.peek() else {
                return Ok(());
            };
            if c == '#' {
                while let Some(c) = self.getc() {
                    if c == '\n' {
                        break;
                    }
                }
                continue;
            }
            self.command()?;
        }
    }

    /// A regex between delimiters `delim` (the opening one already read):
    /// sed's escapes resolved, `\DELIM` made the delimiter. `None` when the
    /// closing delimiter is missing.
    fn delimited(&mut self, delim: char, regex: bool) -> Option<String> {
        let mut out = String::new();
        loop {
            let c = self.getc()?;
            if c == delim {
                return Some(out);
            }
            if c == '\n' {
                // GNU reports the error before the newline.
                self.pos -= 1;
                return None;
            }
            if c == '[' && regex {
                out.push(c);
                self.bracket(&mut out)?;
                continue;
            }
            if c == '\\' {
                let n = self.getc()?;
                if n == delim {
                    out.push(n);
                } else if (n == 'n' || n == '\n') && regex {
                    out.push('\n');
                } else {
                    out.push('\\');
                    out.push(n);
                }
                continue;
            }
            out.push(c);
        }
    }

    /// The rest of a bracket expression after `[`, copied as it is (the
    /// delimiter does not end it, as in GNU sed). `None` at a newline or
    /// the end of the script.
    fn bracket(&mut self, out: &mut String) -> Option<()> {
        let mut first = true;
        if self.peek() == Some('^') {
            out.push('^');
            self.pos += 1;
        }
        loop {
            let c = self.getc()?;
            if c == '\n' {
                return None;
            }
            if c == '\\' && self.peek() == Some('n') {
                self.pos += 1;
                out.push('\n');
                first = false;
                continue;
            }
            out.push(c);
            if c == ']' && !first {
                return Some(());
            }
            first = false;
            if c == '[' && matches!(self.peek(), Some(':' | '.' | '=')) {
                let kind = self.getc()?;
                out.push(kind);
                loop {
                    let d = self.getc()?;
                    if d == '\n' {
                        return None;
                    }
                    out.push(d);
                    if d == kind && self.peek() == Some(']') {
                        self.pos += 1;
                        out.push(']');
                        break;
                    }
                }
            }
        }
    }

    /// Reads flags `I`/`M` after an address regex and compiles it.
    fn addr_regex(&mut self, delim: char) -> PResult<Option<usize>> {
        let Some(pat) = self.delimited(delim, true) else {
            return self.err("unterminated address regex");
        };
        let (mut icase, mut mline) = (false, false);
        loop {
            match self.peek() {
                Some('I') => icase = true,
                Some('M') => mline = true,
                _ => break,
            }
            self.pos += 1;
        }
        if pat.is_empty() {
            return self.no_previous().map(|()| None);
        }
        self.add_regex(&pat, icase, mline).map(Some)
    }

    /// An empty regex needs an earlier one (GNU checks it when compiling).
    fn no_previous(&self) -> PResult<()> {
        if self.script.regexes.is_empty() {
            return Err(ParseError {
                msg: "no previous regular expression".into(),
                pos: Some(0),
            });
        }
        Ok(())
    }

    fn add_regex(&mut self, pat: &str, icase: bool, mline: bool) -> PResult<usize> {
        let pat = resolve_escapes(pat);
        match Rx::compile(&pat, self.ere, icase, mline) {
            Ok(r) => {
                self.script.regexes.push(r);
                Ok(self.script.regexes.len() - 1)
            }
            Err(m) => self.err(m),
        }
    }

    fn address(&mut self) -> PResult<Option<Addr>> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let n = self.number();
                self.skip_ws();
                if self.peek() == Some('~') {
                    self.pos += 1;
                    self.skip_ws();
                    let step = self.number();
                    return Ok(Some(Addr::Step(n, step)));
                }
                Ok(Some(if n == 0 { Addr::Zero } else { Addr::Line(n) }))
            }
            Some('$') => {
                self.pos += 1;
                Ok(Some(Addr::Last))
            }
            Some('/') => {
                self.pos += 1;
                Ok(Some(Addr::Re(self.addr_regex('/')?)))
            }
            Some('\\') => {
                self.pos += 1;
                match self.getc() {
                    Some(d) if d != '\n' && d != '\\' => Ok(Some(Addr::Re(self.addr_regex(d)?))),
                    _ => self.err("unexpected `,'"),
                }
            }
            _ => Ok(None),
        }
    }

    fn address2(&mut self) -> PResult<Addr2> {
        self.skip_ws();
        match self.peek() {
            Some('+' | '~') => {
                let c = self.getc();
                self.skip_ws();
                let n = self.number();
                Ok(if c == Some('+') {
                    Addr2::Plus(n)
                } else {
                    Addr2::Mult(n)
                })
            }
            _ => match self.address()? {
                Some(Addr::Line(n)) => Ok(Addr2::Line(n)),
                Some(Addr::Zero) => self.err("invalid usage of line address 0"),
                Some(Addr::Step(n, _)) => Ok(Addr2::Line(n)),
                Some(Addr::Last) => Ok(Addr2::Last),
                Some(Addr::Re(r)) => Ok(Addr2::Re(r)),
                None => {
                    self.getc();
                    self.err("unexpected `,'")
                }
            },
        }
    }

    /// After a command: spaces, then `;`, a newline, `}`, `#` or the end.
    fn end_of_cmd(&mut self) -> PResult<()> {
        self.skip_ws();
        match self.peek() {
            None | Some('\n' | ';') => {
                if self.peek().is_some() {
                    self.pos += 1;
                }
                Ok(())
            }
            Some('}' | '#') => Ok(()),
            Some(_) => {
                self.pos += 1;
                self.err("extra characters after command")
            }
        }
    }

    /// A label or file name: to the end of the line (labels also stop at `;`).
    fn read_to_eol(&mut self, semicolon: bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' || (semicolon && c == ';') {
                break;
            }
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn filename(&mut self) -> PResult<String> {
        self.skip_ws();
        let f = self.read_to_eol(false);
        if self.peek() == Some('\n') {
            self.pos += 1;
        }
        if f.is_empty() {
            return self.err("missing filename in r/R/w/W commands");
        }
        Ok(f)
    }

    fn wfile(&mut self, name: String) -> usize {
        if let Some(i) = self.script.wfiles.iter().position(|f| *f == name) {
            return i;
        }
        self.script.wfiles.push(name);
        self.script.wfiles.len() - 1
    }

    /// The text of `a`, `i`, `c` (GNU's one-liner and `\`-newline forms).
    fn text(&mut self) -> PResult<Vec<u8>> {
        self.skip_ws();
        if self.peek().is_none() {
            return self.err("expected \\ after `a', `c' or `i'");
        }
        if self.peek() == Some('\\') {
            self.pos += 1;
            if self.peek() == Some('\n') {
                self.pos += 1;
            }
            if self.peek().is_none() {
                return Ok(Vec::new());
            }
        }
        let mut out = String::new();
        while let Some(c) = self.getc() {
            match c {
                '\\' => match self.getc() {
                    Some(n) => out.push(n),
                    None => break,
                },
                '\n' => break,
                c => out.push(c),
            }
        }
        out.push('\n');
        Ok(bytestr::encode(&out).into_owned())
    }

    fn command(&mut self) -> PResult<()> {
        let a1 = self.address()?;
        let mut a2 = None;
        self.skip_ws();
        if a1.is_some() && self.peek() == Some(',') {
            self.pos += 1;
            a2 = Some(self.address2()?);
        }
        self.skip_ws();
        let mut neg = false;
        while self.peek() == Some('!') {
            if neg {
                self.pos += 1;
                return self.err("multiple `!'s");
            }
            neg = true;
            self.pos += 1;
            self.skip_ws();
        }
        let Some(c) = self.getc() else {
            return self.err("missing command");
        };
        if matches!(a1, Some(Addr::Zero)) && !matches!(a2, Some(Addr2::Re(_))) {
            return self.err("invalid usage of line address 0");
        }
        let has_addr = a1.is_some();
        let one_addr = |p: &Self| -> PResult<()> {
            if a2.is_some() {
                p.err("command only uses one address")
            } else {
                Ok(())
            }
        };
        let kind = match c {
            '{' => {
                self.blocks.push(self.script.cmds.len());
                Kind::Block(0)
            }
            '}' => {
                let Some(open) = self.blocks.pop() else {
                    return self.err("unexpected `}'");
                };
                if has_addr || neg {
                    return self.err("} doesn't want any addresses");
                }
                let here = self.script.cmds.len() + 1;
                if let Kind::Block(t) = &mut self.script.cmds[open].kind {
                    *t = here;
                }
                self.end_of_cmd()?;
                Kind::Nop
            }
            '#' => {
                if has_addr {
                    return self.err("comments don't accept any addresses");
                }
                self.read_to_eol(false);
                Kind::Nop
            }
            ':' => {
                if has_addr {
                    return self.err(": doesn't want any addresses");
                }
                self.skip_ws();
                let l = self.read_to_eol(true);
                if l.is_empty() {
                    return self.err("\":\" lacks a label");
                }
                if self.peek().is_some() {
                    self.pos += 1;
                }
                self.labels
                    .push((l.trim_end().to_string(), self.script.cmds.len()));
                Kind::Nop
            }
            'b' | 't' | 'T' => {
                self.skip_ws();
                let l = self.read_to_eol(true);
                if self.peek().is_some() {
                    self.pos += 1;
                }
                let l = l.trim_end().to_string();
                self.jumps.push((self.script.cmds.len(), l));
                Kind::Branch(c as u8, 0)
            }
            '=' => {
                self.end_of_cmd()?;
                Kind::LineNo
            }
            'a' | 'i' | 'c' => {
                let t = self.text()?;
                match c {
                    'a' => Kind::Append(t),
                    'i' => Kind::Insert(t),
                    _ => Kind::Change(t),
                }
            }
            'd' | 'D' | 'g' | 'G' | 'h' | 'H' | 'x' | 'n' | 'N' | 'p' | 'P' | 'z' | 'F' => {
                self.end_of_cmd()?;
                match c {
                    'd' => Kind::Delete,
                    'D' => Kind::DeleteFirst,
                    'g' => Kind::GetHold,
                    'G' => Kind::GetHoldAppend,
                    'h' => Kind::Hold,
                    'H' => Kind::HoldAppend,
                    'x' => Kind::Exchange,
                    'n' => Kind::Next,
                    'N' => Kind::NextAppend,
                    'p' => Kind::Print,
                    'P' => Kind::PrintFirst,
                    'z' => Kind::Zap,
                    _ => Kind::FileName,
                }
            }
            'l' | 'L' | 'q' | 'Q' => {
                if c != 'l' && c != 'L' {
                    one_addr(self)?;
                }
                self.skip_ws();
                let n = if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    Some(self.number())
                } else {
                    None
                };
                self.end_of_cmd()?;
                match c {
                    'q' => Kind::Quit(n.unwrap_or(0) as i32),
                    'Q' => Kind::QuitSilent(n.unwrap_or(0) as i32),
                    'L' => return self.err("unknown command: `L'"),
                    _ => Kind::List(n.map(|n| n as usize)),
                }
            }
            'r' | 'R' | 'w' | 'W' => {
                if self.sandbox {
                    return self.err("e/r/w commands disabled in sandbox mode");
                }
                let f = self.filename()?;
                match c {
                    'r' => Kind::ReadFile(f),
                    'R' => Kind::ReadLine(f),
                    'w' => Kind::Write(self.wfile(f)),
                    _ => Kind::WriteFirst(self.wfile(f)),
                }
            }
            'e' => {
                return self
                    .err("the `e' command is disabled in mirage (it would run a host process)");
            }
            's' => self.subst()?,
            'y' => self.translit()?,
            'v' => {
                self.read_to_eol(true);
                if self.peek().is_some() {
                    self.pos += 1;
                }
                Kind::Nop
            }
            c => return self.err(format!("unknown command: `{c}'")),
        };
        self.script.cmds.push(Cmd { a1, a2, neg, kind });
        Ok(())
    }

    fn subst(&mut self) -> PResult<Kind> {
        let Some(delim) = self.getc() else {
            return self.err("unterminated `s' command");
        };
        if delim == '\n' || delim == '\\' {
            return self.err("unterminated `s' command");
        }
        let Some(pat) = self.delimited(delim, true) else {
            return self.err("unterminated `s' command");
        };
        let Some(rep) = self.delimited(delim, false) else {
            return self.err("unterminated `s' command");
        };
        let (mut global, mut print, mut nth, mut icase, mut mline) =
            (false, false, None, false, false);
        let mut wfile = None;
        loop {
            match self.peek() {
                Some('g') => {
                    self.pos += 1;
                    if global {
                        return self.err("multiple `g' options to `s' command");
                    }
                    global = true;
                }
                Some('p') => {
                    self.pos += 1;
                    if print {
                        return self.err("multiple `p' options to `s' command");
                    }
                    print = true;
                }
                Some('i' | 'I') => {
                    self.pos += 1;
                    icase = true;
                }
                Some('m' | 'M') => {
                    self.pos += 1;
                    mline = true;
                }
                Some('e') => {
                    self.pos += 1;
                    return self.err(
                        "the `e' flag of `s' is disabled in mirage (it would run a host process)",
                    );
                }
                Some(c) if c.is_ascii_digit() => {
                    if nth.is_some() {
                        self.pos += 1;
                        return self.err("multiple number options to `s' command");
                    }
                    let n = self.number();
                    if n == 0 {
                        return self.err("number option to `s' command may not be zero");
                    }
                    nth = Some(n);
                }
                Some('w') => {
                    self.pos += 1;
                    if self.sandbox {
                        return self.err("e/r/w commands disabled in sandbox mode");
                    }
                    let f = self.filename()?;
                    wfile = Some(self.wfile(f));
                    break;
                }
                _ => {
                    self.end_of_cmd().map_err(|e| ParseError {
                        msg: if e.msg.starts_with("extra") {
                            "unknown option to `s'".into()
                        } else {
                            e.msg
                        },
                        pos: e.pos,
                    })?;
                    break;
                }
            }
        }
        let re = if pat.is_empty() {
            self.no_previous()?;
            None
        } else {
            Some(self.add_regex(&pat, icase, mline)?)
        };
        let repl = parse_replacement(&rep);
        let max_ref = repl
            .iter()
            .filter_map(|r| match r {
                Repl::Group(n) => Some(*n),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        if let Some(i) = re
            && max_ref > self.script.regexes[i].groups()
        {
            return self.err(format!(
                "invalid reference \\{max_ref} on `s' command's RHS"
            ));
        }
        let needs_groups = repl
            .iter()
            .any(|r| matches!(r, Repl::Group(n) if *n > 0) || matches!(r, Repl::Case(_)));
        Ok(Kind::Subst(Box::new(Subst {
            re,
            repl,
            global,
            nth: nth.unwrap_or(1),
            print,
            wfile,
            needs_groups,
        })))
    }

    fn translit(&mut self) -> PResult<Kind> {
        let Some(delim) = self.getc() else {
            return self.err("unterminated `y' command");
        };
        let (Some(a), Some(b)) = (self.ytext(delim)?, self.ytext(delim)?) else {
            return self.err("unterminated `y' command");
        };
        let ac: Vec<Vec<u8>> = a
            .iter()
            .map(|c| bytestr::encode(&c.to_string()).into_owned())
            .collect();
        let bc: Vec<Vec<u8>> = b
            .iter()
            .map(|c| bytestr::encode(&c.to_string()).into_owned())
            .collect();
        if ac.len() != bc.len() {
            return self.err("strings for `y' command are different lengths");
        }
        self.end_of_cmd()?;
        if ac.iter().chain(bc.iter()).all(|c| c.len() == 1) {
            let mut map = Box::new([0u8; 256]);
            for (i, m) in map.iter_mut().enumerate() {
                *m = i as u8;
            }
            for (f, t) in ac.iter().zip(&bc) {
                map[f[0] as usize] = t[0];
            }
            Ok(Kind::Translit(map))
        } else {
            Ok(Kind::TranslitChars(ac.into_iter().zip(bc).collect()))
        }
    }

    /// One part of `y`: characters with `\\`, `\n` and `\DELIM` resolved.
    fn ytext(&mut self, delim: char) -> PResult<Option<Vec<char>>> {
        let mut out = Vec::new();
        loop {
            let Some(c) = self.getc() else {
                return Ok(None);
            };
            if c == delim {
                return Ok(Some(out));
            }
            if c == '\\' {
                match self.getc() {
                    Some('n') => out.push('\n'),
                    Some('\\') => out.push('\\'),
                    Some(n) if n == delim => out.push(n),
                    Some('t') => out.push('\t'),
                    Some('\n') => out.push('\n'),
                    Some(_) => return self.err("unknown option to `s'").map(|_: ()| None),
                    None => return Ok(None),
                }
                continue;
            }
            out.push(c);
        }
    }
}

/// The character of a GNU text escape (`\t`, `\a`, …), if `c` names one.
fn simple_escape(c: char) -> Option<char> {
    Some(match c {
        'a' => '\x07',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        _ => return None,
    })
}

/// Reads `\dNNN`, `\oNNN`, `\xHH`, `\cX` at `chars[i]` (the letter); returns
/// the char and the chars used after the letter.
fn numeric_escape(chars: &[char], i: usize) -> Option<(char, usize)> {
    let (radix, max) = match chars.get(i)? {
        'd' => (10, 3),
        'o' => (8, 3),
        'x' => (16, 2),
        'c' => {
            let x = chars.get(i + 1)?.to_ascii_uppercase();
            return Some((char::from((x as u8) ^ 0x40), 1));
        }
        _ => return None,
    };
    let mut v: u32 = 0;
    let mut n = 0;
    while n < max {
        match chars.get(i + 1 + n).and_then(|c| c.to_digit(radix)) {
            Some(d) => v = v * radix + d,
            None => break,
        }
        n += 1;
    }
    if n == 0 || v > 255 {
        return None;
    }
    let b = v as u8;
    let s = bytestr::decode(&[b]).into_owned();
    s.chars().next().map(|c| (c, n))
}

/// Resolves the escapes GNU sed handles before the regex compiler:
/// `\t`, `\a`, `\f`, `\v`, `\r`, `\dNNN`, `\oNNN`, `\xHH`, `\cX` (a
/// produced special character stays literal).
fn resolve_escapes(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n != 'n'
                && let Some(e) = simple_escape(n)
            {
                out.push(e);
                i += 2;
                continue;
            }
            if let Some((e, used)) = numeric_escape(&chars, i + 1) {
                if "^$.*[]\\+?(){}|/".contains(e) {
                    out.push('\\');
                }
                out.push(e);
                i += 2 + used;
                continue;
            }
            out.push(c);
            out.push(n);
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Parses an `s` replacement: `&`, `\1`..`\9`, `\L \U \l \u \E`, `\n`
/// and the other text escapes, `\`-newline, `\c` for any other `c`.
fn parse_replacement(rep: &str) -> Vec<Repl> {
    let chars: Vec<char> = rep.chars().collect();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, parts: &mut Vec<Repl>| {
        if !lit.is_empty() {
            parts.push(Repl::Lit(bytestr::encode(lit).into_owned()));
            lit.clear();
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '&' => {
                flush(&mut lit, &mut parts);
                parts.push(Repl::Group(0));
            }
            '\\' if i < chars.len() => {
                let n = chars[i];
                i += 1;
                match n {
                    '0'..='9' => {
                        flush(&mut lit, &mut parts);
                        parts.push(Repl::Group(n as usize - '0' as usize));
                    }
                    'L' | 'U' | 'l' | 'u' | 'E' => {
                        flush(&mut lit, &mut parts);
                        parts.push(Repl::Case(match n {
                            'L' => CaseOp::Lower,
                            'U' => CaseOp::Upper,
                            'l' => CaseOp::LowerOne,
                            'u' => CaseOp::UpperOne,
                            _ => CaseOp::End,
                        }));
                    }
                    '\n' => lit.push('\n'),
                    _ => {
                        if let Some(e) = simple_escape(n) {
                            lit.push(e);
                        } else if let Some((e, used)) = numeric_escape(&chars, i - 1) {
                            lit.push(e);
                            i += used;
                        } else {
                            lit.push(n);
                        }
                    }
                }
            }
            c => lit.push(c),
        }
    }
    flush(&mut lit, &mut parts);
    parts
}
