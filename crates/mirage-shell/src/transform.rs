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

/// The backslash escapes of prompt strings (`${x@P}`, bash's "PROMPTING"):
/// `\u` (the user, `root`), `\h`/`\H` (the host), `\w`/`\W` (the current
/// directory, `~` for `$HOME`), `\$` (`#` for root), `\s` (`bash`), `\v`/`\V`
/// (the version), `\n`, `\r`, `\a`, `\e`, `\\`, `\NNN` (octal), and `\[`/`\]`
/// (removed). Times and dates (`\t`, `\d`, `\D{…}`) come from the clock.
/// Parameter and command expansion of the result is left to the caller.
pub fn prompt(v: &str, st: &crate::state::ShellState) -> String {
    let home = st.get("HOME").unwrap_or_default();
    let tilde = |p: &str| {
        if !home.is_empty() && (p == home || p.starts_with(&format!("{home}/"))) {
            format!("~{}", &p[home.len()..])
        } else {
            p.to_string()
        }
    };
    let mut out = String::new();
    let chars: Vec<char> = v.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = chars.get(i) else {
            out.push('\\');
            break;
        };
        i += 1;
        match e {
            'u' => out.push_str("root"),
            'h' | 'H' => out.push_str(crate::special::HOST_NAME),
            'w' => out.push_str(&tilde(&st.cwd)),
            'W' => {
                let t = tilde(&st.cwd);
                if t == "/" || t == "~" {
                    out.push_str(&t);
                } else {
                    out.push_str(t.rsplit('/').next().unwrap_or(&t));
                }
            }
            '$' => out.push('#'),
            's' => out.push_str("bash"),
            'v' => out.push_str("5.2"),
            'V' => out.push_str("5.2.15"),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'e' => out.push('\x1b'),
            '\\' => out.push('\\'),
            '[' | ']' => {}
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                let mut k = 1;
                while k < 3
                    && let Some(d) = chars.get(i).and_then(|c| c.to_digit(8))
                {
                    n = n * 8 + d;
                    i += 1;
                    k += 1;
                }
                out.push(char::from_u32(n & 0xff).unwrap_or('?'));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// `${a[@]@K}` / `${a[@]@k}` of an array: its keys and values as
/// `key "value"` pairs (one word with `K`, separate words with `k`);
/// `None` for a scalar (quoted as `@Q`).
pub fn key_values(op: char, value: &crate::state::Value) -> Option<Vec<String>> {
    use crate::state::Value;
    let pairs: Vec<(String, String)> = match value {
        Value::Scalar(_) => return None,
        Value::Indexed(m) => m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        Value::Assoc(p) => crate::state::assoc_order(p).cloned().collect(),
    };
    let dq = dquote;
    if op == 'k' {
        return Some(pairs.iter().flat_map(|(k, v)| [k.clone(), dq(v)]).collect());
    }
    Some(vec![
        pairs
            .iter()
            .map(|(k, v)| format!("{k} {}", dq(v)))
            .collect::<Vec<_>>()
            .join(" "),
    ])
}

/// Quotes a value as `declare -p` does: `"…"` with `"`, `\`, `$` and
/// `` ` `` escaped, or `$'…'` when it holds control characters.
pub fn dquote(v: &str) -> String {
    if v.chars().any(|c| (c as u32) < 0x20 || c == '\x7f') {
        return quote(v);
    }
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
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
