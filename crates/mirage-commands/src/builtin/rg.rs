//! `rg`: recursive search with ripgrep 13's defaults, over the VFS.
//!
//! With no path it searches standard input when something is piped in,
//! otherwise the cwd (paths shown without the leading `./`). Directories
//! are walked in path order (as `--sort path`; ripgrep's own order is
//! that of its threads): hidden entries are skipped (unless `--hidden`),
//! so are the paths matched by `.ignore`, `.rgignore` and, inside a git
//! repository (a directory with `.git` at or above it), `.gitignore` files
//! of the walked directories and of their parents (unless `--no-ignore`);
//! binary files (a NUL byte) met in a walk are skipped; symbolic links are
//! not followed unless `-L`. `-g GLOB` (`!GLOB` excludes) and `-t`/`-T
//! TYPE` (ripgrep's type table, from the `ignore` crate) choose files; the
//! rules are the `ignore` crate's matchers fed with files read through the
//! router, never its own walker. Patterns are the `regex` crate's syntax
//! (as ripgrep's default engine); `-F` makes them literal, `-i`/`-s`/`-S`
//! choose the case (smart case: insensitive unless a pattern has an upper
//! case letter). Output as ripgrep's when stdout is not a terminal: no
//! heading, no line numbers unless `-n`, `PATH:` before each line when
//! more than one file can be searched. The search itself is grep's
//! (`grep::Grep`). Exit status: 0 when something matched (or
//! `--files` listed a file), 1 when nothing did, 2 on an error.

use std::path::Path;
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::overrides::{Override, OverrideBuilder};
use ignore::types::{Types, TypesBuilder};
use mirage_types::args::{CommandSpec, OptSpec, ParsedArgs, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, FileType, bytestr};

use super::grep::{Cfg, Flow, Grep, MatchOpts, Mode, Syntax, build_matcher};
use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::value("regexp", Some('e'), Some("regexp")),
    OptSpec::value("file", Some('f'), Some("file")),
    OptSpec::flag("fixed", Some('F'), Some("fixed-strings")),
    OptSpec::flag("no-fixed", None, Some("no-fixed-strings")),
    OptSpec::flag("ignore-case", Some('i'), Some("ignore-case")),
    OptSpec::flag("case-sensitive", Some('s'), Some("case-sensitive")),
    OptSpec::flag("smart-case", Some('S'), Some("smart-case")),
    OptSpec::flag("word", Some('w'), Some("word-regexp")),
    OptSpec::flag("line", Some('x'), Some("line-regexp")),
    OptSpec::flag("invert", Some('v'), Some("invert-match")),
    OptSpec::flag("count", Some('c'), Some("count")),
    OptSpec::flag("files-with-matches", Some('l'), Some("files-with-matches")),
    OptSpec::flag("files-without-match", None, Some("files-without-match")),
    OptSpec::flag("only-matching", Some('o'), Some("only-matching")),
    OptSpec::value("replace", Some('r'), Some("replace")),
    OptSpec::flag("line-number", Some('n'), Some("line-number")),
    OptSpec::flag("no-line-number", Some('N'), Some("no-line-number")),
    OptSpec::flag("byte-offset", Some('b'), Some("byte-offset")),
    OptSpec::flag("with-filename", Some('H'), Some("with-filename")),
    OptSpec::flag("no-filename", Some('I'), Some("no-filename")),
    OptSpec::flag("heading", None, Some("heading")),
    OptSpec::flag("column", None, Some("column")),
    OptSpec::flag("no-column", None, Some("no-column")),
    OptSpec::flag("vimgrep", None, Some("vimgrep")),
    OptSpec::flag("no-heading", None, Some("no-heading")),
    OptSpec::value("after", Some('A'), Some("after-context")),
    OptSpec::value("before", Some('B'), Some("before-context")),
    OptSpec::value("context", Some('C'), Some("context")),
    OptSpec::value("context-separator", None, Some("context-separator")),
    OptSpec::value("max-count", Some('m'), Some("max-count")),
    OptSpec::value("max-depth", Some('d'), Some("max-depth")),
    OptSpec::flag("quiet", Some('q'), Some("quiet")),
    OptSpec::flag("no-messages", None, Some("no-messages")),
    OptSpec::value("glob", Some('g'), Some("glob")),
    OptSpec::value("iglob", None, Some("iglob")),
    OptSpec::value("type", Some('t'), Some("type")),
    OptSpec::value("type-not", Some('T'), Some("type-not")),
    OptSpec::flag("type-list", None, Some("type-list")),
    OptSpec::flag("files", None, Some("files")),
    OptSpec::value("sort", None, Some("sort")),
    OptSpec::value("sortr", None, Some("sortr")),
    OptSpec::flag("sort-files", None, Some("sort-files")),
    OptSpec::flag("hidden", Some('.'), Some("hidden")),
    OptSpec::flag("no-hidden", None, Some("no-hidden")),
    OptSpec::flag("no-ignore", None, Some("no-ignore")),
    OptSpec::flag("no-ignore-vcs", None, Some("no-ignore-vcs")),
    OptSpec::flag("no-ignore-dot", None, Some("no-ignore-dot")),
    OptSpec::flag("no-ignore-parent", None, Some("no-ignore-parent")),
    OptSpec::flag("unrestricted", Some('u'), Some("unrestricted")),
    OptSpec::flag("text", Some('a'), Some("text")),
    OptSpec::flag("binary", None, Some("binary")),
    OptSpec::flag("follow", Some('L'), Some("follow")),
    OptSpec::flag("null", Some('0'), Some("null")),
    OptSpec::flag("null-data", None, Some("null-data")),
    OptSpec::value("color", None, Some("color")),
    OptSpec::value("colors", None, Some("colors")),
    OptSpec::value("threads", Some('j'), Some("threads")),
    OptSpec::flag("no-config", None, Some("no-config")),
    OptSpec::flag("pcre2", Some('P'), Some("pcre2")),
];

