//! The history list and its builtins, as bash 5.2 keeps them: `history`
//! and `fc`.
//!
//! - The list lives in the session ([`crate::ShellState::history`]). Under
//!   `bash -c` history is off, so nothing is recorded until
//!   `set -o history`; from then on every line the shell reads is added
//!   before it runs (the line that turned history on is not: it was read
//!   while history was off). A command spanning several lines is one
//!   entry, its lines joined as bash's `cmdhist` joins them
//!   ([`entry_text`]). `eval`, `source` and command substitution text is
//!   not recorded. The interactive shell adds its own lines
//!   ([`crate::ShellState::add_history`]).
//! - `HISTFILE`, `HISTSIZE`, `HISTCONTROL`, `HISTIGNORE` and
//!   `HISTTIMEFORMAT` are not consulted; `history -a -n -r -w` read and
//!   write the file named by their argument (or `HISTFILE`) through the VFS.
//! - `history [N]` lists as `%5d  line`, `-c` clears, `-d N` / `-d A-B`
//!   deletes (negative offsets count from the end), `-s ARGS` replaces the
//!   `history -s` line with ARGS, `-p ARGS` prints ARGS after history
//!   expansion (`!!`, `!N`, `!-N`, `!STR`, `!?STR?`, `!$`, `!^`, `!*`,
//!   word designators `:N`, `:N-M`, `:^`, `:$`, `:*`, and `:s/OLD/NEW/`).
//! - `fc -l [-nr] [FIRST [LAST]]` lists (the last 16 by default, leaving
//!   out the `fc` line itself), `fc -s [PAT=REP ...] [CMD]` (and `fc -e -`)
//!   prints the command on stderr, puts it in the list in place of the
//!   `fc` line and runs it. Editing (`fc` with an editor) is not supported.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::getopt::{Getopt, Opt, usage_error};
use super::{Builtin, lines_or_errors, out};
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

const HISTORY_USAGE: &str = "history: usage: history [-c] [-d offset] [n] or history -anrw [filename] or history -ps arg [arg...]\n";
const FC_USAGE: &str =
    "fc: usage: fc [-e ename] [-lnr] [first] [last] or fc -s [pat=rep] [command]\n";

/// The history list of a session (a field of the builtins' session data).
#[derive(Debug, Clone, Default)]
pub struct HistoryList {
    /// The entries, oldest first: entry `N` of `history` is `entries[N-1]`.
    pub entries: Vec<String>,
    /// Whether the line being run was added to the list (bash's
    /// `hist_last_line_added`): `fc` and `history -s/-p` skip it.
    pub(crate) current_added: bool,
    /// How many entries have been dropped from the front by `HISTSIZE`
    /// (bash's `history_base` less one): `history` numbers entry `k` as
    /// `base + k + 1`.
    pub(crate) base: usize,
    /// How many entries `history -a` has already appended to a file.
    pub(crate) appended: usize,
    /// How many lines `history -n` has read from each file.
    pub(crate) read_lines: Vec<(String, usize)>,
}

impl ShellState {
    /// The session's history list, oldest first (`history` numbers them
    /// from 1).
    pub fn history(&self) -> &[String] {
        &self.extra.history.entries
    }

    /// Adds one line the user typed to the history list, when history is
    /// on (`set -o history`; the interactive shell turns it on). `line`
    /// may span several physical lines: they are joined as bash does
    /// ([`entry_text`]). Blank lines are not recorded.
    pub fn add_history(&mut self, line: &str) {
        if !self.options.history {
            self.extra.history.current_added = false;
            return;
        }
        let text = entry_text(line);
        if text.trim().is_empty() {
            self.extra.history.current_added = false;
            return;
        }
        self.push_history(text);
    }

    /// Adds a line a front end ran to the history list whether or not
    /// `set -o history` is on: the daemon's sessions record every line
    /// they are given, as an interactive bash records what it reads. Blank
    /// lines are not recorded.
    pub fn record_history(&mut self, line: &str) {
        let text = entry_text(line);
        if text.trim().is_empty() {
            self.extra.history.current_added = false;
            return;
        }
        self.push_history(text);
    }

