//! Shell arithmetic (bash 5.2 manual, "Shell Arithmetic"): 64-bit signed
//! integers with wrapping, C operators and precedence, assignments, `++`/`--`,
//! `?:`, `,`, bases `0x`, `0` (octal) and `B#N`.

use crate::state::ShellState;

/// An arithmetic error, worded as bash prints it after `bash: EXPR: `.
/// The second field, when set, is the (nested) expression the error is in,
/// which bash names instead of the outer one (`a=b; b=a; $((a))` reports
/// `b: expression recursion level exceeded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArithError(pub String, pub Option<String>);

impl ArithError {
    fn new(msg: impl Into<String>) -> Self {
        ArithError(msg.into(), None)
    }
    /// `EXPR: MESSAGE` as bash prints it after `bash: `, where `EXPR` is the
    /// nested expression the error is in, else `outer`, without its leading
    /// blanks (bash 5.2 keeps the trailing ones: `1 + : syntax error`).
    pub fn report(&self, outer: &str) -> String {
        format!(
            "{}: {}",
            self.1.as_deref().unwrap_or(outer.trim_start()),
            self.0
        )
    }
}

type R<T> = Result<T, ArithError>;

/// A token of an expression; names borrow the expression's text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Num(i64),
    Ident(&'a str),
    Op(Op),
}

/// An operator of an arithmetic expression (compared as a number, not as
/// text, on the evaluator's hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `<<=`
    ShlAssign,
    /// `>>=`
    ShrAssign,
    /// `**`
    Pow,
    /// `++`
    Inc,
    /// `--`
    Dec,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `+=`
    AddAssign,
    /// `-=`
    SubAssign,
    /// `*=`
    MulAssign,
    /// `/=`
    DivAssign,
    /// `%=`
    ModAssign,
    /// `&=`
    AndAssign,
    /// `|=`
    OrAssign,
    /// `^=`
    XorAssign,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `=`
    Assign,
    /// `!`
    Not,
    /// `~`
    BitNot,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `?`
    Quest,
    /// `:`
    Colon,
    /// `,`
    Comma,
    /// `(`
    LParen,
    /// `)`
    RParen,
}

impl Op {
    /// The operator as written.
    fn text(self) -> &'static str {
        match self {
            Op::ShlAssign => "<<=",
            Op::ShrAssign => ">>=",
            Op::Pow => "**",
            Op::Inc => "++",
            Op::Dec => "--",
            Op::Shl => "<<",
            Op::Shr => ">>",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::And => "&&",
            Op::Or => "||",
            Op::AddAssign => "+=",
            Op::SubAssign => "-=",
            Op::MulAssign => "*=",
            Op::DivAssign => "/=",
            Op::ModAssign => "%=",
            Op::AndAssign => "&=",
            Op::OrAssign => "|=",
            Op::XorAssign => "^=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Mod => "%",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Assign => "=",
            Op::Not => "!",
            Op::BitNot => "~",
            Op::BitAnd => "&",
            Op::BitOr => "|",
            Op::BitXor => "^",
            Op::Quest => "?",
            Op::Colon => ":",
            Op::Comma => ",",
            Op::LParen => "(",
            Op::RParen => ")",
        }
    }
    /// The binary operator of a compound assignment (`+=` gives `+`).
    fn compound(self) -> Option<Op> {
        Some(match self {
            Op::AddAssign => Op::Add,
            Op::SubAssign => Op::Sub,
            Op::MulAssign => Op::Mul,
            Op::DivAssign => Op::Div,
            Op::ModAssign => Op::Mod,
            Op::ShlAssign => Op::Shl,
            Op::ShrAssign => Op::Shr,
            Op::AndAssign => Op::BitAnd,
            Op::OrAssign => Op::BitOr,
            Op::XorAssign => Op::BitXor,
            _ => return None,
        })
    }
}

