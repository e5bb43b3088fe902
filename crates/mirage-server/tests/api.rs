#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The daemon's routes, driven over HTTP on 127.0.0.1:0 in-process.

use std::time::{Duration, Instant};

use mirage_server::DaemonSettings;
use serde_json::{Value, json};

struct Daemon {
    url: String,
    client: reqwest::Client,
    token: String,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Daemon {
    async fn start(f: impl FnOnce(&mut DaemonSettings)) -> Daemon {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut s = DaemonSettings::local();
        s.addr = addr;
        s.idle_grace = None;
        s.token = "test-token".into();
        f(&mut s);
        let token = s.token.clone();
        let handle = tokio::spawn(mirage_server::serve(listener, s));
        Daemon {
            url: format!("http://{addr}"),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            token,
            handle,
        }
    }
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(m, format!("{}{path}", self.url));
        if self.token.is_empty() {
            r
        } else {
            r.bearer_auth(&self.token)
        }
    }
    async fn call(&self, m: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.req(m, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }
    async fn shell(&self, ws: &str, session: &str, line: &str) -> Value {
        let (s, v) = self
            .post(
                &format!("/v1/workspaces/{ws}/shell?session_id={session}"),
                json!({"command": line}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }
    async fn stop(self) {
        let (s, v) = self.post("/v1/shutdown", json!({})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["status"], "shutting_down");
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("the daemon stops")
            .unwrap()
            .unwrap();
    }
}

fn ram_config() -> Value {
    json!({"mounts": {
        "/data": {"resource": "ram", "mode": "write"},
        "/ro": {"vfs": "ram", "mode": "read"}
    }})
}

async fn with_ws(d: &Daemon, id: &str) {
    let (s, v) = d
        .post("/v1/workspaces", json!({"config": ram_config(), "id": id}))
        .await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_auth_and_host_check() {
    let d = Daemon::start(|_| {}).await;
    let r = d
        .client
        .get(format!("{}/v1/health", d.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["workspaces"], 0);
    assert!(
        v["pid"].as_u64().is_some() && v["uptime_s"].as_f64().is_some(),
        "{v}"
    );
    // no token, a wrong token
    let r = d
        .client
        .get(format!("{}/v1/workspaces", d.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let v: Value = r.json().await.unwrap();
    assert!(v["detail"].is_string(), "{v}");
    let r = d
        .client
        .get(format!("{}/v1/workspaces", d.url))
        .bearer_auth("test-tokeN")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (s, v) = d.get("/v1/workspaces").await;
    assert_eq!((s, v), (200, json!([])));
    // DNS rebinding: a Host that is not loopback
    let r = d
        .req(reqwest::Method::GET, "/v1/workspaces")
        .header("host", "evil.example:8765")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["detail"], "Invalid host header");
    let r = d
        .req(reqwest::Method::GET, "/v1/health")
        .header("host", "localhost:1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // unknown route: JSON 404
    let (s, v) = d.get("/v1/nothing").await;
    assert_eq!(s, 404);
    assert!(v["detail"].is_string());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_lifecycle_and_errors() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w1").await;
    let (s, v) = d
        .post(
            "/v1/workspaces",
            json!({"config": ram_config(), "id": "w1"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["detail"], "workspace id already exists: 'w1'");
    let (s, v) = d
        .post(
            "/v1/workspaces",
            json!({"config": {"mounts": {"/d": {"resource": "ram", "colour": "red"}}}}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("colour"), "{v}");
    let (s, v) = d
        .post(
            "/v1/workspaces",
            json!({"config": {"mounts": {"/d": {"resource": "nosuch"}}}}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    let (s, _) = d.post("/v1/workspaces", json!({"id": "x"})).await;
    assert_eq!(s, 400);
    let (s, v) = d.get("/v1/workspaces").await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["id"], "w1");
    assert_eq!(v[0]["mount_count"], 2);
    assert_eq!(v[0]["mode"], "write");
    let (s, v) = d.get("/v1/workspaces/w1?verbose=true").await;
    assert_eq!(s, 200, "{v}");
    let mounts = v["mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 2, "{v}");
    assert_eq!(mounts[0]["prefix"], "/data");
    assert_eq!(mounts[0]["resource"], "ram");
    assert_eq!(mounts[1]["mode"], "read");
    assert_eq!(v["sessions"][0]["session_id"], "default");
    assert_eq!(v["internals"]["in_flight_jobs"], 0);
    let (s, v) = d.get("/v1/workspaces/nope").await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (404, Some("workspace not found"))
    );
    // clone: fresh RAM
    d.shell("w1", "default", "echo a > /data/a").await;
    let (s, v) = d.post("/v1/workspaces/w1/clone", json!({"id": "w2"})).await;
    assert_eq!(s, 201, "{v}");
    let out = d.shell("w2", "default", "ls /data | wc -l").await;
    assert_eq!(out["stdout"], "0\n");
    let (s, _) = d.post("/v1/workspaces/w1/clone", json!({"id": "w2"})).await;
    assert_eq!(s, 409);
    let (s, v) = d.delete("/v1/workspaces/w1").await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], "w1");
    let (s, _) = d.delete("/v1/workspaces/w1").await;
    assert_eq!(s, 404);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_keep_cwd_and_env_apart() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    for sid in ["a", "b"] {
        let (s, v) = d
            .post("/v1/workspaces/w/sessions", json!({"session_id": sid}))
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["session_id"], sid);
    }
    let (s, _) = d
        .post("/v1/workspaces/w/sessions", json!({"session_id": "a"}))
        .await;
    assert_eq!(s, 409);
    d.shell("w", "a", "mkdir -p /data/x && cd /data/x && export V=one")
        .await;
    let a = d.shell("w", "a", "pwd; echo \"[$V]\"").await;
    let b = d.shell("w", "b", "pwd; echo \"[$V]\"").await;
    assert_eq!(a["stdout"], "/data/x\n[one]\n");
    assert_eq!(b["stdout"], "/data\n[]\n");
    assert_eq!(a["kind"], "io");
    assert_eq!(a["exit_code"], 0);
    let (s, v) = d
        .call(
            reqwest::Method::PATCH,
            "/v1/workspaces/w/sessions/b",
            Some(json!({"cwd": "/data/x", "env": {"W": "two"}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["cwd"], "/data/x");
    let b = d.shell("w", "b", "pwd; echo \"[$W]\"").await;
    assert_eq!(b["stdout"], "/data/x\n[two]\n");
    let (s, _) = d
        .call(
            reqwest::Method::PATCH,
            "/v1/workspaces/w/sessions/b",
            Some(json!({"cwd": "/nope"})),
        )
        .await;
    assert_eq!(s, 422);
    let (s, v) = d.get("/v1/workspaces/w/sessions").await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    let (s, _) = d
        .post(
            "/v1/workspaces/w/shell?session_id=zz",
            json!({"command": "true"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, v) = d.delete("/v1/workspaces/w/sessions/a").await;
    assert_eq!((s, v), (200, json!({"session_id": "a"})));
    let (s, _) = d.delete("/v1/workspaces/w/sessions/a").await;
    assert_eq!(s, 404);
    // history
    let (s, v) = d.get("/v1/workspaces/w/history?session_id=b").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v[0]["line"], "pwd; echo \"[$V]\"");
    // the execute alias, stdin, non-UTF-8 output
    let (s, v) = d
        .post(
            "/v1/workspaces/w/execute",
            json!({"command": "cat; printf '\\377'", "stdin": "in\n"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stdout_encoding"], "base64");
    assert_eq!(v["stdout"], "aW4K/w==");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_background_wait_and_cancel() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    let r = d
        .req(
            reqwest::Method::POST,
            "/v1/workspaces/w/shell?background=true",
        )
        .json(&json!({"command": "sleep 0.2; echo bg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job_hdr = r.headers()["x-mirage-job-id"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    let job = v["job_id"].as_str().unwrap().to_string();
    assert_eq!(job, job_hdr);
    assert_eq!(v["workspace_id"], "w");
    let (s, v) = d
        .post(&format!("/v1/jobs/{job}/wait"), json!({"timeout_s": 10}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "done");
    assert_eq!(v["result"]["stdout"], "bg\n");
    let (s, v) = d.get("/v1/jobs?workspace_id=w").await;
    assert_eq!(s, 200);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|j| j["job_id"] == job.as_str())
    );
    let (s, _) = d.get("/v1/jobs/nope").await;
    assert_eq!(s, 404);
    // cancel a sleep 100 through its cancellation handle
    let (s, v) = d
        .post(
            "/v1/workspaces/w/shell?background=true",
            json!({"command": "sleep 100"}),
        )
        .await;
    assert_eq!(s, 202);
    let job = v["job_id"].as_str().unwrap().to_string();
    let (_, v) = d
        .post(&format!("/v1/jobs/{job}/wait"), json!({"timeout_s": 0.2}))
        .await;
    assert_eq!(v["status"], "running", "{v}");
    let t0 = Instant::now();
    let (s, v) = d.delete(&format!("/v1/jobs/{job}")).await;
    assert_eq!((s, v["canceled"].as_bool()), (200, Some(true)));
    let (_, v) = d
        .post(&format!("/v1/jobs/{job}/wait"), json!({"timeout_s": 10}))
        .await;
    let took = t0.elapsed();
    eprintln!("cancel of sleep 100 took {took:?}");
    assert_eq!(v["status"], "canceled", "{v}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // workspace cancel stops a running line
    let (_, v) = d
        .post(
            "/v1/workspaces/w/shell?background=true",
            json!({"command": "sleep 100"}),
        )
        .await;
    let job = v["job_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, v) = d.post("/v1/workspaces/w/cancel", json!({})).await;
    assert_eq!((s, v), (200, json!({"canceled": 1})));
    let (_, v) = d.get(&format!("/v1/jobs/{job}")).await;
    assert_eq!(v["status"], "canceled");
    // kill: background jobs
    let (_, v) = d
        .post(
            "/v1/workspaces/w/shell?background=true",
            json!({"command": "sleep 100"}),
        )
        .await;
    let job = v["job_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, v) = d.post("/v1/workspaces/w/kill", json!({})).await;
    assert_eq!(s, 200);
    assert!(v["killed"].as_u64().unwrap() >= 1, "{v}");
    let (_, v) = d.get(&format!("/v1/jobs/{job}")).await;
    assert_eq!(v["status"], "canceled");
    // a caller that goes away cancels its synchronous line
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/w/shell")
        .json(&json!({"command": "sleep 100"}))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.is_err());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, v) = d.get("/v1/jobs?workspace_id=w").await;
    let last = v.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["command"], "sleep 100");
    assert_eq!(last["status"], "canceled", "{last}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_line_is_ndjson() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/w/shell?stream=true")
        .json(&json!({"command": "echo hi; echo oops >&2; pwd; exit 3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = recs.last().unwrap();
    assert_eq!(last["status"], "done", "{text}");
    assert_eq!(last["result"]["exit_code"], 3);
    assert!(last["error"].is_null());
    use base64::Engine;
    let mut out = Vec::new();
    let mut err = Vec::new();
    for r in &recs[..recs.len() - 1] {
        let b = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        match r["stream"].as_str().unwrap() {
            "stdout" => out.extend(b),
            _ => err.extend(b),
        }
    }
    assert_eq!(out, b"hi\n/data\n");
    assert_eq!(err, b"oops\n");
    let (s, _) = d
        .post(
            "/v1/workspaces/w/shell?stream=true&background=true",
            json!({"command": "true"}),
        )
        .await;
    assert_eq!(s, 400);
    d.stop().await;
}

/// stdout and stderr records come in the order the line wrote them (one
/// channel carries both), run after run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_stdout_and_stderr_keep_their_order() {
    use base64::Engine;
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    for _ in 0..20 {
        let r = d
            .req(reqwest::Method::POST, "/v1/workspaces/w/shell?stream=true")
            .json(&json!({"command": "echo a; echo b >&2; echo c; echo d >&2"}))
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        let mut seq: Vec<(String, Vec<u8>)> = Vec::new();
        for l in text.lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            let Some(data) = v["data"].as_str() else {
                continue;
            };
            let b = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            let stream = v["stream"].as_str().unwrap().to_string();
            match seq.last_mut() {
                Some((s, acc)) if *s == stream => acc.extend(b),
                _ => seq.push((stream, b)),
            }
        }
        let want: Vec<(String, Vec<u8>)> = [
            ("stdout", "a\n"),
            ("stderr", "b\n"),
            ("stdout", "c\n"),
            ("stderr", "d\n"),
        ]
        .iter()
        .map(|(s, d)| (s.to_string(), d.as_bytes().to_vec()))
        .collect();
        assert_eq!(seq, want, "{text}");
    }
    d.stop().await;
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vfs_calls_through_the_router() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    let v = |c: &str| format!("/v1/workspaces/w/vfs/{c}");
    let (s, r) = d
        .post(
            &v("write"),
            json!({"path": "/data/a.txt", "data_base64": b64(b"hello\n")}),
        )
        .await;
    assert_eq!((s, r), (200, json!({})));
    let (s, r) = d
        .post(
            &v("read"),
            json!({"path": "/data/a.txt", "offset": 1, "size": 2}),
        )
        .await;
    assert_eq!((s, r), (200, json!({"data_base64": b64(b"el")})));
    let (s, _) = d
        .post(
            &v("append"),
            json!({"path": "a.txt", "data_base64": b64(b"more\n")}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, r) = d.post(&v("stat"), json!({"path": "/data/a.txt"})).await;
    assert_eq!(s, 200);
    assert_eq!(r["stat"]["size"], 11);
    assert_eq!(r["stat"]["type"], "file");
    assert_eq!(r["stat"]["name"], "a.txt");
    let (s, r) = d.post(&v("readdir"), json!({"path": "/data"})).await;
    assert_eq!((s, r), (200, json!({"entries": ["/data/a.txt"]})));
    let (_, r) = d.post(&v("exists"), json!({"path": "/data/zz"})).await;
    assert_eq!(r, json!({"exists": false}));
    let (_, r) = d.post(&v("is_dir"), json!({"path": "/data"})).await;
    assert_eq!(r, json!({"is_dir": true}));
    let (s, _) = d.post(&v("mkdir"), json!({"path": "/data/d"})).await;
    assert_eq!(s, 200);
    let (s, r) = d.post(&v("mkdir"), json!({"path": "/data/d"})).await;
    assert_eq!(
        (s, r),
        (409, json!({"detail": "File exists", "errno": "EEXIST"}))
    );
    let (s, _) = d
        .post(
            &v("rename"),
            json!({"src": "/data/a.txt", "dst": "/data/b.txt"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = d
        .post(&v("truncate"), json!({"path": "/data/b.txt", "length": 3}))
        .await;
    assert_eq!(s, 200);
    let (_, r) = d.post(&v("read"), json!({"path": "/data/b.txt"})).await;
    assert_eq!(r, json!({"data_base64": b64(b"hel")}));
    let (s, r) = d.post(&v("read"), json!({"path": "/data/zzz"})).await;
    assert_eq!((s, r["errno"].as_str()), (404, Some("ENOENT")));
    let (s, r) = d
        .post(&v("read"), json!({"path": "/data/b.txt", "bogus": 1}))
        .await;
    assert_eq!(s, 400);
    assert!(r["detail"].as_str().unwrap().contains("bogus"), "{r}");
    let (s, _) = d.post(&v("read"), json!([1])).await;
    assert_eq!(s, 400);
    let (s, _) = d.post(&v("nosuch"), json!({"path": "/"})).await;
    assert_eq!(s, 404);
    // the read-only mount refuses every change, as it does to the shell
    let (s, r) = d
        .post(
            &v("write"),
            json!({"path": "/ro/x", "data_base64": b64(b"x")}),
        )
        .await;
    assert_eq!(
        (s, r),
        (
            403,
            json!({"detail": "Read-only file system", "errno": "EROFS"})
        )
    );
    let (s, _) = d.post(&v("mkdir"), json!({"path": "/ro/d"})).await;
    assert_eq!(s, 403);
    let out = d.shell("w", "default", "echo x > /ro/x").await;
    assert_eq!(out["exit_code"], 1);
    // read_stream
    let r = d
        .req(reqwest::Method::POST, &v("read_stream"))
        .json(&json!({"path": "/data/b.txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..], b"hel");
    // glob, relative to the session's cwd
    let (s, r) = d
        .post("/v1/workspaces/w/glob", json!({"pattern": "/data/*"}))
        .await;
    assert_eq!((s, r), (200, json!({"paths": ["/data/b.txt", "/data/d"]})));
    let (_, r) = d
        .post("/v1/workspaces/w/glob", json!({"pattern": "*.txt"}))
        .await;
    assert_eq!(r, json!({"paths": ["b.txt"]}));
    let (s, _) = d.post("/v1/workspaces/w/glob", json!({"pattern": 1})).await;
    assert_eq!(s, 400);
    let (s, _) = d.post(&v("unlink"), json!({"path": "/data/b.txt"})).await;
    assert_eq!(s, 200);
    let (s, _) = d.post(&v("rmdir"), json!({"path": "/data/d"})).await;
    assert_eq!(s, 200);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_delete_load_answers_the_same() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    d.post("/v1/workspaces/w/sessions", json!({"session_id": "s"}))
        .await;
    d.shell(
        "w",
        "s",
        "mkdir -p /data/sub/deep && printf 'one\\n' > /data/sub/deep/f.txt && cd /data/sub && export KEEP=kept && greet() { echo \"hi $1\"; }",
    )
    .await;
    let out = d
        .shell(
            "w",
            "default",
            "printf '\\377bin' > /data/b; chmod 600 /data/b",
        )
        .await;
    assert_eq!(out["exit_code"], 0, "{out}");
    let r = d
        .req(reqwest::Method::GET, "/v1/workspaces/w/snapshot")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-tar");
    let tar = r.bytes().await.unwrap();
    let (s, _) = d.delete("/v1/workspaces/w").await;
    assert_eq!(s, 200);
    // raw tar body
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/load?id=w")
        .header("content-type", "application/x-tar")
        .body(tar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let out = d
        .shell("w", "s", "pwd; echo $KEEP; greet you; cat deep/f.txt")
        .await;
    assert_eq!(out["stdout"], "/data/sub\nkept\nhi you\none\n", "{out}");
    let out = d
        .shell(
            "w",
            "default",
            "od -An -c /data/b; ls -l /data/b | cut -c1-10",
        )
        .await;
    assert_eq!(out["stdout"], " 377   b   i   n\n-rw-------\n", "{out}");
    let (_, h) = d.get("/v1/workspaces/w/history?session_id=s").await;
    assert!(h.as_array().unwrap().len() >= 2, "{h}");
    // the model CLI's multipart upload, with an id in the request part
    let form = "--BOUND\r\nContent-Disposition: form-data; name=\"request\"; filename=\"request.json\"\r\nContent-Type: application/json\r\n\r\n{\"id\": \"w2\"}\r\n--BOUND\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"s.tar\"\r\nContent-Type: application/x-tar\r\n\r\n";
    let mut body = form.as_bytes().to_vec();
    body.extend_from_slice(&tar);
    body.extend_from_slice(b"\r\n--BOUND--\r\n");
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/load")
        .header("content-type", "multipart/form-data; boundary=BOUND")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["id"], "w2");
    let out = d.shell("w2", "s", "pwd; greet me").await;
    assert_eq!(out["stdout"], "/data/sub\nhi me\n");
    // a taken id, a body that is no snapshot
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/load?id=w")
        .body(tar)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/load")
        .body("not a tar")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limit_is_413_json() {
    let d = Daemon::start(|s| s.max_body_bytes = 1024).await;
    with_ws(&d, "w").await;
    let (s, v) = d
        .post(
            "/v1/workspaces/w/shell",
            json!({"command": format!("echo {}", "x".repeat(4096))}),
        )
        .await;
    assert_eq!(s, 413, "{v}");
    assert!(v["detail"].is_string(), "{v}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_lines() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    d.shell("w", "default", "echo hi").await;
    let r = d
        .req(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("mirage_lines_total 1"), "{text}");
    assert!(
        text.contains("route=\"/v1/workspaces/{workspace_id}/shell\""),
        "{text}"
    );
    assert!(
        text.contains("mirage_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("mirage_jobs_total{status=\"done\"} 1"),
        "{text}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persist_dir_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_path_buf();
    let d = Daemon::start(|s| s.persist_dir = Some(p.clone())).await;
    with_ws(&d, "keep").await;
    d.shell(
        "keep",
        "default",
        "echo saved > /data/f; cd /data; X=1; export E=2",
    )
    .await;
    d.stop().await;
    assert!(dir.path().join("keep.tar").exists());
    let d = Daemon::start(|s| s.persist_dir = Some(p.clone())).await;
    let out = d.shell("keep", "default", "cat f; pwd; echo $E").await;
    assert_eq!(out["stdout"], "saved\n/data\n2\n");
    let (s, _) = d.delete("/v1/workspaces/keep").await;
    assert_eq!(s, 200);
    assert!(!dir.path().join("keep.tar").exists());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_needs_no_token_and_idle_grace_stops() {
    let d = Daemon::start(|s| {
        s.token = String::new();
        s.idle_grace = Some(Duration::from_millis(200));
    })
    .await;
    with_ws(&d, "w").await;
    let (s, _) = d.delete("/v1/workspaces/w").await;
    assert_eq!(s, 200);
    tokio::time::timeout(Duration::from_secs(5), d.handle)
        .await
        .expect("idle grace stops the daemon")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_names_a_taken_address() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut s = DaemonSettings::local();
    s.addr = l.local_addr().unwrap();
    let e = mirage_server::run(s).await.unwrap_err().to_string();
    assert!(e.contains(&l.local_addr().unwrap().to_string()), "{e}");
    let mut s = DaemonSettings::local();
    s.addr = "0.0.0.0:0".parse().unwrap();
    let e = mirage_server::run(s).await.unwrap_err().to_string();
    assert!(e.contains("token"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_keeps_the_state_for_the_same_id() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    d.shell("w", "default", "echo kept > /data/k; cd /data")
        .await;
    let (s, v) = d.post("/v1/workspaces/w/close", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id"], "w");
    let (s, _) = d.get("/v1/workspaces/w").await;
    assert_eq!(s, 404);
    with_ws(&d, "w").await;
    let out = d.shell("w", "default", "cat k").await;
    assert_eq!(out["stdout"], "kept\n");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_lines_are_in_the_history_with_their_bytes() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/w/shell?stream=true")
        .json(&json!({"command": "echo hello"}))
        .send()
        .await
        .unwrap();
    r.text().await.unwrap();
    let (_, h) = d.get("/v1/workspaces/w/history").await;
    let last = h.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["line"], "echo hello");
    assert_eq!(last["bytes_out"], 6, "{last}");
    assert_eq!(last["exit_code"], 0);
    assert_eq!(last["session_id"], "default");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reader_that_goes_away_cancels_its_line() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/w/shell?stream=true")
        .json(&json!({"command": "echo started; sleep 100"}))
        .send()
        .await
        .unwrap();
    let job = r.headers()["x-mirage-job-id"].to_str().unwrap().to_string();
    let mut r = r;
    let first = r.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("stdout"));
    let (_, v) = d.get(&format!("/v1/jobs/{job}")).await;
    assert_eq!(v["status"], "running");
    drop(r);
    let (_, v) = d
        .post(&format!("/v1/jobs/{job}/wait"), json!({"timeout_s": 5}))
        .await;
    assert_eq!(v["status"], "canceled", "{v}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_and_clone_take_an_override_in_either_spelling() {
    let d = Daemon::start(|_| {}).await;
    let (s, v) = d
        .post(
            "/v1/workspaces",
            json!({"config": {"workspace_id": "fromcfg", "mounts": {"/data": {"vfs": "ram", "mode": "write"}}}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["id"], "fromcfg");
    let over = json!({"mounts": {"/data": {"vfs": "ram", "mode": "read"}}});
    let (s, v) = d
        .post(
            "/v1/workspaces/fromcfg/clone",
            json!({"id": "c", "override": over}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["mounts"][0]["mode"], "read");
    let (s, v) = d
        .post(
            "/v1/workspaces/fromcfg/clone",
            json!({"id": "bad", "override": {"mounts": {"/data": {"colour": 1}}}}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_stdin_and_one_line_cwd_env() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    // the model CLI's upload: a request part, then the stdin part
    let body = "--B\r\nContent-Disposition: form-data; name=\"request\"; filename=\"request.json\"\r\nContent-Type: application/json\r\n\r\n{\"command\": \"tr a-z A-Z\"}\r\n--B\r\nContent-Disposition: form-data; name=\"stdin\"; filename=\"stdin.bin\"\r\nContent-Type: application/octet-stream\r\n\r\npiped\n\r\n--B--\r\n";
    let r = d
        .req(reqwest::Method::POST, "/v1/workspaces/w/shell?stream=true")
        .header("content-type", "multipart/form-data; boundary=B")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(&format!("\"data\":\"{}\"", b64(b"PIPED\n"))),
        "{text}"
    );
    // cwd and env for one line only
    d.shell("w", "default", "mkdir -p /data/sub").await;
    let (s, v) = d
        .post(
            "/v1/workspaces/w/shell",
            json!({"command": "pwd; echo $ONE", "cwd": "/data/sub", "env": {"ONE": "it's 1"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stdout"], "/data/sub\nit's 1\n");
    let out = d.shell("w", "default", "pwd; echo \"[$ONE]\"").await;
    assert_eq!(out["stdout"], "/data\n[]\n");
    let (s, _) = d
        .post(
            "/v1/workspaces/w/shell",
            json!({"command": "true", "env": {"bad name": "x"}}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = d
        .post(
            "/v1/workspaces/w/shell",
            json!({"command": "true", "nope": 1}),
        )
        .await;
    assert_eq!(s, 400);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pwrite_and_truncate_are_bounded() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    let v = |c: &str| format!("/v1/workspaces/w/vfs/{c}");
    let (s, _) = d
        .post(
            &v("pwrite"),
            json!({"path": "/data/p", "data_base64": b64(b"xy"), "offset": 3}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, r) = d.post(&v("read"), json!({"path": "/data/p"})).await;
    assert_eq!(r, json!({"data_base64": b64(b"\0\0\0xy")}));
    let (s, r) = d
        .post(
            &v("truncate"),
            json!({"path": "/data/p", "length": 1u64 << 50}),
        )
        .await;
    assert_eq!((s, r["errno"].as_str()), (400, Some("EFBIG")));
    let (s, _) = d
        .post(
            &v("pwrite"),
            json!({"path": "/data/p", "data_base64": b64(b"x"), "offset": u64::MAX}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = d
        .post(&v("truncate"), json!({"path": "/data/p", "length": -1}))
        .await;
    assert_eq!(s, 400);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_but_health_needs_the_token() {
    let d = Daemon::start(|_| {}).await;
    with_ws(&d, "w").await;
    for pattern in mirage_server::security::ROUTES {
        let path = pattern
            .replace("{workspace_id}", "w")
            .replace("{session_id}", "default")
            .replace("{job_id}", "j")
            .replace("{call}", "read");
        for m in [
            reqwest::Method::GET,
            reqwest::Method::POST,
            reqwest::Method::DELETE,
        ] {
            let r = d
                .client
                .request(m.clone(), format!("{}{path}", d.url))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            if path == "/v1/health" {
                assert_ne!(s, 401, "{m} {path}");
            } else {
                assert_eq!(s, 401, "{m} {path}");
            }
        }
    }
    d.stop().await;
}
