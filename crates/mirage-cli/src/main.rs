//! `mirage`: run shell lines over a Mirage workspace.
//!
//! `mirage execute -c LINE` runs in-process on an embedded workspace: the
//! current directory mounted read-only at `/workspace` (writable with
//! `--write`), RAM at `/tmp`, cwd `/workspace`. `--mount` adds mounts and
//! `--config` loads a workspace config instead.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use clap::{Parser, Subcommand};
use mirage::ops::Resource;
use mirage::types::MountMode;
use mirage::{Workspace, WorkspaceConfig};

#[derive(Parser)]
#[command(
    name = "mirage",
    version,
    about = "A unified virtual filesystem and bash-compatible shell for AI agents"
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
    /// Add a mount: `PREFIX=ram` or `PREFIX=disk:PATH[:write]`. Repeatable.
    #[arg(long = "mount", value_name = "PREFIX=SPEC")]
    mounts: Vec<String>,
    /// Load a workspace config (YAML) instead of the default mounts.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one line (or script) and exit with its status.
    Execute {
        /// The line to run.
        /// (Any bytes: a line that is not UTF-8 is carried byte for byte.)
        #[arg(short = 'c', long = "command")]
        command: std::ffi::OsString,
        /// Check the syntax only, as `bash -n`: exit 0 when the line parses,
        /// 2 with bash's syntax error message when it does not. Runs nothing.
        #[arg(short = 'n', long = "noexec")]
        noexec: bool,
        #[command(flatten)]
        ws: WsArgs,
    },
    /// An interactive shell over the same workspace.
    Shell {
        #[command(flatten)]
        ws: WsArgs,
    },
    /// Config helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
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

/// One `--mount PREFIX=SPEC`: the prefix, the resource and its mode.
fn parse_mount(m: &str) -> std::result::Result<(String, Arc<dyn Resource>, MountMode), String> {
    let (prefix, spec) = m.split_once('=').ok_or_else(|| {
        format!("--mount {m}: expected PREFIX=SPEC (PREFIX=ram or PREFIX=disk:PATH[:write])")
    })?;
    if !prefix.starts_with('/') {
        return Err(format!(
            "--mount {m}: the prefix '{prefix}' must be an absolute path"
        ));
    }
    if spec == "ram" {
        return Ok((
            prefix.to_string(),
            Arc::new(mirage::ram::RamResource::new()),
            MountMode::Write,
        ));
    }
    let Some(rest) = spec
        .strip_prefix("disk:")
        .or_else(|| (spec == "disk").then_some(""))
    else {
        return Err(format!(
            "--mount {m}: unknown resource spec '{spec}' (ram, disk:PATH[:write])"
        ));
    };
    let (path, mode) = match rest.rsplit_once(':') {
        Some((p, "write")) => (p, MountMode::Write),
        Some((p, "read")) => (p, MountMode::Read),
        _ => (rest, MountMode::Read),
    };
    if path.is_empty() {
        return Err(format!(
            "--mount {m}: missing the host directory after 'disk:' (disk:PATH[:write])"
        ));
    }
    let res = mirage::disk::DiskResource::open(std::path::Path::new(path))
        .map_err(|e| format!("--mount {m}: {e}"))?;
    Ok((prefix.to_string(), Arc::new(res), mode))
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

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(64 * 1024 * 1024)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mirage: {e}");
            std::process::exit(1);
        }
    };
    // run on a worker thread: its stack is sized for deep shell recursion
    let code = match rt.block_on(async move { tokio::spawn(run(cli)).await }) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("mirage: {e:#}");
            if e.is::<UsageError>() { USAGE_EXIT } else { 1 }
        }
        Err(e) => {
            eprintln!("mirage: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.cmd {
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
            noexec,
            ws,
        } => {
            let command = mirage::types::bytestr::decode(std::os::unix::ffi::OsStrExt::as_bytes(
                command.as_os_str(),
            ))
            .into_owned();
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
            let out = ws
                .execute("default", &command, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(&out.stdout);
            let _ = so.flush();
            let mut se = std::io::stderr().lock();
            let _ = se.write_all(&out.stderr);
            Ok(out.exit_code)
        }
        Cmd::Shell { ws } => {
            let ws = build_workspace(&ws).await?;
            shell(ws).await
        }
    }
}

async fn shell(ws: Workspace) -> Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        // a script on stdin
        let mut src = String::new();
        std::io::stdin().read_to_string(&mut src)?;
        let out = ws
            .execute("default", &src, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        std::io::stdout().write_all(&out.stdout)?;
        std::io::stderr().write_all(&out.stderr)?;
        return Ok(out.exit_code);
    }
    let mut rl = rustyline::DefaultEditor::new()?;
    let mut last = 0;
    loop {
        let cwd = ws
            .session_cwd("default")
            .await
            .unwrap_or_else(|_| "/".into());
        match rl.readline(&format!("mirage:{cwd}$ ")) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                let out = ws
                    .execute("default", &line, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                std::io::stdout().write_all(&out.stdout)?;
                std::io::stdout().flush()?;
                std::io::stderr().write_all(&out.stderr)?;
                last = out.exit_code;
                if line.trim() == "exit" || line.trim().starts_with("exit ") {
                    return Ok(last);
                }
            }
            Err(rustyline::error::ReadlineError::Eof) => return Ok(last),
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
