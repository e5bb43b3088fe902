//! `type [-afptP] NAME…`: says what a name is, as bash 5.2 does: an alias
//! (when `expand_aliases` is on), a keyword, a function, a builtin, or a
//! registered command shown at `/usr/bin/NAME` (and `/bin/NAME` for `-a`,
//! following `PATH`), `hashed` once the shell has run it. `-t` prints the
//! kind alone, `-p` the path of a command (nothing for other kinds), `-P`
//! the path even when a builtin or function has the name, `-f` skips
//! functions, `-a` lists every meaning. A name with no meaning makes the
//! status 1 (and says `type: NAME: not found` unless `-t`, `-p` or `-P`).
//! Function bodies are not printed back.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, is_builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `type` builtin.
pub struct Type;

/// The reserved words of bash.
pub(crate) const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "{", "}", "!", "[[", "]]", "coproc",
];

#[derive(Default)]
struct Flags {
    all: bool,
    no_func: bool,
    path_only: bool,
    terse: bool,
    force_path: bool,
}

/// One meaning of a name: its kind for `-t` and its line for plain `type`.
struct Meaning {
    kind: &'static str,
    line: String,
    path: Option<String>,
}

async fn meanings(interp: &Interp, st: &mut ShellState, name: &str, f: &Flags) -> Vec<Meaning> {
    let mut v = Vec::new();
    if !f.force_path {
        if st.parse.expand_aliases
            && let Some(a) = st.parse.aliases.get(name)
        {
            v.push(Meaning {
                kind: "alias",
                line: format!("{name} is aliased to `{a}'\n"),
                path: None,
            });
        }
        if KEYWORDS.contains(&name) {
            v.push(Meaning {
                kind: "keyword",
                line: format!("{name} is a shell keyword\n"),
                path: None,
            });
        }
        if !f.no_func
            && let Some(body) = st.functions.get(name)
        {
            // bash prints the function's text after the line
            let text = crate::funcprint::print_function(name, body);
            v.push(Meaning {
                kind: "function",
                line: format!("{name} is a function\n{text}\n"),
                path: None,
            });
        }
        if is_builtin(name) {
            v.push(Meaning {
                kind: "builtin",
                line: format!("{name} is a shell builtin\n"),
                path: None,
            });
        }
    }
    if !f.all && !v.is_empty() {
        return v;
    }
    if name.contains('/') {
        let p = mirage_types::join_path(&st.cwd, name);
        if interp.vfs.stat(&p).await.is_ok_and(|s| s.is_file()) {
            v.push(Meaning {
                kind: "file",
                line: format!("{name} is {name}\n"),
                path: Some(name.to_string()),
            });
        }
        return v;
    }
    if !f.all
        && let Some(p) = super::hash::hit(st, name)
    {
        v.push(Meaning {
            kind: "file",
            line: format!("{name} is hashed ({p})\n"),
            path: Some(p),
        });
        return v;
    }
    if super::hash::has_file(interp, name) {
        for p in super::hash::command_paths(st, name) {
            v.push(Meaning {
                kind: "file",
                line: format!("{name} is {p}\n"),
                path: Some(p),
            });
        }
    } else if let Some(p) = interp.path_lookup(name, st).await {
        // an executable file in a PATH directory of the workspace
        v.push(Meaning {
            kind: "file",
            line: format!("{name} is {p}\n"),
            path: Some(p),
        });
    }
    v
}

/// What `command -v` (`verbose` false) or `command -V` (true) prints for
/// `name`, as bash 5.2: the first meaning `type` finds, `-V` in `type`'s
/// words (a function with its text), `-v` as something to type again (an
/// alias definition, the name of a keyword, function or builtin, the path
/// of a file). `std_path` (`command -p`) looks commands up along bash's
/// standard path (`/bin/NAME`). `None`: the name has no meaning.
pub(crate) async fn describe(
    interp: &Interp,
    st: &mut ShellState,
    name: &str,
    verbose: bool,
    std_path: bool,
) -> Option<String> {
    let m = meanings(interp, st, name, &Flags::default())
        .await
        .into_iter()
        .next()?;
    let path = match m.path {
        Some(_) if std_path && !name.contains('/') => Some(format!("/bin/{name}")),
        p => p,
    };
    Some(match (verbose, m.kind, path) {
        (true, "file", Some(p)) if std_path => format!("{name} is {p}\n"),
        (true, ..) => m.line,
        (false, "alias", _) => {
            let value = st.parse.aliases.get(name).cloned().unwrap_or_default();
            super::alias::definition(name, &value)
        }
        (false, _, Some(p)) => format!("{p}\n"),
        (false, ..) => format!("{name}\n"),
    })
}

#[async_trait]
impl Builtin for Type {
    fn names(&self) -> &'static [&'static str] {
        &["type"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut f = Flags::default();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
                break;
            };
            for c in flags.chars() {
                match c {
                    'a' => f.all = true,
                    'f' => f.no_func = true,
                    'p' => f.path_only = true,
                    't' => f.terse = true,
                    'P' => f.force_path = true,
                    _ => {
                        io.err(&format!(
                            "{}type: -{c}: invalid option\ntype: usage: type [-afptP] name [name ...]\n",
                            st.diag()
                        ))
                        .await;
                        return Ok(2);
                    }
                }
            }
            i += 1;
        }
        let mut status = 0;
        let mut buf = String::new();
        for name in &args[i..] {
            let found = meanings(interp, st, name, &f).await;
            if found.is_empty() {
                status = 1;
                if !(f.terse || f.path_only || f.force_path) {
                    out(io, &bytestr::encode(&std::mem::take(&mut buf))).await?;
                    io.err(&format!("{}type: {name}: not found\n", st.diag()))
                        .await;
                }
                continue;
            }
            let shown = if f.all { found.len() } else { 1 };
            for m in found.iter().take(shown) {
                if f.path_only || f.force_path {
                    if let Some(p) = &m.path {
                        buf.push_str(p);
                        buf.push('\n');
                    }
                } else if f.terse {
                    buf.push_str(m.kind);
                    buf.push('\n');
                } else {
                    buf.push_str(&m.line);
                }
            }
        }
        out(io, &bytestr::encode(&buf)).await?;
        Ok(status)
    }
}
