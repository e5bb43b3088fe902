//! `tar`, as GNU tar 1.34 in its default `gnu` format: `-c`, `-x`, `-t`,
//! `-r` (append), `-z` (gzip; a gzip archive is also recognised when
//! reading without `-z`), `-f FILE` (`-` or none: stdin/stdout), `-C DIR`,
//! `-v` (`-tv` prints GNU's long listing), `-O`, `-k`, `--exclude=PATTERN`
//! (GNU's default unanchored matching, `*` matching `/`),
//! `--strip-components=N`, and the old form without a dash (`tar czf a.tgz
//! dir`). Headers are built and parsed with the `tar` crate's `Header`.
//!
//! Everything streams through the router: creating reads each file as a
//! stream and writes the archive (or stdout) through a bounded channel,
//! 64 KiB at a time, optionally through a `flate2` encoder; reading parses
//! headers from the (decompressed) stream and writes each member to its
//! file as its bytes arrive. The archive is never held whole, except by
//! `-r`, which must rewrite the file (the router has no seek).
//!
//! As GNU: a member name's unsafe prefix (leading `/`, anything up to a
//! `..` component) is removed with `Removing leading `PREFIX' from member
//! names` (once per prefix); extracting a member whose name contains `..`
//! is refused with `NAME: Member name contains '..'`; errors make the exit
//! status 2 with `Exiting with failure status due to previous errors`.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::ByteStream;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{Error, ErrorKind, FileType, Input, Output, Vfs, bytestr};

use super::gzip::{ChunkTx, GzDec, GzEnc, GzError, write_streamed};
use crate::util::{child_path, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("create", Some('c'), Some("create")),
    OptSpec::flag("extract", Some('x'), Some("extract")),
    OptSpec::flag("get", None, Some("get")),
    OptSpec::flag("list", Some('t'), Some("list")),
    OptSpec::flag("append", Some('r'), Some("append")),
    OptSpec::flag("gzip", Some('z'), Some("gzip")),
    OptSpec::flag("gunzip", None, Some("gunzip")),
    OptSpec::flag("ungzip", None, Some("ungzip")),
    OptSpec::flag("auto-compress", Some('a'), Some("auto-compress")),
    OptSpec::value("file", Some('f'), Some("file")),
    OptSpec::value("directory", Some('C'), Some("directory")),
    OptSpec::flag("verbose", Some('v'), Some("verbose")),
    OptSpec::value("exclude", None, Some("exclude")),
    OptSpec::flag("to-stdout", Some('O'), Some("to-stdout")),
    OptSpec::flag("keep-old-files", Some('k'), Some("keep-old-files")),
    OptSpec::flag("overwrite", None, Some("overwrite")),
    OptSpec::value("strip-components", None, Some("strip-components")),
    OptSpec::flag(
        "preserve-permissions",
        Some('p'),
        Some("preserve-permissions"),
    ),
    OptSpec::flag("no-same-owner", None, Some("no-same-owner")),
    OptSpec::flag("same-owner", None, Some("same-owner")),
    OptSpec::flag("no-same-permissions", None, Some("no-same-permissions")),
    OptSpec::flag("touch", Some('m'), Some("touch")),
    OptSpec::flag("absolute-names", Some('P'), Some("absolute-names")),
    OptSpec::flag("bzip2", Some('j'), Some("bzip2")),
    OptSpec::flag("xz", Some('J'), Some("xz")),
];

/// The spec of `tar` (usage errors exit 2, as GNU tar).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("tar", OPTS, PathOperands::None)
};

crate::register_command!("tar", SPEC, run, true);

mirage_types::command_handler!(fn run = body);

/// The size of a tar block.
const BLOCK: usize = 512;
/// GNU tar's record (blocking factor 20): archives are padded to it.
const RECORD: u64 = 10240;
/// How many archive bytes are gathered before they are sent on.
const FLUSH_AT: usize = 64 * 1024;

/// Options taking a value in the old dashless form (`tar cfC a.tar dir`).
const OLD_VALUE_LETTERS: &str = "fCbTXNgKLV";

/// Rewrites GNU tar's old option form (`czf a.tgz dir`: letters without a
/// dash, their values in the following arguments) into the usual form.
fn expand_old_form(args: &[String]) -> Vec<String> {
    let Some(first) = args.first() else {
        return Vec::new();
    };
    if first.starts_with('-') || first.is_empty() {
        return args.to_vec();
    }
    let mut out = Vec::new();
    let mut rest = args[1..].iter();
    for c in first.chars() {
        out.push(format!("-{c}"));
        if OLD_VALUE_LETTERS.contains(c)
            && let Some(v) = rest.next()
        {
            out.push(v.clone());
        }
    }
    out.extend(rest.cloned());
    out
}

/// GNU tar's error-and-usage tail.
const TRY: &str = "Try 'tar --help' or 'tar --usage' for more information.";

/// Where messages go and whether an error happened.
struct Io<'a> {
    stdout: &'a mut Output,
    stderr: &'a mut Output,
    /// The archive is written to stdout, so `-v` names go to stderr.
    archive_on_stdout: bool,
    errors: bool,
    /// Unsafe prefixes already reported.
    prefixes: HashSet<String>,
}

impl Io<'_> {
    async fn err(&mut self, msg: &str) {
        let _ = self.stderr.write_str(&format!("tar: {msg}\n")).await;
    }
    async fn fail(&mut self, msg: &str) {
        self.errors = true;
        self.err(msg).await;
    }
    async fn verbose(&mut self, line: &str) {
        let to = if self.archive_on_stdout {
            &mut *self.stderr
        } else {
            &mut *self.stdout
        };
        let _ = to.write_str(&format!("{line}\n")).await;
    }
    /// Reports `name`'s unsafe prefix once; returns the safe rest.
    async fn safe_name<'n>(&mut self, name: &'n str) -> &'n str {
        let cut = unsafe_prefix_len(name);
        if cut == 0 {
            return name;
        }
        let prefix = &name[..cut];
        if self.prefixes.insert(prefix.to_string()) {
            self.err(&format!("Removing leading `{prefix}' from member names"))
                .await;
        }
        &name[cut..]
    }
}

