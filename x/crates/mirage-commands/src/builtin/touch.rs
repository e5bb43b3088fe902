//! `touch`: create empty files, as GNU coreutils 9.1 `touch` (`-c`; `-a`,
//! `-m`, `-d`, `-t`, `-r` are accepted, times are kept by the resource).
//! The time given is checked as GNU checks it: `-d` takes a GNU date
//! string (parsed by `parse_datetime`: ISO dates, `@EPOCH`, `now`,
//! `yesterday`, `2 days ago`, …), `-t` takes `[[CC]YY]MMDDhhmm[.ss]`; a bad
//! one is `touch: invalid date format ‘X’` (status 1), and two sources of
//! time are a usage error.
//! An existing file keeps its contents. Errors read `touch: cannot touch
//! 'x': No such file or directory` or `… Read-only file system`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("no-create", Some('c'), Some("no-create")),
    OptSpec::flag("access", Some('a'), None),
    OptSpec::flag("modify", Some('m'), None),
    OptSpec::value("date", Some('d'), Some("date")),
    OptSpec::value("stamp", Some('t'), None),
    OptSpec::value("reference", Some('r'), Some("reference")),
    OptSpec::value("time", None, Some("time")),
    OptSpec::flag("no-dereference", Some('h'), Some("no-dereference")),
    OptSpec::flag("f", Some('f'), None),
];

/// The spec of `touch`.
pub static SPEC: CommandSpec = CommandSpec::new("touch", OPTS, PathOperands::All);

crate::register_command!("touch", SPEC, run, true);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        ctx.error("missing file operand\nTry 'touch --help' for more information.")
            .await;
        return Ok(1);
    }
    if p.value("stamp").is_some() && (p.value("date").is_some() || p.value("reference").is_some()) {
        ctx.error("cannot specify times from more than one source\nTry 'touch --help' for more information.").await;
        return Ok(1);
    }
    let bad = match (p.value("date"), p.value("stamp")) {
        (Some(d), _) if !valid_date(d) => Some(d),
        (_, Some(t)) if !valid_stamp(t) => Some(t),
        _ => None,
    };
    if let Some(b) = bad {
        ctx.error(format!("invalid date format \u{2018}{b}\u{2019}"))
            .await;
        return Ok(1);
    }
    if let Some(r) = p.value("reference") {
        let abs = ctx.resolve(r);
        if let Err(e) = ctx.vfs.stat(&abs).await {
            ctx.error(format!(
                "failed to get attributes of '{r}': {}",
                e.message()
            ))
            .await;
            return Ok(1);
        }
    }
    let no_create = p.has("no-create");
    let mut status = 0;
    for op in &p.operands {
        let abs = ctx.resolve(op);
        match ctx.vfs.stat(&abs).await {
            Ok(_) => {
                // the file exists: its contents stay; a read-only mount still refuses
                if let Some(m) = ctx.vfs.mount_of(&abs)
                    && !m.mode.allows_write()
                {
                    ctx.error(format!(
                        "cannot touch '{op}': {}",
                        ErrorKind::ReadOnly.gnu_message()
                    ))
                    .await;
                    status = 1;
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                if no_create {
                    continue;
                }
                if op.ends_with('/') {
                    ctx.error(format!(
                        "setting times of '{op}': No such file or directory"
                    ))
                    .await;
                    status = 1;
                    continue;
                }
                match ctx.vfs.write(&abs, ByteSource::empty()).await {
                    Ok(()) => ctx.io.wrote(&abs),
                    Err(e) => {
                        ctx.error(format!("cannot touch '{op}': {}", e.message()))
                            .await;
                        status = 1;
                    }
                }
            }
            Err(e) => {
                ctx.error(format!("cannot touch '{op}': {}", e.message()))
                    .await;
                status = 1;
            }
        }
    }
    Ok(status)
}

/// Whether GNU `touch -d` accepts the date string `d`.
fn valid_date(d: &str) -> bool {
    // GNU reads an empty string as "now" (midnight today, in fact)
    d.trim().is_empty() || parse_datetime::parse_datetime(d).is_ok()
}