/// The spec of `rg` (usage errors exit 2).
pub static SPEC: CommandSpec = CommandSpec {
    name: "rg",
    options: OPTS,
    paths: PathOperands::SkipFirstUnless(&["regexp", "file", "files", "type-list"]),
    numeric_key: None,
    stop_at_operand: false,
    usage_status: 2,
};

crate::register_command!("rg", SPEC, run);

/// The ignore rules of one directory: its `.gitignore` (when in a git
/// repository), then `.ignore`, then `.rgignore` (later lines win, so the
/// later files take precedence, as in ripgrep).
struct Level {
    rules: Gitignore,
}

/// What decides which walked paths are searched.
struct Filter {
    hidden: bool,
    ignore_files: bool,
    vcs: bool,
    overrides: Override,
    types: Types,
    follow: bool,
    max_depth: Option<usize>,
    /// The cwd, as overrides see paths (`-g` globs are relative to it).
    cwd: String,
}

impl Filter {
    /// Whether `abs` (shown as `display`) is left out of the walk.
    fn skip(
        &self,
        levels: &[Arc<Level>],
        display: &str,
        name: &str,
        abs: &str,
        is_dir: bool,
    ) -> bool {
        let rel = display.strip_prefix("./").unwrap_or(display);
        let rel = if Path::new(rel).is_absolute() {
            abs.strip_prefix(&self.cwd)
                .map(|r| r.trim_start_matches('/'))
                .unwrap_or(rel)
        } else {
            rel
        };
        let m = self.overrides.matched(rel, is_dir);
        if m.is_ignore() {
            return true;
        }
        if m.is_whitelist() {
            return false;
        }
        let mut whitelisted = false;
        if self.ignore_files {
            for level in levels.iter().rev() {
                let m = level.rules.matched(abs, is_dir);
                if m.is_ignore() {
                    return true;
                }
                if m.is_whitelist() {
                    whitelisted = true;
                    break;
                }
            }
        }
        let t = self.types.matched(name, is_dir);
        if t.is_ignore() {
            return true;
        }
        whitelisted |= t.is_whitelist();
        !whitelisted && !self.hidden && name.starts_with('.')
    }
}

