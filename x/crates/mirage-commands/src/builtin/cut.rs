//! `cut`: remove sections from each line of files, as GNU coreutils 9.1
//! `cut` (`-b`, `-c` (bytes, as GNU), `-f`, `-d`, `-s`, `-n`, `-z`,
//! `--complement`, `--output-delimiter`). Streams line by line.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{LineEnd, LineLoop, map_lines_with, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("bytes", Some('b'), Some("bytes")),
    OptSpec::value("characters", Some('c'), Some("characters")),
    OptSpec::value("delimiter", Some('d'), Some("delimiter")),
    OptSpec::value("fields", Some('f'), Some("fields")),
    OptSpec::flag("n", Some('n'), None),
    OptSpec::flag("complement", None, Some("complement")),
    OptSpec::flag("only-delimited", Some('s'), Some("only-delimited")),
    OptSpec::value("output-delimiter", None, Some("output-delimiter")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
];

/// The spec of `cut`.
pub static SPEC: CommandSpec = CommandSpec::new("cut", OPTS, PathOperands::All);

crate::register_command!("cut", SPEC, run);

/// A closed range of 1-based positions; `hi == usize::MAX` means open.
type Range = (usize, usize);

/// Parses a LIST (`1,3-5,7-`), merged and sorted. The error is GNU's message.
fn parse_list(list: &str, fields: bool) -> Result<Vec<Range>, String> {
    let what = if fields {
        "field value"
    } else {
        "byte/character position"
    };
    let mut ranges: Vec<Range> = Vec::new();
    if list.is_empty() {
        return Err(if fields {
            "fields are numbered from 1".into()
        } else {
            "byte/character positions are numbered from 1".into()
        });
    }
    for part in list.split([',', ' ', '\t']) {
        if part.is_empty() {
            return Err(if fields {
                "fields are numbered from 1".into()
            } else {
                "byte/character positions are numbered from 1".into()
            });
        }
        let num = |s: &str| -> Result<usize, String> {
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid {what} '{s}'"));
            }
            let n: usize = s.parse().unwrap_or(usize::MAX);
            if n == 0 {
                return Err(if fields {
                    "fields are numbered from 1".to_string()
                } else {
                    "byte/character positions are numbered from 1".to_string()
                });
            }
            Ok(n)
        };
        match part.split_once('-') {
            None => {
                let n = num(part)?;
                ranges.push((n, n));
            }
            Some(("", "")) => return Err("invalid range with no endpoint: -".to_string()),
            Some(("", hi)) => ranges.push((1, num(hi)?)),
            Some((lo, "")) => ranges.push((num(lo)?, usize::MAX)),
            Some((lo, hi)) => {
                let (l, h) = (num(lo)?, num(hi)?);
                if h < l {
                    return Err("invalid decreasing range".to_string());
                }
                ranges.push((l, h));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<Range> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1.saturating_add(1) => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    Ok(merged)
}

/// The complement of sorted, merged ranges.
fn complement(ranges: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    let mut next = 1usize;
    for &(lo, hi) in ranges {
        if lo > next {
            out.push((next, lo - 1));
        }
        if hi == usize::MAX {
            return out;
        }
        next = hi + 1;
    }
    out.push((next, usize::MAX));
    out
}

fn selected(ranges: &[Range], pos: usize) -> bool {
    ranges.iter().any(|&(lo, hi)| pos >= lo && pos <= hi)
}

/// Cuts bytes: the selected ranges, with `out_delim` between non-adjacent ranges.
fn cut_bytes(line: &[u8], ranges: &[Range], out_delim: Option<&[u8]>, out: &mut Vec<u8>) {
    let mut first = true;
    for &(lo, hi) in ranges {
        if lo > line.len() {
            break;
        }
        let end = hi.min(line.len());
        if !first && let Some(d) = out_delim {
            out.extend_from_slice(d);
        }
        first = false;
        out.extend_from_slice(&line[lo - 1..end]);
    }
}

/// Cuts fields; returns `false` when the line has no delimiter and `-s` drops it.
fn cut_fields(
    line: &[u8],
    ranges: &[Range],
    delim: u8,
    out_delim: &[u8],
    only_delimited: bool,
    out: &mut Vec<u8>,
) -> bool {
    if memchr::memchr(delim, line).is_none() {
        if only_delimited {
            return false;
        }
        out.extend_from_slice(line);
        return true;
    }
    let mut first = true;
    for (i, field) in line.split(|&b| b == delim).enumerate() {
        if selected(ranges, i + 1) {
            if !first {
                out.extend_from_slice(out_delim);
            }
            first = false;
            out.extend_from_slice(field);
        }
    }
    true
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let kinds: Vec<&str> = ["bytes", "characters", "fields"]
        .into_iter()
        .filter(|k| p.has(k))
        .collect();
    if kinds.len() > 1 {
        return Err(CmdError::usage("only one list may be specified"));
    }
    let Some(&kind) = kinds.first() else {
        return Err(CmdError::usage(
            "you must specify a list of bytes, characters, or fields",
        ));
    };
    let fields = kind == "fields";
    let list = p.value(kind).unwrap_or("").to_string();
    let mut ranges = parse_list(&list, fields).map_err(CmdError::usage)?;
    if p.has("complement") {
        ranges = complement(&ranges);
    }
    let delim = match p.value("delimiter") {
        None => b'\t',
        Some(d) if !fields => {
            let _ = d;
            return Err(CmdError::usage(
                "an input delimiter may be specified only when operating on fields",
            ));
        }
        Some("") => 0,
        Some(d) if mirage_types::bytestr::encode(d).len() == 1 => {
            mirage_types::bytestr::encode(d)[0]
        }
        Some(_) => {
            return Err(CmdError::usage("the delimiter must be a single character"));
        }
    };
    if p.has("only-delimited") && !fields {
        return Err(CmdError::usage(
            "suppressing non-delimited lines makes sense\n\tonly when operating on fields",
        ));
    }
    let out_delim: Option<Vec<u8>> = p
        .value("output-delimiter")
        .map(|s| mirage_types::bytestr::encode(s).into_owned());
    let field_delim = out_delim.clone().unwrap_or_else(|| vec![delim]);
    let only_delimited = p.has("only-delimited");
    let eol = if p.has("zero") { 0 } else { b'\n' };
    // GNU cut ends every line it prints, the last one too
    let how = LineLoop {
        end: LineEnd::Caller,
        delim: eol,
        ..LineLoop::COREUTILS
    };
    let status = map_lines_with(ctx, &p, &how, |line, out| {
        let keep = if fields {
            cut_fields(line, &ranges, delim, &field_delim, only_delimited, out)
        } else {
            cut_bytes(line, &ranges, out_delim.as_deref(), out);
            true
        };
        if keep {
            out.push(eol);
        }
    })
    .await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn fields(line: &str, list: &str, d: u8, od: &str, s: bool) -> Option<String> {
        let r = parse_list(list, true).ok()?;
        let mut out = Vec::new();
        cut_fields(line.as_bytes(), &r, d, od.as_bytes(), s, &mut out)
            .then(|| String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("1,3-5,7-", false),
            Ok(vec![(1, 1), (3, 5), (7, usize::MAX)])
        );
        assert_eq!(parse_list("-3,2", true), Ok(vec![(1, 3)]));
        assert_eq!(
            parse_list("0", true).unwrap_err(),
            "fields are numbered from 1"
        );
        assert_eq!(
            parse_list("3-1", false).unwrap_err(),
            "invalid decreasing range"
        );
        assert_eq!(
            parse_list("-", false).unwrap_err(),
            "invalid range with no endpoint: -"
        );
        assert_eq!(
            parse_list("x", true).unwrap_err(),
            "invalid field value 'x'"
        );
        assert_eq!(complement(&[(2, 2)]), vec![(1, 1), (3, usize::MAX)]);
        assert_eq!(complement(&[(1, usize::MAX)]), vec![]);
    }

    #[test]
    fn cutting() {
        assert_eq!(
            fields("a,b,c,d", "1,3", b',', " | ", false).as_deref(),
            Some("a | c")
        );
        assert_eq!(fields("a,b", "5", b',', ",", false).as_deref(), Some(""));
        assert_eq!(
            fields("no tabs here", "2", b'\t', "\t", false).as_deref(),
            Some("no tabs here")
        );
        assert_eq!(fields("no tabs here", "2", b'\t', "\t", true), None);
        let mut out = Vec::new();
        cut_bytes(
            b"abcdef",
            &parse_list("2,4,6", false).unwrap_or_default(),
            None,
            &mut out,
        );
        assert_eq!(out, b"bdf");
        out.clear();
        cut_bytes(
            b"abcdef",
            &parse_list("1-2,5-", false).unwrap_or_default(),
            Some(b":"),
            &mut out,
        );
        assert_eq!(out, b"ab:ef");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &["-d,", "-f2", "emp.csv"],
                "",
                "name\nAlice\nBob\nCarol\nDan\n",
                0,
            ),
            (
                &["-d,", "-f1,3", "emp.csv"],
                "",
                "id,dept\n1,Eng\n2,Mkt\n3,Eng\n4,Sales\n",
                0,
            ),
            (
                &["-d,", "-f3-", "emp.csv"],
                "",
                "dept,salary\nEng,120000\nMkt,85000\nEng,135000\nSales,70000\n",
                0,
            ),
            (&["-c2,4,6"], "abcdef\n", "bdf\n", 0),
            (&["-c4-"], "abcdef\n", "def\n", 0),
            (&["-f2"], "a\tb\tc\n1\t2\t3\n", "b\n2\n", 0),
            (&["-f2"], "no tabs here\n", "no tabs here\n", 0),
            (&["-d,", "--complement", "-f2"], "a,b,c,d\n", "a,c,d\n", 0),
            (
                &["-d,", "-f1,3", "--output-delimiter= | "],
                "a,b,c,d\n",
                "a | c\n",
                0,
            ),
            (&["-d,", "-f5"], "a,b\n", "\n", 0),
            (&["-d", " ", "-f3"], "a b  c\n", "\n", 0),
            (&["-b1-3"], "héllo\n", "hé\n", 0),
            (&["-s", "-f2"], "a\tb\nnone\n", "b\n", 0),
            (&["-f", "0"], "x\n", "", 1),
            (&[], "x\n", "", 1),
            (&["-c1-2", "-f1"], "x\n", "", 1),
            (&["-d", "ab", "-f1"], "x\n", "", 1),
            (
                &["-c", "1-2,4-5", "--output-delimiter=:"],
                "abcdef\n",
                "ab:de\n",
                0,
            ),
            (&["-d,", "-f2"], "a,b", "b\n", 0),
            (&["-f1", "missing", "a.txt"], "", "a1\na2\na3\n", 1),
            (&["-c", "-2"], "abc\n", "ab\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "cut", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-d:", "-s", "-f1"], "a:b\nnone\n", "a\n", 0),
            (&["-b", "1,1-2,2"], "abc\n", "ab\n", 0),
            (&["-c2-", "--complement"], "abc\n", "a\n", 0),
            (&["-f1-2", "-d,"], "a,b,c\n", "a,b\n", 0),
            (&["-f2-", "-d,"], "a\n", "a\n", 0),
            (&["-d,", "-f", "1,3-"], "1,2,3,4\n", "1,3,4\n", 0),
            (&["-z", "-d,", "-f1"], "a,b\0c,d\0", "a\0c\0", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "cut", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