/// The length of `name`'s unsafe prefix, as GNU's `safer_name_suffix`:
/// everything up to the last `..` component, then any slashes (so `/a` →
/// 1, `../a` → 3, `a/../../b` → 8).
pub(crate) fn unsafe_prefix_len(name: &str) -> usize {
    let b = name.as_bytes();
    let mut prefix = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' && b.get(i + 1) == Some(&b'.') && matches!(b.get(i + 2), None | Some(b'/'))
        {
            prefix = i + 2;
        }
        // to the start of the next component
        while i < b.len() && b[i] != b'/' {
            i += 1;
        }
        while i < b.len() && b[i] == b'/' {
            i += 1;
        }
    }
    let mut p = prefix;
    while p < b.len() && b[p] == b'/' {
        p += 1;
    }
    p
}

/// Whether `name` has a `..` component.
pub(crate) fn has_dot_dot(name: &str) -> bool {
    name.split('/').any(|c| c == "..")
}

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    ctx.args = expand_old_form(&ctx.args);
    let p = match parse_cmd(ctx, &SPEC) {
        Ok(p) => p,
        Err(e) => {
            if let Some(m) = &e.message {
                let _ = ctx.stderr.write_str(&format!("tar: {m}\n{TRY}\n")).await;
                return Ok(2);
            }
            return Err(e);
        }
    };
    let modes: Vec<&str> = ["create", "extract", "get", "list", "append"]
        .into_iter()
        .filter(|k| p.has(k))
        .collect();
    let mode = match modes.as_slice() {
        [m] => *m,
        [] => {
            let _ = ctx.stderr.write_str(&format!("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n{TRY}\n")).await;
            return Ok(2);
        }
        _ => {
            let _ = ctx.stderr.write_str(&format!("tar: You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option\n{TRY}\n")).await;
            return Ok(2);
        }
    };
    if p.has("bzip2") || p.has("xz") {
        let _ = ctx
            .stderr
            .write_str("tar: only gzip compression (-z) is supported here\n")
            .await;
        return Ok(2);
    }
    let archive = p.value("file").unwrap_or("-").to_string();
    let gz_named =
        archive.ends_with(".tgz") || archive.ends_with(".gz") || archive.ends_with(".taz");
    let gz =
        p.has("gzip") || p.has("gunzip") || p.has("ungzip") || (p.has("auto-compress") && gz_named);
    let base = match p.value("directory") {
        Some(d) => ctx.resolve(d),
        None => ctx.cwd.clone(),
    };
    let strip = match p.value("strip-components").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            let _ = ctx
                .stderr
                .write_str(&format!("tar: Invalid number of elements\n{TRY}\n"))
                .await;
            return Ok(2);
        }
    };
    let excludes = match Excludes::new(&p.values("exclude")) {
        Ok(e) => e,
        Err(m) => {
            let _ = ctx.stderr.write_str(&format!("tar: {m}\n")).await;
            return Ok(2);
        }
    };
    let user = ctx
        .var("USER")
        .filter(|u| !u.is_empty())
        .unwrap_or("root")
        .to_string();
    let vfs = ctx.vfs.clone();
    let archive_abs = (archive != "-").then(|| ctx.resolve(&archive));
    let verbose = p.has("verbose");
    let operands = p.operands.clone();
    let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
    let mut io = Io {
        stdout: &mut ctx.stdout,
        stderr: &mut ctx.stderr,
        archive_on_stdout: archive == "-" && matches!(mode, "create" | "append"),
        errors: false,
        prefixes: HashSet::new(),
    };
    let job = Create {
        vfs: vfs.clone(),
        base: base.clone(),
        archive_abs: archive_abs.clone(),
        excludes,
        verbose,
        user,
    };
    let fatal = match mode {
        "create" | "append" => {
            if operands.is_empty() && mode == "create" {
                io.err(&format!(
                    "Cowardly refusing to create an empty archive\n{TRY}"
                ))
                .await;
                return Ok(2);
            }
            let mut prefix = Bytes::new();
            if mode == "append" {
                if gz {
                    io.err(&format!("Cannot update compressed archives\n{TRY}"))
                        .await;
                    return Ok(2);
                }
                if let Some(abs) = &archive_abs {
                    match vfs.read(abs).await {
                        Ok(src) => match src.collect().await {
                            Ok(b) => {
                                let end = archive_end(&b);
                                prefix = b.slice(..end);
                            }
                            Err(e) => {
                                io.err(&format!("{archive}: Cannot read: {}", e.message()))
                                    .await;
                                return Ok(2);
                            }
                        },
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        Err(e) => {
                            io.err(&format!("{archive}: Cannot open: {}", e.message()))
                                .await;
                            return Ok(2);
                        }
                    }
                }
            }
            let enc = gz.then(|| GzEnc::new(6, None, 0));
            match &archive_abs {
                Some(abs) => {
                    let (w, ok) = write_streamed(&vfs, abs, |tx| async {
                        let w = ArchiveWriter::new(Dest::Chan(tx), enc, prefix);
                        job.run(&mut io, w, &operands).await
                    })
                    .await;
                    match (w, ok) {
                        (Err(e), _) => Some(format!("{archive}: Cannot open: {}", e.message())),
                        (Ok(()), false) => Some(format!("{archive}: Cannot write: Broken pipe")),
                        (Ok(()), true) => None,
                    }
                }
                None => {
                    let w = ArchiveWriter::new(Dest::Stdout, enc, prefix);
                    if job.run(&mut io, w, &operands).await {
                        None
                    } else {
                        return Ok(2);
                    }
                }
            }
        }
        _ => {
            let src = match &archive_abs {
                None => stdin.into_source(),
                Some(abs) => match vfs.stat(abs).await {
                    Ok(st) if st.is_dir() => {
                        io.err(&format!("{archive}: Cannot read: Is a directory\ntar: At beginning of tape, quitting now\ntar: Error is not recoverable: exiting now")).await;
                        return Ok(2);
                    }
                    Ok(_) => match vfs.read(abs).await {
                        Ok(s) => s,
                        Err(e) => {
                            io.err(&format!("{archive}: Cannot open: {}\ntar: Error is not recoverable: exiting now", e.message())).await;
                            return Ok(2);
                        }
                    },
                    Err(e) => {
                        io.err(&format!("{archive}: Cannot open: {}\ntar: Error is not recoverable: exiting now", e.message())).await;
                        return Ok(2);
                    }
                },
            };
            let reader = TarReader::new(src.into_stream(), gz);
            let ex = Extract {
                vfs,
                base,
                list: mode == "list",
                verbose,
                to_stdout: p.has("to-stdout"),
                keep_old: p.has("keep-old-files"),
                strip,
                made_dirs: HashSet::new(),
                excludes: Excludes::new(&p.values("exclude")).unwrap_or(Excludes(Vec::new())),
            };
            ex.run(&mut io, reader, &operands).await
        }
    };
    if let Some(m) = fatal {
        io.err(&format!("{m}\ntar: Error is not recoverable: exiting now"))
            .await;
        return Ok(2);
    }
    if io.errors {
        io.err("Exiting with failure status due to previous errors")
            .await;
        return Ok(2);
    }
    Ok(0)
}

