//! `tr`: translate, squeeze and delete bytes, as GNU coreutils 9.1 `tr`
//! (sets with ranges, `[:class:]`, `[=c=]`, `[c*n]`, escapes and octal;
//! `-c`/`-C`, `-d`, `-s`, `-t`). Works on bytes, streaming chunk by chunk.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("complement", Some('c'), Some("complement")),
    OptSpec::flag("complement", Some('C'), None),
    OptSpec::flag("delete", Some('d'), Some("delete")),
    OptSpec::flag("squeeze", Some('s'), Some("squeeze-repeats")),
    OptSpec::flag("truncate", Some('t'), Some("truncate-set1")),
];

/// The spec of `tr`.
pub static SPEC: CommandSpec = CommandSpec::new("tr", OPTS, PathOperands::None);

crate::register_command!("tr", SPEC, run);

/// One element of a parsed set.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    /// Bytes in order (single chars, ranges, classes, equivalence classes).
    Bytes(Vec<u8>),
    /// `[c*n]` (`None` for `[c*]`: fill up to the length of SET1).
    Repeat(u8, Option<usize>),
    /// A class, kept by name to check where it may appear.
    Class(&'static str, Vec<u8>),
}

/// The bytes of a `[:name:]` class, in ascending order.
fn class_bytes(name: &str) -> Option<(&'static str, Vec<u8>)> {
    let (n, pred): (&'static str, fn(u8) -> bool) = match name {
        "alpha" => ("alpha", |b| b.is_ascii_alphabetic()),
        "alnum" => ("alnum", |b| b.is_ascii_alphanumeric()),
        "digit" => ("digit", |b| b.is_ascii_digit()),
        "lower" => ("lower", |b| b.is_ascii_lowercase()),
        "upper" => ("upper", |b| b.is_ascii_uppercase()),
        "space" => ("space", |b| {
            matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
        }),
        "blank" => ("blank", |b| b == b' ' || b == b'\t'),
        "punct" => ("punct", |b| b.is_ascii_punctuation()),
        "print" => ("print", |b| (0x20..0x7f).contains(&b)),
        "graph" => ("graph", |b| b.is_ascii_graphic()),
        "cntrl" => ("cntrl", |b| b < 0x20 || b == 0x7f),
        "xdigit" => ("xdigit", |b| b.is_ascii_hexdigit()),
        _ => return None,
    };
    Some((n, (0u8..=255).filter(|b| pred(*b)).collect()))
}

/// Reads one possibly escaped byte at `i`; returns it and the next index.
fn read_char(s: &[u8], i: usize) -> (u8, usize) {
    if s[i] != b'\\' || i + 1 >= s.len() {
        return (s[i], i + 1);
    }
    let c = s[i + 1];
    let simple = match c {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'0'..=b'7' => None,
        other => Some(other),
    };
    if let Some(b) = simple {
        return (b, i + 2);
    }
    let mut v: u32 = 0;
    let mut j = i + 1;
    while j < s.len() && j < i + 4 && (b'0'..=b'7').contains(&s[j]) {
        let nv = v * 8 + u32::from(s[j] - b'0');
        if nv > 0o377 {
            break;
        }
        v = nv;
        j += 1;
    }
    (v as u8, j)
}

/// Parses a SET operand. The error is GNU's message.
fn parse_set(set: &str) -> Result<Vec<Elem>, String> {
    let enc = mirage_types::bytestr::encode(set);
    let s: &[u8] = &enc;
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'[' && i + 1 < s.len() {
            // [:class:]
            if s[i + 1] == b':'
                && let Some(end) = find(s, i + 2, b":]")
            {
                let name = String::from_utf8_lossy(&s[i + 2..end]).into_owned();
                match class_bytes(&name) {
                    Some((n, bytes)) => out.push(Elem::Class(n, bytes)),
                    None => return Err(format!("invalid character class '{name}'")),
                }
                i = end + 2;
                continue;
            }
            // [=c=]
            if s[i + 1] == b'='
                && let Some(end) = find(s, i + 2, b"=]")
            {
                let inner = &s[i + 2..end];
                if !inner.is_empty() {
                    let (c, next) = read_char(inner, 0);
                    if next != inner.len() {
                        return Err(format!(
                            "{}: equivalence class operand must be a single character",
                            String::from_utf8_lossy(inner)
                        ));
                    }
                    out.push(Elem::Bytes(vec![c]));
                    i = end + 2;
                    continue;
                }
            }
            // [c*n] / [c*]
            let (c, j) = read_char(s, i + 1);
            if j < s.len() && s[j] == b'*' {
                let mut k = j + 1;
                while k < s.len() && s[k].is_ascii_digit() {
                    k += 1;
                }
                if k < s.len() && s[k] == b']' {
                    let digits = std::str::from_utf8(&s[j + 1..k]).unwrap_or("");
                    let n = if digits.is_empty() {
                        None
                    } else {
                        let parsed = if digits.starts_with('0') {
                            usize::from_str_radix(digits, 8).ok()
                        } else {
                            digits.parse::<usize>().ok()
                        };
                        match parsed {
                            Some(0) => None,
                            Some(n) => Some(n),
                            None => {
                                return Err(format!(
                                    "invalid repeat count '{digits}' in [c*n] construct"
                                ));
                            }
                        }
                    };
                    out.push(Elem::Repeat(c, n));
                    i = k + 1;
                    continue;
                }
            }
        }
        let (c, j) = read_char(s, i);
        if j + 1 < s.len() && s[j] == b'-' {
            let (d, k) = read_char(s, j + 1);
            if d < c {
                let shown = |b: u8| {
                    if b.is_ascii_graphic() || b == b' ' {
                        (b as char).to_string()
                    } else {
                        format!("\\{b:03o}")
                    }
                };
                return Err(format!(
                    "range-endpoints of '{}-{}' are in reverse collating sequence order",
                    shown(c),
                    shown(d)
                ));
            }
            out.push(Elem::Bytes((c..=d).collect()));
            i = k;
            continue;
        }
        out.push(Elem::Bytes(vec![c]));
        i = j;
    }
    Ok(out)
}

