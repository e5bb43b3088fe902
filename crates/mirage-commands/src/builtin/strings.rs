//! `strings`: print the runs of printable characters in files, as GNU
//! binutils 2.40 `strings` (which scans the whole file by default): `-n N`
//! / `--bytes=N` / `-N` (minimum length, default 4), `-a` (accepted; whole
//! file is the default), `-t o|d|x` / `-o` (offset of each string, `%7o`,
//! `%7d`, `%7x` and a space), `-f` (`FILE: ` before each string), `-w`
//! (every whitespace byte counts as printable), `-e s|S` (7-bit, or 8-bit
//! where bytes from 128 are printable), `-s SEP` (the separator instead of
//! a newline).
//!
//! A printable character is ASCII 32..=126 or a tab. It streams: a string
//! shorter than the minimum is held until it is long enough, then written
//! as it grows.

use futures::StreamExt;
use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", Some('a'), Some("all")),
    OptSpec::flag("data", Some('d'), Some("data")),
    OptSpec::flag("print-file-name", Some('f'), Some("print-file-name")),
    OptSpec::value("bytes", Some('n'), Some("bytes")),
    OptSpec::value("radix", Some('t'), Some("radix")),
    OptSpec::flag("o", Some('o'), None),
    OptSpec::flag(
        "include-all-whitespace",
        Some('w'),
        Some("include-all-whitespace"),
    ),
    OptSpec::value("encoding", Some('e'), Some("encoding")),
    OptSpec::value("output-separator", Some('s'), Some("output-separator")),
];

/// The spec of `strings` (`-NUM` is `-n NUM`).
pub static SPEC: CommandSpec = CommandSpec {
    numeric_key: Some("bytes"),
    ..CommandSpec::new("strings", OPTS, PathOperands::All)
};

crate::register_command!("strings", SPEC, run);

/// binutils' usage text, printed on stderr for a bad option value.
const USAGE: &str = "Usage: strings [option(s)] [file(s)]
 Display printable strings in [file(s)] (stdin by default)
 The options are:
  -a - --all                Scan the entire file, not just the data section [default]
  -d --data                 Only scan the data sections in the file
  -f --print-file-name      Print the name of the file before each string
  -n <number>               Locate & print any sequence of at least <number>
    --bytes=<number>         displayable characters.  (The default is 4).
  -t --radix={o,d,x}        Print the location of the string in base 8, 10 or 16
  -w --include-all-whitespace Include all whitespace as valid string characters
  -o                        An alias for --radix=o
  -T --target=<BFDNAME>     Specify the binary file format
  -e --encoding={s,S,b,l,B,L} Select character size and endianness:
                            s = 7-bit, S = 8-bit, {b,l} = 16-bit, {B,L} = 32-bit
  --unicode={default|show|invalid|hex|escape|highlight}
  -U {d|s|i|x|e|h}          Specify how to treat UTF-8 encoded unicode characters
  -s --output-separator=<string> String used to separate strings in output.
  @<file>                   Read options from <file>
  -h --help                 Display this information
  -v -V --version           Print the program's version number
";

/// The offset format of `-t`.
#[derive(Clone, Copy)]
enum Radix {
    Oct,
    Dec,
    Hex,
}

/// The scanner's settings and state for one file.
struct Scan {
    min: usize,
    radix: Option<Radix>,
    prefix: Option<String>,
    all_space: bool,
    eight_bit: bool,
    sep: Vec<u8>,
    /// The current run of printable bytes (only while shorter than `min`).
    run: Vec<u8>,
    /// Length of the current run, and its start offset.
    run_len: usize,
    run_start: u64,
    /// Offset of the next byte.
    pos: u64,
}

impl Scan {
    fn printable(&self, b: u8) -> bool {
        (0x20..0x7f).contains(&b)
            || b == b'\t'
            || (self.all_space && matches!(b, b'\n' | b'\r' | 0x0b | 0x0c))
            || (self.eight_bit && b >= 0x80)
    }

    fn head(&self, out: &mut Vec<u8>) {
        if let Some(p) = &self.prefix {
            out.extend_from_slice(&mirage_types::bytestr::encode(p));
            out.extend_from_slice(b": ");
        }
        match self.radix {
            Some(Radix::Oct) => out.extend_from_slice(format!("{:7o} ", self.run_start).as_bytes()),
            Some(Radix::Dec) => out.extend_from_slice(format!("{:7} ", self.run_start).as_bytes()),
            Some(Radix::Hex) => out.extend_from_slice(format!("{:7x} ", self.run_start).as_bytes()),
            None => {}
        }
    }

