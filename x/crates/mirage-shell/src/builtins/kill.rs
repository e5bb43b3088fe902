//! `kill`: sends a signal to background jobs, which Mirage delivers as a
//! cancellation ([`crate::jobs::kill`]); `-l`/`-L` list signals.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `kill` builtin.
pub struct Kill;

#[async_trait]
impl Builtin for Kill {
    fn names(&self) -> &'static [&'static str] {
        &["kill"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        // `kill -l` / `kill -L`: the signal list (builtins/signals.rs)
        if let Some(a) = argv.get(1)
            && (a == "-l" || a == "-L")
        {
            return super::signals::kill_list(&argv[2..], st, io).await;
        }
        crate::jobs::kill(argv, st, io).await
    }
}
