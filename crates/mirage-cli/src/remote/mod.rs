//! The stateless CLI of the daemon (seed 002, `daemon-api.md`): every
//! command is one HTTP call on the model product's `/v1` routes, so our
//! CLI and the model product's daemon (and the reverse) work together.

pub mod daemon;
pub mod exec;
pub mod output;
pub mod vfs;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, fail, seg, with_query};
pub use vfs::{GlobArgs, VfsCmd};

/// `mirage workspace …`.
#[derive(Subcommand)]
pub enum WorkspaceCmd {
    /// Create a workspace from a YAML (or JSON) config; starts a daemon
    /// when none answers.
    #[command(after_help = "Examples:\n  \
        mirage workspace create ws.yaml\n  \
        mirage workspace create ws.yaml --id demo\n\n\
        ${VAR} in the config is filled from this shell's environment; every\n\
        missing variable is named at once. A relative disk `root` is taken\n\
        from the current directory.")]
    Create {
        /// The workspace config (`mounts:`, `env:`, `cache:`, …; see
        /// `mirage config schema`).
        config: PathBuf,
        /// The workspace id (default: one the daemon picks).
        #[arg(long)]
        id: Option<String>,
    },
    /// List the daemon's workspaces.
    List,
    /// Show one workspace: its mounts, sessions and (with --verbose) cache
    /// and history figures.
    Get {
        /// The workspace id.
        id: String,
        /// Include the internals (cache bytes and entries, history length,
        /// jobs in flight).
        #[arg(long)]
        verbose: bool,
    },
    /// Stop a workspace and forget it.
    Delete {
        /// The workspace id.
        id: String,
    },
    /// Stop a workspace and keep its state for the same id.
    Close {
        /// The workspace id.
        id: String,
    },
    /// Copy a workspace: fresh local mounts (RAM, disk), the same remote
    /// ones.
    #[command(
        after_help = "Example:\n  mirage workspace clone demo --id demo2 --override over.json"
    )]
    Clone {
        /// The workspace to copy.
        id: String,
        /// The new workspace's id (default: one the daemon picks).
        #[arg(long = "id", value_name = "NEW_ID")]
        new_id: Option<String>,
        /// A config (JSON or YAML) whose keys replace the source's.
        #[arg(long = "override", value_name = "FILE")]
        override_file: Option<PathBuf>,
    },
    /// Save a workspace as a tar (config with credentials redacted, RAM
    /// contents, sessions, history).
    #[command(after_help = "Example:\n  mirage workspace snapshot demo demo.tar")]
    Snapshot {
        /// The workspace id.
        id: String,
        /// The tar file to write.
        out: PathBuf,
    },
    /// Create a workspace from a snapshot tar (credentials come back from
    /// the environment).
    #[command(after_help = "Example:\n  mirage workspace load demo.tar --id demo")]
    Load {
        /// The tar written by `mirage workspace snapshot`.
        tar: PathBuf,
        /// The restored workspace's id (default: a fresh one, as the
        /// model product's daemon gives).
        #[arg(long)]
        id: Option<String>,
    },
    /// The lines run in a workspace, oldest first: session, exit status,
    /// duration, cwd, line.
    History {
        /// The workspace id.
        id: String,
        /// Only this session's lines.
        #[arg(short = 's', long = "session", alias = "session_id")]
        session: Option<String>,
    },
    /// Cancel every running line of every session.
    Cancel {
        /// The workspace id.
        id: String,
    },
    /// Kill every background job of every session.
    Kill {
        /// The workspace id.
        id: String,
    },
    /// Mount a running workspace on a host directory with FUSE (the
    /// daemon holds the mount until `workspace unmount`, delete, close or
    /// its shutdown).
    #[command(after_help = "Examples:\n  \
        mirage workspace mount demo /mnt/demo\n  \
        mirage workspace mount demo /mnt/data --prefix /data --read-only\n  \
        mirage workspace unmount demo /mnt/demo")]
    Mount {
        /// The workspace id.
        id: String,
        /// The host directory (an existing directory; relative to the
        /// current one).
        dir: PathBuf,
        /// The workspace directory shown as the mount's root (default `/`).
        #[arg(long, default_value = "/")]
        prefix: String,
        /// Refuse every change (`EROFS`), whatever the mounts' modes.
        #[arg(long)]
        read_only: bool,
    },
    /// Unmount a FUSE mount of a workspace (`workspace mount`, or a mount
    /// block's `backend: fuse`).
    Unmount {
        /// The workspace id.
        id: String,
        /// The host directory it is mounted on.
        dir: PathBuf,
    },
}

