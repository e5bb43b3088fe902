//! `numfmt`: numbers to and from human-readable form, as GNU coreutils 9.1
//! (`--from`/`--to` `none`, `auto`, `si`, `iec`, `iec-i`; `--from-unit`,
//! `--to-unit`, `--round`, `--suffix`, `--padding`, `--format
//! %[0]['][-][N][.N]f`, `--field`, `-d`, `--header`, `--invalid`, `-z`).
//!
//! Each operand, or else each input line, is one record; the chosen field
//! (default the first; blank-separated fields keep their leading blanks,
//! and the result is right-aligned to that width, as GNU's auto padding)
//! is converted. A bad number is reported and, with the default
//! `--invalid=abort`, ends the run with status 2. Lines stream one at a
//! time. Behaviour as GNU coreutils 9.1 `numfmt` (the rounding rules of
//! `Fmt::scaled` were read off its output); original code, in `f64`
//! where GNU uses `long double`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{Input, bytestr};

use crate::util::{RecordReader, gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("from", None, Some("from")),
    OptSpec::value("from-unit", None, Some("from-unit")),
    OptSpec::value("to", None, Some("to")),
    OptSpec::value("to-unit", None, Some("to-unit")),
    OptSpec::value("round", None, Some("round")),
    OptSpec::value("suffix", None, Some("suffix")),
    OptSpec::value("padding", None, Some("padding")),
    OptSpec::value("format", None, Some("format")),
    OptSpec::value("field", None, Some("field")),
    OptSpec::value("delimiter", Some('d'), Some("delimiter")),
    OptSpec::optional("header", None, Some("header")),
    OptSpec::value("invalid", None, Some("invalid")),
    OptSpec::flag("grouping", None, Some("grouping")),
    OptSpec::flag("zero-terminated", Some('z'), Some("zero-terminated")),
    OptSpec::flag("debug", None, Some("debug")),
];

/// The spec of `numfmt` (operands are numbers).
pub static SPEC: CommandSpec = CommandSpec::new("numfmt", OPTS, PathOperands::None);

crate::register_command!("numfmt", SPEC, run);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    None,
    Auto,
    Si,
    Iec,
    IecI,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Round {
    Up,
    Down,
    FromZero,
    TowardsZero,
    Nearest,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Invalid {
    Abort,
    Fail,
    Warn,
    Ignore,
}

/// The conversion settings.
struct Fmt {
    from: Scale,
    to: Scale,
    from_unit: f64,
    to_unit: f64,
    round: Round,
    suffix: String,
    padding: i64,
    /// `--format`: prefix, zero pad, left align, width, precision, suffix.
    format: Option<(String, bool, bool, usize, Option<usize>, String)>,
}

/// `v` rounded to a whole number by `--round`'s rule (`nearest` rounds
/// halves away from zero). A zero result is never negative (GNU rounds
/// through an integer).
fn round(v: f64, r: Round) -> f64 {
    let whole = match r {
        Round::Up => v.ceil(),
        Round::Down => v.floor(),
        Round::FromZero if v < 0.0 => v.floor(),
        Round::FromZero => v.ceil(),
        Round::TowardsZero => v.trunc(),
        Round::Nearest if v < 0.0 => (v - 0.5).trunc(),
        Round::Nearest => (v + 0.5).trunc(),
    };
    if whole == 0.0 { 0.0 } else { whole }
}

/// `text` (`[-+]DIGITS[.DIGITS]`, nothing else) rounded by `r` to
/// `places` decimals in exact decimal arithmetic, or `None` when it is
/// not such a number or too long. GNU computes in `long double`, which is
/// exact for the 18 digits it prints; `f64` is not.
fn exact_round(text: &str, places: usize, r: Round) -> Option<String> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = || int.bytes().chain(frac.bytes());
    if int.len() + frac.len() == 0 || int.len() + frac.len() > 36 || places > 36 {
        return None;
    }
    if !digits().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mant: i128 = digits().fold(0i128, |m, b| m * 10 + i128::from(b - b'0'));
    let scaled = if frac.len() <= places {
        mant.checked_mul(10i128.checked_pow((places - frac.len()) as u32)?)?
    } else {
        let div = 10i128.checked_pow((frac.len() - places) as u32)?;
        let (q, rem) = (mant / div, mant % div);
        let away = match r {
            Round::Up => !neg && rem > 0,
            Round::Down => neg && rem > 0,
            Round::FromZero => rem > 0,
            Round::TowardsZero => false,
            Round::Nearest => 2 * rem >= div,
        };
        q + i128::from(away)
    };
    let mut s = format!("{scaled:0>width$}", width = places + 1);
    if places > 0 {
        s.insert(s.len() - places, '.');
    }
    if neg && scaled != 0 {
        s.insert(0, '-');
    }
    Some(s)
}

