//! The awk lexer: program text to tokens, with awk's rule that a `/`
//! starts a regex unless it follows an operand, and significant newlines.

/// One token of an awk program.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A numeric literal.
    Num(f64),
    /// A string literal, escapes already processed (bytes).
    Str(Vec<u8>),
    /// A regex literal `/…/` (its text, escapes kept for the regex engine).
    Regex(String),
    /// A name.
    Name(String),
    /// A name directly followed by `(` (a function call).
    FuncName(String),
    /// A builtin function name (`length`, `substr`, …).
    Builtin(String),
    /// A keyword (`if`, `BEGIN`, `print`, …).
    Kw(&'static str),
    /// Punctuation or an operator (`{`, `+=`, `>>`, …).
    Op(&'static str),
    /// A newline (a statement terminator).
    Newline,
    /// The end of the program.
    Eof,
}

/// A token and the line it is on (1-based).
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Its line.
    pub line: usize,
    /// Its byte offset in its line (0-based).
    pub col: usize,
}

const KEYWORDS: &[&str] = &[
    "BEGIN", "END", "function", "func", "if", "else", "while", "for", "do", "break", "continue",
    "next", "nextfile", "exit", "return", "delete", "in", "getline", "print", "printf",
];

const BUILTINS: &[&str] = &[
    "length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "sin", "cos", "atan2",
    "exp", "log", "sqrt", "int", "rand", "srand", "tolower", "toupper", "system", "close",
    "fflush", "systime", "strftime", "gensub", "asort", "asorti", "mktime",
];

/// Operators, longest first.
const OPS: &[&str] = &[
    "**=", "+=", "-=", "*=", "/=", "%=", "^=", "==", "<=", ">=", "!=", "++", "--", "&&", "||",
    ">>", "!~", "**", "{", "}", "(", ")", "[", "]", ";", ",", "+", "-", "*", "/", "%", "^", "!",
    ">", "<", "|", "?", ":", "~", "$", "=",
];

/// Splits `src` into tokens. The error is a message, its line and column.
pub fn lex(src: &str) -> Result<Vec<Token>, (String, usize, usize)> {
    WARNINGS.with(|w| w.borrow_mut().clear());
    let b = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    while i < b.len() {
        let c = b[i];
        let col = i - line_start;
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                i += 2;
                line += 1;
                line_start = i;
            }
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => {
                i += 3;
                line += 1;
                line_start = i;
            }
            b'\n' => {
                out.push(Token {
                    tok: Tok::Newline,
                    line,
                    col,
                });
                line += 1;
                i += 1;
                line_start = i;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                let mut s = Vec::new();
                loop {
                    let Some(&c) = b.get(i) else {
                        return Err(("unterminated string".into(), line, col));
                    };
                    match c {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' => return Err(("unterminated string".into(), line, col)),
                        b'\\' => {
                            i += 1;
                            i += escape(&b[i..], &mut s, &mut line);
                        }
                        _ => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    line,
                    col,
                });
            }
            b'/' if regex_allowed(out.last().map(|t| &t.tok)) => {
                i += 1;
                let mut s = String::new();
                let mut in_class = false;
                let start = i;
                loop {
                    let Some(&c) = b.get(i) else {
                        return Err(("unterminated regexp".into(), line, col));
                    };
                    match c {
                        b'\n' => return Err(("unterminated regexp".into(), line, col)),
                        b'\\' if b.get(i + 1) == Some(&b'/') => {
                            s.push('/');
                            i += 2;
                            continue;
                        }
                        b'\\' if i + 1 < b.len() => {
                            let end = (i + 1 + utf8_len(b[i + 1])).min(b.len());
                            s.push_str(src.get(i..end).unwrap_or("\\"));
                            i = end;
                            continue;
                        }
                        b'[' if !in_class => {
                            in_class = true;
                            s.push('[');
                            i += 1;
                            // a `]` first in a class is literal
                            if b.get(i) == Some(&b'^') {
                                s.push('^');
                                i += 1;
                            }
                            if b.get(i) == Some(&b']') {
                                s.push(']');
                                i += 1;
                            }
                            continue;
                        }
                        b'[' if in_class && b.get(i + 1).is_some_and(|c| b":.=".contains(c)) => {
                            // [:alpha:] inside a class
                            let close = b[i + 1];
                            let mut j = i + 2;
                            while j + 1 < b.len() && !(b[j] == close && b[j + 1] == b']') {
                                j += 1;
                            }
                            let end = (j + 2).min(b.len());
                            s.push_str(&src[i..end]);
                            i = end;
                            continue;
                        }
                        b']' if in_class => in_class = false,
                        b'/' if !in_class => {
                            i += 1;
                            break;
                        }
                        _ => {}
                    }
                    let ch_len = utf8_len(c);
                    let end = (i + ch_len).min(b.len());
                    s.push_str(src.get(i..end).unwrap_or(""));
                    i = end;
                }
                let _ = start;
                out.push(Token {
                    tok: Tok::Regex(s),
                    line,
                    col,
                });
            }
            b'0'..=b'9' | b'.' if c != b'.' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (v, n) = lex_number(&b[i..]);
                i += n;
                out.push(Token {
                    tok: Tok::Num(v),
                    line,
                    col,
                });
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let word = &src[start..i];
                let tok = if let Some(k) = KEYWORDS.iter().find(|k| **k == word) {
                    Tok::Kw(if *k == "func" { "function" } else { k })
                } else if BUILTINS.contains(&word) {
                    Tok::Builtin(word.to_string())
                } else if b.get(i) == Some(&b'(') {
                    Tok::FuncName(word.to_string())
                } else {
                    Tok::Name(word.to_string())
                };
                out.push(Token { tok, line, col });
            }
            _ => {
                let Some(op) = OPS.iter().find(|op| b[i..].starts_with(op.as_bytes())) else {
                    let ch = src[i..].chars().next().unwrap_or('?');
                    return Err((format!("invalid char '{ch}' in expression"), line, col));
                };
                i += op.len();
                out.push(Token {
                    tok: Tok::Op(op),
                    line,
                    col,
                });
            }
        }
    }
    let col = b.len() - line_start;
    out.push(Token {
        tok: Tok::Newline,
        line,
        col,
    });
    out.push(Token {
        tok: Tok::Eof,
        line,
        col,
    });
    Ok(out)
}

