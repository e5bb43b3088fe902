//! `uniq`: report or omit repeated adjacent lines, as GNU coreutils 9.1
//! `uniq` (`-c` with `%7d `, `-d`, `-D`, `-u`, `-i`, `-f N`, `-s N`, `-w N`,
//! `-z`, `INPUT [OUTPUT]`). Streams line by line, to standard output or
//! into the OUTPUT file (through `Vfs::write` as lines are produced).

use bytes::Bytes;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ErrorKind, Input, Output, Sink};

use crate::util::{RecordReader, argmatch, open_input_err, parse_args};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("count", Some('c'), Some("count")),
    OptSpec::flag("repeated", Some('d'), Some("repeated")),
    OptSpec::flag("all-repeated", Some('D'), None),
    OptSpec::optional("all-repeated", None, Some("all-repeated")),
    OptSpec::value("skip-fields", Some('f'), Some("skip-fields")),
    OptSpec::optional("group", None, Some("group")),
    OptSpec::flag("ignore-case", Some('i'), Some("ignore-case")),
    OptSpec::value("skip-chars", Some('s'), Some("skip-chars")),
    OptSpec::flag("unique", Some('u'), Some("unique")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
    OptSpec::value("check-chars", Some('w'), Some("check-chars")),
];

/// The spec of `uniq`.
pub static SPEC: CommandSpec = CommandSpec::new("uniq", OPTS, PathOperands::All);

crate::register_command!("uniq", SPEC, run);

/// How lines are compared.
#[derive(Debug, Clone, Copy, Default)]
struct Cmp {
    skip_fields: usize,
    skip_chars: usize,
    check_chars: Option<usize>,
    ignore_case: bool,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl Cmp {
    /// The part of `line` (without its delimiter) that is compared (GNU `find_field`).
    fn key<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        let mut i = 0;
        for _ in 0..self.skip_fields {
            while i < line.len() && is_blank(line[i]) {
                i += 1;
            }
            while i < line.len() && !is_blank(line[i]) {
                i += 1;
            }
        }
        i = (i.saturating_add(self.skip_chars)).min(line.len());
        let end = match self.check_chars {
            Some(w) => i.saturating_add(w).min(line.len()),
            None => line.len(),
        };
        &line[i..end]
    }
    fn same(&self, a: &[u8], b: &[u8]) -> bool {
        let (ka, kb) = (self.key(a), self.key(b));
        if self.ignore_case {
            ka.eq_ignore_ascii_case(kb)
        } else {
            ka == kb
        }
    }
}

/// Which lines to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    Repeated,
    Unique,
    /// `-D`: every line of each repeated group, with the separation method.
    AllRepeated(Group),
    /// `--group`: every line, groups separated.
    Group(Group),
}

/// Where blank lines separate the groups of `-D`/`--group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    None,
    Prepend,
    Append,
    Separate,
    Both,
}

/// Parses a count option value (`-f`, `-s`, `-w`).
fn parse_n(v: &str) -> Option<usize> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse().unwrap_or(usize::MAX))
}

/// The GNU `-c` prefix.
fn count_prefix(n: u64) -> String {
    format!("{n:>7} ")
}

/// Accumulates output and emits groups.
struct Uniq {
    cmp: Cmp,
    select: Select,
    count: bool,
    delim: u8,
    prev: Option<Bytes>,
    prev_count: u64,
    /// Lines of the current group (only for `-D`/`--group`).
    group: Vec<Bytes>,
    groups_out: u64,
}

