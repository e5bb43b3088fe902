//! `jq`: jq 1.6's command line over [`mirage_jq`] (the jaq interpreter).
//!
//! Options as jq 1.6 takes them (short flags may be combined, `-rc`):
//! `-c -r -j -a -n -s -R -S -e -C -M --tab --indent N --arg --argjson
//! --slurpfile --rawfile --args --jsonargs --stream -f FILE`. Files, `--slurpfile`, `--rawfile` and
//! `-f` are read through the VFS. The interpreter runs on its own thread
//! (jaq's values are not `Send`), fed input chunks as they arrive and
//! sending output back through bounded channels, so `jq` streams: a value
//! is printed as soon as its bytes are in, and a closed reader stops it.

use mirage_jq::{Config, InputEvent, NamedArg, USAGE_HINT};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, Input, bytestr};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("compact-output", Some('c'), Some("compact-output")),
    OptSpec::flag("raw-output", Some('r'), Some("raw-output")),
    OptSpec::flag("join-output", Some('j'), Some("join-output")),
    OptSpec::flag("ascii-output", Some('a'), Some("ascii-output")),
    OptSpec::flag("null-input", Some('n'), Some("null-input")),
    OptSpec::flag("slurp", Some('s'), Some("slurp")),
    OptSpec::flag("raw-input", Some('R'), Some("raw-input")),
    OptSpec::flag("sort-keys", Some('S'), Some("sort-keys")),
    OptSpec::flag("exit-status", Some('e'), Some("exit-status")),
    OptSpec::flag("color-output", Some('C'), Some("color-output")),
    OptSpec::flag("monochrome-output", Some('M'), Some("monochrome-output")),
    OptSpec::flag("tab", None, Some("tab")),
    OptSpec::value("indent", None, Some("indent")),
    OptSpec::value("arg", None, Some("arg")),
    OptSpec::value("argjson", None, Some("argjson")),
    OptSpec::value("slurpfile", None, Some("slurpfile")),
    OptSpec::value("rawfile", None, Some("rawfile")),
    OptSpec::value("from-file", Some('f'), Some("from-file")),
    OptSpec::flag("stream", None, Some("stream")),
    OptSpec::flag("args", None, Some("args")),
    OptSpec::flag("jsonargs", None, Some("jsonargs")),
];

/// The spec of `jq` (for `--help`; the arguments are parsed as jq 1.6
/// does, see `parse_jq_args`).
pub static SPEC: CommandSpec = CommandSpec::new("jq", OPTS, PathOperands::SkipFirst);

crate::register_command!("jq", SPEC, run);

/// A file-backed named argument still to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Ready(String, NamedArgKind),
    SlurpFile(String, String),
    RawFile(String, String),
}

/// A named argument given inline.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamedArgKind {
    Str(String),
    Json(String),
}

/// The command line, parsed.
#[derive(Debug, Default)]
struct JqArgs {
    cfg: Config,
    named: Vec<Pending>,
    from_file: Option<String>,
    files: Vec<String>,
}

