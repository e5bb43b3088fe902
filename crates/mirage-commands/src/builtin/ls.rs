//! `ls`: list directory contents, as GNU coreutils 9.1 `ls` writing to a
//! pipe (one name per line, no quoting): `-a`, `-A`, `-l`, `-n`, `-g`,
//! `-o`, `-h`, `-R`, `-d`, `-r`, `-t`, `-S`, `-X`, `-U`, `-F`, `-p`, `-1`,
//! `--group-directories-first`. Names sort in byte order (`LC_ALL=C.UTF-8`).
//! File operands are listed first, then each directory under a `NAME:`
//! header when there is more than one operand (or with `-R`). Exit status:
//! 2 when a command-line operand cannot be accessed, 1 for a directory that
//! cannot be read below it, 0 otherwise.

use std::time::{SystemTime, UNIX_EPOCH};

use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ErrorKind, FileStat, FileType};

use crate::util::parse_args;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("all", Some('a'), Some("all")),
    OptSpec::flag("almost-all", Some('A'), Some("almost-all")),
    OptSpec::flag("long", Some('l'), None),
    OptSpec::flag("numeric", Some('n'), Some("numeric-uid-gid")),
    OptSpec::flag("g-long", Some('g'), None),
    OptSpec::flag("o-long", Some('o'), None),
    OptSpec::flag("no-group", Some('G'), Some("no-group")),
    OptSpec::flag("human", Some('h'), Some("human-readable")),
    OptSpec::flag("recursive", Some('R'), Some("recursive")),
    OptSpec::flag("directory", Some('d'), Some("directory")),
    OptSpec::flag("reverse", Some('r'), Some("reverse")),
    OptSpec::flag("time", Some('t'), None),
    OptSpec::flag("size", Some('S'), None),
    OptSpec::flag("extension", Some('X'), None),
    OptSpec::flag("unsorted", Some('U'), None),
    OptSpec::flag("unsorted-all", Some('f'), None),
    OptSpec::value("sort", None, Some("sort")),
    OptSpec::flag("classify", Some('F'), Some("classify")),
    OptSpec::flag("slash", Some('p'), None),
    OptSpec::flag("one", Some('1'), None),
    OptSpec::flag("columns", Some('C'), None),
    OptSpec::flag("across", Some('x'), None),
    OptSpec::flag("literal", Some('N'), Some("literal")),
    OptSpec::flag("escape", Some('b'), Some("escape")),
    OptSpec::flag("hide-control", Some('q'), Some("hide-control-chars")),
    OptSpec::flag("dereference", Some('L'), Some("dereference")),
    OptSpec::flag("group-dirs", None, Some("group-directories-first")),
    OptSpec::optional("color", None, Some("color")),
    OptSpec::flag("full-time", None, Some("full-time")),
];

/// The spec of `ls` (usage errors exit 2).
pub static SPEC: CommandSpec = CommandSpec {
    name: "ls",
    options: OPTS,
    paths: PathOperands::All,
    numeric_key: None,
    stop_at_operand: false,
    usage_status: 2,
};

crate::register_command!("ls", SPEC, run);

/// How entries are ordered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Name,
    Time,
    Size,
    Ext,
    None,
}

struct Opts {
    all: bool,
    almost_all: bool,
    long: bool,
    numeric: bool,
    owner: bool,
    group: bool,
    human: bool,
    recursive: bool,
    directory: bool,
    reverse: bool,
    sort: SortBy,
    classify: bool,
    slash: bool,
    group_dirs: bool,
    full_time: bool,
    /// The zone of the date column (`TZ` of the command's environment).
    zone: Zone,
}

