//! The option scanner of the builtins that read their options as bash's
//! `internal_getopt` does (`read`, `compgen`/`complete`, `history`,
//! `fc`): letters grouped after one `-` (`-rs`), an option's argument
//! attached (`-d,`) or in the next word (`-d ,`), `--` ending the
//! options, and the first word that is not an option (`-` alone
//! included) starting the operands. Options come one at a time, so a
//! builtin that checks an option's value reports the first error of the
//! line, as bash does.

use crate::exec::Io;
use crate::state::ShellState;

/// One option of a builtin's command line.
pub(crate) enum Opt {
    /// A letter without argument.
    Flag(char),
    /// A letter and its argument.
    Arg(char, String),
    /// A letter the builtin does not have (bash: `-c: invalid option`).
    Invalid(char),
    /// An option whose argument is missing (bash: `-c: option requires
    /// an argument`).
    Missing(char),
}

/// Scans the options of `args` (the words after the builtin's name).
pub(crate) struct Getopt<'a> {
    args: &'a [String],
    flags: &'a str,
    with_arg: &'a str,
    /// A word like `-5` is an operand, not options (`fc -l -5`, `history -5`).
    numbers_are_operands: bool,
    /// The word being read and the byte offset of its next letter.
    word: usize,
    pos: usize,
    done: bool,
}

impl<'a> Getopt<'a> {
    /// A scanner over `args` where the letters of `flags` take no argument
    /// and those of `with_arg` take one.
    pub(crate) fn new(args: &'a [String], flags: &'a str, with_arg: &'a str) -> Self {
        Getopt {
            args,
            flags,
            with_arg,
            numbers_are_operands: false,
            word: 0,
            pos: 0,
            done: false,
        }
    }

    /// Makes a word starting `-DIGIT` end the options.
    pub(crate) fn numbers_are_operands(mut self) -> Self {
        self.numbers_are_operands = true;
        self
    }

    /// The operands: the words after the options (valid once [`Getopt::next`]
    /// gave `None`, or after an error to report).
    pub(crate) fn rest(&self) -> &'a [String] {
        let at = if self.pos > 0 {
            self.word + 1
        } else {
            self.word
        };
        self.args.get(at..).unwrap_or_default()
    }

    /// The next option, `None` at the end of the options.
    pub(crate) fn next_opt(&mut self) -> Option<Opt> {
        if self.done {
            return None;
        }
        if self.pos == 0 {
            let a = self.args.get(self.word)?;
            if a == "--" {
                self.word += 1;
                self.done = true;
                return None;
            }
            let is_opt = a.len() > 1
                && a.starts_with('-')
                && !(self.numbers_are_operands && a.as_bytes()[1].is_ascii_digit());
            if !is_opt {
                self.done = true;
                return None;
            }
            self.pos = 1;
        }
        let a = &self.args[self.word];
        let Some(c) = a[self.pos..].chars().next() else {
            self.word += 1;
            self.pos = 0;
            return self.next_opt();
        };
        self.pos += c.len_utf8();
        if self.with_arg.contains(c) {
            let attached = &a[self.pos..];
            self.pos = 0;
            self.word += 1;
            if !attached.is_empty() {
                return Some(Opt::Arg(c, attached.to_string()));
            }
            return Some(match self.args.get(self.word) {
                Some(v) => {
                    self.word += 1;
                    Opt::Arg(c, v.clone())
                }
                None => Opt::Missing(c),
            });
        }
        if self.flags.contains(c) {
            return Some(Opt::Flag(c));
        }
        Some(Opt::Invalid(c))
    }
}

/// Reports a bad option as bash does (`NAME: -c: invalid option` or
/// `NAME: -c: option requires an argument`, then the usage line) and
/// returns bash's status for it, 2. `opt` is an [`Opt::Invalid`] or an
/// [`Opt::Missing`].
pub(crate) async fn usage_error(
    opt: &Opt,
    name: &str,
    usage: &str,
    st: &ShellState,
    io: &Io,
) -> i32 {
    let what = match opt {
        Opt::Missing(c) => format!("-{c}: option requires an argument"),
        Opt::Invalid(c) | Opt::Flag(c) | Opt::Arg(c, _) => format!("-{c}: invalid option"),
    };
    io.err(&format!("{}{name}: {what}\n{usage}", st.diag()))
        .await;
    2
}
