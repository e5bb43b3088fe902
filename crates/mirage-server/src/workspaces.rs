//! Health, shutdown, metrics, workspaces and sessions (as the model
//! product's routers/health.py, workspaces.py, sessions.py and
//! summary.py).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mirage::{SessionOptions, Workspace, WorkspaceConfig};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, parse_body};
use crate::jobs::unix_now;
use crate::metrics::CacheLabels;
use crate::state::{Shared, WsEntry};

/// `GET /v1/health` (no token needed): `{status: "ok", workspaces,
/// uptime_s, pid}`.
pub async fn health(State(state): State<Shared>) -> Json<Value> {
    let up = (state.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    Json(json!({
        "status": "ok",
        "workspaces": state.count(),
        "uptime_s": up,
        "pid": std::process::id(),
    }))
}

/// `POST /v1/shutdown`: `{status: "shutting_down", pid}`, then a graceful
/// stop.
pub async fn shutdown(State(state): State<Shared>) -> Json<Value> {
    tracing::info!("shutdown asked over HTTP");
    let s = state.clone();
    tokio::spawn(async move {
        // let this reply go out first
        tokio::time::sleep(Duration::from_millis(20)).await;
        s.shutdown.cancel();
    });
    Json(json!({"status": "shutting_down", "pid": std::process::id()}))
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(State(state): State<Shared>) -> Response {
    let m = &state.metrics;
    m.cache_hits.clear();
    m.cache_misses.clear();
    let list = state.list();
    m.workspaces.set(list.len() as i64);
    m.jobs_active.clear();
    for j in state.jobs.running(|_| true) {
        m.jobs_active
            .get_or_create(&crate::metrics::JobLabels {
                status: j.state().status.as_str().to_string(),
            })
            .inc();
    }
    for e in &list {
        for (prefix, st) in e.ws.cache_stats() {
            let l = CacheLabels {
                workspace: e.id.clone(),
                mount: prefix,
            };
            m.cache_hits.get_or_create(&l).set(st.hits);
            m.cache_misses.get_or_create(&l).set(st.misses);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
        .into_response()
}

/// The mounts a user configured (not the automatic `/dev`).
fn user_mounts(ws: &Workspace) -> Vec<mirage::types::MountInfo> {
    ws.mounts()
        .into_iter()
        .filter(|m| !(m.prefix == "/dev" && m.resource == "dev"))
        .collect()
}

/// The workspace's mode as the model product reports it: its first
/// mount's (`read` without mounts).
fn ws_mode(mounts: &[mirage::types::MountInfo]) -> &'static str {
    mounts.first().map_or("read", |m| m.mode.as_str())
}

/// A workspace's brief, as `GET /v1/workspaces` lists it (`WorkspaceBrief`).
pub fn brief(e: &WsEntry) -> Value {
    let mounts = user_mounts(&e.ws);
    json!({
        "id": e.id,
        "mode": ws_mode(&mounts),
        "mount_count": mounts.len(),
        "session_count": e.ws.session_ids().len(),
        "created_at": e.created_at,
    })
}

/// A workspace's detail (`WorkspaceDetail`): `{id, mode, created_at,
/// fuse_mountpoints, sessions: [{session_id, cwd}], mounts: [{prefix,
/// vfs, resource, mode, description, cache}], internals}`; `cache` is the
/// mount's Recall counters (`null` for an uncached mount), `internals`
/// (with `verbose`) `{cache_bytes, cache_entries, history_length,
/// in_flight_jobs}`.
pub async fn detail_of(state: &Shared, e: &WsEntry, verbose: bool) -> Value {
    let stats: BTreeMap<String, Value> =
        e.ws.cache_stats()
            .into_iter()
            .map(|(p, s)| (p, serde_json::to_value(s).unwrap_or(Value::Null)))
            .collect();
    let mounts: Vec<Value> = user_mounts(&e.ws)
        .into_iter()
        .map(|m| {
            json!({
                "prefix": m.prefix,
                "vfs": m.resource,
                "resource": m.resource,
                "mode": m.mode.as_str(),
                "description": "",
                "cache": stats.get(&m.prefix),
            })
        })
        .collect();
    let mut sessions = Vec::new();
    for sid in e.ws.session_ids() {
        let cwd = e.session_cwd(&sid).await.unwrap_or_default();
        sessions.push(json!({"session_id": sid, "cwd": cwd}));
    }
    let internals = if verbose {
        let in_flight = state.jobs.running(|j| j.workspace_id == e.id).len();
        json!({
            "cache_bytes": null,
            "cache_entries": null,
            "history_length": history_length(e),
            "in_flight_jobs": in_flight,
        })
    } else {
        Value::Null
    };
    json!({
        "id": e.id,
        "mode": ws_mode(&user_mounts(&e.ws)),
        "created_at": e.created_at,
        "fuse_mountpoints": e.fuse.list(),
        "sessions": sessions,
        "mounts": mounts,
        "internals": internals,
    })
}

fn history_length(e: &WsEntry) -> usize {
    let mut n = 0;
    for sid in e.ws.session_ids() {
        if let Ok(h) = e.ws.history(&sid) {
            n += h.len();
        }
    }
    n
}

/// `GET /v1/workspaces`: every workspace's brief.
pub async fn list(State(state): State<Shared>) -> Json<Vec<Value>> {
    Json(state.list().iter().map(|e| brief(e)).collect())
}

/// The body of a create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The workspace config document.
    pub config: Value,
    /// The id (generated when absent).
    #[serde(default)]
    pub id: Option<String>,
}

/// Parses a config document: 422 with the error, which names the
/// unknown key or the bad value.
pub fn parse_config(v: Value) -> ApiResult<WorkspaceConfig> {
    WorkspaceConfig::from_json_value(v)
        .map_err(|e| ApiError::unprocessable(format!("invalid workspace config: {e}")))
}

/// Builds a workspace from `cfg`: 422 with the reason (an unknown
/// resource, a bad mount config, a bad cwd), its credentials scrubbed.
pub async fn build(cfg: &WorkspaceConfig) -> ApiResult<Workspace> {
    mirage::link_resources();
    let ws = Workspace::from_config(cfg).await.map_err(|e| {
        let secrets = crate::secrets::secret_values(cfg);
        ApiError::unprocessable(crate::secrets::scrub(
            &format!("invalid workspace config: {e}"),
            &secrets,
        ))
    })?;
    ws.record_shell_history(true);
    Ok(ws)
}

/// `POST /v1/workspaces` `{config, id?}`: 201 with the detail. Errors: 400
/// a bad body, 409 `workspace id already exists`, 422 an invalid config
/// (the text names the key) or a `backend` this daemon cannot serve
/// (`fskit`, `nfs`). A create naming a closed workspace's id reopens it
/// from its snapshot. Each mount with `backend: fuse` is then mounted at
/// its `mountpoint` ([`crate::fuse::mount_config`]; errors as
/// [`crate::fuse::add`], and the workspace is not created).
pub async fn create(State(state): State<Shared>, body: Bytes) -> ApiResult<Response> {
    let req: CreateRequest = parse_body(&body, "create request")?;
    // the REST id, else the config's `workspace_id`, else a fresh one
    let id = match req.id {
        Some(id) => id,
        None => match req.config.get("workspace_id").and_then(Value::as_str) {
            Some(w) => w.to_string(),
            None => state.new_id(),
        },
    };
    let reservation = state.reserve(&id)?;
    let closed = crate::state::lock(&state.closed).get(&id).cloned();
    let entry = match closed {
        Some(tar) => crate::snapshot::restore(&id, &tar, None).await?,
        None => {
            let cfg = parse_config(req.config)?;
            // refuse an unsupported backend before building anything
            cfg.kernel_mounts()
                .map_err(|e| ApiError::unprocessable(format!("invalid workspace config: {e}")))?;
            let ws = build(&cfg).await?;
            WsEntry::new(id.clone(), ws, cfg)
        }
    };
    let entry = Arc::new(entry);
    crate::fuse::mount_config(&entry).await?;
    state.insert(reservation, entry.clone());
    tracing::info!(workspace = %id, "workspace created");
    let d = detail_of(&state, &entry, false).await;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The query of a detail.
#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// Add `internals`.
    #[serde(default)]
    pub verbose: bool,
}

/// `GET /v1/workspaces/{id}`: the detail. 404 `workspace not found`.
pub async fn detail(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    Ok(Json(detail_of(&state, &e, q.verbose).await))
}

/// `DELETE /v1/workspaces/{id}`: cancels its lines and jobs, unmounts
/// its FUSE mounts, forgets it (and its persisted copy); `{id, closed_at}`.
pub async fn delete(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let e = state.remove(&id)?;
    crate::fuse::remove_all(&e).await;
    crate::snapshot::forget_persisted(&state, &id).await;
    tracing::info!(workspace = %id, "workspace deleted");
    Ok(Json(json!({"id": id, "closed_at": unix_now()})))
}

/// `POST /v1/workspaces/{id}/close`: stops the workspace (unmounting its
/// FUSE mounts) and keeps its state (a snapshot, also in `persist_dir`) for a later create of the
/// same id; `{id, closed_at}`.
pub async fn close(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    for j in state.jobs.running(|j| j.workspace_id == id) {
        j.cancel();
    }
    let tar = crate::snapshot::snapshot_tar(&e).await?;
    state.remove(&id)?;
    crate::fuse::remove_all(&e).await;
    crate::state::lock(&state.closed).insert(id.clone(), tar);
    Ok(Json(json!({"id": id, "closed_at": unix_now()})))
}

/// Cancels the unfinished jobs matching `f` and waits (up to 5 s) for them
/// to end; returns how many were cancelled.
async fn cancel_matching(state: &Shared, f: impl Fn(&crate::jobs::Job) -> bool) -> usize {
    let jobs = state.jobs.running(f);
    let n = jobs.iter().filter(|j| j.cancel()).count();
    for j in &jobs {
        j.wait(Some(Duration::from_secs(5))).await;
    }
    n
}

/// `POST /v1/workspaces/{id}/cancel`: cancels every running line of the
/// workspace (synchronous, streamed and background); `{canceled}`.
pub async fn cancel(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state.get(&id)?;
    let n = cancel_matching(&state, |j| j.workspace_id == id).await;
    Ok(Json(json!({"canceled": n})))
}

/// Stops the shell's own background jobs (`cmd &`) of session `sid`;
/// returns how many ran. A session busy for over 200 ms is skipped.
async fn kill_shell_jobs(e: &WsEntry, sid: &str) -> usize {
    let got = tokio::time::timeout(
        Duration::from_millis(200),
        e.ws.with_session_state(sid, |st| {
            let n = st.jobs.running();
            st.jobs.cancel_all();
            n
        }),
    )
    .await;
    match got {
        Ok(Ok(n)) => n,
        _ => 0,
    }
}

/// `POST /v1/workspaces/{id}/kill`: kills every background job of the
/// workspace (the daemon's `?background=true` jobs and the shell's `&`
/// jobs); `{killed}`.
pub async fn kill(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    let mut n = cancel_matching(&state, |j| j.workspace_id == id && j.background).await;
    for sid in e.ws.session_ids() {
        n += kill_shell_jobs(&e, &sid).await;
    }
    Ok(Json(json!({"killed": n})))
}

/// The body of a clone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloneRequest {
    /// The new id (generated when absent).
    #[serde(default)]
    pub id: Option<String>,
    /// A config document merged over the source's (objects key by key).
    #[serde(default)]
    pub r#override: Option<Value>,
}

/// Spells every mount's resource `resource` (the model product's `vfs`
/// is an alias), so that a merge does not leave both keys.
fn normalize_mounts(v: &mut Value) {
    if let Some(Value::Object(mounts)) = v.get_mut("mounts") {
        for m in mounts.values_mut() {
            if let Value::Object(m) = m
                && !m.contains_key("resource")
                && let Some(r) = m.remove("vfs")
            {
                m.insert("resource".into(), r);
            }
        }
    }
}

/// Merges the config document `over` into `base` (objects key by key,
/// anything else replaced; a mount's `vfs` counts as its `resource`).
pub fn merge_config(base: &mut Value, mut over: Value) {
    normalize_mounts(base);
    normalize_mounts(&mut over);
    merge(base, over);
}

/// Merges `over` into `base`: objects key by key, anything else replaced.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// `POST /v1/workspaces/{id}/clone` `{id?, override?}`: a new workspace
/// from the same config (with `override` merged in): fresh local (RAM)
/// resources, the same remote ones. 201 with the detail; 404, 409, 422.
pub async fn clone(
    State(state): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let src = state.get(&id)?;
    let req: CloneRequest = parse_body(&body, "clone request")?;
    let new_id = req.id.unwrap_or_else(|| state.new_id());
    let reservation = state.reserve(&new_id)?;
    let cfg = match req.r#override {
        Some(o) => {
            let mut v =
                serde_json::to_value(&src.config).map_err(|e| ApiError::internal(e.to_string()))?;
            merge_config(&mut v, o);
            parse_config(v)?
        }
        None => src.config.clone(),
    };
    let ws = build(&cfg).await?;
    let entry = Arc::new(WsEntry::new(new_id.clone(), ws, cfg));
    state.insert(reservation, entry.clone());
    let d = detail_of(&state, &entry, false).await;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The query of a history read.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    /// Only this session's lines (default: every session's).
    #[serde(default)]
    pub session_id: Option<String>,
}

