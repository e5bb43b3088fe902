//! `column`: columnate lists, as util-linux 2.38 `column`: table mode
//! (`-t`, `-s SEP`, `-o OUTSEP`, `-N NAMES`, `-R COLS`, `-L`) and the
//! fill modes (columns first, or rows first with `-x`; `-c WIDTH`, else
//! `$COLUMNS`, else 80), tab-stop padding as util-linux pads.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use unicode_width::UnicodeWidthStr;

use crate::util::{operands_or_stdin, parse_cmd, read_input};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("table", Some('t'), Some("table")),
    OptSpec::value("separator", Some('s'), Some("separator")),
    OptSpec::value("output-separator", Some('o'), Some("output-separator")),
    OptSpec::value("output-width", Some('c'), Some("output-width")),
    OptSpec::flag("fillrows", Some('x'), Some("fillrows")),
    OptSpec::value("table-columns", Some('N'), Some("table-columns")),
    OptSpec::value("table-right", Some('R'), Some("table-right")),
    OptSpec::flag("keep-empty-lines", Some('L'), Some("keep-empty-lines")),
];

/// The spec of `column`.
pub static SPEC: CommandSpec = CommandSpec::new("column", OPTS, PathOperands::All);

crate::register_command!("column", SPEC, run);

/// The display width of a cell.
fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Splits a line into cells: on runs of blanks by default (empty cells
/// dropped), on each separator character exactly with `-s`.
fn cells(line: &str, seps: Option<&str>) -> Vec<String> {
    match seps {
        None => line
            .split([' ', '\t'])
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect(),
        Some(s) => line
            .split(|c: char| s.contains(c))
            .map(String::from)
            .collect(),
    }
}

/// Table mode: every cell padded to its column's width and followed by
/// the output separator, except in the last column.
fn table(
    rows: &[Option<Vec<String>>],
    outsep: &str,
    right: &[usize],
    header: Option<Vec<String>>,
) -> String {
    let mut all: Vec<Option<Vec<String>>> = Vec::new();
    if let Some(h) = header {
        all.push(Some(h));
    }
    all.extend(rows.iter().cloned());
    let ncols = all.iter().flatten().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; ncols];
    for r in all.iter().flatten() {
        for (k, c) in r.iter().enumerate() {
            widths[k] = widths[k].max(width(c));
        }
    }
    let mut out = String::new();
    for r in &all {
        let empty = Vec::new();
        let r = r.as_ref().unwrap_or(&empty);
        for (k, w) in widths.iter().enumerate() {
            let cell = r.get(k).map_or("", String::as_str);
            let pad = w - width(cell);
            let last = k + 1 == ncols;
            if right.contains(&(k + 1)) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if !last {
                    out.push_str(&" ".repeat(pad));
                }
            }
            if !last {
                out.push_str(outsep);
            }
        }
        out.push('\n');
    }
    out
}

