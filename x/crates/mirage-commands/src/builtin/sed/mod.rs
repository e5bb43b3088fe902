//! `sed`: the stream editor, as GNU sed 4.9.
//!
//! Addresses (`N`, `$`, `/re/` and `\cREc` with `I`/`M`, `first~step`,
//! `addr1,addr2`, `addr,+N`, `addr,~N`, `0,/re/`, `!`), the commands
//! `{} = a b c d D F g G h H i l n N p P q Q r R s t T w W x y z : #`,
//! `s` flags `g p N i I m M w`, replacements with `&`, `\1`..`\9`, `\n`
//! and `\L \U \l \u \E`, and the options `-n -e -f -E -r -s -z -i[SUFFIX]
//! -l N -u --posix --sandbox`. Regexes are `mirage_regex`'s POSIX
//! BRE/ERE. Compile errors are GNU's (`sed: -e expression #1, char 5:
//! unterminated `s' command`, status 1); a missing input file is
//! `sed: can't read F: No such file or directory` and status 2; an I/O
//! failure (a `w` file or `-i` on a read-only mount) status 4.
//!
//! Nothing reaches the host: `r`, `R`, `w`, `W`, `s///w` and `-i` go
//! through the VFS router (so a read-only mount refuses the write), and
//! `e` and `s///e`, which run a shell command in GNU sed, are refused at
//! compile time. Input is read record by record as it arrives, so
//! `cat endless | sed p | head -1` ends.

mod exec;
mod parse;

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::bytestr;
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("quiet", Some('n'), Some("quiet")),
    OptSpec::flag("quiet", None, Some("silent")),
    OptSpec::value("expression", Some('e'), Some("expression")),
    OptSpec::value("file", Some('f'), Some("file")),
    OptSpec::flag("ere", Some('E'), Some("regexp-extended")),
    OptSpec::flag("ere", Some('r'), None),
    OptSpec::flag("separate", Some('s'), Some("separate")),
    OptSpec::flag("zero", Some('z'), Some("null-data")),
    OptSpec::optional("in-place", Some('i'), Some("in-place")),
    OptSpec::value("line-length", Some('l'), Some("line-length")),
    OptSpec::flag("unbuffered", Some('u'), Some("unbuffered")),
    OptSpec::flag("posix", None, Some("posix")),
    OptSpec::flag("debug", None, Some("debug")),
    OptSpec::flag("sandbox", None, Some("sandbox")),
    OptSpec::flag("follow-symlinks", None, Some("follow-symlinks")),
    OptSpec::flag("binary", Some('b'), Some("binary")),
];

/// The spec of `sed`: the first operand is the script unless `-e` or `-f` gave one.
pub static SPEC: CommandSpec = CommandSpec::new(
    "sed",
    OPTS,
    PathOperands::SkipFirstUnless(&["expression", "file"]),
);

crate::register_command!("sed", SPEC, run, true);

