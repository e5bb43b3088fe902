//! `expr`: evaluate an expression, as GNU coreutils 9.1 `expr`.
//!
//! The grammar, loosest first: `A | B`, `A & B`, the comparisons
//! `< <= = == != >= >`, `+ -`, `* / %`, `STRING : REGEX`, then the
//! prefix forms `match STRING REGEX`, `substr STRING POS LENGTH`,
//! `index STRING CHARS`, `length STRING`, `+ TOKEN` (the token taken as a
//! string) and `( EXPR )`. Integers are arbitrary precision (GNU builds
//! expr with GMP); an operand is an integer when it is an optional `-`
//! followed by digits. Comparisons are numeric when both sides are
//! integers, otherwise by byte order (the C.UTF-8 collation). Strings are
//! counted in characters, as GNU does under a UTF-8 locale. The regex is
//! a BRE ([`mirage_regex`]) anchored at the start of the string: with a
//! `\(…\)` group the result is the text of group 1 (empty when it does
//! not match), otherwise the length of the match in characters.
//!
//! Exit status: 0 when the result is neither empty nor 0, 1 when it is,
//! 2 for a bad expression (`syntax error: …`, `non-integer argument`,
//! `division by zero`, a bad regex), 3 for another error. Only a first
//! `--help`, `--version` or `--` is an option; every other argument,
//! `-5` included, is an operand.

use std::cmp::Ordering;

use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use crate::util::gnu_quote;

/// The spec of `expr`: no options (the first `--` is dropped by hand).
pub static SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    ..CommandSpec::new("expr", &[], PathOperands::None)
};

crate::register_command!("expr", SPEC, run);

/// A value: an integer or a string.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Int(BigInt),
    Str(String),
}

/// Whether `s` is an integer as GNU expr reads one: `-?[0-9]+`.
fn looks_like_integer(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Int(i) => i.to_string(),
            Val::Str(s) => s.clone(),
        }
    }
    /// Null: the empty string or the number 0 (`-0`, `00` too).
    fn is_null(&self) -> bool {
        match self {
            Val::Int(i) => i.is_zero(),
            Val::Str(s) => {
                s.is_empty()
                    || (looks_like_integer(s)
                        && s.trim_start_matches('-').bytes().all(|b| b == b'0'))
            }
        }
    }
    fn to_int(&self) -> Option<BigInt> {
        match self {
            Val::Int(i) => Some(i.clone()),
            Val::Str(s) if looks_like_integer(s) => s.parse().ok(),
            Val::Str(_) => None,
        }
    }
}

/// An error: its message and exit status.
type EResult<T> = Result<T, (i32, String)>;

fn syntax<T>(msg: String) -> EResult<T> {
    Err((2, format!("syntax error: {msg}")))
}

