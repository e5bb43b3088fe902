//! `sleep` (moving to the command registry).

use async_trait::async_trait;

use super::{
    Builtin, timeout::bad_short_option, timeout::parse_interval, timeout::saturating_duration,
};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `sleep` (moving to the command registry).
pub struct Sleep;

#[async_trait]
impl Builtin for Sleep {
    fn names(&self) -> &'static [&'static str] {
        &["sleep"]
    }

    async fn run(
        &self,
        __interp: &Interp,
        argv: &[String],
        __st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        sleep(args, io).await
    }
}

/// `sleep NUMBER[SUFFIX]...` as coreutils 9.1: the intervals add up; each
/// invalid one gets `invalid time interval 'X'`, then the `Try` hint and
/// status 1. Sleeps at most an hour (an agent's shell never needs more).
async fn sleep(args: &[String], io: &Io) -> ExecResult {
    let mut ops: &[String] = args;
    if let Some(a) = ops.first() {
        if a == "--" {
            ops = &ops[1..];
        } else if a.starts_with("--") {
            io.err(&format!(
                "sleep: unrecognized option '{a}'\nTry 'sleep --help' for more information.\n"
            ))
            .await;
            return Ok(1);
        } else if let Some(c) = bad_short_option(a) {
            io.err(&format!(
                "sleep: invalid option -- '{c}'\nTry 'sleep --help' for more information.\n"
            ))
            .await;
            return Ok(1);
        }
    }
    if ops.is_empty() {
        io.err("sleep: missing operand\nTry 'sleep --help' for more information.\n")
            .await;
        return Ok(1);
    }
    let mut total = 0.0;
    let mut bad = false;
    for a in ops {
        match parse_interval(a) {
            Some(v) => total += v,
            None => {
                io.err(&format!("sleep: invalid time interval '{a}'\n"))
                    .await;
                bad = true;
            }
        }
    }
    if bad {
        io.err("Try 'sleep --help' for more information.\n").await;
        return Ok(1);
    }
    tokio::time::sleep(saturating_duration(total.min(3600.0))).await;
    Ok(0)
}
