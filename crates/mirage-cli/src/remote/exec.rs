//! `mirage execute -w WS -c LINE` (and the model product's spelling
//! `mirage shell -w WS -c LINE`): one `POST /v1/workspaces/{id}/shell`,
//! streamed as NDJSON so output is printed as it comes; the CLI exits with
//! the line's status.

use std::io::{IsTerminal, Read, Write};

use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, fail, seg, with_query};
use crate::remote::output;

/// The largest NDJSON record accepted from the daemon (1 MiB, as the model
/// product's client).
const MAX_RECORD: usize = 1 << 20;

/// What `execute -w` sends.
pub struct RemoteLine {
    /// The workspace id.
    pub workspace: String,
    /// The session (none: the workspace's default).
    pub session: Option<String>,
    /// The working directory of this line only.
    pub cwd: Option<String>,
    /// `NAME=VALUE` variables of this line only.
    pub env: Vec<String>,
    /// The line.
    pub command: String,
    /// Run as a background job and print its id.
    pub background: bool,
    /// Print the result as one JSON object instead of streaming.
    pub json: bool,
    /// Forward our stdin when it is a pipe or a file.
    pub stdin: bool,
}

/// Whether stdin carries data for the line: not a terminal and not a
/// character device such as `/dev/null` (a pipe, a file, a socket).
fn stdin_has_data() -> bool {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return false;
    }
    match rustix::fs::fstat(&stdin) {
        Ok(st) => {
            let ty = rustix::fs::FileType::from_raw_mode(st.st_mode);
            !matches!(ty, rustix::fs::FileType::CharacterDevice)
        }
        Err(_) => false,
    }
}

/// The request body: the JSON `request` part and stdin, as the model
/// product's client sends them (`multipart/form-data`, stdin streamed as
/// it is read). Returns the body and its content type.
fn multipart(request: &Value) -> (reqwest::Body, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let boundary = format!("mirage-{}-{nanos:x}", std::process::id());
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"request\"; filename=\"request.json\"\r\n\
         Content-Type: application/json\r\n\r\n{request}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"stdin\"; filename=\"stdin.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    // a thread of its own: reading stdin blocks
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx
                            .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                            .is_err()
                        {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        break;
                    }
                }
            }
        });
    let body =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let stream = futures::stream::once(async move { Ok(Bytes::from(head)) })
        .chain(body)
        .chain(futures::stream::once(async move { Ok(Bytes::from(tail)) }));
    (
        reqwest::Body::wrap_stream(stream),
        format!("multipart/form-data; boundary={boundary}"),
    )
}

/// Runs the line on the daemon; returns the exit status to leave with.
pub async fn execute(client: &Client, line: RemoteLine) -> anyhow::Result<i32> {
    // Ctrl-C is taken over before the line starts: a SIGINT that comes as
    // soon as its first output shows must not kill the process with the
    // default action (the listener of `tokio::signal::ctrl_c` is set only
    // when it is first polled, which raced with the first output)
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut request = json!({ "command": line.command });
    if let Some(cwd) = &line.cwd {
        request["cwd"] = json!(cwd);
    }
    if !line.env.is_empty() {
        request["env"] = crate::remote::env_object(&line.env)?;
    }
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = &line.session {
        query.push(("session_id", s));
    }
    if line.background {
        query.push(("background", "true"));
    } else {
        query.push(("stream", "true"));
    }
    let path = format!("/v1/workspaces/{}/shell", seg(&line.workspace));
    let mut rb = client.request(Method::POST, &with_query(&path, &query));
    rb = if line.stdin && stdin_has_data() {
        let (body, ty) = multipart(&request);
        rb.header(reqwest::header::CONTENT_TYPE, ty).body(body)
    } else {
        rb.json(&request)
    };
    if line.background {
        let r = client.send(rb).await?;
        let v: Value = r.json().await?;
        output::emit(line.json, &v, |v| output::text(v, "job_id"))?;
        return Ok(0);
    }
    let r = match rb.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Err(client.no_daemon()),
        Err(e) => return Err(fail(1, format!("request to the daemon failed: {e}"))),
    };
    if r.status().as_u16() == 499 {
        return Ok(130);
    }
    if r.status().as_u16() >= 400 {
        return Err(client.refusal(r).await);
    }
    let mut captured = (Vec::new(), Vec::new());
    let reading = consume(r, |stream, data| {
        if line.json {
            if stream == Stream::Out {
                &mut captured.0
            } else {
                &mut captured.1
            }
            .extend_from_slice(data);
            return Ok(());
        }
        if stream == Stream::Out {
            let mut o = std::io::stdout().lock();
            o.write_all(data)?;
            o.flush()
        } else {
            let mut e = std::io::stderr().lock();
            e.write_all(data)?;
            e.flush()
        }
    });
    // Ctrl-C: leave with 130 (as bash reports an interrupted command); the
    // dropped connection cancels the line on the daemon
    let terminal = tokio::select! {
        t = reading => t,
        _ = interrupt.recv() => return Ok(130),
    };
    let terminal = match terminal {
        Ok(t) => t,
        Err(Consumed::BrokenPipe) => return Ok(141),
        Err(Consumed::Bad(msg)) => return Err(fail(2, msg)),
    };
    match terminal.get("status").and_then(Value::as_str) {
        Some("failed") => {
            return Err(fail(
                2,
                format!("the line failed: {}", output::text(&terminal, "error")),
            ));
        }
        Some("canceled" | "cancelled") => return Ok(130),
        _ => {}
    }
    let result = terminal.get("result").cloned().unwrap_or(Value::Null);
    let code = output::exit_code(&result);
    if line.json {
        let mut v = if result.is_object() {
            result
        } else {
            json!({})
        };
        put_stream(&mut v, "stdout", captured.0);
        put_stream(&mut v, "stderr", captured.1);
        output::emit(true, &v, |_| String::new())?;
    }
    Ok(code)
}

