//! `shopt [-pqsu] [-o] [optname ...]`: bash's optional behaviours, as
//! bash 5.2 lists, sets and reports them. Every option bash knows is
//! listed (the table and the state are [`crate::glob::Shopts`]); Mirage acts
//! on the globbing and matching ones, `lastpipe` and `expand_aliases`, and
//! keeps the others as plain flags. `-o` works on the `set -o` options.

use async_trait::async_trait;

use super::out;
use super::set::{SET_OPTION_NAMES, option_flag};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `shopt` builtin.
pub struct Shopt;

const USAGE: &str = "shopt: usage: shopt [-pqsu] [-o] [optname ...]\n";

/// The value of the `set -o` option `name` (the ones Mirage does not
/// model have bash's `bash -c` defaults).
fn set_o_value(st: &mut ShellState, name: &str) -> bool {
    match option_flag(&mut st.options, name) {
        Some(f) => *f,
        None => matches!(name, "braceexpand" | "hashall" | "interactive-comments"),
    }
}

/// One line of a listing: `NAME<pad>\ton` or the `-p` form.
fn line(buf: &mut String, name: &str, on: bool, print: bool, set_o: bool) {
    if print {
        if set_o {
            buf.push_str(&format!("set {}o {name}\n", if on { '-' } else { '+' }));
        } else {
            buf.push_str(&format!("shopt {} {name}\n", if on { "-s" } else { "-u" }));
        }
    } else {
        buf.push_str(&format!("{name:<15}\t{}\n", if on { "on" } else { "off" }));
    }
}

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
        let (mut set, mut unset, mut print, mut quiet, mut set_o) =
            (false, false, false, false, false);
        let args = argv.get(1..).unwrap_or_default();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            if !a.starts_with('-') || a.len() < 2 {
                break;
            }
            for c in a[1..].chars() {
                match c {
                    's' => set = true,
                    'u' => unset = true,
                    'p' => print = true,
                    'q' => quiet = true,
                    'o' => set_o = true,
                    _ => {
                        io.err(&format!(
                            "{}shopt: -{c}: invalid option\n{USAGE}",
                            st.diag()
                        ))
                        .await;
                        return Ok(2);
                    }
                }
            }
            i += 1;
        }
        let names = &args[i..];
        if set && unset {
            io.err(&format!(
                "{}shopt: cannot set and unset shell options simultaneously\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        let mut buf = String::new();
        let mut status = 0;
        if set_o {
            if !names.is_empty() && (set || unset) {
                // `shopt -so NAME`: as `set -o NAME`
                for n in names {
                    if !SET_OPTION_NAMES.contains(&n.as_str()) {
                        io.err(&format!("{}shopt: {n}: invalid option name\n", st.diag()))
                            .await;
                        continue;
                    }
                    if let Some(f) = option_flag(&mut st.options, n) {
                        *f = set;
                    }
                }
                return Ok(status);
            }
            if names.is_empty() {
                for n in SET_OPTION_NAMES {
                    let v = set_o_value(st, n);
                    if (set || unset) && v != set {
                        continue;
                    }
                    if !quiet {
                        line(&mut buf, n, v, print, true);
                    }
                }
            } else {
                for n in names {
                    if !SET_OPTION_NAMES.contains(&n.as_str()) {
                        io.err(&format!("{}shopt: {n}: invalid option name\n", st.diag()))
                            .await;
                        status = 1;
                        continue;
                    }
                    let v = set_o_value(st, n);
                    if !v {
                        status = 1;
                    }
                    if !quiet {
                        line(&mut buf, n, v, print, true);
                    }
                }
            }
            out(io, buf.as_bytes()).await?;
            return Ok(status);
        }
        if set || unset {
            if names.is_empty() {
                // `shopt -s` / `-u` alone: the options that are on / off
                for (n, v) in st.shopt.all() {
                    if v == set && !quiet {
                        line(&mut buf, n, v, print, false);
                    }
                }
                out(io, buf.as_bytes()).await?;
                return Ok(0);
            }
            for n in names {
                if !apply(st, n, set) {
                    io.err(&format!(
                        "{}shopt: {n}: invalid shell option name\n",
                        st.diag()
                    ))
                    .await;
                    status = 1;
                }
            }
            return Ok(status);
        }
        if names.is_empty() {
            if !quiet {
                for (n, v) in st.shopt.all() {
                    line(&mut buf, n, v, print, false);
                }
            }
            out(io, buf.as_bytes()).await?;
            return Ok(0);
        }
        for n in names {
            match st.shopt.get(n) {
                Some(v) => {
                    if !v {
                        status = 1;
                    }
                    if !quiet {
                        line(&mut buf, n, v, print, false);
                    }
                }
                None => {
                    out(io, buf.as_bytes()).await?;
                    buf.clear();
                    io.err(&format!(
                        "{}shopt: {n}: invalid shell option name\n",
                        st.diag()
                    ))
                    .await;
                    status = 1;
                }
            }
        }
        out(io, buf.as_bytes()).await?;
        Ok(status)
    }
}

use super::Builtin;

/// Turns shell option `name` on or off with everything that follows from
/// it (the parser's settings, `extdebug`'s bookkeeping); false when there
/// is no such option.
pub(crate) fn apply(st: &mut ShellState, name: &str, on: bool) -> bool {
    if matches!(name, "extglob" | "expand_aliases") {
        sync_parse(st, name, on);
    }
    if !st.shopt.set(name, on) {
        return false;
    }
    crate::bashargv::shopt_changed(st, name, on);
    true
}

/// Passes a change of `extglob` or `expand_aliases` on to the parser's
/// settings (the next line is parsed with it).
fn sync_parse(st: &mut ShellState, name: &str, on: bool) {
    let p = &mut st.parse;
    let flag = if name == "extglob" {
        &mut p.extglob
    } else {
        &mut p.expand_aliases
    };
    if *flag != on {
        *flag = on;
        p.touch();
    }
}