/// `GET /v1/workspaces/{id}/history?session_id=`: `[{session_id, line,
/// cwd, exit_code, duration_ms, bytes_out, started_at}]`, oldest first.
pub async fn history(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let e = state.get(&id)?;
    let sids = match q.session_id {
        Some(s) if e.has_session(&s) => vec![s],
        Some(_) => return Err(ApiError::not_found("session not found")),
        None => e.ws.session_ids(),
    };
    let mut out = Vec::new();
    for sid in sids {
        let h =
            e.ws.history(&sid)
                .map_err(|_| ApiError::not_found("session not found"))?;
        for entry in h {
            let mut v = serde_json::to_value(&entry).unwrap_or(Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.insert("session_id".into(), json!(sid));
                if let Some(Value::String(line)) = m.get_mut("line") {
                    *line = e.scrub(line);
                }
            }
            out.push(v);
        }
    }
    out.sort_by(|a, b| {
        let t = |v: &Value| v.get("started_at").and_then(Value::as_f64).unwrap_or(0.0);
        t(a).total_cmp(&t(b))
    });
    Ok(Json(out))
}

/// The body of a session create.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// The id (`sess_…` when absent).
    #[serde(default)]
    pub session_id: Option<String>,
    /// Its working directory (the workspace's default when absent).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Extra exported variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The model product's per-session mount modes (not supported: 422).
    #[serde(default)]
    pub mounts: Option<BTreeMap<String, String>>,
    /// The model product's policy profile (not supported: 422).
    #[serde(default)]
    pub profile: Option<String>,
}

