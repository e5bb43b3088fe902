//! `cd [-L|-P] [DIR]`, `cd -`: changes the session's directory (checked
//! through the VFS).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `cd [-L|-P] [DIR]`, `cd -`: changes the session's directory (checked
/// through the VFS).
pub struct Cd;

#[async_trait]
impl Builtin for Cd {
    fn names(&self) -> &'static [&'static str] {
        &["cd"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let mut args = argv.get(1..).unwrap_or_default();
        // `-P`: the new directory with its symlinks resolved (the last of
        // `-L`/`-P` wins, as bash's)
        let mut physical = false;
        // options (-L, -P, -e, -@, grouped) up to `--` or the first operand
        while let Some(a) = args.first() {
            if a == "--" {
                args = &args[1..];
                break;
            }
            if a.len() < 2 || !a.starts_with('-') {
                break;
            }
            if let Some(bad) = a[1..].chars().find(|c| !"LPe@".contains(*c)) {
                io.err(&format!(
                    "{}cd: -{bad}: invalid option\ncd: usage: cd [-L|[-P [-e]] [-@]] [dir]\n",
                    st.diag()
                ))
                .await;
                return Ok(2);
            }
            for c in a[1..].chars() {
                match c {
                    'P' => physical = true,
                    'L' => physical = false,
                    _ => {}
                }
            }
            args = &args[1..];
        }
        let target = match args.first() {
            None => st.get("HOME").unwrap_or_else(|| "/".into()),
            Some(a) if a == "-" => {
                let old = st.get("OLDPWD").unwrap_or_else(|| st.cwd.clone());
                out(io, &bytestr::encode(&format!("{old}\n"))).await?;
                old
            }
            Some(a) => a.clone(),
        };
        if args.len() > 1 {
            io.err(&format!("{}cd: too many arguments\n", st.diag()))
                .await;
            return Ok(1);
        }
        let path = mirage_types::join_path(&st.cwd, &target);
        match interp.vfs.stat(&path).await {
            Ok(s) if s.is_dir() => {
                let path = if physical {
                    interp.vfs.realpath(&path).await.unwrap_or(path)
                } else {
                    path
                };
                let old = std::mem::replace(&mut st.cwd, path.clone());
                st.set_exported("OLDPWD", old);
                st.set_exported("PWD", path);
                Ok(0)
            }
            Ok(_) => {
                io.err(&format!("{}cd: {target}: Not a directory\n", st.diag()))
                    .await;
                Ok(1)
            }
            Err(e) => {
                io.err(&format!("{}cd: {target}: {}\n", st.diag(), e.message()))
                    .await;
                Ok(1)
            }
        }
    }
}
