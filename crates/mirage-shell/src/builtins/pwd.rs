//! `pwd [-LP]`: prints the session's current directory.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `pwd [-LP]`: prints the session's current directory, as bash 5.2's
/// builtin: `-L` (the default) the logical path the session went through,
/// `-P` the same directory with every symlink resolved (the last of the
/// two wins).
pub struct Pwd;

#[async_trait]
impl Builtin for Pwd {
    fn names(&self) -> &'static [&'static str] {
        &["pwd"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let mut physical = false;
        for a in argv.get(1..).unwrap_or_default() {
            if a == "--" {
                break;
            }
            if a.len() < 2 || !a.starts_with('-') {
                // bash ignores operands
                break;
            }
            for c in a[1..].chars() {
                match c {
                    'P' => physical = true,
                    'L' => physical = false,
                    bad => {
                        io.err(&format!(
                            "{}pwd: -{bad}: invalid option\npwd: usage: pwd [-LP]\n",
                            st.diag()
                        ))
                        .await;
                        return Ok(2);
                    }
                }
            }
        }
        let dir = if physical {
            interp
                .vfs
                .realpath(&st.cwd)
                .await
                .unwrap_or_else(|_| st.cwd.clone())
        } else {
            st.cwd.clone()
        };
        out(io, &bytestr::encode(&format!("{dir}\n"))).await?;
        Ok(0)
    }
}
