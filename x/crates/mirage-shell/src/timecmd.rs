//! The `time` keyword (`time [-p] [--] pipeline`), as bash 5.2 runs it:
//! the pipeline runs, then its times are reported on the shell's standard
//! error (the stream of the `time` command itself, so `{ time cmd; }
//! 2>/dev/null` hides the report but `time cmd 2>/dev/null` does not).
//!
//! The report follows `TIMEFORMAT`, or bash's default
//! `\nreal\t%3lR\nuser\t%3lU\nsys\t%3lS` when it is unset; an empty
//! `TIMEFORMAT` prints nothing; `-p` (and, as in bash 5.2, `--`) prints
//! the POSIX form `real 0.00` / `user 0.00` / `sys 0.00` whatever
//! `TIMEFORMAT` says. A newline ends every report. In the format, `%R`,
//! `%U` and `%S` are the real, user and system seconds, with an optional
//! precision digit (`%0R`…`%3R`, larger digits count as 3, default 3) and an
//! optional `l` for the long form (`0m1.250s`); `%P` is the CPU percentage
//! ((user + system) / real, two decimals); `%%` is `%`. Any other
//! character after `%` is bash's error ``TIMEFORMAT: `c': invalid format
//! character`` and no report.
//!
//! Real time is measured with the monotonic clock. User and system time are
//! reported as 0: the shell runs in-process, and the process's CPU time
//! would count the work of every other session and line running in it.
//!
//! The status is the pipeline's. `time` with no pipeline reports (an
//! elapsed time of about 0) and succeeds. A `return` out of the timed
//! command leaves without a report, as in bash; `exit`, `break`,
//! `continue` and errors that end the line report first.

use std::time::{Duration, Instant};

use crate::ast::Cmd;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// bash's report when `TIMEFORMAT` is unset.
pub const DEFAULT_FORMAT: &str = "\nreal\t%3lR\nuser\t%3lU\nsys\t%3lS";

/// The POSIX report of `time -p`.
pub const POSIX_FORMAT: &str = "real %2R\nuser %2U\nsys %2S";

/// The times of one timed command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    /// Elapsed (wall-clock) time.
    pub real: Duration,
    /// User CPU time.
    pub user: Duration,
    /// System CPU time.
    pub sys: Duration,
}

/// Runs `cmd` (a [`Cmd::Time`] body; `posix` for `time -p`) and reports its
/// times on `io`'s stderr. Nested `time time cmd` reports once (in the
/// POSIX form if either asked for it), as bash does.
pub async fn run(
    interp: &Interp,
    posix: bool,
    cmd: &Cmd,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let mut posix = posix;
    let mut cmd = cmd;
    while let Cmd::Time {
        posix: p,
        cmd: inner,
    } = cmd
    {
        posix |= *p;
        cmd = inner;
    }
    let start = Instant::now();
    let r = match empty_status(cmd) {
        Some(s) => Ok(s),
        None => interp.exec(cmd, st, io).await,
    };
    let times = Times {
        real: start.elapsed(),
        ..Times::default()
    };
    if matches!(r, Err(Flow::Return(_))) {
        return r;
    }
    let format = if posix {
        POSIX_FORMAT.to_string()
    } else {
        st.get("TIMEFORMAT")
            .unwrap_or_else(|| DEFAULT_FORMAT.to_string())
    };
    if !format.is_empty() {
        match report(&format, &times) {
            Ok(mut text) => {
                text.push('\n');
                io.err(&text).await;
            }
            Err(c) => {
                let msg = format!("{}TIMEFORMAT: `{c}': invalid format character\n", st.diag());
                io.err(&msg).await;
            }
        }
    }
    r
}

/// The status of a `time` (or `!`) with no command after it: `time` alone
/// succeeds, each `!` around it negates. `None` for a real command.
fn empty_status(cmd: &Cmd) -> Option<i32> {
    match cmd {
        Cmd::Empty => Some(0),
        Cmd::Not(inner) => empty_status(inner).map(|s| i32::from(s == 0)),
        _ => None,
    }
}

