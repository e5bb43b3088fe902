//! The `printf` builtin's formatting, as bash 5.2 `printf` (which follows
//! C `printf(3)`): the format is reused until the arguments run out,
//! escapes in the format, `%b`, `%q`, `*` widths, and numeric arguments
//! like `'a` (the character's code). `%f` rounds the decimal text exactly,
//! which matches bash's long double on inputs like `2.355`.

/// The formatted bytes, plus the messages of invalid numeric arguments.
pub struct Printed {
    /// The output.
    pub out: Vec<u8>,
    /// `bash: printf: X: invalid number` style messages (without prefix).
    pub errors: Vec<String>,
    /// Set when `\c` stopped the output.
    pub stopped: bool,
    /// The most bytes `out` may hold (see [`printf_limited`]).
    limit: usize,
}

/// Expands backslash escapes of `echo -e` / `%b` (`\c` stops; `\0NNN` octal).
/// Returns the bytes and whether `\c` was seen.
pub fn escapes(s: &str, echo_style: bool) -> (Vec<u8>, bool) {
    let enc = mirage_types::bytestr::encode(s);
    let b: &[u8] = &enc;
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'e' | b'E' => out.push(27),
            b'\\' => out.push(b'\\'),
            b'c' => return (out, true),
            b'0'..=b'7' => {
                // echo/%b: \0NNN (up to 3 digits after the 0); format: \NNN
                let mut v: u32 = 0;
                let mut n = 0;
                let mut j = i - 1;
                if echo_style && c == b'0' {
                    j = i;
                }
                while n < 3 && j < b.len() && (b'0'..=b'7').contains(&b[j]) {
                    v = v * 8 + u32::from(b[j] - b'0');
                    j += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
                i = j;
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(v as u8);
                }
            }
            b'u' | b'U' => {
                let max = if c == b'u' { 4 } else { 8 };
                let mut v: u32 = 0;
                let mut n = 0;
                while n < max && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            b'"' if !echo_style => out.push(b'"'),
            b'\'' if !echo_style => out.push(b'\''),
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    (out, false)
}

/// Formats `fmt` with `args` as bash's `printf`.
pub fn printf(fmt: &str, args: &[String]) -> Printed {
    printf_limited(fmt, args, crate::state::Limits::default().max_value_bytes)
}

/// As [`printf`], but the output may hold at most `limit` bytes: a width or
/// precision that would pass it (`%*s 2000000000`, `%.9999999999f`), or
/// output that grows past it, stops printf with an error before anything
/// is allocated for it. (bash hands such widths to libc, which writes up to
/// 2 GiB or fails; `*` arguments beyond `int` are clamped, as bash does.)
pub fn printf_limited(fmt: &str, args: &[String], limit: usize) -> Printed {
    let mut p = Printed {
        out: Vec::new(),
        errors: Vec::new(),
        stopped: false,
        limit,
    };
    let mut ai = 0;
    loop {
        let consumed_before = ai;
        if format_once(fmt, args, &mut ai, &mut p) {
            p.stopped = true;
            return p;
        }
        if ai >= args.len() || ai == consumed_before {
            break;
        }
    }
    p
}

fn next_arg<'a>(args: &'a [String], ai: &mut usize) -> Option<&'a str> {
    let a = args.get(*ai).map(std::string::String::as_str);
    if a.is_some() {
        *ai += 1;
    }
    a
}

fn parse_int(s: &str, errors: &mut Vec<String>) -> i64 {
    let t = s.trim_start();
    if t.is_empty() {
        return 0;
    }
    if let Some(rest) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return rest.chars().next().map(|c| c as i64).unwrap_or(0);
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let v = i64::from_str_radix(&digits[..end], radix)
        .or_else(|_| u64::from_str_radix(&digits[..end], radix).map(|u| u as i64))
        .unwrap_or(0);
    if end < digits.len() || (end == 0 && !digits.is_empty()) || digits.is_empty() {
        errors.push(format!("{s}: invalid number"));
    }
    if neg { v.wrapping_neg() } else { v }
}

