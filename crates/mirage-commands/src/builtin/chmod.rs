//! `chmod`: change file mode bits, as GNU coreutils 9.1 `chmod`.
//!
//! Modes: octal (`755`, `0644`, `4755`; up to `07777`) and symbolic
//! (`[ugoa]*[-+=]([rwxXst]*|[ugo]|OCTAL)…`, clauses joined by `,`: `u+x`,
//! `go-w`, `a=r`, `u=rwx,g=rx,o=`, `g=u`, `+X`). A clause without
//! `u`/`g`/`o`/`a` leaves the bits set in the umask alone; Mirage's umask
//! is always `022` (the shell's `umask` builtin cannot change it). A mode
//! may also come as an option-like operand (`chmod -w f`, `chmod -R -x d`),
//! and then, as GNU does, a result that the umask kept from matching the
//! mode exactly is reported (`chmod: f: new permissions are r--rw-rw-, not
//! r--r--r--`, status 1). On a directory, the set-user-ID and set-group-ID
//! bits stay unless the mode names them (or is an octal mode of 5 digits).
//!
//! Options: `-R` (recursive: symbolic links met inside a tree are left
//! alone, `neither symbolic link 'd/l' nor referent has been changed` with
//! `-v`; a link named on the command line is followed), `-v`, `-c`, `-f`
//! (no error messages for files that cannot be changed; the status is
//! still 1), `--reference=RFILE`, `--preserve-root`, `--no-preserve-root`.
//! Errors in GNU's words: `cannot access 'x': No such file or directory`,
//! `cannot operate on dangling symlink 'l'`, `changing permissions of 'x':
//! Read-only file system` (or `Operation not supported` on a mount that
//! keeps no mode bits), `invalid mode: ‘q’`, `missing operand`.
//!
//! Each change goes through the router's `chmod`, so a `read` mount
//! refuses it like any write.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands, help_text, version_text};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ErrorKind, FileStat, FileType};

use crate::builtin::ls::mode_string;
use crate::util::{gnu_quote, quoteaf};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("changes", Some('c'), Some("changes")),
    OptSpec::flag("silent", Some('f'), Some("silent")),
    OptSpec::flag("silent", None, Some("quiet")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::flag("no-preserve-root", None, Some("no-preserve-root")),
    OptSpec::flag("preserve-root", None, Some("preserve-root")),
    OptSpec::value("reference", None, Some("reference")),
    OptSpec::flag("recursive", Some('R'), Some("recursive")),
];

/// The spec of `chmod` (the mode characters `-rwxXstugoa,+=0…7` that GNU
/// also takes as options are handled by the command itself).
pub static SPEC: CommandSpec =
    CommandSpec::new("chmod", OPTS, PathOperands::SkipFirstUnless(&["reference"]));

crate::register_command!("chmod", SPEC, run, true);

/// The umask symbolic modes without a `who` honour (Mirage's is fixed).
const UMASK: u32 = 0o022;

const SUID: u32 = 0o4000;
const SGID: u32 = 0o2000;
const STICKY: u32 = 0o1000;
const ALL_BITS: u32 = 0o7777;
const READ: u32 = 0o444;
const WRITE: u32 = 0o222;
const EXEC: u32 = 0o111;

/// What a clause's operator does with its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Set,
}

/// Where an action's bits come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Perms {
    /// Fixed bits (`rwst`, or an octal value); with `X`, also the execute
    /// bits when the entry is a directory or already has one.
    Fixed { bits: u32, cond_exec: bool },
    /// A copy of one class's current `rwx` (`g=u`): the class's bits
    /// shifted to the low three, spread to all three classes.
    Copy { shift: u32 },
}

/// One `op perms` of a clause, with the classes it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Action {
    /// The bits of the named classes (`u` is `0o4700`); 0 when none was
    /// named (then the umask limits the change).
    who: u32,
    op: Op,
    perms: Perms,
    /// The bits the mode names explicitly (for the directory rule on the
    /// set-ID bits); `None`: computed from `who` and the bits.
    named: Option<u32>,
}

/// A parsed mode: the actions, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChange {
    actions: Vec<Action>,
}

