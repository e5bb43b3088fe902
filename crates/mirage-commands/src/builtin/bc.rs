//! `bc`: an arbitrary-precision calculator language, as GNU bc 1.07.1.
//!
//! No well-kept Rust crate implements bc's language, so this is a small
//! interpreter over `num-bigint`. A number is a decimal `value / 10^scale`.
//! The scale rules are bc's: `+ -` keep the larger scale; `*` keeps
//! `min(sa + sb, max(scale, sa, sb))`; `/` gives `scale` digits; `%` is
//! `a - (a / b) * b` with the quotient at `scale`; `^` takes an integer
//! exponent and keeps `min(sa * n, max(scale, sa))` (a negative exponent
//! divides at `scale`); `sqrt` keeps `max(scale, sx)`. Results are
//! truncated, never rounded.
//!
//! The language: expressions with `|| && ! < <= > >= == != = += -= *= /=
//! %= ^= + - * / % ^`, unary minus, `++`/`--`, `length()`, `scale()`,
//! `sqrt()`, arrays `a[i]`, the variables `scale`, `ibase`, `obase`,
//! `last` (and `.`), strings, `print`, `{ }`, `if`/`else`, `while`, `for`,
//! `break`, `continue`, `return`, `halt`, `quit`, `define` with `auto`
//! variables (dynamically scoped, as bc's are) and array parameters,
//! `/* */` and `#` comments. `-l` sets `scale=20` and adds the math
//! library `s c a l e j`, computed here with guard digits and truncated
//! to `scale` (GNU evaluates its own bc-language library; the digits
//! agree except, rarely, in the last place).
//!
//! Input runs line by line as GNU's does: a line is parsed whole, then
//! run. A syntax error prints `(standard_in) N: syntax error` and drops
//! that line; a runtime error (`Divide by zero`) prints a `Runtime error`
//! line and abandons the rest of the line. Numbers longer than the line
//! are split with `\` as GNU does (68 digits and the `\` on a line of
//! 70; `BC_LINE_LENGTH` changes the length, 0 turns splitting off). The
//! file operands run first, then standard input, unless `quit` or `halt`
//! ends the program. Exit status is 0, as GNU's, except for a file that
//! cannot be read: `File NAME is unavailable.` and status 1.

use std::collections::HashMap;

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::util::read_input;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("mathlib", Some('l'), Some("mathlib")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("standard", Some('s'), Some("standard")),
    OptSpec::flag("warn", Some('w'), Some("warn")),
    OptSpec::flag("interactive", Some('i'), Some("interactive")),
    OptSpec::flag("usage", Some('h'), None),
];

/// GNU bc's usage text (`-h`, and after a bad option).
const BC_USAGE: &str = "usage: bc [options] [file ...]
  -h  --help         print this usage and exit
  -i  --interactive  force interactive mode
  -l  --mathlib      use the predefined math routines
  -q  --quiet        don't print initial banner
  -s  --standard     non-standard bc constructs are errors
  -w  --warn         warn about non-standard bc constructs
  -v  --version      print version information and exit
";

/// The spec of `bc`: `[-lqswi] [FILE]...`.
pub static SPEC: CommandSpec = CommandSpec::new("bc", OPTS, PathOperands::All);

crate::register_command!("bc", SPEC, run);

// ---------------------------------------------------------------- numbers

/// A decimal number: `v / 10^scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Num {
    v: BigInt,
    scale: u32,
}

fn pow10(n: u32) -> BigInt {
    num_traits::pow(BigInt::from(10), n as usize)
}

