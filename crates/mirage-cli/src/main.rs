//! `mirage`: run shell lines over a Mirage workspace.
//!
//! `mirage execute -c LINE` runs in-process on an embedded workspace: the
//! current directory mounted read-only at `/workspace` (writable with
//! `--write`), RAM at `/tmp`, cwd `/workspace`. `--mount` adds mounts and
//! `--config` loads a workspace config instead.
//!
//! With `-w WORKSPACE` (and in the `workspace`, `session`, `job`, `vfs`,
//! `glob` and `daemon` commands) it is the stateless client of the Mirage
//! daemon instead: every command one HTTP call (see `remote`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use clap::{Parser, Subcommand};
use mirage::ops::Resource;
use mirage::types::MountMode;
use mirage::{Workspace, WorkspaceConfig};

mod client;
mod remote;
mod repl;
mod settings;

/// The examples under `mirage --help`.
const MAIN_HELP: &str = "\
Examples, embedded (no daemon):
  mirage execute -c 'ls /workspace | wc -l'        run one line over the current directory
  mirage shell                                     an interactive shell over it
  mirage mount --config ws.yaml /mnt/ws            a workspace as a host directory (FUSE)

Examples with the daemon (the first `workspace create` starts it):
  mirage workspace create ws.yaml --id demo
  mirage execute -w demo -c 'echo hi > /data/a; cat /data/a'
  job=$(mirage execute -w demo --bg -c 'sleep 5; echo done')
  mirage job wait \"$job\"
  mirage vfs read -w demo /data/a
  mirage workspace snapshot demo demo.tar
  mirage daemon stop

Settings: MIRAGE_DAEMON_URL (default http://127.0.0.1:8765), MIRAGE_TOKEN,
then ~/.mirage/config.toml [daemon] (url, auth_token, persist_dir,
idle_grace_seconds). Add --json to any daemon command for its raw reply.";

#[derive(Parser)]
#[command(
    name = "mirage",
    version,
    about = "A unified virtual filesystem and bash-compatible shell for AI agents",
    after_help = MAIN_HELP
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct WsArgs {
    /// Make /workspace (the current directory) writable.
    #[arg(long)]
    write: bool,
    /// Add a mount: `PREFIX=TYPE[:ARG][:MODE]`, TYPE any registered
    /// resource (`mirage resources`), ARG its main setting (disk's root
    /// directory), MODE read|write|exec (default: write without ARG, read
    /// with one). E.g. `/scratch=ram`, `/docs=disk:./docs:write`. Repeatable.
    #[arg(long = "mount", value_name = "PREFIX=SPEC")]
    mounts: Vec<String>,
    /// Load a workspace config (YAML) instead of the default mounts.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Where a line runs on the daemon (`execute -w`, `shell -w`).
#[derive(clap::Args, Clone)]
struct RemoteArgs {
    /// Run the line in this workspace of the daemon (`mirage workspace
    /// create`) instead of an embedded one.
    #[arg(
        short = 'w',
        long = "workspace",
        visible_alias = "workspace-id",
        alias = "workspace_id",
        value_name = "WS"
    )]
    workspace: Option<String>,
    /// The daemon session to run in (default: the workspace's default
    /// session).
    #[arg(
        short = 's',
        long = "session",
        alias = "session_id",
        requires = "workspace"
    )]
    session: Option<String>,
    /// The working directory of this line only (a workspace path).
    #[arg(long, requires = "workspace", value_name = "DIR")]
    cwd: Option<String>,
    /// An environment variable of this line only, `NAME=VALUE`. Repeatable.
    #[arg(long, requires = "workspace", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// Run in the background: print the job id and return at once
    /// (`mirage job wait ID`).
    #[arg(long = "bg", alias = "background", requires = "workspace")]
    bg: bool,
    /// Print the result as one JSON object (exit_code, stdout, stderr)
    /// instead of streaming the output.
    #[arg(long, requires = "workspace")]
    json: bool,
    /// Do not send this process's stdin to the line (by default a pipe or
    /// file on stdin is forwarded; a terminal or /dev/null never is).
    #[arg(long, requires = "workspace")]
    no_stdin: bool,
}

