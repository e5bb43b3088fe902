//! `stat`: show an entry's status, as GNU coreutils 9.1 `stat` (`-c
//! FORMAT`/`--format`, `--printf` (backslash escapes, no added newline),
//! `-t`/`--terse`, `-L`/`--dereference`; the default output as GNU 9.1
//! prints it). Directives: `%n %N %s %F %a %A %f %U %G %u %g %y %Y %x %X
//! %z %Z %w %W %i %h %b %B %o %d %D %t %T %m %C %%`, with `-`/`0` flags, a
//! width and a precision (fraction digits for `%X %Y %Z %W`).
//!
//! What a virtual resource does not keep is shown as `ls -l` shows it (the
//! same choices, so the two agree): the owner is the session user (`USER`,
//! else `LOGNAME`, else `root`; uid/gid 0 for root, 1000 otherwise); the
//! access and change times are the modification time (there is no birth
//! time: `-`, `0`); directories are 4096 bytes with 2 links plus their
//! subdirectories; blocks are 512-byte units of 4 KiB ext4 blocks; the
//! inode is a stable number derived from the path; the device is `0,N`
//! for the mount's index. A missing entry is `stat: cannot statx 'X': No
//! such file or directory` (status 1).

use std::time::UNIX_EPOCH;

use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{FileStat, FileType, bytestr};

use crate::builtin::ls::mode_string;
use crate::util::{parse_cmd, quoteaf};

const OPTS: &[OptSpec] = &[
    OptSpec::value("format", Some('c'), Some("format")),
    OptSpec::value("printf", None, Some("printf")),
    OptSpec::flag("dereference", Some('L'), Some("dereference")),
    OptSpec::flag("terse", Some('t'), Some("terse")),
    OptSpec::flag("file-system", Some('f'), Some("file-system")),
    OptSpec::optional("cached", None, Some("cached")),
];

/// The spec of `stat`.
pub static SPEC: CommandSpec = CommandSpec::new("stat", OPTS, PathOperands::All);

crate::register_command!("stat", SPEC, run);

/// GNU 9.1's default format for a file or directory.
const DEFAULT: &str = "  File: %N\n  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\nDevice: %Hd,%Ld\tInode: %-11i Links: %h\nAccess: (%04a/%10.10A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\nAccess: %x\nModify: %y\nChange: %z\n Birth: %w\n";
/// GNU's `--terse` format.
const TERSE: &str = "%n %s %b %f %u %g %D %i %h %t %T %X %Y %Z %W %o\n";

/// Everything a format can show about one entry.
struct Info {
    name: String,
    abs: String,
    st: FileStat,
    target: Option<String>,
    links: u64,
    user: String,
    uid: u32,
    secs: i64,
    nanos: u32,
    zone: Zone,
    dev_minor: u64,
    mount: String,
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        return Err(CmdError::usage("missing operand"));
    }
    if p.has("file-system") {
        ctx.error("--file-system is not supported in mirage").await;
        return Ok(1);
    }
    let (format, escapes, newline) = match p.last_of(&["format", "printf", "terse"]) {
        Some("format") => (p.value("format").unwrap_or("").to_string(), false, true),
        Some("printf") => (p.value("printf").unwrap_or("").to_string(), true, false),
        Some(_) => (TERSE.to_string(), false, false),
        None => (String::new(), false, false),
    };
    let user = ctx
        .var("USER")
        .or_else(|| ctx.var("LOGNAME"))
        .filter(|u| !u.is_empty())
        .unwrap_or("root")
        .to_string();
    let uid = if user == "root" { 0 } else { 1000 };
    let follow = p.has("dereference");
    let mut status = 0;
    for op in p.operands.clone() {
        let abs = ctx.resolve(&op);
        let vfs = ctx.vfs.clone();
        let st = if follow {
            vfs.stat(&abs).await
        } else {
            vfs.lstat(&abs).await
        };
        let st = match st {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("cannot statx {}: {}", quoteaf(&op), e.message()))
                    .await;
                status = 1;
                continue;
            }
        };
        let target = if st.file_type == FileType::Symlink {
            vfs.readlink(&abs).await.ok()
        } else {
            None
        };
        let links = if st.is_dir() {
            match vfs.readdir(&abs).await {
                Ok(list) => 2 + list.iter().filter(|s| s.is_dir()).count() as u64,
                Err(_) => 2,
            }
        } else {
            1
        };
        let (secs, nanos) = match st.modified.map(|m| m.duration_since(UNIX_EPOCH)) {
            Some(Ok(d)) => (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            ),
            Some(Err(e)) => {
                let d = e.duration();
                let s = -i64::try_from(d.as_secs()).unwrap_or(0);
                if d.subsec_nanos() == 0 {
                    (s, 0)
                } else {
                    (s - 1, 1_000_000_000 - d.subsec_nanos())
                }
            }
            None => (0, 0),
        };
        let mounts = vfs.mounts();
        let mount = vfs.mount_of(&abs);
        let dev_minor = mount
            .as_ref()
            .and_then(|m| mounts.iter().position(|x| x.prefix == m.prefix))
            .map_or(0, |i| 30 + i as u64);
        let info = Info {
            name: op.clone(),
            abs,
            st,
            target,
            links,
            user: user.clone(),
            uid,
            secs,
            nanos,
            zone: Zone::from_tz(ctx.var("TZ")),
            dev_minor,
            mount: mount.map_or_else(|| "/".to_string(), |m| m.prefix),
        };
        let mut out = if format.is_empty() {
            expand(DEFAULT, &info, false, true)
        } else {
            expand(&format, &info, escapes, false)
        };
        if newline {
            out.push('\n');
        }
        ctx.stdout.write(&bytestr::encode(&out)).await?;
    }
    Ok(status)
}

