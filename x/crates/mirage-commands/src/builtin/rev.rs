//! `rev`: reverse the characters of each line, as util-linux `rev` (UTF-8
//! characters kept whole; an invalid byte counts as one character). Streams
//! line by line; a last line without newline stays without one.

use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{LineEnd, LineLoop, map_lines_with, parse_cmd};

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

/// util-linux wording: `NAME: 0: Is a directory` for a directory, else
/// `cannot open NAME: message`.
const REV_LOOP: LineLoop = LineLoop {
    open_error: |operand, e| {
        if e.kind == ErrorKind::IsADirectory {
            format!("{operand}: 0: Is a directory")
        } else {
            format!("cannot open {operand}: {}", e.message())
        }
    },
    end: LineEnd::AsInput,
    delim: b'\n',
};

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    Ok(map_lines_with(ctx, &p, &REV_LOOP, reverse_into).await)
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

    /// util-linux 2.38 wording for the open errors; a directory or a
    /// missing file does not stop the other operands.
    #[test]
    fn open_errors_use_util_linux_wording() {
        let vfs = MemVfs::with(GNU_FILES);
        let (out, err, status) = run_cmd(&vfs, run, "rev", &["/d", "nope", "b.txt"], "/d", "");
        assert_eq!((&out[..], status), ("1b\n2b\n", 1));
        assert_eq!(
            err,
            "rev: /d: 0: Is a directory\nrev: cannot open nope: No such file or directory\n"
        );
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
