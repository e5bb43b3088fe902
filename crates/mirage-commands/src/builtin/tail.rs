//! `tail`: output the last part of files, as GNU coreutils 9.1 `tail`
//! (`-n [+]N`, `-c [+]N`, `-NUM`, obsolete `+NUM`, `-q`, `-v`, `-z`).
//! Streams: `+N` passes chunks through once the start is reached; the last
//! N lines or bytes keep only the chunks that may still be printed.

use futures::StreamExt;
use mirage_types::ByteSource;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use super::head::parse_size;
use crate::util::{FileEnd, LastUnits, Part, count_each_file, parse_cmd, write_part};

const OPTS: &[OptSpec] = &[
    OptSpec::value("lines", Some('n'), Some("lines")),
    OptSpec::value("bytes", Some('c'), Some("bytes")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("quiet", None, Some("silent")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
    OptSpec::optional("follow", Some('f'), Some("follow")),
    OptSpec::flag("follow", Some('F'), None),
    OptSpec::flag("retry", None, Some("retry")),
    OptSpec::value("sleep", Some('s'), Some("sleep-interval")),
    OptSpec::value("pid", None, Some("pid")),
    OptSpec::value("max-unchanged", None, Some("max-unchanged-stats")),
];

/// The spec of `tail`.
pub static SPEC: CommandSpec = CommandSpec {
    numeric_key: Some("lines"),
    ..CommandSpec::new("tail", OPTS, PathOperands::All)
};

crate::register_command!("tail", SPEC, run);

/// Which part to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    /// The last N units.
    Last(u64),
    /// Everything from unit N on (1-based).
    From(u64),
}

/// Parses the value of `-n`/`-c`: `N`, `-N` (last N) or `+N` (from N).
fn parse_count(s: &str) -> Option<Count> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('+') {
        parse_size(rest).map(Count::From)
    } else {
        parse_size(s.strip_prefix('-').unwrap_or(s)).map(Count::Last)
    }
}

/// Rewrites GNU's obsolete first argument (`+5`, `-5c`, `+3l`) into
/// `-n`/`-c` options, under GNU's condition that at most one file follows.
fn rewrite_obsolete(args: &[String]) -> Option<Vec<String>> {
    if args.is_empty() || args.len() > 2 {
        return None;
    }
    if args.len() == 2 && args[1].starts_with('-') && args[1] != "-" {
        return None;
    }
    let a = &args[0];
    let (sign, rest) = match a.as_bytes().first() {
        Some(b'+') => ('+', &a[1..]),
        Some(b'-') => ('-', &a[1..]),
        _ => return None,
    };
    let digits_end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, mut suffix) = rest.split_at(digits_end);
    if sign == '-' && (digits.is_empty() || suffix.is_empty()) {
        // `-5` is the ordinary numeric form; `-c` is an option.
        return None;
    }
    if let Some(s) = suffix.strip_suffix('f') {
        suffix = s;
    }
    let n: u64 = if digits.is_empty() {
        10
    } else {
        digits.parse().unwrap_or(u64::MAX)
    };
    let (opt, n) = match suffix {
        "" | "l" => ("-n", n),
        "c" => ("-c", n),
        "b" => ("-c", n.saturating_mul(512)),
        _ => return None,
    };
    let mut out = vec![opt.to_string(), format!("{sign}{n}")];
    out.extend(args[1..].iter().cloned());
    Some(out)
}

