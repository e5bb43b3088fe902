//! `hexdump`: the util-linux 2.38 dump, with its fixed formats: `-C`
//! (canonical hex+ASCII), the default two-byte hex words, `-x`, `-d`, `-o`
//! (two-byte words), `-b`, `-c` (bytes); `-n LEN`, `-s SKIP`, and `-v`
//! (otherwise a run of lines equal to the one before prints one `*`).
//! The last line is the offset after the data. It streams, carrying at
//! most one partial line. Custom `-e`/`-f` formats are not supported.

use futures::StreamExt;
use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("one-byte-octal", Some('b'), Some("one-byte-octal")),
    OptSpec::flag("one-byte-char", Some('c'), Some("one-byte-char")),
    OptSpec::flag("canonical", Some('C'), Some("canonical")),
    OptSpec::flag("two-bytes-decimal", Some('d'), Some("two-bytes-decimal")),
    OptSpec::flag("two-bytes-octal", Some('o'), Some("two-bytes-octal")),
    OptSpec::flag("two-bytes-hex", Some('x'), Some("two-bytes-hex")),
    OptSpec::value("length", Some('n'), Some("length")),
    OptSpec::value("skip", Some('s'), Some("skip")),
    OptSpec::flag("no-squeezing", Some('v'), Some("no-squeezing")),
];

/// The spec of `hexdump`.
pub static SPEC: CommandSpec = CommandSpec::new("hexdump", OPTS, PathOperands::All);

crate::register_command!("hexdump", SPEC, run);

/// One of the fixed formats.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Canonical,
    Default,
    Hex,
    Dec,
    Oct,
    ByteOct,
    ByteChar,
}

/// Formats one line of up to 16 bytes at `off`.
fn line(fmt: Fmt, off: u64, b: &[u8], out: &mut String) {
    use std::fmt::Write as _;
    let word = |i: usize| -> Option<u16> {
        let lo = *b.get(i * 2)?;
        let hi = b.get(i * 2 + 1).copied().unwrap_or(0);
        Some(u16::from_le_bytes([lo, hi]))
    };
    match fmt {
        Fmt::Canonical => {
            let _ = write!(out, "{off:08x}  ");
            for i in 0..16 {
                if i == 8 {
                    out.push(' ');
                }
                match b.get(i) {
                    Some(x) => {
                        let _ = write!(out, "{x:02x} ");
                    }
                    None => out.push_str("   "),
                }
            }
            out.push_str(" |");
            for &x in b {
                out.push(if (0x20..0x7f).contains(&x) {
                    char::from(x)
                } else {
                    '.'
                });
            }
            out.push_str("|\n");
        }
        Fmt::Default | Fmt::Hex | Fmt::Dec | Fmt::Oct => {
            let _ = write!(out, "{off:07x}");
            for i in 0..8 {
                match (fmt, word(i)) {
                    (Fmt::Default, Some(w)) => {
                        let _ = write!(out, " {w:04x}");
                    }
                    (Fmt::Default, None) => out.push_str("     "),
                    (Fmt::Hex, Some(w)) => {
                        let _ = write!(out, "    {w:04x}");
                    }
                    (Fmt::Dec, Some(w)) => {
                        let _ = write!(out, "   {w:05}");
                    }
                    (Fmt::Oct, Some(w)) => {
                        let _ = write!(out, "  {w:06o}");
                    }
                    _ => out.push_str("        "),
                }
            }
            out.push('\n');
        }
        Fmt::ByteOct | Fmt::ByteChar => {
            let _ = write!(out, "{off:07x}");
            for i in 0..16 {
                match b.get(i) {
                    Some(&x) if fmt == Fmt::ByteOct => {
                        let _ = write!(out, " {x:03o}");
                    }
                    Some(&x) => {
                        let s = match x {
                            0 => "\\0".to_string(),
                            7 => "\\a".to_string(),
                            8 => "\\b".to_string(),
                            9 => "\\t".to_string(),
                            10 => "\\n".to_string(),
                            11 => "\\v".to_string(),
                            12 => "\\f".to_string(),
                            13 => "\\r".to_string(),
                            0x20..=0x7e => char::from(x).to_string(),
                            _ => format!("{x:03o}"),
                        };
                        let _ = write!(out, " {s:>3}");
                    }
                    None => out.push_str("    "),
                }
            }
            out.push('\n');
        }
    }
}