/// Sets `v[key]` to the bytes as text when they are UTF-8, else as base64
/// with `<key>_encoding: "base64"` (as the daemon's own replies carry them).
fn put_stream(v: &mut Value, key: &str, bytes: Vec<u8>) {
    match String::from_utf8(bytes) {
        Ok(s) => {
            v[key] = json!(s);
            if let Some(o) = v.as_object_mut() {
                o.remove(&format!("{key}_encoding"));
            }
        }
        Err(e) => {
            v[key] = json!(base64::engine::general_purpose::STANDARD.encode(e.as_bytes()));
            v[format!("{key}_encoding")] = json!("base64");
        }
    }
}

/// Which of the line's streams a chunk belongs to.
#[derive(PartialEq, Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Why a stream was not read to its completion record.
enum Consumed {
    /// Writing the output failed (the reader went away).
    BrokenPipe,
    /// The daemon's stream was malformed or cut short.
    Bad(String),
}

/// Reads the NDJSON reply: each `{"stream","data"}` record's bytes go to
/// `sink`; returns the completion record (`{"status","result","error"}`).
async fn consume(
    r: reqwest::Response,
    mut sink: impl FnMut(Stream, &[u8]) -> std::io::Result<()>,
) -> Result<Value, Consumed> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pending: Vec<u8> = Vec::new();
    let mut terminal: Option<Value> = None;
    let mut body = r.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| Consumed::Bad(format!("the daemon's stream broke off: {e}")))?;
        pending.extend_from_slice(&chunk);
        while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
            let rec: Vec<u8> = pending.drain(..=nl).collect();
            let rec = &rec[..rec.len() - 1];
            if rec.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let v: Value = serde_json::from_slice(rec)
                .map_err(|e| Consumed::Bad(format!("a bad record in the daemon's stream: {e}")))?;
            match v.get("stream").and_then(Value::as_str) {
                Some(s @ ("stdout" | "stderr")) => {
                    let data = v.get("data").and_then(Value::as_str).unwrap_or("");
                    let bytes = b64.decode(data).map_err(|e| {
                        Consumed::Bad(format!("bad bytes in the daemon's stream: {e}"))
                    })?;
                    let which = if s == "stdout" {
                        Stream::Out
                    } else {
                        Stream::Err
                    };
                    sink(which, &bytes).map_err(|_| Consumed::BrokenPipe)?;
                }
                _ if v.get("status").is_some() => terminal = Some(v),
                _ => {
                    return Err(Consumed::Bad(format!(
                        "an unknown record in the daemon's stream: {v}"
                    )));
                }
            }
        }
        if pending.len() > MAX_RECORD {
            return Err(Consumed::Bad(
                "a record of the daemon's stream is too large".into(),
            ));
        }
    }
    terminal.ok_or_else(|| {
        Consumed::Bad("the daemon's stream ended without a completion record".into())
    })
}
