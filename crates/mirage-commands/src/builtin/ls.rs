//! `ls`: list directory contents, as GNU coreutils 9.1 `ls` writing to a
//! pipe (one name per line unless `-C`, `-x` or `-m` ask for columns; no
//! quoting, no colour). Options: `-a`, `-A`, `-l`, `-n`, `-g`, `-o`, `-G`,
//! `-h`, `-s`, `-i`, `-R`, `-d`, `-r`, `-t`, `-S`, `-X`, `-U`, `-f`,
//! `--sort`, `-F`, `-p`, `-1`, `-C`, `-x`, `-m`, `-w`/`COLUMNS` (80 when
//! unset), `--group-directories-first`, `--full-time`, `--time-style`
//! (and `TIME_STYLE`), `--color=never` (colour is never used).
//!
//! Names sort in byte order (`LC_ALL=C.UTF-8`). File operands are listed
//! first, then each directory under a `NAME:` header when there is more
//! than one operand (or with `-R`); each directory is written as soon as it
//! is read, so `ls -R` of a big tree streams. Exit status: 2 when a
//! command-line operand cannot be accessed, 1 for a directory that cannot
//! be read below it, 0 otherwise.
//!
//! What a virtual resource does not keep is shown as on a fresh ext4 file
//! system: the owner and group are the session user (`USER`, else
//! `LOGNAME`, else `root`; uid/gid 0 for root, 1000 otherwise), a
//! directory's link count is 2 plus its subdirectories, a directory's size
//! 4096, blocks are counted in 4 KiB units, modes default to 0644/0755/0777
//! and the inode (`-i`) is a stable number derived from the path.

use std::time::{SystemTime, UNIX_EPOCH};

use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ErrorKind, FileStat, FileType};
use unicode_width::UnicodeWidthChar;

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
    OptSpec::flag("blocks", Some('s'), Some("size")),
    OptSpec::flag("inode", Some('i'), Some("inode")),
    OptSpec::flag("recursive", Some('R'), Some("recursive")),
    OptSpec::flag("directory", Some('d'), Some("directory")),
    OptSpec::flag("reverse", Some('r'), Some("reverse")),
    OptSpec::flag("time", Some('t'), None),
    OptSpec::flag("size", Some('S'), None),
    OptSpec::flag("extension", Some('X'), None),
    OptSpec::flag("unsorted", Some('U'), None),
    OptSpec::flag("unsorted-all", Some('f'), None),
    OptSpec::flag("ctime", Some('c'), None),
    OptSpec::flag("atime", Some('u'), None),
    OptSpec::value("sort", None, Some("sort")),
    OptSpec::value("time-word", None, Some("time")),
    OptSpec::flag("classify", Some('F'), None),
    OptSpec::optional("classify-when", None, Some("classify")),
    OptSpec::flag("file-type", None, Some("file-type")),
    OptSpec::value("indicator-style", None, Some("indicator-style")),
    OptSpec::flag("slash", Some('p'), None),
    OptSpec::flag("version-sort", Some('v'), None),
    OptSpec::value("ignore", Some('I'), Some("ignore")),
    OptSpec::value("hide", None, Some("hide")),
    OptSpec::flag("one", Some('1'), None),
    OptSpec::flag("columns", Some('C'), None),
    OptSpec::flag("across", Some('x'), None),
    OptSpec::flag("commas", Some('m'), None),
    OptSpec::value("width", Some('w'), Some("width")),
    OptSpec::value("tabsize", Some('T'), Some("tabsize")),
    OptSpec::flag("literal", Some('N'), Some("literal")),
    OptSpec::flag("escape", Some('b'), Some("escape")),
    OptSpec::flag("quote-name", Some('Q'), Some("quote-name")),
    OptSpec::value("quoting-style", None, Some("quoting-style")),
    OptSpec::flag("kibibytes", Some('k'), Some("kibibytes")),
    OptSpec::flag("si", None, Some("si")),
    OptSpec::value("block-size", None, Some("block-size")),
    OptSpec::flag("hide-control", Some('q'), Some("hide-control-chars")),
    OptSpec::flag("dereference", Some('L'), Some("dereference")),
    OptSpec::flag("group-dirs", None, Some("group-directories-first")),
    OptSpec::optional("color", None, Some("color")),
    OptSpec::flag("full-time", None, Some("full-time")),
    OptSpec::value("time-style", None, Some("time-style")),
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
    Version,
    Time,
    Size,
    Ext,
    None,
}

/// How a listing is laid out (the last of `-l -1 -C -x -m` wins).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Long,
    OnePerLine,
    Columns,
    Across,
    Commas,
}

/// The date column's formats (`--time-style`): strftime formats for an
/// old and a recent time (`%N` is the nanoseconds).
#[derive(Clone, PartialEq, Eq)]
struct TimeStyle {
    old: String,
    recent: String,
}

impl TimeStyle {
    fn both(f: &str) -> TimeStyle {
        TimeStyle {
            old: f.to_string(),
            recent: f.to_string(),
        }
    }
}

/// The default (`locale` in the C locale) date formats.
const OLD_FMT: &str = "%b %e  %Y";
const RECENT_FMT: &str = "%b %e %H:%M";

/// Parses a `--time-style` value as GNU `ls` does (`posix-` prefixes are
/// dropped: the conformance locale is not POSIX). `None`: not valid.
fn parse_time_style(v: &str) -> Option<TimeStyle> {
    if let Some(f) = v.strip_prefix('+') {
        return Some(match f.split_once('\n') {
            Some((old, recent)) => TimeStyle {
                old: old.to_string(),
                recent: recent.to_string(),
            },
            None => TimeStyle::both(f),
        });
    }
    let mut v = v;
    while let Some(rest) = v.strip_prefix("posix-") {
        v = rest;
    }
    Some(match v {
        "full-iso" => TimeStyle::both("%Y-%m-%d %H:%M:%S.%N %z"),
        "long-iso" => TimeStyle::both("%Y-%m-%d %H:%M"),
        "iso" => TimeStyle {
            old: "%Y-%m-%d ".into(),
            recent: "%m-%d %H:%M".into(),
        },
        "locale" => TimeStyle {
            old: OLD_FMT.into(),
            recent: RECENT_FMT.into(),
        },
        _ => return None,
    })
}

