//! `alias [-p] [name[=value] ...]` and `unalias [-a] name [name ...]`, as
//! bash 5.2: definitions live in the session's parse settings
//! ([`crate::alias::ParseSettings`]) and expand, under
//! `shopt -s expand_aliases`, from the next line read on.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `alias` and `unalias` builtins.
pub struct Alias;

const ALIAS_USAGE: &str = "alias: usage: alias [-p] [name[=value] ... ]\n";
const UNALIAS_USAGE: &str = "unalias: usage: unalias [-a] name [name ...]\n";

/// `alias NAME='VALUE'` as bash prints a definition (`--` before a name
/// that starts with `-`).
pub(crate) fn definition(name: &str, value: &str) -> String {
    let dash = if name.starts_with('-') { "-- " } else { "" };
    format!("alias {dash}{name}='{}'\n", value.replace('\'', "'\\''"))
}

/// Whether bash accepts `name` as an alias name.
fn valid_name(name: &str) -> bool {
    !name.chars().any(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '/' | '$' | '`' | '=' | '\'' | '"' | '\\' | '|' | '&' | ';' | '(' | ')' | '<' | '>'
            )
    })
}

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
        let unalias = name == "unalias";
        let args = argv.get(1..).unwrap_or_default();
        let mut i = 0;
        let (mut print, mut all) = (false, false);
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            if !a.starts_with('-') || a.len() < 2 {
                break;
            }
            for c in a[1..].chars() {
                match c {
                    'p' if !unalias => print = true,
                    'a' if unalias => all = true,
                    _ => {
                        let usage = if unalias { UNALIAS_USAGE } else { ALIAS_USAGE };
                        io.err(&format!(
                            "{}{name}: -{c}: invalid option\n{usage}",
                            st.diag()
                        ))
                        .await;
                        return Ok(2);
                    }
                }
            }
            i += 1;
        }
        let rest = &args[i..];
        let mut status = 0;
        if unalias {
            if all {
                st.parse.clear();
                return Ok(0);
            }
            if rest.is_empty() {
                io.err(UNALIAS_USAGE).await;
                return Ok(2);
            }
            for n in rest {
                if !st.parse.remove(n) {
                    io.err(&format!("{}unalias: {n}: not found\n", st.diag()))
                        .await;
                    status = 1;
                }
            }
            return Ok(status);
        }
        let mut buf = String::new();
        if rest.is_empty() || print {
            for (n, v) in st.parse.aliases.iter() {
                buf.push_str(&definition(n, v));
            }
        }
        for a in rest {
            match a.split_once('=') {
                Some((n, v)) if !n.is_empty() => {
                    if valid_name(n) {
                        st.parse.define(n, v);
                    } else {
                        io.err(&format!("{}alias: `{n}': invalid alias name\n", st.diag()))
                            .await;
                        status = 1;
                    }
                }
                _ => match st.parse.aliases.get(a.as_str()) {
                    Some(v) => buf.push_str(&definition(a, v)),
                    None => {
                        out(io, &bytestr::encode(&buf)).await?;
                        buf.clear();
                        io.err(&format!("{}alias: {a}: not found\n", st.diag()))
                            .await;
                        status = 1;
                    }
                },
            }
        }
        out(io, &bytestr::encode(&buf)).await?;
        Ok(status)
    }
}
