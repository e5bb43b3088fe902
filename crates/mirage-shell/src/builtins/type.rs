//! `type [-t] NAME...`: says what a name is (keyword, function, builtin
//! or a registered command shown as `/usr/bin/NAME`).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, is_builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `type [-t] NAME...`: says what a name is (keyword, function, builtin
/// or a registered command shown as `/usr/bin/NAME`).
pub struct Type;

#[async_trait]
impl Builtin for Type {
    fn names(&self) -> &'static [&'static str] {
        &["type"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut status = 0;
        let mut buf = String::new();
        let terse = args.iter().any(|a| a == "-t");
        for a in args.iter().filter(|a| !a.starts_with('-')) {
            const KEYWORDS: &[&str] = &[
                "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do",
                "done", "in", "function", "select", "time", "{", "}", "!", "[[", "]]",
            ];
            if terse {
                let kind = if st.functions.contains_key(a) {
                    "function"
                } else if KEYWORDS.contains(&a.as_str()) {
                    "keyword"
                } else if is_builtin(a) {
                    "builtin"
                } else if interp.host.has_command(a) {
                    "file"
                } else {
                    status = 1;
                    continue;
                };
                buf.push_str(kind);
                buf.push('\n');
                continue;
            }
            if KEYWORDS.contains(&a.as_str()) {
                buf.push_str(&format!("{a} is a shell keyword\n"));
            } else if st.functions.contains_key(a) {
                buf.push_str(&format!("{a} is a function\n"));
            } else if is_builtin(a) {
                buf.push_str(&format!("{a} is a shell builtin\n"));
            } else if interp.host.has_command(a) {
                buf.push_str(&format!("{a} is /usr/bin/{a}\n"));
            } else {
                io.err(&format!("{}type: {a}: not found\n", st.diag()))
                    .await;
                status = 1;
            }
        }
        out(io, &bytestr::encode(&buf)).await?;
        Ok(status)
    }
}