async fn check_dir(ws: &Workspace, cwd: &str) -> ApiResult<()> {
    if !cwd.starts_with('/') {
        return Err(ApiError::unprocessable(format!(
            "cwd '{cwd}': must be an absolute path"
        )));
    }
    match ws.vfs().stat(cwd).await {
        Ok(s) if s.is_dir() => Ok(()),
        Ok(_) => Err(ApiError::unprocessable(format!(
            "cwd '{cwd}': Not a directory"
        ))),
        Err(e) => Err(ApiError::unprocessable(format!(
            "cwd '{cwd}': {}",
            e.kind.gnu_message()
        ))),
    }
}

/// `POST /v1/workspaces/{id}/sessions` `{session_id?, cwd?, env?}`: 201
/// `{session_id, cwd}`. Errors: 404, 409 `session id already exists`,
/// 422 a bad cwd or an unsupported option.
pub async fn create_session(
    State(state): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let e = state.get(&id)?;
    let req: CreateSessionRequest = parse_body(&body, "session request")?;
    if req.mounts.as_ref().is_some_and(|m| !m.is_empty()) || req.profile.is_some() {
        return Err(ApiError::unprocessable(
            "per-session mounts and profiles are not supported by this daemon",
        ));
    }
    let sid = req.session_id.unwrap_or_else(|| state.fresh_id("sess"));
    if e.has_session(&sid) {
        return Err(ApiError::conflict(format!(
            "session id already exists: '{sid}'"
        )));
    }
    if let Some(c) = &req.cwd {
        check_dir(&e.ws, c).await?;
    }
    e.ws.create_session(SessionOptions {
        id: Some(sid.clone()),
        cwd: req.cwd,
        env: req.env,
    })
    .map_err(|er| match er.kind {
        mirage::types::ErrorKind::AlreadyExists => {
            ApiError::conflict(format!("session id already exists: '{sid}'"))
        }
        _ => ApiError::unprocessable(er.to_string()),
    })?;
    e.touch();
    let cwd = e.session_cwd(&sid).await.unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(json!({"session_id": sid, "cwd": cwd})),
    )
        .into_response())
}

