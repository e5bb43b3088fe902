//! `exit [N]`: ends the shell.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `exit [N]`: ends the shell.
pub struct Exit;

#[async_trait]
impl Builtin for Exit {
    fn names(&self) -> &'static [&'static str] {
        &["exit"]
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
            Some(a) => match a.parse::<i64>() {
                Ok(v) => (v & 0xff) as i32,
                Err(_) => {
                    io.err(&format!(
                        "{}exit: {a}: numeric argument required\n",
                        st.diag()
                    ))
                    .await;
                    2
                }
            },
            None => st.last_status,
        };
        st.exited = true;
        Err(Flow::Exit(s))
    }
}
