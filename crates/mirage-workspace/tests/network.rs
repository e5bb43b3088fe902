#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `curl` and `wget` behind the workspace's `network.allow` list, against
//! a real HTTP server on loopback that counts the requests it gets: an
//! allowed GET returns the body, a denied URL (or a workspace without
//! rules) makes no connection, redirects are checked hop by hop, and the
//! token the config injects never shows in stdout, stderr, the history or
//! a redacted config.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use mirage_workspace::{Workspace, WorkspaceConfig};

const TOKEN: &str = "s3cret-token-42";

/// A loopback HTTP/1.1 server: every connection counted; `Connection:
/// close` replies.
async fn server() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            h.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let head_end = loop {
                    let n = s.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = s.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let body = buf[head_end..].to_vec();
                let first = head.lines().next().unwrap_or("").to_string();
                let authed = head
                    .lines()
                    .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {TOKEN}")));
                let (status, extra, payload): (&str, String, Vec<u8>) =
                    match first.split(' ').take(2).collect::<Vec<_>>()[..] {
                        _ if !authed => ("401 Unauthorized", String::new(), b"no token\n".to_vec()),
                        ["GET", "/api/hello"] => ("200 OK", String::new(), b"hello\n".to_vec()),
                        ["GET", "/api/redirect"] => {
                            ("302 Found", "Location: /api/hello\r\n".into(), Vec::new())
                        }
                        ["GET", "/api/escape"] => {
                            ("302 Found", "Location: /private/x\r\n".into(), Vec::new())
                        }
                        ["POST", "/api/echo"] => ("200 OK", String::new(), body),
                        _ => ("404 Not Found", String::new(), b"nope\n".to_vec()),
                    };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                    payload.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.write_all(&payload).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (port, hits)
}

async fn ws(port: u16, with_rules: bool) -> (Workspace, WorkspaceConfig) {
    let net = if with_rules {
        format!(
            "network:\n  allow:\n    - url: http://127.0.0.1:{port}/api/\n      methods: [GET, POST]\n      headers:\n        Authorization: Bearer {TOKEN}\n"
        )
    } else {
        String::new()
    };
    let yaml = format!("mounts:\n  /data:\n    resource: ram\n    mode: write\n{net}");
    // link the RAM resource, whose registration `resource: ram` names
    let _ = mirage_resource_ram::RamResource::new;
    let cfg = WorkspaceConfig::from_yaml(&yaml).unwrap();
    (Workspace::from_config(&cfg).await.unwrap(), cfg)
}

async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let out = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.exit_code,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_requests_work_and_denied_ones_never_connect() {
    let (port, hits) = server().await;
    let (ws, cfg) = ws(port, true).await;
    let base = format!("http://127.0.0.1:{port}");

    // an allowed GET, with the injected token (the server answers 401 without it)
    let (out, err, code) = run(&ws, &format!("curl -s {base}/api/hello")).await;
    assert_eq!((out.as_str(), err.as_str(), code), ("hello\n", "", 0));
    let (out, _, code) = run(
        &ws,
        &format!("curl -s -o /data/h.txt -w '%{{http_code}}\\n' {base}/api/hello; cat /data/h.txt"),
    )
    .await;
    assert_eq!((out.as_str(), code), ("200\nhello\n", 0));
    let (out, _, _) = run(&ws, &format!("curl -si {base}/api/hello")).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nhello\n"), "{out}");
    // POST with data, redirects followed inside the list
    let (out, _, _) = run(&ws, &format!("curl -s -d a=1 -d b=2 {base}/api/echo")).await;
    assert_eq!(out, "a=1&b=2");
    let (out, _, code) = run(&ws, &format!("curl -sL {base}/api/redirect")).await;
    assert_eq!((out.as_str(), code), ("hello\n", 0));
    // -f on a 404
    let (out, err, code) = run(&ws, &format!("curl -sSf {base}/api/missing")).await;
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "curl: (22) The requested URL returned error: 404\n", 22)
    );
    // wget
    let (out, _, code) = run(&ws, &format!("wget -q -O - {base}/api/hello")).await;
    assert_eq!((out.as_str(), code), ("hello\n", 0));
    let (out, _, code) = run(
        &ws,
        &format!(
            "cd /data && wget -q {base}/api/hello && wget -q {base}/api/hello && cat hello hello.1"
        ),
    )
    .await;
    assert_eq!((out.as_str(), code), ("hello\nhello\n", 0));
    let (_, _, code) = run(&ws, &format!("wget -q -O - {base}/api/missing")).await;
    assert_eq!(code, 8);

    // denied: another path, a method not listed, a redirect out of the list
    let before = hits.load(Ordering::SeqCst);
    let (out, err, code) = run(&ws, &format!("curl -sS {base}/private/x")).await;
    assert_eq!((out.as_str(), code), ("", 7));
    assert!(err.contains("not allowed"), "{err}");
    let (_, _, code) = run(&ws, &format!("curl -s -X DELETE {base}/api/hello")).await;
    assert_eq!(code, 7);
    let (_, _, code) = run(&ws, &format!("curl -s {base}/api/../private/x")).await;
    assert_eq!(code, 7);
    let (_, err, code) = run(&ws, &format!("wget -q -O - {base}/private/x")).await;
    assert_eq!(code, 4, "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        before,
        "a denied request connected"
    );
    let (_, err, code) = run(&ws, &format!("curl -sSL {base}/api/escape")).await;
    assert_eq!(code, 7, "{err}");
    // only the first hop connected
    assert_eq!(hits.load(Ordering::SeqCst), before + 1);

    // the token shows nowhere: outputs above, history, the redacted config
    let (out, err, _) = run(&ws, &format!("curl -si {base}/api/hello; history; env")).await;
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN));
    for e in ws.history("default").unwrap() {
        assert!(!e.line.contains(TOKEN));
    }
    let red = serde_json::to_string(&cfg.redacted()).unwrap();
    assert!(!red.contains(TOKEN), "{red}");
    assert!(red.contains("***"), "{red}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rules_means_no_network() {
    let (port, hits) = server().await;
    let (ws, _) = ws(port, false).await;
    let (out, err, code) = run(&ws, &format!("curl http://127.0.0.1:{port}/api/hello")).await;
    assert_eq!((out.as_str(), code), ("", 7));
    assert!(err.starts_with("curl: (7) network access is off"), "{err}");
    let (_, _, code) = run(&ws, &format!("wget -O - http://127.0.0.1:{port}/api/hello")).await;
    assert_eq!(code, 4);
    let (_, err, code) = run(&ws, "curl").await;
    assert_eq!(code, 2);
    assert!(err.starts_with("curl: no URL specified!"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}
