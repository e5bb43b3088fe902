//! `shopt` options and pathname expansion.
//!
//! [`Shopts`] holds every option bash 5.2's `shopt` knows (with its default
//! under `bash -c`); the ones Mirage acts on are the globbing and matching
//! options (`nullglob`, `dotglob`, `globstar`, `extglob`, `nocaseglob`,
//! `nocasematch`, `failglob`), `lastpipe` and `expand_aliases`.
//!
//! [`expand`] is bash's pathname expansion against the [`Vfs`]: pattern
//! components are matched against directory listings; hidden names match
//! only a component that starts with `.` (unless `dotglob` or `GLOBIGNORE`);
//! `**` under `globstar` matches any depth of directories; results are
//! sorted in byte order (LC_ALL=C.UTF-8); `GLOBIGNORE` removes matches.

use mirage_types::Vfs;

use crate::exec::{Flow, Io};
use crate::pattern::{self, MatchOpts};
use crate::state::ShellState;

/// Every `shopt` option of bash 5.2 and its default in `bash -c`, in the
/// order `shopt` lists them.
pub const SHOPT_OPTIONS: &[(&str, bool)] = &[
    ("autocd", false),
    ("assoc_expand_once", false),
    ("cdable_vars", false),
    ("cdspell", false),
    ("checkhash", false),
    ("checkjobs", false),
    ("checkwinsize", true),
    ("cmdhist", true),
    ("compat31", false),
    ("compat32", false),
    ("compat40", false),
    ("compat41", false),
    ("compat42", false),
    ("compat43", false),
    ("compat44", false),
    ("complete_fullquote", true),
    ("direxpand", false),
    ("dirspell", false),
    ("dotglob", false),
    ("execfail", false),
    ("expand_aliases", false),
    ("extdebug", false),
    ("extglob", false),
    ("extquote", true),
    ("failglob", false),
    ("force_fignore", true),
    ("globasciiranges", true),
    ("globskipdots", true),
    ("globstar", false),
    ("gnu_errfmt", false),
    ("histappend", false),
    ("histreedit", false),
    ("histverify", false),
    ("hostcomplete", true),
    ("huponexit", false),
    ("inherit_errexit", false),
    ("interactive_comments", true),
    ("lastpipe", false),
    ("lithist", false),
    ("localvar_inherit", false),
    ("localvar_unset", false),
    ("login_shell", false),
    ("mailwarn", false),
    ("no_empty_cmd_completion", false),
    ("nocaseglob", false),
    ("nocasematch", false),
    ("noexpand_translation", false),
    ("nullglob", false),
    ("patsub_replacement", true),
    ("progcomp", true),
    ("progcomp_alias", false),
    ("promptvars", true),
    ("restricted_shell", false),
    ("shift_verbose", false),
    ("sourcepath", true),
    ("varredir_close", false),
    ("xpg_echo", false),
];

/// The session's `shopt` settings (one flag per [`SHOPT_OPTIONS`] entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shopts {
    on: Vec<bool>,
    /// `nocasematch` (read by every `case` pattern and `[[ == ]]`).
    nocasematch: bool,
    /// `lastpipe` (read by every pipeline).
    lastpipe: bool,
}

impl Default for Shopts {
    fn default() -> Self {
        Shopts {
            on: SHOPT_OPTIONS.iter().map(|(_, v)| *v).collect(),
            nocasematch: false,
            lastpipe: false,
        }
    }
}

impl Shopts {
    /// The value of option `name`, or `None` if bash has no such option.
    pub fn get(&self, name: &str) -> Option<bool> {
        let i = SHOPT_OPTIONS.iter().position(|(n, _)| *n == name)?;
        self.on.get(i).copied()
    }
    /// Whether option `name` is on (false for an unknown name).
    pub fn is(&self, name: &str) -> bool {
        match name {
            "nocasematch" => self.nocasematch,
            "lastpipe" => self.lastpipe,
            _ => self.get(name).unwrap_or(false),
        }
    }
    /// Sets option `name`; false if bash has no such option.
    pub fn set(&mut self, name: &str, value: bool) -> bool {
        match SHOPT_OPTIONS.iter().position(|(n, _)| *n == name) {
            Some(i) => {
                if let Some(v) = self.on.get_mut(i) {
                    *v = value;
                }
                match name {
                    "nocasematch" => self.nocasematch = value,
                    "lastpipe" => self.lastpipe = value,
                    _ => {}
                }
                true
            }
            None => false,
        }
    }
    /// Every option with its value, in listing order.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, bool)> + '_ {
        SHOPT_OPTIONS
            .iter()
            .zip(&self.on)
            .map(|((n, _), v)| (*n, *v))
    }
    /// How `case` and `[[ == ]]` match: `nocasematch`; extglob forms are
    /// always recognised (bash 5.2 does so in `[[ ]]`, and the parser only
    /// lets them into `case` under `extglob`).
    pub fn case_opts(&self) -> MatchOpts {
        MatchOpts {
            extglob: true,
            nocase: self.is("nocasematch"),
        }
    }
}

