//! `csplit`: split a file by context, as GNU coreutils 9.1 `csplit`
//! (`LINE`, `/REGEX/[OFFSET]`, `%REGEX%[OFFSET]`, `{N}`, `{*}`; `-f PREFIX`,
//! `-n DIGITS`, `-b FORMAT`, `-s`/`-q`, `-k`, `-z`). Each file's size in
//! bytes is printed unless `-s`. On an error (`‘/x/’: match not found`,
//! `‘12’: line number out of range`, `… on repetition N`) the rest of the
//! input is still written as GNU writes it, then every file made is removed
//! unless `-k`, and the status is 1.
//!
//! A regex search starts after the line the previous one matched (or at
//! the line a line-number split gave), as GNU's does. The input is read
//! whole: a pattern may look any distance ahead.

use bytes::Bytes;
use mirage_regex::{Options, PosixRegex, Syntax};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, bytestr};

use crate::util::{gnu_quote, parse_cmd, read_input};

const OPTS: &[OptSpec] = &[
    OptSpec::value("prefix", Some('f'), Some("prefix")),
    OptSpec::value("digits", Some('n'), Some("digits")),
    OptSpec::value("suffix-format", Some('b'), Some("suffix-format")),
    OptSpec::flag("keep-files", Some('k'), Some("keep-files")),
    OptSpec::flag("quiet", Some('s'), Some("quiet")),
    OptSpec::flag("silent", Some('q'), Some("silent")),
    OptSpec::flag("elide-empty-files", Some('z'), Some("elide-empty-files")),
    OptSpec::flag("suppress-matched", None, Some("suppress-matched")),
];

/// The spec of `csplit`: the first operand is the file (dispatch looks
/// at the first path operand only).
pub static SPEC: CommandSpec = CommandSpec::new("csplit", OPTS, PathOperands::All);

crate::register_command!("csplit", SPEC, run, true);

/// What a pattern does.
enum Kind {
    /// Split before this line.
    Line(usize),
    /// Split at the first match (plus the offset); `skip` drops the piece.
    Regex {
        re: PosixRegex,
        offset: i64,
        skip: bool,
    },
}

/// One pattern with its repeat count (`None` is `{*}`).
struct Pat {
    text: String,
    kind: Kind,
    repeat: Option<usize>,
}

