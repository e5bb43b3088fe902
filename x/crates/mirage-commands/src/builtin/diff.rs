//! `diff`: compare files line by line, as GNU diffutils 3.8 `diff`
//! (normal, `-u`/`-U N`, `-c`/`-C N`, `-y`/`-W N`, `-q`, `-r`, `-N`,
//! `-i`, `-w`, `-b`, `-B`, `-a`, `--label`; `-` is stdin; exit 0 when the
//! inputs are the same, 1 when they differ, 2 on trouble).
//!
//! Behaviour as GNU diffutils 3.8; original code. The line matching is a
//! Myers diff from the `similar` crate over line classes, then a pass that
//! slides each run of changes to where GNU puts it (`slide_changes`,
//! written from GNU's observable output). GNU's matcher is not copied:
//! among equally short edit scripts `similar` picks another one than GNU
//! in about a third of random small inputs (every public case matches).
//! The output formats are GNU's byte for byte.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use mirage_types::args::{CommandSpec, OptSpec, ParsedArgs, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("u", Some('u'), None),
    OptSpec::optional("unified", None, Some("unified")),
    OptSpec::value("U", Some('U'), None),
    OptSpec::flag("c", Some('c'), None),
    OptSpec::optional("context", None, Some("context")),
    OptSpec::value("C", Some('C'), None),
    OptSpec::flag("normal", None, Some("normal")),
    OptSpec::flag("side-by-side", Some('y'), Some("side-by-side")),
    OptSpec::value("width", Some('W'), Some("width")),
    OptSpec::flag("suppress-common-lines", None, Some("suppress-common-lines")),
    OptSpec::flag("brief", Some('q'), Some("brief")),
    OptSpec::flag(
        "report-identical-files",
        Some('s'),
        Some("report-identical-files"),
    ),
    OptSpec::flag("recursive", Some('r'), Some("recursive")),
    OptSpec::flag("new-file", Some('N'), Some("new-file")),
    OptSpec::flag("ignore-case", Some('i'), Some("ignore-case")),
    OptSpec::flag("ignore-all-space", Some('w'), Some("ignore-all-space")),
    OptSpec::flag(
        "ignore-space-change",
        Some('b'),
        Some("ignore-space-change"),
    ),
    OptSpec::flag(
        "ignore-trailing-space",
        Some('Z'),
        Some("ignore-trailing-space"),
    ),
    OptSpec::flag("ignore-blank-lines", Some('B'), Some("ignore-blank-lines")),
    OptSpec::flag("text", Some('a'), Some("text")),
    OptSpec::value("label", None, Some("label")),
    OptSpec::optional("color", None, Some("color")),
    OptSpec::flag("minimal", Some('d'), Some("minimal")),
    OptSpec::value("exclude", Some('x'), Some("exclude")),
];

/// The spec of `diff` (usage errors exit 2).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("diff", OPTS, PathOperands::All)
};

crate::register_command!("diff", SPEC, run);

/// How the lines are compared.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Compare {
    /// `-i`: ASCII case folded.
    pub ignore_case: bool,
    /// `-w`: all white space ignored.
    pub ignore_all_space: bool,
    /// `-b`: runs of white space count as one, trailing white space ignored.
    pub ignore_space_change: bool,
    /// `-Z`: trailing white space ignored.
    pub ignore_trailing_space: bool,
    /// `-B`: changes whose lines are all blank are ignored.
    pub ignore_blank_lines: bool,
}

impl Compare {
    /// Whether lines are compared byte for byte (no ignore option).
    fn is_exact(&self) -> bool {
        !(self.ignore_case
            || self.ignore_all_space
            || self.ignore_space_change
            || self.ignore_trailing_space
            || self.ignore_blank_lines)
    }
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Normal,
    Unified(usize),
    Context(usize),
    Side { width: usize, suppress: bool },
}

/// One change of GNU's edit script: `deleted` lines of the first file from
/// `line0` replaced by `inserted` lines of the second from `line1` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    /// First changed line of the first file (0-based).
    pub line0: usize,
    /// First changed line of the second file (0-based).
    pub line1: usize,
    /// Lines deleted from the first file.
    pub deleted: usize,
    /// Lines inserted from the second file.
    pub inserted: usize,
    /// Whether the change is ignorable (`-B`: all its lines blank).
    pub ignore: bool,
}

/// Splits `data` into lines, each with its `\n` (the last may lack it).
pub(crate) fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', data) {
        out.push(&data[start..=i]);
        start = i + 1;
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r')
}

/// The comparison key of a line under `cmp` (its `\n` kept, so a last line
/// without one differs, as in GNU).
fn key(line: &[u8], cmp: &Compare) -> Vec<u8> {
    let (body, nl) = match line.strip_suffix(b"\n") {
        Some(b) => (b, true),
        None => (line, false),
    };
    let mut out = Vec::with_capacity(line.len());
    if cmp.ignore_all_space {
        out.extend(body.iter().copied().filter(|&b| !is_space(b)));
    } else if cmp.ignore_space_change {
        let mut pending = false;
        for &b in body {
            if is_space(b) {
                pending = true;
            } else {
                if pending {
                    out.push(b' ');
                }
                pending = false;
                out.push(b);
            }
        }
    } else if cmp.ignore_trailing_space {
        let end = body
            .iter()
            .rposition(|&b| !is_space(b))
            .map_or(0, |i| i + 1);
        out.extend_from_slice(&body[..end]);
    } else {
        out.extend_from_slice(body);
    }
    if cmp.ignore_case {
        out.make_ascii_lowercase();
    }
    if nl {
        out.push(b'\n');
    }
    out
}

