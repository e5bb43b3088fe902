//! `tac`: concatenate and print files in reverse, as GNU coreutils 9.1
//! `tac` (`-b`, `-s SEP`). Each file is held whole and reversed on its own,
//! as GNU does. `-r` (a regex separator) is refused as unsupported.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("before", Some('b'), Some("before")),
    OptSpec::flag("regex", Some('r'), Some("regex")),
    OptSpec::value("separator", Some('s'), Some("separator")),
];

/// The spec of `tac`.
pub static SPEC: CommandSpec = CommandSpec::new("tac", OPTS, PathOperands::All);

crate::register_command!("tac", SPEC, run);

/// `data`'s records in reverse order. A record ends with `sep` (or, with
/// `before`, starts with it); the last record may lack it.
fn reverse_records(data: &[u8], sep: &[u8], before: bool) -> Vec<u8> {
    let finder = memchr::memmem::Finder::new(sep);
    let mut bounds: Vec<usize> = vec![0];
    for i in finder.find_iter(data) {
        let cut = if before { i } else { i + sep.len() };
        if cut > 0 && cut < data.len() && Some(&cut) != bounds.last() {
            bounds.push(cut);
        }
    }
    bounds.push(data.len());
    let mut out = Vec::with_capacity(data.len());
    for w in bounds.windows(2).rev() {
        out.extend_from_slice(&data[w[0]..w[1]]);
    }
    out
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.has("regex") {
        return Err(CmdError::new(1, "-r (--regex) is not supported in mirage"));
    }
    let sep = match p.value("separator") {
        Some("") => return Err(CmdError::new(1, "separator cannot be empty")),
        Some(s) => mirage_types::bytestr::encode(s).into_owned(),
        None => b"\n".to_vec(),
    };
    let before = p.has("before");
    let mut status = 0;
    for operand in operands_or_stdin(&p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) if e.kind == ErrorKind::IsADirectory => {
                ctx.error(format!("{operand}: read error: Is a directory"))
                    .await;
                status = 1;
                continue;
            }
            Err(e) => {
                ctx.error(format!(
                    "failed to open '{operand}' for reading: {}",
                    e.message()
                ))
                .await;
                status = 1;
                continue;
            }
        };
        let data = match src.collect().await {
            Ok(d) => d,
            Err(e) => {
                ctx.error(format!("{operand}: read error: {}", e.message()))
                    .await;
                status = 1;
                continue;
            }
        };
        let out = reverse_records(&data, &sep, before);
        if let Err(e) = ctx.stdout.write(&out).await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Ok(status);
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    #[test]
    fn records_reversed() {
        assert_eq!(reverse_records(b"a\nb\nc", b"\n", false), b"cb\na\n");
        assert_eq!(reverse_records(b"a\nb\n", b"\n", true), b"\n\nba");
        assert_eq!(reverse_records(b"aXbXc", b"X", false), b"cbXaX");
        assert_eq!(reverse_records(b"", b"\n", false), b"");
        assert_eq!(reverse_records(b"\n\n", b"\n", false), b"\n\n");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&[], "1\n2\n3\n", "3\n2\n1\n", 0),
            (&["-s", ","], "a,b,c", "cb,a,", 0),
            (&["nope"], "", "", 1),
            (&["-s", ""], "", "", 1),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "tac", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
