//! `trap [-p] [[ACTION] SIGNAL...]`: records traps. `EXIT` runs when the
//! script ends; traps on signals are kept and listed (`trap`, `trap -p`)
//! but never fire, as nothing sends Mirage's shell a signal. `ERR`,
//! `DEBUG` and `RETURN` traps and `trap -l` are not supported: they say
//! so and exit 2 rather than be silently ignored.

use async_trait::async_trait;

use super::{Builtin, out, unsupported};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The signals bash names in `trap` (Linux numbers), after `EXIT` (0).
const SIGNALS: &[&str] = &[
    "EXIT", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The pseudo-signals bash runs traps on that Mirage does not.
const UNSUPPORTED: &[&str] = &["ERR", "DEBUG", "RETURN"];

/// The key `spec` is stored under (`EXIT`, `INT`, `ERR`), or `None` for an
/// invalid signal specification.
fn signal_key(spec: &str) -> Option<String> {
    if let Ok(n) = spec.parse::<usize>() {
        return SIGNALS.get(n).map(|s| (*s).to_string());
    }
    let upper = spec.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    (SIGNALS.contains(&name) || UNSUPPORTED.contains(&name)).then(|| name.to_string())
}

/// The signal's name as `trap -p` prints it (`EXIT`, `SIGINT`).
fn display_name(key: &str) -> String {
    if key == "EXIT" || UNSUPPORTED.contains(&key) {
        key.to_string()
    } else {
        format!("SIG{key}")
    }
}

/// `s` in single quotes as bash prints a trap action.
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Signal order for listing: EXIT, then by number.
fn order(key: &str) -> usize {
    SIGNALS.iter().position(|s| *s == key).unwrap_or(usize::MAX)
}

/// The `trap` builtin.
pub struct Trap;

#[async_trait]
impl Builtin for Trap {
    fn names(&self) -> &'static [&'static str] {
        &["trap"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let mut args = argv.get(1..).unwrap_or_default();
        let mut print = false;
        match args.first().map(String::as_str) {
            Some("-p") => {
                print = true;
                args = &args[1..];
            }
            Some("-l") => return Ok(unsupported(io, "trap -l").await),
            Some("--") => args = &args[1..],
            _ => {}
        }
        if print || args.is_empty() {
            let mut keys: Vec<&String> = if args.is_empty() {
                st.traps.keys().collect()
            } else {
                Vec::new()
            };
            let mut status = 0;
            let mut wanted = Vec::new();
            for a in args {
                match signal_key(a) {
                    Some(k) => wanted.push(k),
                    None => {
                        io.err(&format!(
                            "{}trap: {a}: invalid signal specification\n",
                            st.diag()
                        ))
                        .await;
                        status = 1;
                    }
                }
            }
            keys.extend(st.traps.keys().filter(|k| wanted.contains(k)));
            keys.sort_by_key(|k| order(k));
            keys.dedup();
            let mut buf = String::new();
            for k in keys {
                if let Some(action) = st.traps.get(k) {
                    buf.push_str(&format!(
                        "trap -- {} {}\n",
                        single_quote(action),
                        display_name(k)
                    ));
                }
            }
            out(io, &mirage_types::bytestr::encode(&buf)).await?;
            return Ok(status);
        }
        if args.len() == 1 && signal_key(&args[0]).is_none() {
            io.err(&format!(
                "{}trap: usage: trap [-lp] [[arg] signal_spec ...]\n",
                st.diag()
            ))
            .await;
            return Ok(2);
        }
        // `trap SIG` alone and `trap - SIG...` reset
        let (action, sigs) = if args.len() == 1 {
            (None, args)
        } else if args[0] == "-" {
            (None, &args[1..])
        } else {
            (Some(&args[0]), &args[1..])
        };
        let mut status = 0;
        for sig in sigs {
            let Some(key) = signal_key(sig) else {
                io.err(&format!(
                    "{}trap: {sig}: invalid signal specification\n",
                    st.diag()
                ))
                .await;
                status = 1;
                continue;
            };
            match action {
                None => {
                    st.traps.remove(&key);
                }
                Some(_) if UNSUPPORTED.contains(&key.as_str()) => {
                    return Ok(unsupported(io, &format!("trap on {key}")).await);
                }
                Some(a) => {
                    st.traps.insert(key, a.clone());
                }
            }
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_keys() {
        assert_eq!(signal_key("0").as_deref(), Some("EXIT"));
        assert_eq!(signal_key("exit").as_deref(), Some("EXIT"));
        assert_eq!(signal_key("SIGINT").as_deref(), Some("INT"));
        assert_eq!(signal_key("15").as_deref(), Some("TERM"));
        assert_eq!(signal_key("ERR").as_deref(), Some("ERR"));
        assert_eq!(signal_key("FOO"), None);
        assert_eq!(single_quote("echo 'x'"), "'echo '\\''x'\\'''");
    }
}
