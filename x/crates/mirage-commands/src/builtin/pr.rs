//! `pr`: paginate and columnate text, as GNU coreutils 9.1 `pr` for the
//! common forms: `-COLUMN` (filled down, or across with `-a`), `-t`/`-T`
//! (no header or trailer), `-h HEADER`, `-l LINES`, `-w WIDTH`,
//! `-s[CHAR]`, `-d`, `-n[SEP[DIGITS]]` (one column), `-o MARGIN`.
//!
//! GNU's layout: a page is `-l` lines (66): a 5-line header (two blank
//! lines, `DATE  NAME  Page N` spread over the width, two blank lines), the
//! body, and 5 blank trailer lines; the last page is padded to full length.
//! Columns are `(WIDTH - (COLUMNS-1)·|SEP|) / COLUMNS` wide; the separator is
//! a TAB without `-w` and a space with it (padding then written with tabs up
//! to tab stops, as GNU pr does); an explicit `-s CHAR` separates columns
//! with CHAR and no padding. On the last page the lines are spread so the
//! first columns hold one more. The date is the file's modification time
//! (now for stdin) as `%Y-%m-%d %H:%M` in `TZ`. `-m` (merge) and the other
//! options are refused as not supported.

use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("across", Some('a'), Some("across")),
    OptSpec::flag("double-space", Some('d'), Some("double-space")),
    OptSpec::value("header", Some('h'), Some("header")),
    OptSpec::value("length", Some('l'), Some("length")),
    OptSpec::value("width", Some('w'), Some("width")),
    OptSpec::value("page-width", Some('W'), Some("page-width")),
    OptSpec::optional("separator", Some('s'), Some("separator")),
    OptSpec::optional("number-lines", Some('n'), Some("number-lines")),
    OptSpec::value("indent", Some('o'), Some("indent")),
    OptSpec::flag("omit-header", Some('t'), Some("omit-header")),
    OptSpec::flag("omit-pagination", Some('T'), Some("omit-pagination")),
    OptSpec::value("columns", None, Some("columns")),
    OptSpec::flag("merge", Some('m'), Some("merge")),
];

/// The spec of `pr` (`-3` is `--columns=3`).
pub static SPEC: CommandSpec = CommandSpec {
    numeric_key: Some("columns"),
    ..CommandSpec::new("pr", OPTS, PathOperands::All)
};

crate::register_command!("pr", SPEC, run);

/// The settings of one run.
struct Layout {
    columns: usize,
    across: bool,
    double: bool,
    header: Option<String>,
    length: usize,
    width: usize,
    sep: Vec<u8>,
    pad: bool,
    number: Option<(u8, usize)>,
    indent: usize,
    paginate: bool,
}

const HEADER_LINES: usize = 5;

impl Layout {
    /// Body lines per page.
    fn body(&self) -> usize {
        if self.paginate && self.length > 2 * HEADER_LINES {
            self.length - 2 * HEADER_LINES
        } else {
            self.length
        }
    }

    /// The width of one column.
    fn column_width(&self) -> usize {
        let seps = (self.columns - 1) * self.sep.len();
        self.width.saturating_sub(seps) / self.columns
    }

    /// Appends `text` (already numbered) as a column cell: truncated to the
    /// column, padded unless it is the last cell of the line.
    fn cell(&self, out: &mut Vec<u8>, col: &mut usize, text: &[u8], last: bool) {
        let w = self.column_width();
        let shown = if self.columns > 1 && text.len() > w {
            &text[..w]
        } else {
            text
        };
        out.extend_from_slice(shown);
        *col += shown.len();
        if last {
            return;
        }
        let target = *col + (w - shown.len().min(w));
        if self.pad {
            // The default separator (a TAB, or a space with -w) counts one
            // column and joins the padding as white space, written with tabs
            // where they fit (GNU's print_white_space).
            pad_to(out, col, target + 1);
        } else if self.sep == b"\t" {
            out.push(b'\t');
            *col = (*col / 8 + 1) * 8;
        } else {
            out.extend_from_slice(&self.sep);
            *col += self.sep.len();
        }
    }
}

/// Pads from column `col` to `target` with tabs to tab stops, then spaces
/// (GNU pr's output tabs).
fn pad_to(out: &mut Vec<u8>, col: &mut usize, target: usize) {
    while target - *col > 1 && (*col / 8 + 1) * 8 <= target {
        out.push(b'\t');
        *col = (*col / 8 + 1) * 8;
    }
    while *col < target {
        out.push(b' ');
        *col += 1;
    }
}

