//! POSIX regular expressions as GNU reads them, shared by Mirage's commands
//! (`grep`, `find -regex`, and later `sed`, `awk` and `expr`).
//!
//! Two engines sit behind one type:
//!
//! - [`translate`] rewrites a GNU basic (BRE) or extended (ERE) regular
//!   expression into the syntax of the [`regex`] crate, which then runs it
//!   in linear time. In a BRE `\( \) \{ \} \| \+ \?` are operators and bare
//!   `( ) { } | + ?` are literal; `*` at the start of an expression is
//!   literal; `\<`, `\>`, `\w`, `\s`, `\b`, `` \` `` and `\'` keep their GNU
//!   meaning; an ERE `{` that does not start a valid interval is literal.
//! - A pattern with a back-reference (`\(ab\)\1`, `(.)\1`), which no
//!   linear engine can run, compiles for the small backtracking matcher in
//!   [`backref`].
//!
//! [`PosixRegex`] picks the engine: `PosixRegex::new(r"\(ab\)\1",
//! Syntax::Basic, &Options::default())` gives a back-reference program,
//! anything else a `regex::bytes::Regex`. Haystacks are bytes; a pattern is
//! a `String` in Mirage's lossless form ([`mirage_types::bytestr`]), so an
//! escaped byte in the pattern matches that raw byte.
//!
//! Errors carry GNU grep's wording (`Unmatched ( or \(`, `Unmatched [, [^,
//! [:, [., or [=`, `Invalid character class name`, `Trailing backslash`).
#![deny(missing_docs)]

pub mod backref;
pub mod longest;
mod translate;

use std::ops::Range;

/// Which POSIX dialect a pattern is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Syntax {
    /// A basic regular expression (`grep`, `grep -G`, `sed`, `expr`).
    #[default]
    Basic,
    /// An extended regular expression (`grep -E`, `sed -E`, `find
    /// -regextype posix-extended`).
    Extended,
}

/// What went wrong compiling a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegexErrorKind {
    /// The pattern is malformed; the message is GNU's diagnostic.
    Syntax,
    /// The pattern has a back-reference, which [`translate`] cannot express
    /// (compile it with [`PosixRegex`] or [`backref::Program`] instead).
    BackReference,
    /// The translated pattern was refused by the `regex` crate (too big,
    /// or a construct it does not support); the message is its last line.
    Engine,
}

/// A pattern that does not compile. `Display` prints the message alone, as
/// GNU grep prints it after `grep: `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexError {
    kind: RegexErrorKind,
    message: String,
}

impl RegexError {
    pub(crate) fn syntax(msg: &str) -> Self {
        RegexError {
            kind: RegexErrorKind::Syntax,
            message: msg.to_string(),
        }
    }

    pub(crate) fn back_reference() -> Self {
        RegexError {
            kind: RegexErrorKind::BackReference,
            message: "unsupported: back-references in regular expressions".to_string(),
        }
    }

