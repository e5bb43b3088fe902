//! `tree`: list a directory as an indented tree, as tree 2.1 does under a
//! UTF-8 locale (`├── `, `└── `, `│` then two no-break spaces and a space,
//! and four spaces under a last entry), with its closing report
//! `N directories, M files` (`1 directory`, `1 file`; directories only
//! with `-d`).
//!
//! Options: `-a` (hidden entries), `-d` (directories only), `-L LEVEL`,
//! `-I PATTERN` (leave out what matches), `-P PATTERN` (files must match;
//! directories are kept; with `--matchdirs` a directory whose path below
//! the operand matches shows all its files), `--prune` (leave out empty
//! directories), `--ignore-case`, `--dirsfirst`, `--filesfirst`, `-f`
//! (full paths), `-i` (no indentation lines), `--noreport`, `-F`
//! (`/`, `*`, `@`… after names), `-s` and `-h` (sizes in brackets), `-p`
//! (permissions), `-u`/`-g` (the session user as owner and group), `-D`
//! and `--timefmt` (dates, as `ls -l` prints them by default), `-Q`,
//! `-r`, `-t` (oldest first), `-c`, `-v`, `-U`, `--sort=name|version|size|mtime|ctime`,
//! `-J` (tree's JSON).
//! `-n`, `-N`, `-C`, `-q`, `-x` and `--charset` are accepted and change
//! nothing (there is one file system per mount).
//!
//! Patterns are tree's: `*`, `?`, `[...]`, `[^...]` and `|` between
//! alternatives, matched against an entry's name; a pattern ending in `/`
//! matches directories only.
//!
//! Counting is tree's: a symlink to a directory counts as a directory (it
//! is not descended), every other non-directory as a file; an operand
//! directory counts itself only when it shows at least one entry. An operand
//! that is not a directory prints `NAME  [error opening dir]` (on stdout,
//! counted as a file when it exists); a missing one makes the exit status 2.
//! Output is written as the walk goes (one directory read at a time).

use std::time::{SystemTime, UNIX_EPOCH};

use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{FileStat, FileType};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", Some('a'), None),
    OptSpec::flag("dirs", Some('d'), None),
    OptSpec::value("level", Some('L'), None),
    OptSpec::value("ignore", Some('I'), None),
    OptSpec::value("pattern", Some('P'), None),
    OptSpec::flag("full", Some('f'), None),
    OptSpec::flag("noindent", Some('i'), None),
    OptSpec::flag("classify", Some('F'), None),
    OptSpec::flag("size", Some('s'), None),
    OptSpec::flag("human", Some('h'), None),
    OptSpec::flag("perms", Some('p'), None),
    OptSpec::flag("reverse", Some('r'), None),
    OptSpec::flag("time", Some('t'), None),
    OptSpec::flag("unsorted", Some('U'), None),
    OptSpec::flag("json", Some('J'), None),
    OptSpec::flag("nocolor", Some('n'), None),
    OptSpec::flag("color", Some('C'), None),
    OptSpec::flag("literal", Some('N'), None),
    OptSpec::flag("quote-np", Some('q'), None),
    OptSpec::flag("one-fs", Some('x'), None),
    OptSpec::flag("date", Some('D'), None),
    OptSpec::value("timefmt", None, Some("timefmt")),
    OptSpec::flag("user", Some('u'), None),
    OptSpec::flag("group", Some('g'), None),
    OptSpec::flag("version-sort", Some('v'), None),
    OptSpec::flag("ctime", Some('c'), None),
    OptSpec::flag("quote", Some('Q'), None),
    OptSpec::value("sort", None, Some("sort")),
    OptSpec::flag("noreport", None, Some("noreport")),
    OptSpec::flag("dirsfirst", None, Some("dirsfirst")),
    OptSpec::flag("filesfirst", None, Some("filesfirst")),
    OptSpec::flag("prune", None, Some("prune")),
    OptSpec::flag("matchdirs", None, Some("matchdirs")),
    OptSpec::flag("ignore-case", None, Some("ignore-case")),
    OptSpec::value("charset", None, Some("charset")),
];