/// Moves each run of changed lines to the place GNU diff reports it.
///
/// Among the equally short edit scripts, GNU diff prefers the one where a
/// run of changes that could sit anywhere between equal lines is first
/// joined with any neighbouring run it can reach (sliding it up, then
/// down, until it stops growing), left as low as it goes, and then lifted
/// back to the lowest spot where it faces a change of the other file (so a
/// deletion and an insertion pair up into one `c` hunk). The rules were
/// worked out from GNU diffutils 3.8's output; the code is original.
///
/// `changed[f]` holds one flag per line of file `f` with a `false` guard
/// at index 0 and at the end; `classes[f]` holds the line classes.
fn slide_changes(changed: &mut [Vec<bool>; 2], classes: &[Vec<usize>; 2]) {
    for f in 0..2 {
        // which gaps between common lines of the other file hold changes
        let other = &changed[1 - f];
        let inner = &other[1..other.len().saturating_sub(1)];
        let mut gaps = vec![false];
        for &c in inner {
            if !c {
                gaps.push(false);
            } else if let Some(g) = gaps.last_mut() {
                *g = true;
            }
        }
        let len = changed[f].len();
        let flags = &mut changed[f][1..len.saturating_sub(1)];
        slide_file(flags, &classes[f], &gaps);
    }
}

/// The runs of one file: `flags[line]`, `class[line]`, and
/// `faces[g]`: whether the other file has changes in gap `g` (before its
/// `g`th common line, counting from 0; the last gap is the end).
fn slide_file(flags: &mut [bool], class: &[usize], faces: &[bool]) {
    let n = flags.len().min(class.len());
    let faces_at = |g: usize| faces.get(g).copied().unwrap_or(false);
    // `common` counts the unchanged lines before `pos`, i.e. the gap the
    // run at `pos` sits in
    let mut pos = 0;
    let mut common = 0;
    loop {
        while pos < n && !flags[pos] {
            pos += 1;
            common += 1;
        }
        if pos == n {
            break;
        }
        // the run is lines top..bottom (bottom excluded)
        let mut top = pos;
        let mut bottom = pos;
        while bottom < n && flags[bottom] {
            bottom += 1;
        }
        let mut home;
        loop {
            let size = bottom - top;
            // up: the line above equals the run's last line
            while top > 0 && class[top - 1] == class[bottom - 1] {
                top -= 1;
                bottom -= 1;
                flags[top] = true;
                flags[bottom] = false;
                common -= 1;
                while top > 0 && flags[top - 1] {
                    top -= 1;
                }
            }
            home = faces_at(common).then_some(bottom);
            // down: the line below equals the run's first line
            while bottom < n && class[top] == class[bottom] {
                flags[top] = false;
                flags[bottom] = true;
                top += 1;
                bottom += 1;
                common += 1;
                while bottom < n && flags[bottom] {
                    bottom += 1;
                }
                if faces_at(common) {
                    home = Some(bottom);
                }
            }
            if bottom - top == size {
                break;
            }
        }
        // back up to the last spot facing a change of the other file
        if let Some(home) = home {
            while home < bottom {
                top -= 1;
                bottom -= 1;
                flags[top] = true;
                flags[bottom] = false;
                common -= 1;
            }
        }
        pos = bottom;
    }
}

/// Marks the changed lines of `region` (line classes of the two files;
/// `changed[f][line + 1]`, with a sentinel at each end) from a Myers diff
/// computed by the `similar` crate. Among equally short edit scripts it
/// may pick another one than GNU diff's own matcher (`analyze.c`), which
/// Mirage does not copy; `slide_changes` then moves the changes to
/// GNU's places.
fn mark_changes(region: [&[usize]; 2], changed: &mut [Vec<bool>; 2]) {
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, region[0], region[1]);
    for op in ops {
        let (old, new) = match op {
            similar::DiffOp::Equal { .. } => continue,
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => (old_index..old_index + old_len, 0..0),
            similar::DiffOp::Insert {
                new_index, new_len, ..
            } => (0..0, new_index..new_index + new_len),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        for i in old {
            changed[0][i + 1] = true;
        }
        for i in new {
            changed[1][i + 1] = true;
        }
    }
}

