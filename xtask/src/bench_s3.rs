//! The S3 rows of `cargo xtask bench`: `grep -r ERROR /s3/logs` over 200
//! objects in the local moto server (started with [`crate::servers`]),
//! through a workspace built from a config with an S3 mount under
//! `read: bounded, ttl: 600`.
//!
//! - `s3_grep_cold`: each timed run on a fresh workspace (empty cache);
//! - `s3_grep_warm`: the same workspace again after a first run.
//!
//! The GNU side is `grep -r ERROR` over the same files on local disk. The
//! requests each run sends are counted from moto's access log (the lines
//! naming this run's key prefix between two offsets), not from our code.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use mirage_workspace::{Workspace, WorkspaceConfig};
use serde::Serialize;

use crate::servers::{BUCKET, Servers};

/// Objects under `logs/` (in 4 directories of 50).
pub const OBJECTS: usize = 200;
/// The script, on the mount.
pub const SCRIPT: &str = "grep -r ERROR /s3/logs";

/// The requests one run sent, from moto's access log.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Requests {
    /// Listings (`GET ?list-type=2`).
    pub listings: usize,
    /// Object GETs answered with bytes (200, 206).
    pub gets: usize,
    /// Conditional requests answered 304 Not Modified.
    pub not_modified: usize,
    /// Anything else (HEAD, PUT, errors).
    pub other: usize,
}

/// The timings, outputs and request counts of both rows.
pub struct Results {
    /// Cold runs (ms), each on a fresh workspace.
    pub cold_ms: Vec<f64>,
    /// Warm runs (ms) on one workspace after a first run.
    pub warm_ms: Vec<f64>,
    /// Our output (of the first cold run).
    pub stdout: Vec<u8>,
    /// Requests of one cold run.
    pub cold_requests: Requests,
    /// Requests of one warm run.
    pub warm_requests: Requests,
    /// GNU's times (ms) and output (paths shown as `/s3/logs`).
    pub gnu: Option<anyhow::Result<(Vec<f64>, Vec<u8>)>>,
}

/// Object `i`'s path under `logs/` and its contents: 40 log lines, one in
/// ten objects with `ERROR` lines.
fn object(i: usize) -> (String, Bytes) {
    let dir = ["api", "db", "web", "worker"][i % 4];
    let mut text = String::new();
    for line in 0..40 {
        let level = if i % 10 == 3 && line % 8 == 5 {
            "ERROR"
        } else if line % 3 == 0 {
            "WARN"
        } else {
            "INFO"
        };
        text.push_str(&format!(
            "2026-12-02T10:{:02}:{:02}Z {level} {dir} request {i}-{line} handled in {} ms\n",
            (i / 60) % 60,
            line % 60,
            (i * 7 + line * 13) % 500
        ));
    }
    (format!("{dir}/app-{i:03}.log"), Bytes::from(text))
}

fn yaml(servers: &Servers, prefix: &str, policy: &str) -> String {
    format!(
        r#"mounts:
  /s3:
    resource: s3
    mode: write
{policy}
    config:
      bucket: {BUCKET}
      endpoint_url: http://127.0.0.1:{}
      region: us-east-1
      aws_access_key_id: bench
      aws_secret_access_key: bench
      key_prefix: {prefix}/
"#,
        servers.s3_port
    )
}

async fn workspace(servers: &Servers, prefix: &str, policy: &str) -> anyhow::Result<Workspace> {
    // Links the s3 registration into this binary (nothing else names it).
    std::hint::black_box(mirage_resource_s3::build as fn(&_) -> _);
    let cfg = WorkspaceConfig::from_yaml(&yaml(servers, prefix, policy))
        .map_err(|e| anyhow!("bench config: {e}"))?;
    Workspace::from_config(&cfg)
        .await
        .map_err(|e| anyhow!("building the S3 workspace: {e}"))
}

async fn run(ws: &Workspace, script: &str, stdin: Bytes) -> anyhow::Result<Vec<u8>> {
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        ws.execute("default", script, Some(stdin)),
    )
    .await
    .map_err(|_| anyhow!("`{script}` took longer than 120 s"))?
    .map_err(|e| anyhow!("`{script}`: {e}"))?;
    if out.exit_code != 0 {
        bail!(
            "`{script}` exited {}: {}",
            out.exit_code,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

/// moto's access log, read between offsets.
struct Log<'a>(&'a Path);

impl Log<'_> {
    fn offset(&self) -> u64 {
        std::fs::metadata(self.0).map(|m| m.len()).unwrap_or(0)
    }

    /// The requests naming `prefix` logged after `from`.
    fn since(&self, from: u64, prefix: &str) -> Requests {
        // moto writes the line as it answers; leave it a moment.
        std::thread::sleep(Duration::from_millis(200));
        let all = std::fs::read(self.0).unwrap_or_default();
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(all.len());
        count(&String::from_utf8_lossy(&all[start..]), prefix)
    }
}

/// `text` without terminal colour sequences (`ESC [ … letter`): werkzeug
/// colours the request of a 304 or an error.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Counts the access-log lines of `text` that name `prefix`.
fn count(text: &str, prefix: &str) -> Requests {
    let text = strip_ansi(text);
    let mut r = Requests::default();
    // 127.0.0.1 - - [date] "GET /bucket/key?query HTTP/1.1" 200 -
    for line in text.lines().filter(|l| l.contains(prefix)) {
        let mut parts = line.split('"');
        let (Some(req), Some(rest)) = (parts.nth(1), parts.next()) else {
            continue;
        };
        let status = rest.split_whitespace().next().unwrap_or("");
        let mut words = req.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        match (method, status) {
            (_, "304") => r.not_modified += 1,
            ("GET", "200") if target.contains("list-type=2") => r.listings += 1,
            ("GET", "200" | "206") => r.gets += 1,
            _ => r.other += 1,
        }
    }
    r
}