/// The `--exclude` patterns: a name is excluded when it, or any part of
/// it starting after a `/`, matches one (GNU's `--no-anchored
/// --wildcards-match-slash`, its defaults for exclusion).
struct Excludes(Vec<globset::GlobMatcher>);

impl Excludes {
    fn new(pats: &[&str]) -> Result<Self, String> {
        let mut v = Vec::new();
        for p in pats {
            let g = globset::GlobBuilder::new(p.trim_end_matches('/'))
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid exclude pattern '{p}': {e}"))?;
            v.push(g.compile_matcher());
        }
        Ok(Excludes(v))
    }
    fn excluded(&self, name: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let name = name.trim_end_matches('/');
        // any part starting after a `/` (unanchored), and any leading
        // directories of it (GNU's FNM_LEADING_DIR)
        let mut starts = vec![0];
        starts.extend(name.match_indices('/').map(|(i, _)| i + 1));
        let mut ends: Vec<usize> = name.match_indices('/').map(|(i, _)| i).collect();
        ends.push(name.len());
        starts.into_iter().filter(|&s| s < name.len()).any(|s| {
            ends.iter()
                .filter(|&&e| e > s)
                .any(|&e| self.0.iter().any(|m| m.is_match(&name[s..e])))
        })
    }
}

/// Where the archive bytes go.
enum Dest {
    Stdout,
    Chan(ChunkTx),
}

/// Writes archive bytes in 64 KiB pieces, through gzip when asked, and
/// pads the end as GNU does (two zero blocks, then to a 10 KiB record).
struct ArchiveWriter {
    dest: Dest,
    gz: Option<GzEnc>,
    buf: Vec<u8>,
    written: u64,
    broken: bool,
}

impl ArchiveWriter {
    fn new(dest: Dest, gz: Option<GzEnc>, prefix: Bytes) -> Self {
        let written = prefix.len() as u64;
        ArchiveWriter {
            dest,
            gz,
            buf: prefix.to_vec(),
            written,
            broken: false,
        }
    }
    /// Adds `data`; `false` once the reader is gone.
    async fn write(&mut self, io: &mut Io<'_>, data: &[u8]) -> bool {
        self.buf.extend_from_slice(data);
        self.written += data.len() as u64;
        if self.buf.len() >= FLUSH_AT {
            return self.flush(io).await;
        }
        !self.broken
    }
    async fn flush(&mut self, io: &mut Io<'_>) -> bool {
        let raw = std::mem::take(&mut self.buf);
        let data = match &mut self.gz {
            Some(enc) => match enc.push(&raw) {
                Ok(z) => z,
                Err(_) => {
                    self.broken = true;
                    return false;
                }
            },
            None => raw,
        };
        self.send(io, data).await
    }
    async fn send(&mut self, io: &mut Io<'_>, data: Vec<u8>) -> bool {
        if self.broken {
            return false;
        }
        if !data.is_empty() {
            let ok = match &self.dest {
                Dest::Stdout => io.stdout.write_bytes(Bytes::from(data)).await.is_ok(),
                Dest::Chan(tx) => tx.send(Ok(Bytes::from(data))).await.is_ok(),
            };
            self.broken = !ok;
        }
        !self.broken
    }
    /// Ends the archive.
    async fn finish(mut self, io: &mut Io<'_>) -> bool {
        let end = self.written + 2 * BLOCK as u64;
        let padded = end.div_ceil(RECORD) * RECORD;
        let zeros = vec![0u8; usize::try_from(padded - self.written).unwrap_or(0)];
        self.buf.extend_from_slice(&zeros);
        if !self.flush(io).await {
            return false;
        }
        if let Some(enc) = self.gz.take() {
            match enc.finish() {
                Ok(z) => return self.send(io, z).await,
                Err(_) => return false,
            }
        }
        true
    }
}

/// The header block(s) of one member: a GNU `././@LongLink` entry first
/// when the name (or link target) is longer than 100 bytes.
pub(crate) fn header_blocks(
    name: &[u8],
    kind: tar::EntryType,
    size: u64,
    mode: u32,
    mtime: u64,
    link: Option<&[u8]>,
    user: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(BLOCK);
    let long = |out: &mut Vec<u8>, ty: u8, value: &[u8]| {
        let mut h = tar::Header::new_gnu();
        let n = b"././@LongLink";
        h.as_old_mut().name[..n.len()].copy_from_slice(n);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(value.len() as u64 + 1);
        h.set_entry_type(tar::EntryType::new(ty));
        let _ = h.set_username("root");
        let _ = h.set_groupname("root");
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(value);
        let padded = (value.len() + 1).div_ceil(BLOCK) * BLOCK;
        out.resize(out.len() + padded - value.len(), 0);
    };
    if let Some(l) = link
        && l.len() > 100
    {
        long(&mut out, b'K', l);
    }
    if name.len() > 100 {
        long(&mut out, b'L', name);
    }
    let mut h = tar::Header::new_gnu();
    let n = name.len().min(100);
    h.as_old_mut().name[..n].copy_from_slice(&name[..n]);
    if let Some(l) = link {
        let k = l.len().min(100);
        h.as_old_mut().linkname[..k].copy_from_slice(&l[..k]);
    }
    h.set_mode(mode & 0o7777);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(size);
    h.set_entry_type(kind);
    let _ = h.set_username(user);
    let _ = h.set_groupname(user);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out
}

/// The offset where an archive's end-of-archive zero blocks (or its end)
/// start, for `-r`.
fn archive_end(b: &[u8]) -> usize {
    let mut pos = 0;
    while pos + BLOCK <= b.len() {
        let block = &b[pos..pos + BLOCK];
        if block.iter().all(|&x| x == 0) {
            return pos;
        }
        let h = tar::Header::from_byte_slice(block);
        let size = h.entry_size().unwrap_or(0);
        let data =
            usize::try_from(size.div_ceil(BLOCK as u64) * BLOCK as u64).unwrap_or(usize::MAX);
        pos = pos.saturating_add(BLOCK).saturating_add(data);
    }
    pos.min(b.len())
}