/// How names are quoted (GNU's `--quoting-style`; `literal` is the
/// default for a pipe).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Literal,
    Shell,
    ShellAlways,
    ShellEscape,
    ShellEscapeAlways,
    C,
    /// `c` only for names that need an escape.
    CMaybe,
    Escape,
    Locale,
}

/// The C-style escape of one character, if it needs one (`\t`, `\\`,
/// `\033`).
fn c_escape(c: char, out: &mut String) -> bool {
    let e = match c {
        '\\' => "\\\\",
        '\x07' => "\\a",
        '\x08' => "\\b",
        '\x0c' => "\\f",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\x0b' => "\\v",
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            out.push_str(&format!("\\{:03o}", c as u32));
            return true;
        }
        _ => return false,
    };
    out.push_str(e);
    true
}

/// Whether a shell needs `name` quoted (GNU quotearg's shell test).
fn shell_needs_quotes(name: &str) -> bool {
    name.is_empty()
        || name.chars().enumerate().any(|(i, c)| match c {
            '#' | '~' => i == 0,
            ' ' | '!' | '"' | '$' | '&' | '\'' | '(' | ')' | '*' | ';' | '<' | '=' | '>' | '?'
            | '[' | '\\' | '^' | '`' | '|' | '{' | '}' => true,
            c => c.is_control(),
        })
}

/// `name` as `ls` shows it under quoting style `q`, and whether it got
/// quotes (for the alignment of the others).
fn quote_name(name: &str, q: Quoting) -> (String, bool) {
    match q {
        Quoting::Literal => (name.to_string(), false),
        Quoting::CMaybe => {
            if name
                .chars()
                .any(|c| c.is_control() || c == '\\' || c == '"')
            {
                quote_name(name, Quoting::C)
            } else {
                (name.to_string(), false)
            }
        }
        Quoting::C | Quoting::Escape | Quoting::Locale => {
            let mut out = String::with_capacity(name.len() + 2);
            let (open, close) = match q {
                Quoting::C => ("\"", "\""),
                Quoting::Locale => ("\u{2018}", "\u{2019}"),
                _ => ("", ""),
            };
            out.push_str(open);
            for c in name.chars() {
                if c_escape(c, &mut out) {
                    continue;
                }
                match (c, q) {
                    ('"', Quoting::C) => out.push_str("\\\""),
                    (' ', Quoting::Escape) => out.push_str("\\ "),
                    _ => out.push(c),
                }
            }
            out.push_str(close);
            (out, q != Quoting::Escape)
        }
        Quoting::Shell
        | Quoting::ShellAlways
        | Quoting::ShellEscape
        | Quoting::ShellEscapeAlways => {
            let always = matches!(q, Quoting::ShellAlways | Quoting::ShellEscapeAlways);
            let escape = matches!(q, Quoting::ShellEscape | Quoting::ShellEscapeAlways);
            if !always && !shell_needs_quotes(name) {
                return (name.to_string(), false);
            }
            let has_ctrl = escape && name.chars().any(char::is_control);
            if name.contains('\'') && !name.contains('"') && !has_ctrl {
                let mut out = String::from("\"");
                for c in name.chars() {
                    if matches!(c, '"' | '$' | '`' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
                return (out, true);
            }
            let mut out = String::from("'");
            for c in name.chars() {
                if c == '\'' {
                    out.push_str("'\\''");
                } else if escape && c.is_control() {
                    out.push_str("'$'");
                    c_escape(c, &mut out);
                    out.push_str("''");
                } else {
                    out.push(c);
                }
            }
            out.push('\'');
            (out, true)
        }
    }
}

/// A `QUOTING_STYLE` value.
fn parse_quoting(v: &str) -> Option<Quoting> {
    Some(match v {
        "literal" => Quoting::Literal,
        "shell" => Quoting::Shell,
        "shell-always" => Quoting::ShellAlways,
        "shell-escape" => Quoting::ShellEscape,
        "shell-escape-always" => Quoting::ShellEscapeAlways,
        "c" => Quoting::C,
        "c-maybe" => Quoting::CMaybe,
        "escape" => Quoting::Escape,
        "locale" | "clocale" => Quoting::Locale,
        _ => return None,
    })
}

/// The indicator style (GNU's `--indicator-style`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Indicator {
    None,
    /// `/` after directories (`-p`).
    Slash,
    /// `/`, `@`, `|`, `=` but no `*` (`--file-type`).
    FileType,
    /// All of them, `*` after executables too (`-F`).
    Classify,
}

struct Opts {
    all: bool,
    almost_all: bool,
    format: Format,
    numeric: bool,
    owner: bool,
    group: bool,
    /// How `-l` shows sizes and `-s`/`total` block counts.
    size_units: Units,
    block_units: Units,
    blocks: bool,
    inode: bool,
    recursive: bool,
    directory: bool,
    reverse: bool,
    sort: SortBy,
    /// What `-F`/`-p`/`--file-type`/`--indicator-style` append to names.
    indicator: Indicator,
    /// `-I`/`--ignore` patterns, and `--hide` ones (dropped by `-a`/`-A`).
    ignore: Vec<globset::GlobMatcher>,
    group_dirs: bool,
    dereference: bool,
    quoting: Quoting,
    time_style: TimeStyle,
    /// The line width of `-C`, `-x` and `-m` (0: no limit).
    width: usize,
    /// Tab stops used to pad columns (0: spaces only).
    tabsize: usize,
    /// The session user shown as owner and group, and its number.
    user: String,
    uid: u32,
    /// The zone of the date column (`TZ` of the command's environment).
    zone: Zone,
}

impl Opts {
    fn long(&self) -> bool {
        self.format == Format::Long
    }
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
    human_base(n, 1024)
}

/// [`human_size`] in powers of `base` (1000 for `--si`, whose kilo is `k`).
fn human_base(n: u64, base: u64) -> String {
    if n < base {
        return n.to_string();
    }
    let units: [char; 6] = if base == 1000 {
        ['k', 'M', 'G', 'T', 'P', 'E']
    } else {
        ['K', 'M', 'G', 'T', 'P', 'E']
    };
    let b = base as f64;
    let mut v = n as f64 / b;
    let mut u = 0;
    while v >= b && u + 1 < units.len() {
        v /= b;
        u += 1;
    }
    if v < 10.0 {
        let t = (v * 10.0).ceil() / 10.0;
        if t < 10.0 {
            return format!("{t:.1}{}", units[u]);
        }
        return format!("{}{}", t as u64, units[u]);
    }
    let t = v.ceil();
    if t >= b && u + 1 < units.len() {
        return format!("1.0{}", units[u + 1]);
    }
    format!("{}{}", t as u64, units[u])
}

/// How sizes and block counts are shown (`-h`, `--si`, `--block-size`,
/// `-k`, `LS_BLOCK_SIZE`/`BLOCK_SIZE`).
#[derive(Clone, PartialEq, Eq)]
enum Units {
    /// Human-readable in powers of 1024 or 1000.
    Human(u64),
    /// Whole blocks of this many bytes (rounded up), then the suffix.
    Blocks(u64, String),
}

impl Units {
    fn show(&self, bytes: u64) -> String {
        match self {
            Units::Human(base) => human_base(bytes, *base),
            Units::Blocks(1, suffix) => format!("{bytes}{suffix}"),
            Units::Blocks(size, suffix) => format!("{}{suffix}", bytes.div_ceil(*size)),
        }
    }
}

/// Parses a `--block-size` value as GNU does (`1`, `K`, `1M`, `KB`,
/// `KiB`, `human-readable`, `si`; a leading `'` is accepted). `None`: not
/// valid.
fn parse_block_size(v: &str) -> Option<Units> {
    let v = v.strip_prefix('\'').unwrap_or(v);
    match v {
        "human-readable" => return Some(Units::Human(1024)),
        "si" => return Some(Units::Human(1000)),
        _ => {}
    }
    let digits = v.len() - v.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (num, unit) = v.split_at(digits);
    let n: u64 = if num.is_empty() { 1 } else { num.parse().ok()? };
    let (letter, rest) = match unit.chars().next() {
        None => return (n > 0).then(|| Units::Blocks(n, String::new())),
        Some(c) => (c, &unit[c.len_utf8()..]),
    };
    let power = "KMGTPEZY".find(letter.to_ascii_uppercase())? as u32 + 1;
    let (base, suffix): (u64, String) = match rest {
        "" => (1024, letter.to_ascii_uppercase().to_string()),
        "iB" => (1024, format!("{}iB", letter.to_ascii_uppercase())),
        "B" => (
            1000,
            if letter.eq_ignore_ascii_case(&'k') {
                "kB".to_string()
            } else {
                format!("{}B", letter.to_ascii_uppercase())
            },
        ),
        _ => return None,
    };
    let size = base.checked_pow(power)?.checked_mul(n)?;
    // a number before the unit shows no suffix (`--block-size=1K`)
    let suffix = if num.is_empty() {
        suffix
    } else {
        String::new()
    };
    Some(Units::Blocks(size, suffix))
}

/// Seconds and nanoseconds since the epoch (0 when the backend keeps no
/// time).
fn epoch(t: Option<SystemTime>) -> (i64, u32) {
    match t {
        Some(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                if d.subsec_nanos() == 0 {
                    (-(d.as_secs() as i64), 0)
                } else {
                    (-(d.as_secs() as i64) - 1, 1_000_000_000 - d.subsec_nanos())
                }
            }
        },
        None => (0, 0),
    }
}

