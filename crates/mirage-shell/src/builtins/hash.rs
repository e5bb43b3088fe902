//! `hash`: Mirage looks commands up in its registry every time, so the
//! table is always empty: `hash` says `hash: hash table empty`, `hash
//! -r` succeeds, `hash NAME` succeeds when NAME is a command (bash:
//! `hash: NAME: not found`, status 1, otherwise). Other options are not
//! supported (exit 2).

use async_trait::async_trait;

use super::{Builtin, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `hash` builtin.
pub struct Hash;

#[async_trait]
impl Builtin for Hash {
    fn names(&self) -> &'static [&'static str] {
        &["hash"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        if args.is_empty() {
            super::out(io, b"hash: hash table empty\n").await?;
            return Ok(0);
        }
        let mut status = 0;
        for a in args {
            match a.as_str() {
                "-r" | "--" => {}
                o if o.starts_with('-') && o.len() > 1 => {
                    return Ok(unsupported(io, &format!("hash {o}")).await);
                }
                n if super::is_builtin(n) || interp.host.has_command(n) => {}
                n => {
                    io.err(&format!("{}hash: {n}: not found\n", st.diag()))
                        .await;
                    status = 1;
                }
            }
        }
        Ok(status)
    }
}
