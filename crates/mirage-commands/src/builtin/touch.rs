//! `touch`: change file times, as GNU coreutils 9.1 `touch` (`-c`, `-a`,
//! `-m`, `-d`, `-t`, `-r`, `--time=WORD`). The modification time is set
//! through [`mirage_types::Vfs::set_modified`]: to the time given, else to
//! now; `-a` alone changes nothing the VFS keeps (there are no access
//! times), and a resource that keeps no times leaves them as they are.
//! `-d` takes a GNU date string (parsed by `parse_datetime`: ISO dates,
//! `@EPOCH`, `now`, `yesterday`, `2 days ago`, …), `-t` takes
//! `[[CC]YY]MMDDhhmm[.ss]`, both in the zone of `TZ`; a bad one is
//! `touch: invalid date format ‘X’` (status 1), and two sources of time
//! are a usage error (`-d` with `-r` is allowed: the date is then relative
//! to the reference file's time).
//! An existing file keeps its contents. Errors read `touch: cannot touch
//! 'x': No such file or directory` or `… Read-only file system`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
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
    let tz = zone(ctx.var("TZ"));
    let mut time: Option<SystemTime> = None;
    if let Some(r) = p.value("reference") {
        let abs = ctx.resolve(r);
        match ctx.vfs.stat(&abs).await {
            Ok(st) => time = Some(st.modified.unwrap_or_else(SystemTime::now)),
            Err(e) => {
                ctx.error(format!(
                    "failed to get attributes of '{r}': {}",
                    e.message()
                ))
                .await;
                return Ok(1);
            }
        }
    }
    if let Some(d) = p.value("date") {
        match date_time(d, time, &tz) {
            Some(t) => time = Some(t),
            None => {
                ctx.error(format!("invalid date format \u{2018}{d}\u{2019}"))
                    .await;
                return Ok(1);
            }
        }
    }
    if let Some(t) = p.value("stamp") {
        match stamp_time(t, &tz) {
            Some(v) => time = Some(v),
            None => {
                ctx.error(format!("invalid date format \u{2018}{t}\u{2019}"))
                    .await;
                return Ok(1);
            }
        }
    }
    // -a alone (or --time=atime) changes only the access time, which no
    // resource keeps
    let only_access = match p.value("time") {
        Some("atime" | "access" | "use") => !p.has("modify"),
        _ => p.has("access") && !p.has("modify"),
    };
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
                    continue;
                }
                if only_access {
                    continue;
                }
                let t = time.unwrap_or_else(SystemTime::now);
                if let Err(e) = ctx.vfs.set_modified(&abs, t).await
                    && e.kind != ErrorKind::Unsupported
                {
                    ctx.error(format!("setting times of '{op}': {}", e.message()))
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
                    Ok(()) => {
                        ctx.io.wrote(&abs);
                        if let Some(t) = time
                            && !only_access
                        {
                            // a resource without times keeps the time of creation
                            let _ = ctx.vfs.set_modified(&abs, t).await;
                        }
                    }
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

/// The jiff zone for a `TZ` value (a database name, a POSIX TZ string,
/// else UTC; unset is the host's), as `date` reads it.
fn zone(tz: Option<&str>) -> TimeZone {
    let Some(v) = tz else {
        return TimeZone::system();
    };
    let name = v.strip_prefix(':').unwrap_or(v);
    if v.is_empty() {
        return TimeZone::UTC;
    }
    if !name.starts_with('/')
        && !name.contains("..")
        && let Ok(tz) = TimeZone::get(name)
    {
        return tz;
    }
    TimeZone::posix(v).unwrap_or(TimeZone::UTC)
}

/// `secs` and `nanos` since the epoch as a `SystemTime`.
fn system_time(secs: i64, nanos: u32) -> SystemTime {
    let d = Duration::new(secs.unsigned_abs(), 0);
    let base = if secs >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    };
    base + Duration::from_nanos(u64::from(nanos))
}

