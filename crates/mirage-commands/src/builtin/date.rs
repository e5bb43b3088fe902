//! `date`: print a date and time, as GNU coreutils 9.1 `date`.
//!
//! `date [-u] [-d STRING | -r FILE] [+FORMAT | -I[FMT] | -R | --rfc-3339=FMT]`.
//! The instant is now, the `-d` string (GNU's date strings through the
//! `parse_datetime` crate: `@EPOCH`, ISO dates and times, `now`,
//! `yesterday`, `tomorrow`, `N days ago`, `next monday`, relative items;
//! the empty string is today's midnight), or the modification time of
//! `-r FILE` read through the VFS. The zone is the session's `TZ` (UTC
//! under `-u`). `+FORMAT` goes through [`mirage_format::time::strftime`]
//! (glibc's conversions); `%N` (nanoseconds, `%3N` for the first three
//! digits) and `%:z`, `%::z`, `%:::z` (offsets with colons), which are
//! GNU date's own, are filled in here first. The default format is
//! `%a %b %e %H:%M:%S %Z %Y`. Setting the clock (`-s`, or an operand
//! `MMDDhhmm[[CC]YY][.ss]`) is refused with GNU's `cannot set date:
//! Operation not permitted` (status 1).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{argmatch, gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("date", Some('d'), Some("date")),
    OptSpec::value("file", Some('f'), Some("file")),
    OptSpec::optional("iso-8601", Some('I'), Some("iso-8601")),
    OptSpec::flag("rfc-email", Some('R'), Some("rfc-email")),
    OptSpec::value("rfc-3339", None, Some("rfc-3339")),
    OptSpec::value("reference", Some('r'), Some("reference")),
    OptSpec::value("set", Some('s'), Some("set")),
    OptSpec::flag("utc", Some('u'), Some("utc")),
    OptSpec::flag("utc", None, Some("universal")),
    OptSpec::flag("debug", None, Some("debug")),
];

/// The spec of `date`.
pub static SPEC: CommandSpec = CommandSpec::new("date", OPTS, PathOperands::None);

crate::register_command!("date", SPEC, run);

/// The default output format (the C locale's `date`).
const DEFAULT_FORMAT: &str = "%a %b %e %H:%M:%S %Z %Y";

/// The jiff zone for a `TZ` value, as [`Zone::from_tz`] reads it (a
/// database name, a POSIX TZ string, else UTC; unset is the host's).
fn jiff_zone(tz: Option<&str>) -> TimeZone {
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

/// An instant: seconds since the epoch and nanoseconds (0..1e9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Instant {
    secs: i64,
    nanos: u32,
}

/// Parses a `-d` string at `now` in `tz`.
fn parse_date(s: &str, now: Timestamp, tz: &TimeZone) -> Option<Instant> {
    let base = now.to_zoned(tz.clone());
    let parsed = if s.trim().is_empty() {
        let midnight = base.start_of_day().ok()?;
        return Some(Instant {
            secs: midnight.timestamp().as_second(),
            nanos: 0,
        });
    } else {
        parse_datetime::parse_datetime_at_date(base, s).ok()?
    };
    Some(Instant {
        secs: parsed.unix_epoch_second(),
        nanos: u32::try_from(parsed.subsec_nanosecond()).unwrap_or(0),
    })
}