/// `dir` made absolute against the current directory (the daemon runs
/// elsewhere), without touching `dir` itself.
fn absolute(dir: &Path) -> anyhow::Result<String> {
    let p = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| fail(1, format!("current directory: {}", crate::io_message(&e))))?
            .join(dir)
    };
    Ok(p.to_string_lossy().into_owned())
}

/// `mirage session …`.
#[derive(Subcommand)]
pub enum SessionCmd {
    /// Open a session (its own cwd, environment, functions and history).
    #[command(
        after_help = "Example:\n  mirage session create demo --id agent_a --cwd /data --env LANG=C"
    )]
    Create {
        /// The workspace id.
        workspace: String,
        /// The session id (default: one the daemon picks).
        #[arg(long)]
        id: Option<String>,
        /// The session's working directory.
        #[arg(long)]
        cwd: Option<String>,
        /// An environment variable of the session, `NAME=VALUE`. Repeatable.
        #[arg(long, value_name = "NAME=VALUE")]
        env: Vec<String>,
    },
    /// List a workspace's sessions.
    List {
        /// The workspace id.
        workspace: String,
    },
    /// Close a session.
    Delete {
        /// The workspace id.
        workspace: String,
        /// The session id.
        session: String,
    },
    /// Change a session's working directory or environment.
    Patch {
        /// The workspace id.
        workspace: String,
        /// The session id.
        session: String,
        /// The new working directory.
        #[arg(long)]
        cwd: Option<String>,
        /// Set an environment variable, `NAME=VALUE`. Repeatable.
        #[arg(long, value_name = "NAME=VALUE")]
        env: Vec<String>,
    },
    /// Cancel the session's running lines.
    Cancel {
        /// The workspace id.
        workspace: String,
        /// The session id.
        session: String,
    },
    /// Kill the session's background jobs (the session stays open).
    Kill {
        /// The workspace id.
        workspace: String,
        /// The session id.
        session: String,
    },
}

/// `mirage job …`.
#[derive(Subcommand)]
pub enum JobCmd {
    /// List the daemon's jobs (lines run in the background or running).
    List {
        /// Only this workspace's jobs.
        #[arg(short = 'w', long = "workspace", alias = "workspace_id")]
        workspace: Option<String>,
    },
    /// Show one job: its status and, when done, its result.
    Get {
        /// The job id (printed by `mirage execute --bg`).
        id: String,
    },
    /// Wait for a job to finish; print its output and exit with its status.
    #[command(after_help = "Example:\n  \
        job=$(mirage execute --bg -w demo -c 'sleep 2; echo done')\n  \
        mirage job wait \"$job\" --timeout 10")]
    Wait {
        /// The job id.
        id: String,
        /// Stop waiting after SECS seconds (the job keeps running).
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
    },
    /// Cancel a job (its line stops through its cancellation handle).
    Cancel {
        /// The job id.
        id: String,
    },
}

/// `mirage daemon …`.
#[derive(Subcommand)]
pub enum DaemonCmd {
    /// Run the daemon in the foreground (`mirage workspace create` starts
    /// one in the background by itself).
    #[command(
        after_help = "Example:\n  MIRAGE_TOKEN=secret mirage daemon run --addr 0.0.0.0 --port 9000"
    )]
    Run(daemon::RunArgs),
    /// Whether a daemon answers: its PID, uptime and workspace count
    /// (exit 1 when none answers).
    Status,
    /// Stop the daemon gracefully (POST /v1/shutdown, SIGTERM when it
    /// lingers).
    Stop {
        /// Seconds to wait for it to exit before SIGTERM.
        #[arg(long, default_value_t = 5.0, value_name = "SECS")]
        timeout: f64,
    },
    /// Stop the daemon; the next `mirage workspace create` starts a fresh
    /// one (workspaces not persisted are lost: snapshot them first).
    Restart {
        /// Seconds to wait for it to exit before SIGTERM.
        #[arg(long, default_value_t = 5.0, value_name = "SECS")]
        timeout: f64,
        /// Start the fresh daemon now.
        #[arg(long)]
        eager: bool,
    },
    /// SIGKILL the daemon: the last resort, no graceful shutdown.
    Kill,
}

