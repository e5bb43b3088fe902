//! `bash -c STRING [ARG0 [ARG]...]`, `bash FILE`, `bash` reading stdin:
//! a child shell (exported variables only, no functions).

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, run_source_named};
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::ShellState;

/// `bash -c STRING [ARG0 [ARG]...]`, `bash FILE`, `bash` reading stdin:
/// a child shell (exported variables only, no functions).
pub struct Bash;

#[async_trait]
impl Builtin for Bash {
    fn names(&self) -> &'static [&'static str] {
        &["bash", "sh"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("bash", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        let flags = match StartFlags::parse(name, args) {
            Ok(f) => f,
            Err(StartError::Option(c)) => {
                io.err(&format!("{name}: -{c}: invalid option\n{USAGE}"))
                    .await;
                return Ok(2);
            }
            Err(StartError::OptionName(o)) => {
                io.err(&format!(
                    "{name}: line 0: {name}: {o}: invalid option name\n"
                ))
                .await;
                return Ok(2);
            }
            Err(StartError::Argument(c)) => {
                io.err(&format!("{name}: -{c}: option requires an argument\n"))
                    .await;
                return Ok(2);
            }
        };
        let rest = &args[flags.operands..];
        let mut sub = st.clone();
        fresh_shell(&mut sub, &flags);
        let src = if flags.command {
            let Some(src) = rest.first() else {
                io.err(&format!("{name}: -c: option requires an argument\n"))
                    .await;
                return Ok(2);
            };
            if let Some(a0) = rest.get(1) {
                sub.arg0 = a0.clone();
            }
            sub.positional = rest.get(2..).unwrap_or_default().to_vec();
            sub.script_name = "bash".into();
            src.clone()
        } else if let Some(file) = rest.first() {
            // bash FILE: run a script from the VFS
            let path = mirage_types::join_path(&st.cwd, file);
            let data = match interp.vfs.read(&path).await {
                Ok(src) => src.collect().await.unwrap_or_default(),
                Err(e) => {
                    io.err(&format!("{name}: {file}: {}\n", e.message())).await;
                    return Ok(127);
                }
            };
            sub.positional = rest[1..].to_vec();
            sub.arg0 = file.clone();
            sub.script_name = file.clone();
            bytestr::decode(&data).into_owned()
        } else {
            // bash reading a script from stdin
            let mut input = io.take_stdin();
            let data = input.read_all().await.unwrap_or_default();
            sub.script_name = "bash".into();
            bytestr::decode(&data).into_owned()
        };
        crate::bashargv::new_shell(&mut sub);
        Ok(
            match run_source_named(interp, "bash", &src, &mut sub, io).await {
                Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                Err(_) => sub.last_status,
            },
        )
    }
}

/// Why a child `bash`'s options were refused.
#[derive(Debug)]
enum StartError {
    /// An unknown letter (`-Z`).
    Option(char),
    /// An unknown `-o` name.
    OptionName(String),
    /// `-o` or `-O` without its name.
    Argument(char),
}

/// What bash 5.2 prints after `bash: -Z: invalid option`.
const USAGE: &str = "Usage:\tbash [GNU long option] [option] ...\n\
\tbash [GNU long option] [option] script-file ...\n\
GNU long options:\n\
\t--debug\n\
\t--debugger\n\
\t--dump-po-strings\n\
\t--dump-strings\n\
\t--help\n\
\t--init-file\n\
\t--login\n\
\t--noediting\n\
\t--noprofile\n\
\t--norc\n\
\t--posix\n\
\t--pretty-print\n\
\t--rcfile\n\
\t--restricted\n\
\t--verbose\n\
\t--version\n\
Shell options:\n\
\t-ilrsD or -c command or -O shopt_option\t\t(invocation only)\n\
\t-abefhkmnptuvxBCEHPT or -o option\n\
";

/// The options a child `bash` was started with (bash 5.2's invocation:
/// `bash [-abefhkmnptuvxBCEHPT] [-o NAME] [-O SHOPT] [-c] [--posix] …`).
#[derive(Debug, Default)]
struct StartFlags {
    /// `-c`: the first operand is the command string.
    command: bool,
    /// `set` options turned on (`-e`, `-o pipefail`) or off (`+x`).
    set: Vec<(&'static str, bool)>,
    /// `-O NAME` / `+O NAME`: shopt settings.
    shopt: Vec<(String, bool)>,
    /// `--posix`, or invoked as `sh`.
    posix: bool,
    /// The index in the arguments of the first operand.
    operands: usize,
}

impl StartFlags {
    /// Reads the options before the first operand (`--` or `-` ends them);
    /// an unknown one gives bash's message (`-Z: invalid option`).
    fn parse(name: &str, args: &[String]) -> Result<Self, StartError> {
        let mut f = StartFlags {
            posix: name == "sh",
            ..StartFlags::default()
        };
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" || a == "-" {
                i += 1;
                break;
            }
            if a == "--posix" {
                f.posix = true;
                i += 1;
                continue;
            }
            if a.starts_with("--") {
                // --norc, --noprofile, --login…: nothing to read here
                i += 1;
                continue;
            }
            let on = a.starts_with('-');
            if a.len() < 2 || !(on || a.starts_with('+')) {
                break;
            }
            for c in a[1..].chars() {
                match c {
                    'c' => f.command = true,
                    'o' | 'O' => {
                        i += 1;
                        let Some(opt) = args.get(i) else {
                            return Err(StartError::Argument(c));
                        };
                        if c == 'O' {
                            f.shopt.push((opt.clone(), on));
                        } else {
                            match super::set::SET_OPTION_NAMES.iter().find(|n| **n == opt) {
                                Some(n) => f.set.push((n, on)),
                                None => return Err(StartError::OptionName(opt.clone())),
                            }
                        }
                    }
                    // interactive, login, restricted, stdin: nothing to do here
                    's' | 'i' | 'l' | 'r' => {}
                    _ => match super::set::letter_option(c) {
                        Some(n) => f.set.push((n, on)),
                        None => return Err(StartError::Option(c)),
                    },
                }
            }
            i += 1;
        }
        f.operands = i;
        Ok(f)
    }
}

/// Makes `sub`, a copy of the calling shell, the shell a new `bash`
/// process starts as: exported variables only; no functions, aliases,
/// traps, local frames or loops; `set` and `shopt` options at their
/// defaults, then those of `flags`.
fn fresh_shell(sub: &mut ShellState, flags: &StartFlags) {
    sub.functions.clear();
    sub.vars.retain(|_, v| v.exported);
    // the variables every new shell sets itself (`PS4`, `IFS`, `OPTIND`…)
    for (k, v) in ShellState::new(&sub.cwd).vars {
        sub.vars.entry(k).or_insert(v);
    }
    sub.local_frames.clear();
    sub.loop_depth = 0;
    sub.line_base = 0;
    sub.func_depth = 0;
    sub.traps.clear();
    sub.options = crate::state::Options {
        posix: flags.posix,
        ..Default::default()
    };
    sub.shopt = Default::default();
    sub.parse = Default::default();
    for (name, on) in &flags.set {
        if let Some(flag) = super::set::option_flag(&mut sub.options, name) {
            *flag = *on;
        }
    }
    for (name, on) in &flags.shopt {
        super::shopt::apply(sub, name, *on);
    }
}
