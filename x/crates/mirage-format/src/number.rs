//! Formatting one value by one conversion, as C `printf(3)` on glibc with
//! bash's and GNU `seq`'s long double (`%Lf`) arguments.
//!
//! Widths and precisions count **bytes**, as C's `printf` does (GNU
//! `printf '%5s' é` pads with three spaces, not four).

use crate::spec::Spec;

/// Pads `body` (which starts with `prefix_len` bytes of sign or `0x` that
/// zeros go after) to `spec.width`.
fn pad(spec: &Spec, body: &[u8], prefix_len: usize, zeros: bool) -> Vec<u8> {
    let fill = spec.width.saturating_sub(body.len());
    let mut out = Vec::with_capacity(body.len() + fill);
    if fill == 0 {
        out.extend_from_slice(body);
    } else if spec.flags.left {
        out.extend_from_slice(body);
        out.resize(out.len() + fill, b' ');
    } else if zeros {
        out.extend_from_slice(&body[..prefix_len]);
        out.resize(out.len() + fill, b'0');
        out.extend_from_slice(&body[prefix_len..]);
    } else {
        out.resize(fill, b' ');
        out.extend_from_slice(body);
    }
    out
}

/// Into a `String`; the bodies built here are ASCII.
fn ascii(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_default()
}

/// The sign a signed conversion prints for a value of sign `neg`.
fn sign(spec: &Spec, neg: bool) -> &'static str {
    if neg {
        "-"
    } else if spec.flags.plus {
        "+"
    } else if spec.flags.space {
        " "
    } else {
        ""
    }
}

/// Left-pads `digits` with zeros to the precision (C's minimum digits).
fn min_digits(digits: String, spec: &Spec, zero_value: bool) -> String {
    match spec.precision {
        Some(0) if zero_value => String::new(),
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    }
}

/// Formats a signed integer by `%d`/`%i` (flags `-+ 0`, width, precision
/// as minimum digits; `%.0d` of 0 is empty).
#[must_use]
pub fn format_int(spec: &Spec, v: i128) -> String {
    let digits = min_digits(v.unsigned_abs().to_string(), spec, v == 0);
    let s = sign(spec, v < 0);
    let body = format!("{s}{digits}");
    let zeros = spec.flags.zero && spec.precision.is_none();
    ascii(pad(spec, body.as_bytes(), s.len(), zeros))
}

/// Formats an unsigned integer by `%u`, `%o`, `%x` or `%X` (`#` adds a
/// leading `0` to octal and `0x`/`0X` to a non-zero hex value).
#[must_use]
pub fn format_uint(spec: &Spec, v: u128) -> String {
    let digits = match spec.conv {
        'o' => format!("{v:o}"),
        'x' => format!("{v:x}"),
        'X' => format!("{v:X}"),
        _ => v.to_string(),
    };
    let mut digits = min_digits(digits, spec, v == 0);
    let mut prefix = "";
    if spec.flags.alt {
        match spec.conv {
            'o' if !digits.starts_with('0') => digits.insert(0, '0'),
            'x' if v != 0 => prefix = "0x",
            'X' if v != 0 => prefix = "0X",
            _ => {}
        }
    }
    let body = format!("{prefix}{digits}");
    let zeros = spec.flags.zero && spec.precision.is_none();
    ascii(pad(spec, body.as_bytes(), prefix.len(), zeros))
}

/// Formats bytes by `%s` (or `%c`/`%b`/`%q` after their own work): the
/// precision keeps at most that many bytes; the width pads with spaces.
#[must_use]
pub fn format_str(spec: &Spec, s: &[u8]) -> Vec<u8> {
    let s = match spec.precision {
        Some(p) if p < s.len() => &s[..p],
        _ => s,
    };
    pad(spec, s, 0, false)
}