fn find(s: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    if from > s.len() {
        return None;
    }
    s[from..]
        .windows(pat.len())
        .position(|w| w == pat)
        .map(|p| p + from)
}

/// Expands SET1 (no `[c*n]` allowed).
fn expand_set1(elems: &[Elem]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for e in elems {
        match e {
            Elem::Bytes(b) | Elem::Class(_, b) => out.extend_from_slice(b),
            Elem::Repeat(..) => {
                return Err("the [c*] repeat construct may not appear in string1".to_string());
            }
        }
    }
    Ok(out)
}

/// Expands SET2 for translation against a SET1 of `len1` bytes: `[c*]`
/// fills, and a short result is padded with its last byte.
fn expand_set2(elems: &[Elem], len1: usize, truncate: bool) -> Result<Vec<u8>, String> {
    let fixed: usize = elems
        .iter()
        .map(|e| match e {
            Elem::Bytes(b) | Elem::Class(_, b) => b.len(),
            Elem::Repeat(_, Some(n)) => *n,
            Elem::Repeat(_, None) => 0,
        })
        .sum();
    let mut fill_done = false;
    let mut out = Vec::new();
    for e in elems {
        match e {
            Elem::Class(name, b) => {
                if *name != "upper" && *name != "lower" {
                    return Err("when translating, the only character classes that may appear in\nstring2 are 'upper' and 'lower'".to_string());
                }
                out.extend_from_slice(b);
            }
            Elem::Bytes(b) => out.extend_from_slice(b),
            Elem::Repeat(c, Some(n)) => out.extend(std::iter::repeat_n(*c, *n)),
            Elem::Repeat(c, None) => {
                if !fill_done {
                    out.extend(std::iter::repeat_n(*c, len1.saturating_sub(fixed)));
                    fill_done = true;
                }
            }
        }
    }
    if !truncate
        && out.len() < len1
        && let Some(&last) = out.last()
    {
        out.resize(len1, last);
    }
    Ok(out)
}

/// All bytes not in `set`, ascending.
fn complement(set: &[u8]) -> Vec<u8> {
    let mut inset = [false; 256];
    for &b in set {
        inset[b as usize] = true;
    }
    (0u8..=255).filter(|b| !inset[*b as usize]).collect()
}

/// The compiled operation.
struct Tr {
    map: [u8; 256],
    delete: [bool; 256],
    squeeze: [bool; 256],
    last: Option<u8>,
}

impl Tr {
    fn new() -> Self {
        let mut map = [0u8; 256];
        for (i, m) in map.iter_mut().enumerate() {
            *m = i as u8;
        }
        Tr {
            map,
            delete: [false; 256],
            squeeze: [false; 256],
            last: None,
        }
    }
    /// Processes a chunk, keeping the squeeze state.
    fn apply(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &b in data {
            if self.delete[b as usize] {
                continue;
            }
            let m = self.map[b as usize];
            if self.squeeze[m as usize] && self.last == Some(m) {
                continue;
            }
            self.last = Some(m);
            out.push(m);
        }
    }
}

