//! Byte-exact text: how Mirage carries arbitrary bytes (file names, shell
//! words, variables, command output) in a Rust `String` without ever
//! replacing anything by U+FFFD.
//!
//! bash keeps bytes, and so must we. Shell values and virtual paths are
//! `String`s holding a **lossless escape encoding** of their bytes, the
//! same idea as Python's `surrogateescape` (PEP 383), which the model
//! product's file names go through, and as WTF-8 in Rust's own `OsString`
//! on Windows:
//!
//! - valid UTF-8 stays as it is, so the ordinary case costs nothing and
//!   `${#v}`, `?`, `cut -c` see characters as bash does under `C.UTF-8`;
//! - a byte that is not part of valid UTF-8 (always `0x80..=0xFF`) becomes
//!   one private-use character `U+10FF00 + byte`, so it still counts as one
//!   character (bash counts an invalid byte as one character too);
//! - a genuine character in that escape range (`U+10FF80..=U+10FFFF`, four
//!   bytes each) is itself escaped byte by byte, so the encoding is
//!   injective: `encode(decode(b)) == b` for every byte string `b`, and two
//!   different names can never meet (`bad\xff` and `bad\xef\xbf\xbd` stay
//!   two files).
//!
//! [`decode`] turns bytes into such a string where bytes enter the shell
//! or a path (a directory listing, command substitution, `read`, a file
//! name on disk, `$'\xff'`), and [`encode`] turns it back into the exact
//! bytes where they leave (output, a host path, a pattern matched against
//! bytes). Both borrow when there is nothing to escape, which is the common
//! case.

use std::borrow::Cow;

/// The first escape character: byte `b` (`0x80..=0xFF`) is `ESC_BASE + b`.
const ESC_BASE: u32 = 0x10_FF00;

/// Whether `c` is an escape character (`U+10FF80..=U+10FFFF`).
#[inline]
fn is_escape(c: char) -> bool {
    (c as u32) >= ESC_BASE + 0x80
}

/// The escape character of the byte `b` (which must be `>= 0x80`).
#[inline]
fn escape(b: u8) -> char {
    // ESC_BASE + 0x80..=0xFF lies in plane 16, a valid scalar value.
    char::from_u32(ESC_BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Bytes to Mirage's string form, losslessly (see the module docs).
/// Borrows when `bytes` is UTF-8 with no character in the escape range.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !has_escapes(s)
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if is_escape(c) {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push(escape(b));
                }
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            out.push(escape(b));
        }
    }
    Cow::Owned(out)
}

/// [`decode`] of an owned buffer, reusing it when nothing needs escaping.
pub fn decode_owned(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) if memchr::memchr(0xF4, s.as_bytes()).is_none() => s,
        Ok(s) => decode(s.as_bytes()).into_owned(),
        Err(e) => decode(e.as_bytes()).into_owned(),
    }
}

