#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The CLI prints output as it is produced: `mirage execute -c LINE` and
//! `mirage shell` (a script on stdin) write each chunk to the process's
//! stdout as it arrives, with flat memory, and stop when the reader of
//! their stdout goes away.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The peak RSS the CLI may reach for any amount of output.
const PEAK_LIMIT_KB: u64 = 64 * 1024;

fn mirage() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mirage"));
    // the default workspace mounts the cwd at /workspace: an empty dir
    c.current_dir(std::env::temp_dir());
    c
}

/// `VmHWM` (peak resident set, KiB) of a running process.
fn peak_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Waits for `child`, sampling its peak RSS every few milliseconds until
/// it exits (the last sample is the high-water mark just before exit).
/// Gives up (kills it and panics) after `limit`.
fn wait_sampling(child: &mut Child, limit: Duration) -> (std::process::ExitStatus, u64) {
    let start = Instant::now();
    let mut peak = 0;
    loop {
        if let Some(kb) = peak_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st, peak);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("mirage did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn execute_one_gib_keeps_flat_memory() {
    one_gib_keeps_flat_memory("cat /dev/zero | head -c 1G");
}

/// The issue's own line: `yes` is endless, `head` closes the pipe after 1 GiB.
#[test]
fn yes_head_one_gib_keeps_flat_memory() {
    one_gib_keeps_flat_memory("yes | head -c 1G");
}

fn one_gib_keeps_flat_memory(line: &str) {
    let mut child = mirage()
        .args(["execute", "-c", line])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, peak) = wait_sampling(&mut child, Duration::from_secs(600));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status:?}: {err}");
    assert!(peak > 0, "no /proc sample");
    assert!(
        peak < PEAK_LIMIT_KB,
        "peak RSS {peak} KiB for 1 GiB of output from {line}"
    );
}

#[test]
fn execute_one_gib_through_a_pipe_counts_every_byte() {
    let mut child = mirage()
        .args(["execute", "-c", "head -c 1G /dev/zero; echo end >&2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0u64;
        loop {
            match out.read(&mut buf).unwrap() {
                0 => return n,
                k => {
                    assert!(buf[..k].iter().all(|&b| b == 0));
                    n += k as u64;
                }
            }
        }
    });
    let (status, peak) = wait_sampling(&mut child, Duration::from_secs(600));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(reader.join().unwrap(), 1 << 30);
    assert!(status.success(), "{status:?}: {err}");
    assert_eq!(err, "end\n");
    assert!(peak < PEAK_LIMIT_KB, "peak RSS {peak} KiB");
}

/// Reads the first bytes of `child`'s stdout, then checks that it is
/// still running: it cannot have finished, because the rest of its output
/// (far more than a pipe and the CLI's bounded channel hold) waits for us.
/// A CLI that collected the output before printing would have ended first.
fn first_bytes_arrive_before_the_end(mut child: Child, total: u64) {
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    assert_eq!(first, [0; 16]);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first bytes came only after mirage had finished"
    );
    let n = std::io::copy(&mut out, &mut std::io::sink()).unwrap();
    assert_eq!(n + 16, total);
    assert!(child.wait().unwrap().success());
}

#[test]
fn execute_prints_before_it_ends() {
    let child = mirage()
        .args(["execute", "-c", "cat /dev/zero | head -c 100M"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    first_bytes_arrive_before_the_end(child, 100 << 20);
}

#[test]
fn shell_script_on_stdin_prints_before_it_ends() {
    let mut child = mirage()
        .arg("shell")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"cat /dev/zero | head -c 100M\n").unwrap();
    drop(stdin);
    first_bytes_arrive_before_the_end(child, 100 << 20);
}

#[test]
fn closed_stdout_stops_an_endless_line() {
    let mut child = mirage()
        .args(["execute", "-c", "cat /dev/zero"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    out.read_exact(&mut buf).unwrap();
    drop(out);
    // the writer thread gets EPIPE, the command BrokenPipe: mirage ends
    let (status, _) = wait_sampling(&mut child, Duration::from_secs(120));
    assert!(!status.success(), "{status:?}");
}

#[test]
fn stdout_and_stderr_and_status_as_before() {
    let out = mirage()
        .args(["execute", "-c", "echo out; echo err >&2; ls /nope; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "err\nls: cannot access '/nope': No such file or directory\n"
    );
    assert_eq!(out.status.code(), Some(3));
}