/// GNU's edit script between two lists of lines.
/// `horizon` is GNU's `horizon_lines`: the context of `-u`/`-c`, else 0.
pub(crate) fn diff_lines(a: &[&[u8]], b: &[&[u8]], cmp: &Compare, horizon: usize) -> Vec<Change> {
    let mut classes: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut class = |l: &[u8]| {
        let k = key(l, cmp);
        let n = classes.len() + 1;
        *classes.entry(k).or_insert(n)
    };
    let eq0: Vec<usize> = a.iter().map(|l| class(l)).collect();
    let eq1: Vec<usize> = b.iter().map(|l| class(l)).collect();
    let (n0, n1) = (a.len(), b.len());
    // GNU leaves the identical prefix and suffix out of the analysis,
    // but for `horizon` lines next to the differences.
    // (GNU's `find_identical_ends` compares bytes, whatever -i/-w/-b say.)
    let mut pre = 0;
    while pre < n0 && pre < n1 && a[pre] == b[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < n0 - pre && suf < n1 - pre && a[n0 - 1 - suf] == b[n1 - 1 - suf] {
        suf += 1;
    }
    let pre = pre - pre.min(horizon);
    let suf = suf - suf.min(horizon);
    let region = [&eq0[pre..n0 - suf], &eq1[pre..n1 - suf]];
    let mut sub = [
        vec![false; region[0].len() + 2],
        vec![false; region[1].len() + 2],
    ];
    mark_changes(region, &mut sub);
    let equivs = [region[0].to_vec(), region[1].to_vec()];
    slide_changes(&mut sub, &equivs);
    let mut changed = [vec![false; n0 + 2], vec![false; n1 + 2]];
    for f in 0..2 {
        for (i, &c) in sub[f][1..sub[f].len() - 1].iter().enumerate() {
            changed[f][pre + i + 1] = c;
        }
    }
    let mut out = Vec::new();
    let (mut i0, mut i1) = (0, 0);
    while i0 < n0 || i1 < n1 {
        if changed[0][i0 + 1] || changed[1][i1 + 1] {
            let (l0, l1) = (i0, i1);
            while changed[0][i0 + 1] {
                i0 += 1;
            }
            while changed[1][i1 + 1] {
                i1 += 1;
            }
            out.push(Change {
                line0: l0,
                line1: l1,
                deleted: i0 - l0,
                inserted: i1 - l1,
                ignore: false,
            });
        } else {
            i0 += 1;
            i1 += 1;
        }
    }
    if cmp.ignore_blank_lines {
        // GNU's `analyze_hunk`: blank is empty, or white space only when
        // white space is ignored too.
        let ws = cmp.ignore_all_space || cmp.ignore_space_change || cmp.ignore_trailing_space;
        let blank = |l: &[u8]| {
            let body = l.strip_suffix(b"\n").unwrap_or(l);
            body.is_empty() || (ws && body.iter().all(|&c| is_space(c)))
        };
        for c in &mut out {
            c.ignore = a[c.line0..c.line0 + c.deleted].iter().all(|l| blank(l))
                && b[c.line1..c.line1 + c.inserted].iter().all(|l| blank(l));
        }
    }
    out
}

/// Writes `line` after `prefix`, with GNU's `\ No newline at end of file`
/// when it lacks its `\n`.
fn put_line(out: &mut Vec<u8>, prefix: &[u8], line: &[u8]) {
    out.extend_from_slice(prefix);
    out.extend_from_slice(line);
    if !line.ends_with(b"\n") {
        out.extend_from_slice(b"\n\\ No newline at end of file\n");
    }
}

/// `a,b` for lines `a..=b` (1-based), or one number when they are one
/// line or none (GNU's `print_number_range`).
fn range(first: usize, last: usize) -> String {
    if last > first {
        format!("{first},{last}")
    } else {
        format!("{last}")
    }
}

/// The normal format of `changes`.
fn normal(out: &mut Vec<u8>, a: &[&[u8]], b: &[&[u8]], changes: &[Change]) {
    for c in changes.iter().filter(|c| !c.ignore) {
        let r0 = range(c.line0 + 1, c.line0 + c.deleted);
        let r1 = range(c.line1 + 1, c.line1 + c.inserted);
        let op = match (c.deleted, c.inserted) {
            (0, _) => 'a',
            (_, 0) => 'd',
            _ => 'c',
        };
        out.extend_from_slice(format!("{r0}{op}{r1}\n").as_bytes());
        for l in &a[c.line0..c.line0 + c.deleted] {
            put_line(out, b"< ", l);
        }
        if op == 'c' {
            out.extend_from_slice(b"---\n");
        }
        for l in &b[c.line1..c.line1 + c.inserted] {
            put_line(out, b"> ", l);
        }
    }
}

/// Groups `changes` into hunks: a change joins the previous one when the
/// unchanged lines between them are fewer than `2 * context + 1` (fewer
/// than `context` for a change that `-B` ignores); a hunk made only of
/// ignored changes is dropped. Behaviour as GNU diff 3.8.
fn hunks(changes: &[Change], context: usize) -> Vec<&[Change]> {
    let mut out = Vec::new();
    let mut rest = changes;
    while !rest.is_empty() {
        let mut len = 1;
        while let Some(next) = rest.get(len) {
            let prev = &rest[len - 1];
            let gap = next.line0 - (prev.line0 + prev.deleted);
            let limit = if next.ignore {
                context
            } else {
                2 * context + 1
            };
            if gap >= limit {
                break;
            }
            len += 1;
        }
        let (hunk, tail) = rest.split_at(len);
        if hunk.iter().any(|c| !c.ignore) {
            out.push(hunk);
        }
        rest = tail;
    }
    out
}

/// The unified format's `-a,b` number range (GNU's `print_unidiff_number_range`).
fn uni_range(first: usize, count: usize) -> String {
    match count {
        0 => format!("{first},0"),
        1 => format!("{}", first + 1),
        _ => format!("{},{count}", first + 1),
    }
}

/// The unified format of `changes` (headers excluded).
fn unified(out: &mut Vec<u8>, a: &[&[u8]], b: &[&[u8]], changes: &[Change], context: usize) {
    for h in hunks(changes, context) {
        let (f, l) = (h[0], h[h.len() - 1]);
        let first0 = f.line0.saturating_sub(context);
        let first1 = f.line1.saturating_sub(context);
        let last0 = (l.line0 + l.deleted + context).min(a.len());
        let last1 = (l.line1 + l.inserted + context).min(b.len());
        out.extend_from_slice(
            format!(
                "@@ -{} +{} @@\n",
                uni_range(first0, last0 - first0),
                uni_range(first1, last1 - first1)
            )
            .as_bytes(),
        );
        let mut i = first0;
        for c in h {
            while i < c.line0 {
                put_line(out, b" ", a[i]);
                i += 1;
            }
            for x in &a[c.line0..c.line0 + c.deleted] {
                put_line(out, b"-", x);
            }
            for x in &b[c.line1..c.line1 + c.inserted] {
                put_line(out, b"+", x);
            }
            i = c.line0 + c.deleted;
        }
        while i < last0 {
            put_line(out, b" ", a[i]);
            i += 1;
        }
    }
}

/// The context format of `changes` (headers excluded).
fn context_fmt(out: &mut Vec<u8>, a: &[&[u8]], b: &[&[u8]], changes: &[Change], context: usize) {
    for h in hunks(changes, context) {
        let (f, l) = (h[0], h[h.len() - 1]);
        let first0 = f.line0.saturating_sub(context);
        let first1 = f.line1.saturating_sub(context);
        let last0 = (l.line0 + l.deleted + context).min(a.len());
        let last1 = (l.line1 + l.inserted + context).min(b.len());
        out.extend_from_slice(b"***************\n");
        out.extend_from_slice(format!("*** {} ****\n", range(first0 + 1, last0)).as_bytes());
        if h.iter().any(|c| c.deleted > 0) {
            let mut i = first0;
            for c in h {
                while i < c.line0 {
                    put_line(out, b"  ", a[i]);
                    i += 1;
                }
                let mark: &[u8] = if c.inserted > 0 { b"! " } else { b"- " };
                for x in &a[c.line0..c.line0 + c.deleted] {
                    put_line(out, mark, x);
                }
                i = c.line0 + c.deleted;
            }
            while i < last0 {
                put_line(out, b"  ", a[i]);
                i += 1;
            }
        }
        out.extend_from_slice(format!("--- {} ----\n", range(first1 + 1, last1)).as_bytes());
        if h.iter().any(|c| c.inserted > 0) {
            let mut i = first1;
            for c in h {
                while i < c.line1 {
                    put_line(out, b"  ", b[i]);
                    i += 1;
                }
                let mark: &[u8] = if c.deleted > 0 { b"! " } else { b"+ " };
                for x in &b[c.line1..c.line1 + c.inserted] {
                    put_line(out, mark, x);
                }
                i = c.line1 + c.inserted;
            }
            while i < last1 {
                put_line(out, b"  ", b[i]);
                i += 1;
            }
        }
    }
}

/// Pads from column `from` to column `to` as `diff -y` does: a tab to
/// each tab stop (every 8 columns) that is not past `to`, then spaces.
/// Returns `to`.
fn pad_columns(out: &mut Vec<u8>, from: usize, to: usize) -> usize {
    let mut col = from;
    loop {
        let stop = (col / 8 + 1) * 8;
        if stop > to {
            break;
        }
        out.push(b'\t');
        col = stop;
    }
    out.resize(out.len() + to.saturating_sub(col), b' ');
    to
}

/// One element of a line, as the side-by-side format lays it out.
enum Piece<'a> {
    Tab,
    Return,
    /// A character and its width in columns (controls take none).
    Glyph(&'a [u8], usize),
    /// A byte that starts no valid UTF-8 character: shown, no column.
    Stray(u8),
}

/// The piece at the start of `rest` (not empty, not a newline).
fn piece(rest: &[u8]) -> Piece<'_> {
    let lead = rest[0];
    let len = match lead {
        b'\t' => return Piece::Tab,
        b'\r' => return Piece::Return,
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Piece::Stray(lead),
    };
    let Some(ch) = rest
        .get(..len)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.chars().next())
    else {
        return Piece::Stray(lead);
    };
    let width = match lead {
        0x20..=0x7e => 1,
        _ => unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0),
    };
    Piece::Glyph(&rest[..len], width)
}

