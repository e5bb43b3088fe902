#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! awk reaches no host file and no host process: `print > file`,
//! `getline < file` and input files go through the VFS router (a
//! read-only mount refuses the write with `Read-only file system`),
//! `system()`, `print | cmd` and `cmd | getline` run in our own shell
//! (builtins and registered commands over the VFS), and input streams
//! (`yes | awk '{print; exit}'` ends).

mod common;
use common::{ro_etc_ws, run};

#[tokio::test]
async fn system_and_pipes_run_in_our_shell() {
    let ws = ro_etc_ws().await;
    let marker = format!("/tmp/mirage-awk-isolation-{}", std::process::id());
    let host = std::path::Path::new(&marker);
    for (prog, want) in [
        (
            format!("BEGIN {{ print system(\"touch {marker}.1; exit 3\") }}"),
            "3\n",
        ),
        (
            format!(
                "BEGIN {{ print \"b\" | \"sort\"; print \"a\" | \"sort\"; print \"x\" | \"cat > {marker}.2\" }}"
            ),
            "a\nb\n",
        ),
        (
            format!("BEGIN {{ \"touch {marker}.3; echo got\" | getline v; print v }}"),
            "got\n",
        ),
    ] {
        let (out, err, code) = run(&ws, &format!("awk '{prog}'")).await;
        assert_eq!((out.as_str(), code), (want, 0), "{prog}: {err}");
    }
    for k in 1..=3 {
        let f = format!("{marker}.{k}");
        assert!(
            !std::path::Path::new(&f).exists(),
            "a host process ran: {f}"
        );
        let (_, _, code) = run(&ws, &format!("test -f {f}")).await;
        assert_eq!(code, 0, "{f} is not in the VFS");
    }
    assert!(!host.exists());
    let (out, _, _) = run(&ws, &format!("cat {marker}.2")).await;
    assert_eq!(out, "x\n");
    // a host-only program is not found: nothing starts on the host
    let (_, err, code) = run(&ws, "awk 'BEGIN { print system(\"/usr/bin/id\") }'").await;
    assert_eq!(code, 0);
    assert!(!err.is_empty());
}

#[tokio::test]
async fn print_into_a_read_only_mount_is_refused() {
    let ws = ro_etc_ws().await;
    let existed = std::path::Path::new("/etc/x").exists();
    let (out, err, code) = run(&ws, "echo hi | awk '{print > \"/etc/x\"}'").await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(
        std::path::Path::new("/etc/x").exists(),
        existed,
        "a host file was touched"
    );
    let (out, _, code) = run(&ws, "ls /etc").await;
    assert_eq!((out.as_str(), code), ("conf\n", 0));
}

#[tokio::test]
async fn files_go_through_the_router() {
    let ws = ro_etc_ws().await;
    let name = format!("/tmp/mirage-awk-out-{}", std::process::id());
    let line = format!(
        "printf '1\\n2\\n' | awk '{{print $1 * 10 > \"{name}\"}} END {{close(\"{name}\"); while ((getline l < \"{name}\") > 0) print \"read\", l; while ((getline c < \"/etc/conf\") > 0) print c}}'; cat {name}"
    );
    let (out, err, code) = run(&ws, &line).await;
    assert_eq!(
        (out.as_str(), code),
        ("read 10\nread 20\nkeep\n10\n20\n", 0),
        "{err}"
    );
    assert!(
        !std::path::Path::new(&name).exists(),
        "a host file was written"
    );
    let (out, _, code) = run(&ws, "awk '{print FILENAME\": \"$0}' /etc/conf").await;
    assert_eq!((out.as_str(), code), ("/etc/conf: keep\n", 0));
}

#[tokio::test]
async fn input_streams() {
    let ws = ro_etc_ws().await;
    let (out, _, code) = run(&ws, "yes | awk '{print NR; if (NR == 3) exit}'").await;
    assert_eq!((out.as_str(), code), ("1\n2\n3\n", 0));
    let (out, _, code) = run(&ws, "yes abc | awk '{print $1}' | head -n 2").await;
    assert_eq!((out.as_str(), code), ("abc\nabc\n", 0));
}
