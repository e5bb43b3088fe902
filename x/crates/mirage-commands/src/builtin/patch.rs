//! `patch`: apply a unified diff, as GNU patch 2.7.6 run without a
//! terminal (`patch [ORIGFILE [PATCHFILE]]`, `-p N`, `-R`, `-i FILE`,
//! `--dry-run`, `-o FILE`, `-s`, `-N`, `-E`, `-d DIR`; `patching file X`
//! messages, hunks found at an offset but never with fuzz, failed hunks
//! saved to `X.rej` with exit 1, the reversed-patch check of the first hunk).
//! Every file is read and written through the VFS router. Behaviour as
//! GNU patch 2.7.6; original code.

use bytes::Bytes;
use mirage_types::ByteSource;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{parse_cmd, read_input};

const OPTS: &[OptSpec] = &[
    OptSpec::value("strip", Some('p'), Some("strip")),
    OptSpec::flag("reverse", Some('R'), Some("reverse")),
    OptSpec::value("input", Some('i'), Some("input")),
    OptSpec::flag("dry-run", None, Some("dry-run")),
    OptSpec::value("output", Some('o'), Some("output")),
    OptSpec::flag("silent", Some('s'), Some("silent")),
    OptSpec::flag("quiet", None, Some("quiet")),
    OptSpec::flag("forward", Some('N'), Some("forward")),
    OptSpec::flag("force", Some('f'), Some("force")),
    OptSpec::flag("batch", Some('t'), Some("batch")),
    OptSpec::flag("remove-empty-files", Some('E'), Some("remove-empty-files")),
    OptSpec::flag("unified", Some('u'), Some("unified")),
    OptSpec::value("fuzz", Some('F'), Some("fuzz")),
    OptSpec::value("directory", Some('d'), Some("directory")),
    OptSpec::flag("backup", Some('b'), Some("backup")),
    OptSpec::flag("no-backup-if-mismatch", None, Some("no-backup-if-mismatch")),
    OptSpec::flag("backup-if-mismatch", None, Some("backup-if-mismatch")),
    OptSpec::flag("verbose", None, Some("verbose")),
];

/// The spec of `patch` (usage errors exit 2).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("patch", OPTS, PathOperands::All)
};

crate::register_command!("patch", SPEC, run, true);

/// One line of a hunk: its kind (`b' '`, `b'-'`, `b'+'`) and text with
/// its `\n` (absent after `\ No newline at end of file`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct HLine {
    kind: u8,
    text: Vec<u8>,
}

/// One `@@ -a,b +c,d @@` hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hunk {
    old_start: usize,
    new_start: usize,
    lines: Vec<HLine>,
    /// The hunk as written in the patch (for the `.rej` file).
    raw: Vec<u8>,
}

impl Hunk {
    fn old_lines(&self) -> Vec<&[u8]> {
        self.lines
            .iter()
            .filter(|l| l.kind != b'+')
            .map(|l| &l.text[..])
            .collect()
    }
    fn new_lines(&self) -> Vec<&[u8]> {
        self.lines
            .iter()
            .filter(|l| l.kind != b'-')
            .map(|l| &l.text[..])
            .collect()
    }
    /// GNU's `pch_first`: the first old line, 1-based (`-a,0` means
    /// after line `a`, so `a + 1`).
    fn first(&self) -> usize {
        if self.old_lines().is_empty() {
            self.old_start + 1
        } else {
            self.old_start
        }
    }
    /// GNU's `pch_newfirst`, likewise for the new side.
    fn new_first(&self) -> usize {
        if self.new_lines().is_empty() {
            self.new_start + 1
        } else {
            self.new_start
        }
    }
    fn reversed(&self) -> Hunk {
        Hunk {
            old_start: self.new_start,
            new_start: self.old_start,
            lines: self
                .lines
                .iter()
                .map(|l| HLine {
                    kind: match l.kind {
                        b'-' => b'+',
                        b'+' => b'-',
                        k => k,
                    },
                    text: l.text.clone(),
                })
                .collect(),
            raw: self.raw.clone(),
        }
    }
}

