//! Parsed formats and conversion specifications.
//!
//! A [`Format`] is a printf format split into [`Piece`]s once, so a driver
//! that reuses the format (bash's `printf` does, until its arguments run
//! out) parses it a single time. A [`Directive`] is one `%…` conversion as
//! written (its width or precision may be `*`, taken from the arguments);
//! a [`Spec`] is the same conversion with numbers filled in, which is what
//! the formatting functions of [`crate::number`] take.

use crate::escape::format_escape;

/// The flag characters of a conversion (`-+ #0'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct Flags {
    /// `-`: pad on the right.
    pub left: bool,
    /// `+`: always print a sign for signed conversions.
    pub plus: bool,
    /// ` `: a space where a `+` sign would go.
    pub space: bool,
    /// `#`: the alternate form (`0x` prefix, kept decimal point, …).
    pub alt: bool,
    /// `0`: pad numbers with zeros after the sign.
    pub zero: bool,
    /// `'`: thousands grouping (no effect in the C locale, as glibc).
    pub grouping: bool,
}

/// A width or precision as written in a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Digits in the format.
    Fixed(usize),
    /// `*`: the next argument.
    Next,
}

/// One `%…` conversion as written in a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The flags.
    pub flags: Flags,
    /// The field width, if any.
    pub width: Option<Count>,
    /// The precision, if any (`%.f` is `Fixed(0)`).
    pub precision: Option<Count>,
    /// The conversion letter (`d`, `s`, `f`, …; `T` for `%(…)T`).
    pub conv: char,
    /// The strftime format of a `%(…)T` directive.
    pub time_format: Option<String>,
}

impl Directive {
    /// The spec with `*` counts filled in: `width` and `precision` are the
    /// values taken from the arguments for `Count::Next` (a negative width
    /// means `-` and its magnitude, a negative precision means none, as C).
    #[must_use]
    pub fn resolve(&self, width: Option<i64>, precision: Option<i64>) -> Spec {
        let mut flags = self.flags;
        let width = match self.width {
            Some(Count::Fixed(w)) => w,
            Some(Count::Next) => {
                let w = width.unwrap_or(0);
                if w < 0 {
                    flags.left = true;
                }
                usize::try_from(w.unsigned_abs()).unwrap_or(usize::MAX)
            }
            None => 0,
        };
        let precision = match self.precision {
            Some(Count::Fixed(p)) => Some(p),
            Some(Count::Next) => precision
                .filter(|p| *p >= 0)
                .map(|p| usize::try_from(p).unwrap_or(usize::MAX)),
            None => None,
        };
        Spec {
            flags,
            width,
            precision,
            conv: self.conv,
        }
    }
}

/// A conversion with its numbers: what the formatting functions take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spec {
    /// The flags.
    pub flags: Flags,
    /// The minimum field width in bytes (0: none).
    pub width: usize,
    /// The precision, if given.
    pub precision: Option<usize>,
    /// The conversion letter.
    pub conv: char,
}

impl Spec {
    /// A spec with only a conversion letter (`%g` is `Spec::new('g')`).
    #[must_use]
    pub fn new(conv: char) -> Spec {
        Spec {
            conv,
            ..Spec::default()
        }
    }
}

/// One part of a parsed [`Format`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes to copy (escapes already expanded; `%%` is a `%`).
    Literal(Vec<u8>),
    /// A conversion.
    Directive(Directive),
    /// A malformed conversion: formatting stops here with this message
    /// (bash's wording without the `printf: ` prefix, e.g.
    /// ``"`y': invalid format character"``).
    Error(String),
}

/// A printf format parsed into pieces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Format {
    /// The pieces in order.
    pub pieces: Vec<Piece>,
}

/// The conversion letters bash's `printf` accepts (besides `%(…)T`).
const PRINTF_CONVS: &str = "diouxXeEfFgGaAcsbq";

