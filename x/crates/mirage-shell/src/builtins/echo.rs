//! `echo [-neE] [ARG]...`, as bash 5.2's builtin.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `echo [-neE] [ARG]...`, as bash 5.2's builtin.
pub struct Echo;

#[async_trait]
impl Builtin for Echo {
    fn names(&self) -> &'static [&'static str] {
        &["echo"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        _st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut newline = true;
        let mut interpret = false;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
                for c in a[1..].chars() {
                    match c {
                        'n' => newline = false,
                        'e' => interpret = true,
                        _ => interpret = false,
                    }
                }
                i += 1;
            } else {
                break;
            }
        }
        let mut buf: Vec<u8> = Vec::new();
        let mut stopped = false;
        for (k, a) in args[i..].iter().enumerate() {
            if k > 0 {
                buf.push(b' ');
            }
            if interpret {
                let (b, stop) = crate::printf::escapes(a, true);
                buf.extend_from_slice(&b);
                if stop {
                    stopped = true;
                    break;
                }
            } else {
                buf.extend_from_slice(&bytestr::encode(a));
            }
        }
        if newline && !stopped {
            buf.push(b'\n');
        }
        out(io, &buf).await?;
        Ok(0)
    }
}
