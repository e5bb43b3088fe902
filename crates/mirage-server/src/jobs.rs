//! The daemon's execution table (as the model product's server/jobs.py):
//! every line run over HTTP, synchronous, streamed or in the background,
//! is a job with an id, a status and, once done, its result. Finished jobs
//! are kept for an hour, the newest [`MAX_FINISHED_JOBS`] of them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mirage::workspace::CancellationToken;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

/// How many finished jobs the table keeps.
pub const MAX_FINISHED_JOBS: usize = 1024;
/// How long a finished job is kept, in seconds.
pub const FINISHED_JOB_RETENTION_SECS: f64 = 3600.0;

/// A job's status, spelled as the model product's `ExecutionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Submitted, not started (waiting for its session).
    Pending,
    /// Running.
    Running,
    /// Cancel asked, the line not ended yet.
    Stopping,
    /// Ended; the result holds its exit code and output.
    Done,
    /// The line could not run (the error says why).
    Failed,
    /// Cancelled before or while it ran.
    Canceled,
}

impl JobStatus {
    /// The lowercase name (`"done"`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Stopping => "stopping",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
        }
    }
    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::Canceled
        )
    }
}

/// The mutable part of a job.
#[derive(Debug, Clone)]
pub struct JobState {
    /// Its status.
    pub status: JobStatus,
    /// Whether a cancel was asked.
    pub cancel_requested: bool,
    /// When it started running (Unix seconds).
    pub started_at: Option<f64>,
    /// When it ended (Unix seconds).
    pub finished_at: Option<f64>,
    /// The result dict of a `done` job (see `shell::result_json`).
    pub result: Option<Value>,
    /// Why a `failed` job failed.
    pub error: Option<String>,
}

/// One job.
pub struct Job {
    /// `exec_…`.
    pub id: String,
    /// The workspace it runs in.
    pub workspace_id: String,
    /// The session it runs in.
    pub session_id: String,
    /// The line.
    pub command: String,
    /// When it was submitted (Unix seconds).
    pub submitted_at: f64,
    /// Whether it was submitted with `?background=true` (what `kill` stops).
    pub background: bool,
    /// Stops the line ([`mirage::Workspace::execute_cancellable`]).
    pub token: CancellationToken,
    state: Mutex<JobState>,
    done: watch::Sender<bool>,
}

/// The brief of a job, as `GET /v1/jobs` lists it (routers/jobs.py `JobBrief`).
#[derive(Debug, Serialize)]
pub struct JobBrief {
    /// The id.
    pub job_id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// Its session.
    pub session_id: String,
    /// The line.
    pub command: String,
    /// Its status.
    pub status: JobStatus,
    /// Whether a cancel was asked.
    pub cancel_requested: bool,
    /// Unix seconds.
    pub submitted_at: f64,
    /// Unix seconds.
    pub started_at: Option<f64>,
    /// Unix seconds.
    pub finished_at: Option<f64>,
}

