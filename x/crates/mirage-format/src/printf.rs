//! bash 5.2's `printf` builtin: the format is parsed once and reused until
//! the arguments run out; `%b` expands escapes in its argument, `%q`
//! quotes it, `%(fmt)T` formats a time, `*` takes a width or precision
//! from the arguments, and numeric arguments follow [`crate::args`].
//!
//! Arguments are shell values in `mirage_types::bytestr`'s escape form;
//! the text conversions work on their bytes and the output is bytes.

use crate::args::{Converted, to_floatmax, to_intmax, to_uintmax};
use crate::escape::escapes;
use crate::number::{format_float_decimal, format_int, format_str, format_uint};
use crate::quote::shell_quote;
use crate::spec::{Count, Directive, Format, Piece};
use crate::time::{Zone, strftime};

/// How to run [`printf`].
#[derive(Debug, Clone)]
pub struct PrintfOptions {
    /// The most bytes the output may hold: a width or precision that would
    /// pass it, or output that grows past it, stops printf with an error
    /// before anything is allocated for it.
    pub limit: usize,
    /// The value of `TZ` for `%(…)T` (`None`: unset, the host's zone).
    pub tz: Option<String>,
    /// Unix time of the shell's start, for `%(…)T` of `-2` (default: now).
    pub start_time: Option<i64>,
}

impl Default for PrintfOptions {
    fn default() -> Self {
        PrintfOptions {
            limit: 64 << 20,
            tz: None,
            start_time: None,
        }
    }
}

/// The formatted bytes, plus messages.
#[derive(Debug, Clone, Default)]
pub struct Printed {
    /// The output.
    pub out: Vec<u8>,
    /// bash's error messages without the `bash: printf: ` prefix
    /// (`X: invalid number`, `` `y': invalid format character``); any of
    /// them makes the exit status 1.
    pub errors: Vec<String>,
    /// Warnings (`warning: X: Numerical result out of range`): printed, but
    /// the exit status stays 0.
    pub warnings: Vec<String>,
    /// Set when `\c` in a `%b` argument or an error stopped the output.
    pub stopped: bool,
}

/// The arguments and where the next one is.
struct Args<'a> {
    list: &'a [String],
    next: usize,
}

impl<'a> Args<'a> {
    fn take(&mut self) -> Option<&'a str> {
        let a = self.list.get(self.next).map(String::as_str);
        if a.is_some() {
            self.next += 1;
        }
        a
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// bash's `strftime` buffer: a result that does not fit 128 bytes with its
/// NUL prints nothing.
const TIME_BUFFER: usize = 128;

/// Formats `fmt` with `args` as bash's `printf` (see the module docs).
#[must_use]
pub fn printf(fmt: &str, args: &[String], opts: &PrintfOptions) -> Printed {
    let format = Format::parse(fmt);
    let mut run = Run {
        p: Printed::default(),
        args: Args {
            list: args,
            next: 0,
        },
        opts,
        zone: None,
    };
    loop {
        let before = run.args.next;
        if run.once(&format) {
            run.p.stopped = true;
            break;
        }
        if run.args.next >= args.len() || run.args.next == before {
            break;
        }
    }
    run.p
}

struct Run<'a> {
    p: Printed,
    args: Args<'a>,
    opts: &'a PrintfOptions,
    zone: Option<Zone>,
}