/// `tar -c` / `-r`: what to add and how.
struct Create {
    vfs: Arc<dyn Vfs>,
    base: String,
    archive_abs: Option<String>,
    excludes: Excludes,
    verbose: bool,
    user: String,
}

impl Create {
    /// Adds every operand (directories recursively, children in name
    /// order); returns `false` when the archive could not be written.
    async fn run(&self, io: &mut Io<'_>, mut w: ArchiveWriter, operands: &[String]) -> bool {
        // (absolute path, member name, stat), depth first
        let mut stack: Vec<(String, String, Option<mirage_types::FileStat>)> = operands
            .iter()
            .rev()
            .map(|op| (mirage_types::join_path(&self.base, op), op.clone(), None))
            .collect();
        while let Some((abs, name, st)) = stack.pop() {
            if self.excludes.excluded(&name) {
                continue;
            }
            if self.archive_abs.as_deref() == Some(abs.as_str()) {
                io.err(&format!("{name}: file is the archive; not dumped"))
                    .await;
                continue;
            }
            let st = match st {
                Some(st) => st,
                None => match self.vfs.lstat(&abs).await {
                    Ok(st) => st,
                    Err(e) => {
                        io.fail(&format!("{name}: Cannot stat: {}", e.message()))
                            .await;
                        continue;
                    }
                },
            };
            let member = io.safe_name(&name).await.to_string();
            let member = if member.is_empty() {
                ".".to_string()
            } else {
                member
            };
            let mtime = st
                .modified
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            match st.file_type {
                FileType::Directory => {
                    let dname = if member.ends_with('/') {
                        member.clone()
                    } else {
                        format!("{member}/")
                    };
                    let h = header_blocks(
                        &bytestr::encode(&dname),
                        tar::EntryType::Directory,
                        0,
                        st.mode.unwrap_or(0o755),
                        mtime,
                        None,
                        &self.user,
                    );
                    if !w.write(io, &h).await {
                        return false;
                    }
                    if self.verbose {
                        io.verbose(&dname).await;
                    }
                    let mut kids = match self.vfs.readdir(&abs).await {
                        Ok(k) => k,
                        Err(e) => {
                            io.fail(&format!("{name}: Cannot open: {}", e.message()))
                                .await;
                            continue;
                        }
                    };
                    // GNU creates the archive before reading the tree, so
                    // it meets it there (the router shows it once written)
                    if let Some(arch) = &self.archive_abs
                        && arch
                            .rsplit_once('/')
                            .map(|(d, _)| if d.is_empty() { "/" } else { d })
                            == Some(abs.as_str())
                    {
                        let base = arch.rsplit('/').next().unwrap_or_default();
                        if !kids.iter().any(|k| k.name == base) {
                            kids.push(mirage_types::FileStat::file(base, 0));
                        }
                    }
                    kids.sort_by(|a, b| a.name.cmp(&b.name));
                    let prefix = if name.ends_with('/') {
                        name.clone()
                    } else {
                        format!("{name}/")
                    };
                    for k in kids.into_iter().rev() {
                        let kname = format!("{prefix}{}", k.name);
                        let kabs = child_path(&abs, &k.name);
                        stack.push((kabs, kname, Some(k)));
                    }
                }
                FileType::Symlink => {
                    let target = match self.vfs.readlink(&abs).await {
                        Ok(t) => t,
                        Err(e) => {
                            io.fail(&format!("{name}: Cannot readlink: {}", e.message()))
                                .await;
                            continue;
                        }
                    };
                    let h = header_blocks(
                        &bytestr::encode(&member),
                        tar::EntryType::Symlink,
                        0,
                        st.mode.unwrap_or(0o777),
                        mtime,
                        Some(&bytestr::encode(&target)),
                        &self.user,
                    );
                    if !w.write(io, &h).await {
                        return false;
                    }
                    if self.verbose {
                        io.verbose(&member).await;
                    }
                }
                _ => {
                    if !self
                        .add_file(io, &mut w, &abs, &name, &member, &st, mtime)
                        .await
                    {
                        return false;
                    }
                }
            }
        }
        w.finish(io).await
    }

    /// Adds one regular file, streaming its bytes.
    #[allow(clippy::too_many_arguments)]
    async fn add_file(
        &self,
        io: &mut Io<'_>,
        w: &mut ArchiveWriter,
        abs: &str,
        name: &str,
        member: &str,
        st: &mirage_types::FileStat,
        mtime: u64,
    ) -> bool {
        let src = match self.vfs.read(abs).await {
            Ok(s) => s,
            Err(e) => {
                io.fail(&format!("{name}: Cannot open: {}", e.message()))
                    .await;
                return true;
            }
        };
        let size = st.size;
        let h = header_blocks(
            &bytestr::encode(member),
            tar::EntryType::Regular,
            size,
            st.mode.unwrap_or(0o644),
            mtime,
            None,
            &self.user,
        );
        if !w.write(io, &h).await {
            return false;
        }
        if self.verbose {
            io.verbose(member).await;
        }
        let mut left = size;
        let mut stream = src.into_stream();
        let mut read_failed = false;
        while left > 0 {
            let Some(chunk) = stream.next().await else {
                break;
            };
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    io.fail(&format!("{name}: Read error: {}", e.message()))
                        .await;
                    read_failed = true;
                    break;
                }
            };
            let take = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
            if !w.write(io, &chunk[..take]).await {
                return false;
            }
            left -= take as u64;
        }
        if left > 0 {
            if !read_failed {
                io.fail(&format!(
                    "{name}: File shrank by {left} bytes; padding with zeros"
                ))
                .await;
            }
            let zeros = vec![0u8; 64 * 1024];
            while left > 0 {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(zeros.len());
                if !w.write(io, &zeros[..n]).await {
                    return false;
                }
                left -= n as u64;
            }
        }
        let pad = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
        w.write(io, &vec![0u8; pad]).await
    }
}

/// Why reading an archive stopped.
#[derive(Debug)]
enum ReadErr {
    /// The gzip layer failed.
    Gz(GzError),
    /// The router failed to read.
    Read(String),
    /// The archive ends inside a member.
    Eof,
}

