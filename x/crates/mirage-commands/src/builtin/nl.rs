//! `nl`: number lines of files, as GNU coreutils 9.1 `nl` (`-b/-h/-f
//! STYLE` with `a t n pBRE`, `-n ln|rn|rz`, `-w`, `-s`, `-v`, `-i`, `-l`,
//! `-d`, `-p`; logical pages split by `\:\:\:`, `\:\:`, `\:` lines). Numbering
//! runs on across files, as GNU's. Streams line by line.

use mirage_regex::{Options, PosixRegex, Syntax};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{LineEnd, LineLoop, gnu_quote, map_lines_with, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("body-numbering", Some('b'), Some("body-numbering")),
    OptSpec::value("section-delimiter", Some('d'), Some("section-delimiter")),
    OptSpec::value("footer-numbering", Some('f'), Some("footer-numbering")),
    OptSpec::value("header-numbering", Some('h'), Some("header-numbering")),
    OptSpec::value("line-increment", Some('i'), Some("line-increment")),
    OptSpec::value("join-blank-lines", Some('l'), Some("join-blank-lines")),
    OptSpec::value("number-format", Some('n'), Some("number-format")),
    OptSpec::flag("no-renumber", Some('p'), Some("no-renumber")),
    OptSpec::value("number-separator", Some('s'), Some("number-separator")),
    OptSpec::value(
        "starting-line-number",
        Some('v'),
        Some("starting-line-number"),
    ),
    OptSpec::value("number-width", Some('w'), Some("number-width")),
];

/// The spec of `nl`.
pub static SPEC: CommandSpec = CommandSpec::new("nl", OPTS, PathOperands::All);

crate::register_command!("nl", SPEC, run);

/// Which lines of a section get numbers.
enum Style {
    All,
    NonEmpty,
    None,
    Regex(PosixRegex),
}

fn parse_style(s: &str, what: &str) -> Result<Style, CmdError> {
    Ok(match s {
        "a" => Style::All,
        "t" => Style::NonEmpty,
        "n" => Style::None,
        _ if s.starts_with('p') => Style::Regex(
            PosixRegex::new(&s[1..], Syntax::Basic, &Options::default())
                .map_err(|e| CmdError::new(1, e.message().to_string()))?,
        ),
        _ => {
            return Err(CmdError::usage(format!(
                "invalid {what} numbering style: {}",
                gnu_quote(s)
            )));
        }
    })
}

