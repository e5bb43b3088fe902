//! `:` and `true`: do nothing, successfully.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `:` and `true`: do nothing, successfully.
pub struct True;

#[async_trait]
impl Builtin for True {
    fn names(&self) -> &'static [&'static str] {
        &[":", "true"]
    }

    async fn run(
        &self,
        __interp: &Interp,
        _argv: &[String],
        __st: &mut ShellState,
        __io: &Io,
    ) -> ExecResult {
        Ok(0)
    }
}
