//! `find`: walk directory trees and evaluate an expression on each entry,
//! as GNU findutils 4.9 `find`: starting points (default `.`), the
//! operators `!`/`-not`, `-a`/`-and`, `-o`/`-or`, `,` and parentheses, the
//! tests `-name`, `-iname`, `-path`, `-ipath`, `-regex`, `-iregex`,
//! `-type`, `-empty`, `-size`, `-newer`, `-mtime`, `-mmin`, `-true`,
//! `-false`, the actions `-print`, `-print0`, `-printf` (common
//! directives), `-delete`, `-prune`, `-quit`, `-exec`/`-execdir` (`… \;`
//! per file, `… {} +` batched; run through [`CommandCtx::runner`], never a
//! host process), and the global options
//! `-maxdepth`, `-mindepth`, `-depth`, `-regextype`. Entries of each
//! directory are visited in name order, pre-order (post-order with
//! `-depth` or `-delete`). An unknown predicate is an error, never a match.
//!
//! Symlinks as GNU's `-P` (the default: never followed, a link is type
//! `l`, `-delete` removes the link), `-H` (starting points followed) and
//! `-L`/`-follow` (every link followed; a broken link stays type `l`; a
//! directory that is its own ancestor is reported as `File system loop
//! detected; ‘X’ is part of the same file system loop as ‘Y’.` and not
//! entered, found by comparing [`mirage_types::Vfs::realpath`]s).

use std::collections::HashMap;
use std::time::SystemTime;

use futures::future::BoxFuture;
use globset::{GlobBuilder, GlobMatcher};
use mirage_regex::{PosixRegex, Syntax};
use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ErrorKind, FileStat, FileType, Input};

/// The spec of `find` (its expression is parsed by [`parse_expr`], not getopt).
pub static SPEC: CommandSpec = CommandSpec {
    name: "find",
    options: &[],
    paths: PathOperands::All,
    numeric_key: None,
    stop_at_operand: true,
    usage_status: 1,
};

crate::register_command!("find", SPEC, run, true);

/// A comparison of `-size`, `-mtime`: `+N`, `-N` or `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Greater than N.
    Gt,
    /// Less than N.
    Lt,
    /// Exactly N.
    Eq,
}

impl Cmp {
    fn test(self, v: u64, n: u64) -> bool {
        match self {
            Cmp::Gt => v > n,
            Cmp::Lt => v < n,
            Cmp::Eq => v == n,
        }
    }
}

/// A parsed `find` expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Both (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// Either (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// Both, value of the right (`,`).
    Comma(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `-true`.
    True,
    /// `-false`.
    False,
    /// `-name`/`-iname`: glob on the last component.
    Name(GlobMatcher),
    /// `-path`/`-ipath`: glob on the whole path as printed.
    Path(GlobMatcher),
    /// `-regex`/`-iregex`: anchored regex on the whole path.
    Regex(Box<PosixRegex>),
    /// `-type`: any of the letters (`f`, `d`, `l`).
    Type(Vec<char>),
    /// `-empty`.
    Empty,
    /// `-size`: comparison, count, unit in bytes.
    Size(Cmp, u64, u64),
    /// `-newer FILE`.
    Newer(String),
    /// `-mtime`/`-mmin`: comparison, count, unit in seconds.
    Age(Cmp, u64, u64),
    /// `-print`.
    Print,
    /// `-print0`.
    Print0,
    /// `-printf FORMAT`.
    Printf(String),
    /// `-delete`.
    Delete,
    /// `-prune`.
    Prune,
    /// `-quit`.
    Quit,
    /// `-exec`/`-execdir`.
    Exec(Box<ExecSpec>),
}

/// One `-exec`/`-execdir` action.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    /// The command line; with `\;` every `{}` in it is replaced by the path,
    /// with `+` it is the part before the final `{}`.
    pub argv: Vec<String>,
    /// `{} +`: gather paths and run the command once per batch.
    pub batch: bool,
    /// `-execdir`: run in the file's directory with `{}` as `./NAME`.
    pub dir: bool,
    /// Which batch this action fills (its index among the `-exec`s).
    pub id: usize,
}

/// Paths gathered for one `-exec … {} +`, not yet run.
#[derive(Default)]
struct Batch {
    argv: Vec<String>,
    cwd: String,
    paths: Vec<String>,
    size: usize,
}

/// The size of the paths of one `{} +` batch that starts a run (GNU's
/// default argument space is about 128 KiB).
const BATCH_BYTES: usize = 128 * 1024;

/// A parsed command line's expression with its global options.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The expression (with the implied `-print` added when it has no action).
    pub expr: Expr,
    /// `-maxdepth`.
    pub maxdepth: Option<usize>,
    /// `-mindepth`.
    pub mindepth: usize,
    /// Post-order (`-depth`, implied by `-delete`).
    pub depth_first: bool,
    /// How many `-exec`/`-execdir` actions the expression has.
    pub execs: usize,
}

struct Parser<'a> {
    args: &'a [String],
    pos: usize,
    maxdepth: Option<usize>,
    mindepth: usize,
    depth_first: bool,
    has_action: bool,
    regextype: String,
    execs: usize,
}

fn glob(pat: &str, icase: bool) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pat)
        .case_insensitive(icase)
        .backslash_escape(true)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .or_else(|_| {
            // an invalid glob (`[`) matches only itself, as fnmatch
            GlobBuilder::new(&globset::escape(pat))
                .case_insensitive(icase)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| e.to_string())
        })
}

