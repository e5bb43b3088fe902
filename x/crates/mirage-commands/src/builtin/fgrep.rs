//! `fgrep`: `grep -F`, as Debian 12 ships it (a script running
//! `exec grep -F "$@"`): the patterns are fixed strings, messages and
//! `--help` speak as `grep`, and no "obsolescent" warning is printed
//! (Debian drops the one upstream GNU grep 3.8 prints).

use mirage_types::command::{CommandCtx, CommandFuture};

/// The spec of `fgrep`: grep's own (options, and the name `grep` in
/// messages and `--help`, as the script runs grep).
pub use super::grep::SPEC;

crate::register_command!("fgrep", SPEC, run);

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    ctx.args.insert(0, "-F".to_string());
    ctx.name = "grep".to_string();
    super::grep::run(ctx)
}
