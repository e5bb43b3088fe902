//! `du`: estimate file space usage, as GNU coreutils 9.1 `du` (`-s`, `-a`,
//! `-c`, `-b`, `-k`, `-m`, `-h`, `--apparent-size`, `-d N`/`--max-depth`,
//! `-L`, `-P`, `-x`, `-0`, `-B SIZE` for 1, 1K, 1M). Each directory is
//! printed after its contents; entries are visited in name order. An
//! entry already counted (an operand inside another operand) is counted
//! and printed once, as GNU does for hard links and repeated operands.
//!
//! Usage is counted as on a fresh ext4 file system, as `ls -s` counts it:
//! a file takes its size rounded up to 4 KiB blocks, a directory one 4 KiB
//! block, a symlink nothing. `--apparent-size` and `-b` count sizes in
//! bytes (a directory 4096 bytes). Sizes are shown rounded up to the unit.
//! A missing operand is `du: cannot access 'X': No such file or directory`
//! (status 1).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{FileStat, FileType, bytestr};

use crate::builtin::ls::human_size;
use crate::util::{child_path, parse_cmd, quoteaf};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("summarize", Some('s'), Some("summarize")),
    OptSpec::flag("all", Some('a'), Some("all")),
    OptSpec::flag("total", Some('c'), Some("total")),
    OptSpec::flag("bytes", Some('b'), Some("bytes")),
    OptSpec::flag("k", Some('k'), None),
    OptSpec::flag("m", Some('m'), None),
    OptSpec::flag("human-readable", Some('h'), Some("human-readable")),
    OptSpec::flag("apparent-size", None, Some("apparent-size")),
    OptSpec::value("max-depth", Some('d'), Some("max-depth")),
    OptSpec::value("block-size", Some('B'), Some("block-size")),
    OptSpec::flag("dereference", Some('L'), Some("dereference")),
    OptSpec::flag("no-dereference", Some('P'), Some("no-dereference")),
    OptSpec::flag("dereference-args", Some('D'), Some("dereference-args")),
    OptSpec::flag("H", Some('H'), None),
    OptSpec::flag("one-file-system", Some('x'), Some("one-file-system")),
    OptSpec::flag("null", Some('0'), Some("null")),
    OptSpec::flag("count-links", Some('l'), Some("count-links")),
    OptSpec::flag("separate-dirs", Some('S'), Some("separate-dirs")),
    OptSpec::flag("si", None, Some("si")),
];

/// The spec of `du`.
pub static SPEC: CommandSpec = CommandSpec::new("du", OPTS, PathOperands::All);

crate::register_command!("du", SPEC, run);

/// How sizes are shown.
#[derive(Clone, Copy)]
enum Unit {
    /// In units of this many bytes, rounded up.
    Blocks(u64),
    /// `-h`: `4.0K`, `12K`.
    Human,
}

/// The walk's settings and state.
struct Walk {
    apparent: bool,
    all: bool,
    max_depth: Option<usize>,
    follow: bool,
    separate: bool,
    unit: Unit,
    end: char,
    seen: HashSet<String>,
    status: i32,
}

/// What one entry counts: bytes in use (or apparent bytes).
fn own_size(st: &FileStat, apparent: bool) -> u64 {
    let size = if st.is_dir() && st.size == 0 {
        4096
    } else {
        st.size
    };
    if apparent {
        return size;
    }
    match st.file_type {
        FileType::Symlink => 0,
        _ => size.div_ceil(4096) * 4096,
    }
}

impl Walk {
    fn show(&self, bytes: u64) -> String {
        match self.unit {
            Unit::Human => human_size(bytes),
            Unit::Blocks(b) => bytes.div_ceil(b.max(1)).to_string(),
        }
    }

    async fn print(&self, ctx: &mut CommandCtx, bytes: u64, name: &str) -> Result<(), CmdError> {
        let line = format!("{}\t{name}{}", self.show(bytes), self.end);
        ctx.stdout.write(&bytestr::encode(&line)).await?;
        Ok(())
    }