/// The patch of one file: its `---`/`+++` names and hunks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FilePatch {
    old_name: String,
    new_name: String,
    /// The header lines (for `.rej` and "can't find file" messages).
    header: Vec<u8>,
    /// The line of the patch input after the `+++` line (1-based).
    line_no: usize,
    hunks: Vec<Hunk>,
}

/// The name in a `---`/`+++` line: up to a tab (the timestamp), quotes
/// not handled.
fn header_name(rest: &[u8]) -> String {
    let end = memchr::memchr(b'\t', rest).unwrap_or(rest.len());
    let name = &rest[..end];
    let name = name.strip_suffix(b"\n").unwrap_or(name);
    let name = name.strip_suffix(b"\r").unwrap_or(name);
    mirage_types::bytestr::decode(name).trim_end().to_string()
}

/// `-a,b` or `-a` of a hunk header: (start, count).
fn parse_range(s: &str) -> Option<(usize, usize)> {
    match s.split_once(',') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => Some((s.parse().ok()?, 1)),
    }
}

/// Parses a unified diff into file patches (other lines are ignored, as
/// GNU ignores leading garbage).
fn parse_patch(data: &[u8]) -> Vec<FilePatch> {
    let lines = crate::builtin::diff::split_lines(data);
    let mut out: Vec<FilePatch> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with(b"--- ") && i + 1 < lines.len() && lines[i + 1].starts_with(b"+++ ") {
            let mut header = l.to_vec();
            header.extend_from_slice(lines[i + 1]);
            out.push(FilePatch {
                old_name: header_name(&l[4..]),
                new_name: header_name(&lines[i + 1][4..]),
                header,
                line_no: i + 3,
                hunks: Vec::new(),
            });
            i += 2;
            continue;
        }
        if l.starts_with(b"@@ -")
            && let Some(fp) = out.last_mut()
            && let Some((h, next)) = parse_hunk(&lines, i)
        {
            fp.hunks.push(h);
            i = next;
            continue;
        }
        i += 1;
    }
    out.retain(|f| !f.hunks.is_empty());
    out
}

/// Parses the hunk whose header is `lines[i]`; returns it and the index
/// of the line after it.
fn parse_hunk(lines: &[&[u8]], i: usize) -> Option<(Hunk, usize)> {
    let head = String::from_utf8_lossy(lines[i]).into_owned();
    let mut parts = head.split_whitespace();
    let _at = parts.next()?;
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let (os, oc) = parse_range(old)?;
    let (ns, nc) = parse_range(new)?;
    let (mut o, mut n) = (0, 0);
    let mut hl: Vec<HLine> = Vec::new();
    let mut raw = lines[i].to_vec();
    let mut j = i + 1;
    while j < lines.len() && (o < oc || n < nc) {
        let l = lines[j];
        let (kind, text) = match l.first() {
            Some(b' ') => (b' ', &l[1..]),
            Some(b'-') => (b'-', &l[1..]),
            Some(b'+') => (b'+', &l[1..]),
            // A context line whose space was lost (an empty line).
            Some(b'\n') => (b' ', l),
            Some(b'\\') => {
                if let Some(last) = hl.last_mut()
                    && last.text.ends_with(b"\n")
                {
                    last.text.pop();
                }
                raw.extend_from_slice(l);
                j += 1;
                continue;
            }
            _ => break,
        };
        match kind {
            b' ' => {
                o += 1;
                n += 1;
            }
            b'-' => o += 1,
            _ => n += 1,
        }
        hl.push(HLine {
            kind,
            text: text.to_vec(),
        });
        raw.extend_from_slice(l);
        j += 1;
    }
    if o != oc || n != nc {
        return None;
    }
    // A trailing `\ No newline at end of file` after the counted lines.
    if j < lines.len() && lines[j].starts_with(b"\\") {
        if let Some(last) = hl.last_mut()
            && last.text.ends_with(b"\n")
        {
            last.text.pop();
        }
        raw.extend_from_slice(lines[j]);
        j += 1;
    }
    Some((
        Hunk {
            old_start: os,
            new_start: ns,
            lines: hl,
            raw,
        },
        j,
    ))
}

