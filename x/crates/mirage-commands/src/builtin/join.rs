//! `join`: join lines of two sorted files on a common field, as GNU
//! coreutils 9.1 `join` under `LC_ALL=C.UTF-8` (byte order): `-1 -2 -j`,
//! `-t`, `-a`, `-v`, `-e`, `-o` (`auto` or a list), `-i`, `--header`,
//! `--check-order`, `--nocheck-order`, `-z`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd, quoteaf, read_input, two_operands};

const OPTS: &[OptSpec] = &[
    OptSpec::value("1", Some('1'), None),
    OptSpec::value("2", Some('2'), None),
    OptSpec::value("j", Some('j'), None),
    OptSpec::value("t", Some('t'), None),
    OptSpec::value("a", Some('a'), None),
    OptSpec::value("v", Some('v'), None),
    OptSpec::value("e", Some('e'), None),
    OptSpec::value("o", Some('o'), None),
    OptSpec::flag("ignore-case", Some('i'), Some("ignore-case")),
    OptSpec::flag("header", None, Some("header")),
    OptSpec::flag("check-order", None, Some("check-order")),
    OptSpec::flag("nocheck-order", None, Some("nocheck-order")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
];

/// The spec of `join`.
pub static SPEC: CommandSpec = CommandSpec::new("join", OPTS, PathOperands::All);

crate::register_command!("join", SPEC, run);

/// One input line split into fields (byte ranges of `text`).
struct Line<'a> {
    text: &'a [u8],
    fields: Vec<&'a [u8]>,
}

fn split<'a>(text: &'a [u8], tab: Option<u8>) -> Line<'a> {
    let fields = match tab {
        Some(t) => {
            if text.is_empty() {
                Vec::new()
            } else {
                text.split(move |&b| b == t).collect()
            }
        }
        None => {
            // GNU `xfields`: leading blanks skipped, runs of blanks
            // separate, trailing blanks leave one empty last field.
            let blank = |b: &u8| *b == b' ' || *b == b'\t';
            let start = text.iter().position(|b| !blank(b)).unwrap_or(text.len());
            let body = &text[start..];
            let mut f: Vec<&[u8]> = body.split(blank).filter(|f| !f.is_empty()).collect();
            if body.last().is_some_and(blank) {
                f.push(&body[body.len()..]);
            }
            f
        }
    };
    Line { text, fields }
}

/// An output field spec of `-o`: 0 for the join field, or (file, field).
#[derive(Clone, Copy)]
enum OutField {
    Join,
    Field(usize, usize),
}

struct Ctx<'a> {
    tab: Option<u8>,
    sep: u8,
    empty: Option<&'a str>,
    outlist: Option<Vec<OutField>>,
    auto: Option<[usize; 2]>,
    join: [usize; 2],
    ignore_case: bool,
    eol: u8,
}

impl Ctx<'_> {
    fn key<'l>(&self, l: &Line<'l>, f: usize) -> &'l [u8] {
        l.fields.get(self.join[f]).copied().unwrap_or(b"")
    }
    fn cmp(&self, a: &Line, b: &Line, fa: usize, fb: usize) -> std::cmp::Ordering {
        let (x, y) = (self.key(a, fa), self.key(b, fb));
        if self.ignore_case {
            x.iter()
                .map(u8::to_ascii_lowercase)
                .cmp(y.iter().map(u8::to_ascii_lowercase))
        } else {
            x.cmp(y)
        }
    }
    fn field(&self, out: &mut Vec<u8>, l: Option<&Line>, n: usize) {
        match l.and_then(|l| l.fields.get(n)) {
            Some(f) if !f.is_empty() => out.extend_from_slice(f),
            _ => {
                if let Some(e) = self.empty {
                    out.extend_from_slice(&mirage_types::bytestr::encode(e));
                }
            }
        }
    }
    fn fields(&self, out: &mut Vec<u8>, l: Option<&Line>, f: usize) {
        let n = match self.auto {
            Some(a) => a[f],
            None => l.map_or(0, |l| l.fields.len()),
        };
        for i in (0..n).filter(|&i| i != self.join[f]) {
            out.push(self.sep);
            self.field(out, l, i);
        }
    }
    /// GNU's `prjoin`: `None` is the blank line of an unpaired output.
    fn prjoin(&self, out: &mut Vec<u8>, l1: Option<&Line>, l2: Option<&Line>) {
        match &self.outlist {
            Some(list) => {
                for (k, o) in list.iter().enumerate() {
                    if k > 0 {
                        out.push(self.sep);
                    }
                    match *o {
                        OutField::Join => {
                            if l1.is_some() {
                                self.field(out, l1, self.join[0]);
                            } else {
                                self.field(out, l2, self.join[1]);
                            }
                        }
                        OutField::Field(0, n) => self.field(out, l1, n),
                        OutField::Field(_, n) => self.field(out, l2, n),
                    }
                }
            }
            None => {
                if l1.is_some() {
                    self.field(out, l1, self.join[0]);
                } else {
                    self.field(out, l2, self.join[1]);
                }
                self.fields(out, l1, 0);
                self.fields(out, l2, 1);
            }
        }
        out.push(self.eol);
    }
}