/// The examples under `mirage execute --help`.
const EXECUTE_HELP: &str = "\
Examples:
  mirage execute -c 'grep -rn TODO /workspace | head'     embedded, read-only
  mirage execute --write -c 'echo hi > /workspace/a'      embedded, writable
  mirage execute -w demo -c 'cat /data/a'                 on the daemon
  mirage execute -w demo -s agent_a --bg -c 'sleep 9'     a background job
  printf 'b\\na\\n' | mirage execute -w demo -c sort        stdin is forwarded";

/// The examples under `mirage mount --help`.
const MOUNT_HELP: &str = "\
Examples:
  mirage mount --config ws.yaml /mnt/ws             the whole workspace
  mirage mount --config ws.yaml --root /data /mnt/d one mount of it
  mirage mount --read-only /mnt/here                the current directory (/workspace) and a RAM /tmp, read-only
  mirage mount --config ws.yaml                     each mount with `backend: fuse` at its `mountpoint:`

It prints where it is mounted and stays in the foreground; Ctrl-C or
SIGTERM unmounts (exit 0). A mount left by a killed `mirage mount` is
cleaned by the next one. Needs /dev/fuse (root, or a user allowed by
fusermount3).";

/// The `--json` flag of the daemon's command groups.
#[derive(clap::Args, Clone, Copy)]
struct JsonFlag {
    /// Print the daemon's raw JSON reply.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one line (or script) and exit with its status: embedded, or on
    /// the daemon with -w.
    #[command(after_help = EXECUTE_HELP)]
    Execute {
        /// The line to run.
        /// (Any bytes: a line that is not UTF-8 is carried byte for byte.)
        #[arg(short = 'c', long = "command")]
        command: std::ffi::OsString,
        #[command(flatten)]
        remote: RemoteArgs,
        /// Check the syntax only, as `bash -n`: exit 0 when the line parses,
        /// 2 with bash's syntax error message when it does not. Runs nothing.
        #[arg(short = 'n', long = "noexec")]
        noexec: bool,
        /// Stop the line after SECS seconds of wall time (status 124, with a
        /// message on stderr); 0 means no limit. Default: the workspace's
        /// `limits.wall_time_secs` (10 minutes).
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
        #[command(flatten)]
        ws: WsArgs,
    },
    /// An interactive shell over an embedded workspace; with -w WS -c
    /// LINE, one line on the daemon (as `execute -w`).
    #[command(after_help = "Examples:\n  mirage shell\n  mirage shell -w demo -c 'ls /data'")]
    Shell {
        /// Run this line and exit with its status instead of the
        /// interactive shell.
        #[arg(short = 'c', long = "command")]
        command: Option<std::ffi::OsString>,
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(flatten)]
        ws: WsArgs,
    },
    /// Workspaces on the daemon: create, list, get, delete, close, clone,
    /// snapshot, load, cancel, kill.
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Workspace {
        #[command(subcommand)]
        cmd: remote::WorkspaceCmd,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Sessions of a daemon workspace (each its own cwd, env and history).
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Session {
        #[command(subcommand)]
        cmd: remote::SessionCmd,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Background and running lines on the daemon: list, get, wait, cancel.
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Job {
        #[command(subcommand)]
        cmd: remote::JobCmd,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// One VFS call on a daemon workspace, without a shell.
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Vfs {
        #[command(subcommand)]
        cmd: remote::VfsCmd,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Every path a pattern matches in a daemon workspace, as the session
    /// sees them.
    #[command(after_help = "Example:\n  mirage glob -w demo '/data/**/*.csv'")]
    Glob {
        #[command(flatten)]
        args: remote::GlobArgs,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The daemon process: run (foreground), status, stop, restart, kill.
    #[command(subcommand_required = true, arg_required_else_help = true)]
    Daemon {
        #[command(subcommand)]
        cmd: remote::DaemonCmd,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Mount the workspace on a host directory with FUSE, in the
    /// foreground, until Ctrl-C or SIGTERM: any program (git, python, an
    /// editor) then works on it, through the workspace's router.
    #[command(after_help = MOUNT_HELP)]
    Mount {
        /// The host directory to mount on (an existing directory).
        /// Without it, every mount block of `--config` with
        /// `backend: fuse` is mounted at its `mountpoint:` (a fresh
        /// directory under the temporary directory when it has none).
        mountpoint: Option<PathBuf>,
        /// The workspace directory shown as the mount's root (default
        /// `/`, the whole tree; e.g. `/data` for one mount).
        #[arg(long, default_value = "/", value_name = "DIR")]
        root: String,
        /// Refuse every change (`EROFS`), whatever the mounts' own modes;
        /// the kernel mount is read-only too.
        #[arg(long)]
        read_only: bool,
        /// Seconds the kernel may keep attributes and entries without
        /// asking (changes made through Mirage drop them at once).
        #[arg(long, default_value_t = 1.0, value_name = "SECS")]
        ttl: f64,
        #[command(flatten)]
        ws: WsArgs,
    },
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  \
        mirage completions bash > ~/.local/share/bash-completion/completions/mirage\n  \
        mirage completions zsh > ~/.zfunc/_mirage\n  \
        mirage completions fish > ~/.config/fish/completions/mirage.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// List the resource types this binary can mount (name and summary,
    /// one per line, sorted).
    Resources,
    /// Config helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
    /// The cache (Recall) of the workspace's remote mounts, as the shell's
    /// `cache` command. Embedded, it acts on this process's workspace:
    /// useful for a `type: disk` or `redis` cache, which outlives the
    /// process.
    Cache {
        #[command(subcommand)]
        what: CacheCmd,
    },
}

#[derive(Subcommand)]
enum CacheCmd {
    /// Hits, misses, bytes served from the cache and backend requests,
    /// per cached mount (tab-separated, or JSON with --json).
    Stats {
        /// Print one JSON object: mount prefix → counters.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        ws: WsArgs,
    },
    /// Drop every cached entry of PATH and below it (rclone's `vfs/forget`).
    Forget {
        /// Virtual paths on cached mounts.
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        ws: WsArgs,
    },
    /// Forget PATH, then read its stat and listing again (rclone's `vfs/refresh`).
    Refresh {
        /// Virtual paths on cached mounts.
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        ws: WsArgs,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print the JSON Schema of the workspace config.
    Schema,
}

/// A problem with the workspace the command line asks for (`--config`,
/// `--mount`): `mirage` prints it and exits 2, as clap does for a usage error.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit status of a config or `--mount` error.
const USAGE_EXIT: i32 = 2;

/// The largest `--config` file read (1 MiB).
const CONFIG_LIMIT: u64 = 1 << 20;

/// Reads a `--config` file: a regular file (checked on the open descriptor,
/// opened non-blocking so a FIFO cannot hang us) of at most 1 MiB of UTF-8.
fn read_config(path: &Path) -> std::result::Result<String, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| format!("{shown}: {}", io_message(&e)))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("{shown}: {}", io_message(&e)))?;
    if meta.is_dir() {
        return Err(format!("{shown}: Is a directory"));
    }
    if !meta.is_file() {
        return Err(format!("{shown}: not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(CONFIG_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{shown}: {}", io_message(&e)))?;
    if bytes.len() as u64 > CONFIG_LIMIT {
        return Err(format!("{shown}: larger than the 1 MiB a config may have"));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{shown}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// An I/O error's message without Rust's ` (os error N)` suffix.
fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The mode words of `--mount …:MODE`.
const MODE_WORDS: &[&str] = &["read", "write", "exec", "ro", "rw"];

/// One `--mount PREFIX=TYPE[:ARG][:MODE]`: the prefix, the resource and
/// its mode. TYPE is any registered resource type (`mirage resources`),
/// built through its registration's factory; ARG sets the type's main
/// config key ([`mirage::ops::ResourceRegistration::main_key`], disk's
/// `root`) and may itself contain `:`. MODE is `read`, `write` or `exec`
/// (`ro`, `rw`); it defaults to `write` for a type that takes no ARG
/// (scratch space: `ram`) and to `read` for one that does (existing data:
/// `disk:PATH`). Errors name the problem (the caller exits 2).
fn parse_mount(m: &str) -> std::result::Result<(String, Arc<dyn Resource>, MountMode), String> {
    let (prefix, spec) = m
        .split_once('=')
        .ok_or_else(|| format!("--mount {m}: expected PREFIX=SPEC (PREFIX=TYPE[:ARG][:MODE])"))?;
    if !prefix.starts_with('/') {
        return Err(format!(
            "--mount {m}: the prefix '{prefix}' must be an absolute path"
        ));
    }
    let (ty, rest) = match spec.split_once(':') {
        Some((t, r)) => (t, Some(r)),
        None => (spec, None),
    };
    let Some(reg) = mirage::ops::resource_type(ty) else {
        let known: Vec<&str> = mirage::resource_names();
        return Err(format!(
            "--mount {m}: unknown resource type '{ty}' (known: {}; see 'mirage resources')",
            known.join(", ")
        ));
    };
    // split off a trailing MODE: `disk:PATH:write`, `ram:exec`; a lone
    // word after a type that takes an ARG is the ARG (`disk:write` is a
    // directory named "write")
    let (arg, mode) = match rest {
        None => (None, None),
        Some(r) => match r.rsplit_once(':') {
            Some((a, w)) if MODE_WORDS.contains(&w) => (Some(a), Some(w)),
            _ if reg.main_key.is_none() && MODE_WORDS.contains(&r) => (None, Some(r)),
            _ => (Some(r), None),
        },
    };
    let mut config = serde_json::Map::new();
    match (reg.main_key, arg) {
        (Some(key), Some(a)) if !a.is_empty() => {
            config.insert(key.to_string(), serde_json::Value::String(a.to_string()));
        }
        (Some(key), _) => {
            return Err(format!(
                "--mount {m}: missing the {ty} {key} after '{ty}:' (PREFIX={ty}:{}[:MODE])",
                key.to_uppercase()
            ));
        }
        (None, Some(a)) => {
            return Err(format!(
                "--mount {m}: resource type '{ty}' takes no argument, got '{a}' \
                 (PREFIX={ty}[:MODE]; use --config for its settings)"
            ));
        }
        (None, None) => {}
    }
    let mode = match mode {
        Some(w) => MountMode::parse(w).ok_or_else(|| format!("--mount {m}: bad mode '{w}'"))?,
        None if reg.main_key.is_some() => MountMode::Read,
        None => MountMode::Write,
    };
    let res =
        (reg.build)(&serde_json::Value::Object(config)).map_err(|e| format!("--mount {m}: {e}"))?;
    Ok((prefix.to_string(), res, mode))
}

/// The workspace of `execute` and `shell`: from `--config`, or the default
/// mounts plus `--mount`s. Every error is a [`UsageError`] (exit 2).
async fn build_workspace(args: &WsArgs) -> Result<Workspace> {
    build_workspace_inner(args)
        .await
        .map_err(|e| anyhow::Error::new(UsageError(e)))
}

async fn build_workspace_inner(args: &WsArgs) -> std::result::Result<Workspace, String> {
    if let Some(path) = &args.config {
        if !args.mounts.is_empty() {
            return Err("--mount cannot be combined with --config".into());
        }
        let text = read_config(path)?;
        let cfg =
            WorkspaceConfig::from_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Workspace::from_config(&cfg)
            .await
            .map_err(|e| format!("{}: {e}", path.display()));
    }
    let cwd =
        std::env::current_dir().map_err(|e| format!("current directory: {}", io_message(&e)))?;
    let mode = if args.write {
        MountMode::Write
    } else {
        MountMode::Read
    };
    let disk: Arc<dyn Resource> = Arc::new(
        mirage::disk::DiskResource::open(&cwd).map_err(|e| format!("{}: {e}", cwd.display()))?,
    );
    let ram: Arc<dyn Resource> = Arc::new(mirage::ram::RamResource::new());
    let mut b = Workspace::builder()
        .mount("/workspace", disk, mode)
        .mount("/tmp", ram, MountMode::Write)
        .cwd("/workspace");
    for m in &args.mounts {
        let (prefix, res, mode) = parse_mount(m)?;
        b = b.mount(&prefix, res, mode);
    }
    b.env("HOME", "/workspace")
        .env("PATH", "/usr/bin:/bin")
        .build()
        .map_err(|e| e.to_string())
}

/// The stack of the thread the shell runs on: sized for deep shell
/// recursion (the shell's own depth limits stop well before it).
const SHELL_STACK: usize = 64 * 1024 * 1024;

fn main() {
    let cli = Cli::parse();
    // `execute` runs one line: one thread with a current-thread runtime
    // starts faster than a worker pool (the `cold` bench); background jobs
    // still run concurrently, as tasks that take turns. The REPL reads its
    // input with `block_in_place`, which needs the multi-thread runtime.
    let result = if matches!(cli.cmd, Cmd::Execute { .. }) {
        std::thread::Builder::new()
            .name("mirage".into())
            .stack_size(SHELL_STACK)
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(anyhow::Error::from)
                    .and_then(|rt| rt.block_on(run(cli)))
            })
            .map_err(anyhow::Error::from)
            .and_then(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the shell thread panicked")))
            })
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_stack_size(SHELL_STACK)
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                // run on a worker thread: its stack is SHELL_STACK
                rt.block_on(async move { tokio::spawn(run(cli)).await })
                    .unwrap_or_else(|e| Err(anyhow::Error::from(e)))
            })
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                // the reader of our output went away (`| head`): quiet, as
                // a GNU tool stopped by SIGPIPE
                std::process::exit(141);
            }
            eprintln!("mirage: {e:#}");
            if e.is::<UsageError>() {
                USAGE_EXIT
            } else if let Some(f) = e.downcast_ref::<client::Failure>() {
                f.code
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.cmd {
        Cmd::Resources => {
            let mut so = std::io::stdout().lock();
            for r in mirage::ops::resource_types() {
                writeln!(so, "{}\t{}", r.name, r.summary)?;
            }
            Ok(0)
        }
        Cmd::Config {
            what: ConfigCmd::Schema,
        } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&mirage::workspace::schema::workspace_schema())?
            );
            Ok(0)
        }
        Cmd::Execute {
            command,
            remote,
            noexec,
            timeout,
            ws,
        } => {
            let command = mirage::types::bytestr::decode(std::os::unix::ffi::OsStrExt::as_bytes(
                command.as_os_str(),
            ))
            .into_owned();
            if remote.workspace.is_some() {
                if noexec || timeout.is_some() {
                    return Err(UsageError(
                        "-n and --timeout run an embedded line; they cannot be combined with -w"
                            .into(),
                    )
                    .into());
                }
                return run_remote(remote, command, &ws).await;
            }
            if noexec {
                return Ok(match mirage::shell::parse::check_syntax(&command) {
                    Ok(()) => 0,
                    Err(e) => {
                        eprint!("{}", e.report(&command));
                        2
                    }
                });
            }
            let ws = build_workspace(&ws).await?;
            if let Some(t) = timeout {
                if !t.is_finite() || t < 0.0 {
                    return Err(
                        UsageError(format!("--timeout {t}: not a number of seconds")).into(),
                    );
                }
                let mut l = ws.session_limits("default").await?;
                l.wall_time = (t > 0.0).then(|| std::time::Duration::from_secs_f64(t.min(1e9)));
                ws.set_session_limits("default", l).await?;
            }
            // background jobs end with the process, as a shell's jobs get
            // SIGHUP when it exits
            run_streaming(&ws, &command, true).await
        }
        Cmd::Cache { what } => {
            let (words, ws) = match what {
                CacheCmd::Stats { json, ws } => {
                    let mut w = vec!["stats".to_string()];
                    if json {
                        w.push("--json".into());
                    }
                    (w, ws)
                }
                CacheCmd::Forget { paths, ws } => (
                    std::iter::once("forget".to_string()).chain(paths).collect(),
                    ws,
                ),
                CacheCmd::Refresh { paths, ws } => (
                    std::iter::once("refresh".to_string())
                        .chain(paths)
                        .collect(),
                    ws,
                ),
            };
            let ws = build_workspace(&ws).await?;
            let line = std::iter::once("cache".to_string())
                .chain(words.iter().map(|a| shell_quote(a)))
                .collect::<Vec<_>>()
                .join(" ");
            run_streaming(&ws, &line, true).await
        }
        Cmd::Shell {
            command,
            remote,
            ws,
        } => {
            let command = command.map(|c| {
                mirage::types::bytestr::decode(std::os::unix::ffi::OsStrExt::as_bytes(
                    c.as_os_str(),
                ))
                .into_owned()
            });
            if remote.workspace.is_some() {
                let command = match command {
                    Some(c) => c,
                    // a script on stdin, as the embedded shell takes one
                    None if !std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                        let mut src = Vec::new();
                        std::io::stdin().read_to_end(&mut src)?;
                        let mut remote = remote;
                        remote.no_stdin = true;
                        return run_remote(remote, mirage::types::bytestr::decode_owned(src), &ws)
                            .await;
                    }
                    None => {
                        return Err(UsageError(
                            "mirage shell -w WS needs -c LINE or a script on stdin \
                             (the interactive shell is embedded only)"
                                .into(),
                        )
                        .into());
                    }
                };
                return run_remote(remote, command, &ws).await;
            }
            let ws = build_workspace(&ws).await?;
            match command {
                Some(line) => run_streaming(&ws, &line, true).await,
                None => shell(ws).await,
            }
        }
        Cmd::Mount {
            mountpoint,
            root,
            read_only,
            ttl,
            ws,
        } => mount(mountpoint.as_deref(), root, read_only, ttl, &ws).await,
        Cmd::Workspace { cmd, json } => remote::workspace(cmd, json.json).await,
        Cmd::Session { cmd, json } => remote::session(cmd, json.json).await,
        Cmd::Job { cmd, json } => remote::job(cmd, json.json).await,
        Cmd::Vfs { cmd, json } => remote::vfs::vfs(cmd, json.json).await,
        Cmd::Glob { args, json } => remote::vfs::glob(args, json.json).await,
        Cmd::Daemon { cmd, json } => remote::daemon_cmd(cmd, json.json).await,
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut so = std::io::stdout().lock();
            clap_complete::generate(shell, &mut cmd, "mirage", &mut so);
            so.flush()?;
            Ok(0)
        }
    }
}

