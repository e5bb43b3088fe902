//! `test`, `[` and `[[ … ]]` (bash 5.2 "Bash Conditional Expressions").

use mirage_types::{FileType, Vfs};

use crate::ast::Word;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// Evaluates `test ARGS…` (already expanded, without a closing `]`).
/// Returns 0 (true), 1 (false) or 2 (usage error, message printed).
pub async fn test(vfs: &dyn Vfs, st: &ShellState, args: &[String], io: &Io, name: &str) -> i32 {
    let mut p = TestP {
        args,
        pos: 0,
        vfs,
        st,
    };
    match p.expr_top().await {
        Ok(v) => {
            if p.pos < args.len() {
                io.err(&format!("{}{name}: too many arguments\n", st.diag()))
                    .await;
                return 2;
            }
            if v { 0 } else { 1 }
        }
        Err(msg) => {
            io.err(&format!("{}{name}: {msg}\n", st.diag())).await;
            2
        }
    }
}

struct TestP<'a> {
    args: &'a [String],
    pos: usize,
    vfs: &'a dyn Vfs,
    st: &'a ShellState,
}

const UNARY: &[&str] = &[
    "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-z", "-n", "-b", "-c", "-p", "-S", "-g",
    "-u", "-k", "-O", "-G", "-N", "-t", "-v", "-a",
];
const BINARY: &[&str] = &[
    "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef", "=~",
];

impl<'a> TestP<'a> {
    fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(std::string::String::as_str)
    }
    async fn expr_top(&mut self) -> Result<bool, String> {
        // POSIX rules by argument count
        let n = self.args.len();
        match n {
            0 => return Ok(false),
            1 => {
                self.pos = 1;
                return Ok(!self.args[0].is_empty());
            }
            2 if self.args[0] == "!" => {
                self.pos = 2;
                return Ok(self.args[1].is_empty());
            }
            2 if UNARY.contains(&self.args[0].as_str()) => {}
            2 => return Err(format!("{}: unary operator expected", self.args[0])),
            3 if BINARY.contains(&self.args[1].as_str()) => {
                self.pos = 3;
                return self
                    .binary(
                        &self.args[0].clone(),
                        &self.args[1].clone(),
                        &self.args[2].clone(),
                    )
                    .await;
            }
            _ => {}
        }
        self.or().await
    }
    fn or(&mut self) -> futures::future::BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            let mut v = self.and().await?;
            while self.peek() == Some("-o") {
                self.pos += 1;
                let r = self.and().await?;
                v = v || r;
            }
            Ok(v)
        })
    }
    async fn and(&mut self) -> Result<bool, String> {
        let mut v = self.not().await?;
        while self.peek() == Some("-a") {
            self.pos += 1;
            let r = self.not().await?;
            v = v && r;
        }
        Ok(v)
    }
    fn not(&mut self) -> futures::future::BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            if self.peek() == Some("!") {
                self.pos += 1;
                return Ok(!self.not().await?);
            }
            self.primary().await
        })
    }
    async fn primary(&mut self) -> Result<bool, String> {
        let Some(a) = self.peek().map(str::to_string) else {
            return Err("argument expected".into());
        };
        if a == "(" {
            self.pos += 1;
            let v = self.or().await?;
            if self.peek() != Some(")") {
                return Err("`)' expected".into());
            }
            self.pos += 1;
            return Ok(v);
        }
        if let (Some(op), Some(b)) = (self.args.get(self.pos + 1), self.args.get(self.pos + 2))
            && BINARY.contains(&op.as_str())
        {
            let (op, b) = (op.clone(), b.clone());
            self.pos += 3;
            return self.binary(&a, &op, &b).await;
        }
        if UNARY.contains(&a.as_str()) && self.pos + 1 < self.args.len() {
            let operand = self.args[self.pos + 1].clone();
            self.pos += 2;
            return Ok(unary(self.vfs, self.st, &a, &operand).await);
        }
        self.pos += 1;
        Ok(!a.is_empty())
    }
    async fn binary(&mut self, a: &str, op: &str, b: &str) -> Result<bool, String> {
        binary(a, op, b, false)
    }
}

fn int(s: &str) -> Result<i64, String> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| format!("{s}: integer expression expected"))
}