/// Parses jq 1.6's command line; the error is its message after `jq: `.
fn parse_jq_args(args: &[String]) -> Result<JqArgs, String> {
    let mut a = JqArgs::default();
    let mut compact = false;
    let mut indent: Option<usize> = None;
    let mut tab = false;
    let mut filter: Option<String> = None;
    // After `--args` (`--jsonargs`), operands are `$ARGS.positional` strings (JSON texts).
    let mut positional: Option<bool> = None;
    let mut i = 0;
    let take = |i: usize, n: usize| -> Option<Vec<String>> {
        args.get(i + 1..i + 1 + n).map(<[String]>::to_vec)
    };
    while i < args.len() {
        let arg = &args[i];
        if let Some(long) = arg.strip_prefix("--") {
            match long {
                "compact-output" => compact = true,
                "raw-output" => a.cfg.raw_output = true,
                "join-output" => a.cfg.join_output = true,
                "ascii-output" => a.cfg.format.ascii = true,
                "null-input" => a.cfg.null_input = true,
                "slurp" => a.cfg.slurp = true,
                "raw-input" => a.cfg.raw_input = true,
                "sort-keys" => a.cfg.format.sort_keys = true,
                "exit-status" => a.cfg.exit_status = true,
                "color-output" | "monochrome-output" | "unbuffered" => {}
                "stream" => a.cfg.stream = true,
                "args" => positional = Some(false),
                "jsonargs" => positional = Some(true),
                "tab" => tab = true,
                "indent" => {
                    let v = take(i, 1).ok_or("--indent takes one parameter")?;
                    let n: i64 = v[0].trim().parse().unwrap_or(0);
                    if !(-1..=7).contains(&n) {
                        return Err("--indent takes a number between -1 and 7".into());
                    }
                    indent = Some(n.max(0) as usize);
                    i += 1;
                }
                "arg" | "argjson" => {
                    let v = take(i, 2).ok_or_else(|| {
                        format!(
                            "--{long} takes two parameters (e.g. --{long} varname {})",
                            if long == "arg" { "value" } else { "text" }
                        )
                    })?;
                    let kind = if long == "arg" {
                        NamedArgKind::Str(v[1].clone())
                    } else {
                        NamedArgKind::Json(v[1].clone())
                    };
                    a.named.push(Pending::Ready(v[0].clone(), kind));
                    i += 2;
                }
                "slurpfile" | "rawfile" => {
                    let v = take(i, 2).ok_or_else(|| {
                        format!("--{long} takes two parameters (e.g. --{long} varname filename)")
                    })?;
                    a.named.push(if long == "slurpfile" {
                        Pending::SlurpFile(v[0].clone(), v[1].clone())
                    } else {
                        Pending::RawFile(v[0].clone(), v[1].clone())
                    });
                    i += 2;
                }
                "from-file" => {
                    let v = take(i, 1).ok_or("-f takes a parameter")?;
                    a.from_file = Some(v[0].clone());
                    i += 1;
                }
                _ => return Err(format!("Unknown option {arg}")),
            }
        } else if arg.len() > 1 && arg.starts_with('-') && arg.as_bytes()[1].is_ascii_alphabetic() {
            // jq 1.6 takes `-5 | abs` as the program: an option is `-` and letters.
            for c in arg[1..].chars() {
                match c {
                    'c' => compact = true,
                    'r' => a.cfg.raw_output = true,
                    'j' => a.cfg.join_output = true,
                    'a' => a.cfg.format.ascii = true,
                    'n' => a.cfg.null_input = true,
                    's' => a.cfg.slurp = true,
                    'R' => a.cfg.raw_input = true,
                    'S' => a.cfg.format.sort_keys = true,
                    'e' => a.cfg.exit_status = true,
                    'C' | 'M' => {}
                    'f' => {
                        let v = take(i, 1).ok_or("-f takes a parameter")?;
                        a.from_file = Some(v[0].clone());
                        i += 1;
                    }
                    _ => return Err(format!("Unknown option {arg}")),
                }
            }
        } else if filter.is_none() && a.from_file.is_none() {
            filter = Some(arg.clone());
        } else if let Some(json) = positional {
            a.cfg.positional.push(if json {
                NamedArg::Json(arg.clone())
            } else {
                NamedArg::Str(arg.clone())
            });
        } else {
            a.files.push(arg.clone());
        }
        i += 1;
    }
    a.cfg.filter = filter.unwrap_or_else(|| ".".to_string());
    a.cfg.format.indent = if compact {
        None
    } else if tab {
        Some("\t".to_string())
    } else {
        match indent {
            Some(0) => None,
            Some(n) => Some(" ".repeat(n)),
            None => Some("  ".to_string()),
        }
    };
    Ok(a)
}

/// A message from the interpreter thread.
enum Out {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(i32),
}

/// The interpreter thread's [`mirage_jq::Output`]: a bounded channel.
struct ChanOut(tokio::sync::mpsc::Sender<Out>);

impl mirage_jq::Output for ChanOut {
    fn stdout(&mut self, bytes: &[u8]) -> bool {
        self.0.blocking_send(Out::Stdout(bytes.to_vec())).is_ok()
    }
    fn stderr(&mut self, bytes: &[u8]) {
        let _ = self.0.blocking_send(Out::Stderr(bytes.to_vec()));
    }
}

