//! `nproc`: print the number of processing units, as GNU coreutils 9.1
//! `nproc`: the units this process may use (`--all`: all of them; the two
//! are the same here), or `OMP_NUM_THREADS` when it is a positive number
//! (capped by `OMP_THREAD_LIMIT`), minus `--ignore=N`, never below 1.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", None, Some("all")),
    OptSpec::value("ignore", None, Some("ignore")),
];

/// The spec of `nproc`.
pub static SPEC: CommandSpec = CommandSpec::new("nproc", OPTS, PathOperands::None);

crate::register_command!("nproc", SPEC, run);

/// The count for `units` available, the OpenMP variables and `ignore`.
fn count(units: u64, omp: Option<&str>, limit: Option<&str>, all: bool, ignore: u64) -> u64 {
    let positive = |v: Option<&str>| {
        v.and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|n| *n > 0)
    };
    let mut n = units;
    if !all {
        if let Some(t) = positive(omp) {
            n = t;
        }
        if let Some(l) = positive(limit) {
            n = n.min(l);
        }
    }
    n.saturating_sub(ignore).max(1)
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
    let ignore = match p.value("ignore") {
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| CmdError::new(1, format!("invalid number: {}", gnu_quote(v))))?,
        None => 0,
    };
    let units = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let n = count(
        units,
        ctx.var("OMP_NUM_THREADS"),
        ctx.var("OMP_THREAD_LIMIT"),
        p.has("all"),
        ignore,
    );
    ctx.stdout.write_str(&format!("{n}\n")).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn omp_and_ignore() {
        assert_eq!(count(4, None, None, false, 0), 4);
        assert_eq!(count(4, Some("2"), None, false, 0), 2);
        assert_eq!(count(4, Some("8"), Some("3"), false, 0), 3);
        assert_eq!(count(4, Some("8"), None, true, 0), 4);
        assert_eq!(count(4, None, None, false, 10), 1);
    }
}
