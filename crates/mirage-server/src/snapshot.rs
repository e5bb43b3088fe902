//! Snapshots: a workspace as a tar, and back; and `persist_dir`.
//!
//! The tar holds:
//! - `mirage-snapshot.json`: `{format: "mirage-snapshot", version: 1, id,
//!   created_at, mounts: [{prefix, dir}]}`;
//! - `config.json`: the config with every credential `"***"`
//!   ([`mirage::WorkspaceConfig::redacted`]);
//! - `sessions.json`: each session's [`mirage::workspace::SessionSnapshot`]
//!   (cwd, exported variables, functions, history), scrubbed of the
//!   config's credentials;
//! - `files/N/…`: the contents of each RAM mount (mount N of the manifest),
//!   walked through the VFS: directories, files (with their mode bits) and
//!   symlinks.
//!
//! Loading fills each `"***"` from the environment variable named as its
//! key in upper case (`aws_secret_access_key` from `AWS_SECRET_ACCESS_KEY`;
//! the error names every missing one), builds the workspace, writes the
//! RAM contents back and restores the sessions.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mirage::types::{ByteSource, FileType, Vfs};
use mirage::workspace::SessionSnapshot;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ApiResult, parse_body};
use crate::state::{Shared, WsEntry, lock};

/// The manifest's `format`.
pub const FORMAT: &str = "mirage-snapshot";

/// One RAM mount in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MountEntry {
    /// The mount prefix.
    pub prefix: String,
    /// Its directory in the tar (`files/0`).
    pub dir: String,
}

/// `mirage-snapshot.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The workspace id it was taken of.
    pub id: String,
    /// When (Unix seconds).
    pub created_at: f64,
    /// The RAM mounts whose contents it holds.
    pub mounts: Vec<MountEntry>,
}

fn tar_err(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("snapshot: {e}"))
}

fn os_path(s: &str) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let b = mirage::types::bytestr::encode(s);
    std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&b))
}

fn path_string(p: &[u8]) -> String {
    mirage::types::bytestr::decode(p).into_owned()
}

fn add_bytes(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) -> ApiResult<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(0);
    b.append_data(&mut h, os_path(path), data).map_err(tar_err)
}

/// Walks `dir` (a RAM mount's directory) into the tar under `into`,
/// skipping other mounts below it.
async fn walk_into(
    vfs: &dyn Vfs,
    dir: &str,
    into: &str,
    skip: &HashSet<String>,
    b: &mut tar::Builder<Vec<u8>>,
) -> ApiResult<()> {
    let mut stack = vec![(dir.to_string(), into.to_string())];
    while let Some((d, t)) = stack.pop() {
        let entries = vfs.readdir(&d).await.map_err(|e| ApiError::vfs(&e))?;
        for s in entries {
            let vpath = mirage::types::join_path(&d, &s.name);
            if skip.contains(&vpath) {
                continue;
            }
            let tpath = format!("{t}/{}", s.name);
            match s.file_type {
                FileType::Directory => {
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    h.set_mode(s.mode.unwrap_or(0o755));
                    b.append_data(&mut h, os_path(&format!("{tpath}/")), std::io::empty())
                        .map_err(tar_err)?;
                    stack.push((vpath, tpath));
                }
                FileType::Symlink => {
                    let target = vfs.readlink(&vpath).await.map_err(|e| ApiError::vfs(&e))?;
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    h.set_mode(0o777);
                    b.append_link(&mut h, os_path(&tpath), os_path(&target))
                        .map_err(tar_err)?;
                }
                _ => {
                    let data = vfs
                        .read(&vpath)
                        .await
                        .map_err(|e| ApiError::vfs(&e))?
                        .collect()
                        .await
                        .map_err(|e| ApiError::vfs(&e))?;
                    add_bytes(b, &tpath, &data, s.mode.unwrap_or(0o644))?;
                }
            }
        }
    }
    Ok(())
}