impl Num {
    fn zero() -> Num {
        Num {
            v: BigInt::zero(),
            scale: 0,
        }
    }
    fn int(i: impl Into<BigInt>) -> Num {
        Num {
            v: i.into(),
            scale: 0,
        }
    }
    fn is_zero(&self) -> bool {
        self.v.is_zero()
    }
    /// The same value at scale `s` (truncated toward zero when shorter).
    fn rescale(&self, s: u32) -> Num {
        let v = if s >= self.scale {
            &self.v * pow10(s - self.scale)
        } else {
            &self.v / pow10(self.scale - s)
        };
        Num { v, scale: s }
    }
    /// The integer part (truncated toward zero).
    fn trunc(&self) -> BigInt {
        &self.v / pow10(self.scale)
    }
    fn add(&self, o: &Num) -> Num {
        let s = self.scale.max(o.scale);
        Num {
            v: self.rescale(s).v + o.rescale(s).v,
            scale: s,
        }
    }
    fn sub(&self, o: &Num) -> Num {
        let s = self.scale.max(o.scale);
        Num {
            v: self.rescale(s).v - o.rescale(s).v,
            scale: s,
        }
    }
    fn mul(&self, o: &Num, scale: u32) -> Num {
        let full = Num {
            v: &self.v * &o.v,
            scale: self.scale + o.scale,
        };
        let s = full.scale.min(scale.max(self.scale).max(o.scale));
        full.rescale(s)
    }
    fn div(&self, o: &Num, scale: u32) -> Option<Num> {
        if o.is_zero() {
            return None;
        }
        // (a / 10^sa) / (b / 10^sb) * 10^scale
        let num = &self.v * pow10(scale + o.scale);
        let den = &o.v * pow10(self.scale);
        Some(Num {
            v: num / den,
            scale,
        })
    }
    fn rem(&self, o: &Num, scale: u32) -> Option<Num> {
        let q = self.div(o, scale)?;
        let qb = Num {
            v: &q.v * &o.v,
            scale: q.scale + o.scale,
        };
        let r = self.sub(&qb);
        Some(r.rescale((scale + o.scale).max(self.scale)))
    }
    fn pow(&self, e: &BigInt, scale: u32) -> Option<Num> {
        if e.is_zero() {
            return Some(Num::int(1));
        }
        let n = e.abs().to_u32()?;
        let full = Num {
            v: num_traits::pow(self.v.clone(), n as usize),
            scale: self.scale.checked_mul(n)?,
        };
        if e.is_negative() {
            Num::int(1).div(&full, scale)
        } else {
            let s = full.scale.min(scale.max(self.scale));
            Some(full.rescale(s))
        }
    }
    fn sqrt(&self, scale: u32) -> Option<Num> {
        if self.v.is_negative() {
            return None;
        }
        let s = scale.max(self.scale);
        // floor(sqrt(v * 10^(2s - sx))) / 10^s
        let v = &self.v * pow10(2 * s - self.scale);
        Some(Num {
            v: v.sqrt(),
            scale: s,
        })
    }
    fn cmp(&self, o: &Num) -> std::cmp::Ordering {
        let s = self.scale.max(o.scale);
        self.rescale(s).v.cmp(&o.rescale(s).v)
    }
    /// bc's `length()`: significant digits.
    fn length(&self) -> u32 {
        let digits = self.v.abs().to_string();
        let n = u32::try_from(digits.len()).unwrap_or(u32::MAX);
        if self.v.is_zero() {
            return self.scale.max(1);
        }
        if n <= self.scale { self.scale } else { n }
    }
    /// The decimal text as bc prints it with `obase=10`: no leading zero
    /// before the point (`.5`, `-.5`), `0` for zero.
    fn to_decimal(&self) -> String {
        if self.v.is_zero() {
            return "0".into();
        }
        let mut digits = self.v.abs().to_string();
        let s = self.scale as usize;
        if digits.len() <= s {
            digits = format!("{}{digits}", "0".repeat(s - digits.len()));
            digits.insert(0, '.');
        } else if s > 0 {
            digits.insert(digits.len() - s, '.');
        }
        if self.v.is_negative() {
            digits.insert(0, '-');
        }
        digits
    }
    /// The text in `obase` (2 to 999): digits `0-9A-F` up to base 16,
    /// space-separated zero-padded decimal groups above.
    fn to_base(&self, base: u32) -> String {
        if base == 10 {
            return self.to_decimal();
        }
        let b = BigInt::from(base);
        let width = (base - 1).to_string().len();
        let digit = |d: u32, first: bool| -> String {
            if base <= 16 {
                char::from_digit(d, 16)
                    .map_or('?', |c| c.to_ascii_uppercase())
                    .to_string()
            } else if first {
                format!("{d:0width$}")
            } else {
                format!(" {d:0width$}")
            }
        };
        let neg = self.v.is_negative();
        let abs = Num {
            v: self.v.abs(),
            scale: self.scale,
        };
        let mut ip = abs.trunc();
        let mut frac = abs.sub(&Num::int(ip.clone()));
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        if ip.is_zero() && self.scale > 0 {
            // no leading zero before the point, as with obase=10
        } else if ip.is_zero() {
            if base > 16 {
                out.push(' ');
            }
            out.push_str(&digit(0, true));
        } else {
            let mut ds = Vec::new();
            while !ip.is_zero() {
                let (q, r) = ip.div_rem(&b);
                ds.push(r.to_u32().unwrap_or(0));
                ip = q;
            }
            for d in ds.iter().rev() {
                if base > 16 {
                    out.push(' ');
                }
                out.push_str(&digit(*d, true));
            }
        }
        if self.scale > 0 {
            out.push('.');
            let limit = pow10(self.scale);
            let mut t = BigInt::one();
            let mut first = true;
            let bn = Num::int(base);
            while t < limit {
                frac = frac.mul(&bn, self.scale);
                let d = frac.trunc();
                frac = frac.sub(&Num::int(d.clone()));
                out.push_str(&digit(d.to_u32().unwrap_or(0), first));
                first = false;
                t *= base;
            }
        }
        // bc prints a value that is zero without its fraction
        if self.v.is_zero() && base <= 16 {
            return "0".into();
        }
        out
    }
}

/// Parses a number token in `ibase` (digits `0-9A-F`, one point).
fn parse_number(tok: &str, ibase: u32) -> Num {
    let val = |c: char| c.to_digit(36).unwrap_or(0);
    let (ip, fp) = tok.split_once('.').unwrap_or((tok, ""));
    if ibase == 10 {
        let mut v = BigInt::zero();
        for c in ip.chars().chain(fp.chars()) {
            v = v * 10 + val(c);
        }
        return Num {
            v,
            scale: u32::try_from(fp.len()).unwrap_or(0),
        };
    }
    // a single digit is its own value whatever the base
    if fp.is_empty() && ip.len() == 1 {
        return Num::int(val(ip.chars().next().unwrap_or('0')));
    }
    let mut v = BigInt::zero();
    for c in ip.chars() {
        v = v * ibase + val(c);
    }
    let mut n = Num::int(v);
    if !fp.is_empty() {
        let scale = u32::try_from(fp.len()).unwrap_or(0);
        let mut f = BigInt::zero();
        let mut den = BigInt::one();
        for c in fp.chars() {
            f = f * ibase + val(c);
            den *= ibase;
        }
        if let Some(q) = Num::int(f).div(&Num::int(den), scale) {
            n = n.add(&q);
        }
    }
    n
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Name(String),
    Str(String),
    Op(&'static str),
    Newline,
    Eof,
}

const OPS: &[&str] = &[
    "++", "--", "+=", "-=", "*=", "/=", "%=", "^=", "==", "!=", "<=", ">=", "&&", "||", "+", "-",
    "*", "/", "%", "^", "=", "<", ">", "!", "(", ")", "[", "]", "{", "}", ",", ";",
];

/// Tokens with their line numbers, or the line of a bad character.
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        if c == '\n' {
            out.push((Tok::Newline, line + 1));
            line += 1;
            i += 1;
        } else if c == '\\' && b.get(i + 1) == Some(&'\n') {
            line += 1;
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                if b[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
        } else if c == '#' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '"' {
            let start = line;
            let mut s = String::new();
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\n' {
                    line += 1;
                }
                s.push(b[i]);
                i += 1;
            }
            i += 1;
            out.push((Tok::Str(s), start));
        } else if c.is_ascii_digit()
            || c.is_ascii_uppercase()
            || (c == '.' && b.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let mut s = String::new();
            while i < b.len() {
                if b[i].is_ascii_digit() || b[i].is_ascii_uppercase() || b[i] == '.' {
                    s.push(b[i]);
                    i += 1;
                } else if b[i] == '\\' && b.get(i + 1) == Some(&'\n') {
                    i += 2;
                    line += 1;
                } else {
                    break;
                }
            }
            out.push((Tok::Num(s), line));
        } else if c.is_ascii_lowercase() || c == '_' {
            let mut s = String::new();
            while i < b.len() && (b[i].is_ascii_lowercase() || b[i].is_ascii_digit() || b[i] == '_')
            {
                s.push(b[i]);
                i += 1;
            }
            out.push((Tok::Name(s), line));
        } else if c == '.' {
            out.push((Tok::Name("last".into()), line));
            i += 1;
        } else {
            let rest: String = b[i..b.len().min(i + 2)].iter().collect();
            match OPS.iter().find(|o| rest.starts_with(**o)) {
                Some(o) => {
                    out.push((Tok::Op(o), line));
                    i += o.len();
                }
                None => {
                    out.push((Tok::Op("?"), line));
                    i += 1;
                }
            }
        }
    }
    out.push((Tok::Eof, line));
    out
}

