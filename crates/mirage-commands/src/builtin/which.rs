//! `which`: locate a command, as Debian's `which` (debianutils): for each
//! name, the first directory of `PATH` that holds it (`-a`: every one),
//! printed as `DIR/NAME`. In a workspace the programs are the registered
//! commands (plus the builtins Debian also ships as files, `echo`,
//! `printf`, `test`, `[`, `true`, `false`, `pwd`, `kill`), and they live
//! in `/usr/bin` and `/bin`, as `type` and `command -v` show them. A name
//! with a `/` is printed when that path is an existing file. Status 1 when
//! a name is not found (nothing is printed for it), 2 for a bad option
//! (`Illegal option -x` and the usage line).

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

const OPTS: &[OptSpec] = &[OptSpec::flag("all", Some('a'), None)];

/// The spec of `which`: `[-a] NAME...` (usage errors exit 2).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("which", OPTS, PathOperands::None)
};

crate::register_command!("which", SPEC, run);

/// Builtins Debian also ships as programs in `/usr/bin`.
const ALSO_FILES: &[&str] = &[
    "echo", "printf", "test", "[", "true", "false", "pwd", "kill",
];

/// Whether `name` is a program of the workspace.
pub fn is_program(name: &str) -> bool {
    ALSO_FILES.contains(&name) || crate::registry::registrations(name).next().is_some()
}

/// The places `name` is found along `path` (a `PATH` value): `/usr/bin`
/// and `/bin` entries, in order, each once.
fn places(path: &str, name: &str, all: bool) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    if !is_program(name) {
        return v;
    }
    for d in path.split(':') {
        let d = d.trim_end_matches('/');
        if matches!(d, "/usr/bin" | "/bin") {
            let p = format!("{d}/{name}");
            if !v.contains(&p) {
                v.push(p);
            }
            if !all {
                break;
            }
        }
    }
    v
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let mut all = false;
    let mut names = Vec::new();
    let mut opts_done = false;
    for a in &ctx.args {
        if !opts_done && a == "--" {
            opts_done = true;
        } else if !opts_done && a.starts_with('-') && a.len() > 1 {
            for c in a.chars().skip(1) {
                if c == 'a' {
                    all = true;
                } else {
                    let msg = format!("Illegal option -{c}\nUsage: /usr/bin/which [-a] args\n");
                    ctx.stdout.flush().await?;
                    ctx.stderr.write_str(&msg).await?;
                    return Ok(2);
                }
            }
        } else {
            opts_done = true;
            names.push(a.clone());
        }
    }
    let path = ctx.var("PATH").unwrap_or("/usr/bin:/bin").to_string();
    let mut status = 0;
    let mut out = String::new();
    for name in &names {
        if name.contains('/') {
            let abs = ctx.resolve(name);
            match ctx.vfs.stat(&abs).await {
                Ok(st) if !st.is_dir() => out.push_str(&format!("{name}\n")),
                _ => status = 1,
            }
            continue;
        }
        let found = places(&path, name, all);
        if found.is_empty() {
            status = 1;
        }
        for p in found {
            out.push_str(&p);
            out.push('\n');
        }
    }
    ctx.stdout
        .write(&mirage_types::bytestr::encode(&out))
        .await?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::places;

    #[test]
    fn along_path() {
        assert_eq!(places("/usr/bin:/bin", "echo", false), ["/usr/bin/echo"]);
        assert_eq!(
            places("/usr/bin:/bin", "echo", true),
            ["/usr/bin/echo", "/bin/echo"]
        );
        assert!(places("/usr/bin", "cd", true).is_empty());
        assert!(places("/opt", "echo", true).is_empty());
    }
}