impl Run<'_> {
    fn note<T>(&mut self, arg: &str, c: Converted<T>) -> T {
        if let Some(problem) = c.problem {
            let msg = problem.message(arg);
            if problem.is_error() {
                self.p.errors.push(msg);
            } else {
                self.p.warnings.push(msg);
            }
        }
        c.value
    }

    fn int_arg(&mut self) -> i64 {
        let a = self.args.take().unwrap_or("");
        let c = to_intmax(a);
        self.note(a, c)
    }

    fn limit_error(&mut self) -> bool {
        self.p.errors.push(format!(
            "output would exceed the limit of {} bytes",
            self.opts.limit
        ));
        true
    }

    /// Formats the whole format once; true when the output stops.
    fn once(&mut self, format: &Format) -> bool {
        for piece in &format.pieces {
            match piece {
                Piece::Literal(l) => self.p.out.extend_from_slice(l),
                Piece::Error(e) => {
                    self.p.errors.push(e.clone());
                    return true;
                }
                Piece::Directive(d) => {
                    if self.directive(d) {
                        return true;
                    }
                }
            }
            if self.p.out.len() > self.opts.limit {
                return self.limit_error();
            }
        }
        false
    }

    fn directive(&mut self, d: &Directive) -> bool {
        let width = match d.width {
            Some(Count::Next) => Some(
                self.int_arg()
                    .clamp(i64::from(i32::MIN), i64::from(i32::MAX)),
            ),
            _ => None,
        };
        let precision = match d.precision {
            Some(Count::Next) => Some(self.int_arg().clamp(-1, i64::from(i32::MAX))),
            _ => None,
        };
        let spec = d.resolve(width, precision);
        // the bytes this conversion may produce beyond its argument: stop
        // before allocating padding or digits past the output limit
        let grows = if matches!(spec.conv, 's' | 'b' | 'q' | 'c' | 'T') {
            spec.width
        } else {
            spec.width.max(spec.precision.unwrap_or(0))
        };
        if grows > self.opts.limit.saturating_sub(self.p.out.len()) {
            return self.limit_error();
        }
        let text: Vec<u8> = match spec.conv {
            's' => {
                let a = self.args.take().unwrap_or("");
                format_str(&spec, &bytes(a))
            }
            'b' => {
                let a = self.args.take().unwrap_or("");
                let (b, stop) = escapes(&bytes(a), true);
                self.p.out.extend_from_slice(&format_str(&spec, &b));
                return stop;
            }
            'q' => {
                let a = self.args.take().unwrap_or("");
                format_str(&spec, &shell_quote(&bytes(a)))
            }
            'c' => {
                let a = bytes(self.args.take().unwrap_or(""));
                let spec = crate::spec::Spec {
                    precision: None,
                    ..spec
                };
                format_str(&spec, &a[..a.len().min(1)])
            }
            'd' | 'i' => {
                let v = self.int_arg();
                format_int(&spec, i128::from(v)).into_bytes()
            }
            'u' | 'o' | 'x' | 'X' => {
                let a = self.args.take().unwrap_or("");
                let c = to_uintmax(a);
                let v = self.note(a, c);
                format_uint(&spec, u128::from(v)).into_bytes()
            }
            'T' => {
                let secs = match self.args.take() {
                    None => -1,
                    Some(a) => {
                        let c = to_intmax(a);
                        self.note(a, c)
                    }
                };
                let secs = match secs {
                    -1 => now(),
                    -2 => self.opts.start_time.unwrap_or_else(now),
                    s => s,
                };
                let tf = match d.time_format.as_deref() {
                    None | Some("") => "%X",
                    Some(f) => f,
                };
                let zone = self
                    .zone
                    .get_or_insert_with(|| Zone::from_tz(self.opts.tz.as_deref()));
                let t = strftime(tf, secs, zone).unwrap_or_default();
                let t = if t.len() >= TIME_BUFFER { "" } else { &t };
                format_str(&spec, t.as_bytes())
            }
            _ => {
                // the float conversions (the parser admits no other letter)
                let a = self.args.take().unwrap_or("0");
                let c = to_floatmax(a);
                let v = self.note(a, c);
                format_float_decimal(&spec, a, v).into_bytes()
            }
        };
        self.p.out.extend_from_slice(&text);
        false
    }
}

/// The bytes of a shell value (its `bytestr` escape form undone).
fn bytes(s: &str) -> Vec<u8> {
    mirage_types::bytestr::encode(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(f: &str, a: &[&str]) -> String {
        let args: Vec<String> = a.iter().map(std::string::ToString::to_string).collect();
        let opts = PrintfOptions {
            tz: Some("UTC".into()),
            ..PrintfOptions::default()
        };
        String::from_utf8(printf(f, &args, &opts).out).unwrap()
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
        assert_eq!(
            pf("%10(%Y)T|%-6(%Y)T|%.2(%Y)T", &["0", "0", "0"]),
            "      1970|1970  |19"
        );
        assert_eq!(pf("[%()T]", &["0"]), "[00:00:00]");
        assert_eq!(pf("\\%d|\\c|\\q", &["1"]), "\\1|\\c|\\q");
        assert_eq!(pf("%a", &["1"]), "0x8p-3");
        assert_eq!(pf("%u", &["-5"]), "18446744073709551611");
    }

    #[test]
    fn errors_and_warnings() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let o = PrintfOptions::default();
        let p = printf("a%y|b", &args(&[]), &o);
        assert_eq!(
            (p.out, p.errors),
            (
                b"a".to_vec(),
                vec!["`y': invalid format character".to_string()]
            )
        );
        let p = printf("%d", &args(&["9223372036854775808"]), &o);
        assert!(p.errors.is_empty());
        assert_eq!(p.out, b"9223372036854775807");
        assert_eq!(p.warnings.len(), 1);
        let p = printf("%d|%d", &args(&["08", "x"]), &o);
        assert_eq!(
            p.errors,
            vec![
                "08: invalid octal number".to_string(),
                "x: invalid number".to_string()
            ]
        );
        let p = printf(
            "%(%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y)T|",
            &args(&["0"]),
            &o,
        );
        assert_eq!(p.out, b"|");
    }

    #[test]
    fn limits() {
        let o = PrintfOptions {
            limit: 1000,
            ..PrintfOptions::default()
        };
        let p = printf("%*s", &["2000000000".to_string(), "x".to_string()], &o);
        assert!(p.out.is_empty() && p.stopped);
        let p = printf("%.9999999999f", &["1".to_string()], &o);
        assert!(p.out.is_empty() && p.stopped);
    }
}
