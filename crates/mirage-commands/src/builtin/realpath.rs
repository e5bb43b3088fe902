//! `realpath`: print the resolved absolute path, as GNU coreutils 9.1
//! `realpath` (`-e`, `-m`, `-s`/`--no-symlinks`, `-L`, `-P`, `-q`, `-z`,
//! `--relative-to=DIR`, `--relative-base=DIR`). By default every component
//! but the last must exist; a failure is `realpath: X: No such file or
//! directory` (or `Not a directory`) and status 1.
//!
//! [`canonicalize`] is the resolver `readlink -f/-e/-m` shares: it walks
//! the path one component at a time through the VFS (`lstat`, then
//! `readlink` for a link), as GNU's `canonicalize_filename_mode` behaves.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{Error, ErrorKind, FileType, Vfs};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag(
        "canonicalize-existing",
        Some('e'),
        Some("canonicalize-existing"),
    ),
    OptSpec::flag(
        "canonicalize-missing",
        Some('m'),
        Some("canonicalize-missing"),
    ),
    OptSpec::flag("logical", Some('L'), Some("logical")),
    OptSpec::flag("physical", Some('P'), Some("physical")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("strip", Some('s'), Some("strip")),
    OptSpec::flag("no-symlinks", None, Some("no-symlinks")),
    OptSpec::flag("zero", Some('z'), Some("zero")),
    OptSpec::value("relative-to", None, Some("relative-to")),
    OptSpec::value("relative-base", None, Some("relative-base")),
];

/// The spec of `realpath`.
pub static SPEC: CommandSpec = CommandSpec::new("realpath", OPTS, PathOperands::All);

crate::register_command!("realpath", SPEC, run);

/// How much of a path must exist for [`canonicalize`] (GNU's
/// `canonicalize_mode_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every component must exist (`-e`).
    Existing,
    /// Every component but the last must exist (`realpath`, `readlink -f`).
    AllButLast,
    /// Nothing need exist (`-m`).
    Missing,
}

/// The most links followed while resolving one path (Linux's 40).
const MAX_LINKS: usize = 40;

/// The components of `path`, in order (empty ones and `.` dropped).
fn components(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect()
}

/// The canonical absolute form of `path` (relative paths are taken from
/// `cwd`, itself resolved physically first): `.` and `..` removed and, with
/// `follow`, every symlink resolved through `vfs`. `mode` says what must
/// exist. Errors: `NotFound`, `NotADirectory` (a file used as a directory,
/// or a trailing `/` on a file), `TooManyLinks` for a loop.
pub async fn canonicalize(
    vfs: &dyn Vfs,
    cwd: &str,
    path: &str,
    mode: Mode,
    follow: bool,
) -> Result<String, Error> {
    let mut todo: Vec<String> = Vec::new(); // reversed: the next component last
    let mut base = Vec::new();
    if !path.starts_with('/') {
        let cwd = if follow {
            vfs.realpath(cwd).await.unwrap_or_else(|_| cwd.to_string())
        } else {
            cwd.to_string()
        };
        base = components(&cwd);
    }
    let mut rest = components(path);
    let trailing_slash = path.ends_with('/') && !rest.is_empty();
    rest.reverse();
    todo.extend(rest);
    let mut resolved: Vec<String> = Vec::new();
    for c in base {
        if c == ".." {
            resolved.pop();
        } else {
            resolved.push(c);
        }
    }
    let join = |r: &[String]| format!("/{}", r.join("/"));
    let mut links = 0;
    // once a component is missing (or not a directory under -m), the rest is lexical
    let mut lexical = false;
    let mut last_was_file = false;
    while let Some(c) = todo.pop() {
        if c == ".." {
            resolved.pop();
            last_was_file = false;
            continue;
        }
        if lexical {
            resolved.push(c);
            continue;
        }
        if last_was_file {
            // a file used as a directory
            if mode != Mode::Missing {
                return Err(Error::at(ErrorKind::NotADirectory, join(&resolved)));
            }
            lexical = true;
            resolved.push(c);
            continue;
        }
        resolved.push(c);
        let cand = join(&resolved);
        let is_last = todo.is_empty();
        let st = if follow {
            vfs.lstat(&cand).await
        } else {
            vfs.stat(&cand).await
        };
        match st {
            Ok(st) if follow && st.file_type == FileType::Symlink => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Error::at(ErrorKind::TooManyLinks, cand));
                }
                let target = vfs.readlink(&cand).await?;
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                }
                let mut t = components(&target);
                t.reverse();
                todo.extend(t);
            }
            Ok(st) => last_was_file = !st.is_dir(),
            Err(e) if e.kind == ErrorKind::NotFound => match mode {
                Mode::Existing => return Err(e),
                Mode::AllButLast if !is_last => return Err(e),
                _ => lexical = true,
            },
            Err(e) if e.kind == ErrorKind::NotADirectory && mode == Mode::Missing => {
                lexical = true;
            }
            Err(e) => return Err(e),
        }
    }
    if trailing_slash && last_was_file && mode != Mode::Missing {
        return Err(Error::at(ErrorKind::NotADirectory, join(&resolved)));
    }
    Ok(join(&resolved))
}