/// Reads a workspace config (or override) file, fills `${VAR}` from the
/// environment and parses it (YAML or JSON) to the JSON document sent to
/// the daemon, in the file's own spelling. A relative disk `root` is made
/// absolute against the current directory, where the user meant it.
fn config_document(path: &Path) -> anyhow::Result<Value> {
    let text = crate::read_config(path).map_err(|e| fail(2, e))?;
    let text = mirage::workspace::config::interpolate(&text, |n| std::env::var(n).ok())
        .map_err(|e| fail(2, format!("{}: {e}", path.display())))?;
    let mut doc: Value =
        serde_saphyr::from_str(&text).map_err(|e| fail(2, format!("{}: {e}", path.display())))?;
    if doc.is_null() {
        doc = json!({});
    }
    let cwd = std::env::current_dir().ok();
    if let (Some(mounts), Some(cwd)) = (doc.get_mut("mounts").and_then(Value::as_object_mut), cwd) {
        for m in mounts.values_mut() {
            // a FUSE mount point is a host path too
            if let Some(mp) = m.get_mut("mountpoint")
                && let Some(r) = mp.as_str().filter(|r| !r.starts_with('/'))
            {
                *mp = json!(cwd.join(r).to_string_lossy());
            }
            let kind = m
                .get("resource")
                .or_else(|| m.get("vfs"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if kind != "disk" {
                continue;
            }
            if let Some(root) = m.pointer_mut("/config/root")
                && let Some(r) = root.as_str().filter(|r| !r.starts_with('/'))
            {
                *root = json!(cwd.join(r).to_string_lossy());
            }
        }
    }
    Ok(doc)
}

/// `NAME=VALUE` words as a JSON object.
pub(crate) fn env_object(pairs: &[String]) -> anyhow::Result<Value> {
    let mut m = serde_json::Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| fail(2, format!("--env {p}: expected NAME=VALUE")))?;
        m.insert(k.to_string(), json!(v));
    }
    Ok(Value::Object(m))
}

/// A workspace's detail as the model product's CLI draws it.
fn workspace_detail(d: &Value) -> String {
    let mut lines = vec![
        format!("ID:        {}", output::text(d, "id")),
        format!("Mode:      {}", output::text(d, "mode")),
        format!("Created:   {} ago", output::age(d.get("created_at"))),
    ];
    if let Some(mounts) = d
        .get("mounts")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    {
        let rows: Vec<Vec<String>> = mounts
            .iter()
            .map(|m| {
                let kind = m
                    .get("resource")
                    .map_or_else(|| output::text(m, "vfs"), |_| output::text(m, "resource"));
                vec![output::text(m, "prefix"), kind, output::text(m, "mode")]
            })
            .collect();
        lines.push(String::new());
        lines.push("Mounts:".into());
        for l in output::table(&["PREFIX", "RESOURCE", "MODE"], &rows).lines() {
            lines.push(format!("  {l}"));
        }
    }
    if let Some(fm) = d
        .get("fuse_mountpoints")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        let rows: Vec<Vec<String>> = fm
            .iter()
            .map(|(p, mp)| vec![p.clone(), mp.as_str().unwrap_or_default().to_string()])
            .collect();
        lines.push(String::new());
        lines.push("FUSE mounts:".into());
        for l in output::table(&["PREFIX", "MOUNTPOINT"], &rows).lines() {
            lines.push(format!("  {l}"));
        }
    }
    if let Some(sessions) = d
        .get("sessions")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
    {
        let rows: Vec<Vec<String>> = sessions
            .iter()
            .map(|s| vec![output::text(s, "session_id"), output::text(s, "cwd")])
            .collect();
        lines.push(String::new());
        lines.push("Sessions:".into());
        for l in output::table(&["SESSION", "CWD"], &rows).lines() {
            lines.push(format!("  {l}"));
        }
    }
    if let Some(internals) = d.get("internals").and_then(Value::as_object) {
        lines.push(String::new());
        lines.push("Internals:".into());
        for (k, v) in internals {
            let shown = if v.is_null() {
                "n/a (not tracked)".to_string()
            } else {
                v.to_string()
            };
            lines.push(format!("  {k:<16} {shown}"));
        }
    }
    lines.join("\n")
}