/// Why the run stopped early.
struct Fail(String);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    match p.operands.len() {
        0 => return Err(CmdError::usage("missing operand")),
        1 => {
            return Err(CmdError::usage(format!(
                "missing operand after {}",
                gnu_quote(&p.operands[0])
            )));
        }
        _ => {}
    }
    let digits = match p.value("digits") {
        Some(d) => match d.parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                return Err(CmdError::new(
                    1,
                    format!("invalid number: {}", gnu_quote(d)),
                ));
            }
        },
        None => 2,
    };
    let format = p.value("suffix-format").map(str::to_string);
    if let Some(f) = &format
        && suffix(f, 0).is_none()
    {
        return Err(CmdError::new(
            1,
            format!("invalid conversion specifier in suffix: {f}"),
        ));
    }
    // the patterns, checked before anything is read
    let mut pats: Vec<Pat> = Vec::new();
    let mut last_line = 0usize;
    for a in &p.operands[1..] {
        if let Some(inner) = a.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let rep = if inner == "*" {
                None
            } else {
                match inner.parse::<usize>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        return Err(CmdError::new(
                            1,
                            format!("{}: integer required between ‘{{’ and ‘}}’", gnu_quote(a)),
                        ));
                    }
                }
            };
            match pats.last_mut() {
                Some(pt) => pt.repeat = rep,
                None => {
                    return Err(CmdError::new(
                        1,
                        format!("{}: invalid pattern", gnu_quote(a)),
                    ));
                }
            }
            continue;
        }
        let kind = if let Some(delim) = a.chars().next().filter(|c| *c == '/' || *c == '%') {
            let body = &a[1..];
            let Some(end) = body.rfind(delim) else {
                return Err(CmdError::new(
                    1,
                    format!("{a}: closing delimiter ‘{delim}’ missing"),
                ));
            };
            let (re_text, off_text) = (&body[..end], &body[end + 1..]);
            let offset = if off_text.is_empty() {
                0
            } else {
                match off_text
                    .strip_prefix('+')
                    .unwrap_or(off_text)
                    .parse::<i64>()
                {
                    Ok(n)
                        if off_text.starts_with(['+', '-'])
                            || off_text.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        n
                    }
                    _ => {
                        return Err(CmdError::new(
                            1,
                            format!("{}: invalid pattern", gnu_quote(a)),
                        ));
                    }
                }
            };
            let re = match PosixRegex::new(re_text, Syntax::Basic, &Options::default()) {
                Ok(r) => r,
                Err(e) => {
                    return Err(CmdError::new(
                        1,
                        format!(
                            "{}: invalid regular expression: {}",
                            gnu_quote(a),
                            e.message()
                        ),
                    ));
                }
            };
            Kind::Regex {
                re,
                offset,
                skip: delim == '%',
            }
        } else if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) {
            let n: usize = a.parse().unwrap_or(usize::MAX);
            if n == 0 {
                return Err(CmdError::new(
                    1,
                    format!("{a}: line number must be greater than zero"),
                ));
            }
            if n < last_line {
                return Err(CmdError::new(
                    1,
                    format!(
                        "line number {} is smaller than preceding line number, {last_line}",
                        gnu_quote(a)
                    ),
                ));
            }
            if n == last_line {
                ctx.error(format!(
                    "warning: line number {} is the same as preceding line number",
                    gnu_quote(a)
                ))
                .await;
            }
            last_line = n;
            Kind::Line(n)
        } else {
            return Err(CmdError::new(
                1,
                format!("{}: invalid pattern", gnu_quote(a)),
            ));
        };
        pats.push(Pat {
            text: a.clone(),
            kind,
            repeat: Some(0),
        });
    }
    let input = p.operands[0].clone();
    let data = match read_input(ctx, &input).await {
        Ok(d) => d,
        Err(e) => {
            let why = e
                .strip_prefix(&format!("{input}: "))
                .unwrap_or(&e)
                .to_string();
            ctx.error(format!(
                "cannot open {} for reading: {why}",
                crate::util::quoteaf(&input)
            ))
            .await;
            return Ok(1);
        }
    };
    // line start offsets; starts[i] is where line i+1 begins, the last entry is the end
    let mut starts = vec![0usize];
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            starts.push(i + 1);
        }
    }
    if *starts.last().unwrap_or(&0) != data.len() {
        starts.push(data.len());
    }
    let nlines = starts.len() - 1;
    let line = |n: usize| -> &[u8] {
        // 1-based, without its newline
        let s = starts[n - 1];
        let e = starts[n];
        let l = &data[s..e];
        l.strip_suffix(b"\n").unwrap_or(l)
    };
    let mut w = Writer {
        prefix: p.value("prefix").unwrap_or("xx").to_string(),
        digits,
        format,
        quiet: p.has("quiet") || p.has("silent"),
        elide: p.has("elide-empty-files"),
        made: Vec::new(),
        count: 0,
    };
    let slice = |from: usize, to: usize| -> Bytes {
        // lines from..to (1-based, to exclusive), clamped
        let a = starts[(from - 1).min(nlines)];
        let b = starts[(to.max(from) - 1).min(nlines)];
        data.slice(a..b)
    };
    let mut next = 1usize; // first line of the current piece
    let mut search_from = 1usize;
    let mut fail: Option<Fail> = None;
    'pats: for pt in &pats {
        let mut rep = 0usize;
        loop {
            if let Some(max) = pt.repeat
                && rep > max
            {
                break;
            }
            let on_rep = if rep > 0 {
                format!(" on repetition {rep}")
            } else {
                String::new()
            };
            match &pt.kind {
                Kind::Line(n) => {
                    let boundary = n.saturating_mul(rep + 1);
                    if boundary > nlines {
                        if pt.repeat.is_none() && rep > 0 {
                            break;
                        }
                        fail = Some(Fail(format!(
                            "{}: line number out of range{on_rep}",
                            gnu_quote(&pt.text)
                        )));
                        break 'pats;
                    }
                    let piece = slice(next, boundary);
                    if !w.emit(ctx, piece).await? {
                        return Ok(1);
                    }
                    next = next.max(boundary);
                    search_from = boundary;
                }
                Kind::Regex { re, offset, skip } => {
                    let found = (search_from.max(1)..=nlines).find(|&i| re.is_match(line(i)));
                    let Some(m) = found else {
                        if pt.repeat.is_none() && rep > 0 {
                            break;
                        }
                        fail = Some(Fail(format!(
                            "{}: match not found{on_rep}",
                            gnu_quote(&pt.text)
                        )));
                        if *skip {
                            next = nlines + 1;
                        }
                        break 'pats;
                    };
                    let boundary = i64::try_from(m).unwrap_or(i64::MAX) + offset;
                    let bad = Fail(format!(
                        "{}: line number out of range{on_rep}",
                        gnu_quote(&pt.text)
                    ));
                    if boundary < i64::try_from(next).unwrap_or(i64::MAX) {
                        if !*skip && !w.emit(ctx, Bytes::new()).await? {
                            return Ok(1);
                        }
                        fail = Some(bad);
                        break 'pats;
                    }
                    let boundary = usize::try_from(boundary).unwrap_or(usize::MAX);
                    if boundary > nlines + 1 {
                        fail = Some(bad);
                        break 'pats;
                    }
                    if !*skip && !w.emit(ctx, slice(next, boundary)).await? {
                        return Ok(1);
                    }
                    next = boundary;
                    search_from = m.max(boundary) + 1;
                }
            }
            rep += 1;
        }
    }
    // the rest
    let rest = slice(next, nlines + 1);
    if !w.emit(ctx, rest).await? {
        return Ok(1);
    }
    if let Some(Fail(msg)) = fail {
        ctx.error(msg).await;
        if !p.has("keep-files") {
            for f in std::mem::take(&mut w.made) {
                let _ = ctx.vfs.unlink(&f).await;
            }
        }
        return Ok(1);
    }
    Ok(0)
}

