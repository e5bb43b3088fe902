//! The function printer: a function's body as `declare -f`, `typeset -f`
//! and `type` print it, re-formatted from its parse tree the way bash 5.2
//! does it (its `print_cmd.c` behaviour, reimplemented here):
//! `name () ` and `{ ` on their own lines, four spaces of indentation per
//! level, `;` ending every command but the last of a list, `then` and `do`
//! of `if`/`while` on the condition's line, `do` of `for` on its own line,
//! `case` arms with `;;`, `elif` as a nested `if` under `else`, `|&` as
//! `2>&1 |`, redirections after the words (`1>&2`, `> file`), here-document
//! bodies after the command line that opens them.
//!
//! Words are printed as written: the parser keeps the source text of every
//! word of a function body ([`Word::src`]). As bash does when it reads
//! them, a `$'…'` word part is printed single-quoted with its escapes
//! decoded, `$"…"` as `"…"`, and a command or process substitution
//! (`$(…)`, `<(…)`, `>(…)`) is re-formatted from its own parse (one line,
//! commands joined by `; `). A word without source text (made by the
//! shell) is rebuilt from its parts.

use std::fmt::Write as _;

use crate::ast::{
    Assign, AssignValue, CaseTerm, Cmd, DeclArg, ParamExp, ParamOp, Redir, RedirOp, ReplaceMode,
    Word, WordPart,
};

/// Indentation step (bash's `indentation_amount`).
const STEP: usize = 4;

/// The text of function `name` with body `body`, as `declare -f name`
/// prints it (no final newline): `name () \n{ \n    cmd\n}`. A body that is
/// a `{ … }` group prints its commands; any other compound command is
/// printed inside a group; redirections of the body follow the `}`.
pub fn print_function(name: &str, body: &Cmd) -> String {
    let mut p = Printer::default();
    if RESERVED.contains(&name) {
        p.out.push_str("function ");
    }
    p.out.push_str(name);
    p.out.push_str(" () \n");
    p.in_func += 1;
    p.out.push_str("{ \n");
    p.indent = STEP;
    let (inner, redirs) = split_group(body);
    p.make(inner);
    p.deferred("");
    p.indent = 0;
    p.out.push_str("\n}");
    if let Some(r) = redirs {
        p.out.push(' ');
        p.redirs(r);
    }
    p.out
}

/// Bash's reserved words (a function of that name prints with `function`).
const RESERVED: [&str; 22] = [
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "{", "}", "!", "[[", "]]", "coproc",
];

/// A function body's commands and its redirections: the inside of a `{ … }`
/// group (with the group's redirections), or the body itself.
fn split_group(body: &Cmd) -> (&Cmd, Option<&[Redir]>) {
    match body {
        Cmd::Group(inner) => (inner, None),
        Cmd::Redirected(inner, r) => match &**inner {
            Cmd::Group(g) => (g, Some(r)),
            _ => (body, None),
        },
        _ => (body, None),
    }
}

/// The state of one printing, after bash's `print_cmd.c` globals.
#[derive(Default)]
struct Printer {
    out: String,
    /// Current indentation in spaces.
    indent: usize,
    /// Commands still to print without indentation (`skip_this_indent`).
    skip_indent: usize,
    /// Depth of function definitions (`inside_function_def`): lists break
    /// lines there, and are one line elsewhere (command substitutions).
    in_func: usize,
    /// Depth of `;`, `&`, `|`, `&&`, `||` lists being printed: here-document
    /// bodies wait for the operator (`printing_connection`).
    connection: usize,
    /// Here-document bodies waiting to be printed (`deferred_heredocs`).
    deferred_docs: Vec<String>,
    /// A here-document body was just printed: the next `;` is dropped.
    was_heredoc: bool,
}

impl Printer {
    fn spaces(&mut self) {
        for _ in 0..self.indent {
            self.out.push(' ');
        }
    }

    /// A newline, the indentation, then `s` (bash's `newline`).
    fn newline(&mut self, s: &str) {
        self.out.push('\n');
        self.spaces();
        self.out.push_str(s);
    }

    /// `;` unless the text ends in `&` or a newline (bash's `semicolon`).
    fn semicolon(&mut self) {
        if !(self.out.ends_with('&') || self.out.ends_with('\n')) {
            self.out.push(';');
        }
    }

