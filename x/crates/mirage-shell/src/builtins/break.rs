//! `break [N]` and `continue [N]`: leave or restart enclosing loops.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `break [N]` and `continue [N]`: leave or restart enclosing loops.
pub struct Break;

#[async_trait]
impl Builtin for Break {
    fn names(&self) -> &'static [&'static str] {
        &["break", "continue"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        if st.loop_depth == 0 {
            io.err(&format!(
                "{}{name}: only meaningful in a `for', `while', or `until' loop\n",
                st.diag()
            ))
            .await;
            return Ok(0);
        }
        if args.len() > 1 {
            // a usage error of a special builtin ends a non-interactive bash
            io.err(&format!("{}{name}: too many arguments\n", st.diag()))
                .await;
            return Err(Flow::Exit(1));
        }
        let n: u32 = match args.first() {
            None => 1,
            Some(a) => match a.trim().parse::<i64>() {
                Ok(n) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
                Ok(_) => {
                    // bash leaves every enclosing loop and fails
                    io.err(&format!(
                        "{}{name}: {a}: loop count out of range\n",
                        st.diag()
                    ))
                    .await;
                    st.last_status = 1;
                    return Err(Flow::Break(
                        u32::try_from(st.loop_depth).unwrap_or(u32::MAX),
                    ));
                }
                Err(_) => {
                    io.err(&format!(
                        "{}{name}: {a}: numeric argument required\n",
                        st.diag()
                    ))
                    .await;
                    return Err(Flow::Exit(128));
                }
            },
        };
        st.last_status = 0;
        Err(if name == "break" {
            Flow::Break(n)
        } else {
            Flow::Continue(n)
        })
    }
}
