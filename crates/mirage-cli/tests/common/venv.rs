//! The model product's venv (`mirage-ai` from PyPI), made once under
//! `target/test-venv/` and shared by the tests that drive the model
//! product's CLI or daemon.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The model product's version the compatibility tests pin.
pub const MODEL_VERSION: &str = "0.0.7";

/// The venv's home: `target/test-venv/mirage-ai-VERSION`.
pub fn venv_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .unwrap_or(tmp)
        .join("test-venv")
        .join(format!("mirage-ai-{MODEL_VERSION}"))
}

/// The venv holding the model product's CLI, made when missing. `None`
/// when PyPI cannot be reached and `MIRAGE_TEST_ALLOW_NO_PYPI=1` (skip).
pub fn model_venv() -> Option<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin/python");
    if venv.join(".complete").is_file() && python.exists() {
        return Some(venv);
    }
    // Built under a private name and renamed into place, so two runs at
    // once never see a half-filled venv. The CLI runs as
    // `python -c PY_MAIN`, which a moved venv still serves.
    let parent = venv.parent().unwrap();
    std::fs::create_dir_all(parent).unwrap();
    let partial = parent.join(format!(
        "mirage-ai-{MODEL_VERSION}.partial-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&partial);
    let start = Instant::now();
    // mirage-ai 0.0.7 requires Python 3.11 or later
    let version = Command::new("python3")
        .args([
            "-c",
            "import sys; print(sys.version_info >= (3, 11), sys.version.split()[0])",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (is it installed?): {e}"));
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    assert!(
        version.starts_with("True"),
        "mirage-ai=={MODEL_VERSION} needs Python 3.11 or later; python3 is {version:?}"
    );
    eprintln!("daemon_python: making a venv at {}", partial.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&partial)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (is it installed?): {e}"));
    if !made.status.success() || !partial.join("bin/pip").exists() {
        let _ = std::fs::remove_dir_all(&partial);
        panic!(
            "`python3 -m venv` failed (on Debian: apt-get install python3-venv; .ci/run does): {}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    let spec = format!("mirage-ai=={MODEL_VERSION}");
    eprintln!("daemon_python: pip install {spec}");
    let pip = Command::new(partial.join("bin/pip"))
        .args([
            "install",
            "-q",
            "--disable-pip-version-check",
            "--timeout",
            "30",
            "--retries",
            "2",
            &spec,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if !pip.status.success() {
        let _ = std::fs::remove_dir_all(&partial);
        // pip's last lines say why (the first are its retry warnings)
        let err = String::from_utf8_lossy(&pip.stderr);
        let lines: Vec<&str> = err.trim().lines().collect();
        let why = format!(
            "pip install {spec} failed, so the model product's CLI cannot be tested \
             (is PyPI reachable?): {}",
            lines[lines.len().saturating_sub(3)..].join("\n")
        );
        if std::env::var("MIRAGE_TEST_ALLOW_NO_PYPI").as_deref() == Ok("1") {
            eprintln!("daemon_python: SKIPPED (MIRAGE_TEST_ALLOW_NO_PYPI=1): {why}");
            return None;
        }
        panic!("{why}\n(set MIRAGE_TEST_ALLOW_NO_PYPI=1 to skip this test instead)");
    }
    std::fs::write(partial.join(".complete"), &spec).unwrap();
    if std::fs::rename(&partial, &venv).is_err() {
        // Another run finished first: use its venv.
        let _ = std::fs::remove_dir_all(&partial);
    }
    eprintln!(
        "daemon_python: venv ready in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Some(venv)
}
