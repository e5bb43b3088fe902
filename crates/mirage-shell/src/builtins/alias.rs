//! `alias` and `unalias`: Mirage has no aliases, so the forms that ask
//! about them answer as bash does with none defined (`alias` lists
//! nothing, `alias x` and `unalias x` say `not found`, status 1;
//! `unalias -a` succeeds). Defining one (`alias x=y`) is not supported:
//! it says so and exits 2.

use async_trait::async_trait;

use super::{Builtin, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `alias` and `unalias` builtins.
pub struct Alias;

#[async_trait]
impl Builtin for Alias {
    fn names(&self) -> &'static [&'static str] {
        &["alias", "unalias"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        let mut status = 0;
        for a in argv.get(1..).unwrap_or_default() {
            match a.as_str() {
                "-p" if name == "alias" => {}
                "-a" if name == "unalias" => {}
                "--" => {}
                _ if name == "alias" && a.contains('=') => {
                    return Ok(unsupported(io, "alias definitions").await);
                }
                _ if a.starts_with('-') && a.len() > 1 => {
                    let usage = if name == "alias" {
                        "alias [-p] [name[=value] ... ]"
                    } else {
                        "unalias [-a] name [name ...]"
                    };
                    let bad = a.chars().nth(1).unwrap_or('-');
                    io.err(&format!(
                        "{}{name}: -{bad}: invalid option\n{name}: usage: {usage}\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(2);
                }
                _ => {
                    io.err(&format!("{}{name}: {a}: not found\n", st.diag()))
                        .await;
                    status = 1;
                }
            }
        }
        Ok(status)
    }
}
