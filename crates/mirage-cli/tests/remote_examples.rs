#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The README's remote examples: `mirage execute --config
//! docs/examples/s3.yaml` and `docs/examples/redis.yaml` against the
//! servers `cargo xtask test-resources` starts (skipped with a message
//! without them, failing when `MIRAGE_TEST_REQUIRE_SERVERS=1`), and
//! `mirage cache stats`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name)
}

fn server(var: &str) -> Option<String> {
    match std::env::var(var).ok().filter(|v| !v.is_empty()) {
        Some(v) => Some(v),
        None if std::env::var("MIRAGE_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
            panic!("{var} is not set (run `cargo xtask test-resources`)")
        }
        None => {
            eprintln!(
                "skipped: {var} is not set (`cargo xtask test-resources` starts the servers)"
            );
            None
        }
    }
}

fn run(envs: &[(&str, String)], args: &[&str]) -> Output {
    let d = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_mirage"))
        .current_dir(d.path())
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .output()
        .expect("run mirage")
}

#[test]
fn the_s3_example_config_runs() {
    let Some(endpoint) = server("MIRAGE_TEST_S3_ENDPOINT") else {
        return;
    };
    let bucket = std::env::var("MIRAGE_TEST_S3_BUCKET").unwrap_or_else(|_| "mirage-test".into());
    let envs = [
        ("S3_ENDPOINT", endpoint),
        ("S3_BUCKET", bucket),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
    ];
    let cfg = example("s3.yaml");
    let cfg = cfg.to_str().unwrap();
    let o = run(
        &envs,
        &[
            "execute",
            "--config",
            cfg,
            "-c",
            "mkdir -p /s3/logs; echo 'ERROR disk full' > /s3/logs/a.log; grep -r ERROR /s3/logs; cat /s3/logs/a.log >/dev/null; cache stats --json",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.starts_with("/s3/logs/a.log:ERROR disk full\n{\"/s3\":{"),
        "{out}"
    );
    assert!(out.contains("\"hits\":"), "{out}");
    let o = run(&envs, &["cache", "stats", "--config", cfg]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("/s3\t0\t0"));
    let o = run(&envs, &["cache", "forget", "/nowhere", "--config", cfg]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "cache: /nowhere: not on a cached mount\n"
    );
}

#[test]
fn the_redis_example_config_runs() {
    let Some(url) = server("MIRAGE_TEST_REDIS_URL") else {
        return;
    };
    let cfg = example("redis.yaml");
    let o = run(
        &[("REDIS_URL", url)],
        &[
            "execute",
            "--config",
            cfg.to_str().unwrap(),
            "-c",
            "mkdir -p /r/notes-$$; echo hi > /r/notes-$$/a.txt; cat /r/notes-$$/a.txt; ls /r/notes-$$; rm -r /r/notes-$$",
        ],
    );
    assert_eq!(
        (String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()),
        ("hi\na.txt\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
