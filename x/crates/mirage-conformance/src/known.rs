//! `known-failures.txt`: the cases allowed to fail. The list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::Report;

/// The set of case names that are known to fail.
///
/// The file format is one case name per line; `#` starts a comment, and
/// blank lines are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    names: BTreeSet<String>,
    /// The one-line reason after a name (`name  # reason`), where given.
    reasons: BTreeMap<String, String>,
}

/// How a run compares with the known-failures list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownCheck {
    /// Cases that failed but are not on the list (regressions).
    pub unexpected_failures: Vec<String>,
    /// Cases on the list that ran and passed (remove them from the list).
    pub now_passing: Vec<String>,
}

impl KnownCheck {
    /// Whether the run agrees with the list exactly.
    pub fn is_clean(&self) -> bool {
        self.unexpected_failures.is_empty() && self.now_passing.is_empty()
    }

    /// A human-readable explanation of every disagreement.
    pub fn message(&self) -> String {
        let mut s = String::new();
        if !self.unexpected_failures.is_empty() {
            s.push_str(&format!(
                "{} case(s) failed that are not in fixtures/conformance/known-failures.txt (fix them):\n",
                self.unexpected_failures.len()
            ));
            for n in &self.unexpected_failures {
                s.push_str(&format!("  {n}\n"));
            }
        }
        if !self.now_passing.is_empty() {
            s.push_str(&format!(
                "{} case(s) listed in fixtures/conformance/known-failures.txt now pass; remove them from the list \
                 (or run `cargo xtask conformance --write-known-failures`):\n",
                self.now_passing.len()
            ));
            for n in &self.now_passing {
                s.push_str(&format!("  {n}\n"));
            }
        }
        s
    }
}

impl KnownFailures {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the file format: one name per line, `#` comments; a comment
    /// after a name on its line is that case's reason (`name  # reason`).
    pub fn parse(text: &str) -> Self {
        let mut out = KnownFailures::default();
        for l in text.lines() {
            let (name, reason) = match l.split_once('#') {
                Some((n, r)) => (n.trim(), r.trim()),
                None => (l.trim(), ""),
            };
            if name.is_empty() {
                continue;
            }
            out.names.insert(name.to_string());
            if !reason.is_empty() {
                out.reasons.insert(name.to_string(), reason.to_string());
            }
        }
        out
    }

    /// The reason given for `name`, if any.
    pub fn reason(&self, name: &str) -> Option<&str> {
        self.reasons.get(name).map(String::as_str)
    }

    /// Reads the list from `path`; a missing file is an empty list.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Whether `name` is on the list.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Adds `name`.
    pub fn insert(&mut self, name: impl Into<String>) {
        self.names.insert(name.into());
    }

    /// Removes `name` (and its reason); returns whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.reasons.remove(name);
        self.names.remove(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Compares a run with the list. Only cases that ran are judged: a listed
    /// name that did not run is neither passing nor failing.
    pub fn check(&self, report: &Report) -> KnownCheck {
        let mut check = KnownCheck::default();
        for r in &report.results {
            let listed = self.contains(&r.name);
            if r.passed() && listed {
                check.now_passing.push(r.name.clone());
            } else if !r.passed() && !listed {
                check.unexpected_failures.push(r.name.clone());
            }
        }
        check
    }

    /// The list after a run: cases that ran take their new status (failing
    /// ones are added, passing ones removed); names of cases that did not run
    /// are kept.
    pub fn updated(&self, report: &Report) -> Self {
        let mut next = self.clone();
        for r in &report.results {
            if r.passed() {
                next.remove(&r.name);
            } else {
                next.insert(r.name.clone());
            }
        }
        next
    }

    /// Renders the file: a header, then the names grouped under a comment
    /// naming their case file (`file_of` maps a name to it; names it does not
    /// know go under `# other`).
    pub fn render(&self, file_of: &BTreeMap<String, String>) -> String {
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for n in &self.names {
            let file = file_of.get(n).map(String::as_str).unwrap_or("other");
            groups.entry(file).or_default().push(n);
        }
        let mut s = String::from(
            "# Conformance cases that are known to fail, one case name per line.\n\
             # `#` starts a comment. The list may only shrink: `cargo test` fails when a\n\
             # case outside this list fails, and when a listed case passes again.\n\
             # Regenerate with: cargo xtask conformance --write-known-failures\n",
        );
        for (file, names) in groups {
            s.push_str(&format!("\n# {file} ({})\n", names.len()));
            for n in names {
                s.push_str(n);
                if let Some(r) = self.reasons.get(n) {
                    s.push_str("  # ");
                    s.push_str(r);
                }
                s.push('\n');
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments_and_blanks() {
        let k = KnownFailures::parse("# header\n\na-case\n  b-case  # why\n#c-case\n");
        assert!(k.contains("a-case"));
        assert!(k.contains("b-case"));
        assert!(!k.contains("c-case"));
        assert_eq!(k.len(), 2);
    }

    #[test]
    fn render_round_trips() {
        let k = KnownFailures::parse("b\na\n");
        let mut files = BTreeMap::new();
        files.insert("a".to_string(), "x.json".to_string());
        let text = k.render(&files);
        assert_eq!(KnownFailures::parse(&text), k);
        assert!(text.contains("# x.json (1)\na\n"));
        assert!(text.contains("# other (1)\nb\n"));
    }

    #[test]
    fn reasons_survive_parse_render_and_removal() {
        let mut k = KnownFailures::parse("a  # needs awk\nb\n# comment # here\n");
        assert_eq!(k.reason("a"), Some("needs awk"));
        assert_eq!(k.reason("b"), None);
        assert_eq!(k.len(), 2);
        let files = BTreeMap::new();
        let text = k.render(&files);
        assert!(text.contains("a  # needs awk\n"), "{text}");
        assert_eq!(KnownFailures::parse(&text), k);
        k.remove("a");
        k.insert("a");
        assert_eq!(
            k.reason("a"),
            None,
            "a fixed and re-broken case has no stale reason"
        );
    }
}