/// Strips `n` leading components from `name` (GNU `-p`); `None` strips
/// them all (no `-p`: the base name). `None` back when there are too few.
fn strip(name: &str, n: Option<usize>) -> Option<String> {
    match n {
        None => Some(name.rsplit('/').next().unwrap_or(name).to_string()),
        Some(0) => Some(name.to_string()),
        Some(n) => {
            let mut rest = name;
            for _ in 0..n {
                let i = rest.find('/')?;
                rest = rest[i + 1..].trim_start_matches('/');
            }
            Some(rest.to_string())
        }
    }
}

/// Where the hunk's old lines start in `lines` (1-based), or `None`.
///
/// The placement GNU patch 2.7.6 gives at fuzz 0, as its output shows it
/// (original code): the guess is the hunk's own start moved by `drift`,
/// the offset the earlier hunks of the file were found at. A hunk with
/// less leading than trailing context that starts at line 1 must match at
/// line 1 (and only while at most its leading context was already used);
/// one with less trailing context must match at the very end; any other
/// hunk takes the exact match nearest the guess, looking after it before
/// before it at each distance, never starting inside the lines already
/// written (`consumed`) except for its leading context. On success
/// `drift` becomes the offset the hunk was found at.
fn locate(lines: &[&[u8]], h: &Hunk, drift: &mut isize, consumed: usize) -> Option<usize> {
    let old = h.old_lines();
    let guess = h.first() as isize + *drift;
    if old.is_empty() {
        return usize::try_from(guess).ok();
    }
    let is_context = |l: &&HLine| l.kind == b' ';
    let lead = h.lines.iter().take_while(is_context).count() as isize;
    let trail = h.lines.iter().rev().take_while(is_context).count() as isize;
    let consumed = consumed as isize;
    let last_start = lines.len() as isize - old.len() as isize + 1;
    // whether the old lines sit at 1-based line `at`
    let fits_at = |at: isize| -> bool {
        let Ok(i) = usize::try_from(at - 1) else {
            return false;
        };
        lines
            .get(i..i + old.len())
            .is_some_and(|window| window == old.as_slice())
    };
    let found = if lead < trail && h.first() <= 1 {
        // it starts the file: only the top will do
        (consumed <= lead && fits_at(1)).then_some(1)
    } else if trail < lead {
        // it ends the file: only the end will do
        let lowest = (consumed + 1 - lead).max(1);
        (last_start >= lowest && fits_at(last_start)).then_some(last_start)
    } else {
        let lowest = (consumed + 1 - lead.max(trail)).max(1);
        let reach = (last_start - guess).max(guess - lowest);
        (0..=reach).find_map(|d| {
            let later = guess + d;
            let earlier = guess - d;
            if later <= last_start && fits_at(later) {
                Some(later)
            } else if d > 0 && earlier >= lowest && fits_at(earlier) {
                Some(earlier)
            } else {
                None
            }
        })
    };
    let at = found?;
    *drift += at - guess;
    usize::try_from(at).ok()
}

/// The result of applying the hunks of one file.
struct Applied {
    out: Vec<u8>,
    failed: Vec<usize>,
    messages: Vec<String>,
    mismatch: bool,
    /// GNU's `out_offset` when each failed hunk was met (for `.rej`).
    rej_offsets: Vec<isize>,
}

