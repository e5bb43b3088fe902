//! `${x@OP}` parameter transformations (bash 5.2 manual, "Shell Parameter
//! Expansion"): `Q` quotes for reuse as input, `E` expands backslash escapes
//! as `$'…'` does, `U`/`L`/`u` convert case, `K`/`k` quote (as `Q` for a
//! scalar value), `a` lists a variable's attributes and `A` recreates it.

/// Applies transformation `op` to one value. `Err(())` for an operator
/// this function does not implement (`A` and `a`: see [`attributes`];
/// `P`, prompt expansion), which the caller reports.
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

/// `${x@a}` (the attribute letters, in bash's order `aAinrtxclu`) and
/// `${x@A}` (an assignment or `declare` command that recreates the
/// variable) for the variable `name`. `whole`: the `[@]`/`[*]` form of an
/// array. `None` when bash's answer is not modelled (an element `[i]`).
pub fn attributes(
    op: char,
    name: &str,
    var: Option<&crate::state::Var>,
    index: Option<&str>,
    whole: bool,
) -> Option<String> {
    use crate::state::Value;
    let Some(var) = var else {
        return Some(String::new());
    };
    let mut flags = String::new();
    match &var.value {
        Value::Indexed(_) => flags.push('a'),
        Value::Assoc(_) => flags.push('A'),
        Value::Scalar(_) => {}
    }
    if var.integer {
        flags.push('i');
    }
    if var.readonly {
        flags.push('r');
    }
    if var.exported {
        flags.push('x');
    }
    match var.case {
        Some(false) => flags.push('l'),
        Some(true) => flags.push('u'),
        None => {}
    }
    if op == 'a' {
        return Some(flags);
    }
    if index.is_some() && !whole {
        return None;
    }
    let dq = |v: &str| {
        let mut s = String::from("\"");
        for c in v.chars() {
            if matches!(c, '"' | '\\' | '$' | '`') {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('"');
        s
    };
    let head = if flags.is_empty() {
        String::new()
    } else {
        format!("declare -{flags} ")
    };
    Some(match &var.value {
        Value::Scalar(v) => format!("{head}{name}={}", quote(v)),
        Value::Indexed(m) if whole => {
            let items: Vec<String> = m.iter().map(|(k, v)| format!("[{k}]={}", dq(v))).collect();
            format!("{head}{name}=({})", items.join(" "))
        }
        Value::Assoc(m) if whole => {
            let items: String = m.iter().map(|(k, v)| format!("[{k}]={} ", dq(v))).collect();
            format!("{head}{name}=({items})")
        }
        other => format!("{head}{name}={}", quote(&other.scalar())),
    })
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
