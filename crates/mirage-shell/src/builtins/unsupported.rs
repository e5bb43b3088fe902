//! bash builtins Mirage does not implement (job control, resource limits,
//! the directory stack, history, completion, signals). Each says
//! `bash: NAME: not supported in mirage` and exits 2, instead of being
//! `command not found` or silently succeeding.

use async_trait::async_trait;

use super::{Builtin, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The unimplemented builtins.
pub struct Unsupported;

#[async_trait]
impl Builtin for Unsupported {
    fn names(&self) -> &'static [&'static str] {
        &["suspend", "times", "logout", "bind", "compopt"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        _st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        Ok(unsupported(io, name).await)
    }
}
