//! `wait [-fn] [-p VAR] [ID …]`: waits for background jobs (`cmd &`),
//! which run concurrently ([`crate::jobs`]); statuses and messages as bash.

use async_trait::async_trait;

use super::Builtin;
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
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        crate::jobs::wait(argv, st, io).await
    }
}
