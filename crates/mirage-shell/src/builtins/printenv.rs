//! `printenv [NAME]...` (moving to the command registry).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `printenv [NAME]...` (moving to the command registry).
pub struct Printenv;

#[async_trait]
impl Builtin for Printenv {
    fn names(&self) -> &'static [&'static str] {
        &["printenv"]
    }

    async fn run(
        &self,
        __interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let env = st.exported();
        if args.is_empty() {
            let mut buf = String::new();
            for (k, v) in &env {
                buf.push_str(&format!("{k}={v}\n"));
            }
            out(io, &bytestr::encode(&buf)).await?;
            return Ok(0);
        }
        let mut status = 0;
        let mut buf = String::new();
        for a in args {
            match env.get(a) {
                Some(v) => buf.push_str(&format!("{v}\n")),
                None => status = 1,
            }
        }
        out(io, &bytestr::encode(&buf)).await?;
        Ok(status)
    }
}
