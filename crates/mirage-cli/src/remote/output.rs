//! How remote commands print: the daemon's JSON reply with `--json`, a
//! human rendering (tables as the model product's CLI draws them) otherwise.

use std::io::Write;

use serde_json::Value;

/// Prints `v` as pretty JSON when `json`, else `human(v)` (nothing when it
/// renders empty).
pub fn emit(json: bool, v: &Value, human: impl FnOnce(&Value) -> String) -> anyhow::Result<()> {
    let mut so = std::io::stdout().lock();
    if json {
        writeln!(so, "{}", serde_json::to_string_pretty(v)?)?;
    } else {
        let text = human(v);
        if !text.is_empty() {
            writeln!(so, "{}", text.trim_end_matches('\n'))?;
        }
    }
    so.flush()?;
    Ok(())
}

/// `v[key]` as display text: a string as is, `-` for null or missing,
/// anything else as JSON.
pub fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "-".into(),
        Some(o) => o.to_string(),
    }
}

/// A left-aligned table with two-space gutters (the headers alone when
/// there are no rows).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            let pad = widths[i].saturating_sub(c.chars().count());
            s.extend(std::iter::repeat_n(' ', pad));
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    for r in rows {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

/// How long ago a Unix time (seconds, as the daemon's `created_at`) was:
/// `42s`, `3m`, `5h`, `2d`; `-` when `v` is not a number.
pub fn age(v: Option<&Value>) -> String {
    let Some(t) = v.and_then(Value::as_f64) else {
        return "-".into();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(t);
    let d = (now - t).max(0.0) as u64;
    match d {
        0..60 => format!("{d}s"),
        60..3600 => format!("{}m", d / 60),
        3600..86400 => format!("{}h", d / 3600),
        _ => format!("{}d", d / 86400),
    }
}

/// A duration in seconds as `42s`, `3m`, `5h`, `2d`.
pub fn span(secs: f64) -> String {
    let d = secs.max(0.0) as u64;
    match d {
        0..60 => format!("{d}s"),
        60..3600 => format!("{}m", d / 60),
        3600..86400 => format!("{}h", d / 3600),
        _ => format!("{}d", d / 86400),
    }
}

/// The bytes of a result's `stdout` or `stderr`: text as is, or decoded
/// base64 when the result flags it (`<key>_encoding: "base64"`, as our
/// daemon marks bytes that are not UTF-8, or `<key>_base64: true`).
pub fn stream_bytes(result: &Value, key: &str) -> Vec<u8> {
    use base64::Engine;
    let Some(s) = result.get(key).and_then(Value::as_str) else {
        return Vec::new();
    };
    let flagged = result
        .get(format!("{key}_base64"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || result
            .get(format!("{key}_encoding"))
            .and_then(Value::as_str)
            == Some("base64");
    if flagged && let Ok(b) = base64::engine::general_purpose::STANDARD.decode(s) {
        return b;
    }
    s.as_bytes().to_vec()
}

/// The exit status a line's result gives (`exit_code`, clamped to
/// 0..=255), or for a job 2 when it failed or was canceled without one.
pub fn exit_code(reply: &Value) -> i32 {
    let result = reply
        .get("result")
        .filter(|r| r.is_object())
        .unwrap_or(reply);
    if let Some(c) = result.get("exit_code").and_then(Value::as_f64)
        && c.is_finite()
    {
        return c.clamp(0.0, 255.0) as i32;
    }
    match reply.get("status").and_then(Value::as_str) {
        Some("failed" | "canceled" | "cancelled") => 2,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align() {
        let t = table(
            &["ID", "MODE"],
            &[
                vec!["a".into(), "write".into()],
                vec!["long-id".into(), "r".into()],
            ],
        );
        assert_eq!(t, "ID       MODE\na        write\nlong-id  r");
        assert_eq!(table(&["A", "B"], &[]), "A  B");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(&json!({"kind":"io","exit_code":3})), 3);
        assert_eq!(
            exit_code(&json!({"status":"done","result":{"exit_code":7}})),
            7
        );
        assert_eq!(exit_code(&json!({"status":"canceled","result":null})), 2);
        assert_eq!(exit_code(&json!({"status":"running"})), 0);
        assert_eq!(exit_code(&json!({"exit_code":300})), 255);
    }

    #[test]
    fn base64_streams() {
        let r = json!({"stdout":"aGkK","stdout_encoding":"base64","stderr":"x"});
        assert_eq!(stream_bytes(&r, "stdout"), b"hi\n");
        assert_eq!(stream_bytes(&r, "stderr"), b"x");
    }
}
