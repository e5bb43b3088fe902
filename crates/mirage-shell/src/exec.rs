//! The interpreter: walks the AST with bash 5.2 semantics.
//!
//! Pipelines run their stages concurrently in one task (`join_all`), joined
//! by bounded channels; each stage runs on a copy of the state, as bash runs
//! pipeline stages in subshells. When a reader stops early, the writer's
//! next write fails with `BrokenPipe` and the stage ends with status 141,
//! as `SIGPIPE` ends it in bash.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use mirage_types::command::{CommandCtx, CommandHost};
use mirage_types::{ByteSource, IOResult, Input, Output, Sink, Vfs};
use tokio::sync::mpsc;

use crate::ast::*;
use crate::state::ShellState;

/// How deep function calls may nest by default before the call fails
/// (bash's `FUNCNEST`, set so that the interpreter's own stack stays
/// bounded); [`crate::state::Limits::max_call_depth`] is the session's value.
pub const MAX_CALL_DEPTH: usize = 200;

/// Non-local control flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `break N` (levels left).
    Break(u32),
    /// `continue N`.
    Continue(u32),
    /// `return N`.
    Return(i32),
    /// `exit N`, or a fatal expansion error.
    Exit(i32),
    /// An error that abandons the current top-level command (a readonly
    /// assignment); the script goes on with the next one.
    Abort(i32),
}

/// A command's status, or control flow leaving it.
pub type ExecResult = Result<i32, Flow>;

/// A shared standard input: commands in one sequence read from the same
/// stream (`{ read a; read b; } < f`).
pub type StdinSlot = Arc<Mutex<Input>>;

/// The standard streams of the command being run.
#[derive(Clone)]
pub struct Io {
    /// Standard input.
    pub stdin: StdinSlot,
    /// Standard output.
    pub stdout: Sink,
    /// Standard error.
    pub stderr: Sink,
}

impl Io {
    /// Streams from an input and two sinks.
    pub fn new(stdin: Input, stdout: Sink, stderr: Sink) -> Self {
        Io {
            stdin: Arc::new(Mutex::new(stdin)),
            stdout,
            stderr,
        }
    }
    /// Takes the input out of the slot (leaving it empty).
    pub fn take_stdin(&self) -> Input {
        match self.stdin.lock() {
            Ok(mut g) => std::mem::replace(&mut *g, Input::empty()),
            Err(p) => std::mem::replace(&mut *p.into_inner(), Input::empty()),
        }
    }
    /// Puts an input back into the slot.
    pub fn put_stdin(&self, input: Input) {
        match self.stdin.lock() {
            Ok(mut g) => *g = input,
            Err(p) => *p.into_inner() = input,
        }
    }
    /// Writes to stderr (unbuffered).
    pub async fn err(&self, msg: &str) {
        let mut o = Output::new(self.stderr.clone());
        let _ = o.write(&mirage_types::bytestr::encode(msg)).await;
        let _ = o.flush().await;
    }
}

/// The interpreter: the command host and the VFS, cheap to clone.
#[derive(Clone)]
pub struct Interp {
    /// Runs non-builtin commands.
    pub host: Arc<dyn CommandHost>,
    /// The VFS router.
    pub vfs: Arc<dyn Vfs>,
}

fn set_pipestatus(st: &mut ShellState, statuses: &[i32]) {
    // the common case without allocating: a plain array of as many
    // elements, indexed 0…, rewritten in place
    if let Some(v) = st.vars.get_mut("PIPESTATUS")
        && let crate::state::Value::Indexed(m) = &mut v.value
        && m.len() == statuses.len()
        && m.keys().enumerate().all(|(i, k)| *k == i as i64)
    {
        for (x, s) in m.values_mut().zip(statuses) {
            // the usual 0…9 without the formatting machinery
            match u8::try_from(*s) {
                Ok(d @ 0..=9) => {
                    if x.len() != 1 || x.as_bytes()[0] != b'0' + d {
                        x.clear();
                        x.push(char::from(b'0' + d));
                    }
                }
                _ => {
                    x.clear();
                    let _ = std::fmt::Write::write_fmt(x, format_args!("{s}"));
                }
            }
        }
        let value = std::mem::replace(&mut v.value, crate::state::Value::Scalar(String::new()));
        *v = crate::state::Var::scalar("");
        v.value = value;
        return;
    }
    let m = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| (i as i64, s.to_string()))
        .collect();
    let mut v = crate::state::Var::scalar("");
    v.value = crate::state::Value::Indexed(m);
    st.vars.insert("PIPESTATUS".into(), v);
}

struct PendingWrite {
    path: String,
    how: Pending,
}

/// How a file redirect's bytes reach the file.
enum Pending {
    /// Streamed: a task appends what the command writes, as it writes it,
    /// through a bounded channel (memory stays flat for `> file` of any
    /// size). Sending on `done` (or dropping it) ends the stream once the
    /// command has finished.
    Stream {
        done: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<mirage_types::Result<()>>,
    },
    /// Collected, then appended (only without a tokio runtime).
    Capture(Arc<Mutex<Vec<u8>>>),
    /// `> >(cmd)`: collected, then given to `cmd` (run in a copy of the
    /// state, as bash runs it in a subshell) as its standard input.
    Process(Arc<Script>, Box<ShellState>, Arc<Mutex<Vec<u8>>>),
    /// Descriptor N (3 or more) as it was before the command's redirect.
    RestoreFd(u32, Option<crate::execfd::FdEntry>),
}

/// The bytes sent on `rx`, as a stream that ends when every sender is gone
/// or `done` fires (then the chunks already sent are still delivered).
fn redirect_stream(
    rx: mpsc::Receiver<Bytes>,
    done: tokio::sync::oneshot::Receiver<()>,
) -> ByteSource {
    use futures::StreamExt;
    let s = futures::stream::unfold((rx, Some(done)), |(mut rx, mut done)| async move {
        loop {
            match done.as_mut() {
                Some(d) => {
                    tokio::select! {
                        biased;
                        b = rx.recv() => return b.map(|b| (Ok(b), (rx, done))),
                        _ = d => {
                            rx.close();
                            done = None;
                        }
                    }
                }
                None => return rx.recv().await.map(|b| (Ok(b), (rx, None))),
            }
        }
    });
    ByteSource::Stream(s.boxed())
}

impl Interp {
    /// An interpreter over `host`.
    pub fn new(host: Arc<dyn CommandHost>) -> Self {
        let vfs = host.vfs();
        Interp { host, vfs }
    }

    /// Runs a parsed script; returns the exit status (`exit N` ends it early).
    pub async fn run_script(&self, script: &Script, st: &mut ShellState, io: &Io) -> i32 {
        match self.run_lines(script, st, io).await {
            Ok(s) | Err(Flow::Exit(s) | Flow::Return(s) | Flow::Abort(s)) => {
                st.last_status = s;
                s
            }
            Err(Flow::Break(_) | Flow::Continue(_)) => st.last_status,
        }
    }

    /// Runs a script's commands as bash runs the lines of `-c` text, an
    /// `eval` string or a sourced file: an error that abandons a command
    /// ([`Flow::Abort`]: a bad substitution, an arithmetic error) skips the
    /// rest of its line, and the next line runs. Other control flow
    /// (`exit`, `return`, `break`) leaves at once.
    pub async fn run_lines(&self, script: &Script, st: &mut ShellState, io: &Io) -> ExecResult {
        let mut i = 0;
        while let Some(item) = script.items.get(i) {
            match self.exec(item, st, io).await {
                Ok(s) => {
                    st.last_status = s;
                    i += 1;
                }
                Err(Flow::Abort(s)) => {
                    st.last_status = s;
                    i = script.next_line(i);
                }
                Err(f) => return Err(f),
            }
        }
        Ok(st.last_status)
    }

