//! Linux's signal numbers and the names bash, `kill` and `timeout` give
//! them (without `SIG`), shared by the shell's `kill`/`trap`/jobs and the
//! `timeout` command. No signal is ever sent to a host process: Mirage
//! turns them into cancellations.

/// Signals 1–31 on Linux (x86-64), as `kill -l` names them.
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// The signal an argument names, as `kill -s` and `timeout -s` read it: a
/// number from 0 to 64, or a name from [`SIGNALS`] with or without `SIG`,
/// in any case (`TERM`, `sigterm`, `9`). `None` for anything else.
pub fn number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The name of signal `n` (1–31) without `SIG` (`TERM` for 15).
pub fn name(n: i32) -> Option<&'static str> {
    SIGNALS.iter().find(|(_, v)| *v == n).map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_numbers() {
        assert_eq!(super::number("sigterm"), Some(15));
        assert_eq!(super::number("KILL"), Some(9));
        assert_eq!(super::number("64"), Some(64));
        assert_eq!(super::number("65"), None);
        assert_eq!(super::number("NOPE"), None);
        assert_eq!(super::name(2), Some("INT"));
        assert_eq!(super::name(40), None);
    }
}
