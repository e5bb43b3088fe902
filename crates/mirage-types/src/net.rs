//! The network door: the only way a command (`curl`, `wget`) reaches the
//! network. A workspace hands its commands a [`Network`] only when its
//! config allows some URLs; each request, and each hop of a redirect that
//! the command follows, is checked against that allow-list before any
//! connection is made.

use async_trait::async_trait;
use bytes::Bytes;

use crate::ByteSource;

/// One HTTP request a command makes.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// The method, upper case (`GET`, `POST`, `HEAD`, …).
    pub method: String,
    /// The absolute URL (`http://host:port/path?query`).
    pub url: String,
    /// Headers the command sets, in order (the network may add configured
    /// ones, which the command never sees).
    pub headers: Vec<(String, String)>,
    /// The request body, if any.
    pub body: Option<Bytes>,
}

/// The response to an [`HttpRequest`]: status line and headers as
/// received, the body as a stream (read it or drop it).
pub struct HttpResponse {
    /// The status code (200).
    pub status: u16,
    /// The status line's reason phrase (`OK`), as the status code's
    /// canonical reason.
    pub reason: String,
    /// The protocol version as curl prints it (`HTTP/1.1`, `HTTP/2`).
    pub version: String,
    /// The response headers, in order, names as received.
    pub headers: Vec<(String, String)>,
    /// The body, streamed.
    pub body: ByteSource,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request failed before a response came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetErrorKind {
    /// The workspace's allow-list does not admit this URL and method: no
    /// connection was made.
    Denied,
    /// The URL could not be parsed, or its scheme is not supported.
    BadUrl,
    /// The host name did not resolve.
    Resolve,
    /// The connection was refused or failed.
    Connect,
    /// The request timed out.
    Timeout,
    /// Any other failure (TLS, protocol, a body cut short).
    Other,
}

/// A failed request: its kind and a message in curl's words.
#[derive(Debug, Clone)]
pub struct NetError {
    /// What went wrong.
    pub kind: NetErrorKind,
    /// The message (without a `curl: (N)` prefix).
    pub message: String,
}

impl NetError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: NetErrorKind, message: impl Into<String>) -> Self {
        NetError {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The network as a workspace lets its commands see it.
#[async_trait]
pub trait Network: Send + Sync {
    /// Sends `req` (no redirect is followed: the caller asks again for the
    /// `Location`, and that URL is checked in turn). Errors: [`NetError`]
    /// with [`NetErrorKind::Denied`] when the allow-list refuses it (no
    /// connection is made), else the transport's failure.
    async fn fetch(&self, req: HttpRequest) -> Result<HttpResponse, NetError>;

    /// Whether `method` on `url` would be allowed (without sending it).
    fn allows(&self, method: &str, url: &str) -> bool;
}
