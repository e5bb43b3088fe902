//! `caller [EXPR]`: the line, function and file of an active call, as
//! bash 5.2 prints them (read from `FUNCNAME`, `BASH_LINENO`,
//! `BASH_SOURCE`; see [`crate::trace::caller`]). Outside a function, or
//! for a frame that does not exist, it prints nothing and returns 1.

use async_trait::async_trait;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `caller` builtin.
pub struct Caller;

#[async_trait]
impl Builtin for Caller {
    fn names(&self) -> &'static [&'static str] {
        &["caller"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let args = match args.first().map(String::as_str) {
            Some("--") => &args[1..],
            _ => args,
        };
        let n = match args.first() {
            None => None,
            Some(a) => match a.trim().parse::<i64>() {
                Ok(n) if n < 0 => return Ok(1),
                Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                Err(_) if a.starts_with('-') && a.len() > 1 => {
                    io.err(&format!(
                        "{}caller: {a}: invalid option\ncaller: usage: caller [expr]\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(2);
                }
                Err(_) if crate::trace::caller(st, None).is_none() => return Ok(1),
                Err(_) => {
                    io.err(&format!(
                        "{}caller: {a}: invalid number\ncaller: usage: caller [expr]\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(2);
                }
            },
        };
        match crate::trace::caller(st, n) {
            Some(line) => {
                out(io, &mirage_types::bytestr::encode(&format!("{line}\n"))).await?;
                Ok(0)
            }
            None => Ok(1),
        }
    }
}