/// The time GNU `touch -d` gives for `d` in `tz`, relative to `base` (the
/// `-r` file's time) or now; None when it is not a date.
fn date_time(d: &str, base: Option<SystemTime>, tz: &TimeZone) -> Option<SystemTime> {
    let now = match base {
        Some(b) => Timestamp::try_from(b).ok()?,
        None => Timestamp::now(),
    };
    let at: Zoned = now.to_zoned(tz.clone());
    if d.trim().is_empty() {
        // GNU reads an empty string as midnight today
        let midnight = at.start_of_day().ok()?;
        return Some(system_time(midnight.timestamp().as_second(), 0));
    }
    let parsed = parse_datetime::parse_datetime_at_date(at, d).ok()?;
    Some(system_time(
        parsed.unix_epoch_second(),
        u32::try_from(parsed.subsec_nanosecond()).unwrap_or(0),
    ))
}

/// The time of a `-t` stamp, `[[CC]YY]MMDDhhmm[.ss]`, in `tz`, naming a
/// real date (`0230` is not), as GNU's `posixtime`; None otherwise.
fn stamp_time(t: &str, tz: &TimeZone) -> Option<SystemTime> {
    let (main, secs) = match t.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(main) || secs.is_some_and(|s| s.len() != 2 || !digits(s)) {
        return None;
    }
    let num = |s: &str| s.parse::<i32>().unwrap_or(i32::MAX);
    let (year, rest) = match main.len() {
        8 => (
            i32::from(Timestamp::now().to_zoned(tz.clone()).year()),
            main,
        ),
        10 => {
            let yy = num(&main[..2]);
            (if yy >= 69 { 1900 + yy } else { 2000 + yy }, &main[2..])
        }
        12 => (num(&main[..4]), &main[4..]),
        _ => return None,
    };
    let (month, day, hour, minute) = (
        num(&rest[..2]),
        num(&rest[2..4]),
        num(&rest[4..6]),
        num(&rest[6..8]),
    );
    let sec = secs.map_or(0, num);
    if sec > 60 {
        return None;
    }
    let dt = jiff::civil::DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(sec.min(59)).ok()?,
        0,
    )
    .ok()?;
    let z = dt.to_zoned(tz.clone()).ok()?;
    // a leap second (`.60`) is the next minute's first second
    Some(system_time(
        z.timestamp().as_second() + i64::from(sec == 60),
        0,
    ))
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

    #[test]
    fn sets_modification_times() {
        use mirage_types::Vfs;
        let v = MemVfs::with(&[("/d/keep", "keep me\n")]);
        let mtime = |p: &str| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(v.router().stat(p)).unwrap().modified.unwrap()
        };
        let run_tz = |args: &[&str]| run_cmd(&v, run, "touch", args, "/d", "");
        assert_eq!(run_tz(&["-d", "@86400", "keep", "new"]).2, 0);
        assert_eq!(mtime("/d/keep"), UNIX_EPOCH + Duration::from_secs(86400));
        assert_eq!(mtime("/d/new"), UNIX_EPOCH + Duration::from_secs(86400));
        assert_eq!(
            v.tree
                .lock()
                .unwrap()
                .get("/d/keep")
                .cloned()
                .flatten()
                .map(|b| b.to_vec()),
            Some(b"keep me\n".to_vec())
        );
        assert_eq!(run_tz(&["-r", "keep", "-d", "+1 day", "other"]).2, 0);
        assert_eq!(
            mtime("/d/other"),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 86400) // the test VFS pins stat times
        );
        assert_eq!(run_tz(&["-a", "-d", "@5", "keep"]).2, 0);
        assert_eq!(
            mtime("/d/keep"),
            UNIX_EPOCH + Duration::from_secs(86400),
            "-a keeps the mtime"
        );
        assert_eq!(run_tz(&["keep"]).2, 0);
        assert!(
            mtime("/d/keep") > UNIX_EPOCH + Duration::from_secs(1_000_000_000),
            "now"
        );
        assert_eq!(
            stamp_time("197001020000.05", &TimeZone::UTC),
            Some(UNIX_EPOCH + Duration::from_secs(86405))
        );
    }
}
