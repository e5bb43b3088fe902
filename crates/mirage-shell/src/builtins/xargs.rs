//! `xargs` (moving to the command registry).

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `xargs` (moving to the command registry).
pub struct Xargs;

#[async_trait]
impl Builtin for Xargs {
    fn names(&self) -> &'static [&'static str] {
        &["xargs"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        crate::xargs::xargs(interp, args, st, io).await
    }
}
