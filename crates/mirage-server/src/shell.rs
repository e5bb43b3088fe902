//! Running lines (as the model product's routers/shell.py) and the job
//! routes (routers/jobs.py).
//!
//! `POST /v1/workspaces/{id}/shell` (also `/execute`), body `{command,
//! session_id?, cwd?, env?, stdin?, stdin_base64?}` (JSON, or the model
//! CLI's multipart upload with a `request` part and a `stdin` part), query
//! `session_id`, `background`, `stream`:
//! - synchronous: 200 with the result dict `{kind: "io", exit_code, stdout,
//!   stderr, refusal: null}`; stdout and stderr are UTF-8 text, or, when
//!   not valid UTF-8, base64 with `stdout_encoding: "base64"` (resp.
//!   `stderr_encoding`). A cancelled line answers 499 `{"detail": "job
//!   canceled"}`. A caller that disconnects cancels the line.
//! - `?background=true`: 202 `{job_id, workspace_id, submitted_at}`.
//! - `?stream=true`: NDJSON, `{"stream":"stdout"|"stderr","data":BASE64}`
//!   records as the output comes, then `{"status","result","error"}`
//!   (the result's stdout and stderr empty, as the model product's).
//!
//! Each reply carries the job id in `X-Mirage-Job-Id`. `cwd` and `env`
//! apply to that line only (it runs in a subshell of the session).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mirage::ExecOutput;
use mirage::types::{ByteSource, Input, Sink};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::error::{ApiError, ApiResult, parse_body};
use crate::jobs::{Job, JobStatus};
use crate::metrics::JobLabels;
use crate::state::{Shared, WsEntry};

/// The body of a shell request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellRequest {
    /// The line (or script).
    pub command: String,
    /// The session (default `default`); the query's `session_id` wins.
    #[serde(default)]
    pub session_id: Option<String>,
    /// A working directory for this line only.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Exported variables for this line only.
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// Standard input, as text.
    #[serde(default)]
    pub stdin: Option<String>,
    /// Standard input, as base64.
    #[serde(default)]
    pub stdin_base64: Option<String>,
    /// The model product's runtime choice: only `null` or `"shell"`.
    #[serde(default)]
    pub runtime: Option<String>,
    /// The model product's flag to leave a line out of the history
    /// (accepted; every line is recorded).
    #[serde(default)]
    pub record: Option<bool>,
}

/// The query of a shell request.
#[derive(Debug, Default, Deserialize)]
pub struct ShellQuery {
    /// Return 202 and a job id at once.
    #[serde(default)]
    pub background: bool,
    /// Stream NDJSON.
    #[serde(default)]
    pub stream: bool,
    /// The session.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The model product's explain mode (not supported: 400).
    #[serde(default)]
    pub explain: bool,
}

/// Bytes of output per NDJSON record.
const PAYLOAD_SIZE: usize = 32 << 10;

/// Output as JSON text: UTF-8 as is, anything else base64 (then the
/// second value is `true`).
fn text_or_base64(b: &[u8]) -> (String, bool) {
    match std::str::from_utf8(b) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (B64.encode(b), true),
    }
}

/// The result dict of a finished line (io_serde.py's `io_result_to_dict`).
pub fn result_json(out: &ExecOutput) -> Value {
    let (stdout, ob) = text_or_base64(&out.stdout);
    let (stderr, eb) = text_or_base64(&out.stderr);
    let mut v = json!({
        "kind": "io",
        "exit_code": out.exit_code,
        "stdout": stdout,
        "stderr": stderr,
        "refusal": null,
    });
    if let Some(m) = v.as_object_mut() {
        if ob {
            m.insert("stdout_encoding".into(), json!("base64"));
        }
        if eb {
            m.insert("stderr_encoding".into(), json!("base64"));
        }
    }
    v
}

/// Bash single-quoting of `s`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn valid_name(k: &str) -> bool {
    let mut c = k.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// The line to run: `command`, or, with a one-line `cwd` or `env`, the
