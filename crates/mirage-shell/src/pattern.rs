//! Glob patterns as bash matches them (`*`, `?`, `[…]` with `!`/`^`,
//! ranges and `[:class:]`, `\` escapes, and the `extglob` forms
//! `?(…) *(…) +(…) @(…) !(…)` with `|`-separated alternatives), with
//! optional case folding (`nocasematch`, `nocaseglob`). Pathname expansion
//! against the VFS is in [`crate::glob`].

/// How a pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchOpts {
    /// Recognise `?(…) *(…) +(…) @(…) !(…)` (bash's `extglob`).
    pub extglob: bool,
    /// Compare letters without regard to case (`nocasematch`/`nocaseglob`).
    pub nocase: bool,
}

impl Default for MatchOpts {
    fn default() -> Self {
        MatchOpts {
            extglob: true,
            nocase: false,
        }
    }
}

/// Whether `pat` contains an unescaped glob character (extglob forms
/// included).
pub fn has_glob(pat: &str) -> bool {
    let mut esc = false;
    let mut prev = ' ';
    for c in pat.chars() {
        if esc {
            esc = false;
            prev = ' ';
            continue;
        }
        match c {
            '\\' => esc = true,
            '*' | '?' | '[' => return true,
            '(' if matches!(prev, '+' | '@' | '!') => return true,
            _ => {}
        }
        prev = c;
    }
    false
}

/// Whether `pat` contains an unescaped extglob group opener (`?(`, `*(`,
/// `+(`, `@(`, `!(`).
pub fn has_extglob(pat: &str) -> bool {
    let mut esc = false;
    let mut prev = ' ';
    for c in pat.chars() {
        if esc {
            esc = false;
            prev = ' ';
            continue;
        }
        if c == '\\' {
            esc = true;
            continue;
        }
        if c == '(' && matches!(prev, '?' | '*' | '+' | '@' | '!') {
            return true;
        }
        prev = c;
    }
    false
}