/// Reads a whole file for `--slurpfile`/`--rawfile`/`-f`; the error is
/// jq's `Could not open NAME: REASON`.
async fn read_file(ctx: &mut CommandCtx, name: &str) -> Result<Vec<u8>, String> {
    let src = crate::util::open_input_err(ctx, name)
        .await
        .map_err(|e| format!("Could not open {name}: {}", e.message()))?;
    let b = src
        .collect()
        .await
        .map_err(|e| format!("Could not open {name}: {}", e.message()))?;
    Ok(b.to_vec())
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let mut a = match parse_jq_args(&ctx.args) {
        Ok(a) => a,
        Err(msg) => {
            let text = format!("jq: {msg}\n{USAGE_HINT}");
            let _ = ctx.stderr.write(text.as_bytes()).await;
            return Ok(2);
        }
    };
    if let Some(f) = a.from_file.take() {
        match read_file(ctx, &f).await {
            Ok(b) => {
                // With -f the first operand is a file, not the program.
                if a.cfg.filter != "." || !a.files.is_empty() {
                    let prog = std::mem::take(&mut a.cfg.filter);
                    if prog != "." {
                        a.files.insert(0, prog);
                    }
                }
                a.cfg.filter = bytestr::decode_owned(b);
            }
            Err(e) => {
                let _ = ctx
                    .stderr
                    .write(format!("jq: error: {e}\n").as_bytes())
                    .await;
                return Ok(2);
            }
        }
    }
    for p in std::mem::take(&mut a.named) {
        let (name, arg) = match p {
            Pending::Ready(n, NamedArgKind::Str(s)) => (n, NamedArg::Str(s)),
            Pending::Ready(n, NamedArgKind::Json(s)) => (n, NamedArg::Json(s)),
            Pending::SlurpFile(n, f) => match read_file(ctx, &f).await {
                Ok(b) => (n, NamedArg::SlurpFile(f, b)),
                Err(e) => {
                    let m = format!("jq: Bad JSON in --slurpfile {n} {f}: {e}\n");
                    let _ = ctx.stderr.write(m.as_bytes()).await;
                    return Ok(2);
                }
            },
            Pending::RawFile(n, f) => match read_file(ctx, &f).await {
                Ok(b) => (n, NamedArg::RawFile(b)),
                Err(e) => {
                    let m = format!("jq: Bad JSON in --rawfile {n} {f}: {e}\n");
                    let _ = ctx.stderr.write(m.as_bytes()).await;
                    return Ok(2);
                }
            },
        };
        a.cfg.named.push((name, arg));
    }
    a.cfg.env = ctx
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    run_engine(ctx, a.cfg, a.files).await
}

