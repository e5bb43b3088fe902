//! `xargs`: build command lines from standard input and run them, as GNU
//! findutils 4.9 `xargs` (`-0`, `-a FILE`, `-d DELIM`, `-E EOF`, `-I R`,
//! `-i`, `-L N`, `-n N`, `-r`, `-t`; `-P`, `-s`, `-x`, `-p`, `-o` are
//! accepted, and the commands run one after another).
//!
//! The commands run through [`CommandCtx::runner`] (builtins and registered
//! commands, never a host process) with an empty standard input. Exit
//! status as GNU: 123 if a command failed, 124 if one exited 255 (and the
//! rest are not run), 127 if the command does not exist, 1 for a usage
//! error.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{Input, bytestr};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("null", Some('0'), Some("null")),
    OptSpec::value("arg-file", Some('a'), Some("arg-file")),
    OptSpec::value("delimiter", Some('d'), Some("delimiter")),
    OptSpec::value("eof-str", Some('E'), None),
    OptSpec::optional("eof", Some('e'), Some("eof")),
    OptSpec::value("replace-str", Some('I'), None),
    OptSpec::optional("replace", Some('i'), Some("replace")),
    OptSpec::value("max-lines-str", Some('L'), None),
    OptSpec::optional("max-lines", Some('l'), Some("max-lines")),
    OptSpec::value("max-args", Some('n'), Some("max-args")),
    OptSpec::value("max-procs", Some('P'), Some("max-procs")),
    OptSpec::value("max-chars", Some('s'), Some("max-chars")),
    OptSpec::flag("open-tty", Some('o'), Some("open-tty")),
    OptSpec::flag("interactive", Some('p'), Some("interactive")),
    OptSpec::flag("no-run-if-empty", Some('r'), Some("no-run-if-empty")),
    OptSpec::flag("verbose", Some('t'), Some("verbose")),
    OptSpec::flag("exit", Some('x'), Some("exit")),
];

/// The spec of `xargs`: options stop at the command.
pub static SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    ..CommandSpec::new("xargs", OPTS, PathOperands::None)
};

crate::register_command!("xargs", SPEC, run);

mirage_types::command_handler!(fn run = body);

/// Splits xargs input into items: blanks and newlines separate, quotes and
/// backslashes group (GNU default, without `-0`/`-d`).
///
/// # Errors
/// An unmatched quote, with GNU's message.
pub fn split_items(s: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if have {
                    items.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            '\'' | '"' => {
                have = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\n') | None => {
                            let kind = if c == '\'' { "single" } else { "double" };
                            return Err(format!(
                                "unmatched {kind} quote; by default quotes are special to xargs unless you use the -0 option"
                            ));
                        }
                        Some(x) => cur.push(x),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    have = true;
                }
            }
            _ => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        items.push(cur);
    }
    Ok(items)
}

/// The byte `xargs -d SPEC` splits at: one character, or an escape
/// (`\n`, `\t`, `\0`, `\\`, `\a`, `\b`, `\f`, `\r`, `\v`, `\NNN` octal,
/// `\xHH` hex). `None` when GNU refuses the specification.
fn delimiter(spec: &str) -> Option<u8> {
    let b = bytestr::encode(spec);
    match &b[..] {
        [c] => Some(*c),
        [b'\\', rest @ ..] => match rest {
            [b'n'] => Some(b'\n'),
            [b't'] => Some(b'\t'),
            [b'0'] => Some(0),
            [b'\\'] => Some(b'\\'),
            [b'a'] => Some(7),
            [b'b'] => Some(8),
            [b'f'] => Some(12),
            [b'r'] => Some(b'\r'),
            [b'v'] => Some(11),
            [b'x', hex @ ..] if !hex.is_empty() && hex.len() <= 2 => {
                u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
            }
            oct if !oct.is_empty()
                && oct.len() <= 3
                && oct.iter().all(|c| (b'0'..=b'7').contains(c)) =>
            {
                u8::try_from(u32::from_str_radix(std::str::from_utf8(oct).ok()?, 8).ok()?).ok()
            }
            _ => None,
        },
        // a multi-byte character as one delimiter is not supported by GNU either
        _ => None,
    }
}

