//! `awk`: the `mirage-awk` interpreter as a command, with gawk 5.2's
//! options `-F fs`, `-v var=value`, `-f progfile` (read through the VFS),
//! `--`, and `var=value` operands between files.
//!
//! The interpreter runs on a blocking thread and asks this task for every
//! read and write over a channel: input files and `getline < file` are
//! read through the router chunk by chunk (so `cat endless | awk '{print;
//! exit}'` ends), `print > file` writes through the router (a read-only
//! mount gives `Read-only file system`), and `system()`, `print | cmd` and
//! `cmd | getline` run through our own shell (`eval` by the command
//! runner; refused with a clear error when there is none): no host file and
//! no host process is ever touched.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use mirage_awk::{Fatal, Interp, Io, Stream, WriteError};
use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::bytestr;
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ByteStream, Input};

const OPTS: &[OptSpec] = &[
    OptSpec::value("F", Some('F'), Some("field-separator")),
    OptSpec::value("v", Some('v'), Some("assign")),
    OptSpec::value("f", Some('f'), Some("file")),
];

/// The spec of `awk`: options stop at the program text, usage status 2.
pub static SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    usage_status: 2,
    ..CommandSpec::new("awk", OPTS, PathOperands::SkipFirstUnless(&["f"]))
};

crate::register_command!("awk", SPEC, run);

/// The message for a command line when no runner is provided.
const NO_COMMANDS: &str =
    "running commands (system(), print | cmd, cmd | getline) is not supported in mirage";

/// The usage gawk prints for a bad option or no program (its POSIX part:
/// the options this awk has).
const USAGE: &str = "Usage: awk [POSIX or GNU style options] -f progfile [--] file ...
Usage: awk [POSIX or GNU style options] [--] 'program' file ...
POSIX options:\t\tGNU long options: (standard)
\t-f progfile\t\t--file=progfile
\t-F fs\t\t\t--field-separator=fs
\t-v var=val\t\t--assign=var=val
";

/// The interpreter thread's stack (bytes): deep recursion in a program
/// must not overflow it.
const STACK: usize = 256 << 20;

/// A request from the interpreter thread.
enum Req {
    Open(Vec<u8>),
    Read(u32),
    Close(u32),
    Write(Stream, Vec<u8>),
    WriteFile(Vec<u8>, bool, Vec<u8>),
    Run(Vec<u8>, Vec<u8>, bool),
}

/// A reply to a request that waits for one.
enum Reply {
    Opened(Result<u32, String>),
    Chunk(Result<Option<Vec<u8>>, String>),
    Written(Result<(), String>),
    Ran(Result<(i32, Vec<u8>), String>),
}

/// The interpreter side of the channel.
struct ChannelIo {
    tx: tokio::sync::mpsc::Sender<Req>,
    rx: std::sync::mpsc::Receiver<Reply>,
    broken: Arc<AtomicBool>,
    cancelled: Arc<AtomicBool>,
}

impl ChannelIo {
    fn ask(&mut self, req: Req) -> Option<Reply> {
        self.tx.blocking_send(req).ok()?;
        self.rx.recv().ok()
    }
}

const GONE: &str = "awk was cancelled";