/// The spec of `tree` (usage errors exit 1).
pub static SPEC: CommandSpec = CommandSpec::new("tree", OPTS, PathOperands::All);

crate::register_command!("tree", SPEC, run);

/// tree's wildcard match of `name` against one alternative `pat`: `*`
/// (any run, `**` too), `?` (one character), `[...]` and `[^...]`/`[!...]`
/// (a set, with `a-z` ranges).
fn wild(pat: &[char], name: &[char], icase: bool) -> bool {
    let eq = |a: char, b: char| {
        if icase {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // iterative matcher with one backtrack point for the last `*`; a
    // single `*` (and `?`) does not match `/`, `**` does
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize, bool)> = None;
    while n < name.len() {
        let step = match pat.get(p) {
            Some('*') => {
                let start = p;
                while pat.get(p) == Some(&'*') {
                    p += 1;
                }
                star = Some((p, n, p - start > 1));
                continue;
            }
            Some('?') if name[n] != '/' => Some(p + 1),
            Some('[') => match_set(pat, p, name[n], icase),
            Some(&c) if eq(c, name[n]) => Some(p + 1),
            _ => None,
        };
        match step {
            Some(np) => {
                p = np;
                n += 1;
            }
            None => match star {
                Some((sp, sn, double)) if double || name[sn] != '/' => {
                    p = sp;
                    n = sn + 1;
                    star = Some((sp, sn + 1, double));
                }
                _ => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == '*')
}

/// Matches `c` against the set starting at `pat[p] == '['`: the index
/// after the set when it matches, `None` when not. A set with no closing
/// `]` is a literal `[`.
fn match_set(pat: &[char], p: usize, c: char, icase: bool) -> Option<usize> {
    let mut i = p + 1;
    let negate = matches!(pat.get(i), Some('^' | '!'));
    if negate {
        i += 1;
    }
    let start = i;
    let lc = |x: char| if icase { x.to_ascii_lowercase() } else { x };
    let c = lc(c);
    let mut hit = false;
    while i < pat.len() && (pat[i] != ']' || i == start) {
        if i + 2 < pat.len() && pat[i + 1] == '-' && pat[i + 2] != ']' {
            if lc(pat[i]) <= c && c <= lc(pat[i + 2]) {
                hit = true;
            }
            i += 3;
        } else {
            if lc(pat[i]) == c {
                hit = true;
            }
            i += 1;
        }
    }
    if i >= pat.len() {
        // no closing bracket: a literal '['
        return (c == '[').then_some(p + 1);
    }
    (hit != negate).then_some(i + 1)
}

/// A `-P`/`-I` pattern: its `|`-separated alternatives.
struct Pattern {
    alts: Vec<(Vec<char>, bool)>,
}

impl Pattern {
    fn new(src: &[&str]) -> Pattern {
        let mut alts = Vec::new();
        for s in src {
            for alt in s.split('|') {
                let (body, dir_only) = match alt.strip_suffix('/') {
                    Some(b) if !b.is_empty() => (b, true),
                    _ => (alt, false),
                };
                alts.push((body.chars().collect(), dir_only));
            }
        }
        Pattern { alts }
    }
    fn matches(&self, name: &str, is_dir: bool, icase: bool) -> bool {
        let n: Vec<char> = name.chars().collect();
        self.alts
            .iter()
            .any(|(p, dir_only)| (!dir_only || is_dir) && wild(p, &n, icase))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Name,
    Version,
    Size,
    Time,
    None,
}

struct Opts {
    /// `-u`/`-g`: the owner and group shown (the session user).
    user: bool,
    group: bool,
    owner: String,
    /// `-D`: the date column, in `--timefmt` when given.
    date: Option<Option<String>>,
    quote: bool,
    zone: Zone,
    now: i64,
    all: bool,
    dirs_only: bool,
    level: Option<usize>,
    ignore: Option<Pattern>,
    pattern: Option<Pattern>,
    full: bool,
    noindent: bool,
    classify: bool,
    size: bool,
    human: bool,
    perms: bool,
    reverse: bool,
    sort: Sort,
    json: bool,
    noreport: bool,
    dirsfirst: bool,
    filesfirst: bool,
    prune: bool,
    matchdirs: bool,
    icase: bool,
}

/// One entry of a directory.
struct Item {
    name: String,
    stat: FileStat,
    /// A symlink's target.
    target: Option<String>,
    /// Whether it is a directory or a symlink to one (tree counts both as
    /// directories).
    dir_like: bool,
}

impl Item {
    /// A real directory, which tree descends (a symlink to one it does not).
    fn descends(&self) -> bool {
        self.stat.file_type == FileType::Directory
    }
}

/// tree's `-h` size: bytes as `%4d` below 1 KiB, else the unit reached by
/// whole divisions by 1024 while at least 1 MiB is left, printed with one
/// decimal below 10 units and none above (`4.0K`, `10.0K` for 10239,
/// ` 10K`, `977K`, `1024K`, `1.0G`).
pub fn human_size(size: u64) -> String {
    const UNITS: &[char] = &['K', 'M', 'G', 'T', 'P', 'E'];
    if size < 1024 {
        return format!("{size:>4}");
    }
    let mut s = size;
    let mut idx = 0;
    while s >= 1024 * 1024 && idx + 1 < UNITS.len() {
        s /= 1024;
        idx += 1;
    }
    let v = s as f64 / 1024.0;
    if s < 10 * 1024 {
        format!("{v:>3.1}{}", UNITS[idx])
    } else {
        format!("{v:>3.0}{}", UNITS[idx])
    }
}

/// The size tree shows for an entry: a directory without a size shows
/// 4096 (as on ext4), a symlink the length of its target.
fn shown_size(it: &Item) -> u64 {
    match it.stat.file_type {
        FileType::Directory if it.stat.size == 0 => 4096,
        FileType::Symlink if it.stat.size == 0 => it.target.as_ref().map_or(0, |t| t.len() as u64),
        _ => it.stat.size,
    }
}

/// The `-F` indicator of an entry (after a symlink's target for links).
fn indicator(ft: FileType, mode: u32, dir_like: bool) -> &'static str {
    match ft {
        FileType::Directory => "/",
        FileType::Symlink if dir_like => "/",
        FileType::Symlink => "",
        FileType::File if mode & 0o111 != 0 => "*",
        FileType::File => "",
    }
}

fn mode_of(st: &FileStat) -> u32 {
    st.mode.unwrap_or(match st.file_type {
        FileType::File => 0o644,
        FileType::Directory => 0o755,
        FileType::Symlink => 0o777,
    })
}

/// JSON string escaping as tree's `-J` does for names.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Running totals of the report.
#[derive(Default)]
struct Counts {
    dirs: u64,
    files: u64,
}

impl Counts {
    fn add(&mut self, it: &Item) {
        if it.dir_like {
            self.dirs += 1;
        } else {
            self.files += 1;
        }
    }
}

/// Reads, filters and sorts the entries of directory `abs` (`depth` is the
/// depth of the entries, 1 for an operand's children).
async fn read_items(
    ctx: &mut CommandCtx,
    abs: &str,
    rel: &str,
    o: &Opts,
    depth: usize,
) -> mirage_types::Result<Vec<Item>> {
    let list = ctx.vfs.readdir(abs).await?;
    // --matchdirs: a directory whose path below the operand matches shows
    // all of its files
    let parent_matched = o.matchdirs
        && !rel.is_empty()
        && o.pattern
            .as_ref()
            .is_some_and(|pat| pat.matches(rel, true, o.icase));
    let mut items = Vec::with_capacity(list.len());
    for st in list {
        let name = st.name.clone();
        if !o.all && name.starts_with('.') {
            continue;
        }
        if name == "." || name == ".." {
            continue;
        }
        let child = crate::util::child_path(abs, &name);
        let (target, dir_like) = if st.file_type == FileType::Symlink {
            let t = ctx.vfs.readlink(&child).await.ok();
            let d = ctx
                .vfs
                .stat(&child)
                .await
                .map(|s| s.is_dir())
                .unwrap_or(false);
            (t, d)
        } else {
            (None, st.is_dir())
        };
        let it = Item {
            name,
            stat: st,
            target,
            dir_like,
        };
        if o.dirs_only && !it.dir_like {
            continue;
        }
        if let Some(ig) = &o.ignore
            && ig.matches(&it.name, it.dir_like, o.icase)
        {
            continue;
        }
        if let Some(pat) = &o.pattern {
            let is_dir = it.descends() || (o.dirs_only && it.dir_like);
            let keep = is_dir || parent_matched || pat.matches(&it.name, false, o.icase);
            if !keep {
                continue;
            }
        }
        if o.prune
            && it.descends()
            && !has_content(ctx, &child, &rel_child(rel, &it.name), o, depth + 1).await
        {
            continue;
        }
        items.push(it);
    }
    sort_items(&mut items, o);
    Ok(items)
}

/// For `--prune`: whether directory `abs` shows anything but empty
/// directories below it (within the `-L` limit).
fn has_content<'a>(
    ctx: &'a mut CommandCtx,
    abs: &'a str,
    rel: &'a str,
    o: &'a Opts,
    depth: usize,
) -> futures::future::BoxFuture<'a, bool> {
    Box::pin(async move {
        if o.level.is_some_and(|l| depth > l) {
            return false;
        }
        // read_items prunes the subdirectories itself
        match read_items(ctx, abs, rel, o, depth).await {
            Ok(items) => !items.is_empty(),
            Err(_) => false,
        }
    })
}

fn sort_items(v: &mut [Item], o: &Opts) {
    match o.sort {
        Sort::None => {}
        Sort::Name => v.sort_by(|a, b| mirage_types::bytestr::cmp(&a.name, &b.name)),
        Sort::Version => v.sort_by(|a, b| super::ls::version_cmp(&a.name, &b.name)),
        // oldest first, as tree's mtime sort
        Sort::Time => v.sort_by(|a, b| {
            a.stat
                .modified
                .cmp(&b.stat.modified)
                .then_with(|| mirage_types::bytestr::cmp(&a.name, &b.name))
        }),
        // largest first
        Sort::Size => v.sort_by(|a, b| {
            shown_size(b)
                .cmp(&shown_size(a))
                .then_with(|| mirage_types::bytestr::cmp(&a.name, &b.name))
        }),
    }
    if o.reverse && o.sort != Sort::None {
        v.reverse();
    }
    if o.dirsfirst {
        v.sort_by_key(|e| !e.dir_like);
    } else if o.filesfirst {
        v.sort_by_key(|e| e.dir_like);
    }
}

/// The bracketed `[perms size]  ` field of an entry, or "".
fn info_field(it: &Item, o: &Opts) -> String {
    let mut parts = Vec::new();
    if o.perms {
        parts.push(super::ls::mode_string(it.stat.file_type, mode_of(&it.stat)));
    }
    if o.user {
        parts.push(format!("{:<8}", o.owner));
    }
    if o.group {
        parts.push(format!("{:<8}", o.owner));
    }
    if o.size || o.human {
        let s = shown_size(it);
        parts.push(if o.human {
            human_size(s)
        } else {
            format!("{s:>11}")
        });
    }
    if let Some(fmt) = &o.date {
        let secs = it
            .stat
            .modified
            .map_or(0, |t| match t.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_secs() as i64,
                Err(e) => -(e.duration().as_secs() as i64),
            });
        parts.push(match fmt {
            Some(f) => strftime(f, secs, &o.zone).unwrap_or_else(|| secs.to_string()),
            None => super::ls::format_time(secs, o.now, false, &o.zone),
        });
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("[{}]  ", parts.join(" "))
    }
}

