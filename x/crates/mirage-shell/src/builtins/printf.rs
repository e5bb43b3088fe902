//! `printf [-v VAR] FORMAT [ARG]...`: the builtin wrapper around the
//! shell's printf engine (`crate::printf`).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `printf [-v VAR] FORMAT [ARG]...`: the builtin wrapper around the
/// shell's printf engine (`crate::printf`).
pub struct Printf;

#[async_trait]
impl Builtin for Printf {
    fn names(&self) -> &'static [&'static str] {
        &["printf"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut args = args;
        let mut var: Option<String> = None;
        if args.first().map(std::string::String::as_str) == Some("-v") {
            var = args.get(1).cloned();
            args = &args[args.len().min(2)..];
        }
        if let Some(v) = &var {
            let base = v.split('[').next().unwrap_or_default();
            if !super::valid_name(base) || v.contains('[') && !v.ends_with(']') {
                io.err(&format!(
                    "{}printf: `{v}': not a valid identifier\n",
                    st.diag()
                ))
                .await;
                return Ok(2);
            }
        }
        if args.first().map(std::string::String::as_str) == Some("--") {
            args = &args[1..];
        }
        let Some(fmt) = args.first() else {
            io.err(&format!(
                "{}printf: usage: printf [-v var] format [arguments]\n",
                st.diag()
            ))
            .await;
            return Ok(2);
        };
        // `%(…)T` uses the exported TZ, as bash's localtime does
        let tz = st
            .vars
            .get("TZ")
            .filter(|v| v.exported)
            .map(|v| v.value.scalar());
        let p = crate::printf::printf_tz(fmt, &args[1..], tz.as_deref());
        for e in p.warnings.iter().chain(&p.errors) {
            io.err(&format!("{}printf: {e}\n", st.diag())).await;
        }
        match var {
            Some(v) => crate::expand::assign_subscripted(st, &v, bytestr::decode_owned(p.out)),
            None => out(io, &p.out).await?,
        }
        Ok(if p.errors.is_empty() { 0 } else { 1 })
    }
}
