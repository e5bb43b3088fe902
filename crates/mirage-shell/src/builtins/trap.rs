//! `trap ACTION SIGNAL...`: records traps (`EXIT` runs at the end of the
//! script).

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `trap ACTION SIGNAL...`: records traps (`EXIT` runs at the end of the
/// script).
pub struct Trap;

#[async_trait]
impl Builtin for Trap {
    fn names(&self) -> &'static [&'static str] {
        &["trap"]
    }

    async fn run(
        &self,
        __interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        __io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        if args.len() >= 2 {
            for sig in &args[1..] {
                let sig = sig.trim_start_matches("SIG").to_string();
                let sig = if sig == "0" { "EXIT".to_string() } else { sig };
                if args[0] == "-" {
                    st.traps.remove(&sig);
                } else {
                    st.traps.insert(sig, args[0].clone());
                }
            }
        }
        Ok(0)
    }
}