    /// Executes one command.
    pub fn exec<'a>(
        &'a self,
        cmd: &'a Cmd,
        st: &'a mut ShellState,
        io: &'a Io,
    ) -> BoxFuture<'a, ExecResult> {
        match crate::fastpath::try_run(cmd, st) {
            Some(crate::fastpath::Now::Status(s)) => return Box::pin(std::future::ready(Ok(s))),
            Some(crate::fastpath::Now::Error(msg)) => {
                return Box::pin(async move {
                    let remapped = crate::execfd::remap(st, io);
                    let io = remapped.as_ref().unwrap_or(io);
                    io.err(&format!("{}{msg}\n", st.diag())).await;
                    Err(Flow::Abort(1))
                });
            }
            None => {}
        }
        Box::pin(async move {
            // each nested command polls one level deeper on this stack
            if st.limits.stack_low() {
                io.err(&format!("{}maximum nesting level exceeded\n", st.diag()))
                    .await;
                return Err(Flow::Abort(1));
            }
            let status = match cmd {
                Cmd::Empty => Ok(st.last_status),
                Cmd::Simple(s) => {
                    st.set_line(s.line);
                    st.trace.eval_span = crate::trace::eval_span(s);
                    if !crate::trace::debug(self, st, io, cmd).await? {
                        return Ok(st.last_status);
                    }
                    self.exec_simple(s, st, io).await
                }
                Cmd::Seq(items) => {
                    let mut last = 0;
                    for c in items {
                        last = self.exec(c, st, io).await?;
                        st.last_status = last;
                    }
                    Ok(last)
                }
                Cmd::Pipeline(stages, errs) => self.exec_pipeline(stages, errs, st, io).await,
                Cmd::AndOr(first, rights) => {
                    // a flat chain, run in a loop: 100,000 `&&` need no
                    // deeper stack than one
                    st.cond_depth += 1;
                    let ls = self.exec(first, st, io).await;
                    st.cond_depth -= 1;
                    let mut status = ls?;
                    for (i, (and, r)) in rights.iter().enumerate() {
                        st.last_status = status;
                        let go = if *and { status == 0 } else { status != 0 };
                        if !go {
                            continue;
                        }
                        // only the last operand runs outside a condition (errexit)
                        if i + 1 < rights.len() {
                            st.cond_depth += 1;
                            let rs = self.exec(r, st, io).await;
                            st.cond_depth -= 1;
                            status = rs?;
                        } else {
                            status = self.exec(r, st, io).await?;
                        }
                    }
                    Ok(status)
                }
                // `!` alone negates the empty command's status 0
                Cmd::Not(c) if matches!(**c, Cmd::Empty) => Ok(1),
                Cmd::Not(c) => {
                    st.cond_depth += 1;
                    let s = self.exec(c, st, io).await;
                    st.cond_depth -= 1;
                    Ok(if s? == 0 { 1 } else { 0 })
                }
                Cmd::Background(c, text) => crate::jobs::background(self, c, text, st, io).await,
                Cmd::Time { posix, cmd } => crate::timecmd::run(self, *posix, cmd, st, io).await,
                Cmd::Select { .. } => crate::select::run(self, cmd, st, io).await,
                Cmd::Group(c) => self.exec(c, st, io).await,
                Cmd::Subshell(c) => {
                    let mut sub = st.clone();
                    sub.expansion_exit = false;
                    crate::trace::enter_subshell(&mut sub);
                    let s = match self.exec(c, &mut sub, io).await {
                        // bash: a subshell ended by an expansion error exits 1
                        Err(Flow::Exit(127)) if sub.expansion_exit => 1,
                        Ok(s) | Err(Flow::Exit(s) | Flow::Return(s) | Flow::Abort(s)) => s,
                        Err(_) => sub.last_status,
                    };
                    let kept = st.exec_fds.kept.len();
                    crate::procsub::flush_kept(self, &mut sub, io, kept).await;
                    st.lineno = sub.lineno;
                    Ok(crate::trace::leave_subshell(self, &mut sub, io, s).await)
                }
                Cmd::If(arms, els) => {
                    for (cond, body) in arms {
                        st.cond_depth += 1;
                        let c = self.exec(cond, st, io).await;
                        st.cond_depth -= 1;
                        if c? == 0 {
                            return self.exec(body, st, io).await;
                        }
                    }
                    match els {
                        Some(e) => self.exec(e, st, io).await,
                        None => Ok(0),
                    }
                }
                Cmd::While(cond, body, until) => {
                    let mut last = 0;
                    st.loop_depth += 1;
                    let r = loop {
                        if let Err(f) = crate::jobs::tick_loop(st, io).await {
                            break Err(f);
                        }
                        st.cond_depth += 1;
                        let c = self.exec(cond, st, io).await;
                        st.cond_depth -= 1;
                        let c = match c {
                            Ok(c) => c,
                            Err(f) => break Err(f),
                        };
                        if (c == 0) == *until {
                            break Ok(last);
                        }
                        match self.exec(body, st, io).await {
                            Ok(s) => last = s,
                            Err(Flow::Break(n)) => {
                                if n > 1 {
                                    break Err(Flow::Break(n - 1));
                                }
                                // `break` set the status (1 for `break 0`)
                                break Ok(st.last_status);
                            }
                            Err(Flow::Continue(n)) => {
                                if n > 1 {
                                    break Err(Flow::Continue(n - 1));
                                }
                            }
                            Err(f) => break Err(f),
                        }
                    };
                    st.loop_depth -= 1;
                    r
                }
                Cmd::For(var, words, body, line) => {
                    st.set_line(*line);
                    let items = match words {
                        Some(ws) => self.expand_words(ws, st, io).await?,
                        None => st.positional.clone(),
                    };
                    let mut last = 0;
                    st.loop_depth += 1;
                    let mut r = Ok(0);
                    let shown = crate::trace::for_header(st, var, words.is_some(), &items);
                    for it in items {
                        if let Err(f) = crate::jobs::tick_loop(st, io).await {
                            r = Err(f);
                            break;
                        }
                        if let Some(msg) = crate::bashargv::loop_var_refused(st, var) {
                            io.err(&msg).await;
                            last = 1;
                            break;
                        }
                        crate::expand::assign_subscripted(st, var, it);
                        if let Some(t) = &shown {
                            crate::trace::line(self, st, io, t).await;
                        }
                        match self.exec(body, st, io).await {
                            Ok(s) => last = s,
                            Err(Flow::Break(n)) => {
                                r = if n > 1 {
                                    Err(Flow::Break(n - 1))
                                } else {
                                    Ok(0)
                                };
                                // `break` set the status (1 for `break 0`)
                                last = st.last_status;
                                break;
                            }
                            Err(Flow::Continue(n)) => {
                                if n > 1 {
                                    r = Err(Flow::Continue(n - 1));
                                    break;
                                }
                            }
                            Err(f) => {
                                r = Err(f);
                                break;
                            }
                        }
                        r = Ok(last);
                    }
                    st.loop_depth -= 1;
                    r.map(|_| last)
                }
                Cmd::CFor(init, cond, step, body, line) => {
                    st.set_line(*line);
                    // an arithmetic error ends the loop with status 1 and
                    // the script goes on, as for `(( … ))`
                    if let Some(w) = init {
                        match self.arith(w, st, io).await {
                            Ok(_) => {}
                            Err(Flow::Exit(s)) => return Ok(s),
                            Err(f) => return Err(f),
                        }
                    }
                    let mut last = 0;
                    st.loop_depth += 1;
                    let r = loop {
                        if let Err(f) = crate::jobs::tick_loop(st, io).await {
                            break Err(f);
                        }
                        if let Some(w) = cond {
                            match self.arith(w, st, io).await {
                                Ok(0) => break Ok(last),
                                Ok(_) => {}
                                Err(Flow::Exit(s)) => break Ok(s),
                                Err(f) => break Err(f),
                            }
                        }
                        match self.exec(body, st, io).await {
                            Ok(s) => last = s,
                            Err(Flow::Break(n)) => {
                                break if n > 1 {
                                    Err(Flow::Break(n - 1))
                                } else {
                                    Ok(st.last_status)
                                };
                            }
                            Err(Flow::Continue(n)) if n > 1 => break Err(Flow::Continue(n - 1)),
                            Err(Flow::Continue(_)) => {}
                            Err(f) => break Err(f),
                        }
                        if let Some(w) = step {
                            match self.arith(w, st, io).await {
                                Ok(_) => {}
                                Err(Flow::Exit(s)) => break Ok(s),
                                Err(f) => break Err(f),
                            }
                        }
                    };
                    st.loop_depth -= 1;
                    r
                }
                Cmd::Case(word, items, line) => {
                    st.set_line(*line);
                    let subject = self.expand_single(word, st, io).await?;
                    if st.options.xtrace {
                        let t = format!("case {} in", crate::trace::quote_word(&subject));
                        crate::trace::line(self, st, io, &t).await;
                    }
                    let mut i = 0;
                    let mut status = 0;
                    let mut falling = false;
                    while i < items.len() {
                        let item = &items[i];
                        let mut hit = falling;
                        if !hit {
                            for p in &item.patterns {
                                let pat = self.expand_pattern(p, st, io).await?;
                                if crate::pattern::matches_with(
                                    &pat,
                                    &subject,
                                    st.shopt.case_opts(),
                                ) {
                                    hit = true;
                                    break;
                                }
                            }
                        }
                        if hit {
                            status = self.exec(&item.body, st, io).await?;
                            match item.term {
                                CaseTerm::Break => break,
                                CaseTerm::FallThrough => falling = true,
                                CaseTerm::Continue => falling = false,
                            }
                        }
                        i += 1;
                    }
                    Ok(status)
                }
                Cmd::FuncDef(name, body) => {
                    if crate::builtins::readonly_function(st, io, name).await {
                        return Ok(1);
                    }
                    st.functions.insert(name.clone(), body.clone());
                    Ok(0)
                }
                Cmd::Redirected(inner, redirs) => {
                    // its errors name the command's (last) line
                    if let Some(l) = crate::funcprint::last_line(inner) {
                        st.set_line(l);
                    }
                    let (rio, pending) = match self.apply_redirects(redirs, st, io, false).await {
                        Ok(x) => x,
                        Err(s) => return Ok(s),
                    };
                    let r = self.exec(inner, st, &rio).await;
                    drop(rio);
                    self.finish_redirects(pending, st, io).await;
                    r
                }
                Cmd::Arith(w, line) => {
                    st.set_line(*line);
                    // its errors go where `exec 2>…` left stderr
                    let remapped = crate::execfd::remap(st, io);
                    let io = remapped.as_ref().unwrap_or(io);
                    match self.arith(w, st, io).await {
                        Ok(v) => Ok(if v != 0 { 0 } else { 1 }),
                        Err(Flow::Exit(s)) => Ok(s),
                        Err(f) => Err(f),
                    }
                }
                Cmd::Cond(words, line) => {
                    st.set_line(*line);
                    let remapped = crate::execfd::remap(st, io);
                    let io = remapped.as_ref().unwrap_or(io);
                    crate::test::cond(self, words, st, io).await
                }
                Cmd::Decl(kw, args, redirs, line) => {
                    st.set_line(*line);
                    let (rio, pending) = match self.apply_redirects(redirs, st, io, false).await {
                        Ok(x) => x,
                        Err(s) => return Ok(s),
                    };
                    crate::trace::decl(self, st, io, kw, args).await;
                    st.trace.in_decl = true;
                    let closed_before = rio.stdout.closed_writes();
                    let r = crate::builtins::declare(self, kw, args, st, &rio).await;
                    st.trace.in_decl = false;
                    let r = match (closed_before, r) {
                        (Some(n), Ok(code)) => {
                            Ok(crate::execfd::closed_stdout(st, &rio, n, kw, true, code).await)
                        }
                        (_, r) => r,
                    };
                    drop(rio);
                    self.finish_redirects(pending, st, io).await;
                    r
                }
            };
            if let Ok(s) = status {
                st.last_status = s;
                if s != 0 && st.cond_depth == 0 && crate::trace::counts_as_failure(cmd) {
                    crate::trace::failed(self, st, io, s).await?;
                }
            }
            status
        })
    }

    async fn arith(&self, w: &Word, st: &mut ShellState, io: &Io) -> Result<i64, Flow> {
        // `i < 10` of `for ((…))` and `(( … ))`: the text itself, no copy
        let expanded;
        let text: &str = match crate::expand::arith_literal(&w.parts) {
            Some(t) => t,
            None => {
                expanded = self.expand_single(w, st, io).await?;
                &expanded
            }
        };
        if st.options.xtrace {
            Box::pin(crate::trace::line(self, st, io, &format!("(( {text} ))"))).await;
        }
        match crate::arith::eval(text, st) {
            Ok(v) => Ok(v),
            Err(e) => {
                // bash 5.2 names the command: `((: 1/0 : division by 0 …`
                io.err(&format!("{}((: {}\n", st.diag(), e.report(text)))
                    .await;
                Err(Flow::Exit(1))
            }
        }
    }

    async fn exec_pipeline(
        &self,
        stages: &[Cmd],
        errs: &[bool],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        if stages.len() == 1 {
            return self.exec(&stages[0], st, io).await;
        }
        let n = stages.len();
        if n > st.limits.max_pipeline_stages {
            io.err(&format!(
                "{}pipeline of {n} commands exceeds the limit of {}\n",
                st.diag(),
                st.limits.max_pipeline_stages
            ))
            .await;
            return Err(Flow::Abort(1));
        }
        let mut futs = Vec::with_capacity(n);
        let mut next_in: Option<mpsc::Receiver<Bytes>> = None;
        // `shopt -s lastpipe`: the last stage runs in this shell
        let mut last_io: Option<Io> = None;
        for (i, stage) in stages.iter().enumerate() {
            let stdin: StdinSlot = match next_in.take() {
                Some(rx) => Arc::new(Mutex::new(Input::from_pipe(rx))),
                None => io.stdin.clone(),
            };
            let stdout = if i + 1 == n {
                io.stdout.clone()
            } else {
                let (tx, rx) = mpsc::channel::<Bytes>(16);
                next_in = Some(rx);
                Sink::Pipe(tx)
            };
            let stderr = if errs.get(i).copied().unwrap_or(false) {
                stdout.clone()
            } else {
                io.stderr.clone()
            };
            let sio = Io {
                stdin,
                stdout,
                stderr,
            };
            if i + 1 == n && st.shopt.is("lastpipe") {
                last_io = Some(sio);
                break;
            }
            let mut sst = st.clone();
            crate::trace::enter_subshell(&mut sst);
            futs.push(async move {
                let r = match self.exec(stage, &mut sst, &sio).await {
                    Ok(s) | Err(Flow::Exit(s) | Flow::Return(s) | Flow::Abort(s)) => s,
                    Err(_) => sst.last_status,
                };
                drop(sio);
                r
            });
        }
        let statuses = match last_io {
            Some(sio) => crate::glob::lastpipe(self, stages, futs, sio, st).await?,
            None => futures::future::join_all(futs).await,
        };
        set_pipestatus(st, &statuses);
        let last = statuses.last().copied().unwrap_or(0);
        if st.options.pipefail
            && let Some(s) = statuses.iter().rev().find(|s| **s != 0)
        {
            return Ok(*s);
        }
        Ok(last)
    }

    async fn exec_simple(&self, s: &Simple, st: &mut ShellState, io: &Io) -> ExecResult {
        crate::jobs::tick_command(st, io).await?;
        let r = self.exec_simple_inner(s, st, io).await;
        st.procsubs.clear();
        crate::procsub::finish_outs(self, st, io).await;
        r
    }

    async fn exec_simple_inner(&self, s: &Simple, st: &mut ShellState, io: &Io) -> ExecResult {
        // the shell's own stdout/stderr as an earlier `exec 2>&1` left them
        let remapped = crate::execfd::remap(st, io);
        let io = remapped.as_ref().unwrap_or(io);
        st.last_subst_status = None;
        let argv = self.expand_words(&s.words, st, io).await?;
        if argv.is_empty() {
            for a in &s.assigns {
                if !self.do_assign(a, st, io, false).await? {
                    return Err(Flow::Abort(1));
                }
            }
            let (rio, pending) = match self.apply_redirects(&s.redirs, st, io, false).await {
                Ok(x) => x,
                Err(code) => return Ok(code),
            };
            drop(rio);
            self.finish_redirects(pending, st, io).await;
            return Ok(st.last_subst_status.unwrap_or(0));
        }
        // `exec` alone: its redirects stay for the rest of the session
        let bare_exec = argv.len() == 1 && argv[0] == "exec";
        let (rio, mut pending) = match self.apply_redirects(&s.redirs, st, io, bare_exec).await {
            Ok(x) => x,
            Err(code) => return Ok(code),
        };
        let closed_before = rio.stdout.closed_writes();
        let name = argv[0].clone();
        crate::special::set_last_arg(st, &argv);
        let is_func = st.functions.contains_key(&name);
        let is_builtin = !is_func && crate::builtins::is_builtin(&name);
        let result = if is_func || is_builtin {
            // prefix assignments are temporary for functions and builtins
            let mut saved = Vec::new();
            for a in &s.assigns {
                saved.push((a.name.clone(), st.vars.get(&a.name).cloned()));
                if !self.do_assign(a, st, io, true).await? {
                    return Ok(1);
                }
            }
            crate::trace::words(self, st, io, &argv).await;
            let r = if is_func {
                Box::pin(self.call_function(&name, &argv[1..], st, &rio)).await
            } else {
                crate::builtins::run(self, &argv, st, &rio).await
            };
            if bare_exec {
                // `exec 3>file`: the descriptors stay open
                pending.retain(|p| !matches!(p.how, Pending::RestoreFd(..)));
                // `exec > >(cmd)`: cmd gets what the shell sends there
                for p in std::mem::take(&mut pending) {
                    match p.how {
                        Pending::Process(script, sub, buf) => {
                            crate::procsub::keep(st, io, script, sub, buf);
                        }
                        how => pending.push(PendingWrite { path: p.path, how }),
                    }
                }
            }
            let r = if bare_exec && !pending.is_empty() {
                // `exec > >(cmd)`: later commands would not write to it;
                // say so instead of silently leaving their output where it was.
                io.err(&format!(
                    "{}exec: unsupported: keeping a redirection to a process substitution\n",
                    st.diag()
                ))
                .await;
                Ok(1)
            } else {
                if bare_exec {
                    crate::execfd::record(st, io, &rio);
                }
                r
            };
            if st.options.posix && !is_func && crate::builtins::enable::is_special(&name) {
                saved.clear();
            }
            for (n, v) in saved.into_iter().rev() {
                match v {
                    Some(v) => {
                        st.vars.insert(n, v);
                    }
                    None => {
                        st.vars.remove(&n);
                    }
                }
            }
            r
        } else {
            let mut env = st.exported();
            for a in &s.assigns {
                let v = match &a.value {
                    AssignValue::Scalar(w) => self.expand_single(w, st, io).await?,
                    AssignValue::Array(_) => String::new(),
                };
                if st.options.xtrace {
                    let t = crate::trace::assignment(&a.name, &v);
                    crate::trace::line(self, st, io, &t).await;
                }
                env.insert(a.name.clone(), v);
            }
            crate::trace::words(self, st, io, &argv).await;
            crate::builtins::hash::remember(self, st, &argv[0]);
            Ok(Box::pin(self.run_external(argv, env, st, &rio)).await)
        };
        // a write to a closed stdout (`echo hi >&-`) as bash and GNU report it
        let result = match (closed_before, result) {
            (Some(n), Ok(code)) if !is_func => {
                Ok(crate::execfd::closed_stdout(st, &rio, n, &name, is_builtin, code).await)
            }
            (_, r) => r,
        };
        drop(rio);
        // a file the output could not be written to fails the command
        let result = match self.finish_redirects(pending, st, io).await {
            true if matches!(result, Ok(0 | 141)) => Ok(1),
            _ => result,
        };
        if let Sink::Pipe(tx) = &io.stdout
            && tx.is_closed()
        {
            return Err(Flow::Exit(141));
        }
        if let Ok(code) = result {
            set_pipestatus(st, &[code]);
        }
        result
    }

    /// Runs a registered command through the host.
    pub async fn run_external(
        &self,
        argv: Vec<String>,
        env: std::collections::BTreeMap<String, String>,
        st: &ShellState,
        io: &Io,
    ) -> i32 {
        let mut it = argv.into_iter();
        let name = it.next().unwrap_or_default();
        let vfs: Arc<dyn Vfs> = if st.procsubs.is_empty() && st.exec_fds.outsubs.is_empty() {
            self.vfs.clone()
        } else {
            Arc::new(crate::procsub::ProcSubVfs {
                inner: self.vfs.clone(),
                files: st.procsubs.clone(),
                outs: crate::procsub::out_files(st),
            })
        };
        let mut ctx = CommandCtx {
            name,
            args: it.collect(),
            cwd: st.cwd.clone(),
            env,
            vfs,
            stdin: io.take_stdin(),
            stdout: Output::new(io.stdout.clone()),
            stderr: Output::new(io.stderr.clone()),
            io: IOResult::default(),
            mount: None,
            runner: Some(Arc::new(self.clone())),
            net: None,
        };
        let status = if ctx.name.contains('/') {
            self.run_script_file(&mut ctx, st).await
        } else if self.host.resolves(&ctx) {
            self.host.run(&mut ctx).await
        } else if let Some(found) = self.path_lookup(&ctx.name, st).await {
            // an executable file in a `PATH` directory of the workspace
            ctx.name = found;
            self.run_script_file(&mut ctx, st).await
        } else {
            let msg = format!("{}{}: command not found\n", st.diag(), ctx.name);
            let _ = ctx.stderr.write(&mirage_types::bytestr::encode(&msg)).await;
            let _ = ctx.stderr.flush().await;
            127
        };
        let rest = std::mem::replace(&mut ctx.stdin, Input::empty());
        io.put_stdin(rest);
        status
    }

    /// The first `DIR/name` over the directories of `PATH` (an empty one
    /// is the current directory, `./name`) that is a regular file with an
    /// execute bit in the workspace, named as bash names it (`$0`:
    /// `DIR/name`, so relative for a relative `DIR`). Else the first such file without
    /// one (running it then fails with "Permission denied", 126, as in
    /// bash); `None` when there is neither. A file whose resource keeps no
    /// mode bits is never a command. `type`, `command -v` and `hash` find
    /// the same (bash's "executable preferred"). Only the workspace is
    /// searched, never the host.
    pub(crate) async fn path_lookup(&self, name: &str, st: &ShellState) -> Option<String> {
        let path = st.get("PATH")?;
        let mut not_executable = None;
        for dir in path.split(':') {
            let shown = if dir.is_empty() {
                format!("./{name}")
            } else {
                format!("{}/{name}", dir.trim_end_matches('/'))
            };
            match self
                .vfs
                .stat(&mirage_types::join_path(&st.cwd, &shown))
                .await
            {
                Ok(s) if !s.is_dir() => match s.mode {
                    Some(m) if m & 0o111 != 0 => return Some(shown),
                    Some(_) => {
                        not_executable.get_or_insert(shown);
                    }
                    None => {}
                },
                _ => {}
            }
        }
        not_executable
    }

    /// Runs `./script` by path: 127 if missing, 126 if a directory or not
    /// executable, else the file as a bash script in a child shell.
    async fn run_script_file(&self, ctx: &mut CommandCtx, st: &ShellState) -> i32 {
        let path = ctx.resolve(&ctx.name);
        let fail = |msg: &str, code: i32, ctx: &mut CommandCtx| {
            let line = format!("{}{}: {msg}\n", st.diag(), ctx.name);
            (line, code)
        };
        let (line, code) = match self.vfs.stat(&path).await {
            Err(e) => fail(e.message(), 127, ctx),
            Ok(s) if s.is_dir() => fail("Is a directory", 126, ctx),
            Ok(s) if s.mode.is_some_and(|m| m & 0o111 == 0) => fail("Permission denied", 126, ctx),
            Ok(_) => {
                let data = match self.vfs.read(&path).await {
                    Ok(src) => src.collect().await.unwrap_or_default(),
                    Err(e) => {
                        let (l, c) = fail(e.message(), 126, ctx);
                        let _ = ctx.stderr.write(&mirage_types::bytestr::encode(&l)).await;
                        return c;
                    }
                };
                let src = mirage_types::bytestr::decode(&data).into_owned();
                let mut sub = st.clone();
                sub.positional = ctx.args.clone();
                sub.arg0 = ctx.name.clone();
                sub.script_name = ctx.name.clone();
                sub.line_base = 0;
                sub.func_depth = 0;
                sub.functions.clear();
                sub.vars.retain(|_, v| v.exported);
                crate::bashargv::new_shell(&mut sub);
                let io = Io::new(
                    std::mem::replace(&mut ctx.stdin, Input::empty()),
                    ctx.stdout.sink().clone(),
                    ctx.stderr.sink().clone(),
                );
                return match crate::builtins::run_source_named(self, "bash", &src, &mut sub, &io)
                    .await
                {
                    Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                    Err(_) => sub.last_status,
                };
            }
        };
        let _ = ctx
            .stderr
            .write(&mirage_types::bytestr::encode(&line))
            .await;
        let _ = ctx.stderr.flush().await;
        code
    }

    /// Calls the function `name` with `args`.
    pub async fn call_function(
        &self,
        name: &str,
        args: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let Some(body) = st.functions.get(name).cloned() else {
            return Ok(127);
        };
        if st.local_frames.len() >= st.limits.max_call_depth {
            io.err(&format!(
                "{}{name}: maximum function nesting level exceeded ({})\n",
                st.diag(),
                st.limits.max_call_depth
            ))
            .await;
            return Err(Flow::Exit(1));
        }
        let saved_pos = std::mem::replace(&mut st.positional, args.to_vec());
        st.local_frames.push(Vec::new());
        st.func_depth += 1;
        crate::special::enter_function(st, name);
        let argv_pushed = crate::bashargv::enter_function(st, args);
        let hidden = crate::trace::enter_function(self, st, io).await;
        let r = self.exec(&body, st, io).await;
        let r = crate::trace::leave_function(self, st, io, hidden, r).await;
        crate::bashargv::leave_function(st, argv_pushed);
        crate::special::leave_function(st);
        st.func_depth -= 1;
        if let Some(frame) = st.local_frames.pop() {
            for (n, v) in frame.into_iter().rev() {
                match v {
                    Some(v) => {
                        st.vars.insert(n, v);
                    }
                    None => {
                        st.vars.remove(&n);
                    }
                }
            }
        }
        st.positional = saved_pos;
        match r {
            Err(Flow::Return(s)) => Ok(s),
            other => other,
        }
    }

    /// Performs one assignment in the current state.
    /// Returns `false` when the assignment was refused (a readonly variable).
    pub async fn do_assign(
        &self,
        a: &Assign,
        st: &mut ShellState,
        io: &Io,
        export: bool,
    ) -> Result<bool, Flow> {
        let resolved = crate::special::resolve_assign(st, a);
        let a = resolved.as_ref().unwrap_or(a);
        if st.vars.get(&a.name).is_some_and(|v| v.readonly) {
            io.err(&format!("{}{}: readonly variable\n", st.diag(), a.name))
                .await;
            return Ok(false);
        }
        if crate::bashargv::is_argv(&a.name) {
            return Ok(crate::bashargv::assign_allowed(a));
        }
        match &a.value {
            AssignValue::Scalar(w) => {
                let mut v = self.expand_single_assign(w, st, io).await?;
                let old_len = if a.append {
                    st.vars.get(&a.name).map_or(0, |x| {
                        if let crate::state::Value::Scalar(s) = &x.value {
                            s.len()
                        } else {
                            0
                        }
                    })
                } else {
                    0
                };
                if v.len().saturating_add(old_len) > st.limits.max_value_bytes {
                    io.err(&format!(
                        "{}{}: value exceeds the limit of {} bytes\n",
                        st.diag(),
                        a.name,
                        st.limits.max_value_bytes
                    ))
                    .await;
                    return Err(Flow::Abort(1));
                }
                if st.vars.get(&a.name).is_some_and(|v| v.integer) {
                    v = match crate::arith::eval(&v, st) {
                        Ok(n) => n.to_string(),
                        Err(e) => {
                            io.err(&format!("{}{}\n", st.diag(), e.report(&v))).await;
                            return Err(Flow::Exit(1));
                        }
                    };
                }
                if st.options.xtrace && !st.trace.in_decl {
                    crate::trace::assign_line(self, st, io, a, &v).await;
                }
                match &a.index {
                    Some(idx) => {
                        let mut key = self.expand_single(idx, st, io).await?;
                        let assoc = st
                            .vars
                            .get(&a.name)
                            .is_some_and(|v| matches!(v.value, crate::state::Value::Assoc(_)));
                        if !assoc {
                            // evaluated once, here, so an error ends the line as in bash
                            match crate::arith::eval(&key, st) {
                                Ok(n) => {
                                    let len = match st.vars.get(&a.name).map(|v| &v.value) {
                                        Some(crate::state::Value::Indexed(m)) => {
                                            m.keys().next_back().map_or(0, |k| k + 1)
                                        }
                                        Some(crate::state::Value::Scalar(_)) => 1,
                                        _ => 0,
                                    };
                                    if n < 0 && n + len < 0 {
                                        // bash: the rest of the line is abandoned
                                        io.err(&format!(
                                            "{}{}[{key}]: bad array subscript\n",
                                            st.diag(),
                                            a.name
                                        ))
                                        .await;
                                        return Err(Flow::Abort(1));
                                    }
                                    key = n.to_string();
                                }
                                Err(e) => {
                                    // bash: an error in a subscript ends the shell
                                    io.err(&format!("{}{}\n", st.diag(), e.report(&key))).await;
                                    return Err(Flow::Exit(1));
                                }
                            }
                        }
                        crate::expand::set_element(st, &a.name, &key, v, a.append);
                    }
                    None => {
                        if a.append {
                            let integer = st.vars.get(&a.name).is_some_and(|v| v.integer);
                            match st.vars.get_mut(&a.name) {
                                Some(var) => match &mut var.value {
                                    crate::state::Value::Indexed(m) => {
                                        let next = m.keys().next_back().map(|k| k + 1).unwrap_or(0);
                                        m.insert(next, v);
                                    }
                                    crate::state::Value::Scalar(s) if integer => {
                                        let sum = s.parse::<i64>().unwrap_or(0)
                                            + v.parse::<i64>().unwrap_or(0);
                                        *s = sum.to_string();
                                    }
                                    crate::state::Value::Scalar(s) => s.push_str(&v),
                                    crate::state::Value::Assoc(_) => {}
                                },
                                None => st.set(&a.name, v),
                            }
                        } else {
                            crate::expand::assign_subscripted(st, &a.name, v);
                        }
                    }
                }
            }
            AssignValue::Array(items) => {
                if st.options.xtrace && !st.trace.in_decl {
                    crate::trace::array_line(self, st, io, a, items).await;
                }
                let is_assoc = st
                    .vars
                    .get(&a.name)
                    .is_some_and(|v| matches!(v.value, crate::state::Value::Assoc(_)));
                if is_assoc {
                    let mut pairs: Vec<(String, String)> = if a.append {
                        match st.vars.get(&a.name).map(|v| &v.value) {
                            Some(crate::state::Value::Assoc(p)) => p.clone(),
                            _ => Vec::new(),
                        }
                    } else {
                        Vec::new()
                    };
                    for w in items {
                        let text = self.expand_single(w, st, io).await?;
                        if let Some(rest) = text.strip_prefix('[')
                            && let Some((k, v)) = rest.split_once("]=")
                        {
                            pairs.retain(|(pk, _)| pk != k);
                            pairs.push((k.to_string(), v.to_string()));
                        }
                    }
                    if let Some(var) = st.vars.get_mut(&a.name) {
                        var.value = crate::state::Value::Assoc(pairs);
                    }
                } else {
                    let mut m = std::collections::BTreeMap::new();
                    let mut next: i64 = 0;
                    if a.append
                        && let Some(crate::state::Value::Indexed(old)) =
                            st.vars.get(&a.name).map(|v| &v.value)
                    {
                        m = old.clone();
                        next = m.keys().next_back().map(|k| k + 1).unwrap_or(0);
                    }
                    for w in items {
                        let static_text = w.as_static();
                        if let Some(t) = static_text
                            .as_deref()
                            .filter(|t| t.starts_with('[') && t.contains("]="))
                        {
                            let (k, v) = t[1..].split_once("]=").unwrap_or(("0", ""));
                            let idx = crate::arith::eval(k, st).unwrap_or(0);
                            m.insert(idx, v.to_string());
                            next = idx + 1;
                            continue;
                        }
                        for f in self.expand_word(w, st, io).await? {
                            m.insert(next, f);
                            next += 1;
                        }
                    }
                    match st.vars.get_mut(&a.name) {
                        Some(var) => var.value = crate::state::Value::Indexed(m),
                        None => {
                            let mut var = crate::state::Var::scalar("");
                            var.value = crate::state::Value::Indexed(m);
                            st.vars.insert(a.name.clone(), var);
                        }
                    }
                }
            }
        }
        crate::special::assigned(st, &a.name);
        if (export || st.options.allexport)
            && let Some(v) = st.vars.get_mut(&a.name)
        {
            v.exported = true;
        }
        Ok(true)
    }

    /// Applies `redirs` over `io`: the streams the command gets, and what
    /// [`Self::finish_redirects`] must end after it. `keep` is `exec` with
    /// no command: a file for fd 1 or 2 becomes a [`Sink::File`] that
    /// outlives the command.
    ///
    /// The work is [`Interp::apply_redirects_now`]'s, in its own
    /// allocation, and none at all without redirects: the future of every simple command holds
    /// this one, so it stays a few bytes instead of the whole redirect
    /// machinery's (a big future costs a copy per command run).
    async fn apply_redirects(
        &self,
        redirs: &[Redir],
        st: &mut ShellState,
        io: &Io,
        keep: bool,
    ) -> Result<(Io, Vec<PendingWrite>), i32> {
        if redirs.is_empty() {
            return Ok((io.clone(), Vec::new()));
        }
        let mut pending = Vec::new();
        let mut var_fds = Vec::new();
        let res =
            Box::pin(self.apply_redirects_now(redirs, st, io, keep, &mut pending, &mut var_fds))
                .await;
        let res = match res {
            Ok(out) if var_fds.is_empty() => Ok(out),
            res => {
                self.redirect_vars(res, &var_fds, st, io, &mut pending)
                    .await
            }
        };
        match res {
            Ok(out) => Ok((out, pending)),
            Err(code) => {
                // a later redirect failed: undo the ones applied (as bash:
                // `exec 3>f 4<nope` leaves fd 3 as it was, the files made stay)
                self.finish_redirects(pending, st, io).await;
                Err(code)
            }
        }
    }

    async fn apply_redirects_now<'a>(
        &self,
        redirs: &'a [Redir],
        st: &mut ShellState,
        io: &Io,
        keep: bool,
        pending: &mut Vec<PendingWrite>,
        var_fds: &mut Vec<(&'a str, u32)>,
    ) -> Result<Io, i32> {
        let mut out = io.clone();
        // `N>&M-` / `N<&M-`: M closes once N is its copy
        let mut moved: Option<(u32, bool)> = None;
        for r in redirs {
            crate::execfd::close_moved(st, moved.take(), |n, prev| {
                pending.push(PendingWrite {
                    path: String::new(),
                    how: Pending::RestoreFd(n, prev),
                });
            });
            let var_redir;
            let r = match &r.var {
                None => r,
                Some(v)
                    if matches!(r.op, RedirOp::DupOut | RedirOp::DupIn)
                        && r.target.as_static().as_deref() == Some("-") =>
                {
                    match crate::execfd::var_close(st, &out, v).await {
                        Ok(()) => continue,
                        Err(()) => return Err(1),
                    }
                }
                Some(v) => {
                    let n = crate::execfd::var_alloc(st);
                    var_fds.push((v, n));
                    var_redir = Redir {
                        fd: Some(n),
                        var: None,
                        ..r.clone()
                    };
                    &var_redir
                }
            };
            let target = match r.op {
                RedirOp::HereDoc => match self.expand_single(&r.target, st, &out).await {
                    Ok(t) => t,
                    Err(_) => return Err(1),
                },
                RedirOp::OutProcess => String::new(),
                _ => match self
                    .expand_words(std::slice::from_ref(&r.target), st, &out)
                    .await
                {
                    Ok(mut v) if v.len() == 1 => v.remove(0),
                    Ok(v) if r.op == RedirOp::HereString => v.join(" "),
                    Ok(_) => {
                        let shown = crate::execfd::word_text(&r.target);
                        out.err(&format!("{}{shown}: ambiguous redirect\n", st.diag()))
                            .await;
                        return Err(1);
                    }
                    Err(_) => return Err(1),
                },
            };
            let target = crate::execfd::split_move(st, r, target, &mut moved);
            // `>&WORD` / `<&WORD` whose WORD is not a descriptor number:
            // `>&file` and `1>&file` write stdout and stderr to the file;
            // any other is bash's `WORD: ambiguous redirect`
            let dup_file;
            let r = match r.op {
                RedirOp::DupOut | RedirOp::DupIn if !crate::execfd::is_fd_word(&target) => {
                    if r.op == RedirOp::DupOut && r.fd.unwrap_or(1) == 1 {
                        dup_file = Redir {
                            fd: None,
                            var: None,
                            op: RedirOp::OutErr,
                            target: r.target.clone(),
                        };
                        &dup_file
                    } else {
                        out.err(&format!("{}{target}: ambiguous redirect\n", st.diag()))
                            .await;
                        return Err(1);
                    }
                }
                _ => r,
            };
            match r.op {
                RedirOp::Out
                | RedirOp::Clobber
                | RedirOp::Append
                | RedirOp::OutErr
                | RedirOp::AppendOutErr => {
                    let append = matches!(r.op, RedirOp::Append | RedirOp::AppendOutErr);
                    if let Some(n) = r.fd.filter(|n| *n >= 3)
                        && !matches!(r.op, RedirOp::OutErr | RedirOp::AppendOutErr)
                    {
                        let clobber = r.op == RedirOp::Clobber;
                        match crate::execfd::open_out(self, st, &out, n, &target, append, clobber)
                            .await
                        {
                            Ok(prev) => pending.push(PendingWrite {
                                path: String::new(),
                                how: Pending::RestoreFd(n, prev),
                            }),
                            Err(()) => return Err(1),
                        }
                        continue;
                    }
                    let sink = match target.as_str() {
                        // the streams themselves; /dev/null and /dev/zero discard
                        // without a buffer (the /dev mount serves the rest)
                        "/dev/null" | "/dev/zero" => Sink::Null,
                        "/dev/stdout" | "/dev/fd/1" => out.stdout.clone(),
                        "/dev/stderr" | "/dev/fd/2" => out.stderr.clone(),
                        _ => {
                            let clobber = r.op == RedirOp::Clobber;
                            let Ok(path) =
                                crate::execfd::create(self, st, &out, &target, append, clobber)
                                    .await
                            else {
                                return Err(1);
                            };
                            // The file is created (or truncated) above, so errors show
                            // before the command runs; its output is then appended as
                            // it is produced.
                            if keep {
                                Sink::File(self.vfs.clone(), path.into())
                            } else {
                                self.append_sink(path, pending)
                            }
                        }
                    };
                    if matches!(r.op, RedirOp::OutErr | RedirOp::AppendOutErr) {
                        out.stdout = sink.clone();
                        out.stderr = sink;
                    } else if r.fd == Some(2) {
                        out.stderr = sink;
                    } else if r.fd.unwrap_or(1) == 1 {
                        out.stdout = sink;
                    }
                }
                RedirOp::DupOut => {
                    let fd = r.fd.unwrap_or(1);
                    if fd >= 3 {
                        let e = match target.as_str() {
                            "-" => None,
                            m => match m
                                .parse::<u32>()
                                .ok()
                                .and_then(|m| crate::execfd::dup_out(st, &out, m))
                            {
                                Some(e) => Some(e),
                                None if m.bytes().all(|b| b.is_ascii_digit()) => {
                                    crate::execfd::bad_fd(
                                        st,
                                        &out,
                                        &crate::execfd::word_text(&r.target),
                                    )
                                    .await;
                                    return Err(1);
                                }
                                None => continue,
                            },
                        };
                        let prev = crate::execfd::set_fd(st, fd, e);
                        pending.push(PendingWrite {
                            path: String::new(),
                            how: Pending::RestoreFd(fd, prev),
                        });
                        continue;
                    }
                    let src = match target.as_str() {
                        "1" => out.stdout.clone(),
                        "2" => out.stderr.clone(),
                        "-" => Sink::closed(),
                        m => match m
                            .parse::<u32>()
                            .ok()
                            .and_then(|n| crate::execfd::out_fd(st, &out, n))
                        {
                            Some(crate::execfd::OutFd::Sink(s)) => s,
                            // `exec >&3` keeps the file, as `exec >file`
                            Some(crate::execfd::OutFd::File(path)) if keep => {
                                Sink::File(self.vfs.clone(), path.into())
                            }
                            Some(crate::execfd::OutFd::File(path)) => {
                                self.append_sink(path, pending)
                            }
                            None if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
                                crate::execfd::bad_fd(
                                    st,
                                    &out,
                                    &crate::execfd::word_text(&r.target),
                                )
                                .await;
                                return Err(1);
                            }
                            None => continue,
                        },
                    };
                    match fd {
                        1 => out.stdout = src,
                        2 => out.stderr = src,
                        _ => {}
                    }
                }
                RedirOp::In | RedirOp::ReadWrite => {
                    if let Some(n) = r.fd.filter(|n| *n >= 3) {
                        match crate::execfd::open_in(self, st, &out, n, &target).await {
                            Ok(prev) => pending.push(PendingWrite {
                                path: String::new(),
                                how: Pending::RestoreFd(n, prev),
                            }),
                            Err(()) => return Err(1),
                        }
                        continue;
                    }
                    if target == "/dev/null" {
                        out.stdin = Arc::new(Mutex::new(Input::empty()));
                        continue;
                    }
                    if target == "/dev/stdin" || target == "/dev/fd/0" {
                        continue;
                    }
                    if let Some(data) = st.procsubs.get(&target) {
                        out.stdin = Arc::new(Mutex::new(Input::from_source(ByteSource::Bytes(
                            data.clone(),
                        ))));
                        continue;
                    }
                    let path = mirage_types::join_path(&st.cwd, &target);
                    let src = match self.vfs.stat(&path).await {
                        Ok(s) if s.is_dir() => {
                            out.err(&format!("{}{target}: Is a directory\n", st.diag()))
                                .await;
                            return Err(1);
                        }
                        _ => self.vfs.read(&path).await,
                    };
                    match src {
                        Ok(src) => {
                            if r.fd.unwrap_or(0) == 0 {
                                out.stdin = Arc::new(Mutex::new(Input::from_source(src)));
                            }
                        }
                        Err(e) => {
                            out.err(&format!("{}{target}: {}\n", st.diag(), e.message()))
                                .await;
                            return Err(1);
                        }
                    }
                }
                RedirOp::DupIn => {
                    let fd = r.fd.unwrap_or(0);
                    if target != "-" || fd >= 3 {
                        // `N<&M`, `N<&-` (N of 3 or more)
                        let slot = match target.as_str() {
                            "-" => None,
                            m => match m
                                .parse::<u32>()
                                .ok()
                                .and_then(|m| crate::execfd::in_fd(st, &out, m))
                            {
                                Some(slot) => Some(slot),
                                None if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
                                    crate::execfd::bad_fd(
                                        st,
                                        &out,
                                        &crate::execfd::word_text(&r.target),
                                    )
                                    .await;
                                    return Err(1);
                                }
                                None => continue,
                            },
                        };
                        if fd >= 3 {
                            let prev = crate::execfd::set_fd(
                                st,
                                fd,
                                slot.map(crate::execfd::FdEntry::Input),
                            );
                            pending.push(PendingWrite {
                                path: String::new(),
                                how: Pending::RestoreFd(fd, prev),
                            });
                        } else if fd == 0
                            && let Some(slot) = slot
                        {
                            out.stdin = slot;
                        }
                        continue;
                    }
                    // `1<&-` closes like `1>&-`
                    match r.fd {
                        Some(1) => out.stdout = Sink::closed(),
                        Some(2) => out.stderr = Sink::closed(),
                        _ => {}
                    }
                    // `<&-` closes standard input: reading it fails with EBADF
                    if target == "-" && r.fd.unwrap_or(0) == 0 {
                        use futures::StreamExt;
                        let bad = mirage_types::Error::msg(
                            mirage_types::ErrorKind::Io,
                            "Bad file descriptor",
                        );
                        let closed = ByteSource::Stream(
                            futures::stream::once(async move { Err(bad) }).boxed(),
                        );
                        out.stdin = Arc::new(Mutex::new(Input::from_source(closed)));
                    }
                }
                RedirOp::OutProcess => {
                    let Some(WordPart::CmdSub(script)) = r.target.parts.first() else {
                        continue;
                    };
                    let (sink, buf) = Sink::capture();
                    pending.push(PendingWrite {
                        path: String::new(),
                        how: Pending::Process(script.clone(), Box::new(st.clone()), buf),
                    });
                    match r.fd.unwrap_or(1) {
                        1 => out.stdout = sink,
                        2 => out.stderr = sink,
                        n => {
                            // `3> >(cmd)`
                            let e = crate::execfd::FdEntry::Sink(sink);
                            let prev = crate::execfd::set_fd(st, n, Some(e));
                            pending.push(PendingWrite {
                                path: String::new(),
                                how: Pending::RestoreFd(n, prev),
                            });
                        }
                    }
                }
                RedirOp::HereDoc | RedirOp::HereString
                    if target.len() >= st.limits.max_heredoc_bytes =>
                {
                    out.err(&format!(
                        "{}here-document: {} bytes exceed the limit of {}\n",
                        st.diag(),
                        target.len(),
                        st.limits.max_heredoc_bytes
                    ))
                    .await;
                    return Err(1);
                }
                RedirOp::HereDoc | RedirOp::HereString => {
                    let mut b = mirage_types::bytestr::encode(&target).into_owned();
                    if r.op == RedirOp::HereString {
                        b.push(b'\n');
                    }
                    let slot = Arc::new(Mutex::new(Input::from_source(ByteSource::from(b))));
                    match r.fd.unwrap_or(0) {
                        0 => out.stdin = slot,
                        n if n >= 3 => {
                            // `3<<<text`, `{fd}<<EOF`
                            let e = crate::execfd::FdEntry::Input(slot);
                            let prev = crate::execfd::set_fd(st, n, Some(e));
                            pending.push(PendingWrite {
                                path: String::new(),
                                how: Pending::RestoreFd(n, prev),
                            });
                        }
                        _ => {}
                    }
                }
            }
        }
        crate::execfd::close_moved(st, moved, |n, prev| {
            pending.push(PendingWrite {
                path: String::new(),
                how: Pending::RestoreFd(n, prev),
            });
        });
        Ok(out)
    }

    /// `{name}>file`: gives each name its descriptor, even when a later
    /// redirect failed (as bash); bash 5.2 leaves them open after the
    /// command (`shopt -s varredir_close` closes).
    async fn redirect_vars(
        &self,
        res: Result<Io, i32>,
        var_fds: &[(&str, u32)],
        st: &mut ShellState,
        io: &Io,
        pending: &mut Vec<PendingWrite>,
    ) -> Result<Io, i32> {
        let mut res = res;
        for (name, n) in var_fds {
            // the one whose own open failed gets nothing
            if res.is_err() && !st.exec_fds.fds.contains_key(n) {
                continue;
            }
            if crate::execfd::var_assign(st, io, name, *n).await.is_err() {
                res = Err(1);
            }
        }
        if !st.shopt.is("varredir_close") {
            pending.retain(
                |p| !matches!(p.how, Pending::RestoreFd(n, _) if var_fds.iter().any(|v| v.1 == n)),
            );
        }
        res
    }

    /// A sink appending to `path` as the command writes (`>&3` after
    /// `exec 3>file`), finished with the command's other redirects.
    fn append_sink(&self, path: String, pending: &mut Vec<PendingWrite>) -> Sink {
        if tokio::runtime::Handle::try_current().is_ok() {
            let (tx, rx) = mpsc::channel::<Bytes>(16);
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let vfs = self.vfs.clone();
            let p = path.clone();
            let task =
                tokio::spawn(async move { vfs.append(&p, redirect_stream(rx, done_rx)).await });
            pending.push(PendingWrite {
                path,
                how: Pending::Stream {
                    done: done_tx,
                    task,
                },
            });
            Sink::Pipe(tx)
        } else {
            let (sink, buf) = Sink::capture();
            pending.push(PendingWrite {
                path,
                how: Pending::Capture(buf),
            });
            sink
        }
    }

    /// Ends the redirects of a command; true when writing a file failed
    /// (a full RAM mount: `No space left on device`), after saying so.
    ///
    /// The work is [`Interp::finish_redirects_now`]'s, in its own
    /// allocation, and none when nothing is pending (as
    /// [`Interp::apply_redirects`]).
    async fn finish_redirects(
        &self,
        pending: Vec<PendingWrite>,
        st: &mut ShellState,
        io: &Io,
    ) -> bool {
        if pending.is_empty() {
            return false;
        }
        Box::pin(self.finish_redirects_now(pending, st, io)).await
    }

    async fn finish_redirects_now(
        &self,
        pending: Vec<PendingWrite>,
        st: &mut ShellState,
        io: &Io,
    ) -> bool {
        let mut failed = false;
        let mut restores = Vec::new();
        for p in pending {
            let res = match p.how {
                Pending::RestoreFd(n, prev) => {
                    restores.push((n, prev));
                    continue;
                }
                Pending::Stream { done, task } => {
                    let _ = done.send(());
                    match task.await {
                        Ok(r) => r,
                        Err(e) => Err(mirage_types::Error::msg(
                            mirage_types::ErrorKind::Io,
                            format!("redirect writer failed: {e}"),
                        )),
                    }
                }
                Pending::Capture(buf) => {
                    let data = match buf.lock() {
                        Ok(mut g) => std::mem::take(&mut *g),
                        Err(e) => std::mem::take(&mut *e.into_inner()),
                    };
                    if data.is_empty() {
                        continue;
                    }
                    self.vfs.append(&p.path, ByteSource::from(data)).await
                }
                Pending::Process(script, mut sub, buf) => {
                    let data = match buf.lock() {
                        Ok(mut g) => std::mem::take(&mut *g),
                        Err(e) => std::mem::take(&mut *e.into_inner()),
                    };
                    let sub_io = Io::new(
                        Input::from_source(ByteSource::from(data)),
                        io.stdout.clone(),
                        io.stderr.clone(),
                    );
                    let _ = self.run_script(&script, &mut sub, &sub_io).await;
                    continue;
                }
            };
            if let Err(e) = res {
                io.err(&format!("{}{}: {}\n", st.diag(), p.path, e.message()))
                    .await;
                failed = true;
            }
        }
        for (n, prev) in restores.into_iter().rev() {
            crate::execfd::restore(st, n, prev);
        }
        failed
    }
}

#[async_trait::async_trait]
impl mirage_types::command::ArgvRunner for Interp {
    async fn run_argv(
        &self,
        argv: Vec<String>,
        cwd: String,
        env: std::collections::BTreeMap<String, String>,
        stdin: Input,
        stdout: Sink,
        stderr: Sink,
    ) -> i32 {
        if argv.is_empty() {
            return 0;
        }
        let mut st = ShellState::new(&cwd);
        // the command sees exactly `env` (`env -i CMD` sees nothing)
        st.vars.retain(|k, v| !v.exported || env.contains_key(k));
        for (k, v) in env {
            st.set_exported(&k, v);
        }
        let io = Io::new(stdin, stdout, stderr);
        match crate::builtins::run_command_words_nofunc(self, &argv, &mut st, &io).await {
            Ok(s) | Err(Flow::Exit(s) | Flow::Return(s) | Flow::Abort(s)) => s,
            Err(_) => st.last_status,
        }
    }

    fn has_command(&self, name: &str) -> bool {
        name.contains('/') || crate::builtins::is_builtin(name) || self.host.has_command(name)
    }
}
