//! `head`: output the first part of files, as GNU coreutils 9.1 `head`
//! (`-n [-]N`, `-c [-]N`, `-NUM`, `-q`, `-v`, `-z`, size suffixes).
//! Streams: with a positive count it stops reading as soon as it has
//! enough, so `seq 1 100000 | head -n 3` reads one chunk.

use futures::StreamExt;
use mirage_types::ByteSource;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{FileEnd, LastUnits, Part, count_each_file, parse_cmd, write_part};

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

/// Copies the requested part of `src` to stdout; `Err` is how the file
/// ended early (a read error or a closed stdout).
async fn head_one(
    ctx: &mut CommandCtx,
    src: ByteSource,
    count: Count,
    bytes: bool,
    delim: u8,
) -> Result<(), FileEnd> {
    let mut stream = src.into_stream();
    let read_err = |e: mirage_types::Error| FileEnd::ReadError(e.message().to_string());
    match count {
        Count::First(n) => {
            let mut left = n;
            while left > 0 {
                let Some(chunk) = stream.next().await else {
                    break;
                };
                let chunk = chunk.map_err(read_err)?;
                let (end, units) = if bytes {
                    let end = left.min(chunk.len() as u64);
                    (end as usize, end)
                } else {
                    let mut taken = 0u64;
                    let mut end = chunk.len();
                    for i in memchr::memchr_iter(delim, &chunk) {
                        taken += 1;
                        if taken == left {
                            end = i + 1;
                            break;
                        }
                    }
                    (end, taken)
                };
                left -= units.min(left);
                write_part(ctx, chunk.slice(..end)).await?;
            }
            Ok(())
        }
        Count::AllBut(n) => {
            // Keep only what may still be withheld; write the rest as it goes.
            let mut keep = LastUnits::new(n, bytes, delim);
            while let Some(chunk) = stream.next().await {
                keep.push(chunk.map_err(read_err)?);
                while let Some(done) = keep.pop_before() {
                    write_part(ctx, done).await?;
                }
            }
            let (rest, start) = keep.finish();
            write_part(ctx, rest.slice(..start)).await
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    Ok(count_each_file(
        ctx,
        &p,
        parse_count,
        Count::First(10),
        // `head -c N` of a large file: one ranged read of N bytes
        |arg| match arg {
            (Count::First(n), true, _) => Some(Part::FirstBytes(n)),
            _ => None,
        },
        |ctx, src, (count, bytes, delim)| Box::pin(head_one(ctx, src, count, bytes, delim)),
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    /// `head` on an endless stream returns after the lines it needs.
    #[test]
    fn stops_reading_early() {
        use mirage_types::{IOResult, Input, Output, Sink};
        let endless =
            futures::stream::repeat_with(|| Ok(bytes::Bytes::from_static(b"y\ny\ny\n"))).boxed();
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
            net: None,
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
        assert_eq!(crate::util::last_records_start(b"a\nb\nc\n", 1, b'\n'), 4);
        assert_eq!(crate::util::last_records_start(b"a\nb\nc", 1, b'\n'), 4);
        assert_eq!(crate::util::last_records_start(b"a\nb\nc\n", 3, b'\n'), 0);
        assert_eq!(crate::util::last_records_start(b"a\nb\nc\n", 12, b'\n'), 0);
        assert_eq!(crate::util::last_records_start(b"a\nb\n", 0, b'\n'), 4);
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
