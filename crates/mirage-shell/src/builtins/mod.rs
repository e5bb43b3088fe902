//! Shell builtins (seed 004's table), with bash 5.2 behaviour and status:
//! one file per builtin, each a [`Builtin`] listed in [`BUILTINS`].
//!
//! Builtins are part of the shell: they see and change the session
//! ([`ShellState`]), so they live here rather than in the command registry.
//! Programs that GNU ships separately (`env`, `printenv`, `xargs`,
//! `timeout`, `sleep`) are registered commands instead (mirage-commands).
//! A builtin bash has and Mirage does not implement says so and exits 2
//! ([`unsupported`]).

use async_trait::async_trait;

use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

mod alias;
mod bash;
mod r#break;
mod caller;
mod cd;
mod command;
mod compgen;
mod declare;
mod dirstack;
mod echo;
pub(crate) mod enable;
mod eval;
mod exit;
pub(crate) mod extra;
mod r#false;
mod getopt;
mod getopts;
pub(crate) mod hash;
mod help;
pub mod history;
mod jobs;
mod kill;
mod r#let;
mod mapfile;
mod printf;
mod pwd;
mod read;
mod r#return;
mod set;
mod shift;
mod shopt;
mod signals;
mod source;
mod test;
mod trap;
mod r#true;
pub(crate) mod r#type;
mod ulimit;
mod umask;
mod unset;
mod unsupported;
mod wait;

pub use declare::declare;
pub(crate) use declare::readonly_function;

/// One shell builtin (or a family sharing one implementation, such as
/// `test` and `[`).
#[async_trait]
pub trait Builtin: Send + Sync {
    /// The names it answers to; `argv[0]` tells [`Builtin::run`] which one
    /// was used.
    fn names(&self) -> &'static [&'static str];

    /// Runs it with `argv` (the name, then the expanded arguments) in the
    /// session `st`. `Ok(status)` is the exit status; `Err(Flow)` leaves a
    /// function, loop or the shell (`return`, `break`, `exit`).
    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult;
}

/// Every builtin of the shell; [`lookup`] searches it by name.
pub static BUILTINS: &[&dyn Builtin] = &[
    &echo::Echo,
    &printf::Printf,
    &cd::Cd,
    &pwd::Pwd,
    &declare::Declare,
    &unset::Unset,
    &r#true::True,
    &r#false::False,
    &test::Test,
    &read::Read,
    &set::Set,
    &shift::Shift,
    &r#return::Return,
    &r#break::Break,
    &exit::Exit,
    &eval::Eval,
    &source::Source,
    &r#type::Type,
    &command::Command,
    &r#let::Let,
    &bash::Bash,
    &trap::Trap,
    &caller::Caller,
    &mapfile::Mapfile,
    &getopts::Getopts,
    &wait::Wait,
    &alias::Alias,
    &hash::Hash,
    &shopt::Shopt,
    &umask::Umask,
    &dirstack::DirStack,
    &help::Help,
    &enable::Enable,
    &compgen::Compgen,
    &ulimit::Ulimit,
    &jobs::Jobs,
    &jobs::Disown,
    &jobs::FgBg,
    &kill::Kill,
    &history::History,
    &unsupported::Unsupported,
];

/// The builtin called `name`, if there is one.
pub fn lookup(name: &str) -> Option<&'static dyn Builtin> {
    BUILTINS.iter().copied().find(|b| b.names().contains(&name))
}

/// Whether `name` is a shell builtin (run in the shell, not dispatched).
pub fn is_builtin(name: &str) -> bool {
    lookup(name).is_some()
}

async fn out(io: &Io, data: &[u8]) -> Result<(), Flow> {
    if data.is_empty() {
        return Ok(());
    }
    // one block, sent as is: what an `Output` written once and flushed
    // sends, without its buffer
    match io.stdout.send(bytes::Bytes::copy_from_slice(data)).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind == mirage_types::ErrorKind::BrokenPipe => Err(Flow::Exit(141)),
        Err(_) => Ok(()),
    }
}

/// Writes each item in order: an `Ok` line (its newline included) on
/// stdout, an `Err` message on stderr, the lines before it written first so
/// the two streams keep bash's order. Returns 1 if there was an error, else
/// 0 (`complete -p NAME…`, `history -p WORD…`).
async fn lines_or_errors(io: &Io, items: Vec<Result<String, String>>) -> Result<i32, Flow> {
    let mut text = String::new();
    let mut status = 0;
    for item in items {
        match item {
            Ok(line) => text.push_str(&line),
            Err(msg) => {
                out(
                    io,
                    &mirage_types::bytestr::encode(&std::mem::take(&mut text)),
                )
                .await?;
                io.err(&msg).await;
                status = 1;
            }
        }
    }
    out(io, &mirage_types::bytestr::encode(&text)).await?;
    Ok(status)
}

fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

/// Says `bash: WHAT: not supported in mirage` on stderr and returns 2:
/// the answer of a builtin (or a form of one) Mirage does not implement,
/// so a script never mistakes it for success.
pub async fn unsupported(io: &Io, what: &str) -> i32 {
    io.err(&format!("bash: {what}: not supported in mirage\n"))
        .await;
    2
}

/// Runs the builtin `argv[0]` (status 127 if there is none).
pub async fn run(interp: &Interp, argv: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    match argv.first().and_then(|n| lookup(n)) {
        Some(b) => b.run(interp, argv, st, io).await,
        None => Ok(127),
    }
}

/// Runs `words` as a command line (function, builtin or registered command).
pub async fn run_command_words(
    interp: &Interp,
    words: &[String],
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let name = &words[0];
    if st.functions.contains_key(name) {
        return interp.call_function(name, &words[1..], st, io).await;
    }
    if is_builtin(name) {
        return Box::pin(run(interp, words, st, io)).await;
    }
    let env = st.exported();
    Ok(interp.run_external(words.to_vec(), env, st, io).await)
}

/// As [`run_command_words`] but skipping functions (`command`, `builtin`).
pub async fn run_command_words_nofunc(
    interp: &Interp,
    words: &[String],
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    if is_builtin(&words[0]) {
        return Box::pin(run(interp, words, st, io)).await;
    }
    let env = st.exported();
    Ok(interp.run_external(words.to_vec(), env, st, io).await)
}

/// Parses and runs `src` in the current state (eval, source).
pub async fn run_source(interp: &Interp, src: &str, st: &mut ShellState, io: &Io) -> ExecResult {
    run_source_named(interp, "eval", src, st, io).await
}

/// As [`run_source`] for the builtin `what` (`eval`, `source`, `bash`): at
/// most `st.limits.max_source_depth` of these nest; one more fails with
/// `bash: WHAT: maximum WHAT nesting level exceeded (N)` (bash's wording
/// for its `EVALNEST_MAX`/`SOURCENEST_MAX`) and abandons the command.
pub async fn run_source_named(
    interp: &Interp,
    what: &str,
    src: &str,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let max = st.limits.max_source_depth;
    if st.source_depth >= max {
        io.err(&format!(
            "{}{what}: maximum {what} nesting level exceeded ({max})\n",
            st.diag()
        ))
        .await;
        return Err(Flow::Abort(1));
    }
    st.source_depth += 1;
    let base = if what == "eval" {
        // bash counts an eval string's lines from where the command ends
        st.lineno = st
            .lineno
            .saturating_add(std::mem::take(&mut st.trace.eval_span));
        Some(st.lines_from_here())
    } else {
        None
    };
    let traced = what == "eval" || what == "source";
    if traced {
        st.trace.level += 1;
    }
    let r = Box::pin(run_parsed(interp, what, src, st, io)).await;
    if traced {
        st.trace.level -= 1;
    }
    if let Some(b) = base {
        st.line_base = b;
    }
    st.source_depth -= 1;
    r
}

async fn run_parsed(
    interp: &Interp,
    what: &str,
    src: &str,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let (status, error) = crate::alias::run_input(interp, src, st, io).await?;
    if let Some(e) = error {
        if what == "eval" && !st.interactive {
            // bash 5.2: `bash: eval: line N: MESSAGE`, then the line with
            // an unexpected token, N counted from the `eval` command's line
            let line = st
                .line_base
                .saturating_add(u32::try_from(e.line.max(1)).unwrap_or(1));
            let head = format!("{}: eval: line {line}: ", st.script_name);
            let mut msg = format!("{head}{e}\n");
            if e.message.starts_with("syntax error near")
                && let Some(text) = src.split('\n').nth(e.line.max(1) - 1)
            {
                msg.push_str(&format!("{head}`{text}'\n"));
            }
            io.err(&msg).await;
        } else {
            io.err(&format!("{}eval: {e}\n", st.diag())).await;
        }
        return Ok(2);
    }
    Ok(status)
}