impl ModeChange {
    /// Parses an octal or symbolic mode as GNU `chmod` accepts it; `None`
    /// for an invalid one.
    pub fn parse(text: &str) -> Option<ModeChange> {
        let b = text.as_bytes();
        if b.first().is_some_and(u8::is_ascii_digit) {
            let bits = octal(b)?;
            // Fewer than 5 digits: a directory keeps set-ID bits the mode
            // leaves clear.
            let named = if b.len() < 5 {
                (bits & (SUID | SGID)) | STICKY | 0o777
            } else {
                ALL_BITS
            };
            return Some(ModeChange {
                actions: vec![Action {
                    who: ALL_BITS,
                    op: Op::Set,
                    perms: Perms::Fixed {
                        bits,
                        cond_exec: false,
                    },
                    named: Some(named),
                }],
            });
        }
        let mut actions = Vec::new();
        for clause in text.split(',') {
            parse_clause(clause, &mut actions)?;
        }
        Some(ModeChange { actions })
    }

    /// The mode of `RFILE` for `--reference`: every bit set to it.
    pub fn reference(mode: u32) -> ModeChange {
        ModeChange {
            actions: vec![Action {
                who: ALL_BITS,
                op: Op::Set,
                perms: Perms::Fixed {
                    bits: mode & ALL_BITS,
                    cond_exec: false,
                },
                named: Some(ALL_BITS),
            }],
        }
    }

    /// The new permission bits of an entry with bits `old` (`dir`: it is a
    /// directory) under `umask`.
    pub fn apply(&self, old: u32, dir: bool, umask: u32) -> u32 {
        let mut mode = old & ALL_BITS;
        for a in &self.actions {
            let mut bits = match a.perms {
                Perms::Fixed { bits, cond_exec } => {
                    if cond_exec && (dir || mode & EXEC != 0) {
                        bits | EXEC
                    } else {
                        bits
                    }
                }
                Perms::Copy { shift } => {
                    let class = (mode >> shift) & 0o7;
                    class * 0o111
                }
            };
            let named = a.named.unwrap_or(match a.perms {
                Perms::Fixed { bits, .. } if a.who != 0 => a.who & bits,
                Perms::Fixed { bits, .. } => bits,
                Perms::Copy { .. } => 0,
            });
            // A directory's set-ID bits change only when named.
            let kept = if dir { (SUID | SGID) & !named } else { 0 };
            let limit = if a.who != 0 { a.who } else { !umask };
            bits &= limit & !kept;
            mode = match a.op {
                Op::Add => mode | bits,
                Op::Remove => mode & !bits,
                Op::Set => {
                    let keep = if a.who != 0 { !a.who } else { 0 } | kept;
                    (mode & keep) | bits
                }
            };
        }
        mode & ALL_BITS
    }
}

/// The value of an all-octal-digit string up to `07777`.
fn octal(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v * 8 + u32::from(c - b'0');
        if v > ALL_BITS {
            return None;
        }
    }
    Some(v)
}

/// Parses one clause (`go-w`, `u=rwx+s`, `=755`) into `out`.
fn parse_clause(clause: &str, out: &mut Vec<Action>) -> Option<()> {
    let b = clause.as_bytes();
    let mut i = 0;
    let mut who = 0;
    while let Some(&c) = b.get(i) {
        who |= match c {
            b'u' => SUID | 0o700,
            b'g' => SGID | 0o070,
            b'o' => STICKY | 0o007,
            b'a' => ALL_BITS,
            _ => break,
        };
        i += 1;
    }
    // at least one action
    if !matches!(b.get(i), Some(b'+' | b'-' | b'=')) {
        return None;
    }
    while let Some(&c) = b.get(i) {
        let op = match c {
            b'+' => Op::Add,
            b'-' => Op::Remove,
            b'=' => Op::Set,
            _ => return None,
        };
        i += 1;
        let rest = &b[i..];
        let action = match rest.first() {
            Some(b'0'..=b'7') => {
                // GNU's extension: an octal value after the operator, only
                // without classes and as the clause's last action.
                if who != 0 {
                    return None;
                }
                let bits = octal(rest)?;
                i = b.len();
                Action {
                    who: ALL_BITS,
                    op,
                    perms: Perms::Fixed {
                        bits,
                        cond_exec: false,
                    },
                    named: Some(ALL_BITS),
                }
            }
            Some(&c @ (b'u' | b'g' | b'o')) => {
                i += 1;
                let shift = match c {
                    b'u' => 6,
                    b'g' => 3,
                    _ => 0,
                };
                Action {
                    who,
                    op,
                    perms: Perms::Copy { shift },
                    named: None,
                }
            }
            _ => {
                let mut bits = 0;
                let mut cond_exec = false;
                while let Some(&c) = b.get(i) {
                    match c {
                        b'r' => bits |= READ,
                        b'w' => bits |= WRITE,
                        b'x' => bits |= EXEC,
                        b'X' => cond_exec = true,
                        b's' => bits |= SUID | SGID,
                        b't' => bits |= STICKY,
                        _ => break,
                    }
                    i += 1;
                }
                Action {
                    who,
                    op,
                    perms: Perms::Fixed { bits, cond_exec },
                    named: None,
                }
            }
        };
        out.push(action);
    }
    Some(())
}

