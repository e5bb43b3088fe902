//! `uname`: print system information, as GNU coreutils 9.1 `uname`, with
//! the workspace's values rather than the host's (a Mirage workspace is
//! its own machine): kernel name `Linux`, node name `mirage` (the shell's
//! `$HOSTNAME`), kernel release `6.1.0-mirage`, kernel version
//! `#1 SMP Mirage`, machine `x86_64`, operating system `GNU/Linux`;
//! processor and hardware platform are `unknown`, so `-a` leaves them
//! out as GNU does. No option is `-s`.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", Some('a'), Some("all")),
    OptSpec::flag("kernel-name", Some('s'), Some("kernel-name")),
    OptSpec::flag("nodename", Some('n'), Some("nodename")),
    OptSpec::flag("kernel-release", Some('r'), Some("kernel-release")),
    OptSpec::flag("kernel-version", Some('v'), Some("kernel-version")),
    OptSpec::flag("machine", Some('m'), Some("machine")),
    OptSpec::flag("processor", Some('p'), Some("processor")),
    OptSpec::flag("hardware-platform", Some('i'), Some("hardware-platform")),
    OptSpec::flag("operating-system", Some('o'), Some("operating-system")),
];

/// The spec of `uname`.
pub static SPEC: CommandSpec = CommandSpec::new("uname", OPTS, PathOperands::None);

crate::register_command!("uname", SPEC, run);

/// The workspace's fields, in `-a` order, with their option keys.
const FIELDS: &[(&str, &str)] = &[
    ("kernel-name", "Linux"),
    ("nodename", "mirage"),
    ("kernel-release", "6.1.0-mirage"),
    ("kernel-version", "#1 SMP Mirage"),
    ("machine", "x86_64"),
    ("processor", "unknown"),
    ("hardware-platform", "unknown"),
    ("operating-system", "GNU/Linux"),
];

/// The line for the options given (`keys`; `all` for `-a`).
fn line(has: impl Fn(&str) -> bool) -> String {
    let all = has("all");
    let any = FIELDS.iter().any(|(k, _)| has(k));
    let mut parts = Vec::new();
    for (k, v) in FIELDS {
        let wanted = if all {
            *v != "unknown" || has(k)
        } else if any {
            has(k)
        } else {
            *k == "kernel-name"
        };
        if wanted {
            parts.push(*v);
        }
    }
    parts.join(" ") + "\n"
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if let Some(extra) = p.operands.first() {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(extra)
        )));
    }
    ctx.stdout.write_str(&line(|k| p.has(k))).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn fields_in_gnu_order() {
        assert_eq!(line(|_| false), "Linux\n");
        assert_eq!(
            line(|k| k == "all"),
            "Linux mirage 6.1.0-mirage #1 SMP Mirage x86_64 GNU/Linux\n"
        );
        assert_eq!(
            line(|k| k == "machine" || k == "nodename"),
            "mirage x86_64\n"
        );
    }
}
