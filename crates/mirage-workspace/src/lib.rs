//! The Mirage Workspace (seed 000): the mount table, the VFS router (the one
//! door for bytes), command dispatch, and sessions with their shell state.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> mirage_types::Result<()> {
//! use std::sync::Arc;
//! let ram = Arc::new(mirage_resource_ram::RamResource::new());
//! let ws = mirage_workspace::Workspace::builder()
//!     .mount("/data", ram, mirage_types::MountMode::Write)
//!     .cwd("/data")
//!     .build()?;
//! let out = ws.execute("default", "echo hi > a.txt; cat a.txt", None).await?;
//! assert_eq!(out.stdout, b"hi\n");
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod config;
pub mod dev;
pub mod host;
pub mod net;
pub mod router;
pub mod schema;
pub mod session;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use mirage_ops::Resource;
use mirage_shell::ShellState;
use mirage_types::{ByteSource, Error, ErrorKind, Input, MountInfo, MountMode, Result, Sink, Vfs};

pub use config::{LimitsConfig, MountConfig, WorkspaceConfig};
pub use host::CustomCommand;
pub use mirage_shell::jobs::CancellationToken;
pub use mirage_shell::state::Limits;
pub use router::{ChangeHook, Mount, Router};
pub use session::{HistoryEntry, SessionSnapshot};

/// What one `execute` produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Standard output bytes.
    pub stdout: Vec<u8>,
    /// Standard error bytes.
    pub stderr: Vec<u8>,
    /// The exit status (0–255).
    pub exit_code: i32,
}

/// Options for a new session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// The id (generated when `None`).
    pub id: Option<String>,
    /// The working directory (the workspace default when `None`).
    pub cwd: Option<String>,
    /// Extra exported variables.
    pub env: BTreeMap<String, String>,
}

/// One session: a shell state (cwd, env, functions, last status).
pub struct Session {
    /// The id.
    pub id: String,
    state: tokio::sync::Mutex<ShellState>,
    history: Mutex<session::History>,
}

struct Inner {
    router: Arc<Router>,
    /// Recall's handle of each cached (remote) mount, by prefix.
    caches: Vec<(String, Arc<mirage_recall::MountCache>)>,
    host: Arc<host::WorkspaceHost>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    default_cwd: String,
    default_env: BTreeMap<String, String>,
    next_id: Mutex<u64>,
    limits: Limits,
    /// Whether each line run is also added to the session's shell history
    /// list, as an interactive shell adds what it reads.
    shell_history: std::sync::atomic::AtomicBool,
}

/// A workspace: mounts, router, command host and sessions. Cheap to clone.
#[derive(Clone)]
pub struct Workspace {
    inner: Arc<Inner>,
}

/// The tracing span of one line run in session `session_id` (its
/// `exit_code` is recorded when it ends). The line's text is not a field:
/// it may carry what an agent typed, credentials included.
fn line_span(session_id: &str) -> tracing::Span {
    tracing::info_span!(
        "line",
        session = session_id,
        exit_code = tracing::field::Empty
    )
}

/// Where and when a line started (for its [`HistoryEntry`]).
struct LineStart {
    cwd: String,
    at: std::time::Instant,
    unix: f64,
}

impl Session {
    /// Adds the history entry of a line that ended with `code`.
    fn record(&self, start: LineStart, line: &str, code: i32, bytes_out: Option<u64>) {
        let e = HistoryEntry {
            line: line.to_string(),
            cwd: start.cwd,
            exit_code: code,
            duration_ms: start.at.elapsed().as_secs_f64() * 1000.0,
            bytes_out,
            started_at: start.unix,
        };
        match self.history.lock() {
            Ok(mut h) => h.push(e),
            Err(p) => p.into_inner().push(e),
        }
    }
}

/// Builds a [`Workspace`].
#[derive(Default)]
pub struct WorkspaceBuilder {
    mounts: Vec<Mount>,
    recall: Option<mirage_recall::Recall>,
    policies: HashMap<String, mirage_recall::MountPolicy>,
    identities: HashMap<String, String>,
    cwd: Option<String>,
    env: BTreeMap<String, String>,
    limits: Limits,
    net: Option<Arc<dyn mirage_types::net::Network>>,
}

