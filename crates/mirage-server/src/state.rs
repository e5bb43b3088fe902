//! The daemon's shared state: the workspace registry (as the model
//! product's server/registry.py), the job table, the metrics, and the
//! shutdown and idle machinery.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use mirage::{Workspace, WorkspaceConfig};
use tokio_util::sync::CancellationToken;

use crate::DaemonSettings;
use crate::error::{ApiError, ApiResult};
use crate::jobs::{JobTable, unix_now};
use crate::metrics::Metrics;

/// One workspace the daemon holds.
pub struct WsEntry {
    /// Its id.
    pub id: String,
    /// The workspace.
    pub ws: Workspace,
    /// The config it was built from, credentials included: never sent,
    /// logged or written as is (see [`crate::secrets`]).
    pub config: WorkspaceConfig,
    /// Every credential value of `config`, to scrub from any text sent.
    pub secrets: Vec<String>,
    /// When it was created (Unix seconds).
    pub created_at: f64,
    /// Changed since it was last written to `persist_dir`.
    pub dirty: AtomicBool,
    /// The last working directory seen of each session (for listings taken
    /// while a line runs and holds the session).
    pub cwds: Mutex<HashMap<String, String>>,
    /// Its FUSE mounts on the host ([`crate::fuse`]).
    pub fuse: crate::fuse::FuseMounts,
}

impl WsEntry {
    /// A new entry for `ws`, built from `config`.
    pub fn new(id: String, ws: Workspace, config: WorkspaceConfig) -> Self {
        let secrets = crate::secrets::secret_values(&config);
        WsEntry {
            id,
            ws,
            config,
            secrets,
            created_at: unix_now(),
            dirty: AtomicBool::new(true),
            cwds: Mutex::new(HashMap::new()),
            fuse: crate::fuse::FuseMounts::default(),
        }
    }
    /// The session a request that names none uses: the config's
    /// `default_session_id`, else `default`.
    pub fn default_session(&self) -> String {
        self.config
            .default_session_id
            .clone()
            .unwrap_or_else(|| "default".to_string())
    }
    /// Whether session `sid` exists.
    pub fn has_session(&self, sid: &str) -> bool {
        self.ws.has_session(sid)
    }
    /// Marks it changed (written by the next persist pass).
    pub fn touch(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }
    /// `text` with every credential of the config replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        crate::secrets::scrub(text, &self.secrets)
    }
    /// The working directory of session `sid`; while a line holds the
    /// session, the last one seen.
    pub async fn session_cwd(&self, sid: &str) -> Option<String> {
        let got = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            self.ws.session_cwd(sid),
        )
        .await;
        match got {
            Ok(Ok(c)) => {
                lock(&self.cwds).insert(sid.to_string(), c.clone());
                Some(c)
            }
            Ok(Err(_)) => None,
            Err(_) => lock(&self.cwds).get(sid).cloned(),
        }
    }
}

/// Locks a std mutex, recovering from a poisoned one.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Everything the handlers share.
pub struct AppState {
    /// How the daemon runs.
    pub settings: DaemonSettings,
    /// The workspaces by id.
    workspaces: RwLock<HashMap<String, Arc<WsEntry>>>,
    /// Ids being created, cloned or loaded (a second build of one is 409).
    building: Mutex<HashSet<String>>,
    /// Snapshots of closed workspaces, by id: a create of the id reopens it.
    pub closed: Mutex<HashMap<String, Vec<u8>>>,
    /// Every job.
    pub jobs: JobTable,
    /// The Prometheus metrics.
    pub metrics: Metrics,
    /// When the daemon started (Unix seconds).
    pub started_at: f64,
    /// When the daemon started (monotonic).
    pub started: Instant,
    /// Cancelled to shut the daemon down.
    pub shutdown: CancellationToken,
    /// Bumped on each workspace add or removal (restarts the idle timer).
    idle_epoch: AtomicU64,
    next_id: AtomicU64,
}

/// The state as handlers hold it.
pub type Shared = Arc<AppState>;