/// Every operator, longest first where one is a prefix of another.
const OPS: &[Op] = &[
    Op::ShlAssign,
    Op::ShrAssign,
    Op::Pow,
    Op::Inc,
    Op::Dec,
    Op::Shl,
    Op::Shr,
    Op::Le,
    Op::Ge,
    Op::Eq,
    Op::Ne,
    Op::And,
    Op::Or,
    Op::AddAssign,
    Op::SubAssign,
    Op::MulAssign,
    Op::DivAssign,
    Op::ModAssign,
    Op::AndAssign,
    Op::OrAssign,
    Op::XorAssign,
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::Div,
    Op::Mod,
    Op::Lt,
    Op::Gt,
    Op::Assign,
    Op::Not,
    Op::BitNot,
    Op::BitAnd,
    Op::BitOr,
    Op::BitXor,
    Op::Quest,
    Op::Colon,
    Op::Comma,
    Op::LParen,
    Op::RParen,
];

fn parse_number(s: &str) -> R<i64> {
    // bash names the number itself, not the expression it is in
    let bad = || {
        ArithError(
            format!("value too great for base (error token is \"{s}\")"),
            Some(s.to_string()),
        )
    };
    if let Some((base, digits)) = s.split_once('#') {
        let b: u32 = base.parse().map_err(|_| bad())?;
        if !(2..=64).contains(&b) {
            return Err(ArithError(
                format!("invalid arithmetic base (error token is \"{s}\")"),
                Some(s.to_string()),
            ));
        }
        let mut v: i64 = 0;
        for c in digits.chars() {
            let d = match c {
                '0'..='9' => c as u32 - '0' as u32,
                'a'..='z' => c as u32 - 'a' as u32 + 10,
                'A'..='Z' => c as u32 - 'A' as u32 + if b <= 36 { 10 } else { 36 },
                '@' => 62,
                '_' => 63,
                _ => return Err(bad()),
            };
            if d >= b {
                return Err(bad());
            }
            v = v.wrapping_mul(i64::from(b)).wrapping_add(i64::from(d));
        }
        return Ok(v);
    }
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16)
            .or_else(|_| u64::from_str_radix(h, 16).map(|v| v as i64))
            .map_err(|_| bad());
    }
    if s.len() > 1 && s.starts_with('0') {
        return i64::from_str_radix(&s[1..], 8).map_err(|_| bad());
    }
    s.parse::<i64>()
        .or_else(|_| s.parse::<u64>().map(|v| v as i64))
        .map_err(|_| bad())
}

/// Whether `digits` has a leading `0` before more digits: bash reads it
/// as octal (`012` is 10, `09` an error), so it is no plain decimal.
fn decimal_with_leading_zero(digits: &str) -> bool {
    digits.len() > 1 && digits.starts_with('0')
}

/// The tokens of `src` and the byte offset where each starts.
fn tokenize(src: &str) -> R<(Vec<Tok<'_>>, Vec<usize>)> {
    // bytes, not chars: every token is ASCII, and a byte that starts no
    // token (non-ASCII included) is an invalid operator, as in bash
    let b = src.as_bytes();
    let mut i = 0;
    // most expressions are a name or number per two bytes at most
    let mut out = Vec::with_capacity(b.len() / 2 + 1);
    let mut offs = Vec::with_capacity(b.len() / 2 + 1);
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        offs.push(i);
        if c.is_ascii_digit() {
            let st = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'#' || b[i] == b'_' || b[i] == b'@')
            {
                i += 1;
            }
            // bash names the expression up to the bad number (`1 + 09`)
            let n = parse_number(&src[st..i]).map_err(|e| {
                ArithError(
                    e.0,
                    Some(src.get(..i).unwrap_or(src).trim_start().to_string()),
                )
            })?;
            out.push(Tok::Num(n));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && b[i] == b'[' {
                // array element: keep the subscript text
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'[' {
                        depth += 1;
                    } else if b[i] == b']' {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
            }
            // `i` is a char boundary: it stops after `]` or an ASCII byte,
            // or at the end
            out.push(Tok::Ident(src.get(st..i).unwrap_or_default()));
            continue;
        }
        let rest = &b[i..];
        // the first byte picks the few candidates worth comparing
        match OPS.iter().find(|op| {
            let t = op.text().as_bytes();
            t[0] == c && rest.starts_with(t)
        }) {
            Some(&op) => {
                out.push(Tok::Op(op));
                i += op.text().len();
            }
            None => {
                let tail = src.get(i..).unwrap_or_default();
                return Err(ArithError::new(format!(
                    "syntax error: invalid arithmetic operator (error token is \"{tail}\")"
                )));
            }
        }
    }
    Ok((out, offs))
}

