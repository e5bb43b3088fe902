//! `mirage-awk`: an awk interpreter for Mirage — POSIX awk with the gawk
//! extensions agents use (`-v`, regex `FS`, `PROCINFO["sorted_in"]`,
//! `gensub`, `asort`, `length(arr)`, …), with gawk 5.2's number and string
//! rules (strnums, `CONVFMT`/`OFMT` `%.6g`, integers printed as integers).
//!
//! All input and output goes through the [`Io`] trait the caller provides:
//! the interpreter never opens a host file or starts a host process.
//! Regexes are POSIX EREs by `mirage-regex`; `printf` conversions by
//! `mirage-format`.

#![deny(missing_docs)]

pub mod interp;
pub mod lexer;
pub mod parser;
pub mod value;

pub use interp::{Fatal, Interp, Io, Stream, WriteError};

/// Lexes and parses an awk program. The error is gawk's wording
/// (`syntax error`) with the line number.
///
/// # Errors
/// A syntax error.
pub fn compile(src: &str) -> Result<parser::Program, parser::ParseError> {
    compile_with_warnings(src).map(|(p, _)| p)
}

/// As [`compile`], also returning gawk's parse-time warnings (line, message).
///
/// # Errors
/// A syntax error.
pub fn compile_with_warnings(
    src: &str,
) -> Result<(parser::Program, Vec<(usize, String)>), parser::ParseError> {
    let toks = lexer::lex(src).map_err(|(msg, line, col)| parser::ParseError { msg, line, col })?;
    let warnings = lexer::take_warnings();
    parser::parse(toks).map(|p| (p, warnings))
}