impl Format {
    /// Parses a format as bash 5.2's `printf` builtin reads it: backslash
    /// escapes in the text (an unknown escape keeps its backslash), `%%`,
    /// and directives `%[flags][width][.precision][length]conv` with
    /// `*` counts, length modifiers `hjlLtz` (ignored) and `%(fmt)T`.
    /// A missing or unknown conversion letter becomes a [`Piece::Error`].
    #[must_use]
    pub fn parse(fmt: &str) -> Format {
        let b = fmt.as_bytes();
        let mut pieces = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    i += 1 + format_escape(&b[i + 1..], &mut lit);
                }
                b'%' => {
                    let start = i;
                    i += 1;
                    if b.get(i) == Some(&b'%') {
                        lit.push(b'%');
                        i += 1;
                        continue;
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                    }
                    match parse_directive(fmt, &mut i) {
                        Ok(d) => pieces.push(Piece::Directive(d)),
                        Err(kind) => {
                            let msg = match kind {
                                DirectiveError::Missing => {
                                    format!("`{}': missing format character", &fmt[start..i])
                                }
                                DirectiveError::Invalid(c) => {
                                    format!("`{c}': invalid format character")
                                }
                            };
                            pieces.push(Piece::Error(msg));
                            return Format { pieces };
                        }
                    }
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(lit));
        }
        Format { pieces }
    }

    /// Whether the format has at least one conversion (bash stops reusing
    /// a format that consumes no argument).
    #[must_use]
    pub fn has_directives(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Directive(_)))
    }
}

enum DirectiveError {
    Missing,
    Invalid(char),
}

/// Parses flags, width, precision, length and letter after a `%`; `i` is
/// left after the directive (or at the end for a missing letter).
fn parse_directive(fmt: &str, i: &mut usize) -> Result<Directive, DirectiveError> {
    let b = fmt.as_bytes();
    let mut flags = Flags::default();
    while let Some(&c) = b.get(*i) {
        match c {
            b'-' => flags.left = true,
            b'+' => flags.plus = true,
            b' ' => flags.space = true,
            b'#' => flags.alt = true,
            b'0' => flags.zero = true,
            b'\'' => flags.grouping = true,
            _ => break,
        }
        *i += 1;
    }
    let count = |i: &mut usize| -> Option<Count> {
        if b.get(*i) == Some(&b'*') {
            *i += 1;
            return Some(Count::Next);
        }
        let st = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        (*i > st).then(|| Count::Fixed(fmt[st..*i].parse().unwrap_or(usize::MAX)))
    };
    let width = count(i);
    let mut precision = None;
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        precision = Some(count(i).unwrap_or(Count::Fixed(0)));
    }
    if b.get(*i) == Some(&b'(')
        && let Some(close) = fmt[*i..].find(')')
        && b.get(*i + close + 1) == Some(&b'T')
    {
        let time_format = fmt[*i + 1..*i + close].to_string();
        *i += close + 2;
        return Ok(Directive {
            flags,
            width,
            precision,
            conv: 'T',
            time_format: Some(time_format),
        });
    }
    while b.get(*i).is_some_and(|c| b"hjlLtz".contains(c)) {
        *i += 1;
    }
    let Some(c) = fmt[*i..].chars().next() else {
        return Err(DirectiveError::Missing);
    };
    *i += c.len_utf8();
    if PRINTF_CONVS.contains(c) {
        Ok(Directive {
            flags,
            width,
            precision,
            conv: c,
            time_format: None,
        })
    } else {
        Err(DirectiveError::Invalid(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pieces() {
        let f = Format::parse("a%-5.2fb%%\\n%*d%(%Y)T");
        assert_eq!(f.pieces.len(), 5);
        assert_eq!(f.pieces[0], Piece::Literal(b"a".to_vec()));
        let Piece::Directive(d) = &f.pieces[1] else {
            panic!()
        };
        assert_eq!(
            d.resolve(None, None),
            Spec {
                flags: Flags {
                    left: true,
                    ..Flags::default()
                },
                width: 5,
                precision: Some(2),
                conv: 'f'
            }
        );
        assert_eq!(f.pieces[2], Piece::Literal(b"b%\n".to_vec()));
        let Piece::Directive(d) = &f.pieces[3] else {
            panic!()
        };
        assert_eq!(d.width, Some(Count::Next));
        assert_eq!(d.resolve(Some(-3), None).width, 3);
        assert!(d.resolve(Some(-3), None).flags.left);
        let Piece::Directive(d) = &f.pieces[4] else {
            panic!()
        };
        assert_eq!(d.time_format.as_deref(), Some("%Y"));
    }

    #[test]
    fn errors_as_bash() {
        let f = Format::parse("a%5");
        assert_eq!(
            f.pieces.last(),
            Some(&Piece::Error("`%5': missing format character".into()))
        );
        let f = Format::parse("a%y|");
        assert_eq!(
            f.pieces.last(),
            Some(&Piece::Error("`y': invalid format character".into()))
        );
        // `\%` is not an escape: the backslash stays and `%d` converts
        let f = Format::parse("\\%d");
        assert_eq!(f.pieces[0], Piece::Literal(b"\\".to_vec()));
        assert!(f.has_directives());
    }
}
