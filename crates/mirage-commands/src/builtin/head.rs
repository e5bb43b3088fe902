//! `head`: output the first part of files, as GNU coreutils 9.1 `head`
//! (`-n [-]N`, `-c [-]N`, `-NUM`, `-q`, `-v`, `-z`, size suffixes).
//! Streams: with a positive count it stops reading as soon as it has
//! enough, so `seq 1 100000 | head -n 3` reads one chunk.

use std::collections::VecDeque;

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};

use crate::util::{FileEnd, FileWalk, parse_cmd, parse_line_or_byte_count};

const OPTS: &[OptSpec] = &[
    OptSpec::value("lines", Some('n'), Some("lines")),
    OptSpec::value("bytes", Some('c'), Some("bytes")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("quiet", None, Some("silent")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
];

/// The spec of `head`.
pub static SPEC: CommandSpec = CommandSpec {
    numeric_key: Some("lines"),
    ..CommandSpec::new("head", OPTS, PathOperands::All)
};

crate::register_command!("head", SPEC, run);

/// What to print: the first N units, or all but the last N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    First(u64),
    AllBut(u64),
}

/// Multiplier of a GNU size suffix (`b`, `K`, `KB`, `KiB`, `M`, …).
pub(crate) fn suffix_multiplier(s: &str) -> Option<u64> {
    let m: u64 = match s {
        "" => 1,
        "b" => 512,
        "kB" | "KB" => 1000,
        "K" | "k" | "KiB" | "kiB" => 1024,
        "MB" => 1000 * 1000,
        "M" | "MiB" => 1024 * 1024,
        "GB" => 1000 * 1000 * 1000,
        "G" | "GiB" => 1024 * 1024 * 1024,
        "TB" => 1000u64.pow(4),
        "T" | "TiB" => 1024u64.pow(4),
        "PB" => 1000u64.pow(5),
        "P" | "PiB" => 1024u64.pow(5),
        "EB" => 1000u64.pow(6),
        "E" | "EiB" => 1024u64.pow(6),
        _ => return None,
    };
    Some(m)
}

/// Parses a GNU count with an optional size suffix (`10`, `2K`, `1MB`);
/// saturates on overflow as GNU does.
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let digits_end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if digits_end == 0 {
        return None;
    }
    let mult = suffix_multiplier(&s[digits_end..])?;
    let n = s[..digits_end].parse::<u64>().unwrap_or(u64::MAX);
    Some(n.saturating_mul(mult))
}

/// Parses the value of `-n`/`-c`: `N` or `-N` (all but the last N).
fn parse_count(s: &str) -> Option<Count> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('-') {
        parse_size(rest).map(Count::AllBut)
    } else {
        parse_size(s.strip_prefix('+').unwrap_or(s)).map(Count::First)
    }
}

/// The end of the part of `data` that is before its last `n` records.
fn all_but_last_records(data: &[u8], n: u64, delim: u8) -> usize {
    if n == 0 {
        return data.len();
    }
    // Records counted from the end; a missing final delimiter still ends a record.
    let mut remaining = n;
    let mut end = data.len();
    if end > 0 && data[end - 1] == delim {
        end -= 1;
    } else if end == 0 {
        return 0;
    }
    for i in memchr::memrchr_iter(delim, &data[..end]) {
        remaining -= 1;
        if remaining == 0 {
            return i + 1;
        }
    }
    0
}

enum Stop {
    BrokenPipe,
}

async fn write_out(ctx: &mut CommandCtx, b: Bytes) -> Result<(), Stop> {
    match ctx.stdout.write_bytes(b).await {
        Err(e) if e.kind == ErrorKind::BrokenPipe => Err(Stop::BrokenPipe),
        _ => Ok(()),
    }
}

