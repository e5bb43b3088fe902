//! `truncate`: shrink or extend files to a size, as GNU coreutils 9.1
//! `truncate` (`-s [+-<>/%]SIZE` with K, M, G, … units (`KB` = 1000, `K`
//! and `KiB` = 1024), `-r RFILE`, `-c`, `-o` accepted). A file that grows
//! is padded with zero bytes. The VFS has no truncate call, so the file is
//! rewritten: its first bytes are streamed back (a ranged read), followed
//! by the zeros, and never gathered whole.

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteRange, ByteSource, ErrorKind, ReadOptions};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("no-create", Some('c'), Some("no-create")),
    OptSpec::flag("io-blocks", Some('o'), Some("io-blocks")),
    OptSpec::value("reference", Some('r'), Some("reference")),
    OptSpec::value("size", Some('s'), Some("size")),
];

/// The spec of `truncate`.
pub static SPEC: CommandSpec = CommandSpec::new("truncate", OPTS, PathOperands::All);

crate::register_command!("truncate", SPEC, run, true);

/// How a `-s` size applies to the current size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Set,
    Extend,
    Reduce,
    AtMost,
    AtLeast,
    RoundDown,
    RoundUp,
}

/// Parses a size with GNU's units: digits, then an optional `K M G T P E Z
/// Y` (any case for `k m g t`), then `B` (powers of 1000) or `iB` (1024).
/// None when it is not a number.
pub(crate) fn parse_size(s: &str) -> Option<i128> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: i128 = s[..digits].parse().ok()?;
    let rest = &s[digits..];
    if rest.is_empty() {
        return Some(n);
    }
    let mut chars = rest.chars();
    let unit = chars.next()?;
    let power = match unit {
        'k' | 'K' => 1,
        'm' | 'M' => 2,
        'g' | 'G' => 3,
        't' | 'T' => 4,
        'P' => 5,
        'E' => 6,
        'Z' => 7,
        'Y' => 8,
        _ => return None,
    };
    let base: i128 = match chars.as_str() {
        "" | "iB" => 1024,
        "B" => 1000,
        _ => return None,
    };
    n.checked_mul(base.checked_pow(power)?)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let size_arg = p.value("size");
    let reference = p.value("reference");
    if size_arg.is_none() && reference.is_none() {
        return Err(CmdError::usage(format!(
            "you must specify either {} or {}",
            gnu_quote("--size"),
            gnu_quote("--reference")
        )));
    }
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing file operand"));
    }
    let mut rel = Rel::Set;
    let mut amount: i128 = 0;
    if let Some(s) = size_arg {
        let (r, num) = match s.chars().next() {
            Some('+') => (Rel::Extend, &s[1..]),
            Some('-') => (Rel::Reduce, &s[1..]),
            Some('<') => (Rel::AtMost, &s[1..]),
            Some('>') => (Rel::AtLeast, &s[1..]),
            Some('/') => (Rel::RoundDown, &s[1..]),
            Some('%') => (Rel::RoundUp, &s[1..]),
            _ => (Rel::Set, s),
        };
        let Some(n) = parse_size(num.trim_start()) else {
            ctx.error(format!("Invalid number: {}", gnu_quote(s))).await;
            return Ok(1);
        };
        if matches!(r, Rel::RoundDown | Rel::RoundUp) && n == 0 {
            ctx.error("division by zero").await;
            return Ok(1);
        }
        rel = r;
        amount = n;
    }
    let mut ref_size = None;
    if let Some(r) = reference {
        let abs = ctx.resolve(r);
        match ctx.vfs.stat(&abs).await {
            Ok(st) => ref_size = Some(i128::from(st.size)),
            Err(e) => {
                ctx.error(format!("cannot stat {}: {}", gnu_quote(r), e.message()))
                    .await;
                return Ok(1);
            }
        }
    }
    if let (Some(rs), None) = (ref_size, size_arg) {
        amount = rs;
    }
    let no_create = p.has("no-create");
    let mut status = 0;
    for op in p.operands.clone() {
        let abs = ctx.resolve(&op);
        let vfs = ctx.vfs.clone();
        let current = match vfs.stat(&abs).await {
            Ok(st) if st.is_dir() => {
                ctx.error(format!(
                    "cannot open '{op}' for writing: {}",
                    ErrorKind::IsADirectory.gnu_message()
                ))
                .await;
                status = 1;
                continue;
            }
            Ok(st) => Some(st.size),
            Err(e) if e.kind == ErrorKind::NotFound => {
                if no_create {
                    continue;
                }
                None
            }
            Err(e) => {
                ctx.error(format!("cannot open '{op}' for writing: {}", e.message()))
                    .await;
                status = 1;
                continue;
            }
        };
        let cur = i128::from(current.unwrap_or(0));
        // with -r and a relative -s, the reference size is the base
        let base = if size_arg.is_some() {
            ref_size.unwrap_or(cur)
        } else {
            cur
        };
        let want = match rel {
            Rel::Set => amount,
            Rel::Extend => base + amount,
            Rel::Reduce => base - amount,
            Rel::AtMost => base.min(amount),
            Rel::AtLeast => base.max(amount),
            Rel::RoundDown => base / amount * amount,
            Rel::RoundUp => (base + amount - 1) / amount * amount,
        }
        .max(0);
        let want = u64::try_from(want).unwrap_or(u64::MAX);
        if current == Some(want) {
            continue;
        }
        let keep = if current.is_some() {
            let opts = ReadOptions {
                range: Some(ByteRange::new(0, want)),
                ..Default::default()
            };
            match vfs.read_with(&abs, &opts).await {
                Ok(r) => r.into_source().unwrap_or_else(ByteSource::empty),
                Err(e) => {
                    ctx.error(format!("cannot open '{op}' for writing: {}", e.message()))
                        .await;
                    status = 1;
                    continue;
                }
            }
        } else {
            ByteSource::empty()
        };
        let pad = want.saturating_sub(current.unwrap_or(0));
        let data = if pad == 0 {
            keep
        } else {
            ByteSource::Stream(keep.into_stream().chain(zeros(pad)).boxed())
        };
        match vfs.write(&abs, data).await {
            Ok(()) => ctx.io.wrote(&abs),
            Err(e) => {
                ctx.error(format!("cannot open '{op}' for writing: {}", e.message()))
                    .await;
                status = 1;
            }
        }
    }
    Ok(status)
}

