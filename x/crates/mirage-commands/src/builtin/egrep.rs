//! `egrep`: `grep -E`, as Debian 12 ships it (a script running
//! `exec grep -E "$@"`): the patterns are extended regular expressions, messages and
//! `--help` speak as `grep`, and no "obsolescent" warning is printed
//! (Debian drops the one upstream GNU grep 3.8 prints).

use mirage_types::command::{CommandCtx, CommandFuture};

/// The spec of `egrep`: grep's own (options, and the name `grep` in
/// messages and `--help`, as the script runs grep).
pub use super::grep::SPEC;

crate::register_command!("egrep", SPEC, run);

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    ctx.args.insert(0, "-E".to_string());
    ctx.name = "grep".to_string();
    super::grep::run(ctx)
}