/// Writes one half of a `diff -y` line: `line` up to its newline, kept to
/// `bound` columns (counted from the half's start; a character that would
/// end past it is left out, and a tab is written only while nothing was
/// left out and its stop is before the bound). Returns the column the
/// output reached. A carriage return goes back to the half's start:
/// `indent` columns of padding follow it. Behaviour as GNU diff 3.8 `-y`.
fn half_line(out: &mut Vec<u8>, line: &[u8], bound: usize, indent: usize) -> usize {
    // `logical`: the column had the whole line been printed
    let (mut logical, mut written) = (0usize, 0usize);
    let mut rest = line;
    while let Some(&first) = rest.first() {
        if first == b'\n' {
            break;
        }
        let p = piece(rest);
        let used = match p {
            Piece::Tab => {
                let stop = (logical / 8 + 1) * 8;
                if written == logical && stop < bound {
                    out.push(b'\t');
                    written = stop;
                }
                logical = stop;
                1
            }
            Piece::Return => {
                out.push(b'\r');
                pad_columns(out, 0, indent);
                logical = 0;
                written = 0;
                1
            }
            Piece::Glyph(bytes, width) => {
                logical += width;
                if logical <= bound {
                    out.extend_from_slice(bytes);
                    written = logical;
                }
                bytes.len()
            }
            Piece::Stray(b) => {
                if logical < bound {
                    out.push(b);
                }
                1
            }
        };
        rest = &rest[used..];
    }
    written
}

