//! `set [-abefhkmnptuvxBCEHPT] [-o NAME] [--] [ARG...]`: shell options and
//! positional parameters, with bash 5.2's diagnostics.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::{ShellState, Var};

/// The single-letter forms of `set` options (`set -e` is `set -o errexit`).
const SET_LETTERS: &[(char, &str)] = &[
    ('e', "errexit"),
    ('u', "nounset"),
    ('x', "xtrace"),
    ('f', "noglob"),
    ('a', "allexport"),
    ('C', "noclobber"),
    ('E', "errtrace"),
    ('T', "functrace"),
    ('v', "verbose"),
];

/// Every option name bash 5.2's `set -o` accepts; the ones Mirage does not
/// model are accepted and ignored, any other name is `invalid option name`.
pub(crate) const SET_OPTION_NAMES: &[&str] = &[
    "allexport",
    "braceexpand",
    "emacs",
    "errexit",
    "errtrace",
    "functrace",
    "hashall",
    "histexpand",
    "history",
    "ignoreeof",
    "interactive-comments",
    "keyword",
    "monitor",
    "noclobber",
    "noexec",
    "noglob",
    "nolog",
    "notify",
    "nounset",
    "onecmd",
    "physical",
    "pipefail",
    "posix",
    "privileged",
    "verbose",
    "vi",
    "xtrace",
];

/// The single-letter options bash 5.2's `set` accepts (its usage line).
const SET_VALID_LETTERS: &str = "abefhkmnptuvxBCEHPT";

/// bash's usage line after `set: -Z: invalid option`.
const SET_USAGE: &str =
    "set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]\n";

/// The `set -o` name of the single-letter option `c` (`e` is `errexit`).
pub(crate) fn letter_option(c: char) -> Option<&'static str> {
    SET_LETTERS.iter().find(|(l, _)| *l == c).map(|(_, n)| *n)
}

/// The flag of the `set -o` option `name`, if Mirage has it.
pub(crate) fn option_flag<'a>(
    o: &'a mut crate::state::Options,
    name: &str,
) -> Option<&'a mut bool> {
    Some(match name {
        "pipefail" => &mut o.pipefail,
        "errexit" => &mut o.errexit,
        "nounset" => &mut o.nounset,
        "xtrace" => &mut o.xtrace,
        "noglob" => &mut o.noglob,
        "allexport" => &mut o.allexport,
        "noclobber" => &mut o.noclobber,
        "errtrace" => &mut o.errtrace,
        "functrace" => &mut o.functrace,
        "verbose" => &mut o.verbose,
        "history" => &mut o.history,
        "posix" => &mut o.posix,
        _ => return None,
    })
}

/// `set [-abefhkmnptuvxBCEHPT] [-o NAME] [--] [ARG...]`: shell options and
/// positional parameters, with bash 5.2's diagnostics.
pub struct Set;

#[async_trait]
impl Builtin for Set {
    fn names(&self) -> &'static [&'static str] {
        &["set"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        if args.is_empty() {
            let mut names: Vec<(&String, &Var)> = st.vars.iter().collect();
            names.sort_by(|a, b| a.0.cmp(b.0));
            let mut buf = String::new();
            // as `declare` alone prints them: arrays as `([0]="x")`, bash's
            // quoting, declared-only variables left out
            for (k, v) in names {
                if !v.no_value {
                    buf.push_str(&super::declare::print_plain(k, v));
                }
            }
            // then the functions, as `declare -f` prints them
            let mut funcs: Vec<_> = st.functions.iter().collect();
            funcs.sort_by(|a, b| a.0.cmp(b.0));
            for (name, body) in funcs {
                buf.push_str(&crate::funcprint::print_function(name, body));
                buf.push('\n');
            }
            out(io, &bytestr::encode(&buf)).await?;
            return Ok(0);
        }
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                st.positional = args[i + 1..].to_vec();
                return Ok(0);
            }
            if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
                let on = a.starts_with('-');
                // bash checks every letter before it sets any
                if let Some(bad) = a[1..]
                    .chars()
                    .find(|c| *c != 'o' && !SET_VALID_LETTERS.contains(*c))
                {
                    let sign = if on { '-' } else { '+' };
                    io.err(&format!(
                        "{}set: {sign}{bad}: invalid option\n{SET_USAGE}",
                        st.diag()
                    ))
                    .await;
                    return Ok(2);
                }
                i += 1;
                for c in a[1..].chars() {
                    // `-o NAME` (also inside a group: `set -euo pipefail`)
                    let long = if c == 'o' {
                        let Some(name) = args.get(i) else {
                            // `set -o` / `set +o` alone list the options
                            let mut buf = String::new();
                            for n in SET_OPTION_NAMES {
                                let value = match option_flag(&mut st.options, n) {
                                    Some(f) => *f,
                                    None => matches!(
                                        *n,
                                        "braceexpand" | "hashall" | "interactive-comments"
                                    ),
                                };
                                if on {
                                    buf.push_str(&format!(
                                        "{n:<15}\t{}\n",
                                        if value { "on" } else { "off" }
                                    ));
                                } else {
                                    buf.push_str(&format!(
                                        "set {}o {n}\n",
                                        if value { '-' } else { '+' }
                                    ));
                                }
                            }
                            out(io, buf.as_bytes()).await?;
                            continue;
                        };
                        i += 1;
                        if !SET_OPTION_NAMES.contains(&name.as_str()) {
                            io.err(&format!("{}set: {name}: invalid option name\n", st.diag()))
                                .await;
                            return Ok(2);
                        }
                        Some(name.as_str())
                    } else {
                        SET_LETTERS
                            .iter()
                            .find(|(l, _)| *l == c)
                            .map(|(_, name)| *name)
                    };
                    if let Some(flag) = long.and_then(|name| option_flag(&mut st.options, name)) {
                        *flag = on;
                    }
                }
                continue;
            }
            st.positional = args[i..].to_vec();
            return Ok(0);
        }
        Ok(0)
    }
}
