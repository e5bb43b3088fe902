//! `let EXPR...`: arithmetic evaluation; status 0 when the last is non-zero.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `let EXPR...`: arithmetic evaluation; status 0 when the last is non-zero.
pub struct Let;

#[async_trait]
impl Builtin for Let {
    fn names(&self) -> &'static [&'static str] {
        &["let"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut last = 0;
        for a in args {
            match crate::arith::eval(a, st) {
                Ok(v) => last = v,
                Err(e) => {
                    io.err(&format!("{}let: {}\n", st.diag(), e.report(a)))
                        .await;
                    return Ok(1);
                }
            }
        }
        Ok(if last != 0 { 0 } else { 1 })
    }
}
