//! `cmp`: compare two files byte by byte, as GNU diffutils 3.8 `cmp`
//! (`-s`, `-l`, `-b`, `-n LIMIT`, `-i SKIP1[:SKIP2]`, skips as the third
//! and fourth operands; `-` or a missing second operand is stdin; exit 0
//! when the same, 1 when different, 2 on trouble).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{parse_cmd, read_input};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("silent", Some('s'), Some("silent")),
    OptSpec::flag("quiet", None, Some("quiet")),
    OptSpec::flag("verbose", Some('l'), Some("verbose")),
    OptSpec::flag("print-bytes", Some('b'), Some("print-bytes")),
    OptSpec::value("bytes", Some('n'), Some("bytes")),
    OptSpec::value("ignore-initial", Some('i'), Some("ignore-initial")),
];

/// The spec of `cmp` (usage errors exit 2).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("cmp", OPTS, PathOperands::All)
};

crate::register_command!("cmp", SPEC, run);

/// A byte count with GNU's optional multiplier suffixes (`10K`, `1MB`,
/// `2MiB`).
fn parse_size(s: &str) -> Option<u64> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let suf = &s[digits..];
    if suf.is_empty() {
        return Some(n);
    }
    let (unit, rest) = suf.split_at(1);
    let pow = "kKMGTPEZY".find(unit).map(|i| if i == 0 { 1 } else { i })?;
    let base: u64 = match rest {
        "" | "iB" => 1024,
        "B" => 1000,
        _ => return None,
    };
    let mut m: u64 = 1;
    for _ in 0..pow {
        m = m.checked_mul(base)?;
    }
    n.checked_mul(m)
}

/// A byte as `cmp -b` shows it: `x`, `^A`, `M-^@`, `^?`.
fn printc(b: u8) -> String {
    let mut s = String::new();
    let mut c = b;
    if c >= 128 {
        s.push_str("M-");
        c -= 128;
    }
    if c < 32 {
        s.push('^');
        s.push(char::from(c + 64));
    } else if c == 127 {
        s.push_str("^?");
    } else {
        s.push(char::from(c));
    }
    s
}

