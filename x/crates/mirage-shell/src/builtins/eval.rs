//! `eval [ARG]...`: runs its arguments as shell input.

use async_trait::async_trait;

use super::{Builtin, run_source};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `eval [ARG]...`: runs its arguments as shell input.
pub struct Eval;

#[async_trait]
impl Builtin for Eval {
    fn names(&self) -> &'static [&'static str] {
        &["eval"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let src = args.join(" ");
        run_source(interp, &src, st, io).await
    }
}