/// The nine permission characters of `mode` (`rwxr-xr-x`, with `s`/`t`).
fn perm_chars(mode: u32) -> String {
    mode_string(FileType::File, mode)[1..].to_string()
}

/// A file name as GNU's `quotef()` shows it: bare when the shell needs no
/// quotes for it, else as [`quoteaf`].
fn quotef(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_./+,:@%^=-".contains(&c));
    if plain {
        name.to_string()
    } else {
        quoteaf(name)
    }
}

/// How much `-v`/`-c` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verbosity {
    Off,
    Changes,
    All,
}

/// The parsed command line.
#[derive(Debug, Default)]
struct Args {
    /// A mode given in option form (`-w`, `-rwx`), clauses joined by `,`.
    mode_opt: Option<String>,
    reference: Option<String>,
    recursive: bool,
    silent: bool,
    verbose: bool,
    changes: bool,
    preserve_root: bool,
    help: bool,
    version: bool,
    operands: Vec<String>,
}

/// The long options: (name, takes a value).
const LONGS: &[(&str, bool)] = &[
    ("changes", false),
    ("silent", false),
    ("quiet", false),
    ("verbose", false),
    ("no-preserve-root", false),
    ("preserve-root", false),
    ("reference", true),
    ("recursive", false),
    ("help", false),
    ("version", false),
];

/// Parses `args` as GNU `chmod`'s getopt does, with permutation: `-R`,
/// `-c`, `-f`, `-v` are flags; any of `rwxXstugoa,+=0-7` in a short
/// cluster makes the whole argument a mode (`-rwx`, and `-vx` is the mode
/// `-vx`). Errors: the usage message.
fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_operands || arg == "-" || !arg.starts_with('-') {
            a.operands.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let found = match LONGS.iter().find(|(n, _)| *n == name) {
                Some(o) => *o,
                None => {
                    let cands: Vec<&(&str, bool)> =
                        LONGS.iter().filter(|(n, _)| n.starts_with(name)).collect();
                    match cands.as_slice() {
                        [one] => **one,
                        [] => return Err(format!("unrecognized option '--{name}'")),
                        many => {
                            let list: Vec<String> =
                                many.iter().map(|(n, _)| format!("'--{n}'")).collect();
                            return Err(format!(
                                "option '--{name}' is ambiguous; possibilities: {}",
                                list.join(" ")
                            ));
                        }
                    }
                }
            };
            let (lname, takes) = found;
            let value = match (takes, attached) {
                (false, Some(_)) => {
                    return Err(format!("option '--{lname}' doesn't allow an argument"));
                }
                (false, None) => None,
                (true, Some(v)) => Some(v),
                (true, None) if i < args.len() => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                (true, None) => return Err(format!("option '--{lname}' requires an argument")),
            };
            match lname {
                "changes" => a.changes = true,
                "silent" | "quiet" => a.silent = true,
                "verbose" => a.verbose = true,
                "no-preserve-root" => a.preserve_root = false,
                "preserve-root" => a.preserve_root = true,
                "reference" => a.reference = value,
                "recursive" => a.recursive = true,
                "help" => {
                    a.help = true;
                    return Ok(a);
                }
                _ => {
                    a.version = true;
                    return Ok(a);
                }
            }
            continue;
        }
        for c in arg[1..].chars() {
            match c {
                'R' => a.recursive = true,
                'c' => a.changes = true,
                'f' => a.silent = true,
                'v' => a.verbose = true,
                'r'
                | 'w'
                | 'x'
                | 'X'
                | 's'
                | 't'
                | 'u'
                | 'g'
                | 'o'
                | 'a'
                | ','
                | '+'
                | '='
                | '0'..='7' => {
                    let m = a.mode_opt.get_or_insert_with(String::new);
                    if !m.is_empty() {
                        m.push(',');
                    }
                    m.push_str(arg);
                    break;
                }
                _ => return Err(format!("invalid option -- '{c}'")),
            }
        }
    }
    Ok(a)
}