/// The suffix for file number `n` by a `-b` format (`%02d`, `%03x.txt`):
/// one `%[flags][width]d|i|u|x|X|o` conversion, `%%` for a `%`. None for
/// a format with no or a bad conversion.
fn suffix(format: &str, n: usize) -> Option<String> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut convs = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek().filter(|f| "-+ #0'".contains(**f)) {
            flags.push(f);
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let w: usize = width.parse().unwrap_or(0);
        let body = match chars.next()? {
            'd' | 'i' | 'u' => n.to_string(),
            'x' => format!("{n:x}"),
            'X' => format!("{n:X}"),
            'o' => format!("{n:o}"),
            _ => return None,
        };
        convs += 1;
        let s = if flags.contains('-') {
            format!("{body:<w$}")
        } else if flags.contains('0') {
            format!("{body:0>w$}")
        } else {
            format!("{body:>w$}")
        };
        out.push_str(&s);
    }
    (convs == 1).then_some(out)
}

/// Writes the pieces and remembers them.
struct Writer {
    prefix: String,
    digits: usize,
    format: Option<String>,
    quiet: bool,
    elide: bool,
    made: Vec<String>,
    count: usize,
}

impl Writer {
    /// Writes the next piece; false after reporting an error.
    async fn emit(&mut self, ctx: &mut CommandCtx, data: Bytes) -> Result<bool, CmdError> {
        if self.elide && data.is_empty() {
            return Ok(true);
        }
        let suf = match &self.format {
            Some(f) => suffix(f, self.count).unwrap_or_default(),
            None => format!("{:0w$}", self.count, w = self.digits),
        };
        self.count += 1;
        let name = format!("{}{suf}", self.prefix);
        let abs = ctx.resolve(&name);
        let len = data.len();
        if let Err(e) = ctx.vfs.write(&abs, ByteSource::Bytes(data)).await {
            ctx.error(format!(
                "{}: {}",
                bytestr::decode(name.as_bytes()),
                e.message()
            ))
            .await;
            for f in std::mem::take(&mut self.made) {
                let _ = ctx.vfs.unlink(&f).await;
            }
            return Ok(false);
        }
        ctx.io.wrote(&abs);
        self.made.push(abs);
        if !self.quiet {
            ctx.stdout.write_str(&format!("{len}\n")).await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn suffix_formats() {
        assert_eq!(suffix("%02d", 3).as_deref(), Some("03"));
        assert_eq!(suffix("%03x.txt", 26).as_deref(), Some("01a.txt"));
        assert_eq!(suffix("abc", 1), None);
        assert_eq!(suffix("%d%d", 1), None);
    }

    #[test]
    fn splits_as_gnu() {
        let s10 = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let v = MemVfs::with(&[
            ("/d/s", s10),
            ("/d/n", "# T\nintro\n## One\nfirst\n## Two\nsecond\nmore\n"),
        ]);
        let r = |args: &[&str]| run_cmd(&v, run, "csplit", args, "/d", "");
        assert_eq!(r(&["n", "/^## /", "{*}"]).0, "10\n13\n19\n");
        assert_eq!(r(&["n", "/^#/", "{*}"]).0, "0\n10\n13\n19\n");
        assert_eq!(r(&["s", "3", "{2}"]).0, "4\n6\n6\n5\n");
        let (o, e, s) = r(&["s", "3", "{5}"]);
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "4\n6\n6\n5\n",
                "csplit: \u{2018}3\u{2019}: line number out of range on repetition 3\n",
                1
            )
        );
        assert!(
            !v.tree.lock().unwrap().contains_key("/d/xx00"),
            "removed without -k"
        );
        assert_eq!(r(&["s", "/7/+1"]).0, "14\n7\n");
        assert_eq!(r(&["s", "/5/-1", "/5/"]).0, "6\n15\n");
        assert_eq!(r(&["s", "%5%", "/8/"]).0, "6\n7\n");
        assert_eq!(r(&["s", "3", "/3/"]).0, "4\n0\n17\n");
        assert_eq!(r(&["s", "/5/", "3"]).0, "8\n0\n13\n");
        assert_eq!(r(&["-s", "-f", "p_", "-n", "3", "s", "4"]).0, "");
        assert!(v.tree.lock().unwrap().contains_key("/d/p_001"));
        assert_eq!(
            r(&["s", "5", "2"]).1,
            "csplit: line number \u{2018}2\u{2019} is smaller than preceding line number, 5\n"
        );
        assert_eq!(
            r(&["s", "0"]).1,
            "csplit: 0: line number must be greater than zero\n"
        );
        assert_eq!(
            r(&["s", "x"]).1,
            "csplit: \u{2018}x\u{2019}: invalid pattern\n"
        );
    }
}