fn parse_field(s: &str) -> Result<usize, CmdError> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(CmdError::new(
            1,
            format!("invalid field number: {}", gnu_quote(s)),
        )),
    }
}

fn parse_outlist(s: &str) -> Result<Vec<OutField>, CmdError> {
    let mut out = Vec::new();
    for item in s.split([',', ' ', '\t']).filter(|x| !x.is_empty()) {
        if item == "0" {
            out.push(OutField::Join);
            continue;
        }
        let Some((f, n)) = item.split_once('.') else {
            return Err(CmdError::new(
                1,
                format!("invalid field specifier: {}", gnu_quote(item)),
            ));
        };
        let file = match f {
            "1" => 0,
            "2" => 1,
            _ => {
                return Err(CmdError::new(
                    1,
                    format!("invalid file number in field spec: {}", gnu_quote(item)),
                ));
            }
        };
        out.push(OutField::Field(file, parse_field(n)?));
    }
    Ok(out)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    two_operands(&p, quoteaf)?;
    let mut join = [0usize, 0usize];
    let mut print_unpaired = [false, false];
    let mut print_pairs = true;
    let mut outlist = None;
    let mut auto = false;
    let mut tab = None;
    for (k, v) in &p.opts {
        let v = v.as_deref().unwrap_or("");
        match *k {
            "1" => join[0] = parse_field(v)?,
            "2" => join[1] = parse_field(v)?,
            "j" => {
                let f = parse_field(v)?;
                join = [f, f];
            }
            "a" | "v" => {
                match v {
                    "1" => print_unpaired[0] = true,
                    "2" => print_unpaired[1] = true,
                    _ => {
                        return Err(CmdError::new(
                            1,
                            format!("invalid file number: {}", gnu_quote(v)),
                        ));
                    }
                }
                if *k == "v" {
                    print_pairs = false;
                }
            }
            "o" => {
                if v == "auto" {
                    auto = true;
                } else {
                    let mut l: Vec<OutField> = outlist.take().unwrap_or_default();
                    l.extend(parse_outlist(v)?);
                    outlist = Some(l);
                }
            }
            "t" => {
                let b = mirage_types::bytestr::encode(v).into_owned();
                tab = Some(match b.len() {
                    0 => b'\n',
                    1 => b[0],
                    _ if v == "\\0" => 0,
                    _ => {
                        return Err(CmdError::new(
                            1,
                            format!("multi-character tab {}", gnu_quote(v)),
                        ));
                    }
                });
            }
            _ => {}
        }
    }
    let check = match p.last_of(&["check-order", "nocheck-order"]) {
        Some("check-order") => Some(true),
        Some(_) => None,
        None => Some(false),
    };
    let eol = if p.has("zero") { 0u8 } else { b'\n' };
    let mut data = Vec::new();
    for f in &p.operands {
        data.push(read_input(ctx, f).await.map_err(|e| CmdError::new(1, e))?);
    }
    let lines: Vec<Vec<Line>> = data
        .iter()
        .map(|d| {
            let body = d.strip_suffix(&[eol]).unwrap_or(d);
            if d.is_empty() {
                Vec::new()
            } else {
                body.split(|&b| b == eol).map(|l| split(l, tab)).collect()
            }
        })
        .collect();
    let empty = p.value("e");
    let auto_counts = if auto {
        Some([
            lines[0].first().map_or(0, |l| l.fields.len()),
            lines[1].first().map_or(0, |l| l.fields.len()),
        ])
    } else {
        None
    };
    let c = Ctx {
        tab,
        sep: tab.unwrap_or(b' '),
        empty,
        outlist,
        auto: auto_counts,
        join,
        ignore_case: p.has("ignore-case"),
        eol,
    };
    let _ = c.tab;
    let mut out: Vec<u8> = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    if p.has("header") && (!lines[0].is_empty() || !lines[1].is_empty()) {
        c.prjoin(&mut out, lines[0].first(), lines[1].first());
        i = usize::from(!lines[0].is_empty());
        j = usize::from(!lines[1].is_empty());
    }
    let mut seen_unpairable = false;
    let mut warned = [false, false];
    let names = [p.operands[0].clone(), p.operands[1].clone()];
    let mut errors: Vec<String> = Vec::new();
    // GNU's order check when moving from line `k-1` to `k` of file `f`.
    let mut check_at = |f: usize, k: usize, seen: bool, warned: &mut [bool; 2]| -> bool {
        let Some(enabled) = check else { return false };
        if k == 0 || k >= lines[f].len() || warned[f] || !(enabled || seen) {
            return false;
        }
        if c.cmp(&lines[f][k - 1], &lines[f][k], f, f).is_gt() {
            warned[f] = true;
            errors.push(format!(
                "{}:{}: is not sorted: {}",
                names[f],
                k + 1,
                mirage_types::bytestr::decode(lines[f][k].text)
            ));
            return enabled;
        }
        false
    };
    let mut fatal = false;
    while i < lines[0].len() && j < lines[1].len() && !fatal {
        let order = c.cmp(&lines[0][i], &lines[1][j], 0, 1);
        if order.is_lt() {
            if print_unpaired[0] {
                c.prjoin(&mut out, Some(&lines[0][i]), None);
            }
            // GNU checks the next line before it marks one unpairable.
            i += 1;
            fatal = check_at(0, i, seen_unpairable, &mut warned);
            seen_unpairable = true;
            continue;
        }
        if order.is_gt() {
            if print_unpaired[1] {
                c.prjoin(&mut out, None, Some(&lines[1][j]));
            }
            j += 1;
            fatal = check_at(1, j, seen_unpairable, &mut warned);
            seen_unpairable = true;
            continue;
        }
        let mut ie = i + 1;
        while ie < lines[0].len() && c.cmp(&lines[0][i], &lines[0][ie], 0, 0).is_eq() {
            ie += 1;
        }
        let mut je = j + 1;
        while je < lines[1].len() && c.cmp(&lines[1][j], &lines[1][je], 1, 1).is_eq() {
            je += 1;
        }
        // The line after each group was read (and checked) before the
        // group is printed.
        if check_at(0, ie, seen_unpairable, &mut warned)
            || check_at(1, je, seen_unpairable, &mut warned)
        {
            fatal = true;
            break;
        }
        if print_pairs {
            for a in &lines[0][i..ie] {
                for b in &lines[1][j..je] {
                    c.prjoin(&mut out, Some(a), Some(b));
                }
            }
        }
        i = ie;
        j = je;
    }
    if !fatal {
        // GNU reads the tails to check their order (an unpaired tail line
        // does not count as unpairable for the default check).
        while (print_unpaired[0] || check.is_some()) && i < lines[0].len() && !fatal {
            if print_unpaired[0] {
                c.prjoin(&mut out, Some(&lines[0][i]), None);
            }
            i += 1;
            fatal = check_at(0, i, seen_unpairable, &mut warned);
        }
        while (print_unpaired[1] || check.is_some()) && j < lines[1].len() && !fatal {
            if print_unpaired[1] {
                c.prjoin(&mut out, None, Some(&lines[1][j]));
            }
            j += 1;
            fatal = check_at(1, j, seen_unpairable, &mut warned);
        }
    }
    ctx.stdout.write(&out).await?;
    for e in &errors {
        ctx.error(e).await;
    }
    if fatal {
        return Ok(1);
    }
    if warned[0] || warned[1] {
        ctx.error("input is not in sorted order").await;
        return Ok(1);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(&[
            ("/d/ids", "1 alice\n2 bob\n3 carol\n"),
            ("/d/sc", "1 90\n3 75\n4 60\n"),
            ("/d/ja", "k2,b\nk1,a\n"),
            ("/d/jb", "k1,x\nk3,y\n"),
        ]);
        let cases: &[(&[&str], &str, i32)] = &[
            (&["ids", "sc"], "1 alice 90\n3 carol 75\n", 0),
            (&["-a1", "ids", "sc"], "1 alice 90\n2 bob\n3 carol 75\n", 0),
            (&["-v2", "ids", "sc"], "4 60\n", 0),
            (
                &["-a1", "-e", "NA", "-o", "0,1.2,2.2", "ids", "sc"],
                "1 alice 90\n2 bob NA\n3 carol 75\n",
                0,
            ),
            (
                &["-o", "auto", "-a1", "-e", "X", "-t", ",", "ja", "jb"],
                "k2,b,X\nk1,a,X\n",
                1,
            ),
        ];
        for (args, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "join", args, "/d", "");
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
        let (_, err, st) = run_cmd(&vfs, run, "join", &["-t,", "ja", "jb"], "/d", "");
        assert_eq!(
            (&err[..], st),
            (
                "join: ja:2: is not sorted: k1,a\njoin: input is not in sorted order\n",
                1
            )
        );
    }
}
