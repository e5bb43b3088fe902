//! `rev`: reverse the characters of each line, as util-linux `rev` (UTF-8
//! characters kept whole; an invalid byte counts as one character). Streams
//! line by line; a last line without newline stays without one.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{RecordReader, open_input_err, operands_or_stdin, parse_cmd};

/// The spec of `rev`.
pub static SPEC: CommandSpec = CommandSpec::new("rev", &[], PathOperands::All);

crate::register_command!("rev", SPEC, run);

/// Appends `line` with its characters in reverse order.
fn reverse_into(line: &[u8], out: &mut Vec<u8>) {
    let mut units: Vec<&[u8]> = Vec::with_capacity(line.len());
    for chunk in line.utf8_chunks() {
        let v = chunk.valid();
        let mut start = 0;
        for (i, _) in v.char_indices().skip(1) {
            units.push(&v.as_bytes()[start..i]);
            start = i;
        }
        if start < v.len() {
            units.push(&v.as_bytes()[start..]);
        }
        for b in chunk.invalid().chunks(1) {
            units.push(b);
        }
    }
    for u in units.iter().rev() {
        out.extend_from_slice(u);
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut status = 0;
    let mut out = Vec::with_capacity(64 * 1024);
    for operand in operands_or_stdin(&p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) if e.kind == ErrorKind::IsADirectory => {
                ctx.error(format!("{operand}: 0: Is a directory")).await;
                status = 1;
                continue;
            }
            Err(e) => {
                ctx.error(format!("cannot open {operand}: {}", e.message()))
                    .await;
                status = 1;
                continue;
            }
        };
        let mut reader = RecordReader::new(src, b'\n');
        loop {
            let rec = match reader.next_record().await {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    status = 1;
                    break;
                }
            };
            let (line, nl) = match rec.strip_suffix(b"\n") {
                Some(l) => (l, true),
                None => (&rec[..], false),
            };
            reverse_into(line, &mut out);
            if nl {
                out.push(b'\n');
            }
            if out.len() >= 32 * 1024 {
                if let Err(e) = ctx.stdout.write(&out).await
                    && e.kind == ErrorKind::BrokenPipe
                {
                    return Ok(status);
                }
                out.clear();
            }
        }
    }
    let _ = ctx.stdout.write(&out).await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    #[test]
    fn reverses_characters() {
        let mut out = Vec::new();
        reverse_into("héllo wörld".as_bytes(), &mut out);
        assert_eq!(String::from_utf8_lossy(&out), "dlröw olléh");
        let mut out = Vec::new();
        reverse_into(b"a\xffb", &mut out);
        assert_eq!(out, b"b\xffa");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&[], "abc\nde\n", "cba\ned\n", 0),
            (&[], "a\nbc", "a\ncb", 0),
            (&["nope"], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "rev", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
