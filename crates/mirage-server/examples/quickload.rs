//! A quick in-process load check: 16 clients × 500 `echo hi` lines over
//! loopback HTTP against a daemon in the same process; prints lines/s and
//! the latency percentiles. `cargo run -p mirage-server --example quickload`
//! (the load test proper and the bench rows live elsewhere).

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
