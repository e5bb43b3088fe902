//! Builtins Mirage accepts and ignores (`wait`, `shopt`, `hash`, `umask`,
//! `alias`, `unalias`, `jobs`).

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// Builtins Mirage accepts and ignores (`wait`, `shopt`, `hash`, `umask`,
/// `alias`, `unalias`, `jobs`).
pub struct Noop;

#[async_trait]
impl Builtin for Noop {
    fn names(&self) -> &'static [&'static str] {
        &["wait", "shopt", "hash", "umask", "alias", "unalias", "jobs"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        _argv: &[String],
        _st: &mut ShellState,
        _io: &Io,
    ) -> ExecResult {
        Ok(0)
    }
}