/// The ignore rules found in the directory `abs`, if any.
async fn read_level(
    ctx: &mut CommandCtx,
    abs: &str,
    names: &[String],
    in_git: bool,
    f: &Filter,
) -> Option<Level> {
    let mut files: Vec<&str> = Vec::new();
    if in_git && f.vcs {
        files.push(".gitignore");
    }
    files.extend([".ignore", ".rgignore"]);
    let mut b = GitignoreBuilder::new(abs);
    let mut any = false;
    for name in files {
        if !names.iter().any(|n| n == name) {
            continue;
        }
        let path = join(abs, name);
        let Ok(src) = ctx.vfs.read(&path).await else {
            continue;
        };
        let Ok(data) = src.collect().await else {
            continue;
        };
        for line in bytestr::decode(&data).lines() {
            if b.add_line(None, line).is_ok() {
                any = true;
            }
        }
    }
    if !any {
        return None;
    }
    b.build().ok().map(|rules| Level { rules })
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The names in the directory `abs` (sorted), or the error's message.
async fn names_in(ctx: &mut CommandCtx, abs: &str) -> Result<Vec<(String, FileType)>, String> {
    let mut v: Vec<(String, FileType)> = ctx
        .vfs
        .readdir(abs)
        .await
        .map_err(|e| e.message().to_string())?
        .into_iter()
        .map(|e| (e.name, e.file_type))
        .collect();
    v.sort_by(|a, b| bytestr::cmp(&a.0, &b.0));
    Ok(v)
}

/// One file the walk found: (display, absolute path).
type Found = (String, String);

/// The ignore levels of the parents of `abs` (outermost first) and
/// whether `abs` is inside a git repository.
async fn parent_levels(ctx: &mut CommandCtx, abs: &str, f: &Filter) -> (Vec<Level>, bool) {
    let mut dirs = vec![abs.to_string()];
    let mut cur = abs.to_string();
    while let Some(i) = cur.rfind('/') {
        cur = if i == 0 {
            "/".to_string()
        } else {
            cur[..i].to_string()
        };
        dirs.push(cur.clone());
        if cur == "/" {
            break;
        }
    }
    let mut in_git = false;
    for d in &dirs {
        if ctx.vfs.stat(&join(d, ".git")).await.is_ok() {
            in_git = true;
            break;
        }
    }
    let mut levels = Vec::new();
    if f.ignore_files {
        for d in dirs.iter().skip(1).rev() {
            let names: Vec<String> = match names_in(ctx, d).await {
                Ok(v) => v.into_iter().map(|(n, _)| n).collect(),
                Err(_) => continue,
            };
            if let Some(l) = read_level(ctx, d, &names, in_git, f).await {
                levels.push(l);
            }
        }
    }
    (levels, in_git)
}

/// A directory still to list in [`walk`]: (display, absolute path, depth,
/// inside a git repository, the ignore levels above it, with `-L` the real
/// paths of the directories above it).
type Pending = (
    String,
    String,
    usize,
    bool,
    Arc<Vec<Arc<Level>>>,
    Arc<Vec<(String, String)>>,
);

/// Walks the directory `abs` (shown as `display`) and returns the files to
/// search, in path order; errors are reported as they come. The walk keeps
/// its own stack (no recursion, whatever the depth); with `-L` a link back
/// to a directory above is reported as ripgrep does and not followed.
async fn walk(
    ctx: &mut CommandCtx,
    g: &mut Grep,
    f: &Filter,
    display: &str,
    abs: &str,
) -> Vec<Found> {
    let (levels, in_git) = parent_levels(ctx, abs, f).await;
    let levels: Vec<Arc<Level>> = levels.into_iter().map(Arc::new).collect();
    let mut out = Vec::new();
    let mut stack: Vec<Result<Found, Pending>> = vec![Err((
        display.to_string(),
        abs.to_string(),
        0,
        in_git,
        Arc::new(levels),
        Arc::default(),
    ))];
    while let Some(item) = stack.pop() {
        let (display, abs, depth, in_git, levels, ancestors) = match item {
            Ok(found) => {
                out.push(found);
                continue;
            }
            Err(dir) => dir,
        };
        let mut ancestors = ancestors;
        if f.follow {
            let real = ctx.vfs.realpath(&abs).await.unwrap_or_else(|_| abs.clone());
            if let Some((_, a)) = ancestors.iter().find(|a| a.0 == real) {
                let _ = g.flush(ctx, false).await;
                let _ = ctx.stdout.flush().await;
                let msg = format!("File system loop found: {display} points to an ancestor {a}\n");
                let _ = ctx.stderr.write(&bytestr::encode(&msg)).await;
                let _ = ctx.stderr.flush().await;
                g.error = true;
                continue;
            }
            let mut v = (*ancestors).clone();
            v.push((real, display.clone()));
            ancestors = Arc::new(v);
        }
        let entries = match names_in(ctx, &abs).await {
            Ok(v) => v,
            Err(msg) => {
                g.file_error(ctx, &display, &msg).await;
                continue;
            }
        };
        let names: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
        let in_git = in_git || names.iter().any(|n| n == ".git");
        let levels = match read_level(ctx, &abs, &names, in_git, f).await {
            Some(l) if f.ignore_files => {
                let mut v = (*levels).clone();
                v.push(Arc::new(l));
                Arc::new(v)
            }
            _ => levels,
        };
        if f.max_depth.is_some_and(|m| depth >= m) {
            continue;
        }
        // files are listed at once, directories pushed (in reverse, so the
        // first is walked next) after the files before them
        let mut children: Vec<Result<Found, Pending>> = Vec::new();
        for (name, ft) in entries {
            let cd = join(&display, &name);
            let ca = join(&abs, &name);
            let Some(ft) = g.entry_type(ctx, ft, f.follow, &cd, &ca).await else {
                continue;
            };
            match ft {
                FileType::Directory => {
                    if !f.skip(&levels, &cd, &name, &ca, true) {
                        children.push(Err((
                            cd,
                            ca,
                            depth + 1,
                            in_git,
                            levels.clone(),
                            ancestors.clone(),
                        )));
                    }
                }
                FileType::File => {
                    if !f.skip(&levels, &cd, &name, &ca, false) {
                        children.push(Ok((cd, ca)));
                    }
                }
                FileType::Symlink => {}
            }
        }
        // popped in path order: files as they come, directories walked
        stack.extend(children.into_iter().rev());
    }
    out
}

/// Whether `pattern` has an upper case letter outside an escape (ripgrep's
/// smart case looks at the pattern's literal characters).
fn has_upper(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
        } else if c.is_uppercase() {
            return true;
        }
    }
    false
}

