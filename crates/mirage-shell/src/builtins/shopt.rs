//! `shopt`: bash's optional behaviours. Mirage behaves as bash 5.2 does
//! with every option at its default, so the forms that ask (`shopt`,
//! `shopt NAME`, `shopt -p`, `shopt -q NAME`) answer with the defaults,
//! and setting an option to its default, or one that only matters to an
//! interactive shell (`shopt -s checkwinsize`, `shopt -s expand_aliases`:
//! Mirage has no aliases), succeeds. Changing one that would change what a
//! script does (`shopt -s nullglob`, `extglob`, `globstar`, …) is not
//! supported: it says so and exits 2.

use async_trait::async_trait;

use super::{Builtin, out, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// Every `shopt` option of bash 5.2 and its default in `bash -c`.
const OPTIONS: &[(&str, bool)] = &[
    ("autocd", false),
    ("assoc_expand_once", false),
    ("cdable_vars", false),
    ("cdspell", false),
    ("checkhash", false),
    ("checkjobs", false),
    ("checkwinsize", true),
    ("cmdhist", true),
    ("compat31", false),
    ("compat32", false),
    ("compat40", false),
    ("compat41", false),
    ("compat42", false),
    ("compat43", false),
    ("compat44", false),
    ("complete_fullquote", true),
    ("direxpand", false),
    ("dirspell", false),
    ("dotglob", false),
    ("execfail", false),
    ("expand_aliases", false),
    ("extdebug", false),
    ("extglob", false),
    ("extquote", true),
    ("failglob", false),
    ("force_fignore", true),
    ("globasciiranges", true),
    ("globskipdots", true),
    ("globstar", false),
    ("gnu_errfmt", false),
    ("histappend", false),
    ("histreedit", false),
    ("histverify", false),
    ("hostcomplete", true),
    ("huponexit", false),
    ("inherit_errexit", false),
    ("interactive_comments", true),
    ("lastpipe", false),
    ("lithist", false),
    ("localvar_inherit", false),
    ("localvar_unset", false),
    ("login_shell", false),
    ("mailwarn", false),
    ("no_empty_cmd_completion", false),
    ("nocaseglob", false),
    ("nocasematch", false),
    ("noexpand_translation", false),
    ("nullglob", false),
    ("patsub_replacement", true),
    ("progcomp", true),
    ("progcomp_alias", false),
    ("promptvars", true),
    ("restricted_shell", false),
    ("shift_verbose", false),
    ("sourcepath", true),
    ("varredir_close", false),
    ("xpg_echo", false),
];

/// Options that change nothing in a non-interactive shell without aliases,
/// history or completion: any setting is accepted.
const NO_EFFECT: &[&str] = &[
    "checkhash",
    "checkjobs",
    "checkwinsize",
    "cmdhist",
    "complete_fullquote",
    "direxpand",
    "dirspell",
    "expand_aliases",
    "force_fignore",
    "histappend",
    "histreedit",
    "histverify",
    "hostcomplete",
    "huponexit",
    "lithist",
    "mailwarn",
    "no_empty_cmd_completion",
    "progcomp",
    "progcomp_alias",
    "promptvars",
];

/// The `shopt` builtin.
pub struct Shopt;

#[async_trait]
impl Builtin for Shopt {
    fn names(&self) -> &'static [&'static str] {
        &["shopt"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let mut set: Option<bool> = None;
        let (mut print, mut quiet) = (false, false);
        let mut names: Vec<&String> = Vec::new();
        let mut opts_done = false;
        for a in argv.get(1..).unwrap_or_default() {
            if !opts_done && a.starts_with('-') && a.len() > 1 {
                if a == "--" {
                    opts_done = true;
                    continue;
                }
                for c in a[1..].chars() {
                    match c {
                        's' => set = Some(true),
                        'u' => set = Some(false),
                        'p' => print = true,
                        'q' => quiet = true,
                        'o' => return Ok(unsupported(io, "shopt -o").await),
                        _ => {
                            io.err(&format!(
                                "{}shopt: -{c}: invalid option\nshopt: usage: shopt [-pqsu] [-o] [optname ...]\n", st.diag()
                            ))
                            .await;
                            return Ok(2);
                        }
                    }
                }
            } else {
                opts_done = true;
                names.push(a);
            }
        }
        let mut status = 0;
        let mut chosen: Vec<(&str, bool)> = Vec::new();
        for n in &names {
            match OPTIONS.iter().find(|(o, _)| o == n) {
                Some(&(o, v)) => chosen.push((o, v)),
                None => {
                    io.err(&format!(
                        "{}shopt: {n}: invalid shell option name\n",
                        st.diag()
                    ))
                    .await;
                    status = 1;
                }
            }
        }
        if let Some(on) = set {
            if names.is_empty() {
                // `shopt -s` alone lists the options that are on (off for -u)
                let list: Vec<(&str, bool)> =
                    OPTIONS.iter().copied().filter(|(_, v)| *v == on).collect();
                return list_options(io, &list, print, quiet).await.map(|()| 0);
            }
            for (o, v) in &chosen {
                if *v != on && !NO_EFFECT.contains(o) {
                    let sign = if on { 's' } else { 'u' };
                    return Ok(unsupported(io, &format!("shopt -{sign} {o}")).await);
                }
            }
            return Ok(status);
        }
        if names.is_empty() {
            list_options(io, OPTIONS, print, quiet).await?;
            return Ok(0);
        }
        list_options(io, &chosen, print, quiet).await?;
        if status == 0 && chosen.iter().any(|(_, v)| !v) {
            status = 1;
        }
        Ok(status)
    }
}

/// Prints `options` as `shopt` does (`NAME<TAB>on`, or `shopt -s NAME`
/// with `-p`); nothing with `-q`.
async fn list_options(
    io: &Io,
    options: &[(&str, bool)],
    print: bool,
    quiet: bool,
) -> Result<(), crate::exec::Flow> {
    if quiet {
        return Ok(());
    }
    let mut buf = String::new();
    for (o, v) in options {
        if print {
            buf.push_str(&format!("shopt {} {o}\n", if *v { "-s" } else { "-u" }));
        } else {
            buf.push_str(&format!("{o:<15}\t{}\n", if *v { "on" } else { "off" }));
        }
    }
    out(io, buf.as_bytes()).await
}