    /// Appends an entry and trims the list to `HISTSIZE` entries (500
    /// when unset or not a number, bash 5.2's default for an interactive
    /// shell), dropping the oldest, so a long-lived session's list stays
    /// bounded.
    fn push_history(&mut self, text: String) {
        // a negative HISTSIZE keeps everything (bash 5.2)
        let limit = match self.get("HISTSIZE").map(|v| v.trim().parse::<i64>()) {
            Some(Ok(n)) => usize::try_from(n).unwrap_or(usize::MAX),
            _ => DEFAULT_HISTSIZE,
        };
        let h = &mut self.extra.history;
        h.entries.push(text);
        h.current_added = true;
        if h.entries.len() > limit {
            let drop = h.entries.len() - limit;
            h.entries.drain(..drop);
            h.appended = h.appended.saturating_sub(drop);
            h.base += drop;
        }
    }
}

impl ShellState {
    /// `HISTSIZE` was given the number `value`: as bash 5.2's
    /// `stifle_history`, a list longer than that loses its oldest entries
    /// at once, and the numbering starts again from the count dropped (a
    /// quirk of bash: `history_base` is set to it, not advanced by it).
    pub(crate) fn stifle_history(&mut self, value: &str) {
        let Ok(max) = value.trim().parse::<i64>() else {
            return;
        };
        let Ok(max) = usize::try_from(max) else {
            return;
        };
        let h = &mut self.extra.history;
        if h.entries.len() > max {
            let drop = h.entries.len() - max;
            h.entries.drain(..drop);
            h.appended = h.appended.saturating_sub(drop);
            h.base = drop - 1;
        }
    }
}

/// bash's `HISTSIZE` when the variable is unset (bash 5.2, `config-top.h`).
const DEFAULT_HISTSIZE: usize = 500;

/// Records the lines of a `bash -c` input in the history list as the
/// shell reads them: before the first command of each line runs, that
/// line (and any comment lines before it) is added when history is on.
/// Not in an interactive shell, whose front end adds what the user typed
/// ([`ShellState::add_history`]) and runs prompt expansions of its own.
pub(crate) struct Reader<'a> {
    src: &'a str,
    /// The character offset up to which the input has been read.
    cursor: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `src`, nothing read yet.
    pub(crate) fn new(src: &'a str) -> Self {
        Reader { src, cursor: 0 }
    }

    /// Called before item `i` of `parsed` runs.
    pub(crate) fn before(&mut self, st: &mut ShellState, parsed: &crate::parse::Parsed, i: usize) {
        // the interactive shell records the lines the user types itself
        if st.interactive {
            return;
        }
        let Some(k) = parsed.line_offsets.iter().position(|(x, _)| *x == i) else {
            return;
        };
        let start = parsed.line_offsets[k].1;
        if start < self.cursor {
            return;
        }
        let end = parsed
            .line_offsets
            .get(k + 1)
            .map_or(parsed.end_offset.max(start), |(_, o)| *o);
        let from = self.cursor;
        self.cursor = end.max(start);
        if !st.options.history {
            st.extra.history.current_added = false;
            return;
        }
        let text = char_slice(self.src, from, self.cursor);
        // counted with the dropped ones: a full list stays as long
        let added = |st: &ShellState| st.extra.history.entries.len() + st.extra.history.base;
        let before = added(st);
        for e in split_entries(text) {
            st.add_history(&e);
        }
        st.extra.history.current_added = added(st) > before;
    }
}

/// The characters `from..to` of `s`.
fn char_slice(s: &str, from: usize, to: usize) -> &str {
    let byte = |n: usize| s.char_indices().nth(n).map_or(s.len(), |(b, _)| b);
    let a = byte(from);
    let b = byte(to).max(a);
    &s[a..b]
}

/// Splits input text into complete commands (each possibly several
/// physical lines), as the shell reads them; blank lines are dropped.
fn split_entries(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for line in text.split_inclusive('\n') {
        if buf.is_empty() && line.trim().is_empty() {
            continue;
        }
        buf.push_str(line);
        if !buf.ends_with('\n') || !crate::parse::is_incomplete(&buf) {
            out.push(std::mem::take(&mut buf));
        }
    }
    if !buf.trim().is_empty() {
        out.push(buf);
    }
    out
}

