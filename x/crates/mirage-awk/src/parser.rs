//! The awk parser: tokens to a program tree, with names resolved to
//! global or local slots and function calls to function indices.

use std::collections::HashMap;

use crate::lexer::{Tok, Token};

/// Where a variable lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// A global slot.
    Global(usize),
    /// A slot of the current function's frame.
    Local(usize),
}

/// An assignable place.
#[derive(Debug, Clone)]
pub enum LValue {
    /// A scalar variable.
    Var(Var),
    /// `$expr`.
    Field(Box<Expr>),
    /// `arr[subscripts]`.
    Index(Var, Vec<Expr>),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
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
    /// `^`
    Pow,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// Where `getline` reads.
#[derive(Debug, Clone)]
pub enum GetlineSrc {
    /// The main input.
    Main,
    /// `< file`.
    File(Box<Expr>),
    /// `cmd |`.
    Cmd(Box<Expr>),
}

/// An expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A number literal.
    Num(f64),
    /// A string literal.
    Str(Vec<u8>),
    /// A regex literal used as a value: matches against `$0`.
    Regex(usize),
    /// Reads a place.
    Lv(LValue),
    /// `NF` (reading it splits the record).
    Nf,
    /// Assignment, plain (`None`) or compound.
    Assign(Option<BinOp>, Box<LValue>, Box<Expr>),
    /// `c ? a : b`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `&&`.
    And(Box<Expr>, Box<Expr>),
    /// `||`.
    Or(Box<Expr>, Box<Expr>),
    /// `!`.
    Not(Box<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Unary plus.
    Plus(Box<Expr>),
    /// A binary operator.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `a ~ b` (`true`) or `a !~ b` (`false`).
    Match(bool, Box<Expr>, Box<Expr>),
    /// Concatenation.
    Concat(Box<Expr>, Box<Expr>),
    /// `(subs) in arr`.
    In(Vec<Expr>, Var),
    /// `++x`/`--x` (delta).
    PreInc(f64, Box<LValue>),
    /// `x++`/`x--` (delta).
    PostInc(f64, Box<LValue>),
    /// A user function call.
    Call(usize, Vec<Expr>),
    /// A builtin call.
    Builtin(String, Vec<Expr>),
    /// `getline [var] [< file]` / `cmd | getline [var]`.
    Getline(GetlineSrc, Option<Box<LValue>>),
    /// A parenthesised expression (kept for `print (a) > f` and `(a,b) in`).
    Group(Box<Expr>),
}

/// Output redirection of `print`/`printf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redir {
    /// `>`
    Write,
    /// `>>`
    Append,
    /// `|`
    Pipe,
}

/// A statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// An expression.
    Expr(Expr),
    /// `print args [redir]`.
    Print(Vec<Expr>, Option<(Redir, Expr)>),
    /// `printf fmt, args [redir]`.
    Printf(Vec<Expr>, Option<(Redir, Expr)>),
    /// `if`.
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    /// `while`.
    While(Expr, Box<Stmt>),
    /// `do … while`.
    Do(Box<Stmt>, Expr),
    /// `for (init; cond; step)`.
    For(
        Option<Box<Stmt>>,
        Option<Expr>,
        Option<Box<Stmt>>,
        Box<Stmt>,
    ),
    /// `for (var in arr)`.
    ForIn(LValue, Var, Box<Stmt>),
    /// `{ … }`.
    Block(Vec<Stmt>),
    /// `next`.
    Next,
    /// `nextfile`.
    NextFile,
    /// `exit [status]`.
    Exit(Option<Expr>),
    /// `return [value]`.
    Return(Option<Expr>),
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `delete arr[subs]` / `delete arr`.
    Delete(Var, Option<Vec<Expr>>),
}

/// A rule's pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// `BEGIN`.
    Begin,
    /// `END`.
    End,
    /// No pattern: every record.
    All,
    /// An expression.
    Expr(Expr),
    /// `a, b` (the index of its state).
    Range(Expr, Expr, usize),
}

/// A pattern and its action (`None`: print the record).
#[derive(Debug, Clone)]
pub struct Rule {
    /// The pattern.
    pub pattern: Pattern,
    /// The action.
    pub action: Option<Vec<Stmt>>,
}