// ---------------------------------------------------------------- syntax

#[derive(Debug, Clone)]
enum LVal {
    Var(String),
    Elem(String, Box<Expr>),
}

#[derive(Debug, Clone)]
enum Expr {
    Num(String),
    Load(LVal),
    Assign(LVal, Option<&'static str>, Box<Expr>),
    /// `++x` / `--x` (pre) or `x++` / `x--` (post).
    Step(LVal, bool, bool),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Call(String, Vec<Arg>),
    Builtin(&'static str, Box<Expr>),
}

#[derive(Debug, Clone)]
enum Arg {
    Val(Expr),
    Array(String),
}

#[derive(Debug, Clone)]
enum Stmt {
    Expr(Expr, bool),
    Str(String),
    Print(Vec<PrintItem>),
    Block(Vec<Stmt>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    For(Option<Expr>, Option<Expr>, Option<Expr>, Box<Stmt>),
    Break,
    Continue,
    Return(Option<Expr>),
    Halt,
    Empty,
}

#[derive(Debug, Clone)]
enum PrintItem {
    Str(String),
    Expr(Expr),
}

#[derive(Debug, Clone)]
struct Func {
    params: Vec<(String, bool)>,
    autos: Vec<(String, bool)>,
    body: Vec<Stmt>,
}

struct SyntaxError {
    line: usize,
    msg: String,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    in_func: bool,
    in_loop: usize,
    quit: bool,
}

type PResult<T> = Result<T, SyntaxError>;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }
    fn line(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn err<T>(&self) -> PResult<T> {
        Err(SyntaxError {
            line: self.line(),
            msg: "syntax error".into(),
        })
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn eat(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, op: &str) -> PResult<()> {
        if self.eat(op) { Ok(()) } else { self.err() }
    }
    fn skip_newlines(&mut self) {
        while *self.peek() == Tok::Newline {
            self.bump();
        }
    }
    fn name(&mut self) -> PResult<String> {
        match self.bump() {
            Tok::Name(n) if !is_keyword(&n) => Ok(n),
            _ => {
                self.pos -= 1;
                self.err()
            }
        }
    }

    /// A statement; `None` for `define` (stored in `funcs`).
    fn statement(&mut self, funcs: &mut HashMap<String, Func>) -> PResult<Stmt> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(Stmt::Str(s))
            }
            Tok::Op("{") => {
                self.bump();
                let body = self.stmt_list(funcs, "}")?;
                self.expect("}")?;
                Ok(Stmt::Block(body))
            }
            Tok::Op(";") | Tok::Newline => Ok(Stmt::Empty),
            Tok::Name(n) => match n.as_str() {
                "if" => {
                    self.bump();
                    self.expect("(")?;
                    let c = self.expr()?;
                    self.expect(")")?;
                    self.skip_newlines();
                    let then = self.statement(funcs)?;
                    // `else` may follow on the next lines
                    let save = self.pos;
                    if self.is_op(";") {
                        self.bump();
                    }
                    self.skip_newlines();
                    if *self.peek() == Tok::Name("else".into()) {
                        self.bump();
                        self.skip_newlines();
                        let e = self.statement(funcs)?;
                        return Ok(Stmt::If(c, Box::new(then), Some(Box::new(e))));
                    }
                    self.pos = save;
                    Ok(Stmt::If(c, Box::new(then), None))
                }
                "while" => {
                    self.bump();
                    self.expect("(")?;
                    let c = self.expr()?;
                    self.expect(")")?;
                    self.skip_newlines();
                    self.in_loop += 1;
                    let body = self.statement(funcs);
                    self.in_loop -= 1;
                    Ok(Stmt::While(c, Box::new(body?)))
                }
                "for" => {
                    self.bump();
                    self.expect("(")?;
                    let a = if self.is_op(";") {
                        None
                    } else {
                        Some(self.expr()?)
                    };
                    self.expect(";")?;
                    let b = if self.is_op(";") {
                        None
                    } else {
                        Some(self.expr()?)
                    };
                    self.expect(";")?;
                    let c = if self.is_op(")") {
                        None
                    } else {
                        Some(self.expr()?)
                    };
                    self.expect(")")?;
                    self.skip_newlines();
                    self.in_loop += 1;
                    let body = self.statement(funcs);
                    self.in_loop -= 1;
                    Ok(Stmt::For(a, b, c, Box::new(body?)))
                }
                "break" | "continue" => {
                    self.bump();
                    if self.in_loop == 0 {
                        return Err(SyntaxError {
                            line: self.line(),
                            msg: format!("{n} outside a for/while"),
                        });
                    }
                    Ok(if n == "break" {
                        Stmt::Break
                    } else {
                        Stmt::Continue
                    })
                }
                "return" => {
                    self.bump();
                    if !self.in_func {
                        return Err(SyntaxError {
                            line: self.line(),
                            msg: "Return outside of a function.".into(),
                        });
                    }
                    if matches!(self.peek(), Tok::Newline | Tok::Eof)
                        || self.is_op(";")
                        || self.is_op("}")
                    {
                        return Ok(Stmt::Return(None));
                    }
                    Ok(Stmt::Return(Some(self.expr()?)))
                }
                "halt" => {
                    self.bump();
                    Ok(Stmt::Halt)
                }
                "quit" => {
                    self.bump();
                    self.quit = true;
                    Ok(Stmt::Empty)
                }
                "print" => {
                    self.bump();
                    let mut items = Vec::new();
                    loop {
                        if let Tok::Str(s) = self.peek().clone() {
                            self.bump();
                            items.push(PrintItem::Str(s));
                        } else {
                            items.push(PrintItem::Expr(self.expr()?));
                        }
                        if !self.eat(",") {
                            break;
                        }
                    }
                    Ok(Stmt::Print(items))
                }
                "define" => {
                    self.bump();
                    let name = self.name()?;
                    self.expect("(")?;
                    let mut params = Vec::new();
                    if !self.is_op(")") {
                        loop {
                            let p = self.name()?;
                            let arr = if self.eat("[") {
                                self.expect("]")?;
                                true
                            } else {
                                false
                            };
                            params.push((p, arr));
                            if !self.eat(",") {
                                break;
                            }
                        }
                    }
                    self.expect(")")?;
                    self.skip_newlines();
                    self.expect("{")?;
                    self.skip_newlines();
                    let mut autos = Vec::new();
                    if *self.peek() == Tok::Name("auto".into()) {
                        self.bump();
                        loop {
                            let p = self.name()?;
                            let arr = if self.eat("[") {
                                self.expect("]")?;
                                true
                            } else {
                                false
                            };
                            autos.push((p, arr));
                            if !self.eat(",") {
                                break;
                            }
                        }
                        if !self.eat(";") && *self.peek() != Tok::Newline {
                            return self.err();
                        }
                    }
                    let was = std::mem::replace(&mut self.in_func, true);
                    let loops = std::mem::replace(&mut self.in_loop, 0);
                    let body = self.stmt_list(funcs, "}");
                    self.in_func = was;
                    self.in_loop = loops;
                    let body = body?;
                    self.expect("}")?;
                    funcs.insert(
                        name,
                        Func {
                            params,
                            autos,
                            body,
                        },
                    );
                    Ok(Stmt::Empty)
                }
                _ => {
                    let e = self.expr()?;
                    let show = !matches!(e, Expr::Assign(..));
                    Ok(Stmt::Expr(e, show))
                }
            },
            _ => {
                let e = self.expr()?;
                let show = !matches!(e, Expr::Assign(..));
                Ok(Stmt::Expr(e, show))
            }
        }
    }