/// Copies the requested part of `src` to stdout. `Err(msg)` is a read error.
async fn head_one(
    ctx: &mut CommandCtx,
    src: ByteSource,
    count: Count,
    bytes: bool,
    delim: u8,
) -> Result<Result<(), Stop>, String> {
    let mut stream = src.into_stream();
    match count {
        Count::First(n) => {
            let mut left = n;
            while left > 0 {
                let Some(chunk) = stream.next().await else {
                    break;
                };
                let chunk = chunk.map_err(|e| e.message().to_string())?;
                let take = if bytes {
                    (left.min(chunk.len() as u64)) as usize
                } else {
                    let mut taken = 0usize;
                    let mut end = chunk.len();
                    for i in memchr::memchr_iter(delim, &chunk) {
                        taken += 1;
                        if taken as u64 == left {
                            end = i + 1;
                            break;
                        }
                    }
                    left -= (taken as u64).min(left);
                    if let Err(s) = write_out(ctx, chunk.slice(..end)).await {
                        return Ok(Err(s));
                    }
                    continue;
                };
                left -= take as u64;
                if let Err(s) = write_out(ctx, chunk.slice(..take)).await {
                    return Ok(Err(s));
                }
            }
            Ok(Ok(()))
        }
        Count::AllBut(n) => {
            // Keep only what may still be withheld; write the rest as it goes.
            let mut held: VecDeque<Bytes> = VecDeque::new();
            let mut held_units: u64 = 0;
            let units = |b: &[u8]| -> u64 {
                if bytes {
                    b.len() as u64
                } else {
                    memchr::memchr_iter(delim, b).count() as u64
                }
            };
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| e.message().to_string())?;
                held_units += units(&chunk);
                held.push_back(chunk);
                while held.len() > 1 {
                    let front_units = held.front().map(|f| units(f)).unwrap_or(0);
                    // The front chunk is surely printed when the others hold more than n units.
                    if held_units - front_units > n {
                        held_units -= front_units;
                        if let Some(f) = held.pop_front()
                            && let Err(s) = write_out(ctx, f).await
                        {
                            return Ok(Err(s));
                        }
                    } else {
                        break;
                    }
                }
            }
            let mut rest = Vec::new();
            for b in held {
                rest.extend_from_slice(&b);
            }
            let end = if bytes {
                rest.len().saturating_sub(n.min(usize::MAX as u64) as usize)
            } else {
                all_but_last_records(&rest, n, delim)
            };
            rest.truncate(end);
            Ok(write_out(ctx, Bytes::from(rest)).await)
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let (count, bytes, delim) =
        match parse_line_or_byte_count(ctx, &p, parse_count, Count::First(10)).await {
            Ok(x) => x,
            Err(code) => return Ok(code),
        };
    let mut walk = FileWalk::new(&p);
    while let Some(src) = walk.next(ctx).await {
        let end = match head_one(ctx, src, count, bytes, delim).await {
            Ok(Ok(())) => FileEnd::Done,
            Ok(Err(Stop::BrokenPipe)) => FileEnd::BrokenPipe,
            Err(msg) => FileEnd::ReadError(msg),
        };
        if !walk.finish(ctx, end).await {
            break;
        }
    }
    Ok(walk.status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    /// `head` on an endless stream returns after the lines it needs.
    #[test]
    fn stops_reading_early() {
        use mirage_types::{IOResult, Input, Output, Sink};
        let endless = futures::stream::repeat_with(|| Ok(Bytes::from_static(b"y\ny\ny\n"))).boxed();
        let (sink, buf) = Sink::capture();
        let mut ctx = CommandCtx {
            name: "head".into(),
            args: vec!["-n".into(), "5".into()],
            cwd: "/".into(),
            env: Default::default(),
            vfs: MemVfs::with(&[]),
            stdin: Input::from_source(ByteSource::Stream(endless)),
            stdout: Output::new(sink),
            stderr: Output::null(),
            io: IOResult::default(),
            mount: None,
            runner: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread().build();
        let Ok(rt) = rt else { return };
        let code = rt.block_on(async {
            let c = run(&mut ctx).await;
            let _ = ctx.stdout.flush().await;
            c
        });
        assert_eq!(code, 0);
        assert_eq!(
            &buf.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)[..],
            b"y\ny\ny\ny\ny\n"
        );
    }

    #[test]
    fn counts_and_suffixes() {
        assert_eq!(parse_count("5"), Some(Count::First(5)));
        assert_eq!(parse_count("-3"), Some(Count::AllBut(3)));
        assert_eq!(parse_count("2K"), Some(Count::First(2048)));
        assert_eq!(parse_count("1kB"), Some(Count::First(1000)));
        assert_eq!(parse_count("x"), None);
        assert_eq!(parse_count("5q"), None);
        assert_eq!(parse_count(""), None);
    }

    #[test]
    fn record_prefixes() {
        assert_eq!(all_but_last_records(b"a\nb\nc\n", 1, b'\n'), 4);
        assert_eq!(all_but_last_records(b"a\nb\nc", 1, b'\n'), 4);
        assert_eq!(all_but_last_records(b"a\nb\nc\n", 3, b'\n'), 0);
        assert_eq!(all_but_last_records(b"a\nb\nc\n", 12, b'\n'), 0);
        assert_eq!(all_but_last_records(b"a\nb\n", 0, b'\n'), 4);
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &["-n", "2", "a.txt", "b.txt"],
                "",
                "==> a.txt <==\na1\na2\n\n==> b.txt <==\nb1\nb2\n",
                0,
            ),
            (&["-q", "-n", "1", "a.txt", "b.txt"], "", "a1\nb1\n", 0),
            (
                &["-n", "-12", "lines.txt"],
                "",
                "line 1\nline 2\nline 3\n",
                0,
            ),
            (&["-3"], "1\n2\n3\n4\n5\n", "1\n2\n3\n", 0),
            (&["-c", "5", "lines.txt"], "", "line ", 0),
            (&["-c", "-3"], "abcdef", "abc", 0),
            (
                &["-n", "1", "a.txt", "missing", "b.txt"],
                "",
                "==> a.txt <==\na1\n\n==> b.txt <==\nb1\n",
                1,
            ),
            (&["-v", "a.txt"], "", "==> a.txt <==\na1\na2\na3\n", 0),
            (&["nonl.txt"], "", "x\ny\nz", 0),
            (&["-n", "-1", "nonl.txt"], "", "x\ny\n", 0),
            (&["-n", "x", "a.txt"], "", "", 1),
            (
                &["-n", "1", "dir", "a.txt"],
                "",
                "==> dir <==\n\n==> a.txt <==\na1\n",
                1,
            ),
            (&["-n", "0", "a.txt"], "", "", 0),
            (&[], "", "", 0),
            (
                &["-", "a.txt"],
                "in\n",
                "==> standard input <==\nin\n\n==> a.txt <==\na1\na2\na3\n",
                0,
            ),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "head", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-c", "2K", "a.txt"], "", "a1\na2\na3\n", 0),
            (
                &["-n", "+3", "lines.txt"],
                "",
                "line 1\nline 2\nline 3\n",
                0,
            ),
            (&["-c", "-0", "a.txt"], "", "a1\na2\na3\n", 0),
            (&["-n", "-0", "a.txt"], "", "a1\na2\na3\n", 0),
            (&["-z", "-n", "1"], "a\0b\0", "a\0", 0),
            (&["-c", "0", "a.txt"], "", "", 0),
            (&["--lines=2", "a.txt"], "", "a1\na2\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "head", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