/// Reads blocks from a (possibly gzip-compressed) archive stream.
struct TarReader {
    stream: ByteStream,
    dec: Option<GzDec>,
    /// Whether gzip must be detected from the first bytes.
    detect: bool,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl TarReader {
    fn new(stream: ByteStream, gz: bool) -> Self {
        TarReader {
            stream,
            dec: gz.then(GzDec::new),
            detect: !gz,
            buf: Vec::new(),
            pos: 0,
            done: false,
        }
    }
    fn available(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Reads one more chunk into the buffer; `false` at the end.
    async fn fill(&mut self) -> Result<bool, ReadErr> {
        if self.done {
            return Ok(false);
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        match self.stream.next().await {
            Some(Ok(chunk)) => {
                if self.detect {
                    self.detect = false;
                    if chunk.len() >= 2 && chunk[..2] == [0x1f, 0x8b] {
                        self.dec = Some(GzDec::new());
                    }
                }
                match &mut self.dec {
                    Some(d) => {
                        let plain = d.push(&chunk).map_err(ReadErr::Gz)?;
                        self.buf.extend_from_slice(&plain);
                    }
                    None => self.buf.extend_from_slice(&chunk),
                }
                Ok(true)
            }
            Some(Err(e)) => Err(ReadErr::Read(e.message().to_string())),
            None => {
                self.done = true;
                if let Some(d) = self.dec.take() {
                    let plain = d.finish().map_err(ReadErr::Gz)?;
                    self.buf.extend_from_slice(&plain);
                }
                Ok(!self.buf.is_empty())
            }
        }
    }
    /// The next `n` bytes; `None` at a clean end (nothing left).
    async fn take(&mut self, n: usize) -> Result<Option<Vec<u8>>, ReadErr> {
        while self.available() < n {
            if !self.fill().await? {
                if self.available() == 0 {
                    return Ok(None);
                }
                return Err(ReadErr::Eof);
            }
            if self.done && self.available() < n {
                if self.available() == 0 {
                    return Ok(None);
                }
                return Err(ReadErr::Eof);
            }
        }
        let v = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(Some(v))
    }
    /// Up to `left` (more than 0) of the next bytes of a member's data.
    async fn piece(&mut self, left: u64) -> Result<Bytes, ReadErr> {
        loop {
            if self.available() == 0 && !self.fill().await? {
                return Err(ReadErr::Eof);
            }
            let k = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.available());
            if k > 0 {
                let piece = Bytes::copy_from_slice(&self.buf[self.pos..self.pos + k]);
                self.pos += k;
                return Ok(piece);
            }
            if self.done {
                return Err(ReadErr::Eof);
            }
        }
    }
    /// Skips the padding after `n` bytes of member data.
    async fn skip_pad(&mut self, n: u64) -> Result<(), ReadErr> {
        let pad = (BLOCK as u64 - n % BLOCK as u64) % BLOCK as u64;
        if pad > 0
            && self
                .take(usize::try_from(pad).unwrap_or(0))
                .await?
                .is_none()
        {
            return Err(ReadErr::Eof);
        }
        Ok(())
    }
    /// Skips a member's `n` bytes of data and their padding.
    async fn skip(&mut self, n: u64) -> Result<(), ReadErr> {
        let mut left = n;
        while left > 0 {
            if self.available() == 0 && !self.fill().await? {
                return Err(ReadErr::Eof);
            }
            let k = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.available());
            if k == 0 && self.done {
                return Err(ReadErr::Eof);
            }
            self.pos += k;
            left -= k as u64;
        }
        self.skip_pad(n).await
    }
}

/// One member's header, decoded.
struct Member {
    name: String,
    kind: tar::EntryType,
    size: u64,
    mode: u32,
    mtime: u64,
    link: Option<String>,
    owner: String,
}

/// `tar -t` / `-x`.
struct Extract {
    vfs: Arc<dyn Vfs>,
    base: String,
    list: bool,
    verbose: bool,
    to_stdout: bool,
    keep_old: bool,
    strip: usize,
    made_dirs: HashSet<String>,
    /// `--exclude` applies to reading too, as GNU's.
    excludes: Excludes,
}

/// Whether `header`'s checksum is right (as unsigned bytes, the checksum
/// field counted as spaces).
fn checksum_ok(block: &[u8]) -> bool {
    let h = tar::Header::from_byte_slice(block);
    let Ok(want) = h.cksum() else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == want
}

/// The bytes of `v` up to the first NUL.
fn until_nul(v: &[u8]) -> &[u8] {
    v.iter().position(|&b| b == 0).map_or(v, |i| &v[..i])
}

/// The `path` and `linkpath` records of a pax extended header.
fn pax_records(data: &[u8]) -> (Option<String>, Option<String>, Option<u64>) {
    let (mut path, mut link, mut size) = (None, None, None);
    let mut rest = data;
    while !rest.is_empty() {
        let Some(sp) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if len <= sp || len > rest.len() {
            break;
        }
        let rec = &rest[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&b| b == b'=') {
            let (k, v) = (&rec[..eq], &rec[eq + 1..]);
            match k {
                b"path" => path = Some(bytestr::decode(v).into_owned()),
                b"linkpath" => link = Some(bytestr::decode(v).into_owned()),
                b"size" => size = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()),
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    (path, link, size)
}

impl Extract {
    /// Reads the archive; returns a fatal message (the run then ends with
    /// `Error is not recoverable`) if there is one.
    async fn run(
        mut self,
        io: &mut Io<'_>,
        mut r: TarReader,
        operands: &[String],
    ) -> Option<String> {
        let mut matched: BTreeSet<usize> = BTreeSet::new();
        let mut first = true;
        let (mut long_name, mut long_link) = (None::<String>, None::<String>);
        let (mut pax_path, mut pax_link, mut pax_size) = (None, None, None);
        loop {
            let block = match r.take(BLOCK).await {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(ReadErr::Eof) if first => {
                    io.fail("This does not look like a tar archive").await;
                    break;
                }
                Err(e) => return self.read_error(io, e).await,
            };
            if block.iter().all(|&b| b == 0) {
                break;
            }
            if !checksum_ok(&block) {
                if first {
                    io.fail("This does not look like a tar archive").await;
                } else {
                    io.fail("Skipping to next header").await;
                }
                break;
            }
            first = false;
            let h = tar::Header::from_byte_slice(&block);
            let kind = h.entry_type();
            let size = pax_size
                .take()
                .unwrap_or_else(|| h.entry_size().unwrap_or(0));
            let padded = usize::try_from(size.div_ceil(BLOCK as u64) * BLOCK as u64).unwrap_or(0);
            match kind.as_byte() {
                b'L' | b'K' | b'x' | b'g' => {
                    let data = match r.take(padded).await {
                        Ok(Some(d)) => d,
                        Ok(None) => return self.read_error(io, ReadErr::Eof).await,
                        Err(e) => return self.read_error(io, e).await,
                    };
                    let data = &data[..usize::try_from(size).unwrap_or(0).min(data.len())];
                    match kind.as_byte() {
                        b'L' => long_name = Some(bytestr::decode(until_nul(data)).into_owned()),
                        b'K' => long_link = Some(bytestr::decode(until_nul(data)).into_owned()),
                        b'x' => {
                            let (p, l, s) = pax_records(data);
                            pax_path = p;
                            pax_link = l;
                            pax_size = s;
                        }
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
            let name = pax_path
                .take()
                .or_else(|| long_name.take())
                .unwrap_or_else(|| bytestr::decode(&h.path_bytes()).into_owned());
            let link = pax_link.take().or_else(|| long_link.take()).or_else(|| {
                h.link_name_bytes()
                    .map(|l| bytestr::decode(&l).into_owned())
            });
            let owner = format!(
                "{}/{}",
                bytestr::decode(h.username_bytes().unwrap_or(b"")),
                bytestr::decode(h.groupname_bytes().unwrap_or(b""))
            );
            let m = Member {
                name,
                kind,
                size: if kind.is_dir() || kind.is_symlink() || kind.is_hard_link() {
                    0
                } else {
                    size
                },
                mode: h.mode().unwrap_or(0o644),
                mtime: h.mtime().unwrap_or(0),
                link,
                owner,
            };
            let wanted = !self.excludes.excluded(&m.name)
                && (operands.is_empty() || {
                    let hit = operands.iter().position(|op| member_matches(&m.name, op));
                    if let Some(i) = hit {
                        matched.insert(i);
                    }
                    hit.is_some()
                });
            let data_size = m.size;
            let res = if !wanted {
                r.skip(data_size).await
            } else if self.list {
                io.safe_name(&m.name).await;
                let line = if self.verbose {
                    long_listing(&m, &mut io.prefixes)
                } else {
                    m.name.clone()
                };
                let _ = io.stdout.write_str(&format!("{line}\n")).await;
                r.skip(data_size).await
            } else {
                self.extract(io, &mut r, &m).await
            };
            if let Err(e) = res {
                return self.read_error(io, e).await;
            }
        }
        for (i, op) in operands.iter().enumerate() {
            if !matched.contains(&i) {
                io.fail(&format!("{op}: Not found in archive")).await;
            }
        }
        None
    }

    async fn read_error(&self, io: &mut Io<'_>, e: ReadErr) -> Option<String> {
        match e {
            ReadErr::Gz(g) => {
                let _ = io
                    .stderr
                    .write_str(&format!("\ngzip: stdin: {}\n", g.message()))
                    .await;
                Some("Child returned status 1".to_string())
            }
            ReadErr::Read(m) => Some(format!("Read error: {m}")),
            ReadErr::Eof => Some("Unexpected EOF in archive".to_string()),
        }
    }

    /// Extracts one member, consuming its data.
    async fn extract(
        &mut self,
        io: &mut Io<'_>,
        r: &mut TarReader,
        m: &Member,
    ) -> Result<(), ReadErr> {
        let raw = m.name.as_str();
        let rel = io.safe_name(raw).await.to_string();
        if has_dot_dot(raw) {
            io.fail(&format!("{raw}: Member name contains '..'")).await;
            return r.skip(m.size).await;
        }
        let mut comps: Vec<&str> = rel
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        if self.strip > 0 {
            if comps.len() <= self.strip {
                return r.skip(m.size).await;
            }
            comps.drain(..self.strip);
        }
        if comps.is_empty() && !m.kind.is_dir() {
            return r.skip(m.size).await;
        }
        let dest = comps
            .iter()
            .fold(self.base.clone(), |acc, c| child_path(&acc, c));
        if self.verbose {
            io.verbose(raw).await;
        }
        if self.to_stdout {
            if m.kind.is_file() || m.kind.as_byte() == 0 || m.kind.is_contiguous() {
                let mut left = m.size;
                let mut ok = true;
                while left > 0 {
                    let b = r.piece(left).await?;
                    left -= b.len() as u64;
                    if ok {
                        ok = io.stdout.write_bytes(b).await.is_ok();
                    }
                }
                r.skip_pad(m.size).await?;
                return Ok(());
            }
            return r.skip(m.size).await;
        }
        if m.kind.is_dir() {
            if !self.made_dirs.contains(&dest) {
                if let Err(e) = self.vfs.mkdir(&dest, true).await
                    && e.kind != ErrorKind::AlreadyExists
                {
                    io.fail(&format!("{raw}: Cannot mkdir: {}", e.message()))
                        .await;
                }
                self.made_dirs.insert(dest);
            }
            return Ok(());
        }
        if let Some(parent) = dest
            .rsplit_once('/')
            .map(|(p, _)| if p.is_empty() { "/" } else { p })
            && !self.made_dirs.contains(parent)
        {
            let parent = parent.to_string();
            if let Err(e) = self.vfs.mkdir(&parent, true).await
                && e.kind != ErrorKind::AlreadyExists
            {
                io.fail(&format!("{raw}: Cannot open: {}", e.message()))
                    .await;
                return r.skip(m.size).await;
            }
            self.made_dirs.insert(parent);
        }
        if self.keep_old && self.vfs.lstat(&dest).await.is_ok() {
            io.fail(&format!("{raw}: Cannot open: File exists")).await;
            return r.skip(m.size).await;
        }
        if m.kind.is_symlink() {
            let target = m.link.clone().unwrap_or_default();
            if self.vfs.lstat(&dest).await.is_ok() {
                let _ = self.vfs.unlink(&dest).await;
            }
            if let Err(e) = self.vfs.symlink(&target, &dest).await {
                io.fail(&format!(
                    "{raw}: Cannot create symlink to '{target}': {}",
                    e.message()
                ))
                .await;
            }
            return r.skip(m.size).await;
        }
        if m.kind.is_hard_link() {
            let target = m.link.clone().unwrap_or_default();
            let tcomps: Vec<&str> = target
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            let tabs = tcomps
                .iter()
                .fold(self.base.clone(), |acc, c| child_path(&acc, c));
            let copied = match self.vfs.read(&tabs).await {
                Ok(src) => self.vfs.write(&dest, src).await,
                Err(e) => Err(e),
            };
            if let Err(e) = copied {
                io.fail(&format!(
                    "{raw}: Cannot hard link to '{target}': {}",
                    e.message()
                ))
                .await;
            }
            return r.skip(m.size).await;
        }
        if !(m.kind.is_file() || m.kind.as_byte() == 0 || m.kind.is_contiguous()) {
            io.err(&format!("{raw}: Unknown file type; file ignored"))
                .await;
            return r.skip(m.size).await;
        }
        let vfs = self.vfs.clone();
        let size = m.size;
        let (w, res) = write_streamed(&vfs, &dest, |tx: ChunkTx| async move {
            let mut left = size;
            let mut ok = true;
            while left > 0 {
                let b = match r.piece(left).await {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = tx.send(Err(Error::msg(ErrorKind::Io, "truncated"))).await;
                        return Err(e);
                    }
                };
                left -= b.len() as u64;
                if ok {
                    ok = tx.send(Ok(b)).await.is_ok();
                }
            }
            drop(tx);
            r.skip_pad(size).await
        })
        .await;
        res?;
        match w {
            Err(e) => {
                io.fail(&format!("{raw}: Cannot open: {}", e.message()))
                    .await;
            }
            Ok(()) => {
                if m.mode & 0o111 != 0 {
                    let _ = self.vfs.chmod(&dest, m.mode & 0o7777).await;
                }
            }
        }
        Ok(())
    }
}

/// Whether member `name` is selected by operand `op` (the member itself
/// or something under it).
fn member_matches(name: &str, op: &str) -> bool {
    let n = name.trim_end_matches('/');
    let o = op.trim_end_matches('/');
    n == o || n.strip_prefix(o).is_some_and(|rest| rest.starts_with('/'))
}

/// GNU tar's `-tv` line: mode, owner/group and size padded to a width
/// that only grows (starting at 19), date, name (and link target).
fn long_listing(m: &Member, _seen: &mut HashSet<String>) -> String {
    thread_local! {
        static UGSWIDTH: std::cell::Cell<usize> = const { std::cell::Cell::new(19) };
    }
    let type_char = match m.kind.as_byte() {
        b'5' => 'd',
        b'2' => 'l',
        b'1' => 'h',
        b'3' => 'c',
        b'4' => 'b',
        b'6' => 'p',
        _ => '-',
    };
    let type_char = if type_char == 'h' { '-' } else { type_char };
    let mode = mode_string(type_char, m.mode);
    let size = m.size.to_string();
    let pad = m.owner.len() + 1 + size.len();
    let width = UGSWIDTH.with(|w| {
        if pad > w.get() {
            w.set(pad);
        }
        w.get()
    });
    let field = width - pad + size.len();
    let mut line = format!(
        "{mode} {} {size:>field$} {} {}",
        m.owner,
        date_string(m.mtime),
        m.name
    );
    if m.kind.is_symlink() {
        line.push_str(&format!(" -> {}", m.link.clone().unwrap_or_default()));
    } else if m.kind.is_hard_link() {
        line.push_str(&format!(" link to {}", m.link.clone().unwrap_or_default()));
    }
    line
}

/// `-rw-r--r--` for `mode`.
fn mode_string(type_char: char, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(type_char);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        s.push(match (set, special, i) {
            (true, true, 8) => 't',
            (false, true, 8) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => *c,
            (false, false, _) => '-',
        });
    }
    s
}

/// `YYYY-MM-DD HH:MM` in UTC for `secs` since the epoch.
fn date_string(secs: u64) -> String {
    let days = i64::try_from(secs / 86400).unwrap_or(0);
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_prefixes_as_gnu() {
        assert_eq!(unsafe_prefix_len("/abs.txt"), 1);
        assert_eq!(unsafe_prefix_len("../evil.txt"), 3);
        assert_eq!(unsafe_prefix_len("a/../../b.txt"), 8);
        assert_eq!(unsafe_prefix_len("ok/..x/y"), 0);
        assert_eq!(unsafe_prefix_len("ok.txt"), 0);
        assert!(has_dot_dot("a/../b"));
        assert!(!has_dot_dot("a/..b"));
    }

    #[test]
    fn old_form_and_matching() {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
        assert_eq!(
            expand_old_form(&v(&["cfC", "a.tar", "dir", "."])),
            v(&["-c", "-f", "a.tar", "-C", "dir", "."])
        );
        assert!(member_matches("src/b.txt", "src"));
        assert!(member_matches("src/", "src"));
        assert!(!member_matches("srcx/b", "src"));
        let e = Excludes::new(&["*/sub", "b.txt"]).unwrap();
        assert!(e.excluded("src/sub/"));
        assert!(e.excluded("src/b.txt"));
        assert!(!e.excluded("src/a.txt"));
    }

    #[test]
    fn dates_and_modes() {
        assert_eq!(date_string(0), "1970-01-01 00:00");
        assert_eq!(date_string(1_705_312_801), "2024-01-15 10:00");
        assert_eq!(mode_string('-', 0o644), "-rw-r--r--");
        assert_eq!(mode_string('d', 0o1777), "drwxrwxrwt");
    }

    /// An archive holding members with unsafe names, as GNU tar 1.34 was
    /// tested with (built by Python's tarfile in GNU format).
    fn evil_archive() -> String {
        let mut a = Vec::new();
        for n in ["../evil.txt", "/abs.txt", "ok.txt", "a/../../b.txt"] {
            a.extend(header_blocks(
                n.as_bytes(),
                tar::EntryType::Regular,
                2,
                0o644,
                0,
                None,
                "root",
            ));
            a.extend_from_slice(b"x\n");
            a.resize(a.len() + 510, 0);
        }
        a.resize(10240, 0);
        String::from_utf8(a).unwrap()
    }

    #[test]
    fn refuses_dot_dot_and_strips_absolute_members_as_gnu() {
        use crate::util::testing::{MemVfs, run as run_cmd};
        let evil = evil_archive();
        let v = MemVfs::with(&[("/d/evil.tar", evil.as_str()), ("/out/", "")]);
        let (out, err, status) =
            run_cmd(&v, run, "tar", &["-xf", "evil.tar", "-C", "/out"], "/d", "");
        assert_eq!(out, "");
        assert_eq!(
            err,
            "tar: Removing leading `../' from member names\n\
             tar: ../evil.txt: Member name contains '..'\n\
             tar: Removing leading `/' from member names\n\
             tar: Removing leading `a/../../' from member names\n\
             tar: a/../../b.txt: Member name contains '..'\n\
             tar: Exiting with failure status due to previous errors\n"
        );
        assert_eq!(status, 2);
        let t = v.tree.lock().unwrap();
        assert!(t.contains_key("/out/ok.txt"));
        assert!(t.contains_key("/out/abs.txt"));
        for bad in [
            "/evil.txt",
            "/out/evil.txt",
            "/b.txt",
            "/out/b.txt",
            "/d/b.txt",
            "/abs.txt",
        ] {
            assert!(!t.contains_key(bad), "{bad} was written");
        }
        drop(t);
        // listing shows the stored names, reports the prefixes, succeeds
        let (out, err, status) = run_cmd(&v, run, "tar", &["-tf", "/d/evil.tar"], "/", "");
        assert_eq!(out, "../evil.txt\n/abs.txt\nok.txt\na/../../b.txt\n");
        assert_eq!(err.lines().count(), 3);
        assert_eq!(status, 0);
    }

    #[test]
    fn create_streams_the_archive_in_bounded_pieces() {
        use crate::util::testing::MemVfs;
        use mirage_types::{ByteSource, IOResult, Input, Output, Sink};
        // 4 MB that gzip cannot shrink much (an LCG's letters)
        let mut x: u64 = 12345;
        let big: String = (0..4_000_000)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                char::from(b'a' + ((x >> 33) % 26) as u8)
            })
            .collect();
        let v = MemVfs::with(&[("/d/big.txt", big.as_str()), ("/d/small.txt", "hi\n")]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (pieces, max, total, status) = rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(1);
            let (err_sink, _err) = Sink::capture();
            let mut ctx = CommandCtx {
                name: "tar".into(),
                args: ["-czf", "-", "d"]
                    .iter()
                    .map(|s| (*s).to_string())
                    .collect(),
                cwd: "/".into(),
                env: Default::default(),
                vfs: v.clone(),
                stdin: Input::from_source(ByteSource::empty()),
                stdout: Output::new(Sink::Pipe(tx)),
                stderr: Output::new(err_sink),
                io: IOResult::default(),
                mount: None,
                runner: None,
                net: None,
            };
            let reader = async {
                let (mut n, mut max, mut total) = (0usize, 0usize, 0usize);
                let mut head = Vec::new();
                while let Some(b) = rx.recv().await {
                    n += 1;
                    max = max.max(b.len());
                    total += b.len();
                    if head.len() < 2 {
                        head.extend_from_slice(&b[..b.len().min(2)]);
                    }
                }
                assert_eq!(&head[..2], &[0x1f, 0x8b]);
                (n, max, total)
            };
            let writer = async {
                let s = run(&mut ctx).await;
                let _ = ctx.stdout.flush().await;
                drop(ctx);
                s
            };
            let ((n, max, total), s) = tokio::join!(reader, writer);
            (n, max, total, s)
        });
        assert_eq!(status, 0);
        assert!(total > 2_000_000, "{total}");
        // the archive went out as it was made: many pieces, none large
        assert!(pieces >= 20, "{pieces} pieces");
        assert!(max <= 256 * 1024, "a piece of {max} bytes");
    }

    /// Runs `tar ARGS` over a tree holding the fixture archives (made by
    /// GNU tar 1.34: `gnu.tgz` in its default format, `pax.tgz` with
    /// `--format=pax`, both with a 120-byte directory name and a symlink).
    fn with_fixtures(
        args: &[&str],
    ) -> (
        String,
        String,
        i32,
        std::sync::Arc<crate::util::testing::MemVfs>,
    ) {
        use crate::util::testing::{MemVfs, run as run_cmd};
        use mirage_types::{ByteSource, Vfs};
        let v = MemVfs::with(&[("/d/", ""), ("/x/", "")]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (name, bytes) in [
            (
                "/d/gnu.tgz",
                &include_bytes!("../../../../fixtures/archive/gnu.tgz")[..],
            ),
            (
                "/d/pax.tgz",
                &include_bytes!("../../../../fixtures/archive/pax.tgz")[..],
            ),
        ] {
            rt.block_on(v.router().write(name, ByteSource::from(bytes.to_vec())))
                .unwrap();
        }
        let (o, e, s) = run_cmd(&v, run, "tar", args, "/d", "");
        (o, e, s, v)
    }

    #[test]
    fn reads_gnu_and_pax_archives_of_gnu_tar() {
        let want = include_str!("../../../../fixtures/archive/gnu.tgz.tv");
        let (out, err, status, _) = with_fixtures(&["-tvzf", "gnu.tgz"]);
        assert_eq!((out.as_str(), err.as_str(), status), (want, "", 0));
        // gzip is recognised without -z, as GNU tar does
        let (out, _, status, _) = with_fixtures(&["-tvf", "pax.tgz"]);
        assert_eq!((out.as_str(), status), (want, 0));
        let long = format!("/x/src/{}/file-with-a-long-name-too.txt", "n".repeat(120));
        for a in ["gnu.tgz", "pax.tgz"] {
            let (_, _, _, v) = with_fixtures(&["-xf", a, "-C", "/x"]);
            let t = v.tree.lock().unwrap();
            assert_eq!(
                t.get(&long).cloned().flatten().as_deref(),
                Some(&b"deep\n"[..]),
                "{a}"
            );
            assert_eq!(
                t.get("/x/src/top.txt").cloned().flatten().as_deref(),
                Some(&b"top\n"[..])
            );
        }
    }

    #[test]
    fn long_names_round_trip() {
        use crate::util::testing::{MemVfs, run as run_cmd};
        let long = format!("/d/src/{}/{}.txt", "a".repeat(110), "b".repeat(90));
        let v = MemVfs::with(&[(long.as_str(), "x\n")]);
        assert_eq!(
            run_cmd(&v, run, "tar", &["-cf", "a.tar", "src"], "/d", "").2,
            0
        );
        let (out, _, s) = run_cmd(&v, run, "tar", &["-tf", "a.tar"], "/d", "");
        assert_eq!(s, 0);
        let names: Vec<&str> = out.lines().collect();
        assert_eq!(names.len(), 3);
        assert_eq!(names[2], &long[3..]);
    }
}