/// Runs the interpreter thread, feeding it the input files (or stdin) and
/// copying what it prints to the command's streams.
async fn run_engine(
    ctx: &mut CommandCtx,
    cfg: Config,
    files: Vec<String>,
) -> Result<i32, CmdError> {
    use futures::StreamExt;
    let (in_tx, mut in_rx) = tokio::sync::mpsc::channel::<InputEvent>(4);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Out>(8);
    let spawned = std::thread::Builder::new()
        .name("jq".to_string())
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let mut out = ChanOut(out_tx);
            let status = mirage_jq::run(&cfg, Box::new(move || in_rx.blocking_recv()), &mut out);
            let _ = out.0.blocking_send(Out::Exit(status));
        });
    if spawned.is_err() {
        return Err(CmdError::new(5, "error: cannot start the interpreter"));
    }
    let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
    let vfs = ctx.vfs.clone();
    let operands: Vec<(String, String)> = if files.is_empty() {
        vec![("-".to_string(), String::new())]
    } else {
        files.iter().map(|f| (f.clone(), ctx.resolve(f))).collect()
    };
    for (f, abs) in &operands {
        if f != "-" {
            ctx.io.read(abs);
        }
    }
    let feed = async move {
        let mut stdin = Some(stdin);
        for (name, abs) in operands {
            let src = if name == "-" {
                match stdin.take() {
                    Some(s) => Ok(s.into_source()),
                    None => Ok(Input::empty().into_source()),
                }
            } else {
                match vfs.stat(&abs).await {
                    Ok(st) if st.is_dir() => Err(mirage_types::Error::new(ErrorKind::IsADirectory)),
                    Ok(_) => vfs.read(&abs).await,
                    Err(e) => Err(e),
                }
            };
            let label = if name == "-" {
                "<stdin>".to_string()
            } else {
                name.clone()
            };
            let src = match src {
                Ok(s) => s,
                Err(e) => {
                    let m = format!("jq: error: Could not open file {name}: {}\n", e.message());
                    if in_tx.send(InputEvent::OpenError(m)).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            if in_tx.send(InputEvent::File(label)).await.is_err() {
                return;
            }
            let mut stream = src.into_stream();
            while let Some(chunk) = stream.next().await {
                let Ok(chunk) = chunk else { break };
                if in_tx.send(InputEvent::Data(chunk.to_vec())).await.is_err() {
                    return;
                }
            }
        }
    };
    let stdout = &mut ctx.stdout;
    let stderr = &mut ctx.stderr;
    let drain = async move {
        let mut status = 5;
        let mut gone = false;
        while let Some(msg) = out_rx.recv().await {
            match msg {
                Out::Stdout(b) => {
                    if !gone
                        && let Err(e) = stdout.write(&b).await
                        && e.kind == ErrorKind::BrokenPipe
                    {
                        gone = true;
                        // Closing the channel stops the interpreter.
                        out_rx.close();
                    }
                }
                Out::Stderr(b) => {
                    let _ = stdout.flush().await;
                    let _ = stderr.write(&b).await;
                    let _ = stderr.flush().await;
                }
                Out::Exit(s) => status = s,
            }
        }
        status
    };
    let ((), status) = futures::join!(feed, drain);
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn command_line_as_jq_1_6() {
        let a = parse_jq_args(&args(&["-rc", ".a", "f1", "f2"])).unwrap_or_default();
        assert!(a.cfg.raw_output);
        assert_eq!(a.cfg.format.indent, None);
        assert_eq!(a.cfg.filter, ".a");
        assert_eq!(a.files, ["f1", "f2"]);
        let a =
            parse_jq_args(&args(&["--arg", "n", "v", "--indent", "1", "."])).unwrap_or_default();
        assert_eq!(
            a.named,
            [Pending::Ready("n".into(), NamedArgKind::Str("v".into()))]
        );
        assert_eq!(a.cfg.format.indent.as_deref(), Some(" "));
        assert_eq!(
            parse_jq_args(&args(&["-x"])).err().as_deref(),
            Some("Unknown option -x")
        );
        assert_eq!(
            parse_jq_args(&args(&["--arg", "x"])).err().as_deref(),
            Some("--arg takes two parameters (e.g. --arg varname value)")
        );
        assert_eq!(
            parse_jq_args(&args(&["--indent", "9"])).err().as_deref(),
            Some("--indent takes a number between -1 and 7")
        );
    }

    #[test]
    fn runs_over_files_and_stdin() {
        let vfs = MemVfs::with(&[
            ("/d/a.json", "{\"a\":1}\n{\"a\":2}\n"),
            ("/d/s.json", "[1] 2"),
        ]);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["-c", ".a", "a.json"], "", "1\n2\n", 0),
            (&[".[0]"], "[5]", "5\n", 0),
            (
                &["-n", "--slurpfile", "s", "s.json", "-c", "$s"],
                "",
                "[[1],2]\n",
                0,
            ),
            (
                &["-n", "--rawfile", "s", "s.json", "$s"],
                "",
                "\"[1] 2\"\n",
                0,
            ),
            (&[".", "nope.json"], "", "", 2),
            (&["-n", "1", "nope.json"], "", "1\n", 0),
            (&["."], "{", "", 4),
        ];
        for (argv, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "jq", argv, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{argv:?} stderr={err}");
        }
        let (_, err, _) = run_cmd(&vfs, run, "jq", &[".", "nope.json"], "/d", "");
        assert_eq!(
            err,
            "jq: error: Could not open file nope.json: No such file or directory\n"
        );
    }
}
