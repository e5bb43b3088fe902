//! `comm`: compare two sorted files line by line, as GNU coreutils 9.1
//! `comm` under `LC_ALL=C.UTF-8` (byte order): `-1 -2 -3`,
//! `--check-order`, `--nocheck-order`, `--output-delimiter`, `--total`,
//! `-z`. Streams both inputs.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{RecordReader, open_input, parse_cmd, two_operands};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("1", Some('1'), None),
    OptSpec::flag("2", Some('2'), None),
    OptSpec::flag("3", Some('3'), None),
    OptSpec::flag("check-order", None, Some("check-order")),
    OptSpec::flag("nocheck-order", None, Some("nocheck-order")),
    OptSpec::value("output-delimiter", None, Some("output-delimiter")),
    OptSpec::flag("total", None, Some("total")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
];

/// The spec of `comm`.
pub static SPEC: CommandSpec = CommandSpec::new("comm", OPTS, PathOperands::All);

crate::register_command!("comm", SPEC, run);

/// Whether order is checked: GNU's default checks only once an unpaired
/// line was seen, and only warns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Default,
    Enabled,
    Disabled,
}

fn strip(rec: &[u8], delim: u8) -> &[u8] {
    rec.strip_suffix(&[delim]).unwrap_or(rec)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    two_operands(&p, crate::util::gnu_quote)?;
    let show = [!p.has("1"), !p.has("2"), !p.has("3")];
    let check = match p.last_of(&["check-order", "nocheck-order"]) {
        Some("check-order") => Check::Enabled,
        Some(_) => Check::Disabled,
        None => Check::Default,
    };
    let delim = if p.has("zero") { 0u8 } else { b'\n' };
    let sep = match p.value("output-delimiter") {
        Some("") => "\0".to_string(),
        Some(s) => s.to_string(),
        None => "\t".to_string(),
    };
    let sep = mirage_types::bytestr::encode(&sep).into_owned();
    let mut readers = Vec::new();
    for f in &p.operands {
        let src = open_input(ctx, f).await.map_err(|e| CmdError::new(1, e))?;
        readers.push(RecordReader::new(src, delim));
    }
    let mut cur: [Option<bytes::Bytes>; 2] = [None, None];
    for (k, r) in readers.iter_mut().enumerate() {
        cur[k] = r.next_record().await?;
    }
    let mut seen_unpairable = false;
    let mut warned = [false, false];
    let mut counts = [0u64; 3];
    let mut out: Vec<u8> = Vec::new();
    let mut status = 0;
    while cur[0].is_some() || cur[1].is_some() {
        let order = match (&cur[0], &cur[1]) {
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
            (Some(a), Some(b)) => strip(a, delim).cmp(strip(b, delim)),
        };
        let (col, line) = match order {
            std::cmp::Ordering::Equal => (2, cur[1].clone()),
            std::cmp::Ordering::Less => (0, cur[0].clone()),
            std::cmp::Ordering::Greater => (1, cur[1].clone()),
        };
        if order.is_ne() {
            seen_unpairable = true;
        }
        counts[col] += 1;
        if show[col]
            && let Some(l) = line
        {
            for _ in show.iter().take(col).filter(|s| **s) {
                out.extend_from_slice(&sep);
            }
            out.extend_from_slice(strip(&l, delim));
            out.push(delim);
        }
        for f in [1usize, 0] {
            let step = if f == 1 { order.is_ge() } else { order.is_le() };
            if !step {
                continue;
            }
            let prev = cur[f].take();
            cur[f] = readers[f].next_record().await?;
            if let (Some(pr), Some(now)) = (&prev, &cur[f])
                && check != Check::Disabled
                && (check == Check::Enabled || seen_unpairable)
                && !warned[f]
                && strip(pr, delim) > strip(now, delim)
            {
                warned[f] = true;
                let _ = ctx.stdout.write(&out).await;
                out.clear();
                if check == Check::Enabled {
                    return Err(CmdError::new(
                        1,
                        format!("file {} is not in sorted order", f + 1),
                    ));
                }
                ctx.error(format!("file {} is not in sorted order", f + 1))
                    .await;
            }
        }
        if out.len() >= 1 << 16 {
            ctx.stdout.write(&out).await?;
            out.clear();
        }
    }
    if p.has("total") {
        let s = String::from_utf8_lossy(&sep).into_owned();
        out.extend_from_slice(
            format!("{}{s}{}{s}{}{s}total", counts[0], counts[1], counts[2]).as_bytes(),
        );
        out.push(delim);
    }
    ctx.stdout.write(&out).await?;
    if warned[0] || warned[1] {
        ctx.error("input is not in sorted order").await;
        status = 1;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(&[
            ("/d/a", "blue\ngreen\nred\n"),
            ("/d/b", "blue\nred\nyellow\n"),
            ("/d/u", "b\na\n"),
        ]);
        let cases: &[(&[&str], &str, i32)] = &[
            (&["a", "b"], "\t\tblue\ngreen\n\t\tred\n\tyellow\n", 0),
            (&["-12", "a", "b"], "blue\nred\n", 0),
            (&["-3", "a", "b"], "green\n\tyellow\n", 0),
            (
                &["--output-delimiter=|", "--total", "a", "b"],
                "||blue\ngreen\n||red\n|yellow\n1|1|2|total\n",
                0,
            ),
        ];
        for (args, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "comm", args, "/d", "");
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
        let (out, err, st) = run_cmd(&vfs, run, "comm", &["u", "a"], "/d", "");
        assert_eq!(
            (&out[..], &err[..], st),
            (
                "b\na\n\tblue\n\tgreen\n\tred\n",
                "comm: file 1 is not in sorted order\ncomm: input is not in sorted order\n",
                1
            )
        );
    }
}