/// The reply of a cancel or kill: how many lines or jobs it stopped.
fn stopped(v: &Value) -> String {
    match (
        v.get("canceled").and_then(Value::as_u64),
        v.get("killed").and_then(Value::as_u64),
    ) {
        (Some(n), _) => format!("Canceled {n} line{}.", if n == 1 { "" } else { "s" }),
        (None, Some(n)) => format!("Killed {n} job{}.", if n == 1 { "" } else { "s" }),
        _ => pretty(v),
    }
}

/// Anything else as indented JSON (replies with no table of their own).
fn pretty(v: &Value) -> String {
    if v.as_object().is_some_and(serde_json::Map::is_empty) {
        return String::new();
    }
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Runs `mirage workspace …`.
pub async fn workspace(cmd: WorkspaceCmd, json: bool) -> anyhow::Result<i32> {
    let client = Client::from_env()?;
    match cmd {
        WorkspaceCmd::Create { config, id } => {
            // validate here first: a bad config fails before any daemon starts
            let text = crate::read_config(&config).map_err(|e| fail(2, e))?;
            mirage::WorkspaceConfig::from_yaml(&text)
                .map_err(|e| fail(2, format!("{}: {e}", config.display())))?;
            let mut body = json!({ "config": config_document(&config)? });
            if let Some(id) = id {
                body["id"] = json!(id);
            }
            client.ensure_running(true).await?;
            let v = client
                .call(Method::POST, "/v1/workspaces", Some(&body))
                .await?;
            output::emit(json, &v, workspace_detail)?;
        }
        WorkspaceCmd::List => {
            let v = client.call(Method::GET, "/v1/workspaces", None).await?;
            output::emit(json, &v, |v| {
                let items = v.as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    return "No workspaces.".into();
                }
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| {
                        vec![
                            output::text(i, "id"),
                            output::text(i, "mode"),
                            output::text(i, "mount_count"),
                            output::text(i, "session_count"),
                            output::age(i.get("created_at")),
                        ]
                    })
                    .collect();
                output::table(&["ID", "MODE", "MOUNTS", "SESSIONS", "AGE"], &rows)
            })?;
        }
        WorkspaceCmd::Get { id, verbose } => {
            let mut path = format!("/v1/workspaces/{}", seg(&id));
            if verbose {
                path.push_str("?verbose=true");
            }
            let v = client.call(Method::GET, &path, None).await?;
            output::emit(json, &v, workspace_detail)?;
        }
        WorkspaceCmd::Delete { id } => {
            let v = client
                .call(
                    Method::DELETE,
                    &format!("/v1/workspaces/{}", seg(&id)),
                    None,
                )
                .await?;
            output::emit(json, &v, |_| format!("Deleted workspace {id}."))?;
        }
        WorkspaceCmd::Close { id } => {
            let v = client
                .call(
                    Method::POST,
                    &format!("/v1/workspaces/{}/close", seg(&id)),
                    None,
                )
                .await?;
            output::emit(json, &v, |_| format!("Closed workspace {id}."))?;
        }
        WorkspaceCmd::History { id, session } => {
            let query: Vec<(&str, &str)> =
                session.iter().map(|s| ("session_id", s.as_str())).collect();
            let path = with_query(&format!("/v1/workspaces/{}/history", seg(&id)), &query);
            let v = client.call(Method::GET, &path, None).await?;
            output::emit(json, &v, |v| {
                let rows: Vec<Vec<String>> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|h| {
                                vec![
                                    output::text(h, "session_id"),
                                    output::text(h, "exit_code"),
                                    h.get("duration_ms")
                                        .and_then(Value::as_f64)
                                        .map_or_else(|| "-".into(), |ms| format!("{ms:.1}")),
                                    output::text(h, "cwd"),
                                    output::text(h, "line"),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                output::table(&["SESSION", "EXIT", "MS", "CWD", "LINE"], &rows)
            })?;
        }
        WorkspaceCmd::Cancel { id } => {
            let v = client
                .call(
                    Method::POST,
                    &format!("/v1/workspaces/{}/cancel", seg(&id)),
                    None,
                )
                .await?;
            output::emit(json, &v, stopped)?;
        }
        WorkspaceCmd::Kill { id } => {
            let v = client
                .call(
                    Method::POST,
                    &format!("/v1/workspaces/{}/kill", seg(&id)),
                    None,
                )
                .await?;
            output::emit(json, &v, stopped)?;
        }
        WorkspaceCmd::Mount {
            id,
            dir,
            prefix,
            read_only,
        } => {
            let body =
                json!({"mountpoint": absolute(&dir)?, "prefix": prefix, "read_only": read_only});
            let v = client
                .call(
                    Method::POST,
                    &format!("/v1/workspaces/{}/mounts", seg(&id)),
                    Some(&body),
                )
                .await?;
            output::emit(json, &v, |v| {
                format!(
                    "Mounted {} of {id} at {}{}.",
                    output::text(v, "prefix"),
                    output::text(v, "mountpoint"),
                    if read_only { " (read-only)" } else { "" }
                )
            })?;
        }
        WorkspaceCmd::Unmount { id, dir } => {
            let path = with_query(
                &format!("/v1/workspaces/{}/mounts", seg(&id)),
                &[("mountpoint", &absolute(&dir)?)],
            );
            let v = client.call(Method::DELETE, &path, None).await?;
            output::emit(json, &v, |v| {
                let lazy = v.get("lazy").and_then(Value::as_bool).unwrap_or(false);
                format!(
                    "Unmounted {} of {id} from {}{}.",
                    output::text(v, "prefix"),
                    output::text(v, "mountpoint"),
                    if lazy {
                        " (busy: detached, gone when its last user leaves)"
                    } else {
                        ""
                    }
                )
            })?;
        }
        WorkspaceCmd::Clone {
            id,
            new_id,
            override_file,
        } => {
            let mut body = json!({});
            if let Some(n) = new_id {
                body["id"] = json!(n);
            }
            if let Some(f) = override_file {
                body["override"] = config_document(&f)?;
            }
            let v = client
                .call(
                    Method::POST,
                    &format!("/v1/workspaces/{}/clone", seg(&id)),
                    Some(&body),
                )
                .await?;
            output::emit(json, &v, workspace_detail)?;
        }
        WorkspaceCmd::Snapshot { id, out } => {
            let r = client
                .send(client.request(
                    Method::GET,
                    &format!("/v1/workspaces/{}/snapshot", seg(&id)),
                ))
                .await?;
            let size = save(r, &out).await?;
            let v = json!({"id": id, "path": out.to_string_lossy(), "size": size});
            output::emit(json, &v, |_| {
                format!("Snapshot {id} -> {} ({size} bytes).", out.display())
            })?;
        }
        WorkspaceCmd::Load { tar, id } => {
            let bytes = std::fs::read(&tar)
                .map_err(|e| fail(2, format!("{}: {}", tar.display(), crate::io_message(&e))))?;
            let mut req = json!({});
            if let Some(id) = id {
                req["id"] = json!(id);
            }
            let name = tar
                .file_name()
                .map(|n| n.to_string_lossy().replace('"', "_"))
                .unwrap_or_else(|| "snapshot.tar".into());
            let (body, ty) = form(&[
                (
                    "request",
                    "request.json",
                    "application/json",
                    req.to_string().into_bytes(),
                ),
                ("snapshot", &name, "application/x-tar", bytes),
            ]);
            client.ensure_running(true).await?;
            let r = client
                .send(
                    client
                        .request(Method::POST, "/v1/workspaces/load")
                        .header(reqwest::header::CONTENT_TYPE, ty)
                        .body(body),
                )
                .await?;
            let v: Value = r.json().await?;
            output::emit(json, &v, workspace_detail)?;
        }
    }
    Ok(0)
}

/// Writes a reply's body to `out` as it arrives; returns its size.
async fn save(r: reqwest::Response, out: &Path) -> anyhow::Result<u64> {
    use futures::StreamExt;
    let mut f = std::fs::File::create(out)
        .map_err(|e| fail(1, format!("{}: {}", out.display(), crate::io_message(&e))))?;
    let mut n = 0u64;
    let mut body = r.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| fail(1, format!("the snapshot broke off: {e}")))?;
        f.write_all(&chunk)
            .map_err(|e| fail(1, format!("{}: {}", out.display(), crate::io_message(&e))))?;
        n += chunk.len() as u64;
    }
    f.sync_all().ok();
    Ok(n)
}

