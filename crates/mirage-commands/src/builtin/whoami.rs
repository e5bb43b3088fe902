//! `whoami`: print the session user's name, as GNU coreutils 9.1
//! `whoami` (`USER`, else `LOGNAME`, else `root`, as `id` and `ls -l`
//! see it). An operand is `extra operand`.

use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

/// The spec of `whoami`: no options.
pub static SPEC: CommandSpec = CommandSpec::new("whoami", &[], PathOperands::None);

crate::register_command!("whoami", SPEC, run);

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if let Some(extra) = p.operands.first() {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(extra)
        )));
    }
    let (user, _) = super::id::session_user(ctx);
    ctx.stdout.write_str(&format!("{user}\n")).await?;
    Ok(0)
}