/// The snapshot tar of a workspace. Errors: 409 when a session stays busy
/// with a line for 2 s (cancel it and retry).
pub async fn snapshot_tar(e: &WsEntry) -> ApiResult<Vec<u8>> {
    let vfs = e.ws.vfs();
    let mounts = e.ws.mounts();
    let prefixes: HashSet<String> = mounts.iter().map(|m| m.prefix.clone()).collect();
    let mut b = tar::Builder::new(Vec::new());
    let mut manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        id: e.id.clone(),
        created_at: crate::jobs::unix_now(),
        mounts: Vec::new(),
    };
    let mut sessions: Vec<SessionSnapshot> = Vec::new();
    for sid in e.ws.session_ids() {
        let snap = tokio::time::timeout(Duration::from_secs(2), e.ws.session_snapshot(&sid))
            .await
            .map_err(|_| {
                ApiError::conflict(format!(
                    "session {sid} is running a line; cancel it and retry"
                ))
            })?
            .map_err(|er| ApiError::internal(er.to_string()))?;
        sessions.push(snap);
    }
    for m in mounts.iter().filter(|m| m.resource == "ram") {
        let dir = format!("files/{}", manifest.mounts.len());
        let mut skip = prefixes.clone();
        skip.remove(&m.prefix);
        walk_into(&*vfs, &m.prefix, &dir, &skip, &mut b).await?;
        manifest.mounts.push(MountEntry {
            prefix: m.prefix.clone(),
            dir,
        });
    }
    let cfg = serde_json::to_vec_pretty(&crate::secrets::redacted(&e.config)).map_err(tar_err)?;
    let sess = serde_json::to_string_pretty(&sessions).map_err(tar_err)?;
    let sess = e.scrub(&sess);
    let man = serde_json::to_vec_pretty(&manifest).map_err(tar_err)?;
    add_bytes(&mut b, "mirage-snapshot.json", &man, 0o644)?;
    add_bytes(&mut b, "config.json", &cfg, 0o600)?;
    add_bytes(&mut b, "sessions.json", sess.as_bytes(), 0o600)?;
    b.into_inner().map_err(tar_err)
}

/// One entry read back from a tar.
enum Item {
    Dir(String),
    File(String, Vec<u8>, u32),
    Link(String, String),
}

/// The metadata files and the file entries of a tar.
type TarContents = (Vec<(String, Vec<u8>)>, Vec<Item>);

fn read_tar(tar: &[u8]) -> Result<TarContents, String> {
    use std::io::Read;
    let mut a = tar::Archive::new(tar);
    let mut meta = Vec::new();
    let mut items = Vec::new();
    for ent in a.entries().map_err(|e| e.to_string())? {
        let mut ent = ent.map_err(|e| e.to_string())?;
        let path = path_string(&ent.path_bytes());
        let path = path.trim_end_matches('/').to_string();
        let kind = ent.header().entry_type();
        let mode = ent.header().mode().unwrap_or(0o644);
        if kind.is_dir() {
            items.push(Item::Dir(path));
        } else if kind.is_symlink() {
            let target = ent
                .link_name_bytes()
                .map(|b| path_string(&b))
                .unwrap_or_default();
            items.push(Item::Link(path, target));
        } else if kind.is_file() {
            let mut data = Vec::new();
            ent.read_to_end(&mut data).map_err(|e| e.to_string())?;
            if path.starts_with("files/") {
                items.push(Item::File(path, data, mode));
            } else {
                meta.push((path, data));
            }
        }
    }
    Ok((meta, items))
}

/// Where a tar path of `files/N/rel` goes: the mount's prefix joined
/// with `rel` (never above the prefix).
fn target_of(manifest: &Manifest, path: &str) -> Option<String> {
    for m in &manifest.mounts {
        if let Some(rel) = path.strip_prefix(&m.dir)
            && (rel.is_empty() || rel.starts_with('/'))
        {
            let rel = mirage::types::normalize_path(rel);
            return Some(mirage::types::join_path(
                &m.prefix,
                rel.trim_start_matches('/'),
            ));
        }
    }
    None
}

