//! `set -v` (verbose): the shell echoes its input to stderr as it reads it,
//! as bash 5.2 does.
//!
//! bash reads (and echoes) one input line at a time, a complete command
//! with its continuation lines and here-document bodies, before it runs
//! it; so the line that turns `set -v` on is not echoed and the ones after
//! it are, comments and blank lines included, and `set +v` is echoed with
//! its line. The text of `eval` and of `source`d files is input too (each
//! line echoed before it runs); function bodies and command substitutions
//! are not read again when they run. One quirk is kept: the lines of a
//! `$( … )` after the line it opens on are not echoed (bash reads them
//! with its command-substitution parser, which does not echo).
//!
//! The echo is a lookup of the source text: the shell parses the whole
//! input ahead, and [`crate::parse::Parsed::line_offsets`] says where each
//! line starts.

use crate::exec::Io;
use crate::parse::Parsed;
use crate::state::ShellState;

/// Before item `i` of `parsed` (the parse of `src`) runs: under `set -v`,
/// when `i` starts an input line, echoes that line's text (from the end of
/// the line before, so comments and blank lines come too) to stderr.
pub async fn before(st: &ShellState, io: &Io, parsed: &Parsed, i: usize, src: &str) {
    if !st.options.verbose {
        return;
    }
    let offsets = &parsed.line_offsets;
    let Some(k) = offsets.iter().position(|(item, _)| *item == i) else {
        return;
    };
    let start = offsets[k].1;
    let chars: Vec<char> = src.chars().collect();
    let end = match offsets.get(k + 1) {
        Some(&(_, e)) => e,
        None if parsed.error.is_some() => parsed.end_offset,
        None => chars.len(),
    };
    echo(io, &chars, start, end).await;
}

/// After an input's last command: under `set -v`, when a syntax error
/// ended it, echoes the lines read up to the error (bash echoes them
/// before it reports the error).
pub async fn before_error(st: &ShellState, io: &Io, parsed: &Parsed, src: &str) {
    if !st.options.verbose {
        return;
    }
    let Some(e) = &parsed.error else {
        return;
    };
    let chars: Vec<char> = src.chars().collect();
    let start = parsed.end_offset.min(chars.len());
    // the end of the error's line
    let mut line = 1;
    let mut end = chars.len();
    for (at, c) in chars.iter().enumerate() {
        if *c == '\n' {
            if line >= e.line && at >= start {
                end = at + 1;
                break;
            }
            line += 1;
        }
    }
    echo(io, &chars, start, end).await;
}

/// Echoes `chars[start..end]` (ended by a newline) without the lines that
/// start inside a command substitution.
async fn echo(io: &Io, chars: &[char], start: usize, end: usize) {
    let Some(text) = chars.get(start..end.min(chars.len())) else {
        return;
    };
    if text.is_empty() {
        return;
    }
    let inside = comsub_line_starts(text);
    let mut out = String::new();
    for (n, line) in text.split_inclusive(|c| *c == '\n').enumerate() {
        if inside.get(n).copied().unwrap_or(false) {
            continue;
        }
        out.extend(line.iter());
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    io.err(&out).await;
}

/// For each line of `text`: whether it starts inside a `$( … )` opened on
/// an earlier line (quotes, backslashes and comments followed roughly as
/// the parser reads them).
fn comsub_line_starts(text: &[char]) -> Vec<bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        /// Inside `$(`, with its open-paren depth.
        Sub(u32),
        /// Inside `"…"`.
        Double,
    }
    let mut stack: Vec<Ctx> = Vec::new();
    let mut starts = vec![false];
    let mut i = 0;
    let in_sub = |s: &[Ctx]| s.iter().any(|c| matches!(c, Ctx::Sub(_)));
    while let Some(&c) = text.get(i) {
        let top = stack.last().copied();
        match c {
            '\n' => starts.push(in_sub(&stack)),
            '\\' => {
                i += 1;
                if text.get(i) == Some(&'\n') {
                    starts.push(in_sub(&stack));
                }
            }
            '\'' if top != Some(Ctx::Double) => {
                i += 1;
                while let Some(&q) = text.get(i).filter(|c| **c != '\'') {
                    if q == '\n' {
                        starts.push(in_sub(&stack));
                    }
                    i += 1;
                }
            }
            '"' if top == Some(Ctx::Double) => {
                stack.pop();
            }
            '"' => stack.push(Ctx::Double),
            '$' if text.get(i + 1) == Some(&'(') => {
                stack.push(Ctx::Sub(0));
                i += 1;
            }
            '#' if top != Some(Ctx::Double)
                && (i == 0 || text.get(i - 1).is_some_and(|p| p.is_whitespace())) =>
            {
                while text.get(i + 1).is_some_and(|c| *c != '\n') {
                    i += 1;
                }
            }
            '(' => {
                if let Some(Ctx::Sub(d)) = stack.last_mut() {
                    *d += 1;
                }
            }
            ')' => match stack.last_mut() {
                Some(Ctx::Sub(0)) => {
                    stack.pop();
                }
                Some(Ctx::Sub(d)) => *d -= 1,
                _ => {}
            },
            _ => {}
        }
        i += 1;
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(s: &str) -> Vec<bool> {
        comsub_line_starts(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn finds_lines_inside_command_substitutions() {
        assert_eq!(marks("a\nb\n"), vec![false, false, false]);
        assert_eq!(
            marks("y=$( echo f\n echo g\n)\necho"),
            vec![false, true, true, false]
        );
        assert_eq!(marks("echo '$(\n'\nx"), vec![false, false, false]);
    }
}
