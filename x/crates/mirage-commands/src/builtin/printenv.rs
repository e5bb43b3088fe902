//! `printenv`: print the exported environment, as GNU coreutils 9.1
//! `printenv [-0] [NAME]...` (all of it as `NAME=VALUE` lines, or the
//! values of the names given; status 1 if one is missing, 2 for a usage
//! error).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[OptSpec::flag("null", Some('0'), Some("null"))];

/// The spec of `printenv` (usage status 2, as GNU's).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("printenv", OPTS, PathOperands::None)
};

crate::register_command!("printenv", SPEC, run);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let end = if p.has("null") { '\0' } else { '\n' };
    let mut out = String::new();
    let mut status = 0;
    if p.operands.is_empty() {
        for (k, v) in &ctx.env {
            out.push_str(k);
            out.push('=');
            out.push_str(v);
            out.push(end);
        }
    } else {
        for name in &p.operands {
            match ctx.env.get(name).filter(|_| !name.contains('=')) {
                Some(v) => {
                    out.push_str(v);
                    out.push(end);
                }
                None => status = 1,
            }
        }
    }
    ctx.stdout.write_str(&out).await?;
    Ok(status)
}