/// One run's settings and state.
struct Chmod {
    change: ModeChange,
    recursive: bool,
    silent: bool,
    verbosity: Verbosity,
    /// The mode came in option form: report umask surprises.
    diagnose: bool,
    status: i32,
}

impl Chmod {
    async fn say(&mut self, ctx: &mut CommandCtx, line: String) {
        if let Err(e) = ctx.stdout.write_str(&line).await
            && e.kind == ErrorKind::BrokenPipe
        {
            self.verbosity = Verbosity::Off;
        }
    }

    async fn fail(&mut self, ctx: &mut CommandCtx, msg: String) {
        if !self.silent {
            ctx.error(msg).await;
        }
        self.status = 1;
    }

    /// A command-line operand: followed if it is a symlink.
    async fn operand(&mut self, ctx: &mut CommandCtx, display: &str) {
        let abs = ctx.resolve(display);
        let st = match ctx.vfs.stat(&abs).await {
            Ok(st) => st,
            Err(e) => {
                let dangling = e.kind == ErrorKind::NotFound
                    && ctx
                        .vfs
                        .lstat(&abs)
                        .await
                        .is_ok_and(|l| l.file_type == FileType::Symlink);
                let msg = if dangling {
                    format!("cannot operate on dangling symlink {}", quoteaf(display))
                } else {
                    format!("cannot access {}: {}", quoteaf(display), e.message())
                };
                self.fail(ctx, msg).await;
                if self.verbosity == Verbosity::All {
                    self.say(ctx, format!("{} could not be accessed\n", quoteaf(display)))
                        .await;
                }
                return;
            }
        };
        self.entry(ctx, display, &abs, &st).await;
    }

    /// Changes one entry (`st` is what stat or the listing said of it),
    /// then, with `-R`, the tree below a directory, depth first in name
    /// order.
    async fn entry(&mut self, ctx: &mut CommandCtx, display: &str, abs: &str, st: &FileStat) {
        // (display, abs, stat)
        let mut stack = vec![(display.to_string(), abs.to_string(), st.clone())];
        while let Some((d, a, st)) = stack.pop() {
            if st.file_type == FileType::Symlink {
                if self.verbosity == Verbosity::All {
                    self.say(
                        ctx,
                        format!(
                            "neither symbolic link {} nor referent has been changed\n",
                            quoteaf(&d)
                        ),
                    )
                    .await;
                }
                continue;
            }
            self.change_one(ctx, &d, &a, &st).await;
            if !(self.recursive && st.is_dir()) {
                continue;
            }
            match ctx.vfs.readdir(&a).await {
                Ok(entries) => {
                    for e in entries.into_iter().rev() {
                        let cd = crate::util::child_path(&d, &e.name);
                        let ca = crate::util::child_path(&a, &e.name);
                        stack.push((cd, ca, e));
                    }
                }
                Err(e) => {
                    let msg = format!("cannot read directory {}: {}", quoteaf(&d), e.message());
                    self.fail(ctx, msg).await;
                }
            }
        }
    }