/// The history entry for one command as the shell read it (one or more
/// physical lines, with or without the final newline), joined as bash's
/// `cmdhist` option joins them: a newline where the break is inside
/// quotes, a command substitution, a here-document or after a comment;
/// a blank after a word that needs no separator (`then`, `do`, `{`, `|`,
/// `&&`, `;` …); `; ` otherwise. A command with a here-document keeps its
/// lines and ends with a newline.
pub fn entry_text(raw: &str) -> String {
    let body = raw.strip_suffix('\n').unwrap_or(raw);
    let lines: Vec<&str> = body.split('\n').collect();
    let mut out = String::new();
    let mut heredoc = false;
    let mut in_case = false;
    for (k, line) in lines.iter().enumerate() {
        if k > 0 {
            let prev = lines[k - 1];
            let sep = if heredoc || has_comment(prev) {
                "\n"
            } else {
                let prefix = format!("{}\n", lines[..k].join("\n"));
                let quoted = crate::parse::parse_input(&prefix).error.is_some_and(|e| {
                    e.message
                        .starts_with("unexpected EOF while looking for matching")
                });
                if quoted {
                    "\n"
                } else {
                    separator(prev, line, in_case)
                }
            };
            out.push_str(sep);
        }
        out.push_str(line);
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.contains(&"case") {
            in_case = true;
        }
        if words.contains(&"esac") {
            in_case = false;
        }
        if !heredoc && has_heredoc(line) {
            heredoc = true;
        }
    }
    if heredoc && lines.len() > 1 {
        out.push('\n');
    }
    out
}

/// What goes between the previous line `prev` and `line` of a multi-line
/// command outside quotes (bash's delimiting characters).
fn separator(prev: &str, line: &str, in_case: bool) -> &'static str {
    let p = prev.trim_end();
    if p.trim().is_empty() {
        return " ";
    }
    if p.ends_with("()") {
        return " ";
    }
    if p.ends_with(')') {
        return if in_case { " " } else { "; " };
    }
    const OPS: &[&str] = &[";;&", ";;", ";&", "&&", "||", "|", "&", ";", "{", "("];
    if OPS.iter().any(|o| p.ends_with(o)) {
        return " ";
    }
    const WORDS: &[&str] = &["case", "do", "else", "if", "then", "until", "while", "in"];
    if let Some(last) = p.split_whitespace().last()
        && WORDS.contains(&last)
    {
        return " ";
    }
    if line.trim().is_empty() {
        return "; ";
    }
    "; "
}

/// Whether `line` has an unquoted comment.
fn has_comment(line: &str) -> bool {
    scan(line).0
}

/// Whether `line` starts a here-document (an unquoted `<<`, not `<<<`).
fn has_heredoc(line: &str) -> bool {
    scan(line).1
}

