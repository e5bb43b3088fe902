//! `cat`: concatenate files to stdout, as GNU coreutils 9.1 `cat`
//! (`-n`, `-b`, `-s`, `-E`, `-T`, `-A`). Streams: without numbering flags the
//! chunks pass through untouched, so `cat big | head -1` reads one chunk.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::ErrorKind;

use crate::util::{open_input, operands_or_stdin, parse_args};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("number", Some('n'), Some("number")),
    OptSpec::flag("number-nonblank", Some('b'), Some("number-nonblank")),
    OptSpec::flag("squeeze-blank", Some('s'), Some("squeeze-blank")),
    OptSpec::flag("show-ends", Some('E'), Some("show-ends")),
    OptSpec::flag("show-tabs", Some('T'), Some("show-tabs")),
    OptSpec::flag("show-all", Some('A'), Some("show-all")),
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
    line_no: u64,
    at_line_start: bool,
    blank_run: u32,
}

impl Fmt {
    fn plain(&self) -> bool {
        !(self.number || self.nonblank || self.squeeze || self.ends || self.tabs)
    }
    /// Formats `chunk`, keeping line state across chunks.
    fn apply(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for &b in chunk {
            if self.at_line_start {
                if b == b'\n' {
                    self.blank_run += 1;
                    if self.squeeze && self.blank_run > 1 {
                        continue;
                    }
                } else {
                    self.blank_run = 0;
                }
                let numbered = if self.nonblank { b != b'\n' } else { self.number };
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
                _ => out.push(b),
            }
        }
    }
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let all = p.has("show-all");
        let mut fmt = Fmt {
            number: p.has("number"),
            nonblank: p.has("number-nonblank"),
            squeeze: p.has("squeeze-blank"),
            ends: p.has("show-ends") || all,
            tabs: p.has("show-tabs") || all,
            line_no: 0,
            at_line_start: true,
            blank_run: 0,
        };
        let mut status = 0;
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
                if let Err(e) = res {
                    if e.kind == ErrorKind::BrokenPipe {
                        return status;
                    }
                }
            }
        }
        status
    })
}