fn parse_float(s: &str, errors: &mut Vec<String>) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    if let Some(rest) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return rest
            .chars()
            .next()
            .map(|c| f64::from(c as u32))
            .unwrap_or(0.0);
    }
    match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) => {
            // longest numeric prefix
            let mut best = 0.0;
            for i in (1..t.len()).rev() {
                if let Ok(v) = t[..i].parse::<f64>() {
                    best = v;
                    break;
                }
            }
            errors.push(format!("{s}: invalid number"));
            best
        }
    }
}

/// Rounds a plain decimal literal (`-12.345`) to `prec` places, half up,
/// exactly. `None` when `s` is not such a literal.
fn decimal_round(s: &str, prec: usize) -> Option<String> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (ip, fp) = body.split_once('.').unwrap_or((body, ""));
    if ip.is_empty() && fp.is_empty() {
        return None;
    }
    if !ip.bytes().all(|b| b.is_ascii_digit()) || !fp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = ip.bytes().map(|b| b - b'0').collect();
    if digits.is_empty() {
        digits.push(0);
    }
    let mut frac: Vec<u8> = fp.bytes().map(|b| b - b'0').collect();
    let exact_tie =
        frac.len() > prec && frac[prec] == 5 && frac[prec + 1..].iter().all(|&d| d == 0);
    let round_up = if exact_tie {
        // bash formats a long double: whether it lies above the tie decides
        match long_double_vs_decimal(ip, fp) {
            Some(std::cmp::Ordering::Greater) => true,
            Some(std::cmp::Ordering::Less) => false,
            // exactly representable: round half to even
            _ => {
                let last = if prec == 0 {
                    digits.last().copied().unwrap_or(0)
                } else {
                    frac[prec - 1]
                };
                last % 2 == 1
            }
        }
    } else {
        frac.len() > prec && frac[prec] >= 5
    };
    frac.resize(prec, 0);
    digits.extend(frac);
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - prec;
    let _ = int_len;
    let mut out = String::new();
    let int_part: String = digits[..digits.len() - prec]
        .iter()
        .map(|d| (b'0' + d) as char)
        .collect();
    let int_part = int_part.trim_start_matches('0');
    out.push_str(if int_part.is_empty() { "0" } else { int_part });
    if prec > 0 {
        out.push('.');
        out.extend(
            digits[digits.len() - prec..]
                .iter()
                .map(|d| (b'0' + d) as char),
        );
    }
    if neg {
        out.insert(0, '-');
    }
    Some(out)
}

/// Compares the x87 long double nearest to the decimal `ip.fp` (64-bit
/// mantissa, round to nearest even) with the decimal itself. `None` when the
/// digits are too many to compute exactly.
fn long_double_vs_decimal(ip: &str, fp: &str) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    if fp.len() > 36 || ip.len() > 19 {
        return None;
    }
    let int: u128 = if ip.is_empty() { 0 } else { ip.parse().ok()? };
    let scale: u128 = 10u128.checked_pow(fp.len() as u32)?;
    let mut frac: u128 = if fp.is_empty() { 0 } else { fp.parse().ok()? };
    // significant bits of the integer part
    let int_bits = 128 - int.leading_zeros() as usize;
    let mut sig = int_bits;
    if sig > 64 {
        return None;
    }
    // generate fractional bits until 64 significant bits are taken
    while sig < 64 {
        if frac == 0 {
            return Some(Ordering::Equal);
        }
        frac *= 2;
        let bit = frac >= scale;
        if bit {
            frac -= scale;
        }
        if sig > 0 || bit {
            sig += 1;
        }
    }
    if frac == 0 {
        return Some(Ordering::Equal);
    }
    // the rest, in units of one ulp, is frac/scale: above half rounds up
    let twice = frac * 2;
    Some(if twice > scale {
        Ordering::Greater
    } else if twice < scale {
        Ordering::Less
    } else {
        Ordering::Equal
    })
}

