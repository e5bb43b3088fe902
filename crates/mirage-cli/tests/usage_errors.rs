#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bad `--config` and `--mount` input: a clear message and exit status 2
//! (clap's usage status), never a hang, a huge read or a silent default.

use std::path::Path;
use std::process::{Command, Output};

fn mirage(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mirage"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run mirage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn config(dir: &Path, text: &str) -> String {
    let p = dir.join("ws.yaml");
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn config_must_be_a_small_regular_file() {
    let d = tempfile::tempdir().unwrap();
    // a device: refused on the open descriptor, nothing read
    let o = mirage(
        d.path(),
        &["execute", "--config", "/dev/zero", "-c", "true"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/dev/zero: not a regular file"),
        "{}",
        stderr(&o)
    );
    // a directory
    let o = mirage(d.path(), &["execute", "--config", ".", "-c", "true"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Is a directory"), "{}", stderr(&o));
    // missing
    let o = mirage(
        d.path(),
        &["execute", "--config", "nope.yaml", "-c", "true"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nope.yaml: No such file or directory"),
        "{}",
        stderr(&o)
    );
    // more than 1 MiB
    let big = format!("# {}\nmounts: {{}}\n", "x".repeat(1 << 20));
    let p = config(d.path(), &big);
    let o = mirage(d.path(), &["execute", "--config", &p, "-c", "true"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("1 MiB"), "{}", stderr(&o));
}

#[test]
fn config_errors_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "mounts:\n  /d: {resource: ram, mode: write}\ncwd: d\n",
            "must be an absolute path",
        ),
        (
            "mounts:\n  /d: {resource: ram, mode: write}\ncwd: /d/missing\n",
            "No such file or directory",
        ),
        (
            "mounts:\n  /d: {resource: ram, mode: write}\ncwd: /nowhere\n",
            "No such file or directory",
        ),
        (
            "mounts:\n  /d: {resource: ram, config: {colour: red}}\n",
            "colour",
        ),
        (
            "mounts:\n  /d: {resource: disk, config: {root: ., colour: red}}\n",
            "colour",
        ),
        ("mounts:\n  /d: {resource: nosuch}\n", "unknown resource"),
        ("mounts:\n  /d: {resource: ram, colour: red}\n", "colour"),
        ("mounts: [oops\n", "config"),
    ];
    for (text, want) in cases {
        let p = config(d.path(), text);
        let o = mirage(d.path(), &["execute", "--config", &p, "-c", "echo ran"]);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{text}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{text}: nothing runs");
    }
    // a good cwd and an empty ram config are fine
    let p = config(
        d.path(),
        "mounts:\n  /d: {resource: ram, mode: write, config: {}}\ncwd: /d\n",
    );
    let o = mirage(d.path(), &["execute", "--config", &p, "-c", "pwd"]);
    assert_eq!(
        (o.status.code(), o.stdout.as_slice()),
        (Some(0), &b"/d\n"[..]),
        "{}",
        stderr(&o)
    );
}

#[test]
fn mount_errors_exit_2_and_name_what_is_missing() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        ("/x=disk:", "missing the disk root"),
        ("/x=disk::write", "missing the disk root"),
        ("/x=disk", "missing the disk root"),
        ("/x", "expected PREFIX=SPEC"),
        ("x=ram", "must be an absolute path"),
        (
            "/x=s3",
            "missing the s3 bucket after 's3:' (PREFIX=s3:BUCKET[:MODE])",
        ),
        (
            "/x=nosuch",
            "unknown resource type 'nosuch' (known: backblaze, ceph,",
        ),
        ("/x=ram:foo", "'ram' takes no argument, got 'foo'"),
        ("/x=ram:foo:write", "'ram' takes no argument, got 'foo'"),
        ("/x=disk:./no-such-dir", "no-such-dir"),
        ("/tmp=ram", "mounted twice"),
    ];
    for (m, want) in cases {
        let o = mirage(d.path(), &["execute", "--mount", m, "-c", "echo ran"]);
        assert_eq!(o.status.code(), Some(2), "--mount {m}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "--mount {m}: {}", stderr(&o));
    }
    // --mount with --config
    let p = config(d.path(), "mounts:\n  /d: {resource: ram}\n");
    let o = mirage(
        d.path(),
        &["execute", "--config", &p, "--mount", "/x=ram", "-c", "true"],
    );
    assert_eq!(o.status.code(), Some(2));
    // the script's own status is still the script's
    let o = mirage(d.path(), &["execute", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn dev_null_is_writable_without_a_writable_mount() {
    let d = tempfile::tempdir().unwrap();
    let p = config(d.path(), "mounts:\n  /r: {resource: ram, mode: read}\n");
    let o = mirage(
        d.path(),
        &[
            "execute",
            "--config",
            &p,
            "-c",
            "echo x > /dev/null; echo rc=$?; echo y > /r/f; echo rc=$?; ls /",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "rc=0\nrc=1\ndev\nr\n",
        "{}",
        stderr(&o)
    );
}