/// Whether `t` is a valid `-t` stamp, `[[CC]YY]MMDDhhmm[.ss]`, naming a real
/// date (`0230` is not), as GNU's `posixtime`.
fn valid_stamp(t: &str) -> bool {
    let (main, secs) = match t.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(main) || secs.is_some_and(|s| s.len() != 2 || !digits(s)) {
        return false;
    }
    let num = |s: &str| s.parse::<u32>().unwrap_or(u32::MAX);
    let (year, rest) = match main.len() {
        8 => (2000, main), // the current year; any leap year will do for 0229
        10 => {
            let yy = num(&main[..2]);
            (if yy >= 69 { 1900 + yy } else { 2000 + yy }, &main[2..])
        }
        12 => (num(&main[..4]), &main[4..]),
        _ => return false,
    };
    let (month, day, hour, minute) = (
        num(&rest[..2]),
        num(&rest[2..4]),
        num(&rest[4..6]),
        num(&rest[6..8]),
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && hour < 24 && minute < 60 && secs.is_none_or(|s| num(s) <= 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn creates_keeps_and_reports() {
        let v = MemVfs::with(&[("/d/keep", "keep me\n")]);
        assert_eq!(
            run_cmd(&v, run, "touch", &["/d/new", "keep"], "/d", "").2,
            0
        );
        let t = v.tree.lock().unwrap();
        assert_eq!(t.get("/d/new").cloned().flatten().map(|b| b.len()), Some(0));
        assert_eq!(
            t.get("/d/keep").cloned().flatten().map(|b| b.to_vec()),
            Some(b"keep me\n".to_vec())
        );
        drop(t);
        assert_eq!(run_cmd(&v, run, "touch", &["-c", "/d/nope"], "/", "").2, 0);
        assert!(!v.tree.lock().unwrap().contains_key("/d/nope"));
        let (_, e, s) = run_cmd(&v, run, "touch", &["/x/y"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            ("touch: cannot touch '/x/y': No such file or directory\n", 1)
        );
        let (_, e, s) = run_cmd(&v, run, "touch", &["/ro/y"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            ("touch: cannot touch '/ro/y': Read-only file system\n", 1)
        );
    }

    #[test]
    fn checks_dates_as_gnu() {
        let v = MemVfs::with(&[("/d/keep", "")]);
        for ok in [
            "2024-01-02",
            "2024-01-02 10:20",
            "2024-01-02T10:20:30Z",
            "@1700000000",
            "now",
            "yesterday",
            "2 days ago",
            "",
        ] {
            assert_eq!(
                run_cmd(&v, run, "touch", &["-d", ok, "/d/keep"], "/", "").2,
                0,
                "-d {ok}"
            );
        }
        for ok in [
            "202401010000",
            "2401010000",
            "01010000",
            "202401010000.60",
            "202402290000",
        ] {
            assert_eq!(
                run_cmd(&v, run, "touch", &["-t", ok, "/d/keep"], "/", "").2,
                0,
                "-t {ok}"
            );
        }
        let (_, e, s) = run_cmd(&v, run, "touch", &["-d", "garbage", "/d/g"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            ("touch: invalid date format \u{2018}garbage\u{2019}\n", 1)
        );
        assert!(
            !v.tree.lock().unwrap().contains_key("/d/g"),
            "a bad date creates nothing"
        );
        for bad in [
            "202413010000",
            "202402300000",
            "2024010100",
            "202401010000.61",
            "abc",
            "20240101000a",
            "202302290000",
        ] {
            let (_, e, s) = run_cmd(&v, run, "touch", &["-t", bad, "/d/keep"], "/", "");
            assert_eq!(
                (e, s),
                (
                    format!("touch: invalid date format \u{2018}{bad}\u{2019}\n"),
                    1
                ),
                "-t {bad}"
            );
        }
        let (_, e, s) = run_cmd(
            &v,
            run,
            "touch",
            &["-d", "now", "-t", "202401010000", "/d/keep"],
            "/",
            "",
        );
        assert_eq!(s, 1);
        assert!(
            e.starts_with("touch: cannot specify times from more than one source\n"),
            "{e}"
        );
        let (_, e, s) = run_cmd(&v, run, "touch", &["-r", "/d/nope", "/d/keep"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "touch: failed to get attributes of '/d/nope': No such file or directory\n",
                1
            )
        );
    }
}