impl WorkspaceBuilder {
    /// The network its commands (`curl`, `wget`) may use (default: none;
    /// [`Workspace::from_config`] builds an [`net::AllowListNetwork`] from
    /// the config's `network:` section).
    pub fn network(mut self, net: Arc<dyn mirage_types::net::Network>) -> Self {
        self.net = Some(net);
        self
    }

    /// The execution limits of every session (default [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Mounts `resource` at `prefix` with `mode`.
    pub fn mount(mut self, prefix: &str, resource: Arc<dyn Resource>, mode: MountMode) -> Self {
        self.mounts.push(Mount::new(prefix, resource, mode));
        self
    }
    /// The cache of the remote mounts (default: memory, 512 MiB; see
    /// [`mirage_recall::Recall::from_config`]).
    pub fn cache(mut self, recall: mirage_recall::Recall) -> Self {
        self.recall = Some(recall);
        self
    }
    /// The cache policy of the mount at `prefix` (default: `read:
    /// bounded`, `ttl: 600`, `write: unconditional`). Only remote
    /// resources ([`mirage_ops::Capability::remote`]) are cached.
    pub fn mount_policy(mut self, prefix: &str, policy: mirage_recall::MountPolicy) -> Self {
        self.policies
            .insert(mirage_types::normalize_path(prefix), policy);
        self
    }
    /// Tells the cache which backend the mount at `prefix` is (its config,
    /// credentials included: only a hash of it is kept), so that daemons
    /// sharing a Redis cache share entries only for the same backend at
    /// the same prefix.
    pub fn mount_identity(mut self, prefix: &str, config: &serde_json::Value) -> Self {
        // FNV-1a over the canonical JSON (keys sorted): stable across runs
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in config.to_string().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.identities
            .insert(mirage_types::normalize_path(prefix), format!("{h:016x}"));
        self
    }
    /// The default session's working directory.
    pub fn cwd(mut self, cwd: &str) -> Self {
        self.cwd = Some(cwd.to_string());
        self
    }
    /// An exported variable of new sessions.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }
    /// Builds the workspace with a `default` session. Every workspace gets
    /// the `/dev` files ([`dev::DevResource`]) unless a mount is at `/dev`
    /// already. Errors: `InvalidInput` for a relative `cwd`, `AlreadyExists`
    /// for a prefix mounted twice.
    pub fn build(mut self) -> Result<Workspace> {
        if let Some(c) = self.cwd.as_deref().filter(|c| !c.starts_with('/')) {
            return Err(Error::msg(
                ErrorKind::InvalidInput,
                format!("cwd '{c}': must be an absolute path"),
            ));
        }
        let default_cwd = self.cwd.unwrap_or_else(|| {
            self.mounts
                .iter()
                .map(|m| mirage_types::normalize_path(&m.prefix))
                .min()
                .unwrap_or_else(|| "/".into())
        });
        if !self
            .mounts
            .iter()
            .any(|m| mirage_types::normalize_path(&m.prefix) == dev::DEV_PREFIX)
        {
            self.mounts.push(Mount::new(
                dev::DEV_PREFIX,
                Arc::new(dev::DevResource::new()),
                MountMode::Write,
            ));
        }
        // Recall in front of every remote resource: the router mounts the
        // cached resource, so no path reaches the backend or the cached
        // bytes around it.
        let mut caches = Vec::new();
        if self.mounts.iter().any(|m| m.resource.capability().remote) {
            let recall = match self.recall.take() {
                Some(r) => r,
                None => mirage_recall::Recall::from_config(None, None)?,
            };
            for m in &mut self.mounts {
                if !m.resource.capability().remote {
                    continue;
                }
                let prefix = mirage_types::normalize_path(&m.prefix);
                let policy = self.policies.get(&prefix).copied().unwrap_or_default();
                let id = self.identities.get(&prefix).map_or("", String::as_str);
                let ns = format!(
                    "{}#{id}@{}",
                    m.resource.name(),
                    prefix.trim_end_matches('/')
                );
                let (res, mc) = recall.wrap(&ns, m.resource.clone(), policy);
                m.resource = res;
                caches.push((prefix, mc));
            }
        }
        let router = Arc::new(Router::new(self.mounts)?);
        let mut host = host::WorkspaceHost::new(router.clone(), caches.clone());
        host.set_network(self.net);
        let host = Arc::new(host);
        let ws = Workspace {
            inner: Arc::new(Inner {
                router,
                caches,
                host,
                sessions: Mutex::new(HashMap::new()),
                default_cwd,
                default_env: self.env,
                next_id: Mutex::new(0),
                shell_history: std::sync::atomic::AtomicBool::new(false),
                limits: self.limits,
            }),
        };
        ws.create_session(SessionOptions {
            id: Some("default".into()),
            ..Default::default()
        })?;
        Ok(ws)
    }
}

