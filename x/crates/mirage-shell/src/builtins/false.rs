//! `false`: does nothing, unsuccessfully.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `false`: does nothing, unsuccessfully.
pub struct False;

#[async_trait]
impl Builtin for False {
    fn names(&self) -> &'static [&'static str] {
        &["false"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        _argv: &[String],
        _st: &mut ShellState,
        _io: &Io,
    ) -> ExecResult {
        Ok(1)
    }
}
