//! `sleep`: wait for an interval, as GNU coreutils 9.1 `sleep`
//! (`NUMBER[SUFFIX]...`: the operands add up; suffixes `s`, `m`, `h`, `d`).
//! Sleeps at most an hour: an agent's shell never needs more.

use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

/// The spec of `sleep` (no options: GNU has only `--help`/`--version`).
pub static SPEC: CommandSpec = CommandSpec::new("sleep", &[], PathOperands::None);

crate::register_command!("sleep", SPEC, run);

mirage_types::command_handler!(fn run = body);

/// The longest sleep Mirage does, in seconds.
const MAX_SLEEP: f64 = 3600.0;

/// Parses a GNU time interval (`sleep`, `timeout`): a floating-point number
/// as `strtod` reads it (leading blanks, `inf`, exponents, hex) with an
/// optional suffix `s`, `m`, `h` or `d`. Returns seconds; `None` for NaN, a
/// negative value or anything else coreutils 9.1 calls an `invalid time
/// interval`. Overflow gives `f64::INFINITY` (GNU saturates).
pub fn parse_interval(arg: &str) -> Option<f64> {
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
pub fn saturating_duration(secs: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(std::time::Duration::MAX)
}

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let mut total = 0.0;
    let mut bad = false;
    for a in &p.operands {
        match parse_interval(a) {
            Some(v) => total += v,
            None => {
                ctx.error(format!("invalid time interval {}", gnu_quote(a)))
                    .await;
                bad = true;
            }
        }
    }
    if bad {
        return Err(CmdError::usage(""));
    }
    if total > 0.0 {
        tokio::time::sleep(saturating_duration(total.min(MAX_SLEEP))).await;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_as_gnu() {
        assert_eq!(parse_interval("5m"), Some(300.0));
        assert_eq!(parse_interval("1.5s"), Some(1.5));
        assert_eq!(parse_interval("2h"), Some(7200.0));
        assert_eq!(parse_interval("1d"), Some(86400.0));
        assert_eq!(parse_interval("0.1"), Some(0.1));
        assert_eq!(parse_interval(" 3"), Some(3.0));
        assert_eq!(parse_interval("inf"), Some(f64::INFINITY));
        assert_eq!(parse_interval("1y"), None);
        assert_eq!(parse_interval("nan"), None);
        assert_eq!(parse_interval("-1"), None);
        assert_eq!(parse_interval(""), None);
        assert_eq!(parse_interval("m"), None);
    }

    #[test]
    fn errors_carry_status_and_gnu_wording() {
        use crate::util::testing::{MemVfs, run as run_cmd};
        let vfs = MemVfs::with(&[]);
        let cases: &[(&[&str], &str, i32)] = &[
            (
                &[],
                "sleep: missing operand\nTry 'sleep --help' for more information.\n",
                1,
            ),
            (
                &["1x", "nan"],
                "sleep: invalid time interval \u{2018}1x\u{2019}\nsleep: invalid time interval \u{2018}nan\u{2019}\nTry 'sleep --help' for more information.\n",
                1,
            ),
            (
                &["-z"],
                "sleep: invalid option -- 'z'\nTry 'sleep --help' for more information.\n",
                1,
            ),
            (&["0", "0.0s", "0m"], "", 0),
        ];
        for (args, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "sleep", args, "/", "");
            assert_eq!(
                (out.as_str(), err.as_str(), status),
                ("", *want, *code),
                "{args:?}"
            );
        }
        // a command that runs commands needs the runner: without one, a clear error
        let (_, err, status) = run_cmd(
            &vfs,
            super::super::timeout::SPEC_RUN,
            "timeout",
            &["1", "true"],
            "/",
            "",
        );
        assert_eq!(
            (err.as_str(), status),
            ("timeout: running a command is not available here\n", 125)
        );
    }
}
