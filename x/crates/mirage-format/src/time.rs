//! Dates and times: `strftime` with glibc's conversions and flags over
//! `jiff`'s calendar and time zones, and `TZ` resolved as glibc does it.
//!
//! jiff has its own `strftime`, but it differs from glibc where GNU tools
//! show it: an unknown conversion is an error in jiff and is copied
//! through by glibc (`%Q` prints `%Q`); `%c`, `%x`, `%X`, `%r` have jiff's
//! forms, not the C locale's; `%#Z` lowercases in glibc. So the
//! conversions are written here, and jiff does the calendar: civil date
//! and time in a zone, ISO weeks, offsets and abbreviations.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A time zone as the C library sees the `TZ` variable.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: TimeZone,
    /// The abbreviation glibc shows for a `TZ` it could not read (it then
    /// uses UTC under the name's leading letters: `TZ=FOO` is `FOO`).
    fallback_name: Option<String>,
}

impl Zone {
    /// UTC.
    #[must_use]
    pub fn utc() -> Zone {
        Zone {
            tz: TimeZone::UTC,
            fallback_name: None,
        }
    }

    /// The zone for a value of `TZ`, as glibc's `tzset`: `None` (unset) is
    /// the host's zone; the empty string is UTC; `NAME` or `:NAME` is a
    /// zone of the time zone database (exact case, as the file lookup);
    /// otherwise a POSIX TZ string (`UTC0`, `EST5EDT`, `<+0530>-5:30`);
    /// otherwise UTC named after the value's leading letters (when there
    /// are at least three of them). A path (`/etc/localtime`) is not read
    /// from the host: `/etc/localtime` is the host's zone, another path
    /// falls back like an unknown name.
    #[must_use]
    pub fn from_tz(tz: Option<&str>) -> Zone {
        let Some(value) = tz else {
            return Zone {
                tz: TimeZone::system(),
                fallback_name: None,
            };
        };
        if value.is_empty() {
            return Zone::utc();
        }
        let name = value.strip_prefix(':').unwrap_or(value);
        if name == "/etc/localtime" {
            return Zone::from_tz(None);
        }
        if !name.starts_with('/')
            && !name.contains("..")
            && let Ok(tz) = TimeZone::get(name)
            && tz.iana_name() == Some(name)
        {
            return Zone {
                tz,
                fallback_name: None,
            };
        }
        if let Ok(tz) = TimeZone::posix(value) {
            return Zone {
                tz,
                fallback_name: None,
            };
        }
        let letters = name.bytes().take_while(u8::is_ascii_alphabetic).count();
        Zone {
            tz: TimeZone::UTC,
            fallback_name: Some(if letters >= 3 {
                name[..letters].to_string()
            } else {
                String::new()
            }),
        }
    }
}

/// The broken-down time of one instant in one zone.
struct Tm {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// 0 = Sunday.
    wday: i64,
    /// 0-based.
    yday: i64,
    iso_year: i64,
    iso_week: i64,
    offset: i64,
    abbrev: String,
    secs: i64,
}

