//! The object_store client of a mount, the mapping of resource paths to
//! keys, the error mapping, and the few raw signed requests object_store
//! cannot send (a key ending in `/`, the directory markers).

use std::sync::Arc;

use mirage_types::{Error, ErrorKind, Result};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, S3ConditionalPut};
use object_store::client::{
    HttpClient, HttpConnector, HttpRequest, HttpRequestBody, ReqwestConnector,
};
use object_store::path::Path;
use object_store::{ClientOptions, RetryConfig};

use crate::config::Settings;

/// The client of one mount: object_store's [`AmazonS3`], plus a plain HTTP
/// client with the same options for the marker requests.
pub struct Accessor {
    /// The object_store client.
    pub store: Arc<AmazonS3>,
    http: HttpClient,
    /// `{endpoint}/{bucket}` (path style) or the virtual-hosted bucket URL.
    pub(crate) bucket_url: String,
    region: String,
    /// Whether requests are signed (false: no credentials anywhere).
    signed: bool,
    /// The normalised key prefix (`""` or ending with `/`).
    pub prefix: String,
    /// The registered resource name, for messages.
    pub name: &'static str,
}

impl std::fmt::Debug for Accessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accessor")
            .field("name", &self.name)
            .field("bucket_url", &self.bucket_url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Whether the environment holds AWS credentials object_store can use.
fn env_has_credentials() -> bool {
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}

impl Accessor {
    /// Builds the client. Errors: `InvalidInput` when object_store refuses
    /// the settings (a malformed endpoint or proxy URL).
    pub fn new(s: &Settings) -> Result<Self> {
        let name = s.resource;
        // `timeout` bounds connecting and each wait for data, as the model
        // product's botocore connect and read timeouts; not the whole
        // request, so a long streamed GET of a large object is not cut.
        let mut opts = ClientOptions::new()
            .with_timeout_disabled()
            .with_read_timeout(s.timeout)
            .with_connect_timeout(s.timeout);
        let http_endpoint = s
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        if http_endpoint {
            opts = opts.with_allow_http(true);
        }
        if let Some(p) = &s.proxy {
            opts = opts.with_proxy_url(p.expose());
        }
        if let Some(ct) = &s.content_type {
            opts = opts.with_default_content_type(ct);
        }
        let (mut b, signed) = match &s.credentials {
            Some(c) => {
                let mut b = AmazonS3Builder::new()
                    .with_access_key_id(c.key_id.expose())
                    .with_secret_access_key(c.secret.expose());
                if let Some(t) = &c.token {
                    b = b.with_token(t.expose());
                }
                (b, true)
            }
            None if env_has_credentials() => (AmazonS3Builder::from_env(), true),
            None => (AmazonS3Builder::new().with_skip_signature(true), false),
        };
        b = b
            .with_bucket_name(&s.bucket)
            .with_client_options(opts.clone())
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: s.timeout,
                ..RetryConfig::default()
            });
        let region = s
            .region
            .clone()
            .or_else(|| {
                if s.credentials.is_none() {
                    std::env::var("AWS_REGION")
                        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                        .ok()
                } else {
                    None
                }
            })
            .unwrap_or_else(|| "us-east-1".into());
        // The same region for object_store and for the marker requests.
        b = b.with_region(&region);
        let bucket_url = match (&s.endpoint, s.virtual_hosted) {
            (Some(e), _) => {
                b = b.with_endpoint(e);
                format!("{}/{}", e.trim_end_matches('/'), s.bucket)
            }
            (None, true) => {
                let url = format!("https://{}.s3.{region}.amazonaws.com", s.bucket);
                b = b
                    .with_endpoint(&url)
                    .with_virtual_hosted_style_request(true);
                url
            }
            (None, false) => format!("https://s3.{region}.amazonaws.com/{}", s.bucket),
        };
        let store = b.build().map_err(|e| {
            Error::msg(
                ErrorKind::InvalidInput,
                format!("{name}: invalid config: {e}"),
            )
        })?;
        let http = ReqwestConnector::default().connect(&opts).map_err(|e| {
            Error::msg(
                ErrorKind::InvalidInput,
                format!("{name}: invalid config: {e}"),
            )
        })?;
        Ok(Accessor {
            store: Arc::new(store),
            http,
            bucket_url,
            region,
            signed,
            prefix: s.key_prefix.clone(),
            name,
        })
    }

    /// Our error for an object_store error at `path` ([`map_err`]).
    pub fn err(&self, e: object_store::Error, path: &str) -> Error {
        map_err(self.name, &self.bucket_url, e, path)
    }

    /// The key of the resource path `path` (`/a/b.txt` → `{prefix}a/b.txt`;
    /// `/` → the prefix itself).
    pub fn key(&self, path: &str) -> String {
        format!("{}{}", self.prefix, path.trim_start_matches('/'))
    }

    /// The key prefix of the directory `path`, ending with `/` (`""` for
    /// the root without a key prefix).
    pub fn dir_prefix(&self, path: &str) -> String {
        let k = self.key(path);
        if k.is_empty() || k.ends_with('/') {
            k
        } else {
            format!("{k}/")
        }
    }

    /// The object_store location of the file `path`. Errors:
    /// `InvalidInput` for a name object_store cannot carry (a control
    /// character, `.`/`..`, an empty segment).
    pub fn location(&self, path: &str) -> Result<Path> {
        let key = self.key(path);
        if key.is_empty() || key.ends_with('/') {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        Path::parse(&key).map_err(|e| {
            Error::msg(
                ErrorKind::InvalidInput,
                format!("{}: invalid object key: {e}", self.name),
            )
            .with_path(path)
        })
    }

    /// Sends `method` (PUT, DELETE) for the raw key `key` with an empty
    /// body, signed as object_store signs; answers the HTTP status.
    /// Used for directory markers (`dir/`), which object_store's `Path`
    /// cannot name. Errors: `Remote` when the request cannot be sent.
    pub async fn raw(&self, method: &str, key: &str) -> Result<u16> {
        let url = format!("{}/{}", self.bucket_url, encode_key(key));
        let remote = |e: String| {
            Error::msg(
                ErrorKind::Remote { retryable: true },
                format!("{}: {method} {key}: {e}", self.name),
            )
        };
        let mut req = HttpRequest::new(HttpRequestBody::empty());
        *req.method_mut() = method.parse().map_err(|_| remote("bad method".into()))?;
        *req.uri_mut() = url.parse().map_err(|e| remote(format!("bad URL: {e}")))?;
        req.headers_mut().insert(
            "content-length",
            object_store::HeaderValue::from_static("0"),
        );
        if self.signed {
            let cred =
                object_store::CredentialProvider::get_credential(self.store.credentials().as_ref())
                    .await
                    .map_err(|e| self.err(e, key))?;
            AwsAuthorizer::new(&cred, "s3", &self.region)
                .try_authorize(&mut req, None)
                .map_err(|e| self.err(e, key))?;
        }
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| remote(e.to_string()))?;
        let status = resp.status().as_u16();
        match status {
            401 | 403 => Err(Error::msg(
                ErrorKind::PermissionDenied,
                format!("{}: {method} {key}: access denied ({status})", self.name),
            )),
            500..=599 => Err(Error::msg(
                ErrorKind::Remote { retryable: true },
                format!("{}: {method} {key}: server error {status}", self.name),
            )),
            _ => Ok(status),
        }
    }
}