fn epoch_secs(t: Option<SystemTime>) -> i64 {
    epoch(t).0
}

/// GNU's six months (half of 365.2425 days), in seconds.
const SIX_MONTHS: i64 = 31_556_952 / 2;

/// The date column of `ls -l` in `zone`, as GNU `ls`: `Mon DD HH:MM` for
/// times within the past six months of `now`, `Mon DD  YYYY` otherwise
/// (also for a time in the future); `--full-time` prints
/// `YYYY-MM-DD HH:MM:SS.000000000 +ZZZZ`. A time outside the calendar's
/// range prints as its number of seconds, as GNU does.
pub fn format_time(secs: i64, now: i64, full: bool, zone: &Zone) -> String {
    let style = if full {
        TimeStyle::both("%Y-%m-%d %H:%M:%S.%N %z")
    } else {
        TimeStyle {
            old: OLD_FMT.into(),
            recent: RECENT_FMT.into(),
        }
    };
    format_time_style(secs, 0, now, &style, zone)
}

/// The date column for `--time-style`: the recent format when
/// `now - 6 months < secs <= now`, else the old one; `%N` is `nanos` as
/// nine digits.
fn format_time_style(secs: i64, nanos: u32, now: i64, style: &TimeStyle, zone: &Zone) -> String {
    let recent = secs <= now && now - secs < SIX_MONTHS;
    let fmt = if recent { &style.recent } else { &style.old };
    let fmt = if fmt.contains("%N") {
        fmt.replace("%N", &format!("{nanos:09}"))
    } else {
        fmt.clone()
    };
    strftime(&fmt, secs, zone).unwrap_or_else(|| secs.to_string())
}

/// One entry to print: the name as shown and its metadata.
struct Entry {
    name: String,
    stat: FileStat,
    /// A symlink's target, shown by `-l` as `name -> target`.
    target: Option<String>,
    /// The absolute path (for `-i`'s number).
    abs: String,
    /// The link count `-l` shows.
    nlink: u64,
    /// What a symlink points to (for `-lF`'s indicator after the target).
    target_stat: Option<FileStat>,
}

