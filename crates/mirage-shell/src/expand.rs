//! Word expansion in bash's order: brace, tilde, parameter, command
//! substitution and arithmetic, then field splitting on `$IFS`, then
//! pathname expansion against the VFS, then quote removal.

use std::collections::BTreeMap;

use crate::ast::*;
use crate::exec::{Flow, Interp, Io};
use crate::pattern;
use crate::state::{ShellState, Value, Var};

/// A piece of an expanded word before field splitting.
#[derive(Debug, Clone)]
enum Piece {
    /// Text; `quoted` text is neither split nor globbed; `split` text came
    /// from an unquoted expansion and is split on `$IFS`.
    Text {
        s: String,
        quoted: bool,
        split: bool,
    },
    /// A forced field boundary (between the words of `"$@"`).
    Break,
}

#[derive(Default)]
struct Field {
    text: String,
    pat: String,
    glob: bool,
    /// Holds something real (quoted text or non-empty text): kept even if empty.
    keep: bool,
}

/// The value of `name`, which may carry a subscript (`a[2]`, `m[key]`).
pub fn lookup_subscripted(st: &ShellState, name: &str) -> Option<String> {
    if let Some((n, rest)) = name.split_once('[') {
        let key = rest.strip_suffix(']').unwrap_or(rest);
        let var = st.vars.get(st.resolve(n).as_ref())?;
        return element(st, &var.value, key);
    }
    st.get(name)
}

/// The value of the subscript `key` when it needs no evaluation that could
/// change the state: a decimal (`a[3]`, `a[-1]`, `a[$i]` once expanded) or
/// the name of a variable holding one (`a[i]`).
fn plain_index(st: &ShellState, key: &str) -> Option<i64> {
    fn decimal(t: &str) -> Option<i64> {
        let t = t.trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        if digits.is_empty()
            || (digits.len() > 1 && digits.starts_with('0'))
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        t.parse().ok()
    }
    if let Some(n) = decimal(key) {
        return Some(n);
    }
    let name = key.trim();
    if name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        let v = st.vars.get(name)?;
        if v.nameref || v.no_value {
            return None;
        }
        if let Value::Scalar(s) = &v.value {
            return decimal(s);
        }
    }
    None
}

/// The subscript `idx` of `name` ready to read: an indexed array's (or an
/// unset or scalar name's) arithmetic subscript is evaluated in the shell
/// itself, as bash does, so `${a[i++]}` moves `i`; an associative array's
/// key, `@`, `*` and plain numbers stay as they are. An arithmetic error
/// is printed and ends the shell with status 1 (bash 5.2).
async fn settle_index(
    st: &mut ShellState,
    io: &Io,
    name: &str,
    idx: Option<String>,
) -> Result<Option<String>, Flow> {
    let Some(k) = idx else {
        return Ok(None);
    };
    let assoc = st
        .vars
        .get(st.resolve(name).as_ref())
        .is_some_and(|v| matches!(v.value, Value::Assoc(_)));
    if k == "@" || k == "*" || assoc || plain_index(st, &k).is_some() {
        return Ok(Some(k));
    }
    match crate::arith::eval(&k, st) {
        Ok(i) => Ok(Some(i.to_string())),
        Err(e) => {
            io.err(&format!("{}{}\n", st.diag(), e.report(&k))).await;
            Err(Flow::Exit(1))
        }
    }
}

/// The arithmetic value of the subscript `key` read in `st`: without a
/// copy of the state when [`plain_index`] knows it (the common case), else
/// evaluated in a copy (a read does not keep the subscript's side effects).
fn read_index(st: &ShellState, key: &str) -> i64 {
    plain_index(st, key).unwrap_or_else(|| {
        let mut tmp = st.clone();
        crate::arith::eval(key, &mut tmp).unwrap_or(0)
    })
}

fn element(st: &ShellState, v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Assoc(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, x)| x.clone()),
        Value::Indexed(m) => {
            let mut i = read_index(st, key);
            if i < 0 {
                i += m.keys().next_back().map(|k| k + 1).unwrap_or(0);
            }
            m.get(&i).cloned()
        }
        Value::Scalar(s) => {
            if read_index(st, key) == 0 {
                Some(s.clone())
            } else {
                None
            }
        }
    }
}

/// Assigns to `name`, which may carry a subscript.
pub fn assign_subscripted(st: &mut ShellState, name: &str, value: String) {
    if let Some((n, rest)) = name.split_once('[') {
        let key = rest.strip_suffix(']').unwrap_or(rest).to_string();
        set_element(st, n, &key, value, false);
        return;
    }
    st.set(name, value);
}

/// Sets element `key` of array `name` (creating an indexed array).
pub fn set_element(st: &mut ShellState, name: &str, key: &str, value: String, append: bool) {
    if crate::bashargv::is_argv(name) {
        return;
    }
    let is_assoc = st
        .vars
        .get(name)
        .is_some_and(|v| matches!(v.value, Value::Assoc(_)));
    // the subscript is evaluated in the shell itself: `a[i++]=x` moves `i`
    let idx = if is_assoc {
        0
    } else {
        plain_index(st, key).unwrap_or_else(|| crate::arith::eval(key, st).unwrap_or(0))
    };
    let var = st.vars.entry(name.to_string()).or_insert_with(|| {
        let mut v = Var::scalar("");
        v.value = Value::Indexed(BTreeMap::new());
        v
    });
    match &mut var.value {
        Value::Assoc(pairs) => match pairs.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => {
                if append {
                    v.push_str(&value);
                } else {
                    *v = value;
                }
            }
            None => pairs.push((key.to_string(), value)),
        },
        Value::Indexed(m) => {
            let idx = if idx < 0 {
                idx + m.keys().next_back().map(|k| k + 1).unwrap_or(0)
            } else {
                idx
            };
            let e = m.entry(idx).or_default();
            if append {
                e.push_str(&value);
            } else {
                *e = value;
            }
        }
        Value::Scalar(s) => {
            let mut m = BTreeMap::new();
            if !var.no_value {
                m.insert(0, std::mem::take(s));
            }
            m.insert(idx, value);
            var.value = Value::Indexed(m);
        }
    }
}

