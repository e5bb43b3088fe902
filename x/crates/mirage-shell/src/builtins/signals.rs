//! The signal table of Linux as bash 5.2 names it, and `kill -l` / `kill -L`
//! (the list, or the name of a number and the number of a name).

use mirage_types::bytestr;

use super::out;
use crate::exec::{ExecResult, Io};
use crate::state::ShellState;

/// Linux's signals by number, without the `SIG` prefix, as `kill -l`
/// lists them (32 and 33 belong to the C library and are not listed).
pub(crate) fn name_of(n: u32) -> Option<String> {
    const LOW: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    match n {
        0 => Some("EXIT".into()),
        1..=31 => LOW.get(n as usize - 1).map(|s| (*s).to_string()),
        34 => Some("RTMIN".into()),
        35..=49 => Some(format!("RTMIN+{}", n - 34)),
        50..=63 => Some(format!("RTMAX-{}", 64 - n)),
        64 => Some("RTMAX".into()),
        _ => None,
    }
}

/// The number of the signal `spec`: a name with or without `SIG`, in any
/// case (`int`, `SIGINT`), or a number up to 64.
pub(crate) fn number_of(spec: &str) -> Option<u32> {
    if !spec.is_empty() && spec.bytes().all(|b| b.is_ascii_digit()) {
        return spec.parse().ok().filter(|n| *n <= 64);
    }
    let up = spec.to_ascii_uppercase();
    let bare = up.strip_prefix("SIG").unwrap_or(&up);
    (0..=64).find(|&n| name_of(n).is_some_and(|m| m == bare))
}

/// The table `kill -l` prints: `%2d) SIGNAME`, five to a line separated
/// by tabs.
pub(crate) fn table() -> String {
    let mut s = String::new();
    let mut k = 0;
    for n in 1..=64 {
        let Some(name) = name_of(n) else { continue };
        k += 1;
        s.push_str(&format!("{n:2}) SIG{name}"));
        s.push(if k % 5 == 0 { '\n' } else { '\t' });
    }
    if k % 5 != 0 {
        s.push('\n');
    }
    s
}

/// `kill -l [SIGSPEC…]` (`args` after `-l`): with no argument the table;
/// a number (an exit status above 128 counts as 128 + the signal) gives
/// the name without `SIG`, a name gives the number. An unknown one says
/// `kill: X: invalid signal specification` and makes the status 1.
pub(crate) async fn kill_list(args: &[String], st: &ShellState, io: &Io) -> ExecResult {
    let args = match args.first() {
        Some(a) if a == "--" => &args[1..],
        _ => args,
    };
    if args.is_empty() {
        out(io, table().as_bytes()).await?;
        return Ok(0);
    }
    let mut status = 0;
    let mut text = String::new();
    for a in args {
        let answer = if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) {
            match a
                .parse::<u32>()
                .ok()
                .map(|n| if n > 128 { n - 128 } else { n })
            {
                Some(32 | 33) => Some(String::new()),
                Some(n) => name_of(n).map(|s| format!("{s}\n")),
                None => None,
            }
        } else {
            number_of(a).map(|n| format!("{n}\n"))
        };
        match answer {
            Some(s) => text.push_str(&s),
            None => {
                out(io, &bytestr::encode(&std::mem::take(&mut text))).await?;
                io.err(&format!(
                    "{}kill: {a}: invalid signal specification\n",
                    st.diag()
                ))
                .await;
                status = 1;
            }
        }
    }
    out(io, &bytestr::encode(&text)).await?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_numbers() {
        assert_eq!(super::number_of("sigint"), Some(2));
        assert_eq!(super::number_of("RTMAX-1"), Some(63));
        assert_eq!(super::name_of(35).as_deref(), Some("RTMIN+1"));
        assert_eq!(super::number_of("NOPE"), None);
        assert!(super::table().ends_with("64) SIGRTMAX\t\n"));
    }
}
