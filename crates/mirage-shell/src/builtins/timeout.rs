//! `timeout` (moving to the command registry).

use async_trait::async_trait;

use super::{Builtin, run_command_words};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `timeout` (moving to the command registry).
pub struct Timeout;

#[async_trait]
impl Builtin for Timeout {
    fn names(&self) -> &'static [&'static str] {
        &["timeout"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        timeout(interp, args, st, io).await
    }
}

/// Parses a GNU time interval (`sleep`, `timeout`): a floating-point number
/// as `strtod` reads it (leading blanks, `inf`, exponents) with an optional
/// suffix `s`, `m`, `h` or `d`. Returns seconds; `None` for NaN, a negative
/// value or anything else coreutils 9.1 calls an `invalid time interval`.
/// Overflow gives `f64::INFINITY` (GNU saturates).
pub(super) fn parse_interval(arg: &str) -> Option<f64> {
    let t = arg.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (num, mult) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        Some('d') => (&t[..t.len() - 1], 86400.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    if v.is_nan() || v < 0.0 {
        return None;
    }
    Some(v * mult)
}

/// A `Duration` for `secs` seconds, saturating (`inf`, `1e30`) at about
/// 584 years instead of panicking as `Duration::from_secs_f64` does.
pub(super) fn saturating_duration(secs: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(std::time::Duration::MAX)
}

/// The `-x` that GNU getopt rejects in `arg`: `invalid option -- 'x'`.
pub(super) fn bad_short_option(arg: &str) -> Option<char> {
    arg.strip_prefix('-')
        .filter(|r| !r.is_empty() && !r.starts_with('-'))
        .and_then(|r| r.chars().next())
}

/// The number of a signal name or number as `timeout -s` takes it.
fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    const NAMES: &[(&str, i32)] = &[
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("TRAP", 5),
        ("ABRT", 6),
        ("BUS", 7),
        ("FPE", 8),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("CHLD", 17),
        ("CONT", 18),
        ("STOP", 19),
        ("TSTP", 20),
        ("TTIN", 21),
        ("TTOU", 22),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// `timeout [OPTION] DURATION COMMAND [ARG]...` as coreutils 9.1: usage
/// errors and invalid intervals exit 125; a timed-out command gives 124
/// (128+9 with `-s KILL`, 128+SIG with `--preserve-status`). `inf` and huge
/// durations mean no limit.
async fn timeout(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let usage = |msg: String| {
        let mut m = msg;
        m.push_str("Try 'timeout --help' for more information.\n");
        m
    };
    let mut sig = 15;
    let mut preserve = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        // options taking a value: -s SIG, -k DUR (also --signal=, --kill-after=)
        let (opt, inline): (&str, Option<&str>) = if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            }
        } else {
            let c = &a[1..2.min(a.len())];
            let rest = &a[1 + c.len()..];
            (c, if rest.is_empty() { None } else { Some(rest) })
        };
        let long = a.starts_with("--");
        let takes_value =
            matches!(opt, "s" | "k") || (long && matches!(opt, "signal" | "kill-after"));
        let value = if takes_value {
            match inline {
                Some(v) => Some(v.to_string()),
                None => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => Some(v.clone()),
                        None => {
                            let m = if long {
                                format!("timeout: option '{a}' requires an argument\n")
                            } else {
                                format!("timeout: option requires an argument -- '{opt}'\n")
                            };
                            io.err(&usage(m)).await;
                            return Ok(125);
                        }
                    }
                }
            }
        } else {
            None
        };
        match (long, opt) {
            (false, "s") | (true, "signal") => {
                let v = value.unwrap_or_default();
                match signal_number(&v) {
                    Some(n) => sig = n,
                    None => {
                        io.err(&usage(format!("timeout: '{v}': invalid signal\n")))
                            .await;
                        return Ok(125);
                    }
                }
            }
            (false, "k") | (true, "kill-after") => {
                let v = value.unwrap_or_default();
                if parse_interval(&v).is_none() {
                    io.err(&usage(format!("timeout: invalid time interval '{v}'\n")))
                        .await;
                    return Ok(125);
                }
            }
            (true, "preserve-status") => preserve = true,
            (true, "foreground" | "verbose") | (false, "v") => {}
            (false, c) => {
                io.err(&usage(format!("timeout: invalid option -- '{c}'\n")))
                    .await;
                return Ok(125);
            }
            (true, _) => {
                io.err(&usage(format!("timeout: unrecognized option '{a}'\n")))
                    .await;
                return Ok(125);
            }
        }
        i += 1;
    }
    let (Some(dur), true) = (args.get(i), args.len() > i + 1) else {
        io.err(&usage(String::new())).await;
        return Ok(125);
    };
    let Some(secs) = parse_interval(dur) else {
        io.err(&usage(format!("timeout: invalid time interval '{dur}'\n")))
            .await;
        return Ok(125);
    };
    let fut = run_command_words(interp, &args[i + 1..], st, io);
    if secs == 0.0 || !secs.is_finite() {
        return fut.await;
    }
    match tokio::time::timeout(saturating_duration(secs), fut).await {
        Ok(r) => r,
        Err(_) if preserve => Ok(128 + sig),
        Err(_) if sig == 9 => Ok(137),
        Err(_) => Ok(124),
    }
}
