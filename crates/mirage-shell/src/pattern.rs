//! Glob patterns as bash matches them (`*`, `?`, `[…]` with `!`/`^`,
//! ranges and `[:class:]`, `\` escapes), and pathname expansion against the
//! [`Vfs`]. Hidden names match only a pattern that starts with `.`; results
//! are sorted in byte order (LC_ALL=C.UTF-8).

use mirage_types::Vfs;

/// Whether `pat` contains an unescaped glob character.
pub fn has_glob(pat: &str) -> bool {
    let mut esc = false;
    for c in pat.chars() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// Removes backslash escapes (a pattern back to its literal text).
pub fn unescape(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len());
    let mut esc = false;
    for c in pat.chars() {
        if esc {
            out.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    if esc {
        out.push('\\');
    }
    out
}

/// Escapes glob characters and backslashes in literal text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether the whole of `text` matches `pat` (fnmatch without FNM_PATHNAME).
pub fn matches(pat: &str, text: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_at(&p, 0, &t, 0)
}

fn match_at(p: &[char], mut pi: usize, t: &[char], mut ti: usize) -> bool {
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    while pi < p.len() && p[pi] == '*' {
                        pi += 1;
                    }
                    if pi == p.len() {
                        return true;
                    }
                    star = Some((pi, ti));
                    continue;
                }
                '?' if ti < t.len() => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' if ti < t.len() => {
                    if let Some((ok, next)) = bracket(p, pi, t[ti]) {
                        if ok {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && ti < t.len() && p[pi + 1] == t[ti] => {
                    pi += 2;
                    ti += 1;
                    continue;
                }
                c if c != '\\' && c != '?' && c != '[' && ti < t.len() && c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        } else if ti == t.len() {
            return true;
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                star = Some((sp, st + 1));
                pi = sp;
                ti = st + 1;
            }
            _ => return false,
        }
    }
}

/// Matches one bracket expression at `p[start]` (`[`) against `c`: returns
/// whether it matched and the index after `]`, or `None` if unterminated.
fn bracket(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        let ch = p[i];
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if ch == '[' && p.get(i + 1) == Some(&':') {
            let rest: String = p[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let class = &rest[..end];
                if class_match(class, c) {
                    matched = true;
                }
                i += 2 + end + 2;
                continue;
            }
        }
        let (lo, next) = if ch == '\\' && i + 1 < p.len() {
            (p[i + 1], i + 2)
        } else {
            (ch, i + 1)
        };
        if p.get(next) == Some(&'-') && p.get(next + 1).is_some_and(|&x| x != ']') {
            let hi_i = next + 1;
            let (hi, after) = if p[hi_i] == '\\' && hi_i + 1 < p.len() {
                (p[hi_i + 1], hi_i + 2)
            } else {
                (p[hi_i], hi_i + 1)
            };
            if lo <= c && c <= hi {
                matched = true;
            }
            i = after;
        } else {
            if lo == c {
                matched = true;
            }
            i = next;
        }
    }
    None
}

fn class_match(class: &str, c: char) -> bool {
    match class {
        "alpha" => c.is_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_alphanumeric(),
        "upper" => c.is_uppercase(),
        "lower" => c.is_lowercase(),
        "space" => c.is_whitespace(),
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_control(),
        "print" => !c.is_control(),
        "graph" => !c.is_control() && c != ' ',
        _ => false,
    }
}

/// Expands the pathname pattern `pat` (escaped as [`escape`] does) against
/// the VFS, relative to `cwd`. Returns the sorted matches as they should
/// appear (relative when the pattern was relative), or an empty list.
pub async fn glob(vfs: &dyn Vfs, cwd: &str, pat: &str) -> Vec<String> {
    let absolute = pat.starts_with('/');
    let comps: Vec<&str> = pat.split('/').filter(|c| !c.is_empty()).collect();
    // (display prefix, absolute dir)
    let mut current: Vec<(String, String)> = vec![if absolute {
        ("/".into(), "/".into())
    } else {
        (String::new(), cwd.to_string())
    }];
    let trailing_slash = pat.ends_with('/') && pat.len() > 1;
    for (ci, comp) in comps.iter().enumerate() {
        let last = ci + 1 == comps.len();
        let mut next = Vec::new();
        for (shown, dir) in &current {
            if !has_glob(comp) {
                let name = unescape(comp);
                let abs = mirage_types::join_path(dir, &name);
                let shown2 = format!("{shown}{name}");
                if last {
                    if vfs.stat(&abs).await.is_ok() {
                        next.push((shown2, abs));
                    }
                } else {
                    next.push((format!("{shown2}/"), abs));
                }
                continue;
            }
            let Ok(entries) = vfs.readdir(dir).await else {
                continue;
            };
            let dot_ok = comp.starts_with('.') || comp.starts_with("\\.");
            for e in entries {
                if e.name.starts_with('.') && !dot_ok {
                    continue;
                }
                if !matches(comp, &e.name) {
                    continue;
                }
                if (!last || trailing_slash) && !e.is_dir() {
                    continue;
                }
                let abs = mirage_types::join_path(dir, &e.name);
                let shown2 = format!("{shown}{}", e.name);
                next.push((if last { shown2 } else { format!("{shown2}/") }, abs));
            }
        }
        current = next;
        if current.is_empty() {
            return Vec::new();
        }
    }
    let mut out: Vec<String> = current
        .into_iter()
        .map(|(s, _)| if trailing_slash { format!("{s}/") } else { s })
        .collect();
    out.sort_by(|a, b| mirage_types::bytestr::cmp(a, b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txt.bak"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("[[:digit:]]*", "9lives"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXbYc"));
    }
}
