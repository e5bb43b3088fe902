//! The workspace's network: an allow-list of URL prefixes and methods
//! (`network:` in the config), in front of a real HTTP client (reqwest).
//!
//! With no rule, a workspace has no network: its commands get no
//! [`Network`] at all, and `curl`/`wget` fail without connecting. Each
//! request, and each redirect hop a command follows, is checked before a
//! connection is made:
//!
//! - the URL is parsed and normalised first (`/v1/../admin` is `/admin`),
//!   and only `http` and `https` are spoken (TLS through rustls, the
//!   platform's roots); another scheme is an unsupported protocol;
//! - a rule matches when the scheme, host and port are equal and the path
//!   is under the rule's path: `http://h/api/` admits `/api/x`; `http://h/api`
//!   admits `/api` and `/api/x` but not `/apix`;
//! - the rule's `methods` (default `GET` and `HEAD`) must name the method;
//! - the rule's `headers` are added to the request (replacing a header of
//!   the same name the command set). They never reach the command, the
//!   output or the history, and a snapshot carries them redacted.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use mirage_types::net::{HttpRequest, HttpResponse, NetError, NetErrorKind, Network};
use mirage_types::{ByteSource, Error, ErrorKind, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `network:` section of a workspace config.
///
/// ```yaml
/// network:
///   allow:
///     - url: http://127.0.0.1:8080/api/
///       methods: [GET, POST]
///       headers:
///         Authorization: "Bearer ${API_TOKEN}"
///   timeout: 30
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The URL prefixes commands may reach. Empty (the default): no network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<AllowRule>,
    /// Seconds one request may take, connection to last byte (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

/// One entry of `network.allow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowRule {
    /// The URL prefix: scheme, host, optional port and path
    /// (`https://api.example.com/v1/`).
    pub url: String,
    /// The methods allowed (upper case; default `GET` and `HEAD`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Headers added to every request under this prefix (a token). Their
    /// values are secrets: redacted in snapshots and replies.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A parsed rule.
#[derive(Debug)]
struct Rule {
    scheme: String,
    host: String,
    port: Option<u16>,
    path: String,
    methods: Vec<String>,
    headers: Vec<(String, String)>,
}

impl Rule {
    fn matches(&self, u: &url::Url) -> bool {
        if u.scheme() != self.scheme
            || u.host_str().map(str::to_ascii_lowercase).as_deref() != Some(self.host.as_str())
            || u.port_or_known_default() != self.port
        {
            return false;
        }
        let path = u.path();
        if self.path.ends_with('/') {
            path.starts_with(&self.path)
        } else {
            path == self.path
                || path
                    .strip_prefix(&self.path)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    }
}

/// The [`Network`] of a workspace: its allow-list over a reqwest client.
#[derive(Debug)]
pub struct AllowListNetwork {
    rules: Vec<Rule>,
    client: reqwest::Client,
}

impl AllowListNetwork {
    /// The network `cfg` describes; `None` when it allows nothing. Errors
    /// (`InvalidInput`): a rule whose URL does not parse or is not `http`
    /// or `https`, a method or header that is not valid.
    pub fn from_config(cfg: &NetworkConfig) -> Result<Option<AllowListNetwork>> {
        if cfg.allow.is_empty() {
            return Ok(None);
        }
        let mut rules = Vec::new();
        for (i, r) in cfg.allow.iter().enumerate() {
            let bad = |why: String| {
                Error::msg(
                    ErrorKind::InvalidInput,
                    format!("network.allow[{i}]: {why}"),
                )
            };
            let u = url::Url::parse(&r.url).map_err(|e| bad(format!("url '{}': {e}", r.url)))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err(bad(format!(
                    "url '{}': only http and https are supported",
                    r.url
                )));
            }
            let Some(host) = u.host_str() else {
                return Err(bad(format!("url '{}' has no host", r.url)));
            };
            let methods = if r.methods.is_empty() {
                vec!["GET".to_string(), "HEAD".to_string()]
            } else {
                r.methods.iter().map(|m| m.to_ascii_uppercase()).collect()
            };
            for m in &methods {
                reqwest::Method::from_bytes(m.as_bytes())
                    .map_err(|_| bad(format!("method '{m}' is not a valid HTTP method")))?;
            }
            for (k, v) in &r.headers {
                reqwest::header::HeaderName::from_bytes(k.as_bytes())
                    .map_err(|_| bad(format!("header name '{k}' is not valid")))?;
                reqwest::header::HeaderValue::from_str(v)
                    .map_err(|_| bad(format!("the value of header '{k}' is not valid")))?;
            }
            rules.push(Rule {
                scheme: u.scheme().to_string(),
                host: host.to_ascii_lowercase(),
                port: u.port_or_known_default(),
                path: u.path().to_string(),
                methods,
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
        }
        let timeout = Duration::from_secs_f64(cfg.timeout.unwrap_or(30.0).clamp(0.001, 86_400.0));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| Error::msg(ErrorKind::Io, format!("network: {e}")))?;
        Ok(Some(AllowListNetwork { rules, client }))
    }

    /// The rule admitting `method` on `u`, if any.
    fn rule_for(&self, method: &str, u: &url::Url) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.matches(u) && r.methods.iter().any(|m| m == method))
    }
}

