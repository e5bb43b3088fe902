//! `paste`: merge lines of files, as GNU coreutils 9.1 `paste` (`-d LIST`
//! with `\n \t \\ \0` escapes, cycled; `-s` serial; `-z`; `-` read in turn
//! each time it is named). Streams: one line of each file at a time.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{RecordReader, open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("delimiters", Some('d'), Some("delimiters")),
    OptSpec::flag("serial", Some('s'), Some("serial")),
    OptSpec::flag("zero", Some('z'), Some("zero-terminated")),
];

/// The spec of `paste`.
pub static SPEC: CommandSpec = CommandSpec::new("paste", OPTS, PathOperands::All);

crate::register_command!("paste", SPEC, run);

/// The delimiter list with GNU's escapes resolved; `None` stands for `\0`
/// (no delimiter). The error is GNU's message.
fn parse_delims(s: &[u8]) -> Result<Vec<Option<u8>>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            let Some(&c) = s.get(i + 1) else {
                return Err(format!(
                    "delimiter list ends with an unescaped backslash: {}",
                    String::from_utf8_lossy(s)
                ));
            };
            out.push(match c {
                b'0' => None,
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'b' => Some(b'\x08'),
                b'f' => Some(b'\x0c'),
                b'r' => Some(b'\r'),
                b'v' => Some(b'\x0b'),
                other => Some(other),
            });
            i += 2;
        } else {
            out.push(Some(s[i]));
            i += 1;
        }
    }
    if out.is_empty() {
        out.push(None);
    }
    Ok(out)
}

/// The next line of reader `r` without its terminator, or `None` at its end.
async fn next_line(r: &mut RecordReader, eol: u8) -> mirage_types::Result<Option<bytes::Bytes>> {
    Ok(r.next_record().await?.map(|rec| {
        if rec.last() == Some(&eol) {
            rec.slice(..rec.len() - 1)
        } else {
            rec
        }
    }))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let delims = match p.value("delimiters") {
        Some(d) => {
            parse_delims(&mirage_types::bytestr::encode(d)).map_err(|m| CmdError::new(1, m))?
        }
        None => vec![Some(b'\t')],
    };
    let eol = if p.has("zero") { 0 } else { b'\n' };
    let operands = operands_or_stdin(&p);
    // Open every file first (GNU stops at the first that fails); `-` is one
    // reader however often it is named.
    let mut readers: Vec<RecordReader> = Vec::new();
    let mut slot: Vec<usize> = Vec::new();
    let mut stdin_slot: Option<usize> = None;
    for operand in &operands {
        if operand == "-"
            && let Some(s) = stdin_slot
        {
            slot.push(s);
            continue;
        }
        let src = open_input_err(ctx, operand)
            .await
            .map_err(|e| CmdError::new(1, format!("{operand}: {}", e.message())))?;
        readers.push(RecordReader::new(src, eol));
        if operand == "-" {
            stdin_slot = Some(readers.len() - 1);
        }
        slot.push(readers.len() - 1);
    }
    let read_err = |operand: &str, e: mirage_types::Error| {
        CmdError::new(1, format!("{operand}: {}", e.message()))
    };
    let mut out = Vec::with_capacity(64 * 1024);
    if p.has("serial") {
        for (i, operand) in operands.iter().enumerate() {
            let r = &mut readers[slot[i]];
            let mut d = 0;
            let mut first = true;
            while let Some(line) = next_line(r, eol).await.map_err(|e| read_err(operand, e))? {
                if !first {
                    if let Some(c) = delims[d % delims.len()] {
                        out.push(c);
                    }
                    d += 1;
                }
                first = false;
                out.extend_from_slice(&line);
                if out.len() >= 32 * 1024 {
                    if let Err(e) = ctx.stdout.write(&out).await
                        && e.kind == ErrorKind::BrokenPipe
                    {
                        return Ok(0);
                    }
                    out.clear();
                }
            }
            out.push(eol);
        }
    } else {
        let mut done = vec![false; readers.len()];
        loop {
            let mut line_out = Vec::new();
            let mut any = false;
            for (i, operand) in operands.iter().enumerate() {
                let s = slot[i];
                if !done[s] {
                    match next_line(&mut readers[s], eol)
                        .await
                        .map_err(|e| read_err(operand, e))?
                    {
                        Some(line) => {
                            any = true;
                            line_out.extend_from_slice(&line);
                        }
                        None => done[s] = true,
                    }
                }
                if i + 1 < operands.len()
                    && let Some(c) = delims[i % delims.len()]
                {
                    line_out.push(c);
                }
            }
            if !any {
                break;
            }
            out.extend_from_slice(&line_out);
            out.push(eol);
            if out.len() >= 32 * 1024 {
                if let Err(e) = ctx.stdout.write(&out).await
                    && e.kind == ErrorKind::BrokenPipe
                {
                    return Ok(0);
                }
                out.clear();
            }
        }
    }
    let _ = ctx.stdout.write(&out).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn delimiter_lists() {
        assert_eq!(parse_delims(b",;"), Ok(vec![Some(b','), Some(b';')]));
        assert_eq!(
            parse_delims(b"\\t\\0\\n"),
            Ok(vec![Some(b'\t'), None, Some(b'\n')])
        );
        assert_eq!(parse_delims(b""), Ok(vec![None]));
        assert!(parse_delims(b"\\").is_err());
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(&[("/d/a", "a\nb\nc\n"), ("/d/one", "1\n"), ("/d/e", "")]);
        // Each expectation was printed by GNU paste 9.1.
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["a", "one"], "", "a\t1\nb\t\nc\t\n", 0),
            (
                &["-d", "ab", "-", "-", "-"],
                "1\n2\n3\n4\n5\n",
                "1a2b3\n4a5b\n",
                0,
            ),
            (
                &["-s", "-d", "\\t\\n"],
                "1\n2\n3\n4\n5\n",
                "1\t2\n3\t4\n5\n",
                0,
            ),
            (&["-s", "e"], "", "\n", 0),
            (&["-s", "-d,", "a"], "", "a,b,c\n", 0),
            (&["nope", "a"], "", "", 1),
            (&["-d", "\\", "a"], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "paste", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