/// `execute -w` and `shell -w`: the line on the daemon. The embedded
/// workspace's flags (`--config`, `--mount`, `--write`) are refused.
async fn run_remote(remote: RemoteArgs, command: String, ws: &WsArgs) -> Result<i32> {
    if ws.config.is_some() || !ws.mounts.is_empty() || ws.write {
        return Err(UsageError(
            "--config, --mount and --write make an embedded workspace; they cannot be combined with -w"
                .into(),
        )
        .into());
    }
    let client = client::Client::from_env()?;
    remote::exec::execute(
        &client,
        remote::exec::RemoteLine {
            workspace: remote.workspace.unwrap_or_default(),
            session: remote.session,
            cwd: remote.cwd,
            env: remote.env,
            command,
            background: remote.bg,
            json: remote.json,
            stdin: !remote.no_stdin,
        },
    )
    .await
}

/// `mirage mount`: builds the workspace as `execute` does
/// ([`build_workspace`]; exit 2 on a bad config), mounts its tree below
/// `root` at `mountpoint` ([`mirage_fuse::mount`], which first cleans a
/// stale mount left by a killed process), prints one line, and waits for
/// SIGINT or SIGTERM; then unmounts and returns 0. Without `mountpoint`,
/// mounts each `backend: fuse` mount block of `--config` at its
/// `mountpoint:` (the model product's `kernel_mounts()`; a fresh
/// directory under the temporary directory, removed at the end, when it
/// has none), one line each. Errors (exit 1): FUSE unavailable, a missing
/// mount point, a `root` that is not a directory of the workspace, the
/// kernel refusing the mount or (busy) the unmount; (exit 2) no mount
/// point and no `backend: fuse` mount.
async fn mount(
    mountpoint: Option<&Path>,
    root: String,
    read_only: bool,
    ttl: f64,
    args: &WsArgs,
) -> Result<i32> {
    use tokio::signal::unix::{SignalKind, signal};
    if !ttl.is_finite() || ttl < 0.0 {
        return Err(UsageError(format!("--ttl {ttl}: not a number of seconds")).into());
    }
    if !root.starts_with('/') {
        return Err(
            UsageError(format!("--root {root}: must be an absolute workspace path")).into(),
        );
    }
    // (workspace directory, host directory, whether we made it)
    let mut targets: Vec<(String, PathBuf, bool)> = Vec::new();
    match mountpoint {
        Some(mp) => targets.push((root.clone(), mp.to_path_buf(), false)),
        None => {
            let Some(path) = &args.config else {
                return Err(UsageError(
                    "mount: give a MOUNTPOINT, or --config with mounts on `backend: fuse`".into(),
                )
                .into());
            };
            if root != "/" {
                return Err(UsageError(
                    "--root needs a MOUNTPOINT (a `backend: fuse` mount is rooted at its prefix)"
                        .into(),
                )
                .into());
            }
            let mut cfg = WorkspaceConfig::from_yaml(&read_config(path).map_err(UsageError)?)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            // a relative `mountpoint:` is from the current directory, as
            // for `workspace create`
            let cwd = std::env::current_dir()?;
            for m in cfg.mounts.values_mut() {
                if let Some(mp) = &mut m.mountpoint
                    && !mp.starts_with('/')
                {
                    *mp = cwd.join(&*mp).to_string_lossy().into_owned();
                }
            }
            let wanted = cfg
                .kernel_mounts()
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            if wanted.is_empty() {
                return Err(UsageError(format!(
                    "{}: no mount has `backend: fuse`; give a MOUNTPOINT",
                    path.display()
                ))
                .into());
            }
            for (prefix, mp) in wanted {
                targets.push(match mp {
                    Some(mp) => (prefix, PathBuf::from(mp), false),
                    None => {
                        let tag: String = prefix
                            .chars()
                            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                            .collect();
                        let dir = std::env::temp_dir()
                            .join(format!("mirage-fuse{tag}-{}", std::process::id()));
                        std::fs::create_dir_all(&dir).map_err(|e| {
                            anyhow::anyhow!("{}: {}", dir.display(), io_message(&e))
                        })?;
                        (prefix, dir, true)
                    }
                });
            }
        }
    }
    let ws = match build_workspace(args).await {
        Ok(ws) => ws,
        Err(e) => {
            remove_made(&targets);
            return Err(e);
        }
    };
    for (dir, _, _) in &targets {
        match ws.vfs().stat(dir).await {
            Ok(st) if st.is_dir() => {}
            Ok(_) => {
                return Err(UsageError(format!("--root {dir}: Not a directory")).into());
            }
            Err(e) => {
                return Err(UsageError(format!("--root {dir}: {}", e.kind.gnu_message())).into());
            }
        }
    }
    // listen before mounting: a signal that comes once the line is out
    // must unmount, never kill us with the mount left behind
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut mounted = Vec::new();
    for (dir, host, _) in &targets {
        let opts = mirage_fuse::FuseOptions {
            read_only,
            root: dir.clone(),
            ttl: std::time::Duration::from_secs_f64(ttl.min(1e6)),
            ..mirage_fuse::FuseOptions::default()
        };
        match mirage_fuse::mount(&ws, host, opts).await {
            Ok(m) => mounted.push((dir.clone(), m)),
            Err(e) => {
                let _ = unmount_all(mounted).await;
                remove_made(&targets);
                return Err(anyhow::anyhow!("mount: {e}"));
            }
        }
    }
    {
        let mut so = std::io::stdout().lock();
        for (dir, m) in &mounted {
            writeln!(
                so,
                "mirage: {dir} mounted at {}{} (pid {}); Ctrl-C or `kill {}` unmounts",
                m.mountpoint().display(),
                if read_only { ", read-only" } else { "" },
                std::process::id(),
                std::process::id(),
            )?;
        }
        so.flush()?;
    }
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    let r = unmount_all(mounted).await;
    remove_made(&targets);
    r.map(|()| 0)
}