/// Pathname expansion of one field: `pat` is the field as a pattern
/// (quoted characters escaped), `text` the field as it reads. Returns the
/// sorted matches, an empty list under `nullglob`, or `None` when nothing
/// matches and the word stays as it is. Under `failglob`, no match prints
/// bash's `no match: PAT` and abandons the line ([`Flow::Abort`] 1).
pub async fn expand(
    vfs: &dyn Vfs,
    st: &ShellState,
    pat: &str,
    text: &str,
    io: &Io,
) -> Result<Option<Vec<String>>, Flow> {
    let ignore: Vec<String> = st
        .get("GLOBIGNORE")
        .filter(|g| !g.is_empty())
        .map(|g| {
            g.split(':')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let has_ignore = st.get("GLOBIGNORE").is_some_and(|g| !g.is_empty());
    let o = GlobOpts {
        dotglob: st.shopt.is("dotglob") || has_ignore,
        globstar: st.shopt.is("globstar"),
        m: MatchOpts {
            extglob: st.shopt.is("extglob"),
            nocase: st.shopt.is("nocaseglob"),
        },
    };
    let mut found = glob_with(vfs, &st.cwd, pat, &o).await;
    if has_ignore {
        found.retain(|f| {
            let base = f.trim_end_matches('/').rsplit('/').next().unwrap_or(f);
            base != "." && base != ".." && !ignore.iter().any(|p| pattern::matches(p, f))
        });
    }
    if !found.is_empty() {
        return Ok(Some(found));
    }
    if st.shopt.is("failglob") {
        io.err(&format!("{}no match: {text}\n", st.diag())).await;
        return Err(Flow::Abort(1));
    }
    if st.shopt.is("nullglob") {
        return Ok(Some(Vec::new()));
    }
    Ok(None)
}

/// How [`glob_with`] matches.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobOpts {
    /// Hidden names match `*`, `?` and `[…]` too (`dotglob`).
    pub dotglob: bool,
    /// `**` as a whole component matches any depth of directories.
    pub globstar: bool,
    /// How each component is matched.
    pub m: MatchOpts,
}

/// Expands the pathname pattern `pat` (escaped as [`pattern::escape`]
/// does) against the VFS with bash's defaults, relative to `cwd`.
pub async fn glob(vfs: &dyn Vfs, cwd: &str, pat: &str) -> Vec<String> {
    let o = GlobOpts {
        m: MatchOpts {
            extglob: true,
            nocase: false,
        },
        ..GlobOpts::default()
    };
    glob_with(vfs, cwd, pat, &o).await
}

/// Expands `pat` against the VFS under `o`, relative to `cwd`. Returns the
/// sorted matches as they should appear (relative when the pattern was
/// relative), or an empty list.
pub async fn glob_with(vfs: &dyn Vfs, cwd: &str, pat: &str, o: &GlobOpts) -> Vec<String> {
    let absolute = pat.starts_with('/');
    let comps: Vec<&str> = pat.split('/').filter(|c| !c.is_empty()).collect();
    // (display prefix, absolute dir)
    let mut current: Vec<(String, String)> = vec![if absolute {
        ("/".into(), "/".into())
    } else {
        (String::new(), cwd.to_string())
    }];
    let trailing_slash = pat.ends_with('/') && pat.len() > 1;
    for (ci, comp) in comps.iter().enumerate() {
        let last = ci + 1 == comps.len();
        let mut next = Vec::new();
        if o.globstar && *comp == "**" {
            for (shown, dir) in &current {
                let mut found = Vec::new();
                descend(vfs, shown, dir, o.dotglob, &mut found).await;
                if last {
                    // `d/**` lists `d/` itself first
                    if !shown.is_empty() {
                        next.push((shown.clone(), dir.clone()));
                    }
                    for (s, a, is_dir) in found {
                        if trailing_slash && !is_dir {
                            continue;
                        }
                        next.push((s, a));
                    }
                } else {
                    next.push((shown.clone(), dir.clone()));
                    for (s, a, is_dir) in found {
                        if is_dir {
                            next.push((format!("{s}/"), a));
                        }
                    }
                }
            }
            current = next;
            if current.is_empty() {
                return Vec::new();
            }
            continue;
        }
        for (shown, dir) in &current {
            if !pattern::has_glob(comp) {
                let name = pattern::unescape(comp);
                let abs = mirage_types::join_path(dir, &name);
                let shown2 = format!("{shown}{name}");
                if last {
                    if vfs.stat(&abs).await.is_ok() {
                        next.push((shown2, abs));
                    }
                } else if !o.globstar || vfs.stat(&abs).await.is_ok_and(|s| s.is_dir()) {
                    // (under globstar a later `**` lists this directory itself)
                    next.push((format!("{shown2}/"), abs));
                }
                continue;
            }
            let Ok(entries) = vfs.readdir(dir).await else {
                continue;
            };
            let dot_ok = comp.starts_with('.') || comp.starts_with("\\.");
            for e in entries {
                if e.name == "." || e.name == ".." {
                    continue;
                }
                if e.name.starts_with('.') && !dot_ok && !o.dotglob {
                    continue;
                }
                if !pattern::matches_with(comp, &e.name, o.m) {
                    continue;
                }
                let abs = mirage_types::join_path(dir, &e.name);
                if (!last || trailing_slash)
                    && !e.is_dir()
                    && !vfs.stat(&abs).await.is_ok_and(|s| s.is_dir())
                {
                    continue;
                }
                let shown2 = format!("{shown}{}", e.name);
                next.push((if last { shown2 } else { format!("{shown2}/") }, abs));
            }
        }
        current = next;
        if current.is_empty() {
            return Vec::new();
        }
    }
    let mut out: Vec<String> = current
        .into_iter()
        .map(|(s, _)| {
            if trailing_slash && !s.ends_with('/') {
                format!("{s}/")
            } else {
                s
            }
        })
        .filter(|s| !s.is_empty())
        .collect();
    out.sort_by(|a, b| mirage_types::bytestr::cmp(a, b));
    out.dedup();
    out
}

/// Every entry below `dir` (not following symlinks), depth first: (shown
/// path, absolute path, is a directory). Hidden names only with `dot`.
fn descend<'a>(
    vfs: &'a dyn Vfs,
    shown: &'a str,
    dir: &'a str,
    dot: bool,
    out: &'a mut Vec<(String, String, bool)>,
) -> futures::future::BoxFuture<'a, ()> {
    Box::pin(async move {
        let Ok(entries) = vfs.readdir(dir).await else {
            return;
        };
        for e in entries {
            if e.name == "." || e.name == ".." || (e.name.starts_with('.') && !dot) {
                continue;
            }
            let abs = mirage_types::join_path(dir, &e.name);
            let s = format!("{shown}{}", e.name);
            let is_dir = e.is_dir();
            out.push((s.clone(), abs.clone(), is_dir));
            if is_dir {
                descend(vfs, &format!("{s}/"), &abs, dot, out).await;
            }
        }
    })
}

/// A pipeline under `shopt -s lastpipe`: the stages before the last run
/// (`firsts`, each in its own copy of the shell) while the last stage runs
/// in this shell, so its assignments stay (`echo hi | read v`). Returns
/// every stage's status; `exit` in the last stage leaves the shell.
pub(crate) async fn lastpipe<F>(
    interp: &crate::exec::Interp,
    stages: &[crate::ast::Cmd],
    firsts: Vec<F>,
    sio: Io,
    st: &mut ShellState,
) -> Result<Vec<i32>, Flow>
where
    F: std::future::Future<Output = i32>,
{
    let Some(last) = stages.last() else {
        return Ok(futures::future::join_all(firsts).await);
    };
    let run_last = async {
        let r = interp.exec(last, st, &sio).await;
        drop(sio);
        r
    };
    let (mut statuses, r) = futures::join!(futures::future::join_all(firsts), run_last);
    let s = match r {
        Ok(s) | Err(Flow::Return(s) | Flow::Abort(s)) => s,
        Err(Flow::Exit(s)) => return Err(Flow::Exit(s)),
        Err(_) => st.last_status,
    };
    statuses.push(s);
    Ok(statuses)
}