/// A job with its result, as `GET /v1/jobs/{id}` answers (`JobDetail`).
#[derive(Debug, Serialize)]
pub struct JobDetail {
    /// The brief's fields.
    #[serde(flatten)]
    pub brief: JobBrief,
    /// The result dict of a `done` job, else `null`.
    pub result: Option<Value>,
    /// Why a `failed` job failed, else `null`.
    pub error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Job {
    /// A copy of the mutable state.
    pub fn state(&self) -> JobState {
        lock(&self.state).clone()
    }
    /// The brief.
    pub fn brief(&self) -> JobBrief {
        let s = lock(&self.state);
        JobBrief {
            job_id: self.id.clone(),
            workspace_id: self.workspace_id.clone(),
            session_id: self.session_id.clone(),
            command: self.command.clone(),
            status: s.status,
            cancel_requested: s.cancel_requested,
            submitted_at: self.submitted_at,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
    /// The detail.
    pub fn detail(&self) -> JobDetail {
        let s = self.state();
        JobDetail {
            brief: self.brief(),
            result: s.result,
            error: s.error,
        }
    }
    /// Marks it running (unless a cancel came first: then `false`).
    pub fn start(&self) -> bool {
        let mut s = lock(&self.state);
        if s.cancel_requested {
            return false;
        }
        s.status = JobStatus::Running;
        s.started_at = Some(unix_now());
        true
    }
    /// Records its end: `Ok(result)` is `done` (or `canceled` when a
    /// cancel was asked), `Err(text)` is `failed`.
    fn finish(&self, outcome: Result<Value, String>) {
        {
            let mut s = lock(&self.state);
            let (status, result, error) = match outcome {
                _ if s.cancel_requested => (JobStatus::Canceled, None, None),
                Ok(v) => (JobStatus::Done, Some(v), None),
                Err(e) => (JobStatus::Failed, None, Some(e)),
            };
            s.status = status;
            s.result = result;
            s.error = error;
            s.finished_at = Some(unix_now());
        }
        self.done.send_replace(true);
    }
    /// Asks it to stop: `false` when it had ended or a cancel was asked
    /// already.
    pub fn cancel(&self) -> bool {
        {
            let mut s = lock(&self.state);
            if s.status.is_final() || s.cancel_requested {
                return false;
            }
            s.cancel_requested = true;
            s.status = JobStatus::Stopping;
        }
        self.token.cancel();
        true
    }
    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        *self.done.borrow()
    }
    /// Waits until it ends, or `timeout` passes (`None`: for good).
    pub async fn wait(&self, timeout: Option<Duration>) {
        let mut rx = self.done.subscribe();
        let fut = rx.wait_for(|d| *d);
        match timeout {
            Some(t) => {
                let _ = tokio::time::timeout(t, fut).await;
            }
            None => {
                let _ = fut.await;
            }
        }
    }
}

/// Every job of the daemon.
#[derive(Default)]
pub struct JobTable {
    inner: Mutex<Table>,
    next: AtomicU64,
}

#[derive(Default)]
struct Table {
    jobs: HashMap<String, Arc<Job>>,
    /// Ids of finished jobs, in the order they finished (for pruning).
    finished: VecDeque<String>,
}

impl JobTable {
    /// Adds a pending job and returns it.
    pub fn submit(
        &self,
        workspace_id: &str,
        session_id: &str,
        command: &str,
        background: bool,
    ) -> Arc<Job> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("exec_{:x}_{n:x}", process_epoch());
        let (done, _) = watch::channel(false);
        let job = Arc::new(Job {
            id: id.clone(),
            workspace_id: workspace_id.to_string(),
            session_id: session_id.to_string(),
            command: command.to_string(),
            submitted_at: unix_now(),
            background,
            token: CancellationToken::new(),
            state: Mutex::new(JobState {
                status: JobStatus::Pending,
                cancel_requested: false,
                started_at: None,
                finished_at: None,
                result: None,
                error: None,
            }),
            done,
        });
        lock(&self.inner).jobs.insert(id, job.clone());
        job
    }
    /// Records the end of `job` and prunes the table.
    pub fn finish(&self, job: &Job, outcome: Result<Value, String>) {
        job.finish(outcome);
        let mut t = lock(&self.inner);
        t.finished.push_back(job.id.clone());
        t.prune();
    }
    /// The job `id`.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        lock(&self.inner).jobs.get(id).cloned()
    }
    /// Every job (of `workspace_id` when given), oldest first.
    pub fn list(&self, workspace_id: Option<&str>) -> Vec<Arc<Job>> {
        let mut v: Vec<Arc<Job>> = lock(&self.inner)
            .jobs
            .values()
            .filter(|j| workspace_id.is_none_or(|w| j.workspace_id == w))
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            a.submitted_at
                .total_cmp(&b.submitted_at)
                .then(a.id.cmp(&b.id))
        });
        v
    }
    /// The unfinished jobs matching `f`.
    pub fn running(&self, f: impl Fn(&Job) -> bool) -> Vec<Arc<Job>> {
        let t = lock(&self.inner);
        t.jobs
            .values()
            .filter(|j| !j.is_finished() && f(j))
            .cloned()
            .collect()
    }
}

impl Table {
    /// Drops finished jobs past the newest [`MAX_FINISHED_JOBS`] or older
    /// than the retention; only the oldest finished ids are looked at.
    fn prune(&mut self) {
        let cutoff = unix_now() - FINISHED_JOB_RETENTION_SECS;
        while let Some(id) = self.finished.front() {
            let old = self.finished.len() > MAX_FINISHED_JOBS
                || self
                    .jobs
                    .get(id)
                    .is_none_or(|j| lock(&j.state).finished_at.is_some_and(|f| f < cutoff));
            if !old {
                break;
            }
            if let Some(id) = self.finished.pop_front() {
                self.jobs.remove(&id);
            }
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A per-process stamp that keeps ids unique across daemon restarts.
pub(crate) fn process_epoch() -> u64 {
    static EPOCH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        t ^ (u64::from(std::process::id()) << 40)
    })
}