/// Unmounts each of `mounted` (all are tried); the first error.
async fn unmount_all(mounted: Vec<(String, mirage_fuse::FuseMount)>) -> Result<()> {
    let mut first = None;
    for (_, m) in mounted {
        let shown = m.mountpoint().display().to_string();
        let r = tokio::task::spawn_blocking(move || m.unmount()).await?;
        if let Err(e) = r {
            first.get_or_insert_with(|| anyhow::anyhow!("unmount {shown}: {e}"));
        }
    }
    first.map_or(Ok(()), Err)
}

/// Removes the mount point directories `mirage mount` made (empty once
/// unmounted).
fn remove_made(targets: &[(String, PathBuf, bool)]) {
    for (_, host, made) in targets {
        if *made {
            let _ = std::fs::remove_dir(host);
        }
    }
}

/// `s` quoted for the shell (single quotes; `'` as `'\''`).
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// How many chunks (each up to a command's output block, 32 KiB, or one
/// large chunk passed through) may wait for the terminal per stream.
const STREAM_CHUNKS: usize = 16;

/// Copies the chunks of `rx` to `out` on a thread of its own, flushing
/// each, until the channel closes. When `out` fails (the reader of our
/// stdout went away) it stops and drops `rx`, so the command writing gets
/// `BrokenPipe` and stops, as `SIGPIPE` stops a GNU tool.
fn forward(
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    stderr: bool,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(if stderr { "stderr" } else { "stdout" }.into())
        .spawn(move || {
            let mut rx = rx;
            let write = |b: &[u8]| -> std::io::Result<()> {
                if stderr {
                    let mut e = std::io::stderr().lock();
                    e.write_all(b)?;
                    e.flush()
                } else {
                    let mut o = std::io::stdout().lock();
                    o.write_all(b)?;
                    o.flush()
                }
            };
            while let Some(b) = rx.blocking_recv() {
                if write(&b).is_err() {
                    break;
                }
            }
        })
}

