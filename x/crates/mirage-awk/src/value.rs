//! awk values: numbers, strings and "strnums" (input that looks numeric),
//! with gawk's conversion and comparison rules.

use std::cmp::Ordering;
use std::collections::HashMap;

/// An awk value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Never assigned: `""` and `0` at once.
    #[default]
    Uninit,
    /// A number.
    Num(f64),
    /// A string (from a constant or an operation).
    Str(Vec<u8>),
    /// A string from input (fields, `getline`, `split`, `-v`): compares as
    /// a number when it looks like one.
    StrNum(Vec<u8>),
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The numeric value of the longest numeric prefix of `s` (after leading
/// blanks), as awk's string-to-number conversion (strtod, decimal only).
#[must_use]
pub fn str_to_num(s: &[u8]) -> f64 {
    parse_prefix(s).0
}

/// The value of the numeric prefix and the index where it ends (0 if none).
fn parse_prefix(s: &[u8]) -> (f64, usize) {
    let mut i = 0;
    while i < s.len() && is_blank(s[i]) {
        i += 1;
    }
    let start = i;
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    // fast path: plain integers
    let digits_start = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() && i - digits_start < 18 {
        v = v * 10 + u64::from(s[i] - b'0');
        i += 1;
    }
    let int_digits = i - digits_start;
    let next = s.get(i).copied();
    if int_digits > 0 && !matches!(next, Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
        #[allow(clippy::cast_precision_loss)]
        let f = v as f64;
        return (if neg { -f } else { f }, i);
    }
    // general path
    i = digits_start;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let mut mant = i - digits_start;
    if i < s.len() && s[i] == b'.' {
        i += 1;
        let f = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        mant += i - f;
    }
    if mant == 0 {
        // +inf/-nan as gawk accepts them
        let rest = &s[digits_start..];
        if digits_start > start && rest.len() >= 3 {
            let w = rest[..3].to_ascii_lowercase();
            if w == b"inf" {
                return (
                    if neg {
                        f64::NEG_INFINITY
                    } else {
                        f64::INFINITY
                    },
                    digits_start + 3,
                );
            }
            if w == b"nan" {
                return (if neg { -f64::NAN } else { f64::NAN }, digits_start + 3);
            }
        }
        return (0.0, 0);
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        if j < s.len() && s[j].is_ascii_digit() {
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
    (text.parse().unwrap_or(0.0), i)
}

/// Whether `s` as a whole (blanks around allowed) is a number: the strnum test.
#[must_use]
pub fn looks_numeric(s: &[u8]) -> bool {
    let (_, end) = parse_prefix(s);
    if end == 0 {
        return false;
    }
    s[end..].iter().all(|&b| is_blank(b))
}

/// Formats a number for output or conversion: integers as `%d`, others by
/// `fmt` (CONVFMT or OFMT, `%.6g` by default).
#[must_use]
pub fn num_to_str(v: f64, fmt: &[u8]) -> Vec<u8> {
    if v.is_nan() {
        return if v.is_sign_negative() {
            b"-nan".to_vec()
        } else {
            b"+nan".to_vec()
        };
    }
    if v.is_infinite() {
        return if v < 0.0 {
            b"-inf".to_vec()
        } else {
            b"+inf".to_vec()
        };
    }
    if v == v.trunc() {
        if v.abs() < 1e18 {
            #[allow(clippy::cast_possible_truncation)]
            let i = v as i64;
            return i.to_string().into_bytes();
        }
        return format!("{v:.0}").into_bytes();
    }
    if fmt == b"%.6g" {
        let spec = mirage_format::spec::Spec {
            precision: Some(6),
            ..mirage_format::spec::Spec::new('g')
        };
        return mirage_format::number::format_float(&spec, v).into_bytes();
    }
    crate::interp::sprintf_values(fmt, &[Value::Num(v)]).unwrap_or_default()
}

impl Value {
    /// The numeric value.
    #[must_use]
    pub fn num(&self) -> f64 {
        match self {
            Value::Uninit => 0.0,
            Value::Num(n) => *n,
            Value::Str(s) | Value::StrNum(s) => str_to_num(s),
        }
    }

    /// The string value, numbers formatted by `convfmt`.
    #[must_use]
    pub fn to_bytes(&self, convfmt: &[u8]) -> Vec<u8> {
        match self {
            Value::Uninit => Vec::new(),
            Value::Num(n) => num_to_str(*n, convfmt),
            Value::Str(s) | Value::StrNum(s) => s.clone(),
        }
    }

    /// Consumes the value into its string, numbers by `convfmt`.
    #[must_use]
    pub fn into_bytes(self, convfmt: &[u8]) -> Vec<u8> {
        match self {
            Value::Str(s) | Value::StrNum(s) => s,
            other => other.to_bytes(convfmt),
        }
    }

    /// The truth value: numbers non-zero, strings non-empty (a strnum by its number).
    #[must_use]
    pub fn truthy(&self) -> bool {
        match self {
            Value::Uninit => false,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::StrNum(s) => {
                if looks_numeric(s) {
                    str_to_num(s) != 0.0
                } else {
                    !s.is_empty()
                }
            }
        }
    }

    fn is_numeric(&self) -> bool {
        match self {
            Value::Uninit | Value::Num(_) => true,
            Value::Str(_) => false,
            Value::StrNum(s) => looks_numeric(s),
        }
    }
}

/// Compares two values by awk's rules: numerically when both are numbers,
/// strnums that look numeric, or uninitialised; otherwise as strings (bytes).
#[must_use]
pub fn compare(a: &Value, b: &Value, convfmt: &[u8]) -> Ordering {
    if a.is_numeric() && b.is_numeric() {
        let (x, y) = (a.num(), b.num());
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    match (a, b) {
        (Value::Str(x) | Value::StrNum(x), Value::Str(y) | Value::StrNum(y)) => x.cmp(y),
        _ => a.to_bytes(convfmt).cmp(&b.to_bytes(convfmt)),
    }
}

/// An awk array: string keys to values, iterated in insertion order.
#[derive(Debug, Clone, Default)]
pub struct Array {
    map: HashMap<Vec<u8>, usize>,
    slots: Vec<Option<(Vec<u8>, Value)>>,
    live: usize,
}

impl Array {
    /// How many elements it has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.live
    }
    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
    /// The value at `key`, if present.
    #[must_use]
    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        let i = *self.map.get(key)?;
        self.slots[i].as_ref().map(|(_, v)| v)
    }
    /// Whether `key` is present.
    #[must_use]
    pub fn contains(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }
    /// The value at `key`, created uninitialised if absent.
    pub fn entry(&mut self, key: Vec<u8>) -> &mut Value {
        let i = match self.map.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.slots.len();
                self.map.insert(key.clone(), i);
                self.slots.push(Some((key, Value::Uninit)));
                self.live += 1;
                i
            }
        };
        match &mut self.slots[i] {
            Some((_, v)) => v,
            None => unreachable_slot(),
        }
    }
    /// Sets `key` to `v`.
    pub fn set(&mut self, key: Vec<u8>, v: Value) {
        *self.entry(key) = v;
    }
    /// Removes `key`.
    pub fn remove(&mut self, key: &[u8]) {
        if let Some(i) = self.map.remove(key) {
            self.slots[i] = None;
            self.live -= 1;
            if self.slots.len() > 32 && self.slots.len() > 2 * self.live {
                self.compact();
            }
        }
    }
    fn compact(&mut self) {
        let slots: Vec<_> = self.slots.drain(..).flatten().collect();
        self.map.clear();
        for (i, (k, _)) in slots.iter().enumerate() {
            self.map.insert(k.clone(), i);
        }
        self.slots = slots.into_iter().map(Some).collect();
    }
    /// Removes everything.
    pub fn clear(&mut self) {
        self.map.clear();
        self.slots.clear();
        self.live = 0;
    }
    /// The keys in insertion order.
    #[must_use]
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.slots
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect()
    }
    /// The elements in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Value)> {
        self.slots.iter().flatten().map(|(k, v)| (k, v))
    }
}

#[cold]
fn unreachable_slot() -> ! {
    // the map only points at live slots
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert!((str_to_num(b" 12abc") - 12.0).abs() < 1e-9);
        assert!((str_to_num(b"-1.5e2x") + 150.0).abs() < 1e-9);
        assert!(looks_numeric(b" 10 "));
        assert!(!looks_numeric(b"abc"));
        assert!(!looks_numeric(b""));
        assert_eq!(num_to_str(3.0, b"%.6g"), b"3");
        assert_eq!(num_to_str(10.0 / 3.0, b"%.6g"), b"3.33333");
        assert_eq!(num_to_str(1e6, b"%.6g"), b"1000000");
    }

    #[test]
    fn comparisons() {
        let c = |a: &Value, b: &Value| compare(a, b, b"%.6g");
        assert_eq!(
            c(
                &Value::StrNum(b"10".to_vec()),
                &Value::StrNum(b"9".to_vec())
            ),
            Ordering::Greater
        );
        assert_eq!(
            c(&Value::Str(b"10".to_vec()), &Value::Str(b"9".to_vec())),
            Ordering::Less
        );
        assert_eq!(c(&Value::Uninit, &Value::Num(0.0)), Ordering::Equal);
    }
}