    fn end_run(&mut self, out: &mut Vec<u8>) {
        if self.run_len >= self.min {
            out.extend_from_slice(&self.sep);
        }
        self.run_len = 0;
        self.run.clear();
    }

    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &b in data {
            if self.printable(b) {
                if self.run_len == 0 {
                    self.run_start = self.pos;
                }
                self.run_len += 1;
                if self.run_len < self.min {
                    self.run.push(b);
                } else if self.run_len == self.min {
                    self.run.push(b);
                    self.head(out);
                    out.extend_from_slice(&self.run);
                    self.run.clear();
                } else {
                    out.push(b);
                }
            } else if self.run_len > 0 {
                self.end_run(out);
            }
            self.pos += 1;
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let min = match p.value("bytes") {
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => n as usize,
            _ => {
                return Err(CmdError::new(
                    1,
                    format!(
                        "invalid minimum string length {}",
                        v.parse::<i64>().unwrap_or(0)
                    ),
                ));
            }
        },
        None => 4,
    };
    let radix = match p.last_of(&["radix", "o"]) {
        Some("o") => Some(Radix::Oct),
        Some(_) => match p.value("radix") {
            Some("o") => Some(Radix::Oct),
            Some("d") => Some(Radix::Dec),
            Some("x") => Some(Radix::Hex),
            _ => {
                let _ = ctx.stderr.write_str(USAGE).await;
                return Ok(1);
            }
        },
        None => None,
    };
    let eight_bit = match p.value("encoding") {
        None | Some("s") => false,
        Some("S") => true,
        Some(_) => {
            let _ = ctx.stderr.write_str(USAGE).await;
            return Ok(1);
        }
    };
    let sep = p.value("output-separator").map_or(b"\n".to_vec(), |s| {
        mirage_types::bytestr::encode(s).into_owned()
    });
    let mut status = 0;
    let named = !p.operands.is_empty();
    let mut out = Vec::with_capacity(64 * 1024);
    for operand in operands_or_stdin(&p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) => {
                let _ = ctx.stdout.write(&out).await;
                out.clear();
                let msg = if e.kind == ErrorKind::NotFound {
                    "No such file"
                } else {
                    e.message()
                };
                ctx.error(format!("'{operand}': {msg}")).await;
                status = 1;
                continue;
            }
        };
        let mut scan = Scan {
            min,
            radix,
            prefix: p.has("print-file-name").then(|| {
                if named {
                    operand.clone()
                } else {
                    "{standard input}".to_string()
                }
            }),
            all_space: p.has("include-all-whitespace"),
            eight_bit,
            sep: sep.clone(),
            run: Vec::new(),
            run_len: 0,
            run_start: 0,
            pos: 0,
        };
        let mut stream = src.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    status = 1;
                    break;
                }
            };
            scan.feed(&chunk, &mut out);
            if out.len() >= 32 * 1024 {
                if let Err(e) = ctx.stdout.write(&out).await
                    && e.kind == ErrorKind::BrokenPipe
                {
                    return Ok(status);
                }
                out.clear();
            }
        }
        if scan.run_len > 0 {
            scan.end_run(&mut out);
        }
    }
    let _ = ctx.stdout.write(&out).await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn finds_runs_with_offsets() {
        let v = MemVfs::with(&[]);
        let input = "ab\0hello\tworld\x01xyz12345\nline two here\x7fabcd";
        let (out, _, _) = run_cmd(&v, run, "strings", &[], "/", input);
        assert_eq!(out, "hello\tworld\nxyz12345\nline two here\nabcd\n");
        let (out, _, _) = run_cmd(&v, run, "strings", &["-n", "3", "-t", "x"], "/", input);
        assert_eq!(
            out,
            "      3 hello\tworld\n      f xyz12345\n     18 line two here\n     26 abcd\n"
        );
        let (out, _, _) = run_cmd(&v, run, "strings", &["-9"], "/", input);
        assert_eq!(out, "hello\tworld\nline two here\n");
        let (_, err, st) = run_cmd(&v, run, "strings", &["-n", "0"], "/", input);
        assert_eq!(
            (err.as_str(), st),
            ("strings: invalid minimum string length 0\n", 1)
        );
        let (_, err, st) = run_cmd(&v, run, "strings", &["/nosuch"], "/", input);
        assert_eq!(
            (err.as_str(), st),
            ("strings: '/nosuch': No such file\n", 1)
        );
    }
}
