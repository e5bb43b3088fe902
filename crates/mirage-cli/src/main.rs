//! `mirage`: run shell lines over a Mirage workspace.
//!
//! `mirage execute -c LINE` runs in-process on an embedded workspace: the
//! current directory mounted read-only at `/workspace` (writable with
//! `--write`), RAM at `/tmp`, cwd `/workspace`. `--mount` adds mounts and
//! `--config` loads a workspace config instead.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use mirage::ops::Resource;
use mirage::types::MountMode;
use mirage::{Workspace, WorkspaceConfig};

#[derive(Parser)]
#[command(name = "mirage", version, about = "A unified virtual filesystem and bash-compatible shell for AI agents")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct WsArgs {
    /// Make /workspace (the current directory) writable.
    #[arg(long)]
    write: bool,
    /// Add a mount: PREFIX=ram or PREFIX=disk:PATH[:write]. Repeatable.
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

fn build_workspace(args: &WsArgs) -> Result<Workspace> {
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg = WorkspaceConfig::from_yaml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut ws = Workspace::from_config(&cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
        if !args.mounts.is_empty() {
            bail!("--mount cannot be combined with --config");
        }
        let _ = &mut ws;
        return Ok(ws);
    }
    let cwd = std::env::current_dir().context("current directory")?;
    let mode = if args.write { MountMode::Write } else { MountMode::Read };
    let disk: Arc<dyn Resource> = Arc::new(mirage::disk::DiskResource::open(&cwd).map_err(|e| anyhow::anyhow!("{}: {e}", cwd.display()))?);
    let ram: Arc<dyn Resource> = Arc::new(mirage::ram::RamResource::new());
    let mut b = Workspace::builder().mount("/workspace", disk, mode).mount("/tmp", ram, MountMode::Write).cwd("/workspace");
    for m in &args.mounts {
        let (prefix, spec) = m.split_once('=').with_context(|| format!("--mount {m}: expected PREFIX=SPEC"))?;
        let res: Arc<dyn Resource>;
        let mut mode = MountMode::Write;
        if spec == "ram" {
            res = Arc::new(mirage::ram::RamResource::new());
        } else if let Some(rest) = spec.strip_prefix("disk:") {
            let (path, m) = match rest.rsplit_once(':') {
                Some((p, "write")) => (p, MountMode::Write),
                Some((p, "read")) => (p, MountMode::Read),
                _ => (rest, MountMode::Read),
            };
            mode = m;
            res = Arc::new(mirage::disk::DiskResource::open(std::path::Path::new(path)).map_err(|e| anyhow::anyhow!("{path}: {e}"))?);
        } else {
            bail!("--mount {m}: unknown resource spec '{spec}' (ram, disk:PATH[:write])");
        }
        b = b.mount(prefix, res, mode);
    }
    b.env("HOME", "/workspace").env("PATH", "/usr/bin:/bin").build().map_err(|e| anyhow::anyhow!("{e}"))
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(64 * 1024 * 1024).build() {
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
            1
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
        Cmd::Config { what: ConfigCmd::Schema } => {
            println!("{}", serde_json::to_string_pretty(&WorkspaceConfig::json_schema())?);
            Ok(0)
        }
        Cmd::Execute { command, ws } => {
            let ws = build_workspace(&ws)?;
            let command = mirage::types::bytestr::decode(std::os::unix::ffi::OsStrExt::as_bytes(command.as_os_str())).into_owned();
            let out = ws.execute("default", &command, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let command = mirage::types::bytestr::decode(std::os::unix::ffi::OsStrExt::as_bytes(command.as_os_str())).into_owned();
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(&out.stdout);
            let _ = so.flush();
            let mut se = std::io::stderr().lock();
            let _ = se.write_all(&out.stderr);
            Ok(out.exit_code)
        }
        Cmd::Shell { ws } => {
            let ws = build_workspace(&ws)?;
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
        let out = ws.execute("default", &src, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        std::io::stdout().write_all(&out.stdout)?;
        std::io::stderr().write_all(&out.stderr)?;
        return Ok(out.exit_code);
    }
    let mut rl = rustyline::DefaultEditor::new()?;
    let mut last = 0;
    loop {
        let cwd = ws.session_cwd("default").await.unwrap_or_else(|_| "/".into());
        match rl.readline(&format!("mirage:{cwd}$ ")) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                let out = ws.execute("default", &line, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
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