/// `v` rounded by `r` to `decimals` places after the point.
fn round_to(v: f64, decimals: usize, r: Round) -> f64 {
    let unit = 10f64.powi(decimals as i32);
    round(v * unit, r) / unit
}

const SUFFIXES: &[u8] = b"KMGTPEZY";

/// Why a number was refused (GNU's wording).
fn parse_number(s: &str, from: Scale) -> Result<(f64, usize), String> {
    let t = s.trim_start_matches([' ', '\t']);
    let bytes = t.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let mut precision = 0;
    let mut digits = i - int_start;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let f = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        precision = i - f;
        digits += precision;
    }
    if digits == 0 {
        return Err(format!("invalid number: {}", gnu_quote(s)));
    }
    // GNU takes at most 27 significant digits before the point
    let significant = t[int_start..].bytes().take_while(u8::is_ascii_digit);
    if significant.skip_while(|&b| b == b'0').count() > 27 {
        return Err(format!("value too large to be converted: {}", gnu_quote(s)));
    }
    let mut v: f64 = t[..i]
        .parse()
        .map_err(|_| format!("invalid number: {}", gnu_quote(s)))?;
    // `-0` reads as zero
    if v == 0.0 {
        v = 0.0;
    }
    if i == bytes.len() {
        return Ok((v, precision));
    }
    let c = bytes[i];
    let Some(pos) = SUFFIXES.iter().position(|&x| x == c) else {
        return Err(format!("invalid suffix in input: {}", gnu_quote(s)));
    };
    if from == Scale::None {
        return Err(format!(
            "rejecting suffix in input: {} (consider using --from)",
            gnu_quote(s)
        ));
    }
    i += 1;
    let power = pos as i32 + 1;
    let has_i = i < bytes.len() && bytes[i] == b'i';
    let base: f64 = match from {
        Scale::Auto if has_i => 1024.0,
        Scale::Auto | Scale::Si => 1000.0,
        _ => 1024.0,
    };
    if from == Scale::IecI && !has_i {
        return Err(format!(
            "missing 'i' suffix in input: {} (e.g Ki/Mi/Gi)",
            gnu_quote(s)
        ));
    }
    if has_i && matches!(from, Scale::Auto | Scale::IecI) {
        i += 1;
    }
    if i < bytes.len() {
        return Err(format!(
            "invalid suffix in input {}: {}",
            gnu_quote(s),
            gnu_quote(&t[i..])
        ));
    }
    v *= base.powi(power);
    Ok((v, 0))
}

impl Fmt {
    /// `val` in the output form, suffix and format applied, before
    /// padding; `precision` is the input's number of decimals.
    /// `exact`: the number as written, when it is plain decimal and no
    /// unit applies (printed exactly with `--to=none`).
    fn human(&self, val: f64, precision: usize, exact: Option<&str>) -> Result<String, String> {
        let user_precision = self.format.as_ref().and_then(|f| f.4);
        let (num, unit) = if self.to == Scale::None {
            let places = user_precision.unwrap_or(precision);
            // GNU prints at most 18 digits before and after the point
            // together (the integer digits counted as its power of ten)
            let mut tens = 0usize;
            let mut m = val.abs();
            while m >= 10.0 && tens <= 400 {
                m /= 10.0;
                tens += 1;
            }
            if tens + places > 18 {
                return Err(match places {
                    0 => format!(
                        "value too large to be printed: '{}' (consider using --to)",
                        short_g(val)
                    ),
                    p => format!(
                        "value/precision too large to be printed: '{}/{p}' (consider using --to)",
                        short_g(val)
                    ),
                });
            }
            let num = exact
                .and_then(|t| exact_round(t, places, self.round))
                .unwrap_or_else(|| format!("{:.places$}", round_to(val, places, self.round)));
            (num, String::new())
        } else {
            self.scaled(val, user_precision)?
        };
        let Some((pre, zero, left, width, _, post)) = &self.format else {
            return Ok(format!("{num}{unit}{}", self.suffix));
        };
        let w = *width;
        let padded = if *zero {
            // zeros widen the number alone, after its sign
            let (sign, digits) = match num.strip_prefix('-') {
                Some(r) => ("-", r),
                None => ("", num.as_str()),
            };
            let fill = w.saturating_sub(num.len());
            format!("{sign}{}{digits}{unit}{}", "0".repeat(fill), self.suffix)
        } else {
            let all = format!("{num}{unit}{}", self.suffix);
            if *left {
                format!("{all:<w$}")
            } else {
                format!("{all:>w$}")
            }
        };
        let out = format!("{pre}{padded}{post}");
        Ok(out)
    }

