//! `mapfile [-t] [ARRAY]` / `readarray`: reads stdin lines into an array.

use std::collections::BTreeMap;

use async_trait::async_trait;
use mirage_types::bytestr;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::{ShellState, Value, Var};

/// `mapfile [-t] [ARRAY]` / `readarray`: reads stdin lines into an array.
pub struct Mapfile;

#[async_trait]
impl Builtin for Mapfile {
    fn names(&self) -> &'static [&'static str] {
        &["mapfile", "readarray"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut strip = false;
        let mut var = "MAPFILE".to_string();
        for a in args {
            if a == "-t" {
                strip = true;
            } else if !a.starts_with('-') {
                var = a.clone();
            }
        }
        let mut input = io.take_stdin();
        let mut m = BTreeMap::new();
        let mut i = 0;
        while let Ok(Some(line)) = input.read_line().await {
            let mut s = bytestr::decode_owned(line);
            if strip && s.ends_with('\n') {
                s.pop();
            }
            m.insert(i, s);
            i += 1;
        }
        io.put_stdin(input);
        let mut v = Var::scalar("");
        v.value = Value::Indexed(m);
        st.vars.insert(var, v);
        Ok(0)
    }
}