    /// Prints `op` and any waiting here-document bodies
    /// (`print_deferred_heredocs`).
    fn deferred(&mut self, op: &str) {
        let shown = !op.is_empty() && op != ";";
        if shown {
            self.out.push_str(op);
        }
        if !self.deferred_docs.is_empty() {
            let docs = std::mem::take(&mut self.deferred_docs);
            self.bodies(&docs);
            if shown {
                self.out.push(' ');
            }
            self.was_heredoc = true;
        }
    }

    /// Before the operator after the `i`th command of a list or an
    /// `&&`/`||` chain: bash builds these as left-nested connections, so
    /// the bodies of every command but the first are printed at the end
    /// of the inner connection, before the operator; the first's follow
    /// the operator.
    fn inner_end(&mut self, i: usize) {
        if i > 0 {
            self.deferred("");
        }
    }

    /// Here-document bodies, each followed by a newline, after a newline.
    fn bodies(&mut self, docs: &[String]) {
        self.out.push('\n');
        for d in docs {
            self.out.push_str(d);
            self.out.push('\n');
        }
    }

    /// One command (bash's `make_command_string_internal`).
    fn make(&mut self, cmd: &Cmd) {
        crate::parse::grow(|| self.make_inner(cmd));
    }

    fn make_inner(&mut self, cmd: &Cmd) {
        match cmd {
            Cmd::Empty => return,
            Cmd::Seq(v) if v.is_empty() => return,
            Cmd::Redirected(inner, r) => {
                self.make(inner);
                self.out.push(' ');
                self.redirs(r);
                return;
            }
            _ => {}
        }
        if self.skip_indent > 0 {
            self.skip_indent -= 1;
        } else {
            self.spaces();
        }
        match cmd {
            Cmd::Empty | Cmd::Redirected(..) => {}
            Cmd::Simple(s) => {
                let mut first = true;
                for a in &s.assigns {
                    if !first {
                        self.out.push(' ');
                    }
                    first = false;
                    self.assign(a);
                }
                for w in &s.words {
                    if !first {
                        self.out.push(' ');
                    }
                    first = false;
                    self.word(w);
                }
                if !s.redirs.is_empty() {
                    if !first {
                        self.out.push(' ');
                    }
                    self.redirs(&s.redirs);
                }
            }
            Cmd::Decl(kw, args, redirs, _) => {
                self.out.push_str(kw);
                for a in args {
                    self.out.push(' ');
                    match a {
                        DeclArg::Assign(a) => self.assign(a),
                        DeclArg::Word(w) => self.word(w),
                    }
                }
                if !redirs.is_empty() {
                    self.out.push(' ');
                    self.redirs(redirs);
                }
            }
            Cmd::Not(inner) => {
                self.out.push_str("! ");
                self.skip_indent += 1;
                self.make(inner);
            }
            Cmd::Pipeline(stages, errs) => {
                self.connection += 1;
                for (i, c) in stages.iter().enumerate() {
                    if i > 0 {
                        self.deferred(" |");
                        self.out.push(' ');
                    }
                    self.skip_indent += 1;
                    self.make(c);
                    if errs.get(i).copied().unwrap_or(false) && i + 1 < stages.len() {
                        self.out.push_str(" 2>&1");
                    }
                }
                self.deferred("");
                self.connection -= 1;
            }
            Cmd::AndOr(first, rest) => {
                self.connection += 1;
                self.skip_indent += 1;
                self.make(first);
                for (i, (and, c)) in rest.iter().enumerate() {
                    // the bodies of the first command come after the
                    // operator, the others' before it
                    self.inner_end(i);
                    self.deferred(if *and { " && " } else { " || " });
                    self.skip_indent += 1;
                    self.make(c);
                }
                self.deferred("");
                self.connection -= 1;
            }
            Cmd::Seq(items) => self.list(items),
            Cmd::Background(inner, _) => {
                self.connection += 1;
                self.skip_indent += 1;
                self.make(inner);
                self.deferred(" &");
                self.connection -= 1;
            }
            Cmd::If(arms, els) => self.if_cmd(arms, els.as_deref()),
            Cmd::While(cond, body, until) => {
                self.out.push_str(if *until { "until " } else { "while " });
                self.skip_indent += 1;
                self.make(cond);
                self.deferred("");
                self.semicolon();
                self.out.push_str(" do\n");
                self.body(body);
                self.semicolon();
                self.newline("done");
            }
            Cmd::Time { posix, cmd } => {
                self.out.push_str(if *posix { "time -p " } else { "time " });
                self.skip_indent += 1;
                self.make(cmd);
            }
            Cmd::Select {
                name, words, body, ..
            } => {
                self.out.push_str("select ");
                self.out.push_str(name);
                self.out.push_str(" in ");
                match words {
                    None => self.out.push_str("\"$@\""),
                    Some(ws) => self.words(ws, " "),
                }
                self.out.push(';');
                self.do_body(body);
            }
            Cmd::For(name, words, body, _) => {
                self.out.push_str("for ");
                self.out.push_str(name);
                self.out.push_str(" in ");
                match words {
                    None => self.out.push_str("\"$@\""),
                    Some(ws) => self.words(ws, " "),
                }
                self.out.push(';');
                self.do_body(body);
            }
            Cmd::CFor(a, b, c, body, _) => {
                self.out.push_str("for ((");
                for (i, w) in [a, b, c].into_iter().enumerate() {
                    if i > 0 {
                        self.out.push_str("; ");
                    }
                    match w {
                        Some(w) => self.arith_text(w),
                        None => self.out.push('1'),
                    }
                }
                self.out.push_str("))");
                self.do_body(body);
            }
            Cmd::Case(word, items, _) => {
                self.out.push_str("case ");
                self.word(word);
                self.out.push_str(" in ");
                self.indent += STEP;
                for item in items {
                    self.newline("");
                    self.words(&item.patterns, " | ");
                    self.out.push_str(")\n");
                    self.indent += STEP;
                    self.make(&item.body);
                    self.indent -= STEP;
                    self.deferred("");
                    self.newline(match item.term {
                        CaseTerm::Break => ";;",
                        CaseTerm::FallThrough => ";&",
                        CaseTerm::Continue => ";;&",
                    });
                }
                self.indent -= STEP;
                self.newline("esac");
            }
            Cmd::FuncDef(name, body) => {
                self.out.push_str("function ");
                self.out.push_str(name);
                self.out.push_str(" () \n");
                self.spaces();
                self.out.push_str("{ \n");
                self.in_func += 1;
                self.indent += STEP;
                let (inner, redirs) = split_group(body);
                self.make(inner);
                self.deferred("");
                self.indent -= STEP;
                self.in_func -= 1;
                match redirs {
                    Some(r) => {
                        self.newline("} ");
                        self.redirs(r);
                    }
                    None => self.newline("}"),
                }
            }
            Cmd::Group(inner) => {
                self.out.push_str("{ ");
                if self.in_func == 0 {
                    self.skip_indent += 1;
                } else {
                    self.out.push('\n');
                    self.indent += STEP;
                }
                self.make(inner);
                self.deferred("");
                if self.in_func > 0 {
                    self.out.push('\n');
                    self.indent -= STEP;
                    self.spaces();
                } else {
                    self.semicolon();
                    self.out.push(' ');
                }
                self.out.push('}');
            }
            Cmd::Subshell(inner) => {
                self.out.push_str("( ");
                self.skip_indent += 1;
                self.make(inner);
                self.deferred("");
                self.out.push_str(" )");
            }
            Cmd::Arith(w, _) => {
                self.out.push_str("((");
                match &w.src {
                    Some(s) => self.out.push_str(s),
                    None => self.out.push_str(&arith_parts(w)),
                }
                self.out.push_str("))");
            }
            Cmd::Cond(words, _) => {
                self.out.push_str("[[ ");
                let mut i = 0;
                self.cond_or(words, &mut i);
                self.out.push_str(" ]]");
            }
        }
    }

