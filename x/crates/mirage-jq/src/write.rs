//! jq 1.6's output format: 2-space (or `--indent n`, `--tab`) pretty
//! printing with `"key": value`, `-c` compact, `-S` sorted keys, `-a`
//! ASCII output, numbers as jq 1.6 prints its doubles.

use jaq_json::{Num, Val};

/// How values are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    /// The indent of one level: `None` prints compact (`-c`, `--indent 0`),
    /// otherwise this string (n spaces, or a tab for `--tab`).
    pub indent: Option<String>,
    /// Sort object keys (`-S`).
    pub sort_keys: bool,
    /// Escape every non-ASCII character as `\uXXXX` (`-a`).
    pub ascii: bool,
}

impl Default for Format {
    /// jq's default: two spaces.
    fn default() -> Self {
        Format {
            indent: Some("  ".to_string()),
            sort_keys: false,
            ascii: false,
        }
    }
}

/// The f64 a jaq number stands for (jq 1.6 holds every number as a double).
pub fn num_f64(n: &Num) -> f64 {
    match n {
        Num::Int(i) => *i as f64,
        Num::Float(f) => *f,
        Num::BigInt(b) => b.to_string().parse().unwrap_or(f64::NAN),
        Num::Dec(s) => s.parse().unwrap_or(f64::NAN),
    }
}

/// Appends `f` as jq 1.6 prints a number (its `jvp_dtoa_fmt`): the
/// shortest digits that read back as the same double; exponent form
/// (`1e+17`, `1e-05`: sign and at least two digits) when the decimal point
/// lies 4 or more places left of the first digit or more than 15 places
/// right of the last one; NaN prints `null`; infinities print as the
/// largest double.
pub fn write_number(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"null");
        return;
    }
    let f = if f.is_infinite() {
        f64::MAX.copysign(f)
    } else {
        f
    };
    if f == 0.0 {
        out.extend_from_slice(if f.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d.ddde±x`.
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let nd = digits.len() as i32;
    let decpt = exp + 1;
    if f < 0.0 {
        out.push(b'-');
    }
    if decpt <= -4 || decpt > nd + 15 {
        out.extend_from_slice(&digits.as_bytes()[..1]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        let x = decpt - 1;
        out.extend_from_slice(
            format!("e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs()).as_bytes(),
        );
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
        out.extend_from_slice(digits.as_bytes());
    } else if decpt >= nd {
        out.extend_from_slice(digits.as_bytes());
        out.extend(std::iter::repeat_n(b'0', (decpt - nd) as usize));
    } else {
        out.extend_from_slice(&digits.as_bytes()[..decpt as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits.as_bytes()[decpt as usize..]);
    }
}

/// Appends `s` as a JSON string as jq 1.6 writes it: `\"`, `\\`, `\b`,
/// `\f`, `\n`, `\r`, `\t`, other control characters and DEL as `\u00xx`;
/// invalid UTF-8 becomes U+FFFD; with `ascii`, every non-ASCII character
/// is `\uxxxx` (a surrogate pair above U+FFFF).
pub fn write_string(s: &[u8], ascii: bool, out: &mut Vec<u8>) {
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        write_str_part(chunk.valid(), ascii, out);
        if !chunk.invalid().is_empty() {
            write_str_part("\u{FFFD}", ascii, out);
        }
    }
    out.push(b'"');
}

fn write_str_part(s: &str, ascii: bool, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\t' => Some(b"\\t"),
            b'\r' => Some(b"\\r"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            _ => None,
        };
        if let Some(e) = esc {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(e);
            start = i + 1;
        } else if b < 0x20 || b == 0x7f {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            start = i + 1;
        } else if b >= 0x80 && ascii {
            out.extend_from_slice(&bytes[start..i]);
            start = i + 1;
            // Only at a character's first byte: write the whole character.
            if b >= 0xc0
                && let Some(c) = s[i..].chars().next()
            {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{u:04x}").as_bytes());
                }
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `v` in `fmt` at nesting `level` (no trailing newline).
pub fn write_value(v: &Val, fmt: &Format, level: usize, out: &mut Vec<u8>) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Num(n) => write_number(num_f64(n), out),
        Val::TStr(s) | Val::BStr(s) => write_string(s, fmt.ascii, out),
        Val::Arr(a) => {
            if a.is_empty() {
                out.extend_from_slice(b"[]");
                return;
            }
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(fmt, level + 1, out);
                write_value(x, fmt, level + 1, out);
            }
            newline(fmt, level, out);
            out.push(b']');
        }
        Val::Obj(o) => {
            if o.is_empty() {
                out.extend_from_slice(b"{}");
                return;
            }
            out.push(b'{');
            let mut entries: Vec<(&Val, &Val)> = o.iter().collect();
            if fmt.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(fmt, level + 1, out);
                match k {
                    Val::TStr(s) | Val::BStr(s) => write_string(s, fmt.ascii, out),
                    other => {
                        // jq keys are strings; jaq allows others: print them quoted.
                        let mut inner = Vec::new();
                        write_value(other, fmt, 0, &mut inner);
                        write_string(&inner, fmt.ascii, out);
                    }
                }
                out.push(b':');
                if fmt.indent.is_some() {
                    out.push(b' ');
                }
                write_value(x, fmt, level + 1, out);
            }
            newline(fmt, level, out);
            out.push(b'}');
        }
    }
}

fn newline(fmt: &Format, level: usize, out: &mut Vec<u8>) {
    if let Some(ind) = &fmt.indent {
        out.push(b'\n');
        for _ in 0..level {
            out.extend_from_slice(ind.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(f: f64) -> String {
        let mut v = Vec::new();
        write_number(f, &mut v);
        String::from_utf8(v).unwrap_or_default()
    }

    #[test]
    fn numbers_as_jq_1_6() {
        // Each expectation was printed by the system jq 1.6.
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1e17), "1e+17");
        assert_eq!(num(1e15), "1000000000000000");
        assert_eq!(num(1.5e16), "15000000000000000");
        assert_eq!(num(1e16), "1e+16");
        assert_eq!(num(1e-5), "1e-05");
        assert_eq!(num(0.0001), "0.0001");
        assert_eq!(num(123456789012345678.0), "123456789012345680");
        assert_eq!(num(1.5e300), "1.5e+300");
        assert_eq!(num(1.25e-7), "1.25e-07");
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(num(-0.0), "-0");
        assert_eq!(num(f64::INFINITY), "1.7976931348623157e+308");
        assert_eq!(num(f64::NAN), "null");
        assert_eq!(num(2e-310), "2e-310");
        assert_eq!(num(123456780000000.0), "123456780000000");
    }

    #[test]
    fn strings_as_jq_1_6() {
        let s = |b: &[u8], a: bool| {
            let mut v = Vec::new();
            write_string(b, a, &mut v);
            String::from_utf8(v).unwrap_or_default()
        };
        assert_eq!(
            s("\u{7f}\u{1}é\t".as_bytes(), false),
            "\"\\u007f\\u0001é\\t\""
        );
        assert_eq!(s("é\u{7f}".as_bytes(), true), "\"\\u00e9\\u007f\"");
        assert_eq!(s("😀".as_bytes(), true), "\"\\ud83d\\ude00\"");
        assert_eq!(s(b"a\xffb", false), "\"a\u{FFFD}b\"");
    }
}