/// Size as shown: a directory without one is 4096 bytes; a symlink the
/// length of its target.
fn size_of(i: &Info) -> u64 {
    match (&i.target, i.st.file_type) {
        (Some(t), _) if i.st.size == 0 => t.len() as u64,
        (_, FileType::Directory) if i.st.size == 0 => 4096,
        _ => i.st.size,
    }
}

/// Permission bits, with the defaults `ls` uses.
fn mode_of(i: &Info) -> u32 {
    i.st.mode.unwrap_or(match i.st.file_type {
        FileType::File => 0o644,
        FileType::Directory => 0o755,
        FileType::Symlink => 0o777,
    })
}

/// The raw `st_mode` (type bits and permissions).
fn raw_mode(i: &Info) -> u32 {
    let ty = match i.st.file_type {
        FileType::File => 0o100_000,
        FileType::Directory => 0o040_000,
        FileType::Symlink => 0o120_000,
    };
    ty | mode_of(i)
}

/// A stable inode-like number for a path: the same as `ls -i` shows.
fn inode_of(abs: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in abs.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    1_000_000 + (h % 8_000_000)
}

/// `2026-12-03 04:57:19.870398149 +0000` for the entry's time.
fn human_time(i: &Info) -> String {
    let base = strftime("%Y-%m-%d %H:%M:%S", i.secs, &i.zone).unwrap_or_default();
    let z = strftime("%z", i.secs, &i.zone).unwrap_or_default();
    format!("{base}.{:09} {z}", i.nanos)
}

/// The text of directive `c` (None for an unknown one, shown as `?`), and
/// whether it is a number (for the `0` flag).
fn directive(c: char, i: &Info, prec: Option<usize>, default_fmt: bool) -> Option<(String, bool)> {
    let blocks = match i.st.file_type {
        FileType::Symlink => 0,
        _ => size_of(i).div_ceil(4096) * 8,
    };
    let epoch = |prec: Option<usize>| match prec {
        Some(0) | None => i.secs.to_string(),
        Some(p) => {
            let frac = format!("{:09}", i.nanos);
            let p = p.min(9);
            format!("{}.{}", i.secs, &frac[..p])
        }
    };
    let kind = match i.st.file_type {
        FileType::File if i.st.size == 0 => "regular empty file",
        FileType::File => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
    };
    let num = |n: u64| Some((n.to_string(), true));
    match c {
        'n' => Some((i.name.clone(), false)),
        'N' => {
            let show = |s: &str| {
                if default_fmt {
                    s.to_string()
                } else {
                    quoteaf(s)
                }
            };
            let mut s = show(&i.name);
            if let Some(t) = &i.target {
                s.push_str(" -> ");
                s.push_str(&show(t));
            }
            Some((s, false))
        }
        's' => num(size_of(i)),
        'F' => Some((kind.to_string(), false)),
        'a' => Some((format!("{:o}", mode_of(i) & 0o7777), true)),
        'A' => Some((mode_string(i.st.file_type, mode_of(i)), false)),
        'f' => Some((format!("{:x}", raw_mode(i)), false)),
        'U' | 'G' => Some((i.user.clone(), false)),
        'u' | 'g' => num(u64::from(i.uid)),
        'x' | 'y' | 'z' => Some((human_time(i), false)),
        'X' | 'Y' | 'Z' => Some((epoch(prec), true)),
        'w' => Some(("-".to_string(), false)),
        'W' => Some(("0".to_string(), true)),
        'i' => num(inode_of(&i.abs)),
        'h' => num(i.links),
        'b' => num(blocks),
        'B' => num(512),
        'o' => num(4096),
        'd' => num(i.dev_minor),
        'D' => Some((format!("{:x}", i.dev_minor), false)),
        't' | 'T' => Some(("0".to_string(), false)),
        'm' => Some((i.mount.clone(), false)),
        'C' => Some(("?".to_string(), false)),
        _ => None,
    }
}