    /// The commands of a list joined as bash joins them: `;` and a line
    /// break inside a function, `; ` elsewhere (a newline between commands
    /// on different lines of a command substitution), ` & ` after a
    /// background job.
    fn list(&mut self, items: &[Cmd]) {
        self.connection += 1;
        let n = items.len();
        for (i, c) in items.iter().enumerate() {
            self.skip_indent += usize::from(i == 0);
            let last = i + 1 == n;
            if let Cmd::Background(inner, _) = c {
                self.make(inner);
                self.deferred(" &");
                if !last {
                    self.out.push(' ');
                    self.skip_indent += 1;
                }
                continue;
            }
            self.make(c);
            if last {
                break;
            }
            self.inner_end(i);
            let newline = self.in_func == 0
                && matches!((last_line(c), first_line(&items[i + 1])), (Some(a), Some(b)) if b > a);
            if self.deferred_docs.is_empty() {
                if self.was_heredoc {
                    self.was_heredoc = false;
                } else if !newline {
                    self.out.push(';');
                }
            } else {
                // the first command's bodies: its `;` is not printed, and
                // neither is the next command's (bash's `was_heredoc`)
                self.deferred(if self.in_func > 0 { "" } else { ";" });
            }
            if self.in_func > 0 || newline {
                self.out.push('\n');
            } else {
                self.out.push(' ');
            }
            if self.in_func == 0 {
                self.skip_indent += 1;
            }
        }
        self.deferred("");
        self.connection -= 1;
    }