fn apply(orig: &[u8], hunks: &[Hunk]) -> Applied {
    let lines = crate::builtin::diff::split_lines(orig);
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut in_offset: isize = 0;
    let mut out_offset: isize = 0;
    // lines the rejected hunks would have added (new minus old)
    let mut rejected_delta: isize = 0;
    let mut failed = Vec::new();
    let mut rej_offsets = Vec::new();
    let mut messages = Vec::new();
    let mut mismatch = false;
    for (k, h) in hunks.iter().enumerate() {
        let old = h.old_lines();
        let new = h.new_lines();
        match locate(&lines, h, &mut in_offset, pos) {
            Some(where_) if where_ >= 1 || old.is_empty() => {
                // `where_` is the first old line (1-based); with no old
                // lines, the new ones go before line `where_`.
                let at = where_.saturating_sub(1).max(pos).min(lines.len());
                for l in &lines[pos..at] {
                    out.extend_from_slice(l);
                }
                for l in &new {
                    out.extend_from_slice(l);
                }
                pos = at + old.len();
                out_offset += new.len() as isize - old.len() as isize;
                if in_offset != 0 {
                    mismatch = true;
                    // where the hunk landed in the output: rejected
                    // hunks before it changed nothing
                    let newwhere = h.new_first() as isize + in_offset - rejected_delta;
                    messages.push(format!(
                        "Hunk #{} succeeded at {newwhere} (offset {in_offset} line{}).",
                        k + 1,
                        if in_offset == 1 { "" } else { "s" }
                    ));
                }
            }
            _ => {
                mismatch = true;
                rejected_delta += new.len() as isize - old.len() as isize;
                failed.push(k);
                rej_offsets.push(out_offset);
                messages.push(format!(
                    "Hunk #{} FAILED at {}.",
                    k + 1,
                    h.first() as isize + out_offset
                ));
            }
        }
    }
    for l in &lines[pos.min(lines.len())..] {
        out.extend_from_slice(l);
    }
    Applied {
        out,
        failed,
        messages,
        mismatch,
        rej_offsets,
    }
}

/// A hunk as GNU writes it into a `.rej` file: its header with both
/// starts moved by `out_offset` (GNU's `abort_hunk_unified`).
fn rej_hunk(h: &Hunk, out_offset: isize) -> Vec<u8> {
    let range = |first: usize, count: usize| -> String {
        let first = first as isize + out_offset;
        match count {
            0 => format!("{},0", first - 1),
            1 => format!("{first}"),
            _ => format!("{first},{count}"),
        }
    };
    let mut out = format!(
        "@@ -{} +{} @@\n",
        range(h.first(), h.old_lines().len()),
        range(h.new_first(), h.new_lines().len())
    )
    .into_bytes();
    let body_start = memchr::memchr(b'\n', &h.raw).map_or(h.raw.len(), |i| i + 1);
    out.extend_from_slice(&h.raw[body_start..]);
    out
}

/// Options of one run.
struct Opts {
    strip: Option<usize>,
    reverse: bool,
    dry_run: bool,
    silent: bool,
    forward: bool,
    remove_empty: bool,
    output: Option<String>,
    backup_if_mismatch: bool,
    /// `-b`: always keep the original as `NAME.orig`.
    backup: bool,
    dir: Option<String>,
}

impl Opts {
    fn path(&self, name: &str) -> String {
        match &self.dir {
            Some(d) if !name.starts_with('/') => format!("{}/{name}", d.trim_end_matches('/')),
            _ => name.to_string(),
        }
    }
}

/// Whether `path` is an existing file (a future that does not hold `ctx`).
fn exists(ctx: &CommandCtx, path: &str) -> futures::future::BoxFuture<'static, bool> {
    let vfs = ctx.vfs.clone();
    let abs = ctx.resolve(path);
    Box::pin(async move { matches!(vfs.stat(&abs).await, Ok(st) if !st.is_dir()) })
}

async fn write_file(ctx: &mut CommandCtx, path: &str, data: Vec<u8>) -> Result<(), String> {
    let abs = ctx.resolve(path);
    if let Some((parent, _)) = abs.rsplit_once('/')
        && !parent.is_empty()
    {
        let _ = ctx.vfs.mkdir(parent, true).await;
    }
    ctx.vfs
        .write(&abs, ByteSource::Bytes(Bytes::from(data)))
        .await
        .map_err(|e| format!("{path}: {}", e.message()))?;
    ctx.io.wrote(&abs);
    Ok(())
}

