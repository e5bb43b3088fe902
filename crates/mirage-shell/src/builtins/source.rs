//! `source FILE [ARG]...` and `. FILE`: runs a script from the VFS in
//! the current shell.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, run_source_named};
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `source FILE [ARG]...` and `. FILE`: runs a script from the VFS in
/// the current shell.
pub struct Source;

#[async_trait]
impl Builtin for Source {
    fn names(&self) -> &'static [&'static str] {
        &["source", "."]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        let Some(file) = args.first() else {
            io.err(&format!(
                "{}{name}: filename argument required\n",
                st.diag()
            ))
            .await;
            return Ok(2);
        };
        let path = mirage_types::join_path(&st.cwd, file);
        let data = match interp.vfs.read(&path).await {
            Ok(src) => match src.collect().await {
                Ok(b) => b,
                Err(e) => {
                    io.err(&format!("{}{file}: {}\n", st.diag(), e.message()))
                        .await;
                    return Ok(1);
                }
            },
            Err(e) => {
                io.err(&format!("{}{file}: {}\n", st.diag(), e.message()))
                    .await;
                return Ok(1);
            }
        };
        let src = bytestr::decode(&data).into_owned();
        let saved = if args.len() > 1 {
            Some(std::mem::replace(&mut st.positional, args[1..].to_vec()))
        } else {
            None
        };
        let argv_pushed = crate::bashargv::enter_source(st, file, saved.is_some());
        st.local_frames.push(Vec::new());
        // messages name the file and count its lines
        let saved_name = std::mem::replace(&mut st.script_name, file.clone());
        let saved_base = std::mem::replace(&mut st.line_base, 0);
        let saved_lineno = st.lineno;
        let r = run_source_named(interp, "source", &src, st, io).await;
        st.script_name = saved_name;
        st.line_base = saved_base;
        st.lineno = saved_lineno;
        st.local_frames.pop();
        crate::bashargv::leave_source(st, argv_pushed);
        if let Some(p) = saved {
            st.positional = p;
        }
        match r {
            Err(Flow::Return(s)) => Ok(s),
            other => other,
        }
    }
}