    /// Statements separated by `;` or newlines, up to `end` (not eaten).
    fn stmt_list(&mut self, funcs: &mut HashMap<String, Func>, end: &str) -> PResult<Vec<Stmt>> {
        let mut v = Vec::new();
        loop {
            while *self.peek() == Tok::Newline || self.is_op(";") {
                self.bump();
            }
            if self.is_op(end) || *self.peek() == Tok::Eof {
                return Ok(v);
            }
            v.push(self.statement(funcs)?);
            if !(self.is_op(";") || *self.peek() == Tok::Newline || self.is_op(end)) {
                return self.err();
            }
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.binary(1)
    }

    /// Precedence climbing: `||` 1, `&&` 2, `!` 3, relations 4,
    /// assignment 5 (right), `+ -` 6, `* / %` 7, `^` 8 (right).
    fn binary(&mut self, min: u8) -> PResult<Expr> {
        let mut l = if min <= 3 && self.is_op("!") {
            self.bump();
            Expr::Not(Box::new(self.binary(4)?))
        } else {
            self.unary()?
        };
        loop {
            let Tok::Op(op) = self.peek().clone() else {
                return Ok(l);
            };
            let (prec, right) = match op {
                "||" => (1, false),
                "&&" => (2, false),
                "<" | "<=" | ">" | ">=" | "==" | "!=" => (4, false),
                "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "^=" => (5, true),
                "+" | "-" => (6, false),
                "*" | "/" | "%" => (7, false),
                "^" => (8, true),
                _ => return Ok(l),
            };
            if prec < min {
                return Ok(l);
            }
            self.bump();
            let r = self.binary(if right { prec } else { prec + 1 })?;
            l = if prec == 5 {
                let Expr::Load(lv) = l else {
                    return self.err();
                };
                let o = if op == "=" { None } else { Some(&op[..1]) };
                let o: Option<&'static str> = o.map(|s| match s {
                    "+" => "+",
                    "-" => "-",
                    "*" => "*",
                    "/" => "/",
                    "%" => "%",
                    _ => "^",
                });
                Expr::Assign(lv, o, Box::new(r))
            } else {
                Expr::Bin(op, Box::new(l), Box::new(r))
            };
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.is_op("++") || self.is_op("--") {
            let inc = self.is_op("++");
            self.bump();
            let lv = self.lvalue()?;
            return Ok(Expr::Step(lv, inc, true));
        }
        let e = self.primary()?;
        if let Expr::Load(lv) = &e
            && (self.is_op("++") || self.is_op("--"))
        {
            let inc = self.is_op("++");
            self.bump();
            return Ok(Expr::Step(lv.clone(), inc, false));
        }
        Ok(e)
    }

    fn lvalue(&mut self) -> PResult<LVal> {
        let n = match self.bump() {
            Tok::Name(n)
                if !is_keyword(&n)
                    || matches!(n.as_str(), "scale" | "ibase" | "obase" | "last") =>
            {
                n
            }
            _ => return self.err(),
        };
        if self.eat("[") {
            let i = self.expr()?;
            self.expect("]")?;
            return Ok(LVal::Elem(n, Box::new(i)));
        }
        Ok(LVal::Var(n))
    }

    fn primary(&mut self) -> PResult<Expr> {
        match self.peek().clone() {
            Tok::Num(s) => {
                self.bump();
                Ok(Expr::Num(s))
            }
            Tok::Op("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect(")")?;
                // a parenthesized assignment is printed
                Ok(match e {
                    Expr::Assign(..) => {
                        Expr::Bin("()", Box::new(e), Box::new(Expr::Num("0".into())))
                    }
                    e => e,
                })
            }
            Tok::Name(n) => match n.as_str() {
                "length" | "sqrt" | "scale"
                    if self
                        .toks
                        .get(self.pos + 1)
                        .is_some_and(|t| t.0 == Tok::Op("(")) =>
                {
                    self.bump();
                    self.bump();
                    let e = self.expr()?;
                    self.expect(")")?;
                    let b: &'static str = match n.as_str() {
                        "length" => "length",
                        "sqrt" => "sqrt",
                        _ => "scale",
                    };
                    Ok(Expr::Builtin(b, Box::new(e)))
                }
                "read" => {
                    self.bump();
                    self.expect("(")?;
                    self.expect(")")?;
                    Ok(Expr::Num("0".into()))
                }
                "scale" | "ibase" | "obase" | "last" => Ok(Expr::Load(self.lvalue()?)),
                _ if is_keyword(&n) => self.err(),
                _ => {
                    if self
                        .toks
                        .get(self.pos + 1)
                        .is_some_and(|t| t.0 == Tok::Op("("))
                    {
                        self.bump();
                        self.bump();
                        let mut args = Vec::new();
                        if !self.is_op(")") {
                            loop {
                                // `name[]` passes an array
                                if let (
                                    Tok::Name(a),
                                    Some((Tok::Op("["), _)),
                                    Some((Tok::Op("]"), _)),
                                ) = (
                                    self.peek().clone(),
                                    self.toks.get(self.pos + 1),
                                    self.toks.get(self.pos + 2),
                                ) {
                                    self.pos += 3;
                                    args.push(Arg::Array(a));
                                } else {
                                    args.push(Arg::Val(self.expr()?));
                                }
                                if !self.eat(",") {
                                    break;
                                }
                            }
                        }
                        self.expect(")")?;
                        return Ok(Expr::Call(n, args));
                    }
                    Ok(Expr::Load(self.lvalue()?))
                }
            },
            _ => self.err(),
        }
    }
}

