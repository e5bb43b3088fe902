//! `trap [-lp] [[ACTION] SIGNAL...]`: records traps, as bash 5.2. `EXIT`
//! runs when the script (or a subshell) ends; `ERR`, `DEBUG` and `RETURN`
//! run as [`crate::trace`] says; traps on signals are kept and listed
//! (`trap`, `trap -p`) but never fire, as nothing sends Mirage's shell a
//! signal. `trap -l` lists Linux's signals as bash does.

use async_trait::async_trait;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The signals bash names in `trap` (Linux numbers), after `EXIT` (0).
const SIGNALS: &[&str] = &[
    "EXIT", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The pseudo-signals bash runs traps on, in the order bash lists them
/// (after the signals).
const PSEUDO: &[&str] = &["DEBUG", "ERR", "RETURN"];

/// The name of signal `n` (1–64) without `SIG`, as Linux and bash name
/// them (32 and 33 have none).
fn signal_name(n: usize) -> Option<String> {
    match n {
        0 => Some("EXIT".into()),
        1..=31 => SIGNALS.get(n).map(|s| (*s).to_string()),
        34 => Some("RTMIN".into()),
        35..=49 => Some(format!("RTMIN+{}", n - 34)),
        50..=63 => Some(format!("RTMAX-{}", 64 - n)),
        64 => Some("RTMAX".into()),
        _ => None,
    }
}

/// `trap -l`: the signals five to a line, each entry followed by a tab
/// or, every fifth, a newline (bash's layout).
fn signal_list() -> String {
    let mut o = String::new();
    let mut count = 0;
    for n in 1..=64 {
        if let Some(name) = signal_name(n) {
            count += 1;
            o.push_str(&format!("{n:2}) SIG{name}"));
            o.push(if count % 5 == 0 { '\n' } else { '\t' });
        }
    }
    if count % 5 != 0 {
        o.push('\n');
    }
    o
}

/// bash's usage line for `trap` (printed without the `bash: line N:`
/// prefix, as bash's `builtin_usage` does).
const USAGE: &str = "trap: usage: trap [-lp] [[arg] signal_spec ...]\n";

/// The key `spec` is stored under (`EXIT`, `INT`, `ERR`), or `None` for an
/// invalid signal specification.
fn signal_key(spec: &str) -> Option<String> {
    if let Ok(n) = spec.parse::<usize>() {
        return signal_name(n);
    }
    let upper = spec.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if SIGNALS.contains(&name) || PSEUDO.contains(&name) {
        return Some(name.to_string());
    }
    (1..=64).find_map(|n| signal_name(n).filter(|s| s == name))
}

/// The signal's name as `trap -p` prints it (`EXIT`, `SIGINT`).
fn display_name(key: &str) -> String {
    if key == "EXIT" || PSEUDO.contains(&key) {
        key.to_string()
    } else {
        format!("SIG{key}")
    }
}

/// `s` in single quotes as bash prints a trap action.
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Signal order for listing: EXIT, then by number, then `DEBUG`, `ERR`,
/// `RETURN`.
fn order(key: &str) -> usize {
    if let Some(i) = PSEUDO.iter().position(|s| *s == key) {
        return 100 + i;
    }
    (0..=64)
        .find(|n| signal_name(*n).as_deref() == Some(key))
        .unwrap_or(usize::MAX)
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
            Some("-l") => {
                out(io, signal_list().as_bytes()).await?;
                return Ok(0);
            }
            Some("--") => args = &args[1..],
            Some(o) if o.starts_with('-') && o.len() > 1 && o != "-" => {
                let bad = o.chars().nth(1).unwrap_or('-');
                io.err(&format!(
                    "{}trap: -{bad}: invalid option\n{USAGE}",
                    st.diag()
                ))
                .await;
                return Ok(2);
            }
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
            io.err(USAGE).await;
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