/// `GET /v1/workspaces/{id}/sessions`: `[{session_id, cwd}]`.
pub async fn list_sessions(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    let e = state.get(&id)?;
    let mut out = Vec::new();
    for sid in e.ws.session_ids() {
        let cwd = e.session_cwd(&sid).await.unwrap_or_default();
        out.push(json!({"session_id": sid, "cwd": cwd}));
    }
    Ok(Json(out))
}

/// The body of a session change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchSessionRequest {
    /// The new working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Variables to export; a `null` value unsets the variable.
    #[serde(default)]
    pub env: BTreeMap<String, Option<String>>,
    /// The model product's profile (only `null` is accepted).
    #[serde(default)]
    pub profile: Option<String>,
}

/// `PATCH /v1/workspaces/{id}/sessions/{sid}` `{cwd?, env?}`: changes the
/// session's working directory and exported variables (waiting for a
/// running line of it to end); `{session_id, cwd}`. Errors: 404, 422 a
/// cwd that is not a directory.
pub async fn patch_session(
    State(state): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    if !e.has_session(&sid) {
        return Err(ApiError::not_found("session not found"));
    }
    let req: PatchSessionRequest = parse_body(&body, "session change")?;
    if req.profile.is_some() {
        return Err(ApiError::unprocessable(
            "profiles are not supported by this daemon",
        ));
    }
    if let Some(c) = &req.cwd {
        check_dir(&e.ws, c).await?;
    }
    let cwd =
        e.ws.with_session_state(&sid, |st| {
            if let Some(c) = req.cwd {
                let old = st.cwd.clone();
                st.set_exported("OLDPWD", old);
                st.set_exported("PWD", c.clone());
                st.cwd = c;
            }
            for (k, v) in req.env {
                match v {
                    Some(v) => st.set_exported(&k, v),
                    None => {
                        st.vars.remove(&k);
                    }
                }
            }
            st.cwd.clone()
        })
        .await
        .map_err(|_| ApiError::not_found("session not found"))?;
    crate::state::lock(&e.cwds).insert(sid.clone(), cwd.clone());
    e.touch();
    Ok(Json(json!({"session_id": sid, "cwd": cwd})))
}