fn is_keyword(n: &str) -> bool {
    matches!(
        n,
        "if" | "else"
            | "while"
            | "for"
            | "break"
            | "continue"
            | "return"
            | "define"
            | "auto"
            | "quit"
            | "halt"
            | "print"
            | "length"
            | "sqrt"
            | "scale"
            | "ibase"
            | "obase"
            | "last"
            | "read"
            | "limits"
            | "warranty"
    )
}

// ---------------------------------------------------------------- runtime

enum Flow {
    Normal,
    Break,
    Continue,
    Return(Num),
    Halt,
}

/// Why a line stopped: a runtime error (message) or `halt`.
enum Stop {
    Error(String),
    Halt,
}

type RResult<T> = Result<T, Stop>;

/// The interpreter's state: variables (a stack per name, for bc's dynamic
/// scoping of parameters and autos), arrays, functions and output.
pub struct Bc {
    vars: HashMap<String, Vec<Num>>,
    arrays: HashMap<String, Vec<HashMap<usize, Num>>>,
    funcs: HashMap<String, Func>,
    scale: u32,
    ibase: u32,
    obase: u32,
    last: Num,
    out: Vec<u8>,
    col: usize,
    line_len: usize,
    mathlib: bool,
    depth: usize,
}

impl Bc {
    /// A fresh interpreter (`-l` sets `scale=20` and the math library).
    pub fn new(mathlib: bool, line_len: usize) -> Bc {
        Bc {
            vars: HashMap::new(),
            arrays: HashMap::new(),
            funcs: HashMap::new(),
            scale: if mathlib { 20 } else { 0 },
            ibase: 10,
            obase: 10,
            last: Num::zero(),
            out: Vec::new(),
            col: 0,
            line_len,
            mathlib,
            depth: 0,
        }
    }

    fn emit(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
        match s.rfind('\n') {
            Some(i) => self.col = s.len() - i - 1,
            None => self.col += s.len(),
        }
    }

    /// Writes a number, splitting it with `\` at the line length.
    fn emit_num(&mut self, n: &Num) {
        let s = n.to_base(self.obase);
        if self.line_len < 2 {
            self.emit(&s);
            return;
        }
        for c in s.chars() {
            if self.col + 2 >= self.line_len {
                self.out.extend_from_slice(b"\\\n");
                self.col = 0;
            }
            let mut buf = [0u8; 4];
            self.out
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            self.col += 1;
        }
    }

    /// Runs a program text; diagnostics go to `err`. `false` when `quit`
    /// or `halt` ended it.
    pub fn run_text(&mut self, src: &str, err: &mut Vec<u8>) -> bool {
        let mut p = Parser {
            toks: lex(src),
            pos: 0,
            in_func: false,
            in_loop: 0,
            quit: false,
        };
        loop {
            while p.is_op(";") {
                p.bump();
            }
            if *p.peek() == Tok::Eof {
                return true;
            }
            if *p.peek() == Tok::Newline {
                p.bump();
                continue;
            }
            // one line: statements up to a newline at the top level
            let mut line = Vec::new();
            let mut funcs = std::mem::take(&mut self.funcs);
            let parsed = (|| -> PResult<()> {
                loop {
                    line.push(p.statement(&mut funcs)?);
                    if p.quit {
                        return Ok(());
                    }
                    match p.peek() {
                        Tok::Op(";") => {
                            p.bump();
                            if matches!(p.peek(), Tok::Newline | Tok::Eof) {
                                return Ok(());
                            }
                        }
                        Tok::Newline | Tok::Eof => return Ok(()),
                        _ => return p.err(),
                    }
                }
            })();
            self.funcs = funcs;
            if let Err(e) = parsed {
                err.extend_from_slice(format!("(standard_in) {}: {}\n", e.line, e.msg).as_bytes());
                // drop the rest of the line
                if *p.peek() == Tok::Newline {
                    p.bump();
                }
                while !matches!(p.peek(), Tok::Newline | Tok::Eof) {
                    p.bump();
                }
                continue;
            }
            for s in &line {
                match self.exec(s) {
                    Ok(Flow::Halt) | Err(Stop::Halt) => return false,
                    Ok(_) => {}
                    Err(Stop::Error(m)) => {
                        err.extend_from_slice(
                            format!("Runtime error (func=(main), adr=0): {m}\n").as_bytes(),
                        );
                        break;
                    }
                }
            }
            if p.quit {
                return false;
            }
        }
    }