    async fn change_one(&mut self, ctx: &mut CommandCtx, d: &str, a: &str, st: &FileStat) {
        let dir = st.is_dir();
        let old = st.mode.unwrap_or(if dir { 0o755 } else { 0o644 }) & ALL_BITS;
        let new = self.change.apply(old, dir, UMASK);
        let done = match ctx.vfs.chmod(a, new).await {
            Ok(()) => {
                ctx.io.wrote(a);
                true
            }
            Err(e) => {
                let msg = format!("changing permissions of {}: {}", quoteaf(d), e.message());
                self.fail(ctx, msg).await;
                false
            }
        };
        let changed = done && old != new;
        if self.verbosity == Verbosity::All || (changed && self.verbosity == Verbosity::Changes) {
            let q = quoteaf(d);
            let line = if !done {
                format!(
                    "failed to change mode of {q} from {old:04o} ({}) to {new:04o} ({})\n",
                    perm_chars(old),
                    perm_chars(new)
                )
            } else if changed {
                format!(
                    "mode of {q} changed from {old:04o} ({}) to {new:04o} ({})\n",
                    perm_chars(old),
                    perm_chars(new)
                )
            } else {
                format!("mode of {q} retained as {new:04o} ({})\n", perm_chars(new))
            };
            self.say(ctx, line).await;
        }
        if done && self.diagnose {
            let naive = self.change.apply(old, dir, 0);
            if new & !naive != 0 {
                let msg = format!(
                    "{}: new permissions are {}, not {}",
                    quotef(d),
                    perm_chars(new),
                    perm_chars(naive)
                );
                ctx.error(msg).await;
                self.status = 1;
            }
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let mut a = parse_args(&ctx.args).map_err(CmdError::usage)?;
    if a.help {
        let _ = ctx.stdout.write_str(&help_text(&SPEC)).await;
        return Ok(0);
    }
    if a.version {
        let _ = ctx.stdout.write_str(&version_text(&SPEC)).await;
        return Ok(0);
    }
    let diagnose = a.mode_opt.is_some();
    let mut operands = std::mem::take(&mut a.operands).into_iter();
    let mut mode_from_operand = false;
    let mode = if a.reference.is_some() {
        if a.mode_opt.is_some() {
            return Err(CmdError::usage(
                "cannot combine mode and --reference options",
            ));
        }
        None
    } else if let Some(m) = a.mode_opt.take() {
        Some(m)
    } else {
        mode_from_operand = true;
        operands.next()
    };
    let files: Vec<String> = operands.collect();
    if files.is_empty() {
        return Err(CmdError::usage(match &mode {
            Some(m) if mode_from_operand => format!("missing operand after {}", gnu_quote(m)),
            _ => "missing operand".to_string(),
        }));
    }
    let change = match (&a.reference, &mode) {
        (Some(r), _) => {
            let abs = ctx.resolve(r);
            match ctx.vfs.stat(&abs).await {
                Ok(st) => {
                    let dflt = if st.is_dir() { 0o755 } else { 0o644 };
                    ModeChange::reference(st.mode.unwrap_or(dflt))
                }
                Err(e) => {
                    return Err(CmdError::new(
                        1,
                        format!(
                            "failed to get attributes of {}: {}",
                            quoteaf(r),
                            e.message()
                        ),
                    ));
                }
            }
        }
        (None, Some(m)) => match ModeChange::parse(m) {
            Some(c) => c,
            None => return Err(CmdError::usage(format!("invalid mode: {}", gnu_quote(m)))),
        },
        (None, None) => return Err(CmdError::usage("missing operand")),
    };
    let mut run = Chmod {
        change,
        recursive: a.recursive,
        silent: a.silent,
        verbosity: if a.verbose {
            Verbosity::All
        } else if a.changes {
            Verbosity::Changes
        } else {
            Verbosity::Off
        },
        diagnose,
        status: 0,
    };
    for f in &files {
        if a.recursive && a.preserve_root && ctx.resolve(f) == "/" {
            ctx.error(format!(
                "it is dangerous to operate recursively on {}\nchmod: use --no-preserve-root to override this failsafe",
                quoteaf(f)
            ))
            .await;
            run.status = 1;
            continue;
        }
        run.operand(ctx, f).await;
    }
    Ok(run.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(mode: &str, old: u32, dir: bool) -> u32 {
        ModeChange::parse(mode)
            .unwrap_or_else(|| panic!("invalid: {mode}"))
            .apply(old, dir, UMASK)
    }

    #[test]
    fn octal_modes() {
        assert_eq!(apply("755", 0o644, false), 0o755);
        assert_eq!(apply("0644", 0o4755, false), 0o644);
        assert_eq!(apply("4755", 0o644, false), 0o4755);
        assert_eq!(apply("0", 0o644, false), 0);
        // a directory keeps its set-ID bits unless 5 digits are given
        assert_eq!(apply("755", 0o2755, true), 0o2755);
        assert_eq!(apply("00755", 0o2755, true), 0o755);
        assert_eq!(apply("0755", 0o2755, true), 0o2755);
        assert_eq!(apply("2755", 0o755, true), 0o2755);
        for bad in ["8", "10000", "7x", "07777 "] {
            assert!(ModeChange::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn symbolic_modes() {
        assert_eq!(apply("u+x", 0o644, false), 0o744);
        assert_eq!(apply("go-w", 0o666, false), 0o644);
        assert_eq!(apply("a=r", 0o755, false), 0o444);
        assert_eq!(apply("u=rwx,g=rx,o=", 0o644, false), 0o750);
        assert_eq!(apply("+x", 0o644, false), 0o755);
        // the umask: no class named, so 022 keeps group and other write off
        assert_eq!(apply("+w", 0o444, false), 0o644);
        assert_eq!(apply("-w", 0o666, false), 0o466);
        assert_eq!(apply("=r", 0o4755, false), 0o444);
        // X: directories, or files that have an execute bit
        assert_eq!(apply("+X", 0o644, false), 0o644);
        assert_eq!(apply("+X", 0o744, false), 0o755);
        assert_eq!(apply("a+X", 0o600, true), 0o711);
        // copies
        assert_eq!(apply("g=u", 0o640, false), 0o660);
        assert_eq!(apply("o=u-w", 0o4700, false), 0o4705);
        assert_eq!(apply("u=g+r", 0o600, false), 0o400);
        // special bits
        assert_eq!(apply("u+s,g+s,+t", 0, false), 0o7000);
        assert_eq!(apply("g-s", 0o2755, true), 0o755);
        assert_eq!(apply("=rwx", 0o2000, true), 0o2755);
        assert_eq!(apply("+", 0o644, false), 0o644);
        assert_eq!(apply("ugo=", 0o755, false), 0);
        // an octal value after the operator
        assert_eq!(apply("+755", 0o600, false), 0o755);
        assert_eq!(apply("=640", 0o777, false), 0o640);
        for bad in [
            "", ",", "u", "q", "u+q", "a+r,", "u=gw", "u=7", "-vx", "u+x,,g+x",
        ] {
            assert!(ModeChange::parse(bad).is_none(), "{bad:?}");
        }
    }

    fn args(a: &[&str]) -> Result<Args, String> {
        parse_args(&a.iter().map(ToString::to_string).collect::<Vec<_>>())
    }

    #[test]
    fn option_forms() {
        let a = args(&["-R", "-v", "-x", "d"]).unwrap();
        assert!(a.recursive && a.verbose);
        assert_eq!(a.mode_opt.as_deref(), Some("-x"));
        assert_eq!(a.operands, ["d"]);
        let a = args(&["-w", "f", "-rx", "--", "-g"]).unwrap();
        assert_eq!(a.mode_opt.as_deref(), Some("-w,-rx"));
        assert_eq!(a.operands, ["f", "-g"]);
        let a = args(&["-vx", "f"]).unwrap();
        assert_eq!(a.mode_opt.as_deref(), Some("-vx"));
        let a = args(&["--ref=g", "--verb", "f"]).unwrap();
        assert_eq!(a.reference.as_deref(), Some("g"));
        assert!(a.verbose);
        assert_eq!(
            args(&["--ver"]).unwrap_err(),
            "option '--ver' is ambiguous; possibilities: '--verbose' '--version'"
        );
        assert_eq!(args(&["-Q"]).unwrap_err(), "invalid option -- 'Q'");
        assert_eq!(
            args(&["--reference"]).unwrap_err(),
            "option '--reference' requires an argument"
        );
    }
}