/// command in a subshell that first changes to `cwd` and exports `env`.
fn line_of(req: &ShellRequest) -> ApiResult<String> {
    if req.cwd.is_none() && req.env.as_ref().is_none_or(BTreeMap::is_empty) {
        return Ok(req.command.clone());
    }
    let mut pre = String::new();
    if let Some(c) = &req.cwd {
        pre.push_str(&format!("cd -- {} || exit 1\n", shell_quote(c)));
    }
    for (k, v) in req.env.iter().flatten() {
        if !valid_name(k) {
            return Err(ApiError::bad_request(format!(
                "env: not a valid variable name: {k:?}"
            )));
        }
        pre.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    Ok(format!("(\n{pre}{}\n)", req.command))
}

/// What a parsed shell request carries.
struct Parsed {
    req: ShellRequest,
    stdin: Option<Bytes>,
}

fn parse_request(headers: &HeaderMap, body: &Bytes) -> ApiResult<Parsed> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if crate::multipart::is_multipart(ct) {
        let parts = crate::multipart::parse(ct.unwrap_or(""), body)?;
        let req_part = parts
            .iter()
            .find(|p| p.name == "request")
            .ok_or_else(|| ApiError::bad_request("multipart body missing 'request' part"))?;
        let req: ShellRequest = parse_body(&req_part.data, "request part")?;
        let stdin = parts
            .iter()
            .find(|p| p.name == "stdin")
            .map(|p| p.data.clone());
        return Ok(Parsed { req, stdin });
    }
    let req: ShellRequest = parse_body(body, "shell request")?;
    let stdin = match (&req.stdin, &req.stdin_base64) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give stdin or stdin_base64, not both",
            ));
        }
        (Some(s), None) => Some(Bytes::from(mirage::types::bytestr::encode(s).into_owned())),
        (None, Some(b)) => {
            Some(Bytes::from(B64.decode(b).map_err(|_| {
                ApiError::bad_request("stdin_base64 must be base64")
            })?))
        }
        (None, None) => None,
    };
    Ok(Parsed { req, stdin })
}

/// Cancels a job when dropped, unless disarmed: a caller that goes away
/// (its request future dropped) cancels its line.
struct CancelOnDrop(Option<Arc<Job>>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(j) = self.0.take()
            && !j.is_finished()
        {
            tracing::info!(job = %j.id, "caller gone: cancelling its line");
            j.cancel();
        }
    }
}

fn job_header(job: &Job) -> (header::HeaderName, HeaderValue) {
    (
        header::HeaderName::from_static("x-mirage-job-id"),
        HeaderValue::from_str(&job.id).unwrap_or(HeaderValue::from_static("")),
    )
}

/// Records a job's end in the table and the metrics.
fn finish(state: &Shared, job: &Job, outcome: Result<Value, String>) {
    state.jobs.finish(job, outcome);
    let status = job.state().status;
    state
        .metrics
        .jobs
        .get_or_create(&JobLabels {
            status: status.as_str().to_string(),
        })
        .inc();
}

/// Runs `line` as `job`, collecting its output.
async fn run_collected(
    state: Shared,
    entry: Arc<WsEntry>,
    job: Arc<Job>,
    line: String,
    stdin: Option<Bytes>,
) {
    if !job.start() {
        finish(&state, &job, Err("canceled before it started".into()));
        return;
    }
    let span = tracing::info_span!("line", workspace = %entry.id, session = %job.session_id, job = %job.id);
    let out = entry
        .ws
        .execute_cancellable(&job.session_id, &line, stdin, job.token.clone())
        .instrument(span)
        .await;
    state.metrics.lines.inc();
    entry.touch();
    match out {
        Ok(o) => finish(&state, &job, Ok(result_json(&o))),
        Err(e) => finish(&state, &job, Err(entry.scrub(&e.to_string()))),
    }
}