    fn if_cmd(&mut self, arms: &[(Cmd, Cmd)], els: Option<&Cmd>) {
        let Some(((cond, body), rest)) = arms.split_first() else {
            return;
        };
        self.out.push_str("if ");
        self.skip_indent += 1;
        self.make(cond);
        self.semicolon();
        self.out.push_str(" then\n");
        self.indent += STEP;
        self.make(body);
        self.deferred("");
        self.indent -= STEP;
        if !rest.is_empty() || els.is_some() {
            self.semicolon();
            self.newline("else\n");
            self.indent += STEP;
            if rest.is_empty() {
                if let Some(e) = els {
                    self.make(e);
                }
            } else {
                self.spaces();
                self.if_cmd(rest, els);
            }
            self.deferred("");
            self.indent -= STEP;
        }
        self.semicolon();
        self.newline("fi");
    }

    /// A loop body indented one step (`while`, `until`).
    fn body(&mut self, body: &Cmd) {
        self.indent += STEP;
        self.make(body);
        self.deferred("");
        self.indent -= STEP;
    }

    /// `do` on its own line, the body, `done` (`for`, `for ((…))`).
    fn do_body(&mut self, body: &Cmd) {
        self.newline("do\n");
        self.indent += STEP;
        self.make(body);
        self.deferred("");
        self.semicolon();
        self.indent -= STEP;
        self.newline("done");
    }

    fn words(&mut self, ws: &[Word], sep: &str) {
        for (i, w) in ws.iter().enumerate() {
            if i > 0 {
                self.out.push_str(sep);
            }
            self.word(w);
        }
    }

    fn word(&mut self, w: &Word) {
        let s = word_text(w);
        self.out.push_str(&s);
    }

    /// One `for ((…))` part: as written from its first non-blank.
    fn arith_text(&mut self, w: &Word) {
        match &w.src {
            Some(s) => self.out.push_str(s.trim_start()),
            None => self.out.push_str(&arith_parts(w)),
        }
    }

    fn assign(&mut self, a: &Assign) {
        self.out.push_str(&a.name);
        if let Some(i) = &a.index {
            self.out.push('[');
            self.word(i);
            self.out.push(']');
        }
        self.out.push_str(if a.append { "+=" } else { "=" });
        match &a.value {
            AssignValue::Scalar(w) => self.word(w),
            AssignValue::Array(ws) => {
                self.out.push('(');
                self.words(ws, " ");
                self.out.push(')');
            }
        }
    }

