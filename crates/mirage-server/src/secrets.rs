//! Keeping a workspace config's credentials out of every reply, log line,
//! snapshot and history: the config is only ever shown or written
//! redacted (each credential value `"***"`), and any text sent about a
//! workspace is scrubbed of the values themselves.

use mirage::WorkspaceConfig;
use serde_json::Value;

/// What a redacted credential reads as.
pub const REDACTED: &str = mirage::workspace::config::REDACTED;

/// `cfg` with every credential value replaced by `"***"`
/// ([`WorkspaceConfig::redacted`]).
pub fn redacted(cfg: &WorkspaceConfig) -> WorkspaceConfig {
    cfg.redacted()
}

/// Every credential value of `cfg`: the strings its redacted form
/// replaces (at least 4 bytes long, so that scrubbing stays meaningful).
pub fn secret_values(cfg: &WorkspaceConfig) -> Vec<String> {
    let (Ok(a), Ok(b)) = (
        serde_json::to_value(cfg),
        serde_json::to_value(redacted(cfg)),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    diff(&a, &b, &mut out);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn diff(a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                if let Some(vb) = y.get(k) {
                    diff(va, vb, out);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (va, vb) in x.iter().zip(y) {
                diff(va, vb, out);
            }
        }
        (Value::String(x), Value::String(y)) if x != y && x.len() >= 4 => {
            out.push(x.clone());
            // a URL's password alone, too
            if let Some(pw) = url_password(x) {
                out.push(pw);
            }
        }
        _ => {}
    }
}

fn url_password(s: &str) -> Option<String> {
    let (_, rest) = s.split_once("://")?;
    let auth = rest.split(['/', '?', '#']).next()?;
    let (user, _) = auth.rsplit_once('@')?;
    let (_, pw) = user.split_once(':')?;
    (pw.len() >= 4).then(|| pw.to_string())
}

/// `text` with each of `secrets` replaced by `***`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut t = text.to_string();
    for s in secrets {
        if t.contains(s.as_str()) {
            t = t.replace(s.as_str(), REDACTED);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_and_scrubs_credentials() {
        let cfg: WorkspaceConfig = serde_json::from_value(serde_json::json!({
            "mounts": {"/s3": {"resource": "s3", "config": {
                "bucket": "logs",
                "aws_access_key_id": "AKIAEXAMPLE",
                "aws_secret_access_key": "s3cr3t-value"}}},
            "cache": {"type": "redis", "url": "redis://:hunter22@localhost:6379"}
        }))
        .unwrap();
        let s = secret_values(&cfg);
        assert!(s.contains(&"s3cr3t-value".to_string()), "{s:?}");
        assert!(s.contains(&"hunter22".to_string()), "{s:?}");
        let r = serde_json::to_string(&redacted(&cfg)).unwrap();
        assert!(!r.contains("s3cr3t") && !r.contains("hunter22"), "{r}");
        assert!(r.contains("logs"), "{r}");
        assert_eq!(scrub("x s3cr3t-value y", &s), "x *** y");
    }
}
