#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `shopt` settings and aliases belong to the session: they hold across
//! `Workspace::execute` calls, and the parse-time ones (`extglob`,
//! aliases under `expand_aliases`) apply from the next line read.

use common::run;
use mirage_workspace::Workspace;

mod common;

fn ws() -> Workspace {
    common::ram_ws("/data")
}

#[tokio::test]
async fn aliases_and_extglob_persist_across_lines() {
    let ws = ws();
    run(
        &ws,
        "shopt -s expand_aliases extglob; alias hi='echo hello'",
    )
    .await;
    let (out, err, code) = run(&ws, "hi there").await;
    assert_eq!((out.as_str(), err.as_str(), code), ("hello there\n", "", 0));
    let (out, _, _) = run(&ws, "case 42 in +([0-9])) echo num;; esac").await;
    assert_eq!(out, "num\n");
    // unalias on its own line: the next line no longer expands
    run(&ws, "unalias hi").await;
    let (_, err, code) = run(&ws, "hi").await;
    assert_eq!(code, 127);
    assert!(err.contains("hi: command not found"), "{err}");
    // extglob off again: the pattern is a syntax error, as in bash
    run(&ws, "shopt -u extglob").await;
    let (_, err, code) = run(&ws, "echo @(a)").await;
    assert_eq!(code, 2);
    assert!(
        err.contains("syntax error near unexpected token `('"),
        "{err}"
    );
}

#[tokio::test]
async fn glob_options_persist_and_failglob_abandons_the_line() {
    let ws = ws();
    run(&ws, "touch a.txt .h; shopt -s nullglob dotglob").await;
    let (out, _, _) = run(&ws, "echo x *.zz y; echo *").await;
    assert_eq!(out, "x y\n.h a.txt\n");
    run(&ws, "shopt -s failglob").await;
    let (out, err, code) = run(&ws, "echo *.zz; echo same").await;
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(err.contains("no match: *.zz"), "{err}");
    // the session is still usable
    let (out, _, code) = run(&ws, "echo ok").await;
    assert_eq!((out.as_str(), code), ("ok\n", 0));
}