/// Percent-encodes a key for a URL path: every byte but the unreserved
/// ones (`A-Z a-z 0-9 - . _ ~`) and `/`, as S3's SigV4 canonical URI.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Maps an object_store error to ours: `NotFound`; `Precondition` →
/// `Conflict`; `PermissionDenied`/`Unauthenticated` → `PermissionDenied`;
/// `AlreadyExists`; `NotSupported`/`NotImplemented` → `Unsupported`;
/// 5xx, timeouts and connection failures → `Remote { retryable: true }`;
/// the rest `Remote { retryable: false }`. `path` is the resource path
/// the error is reported at. object_store's messages carry no credentials
/// (request URLs only; presigned URLs are never used here).
/// A remote failure's message names the bucket URL (`s3:
/// http://127.0.0.1:9000/bkt: Connection refused (os error 111)`).
pub fn map_err(name: &str, url: &str, e: object_store::Error, path: &str) -> Error {
    use object_store::Error as E;
    let kind = match &e {
        E::NotFound { .. } => return Error::at(ErrorKind::NotFound, path),
        E::Precondition { .. } => return Error::at(ErrorKind::Conflict, path),
        E::AlreadyExists { .. } => return Error::at(ErrorKind::AlreadyExists, path),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => ErrorKind::PermissionDenied,
        E::NotSupported { .. } | E::NotImplemented { .. } => ErrorKind::Unsupported,
        E::InvalidPath { .. } => ErrorKind::InvalidInput,
        _ => {
            let text = error_chain(&e);
            let retryable = text.contains("status code: 5")
                || text.contains("timed out")
                || text.contains("timeout")
                || text.contains("error sending request")
                || text.contains("onnect")
                || text.contains("HTTP error");
            ErrorKind::Remote { retryable }
        }
    };
    let full = error_chain(&e);
    tracing::debug!(path, error = %full, "{name}: request failed");
    let msg = match kind {
        ErrorKind::Remote { .. } => format!("{name}: {url}: {}", root_cause(&e)),
        _ => format!("{name}: {}", root_cause(&e)),
    };
    Error::msg(kind, msg).with_path(path)
}

/// The error and its sources, joined by `: ` (deduplicated where a source
/// repeats its wrapper's text).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The innermost error's text (`Connection refused (os error 111)`,
/// `Server returned non-2xx status code: 503 ...`): what a user can act
/// on, without object_store's wrappers and retry bookkeeping.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(c) = cur.source() {
        cur = c;
    }
    let t = cur.to_string();
    if t.is_empty() { e.to_string() } else { t }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn keys_encoded() {
        assert_eq!(encode_key("a b/é%.txt"), "a%20b/%C3%A9%25.txt");
        assert_eq!(encode_key("d/"), "d/");
    }
}
