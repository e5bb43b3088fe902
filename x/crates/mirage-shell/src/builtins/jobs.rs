//! `jobs`, `disown`, `fg` and `bg` over the session's background jobs
//! ([`crate::jobs`]). Without a terminal there is no job control: `fg` and
//! `bg` answer `no job control` with status 1, as bash does under `bash -c`.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `jobs` builtin.
pub struct Jobs;

#[async_trait]
impl Builtin for Jobs {
    fn names(&self) -> &'static [&'static str] {
        &["jobs"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        crate::jobs::jobs(argv, st, io).await
    }
}

/// The `disown` builtin.
pub struct Disown;

#[async_trait]
impl Builtin for Disown {
    fn names(&self) -> &'static [&'static str] {
        &["disown"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        crate::jobs::disown(argv, st, io).await
    }
}

/// `fg` and `bg`: no job control without a terminal.
pub struct FgBg;

#[async_trait]
impl Builtin for FgBg {
    fn names(&self) -> &'static [&'static str] {
        &["fg", "bg"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("fg", String::as_str);
        io.err(&format!("{}{name}: no job control\n", st.diag()))
            .await;
        Ok(1)
    }
}
