//! `env`: run a command in a changed environment, or print the
//! environment, as GNU coreutils 9.1
//! `env [-i0] [-u NAME]... [-C DIR] [-] [NAME=VALUE]... [COMMAND [ARG]...]`.
//!
//! The command runs through [`CommandCtx::runner`] (builtins and registered
//! commands, never a host process). Usage errors exit 125, a command that
//! does not exist 127 (`env: ‘x’: No such file or directory`).

use mirage_types::Input;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("ignore-environment", Some('i'), Some("ignore-environment")),
    OptSpec::flag("null", Some('0'), Some("null")),
    OptSpec::value("unset", Some('u'), Some("unset")),
    OptSpec::value("chdir", Some('C'), Some("chdir")),
];

/// The spec of `env`: options stop at the first operand, usage status 125.
pub static SPEC: CommandSpec = CommandSpec {
    stop_at_operand: true,
    usage_status: 125,
    ..CommandSpec::new("env", OPTS, PathOperands::None)
};

crate::register_command!("env", SPEC, run);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut env = ctx.env.clone();
    let mut ops: &[String] = &p.operands;
    // a lone `-` first is `-i`
    let ignore = p.has("ignore-environment") || ops.first().is_some_and(|o| o == "-");
    if ops.first().is_some_and(|o| o == "-") {
        ops = &ops[1..];
    }
    if ignore {
        env.clear();
    }
    for name in p.values("unset") {
        if name.is_empty() || name.contains('=') {
            return Err(CmdError::new(
                125,
                format!("cannot unset {}: Invalid argument", gnu_quote(name)),
            ));
        }
        env.remove(name);
    }
    while let Some((k, v)) = ops.first().and_then(|o| o.split_once('=')) {
        if k.is_empty() {
            let whole = ops.first().map_or("", String::as_str);
            return Err(CmdError::new(
                125,
                format!("cannot set {}: Invalid argument", gnu_quote(whole)),
            ));
        }
        env.insert(k.to_string(), v.to_string());
        ops = &ops[1..];
    }
    let chdir = p.value("chdir");
    if ops.is_empty() {
        if chdir.is_some() {
            return Err(CmdError::usage("must specify command with --chdir (-C)").with_status(125));
        }
        let end = if p.has("null") { '\0' } else { '\n' };
        let mut out = String::new();
        for (k, v) in &env {
            out.push_str(k);
            out.push('=');
            out.push_str(v);
            out.push(end);
        }
        ctx.stdout.write_str(&out).await?;
        return Ok(0);
    }
    if p.has("null") {
        return Err(CmdError::usage("cannot specify --null (-0) with command").with_status(125));
    }
    let mut cwd = ctx.cwd.clone();
    if let Some(dir) = chdir {
        let abs = ctx.resolve(dir);
        let msg = match ctx.vfs.stat(&abs).await {
            Ok(st) if st.is_dir() => None,
            Ok(_) => Some(
                mirage_types::ErrorKind::NotADirectory
                    .gnu_message()
                    .to_string(),
            ),
            Err(e) => Some(e.message().to_string()),
        };
        if let Some(msg) = msg {
            return Err(CmdError::new(
                125,
                format!("cannot change directory to {}: {msg}", gnu_quote(dir)),
            ));
        }
        cwd = abs;
    }
    let Some(runner) = ctx.runner.clone() else {
        return Err(CmdError::new(
            125,
            "running a command is not available here",
        ));
    };
    if !runner.has_command(&ops[0]) {
        return Err(CmdError::new(
            127,
            format!("{}: No such file or directory", gnu_quote(&ops[0])),
        ));
    }
    ctx.stdout.flush().await?;
    let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
    Ok(runner
        .run_argv(
            ops.to_vec(),
            cwd,
            env,
            stdin,
            ctx.stdout.sink().clone(),
            ctx.stderr.sink().clone(),
        )
        .await)
}
