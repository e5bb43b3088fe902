//! A quick in-process load check: 16 clients × 500 `echo hi` lines over
//! loopback HTTP against a daemon in the same process; prints lines/s and
//! the latency percentiles. `cargo run -p mirage-server --example quickload`
//! (the load test proper and the bench rows live elsewhere).

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("direct") {
        // the line alone, without HTTP, for comparison
        mirage::link_resources();
        let cfg =
            mirage::WorkspaceConfig::from_yaml("mounts:\n  /data: {resource: ram, mode: write}\n")?;
        let ws = mirage::Workspace::from_config(&cfg).await?;
        ws.record_shell_history(true);
        let n = 2000;
        let t0 = Instant::now();
        for _ in 0..n {
            ws.execute("default", "echo hi", None).await?;
        }
        let el = t0.elapsed();
        println!(
            "direct: {n} lines in {el:.2?}: {:.0} lines/s",
            f64::from(n) / el.as_secs_f64()
        );
        return Ok(());
    }
    if let Ok(target) = std::env::var("QUICKLOAD_ADDR") {
        // drive a daemon already running there (its workspace `load` made here)
        let addr: std::net::SocketAddr = target.parse()?;
        let c = reqwest::Client::builder().no_proxy().build()?;
        let cfg = serde_json::json!({"config": {"mounts": {"/data": {"resource": "ram", "mode": "write"}}}, "id": "load"});
        c.post(format!("http://{addr}/v1/workspaces"))
            .json(&cfg)
            .send()
            .await?;
        let clients: usize = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(16);
        let per: usize = std::env::args()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(500);
        // warm-up, then the timed run
        raw_load(addr, clients, 50).await?;
        return raw_load(addr, clients, per).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut s = mirage_server::DaemonSettings::local();
    s.addr = addr;
    s.idle_grace = None;
    let server = tokio::spawn(mirage_server::serve(listener, s));
    let url = format!("http://{addr}");
    let c = reqwest::Client::builder().no_proxy().build()?;
    let cfg = serde_json::json!({"config": {"mounts": {"/data": {"resource": "ram", "mode": "write"}}}, "id": "load"});
    c.post(format!("{url}/v1/workspaces"))
        .json(&cfg)
        .send()
        .await?;
    if std::env::args().nth(3).as_deref() == Some("raw") {
        let clients: usize = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(16);
        let per: usize = std::env::args()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(500);
        raw_load(addr, clients, per).await?;
        server.abort();
        return Ok(());
    }
    let clients: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(16);
    let per: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let c = c.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let sid = format!("c{i}");
            let _ = c
                .post(format!("{url}/v1/workspaces/load/sessions"))
                .json(&serde_json::json!({"session_id": sid}))
                .send()
                .await;
            let mut lat = Vec::with_capacity(per);
            let mut failed = 0;
            for _ in 0..per {
                let t = Instant::now();
                let r = c
                    .post(format!("{url}/v1/workspaces/load/shell?session_id={sid}"))
                    .json(&serde_json::json!({"command": "echo hi"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                    }
                    _ => failed += 1,
                }
                lat.push(t.elapsed());
            }
            (lat, failed)
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f) = t.await?;
        all.extend(l);
        failed += f;
    }
    let el = t0.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{} lines in {:.2?}: {:.0} lines/s, p50 {:.2?}, p99 {:.2?}, failed {failed}",
        all.len(),
        el,
        all.len() as f64 / el.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    server.abort();
    Ok(())
}

/// The same load with a minimal keep-alive HTTP/1.1 client on raw TCP, so
/// that the figures are the server's (reqwest in a debug build costs as
/// much as the server).
async fn raw_load(addr: std::net::SocketAddr, clients: usize, per: usize) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let send = |path: String, body: String| {
                format!(
                    "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            };
            let mut buf = vec![0u8; 65536];
            let mut roundtrip = async |s: &mut tokio::net::TcpStream, req: String| -> anyhow::Result<()> {
                s.write_all(req.as_bytes()).await?;
                let mut got = 0;
                loop {
                    let n = s.read(&mut buf[got..]).await?;
                    anyhow::ensure!(n > 0, "closed");
                    got += n;
                    let text = &buf[..got];
                    if let Some(h) = text.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = std::str::from_utf8(&text[..h])?.to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if got >= h + 4 + len {
                            anyhow::ensure!(head.starts_with("http/1.1 2"), "{head}");
                            return Ok(());
                        }
                    }
                }
            };
            let sid = format!("r{i}");
            let _ = roundtrip(&mut s, send("/v1/workspaces/load/sessions".into(), format!("{{\"session_id\":\"{sid}\"}}"))).await;
            let mut lat = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                roundtrip(
                    &mut s,
                    send(format!("/v1/workspaces/load/shell?session_id={sid}"), "{\"command\":\"echo hi\"}".into()),
                )
                .await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let el = t0.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "raw: {} lines in {:.2?}: {:.0} lines/s, p50 {:.2?}, p99 {:.2?}",
        all.len(),
        el,
        all.len() as f64 / el.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
