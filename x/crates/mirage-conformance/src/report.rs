//! Results and the report: short diffs, the per-file table, the last line.

use std::fmt::Write as _;
use std::time::Duration;

use crate::KnownFailures;

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// stdout and the exit code matched.
    Passed,
    /// The script ran, but stdout, the exit code or stderr differ.
    Mismatch {
        /// What the script printed on stdout.
        stdout: Vec<u8>,
        /// What it printed on stderr (compared when the case records one).
        stderr: Vec<u8>,
        /// Its exit status.
        exit_code: i32,
    },
    /// The case panicked (the message).
    Panicked(String),
    /// The case did not finish within the timeout.
    TimedOut(Duration),
    /// The workspace could not be set up, or `execute` returned an error.
    SetupFailed(String),
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// The case file it came from.
    pub file: String,
    /// The expected stdout.
    pub expected_stdout: String,
    /// The expected exit status.
    pub expected_exit_code: i32,
    /// The expected stderr, when the case records one.
    pub expected_stderr: Option<String>,
    /// How it ended.
    pub status: Status,
    /// Wall time, set-up included.
    pub elapsed: Duration,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Passed
    }

    /// A few lines saying how the case failed (empty if it passed): the exit
    /// codes, the first differing stdout lines, and the start of stderr.
    pub fn short_diff(&self) -> String {
        let mut s = String::new();
        match &self.status {
            Status::Passed => {}
            Status::Panicked(msg) => {
                let _ = writeln!(s, "panicked: {}", truncate(msg, MAX_LINE));
            }
            Status::TimedOut(t) => {
                let _ = writeln!(s, "timed out after {:.1}s", t.as_secs_f64());
            }
            Status::SetupFailed(msg) => {
                let _ = writeln!(s, "error: {}", truncate(msg, MAX_LINE));
            }
            Status::Mismatch {
                stdout,
                stderr,
                exit_code,
            } => {
                if *exit_code != self.expected_exit_code {
                    let _ = writeln!(
                        s,
                        "exit code: expected {}, got {exit_code}",
                        self.expected_exit_code
                    );
                }
                if stdout.as_slice() != self.expected_stdout.as_bytes() {
                    s.push_str(&line_diff(
                        self.expected_stdout.as_bytes(),
                        stdout,
                        CONTEXT_LINES,
                    ));
                }
                match &self.expected_stderr {
                    Some(want) if !crate::stderr_matches(want.as_bytes(), stderr) => {
                        let diff = line_diff(want.as_bytes(), stderr, CONTEXT_LINES);
                        s.push_str(&diff.replacen("stdout differs", "stderr differs", 1));
                    }
                    _ => {
                        let err: Vec<&[u8]> =
                            stderr.split_inclusive(|&b| b == b'\n').take(2).collect();
                        for line in err {
                            let _ = writeln!(s, "stderr: {}", show_line(line));
                        }
                    }
                }
            }
        }
        s
    }
}

/// How many characters of a line a diff shows.
const MAX_LINE: usize = 120;
/// How many lines from the first difference a diff shows on each side.
const CONTEXT_LINES: usize = 3;

fn truncate(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// A line quoted with escapes, so tabs, trailing spaces and a missing final
/// newline are visible.
fn show_line(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let escaped: String = text.escape_debug().collect();
    format!("\"{}\"", truncate(&escaped, MAX_LINE))
}

/// A short diff of two outputs: where they first differ, and up to
/// `context` lines of each from there (`-` expected, `+` got).
pub fn line_diff(expected: &[u8], got: &[u8], context: usize) -> String {
    let exp: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    let act: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    let first = exp.iter().zip(&act).take_while(|(a, b)| a == b).count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "stdout differs at line {} (expected {} line(s), got {}):",
        first + 1,
        exp.len(),
        act.len()
    );
    for (sign, lines) in [("-", &exp), ("+", &act)] {
        let shown: Vec<&&[u8]> = lines.iter().skip(first).take(context).collect();
        if shown.is_empty() {
            let _ = writeln!(s, "  {sign} <end of output>");
        }
        for line in shown {
            let _ = writeln!(s, "  {sign} {}", show_line(line));
        }
        let more = lines.len().saturating_sub(first + context);
        if more > 0 {
            let _ = writeln!(s, "  {sign} … {more} more line(s)");
        }
    }
    s
}

/// Passed and failed counts of one case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// The case file name.
    pub file: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
}

/// The results of a run, in case order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One result per case.
    pub results: Vec<CaseResult>,
}

/// What [`Report::render`] includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// Show the short diff of failures on the known-failures list too (they
    /// are always named).
    pub diff_known: bool,
    /// Show failures at all (otherwise only the table and the last line).
    pub failures: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            diff_known: true,
            failures: true,
        }
    }
}