/// Builds a workspace from a snapshot tar, under `id`, with `override`
/// merged into its config. Errors: 400 `load failed: …` for a tar that is
/// not a snapshot or credentials missing from the environment; 422 for a
/// config that does not build.
pub async fn restore(id: &str, tar: &[u8], over: Option<Value>) -> ApiResult<WsEntry> {
    let bad = |m: String| ApiError::bad_request(format!("load failed: {m}"));
    let (meta, items) = read_tar(tar).map_err(bad)?;
    let get = |n: &str| meta.iter().find(|(p, _)| p == n).map(|(_, d)| d.as_slice());
    let manifest: Manifest = serde_json::from_slice(
        get("mirage-snapshot.json")
            .ok_or_else(|| bad("not a mirage snapshot (no mirage-snapshot.json)".into()))?,
    )
    .map_err(|e| bad(format!("mirage-snapshot.json: {e}")))?;
    if manifest.format != FORMAT {
        return Err(bad("not a mirage snapshot".into()));
    }
    let mut cfg_v: Value =
        serde_json::from_slice(get("config.json").ok_or_else(|| bad("no config.json".into()))?)
            .map_err(|e| bad(format!("config.json: {e}")))?;
    if let Some(o) = over {
        crate::workspaces::merge_config(&mut cfg_v, o);
    }
    let mut cfg = crate::workspaces::parse_config(cfg_v)?;
    cfg.restore_secrets(|k| std::env::var(k).ok())
        .map_err(|e| bad(e.to_string()))?;
    let sessions: Vec<SessionSnapshot> = match get("sessions.json") {
        Some(d) => serde_json::from_slice(d).map_err(|e| bad(format!("sessions.json: {e}")))?,
        None => Vec::new(),
    };
    let ws = crate::workspaces::build(&cfg).await?;
    let vfs = ws.vfs();
    let verr = |p: &str, e: mirage::types::Error| bad(format!("{p}: {}", e.kind.gnu_message()));
    for it in &items {
        match it {
            Item::Dir(p) => {
                if let Some(t) = target_of(&manifest, p) {
                    vfs.mkdir(&t, true).await.map_err(|e| verr(&t, e))?;
                }
            }
            Item::File(p, data, mode) => {
                if let Some(t) = target_of(&manifest, p) {
                    vfs.write(&t, ByteSource::Bytes(data.clone().into()))
                        .await
                        .map_err(|e| verr(&t, e))?;
                    if *mode & 0o7777 != 0o644 {
                        let _ = vfs.chmod(&t, *mode & 0o7777).await;
                    }
                }
            }
            Item::Link(p, target) => {
                if let Some(t) = target_of(&manifest, p) {
                    vfs.symlink(target, &t).await.map_err(|e| verr(&t, e))?;
                }
            }
        }
    }
    for s in &sessions {
        ws.restore_session(s)
            .await
            .map_err(|e| bad(e.to_string()))?;
    }
    Ok(WsEntry::new(id.to_string(), ws, cfg))
}

/// `GET /v1/workspaces/{id}/snapshot`: the snapshot tar
/// (`application/x-tar`). Errors: 404; 409 a session busy with a line.
pub async fn download(
    State(state): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    let e = state.get(&id)?;
    let tar = snapshot_tar(&e).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-tar")], tar).into_response())
}

/// `POST /v1/workspaces/{id}/snapshot {key}`: the model product's snapshot
/// to a store; this daemon has none (400, as the model product without
/// one).
pub async fn to_store(
    State(state): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    state.get(&id)?;
    Err(ApiError::bad_request("this server has no snapshot store"))
}

/// The JSON part of a load.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    /// A key in a snapshot store (not supported: 400).
    #[serde(default)]
    pub key: Option<String>,
    /// The new workspace's id (generated when absent).
    #[serde(default)]
    pub id: Option<String>,
    /// A config document merged over the snapshot's.
    #[serde(default)]
    pub r#override: Option<Value>,
}

/// The query of a load.
#[derive(Debug, Default, Deserialize)]
pub struct LoadQuery {
    /// The new workspace's id.
    #[serde(default)]
    pub id: Option<String>,
}

