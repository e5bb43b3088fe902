#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! No credential of a workspace config in any reply, log line, snapshot,
//! history or metric. Its own test binary: it installs a global tracing
//! subscriber that captures every log line.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mirage_server::DaemonSettings;
use serde_json::{Value, json};

const SECRET: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
const REDIS_PW: &str = "hunter2-redis-pw";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_leave_the_daemon() {
    let logs = Capture::default();
    let w = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || w.clone())
        .with_ansi(false)
        .init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut s = DaemonSettings::local();
    s.addr = addr;
    s.idle_grace = None;
    let handle = tokio::spawn(mirage_server::serve(listener, s));
    let url = format!("http://{addr}");
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let config = json!({
        "mounts": {
            "/data": {"resource": "ram", "mode": "write"},
            "/s3": {"resource": "s3", "mode": "read", "config": {
                "bucket": "logs",
                "region": "us-east-1",
                "endpoint_url": "http://127.0.0.1:9",
                "aws_access_key_id": "AKIDEXAMPLE",
                "aws_secret_access_key": SECRET
            }}
        },
        "cache": {"type": "ram"},
        "env": {"GREETING": "hello"}
    });
    let r = c
        .post(format!("{url}/v1/workspaces"))
        .json(&json!({"config": config, "id": "sec"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let created = r.text().await.unwrap();
    assert_eq!(status, 201, "{created}");
    // a config whose build fails carries the secret in its error path too
    let bad = json!({"mounts": {"/r": {"resource": "redis", "config": {
        "url": format!("redis://:{REDIS_PW}@127.0.0.1:1/0"), "colour": 1}}}});
    let r = c
        .post(format!("{url}/v1/workspaces"))
        .json(&json!({"config": bad}))
        .send()
        .await
        .unwrap();
    let failed = r.text().await.unwrap();
    let mut seen = vec![created, failed];
    for path in [
        "/v1/workspaces",
        "/v1/workspaces/sec",
        "/v1/workspaces/sec?verbose=true",
        "/v1/workspaces/sec/sessions",
        "/v1/jobs",
        "/metrics",
    ] {
        let r = c.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        seen.push(r.text().await.unwrap());
    }
    // a line that fails on the s3 mount, and its history
    let r = c
        .post(format!("{url}/v1/workspaces/sec/shell"))
        .json(&json!({"command": "ls /s3; cat /s3/x; echo $GREETING"}))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    seen.push(r.text().await.unwrap());
    let r = c
        .get(format!("{url}/v1/workspaces/sec/history"))
        .send()
        .await
        .unwrap();
    seen.push(r.text().await.unwrap());
    // the snapshot: config redacted
    let r = c
        .get(format!("{url}/v1/workspaces/sec/snapshot"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tar = r.bytes().await.unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let mut config_json = String::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let mut s = String::new();
        use std::io::Read;
        if e.read_to_string(&mut s).is_ok() && e.path().unwrap().to_str() == Some("config.json") {
            config_json = s.clone();
        }
        seen.push(s);
    }
    let cfg: Value = serde_json::from_str(&config_json).unwrap();
    assert_eq!(
        cfg["mounts"]["/s3"]["config"]["aws_secret_access_key"], "***",
        "{config_json}"
    );
    assert_eq!(cfg["mounts"]["/s3"]["config"]["bucket"], "logs");
    // loading it back needs the credential from the environment
    let r = c
        .post(format!("{url}/v1/workspaces/load?id=back"))
        .body(tar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let t = r.text().await.unwrap();
    assert!(t.contains("AWS_SECRET_ACCESS_KEY"), "{t}");
    seen.push(t);
    let r = c.post(format!("{url}/v1/shutdown")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let log = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("workspace created"),
        "the capture works: {log}"
    );
    seen.push(log);
    for (i, text) in seen.iter().enumerate() {
        assert!(!text.contains(SECRET), "credential in output {i}: {text}");
        assert!(
            !text.contains(REDIS_PW),
            "redis password in output {i}: {text}"
        );
    }
}