    /// `val` and its unit suffix (`--to` other than `none`), as GNU
    /// prints them: the number is divided by the base (1000 or 1024) until
    /// it is below it; then rounded by `--round`, to one decimal when it is
    /// below 10 (none otherwise), or to the `--format` precision (at most
    /// 3 decimals per power of the base); a rounding that reaches the base
    /// moves up one power. The result shows the `--format` precision, else
    /// one decimal for a nonzero value below 10 that has a suffix, else
    /// none. Past `Y` the value is refused.
    fn scaled(&self, val: f64, user_precision: Option<usize>) -> Result<(String, String), String> {
        let base = if self.to == Scale::Si { 1000.0 } else { 1024.0 };
        let mut power = 0usize;
        let mut mant = val;
        // (bounded: an infinite value stops past `Y` and is refused)
        while mant.abs() >= base && power <= SUFFIXES.len() {
            mant /= base;
            power += 1;
        }
        let small = |m: f64| m.abs() < 10.0;
        let places = user_precision.map_or(usize::from(small(mant)), |u| u.min(3 * power));
        mant = round_to(mant, places, self.round);
        if mant.abs() >= base {
            mant /= base;
            power += 1;
        }
        let Some(unit) = power.checked_sub(1).map(|i| SUFFIXES.get(i)) else {
            // no suffix: the decimals asked for, else none
            let shown = user_precision.unwrap_or(0);
            return Ok((format!("{mant:.shown$}"), String::new()));
        };
        let Some(&unit) = unit else {
            return Err(format!(
                "value too large to be printed: '{}' (cannot handle values > 999Y)",
                short_g(val)
            ));
        };
        let shown = user_precision.unwrap_or(usize::from(mant != 0.0 && small(mant)));
        let mut unit = (unit as char).to_string();
        if self.to == Scale::IecI {
            unit.push('i');
        }
        Ok((format!("{mant:.shown$}"), unit))
    }

    fn convert(&self, field: &str) -> Result<String, String> {
        let (v, precision) = parse_number(field, self.from)?;
        let v = v * self.from_unit / self.to_unit;
        let plain = field.trim_start_matches([' ', '\t']);
        let exact = (self.from_unit == 1.0 && self.to_unit == 1.0).then_some(plain);
        self.human(v, precision, exact)
    }
}

/// `%g` as C prints it with 6 significant digits (for error messages).
fn short_g(v: f64) -> String {
    let e = format!("{v:.5e}");
    let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let m = m.trim_end_matches('0').trim_end_matches('.');
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        let p = (5 - exp).max(0) as usize;
        let s = format!("{v:.p$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

fn scale(s: &str, opt: &str, allow_auto: bool) -> Result<Scale, CmdError> {
    Ok(match s {
        "none" => Scale::None,
        "auto" if allow_auto => Scale::Auto,
        "si" => Scale::Si,
        "iec" => Scale::Iec,
        "iec-i" => Scale::IecI,
        _ => {
            let valid = if allow_auto {
                "  - ‘none’\n  - ‘auto’\n  - ‘si’\n  - ‘iec’\n  - ‘iec-i’"
            } else {
                "  - ‘none’\n  - ‘si’\n  - ‘iec’\n  - ‘iec-i’"
            };
            return Err(CmdError::usage(format!(
                "invalid argument {} for {}\nValid arguments are:\n{valid}",
                gnu_quote(s),
                gnu_quote(opt)
            )));
        }
    })
}

/// `--format`'s directive, as GNU checks it.
#[allow(clippy::type_complexity)]
fn parse_format(f: &str) -> Result<(String, bool, bool, usize, Option<usize>, String), CmdError> {
    let bad = || {
        CmdError::new(
            1,
            format!(
                "invalid format {}, directive must be %[0]['][-][N][.][N]f",
                gnu_quote(f)
            ),
        )
    };
    let b = f.as_bytes();
    let mut i = 0;
    let mut pre = String::new();
    while i < b.len() {
        if b[i] == b'%' {
            if b.get(i + 1) == Some(&b'%') {
                pre.push('%');
                i += 2;
                continue;
            }
            break;
        }
        pre.push(b[i] as char);
        i += 1;
    }
    if i >= b.len() {
        return Err(CmdError::new(
            1,
            format!("format {} has no % directive", gnu_quote(f)),
        ));
    }
    i += 1;
    let (mut zero, mut left) = (false, false);
    while i < b.len() && matches!(b[i], b'0' | b'\'' | b'-') {
        match b[i] {
            b'0' => zero = true,
            b'-' => left = true,
            _ => {}
        }
        i += 1;
    }
    let ws = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let width = f[ws..i].parse().unwrap_or(0);
    let mut prec = None;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let ps = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        prec = Some(f[ps..i].parse().unwrap_or(0));
    }
    if b.get(i) != Some(&b'f') {
        return Err(bad());
    }
    let post = f[i + 1..].replace("%%", "%");
    Ok((pre, zero, left, width, prec, post))
}

/// Which fields (1-based) `--field` selects.
fn parse_fields(s: &str) -> Option<Vec<(usize, usize)>> {
    let mut v = Vec::new();
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().ok()?
                },
            ),
            None => {
                let n = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 || a > b {
            return None;
        }
        v.push((a, b));
    }
    Some(v)
}