/// Parses `url` as a command gives it (a missing scheme means `http://`,
/// as curl assumes).
fn parse_url(raw: &str) -> std::result::Result<url::Url, NetError> {
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let u = url::Url::parse(&with_scheme).map_err(|_| {
        NetError::new(
            NetErrorKind::BadUrl,
            "URL rejected: Malformed input to a URL function",
        )
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(NetError::new(
            NetErrorKind::BadUrl,
            format!("Protocol \"{}\" not supported", u.scheme()),
        ));
    }
    Ok(u)
}

#[async_trait]
impl Network for AllowListNetwork {
    fn allows(&self, method: &str, url: &str) -> bool {
        parse_url(url).is_ok_and(|u| self.rule_for(method, &u).is_some())
    }

    async fn fetch(&self, req: HttpRequest) -> std::result::Result<HttpResponse, NetError> {
        let u = parse_url(&req.url)?;
        let method = req.method.to_ascii_uppercase();
        let Some(rule) = self.rule_for(&method, &u) else {
            return Err(NetError::new(
                NetErrorKind::Denied,
                format!(
                    "{method} {} is not allowed by this workspace's network allow-list",
                    u.as_str()
                ),
            ));
        };
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| {
            NetError::new(NetErrorKind::BadUrl, format!("invalid method '{method}'"))
        })?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in req.headers.iter().chain(rule.headers.iter()) {
            let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                reqwest::header::HeaderValue::from_str(v),
            ) else {
                continue;
            };
            // a configured header replaces the command's of the same name
            headers.insert(name, value);
        }
        let mut rb = self.client.request(m, u.clone()).headers(headers);
        if let Some(b) = req.body {
            rb = rb.body(b);
        }
        let resp = rb.send().await.map_err(|e| transport_error(&e, &u))?;
        let status = resp.status();
        let version = match resp.version() {
            reqwest::Version::HTTP_09 => "HTTP/0.9",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            reqwest::Version::HTTP_2 => "HTTP/2",
            reqwest::Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/1.1",
        };
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .bytes_stream()
            .map(|r| r.map_err(|e| Error::msg(ErrorKind::Io, format!("transfer closed: {e}"))))
            .boxed();
        Ok(HttpResponse {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            version: version.to_string(),
            headers,
            body: ByteSource::Stream(body),
        })
    }
}

/// curl's wording for a failed transfer.
fn transport_error(e: &reqwest::Error, u: &url::Url) -> NetError {
    let host = u.host_str().unwrap_or("");
    let port = u.port_or_known_default().unwrap_or(80);
    if e.is_timeout() {
        NetError::new(NetErrorKind::Timeout, "Operation timed out".to_string())
    } else if e.is_connect() {
        NetError::new(
            NetErrorKind::Connect,
            format!("Failed to connect to {host} port {port}: Couldn't connect to server"),
        )
    } else {
        NetError::new(NetErrorKind::Other, format!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(url: &str, methods: &[&str]) -> AllowListNetwork {
        let cfg = NetworkConfig {
            allow: vec![AllowRule {
                url: url.into(),
                methods: methods.iter().map(ToString::to_string).collect(),
                headers: BTreeMap::new(),
            }],
            timeout: None,
        };
        AllowListNetwork::from_config(&cfg).unwrap().unwrap()
    }

    #[test]
    fn prefixes_match_by_path_segment_host_and_port() {
        let n = net("http://api.example.com/v1", &[]);
        assert!(n.allows("GET", "http://api.example.com/v1"));
        assert!(n.allows("GET", "http://API.example.com/v1/users?x=1"));
        assert!(n.allows("HEAD", "api.example.com/v1/x"));
        assert!(!n.allows("GET", "http://api.example.com/v1x"));
        assert!(!n.allows("GET", "http://api.example.com/v1/../admin"));
        assert!(!n.allows("GET", "http://api.example.com:81/v1"));
        assert!(!n.allows("GET", "http://api.example.com.evil.io/v1"));
        assert!(!n.allows("GET", "http://evil.io/http://api.example.com/v1"));
        assert!(!n.allows("POST", "http://api.example.com/v1"));
        assert!(!n.allows("GET", "https://api.example.com/v1"));
        let slash = net("http://h:8080/api/", &["post"]);
        assert!(slash.allows("POST", "http://h:8080/api/x"));
        assert!(!slash.allows("POST", "http://h:8080/api"));
        assert!(!slash.allows("GET", "http://h:8080/api/x"));
    }

    #[test]
    fn no_rule_is_no_network_and_bad_rules_are_named() {
        assert!(
            AllowListNetwork::from_config(&NetworkConfig::default())
                .unwrap()
                .is_none()
        );
        let bad = NetworkConfig {
            allow: vec![AllowRule {
                url: "ftp://x/".into(),
                ..Default::default()
            }],
            timeout: None,
        };
        let e = AllowListNetwork::from_config(&bad).unwrap_err();
        assert!(e.to_string().contains("network.allow[0]"), "{e}");
    }
}