/// `DELETE /v1/workspaces/{id}/sessions/{sid}`: `{session_id}`; 404.
pub async fn delete_session(
    State(state): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    for j in state
        .jobs
        .running(|j| j.workspace_id == id && j.session_id == sid)
    {
        j.cancel();
    }
    e.ws.delete_session(&sid)
        .map_err(|_| ApiError::not_found("session not found"))?;
    e.touch();
    Ok(Json(json!({"session_id": sid})))
}

/// `POST /v1/workspaces/{id}/sessions/{sid}/cancel`: cancels the
/// session's running lines; `{canceled}`.
pub async fn cancel_session(
    State(state): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    if !e.has_session(&sid) {
        return Err(ApiError::not_found("session not found"));
    }
    let n = cancel_matching(&state, |j| j.workspace_id == id && j.session_id == sid).await;
    Ok(Json(json!({"canceled": n})))
}

/// `POST /v1/workspaces/{id}/sessions/{sid}/kill`: kills the session's
/// background jobs; `{killed}`.
pub async fn kill_session(
    State(state): State<Shared>,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    if !e.has_session(&sid) {
        return Err(ApiError::not_found("session not found"));
    }
    let mut n = cancel_matching(&state, |j| {
        j.workspace_id == id && j.session_id == sid && j.background
    })
    .await;
    n += kill_shell_jobs(&e, &sid).await;
    Ok(Json(json!({"killed": n})))
}