impl Entry {
    fn new(name: String, stat: FileStat, abs: String) -> Entry {
        let nlink = if stat.is_dir() { 2 } else { 1 };
        Entry {
            name,
            stat,
            target: None,
            abs,
            nlink,
            target_stat: None,
        }
    }
}

/// A stable inode-like number for a path (FNV-1a folded to 23 bits above
/// a base, so it looks like an ext4 inode).
fn inode_of(abs: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in abs.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    1_000_000 + (h % 8_000_000)
}

/// Reads what `-l` needs beyond the listing: symlink targets and the link
/// counts of directories (2 plus their subdirectories).
async fn read_long_info(ctx: &mut CommandCtx, entries: &mut [Entry]) {
    for e in entries.iter_mut() {
        match e.stat.file_type {
            FileType::Symlink => {
                e.target = ctx.vfs.readlink(&e.abs).await.ok();
                e.target_stat = ctx.vfs.stat(&e.abs).await.ok();
            }
            FileType::Directory => {
                if let Ok(list) = ctx.vfs.readdir(&e.abs).await {
                    e.nlink = 2 + list.iter().filter(|s| s.is_dir()).count() as u64;
                }
            }
            FileType::File => {}
        }
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
        SortBy::Version => v.sort_by(|a, b| version_cmp(&a.name, &b.name)),
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
    match (st.file_type, o.indicator) {
        (_, Indicator::None) => "",
        (FileType::Directory, _) => "/",
        (FileType::Symlink, Indicator::FileType | Indicator::Classify) => "@",
        (FileType::File, Indicator::Classify) if default_mode(st) & 0o111 != 0 => "*",
        _ => "",
    }
}

/// GNU's version order of two names (`ls -v`, `--sort=version`), as
/// coreutils' `filevercmp` defines it: `.` and `..` first, then hidden
/// names; a trailing suffix like `.tar.gz` is compared only when the rest
/// is equal; digit runs compare as numbers, other runs character by
/// character with letters before other characters and `~` before all.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if a == b {
        return Ordering::Equal;
    }
    for special in ["", ".", ".."] {
        match (a == special, b == special) {
            (true, _) => return Ordering::Less,
            (_, true) => return Ordering::Greater,
            _ => {}
        }
    }
    match (a.starts_with('.'), b.starts_with('.')) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (ap, bp) = (
        ab.len() - file_suffix_len(ab),
        bb.len() - file_suffix_len(bb),
    );
    let r = if ap == bp && ab[..ap] == bb[..bp] {
        deb_cmp(ab, bb)
    } else {
        deb_cmp(&ab[..ap], &bb[..bp])
    };
    r.then_with(|| ab.cmp(bb))
}

/// The length of a name's trailing suffix `(\.[A-Za-z~][A-Za-z0-9~]*)*`.
fn file_suffix_len(s: &[u8]) -> usize {
    let mut start = s.len();
    let mut i = s.len();
    // scan backwards for `.X...` runs
    loop {
        let mut j = i;
        while j > 0 && (s[j - 1].is_ascii_alphanumeric() || s[j - 1] == b'~') {
            j -= 1;
        }
        if j == 0 || s[j - 1] != b'.' || j == i {
            break;
        }
        let first = s[j];
        if !(first.is_ascii_alphabetic() || first == b'~') {
            break;
        }
        // a suffix may not be the whole name
        if j - 1 == 0 {
            break;
        }
        start = j - 1;
        i = j - 1;
    }
    s.len() - start
}

/// The Debian version comparison of two byte strings.
fn deb_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let order = |c: Option<&u8>| -> i32 {
        match c {
            None => 0,
            Some(&c) if c.is_ascii_digit() => 0,
            Some(&c) if c.is_ascii_alphabetic() => i32::from(c),
            Some(b'~') => -1,
            Some(&c) => i32::from(c) + 256,
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (x, y) = (order(a.get(i)), order(b.get(j)));
            if x != y {
                return x.cmp(&y);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first == Ordering::Equal {
                first = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first != Ordering::Equal {
            return first;
        }
    }
    Ordering::Equal
}

/// The size shown for an entry: directories without a size show 4096, as
/// on ext4; a symlink without one the length of its target.
fn eff_size(st: &FileStat) -> u64 {
    if st.is_dir() && st.size == 0 {
        4096
    } else {
        st.size
    }
}

fn entry_size(e: &Entry) -> u64 {
    match (&e.target, e.stat.size) {
        (Some(t), 0) => t.len() as u64,
        _ => eff_size(&e.stat),
    }
}

/// Blocks used, in KiB (4 KiB ext4 blocks).
fn blocks_k(st: &FileStat) -> u64 {
    if st.file_type == FileType::Symlink {
        return 0; // a short link's target lives in its inode
    }
    let size = eff_size(st);
    size.div_ceil(4096) * 4
}

fn blocks_str(st: &FileStat, o: &Opts) -> String {
    o.block_units.show(blocks_k(st) * 1024)
}

/// The width of a name as a terminal shows it.
/// Control characters count 0, as gnulib's `mbsnwidth` counts them.
fn width_of(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if c.is_control() {
                0
            } else {
                UnicodeWidthChar::width(c).unwrap_or(0)
            }
        })
        .sum()
}

/// Pads from column `from` to column `to` as GNU `ls` does: a tab when it
/// reaches a tab stop not beyond `to`, spaces otherwise.
fn indent(out: &mut String, mut from: usize, to: usize, tabsize: usize) {
    while from < to {
        if tabsize != 0 && to / tabsize > (from + 1) / tabsize {
            out.push('\t');
            from += tabsize - from % tabsize;
        } else {
            out.push(' ');
            from += 1;
        }
    }
}