/// Translates an Emacs regex (find's default `-regextype`) to an ERE:
/// `\(`, `\)`, `\|` are operators, bare `( ) | { }` literal, `+` and `?`
/// operators.
fn emacs_to_ere(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut it = p.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n @ ('(' | ')' | '|')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '|' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '[' => {
                // copy a bracket expression verbatim
                out.push('[');
                let mut first = true;
                if it.peek() == Some(&'^') {
                    out.push('^');
                    it.next();
                }
                while let Some(k) = it.next() {
                    out.push(k);
                    if k == ']' && !first {
                        break;
                    }
                    if k == '[' && it.peek() == Some(&':') {
                        for x in it.by_ref() {
                            out.push(x);
                            if x == ']' {
                                break;
                            }
                        }
                    }
                    first = false;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn parse_size(v: &str) -> Result<Expr, String> {
    let (cmp, rest) = match v.as_bytes().first() {
        Some(b'+') => (Cmp::Gt, &v[1..]),
        Some(b'-') => (Cmp::Lt, &v[1..]),
        _ => (Cmp::Eq, v),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let suffix = &rest[digits.len()..];
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid -size type `{suffix}'"))?;
    let unit = match suffix {
        "" | "b" => 512,
        "c" => 1,
        "w" => 2,
        "k" => 1024,
        "M" => 1024 * 1024,
        "G" => 1024 * 1024 * 1024,
        s => return Err(format!("invalid -size type `{s}'")),
    };
    Ok(Expr::Size(cmp, n, unit))
}

fn parse_num_arg(v: &str, what: &str) -> Result<(Cmp, u64), String> {
    let (cmp, rest) = match v.as_bytes().first() {
        Some(b'+') => (Cmp::Gt, &v[1..]),
        Some(b'-') => (Cmp::Lt, &v[1..]),
        _ => (Cmp::Eq, v),
    };
    rest.parse::<u64>()
        .map(|n| (cmp, n))
        .map_err(|_| format!("invalid argument `{v}' to `{what}'"))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(String::as_str)
    }

    fn value(&mut self, pred: &str) -> Result<String, String> {
        match self.args.get(self.pos) {
            Some(v) => {
                self.pos += 1;
                Ok(v.clone())
            }
            None => Err(format!("missing argument to `{pred}'")),
        }
    }

    fn parse_comma(&mut self) -> Result<Expr, String> {
        let mut left = self.parse_or()?;
        while self.peek() == Some(",") {
            self.pos += 1;
            if self.peek().is_none() {
                return Err("expected an expression after ','".into());
            }
            let right = self.parse_or()?;
            left = Expr::Comma(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_or(&mut self) -> Result<Expr, String> {
        let mut left = self.parse_and()?;
        while let Some(t @ ("-o" | "-or")) = self.peek() {
            let t = t.to_string();
            self.pos += 1;
            if matches!(self.peek(), None | Some(")" | ",")) {
                return Err(format!("expected an expression after '{t}'"));
            }
            let right = self.parse_and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Expr, String> {
        let mut left = self.parse_unary()?;
        loop {
            match self.peek() {
                None | Some(")" | "-o" | "-or" | ",") => return Ok(left),
                Some(t @ ("-a" | "-and")) => {
                    let t = t.to_string();
                    self.pos += 1;
                    if matches!(self.peek(), None | Some(")" | "-o" | "-or" | ",")) {
                        return Err(format!("expected an expression after '{t}'"));
                    }
                }
                _ => {}
            }
            let right = self.parse_unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn parse_unary(&mut self) -> Result<Expr, String> {
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err("expected an expression".into());
        };
        self.pos += 1;
        match tok.as_str() {
            "!" | "-not" => {
                if self.peek().is_none() {
                    return Err(format!("expected an expression after '{tok}'"));
                }
                Ok(Expr::Not(Box::new(self.parse_unary()?)))
            }
            "(" => {
                if self.peek() == Some(")") {
                    return Err("invalid expression; empty parentheses are not allowed.".into());
                }
                let e = self.parse_comma()?;
                if self.peek() != Some(")") {
                    return Err(
                        "invalid expression; I was expecting to find a ')' somewhere but did not see one.".into()
                    );
                }
                self.pos += 1;
                Ok(e)
            }
            ")" => Err("you have too many ')'".into()),
            _ => self.parse_primary(&tok),
        }
    }

    fn parse_primary(&mut self, tok: &str) -> Result<Expr, String> {
        Ok(match tok {
            "-name" | "-iname" => {
                let v = self.value(tok)?;
                Expr::Name(glob(&v, tok == "-iname")?)
            }
            "-path" | "-wholename" | "-ipath" | "-iwholename" => {
                let v = self.value(tok)?;
                Expr::Path(glob(&v, tok.starts_with("-i"))?)
            }
            "-regex" | "-iregex" => {
                let v = self.value(tok)?;
                let (pat, syntax) = match self.regextype.as_str() {
                    "posix-extended" | "egrep" | "posix-egrep" | "gnu-awk" | "posix-awk"
                    | "awk" => (v, Syntax::Extended),
                    "posix-basic" | "grep" | "sed" | "ed" | "posix-minimal-basic" => {
                        (v, Syntax::Basic)
                    }
                    _ => (emacs_to_ere(&v), Syntax::Extended),
                };
                let opts = mirage_regex::Options {
                    ignore_case: tok == "-iregex",
                    whole_line: true,
                    word: false,
                };
                let re = PosixRegex::new(&pat, syntax, &opts).map_err(|e| e.to_string())?;
                Expr::Regex(Box::new(re))
            }
            "-regextype" => {
                let v = self.value(tok)?;
                const KNOWN: &[&str] = &[
                    "findutils-default",
                    "ed",
                    "emacs",
                    "gnu-awk",
                    "grep",
                    "posix-awk",
                    "awk",
                    "posix-basic",
                    "posix-egrep",
                    "egrep",
                    "posix-extended",
                    "posix-minimal-basic",
                    "sed",
                ];
                if !KNOWN.contains(&v.as_str()) {
                    return Err(format!(
                        "Unknown regular expression type `{v}'; valid types are `findutils-default', `ed', `emacs', `gnu-awk', `grep', `posix-awk', `awk', `posix-basic', `posix-egrep', `egrep', `posix-extended', `posix-minimal-basic', `sed'."
                    ));
                }
                self.regextype = v;
                Expr::True
            }
            "-type" | "-xtype" => {
                let v = self.value(tok)?;
                let mut letters = Vec::new();
                for part in v.split(',') {
                    let mut cs = part.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c @ ('f' | 'd' | 'l' | 'b' | 'c' | 'p' | 's' | 'D')), None) => {
                            letters.push(c);
                        }
                        (Some(_), None) => {
                            return Err(format!("Unknown argument to {tok}: {part}"));
                        }
                        _ => {
                            return Err(format!(
                                "Must separate multiple arguments to {tok} using: ','"
                            ));
                        }
                    }
                }
                Expr::Type(letters)
            }
            "-maxdepth" | "-mindepth" => {
                let v = self.value(tok)?;
                let n: usize = v.parse().map_err(|_| {
                    format!("Expected a positive decimal integer argument to {tok}, but got '{v}'")
                })?;
                if tok == "-maxdepth" {
                    self.maxdepth = Some(n);
                } else {
                    self.mindepth = n;
                }
                Expr::True
            }
            "-depth" | "-d" => {
                self.depth_first = true;
                Expr::True
            }
            "-noleaf"
            | "-mount"
            | "-xdev"
            | "-ignore_readdir_race"
            | "-noignore_readdir_race"
            | "-follow" => Expr::True,
            "-empty" => Expr::Empty,
            "-size" => {
                let v = self.value(tok)?;
                parse_size(&v)?
            }
            "-newer" => Expr::Newer(self.value(tok)?),
            "-mtime" | "-mmin" => {
                let v = self.value(tok)?;
                let (c, n) = parse_num_arg(&v, tok)?;
                Expr::Age(c, n, if tok == "-mtime" { 86400 } else { 60 })
            }
            "-true" => Expr::True,
            "-false" => Expr::False,
            "-print" => {
                self.has_action = true;
                Expr::Print
            }
            "-print0" => {
                self.has_action = true;
                Expr::Print0
            }
            "-printf" => {
                self.has_action = true;
                Expr::Printf(self.value(tok)?)
            }
            "-delete" => {
                self.has_action = true;
                self.depth_first = true;
                Expr::Delete
            }
            "-prune" => Expr::Prune,
            "-quit" => {
                self.has_action = true;
                Expr::Quit
            }
            "-exec" | "-execdir" => {
                self.has_action = true;
                let mut argv: Vec<String> = Vec::new();
                let mut batch = false;
                loop {
                    let Some(a) = self.args.get(self.pos) else {
                        return Err(format!("missing argument to `{tok}'"));
                    };
                    self.pos += 1;
                    if a == ";" {
                        break;
                    }
                    if a == "+" && argv.last().is_some_and(|l| l == "{}") {
                        argv.pop();
                        batch = true;
                        break;
                    }
                    argv.push(a.clone());
                }
                if argv.is_empty() {
                    return Err(format!("missing argument to `{tok}'"));
                }
                if batch && argv.iter().any(|a| a.contains("{}")) {
                    return Err(format!(
                        "Only one instance of {{}} is supported with {tok} ... +"
                    ));
                }
                let id = self.execs;
                self.execs += 1;
                Expr::Exec(Box::new(ExecSpec {
                    argv,
                    batch,
                    dir: tok == "-execdir",
                    id,
                }))
            }
            "-ok" | "-okdir" | "-fprint" | "-fls" | "-fprintf" | "-ls" => {
                if self.peek().is_none() {
                    return Err(format!("missing argument to `{tok}'"));
                }
                return Err(format!("unsupported: {tok}"));
            }
            t if t.starts_with('-') => return Err(format!("unknown predicate `{t}'")),
            t => return Err(format!("paths must precede expression: `{t}'")),
        })
    }
}

/// Parses the expression part of a `find` command line (after the
/// starting points). The error is GNU's diagnostic without `find: `.
pub fn parse_expr(args: &[String]) -> Result<Parsed, String> {
    let mut p = Parser {
        args,
        pos: 0,
        maxdepth: None,
        mindepth: 0,
        depth_first: false,
        has_action: false,
        regextype: "emacs".into(),
        execs: 0,
    };
    let expr = if args.is_empty() {
        Expr::True
    } else {
        p.parse_comma()?
    };
    if p.pos < args.len() {
        return Err(if args[p.pos] == ")" {
            "you have too many ')'".into()
        } else {
            format!("unexpected extra predicate '{}'", args[p.pos])
        });
    }
    let expr = if p.has_action {
        expr
    } else {
        Expr::And(Box::new(expr), Box::new(Expr::Print))
    };
    Ok(Parsed {
        expr,
        maxdepth: p.maxdepth,
        mindepth: p.mindepth,
        depth_first: p.depth_first,
        execs: p.execs,
    })
}

fn uses(e: &Expr, f: &dyn Fn(&Expr) -> bool) -> bool {
    if f(e) {
        return true;
    }
    match e {
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Comma(a, b) => uses(a, f) || uses(b, f),
        Expr::Not(a) => uses(a, f),
        _ => false,
    }
}

fn newer_refs(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Newer(p) => out.push(p.clone()),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Comma(a, b) => {
            newer_refs(a, out);
            newer_refs(b, out);
        }
        Expr::Not(a) => newer_refs(a, out),
        _ => {}
    }
}

/// One entry being evaluated.
struct Node<'a> {
    display: &'a str,
    name: &'a str,
    abs: &'a str,
    stat: &'a FileStat,
    depth: usize,
    entries: Option<usize>,
}

/// Evaluation state.
struct Eval {
    out: Vec<u8>,
    prune: bool,
    quit: bool,
    deletes: Vec<(String, String, bool)>,
    newer: HashMap<String, Option<SystemTime>>,
    now: SystemTime,
    /// Pending `{} +` batches, by [`ExecSpec::id`].
    batches: Vec<Batch>,
    /// A `{} +` batch exited non-zero (find then exits 1).
    batch_failed: bool,
    /// Our stdout reader has gone: run nothing more.
    broken: bool,
}

fn effective_size(st: &FileStat) -> u64 {
    if st.is_dir() && st.size == 0 {
        4096
    } else {
        st.size
    }
}

fn mtime_secs(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Eval {
    fn eval(&mut self, e: &Expr, n: &Node<'_>) -> bool {
        match e {
            Expr::And(a, b) => self.eval(a, n) && self.eval(b, n),
            Expr::Or(a, b) => self.eval(a, n) || self.eval(b, n),
            Expr::Comma(a, b) => {
                self.eval(a, n);
                self.eval(b, n)
            }
            Expr::Not(a) => !self.eval(a, n),
            Expr::True => true,
            Expr::False => false,
            Expr::Name(g) => g.is_match(n.name),
            Expr::Path(g) => g.is_match(n.display),
            Expr::Regex(r) => r.is_match(&mirage_types::bytestr::encode(n.display)),
            Expr::Type(letters) => {
                let c = match n.stat.file_type {
                    FileType::File => 'f',
                    FileType::Directory => 'd',
                    FileType::Symlink => 'l',
                };
                letters.contains(&c)
            }
            Expr::Empty => match n.stat.file_type {
                FileType::File => n.stat.size == 0,
                FileType::Directory => n.entries == Some(0),
                FileType::Symlink => false,
            },
            Expr::Size(cmp, num, unit) => {
                let size = effective_size(n.stat);
                cmp.test(size.div_ceil(*unit), *num)
            }
            Expr::Newer(r) => match self.newer.get(r) {
                Some(Some(t)) => n.stat.modified.is_some_and(|m| m > *t),
                _ => false,
            },
            Expr::Age(cmp, num, unit) => {
                let age = mtime_secs(Some(self.now)) - mtime_secs(n.stat.modified);
                let units = if age < 0 { 0 } else { (age as u64) / unit };
                match cmp {
                    Cmp::Gt => units > *num,
                    Cmp::Lt => {
                        if *unit == 60 {
                            (age.max(0) as u64) < num * 60
                        } else {
                            units < *num
                        }
                    }
                    Cmp::Eq => units == *num,
                }
            }
            Expr::Print => {
                self.out
                    .extend_from_slice(&mirage_types::bytestr::encode(n.display));
                self.out.push(b'\n');
                true
            }
            Expr::Print0 => {
                self.out
                    .extend_from_slice(&mirage_types::bytestr::encode(n.display));
                self.out.push(0);
                true
            }
            Expr::Printf(f) => {
                let s = printf(f, n);
                self.out
                    .extend_from_slice(&mirage_types::bytestr::encode(&s));
                true
            }
            Expr::Delete => {
                if n.display != "." {
                    self.deletes
                        .push((n.abs.to_string(), n.display.to_string(), n.stat.is_dir()));
                }
                true
            }
            Expr::Prune => {
                self.prune = true;
                true
            }
            Expr::Quit => {
                self.quit = true;
                true
            }
            // evaluated by `eval_async` only
            Expr::Exec(_) => false,
        }
    }

    /// Evaluates `e` on `n`; when the expression runs commands, the
    /// operators are walked here and the other primaries by [`Eval::eval`].
    async fn eval_top(
        &mut self,
        e: &Expr,
        n: &Node<'_>,
        ctx: &mut CommandCtx,
        has_exec: bool,
    ) -> bool {
        if has_exec {
            self.eval_async(e, n, ctx).await
        } else {
            self.eval(e, n)
        }
    }

    fn eval_async<'a>(
        &'a mut self,
        e: &'a Expr,
        n: &'a Node<'a>,
        ctx: &'a mut CommandCtx,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            match e {
                Expr::And(a, b) => {
                    self.eval_async(a, n, ctx).await && self.eval_async(b, n, ctx).await
                }
                Expr::Or(a, b) => {
                    self.eval_async(a, n, ctx).await || self.eval_async(b, n, ctx).await
                }
                Expr::Comma(a, b) => {
                    self.eval_async(a, n, ctx).await;
                    self.eval_async(b, n, ctx).await
                }
                Expr::Not(a) => !self.eval_async(a, n, ctx).await,
                Expr::Exec(x) => self.exec(x, n, ctx).await,
                _ => self.eval(e, n),
            }
        })
    }

    /// `-exec`/`-execdir` on one entry: runs the command (`\;`, true when it
    /// exits 0) or adds the path to its batch (`+`, always true).
    async fn exec(&mut self, x: &ExecSpec, n: &Node<'_>, ctx: &mut CommandCtx) -> bool {
        if self.broken {
            return false;
        }
        let (cwd, path) = if x.dir {
            let dir = if n.depth == 0 {
                ctx.resolve(&mirage_types::dirname(n.display))
            } else {
                mirage_types::dirname(n.abs)
            };
            let path = if n.name.starts_with('/') {
                n.name.to_string()
            } else {
                format!("./{}", n.name)
            };
            (dir, path)
        } else {
            (ctx.cwd.clone(), n.display.to_string())
        };
        if !x.batch {
            let argv = x.argv.iter().map(|a| a.replace("{}", &path)).collect();
            return self.run_child(argv, cwd, ctx).await == 0;
        }
        if self.batches.len() <= x.id {
            self.batches.resize_with(x.id + 1, Batch::default);
        }
        let full = self.batches.get(x.id).is_some_and(|b| {
            !b.paths.is_empty() && (b.cwd != cwd || b.size + path.len() + 1 > BATCH_BYTES)
        });
        if full {
            self.run_batch(x.id, ctx).await;
        }
        if let Some(b) = self.batches.get_mut(x.id) {
            if b.argv.is_empty() {
                b.argv = x.argv.clone();
            }
            b.cwd = cwd;
            b.size += path.len() + 1;
            b.paths.push(path);
        }
        true
    }

    /// Runs the gathered paths of batch `id`, if any.
    async fn run_batch(&mut self, id: usize, ctx: &mut CommandCtx) {
        let Some(b) = self.batches.get_mut(id) else {
            return;
        };
        if b.paths.is_empty() {
            return;
        }
        let mut argv = b.argv.clone();
        argv.append(&mut b.paths);
        b.size = 0;
        let cwd = b.cwd.clone();
        if self.broken {
            return;
        }
        if self.run_child(argv, cwd, ctx).await != 0 {
            self.batch_failed = true;
        }
    }

    /// Runs every pending batch (at the end of the walk).
    async fn finish_batches(&mut self, ctx: &mut CommandCtx) {
        for id in 0..self.batches.len() {
            self.run_batch(id, ctx).await;
        }
    }

    /// Runs one command line with find's stdout and stderr, after sending
    /// what find has buffered so the output keeps its order.
    async fn run_child(&mut self, argv: Vec<String>, cwd: String, ctx: &mut CommandCtx) -> i32 {
        let gone = self.flush_err(ctx).await;
        let res = ctx.stdout.flush().await;
        if gone || matches!(res, Err(e) if e.kind == ErrorKind::BrokenPipe) {
            self.broken = true;
            self.quit = true;
            return 1;
        }
        let _ = ctx.stderr.flush().await;
        let Some(runner) = ctx.runner.clone() else {
            return 1;
        };
        let out = ctx.stdout.sink().clone();
        let err = ctx.stderr.sink().clone();
        runner
            .run_argv(argv, cwd, ctx.env.clone(), Input::empty(), out, err)
            .await
    }
}

