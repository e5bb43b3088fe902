//! The shell's own AST, built by [`crate::parse`]; words are lexed from
//! their source text by [`crate::word`], so quoting is kept exactly as bash
//! sees it.

use std::sync::Arc;

/// A parsed script: top-level commands in order.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// The commands, in order.
    pub items: Vec<Cmd>,
    /// The index in `items` of the first command of each input line after
    /// the first, ascending (bash reads and runs one line at a time, and an
    /// expansion error abandons the rest of its line). Empty: all on one
    /// line.
    pub line_starts: Vec<usize>,
}

impl Script {
    /// A script of `items`, all on one line.
    pub fn of(items: Vec<Cmd>) -> Script {
        Script {
            items,
            line_starts: Vec::new(),
        }
    }

    /// The index of the first command of the line after the one item `i`
    /// is on (`items.len()` when it is on the last line).
    pub fn next_line(&self, i: usize) -> usize {
        let k = self.line_starts.partition_point(|&s| s <= i);
        self.line_starts.get(k).copied().unwrap_or(self.items.len())
    }
}

/// One command of any kind.
#[derive(Debug, Clone)]
pub enum Cmd {
    /// `a=1 cmd arg >out`.
    Simple(Simple),
    /// `a | b | c`; `stderr[i]` is true when stage `i` is joined by `|&`.
    Pipeline(Vec<Cmd>, Vec<bool>),
    /// `a && b || c …`: the first command, then each operator (`true` for
    /// `&&`, `false` for `||`) with the command it guards, run left to
    /// right. Flat, so a chain of any length needs no deeper stack (to
    /// parse, run or drop) than one command.
    AndOr(Box<Cmd>, Vec<(bool, Cmd)>),
    /// `! cmd`.
    Not(Box<Cmd>),
    /// Commands run one after another (`a; b` or lines).
    Seq(Vec<Cmd>),
    /// `cmd &`: a background job ([`crate::jobs`]), status 0; the text is
    /// the command as written (for `jobs`).
    Background(Box<Cmd>, String),
    /// `if c1; then b1; elif c2; then b2; else e; fi`.
    If(Vec<(Cmd, Cmd)>, Option<Box<Cmd>>),
    /// `for v in words; do body; done`; `None` words means `"$@"`. The
    /// last field is the line of `for`.
    For(String, Option<Vec<Word>>, Box<Cmd>, u32),
    /// `for ((init; cond; step)); do body; done`, each part arithmetic text.
    /// The last field is the line of `for`.
    CFor(Option<Word>, Option<Word>, Option<Word>, Box<Cmd>, u32),
    /// `while c; do b; done` (or `until` when the flag is true).
    While(Box<Cmd>, Box<Cmd>, bool),
    /// `case word in pat) body;; esac`.
    /// The last field is the line of `case`.
    Case(Word, Vec<CaseItem>, u32),
    /// `name() { body; }`.
    FuncDef(String, Arc<Cmd>),
    /// `{ body; }`.
    Group(Box<Cmd>),
    /// `( body )`.
    Subshell(Box<Cmd>),
    /// A compound command with redirections.
    Redirected(Box<Cmd>, Vec<Redir>),
    /// `(( expr ))`, and its line.
    Arith(Word, u32),
    /// `[[ expr ]]`, as its words, and its line.
    Cond(Vec<Word>, u32),
    /// `local`, `declare`, `typeset`, `export`, `readonly` with their arguments.
    Decl(String, Vec<DeclArg>, Vec<Redir>, u32),
    /// `time [-p] pipeline` ([`crate::timecmd`]): runs `cmd`, then reports
    /// its times on stderr; `posix` for `-p` (or `--`). `cmd` is
    /// [`Cmd::Empty`] for `time` alone.
    Time {
        /// `time -p`: the POSIX report, whatever `TIMEFORMAT` says.
        posix: bool,
        /// The timed pipeline.
        cmd: Box<Cmd>,
    },
    /// `select name [in words]; do body; done` ([`crate::select`]).
    Select {
        /// The variable set to the chosen word.
        name: String,
        /// The menu words; `None` means `"$@"`.
        words: Option<Vec<Word>>,
        /// The loop body.
        body: Box<Cmd>,
        /// The line of `select`.
        line: u32,
    },
    /// Nothing (an empty script or a comment).
    Empty,
}

