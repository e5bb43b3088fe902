//! What the parser needs from the session: `extglob` (bash lets
//! `?(…) *(…) +(…) @(…) !(…)` into words only when it is on) and, under
//! `expand_aliases`, the alias table.
//!
//! bash reads and parses one line at a time, so `shopt -s extglob` or
//! `alias ll='ls -l'` takes effect from the next line on. Mirage parses a
//! whole input at once; when a command changes these settings
//! ([`ParseSettings::epoch`] moves), [`refresh`] parses the rest of the input
//! again from the next line. The parser reads the settings from a
//! thread-local set by [`install`] right before each parse.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::parse::{Parsed, SyntaxError};
use crate::state::ShellState;

/// The parse-time settings of a session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseSettings {
    /// Changes (to a value no other session has) whenever `extglob`,
    /// `expand_aliases` or the alias table changes; 0 for the defaults.
    pub epoch: u64,
    /// `shopt extglob`.
    pub extglob: bool,
    /// `shopt expand_aliases`.
    pub expand_aliases: bool,
    /// The aliases, by name.
    pub aliases: Arc<BTreeMap<String, String>>,
}

static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

impl ParseSettings {
    /// Records a change: a fresh epoch.
    pub fn touch(&mut self) {
        self.epoch = NEXT_EPOCH.fetch_add(1, Ordering::Relaxed);
    }
    /// Defines or replaces alias `name`.
    pub fn define(&mut self, name: &str, value: &str) {
        Arc::make_mut(&mut self.aliases).insert(name.to_string(), value.to_string());
        self.touch();
    }
    /// Removes alias `name`; false if there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let had = Arc::make_mut(&mut self.aliases).remove(name).is_some();
        if had {
            self.touch();
        }
        had
    }
    /// Removes every alias.
    pub fn clear(&mut self) {
        if !self.aliases.is_empty() {
            Arc::make_mut(&mut self.aliases).clear();
            self.touch();
        }
    }
}