impl Io for ChannelIo {
    fn open(&mut self, path: &[u8]) -> Result<u32, String> {
        match self.ask(Req::Open(path.to_vec())) {
            Some(Reply::Opened(r)) => r,
            _ => Err(GONE.into()),
        }
    }
    fn read(&mut self, h: u32) -> Result<Option<Vec<u8>>, String> {
        match self.ask(Req::Read(h)) {
            Some(Reply::Chunk(r)) => r,
            _ => Err(GONE.into()),
        }
    }
    fn close(&mut self, h: u32) {
        let _ = self.tx.blocking_send(Req::Close(h));
    }
    fn write(&mut self, to: Stream, data: Vec<u8>) -> Result<(), WriteError> {
        if self.broken.load(Ordering::Relaxed) {
            return Err(WriteError::BrokenPipe);
        }
        // no reply: a closed reader is seen at the next write
        self.tx
            .blocking_send(Req::Write(to, data))
            .map_err(|_| WriteError::BrokenPipe)
    }
    fn write_file(&mut self, path: &[u8], append: bool, data: Vec<u8>) -> Result<(), String> {
        match self.ask(Req::WriteFile(path.to_vec(), append, data)) {
            Some(Reply::Written(r)) => r,
            _ => Err(GONE.into()),
        }
    }
    fn run(&mut self, cmd: &[u8], input: Vec<u8>, capture: bool) -> Result<(i32, Vec<u8>), String> {
        match self.ask(Req::Run(cmd.to_vec(), input, capture)) {
            Some(Reply::Ran(r)) => r,
            _ => Err(GONE.into()),
        }
    }
    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Sets the flag when the command's future goes away.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The outcome of the interpreter thread.
enum Outcome {
    Status(i32),
    Syntax(String),
    Fatal(String),
    Broken,
}

/// What the program is and where its text came from.
struct Job {
    src: String,
    argv: Vec<Vec<u8>>,
    env: Vec<(Vec<u8>, Vec<u8>)>,
    assigns: Vec<(Vec<u8>, Vec<u8>)>,
    from_file: Option<String>,
}

fn run_job(job: Job, mut io: ChannelIo) -> Outcome {
    let where_ = match &job.from_file {
        Some(f) => f.clone(),
        None => "cmd. line".to_string(),
    };
    let prog = match mirage_awk::compile_with_warnings(&job.src) {
        Ok((p, warnings)) => {
            for (line, w) in warnings {
                let msg = format!("awk: {where_}:{line}: warning: {w}\n");
                let _ = io.write(Stream::Stderr, msg.into_bytes());
            }
            p
        }
        Err(e) => {
            let where_ = match &job.from_file {
                Some(f) => f.clone(),
                None => "cmd. line".to_string(),
            };
            let text = job.src.lines().nth(e.line.saturating_sub(1)).unwrap_or("");
            if e.msg.starts_with("function") {
                return Outcome::Syntax(format!("{where_}:{}: fatal: {}", e.line, e.msg));
            }
            return Outcome::Syntax(format!(
                "{where_}:{line}: {text}\nawk: {where_}:{line}: {pad}^ {msg}",
                line = e.line,
                pad = " ".repeat(e.col),
                msg = e.msg
            ));
        }
    };
    let mut interp = match Interp::new(prog, &mut io, &job.argv, &job.env, &job.assigns) {
        Ok(i) => i,
        Err(Fatal::Error(m)) => return Outcome::Fatal(format!("fatal: {m}")),
        Err(Fatal::BrokenPipe | Fatal::Exit) => return Outcome::Broken,
    };
    match interp.run() {
        Ok(st) => Outcome::Status(st),
        Err(Fatal::Error(m)) if m.starts_with('\0') => Outcome::Fatal(m),
        Err(Fatal::Error(m)) => Outcome::Fatal(format!("{}fatal: {m}", interp.error_context())),
        Err(Fatal::BrokenPipe | Fatal::Exit) => Outcome::Broken,
    }
}

/// Splits `name=value` (a `-v` operand).
fn split_assign(s: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let (n, v) = s.split_once('=')?;
    let ok = n
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| (n.as_bytes().to_vec(), bytestr::encode(v).into_owned()))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let Ok(p) = mirage_types::args::parse(&SPEC, &ctx.args) else {
        // gawk prints its usage (no getopt message) and exits 1
        let _ = ctx.stderr.write_str(USAGE).await;
        return Err(CmdError::status(1));
    };
    let mut operands = p.operands.clone();
    let mut assigns = Vec::new();
    if let Some(fs) = p.value("F") {
        // gawk: -Ft means a tab
        let fs = if fs == "t" { "\t" } else { fs };
        assigns.push((b"FS".to_vec(), bytestr::encode(fs).into_owned()));
    }
    for v in p.values("v") {
        match split_assign(v) {
            Some(a) => assigns.push(a),
            None => {
                return Err(CmdError::new(
                    2,
                    format!("fatal: `{v}' is not a legal variable name"),
                ));
            }
        }
    }
    let files = p.values("f");
    let (src, from_file) = if files.is_empty() {
        if operands.is_empty() {
            let _ = ctx.stderr.write_str(USAGE).await;
            return Err(CmdError::status(1));
        }
        (operands.remove(0), None)
    } else {
        let mut src = String::new();
        for f in &files {
            match ctx.read_path(f).await {
                Ok(s) => match s.collect().await {
                    Ok(b) => {
                        src.push_str(&bytestr::decode(&b));
                        src.push('\n');
                    }
                    Err(e) => {
                        return Err(CmdError::new(
                            2,
                            format!(
                                "fatal: can't open source file `{f}' for reading: {}",
                                e.message()
                            ),
                        ));
                    }
                },
                Err(e) => {
                    return Err(CmdError::new(
                        2,
                        format!(
                            "fatal: can't open source file `{f}' for reading: {}",
                            e.message()
                        ),
                    ));
                }
            }
        }
        (src, files.first().map(|s| (*s).to_string()))
    };
    let mut argv = vec![b"awk".to_vec()];
    argv.extend(operands.iter().map(|o| bytestr::encode(o).into_owned()));
    let env = ctx
        .env
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), bytestr::encode(v).into_owned()))
        .collect();
    let job = Job {
        src,
        argv,
        env,
        assigns,
        from_file,
    };
    let (req_tx, mut req_rx) = tokio::sync::mpsc::channel::<Req>(4);
    let (rep_tx, rep_rx) = std::sync::mpsc::channel::<Reply>();
    let broken = Arc::new(AtomicBool::new(false));
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let io = ChannelIo {
        tx: req_tx,
        rx: rep_rx,
        broken: broken.clone(),
        cancelled,
    };
    // a thread of its own with a large stack: awk programs recurse
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Outcome>();
    let spawned = std::thread::Builder::new()
        .name("awk".into())
        .stack_size(STACK)
        .spawn(move || {
            let _ = done_tx.send(run_job(job, io));
        });
    if let Err(e) = spawned {
        return Err(CmdError::new(
            2,
            format!("fatal: cannot start the interpreter: {e}"),
        ));
    }
    let mut inputs: HashMap<u32, ByteStream> = HashMap::new();
    let mut next_handle = 0u32;
    while let Some(req) = req_rx.recv().await {
        match req {
            Req::Open(path) => {
                let r = open(ctx, &path).await.map(|s| {
                    next_handle += 1;
                    inputs.insert(next_handle, s);
                    next_handle
                });
                let _ = rep_tx.send(Reply::Opened(r));
            }
            Req::Read(h) => {
                let r = match inputs.get_mut(&h) {
                    Some(s) => match s.next().await {
                        Some(Ok(b)) => Ok(Some(b.to_vec())),
                        Some(Err(e)) => Err(e.message().to_string()),
                        None => Ok(None),
                    },
                    None => Ok(None),
                };
                let _ = rep_tx.send(Reply::Chunk(r));
            }
            Req::Close(h) => {
                inputs.remove(&h);
            }
            Req::Write(to, data) => {
                let out = match to {
                    Stream::Stdout => &mut ctx.stdout,
                    Stream::Stderr => &mut ctx.stderr,
                };
                if let Err(e) = out.write(&data).await
                    && e.kind == ErrorKind::BrokenPipe
                {
                    broken.store(true, Ordering::Relaxed);
                }
                if to == Stream::Stderr {
                    // unbuffered, as stderr is
                    let _ = ctx.stderr.flush().await;
                }
            }
            Req::Run(cmd, input, capture) => {
                let r = run_line(ctx, &cmd, input, capture).await;
                let _ = rep_tx.send(Reply::Ran(r));
            }
            Req::WriteFile(path, append, data) => {
                let abs = ctx.resolve(&bytestr::decode(&path));
                let src = ByteSource::Bytes(data.into());
                let r = if append {
                    ctx.vfs.append(&abs, src).await
                } else {
                    ctx.vfs.write(&abs, src).await
                };
                let _ = rep_tx.send(Reply::Written(r.map_err(|e| e.message().to_string())));
            }
        }
    }
    drop(inputs);
    let outcome = done_rx
        .await
        .unwrap_or(Outcome::Fatal("fatal: internal error".into()));
    match outcome {
        Outcome::Status(s) => Ok(s),
        Outcome::Broken => Ok(141),
        Outcome::Syntax(m) => Err(CmdError::new(1, m)),
        Outcome::Fatal(m) if m.starts_with('\0') => Err(CmdError::new(2, &m[1..])),
        Outcome::Fatal(m) => Err(CmdError::new(2, format!("cmd. line:1: {m}"))),
    }
}