/// Reads a number as util-linux does for `-n`/`-s` (decimal, `0x` hex,
/// leading `0` octal; `-s` also takes `b`, `k`, `m` suffixes).
fn number(v: &str) -> Option<u64> {
    let (digits, mult) = match v.as_bytes().last() {
        Some(b'b') if !v.starts_with("0x") => (&v[..v.len() - 1], 512),
        Some(b'k') => (&v[..v.len() - 1], 1024),
        Some(b'm') => (&v[..v.len() - 1], 1024 * 1024),
        _ => (v, 1),
    };
    let n = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    n.checked_mul(mult)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let fmt = match p.last_of(&[
        "canonical",
        "two-bytes-hex",
        "two-bytes-decimal",
        "two-bytes-octal",
        "one-byte-octal",
        "one-byte-char",
    ]) {
        Some("canonical") => Fmt::Canonical,
        Some("two-bytes-hex") => Fmt::Hex,
        Some("two-bytes-decimal") => Fmt::Dec,
        Some("two-bytes-octal") => Fmt::Oct,
        Some("one-byte-octal") => Fmt::ByteOct,
        Some("one-byte-char") => Fmt::ByteChar,
        _ => Fmt::Default,
    };
    let len = match p.value("length") {
        Some(v) => Some(
            number(v).ok_or_else(|| CmdError::new(1, format!("invalid length argument: '{v}'")))?,
        ),
        None => None,
    };
    let skip = match p.value("skip") {
        Some(v) => {
            number(v).ok_or_else(|| CmdError::new(1, format!("invalid skip argument: '{v}'")))?
        }
        None => 0,
    };
    let squeeze = !p.has("no-squeezing");
    let mut to_skip = skip;
    let mut left = len;
    let mut off = skip;
    let mut cur: Vec<u8> = Vec::with_capacity(16);
    let mut prev: Option<Vec<u8>> = None;
    let mut starred = false;
    let mut out = String::new();
    let mut status = 0;
    let mut opened = 0;
    let operands = operands_or_stdin(&p);
    let n_ops = operands.len();
    'files: for operand in operands {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("{operand}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        opened += 1;
        let mut stream = src.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    status = 1;
                    continue 'files;
                }
            };
            let mut data: &[u8] = &chunk;
            if to_skip > 0 {
                let n = to_skip.min(data.len() as u64) as usize;
                data = &data[n..];
                to_skip -= n as u64;
            }
            if let Some(l) = left.as_mut() {
                let n = (*l).min(data.len() as u64) as usize;
                data = &data[..n];
                *l -= n as u64;
            }
            for &b in data {
                cur.push(b);
                if cur.len() == 16 {
                    if squeeze && prev.as_deref() == Some(&cur[..]) {
                        if !starred {
                            out.push_str("*\n");
                            starred = true;
                        }
                    } else {
                        line(fmt, off, &cur, &mut out);
                        starred = false;
                    }
                    off += 16;
                    prev = Some(std::mem::take(&mut cur));
                }
            }
            if out.len() >= 32 * 1024 {
                if let Err(e) = ctx.stdout.write_str(&out).await
                    && e.kind == ErrorKind::BrokenPipe
                {
                    return Ok(status);
                }
                out.clear();
            }
            if left == Some(0) {
                break 'files;
            }
        }
    }
    if opened == 0 && n_ops > 0 && status != 0 {
        let _ = ctx.stdout.write_str(&out).await;
        ctx.error("all input file arguments failed").await;
        return Ok(1);
    }
    if !cur.is_empty() {
        line(fmt, off, &cur, &mut out);
        off += cur.len() as u64;
    }
    if off > skip || starred {
        if fmt == Fmt::Canonical {
            out.push_str(&format!("{off:08x}\n"));
        } else {
            out.push_str(&format!("{off:07x}\n"));
        }
    }
    let _ = ctx.stdout.write_str(&out).await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn hd(args: &[&str], stdin: &str) -> (String, String, i32) {
        let v = MemVfs::with(&[]);
        run_cmd(&v, run, "hexdump", args, "/", stdin)
    }

    #[test]
    fn canonical_and_squeeze() {
        assert_eq!(
            hd(&["-C"], "hello world\n").0,
            "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|\n0000000c\n"
        );
        let a = "a".repeat(48) + "xyz";
        let (out, _, _) = hd(&["-C"], &a);
        assert_eq!(
            out,
            "00000000  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|\n*\n\
             00000030  78 79 7a                                          |xyz|\n00000033\n"
        );
        assert_eq!(hd(&["-C"], "").0, "");
        assert_eq!(
            hd(&[], "hello world\n").0,
            "0000000 6568 6c6c 206f 6f77 6c72 0a64          \n000000c\n"
        );
    }
}
