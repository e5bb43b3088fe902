//! GNU BRE/ERE → `regex` crate syntax.

use crate::RegexError;

/// Appends `c` to `out` as a literal in `regex` syntax.
/// A byte that Mirage's string form carries as an escape character
/// ([`mirage_types::bytestr`]) becomes `(?-u:\xNN)`, so the pattern matches
/// that raw byte, as GNU grep matches the bytes of its pattern.
pub(crate) fn push_literal(out: &mut String, c: char) {
    let mut b = [0u8; 4];
    let enc = c.encode_utf8(&mut b);
    match mirage_types::bytestr::encode(enc) {
        std::borrow::Cow::Owned(raw) => {
            for byte in raw {
                out.push_str(&format!("(?-u:\\x{byte:02X})"));
            }
        }
        std::borrow::Cow::Borrowed(_) => out.push_str(&regex::escape(enc)),
    }
}

/// `s` as a regex that matches it literally, byte for byte.
pub(crate) fn literal_regex(s: &str) -> String {
    if !mirage_types::bytestr::has_escapes(s) {
        return regex::escape(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_literal(&mut out, c);
    }
    out
}

/// Parses an interval body starting at `chars[i]` (just after the `{`),
/// ending with `}` (or `\}` in a BRE). Returns the `regex` interval and
/// the index after it, or `None` when it is not a valid interval.
fn parse_interval(chars: &[char], mut i: usize, extended: bool) -> Option<(String, usize)> {
    let mut lo = String::new();
    while i < chars.len() && chars[i].is_ascii_digit() {
        lo.push(chars[i]);
        i += 1;
    }
    let mut hi: Option<String> = None;
    if i < chars.len() && chars[i] == ',' {
        i += 1;
        let mut h = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            h.push(chars[i]);
            i += 1;
        }
        hi = Some(h);
    }
    if extended {
        if chars.get(i) != Some(&'}') {
            return None;
        }
        i += 1;
    } else {
        if chars.get(i) != Some(&'\\') || chars.get(i + 1) != Some(&'}') {
            return None;
        }
        i += 2;
    }
    if lo.is_empty() && hi.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let lo = if lo.is_empty() { "0".to_string() } else { lo };
    let s = match hi {
        None => format!("{{{lo}}}"),
        Some(h) if h.is_empty() => format!("{{{lo},}}"),
        Some(h) => {
            let (a, b) = (lo.parse::<u64>().ok()?, h.parse::<u64>().ok()?);
            if a > b {
                return None;
            }
            format!("{{{lo},{h}}}")
        }
    };
    Some((s, i))
}

/// Translates a bracket expression starting at `chars[i] == '['`; returns
/// the `regex` class and the index after the closing `]`.
fn translate_bracket(chars: &[char], mut i: usize) -> Result<(String, usize), RegexError> {
    const UNMATCHED: &str = "Unmatched [, [^, [:, [., or [=";
    let mut out = String::from("[");
    i += 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(RegexError::syntax(UNMATCHED));
        };
        if c == ']' && !first {
            out.push(']');
            return Ok((out, i + 1));
        }
        first = false;
        if c == '['
            && let Some(&k) = chars.get(i + 1)
            && (k == ':' || k == '=' || k == '.')
        {
            // find the closing k]
            let mut j = i + 2;
            while j + 1 < chars.len() && !(chars[j] == k && chars[j + 1] == ']') {
                j += 1;
            }
            if j + 1 >= chars.len() {
                return Err(RegexError::syntax(UNMATCHED));
            }
            let inner: String = chars[i + 2..j].iter().collect();
            if k == ':' {
                const CLASSES: &[&str] = &[
                    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                    "punct", "space", "upper", "xdigit",
                ];
                if !CLASSES.contains(&inner.as_str()) {
                    return Err(RegexError::syntax("Invalid character class name"));
                }
                out.push_str(&format!("[:{inner}:]"));
            } else {
                for ch in inner.chars() {
                    push_class_char(&mut out, ch);
                }
            }
            i = j + 2;
            continue;
        }
        if c == '-' {
            out.push('-');
        } else {
            push_class_char(&mut out, c);
        }
        i += 1;
    }
}

/// Appends a literal character inside a `regex` class.
fn push_class_char(out: &mut String, c: char) {
    if matches!(c, '\\' | '[' | ']' | '&' | '~' | '^' | '-') {
        out.push('\\');
    }
    out.push(c);
}