impl Workspace {
    /// A builder.
    pub fn builder() -> WorkspaceBuilder {
        WorkspaceBuilder::default()
    }

    /// Builds a workspace from a config, constructing each resource through
    /// its link-time registration (which rejects unknown keys in a mount's
    /// `config:`). Errors (`InvalidInput`, naming the mount or the cwd): an
    /// unknown resource, a bad resource config, a `cwd:` that is relative,
    /// or one that is not an existing directory of the workspace.
    pub async fn from_config(cfg: &WorkspaceConfig) -> Result<Workspace> {
        let recall = mirage_recall::Recall::from_config(cfg.cache.as_ref(), cfg.index.as_ref())?;
        let index_ttl = recall.index_ttl();
        let mut b = Workspace::builder().cache(recall);
        for (prefix, m) in &cfg.mounts {
            let Some(reg) = mirage_ops::resource_type(&m.resource) else {
                let known: Vec<&str> = mirage_ops::resource_types()
                    .iter()
                    .map(|r| r.name)
                    .collect();
                return Err(Error::msg(
                    ErrorKind::InvalidInput,
                    format!(
                        "mount {prefix}: unknown resource '{}' (known: {})",
                        m.resource,
                        known.join(", ")
                    ),
                ));
            };
            let res = (reg.build)(&m.config)
                .map_err(|e| Error::msg(e.kind, format!("mount {prefix}: {}", e.message())))?;
            let policy = mirage_recall::MountPolicy::from_keys(
                prefix,
                m.read.as_deref(),
                m.ttl,
                m.write.as_deref(),
                index_ttl,
            )?;
            if policy.write == mirage_recall::WritePolicy::Conditional && !res.capability().remote {
                return Err(Error::msg(
                    ErrorKind::InvalidInput,
                    format!(
                        "mount '{prefix}': write: conditional is not supported on a {} mount (only remote mounts such as s3 and redis keep the version last read)",
                        m.resource
                    ),
                ));
            }
            let mode = cfg.mode_of(m);
            if policy.write == mirage_recall::WritePolicy::Conditional && !mode.allows_write() {
                return Err(Error::msg(
                    ErrorKind::InvalidInput,
                    format!("mount '{prefix}': write: conditional on a read-only mount"),
                ));
            }
            b = b
                .mount(prefix, res, mode)
                .mount_policy(prefix, policy)
                .mount_identity(prefix, &m.config);
        }
        if let Some(c) = &cfg.cwd {
            b = b.cwd(c);
        }
        for (k, v) in &cfg.env {
            b = b.env(k, v);
        }
        b = b.limits(cfg.limits.apply(Limits::default()));
        if let Some(n) = net::AllowListNetwork::from_config(&cfg.network)? {
            b = b.network(Arc::new(n));
        }
        let ws = b.build()?;
        if let Some(id) = cfg
            .default_session_id
            .as_deref()
            .filter(|id| *id != "default")
        {
            ws.create_session(SessionOptions {
                id: Some(id.to_string()),
                ..Default::default()
            })?;
        }
        if let Some(c) = &cfg.cwd {
            match ws.inner.router.stat(c).await {
                Ok(s) if s.is_dir() => {}
                Ok(_) => {
                    return Err(Error::msg(
                        ErrorKind::InvalidInput,
                        format!("cwd '{c}': Not a directory"),
                    ));
                }
                Err(e) => {
                    return Err(Error::msg(
                        ErrorKind::InvalidInput,
                        format!("cwd '{c}': {}", e.kind.gnu_message()),
                    ));
                }
            }
        }
        Ok(ws)
    }

    /// The VFS router (the one door for bytes).
    pub fn vfs(&self) -> Arc<dyn Vfs> {
        self.inner.router.clone()
    }