/// Expands a `stat` format for one entry; with `escapes`, backslash
/// escapes too (`--printf`). `default_fmt` shows `%N` unquoted, as GNU's
/// default output does.
fn expand(fmt: &str, i: &Info, escapes: bool, default_fmt: bool) -> String {
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        k += 1;
        if c == '\\' && escapes {
            k = escape(&chars, k, &mut out);
            continue;
        }
        if c != '%' {
            out.push(c);
            continue;
        }
        let start = k - 1;
        let mut flags = String::new();
        while k < chars.len() && "-0+ #'".contains(chars[k]) {
            flags.push(chars[k]);
            k += 1;
        }
        let mut width = String::new();
        while k < chars.len() && chars[k].is_ascii_digit() {
            width.push(chars[k]);
            k += 1;
        }
        let mut prec = None;
        if k < chars.len() && chars[k] == '.' {
            k += 1;
            let mut p = String::new();
            while k < chars.len() && chars[k].is_ascii_digit() {
                p.push(chars[k]);
                k += 1;
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        let Some(&d) = chars.get(k) else {
            // a lone `%` at the end is printed as is
            out.extend(&chars[start..]);
            break;
        };
        k += 1;
        if d == '%' {
            out.push('%');
            continue;
        }
        // %Hd / %Ld: the device's major and minor
        let (d, text) = if (d == 'H' || d == 'L') && chars.get(k) == Some(&'d') {
            k += 1;
            let v = if d == 'H' { 0 } else { i.dev_minor };
            ('d', Some((v.to_string(), true)))
        } else {
            (d, directive(d, i, prec, default_fmt))
        };
        let Some((mut s, numeric)) = text else {
            out.push('?');
            continue;
        };
        if let Some(p) = prec
            && !numeric
        {
            s = s.chars().take(p).collect();
        } else if let Some(p) = prec
            && numeric
            && !matches!(d, 'X' | 'Y' | 'Z' | 'W')
        {
            // a precision on an integer is a minimum digit count
            while s.len() < p {
                s.insert(0, '0');
            }
        }
        let w: usize = width.parse().unwrap_or(0);
        let len = s.chars().count();
        if len < w {
            let pad = w - len;
            if flags.contains('-') {
                s.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && numeric {
                s.insert_str(0, &"0".repeat(pad));
            } else {
                s.insert_str(0, &" ".repeat(pad));
            }
        }
        out.push_str(&s);
    }
    out
}

/// Reads one backslash escape starting after the `\` at `k`; returns the
/// index after it.
fn escape(chars: &[char], mut k: usize, out: &mut String) -> usize {
    let Some(&c) = chars.get(k) else {
        out.push('\\');
        return k;
    };
    k += 1;
    let simple = match c {
        'n' => Some('\n'),
        't' => Some('\t'),
        '\\' => Some('\\'),
        '"' => Some('"'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'r' => Some('\r'),
        'v' => Some('\x0b'),
        'e' => Some('\x1b'),
        _ => None,
    };
    if let Some(s) = simple {
        out.push(s);
        return k;
    }
    let (radix, max, mut v) = match c {
        '0'..='7' => (8, 2, c.to_digit(8).unwrap_or(0)),
        'x' => (16, 2, 0),
        _ => {
            out.push('\\');
            out.push(c);
            return k;
        }
    };
    let mut n = 0;
    while n < max
        && let Some(d) = chars.get(k).and_then(|ch| ch.to_digit(radix))
    {
        v = v * radix + d;
        k += 1;
        n += 1;
    }
    if c == 'x' && n == 0 {
        out.push_str("\\x");
        return k;
    }
    let byte = u8::try_from(v & 0xff).unwrap_or(0);
    out.push_str(&bytestr::decode(&[byte]));
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn formats_as_gnu() {
        let v = MemVfs::with(&[("/d/a", "hi"), ("/d/e", ""), ("/d/sub/x/", "")]);
        let r = |args: &[&str]| run_cmd(&v, run, "stat", args, "/d", "");
        assert_eq!(
            r(&["-c", "%s %F %a %A %n", "a"]).0,
            "2 regular file 644 -rw-r--r-- a\n"
        );
        assert_eq!(
            r(&["-c", "%F|%s|%h", "e", "sub"]).0,
            "regular empty file|0|1\ndirectory|4096|3\n"
        );
        assert_eq!(r(&["--printf", "%n\\t%s\\n", "a"]).0, "a\t2\n");
        assert_eq!(
            r(&["-c", "%N|%10s|%-3n|%Q|%%", "a"]).0,
            "'a'|         2|a  |?|%\n"
        );
        assert_eq!(r(&["-c", "%U %u", "a"]).0, "root 0\n");
        let (o, e, s) = r(&["nope"]);
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "",
                "stat: cannot statx 'nope': No such file or directory\n",
                1
            )
        );
        let o = r(&["a"]).0;
        assert!(o.starts_with("  File: a\n  Size: 2         \tBlocks: 8          IO Block: 4096   regular file\nDevice: 0,"), "{o}");
        assert!(
            o.contains(
                "Access: (0644/-rw-r--r--)  Uid: (    0/    root)   Gid: (    0/    root)\n"
            ),
            "{o}"
        );
        assert!(o.ends_with(" Birth: -\n"), "{o}");
    }
}
