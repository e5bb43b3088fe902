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

/// `${x@a}` (the attribute letters, in bash's order `aAinrxlu`; one
/// word per element for `[@]`) and `${x@A}` (an assignment or `declare`
/// command that recreates the variable, or with `[i]` its element) for the
/// variable `name` (already resolved through name references). `whole`:
/// the `[@]`/`[*]` form. An unset variable gives one empty word.
pub fn attributes(
    op: char,
    name: &str,
    st: &crate::state::ShellState,
    index: Option<&str>,
    whole: bool,
) -> Option<Vec<String>> {
    use crate::state::Value;
    let Some(var) = st.vars.get(name) else {
        return Some(vec![String::new()]);
    };
    let flags = attr_letters(var);
    if op == 'a' {
        let n = if whole { var.value.elements().len() } else { 1 };
        return Some(vec![flags; n]);
    }
    let head = if flags.is_empty() {
        String::new()
    } else {
        format!("declare -{flags} ")
    };
    if whole && !matches!(var.value, Value::Scalar(_)) {
        let line = print_var(name, var);
        return Some(vec![line.trim_end_matches('\n').replacen(
            "declare -- ",
            "",
            1,
        )]);
    }
    let value = match index {
        Some(k) if !whole => crate::expand::lookup_subscripted(st, &format!("{name}[{k}]")),
        _ if matches!(var.value, Value::Scalar(_)) => st.get(name),
        _ => crate::expand::lookup_subscripted(st, &format!("{name}[0]")),
    };
    Some(vec![match value {
        Some(v) => format!("{head}{name}={}", quote(&v)),
        None if head.is_empty() => String::new(),
        None => format!("declare -{flags} {name}"),
    }])
}

/// The attribute letters of `v` in bash's order (`aAinrtxlu`), as
/// `declare -p` and `${x@a}` show them.
pub fn attr_letters(v: &crate::state::Var) -> String {
    use crate::state::Value;
    let mut f = String::new();
    match &v.value {
        Value::Indexed(_) => f.push('a'),
        Value::Assoc(_) => f.push('A'),
        Value::Scalar(_) => {}
    }
    if v.integer {
        f.push('i');
    }
    if v.nameref {
        f.push('n');
    }
    if v.readonly {
        f.push('r');
    }
    if v.exported {
        f.push('x');
    }
    match v.case {
        Some(false) => f.push('l'),
        Some(true) => f.push('u'),
        None => {}
    }
    f
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

/// An associative array key as `declare -p` shows it: bare, or quoted
/// when it holds characters special to the shell.
fn key_text(k: &str) -> String {
    if k.is_empty()
        || k.chars()
            .any(|c| " \t\n'\"\\|&;()<>!{}*[]?^$`~#=%".contains(c))
    {
        dquote(k)
    } else {
        k.to_string()
    }
}

/// One `declare -p` line for variable `name` (bash 5.2's format).
pub fn print_var(name: &str, v: &crate::state::Var) -> String {
    let flags = attr_letters(v);
    let flags = if flags.is_empty() {
        "--".to_string()
    } else {
        format!("-{flags}")
    };
    if v.no_value {
        return format!("declare {flags} {name}\n");
    }
    match &v.value {
        crate::state::Value::Scalar(s) => format!("declare {flags} {name}={}\n", dquote(s)),
        crate::state::Value::Indexed(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("[{k}]={}", dquote(x)))
                .collect();
            format!("declare {flags} {name}=({})\n", items.join(" "))
        }
        crate::state::Value::Assoc(p) => {
            let items: String = crate::state::assoc_order(p)
                .map(|(k, x)| format!("[{}]={} ", key_text(k), dquote(x)))
                .collect();
            format!("declare {flags} {name}=({items})\n")
        }
    }
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