/// util-linux `columnate_fillcols` / `columnate_fillrows`.
fn fill(ents: &[String], term: usize, rows_first: bool) -> String {
    let mut out = String::new();
    if ents.is_empty() {
        return out;
    }
    let maxw = ents.iter().map(|e| width(e)).max().unwrap_or(0);
    if maxw >= term {
        for e in ents {
            out.push_str(e);
            out.push('\n');
        }
        return out;
    }
    let maxlength = (maxw + 8) & !7;
    let numcols = (term / maxlength).max(1);
    let tab_to = |out: &mut String, chcnt: &mut usize, endcol: usize| loop {
        let cnt = (*chcnt + 8) & !7;
        if cnt > endcol {
            break;
        }
        out.push('\t');
        *chcnt = cnt;
    };
    if rows_first {
        let (mut chcnt, mut col, mut endcol) = (0usize, 0usize, maxlength);
        for (i, e) in ents.iter().enumerate() {
            out.push_str(e);
            chcnt += width(e);
            col += 1;
            if i + 1 == ents.len() {
                break;
            }
            if col == numcols {
                chcnt = 0;
                col = 0;
                endcol = maxlength;
                out.push('\n');
            } else {
                tab_to(&mut out, &mut chcnt, endcol);
                endcol += maxlength;
            }
        }
        if chcnt > 0 {
            out.push('\n');
        }
        return out;
    }
    let numrows = ents.len().div_ceil(numcols);
    for row in 0..numrows {
        let mut endcol = maxlength;
        let mut chcnt = 0;
        let mut base = row;
        for _ in 0..numcols {
            out.push_str(&ents[base]);
            chcnt += width(&ents[base]);
            base += numrows;
            if base >= ents.len() {
                break;
            }
            tab_to(&mut out, &mut chcnt, endcol);
            endcol += maxlength;
        }
        out.push('\n');
    }
    out
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut text = String::new();
    let mut status = 0;
    for f in operands_or_stdin(&p) {
        match read_input(ctx, &f).await {
            Ok(d) => text.push_str(&mirage_types::bytestr::decode(&d)),
            Err(e) => {
                ctx.error(e).await;
                status = 1;
            }
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    }
    let keep_empty = p.has("keep-empty-lines");
    let out = if p.has("table") {
        let seps = p.value("separator");
        let rows: Vec<Option<Vec<String>>> = text
            .lines()
            .filter_map(|l| {
                if l.trim_matches([' ', '\t']).is_empty() && seps.is_none() || l.is_empty() {
                    keep_empty.then_some(None)
                } else {
                    Some(Some(cells(l, seps)))
                }
            })
            .collect();
        let outsep = p.value("output-separator").unwrap_or("  ");
        let mut right = Vec::new();
        for v in p.values("table-right") {
            for n in v.split(',') {
                match n.trim().parse::<usize>() {
                    Ok(n) if n > 0 => right.push(n),
                    _ => {}
                }
            }
        }
        let header = p
            .value("table-columns")
            .map(|h| h.split(',').map(String::from).collect());
        table(&rows, outsep, &right, header)
    } else {
        let term = match p.value("output-width") {
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| CmdError::new(1, format!("invalid columns argument: '{v}'")))?,
            None => ctx
                .var("COLUMNS")
                .and_then(|c| c.parse().ok())
                .filter(|&c: &usize| c > 0)
                .unwrap_or(80),
        };
        let ents: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        fill(&ents, term, p.has("fillrows"))
    };
    ctx.stdout
        .write(&mirage_types::bytestr::encode(&out))
        .await?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn matches_util_linux() {
        let vfs = MemVfs::with(&[("/d/t", "a  b\tc\n\nlonger x\n")]);
        let seq: String = (1..=30).map(|n| format!("{n}\n")).collect();
        let cases: &[(&[&str], &str, &str)] = &[
            (&["-t", "t"], "", "a       b  c\nlonger  x  \n"),
            (
                &["-t", "-s:"],
                "a:bb::c\ndddd:e:f\n",
                "a     bb     c\ndddd  e   f  \n",
            ),
            (&["-t", "-R", "2"], "ab cd\nx y\n", "ab  cd\nx    y\n"),
            (&["-t", "-L"], "ab cd\n\nx y\n", "ab  cd\n    \nx   y\n"),
            (
                &["-t", "-N", "A,B"],
                "aa b\nc dd\n",
                "A   B\naa  b\nc   dd\n",
            ),
            (&[], "one\ntwo three\n\nfour\n", "one\t\ttwo three\tfour\n"),
            (
                &["-x", "-c", "40"],
                &seq,
                "1\t2\t3\t4\t5\n6\t7\t8\t9\t10\n11\t12\t13\t14\t15\n16\t17\t18\t19\t20\n21\t22\t23\t24\t25\n26\t27\t28\t29\t30\n",
            ),
        ];
        for (args, stdin, want) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "column", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, 0), "{args:?} stderr={err}");
        }
        let (out, _, _) = run_cmd(&vfs, run, "column", &[], "/d", &seq);
        assert!(out.starts_with("1\t4\t7\t10\t13\t16\t19\t22\t25\t28\n"));
    }
}