/// Brace expansion of one literal text (`a{b,c}d`, `{1..5}`, `{a..e..2}`).
/// Past the default [`Limits`](crate::state::Limits) it returns the text unexpanded.
pub fn brace_expand(s: &str) -> Vec<String> {
    brace_expand_limited(s, &crate::state::Limits::default())
        .unwrap_or_else(|_| vec![s.to_string()])
}

/// The error of a brace expansion that would make more than
/// `limits.max_brace_words` words, or nest deeper than the stack allows.
fn brace_limit_error(limits: &crate::state::Limits) -> String {
    format!(
        "brace expansion: more than {} words",
        limits.max_brace_words
    )
}

/// As [`brace_expand`], but an expansion past `limits.max_brace_words` words
/// (or too deep for the stack) is an error, checked before the words are made.
pub fn brace_expand_limited(s: &str, limits: &crate::state::Limits) -> Result<Vec<String>, String> {
    if limits.stack_low() {
        return Err("brace expansion: nested too deep".into());
    }
    let chars: Vec<char> = s.chars().collect();
    // find the first top-level {…} with a comma or ..
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' && (i == 0 || chars[i - 1] != '$') {
            let mut depth = 0;
            let mut j = i;
            let mut commas = Vec::new();
            while j < chars.len() {
                match chars[j] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => commas.push(j),
                    _ => {}
                }
                j += 1;
            }
            if j >= chars.len() {
                return Ok(vec![s.to_string()]);
            }
            let pre: String = chars[..i].iter().collect();
            let post: String = chars[j + 1..].iter().collect();
            let inner: String = chars[i + 1..j].iter().collect();
            let alts: Vec<String> = if !commas.is_empty() {
                let mut v = Vec::new();
                let mut st = i + 1;
                for c in commas.iter().chain(std::iter::once(&j)) {
                    v.push(chars[st..*c].iter().collect());
                    st = c + 1;
                }
                v
            } else if let Some(seq) = sequence(&inner, limits.max_brace_words) {
                seq?
            } else {
                i += 1;
                continue;
            };
            let posts = brace_expand_limited(&post, limits)?;
            let mut out = Vec::new();
            for a in alts {
                let a2s = brace_expand_limited(&a, limits)?;
                if out
                    .len()
                    .saturating_add(a2s.len().saturating_mul(posts.len()))
                    > limits.max_brace_words
                {
                    return Err(brace_limit_error(limits));
                }
                for a2 in a2s {
                    for p in &posts {
                        out.push(format!("{pre}{a2}{p}"));
                    }
                }
            }
            return Ok(out);
        }
        i += 1;
    }
    Ok(vec![s.to_string()])
}

/// `{A..B[..STEP]}`: `None` when `inner` is not a sequence, `Some(Err)` when
/// it has more than `max` terms.
fn sequence(inner: &str, max: usize) -> Option<Result<Vec<String>, String>> {
    let too_many = || Some(Err(format!("brace expansion: more than {max} words")));
    let parts: Vec<&str> = inner.split("..").collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let step: i64 = match parts.get(2) {
        Some(s) => s.parse().ok()?,
        None => 1,
    };
    let step = if step == 0 {
        1
    } else {
        step.checked_abs().unwrap_or(i64::MAX)
    };
    if let (Ok(a), Ok(b)) = (parts[0].parse::<i64>(), parts[1].parse::<i64>()) {
        let width = if (parts[0].starts_with('0') && parts[0].len() > 1)
            || (parts[1].starts_with('0') && parts[1].len() > 1)
        {
            parts[0].len().max(parts[1].len())
        } else {
            0
        };
        if (a.abs_diff(b) / step.unsigned_abs()).saturating_add(1) > max as u64 {
            return too_many();
        }
        let mut v = Vec::new();
        let mut x = a;
        loop {
            v.push(if width > 0 {
                format!("{x:0width$}")
            } else {
                x.to_string()
            });
            let next = if a <= b {
                x.checked_add(step).filter(|n| *n <= b)
            } else {
                x.checked_sub(step).filter(|n| *n >= b)
            };
            match next {
                Some(n) => x = n,
                None => break,
            }
        }
        return Some(Ok(v));
    }
    let (a, b) = (parts[0], parts[1]);
    if a.chars().count() == 1 && b.chars().count() == 1 {
        let (a, b) = (a.chars().next()? as i64, b.chars().next()? as i64);
        let mut v = Vec::new();
        let mut x = a;
        loop {
            v.push(char::from_u32(x as u32)?.to_string());
            if v.len() > max {
                return too_many();
            }
            if a <= b {
                x += step;
                if x > b {
                    break;
                }
            } else {
                x -= step;
                if x < b {
                    break;
                }
            }
        }
        return Some(Ok(v));
    }
    None
}

/// Whether brace expansion could apply to `w` (a literal part holds `{`
/// and `}`).
fn has_brace(w: &Word) -> bool {
    w.parts
        .iter()
        .any(|p| matches!(p, WordPart::Lit(s) if s.contains('{') && s.contains('}')))
}

/// The value of `$name` when it is a plain expansion of a set scalar
/// variable (no operator, subscript, indirection or name reference), the
/// case [`simple_parts`] takes without the general path.
fn plain_scalar<'a>(pe: &ParamExp, st: &'a ShellState) -> Option<&'a str> {
    if !matches!(pe.op, ParamOp::Plain) || pe.indirect || pe.index.is_some() {
        return None;
    }
    if !pe
        .name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
    {
        return None;
    }
    let v = st.vars.get(&pe.name)?;
    if v.nameref || v.no_value {
        return None;
    }
    match &v.value {
        Value::Scalar(s) => Some(s),
        _ => None,
    }
}

/// Whether quoted `parts` are only `$@`/`${name[@]}` expansions (any
/// operator), which give no word at all when they expand to nothing, as
/// in bash (`"$@"` with no arguments, `"${a[@]}"` of an empty array),
/// where any other empty `"…"` gives one empty word.
fn all_at_expansions(parts: &[WordPart]) -> bool {
    !parts.is_empty()
        && parts.iter().all(|p| match p {
            WordPart::Param(pe) => {
                pe.name == "@"
                    || pe.index.as_ref().and_then(Word::as_static).as_deref() == Some("@")
            }
            _ => false,
        })
}

