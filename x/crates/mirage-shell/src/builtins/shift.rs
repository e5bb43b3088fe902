//! `shift [N]`: drops positional parameters.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `shift [N]`: drops positional parameters.
pub struct Shift;

#[async_trait]
impl Builtin for Shift {
    fn names(&self) -> &'static [&'static str] {
        &["shift"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let n: usize = match args.first() {
            Some(a) => match a.parse() {
                Ok(n) => n,
                Err(_) => {
                    io.err(&format!(
                        "{}shift: {a}: numeric argument required\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(1);
                }
            },
            None => 1,
        };
        if n > st.positional.len() {
            return Ok(1);
        }
        st.positional.drain(..n);
        Ok(0)
    }
}