/// A stream of `n` zero bytes in chunks of at most 64 KiB.
fn zeros(n: u64) -> mirage_types::ByteStream {
    const CHUNK: u64 = 64 * 1024;
    let block = Bytes::from(vec![0u8; usize::try_from(n.min(CHUNK)).unwrap_or(0)]);
    futures::stream::unfold(n, move |left| {
        let block = block.clone();
        async move {
            if left == 0 {
                return None;
            }
            let k = left.min(CHUNK);
            Some((Ok(block.slice(..usize::try_from(k).unwrap_or(0))), left - k))
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5"), Some(5));
        assert_eq!(parse_size("2K"), Some(2048));
        assert_eq!(parse_size("1KB"), Some(1000));
        assert_eq!(parse_size("1KiB"), Some(1024));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn shrinks_grows_and_rounds() {
        let v = MemVfs::with(&[("/d/f", "hello world\n"), ("/d/sub/", "")]);
        let r = |args: &[&str]| run_cmd(&v, run, "truncate", args, "/d", "");
        let get = |p: &str| {
            v.tree
                .lock()
                .unwrap()
                .get(p)
                .cloned()
                .flatten()
                .map(|b| b.to_vec())
        };
        assert_eq!(r(&["-s", "5", "f"]).2, 0);
        assert_eq!(get("/d/f"), Some(b"hello".to_vec()));
        assert_eq!(r(&["-s", "+2", "f"]).2, 0);
        assert_eq!(get("/d/f"), Some(b"hello\0\0".to_vec()));
        assert_eq!(r(&["-s", "%4", "f"]).2, 0);
        assert_eq!(get("/d/f").map(|b| b.len()), Some(8));
        assert_eq!(r(&["-s", "-100", "f"]).2, 0);
        assert_eq!(get("/d/f").map(|b| b.len()), Some(0));
        assert_eq!(r(&["-s", "3", "new"]).2, 0);
        assert_eq!(get("/d/new"), Some(vec![0, 0, 0]));
        assert_eq!(r(&["-c", "-s", "3", "none"]).2, 0);
        assert_eq!(get("/d/none"), None);
        assert_eq!(
            r(&["-s", "abc", "f"]).1,
            "truncate: Invalid number: \u{2018}abc\u{2019}\n"
        );
        assert_eq!(r(&["-s", "%0", "f"]).1, "truncate: division by zero\n");
        assert_eq!(
            r(&["-s", "1", "sub"]).1,
            "truncate: cannot open 'sub' for writing: Is a directory\n"
        );
        assert_eq!(
            r(&["-s", "1", "no/x"]).1,
            "truncate: cannot open 'no/x' for writing: No such file or directory\n"
        );
        assert!(r(&["f"]).1.starts_with("truncate: you must specify either"));
    }
}
