//! `getopts OPTSTRING NAME [ARG]...`: parses positional options.

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `getopts OPTSTRING NAME [ARG]...`: parses positional options.
pub struct Getopts;

#[async_trait]
impl Builtin for Getopts {
    fn names(&self) -> &'static [&'static str] {
        &["getopts"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let (status, msg) = getopts(args, st);
        if let Some(m) = msg {
            io.err(&m).await;
        }
        Ok(status)
    }
}

/// One `getopts` call, as bash 5.2: returns the status and the message to
/// print. The position inside a word of bundled options (`-abc`) is kept
/// in [`crate::special::Special`]; assigning `OPTIND` restarts it.
fn getopts(args: &[String], st: &mut ShellState) -> (i32, Option<String>) {
    let (Some(spec), Some(var)) = (args.first(), args.get(1)) else {
        return (
            2,
            Some("getopts: usage: getopts optstring name [arg ...]\n".into()),
        );
    };
    if !super::valid_name(var) {
        return (
            1,
            Some(format!(
                "{}getopts: `{var}': not a valid identifier\n",
                st.diag()
            )),
        );
    }
    let params: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        st.positional.clone()
    };
    let (silent, spec) = match spec.strip_prefix(':') {
        Some(s) => (true, s),
        None => (false, spec.as_str()),
    };
    let quiet = silent || st.get("OPTERR").is_some_and(|v| v.trim() == "0");
    let optind_text = st.get("OPTIND").unwrap_or_default();
    let mut optind: usize = optind_text.trim().parse().unwrap_or(1).max(1);
    let mut sub = st.special.getopts_position(&optind_text);
    let done = |st: &mut ShellState, optind: usize| {
        st.set(var, "?");
        st.vars.remove("OPTARG");
        st.set("OPTIND", optind.to_string());
        st.special.set_getopts_position(1, &optind.to_string());
        (1, None)
    };
    let Some(cur) = params.get(optind - 1) else {
        return done(st, optind.min(params.len() + 1));
    };
    if sub == 1 {
        if cur == "--" {
            return done(st, optind + 1);
        }
        if !cur.starts_with('-') || cur.len() < 2 {
            return done(st, optind);
        }
    }
    let chars: Vec<char> = cur.chars().collect();
    let Some(&c) = chars.get(sub) else {
        return done(st, optind);
    };
    // the position after this option
    let last_in_word = sub + 1 >= chars.len();
    let advance = |optind: &mut usize, sub: &mut usize| {
        if last_in_word {
            *optind += 1;
            *sub = 1;
        } else {
            *sub += 1;
        }
    };
    let pos = if c == ':' { None } else { spec.find(c) };
    let mut msg = None;
    match pos {
        None => {
            advance(&mut optind, &mut sub);
            st.set(var, "?");
            if silent {
                st.set("OPTARG", c.to_string());
            } else {
                st.vars.remove("OPTARG");
            }
            if !quiet {
                msg = Some(format!("{}: illegal option -- {c}\n", st.arg0));
            }
        }
        Some(p) => {
            let takes = spec[p + c.len_utf8()..].starts_with(':');
            if !takes {
                advance(&mut optind, &mut sub);
                st.set(var, c.to_string());
                st.vars.remove("OPTARG");
            } else {
                let rest: String = chars[sub + 1..].iter().collect();
                optind += 1;
                sub = 1;
                if !rest.is_empty() {
                    st.set("OPTARG", rest);
                    st.set(var, c.to_string());
                } else if let Some(n) = params.get(optind - 1) {
                    st.set("OPTARG", n.clone());
                    st.set(var, c.to_string());
                    optind += 1;
                } else if silent {
                    st.set(var, ":");
                    st.set("OPTARG", c.to_string());
                } else {
                    st.set(var, "?");
                    st.vars.remove("OPTARG");
                    if !quiet {
                        msg = Some(format!("{}: option requires an argument -- {c}\n", st.arg0));
                    }
                }
            }
        }
    }
    st.set("OPTIND", optind.to_string());
    st.special.set_getopts_position(sub, &optind.to_string());
    (0, msg)
}