/// One run's state.
struct Run {
    fmt: Fmt,
    fields: Vec<(usize, usize)>,
    delim: Option<u8>,
    invalid: Invalid,
    failed: bool,
}

impl Run {
    /// `line` with its selected fields converted, or the error to abort on.
    async fn line(&mut self, ctx: &mut CommandCtx, line: &str) -> Result<String, CmdError> {
        let parts: Vec<&str> = match self.delim {
            Some(d) => line.split(d as char).collect(),
            None => split_blank_fields(line),
        };
        let mut out = String::with_capacity(line.len() + 8);
        for (i, part) in parts.iter().enumerate() {
            if i > 0
                && let Some(d) = self.delim
            {
                out.push(d as char);
            }
            let n = i + 1;
            if !self.fields.iter().any(|&(a, b)| a <= n && n <= b) {
                out.push_str(part);
                continue;
            }
            match self.fmt.convert(part) {
                Ok(s) => {
                    let pad = if self.fmt.padding != 0 {
                        self.fmt.padding
                    } else if self.delim.is_none() && part.starts_with([' ', '\t']) {
                        part.len() as i64
                    } else {
                        0
                    };
                    let w = pad.unsigned_abs() as usize;
                    if pad > 0 {
                        out.push_str(&format!("{s:>w$}"));
                    } else {
                        out.push_str(&format!("{s:<w$}"));
                    }
                }
                Err(msg) => {
                    match self.invalid {
                        Invalid::Abort => return Err(CmdError::new(2, msg)),
                        Invalid::Fail => {
                            self.failed = true;
                            ctx.error(&msg).await;
                        }
                        Invalid::Warn => ctx.error(&msg).await,
                        Invalid::Ignore => {}
                    }
                    out.push_str(part);
                }
            }
        }
        Ok(out)
    }
}