/// Whether `parts` expand with no I/O and no rare case: literals (no
/// leading `~` to expand), quoted text, `"…"` of such parts, `$name` of a
/// set scalar ([`plain_scalar`]) and `$((…))` over literals and such
/// names. [`pieces_now`] expands them exactly as [`Interp::pieces`] does.
fn simple_parts(parts: &[WordPart], st: &ShellState, tilde: bool, in_double: bool) -> bool {
    parts.iter().enumerate().all(|(i, p)| match p {
        WordPart::Lit(s) => !(i == 0 && tilde && !in_double && s.starts_with('~')),
        WordPart::Quoted(_) => true,
        WordPart::Double(inner) => simple_parts(inner, st, false, true),
        WordPart::Param(pe) => plain_scalar(pe, st).is_some(),
        WordPart::Arith(w) => simple_arith(&w.parts, st),
        _ => false,
    })
}

/// Whether the parts of a `$((…))` (which the lexer wraps in one `"…"`)
/// are literals and `$name`s of set scalars only.
fn simple_arith(parts: &[WordPart], st: &ShellState) -> bool {
    parts.iter().all(|p| match p {
        WordPart::Lit(_) | WordPart::Quoted(_) => true,
        WordPart::Double(inner) => simple_arith(inner, st),
        WordPart::Param(pe) => plain_scalar(pe, st).is_some(),
        _ => false,
    })
}

