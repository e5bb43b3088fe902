//! `mirage vfs <call> …` and `mirage glob`: one VFS call without a shell,
//! `POST /v1/workspaces/{id}/vfs/{name}` with the arguments by name and
//! bytes as `<name>_base64`, as the model product carries them.

use std::io::{Read, Write};
use std::path::PathBuf;

use base64::Engine;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, fail, seg, with_query};
use crate::remote::output;

/// Where a call runs: the workspace and the session.
#[derive(clap::Args, Clone)]
pub struct Target {
    /// The workspace id.
    #[arg(
        short = 'w',
        long = "workspace",
        alias = "workspace_id",
        value_name = "WS"
    )]
    pub workspace: String,
    /// The session whose view (cwd, mode) the call takes (default: the
    /// workspace's default session).
    #[arg(short = 's', long = "session", alias = "session_id")]
    pub session: Option<String>,
}

/// The bytes of `write` and `append`.
#[derive(clap::Args, Clone)]
pub struct Data {
    /// The bytes as text (default: read stdin to its end).
    #[arg(long)]
    pub data: Option<String>,
    /// Read the bytes from this file instead.
    #[arg(long, value_name = "FILE", conflicts_with = "data")]
    pub from: Option<PathBuf>,
}

/// `mirage vfs …`: the calls.
#[derive(Subcommand)]
pub enum VfsCmd {
    /// Print a file's bytes (from --offset, at most --size of them).
    #[command(
        after_help = "Example:\n  mirage vfs read -w demo /data/notes.txt --offset 100 --size 20"
    )]
    Read {
        /// The file.
        path: String,
        /// The first byte to read.
        #[arg(long)]
        offset: Option<u64>,
        /// How many bytes to read (default: to the end).
        #[arg(long)]
        size: Option<u64>,
        #[command(flatten)]
        at: Target,
    },
    /// Replace a file's bytes (from --data, --from or stdin).
    #[command(after_help = "Examples:\n  \
        mirage vfs write -w demo /data/a.txt --data 'hello'\n  \
        printf 'x\\n' | mirage vfs write -w demo /data/a.txt")]
    Write {
        /// The file.
        path: String,
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        at: Target,
    },
    /// Append bytes to a file (from --data, --from or stdin).
    Append {
        /// The file.
        path: String,
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        at: Target,
    },
    /// Write bytes into a file at OFFSET (from --data, --from or stdin).
    Pwrite {
        /// The file.
        path: String,
        /// The byte offset to write at.
        offset: u64,
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        at: Target,
    },
    /// Create an empty file.
    Create {
        /// The file.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// A path's metadata (JSON).
    Stat {
        /// The path.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// A directory's entries, one per line.
    #[command(visible_alias = "ls")]
    Readdir {
        /// The directory.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Whether a path exists (`true` or `false`).
    Exists {
        /// The path.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Whether a path is a directory (`true` or `false`).
    IsDir {
        /// The path.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Whether a path is a file (`true` or `false`).
    IsFile {
        /// The path.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// The names of a directory's files, one per line.
    ListFiles {
        /// The directory.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Make a symbolic link PATH pointing at TARGET.
    Symlink {
        /// The link to make.
        path: String,
        /// Where it points.
        target: String,
        #[command(flatten)]
        at: Target,
    },
    /// Where a symbolic link points.
    Readlink {
        /// The link.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Make a directory.
    Mkdir {
        /// The directory.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Remove an empty directory.
    Rmdir {
        /// The directory.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Remove a file.
    #[command(visible_alias = "rm")]
    Unlink {
        /// The file.
        path: String,
        #[command(flatten)]
        at: Target,
    },
    /// Rename a path within its mount.
    #[command(visible_alias = "mv")]
    Rename {
        /// The path to rename.
        src: String,
        /// Its new name.
        dst: String,
        #[command(flatten)]
        at: Target,
    },
    /// Cut or extend a file to LENGTH bytes.
    Truncate {
        /// The file.
        path: String,
        /// The new length in bytes.
        length: u64,
        #[command(flatten)]
        at: Target,
    },
}

/// `mirage glob`.
#[derive(clap::Args)]
pub struct GlobArgs {
    /// The pattern (`/data/**/*.csv`); quote it so your shell leaves it alone.
    pub pattern: String,
    #[command(flatten)]
    pub at: Target,
}

/// The bytes of `--data`, `--from` or stdin, base64-encoded.
fn data_base64(d: &Data) -> anyhow::Result<String> {
    let bytes = match (&d.data, &d.from) {
        (Some(s), _) => mirage::types::bytestr::encode(s).into_owned(),
        (None, Some(f)) => std::fs::read(f)
            .map_err(|e| fail(2, format!("{}: {}", f.display(), crate::io_message(&e))))?,
        (None, None) => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b)?;
            b
        }
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Sends one call; the reply.
async fn post(client: &Client, at: &Target, route: &str, body: &Value) -> anyhow::Result<Value> {
    let path = format!("/v1/workspaces/{}/{route}", seg(&at.workspace));
    let query: Vec<(&str, &str)> = at
        .session
        .iter()
        .map(|s| ("session_id", s.as_str()))
        .collect();
    let rb = client
        .request(Method::POST, &with_query(&path, &query))
        .json(body);
    let r = client.send(rb).await?;
    let bytes = r.bytes().await?;
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| fail(2, format!("the daemon's reply is not JSON ({e})")))
}

/// Runs `mirage vfs …`.
pub async fn vfs(cmd: VfsCmd, json: bool) -> anyhow::Result<i32> {
    let client = Client::from_env()?;
    let (name, at, body) = match &cmd {
        VfsCmd::Read {
            path,
            offset,
            size,
            at,
        } => {
            let mut b = json!({ "path": path });
            if let Some(o) = offset {
                b["offset"] = json!(o);
            }
            if let Some(s) = size {
                b["size"] = json!(s);
            }
            ("read", at, b)
        }
        VfsCmd::Write { path, data, at } => (
            "write",
            at,
            json!({"path": path, "data_base64": data_base64(data)?}),
        ),
        VfsCmd::Append { path, data, at } => (
            "append",
            at,
            json!({"path": path, "data_base64": data_base64(data)?}),
        ),
        VfsCmd::Pwrite {
            path,
            offset,
            data,
            at,
        } => (
            "pwrite",
            at,
            json!({"path": path, "offset": offset, "data_base64": data_base64(data)?}),
        ),
        VfsCmd::Create { path, at } => ("create", at, json!({ "path": path })),
        VfsCmd::IsDir { path, at } => ("is_dir", at, json!({ "path": path })),
        VfsCmd::IsFile { path, at } => ("is_file", at, json!({ "path": path })),
        VfsCmd::ListFiles { path, at } => ("list_files", at, json!({ "path": path })),
        VfsCmd::Symlink { path, target, at } => {
            ("symlink", at, json!({"path": path, "target": target}))
        }
        VfsCmd::Readlink { path, at } => ("readlink", at, json!({ "path": path })),
        VfsCmd::Stat { path, at } => ("stat", at, json!({ "path": path })),
        VfsCmd::Readdir { path, at } => ("readdir", at, json!({ "path": path })),
        VfsCmd::Exists { path, at } => ("exists", at, json!({ "path": path })),
        VfsCmd::Mkdir { path, at } => ("mkdir", at, json!({ "path": path })),
        VfsCmd::Rmdir { path, at } => ("rmdir", at, json!({ "path": path })),
        VfsCmd::Unlink { path, at } => ("unlink", at, json!({ "path": path })),
        VfsCmd::Rename { src, dst, at } => ("rename", at, json!({"src": src, "dst": dst})),
        VfsCmd::Truncate { path, length, at } => {
            ("truncate", at, json!({"path": path, "length": length}))
        }
    };
    let v = post(&client, at, &format!("vfs/{name}"), &body).await?;
    if json {
        output::emit(true, &v, |_| String::new())?;
        return Ok(0);
    }
    match name {
        "read" => {
            let data = v.get("data_base64").and_then(Value::as_str).unwrap_or("");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| fail(2, format!("bad bytes in the daemon's reply: {e}")))?;
            let mut o = std::io::stdout().lock();
            o.write_all(&bytes)?;
            o.flush()?;
        }
        "readdir" => output::emit(false, &v, |v| lines(v, "entries"))?,
        "exists" | "is_dir" | "is_file" => output::emit(false, &v, |v| output::text(v, name))?,
        "list_files" => output::emit(false, &v, |v| lines(v, "files"))?,
        "readlink" => output::emit(false, &v, |v| output::text(v, "target"))?,
        "stat" => output::emit(false, &v, |v| {
            serde_json::to_string_pretty(v.get("stat").unwrap_or(v)).unwrap_or_default()
        })?,
        _ => {}
    }
    Ok(0)
}

/// The strings of `v[key]`, one per line.
fn lines(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Runs `mirage glob`.
pub async fn glob(args: GlobArgs, json: bool) -> anyhow::Result<i32> {
    let client = Client::from_env()?;
    let v = post(
        &client,
        &args.at,
        "glob",
        &json!({ "pattern": args.pattern }),
    )
    .await?;
    output::emit(json, &v, |v| lines(v, "paths"))?;
    Ok(0)
}
