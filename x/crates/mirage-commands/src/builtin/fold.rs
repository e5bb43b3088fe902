//! `fold`: wrap each input line to fit in a width, as GNU coreutils 9.1
//! `fold` (`-w N`, `-b` bytes, `-s` break at blanks). Columns count bytes
//! (coreutils 9.1 is not multibyte-aware); without `-b` a tab moves to
//! the next multiple of 8, backspace steps back, carriage return resets.
//! Streams line by line.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("bytes", Some('b'), Some("bytes")),
    OptSpec::flag("spaces", Some('s'), Some("spaces")),
    OptSpec::value("width", Some('w'), Some("width")),
];

/// The spec of `fold`.
pub static SPEC: CommandSpec = CommandSpec::new("fold", OPTS, PathOperands::All);

crate::register_command!("fold", SPEC, run);

/// How one byte moves the column (GNU `adjust_column`).
fn adjust(column: usize, c: u8, bytes: bool) -> usize {
    if bytes {
        return column + 1;
    }
    match c {
        b'\x08' => column.saturating_sub(1),
        b'\r' => 0,
        b'\t' => column + 8 - column % 8,
        _ => column + 1,
    }
}

/// Folds one line (without its newline) into `out`, GNU's `fold_file`.
fn fold_line(line: &[u8], width: usize, bytes: bool, spaces: bool, out: &mut Vec<u8>) {
    let mut buf: Vec<u8> = Vec::with_capacity(width + 1);
    let mut column = 0usize;
    for &c in line {
        loop {
            column = adjust(column, c, bytes);
            if column > width {
                if spaces && let Some(i) = buf.iter().rposition(|&b| b == b' ' || b == b'\t') {
                    let end = i + 1;
                    out.extend_from_slice(&buf[..end]);
                    out.push(b'\n');
                    buf.drain(..end);
                    column = buf.iter().fold(0, |col, &b| adjust(col, b, bytes));
                    continue;
                }
                if buf.is_empty() {
                    buf.push(c);
                    break;
                }
                out.extend_from_slice(&buf);
                out.push(b'\n');
                buf.clear();
                column = 0;
                continue;
            }
            buf.push(c);
            break;
        }
    }
    out.extend_from_slice(&buf);
}

/// Parses `-w`: GNU's messages for a bad or zero width.
fn parse_width(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err(format!(
            "invalid number of columns: {}: Numerical result out of range",
            gnu_quote(s)
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid number of columns: {}", gnu_quote(s))),
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let width = match p.value("width") {
        Some(w) => parse_width(w).map_err(|m| CmdError::new(1, m))?,
        None => 80,
    };
    let (bytes, spaces) = (p.has("bytes"), p.has("spaces"));
    Ok(crate::util::map_lines(ctx, &p, |line, out| {
        fold_line(line, width, bytes, spaces, out);
    })
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn fold(s: &str, w: usize, b: bool, sp: bool) -> String {
        let mut out = Vec::new();
        fold_line(s.as_bytes(), w, b, sp, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn folds_as_gnu() {
        // Each expectation was printed by GNU fold 9.1.
        assert_eq!(
            fold("hello world foo bar", 7, false, true),
            "hello \nworld \nfoo bar"
        );
        assert_eq!(fold("abcdefghij", 3, false, false), "abc\ndef\nghi\nj");
        assert_eq!(fold("a\tbcdefghijk", 10, false, false), "a\tbc\ndefghijk");
        assert_eq!(fold("abc\x08defg", 3, false, false), "abc\x08d\nefg");
        assert_eq!(fold("aa bb  cc dd", 5, false, true), "aa \nbb  \ncc dd");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-w3"], "abcdefgh", "abc\ndef\ngh", 0),
            (&["-w", "0"], "", "", 1),
            (&["-w", "x"], "", "", 1),
            (&["nope"], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "fold", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
