//! POSIX's leftmost-longest rule on top of the `regex` crate.
//!
//! The `regex` crate reports the leftmost-*first* match: at the leftmost
//! start it takes the first alternative that matches, and greedy
//! repetitions as a backtracker would. POSIX (and GNU regex, hence GNU
//! grep, sed, awk and expr) takes the *longest* match at that start:
//! `echo abcd | sed -E 's/a|ab/X/'` prints `Xcd`. Both rules agree on
//! where a match starts, so a match found by the fast engine only has its
//! end moved: [`Longest`] runs the same pattern anchored at the start with
//! `regex-automata`'s `MatchKind::All`, whose search runs until the
//! automaton dies and so reports the longest end. When that end differs,
//! the groups are taken from the same `MatchKind::All` search.
//!
//! A pattern without alternation and without a repetition of varying
//! count (`foo`, `a[0-9]\{3\}`) cannot differ, and gets no [`Longest`].

use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, meta};
use regex_syntax::hir::{Hir, HirKind};
use std::ops::Range;

/// The `MatchKind::All` twin of a compiled pattern.
#[derive(Clone, Debug)]
pub struct Longest {
    re: meta::Regex,
}

impl Longest {
    /// The twin of `pattern` (already in `regex` crate syntax, as the fast
    /// engine compiled it, with the same case folding), or `None` when the
    /// pattern's leftmost-first and leftmost-longest matches cannot differ
    /// or it does not compile here.
    pub fn new(pattern: &str, ignore_case: bool) -> Option<Longest> {
        let cfg = syntax::Config::new()
            .case_insensitive(ignore_case)
            .utf8(false);
        let hir = syntax::parse_with(pattern, &cfg).ok()?;
        if !may_differ(&hir) {
            return None;
        }
        let re = meta::Regex::builder()
            .syntax(cfg)
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(false),
            )
            .build(pattern)
            .ok()?;
        Some(Longest { re })
    }

    /// The end of the longest match that starts at `start` (a match of the
    /// fast engine starts there, so there is one). Bytes outside
    /// `start..` still count for anchors and word boundaries.
    pub fn end(&self, haystack: &[u8], start: usize) -> Option<usize> {
        let input = Input::new(haystack).range(start..).anchored(Anchored::Yes);
        self.re.search(&input).map(|m| m.end())
    }

    /// The groups of the longest match at `start`, as ranges (`None` for a
    /// group that took no part), group 0 first.
    pub fn captures(&self, haystack: &[u8], start: usize) -> Option<Vec<Option<Range<usize>>>> {
        let input = Input::new(haystack).range(start..).anchored(Anchored::Yes);
        let mut caps = self.re.create_captures();
        self.re.search_captures(&input, &mut caps);
        if !caps.is_match() {
            return None;
        }
        Some(
            (0..caps.group_len())
                .map(|i| caps.get_group(i).map(|s| s.range()))
                .collect(),
        )
    }
}

/// Whether leftmost-first and leftmost-longest can pick different ends:
/// the pattern has an alternation or a repetition whose count varies.
fn may_differ(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => false,
        HirKind::Alternation(_) => true,
        HirKind::Repetition(r) => r.max != Some(r.min) || may_differ(&r.sub),
        HirKind::Capture(c) => may_differ(&c.sub),
        HirKind::Concat(parts) => parts.iter().any(may_differ),
    }
}