impl Tm {
    fn new(secs: i64, zone: &Zone) -> Option<Tm> {
        let ts = Timestamp::from_second(secs).ok()?;
        let z = ts.to_zoned(zone.tz.clone());
        let info = zone.tz.to_offset_info(ts);
        let iso = z.date().iso_week_date();
        Some(Tm {
            year: i64::from(z.year()),
            month: i64::from(z.month()),
            day: i64::from(z.day()),
            hour: i64::from(z.hour()),
            minute: i64::from(z.minute()),
            second: i64::from(z.second()),
            wday: i64::from(z.weekday().to_sunday_zero_offset()),
            yday: i64::from(z.day_of_year()) - 1,
            iso_year: i64::from(iso.year()),
            iso_week: i64::from(iso.week()),
            offset: i64::from(info.offset().seconds()),
            abbrev: match &zone.fallback_name {
                Some(n) => n.clone(),
                None => info.abbreviation().to_string(),
            },
            secs,
        })
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn name(table: &[&'static str], i: i64) -> &'static str {
    usize::try_from(i)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("?")
}

/// Pads `s` to `width` with `pad` (zeros go after a leading sign).
fn pad_to(out: &mut String, s: &str, width: usize, pad: char) {
    let len = s.chars().count();
    if len >= width {
        out.push_str(s);
        return;
    }
    let fill = width - len;
    if pad == '0' && (s.starts_with('-') || s.starts_with('+')) {
        out.push_str(&s[..1]);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(&s[1..]);
    } else {
        out.extend(std::iter::repeat_n(pad, fill));
        out.push_str(s);
    }
}

/// Formats Unix time `secs` in `zone` by `fmt` as glibc's `strftime(3)` in
/// the C locale: `%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m
/// %M %n %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %%`, the
/// flags `_ - 0 ^ #`, a field width, and `E`/`O` modifiers (ignored). An
/// unknown conversion is copied as written. `None` when the instant is
/// outside jiff's range (years -9999 to 9999).
#[must_use]
pub fn strftime(fmt: &str, secs: i64, zone: &Zone) -> Option<String> {
    let tm = Tm::new(secs, zone)?;
    let mut out = String::new();
    format_tm(fmt, &tm, &mut out);
    Some(out)
}

fn format_tm(fmt: &str, tm: &Tm, out: &mut String) {
    let mut it = fmt.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut pad: Option<char> = None;
        let mut upper = false;
        let mut swap = false;
        while let Some(&(_, f)) = it.peek() {
            match f {
                '_' => pad = Some(' '),
                '-' => pad = Some('\0'),
                '0' => pad = Some('0'),
                '^' => upper = true,
                '#' => swap = true,
                _ => break,
            }
            it.next();
        }
        let mut width: Option<usize> = None;
        while let Some(&(_, d)) = it.peek() {
            let Some(v) = d.to_digit(10) else { break };
            width = Some(
                width
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(v as usize),
            );
            it.next();
        }
        while matches!(it.peek(), Some((_, 'E' | 'O'))) {
            it.next();
        }
        let Some((end, conv)) = it.next() else {
            out.push_str(&fmt[start..]);
            break;
        };
        // numbers: (value, default width, default pad)
        let num = |v: i64, w: usize, p: char| Some((v, w, p));
        let numeric = match conv {
            'C' => num(tm.year.div_euclid(100), 2, '0'),
            'd' => num(tm.day, 2, '0'),
            'e' => num(tm.day, 2, ' '),
            'g' => num(tm.iso_year.rem_euclid(100), 2, '0'),
            'G' => num(tm.iso_year, 1, '0'),
            'H' => num(tm.hour, 2, '0'),
            'I' => num((tm.hour + 11) % 12 + 1, 2, '0'),
            'j' => num(tm.yday + 1, 3, '0'),
            'k' => num(tm.hour, 2, ' '),
            'l' => num((tm.hour + 11) % 12 + 1, 2, ' '),
            'm' => num(tm.month, 2, '0'),
            'M' => num(tm.minute, 2, '0'),
            'S' => num(tm.second, 2, '0'),
            's' => num(tm.secs, 1, '0'),
            'u' => num((tm.wday + 6) % 7 + 1, 1, '0'),
            'U' => num((tm.yday + 7 - tm.wday) / 7, 2, '0'),
            'V' => num(tm.iso_week, 2, '0'),
            'w' => num(tm.wday, 1, '0'),
            'W' => num((tm.yday + 7 - (tm.wday + 6) % 7) / 7, 2, '0'),
            'y' => num(tm.year.rem_euclid(100), 2, '0'),
            'Y' => num(tm.year, 1, '0'),
            _ => None,
        };
        if let Some((v, w, p)) = numeric {
            let s = v.to_string();
            match pad {
                Some('\0') => out.push_str(&s),
                Some(p) => pad_to(out, &s, width.unwrap_or(w), p),
                None => pad_to(out, &s, width.unwrap_or(w), p),
            }
            continue;
        }
        let text: String = match conv {
            'a' => name(&DAYS, tm.wday)[..3].to_string(),
            'A' => name(&DAYS, tm.wday).to_string(),
            'b' | 'h' => name(&MONTHS, tm.month - 1)[..3].to_string(),
            'B' => name(&MONTHS, tm.month - 1).to_string(),
            'p' => if tm.hour < 12 { "AM" } else { "PM" }.to_string(),
            'P' => if tm.hour < 12 { "am" } else { "pm" }.to_string(),
            'Z' => tm.abbrev.clone(),
            'z' => {
                let m = tm.offset.abs() / 60;
                format!(
                    "{}{:02}{:02}",
                    if tm.offset < 0 { '-' } else { '+' },
                    m / 60,
                    m % 60
                )
            }
            'n' => "\n".to_string(),
            't' => "\t".to_string(),
            '%' => "%".to_string(),
            'c' | 'D' | 'F' | 'r' | 'R' | 'T' | 'x' | 'X' => {
                let sub = match conv {
                    'c' => "%a %b %e %H:%M:%S %Y",
                    'D' | 'x' => "%m/%d/%y",
                    'F' => "%Y-%m-%d",
                    'r' => "%I:%M:%S %p",
                    'R' => "%H:%M",
                    _ => "%H:%M:%S",
                };
                let mut s = String::new();
                format_tm(sub, tm, &mut s);
                s
            }
            _ => {
                // glibc copies an unknown conversion as written
                let lit = &fmt[start..end + conv.len_utf8()];
                pad_to(out, lit, width.unwrap_or(0), ' ');
                continue;
            }
        };
        let text = if upper {
            text.to_uppercase()
        } else if swap {
            match conv {
                // glibc's `#`: %Z lowercased, %p lowercased, names uppercased
                'Z' | 'p' => text.to_lowercase(),
                'a' | 'A' | 'b' | 'B' | 'h' => text.to_uppercase(),
                _ => text,
            }
        } else {
            text
        };
        let p = match pad {
            Some('0') => '0',
            _ => ' ',
        };
        pad_to(out, &text, width.unwrap_or(0), p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, secs: i64, tz: &str) -> String {
        strftime(fmt, secs, &Zone::from_tz(Some(tz))).unwrap()
    }

    #[test]
    fn conversions_as_glibc() {
        let t = 1_700_000_000;
        assert_eq!(
            f("%F %T %Z %z|%c|%x|%X|%r|%R|%p|%P", t, "UTC"),
            "2023-11-14 22:13:20 UTC +0000|Tue Nov 14 22:13:20 2023|11/14/23|22:13:20|10:13:20 PM|22:13|PM|pm"
        );
        assert_eq!(
            f("%Q|%5Y|%-d|%_m|%^a|%#Z|%Ey|%Od|%k|%l|%s", t, "UTC"),
            "%Q|02023|14|11|TUE|utc|23|14|22|10|1700000000"
        );
        assert_eq!(
            f("%G-%V|%U|%W|%u|%w|%C|%g|%h|%+|%10|%", t, "UTC"),
            "2023-46|46|46|2|2|20|23|Nov|%+|      %10|%"
        );
        assert_eq!(f("%Y-%m-%d %H:%M:%S", 0, "UTC"), "1970-01-01 00:00:00");
        assert_eq!(f("%Y", 86_400_000, "UTC"), "1972");
    }

    #[test]
    fn zones_as_glibc() {
        let t = 1_700_000_000;
        assert_eq!(f("%T %Z %z", t, "America/New_York"), "17:13:20 EST -0500");
        assert_eq!(f("%T %Z %z", t, ":America/New_York"), "17:13:20 EST -0500");
        assert_eq!(f("%T %Z %z", t, "EST5EDT"), "17:13:20 EST -0500");
        assert_eq!(f("%T %Z %z", t, "<+0530>-5:30"), "03:43:20 +0530 +0530");
        assert_eq!(f("%T %Z %z", t, "JST-9"), "07:13:20 JST +0900");
        assert_eq!(f("%T %Z %z", t, "UTC0"), "22:13:20 UTC +0000");
        assert_eq!(f("%T %Z %z", t, "FOO"), "22:13:20 FOO +0000");
        assert_eq!(f("%T %Z %z", t, "utc"), "22:13:20 utc +0000");
        assert_eq!(f("%T %Z %z", t, "ab"), "22:13:20  +0000");
        assert_eq!(f("%T %Z %z", t, ""), "22:13:20 UTC +0000");
        assert_eq!(f("%T %Z %z", t, "GMT+2"), "20:13:20 GMT -0200");
        assert_eq!(
            f("%T %Z %z", t, "America/Nowhere"),
            "22:13:20 America +0000"
        );
        // summer time
        assert_eq!(
            f("%F %T %Z", 1_690_000_000, "Europe/Paris"),
            "2023-07-22 06:26:40 CEST"
        );
    }
}
