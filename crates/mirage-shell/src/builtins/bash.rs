//! `bash -c STRING [ARG0 [ARG]...]`, `bash FILE`, `bash` reading stdin:
//! a child shell (exported variables only, no functions).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, run_source_named};
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `bash -c STRING [ARG0 [ARG]...]`, `bash FILE`, `bash` reading stdin:
/// a child shell (exported variables only, no functions).
pub struct Bash;

#[async_trait]
impl Builtin for Bash {
    fn names(&self) -> &'static [&'static str] {
        &["bash", "sh"]
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
        let mut i = 0;
        while i < args.len() {
            if args[i] == "-c" {
                let Some(src) = args.get(i + 1) else {
                    io.err(&format!("{name}: -c: option requires an argument\n"))
                        .await;
                    return Ok(2);
                };
                let mut sub = st.clone();
                sub.positional = args
                    .get(i + 3..)
                    .map(<[std::string::String]>::to_vec)
                    .unwrap_or_default();
                if let Some(a0) = args.get(i + 2) {
                    sub.arg0 = a0.clone();
                }
                sub.functions.clear();
                sub.vars.retain(|_, v| v.exported);
                crate::bashargv::new_shell(&mut sub);
                sub.local_frames.clear();
                sub.loop_depth = 0;
                sub.script_name = "bash".into();
                sub.line_base = 0;
                sub.func_depth = 0;
                return Ok(
                    match run_source_named(interp, "bash", src, &mut sub, io).await {
                        Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                        Err(_) => sub.last_status,
                    },
                );
            }
            if args[i].starts_with('-') {
                i += 1;
                continue;
            }
            // bash FILE: run a script from the VFS
            let path = mirage_types::join_path(&st.cwd, &args[i]);
            let data = match interp.vfs.read(&path).await {
                Ok(src) => src.collect().await.unwrap_or_default(),
                Err(e) => {
                    io.err(&format!("{name}: {}: {}\n", args[i], e.message()))
                        .await;
                    return Ok(127);
                }
            };
            let mut sub = st.clone();
            sub.positional = args[i + 1..].to_vec();
            sub.arg0 = args[i].clone();
            sub.script_name = args[i].clone();
            sub.line_base = 0;
            sub.func_depth = 0;
            sub.functions.clear();
            sub.vars.retain(|_, v| v.exported);
            crate::bashargv::new_shell(&mut sub);
            let src = bytestr::decode(&data).into_owned();
            return Ok(
                match run_source_named(interp, "bash", &src, &mut sub, io).await {
                    Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                    Err(_) => sub.last_status,
                },
            );
        }
        // bash reading a script from stdin
        let mut input = io.take_stdin();
        let data = input.read_all().await.unwrap_or_default();
        let mut sub = st.clone();
        sub.script_name = "bash".into();
        sub.line_base = 0;
        sub.func_depth = 0;
        let src = bytestr::decode(&data).into_owned();
        Ok(
            match run_source_named(interp, "bash", &src, &mut sub, io).await {
                Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                Err(_) => sub.last_status,
            },
        )
    }
}
