//! tree-sitter-bash → [`Script`].
//!
//! Here-documents are cut out of the source before tree-sitter sees it (each
//! `<<EOF` becomes a placeholder `< __mirage_heredoc_N` redirect), because
//! tree-sitter-bash attaches them to the wrong node (a heredoc on the first
//! command of an `&&` list hangs off the list; `cat <<EOF | grep x && …`
//! nests the rest of the line inside the redirect).

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use tree_sitter::{Node, Parser};

use crate::ast::*;
use crate::word::{lex_heredoc, lex_word, lex_words};

/// A syntax error, worded as bash words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The message without the `bash: ` prefix, e.g.
    /// ``syntax error near unexpected token `fi'``.
    pub message: String,
}

impl SyntaxError {
    /// ``syntax error near unexpected token `TOKEN'``.
    pub fn near(token: &str) -> Self {
        SyntaxError { message: format!("syntax error near unexpected token `{token}'") }
    }
    /// An unterminated quote or construct.
    pub fn eof(what: &str) -> Self {
        SyntaxError { message: format!("unexpected EOF while looking for matching `{what}'") }
    }
    /// `${…}` that bash rejects.
    pub fn bad_subst() -> Self {
        SyntaxError { message: "bad substitution".into() }
    }
    /// A construct we parse but do not run.
    pub fn unsupported(what: &str) -> Self {
        SyntaxError { message: format!("unsupported: {what}") }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// The result of parsing a whole input the way bash reads it: the complete
/// commands before the first syntax error run, then the error is reported.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The commands that parsed.
    pub script: Script,
    /// The first syntax error, if any.
    pub error: Option<SyntaxError>,
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

fn with_parser<T>(f: impl FnOnce(&mut Parser) -> T) -> Result<T, SyntaxError> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            let lang: tree_sitter::Language = tree_sitter_bash::LANGUAGE.into();
            p.set_language(&lang).map_err(|e| SyntaxError { message: format!("parser: {e}") })?;
            *slot = Some(p);
        }
        match slot.as_mut() {
            Some(p) => Ok(f(p)),
            None => Err(SyntaxError { message: "parser unavailable".into() }),
        }
    })
}

/// Parses an input like `bash -c`: on a syntax error, the complete lines
/// before it are still returned to run.
pub fn parse_input(src: &str) -> Parsed {
    match parse_script(src) {
        Ok(script) => Parsed { script, error: None },
        Err(error) => {
            // Run the complete commands before the error, as bash does: the
            // longest prefix ending at a newline that parses on its own.
            let mut script = Script::default();
            for (i, _) in src.match_indices('\n').collect::<Vec<_>>().into_iter().rev() {
                if let Ok(s) = parse_script(&src[..i]) {
                    script = s;
                    break;
                }
            }
            Parsed { script, error: Some(error) }
        }
    }
}

/// Parses a complete script; any syntax error fails the whole parse.
pub fn parse_script(src: &str) -> Result<Script, SyntaxError> {
    let (body, docs) = extract_heredocs(src)?;
    let tree = with_parser(|p| p.parse(&body, None))?.ok_or_else(|| SyntaxError::near("newline"))?;
    let root = tree.root_node();
    if root.has_error() {
        return Err(describe_error(root, &body));
    }
    let cv = Conv { src: &body, docs: &docs };
    let items = cv.stmts(root)?;
    Ok(Script { items })
}

fn first_error(n: Node) -> Option<Node> {
    if n.is_error() || n.is_missing() {
        return Some(n);
    }
    let mut c = n.walk();
    for ch in n.children(&mut c) {
        if ch.has_error() {
            if let Some(e) = first_error(ch) {
                return Some(e);
            }
        }
    }
    None
}

