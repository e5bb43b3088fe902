//! `ulimit [-SHa] [-cdefilmnpqrstuvxR [LIMIT]]`: answers resource limits
//! without touching the host. The values are fixed (those of the Debian
//! machine the conformance oracle runs on); a session may lower them (or
//! raise a soft limit up to its hard limit) and later `ulimit` calls see
//! the change, but nothing is enforced by them: Mirage's own limits live
//! in the workspace configuration.

use async_trait::async_trait;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `ulimit` builtin.
pub struct Ulimit;

const USAGE: &str = "ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n";

/// (option, description, unit, soft, hard), in `ulimit -a` order;
/// `None` is unlimited.
/// One limit: (option, description, unit, soft, hard).
type Limit = (char, &'static str, &'static str, Option<u64>, Option<u64>);

const LIMITS: &[Limit] = &[
    (
        'R',
        "real-time non-blocking time",
        "microseconds",
        None,
        None,
    ),
    ('c', "core file size", "blocks", Some(0), None),
    ('d', "data seg size", "kbytes", None, None),
    ('e', "scheduling priority", "", Some(0), Some(0)),
    ('f', "file size", "blocks", None, None),
    ('i', "pending signals", "", Some(96363), Some(96363)),
    ('l', "max locked memory", "kbytes", Some(8192), Some(8192)),
    ('m', "max memory size", "kbytes", None, None),
    ('n', "open files", "", Some(20000), Some(20000)),
    ('p', "pipe size", "512 bytes", Some(8), Some(8)),
    (
        'q',
        "POSIX message queues",
        "bytes",
        Some(819_200),
        Some(819_200),
    ),
    ('r', "real-time priority", "", Some(0), Some(0)),
    ('s', "stack size", "kbytes", Some(8192), None),
    ('t', "cpu time", "seconds", None, None),
    ('u', "max user processes", "", Some(96363), Some(96363)),
    ('v', "virtual memory", "kbytes", None, None),
    ('x', "file locks", "", None, None),
];

fn current(st: &ShellState, opt: char) -> (Option<u64>, Option<u64>) {
    if let Some(&(_, s, h)) = st.extra.ulimits.iter().find(|e| e.0 == opt) {
        return (s, h);
    }
    LIMITS
        .iter()
        .find(|l| l.0 == opt)
        .map_or((None, None), |l| (l.3, l.4))
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "unlimited".to_string(), |n| n.to_string())
}

fn long_line(opt: char, v: Option<u64>) -> String {
    let Some(l) = LIMITS.iter().find(|l| l.0 == opt) else {
        return String::new();
    };
    let unit = if l.2.is_empty() {
        format!("(-{opt}) ")
    } else {
        format!("({}, -{opt}) ", l.2)
    };
    format!("{:<20} {unit:>20}{}\n", l.1, show(v))
}

#[async_trait]
impl Builtin for Ulimit {
    fn names(&self) -> &'static [&'static str] {
        &["ulimit"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let (mut hard, mut soft, mut all) = (false, false, false);
        // (option, new value)
        let mut ops: Vec<(char, Option<String>)> = Vec::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            i += 1;
            if a == "--" {
                continue;
            }
            match a.strip_prefix('-').filter(|f| !f.is_empty()) {
                Some(flags) => {
                    for c in flags.chars() {
                        match c {
                            'H' => hard = true,
                            'S' => soft = true,
                            'a' => all = true,
                            c if LIMITS.iter().any(|l| l.0 == c) => ops.push((c, None)),
                            _ => {
                                io.err(&format!(
                                    "{}ulimit: -{c}: invalid option\n{USAGE}",
                                    st.diag()
                                ))
                                .await;
                                return Ok(2);
                            }
                        }
                    }
                    // an option takes the next word as its value
                    if let Some(v) = args.get(i).filter(|v| !v.starts_with('-'))
                        && let Some(last) = ops.last_mut()
                        && last.1.is_none()
                        && flags.chars().last().is_some_and(|c| c == last.0)
                    {
                        last.1 = Some(v.clone());
                        i += 1;
                    }
                }
                None => match ops.last_mut() {
                    Some(last) if last.1.is_none() => last.1 = Some(a.clone()),
                    Some(_) => {}
                    None => ops.push(('f', Some(a.clone()))),
                },
            }
        }
        let which = |(s, h): (Option<u64>, Option<u64>)| if hard && !soft { h } else { s };
        if all {
            let text: String = LIMITS
                .iter()
                .map(|l| long_line(l.0, which(current(st, l.0))))
                .collect();
            out(io, text.as_bytes()).await?;
            return Ok(0);
        }
        if ops.is_empty() {
            ops.push(('f', None));
        }
        let long = ops.len() > 1;
        let mut text = String::new();
        let mut status = 0;
        for (opt, value) in ops {
            let Some(v) = value else {
                let v = which(current(st, opt));
                if long {
                    text.push_str(&long_line(opt, v));
                } else {
                    text.push_str(&format!("{}\n", show(v)));
                }
                continue;
            };
            let (s, h) = current(st, opt);
            let new = match v.as_str() {
                "unlimited" => None,
                "hard" => h,
                "soft" => s,
                n => match n.parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        out(io, text.as_bytes()).await?;
                        text.clear();
                        io.err(&format!("{}ulimit: {v}: invalid number\n", st.diag()))
                            .await;
                        status = 1;
                        continue;
                    }
                },
            };
            let above = |a: Option<u64>, b: Option<u64>| match (a, b) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(a), Some(b)) => a > b,
            };
            // raising a hard limit, or a soft one above the hard, is refused
            if above(new, h) {
                let name = LIMITS.iter().find(|l| l.0 == opt).map_or("", |l| l.1);
                out(io, text.as_bytes()).await?;
                text.clear();
                io.err(&format!(
                    "{}ulimit: {name}: cannot modify limit: Operation not permitted\n",
                    st.diag()
                ))
                .await;
                status = 1;
                continue;
            }
            let (ns, nh) = match (soft, hard) {
                (true, false) => (new, h),
                (false, true) => (if above(s, new) { new } else { s }, new),
                _ => (new, new),
            };
            st.extra.ulimits.retain(|e| e.0 != opt);
            st.extra.ulimits.push((opt, ns, nh));
        }
        out(io, text.as_bytes()).await?;
        Ok(status)
    }
}
