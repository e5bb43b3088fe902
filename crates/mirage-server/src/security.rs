//! The middleware every request passes: the `Host` check against DNS
//! rebinding (as the model product's host_validation.py), the bearer
//! token compared in constant time (`subtle`), JSON error bodies for the
//! errors axum itself answers (a body over the limit is 413 `{"detail":
//! …}`), and per-request tracing spans and metrics.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tracing::Instrument;

use crate::error::ApiError;
use crate::metrics::{RequestLabels, RouteLabels};
use crate::state::Shared;

/// The paths served without a token.
pub const PUBLIC_PATHS: &[&str] = &["/v1/health"];

/// The host of a `Host` header value without its port or IPv6 brackets
/// (`[::1]:8765` → `::1`); a malformed value is returned unchanged, so the
/// allowlist comparison fails closed.
pub fn strip_port(raw: &str) -> &str {
    if let Some(rest) = raw.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']')
            && (after.is_empty()
                || after
                    .strip_prefix(':')
                    .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        {
            return host;
        }
        return raw;
    }
    match raw.split_once(':') {
        None => raw,
        Some((host, port))
            if !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        Some(_) => raw,
    }
}

/// Whether a `Host` header value is admitted by `allowed` (`"*"` admits any).
pub fn host_allowed(raw: Option<&str>, allowed: &[String]) -> bool {
    if allowed.iter().any(|h| h == "*") {
        return true;
    }
    match raw {
        Some(r) if !r.is_empty() => {
            let h = strip_port(r);
            allowed.iter().any(|a| a.eq_ignore_ascii_case(h))
        }
        _ => false,
    }
}

/// The `Host` check, then the bearer token (every path but
/// [`PUBLIC_PATHS`]): `Some(refusal)` for a refused request. A refused
/// host is 400 `Invalid host header`; a missing or wrong token 401 with
/// `WWW-Authenticate: Bearer`.
pub fn check(state: &Shared, req: &Request) -> Option<Response> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        });
    if !host_allowed(host, &state.settings.allowed_hosts) {
        tracing::warn!(host = ?host, "rejecting request: Host not in the allowlist");
        return Some(ApiError::bad_request("Invalid host header").into_response());
    }
    let token = state.settings.token.as_bytes();
    if !token.is_empty() && !PUBLIC_PATHS.contains(&req.uri().path()) {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        if given.is_empty() {
            tracing::warn!("rejecting request: missing bearer token");
            return Some(
                ApiError::new(StatusCode::UNAUTHORIZED, "missing bearer token").into_response(),
            );
        }
        if !bool::from(given.as_bytes().ct_eq(token)) {
            tracing::warn!("rejecting request: bearer mismatch");
            return Some(
                ApiError::new(StatusCode::UNAUTHORIZED, "bearer mismatch").into_response(),
            );
        }
    }
    None
}

/// The route pattern of a path: each workspace, session, job and VFS
/// call name replaced by its placeholder
/// (`/v1/workspaces/w1/sessions/a` → `/v1/workspaces/{workspace_id}/sessions/{session_id}`),
/// so that metric labels stay few.
pub fn route_of(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        let prev = if i > 0 { segs[i - 1] } else { "" };
        let placeholder = match prev {
            "workspaces" if *s != "load" => Some("{workspace_id}"),
            "sessions" => Some("{session_id}"),
            "jobs" => Some("{job_id}"),
            "vfs" => Some("{call}"),
            _ => None,
        };
        out.push(placeholder.unwrap_or(s));
    }
    let r = out.join("/");
    if ROUTES.contains(&r.as_str()) {
        r
    } else {
        "other".to_string()
    }
}

/// Every route pattern the daemon serves (others are labelled `other`).
pub const ROUTES: &[&str] = &[
    "/v1/health",
    "/v1/shutdown",
    "/metrics",
    "/v1/workspaces",
    "/v1/workspaces/load",
    "/v1/workspaces/{workspace_id}",
    "/v1/workspaces/{workspace_id}/close",
    "/v1/workspaces/{workspace_id}/cancel",
    "/v1/workspaces/{workspace_id}/kill",
    "/v1/workspaces/{workspace_id}/clone",
    "/v1/workspaces/{workspace_id}/snapshot",
    "/v1/workspaces/{workspace_id}/history",
    "/v1/workspaces/{workspace_id}/sessions",
    "/v1/workspaces/{workspace_id}/sessions/{session_id}",
    "/v1/workspaces/{workspace_id}/sessions/{session_id}/cancel",
    "/v1/workspaces/{workspace_id}/sessions/{session_id}/kill",
    "/v1/workspaces/{workspace_id}/shell",
    "/v1/workspaces/{workspace_id}/execute",
    "/v1/workspaces/{workspace_id}/glob",
    "/v1/workspaces/{workspace_id}/vfs/{call}",
    "/v1/jobs",
    "/v1/jobs/{job_id}",
    "/v1/jobs/{job_id}/wait",
    "/v1/jobs/{job_id}/cancel",
];

/// The one middleware every request passes: a tracing span, the
/// [`check`] (Host, token), the handler, JSON error bodies for axum's own
/// errors ([`json_error_body`]), and the request metrics (count by route,
/// method and status; latency by route).
pub async fn front(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let route = route_of(req.uri().path());
    let method = req.method().as_str().to_string();
    let span = tracing::info_span!("request", method = %method, route = %route);
    let t0 = Instant::now();
    let resp = async {
        if let Some(refused) = check(&state, &req) {
            return refused;
        }
        json_error_body(next.run(req).await).await
    }
    .instrument(span)
    .await;
    let m = &state.metrics;
    m.latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(t0.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}

/// Rewrites an error reply that is not JSON (axum's own: a body over the
/// limit, a bad query string, a wrong method) as `{"detail": TEXT}`.
pub async fn json_error_body(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = match axum::body::to_bytes(body, 64 << 10).await {
        Ok(b) => mirage::types::bytestr::decode(&b).into_owned(),
        Err(_) => String::new(),
    };
    let detail = match (status, text.trim()) {
        (StatusCode::PAYLOAD_TOO_LARGE, _) => "request body too large".to_string(),
        (_, "") => status.canonical_reason().unwrap_or("error").to_string(),
        (_, t) => t.to_string(),
    };
    let mut r = ApiError::new(status, detail).into_response();
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            r.headers_mut().insert(k.clone(), v.clone());
        }
    }
    r
}

/// 404 `{"detail": "Not Found"}` for a path no route serves.
pub async fn not_found() -> Response {
    ApiError::not_found("Not Found").into_response()
}

/// An empty 204, for handlers that answer nothing.
pub fn no_content() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default()
}
