#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The daemon's FUSE routes (`/v1/workspaces/{id}/mounts`) in-process on
//! 127.0.0.1:0: their statuses, the detail's `fuse_mountpoints`, files
//! through the mount point, a busy unmount detached lazily, and every
//! mount gone at shutdown. The tests that mount print `SKIPPED:` and
//! return when /dev/fuse cannot be opened.

use std::path::{Path, PathBuf};

use mirage_server::DaemonSettings;
use serde_json::{Value, json};

struct Daemon {
    url: String,
    client: reqwest::Client,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Daemon {
    async fn start() -> Daemon {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut s = DaemonSettings::local();
        s.addr = addr;
        s.idle_grace = None;
        let handle = tokio::spawn(mirage_server::serve(listener, s));
        Daemon {
            url: format!("http://{addr}"),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            handle,
        }
    }
    async fn call(&self, m: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.client.request(m, format!("{}{path}", self.url));
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
    /// `POST /v1/shutdown`, then waits for `serve` to return.
    async fn stop(self) {
        let (st, _) = self.post("/v1/shutdown", json!({})).await;
        assert_eq!(st, 200);
        tokio::time::timeout(std::time::Duration::from_secs(30), self.handle)
            .await
            .expect("the daemon stops within 30 s")
            .unwrap()
            .unwrap();
    }
}

fn fuse_ok(test: &str) -> bool {
    match mirage_fuse::fuse_available() {
        Ok(()) => true,
        Err(why) => {
            println!("SKIPPED: {test}: {why}");
            false
        }
    }
}

fn is_mounted(dir: &Path) -> bool {
    let d = dir.to_string_lossy();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(&*d))
}

/// Detaches whatever is still mounted on the directories when dropped.
struct Unmounter(Vec<PathBuf>);

impl Drop for Unmounter {
    fn drop(&mut self) {
        for d in &self.0 {
            if is_mounted(d) {
                let _ = std::process::Command::new("umount")
                    .arg("-l")
                    .arg(d)
                    .status();
            }
        }
    }
}

/// Runs blocking file work off the runtime (the FUSE requests it makes
/// are answered on this runtime).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

const RAM_WS: &str = "mounts:\n  /data: {vfs: ram, mode: write}\n  /ro: {vfs: ram, mode: read}\n";

fn config(yaml: &str) -> Value {
    serde_json::to_value(mirage::WorkspaceConfig::from_yaml(yaml).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statuses_that_need_no_fuse() {
    let d = Daemon::start().await;
    for (st, body) in [
        d.get("/v1/workspaces/none/mounts").await,
        d.post("/v1/workspaces/none/mounts", json!({"mountpoint": "/tmp"}))
            .await,
        d.delete("/v1/workspaces/none/mounts?mountpoint=/tmp").await,
    ] {
        assert_eq!(st, 404, "{body}");
        assert_eq!(body["detail"], "workspace not found");
    }
    // an unsupported backend: 422, and nothing is created
    let (st, body) = d
        .post(
            "/v1/workspaces",
            json!({"id": "fk", "config": {"mounts": {"/d": {"vfs": "ram", "backend": "fskit", "mountpoint": "/tmp"}}}}),
        )
        .await;
    assert_eq!(st, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("mounts./d.backend: 'fskit' is unsupported"),
        "{body}"
    );
    assert_eq!(d.get("/v1/workspaces/fk").await.0, 404);
    let (st, body) = d
        .post(
            "/v1/workspaces",
            json!({"id": "w", "config": {"mounts": {"/d": {"vfs": "ram", "backend": "fuse", "mountpoint": "rel"}}}}),
        )
        .await;
    assert_eq!(st, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("absolute"),
        "{body}"
    );
    // a workspace without FUSE mounts
    let (st, body) = d
        .post(
            "/v1/workspaces",
            json!({"id": "w", "config": config(RAM_WS)}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["fuse_mountpoints"], json!({}));
    assert_eq!(d.get("/v1/workspaces/w/mounts").await, (200, json!({})));
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": "relative/dir"}),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("absolute"),
        "{body}"
    );
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": "/tmp", "colour": 1}),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = d.delete("/v1/workspaces/w/mounts?mountpoint=/tmp").await;
    assert_eq!(st, 404, "{body}");
    let (st, _) = d.delete("/v1/workspaces/w/mounts").await;
    assert_eq!(st, 404);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mount_route_serves_files_and_shutdown_unmounts() {
    if !fuse_ok("mount_route_serves_files_and_shutdown_unmounts") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
    for p in [&a, &b, &c] {
        std::fs::create_dir(p).unwrap();
    }
    let _guard = Unmounter(vec![a.clone(), b.clone(), c.clone()]);
    let d = Daemon::start().await;
    let (st, body) = d
        .post(
            "/v1/workspaces",
            json!({"id": "w", "config": config(RAM_WS)}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": a.to_string_lossy(), "prefix": "/data"}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(
        body,
        json!({"prefix": "/data", "mountpoint": a.to_string_lossy(), "read_only": false})
    );
    assert!(is_mounted(&a));
    // a write through the API is read through the mount point, and back
    let (st, _) = d
        .post(
            "/v1/workspaces/w/shell",
            json!({"command": "printf 'api' > /data/f"}),
        )
        .await;
    assert_eq!(st, 200);
    let a2 = a.clone();
    let got = blocking(move || {
        let s = std::fs::read_to_string(a2.join("f")).unwrap();
        std::fs::write(a2.join("g"), b"host").unwrap();
        s
    })
    .await;
    assert_eq!(got, "api");
    let (_, body) = d
        .post("/v1/workspaces/w/shell", json!({"command": "cat /data/g"}))
        .await;
    assert_eq!(body["stdout"], "host", "{body}");
    // conflicts and bad requests
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": b.to_string_lossy(), "prefix": "/data/"}),
        )
        .await;
    assert_eq!(st, 409, "{body}");
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": a.to_string_lossy(), "prefix": "/ro"}),
        )
        .await;
    assert_eq!(st, 409, "{body}");
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": b.to_string_lossy(), "prefix": "/nope"}),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": root.join("missing").to_string_lossy()}),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    assert!(!is_mounted(&b));
    // the whole tree, read-only
    let (st, body) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": b.to_string_lossy(), "read_only": true}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let b2 = b.clone();
    let (read, err) = blocking(move || {
        (
            std::fs::read_to_string(b2.join("data/g")).unwrap(),
            std::fs::write(b2.join("data/g"), b"x").unwrap_err(),
        )
    })
    .await;
    assert_eq!(read, "host");
    assert_eq!(err.raw_os_error(), Some(30), "{err}");
    let (_, body) = d.get("/v1/workspaces/w").await;
    assert_eq!(
        body["fuse_mountpoints"],
        json!({"/": b.to_string_lossy(), "/data": a.to_string_lossy()})
    );
    // unmount by prefix
    let (st, body) = d.delete("/v1/workspaces/w/mounts?prefix=/").await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body,
        json!({"prefix": "/", "mountpoint": b.to_string_lossy(), "lazy": false})
    );
    assert!(!is_mounted(&b));
    // a third one on c, then shutdown unmounts every mount it holds
    let (st, _) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": c.to_string_lossy(), "prefix": "/ro"}),
        )
        .await;
    assert_eq!(st, 201);
    assert!(is_mounted(&a) && is_mounted(&c));
    d.stop().await;
    assert!(!is_mounted(&a) && !is_mounted(&c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_unmount_is_detached_lazily() {
    if !fuse_ok("a_busy_unmount_is_detached_lazily") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let a = std::fs::canonicalize(tmp.path()).unwrap().join("a");
    std::fs::create_dir(&a).unwrap();
    let _guard = Unmounter(vec![a.clone()]);
    let d = Daemon::start().await;
    let (st, _) = d
        .post(
            "/v1/workspaces",
            json!({"id": "w", "config": config(RAM_WS)}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, _) = d
        .post(
            "/v1/workspaces/w/mounts",
            json!({"mountpoint": a.to_string_lossy(), "prefix": "/data"}),
        )
        .await;
    assert_eq!(st, 201);
    let a2 = a.clone();
    let held = blocking(move || {
        std::fs::write(a2.join("f"), b"x").unwrap();
        std::fs::File::open(a2.join("f")).unwrap()
    })
    .await;
    let (st, body) = d
        .delete(&format!(
            "/v1/workspaces/w/mounts?mountpoint={}",
            a.to_string_lossy()
        ))
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["lazy"], true, "{body}");
    assert_eq!(d.get("/v1/workspaces/w/mounts").await, (200, json!({})));
    // detached: gone from the mount table at once
    assert!(!is_mounted(&a));
    drop(held);
    d.stop().await;
}