/// GNU sed's usage text, printed on stderr when no script is given.
const USAGE: &str = "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...

  -n, --quiet, --silent
                 suppress automatic printing of pattern space
      --debug
                 annotate program execution
  -e script, --expression=script
                 add the script to the commands to be executed
  -f script-file, --file=script-file
                 add the contents of script-file to the commands to be executed
  --follow-symlinks
                 follow symlinks when processing in place
  -i[SUFFIX], --in-place[=SUFFIX]
                 edit files in place (makes backup if SUFFIX supplied)
  -l N, --line-length=N
                 specify the desired line-wrap length for the `l' command
  --posix
                 disable all GNU extensions.
  -E, -r, --regexp-extended
                 use extended regular expressions in the script
                 (for portability use POSIX -E).
  -s, --separate
                 consider files as separate rather than as a single,
                 continuous long stream.
      --sandbox
                 operate in sandbox mode (disable e/r/w commands).
  -u, --unbuffered
                 load minimal amounts of data from the input files and flush
                 the output buffers more often
  -z, --null-data
                 separate lines by NUL characters
      --help     display this help and exit
      --version  output version information and exit

If no -e, --expression, -f, or --file option is given, then the first
non-option argument is taken as the sed script to interpret.  All
remaining arguments are names of input files; if no input files are
specified, then the standard input is read.

GNU sed home page: <https://www.gnu.org/software/sed/>.
General help using GNU software: <https://www.gnu.org/gethelp/>.
";

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    // A bad option prints GNU's whole usage text, not the `Try` line.
    let p = parse_cmd(ctx, &SPEC).map_err(|e| match e.message {
        Some(m) if e.usage => CmdError::new(1, format!("{m}\n{}", USAGE.trim_end())),
        _ => e,
    })?;
    let mut pieces: Vec<parse::Piece> = Vec::new();
    let mut expr_no = 0usize;
    for (key, val) in &p.opts {
        match *key {
            "expression" => {
                expr_no += 1;
                pieces.push(parse::Piece {
                    origin: parse::Origin::Expr(expr_no),
                    text: val.clone().unwrap_or_default(),
                });
            }
            "file" => {
                let f = val.clone().unwrap_or_default();
                let data = if f == "-" {
                    let mut stdin = std::mem::replace(&mut ctx.stdin, mirage_types::Input::empty());
                    stdin.read_all().await.map_err(|e| {
                        CmdError::new(4, format!("couldn't open file -: {}", e.message()))
                    })?
                } else {
                    let abs = ctx.resolve(&f);
                    let src = ctx.vfs.read(&abs).await.map_err(|e| {
                        CmdError::new(4, format!("couldn't open file {f}: {}", e.message()))
                    })?;
                    src.collect().await.map_err(|e| {
                        CmdError::new(4, format!("couldn't open file {f}: {}", e.message()))
                    })?
                };
                let mut text = bytestr::decode(&data).into_owned();
                if text.ends_with('\n') {
                    text.pop();
                }
                pieces.push(parse::Piece {
                    origin: parse::Origin::File(f),
                    text,
                });
            }
            _ => {}
        }
    }
    let mut operands = p.operands.clone();
    if pieces.is_empty() {
        if operands.is_empty() {
            ctx.stdout.flush().await.ok();
            let _ = ctx.stderr.write(USAGE.as_bytes()).await;
            return Err(CmdError::status(1));
        }
        pieces.push(parse::Piece {
            origin: parse::Origin::Expr(1),
            text: operands.remove(0),
        });
    }
    let joined = pieces
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let script = parse::compile(&joined, p.has("ere"), p.has("sandbox")).map_err(|e| {
        // A missing label is found after compiling: GNU's `panic`, status 4.
        let status = if e.pos.is_none() { 4 } else { 1 };
        CmdError::new(
            status,
            format!("{}{}", parse::locate(&pieces, e.pos), e.msg),
        )
    })?;
    let line_len = match p.value("line-length") {
        // GNU reads it with atoi: leading digits, else 0 (no wrapping).
        Some(v) => {
            let digits: String = v
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<usize>().unwrap_or(0)
        }
        None => 70,
    };
    let in_place = if p.has("in-place") {
        Some(p.value("in-place").unwrap_or("").to_string())
    } else {
        None
    };
    let opts = exec::Opts {
        quiet: p.has("quiet") || script.hash_n,
        separate: p.has("separate") || in_place.is_some(),
        in_place,
        delim: if p.has("zero") { 0 } else { b'\n' },
        line_len,
        unbuffered: p.has("unbuffered"),
        posix: p.has("posix") || ctx.var("POSIXLY_CORRECT").is_some(),
    };
    if operands.is_empty() {
        if opts.in_place.is_some() {
            return Err(CmdError::new(4, "no input files"));
        }
        operands.push("-".to_string());
    }
    exec::run(ctx, &script, opts, operands).await
}

#[cfg(test)]
mod tests;