/// The shown name of an entry, with `-F`'s indicator and ` -> target`.
fn name_field(it: &Item, path: &str, o: &Opts) -> String {
    let mut s = if o.quote {
        format!("\"{}\"", path.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        String::from(path)
    };
    match &it.target {
        Some(t) => {
            s.push_str(" -> ");
            s.push_str(t);
            if o.classify {
                s.push_str(indicator(FileType::Symlink, 0, it.dir_like));
            }
        }
        None => {
            if o.classify {
                s.push_str(indicator(it.stat.file_type, mode_of(&it.stat), it.dir_like));
            }
        }
    }
    s
}

/// The JSON object head of an entry (without its closing brace).
fn json_head(it: &Item, path: &str, o: &Opts) -> String {
    let ty = match it.stat.file_type {
        FileType::Directory => "directory",
        FileType::Symlink => "link",
        FileType::File => "file",
    };
    let mut s = format!("{{\"type\":\"{ty}\",\"name\":{}", json_str(path));
    if let Some(t) = &it.target {
        s.push_str(&format!(",\"target\":{}", json_str(t)));
    }
    if o.perms {
        s.push_str(&format!(
            ",\"mode\":\"{:04o}\",\"prot\":\"{}\"",
            mode_of(&it.stat) & 0o7777,
            super::ls::mode_string(it.stat.file_type, mode_of(&it.stat))
        ));
    }
    if o.size || o.human {
        s.push_str(&format!(",\"size\":{}", shown_size(it)));
    }
    s
}

/// One open directory of the walk.
struct Frame {
    items: Vec<Item>,
    next: usize,
    /// The indentation lines of its entries (`│  ` / four spaces).
    prefix: String,
    /// Its absolute path and its path as `-f` shows it.
    abs: String,
    shown: String,
    /// Its path below the operand (`""` for the operand).
    rel: String,
    depth: usize,
}

/// `name` below the relative path `rel`.
fn rel_child(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// Walks one operand directory whose entries are `items`, writing its
/// lines (text or JSON) as it goes.
async fn walk(
    ctx: &mut CommandCtx,
    o: &Opts,
    counts: &mut Counts,
    root_abs: String,
    root_shown: String,
    items: Vec<Item>,
) -> Result<(), CmdError> {
    let mut stack = vec![Frame {
        items,
        next: 0,
        prefix: String::new(),
        abs: root_abs,
        shown: root_shown,
        rel: String::new(),
        depth: 1,
    }];
    let mut line = String::new();
    while let Some(top) = stack.last_mut() {
        if top.next >= top.items.len() {
            let depth = top.depth;
            stack.pop();
            if o.json {
                // close the directory that held this frame
                let indent = "  ".repeat(depth);
                line.clear();
                line.push('\n');
                line.push_str(&indent);
                line.push_str("]}");
                if let Some(parent) = stack.last()
                    && parent.next < parent.items.len()
                {
                    line.push_str(",\n");
                }
                ctx.stdout.write_str(&line).await?;
            }
            continue;
        }
        let idx = top.next;
        top.next += 1;
        let last = top.next == top.items.len();
        let it = &top.items[idx];
        counts.add(it);
        let path = if o.full {
            crate::util::child_path(&top.shown, &it.name)
        } else {
            it.name.clone()
        };
        let child_abs = crate::util::child_path(&top.abs, &it.name);
        let depth = top.depth;
        let descend = it.descends() && o.level.is_none_or(|l| depth < l);
        line.clear();
        let children = if descend {
            read_items(
                ctx,
                &child_abs,
                &rel_child(&top.rel, &it.name),
                o,
                depth + 1,
            )
            .await
            .ok()
        } else {
            Some(Vec::new())
        };
        let Some(top) = stack.last() else { break };
        let it = &top.items[idx];
        if o.json {
            line.push_str(&"  ".repeat(depth + 1));
            line.push_str(&json_head(it, &path, o));
            match &children {
                Some(c) if !c.is_empty() => line.push_str(",\"contents\":[\n"),
                Some(_) => {
                    line.push('}');
                    if !last {
                        line.push_str(",\n");
                    }
                }
                None => {
                    line.push_str(",\"contents\":[{\"error\": \"error opening dir\"}]}");
                    if !last {
                        line.push_str(",\n");
                    }
                }
            }
        } else {
            if !o.noindent {
                line.push_str(&top.prefix);
                line.push_str(if last { "└── " } else { "├── " });
            }
            line.push_str(&info_field(it, o));
            line.push_str(&name_field(it, &path, o));
            if children.is_none() {
                line.push_str("  [error opening dir]");
            }
            line.push('\n');
        }
        ctx.stdout.write_str(&line).await?;
        if let Some(c) = children
            && !c.is_empty()
        {
            let prefix = if o.noindent {
                String::new()
            } else {
                format!(
                    "{}{}",
                    top.prefix,
                    if last { "    " } else { "│\u{a0}\u{a0} " }
                )
            };
            let shown = path.clone();
            let rel = rel_child(&top.rel, &top.items[idx].name);
            stack.push(Frame {
                rel,
                items: c,
                next: 0,
                prefix,
                abs: child_abs,
                shown,
                depth: depth + 1,
            });
        }
    }
    Ok(())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let level = match p.value("level") {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(CmdError::new(1, "Invalid level, must be greater than 0.")),
        },
    };
    let sort = match p.value("sort") {
        Some("name") => Sort::Name,
        Some("version") => Sort::Version,
        Some("size") => Sort::Size,
        Some("mtime" | "ctime") => Sort::Time,
        Some(v) => {
            // tree 2.1 writes the message to stderr and the list to stdout
            let msg = format!("tree: Sort type '{v}' not valid, should be one of: ");
            ctx.stderr.write_str(&msg).await?;
            ctx.stdout
                .write_str("name,version,size,mtime,ctime\n")
                .await?;
            return Ok(1);
        }
        None if p.has("unsorted") => Sort::None,
        None if p.has("time") || p.has("ctime") => Sort::Time,
        None if p.has("version-sort") => Sort::Version,
        None => Sort::Name,
    };
    let pats = |key: &str| {
        let v = p.values(key);
        (!v.is_empty()).then(|| Pattern::new(&v))
    };
    let o = Opts {
        all: p.has("all"),
        dirs_only: p.has("dirs"),
        level,
        ignore: pats("ignore"),
        pattern: pats("pattern"),
        full: p.has("full"),
        noindent: p.has("noindent"),
        classify: p.has("classify"),
        size: p.has("size"),
        human: p.has("human"),
        perms: p.has("perms"),
        reverse: p.has("reverse"),
        sort,
        user: p.has("user"),
        group: p.has("group"),
        owner: ctx
            .var("USER")
            .or_else(|| ctx.var("LOGNAME"))
            .filter(|u| !u.is_empty())
            .unwrap_or("root")
            .to_string(),
        date: if let Some(f) = p.value("timefmt") {
            Some(Some(f.to_string()))
        } else if p.has("date") {
            Some(None)
        } else {
            None
        },
        quote: p.has("quote"),
        zone: Zone::from_tz(ctx.var("TZ")),
        now: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        json: p.has("json"),
        noreport: p.has("noreport"),
        dirsfirst: p.has("dirsfirst"),
        filesfirst: p.has("filesfirst"),
        prune: p.has("prune"),
        matchdirs: p.has("matchdirs"),
        icase: p.has("ignore-case"),
    };
    let operands = if p.operands.is_empty() {
        vec![".".to_string()]
    } else {
        p.operands.clone()
    };
    let mut counts = Counts::default();
    let mut status = 0;
    if o.json {
        ctx.stdout.write_str("[\n").await?;
    }
    for (i, op) in operands.iter().enumerate() {
        let abs = ctx.resolve(op);
        // -f shows paths below the operand without its trailing slashes
        let shown = if o.full && op.len() > 1 {
            op.trim_end_matches('/').to_string()
        } else {
            op.clone()
        };
        let st = ctx.vfs.stat(&abs).await;
        let root = Item {
            name: shown.clone(),
            stat: match &st {
                Ok(s) => s.clone(),
                Err(_) => FileStat::file(shown.clone(), 0),
            },
            target: None,
            dir_like: matches!(&st, Ok(s) if s.is_dir()),
        };
        let items = match &st {
            Ok(s) if s.is_dir() => read_items(ctx, &abs, "", &o, 1).await.ok(),
            _ => None,
        };
        if st.is_err() {
            status = 2;
        } else if items.is_none() && !root.dir_like {
            counts.files += 1;
        }
        if o.json {
            if i > 0 {
                ctx.stdout.write_str(",\n").await?;
            }
            let mut head = format!("  {}", json_head(&root, &shown, &o));
            match &items {
                Some(v) if !v.is_empty() => head.push_str(",\"contents\":[\n"),
                Some(_) => head.push('}'),
                None => head.push_str(",\"contents\":[{\"error\": \"error opening dir\"}]}"),
            }
            ctx.stdout.write_str(&head).await?;
        } else {
            let mut head = format!("{}{}", info_field(&root, &o), name_field(&root, &shown, &o));
            if items.is_none() {
                head.push_str("  [error opening dir]");
            }
            head.push('\n');
            ctx.stdout.write_str(&head).await?;
        }
        if let Some(items) = items
            && !items.is_empty()
        {
            counts.dirs += 1;
            walk(ctx, &o, &mut counts, abs, shown, items).await?;
        }
    }
    if o.json {
        let mut tail = String::from("\n");
        if o.noreport {
            tail.push('\n');
        } else {
            tail.push_str(",\n  {\"type\":\"report\",");
            tail.push_str(&format!("\"directories\":{}", counts.dirs));
            if !o.dirs_only {
                tail.push_str(&format!(",\"files\":{}", counts.files));
            }
            tail.push_str("}\n");
        }
        tail.push_str("]\n");
        ctx.stdout.write_str(&tail).await?;
    } else if !o.noreport {
        let mut r = format!("\n{}", plural(counts.dirs, "directory", "directories"));
        if !o.dirs_only {
            r.push_str(", ");
            r.push_str(&plural(counts.files, "file", "files"));
        }
        r.push('\n');
        ctx.stdout.write_str(&r).await?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        Pattern::new(&[p]).matches(n, false, false)
    }

    #[test]
    fn patterns() {
        assert!(m("*.py", "main.py"));
        assert!(!m("*.py", "main.pyc"));
        assert!(m("tests|*.md", "README.md"));
        assert!(m("tests|*.md", "tests"));
        assert!(m("[a-c]?", "b1"));
        assert!(!m("[^a-c]?", "b1"));
        assert!(m("a*b*c", "aXbYbc"));
        assert!(!Pattern::new(&["d/"]).matches("d", false, false));
        assert!(Pattern::new(&["d/"]).matches("d", true, false));
        assert!(Pattern::new(&["*.MD"]).matches("a.md", false, true));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(3), "   3");
        assert_eq!(human_size(1023), "1023");
        assert_eq!(human_size(4096), "4.0K");
        assert_eq!(human_size(10188), "9.9K");
        assert_eq!(human_size(10239), "10.0K");
        assert_eq!(human_size(10240), " 10K");
        assert_eq!(human_size(1_000_000), "977K");
        assert_eq!(human_size(1_048_575), "1024K");
        assert_eq!(human_size(1_073_741_824), "1.0G");
    }
}
