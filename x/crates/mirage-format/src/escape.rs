//! Backslash escapes, as bash expands them in a `printf` format
//! ([`format_escape`]) and in `%b` / `echo -e` arguments ([`escapes`]).

/// Reads up to `max` digits of `radix` from `b`; returns the value and the
/// number of digits read.
fn digits(b: &[u8], radix: u32, max: usize) -> (u32, usize) {
    let mut v: u32 = 0;
    let mut n = 0;
    while n < max {
        let Some(d) = b.get(n).and_then(|&c| char::from(c).to_digit(radix)) else {
            break;
        };
        v = v.wrapping_mul(radix).wrapping_add(d);
        n += 1;
    }
    (v, n)
}

/// Pushes the UTF-8 form of code point `v` (U+FFFD when it is none).
fn push_char(v: u32, out: &mut Vec<u8>) {
    let ch = char::from_u32(v).unwrap_or('\u{fffd}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// Expands the escape after a backslash in a `printf` format, as bash's
/// `tescape`: `rest` is the text after the `\`. Pushes the result to `out`
/// and returns how many bytes of `rest` it used. An unknown escape (`\q`,
/// `\%`, and `\c`, which only `%b` knows) pushes the backslash alone and
/// uses nothing, so the next character is read as ordinary format text.
pub fn format_escape(rest: &[u8], out: &mut Vec<u8>) -> usize {
    let Some(&c) = rest.first() else {
        out.push(b'\\');
        return 0;
    };
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'e' | b'E' => Some(27),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' | b'\'' | b'"' | b'?' => Some(c),
        _ => None,
    };
    if let Some(s) = simple {
        out.push(s);
        return 1;
    }
    match c {
        b'0'..=b'7' => {
            // `\NNN`: up to three octal digits in all
            let (v, n) = digits(rest, 8, 3);
            out.push((v & 0xff) as u8);
            n
        }
        b'x' => match digits(&rest[1..], 16, 2) {
            (_, 0) => {
                out.push(b'\\');
                0
            }
            (v, n) => {
                out.push((v & 0xff) as u8);
                1 + n
            }
        },
        b'u' | b'U' => match digits(&rest[1..], 16, if c == b'u' { 4 } else { 8 }) {
            (_, 0) => {
                out.push(b'\\');
                0
            }
            (v, n) => {
                push_char(v, out);
                1 + n
            }
        },
        _ => {
            out.push(b'\\');
            0
        }
    }
}

/// Expands backslash escapes of `echo -e` and `printf %b` (`echo_style`:
/// `\0NNN` octal, `\c` stops) or of the older format style (`\NNN`).
/// Returns the bytes and whether `\c` was seen (the output stops there).
pub fn escapes(b: &[u8], echo_style: bool) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'e' | b'E' => out.push(27),
            b'\\' => out.push(b'\\'),
            b'c' => return (out, true),
            b'0'..=b'7' => {
                // echo/%b: \0NNN (up to 3 digits after the 0); format: \NNN
                let j = if echo_style && c == b'0' { i } else { i - 1 };
                let (v, n) = digits(&b[j..], 8, 3);
                out.push((v & 0xff) as u8);
                i = j + n;
            }
            b'x' => match digits(&b[i..], 16, 2) {
                (_, 0) => out.extend_from_slice(b"\\x"),
                (v, n) => {
                    out.push((v & 0xff) as u8);
                    i += n;
                }
            },
            b'u' | b'U' => {
                let (v, n) = digits(&b[i..], 16, if c == b'u' { 4 } else { 8 });
                if n == 0 {
                    out.push(b'\\');
                    out.push(c);
                } else {
                    push_char(v, &mut out);
                    i += n;
                }
            }
            b'"' if !echo_style => out.push(b'"'),
            b'\'' if !echo_style => out.push(b'\''),
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(s: &str) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let n = format_escape(s.as_bytes(), &mut out);
        (out, n)
    }

    #[test]
    fn format_escapes_as_bash() {
        assert_eq!(fe("n"), (b"\n".to_vec(), 1));
        assert_eq!(fe("101x"), (b"A".to_vec(), 3));
        assert_eq!(fe("x41"), (b"A".to_vec(), 3));
        assert_eq!(fe("xg"), (b"\\".to_vec(), 0));
        assert_eq!(fe("c"), (b"\\".to_vec(), 0));
        assert_eq!(fe("?"), (b"?".to_vec(), 1));
        assert_eq!(fe("u00e9"), ("é".as_bytes().to_vec(), 5));
        assert_eq!(fe("u"), (b"\\".to_vec(), 0));
    }

    #[test]
    fn echo_escapes() {
        assert_eq!(escapes(b"a\\tb\\c x", true), (b"a\tb".to_vec(), true));
        assert_eq!(escapes(b"\\0101\\101", true), (b"AA".to_vec(), false));
        assert_eq!(escapes(b"\\u", true), (b"\\u".to_vec(), false));
    }
}