/// Formats `-printf` directives: `%p %f %h %P %s %d %y %m %k %%` and
/// backslash escapes.
fn printf(fmt: &str, n: &Node<'_>) -> String {
    let mut out = String::new();
    let mut it = fmt.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some('\\') => out.push('\\'),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push('\\'),
            },
            '%' => match it.next() {
                Some('p') => out.push_str(n.display),
                Some('f') => out.push_str(n.name),
                Some('h') => {
                    let d = match n.display.rfind('/') {
                        Some(0) => "/".to_string(),
                        Some(i) => n.display[..i].to_string(),
                        None => ".".to_string(),
                    };
                    out.push_str(&d);
                }
                Some('P') => {
                    // path relative to the starting point
                    let rel = n.display.split_once('/').map(|x| x.1).unwrap_or("");
                    if n.depth > 0 {
                        out.push_str(rel);
                    }
                }
                Some('s') => out.push_str(&effective_size(n.stat).to_string()),
                Some('k') => out.push_str(&effective_size(n.stat).div_ceil(1024).to_string()),
                Some('d') => out.push_str(&n.depth.to_string()),
                Some('y') => out.push(match n.stat.file_type {
                    FileType::File => 'f',
                    FileType::Directory => 'd',
                    FileType::Symlink => 'l',
                }),
                Some('m') => out.push_str(&format!("{:o}", n.stat.mode.unwrap_or(0o644) & 0o7777)),
                Some('%') => out.push('%'),
                Some(x) => {
                    out.push('%');
                    out.push(x);
                }
                None => out.push('%'),
            },
            _ => out.push(c),
        }
    }
    out
}