/// Applies one file's patch; returns its status contribution (0, 1, 2).
async fn patch_file(
    ctx: &mut CommandCtx,
    o: &Opts,
    fp: &FilePatch,
    explicit: Option<&str>,
    out: &mut String,
) -> i32 {
    let hunks: Vec<Hunk> = if o.reverse {
        fp.hunks.iter().map(Hunk::reversed).collect()
    } else {
        fp.hunks.clone()
    };
    let (old_name, new_name) = if o.reverse {
        (&fp.new_name, &fp.old_name)
    } else {
        (&fp.old_name, &fp.new_name)
    };
    let creating = old_name == "/dev/null";
    let mut target = None;
    if let Some(e) = explicit {
        target = Some(e.to_string());
    } else {
        let cands: Vec<String> = [old_name, new_name]
            .into_iter()
            .filter(|n| *n != "/dev/null")
            .filter_map(|n| strip(n, o.strip))
            .filter(|n| !n.is_empty())
            .collect();
        for c in &cands {
            if exists(ctx, &o.path(c)).await {
                target = Some(c.clone());
                break;
            }
        }
        if target.is_none() && creating {
            target = cands.first().cloned();
        }
    }
    let Some(target) = target else {
        out.push_str(&format!(
            "can't find file to patch at input line {}\n",
            fp.line_no
        ));
        out.push_str(if o.strip.is_some() {
            "Perhaps you used the wrong -p or --strip option?\n"
        } else {
            "Perhaps you should have used the -p or --strip option?\n"
        });
        out.push_str("The text leading up to this was:\n--------------------------\n");
        for l in crate::builtin::diff::split_lines(&fp.header) {
            out.push('|');
            out.push_str(&mirage_types::bytestr::decode(l));
        }
        out.push_str("--------------------------\nNo file to patch.  Skipping patch.\n");
        let n = hunks.len();
        out.push_str(&format!(
            "{n} out of {n} hunk{} ignored\n",
            if n == 1 { "" } else { "s" }
        ));
        return 1;
    };
    let path = o.path(&target);
    let orig: Vec<u8> = if exists(ctx, &path).await {
        match read_input(ctx, &path).await {
            Ok(d) => d.to_vec(),
            Err(e) => {
                out.push_str(&format!("patch: **** {e}\n"));
                return 2;
            }
        }
    } else {
        Vec::new()
    };
    let verb = if o.dry_run { "checking" } else { "patching" };
    let shown = o.output.clone().unwrap_or_else(|| target.clone());
    let read_from = if o.output.is_some() {
        format!(" (read from {target})")
    } else {
        String::new()
    };
    let mut res = apply(&orig, &hunks);
    // GNU checks the first hunk for a reversed (or already applied) patch.
    if res.failed.first() == Some(&0) {
        let rev: Vec<Hunk> = hunks.iter().map(Hunk::reversed).collect();
        let r = apply(&orig, &rev[..1]);
        if r.failed.is_empty() {
            if !o.silent {
                out.push_str(&format!("{verb} file {shown}{read_from}\n"));
            }
            if o.forward {
                out.push_str("Reversed (or previously applied) patch detected!  Skipping patch.\n");
            } else if o.reverse {
                out.push_str("Unreversed patch detected!  Ignore -R? [n] \nApply anyway? [n] \n");
            } else {
                out.push_str(
                    "Reversed (or previously applied) patch detected!  Assume -R? [n] \nApply anyway? [n] \n",
                );
            }
            if !o.silent && !o.forward {
                out.push_str("Skipping patch.\n");
            }
            let n = hunks.len();
            let rej = format!("{target}.rej");
            out.push_str(&format!(
                "{n} out of {n} hunk{} ignored",
                if n == 1 { "" } else { "s" }
            ));
            if o.dry_run {
                out.push('\n');
            } else {
                out.push_str(&format!(" -- saving rejects to file {rej}\n"));
                let mut data = fp.header.clone();
                for h in &fp.hunks {
                    data.extend_from_slice(&h.raw);
                }
                if let Err(e) = write_file(ctx, &o.path(&rej), data).await {
                    out.push_str(&format!("patch: **** Can't create file {e}\n"));
                    return 2;
                }
            }
            return 1;
        }
    }
    if !o.silent {
        out.push_str(&format!("{verb} file {shown}{read_from}\n"));
    }
    if !o.silent {
        for m in &res.messages {
            out.push_str(m);
            out.push('\n');
        }
    }
    let mut status = 0;
    if !res.failed.is_empty() {
        status = 1;
        let n = res.failed.len();
        let total = hunks.len();
        out.push_str(&format!(
            "{n} out of {total} hunk{} FAILED",
            if total == 1 { "" } else { "s" }
        ));
        let rej = format!("{}.rej", o.output.as_deref().unwrap_or(&target));
        if o.dry_run {
            out.push('\n');
        } else {
            out.push_str(&format!(" -- saving rejects to file {rej}\n"));
            let mut data = fp.header.clone();
            for (&k, &off) in res.failed.iter().zip(&res.rej_offsets) {
                data.extend_from_slice(&rej_hunk(&hunks[k], off));
            }
            if let Err(e) = write_file(ctx, &o.path(&rej), data).await {
                out.push_str(&format!("patch: **** Can't create file {e}\n"));
                return 2;
            }
        }
    }
    if o.dry_run {
        return status;
    }
    if ((res.mismatch && o.backup_if_mismatch) || o.backup)
        && o.output.is_none()
        && !orig.is_empty()
    {
        let _ = write_file(ctx, &format!("{path}.orig"), orig.clone()).await;
    }
    let deleting = new_name == "/dev/null" || (o.remove_empty && res.out.is_empty());
    let dest = o.output.clone().unwrap_or_else(|| path.clone());
    if deleting && res.out.is_empty() && o.output.is_none() {
        let abs = ctx.resolve(&dest);
        if let Err(e) = ctx.vfs.unlink(&abs).await {
            out.push_str(&format!(
                "patch: **** Can't remove file {dest}: {}\n",
                e.message()
            ));
            return 2;
        }
        return status;
    }
    let data = std::mem::take(&mut res.out);
    if let Err(e) = write_file(ctx, &dest, data).await {
        out.push_str(&format!("patch: **** Can't create file {e}\n"));
        return 2;
    }
    status
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = match parse_cmd(ctx, &SPEC) {
        Ok(p) => p,
        Err(e) => {
            ctx.error(e.message.as_deref().unwrap_or("")).await;
            ctx.error("Try 'patch --help' for more information.").await;
            return Ok(2);
        }
    };
    let strip = match p.value("strip") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                ctx.error(format!("**** strip count {v} is not a number"))
                    .await;
                return Ok(2);
            }
        },
        None => None,
    };
    if p.operands.len() > 2 {
        ctx.error(format!("**** extra operand {}", p.operands[2]))
            .await;
        return Ok(2);
    }
    let o = Opts {
        strip,
        reverse: p.has("reverse"),
        dry_run: p.has("dry-run"),
        silent: p.has("silent") || p.has("quiet"),
        forward: p.has("forward"),
        remove_empty: p.has("remove-empty-files"),
        output: p.value("output").map(String::from),
        backup_if_mismatch: !p.has("no-backup-if-mismatch"),
        backup: p.has("backup"),
        dir: p.value("directory").map(String::from),
    };
    let input = p
        .value("input")
        .map(String::from)
        .or_else(|| p.operands.get(1).cloned())
        .unwrap_or_else(|| "-".to_string());
    let data = match read_input(ctx, &input).await {
        Ok(d) => d,
        Err(e) => {
            ctx.error(format!("**** Can't open patch file {e}")).await;
            return Ok(2);
        }
    };
    let files = parse_patch(&data);
    if files.is_empty() {
        ctx.error("**** Only garbage was found in the patch input.")
            .await;
        return Ok(2);
    }
    let explicit = p.operands.first().cloned();
    let mut status = 0;
    for fp in &files {
        let mut out = String::new();
        let s = patch_file(ctx, &o, fp, explicit.as_deref(), &mut out).await;
        if let Some(fatal) = out.find("patch: **** ") {
            let (before, err) = out.split_at(fatal);
            let _ = ctx.stdout.write_str(before).await;
            let _ = ctx.stdout.flush().await;
            let _ = ctx.stderr.write_str(err).await;
        } else {
            let _ = ctx.stdout.write_str(&out).await;
        }
        status = status.max(s);
        if s == 2 {
            break;
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    const OFF: &str = "--- g.txt\n+++ g.txt\n@@ -1,3 +1,3 @@\n 4\n-5\n+five\n 6\n";

    #[test]
    fn offsets_rejects_and_reverse_like_gnu() {
        let vfs = MemVfs::with(&[("/d/g.txt", "1\n2\n3\n4\n5\n6\n7\n8\n")]);
        let (out, _, st) = run_cmd(&vfs, run, "patch", &[], "/d", OFF);
        assert_eq!(
            (&out[..], st),
            (
                "patching file g.txt\nHunk #1 succeeded at 4 (offset 3 lines).\n",
                0
            )
        );
        let tree = vfs.tree.lock().unwrap();
        assert_eq!(
            tree["/d/g.txt"].as_deref(),
            Some(&b"1\n2\n3\n4\nfive\n6\n7\n8\n"[..])
        );
        assert!(tree.contains_key("/d/g.txt.orig"));
        drop(tree);
        let (out, _, st) = run_cmd(&vfs, run, "patch", &[], "/d", OFF);
        assert_eq!(
            (&out[..], st),
            (
                "patching file g.txt\nReversed (or previously applied) patch detected!  Assume -R? [n] \nApply anyway? [n] \nSkipping patch.\n1 out of 1 hunk ignored -- saving rejects to file g.txt.rej\n",
                1
            )
        );
        let (out, _, st) = run_cmd(
            &vfs,
            run,
            "patch",
            &["-R", "-o", "o.txt", "g.txt"],
            "/d",
            OFF,
        );
        assert_eq!(
            (&out[..], st),
            (
                "patching file o.txt (read from g.txt)\nHunk #1 succeeded at 4 (offset 3 lines).\n",
                0
            )
        );
        let tree = vfs.tree.lock().unwrap();
        assert_eq!(
            tree["/d/o.txt"].as_deref(),
            Some(&b"1\n2\n3\n4\n5\n6\n7\n8\n"[..])
        );
    }

    #[test]
    fn creates_and_strips() {
        let vfs = MemVfs::with(&[("/d/x", "a\n")]);
        let p = "--- /dev/null\n+++ b/new/n.txt\n@@ -0,0 +1,2 @@\n+n1\n+n2\n";
        let (out, _, st) = run_cmd(&vfs, run, "patch", &["-p1"], "/d", p);
        assert_eq!((&out[..], st), ("patching file new/n.txt\n", 0));
        let (_, err, st) = run_cmd(&vfs, run, "patch", &["x"], "/d", "garbage\n");
        assert_eq!(
            (&err[..], st),
            (
                "patch: **** Only garbage was found in the patch input.\n",
                2
            )
        );
        let nonl = "--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n";
        let (_, _, st) = run_cmd(&vfs, run, "patch", &[], "/d", nonl);
        assert_eq!(st, 0);
        let tree = vfs.tree.lock().unwrap();
        assert_eq!(tree["/d/x"].as_deref(), Some(&b"b"[..]));
        assert_eq!(tree["/d/new/n.txt"].as_deref(), Some(&b"n1\nn2\n"[..]));
    }
}
