//! GNU's conversion of a text argument to a number, as bash's `printf`
//! (`getintmax`, `getuintmax`, `getfloatmax`) and coreutils' `printf`
//! (`vstrtoimax` …) do it: leading blanks skipped, `'c` or `"c` is the
//! code of the character `c`, `0x` hex and `0` octal prefixes, the longest
//! numeric prefix is used and the rest is reported.

/// What went wrong converting an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not (entirely) a number: bash prints `X: invalid number` and the
    /// printf exits 1.
    Invalid,
    /// Not a number in base 8 (`08`): `X: invalid octal number`.
    InvalidOctal,
    /// Not a number in base 16 (`0x`): `X: invalid hex number`.
    InvalidHex,
    /// Too large: clamped, and bash warns
    /// `warning: X: Numerical result out of range` (exit status unchanged).
    OutOfRange,
}

impl Problem {
    /// bash's message for argument `arg` (without the `bash: printf: `
    /// prefix).
    #[must_use]
    pub fn message(self, arg: &str) -> String {
        match self {
            Problem::Invalid => format!("{arg}: invalid number"),
            Problem::InvalidOctal => format!("{arg}: invalid octal number"),
            Problem::InvalidHex => format!("{arg}: invalid hex number"),
            Problem::OutOfRange => format!("warning: {arg}: Numerical result out of range"),
        }
    }

    /// Whether the problem makes the command fail (a warning does not).
    #[must_use]
    pub fn is_error(self) -> bool {
        self != Problem::OutOfRange
    }
}

/// A converted argument: the value (the longest valid prefix, clamped) and
/// what, if anything, was wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Converted<T> {
    /// The value.
    pub value: T,
    /// The problem, if any.
    pub problem: Option<Problem>,
}

impl<T> Converted<T> {
    fn ok(value: T) -> Self {
        Converted {
            value,
            problem: None,
        }
    }
}

/// `'c` / `"c`: the code point of the first character (0 if none).
fn char_code(t: &str) -> Option<u32> {
    let rest = t.strip_prefix('\'').or_else(|| t.strip_prefix('"'))?;
    Some(rest.chars().next().map_or(0, u32::from))
}

/// The magnitude and sign of an integer text in C's base 0, as `strtoumax`.
/// Returns `(negative, magnitude (saturated), overflowed, problem)`.
fn scan_integer(s: &str) -> (bool, u64, bool, Option<Problem>) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
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
    let mut v: u64 = 0;
    let mut overflow = false;
    for c in digits[..end].chars() {
        let d = u64::from(c.to_digit(radix).unwrap_or(0));
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(d))
        {
            Some(x) => v = x,
            None => {
                overflow = true;
                v = u64::MAX;
            }
        }
    }
    // bash's sh_invalidnum names the base from the argument's first bytes
    let problem = (end < digits.len() || digits.is_empty()).then(|| {
        let raw = s.as_bytes();
        match (raw.first(), raw.get(1)) {
            (Some(b'0'), Some(d)) if d.is_ascii_digit() => Problem::InvalidOctal,
            (Some(b'0'), Some(b'x')) => Problem::InvalidHex,
            _ => Problem::Invalid,
        }
    });
    (neg, v, overflow, problem)
}

/// Converts `s` for a signed conversion (`%d`, `%i`, a `*` width), as
/// bash's `getintmax` (`strtoimax`, base 0). The empty string is 0.
#[must_use]
pub fn to_intmax(s: &str) -> Converted<i64> {
    if let Some(c) = char_code(s.trim_start()) {
        return Converted::ok(i64::from(c));
    }
    if s.is_empty() {
        return Converted::ok(0);
    }
    let (neg, mag, overflow, problem) = scan_integer(s);
    let (value, range) = if neg {
        if mag > i64::MAX.unsigned_abs() + 1 || overflow {
            (i64::MIN, true)
        } else {
            (0i64.wrapping_sub_unsigned(mag), false)
        }
    } else if mag > i64::MAX.unsigned_abs() || overflow {
        (i64::MAX, true)
    } else {
        (i64::try_from(mag).unwrap_or(i64::MAX), false)
    };
    Converted {
        value,
        problem: problem.or(range.then_some(Problem::OutOfRange)),
    }
}

