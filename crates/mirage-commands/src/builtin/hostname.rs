//! `hostname`: print the workspace's host name, `mirage` (the shell's
//! `$HOSTNAME`), as Debian's `hostname` prints one: `-s` the short name,
//! `-f` the fully qualified one (the same), `-d` the domain (empty), `-i`
//! the address `127.0.1.1`. Setting the name (an operand) is refused as
//! for a non-root user: `you must be root to change the host name`,
//! status 1.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("short", Some('s'), Some("short")),
    OptSpec::flag("fqdn", Some('f'), Some("fqdn")),
    OptSpec::flag("fqdn", None, Some("long")),
    OptSpec::flag("domain", Some('d'), Some("domain")),
    OptSpec::flag("ip", Some('i'), Some("ip-address")),
    OptSpec::flag("ip", Some('I'), Some("all-ip-addresses")),
    OptSpec::flag("alias", Some('a'), Some("alias")),
];

/// The spec of `hostname`.
pub static SPEC: CommandSpec = CommandSpec::new("hostname", OPTS, PathOperands::None);

crate::register_command!("hostname", SPEC, run);

/// The workspace's host name.
pub const HOST_NAME: &str = "mirage";

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if !p.operands.is_empty() {
        return Err(CmdError::new(1, "you must be root to change the host name"));
    }
    let text = match p.last_of(&["short", "fqdn", "domain", "ip", "alias"]) {
        Some("domain" | "alias") => "\n".to_string(),
        Some("ip") => "127.0.1.1\n".to_string(),
        _ => format!("{HOST_NAME}\n"),
    };
    ctx.stdout.write_str(&text).await?;
    Ok(0)
}
