#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `mirage shell` in a real terminal: tmux runs it, `send-keys` types and
//! `capture-pane` reads the screen. Each test has its own tmux server
//! (`tmux -L`), its own `HOME` (for `~/.mirage/history`) and its own
//! directory mounted at `/workspace`. Skipped (reported as ignored, with
//! a message) when tmux is not installed; a libtest-mimic harness, so the
//! skip is decided at run time.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a screen may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(10);

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let skip = !have_tmux();
    let tests: [(&str, fn()); 5] = [
        (
            "incomplete_lines_continue_on_ps2",
            incomplete_lines_continue_on_ps2,
        ),
        (
            "ctrl_c_cancels_the_running_line",
            ctrl_c_cancels_the_running_line,
        ),
        ("history_persists_across_runs", history_persists_across_runs),
        (
            "history_without_writable_home",
            history_without_writable_home,
        ),
        (
            "tab_completes_commands_and_paths",
            tab_completes_commands_and_paths,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            libtest_mimic::Trial::test(name, move || {
                f();
                Ok(())
            })
            .with_ignored_flag(skip)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: tmux is not installed; the terminal tests of `mirage shell` did not run"
        );
    }
    ok
}

/// One `mirage shell` in a tmux pane.
struct Term {
    socket: String,
}

impl Term {
    /// Starts `mirage shell` with `HOME=home` in directory `dir`; when it
    /// exits the pane shows `MIRAGE-EXIT=<status>`.
    fn start(name: &str, home: &Path, dir: &Path) -> Term {
        let socket = format!("mirage-test-{name}-{}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_mirage");
        let cmd = format!(
            "env HOME='{}' '{bin}' shell; echo MIRAGE-EXIT=$?; sleep 60",
            home.display()
        );
        let st = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
            ])
            .args(["-y", "30", "-c"])
            .arg(dir)
            .arg(cmd)
            .status()
            .unwrap();
        assert!(st.success(), "tmux new-session failed");
        let t = Term { socket };
        t.wait_for("the first prompt", |s| s.contains("mirage:/workspace$"));
        t
    }

    /// `tmux send-keys` of each argument (key names like `Enter`, `C-c`,
    /// `Tab`, or literal text).
    fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0"])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success(), "tmux send-keys failed");
    }

    /// Types `text` literally, then Enter.
    fn line(&self, text: &str) {
        let st = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "-l", text])
            .status()
            .unwrap();
        assert!(st.success());
        self.keys(&["Enter"]);
    }

    /// The visible screen, trailing blank lines dropped.
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string()
    }

    /// Types `text` and Enter ([`Term::line`]), then waits for the screen
    /// to satisfy `pred` ([`Term::wait_for`]): one step of a session.
    fn run(&self, text: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.line(text);
        self.wait_for(what, pred)
    }

    /// Presses Enter, then waits for the screen to satisfy `pred`.
    fn enter(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.keys(&["Enter"]);
        self.wait_for(what, pred)
    }

    /// Types `text` (no Enter) and Tab, then waits for the screen to
    /// satisfy `pred`: one completion.
    fn complete(&self, text: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.keys(&["-l", text]);
        self.keys(&["Tab"]);
        self.wait_for(what, pred)
    }

    /// Waits until the screen satisfies `pred`; fails the test (showing the
    /// screen) after [`WAIT`].
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        // ends only this test's own tmux server
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn dirs() -> (tempfile::TempDir, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("unique_dir")).unwrap();
    std::fs::write(work.path().join("unique_dir/inner_file.txt"), "inner\n").unwrap();
    std::fs::write(work.path().join("notes.txt"), "hello\n").unwrap();
    (home, work)
}

