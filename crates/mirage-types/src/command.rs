//! The ABI between the shell, the command registry and commands.
//!
//! A command is a plain function registered with `inventory`
//! ([`CommandRegistration`]), so a crate that adds a command edits no central
//! list. It receives a [`CommandCtx`]: fully expanded arguments (no
//! variables, globs or sessions, as seed 001 says), the cwd to resolve
//! relative paths, the [`Vfs`] router, and its standard streams. It writes
//! its output to `stdout` and returns the exit status; what it read and wrote
//! is recorded in [`CommandCtx::io`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::args::CommandSpec;
use crate::{ByteSource, IOResult, Input, MountInfo, Output, Result, Vfs, join_path};

/// Everything a command gets for one run.
pub struct CommandCtx {
    /// The name the command was called by (`grep`).
    pub name: String,
    /// The arguments after the name, fully expanded.
    pub args: Vec<String>,
    /// The session's current directory (an absolute virtual path).
    pub cwd: String,
    /// The exported environment.
    pub env: BTreeMap<String, String>,
    /// The VFS router: the only way to touch bytes.
    pub vfs: Arc<dyn Vfs>,
    /// Standard input.
    pub stdin: Input,
    /// Standard output.
    pub stdout: Output,
    /// Standard error.
    pub stderr: Output,
    /// What the command read and wrote.
    pub io: IOResult,
    /// The mount the dispatcher chose the handler for, if a path operand had one.
    pub mount: Option<MountInfo>,
    /// Runs other command lines (for `find -exec`), when the caller provides it.
    pub runner: Option<Arc<dyn ArgvRunner>>,
    /// The network, when the workspace's config allows some of it (`curl`,
    /// `wget`); `None` means no network at all.
    pub net: Option<Arc<dyn crate::net::Network>>,
}

/// Runs one command line (`argv`: builtins and registered commands, never
/// a host process) for commands that run commands, such as `find -exec`.
#[async_trait]
pub trait ArgvRunner: Send + Sync {
    /// Runs `argv` in `cwd` with the exported `env`; returns its exit status
    /// (127 when there is no such command).
    async fn run_argv(
        &self,
        argv: Vec<String>,
        cwd: String,
        env: BTreeMap<String, String>,
        stdin: Input,
        stdout: crate::Sink,
        stderr: crate::Sink,
    ) -> i32;

    /// Whether `name` would run something (a builtin or a registered
    /// command; a name with a `/` is a script path and counts). Commands
    /// that run commands check this first to word a missing one as GNU
    /// does (`env: ‘x’: No such file or directory`, status 127). The
    /// default says yes, leaving the answer to [`ArgvRunner::run_argv`].
    fn has_command(&self, name: &str) -> bool {
        let _ = name;
        true
    }
}

impl CommandCtx {
    /// Resolves `path` against the cwd into an absolute virtual path.
    pub fn resolve(&self, path: &str) -> String {
        join_path(&self.cwd, path)
    }
    /// Prints `NAME: MSG` on stderr, after flushing stdout so the two
    /// streams keep their order when they share a destination (`2>&1`).
    pub async fn error(&mut self, msg: impl AsRef<str>) {
        let _ = self.stdout.flush().await;
        let line = format!("{}: {}\n", self.name, msg.as_ref());
        let _ = self.stderr.write_str(&line).await;
        let _ = self.stderr.flush().await;
    }
    /// Reads the file at `path` (relative to the cwd) through the router and
    /// records the read.
    pub async fn read_path(&mut self, path: &str) -> Result<ByteSource> {
        let abs = self.resolve(path);
        let src = self.vfs.read(&abs).await?;
        self.io.read(&abs);
        Ok(src)
    }
    /// The value of an exported variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }
    /// Turns a handler body's result into its exit status: `Ok(status)` as
    /// it is; an error is reported as GNU tools report theirs (see
    /// [`CmdError`]) and its status returned. Flushes stdout first so the
    /// streams keep their order.
    pub async fn finish(&mut self, result: std::result::Result<i32, CmdError>) -> i32 {
        match result {
            Ok(status) => status,
            Err(e) => {
                if e.message.is_some() || e.usage {
                    let _ = self.stdout.flush().await;
                }
                if let Some(msg) = &e.message {
                    self.error(msg).await;
                }
                if e.usage {
                    let hint = format!("Try '{} --help' for more information.\n", self.name);
                    let _ = self.stderr.write_str(&hint).await;
                    let _ = self.stderr.flush().await;
                }
                e.status
            }
        }
    }
}

/// A command's failure, carrying its exit status and GNU's wording (the
/// idea of uutils' `UError`), so a handler body can use `?`.
///
/// [`CommandCtx::finish`] reports it: `NAME: MESSAGE` on stderr (nothing
/// when `message` is `None`, for an error already reported), then, for a
/// usage error, GNU's `Try 'NAME --help' for more information.` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError {
    /// The exit status (1 for most coreutils failures, 125 for `env` and
    /// `timeout` usage errors, 141 for a closed pipe).
    pub status: i32,
    /// The message after `NAME: `, or `None` to print nothing.
    pub message: Option<String>,
    /// Whether to add the `Try 'NAME --help'` line.
    pub usage: bool,
}