/// The side-by-side format (GNU `-y`).
fn side(
    out: &mut Vec<u8>,
    a: &[&[u8]],
    b: &[&[u8]],
    changes: &[Change],
    width: usize,
    suppress: bool,
) {
    let off = (width + 8 + 3) / 16 * 8;
    let hw = (off.saturating_sub(3)).min(width.saturating_sub(off));
    let c2o = if hw > 0 { off } else { width };
    let line = |out: &mut Vec<u8>, left: Option<&[u8]>, sep: u8, right: Option<&[u8]>| {
        let mut col = 0;
        let mut nl = false;
        if let Some(l) = left {
            nl |= l.ends_with(b"\n");
            col = half_line(out, l, hw, 0);
        }
        if sep != b' ' {
            col = pad_columns(out, col, (hw + c2o - 1) / 2) + 1;
            let rnl = right.is_some_and(|r| r.ends_with(b"\n"));
            out.push(match sep {
                b'|' if nl != rnl && nl => b'/',
                b'|' if nl != rnl => b'\\',
                s => s,
            });
        }
        if let Some(r) = right {
            nl |= r.ends_with(b"\n");
            if r != b"\n" {
                pad_columns(out, col, c2o);
                half_line(out, r, hw, c2o);
            }
        }
        if nl {
            out.push(b'\n');
        }
    };
    let mut i0 = 0;
    let mut i1 = 0;
    let mut all: Vec<Change> = changes.to_vec();
    all.push(Change {
        line0: a.len(),
        line1: b.len(),
        deleted: 0,
        inserted: 0,
        ignore: false,
    });
    for c in all {
        while i0 < c.line0 && i1 < c.line1 {
            if !suppress {
                line(out, Some(a[i0]), b' ', Some(b[i1]));
            }
            i0 += 1;
            i1 += 1;
        }
        let pairs = c.deleted.min(c.inserted);
        for k in 0..pairs {
            line(out, Some(a[c.line0 + k]), b'|', Some(b[c.line1 + k]));
        }
        for k in pairs..c.deleted {
            line(out, Some(a[c.line0 + k]), b'<', None);
        }
        for k in pairs..c.inserted {
            line(out, None, b'>', Some(b[c.line1 + k]));
        }
        i0 = c.line0 + c.deleted;
        i1 = c.line1 + c.inserted;
    }
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A file time as GNU diff shows it in `-u`/`-c` headers (UTC):
/// `2024-01-02 03:04:05.000000000 +0000`.
fn header_time(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => (-(e.duration().as_secs() as i64), 0),
    };
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}.{nanos:09} +0000",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The options of one run.
struct Opts {
    format: Format,
    brief: bool,
    report_identical: bool,
    recursive: bool,
    new_file: bool,
    text: bool,
    cmp: Compare,
    labels: Vec<String>,
    /// `-x PAT`: base names left out of directory comparisons.
    exclude: Vec<globset::GlobMatcher>,
    /// The options as typed, for `diff -r` headers (`diff -ru a/f b/f`).
    switches: String,
}

/// `s` quoted as GNU's shell quoting style quotes an argument.
fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "%+,-./:@_^".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn parse_count(v: &str) -> Result<usize, CmdError> {
    v.parse::<usize>()
        .map_err(|_| CmdError::new(2, format!("invalid context length '{v}'")))
}