    /// An error from the `regex` crate, reduced to its last line (the
    /// crate's messages draw the pattern above it).
    pub fn engine(err: &dyn std::fmt::Display) -> Self {
        let msg = err.to_string();
        RegexError {
            kind: RegexErrorKind::Engine,
            message: msg
                .lines()
                .last()
                .unwrap_or("invalid regular expression")
                .trim()
                .to_string(),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> RegexErrorKind {
        self.kind
    }

    /// The message, in GNU's wording where GNU has one.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for RegexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegexError {}

/// Translates a POSIX regular expression in `syntax` into `regex` crate
/// syntax. Capture groups keep their numbers (group `n` of the POSIX
/// pattern is group `n` of the result; every added group is
/// non-capturing).
///
/// # Errors
/// [`RegexErrorKind::Syntax`] with GNU's message for a malformed pattern;
/// [`RegexErrorKind::BackReference`] when the pattern has `\1`…`\9`.
pub fn translate(pat: &str, syntax: Syntax) -> Result<String, RegexError> {
    translate::translate_posix(pat, syntax == Syntax::Extended)
}

/// `s` as a `regex` crate pattern that matches it literally, byte for byte
/// (grep `-F`): escaped bytes of Mirage's string form become `(?-u:\xNN)`.
pub fn literal(s: &str) -> String {
    translate::literal_regex(s)
}

/// How a [`PosixRegex`] or [`backref::Program`] matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Fold case (`grep -i`, `find -iregex`, sed's `I`).
    pub ignore_case: bool,
    /// The match must span the whole haystack (`grep -x`, `find -regex`).
    pub whole_line: bool,
    /// The match must be a whole word: not preceded nor followed by a word
    /// character (`grep -w`). Ignored when `whole_line` is set.
    pub word: bool,
}

/// The engine a [`PosixRegex`] runs.
#[derive(Clone, Debug)]
enum Engine {
    /// The `regex` crate's engine, and the pattern's leftmost-longest twin
    /// when the two rules can disagree on where a match ends.
    Fast(regex::bytes::Regex, Option<longest::Longest>),
    Backref(backref::Program),
}

/// A compiled POSIX regular expression: the `regex` crate's engine when it
/// can run the pattern, the backtracking [`backref`] engine when the
/// pattern has back-references.
#[derive(Clone, Debug)]
pub struct PosixRegex {
    engine: Engine,
}

impl PosixRegex {
    /// Compiles `pat` (in `syntax`) with `opts`.
    ///
    /// # Errors
    /// GNU's message for a malformed pattern, or the `regex` crate's for a
    /// pattern it refuses (for example one too big to compile).
    pub fn new(pat: &str, syntax: Syntax, opts: &Options) -> Result<PosixRegex, RegexError> {
        match translate(pat, syntax) {
            Ok(re) => {
                let re = if opts.whole_line {
                    format!(r"\A(?:{re})\z")
                } else if opts.word {
                    format!(r"\b{{start-half}}(?:{re})\b{{end-half}}")
                } else {
                    re
                };
                let fast = regex::bytes::RegexBuilder::new(&re)
                    .case_insensitive(opts.ignore_case)
                    .build()
                    .map_err(|e| RegexError::engine(&e))?;
                // a whole-line match has one possible end
                let longest = if opts.whole_line {
                    None
                } else {
                    longest::Longest::new(&re, opts.ignore_case)
                };
                Ok(PosixRegex {
                    engine: Engine::Fast(fast, longest),
                })
            }
            Err(e) if e.kind == RegexErrorKind::BackReference => Ok(PosixRegex {
                engine: Engine::Backref(backref::Program::new(pat, syntax, opts)?),
            }),
            Err(e) => Err(e),
        }
    }

    /// Whether the back-reference engine runs this pattern.
    pub fn uses_backrefs(&self) -> bool {
        matches!(self.engine, Engine::Backref(_))
    }

    /// Whether the pattern matches anywhere in `haystack`.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        match &self.engine {
            Engine::Fast(r, _) => r.is_match(haystack),
            Engine::Backref(p) => p.find_at(haystack, 0).is_some(),
        }
    }

    /// The leftmost-longest match starting at or after byte `at`, as a
    /// byte range (POSIX: of the matches that start leftmost, the longest).
    /// Bytes before `at` still count for anchors and word boundaries.
    pub fn find_at(&self, haystack: &[u8], at: usize) -> Option<Range<usize>> {
        match &self.engine {
            Engine::Fast(r, longest) => {
                let m = r.find_at(haystack, at)?;
                let end = longest
                    .as_ref()
                    .and_then(|l| l.end(haystack, m.start()))
                    .map_or(m.end(), |e| e.max(m.end()));
                Some(m.start()..end)
            }
            Engine::Backref(p) => p.find_at(haystack, at).map(|(s, e)| s..e),
        }
    }

    /// The number of capture groups, the whole match (group 0) included.
    pub fn group_count(&self) -> usize {
        match &self.engine {
            Engine::Fast(r, _) => r.captures_len(),
            Engine::Backref(p) => p.group_count(),
        }
    }

    /// The leftmost-longest match at or after `at` with its groups
    /// (`\(…\)` in a BRE, `(…)` in an ERE, numbered from 1 as in `\1`).
    /// When the longest match is longer than the leftmost-first one, its
    /// groups are those of the first path (in pattern order) that reaches
    /// the longest end, which is not always POSIX's subexpression rule.
    pub fn captures_at(&self, haystack: &[u8], at: usize) -> Option<Captures> {
        match &self.engine {
            Engine::Fast(r, longest) => {
                let caps = r.captures_at(haystack, at)?;
                if let (Some(l), Some(m)) = (longest, caps.get(0))
                    && l.end(haystack, m.start()).is_some_and(|e| e > m.end())
                    && let Some(groups) = l.captures(haystack, m.start())
                {
                    return Some(Captures { groups });
                }
                Some(Captures {
                    groups: caps.iter().map(|g| g.map(|m| m.range())).collect(),
                })
            }
            Engine::Backref(p) => {
                let slots = p.captures_at(haystack, at)?;
                Some(Captures {
                    groups: slots
                        .chunks(2)
                        .map(|pair| match pair {
                            [Some(s), Some(e)] if s <= e => Some(*s..*e),
                            _ => None,
                        })
                        .collect(),
                })
            }
        }
    }
}

/// The groups of one match: group 0 is the whole match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captures {
    groups: Vec<Option<Range<usize>>>,
}

impl Captures {
    /// Group `i` as a byte range of the haystack; `None` when the group
    /// took no part in the match or does not exist.
    pub fn get(&self, i: usize) -> Option<Range<usize>> {
        self.groups.get(i).cloned().flatten()
    }

    /// The number of groups, group 0 included.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Never true: a match always has group 0.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests;