/// Runs `line` in the default session with its stdout and stderr written
/// to the process's streams as they are produced (through bounded
/// channels, so memory stays flat whatever the output size: `mirage
/// execute -c 'cat /dev/zero | head -c 1G' > /dev/null`). Returns the exit
/// status. stdin is empty, as for `bash -c` with stdin from `/dev/null`.
async fn run_streaming(ws: &Workspace, line: &str, end_jobs: bool) -> Result<i32> {
    use mirage::types::{Input, Sink};
    let (out_tx, out_rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
    let (err_tx, err_rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
    let threads = [forward(out_rx, false)?, forward(err_rx, true)?];
    let code = ws
        .execute_streaming(
            "default",
            line,
            Input::empty(),
            Sink::Pipe(out_tx),
            Sink::Pipe(err_tx),
        )
        .await;
    if end_jobs {
        // a job still running holds the sinks: end it so they close
        let _ = ws.kill_jobs("default").await;
    }
    // the sinks are gone with the run: the threads see the end and finish
    tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    })
    .await?;
    code.map_err(|e| anyhow::anyhow!("{e}"))
}

async fn shell(ws: Workspace) -> Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        // a script on stdin
        let mut src = Vec::new();
        std::io::stdin().read_to_end(&mut src)?;
        let src = mirage::types::bytestr::decode_owned(src);
        return run_streaming(&ws, &src, true).await;
    }
    repl::interactive(ws).await
}