/// A `multipart/form-data` body of `(name, filename, type, bytes)` parts,
/// and its content type.
fn form(parts: &[(&str, &str, &str, Vec<u8>)]) -> (Vec<u8>, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let boundary = format!("mirage-{}-{nanos:x}", std::process::id());
    let mut body = Vec::new();
    for (name, file, ty, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {ty}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// Runs `mirage session …`.
pub async fn session(cmd: SessionCmd, json: bool) -> anyhow::Result<i32> {
    let client = Client::from_env()?;
    let base = |ws: &str| format!("/v1/workspaces/{}/sessions", seg(ws));
    match cmd {
        SessionCmd::Create {
            workspace,
            id,
            cwd,
            env,
        } => {
            let mut body = json!({});
            if let Some(id) = id {
                body["session_id"] = json!(id);
            }
            if let Some(c) = cwd {
                body["cwd"] = json!(c);
            }
            if !env.is_empty() {
                body["env"] = env_object(&env)?;
            }
            let v = client
                .call(Method::POST, &base(&workspace), Some(&body))
                .await?;
            output::emit(json, &v, |v| output::text(v, "session_id"))?;
        }
        SessionCmd::List { workspace } => {
            let v = client.call(Method::GET, &base(&workspace), None).await?;
            output::emit(json, &v, |v| {
                let rows: Vec<Vec<String>> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|s| vec![output::text(s, "session_id"), output::text(s, "cwd")])
                            .collect()
                    })
                    .unwrap_or_default();
                output::table(&["SESSION", "CWD"], &rows)
            })?;
        }
        SessionCmd::Delete { workspace, session } => {
            let path = format!("{}/{}", base(&workspace), seg(&session));
            let v = client.call(Method::DELETE, &path, None).await?;
            output::emit(json, &v, |_| format!("Deleted session {session}."))?;
        }
        SessionCmd::Patch {
            workspace,
            session,
            cwd,
            env,
        } => {
            let mut body = json!({});
            if let Some(c) = cwd {
                body["cwd"] = json!(c);
            }
            if !env.is_empty() {
                body["env"] = env_object(&env)?;
            }
            let path = format!("{}/{}", base(&workspace), seg(&session));
            let v = client.call(Method::PATCH, &path, Some(&body)).await?;
            output::emit(json, &v, |v| {
                format!("Session {session}: cwd {}", output::text(v, "cwd"))
            })?;
        }
        SessionCmd::Cancel { workspace, session } => {
            let path = format!("{}/{}/cancel", base(&workspace), seg(&session));
            let v = client.call(Method::POST, &path, None).await?;
            output::emit(json, &v, stopped)?;
        }
        SessionCmd::Kill { workspace, session } => {
            let path = format!("{}/{}/kill", base(&workspace), seg(&session));
            let v = client.call(Method::POST, &path, None).await?;
            output::emit(json, &v, stopped)?;
        }
    }
    Ok(0)
}