/// A count option (`-n`, `-L`, `-P`, `-s`): GNU's wording for a bad one.
fn count(value: &str, opt: char, min: usize) -> Result<usize, CmdError> {
    let n: usize = value
        .trim()
        .parse()
        .map_err(|_| CmdError::usage(format!("invalid number \"{value}\" for -{opt} option")))?;
    if n < min {
        return Err(CmdError::usage(format!(
            "value {n} for -{opt} option should be >= {min}"
        )));
    }
    Ok(n)
}

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut max_args: Option<usize> = None;
    let mut max_lines: Option<usize> = None;
    let mut replace: Option<String> = None;
    let mut delim: Option<u8> = None;
    let mut eof: Option<String> = None;
    for (key, value) in &p.opts {
        let v = value.as_deref();
        match *key {
            "null" => delim = Some(0),
            "delimiter" => {
                let d = v.unwrap_or_default();
                delim = Some(delimiter(d).ok_or_else(|| {
                    CmdError::new(
                        1,
                        format!(
                            "Invalid input delimiter specification {d}: the delimiter must be either a single character or an escape sequence starting with \\."
                        ),
                    )
                })?);
            }
            "eof-str" | "eof" => eof = v.filter(|s| !s.is_empty()).map(str::to_string),
            "replace-str" | "replace" => {
                replace = Some(v.unwrap_or("{}").to_string());
                max_lines = Some(1);
                max_args = None;
            }
            "max-lines-str" => {
                max_lines = Some(count(v.unwrap_or_default(), 'L', 1)?);
                max_args = None;
            }
            "max-lines" => {
                max_lines = Some(match v {
                    Some(v) => count(v, 'l', 1)?,
                    None => 1,
                });
                max_args = None;
            }
            "max-args" => {
                max_args = Some(count(v.unwrap_or_default(), 'n', 1)?);
                if replace.is_none() {
                    max_lines = None;
                }
            }
            "max-procs" => {
                count(v.unwrap_or_default(), 'P', 0)?;
            }
            "max-chars" => {
                count(v.unwrap_or_default(), 's', 1)?;
            }
            _ => {}
        }
    }
    let no_empty = p.has("no-run-if-empty");
    let trace = p.has("verbose") || p.has("interactive");
    let cmd: Vec<String> = if p.operands.is_empty() {
        vec!["echo".into()]
    } else {
        p.operands.clone()
    };
    let data = match p.value("arg-file") {
        Some(file) => {
            let read = async {
                let src = ctx.read_path(file).await?;
                src.collect().await
            };
            read.await.map_err(|e| {
                CmdError::new(
                    1,
                    format!(
                        "Cannot open input file {}: {}",
                        gnu_quote(file),
                        e.message()
                    ),
                )
            })?
        }
        None => {
            let mut input = std::mem::replace(&mut ctx.stdin, Input::empty());
            input.read_all().await?
        }
    };
    let text = bytestr::decode(&data).into_owned();
    let groups = group(
        &text,
        delim,
        max_args,
        max_lines,
        replace.as_deref(),
        eof.as_deref(),
    )
    .map_err(|e| CmdError::new(1, e))?;
    let groups = if groups.is_empty() && !no_empty && replace.is_none() {
        vec![Vec::new()]
    } else {
        groups
    };
    let Some(runner) = ctx.runner.clone() else {
        return Err(CmdError::new(1, "running a command is not available here"));
    };
    let mut status = 0;
    for g in groups {
        let words: Vec<String> = match &replace {
            Some(r) => {
                let item = g.join(" ");
                cmd.iter().map(|w| w.replace(r.as_str(), &item)).collect()
            }
            None => cmd.iter().cloned().chain(g).collect(),
        };
        if !runner.has_command(&words[0]) {
            return Err(CmdError::new(
                127,
                format!("{}: No such file or directory", words[0]),
            ));
        }
        if trace {
            ctx.stdout.flush().await?;
            ctx.stderr
                .write_str(&format!("{}\n", words.join(" ")))
                .await?;
            ctx.stderr.flush().await?;
        }
        ctx.stdout.flush().await?;
        let s = runner
            .run_argv(
                words.clone(),
                ctx.cwd.clone(),
                ctx.env.clone(),
                Input::empty(),
                ctx.stdout.sink().clone(),
                ctx.stderr.sink().clone(),
            )
            .await;
        match s {
            0 => {}
            127 => return Ok(127),
            255 => {
                return Err(CmdError::new(
                    124,
                    format!("{}: exited with status 255; aborting", words[0]),
                ));
            }
            _ => status = 123,
        }
    }
    Ok(status)
}