/// Evaluates `src` in `state` (assignments change variables).
///
/// A variable whose value is itself an expression is evaluated one level
/// deeper; past `state.limits.max_arith_depth` levels (bash: 1024) this fails
/// with bash's `expression recursion level exceeded`. Parentheses and unary
/// operators nest at most `state.limits.max_arith_nesting` deep, and never
/// closer to the end of the stack than `state.limits.min_free_stack`.
pub fn eval(src: &str, state: &mut ShellState) -> R<i64> {
    eval_at(src, state, 0)
}

fn eval_at(src: &str, state: &mut ShellState, depth: usize) -> R<i64> {
    let (toks, offs) = tokenize(src)?;
    if toks.is_empty() {
        return Ok(0);
    }
    let mut p = P {
        toks,
        offs,
        pos: 0,
        st: state,
        src,
        skip: 0,
        depth,
        nest: 0,
    };
    let v = p.comma()?;
    if p.pos < p.toks.len() {
        let rest = p.tail();
        return Err(ArithError::new(format!(
            "syntax error in expression (error token is \"{rest}\")"
        )));
    }
    Ok(v)
}

struct P<'a> {
    toks: Vec<Tok<'a>>,
    /// Where each token starts in `src` (bytes).
    offs: Vec<usize>,
    pos: usize,
    st: &'a mut ShellState,
    src: &'a str,
    /// >0 while evaluating a branch whose value is discarded (no side effects).
    skip: u32,
    /// How many variable values deep this expression is (0: the outer one).
    depth: usize,
    /// Open parentheses, unary operators and right operands being parsed.
    nest: usize,
}

enum LVal<'a> {
    Name(&'a str),
}