fn describe_error(root: Node, src: &str) -> SyntaxError {
    let Some(err) = first_error(root) else { return SyntaxError::near("newline") };
    if err.is_missing() {
        let k = err.kind();
        if k == "\"" || k == "'" || k == "`" {
            return SyntaxError::eof(k);
        }
        return SyntaxError { message: "syntax error: unexpected end of file".into() };
    }
    // The offending token: the first leaf of the ERROR node that is a keyword
    // or operator bash would name.
    let mut leaf = err;
    while let Some(ch) = leaf.child(0) {
        leaf = ch;
    }
    let mut tok = src[leaf.byte_range()].to_string();
    let err_text = &src[err.byte_range()];
    for kw in ["fi", "then", "done", "do", "esac", "else", "elif", "}", ")", ";;", "|", "&&", "||", ";"] {
        if err_text.trim_start().starts_with(kw) {
            tok = kw.to_string();
            break;
        }
    }
    if err.end_byte() >= src.trim_end().len() && tok.is_empty() {
        return SyntaxError { message: "syntax error: unexpected end of file".into() };
    }
    if tok.trim().is_empty() {
        tok = "newline".into();
    }
    SyntaxError::near(tok.trim())
}

struct Heredoc {
    body: String,
    quoted: bool,
}

/// Cuts here-document bodies out of `src`, replacing `<<[-]DELIM` with a
/// placeholder redirect. Returns the new source and the bodies.
fn extract_heredocs(src: &str) -> Result<(String, Vec<Heredoc>), SyntaxError> {
    if !src.contains("<<") {
        return Ok((src.to_string(), Vec::new()));
    }
    let mut out = String::with_capacity(src.len());
    let mut docs: Vec<Heredoc> = Vec::new();
    let lines: Vec<&str> = src.split_inclusive('\n').collect();
    let mut li = 0;
    let mut in_single = false;
    let mut in_double = false;
    while li < lines.len() {
        let line = lines[li];
        li += 1;
        let chars: Vec<char> = line.chars().collect();
        let mut pending: Vec<(String, bool, bool)> = Vec::new(); // (delim, strip tabs, quoted)
        let mut i = 0;
        let mut arith = 0i32;
        while i < chars.len() {
            let c = chars[i];
            if in_single {
                if c == '\'' {
                    in_single = false;
                }
                out.push(c);
                i += 1;
                continue;
            }
            if c == '\\' && i + 1 < chars.len() {
                out.push(c);
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if in_double {
                if c == '"' {
                    in_double = false;
                }
                out.push(c);
                i += 1;
                continue;
            }
            match c {
                '\'' => in_single = true,
                '"' => in_double = true,
                '#' if i == 0 || chars[i - 1].is_whitespace() => {
                    // a comment: copy the rest of the line
                    out.extend(chars[i..].iter());
                    break;
                }
                '(' if chars.get(i + 1) == Some(&'(') => {
                    arith += 1;
                    out.push_str("((");
                    i += 2;
                    continue;
                }
                ')' if chars.get(i + 1) == Some(&')') && arith > 0 => {
                    arith -= 1;
                    out.push_str("))");
                    i += 2;
                    continue;
                }
                '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) == Some(&'<') => {
                    out.push_str("<<<");
                    i += 3;
                    continue;
                }
                '<' if arith == 0 && chars.get(i + 1) == Some(&'<') => {
                    let mut j = i + 2;
                    let strip = chars.get(j) == Some(&'-');
                    if strip {
                        j += 1;
                    }
                    while j < chars.len() && (chars[j] == ' ' || chars[j] == '\t') {
                        j += 1;
                    }
                    let mut delim = String::new();
                    let mut quoted = false;
                    while j < chars.len() && !matches!(chars[j], ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')') {
                        match chars[j] {
                            '\'' | '"' => {
                                quoted = true;
                                let q = chars[j];
                                j += 1;
                                while j < chars.len() && chars[j] != q {
                                    delim.push(chars[j]);
                                    j += 1;
                                }
                                j += 1;
                            }
                            '\\' => {
                                quoted = true;
                                if let Some(&n) = chars.get(j + 1) {
                                    delim.push(n);
                                }
                                j += 2;
                            }
                            ch => {
                                delim.push(ch);
                                j += 1;
                            }
                        }
                    }
                    if delim.is_empty() {
                        return Err(SyntaxError::near("newline"));
                    }
                    out.push_str(&format!("< __mirage_heredoc_{}", docs.len() + pending.len()));
                    pending.push((delim, strip, quoted));
                    i = j;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            i += 1;
        }
        for (delim, strip, quoted) in pending {
            let mut body = String::new();
            let mut found = false;
            while li < lines.len() {
                let l = lines[li];
                li += 1;
                let content = l.strip_suffix('\n').unwrap_or(l);
                let content = if strip { content.trim_start_matches('\t') } else { content };
                if content == delim {
                    found = true;
                    break;
                }
                body.push_str(content);
                body.push('\n');
            }
            // bash warns and uses what it read when the delimiter is missing.
            let _ = found;
            docs.push(Heredoc { body, quoted });
        }
    }
    Ok((out, docs))
}

struct Conv<'a> {
    src: &'a str,
    docs: &'a [Heredoc],
}

type Res<T> = Result<T, SyntaxError>;

fn named_children(n: Node) -> Vec<Node> {
    let mut c = n.walk();
    n.children(&mut c).collect()
}

impl<'a> Conv<'a> {
    fn text(&self, n: Node) -> &'a str {
        &self.src[n.byte_range()]
    }

    /// Statements among the children of `n` (skipping keywords and separators).
    fn stmts(&self, n: Node) -> Res<Vec<Cmd>> {
        self.stmts_of(&named_children(n))
    }

    fn stmts_of(&self, kids: &[Node]) -> Res<Vec<Cmd>> {
        let mut out = Vec::new();
        for (i, ch) in kids.iter().enumerate() {
            if !ch.is_named() || ch.kind() == "comment" {
                continue;
            }
            let cmd = self.stmt(*ch)?;
            let bg = kids.get(i + 1).is_some_and(|n| !n.is_named() && n.kind() == "&");
            out.push(if bg { Cmd::Background(Box::new(cmd)) } else { cmd });
        }
        Ok(out)
    }

    fn seq(&self, kids: &[Node]) -> Res<Cmd> {
        let mut v = self.stmts_of(kids)?;
        Ok(if v.len() == 1 { v.pop().unwrap_or(Cmd::Empty) } else { Cmd::Seq(v) })
    }

    fn stmt(&self, n: Node) -> Res<Cmd> {
        match n.kind() {
            "command" => self.command(n),
            "redirected_statement" => self.redirected(n),
            "pipeline" => {
                let kids = named_children(n);
                let mut cmds = Vec::new();
                let mut stderr = Vec::new();
                let mut next_err = false;
                for ch in kids {
                    if ch.is_named() {
                        if ch.kind() == "comment" {
                            continue;
                        }
                        cmds.push(self.stmt(ch)?);
                        stderr.push(false);
                    } else if ch.kind() == "|&" {
                        next_err = true;
                        if let Some(last) = stderr.last_mut() {
                            *last = true;
                        }
                    }
                }
                let _ = next_err;
                Ok(Cmd::Pipeline(cmds, stderr))
            }
            "list" => {
                let kids: Vec<Node> = named_children(n).into_iter().filter(|k| k.kind() != "comment").collect();
                let (Some(l), Some(op), Some(r)) = (kids.first(), kids.get(1), kids.last()) else {
                    return Err(SyntaxError::near(self.text(n)));
                };
                let (l, r) = (Box::new(self.stmt(*l)?), Box::new(self.stmt(*r)?));
                Ok(if op.kind() == "||" { Cmd::Or(l, r) } else { Cmd::And(l, r) })
            }
            "negated_command" => {
                let inner = named_children(n).into_iter().find(|k| k.is_named()).ok_or_else(|| SyntaxError::near("!"))?;
                Ok(Cmd::Not(Box::new(self.stmt(inner)?)))
            }
            "subshell" => Ok(Cmd::Subshell(Box::new(self.seq(&named_children(n))?))),
            "compound_statement" => {
                let kids = named_children(n);
                if kids.first().is_some_and(|k| k.kind() == "((") {
                    return Ok(Cmd::Arith(self.arith_inner(n)?));
                }
                Ok(Cmd::Group(Box::new(self.seq(&kids)?)))
            }
            "do_group" => self.seq(&named_children(n)),
            "if_statement" => self.if_stmt(n),
            "for_statement" => self.for_stmt(n),
            "c_style_for_statement" => self.cfor(n),
            "while_statement" => {
                let kids = named_children(n);
                let until = kids.first().is_some_and(|k| k.kind() == "until");
                let body_node = n.child_by_field_name("body").ok_or_else(|| SyntaxError::near("done"))?;
                let cond_nodes: Vec<Node> = kids
                    .iter()
                    .copied()
                    .filter(|k| k.start_byte() < body_node.start_byte() && k.kind() != "while" && k.kind() != "until")
                    .collect();
                let cond = self.seq(&cond_nodes)?;
                let body = self.stmt(body_node)?;
                Ok(Cmd::While(Box::new(cond), Box::new(body), until))
            }
            "case_statement" => self.case(n),
            "function_definition" => {
                let name = n
                    .child_by_field_name("name")
                    .map(|k| self.text(k).to_string())
                    .ok_or_else(|| SyntaxError::near("("))?;
                let body = n.child_by_field_name("body").ok_or_else(|| SyntaxError::near("}"))?;
                let mut body_cmd = self.stmt(body)?;
                // trailing redirects on the definition apply on each call
                let redirs: Vec<Redir> = named_children(n)
                    .into_iter()
                    .filter(|k| k.start_byte() > body.start_byte() && k.kind().ends_with("redirect"))
                    .map(|k| self.redirect(k))
                    .collect::<Res<_>>()?;
                if !redirs.is_empty() {
                    body_cmd = Cmd::Redirected(Box::new(body_cmd), redirs);
                }
                Ok(Cmd::FuncDef(name, Arc::new(body_cmd)))
            }
            "declaration_command" => {
                let kids = named_children(n);
                let kw = kids.first().map(|k| self.text(*k).to_string()).unwrap_or_default();
                let mut args = Vec::new();
                for k in kids.iter().skip(1) {
                    if !k.is_named() || k.kind() == "comment" {
                        continue;
                    }
                    if k.kind() == "variable_assignment" {
                        args.push(DeclArg::Assign(self.assign(*k)?));
                    } else {
                        args.push(DeclArg::Word(lex_word(self.text(*k))?));
                    }
                }
                Ok(Cmd::Decl(kw, args, Vec::new()))
            }
            "unset_command" => {
                let mut words = vec![Word::lit("unset")];
                for k in named_children(n).into_iter().skip(1) {
                    if k.is_named() {
                        words.push(lex_word(self.text(k))?);
                    }
                }
                Ok(Cmd::Simple(Simple { assigns: vec![], words, redirs: vec![] }))
            }
            "test_command" => {
                let t = self.text(n).trim();
                if let Some(inner) = t.strip_prefix("[[").and_then(|s| s.strip_suffix("]]")) {
                    Ok(Cmd::Cond(lex_words(inner)?))
                } else if t.starts_with("((") {
                    Ok(Cmd::Arith(self.arith_inner(n)?))
                } else {
                    Ok(Cmd::Simple(Simple { assigns: vec![], words: lex_words(t)?, redirs: vec![] }))
                }
            }
            "variable_assignment" => Ok(Cmd::Simple(Simple { assigns: vec![self.assign(n)?], words: vec![], redirs: vec![] })),
            "variable_assignments" => {
                let assigns = named_children(n)
                    .into_iter()
                    .filter(|k| k.kind() == "variable_assignment")
                    .map(|k| self.assign(k))
                    .collect::<Res<_>>()?;
                Ok(Cmd::Simple(Simple { assigns, words: vec![], redirs: vec![] }))
            }
            "comment" => Ok(Cmd::Empty),
            "file_redirect" | "herestring_redirect" => {
                Ok(Cmd::Simple(Simple { assigns: vec![], words: vec![], redirs: vec![self.redirect(n)?] }))
            }
            other => Err(SyntaxError::unsupported(&format!("{other} `{}'", self.text(n)))),
        }
    }

    fn arith_inner(&self, n: Node) -> Res<Word> {
        let t = self.text(n).trim();
        let inner = t.strip_prefix("((").and_then(|s| s.strip_suffix("))")).unwrap_or(t);
        lex_heredoc(inner)
    }

    fn command(&self, n: Node) -> Res<Cmd> {
        if let Some(name) = n.child_by_field_name("name") {
            let t = self.text(name);
            if matches!(t, "done" | "fi" | "then" | "else" | "elif" | "esac" | "do" | "}" | "in") {
                return Err(SyntaxError::near(t));
            }
        }
        let mut s = Simple::default();
        for (i, ch) in named_children(n).into_iter().enumerate() {
            let field = n.field_name_for_child(i as u32);
            match (ch.kind(), field) {
                ("variable_assignment", _) => s.assigns.push(self.assign(ch)?),
                ("comment", _) => {}
                (_, Some("redirect")) => s.redirs.push(self.redirect(ch)?),
                (k, _) if k.ends_with("redirect") => s.redirs.push(self.redirect(ch)?),
                (_, Some("name")) | (_, Some("argument")) => s.words.push(lex_word(self.text(ch))?),
                _ if ch.is_named() => s.words.push(lex_word(self.text(ch))?),
                _ => {}
            }
        }
        Ok(Cmd::Simple(s))
    }

    fn redirected(&self, n: Node) -> Res<Cmd> {
        let mut body: Option<Cmd> = None;
        let mut redirs = Vec::new();
        for (i, ch) in named_children(n).into_iter().enumerate() {
            let field = n.field_name_for_child(i as u32);
            if field == Some("redirect") || ch.kind().ends_with("redirect") {
                redirs.push(self.redirect(ch)?);
            } else if ch.is_named() && ch.kind() != "comment" {
                body = Some(self.stmt(ch)?);
            }
        }
        match body {
            Some(Cmd::Simple(mut s)) => {
                s.redirs.extend(redirs);
                Ok(Cmd::Simple(s))
            }
            Some(Cmd::Decl(k, a, mut r)) => {
                r.extend(redirs);
                Ok(Cmd::Decl(k, a, r))
            }
            Some(other) => Ok(Cmd::Redirected(Box::new(other), redirs)),
            None => Ok(Cmd::Simple(Simple { assigns: vec![], words: vec![], redirs })),
        }
    }

    fn redirect(&self, n: Node) -> Res<Redir> {
        let kids = named_children(n);
        let mut fd: Option<u32> = None;
        let mut op_text = String::new();
        let mut target_text: Option<&str> = None;
        let mut target_start = None;
        for (i, ch) in kids.iter().enumerate() {
            let field = n.field_name_for_child(i as u32);
            if field == Some("descriptor") || ch.kind() == "file_descriptor" {
                fd = self.text(*ch).parse().ok();
            } else if !ch.is_named() {
                if target_start.is_none() {
                    op_text.push_str(ch.kind());
                }
            } else if target_start.is_none() {
                target_start = Some(ch.start_byte());
            }
        }
        if let Some(start) = target_start {
            target_text = Some(self.src[start..n.end_byte()].trim());
        }
        let target_text = target_text.unwrap_or("");
        if n.kind() == "herestring_redirect" {
            return Ok(Redir { fd, op: RedirOp::HereString, target: lex_word(target_text)? });
        }
        if n.kind() == "heredoc_redirect" {
            return Err(SyntaxError::unsupported("here-document"));
        }
        if op_text == "<" {
            if let Some(idx) = target_text.strip_prefix("__mirage_heredoc_") {
                let i: usize = idx.parse().map_err(|_| SyntaxError::near("<<"))?;
                let doc = self.docs.get(i).ok_or_else(|| SyntaxError::near("<<"))?;
                let target = if doc.quoted { Word::quoted(doc.body.clone()) } else { lex_heredoc(&doc.body)? };
                return Ok(Redir { fd, op: RedirOp::HereDoc, target });
            }
        }
        let target = lex_word(target_text)?;
        let is_num = !target_text.is_empty() && (target_text.bytes().all(|b| b.is_ascii_digit()) || target_text == "-");
        let op = match op_text.as_str() {
            ">" => RedirOp::Out,
            ">|" => RedirOp::Clobber,
            ">>" => RedirOp::Append,
            "<" => RedirOp::In,
            "&>" => RedirOp::OutErr,
            "&>>" => RedirOp::AppendOutErr,
            ">&" if is_num => RedirOp::DupOut,
            ">&" => RedirOp::OutErr,
            "<&" => RedirOp::DupIn,
            "<>" => RedirOp::ReadWrite,
            other => return Err(SyntaxError::unsupported(&format!("redirection `{other}'"))),
        };
        Ok(Redir { fd, op, target })
    }

    fn assign(&self, n: Node) -> Res<Assign> {
        let kids = named_children(n);
        let name_node = kids.first().ok_or_else(|| SyntaxError::near("="))?;
        let (name, index) = if name_node.kind() == "subscript" {
            let t = self.text(*name_node);
            let (nm, rest) = t.split_once('[').unwrap_or((t, "]"));
            let idx = rest.strip_suffix(']').unwrap_or(rest);
            (nm.to_string(), Some(lex_word(idx)?))
        } else {
            (self.text(*name_node).to_string(), None)
        };
        let op = kids.get(1).map(|k| k.kind()).unwrap_or("=");
        let append = op == "+=";
        let value_start = kids.get(1).map(|k| k.end_byte()).unwrap_or(n.end_byte());
        let value_node = kids.get(2);
        let value = match value_node {
            Some(v) if v.kind() == "array" => {
                let mut items = Vec::new();
                for k in named_children(*v) {
                    if k.is_named() && k.kind() != "comment" {
                        items.push(lex_word(self.text(k))?);
                    }
                }
                AssignValue::Array(items)
            }
            _ => AssignValue::Scalar(lex_word(&self.src[value_start..n.end_byte()])?),
        };
        Ok(Assign { name, index, append, value })
    }

    fn if_stmt(&self, n: Node) -> Res<Cmd> {
        let mut arms = Vec::new();
        let mut else_part = None;
        let mut cond: Vec<Node> = Vec::new();
        let mut body: Vec<Node> = Vec::new();
        let mut in_body = false;
        let mut flat: Vec<Node> = Vec::new();
        for k in named_children(n) {
            match k.kind() {
                "elif_clause" => flat.extend(named_children(k)),
                "else_clause" => {
                    let kids: Vec<Node> = named_children(k).into_iter().filter(|c| c.kind() != "else").collect();
                    else_part = Some(Box::new(self.seq(&kids)?));
                }
                _ => flat.push(k),
            }
        }
        for k in flat {
            match k.kind() {
                "if" | "fi" => {}
                "elif" => {
                    arms.push((self.seq(&cond)?, self.seq(&body)?));
                    cond.clear();
                    body.clear();
                    in_body = false;
                }
                "then" => in_body = true,
                _ if in_body => body.push(k),
                _ => cond.push(k),
            }
        }
        arms.push((self.seq(&cond)?, self.seq(&body)?));
        Ok(Cmd::If(arms, else_part))
    }

    fn for_stmt(&self, n: Node) -> Res<Cmd> {
        let kids = named_children(n);
        if kids.first().is_some_and(|k| k.kind() == "select") {
            return Err(SyntaxError::unsupported("select"));
        }
        let var = n.child_by_field_name("variable").map(|k| self.text(k).to_string()).unwrap_or_default();
        let body = n.child_by_field_name("body").ok_or_else(|| SyntaxError::near("done"))?;
        let has_in = kids.iter().any(|k| k.kind() == "in");
        let mut words = Vec::new();
        for (i, k) in kids.iter().enumerate() {
            if n.field_name_for_child(i as u32) == Some("value") {
                words.push(lex_word(self.text(*k))?);
            }
        }
        Ok(Cmd::For(var, if has_in { Some(words) } else { None }, Box::new(self.stmt(body)?)))
    }

    fn cfor(&self, n: Node) -> Res<Cmd> {
        let kids = named_children(n);
        let open = kids.iter().find(|k| k.kind() == "((").ok_or_else(|| SyntaxError::near("(("))?;
        let close = kids.iter().find(|k| k.kind() == "))").ok_or_else(|| SyntaxError::near("))"))?;
        let inner = &self.src[open.end_byte()..close.start_byte()];
        let parts: Vec<&str> = inner.splitn(3, ';').collect();
        let part = |i: usize| -> Res<Option<Word>> {
            match parts.get(i).map(|s| s.trim()) {
                Some(s) if !s.is_empty() => Ok(Some(lex_heredoc(s)?)),
                _ => Ok(None),
            }
        };
        let body = n.child_by_field_name("body").ok_or_else(|| SyntaxError::near("done"))?;
        Ok(Cmd::CFor(part(0)?, part(1)?, part(2)?, Box::new(self.stmt(body)?)))
    }

    fn case(&self, n: Node) -> Res<Cmd> {
        let kids = named_children(n);
        let value = n
            .child_by_field_name("value")
            .or_else(|| kids.iter().copied().find(|k| k.is_named() && k.kind() != "case_item"))
            .ok_or_else(|| SyntaxError::near("in"))?;
        let word = lex_word(self.text(value))?;
        let mut items = Vec::new();
        for item in kids.iter().filter(|k| k.kind() == "case_item") {
            let ikids = named_children(*item);
            let mut patterns = Vec::new();
            let mut body_nodes = Vec::new();
            let mut after_paren = false;
            let mut term = CaseTerm::Break;
            for (i, k) in ikids.iter().enumerate() {
                let field = item.field_name_for_child(i as u32);
                match k.kind() {
                    ")" if !after_paren => after_paren = true,
                    ";;" => term = CaseTerm::Break,
                    ";&" => term = CaseTerm::FallThrough,
                    ";;&" => term = CaseTerm::Continue,
                    "|" | "(" if !after_paren => {}
                    _ if !after_paren && (field == Some("value") || k.is_named()) => patterns.push(lex_word(self.text(*k))?),
                    _ if after_paren => body_nodes.push(*k),
                    _ => {}
                }
            }
            items.push(CaseItem { patterns, body: self.seq(&body_nodes)?, term });
        }
        Ok(Cmd::Case(word, items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_on_first_command_of_and_list() {
        let s = parse_script("cat <<EOF | grep x && echo ok\na x\nEOF\necho after").unwrap();
        assert_eq!(s.items.len(), 2);
        let Cmd::And(l, _) = &s.items[0] else { panic!("{:?}", s.items[0]) };
        let Cmd::Pipeline(stages, _) = &**l else { panic!("{l:?}") };
        let Cmd::Simple(cat) = &stages[0] else { panic!() };
        assert_eq!(cat.redirs[0].op, RedirOp::HereDoc);
    }

    #[test]
    fn syntax_error_names_token() {
        let p = parse_input("echo first\nif true; then echo x; fi fi\n");
        assert_eq!(p.script.items.len(), 1);
        let e = p.error.unwrap();
        assert!(e.message.contains("syntax error"), "{e}");
    }

    #[test]
    fn structures() {
        let s = parse_script("for i in a b; do echo $i; done; while false; do :; done; case x in a|b) echo;; esac").unwrap();
        assert!(matches!(s.items[0], Cmd::For(..)));
        assert!(matches!(s.items[1], Cmd::While(..)));
        assert!(matches!(s.items[2], Cmd::Case(..)));
    }
}