/// `POST /v1/workspaces/{id}/shell` and `/execute`: see the module docs.
/// Errors: 404 for an unknown workspace or session, 400 for a bad body or
/// `stream` with `background`.
pub async fn shell(
    State(state): State<Shared>,
    Path(workspace_id): Path<String>,
    Query(q): Query<ShellQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let entry = state.get(&workspace_id)?;
    if q.stream && (q.background || q.explain) {
        return Err(ApiError::bad_request(
            "stream cannot be combined with background or explain",
        ));
    }
    if q.explain {
        return Err(ApiError::bad_request(
            "explain is not supported by this daemon",
        ));
    }
    let Parsed { req, stdin } = parse_request(&headers, &body)?;
    if let Some(r) = req.runtime.as_deref().filter(|r| *r != "shell") {
        return Err(ApiError::bad_request(format!("unknown runtime: {r:?}")));
    }
    let session = q
        .session_id
        .clone()
        .or_else(|| req.session_id.clone())
        .unwrap_or_else(|| entry.default_session());
    if !entry.has_session(&session) {
        return Err(ApiError::not_found("session not found"));
    }
    let line = line_of(&req)?;
    let job = state
        .jobs
        .submit(&workspace_id, &session, &req.command, q.background);
    if q.stream {
        return Ok(stream_line(state, entry, job, line, stdin));
    }
    tokio::spawn(run_collected(
        state.clone(),
        entry,
        job.clone(),
        line,
        stdin,
    ));
    if q.background {
        let body = json!({
            "job_id": job.id,
            "workspace_id": workspace_id,
            "submitted_at": job.submitted_at,
        });
        return Ok((StatusCode::ACCEPTED, [job_header(&job)], Json(body)).into_response());
    }
    let guard = CancelOnDrop(Some(job.clone()));
    job.wait(None).await;
    guard.disarm();
    let s = job.state();
    match s.status {
        JobStatus::Canceled => Err(ApiError::new(
            StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            "job canceled",
        )),
        JobStatus::Failed => Err(ApiError::internal(
            s.error.unwrap_or_else(|| "shell failed".into()),
        )),
        _ => Ok(([job_header(&job)], Json(s.result.unwrap_or(Value::Null))).into_response()),
    }
}

/// One NDJSON output record (stream.py's `ShellOutput._emit`).
fn record(stream: &str, data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(PAYLOAD_SIZE) {
        let r = json!({"stream": stream, "data": B64.encode(chunk)});
        out.extend_from_slice(r.to_string().as_bytes());
        out.push(b'\n');
    }
}

struct StreamState {
    /// Output blocks tagged 1 (stdout) or 2 (stderr), in the order written.
    rx: mpsc::Receiver<(u8, Bytes)>,
    job: Arc<Job>,
    guard: Option<CancelOnDrop>,
    done: bool,
    /// Output bytes forwarded, for the history's `bytes_out`.
    bytes: u64,
    entry: Arc<WsEntry>,
    line: String,
}

/// `?stream=true`: runs the line with its output sent through pipes, and
/// answers NDJSON records as the output comes.
fn stream_line(
    state: Shared,
    entry: Arc<WsEntry>,
    job: Arc<Job>,
    line: String,
    stdin: Option<Bytes>,
) -> Response {
    // one channel for both streams keeps their blocks in the order the
    // line wrote them
    let (tx, rx) = mpsc::channel::<(u8, Bytes)>(16);
    let j = job.clone();
    let e2 = entry.clone();
    let line2 = line.clone();
    tokio::spawn(async move {
        if !j.start() {
            finish(&state, &j, Err("canceled before it started".into()));
            return;
        }
        let input = match stdin {
            Some(b) => Input::from_source(ByteSource::Bytes(b)),
            None => Input::empty(),
        };
        let span = tracing::info_span!("line", workspace = %entry.id, session = %j.session_id, job = %j.id);
        let code = entry
            .ws
            .execute_streaming_cancellable(
                &j.session_id,
                &line,
                input,
                Sink::Tagged(tx.clone(), 1),
                Sink::Tagged(tx, 2),
                j.token.clone(),
            )
            .instrument(span)
            .await;
        state.metrics.lines.inc();
        entry.touch();
        match code {
            Ok(c) => finish(
                &state,
                &j,
                Ok(result_json(&ExecOutput {
                    exit_code: c,
                    ..Default::default()
                })),
            ),
            Err(e) => finish(&state, &j, Err(entry.scrub(&e.to_string()))),
        }
    });
    let st = StreamState {
        rx,
        guard: Some(CancelOnDrop(Some(job.clone()))),
        job: job.clone(),
        done: false,
        bytes: 0,
        entry: e2,
        line: line2,
    };
    let stream = futures::stream::unfold(st, |mut st| async move {
        if st.done {
            return None;
        }
        let mut buf = Vec::new();
        if let Some((tag, b)) = st.rx.recv().await {
            st.bytes += b.len() as u64;
            record(if tag == 1 { "stdout" } else { "stderr" }, &b, &mut buf);
            // gather what is already waiting into the same response chunk
            while buf.len() < 64 * 1024 {
                let Ok((tag, b)) = st.rx.try_recv() else {
                    break;
                };
                st.bytes += b.len() as u64;
                record(if tag == 1 { "stdout" } else { "stderr" }, &b, &mut buf);
            }
            return Some((Ok::<_, std::convert::Infallible>(Bytes::from(buf)), st));
        }
        // both pipes closed: the line has ended (or is ending)
        st.job.wait(None).await;
        if let Some(g) = st.guard.take() {
            g.disarm();
        }
        let sid = &st.job.session_id;
        let _ = st.entry.ws.note_bytes_out(sid, &st.line, st.bytes);
        let s = st.job.state();
        let terminal = json!({
            "status": match s.status { JobStatus::Done => "done", JobStatus::Canceled => "canceled", _ => "failed" },
            "result": s.result,
            "error": s.error,
        });
        buf.extend_from_slice(terminal.to_string().as_bytes());
        buf.push(b'\n');
        st.done = true;
        Some((Ok(Bytes::from(buf)), st))
    });
    let (k, v) = job_header(&job);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(k, v)
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| ApiError::internal("stream").into_response())
}

