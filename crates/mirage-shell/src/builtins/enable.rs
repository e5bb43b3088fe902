//! `enable [-a] [-nps] [NAME…]`: lists the shell's builtins in bash 5.2's
//! order (`enable NAME` lines; `-n` the disabled ones, `-a` all, `-s` the
//! POSIX special ones) and records `enable -n NAME` / `enable NAME`.
//! Disabling is recorded for the listings only: the builtin still runs
//! (Mirage has no program of that name to fall back to). Loading builtins
//! from shared objects (`-f`, `-d`) is not supported.

use async_trait::async_trait;

use super::getopt::{Getopt, Opt, usage_error};
use super::{Builtin, out, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `enable` builtin.
pub struct Enable;

/// bash 5.2's builtins, in the order `enable` and `compgen -b` list them.
pub(crate) const BASH_BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];

/// The POSIX special builtins (`enable -s`).
const SPECIAL: &[&str] = &[
    ".", ":", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "source", "times", "trap", "unset",
];

/// Whether `name` is a POSIX special builtin: in `set -o posix` mode the
/// assignments before one stay in the shell after it.
pub(crate) fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
}

#[async_trait]
impl Builtin for Enable {
    fn names(&self) -> &'static [&'static str] {
        &["enable"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let (mut all, mut off, mut special) = (false, false, false);
        let mut opts = Getopt::new(args, "anspfd", "");
        while let Some(opt) = opts.next_opt() {
            match opt {
                Opt::Flag('a') => all = true,
                Opt::Flag('n') => off = true,
                Opt::Flag('s') => special = true,
                Opt::Flag(c @ ('f' | 'd')) => {
                    return Ok(unsupported(io, &format!("enable -{c}")).await);
                }
                Opt::Flag(_) => {}
                bad => {
                    const USAGE: &str =
                        "enable: usage: enable [-a] [-dnps] [-f filename] [name ...]\n";
                    return Ok(usage_error(&bad, "enable", USAGE, st, io).await);
                }
            }
        }
        let names = opts.rest();
        if names.is_empty() {
            let mut text = String::new();
            for b in BASH_BUILTINS {
                let disabled = st.extra.disabled.iter().any(|d| d == b);
                if special && !SPECIAL.contains(b) || !all && disabled != off {
                    continue;
                }
                let flag = if disabled { "-n " } else { "" };
                text.push_str(&format!("enable {flag}{b}\n"));
            }
            out(io, text.as_bytes()).await?;
            return Ok(0);
        }
        let mut status = 0;
        for n in names {
            if !BASH_BUILTINS.contains(&n.as_str()) && !super::is_builtin(n) {
                io.err(&format!("{}enable: {n}: not a shell builtin\n", st.diag()))
                    .await;
                status = 1;
                continue;
            }
            st.extra.disabled.retain(|d| d != n);
            if off {
                st.extra.disabled.push(n.clone());
            }
        }
        Ok(status)
    }
}
