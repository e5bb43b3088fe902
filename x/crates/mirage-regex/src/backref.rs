//! The backtracking engine for POSIX patterns with back-references
//! (`\(ab\)\1`, `(.)\1`), which the `regex` crate cannot run. It matches
//! within one line (`.` and bracket expressions never match `\n`) and
//! gives up (no match) after a million steps, so no pattern can hang.

use crate::{Options, RegexError, Syntax};

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
    fn alt(&mut self) -> Result<Node, RegexError> {
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
    fn concat(&mut self) -> Result<Node, RegexError> {
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
    fn quantifiers(&mut self, mut atom: Node) -> Result<Node, RegexError> {
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
                    None => return Err(RegexError::syntax("Unmatched \\{")),
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
    fn atom(&mut self, at_start: bool) -> Result<Node, RegexError> {
        let Some(c) = self.peek() else {
            return Err(RegexError::syntax("unexpected end"));
        };
        self.i += 1;
        let lit = |c: char| Ok(Node::Inst(Inst::Char(c)));
        match c {
            '\\' => {
                let Some(n) = self.peek() else {
                    return Err(RegexError::syntax("Trailing backslash"));
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
    fn group(&mut self) -> Result<Node, RegexError> {
        self.groups += 1;
        let idx = self.groups;
        let inner = self.alt()?;
        if !self.at_close() {
            return Err(RegexError::syntax("Unmatched ( or \\("));
        }
        self.i += if self.ext { 1 } else { 2 };
        Ok(Node::Group(Box::new(inner), idx))
    }
    fn class(&mut self) -> Result<Node, RegexError> {
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
                return Err(RegexError::syntax("Unmatched [, [^, [:, [., or [="));
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
                    return Err(RegexError::syntax("Unmatched [, [^, [:, [., or [="));
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

/// A compiled pattern for the backtracking engine.
#[derive(Debug, Clone)]
pub struct Program {
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

impl Program {
    /// Compiles a POSIX pattern as GNU reads it (`syntax`), with
    /// back-references. [`Options::whole_line`] and [`Options::word`] wrap
    /// it as grep's `-x` and `-w` do; [`Options::ignore_case`] folds case.
    ///
    /// # Errors
    /// GNU's diagnostic for a malformed pattern (`Unmatched ( or \(`).
    pub fn new(pat: &str, syntax: Syntax, opts: &Options) -> Result<Program, RegexError> {
        let mut p = Parser {
            c: pat.chars().collect(),
            i: 0,
            ext: syntax == Syntax::Extended,
            groups: 0,
        };
        let node = p.alt()?;
        if p.i < p.c.len() {
            return Err(RegexError::syntax("Unmatched ) or \\)"));
        }
        let node = if opts.whole_line {
            Node::Concat(vec![
                Node::Inst(Inst::Start),
                Node::Group(Box::new(node), 0),
                Node::Inst(Inst::End),
            ])
        } else if opts.word {
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
        Ok(Program {
            insts,
            slots: 2 * (p.groups + 1),
            icase: opts.ignore_case,
        })
    }

    /// The number of capture groups, the whole match (group 0) included.
    pub fn group_count(&self) -> usize {
        self.slots / 2
    }

    /// Whether `a` and `b` are the same characters up to case (each
    /// undecodable byte stands for itself).
    fn same_folded(&self, a: &[u8], b: &[u8]) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (Some((x, lx)), Some((y, ly))) = (char_at(a, i), char_at(b, j)) else {
                return false;
            };
            let same = if x == char::REPLACEMENT_CHARACTER || y == char::REPLACEMENT_CHARACTER {
                a[i..i + lx] == b[j..j + ly]
            } else {
                self.eq(x, y)
            };
            if !same {
                return false;
            }
            i += lx;
            j += ly;
        }
        i == a.len() && j == b.len()
    }

    fn eq(&self, a: char, b: char) -> bool {
        a == b || (self.icase && a.to_lowercase().eq(b.to_lowercase()))
    }

    /// Runs from `start`; the capture slots of the match (`2 * group`
    /// is a group's start, `2 * group + 1` its end; group 0 is set).
    ///
    /// Every path is tried and the longest match is kept (POSIX's
    /// leftmost-longest rule, as GNU regex: `\(a\|ab\)\1*` takes `ab`);
    /// among paths ending at the same place the first one tried keeps its
    /// groups. After a million steps the longest match found so far is
    /// the answer.
    fn run_at(&self, h: &[u8], start: usize) -> Option<Vec<Option<usize>>> {
        let mut stack: Vec<(usize, usize, Vec<Option<usize>>)> =
            vec![(0, start, vec![None; self.slots])];
        let mut steps = 0u32;
        let mut best: Option<(usize, Vec<Option<usize>>)> = None;
        'paths: while let Some((mut pc, mut pos, mut slots)) = stack.pop() {
            loop {
                steps += 1;
                if steps > 1_000_000 {
                    break 'paths;
                }
                match &self.insts[pc] {
                    Inst::Match => {
                        if slots.first().copied().flatten().is_none() {
                            slots[0] = Some(start);
                        }
                        if slots.get(1).copied().flatten().is_none() {
                            slots[1] = Some(pos);
                        }
                        if best.as_ref().is_none_or(|(end, _)| pos > *end) {
                            best = Some((pos, slots));
                        }
                        if pos == h.len() {
                            // nothing can be longer
                            break 'paths;
                        }
                        break;
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
                            h.get(pos..pos + sub.len())
                                .is_some_and(|t| self.same_folded(t, sub))
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
        best.map(|(_, slots)| slots)
    }

    /// The leftmost match at or after `at`, as byte offsets `(start, end)`.
    /// Positions before `at` still count for `^`, `\<` and `\b`.
    pub fn find_at(&self, h: &[u8], at: usize) -> Option<(usize, usize)> {
        let slots = self.captures_at(h, at)?;
        Some((
            slots.first().copied().flatten()?,
            slots.get(1).copied().flatten()?,
        ))
    }

    /// The capture slots of the leftmost match at or after `at`: a vector
    /// of `2 * group_count()` offsets, `None` for a group that took no part.
    pub fn captures_at(&self, h: &[u8], at: usize) -> Option<Vec<Option<usize>>> {
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