/// Groups the input `text` into the argument lists of the invocations.
fn group(
    text: &str,
    delim: Option<u8>,
    max_args: Option<usize>,
    max_lines: Option<usize>,
    replace: Option<&str>,
    eof: Option<&str>,
) -> Result<Vec<Vec<String>>, String> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let until_eof = |items: Vec<String>| -> Vec<String> {
        match eof {
            Some(e) => items.into_iter().take_while(|i| i != e).collect(),
            None => items,
        }
    };
    if let Some(d) = delim {
        let mut items: Vec<String> = text.split(char::from(d)).map(String::from).collect();
        if items.last().is_some_and(String::is_empty) {
            items.pop();
        }
        let n = max_args.or(max_lines).unwrap_or(usize::MAX).max(1);
        for c in items.chunks(n.min(items.len().max(1))) {
            groups.push(c.to_vec());
        }
    } else if let Some(n) = max_lines {
        let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if let Some(e) = eof
            && let Some(k) = lines.iter().position(|l| l.trim() == e)
        {
            lines.truncate(k);
        }
        for chunk in lines.chunks(n.max(1)) {
            let mut g = Vec::new();
            for l in chunk {
                if replace.is_some() {
                    g.push(l.trim_start().to_string());
                } else {
                    g.extend(split_items(l)?);
                }
            }
            groups.push(g);
        }
    } else {
        let items = until_eof(split_items(text)?);
        match max_args {
            Some(n) => {
                for c in items.chunks(n.max(1)) {
                    groups.push(c.to_vec());
                }
            }
            None => {
                if !items.is_empty() {
                    groups.push(items);
                }
            }
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(delimiter(","), Some(b','));
        assert_eq!(delimiter("\\n"), Some(b'\n'));
        assert_eq!(delimiter("\\0"), Some(0));
        assert_eq!(delimiter("\\x41"), Some(b'A'));
        assert_eq!(delimiter("\\101"), Some(b'A'));
        assert_eq!(delimiter("ab"), None);
    }

    #[test]
    fn items_and_groups() {
        assert_eq!(
            split_items("a 'b c' \"d\" e\\ f\n").unwrap(),
            ["a", "b c", "d", "e f"]
        );
        assert!(split_items("'a").is_err());
        let g = group("1 2 3 4 5\n", None, Some(2), None, None, None).unwrap();
        assert_eq!(g, [vec!["1", "2"], vec!["3", "4"], vec!["5"]]);
        let g = group("a b\nc\n", None, None, Some(1), None, None).unwrap();
        assert_eq!(g, [vec!["a", "b"], vec!["c"]]);
        let g = group("a b c\n", None, None, None, None, Some("b")).unwrap();
        assert_eq!(g, [vec!["a"]]);
        let g = group("x\0y z\0", Some(0), None, None, None, None).unwrap();
        assert_eq!(g, [vec!["x", "y z"]]);
    }
}
