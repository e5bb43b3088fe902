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
        _io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        getopts(args, st)
    }
}

fn getopts(args: &[String], st: &mut ShellState) -> ExecResult {
    let (Some(spec), Some(var)) = (args.first(), args.get(1)) else {
        return Ok(2);
    };
    let params: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        st.positional.clone()
    };
    let mut optind: usize = st
        .get("OPTIND")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut sub: usize = st
        .get("__MIRAGE_OPTSUB")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let Some(cur) = params.get(optind - 1) else {
        st.set(var, "?");
        return Ok(1);
    };
    if cur == "--" {
        st.set("OPTIND", (optind + 1).to_string());
        st.set(var, "?");
        return Ok(1);
    }
    if !cur.starts_with('-') || cur.len() < 2 {
        st.set(var, "?");
        return Ok(1);
    }
    let chars: Vec<char> = cur.chars().collect();
    let c = chars.get(sub).copied().unwrap_or('?');
    let pos = spec.find(c);
    let takes = pos.is_some_and(|p| spec[p + c.len_utf8()..].starts_with(':'));
    if pos.is_none() || c == ':' {
        st.set(var, "?");
        st.vars.remove("OPTARG");
    } else {
        st.set(var, c.to_string());
        if takes {
            let rest: String = chars[sub + 1..].iter().collect();
            if !rest.is_empty() {
                st.set("OPTARG", rest);
            } else if let Some(n) = params.get(optind) {
                st.set("OPTARG", n.clone());
                optind += 1;
            } else {
                st.set(var, "?");
            }
            optind += 1;
            sub = 1;
            st.set("OPTIND", optind.to_string());
            st.set("__MIRAGE_OPTSUB", sub.to_string());
            return Ok(0);
        }
    }
    if sub + 1 < chars.len() {
        sub += 1;
    } else {
        sub = 1;
        optind += 1;
    }
    st.set("OPTIND", optind.to_string());
    st.set("__MIRAGE_OPTSUB", sub.to_string());
    Ok(0)
}
