//! The Mirage daemon (seed 002, `daemon-api.md`): workspaces, sessions,
//! jobs, VFS calls and snapshots over HTTP, on the model product's `/v1`
//! routes so its clients work unchanged.
#![deny(missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
}

/// Runs the daemon until it is shut down (`POST /v1/shutdown`, SIGTERM,
/// Ctrl-C or the idle grace). Errors: the address cannot be bound.
pub async fn run(settings: DaemonSettings) -> anyhow::Result<()> {
    anyhow::bail!("the daemon is not built yet (would listen on {})", settings.addr)
}
