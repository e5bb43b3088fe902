//! `pwd`: prints the session's current directory.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `pwd`: prints the session's current directory.
pub struct Pwd;

#[async_trait]
impl Builtin for Pwd {
    fn names(&self) -> &'static [&'static str] {
        &["pwd"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        _argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        out(io, &bytestr::encode(&format!("{}\n", st.cwd))).await?;
        Ok(0)
    }
}