    fn exec(&mut self, s: &Stmt) -> RResult<Flow> {
        match s {
            Stmt::Empty => {}
            Stmt::Expr(e, show) => {
                let v = self.eval(e)?;
                if *show {
                    self.emit_num(&v);
                    self.emit("\n");
                    self.last = v;
                }
            }
            Stmt::Str(s) => self.emit(s),
            Stmt::Print(items) => {
                for it in items {
                    match it {
                        PrintItem::Str(s) => self.emit(&print_escapes(s)),
                        PrintItem::Expr(e) => {
                            let v = self.eval(e)?;
                            self.emit_num(&v);
                            self.last = v;
                        }
                    }
                }
            }
            Stmt::Block(b) => {
                for s in b {
                    match self.exec(s)? {
                        Flow::Normal => {}
                        f => return Ok(f),
                    }
                }
            }
            Stmt::If(c, t, e) => {
                if !self.eval(c)?.is_zero() {
                    return self.exec(t);
                } else if let Some(e) = e {
                    return self.exec(e);
                }
            }
            Stmt::While(c, body) => {
                while !self.eval(c)?.is_zero() {
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        f => return Ok(f),
                    }
                }
            }
            Stmt::For(a, c, step, body) => {
                if let Some(a) = a {
                    self.eval(a)?;
                }
                loop {
                    if let Some(c) = c
                        && self.eval(c)?.is_zero()
                    {
                        break;
                    }
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        f => return Ok(f),
                    }
                    if let Some(s) = step {
                        self.eval(s)?;
                    }
                }
            }
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Num::zero(),
                };
                return Ok(Flow::Return(v));
            }
            Stmt::Halt => return Ok(Flow::Halt),
        }
        Ok(Flow::Normal)
    }

    fn index(&mut self, e: &Expr) -> RResult<usize> {
        let i = self.eval(e)?.trunc();
        if i.is_negative() || i > BigInt::from(16_777_215) {
            return Err(Stop::Error("Array index out of range".into()));
        }
        Ok(i.to_usize().unwrap_or(0))
    }

    fn load(&mut self, lv: &LVal) -> RResult<Num> {
        Ok(match lv {
            LVal::Var(n) => match n.as_str() {
                "scale" => Num::int(self.scale),
                "ibase" => Num::int(self.ibase),
                "obase" => Num::int(self.obase),
                "last" => self.last.clone(),
                _ => self
                    .vars
                    .get(n)
                    .and_then(|s| s.last())
                    .cloned()
                    .unwrap_or_else(Num::zero),
            },
            LVal::Elem(n, i) => {
                let i = self.index(i)?;
                self.arrays
                    .get(n)
                    .and_then(|s| s.last())
                    .and_then(|a| a.get(&i))
                    .cloned()
                    .unwrap_or_else(Num::zero)
            }
        })
    }

    fn store(&mut self, lv: &LVal, v: Num) -> RResult<Num> {
        match lv {
            LVal::Var(n) => match n.as_str() {
                "scale" => {
                    self.scale = v.trunc().to_u32().unwrap_or(0);
                }
                "ibase" => {
                    self.ibase = v.trunc().to_u32().unwrap_or(2).clamp(2, 16);
                }
                "obase" => {
                    self.obase = v.trunc().to_u32().unwrap_or(2).clamp(2, 999);
                }
                "last" => self.last = v.clone(),
                _ => {
                    let slot = self.vars.entry(n.clone()).or_default();
                    match slot.last_mut() {
                        Some(x) => *x = v.clone(),
                        None => slot.push(v.clone()),
                    }
                }
            },
            LVal::Elem(n, i) => {
                let i = self.index(i)?;
                let slot = self.arrays.entry(n.clone()).or_default();
                if slot.is_empty() {
                    slot.push(HashMap::new());
                }
                if let Some(a) = slot.last_mut() {
                    a.insert(i, v.clone());
                }
            }
        }
        Ok(v)
    }

    fn arith(&self, op: &str, a: &Num, b: &Num) -> RResult<Num> {
        let s = self.scale;
        match op {
            "+" => Ok(a.add(b)),
            "-" => Ok(a.sub(b)),
            "*" => Ok(a.mul(b, s)),
            "/" => a
                .div(b, s)
                .ok_or_else(|| Stop::Error("Divide by zero".into())),
            "%" => a
                .rem(b, s)
                .ok_or_else(|| Stop::Error("Modulo by zero".into())),
            _ => a
                .pow(&b.trunc(), s)
                .ok_or_else(|| Stop::Error("exponent too large in raise".into())),
        }
    }

    fn eval(&mut self, e: &Expr) -> RResult<Num> {
        Ok(match e {
            Expr::Num(s) => parse_number(s, self.ibase),
            Expr::Load(lv) => self.load(lv)?,
            Expr::Assign(lv, op, r) => {
                let rv = self.eval(r)?;
                let v = match op {
                    None => rv,
                    Some(op) => {
                        let cur = self.load(lv)?;
                        self.arith(op, &cur, &rv)?
                    }
                };
                self.store(lv, v)?
            }
            Expr::Step(lv, inc, pre) => {
                let cur = self.load(lv)?;
                let one = Num::int(1);
                let new = if *inc { cur.add(&one) } else { cur.sub(&one) };
                self.store(lv, new.clone())?;
                if *pre { new } else { cur }
            }
            Expr::Neg(x) => {
                let v = self.eval(x)?;
                Num {
                    v: -v.v,
                    scale: v.scale,
                }
            }
            Expr::Not(x) => Num::int(u8::from(self.eval(x)?.is_zero())),
            Expr::Bin(op, a, b) => match *op {
                "()" => self.eval(a)?,
                "&&" => {
                    let t = !self.eval(a)?.is_zero() && !self.eval(b)?.is_zero();
                    Num::int(u8::from(t))
                }
                "||" => {
                    let t = !self.eval(a)?.is_zero() || !self.eval(b)?.is_zero();
                    Num::int(u8::from(t))
                }
                "<" | "<=" | ">" | ">=" | "==" | "!=" => {
                    let x = self.eval(a)?;
                    let y = self.eval(b)?;
                    let o = x.cmp(&y);
                    use std::cmp::Ordering::*;
                    let t = match *op {
                        "<" => o == Less,
                        "<=" => o != Greater,
                        ">" => o == Greater,
                        ">=" => o != Less,
                        "==" => o == Equal,
                        _ => o != Equal,
                    };
                    Num::int(u8::from(t))
                }
                _ => {
                    let x = self.eval(a)?;
                    let y = self.eval(b)?;
                    self.arith(op, &x, &y)?
                }
            },
            Expr::Builtin(b, x) => {
                let v = self.eval(x)?;
                match *b {
                    "length" => Num::int(v.length()),
                    "scale" => Num::int(v.scale),
                    _ => v
                        .sqrt(self.scale)
                        .ok_or_else(|| Stop::Error("Square root of a negative number".into()))?,
                }
            }
            Expr::Call(name, args) => self.call(name, args)?,
        })
    }

    fn call(&mut self, name: &str, args: &[Arg]) -> RResult<Num> {
        if self.mathlib
            && !self.funcs.contains_key(name)
            && let Some(r) = self.mathlib_call(name, args)?
        {
            return Ok(r);
        }
        let Some(f) = self.funcs.get(name).cloned() else {
            return Err(Stop::Error(format!("Function {name} not defined.")));
        };
        if f.params.len() != args.len() {
            return Err(Stop::Error("Parameter number mismatch".to_string()));
        }
        if self.depth > 2000 {
            return Err(Stop::Error("Function call nesting too deep".into()));
        }
        // evaluate the arguments before any of them is bound
        let mut vals = Vec::new();
        for ((_, is_arr), a) in f.params.iter().zip(args) {
            match (a, is_arr) {
                (Arg::Val(e), false) => vals.push(Ok(self.eval(e)?)),
                (Arg::Array(n), true) => vals.push(Err(self
                    .arrays
                    .get(n)
                    .and_then(|s| s.last())
                    .cloned()
                    .unwrap_or_default())),
                _ => return Err(Stop::Error("Parameter type mismatch".into())),
            }
        }
        for ((p, _), v) in f.params.iter().zip(vals) {
            match v {
                Ok(n) => self.vars.entry(p.clone()).or_default().push(n),
                Err(a) => self.arrays.entry(p.clone()).or_default().push(a),
            }
        }
        for (a, arr) in &f.autos {
            if *arr {
                self.arrays
                    .entry(a.clone())
                    .or_default()
                    .push(HashMap::new());
            } else {
                self.vars.entry(a.clone()).or_default().push(Num::zero());
            }
        }
        self.depth += 1;
        let mut result = Ok(Num::zero());
        for s in &f.body {
            match self.exec(s) {
                Ok(Flow::Normal | Flow::Break | Flow::Continue) => {}
                Ok(Flow::Return(v)) => {
                    result = Ok(v);
                    break;
                }
                Ok(Flow::Halt) => {
                    result = Err(Stop::Halt);
                    break;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.depth -= 1;
        for (n, arr) in f.params.iter().chain(&f.autos) {
            if *arr {
                if let Some(s) = self.arrays.get_mut(n) {
                    s.pop();
                }
            } else if let Some(s) = self.vars.get_mut(n) {
                s.pop();
            }
        }
        result
    }

    /// The `-l` library: `s c a l e j`, or `None` for another name.
    fn mathlib_call(&mut self, name: &str, args: &[Arg]) -> RResult<Option<Num>> {
        if !matches!(name, "s" | "c" | "a" | "l" | "e" | "j") {
            return Ok(None);
        }
        let want = if name == "j" { 2 } else { 1 };
        if args.len() != want {
            return Err(Stop::Error("Parameter number mismatch".into()));
        }
        let mut vals = Vec::new();
        for a in args {
            match a {
                Arg::Val(e) => vals.push(self.eval(e)?),
                Arg::Array(_) => return Err(Stop::Error("Parameter type mismatch".into())),
            }
        }
        let scale = self.scale;
        Ok(Some(match name {
            "s" => mathlib::sin(&vals[0], scale, false),
            "c" => mathlib::sin(&vals[0], scale, true),
            "a" => mathlib::atan(&vals[0], scale),
            "l" => mathlib::ln(&vals[0], scale),
            "e" => mathlib::exp(&vals[0], scale),
            _ => mathlib::bessel(&vals[0].trunc(), &vals[1], scale),
        }))
    }
}

/// The escapes of a `print` string: `\a \b \f \n \q \r \t \\`.
fn print_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('n') => out.push('\n'),
            Some('q') => out.push('"'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// bc's math library in fixed point: values are integers scaled by
/// `10^p`, `p` being the result's scale plus guard digits.
mod mathlib {
    use super::{Num, pow10};
    use num_bigint::BigInt;
    use num_traits::{One, Signed, ToPrimitive, Zero};

    const GUARD: u32 = 12;

    fn fixed(n: &Num, p: u32) -> BigInt {
        n.rescale(p).v
    }
    fn mul(a: &BigInt, b: &BigInt, one: &BigInt) -> BigInt {
        a * b / one
    }
    fn div(a: &BigInt, b: &BigInt, one: &BigInt) -> BigInt {
        a * one / b
    }
    /// The result at scale `scale`, truncated toward zero.
    fn done(v: BigInt, p: u32, scale: u32) -> Num {
        Num { v, scale: p }.rescale(scale)
    }

    /// `atanh(x)` for small `|x|` (series `x + x^3/3 + …`).
    fn atanh(x: &BigInt, one: &BigInt) -> BigInt {
        let x2 = mul(x, x, one);
        let mut term = x.clone();
        let mut sum = x.clone();
        let mut k = 1u32;
        loop {
            term = mul(&term, &x2, one);
            k += 2;
            let t = &term / k;
            if t.is_zero() {
                return sum;
            }
            sum += t;
        }
    }
    /// `atan(x)` for `|x| <= 1/4` (series).
    fn atan_small(x: &BigInt, one: &BigInt) -> BigInt {
        let x2 = mul(x, x, one);
        let mut term = x.clone();
        let mut sum = x.clone();
        let mut k = 1u32;
        let mut neg = true;
        loop {
            term = mul(&term, &x2, one);
            k += 2;
            let t = &term / k;
            if t.is_zero() {
                return sum;
            }
            if neg {
                sum -= t;
            } else {
                sum += t;
            }
            neg = !neg;
        }
    }
    fn pi(one: &BigInt) -> BigInt {
        let a = atan_small(&(one / 5), one);
        let b = atan_small(&(one / 239), one);
        a * 16 - b * 4
    }
    fn ln2(one: &BigInt) -> BigInt {
        atanh(&(one / 3), one) * 2
    }

    /// `s(x)` (or `c(x)` when `cos`).
    pub fn sin(x: &Num, scale: u32, cos: bool) -> Num {
        let int_digits = x.trunc().to_string().len() as u32;
        let p = scale + GUARD + int_digits;
        let one = pow10(p);
        let two_pi = pi(&one) * 2;
        let mut v = fixed(x, p);
        if cos {
            v += pi(&one) / 2;
        }
        v %= &two_pi;
        let x2 = mul(&v, &v, &one);
        let mut term = v.clone();
        let mut sum = v;
        let mut k = 1u32;
        loop {
            term = -mul(&term, &x2, &one) / BigInt::from((k + 1) * (k + 2));
            k += 2;
            if term.is_zero() {
                break;
            }
            sum += &term;
        }
        done(sum, p, scale)
    }

    /// `a(x)`.
    pub fn atan(x: &Num, scale: u32) -> Num {
        let p = scale + GUARD;
        let one = pow10(p);
        let mut v = fixed(x, p);
        let neg = v.is_negative();
        v = v.abs();
        let mut add_half_pi = false;
        if v > one {
            v = div(&one, &v, &one);
            add_half_pi = true;
        }
        // atan(x) = 2 atan(x / (1 + sqrt(1 + x^2))), twice
        let mut doublings = 0;
        while v > &one / 4 {
            let s = (&one * &one + &v * &v).sqrt();
            v = div(&v, &(&one + s), &one);
            doublings += 1;
        }
        let mut r: BigInt = atan_small(&v, &one) << doublings;
        if add_half_pi {
            r = pi(&one) / 2 - r;
        }
        if neg {
            r = -r;
        }
        done(r, p, scale)
    }

    /// `l(x)`; `x <= 0` gives `(1 - 10^scale) / 1`, as GNU's library.
    pub fn ln(x: &Num, scale: u32) -> Num {
        if !x.v.is_positive() {
            return Num {
                v: (BigInt::one() - pow10(scale)) * pow10(scale),
                scale,
            };
        }
        let p = scale + GUARD + x.scale;
        let one = pow10(p);
        let mut v = fixed(x, p);
        let mut k: i64 = 0;
        let two = &one * 2;
        while v > two {
            v /= 2;
            k += 1;
        }
        while v < &one / 2 {
            v *= 2;
            k -= 1;
        }
        let y = div(&(&v - &one), &(&v + &one), &one);
        let r = atanh(&y, &one) * 2 + ln2(&one) * k;
        done(r, p, scale)
    }

    /// `e(x)`.
    pub fn exp(x: &Num, scale: u32) -> Num {
        let neg = x.v.is_negative();
        let ax = Num {
            v: x.v.abs(),
            scale: x.scale,
        };
        // e^x has about x * 0.4343 integer digits
        let mag = ax.trunc().to_u64().unwrap_or(u64::MAX / 4);
        let int_digits = u32::try_from(mag / 2 + 2).unwrap_or(u32::MAX / 8);
        let p = scale + GUARD + int_digits * if neg { 2 } else { 1 };
        let one = pow10(p);
        let mut v = fixed(&ax, p);
        let mut halvings = 0u32;
        while v > &one / 2 {
            v /= 2;
            halvings += 1;
        }
        let mut term = one.clone();
        let mut sum = one.clone();
        let mut k = 1u32;
        loop {
            term = mul(&term, &v, &one) / k;
            if term.is_zero() {
                break;
            }
            sum += &term;
            k += 1;
        }
        for _ in 0..halvings {
            sum = mul(&sum, &sum, &one);
        }
        if neg {
            sum = div(&one, &sum, &one);
        }
        done(sum, p, scale)
    }

    /// `j(n, x)`: the Bessel function of integer order `n`.
    pub fn bessel(n: &BigInt, x: &Num, scale: u32) -> Num {
        let order = n.abs().to_u32().unwrap_or(0);
        let p = scale + GUARD + x.trunc().to_string().len() as u32 * 2;
        let one = pow10(p);
        let half = fixed(x, p) / 2;
        let h2 = mul(&half, &half, &one);
        // first term: (x/2)^n / n!
        let mut term = one.clone();
        for i in 1..=order {
            term = mul(&term, &half, &one) / i;
        }
        let mut sum = term.clone();
        let mut k = 1u32;
        loop {
            term = -mul(&term, &h2, &one) / BigInt::from(k) / BigInt::from(k + order);
            if term.is_zero() {
                break;
            }
            sum += &term;
            k += 1;
            if k > 100_000 {
                break;
            }
        }
        if n.is_negative() && order % 2 == 1 {
            sum = -sum;
        }
        done(sum, p, scale)
    }
}

// ---------------------------------------------------------------- command

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    // GNU bc prints its own usage on stdout after a bad option
    let p = match mirage_types::args::parse(&SPEC, &ctx.args) {
        Ok(p) if !p.has("usage") => p,
        Ok(_) => {
            ctx.stdout.write_str(BC_USAGE).await?;
            return Ok(0);
        }
        Err(msg) => {
            ctx.error(&msg).await;
            ctx.stdout.write_str(BC_USAGE).await?;
            return Ok(1);
        }
    };
    let line_len = ctx
        .env
        .get("BC_LINE_LENGTH")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(70);
    let mut bc = Bc::new(p.has("mathlib"), line_len);
    let status = 0;
    let mut sources = p.operands.clone();
    sources.push("-".into());
    for src in sources {
        let text = match read_input(ctx, &src).await {
            Ok(b) => mirage_types::bytestr::decode_owned(b.to_vec()),
            Err(_) => {
                ctx.stdout.flush().await?;
                ctx.stderr
                    .write_str(&format!("File {src} is unavailable.\n"))
                    .await?;
                return Ok(1);
            }
        };
        let mut err = Vec::new();
        let go_on = bc.run_text(&text, &mut err);
        ctx.stdout.write(&std::mem::take(&mut bc.out)).await?;
        if !err.is_empty() {
            ctx.stdout.flush().await?;
            ctx.stderr.write(&err).await?;
        }
        if !go_on {
            break;
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::Bc;

    fn bc(src: &str, l: bool) -> (String, String) {
        let mut b = Bc::new(l, 70);
        let mut err = Vec::new();
        b.run_text(src, &mut err);
        (
            String::from_utf8(b.out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn scale_rules_and_printing() {
        assert_eq!(
            bc("10/3\n-7/2\nscale=4; 10/3\n", false).0,
            "3\n-3\n3.3333\n"
        );
        assert_eq!(
            bc("scale=3; 1.50; -0.5; 0.000; 2^-2; 7%3; 7.5%2\n", false).0,
            "1.50\n-.5\n0\n.250\n.001\n0\n"
        );
        assert_eq!(
            bc("scale=0; 7.5%2; sqrt(2); scale=3; sqrt(2)\n", false).0,
            "1.5\n1\n1.414\n"
        );
        assert_eq!(
            bc(
                "obase=16; 255.5; -10; obase=20; 12345; obase=2; .75\n",
                false
            )
            .0,
            "FF.8\n-A\n 01 10 17 05\n.1100000\n"
        );
        assert_eq!(bc("ibase=16; FF; A\n", false).0, "255\n10\n");
        assert_eq!(bc("-2^2; x = 3 < 2; x; 2^3^2\n", false).0, "4\n0\n3\n512\n");
    }

    #[test]
    fn language() {
        let src = "define f(n) { if (n<2) return (n); return (f(n-1)+f(n-2)); }\nf(10)\ndefine h() { 5 }\nz=h()\n(z=3)\nfor (i=0;i<2;i++) i\nprint \"a\", 1+2, \"\\n\"\n\"raw\\n\"\n";
        assert_eq!(bc(src, false).0, "55\n5\n3\n0\n1\na3\nraw\\n");
        let (out, err) = bc("1;2 +\n3\n4\n1/0; 5\n", false);
        assert_eq!(out, "4\n");
        assert!(err.contains("(standard_in) 2: syntax error"));
        assert!(err.contains("Divide by zero"));
    }

    #[test]
    fn math_library() {
        let out = bc("s(1); c(1); a(1); l(2); e(1); j(0,1); e(-1)\n", true).0;
        assert_eq!(
            out,
            ".84147098480789650665\n.54030230586813971740\n.78539816339744830961\n.69314718055994530941\n2.71828182845904523536\n.76519768655796655144\n.36787944117144232159\n"
        );
        assert_eq!(
            bc("e(100)\n", true).0,
            "26881171418161354484126255515800135873611118.77374192241519160861\n"
        );
    }
}
