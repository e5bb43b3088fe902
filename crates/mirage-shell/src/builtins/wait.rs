//! `wait`: background jobs (`cmd &`) run to completion when started in
//! Mirage, so `wait` with no operand has nothing to wait for and succeeds,
//! as in bash with no jobs. Waiting for one job (`wait PID`, `wait %1`,
//! `wait -n`) is not supported: it says so and exits 2.

use async_trait::async_trait;

use super::{Builtin, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `wait` builtin.
pub struct Wait;

#[async_trait]
impl Builtin for Wait {
    fn names(&self) -> &'static [&'static str] {
        &["wait"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        _st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        if argv.len() <= 1 {
            return Ok(0);
        }
        Ok(unsupported(io, "wait with an operand").await)
    }
}