fn binary(a: &str, op: &str, b: &str, in_cond: bool) -> Result<bool, String> {
    Ok(match op {
        "=" | "==" => {
            if in_cond {
                crate::pattern::matches(b, a)
            } else {
                a == b
            }
        }
        "!=" => {
            if in_cond {
                !crate::pattern::matches(b, a)
            } else {
                a != b
            }
        }
        "<" => mirage_types::bytestr::cmp(a, b).is_lt(),
        ">" => mirage_types::bytestr::cmp(a, b).is_gt(),
        "-eq" => int(a)? == int(b)?,
        "-ne" => int(a)? != int(b)?,
        "-lt" => int(a)? < int(b)?,
        "-le" => int(a)? <= int(b)?,
        "-gt" => int(a)? > int(b)?,
        "-ge" => int(a)? >= int(b)?,
        "=~" => match regex::Regex::new(b) {
            Ok(re) => re.is_match(a),
            Err(_) => return Err("invalid regular expression".into()),
        },
        "-nt" | "-ot" | "-ef" => false,
        _ => return Err(format!("{op}: binary operator expected")),
    })
}

async fn unary(vfs: &dyn Vfs, st: &ShellState, op: &str, operand: &str) -> bool {
    match op {
        "-z" => operand.is_empty(),
        "-n" => !operand.is_empty(),
        "-v" => st.vars.contains_key(operand),
        "-t" => false,
        _ => {
            if operand.is_empty() {
                return false;
            }
            let path = mirage_types::join_path(&st.cwd, operand);
            // -L/-h look at the link itself (lstat); every other test follows it.
            let stat = if matches!(op, "-L" | "-h") {
                vfs.lstat(&path).await
            } else {
                vfs.stat(&path).await
            };
            let Ok(stat) = stat else { return false };
            match op {
                "-e" | "-a" => true,
                "-f" => stat.file_type == FileType::File,
                "-d" => stat.file_type == FileType::Directory,
                "-L" | "-h" => stat.file_type == FileType::Symlink,
                "-s" => stat.size > 0 || stat.is_dir(),
                "-r" => true,
                "-w" => vfs.mount_of(&path).is_some_and(|m| m.mode.allows_write()),
                "-x" => stat.is_dir() || stat.mode.is_some_and(|m| m & 0o111 != 0),
                _ => false,
            }
        }
    }
}

/// `[[ … ]]`: words are expanded without splitting or globbing; the right
/// side of `==`/`!=` is a pattern and of `=~` a regex (quoted parts literal).
pub async fn cond(interp: &Interp, words: &[Word], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut p = CondP { words, pos: 0 };
    let tree = match p.or() {
        Ok(t) if p.pos == words.len() => t,
        _ => {
            io.err(&format!(
                "{}syntax error in conditional expression\n",
                st.diag()
            ))
            .await;
            return Ok(2);
        }
    };
    match eval_cond(interp, &tree, st, io).await? {
        Ok(v) => Ok(if v { 0 } else { 1 }),
        Err(msg) => {
            io.err(&format!("{}{msg}\n", st.diag())).await;
            Ok(2)
        }
    }
}

