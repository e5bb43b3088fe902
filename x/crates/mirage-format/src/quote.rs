//! `printf %q`: quoting a value so bash reads it back, as bash 5.2 does
//! (`sh_backslash_quote`, or `ansic_quote` when the value has a character
//! that is not printable).

/// Characters bash always backslash-quotes.
const SPECIAL: &[u8] = b" \t\n'\"\\|&;()<>!{}*[?]^$`,";

/// The characters of `b`: valid UTF-8 characters, and single invalid bytes
/// as `Err(byte)`.
fn chars(b: &[u8]) -> impl Iterator<Item = Result<&str, u8>> {
    b.utf8_chunks().flat_map(|chunk| {
        let valid = chunk.valid();
        valid
            .char_indices()
            .map(move |(i, c)| Ok(&valid[i..i + c.len_utf8()]))
            .chain(chunk.invalid().iter().map(|&x| Err(x)))
    })
}

/// Whether `c` is printable (glibc's `iswprint` in a UTF-8 locale, for the
/// cases that matter: control characters are not).
fn printable(c: char) -> bool {
    !c.is_control()
}

/// Quotes `s` (raw bytes) as bash's `printf %q`: `''` for the empty value;
/// `$'…'` with C escapes (`\t`, `\n`, `\E`, `\ooo`) when it holds a
/// control character or an invalid byte; otherwise backslashes before the
/// shell's special characters (`~` only at the start or after `=`/`:`, `#`
/// only at the start).
#[must_use]
pub fn shell_quote(s: &[u8]) -> Vec<u8> {
    if s.is_empty() {
        return b"''".to_vec();
    }
    let needs_ansi = chars(s).any(|c| match c {
        Ok(ch) => !ch.chars().all(printable),
        Err(_) => true,
    });
    let mut out = Vec::with_capacity(s.len() + 8);
    if needs_ansi {
        out.extend_from_slice(b"$'");
        for c in chars(s) {
            match c {
                Ok(ch) => {
                    let code = ch.chars().next().unwrap_or('\0');
                    match code {
                        '\x1b' => out.extend_from_slice(b"\\E"),
                        '\x07' => out.extend_from_slice(b"\\a"),
                        '\x08' => out.extend_from_slice(b"\\b"),
                        '\x0c' => out.extend_from_slice(b"\\f"),
                        '\n' => out.extend_from_slice(b"\\n"),
                        '\r' => out.extend_from_slice(b"\\r"),
                        '\t' => out.extend_from_slice(b"\\t"),
                        '\x0b' => out.extend_from_slice(b"\\v"),
                        '\\' => out.extend_from_slice(b"\\\\"),
                        '\'' => out.extend_from_slice(b"\\'"),
                        c if printable(c) => out.extend_from_slice(ch.as_bytes()),
                        _ => {
                            for &byte in ch.as_bytes() {
                                out.extend_from_slice(format!("\\{byte:03o}").as_bytes());
                            }
                        }
                    }
                }
                Err(byte) => out.extend_from_slice(format!("\\{byte:03o}").as_bytes()),
            }
        }
        out.push(b'\'');
        return out;
    }
    let mut prev: Option<u8> = None;
    for (i, &b) in s.iter().enumerate() {
        let quote = SPECIAL.contains(&b)
            || (b == b'~' && (i == 0 || matches!(prev, Some(b'=' | b':'))))
            || (b == b'#' && i == 0);
        if quote {
            out.push(b'\\');
        }
        out.push(b);
        prev = Some(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &[u8]) -> String {
        String::from_utf8_lossy(&shell_quote(s)).into_owned()
    }

    #[test]
    fn quotes_as_bash() {
        assert_eq!(q(b""), "''");
        assert_eq!(q(b"a b"), "a\\ b");
        assert_eq!(q(b"x'y"), "x\\'y");
        assert_eq!(q(b"a\nb"), "$'a\\nb'");
        assert_eq!(q("é".as_bytes()), "é");
        assert_eq!(q(b"~x"), "\\~x");
        assert_eq!(q(b"a~"), "a~");
        assert_eq!(q(b"x=~"), "x=\\~");
        assert_eq!(q(b"#a"), "\\#a");
        assert_eq!(q(b"a#"), "a#");
        assert_eq!(q(b"a,b"), "a\\,b");
        assert_eq!(q(b"a\tb c\x7f"), "$'a\\tb c\\177'");
        assert_eq!(q(b"\x1b\xff"), "$'\\E\\377'");
        assert_eq!(q("\u{85}".as_bytes()), "$'\\302\\205'");
    }
}