    /// A redirection list; here-document bodies follow at once, or after
    /// the next operator inside a list.
    fn redirs(&mut self, rs: &[Redir]) {
        // bash's `print_redirection_list` forgets an earlier body
        self.was_heredoc = false;
        let mut docs = Vec::new();
        for (i, r) in rs.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            if r.op == RedirOp::HereDoc {
                if let Some(v) = &r.var {
                    let _ = write!(self.out, "{{{v}}}");
                } else if let Some(fd) = r.fd.filter(|&f| f != 0) {
                    let _ = write!(self.out, "{fd}");
                }
                let (head, body) = heredoc_parts(&r.target);
                self.out.push_str(&head);
                docs.push(body);
            } else {
                self.redir(r);
            }
        }
        if !docs.is_empty() {
            if self.connection == 0 {
                self.bodies(&docs);
                self.was_heredoc = true;
            } else {
                self.deferred_docs.extend(docs);
            }
        }
    }

    fn redir(&mut self, r: &Redir) {
        let t = word_text(&r.target);
        let fd = r.fd;
        // `{name}>file`: the name stands where a number would
        if let Some(v) = &r.var {
            let _ = write!(self.out, "{{{v}}}");
        }
        let var = r.var.is_some();
        let num = |d: u32| {
            fd.filter(|&f| f != d)
                .map(|f| f.to_string())
                .unwrap_or_default()
        };
        let s = match r.op {
            RedirOp::In => format!("{}< {t}", num(0)),
            RedirOp::Out => format!("{}> {t}", num(1)),
            RedirOp::Clobber => format!("{}>| {t}", num(1)),
            RedirOp::Append => format!("{}>> {t}", num(1)),
            RedirOp::ReadWrite if var => format!("<> {t}"),
            RedirOp::ReadWrite => format!("{}<> {t}", fd.unwrap_or(0)),
            RedirOp::HereString => format!("{}<<< {t}", num(0)),
            RedirOp::OutErr => format!("&> {t}"),
            RedirOp::AppendOutErr => format!("&>> {t}"),
            RedirOp::OutProcess => format!("{}> {t}", num(1)),
            RedirOp::HereDoc => String::new(),
            RedirOp::DupOut | RedirOp::DupIn => {
                let out = r.op == RedirOp::DupOut;
                let n = fd.unwrap_or(if out { 1 } else { 0 });
                let d = if var { String::new() } else { n.to_string() };
                let arrow = if out { ">&" } else { "<&" };
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                match r.target.as_static() {
                    Some(s) if s == "-" => format!("{d}>&-"),
                    Some(s) if digits(&s) => format!("{d}{arrow}{s}"),
                    Some(s) if s.ends_with('-') && digits(&s[..s.len() - 1]) => {
                        format!("{d}{arrow}{s}")
                    }
                    // `>&$fd-` moves: bash names the descriptor
                    _ if !var && t.ends_with('-') => format!("{d}{arrow}{t}"),
                    _ if var || n == u32::from(out) => format!("{arrow}{t}"),
                    _ => format!("{d}{arrow}{t}"),
                }
            }
        };
        self.out.push_str(&s);
    }

    // `[[ … ]]`: the flat word list read back into its tree.

    fn cond_or(&mut self, ws: &[Word], i: &mut usize) {
        self.cond_and(ws, i);
        while is_op(ws, *i, "||") {
            *i += 1;
            self.out.push_str(" || ");
            self.cond_and(ws, i);
        }
    }

    fn cond_and(&mut self, ws: &[Word], i: &mut usize) {
        self.cond_term(ws, i);
        while is_op(ws, *i, "&&") {
            *i += 1;
            self.out.push_str(" && ");
            self.cond_term(ws, i);
        }
    }

    fn cond_term(&mut self, ws: &[Word], i: &mut usize) {
        let mut negate = false;
        while is_op(ws, *i, "!") {
            negate = !negate;
            *i += 1;
        }
        if negate {
            self.out.push_str("! ");
        }
        let Some(w) = ws.get(*i) else { return };
        if is_op(ws, *i, "(") {
            *i += 1;
            self.out.push_str("( ");
            self.cond_or(ws, i);
            if is_op(ws, *i, ")") {
                *i += 1;
            }
            self.out.push_str(" )");
            return;
        }
        *i += 1;
        let text = word_text(w);
        // a binary operator follows
        if let Some(op) = ws.get(*i).filter(|o| o.src.is_none())
            && let Some(s) = op.as_static()
            && !matches!(s.as_str(), "&&" | "||" | ")" | "(" | "!")
        {
            *i += 1;
            self.out.push_str(&text);
            self.out.push(' ');
            self.out.push_str(&s);
            self.out.push(' ');
            if let Some(r) = ws.get(*i) {
                *i += 1;
                self.out.push_str(&word_text(r));
            }
            return;
        }
        let unary = text.len() == 2
            && text.starts_with('-')
            && "abcdefghknoprstuvwxzGLNORS".contains(&text[1..]);
        if unary && let Some(arg) = ws.get(*i).filter(|a| a.src.is_some()) {
            *i += 1;
            self.out.push_str(&text);
            self.out.push(' ');
            self.out.push_str(&word_text(arg));
            return;
        }
        self.out.push_str("-n ");
        self.out.push_str(&text);
    }
}

/// Whether word `i` is the `[[ ]]` operator `op` (operators carry no source
/// text; an operand that reads `&&` was quoted and does).
fn is_op(ws: &[Word], i: usize, op: &str) -> bool {
    ws.get(i).is_some_and(|w| {
        w.src.is_none() && matches!(w.parts.as_slice(), [WordPart::Lit(s)] if s == op)
    })
}

/// The header (`<<EOF`) and the body with its delimiter of a here-document
/// target.
fn heredoc_parts(w: &Word) -> (String, String) {
    if let Some(s) = &w.src
        && let Some((head, body)) = s.split_once('\n')
    {
        return (head.to_string(), body.to_string());
    }
    // no recorded text: an unquoted body under a made-up delimiter
    let body = match w.parts.as_slice() {
        [WordPart::Quoted(b)] => b.clone(),
        [WordPart::Double(ps)] => ps.iter().map(part_text).collect(),
        _ => String::new(),
    };
    ("<<EOF".into(), format!("{body}EOF"))
}