struct Parser<'a> {
    args: &'a [String],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(String::as_str)
    }
    fn next_is(&mut self, tok: &str) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// The operand after the operator `args[pos - 1]`, or GNU's `missing
    /// argument after ‘OP’`.
    fn need_operand(&self) -> EResult<()> {
        if self.pos >= self.args.len() {
            let op = self.args.get(self.pos.wrapping_sub(1)).map_or("", |s| s);
            return syntax(format!("missing argument after {}", gnu_quote(op)));
        }
        Ok(())
    }
    fn or(&mut self) -> EResult<Val> {
        let mut l = self.and()?;
        while self.next_is("|") {
            self.need_operand()?;
            let r = self.and()?;
            l = if !l.is_null() {
                l
            } else if !r.is_null() {
                r
            } else {
                Val::Int(BigInt::zero())
            };
        }
        Ok(l)
    }
    fn and(&mut self) -> EResult<Val> {
        let mut l = self.compare()?;
        while self.next_is("&") {
            self.need_operand()?;
            let r = self.compare()?;
            l = if l.is_null() || r.is_null() {
                Val::Int(BigInt::zero())
            } else {
                l
            };
        }
        Ok(l)
    }
    fn compare(&mut self) -> EResult<Val> {
        let mut l = self.additive()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("<" | "<=" | "=" | "==" | "!=" | ">=" | ">")) => op.to_string(),
                _ => return Ok(l),
            };
            self.pos += 1;
            self.need_operand()?;
            let r = self.additive()?;
            let ord = match (l.to_int(), r.to_int()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => l.text().as_bytes().cmp(r.text().as_bytes()),
            };
            let t = match op.as_str() {
                "<" => ord == Ordering::Less,
                "<=" => ord != Ordering::Greater,
                "=" | "==" => ord == Ordering::Equal,
                "!=" => ord != Ordering::Equal,
                ">=" => ord != Ordering::Less,
                _ => ord == Ordering::Greater,
            };
            l = Val::Int(BigInt::from(u8::from(t)));
        }
    }
    fn additive(&mut self) -> EResult<Val> {
        let mut l = self.multiplicative()?;
        loop {
            let add = match self.peek() {
                Some("+") => true,
                Some("-") => false,
                _ => return Ok(l),
            };
            self.pos += 1;
            self.need_operand()?;
            let r = self.multiplicative()?;
            let (a, b) = ints(&l, &r)?;
            l = Val::Int(if add { a + b } else { a - b });
        }
    }
    fn multiplicative(&mut self) -> EResult<Val> {
        let mut l = self.matching()?;
        loop {
            let op = match self.peek() {
                Some(op @ ("*" | "/" | "%")) => op.to_string(),
                _ => return Ok(l),
            };
            self.pos += 1;
            self.need_operand()?;
            let r = self.matching()?;
            let (a, b) = ints(&l, &r)?;
            if op != "*" && b.is_zero() {
                return Err((2, "division by zero".into()));
            }
            // BigInt's `/` and `%` truncate toward zero, as C does
            l = Val::Int(match op.as_str() {
                "*" => a * b,
                "/" => a / b,
                _ => a % b,
            });
        }
    }
    fn matching(&mut self) -> EResult<Val> {
        let mut l = self.primary()?;
        while self.next_is(":") {
            self.need_operand()?;
            let r = self.primary()?;
            l = regex_match(&l.text(), &r.text())?;
        }
        Ok(l)
    }
    /// The next token as an operand (any word, operators included).
    fn token(&mut self) -> EResult<String> {
        self.need_operand()?;
        self.pos += 1;
        Ok(self.args[self.pos - 1].clone())
    }
    fn primary(&mut self) -> EResult<Val> {
        let Some(tok) = self.peek().map(str::to_string) else {
            let op = self.args.get(self.pos.wrapping_sub(1)).map_or("", |s| s);
            return syntax(format!("missing argument after {}", gnu_quote(op)));
        };
        self.pos += 1;
        match tok.as_str() {
            "+" => Ok(Val::Str(self.token()?)),
            "(" => {
                self.need_operand()?;
                let v = self.or()?;
                match self.peek() {
                    Some(")") => {
                        self.pos += 1;
                        Ok(v)
                    }
                    Some(t) => syntax(format!("expecting ')' instead of {}", gnu_quote(t))),
                    None => {
                        let last = self.args.get(self.pos - 1).map_or("", |s| s);
                        syntax(format!("expecting ')' after {}", gnu_quote(last)))
                    }
                }
            }
            ")" => syntax("unexpected ')'".to_string()),
            "length" => {
                let s = self.token()?;
                Ok(Val::Int(BigInt::from(s.chars().count())))
            }
            "match" => {
                let s = self.token()?;
                let re = self.token()?;
                regex_match(&s, &re)
            }
            "index" => {
                let s = self.token()?;
                let set = self.token()?;
                let i = s.chars().position(|c| set.contains(c)).map_or(0, |i| i + 1);
                Ok(Val::Int(BigInt::from(i)))
            }
            "substr" => {
                let s = self.token()?;
                let p = self.token()?;
                let n = self.token()?;
                Ok(Val::Str(substr(&s, &p, &n)))
            }
            _ => Ok(Val::Str(tok)),
        }
    }
}

/// Both operands as integers, or GNU's `non-integer argument`.
fn ints(l: &Val, r: &Val) -> EResult<(BigInt, BigInt)> {
    match (l.to_int(), r.to_int()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err((2, "non-integer argument".into())),
    }
}

/// `substr STRING POS LENGTH`: characters from 1-based `pos`; empty when
/// `pos` or `len` is not a positive integer or `pos` is past the end.
fn substr(s: &str, pos: &str, len: &str) -> String {
    let num = |t: &str| -> Option<usize> {
        if !looks_like_integer(t) {
            return None;
        }
        let v: BigInt = t.parse().ok()?;
        if v.is_positive() {
            Some(usize::try_from(&v).unwrap_or(usize::MAX))
        } else {
            None
        }
    };
    match (num(pos), num(len)) {
        (Some(p), Some(n)) => s.chars().skip(p - 1).take(n).collect(),
        _ => String::new(),
    }
}