fn opts(p: &ParsedArgs, args: &[String]) -> Result<Opts, CmdError> {
    let mut format = Format::Normal;
    for (k, v) in &p.opts {
        format = match (*k, v.as_deref()) {
            ("u", _) | ("unified", None) => Format::Unified(3),
            ("unified" | "U", Some(n)) => Format::Unified(parse_count(n)?),
            ("c", _) | ("context", None) => Format::Context(3),
            ("context" | "C", Some(n)) => Format::Context(parse_count(n)?),
            ("normal", _) => Format::Normal,
            ("side-by-side", _) => Format::Side {
                width: 130,
                suppress: false,
            },
            _ => continue,
        };
    }
    if let Format::Side { width, suppress } = &mut format {
        if let Some(w) = p.value("width") {
            *width = w
                .parse()
                .map_err(|_| CmdError::new(2, format!("invalid width '{w}'")))?;
        }
        *suppress = p.has("suppress-common-lines");
    }
    // GNU prints the option words as typed (values included), each
    // quoted for the shell when needed: `diff -r -x '*.o' a/f b/f`.
    let mut switches = String::new();
    let mut want_value = false;
    for a in args {
        if want_value {
            want_value = false;
        } else if a == "--" {
            break;
        } else if let Some(long) = a.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or("");
            want_value = !long.contains('=')
                && OPTS.iter().any(|o| {
                    o.long.is_some_and(|l| l.starts_with(name))
                        && o.arity == mirage_types::args::Arity::Required
                });
        } else if a.len() > 1 && a.starts_with('-') {
            // A cluster ends with a value option's letter: the value follows.
            let mut it = a[1..].chars();
            while let Some(c) = it.next() {
                let takes = OPTS
                    .iter()
                    .any(|o| o.short == Some(c) && o.arity == mirage_types::args::Arity::Required);
                if takes {
                    want_value = it.as_str().is_empty();
                    break;
                }
            }
        } else {
            continue;
        }
        switches.push(' ');
        switches.push_str(&shell_quote(a));
    }
    Ok(Opts {
        format,
        brief: p.has("brief"),
        report_identical: p.has("report-identical-files"),
        recursive: p.has("recursive"),
        new_file: p.has("new-file"),
        text: p.has("text"),
        cmp: Compare {
            ignore_case: p.has("ignore-case"),
            ignore_all_space: p.has("ignore-all-space"),
            ignore_space_change: p.has("ignore-space-change"),
            ignore_trailing_space: p.has("ignore-trailing-space"),
            ignore_blank_lines: p.has("ignore-blank-lines"),
        },
        labels: p.values("label").into_iter().map(String::from).collect(),
        exclude: p
            .values("exclude")
            .into_iter()
            .filter_map(|pat| {
                globset::GlobBuilder::new(pat)
                    .literal_separator(false)
                    .backslash_escape(true)
                    .build()
                    .or_else(|_| globset::Glob::new(&globset::escape(pat)))
                    .ok()
                    .map(|g| g.compile_matcher())
            })
            .collect(),
        switches,
    })
}

/// One side of a comparison: what it is called and its contents (`None`:
/// absent, read as empty under `-N`).
struct Side {
    name: String,
    data: Option<Vec<u8>>,
    time: Option<SystemTime>,
}

/// What `stat` says about an operand.
enum Kind {
    File(Option<SystemTime>),
    Dir,
    Missing(String),
}

fn kind(ctx: &CommandCtx, name: &str) -> futures::future::BoxFuture<'static, Kind> {
    let vfs = ctx.vfs.clone();
    let abs = ctx.resolve(name);
    let stdin = name == "-";
    Box::pin(async move { kind_of(vfs, abs, stdin).await })
}

async fn kind_of(vfs: std::sync::Arc<dyn mirage_types::Vfs>, abs: String, stdin: bool) -> Kind {
    if stdin {
        return Kind::File(None);
    }
    match vfs.stat(&abs).await {
        Ok(st) if st.is_dir() => Kind::Dir,
        Ok(st) => Kind::File(st.modified),
        Err(e) => Kind::Missing(e.message().to_string()),
    }
}

async fn read_all(ctx: &mut CommandCtx, name: &str) -> Result<Vec<u8>, String> {
    crate::util::read_input(ctx, name).await.map(|b| b.to_vec())
}

/// The end of a comparison that found no difference: `-s` says so.
async fn identical(ctx: &mut CommandCtx, o: &Opts, a: &str, b: &str) -> i32 {
    if o.report_identical {
        let _ = ctx
            .stdout
            .write_str(&format!("Files {a} and {b} are identical\n"))
            .await;
    }
    0
}

/// Compares two files and writes the result; returns 0, 1 or 2.
async fn diff_files(ctx: &mut CommandCtx, o: &Opts, mut a: Side, mut b: Side, header: bool) -> i32 {
    let da = a.data.take().unwrap_or_default();
    let db = b.data.take().unwrap_or_default();
    let mut out = Vec::new();
    let same_bytes = da == db;
    let binary = !o.text && (memchr::memchr(0, &da).is_some() || memchr::memchr(0, &db).is_some());
    let side_by_side = matches!(o.format, Format::Side { .. });
    if same_bytes && !side_by_side {
        return identical(ctx, o, &a.name, &b.name).await;
    }
    if !same_bytes && (binary || (o.brief && o.cmp.is_exact())) {
        // `-q` without ignore options compares bytes, as GNU does.
        let what = if o.brief { "Files" } else { "Binary files" };
        let _ = ctx
            .stdout
            .write_str(&format!("{what} {} and {} differ\n", a.name, b.name))
            .await;
        return 1;
    }
    let la = split_lines(&da);
    let lb = split_lines(&db);
    let horizon = match o.format {
        Format::Unified(n) | Format::Context(n) => n,
        _ => 0,
    };
    let changes = diff_lines(&la, &lb, &o.cmp, horizon);
    let differ = changes.iter().any(|c| !c.ignore);
    if !differ && !side_by_side {
        return identical(ctx, o, &a.name, &b.name).await;
    }
    if o.brief {
        let _ = ctx
            .stdout
            .write_str(&format!("Files {} and {} differ\n", a.name, b.name))
            .await;
        return 1;
    }
    if header {
        out.extend_from_slice(format!("diff{} {} {}\n", o.switches, a.name, b.name).as_bytes());
    }
    let label = |i: usize, s: &Side| -> String {
        match o.labels.get(i) {
            Some(l) => l.clone(),
            None => format!(
                "{}\t{}",
                s.name,
                header_time(s.time.unwrap_or_else(SystemTime::now))
            ),
        }
    };
    match o.format {
        Format::Normal => normal(&mut out, &la, &lb, &changes),
        Format::Unified(n) => {
            out.extend_from_slice(
                format!("--- {}\n+++ {}\n", label(0, &a), label(1, &b)).as_bytes(),
            );
            unified(&mut out, &la, &lb, &changes, n);
        }
        Format::Context(n) => {
            out.extend_from_slice(
                format!("*** {}\n--- {}\n", label(0, &a), label(1, &b)).as_bytes(),
            );
            context_fmt(&mut out, &la, &lb, &changes, n);
        }
        Format::Side { width, suppress } => side(&mut out, &la, &lb, &changes, width, suppress),
    }
    let _ = ctx.stdout.write(&out).await;
    i32::from(differ)
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn list_dir(
    ctx: &CommandCtx,
    dir: &str,
) -> futures::future::BoxFuture<'static, Result<Vec<String>, String>> {
    let vfs = ctx.vfs.clone();
    let abs = ctx.resolve(dir);
    let dir = dir.to_string();
    Box::pin(async move { list_abs(vfs, abs, dir).await })
}