/// Runs a command line of `system()`, `print | cmd` or `cmd | getline`
/// through our own shell (`eval` by [`CommandCtx::runner`]: builtins and
/// registered commands over the VFS, never a host process). `input` is its
/// stdin; with `capture` its stdout is returned, otherwise it goes to ours.
/// Without a runner, commands are refused.
async fn run_line(
    ctx: &mut CommandCtx,
    cmd: &[u8],
    input: Vec<u8>,
    capture: bool,
) -> Result<(i32, Vec<u8>), String> {
    let Some(runner) = ctx.runner.clone() else {
        return Err(NO_COMMANDS.into());
    };
    let _ = ctx.stdout.flush().await;
    let _ = ctx.stderr.flush().await;
    let argv = vec!["eval".to_string(), bytestr::decode(cmd).into_owned()];
    let stdin = Input::from_source(ByteSource::Bytes(input.into()));
    let (out, buf) = if capture {
        let (sink, buf) = mirage_types::Sink::capture();
        (sink, Some(buf))
    } else {
        (ctx.stdout.sink().clone(), None)
    };
    let err = ctx.stderr.sink().clone();
    let status = runner
        .run_argv(argv, ctx.cwd.clone(), ctx.env.clone(), stdin, out, err)
        .await;
    let captured = match buf {
        Some(b) => match b.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        },
        None => Vec::new(),
    };
    Ok((status, captured))
}

/// Opens an input: `-` and `/dev/stdin` are standard input, anything else
/// a file through the router. The error is the system message.
async fn open(ctx: &mut CommandCtx, path: &[u8]) -> Result<ByteStream, String> {
    if path == b"-" || path == b"/dev/stdin" {
        let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
        return Ok(stdin.into_source().into_stream());
    }
    let name = bytestr::decode(path).into_owned();
    let abs = ctx.resolve(&name);
    let st = ctx
        .vfs
        .stat(&abs)
        .await
        .map_err(|e| e.message().to_string())?;
    if st.is_dir() {
        return Err("Is a directory".into());
    }
    let src = ctx
        .read_path(&name)
        .await
        .map_err(|e| e.message().to_string())?;
    Ok(src.into_stream())
}