impl Uniq {
    fn body(line: &Bytes, delim: u8) -> &[u8] {
        line.strip_suffix(&[delim]).unwrap_or(line)
    }
    fn push_line(&self, out: &mut Vec<u8>, line: &[u8]) {
        out.extend_from_slice(line);
        out.push(self.delim);
    }
    /// Emits the finished group.
    fn flush_group(&mut self, out: &mut Vec<u8>) {
        let Some(prev) = self.prev.take() else { return };
        let n = self.prev_count;
        let line = Self::body(&prev, self.delim).to_vec();
        match self.select {
            Select::All | Select::Repeated | Select::Unique => {
                let show = match self.select {
                    Select::All => true,
                    Select::Repeated => n > 1,
                    _ => n == 1,
                };
                if show {
                    if self.count {
                        out.extend_from_slice(count_prefix(n).as_bytes());
                    }
                    self.push_line(out, &line);
                }
            }
            Select::AllRepeated(g) | Select::Group(g) => {
                let all = matches!(self.select, Select::Group(_));
                if all || n > 1 {
                    let lead = match g {
                        Group::Prepend | Group::Both => true,
                        Group::Separate | Group::Append => {
                            self.groups_out > 0 && g == Group::Separate
                        }
                        Group::None => false,
                    };
                    if lead {
                        out.push(self.delim);
                    }
                    let group = std::mem::take(&mut self.group);
                    for l in &group {
                        let b = Self::body(l, self.delim).to_vec();
                        self.push_line(out, &b);
                    }
                    if g == Group::Append {
                        out.push(self.delim);
                    }
                    self.groups_out += 1;
                }
                self.group.clear();
            }
        }
    }
    fn feed(&mut self, line: Bytes, out: &mut Vec<u8>) {
        let same = match &self.prev {
            Some(p) => self
                .cmp
                .same(Self::body(p, self.delim), Self::body(&line, self.delim)),
            None => false,
        };
        let grouping = matches!(self.select, Select::AllRepeated(_) | Select::Group(_));
        if same {
            self.prev_count += 1;
            if grouping {
                self.group.push(line);
            }
            return;
        }
        self.flush_group(out);
        if grouping {
            self.group.push(line.clone());
        }
        self.prev = Some(line);
        self.prev_count = 1;
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush_group(out);
        if let Select::Group(Group::Both) = self.select
            && self.groups_out > 0
        {
            out.push(self.delim);
        }
    }
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let mut cmp = Cmp {
            ignore_case: p.has("ignore-case"),
            ..Cmp::default()
        };
        for (key, label) in [
            ("skip-fields", "number of fields to skip"),
            ("skip-chars", "number of bytes to skip"),
            ("check-chars", "number of bytes to compare"),
        ] {
            if let Some(v) = p.value(key) {
                let Some(n) = parse_n(v) else {
                    ctx.error(format!("{v}: invalid {label}")).await;
                    return 1;
                };
                match key {
                    "skip-fields" => cmp.skip_fields = n,
                    "skip-chars" => cmp.skip_chars = n,
                    _ => cmp.check_chars = Some(n),
                }
            }
        }
        // GNU's valid names of each option, in its order
        let method = |key: &str, default: Group, valid: &[(&str, Group)]| match p.value(key) {
            None => Ok(default),
            Some(v) => argmatch(v, &format!("--{key}"), valid),
        };
        let select = if p.has("group") {
            let valid = [
                ("prepend", Group::Prepend),
                ("append", Group::Append),
                ("separate", Group::Separate),
                ("both", Group::Both),
            ];
            match method("group", Group::Separate, &valid) {
                Ok(g) => Select::Group(g),
                Err(e) => return ctx.finish(Err(e)).await,
            }
        } else if p.has("all-repeated") {
            let valid = [
                ("none", Group::None),
                ("prepend", Group::Prepend),
                ("separate", Group::Separate),
            ];
            match method("all-repeated", Group::None, &valid) {
                Ok(g) => Select::AllRepeated(g),
                Err(e) => return ctx.finish(Err(e)).await,
            }
        } else if p.has("repeated") && p.has("unique") {
            // GNU prints nothing: no line is both.
            Select::Repeated
        } else if p.has("repeated") {
            Select::Repeated
        } else if p.has("unique") {
            Select::Unique
        } else {
            Select::All
        };
        let nothing = p.has("repeated") && p.has("unique");
        if p.has("count") && matches!(select, Select::AllRepeated(_) | Select::Group(_)) {
            ctx.error("printing all duplicated lines and repeat counts is meaningless")
                .await;
            let _ = ctx
                .stderr
                .write(b"Try 'uniq --help' for more information.\n")
                .await;
            return 1;
        }
        if p.operands.len() > 2 {
            ctx.error(format!("extra operand '{}'", p.operands[2]))
                .await;
            let _ = ctx
                .stderr
                .write(b"Try 'uniq --help' for more information.\n")
                .await;
            return 1;
        }
        let input = p
            .operands
            .first()
            .cloned()
            .unwrap_or_else(|| "-".to_string());
        let output = p.operands.get(1).cloned().filter(|o| o != "-");
        let delim = if p.has("zero") { 0 } else { b'\n' };
        let src = match open_input_err(ctx, &input).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("{input}: {}", e.message())).await;
                return 1;
            }
        };
        let mut u = Uniq {
            cmp,
            select,
            count: p.has("count"),
            delim,
            prev: None,
            prev_count: 0,
            group: Vec::new(),
            groups_out: 0,
        };
        let mut reader = RecordReader::new(src, delim);
        let pumped = match output {
            None => pump(&mut u, &mut reader, &mut ctx.stdout, nothing).await,
            Some(path) => {
                // OUTPUT streams into the file as lines are produced: a
                // bounded pipe feeds `Vfs::write`, so memory stays flat
                // whatever the input size.
                let abs = ctx.resolve(&path);
                let (tx, rx) = tokio::sync::mpsc::channel(OUTPUT_CHUNKS);
                let data = Input::from_pipe(rx).into_source();
                let vfs = ctx.vfs.clone();
                let produce = async {
                    let mut out = Output::new(Sink::Pipe(tx));
                    let r = pump(&mut u, &mut reader, &mut out, nothing).await;
                    let _ = out.flush().await;
                    r
                };
                let (pumped, written) = futures::join!(produce, vfs.write(&abs, data));
                if let Err(e) = written {
                    ctx.error(format!("{path}: {}", e.message())).await;
                    return 1;
                }
                ctx.io.wrote(&abs);
                pumped
            }
        };
        match pumped {
            Ok(()) => 0,
            Err(e) => {
                ctx.error(format!("{input}: {}", e.message())).await;
                1
            }
        }
    })
}

/// How many blocks of output may wait for the file being written.
const OUTPUT_CHUNKS: usize = 8;