fn child_path(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The real paths and display names of the directories above an entry
/// (only kept with `-L`, for loop detection).
type Ancestors = std::sync::Arc<Vec<(String, String)>>;

/// Which symlinks `find` follows (`-P`, `-H`, `-L`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    Never,
    StartPoints,
    Always,
}

enum Work {
    Visit {
        display: String,
        abs: String,
        stat: FileStat,
        depth: usize,
        ancestors: Ancestors,
    },
    Post {
        display: String,
        abs: String,
        stat: FileStat,
        depth: usize,
        entries: usize,
    },
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let args = ctx.args.clone();
        // leading -H -L -P options
        let mut i = 0;
        let mut follow = Follow::Never;
        while i < args.len() && matches!(args[i].as_str(), "-H" | "-L" | "-P") {
            follow = match args[i].as_str() {
                "-H" => Follow::StartPoints,
                "-L" => Follow::Always,
                _ => Follow::Never,
            };
            i += 1;
        }
        let mut paths = Vec::new();
        while i < args.len() {
            let a = &args[i];
            if (a.starts_with('-') && a.len() > 1) || a == "(" || a == "!" || a == ")" || a == "," {
                break;
            }
            paths.push(a.clone());
            i += 1;
        }
        let parsed = match parse_expr(&args[i..]) {
            Ok(p) => p,
            Err(msg) => {
                ctx.error(msg).await;
                return 1;
            }
        };
        if args[i..].iter().any(|a| a == "-follow") {
            follow = Follow::Always;
        }
        let has_exec = parsed.execs > 0;
        if has_exec && ctx.runner.is_none() {
            let tok = if uses(&parsed.expr, &|e| matches!(e, Expr::Exec(x) if x.dir)) {
                "-execdir"
            } else {
                "-exec"
            };
            ctx.error(format!("unsupported: {tok}")).await;
            return 1;
        }
        if paths.is_empty() {
            paths.push(".".to_string());
        }
        let mut ev = Eval {
            out: Vec::with_capacity(16 * 1024),
            prune: false,
            quit: false,
            deletes: Vec::new(),
            newer: HashMap::new(),
            now: SystemTime::now(),
            batches: Vec::new(),
            batch_failed: false,
            broken: false,
        };
        let mut refs = Vec::new();
        newer_refs(&parsed.expr, &mut refs);
        for r in refs {
            let abs = ctx.resolve(&r);
            match ctx.vfs.stat(&abs).await {
                Ok(st) => {
                    ev.newer.insert(r, st.modified);
                }
                Err(e) => {
                    ctx.error(format!("{}: {}", crate::util::gnu_quote(&r), e.message()))
                        .await;
                    return 1;
                }
            }
        }
        let uses_empty = uses(&parsed.expr, &|e| matches!(e, Expr::Empty));
        let mut status = 0;
        'outer: for start in &paths {
            let abs = ctx.resolve(start);
            // one recursive listing of the tree where the mount can (a hint)
            let _ = ctx.vfs.prefetch_tree(&abs, false).await;
            let st = if follow == Follow::Never {
                ctx.vfs.lstat(&abs).await
            } else {
                match ctx.vfs.stat(&abs).await {
                    // A broken link is still listed, as itself.
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        ctx.vfs.lstat(&abs).await.map_err(|_| e)
                    }
                    r => r,
                }
            };
            let st = match st {
                Ok(s) => s,
                Err(e) => {
                    ctx.error(format!(
                        "{}: {}",
                        crate::util::gnu_quote(start),
                        e.message()
                    ))
                    .await;
                    status = 1;
                    continue;
                }
            };
            let mut stack = vec![Work::Visit {
                display: start.clone(),
                abs,
                stat: st,
                depth: 0,
                ancestors: Ancestors::default(),
            }];
            while let Some(w) = stack.pop() {
                match w {
                    Work::Visit {
                        display,
                        abs,
                        stat,
                        depth,
                        ancestors,
                    } => {
                        let mut ancestors = ancestors;
                        if follow == Follow::Always && stat.is_dir() {
                            // A directory reached again through a link: a loop.
                            let real = ctx.vfs.realpath(&abs).await.unwrap_or_else(|_| abs.clone());
                            if let Some((_, first)) = ancestors.iter().find(|(r, _)| *r == real) {
                                if ev.flush_err(ctx).await {
                                    return status;
                                }
                                ctx.error(format!(
                                    "File system loop detected; \u{2018}{display}\u{2019} is part of the same file system loop as \u{2018}{first}\u{2019}."
                                ))
                                .await;
                                status = 1;
                                continue;
                            }
                            let mut v = (*ancestors).clone();
                            v.push((real, display.clone()));
                            ancestors = std::sync::Arc::new(v);
                        }
                        let descend = stat.is_dir() && parsed.maxdepth.is_none_or(|m| depth < m);
                        let mut entries = None;
                        if descend || (uses_empty && stat.is_dir()) {
                            match ctx.vfs.readdir(&abs).await {
                                Ok(e) => entries = Some(e),
                                Err(e) => {
                                    if ev.flush_err(ctx).await {
                                        return status;
                                    }
                                    ctx.error(format!(
                                        "{}: {}",
                                        crate::util::gnu_quote(&display),
                                        e.message()
                                    ))
                                    .await;
                                    status = 1;
                                }
                            }
                        }
                        let count = entries.as_ref().map(Vec::len);
                        let name = if depth == 0 {
                            let b = mirage_types::basename(&display);
                            if b.is_empty() { display.clone() } else { b }
                        } else {
                            stat.name.clone()
                        };
                        let mut pruned = false;
                        if !parsed.depth_first && depth >= parsed.mindepth {
                            ev.prune = false;
                            let node = Node {
                                display: &display,
                                name: &name,
                                abs: &abs,
                                stat: &stat,
                                depth,
                                entries: count,
                            };
                            ev.eval_top(&parsed.expr, &node, ctx, has_exec).await;
                            pruned = ev.prune;
                        }
                        if parsed.depth_first && descend && entries.is_some() {
                            stack.push(Work::Post {
                                display: display.clone(),
                                abs: abs.clone(),
                                stat: stat.clone(),
                                depth,
                                entries: count.unwrap_or(0),
                            });
                        } else if parsed.depth_first && depth >= parsed.mindepth {
                            let node = Node {
                                display: &display,
                                name: &name,
                                abs: &abs,
                                stat: &stat,
                                depth,
                                entries: count,
                            };
                            ev.eval_top(&parsed.expr, &node, ctx, has_exec).await;
                        }
                        if descend
                            && !pruned
                            && let Some(ents) = entries
                        {
                            let mut children = Vec::with_capacity(ents.len());
                            for ent in ents {
                                let d = child_path(&display, &ent.name);
                                let a = child_path(&abs, &ent.name);
                                let ent = if follow == Follow::Always
                                    && ent.file_type == FileType::Symlink
                                {
                                    match ctx.vfs.stat(&a).await {
                                        Ok(mut t) => {
                                            t.name = ent.name;
                                            t
                                        }
                                        Err(e) if e.kind == ErrorKind::TooManyLinks => {
                                            if ev.flush_err(ctx).await {
                                                return status;
                                            }
                                            ctx.error(format!(
                                                "{}: {}",
                                                crate::util::gnu_quote(&d),
                                                e.message()
                                            ))
                                            .await;
                                            status = 1;
                                            continue;
                                        }
                                        // Broken (or leading out of the mount): the link itself.
                                        Err(_) => ent,
                                    }
                                } else {
                                    ent
                                };
                                children.push(Work::Visit {
                                    display: d,
                                    abs: a,
                                    stat: ent,
                                    depth: depth + 1,
                                    ancestors: ancestors.clone(),
                                });
                            }
                            stack.extend(children.into_iter().rev());
                        }
                    }
                    Work::Post {
                        display,
                        abs,
                        stat,
                        depth,
                        entries,
                    } => {
                        if depth >= parsed.mindepth {
                            let name = if depth == 0 {
                                mirage_types::basename(&display)
                            } else {
                                stat.name.clone()
                            };
                            let node = Node {
                                display: &display,
                                name: &name,
                                abs: &abs,
                                stat: &stat,
                                depth,
                                entries: Some(entries),
                            };
                            ev.eval_top(&parsed.expr, &node, ctx, has_exec).await;
                        }
                    }
                }
                for (abs, display, is_dir) in std::mem::take(&mut ev.deletes) {
                    let res = if is_dir {
                        ctx.vfs.rmdir(&abs).await
                    } else {
                        ctx.vfs.unlink(&abs).await
                    };
                    match res {
                        Ok(()) => ctx.io.wrote(&abs),
                        Err(e) => {
                            if ev.flush_err(ctx).await {
                                return status;
                            }
                            ctx.error(format!(
                                "cannot delete {}: {}",
                                crate::util::gnu_quote(&display),
                                e.message()
                            ))
                            .await;
                            status = 1;
                        }
                    }
                }
                if ev.out.len() >= 32 * 1024 && ev.flush_err(ctx).await {
                    return status;
                }
                if ev.quit {
                    break 'outer;
                }
            }
        }
        ev.finish_batches(ctx).await;
        let _ = ev.flush_err(ctx).await;
        if ev.batch_failed {
            status = 1;
        }
        status
    })
}

