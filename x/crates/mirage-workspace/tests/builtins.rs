#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Builtins and the GNU programs that left the shell: a builtin Mirage does
//! not implement says so and exits 2; `env`, `printenv`, `xargs`, `timeout`
//! and `sleep` are registered commands that run commands through the
//! shell's runner.

use common::run;
use mirage_workspace::Workspace;

mod common;

fn ws() -> Workspace {
    common::ram_ws("/data")
}

#[tokio::test]
async fn unimplemented_builtins_say_so_and_exit_2() {
    let ws = ws();
    for (line, what) in [
        ("compopt", "compopt"),
        ("times", "times"),
        ("umask 077", "changing the umask"),
    ] {
        let (out, err, code) = run(&ws, &format!("{line}; echo rc=$?")).await;
        assert_eq!(out, "rc=2\n", "{line}");
        assert_eq!(
            err,
            format!("bash: {what}: not supported in mirage\n"),
            "{line}"
        );
        assert_eq!(code, 0, "{line}");
    }
    // the forms bash defines without jobs or aliases keep working
    let (out, _, _) = run(
        &ws,
        "wait; echo $?; shopt -s expand_aliases; echo $?; alias; echo $?",
    )
    .await;
    assert_eq!(out, "0\n0\n0\n");
}

#[tokio::test]
async fn gnu_programs_are_commands_and_run_commands() {
    let ws = ws();
    let (out, _, _) = run(&ws, "type env xargs; type -t timeout; command -v sleep").await;
    assert_eq!(
        out,
        "env is /usr/bin/env\nxargs is /usr/bin/xargs\nfile\n/usr/bin/sleep\n"
    );
    // builtins run under env, xargs and timeout; functions do not (as GNU)
    let (out, err, code) = run(
        &ws,
        "f() { echo f; }; env X=1 sh -c 'echo $X'; echo a b | xargs -n1 echo; timeout 5m pwd; env f; echo rc=$?",
    )
    .await;
    assert_eq!(out, "1\na\nb\n/data\nrc=127\n");
    assert_eq!(err, "env: \u{2018}f\u{2019}: No such file or directory\n");
    assert_eq!(code, 0);
    // env -i gives the command exactly the environment asked for
    let (out, _, _) = run(&ws, "env -i A=1 printenv").await;
    assert_eq!(out, "A=1\n");
    // timeout stops a command that runs too long
    let (out, _, _) = run(&ws, "timeout 0.1 sleep 10; echo rc=$?").await;
    assert_eq!(out, "rc=124\n");
}

#[tokio::test]
async fn history_records_the_lines_of_each_execute_once_on() {
    let ws = ws();
    // off, as under `bash -c`
    let (out, _, code) = run(&ws, "history; fc -l").await;
    assert_eq!((out.as_str(), code), ("", 0));
    run(&ws, "set -o history").await;
    run(&ws, "echo a\nif true; then\n  echo b\nfi").await;
    let (out, _, _) = run(&ws, "history").await;
    assert_eq!(
        out,
        "    1  echo a\n    2  if true; then   echo b; fi\n    3  history\n"
    );
    let (out, err, _) = run(&ws, "fc -s echo").await;
    assert_eq!((out.as_str(), err.as_str()), ("a\n", "echo a\n"));
    let (out, _, _) = run(&ws, "fc -l -2").await;
    assert_eq!(out, "3\t history\n4\t echo a\n");
}

#[tokio::test]
async fn compgen_c_lists_the_registered_commands() {
    let ws = ws();
    let (out, _, code) = run(&ws, "compgen -c gre").await;
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l == "grep"), "{out}");
    // a registered command is listed once, after the shell's own names
    let (out, _, _) = run(&ws, "f_head() { :; }; compgen -c hea; compgen -c f_h").await;
    assert_eq!(out.lines().filter(|l| *l == "head").count(), 1, "{out}");
    assert!(out.ends_with("f_head\n"), "{out}");
}
