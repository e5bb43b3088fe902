//! `seq`: print a sequence of numbers, as GNU coreutils 9.1 `seq`
//! (`FIRST [INCREMENT] LAST`, `-s SEP`, `-w`, `-f FORMAT`, negative
//! operands, the default `%.Nf` precision taken from FIRST and INCREMENT).
//! Decimal operands step exactly (scaled integers), so `seq 0 0.1 1` ends
//! at `1.0` as GNU's long double arithmetic does.

use mirage_format::{Flags, Spec, format_float};
use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};

use crate::util::parse_args;

const OPTS: &[OptSpec] = &[
    OptSpec::value("format", Some('f'), Some("format")),
    OptSpec::value("separator", Some('s'), Some("separator")),
    OptSpec::flag("equal-width", Some('w'), Some("equal-width")),
];

/// The spec of `seq` (options stop at the first operand, as GNU's `+` getopt).
pub static SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    ..CommandSpec::new("seq", OPTS, PathOperands::None)
};

crate::register_command!("seq", SPEC, run);

/// A parsed operand (GNU `scan_arg`).
#[derive(Debug, Clone, PartialEq)]
struct Operand {
    value: f64,
    /// Digits after the point (adjusted for an exponent); `None` = `%g`.
    precision: Option<usize>,
    /// Printed width for `-w`.
    width: usize,
    /// The exact value as `mantissa / 10^scale`, for plain decimals.
    exact: Option<(i128, u32)>,
}

/// Parses an operand; `None` when it is not a number (or is NaN).
fn scan_arg(arg: &str) -> Option<Operand> {
    let t = arg.trim_start();
    let value: f64 = t.parse().ok()?;
    if value.is_nan() {
        return None;
    }
    let s = t.strip_prefix('+').unwrap_or(t);
    let mut width = s.len() as i64;
    let mut precision: Option<i64> = None;
    if value.is_finite() && !s.contains(['x', 'X']) {
        let dot = s.find('.');
        let mut fraction_len = 0i64;
        match dot {
            None => precision = Some(0),
            Some(d) => {
                let after = &s[d + 1..];
                fraction_len = after.find(['e', 'E']).unwrap_or(after.len()) as i64;
                precision = Some(fraction_len);
                let before_digit = d > 0 && s.as_bytes()[d - 1].is_ascii_digit();
                width += if fraction_len == 0 {
                    -1
                } else if !before_digit {
                    1
                } else {
                    0
                };
            }
        }
        if let Some(e) = s.find(['e', 'E']) {
            let exponent: i64 = s[e + 1..].parse().unwrap_or(0);
            let mut prec = precision.unwrap_or(0);
            prec += if exponent < 0 {
                -exponent
            } else {
                -(prec.min(exponent))
            };
            width -= (s.len() - e) as i64;
            let mut exp = exponent;
            if exponent < 0 {
                match dot {
                    Some(d) if e == d + 1 => width += 1,
                    Some(_) => {}
                    None => width += 1,
                }
                exp = -exponent;
            } else {
                if dot.is_some() && prec == 0 && fraction_len > 0 {
                    width -= 1;
                }
                exp = -(prec.min(exp));
            }
            width += exp;
            precision = Some(prec);
        }
    }
    let exact = exact_decimal(s);
    Some(Operand {
        value,
        precision: precision.map(|p| p.max(0) as usize),
        width: width.max(0) as usize,
        exact,
    })
}

/// `mantissa / 10^scale` for a plain decimal (`-12.50`), if it fits.
fn exact_decimal(s: &str) -> Option<(i128, u32)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) || frac.len() > 30 {
        return None;
    }
    let digits = format!("{int}{frac}");
    let m: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some((if neg { -m } else { m }, frac.len() as u32))
}

/// Rescales `(m, s)` to `scale` (≥ s).
fn rescale(v: (i128, u32), scale: u32) -> Option<i128> {
    v.0.checked_mul(10i128.checked_pow(scale - v.1)?)
}

