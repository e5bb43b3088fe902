//! The Mirage daemon (seed 002, `daemon-api.md`): workspaces, sessions,
//! jobs, VFS calls and snapshots over HTTP, on the model product's `/v1`
//! routes and JSON shapes so that its clients (its own Python CLI
//! included) work unchanged.
//!
//! Routes (every one but `GET /v1/health` needs `Authorization: Bearer
//! TOKEN` when the daemon has a token):
//!
//! | method | path | |
//! | --- | --- | --- |
//! | GET | `/v1/health` | `{status, workspaces, uptime_s, pid}` |
//! | POST | `/v1/shutdown` | `{status: "shutting_down", pid}` |
//! | GET | `/metrics` | Prometheus text |
//! | GET, POST | `/v1/workspaces` | list; create `{config, id?}` (201, 409, 422) |
//! | POST | `/v1/workspaces/load` | a snapshot tar (raw body or the model's multipart upload) |
//! | GET, DELETE | `/v1/workspaces/{id}` | detail (`?verbose=true` adds internals); delete |
//! | POST | `/v1/workspaces/{id}/close`, `/cancel`, `/kill`, `/clone` | |
//! | GET | `/v1/workspaces/{id}/snapshot` | the tar ([`snapshot`]) |
//! | GET | `/v1/workspaces/{id}/history` | `?session_id=`: the lines run |
//! | GET, POST | `/v1/workspaces/{id}/sessions` | list; create `{session_id?, cwd?, env?}` |
//! | PATCH, DELETE | `/v1/workspaces/{id}/sessions/{sid}` | change cwd/env; delete |
//! | POST | `/v1/workspaces/{id}/sessions/{sid}/cancel`, `/kill` | |
//! | POST | `/v1/workspaces/{id}/shell` (also `/execute`) | run a line ([`shell`]) |
//! | POST | `/v1/workspaces/{id}/vfs/{call}`, `/glob` | VFS calls ([`vfs`]) |
//! | GET, POST, DELETE | `/v1/workspaces/{id}/mounts` | FUSE mounts on the host ([`fuse`]) |
//! | GET | `/v1/jobs`, `/v1/jobs/{job_id}` | list (`?workspace_id=`); detail |
//! | POST | `/v1/jobs/{job_id}/wait` | `{timeout_s?}` |
//! | DELETE | `/v1/jobs/{job_id}` | cancel (also `POST …/cancel`) |
//!
//! Errors are JSON `{"detail": TEXT}` with the status (400 bad input, 401,
//! 404, 409 an existing id, 413 a body over the limit, 422 an invalid
//! config), as the model product's FastAPI `HTTPException`s.
#![deny(missing_docs)]

pub mod error;
pub mod fuse;
pub mod jobs;
pub mod metrics;
pub mod multipart;
pub mod secrets;
pub mod security;
pub mod shell;
pub mod snapshot;
pub mod state;
pub mod vfs;
pub mod workspaces;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use state::{AppState, Shared};

/// The loopback host names the `Host` check admits by default (as the
/// model product's `DEFAULT_ALLOWED_HOSTS`).
pub const DEFAULT_ALLOWED_HOSTS: &[&str] = &["127.0.0.1", "localhost", "::1"];

/// How a daemon runs: where it listens, its token, where it keeps state.
#[derive(Debug, Clone)]
pub struct DaemonSettings {
    /// The address to bind (default `127.0.0.1:8765`).
    pub addr: SocketAddr,
    /// The bearer token every route but health requires; empty means local
    /// mode (loopback only, no token).
    pub token: String,
    /// Where workspaces are persisted so they survive a restart (none: not persisted).
    pub persist_dir: Option<PathBuf>,
    /// The daemon exits this long after its last workspace is gone
    /// (`None`: never).
    pub idle_grace: Option<Duration>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The `Host` header values admitted (port stripped), against DNS
    /// rebinding; `"*"` admits any (only behind a trusted proxy). Default
    /// [`DEFAULT_ALLOWED_HOSTS`].
    pub allowed_hosts: Vec<String>,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        Self::local()
    }
}

