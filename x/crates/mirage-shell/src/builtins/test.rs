//! `test EXPR` and `[ EXPR ]` (the evaluator is `crate::test`).

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `test EXPR` and `[ EXPR ]` (the evaluator is `crate::test`).
pub struct Test;

#[async_trait]
impl Builtin for Test {
    fn names(&self) -> &'static [&'static str] {
        &["test", "["]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        let mut a: Vec<String> = args.to_vec();
        if name == "[" {
            if a.last().map(std::string::String::as_str) != Some("]") {
                io.err(&format!("{}[: missing `]'\n", st.diag())).await;
                return Ok(2);
            }
            a.pop();
        }
        Ok(crate::test::test(interp.vfs.as_ref(), st, &a, io, name).await)
    }
}