/// The query of `GET /v1/jobs`.
#[derive(Debug, Default, Deserialize)]
pub struct JobsQuery {
    /// Only this workspace's jobs.
    #[serde(default)]
    pub workspace_id: Option<String>,
}

/// `GET /v1/jobs`: every job's brief (`?workspace_id=` to filter), oldest
/// first.
pub async fn list_jobs(
    State(state): State<Shared>,
    Query(q): Query<JobsQuery>,
) -> Json<Vec<crate::jobs::JobBrief>> {
    Json(
        state
            .jobs
            .list(q.workspace_id.as_deref())
            .iter()
            .map(|j| j.brief())
            .collect(),
    )
}

fn require_job(state: &Shared, id: &str) -> ApiResult<Arc<Job>> {
    state
        .jobs
        .get(id)
        .ok_or_else(|| ApiError::not_found("job not found"))
}

/// `GET /v1/jobs/{job_id}`: the job with its result. 404 `job not found`.
pub async fn get_job(
    State(state): State<Shared>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<crate::jobs::JobDetail>> {
    Ok(Json(require_job(&state, &job_id)?.detail()))
}

/// The body of a wait.
#[derive(Debug, Default, Deserialize)]
pub struct WaitRequest {
    /// Seconds to wait at most (the model product's name).
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// The same, as `daemon-api.md` spells it.
    #[serde(default)]
    pub timeout: Option<f64>,
}

/// `POST /v1/jobs/{job_id}/wait` `{timeout_s?}`: waits until the job ends
/// or the timeout passes, and answers its detail as it then stands.
pub async fn wait_job(
    State(state): State<Shared>,
    Path(job_id): Path<String>,
    Query(q): Query<WaitRequest>,
    body: Bytes,
) -> ApiResult<Json<crate::jobs::JobDetail>> {
    let job = require_job(&state, &job_id)?;
    let req: WaitRequest = parse_body(&body, "wait request")?;
    let t = req.timeout_s.or(req.timeout).or(q.timeout_s).or(q.timeout);
    let t = match t {
        Some(s) if s.is_finite() => Some(Duration::from_secs_f64(s.clamp(0.0, 1e9))),
        Some(_) => return Err(ApiError::bad_request("timeout must be a number of seconds")),
        None => None,
    };
    job.wait(t).await;
    Ok(Json(job.detail()))
}

/// `DELETE /v1/jobs/{job_id}` (also `POST …/cancel`): cancels it through
/// its cancellation handle; `{job_id, canceled}` (`false` when it had
/// ended).
pub async fn cancel_job(
    State(state): State<Shared>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let job = require_job(&state, &job_id)?;
    let canceled = job.cancel();
    Ok(Json(json!({"job_id": job_id, "canceled": canceled})))
}
