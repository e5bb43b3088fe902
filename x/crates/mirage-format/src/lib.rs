//! Mirage's one printf and number-formatting engine, shared by the shell's
//! `printf` builtin, `seq`, and later `awk`, `find -printf` and `date`.
//!
//! - [`spec`]: a parsed format ([`Format::parse`]) made of literal bytes and
//!   [`Directive`]s; a resolved conversion [`Spec`] (flags, width, precision,
//!   letter).
//! - [`number`]: one value by one conversion, as C `printf(3)` on glibc:
//!   [`format_int`], [`format_uint`], [`format_float`], [`format_str`].
//! - [`args`]: GNU's argument conversion rules (bash's `getintmax`,
//!   `getuintmax`, `getfloatmax`: `'c` is the character's code, `0x`/`0`
//!   prefixes, invalid-number and out-of-range diagnostics).
//! - [`escape`]: backslash escapes of a printf format and of `%b`/`echo -e`.
//! - [`quote`]: `printf %q` shell quoting.
//! - [`printf()`]: bash 5.2's `printf` builtin (the format is reused until the
//!   arguments run out).
//! - [`time`]: `strftime` with glibc's conversions over `jiff`, and `TZ`
//!   resolution as glibc does it.
#![deny(missing_docs)]

pub mod args;
pub mod escape;
pub mod number;
pub mod printf;
pub mod quote;
pub mod spec;
pub mod time;

pub use number::{format_float, format_float_decimal, format_int, format_str, format_uint};
pub use printf::{Printed, PrintfOptions, printf};
pub use spec::{Count, Directive, Flags, Format, Piece, Spec};
pub use time::{Zone, strftime};