/// `%e` body of a finite non-negative value: `d.ddde+XX`.
fn fmt_e(v: f64, prec: usize, upper: bool, alt: bool) -> String {
    let s = format!("{v:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut mant = mant.to_string();
    if alt && prec == 0 {
        mant.push('.');
    }
    let e = if upper { 'E' } else { 'e' };
    format!(
        "{mant}{e}{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// `%g` body of a finite non-negative value.
fn fmt_g(v: f64, prec: usize, upper: bool, alt: bool) -> String {
    let p = if prec == 0 { 1 } else { prec };
    let x: i32 = if v == 0.0 {
        0
    } else {
        let s = format!("{v:.prec$e}", prec = p - 1);
        s.split_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0)
    };
    let p_i = i32::try_from(p).unwrap_or(i32::MAX);
    let mut out = if p_i > x && x >= -4 {
        let decimals = usize::try_from(p_i - 1 - x).unwrap_or(0);
        let mut s = format!("{v:.decimals$}");
        if alt && decimals == 0 {
            s.push('.');
        }
        s
    } else {
        fmt_e(v, p - 1, upper, alt)
    };
    if !alt {
        let (num, exp) = match out.find(['e', 'E']) {
            Some(i) => (out[..i].to_string(), out[i..].to_string()),
            None => (out.clone(), String::new()),
        };
        let num = if num.contains('.') {
            num.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            num
        };
        out = format!("{num}{exp}");
    }
    out
}

/// `%a` body of a finite non-negative value as glibc prints an x87 long
/// double: the 64-bit mantissa's top nibble before the point (`1.0` is
/// `0x8p-3`), trailing zero nibbles dropped unless a precision is given.
/// (Exact for every `f64`; a decimal argument that is not a binary
/// fraction differs from bash in its last digits, as bash reads it with
/// 64 bits.)
fn fmt_a(v: f64, prec: Option<usize>, upper: bool, alt: bool) -> String {
    let (mut lead, mut frac, mut exp): (u64, u64, i64) = if v == 0.0 {
        (0, 0, 0)
    } else {
        let bits = v.to_bits();
        let raw_exp = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let frac52 = bits & ((1u64 << 52) - 1);
        let (mut m, mut e) = if raw_exp == 0 {
            (frac52, -1074)
        } else {
            (frac52 | (1u64 << 52), raw_exp - 1075)
        };
        // normalise to a 64-bit mantissa with its top bit set
        let shift = m.leading_zeros();
        m <<= shift;
        e -= i64::from(shift);
        (m >> 60, m & ((1u64 << 60) - 1), e + 60)
    };
    let mut nibbles = 15usize;
    if let Some(p) = prec
        && p < 15
    {
        // round the 60-bit fraction to `p` nibbles, half to even
        let drop = 4 * (15 - u32::try_from(p).unwrap_or(15));
        let kept = frac >> drop;
        let rest = frac & ((1u64 << drop) - 1);
        let half = 1u64 << (drop - 1);
        let mut kept = kept;
        if rest > half || (rest == half && (kept & 1 == 1 || (p == 0 && lead & 1 == 1))) {
            kept += 1;
        }
        if p == 0 {
            lead += kept;
            frac = 0;
        } else if kept >> (4 * p) != 0 {
            lead += 1;
            frac = 0;
        } else {
            frac = kept << drop;
        }
        if lead >= 16 {
            lead = 1;
            exp += 4;
        }
        nibbles = p;
    }
    let mut digits = format!("{frac:015x}");
    digits.truncate(nibbles);
    if prec.is_none() {
        digits = digits.trim_end_matches('0').to_string();
    }
    if let Some(p) = prec
        && p > digits.len()
    {
        digits.push_str(&"0".repeat(p - digits.len()));
    }
    let point = if digits.is_empty() && !alt { "" } else { "." };
    let s = format!(
        "0x{lead:x}{point}{digits}p{}{}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
    if upper { s.to_uppercase() } else { s }
}

/// The body of a float conversion of the non-negative `a` (no sign).
fn float_body(spec: &Spec, a: f64) -> String {
    let upper = spec.conv.is_ascii_uppercase();
    if !a.is_finite() {
        let t = if a.is_nan() { "nan" } else { "inf" };
        return if upper { t.to_uppercase() } else { t.into() };
    }
    let prec = spec.precision.unwrap_or(6);
    match spec.conv.to_ascii_lowercase() {
        'e' => fmt_e(a, prec, upper, spec.flags.alt),
        'g' => fmt_g(a, prec, upper, spec.flags.alt),
        'a' => fmt_a(a, spec.precision, upper, spec.flags.alt),
        _ => {
            let mut s = format!("{a:.prec$}");
            if spec.flags.alt && prec == 0 {
                s.push('.');
            }
            s
        }
    }
}

/// Signs and pads a float body (zeros go after the sign and any `0x`;
/// `inf` and `nan` are padded with spaces, as glibc).
fn finish_float(spec: &Spec, neg: bool, body: &str, finite: bool) -> String {
    let s = sign(spec, neg);
    let prefix = if body.starts_with("0x") || body.starts_with("0X") {
        2
    } else {
        0
    };
    let full = format!("{s}{body}");
    ascii(pad(
        spec,
        full.as_bytes(),
        s.len() + prefix,
        spec.flags.zero && finite,
    ))
}

/// Formats a float by `%f %F %e %E %g %G %a %A`, as C `printf` (the
/// default precision is 6; `#` keeps the point; `inf`/`nan` are never
/// zero-padded). A negative zero prints `-0`.
#[must_use]
pub fn format_float(spec: &Spec, v: f64) -> String {
    let body = float_body(spec, v.abs());
    finish_float(spec, v.is_sign_negative(), &body, v.is_finite())
}

/// As [`format_float`], for an argument given as text (`text` is the
/// argument, `v` its value). For `%f`/`%F` a plain decimal literal is
/// rounded from its digits exactly, the way glibc rounds the x87 long
/// double that bash reads (`printf '%.2f' 2.345` is `2.35`, not the
/// double's `2.34`).
#[must_use]
pub fn format_float_decimal(spec: &Spec, text: &str, v: f64) -> String {
    if matches!(spec.conv, 'f' | 'F') {
        let prec = spec.precision.unwrap_or(6);
        if let Some(mut body) = decimal_round(text, prec) {
            let neg = body.starts_with('-');
            if neg {
                body.remove(0);
            }
            if spec.flags.alt && prec == 0 {
                body.push('.');
            }
            return finish_float(spec, neg, &body, true);
        }
    }
    format_float(spec, v)
}

/// Rounds a plain decimal literal (`-12.345`) to `prec` places, exactly,
/// as glibc rounds the x87 long double nearest to it. `None` when `s` is
/// not such a literal.
#[must_use]
pub fn decimal_round(s: &str, prec: usize) -> Option<String> {
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
    let mut out = String::new();
    let int_part: String = digits[..digits.len() - prec]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let int_part = int_part.trim_start_matches('0');
    out.push_str(if int_part.is_empty() { "0" } else { int_part });
    if prec > 0 {
        out.push('.');
        out.extend(
            digits[digits.len() - prec..]
                .iter()
                .map(|d| char::from(b'0' + d)),
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
    let scale: u128 = 10u128.checked_pow(u32::try_from(fp.len()).ok()?)?;
    let mut frac: u128 = if fp.is_empty() { 0 } else { fp.parse().ok()? };
    // significant bits of the integer part
    let mut sig = 128 - int.leading_zeros();
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
    Some((frac * 2).cmp(&scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Format;
    use crate::spec::Piece;

    /// Formats one float with the single directive of `f`.
    fn g(f: &str, x: f64) -> String {
        let fm = Format::parse(f);
        let mut out = String::new();
        for p in &fm.pieces {
            match p {
                Piece::Literal(l) => out.push_str(std::str::from_utf8(l).unwrap()),
                Piece::Directive(d) => out.push_str(&format_float(&d.resolve(None, None), x)),
                Piece::Error(e) => panic!("{e}"),
            }
        }
        out
    }

    #[test]
    fn floats_as_c() {
        assert_eq!(g("%g", 1.0), "1");
        assert_eq!(g("%g", 0.1), "0.1");
        assert_eq!(g("%g", 1e6), "1e+06");
        assert_eq!(g("%g", 123_456.0), "123456");
        assert_eq!(g("%g", 0.0001), "0.0001");
        assert_eq!(g("%g", 0.00001), "1e-05");
        assert_eq!(g("%03g", 3.0), "003");
        assert_eq!(g("item-%g", 2.0), "item-2");
        assert_eq!(g("%.2f%%", 1.5), "1.50%");
        assert_eq!(g("%e", 1234.5), "1.234500e+03");
        assert_eq!(g("%-4g|", 1.0), "1   |");
        assert_eq!(g("%+g", 2.0), "+2");
        assert_eq!(g("%g", 0.0), "0");
        assert_eq!(g("%g", -2.5), "-2.5");
        assert_eq!(g("%05f|", f64::NEG_INFINITY), " -inf|");
        assert_eq!(g("%E", f64::INFINITY), "INF");
        assert_eq!(g("%#.0f", 3.0), "3.");
        assert_eq!(g("%#g", 1.0), "1.00000");
    }

    #[test]
    fn hex_floats_as_glibc_long_double() {
        assert_eq!(g("%a", 1.0), "0x8p-3");
        assert_eq!(g("%a", 1.5), "0xcp-3");
        assert_eq!(g("%a", -2.0), "-0x8p-2");
        assert_eq!(g("%a", 0.0), "0x0p+0");
        assert_eq!(g("%.2a", 1.0), "0x8.00p-3");
        assert_eq!(g("%A", 1_700_000_000.0), "0XC.AA7E2P+27");
    }

    #[test]
    fn integers_as_c() {
        let d = |f: &str| match &Format::parse(f).pieces[0] {
            Piece::Directive(d) => d.resolve(None, None),
            _ => panic!(),
        };
        assert_eq!(format_int(&d("%05d"), -42), "-0042");
        assert_eq!(format_int(&d("%+d"), 5), "+5");
        assert_eq!(format_int(&d("%.0d"), 0), "");
        assert_eq!(format_int(&d("%-4d|"), 7), "7   ");
        assert_eq!(format_uint(&d("%#x"), 255), "0xff");
        assert_eq!(format_uint(&d("%#08x"), 255), "0x0000ff");
        assert_eq!(format_uint(&d("%#o"), 8), "010");
        assert_eq!(format_uint(&d("%#.3o"), 8), "010");
        assert_eq!(format_uint(&d("%#x"), 0), "0");
        assert_eq!(format_str(&d("%5s"), "é".as_bytes()), b"   \xc3\xa9");
        assert_eq!(format_str(&d("%.1s"), "é".as_bytes()), b"\xc3");
    }

    #[test]
    fn decimal_rounding() {
        let spec = |p| Spec {
            precision: Some(p),
            ..Spec::new('f')
        };
        assert_eq!(format_float_decimal(&spec(2), "2.355", 2.355), "2.36");
        assert_eq!(format_float_decimal(&spec(2), "2.345", 2.345), "2.35");
        assert_eq!(format_float_decimal(&spec(2), "1.005", 1.005), "1.00");
        assert_eq!(format_float_decimal(&spec(0), "2.5", 2.5), "2");
        assert_eq!(format_float_decimal(&spec(2), "-0.001", -0.001), "-0.00");
    }
}