fn number(p: &ParsedArgs, key: &str) -> Result<Option<u64>, CmdError> {
    match p.value(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|e| CmdError::new(2, format!("failed to parse {key} argument: {e}"))),
    }
}

/// The `ignore` crate's type table with `-t`/`-T` selections.
fn types(p: &ParsedArgs) -> Result<Types, String> {
    let mut b = TypesBuilder::new();
    b.add_defaults();
    for (k, v) in &p.opts {
        match (*k, v) {
            ("type", Some(t)) => {
                b.select(t);
            }
            ("type-not", Some(t)) => {
                b.negate(t);
            }
            _ => {}
        }
    }
    b.build().map_err(|e| e.to_string())
}

/// `rg --type-list`: `NAME: GLOB, GLOB` per type, by name.
fn type_list() -> String {
    let mut b = TypesBuilder::new();
    b.add_defaults();
    let mut s = String::new();
    for def in b.definitions() {
        s.push_str(def.name());
        s.push_str(": ");
        s.push_str(&def.globs().join(", "));
        s.push('\n');
    }
    s
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.has("type-list") {
        ctx.stdout.write(type_list().as_bytes()).await?;
        return Ok(0);
    }
    let list_files = p.has("files");
    let mut operands = p.operands.clone();
    let mut patterns: Vec<String> = Vec::new();
    let mut have_pattern_opt = false;
    for (k, v) in &p.opts {
        match (*k, v) {
            ("regexp", Some(v)) => {
                have_pattern_opt = true;
                patterns.push(v.clone());
            }
            ("file", Some(f)) => {
                have_pattern_opt = true;
                let data = match ctx.read_path(f).await {
                    Ok(src) => src.collect().await,
                    Err(e) => Err(e),
                };
                let data = data.map_err(|e| {
                    CmdError::new(2, format!("{f}: {}{}", e.message(), os_error(e.kind)))
                })?;
                let text = bytestr::decode(&data);
                patterns.extend(text.lines().map(str::to_string));
            }
            _ => {}
        }
    }
    if !have_pattern_opt && !list_files {
        if operands.is_empty() {
            ctx.stdout.flush().await?;
            ctx.stderr
                .write(b"error: The following required arguments were not provided:\n    <PATTERN>\n\nUSAGE:\n    \n    rg [OPTIONS] PATTERN [PATH ...]\n    rg [OPTIONS] -e PATTERN ... [PATH ...]\n    rg [OPTIONS] -f PATTERNFILE ... [PATH ...]\n    rg [OPTIONS] --files [PATH ...]\n    rg [OPTIONS] --type-list\n    command | rg [OPTIONS] PATTERN\n    rg [OPTIONS] --help\n    rg [OPTIONS] --version\n\nFor more information try --help\n\n")
                .await?;
            ctx.stderr.flush().await?;
            return Ok(2);
        }
        patterns.push(operands.remove(0));
    }
    let unrestricted = p.count("unrestricted");
    let filter = match filter(&p, &ctx.cwd) {
        Ok(f) => f,
        Err(msg) => return raw_error(ctx, &msg).await,
    };
    let fixed = p.last_of(&["fixed", "no-fixed"]) == Some("fixed");
    let ignore_case = match p.last_of(&["ignore-case", "case-sensitive", "smart-case"]) {
        Some("ignore-case") => true,
        Some("smart-case") => !patterns.iter().any(|p| has_upper(p)),
        _ => false,
    };
    let mode = Mode::from_args(&p, p.has("only-matching") || p.has("vimgrep"), true);
    let null_data = p.has("null-data");
    let eol = if null_data { 0u8 } else { b'\n' };
    let matcher = build_matcher(
        &patterns,
        if fixed { Syntax::Fixed } else { Syntax::Rust },
        MatchOpts {
            ignore_case,
            line: p.has("line"),
            word: p.has("word"),
            eol,
        },
    );
    let matcher = match matcher {
        Ok(m) => m,
        Err(msg) => {
            // the message about the pattern as written (the combined one
            // is wrapped in groups)
            let own = patterns
                .iter()
                .find_map(|p| regex::bytes::Regex::new(p).err())
                .map_or(msg, |e| e.to_string());
            return raw_error(ctx, &own).await;
        }
    };
    let ctx_all = number(&p, "context")?;
    let after = number(&p, "after")?.or(ctx_all).unwrap_or(0) as usize;
    let before = number(&p, "before")?.or(ctx_all).unwrap_or(0) as usize;
    let max_count = number(&p, "max-count")?;
    let context = (after > 0 || before > 0) && matches!(mode, Mode::Lines | Mode::Only);
    let vimgrep = p.has("vimgrep");
    let column = (p.last_of(&["column", "no-column"]) == Some("column") || vimgrep)
        && matches!(mode, Mode::Lines | Mode::Only);
    let line_number = (p.last_of(&["line-number", "no-line-number"]) == Some("line-number")
        || column)
        && matches!(mode, Mode::Lines | Mode::Only);
    let cfg = Cfg {
        mode,
        line_number,
        byte_offset: p.has("byte-offset"),
        invert: p.has("invert"),
        null_after_name: p.has("null"),
        eol,
        context,
        max_count,
        group_sep: Some(bytestr::encode(p.value("context-separator").unwrap_or("--")).into_owned()),
        initial_tab: false,
        count_zero: false,
        replace: p.value("replace").map(|r| bytestr::encode(r).into_owned()),
        rg: true,
        heading: p.last_of(&["heading", "no-heading"]) == Some("heading")
            && matches!(mode, Mode::Lines | Mode::Only)
            && !vimgrep,
        column,
        vimgrep,
    };
    let text = p.has("text") || unrestricted >= 3;
    let mut g = Grep {
        quiet_errors: p.has("no-messages"),
        text,
        recursive: true,
        with_filename: match p.last_of(&["with-filename", "no-filename"]) {
            Some("with-filename") => Some(true),
            Some(_) => Some(false),
            None => None,
        },
        stdin_label: "<stdin>".to_string(),
        ..Grep::new(cfg, matcher, after, before)
    };
    if max_count == Some(0) {
        return Ok(1);
    }

    // what to search: stdin when something is piped in and no path given
    let implicit = operands.is_empty();
    if implicit && !list_files && !ctx.stdin.is_empty_source() {
        let show = g.with_filename.unwrap_or(false);
        g.search_stdin(ctx, show).await;
        let _ = g.flush(ctx, false).await;
        return Ok(status(&g));
    }
    if implicit {
        operands.push("./".to_string());
    }
    let mut files: Vec<(Found, bool)> = Vec::new();
    let single_file = operands.len() == 1;
    let mut any_dir = false;
    for op in &operands {
        let abs = ctx.resolve(op);
        let st = match ctx.vfs.stat(&abs).await {
            Ok(s) => s,
            Err(e) => {
                g.file_error(ctx, op, e.message()).await;
                continue;
            }
        };
        if st.is_dir() {
            any_dir = true;
            let display = if implicit {
                ".".to_string()
            } else {
                op.trim_end_matches('/').to_string()
            };
            let display = if display.is_empty() {
                "/".to_string()
            } else {
                display
            };
            let _ = ctx.vfs.prefetch_tree(&abs, true).await;
            let found = walk(ctx, &mut g, &filter, &display, &abs).await;
            files.extend(found.into_iter().map(|(d, a)| {
                let d = if implicit {
                    d.strip_prefix("./").map(str::to_string).unwrap_or(d)
                } else {
                    d
                };
                ((d, a), true)
            }));
        } else {
            files.push(((op.clone(), abs), false));
        }
    }
    if p.value("sortr").is_some_and(|s| s != "none") {
        files.reverse();
    }
    if list_files {
        let mut out = Vec::new();
        for ((d, _), _) in &files {
            out.extend_from_slice(&bytestr::encode(d));
            out.push(if p.has("null") { 0 } else { b'\n' });
        }
        ctx.stdout.write(&out).await?;
        return Ok(if g.error {
            2
        } else if files.is_empty() {
            1
        } else {
            0
        });
    }
    let show = g
        .with_filename
        .unwrap_or(any_dir || !single_file || vimgrep);
    for ((d, a), walked) in &files {
        // a binary file met in a walk is skipped; one named is searched
        g.skip_binary = *walked && !text;
        if g.file(ctx, d, a, show).await == Flow::Stop {
            break;
        }
    }
    let _ = g.flush(ctx, false).await;
    ctx.io.reads.dedup();
    Ok(status(&g))
}