/// Formats Unix time `secs` (UTC) with a strftime subset: `%Y %m %d %H %M
/// %S %j %y %e %b %B %a %A %F %T %D %s %Z %z %%`.
pub fn strftime(fmt: &str, secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // civil from days (Howard Hinnant)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const CUM: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = CUM[(m - 1) as usize] + d + i64::from(leap && m > 2);
    let wday = (days + 4).rem_euclid(7);
    const MON: [&str; 12] = [
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
    const DAY: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let mut out = String::new();
    let mut it = fmt.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:2}")),
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('M') => out.push_str(&format!("{mi:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('b' | 'h') => out.push_str(&MON[(m - 1) as usize][..3]),
            Some('B') => out.push_str(MON[(m - 1) as usize]),
            Some('a') => out.push_str(&DAY[wday as usize][..3]),
            Some('A') => out.push_str(DAY[wday as usize]),
            Some('F') => out.push_str(&format!("{y}-{m:02}-{d:02}")),
            Some('T') => out.push_str(&format!("{h:02}:{mi:02}:{s:02}")),
            Some('D') => out.push_str(&format!("{m:02}/{d:02}/{:02}", y.rem_euclid(100))),
            Some('s') => out.push_str(&secs.to_string()),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

/// C `%e` formatting: `1.500000e+00`.
pub fn fmt_e(v: f64, prec: usize, upper: bool) -> String {
    let s = format!("{v:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = e.parse().unwrap_or(0);
    let r = format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    if upper { r.to_uppercase() } else { r }
}

/// C `%g` formatting.
pub fn fmt_g(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    if v == 0.0 {
        return if alt {
            format!("{:.*}", prec.saturating_sub(1), 0.0)
        } else {
            "0".into()
        };
    }
    if !v.is_finite() {
        let s = if v.is_nan() {
            "nan"
        } else if v > 0.0 {
            "inf"
        } else {
            "-inf"
        };
        return if upper { s.to_uppercase() } else { s.into() };
    }
    let p = if prec == 0 { 1 } else { prec };
    let e_form = format!("{:.*e}", p - 1, v);
    let exp: i32 = e_form
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let mut s = if exp < -4 || exp >= p as i32 {
        fmt_e(v, p - 1, upper)
    } else {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, v)
    };
    if !alt {
        if let Some(epos) = s.find(['e', 'E']) {
            let (m, e) = s.split_at(epos);
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            s = format!("{m}{e}");
        } else if s.contains('.') {
            s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        }
    }
    s
}

/// Shell-quotes `s` as bash's `printf %q`.
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "_-./,:=+@%^".contains(c) {
            out.push(c);
        } else if c == '\n' {
            return format!(
                "$'{}'",
                s.replace('\\', "\\\\")
                    .replace('\'', "\\'")
                    .replace('\n', "\\n")
                    .replace('\t', "\\t")
            );
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

fn pad(s: &str, width: usize, left: bool, zero: bool) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let fill = width - len;
    if left {
        format!("{s}{}", " ".repeat(fill))
    } else if zero {
        let (sign, rest) = if s.starts_with(['-', '+', ' ']) {
            s.split_at(1)
        } else {
            ("", s)
        };
        let (pre, rest) = if rest.starts_with("0x") || rest.starts_with("0X") {
            rest.split_at(2)
        } else {
            ("", rest)
        };
        format!("{sign}{pre}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

/// Formats the whole format string once; returns true if `\c` stopped it.
fn format_once(fmt: &str, args: &[String], ai: &mut usize, p: &mut Printed) -> bool {
    let b = fmt.as_bytes();
    let mut i = 0;
    let mut lit_start = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            // escapes are processed with the literal run
            i += 2;
            continue;
        }
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let (lit, _) = escapes(&fmt[lit_start..i], false);
        p.out.extend_from_slice(&lit);
        i += 1;
        if i >= b.len() {
            p.out.push(b'%');
            lit_start = i;
            break;
        }
        if b[i] == b'%' {
            p.out.push(b'%');
            i += 1;
            lit_start = i;
            continue;
        }
        let mut left = false;
        let mut plus = false;
        let mut space = false;
        let mut alt = false;
        let mut zero = false;
        while i < b.len() && b"-+ #0".contains(&b[i]) {
            match b[i] {
                b'-' => left = true,
                b'+' => plus = true,
                b' ' => space = true,
                b'#' => alt = true,
                _ => zero = true,
            }
            i += 1;
        }
        if i < b.len()
            && b[i] == b'('
            && let Some(close) = fmt[i..].find(")T")
        {
            let tf = &fmt[i + 1..i + close];
            let arg = next_arg(args, ai);
            let secs = match arg {
                Some(a) if !a.is_empty() && a != "-1" && a != "-2" => parse_int(a, &mut p.errors),
                _ => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0),
            };
            i += close + 2;
            lit_start = i;
            p.out.extend_from_slice(strftime(tf, secs).as_bytes());
            continue;
        }
        let mut width: Option<usize> = None;
        if i < b.len() && b[i] == b'*' {
            let w = parse_int(next_arg(args, ai).unwrap_or("0"), &mut p.errors)
                .clamp(i64::from(i32::MIN), i64::from(i32::MAX));
            if w < 0 {
                left = true;
            }
            width = Some(w.unsigned_abs() as usize);
            i += 1;
        } else {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i > st {
                width = Some(fmt[st..i].parse().unwrap_or(usize::MAX));
            }
        }
        let mut prec: Option<usize> = None;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            if i < b.len() && b[i] == b'*' {
                let v = parse_int(next_arg(args, ai).unwrap_or("0"), &mut p.errors)
                    .clamp(-1, i64::from(i32::MAX));
                prec = if v < 0 { None } else { Some(v as usize) };
                i += 1;
            } else {
                let st = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                prec = Some(if i == st {
                    0
                } else {
                    fmt[st..i].parse().unwrap_or(usize::MAX)
                });
            }
        }
        while i < b.len() && b"hlLjzt".contains(&b[i]) {
            i += 1;
        }
        if i >= b.len() {
            lit_start = i;
            break;
        }
        let conv = b[i] as char;
        i += 1;
        lit_start = i;
        let w = width.unwrap_or(0);
        // the bytes this conversion may produce beyond its argument: stop
        // before allocating padding or digits past the output limit
        let grows = if matches!(
            conv,
            'd' | 'i' | 'u' | 'o' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A'
        ) {
            w.max(prec.unwrap_or(0))
        } else {
            w
        };
        if grows > p.limit.saturating_sub(p.out.len()) {
            p.errors.push(format!(
                "output would exceed the limit of {} bytes",
                p.limit
            ));
            return true;
        }
        let s: String = match conv {
            's' => {
                let a = next_arg(args, ai).unwrap_or("");
                let a: String = match prec {
                    Some(pr) => a.chars().take(pr).collect(),
                    None => a.to_string(),
                };
                pad(&a, w, left, false)
            }
            'b' => {
                let a = next_arg(args, ai).unwrap_or("");
                let (bytes, stop) = escapes(a, true);
                let text = mirage_types::bytestr::decode_owned(bytes);
                let text: String = match prec {
                    Some(pr) => text.chars().take(pr).collect(),
                    None => text,
                };
                p.out
                    .extend_from_slice(&mirage_types::bytestr::encode(&pad(&text, w, left, false)));
                if stop {
                    return true;
                }
                continue;
            }
            'q' => pad(
                &shell_quote(next_arg(args, ai).unwrap_or("")),
                w,
                left,
                false,
            ),
            'c' => {
                let a = next_arg(args, ai).unwrap_or("");
                pad(
                    &a.chars().next().map(|c| c.to_string()).unwrap_or_default(),
                    w,
                    left,
                    false,
                )
            }
            'd' | 'i' => {
                let v = parse_int(next_arg(args, ai).unwrap_or("0"), &mut p.errors);
                let mut digits = v.unsigned_abs().to_string();
                if let Some(pr) = prec {
                    if digits.len() < pr {
                        digits = format!("{}{digits}", "0".repeat(pr - digits.len()));
                    }
                    if pr == 0 && v == 0 {
                        digits.clear();
                    }
                }
                let sign = if v < 0 {
                    "-"
                } else if plus {
                    "+"
                } else if space {
                    " "
                } else {
                    ""
                };
                pad(&format!("{sign}{digits}"), w, left, zero && prec.is_none())
            }
            'u' | 'o' | 'x' | 'X' => {
                let v = parse_int(next_arg(args, ai).unwrap_or("0"), &mut p.errors) as u64;
                let mut digits = match conv {
                    'u' => v.to_string(),
                    'o' => format!("{v:o}"),
                    'x' => format!("{v:x}"),
                    _ => format!("{v:X}"),
                };
                if let Some(pr) = prec
                    && digits.len() < pr
                {
                    digits = format!("{}{digits}", "0".repeat(pr - digits.len()));
                }
                if alt && v != 0 {
                    digits = match conv {
                        'o' => format!("0{digits}"),
                        'x' => format!("0x{digits}"),
                        'X' => format!("0X{digits}"),
                        _ => digits,
                    };
                }
                pad(&digits, w, left, zero && prec.is_none())
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A' => {
                let raw = next_arg(args, ai).unwrap_or("0");
                let pr = prec.unwrap_or(6);
                let v = parse_float(raw, &mut p.errors);
                let mut body = match conv {
                    'f' | 'F' => decimal_round(raw, pr).unwrap_or_else(|| {
                        if v.is_finite() {
                            format!("{v:.pr$}")
                        } else if v.is_nan() {
                            "nan".into()
                        } else if v > 0.0 {
                            "inf".into()
                        } else {
                            "-inf".into()
                        }
                    }),
                    'e' | 'E' => fmt_e(v, pr, conv == 'E'),
                    _ => fmt_g(v, pr, alt, conv == 'G'),
                };
                if !body.starts_with('-') {
                    if plus {
                        body.insert(0, '+');
                    } else if space {
                        body.insert(0, ' ');
                    }
                }
                pad(&body, w, left, zero)
            }
            other => {
                p.errors.push(format!("%{other}: invalid format character"));
                return true;
            }
        };
        p.out.extend_from_slice(&mirage_types::bytestr::encode(&s));
        if p.out.len() > p.limit {
            p.errors.push(format!(
                "output would exceed the limit of {} bytes",
                p.limit
            ));
            return true;
        }
    }
    let (lit, stop) = escapes(&fmt[lit_start.min(fmt.len())..], false);
    p.out.extend_from_slice(&lit);
    stop
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(f: &str, a: &[&str]) -> String {
        let args: Vec<String> = a.iter().map(std::string::ToString::to_string).collect();
        String::from_utf8(printf(f, &args).out).unwrap()
    }

    #[test]
    fn formats() {
        assert_eq!(pf("%s-%s\\n", &["a", "b", "c"]), "a-b\nc-\n");
        assert_eq!(pf("%5s|%-5s|", &["ab", "cd"]), "   ab|cd   |");
        assert_eq!(pf("%05d %x %o", &["42", "255", "8"]), "00042 ff 10");
        assert_eq!(pf("%.2f", &["2.355"]), "2.36");
        assert_eq!(pf("%.1f", &["0.05"]), "0.1");
        assert_eq!(pf("%e", &["1234.5"]), "1.234500e+03");
        assert_eq!(pf("%g %g", &["0.0001", "1000000"]), "0.0001 1e+06");
        assert_eq!(pf("%d", &["'A"]), "65");
        assert_eq!(pf("%b", &["a\\tb"]), "a\tb");
        assert_eq!(pf("%%", &[]), "%");
        assert_eq!(pf("%3d|%-3d|", &["5", "5"]), "  5|5  |");
        assert_eq!(pf("%.2f %.2f", &["2.345", "1.005"]), "2.35 1.00");
        assert_eq!(pf("%.0f %.0f %.0f", &["0.5", "1.5", "2.5"]), "0 2 2");
        assert_eq!(pf("%(%Y-%m-%d %H:%M:%S)T", &["0"]), "1970-01-01 00:00:00");
        assert_eq!(pf("%(%Y)T", &["86400000"]), "1972");
    }
}