/// The permission string of `ls -l` (`-rw-r--r--`, `drwxr-xr-x`) for a
/// file type and mode bits (setuid/setgid/sticky shown as `s`/`S`/`t`/`T`).
pub fn mode_string(ft: FileType, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match ft {
        FileType::File => '-',
        FileType::Directory => 'd',
        FileType::Symlink => 'l',
    });
    let bit = |m: u32, c: char| if mode & m != 0 { c } else { '-' };
    let special = |exec: bool, set: bool, lower: char, upper: char| match (exec, set) {
        (true, true) => lower,
        (false, true) => upper,
        (true, false) => 'x',
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(mode & 0o100 != 0, mode & 0o4000 != 0, 's', 'S'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(mode & 0o010 != 0, mode & 0o2000 != 0, 's', 'S'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(mode & 0o001 != 0, mode & 0o1000 != 0, 't', 'T'));
    s
}

fn default_mode(st: &FileStat) -> u32 {
    st.mode.unwrap_or(match st.file_type {
        FileType::File => 0o644,
        FileType::Directory => 0o755,
        FileType::Symlink => 0o777,
    })
}

/// GNU `ls -h` sizes: plain bytes below 1024, else one decimal below 10
/// and whole units above, always rounded up (`1.1K`, `12K`, `1.5M`).
pub fn human_size(n: u64) -> String {
    if n < 1024 {
        return n.to_string();
    }
    const UNITS: &[char] = &['K', 'M', 'G', 'T', 'P', 'E'];
    let mut v = n as f64;
    let mut u = 0;
    v /= 1024.0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if v < 10.0 {
        let t = (v * 10.0).ceil() / 10.0;
        if t < 10.0 {
            return format!("{t:.1}{}", UNITS[u]);
        }
        return format!("{}{}", t as u64, UNITS[u]);
    }
    let t = v.ceil();
    if t >= 1024.0 && u + 1 < UNITS.len() {
        return format!("1.0{}", UNITS[u + 1]);
    }
    format!("{}{}", t as u64, UNITS[u])
}

fn epoch_secs(t: Option<SystemTime>) -> i64 {
    match t {
        Some(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        },
        None => 0,
    }
}

/// The date column of `ls -l` in `zone`, as GNU `ls`: `Mon DD HH:MM` for
/// times within the past six months of `now`, `Mon DD  YYYY` otherwise
/// (also for a time in the future); `--full-time` prints
/// `YYYY-MM-DD HH:MM:SS.NNNNNNNNN +ZZZZ`. A time outside the calendar's
/// range prints as its number of seconds, as GNU does.
pub fn format_time(secs: i64, now: i64, full: bool, zone: &Zone) -> String {
    let six_months = 31_556_952 / 2;
    let fmt = if full {
        "%Y-%m-%d %H:%M:%S.000000000 %z"
    } else if secs > now || now - secs > six_months {
        "%b %e  %Y"
    } else {
        "%b %e %H:%M"
    };
    strftime(fmt, secs, zone).unwrap_or_else(|| secs.to_string())
}

/// One entry to print: the name as shown and its metadata.
struct Entry {
    name: String,
    stat: FileStat,
    /// A symlink's target, shown by `-l` as `name -> target`.
    target: Option<String>,
}

/// Reads the targets of the symlinks among `entries` (for `-l`); `dir` is
/// the directory they are in (`None`: the names are operands).
async fn read_targets(ctx: &mut CommandCtx, entries: &mut [Entry], dir: Option<&str>) {
    for e in entries
        .iter_mut()
        .filter(|e| e.stat.file_type == FileType::Symlink)
    {
        let abs = match dir {
            Some(d) => crate::util::child_path(d, &e.name),
            None => ctx.resolve(&e.name),
        };
        e.target = ctx.vfs.readlink(&abs).await.ok();
    }
}

fn extension(name: &str) -> &str {
    match name.rfind('.') {
        Some(i) if i > 0 => &name[i + 1..],
        _ => "",
    }
}

fn sort_entries(v: &mut [Entry], o: &Opts) {
    match o.sort {
        SortBy::None => {}
        SortBy::Name => v.sort_by(|a, b| mirage_types::bytestr::cmp(&a.name, &b.name)),
        SortBy::Time => v.sort_by(|a, b| {
            b.stat
                .modified
                .cmp(&a.stat.modified)
                .then_with(|| mirage_types::bytestr::cmp(&a.name, &b.name))
        }),
        SortBy::Size => v.sort_by(|a, b| {
            eff_size(&b.stat)
                .cmp(&eff_size(&a.stat))
                .then_with(|| mirage_types::bytestr::cmp(&a.name, &b.name))
        }),
        SortBy::Ext => v.sort_by(|a, b| {
            extension(&a.name)
                .as_bytes()
                .cmp(extension(&b.name).as_bytes())
                .then_with(|| mirage_types::bytestr::cmp(&a.name, &b.name))
        }),
    }
    if o.reverse && o.sort != SortBy::None {
        v.reverse();
    }
    if o.group_dirs {
        v.sort_by_key(|e| !e.stat.is_dir());
    }
}

fn suffix(st: &FileStat, o: &Opts) -> &'static str {
    match st.file_type {
        FileType::Directory if o.classify || o.slash => "/",
        FileType::Symlink if o.classify => "@",
        FileType::File if o.classify && default_mode(st) & 0o111 != 0 => "*",
        _ => "",
    }
}