/// The widths of the columns of the widest layout that fits `width`:
/// GNU's choice (each column as wide as its longest name plus two, the
/// last without the two; the line must stay under `width`).
fn column_widths(lens: &[usize], width: usize, across: bool) -> Vec<usize> {
    let n = lens.len();
    let max_cols = if width == 0 {
        n
    } else {
        (width / 3).max(1).min(n)
    };
    let mut best = vec![lens.iter().copied().max().unwrap_or(0)];
    for cols in (2..=max_cols).rev() {
        let rows = n.div_ceil(cols);
        let mut w = vec![0usize; cols];
        for (i, &len) in lens.iter().enumerate() {
            let c = if across { i % cols } else { i / rows };
            let real = len + if c == cols - 1 { 0 } else { 2 };
            if w[c] < real {
                w[c] = real;
            }
        }
        let line: usize = w.iter().sum();
        if width == 0 || line < width {
            best = w;
            break;
        }
    }
    best
}

/// The prefix of `-i` and `-s` before a name in the short formats.
fn short_prefix(e: &Entry, o: &Opts, iw: usize, bw: usize) -> String {
    let mut s = String::new();
    if o.inode {
        s.push_str(&format!("{:>iw$} ", inode_of(&e.abs)));
    }
    if o.blocks {
        s.push_str(&format!("{:>bw$} ", blocks_str(&e.stat, o)));
    }
    s
}

/// Formats a block of entries (one listing) into `out`. The column
/// widths also cover `also` (GNU sizes the block of file operands with the
/// directory operands too).
fn format_block(
    entries: &[Entry],
    also: &[Entry],
    o: &Opts,
    with_total: bool,
    now: i64,
    out: &mut String,
) {
    if (o.long() || o.blocks) && with_total {
        let total: u64 = entries.iter().map(|e| blocks_k(&e.stat)).sum();
        let t = o.block_units.show(total * 1024);
        out.push_str(&format!("total {t}\n"));
    }
    let iw = if o.inode {
        entries
            .iter()
            .chain(also)
            .map(|e| inode_of(&e.abs).to_string().len())
            .max()
            .unwrap_or(1)
    } else {
        0
    };
    let bw = if o.blocks {
        entries
            .iter()
            .chain(also)
            .map(|e| blocks_str(&e.stat, o).len())
            .max()
            .unwrap_or(1)
    } else {
        0
    };
    let quoted: Vec<(String, bool)> = entries
        .iter()
        .map(|e| quote_name(&e.name, o.quoting))
        .collect();
    // shell quoting in columns and -l: unquoted names get a space so the
    // names line up with the quoted ones
    let align = matches!(o.format, Format::Long | Format::Columns | Format::Across)
        && matches!(o.quoting, Quoting::Shell | Quoting::ShellEscape)
        && quoted.iter().any(|q| q.1);
    let names: Vec<String> = quoted
        .into_iter()
        .map(|(n, q)| if align && !q { format!(" {n}") } else { n })
        .collect();
    if !o.long() {
        let items: Vec<String> = entries
            .iter()
            .zip(&names)
            .map(|(e, name)| {
                format!(
                    "{}{}{}",
                    short_prefix(e, o, iw, bw),
                    name,
                    suffix(&e.stat, o)
                )
            })
            .collect();
        format_short(&items, o, out);
        return;
    }
    let (user, group) = if o.numeric {
        (o.uid.to_string(), o.uid.to_string())
    } else {
        (o.user.clone(), o.user.clone())
    };
    let size_str = |e: &Entry| o.size_units.show(entry_size(e));
    let lw = entries
        .iter()
        .chain(also)
        .map(|e| e.nlink.to_string().len())
        .max()
        .unwrap_or(1);
    let sw = entries
        .iter()
        .chain(also)
        .map(|e| size_str(e).len())
        .max()
        .unwrap_or(1);
    for (e, name) in entries.iter().zip(&names) {
        if o.inode {
            out.push_str(&format!("{:>iw$} ", inode_of(&e.abs)));
        }
        if o.blocks {
            out.push_str(&format!("{:>bw$} ", blocks_str(&e.stat, o)));
        }
        out.push_str(&mode_string(e.stat.file_type, default_mode(&e.stat)));
        out.push_str(&format!(" {:>lw$}", e.nlink));
        if o.owner {
            out.push_str(&format!(" {user}"));
        }
        if o.group {
            out.push_str(&format!(" {group}"));
        }
        out.push_str(&format!(" {:>sw$}", size_str(e)));
        out.push(' ');
        let (secs, nanos) = epoch(e.stat.modified);
        out.push_str(&format_time_style(secs, nanos, now, &o.time_style, &o.zone));
        out.push(' ');
        out.push_str(name);
        match &e.target {
            Some(t) => {
                out.push_str(" -> ");
                out.push_str(&quote_name(t, o.quoting).0);
                if let Some(ts) = &e.target_stat {
                    out.push_str(suffix(ts, o));
                }
            }
            None => out.push_str(suffix(&e.stat, o)),
        }
        out.push('\n');
    }
}

/// Lays out the short items (names with their `-i`/`-s` prefixes and
/// `-F` indicators) one per line, in columns (`-C`, `-x`) or separated by
/// commas (`-m`), as GNU `ls` fills them.
fn format_short(items: &[String], o: &Opts, out: &mut String) {
    match o.format {
        Format::Long | Format::OnePerLine => {
            for it in items {
                out.push_str(it);
                out.push('\n');
            }
        }
        Format::Commas => {
            let mut pos = 0usize;
            for (i, it) in items.iter().enumerate() {
                let len = width_of(it);
                if i != 0 {
                    out.push(',');
                    if o.width == 0 || pos + len + 2 < o.width {
                        out.push(' ');
                        pos += 2;
                    } else {
                        out.push('\n');
                        pos = 0;
                    }
                }
                out.push_str(it);
                pos += len;
            }
            if !items.is_empty() {
                out.push('\n');
            }
        }
        Format::Columns | Format::Across => {
            if items.is_empty() {
                return;
            }
            let lens: Vec<usize> = items.iter().map(|s| width_of(s)).collect();
            let across = o.format == Format::Across;
            let widths = column_widths(&lens, o.width, across);
            let cols = widths.len();
            let n = items.len();
            let rows = n.div_ceil(cols);
            for r in 0..rows {
                let mut pos = 0usize;
                let mut c = 0usize;
                loop {
                    let i = if across { r * cols + c } else { c * rows + r };
                    out.push_str(&items[i]);
                    let next = if across { i + 1 } else { i + rows };
                    if next >= n || (across && c + 1 == cols) {
                        break;
                    }
                    indent(out, pos + lens[i], pos + widths[c], o.tabsize);
                    pos += widths[c];
                    c += 1;
                }
                out.push('\n');
            }
        }
    }
}

