//! What the parser needs from the session: `extglob` (bash lets
//! `?(…) *(…) +(…) @(…) !(…)` into words only when it is on) and, under
//! `expand_aliases`, the alias table.
//!
//! bash reads and parses one line at a time, so `shopt -s extglob` or
//! `alias ll='ls -l'` takes effect from the next line on. Mirage parses a
//! whole input at once; when a command changes these settings
//! ([`ParseSettings::epoch`] moves), [`refresh`] parses the rest of the input
//! again from the next line. The parser reads the settings from a
//! thread-local ([`current`]), set right before each parse.

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
    if parsed.epoch == st.parse.epoch {
        return None;
    }
    let from = if i == parsed.script.items.len() {
        if parsed.error.is_none() {
            return None;
        }
        parsed.end_offset
    } else {
        parsed.line_offsets.iter().find(|(k, _)| *k == i)?.1
    };
    install(&st.parse);
    Some(crate::parse::parse_input_from(src, from))
}