impl Eval {
    /// Sends buffered output; true when the reader has gone (stop quietly).
    async fn flush_err(&mut self, ctx: &mut CommandCtx) -> bool {
        if self.out.is_empty() {
            return false;
        }
        let res = ctx.stdout.write(&self.out).await;
        self.out.clear();
        matches!(res, Err(e) if e.kind == ErrorKind::BrokenPipe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn parse_errors_are_gnu() {
        assert_eq!(
            parse_expr(&v(&["-foo"])).unwrap_err(),
            "unknown predicate `-foo'"
        );
        assert_eq!(
            parse_expr(&v(&["-name"])).unwrap_err(),
            "missing argument to `-name'"
        );
        assert!(
            parse_expr(&v(&["(", "-name", "x"]))
                .unwrap_err()
                .contains("expecting to find a ')'")
        );
        assert_eq!(
            parse_expr(&v(&["-type", "z"])).unwrap_err(),
            "Unknown argument to -type: z"
        );
        assert_eq!(
            parse_expr(&v(&["-name", "x", "-o"])).unwrap_err(),
            "expected an expression after '-o'"
        );
        assert_eq!(
            parse_expr(&v(&["-size", "3q"])).unwrap_err(),
            "invalid -size type `q'"
        );
        assert_eq!(
            parse_expr(&v(&["-name", "x", ")"])).unwrap_err(),
            "you have too many ')'"
        );
    }

    #[test]
    fn parse_structure_and_globals() {
        let p = parse_expr(&v(&[
            "-maxdepth",
            "1",
            "-type",
            "f",
            "-o",
            "!",
            "-name",
            "*.py",
        ]))
        .unwrap();
        assert_eq!(p.maxdepth, Some(1));
        // implied -print wraps the whole expression
        assert!(
            matches!(p.expr, Expr::And(ref a, ref b) if matches!(**a, Expr::Or(..)) && matches!(**b, Expr::Print))
        );
        let p = parse_expr(&v(&["-name", "*.tmp", "-delete"])).unwrap();
        assert!(p.depth_first);
        assert!(matches!(p.expr, Expr::And(..)));
    }

    fn f(vfs: &std::sync::Arc<MemVfs>, args: &[&str], cwd: &str) -> (String, String, i32) {
        run_cmd(vfs, run, "find", args, cwd, "")
    }

    fn tree() -> std::sync::Arc<MemVfs> {
        MemVfs::with(&[
            ("/m/.hidden", "h"),
            ("/m/10.txt", "ten"),
            ("/m/9.txt", "nine"),
            ("/m/C.md", "c"),
            ("/m/b.txt", ""),
            ("/m/sub/inner.txt", "i"),
            ("/m/sub/deep/x.log", "x"),
            ("/m/e/", ""),
        ])
    }

    #[test]
    fn walks_in_order_with_tests() {
        let t = tree();
        assert_eq!(
            f(&t, &["."], "/m/sub").0,
            ".\n./deep\n./deep/x.log\n./inner.txt\n"
        );
        assert_eq!(
            f(&t, &[".", "-type", "d"], "/m").0,
            ".\n./e\n./sub\n./sub/deep\n"
        );
        assert_eq!(
            f(&t, &[".", "-mindepth", "2"], "/m").0,
            "./sub/deep\n./sub/deep/x.log\n./sub/inner.txt\n"
        );
        assert_eq!(f(&t, &["/m", "-maxdepth", "0"], "/").0, "/m\n");
        assert_eq!(f(&t, &[".", "-empty"], "/m").0, "./b.txt\n./e\n");
        assert_eq!(
            f(&t, &[".", "-regex", ".*/[0-9]+\\.txt"], "/m").0,
            "./10.txt\n./9.txt\n"
        );
        assert_eq!(
            f(
                &t,
                &[
                    ".", "-name", "sub", "-prune", "-o", "-name", "*.txt", "-print"
                ],
                "/m"
            )
            .0,
            "./10.txt\n./9.txt\n./b.txt\n"
        );
        assert_eq!(
            f(&t, &["sub", "-name", "*.log"], "/m").0,
            "sub/deep/x.log\n"
        );
        assert_eq!(
            f(&t, &[".", "-type", "f", "-size", "-2c"], "/m").0,
            "./.hidden\n./C.md\n./b.txt\n./sub/deep/x.log\n./sub/inner.txt\n"
        );
    }

    #[test]
    fn errors_and_delete() {
        let t = tree();
        let (o, e, s) = f(&t, &["9.txt", "missing", "-name", "*.txt"], "/m");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "9.txt\n",
                "find: \u{2018}missing\u{2019}: No such file or directory\n",
                1
            )
        );
        let (o, e, s) = f(&t, &[".", "-foo"], "/m");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("", "find: unknown predicate `-foo'\n", 1)
        );
        assert_eq!(f(&t, &[".", "-name", "*.txt", "-delete"], "/m").2, 0);
        assert_eq!(
            f(&t, &[".", "-type", "f"], "/m").0,
            "./.hidden\n./C.md\n./sub/deep/x.log\n"
        );
    }

    /// A runner that prints `[CWD] ARGV…` and fails when an argument names
    /// a `.md` file.
    struct Echo;

    impl mirage_types::command::ArgvRunner for Echo {
        fn run_argv<'s, 'f>(
            &'s self,
            argv: Vec<String>,
            cwd: String,
            _env: std::collections::BTreeMap<String, String>,
            _stdin: Input,
            stdout: mirage_types::Sink,
            _stderr: mirage_types::Sink,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = i32> + Send + 'f>>
        where
            's: 'f,
            Self: 'f,
        {
            Box::pin(async move {
                let mut out = mirage_types::Output::new(stdout);
                let line = format!("[{cwd}] {}\n", argv.join(" "));
                let _ = out.write_str(&line).await;
                let _ = out.flush().await;
                if argv.iter().any(|a| a.ends_with(".md")) {
                    1
                } else {
                    0
                }
            })
        }
    }

    fn fx(vfs: &std::sync::Arc<MemVfs>, args: &[&str], cwd: &str) -> (String, String, i32) {
        use mirage_types::{ByteSource, IOResult, Output, Sink};
        let (out_sink, out) = Sink::capture();
        let (err_sink, err) = Sink::capture();
        let mut ctx = CommandCtx {
            name: "find".into(),
            args: v(args),
            cwd: cwd.into(),
            env: Default::default(),
            vfs: vfs.clone(),
            stdin: Input::from_source(ByteSource::Bytes(Default::default())),
            stdout: Output::new(out_sink),
            stderr: Output::new(err_sink),
            io: IOResult::default(),
            mount: None,
            runner: Some(std::sync::Arc::new(Echo)),
            net: None,
        };
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
            return (String::new(), "no runtime".into(), -1);
        };
        let status = rt.block_on(async {
            let s = run(&mut ctx).await;
            let _ = ctx.stdout.flush().await;
            let _ = ctx.stderr.flush().await;
            s
        });
        let get = |b: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&b.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
                .into_owned()
        };
        (get(&out), get(&err), status)
    }

    #[test]
    fn parse_exec() {
        let p = parse_expr(&v(&["-exec", "wc", "-l", "{}", ";", "-print"])).unwrap();
        assert_eq!(p.execs, 1);
        assert!(
            matches!(p.expr, Expr::And(ref a, _) if matches!(**a, Expr::Exec(ref x) if x.argv == v(&["wc", "-l", "{}"]) && !x.batch))
        );
        let p = parse_expr(&v(&["-execdir", "grep", "-l", "x", "{}", "+"])).unwrap();
        assert!(
            matches!(p.expr, Expr::Exec(ref x) if x.argv == v(&["grep", "-l", "x"]) && x.batch && x.dir)
        );
        assert_eq!(
            parse_expr(&v(&["-exec", "echo", "{}"])).unwrap_err(),
            "missing argument to `-exec'"
        );
        assert_eq!(
            parse_expr(&v(&["-exec", ";"])).unwrap_err(),
            "missing argument to `-exec'"
        );
        // `+` not after `{}` is an ordinary argument
        assert_eq!(
            parse_expr(&v(&["-exec", "echo", "+", "{}"])).unwrap_err(),
            "missing argument to `-exec'"
        );
        assert!(
            parse_expr(&v(&["-exec", "echo", "{}", "{}", "+"]))
                .unwrap_err()
                .starts_with("Only one instance")
        );
    }

    #[test]
    fn exec_each_plus_and_dir() {
        let t = tree();
        let (o, e, s) = fx(
            &t,
            &[".", "-name", "*.txt", "-exec", "wc", "{}", "x{}y", ";"],
            "/m",
        );
        assert_eq!((e.as_str(), s), ("", 0));
        assert_eq!(
            o,
            "[/m] wc ./10.txt x./10.txty\n[/m] wc ./9.txt x./9.txty\n[/m] wc ./b.txt x./b.txty\n[/m] wc ./sub/inner.txt x./sub/inner.txty\n"
        );
        // the command's status is the test's value; find's own output keeps its order
        let (o, _, s) = fx(
            &t,
            &[
                ".",
                "-maxdepth",
                "1",
                "-type",
                "f",
                "-print",
                "-exec",
                "c",
                "{}",
                ";",
                "-print",
            ],
            "/m",
        );
        assert_eq!(s, 0);
        assert_eq!(
            o,
            "./.hidden\n[/m] c ./.hidden\n./.hidden\n./10.txt\n[/m] c ./10.txt\n./10.txt\n./9.txt\n[/m] c ./9.txt\n./9.txt\n./C.md\n[/m] c ./C.md\n./b.txt\n[/m] c ./b.txt\n./b.txt\n"
        );
        let (o, _, s) = fx(
            &t,
            &["sub", "-type", "f", "-exec", "g", "-l", "{}", "+"],
            "/m",
        );
        assert_eq!(
            (o.as_str(), s),
            ("[/m] g -l sub/deep/x.log sub/inner.txt\n", 0)
        );
        // a failing batch makes find exit 1
        let (o, _, s) = fx(
            &t,
            &[
                ".",
                "-maxdepth",
                "1",
                "-name",
                "[C9]*",
                "-exec",
                "g",
                "{}",
                "+",
            ],
            "/m",
        );
        assert_eq!((o.as_str(), s), ("[/m] g ./9.txt ./C.md\n", 1));
        let (o, _, s) = fx(&t, &["/m/sub", "-execdir", "e", "{}", ";"], "/");
        assert_eq!(
            (o.as_str(), s),
            (
                "[/m] e ./sub\n[/m/sub] e ./deep\n[/m/sub/deep] e ./x.log\n[/m/sub] e ./inner.txt\n",
                0
            )
        );
        let (o, _, _) = fx(
            &t,
            &["/m/sub", "-type", "f", "-execdir", "e", "{}", "+"],
            "/",
        );
        assert_eq!(o, "[/m/sub/deep] e ./x.log\n[/m/sub] e ./inner.txt\n");
        // without a runner -exec is refused
        let (o, e, s) = f(&t, &[".", "-exec", "echo", "{}", ";"], "/m");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("", "find: unsupported: -exec\n", 1)
        );
    }
}
