//! `set -x` traces, `caller`, and the running of
//! `ERR`, `DEBUG` and `RETURN` traps, as bash 5.2 does them.
//!
//! A trace line is `PS4` (expanded; its first character repeated once per
//! level of command substitution, `eval` and `source` nesting), then the
//! command's words quoted as bash's `xtrace_print_word_list` shows them:
//! a word with shell metacharacters in single quotes, one with other
//! control characters as `$'…'`, an empty word as `''`.

use std::borrow::Cow;

use crate::ast::{Assign, AssignValue, Cmd, DeclArg, ParamOp, Word, WordPart};
use crate::exec::{Flow, Interp, Io};
use crate::state::ShellState;

/// Tracing and trap state kept in [`ShellState`].
#[derive(Debug, Clone, Default)]
pub struct TraceState {
    /// Extra trace levels: one per command substitution, `eval` and
    /// `source` the current command runs inside.
    pub level: usize,
    /// The trap being run (`ERR`, `DEBUG`, `RETURN`): no trap fires inside it.
    pub in_trap: bool,
    /// The status the `ERR` trap already ran for in this command (so a
    /// failing command inside a function does not fire it twice).
    pub err_fired: bool,
    /// Subshell nesting (`( … )`, pipeline stages, `$( … )`): the `ERR`
    /// trap fires inside one only under `set -E`.
    pub subshell: usize,
    /// A declaration command (`declare`, `local`, `export`) is assigning:
    /// its own trace line shows the assignments.
    pub in_decl: bool,
    /// The newlines inside the words of the `eval` command being run:
    /// bash numbers an `eval` string's lines from the line where the
    /// command ends.
    pub eval_span: u32,
}

/// For a simple command whose name is literally `eval`: how many lines its
/// first argument spans past the first (the newlines in its written text;
/// bash takes a command's line from the lexer after the token that follows
/// the command name); 0 for any other command.
pub fn eval_span(s: &crate::ast::Simple) -> u32 {
    fn count(parts: &[WordPart]) -> usize {
        parts
            .iter()
            .map(|p| match p {
                WordPart::Lit(t) | WordPart::Quoted(t) => t.matches('\n').count(),
                WordPart::Double(inner) => count(inner),
                _ => 0,
            })
            .sum()
    }
    match s.words.first().map(|w| w.parts.as_slice()) {
        Some([WordPart::Lit(t)]) if t == "eval" => {
            // bash's line when it runs a simple command is the lexer's after
            // the token that follows the first word
            u32::try_from(s.words.get(1).map_or(0, |w| count(&w.parts))).unwrap_or(0)
        }
        _ => 0,
    }
}

/// True when bash's `sh_contains_shell_metas` is true for `s`: the word
/// needs quoting in a trace.
fn has_shell_metas(s: &str) -> bool {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b' ' | b'\t' | b'\n' | b'\'' | b'"' | b'\\' | b'|' | b'&' | b';' | b'(' | b')'
            | b'<' | b'>' | b'!' | b'{' | b'}' | b'*' | b'[' | b'?' | b']' | b'^' | b'$' | b'`' => {
                return true;
            }
            b'~' if i == 0 || b[i - 1] == b'=' || b[i - 1] == b':' => return true,
            b'#' if i == 0 => return true,
            _ => {}
        }
    }
    false
}

/// True when `s` holds a control character that bash shows as `$'…'`.
fn needs_ansic(s: &str) -> bool {
    s.chars()
        .any(|c| (c as u32) < 0x20 && c != '\t' && c != '\n' || c == '\x7f')
}

/// `s` in single quotes, `'` as `'\''` (bash's `sh_single_quote`).
pub fn single_quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('\'');
    for c in s.chars() {
        if c == '\'' {
            o.push_str("'\\''");
        } else {
            o.push(c);
        }
    }
    o.push('\'');
    o
}

