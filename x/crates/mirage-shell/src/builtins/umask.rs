//! `umask`: shows the file-creation mask, `0022` (`-S`:
//! `u=rwx,g=rx,o=rx`; `-p`: `umask 0022`). Mirage's resources choose
//! the modes of new files themselves, so changing the mask (`umask 077`)
//! is not supported: it says so and exits 2.

use async_trait::async_trait;

use super::{Builtin, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `umask` builtin.
pub struct Umask;

#[async_trait]
impl Builtin for Umask {
    fn names(&self) -> &'static [&'static str] {
        &["umask"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        _st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let line: &[u8] = match argv.get(1..).unwrap_or_default() {
            [] => b"0022\n",
            [s] if s == "-S" => b"u=rwx,g=rx,o=rx\n",
            [p] if p == "-p" => b"umask 0022\n",
            _ => return Ok(unsupported(io, "changing the umask").await),
        };
        super::out(io, line).await?;
        Ok(0)
    }
}