/// `POST /v1/workspaces/load`: a workspace from a snapshot, sent as the
/// raw tar body (`?id=` names it) or as the model product's CLI sends it
/// (multipart: a `request` part `{id?, override?}` and a `snapshot` part).
/// 201 with the detail. Errors: 400 a body that is not a snapshot, a
/// missing credential variable, or a store `key`; 409 a taken id; 422 a
/// config that does not build.
pub async fn load(
    State(state): State<Shared>,
    Query(q): Query<LoadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (req, tar): (LoadRequest, Bytes) = if crate::multipart::is_multipart(ct) {
        let parts = crate::multipart::parse(ct.unwrap_or(""), &body)?;
        let tar = parts
            .iter()
            .find(|p| p.name == "snapshot")
            .map(|p| p.data.clone())
            .ok_or_else(|| ApiError::bad_request("multipart body missing 'snapshot' part"))?;
        let req = match parts.iter().find(|p| p.name == "request") {
            Some(p) => parse_body(&p.data, "load request")?,
            None => LoadRequest::default(),
        };
        if req.key.is_some() {
            return Err(ApiError::bad_request(
                "load takes a 'key' or an uploaded 'snapshot', not both",
            ));
        }
        (req, tar)
    } else if ct.is_some_and(|c| c.starts_with("application/json")) {
        let req: LoadRequest = parse_body(&body, "load request")?;
        if req.key.is_some() {
            return Err(ApiError::bad_request("this server has no snapshot store"));
        }
        return Err(ApiError::bad_request(
            "load needs a 'key' or an uploaded 'snapshot' part",
        ));
    } else {
        (LoadRequest::default(), body)
    };
    let id = req.id.or(q.id).unwrap_or_else(|| state.new_id());
    let reservation = state.reserve(&id)?;
    let entry = Arc::new(restore(&id, &tar, req.r#override).await?);
    state.insert(reservation, entry.clone());
    tracing::info!(workspace = %id, "workspace loaded from a snapshot");
    let d = crate::workspaces::detail_of(&state, &entry, false).await;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

fn persisted_path(state: &Shared, id: &str, closed: bool) -> Option<std::path::PathBuf> {
    let dir = state.settings.persist_dir.as_ref()?;
    Some(dir.join(if closed {
        format!("{id}.closed.tar")
    } else {
        format!("{id}.tar")
    }))
}

async fn write_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tar.tmp");
    tokio::fs::write(&tmp, data).await?;
    tokio::fs::rename(&tmp, path).await
}

/// Writes each changed workspace (every one with `all`) to `persist_dir`,
/// and the closed ones. A workspace busy with a line is left for the next
/// pass.
pub async fn persist_all(state: &Shared, all: bool) {
    let Some(dir) = state.settings.persist_dir.clone() else {
        return;
    };
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        tracing::warn!(dir = %dir.display(), "cannot create persist_dir: {e}");
        return;
    }
    for e in state.list() {
        if !all && !e.dirty.swap(false, Ordering::Relaxed) {
            continue;
        }
        match snapshot_tar(&e).await {
            Ok(tar) => {
                if let Some(p) = persisted_path(state, &e.id, false) {
                    if let Err(er) = write_atomic(&p, &tar).await {
                        tracing::warn!(workspace = %e.id, "cannot persist: {er}");
                        e.touch();
                    } else if state.get(&e.id).is_err() {
                        // deleted or closed while it was being written
                        let _ = tokio::fs::remove_file(&p).await;
                    }
                }
            }
            Err(er) => {
                tracing::debug!(workspace = %e.id, "persist postponed: {er}");
                e.touch();
            }
        }
    }
    let closed: Vec<(String, Vec<u8>)> = lock(&state.closed)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (id, tar) in closed {
        if let Some(p) = persisted_path(state, &id, true) {
            let _ = write_atomic(&p, &tar).await;
        }
        if let Some(p) = persisted_path(state, &id, false) {
            let _ = tokio::fs::remove_file(p).await;
        }
    }
}

/// Every second, writes the changed workspaces to `persist_dir`.
pub async fn persist_loop(state: Shared) {
    if state.settings.persist_dir.is_none() {
        return;
    }
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        persist_all(&state, false).await;
    }
}

/// Removes the persisted copy of workspace `id` (after a delete).
pub async fn forget_persisted(state: &Shared, id: &str) {
    for closed in [false, true] {
        if let Some(p) = persisted_path(state, id, closed) {
            let _ = tokio::fs::remove_file(p).await;
        }
    }
}

/// Loads the workspaces persisted in `persist_dir` (at start). One that
/// cannot be loaded is logged and left on disk.
pub async fn load_persisted(state: &Shared) {
    let Some(dir) = state.settings.persist_dir.clone() else {
        return;
    };
    let Ok(mut rd) = tokio::fs::read_dir(&dir).await else {
        return;
    };
    while let Ok(Some(ent)) = rd.next_entry().await {
        let Some(name) = ent.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let (id, closed) = if let Some(id) = name.strip_suffix(".closed.tar") {
            (id.to_string(), true)
        } else if let Some(id) = name.strip_suffix(".tar") {
            (id.to_string(), false)
        } else {
            continue;
        };
        let Ok(tar) = tokio::fs::read(ent.path()).await else {
            continue;
        };
        if closed {
            lock(&state.closed).insert(id, tar);
            continue;
        }
        let Ok(reservation) = state.reserve(&id) else {
            continue;
        };
        match restore(&id, &tar, None).await {
            Ok(e) => {
                let e = Arc::new(e);
                e.dirty.store(false, Ordering::Relaxed);
                state.insert(reservation, e);
                tracing::info!(workspace = %id, "workspace loaded from persist_dir");
            }
            Err(er) => tracing::warn!(workspace = %id, "cannot load persisted workspace: {er}"),
        }
    }
}