/// Prints `msg` on stderr as ripgrep prints its errors (no `rg: `
/// prefix); status 2.
async fn raw_error(ctx: &mut CommandCtx, msg: &str) -> Result<i32, CmdError> {
    ctx.stdout.flush().await?;
    ctx.stderr
        .write(&bytestr::encode(&format!("{msg}\n")))
        .await?;
    ctx.stderr.flush().await?;
    Ok(2)
}

/// ` (os error N)` as Rust's `io::Error` shows `kind`.
fn os_error(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => " (os error 2)",
        ErrorKind::PermissionDenied => " (os error 13)",
        ErrorKind::NotADirectory => " (os error 20)",
        ErrorKind::IsADirectory => " (os error 21)",
        _ => "",
    }
}

/// The walk's rules from the options (`-g`, `-t`, `--hidden`, the ignore
/// switches); an error is ripgrep's message.
fn filter(p: &ParsedArgs, cwd: &str) -> Result<Filter, String> {
    let unrestricted = p.count("unrestricted");
    let mut b = OverrideBuilder::new(cwd);
    for (k, v) in &p.opts {
        let r = match (*k, v) {
            ("glob", Some(g)) => b.add(g).map(|_| ()),
            ("iglob", Some(g)) => b
                .case_insensitive(true)
                .and_then(|b| b.add(g))
                .and_then(|b| b.case_insensitive(false))
                .map(|_| ()),
            _ => Ok(()),
        };
        r.map_err(|e| e.to_string())?;
    }
    let max_depth = match p.value("max-depth") {
        Some(v) => Some(
            v.trim()
                .parse::<usize>()
                .map_err(|e| format!("failed to parse max-depth argument: {e}"))?,
        ),
        None => None,
    };
    Ok(Filter {
        hidden: (p.has("hidden") && p.last_of(&["hidden", "no-hidden"]) == Some("hidden"))
            || unrestricted >= 2,
        ignore_files: !p.has("no-ignore") && unrestricted == 0,
        vcs: !p.has("no-ignore-vcs"),
        overrides: b.build().map_err(|e| e.to_string())?,
        types: types(p)?,
        follow: p.has("follow"),
        max_depth,
        cwd: cwd.to_string(),
    })
}