/// Reserves a workspace id while it is built; dropped, frees it.
pub struct Reservation {
    state: Shared,
    id: String,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        lock(&self.state.building).remove(&self.id);
    }
}

impl AppState {
    /// A fresh state for `settings`.
    pub fn new(settings: DaemonSettings) -> Shared {
        Arc::new(AppState {
            settings,
            workspaces: RwLock::new(HashMap::new()),
            building: Mutex::new(HashSet::new()),
            closed: Mutex::new(HashMap::new()),
            jobs: JobTable::default(),
            metrics: Metrics::new(),
            started_at: unix_now(),
            started: Instant::now(),
            shutdown: CancellationToken::new(),
            idle_epoch: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
        })
    }

    /// The workspace `id`: 404 `workspace not found` when there is none.
    pub fn get(&self, id: &str) -> ApiResult<Arc<WsEntry>> {
        self.workspaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("workspace not found"))
    }

    /// Every workspace, sorted by creation time.
    pub fn list(&self) -> Vec<Arc<WsEntry>> {
        let mut v: Vec<Arc<WsEntry>> = self
            .workspaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.created_at.total_cmp(&b.created_at).then(a.id.cmp(&b.id)));
        v
    }

    /// How many workspaces there are.
    pub fn count(&self) -> usize {
        self.workspaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// A fresh workspace id (`ws_…`).
    pub fn new_id(&self) -> String {
        self.fresh_id("ws")
    }
    /// A fresh id `PREFIX_…`, unique across restarts.
    pub fn fresh_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!(
            "{prefix}_{:x}{n:x}",
            crate::jobs::process_epoch() & 0xffff_ffff
        )
    }

    /// Reserves `id` for a build: 400 for an id that is not a plain name,
    /// 409 `workspace id already exists` when it is held or being built.
    pub fn reserve(self: &Arc<Self>, id: &str) -> ApiResult<Reservation> {
        if !valid_id(id) {
            return Err(ApiError::bad_request(format!(
                "invalid workspace id: {id:?}"
            )));
        }
        let taken = self
            .workspaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(id);
        let mut b = lock(&self.building);
        if taken || !b.insert(id.to_string()) {
            return Err(ApiError::conflict(format!(
                "workspace id already exists: '{id}'"
            )));
        }
        Ok(Reservation {
            state: self.clone(),
            id: id.to_string(),
        })
    }

    /// Adds a built workspace under its reservation.
    pub fn insert(&self, _r: Reservation, entry: Arc<WsEntry>) {
        lock(&self.closed).remove(&entry.id);
        self.workspaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(entry.id.clone(), entry);
        self.idle_epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes workspace `id`, cancelling its jobs, and starts the idle
    /// timer when it was the last one. 404 when there is none.
    pub fn remove(self: &Arc<Self>, id: &str) -> ApiResult<Arc<WsEntry>> {
        let e = self
            .workspaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id)
            .ok_or_else(|| ApiError::not_found("workspace not found"))?;
        for j in self.jobs.running(|j| j.workspace_id == id) {
            j.cancel();
        }
        // the shell's own background jobs (`cmd &`), once the running
        // lines (cancelled above) let go of their sessions
        let ws = e.ws.clone();
        tokio::spawn(async move {
            for sid in ws.session_ids() {
                let _ = ws.kill_jobs(&sid).await;
            }
        });
        let epoch = self.idle_epoch.fetch_add(1, Ordering::Relaxed) + 1;
        if self.count() == 0
            && let Some(grace) = self.settings.idle_grace
        {
            let state = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                if state.count() == 0 && state.idle_epoch.load(Ordering::Relaxed) == epoch {
                    tracing::info!("no workspace for the idle grace: shutting down");
                    state.shutdown.cancel();
                }
            });
        }
        Ok(e)
    }
}

/// Whether `id` can name a workspace: 1 to 128 characters of letters,
/// digits, `-`, `_` and `.`, not `.` or `..` (it names a file in
/// `persist_dir`).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