fn incomplete_lines_continue_on_ps2() {
    let (home, work) = dirs();
    let t = Term::start("ps2", home.path(), work.path());
    t.run("echo \"ab", "PS2 after an open quote", |s| {
        s.ends_with("\n>")
    });
    t.run("cd\"", "the quoted lines", |s| {
        s.contains("\nab\ncd\nmirage:/workspace$")
    });
    t.line("if true; then");
    t.line("echo yes-if");
    t.run("fi", "the if", |s| s.contains("> fi\nyes-if\n"));
    t.line("echo one |");
    t.run("tr o 0", "the pipe", |s| s.contains("0ne\n"));
    t.line("cat <<END");
    t.line("doc line");
    t.run("END", "the here-document", |s| {
        s.contains("> END\ndoc line\n")
    });
    t.line("echo back\\");
    t.run("slash", "the backslash-newline", |s| {
        s.contains("\nbackslash\n")
    });
    // aliases expand, as in an interactive bash
    t.line("alias hi='echo aliased'");
    t.run("hi there", "the alias", |s| s.contains("\naliased there\n"));
    // a real syntax error: reported at once, status 2
    t.run("fi", "the syntax error", |s| {
        s.contains("bash: syntax error near unexpected token `fi'")
    });
    t.run("echo st=$?", "status 2", |s| s.contains("st=2"));
    // PS2 and PS1 from the variables (HOME is /workspace: `\\W` is `~`)
    t.line("PS2='cont> '; PS1='[\\W]% '");
    t.run("echo $((1 +", "$PS2", |s| s.ends_with("cont>"));
    t.run("2))", "$PS1", |s| s.contains("\n3\n[~]%"));
    // PS1 gets parameter and command expansion; $? is not disturbed
    t.run(
        "PS1='<$?:${PWD##*/}:$(echo cs)> '",
        "an expanded PS1",
        |s| s.ends_with("<0:workspace:cs>"),
    );
    t.run("false", "$? in PS1", |s| s.ends_with("<1:workspace:cs>"));
    t.run("echo st=$?", "status kept", |s| s.contains("\nst=1\n"));
    // the EXIT trap waits for the shell to exit
    t.line("trap 'echo bye-trap' EXIT");
    t.run("echo after-trap", "the line after trap", |s| {
        s.contains("\nafter-trap\n")
    });
    assert!(!t.screen().contains("\nbye-trap"));
    t.run("echo not-exit; f() { exit 7; }", "no exit", |s| {
        s.contains("\nnot-exit\n")
    });
    t.run(
        "if true; then f; fi; echo not-reached",
        "exit status",
        |s| s.contains("MIRAGE-EXIT=7"),
    );
    assert!(t.screen().contains("\nbye-trap\n"));
    assert!(!t.screen().contains("\nnot-reached"));
}

fn ctrl_c_cancels_the_running_line() {
    let (home, work) = dirs();
    let t = Term::start("ctrlc", home.path(), work.path());
    t.line("sleep 100");
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    t.keys(&["C-c"]);
    t.wait_for("the prompt after Ctrl-C", |s| {
        s.ends_with("sleep 100\n^C\nmirage:/workspace$")
            || s.ends_with("sleep 100\n^C\n\nmirage:/workspace$")
    });
    let took = start.elapsed();
    eprintln!("Ctrl-C of sleep 100 returned to the prompt in {took:?}");
    // a second is the brief's bound; the margin is for a loaded machine
    assert!(took < Duration::from_secs(5), "Ctrl-C took {took:?}");
    t.run("echo st=$?", "status 130", |s| s.contains("st=130"));
    // a tight loop is cancelled too, and the shell goes on
    t.line("while true; do :; done");
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-c"]);
    t.run("echo after=$?", "the loop cancelled", |s| {
        s.contains("after=130")
    });
    // Ctrl-C at the prompt drops the typed text; $? is 130
    t.run("true", "true ran", |s| {
        s.ends_with("true\nmirage:/workspace$")
    });
    t.keys(&["-l", "echo not-run"]);
    t.wait_for("the typed text", |s| s.ends_with("$ echo not-run"));
    t.keys(&["C-c"]);
    t.wait_for("a fresh prompt", |s| {
        s.ends_with("echo not-run\nmirage:/workspace$")
    });
    t.run("echo st2=$?", "status after Ctrl-C at the prompt", |s| {
        s.contains("st2=130")
    });
    assert!(!t.screen().contains("\nnot-run"));
    // Ctrl-D exits with the last status, printing `exit`
    t.line("false");
    // (a key typed while a line runs reaches the terminal in cooked mode:
    // wait for the prompt, as a person does)
    t.wait_for("false ran", |s| s.ends_with("false\nmirage:/workspace$"));
    t.keys(&["C-d"]);
    t.wait_for("Ctrl-D", |s| s.contains("exit\nMIRAGE-EXIT=1"));
}