/// The first line any command in `c` starts on.
fn first_line(c: &Cmd) -> Option<u32> {
    lines(c).map(|(a, _)| a)
}

/// The last line a command in `c` starts on.
/// The line of the last command of `c` that knows its line.
pub(crate) fn last_line(c: &Cmd) -> Option<u32> {
    lines(c).map(|(_, b)| b)
}

/// The first and last start lines of the commands in `c` (0: unknown).
fn lines(c: &Cmd) -> Option<(u32, u32)> {
    let mut lo = u32::MAX;
    let mut hi = 0;
    let mut visit = |l: u32| {
        if l > 0 {
            lo = lo.min(l);
            hi = hi.max(l);
        }
    };
    walk_lines(c, &mut visit);
    (hi > 0).then_some((lo, hi))
}

fn walk_lines(c: &Cmd, f: &mut dyn FnMut(u32)) {
    match c {
        Cmd::Simple(s) => f(s.line),
        Cmd::For(_, _, b, l) | Cmd::CFor(_, _, _, b, l) => {
            f(*l);
            walk_lines(b, f);
        }
        Cmd::Case(_, items, l) => {
            f(*l);
            items.iter().for_each(|i| walk_lines(&i.body, f));
        }
        Cmd::Arith(_, l) | Cmd::Cond(_, l) | Cmd::Decl(_, _, _, l) => f(*l),
        Cmd::Pipeline(v, _) | Cmd::Seq(v) => v.iter().for_each(|c| walk_lines(c, f)),
        Cmd::AndOr(a, rest) => {
            walk_lines(a, f);
            rest.iter().for_each(|(_, c)| walk_lines(c, f));
        }
        Cmd::Not(a) | Cmd::Background(a, _) | Cmd::Group(a) | Cmd::Subshell(a) => walk_lines(a, f),
        Cmd::Redirected(a, _) => walk_lines(a, f),
        Cmd::If(arms, els) => {
            for (a, b) in arms {
                walk_lines(a, f);
                walk_lines(b, f);
            }
            if let Some(e) = els {
                walk_lines(e, f);
            }
        }
        Cmd::While(a, b, _) => {
            walk_lines(a, f);
            walk_lines(b, f);
        }
        Cmd::FuncDef(_, b) => walk_lines(b, f),
        Cmd::Time { cmd, .. } => walk_lines(cmd, f),
        Cmd::Select { body, line, .. } => {
            f(*line);
            walk_lines(body, f);
        }
        Cmd::Empty => {}
    }
}

/// A command substitution's text as bash stores it: the commands
/// re-formatted on one line.
fn comsub_text(src: &str) -> Option<String> {
    let _rec = crate::parse::RecordGuard::enter();
    let script = crate::parse::parse_script(src).ok()?;
    let mut p = Printer::default();
    p.list(&script.items);
    Some(p.out)
}

/// A word as bash prints it in a function body.
pub fn word_text(w: &Word) -> String {
    match &w.src {
        Some(s) => source_word(s),
        None => w.parts.iter().map(part_text).collect(),
    }
}

/// A word's source text with `$'…'` decoded into single quotes, `$"…"` as
/// `"…"` and command substitutions re-formatted, as bash reads a word.
fn source_word(src: &str) -> String {
    if !src.contains(['$', '<', '>', '\n']) {
        return src.to_string();
    }
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    scan(&c, &mut i, &mut out, Mode::Top);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Unquoted, to the end.
    Top,
    /// Inside `"…"`, to the closing quote.
    Double,
    /// Inside `${…}`, to the closing brace.
    Brace,
}

