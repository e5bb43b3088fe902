//! The daemon's error replies: `{"detail": TEXT}` with the HTTP status, as
//! the model product's FastAPI `HTTPException`; a failed VFS call adds
//! `"errno"` (`"ENOENT"`, `"EROFS"`, …) as its routers/vfs.py does.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mirage::types::{Error as VfsError, ErrorKind};
use serde_json::json;

/// An error reply: a status, a human-readable `detail`, and for a VFS call
/// the errno name.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The text of the `detail` field.
    pub detail: String,
    /// The POSIX errno name of a failed VFS call (`"ENOENT"`).
    pub errno: Option<&'static str>,
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with `status` and `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            errno: None,
        }
    }
    /// 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    /// 409 Conflict.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    /// 422 Unprocessable Entity (an invalid workspace config).
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
    /// 500 Internal Server Error.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }
    /// A failed VFS call: the status and errno its kind maps to (as the
    /// model product's `STATUS` table: ENOENT 404, EACCES/EROFS 403,
    /// EEXIST/ENOTEMPTY 409, ENOTDIR/EISDIR/EINVAL/EXDEV/ELOOP/ENOTSUP 400,
    /// a conditional write's conflict 412, anything else 500 EIO) and the
    /// GNU message of the kind (never the backend's own text, which may
    /// carry a host path or a credential).
    pub fn vfs(e: &VfsError) -> Self {
        let (status, errno) = match e.kind {
            ErrorKind::NotFound => (404, "ENOENT"),
            ErrorKind::PermissionDenied => (403, "EACCES"),
            ErrorKind::ReadOnly => (403, "EROFS"),
            ErrorKind::AlreadyExists => (409, "EEXIST"),
            ErrorKind::DirectoryNotEmpty => (409, "ENOTEMPTY"),
            ErrorKind::NotADirectory => (400, "ENOTDIR"),
            ErrorKind::IsADirectory => (400, "EISDIR"),
            ErrorKind::InvalidInput => (400, "EINVAL"),
            ErrorKind::CrossDevice => (400, "EXDEV"),
            ErrorKind::TooManyLinks => (400, "ELOOP"),
            ErrorKind::Unsupported => (400, "ENOTSUP"),
            ErrorKind::Conflict => (412, "ECONFLICT"),
            ErrorKind::BrokenPipe => (500, "EPIPE"),
            _ => (500, "EIO"),
        };
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            detail: e.kind.gnu_message().to_string(),
            errno: Some(errno),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.errno {
            Some(errno) => json!({"detail": self.detail, "errno": errno}),
            None => json!({"detail": self.detail}),
        };
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Parses a JSON request body into `T`: 400 with serde's message (which
/// names the unknown or missing field) when it does not fit. An empty
/// body reads as `{}`.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> ApiResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("bad {what}: {e}")))
}
