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
        _interp: &Interp,
        _argv: &[String],
        _st: &mut ShellState,
        _io: &Io,
    ) -> ExecResult {
        Ok(0)
    }
}