/// A user function.
#[derive(Debug, Clone, Default)]
pub struct Func {
    /// Its name.
    pub name: String,
    /// How many parameters it has.
    pub nparams: usize,
    /// Its body.
    pub body: Vec<Stmt>,
    /// Whether it was defined (not only called).
    pub defined: bool,
}

/// A parsed program.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// The rules in order.
    pub rules: Vec<Rule>,
    /// The functions, by index.
    pub funcs: Vec<Func>,
    /// Global names by slot.
    pub globals: Vec<String>,
    /// Regex literals by index.
    pub regexes: Vec<String>,
    /// How many range patterns there are.
    pub ranges: usize,
}

/// The global slots of the special variables, in this order.
pub const SPECIALS: &[&str] = &[
    "NR", "FNR", "NF", "FS", "OFS", "ORS", "RS", "SUBSEP", "CONVFMT", "OFMT", "FILENAME", "RSTART",
    "RLENGTH", "ENVIRON", "ARGC", "ARGV", "PROCINFO", "RT",
];

/// Slot of `NR`.
pub const NR: usize = 0;
/// Slot of `FNR`.
pub const FNR: usize = 1;
/// Slot of `NF`.
pub const NF: usize = 2;
/// Slot of `FS`.
pub const FS: usize = 3;
/// Slot of `OFS`.
pub const OFS: usize = 4;
/// Slot of `ORS`.
pub const ORS: usize = 5;
/// Slot of `RS`.
pub const RS: usize = 6;
/// Slot of `SUBSEP`.
pub const SUBSEP: usize = 7;
/// Slot of `CONVFMT`.
pub const CONVFMT: usize = 8;
/// Slot of `OFMT`.
pub const OFMT: usize = 9;
/// Slot of `FILENAME`.
pub const FILENAME: usize = 10;
/// Slot of `RSTART`.
pub const RSTART: usize = 11;
/// Slot of `RLENGTH`.
pub const RLENGTH: usize = 12;
/// Slot of `ENVIRON`.
pub const ENVIRON: usize = 13;
/// Slot of `ARGC`.
pub const ARGC: usize = 14;
/// Slot of `ARGV`.
pub const ARGV: usize = 15;
/// Slot of `PROCINFO`.
pub const PROCINFO: usize = 16;
/// Slot of `RT`.
pub const RT: usize = 17;

/// A parse error: message and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub msg: String,
    /// The line (1-based).
    pub line: usize,
    /// The byte offset in the line where gawk puts its caret.
    pub col: usize,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    globals: HashMap<String, usize>,
    global_names: Vec<String>,
    locals: Option<HashMap<String, usize>>,
    funcs: HashMap<String, usize>,
    func_list: Vec<Func>,
    regexes: Vec<String>,
    ranges: usize,
    /// Inside `print` arguments: `>` is a redirection, not a comparison.
    no_gt: bool,
    /// Inside `for (` before `in`: `in` is not an operator.
    no_in: bool,
}

type PResult<T> = Result<T, ParseError>;

