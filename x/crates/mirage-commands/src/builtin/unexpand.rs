//! `unexpand`: convert blanks to tabs, as GNU coreutils 9.1 `unexpand`
//! (leading blanks only by default; `-a` all; `-t N|LIST` implies `-a`;
//! `--first-only`). Follows GNU's `unexpand` loop: a single blank just
//! before a tab stop stays a blank. Streams line by line.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use super::expand::TabStops;
use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", Some('a'), Some("all")),
    OptSpec::flag("first-only", None, Some("first-only")),
    OptSpec::value("tabs", Some('t'), Some("tabs")),
];

/// The spec of `unexpand`.
pub static SPEC: CommandSpec = CommandSpec::new("unexpand", OPTS, PathOperands::All);

crate::register_command!("unexpand", SPEC, run);

/// Converts the blanks of one line (without its newline) into `out`,
/// GNU's `unexpand` loop.
fn unexpand_line(line: &[u8], tabs: &TabStops, all: bool, out: &mut Vec<u8>) {
    let mut column = 0usize;
    let mut convert = true;
    let mut prev_blank = true;
    let mut one_blank_before_tab_stop = false;
    let mut pending: Vec<u8> = Vec::new();
    for (i, &c0) in line.iter().enumerate() {
        let mut c = c0;
        if !convert {
            out.extend_from_slice(&pending);
            out.extend_from_slice(&line[i..]);
            return;
        }
        let blank = c == b' ' || c == b'\t';
        if blank {
            match tabs.next(column) {
                None => convert = false,
                Some(next_tab) => {
                    if c == b'\t' {
                        column = next_tab;
                        if !pending.is_empty() {
                            pending[0] = b'\t';
                        }
                    } else {
                        column += 1;
                        if !(prev_blank && column == next_tab) {
                            if column == next_tab {
                                one_blank_before_tab_stop = true;
                            }
                            pending.push(c);
                            prev_blank = true;
                            continue;
                        }
                        c = b'\t';
                        if pending.is_empty() {
                            pending.push(c);
                        } else {
                            pending[0] = c;
                        }
                    }
                    pending.truncate(usize::from(one_blank_before_tab_stop));
                }
            }
        } else if c == b'\x08' {
            column = column.saturating_sub(1);
        } else {
            column += 1;
        }
        if !pending.is_empty() {
            if pending.len() > 1 && one_blank_before_tab_stop {
                pending[0] = b'\t';
            }
            out.extend_from_slice(&pending);
            pending.clear();
            one_blank_before_tab_stop = false;
        }
        prev_blank = blank;
        convert &= all || blank;
        out.push(c);
    }
    // The line's end (newline or end of input) flushes as any non-blank does.
    if pending.len() > 1 && one_blank_before_tab_stop {
        pending[0] = b'\t';
    }
    out.extend_from_slice(&pending);
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let tab_specs = p.values("tabs");
    let tabs = TabStops::parse(&tab_specs).map_err(|m| CmdError::new(1, m))?;
    let all = (p.has("all") || !tab_specs.is_empty()) && !p.has("first-only");
    Ok(crate::util::map_lines(ctx, &p, |line, out| unexpand_line(line, &tabs, all, out)).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn un(s: &str, t: &[&str], all: bool) -> String {
        let tabs = TabStops::parse(t).unwrap_or_else(|_| TabStops::every8());
        let mut out = Vec::new();
        unexpand_line(s.as_bytes(), &tabs, all, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn unexpands_as_gnu() {
        // Each expectation was printed by GNU unexpand 9.1.
        assert_eq!(un("a       b", &[], true), "a\tb");
        assert_eq!(un("ab      c       d", &[], true), "ab\tc\td");
        assert_eq!(un("a b", &["2"], true), "a b");
        assert_eq!(un("abc \t d", &[], true), "abc\t d");
        assert_eq!(un(" x", &[], false), " x");
        assert_eq!(un("         x  y", &[], false), "\t x  y");
        assert_eq!(un("        indented", &[], false), "\tindented");
        assert_eq!(un("    four", &[], false), "    four");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&[], "        a       b\n", "\ta       b\n", 0),
            (&["-a"], "        a       b\n", "\ta\tb\n", 0),
            (&["nope"], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "unexpand", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
