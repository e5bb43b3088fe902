//! `dd`: convert and copy a file, as GNU coreutils 9.1 `dd` (`if=`, `of=`,
//! `bs=`, `ibs=`, `obs=`, `count=`, `skip=`, `seek=`, `status=none|noxfer|
//! progress`, `conv=ucase,lcase,notrunc,sync,noerror,fsync,fdatasync`,
//! `iflag=`/`oflag=` accepted). Sizes take GNU's suffixes (`c` 1, `w` 2,
//! `b` 512, `K`/`KiB` 1024, `kB` 1000, `M`, `MB`, `G`, … and `AxB`
//! products).
//!
//! The input is streamed and cut into `ibs`-byte records (the last may be
//! partial, counted `+1`); `skip` records are dropped and `count` records
//! taken. Output goes to stdout record by record or, with `of=`, is
//! gathered (the copied range only) and written through the VFS
//! (kept beyond the copied range with `conv=notrunc`, the first `seek`
//! `obs`-byte blocks kept or zero-filled). The transfer summary goes to
//! stderr as GNU prints it (`2+0 records in`, `2+0 records out`, `8 bytes
//! copied, 4.5e-05 s, 175 kB/s`), its time measured here.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteRange, ByteSource, ErrorKind, Input, ReadOptions};

use crate::util::{gnu_quote, quoteaf};

/// The spec of `dd`: operands only (`NAME=VALUE`).
pub static SPEC: CommandSpec = CommandSpec::new("dd", &[], PathOperands::None);

crate::register_command!("dd", SPEC, run, true);

