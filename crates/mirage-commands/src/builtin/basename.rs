//! `basename`: strip directory and suffix from file names, as GNU
//! coreutils 9.1 `basename` (`NAME [SUFFIX]`, `-a`, `-s SUFFIX`, `-z`).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};

use crate::util::parse_args;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("multiple", Some('a'), Some("multiple")),
    OptSpec::value("suffix", Some('s'), Some("suffix")),
    OptSpec::flag("zero", Some('z'), Some("zero")),
];

/// The spec of `basename`.
pub static SPEC: CommandSpec = CommandSpec::new("basename", OPTS, PathOperands::None);

crate::register_command!("basename", SPEC, run);

/// The last component of `name` without trailing slashes, then without
/// `suffix` when it is a proper suffix (GNU `base_name` + `remove_suffix`).
fn base_name(name: &str, suffix: Option<&str>) -> String {
    if name.is_empty() {
        return String::new();
    }
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    let base = match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    };
    match suffix {
        Some(s) if !s.is_empty() && base.len() > s.len() && base.ends_with(s) => base[..base.len() - s.len()].to_string(),
        _ => base.to_string(),
    }
}

async fn usage(ctx: &mut CommandCtx, msg: &str) -> i32 {
    ctx.error(msg).await;
    let _ = ctx.stderr.write(b"Try 'basename --help' for more information.\n").await;
    1
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let ops = &p.operands;
        if ops.is_empty() {
            return usage(ctx, "missing operand").await;
        }
        let suffix_opt = p.value("suffix").map(str::to_string);
        let multiple = p.has("multiple") || suffix_opt.is_some();
        let (names, suffix): (Vec<String>, Option<String>) = if multiple {
            (ops.clone(), suffix_opt)
        } else {
            if ops.len() > 2 {
                return usage(ctx, &format!("extra operand '{}'", ops[2])).await;
            }
            (vec![ops[0].clone()], ops.get(1).cloned())
        };
        let end = if p.has("zero") { '\0' } else { '\n' };
        let mut out = String::new();
        for n in &names {
            out.push_str(&base_name(n, suffix.as_deref()));
            out.push(end);
        }
        let _ = ctx.stdout.write(out.as_bytes()).await;
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_base_names() {
        assert_eq!(base_name("/data/reports/summary.csv", None), "summary.csv");
        assert_eq!(base_name("/data/reports/summary.csv", Some(".csv")), "summary");
        assert_eq!(base_name("/data/reports/", None), "reports");
        assert_eq!(base_name("file.txt", None), "file.txt");
        assert_eq!(base_name("//", None), "/");
        assert_eq!(base_name("///a//", None), "a");
        assert_eq!(base_name("", None), "");
        assert_eq!(base_name(".csv", Some(".csv")), ".csv");
    }
}