/// Writes the objects, times both rows (`runs` timed runs each after a
/// warm-up) and, unless `no_gnu`, GNU grep over the same files in `disk`.
pub fn bench(
    rt: &tokio::runtime::Runtime,
    runs: usize,
    no_gnu: bool,
    disk: &Path,
) -> anyhow::Result<Results> {
    let servers = Servers::start()?;
    let log = Log(&servers.s3_log);
    // Letters and digits only, so it appears as is in the log's URLs.
    let prefix = format!(
        "bench{}t{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    eprintln!("bench: writing {OBJECTS} objects to s3://{BUCKET}/{prefix}/logs/");
    let objects: Vec<(String, Bytes)> = (0..OBJECTS).map(object).collect();
    rt.block_on(async {
        let writer = workspace(&servers, &prefix, "    read: off").await?;
        run(
            &writer,
            "mkdir -p /s3/logs/api /s3/logs/db /s3/logs/web /s3/logs/worker",
            Bytes::new(),
        )
        .await?;
        for (p, data) in &objects {
            run(&writer, &format!("cat > /s3/logs/{p}"), data.clone()).await?;
        }
        anyhow::Ok(())
    })?;
    for (p, data) in &objects {
        let f = disk.join(p);
        if let Some(parent) = f.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&f, data).with_context(|| format!("writing {}", f.display()))?;
    }

    let policy = "    read: bounded\n    ttl: 600";
    let mut cold_ms = Vec::new();
    let mut stdout = Vec::new();
    let mut cold_requests = Requests::default();
    for i in 0..=runs {
        let ws = rt.block_on(workspace(&servers, &prefix, policy))?;
        let from = log.offset();
        let t = Instant::now();
        let out = rt.block_on(run(&ws, SCRIPT, Bytes::new()))?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        cold_requests = log.since(from, &prefix);
        if i == 0 {
            stdout = out; // the warm-up run
        } else {
            cold_ms.push(ms);
        }
    }

    let ws = rt.block_on(workspace(&servers, &prefix, policy))?;
    rt.block_on(run(&ws, SCRIPT, Bytes::new()))?;
    let mut warm_ms = Vec::new();
    let mut warm_requests = Requests::default();
    for _ in 0..runs {
        let from = log.offset();
        let t = Instant::now();
        rt.block_on(run(&ws, SCRIPT, Bytes::new()))?;
        warm_ms.push(t.elapsed().as_secs_f64() * 1e3);
        warm_requests = log.since(from, &prefix);
    }
    drop(ws);
    drop(servers);

    let gnu = (!no_gnu).then(|| {
        let script = format!("grep -r ERROR {}", disk.display());
        let once = || -> anyhow::Result<(f64, Vec<u8>)> {
            let t = Instant::now();
            let out = std::process::Command::new("bash")
                .args(["-c", &script])
                .env_clear()
                .env("LC_ALL", "C.UTF-8")
                .env("PATH", "/usr/bin:/bin")
                .output()
                .context("running bash")?;
            Ok((t.elapsed().as_secs_f64() * 1e3, out.stdout))
        };
        let (_, out) = once()?;
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(once()?.0);
        }
        let out = String::from_utf8_lossy(&out)
            .replace(&disk.display().to_string(), "/s3/logs")
            .into_bytes();
        Ok((times, out))
    });
    Ok(Results {
        cold_ms,
        warm_ms,
        stdout,
        cold_requests,
        warm_requests,
        gnu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_listings_gets_304s_and_others_of_one_prefix() {
        let log = "\
 * Running on http://127.0.0.1:5000
127.0.0.1 - - [02/Dec/2026 20:53:17] \"GET /mirage-test?list-type=2&prefix=bx1%2Flogs%2F HTTP/1.1\" 200 -
127.0.0.1 - - [02/Dec/2026 20:53:17] \"GET /mirage-test/bx1/logs/a.log HTTP/1.1\" 200 -
127.0.0.1 - - [02/Dec/2026 20:53:17] \"GET /mirage-test/bx1/logs/b.log HTTP/1.1\" 206 -
127.0.0.1 - - [02/Dec/2026 20:53:17] \"\u{1b}[36mGET /mirage-test/bx1/logs/c.log HTTP/1.1\u{1b}[0m\" 304 -
127.0.0.1 - - [02/Dec/2026 20:53:17] \"\u{1b}[33mHEAD /mirage-test/bx1/logs/d.log HTTP/1.1\u{1b}[0m\" 404 -
127.0.0.1 - - [02/Dec/2026 20:53:17] \"GET /mirage-test/other/logs/a.log HTTP/1.1\" 200 -
";
        let r = count(log, "bx1");
        assert_eq!(
            (r.listings, r.gets, r.not_modified, r.other),
            (1, 2, 1, 1),
            "{r:?}"
        );
    }

    #[test]
    fn objects_are_under_four_directories_and_some_have_errors() {
        let objects: Vec<_> = (0..OBJECTS).map(object).collect();
        let with_error = objects
            .iter()
            .filter(|(_, d)| d.windows(5).any(|w| w == b"ERROR"))
            .count();
        assert_eq!(with_error, OBJECTS / 10);
        assert!(objects.iter().all(|(p, _)| p.matches('/').count() == 1));
    }
}