/// Under `nocasematch` (`on`), `pat` rewritten to match letters in either
/// case (`a` becomes `[aA]`), as bash's `${v/pat/rep}` does; bracket
/// expressions are kept as they are. Otherwise `pat` unchanged.
pub fn fold_case_if(pat: String, on: bool) -> String {
    if !on {
        return pat;
    }
    let p: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len() * 2);
    let mut i = 0;
    while i < p.len() {
        let mut c = p[i];
        if c == '[' {
            if let Some(e) = bracket_close(&p, i) {
                out.extend(&p[i..=e]);
                i = e + 1;
                continue;
            }
        } else if c == '\\' && i + 1 < p.len() {
            i += 1;
            c = p[i];
            if !c.is_alphabetic() {
                out.push('\\');
                out.push(c);
                i += 1;
                continue;
            }
        }
        let (lo, up): (String, String) = (c.to_lowercase().collect(), c.to_uppercase().collect());
        if c.is_alphabetic() && lo != up && lo.chars().count() == 1 && up.chars().count() == 1 {
            out.push('[');
            out.push_str(&lo);
            out.push_str(&up);
            out.push(']');
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Removes backslash escapes (a pattern back to its literal text).
pub fn unescape(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len());
    let mut esc = false;
    for c in pat.chars() {
        if esc {
            out.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    if esc {
        out.push('\\');
    }
    out
}

/// Escapes glob characters (extglob's `( ) | + @ !` too) and backslashes in
/// literal text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '*' | '?' | '[' | ']' | '\\' | '(' | ')' | '|' | '+' | '@' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether the whole of `text` matches `pat` (fnmatch without FNM_PATHNAME),
/// extglob forms recognised, case significant.
pub fn matches(pat: &str, text: &str) -> bool {
    matches_with(pat, text, MatchOpts::default())
}

/// Whether the whole of `text` matches `pat` under `opts`.
pub fn matches_with(pat: &str, text: &str, opts: MatchOpts) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let nodes = compile(&p, opts.extglob);
    let m = Matcher {
        t: &t,
        nocase: opts.nocase,
        memo: std::cell::RefCell::new(std::collections::HashMap::new()),
    };
    m.seq(&nodes, 0, t.len())
}

/// One element of a compiled pattern.
#[derive(Debug, Clone)]
enum Node {
    Lit(char),
    Any,
    Star,
    /// A bracket expression: its text from `[` to `]` inclusive.
    Bracket(Vec<char>),
    /// An extglob group: its operator and alternatives.
    Ext(char, Vec<Vec<Node>>),
}

/// The index of the `)` closing the group whose `(` is at `open`.
fn group_end(p: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < p.len() {
        match p[i] {
            '\\' => i += 1,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            '[' => {
                if let Some(e) = bracket_close(p, i) {
                    i = e;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the `]` closing the bracket expression at `start`.
fn bracket_close(p: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if matches!(p.get(i), Some('!' | '^')) {
        i += 1;
    }
    let mut first = true;
    while i < p.len() {
        let ch = p[i];
        if ch == ']' && !first {
            return Some(i);
        }
        first = false;
        if ch == '[' && p.get(i + 1) == Some(&':') {
            let mut j = i + 2;
            while j + 1 < p.len() && !(p[j] == ':' && p[j + 1] == ']') {
                j += 1;
            }
            if j + 1 < p.len() {
                i = j + 2;
                continue;
            }
        }
        if ch == '\\' {
            i += 1;
        }
        i += 1;
    }
    None
}

fn compile(p: &[char], extglob: bool) -> Vec<Node> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        if extglob
            && matches!(c, '?' | '*' | '+' | '@' | '!')
            && p.get(i + 1) == Some(&'(')
            && let Some(end) = group_end(p, i + 1)
        {
            let alts = split_alts(&p[i + 2..end])
                .into_iter()
                .map(|a| compile(a, extglob))
                .collect();
            out.push(Node::Ext(c, alts));
            i = end + 1;
            continue;
        }
        match c {
            '*' => {
                if !matches!(out.last(), Some(Node::Star)) {
                    out.push(Node::Star);
                }
            }
            '?' => out.push(Node::Any),
            '[' => match bracket_close(p, i) {
                Some(e) => {
                    out.push(Node::Bracket(p[i..=e].to_vec()));
                    i = e;
                }
                None => out.push(Node::Lit('[')),
            },
            '\\' if i + 1 < p.len() => {
                out.push(Node::Lit(p[i + 1]));
                i += 1;
            }
            _ => out.push(Node::Lit(c)),
        }
        i += 1;
    }
    out
}

/// Splits a group's inside on its top-level `|`.
fn split_alts(p: &[char]) -> Vec<&[char]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => i += 1,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '[' => {
                if let Some(e) = bracket_close(p, i) {
                    i = e;
                }
            }
            '|' if depth == 0 => {
                out.push(&p[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&p[start.min(p.len())..]);
    out
}

struct Matcher<'t> {
    t: &'t [char],
    nocase: bool,
    /// Results of the extglob walk already computed, by (the nodes' address
    /// and length, a repetition's extra key, from, to): nested groups
    /// (`*(*(0))c`) would otherwise take exponential time. Kept only for
    /// texts up to [`MEMO_MAX_TEXT`] characters.
    memo: std::cell::RefCell<std::collections::HashMap<MemoKey, bool>>,
}

/// A memo entry's key: two addresses (or an address and a length), a
/// discriminator, from, to.
type MemoKey = (usize, usize, usize, usize, usize);

/// The longest text whose extglob walk is memoised (the table grows with
/// the square of the text's length).
const MEMO_MAX_TEXT: usize = 4096;

impl Matcher<'_> {
    fn eq(&self, a: char, b: char) -> bool {
        a == b || (self.nocase && fold(a) == fold(b))
    }

    /// Whether one single-character node matches `c`.
    fn one(&self, n: &Node, c: char) -> bool {
        match n {
            Node::Lit(x) => self.eq(*x, c),
            Node::Any => true,
            Node::Bracket(b) => bracket(b, c, self.nocase),
            Node::Star | Node::Ext(..) => false,
        }
    }

    /// `nodes` without extglob groups against `t[from..to]`: the classic
    /// star-backtracking walk (linear for one `*`).
    fn plain(&self, p: &[Node], from: usize, to: usize) -> bool {
        let (mut pi, mut ti) = (0, from);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if pi < p.len() {
                if matches!(p[pi], Node::Star) {
                    pi += 1;
                    if pi == p.len() {
                        return true;
                    }
                    star = Some((pi, ti));
                    continue;
                }
                if ti < to && self.one(&p[pi], self.t[ti]) {
                    pi += 1;
                    ti += 1;
                    continue;
                }
            } else if ti == to {
                return true;
            }
            match star {
                Some((sp, st)) if st < to => {
                    star = Some((sp, st + 1));
                    pi = sp;
                    ti = st + 1;
                }
                _ => return false,
            }
        }
    }

    /// Whether `nodes` match exactly `t[from..to]`.
    fn seq(&self, nodes: &[Node], from: usize, to: usize) -> bool {
        if !nodes.iter().any(|n| matches!(n, Node::Ext(..))) {
            return self.plain(nodes, from, to);
        }
        let key = (nodes.as_ptr() as usize, nodes.len(), 0, from, to);
        self.memoised(key, || self.seq_walk(nodes, from, to))
    }

    /// `f()`, remembered under `key` for a short text.
    fn memoised(&self, key: MemoKey, f: impl FnOnce() -> bool) -> bool {
        if self.t.len() > MEMO_MAX_TEXT {
            return f();
        }
        if let Some(&r) = self.memo.borrow().get(&key) {
            return r;
        }
        let r = f();
        self.memo.borrow_mut().insert(key, r);
        r
    }

    /// [`Matcher::seq`] for nodes holding an extglob group.
    fn seq_walk(&self, nodes: &[Node], from: usize, to: usize) -> bool {
        let Some(n) = nodes.first() else {
            return from == to;
        };
        let rest = &nodes[1..];
        match n {
            Node::Lit(c) => from < to && self.eq(*c, self.t[from]) && self.seq(rest, from + 1, to),
            Node::Any => from < to && self.seq(rest, from + 1, to),
            Node::Bracket(b) => {
                from < to && bracket(b, self.t[from], self.nocase) && self.seq(rest, from + 1, to)
            }
            Node::Star => {
                if rest.is_empty() {
                    return true;
                }
                // a literal next: only try where it can match
                (from..=to).any(|k| match rest.first() {
                    Some(Node::Lit(c)) => k < to && self.eq(*c, self.t[k]) && self.seq(rest, k, to),
                    _ => self.seq(rest, k, to),
                })
            }
            Node::Ext(op, alts) => match op {
                '@' => (from..=to).any(|k| self.any_alt(alts, from, k) && self.seq(rest, k, to)),
                '?' => {
                    self.seq(rest, from, to)
                        || (from..=to).any(|k| self.any_alt(alts, from, k) && self.seq(rest, k, to))
                }
                '*' => self.repeat(alts, rest, from, to, true),
                '+' => self.repeat(alts, rest, from, to, false),
                _ => (from..=to).any(|k| !self.any_alt(alts, from, k) && self.seq(rest, k, to)),
            },
        }
    }

    fn any_alt(&self, alts: &[Vec<Node>], from: usize, to: usize) -> bool {
        alts.iter().any(|a| self.seq(a, from, to))
    }

    /// One or more (zero too with `zero`) repetitions of `alts` from
    /// `from`, then `rest` to `to`.
    fn repeat(
        &self,
        alts: &[Vec<Node>],
        rest: &[Node],
        from: usize,
        to: usize,
        zero: bool,
    ) -> bool {
        // zero repetitions, or one that matches nothing (`+(*(0))` matches
        // the empty string, as in bash)
        if (zero || self.any_alt(alts, from, from)) && self.seq(rest, from, to) {
            return true;
        }
        // keyed by the alternatives and the rest (`rest` is a suffix of the
        // nodes `alts` belongs to, so its address and length tell it apart)
        let key = (
            alts.as_ptr() as usize,
            rest.as_ptr() as usize,
            rest.len() * 2 + usize::from(zero),
            from,
            to,
        );
        self.memoised(key, || {
            (from + 1..=to)
                .any(|k| self.any_alt(alts, from, k) && self.repeat(alts, rest, k, to, true))
        })
    }
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Matches the bracket expression `p` (from `[` to `]`) against `c`.
fn bracket(p: &[char], c: char, nocase: bool) -> bool {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let end = p.len() - 1;
    let mut matched = false;
    let mut first = true;
    let cands: Vec<char> = if nocase {
        let mut v = vec![c];
        v.extend(c.to_lowercase());
        v.extend(c.to_uppercase());
        v
    } else {
        vec![c]
    };
    while i < end {
        let ch = p[i];
        if ch == ']' && !first {
            break;
        }
        first = false;
        if ch == '[' && p.get(i + 1) == Some(&':') {
            let rest: String = p[i + 2..].iter().collect();
            if let Some(e) = rest.find(":]") {
                let class = &rest[..e];
                if cands.iter().any(|&x| class_match(class, x)) {
                    matched = true;
                }
                i += 2 + rest[..e].chars().count() + 2;
                continue;
            }
        }
        let (lo, next) = if ch == '\\' && i + 1 < end {
            (p[i + 1], i + 2)
        } else {
            (ch, i + 1)
        };
        if p.get(next) == Some(&'-') && next + 1 < end {
            let hi_i = next + 1;
            let (hi, after) = if p[hi_i] == '\\' && hi_i + 1 < end {
                (p[hi_i + 1], hi_i + 2)
            } else {
                (p[hi_i], hi_i + 1)
            };
            if cands.iter().any(|&x| lo <= x && x <= hi) {
                matched = true;
            }
            i = after;
        } else {
            if cands.contains(&lo) {
                matched = true;
            }
            i = next;
        }
    }
    matched != negate
}

fn class_match(class: &str, c: char) -> bool {
    match class {
        "alpha" => c.is_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_alphanumeric(),
        "upper" => c.is_uppercase(),
        "lower" => c.is_lowercase(),
        "space" => c.is_whitespace(),
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_control(),
        "print" => !c.is_control(),
        "graph" => !c.is_control() && c != ' ',
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txt.bak"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("[[:digit:]]*", "9lives"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(matches("[]]", "]"));
        assert!(matches("[", "["));
    }

    #[test]
    fn extglob() {
        assert!(matches("@(ab|c)", "ab"));
        assert!(!matches("@(ab|c)", "abc"));
        assert!(matches("+([0-9])", "123"));
        assert!(!matches("+([0-9])", ""));
        assert!(matches("*([0-9])", ""));
        assert!(matches("?(x)y", "y"));
        assert!(matches("?(x)y", "xy"));
        assert!(matches("!(*.txt)", "a.c"));
        assert!(!matches("!(*.txt)", "a.txt"));
        assert!(matches("a!(b)c", "axc"));
        assert!(matches("*.@(jpg|png)", "x.png"));
        assert!(matches("@(a|b\\|c)", "b|c"));
    }

    #[test]
    fn nocase() {
        let o = MatchOpts {
            extglob: true,
            nocase: true,
        };
        assert!(matches_with("ABC", "abc", o));
        assert!(matches_with("[a-c]", "B", o));
        assert!(!matches("ABC", "abc"));
    }
}