/// Parses a whole awk program.
pub fn parse(toks: Vec<Token>) -> PResult<Program> {
    let mut p = Parser {
        toks,
        pos: 0,
        globals: HashMap::new(),
        global_names: Vec::new(),
        locals: None,
        funcs: HashMap::new(),
        func_list: Vec::new(),
        regexes: Vec::new(),
        ranges: 0,
        no_gt: false,
        no_in: false,
    };
    for s in SPECIALS {
        p.global(s);
    }
    let mut rules = Vec::new();
    p.skip_terms();
    while !p.at(&Tok::Eof) {
        if p.at(&Tok::Kw("function")) {
            p.function()?;
        } else {
            rules.push(p.rule()?);
        }
        p.skip_terms();
    }
    for f in &p.func_list {
        if !f.defined {
            return Err(ParseError {
                msg: format!("function `{}' called but never defined", f.name),
                line: 1,
                col: 0,
            });
        }
    }
    Ok(Program {
        rules,
        funcs: p.func_list,
        globals: p.global_names,
        regexes: p.regexes,
        ranges: p.ranges,
    })
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }
    fn line(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].line
    }
    fn at(&self, t: &Tok) -> bool {
        self.peek() == t
    }
    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn err<T>(&self) -> PResult<T> {
        let t = &self.toks[self.pos.min(self.toks.len() - 1)];
        let msg = if matches!(t.tok, Tok::Newline | Tok::Eof) {
            "unexpected newline or end of string"
        } else {
            "syntax error"
        };
        Err(ParseError {
            msg: msg.into(),
            line: t.line,
            col: t.col,
        })
    }
    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.at_op(op) {
            self.next();
            Ok(())
        } else {
            self.err()
        }
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.at_op(op) {
            self.next();
            true
        } else {
            false
        }
    }
    fn skip_newlines(&mut self) {
        while self.at(&Tok::Newline) {
            self.next();
        }
    }
    fn skip_terms(&mut self) {
        while self.at(&Tok::Newline) || self.at_op(";") {
            self.next();
        }
    }
    fn global(&mut self, name: &str) -> usize {
        if let Some(&i) = self.globals.get(name) {
            return i;
        }
        let i = self.global_names.len();
        self.globals.insert(name.to_string(), i);
        self.global_names.push(name.to_string());
        i
    }
    fn var(&mut self, name: &str) -> Var {
        if let Some(l) = &self.locals
            && let Some(&i) = l.get(name)
        {
            return Var::Local(i);
        }
        Var::Global(self.global(name))
    }
    fn func_index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.funcs.get(name) {
            return i;
        }
        let i = self.func_list.len();
        self.funcs.insert(name.to_string(), i);
        self.func_list.push(Func {
            name: name.to_string(),
            ..Func::default()
        });
        i
    }

    fn function(&mut self) -> PResult<()> {
        self.next();
        let (Tok::Name(name) | Tok::FuncName(name)) = self.next() else {
            return self.err();
        };
        self.expect_op("(")?;
        let mut params = HashMap::new();
        let mut n = 0;
        while !self.at_op(")") {
            match self.next() {
                Tok::Name(p) => {
                    params.insert(p, n);
                    n += 1;
                }
                _ => return self.err(),
            }
            if !self.eat_op(",") {
                break;
            }
            self.skip_newlines();
        }
        self.expect_op(")")?;
        self.skip_newlines();
        let idx = self.func_index(&name);
        if self.func_list[idx].defined {
            return Err(ParseError {
                msg: format!("function name `{name}' previously defined"),
                line: self.line(),
                col: 0,
            });
        }
        self.locals = Some(params);
        let body = self.block()?;
        self.locals = None;
        let f = &mut self.func_list[idx];
        f.nparams = n;
        f.body = body;
        f.defined = true;
        Ok(())
    }

    fn rule(&mut self) -> PResult<Rule> {
        let pattern = if self.at(&Tok::Kw("BEGIN")) {
            self.next();
            Pattern::Begin
        } else if self.at(&Tok::Kw("END")) {
            self.next();
            Pattern::End
        } else if self.at_op("{") {
            Pattern::All
        } else {
            let a = self.expr()?;
            if self.eat_op(",") {
                self.skip_newlines();
                let b = self.expr()?;
                self.ranges += 1;
                Pattern::Range(a, b, self.ranges - 1)
            } else {
                Pattern::Expr(a)
            }
        };
        if self.at_op("{") {
            let body = self.block()?;
            Ok(Rule {
                pattern,
                action: Some(body),
            })
        } else if matches!(pattern, Pattern::Begin | Pattern::End) {
            self.err()
        } else {
            Ok(Rule {
                pattern,
                action: None,
            })
        }
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect_op("{")?;
        let mut out = Vec::new();
        loop {
            self.skip_terms();
            if self.eat_op("}") {
                return Ok(out);
            }
            if self.at(&Tok::Eof) {
                return self.err();
            }
            out.push(self.stmt()?);
        }
    }

    /// Ends a simple statement: `;`, newline, or before `}`.
    fn end_simple(&mut self) -> PResult<()> {
        if self.at_op(";") || self.at(&Tok::Newline) {
            self.next();
            Ok(())
        } else if self.at_op("}") || self.at(&Tok::Eof) {
            Ok(())
        } else {
            self.err()
        }
    }

    /// A statement as the body of `if`/`while`/`for`.
    fn body(&mut self) -> PResult<Stmt> {
        self.skip_newlines();
        if self.eat_op(";") {
            return Ok(Stmt::Block(Vec::new()));
        }
        self.stmt()
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        match self.peek().clone() {
            Tok::Op("{") => Ok(Stmt::Block(self.block()?)),
            Tok::Kw("if") => {
                self.next();
                self.expect_op("(")?;
                let c = self.expr()?;
                self.expect_op(")")?;
                let then = self.body()?;
                // look past newlines and one `;` for `else`
                let save = self.pos;
                self.skip_terms();
                if self.at(&Tok::Kw("else")) {
                    self.next();
                    let els = self.body()?;
                    Ok(Stmt::If(c, Box::new(then), Some(Box::new(els))))
                } else {
                    self.pos = save;
                    Ok(Stmt::If(c, Box::new(then), None))
                }
            }
            Tok::Kw("while") => {
                self.next();
                self.expect_op("(")?;
                let c = self.expr()?;
                self.expect_op(")")?;
                if self.at_op(";") {
                    self.next();
                    return Ok(Stmt::While(c, Box::new(Stmt::Block(Vec::new()))));
                }
                let b = self.body()?;
                Ok(Stmt::While(c, Box::new(b)))
            }
            Tok::Kw("do") => {
                self.next();
                let b = self.body()?;
                self.skip_terms();
                if !self.at(&Tok::Kw("while")) {
                    return self.err();
                }
                self.next();
                self.expect_op("(")?;
                let c = self.expr()?;
                self.expect_op(")")?;
                self.end_simple()?;
                Ok(Stmt::Do(Box::new(b), c))
            }
            Tok::Kw("for") => self.for_stmt(),
            Tok::Op(";") => {
                self.next();
                Ok(Stmt::Block(Vec::new()))
            }
            _ => {
                let s = self.simple()?;
                self.end_simple()?;
                Ok(s)
            }
        }
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        self.next();
        self.expect_op("(")?;
        // for (name in arr)
        if let (Tok::Name(n), Tok::Kw("in"), Tok::Name(a), Tok::Op(")")) = (
            self.peek().clone(),
            self.peek_at(1).clone(),
            self.peek_at(2).clone(),
            self.peek_at(3).clone(),
        ) {
            self.pos += 4;
            let v = self.var(&n);
            let arr = self.var(&a);
            let b = self.body()?;
            return Ok(Stmt::ForIn(LValue::Var(v), arr, Box::new(b)));
        }
        let init = if self.at_op(";") {
            None
        } else {
            Some(Box::new(self.simple()?))
        };
        self.expect_op(";")?;
        self.skip_newlines();
        let cond = if self.at_op(";") {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect_op(";")?;
        self.skip_newlines();
        let step = if self.at_op(")") {
            None
        } else {
            Some(Box::new(self.simple()?))
        };
        self.expect_op(")")?;
        if self.at_op(";") {
            self.next();
            return Ok(Stmt::For(
                init,
                cond,
                step,
                Box::new(Stmt::Block(Vec::new())),
            ));
        }
        let b = self.body()?;
        Ok(Stmt::For(init, cond, step, Box::new(b)))
    }

    fn simple(&mut self) -> PResult<Stmt> {
        match self.peek().clone() {
            Tok::Kw(k @ ("print" | "printf")) => {
                self.next();
                let args = self.print_args()?;
                let redir = if self.at_op(">") {
                    Some(Redir::Write)
                } else if self.at_op(">>") {
                    Some(Redir::Append)
                } else if self.at_op("|") {
                    Some(Redir::Pipe)
                } else {
                    None
                };
                let dest = match redir {
                    Some(r) => {
                        self.next();
                        // the target is a concatenation without `>`
                        let save = self.no_gt;
                        self.no_gt = true;
                        let e = self.concat()?;
                        self.no_gt = save;
                        Some((r, e))
                    }
                    None => None,
                };
                if k == "print" {
                    Ok(Stmt::Print(args, dest))
                } else {
                    if args.is_empty() {
                        return self.err();
                    }
                    Ok(Stmt::Printf(args, dest))
                }
            }
            Tok::Kw("next") => {
                self.next();
                Ok(Stmt::Next)
            }
            Tok::Kw("nextfile") => {
                self.next();
                Ok(Stmt::NextFile)
            }
            Tok::Kw("break") => {
                self.next();
                Ok(Stmt::Break)
            }
            Tok::Kw("continue") => {
                self.next();
                Ok(Stmt::Continue)
            }
            Tok::Kw("exit") => {
                self.next();
                if self.ends_simple() {
                    Ok(Stmt::Exit(None))
                } else {
                    Ok(Stmt::Exit(Some(self.expr()?)))
                }
            }
            Tok::Kw("return") => {
                self.next();
                if self.ends_simple() {
                    Ok(Stmt::Return(None))
                } else {
                    Ok(Stmt::Return(Some(self.expr()?)))
                }
            }
            Tok::Kw("delete") => {
                self.next();
                let Tok::Name(n) = self.next() else {
                    return self.err();
                };
                let v = self.var(&n);
                if self.eat_op("[") {
                    let subs = self.expr_list_until("]")?;
                    Ok(Stmt::Delete(v, Some(subs)))
                } else {
                    Ok(Stmt::Delete(v, None))
                }
            }
            _ => Ok(Stmt::Expr(self.expr()?)),
        }
    }

    fn ends_simple(&self) -> bool {
        matches!(self.peek(), Tok::Op(";" | "}") | Tok::Newline | Tok::Eof)
    }

    fn print_args(&mut self) -> PResult<Vec<Expr>> {
        if self.ends_simple() || self.at_op(">") || self.at_op(">>") || self.at_op("|") {
            return Ok(Vec::new());
        }
        let save_gt = self.no_gt;
        if self.at_op("(") {
            // `print (a, b) > f`: a parenthesised list is the argument list
            let save = self.pos;
            self.next();
            self.no_gt = false;
            let list = self.expr_list_until(")");
            if let Ok(list) = list
                && (self.ends_simple() || self.at_op(">") || self.at_op(">>") || self.at_op("|"))
            {
                self.no_gt = save_gt;
                return Ok(list);
            }
            self.pos = save;
        }
        self.no_gt = true;
        let mut args = vec![self.expr()?];
        while self.eat_op(",") {
            self.skip_newlines();
            args.push(self.expr()?);
        }
        self.no_gt = save_gt;
        Ok(args)
    }

    fn expr_list_until(&mut self, close: &str) -> PResult<Vec<Expr>> {
        let save_gt = self.no_gt;
        let save_in = self.no_in;
        self.no_gt = false;
        self.no_in = false;
        let mut out = Vec::new();
        self.skip_newlines();
        if !self.at_op(close) {
            loop {
                out.push(self.expr()?);
                self.skip_newlines();
                if !self.eat_op(",") {
                    break;
                }
                self.skip_newlines();
            }
        }
        self.expect_op(close)?;
        self.no_gt = save_gt;
        self.no_in = save_in;
        Ok(out)
    }

    /// A full expression (assignment level).
    pub fn expr(&mut self) -> PResult<Expr> {
        stacker::maybe_grow(64 * 1024, 4 << 20, || self.ternary())
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let c = self.or()?;
        if self.at_op("?") {
            self.next();
            self.skip_newlines();
            let a = self.ternary()?;
            self.skip_newlines();
            self.expect_op(":")?;
            self.skip_newlines();
            let b = self.ternary()?;
            return Ok(Expr::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        let op = match self.peek() {
            Tok::Op("=") => Some(None),
            Tok::Op("+=") => Some(Some(BinOp::Add)),
            Tok::Op("-=") => Some(Some(BinOp::Sub)),
            Tok::Op("*=") => Some(Some(BinOp::Mul)),
            Tok::Op("/=") => Some(Some(BinOp::Div)),
            Tok::Op("%=") => Some(Some(BinOp::Mod)),
            Tok::Op("^=" | "**=") => Some(Some(BinOp::Pow)),
            _ => None,
        };
        if let Some(op) = op
            && let Some(lv) = to_lvalue(&c)
        {
            self.next();
            self.skip_newlines();
            let rhs = self.ternary()?;
            return Ok(Expr::Assign(op, Box::new(lv), Box::new(rhs)));
        }
        Ok(c)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut l = self.and()?;
        while self.at_op("||") {
            self.next();
            self.skip_newlines();
            let r = self.and()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut l = self.in_expr()?;
        while self.at_op("&&") {
            self.next();
            self.skip_newlines();
            let r = self.in_expr()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn in_expr(&mut self) -> PResult<Expr> {
        let mut l = self.matching()?;
        while !self.no_in && self.at(&Tok::Kw("in")) {
            self.next();
            let Tok::Name(a) = self.next() else {
                return self.err();
            };
            let arr = self.var(&a);
            let subs = match l {
                Expr::Group(g) => match *g {
                    Expr::Builtin(ref n, ref list) if n == "\0list" => list.clone(),
                    other => vec![other],
                },
                other => vec![other],
            };
            l = Expr::In(subs, arr);
        }
        Ok(l)
    }

    fn matching(&mut self) -> PResult<Expr> {
        let mut l = self.comparison()?;
        loop {
            let pos = if self.at_op("~") {
                true
            } else if self.at_op("!~") {
                false
            } else {
                return Ok(l);
            };
            self.next();
            let r = self.comparison()?;
            l = Expr::Match(pos, Box::new(l), Box::new(r));
        }
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let l = self.pipe_getline()?;
        let op = match self.peek() {
            Tok::Op("<") => BinOp::Lt,
            Tok::Op("<=") => BinOp::Le,
            Tok::Op(">") if !self.no_gt => BinOp::Gt,
            Tok::Op(">=") => BinOp::Ge,
            Tok::Op("==") => BinOp::Eq,
            Tok::Op("!=") => BinOp::Ne,
            _ => return Ok(l),
        };
        self.next();
        let r = self.pipe_getline()?;
        Ok(Expr::Bin(op, Box::new(l), Box::new(r)))
    }

    fn pipe_getline(&mut self) -> PResult<Expr> {
        let mut l = self.concat()?;
        while self.at_op("|") && self.peek_at(1) == &Tok::Kw("getline") {
            self.pos += 2;
            let var = self.getline_var()?;
            l = Expr::Getline(GetlineSrc::Cmd(Box::new(l)), var);
        }
        Ok(l)
    }

    fn getline_var(&mut self) -> PResult<Option<Box<LValue>>> {
        if matches!(self.peek(), Tok::Name(_) | Tok::Op("$")) {
            let e = self.primary_incdec()?;
            Ok(to_lvalue(&e).map(Box::new))
        } else {
            Ok(None)
        }
    }

    fn starts_operand(&self) -> bool {
        match self.peek() {
            Tok::Num(_)
            | Tok::Str(_)
            | Tok::Regex(_)
            | Tok::Name(_)
            | Tok::FuncName(_)
            | Tok::Builtin(_) => true,
            Tok::Op("$" | "!" | "(" | "-" | "+" | "++" | "--") => true,
            Tok::Kw("getline") => false,
            _ => false,
        }
    }

    fn concat(&mut self) -> PResult<Expr> {
        let mut l = self.additive()?;
        while self.starts_operand() && !self.at_op("!") {
            // `a !b` is not a concatenation in practice; `in` handled above
            let r = self.additive()?;
            l = Expr::Concat(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut l = self.mul()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(l),
            };
            self.next();
            let r = self.mul()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn mul(&mut self) -> PResult<Expr> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                Tok::Op("%") => BinOp::Mod,
                _ => return Ok(l),
            };
            self.next();
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        match self.peek() {
            Tok::Op("!") => {
                self.next();
                let e = self.unary()?;
                Ok(Expr::Not(Box::new(e)))
            }
            Tok::Op("-") => {
                self.next();
                let e = self.unary()?;
                Ok(Expr::Neg(Box::new(e)))
            }
            Tok::Op("+") => {
                self.next();
                let e = self.unary()?;
                Ok(Expr::Plus(Box::new(e)))
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary_incdec()?;
        if self.at_op("^") || self.at_op("**") {
            self.next();
            // right-associative, and binds tighter than unary minus on its left
            let exp = match self.peek() {
                Tok::Op("-") => {
                    self.next();
                    Expr::Neg(Box::new(self.power()?))
                }
                Tok::Op("+") => {
                    self.next();
                    self.power()?
                }
                Tok::Op("!") => {
                    self.next();
                    Expr::Not(Box::new(self.power()?))
                }
                _ => self.power()?,
            };
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary_incdec(&mut self) -> PResult<Expr> {
        if self.at_op("++") || self.at_op("--") {
            let d = if self.at_op("++") { 1.0 } else { -1.0 };
            self.next();
            let e = self.primary_incdec()?;
            let Some(lv) = to_lvalue(&e) else {
                return self.err();
            };
            return Ok(Expr::PreInc(d, Box::new(lv)));
        }
        let e = self.primary()?;
        if (self.at_op("++") || self.at_op("--"))
            && let Some(lv) = to_lvalue(&e)
        {
            let d = if self.at_op("++") { 1.0 } else { -1.0 };
            self.next();
            return Ok(Expr::PostInc(d, Box::new(lv)));
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        match self.next() {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Regex(r) => {
                self.regexes.push(r);
                Ok(Expr::Regex(self.regexes.len() - 1))
            }
            Tok::Op("$") => {
                let e = if self.at_op("++") || self.at_op("--") {
                    self.primary_incdec()?
                } else if self.at_op("-") {
                    self.next();
                    Expr::Neg(Box::new(self.primary()?))
                } else {
                    self.primary()?
                };
                Ok(Expr::Lv(LValue::Field(Box::new(e))))
            }
            Tok::Op("(") => {
                let list = self.expr_list_until(")")?;
                match list.len() {
                    1 => Ok(Expr::Group(Box::new(
                        list.into_iter().next().unwrap_or(Expr::Num(0.0)),
                    ))),
                    0 => self.err(),
                    _ => {
                        if self.at(&Tok::Kw("in")) {
                            Ok(Expr::Group(Box::new(Expr::Builtin("\0list".into(), list))))
                        } else {
                            self.err()
                        }
                    }
                }
            }
            Tok::Op("-") => Ok(Expr::Neg(Box::new(self.unary()?))),
            Tok::Op("+") => Ok(Expr::Plus(Box::new(self.unary()?))),
            Tok::Op("!") => Ok(Expr::Not(Box::new(self.unary()?))),
            Tok::Name(n) => {
                if self.at_op("[") {
                    self.next();
                    let v = self.var(&n);
                    let subs = self.expr_list_until("]")?;
                    return Ok(Expr::Lv(LValue::Index(v, subs)));
                }
                if n == "NF" && self.locals.as_ref().is_none_or(|l| !l.contains_key("NF")) {
                    return Ok(Expr::Nf);
                }
                Ok(Expr::Lv(LValue::Var(self.var(&n))))
            }
            Tok::FuncName(n) => {
                self.expect_op("(")?;
                let args = self.expr_list_until(")")?;
                let i = self.func_index(&n);
                Ok(Expr::Call(i, args))
            }
            Tok::Builtin(n) => {
                if self.at_op("(") {
                    self.next();
                    let args = self.expr_list_until(")")?;
                    Ok(Expr::Builtin(n, args))
                } else if n == "length" {
                    Ok(Expr::Builtin(n, Vec::new()))
                } else {
                    self.err()
                }
            }
            Tok::Kw("getline") => {
                let var = self.getline_var()?;
                if self.at_op("<") {
                    self.next();
                    let f = self.primary_incdec()?;
                    return Ok(Expr::Getline(GetlineSrc::File(Box::new(f)), var));
                }
                Ok(Expr::Getline(GetlineSrc::Main, var))
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                self.err()
            }
        }
    }
}

/// The place an expression names, if it is one.
pub fn to_lvalue(e: &Expr) -> Option<LValue> {
    match e {
        Expr::Lv(lv) => Some(lv.clone()),
        Expr::Nf => Some(LValue::Var(Var::Global(NF))),
        Expr::Group(g) => to_lvalue(g),
        _ => None,
    }
}