/// `path` relative to the directory `dir` (both absolute and canonical):
/// `../tests/x` for `/p/tests/x` from `/p/src`, `.` for the same path.
pub fn relative(path: &str, dir: &str) -> String {
    let p = components(path);
    let d = components(dir);
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; d.len() - common];
    parts.extend(p[common..].iter().map(String::as_str));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Whether the canonical `path` is `base` or below it.
fn under(path: &str, base: &str) -> bool {
    base == "/" || path == base || path.strip_prefix(base).is_some_and(|r| r.starts_with('/'))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    let mode = match p.last_of(&["canonicalize-existing", "canonicalize-missing"]) {
        Some("canonicalize-existing") => Mode::Existing,
        Some("canonicalize-missing") => Mode::Missing,
        _ => Mode::AllButLast,
    };
    let follow = !(p.has("strip") || p.has("no-symlinks"))
        && p.last_of(&["logical", "physical"]) != Some("logical");
    let quiet = p.has("quiet");
    let end = if p.has("zero") { "\0" } else { "\n" };
    let vfs = ctx.vfs.clone();
    let cwd = ctx.cwd.clone();
    let mut rel_to = None;
    let mut rel_base = None;
    for (key, slot) in [
        ("relative-to", &mut rel_to),
        ("relative-base", &mut rel_base),
    ] {
        if let Some(d) = p.value(key) {
            match canonicalize(&*vfs, &cwd, d, mode, follow).await {
                Ok(c) => *slot = Some(c),
                Err(e) => {
                    ctx.error(format!("{d}: {}", e.message())).await;
                    return Ok(1);
                }
            }
        }
    }
    if let (Some(t), Some(b)) = (&rel_to, &rel_base)
        && !under(t, b)
    {
        // GNU ignores both when the target is not under the base
        rel_to = None;
        rel_base = None;
    }
    let mut status = 0;
    for op in &p.operands {
        match canonicalize(&*vfs, &cwd, op, mode, follow).await {
            Ok(c) => {
                let shown = match (&rel_to, &rel_base) {
                    (Some(t), Some(b)) if under(&c, b) => relative(&c, t),
                    (Some(t), None) => relative(&c, t),
                    (None, Some(b)) if under(&c, b) => relative(&c, b),
                    _ => c,
                };
                let line = format!("{shown}{end}");
                ctx.stdout
                    .write(&mirage_types::bytestr::encode(&line))
                    .await?;
            }
            Err(e) => {
                if !quiet {
                    ctx.error(format!("{op}: {}", e.message())).await;
                }
                status = 1;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn relative_paths() {
        assert_eq!(relative("/p/tests/x", "/p/src"), "../tests/x");
        assert_eq!(relative("/p/src", "/"), "p/src");
        assert_eq!(relative("/p", "/p"), ".");
        assert_eq!(relative("/", "/a/b"), "../..");
    }

    #[test]
    fn resolves_as_gnu() {
        let v = MemVfs::with(&[("/d/a", "x"), ("/d/sub/", "")]);
        let r = |args: &[&str]| run_cmd(&v, run, "realpath", args, "/d/sub", "");
        assert_eq!(r(&["../a", "."]).0, "/d/a\n/d/sub\n");
        let (o, e, s) = r(&["/d/nope/x", "/d/a/x"]);
        assert_eq!(o, "");
        assert_eq!(
            e,
            "realpath: /d/nope/x: No such file or directory\nrealpath: /d/a/x: Not a directory\n"
        );
        assert_eq!(s, 1);
        assert_eq!(r(&["-m", "/d/nope/../x", "/d/a/x/.."]).0, "/d/x\n/d/a\n");
        assert_eq!(r(&["--relative-to=/d/sub", "/d/a"]).0, "../a\n");
        assert_eq!(r(&["-e", "nope"]).2, 1);
    }
}
