//! `yes`: print a line over and over until the reader goes away, as GNU
//! coreutils 9.1 `yes [STRING]...` (the operands joined by spaces, or `y`;
//! options are only `--help`/`--version`, so `-x` is a usage error with
//! status 1; `--` anywhere ends the options and is dropped).
//!
//! The line is repeated into one buffer of at least 16 KiB and that buffer
//! is written again and again, as GNU does, so the pipe sees large writes.
//! A closed reader ends it with status 141, as SIGPIPE ends GNU's.

use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

/// The spec of `yes`: no options of its own.
pub static SPEC: CommandSpec = CommandSpec::new("yes", &[], PathOperands::None);

crate::register_command!("yes", SPEC, run);

/// The smallest buffer `yes` writes at a time (bytes).
const BUF_MIN: usize = 16 * 1024;

/// The line `yes` repeats for `operands` (with its newline).
fn line(operands: &[String]) -> Vec<u8> {
    let mut l = if operands.is_empty() {
        b"y".to_vec()
    } else {
        mirage_types::bytestr::encode(&operands.join(" ")).into_owned()
    };
    l.push(b'\n');
    l
}

/// `line` repeated to fill at least [`BUF_MIN`] bytes (whole lines only).
fn fill(line: &[u8]) -> bytes::Bytes {
    let copies = BUF_MIN.div_ceil(line.len()).max(1);
    bytes::Bytes::from(line.repeat(copies))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let buf = fill(&line(&p.operands));
    loop {
        ctx.stdout.write(&buf).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::{fill, line};

    #[test]
    fn line_joins_operands_and_fills_whole_lines() {
        assert_eq!(line(&[]), b"y\n");
        assert_eq!(line(&["a".into(), "b c".into()]), b"a b c\n");
        assert_eq!(line(&[String::new()]), b"\n");
        let l = line(&["abc".into()]);
        let b = fill(&l);
        assert!(b.len() >= super::BUF_MIN);
        assert_eq!(b.len() % l.len(), 0);
        assert!(b.chunks(l.len()).all(|c| c == l.as_slice()));
    }
}