/// Parses a number option; `min` is the smallest allowed value.
fn parse_num(s: &str, what: &str, min: i64) -> Result<i64, CmdError> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(CmdError::new(
            1,
            format!(
                "invalid {what}: {}: Numerical result out of range",
                gnu_quote(s)
            ),
        )),
        Err(_) => Err(CmdError::new(
            1,
            format!("invalid {what}: {}", gnu_quote(s)),
        )),
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    // Styles by section: header, body, footer.
    let mut styles = [
        parse_style(p.value("header-numbering").unwrap_or("n"), "header")?,
        parse_style(p.value("body-numbering").unwrap_or("t"), "body")?,
        parse_style(p.value("footer-numbering").unwrap_or("n"), "footer")?,
    ];
    let format = p.value("number-format").unwrap_or("rn");
    if !matches!(format, "ln" | "rn" | "rz") {
        return Err(CmdError::usage(format!(
            "invalid line numbering format: {}",
            gnu_quote(format)
        )));
    }
    let width = match p.value("number-width") {
        Some(w) => parse_num(w, "line number field width", 1)? as usize,
        None => 6,
    };
    let start = match p.value("starting-line-number") {
        Some(v) => parse_num(v, "starting line number", i64::MIN)?,
        None => 1,
    };
    let incr = match p.value("line-increment") {
        Some(v) => parse_num(v, "line number increment", i64::MIN)?,
        None => 1,
    };
    let join = match p.value("join-blank-lines") {
        Some(v) => parse_num(v, "line number of blank lines", 1)?,
        None => 1,
    };
    let sep =
        mirage_types::bytestr::encode(p.value("number-separator").unwrap_or("\t")).into_owned();
    let delim: Vec<u8> = {
        let d = mirage_types::bytestr::encode(p.value("section-delimiter").unwrap_or("\\:"))
            .into_owned();
        // GNU: a one-character delimiter is completed with ':'.
        if d.len() == 1 { vec![d[0], b':'] } else { d }
    };
    let renumber = !p.has("no-renumber");
    let header: Vec<u8> = delim.repeat(3);
    let body_d: Vec<u8> = delim.repeat(2);
    let no_number: Vec<u8> = vec![b' '; width + sep.len()];

    let mut number = start;
    let mut section = 1usize;
    let mut blanks = 0i64;
    // GNU nl ends every line with a newline, the last one too.
    let how = LineLoop {
        end: LineEnd::Always,
        ..LineLoop::COREUTILS
    };
    let status = map_lines_with(ctx, &p, &how, |line, out| {
        let new_section = if !delim.is_empty() && line == header.as_slice() {
            Some(0)
        } else if !delim.is_empty() && line == body_d.as_slice() {
            Some(1)
        } else if !delim.is_empty() && line == delim.as_slice() {
            Some(2)
        } else {
            None
        };
        if let Some(s) = new_section {
            section = s;
            if renumber {
                number = start;
            }
            return;
        }
        let numbered = match &mut styles[section] {
            Style::All => {
                if join > 1 && line.is_empty() {
                    blanks += 1;
                    if blanks == join {
                        blanks = 0;
                        true
                    } else {
                        false
                    }
                } else {
                    blanks = 0;
                    true
                }
            }
            Style::NonEmpty => !line.is_empty(),
            Style::None => false,
            Style::Regex(re) => re.is_match(line),
        };
        if numbered {
            let n = match format {
                "ln" => format!("{number:<width$}"),
                "rz" => format!("{number:0width$}"),
                _ => format!("{number:>width$}"),
            };
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(&sep);
            number = number.wrapping_add(incr);
        } else {
            out.extend_from_slice(&no_number);
        }
        out.extend_from_slice(line);
    })
    .await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    /// A last line without newline gets one; an unreadable operand is
    /// `NAME: message` and numbering runs on into the next file (GNU nl 9.1).
    #[test]
    fn last_line_and_open_errors() {
        let vfs = MemVfs::with(&[("/d/s", "x\n")]);
        let (out, err, status) = run_cmd(&vfs, run, "nl", &["-", "nope", "/d", "s"], "/d", "a\nb");
        assert_eq!((&out[..], status), ("     1\ta\n     2\tb\n     3\tx\n", 1));
        assert_eq!(
            err,
            "nl: nope: No such file or directory\nnl: /d: Is a directory\n"
        );
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(&[("/d/s", "x\n")]);
        // Each expectation was printed by GNU nl 9.1.
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&[], "a\n\nb\n", "     1\ta\n       \n     2\tb\n", 0),
            (&["-ba", "-n", "ln"], "a\n\n", "1     \ta\n2     \t\n", 0),
            (
                &["-ba", "-l", "2"],
                "a\n\n\n\nb\n",
                "     1\ta\n       \n     2\t\n       \n     3\tb\n",
                0,
            ),
            (
                &["-n", "rz", "-w", "3", "-v", "-2"],
                "a\nb\n",
                "-02\ta\n-01\tb\n",
                0,
            ),
            (
                &["-b", "pa.a"],
                "apple\nbanana\n",
                "       apple\n     1\tbanana\n",
                0,
            ),
            (&["-n", "ln", "-w", "3", "-s", "|"], "x\n", "1  |x\n", 0),
            (
                &["-h", "a"],
                "h\n\\:\\:\\:\nH\n\\:\\:\nB\n",
                "     1\th\n\n     1\tH\n\n     1\tB\n",
                0,
            ),
            (&["-b", "x"], "", "", 1),
            (&["-w", "0"], "", "", 1),
            (&["nope"], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "nl", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