/// The size shown for an entry: directories without a size show 4096, as on ext4.
fn eff_size(st: &FileStat) -> u64 {
    if st.is_dir() && st.size == 0 {
        4096
    } else {
        st.size
    }
}

fn blocks_k(st: &FileStat) -> u64 {
    if st.file_type == FileType::Symlink {
        return 0; // a short link's target lives in its inode
    }
    let size = eff_size(st);
    size.div_ceil(4096) * 4
}

/// Formats a block of entries (one listing) into `out`.
fn format_block(entries: &[Entry], o: &Opts, with_total: bool, now: i64, out: &mut String) {
    if !o.long {
        for e in entries {
            out.push_str(&e.name);
            out.push_str(suffix(&e.stat, o));
            out.push('\n');
        }
        return;
    }
    if with_total {
        let total: u64 = entries.iter().map(|e| blocks_k(&e.stat)).sum();
        let t = if o.human {
            human_size(total * 1024)
        } else {
            total.to_string()
        };
        out.push_str(&format!("total {t}\n"));
    }
    let user = if o.numeric { "0" } else { "root" };
    let nlink = |e: &Entry| if e.stat.is_dir() { 2 } else { 1 };
    let size_str = |e: &Entry| {
        let s = eff_size(&e.stat);
        if o.human {
            human_size(s)
        } else {
            s.to_string()
        }
    };
    let lw = entries
        .iter()
        .map(|e| nlink(e).to_string().len())
        .max()
        .unwrap_or(1);
    let sw = entries.iter().map(|e| size_str(e).len()).max().unwrap_or(1);
    for e in entries {
        out.push_str(&mode_string(e.stat.file_type, default_mode(&e.stat)));
        out.push_str(&format!(" {:>lw$}", nlink(e)));
        if o.owner {
            out.push_str(&format!(" {user}"));
        }
        if o.group {
            out.push_str(&format!(" {user}"));
        }
        out.push_str(&format!(" {:>sw$}", size_str(e)));
        out.push(' ');
        out.push_str(&format_time(
            epoch_secs(e.stat.modified),
            now,
            o.full_time,
            &o.zone,
        ));
        out.push(' ');
        out.push_str(&e.name);
        match &e.target {
            Some(t) => {
                out.push_str(" -> ");
                out.push_str(t);
            }
            None => out.push_str(suffix(&e.stat, o)),
        }
        out.push('\n');
    }
}

fn shown(name: &str, o: &Opts) -> bool {
    o.all || o.almost_all || !name.starts_with('.')
}