async fn list_abs(
    vfs: std::sync::Arc<dyn mirage_types::Vfs>,
    abs: String,
    dir: String,
) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = vfs
        .readdir(&abs)
        .await
        .map_err(|e| format!("{dir}: {}", e.message()))?
        .into_iter()
        .map(|s| s.name.rsplit('/').next().unwrap_or_default().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    Ok(names)
}

/// Compares two operands (files or directories); returns 0, 1 or 2.
fn compare<'a>(
    ctx: &'a mut CommandCtx,
    o: &'a Opts,
    a: String,
    b: String,
    top: bool,
    header: bool,
) -> futures::future::BoxFuture<'a, i32> {
    Box::pin(async move {
        let (ka, kb) = (kind(ctx, &a).await, kind(ctx, &b).await);
        match (ka, kb) {
            (ka @ (Kind::Dir | Kind::Missing(_)), kb @ (Kind::Dir | Kind::Missing(_)))
                if matches!((&ka, &kb), (Kind::Dir, Kind::Dir))
                    || (o.new_file
                        && !top
                        && (matches!(ka, Kind::Dir) || matches!(kb, Kind::Dir))) =>
            {
                // Under -N a directory on one side only is compared with
                // an empty one.
                let mut lists = Vec::new();
                for (name, k) in [(&a, &ka), (&b, &kb)] {
                    if !matches!(k, Kind::Dir) {
                        lists.push(Vec::new());
                        continue;
                    }
                    match list_dir(ctx, name).await {
                        Ok(l) => lists.push(l),
                        Err(e) => {
                            ctx.error(e).await;
                            return 2;
                        }
                    }
                }
                let (Some(lb), Some(la)) = (lists.pop(), lists.pop()) else {
                    return 2;
                };
                let mut names: Vec<&String> = la
                    .iter()
                    .chain(lb.iter())
                    .filter(|n| !o.exclude.iter().any(|g| g.is_match(n.as_str())))
                    .collect();
                names.sort();
                names.dedup();
                let mut status = 0;
                for n in names {
                    let (pa, pb) = (join(&a, n), join(&b, n));
                    let (ina, inb) = (la.contains(n), lb.contains(n));
                    let s = if ina && inb {
                        let (da, db) = (kind(ctx, &pa).await, kind(ctx, &pb).await);
                        match (da, db) {
                            (Kind::Dir, Kind::Dir) if !o.recursive => {
                                let _ = ctx
                                    .stdout
                                    .write_str(&format!("Common subdirectories: {pa} and {pb}\n"))
                                    .await;
                                0
                            }
                            (Kind::Dir, Kind::File(_)) => {
                                let _ = ctx
                                    .stdout
                                    .write_str(&format!(
                                        "File {pa} is a directory while file {pb} is a regular file\n"
                                    ))
                                    .await;
                                1
                            }
                            (Kind::File(_), Kind::Dir) => {
                                let _ = ctx
                                    .stdout
                                    .write_str(&format!(
                                        "File {pa} is a regular file while file {pb} is a directory\n"
                                    ))
                                    .await;
                                1
                            }
                            _ => compare(ctx, o, pa, pb, false, true).await,
                        }
                    } else if o.new_file {
                        compare(ctx, o, pa, pb, false, true).await
                    } else {
                        let d = if ina { &a } else { &b };
                        let _ = ctx.stdout.write_str(&format!("Only in {d}: {n}\n")).await;
                        1
                    };
                    status = status.max(s);
                }
                status
            }
            (Kind::Dir, Kind::File(_)) if top => {
                let base = b.rsplit('/').next().unwrap_or_default().to_string();
                compare(ctx, o, join(&a, &base), b, false, false).await
            }
            (Kind::File(_), Kind::Dir) if top => {
                let base = a.rsplit('/').next().unwrap_or_default().to_string();
                let nb = join(&b, &base);
                compare(ctx, o, a, nb, false, false).await
            }
            (ka, kb) => {
                let mut sides = Vec::new();
                for (name, k) in [(a, ka), (b, kb)] {
                    let side = match k {
                        Kind::File(t) => match read_all(ctx, &name).await {
                            Ok(d) => Side {
                                name,
                                data: Some(d),
                                time: t,
                            },
                            Err(e) => {
                                ctx.error(e).await;
                                return 2;
                            }
                        },
                        Kind::Missing(_) if o.new_file => Side {
                            name,
                            data: None,
                            time: Some(UNIX_EPOCH),
                        },
                        Kind::Missing(msg) => {
                            ctx.error(format!("{name}: {msg}")).await;
                            return 2;
                        }
                        Kind::Dir => {
                            ctx.error(format!("{name}: Is a directory")).await;
                            return 2;
                        }
                    };
                    sides.push(side);
                }
                let (Some(sb), Some(sa)) = (sides.pop(), sides.pop()) else {
                    return 2;
                };
                diff_files(ctx, o, sa, sb, header && !o.brief).await
            }
        }
    })
}

