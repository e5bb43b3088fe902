//! The `printf` builtin's formatting: a thin layer over the shared engine
//! in `mirage-format` (bash 5.2 `printf`, C conversions, `%b`, `%q`,
//! `%(…)T` over jiff), with the shell's output limit.

pub use mirage_format::Printed;

/// Expands backslash escapes of `echo -e` / `%b` (`\c` stops; `\0NNN` octal).
/// Returns the bytes and whether `\c` was seen.
pub fn escapes(s: &str, echo_style: bool) -> (Vec<u8>, bool) {
    mirage_format::escape::escapes(&mirage_types::bytestr::encode(s), echo_style)
}

/// Formats `fmt` with `args` as bash's `printf` (`%(…)T` in the host's zone).
pub fn printf(fmt: &str, args: &[String]) -> Printed {
    printf_tz(fmt, args, None)
}

/// As [`printf`], with the value of the shell's exported `TZ` (`None`:
/// unset) for `%(…)T`.
pub fn printf_tz(fmt: &str, args: &[String], tz: Option<&str>) -> Printed {
    let opts = mirage_format::PrintfOptions {
        limit: crate::state::Limits::default().max_value_bytes,
        tz: tz.map(str::to_string),
        start_time: None,
    };
    mirage_format::printf(fmt, args, &opts)
}

/// As [`printf`], but the output may hold at most `limit` bytes: a width or
/// precision that would pass it (`%*s 2000000000`, `%.9999999999f`), or
/// output that grows past it, stops printf with an error before anything
/// is allocated for it. (bash hands such widths to libc, which writes up to
/// 2 GiB or fails; `*` arguments beyond `int` are clamped, as bash does.)
pub fn printf_limited(fmt: &str, args: &[String], limit: usize) -> Printed {
    let opts = mirage_format::PrintfOptions {
        limit,
        ..mirage_format::PrintfOptions::default()
    };
    mirage_format::printf(fmt, args, &opts)
}

/// Shell-quotes `s` as bash's `printf %q`.
pub fn shell_quote(s: &str) -> String {
    mirage_types::bytestr::decode_owned(mirage_format::quote::shell_quote(
        &mirage_types::bytestr::encode(s),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(f: &str, a: &[&str]) -> String {
        let args: Vec<String> = a.iter().map(std::string::ToString::to_string).collect();
        String::from_utf8(printf_tz(f, &args, Some("UTC")).out).unwrap()
    }

    #[test]
    fn formats_through_the_engine() {
        assert_eq!(pf("%s-%s\\n", &["a", "b", "c"]), "a-b\nc-\n");
        assert_eq!(pf("%.2f", &["2.355"]), "2.36");
        assert_eq!(pf("%(%Y-%m-%d %H:%M:%S)T", &["0"]), "1970-01-01 00:00:00");
        assert_eq!(shell_quote("a b"), "a\\ b");
        assert_eq!(escapes("a\\tb\\cz", true), (b"a\tb".to_vec(), true));
    }

    #[test]
    fn limited() {
        let p = printf_limited("%*s", &["2000000000".into(), "x".into()], 1000);
        assert!(p.out.is_empty() && !p.errors.is_empty());
    }
}