/// Feeds every record of `reader` through `u` and writes the lines to
/// `out` in 32 KiB blocks (nothing for `-du`). A read error ends the
/// input as GNU does (what came before is written) and is returned; the
/// reader going away (`BrokenPipe`) ends it quietly.
async fn pump(
    u: &mut Uniq,
    reader: &mut RecordReader,
    out: &mut Output,
    nothing: bool,
) -> mirage_types::Result<()> {
    let mut buf = Vec::new();
    let mut result = Ok(());
    loop {
        let rec = match reader.next_record().await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        u.feed(rec, &mut buf);
        if buf.len() >= 32 * 1024 {
            if !nothing
                && let Err(e) = out.write(&buf).await
                && e.kind == ErrorKind::BrokenPipe
            {
                return result;
            }
            buf.clear();
        }
    }
    u.finish(&mut buf);
    if !nothing {
        let _ = out.write(&buf).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn uniq(input: &str, select: Select, count: bool, cmp: Cmp) -> String {
        let mut u = Uniq {
            cmp,
            select,
            count,
            delim: b'\n',
            prev: None,
            prev_count: 0,
            group: Vec::new(),
            groups_out: 0,
        };
        let mut out = Vec::new();
        for l in input.split_inclusive('\n') {
            u.feed(Bytes::from(l.to_string()), &mut out);
        }
        u.finish(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn adjacent_counts() {
        assert_eq!(
            uniq("a\na\nb\na\na\na\nc", Select::All, false, Cmp::default()),
            "a\nb\na\nc\n"
        );
        assert_eq!(
            uniq("a\na\nb\n", Select::All, true, Cmp::default()),
            "      2 a\n      1 b\n"
        );
        assert_eq!(
            uniq("a\na\nb\nc\nc\n", Select::Repeated, false, Cmp::default()),
            "a\nc\n"
        );
        assert_eq!(
            uniq("a\na\nb\nc\nc\n", Select::Unique, false, Cmp::default()),
            "b\n"
        );
        assert_eq!(
            uniq(
                "a\na\nb\nc\nc\n",
                Select::AllRepeated(Group::Separate),
                false,
                Cmp::default()
            ),
            "a\na\n\nc\nc\n"
        );
    }

    #[test]
    fn skipping_and_case() {
        let i = Cmp {
            ignore_case: true,
            ..Cmp::default()
        };
        assert_eq!(
            uniq("Apple\napple\nAPPLE\nbanana\n", Select::All, false, i),
            "Apple\nbanana\n"
        );
        let f = Cmp {
            skip_fields: 1,
            ..Cmp::default()
        };
        assert_eq!(uniq("1 x\n2 x\n3 y\n", Select::All, false, f), "1 x\n3 y\n");
        let s = Cmp {
            skip_chars: 2,
            ..Cmp::default()
        };
        assert_eq!(uniq("aXb\naYb\naZc\n", Select::All, false, s), "aXb\naZc\n");
        let w = Cmp {
            check_chars: Some(1),
            ..Cmp::default()
        };
        assert_eq!(uniq("ab\nac\nb\n", Select::All, false, w), "ab\nb\n");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["u.txt"], "", "a\nb\na\nc\n", 0),
            (
                &["-c", "u.txt"],
                "",
                "      2 a\n      1 b\n      3 a\n      1 c\n",
                0,
            ),
            (&["-d", "u.txt"], "", "a\na\n", 0),
            (&["-u", "u.txt"], "", "b\nc\n", 0),
            (
                &["-i"],
                "Apple\napple\nAPPLE\nbanana\n",
                "Apple\nbanana\n",
                0,
            ),
            (&["-f", "1"], "1 x\n2 x\n3 y\n", "1 x\n3 y\n", 0),
            (&["-s", "2"], "aXb\naYb\naZc\n", "aXb\naZc\n", 0),
            (&["-D"], "a\na\nb\nc\nc\n", "a\na\nc\nc\n", 0),
            (
                &["--all-repeated=separate"],
                "a\na\nb\nc\nc\n",
                "a\na\n\nc\nc\n",
                0,
            ),
            (&["--group"], "a\na\nb\nc\nc\n", "a\na\n\nb\n\nc\nc\n", 0),
            (&["-w", "1"], "ab\nac\nb\n", "ab\nb\n", 0),
            (&["missing"], "", "", 1),
            (&["-c"], "x\nx", "      2 x\n", 0),
            (&["a", "b", "c"], "", "", 1),
            (&["-du", "u.txt"], "", "", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "uniq", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &["-c", "-f", "1"],
                "1 a\n2 a\n3 b\n",
                "      2 1 a\n      1 3 b\n",
                0,
            ),
            (&[], "a\na", "a\n", 0),
            (&["--group=both"], "a\na\nb\n", "\na\na\n\nb\n\n", 0),
            (&["--group=prepend"], "a\nb\n", "\na\n\nb\n", 0),
            (&["-D", "-c"], "a\n", "", 1),
            (&["-z"], "a\0a\0b\0", "a\0b\0", 0),
            (&["-ic"], "A\na\n", "      2 A\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "uniq", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