/// Lists the directory `display` (`abs`), recursing with `-R`.
async fn list_dir(
    ctx: &mut CommandCtx,
    display: &str,
    abs: &str,
    o: &Opts,
    header: bool,
    first: &mut bool,
    now: i64,
) -> Result<i32, ()> {
    let mut status = 0;
    let mut stack: Vec<(String, String, bool)> =
        vec![(display.to_string(), abs.to_string(), header)];
    while let Some((display, abs, header)) = stack.pop() {
        let list = match ctx.vfs.readdir(&abs).await {
            Ok(l) => l,
            Err(e) => {
                ctx.error(format!(
                    "cannot open directory '{display}': {}",
                    e.message()
                ))
                .await;
                status = if *first { 2 } else { 1 };
                *first = false;
                continue;
            }
        };
        let mut entries: Vec<Entry> = list
            .into_iter()
            .filter(|s| shown(&s.name, o))
            .map(|s| Entry {
                name: s.name.clone(),
                stat: s,
                target: None,
            })
            .collect();
        if o.all {
            let dot = ctx
                .vfs
                .stat(&abs)
                .await
                .unwrap_or_else(|_| FileStat::dir("."));
            let parent = mirage_types::dirname(&abs);
            let dotdot = ctx
                .vfs
                .stat(&parent)
                .await
                .unwrap_or_else(|_| FileStat::dir(".."));
            entries.push(Entry {
                name: ".".into(),
                stat: dot,
                target: None,
            });
            entries.push(Entry {
                name: "..".into(),
                stat: dotdot,
                target: None,
            });
        }
        if o.long {
            read_targets(ctx, &mut entries, Some(&abs)).await;
        }
        sort_entries(&mut entries, o);
        let mut out = String::new();
        if !*first {
            out.push('\n');
        }
        *first = false;
        if header {
            out.push_str(&display);
            out.push_str(":\n");
        }
        format_block(&entries, o, true, now, &mut out);
        if let Err(e) = ctx.stdout.write_str(&out).await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Err(());
        }
        if o.recursive {
            let subs: Vec<(String, String, bool)> = entries
                .iter()
                .filter(|e| e.stat.is_dir() && e.name != "." && e.name != "..")
                .map(|e| {
                    (
                        crate::util::child_path(&display, &e.name),
                        crate::util::child_path(&abs, &e.name),
                        true,
                    )
                })
                .collect();
            stack.extend(subs.into_iter().rev());
        }
    }
    Ok(status)
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let long = p.has("long")
            || p.has("numeric")
            || p.has("g-long")
            || p.has("o-long")
            || p.has("full-time");
        let sort = if p.has("unsorted") || p.has("unsorted-all") {
            SortBy::None
        } else {
            match p.value("sort") {
                Some("time") => SortBy::Time,
                Some("size") => SortBy::Size,
                Some("extension") => SortBy::Ext,
                Some("none") => SortBy::None,
                Some("name") => SortBy::Name,
                Some(other) => {
                    ctx.error(format!("invalid argument '{other}' for '--sort'"))
                        .await;
                    return 2;
                }
                None => match p.last_of(&["time", "size", "extension"]) {
                    Some("time") => SortBy::Time,
                    Some("size") => SortBy::Size,
                    Some("extension") => SortBy::Ext,
                    _ => SortBy::Name,
                },
            }
        };
        let o = Opts {
            all: p.has("all") || p.has("unsorted-all"),
            almost_all: p.has("almost-all"),
            long,
            numeric: p.has("numeric"),
            owner: !p.has("g-long"),
            group: !(p.has("o-long") || p.has("no-group")),
            human: p.has("human"),
            recursive: p.has("recursive"),
            directory: p.has("directory"),
            reverse: p.has("reverse"),
            sort,
            classify: p.has("classify"),
            slash: p.has("slash"),
            group_dirs: p.has("group-dirs"),
            full_time: p.has("full-time"),
            zone: Zone::from_tz(ctx.var("TZ")),
        };
        let now = epoch_secs(Some(SystemTime::now()));
        let operands = if p.operands.is_empty() {
            vec![".".to_string()]
        } else {
            p.operands.clone()
        };
        let mut status = 0;
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for op in &operands {
            let abs = ctx.resolve(op);
            // GNU: an operand link is followed, except by -l, -d and -F
            // (which show the link itself); a broken one is shown as itself.
            let st = if o.long || o.directory || o.classify {
                ctx.vfs.lstat(&abs).await
            } else {
                match ctx.vfs.stat(&abs).await {
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        ctx.vfs.lstat(&abs).await.map_err(|_| e)
                    }
                    r => r,
                }
            };
            match st {
                Ok(st) => {
                    if st.is_dir() && !o.directory {
                        dirs.push(Entry {
                            name: op.clone(),
                            stat: st,
                            target: None,
                        });
                    } else {
                        files.push(Entry {
                            name: op.clone(),
                            stat: st,
                            target: None,
                        });
                    }
                }
                Err(e) => {
                    ctx.error(format!("cannot access '{op}': {}", e.message()))
                        .await;
                    status = 2;
                }
            }
        }
        if o.long {
            read_targets(ctx, &mut files, None).await;
        }
        sort_entries(&mut files, &o);
        sort_entries(&mut dirs, &o);
        let mut first = true;
        if !files.is_empty() {
            let mut out = String::new();
            format_block(&files, &o, false, now, &mut out);
            if let Err(e) = ctx.stdout.write_str(&out).await
                && e.kind == ErrorKind::BrokenPipe
            {
                return status;
            }
            first = false;
        }
        let header = operands.len() > 1 || o.recursive;
        for d in &dirs {
            let abs = ctx.resolve(&d.name);
            match list_dir(ctx, &d.name, &abs, &o, header, &mut first, now).await {
                Ok(s) => status = status.max(s),
                Err(()) => return status,
            }
        }
        status
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(FileType::File, 0o644), "-rw-r--r--");
        assert_eq!(mode_string(FileType::Directory, 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(FileType::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(FileType::Directory, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(FileType::File, 0o2644), "-rw-r-Sr--");
        assert_eq!(mode_string(FileType::Symlink, 0o777), "lrwxrwxrwx");
    }

    #[test]
    fn human_sizes_and_dates() {
        assert_eq!(human_size(1000), "1000");
        assert_eq!(human_size(1024), "1.0K");
        assert_eq!(human_size(1025), "1.1K");
        assert_eq!(human_size(12 * 1024), "12K");
        assert_eq!(human_size(1536 * 1024), "1.5M");
        let utc = Zone::from_tz(Some("UTC"));
        assert_eq!(
            format_time(1_700_000_000, 1_700_000_100, false, &utc),
            "Nov 14 22:13"
        );
        assert_eq!(format_time(0, 1_700_000_000, false, &utc), "Jan  1  1970");
        let ny = Zone::from_tz(Some("America/New_York"));
        assert_eq!(
            format_time(1_700_000_000, 1_700_000_100, false, &ny),
            "Nov 14 17:13"
        );
        assert_eq!(
            format_time(0, 1_700_000_000, true, &ny),
            "1969-12-31 19:00:00.000000000 -0500"
        );
        // in the future: the year
        assert_eq!(
            format_time(1_700_000_100, 1_700_000_000, false, &utc),
            "Nov 14  2023"
        );
    }

    fn ls(v: &std::sync::Arc<MemVfs>, args: &[&str], cwd: &str) -> (String, String, i32) {
        run_cmd(v, run, "ls", args, cwd, "")
    }

    fn tree() -> std::sync::Arc<MemVfs> {
        MemVfs::with(&[
            ("/m/.hidden", "h"),
            ("/m/10.txt", "ten"),
            ("/m/9.txt", "nine"),
            ("/m/C.md", "c"),
            ("/m/a.TXT", ""),
            ("/m/b.txt", ""),
            ("/m/sub/inner.txt", "i"),
            ("/m/sub/deep/x.log", "x"),
        ])
    }

    #[test]
    fn listings() {
        let t = tree();
        assert_eq!(
            ls(&t, &["/m"], "/").0,
            "10.txt\n9.txt\nC.md\na.TXT\nb.txt\nsub\n"
        );
        assert_eq!(
            ls(&t, &["-r"], "/m").0,
            "sub\nb.txt\na.TXT\nC.md\n9.txt\n10.txt\n"
        );
        assert_eq!(ls(&t, &["-A", "sub"], "/m").0, "deep\ninner.txt\n");
        assert_eq!(ls(&t, &["-a", "sub"], "/m").0, ".\n..\ndeep\ninner.txt\n");
        assert_eq!(ls(&t, &["-F", "sub"], "/m").0, "deep/\ninner.txt\n");
        assert_eq!(
            ls(&t, &["-R", "/m"], "/").0,
            "/m:\n10.txt\n9.txt\nC.md\na.TXT\nb.txt\nsub\n\n/m/sub:\ndeep\ninner.txt\n\n/m/sub/deep:\nx.log\n"
        );
        assert_eq!(
            ls(&t, &["/m/b.txt", "/m/sub/deep", "C.md"], "/m").0,
            "/m/b.txt\nC.md\n\n/m/sub/deep:\nx.log\n"
        );
        let (o, e, s) = ls(&t, &["nope", "sub/deep"], "/m");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "sub/deep:\nx.log\n",
                "ls: cannot access 'nope': No such file or directory\n",
                2
            )
        );
        assert_eq!(ls(&t, &["-d", "sub"], "/m").0, "sub\n");
        assert_eq!(
            ls(&t, &["-S", "/m"], "/").0,
            "sub\n9.txt\n10.txt\nC.md\na.TXT\nb.txt\n"
        );
    }

    #[test]
    fn long_format() {
        let t = tree();
        let (o, _, _) = ls(&t, &["-l", "/m/sub"], "/");
        assert!(o.starts_with("total 8\n"), "{o}");
        assert!(
            o.contains("drwxr-xr-x 2 root root 4096 Nov 14  2023 deep\n"),
            "{o}"
        );
        assert!(
            o.contains("-rw-r--r-- 1 root root    1 Nov 14  2023 inner.txt\n"),
            "{o}"
        );
    }
}