/// Fills in GNU date's own conversions (`%N`, `%:z`, `%::z`, `%:::z`) so
/// the rest can go to glibc-style `strftime`; `%%` and other conversions
/// are kept as written.
fn expand_gnu(fmt: &str, t: Instant, offset: i32) -> String {
    let mut out = String::new();
    let mut it = fmt.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // flags, width, colons, then the conversion
        let mut end = start + 1;
        let mut spec = String::from("%");
        let mut width = String::new();
        let mut colons = 0;
        let mut conv = None;
        for (i, ch) in it.by_ref() {
            end = i + ch.len_utf8();
            if "_-0^#".contains(ch) && width.is_empty() && colons == 0 {
                spec.push(ch);
            } else if ch.is_ascii_digit() && colons == 0 {
                width.push(ch);
                spec.push(ch);
            } else if ch == ':' {
                colons += 1;
                spec.push(ch);
            } else {
                conv = Some(ch);
                spec.push(ch);
                break;
            }
        }
        let _ = end;
        match conv {
            Some('N') => {
                let digits = format!("{:09}", t.nanos);
                let w: usize = width.parse().unwrap_or(9).clamp(1, 9);
                out.push_str(&digits[..w]);
            }
            Some('z') if colons > 0 => {
                let sign = if offset < 0 { '-' } else { '+' };
                let a = offset.unsigned_abs();
                let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
                let text = match colons {
                    1 => format!("{sign}{h:02}:{m:02}"),
                    2 => format!("{sign}{h:02}:{m:02}:{s:02}"),
                    _ if s != 0 => format!("{sign}{h:02}:{m:02}:{s:02}"),
                    _ if m != 0 => format!("{sign}{h:02}:{m:02}"),
                    _ => format!("{sign}{h:02}"),
                };
                out.push_str(&text);
            }
            Some('%') => out.push_str("%%"),
            _ => out.push_str(&spec),
        }
    }
    out
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let utc = p.has("utc");
    let tz_value = if utc {
        Some("UTC0".to_string())
    } else {
        ctx.env.get("TZ").cloned()
    };
    let zone = if utc {
        Zone::utc()
    } else {
        Zone::from_tz(tz_value.as_deref())
    };
    let tz = jiff_zone(tz_value.as_deref());

    // the output format
    let mut formats = Vec::new();
    let mut fmt_operand = None;
    let mut operands = p.operands.iter();
    if let Some(op) = operands.next() {
        if let Some(f) = op.strip_prefix('+') {
            fmt_operand = Some(f.to_string());
        } else if p.has("date") || p.has("reference") || p.has("set") {
            return Err(CmdError::usage(format!(
                "the argument {} lacks a leading '+';\nwhen using an option to specify date(s), any non-option\nargument must be a format string beginning with '+'",
                gnu_quote(op)
            )));
        } else {
            // MMDDhhmm[[CC]YY][.ss]: setting the clock
            let (main, secs) = op.split_once('.').unwrap_or((op, "00"));
            let ok = main.len() >= 8
                && main.len() <= 12
                && main.len() % 2 == 0
                && main.bytes().all(|b| b.is_ascii_digit())
                && secs.len() == 2
                && secs.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(CmdError::new(1, format!("invalid date {}", gnu_quote(op))));
            }
            return Err(CmdError::new(1, "cannot set date: Operation not permitted"));
        }
    }
    if let Some(extra) = operands.next() {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(extra)
        )));
    }
    if let Some(f) = fmt_operand {
        formats.push(f);
    }
    for (k, v) in &p.opts {
        let f = match *k {
            "iso-8601" => {
                let which = match v.as_deref() {
                    None => "date",
                    Some(v) => argmatch(
                        v,
                        "--iso-8601",
                        &[
                            ("date", "date"),
                            ("hours", "hours"),
                            ("minutes", "minutes"),
                            ("seconds", "seconds"),
                            ("ns", "ns"),
                        ],
                    )?,
                };
                match which {
                    "date" => "%Y-%m-%d",
                    "hours" => "%Y-%m-%dT%H%:z",
                    "minutes" => "%Y-%m-%dT%H:%M%:z",
                    "seconds" => "%Y-%m-%dT%H:%M:%S%:z",
                    _ => "%Y-%m-%dT%H:%M:%S,%N%:z",
                }
            }
            "rfc-email" => "%a, %d %b %Y %H:%M:%S %z",
            "rfc-3339" => {
                let which = argmatch(
                    v.as_deref().unwrap_or(""),
                    "--rfc-3339",
                    &[("date", "date"), ("seconds", "seconds"), ("ns", "ns")],
                )?;
                match which {
                    "date" => "%Y-%m-%d",
                    "seconds" => "%Y-%m-%d %H:%M:%S%:z",
                    _ => "%Y-%m-%d %H:%M:%S.%N%:z",
                }
            }
            _ => continue,
        };
        formats.push(f.to_string());
    }
    if formats.len() > 1 {
        return Err(CmdError::usage("multiple output formats specified"));
    }
    let fmt = formats.pop().unwrap_or_else(|| DEFAULT_FORMAT.to_string());
    if p.has("set") {
        return Err(CmdError::new(1, "cannot set date: Operation not permitted"));
    }
    if u8::from(p.has("date")) + u8::from(p.has("reference")) + u8::from(p.has("file")) > 1 {
        return Err(CmdError::usage(
            "the options to specify dates for printing are mutually exclusive",
        ));
    }

    let now = Timestamp::now();
    let mut instants = Vec::new();
    let mut status = 0;
    if let Some(d) = p.value("date") {
        match parse_date(d, now, &tz) {
            Some(t) => instants.push(t),
            None => return Err(CmdError::new(1, format!("invalid date {}", gnu_quote(d)))),
        }
    } else if let Some(r) = p.value("reference") {
        let abs = ctx.resolve(r);
        match ctx.vfs.stat(&abs).await {
            Ok(st) => {
                let t = st
                    .modified
                    .map(|m| match m.duration_since(std::time::UNIX_EPOCH) {
                        Ok(d) => Instant {
                            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                            nanos: d.subsec_nanos(),
                        },
                        Err(e) => {
                            let d = e.duration();
                            let mut secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                            let mut nanos = d.subsec_nanos();
                            if nanos > 0 {
                                secs -= 1;
                                nanos = 1_000_000_000 - nanos;
                            }
                            Instant { secs, nanos }
                        }
                    });
                instants.push(t.unwrap_or(Instant {
                    secs: now.as_second(),
                    nanos: 0,
                }));
            }
            Err(e) => return Err(CmdError::new(1, format!("{r}: {}", e.message()))),
        }
    } else if let Some(f) = p.value("file") {
        let data = match crate::util::read_input(ctx, f).await {
            Ok(b) => b,
            Err(e) => return Err(CmdError::new(1, e)),
        };
        let text = mirage_types::bytestr::decode_owned(data.to_vec());
        for line in text.lines() {
            match parse_date(line, now, &tz) {
                Some(t) => instants.push(t),
                None => {
                    // GNU reports the bad line and goes on
                    instants.push(Instant {
                        secs: i64::MIN,
                        nanos: 0,
                    });
                    let _ = line;
                }
            }
        }
        // keep the bad lines' text for their messages
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut out = Vec::new();
        for (t, line) in instants.iter().zip(lines) {
            if t.secs == i64::MIN {
                ctx.stdout.write(&out).await?;
                out.clear();
                ctx.error(format!("invalid date {}", gnu_quote(&line)))
                    .await;
                status = 1;
                continue;
            }
            out.extend_from_slice(&render(&fmt, *t, &zone, &tz)?);
        }
        ctx.stdout.write(&out).await?;
        return Ok(status);
    } else {
        instants.push(Instant {
            secs: now.as_second(),
            nanos: u32::try_from(now.subsec_nanosecond()).unwrap_or(0),
        });
    }
    for t in instants {
        let line = render(&fmt, t, &zone, &tz)?;
        ctx.stdout.write(&line).await?;
    }
    Ok(status)
}