/// Copies `c[*i..]` to `out` until the end of the mode's text, rewriting
/// `$'…'`, `$"…"` and substitutions.
fn scan(c: &[char], i: &mut usize, out: &mut String, mode: Mode) {
    let dq = mode == Mode::Double;
    while let Some(&ch) = c.get(*i) {
        match ch {
            // a line continuation is gone once the word is read
            '\\' if c.get(*i + 1) == Some(&'\n') => *i += 2,
            '\\' => {
                out.push(ch);
                if let Some(&n) = c.get(*i + 1) {
                    out.push(n);
                }
                *i += 2;
            }
            '"' if dq => {
                out.push(ch);
                *i += 1;
                return;
            }
            '}' if mode == Mode::Brace => {
                out.push(ch);
                *i += 1;
                return;
            }
            '"' => {
                out.push(ch);
                *i += 1;
                scan(c, i, out, Mode::Double);
            }
            '\'' if !dq => {
                let end = find(c, *i + 1, '\'');
                out.extend(&c[*i..end]);
                *i = end;
            }
            '`' => {
                let mut j = *i + 1;
                while j < c.len() && c[j] != '`' {
                    j += if c[j] == '\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(c.len());
                out.extend(&c[*i..end]);
                *i = end;
            }
            '$' if !dq && c.get(*i + 1) == Some(&'\'') => {
                let mut j = *i + 2;
                while j < c.len() && c[j] != '\'' {
                    j += if c[j] == '\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(c.len());
                let text: String = c[*i..end].iter().collect();
                match crate::word::lex_word(&text)
                    .ok()
                    .and_then(|w| w.as_static())
                {
                    Some(v) => out.push_str(&single_quote(&v)),
                    None => out.push_str(&text),
                }
                *i = end;
            }
            '$' if !dq && c.get(*i + 1) == Some(&'"') => {
                *i += 1;
            }
            '$' if c.get(*i + 1) == Some(&'{') => {
                out.push_str("${");
                *i += 2;
                scan(c, i, out, Mode::Brace);
            }
            '$' if c.get(*i + 1) == Some(&'(') && c.get(*i + 2) == Some(&'(') => {
                let end = arith_end(c, *i + 3);
                match end {
                    Some(e) => {
                        out.extend(&c[*i..e]);
                        *i = e;
                    }
                    None => subst(c, i, out, 2),
                }
            }
            '$' if c.get(*i + 1) == Some(&'(') => subst(c, i, out, 2),
            '<' | '>' if !dq && c.get(*i + 1) == Some(&'(') => subst(c, i, out, 2),
            _ => {
                out.push(ch);
                *i += 1;
            }
        }
    }
}

/// `s` single-quoted as bash's `sh_single_quote` does it (a lone `'` is
/// `\'`).
fn single_quote(s: &str) -> String {
    if s == "'" {
        return "\\'".to_string();
    }
    crate::trace::single_quote(s)
}

/// The index after the `close` at or after `from` (or the end).
fn find(c: &[char], from: usize, close: char) -> usize {
    let mut j = from;
    while j < c.len() && c[j] != close {
        j += 1;
    }
    (j + 1).min(c.len())
}

/// For `$((` whose text starts at `from`: the index after the closing
/// `))`, or `None` when a single `)` closes it (a command substitution).
fn arith_end(c: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = from;
    while j < c.len() {
        match c[j] {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ')' => return (c.get(j + 1) == Some(&')')).then_some(j + 2),
            '\\' => j += 1,
            '\'' | '"' => {
                let q = c[j];
                j += 1;
                while j < c.len() && c[j] != q {
                    j += 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// A substitution `$(…)`, `<(…)` or `>(…)` at `c[*i]` whose body starts at
/// `*i + open`: re-formatted from its parse, or copied when it does not
/// parse.
fn subst(c: &[char], i: &mut usize, out: &mut String, open: usize) {
    let start = *i + open;
    let Ok(close) = crate::parse::subst_end(c, start) else {
        out.extend(&c[*i..]);
        *i = c.len();
        return;
    };
    let inner: String = c[start..close].iter().collect();
    out.extend(&c[*i..start]);
    let text = comsub_text(&inner).unwrap_or(inner);
    // `$( (…))`, not the arithmetic `$((`
    if c[*i] == '$' && text.starts_with('(') {
        out.push(' ');
    }
    out.push_str(&text);
    out.push(')');
    *i = close + 1;
}

/// An arithmetic word without source text, rebuilt from its parts.
fn arith_parts(w: &Word) -> String {
    match w.parts.as_slice() {
        [WordPart::Double(ps)] => ps.iter().map(part_text).collect(),
        ps => ps.iter().map(part_text).collect(),
    }
}

/// A word part rebuilt as source (for words without recorded text).
fn part_text(p: &WordPart) -> String {
    match p {
        WordPart::Lit(s) => s.clone(),
        WordPart::Quoted(s) => single_quote(s),
        WordPart::Double(ps) => {
            let mut o = String::from("\"");
            for q in ps {
                match q {
                    WordPart::Lit(s) | WordPart::Quoted(s) => {
                        for ch in s.chars() {
                            if matches!(ch, '"' | '\\' | '$' | '`') {
                                o.push('\\');
                            }
                            o.push(ch);
                        }
                    }
                    other => o.push_str(&part_text(other)),
                }
            }
            o.push('"');
            o
        }
        WordPart::Param(pe) => param_text(pe),
        WordPart::CmdSub(s) => {
            let mut p = Printer::default();
            p.list(&s.items);
            format!("$({})", p.out)
        }
        WordPart::ProcSub(s) => {
            let mut p = Printer::default();
            p.list(&s.items);
            format!("<({})", p.out)
        }
        WordPart::OutProcSub(s) => {
            let mut p = Printer::default();
            p.list(&s.items);
            format!(">({})", p.out)
        }
        WordPart::Arith(w) => format!("$(({}))", arith_parts(w)),
    }
}

/// A parameter expansion rebuilt as source.
fn param_text(pe: &ParamExp) -> String {
    let plain = matches!(pe.op, ParamOp::Plain) && pe.index.is_none() && !pe.indirect;
    if plain && (pe.name.len() == 1 || !pe.name.bytes().all(|b| b.is_ascii_digit())) {
        return format!("${}", pe.name);
    }
    let mut o = String::from("${");
    if matches!(pe.op, ParamOp::Length) {
        o.push('#');
    }
    if pe.indirect {
        o.push('!');
    }
    o.push_str(&pe.name);
    if let Some(i) = &pe.index {
        o.push('[');
        o.push_str(&word_text(i));
        o.push(']');
    }
    let w = |w: &Word| word_text(w);
    let colon = |c: bool| if c { ":" } else { "" };
    match &pe.op {
        ParamOp::Plain | ParamOp::Length => {}
        ParamOp::Default(c, x) => o.push_str(&format!("{}-{}", colon(*c), w(x))),
        ParamOp::Assign(c, x) => o.push_str(&format!("{}={}", colon(*c), w(x))),
        ParamOp::Alt(c, x) => o.push_str(&format!("{}+{}", colon(*c), w(x))),
        ParamOp::Error(c, x) => o.push_str(&format!("{}?{}", colon(*c), w(x))),
        ParamOp::TrimPrefix(l, x) => {
            o.push_str(&format!("{}{}", if *l { "##" } else { "#" }, w(x)));
        }
        ParamOp::TrimSuffix(l, x) => {
            o.push_str(&format!("{}{}", if *l { "%%" } else { "%" }, w(x)));
        }
        ParamOp::Replace(m, p, r) => {
            let m = match m {
                ReplaceMode::First => "/",
                ReplaceMode::All => "//",
                ReplaceMode::Prefix => "/#",
                ReplaceMode::Suffix => "/%",
            };
            o.push_str(&format!("{m}{}/{}", w(p), w(r)));
        }
        ParamOp::Substr(off, len) => {
            o.push(':');
            o.push_str(&arith_parts(off));
            if let Some(l) = len {
                o.push(':');
                o.push_str(&arith_parts(l));
            }
        }
        ParamOp::Upper(all) => o.push_str(if *all { "^^" } else { "^" }),
        ParamOp::Lower(all) => o.push_str(if *all { ",," } else { "," }),
        ParamOp::Keys => o.push_str("[@]"),
        ParamOp::Transform(c) => {
            o.push('@');
            o.push(*c);
        }
        ParamOp::Bad(s) => return s.clone(),
    }
    o.push('}');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(src: &str) -> String {
        let script = crate::parse::parse_script(src).expect("parses");
        match &script.items[0] {
            Cmd::FuncDef(name, body) => print_function(name, body),
            other => panic!("not a function: {other:?}"),
        }
    }

    #[test]
    fn simple_body() {
        assert_eq!(
            show("f() { echo  'a  b' \"$x\"; ls >&2; }"),
            "f () \n{ \n    echo 'a  b' \"$x\";\n    ls 1>&2\n}"
        );
    }

    #[test]
    fn compound_commands() {
        assert_eq!(
            show("f() { if a; then b; else c; fi; while x; do y; done; }"),
            "f () \n{ \n    if a; then\n        b;\n    else\n        c;\n    fi;\n    while x; do\n        y;\n    done\n}"
        );
        assert_eq!(
            show("f() { x=$(  a ;  b  ); }"),
            "f () \n{ \n    x=$(a; b)\n}"
        );
    }
}
