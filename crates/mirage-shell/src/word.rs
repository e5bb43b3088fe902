//! The word lexer: turns a word's source text into [`WordPart`]s with bash's
//! quoting rules (bash 5.2 manual, "Quoting" and "Shell Expansions").

use std::sync::Arc;

use crate::ast::{ParamExp, ParamOp, ReplaceMode, Word, WordPart};
use crate::parse::{SyntaxError, parse_script};

type Res<T> = Result<T, SyntaxError>;

/// Lexes one whole word (unquoted context).
pub fn lex_word(text: &str) -> Res<Word> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let parts = lex_parts(&chars, &mut pos, Ctx::Unquoted, &|_, _| false)?;
    Ok(Word { parts, src: None })
}

/// Lexes text with double-quote rules but no closing quote (here-document
/// bodies, arithmetic): `$` and backquote expand, `\` escapes `$ \` and newline.
pub fn lex_heredoc(text: &str) -> Res<Word> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let parts = lex_parts(&chars, &mut pos, Ctx::HereDoc, &|_, _| false)?;
    Ok(Word {
        parts: vec![WordPart::Double(parts)],
        src: None,
    })
}

/// Splits source text into words at unquoted blanks (the inside of a
/// compound assignment `a=(…)`).
pub fn lex_words(text: &str) -> Res<Vec<Word>> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        while pos < chars.len() && matches!(chars[pos], ' ' | '\t' | '\n') {
            pos += 1;
        }
        if pos >= chars.len() {
            break;
        }
        if chars[pos] == '\\' && chars.get(pos + 1) == Some(&'\n') {
            pos += 2;
            continue;
        }
        let start = pos;
        let parts = lex_parts(&chars, &mut pos, Ctx::Unquoted, &|c, _| {
            matches!(c, ' ' | '\t' | '\n')
        })?;
        // the element as written, for the function printer
        let src = crate::parse::recording().then(|| chars[start..pos].iter().collect());
        out.push(Word { parts, src });
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Unquoted,
    Double,
    HereDoc,
    /// Inside `${x:-…}`: quotes work, `}` ends.
    Param,
}

fn lex_parts(
    chars: &[char],
    pos: &mut usize,
    ctx: Ctx,
    stop: &dyn Fn(char, usize) -> bool,
) -> Res<Vec<WordPart>> {
    let _depth = crate::parse::DepthGuard::enter()?;
    crate::parse::grow(|| lex_parts_inner(chars, pos, ctx, stop))
}