/// Converts `s` for an unsigned conversion (`%u %o %x %X`), as bash's
/// `getuintmax` (`strtoumax`: a negative number wraps modulo 2^64).
#[must_use]
pub fn to_uintmax(s: &str) -> Converted<u64> {
    if let Some(c) = char_code(s.trim_start()) {
        return Converted::ok(u64::from(c));
    }
    if s.is_empty() {
        return Converted::ok(0);
    }
    let (neg, mag, overflow, problem) = scan_integer(s);
    let value = if overflow {
        u64::MAX
    } else if neg {
        mag.wrapping_neg()
    } else {
        mag
    };
    Converted {
        value,
        problem: problem.or(overflow.then_some(Problem::OutOfRange)),
    }
}

/// The length of the longest prefix of `t` that C's `strtold` reads as a
/// decimal or special number (`inf`, `infinity`, `nan`), 0 if none.
fn float_prefix(t: &str) -> usize {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let lower = t[i..].to_ascii_lowercase();
    if lower.starts_with("infinity") {
        return i + 8;
    }
    if lower.starts_with("inf") || lower.starts_with("nan") {
        return i + 3;
    }
    let st = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut nd = i - st;
    if b.get(i) == Some(&b'.') {
        let dot = i;
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        nd += i - dot - 1;
    }
    if nd == 0 {
        return 0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let es = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > es {
            i = j;
        }
    }
    i
}

/// Converts `s` for a floating conversion (`%f %e %g %a`), as bash's
/// `getfloatmax` (`strtold`): leading blanks, the longest numeric prefix,
/// `inf`/`nan`. The empty string is 0. (A hexadecimal float is read by its
/// integer part only.)
#[must_use]
pub fn to_floatmax(s: &str) -> Converted<f64> {
    if let Some(c) = char_code(s.trim_start()) {
        return Converted::ok(f64::from(c));
    }
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if s.is_empty() {
        return Converted::ok(0.0);
    }
    let n = float_prefix(t);
    let lead = &t[..n];
    let value = lead.parse::<f64>().unwrap_or(0.0);
    let problem = if n < t.len() || n == 0 {
        Some(Problem::Invalid)
    } else if value.is_infinite() && !lead.to_ascii_lowercase().contains("inf") {
        Some(Problem::OutOfRange)
    } else {
        None
    };
    Converted { value, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_bash() {
        assert_eq!(to_intmax("0x10").value, 16);
        assert_eq!(to_intmax("010").value, 8);
        assert_eq!(to_intmax(" 12").problem, None);
        assert_eq!(to_intmax("12 ").problem, Some(Problem::Invalid));
        assert_eq!(to_intmax("12abc").value, 12);
        assert_eq!(to_intmax("'A").value, 65);
        assert_eq!(to_intmax("'").value, 0);
        assert_eq!(to_intmax("'é").value, 233);
        assert_eq!(to_intmax("-0x1f").value, -31);
        assert_eq!(to_intmax("08").problem, Some(Problem::InvalidOctal));
        assert_eq!(to_intmax("0x").problem, Some(Problem::InvalidHex));
        let big = to_intmax("9223372036854775808");
        assert_eq!(
            (big.value, big.problem),
            (i64::MAX, Some(Problem::OutOfRange))
        );
        assert_eq!(to_intmax("-9223372036854775808").value, i64::MIN);
        assert_eq!(to_uintmax("-5").value, 18_446_744_073_709_551_611);
        assert_eq!(to_intmax("x").problem, Some(Problem::Invalid));
        assert_eq!(to_intmax("").problem, None);
    }

    #[test]
    fn floats_as_bash() {
        assert_eq!(to_floatmax("1e3").value, 1000.0);
        assert_eq!(to_floatmax("1.5x").problem, Some(Problem::Invalid));
        assert_eq!(to_floatmax("1.5x").value, 1.5);
        assert!(to_floatmax("-inf").value.is_infinite());
        assert_eq!(to_floatmax("1e999").problem, Some(Problem::OutOfRange));
        assert_eq!(to_floatmax(" .5").value, 0.5);
        assert_eq!(to_floatmax("abc").problem, Some(Problem::Invalid));
    }
}