    /// How long a cache outside the workspace (the kernel's, under FUSE)
    /// may keep what it learnt of `path` (attributes, entries) without
    /// asking again, following the cache policy of the mount that holds
    /// it: a cached (remote) mount under `read: fresh` or `read: off`
    /// answers zero (every stat reaches the workspace, which revalidates);
    /// under `read: bounded` its `ttl`. `None` for a mount without a
    /// cache (RAM, disk): the caller picks (changes made through the
    /// workspace are announced by [`Workspace::changes`] anyway).
    pub fn cache_ttl(&self, path: &str) -> Option<std::time::Duration> {
        let m = self.inner.router.mount_of(path)?;
        let (_, cache) = self.inner.caches.iter().find(|(p, _)| *p == m.prefix)?;
        Some(match cache.policy().read {
            mirage_recall::ReadPolicy::Bounded(t) => t,
            mirage_recall::ReadPolicy::Fresh | mirage_recall::ReadPolicy::Off => {
                std::time::Duration::ZERO
            }
        })
    }

    /// Adds a listener that every change through this workspace waits
    /// for ([`router::ChangeHook`]); answers its id for
    /// [`Workspace::remove_change_hook`].
    pub fn add_change_hook(&self, hook: router::ChangeHook) -> u64 {
        self.inner.router.add_change_hook(hook)
    }

    /// Removes the change listener `id`.
    pub fn remove_change_hook(&self, id: u64) {
        self.inner.router.remove_change_hook(id);
    }