fn lex_parts_inner(
    chars: &[char],
    pos: &mut usize,
    ctx: Ctx,
    stop: &dyn Fn(char, usize) -> bool,
) -> Res<Vec<WordPart>> {
    let mut parts: Vec<WordPart> = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, parts: &mut Vec<WordPart>, quoted: bool| {
        if !lit.is_empty() {
            let s = std::mem::take(lit);
            parts.push(if quoted {
                WordPart::Quoted(s)
            } else {
                WordPart::Lit(s)
            });
        }
    };
    let in_quotes = matches!(ctx, Ctx::Double | Ctx::HereDoc);
    while *pos < chars.len() {
        let c = chars[*pos];
        if ctx == Ctx::Double && c == '"' {
            break;
        }
        if ctx == Ctx::Param && c == '}' {
            break;
        }
        if matches!(ctx, Ctx::Unquoted | Ctx::Param) && stop(c, *pos) {
            break;
        }
        match c {
            '\\' => {
                let next = chars.get(*pos + 1).copied();
                match next {
                    None => {
                        lit.push('\\');
                        *pos += 1;
                    }
                    Some('\n') => *pos += 2,
                    Some(n) if in_quotes => {
                        if matches!(n, '$' | '`' | '\\') || (ctx == Ctx::Double && n == '"') {
                            lit.push(n);
                        } else {
                            lit.push('\\');
                            lit.push(n);
                        }
                        *pos += 2;
                    }
                    Some(n) => {
                        flush(&mut lit, &mut parts, false);
                        parts.push(WordPart::Quoted(n.to_string()));
                        *pos += 2;
                    }
                }
            }
            '\'' if !in_quotes => {
                flush(&mut lit, &mut parts, false);
                let start = *pos + 1;
                let end = find_char(chars, start, '\'').ok_or_else(|| SyntaxError::eof("'"))?;
                parts.push(WordPart::Quoted(chars[start..end].iter().collect()));
                *pos = end + 1;
            }
            '"' if !in_quotes => {
                flush(&mut lit, &mut parts, false);
                *pos += 1;
                let inner = lex_parts(chars, pos, Ctx::Double, &|_, _| false)?;
                if chars.get(*pos) != Some(&'"') {
                    return Err(SyntaxError::eof("\""));
                }
                *pos += 1;
                parts.push(WordPart::Double(inner));
            }
            '<' | '>' if ctx == Ctx::Unquoted && chars.get(*pos + 1) == Some(&'(') => {
                flush(&mut lit, &mut parts, false);
                let end = crate::parse::subst_end(chars, *pos + 2)?;
                let inner: String = chars[*pos + 2..end].iter().collect();
                let script = parse_script(&inner)?;
                if c == '<' {
                    parts.push(WordPart::ProcSub(Arc::new(script)));
                } else {
                    parts.push(WordPart::OutProcSub(Arc::new(script)));
                }
                *pos = end + 1;
            }
            '`' => {
                flush(&mut lit, &mut parts, in_quotes);
                let start = *pos + 1;
                let mut i = start;
                let mut body = String::new();
                while i < chars.len() && chars[i] != '`' {
                    if chars[i] == '\\'
                        && i + 1 < chars.len()
                        && matches!(chars[i + 1], '$' | '`' | '\\')
                    {
                        body.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    body.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(SyntaxError::eof("`"));
                }
                *pos = i + 1;
                // bash parses a backquoted command only when it runs it
                let script =
                    parse_script(&body).unwrap_or_else(|e| crate::parse::error_script(&e, &body));
                parts.push(WordPart::CmdSub(Arc::new(script)));
            }
            '$' => {
                let next = chars.get(*pos + 1).copied();
                match next {
                    Some('\'') if !in_quotes => {
                        flush(&mut lit, &mut parts, false);
                        let (s, end) = ansi_c(chars, *pos + 2)?;
                        parts.push(WordPart::Quoted(s));
                        *pos = end;
                    }
                    Some('"') if !in_quotes => {
                        // $"…" (locale translation) is a plain double-quoted string.
                        *pos += 1;
                    }
                    Some('(')
                        if chars.get(*pos + 2) == Some(&'(')
                            && arith_close(chars, *pos + 3).is_some() =>
                    {
                        flush(&mut lit, &mut parts, in_quotes);
                        let end = arith_close(chars, *pos + 3).unwrap_or(chars.len());
                        let inner: String = chars[*pos + 3..end].iter().collect();
                        parts.push(WordPart::Arith(lex_heredoc(&inner)?));
                        *pos = end + 2;
                    }
                    Some('(') => {
                        flush(&mut lit, &mut parts, in_quotes);
                        let end = crate::parse::subst_end(chars, *pos + 2)?;
                        let inner: String = chars[*pos + 2..end].iter().collect();
                        parts.push(WordPart::CmdSub(Arc::new(parse_script(&inner)?)));
                        *pos = end + 1;
                    }
                    Some('[') if find_char(chars, *pos + 2, ']').is_some() => {
                        // `$[expr]`: the old form of `$((expr))`
                        flush(&mut lit, &mut parts, in_quotes);
                        let end = crate::parse::bracket_end(chars, *pos + 1, false)
                            .unwrap_or(chars.len());
                        let inner: String = chars[*pos + 2..end.min(chars.len())].iter().collect();
                        parts.push(WordPart::Arith(lex_heredoc(&inner)?));
                        *pos = (end + 1).min(chars.len());
                    }
                    Some('{') => {
                        flush(&mut lit, &mut parts, in_quotes);
                        *pos += 2;
                        let p = lex_brace_param(chars, pos)?;
                        parts.push(WordPart::Param(Box::new(p)));
                    }
                    Some(n) if n == '_' || n.is_ascii_alphabetic() => {
                        flush(&mut lit, &mut parts, in_quotes);
                        let start = *pos + 1;
                        let mut i = start;
                        while i < chars.len()
                            && (chars[i] == '_' || chars[i].is_ascii_alphanumeric())
                        {
                            i += 1;
                        }
                        parts.push(param(chars[start..i].iter().collect()));
                        *pos = i;
                    }
                    Some(n) if n.is_ascii_digit() || "@*#?$!-".contains(n) => {
                        flush(&mut lit, &mut parts, in_quotes);
                        parts.push(param(n.to_string()));
                        *pos += 2;
                    }
                    _ => {
                        lit.push('$');
                        *pos += 1;
                    }
                }
            }
            _ => {
                lit.push(c);
                *pos += 1;
            }
        }
    }
    flush(&mut lit, &mut parts, in_quotes);
    Ok(parts)
}

fn param(name: String) -> WordPart {
    WordPart::Param(Box::new(ParamExp {
        name,
        index: None,
        indirect: false,
        op: ParamOp::Plain,
    }))
}

fn find_char(chars: &[char], from: usize, c: char) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i] == c)
}