/// Blank-separated fields, each with its leading blanks.
fn split_blank_fields(line: &str) -> Vec<&str> {
    let b = line.as_bytes();
    let mut v = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += 1;
        }
        v.push(&line[start..i]);
        start = i;
    }
    if v.is_empty() {
        v.push(line);
    }
    v
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let unit = |key: &str| -> Result<f64, CmdError> {
        match p.value(key) {
            None => Ok(1.0),
            Some(v) => match parse_number(v, Scale::Auto) {
                Ok((n, _)) if n > 0.0 => Ok(n),
                _ => Err(CmdError::new(
                    1,
                    format!("invalid unit size: {}", gnu_quote(v)),
                )),
            },
        }
    };
    let fmt = Fmt {
        from: scale(p.value("from").unwrap_or("none"), "--from", true)?,
        to: scale(p.value("to").unwrap_or("none"), "--to", false)?,
        from_unit: unit("from-unit")?,
        to_unit: unit("to-unit")?,
        round: match p.value("round").unwrap_or("from-zero") {
            "up" => Round::Up,
            "down" => Round::Down,
            "from-zero" => Round::FromZero,
            "towards-zero" => Round::TowardsZero,
            "nearest" => Round::Nearest,
            r => {
                return Err(CmdError::usage(format!(
                    "invalid argument {} for {}\nValid arguments are:\n  - ‘up’\n  - ‘down’\n  - ‘from-zero’\n  - ‘towards-zero’\n  - ‘nearest’",
                    gnu_quote(r),
                    gnu_quote("--round")
                )));
            }
        },
        suffix: p.value("suffix").unwrap_or("").to_string(),
        padding: match p.value("padding") {
            None => 0,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n != 0 => n,
                _ => {
                    return Err(CmdError::new(
                        1,
                        format!("invalid padding value {}", gnu_quote(v)),
                    ));
                }
            },
        },
        format: p.value("format").map(parse_format).transpose()?,
    };
    let fields = match p.value("field") {
        None => vec![(1, 1)],
        Some(f) => parse_fields(f)
            .ok_or_else(|| CmdError::new(1, format!("invalid field value {}", gnu_quote(f))))?,
    };
    let delim = match p.value("delimiter") {
        None => None,
        Some(d) if d.len() == 1 => d.bytes().next(),
        Some(d) => {
            return Err(CmdError::new(
                1,
                format!("the delimiter must be a single character: {}", gnu_quote(d)),
            ));
        }
    };
    let invalid = match p.value("invalid").unwrap_or("abort") {
        "abort" => Invalid::Abort,
        "fail" => Invalid::Fail,
        "warn" => Invalid::Warn,
        "ignore" => Invalid::Ignore,
        v => {
            return Err(CmdError::usage(format!(
                "invalid argument {} for {}\nValid arguments are:\n  - ‘abort’\n  - ‘fail’\n  - ‘warn’\n  - ‘ignore’",
                gnu_quote(v),
                gnu_quote("--invalid")
            )));
        }
    };
    let eol = if p.has("zero-terminated") { 0u8 } else { b'\n' };
    let mut header: usize = if p.has("header") {
        match p.value("header") {
            None => 1,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(CmdError::new(
                        1,
                        format!("invalid header value {}", gnu_quote(v)),
                    ));
                }
            },
        }
    } else {
        0
    };
    let mut run = Run {
        fmt,
        fields,
        delim,
        invalid,
        failed: false,
    };
    if !p.operands.is_empty() {
        for op in &p.operands {
            let line = run.line(ctx, op).await?;
            let mut b = bytestr::encode(&line).into_owned();
            b.push(eol);
            ctx.stdout.write(&b).await?;
        }
    } else {
        let input = std::mem::replace(&mut ctx.stdin, Input::empty());
        let mut rd = RecordReader::new(input.into_source(), eol);
        while let Some(rec) = rd
            .next_record()
            .await
            .map_err(|e| CmdError::new(2, e.message().to_string()))?
        {
            let body = rec.strip_suffix(&[eol]).unwrap_or(&rec);
            if header > 0 {
                header -= 1;
                ctx.stdout.write(&rec).await?;
                if rec.last() != Some(&eol) {
                    ctx.stdout.write(&[eol]).await?;
                }
                continue;
            }
            let text = bytestr::decode(body).into_owned();
            let line = run.line(ctx, &text).await?;
            let mut b = bytestr::encode(&line).into_owned();
            b.push(eol);
            ctx.stdout.write(&b).await?;
        }
    }
    Ok(if run.failed { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(to: Scale) -> Fmt {
        Fmt {
            from: Scale::None,
            to,
            from_unit: 1.0,
            to_unit: 1.0,
            round: Round::FromZero,
            suffix: String::new(),
            padding: 0,
            format: None,
        }
    }

    #[test]
    fn human_as_gnu() {
        let iec = f(Scale::Iec);
        let got: Vec<String> = ["1024", "1536", "1048576", "999", "10239", "9999", "1.5"]
            .iter()
            .map(|n| iec.convert(n).unwrap())
            .collect();
        assert_eq!(got, ["1.0K", "1.5K", "1.0M", "999", "10K", "9.8K", "2"]);
        assert_eq!(f(Scale::Si).convert("2500000").unwrap(), "2.5M");
        assert_eq!(f(Scale::IecI).convert("2048").unwrap(), "2.0Ki");
        assert_eq!(parse_number("4K", Scale::Iec).unwrap().0, 4096.0);
        assert_eq!(
            parse_number("4Kx", Scale::Auto).unwrap_err(),
            "invalid suffix in input ‘4Kx’: ‘x’"
        );
        assert_eq!(f(Scale::None).convert("1.50").unwrap(), "1.50");
    }
}
