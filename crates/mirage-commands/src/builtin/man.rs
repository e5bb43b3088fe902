//! `man`: show a command's manual. A workspace has no manual pages, so
//! `man NAME` prints the `--help` text of the registered command `NAME`
//! (built from its `CommandSpec`, as `NAME --help` prints it). Like
//! man-db: no operand says `What manual page do you want?` (status 1); a
//! name with no page says `No manual entry for NAME` (status 16, after
//! printing the pages it found).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands, help_text};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", Some('a'), Some("all")),
    OptSpec::value("pager", Some('P'), Some("pager")),
];

/// The spec of `man`: `[-a] NAME...` (a section number is skipped).
pub static SPEC: CommandSpec = CommandSpec::new("man", OPTS, PathOperands::None);

crate::register_command!("man", SPEC, run);

/// The page of `name`: its help text, if it is a registered command.
pub fn page(name: &str) -> Option<String> {
    crate::registry::resolve(name, None, None).map(|r| help_text(r.spec))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        ctx.stdout.flush().await?;
        ctx.stderr
            .write_str("What manual page do you want?\nFor example, try 'man man'.\n")
            .await?;
        return Ok(1);
    }
    let mut status = 0;
    for name in &p.operands {
        // `man 1 ls`: a section number
        if name.bytes().all(|b| b.is_ascii_digit()) && p.operands.len() > 1 {
            continue;
        }
        match page(name) {
            Some(text) => ctx.stdout.write_str(&text).await?,
            None => {
                ctx.stdout.flush().await?;
                ctx.stderr
                    .write_str(&format!("No manual entry for {name}\n"))
                    .await?;
                status = 16;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_are_the_help() {
        let t = super::page("man").unwrap();
        assert!(t.starts_with("Usage: man "));
        assert!(super::page("no-such-command").is_none());
    }
}