/// For `$((`: the index of the first `)` of the closing `))`.
fn arith_close(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ')' => {
                return if chars.get(i + 1) == Some(&')') {
                    Some(i)
                } else {
                    None
                };
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Expands backslash escapes in `v` as `$'…'` does (`${x@E}`).
pub fn expand_escapes(v: &str) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(v.len() + 2);
    for c in v.chars() {
        if c == '\'' {
            chars.push('\\');
        }
        chars.push(c);
    }
    if chars.last() == Some(&'\\')
        && chars.iter().rev().take_while(|c| **c == '\\').count() % 2 == 1
    {
        chars.push('\\');
    }
    chars.push('\'');
    ansi_c(&chars, 0)
        .map(|(s, _)| s)
        .unwrap_or_else(|_| v.to_string())
}

fn ansi_c(chars: &[char], from: usize) -> Res<(String, usize)> {
    let mut s = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut i = from;
    let flush = |bytes: &mut Vec<u8>, s: &mut String| {
        if !bytes.is_empty() {
            s.push_str(&mirage_types::bytestr::decode(bytes));
            bytes.clear();
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            flush(&mut bytes, &mut s);
            return Ok((s, i + 1));
        }
        if c != '\\' {
            flush(&mut bytes, &mut s);
            s.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&e) = chars.get(i) else { break };
        i += 1;
        match e {
            'n' => bytes.push(b'\n'),
            't' => bytes.push(b'\t'),
            'r' => bytes.push(b'\r'),
            'a' => bytes.push(7),
            'b' => bytes.push(8),
            'e' | 'E' => bytes.push(27),
            'f' => bytes.push(12),
            'v' => bytes.push(11),
            '\\' => bytes.push(b'\\'),
            '\'' => bytes.push(b'\''),
            '"' => bytes.push(b'"'),
            '?' => bytes.push(b'?'),
            '0'..='7' => {
                let mut v: u32 = e as u32 - '0' as u32;
                let mut n = 1;
                while n < 3 && i < chars.len() && ('0'..='7').contains(&chars[i]) {
                    v = v * 8 + (chars[i] as u32 - '0' as u32);
                    i += 1;
                    n += 1;
                }
                bytes.push((v & 0xff) as u8);
            }
            'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i < chars.len() && chars[i].is_ascii_hexdigit() {
                    v = v * 16 + chars[i].to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    bytes.extend_from_slice(b"\\x");
                } else {
                    bytes.push(v as u8);
                }
            }
            'u' | 'U' => {
                let max = if e == 'u' { 4 } else { 8 };
                let mut v: u32 = 0;
                let mut n = 0;
                while n < max && i < chars.len() && chars[i].is_ascii_hexdigit() {
                    v = v * 16 + chars[i].to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                flush(&mut bytes, &mut s);
                s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'c' => {
                if let Some(&k) = chars.get(i) {
                    bytes.push((k as u32 & 0x1f) as u8);
                    i += 1;
                }
            }
            other => {
                bytes.push(b'\\');
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Err(SyntaxError::eof("'"))
}

/// Lexes `${…}` after the `${`, leaving `pos` after the closing `}`.
/// A form bash rejects only when it expands (`${}`, `${x!}`) becomes
/// [`ParamOp::Bad`], so the line still parses, as with `bash -n`.
fn lex_brace_param(chars: &[char], pos: &mut usize) -> Res<ParamExp> {
    let start = *pos;
    match lex_brace_param_strict(chars, pos) {
        Err(e) if !e.message.starts_with("nesting too deep") => {
            // skip to the matching `}`, as the parser did
            let mut i = start;
            let mut depth = 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 1,
                    '{' if i > 0 && chars[i - 1] == '$' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    '\'' => i = find_char(chars, i + 1, '\'').unwrap_or(chars.len()),
                    _ => {}
                }
                i += 1;
            }
            let end = i.min(chars.len());
            let text: String = chars[start..end].iter().collect();
            *pos = (end + 1).min(chars.len());
            Ok(ParamExp {
                name: String::new(),
                index: None,
                indirect: false,
                op: ParamOp::Bad(format!("${{{text}}}")),
            })
        }
        r => r,
    }
}

fn lex_brace_param_strict(chars: &[char], pos: &mut usize) -> Res<ParamExp> {
    let mut p = ParamExp {
        name: String::new(),
        index: None,
        indirect: false,
        op: ParamOp::Plain,
    };
    let at = |i: usize| chars.get(i).copied();
    let mut length = false;
    if at(*pos) == Some('#') && at(*pos + 1).is_some_and(|c| c != '}') {
        length = true;
        *pos += 1;
    } else if at(*pos) == Some('!')
        // `${!-x}`, `${!:+x}`: `$!` with an operator, not indirection
        && at(*pos + 1).is_some_and(|c| !matches!(c, '}' | '-' | '+' | ':' | '=' | '?'))
    {
        p.indirect = true;
        *pos += 1;
    }
    // name
    match at(*pos) {
        Some(c) if c == '_' || c.is_ascii_alphabetic() => {
            while let Some(c) = at(*pos) {
                if c == '_' || c.is_ascii_alphanumeric() {
                    p.name.push(c);
                    *pos += 1;
                } else {
                    break;
                }
            }
        }
        Some(c) if c.is_ascii_digit() => {
            while let Some(c) = at(*pos) {
                if c.is_ascii_digit() {
                    p.name.push(c);
                    *pos += 1;
                } else {
                    break;
                }
            }
        }
        Some(c) if "@*#?$!-".contains(c) => {
            p.name.push(c);
            *pos += 1;
        }
        _ => return Err(SyntaxError::bad_subst()),
    }
    if at(*pos) == Some('[') {
        let start = *pos + 1;
        let i = crate::parse::bracket_end(chars, *pos, false).unwrap_or(chars.len());
        let inner: String = chars[start..i.min(chars.len())].iter().collect();
        p.index = Some(lex_word(&inner)?);
        *pos = i + 1;
    }
    if length {
        p.op = ParamOp::Length;
        return close(chars, pos, p);
    }
    if p.indirect
        && at(*pos) == Some('}')
        && matches!(&p.index, Some(w) if w.as_static().is_some_and(|s| s == "@" || s == "*"))
    {
        p.indirect = false;
        p.op = ParamOp::Keys;
        return close(chars, pos, p);
    }
    // `${!prefix@}` / `${!prefix*}`: kept as an indirect Transform('@'/'*')
    if p.indirect
        && p.index.is_none()
        && let Some(c @ ('@' | '*')) = at(*pos)
        && at(*pos + 1) == Some('}')
    {
        p.op = ParamOp::Transform(c);
        *pos += 1;
        return close(chars, pos, p);
    }
    let word_until_brace = |pos: &mut usize| -> Res<Word> {
        let parts = lex_parts(chars, pos, Ctx::Param, &|_, _| false)?;
        Ok(Word { parts, src: None })
    };
    let Some(c) = at(*pos) else {
        return Err(SyntaxError::eof("}"));
    };
    match c {
        '}' => {}
        ':' if matches!(at(*pos + 1), Some('-' | '=' | '+' | '?')) => {
            let op = at(*pos + 1).unwrap_or('-');
            *pos += 2;
            let w = word_until_brace(pos)?;
            p.op = mk_default(op, true, w);
        }
        '-' | '=' | '+' | '?' => {
            *pos += 1;
            let w = word_until_brace(pos)?;
            p.op = mk_default(c, false, w);
        }
        ':' => {
            *pos += 1;
            let off = lex_parts(chars, pos, Ctx::Param, &|c, _| c == ':')?;
            let len = if at(*pos) == Some(':') {
                *pos += 1;
                Some(word_until_brace(pos)?)
            } else {
                None
            };
            p.op = ParamOp::Substr(
                Word {
                    parts: off,
                    src: None,
                },
                len,
            );
        }
        '#' | '%' => {
            let longest = at(*pos + 1) == Some(c);
            *pos += if longest { 2 } else { 1 };
            let w = word_until_brace(pos)?;
            p.op = if c == '#' {
                ParamOp::TrimPrefix(longest, w)
            } else {
                ParamOp::TrimSuffix(longest, w)
            };
        }
        '/' => {
            *pos += 1;
            let mode = match at(*pos) {
                Some('/') => {
                    *pos += 1;
                    ReplaceMode::All
                }
                Some('#') => {
                    *pos += 1;
                    ReplaceMode::Prefix
                }
                Some('%') => {
                    *pos += 1;
                    ReplaceMode::Suffix
                }
                _ => ReplaceMode::First,
            };
            let pat = lex_parts(chars, pos, Ctx::Param, &|c, _| c == '/')?;
            let rep = if at(*pos) == Some('/') {
                *pos += 1;
                word_until_brace(pos)?
            } else {
                Word::default()
            };
            p.op = ParamOp::Replace(
                mode,
                Word {
                    parts: pat,
                    src: None,
                },
                rep,
            );
        }
        '@' if at(*pos + 1).is_some_and(|o| "QEPAKaUuLk".contains(o))
            && at(*pos + 2) == Some('}') =>
        {
            p.op = ParamOp::Transform(at(*pos + 1).unwrap_or('Q'));
            *pos += 2;
        }
        '^' | ',' => {
            let all = at(*pos + 1) == Some(c);
            *pos += if all { 2 } else { 1 };
            p.op = if c == '^' {
                ParamOp::Upper(all)
            } else {
                ParamOp::Lower(all)
            };
        }
        _ => return Err(SyntaxError::bad_subst()),
    }
    close(chars, pos, p)
}

fn close(chars: &[char], pos: &mut usize, p: ParamExp) -> Res<ParamExp> {
    if chars.get(*pos) != Some(&'}') {
        return Err(SyntaxError::bad_subst());
    }
    *pos += 1;
    Ok(p)
}

fn mk_default(op: char, colon: bool, w: Word) -> ParamOp {
    match op {
        '-' => ParamOp::Default(colon, w),
        '=' => ParamOp::Assign(colon, w),
        '+' => ParamOp::Alt(colon, w),
        _ => ParamOp::Error(colon, w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let w = lex_word(r#"a'b c'"$x d"\*"#).unwrap();
        assert_eq!(w.parts.len(), 4);
        assert_eq!(w.parts[0], WordPart::Lit("a".into()));
        assert_eq!(w.parts[1], WordPart::Quoted("b c".into()));
        assert_eq!(w.parts[3], WordPart::Quoted("*".into()));
        assert_eq!(
            lex_word("$'a\\tb'").unwrap().parts,
            vec![WordPart::Quoted("a\tb".into())]
        );
    }

    #[test]
    fn params() {
        let w = lex_word("${x:-def}").unwrap();
        let WordPart::Param(p) = &w.parts[0] else {
            panic!("not a param")
        };
        assert_eq!(p.name, "x");
        assert!(matches!(p.op, ParamOp::Default(true, _)));
        let w = lex_word("${#arr[@]}").unwrap();
        let WordPart::Param(p) = &w.parts[0] else {
            panic!("not a param")
        };
        assert!(matches!(p.op, ParamOp::Length));
        assert!(p.index.is_some());
    }

    #[test]
    fn old_arith_and_transforms() {
        assert!(matches!(
            lex_word("$[1+2]").unwrap().parts.as_slice(),
            [WordPart::Arith(_)]
        ));
        let w = lex_word("${x@Q}").unwrap();
        let WordPart::Param(p) = &w.parts[0] else {
            panic!("not a param")
        };
        assert_eq!(p.op, ParamOp::Transform('Q'));
        // bash rejects these only when they expand
        for bad in ["${}", "${x!}", "${!@Q}", "${ }"] {
            let w = lex_word(bad).unwrap();
            let WordPart::Param(p) = &w.parts[0] else {
                panic!("not a param")
            };
            assert!(matches!(p.op, ParamOp::Bad(_)), "{bad}: {:?}", p.op);
        }
    }

    #[test]
    fn words_split_on_blanks() {
        let ws = lex_words(r#"[ -f "a b" ]"#).unwrap();
        assert_eq!(ws.len(), 4);
    }
}