/// Prints the scaled value `v / 10^scale` with `prec` fraction digits
/// (exact: `v` is a multiple of `10^(scale-prec)`), zero-padded to `width`.
fn format_fixed(v: i128, scale: u32, prec: u32, width: usize) -> String {
    let neg = v < 0;
    let mag = v.unsigned_abs() / 10u128.pow(scale - prec);
    let p = 10u128.pow(prec);
    let int = mag / p;
    let frac = mag % p;
    let body = if prec == 0 {
        format!("{int}")
    } else {
        format!("{int}.{frac:0w$}", w = prec as usize)
    };
    let sign = if neg { "-" } else { "" };
    let pad = width.saturating_sub(body.len() + sign.len());
    format!("{sign}{}{body}", "0".repeat(pad))
}

/// A `-f` format: text before, the conversion, text after.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Format {
    prefix: String,
    conv: Spec,
    suffix: String,
}

/// Parses a `-f` FORMAT; the error is GNU's message.
fn parse_format(fmt: &str) -> Result<Format, String> {
    let b: Vec<char> = fmt.chars().collect();
    let mut prefix = String::new();
    let mut i = 0;
    let mut found: Option<(Spec, usize)> = None;
    while i < b.len() {
        if b[i] != '%' {
            prefix.push(b[i]);
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&'%') {
            prefix.push('%');
            i += 2;
            continue;
        }
        let mut c = Spec::default();
        let mut j = i + 1;
        while let Some(&f) = b.get(j) {
            match f {
                '-' => c.flags.left = true,
                '+' => c.flags.plus = true,
                ' ' => c.flags.space = true,
                '#' => c.flags.alt = true,
                '0' => c.flags.zero = true,
                '\'' => c.flags.grouping = true,
                _ => break,
            }
            j += 1;
        }
        let mut w = String::new();
        while let Some(&d) = b.get(j).filter(|d| d.is_ascii_digit()) {
            w.push(d);
            j += 1;
        }
        c.width = w.parse().unwrap_or(0);
        if b.get(j) == Some(&'.') {
            j += 1;
            let mut p = String::new();
            while let Some(&d) = b.get(j).filter(|d| d.is_ascii_digit()) {
                p.push(d);
                j += 1;
            }
            c.precision = Some(p.parse().unwrap_or(0));
        }
        match b.get(j) {
            Some(&l) if "efgaEFGA".contains(l) => {
                c.conv = l;
                found = Some((c, j + 1));
            }
            Some(&l) => return Err(format!("format '{fmt}' has unknown %{l} directive")),
            None => return Err(format!("format '{fmt}' ends in %")),
        }
        break;
    }
    let Some((conv, rest)) = found else {
        return Err(format!("format '{fmt}' has no % directive"));
    };
    let mut suffix = String::new();
    let mut k = rest;
    while k < b.len() {
        if b[k] == '%' {
            if b.get(k + 1) == Some(&'%') {
                suffix.push('%');
                k += 2;
                continue;
            }
            return Err(format!("format '{fmt}' has too many % directives"));
        }
        suffix.push(b[k]);
        k += 1;
    }
    Ok(Format {
        prefix,
        conv,
        suffix,
    })
}

