//! `select name [in words]; do list; done`, as bash 5.2 runs it.
//!
//! Each round prints the menu (the first time, and again after an empty
//! reply) and the `PS3` prompt (default `#? `) on stderr, then reads one
//! line of stdin into `REPLY` as `read` without names does (backslashes
//! processed, blanks kept). A number from 1 to the count of words sets
//! `name` to that word; any other non-empty reply sets it to the empty
//! string; an empty reply prints the menu again without running the body.
//! At the end of input a newline goes to stdout and the loop ends with
//! status 1. `break` leaves the loop (status of the body).
//!
//! The menu is laid out as bash lays it out: `N) word` entries, numbered
//! in columns down then across, the numbers right-aligned to the width of
//! the largest (the first column to the width of the row count), each
//! column as wide as the longest entry plus two, padded with tabs (stops
//! every 8) and spaces, as many columns as fit in `$COLUMNS` (80 when it is
//! unset or not a positive number). A menu that fits on one row is printed
//! as one column instead.

use mirage_types::Output;

use crate::ast::Cmd;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// Runs a [`Cmd::Select`] (any other command: status 0).
pub async fn run(interp: &Interp, cmd: &Cmd, st: &mut ShellState, io: &Io) -> ExecResult {
    let Cmd::Select {
        name,
        words,
        body,
        line,
    } = cmd
    else {
        return Ok(0);
    };
    st.set_line(*line);
    if !valid_name(name) {
        io.err(&format!("{}`{name}': not a valid identifier\n", st.diag()))
            .await;
        return Ok(1);
    }
    let items = match words {
        Some(ws) => interp.expand_words(ws, st, io).await?,
        None => st.positional.clone(),
    };
    if items.is_empty() {
        return Ok(0);
    }
    let mut show_menu = true;
    st.loop_depth += 1;
    let r = loop {
        if let Err(f) = crate::jobs::tick_loop(st, io).await {
            break Err(f);
        }
        let choice = match query(interp, &items, show_menu, st, io).await {
            Ok(Some(c)) => c,
            Ok(None) => break Ok(1),
            Err(f) => break Err(f),
        };
        let target = st.resolve(name).into_owned();
        if st.vars.get(&target).is_some_and(|v| v.readonly) {
            io.err(&format!("{}{target}: readonly variable\n", st.diag()))
                .await;
            break Ok(1);
        }
        crate::expand::assign_subscripted(st, name, choice);
        match interp.exec(body, st, io).await {
            Ok(s) => st.last_status = s,
            Err(Flow::Break(n)) => {
                if n > 1 {
                    break Err(Flow::Break(n - 1));
                }
                // `break` set the status
                break Ok(st.last_status);
            }
            Err(Flow::Continue(n)) => {
                if n > 1 {
                    break Err(Flow::Continue(n - 1));
                }
            }
            Err(f) => break Err(f),
        }
        // the menu comes back only after an empty reply
        show_menu = st.get("REPLY").is_some_and(|r| r.is_empty());
    };
    st.loop_depth -= 1;
    r
}

/// One question: the menu (when `show_menu`), the prompt, a reply.
/// Returns the chosen word (empty for a reply that names none), or `None`
/// at the end of input.
async fn query(
    interp: &Interp,
    items: &[String],
    mut show_menu: bool,
    st: &mut ShellState,
    io: &Io,
) -> Result<Option<String>, Flow> {
    let Some(read) = crate::builtins::lookup("read") else {
        return Ok(None);
    };
    loop {
        if show_menu {
            io.err(&menu(items, columns(st))).await;
        }
        let prompt = st.get("PS3").unwrap_or_else(|| "#? ".to_string());
        io.err(&prompt).await;
        let status = read.run(interp, &["read".to_string()], st, io).await?;
        if status != 0 {
            let mut o = Output::new(io.stdout.clone());
            let _ = o.write(b"\n").await;
            let _ = o.flush().await;
            return Ok(None);
        }
        let reply = st.get("REPLY").unwrap_or_default();
        if reply.is_empty() {
            show_menu = true;
            continue;
        }
        let chosen = number(&reply)
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| items.get(i))
            .cloned()
            .unwrap_or_default();
        return Ok(Some(chosen));
    }
}

/// A reply as bash's `legal_number` reads it: optional blanks, an
/// optional sign, decimal digits, optional blanks; `None` otherwise.
fn number(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// `$COLUMNS` when it starts with a positive number (as `atoi` reads
/// it), else 80.
fn columns(st: &ShellState) -> usize {
    let v = st.get("COLUMNS").unwrap_or_default();
    let t = v.trim_start();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(n) if n > 0 && !t.starts_with('-') => n,
        _ => 80,
    }
}

/// The number of decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// The menu of `items` for a terminal `cols` wide, as bash lays it out.
pub fn menu(items: &[String], cols: usize) -> String {
    let count = items.len();
    let index_width = digits(count);
    let longest = items.iter().map(|w| w.chars().count()).max().unwrap_or(0);
    let width = longest + index_width + 2 + 2;
    let mut ncols = (cols / width).max(1);
    let mut rows = count.div_ceil(ncols).max(1);
    ncols = count.div_ceil(rows).max(1);
    if rows == 1 {
        rows = ncols;
    }
    let first_width = digits(rows);
    let mut out = String::new();
    for row in 0..rows {
        let mut ind = row;
        let mut pos = 0;
        loop {
            let w = if pos == 0 { first_width } else { index_width };
            let Some(item) = items.get(ind) else {
                break;
            };
            let entry = format!("{:>w$}) {item}", ind + 1);
            let len = w + 2 + item.chars().count();
            out.push_str(&entry);
            ind += rows;
            if ind >= count {
                break;
            }
            indent(&mut out, pos + len, pos + width);
            pos += width;
        }
        out.push('\n');
    }
    out
}

/// Pads from column `from` to column `to` with tabs (stops every 8) and
/// spaces.
fn indent(out: &mut String, mut from: usize, to: usize) {
    while from < to {
        if to / 8 > from / 8 {
            out.push('\t');
            from += 8 - from % 8;
        } else {
            out.push(' ');
            from += 1;
        }
    }
}

/// Whether `n` is a shell variable name.
fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize) -> Vec<String> {
        (1..=n).map(|i| i.to_string()).collect()
    }

    #[test]
    fn lays_out_menus_as_bash() {
        assert_eq!(menu(&words(1), 80), "1) 1\n");
        assert_eq!(menu(&words(3), 80), "1) 1\n2) 2\n3) 3\n");
        assert_eq!(
            menu(&words(12), 80),
            "1) 1\t 3) 3\t 5) 5\t 7) 7\t 9) 9\t11) 11\n2) 2\t 4) 4\t 6) 6\t 8) 8\t10) 10\t12) 12\n"
        );
    }

    #[test]
    fn reads_numbers_as_bash() {
        assert_eq!(number(" 2 "), Some(2));
        assert_eq!(number("+1"), Some(1));
        assert_eq!(number("02"), Some(2));
        assert_eq!(number("0x1"), None);
        assert_eq!(number("1 2"), None);
        assert_eq!(number("-"), None);
    }
}