/// (comment, here-document) found outside quotes in one line.
fn scan(line: &str) -> (bool, bool) {
    let c: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    let mut heredoc = false;
    while i < c.len() {
        let ch = c[i];
        match quote {
            Some('\'') => {
                if ch == '\'' {
                    quote = None;
                }
            }
            Some(q) => {
                if ch == '\\' {
                    i += 1;
                } else if ch == q {
                    quote = None;
                }
            }
            None => match ch {
                '\\' => i += 1,
                '\'' | '"' | '`' => quote = Some(ch),
                '#' if i == 0 || c[i - 1].is_whitespace() || ";&|(".contains(c[i - 1]) => {
                    return (true, heredoc);
                }
                '<' if c.get(i + 1) == Some(&'<') => {
                    if c.get(i + 2) == Some(&'<') {
                        i += 2;
                    } else {
                        heredoc = true;
                        i += 1;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    (false, heredoc)
}

/// The 0-based index of the last entry `fc` works on (the command before
/// the `fc` line when that line was recorded), as bash computes it:
/// negative when there is none.
fn last_index(st: &ShellState) -> i64 {
    let h = &st.extra.history;
    let n = h.entries.len() as i64;
    let last = n - i64::from(st.options.history) - i64::from(h.current_added);
    last.min(n - 1)
}

/// `history` and `fc`.
pub struct History;

#[async_trait]
impl Builtin for History {
    fn names(&self) -> &'static [&'static str] {
        &["history", "fc"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        if argv.first().is_some_and(|n| n == "fc") {
            fc(interp, args, st, io).await
        } else {
            history(interp, args, st, io).await
        }
    }
}

async fn history(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut flags = String::new();
    let mut delete: Option<String> = None;
    let mut opts = Getopt::new(args, "acnprsw", "d").numbers_are_operands();
    while let Some(opt) = opts.next_opt() {
        match opt {
            Opt::Flag(c) => flags.push(c),
            Opt::Arg(_, v) => delete = Some(v),
            bad => return Ok(usage_error(&bad, "history", HISTORY_USAGE, st, io).await),
        }
    }
    let rest = opts.rest();
    let files: String = flags.chars().filter(|c| "anrw".contains(*c)).collect();
    let mut distinct: Vec<char> = files.chars().collect();
    distinct.dedup();
    if distinct.len() > 1 {
        io.err(&format!(
            "{}history: cannot use more than one of -anrw\n",
            st.diag()
        ))
        .await;
        return Ok(1);
    }
    if flags.contains('c') {
        st.extra.history.entries.clear();
        st.extra.history.appended = 0;
        st.extra.history.base = 0;
        if rest.is_empty() {
            return Ok(0);
        }
    }
    if flags.contains('s') {
        if !rest.is_empty() {
            let h = &mut st.extra.history;
            if h.current_added {
                h.entries.pop();
            }
            h.entries.push(rest.join(" "));
            h.current_added = true;
        }
        return Ok(0);
    }
    if flags.contains('p') {
        if rest.is_empty() {
            return Ok(0);
        }
        if st.extra.history.current_added {
            st.extra.history.entries.pop();
            st.extra.history.current_added = false;
        }
        let items = rest
            .iter()
            .map(
                |a| match expand(a, &st.extra.history.entries, st.extra.history.base) {
                    Some(s) => Ok(format!("{s}\n")),
                    None => Err(format!(
                        "{}history: {a}: history expansion failed\n",
                        st.diag()
                    )),
                },
            )
            .collect();
        return lines_or_errors(io, items).await;
    }
    if let Some(d) = delete {
        return delete_entries(&d, st, io).await;
    }
    if files.is_empty() {
        return list(rest, st, io).await;
    }
    let name = match rest.first() {
        Some(f) => f.clone(),
        None => st.get("HISTFILE").unwrap_or_default(),
    };
    if name.is_empty() {
        return Ok(1);
    }
    file_op(interp, distinct[0], &name, st, io).await
}

/// `history [N]`.
async fn list(rest: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let entries = &st.extra.history.entries;
    let mut from = 0;
    if let Some(a) = rest.first() {
        let Some(n) = parse_number(a) else {
            io.err(&format!(
                "{}history: {a}: numeric argument required\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        };
        if rest.len() > 1 {
            io.err(&format!("{}history: too many arguments\n", st.diag()))
                .await;
            return Err(Flow::Exit(1));
        }
        let n = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
        from = entries.len().saturating_sub(n);
    }
    let mut text = String::new();
    let base = st.extra.history.base;
    for (k, e) in entries.iter().enumerate().skip(from) {
        text.push_str(&format!("{:>5}  {e}\n", base + k + 1));
    }
    out(io, &bytestr::encode(&text)).await?;
    Ok(0)
}

/// A number as bash's `legal_number` reads it (blanks around it allowed).
fn parse_number(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// `history -d OFFSET` and `history -d START-END`.
async fn delete_entries(arg: &str, st: &mut ShellState, io: &Io) -> ExecResult {
    let len = st.extra.history.entries.len() as i64;
    // history numbers start after the entries HISTSIZE dropped
    let base = st.extra.history.base as i64;
    // a 0-based index from one position: negative counts from the end
    let position = |s: &str| -> Option<i64> {
        let n = parse_number(s)?;
        let ind = if s.trim_start().starts_with('-') && n < 0 {
            let ind = len + n;
            if ind < 1 {
                return None;
            }
            ind
        } else {
            n - 1 - base
        };
        (0..len).contains(&ind).then_some(ind)
    };
    let bad = |s: &str| format!("{}history: {s}: history position out of range\n", st.diag());
    let split = arg
        .get(1..)
        .and_then(|r| r.find('-'))
        .map(|p| (&arg[..=p], &arg[p + 2..]));
    let (a, b) = match split {
        Some((s, e)) => {
            if parse_number(s).is_none() || parse_number(e).is_none() {
                io.err(&bad(arg)).await;
                return Ok(1);
            }
            let Some(a) = position(s) else {
                io.err(&bad(s)).await;
                return Ok(1);
            };
            let Some(b) = position(e) else {
                io.err(&bad(e)).await;
                return Ok(1);
            };
            if b < a {
                return Ok(1);
            }
            (a, b)
        }
        None => {
            let Some(a) = position(arg) else {
                io.err(&bad(arg)).await;
                return Ok(1);
            };
            (a, a)
        }
    };
    let (a, b) = (a as usize, b as usize);
    st.extra.history.entries.drain(a..=b);
    Ok(0)
}

/// `history -a`, `-n`, `-r`, `-w` on the file `name` (through the VFS).
async fn file_op(
    interp: &Interp,
    op: char,
    name: &str,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let path = mirage_types::join_path(&st.cwd, name);
    match op {
        'w' | 'a' => {
            let h = &st.extra.history;
            let from = if op == 'a' {
                h.appended.min(h.entries.len())
            } else {
                0
            };
            let text: String = h.entries[from..].iter().map(|e| format!("{e}\n")).collect();
            let data = mirage_types::ByteSource::Bytes(bytestr::encode(&text).into_owned().into());
            let r = if op == 'a' {
                interp.vfs.append(&path, data).await
            } else {
                interp.vfs.write(&path, data).await
            };
            if let Err(e) = r {
                io.err(&format!("{}history: {name}: {}\n", st.diag(), e.message()))
                    .await;
                return Ok(1);
            }
            st.extra.history.appended = st.extra.history.entries.len();
            Ok(0)
        }
        _ => {
            let read = match interp.vfs.read(&path).await {
                Ok(src) => src.collect().await,
                Err(e) => Err(e),
            };
            let data = match read {
                Ok(d) => d,
                Err(e) => {
                    io.err(&format!("{}history: {name}: {}\n", st.diag(), e.message()))
                        .await;
                    return Ok(1);
                }
            };
            let text = bytestr::decode_owned(data.to_vec());
            let lines: Vec<&str> = text.lines().collect();
            let h = &mut st.extra.history;
            let skip = if op == 'n' {
                h.read_lines
                    .iter()
                    .find(|(f, _)| *f == path)
                    .map_or(0, |(_, n)| *n)
            } else {
                0
            };
            for l in lines.iter().skip(skip) {
                h.entries.push((*l).to_string());
            }
            match h.read_lines.iter_mut().find(|(f, _)| *f == path) {
                Some(e) => e.1 = lines.len(),
                None => h.read_lines.push((path, lines.len())),
            }
            Ok(0)
        }
    }
}

/// Where an `fc` range argument points.
enum Spec {
    /// A 0-based index (may be out of range: clamped by the caller).
    At(i64),
    /// `-0` outside a listing.
    Invalid,
    /// No command starts with the text.
    NotFound,
}

/// An `fc` history specification: a number (negative: relative to the
/// last command; `0`: the last command; `-0`: the `fc` line itself when
/// listing) or the start of a command (the newest that starts so).
fn fc_spec(spec: Option<&str>, st: &ShellState, listing: bool, first: bool) -> Spec {
    let entries = &st.extra.history.entries;
    let last = last_index(st);
    if last < 0 {
        return Spec::At(-1);
    }
    let Some(s) = spec else {
        return Spec::At(last);
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.starts_with(|c: char| c.is_ascii_digit()) {
        let lead: String = digits.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = lead.parse().unwrap_or(i64::MAX);
        let n = if neg { -n } else { n };
        if n < 0 {
            return Spec::At((n + last + 1).max(0));
        }
        if n == 0 {
            return if !neg {
                Spec::At(last)
            } else if listing {
                Spec::At(entries.len() as i64 - 1)
            } else {
                Spec::Invalid
            };
        }
        // numbers below the oldest kept entry mean the oldest
        let k = (n - 1 - st.extra.history.base as i64).max(0);
        if k >= last {
            return Spec::At(if first { 0 } else { last });
        }
        return Spec::At(k);
    }
    for j in (0..=last).rev() {
        if entries.get(j as usize).is_some_and(|e| e.starts_with(s)) {
            return Spec::At(j);
        }
    }
    Spec::NotFound
}

async fn fc(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let (mut listing, mut numbers, mut reverse, mut execute) = (false, true, false, false);
    let mut editor: Option<String> = None;
    let mut opts = Getopt::new(args, "lnrs", "e").numbers_are_operands();
    while let Some(opt) = opts.next_opt() {
        match opt {
            Opt::Flag('l') => listing = true,
            Opt::Flag('n') => numbers = false,
            Opt::Flag('r') => reverse = true,
            Opt::Flag(_) => execute = true,
            Opt::Arg(_, v) => editor = Some(v),
            bad => return Ok(usage_error(&bad, "fc", FC_USAGE, st, io).await),
        }
    }
    let mut rest = opts.rest();
    if editor.as_deref() == Some("-") {
        execute = true;
    }
    if execute {
        let mut subs: Vec<(&str, &str)> = Vec::new();
        while let Some(a) = rest.first()
            && let Some((p, r)) = a.split_once('=')
        {
            subs.push((p, r));
            rest = &rest[1..];
        }
        let spec = fc_spec(rest.first().map(String::as_str), st, false, false);
        let entries = &st.extra.history.entries;
        let Spec::At(k) = spec else {
            io.err(&format!("{}fc: no command found\n", st.diag()))
                .await;
            return Ok(1);
        };
        let Some(command) = usize::try_from(k).ok().and_then(|k| entries.get(k)) else {
            io.err(&format!("{}fc: no command found\n", st.diag()))
                .await;
            return Ok(1);
        };
        let mut command = command.clone();
        for (p, r) in subs {
            if !p.is_empty() {
                command = command.replacen(p, r, 1);
            }
        }
        io.err(&format!("{command}\n")).await;
        let h = &mut st.extra.history;
        if st.options.history
            && h.current_added
            && let Some(e) = h.entries.last_mut()
        {
            e.clone_from(&command);
        }
        return super::run_source(interp, &command, st, io).await;
    }
    if !listing {
        return Ok(super::unsupported(io, "fc (editing history)").await);
    }
    let last = last_index(st);
    let entries = &st.extra.history.entries;
    let base = st.extra.history.base;
    let (beg, end) = if let Some(a) = rest.first() {
        let beg = fc_spec(Some(a), st, true, true);
        let end = match rest.get(1) {
            Some(b) => fc_spec(Some(b), st, true, false),
            None => match beg {
                Spec::At(k) if k == entries.len() as i64 - 1 => Spec::At(k),
                _ => Spec::At(last),
            },
        };
        (beg, end)
    } else {
        (Spec::At((last - 15).max(0)), Spec::At(last))
    };
    let (mut beg, mut end) = match (beg, end) {
        (Spec::Invalid, _) | (_, Spec::Invalid) => {
            io.err(&format!(
                "{}fc: history specification out of range\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        (Spec::NotFound, _) | (_, Spec::NotFound) => {
            io.err(&format!("{}fc: no command found\n", st.diag()))
                .await;
            return Ok(1);
        }
        (Spec::At(a), Spec::At(b)) => (a.max(0), b.max(0)),
    };
    if end < beg {
        std::mem::swap(&mut beg, &mut end);
        reverse = true;
    }
    let mut order: Vec<usize> = (beg..=end)
        .filter_map(|k| usize::try_from(k).ok())
        .filter(|k| *k < entries.len())
        .collect();
    if reverse {
        order.reverse();
    }
    let mut text = String::new();
    for k in order {
        let e = &entries[k];
        if numbers {
            text.push_str(&format!("{}\t {e}\n", base + k + 1));
        } else {
            text.push_str(&format!("\t {e}\n"));
        }
    }
    out(io, &bytestr::encode(&text)).await?;
    Ok(0)
}

/// History expansion of one word, as `history -p` does it; `None` when
/// an event or word designator fails. `!N` is history number N, counted
/// from `base` + 1 (bash's `history_base`) once `HISTSIZE` dropped the
/// oldest entries.
fn expand(word: &str, entries: &[String], base: usize) -> Option<String> {
    let c: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    // `^old^new^`: quick substitution on the previous command
    if c.first() == Some(&'^') {
        let body: String = c[1..].iter().collect();
        let mut parts = body.splitn(3, '^');
        let old = parts.next().unwrap_or_default();
        let new = parts.next().unwrap_or_default();
        let tail = parts.next().unwrap_or_default();
        let prev = entries.last()?;
        if old.is_empty() || !prev.contains(old) {
            return None;
        }
        return Some(format!("{}{tail}", prev.replacen(old, new, 1)));
    }
    while i < c.len() {
        let ch = c[i];
        if ch == '\\' && c.get(i + 1) == Some(&'!') {
            out.push('\\');
            out.push('!');
            i += 2;
            continue;
        }
        if ch != '!' {
            out.push(ch);
            i += 1;
            continue;
        }
        let Some(&next) = c.get(i + 1) else {
            out.push('!');
            i += 1;
            continue;
        };
        if next.is_whitespace() || next == '=' || next == '(' {
            out.push('!');
            i += 1;
            continue;
        }
        // the event
        i += 1;
        let event: &String;
        let mut default_words = None;
        match next {
            '!' => {
                event = entries.last()?;
                i += 1;
            }
            '$' | '^' | '*' | ':' => {
                event = entries.last()?;
            }
            '?' => {
                let rest: String = c[i + 1..].iter().collect();
                let (pat, used) = match rest.find('?') {
                    Some(p) => (rest[..p].to_string(), p + 2),
                    None => (rest.clone(), rest.chars().count() + 1),
                };
                event = entries.iter().rev().find(|e| e.contains(pat.as_str()))?;
                i += used;
            }
            '-' | '0'..='9' => {
                let neg = next == '-';
                let start = if neg { i + 1 } else { i };
                let digits: String = c[start..]
                    .iter()
                    .take_while(|d| d.is_ascii_digit())
                    .collect();
                if digits.is_empty() {
                    return None;
                }
                let n: usize = digits.parse().ok()?;
                let k = if neg {
                    entries.len().checked_sub(n)?
                } else {
                    n.checked_sub(base + 1)?
                };
                event = entries.get(k)?;
                i = start + digits.len();
            }
            _ => {
                let s: String = c[i..]
                    .iter()
                    .take_while(|d| !d.is_whitespace() && **d != ':')
                    .collect();
                event = entries.iter().rev().find(|e| e.starts_with(s.as_str()))?;
                i += s.chars().count();
            }
        }
        let words = history_words(event);
        // word designators
        let mut sel: Option<String> = None;
        let designator = match c.get(i) {
            Some(':')
                if c.get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() || "^$*-".contains(*d)) =>
            {
                i += 1;
                true
            }
            Some('$' | '^' | '*') => true,
            _ => false,
        };
        if designator {
            let (s, used) = designate(&c[i..], &words)?;
            i += used;
            sel = s;
        } else if default_words.is_none() {
            default_words = Some(event.clone());
        }
        let mut text = sel.or(default_words)?;
        // `:s/old/new/` modifiers
        while c.get(i) == Some(&':') && c.get(i + 1) == Some(&'s') {
            let delim = *c.get(i + 2)?;
            let rest: String = c[i + 3..].iter().collect();
            let mut parts = rest.splitn(3, delim);
            let old = parts.next()?.to_string();
            let new = parts.next().unwrap_or_default().to_string();
            let used = 3
                + old.chars().count()
                + 1
                + new.chars().count()
                + usize::from(rest.chars().count() > old.chars().count() + new.chars().count() + 1);
            if old.is_empty() || !text.contains(old.as_str()) {
                return None;
            }
            text = text.replacen(old.as_str(), &new, 1);
            i += used;
        }
        out.push_str(&text);
    }
    Some(out)
}

/// The words of a history entry (blank-separated, quotes kept together).
fn history_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for ch in line.chars() {
        match quote {
            Some(q) => {
                cur.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None if ch.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            None => {
                if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                }
                cur.push(ch);
            }
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// A word designator at the start of `c` (`N`, `N-M`, `N-`, `-M`, `^`,
/// `$`, `*`, `N*`): the words it selects and the characters it used.
fn designate(c: &[char], words: &[String]) -> Option<(Option<String>, usize)> {
    let last = words.len().checked_sub(1)?;
    let num = |from: usize| -> (Option<usize>, usize) {
        let d: String = c[from..]
            .iter()
            .take_while(|x| x.is_ascii_digit())
            .collect();
        (d.parse().ok(), d.len())
    };
    let mut i = 0;
    let first = match c.first() {
        Some('^') => {
            i = 1;
            1
        }
        Some('$') => {
            i = 1;
            last
        }
        Some('*') => {
            if words.len() < 2 {
                return Some((Some(String::new()), 1));
            }
            return Some((Some(words[1..].join(" ")), 1));
        }
        Some('-') => 0,
        _ => {
            let (n, used) = num(0);
            i = used;
            n?
        }
    };
    let end = match c.get(i) {
        Some('-') => {
            let (n, used) = num(i + 1);
            i += 1 + used;
            match n {
                Some(n) => n,
                None if c.get(i) == Some(&'$') => {
                    i += 1;
                    last
                }
                None => last.checked_sub(1)?,
            }
        }
        Some('*') => {
            i += 1;
            last
        }
        _ => first,
    };
    if first > last || end > last || end < first {
        return None;
    }
    Some((Some(words[first..=end].join(" ")), i))
}