/// A simple command.
#[derive(Debug, Clone, Default)]
pub struct Simple {
    /// Assignments before the command name.
    pub assigns: Vec<Assign>,
    /// The command name and arguments.
    pub words: Vec<Word>,
    /// Redirections.
    pub redirs: Vec<Redir>,
    /// The 1-based line of the input where the command starts (`$LINENO`,
    /// and the `line N:` of bash's messages); 0 when unknown.
    pub line: u32,
}

/// One `case` item.
#[derive(Debug, Clone)]
pub struct CaseItem {
    /// The patterns (`a|b)`).
    pub patterns: Vec<Word>,
    /// The body.
    pub body: Cmd,
    /// The terminator: `;;`, `;&` or `;;&`.
    pub term: CaseTerm,
}

/// How a case item ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseTerm {
    /// `;;`: stop.
    Break,
    /// `;&`: run the next body too.
    FallThrough,
    /// `;;&`: test the next patterns.
    Continue,
}

/// An argument of a declaration command.
#[derive(Debug, Clone)]
pub enum DeclArg {
    /// `name=value` (not word-split).
    Assign(Assign),
    /// Any other word (`-a`, `name`).
    Word(Word),
}

/// `name=value`, `name+=value`, `name[i]=value` or `name=(a b)`.
#[derive(Debug, Clone)]
pub struct Assign {
    /// The variable name.
    pub name: String,
    /// The array subscript, if any.
    pub index: Option<Word>,
    /// `+=`.
    pub append: bool,
    /// The value.
    pub value: AssignValue,
}

/// The right-hand side of an assignment.
#[derive(Debug, Clone)]
pub enum AssignValue {
    /// A scalar word.
    Scalar(Word),
    /// `(a b c)`.
    Array(Vec<Word>),
}

/// A redirection.
#[derive(Debug, Clone)]
pub struct Redir {
    /// The file descriptor (`2>`), or the operator's default.
    pub fd: Option<u32>,
    /// `{name}>file`: the variable that gets (or, for `{name}>&-`, gives)
    /// the descriptor's number; then `fd` is `None`.
    pub var: Option<String>,
    /// The operator.
    pub op: RedirOp,
    /// The target word, or the here-document body.
    pub target: Word,
}

/// Redirection operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `>`.
    Out,
    /// `>|` (ignores `noclobber`).
    Clobber,
    /// `>>`.
    Append,
    /// `<`.
    In,
    /// `&>` or `>&` to a file.
    OutErr,
    /// `&>>`.
    AppendOutErr,
    /// `N>&M`.
    DupOut,
    /// `N<&M`.
    DupIn,
    /// `<<<`.
    HereString,
    /// `<<` / `<<-` (the target is the body, already lexed).
    HereDoc,
    /// `<>`.
    ReadWrite,
    /// `> >(cmd)` (also `>>`, `>|`): output to a process
    /// substitution. The target word holds the command as its one
    /// [`WordPart::CmdSub`] part; it runs with the output as its stdin.
    OutProcess,
}

/// A word: parts that expand and concatenate.
#[derive(Debug, Clone, Default)]
pub struct Word {
    /// The parts in order.
    pub parts: Vec<WordPart>,
    /// The word as written, kept only for words of a function body (and
    /// of text parsed for printing), for [`crate::funcprint`]: bash prints a
    /// function's words with their original quoting. For a here-document
    /// target: the header as bash prints it (`<<-'EOF'`), a newline, the
    /// body as read and the delimiter. `None` elsewhere (no cost to the
    /// words of an ordinary line).
    pub src: Option<Box<str>>,
}

