//! FUSE mounts of a running workspace (issue 9): a mount block's
//! `backend: fuse` + `mountpoint:` mounted when the workspace is created,
//! and `POST`/`DELETE /v1/workspaces/{id}/mounts` for one already
//! running. Each is a [`mirage_fuse::mount`] of the workspace's tree
//! below a prefix, so every operation goes through the workspace's router
//! (mount modes, the cache) as the shell's do. The active ones show in the
//! workspace detail as `fuse_mountpoints: {prefix: mountpoint}`, as the
//! model product's `WorkspaceDetail`; all are unmounted at delete, close
//! and daemon shutdown.
//!
//! Routes:
//!
//! | method | path | |
//! | --- | --- | --- |
//! | GET | `/v1/workspaces/{id}/mounts` | `{prefix: mountpoint}` |
//! | POST | `/v1/workspaces/{id}/mounts` | `{mountpoint?, prefix?, read_only?}`: 201 `{prefix, mountpoint, read_only}` |
//! | DELETE | `/v1/workspaces/{id}/mounts?mountpoint=DIR` (or `?prefix=P`) | `{prefix, mountpoint, lazy}` |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mirage::types::ErrorKind;
use mirage_fuse::{FuseMount, FuseOptions};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, parse_body};
use crate::state::{Shared, WsEntry, lock};

/// One FUSE mount of a workspace (or one being made).
struct Slot {
    /// The host directory (canonical once mounted).
    mountpoint: String,
    /// `None` while the mount is being made.
    mount: Option<FuseMount>,
    /// The daemon made the directory (no `mountpoint` given): removed
    /// after the unmount.
    made_dir: bool,
}

/// The FUSE mounts of one workspace, by the prefix they show.
#[derive(Default)]
pub struct FuseMounts {
    slots: Mutex<BTreeMap<String, Slot>>,
}

impl FuseMounts {
    /// The active mounts: prefix → host mount point (the detail's
    /// `fuse_mountpoints`).
    pub fn list(&self) -> BTreeMap<String, String> {
        lock(&self.slots)
            .iter()
            .filter(|(_, s)| s.mount.is_some())
            .map(|(p, s)| (p.clone(), s.mountpoint.clone()))
            .collect()
    }
}

/// How one unmount went.
#[derive(Debug, Clone)]
pub struct Unmounted {
    /// The prefix it showed.
    pub prefix: String,
    /// The host directory it was mounted on.
    pub mountpoint: String,
    /// The kernel found it busy (a process had a file open or its cwd in
    /// it): it was detached lazily and goes away when the last user does.
    pub lazy: bool,
}

/// The status of a mount that failed: no `/dev/fuse` 422, a missing or
/// non-directory mount point or prefix 400, anything else 500.
fn mount_error(what: &str, e: &mirage::types::Error) -> ApiError {
    let msg = format!("cannot mount {what} with FUSE: {e}");
    match e.kind {
        ErrorKind::Unsupported => ApiError::unprocessable(msg),
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::InvalidInput => {
            ApiError::bad_request(msg)
        }
        ErrorKind::AlreadyExists => ApiError::conflict(msg),
        _ => ApiError::internal(msg),
    }
}