/// Formats `times` by a `TIMEFORMAT` text (without the final newline).
/// Errors with the character after `%` that is not a format character
/// (`'\0'` when the text ends after `%l` or a precision digit).
pub fn report(format: &str, times: &Times) -> Result<String, char> {
    let mut out = String::new();
    let mut it = format.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(&next) = it.peek() else {
            // a lone `%` at the end is itself
            out.push('%');
            break;
        };
        if next == '%' {
            it.next();
            out.push('%');
            continue;
        }
        if next == 'P' {
            it.next();
            out.push_str(&percent(times));
            continue;
        }
        let mut precision = 3;
        let mut long = false;
        if let Some(d) = next.to_digit(10) {
            it.next();
            precision = d.min(3);
        }
        if it.peek() == Some(&'l') {
            it.next();
            long = true;
        }
        let value = match it.next() {
            Some('R') => times.real,
            Some('U') => times.user,
            Some('S') => times.sys,
            Some(other) => return Err(other),
            None => return Err('\0'),
        };
        out.push_str(&seconds(value, precision, long));
    }
    Ok(out)
}

/// `d` as bash prints it: seconds with `precision` (0–3) decimals of its
/// milliseconds (truncated), or `MmS.FFFs` when `long`.
fn seconds(d: Duration, precision: u32, long: bool) -> String {
    // bash rounds to milliseconds first
    let ms = (d.as_micros() + 500) / 1000;
    let (secs, frac) = (ms / 1000, ms % 1000);
    let frac = match precision {
        0 => String::new(),
        p => {
            let digits = frac / 10u128.pow(3 - p);
            format!(".{digits:0width$}", width = p as usize)
        }
    };
    if long {
        format!("{}m{}{frac}s", secs / 60, secs % 60)
    } else {
        format!("{secs}{frac}")
    }
}

/// `%P`: (user + system) / real, as a percentage with two decimals.
fn percent(t: &Times) -> String {
    let real = t.real.as_micros();
    let cpu = (t.user + t.sys).as_micros();
    let hundredths = (cpu * 10_000).checked_div(real).unwrap_or(0);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Times {
        Times {
            real: Duration::from_millis(ms),
            user: Duration::from_millis(ms / 2),
            sys: Duration::ZERO,
        }
    }

    #[test]
    fn formats_seconds_as_bash() {
        let x = t(61_257);
        assert_eq!(report("%R", &x).unwrap(), "61.257");
        assert_eq!(
            report("%0R|%1R|%2R|%9R", &x).unwrap(),
            "61|61.2|61.25|61.257"
        );
        assert_eq!(report("%lR %0lR %1lR", &x).unwrap(), "1m1.257s 1m1s 1m1.2s");
        assert_eq!(report("%U %S", &x).unwrap(), "30.628 0.000");
        assert_eq!(report("%P", &x).unwrap(), "49.99");
        assert_eq!(report("a%%b%", &x).unwrap(), "a%b%");
        assert_eq!(
            report(DEFAULT_FORMAT, &t(5)).unwrap(),
            "\nreal\t0m0.005s\nuser\t0m0.002s\nsys\t0m0.000s"
        );
        assert_eq!(
            report(POSIX_FORMAT, &t(1234)).unwrap(),
            "real 1.23\nuser 0.61\nsys 0.00"
        );
    }

    #[test]
    fn rejects_unknown_characters() {
        let x = t(1);
        assert_eq!(report("ab%xcd", &x), Err('x'));
        assert_eq!(report("%l0R", &x), Err('0'));
        assert_eq!(report("%0P", &x), Err('P'));
        assert_eq!(report("%l", &x), Err('\0'));
        assert_eq!(report("%1", &x), Err('\0'));
    }
}