/// `s` as `$'…'` with control characters in octal (bash's `ansic_quote`).
fn ansic_quote(s: &str) -> String {
    let mut o = String::from("$'");
    for c in s.chars() {
        match c {
            '\x07' => o.push_str("\\a"),
            '\x08' => o.push_str("\\b"),
            '\x0c' => o.push_str("\\f"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '\x0b' => o.push_str("\\v"),
            '\x1b' => o.push_str("\\E"),
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\x7f' => o.push_str(&format!("\\{:03o}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

/// One word as a trace shows it.
pub fn quote_word(s: &str) -> Cow<'_, str> {
    if s.is_empty() {
        Cow::Borrowed("''")
    } else if has_shell_metas(s) {
        Cow::Owned(single_quote(s))
    } else if needs_ansic(s) {
        Cow::Owned(ansic_quote(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Words joined by blanks, each quoted as a trace shows it.
pub fn quote_words(words: &[String]) -> String {
    let mut o = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            o.push(' ');
        }
        o.push_str(&quote_word(w));
    }
    o
}

/// An assignment as a trace shows it: `name=value` with the value quoted
/// when it holds shell metacharacters (bash's `xtrace_print_assignment`).
pub fn assignment(name: &str, value: &str) -> String {
    let q: Cow<str> = if value.is_empty() {
        Cow::Borrowed("")
    } else if has_shell_metas(value) {
        Cow::Owned(single_quote(value))
    } else if needs_ansic(value) {
        Cow::Owned(ansic_quote(value))
    } else {
        Cow::Borrowed(value)
    };
    format!("{name}={q}")
}

/// A `[[ … ]]` pattern operand as a trace shows it: characters that are
/// literal in the pattern carry a backslash (bash's
/// `quote_string_for_globbing` on the quoted parts).
pub fn cond_pattern(pat: &str) -> String {
    pat.to_string()
}

/// The trace prefix: `PS4` expanded, its first character repeated once
/// per nesting level. Unset or empty `PS4` gives no prefix.
async fn prefix(interp: &Interp, st: &mut ShellState, io: &Io) -> String {
    let Some(ps4) = st.get("PS4") else {
        return String::new();
    };
    if ps4.is_empty() {
        return String::new();
    }
    // expanding PS4 runs no trace of its own (`$(…)` in PS4)
    let saved = st.options.xtrace;
    st.options.xtrace = false;
    let expanded = match crate::word::lex_heredoc(&ps4) {
        Ok(w) => interp
            .expand_single(&w, st, io)
            .await
            .unwrap_or_else(|_| ps4.clone()),
        Err(_) => ps4.clone(),
    };
    st.options.xtrace = saved;
    let mut chars = expanded.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut o = String::new();
    for _ in 0..st.trace.level {
        o.push(first);
    }
    o.push_str(&expanded);
    o
}

/// Writes one trace line (`text` is already quoted) to stderr when
/// `set -x` is on.
pub async fn line(interp: &Interp, st: &mut ShellState, io: &Io, text: &str) {
    if !st.options.xtrace {
        return;
    }
    let p = prefix(interp, st, io).await;
    io.err(&format!("{p}{text}\n")).await;
}

/// Traces a simple command's words.
pub async fn words(interp: &Interp, st: &mut ShellState, io: &Io, argv: &[String]) {
    if st.options.xtrace {
        let text = quote_words(argv);
        // boxed: every simple command's future holds this one
        Box::pin(line(interp, st, io, &text)).await;
    }
}

/// The trace line of one `for` iteration (`for i in 1 2`; `for i in "$@"`
/// when the loop has no word list), or `None` when not tracing.
pub fn for_header(st: &ShellState, var: &str, has_words: bool, items: &[String]) -> Option<String> {
    if !st.options.xtrace {
        return None;
    }
    Some(if has_words {
        format!("for {var} in {}", quote_words(items))
    } else {
        format!("for {var} in \"$@\"")
    })
}

/// The text of a word as far as it can be shown without running anything:
/// literal and quoted text, and plain `$name` values. `None` when the word
/// holds a command substitution or another expansion with effects.
fn static_text(w: &Word, st: &ShellState) -> Option<String> {
    fn parts(ps: &[WordPart], st: &ShellState, o: &mut String) -> Option<()> {
        for p in ps {
            match p {
                WordPart::Lit(t) | WordPart::Quoted(t) => o.push_str(t),
                WordPart::Double(inner) => parts(inner, st, o)?,
                WordPart::Param(pe)
                    if pe.op == ParamOp::Plain && pe.index.is_none() && !pe.indirect =>
                {
                    o.push_str(
                        &crate::expand::lookup_subscripted(st, &pe.name).unwrap_or_default(),
                    );
                }
                _ => return None,
            }
        }
        Some(())
    }
    let mut o = String::new();
    parts(&w.parts, st, &mut o)?;
    Some(o)
}

/// A word shown roughly as it was written (the elements of `a=(…)`,
/// which bash traces as their source text).
fn source_text(w: &Word) -> String {
    fn parts(ps: &[WordPart], o: &mut String, dq: bool) {
        for p in ps {
            match p {
                WordPart::Lit(t) => o.push_str(t),
                WordPart::Quoted(t) if dq => o.push_str(t),
                WordPart::Quoted(t) => o.push_str(&single_quote(t)),
                WordPart::Double(inner) => {
                    o.push('"');
                    parts(inner, o, true);
                    o.push('"');
                }
                WordPart::Param(pe) if pe.op == ParamOp::Plain && pe.index.is_none() => {
                    o.push_str(&format!("${}", pe.name));
                }
                WordPart::Param(pe) => o.push_str(&format!("${{{}}}", pe.name)),
                WordPart::CmdSub(_) | WordPart::ProcSub(_) | WordPart::OutProcSub(_) => {
                    o.push_str("$(…)");
                }
                WordPart::Arith(_) => o.push_str("$((…))"),
            }
        }
    }
    let mut o = String::new();
    parts(&w.parts, &mut o, false);
    o
}

/// The left side of an assignment as a trace shows it: `name`, `name[i]`,
/// then `=` or `+=`.
fn lhs(a: &Assign, st: &ShellState) -> String {
    let mut o = a.name.clone();
    if let Some(i) = &a.index {
        o.push('[');
        o.push_str(&static_text(i, st).unwrap_or_else(|| source_text(i)));
        o.push(']');
    }
    if a.append {
        o.push('+');
    }
    o
}

/// Traces a scalar assignment whose value expanded to `value`.
pub async fn assign_line(interp: &Interp, st: &mut ShellState, io: &Io, a: &Assign, value: &str) {
    let t = assignment(&lhs(a, st), value);
    line(interp, st, io, &t).await;
}

/// Traces an array assignment `name=(…)` as its source text.
pub async fn array_line(interp: &Interp, st: &mut ShellState, io: &Io, a: &Assign, items: &[Word]) {
    let elems: Vec<String> = items.iter().map(source_text).collect();
    let t = format!("{}=({})", lhs(a, st), elems.join(" "));
    line(interp, st, io, &t).await;
}

/// Traces a declaration command (`declare -x a=1`, `local x`); `export`
/// and `readonly` also trace each assignment, as bash 5.2 does. Words
/// that would need a command run to show are left out.
pub async fn decl(interp: &Interp, st: &mut ShellState, io: &Io, kw: &str, args: &[DeclArg]) {
    if !st.options.xtrace {
        return;
    }
    let mut words = vec![kw.to_string()];
    let mut assigns = Vec::new();
    for d in args {
        match d {
            DeclArg::Word(w) => {
                if let Some(t) = static_text(w, st) {
                    words.push(t);
                }
            }
            DeclArg::Assign(a) => match &a.value {
                AssignValue::Scalar(w) => {
                    if let Some(v) = static_text(w, st) {
                        let l = lhs(a, st);
                        words.push(format!("{l}={v}"));
                        assigns.push(assignment(&l, &v));
                    }
                }
                AssignValue::Array(items) => {
                    let elems: Vec<String> = items.iter().map(source_text).collect();
                    words.push(format!("{}=({})", lhs(a, st), elems.join(" ")));
                }
            },
        }
    }
    line(interp, st, io, &quote_words(&words)).await;
    if matches!(kw, "export" | "readonly") {
        for t in assigns {
            line(interp, st, io, &t).await;
        }
    }
}

/// Runs the trap on `sig` (`ERR`, `DEBUG`, `RETURN`, `EXIT`) if one is
/// set and no trap is running, with `$?` and `$LINENO` as the command that
/// caused it left them; `$?` is restored afterwards. Returns the action's
/// status, or the flow it ended with when it ran `exit`.
pub async fn run_trap(
    interp: &Interp,
    st: &mut ShellState,
    io: &Io,
    sig: &str,
) -> Result<i32, Flow> {
    if st.trace.in_trap {
        return Ok(0);
    }
    let Some(action) = st.traps.get(sig).cloned() else {
        return Ok(0);
    };
    if action.is_empty() {
        return Ok(0);
    }
    let status = st.last_status;
    let line = st.lineno;
    let base = st.lines_from_here();
    st.trace.in_trap = true;
    let r = crate::builtins::run_source_named(interp, "trap", &action, st, io).await;
    st.trace.in_trap = false;
    st.line_base = base;
    st.lineno = line;
    let trap_status = st.last_status;
    st.last_status = status;
    match r {
        Err(Flow::Exit(s)) => Err(Flow::Exit(s)),
        _ => Ok(trap_status),
    }
}

/// Whether traps on `ERR` fire here: outside functions and subshells, or
/// anywhere under `set -E`.
pub fn err_trap_active(st: &ShellState) -> bool {
    st.traps.contains_key("ERR")
        && ((st.func_depth == 0 && st.trace.subshell == 0) || st.options.errtrace)
}

/// Whether a failure of `cmd` counts for `ERR` and `set -e`: simple
/// commands (and function calls), subshells, pipelines, `(( ))`, `[[ ]]`
/// and declarations; a compound command (`{ }`, `if`, loops, `case`,
/// `&&`/`||` lists, `!`) never fails on its own account.
pub fn counts_as_failure(cmd: &Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Simple(_)
            | Cmd::Subshell(_)
            | Cmd::Pipeline(..)
            | Cmd::Arith(..)
            | Cmd::Cond(..)
            | Cmd::Decl(..)
    )
}

/// A command failed with `status` outside a condition: runs the `ERR`
/// trap (when it applies here), then ends the shell under `set -e`.
pub async fn failed(
    interp: &Interp,
    st: &mut ShellState,
    io: &Io,
    status: i32,
) -> Result<(), Flow> {
    st.last_status = status;
    if err_trap_active(st) {
        run_trap(interp, st, io, "ERR").await?;
    }
    if st.options.errexit {
        return Err(Flow::Exit(status));
    }
    Ok(())
}

/// Before a command: runs the `DEBUG` trap when one is set (inside
/// functions only under `set -T`). Returns false when the command is to
/// be skipped (`shopt -s extdebug` and the trap returned non-zero).
pub async fn debug(interp: &Interp, st: &mut ShellState, io: &Io, cmd: &Cmd) -> Result<bool, Flow> {
    if st.trace.in_trap
        || !st.traps.contains_key("DEBUG")
        || (st.func_depth > 0 && !st.options.functrace)
    {
        return Ok(true);
    }
    if let Cmd::Simple(s) = cmd {
        let text: Vec<String> = s.words.iter().map(source_text).collect();
        let mut all: Vec<String> = s
            .assigns
            .iter()
            .map(|a| match &a.value {
                AssignValue::Scalar(w) => format!("{}={}", a.name, source_text(w)),
                AssignValue::Array(items) => format!(
                    "{}=({})",
                    a.name,
                    items.iter().map(source_text).collect::<Vec<_>>().join(" ")
                ),
            })
            .collect();
        all.extend(text);
        st.set("BASH_COMMAND", all.join(" "));
    }
    let r = run_trap(interp, st, io, "DEBUG").await?;
    Ok(r == 0 || !st.shopt.is("extdebug"))
}

/// What a function call hides from its body (the `RETURN` trap, which a
/// function inherits only under `set -T`) and the line it was called on
/// (`$LINENO` again once it returns).
pub struct Hidden(Option<String>, u32);

/// A function call begins: hides the caller's `RETURN` trap and, under
/// `set -T`, runs the `DEBUG` trap once more as bash does on entry.
pub async fn enter_function(interp: &Interp, st: &mut ShellState, io: &Io) -> Hidden {
    let line = st.lineno;
    if st.options.functrace {
        if st.traps.contains_key("DEBUG") {
            let _ = run_trap(interp, st, io, "DEBUG").await;
        }
        Hidden(None, line)
    } else {
        Hidden(st.traps.remove("RETURN"), line)
    }
}

/// A function body ended with `r`: runs the `RETURN` trap the body set or
/// inherited, then restores the caller's.
pub async fn leave_function(
    interp: &Interp,
    st: &mut ShellState,
    io: &Io,
    hidden: Hidden,
    r: Result<i32, Flow>,
) -> Result<i32, Flow> {
    let mut r = r;
    if st.traps.contains_key("RETURN") {
        if let Ok(s) | Err(Flow::Return(s)) = r {
            st.last_status = s;
        }
        if let Err(f) = run_trap(interp, st, io, "RETURN").await {
            r = Err(f);
        }
    } else if let Some(t) = hidden.0 {
        st.traps.insert("RETURN".into(), t);
    }
    st.lineno = hidden.1;
    r
}

/// A subshell is about to run in `sub` (a copy of the shell): it starts
/// with no `EXIT` trap of its own, as bash resets traps in subshells.
pub fn enter_subshell(sub: &mut ShellState) {
    sub.trace.subshell += 1;
    sub.traps.remove("EXIT");
}

/// A subshell ended with `status`: runs the `EXIT` trap it set.
pub async fn leave_subshell(interp: &Interp, sub: &mut ShellState, io: &Io, status: i32) -> i32 {
    if sub.traps.contains_key("EXIT") {
        sub.last_status = status;
        if let Err(Flow::Exit(s)) = run_trap(interp, sub, io, "EXIT").await {
            return s;
        }
    }
    status
}

/// `caller [N]`, read from `FUNCNAME`, `BASH_LINENO` and `BASH_SOURCE`
/// as bash does: without `N`, `LINE FILE` of the current call (`NULL`
/// when the caller has no file, as at the top of `bash -c` text); with
/// `N`, `LINE FUNC FILE` of frame `N`. `None` when there is no such frame
/// (bash's status 1, no output).
pub fn caller(st: &ShellState, n: Option<usize>) -> Option<String> {
    let elem = |name: &str, i: usize| -> Option<String> {
        match &st.vars.get(name)?.value {
            crate::state::Value::Indexed(m) => m.get(&(i as i64)).cloned(),
            crate::state::Value::Scalar(s) if i == 0 => Some(s.clone()),
            _ => None,
        }
    };
    elem("FUNCNAME", 0)?;
    match n {
        None => {
            let line = elem("BASH_LINENO", 0)?;
            let src = elem("BASH_SOURCE", 1).unwrap_or_else(|| "NULL".into());
            Some(format!("{line} {src}"))
        }
        Some(n) => {
            let line = elem("BASH_LINENO", n)?;
            let func = elem("FUNCNAME", n + 1)?;
            let src = elem("BASH_SOURCE", n + 1).unwrap_or_else(|| "NULL".into());
            Some(format!("{line} {func} {src}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_word("a b"), "'a b'");
        assert_eq!(quote_word(""), "''");
        assert_eq!(quote_word("a'b"), "'a'\\''b'");
        assert_eq!(quote_word("x~"), "x~");
        assert_eq!(quote_word("=~"), "'=~'");
        assert_eq!(quote_word("a#b"), "a#b");
        assert_eq!(quote_word("#"), "'#'");
        assert_eq!(quote_word("\x01"), "$'\\001'");
        assert_eq!(quote_word("é"), "é");
        assert_eq!(assignment("a", "x y"), "a='x y'");
        assert_eq!(assignment("a", ""), "a=");
    }
}