/// ripgrep's exit status: 0 on a match (with `-q`, even after an error),
/// 2 on an error, else 1.
fn status(g: &Grep) -> i32 {
    if g.selected && (!g.error || g.cfg.mode == Mode::Quiet) {
        0
    } else if g.error {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn rg(
        vfs: &std::sync::Arc<MemVfs>,
        args: &[&str],
        cwd: &str,
        stdin: &str,
    ) -> (String, String, i32) {
        run_cmd(vfs, run, "rg", args, cwd, stdin)
    }

    #[test]
    fn smart_case_looks_at_literal_letters() {
        assert!(!has_upper("foo\\W"));
        assert!(has_upper("Foo"));
    }

    #[test]
    fn walks_with_ignore_rules_and_hidden_files() {
        let v = MemVfs::with(&[
            ("/p/a.txt", "foo\n"),
            ("/p/.hid/h.txt", "foo\n"),
            ("/p/.gitignore", "x.txt\n"),
            ("/p/x.txt", "foo\n"),
            ("/p/b.bin", "foo\0bin\n"),
            ("/q/.git/HEAD", "ref\n"),
            ("/q/.gitignore", "*.log\n"),
            ("/q/a.log", "foo\n"),
            ("/q/c.txt", "foo\n"),
            ("/q/sub/.ignore", "b.txt\n"),
            ("/q/sub/b.txt", "foo\n"),
            ("/q/sub/d.txt", "foo\n"),
        ]);
        // no .git above /p: its .gitignore does not count
        assert_eq!(
            rg(&v, &["foo", "/p"], "/", "").0,
            "/p/a.txt:foo\n/p/x.txt:foo\n"
        );
        assert_eq!(
            rg(&v, &["foo"], "/q", ""),
            ("c.txt:foo\nsub/d.txt:foo\n".into(), String::new(), 0)
        );
        assert_eq!(rg(&v, &["-c", "foo", "sub"], "/q", "").0, "sub/d.txt:1\n");
        assert_eq!(
            rg(&v, &["--files", "--hidden", "."], "/p", "").0,
            "./.gitignore\n./.hid/h.txt\n./a.txt\n./b.bin\n./x.txt\n"
        );
        assert_eq!(
            rg(&v, &["--files", "-g", "*.txt", "-g", "!x*"], "/p", "").0,
            "a.txt\n"
        );
        assert_eq!(
            rg(&v, &["-t", "txt", "-l", "foo", "/q"], "/", "").0,
            "/q/c.txt\n/q/sub/d.txt\n"
        );
        let (o, e, s) = rg(&v, &["foo", "/p/b.bin"], "/", "");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "binary file matches (found \"\\0\" byte around offset 3)\n",
                "",
                0
            )
        );
        let (o, e, s) = rg(&v, &["foo", "/nope"], "/", "");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("", "/nope: No such file or directory (os error 2)\n", 2)
        );
    }

    #[test]
    fn stdin_replace_and_counts() {
        let v = MemVfs::with(&[("/d/app.log", "port 8080 x\nno\nport 9 y\n")]);
        assert_eq!(rg(&v, &["-c", "port"], "/", "a\nport\n").0, "1\n");
        assert_eq!(
            rg(
                &v,
                &["-o", r"port (\d+)", "-r", "P=$1", "/d/app.log"],
                "/",
                ""
            )
            .0,
            "P=8080\nP=9\n"
        );
        assert_eq!(
            rg(&v, &[r"port (\d+)", "-r", "<$1>", "/d/app.log"], "/", "").0,
            "<8080> x\n<9> y\n"
        );
        assert_eq!(
            rg(&v, &["-c", "zzz", "/d/app.log"], "/", ""),
            (String::new(), String::new(), 1)
        );
        let (_, e, s) = rg(&v, &["a(", "/d/app.log"], "/", "");
        assert_eq!(
            (e.as_str(), s),
            (
                "regex parse error:\n    a(\n     ^\nerror: unclosed group\n",
                2
            )
        );
    }

    #[test]
    fn deep_trees_walk_without_recursion() {
        let mut path = String::from("/t");
        for _ in 0..1000 {
            path.push_str("/d");
        }
        path.push_str("/f.txt");
        let v = MemVfs::with(&[(path.as_str(), "deep\n"), ("/t/a.txt", "deep\n")]);
        let (o, _, s) = rg(&v, &["-c", "deep"], "/t", "");
        assert_eq!(s, 0);
        assert_eq!(o.lines().count(), 2);
        assert!(o.starts_with("a.txt:1\nd/d/"));
    }
}