/// Builds the operation from the options and sets.
fn compile(
    sets: &[String],
    complement_set1: bool,
    delete: bool,
    squeeze: bool,
    truncate: bool,
) -> Result<Tr, String> {
    let e1 = parse_set(sets.first().map(String::as_str).unwrap_or(""))?;
    let mut s1 = expand_set1(&e1)?;
    if complement_set1 {
        s1 = complement(&s1);
    }
    let mut tr = Tr::new();
    let translating = !delete && sets.len() == 2;
    if delete {
        for &b in &s1 {
            tr.delete[b as usize] = true;
        }
        if squeeze {
            let e2 = parse_set(sets.get(1).map(String::as_str).unwrap_or(""))?;
            for b in expand_set1(&e2)? {
                tr.squeeze[b as usize] = true;
            }
        }
        return Ok(tr);
    }
    if translating {
        let e2 = parse_set(&sets[1])?;
        let s2 = expand_set2(&e2, s1.len(), truncate)?;
        if s2.is_empty() && !s1.is_empty() {
            return Err("when not truncating set1, string2 must be non-empty".to_string());
        }
        for (i, &b) in s1.iter().enumerate() {
            if let Some(&t) = s2.get(i) {
                tr.map[b as usize] = t;
            }
        }
        if squeeze {
            for &b in &s2 {
                tr.squeeze[b as usize] = true;
            }
        }
    } else if squeeze {
        for &b in &s1 {
            tr.squeeze[b as usize] = true;
        }
    }
    Ok(tr)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let (delete, squeeze) = (p.has("delete"), p.has("squeeze"));
    let sets = &p.operands;
    let quote = |s: &str| format!("'{s}'");
    if sets.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let max = if delete && !squeeze { 1 } else { 2 };
    if sets.len() > max {
        let mut msg = format!("extra operand {}", quote(&sets[max]));
        if delete && !squeeze && sets.len() == 2 {
            msg.push_str("\nOnly one string may be given when deleting without squeezing repeats.");
        }
        return Err(CmdError::usage(msg));
    }
    if sets.len() == 1 && (!delete && !squeeze || delete && squeeze) {
        let why = if delete {
            "Two strings must be given when both deleting and squeezing repeats."
        } else {
            "Two strings must be given when translating."
        };
        return Err(CmdError::usage(format!(
            "missing operand after {}\n{why}",
            quote(&sets[0])
        )));
    }
    let mut tr = match compile(
        sets,
        p.has("complement"),
        delete,
        squeeze,
        p.has("truncate"),
    ) {
        Ok(t) => t,
        Err(msg) => {
            ctx.error(msg).await;
            return Ok(1);
        }
    };
    let mut out = Vec::new();
    loop {
        let chunk = match ctx.stdin.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                ctx.error(format!("read error: {}", e.message())).await;
                return Ok(1);
            }
        };
        out.clear();
        tr.apply(&chunk, &mut out);
        if let Err(e) = ctx.stdout.write(&out).await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Ok(0);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn tr(sets: &[&str], c: bool, d: bool, s: bool, input: &str) -> String {
        let sets: Vec<String> = sets.iter().map(std::string::ToString::to_string).collect();
        let Ok(mut t) = compile(&sets, c, d, s, false) else {
            return "ERR".into();
        };
        let mut out = Vec::new();
        // Two chunks, to check the squeeze state across them.
        let (a, b) = input.as_bytes().split_at(input.len() / 2);
        t.apply(a, &mut out);
        t.apply(b, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn set_expansion() {
        assert_eq!(
            expand_set1(&parse_set("a-e").unwrap_or_default()),
            Ok(b"abcde".to_vec())
        );
        assert_eq!(
            expand_set1(&parse_set("\\n\\t\\\\\\101").unwrap_or_default()),
            Ok(b"\n\t\\A".to_vec())
        );
        assert_eq!(
            expand_set1(&parse_set("[:digit:]x").unwrap_or_default()),
            Ok(b"0123456789x".to_vec())
        );
        assert_eq!(
            expand_set2(&parse_set("1-3").unwrap_or_default(), 6, false),
            Ok(b"123333".to_vec())
        );
        assert_eq!(
            expand_set2(&parse_set("a[x*]b").unwrap_or_default(), 5, false),
            Ok(b"axxxb".to_vec())
        );
        assert_eq!(
            expand_set2(&parse_set("[y*2]").unwrap_or_default(), 3, false),
            Ok(b"yyy".to_vec())
        );
        assert!(
            parse_set("z-a")
                .unwrap_err()
                .contains("reverse collating sequence order")
        );
        assert!(
            parse_set("[:foo:]")
                .unwrap_err()
                .contains("invalid character class")
        );
        assert_eq!(complement(&(1u8..=255).collect::<Vec<u8>>()), vec![0]);
    }

    #[test]
    fn operations() {
        assert_eq!(
            tr(&["a-z", "A-Z"], false, false, false, "héllo wörld\n"),
            "HéLLO WöRLD\n"
        );
        assert_eq!(
            tr(
                &["[:upper:]", "[:lower:]"],
                false,
                false,
                false,
                "Hello World\n"
            ),
            "hello world\n"
        );
        assert_eq!(
            tr(&["()-"], false, true, false, "phone: (555) 123-4567\n"),
            "phone: 555 1234567\n"
        );
        assert_eq!(
            tr(&[" "], false, false, true, "too    many     spaces\n"),
            "too many spaces\n"
        );
        assert_eq!(
            tr(&["[:alnum:]\\n"], true, true, false, "Hello, World! 123\n"),
            "HelloWorld123\n"
        );
        assert_eq!(
            tr(
                &["[:alpha:]\\n", "_"],
                true,
                false,
                false,
                "Hello, World!\n"
            ),
            "Hello__World_\n"
        );
        assert_eq!(
            tr(&["abc", "x"], false, false, false, "abcdef\n"),
            "xxxdef\n"
        );
        assert_eq!(
            tr(&[" ", "\\n"], false, false, true, "the  cat\n"),
            "the\ncat\n"
        );
        assert_eq!(tr(&["a", "b"], false, true, true, "aabbcc"), "bcc");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["a-z", "A-Z"], "Hello World\n", "HELLO WORLD\n", 0),
            (
                &["[:upper:]", "[:lower:]"],
                "Hello World\n",
                "hello world\n",
                0,
            ),
            (
                &["-d", "()-"],
                "phone: (555) 123-4567\n",
                "phone: 555 1234567\n",
                0,
            ),
            (&["-d", "0-9"], "abc123def456\n", "abcdef\n", 0),
            (
                &["-s", " "],
                "too    many     spaces\n",
                "too many spaces\n",
                0,
            ),
            (&["-s", "a-c"], "aaabbbccc\n", "abc\n", 0),
            (&["-s", "\\n"], "a\n\n\nb\n", "a\nb\n", 0),
            (
                &["-cd", "[:alnum:]\\n"],
                "Hello, World! 123\n",
                "HelloWorld123\n",
                0,
            ),
            (
                &["-c", "[:alpha:]\\n", "_"],
                "Hello, World!\n",
                "Hello__World_\n",
                0,
            ),
            (&["-d", "\\r"], "line1\r\nline2\r\n", "line1\nline2\n", 0),
            (&["abc", "x"], "abcdef\n", "xxxdef\n", 0),
            (&["a-f", "1-3"], "abcdef\n", "123333\n", 0),
            (&["lo", "LO"], "hello\n", "heLLO\n", 0),
            (&["[:space:]", "."], "a\tb  c\n", "a.b..c.", 0),
            (&["[:digit:]", "#"], "x1y22z333\n", "x#y##z###\n", 0),
            (&["[:punct:]", " "], "a-b_c\n", "a b c\n", 0),
            (&["a-z", "A-Z"], "héllo wörld\n", "HéLLO WöRLD\n", 0),
            (&["-s", " ", "\\n"], "the  cat\n", "the\ncat\n", 0),
            (&[], "x", "", 1),
            (&["a"], "x", "", 1),
            (&["-d", "a", "b"], "x", "", 1),
            (&["z-a", "x"], "x", "", 1),
            (&["\\0", "\\n"], "a\0b\0", "a\nb\n", 0),
            (&["-t", "abc", "xy"], "abc\n", "xyc\n", 0),
            (&["a-c", "[x*]"], "abcd\n", "xxxd\n", 0),
            (&["-ds", "a", "b"], "aabbcc\n", "bcc\n", 0),
            (&["'", "\""], "it's\n", "it\"s\n", 0),
            (&["\\101-\\103", "x"], "ABCD\n", "xxxD\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "tr", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["a-c", "[x*3]"], "abcd\n", "xxxd\n", 0),
            (&["abc", "[x*]y"], "abcd\n", "xxyd\n", 0),
            (&["-s", "[:space:]"], "a  \n\n b\n", "a \n b\n", 0),
            (&["[:lower:]", "[:upper:]"], "abc\n", "ABC\n", 0),
            (&["-d", "[:space:]"], "a b\tc\n", "abc", 0),
            (&["a-", "xy"], "a-b\n", "xyb\n", 0),
            (&["\\\\", "/"], "a\\b\n", "a/b\n", 0),
            (&["-C", "a", "x"], "abc\n", "axxx", 0),
            (&["-s", "a-z", "A-Z"], "aabbcc\n", "ABC\n", 0),
            (&["[=a=]", "x"], "banana\n", "bxnxnx\n", 0),
            (&["-c", "a", "\\n"], "aXbYa\n", "a\n\n\na\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "tr", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
