#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every reproducer quoted in issue 11 ("nothing lost, nothing crashes"),
//! each run in a child process (this test binary re-executing itself) whose
//! address space is limited to 2 GiB (`prlimit --as`), with the workspace on
//! a thread of 2 MiB of stack. Each must end with a clean exit (no signal:
//! no panic abort, no stack overflow, no failed allocation) within a bounded
//! time. The shell's own exit status does not matter here; the behaviour of
//! each line is checked by its own test or conformance case.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mirage_resource_disk::DiskResource;
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

/// The stack of the thread the workspace runs on in the child.
const STACK: usize = 2 << 20;
/// The child's address-space limit.
const ADDRESS_SPACE: u64 = 2 << 30;
/// How long one reproducer may take (debug build, shared CPU).
const DEADLINE: Duration = Duration::from_secs(240);

/// The reproducers: (name, line). Large ones are generated.
fn reproducers() -> Vec<(&'static str, String)> {
    let n = 100_000;
    let s = |x: &str| x.to_string();
    vec![
        // symlinks
        (
            "rm-r-keeps-link-target",
            s(
                "mkdir -p keep d/a && echo x > keep/f && ln -s ../keep d/a/link && rm -rf d/a; ls keep",
            ),
        ),
        (
            "find-two-dot-links",
            s("mkdir -p t && ln -s . t/l1 && ln -s . t/l2; find t | wc -l; find -L t | wc -l"),
        ),
        (
            "walkers-do-not-follow",
            s(
                "mkdir -p w && ln -s . w/self; grep -r x w; ls -R w | wc -l; du w | wc -l; cp -r w w2; echo done",
            ),
        ),
        (
            "write-through-link",
            s("echo old > tgt && ln -s tgt lnk && echo NEW > lnk; cat tgt; ls"),
        ),
        (
            "link-loop",
            s("ln -s loop1 loop2 && ln -s loop2 loop1; cat loop1; echo rc=$?"),
        ),
        (
            "find-delete-link",
            s(
                "mkdir -p keep2 e && echo y > keep2/f && ln -s ../keep2 e/l && find e -delete; ls keep2",
            ),
        ),
        (
            "mv-link-across-mounts",
            s("mkdir -p keep3 && ln -s keep3 l3 && mv l3 /tmp/l3; ls /tmp"),
        ),
        // bytes
        (
            "latin1-cmdsubst",
            s("printf 'caf\\xe9 ol\\xe9' > l.txt; x=$(cat l.txt); printf %s \"$x\" | wc -c"),
        ),
        (
            "bad-utf8-names",
            s("touch $'bad\\xff' $'bad\\xef\\xbf\\xbd'; ls | od -c | head -3; rm bad*; ls"),
        ),
        (
            "dollar-quote-xff",
            s("x=$'\\xff'; printf %s \"$x\" | od -An -tx1; read -r y <<< \"$x\"; echo ${#y}"),
        ),
        // redirect targets
        (
            "redirect-one-word",
            s(
                "echo hi > /tmp/o extra; cat /tmp/o; sort > out in; cat < l.txt l.txt; echo a > >(cat)",
            ),
        ),
        // panics and aborts
        ("sleep-nan", s("sleep nan; sleep -nan; echo rc=$?")),
        (
            "timeout-inf",
            s("timeout inf true; timeout 1e30 true; timeout abc true; echo rc=$?"),
        ),
        (
            "eval-recursion",
            s("e='eval \"$e\"'; eval \"$e\"; echo rc=$?"),
        ),
        (
            "source-recursion",
            s("echo 'source /tmp/s.sh' > /tmp/s.sh; source /tmp/s.sh; echo rc=$?"),
        ),
        (
            "bash-c-recursion",
            s("e='bash -c \"$e\"'; export e; bash -c \"$e\"; echo rc=$?"),
        ),
        (
            "bash-file-recursion",
            s("echo 'bash /tmp/b.sh' > /tmp/b.sh; bash /tmp/b.sh; echo rc=$?"),
        ),
        (
            "arith-var-recursion",
            s("a=b; b=a; echo $((a)); echo rc=$?"),
        ),
        (
            "and-chain-100k",
            format!("{}true; echo rc=$?", "true && ".repeat(n)),
        ),
        (
            "nested-braces-100k",
            format!("{}true; {} echo rc=$?", "{ ".repeat(n), "}; ".repeat(n)),
        ),
        (
            "nested-subshells-100k",
            format!("{}true{}; echo rc=$?", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "nested-if-100k",
            format!(
                "{}true; {} echo rc=$?",
                "if true; then ".repeat(n),
                "fi; ".repeat(n)
            ),
        ),
        (
            "nested-default-100k",
            format!(
                "echo ${{x:-{}y{}; echo rc=$?",
                "${x:-".repeat(n),
                "}".repeat(n + 1)
            ),
        ),
        (
            "arith-parens-1m",
            format!(
                "echo $(({}1{})); echo rc=$?",
                "(".repeat(1_000_000),
                ")".repeat(1_000_000)
            ),
        ),
        (
            "printf-width-i64",
            s("printf '%*d' 9223372036854775807 1; echo rc=$?"),
        ),
        (
            "printf-precision-huge",
            s("printf '%.9999999999f' 1; echo rc=$?"),
        ),
        (
            "printf-width-2g",
            s("printf '%*s' 2000000000 x | wc -c; echo rc=$?"),
        ),
        (
            "grep-F-f-million",
            s("seq 1 1000000 > /tmp/pats; seq 1 2000 | grep -c -F -f /tmp/pats; echo rc=$?"),
        ),
        // runaway cost
        (
            "replace-all-9000",
            s("l=$(printf 'a%.0s' {1..9000}); x=${l//a/bb}; y=${l/z/y}; echo ${#x} ${#y}"),
        ),
        (
            "brace-explosion",
            s("echo {1..1000}{1..1000}{1..1000} | wc -c; echo rc=$?"),
        ),
        (
            "value-doubling",
            s("x=a; for i in {1..40}; do x=$x$x; done; echo ${#x}; echo rc=$?"),
        ),
        // bad input
        (
            "bad-input-statuses",
            s(
                "set -o bogus; echo $?; for i in 1; do break 0; done; echo $?; touch -d garbage f; echo $?; timeout abc true; echo $?",
            ),
        ),
        (
            "unset-element",
            s("b=(1 2 3); unset 'b[0]'; unset b[1]; echo ${b[@]}"),
        ),
        (
            "dev-files",
            s(
                "cat /dev/null; echo rc=$?; head -c 3 /dev/zero | wc -c; echo x > /dev/stderr; ls /dev/fd/0 >/dev/null; exec 2>&1; echo e >&2",
            ),
        ),
        // lines bash accepts
        (
            "parse-forms",
            s(
                "x=a; echo ${x@U} ${x@Q}; set -- a; echo ${!@Q} 2>/dev/null; exec 3<> /tmp/rw; cat <&-; echo x >&-; echo y 1>&-; echo ok",
            ),
        ),
        (
            "parse-heredoc-in-subst",
            s("x=$(cat <<'EOF'\nline one\nEOF\n); echo \"$x\""),
        ),
        (
            "parse-misc",
            s(
                "cat <(echo a) x<(echo b) 2>/dev/null; for x in ; do echo no; done; [ \\( x \\) ] && echo y; ! if false; then :; fi; cat > /tmp/f <<< X; cat /tmp/f; echo $(case a in a) echo A;; esac)",
            ),
        ),
    ]
}

fn workspace(dir: &std::path::Path) -> Workspace {
    let disk = Arc::new(DiskResource::open(dir).expect("disk mount"));
    Workspace::builder()
        .mount("/data", disk, MountMode::Write)
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .cwd("/data")
        .build()
        .expect("workspace")
}

/// The child: runs one reproducer on a small-stack thread, prints a summary.
#[test]
fn child_entry() {
    let Ok(idx) = std::env::var("MIRAGE_REPRO") else {
        return;
    };
    let idx: usize = idx.parse().expect("index");
    let (name, line) = reproducers().swap_remove(idx);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let t = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let ws = workspace(&path);
                let o = ws.execute("default", &line, None).await.expect("execute");
                (
                    o.exit_code,
                    o.stdout.len(),
                    String::from_utf8_lossy(&o.stderr[..o.stderr.len().min(300)]).into_owned(),
                )
            })
        })
        .expect("thread");
    let (code, out_len, err) = t.join().expect("the workspace thread panicked");
    println!("REPRO {name}: exit {code}, {out_len} stdout bytes, stderr: {err:?}");
}

