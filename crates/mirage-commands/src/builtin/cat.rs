//! `cat`: concatenate files to stdout, as GNU coreutils 9.1 `cat`
//! (`-n`, `-b`, `-s`, `-E`, `-T`, `-v`, `-A` = `-vET`, `-e` = `-vE`,
//! `-t` = `-vT`; `-E` also shows a CR ending a line as `^M`; `-v` shows control bytes as `^X`, DEL as `^?` and bytes
//! from 128 as `M-…`). Streams: without numbering flags the
//! chunks pass through untouched, so `cat big | head -1` reads one chunk.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{open_input, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("number", Some('n'), Some("number")),
    OptSpec::flag("number-nonblank", Some('b'), Some("number-nonblank")),
    OptSpec::flag("squeeze-blank", Some('s'), Some("squeeze-blank")),
    OptSpec::flag("show-ends", Some('E'), Some("show-ends")),
    OptSpec::flag("show-tabs", Some('T'), Some("show-tabs")),
    OptSpec::flag("show-all", Some('A'), Some("show-all")),
    OptSpec::flag("show-nonprinting", Some('v'), Some("show-nonprinting")),
    OptSpec::flag("e", Some('e'), None),
    OptSpec::flag("t", Some('t'), None),
    OptSpec::flag("u", Some('u'), None),
];

/// The spec of `cat`.
pub static SPEC: CommandSpec = CommandSpec::new("cat", OPTS, PathOperands::All);

crate::register_command!("cat", SPEC, run);

struct Fmt {
    number: bool,
    nonblank: bool,
    squeeze: bool,
    ends: bool,
    tabs: bool,
    nonprinting: bool,
    line_no: u64,
    at_line_start: bool,
    blank_run: u32,
}

impl Fmt {
    fn plain(&self) -> bool {
        !(self.number
            || self.nonblank
            || self.squeeze
            || self.ends
            || self.tabs
            || self.nonprinting)
    }
    /// Formats `chunk`, keeping line state across chunks.
    fn apply(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for (i, &b) in chunk.iter().enumerate() {
            if self.at_line_start {
                if b == b'\n' {
                    self.blank_run += 1;
                    if self.squeeze && self.blank_run > 1 {
                        continue;
                    }
                } else {
                    self.blank_run = 0;
                }
                let numbered = if self.nonblank {
                    b != b'\n'
                } else {
                    self.number
                };
                if numbered {
                    self.line_no += 1;
                    out.extend_from_slice(format!("{:>6}\t", self.line_no).as_bytes());
                }
                self.at_line_start = false;
            }
            match b {
                b'\n' => {
                    if self.ends {
                        out.push(b'$');
                    }
                    out.push(b'\n');
                    self.at_line_start = true;
                }
                b'\t' if self.tabs => out.extend_from_slice(b"^I"),
                b'\t' => out.push(b),
                // as GNU 9.1 `-E`: CR before LF (or ending the buffer) is `^M`
                b'\r' if self.ends && chunk.get(i + 1).is_none_or(|&n| n == b'\n') => {
                    out.extend_from_slice(b"^M");
                }
                _ if self.nonprinting => show_nonprinting(b, out),
                _ => out.push(b),
            }
        }
    }
}

/// Writes byte `b` (not `\n` or `\t`) as `cat -v` shows it: `^X` for
/// control bytes, `^?` for DEL, `M-` and the same for bytes from 128.
fn show_nonprinting(b: u8, out: &mut Vec<u8>) {
    let mut c = b;
    if c >= 128 {
        out.extend_from_slice(b"M-");
        c -= 128;
    }
    if c < 32 {
        out.push(b'^');
        out.push(c + 64);
    } else if c == 127 {
        out.extend_from_slice(b"^?");
    } else {
        out.push(c);
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let all = p.has("show-all");
    let (e, t) = (p.has("e"), p.has("t"));
    let mut fmt = Fmt {
        number: p.has("number"),
        nonblank: p.has("number-nonblank"),
        squeeze: p.has("squeeze-blank"),
        ends: p.has("show-ends") || all || e,
        tabs: p.has("show-tabs") || all || t,
        nonprinting: p.has("show-nonprinting") || all || e || t,
        line_no: 0,
        at_line_start: true,
        blank_run: 0,
    };
    let mut status = 0;
    // standard input was closed (`<&-`): GNU cat also fails to close it
    let mut stdin_closed = false;
    for operand in operands_or_stdin(&p) {
        let src = match open_input(ctx, &operand).await {
            Ok(s) => s,
            Err(msg) => {
                ctx.error(msg).await;
                status = 1;
                continue;
            }
        };
        let mut stream = src.into_stream();
        use futures::StreamExt;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    stdin_closed |= operand == "-" && crate::util::is_closed_stdin(&e);
                    status = 1;
                    break;
                }
            };
            let res = if fmt.plain() {
                ctx.stdout.write_bytes(chunk).await
            } else {
                let mut out = Vec::with_capacity(chunk.len() + 64);
                fmt.apply(&chunk, &mut out);
                ctx.stdout.write(&out).await
            };
            if let Err(e) = res
                && e.kind == ErrorKind::BrokenPipe
            {
                return Ok(status);
            }
        }
    }
    if stdin_closed {
        // as GNU cat 9.1's close_stdin at exit
        ctx.error("closing standard input: Bad file descriptor".to_string())
            .await;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn cat(args: &[&str], stdin: &str) -> String {
        let v = MemVfs::with(&[]);
        run_cmd(&v, run, "cat", args, "/", stdin).0
    }

    #[test]
    fn show_flags() {
        let input = "a\tb \nend\r\n";
        assert_eq!(cat(&["-A"], input), "a^Ib $\nend^M$\n");
        assert_eq!(cat(&["-E"], input), "a\tb $\nend^M$\n");
        assert_eq!(cat(&["-E"], "a\rb\n"), "a\rb$\n");
        assert_eq!(cat(&["-T"], input), "a^Ib \nend\r\n");
        assert_eq!(cat(&["-e"], input), "a\tb $\nend^M$\n");
        assert_eq!(cat(&["-t"], input), "a^Ib \nend^M\n");
        assert_eq!(cat(&["-v"], "\x01\x7f\t\n"), "^A^?\t\n");
        assert_eq!(cat(&["-n", "-v"], "x\n"), "     1\tx\n");
    }

    #[test]
    fn high_bytes() {
        let mut out = Vec::new();
        for b in [0x80u8, 0x89, 0xa0, 0xe9, 0xff] {
            show_nonprinting(b, &mut out);
            out.push(b' ');
        }
        assert_eq!(String::from_utf8_lossy(&out), "M-^@ M-^I M-  M-i M-^? ");
    }
}