fn history_persists_across_runs() {
    let (home, work) = dirs();
    {
        let t = Term::start("hist1", home.path(), work.path());
        t.run(
            "echo history-marker-$((6*7))",
            "the first run's output",
            |s| s.ends_with("history-marker-42\nmirage:/workspace$"),
        );
        t.keys(&["C-d"]);
        t.wait_for("exit", |s| s.contains("MIRAGE-EXIT=0"));
    }
    let file = std::fs::read_to_string(home.path().join(".mirage/history")).unwrap();
    assert!(file.contains("echo history-marker-$((6*7))"), "{file}");
    let t = Term::start("hist2", home.path(), work.path());
    t.keys(&["Up"]);
    t.wait_for("the recalled line", |s| {
        s.ends_with("mirage:/workspace$ echo history-marker-$((6*7))")
    });
    t.enter("the recalled line's output", |s| {
        s.contains("\nhistory-marker-42\n")
    });
    // the history builtins see the loaded lines and the ones typed
    t.run("echo typed-$((1+1))", "the typed line", |s| {
        s.contains("\ntyped-2\n")
    });
    t.run("history", "history", |s| {
        s.contains(
            "    2  echo history-marker-$((6*7))\n    3  echo typed-$((1+1))\n    4  history\n",
        )
    });
    t.line("fc -l -2");
    // (the terminal shows fc's tab as blanks)
    t.wait_for("fc -l", |s| {
        s.lines()
            .any(|l| l.starts_with("3 ") && l.ends_with(" echo typed-$((1+1))"))
            && s.lines()
                .any(|l| l.starts_with("4 ") && l.ends_with(" history"))
    });
    t.line("fc -s typed=again echo");
    // (its stderr and the command's stdout reach the terminal by two streams)
    t.wait_for("fc -s", |s| {
        s.contains("\necho again-$((1+1))\n") && s.contains("\nagain-2\n")
    });
    t.line("if true; then");
    t.line("echo multi");
    t.line("fi");
    t.run("history 1", "a multi-line entry", |s| {
        s.contains("    8  history 1\n")
    });
    t.run("history 3 | head -n 1", "joined as bash joins it", |s| {
        s.contains("    7  if true; then echo multi; fi\n")
    });
}

fn history_without_writable_home() {
    let (_home, work) = dirs();
    let t = Term::start("nohome", Path::new("/nonexistent/mirage-home"), work.path());
    t.run("echo still-works", "output", |s| {
        s.contains("\nstill-works\n")
    });
}

fn tab_completes_commands_and_paths() {
    let (home, work) = dirs();
    let t = Term::start("tab", home.path(), work.path());
    // a command name
    t.complete("ech", "the command name", |s| {
        s.ends_with("mirage:/workspace$ echo")
    });
    t.keys(&["C-u"]);
    // a function defined in the session
    t.line("my_func_xyz() { echo from-func; }");
    t.keys(&["-l", "my_func_x"]);
    t.keys(&["Tab"]);
    t.enter("the function", |s| s.contains("\nfrom-func\n"));
    // a virtual path: the directory gets a `/`, then a file inside it
    t.complete("cat /workspace/uniq", "the directory", |s| {
        s.ends_with("$ cat /workspace/unique_dir/")
    });
    t.complete("inn", "the file", |s| {
        s.ends_with("$ cat /workspace/unique_dir/inner_file.txt")
    });
    t.enter("the file's contents", |s| s.contains("\ninner\n"));
    // relative to the cwd, through the mount at /tmp
    t.complete("cat no", "a relative path", |s| {
        s.ends_with("$ cat notes.txt")
    });
    t.enter("notes", |s| s.contains("\nhello\n"));
    // a variable name, and `~/` (HOME is /workspace)
    t.line("unique_var_abc=42");
    t.complete("echo $unique_var_a", "a variable", |s| {
        s.ends_with("$ echo $unique_var_abc")
    });
    t.enter("its value", |s| s.contains("\n42\n"));
    t.complete("cat ~/unique_dir/inn", "a ~/ path", |s| {
        s.ends_with("$ cat ~/unique_dir/inner_file.txt")
    });
    t.keys(&["C-u"]);
    t.complete("ls /tm", "a mount point", |s| s.ends_with("$ ls /tmp/"));
}