impl<'a> P<'a> {
    /// The error token bash 5.2 names: the text from the start of the
    /// token last read (the current one, or the last of all at the end)
    /// to the end of the expression, trailing blanks included (`lasttp`
    /// in bash's expr.c).
    fn tail(&self) -> &'a str {
        let i = self.pos.min(self.toks.len().saturating_sub(1));
        self.tail_at(i)
    }
    /// The text from the start of token `i` to the end.
    fn tail_at(&self, i: usize) -> &'a str {
        self.offs
            .get(i)
            .and_then(|&o| self.src.get(o..))
            .unwrap_or_default()
    }
    fn peek_op(&self) -> Option<Op> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => Some(*o),
            _ => None,
        }
    }
    fn eat(&mut self, op: Op) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn var_value(&mut self, name: &str) -> R<i64> {
        // the common case, without a copy: a set scalar holding a decimal
        if let Some(v) = self.st.vars.get(name)
            && !v.nameref
            && !v.no_value
            && let crate::state::Value::Scalar(s) = &v.value
        {
            // plain digits (the value of every counter): no trim, no checks
            let b = s.as_bytes();
            // (a leading 0 means octal: the general path)
            if !b.is_empty()
                && b.len() <= 18
                && (b[0] != b'0' || b.len() == 1)
                && b.iter().all(u8::is_ascii_digit)
            {
                return Ok(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')));
            }
            let t = s.trim();
            if t.is_empty() {
                return Ok(0);
            }
            let digits = t.strip_prefix('-').unwrap_or(t);
            if !decimal_with_leading_zero(digits)
                && digits.bytes().all(|b| b.is_ascii_digit())
                && let Ok(n) = t.parse::<i64>()
            {
                return Ok(n);
            }
        }
        crate::bashargv::on_lookup(self.st, name);
        let raw = crate::expand::lookup_subscripted(self.st, name);
        match raw {
            None => {
                if self.st.options.nounset {
                    return Err(ArithError::new(format!("{name}: unbound variable")));
                }
                Ok(0)
            }
            Some(s) if s.trim().is_empty() => Ok(0),
            Some(s) => {
                let raw_value = s.as_str();
                let s = s.trim();
                let digits = s.strip_prefix('-').unwrap_or(s);
                if !digits.is_empty()
                    && !decimal_with_leading_zero(digits)
                    && digits.bytes().all(|b| b.is_ascii_digit())
                {
                    // a plain number needs no nested evaluation
                    if let Ok(v) = s.parse::<i64>() {
                        return Ok(v);
                    }
                }
                // the value as bash names it: trailing blanks kept
                let s = raw_value.trim_start();
                let depth = self.depth + 1;
                if depth + 1 >= self.st.limits.max_arith_depth {
                    return Err(ArithError(
                        format!("expression recursion level exceeded (error token is \"{s}\")"),
                        Some(s.to_string()),
                    ));
                }
                // an error inside a variable's value names that value
                eval_at(s, self.st, depth).map_err(|e| match e.1 {
                    Some(_) => e,
                    None => ArithError(e.0, Some(s.to_string())),
                })
            }
        }
    }
    fn assign(&mut self, lv: &LVal<'_>, v: i64) {
        if self.skip > 0 {
            return;
        }
        let LVal::Name(n) = lv;
        if !self.st.set_int_now(n, v) {
            crate::expand::assign_subscripted(self.st, n, v.to_string());
        }
    }
    /// Enters one more nested level (a parenthesis, a unary operator, a right
    /// operand); fails past the nesting limit or when the stack runs low.
    fn enter(&mut self) -> R<()> {
        self.nest += 1;
        if self.nest > self.st.limits.max_arith_nesting || self.st.limits.stack_low() {
            return Err(ArithError::new(format!(
                "expression nesting level exceeded (max {})",
                self.st.limits.max_arith_nesting
            )));
        }
        Ok(())
    }
    fn comma(&mut self) -> R<i64> {
        let mut v = self.assignment()?;
        while self.eat(Op::Comma) {
            v = self.assignment()?;
        }
        Ok(v)
    }
    fn assignment(&mut self) -> R<i64> {
        self.enter()?;
        let r = self.assignment_inner();
        self.nest -= 1;
        r
    }
    fn assignment_inner(&mut self) -> R<i64> {
        if let (Some(Tok::Ident(name)), Some(Tok::Op(op))) = (
            self.toks.get(self.pos).copied(),
            self.toks.get(self.pos + 1).copied(),
        ) && matches!(
            op,
            Op::Assign
                | Op::AddAssign
                | Op::SubAssign
                | Op::MulAssign
                | Op::DivAssign
                | Op::ModAssign
                | Op::ShlAssign
                | Op::ShrAssign
                | Op::AndAssign
                | Op::OrAssign
                | Op::XorAssign
        ) {
            self.pos += 2;
            let rhs = self.assignment()?;
            let lv = LVal::Name(name);
            let v = match op.compound() {
                None => rhs,
                Some(bop) => {
                    let cur = self.var_value(name)?;
                    // (bash names the last token read here)
                    let last = self.pos.min(self.toks.len().saturating_sub(1));
                    self.binop(bop, cur, rhs, last)?
                }
            };
            self.assign(&lv, v);
            return Ok(v);
        }
        self.ternary()
    }
    fn ternary(&mut self) -> R<i64> {
        let c = self.binary(0)?;
        if self.eat(Op::Quest) {
            self.expression_expected()?;
            if c == 0 {
                self.skip += 1;
            }
            let a = self.assignment();
            if c == 0 {
                self.skip -= 1;
            }
            let a = a?;
            if !self.eat(Op::Colon) {
                return Err(ArithError::new(format!(
                    "`:' expected for conditional expression (error token is \"{}\")",
                    self.tail()
                )));
            }
            self.expression_expected()?;
            if c != 0 {
                self.skip += 1;
            }
            let b = self.assignment();
            if c != 0 {
                self.skip -= 1;
            }
            let b = b?;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }
    /// After `?` or `:`: the end or another `:` is bash's "expression
    /// expected".
    fn expression_expected(&self) -> R<()> {
        if self.pos >= self.toks.len() || self.peek_op() == Some(Op::Colon) {
            return Err(ArithError::new(format!(
                "expression expected (error token is \"{}\")",
                self.tail()
            )));
        }
        Ok(())
    }
    fn prec(op: Op) -> Option<u8> {
        Some(match op {
            Op::Or => 1,
            Op::And => 2,
            Op::BitOr => 3,
            Op::BitXor => 4,
            Op::BitAnd => 5,
            Op::Eq | Op::Ne => 6,
            Op::Lt | Op::Gt | Op::Le | Op::Ge => 7,
            Op::Shl | Op::Shr => 8,
            Op::Add | Op::Sub => 9,
            Op::Mul | Op::Div | Op::Mod => 10,
            _ => return None,
        })
    }
    fn binary(&mut self, min: u8) -> R<i64> {
        let mut lhs = self.power()?;
        while let Some(op) = self.peek_op() {
            let Some(p) = Self::prec(op) else { break };
            if p <= min {
                break;
            }
            self.pos += 1;
            if op == Op::And || op == Op::Or {
                let short = (op == Op::And && lhs == 0) || (op == Op::Or && lhs != 0);
                if short {
                    self.skip += 1;
                }
                let rhs = self.binary(p);
                if short {
                    self.skip -= 1;
                }
                let rhs = rhs?;
                lhs = if op == Op::And {
                    i64::from(lhs != 0 && rhs != 0)
                } else {
                    i64::from(lhs != 0 || rhs != 0)
                };
                continue;
            }
            // a division by 0 names the divisor and what follows
            let rhs_at = self.pos;
            let rhs = self.binary(p)?;
            lhs = self.binop(op, lhs, rhs, rhs_at)?;
        }
        Ok(lhs)
    }
    /// `a OP b`; `err_at` is the token a division by 0 names.
    fn binop(&self, op: Op, a: i64, b: i64, err_at: usize) -> R<i64> {
        Ok(match op {
            Op::Add => a.wrapping_add(b),
            Op::Sub => a.wrapping_sub(b),
            Op::Mul => a.wrapping_mul(b),
            Op::Div | Op::Mod => {
                if b == 0 {
                    if self.skip > 0 {
                        return Ok(0);
                    }
                    return Err(ArithError::new(format!(
                        "division by 0 (error token is \"{}\")",
                        self.tail_at(err_at)
                    )));
                }
                if op == Op::Div {
                    a.wrapping_div(b)
                } else {
                    a.wrapping_rem(b)
                }
            }
            Op::Shl => a.wrapping_shl(b as u32),
            Op::Shr => a.wrapping_shr(b as u32),
            Op::BitAnd => a & b,
            Op::BitOr => a | b,
            Op::BitXor => a ^ b,
            Op::Eq => i64::from(a == b),
            Op::Ne => i64::from(a != b),
            Op::Lt => i64::from(a < b),
            Op::Gt => i64::from(a > b),
            Op::Le => i64::from(a <= b),
            Op::Ge => i64::from(a >= b),
            _ => 0,
        })
    }
    fn power(&mut self) -> R<i64> {
        let base = self.unary()?;
        if self.eat(Op::Pow) {
            self.enter()?;
            let e = self.power();
            self.nest -= 1;
            let e = e?;
            if e < 0 {
                return Err(ArithError::new(format!(
                    "exponent less than 0 (error token is \"{}\")",
                    self.tail()
                )));
            }
            return Ok(base.wrapping_pow(e.min(i64::from(u32::MAX)) as u32));
        }
        Ok(base)
    }
    fn unary(&mut self) -> R<i64> {
        self.enter()?;
        let r = self.unary_inner();
        self.nest -= 1;
        r
    }
    fn unary_inner(&mut self) -> R<i64> {
        match self.peek_op() {
            Some(Op::Sub) => {
                self.pos += 1;
                Ok(self.unary()?.wrapping_neg())
            }
            Some(Op::Add) => {
                self.pos += 1;
                self.unary()
            }
            Some(Op::Not) => {
                self.pos += 1;
                Ok(i64::from(self.unary()? == 0))
            }
            Some(Op::BitNot) => {
                self.pos += 1;
                Ok(!self.unary()?)
            }
            Some(op @ (Op::Inc | Op::Dec)) => {
                self.pos += 1;
                let Some(Tok::Ident(name)) = self.toks.get(self.pos).copied() else {
                    // bash reads a `++` before no name as two signs
                    let second = self.tail_at(self.pos - 1).get(1..).unwrap_or_default();
                    let rest = if self.pos < self.toks.len() {
                        self.tail()
                    } else {
                        second
                    };
                    return Err(ArithError::new(format!(
                        "syntax error: operand expected (error token is \"{rest}\")"
                    )));
                };
                self.pos += 1;
                let v = self.var_value(name)? + if op == Op::Inc { 1 } else { -1 };
                self.assign(&LVal::Name(name), v);
                Ok(v)
            }
            _ => self.postfix(),
        }
    }
    fn postfix(&mut self) -> R<i64> {
        match self.toks.get(self.pos).copied() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                let v = self.var_value(name)?;
                if let Some(op @ (Op::Inc | Op::Dec)) = self.peek_op() {
                    self.pos += 1;
                    let nv = if op == Op::Inc {
                        v.wrapping_add(1)
                    } else {
                        v.wrapping_sub(1)
                    };
                    self.assign(&LVal::Name(name), nv);
                }
                Ok(v)
            }
            Some(Tok::Op(Op::LParen)) => {
                self.pos += 1;
                let v = self.comma()?;
                if !self.eat(Op::RParen) {
                    return Err(ArithError::new(format!(
                        "missing `)' (error token is \"{}\")",
                        self.tail()
                    )));
                }
                Ok(v)
            }
            _ => {
                let rest = self.tail();
                Err(ArithError::new(format!(
                    "syntax error: operand expected (error token is \"{rest}\")"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> i64 {
        eval(s, &mut ShellState::new("/")).unwrap()
    }

    #[test]
    fn precedence_and_ops() {
        assert_eq!(ev("1 + 2 * 3"), 7);
        assert_eq!(ev("(1 + 2) * 3"), 9);
        assert_eq!(ev("2 ** 10"), 1024);
        assert_eq!(ev("7 % 3 == 1 && 4 > 3"), 1);
        assert_eq!(ev("0x10 + 010 + 2#101"), 16 + 8 + 5);
        assert_eq!(ev("-3 / 2"), -1);
        assert_eq!(ev("1 ? 2 : 3"), 2);
        assert_eq!(ev("1 << 4"), 16);
        assert_eq!(ev("10 - 2 - 3"), 5);
    }

    #[test]
    fn variables_and_assignment() {
        let mut st = ShellState::new("/");
        st.set("x", "5");
        assert_eq!(eval("x += 2, x * 2", &mut st).unwrap(), 14);
        assert_eq!(st.get("x").as_deref(), Some("7"));
        assert_eq!(eval("i++", &mut st).unwrap(), 0);
        assert_eq!(st.get("i").as_deref(), Some("1"));
        assert!(eval("1 / 0", &mut st).is_err());
    }
}