/// A size with GNU dd's suffixes; None when it is not one.
fn parse_num(s: &str) -> Option<u64> {
    if let Some((a, b)) = s.split_once('x') {
        return parse_num(a)?.checked_mul(parse_num(b)?);
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let mult: u64 = match &s[digits..] {
        "" | "c" => 1,
        "w" => 2,
        "b" => 512,
        "kB" => 1000,
        "K" | "KiB" | "k" => 1024,
        "MB" => 1000u64.pow(2),
        "M" | "MiB" => 1024u64.pow(2),
        "GB" => 1000u64.pow(3),
        "G" | "GiB" => 1024u64.pow(3),
        "TB" => 1000u64.pow(4),
        "T" | "TiB" => 1024u64.pow(4),
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `1.2 kB/s`-style rate as GNU's `human_readable` with SI units.
fn si(n: f64) -> String {
    const UNITS: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    let mut v = n;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{} ", v.round())
    } else if v < 10.0 {
        format!("{:.1} {}", v, UNITS[u])
    } else {
        format!("{} {}", v.round(), UNITS[u])
    }
}

/// `4.5696e-05` as C's `%g` prints a small duration.
fn g(secs: f64) -> String {
    if secs == 0.0 {
        return "0".into();
    }
    let exp = secs.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from((5 - exp).max(0)).unwrap_or(0);
        let s = format!("{secs:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        return s;
    }
    let m = secs / 10f64.powi(exp);
    let ms = format!("{m:.4}");
    let ms = ms.trim_end_matches('0').trim_end_matches('.');
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{ms}e{sign}{:02}", exp.abs())
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let mut input: Option<String> = None;
    let mut output: Option<String> = None;
    let (mut ibs, mut obs) = (512u64, 512u64);
    let mut count: Option<u64> = None;
    let (mut skip, mut seek) = (0u64, 0u64);
    let mut status = String::new();
    let mut convs: Vec<String> = Vec::new();
    for arg in ctx.args.clone() {
        if arg == "--help" || arg == "--version" {
            let text = if arg == "--help" {
                mirage_types::args::help_text(&SPEC)
            } else {
                mirage_types::args::version_text(&SPEC)
            };
            ctx.stdout.write_str(&text).await?;
            return Ok(0);
        }
        let Some((key, val)) = arg.split_once('=') else {
            return Err(CmdError::usage(format!(
                "unrecognized operand {}",
                gnu_quote(&arg)
            )));
        };
        let num = |v: &str| -> Result<u64, CmdError> {
            parse_num(v)
                .ok_or_else(|| CmdError::new(1, format!("invalid number: {}", gnu_quote(v))))
        };
        let positive = |v: &str| -> Result<u64, CmdError> {
            match num(v)? {
                0 => Err(CmdError::new(
                    1,
                    format!("invalid number: {}", gnu_quote(v)),
                )),
                n => Ok(n),
            }
        };
        match key {
            "if" => input = Some(val.to_string()),
            "of" => output = Some(val.to_string()),
            "bs" => {
                ibs = positive(val)?;
                obs = ibs;
            }
            "ibs" => ibs = positive(val)?,
            "obs" => obs = positive(val)?,
            "cbs" => {
                positive(val)?;
            }
            "count" => count = Some(num(val)?),
            "skip" | "iseek" => skip = num(val)?,
            "seek" | "oseek" => seek = num(val)?,
            "status" => match val {
                "none" | "noxfer" | "progress" => status = val.to_string(),
                _ => {
                    return Err(CmdError::new(
                        1,
                        format!("invalid status level: {}", gnu_quote(val)),
                    ));
                }
            },
            "conv" => {
                for c in val.split(',') {
                    match c {
                        "ucase" | "lcase" | "notrunc" | "sync" | "noerror" | "fsync"
                        | "fdatasync" | "excl" | "nocreat" | "sparse" | "swab" => {
                            convs.push(c.to_string());
                        }
                        _ => {
                            return Err(CmdError::new(
                                1,
                                format!("invalid conversion: {}", gnu_quote(c)),
                            ));
                        }
                    }
                }
            }
            "iflag" | "oflag" => {}
            _ => {
                return Err(CmdError::usage(format!(
                    "unrecognized operand {}",
                    gnu_quote(&arg)
                )));
            }
        }
    }
    let started = Instant::now();
    let src = match &input {
        None => std::mem::replace(&mut ctx.stdin, Input::empty()).into_source(),
        Some(f) => {
            let abs = ctx.resolve(f);
            let opened = match ctx.vfs.stat(&abs).await {
                Ok(st) if st.is_dir() => Err(mirage_types::Error::new(ErrorKind::IsADirectory)),
                Ok(_) => ctx.vfs.read(&abs).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(s) => {
                    ctx.io.read(&abs);
                    s
                }
                Err(e) => {
                    ctx.error(format!("failed to open {}: {}", quoteaf(f), e.message()))
                        .await;
                    return Ok(1);
                }
            }
        }
    };
    let has = |c: &str| convs.iter().any(|x| x == c);
    // records in: cut the stream into ibs-byte records
    let mut stream = src.into_stream();
    let ibs_u = usize::try_from(ibs).unwrap_or(usize::MAX);
    let mut pending = BytesMut::new();
    let mut copied = BytesMut::new();
    let mut written = 0u64;
    let (mut full_in, mut part_in) = (0u64, 0u64);
    let mut skipped = 0u64;
    let mut done = false;
    let mut eof = false;
    while !done {
        // fill one record
        while pending.len() < ibs_u && !eof {
            match stream.next().await {
                Some(Ok(c)) => pending.extend_from_slice(&c),
                Some(Err(e)) => {
                    let name = input.as_deref().unwrap_or("standard input");
                    ctx.error(format!("error reading {}: {}", quoteaf(name), e.message()))
                        .await;
                    return Ok(1);
                }
                None => eof = true,
            }
        }
        if pending.is_empty() {
            break;
        }
        let take = pending.len().min(ibs_u);
        let mut rec = pending.split_to(take);
        if skipped < skip {
            skipped += 1;
            continue;
        }
        if count.is_some_and(|c| full_in + part_in >= c) {
            break;
        }
        if rec.len() == ibs_u {
            full_in += 1;
        } else {
            part_in += 1;
            if has("sync") {
                rec.resize(ibs_u, 0);
            }
        }
        if has("ucase") {
            rec.make_ascii_uppercase();
        } else if has("lcase") {
            rec.make_ascii_lowercase();
        }
        written += rec.len() as u64;
        if output.is_none() {
            // to stdout: each record goes as soon as it is read
            ctx.stdout.write(&rec).await?;
        } else {
            copied.extend_from_slice(&rec);
        }
        if count.is_some_and(|c| full_in + part_in >= c) {
            done = true;
        }
    }
    if skipped < skip && status != "none" {
        ctx.error("cannot skip to specified offset").await;
    }
    let data: Bytes = copied.freeze();
    let n = written;
    match &output {
        None => {}
        Some(f) => {
            let abs = ctx.resolve(f);
            let offset = seek.saturating_mul(obs);
            let vfs = ctx.vfs.clone();
            let old = vfs.stat(&abs).await.ok();
            let old_size = old.as_ref().map_or(0, |s| s.size);
            let read_range = |start: u64, len: Option<u64>| {
                let vfs = vfs.clone();
                let abs = abs.clone();
                async move {
                    let opts = ReadOptions {
                        range: Some(ByteRange { offset: start, len }),
                        ..Default::default()
                    };
                    match vfs.read_with(&abs, &opts).await {
                        Ok(r) => match r.into_source() {
                            Some(s) => s.collect().await,
                            None => Ok(Bytes::new()),
                        },
                        Err(e) => Err(e),
                    }
                }
            };
            let mut out = BytesMut::new();
            if offset > 0 {
                if old.is_some() {
                    let head = read_range(0, Some(offset)).await.unwrap_or_default();
                    out.extend_from_slice(&head);
                }
                out.resize(usize::try_from(offset).unwrap_or(usize::MAX), 0);
            }
            out.extend_from_slice(&data);
            if has("notrunc") && old_size > offset + n {
                let tail = read_range(offset + n, None).await.unwrap_or_default();
                out.extend_from_slice(&tail);
            }
            if let Err(e) = vfs.write(&abs, ByteSource::Bytes(out.freeze())).await {
                ctx.error(format!("failed to open {}: {}", quoteaf(f), e.message()))
                    .await;
                return Ok(1);
            }
            ctx.io.wrote(&abs);
        }
    }
    if status != "none" {
        let (full_out, part_out) = (n / obs, u64::from(!n.is_multiple_of(obs)));
        let mut msg = format!("{full_in}+{part_in} records in\n{full_out}+{part_out} records out");
        if status != "noxfer" {
            let secs = started.elapsed().as_secs_f64().max(1e-6);
            let size = if n >= 1000 {
                format!(
                    "{n} bytes ({}B, {}B) copied",
                    si(n as f64),
                    crate::builtin::ls::human_size(n)
                        .replace('K', " KiB")
                        .replace('M', " MiB")
                        .replace('G', " GiB")
                )
            } else {
                format!("{n} bytes copied")
            };
            msg.push_str(&format!(
                "\n{size}, {} s, {}B/s",
                g(secs),
                si(n as f64 / secs)
            ));
        }
        ctx.error(msg).await;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn numbers_and_formats() {
        assert_eq!(parse_num("4"), Some(4));
        assert_eq!(parse_num("2x512"), Some(1024));
        assert_eq!(parse_num("1K"), Some(1024));
        assert_eq!(parse_num("1kB"), Some(1000));
        assert_eq!(parse_num("abc"), None);
        assert_eq!(g(4.5696e-05), "4.5696e-05");
        assert_eq!(g(0.25), "0.25");
        assert_eq!(si(175_000.0), "175 k");
        assert_eq!(si(500.0), "500 ");
    }

    #[test]
    fn copies_records() {
        let v = MemVfs::with(&[("/d/f", "hello world\n")]);
        let r = |args: &[&str]| run_cmd(&v, run, "dd", args, "/d", "");
        assert_eq!(
            r(&["if=f", "bs=1", "skip=6", "count=5", "status=none"]).0,
            "world"
        );
        let (o, e, s) = r(&["if=f", "bs=4", "count=2", "status=noxfer"]);
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("hello wo", "dd: 2+0 records in\n2+0 records out\n", 0)
        );
        assert_eq!(r(&["if=f", "of=g", "bs=4", "count=1", "status=none"]).2, 0);
        assert_eq!(
            v.tree
                .lock()
                .unwrap()
                .get("/d/g")
                .cloned()
                .flatten()
                .map(|b| b.to_vec()),
            Some(b"hell".to_vec())
        );
        assert_eq!(r(&["if=f", "of=g", "bs=4", "seek=1", "status=none"]).2, 0);
        assert_eq!(
            v.tree
                .lock()
                .unwrap()
                .get("/d/g")
                .cloned()
                .flatten()
                .map(|b| b.to_vec()),
            Some(b"hellhello world\n".to_vec())
        );
        assert_eq!(
            r(&["if=nope"]).1,
            "dd: failed to open 'nope': No such file or directory\n"
        );
        assert!(
            r(&["foo=1"])
                .1
                .starts_with("dd: unrecognized operand \u{2018}foo=1\u{2019}\n")
        );
        assert_eq!(
            r(&["if=f", "bs=0"]).1,
            "dd: invalid number: \u{2018}0\u{2019}\n"
        );
        let (o, _, _) = run_cmd(&v, run, "dd", &["conv=ucase", "status=none"], "/d", "abc");
        assert_eq!(o, "ABC");
    }
}