fn utf8_len(c: u8) -> usize {
    match c {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Whether a `/` after `prev` starts a regex (not after an operand).
fn regex_allowed(prev: Option<&Tok>) -> bool {
    !matches!(
        prev,
        Some(
            Tok::Num(_)
                | Tok::Str(_)
                | Tok::Name(_)
                | Tok::Regex(_)
                | Tok::Builtin(_)
                | Tok::Op(")" | "]" | "$" | "++" | "--")
                | Tok::Kw("getline")
        )
    )
}

/// Reads a number the way awk's lexer does (decimal, fraction, exponent; hex as gawk).
fn lex_number(b: &[u8]) -> (f64, usize) {
    if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') && b[2].is_ascii_hexdigit() {
        let mut i = 2;
        let mut v = 0f64;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            v = v * 16.0 + f64::from((b[i] as char).to_digit(16).unwrap_or(0));
            i += 1;
        }
        return (v, i);
    }
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&b[..i]).unwrap_or("0");
    (text.parse().unwrap_or(0.0), i)
}

/// Processes one escape after a backslash in a string literal; returns the
/// bytes consumed.
fn escape(b: &[u8], out: &mut Vec<u8>, line: &mut usize) -> usize {
    let Some(&c) = b.first() else {
        out.push(b'\\');
        return 0;
    };
    let simple = match c {
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        _ => None,
    };
    if let Some(s) = simple {
        out.push(s);
        return 1;
    }
    match c {
        b'\n' => {
            *line += 1;
            1
        }
        b'0'..=b'7' => {
            let mut v = 0u32;
            let mut n = 0;
            while n < 3 && n < b.len() && (b'0'..=b'7').contains(&b[n]) {
                v = v * 8 + u32::from(b[n] - b'0');
                n += 1;
            }
            out.push((v & 0xff) as u8);
            n
        }
        b'x' if b.get(1).is_some_and(u8::is_ascii_hexdigit) => {
            let mut v = 0u32;
            let mut n = 1;
            while n < 3 && n < b.len() && b[n].is_ascii_hexdigit() {
                v = v * 16 + (b[n] as char).to_digit(16).unwrap_or(0);
                n += 1;
            }
            out.push((v & 0xff) as u8);
            n
        }
        _ => {
            // gawk keeps the character alone and warns
            out.push(c);
            WARNINGS.with(|w| {
                w.borrow_mut().push((
                    *line,
                    format!(
                        "escape sequence `\\{}' treated as plain `{}'",
                        c as char, c as char
                    ),
                ));
            });
            1
        }
    }
}

thread_local! {
    /// Warnings of the current [`lex`] call (line, message).
    static WARNINGS: std::cell::RefCell<Vec<(usize, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The warnings the last [`lex`] on this thread produced (line, message),
/// as gawk prints them (`escape sequence `\q' treated as plain `q'`).
#[must_use]
pub fn take_warnings() -> Vec<(usize, String)> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_or_divide() {
        let t = lex("a / b; /x\\/y/").unwrap_or_default();
        assert_eq!(t[1].tok, Tok::Op("/"));
        assert_eq!(t[4].tok, Tok::Regex("x/y".into()));
        let t = lex("\"a\\tb\" 1.5e3 foo(").unwrap_or_default();
        assert_eq!(t[0].tok, Tok::Str(b"a\tb".to_vec()));
        assert_eq!(t[1].tok, Tok::Num(1500.0));
        assert_eq!(t[2].tok, Tok::FuncName("foo".into()));
    }
}