thread_local! {
    static CURRENT: RefCell<ParseSettings> = RefCell::new(ParseSettings::default());
    static IN_COND: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// While alive, the parser is inside `[[ … ]]`, where bash 5.2 reads
/// extglob groups whatever `extglob` says.
pub(crate) struct CondGuard;

impl CondGuard {
    /// Enters `[[ … ]]`.
    pub(crate) fn enter() -> CondGuard {
        IN_COND.with(|c| c.set(c.get() + 1));
        CondGuard
    }
}

impl Drop for CondGuard {
    fn drop(&mut self) {
        IN_COND.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Makes `s` the settings the parser uses on this thread.
pub fn install(s: &ParseSettings) {
    CURRENT.with(|c| {
        if c.borrow().epoch != s.epoch {
            *c.borrow_mut() = s.clone();
        }
    });
}

/// The epoch of the settings the parser uses on this thread.
pub fn current_epoch() -> u64 {
    CURRENT.with(|c| c.borrow().epoch)
}

/// Whether `extglob` is on for the parser.
pub fn extglob() -> bool {
    CURRENT.with(|c| c.borrow().extglob)
}

/// The value of alias `name` when aliases are expanded, if defined.
pub fn alias(name: &str) -> Option<String> {
    CURRENT.with(|c| {
        let c = c.borrow();
        if c.expand_aliases {
            c.aliases.get(name).cloned()
        } else {
            None
        }
    })
}

/// Whether aliases may expand (expand_aliases on and some defined).
pub fn aliasing() -> bool {
    CURRENT.with(|c| {
        let c = c.borrow();
        c.expand_aliases && !c.aliases.is_empty()
    })
}

/// Whether the `(` at `i` of a word that starts at `start` opens an
/// extglob group (`?(`, `*(`, `+(`, `@(`, `!(` with `extglob` on).
pub(crate) fn opens_group(c: &[char], start: usize, i: usize) -> bool {
    i > start
        && matches!(c[i - 1], '?' | '*' | '+' | '@' | '!')
        && !(i >= start + 2 && c[i - 2] == '\\')
        && (extglob() || IN_COND.with(std::cell::Cell::get) > 0)
}

/// The index after the `)` closing the extglob group whose `(` is at
/// `open`: groups nest; quotes, backslashes and `$(…)` are skipped whole.
pub(crate) fn group_end(c: &[char], open: usize) -> Result<usize, SyntaxError> {
    let mut depth = 0usize;
    let mut i = open;
    while i < c.len() {
        match c[i] {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            '\\' => i += 1,
            '\'' => {
                i += 1;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            '$' if c.get(i + 1) == Some(&'(') => {
                i = crate::parse::subst_end(c, i + 2)?;
            }
            _ => {}
        }
        i += 1;
    }
    Err(SyntaxError::eof(")"))
}

/// Called before each command of an input runs (`i`: the index of the next
/// item of `parsed`): when the session's parse settings changed since
/// `parsed` was parsed and `i` starts a line (or is where a syntax error
/// stopped the parse), parses the rest of `src` again from that line with
/// the new settings and returns it (its items start at 0).
pub fn refresh(parsed: &Parsed, i: usize, st: &ShellState, src: &str) -> Option<Parsed> {
    let line_mode = parsed.epoch == LINE_MODE;
    let aliases_on = st.parse.expand_aliases && !st.parse.aliases.is_empty();
    if parsed.epoch == LINE_DONE || (parsed.epoch == st.parse.epoch && !line_mode && !aliases_on) {
        return None;
    }
    let from = if i == parsed.script.items.len() {
        if parsed.error.is_none() && !line_mode {
            return None;
        }
        parsed.end_offset
    } else if line_mode {
        return None;
    } else {
        parsed.line_offsets.iter().find(|(k, _)| *k == i)?.1
    };
    install(&st.parse);
    if aliasing() {
        return Some(parse_line(src, from));
    }
    Some(crate::parse::parse_input_from(src, from))
}

/// The words of simple commands seen while an alias pass parses a line:
/// the length of the buffer they index (a nested parse of a `$(…)` body
/// has a shorter one), then (start, end, command position) of each word.
type Recording = (usize, Vec<(usize, usize, bool)>);

thread_local! {
    static RECORD: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// Called by the parser for each word of a simple command (`cmd`: the
/// first word, where an alias expands); kept only while [`expand_line`]
/// parses, and only for words of its own buffer.
pub(crate) fn record(buf: &[char], start: usize, end: usize, cmd: bool) {
    RECORD.with(|r| {
        if let Some((len, words)) = r.borrow_mut().as_mut()
            && *len == buf.len()
        {
            words.push((start, end, cmd));
        }
    });
}

/// The parse of `src` from `from` that marks itself to be parsed again
/// after each line ([`refresh`]): only the first line, with aliases expanded.
const LINE_MODE: u64 = u64::MAX;

/// The last parse of a line-at-a-time input (its end, or a syntax error).
const LINE_DONE: u64 = u64::MAX - 1;

/// Whether `name` can be an alias name as bash reads one (no quoting,
/// expansion or metacharacters).
fn plain_name(name: &[char]) -> bool {
    !name.is_empty()
        && name.iter().all(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '\'' | '"' | '\\' | '$' | '`' | '=' | '(' | ')' | '<' | '>' | '|' | '&' | ';'
                )
        })
}

/// The words of `chars` that the parser reads as simple-command words,
/// parsing from `from`.
fn words_of(chars: &[char], from: usize) -> Vec<(usize, usize, bool)> {
    let text: String = chars.iter().collect();
    RECORD.with(|r| *r.borrow_mut() = Some((chars.len(), Vec::new())));
    drop(crate::parse::parse_input_from(&text, from));
    RECORD.with(|r| r.borrow_mut().take().map(|(_, w)| w).unwrap_or_default())
}

/// Expands the aliases of one line (`chars[from..]`): each command word
/// (and, after an alias whose value ends in a blank, the word after it)
/// that names an alias is replaced by its value and the line is read
/// again; an alias is not expanded inside its own expansion.
fn expand_line(mut chars: Vec<char>, from: usize) -> Vec<char> {
    // (start, end, aliases whose expansion this is)
    let mut regions: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut cursor = from;
    let mut chain: Option<usize> = None;
    for _ in 0..1000 {
        let words = words_of(&chars, from);
        let mut hit = None;
        for (a, b, cmd) in words {
            if a < cursor || b > chars.len() || a >= b {
                continue;
            }
            let after_chain = chain.is_some_and(|c| {
                let mut k = c;
                while k < chars.len() && matches!(chars[k], ' ' | '\t') {
                    k += 1;
                }
                k == a
            });
            if !cmd && !after_chain {
                continue;
            }
            if !plain_name(&chars[a..b]) {
                continue;
            }
            let name: String = chars[a..b].iter().collect();
            let Some(value) = alias(&name) else {
                continue;
            };
            let blocked = regions
                .iter()
                .filter(|(s, e, _)| *s <= a && b <= *e)
                .min_by_key(|(s, e, _)| e - s)
                .is_some_and(|(_, _, names)| names.contains(&name));
            if blocked {
                continue;
            }
            hit = Some((a, b, name, value));
            break;
        }
        let Some((a, b, name, value)) = hit else {
            break;
        };
        let v: Vec<char> = value.chars().collect();
        let delta = v.len() as isize - (b - a) as isize;
        let shift = |x: usize| (x as isize + delta).max(0) as usize;
        let mut names = regions
            .iter()
            .filter(|(s, e, _)| *s <= a && b <= *e)
            .min_by_key(|(s, e, _)| e - s)
            .map(|r| r.2.clone())
            .unwrap_or_default();
        for r in &mut regions {
            if r.0 >= b {
                r.0 = shift(r.0);
                r.1 = shift(r.1);
            } else if r.1 >= b {
                r.1 = shift(r.1);
            }
        }
        names.push(name);
        regions.push((a, a + v.len(), names));
        chain = matches!(v.last(), Some(' ' | '\t')).then_some(a + v.len());
        chars.splice(a..b, v);
        cursor = a;
    }
    chars
}

/// Parses the first line of `src` from `from` with aliases expanded (bash
/// expands them as it reads each line), marked to be parsed again after it.
fn parse_line(src: &str, from: usize) -> Parsed {
    let full = crate::parse::parse_input_from(src, from);
    let Some(&(_, start)) = full.line_offsets.first() else {
        return Parsed {
            epoch: LINE_DONE,
            ..full
        };
    };
    let chars: Vec<char> = src.chars().collect();
    let end = match full.line_offsets.get(1) {
        Some(&(_, e)) => e,
        None if full.error.is_some() => full.end_offset,
        None => chars.len(),
    };
    // the lines before as newlines: line numbers stay right
    let pad = chars[..start].iter().filter(|c| **c == '\n').count();
    let mut buf: Vec<char> = vec!['\n'; pad];
    buf.extend_from_slice(&chars[start..end]);
    let buf = expand_line(buf, pad);
    let text: String = buf.iter().collect();
    let mut p = crate::parse::parse_input_from(&text, pad);
    if p.error.is_some() {
        p.epoch = LINE_DONE;
    } else {
        p.epoch = LINE_MODE;
        p.end_offset = end;
        p.line_offsets.clear();
    }
    p
}

/// Runs the lines of `src` as [`crate::exec::Interp::run_lines`] does (an
/// aborted command skips the rest of its line), parsing the rest again
/// whenever a line changes the parse settings (an `eval` string, a
/// `source`d file, `bash FILE`). Returns the last status (0 when nothing
/// ran) and the syntax error that ended the input, if any.
pub async fn run_input(
    interp: &crate::exec::Interp,
    src: &str,
    st: &mut ShellState,
    io: &crate::exec::Io,
) -> Result<(i32, Option<SyntaxError>), crate::exec::Flow> {
    use crate::exec::Flow;
    install(&st.parse);
    let mut parsed = crate::parsecache::parse(src);
    let mut i = 0;
    let mut status = 0;
    loop {
        if let Some(p) = refresh(&parsed, i, st, src) {
            parsed = std::sync::Arc::new(p);
            i = 0;
        }
        let Some(item) = parsed.script.items.get(i) else {
            break;
        };
        crate::verbose::before(st, io, &parsed, i, src).await;
        match interp.exec(item, st, io).await {
            Ok(s) => {
                st.last_status = s;
                status = s;
                i += 1;
            }
            Err(Flow::Abort(s)) => {
                st.last_status = s;
                status = s;
                i = parsed.script.next_line(i);
            }
            Err(f) => return Err(f),
        }
    }
    crate::verbose::before_error(st, io, &parsed, src).await;
    Ok((status, parsed.error.clone()))
}