impl CmdError {
    /// A failure with `status` and the message `msg` (printed as `NAME: MSG`).
    pub fn new(status: i32, msg: impl Into<String>) -> Self {
        CmdError {
            status,
            message: Some(msg.into()),
            usage: false,
        }
    }
    /// A usage error with status 1: `NAME: MSG`, then `Try 'NAME --help'
    /// for more information.`. An empty `msg` prints only the `Try` line
    /// (GNU `timeout` with no operand). Change the status with
    /// [`CmdError::with_status`].
    pub fn usage(msg: impl Into<String>) -> Self {
        let msg = msg.into();
        CmdError {
            status: 1,
            message: (!msg.is_empty()).then_some(msg),
            usage: true,
        }
    }
    /// A failure already reported (or silent, as `grep -q`): just `status`.
    pub fn status(status: i32) -> Self {
        CmdError {
            status,
            message: None,
            usage: false,
        }
    }
    /// The same error with exit status `status`.
    #[must_use]
    pub fn with_status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }
}

impl From<crate::Error> for CmdError {
    /// A VFS error as GNU words it (`PATH: No such file or directory`),
    /// status 1. A closed pipe (the reader went away) is status 141 and
    /// silent, as a GNU tool killed by `SIGPIPE`.
    fn from(e: crate::Error) -> Self {
        if e.kind == crate::ErrorKind::BrokenPipe {
            return CmdError::status(141);
        }
        CmdError::new(1, e.to_string())
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{m} (status {})", self.status),
            None => write!(f, "status {}", self.status),
        }
    }
}

impl std::error::Error for CmdError {}

/// Defines a command handler (a [`CommandFn`]) named `$name` from an
/// `async fn $body(&mut CommandCtx) -> Result<i32, CmdError>`: the body
/// can use `?`, and an error is reported by [`CommandCtx::finish`].
///
/// ```ignore
/// mirage_types::command_handler!(fn run = body);
/// async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
///     Ok(0)
/// }
/// ```
#[macro_export]
macro_rules! command_handler {
    ($vis:vis fn $name:ident = $body:path) => {
        $vis fn $name(
            ctx: &mut $crate::command::CommandCtx,
        ) -> $crate::command::CommandFuture<'_> {
            Box::pin(async move {
                let result = $body(ctx).await;
                ctx.finish(result).await
            })
        }
    };
}

/// The future a command returns: its exit status.
pub type CommandFuture<'a> = BoxFuture<'a, i32>;

/// A command handler.
pub type CommandFn = for<'a> fn(&'a mut CommandCtx) -> CommandFuture<'a>;

/// A command registered at link time with `inventory::submit!`.
///
/// Dispatch (seed 001) tries `(name, resource, filetype)`, then
/// `(name, resource)`, then `(name)`.
pub struct CommandRegistration {
    /// The command name (`cat`).
    pub name: &'static str,
    /// The resource this handler is for (`"s3"`), or `None` for the general handler.
    pub resource: Option<&'static str>,
    /// The file extension this handler is for (`"parquet"`), or `None`.
    pub filetype: Option<&'static str>,
    /// Options and operands, for parsing and for the registry's listing.
    pub spec: &'static CommandSpec,
    /// What the command does beyond reading: [`Effect::Write`] changes
    /// files (the router checks each change against the mount mode anyway),
    /// [`Effect::Exec`] acts outside the files and runs only on an `exec`
    /// mount (see [`Effect`]).
    pub effect: Effect,
    /// The handler.
    pub handler: CommandFn,
}

inventory::collect!(CommandRegistration);

/// The side effects a command may have, declared in its
/// [`CommandRegistration`].
///
/// Dispatch enforces [`Effect::Exec`]: such a command runs only when the
/// mount of each of its path operands (or, with no path operand, the mount
/// of the working directory) has mode `exec`
/// ([`MountMode::Exec`](crate::MountMode::Exec)). Otherwise it does not run:
/// `NAME: PATH: Permission denied (mount is not exec)` on stderr, status 1.
/// [`Effect::Read`] and [`Effect::Write`] need nothing from dispatch (the
/// router refuses every change on a `read` mount).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Effect {
    /// Reads files and writes only to its output streams (`cat`, `grep`).
    #[default]
    Read,
    /// Changes files through the router (`cp`, `rm`, `tee`).
    Write,
    /// Acts outside the workspace's files: sends a message, makes an HTTP
    /// request that changes something (`curl -X POST`), starts a job.
    Exec,
}

impl Effect {
    /// [`Effect::Write`] for `true`, [`Effect::Read`] for `false` (the
    /// `write` flag of `register_command!`).
    pub const fn from_write(write: bool) -> Effect {
        if write { Effect::Write } else { Effect::Read }
    }
}

/// What the shell calls to run a command that is not a shell builtin. The
/// workspace implements it with the registry's resolution order.
#[async_trait]
pub trait CommandHost: Send + Sync {
    /// The VFS router (for globs, redirects, `cd` and `test`).
    fn vfs(&self) -> Arc<dyn Vfs>;
    /// Whether a command of this name exists.
    fn has_command(&self, name: &str) -> bool;
    /// Whether [`CommandHost::run`] would find a command for `ctx` (its
    /// name, and for a command only some resources have, its path
    /// operands). The shell asks first so that it can say `command not
    /// found` in its own words (`bash: line 3: NAME: command not found`).
    fn resolves(&self, ctx: &CommandCtx) -> bool {
        self.has_command(&ctx.name)
    }
    /// Runs the command named `ctx.name`; returns its exit status (127 and
    /// `NAME: command not found` on stderr when there is none). Flushes
    /// `ctx.stdout` and `ctx.stderr` before returning.
    async fn run(&self, ctx: &mut CommandCtx) -> i32;
    /// The names of the commands this host can run, sorted and without
    /// repeats (`compgen -c` lists them after the shell's own names; bash
    /// lists the programs of each `PATH` directory in its hash order).
    /// Default: none.
    fn command_names(&self) -> Vec<String> {
        Vec::new()
    }
}
