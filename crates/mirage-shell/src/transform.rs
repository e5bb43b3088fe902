//! `${x@OP}` parameter transformations (bash 5.2 manual, "Shell Parameter
//! Expansion"): `Q` quotes for reuse as input, `E` expands backslash escapes
//! as `$'…'` does, `U`/`L`/`u` convert case, `K`/`k` quote (as `Q` for a
//! scalar value).

/// Applies transformation `op` to one value. `Err(())` for an operator
/// Mirage does not implement (`A`, `a`, `P`), which the caller reports.
#[allow(clippy::result_unit_err)]
pub fn apply(op: char, v: &str) -> Result<String, ()> {
    Ok(match op {
        'Q' | 'K' | 'k' => quote(v),
        'E' => crate::word::expand_escapes(v),
        'U' => v.to_uppercase(),
        'L' => v.to_lowercase(),
        'u' => {
            let mut it = v.chars();
            match it.next() {
                Some(c) => c.to_uppercase().chain(it).collect(),
                None => String::new(),
            }
        }
        _ => return Err(()),
    })
}

/// Quotes `v` as bash's `${x@Q}` does: `'…'` with `'\''` for a quote, or
/// `$'…'` when it holds control characters.
pub fn quote(v: &str) -> String {
    if !v.chars().any(|c| (c as u32) < 0x20 || c == '\x7f') {
        return format!("'{}'", v.replace('\'', "'\\''"));
    }
    let mut s = String::from("$'");
    for c in v.chars() {
        match c {
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            '\x1b' => s.push_str("\\E"),
            '\x07' => s.push_str("\\a"),
            '\x08' => s.push_str("\\b"),
            '\x0c' => s.push_str("\\f"),
            '\x0b' => s.push_str("\\v"),
            '\\' => s.push_str("\\\\"),
            '\'' => s.push_str("\\'"),
            c if (c as u32) < 0x20 || c == '\x7f' => s.push_str(&format!("\\{:03o}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('\'');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms() {
        assert_eq!(apply('Q', "it's").unwrap(), "'it'\\''s'");
        assert_eq!(apply('Q', "a\nb").unwrap(), "$'a\\nb'");
        assert_eq!(apply('E', "a\\tb").unwrap(), "a\tb");
        assert_eq!(apply('U', "abc").unwrap(), "ABC");
        assert_eq!(apply('u', "abc").unwrap(), "Abc");
        assert_eq!(apply('L', "ABC").unwrap(), "abc");
        assert!(apply('A', "x").is_err());
    }
}
