#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `mirage execute -n -c LINE`: checks the syntax as `bash -n` does and runs
//! nothing.

use std::process::{Command, Output};

fn mirage(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_mirage"))
        .current_dir(dir.path())
        .args(args)
        .output()
        .expect("run mirage")
}

#[test]
fn valid_line_exits_0_without_running() {
    let o = mirage(&[
        "execute",
        "-n",
        "-c",
        "echo hi > /tmp/x; x=$(cat <<'EOF'\nbody )\nEOF\n)",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
    // nothing ran: a command that would fail is not an error
    let o = mirage(&["execute", "-n", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn syntax_error_exits_2_with_bash_wording() {
    let o = mirage(&["execute", "-n", "-c", "echo a\nif true; then echo b; fi fi"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "nothing runs: {o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err,
        "mirage: -c: line 2: syntax error near unexpected token `fi'\nmirage: -c: line 2: `if true; then echo b; fi fi'\n"
    );
    let o = mirage(&["execute", "-n", "-c", "echo \"open"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("unexpected EOF while looking for matching `\"'")
    );
}
