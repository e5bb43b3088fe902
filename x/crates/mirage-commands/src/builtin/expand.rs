//! `expand`: convert tabs to spaces, as GNU coreutils 9.1 `expand` (`-t
//! N`, `-t LIST`, `-t /N`, `-i`). Columns count bytes (coreutils 9.1 is not
//! multibyte-aware); backspace steps back. Streams line by line. The tab
//! stop list (`TabStops`) is shared with `unexpand`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("initial", Some('i'), Some("initial")),
    OptSpec::value("tabs", Some('t'), Some("tabs")),
];

/// The spec of `expand`.
pub static SPEC: CommandSpec = CommandSpec::new("expand", OPTS, PathOperands::All);

crate::register_command!("expand", SPEC, run);

/// Tab stops as GNU's `expand-common.c` keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TabStops {
    /// Explicit stops, ascending (one entry: every N columns).
    stops: Vec<usize>,
    /// `+N` after the list: further stops every N columns from the last one.
    increment: usize,
    /// `/N` after the list: further stops at the multiples of N.
    extend: usize,
}

impl TabStops {
    /// Every 8 columns.
    pub(crate) fn every8() -> Self {
        TabStops {
            stops: vec![8],
            increment: 0,
            extend: 0,
        }
    }

    /// Parses `-t` values (each `N`, `N,M,…` or blank-separated, `/N`);
    /// the error is GNU's message.
    pub(crate) fn parse(specs: &[&str]) -> Result<Self, String> {
        let mut stops: Vec<usize> = Vec::new();
        let mut increment = 0;
        let mut extend = 0;
        for spec in specs {
            for part in spec.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
                let (prefix, num) = match part.strip_prefix(['/', '+']) {
                    Some(n) => (part.as_bytes()[0], n),
                    None => (0, part),
                };
                if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "tab size contains invalid character(s): {}",
                        crate::util::gnu_quote(part)
                    ));
                }
                let n: usize = num
                    .parse()
                    .map_err(|_| "tab stop is too large".to_string())?;
                if prefix != 0 {
                    if n == 0 {
                        return Err("tab size cannot be 0".into());
                    }
                    if prefix == b'/' {
                        extend = n;
                    } else {
                        increment = n;
                    }
                    continue;
                }
                if n == 0 {
                    return Err("tab size cannot be 0".into());
                }
                if stops.last().is_some_and(|&l| n <= l) {
                    return Err("tab sizes must be ascending".into());
                }
                stops.push(n);
            }
        }
        if stops.is_empty() && increment == 0 && extend == 0 {
            return Ok(Self::every8());
        }
        if stops.is_empty() {
            return Ok(TabStops {
                stops: vec![increment.max(extend)],
                increment: 0,
                extend: 0,
            });
        }
        Ok(TabStops {
            stops,
            increment,
            extend,
        })
    }

    /// The next tab stop after `column`, or `None` past the last explicit stop.
    pub(crate) fn next(&self, column: usize) -> Option<usize> {
        if self.stops.len() == 1 && self.increment == 0 && self.extend == 0 {
            let n = self.stops[0];
            return Some(column + n - column % n);
        }
        if let Some(&s) = self.stops.iter().find(|&&s| s > column) {
            return Some(s);
        }
        let last = *self.stops.last()?;
        if self.extend > 0 {
            return Some(column + self.extend - column % self.extend);
        }
        if self.increment > 0 {
            return Some(column + self.increment - (column - last) % self.increment);
        }
        None
    }
}

/// Expands the tabs of one line (without its newline) into `out`.
fn expand_line(line: &[u8], tabs: &TabStops, initial: bool, out: &mut Vec<u8>) {
    let mut column = 0usize;
    let mut convert = true;
    for (i, &c) in line.iter().enumerate() {
        if !convert {
            out.extend_from_slice(&line[i..]);
            return;
        }
        match c {
            b'\t' => {
                let next = tabs.next(column).unwrap_or(column + 1);
                out.extend(std::iter::repeat_n(b' ', next - column));
                column = next;
            }
            b'\x08' => {
                column = column.saturating_sub(1);
                out.push(c);
            }
            _ => {
                column += 1;
                out.push(c);
            }
        }
        if initial && c != b' ' && c != b'\t' {
            convert = false;
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let tabs = TabStops::parse(&p.values("tabs")).map_err(|m| CmdError::new(1, m))?;
    let initial = p.has("initial");
    Ok(crate::util::map_lines(ctx, &p, |line, out| expand_line(line, &tabs, initial, out)).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    #[test]
    fn tab_stops() {
        let t = TabStops::parse(&["4"]).unwrap_or_else(|_| TabStops::every8());
        assert_eq!(t.next(0), Some(4));
        assert_eq!(t.next(5), Some(8));
        let l = TabStops::parse(&["2,5"]).unwrap_or_else(|_| TabStops::every8());
        assert_eq!((l.next(0), l.next(3), l.next(6)), (Some(2), Some(5), None));
        // As GNU expand 9.1: `/N` stops at multiples of N, `+N` every N from the last stop.
        let i = TabStops::parse(&["2,+5"]).unwrap_or_else(|_| TabStops::every8());
        assert_eq!(i.next(3), Some(7));
        let e = TabStops::parse(&["2,/4"]).unwrap_or_else(|_| TabStops::every8());
        assert_eq!((e.next(2), e.next(5)), (Some(4), Some(8)));
        assert_eq!(
            TabStops::parse(&["0"]),
            Err("tab size cannot be 0".to_string())
        );
        assert_eq!(
            TabStops::parse(&["4,2"]),
            Err("tab sizes must be ascending".to_string())
        );
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &[],
                "a\tb\tc\n12345678\tx\n",
                "a       b       c\n12345678        x\n",
                0,
            ),
            (&["-t", "4"], "a\tb\n", "a   b\n", 0),
            (&["-i"], "\ta\tb", "        a\tb", 0),
            (&["-t", "2,4"], "\t\t\tx", "     x", 0),
            (&["nope"], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "expand", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
