//! `env [-i] [NAME=VALUE]... [COMMAND [ARG]...]` (moving to the command registry).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out, run_command_words};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `env [-i] [NAME=VALUE]... [COMMAND [ARG]...]` (moving to the command registry).
pub struct Env;

#[async_trait]
impl Builtin for Env {
    fn names(&self) -> &'static [&'static str] {
        &["env"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        // env [NAME=VALUE…] [COMMAND…]
        let mut env = st.exported();
        let mut i = 0;
        while i < args.len() {
            if let Some((k, v)) = args[i].split_once('=') {
                env.insert(k.to_string(), v.to_string());
                i += 1;
            } else if args[i] == "-i" {
                env.clear();
                i += 1;
            } else {
                break;
            }
        }
        if i >= args.len() {
            let mut buf = String::new();
            for (k, v) in &env {
                buf.push_str(&format!("{k}={v}\n"));
            }
            out(io, &bytestr::encode(&buf)).await?;
            return Ok(0);
        }
        let mut sub = st.clone();
        for (k, v) in &env {
            sub.set_exported(k, v.clone());
        }
        run_command_words(interp, &args[i..], &mut sub, io).await
    }
}