/// A usage error worded as diff words it (`diff: Try 'diff --help' …`).
async fn usage(ctx: &mut CommandCtx, msg: &str) -> i32 {
    ctx.error(msg).await;
    ctx.error("Try 'diff --help' for more information.").await;
    2
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = match parse_cmd(ctx, &SPEC) {
        Ok(p) => p,
        Err(e) => return Ok(usage(ctx, e.message.as_deref().unwrap_or("")).await),
    };
    let o = opts(&p, &ctx.args.clone())?;
    match p.operands.len() {
        0 => {
            return Ok(usage(ctx, "missing operand after 'diff'").await);
        }
        1 => {
            let m = format!("missing operand after '{}'", p.operands[0]);
            return Ok(usage(ctx, &m).await);
        }
        2 => {}
        _ => {
            let m = format!("extra operand '{}'", p.operands[2]);
            return Ok(usage(ctx, &m).await);
        }
    }
    let (a, b) = (p.operands[0].clone(), p.operands[1].clone());
    if a == "-" && b == "-" {
        // The same stream on both sides (GNU compares it with itself).
        return Ok(0);
    }
    let status = compare(ctx, &o, a, b, true, false).await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> String {
        let (la, lb) = (split_lines(a.as_bytes()), split_lines(b.as_bytes()));
        let ch = diff_lines(&la, &lb, &Compare::default(), 0);
        let mut out = Vec::new();
        normal(&mut out, &la, &lb, &ch);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn gnu_normal_and_shifted_boundaries() {
        assert_eq!(d("1\n2\n3\n", "1\n2\n3\n4\n5\n"), "3a4,5\n> 4\n> 5\n");
        // GNU slides an ambiguous insertion to the end: `a\nb\n` + `a\nb\n`.
        assert_eq!(d("a\nb\n", "a\nb\na\nb\n"), "2a3,4\n> a\n> b\n");
        assert_eq!(
            d("x\n", "x"),
            "1c1\n< x\n---\n> x\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn runs_slide_down_then_back_to_a_facing_change() {
        // `a b a b c` deleting the first `a b`: the run ends up as low as
        // it goes (GNU prints `3,4d2`)
        let mut flags = [true, true, false, false, false];
        slide_file(&mut flags, &[1, 2, 1, 2, 3], &[false; 4]);
        assert_eq!(flags, [false, false, true, true, false]);
        // `a a b` deleting one `a`: it stays low unless the other file
        // changed in the gap before the first common line
        let mut flags = [true, false, false];
        slide_file(&mut flags, &[1, 1, 2], &[false, true, false]);
        assert_eq!(flags, [false, true, false]);
        let mut flags = [true, false, false];
        slide_file(&mut flags, &[1, 1, 2], &[true, false, false]);
        assert_eq!(flags, [true, false, false]);
        assert_eq!(d("a\nb\na\nb\nc\n", "a\nb\nc\n"), "3,4d2\n< a\n< b\n");
        assert_eq!(
            d("a\nb\nx\n", "a\nb\na\nb\ny\n"),
            "3c3,5\n< x\n---\n> a\n> b\n> y\n"
        );
    }

    #[test]
    fn side_by_side_halves() {
        let mut out = Vec::new();
        assert_eq!(pad_columns(&mut out, 3, 17), 17);
        assert_eq!(out, b"\t\t ");
        // a wide character that would cross the bound is left out, and
        // so is every tab after it
        let mut out = Vec::new();
        assert_eq!(half_line(&mut out, "ab\u{4e2d}\tc\n".as_bytes(), 3, 0), 2);
        assert_eq!(out, b"ab");
        let mut out = Vec::new();
        assert_eq!(half_line(&mut out, b"a\tb\xffc\n", 20, 0), 10);
        assert_eq!(out, b"a\tb\xffc");
    }

    #[test]
    fn header_times_are_utc() {
        let t = UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 5);
        assert_eq!(header_time(t), "2023-11-14 22:13:20.000000005 +0000");
    }
}