/// Translates a POSIX regular expression as GNU grep reads it (a basic RE
/// when `extended` is false, an extended RE otherwise) into `regex` crate
/// syntax. In a BRE `\( \) \{ \} \| \+ \?` are operators and bare
/// `( ) { } | + ?` are literal; `*` at the start of an expression is
/// literal; `\<`, `\>`, `\w`, `\s`, `\b` keep their GNU meaning. The error
/// is GNU's diagnostic (`Unmatched ( or \(`).
pub(crate) fn translate_posix(pat: &str, extended: bool) -> Result<String, RegexError> {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len() + 8);
    let mut i = 0;
    let mut at_start = true;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                return Err(RegexError::syntax("Trailing backslash"));
            };
            i += 2;
            if !extended {
                match n {
                    '(' => {
                        out.push('(');
                        depth += 1;
                        at_start = true;
                        continue;
                    }
                    ')' => {
                        if depth == 0 {
                            return Err(RegexError::syntax("Unmatched ) or \\)"));
                        }
                        depth -= 1;
                        out.push(')');
                        at_start = false;
                        continue;
                    }
                    '|' => {
                        out.push('|');
                        at_start = true;
                        continue;
                    }
                    '{' => {
                        if at_start {
                            push_literal(&mut out, '{');
                            at_start = false;
                            continue;
                        }
                        match parse_interval(&chars, i, false) {
                            Some((s, next)) => {
                                out.push_str(&s);
                                i = next;
                                continue;
                            }
                            None => return Err(RegexError::syntax("Unmatched \\{")),
                        }
                    }
                    '}' => {
                        push_literal(&mut out, '}');
                        at_start = false;
                        continue;
                    }
                    '+' | '?' => {
                        if at_start {
                            push_literal(&mut out, n);
                            at_start = false;
                        } else {
                            out.push(n);
                        }
                        continue;
                    }
                    _ => {}
                }
            }
            match n {
                '<' => out.push_str(r"\b{start}"),
                '>' => out.push_str(r"\b{end}"),
                'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                    out.push('\\');
                    out.push(n);
                }
                '`' => out.push_str(r"\A"),
                '\'' => out.push_str(r"\z"),
                '1'..='9' => return Err(RegexError::back_reference()),
                _ => push_literal(&mut out, n),
            }
            at_start = false;
            continue;
        }
        i += 1;
        match c {
            '[' => {
                let (cls, next) = translate_bracket(&chars, i - 1)?;
                out.push_str(&cls);
                i = next;
                at_start = false;
            }
            '.' => {
                out.push('.');
                at_start = false;
            }
            '*' => {
                if at_start {
                    push_literal(&mut out, '*');
                    at_start = false;
                } else {
                    out.push('*');
                }
            }
            '^' => {
                if extended || at_start {
                    out.push('^');
                } else {
                    push_literal(&mut out, '^');
                    at_start = false;
                }
            }
            '$' => {
                let anchor = extended
                    || i == chars.len()
                    || (chars.get(i) == Some(&'\\') && matches!(chars.get(i + 1), Some(')' | '|')));
                if anchor {
                    out.push('$');
                } else {
                    push_literal(&mut out, '$');
                }
                at_start = false;
            }
            '(' if extended => {
                out.push('(');
                depth += 1;
                at_start = true;
            }
            ')' if extended => {
                if depth == 0 {
                    push_literal(&mut out, ')');
                } else {
                    depth -= 1;
                    out.push(')');
                }
                at_start = false;
            }
            '|' if extended => {
                out.push('|');
                at_start = true;
            }
            '+' | '?' if extended => {
                if at_start {
                    push_literal(&mut out, c);
                    at_start = false;
                } else {
                    out.push(c);
                }
            }
            '{' if extended => {
                if at_start {
                    push_literal(&mut out, '{');
                    at_start = false;
                    continue;
                }
                match parse_interval(&chars, i, true) {
                    Some((s, next)) => {
                        out.push_str(&s);
                        i = next;
                    }
                    None => push_literal(&mut out, '{'),
                }
            }
            _ => {
                push_literal(&mut out, c);
                at_start = false;
            }
        }
    }
    if depth > 0 {
        return Err(RegexError::syntax("Unmatched ( or \\("));
    }
    Ok(out)
}