/// The header line: date left, name centred, `Page N` right.
fn header_line(date: &str, name: &str, page: usize, width: usize) -> String {
    let page = format!("Page {page}");
    let used = date.len() + name.chars().count() + page.len();
    let spaces = width.saturating_sub(used);
    let left = spaces / 2;
    format!(
        "{date}{}{name}{}{page}",
        " ".repeat(left),
        " ".repeat(spaces - left)
    )
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.has("merge") {
        return Err(CmdError::new(1, "-m (merge) is not supported in mirage"));
    }
    let num = |key: &str| -> Result<Option<usize>, CmdError> {
        p.value(key)
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| CmdError::new(1, format!("invalid {key} argument '{v}'")))
            })
            .transpose()
    };
    let columns = num("columns")?.unwrap_or(1).max(1);
    let explicit_width = p.has("width") || p.has("page-width");
    let width = num("width")?.or(num("page-width")?).unwrap_or(72);
    let (sep, pad) = match p.opts.iter().rev().find(|(k, _)| *k == "separator") {
        Some((_, Some(s))) => (mirage_types::bytestr::encode(s).into_owned(), false),
        Some((_, None)) => (b"\t".to_vec(), false),
        None if columns > 1 && !explicit_width => (b"\t".to_vec(), true),
        None if columns > 1 => (b" ".to_vec(), true),
        None => (Vec::new(), false),
    };
    if p.has("number-lines") && columns > 1 {
        return Err(CmdError::new(
            1,
            "-n with more than one column is not supported in mirage",
        ));
    }
    let number = if p.has("number-lines") {
        let spec = p.value("number-lines").unwrap_or("");
        let mut chars = spec.chars();
        let (sepc, rest) = match chars.next() {
            Some(c) if !c.is_ascii_digit() => (c as u8, chars.as_str()),
            _ => (b'\t', spec),
        };
        let digits = if rest.is_empty() {
            5
        } else {
            rest.parse()
                .map_err(|_| CmdError::new(1, format!("invalid number-lines argument '{spec}'")))?
        };
        Some((sepc, digits))
    } else {
        None
    };
    let lay = Layout {
        columns,
        across: p.has("across"),
        double: p.has("double-space"),
        header: p.value("header").map(str::to_string),
        length: num("length")?.unwrap_or(66).max(1),
        width,
        sep,
        pad,
        number,
        indent: num("indent")?.unwrap_or(0),
        paginate: !(p.has("omit-header") || p.has("omit-pagination")),
    };
    let zone = Zone::from_tz(ctx.var("TZ"));
    let mut status = 0;
    for op in operands_or_stdin(&p) {
        let abs = ctx.resolve(&op);
        let secs = if op == "-" {
            None
        } else {
            ctx.vfs.stat(&abs).await.ok().and_then(|s| s.modified)
        }
        .unwrap_or_else(std::time::SystemTime::now)
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let date = strftime("%Y-%m-%d %H:%M", secs, &zone).unwrap_or_default();
        let data = match open_input_err(ctx, &op).await {
            Ok(src) => src.collect().await.map_err(CmdError::from)?,
            Err(e) => {
                ctx.error(format!("{op}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        let name = lay
            .header
            .clone()
            .unwrap_or_else(|| if op == "-" { String::new() } else { op.clone() });
        let out = paginate(&lay, &data, &date, &name);
        ctx.stdout.write(&out).await?;
    }
    Ok(status)
}

/// Lays out one file's `data` into pages.
fn paginate(lay: &Layout, data: &[u8], date: &str, name: &str) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if data.ends_with(b"\n") || data.is_empty() {
        lines.pop();
    }
    if let Some((sep, digits)) = lay.number {
        for (i, l) in lines.iter_mut().enumerate() {
            let n = (i + 1).to_string();
            let n = &n[n.len().saturating_sub(digits)..];
            let mut numbered = format!("{n:>digits$}").into_bytes();
            numbered.push(sep);
            numbered.extend_from_slice(l);
            *l = numbered;
        }
    }
    let body = lay.body();
    let rows_per_page = if lay.double { body.div_ceil(2) } else { body };
    let per_page = rows_per_page * lay.columns;
    let mut out = Vec::new();
    let mut page = 1;
    let mut start = 0;
    loop {
        let chunk = &lines[start..(start + per_page).min(lines.len())];
        if chunk.is_empty() && start > 0 {
            break;
        }
        if lay.paginate {
            out.extend_from_slice(b"\n\n");
            out.extend_from_slice(header_line(date, name, page, lay.width).as_bytes());
            out.extend_from_slice(b"\n\n\n");
        }
        let rows = if lay.columns == 1 || lay.across || chunk.len() < per_page {
            chunk.len().div_ceil(lay.columns)
        } else {
            rows_per_page
        };
        // Down mode: column c holds `rows` or `rows - 1` lines (the first
        // `extra` columns one more on a short last page).
        let mut col_start = Vec::with_capacity(lay.columns + 1);
        if !lay.across {
            let full = chunk.len() / lay.columns;
            let extra = chunk.len() % lay.columns;
            let mut s = 0;
            for c in 0..lay.columns {
                col_start.push(s);
                s += if chunk.len() == per_page {
                    rows_per_page
                } else {
                    full + usize::from(c < extra)
                };
            }
            col_start.push(s.min(chunk.len()));
        }
        let mut written = 0;
        for r in 0..rows {
            let cells: Vec<&[u8]> = (0..lay.columns)
                .filter_map(|c| {
                    if lay.across {
                        chunk.get(r * lay.columns + c).map(Vec::as_slice)
                    } else {
                        let (s, e) = (col_start[c], col_start[c + 1]);
                        (s + r < e).then(|| chunk[s + r].as_slice())
                    }
                })
                .collect();
            out.extend(std::iter::repeat_n(b' ', lay.indent));
            let mut col = lay.indent;
            for (i, cell) in cells.iter().enumerate() {
                lay.cell(&mut out, &mut col, cell, i + 1 == cells.len());
            }
            out.push(b'\n');
            written += 1;
            if lay.double {
                out.push(b'\n');
                written += 1;
            }
        }
        if lay.paginate {
            out.extend(std::iter::repeat_n(b'\n', body.saturating_sub(written)));
            out.extend(std::iter::repeat_n(b'\n', HEADER_LINES));
        }
        start += per_page;
        page += 1;
        if start >= lines.len() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(columns: usize, width: Option<usize>, sep: Option<&[u8]>) -> Layout {
        let (sep, pad) = match sep {
            Some(s) => (s.to_vec(), false),
            None if columns > 1 && width.is_none() => (b"\t".to_vec(), true),
            None if columns > 1 => (b" ".to_vec(), true),
            None => (Vec::new(), false),
        };
        Layout {
            columns,
            across: false,
            double: false,
            header: None,
            length: 66,
            width: width.unwrap_or(72),
            sep,
            pad,
            number: None,
            indent: 0,
            paginate: false,
        }
    }

    fn seq(n: usize) -> Vec<u8> {
        (1..=n)
            .map(|i| format!("{i}\n"))
            .collect::<String>()
            .into_bytes()
    }

    // Expected outputs from GNU coreutils 9.1 pr.
    #[test]
    fn columns_match_gnu() {
        let t = |l: &Layout, d: &[u8]| String::from_utf8(paginate(l, d, "", "")).unwrap();
        assert_eq!(
            t(&lay(3, None, None), &seq(6)),
            "1\t\t\t3\t\t\t5\n2\t\t\t4\t\t\t6\n"
        );
        assert_eq!(
            t(&lay(3, None, None), &seq(10)),
            "1\t\t\t5\t\t\t8\n2\t\t\t6\t\t\t9\n3\t\t\t7\t\t\t10\n4\n"
        );
        assert_eq!(t(&lay(2, None, Some(b",")), &seq(4)), "1,3\n2,4\n");
        assert_eq!(t(&lay(2, Some(20), None), &seq(5)), "1\t  4\n2\t  5\n3\n");
        let mut a = lay(3, None, None);
        a.across = true;
        assert_eq!(t(&a, &seq(7)), "1\t\t\t2\t\t\t3\n4\t\t\t5\t\t\t6\n7\n");
        assert_eq!(
            t(
                &lay(2, Some(30), None),
                b"abcdefghijklmnopqrstuvwxyz0123456789\nx\n"
            ),
            "abcdefghijklmn x\n"
        );
        assert_eq!(t(&lay(2, None, None), &seq(140)).lines().count(), 70);
    }

    #[test]
    fn header_as_gnu() {
        assert_eq!(
            header_line("2020-01-01 10:00", "prf", 1, 72),
            format!(
                "2020-01-01 10:00{}prf{}Page 1",
                " ".repeat(23),
                " ".repeat(24)
            )
        );
        let mut l = lay(1, None, None);
        l.paginate = true;
        let out = paginate(&l, b"1\n2\n3\n", "2020-01-01 10:00", "prf");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 66);
        assert!(out.starts_with(b"\n\n2020-01-01 10:00"));
    }
}
