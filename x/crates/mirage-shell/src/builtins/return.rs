//! `return [N]`: leaves a function or sourced script.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `return [N]`: leaves a function or sourced script.
pub struct Return;

#[async_trait]
impl Builtin for Return {
    fn names(&self) -> &'static [&'static str] {
        &["return"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let s = match args.first() {
            Some(a) => a.parse::<i64>().map(|v| (v & 0xff) as i32).unwrap_or(2),
            None => st.last_status,
        };
        if st.local_frames.is_empty() {
            io.err(&format!(
                "{}return: can only `return' from a function or sourced script\n",
                st.diag()
            ))
            .await;
            return Ok(2);
        }
        Err(Flow::Return(s))
    }
}