impl DaemonSettings {
    /// Local mode on `127.0.0.1:8765`: no token, no persistence, an idle
    /// grace of 30 s, bodies up to 256 MiB, loopback hosts only (or the
    /// comma-separated list in `MIRAGE_ALLOWED_HOSTS`, as the model
    /// product reads it).
    pub fn local() -> Self {
        let allowed_hosts = match std::env::var("MIRAGE_ALLOWED_HOSTS") {
            Ok(v) if !v.trim().is_empty() => v
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(ToString::to_string)
                .collect(),
            _ => DEFAULT_ALLOWED_HOSTS
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        DaemonSettings {
            addr: SocketAddr::from(([127, 0, 0, 1], 8765)),
            token: String::new(),
            persist_dir: None,
            idle_grace: Some(Duration::from_secs(30)),
            max_body_bytes: 256 << 20,
            allowed_hosts,
        }
    }
}

/// The daemon's routes and middleware over `state`, for [`run`] and for
/// tests that serve it on `127.0.0.1:0` in-process.
pub fn router(state: Shared) -> Router {
    let api = Router::new()
        .route("/v1/health", get(workspaces::health))
        .route("/v1/shutdown", post(workspaces::shutdown))
        .route("/metrics", get(workspaces::metrics))
        .route(
            "/v1/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route("/v1/workspaces/load", post(snapshot::load))
        .route(
            "/v1/workspaces/{workspace_id}",
            get(workspaces::detail).delete(workspaces::delete),
        )
        .route(
            "/v1/workspaces/{workspace_id}/close",
            post(workspaces::close),
        )
        .route(
            "/v1/workspaces/{workspace_id}/cancel",
            post(workspaces::cancel),
        )
        .route("/v1/workspaces/{workspace_id}/kill", post(workspaces::kill))
        .route(
            "/v1/workspaces/{workspace_id}/clone",
            post(workspaces::clone),
        )
        .route(
            "/v1/workspaces/{workspace_id}/snapshot",
            get(snapshot::download).post(snapshot::to_store),
        )
        .route(
            "/v1/workspaces/{workspace_id}/history",
            get(workspaces::history),
        )
        .route(
            "/v1/workspaces/{workspace_id}/sessions",
            get(workspaces::list_sessions).post(workspaces::create_session),
        )
        .route(
            "/v1/workspaces/{workspace_id}/sessions/{session_id}",
            axum::routing::patch(workspaces::patch_session).delete(workspaces::delete_session),
        )
        .route(
            "/v1/workspaces/{workspace_id}/sessions/{session_id}/cancel",
            post(workspaces::cancel_session),
        )
        .route(
            "/v1/workspaces/{workspace_id}/sessions/{session_id}/kill",
            post(workspaces::kill_session),
        )
        .route("/v1/workspaces/{workspace_id}/shell", post(shell::shell))
        .route("/v1/workspaces/{workspace_id}/execute", post(shell::shell))
        .route("/v1/workspaces/{workspace_id}/glob", post(vfs::glob))
        .route("/v1/workspaces/{workspace_id}/vfs/{call}", post(vfs::call))
        .route(
            "/v1/workspaces/{workspace_id}/mounts",
            get(fuse::list).post(fuse::mount).delete(fuse::unmount),
        )
        .route("/v1/jobs", get(shell::list_jobs))
        .route(
            "/v1/jobs/{job_id}",
            get(shell::get_job).delete(shell::cancel_job),
        )
        .route("/v1/jobs/{job_id}/wait", post(shell::wait_job))
        .route("/v1/jobs/{job_id}/cancel", post(shell::cancel_job));
    api.fallback(security::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::front,
        ))
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .with_state(state)
}

/// Runs the daemon until it is shut down (`POST /v1/shutdown`, SIGTERM,
/// Ctrl-C or the idle grace after the last workspace is deleted), then
/// cancels the running lines, unmounts every FUSE mount, writes every workspace to `persist_dir`
/// (when set) and returns. Workspaces found in `persist_dir` are loaded
/// first.
///
/// Errors: an empty token with a non-loopback address (local mode binds
/// to loopback only); the address cannot be bound (the error names it).
pub async fn run(settings: DaemonSettings) -> anyhow::Result<()> {
    if settings.token.is_empty() && !settings.addr.ip().is_loopback() {
        anyhow::bail!(
            "refusing to listen on {} without a token: local mode binds to loopback only (set MIRAGE_TOKEN)",
            settings.addr
        );
    }
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.addr))?;
    serve(listener, settings).await
}

/// [`run`] on a listener already bound (tests bind `127.0.0.1:0`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: DaemonSettings,
) -> anyhow::Result<()> {
    mirage::link_resources();
    let state = AppState::new(settings);
    snapshot::load_persisted(&state).await;
    let persister = tokio::spawn(snapshot::persist_loop(state.clone()));
    let signals = {
        let state = state.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("signal: shutting down");
            state.shutdown.cancel();
        })
    };
    let addr = listener.local_addr().ok();
    tracing::info!(?addr, "mirage daemon listening");
    let app = router(state.clone());
    let stop = state.shutdown.clone();
    let shutdown_state = state.clone();
    // no Nagle delay between a reply's header and body writes
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.cancelled().await;
            // running lines end now, so that open connections finish
            for j in shutdown_state.jobs.running(|_| true) {
                j.cancel();
            }
        })
        .await?;
    signals.abort();
    persister.abort();
    for e in state.list() {
        fuse::remove_all(&e).await;
    }
    snapshot::persist_all(&state, true).await;
    tracing::info!("mirage daemon stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut t), Ok(mut i)) => {
                tokio::select! {
                    _ = t.recv() => {}
                    _ = i.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