/// Splits the arguments where GNU's `+` getopt stops: at the first operand
/// or at a negative number (`seq -3 -1`).
fn option_end(args: &[String]) -> usize {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            return i + 1;
        }
        let bytes = a.as_bytes();
        if bytes.len() < 2 || bytes[0] != b'-' {
            return i;
        }
        if bytes[1] == b'.' || bytes[1].is_ascii_digit() {
            return i;
        }
        if let Some(long) = a.strip_prefix("--") {
            let takes_value = ["format", "separator"]
                .iter()
                .any(|l| !long.is_empty() && l.starts_with(long));
            i += if takes_value && !long.contains('=') {
                2
            } else {
                1
            };
            continue;
        }
        let mut next = 1;
        for (pos, c) in a[1..].char_indices() {
            if c == 'f' || c == 's' {
                if pos + 1 == a.len() - 1 {
                    next = 2;
                }
                break;
            }
        }
        i += next;
    }
    args.len()
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let end = option_end(&ctx.args).min(ctx.args.len());
        let rest = ctx.args.split_off(end);
        let parsed = parse_args(ctx, &SPEC).await;
        ctx.args.extend(rest.iter().cloned());
        let mut p = match parsed {
            Ok(p) => p,
            Err(code) => return code,
        };
        p.operands.extend(rest);
        let ops = &p.operands;
        if ops.is_empty() {
            return crate::util::usage_error(ctx, "missing operand", 1).await;
        }
        if ops.len() > 3 {
            return crate::util::usage_error(ctx, &format!("extra operand '{}'", ops[3]), 1).await;
        }
        let mut nums = Vec::new();
        for o in ops {
            match scan_arg(o) {
                Some(n) => nums.push(n),
                None => {
                    return crate::util::usage_error(
                        ctx,
                        &format!("invalid floating point argument: '{o}'"),
                        1,
                    )
                    .await;
                }
            }
        }
        let one = || scan_arg("1");
        let (first, step, last) = match nums.len() {
            1 => (one(), one(), Some(nums[0].clone())),
            2 => (Some(nums[0].clone()), one(), Some(nums[1].clone())),
            _ => (
                Some(nums[0].clone()),
                Some(nums[1].clone()),
                Some(nums[2].clone()),
            ),
        };
        let (Some(first), Some(step), Some(last)) = (first, step, last) else {
            return 1;
        };
        if step.value == 0.0 {
            return crate::util::usage_error(
                ctx,
                &format!("invalid Zero increment value: '{}'", ops[1]),
                1,
            )
            .await;
        }
        let sep = p.value("separator").unwrap_or("\n").to_string();
        let equal = p.has("equal-width");
        let format = match p.value("format") {
            Some(f) => {
                if equal {
                    return crate::util::usage_error(
                        ctx,
                        "format string may not be specified when printing equal width strings",
                        1,
                    )
                    .await;
                }
                match parse_format(f) {
                    Ok(fm) => Some(fm),
                    Err(msg) => {
                        ctx.error(msg).await;
                        return 1;
                    }
                }
            }
            None => None,
        };
        // Default format (GNU get_default_format).
        let prec = match (first.precision, step.precision, last.precision) {
            (Some(a), Some(b), Some(_)) => Some(a.max(b)),
            _ => None,
        };
        let width = if equal {
            prec.map(|pr| {
                let (fp, lp) = (first.precision.unwrap_or(0), last.precision.unwrap_or(0));
                let fw = first.width + (pr - fp) + usize::from(fp == 0 && pr > 0);
                let mut lw = (last.width + pr).saturating_sub(lp);
                if lp > 0 && pr == 0 {
                    lw = lw.saturating_sub(1);
                }
                if lp == 0 && pr > 0 {
                    lw += 1;
                }
                fw.max(lw)
            })
        } else {
            None
        };
        let mut out = String::new();
        let mut printed = false;
        macro_rules! emit {
            ($s:expr) => {{
                if printed {
                    out.push_str(&sep);
                }
                printed = true;
                out.push_str(&$s);
                if out.len() >= 32 * 1024 {
                    if let Err(e) = ctx.stdout.write_str(&out).await {
                        if e.kind == ErrorKind::BrokenPipe {
                            return 0;
                        }
                    }
                    out.clear();
                }
            }};
        }
        let render = |v: f64| -> String {
            match (&format, prec) {
                (Some(f), _) => format!("{}{}{}", f.prefix, format_float(&f.conv, v), f.suffix),
                (None, Some(pr)) => {
                    let c = Spec {
                        precision: Some(pr),
                        width: width.unwrap_or(0),
                        flags: Flags {
                            zero: width.is_some(),
                            ..Flags::default()
                        },
                        ..Spec::new('f')
                    };
                    format_float(&c, v)
                }
                (None, None) => format_float(&Spec::new('g'), v),
            }
        };
        let exact = match (first.exact, step.exact, last.exact) {
            (Some(a), Some(b), Some(c)) => {
                let scale = a.1.max(b.1).max(c.1);
                match (rescale(a, scale), rescale(b, scale), rescale(c, scale)) {
                    (Some(x), Some(y), Some(z)) => Some((x, y, z, scale)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((f, s, l, scale)) = exact {
            let mut x = f;
            loop {
                if (s > 0 && x > l) || (s < 0 && x < l) {
                    break;
                }
                let text = match (&format, prec) {
                    (None, Some(pr)) if (pr as u32) <= scale => {
                        format_fixed(x, scale, pr as u32, width.unwrap_or(0))
                    }
                    _ => render(x as f64 / 10f64.powi(scale as i32)),
                };
                emit!(text);
                match x.checked_add(s) {
                    Some(n) => x = n,
                    None => break,
                }
            }
        } else {
            let (f, s, l) = (first.value, step.value, last.value);
            let mut i: f64 = 0.0;
            loop {
                let x = f + i * s;
                if (s > 0.0 && x > l) || (s < 0.0 && x < l) {
                    break;
                }
                emit!(render(x));
                i += 1.0;
                if !x.is_finite() && printed && (f + i * s) == x {
                    // An infinite FIRST would print forever; GNU does too, but stop at once here.
                    break;
                }
            }
        }
        if printed {
            out.push('\n');
        }
        let _ = ctx.stdout.write_str(&out).await;
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(std::string::ToString::to_string).collect()
    }

    fn g(spec: &str, x: f64) -> String {
        parse_format(spec)
            .map(|f| format!("{}{}{}", f.prefix, format_float(&f.conv, x), f.suffix))
            .unwrap_or_default()
    }

    #[test]
    fn operands() {
        let o = scan_arg("1.25").unwrap();
        assert_eq!(
            (o.precision, o.width, o.exact),
            (Some(2), 4, Some((125, 2)))
        );
        let o = scan_arg("-3").unwrap();
        assert_eq!((o.precision, o.width), (Some(0), 2));
        assert_eq!(scan_arg(".5").map(|o| o.width), Some(3));
        assert_eq!(scan_arg("1e2").map(|o| o.precision), Some(Some(0)));
        assert!(scan_arg("abc").is_none());
        assert!(scan_arg("nan").is_none());
    }

    #[test]
    fn printf_formats() {
        // seq's own part: one directive with literal text (and %%) around
        // it; the conversions themselves are mirage-format's (tested there).
        assert_eq!(g("item-%g", 2.0), "item-2");
        assert_eq!(g("%.2f%%", 1.5), "1.50%");
        assert_eq!(g("<%03g>", 3.0), "<003>");
        assert!(
            parse_format("%d")
                .unwrap_err()
                .contains("unknown %d directive")
        );
        assert!(parse_format("abc").unwrap_err().contains("no % directive"));
        assert!(parse_format("%g %g").unwrap_err().contains("too many"));
    }

    #[test]
    fn fixed_and_options() {
        assert_eq!(format_fixed(10, 1, 1, 0), "1.0");
        assert_eq!(format_fixed(125, 2, 2, 0), "1.25");
        assert_eq!(format_fixed(-5, 0, 0, 3), "-05");
        assert_eq!(format_fixed(8, 0, 0, 2), "08");
        assert_eq!(option_end(&v(&["-s", ",", "5"])), 2);
        assert_eq!(option_end(&v(&["-3", "-1"])), 0);
        assert_eq!(option_end(&v(&["-w", "-2", "2"])), 1);
        assert_eq!(option_end(&v(&["-s,", "-f", "%g", "1"])), 3);
        assert_eq!(option_end(&v(&["--", "-2", "2"])), 1);
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["5"], "", "1\n2\n3\n4\n5\n", 0),
            (&["3", "6"], "", "3\n4\n5\n6\n", 0),
            (&["2", "3", "11"], "", "2\n5\n8\n11\n", 0),
            (&["5", "-2", "0"], "", "5\n3\n1\n", 0),
            (&["-s,", "5"], "", "1,2,3,4,5\n", 0),
            (&["-s", " ", "3"], "", "1 2 3\n", 0),
            (&["-w", "8", "11"], "", "08\n09\n10\n11\n", 0),
            (&["-f", "%03g", "3"], "", "001\n002\n003\n", 0),
            (&["-f", "item-%g", "2"], "", "item-1\nitem-2\n", 0),
            (&["0.5", "0.5", "2"], "", "0.5\n1.0\n1.5\n2.0\n", 0),
            (&["1", "0.25", "1.5"], "", "1.00\n1.25\n1.50\n", 0),
            (&["5", "1"], "", "", 0),
            (&["-3", "-1"], "", "-3\n-2\n-1\n", 0),
            (&["--", "-2", "2"], "", "-2\n-1\n0\n1\n2\n", 0),
            (
                &["0", "0.1", "1"],
                "",
                "0.0\n0.1\n0.2\n0.3\n0.4\n0.5\n0.6\n0.7\n0.8\n0.9\n1.0\n",
                0,
            ),
            (&["-w", "-1", "1"], "", "-1\n00\n01\n", 0),
            (&["1", "0", "3"], "", "", 1),
            (&["x"], "", "", 1),
            (&[], "", "", 1),
            (&["1", "2", "3", "4"], "", "", 1),
            (&["-f", "%d", "3"], "", "", 1),
            (&["1e2", "1e2"], "", "100\n", 0),
            (&["-w", "1", "0.5", "2"], "", "1.0\n1.5\n2.0\n", 0),
            (&["-f", "%.2f", "1", "3"], "", "1.00\n2.00\n3.00\n", 0),
            (&["10", "-3", "1"], "", "10\n7\n4\n1\n", 0),
            (&["1.0", "3"], "", "1.0\n2.0\n3.0\n", 0),
            (&["-s", "", "3"], "", "123\n", 0),
            (
                &["-w", "0.9", "0.05", "1.1"],
                "",
                "0.90\n0.95\n1.00\n1.05\n1.10\n",
                0,
            ),
            (&["1000000", "1000001"], "", "1000000\n1000001\n", 0),
            (
                &["-f", "%e", "1", "2"],
                "",
                "1.000000e+00\n2.000000e+00\n",
                0,
            ),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "seq", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["1", ".5", "3"], "", "1.0\n1.5\n2.0\n2.5\n3.0\n", 0),
            (&["-f", "%5.1f", "1", "3"], "", "  1.0\n  2.0\n  3.0\n", 0),
            (&[".1", ".1", ".5"], "", "0.1\n0.2\n0.3\n0.4\n0.5\n", 0),
            (
                &["-w", "1", "10"],
                "",
                "01\n02\n03\n04\n05\n06\n07\n08\n09\n10\n",
                0,
            ),
            (
                &["-w", "5", "-1", "-5"],
                "",
                "05\n04\n03\n02\n01\n00\n-1\n-2\n-3\n-4\n-5\n",
                0,
            ),
            (
                &["0.1", "0.01", "0.15"],
                "",
                "0.10\n0.11\n0.12\n0.13\n0.14\n0.15\n",
                0,
            ),
            (&["-s", "\\n", "3"], "", "1\\n2\\n3\n", 0),
            (
                &["1e1", "2e1"],
                "",
                "10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
                0,
            ),
            (&["-f", "%g", "0.1", "0.1", "0.3"], "", "0.1\n0.2\n0.3\n", 0),
            (&["-f", "%%%g%%", "2"], "", "%1%\n%2%\n", 0),
            (&["1", "-1"], "", "", 0),
            (&["-1"], "", "", 0),
            (&["--separator=:", "3"], "", "1:2:3\n", 0),
            (&["-w", "-s,", "9", "11"], "", "09,10,11\n", 0),
            (&["1.5"], "", "1\n", 0),
            (&["2", "2"], "", "2\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "seq", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