/// Mirage's string form back to the exact bytes (see the module docs).
/// Borrows when `s` holds no escape character.
pub fn encode(s: &str) -> Cow<'_, [u8]> {
    if memchr::memchr(0xF4, s.as_bytes()).is_none() {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if is_escape(c) {
            out.push((c as u32 - ESC_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// Orders two strings by the bytes they stand for (the C locale's order,
/// as `ls`, `sort` and glob expansion use), so an escaped `\xff` sorts
/// after every UTF-8 character as the raw byte does.
pub fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    // The encoding works character by character, so a common prefix stays
    // common and only the first differing character decides; the raw UTF-8
    // order is right unless that character is an escape on either side.
    let Some(mut i) = x.iter().zip(y).position(|(p, q)| p != q) else {
        return x.len().cmp(&y.len());
    };
    // The bytes before `i` are equal, so both strings have a character
    // boundary at the same place.
    while i > 0 && !a.is_char_boundary(i) {
        i -= 1;
    }
    let escaped = |s: &str| {
        s.get(i..)
            .and_then(|t| t.chars().next())
            .is_some_and(is_escape)
    };
    if escaped(a) || escaped(b) {
        return encode(a).cmp(&encode(b));
    }
    x[i..].cmp(&y[i..])
}

/// Whether `s` holds escaped bytes (so it is not plain UTF-8 text).
pub fn has_escapes(s: &str) -> bool {
    memchr::memchr(0xF4, s.as_bytes()).is_some() && s.chars().any(is_escape)
}

/// `s` as text for a human (a log line, a JSON error): escaped bytes are
/// shown as U+FFFD. Never feed the result back into a path or a value.
pub fn display(s: &str) -> Cow<'_, str> {
    if !has_escapes(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if is_escape(c) {
                    char::REPLACEMENT_CHARACTER
                } else {
                    c
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(b: &[u8]) {
        let s = decode(b);
        assert_eq!(&*encode(&s), b, "round trip of {b:?}");
    }

    #[test]
    fn utf8_is_borrowed_and_unchanged() {
        assert!(matches!(
            decode(b"h\xc3\xa9llo"),
            Cow::Borrowed("h\u{e9}llo")
        ));
        assert!(matches!(
            encode("h\u{e9}llo"),
            Cow::Borrowed(b"h\xc3\xa9llo")
        ));
    }

    #[test]
    fn invalid_bytes_round_trip_one_char_each() {
        let s = decode(b"caf\xe9 \xff\xfe");
        assert_eq!(s.chars().count(), 7);
        round(b"caf\xe9 \xff\xfe");
        round(b"\xf4\x8f\xbf\xbf");
        round(b"\xf4\x8f\xbe\x80x\xf4");
        round(b"");
        let all: Vec<u8> = (0..=255u8).collect();
        round(&all);
    }

    #[test]
    fn names_that_look_alike_stay_apart() {
        let a = decode(b"bad\xff");
        let b = decode("bad\u{fffd}".as_bytes());
        assert_ne!(a, b);
        // A genuine escape-range character is not confused with an escaped byte.
        let genuine = decode("\u{10ffff}".as_bytes());
        let escaped = decode(b"\xff");
        assert_ne!(genuine, escaped);
        assert_eq!(genuine.chars().count(), 4);
    }

    #[test]
    fn order_is_byte_order() {
        let hi = decode(b"\xff");
        let four = "\u{10000}";
        assert_eq!(cmp(&hi, four), std::cmp::Ordering::Greater);
        assert_eq!(cmp(&decode(b"\x80"), four), std::cmp::Ordering::Less);
        assert_eq!(cmp("a", "b"), std::cmp::Ordering::Less);
        assert_eq!(cmp("ab", "a"), std::cmp::Ordering::Greater);
        // the same order as the raw bytes, over mixed escaped and UTF-8 names
        let names: Vec<Vec<u8>> = vec![
            b"a\xc3".to_vec(),
            "a\u{e9}".as_bytes().to_vec(),
            b"a\xff".to_vec(),
            "a\u{10ffff}".as_bytes().to_vec(),
            b"a".to_vec(),
            b"a\xc3\xa9z".to_vec(),
            b"b".to_vec(),
        ];
        for p in &names {
            for q in &names {
                assert_eq!(cmp(&decode(p), &decode(q)), p.cmp(q), "{p:?} vs {q:?}");
            }
        }
    }

    #[test]
    fn display_replaces_only_escapes() {
        assert_eq!(display(&decode(b"a\xffb")), "a\u{fffd}b");
        assert_eq!(display("plain"), "plain");
    }

    #[test]
    fn owned_decode_matches_borrowed() {
        for b in [
            &b"abc"[..],
            b"\xff",
            b"\xf4\x8f\xbf\xbfz",
            "\u{e9}".as_bytes(),
        ] {
            assert_eq!(decode_owned(b.to_vec()), decode(b));
        }
    }
}