/// A usage error worded as cmp words it (`cmp: Try 'cmp --help' …`).
async fn usage(ctx: &mut CommandCtx, msg: &str) -> i32 {
    ctx.error(msg).await;
    ctx.error("Try 'cmp --help' for more information.").await;
    2
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = match parse_cmd(ctx, &SPEC) {
        Ok(p) => p,
        Err(e) => return Ok(usage(ctx, e.message.as_deref().unwrap_or("")).await),
    };
    let silent = p.has("silent") || p.has("quiet");
    let all = p.has("verbose");
    let bytes = p.has("print-bytes");
    if silent && all {
        return Ok(usage(ctx, "options -l and -s are incompatible").await);
    }
    let ops = &p.operands;
    if ops.is_empty() {
        return Ok(usage(ctx, "missing operand after 'cmp'").await);
    }
    if ops.len() > 4 {
        let m = format!("extra operand '{}'", ops[4]);
        return Ok(usage(ctx, &m).await);
    }
    let mut skip = [0u64; 2];
    if let Some(v) = p.value("ignore-initial") {
        let (a, b) = v.split_once(':').unwrap_or((v, v));
        for (k, s) in [a, b].into_iter().enumerate() {
            match parse_size(s) {
                Some(n) => skip[k] = n,
                None => {
                    let m = format!("invalid --ignore-initial value '{v}'");
                    return Ok(usage(ctx, &m).await);
                }
            }
        }
    }
    for (k, slot) in skip.iter_mut().enumerate() {
        if let Some(s) = ops.get(k + 2) {
            match parse_size(s) {
                Some(n) => *slot = n,
                None => {
                    let m = format!("invalid --ignore-initial value '{s}'");
                    return Ok(usage(ctx, &m).await);
                }
            }
        }
    }
    let limit = match p.value("bytes") {
        Some(v) => match parse_size(v) {
            Some(n) => Some(n),
            None => {
                let m = format!("invalid --bytes value '{v}'");
                return Ok(usage(ctx, &m).await);
            }
        },
        None => None,
    };
    let names = [
        ops[0].clone(),
        ops.get(1).cloned().unwrap_or_else(|| "-".into()),
    ];
    let mut data = Vec::new();
    for n in &names {
        if n == "-" && data.len() == 1 && names[0] == "-" {
            // `cmp - -`: the same stream on both sides.
            return Ok(0);
        }
        match read_input(ctx, n).await {
            Ok(d) => data.push(d),
            Err(e) => {
                if !silent {
                    ctx.error(e).await;
                }
                return Ok(2);
            }
        }
    }
    let sl = |d: &bytes::Bytes, s: u64| {
        let s = usize::try_from(s).unwrap_or(usize::MAX).min(d.len());
        d.slice(s..)
    };
    let mut a = sl(&data[0], skip[0]);
    let mut b = sl(&data[1], skip[1]);
    if let Some(l) = limit {
        let l = usize::try_from(l).unwrap_or(usize::MAX);
        a.truncate(l);
        b.truncate(l);
    }
    let common = a.len().min(b.len());
    let width = {
        let mut w = 1;
        let mut m = common;
        while m >= 10 {
            m /= 10;
            w += 1;
        }
        w
    };
    let mut out = String::new();
    let mut differ = false;
    let mut line = 1u64;
    for i in 0..common {
        let (x, y) = (a[i], b[i]);
        if x != y {
            differ = true;
            if silent {
                return Ok(1);
            }
            if !all {
                let mut msg = format!(
                    "{} {} differ: byte {}, line {line}",
                    names[0],
                    names[1],
                    i + 1
                );
                if bytes {
                    msg.push_str(&format!(" is {x:3o} {} {y:3o} {}", printc(x), printc(y)));
                }
                msg.push('\n');
                let _ = ctx.stdout.write_str(&msg).await;
                return Ok(1);
            }
            if bytes {
                out.push_str(&format!(
                    "{:>width$} {x:3o} {:<4} {y:3o} {}\n",
                    i + 1,
                    printc(x),
                    printc(y)
                ));
            } else {
                out.push_str(&format!("{:>width$} {x:3o} {y:3o}\n", i + 1));
            }
        }
        if x == b'\n' {
            line += 1;
        }
    }
    if !out.is_empty() {
        let _ = ctx.stdout.write_str(&out).await;
    }
    if a.len() != b.len() {
        if silent {
            return Ok(1);
        }
        let (short, sd) = if a.len() < b.len() {
            (&names[0], &a)
        } else {
            (&names[1], &b)
        };
        let msg = if sd.is_empty() {
            format!("EOF on {short} which is empty")
        } else if all {
            format!("EOF on {short} after byte {}", sd.len())
        } else {
            let nl = memchr::memchr_iter(b'\n', sd).count();
            if sd.ends_with(b"\n") {
                format!("EOF on {short} after byte {}, line {nl}", sd.len())
            } else {
                format!("EOF on {short} after byte {}, in line {}", sd.len(), nl + 1)
            }
        };
        ctx.error(msg).await;
        return Ok(1);
    }
    Ok(i32::from(differ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(&[
            ("/d/s1", "abc"),
            ("/d/s2", "abcdef\n"),
            ("/d/s3", "abc\nx\n"),
            ("/d/s4", "abc\ny\nzz\n"),
            ("/d/n1", "x\n\n\n"),
            ("/d/n2", "x\n\n\nq"),
            ("/d/e", ""),
        ]);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["s3", "s4"], "", "s3 s4 differ: byte 5, line 2\n", 1),
            (
                &["-b", "s3", "s4"],
                "",
                "s3 s4 differ: byte 5, line 2 is 170 x 171 y\n",
                1,
            ),
            (&["-l", "s3", "s4"], "", "5 170 171\n", 1),
            (&["-bl", "s3", "s4"], "", "5 170 x    171 y\n", 1),
            (&["-n", "2", "s3", "s4"], "", "", 0),
            (
                &["-i", "1", "s3", "s4"],
                "",
                "s3 s4 differ: byte 4, line 2\n",
                1,
            ),
            (&["-s", "s1", "nope"], "", "", 2),
            (&["-", "s4"], "abc\nx\n", "- s4 differ: byte 5, line 2\n", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "cmp", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
        let (_, err, st) = run_cmd(&vfs, run, "cmp", &["s1", "s2"], "/d", "");
        assert_eq!(
            (&err[..], st),
            ("cmp: EOF on s1 after byte 3, in line 1\n", 1)
        );
        let (_, err, _) = run_cmd(&vfs, run, "cmp", &["n1", "n2"], "/d", "");
        assert_eq!(err, "cmp: EOF on n1 after byte 4, line 3\n");
        let (_, err, _) = run_cmd(&vfs, run, "cmp", &["e", "s1"], "/d", "");
        assert_eq!(err, "cmp: EOF on e which is empty\n");
        let (_, err, st) = run_cmd(&vfs, run, "cmp", &["a", "b", "c"], "/d", "");
        assert_eq!(
            (&err[..], st),
            (
                "cmp: invalid --ignore-initial value 'c'\ncmp: Try 'cmp --help' for more information.\n",
                2
            )
        );
    }
}