#[test]
fn every_issue_11_reproducer_ends_cleanly_with_small_stack_and_2g_address_space() {
    if std::env::var("MIRAGE_REPRO").is_ok() {
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    let limited = Command::new("prlimit")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut failures = Vec::new();
    for (i, (name, _)) in reproducers().iter().enumerate() {
        let mut cmd = if limited {
            let mut c = Command::new("prlimit");
            c.arg(format!("--as={ADDRESS_SPACE}")).arg("--").arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
            .env("MIRAGE_REPRO", i.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn child");
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break Some(s);
            }
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child
            .wait_with_output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr)
            })
            .unwrap_or_default();
        let summary = out
            .lines()
            .find_map(|l| l.find("REPRO ").map(|i| &l[i..]))
            .unwrap_or("(no summary)")
            .to_string();
        eprintln!("[{:>6.1}s] {summary}", start.elapsed().as_secs_f64());
        match status {
            None => failures.push(format!("{name}: still running after {DEADLINE:?}")),
            Some(s) if !s.success() || !out.contains("REPRO ") => {
                use std::os::unix::process::ExitStatusExt;
                let tail: String = out
                    .chars()
                    .rev()
                    .take(600)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                failures.push(format!("{name}: {s:?} (signal {:?})\n{tail}", s.signal()));
            }
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} reproducer(s) did not end cleanly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