    /// Counts `abs` (shown as `shown`) at `depth`; returns its total.
    fn walk<'a>(
        &'a mut self,
        ctx: &'a mut CommandCtx,
        abs: String,
        shown: String,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Result<u64, CmdError>> + Send + 'a>> {
        Box::pin(async move {
            let vfs = ctx.vfs.clone();
            let st = if self.follow {
                vfs.stat(&abs).await
            } else {
                vfs.lstat(&abs).await
            };
            let st = match st {
                Ok(s) => s,
                Err(e) => {
                    let what = if depth == 0 {
                        "cannot access"
                    } else {
                        "cannot read directory"
                    };
                    ctx.error(format!("{what} {}: {}", quoteaf(&shown), e.message()))
                        .await;
                    self.status = 1;
                    return Ok(0);
                }
            };
            if !self.seen.insert(abs.clone()) {
                return Ok(0);
            }
            let mut total = own_size(&st, self.apparent);
            if st.is_dir() {
                let entries = match vfs.readdir(&abs).await {
                    Ok(v) => v,
                    Err(e) => {
                        ctx.error(format!(
                            "cannot read directory {}: {}",
                            quoteaf(&shown),
                            e.message()
                        ))
                        .await;
                        self.status = 1;
                        Vec::new()
                    }
                };
                for e in entries {
                    let child_abs = child_path(&abs, &e.name);
                    let child_shown = child_path(&shown, &e.name);
                    let sub = self.walk(ctx, child_abs, child_shown, depth + 1).await?;
                    if !(self.separate && e.is_dir()) {
                        total += sub;
                    }
                }
            }
            let visible = self.max_depth.is_none_or(|m| depth <= m);
            if visible && (st.is_dir() || self.all || depth == 0) {
                self.print(ctx, total, &shown).await?;
            }
            Ok(total)
        })
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut max_depth = match p.value("max-depth") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Err(CmdError::usage(format!(
                    "invalid maximum depth {}",
                    quoteaf(v)
                )));
            }
        },
        None => None,
    };
    if p.has("summarize") {
        if let Some(d) = max_depth.filter(|d| *d != 0) {
            return Err(CmdError::usage(format!(
                "warning: summarizing conflicts with --max-depth={d}"
            )));
        }
        max_depth = Some(0);
    }
    if p.has("summarize") && p.has("all") {
        return Err(CmdError::usage(
            "cannot both summarize and show all entries",
        ));
    }
    let mut apparent = p.has("apparent-size") || p.has("bytes");
    let unit = match p.last_of(&["bytes", "k", "m", "human-readable", "block-size", "si"]) {
        Some("bytes") => Unit::Blocks(1),
        Some("m") => Unit::Blocks(1024 * 1024),
        Some("human-readable" | "si") => Unit::Human,
        Some("block-size") => {
            let v = p.value("block-size").unwrap_or("");
            match crate::builtin::truncate::parse_size(v).and_then(|n| u64::try_from(n).ok()) {
                Some(n) if n > 0 => Unit::Blocks(n),
                _ => {
                    return Err(CmdError::new(
                        1,
                        format!(
                            "invalid --block-size argument {}",
                            crate::util::gnu_quote(v)
                        ),
                    ));
                }
            }
        }
        _ => Unit::Blocks(1024),
    };
    if !p.has("bytes") {
        apparent = p.has("apparent-size");
    }
    let mut w = Walk {
        apparent,
        all: p.has("all"),
        max_depth,
        follow: p.has("dereference"),
        separate: p.has("separate-dirs"),
        unit,
        end: if p.has("null") { '\0' } else { '\n' },
        seen: HashSet::new(),
        status: 0,
    };
    let ops = if p.operands.is_empty() {
        vec![".".to_string()]
    } else {
        p.operands.clone()
    };
    let mut grand = 0u64;
    for op in ops {
        let abs = ctx.resolve(&op);
        let _ = ctx.vfs.prefetch_tree(&abs, false).await;
        grand += w.walk(ctx, abs, op, 0).await?;
    }
    if p.has("total") {
        w.print(ctx, grand, "total").await?;
    }
    Ok(w.status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    #[test]
    fn sizes_as_gnu() {
        let f1 = "0".repeat(100);
        let f2 = "0".repeat(5000);
        let v = MemVfs::with(&[("/t/dd/f1", &f1), ("/t/dd/sub/f2", &f2)]);
        let r = |args: &[&str]| run_cmd(&v, run, "du", args, "/t", "");
        assert_eq!(r(&["dd"]).0, "12\tdd/sub\n20\tdd\n");
        assert_eq!(
            r(&["-a", "dd"]).0,
            "4\tdd/f1\n8\tdd/sub/f2\n12\tdd/sub\n20\tdd\n"
        );
        assert_eq!(r(&["-sb", "dd"]).0, "13292\tdd\n");
        assert_eq!(
            r(&["-ab", "dd"]).0,
            "100\tdd/f1\n5000\tdd/sub/f2\n9096\tdd/sub\n13292\tdd\n"
        );
        assert_eq!(r(&["-sh", "dd"]).0, "20K\tdd\n");
        assert_eq!(
            r(&["-c", "dd", "dd/f1"]).0,
            "12\tdd/sub\n20\tdd\n20\ttotal\n"
        );
        assert_eq!(
            r(&["-d", "1", "-a", "dd"]).0,
            "4\tdd/f1\n12\tdd/sub\n20\tdd\n"
        );
        assert_eq!(r(&["-m", "dd"]).0, "1\tdd/sub\n1\tdd\n");
        assert_eq!(r(&["--apparent-size", "dd"]).0, "9\tdd/sub\n13\tdd\n");
        assert_eq!(r(&["-hb", "dd/sub/f2"]).0, "5000\tdd/sub/f2\n");
        let (o, e, s) = r(&["nope"]);
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            (
                "",
                "du: cannot access 'nope': No such file or directory\n",
                1
            )
        );
        let (o, _, _) = run_cmd(&v, run, "du", &["-b", "--max-depth=1", "./"], "/t/dd", "");
        assert_eq!(o, "9096\t./sub\n13292\t./\n");
    }
}