/// Copies the requested part of `src` to stdout; `Err` is how the file
/// ended early (a read error or a closed stdout).
async fn tail_one(
    ctx: &mut CommandCtx,
    src: ByteSource,
    count: Count,
    bytes: bool,
    delim: u8,
) -> Result<(), FileEnd> {
    let mut stream = src.into_stream();
    let read_err = |e: mirage_types::Error| FileEnd::ReadError(e.message().to_string());
    match count {
        Count::From(n) => {
            // Skip n-1 units, then pass everything through.
            let mut skip = n.saturating_sub(1);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(read_err)?;
                if skip == 0 {
                    write_part(ctx, chunk).await?;
                    continue;
                }
                if bytes {
                    let len = chunk.len() as u64;
                    if len <= skip {
                        skip -= len;
                        continue;
                    }
                    let start = skip as usize;
                    skip = 0;
                    write_part(ctx, chunk.slice(start..)).await?;
                } else {
                    let mut start = None;
                    for i in memchr::memchr_iter(delim, &chunk) {
                        skip -= 1;
                        if skip == 0 {
                            start = Some(i + 1);
                            break;
                        }
                    }
                    if let Some(s) = start {
                        write_part(ctx, chunk.slice(s..)).await?;
                    }
                }
            }
            Ok(())
        }
        Count::Last(n) => {
            if n == 0 {
                return Ok(());
            }
            let mut keep = LastUnits::new(n, bytes, delim);
            while let Some(chunk) = stream.next().await {
                keep.push(chunk.map_err(read_err)?);
                while keep.pop_before().is_some() {}
            }
            let (rest, start) = keep.finish();
            write_part(ctx, rest.slice(start..)).await
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    if let Some(args) = rewrite_obsolete(&ctx.args) {
        ctx.args = args;
    }
    let p = parse_cmd(ctx, &SPEC)?;
    Ok(count_each_file(
        ctx,
        &p,
        parse_count,
        Count::Last(10),
        // `tail -c N` / `tail -n N` of a large file: ranged reads of its end
        |arg| match arg {
            (Count::Last(0), _, _) => None,
            (Count::Last(n), true, _) => Some(Part::LastBytes(n)),
            (Count::Last(n), false, delim) => Some(Part::LastRecords(n, delim)),
            _ => None,
        },
        |ctx, src, (count, bytes, delim)| Box::pin(tail_one(ctx, src, count, bytes, delim)),
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("5"), Some(Count::Last(5)));
        assert_eq!(parse_count("-5"), Some(Count::Last(5)));
        assert_eq!(parse_count("+2"), Some(Count::From(2)));
        assert_eq!(parse_count("1K"), Some(Count::Last(1024)));
        assert_eq!(parse_count("abc"), None);
    }

    #[test]
    fn obsolete_forms() {
        assert_eq!(
            rewrite_obsolete(&v(&["+2", "f"])),
            Some(v(&["-n", "+2", "f"]))
        );
        assert_eq!(rewrite_obsolete(&v(&["-3c"])), Some(v(&["-c", "-3"])));
        assert_eq!(rewrite_obsolete(&v(&["-5", "f"])), None);
        assert_eq!(rewrite_obsolete(&v(&["-n", "5"])), None);
        assert_eq!(rewrite_obsolete(&v(&["+2", "a", "b"])), None);
    }

    #[test]
    fn last_lines() {
        assert_eq!(crate::util::last_records_start(b"a\nb\nc\n", 2, b'\n'), 2);
        assert_eq!(crate::util::last_records_start(b"a\nb\nc", 1, b'\n'), 4);
        assert_eq!(crate::util::last_records_start(b"a\nb\n", 5, b'\n'), 0);
        assert_eq!(crate::util::last_records_start(b"a\nb\n", 0, b'\n'), 4);
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &["lines.txt"],
                "",
                "line 6\nline 7\nline 8\nline 9\nline 10\nline 11\nline 12\nline 13\nline 14\nline 15\n",
                0,
            ),
            (
                &["-n", "1", "a.txt", "b.txt"],
                "",
                "==> a.txt <==\na3\n\n==> b.txt <==\nb2\n",
                0,
            ),
            (&["-n", "+2", "a.txt"], "", "a2\na3\n", 0),
            (&["-c", "8", "lines.txt"], "", "line 15\n", 0),
            (
                &["-c", "+70", "lines.txt"],
                "",
                "0\nline 11\nline 12\nline 13\nline 14\nline 15\n",
                0,
            ),
            (&["-n", "0", "lines.txt"], "", "", 0),
            (&["-2"], "1\n2\n3\n", "2\n3\n", 0),
            (&["+2"], "1\n2\n3\n", "2\n3\n", 0),
            (&["-n", "2", "nonl.txt"], "", "y\nz", 0),
            (&["-n", "1", "missing"], "", "", 1),
            (&["-q", "-n", "1", "a.txt", "b.txt"], "", "a3\nb2\n", 0),
            (&["-n", "3", "empty.txt"], "", "", 0),
            (&["-3c"], "abcdef", "def", 0),
            (&["-n", "+1", "nonl.txt"], "", "x\ny\nz", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "tail", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-n", "+0", "a.txt"], "", "a1\na2\na3\n", 0),
            (&["-c", "0", "a.txt"], "", "", 0),
            (&["-n", "-0", "a.txt"], "", "", 0),
            (&["-v", "a.txt"], "", "==> a.txt <==\na1\na2\na3\n", 0),
            (&["-c", "-3", "a.txt"], "", "a3\n", 0),
            (&["-z", "-n", "1"], "a\0b\0", "b\0", 0),
            (
                &["-n", "2", "-", "a.txt"],
                "x\ny\nz\n",
                "==> standard input <==\ny\nz\n\n==> a.txt <==\na2\na3\n",
                0,
            ),
            (&["-1"], "a\nb", "b", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "tail", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