/// One output line for instant `t`.
fn render(fmt: &str, t: Instant, zone: &Zone, tz: &TimeZone) -> Result<Vec<u8>, CmdError> {
    let offset = Timestamp::from_second(t.secs)
        .map(|ts| tz.to_offset(ts).seconds())
        .unwrap_or(0);
    let expanded = expand_gnu(fmt, t, offset);
    match strftime(&expanded, t.secs, zone) {
        Some(mut s) => {
            s.push('\n');
            Ok(mirage_types::bytestr::encode(&s).into_owned())
        }
        None => Err(CmdError::new(1, format!("time {} is out of range", t.secs))),
    }
}

#[cfg(test)]
mod tests {
    use super::{Instant, expand_gnu, jiff_zone, parse_date};
    use jiff::Timestamp;

    #[test]
    fn gnu_conversions_and_date_strings() {
        let t = Instant {
            secs: 0,
            nanos: 123_456_789,
        };
        assert_eq!(
            expand_gnu("%N %3N %:z %::z %%N %Y", t, 3600),
            "123456789 123 +01:00 +01:00:00 %%N %Y"
        );
        assert_eq!(expand_gnu("%:::z", t, -9000), "-02:30");
        let utc = jiff_zone(Some("UTC"));
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(parse_date("@86400", now, &utc).unwrap().secs, 86400);
        assert_eq!(parse_date("1970-01-02", now, &utc).unwrap().secs, 86400);
        assert_eq!(
            parse_date("yesterday", now, &utc).unwrap().secs,
            1_700_000_000 - 86400
        );
        assert_eq!(
            parse_date("2 days ago", now, &utc).unwrap().secs,
            1_700_000_000 - 2 * 86400
        );
        assert_eq!(parse_date("", now, &utc).unwrap().secs, 1_699_920_000);
        assert!(parse_date("bogus", now, &utc).is_none());
    }
}