impl Report {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// The failing results.
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| !r.passed())
    }

    /// Counts per case file, in the order files first appear.
    pub fn per_file(&self) -> Vec<FileSummary> {
        let mut v: Vec<FileSummary> = Vec::new();
        for r in &self.results {
            let i = match v.iter().position(|f| f.file == r.file) {
                Some(i) => i,
                None => {
                    v.push(FileSummary {
                        file: r.file.clone(),
                        passed: 0,
                        failed: 0,
                    });
                    v.len() - 1
                }
            };
            if r.passed() {
                v[i].passed += 1;
            } else {
                v[i].failed += 1;
            }
        }
        v
    }

    /// The last line of a report: exactly `N passed, M failed`.
    pub fn summary_line(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }

    /// The per-file table (file, passed, failed) with a total row.
    pub fn table(&self) -> String {
        let rows = self.per_file();
        let width = rows
            .iter()
            .map(|r| r.file.len())
            .max()
            .unwrap_or(0)
            .max("total".len());
        let mut s = String::new();
        let _ = writeln!(s, "{:<width$}  {:>6}  {:>6}", "file", "passed", "failed");
        for r in &rows {
            let _ = writeln!(s, "{:<width$}  {:>6}  {:>6}", r.file, r.passed, r.failed);
        }
        let _ = writeln!(
            s,
            "{:<width$}  {:>6}  {:>6}",
            "total",
            self.passed(),
            self.failed()
        );
        s
    }

    /// The whole report: each failure's name with a short diff (failures on
    /// `known` are marked `(known)`), the per-file table, how the run
    /// disagrees with `known` (if given), and last the line
    /// `N passed, M failed`.
    pub fn render(&self, known: Option<&KnownFailures>, opts: RenderOptions) -> String {
        let mut s = String::new();
        if opts.failures {
            for r in self.failures() {
                let is_known = known.is_some_and(|k| k.contains(&r.name));
                let mark = if is_known { " (known)" } else { "" };
                let _ = writeln!(s, "FAIL {} [{}]{mark}", r.name, r.file);
                if !is_known || opts.diff_known {
                    for line in r.short_diff().lines() {
                        let _ = writeln!(s, "    {line}");
                    }
                }
            }
            if self.failed() > 0 {
                s.push('\n');
            }
        }
        s.push_str(&self.table());
        if let Some(k) = known {
            let check = k.check(self);
            if !check.is_clean() {
                s.push('\n');
                s.push_str(&check.message());
            }
        }
        s.push_str(&self.summary_line());
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, file: &str, status: Status) -> CaseResult {
        CaseResult {
            name: name.into(),
            file: file.into(),
            expected_stdout: "a\nb\nc\n".into(),
            expected_exit_code: 0,
            expected_stderr: None,
            status,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn diff_shows_first_difference() {
        let d = line_diff(b"a\nb\nc\n", b"a\nB\n", 3);
        assert!(d.contains("line 2"), "{d}");
        assert!(d.contains("- \"b\\n\""), "{d}");
        assert!(d.contains("+ \"B\\n\""), "{d}");
        assert!(d.contains("- \"c\\n\""), "{d}");
    }

    #[test]
    fn diff_shows_missing_newline_and_end() {
        let d = line_diff(b"a\n", b"a", 3);
        assert!(d.contains("+ \"a\""), "{d}");
        let d = line_diff(b"a\n", b"a\nb\n", 3);
        assert!(d.contains("- <end of output>"), "{d}");
    }

    #[test]
    fn report_ends_with_the_summary_line() {
        let r = Report {
            results: vec![
                result("p", "x.json", Status::Passed),
                result(
                    "f",
                    "y.json",
                    Status::Mismatch {
                        stdout: b"a\n".to_vec(),
                        stderr: b"oops\n".to_vec(),
                        exit_code: 1,
                    },
                ),
                result("t", "y.json", Status::TimedOut(Duration::from_secs(10))),
            ],
        };
        let text = r.render(None, RenderOptions::default());
        assert_eq!(text.lines().last(), Some("1 passed, 2 failed"));
        assert!(text.contains("FAIL f [y.json]"));
        assert!(text.contains("exit code: expected 0, got 1"));
        assert!(text.contains("stderr: \"oops\\n\""));
        assert!(text.contains("timed out"));
        assert_eq!(
            r.per_file(),
            vec![
                FileSummary {
                    file: "x.json".into(),
                    passed: 1,
                    failed: 0
                },
                FileSummary {
                    file: "y.json".into(),
                    passed: 0,
                    failed: 2
                },
            ]
        );
        let mut known = KnownFailures::new();
        known.insert("f");
        known.insert("p");
        let check = known.check(&r);
        assert_eq!(check.unexpected_failures, vec!["t".to_string()]);
        assert_eq!(check.now_passing, vec!["p".to_string()]);
        assert!(check.message().contains("remove them"));
    }
}
