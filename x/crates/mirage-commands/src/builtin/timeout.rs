//! `timeout`: run a command with a time limit, as GNU coreutils 9.1
//! `timeout [OPTION] DURATION COMMAND [ARG]...`.
//!
//! `DURATION` takes `sleep`'s suffixes (`5m`, `1.5s`, `2h`, `1d`, `0.1`);
//! `0`, `inf` and durations too large to wait mean no limit. The command
//! runs through [`CommandCtx::runner`] (builtins and registered commands,
//! never a host process). When the limit passes, the command is stopped
//! (its future dropped) and `timeout` exits 124, or 137 with `-s KILL`, or
//! 128+SIGNAL with `--preserve-status`. Usage errors exit 125, a command
//! that does not exist 127. `-k` is checked and accepted: a stopped
//! command is already gone, so there is nothing left to kill.

use mirage_types::Input;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use super::sleep::{parse_interval, saturating_duration};
use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("signal", Some('s'), Some("signal")),
    OptSpec::value("kill-after", Some('k'), Some("kill-after")),
    OptSpec::flag("preserve-status", None, Some("preserve-status")),
    OptSpec::flag("foreground", None, Some("foreground")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
];

/// The spec of `timeout`: options stop at the duration, usage status 125.
pub static SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    usage_status: 125,
    ..CommandSpec::new("timeout", OPTS, PathOperands::None)
};

crate::register_command!("timeout", SPEC, run);

mirage_types::command_handler!(fn run = body);

#[cfg(test)]
pub(crate) const SPEC_RUN: mirage_types::command::CommandFn = run;

/// The number of a signal given as `timeout -s` takes it: a number from 0
/// to 64, or a name with or without `SIG`, in any case (`KILL`, `sigterm`).
pub fn signal_number(s: &str) -> Option<i32> {
    mirage_types::signal::number(s)
}

/// The name of signal `n` as `timeout -v` prints it (`TERM`), or its number.
fn signal_name(n: i32) -> String {
    mirage_types::signal::name(n).map_or_else(|| n.to_string(), str::to_string)
}

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let usage = |msg: String| CmdError::usage(msg).with_status(125);
    let mut sig = 15;
    for (key, value) in &p.opts {
        let v = value.as_deref().unwrap_or_default();
        match *key {
            "signal" => {
                sig = signal_number(v)
                    .ok_or_else(|| usage(format!("{}: invalid signal", gnu_quote(v))))?;
            }
            "kill-after" if parse_interval(v).is_none() => {
                return Err(usage(format!("invalid time interval {}", gnu_quote(v))));
            }
            _ => {}
        }
    }
    let (Some(dur), true) = (p.operands.first(), p.operands.len() > 1) else {
        return Err(usage(String::new()));
    };
    let secs = parse_interval(dur)
        .ok_or_else(|| usage(format!("invalid time interval {}", gnu_quote(dur))))?;
    let argv = p.operands[1..].to_vec();
    let Some(runner) = ctx.runner.clone() else {
        return Err(CmdError::new(
            125,
            "running a command is not available here",
        ));
    };
    if !runner.has_command(&argv[0]) {
        return Err(CmdError::new(
            127,
            format!(
                "failed to run command {}: No such file or directory",
                gnu_quote(&argv[0])
            ),
        ));
    }
    ctx.stdout.flush().await?;
    let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
    let fut = runner.run_argv(
        argv.clone(),
        ctx.cwd.clone(),
        ctx.env.clone(),
        stdin,
        ctx.stdout.sink().clone(),
        ctx.stderr.sink().clone(),
    );
    if secs == 0.0 || !secs.is_finite() {
        return Ok(fut.await);
    }
    match tokio::time::timeout(saturating_duration(secs), fut).await {
        Ok(status) => Ok(status),
        Err(_) => {
            if p.has("verbose") {
                ctx.error(format!(
                    "sending signal {} to command {}",
                    signal_name(sig),
                    gnu_quote(&argv[0])
                ))
                .await;
            }
            Ok(if p.has("preserve-status") {
                128 + sig
            } else if sig == 9 {
                137
            } else {
                124
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(signal_number("KILL"), Some(9));
        assert_eq!(signal_number("sigkill"), Some(9));
        assert_eq!(signal_number("term"), Some(15));
        assert_eq!(signal_number("0"), Some(0));
        assert_eq!(signal_number("64"), Some(64));
        assert_eq!(signal_number("65"), None);
        assert_eq!(signal_number("FOO"), None);
        assert_eq!(signal_name(15), "TERM");
    }
}