fn shown(name: &str, o: &Opts) -> bool {
    (o.all || o.almost_all || !name.starts_with('.'))
        && !o.ignore.iter().any(|g| {
            // fnmatch with FNM_PERIOD: a leading dot is matched only by a dot
            g.is_match(name) && (!name.starts_with('.') || g.glob().glob().starts_with('.'))
        })
}

/// Lists the directory `display` (`abs`), recursing with `-R`; each
/// directory's block is written as soon as it is read.
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
        let subdirs = list.iter().filter(|s| s.is_dir()).count() as u64;
        let mut entries: Vec<Entry> = list
            .into_iter()
            .filter(|s| shown(&s.name, o))
            .map(|s| {
                let child = crate::util::child_path(&abs, &s.name);
                Entry::new(s.name.clone(), s, child)
            })
            .collect();
        if o.dereference {
            for e in &mut entries {
                if e.stat.file_type == FileType::Symlink
                    && let Ok(st) = ctx.vfs.stat(&e.abs).await
                {
                    e.stat = st;
                }
            }
        }
        if o.long() {
            read_long_info(ctx, &mut entries).await;
        }
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
            let mut d = Entry::new(".".into(), dot, abs.clone());
            d.nlink = 2 + subdirs;
            let mut dd = Entry::new("..".into(), dotdot, parent.clone());
            if o.long() {
                read_long_info(ctx, std::slice::from_mut(&mut dd)).await;
            }
            d.abs = abs.clone();
            entries.extend([d, dd].into_iter().filter(|e| shown(&e.name, o)));
        }
        sort_entries(&mut entries, o);
        let mut out = String::new();
        if !*first {
            out.push('\n');
        }
        *first = false;
        if header {
            out.push_str(&quote_name(&display, o.quoting).0);
            out.push_str(":\n");
        }
        format_block(&entries, &[], o, true, now, &mut out);
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
                        e.abs.clone(),
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
        let sort = if p.has("unsorted") || p.has("unsorted-all") {
            SortBy::None
        } else {
            match p.value("sort") {
                Some(v) => {
                    let valid = [
                        ("none", SortBy::None),
                        ("time", SortBy::Time),
                        ("size", SortBy::Size),
                        ("extension", SortBy::Ext),
                        ("version", SortBy::Version),
                        ("width", SortBy::Name),
                    ];
                    match crate::util::argmatch(v, "--sort", &valid) {
                        Ok(s) => s,
                        Err(e) => return ctx.finish(Err(e.with_status(1))).await,
                    }
                }
                None => match p.last_of(&["time", "size", "extension", "version-sort"]) {
                    Some("time") => SortBy::Time,
                    Some("version-sort") => SortBy::Version,
                    Some("size") => SortBy::Size,
                    Some("extension") => SortBy::Ext,
                    _ => SortBy::Name,
                },
            }
        };
        if let Some(v) = p.value("color") {
            let valid = [
                "always", "yes", "force", "never", "no", "none", "auto", "tty", "if-tty",
            ];
            let hits = valid.iter().filter(|c| c.starts_with(v)).count();
            if !valid.contains(&v) && hits != 1 {
                let why = if hits > 1 { "ambiguous" } else { "invalid" };
                let msg = format!(
                    "{why} argument {} for {}\nValid arguments are:\n  - \u{2018}always\u{2019}, \u{2018}yes\u{2019}, \u{2018}force\u{2019}\n  - \u{2018}never\u{2019}, \u{2018}no\u{2019}, \u{2018}none\u{2019}\n  - \u{2018}auto\u{2019}, \u{2018}tty\u{2019}, \u{2018}if-tty\u{2019}",
                    crate::util::gnu_quote(v),
                    crate::util::gnu_quote("--color")
                );
                return ctx
                    .finish(Err(mirage_types::command::CmdError::usage(msg)))
                    .await;
            }
        }
        // the last of -l (and -n -g -o --full-time), -1, -C, -x, -m wins
        let format = match p.last_of(&[
            "long",
            "numeric",
            "g-long",
            "o-long",
            "full-time",
            "one",
            "columns",
            "across",
            "commas",
        ]) {
            Some("one") => Format::OnePerLine,
            Some("columns") => Format::Columns,
            Some("across") => Format::Across,
            Some("commas") => Format::Commas,
            Some(_) => Format::Long,
            None => Format::OnePerLine,
        };
        let style_src = p
            .value("time-style")
            .map(str::to_string)
            .or_else(|| ctx.var("TIME_STYLE").map(str::to_string));
        let time_style = if p.has("full-time")
            && p.last_of(&["full-time", "time-style"]) == Some("full-time")
        {
            TimeStyle::both("%Y-%m-%d %H:%M:%S.%N %z")
        } else {
            match style_src.as_deref() {
                None => TimeStyle {
                    old: OLD_FMT.into(),
                    recent: RECENT_FMT.into(),
                },
                Some(v) => match parse_time_style(v) {
                    Some(s) => s,
                    None if format != Format::Long => TimeStyle::both(""),
                    None => {
                        let msg = format!(
                            "invalid argument {} for {}\nValid arguments are:\n  - [posix-]full-iso\n  - [posix-]long-iso\n  - [posix-]iso\n  - [posix-]locale\n  - +FORMAT (e.g., +%H:%M) for a 'date'-style format",
                            crate::util::gnu_quote(v),
                            crate::util::gnu_quote("time style")
                        );
                        return ctx
                            .finish(Err(
                                mirage_types::command::CmdError::usage(msg).with_status(2)
                            ))
                            .await;
                    }
                },
            }
        };
        let width = match p.value("width") {
            Some(v) => match v.parse::<usize>() {
                Ok(w) => w,
                Err(_) => {
                    ctx.error(format!("invalid line width: {}", crate::util::gnu_quote(v)))
                        .await;
                    return 2;
                }
            },
            None => match ctx.var("COLUMNS").map(str::to_string) {
                Some(c) if !c.is_empty() => match c.parse::<usize>() {
                    Ok(w) => w,
                    Err(_) => {
                        ctx.error(format!(
                            "ignoring invalid width in environment variable COLUMNS: {}",
                            crate::util::gnu_quote(&c)
                        ))
                        .await;
                        80
                    }
                },
                _ => 80,
            },
        };
        let tabsize = match p.value("tabsize") {
            Some(v) => match v.parse::<usize>() {
                Ok(t) => t,
                Err(_) => {
                    ctx.error(format!("invalid tab size: {}", crate::util::gnu_quote(v)))
                        .await;
                    return 2;
                }
            },
            // no line limit: no tabs either
            None if width == 0 => 0,
            None => 8,
        };
        let user = ctx
            .var("USER")
            .or_else(|| ctx.var("LOGNAME"))
            .filter(|u| !u.is_empty())
            .unwrap_or("root")
            .to_string();
        let uid = if user == "root" { 0 } else { 1000 };
        // -a and -A: the last one wins (-f implies -a)
        let (all, almost_all) = match p.last_of(&["all", "almost-all", "unsorted-all"]) {
            Some("almost-all") => (false, true),
            Some(_) => (true, false),
            None => (false, false),
        };
        let mut indicator = Indicator::None;
        for (k, v) in &p.opts {
            indicator = match (*k, v.as_deref()) {
                ("classify", _) => Indicator::Classify,
                ("classify-when", None | Some("always" | "yes" | "force")) => Indicator::Classify,
                ("classify-when", Some(_)) => Indicator::None,
                ("slash", _) => Indicator::Slash,
                ("file-type", _) => Indicator::FileType,
                ("indicator-style", Some(v)) => {
                    let valid = [
                        ("none", Indicator::None),
                        ("slash", Indicator::Slash),
                        ("file-type", Indicator::FileType),
                        ("classify", Indicator::Classify),
                    ];
                    match crate::util::argmatch(v, "--indicator-style", &valid) {
                        Ok(i) => i,
                        Err(e) => return ctx.finish(Err(e)).await,
                    }
                }
                _ => indicator,
            };
        }
        let mut quoting = match ctx.var("QUOTING_STYLE") {
            Some(v) => parse_quoting(v).unwrap_or(Quoting::Literal),
            None => Quoting::Literal,
        };
        for (k, v) in &p.opts {
            quoting = match (*k, v.as_deref()) {
                ("literal", _) => Quoting::Literal,
                ("escape", _) => Quoting::Escape,
                ("quote-name", _) => Quoting::C,
                ("quoting-style", Some(v)) => {
                    let valid = [
                        ("literal", Quoting::Literal),
                        ("shell", Quoting::Shell),
                        ("shell-always", Quoting::ShellAlways),
                        ("shell-escape", Quoting::ShellEscape),
                        ("shell-escape-always", Quoting::ShellEscapeAlways),
                        ("c", Quoting::C),
                        ("c-maybe", Quoting::CMaybe),
                        ("escape", Quoting::Escape),
                        ("locale", Quoting::Locale),
                        ("clocale", Quoting::Locale),
                    ];
                    match crate::util::argmatch(v, "--quoting-style", &valid) {
                        Ok(q) => q,
                        Err(e) => return ctx.finish(Err(e)).await,
                    }
                }
                _ => quoting,
            };
        }
        // sizes: the last of -h, --si, --block-size; then LS_BLOCK_SIZE,
        // BLOCK_SIZE; -k sets 1K blocks for -s and total only
        let env_bs = ctx
            .var("LS_BLOCK_SIZE")
            .or_else(|| ctx.var("BLOCK_SIZE"))
            .and_then(parse_block_size);
        let (size_units, block_units) = match p.last_of(&["human", "si", "block-size"]) {
            Some("human") => (Units::Human(1024), Units::Human(1024)),
            Some("si") => (Units::Human(1000), Units::Human(1000)),
            Some(_) => {
                let v = p.value("block-size").unwrap_or("");
                match parse_block_size(v) {
                    Some(u) => (u.clone(), u),
                    None => {
                        ctx.error(format!(
                            "invalid --block-size argument {}",
                            crate::util::quoteaf(v)
                        ))
                        .await;
                        return 2;
                    }
                }
            }
            None => match env_bs {
                Some(u) => (u.clone(), u),
                None => (
                    Units::Blocks(1, String::new()),
                    Units::Blocks(1024, String::new()),
                ),
            },
        };
        let block_units = if p.has("kibibytes") && !matches!(block_units, Units::Human(_)) {
            Units::Blocks(1024, String::new())
        } else {
            block_units
        };
        let mut ignore = Vec::new();
        let hide: &[&str] = if all || almost_all { &[] } else { &["hide"] };
        for (k, v) in &p.opts {
            if let Some(pat) = v
                && (*k == "ignore" || hide.contains(k))
                && let Ok(g) = globset::GlobBuilder::new(pat)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
            {
                ignore.push(g.compile_matcher());
            }
        }
        let o = Opts {
            all,
            almost_all,
            format,
            numeric: p.has("numeric"),
            owner: !p.has("g-long"),
            group: !(p.has("o-long") || p.has("no-group")),
            size_units,
            block_units,
            blocks: p.has("blocks"),
            inode: p.has("inode"),
            recursive: p.has("recursive"),
            directory: p.has("directory"),
            reverse: p.has("reverse"),
            sort,
            indicator,
            ignore,
            group_dirs: p.has("group-dirs"),
            dereference: p.has("dereference"),
            quoting,
            time_style,
            width,
            tabsize,
            user,
            uid,
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
            let st = if (o.long() || o.directory || o.indicator == Indicator::Classify)
                && !o.dereference
            {
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
                    let e = Entry::new(op.clone(), st, abs);
                    if e.stat.is_dir() && !o.directory {
                        dirs.push(e);
                    } else {
                        files.push(e);
                    }
                }
                Err(e) => {
                    ctx.error(format!("cannot access '{op}': {}", e.message()))
                        .await;
                    status = 2;
                }
            }
        }
        if o.long() {
            read_long_info(ctx, &mut files).await;
            if !files.is_empty() {
                read_long_info(ctx, &mut dirs).await;
            }
        }
        sort_entries(&mut files, &o);
        sort_entries(&mut dirs, &o);
        let mut first = true;
        if !files.is_empty() {
            let mut out = String::new();
            format_block(&files, &dirs, &o, false, now, &mut out);
            if let Err(e) = ctx.stdout.write_str(&out).await
                && e.kind == ErrorKind::BrokenPipe
            {
                return status;
            }
            first = false;
        }
        let header = operands.len() > 1 || o.recursive;
        for d in &dirs {
            match list_dir(ctx, &d.name, &d.abs, &o, header, &mut first, now).await {
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
    #[test]
    fn columns_fill_as_gnu() {
        let t = MemVfs::with(&[
            ("/c/alpha", ""),
            ("/c/beta", ""),
            ("/c/delta.txt", ""),
            ("/c/epsilon-long-name.md", ""),
            ("/c/z", ""),
        ]);
        // down the columns, padded with a tab where it reaches a tab stop
        assert_eq!(
            ls(&t, &["-C", "-w", "30"], "/c").0,
            "alpha\nbeta\ndelta.txt\nepsilon-long-name.md\nz\n"
        );
        assert_eq!(
            ls(&t, &["-C", "-w", "40"], "/c").0,
            "alpha  delta.txt\t     z\nbeta   epsilon-long-name.md\n"
        );
        assert_eq!(
            ls(&t, &["-x", "-w", "40"], "/c").0,
            "alpha\t\t      beta  delta.txt\nepsilon-long-name.md  z\n"
        );
        assert_eq!(
            ls(&t, &["-m", "-w", "20"], "/c").0,
            "alpha, beta,\ndelta.txt,\nepsilon-long-name.md,\nz\n"
        );
        // the last of -1/-C/-l wins
        assert_eq!(ls(&t, &["-C", "-1"], "/c").0.lines().count(), 5);
    }

    #[test]
    fn time_styles() {
        let utc = Zone::from_tz(Some("UTC"));
        let iso = parse_time_style("iso").unwrap();
        assert_eq!(
            format_time_style(0, 0, 1_700_000_000, &iso, &utc),
            "1970-01-01 "
        );
        assert_eq!(
            format_time_style(1_700_000_000, 5, 1_700_000_100, &iso, &utc),
            "11-14 22:13"
        );
        let full = parse_time_style("posix-full-iso").unwrap();
        assert_eq!(
            format_time_style(0, 5, 1, &full, &utc),
            "1970-01-01 00:00:00.000000005 +0000"
        );
        let two = parse_time_style("+%Y\n%H:%M").unwrap();
        assert_eq!(format_time_style(0, 0, 1_700_000_000, &two, &utc), "1970");
        assert!(parse_time_style("bogus").is_none());
    }
    #[test]
    fn version_order() {
        let mut v = vec![
            "x-1.0.1",
            "a10",
            "v1.2",
            "a1.10.txt",
            "img12.png",
            "a2",
            "x-1.0a",
            "a1.txt",
            "..",
            "v1.2~rc1",
            "a1.9.txt",
            ".h",
            "x-1.0",
            "b.tar.gz",
            ".",
        ];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(
            v,
            [
                ".",
                "..",
                ".h",
                "a1.txt",
                "a1.9.txt",
                "a1.10.txt",
                "a2",
                "a10",
                "b.tar.gz",
                "img12.png",
                "v1.2~rc1",
                "v1.2",
                "x-1.0",
                "x-1.0a",
                "x-1.0.1"
            ]
        );
    }

    #[test]
    fn ignore_hide_and_indicators() {
        let t = tree();
        assert_eq!(
            ls(&t, &["-I", "*.txt", "-I", "sub"], "/m").0,
            "C.md\na.TXT\n"
        );
        // --hide is dropped by -A; -I is not, and `*` skips leading dots
        assert_eq!(
            ls(&t, &["-A", "--hide=*.txt", "-I", "[a-zC]*"], "/m").0,
            ".hidden\n10.txt\n9.txt\n"
        );
        assert_eq!(
            ls(&t, &["-a", "-I", ".*", "sub"], "/m").0,
            "deep\ninner.txt\n"
        );
        assert_eq!(ls(&t, &["-aA", "sub"], "/m").0, "deep\ninner.txt\n");
        assert_eq!(
            ls(&t, &["--file-type", "sub"], "/m").0,
            "deep/\ninner.txt\n"
        );
        assert_eq!(
            ls(&t, &["--indicator-style=none", "-F", "-d", "sub"], "/m").0,
            "sub/\n"
        );
    }
    #[test]
    fn block_sizes() {
        let k = parse_block_size("K").unwrap();
        assert_eq!(k.show(1500), "2K");
        assert_eq!(k.show(0), "0K");
        assert_eq!(parse_block_size("KB").unwrap().show(250_000), "250kB");
        assert_eq!(parse_block_size("1024").unwrap().show(1500), "2");
        assert_eq!(parse_block_size("1K").unwrap().show(1500), "2");
        assert_eq!(parse_block_size("si").unwrap().show(4096), "4.1k");
        assert!(parse_block_size("x").is_none());
        assert!(parse_block_size("0").is_none());
    }
}