enum CondNode<'a> {
    And(Box<CondNode<'a>>, Box<CondNode<'a>>),
    Or(Box<CondNode<'a>>, Box<CondNode<'a>>),
    Not(Box<CondNode<'a>>),
    Unary(String, &'a Word),
    Binary(&'a Word, String, &'a Word),
    Single(&'a Word),
}

struct CondP<'a> {
    words: &'a [Word],
    pos: usize,
}

impl<'a> CondP<'a> {
    fn tok(&self, i: usize) -> Option<String> {
        self.words
            .get(i)
            .and_then(|w| if w.has_quotes() { None } else { w.as_static() })
    }
    fn or(&mut self) -> Result<CondNode<'a>, ()> {
        let mut l = self.and()?;
        while self.tok(self.pos).as_deref() == Some("||") {
            self.pos += 1;
            let r = self.and()?;
            l = CondNode::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<CondNode<'a>, ()> {
        let mut l = self.not()?;
        while self.tok(self.pos).as_deref() == Some("&&") {
            self.pos += 1;
            let r = self.not()?;
            l = CondNode::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<CondNode<'a>, ()> {
        if self.tok(self.pos).as_deref() == Some("!") {
            self.pos += 1;
            return Ok(CondNode::Not(Box::new(self.not()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<CondNode<'a>, ()> {
        let t = self.tok(self.pos);
        if t.as_deref() == Some("(") {
            self.pos += 1;
            let e = self.or()?;
            if self.tok(self.pos).as_deref() != Some(")") {
                return Err(());
            }
            self.pos += 1;
            return Ok(e);
        }
        let w = self.words.get(self.pos).ok_or(())?;
        if let Some(op) = self.tok(self.pos + 1)
            && BINARY.contains(&op.as_str())
        {
            let r = self.words.get(self.pos + 2).ok_or(())?;
            self.pos += 3;
            return Ok(CondNode::Binary(w, op, r));
        }
        if let Some(op) = t
            && UNARY.contains(&op.as_str())
            && self.pos + 1 < self.words.len()
        {
            let operand = &self.words[self.pos + 1];
            self.pos += 2;
            return Ok(CondNode::Unary(op, operand));
        }
        self.pos += 1;
        Ok(CondNode::Single(w))
    }
}

fn eval_cond<'a>(
    interp: &'a Interp,
    n: &'a CondNode<'a>,
    st: &'a mut ShellState,
    io: &'a Io,
) -> futures::future::BoxFuture<'a, Result<Result<bool, String>, Flow>> {
    Box::pin(async move {
        Ok(match n {
            CondNode::And(a, b) => match eval_cond(interp, a, st, io).await? {
                Ok(true) => eval_cond(interp, b, st, io).await?,
                other => other,
            },
            CondNode::Or(a, b) => match eval_cond(interp, a, st, io).await? {
                Ok(false) => eval_cond(interp, b, st, io).await?,
                other => other,
            },
            CondNode::Not(a) => eval_cond(interp, a, st, io).await?.map(|v| !v),
            CondNode::Single(w) => Ok(!interp.expand_single(w, st, io).await?.is_empty()),
            CondNode::Unary(op, w) => {
                let v = interp.expand_single(w, st, io).await?;
                Ok(unary(interp.vfs.as_ref(), st, op, &v).await)
            }
            CondNode::Binary(l, op, r) => {
                let lv = interp.expand_single(l, st, io).await?;
                let rv = match op.as_str() {
                    "==" | "=" | "!=" => interp.expand_pattern(r, st, io).await?,
                    "=~" => {
                        let mut re = regex_word(interp, r, st, io).await?;
                        if st.shopt.is("nocasematch") {
                            re.insert_str(0, "(?i)");
                        }
                        return Ok(match regex::Regex::new(&re) {
                            Ok(rx) => match rx.captures(&lv) {
                                Some(caps) => {
                                    let mut m = std::collections::BTreeMap::new();
                                    for (i, c) in caps.iter().enumerate() {
                                        m.insert(
                                            i as i64,
                                            c.map(|x| x.as_str().to_string()).unwrap_or_default(),
                                        );
                                    }
                                    let mut var = crate::state::Var::scalar("");
                                    var.value = crate::state::Value::Indexed(m);
                                    st.vars.insert("BASH_REMATCH".into(), var);
                                    Ok(true)
                                }
                                None => Ok(false),
                            },
                            Err(_) => Ok(false),
                        });
                    }
                    _ => interp.expand_single(r, st, io).await?,
                };
                if matches!(op.as_str(), "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge") {
                    let mut tmp = st.clone();
                    let a = crate::arith::eval(&lv, &mut tmp).unwrap_or(0);
                    let b = crate::arith::eval(&rv, &mut tmp).unwrap_or(0);
                    return Ok(binary(&a.to_string(), op, &b.to_string(), true));
                }
                if matches!(op.as_str(), "==" | "=" | "!=") {
                    let m = crate::pattern::matches_with(&rv, &lv, st.shopt.case_opts());
                    return Ok(Ok(m != (op == "!=")));
                }
                binary(&lv, op, &rv, true)
            }
        })
    })
}

async fn regex_word(
    interp: &Interp,
    w: &Word,
    st: &mut ShellState,
    io: &Io,
) -> Result<String, Flow> {
    use crate::ast::WordPart;
    let mut out = String::new();
    for p in &w.parts {
        match p {
            WordPart::Lit(s) => out.push_str(s),
            WordPart::Quoted(s) => out.push_str(&regex::escape(s)),
            other => {
                let one = Word {
                    parts: vec![other.clone()],
                    src: None,
                };
                let v = interp.expand_single(&one, st, io).await?;
                if matches!(other, WordPart::Double(_)) {
                    out.push_str(&regex::escape(&v));
                } else {
                    out.push_str(&v);
                }
            }
        }
    }
    Ok(out)
}