/// The text of an arithmetic word that is one literal (`i < 10` of
/// `for ((…))`, `s+i` of `$((s+i))`: the lexer wraps it in one `"…"`),
/// which needs no expansion and no copy.
pub(crate) fn arith_literal(parts: &[WordPart]) -> Option<&str> {
    match parts {
        [WordPart::Lit(t) | WordPart::Quoted(t)] => Some(t),
        [WordPart::Double(inner)] => match inner.as_slice() {
            [WordPart::Lit(t) | WordPart::Quoted(t)] => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// Appends the text of `$((…))` parts that [`simple_arith`] accepted.
fn arith_text(parts: &[WordPart], st: &ShellState, text: &mut String) {
    for q in parts {
        match q {
            WordPart::Lit(t) | WordPart::Quoted(t) => text.push_str(t),
            WordPart::Double(inner) => arith_text(inner, st, text),
            WordPart::Param(pe) => text.push_str(plain_scalar(pe, st).unwrap_or_default()),
            _ => {}
        }
    }
}

/// Whether [`expand_single_now`] expands `w` (in `st` as it is now).
pub(crate) fn simple_word(w: &Word, st: &ShellState) -> bool {
    matches!(w.parts.as_slice(), [WordPart::Lit(_) | WordPart::Quoted(_)])
        || simple_parts(&w.parts, st, false, false)
}

/// [`Interp::expand_single`] without a future, for words [`simple_parts`]
/// accepts: `None` when the word needs the general path, else the value or
/// an arithmetic error's message (without the `bash: line N: ` prefix).
pub(crate) fn expand_single_now(w: &Word, st: &mut ShellState) -> Option<Result<String, String>> {
    if let [WordPart::Lit(t) | WordPart::Quoted(t)] = w.parts.as_slice() {
        return Some(Ok(t.clone()));
    }
    if !simple_parts(&w.parts, st, false, false) {
        return None;
    }
    let mut pieces = Vec::with_capacity(w.parts.len());
    if let Err(msg) = pieces_now(&w.parts, false, st, &mut pieces) {
        return Some(Err(msg));
    }
    // one piece (the common `$((…))` or `$x`) is the value as it is
    if pieces.len() == 1
        && let Some(Piece::Text { s, .. }) = pieces.pop()
    {
        return Some(Ok(s));
    }
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text { s: t, .. } => s.push_str(&t),
            Piece::Break => s.push(' '),
        }
    }
    Some(Ok(s))
}

/// Expands parts that [`simple_parts`] accepted into `out`; an arithmetic
/// error gives its message (without the `bash: line N: ` prefix).
fn pieces_now(
    parts: &[WordPart],
    in_double: bool,
    st: &mut ShellState,
    out: &mut Vec<Piece>,
) -> Result<(), String> {
    for p in parts {
        match p {
            WordPart::Lit(s) => out.push(Piece::Text {
                s: s.clone(),
                quoted: in_double,
                split: false,
            }),
            WordPart::Quoted(s) => out.push(Piece::Text {
                s: s.clone(),
                quoted: true,
                split: false,
            }),
            WordPart::Double(inner) => {
                let before = out.len();
                pieces_now(inner, true, st, out)?;
                if out.len() == before {
                    out.push(Piece::Text {
                        s: String::new(),
                        quoted: true,
                        split: false,
                    });
                }
            }
            WordPart::Param(pe) => {
                let s = plain_scalar(pe, st).unwrap_or_default().to_string();
                out.push(Piece::Text {
                    s,
                    quoted: in_double,
                    split: !in_double,
                });
            }
            WordPart::Arith(w) => {
                let mut owned = String::new();
                let text = match arith_literal(&w.parts) {
                    Some(t) => t,
                    None => {
                        arith_text(&w.parts, st, &mut owned);
                        &owned
                    }
                };
                match crate::arith::eval(text, st) {
                    Ok(v) => out.push(Piece::Text {
                        s: v.to_string(),
                        quoted: in_double,
                        split: !in_double,
                    }),
                    Err(e) => return Err(e.report(text)),
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn brace_words(w: &Word, limits: &crate::state::Limits) -> Result<Vec<Word>, String> {
    let idx = w
        .parts
        .iter()
        .position(|p| matches!(p, WordPart::Lit(s) if s.contains('{') && s.contains('}')));
    let Some(idx) = idx else {
        return Ok(vec![w.clone()]);
    };
    let WordPart::Lit(s) = &w.parts[idx] else {
        return Ok(vec![w.clone()]);
    };
    let alts = brace_expand_limited(s, limits)?;
    if alts.len() == 1 && alts[0] == *s {
        return Ok(vec![w.clone()]);
    }
    let mut out = Vec::new();
    for a in alts {
        let mut parts = w.parts[..idx].to_vec();
        parts.push(WordPart::Lit(a));
        parts.extend_from_slice(&w.parts[idx + 1..]);
        out.extend(brace_words(&Word { parts, src: None }, limits)?);
        if out.len() > limits.max_brace_words {
            return Err(brace_limit_error(limits));
        }
    }
    Ok(out)
}

impl Interp {
    /// Expands words into fields (brace, parameter, substitution, split, glob).
    pub async fn expand_words(
        &self,
        words: &[Word],
        st: &mut ShellState,
        io: &Io,
    ) -> Result<Vec<String>, Flow> {
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            out.extend(self.expand_word(w, st, io).await?);
        }
        Ok(out)
    }

    /// Expands one word into zero or more fields.
    pub async fn expand_word(
        &self,
        w: &Word,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<Vec<String>, Flow> {
        // fast path: a plain literal without specials
        if let [WordPart::Lit(s)] = w.parts.as_slice()
            && !s.contains(['*', '?', '[', '{', '~', '('])
        {
            return Ok(vec![s.clone()]);
        }
        let mut out = Vec::new();
        let braced;
        let words: &[Word] = if has_brace(w) {
            braced = match brace_words(w, &st.limits) {
                Ok(ws) => ws,
                Err(e) => {
                    io.err(&format!("{}{e}\n", st.diag())).await;
                    return Err(Flow::Abort(1));
                }
            };
            &braced
        } else {
            std::slice::from_ref(w)
        };
        for bw in words {
            let pieces = self.pieces_any(&bw.parts, false, st, io, true).await?;
            let fields = split_fields(pieces, &st.ifs());
            for f in fields {
                if f.glob && !st.options.noglob {
                    let found = crate::glob::expand(self.vfs.as_ref(), st, &f.pat, &f.text, io);
                    if let Some(matches) = found.await? {
                        out.extend(matches);
                        continue;
                    }
                }
                out.push(f.text);
            }
        }
        Ok(out)
    }

    /// Expands a word to one string, without splitting or globbing
    /// (assignment values, `case` subjects, here-documents).
    pub async fn expand_single(
        &self,
        w: &Word,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<String, Flow> {
        if let [WordPart::Lit(t) | WordPart::Quoted(t)] = w.parts.as_slice() {
            return Ok(t.clone());
        }
        let pieces = self.pieces_any(&w.parts, false, st, io, false).await?;
        let mut s = String::new();
        for p in pieces {
            match p {
                Piece::Text { s: t, .. } => s.push_str(&t),
                Piece::Break => s.push(' '),
            }
        }
        Ok(s)
    }

    /// As [`Interp::expand_single`], with tilde expansion after `=` and `:`.
    pub async fn expand_single_assign(
        &self,
        w: &Word,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<String, Flow> {
        self.expand_single(w, st, io).await
    }

    /// Expands a word into a glob pattern (quoted parts escaped).
    pub async fn expand_pattern(
        &self,
        w: &Word,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<String, Flow> {
        let pieces = self.pieces(&w.parts, false, st, io, false).await?;
        let mut s = String::new();
        for p in pieces {
            if let Piece::Text { s: t, quoted, .. } = p {
                if quoted {
                    s.push_str(&pattern::escape(&t));
                } else {
                    s.push_str(&t);
                }
            }
        }
        Ok(s)
    }

    /// [`Interp::pieces`], without an allocated future for words whose
    /// parts need no I/O ([`simple_parts`]).
    async fn pieces_any(
        &self,
        parts: &[WordPart],
        in_double: bool,
        st: &mut ShellState,
        io: &Io,
        tilde: bool,
    ) -> Result<Vec<Piece>, Flow> {
        if simple_parts(parts, st, tilde, in_double) {
            let mut out = Vec::with_capacity(parts.len());
            return match pieces_now(parts, in_double, st, &mut out) {
                Ok(()) => Ok(out),
                Err(msg) => {
                    // as the arithmetic arm of `pieces` reports it
                    io.err(&format!("{}{msg}\n", st.diag())).await;
                    Err(Flow::Abort(1))
                }
            };
        }
        self.pieces(parts, in_double, st, io, tilde).await
    }

    fn pieces<'a>(
        &'a self,
        parts: &'a [WordPart],
        in_double: bool,
        st: &'a mut ShellState,
        io: &'a Io,
        tilde: bool,
    ) -> futures::future::BoxFuture<'a, Result<Vec<Piece>, Flow>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                match p {
                    WordPart::Lit(s) => {
                        let mut s = s.clone();
                        if i == 0 && tilde && !in_double && s.starts_with('~') {
                            let end = s.find('/').unwrap_or(s.len());
                            if end == 1 {
                                let home = st.get("HOME").unwrap_or_else(|| "/".into());
                                out.push(Piece::Text {
                                    s: home,
                                    quoted: true,
                                    split: false,
                                });
                                s = s[1..].to_string();
                            }
                        }
                        out.push(Piece::Text {
                            s,
                            quoted: in_double,
                            split: false,
                        });
                    }
                    WordPart::Quoted(s) => out.push(Piece::Text {
                        s: s.clone(),
                        quoted: true,
                        split: false,
                    }),
                    WordPart::Double(inner) => {
                        let v = self.pieces(inner, true, st, io, false).await?;
                        if v.is_empty() && !all_at_expansions(inner) {
                            out.push(Piece::Text {
                                s: String::new(),
                                quoted: true,
                                split: false,
                            });
                        }
                        out.extend(v);
                    }
                    WordPart::CmdSub(script) => {
                        let s = self.command_subst(script, st, io).await?;
                        out.push(Piece::Text {
                            s,
                            quoted: in_double,
                            split: !in_double,
                        });
                    }
                    WordPart::Arith(w) => {
                        let text = self.expand_single(w, st, io).await?;
                        match crate::arith::eval(&text, st) {
                            Ok(v) => out.push(Piece::Text {
                                s: v.to_string(),
                                quoted: in_double,
                                split: !in_double,
                            }),
                            Err(e) => {
                                // bash discards the rest of the line (not the shell)
                                io.err(&format!("{}{}\n", st.diag(), e.report(&text))).await;
                                return Err(Flow::Abort(1));
                            }
                        }
                    }
                    WordPart::OutProcSub(script) => {
                        out.push(Piece::Text {
                            s: crate::procsub::out_path(st, script),
                            quoted: true,
                            split: false,
                        });
                    }
                    WordPart::ProcSub(script) => {
                        let (sink, buf) = mirage_types::Sink::capture();
                        let sub_io = Io {
                            stdin: io.stdin.clone(),
                            stdout: sink,
                            stderr: io.stderr.clone(),
                        };
                        let mut sub = st.clone();
                        let _ = self.run_script(script, &mut sub, &sub_io).await;
                        drop(sub_io);
                        let data = match buf.lock() {
                            Ok(mut g) => std::mem::take(&mut *g),
                            Err(e) => std::mem::take(&mut *e.into_inner()),
                        };
                        let path = crate::procsub::next_path(st);
                        st.procsubs.insert(path.clone(), bytes::Bytes::from(data));
                        out.push(Piece::Text {
                            s: path,
                            quoted: true,
                            split: false,
                        });
                    }
                    WordPart::Param(pe) => {
                        let v = self.param(pe, in_double, st, io).await?;
                        out.extend(v);
                    }
                }
            }
            Ok(out)
        })
    }

    async fn command_subst(
        &self,
        script: &Script,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<String, Flow> {
        // `$(< file)` reads the file
        if let [Cmd::Simple(s)] = script.items.as_slice()
            && s.words.is_empty()
            && s.assigns.is_empty()
            && s.redirs.len() == 1
            && s.redirs[0].op == RedirOp::In
        {
            let target = self.expand_single(&s.redirs[0].target, st, io).await?;
            let path = mirage_types::join_path(&st.cwd, &target);
            let max = st.limits.max_subst_bytes;
            if self
                .vfs
                .stat(&path)
                .await
                .is_ok_and(|m| m.size > max as u64)
            {
                io.err(&format!(
                    "{}command substitution: output exceeds the limit of {max} bytes\n",
                    st.diag()
                ))
                .await;
                return Err(Flow::Abort(1));
            }
            let data = match self.vfs.read(&path).await {
                Ok(src) => src.collect().await.unwrap_or_default(),
                Err(e) => {
                    io.err(&format!("{}{target}: {}\n", st.diag(), e.message()))
                        .await;
                    st.last_subst_status = Some(1);
                    return Ok(String::new());
                }
            };
            let mut s = mirage_types::bytestr::decode(&data).into_owned();
            while s.ends_with('\n') {
                s.pop();
            }
            st.last_subst_status = Some(0);
            return Ok(s);
        }
        // the output comes through a pipe and is kept up to the limit; past
        // it the pipe closes, so the writer stops as on SIGPIPE
        let max = st.limits.max_subst_bytes;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(16);
        let sub_io = Io {
            stdin: io.stdin.clone(),
            stdout: mirage_types::Sink::Pipe(tx),
            stderr: io.stderr.clone(),
        };
        let mut sub = st.clone();
        sub.lines_from_here();
        sub.trace.level += 1;
        sub.trace.subshell += 1;
        if !st.shopt.is("inherit_errexit") {
            sub.options.errexit = false;
        }
        let run = async {
            let status = self.run_script(script, &mut sub, &sub_io).await;
            drop(sub_io);
            status
        };
        let collect = async {
            let mut data: Vec<u8> = Vec::new();
            while let Some(chunk) = rx.recv().await {
                if data.len() + chunk.len() > max {
                    return None;
                }
                data.extend_from_slice(&chunk);
            }
            Some(data)
        };
        let (status, data) = futures::join!(run, collect);
        st.last_subst_status = Some(status);
        st.last_status = status;
        let Some(data) = data else {
            io.err(&format!(
                "{}command substitution: output exceeds the limit of {max} bytes\n",
                st.diag()
            ))
            .await;
            return Err(Flow::Abort(1));
        };
        let mut s = mirage_types::bytestr::decode(&data).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    }

    async fn param(
        &self,
        pe: &ParamExp,
        in_double: bool,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<Vec<Piece>, Flow> {
        let text = |s: String| Piece::Text {
            s,
            quoted: in_double,
            split: !in_double,
        };
        if let ParamOp::Bad(src) = &pe.op {
            io.err(&format!("{}{src}: bad substitution\n", st.diag()))
                .await;
            return Err(Flow::Abort(1));
        }
        // multi-valued: $@ $* ${a[@]} ${a[*]}
        let idx_text = match &pe.index {
            Some(w) => Some(self.expand_single(w, st, io).await?),
            None => None,
        };
        // `${!a[i++]}`: the subscript belongs to `a`, the name holder
        let idx_text = if pe.indirect {
            settle_index(st, io, &pe.name, idx_text).await?
        } else {
            idx_text
        };
        let (name, idx_text) = match crate::special::param_target(st, pe, idx_text) {
            crate::special::Target::Name(n, i) => (n, i),
            crate::special::Target::Value(v) => return Ok(vec![text(v)]),
            crate::special::Target::Words(w, star) => {
                return Ok(list_pieces(w, star, in_double, st));
            }
        };
        crate::bashargv::on_lookup(st, &name);
        let idx_text = settle_index(st, io, &name, idx_text).await?;
        let multi = name == "@" || name == "*" || matches!(idx_text.as_deref(), Some("@" | "*"));
        if let ParamOp::Transform(c @ ('a' | 'A')) = pe.op
            && (name.starts_with('_') || name.starts_with(|c: char| c.is_ascii_alphabetic()))
            && let Some(s) = crate::transform::attributes(c, &name, st, idx_text.as_deref(), multi)
        {
            return Ok(list_pieces(s, false, in_double, st));
        }
        if multi
            && matches!(
                pe.op,
                ParamOp::Plain
                    | ParamOp::Length
                    | ParamOp::Keys
                    | ParamOp::Substr(..)
                    | ParamOp::Replace(..)
                    | ParamOp::TrimPrefix(..)
                    | ParamOp::TrimSuffix(..)
                    | ParamOp::Upper(_)
                    | ParamOp::Lower(_)
                    | ParamOp::Transform(_)
                    | ParamOp::Default(..)
                    | ParamOp::Alt(..)
            )
        {
            let star = name == "*" || idx_text.as_deref() == Some("*");
            if let ParamOp::Transform(c @ ('K' | 'k')) = pe.op
                && let Some(kv) = st
                    .vars
                    .get(&name)
                    .and_then(|v| crate::transform::key_values(c, &v.value))
            {
                return Ok(list_pieces(kv, star, in_double, st));
            }
            let mut values: Vec<String> = if name == "@" || name == "*" {
                st.positional.clone()
            } else if matches!(pe.op, ParamOp::Keys) {
                st.vars
                    .get(&name)
                    .filter(|v| !v.no_value)
                    .map(|v| v.value.keys())
                    .unwrap_or_default()
            } else {
                st.vars
                    .get(&name)
                    .filter(|v| !v.no_value)
                    .map(|v| v.value.elements())
                    .unwrap_or_default()
            };
            match &pe.op {
                ParamOp::Length => return Ok(vec![text(values.len().to_string())]),
                ParamOp::Substr(off, len) => {
                    let o = self.arith_value(off, st, io).await?;
                    let total = values.len() as i64;
                    let (start, o) = if name == "@" || name == "*" {
                        // $@ offsets count from $1 = 1 (0 is $0)
                        if o == 0 {
                            values.insert(0, st.arg0.clone());
                            (0, 0)
                        } else if o < 0 {
                            (o, o)
                        } else {
                            (o - 1, o)
                        }
                    } else {
                        (o, o)
                    };
                    let _ = o;
                    let total2 = values.len() as i64;
                    let start = if start < 0 {
                        (total + start).max(0)
                    } else {
                        start.min(total2)
                    };
                    let end = match len {
                        Some(l) => {
                            let l = self.arith_value(l, st, io).await?;
                            (start + l).min(total2)
                        }
                        None => total2,
                    };
                    values = values[start as usize..end.max(start) as usize].to_vec();
                }
                ParamOp::Default(_, w) if values.is_empty() => {
                    return self.pieces(&w.parts, in_double, st, io, false).await;
                }
                ParamOp::Alt(_, w) if !values.is_empty() => {
                    return self.pieces(&w.parts, in_double, st, io, false).await;
                }
                ParamOp::Alt(..) => return Ok(vec![]),
                ParamOp::Plain | ParamOp::Keys | ParamOp::Default(..) => {}
                op => {
                    let mut nv = Vec::new();
                    for v in values {
                        nv.push(self.apply_op(op, v, st, io).await?);
                    }
                    values = nv;
                }
            }
            if in_double && star {
                let sep = st
                    .ifs()
                    .chars()
                    .next()
                    .map(|c| c.to_string())
                    .unwrap_or_default();
                return Ok(vec![Piece::Text {
                    s: values.join(&sep),
                    quoted: true,
                    split: false,
                }]);
            }
            let mut out = Vec::new();
            for (i, v) in values.into_iter().enumerate() {
                if i > 0 {
                    out.push(Piece::Break);
                }
                out.push(Piece::Text {
                    s: v,
                    quoted: in_double,
                    split: !in_double,
                });
            }
            return Ok(out);
        }
        let value: Option<String> = match name.as_str() {
            "?" => Some(st.last_status.to_string()),
            "#" => Some(st.positional.len().to_string()),
            "$" => Some("4242".into()),
            "!" => st.jobs.last_pid(),
            "-" => Some(crate::special::dash_flags(st)),
            "0" => Some(st.arg0.clone()),
            "LINENO" if !st.vars.contains_key("LINENO") => Some(st.lineno.to_string()),
            n if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
                let i: usize = n.parse().unwrap_or(0);
                st.positional.get(i.wrapping_sub(1)).cloned()
            }
            n => match &idx_text {
                Some(k) => st.vars.get(n).and_then(|v| element(st, &v.value, k)),
                None => st.get(n),
            },
        };
        let unset_or_empty = |colon: bool, v: &Option<String>| match v {
            None => true,
            Some(s) => colon && s.is_empty(),
        };
        let result = match &pe.op {
            ParamOp::Plain => {
                if value.is_none() && st.options.nounset && name != "@" && name != "*" {
                    io.err(&format!("{}{name}: unbound variable\n", st.diag()))
                        .await;
                    st.expansion_exit = true;
                    return Err(Flow::Exit(127));
                }
                value.unwrap_or_default()
            }
            ParamOp::Length => {
                if value.is_none() && st.options.nounset {
                    io.err(&format!("{}{name}: unbound variable\n", st.diag()))
                        .await;
                    st.expansion_exit = true;
                    return Err(Flow::Exit(127));
                }
                value.unwrap_or_default().chars().count().to_string()
            }
            ParamOp::Default(colon, w) => {
                if unset_or_empty(*colon, &value) {
                    return self.pieces(&w.parts, in_double, st, io, false).await;
                }
                value.unwrap_or_default()
            }
            ParamOp::Assign(colon, w) => {
                if unset_or_empty(*colon, &value) {
                    let v = self.expand_single(w, st, io).await?;
                    assign_subscripted(st, &name, v.clone());
                    v
                } else {
                    value.unwrap_or_default()
                }
            }
            ParamOp::Alt(colon, w) => {
                if unset_or_empty(*colon, &value) {
                    return Ok(vec![]);
                }
                return self.pieces(&w.parts, in_double, st, io, false).await;
            }
            ParamOp::Error(colon, w) => {
                if unset_or_empty(*colon, &value) {
                    let msg = self.expand_single(w, st, io).await?;
                    let msg = if msg.is_empty() {
                        "parameter null or not set".to_string()
                    } else {
                        msg
                    };
                    io.err(&format!("{}{name}: {msg}\n", st.diag())).await;
                    st.expansion_exit = true;
                    return Err(Flow::Exit(127));
                }
                value.unwrap_or_default()
            }
            ParamOp::Keys => String::new(),
            ParamOp::Transform(_) if value.is_none() => String::new(),
            op => {
                let v = value.unwrap_or_default();
                self.apply_op(op, v, st, io).await?
            }
        };
        Ok(vec![text(result)])
    }

    async fn arith_value(&self, w: &Word, st: &mut ShellState, io: &Io) -> Result<i64, Flow> {
        let t = self.expand_single(w, st, io).await?;
        match crate::arith::eval(&t, st) {
            Ok(v) => Ok(v),
            Err(e) => {
                io.err(&format!("{}{}\n", st.diag(), e.report(&t))).await;
                Err(Flow::Abort(1))
            }
        }
    }

    async fn apply_op(
        &self,
        op: &ParamOp,
        v: String,
        st: &mut ShellState,
        io: &Io,
    ) -> Result<String, Flow> {
        Ok(match op {
            ParamOp::TrimPrefix(longest, w) => {
                let pat = self.expand_pattern(w, st, io).await?;
                let idx: Vec<usize> = v
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain(std::iter::once(v.len()))
                    .collect();
                let mut res = v.clone();
                let order: Vec<usize> = if *longest {
                    idx.iter().rev().copied().collect()
                } else {
                    idx.clone()
                };
                for i in order {
                    if pattern::matches(&pat, &v[..i]) {
                        res = v[i..].to_string();
                        break;
                    }
                }
                res
            }
            ParamOp::TrimSuffix(longest, w) => {
                let pat = self.expand_pattern(w, st, io).await?;
                let idx: Vec<usize> = v
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain(std::iter::once(v.len()))
                    .collect();
                let mut res = v.clone();
                let order: Vec<usize> = if *longest {
                    idx.clone()
                } else {
                    idx.iter().rev().copied().collect()
                };
                for i in order {
                    if pattern::matches(&pat, &v[i..]) {
                        res = v[..i].to_string();
                        break;
                    }
                }
                res
            }
            ParamOp::Replace(mode, pw, rw) => {
                let pat = self.expand_pattern(pw, st, io).await?;
                let pat = pattern::fold_case_if(pat, st.shopt.is("nocasematch"));
                let rep = self.expand_single(rw, st, io).await?;
                replace(&v, &pat, &rep, *mode)
            }
            ParamOp::Substr(off, len) => {
                let chars: Vec<char> = v.chars().collect();
                let n = chars.len() as i64;
                let o = self.arith_value(off, st, io).await?;
                let start = if o < 0 { (n + o).max(0) } else { o.min(n) };
                let end = match len {
                    Some(l) => {
                        let l = self.arith_value(l, st, io).await?;
                        if l < 0 {
                            (n + l).max(start)
                        } else {
                            (start + l).min(n)
                        }
                    }
                    None => n,
                };
                chars[start as usize..end.max(start) as usize]
                    .iter()
                    .collect()
            }
            ParamOp::Upper(all) => convert_case(&v, *all, true),
            ParamOp::Lower(all) => convert_case(&v, *all, false),
            ParamOp::Transform('P') => {
                let text = crate::transform::prompt(&v, st);
                match crate::word::lex_heredoc(&text) {
                    Ok(w) => self.expand_single(&w, st, io).await?,
                    Err(_) => text,
                }
            }
            ParamOp::Transform(c) => match crate::transform::apply(*c, &v) {
                Ok(s) => s,
                Err(()) => {
                    io.err(&format!(
                        "mirage: ${{…@{c}}}: transformation not supported\n"
                    ))
                    .await;
                    return Err(Flow::Exit(1));
                }
            },
            _ => v,
        })
    }
}

/// `${v^^}`/`${v^}` (upper) and `${v,,}`/`${v,}`: all characters or the first.
fn convert_case(v: &str, all: bool, upper: bool) -> String {
    let conv = |s: &str| {
        if upper {
            s.to_uppercase()
        } else {
            s.to_lowercase()
        }
    };
    if all {
        return conv(v);
    }
    let mut c = v.chars();
    match c.next() {
        Some(f) => conv(&f.to_string()) + c.as_str(),
        None => String::new(),
    }
}

/// The number of characters every match of glob `pat` has, when that is
/// fixed (no `*`): each literal, `?` and `[…]` stands for one character.
fn fixed_match_len(pat: &str) -> Option<usize> {
    if pattern::has_extglob(pat) {
        return None;
    }
    let p: Vec<char> = pat.chars().collect();
    let mut n = 0;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => return None,
            '\\' => i += 2,
            '[' => {
                // a bracket expression ends at the first `]` after its first member
                let mut j = i + 1;
                if j < p.len() && (p[j] == '!' || p[j] == '^') {
                    j += 1;
                }
                if j < p.len() && p[j] == ']' {
                    j += 1;
                }
                while j < p.len() && p[j] != ']' {
                    if p[j] == '[' && j + 1 < p.len() && matches!(p[j + 1], ':' | '.' | '=') {
                        let close = p[j + 2..]
                            .windows(2)
                            .position(|w| w[0] == p[j + 1] && w[1] == ']');
                        j = close.map(|c| j + 2 + c + 2).unwrap_or(j + 1);
                        continue;
                    }
                    j += 1;
                }
                i = if j < p.len() { j + 1 } else { i + 1 };
            }
            _ => i += 1,
        }
        n += 1;
    }
    Some(n)
}

/// `${v/pat/rep}` and its `//`, `/#`, `/%` forms. A literal pattern is
/// found with a substring search and a glob without `*` tries one length
/// per position, so both are linear in `v`; a value with no match at all
/// costs one scan.
fn replace(v: &str, pat: &str, rep: &str, mode: ReplaceMode) -> String {
    if pat.is_empty() {
        return v.to_string();
    }
    if !pattern::has_glob(pat) {
        let lit = pattern::unescape(pat);
        return match mode {
            ReplaceMode::Prefix => match v.strip_prefix(lit.as_str()) {
                Some(rest) => format!("{rep}{rest}"),
                None => v.to_string(),
            },
            ReplaceMode::Suffix => match v.strip_suffix(lit.as_str()) {
                Some(rest) => format!("{rest}{rep}"),
                None => v.to_string(),
            },
            ReplaceMode::First => v.replacen(lit.as_str(), rep, 1),
            ReplaceMode::All => v.replace(lit.as_str(), rep),
        };
    }
    if matches!(mode, ReplaceMode::First | ReplaceMode::All)
        && !pattern::matches(&format!("*{pat}*"), v)
    {
        return v.to_string();
    }
    let idx: Vec<usize> = v
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(v.len()))
        .collect();
    if let Some(len) = fixed_match_len(pat) {
        let n = idx.len() - 1;
        return match mode {
            ReplaceMode::Prefix => match idx.get(len) {
                Some(&e) if pattern::matches(pat, &v[..e]) => format!("{rep}{}", &v[e..]),
                _ => v.to_string(),
            },
            ReplaceMode::Suffix => match n.checked_sub(len).map(|s| idx[s]) {
                Some(s) if pattern::matches(pat, &v[s..]) => format!("{}{rep}", &v[..s]),
                _ => v.to_string(),
            },
            ReplaceMode::First | ReplaceMode::All => {
                let mut out = String::new();
                let mut i = 0;
                while i < n {
                    if len > 0 && i + len <= n && pattern::matches(pat, &v[idx[i]..idx[i + len]]) {
                        out.push_str(rep);
                        i += len;
                        if mode == ReplaceMode::First {
                            out.push_str(&v[idx[i]..]);
                            return out;
                        }
                    } else {
                        out.push_str(&v[idx[i]..idx[i + 1]]);
                        i += 1;
                    }
                }
                out
            }
        };
    }
    match mode {
        ReplaceMode::Prefix => {
            for &e in idx.iter().rev() {
                if pattern::matches(pat, &v[..e]) {
                    return format!("{rep}{}", &v[e..]);
                }
            }
            v.to_string()
        }
        ReplaceMode::Suffix => {
            for &s in &idx {
                if pattern::matches(pat, &v[s..]) {
                    return format!("{}{rep}", &v[..s]);
                }
            }
            v.to_string()
        }
        ReplaceMode::First | ReplaceMode::All => {
            let mut out = String::new();
            let mut i = 0; // index into idx
            while i < idx.len() - 1 {
                let s = idx[i];
                let mut found = None;
                for &e in idx[i + 1..].iter().rev() {
                    if pattern::matches(pat, &v[s..e]) {
                        found = Some(e);
                        break;
                    }
                }
                match found {
                    Some(e) => {
                        out.push_str(rep);
                        if mode == ReplaceMode::First {
                            out.push_str(&v[e..]);
                            return out;
                        }
                        i = idx.binary_search(&e).unwrap_or(idx.len() - 1);
                    }
                    None => {
                        out.push_str(&v[s..idx[i + 1]]);
                        i += 1;
                    }
                }
            }
            out
        }
    }
}

fn split_fields(pieces: Vec<Piece>, ifs: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    let mut cur = Field::default();
    let mut have_cur = false;
    let ifs_ws: Vec<char> = ifs
        .chars()
        .filter(|c| matches!(c, ' ' | '\t' | '\n'))
        .collect();
    let ifs_other: Vec<char> = ifs
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n'))
        .collect();
    for p in pieces {
        match p {
            Piece::Break => {
                if have_cur {
                    fields.push(std::mem::take(&mut cur));
                }
                have_cur = false;
            }
            Piece::Text { s, quoted, split } => {
                if !split || ifs.is_empty() {
                    if quoted {
                        cur.pat.push_str(&pattern::escape(&s));
                        cur.keep = true;
                    } else {
                        if pattern::has_glob(&s) {
                            cur.glob = true;
                        }
                        cur.pat.push_str(&s);
                        if !s.is_empty() {
                            cur.keep = true;
                        }
                    }
                    cur.text.push_str(&s);
                    have_cur = true;
                    continue;
                }
                // split on IFS
                let mut chars = s.chars().peekable();
                while let Some(c) = chars.next() {
                    if ifs_ws.contains(&c) {
                        if have_cur && (cur.keep || !cur.text.is_empty()) {
                            fields.push(std::mem::take(&mut cur));
                            have_cur = false;
                        }
                        while chars.peek().is_some_and(|c| ifs_ws.contains(c)) {
                            chars.next();
                        }
                        if chars.peek().is_some_and(|c| ifs_other.contains(c)) {
                            let _ = chars.next();
                            if !have_cur {
                                // `a , b` with IFS=" ," gives two fields
                            }
                            while chars.peek().is_some_and(|c| ifs_ws.contains(c)) {
                                chars.next();
                            }
                        }
                    } else if ifs_other.contains(&c) {
                        cur.keep = true;
                        fields.push(std::mem::take(&mut cur));
                        have_cur = false;
                        while chars.peek().is_some_and(|c| ifs_ws.contains(c)) {
                            chars.next();
                        }
                    } else {
                        cur.text.push(c);
                        if matches!(c, '*' | '?' | '[') {
                            cur.glob = true;
                            cur.pat.push(c);
                        } else {
                            cur.pat.push_str(&pattern::escape(&c.to_string()));
                        }
                        cur.keep = true;
                        have_cur = true;
                    }
                }
            }
        }
    }
    if have_cur && (cur.keep || !cur.text.is_empty()) {
        fields.push(cur);
    }
    fields.retain(|f| f.keep || !f.text.is_empty());
    fields
}

/// The pieces of a list of words expanded as `"$@"` (separate fields) or,
/// `star` inside double quotes, as `"$*"` (one field joined by `$IFS`'s first
/// character): `${!prefix@}`, `${!prefix*}`.
fn list_pieces(values: Vec<String>, star: bool, in_double: bool, st: &ShellState) -> Vec<Piece> {
    if in_double && star {
        let sep: String = st
            .ifs()
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default();
        return vec![Piece::Text {
            s: values.join(&sep),
            quoted: true,
            split: false,
        }];
    }
    let mut out = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(Piece::Break);
        }
        out.push(Piece::Text {
            s: v,
            quoted: in_double,
            split: !in_double,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces() {
        assert_eq!(brace_expand("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(brace_expand("{1..3}"), vec!["1", "2", "3"]);
        assert_eq!(brace_expand("{3..1}"), vec!["3", "2", "1"]);
        assert_eq!(brace_expand("{01..03}"), vec!["01", "02", "03"]);
        assert_eq!(brace_expand("{a..c}"), vec!["a", "b", "c"]);
        assert_eq!(brace_expand("{1..10..3}"), vec!["1", "4", "7", "10"]);
        assert_eq!(
            brace_expand("x{a,b}{1,2}"),
            vec!["xa1", "xa2", "xb1", "xb2"]
        );
        assert_eq!(brace_expand("{a}"), vec!["{a}"]);
    }

    #[test]
    fn replace_modes() {
        assert_eq!(
            replace("hello world", "o", "0", ReplaceMode::All),
            "hell0 w0rld"
        );
        assert_eq!(replace("hello", "l*", "L", ReplaceMode::First), "heL");
        assert_eq!(replace("a.tar.gz", "*.", "", ReplaceMode::Prefix), "gz");
    }
}
