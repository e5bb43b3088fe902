//! `basename`: strip directory and suffix from file names, as GNU
//! coreutils 9.1 `basename` (`NAME [SUFFIX]`, `-a`, `-s SUFFIX`, `-z`).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

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
        Some(s) if !s.is_empty() && base.len() > s.len() && base.ends_with(s) => {
            base[..base.len() - s.len()].to_string()
        }
        _ => base.to_string(),
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let ops = &p.operands;
    if ops.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let suffix_opt = p.value("suffix").map(str::to_string);
    let multiple = p.has("multiple") || suffix_opt.is_some();
    let (names, suffix): (Vec<String>, Option<String>) = if multiple {
        (ops.clone(), suffix_opt)
    } else {
        if ops.len() > 2 {
            return Err(CmdError::usage(format!("extra operand '{}'", ops[2])));
        }
        (vec![ops[0].clone()], ops.get(1).cloned())
    };
    let end = if p.has("zero") { '\0' } else { '\n' };
    let mut out = String::new();
    for n in &names {
        out.push_str(&base_name(n, suffix.as_deref()));
        out.push(end);
    }
    let _ = ctx.stdout.write_str(&out).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    #[test]
    fn gnu_base_names() {
        assert_eq!(base_name("/data/reports/summary.csv", None), "summary.csv");
        assert_eq!(
            base_name("/data/reports/summary.csv", Some(".csv")),
            "summary"
        );
        assert_eq!(base_name("/data/reports/", None), "reports");
        assert_eq!(base_name("file.txt", None), "file.txt");
        assert_eq!(base_name("//", None), "/");
        assert_eq!(base_name("///a//", None), "a");
        assert_eq!(base_name("", None), "");
        assert_eq!(base_name(".csv", Some(".csv")), ".csv");
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (&["/data/reports/summary.csv"], "", "summary.csv\n", 0),
            (&["/data/reports/summary.csv", ".csv"], "", "summary\n", 0),
            (&["/data/reports/"], "", "reports\n", 0),
            (&["file.txt"], "", "file.txt\n", 0),
            (&["-a", "/x/a", "/y/b"], "", "a\nb\n", 0),
            (&["-s", ".py", "/a/m.py", "/b/u.py"], "", "m\nu\n", 0),
            (&[], "", "", 1),
            (&["a", "b", "c"], "", "", 1),
            (&["-z", "a/b"], "", "b\0", 0),
            (&["//"], "", "/\n", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "basename", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