/// A job as a few lines: id, status, command, exit status.
fn job_summary(v: &Value) -> String {
    let mut lines = vec![
        format!("Job:       {}", output::text(v, "job_id")),
        format!("Status:    {}", output::text(v, "status")),
        format!("Workspace: {}", output::text(v, "workspace_id")),
        format!("Session:   {}", output::text(v, "session_id")),
        format!("Command:   {}", output::text(v, "command")),
    ];
    if let Some(r) = v.get("result").filter(|r| r.is_object()) {
        lines.push(format!("Exit:      {}", output::text(r, "exit_code")));
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        lines.push(format!("Error:     {e}"));
    }
    lines.join("\n")
}

/// Prints a finished job's output to our stdout and stderr (human mode of
/// `job wait`).
fn job_output(v: &Value) -> anyhow::Result<()> {
    if let Some(r) = v.get("result").filter(|r| r.is_object()) {
        let mut o = std::io::stdout().lock();
        o.write_all(&output::stream_bytes(r, "stdout"))?;
        o.flush()?;
        let mut e = std::io::stderr().lock();
        e.write_all(&output::stream_bytes(r, "stderr"))?;
        e.flush()?;
    }
    Ok(())
}

/// Runs `mirage job …`.
pub async fn job(cmd: JobCmd, json: bool) -> anyhow::Result<i32> {
    let client = Client::from_env()?;
    match cmd {
        JobCmd::List { workspace } => {
            let query: Vec<(&str, &str)> = workspace
                .iter()
                .map(|w| ("workspace_id", w.as_str()))
                .collect();
            let rb = client.request(Method::GET, &with_query("/v1/jobs", &query));
            let v: Value = client.send(rb).await?.json().await?;
            output::emit(json, &v, |v| {
                let rows: Vec<Vec<String>> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|j| {
                                vec![
                                    output::text(j, "job_id"),
                                    output::text(j, "workspace_id"),
                                    output::text(j, "status"),
                                    output::age(j.get("submitted_at")),
                                    output::text(j, "command"),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                output::table(&["JOB", "WORKSPACE", "STATUS", "AGE", "COMMAND"], &rows)
            })?;
            Ok(0)
        }
        JobCmd::Get { id } => {
            let v = client
                .call(Method::GET, &format!("/v1/jobs/{}", seg(&id)), None)
                .await?;
            output::emit(json, &v, job_summary)?;
            Ok(output::exit_code(&v))
        }
        JobCmd::Wait { id, timeout } => {
            let mut body = json!({});
            if let Some(t) = timeout {
                if !t.is_finite() || t < 0.0 {
                    return Err(fail(2, format!("--timeout {t}: not a number of seconds")));
                }
                body["timeout_s"] = json!(t);
            }
            let spinner = (!json && std::io::stderr().is_terminal()).then(|| {
                let pb = indicatif::ProgressBar::new_spinner();
                pb.set_message(format!("waiting for job {id}"));
                pb.enable_steady_tick(Duration::from_millis(120));
                pb
            });
            let reply = client
                .call(
                    Method::POST,
                    &format!("/v1/jobs/{}/wait", seg(&id)),
                    Some(&body),
                )
                .await;
            if let Some(pb) = spinner {
                pb.finish_and_clear();
            }
            let v = reply?;
            if json {
                output::emit(true, &v, |_| String::new())?;
            } else {
                match v.get("status").and_then(Value::as_str) {
                    Some("pending" | "running") => {
                        eprintln!("mirage: job {id} is still {}", output::text(&v, "status"));
                    }
                    Some("failed") => {
                        job_output(&v)?;
                        eprintln!("mirage: job {id} failed: {}", output::text(&v, "error"));
                    }
                    Some("canceled" | "cancelled") => {
                        job_output(&v)?;
                        eprintln!("mirage: job {id} was canceled");
                    }
                    _ => job_output(&v)?,
                }
            }
            Ok(output::exit_code(&v))
        }
        JobCmd::Cancel { id } => {
            let v = client
                .call(Method::DELETE, &format!("/v1/jobs/{}", seg(&id)), None)
                .await?;
            output::emit(json, &v, |_| format!("Canceled job {id}."))?;
            Ok(0)
        }
    }
}

/// Runs `mirage daemon …`.
pub async fn daemon_cmd(cmd: DaemonCmd, json: bool) -> anyhow::Result<i32> {
    if let DaemonCmd::Run(args) = cmd {
        return daemon::run(args).await;
    }
    let client = Client::from_env()?;
    match cmd {
        DaemonCmd::Run(_) => Ok(0),
        DaemonCmd::Status => daemon::status(&client, json).await,
        DaemonCmd::Stop { timeout } => daemon::stop(&client, timeout, json).await,
        DaemonCmd::Restart { timeout, eager } => {
            daemon::restart(&client, timeout, eager, json).await
        }
        DaemonCmd::Kill => daemon::kill(&client, json).await,
    }
}