impl PartialEq for Word {
    /// Words are equal when their parts are (the source text is ignored).
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

/// One piece of a word.
#[derive(Debug, Clone)]
pub enum WordPart {
    /// Unquoted text: subject to brace, tilde, glob expansion.
    Lit(String),
    /// Quoted or escaped text: taken literally.
    Quoted(String),
    /// `"…"`: its parts expand but are not split or globbed.
    Double(Vec<WordPart>),
    /// `$x`, `${…}`.
    Param(Box<ParamExp>),
    /// `$(…)` or `` `…` ``.
    CmdSub(Arc<Script>),
    /// `$((…))`: the inner text as a word (expanded, then evaluated).
    Arith(Word),
    /// `<(…)`: process substitution, read as a file.
    ProcSub(Arc<Script>),
    /// `>(…)` as an argument: a file the command writes, given to the
    /// inner command as its stdin ([`crate::procsub`]).
    OutProcSub(Arc<Script>),
}

/// A parameter expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamExp {
    /// The name: a variable, a digit string, or one of `@ * # ? $ ! - 0`.
    pub name: String,
    /// An array subscript (`[@]`, `[0]`, `[$i]`).
    pub index: Option<Word>,
    /// `${!name}` indirection.
    pub indirect: bool,
    /// The operator.
    pub op: ParamOp,
}

/// Parameter expansion operators.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamOp {
    /// Plain value.
    Plain,
    /// `${#x}`.
    Length,
    /// `${x:-w}` (colon: also when empty).
    Default(bool, Word),
    /// `${x:=w}`.
    Assign(bool, Word),
    /// `${x:+w}`.
    Alt(bool, Word),
    /// `${x:?w}`.
    Error(bool, Word),
    /// `${x#p}` / `${x##p}` (true: longest).
    TrimPrefix(bool, Word),
    /// `${x%p}` / `${x%%p}`.
    TrimSuffix(bool, Word),
    /// `${x/p/r}`, with the mode.
    Replace(ReplaceMode, Word, Word),
    /// `${x:off:len}`, arithmetic texts.
    Substr(Word, Option<Word>),
    /// `${x^}`/`${x^^}` (true: all).
    Upper(bool),
    /// `${x,}`/`${x,,}`.
    Lower(bool),
    /// `${!arr[@]}`: the keys.
    Keys,
    /// `${x@Q}` and the other `@` transformations (`Q E P A K a U u L k`);
    /// with `indirect`, `Transform('@')`/`Transform('*')` is `${!prefix@}`/`${!prefix*}`.
    Transform(char),
    /// A `${…}` that bash parses but rejects when it expands (`${}`,
    /// `${x!}`): the source text, for ``${…}: bad substitution``.
    Bad(String),
}

/// Which matches `${x/p/r}` replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceMode {
    /// The first.
    First,
    /// All (`//`).
    All,
    /// Only at the start (`/#`).
    Prefix,
    /// Only at the end (`/%`).
    Suffix,
}

impl Word {
    /// A word of one literal part.
    pub fn lit(s: impl Into<String>) -> Self {
        Word {
            parts: vec![WordPart::Lit(s.into())],
            src: None,
        }
    }
    /// A word of one quoted part.
    pub fn quoted(s: impl Into<String>) -> Self {
        Word {
            parts: vec![WordPart::Quoted(s.into())],
            src: None,
        }
    }
    /// The text if the word is made of literal and quoted text only.
    pub fn as_static(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                WordPart::Lit(t) | WordPart::Quoted(t) => s.push_str(t),
                WordPart::Double(inner) => {
                    for q in inner {
                        match q {
                            WordPart::Lit(t) | WordPart::Quoted(t) => s.push_str(t),
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(s)
    }
    /// Whether any part is quoted (so `""` is an empty field, not nothing).
    pub fn has_quotes(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, WordPart::Quoted(_) | WordPart::Double(_)))
    }
}

impl PartialEq for WordPart {
    fn eq(&self, other: &Self) -> bool {
        use WordPart::*;
        match (self, other) {
            (Lit(a), Lit(b)) | (Quoted(a), Quoted(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            (Param(a), Param(b)) => a == b,
            (CmdSub(a), CmdSub(b)) => Arc::ptr_eq(a, b),
            (Arith(a), Arith(b)) => a == b,
            (ProcSub(a), ProcSub(b)) | (OutProcSub(a), OutProcSub(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}