/// `STRING : REGEX`, anchored at the start of `s`.
fn regex_match(s: &str, re: &str) -> EResult<Val> {
    let rx = mirage_regex::PosixRegex::new(
        re,
        mirage_regex::Syntax::Basic,
        &mirage_regex::Options::default(),
    )
    .map_err(|e| (2, e.message().to_string()))?;
    let hay = mirage_types::bytestr::encode(s);
    let caps = rx
        .captures_at(&hay, 0)
        .filter(|c| c.get(0).is_some_and(|m| m.start == 0));
    let chars = |r: std::ops::Range<usize>| mirage_types::bytestr::decode(&hay[r]).chars().count();
    if rx.group_count() > 1 {
        Ok(Val::Str(
            caps.and_then(|c| c.get(1))
                .map(|r| mirage_types::bytestr::decode(&hay[r]).into_owned())
                .unwrap_or_default(),
        ))
    } else {
        Ok(Val::Int(BigInt::from(
            caps.and_then(|c| c.get(0)).map_or(0, chars),
        )))
    }
}

/// Evaluates the operands of `expr` (without a leading `--`).
fn eval(args: &[String]) -> EResult<Val> {
    let mut p = Parser { args, pos: 0 };
    let v = p.or()?;
    if let Some(t) = p.peek() {
        return syntax(format!("unexpected argument {}", gnu_quote(t)));
    }
    Ok(v)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let mut args: &[String] = &ctx.args;
    if args.first().is_some_and(|a| a == "--") {
        args = &args[1..];
    }
    if args.is_empty() {
        return Err(CmdError::usage("missing operand").with_status(2));
    }
    match eval(args) {
        Ok(v) => {
            let null = v.is_null();
            let mut line = mirage_types::bytestr::encode(&v.text()).into_owned();
            line.push(b'\n');
            ctx.stdout.write(&line).await?;
            Ok(i32::from(null))
        }
        Err((status, msg)) => Err(CmdError::new(status, msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::{Val, eval};

    fn ev(a: &[&str]) -> Result<String, (i32, String)> {
        let v: Vec<String> = a.iter().map(ToString::to_string).collect();
        eval(&v).map(|v| v.text())
    }

    #[test]
    fn arithmetic_strings_and_errors() {
        assert_eq!(
            ev(&["99999999999999999999", "+", "1"]).unwrap(),
            "100000000000000000000"
        );
        assert_eq!(ev(&["-7", "/", "2"]).unwrap(), "-3");
        assert_eq!(ev(&["-7", "%", "2"]).unwrap(), "-1");
        assert_eq!(ev(&["(", "2", "+", "3", ")", "*", "4"]).unwrap(), "20");
        assert_eq!(ev(&["abc", ":", "a\\(.\\)"]).unwrap(), "b");
        assert_eq!(ev(&["abc", ":", "b*"]).unwrap(), "0");
        assert_eq!(ev(&["éab", ":", ".*"]).unwrap(), "3");
        assert_eq!(ev(&["substr", "hello", "2", "3"]).unwrap(), "ell");
        assert_eq!(ev(&["index", "hello", "lo"]).unwrap(), "3");
        assert_eq!(ev(&["+", "length"]).unwrap(), "length");
        assert_eq!(ev(&["", "|", "0"]).unwrap(), "0");
        assert_eq!(ev(&["10", "<", "9"]).unwrap(), "0");
        assert_eq!(ev(&["a", "<", "B"]).unwrap(), "0");
        assert_eq!(ev(&["1", "/", "0"]).unwrap_err().1, "division by zero");
        assert_eq!(ev(&["a", "+", "1"]).unwrap_err().0, 2);
        assert_eq!(
            ev(&["1", "+"]).unwrap_err().1,
            "syntax error: missing argument after \u{2018}+\u{2019}"
        );
        assert_eq!(
            ev(&["1", "2"]).unwrap_err().1,
            "syntax error: unexpected argument \u{2018}2\u{2019}"
        );
        assert!(Val::Str("-00".into()).is_null());
    }
}