/// A fresh directory under the system's temp directory for a mount that
/// names none (as the model product makes one).
fn fresh_dir(id: &str, prefix: &str) -> ApiResult<PathBuf> {
    static N: AtomicU64 = AtomicU64::new(0);
    let tag: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let dir = std::env::temp_dir().join(format!(
        "mirage-fuse-{id}{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir)
        .map_err(|e| ApiError::internal(format!("{}: cannot create: {e}", dir.display())))?;
    Ok(dir)
}

/// `dir` with its parent resolved (symlinks, `..`) without touching `dir`
/// itself, which may be a mount that no longer answers.
async fn resolved(dir: &str) -> String {
    let p = Path::new(dir);
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => match tokio::fs::canonicalize(parent).await {
            Ok(pp) => pp.join(name).to_string_lossy().into_owned(),
            Err(_) => dir.to_string(),
        },
        _ => dir.to_string(),
    }
}

/// Mounts `e`'s tree below `prefix` at `dir` (an existing directory,
/// absolute; `None`: a fresh one under the temp directory), `read_only`
/// refusing every change whatever the mounts' modes. Returns the host
/// mount point. Errors: 400 a relative or missing `dir` or a `prefix`
/// that is not a directory of the workspace, 409 the prefix or the
/// directory already mounted, 422 FUSE unavailable (`/dev/fuse`), 500
/// the kernel refused.
pub async fn add(
    e: &WsEntry,
    prefix: &str,
    dir: Option<&str>,
    read_only: bool,
) -> ApiResult<String> {
    if !prefix.starts_with('/') {
        return Err(ApiError::bad_request(format!(
            "prefix '{prefix}' must be an absolute workspace path"
        )));
    }
    let prefix = mirage::types::normalize_path(prefix);
    let (dir, made_dir) = match dir {
        Some(d) if !d.starts_with('/') => {
            return Err(ApiError::bad_request(format!(
                "mountpoint '{d}' must be an absolute path"
            )));
        }
        Some(d) => (resolved(d).await, false),
        None => (
            fresh_dir(&e.id, &prefix)?.to_string_lossy().into_owned(),
            true,
        ),
    };
    {
        let mut slots = lock(&e.fuse.slots);
        if let Some(s) = slots.get(&prefix) {
            return Err(ApiError::conflict(format!(
                "{prefix} is already mounted with FUSE at {}",
                s.mountpoint
            )));
        }
        if let Some((p, _)) = slots.iter().find(|(_, s)| s.mountpoint == dir) {
            return Err(ApiError::conflict(format!(
                "{dir} is already the FUSE mount point of {p}"
            )));
        }
        slots.insert(
            prefix.clone(),
            Slot {
                mountpoint: dir.clone(),
                mount: None,
                made_dir,
            },
        );
    }
    let opts = FuseOptions {
        read_only,
        root: prefix.clone(),
        ..FuseOptions::default()
    };
    match mirage_fuse::mount(&e.ws, Path::new(&dir), opts).await {
        Ok(m) => {
            let shown = m.mountpoint().to_string_lossy().into_owned();
            let mut slots = lock(&e.fuse.slots);
            if let Some(s) = slots.get_mut(&prefix) {
                s.mountpoint = shown.clone();
                s.mount = Some(m);
            }
            tracing::info!(workspace = %e.id, %prefix, mountpoint = %shown, "FUSE mount");
            Ok(shown)
        }
        Err(err) => {
            lock(&e.fuse.slots).remove(&prefix);
            if made_dir {
                let _ = std::fs::remove_dir(&dir);
            }
            Err(mount_error(&format!("{prefix} at {dir}"), &err))
        }
    }
}

/// Unmounts one slot (on a blocking thread: the kernel waits for the
/// request threads) and removes a directory the daemon made.
async fn unmount_slot(prefix: String, slot: Slot) -> Unmounted {
    let mountpoint = slot.mountpoint.clone();
    let lazy = match slot.mount {
        Some(m) => match tokio::task::spawn_blocking(move || m.unmount()).await {
            Ok(Ok(())) => false,
            Ok(Err(err)) => {
                tracing::warn!(%prefix, %mountpoint, error = %err, "FUSE unmount: busy, detached lazily");
                true
            }
            Err(_) => true,
        },
        None => false,
    };
    if slot.made_dir && !lazy {
        let _ = tokio::fs::remove_dir(&mountpoint).await;
    }
    Unmounted {
        prefix,
        mountpoint,
        lazy,
    }
}

/// Unmounts the mount of `e` on host directory `dir` (matched after its
/// parent is resolved) or, with `dir` `None`, the one showing `prefix`.
/// Errors: 404 no such mount.
pub async fn remove(e: &WsEntry, dir: Option<&str>, prefix: Option<&str>) -> ApiResult<Unmounted> {
    let wanted_dir = match dir {
        Some(d) => Some((d.to_string(), resolved(d).await)),
        None => None,
    };
    let taken = {
        let mut slots = lock(&e.fuse.slots);
        let key = slots
            .iter()
            .filter(|(_, s)| s.mount.is_some())
            .find(|(p, s)| match (&wanted_dir, prefix) {
                (Some((raw, res)), _) => s.mountpoint == *raw || s.mountpoint == *res,
                (None, Some(pf)) => **p == mirage::types::normalize_path(pf),
                (None, None) => false,
            })
            .map(|(p, _)| p.clone());
        key.and_then(|k| slots.remove(&k).map(|s| (k, s)))
    };
    match taken {
        Some((p, s)) => {
            let u = unmount_slot(p, s).await;
            tracing::info!(workspace = %e.id, prefix = %u.prefix, mountpoint = %u.mountpoint, "FUSE unmount");
            Ok(u)
        }
        None => Err(ApiError::not_found(match (dir, prefix) {
            (Some(d), _) => format!("no FUSE mount of this workspace at {d}"),
            (None, Some(p)) => format!("no FUSE mount of this workspace shows {p}"),
            (None, None) => "name the mount: ?mountpoint=DIR or ?prefix=P".to_string(),
        })),
    }
}

/// Unmounts every FUSE mount of `e` (delete, close, shutdown).
pub async fn remove_all(e: &WsEntry) -> Vec<Unmounted> {
    let all: Vec<(String, Slot)> = std::mem::take(&mut *lock(&e.fuse.slots))
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for (p, s) in all {
        out.push(unmount_slot(p, s).await);
    }
    out
}

/// Mounts every `backend: fuse` mount of `e`'s config at its
/// `mountpoint` (the model product's `kernel_mounts()`), each rooted at
/// its mount prefix. On an error every mount made is unmounted again.
/// Errors: 422 a `fskit`/`nfs` backend or a relative mountpoint, else as
/// [`add`].
pub async fn mount_config(e: &WsEntry) -> ApiResult<()> {
    let wanted = e
        .config
        .kernel_mounts()
        .map_err(|err| ApiError::unprocessable(format!("invalid workspace config: {err}")))?;
    for (prefix, mp) in wanted {
        if let Err(err) = add(e, &prefix, mp.as_deref(), false).await {
            remove_all(e).await;
            return Err(err);
        }
    }
    Ok(())
}

/// `GET /v1/workspaces/{id}/mounts`: `{prefix: mountpoint}` of the
/// active FUSE mounts. 404 `workspace not found`.
pub async fn list(
    State(state): State<Shared>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<BTreeMap<String, String>>> {
    let e = state.get(&id)?;
    Ok(Json(e.fuse.list()))
}

/// The body of a FUSE mount request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountRequest {
    /// The host directory (absolute, existing); absent: a fresh one under
    /// the daemon's temp directory.
    #[serde(default)]
    pub mountpoint: Option<String>,
    /// The workspace directory shown as the mount's root (default `/`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Refuse every change with `EROFS`, whatever the mounts' modes.
    #[serde(default)]
    pub read_only: bool,
}

/// `POST /v1/workspaces/{id}/mounts` `{mountpoint?, prefix?, read_only?}`:
/// mounts the workspace's tree below `prefix` with FUSE; 201 `{prefix,
/// mountpoint, read_only}`. Errors: 404 workspace, 400/409/422/500 as
/// [`add`].
pub async fn mount(
    State(state): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let e = state.get(&id)?;
    let req: MountRequest = if body.is_empty() {
        MountRequest::default()
    } else {
        parse_body(&body, "mount request")?
    };
    let prefix = mirage::types::normalize_path(req.prefix.as_deref().unwrap_or("/"));
    let mp = add(&e, &prefix, req.mountpoint.as_deref(), req.read_only).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"prefix": prefix, "mountpoint": mp, "read_only": req.read_only})),
    )
        .into_response())
}

/// The query of an unmount.
#[derive(Debug, Default, Deserialize)]
pub struct UnmountQuery {
    /// The host directory of the mount.
    #[serde(default)]
    pub mountpoint: Option<String>,
    /// Or the prefix it shows.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// `DELETE /v1/workspaces/{id}/mounts?mountpoint=DIR` (or `?prefix=P`):
/// unmounts it; `{prefix, mountpoint, lazy}` (`lazy`: it was busy and is
/// detached lazily). Errors: 404 workspace or mount.
pub async fn unmount(
    State(state): State<Shared>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<UnmountQuery>,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    let u = remove(&e, q.mountpoint.as_deref(), q.prefix.as_deref()).await?;
    Ok(Json(
        json!({"prefix": u.prefix, "mountpoint": u.mountpoint, "lazy": u.lazy}),
    ))
}