    /// The paths that change through this workspace, as they change
    /// ([`Router::changes`]): what a FUSE mount needs to keep the kernel's
    /// caches true to writes made through the shell or the API.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.inner.router.changes()
    }

    /// The mount table.
    pub fn mounts(&self) -> Vec<MountInfo> {
        self.inner.router.mounts()
    }

    /// Recall's counters of each cached (remote) mount, by prefix, sorted.
    pub fn cache_stats(&self) -> Vec<(String, mirage_recall::CacheStats)> {
        let mut v: Vec<_> = self
            .inner
            .caches
            .iter()
            .map(|(p, c)| (p.clone(), c.stats()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Drops every cached entry of `path` and below it (as rclone's
    /// `vfs/forget`). Errors: `InvalidInput` when `path` is on no cached mount.
    pub async fn cache_forget(&self, path: &str) -> Result<()> {
        host::cache_forget(&self.inner.caches, path).await
    }

    /// Forgets `path` (see [`Workspace::cache_forget`]), then reads its
    /// stat and, for a directory, its listing again (as rclone's
    /// `vfs/refresh`). Errors: those of `cache_forget` and of the stat.
    pub async fn cache_refresh(&self, path: &str) -> Result<()> {
        self.cache_forget(path).await?;
        let st = self.inner.router.stat(path).await?;
        if st.is_dir() {
            self.inner.router.readdir(path).await?;
        }
        Ok(())
    }

    /// Creates a session; returns its id. Errors with `AlreadyExists` for a taken id.
    pub fn create_session(&self, opts: SessionOptions) -> Result<String> {
        let id = match opts.id {
            Some(id) => id,
            None => {
                let mut n = self
                    .inner
                    .next_id
                    .lock()
                    .map_err(|_| Error::new(ErrorKind::Io))?;
                *n += 1;
                format!("s{}", *n)
            }
        };
        let cwd = opts.cwd.unwrap_or_else(|| self.inner.default_cwd.clone());
        let mut st = ShellState::new(&cwd);
        st.limits = self.inner.limits;
        for (k, v) in self.inner.default_env.iter().chain(opts.env.iter()) {
            st.set_exported(k, v.clone());
        }
        let mut sessions = self
            .inner
            .sessions
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        if sessions.contains_key(&id) {
            return Err(Error::msg(
                ErrorKind::AlreadyExists,
                format!("session {id} exists"),
            ));
        }
        sessions.insert(
            id.clone(),
            Arc::new(Session {
                id: id.clone(),
                state: tokio::sync::Mutex::new(st),
                history: Mutex::new(session::History::default()),
            }),
        );
        Ok(id)
    }

    /// Deletes a session.
    pub fn delete_session(&self, id: &str) -> Result<()> {
        let mut sessions = self
            .inner
            .sessions
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        sessions
            .remove(id)
            .map(|s| {
                if let Ok(mut st) = s.state.try_lock() {
                    st.jobs.cancel_all();
                }
            })
            .ok_or_else(|| Error::msg(ErrorKind::NotFound, format!("session {id} not found")))
    }

    /// Whether session `id` exists (without listing them all).
    pub fn has_session(&self, id: &str) -> bool {
        self.inner
            .sessions
            .lock()
            .map(|s| s.contains_key(id))
            .unwrap_or(false)
    }

    /// The ids of the sessions, sorted.
    pub fn session_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = match self.inner.sessions.lock() {
            Ok(s) => s.keys().cloned().collect(),
            Err(_) => Vec::new(),
        };
        v.sort();
        v
    }

    /// The working directory of a session.
    pub async fn session_cwd(&self, id: &str) -> Result<String> {
        Ok(self.session(id)?.state.lock().await.cwd.clone())
    }

    /// Runs `f` on the shell state of session `id` and returns its result
    /// (waiting for a running line of the session to finish first). For a
    /// front end that reads or sets the state between lines: the REPL's
    /// prompt (`PS1`), its completion (functions, aliases) and its
    /// `interactive` flag.
    pub async fn with_session_state<R>(
        &self,
        id: &str,
        f: impl FnOnce(&mut ShellState) -> R,
    ) -> Result<R> {
        Ok(f(&mut *self.session(id)?.state.lock().await))
    }

    fn session(&self, id: &str) -> Result<Arc<Session>> {
        let sessions = self
            .inner
            .sessions
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        sessions
            .get(id)
            .cloned()
            .ok_or_else(|| Error::msg(ErrorKind::NotFound, format!("session {id} not found")))
    }

    /// Runs `command` (one line or a script) in session `session_id`,
    /// collecting stdout and stderr. Lines in one session run one at a time.
    pub async fn execute(
        &self,
        session_id: &str,
        command: &str,
        stdin: Option<Bytes>,
    ) -> Result<ExecOutput> {
        self.execute_cancellable(session_id, command, stdin, CancellationToken::new())
            .await
    }

    /// [`Workspace::execute`] under a cancellation handle: cancelling
    /// `cancel` (from any task or thread) stops the line at its next await
    /// point (a `sleep`, a pipe, a loop iteration) with status 130; what it
    /// wrote so far is returned. The session's wall-time limit
    /// ([`Limits::wall_time`]) stops it with status 124 and a message.
    /// Background jobs the line started keep running in the session.
    pub async fn execute_cancellable(
        &self,
        session_id: &str,
        command: &str,
        stdin: Option<Bytes>,
        cancel: CancellationToken,
    ) -> Result<ExecOutput> {
        let session = self.session(session_id)?;
        let mut st = session.state.lock().await;
        let started = self.begin_line(&mut st, command);
        let (out_sink, out_buf) = Sink::capture();
        let (err_sink, err_buf) = Sink::capture();
        let input = match stdin {
            Some(b) => Input::from_source(ByteSource::Bytes(b)),
            None => Input::empty(),
        };
        let host: Arc<dyn mirage_types::command::CommandHost> = self.inner.host.clone();
        let (o, e) = (out_buf.clone(), err_buf.clone());
        let len = |b: &Mutex<Vec<u8>>| b.lock().map_or(0, |g| g.len() as u64);
        st.output_meter = Some(mirage_shell::jobs::OutputMeter(Arc::new(move || {
            len(&o) + len(&e)
        })));
        let span = line_span(session_id);
        let code = tracing::Instrument::instrument(
            mirage_shell::run_cancellable(
                host, &mut st, command, input, out_sink, err_sink, cancel,
            ),
            span.clone(),
        )
        .await;
        span.record("exit_code", code);
        st.output_meter = None;
        let take = |b: &Arc<Mutex<Vec<u8>>>| match b.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        let out = ExecOutput {
            stdout: take(&out_buf),
            stderr: take(&err_buf),
            exit_code: code,
        };
        let bytes = (out.stdout.len() + out.stderr.len()) as u64;
        session.record(started, command, code, Some(bytes));
        Ok(out)
    }

    /// Runs `command` with stdout and stderr sent to the given sinks as they
    /// are produced (for streaming replies and the terminal). When it
    /// returns, the workspace holds no clone of `stdout` or `stderr`: a
    /// [`Sink::Pipe`]'s receiver sees the channel close.
    pub async fn execute_streaming(
        &self,
        session_id: &str,
        command: &str,
        stdin: Input,
        stdout: Sink,
        stderr: Sink,
    ) -> Result<i32> {
        self.execute_streaming_cancellable(
            session_id,
            command,
            stdin,
            stdout,
            stderr,
            CancellationToken::new(),
        )
        .await
    }

    /// [`Workspace::execute_streaming`] under a cancellation handle, as
    /// [`Workspace::execute_cancellable`]. Background jobs that are still
    /// running hold clones of `stdout` and `stderr` until they end.
    pub async fn execute_streaming_cancellable(
        &self,
        session_id: &str,
        command: &str,
        stdin: Input,
        stdout: Sink,
        stderr: Sink,
        cancel: CancellationToken,
    ) -> Result<i32> {
        let session = self.session(session_id)?;
        let mut st = session.state.lock().await;
        let started = self.begin_line(&mut st, command);
        let host: Arc<dyn mirage_types::command::CommandHost> = self.inner.host.clone();
        let span = line_span(session_id);
        let code = tracing::Instrument::instrument(
            mirage_shell::run_cancellable(host, &mut st, command, stdin, stdout, stderr, cancel),
            span.clone(),
        )
        .await;
        span.record("exit_code", code);
        session.record(started, command, code, None);
        Ok(code)
    }

    /// Sets the output size of the last line session `session_id` ran
    /// (its [`HistoryEntry::bytes_out`]) when that entry is `line` and has
    /// no size yet: a caller of [`Workspace::execute_streaming`] counts
    /// what it forwarded. Returns whether the entry was updated (`false`
    /// when another line has been recorded since). Errors: `NotFound` for
    /// an unknown session.
    pub fn note_bytes_out(&self, session_id: &str, line: &str, bytes: u64) -> Result<bool> {
        let session = self.session(session_id)?;
        let mut h = session
            .history
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        match h.entries.back_mut() {
            Some(e) if e.line == line && e.bytes_out.is_none() => {
                e.bytes_out = Some(bytes);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The lines session `session_id` ran, oldest first (at most
    /// [`session::HISTORY_LIMIT`]). Errors: `NotFound` for an unknown session.
    pub fn history(&self, session_id: &str) -> Result<Vec<HistoryEntry>> {
        let session = self.session(session_id)?;
        let h = session
            .history
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        Ok(h.entries.iter().cloned().collect())
    }
    /// Adds a command to this workspace at run time, or overrides one, as
    /// seed 001's `@command` decorator does: for every mount, for one
    /// resource type ([`CustomCommand::for_resource`]) or for one file type
    /// ([`CustomCommand::for_filetype`]). At each level of the resolution
    /// order (`(name, resource, filetype)`, `(name, resource)`,
    /// `(name, filetype)`, `(name)`) a command added here wins over the
    /// link-time ones; the same name and scope registered again replaces
    /// the earlier one. Every session sees it at its next command; `type`,
    /// `command -v` and completion list it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mirage_types::args::{CommandSpec, PathOperands};
    /// use mirage_types::command::{CmdError, CommandCtx};
    /// use mirage_types::MountMode;
    /// use mirage_workspace::{CustomCommand, Workspace};
    ///
    /// // `hello [NAME]`: greets; no options of its own.
    /// static HELLO: CommandSpec = CommandSpec::new("hello", &[], PathOperands::None);
    /// mirage_types::command_handler!(fn hello = hello_body);
    /// async fn hello_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    ///     let who = ctx.args.first().cloned().unwrap_or_else(|| "world".into());
    ///     ctx.stdout.write_str(&format!("hello, {who}\n")).await?;
    ///     Ok(0)
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ws = Workspace::builder()
    ///     .mount("/data", Arc::new(mirage_resource_ram::RamResource::new()), MountMode::Write)
    ///     .build()
    ///     .unwrap();
    /// ws.register_command(CustomCommand::new("hello", &HELLO, hello));
    /// let out = ws.execute("default", "hello agent | tr a-z A-Z", None).await.unwrap();
    /// assert_eq!(out.stdout, b"HELLO, AGENT\n");
    /// # });
    /// ```
    pub fn register_command(&self, cmd: CustomCommand) {
        self.inner.host.register(cmd);
    }

    /// Turns on (or off) adding every line run to its session's shell
    /// history list, where the `history` builtin lists it, as an
    /// interactive bash adds what it reads. Off by default (`bash -c`
    /// semantics); the daemon turns it on.
    pub fn record_shell_history(&self, on: bool) {
        self.inner
            .shell_history
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The portable picture of session `session_id`: cwd, exported
    /// variables, functions (as `declare -f` prints them) and history.
    /// Waits for a running line of the session to end. Errors: `NotFound`.
    pub async fn session_snapshot(&self, session_id: &str) -> Result<SessionSnapshot> {
        let session = self.session(session_id)?;
        let st = session.state.lock().await;
        let h = session
            .history
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        Ok(session::snapshot_of(session_id, &st, &h))
    }

    /// Starts (or replaces the state of) the session `snap.id` from a
    /// snapshot: its cwd, exported variables, functions and history. The
    /// function text is run in the session (its definitions only; nothing
    /// else runs). Errors: the function text does not run cleanly
    /// (`InvalidInput`, with its stderr).
    pub async fn restore_session(&self, snap: &SessionSnapshot) -> Result<()> {
        if self.session(&snap.id).is_err() {
            self.create_session(SessionOptions {
                id: Some(snap.id.clone()),
                cwd: Some(snap.cwd.clone()),
                env: snap.env.clone(),
            })?;
        }
        let session = self.session(&snap.id)?;
        {
            let mut st = session.state.lock().await;
            st.cwd = snap.cwd.clone();
            st.set_exported("PWD", snap.cwd.clone());
            for (k, v) in &snap.env {
                st.set_exported(k, v.clone());
            }
        }
        if !snap.functions.trim().is_empty() {
            let out = self.execute_quiet(&snap.id, &snap.functions).await?;
            if out.exit_code != 0 {
                return Err(Error::msg(
                    ErrorKind::InvalidInput,
                    format!(
                        "session {}: its functions did not load: {}",
                        snap.id,
                        mirage_types::bytestr::decode(&out.stderr).trim_end()
                    ),
                ));
            }
        }
        let mut h = session
            .history
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io))?;
        h.entries = snap.history.iter().cloned().collect();
        Ok(())
    }

    /// Runs `command` without recording it anywhere (restoring functions).
    async fn execute_quiet(&self, session_id: &str, command: &str) -> Result<ExecOutput> {
        let session = self.session(session_id)?;
        let mut st = session.state.lock().await;
        let (out_sink, out_buf) = Sink::capture();
        let (err_sink, err_buf) = Sink::capture();
        let host: Arc<dyn mirage_types::command::CommandHost> = self.inner.host.clone();
        let code = mirage_shell::run_cancellable(
            host,
            &mut st,
            command,
            Input::empty(),
            out_sink,
            err_sink,
            CancellationToken::new(),
        )
        .await;
        let take = |b: &Arc<Mutex<Vec<u8>>>| match b.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        Ok(ExecOutput {
            stdout: take(&out_buf),
            stderr: take(&err_buf),
            exit_code: code,
        })
    }

    /// Notes the start of a line: adds it to the shell history list when
    /// [`Workspace::record_shell_history`] is on.
    fn begin_line(&self, st: &mut ShellState, command: &str) -> LineStart {
        if self
            .inner
            .shell_history
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            st.record_history(command);
        }
        LineStart {
            cwd: st.cwd.clone(),
            at: std::time::Instant::now(),
            unix: session::unix_now(),
        }
    }

    /// Cancels the background jobs of a session (`kill -HUP` to each), as
    /// a shell does to its jobs when it exits.
    pub async fn kill_jobs(&self, session_id: &str) -> Result<()> {
        let session = self.session(session_id)?;
        session.state.lock().await.jobs.cancel_all();
        Ok(())
    }

    /// The execution limits of a session.
    pub async fn session_limits(&self, session_id: &str) -> Result<Limits> {
        Ok(self.session(session_id)?.state.lock().await.limits)
    }

    /// Replaces the execution limits of a session (`mirage execute
    /// --timeout` sets the wall time this way).
    pub async fn set_session_limits(&self, session_id: &str, limits: Limits) -> Result<()> {
        self.session(session_id)?.state.lock().await.limits = limits;
        Ok(())
    }
}
