//! The checksum commands: `md5sum`, `sha1sum`, `sha224sum`, `sha256sum`,
//! `sha384sum`, `sha512sum` as GNU coreutils 9.1 has them, `md5` as BSD
//! and macOS have it (seed 001 names it), and `cksum` (POSIX CRC).
//!
//! The `*sum` commands print `HASH  NAME` (`HASH *NAME` with `-b`,
//! `ALGO (NAME) = HASH` with `--tag`, NUL-ended with `-z`); a name holding
//! a backslash or newline is escaped and the line starts with `\`, as GNU
//! does. `-c` reads checksum lines (both layouts, the `\` escape, `#`
//! comments) and prints `NAME: OK` / `NAME: FAILED` /
//! `NAME: FAILED open or read`, then GNU's `WARNING: …` summary lines;
//! `--quiet`, `--status`, `--strict`, `-w` and `--ignore-missing` behave as
//! GNU's. Hashing streams: a file is fed to the digest chunk by chunk, so a
//! 50 MB file is never held whole.
//!
//! Digests come from the RustCrypto crates (`md-5`, `sha1`, `sha2`).

use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, ParsedArgs, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};
use sha2::Digest;

use crate::util::{RecordReader, open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("binary", Some('b'), Some("binary")),
    OptSpec::flag("check", Some('c'), Some("check")),
    OptSpec::flag("tag", None, Some("tag")),
    OptSpec::flag("text", Some('t'), Some("text")),
    OptSpec::flag("zero", Some('z'), Some("zero")),
    OptSpec::flag("ignore-missing", None, Some("ignore-missing")),
    OptSpec::flag("quiet", None, Some("quiet")),
    OptSpec::flag("status", None, Some("status")),
    OptSpec::flag("strict", None, Some("strict")),
    OptSpec::flag("warn", Some('w'), Some("warn")),
];

/// The spec of `md5sum`.
pub static MD5SUM_SPEC: CommandSpec = CommandSpec::new("md5sum", OPTS, PathOperands::All);
/// The spec of `sha1sum`.
pub static SHA1SUM_SPEC: CommandSpec = CommandSpec::new("sha1sum", OPTS, PathOperands::All);
/// The spec of `sha224sum`.
pub static SHA224SUM_SPEC: CommandSpec = CommandSpec::new("sha224sum", OPTS, PathOperands::All);
/// The spec of `sha256sum`.
pub static SHA256SUM_SPEC: CommandSpec = CommandSpec::new("sha256sum", OPTS, PathOperands::All);
/// The spec of `sha384sum`.
pub static SHA384SUM_SPEC: CommandSpec = CommandSpec::new("sha384sum", OPTS, PathOperands::All);
/// The spec of `sha512sum`.
pub static SHA512SUM_SPEC: CommandSpec = CommandSpec::new("sha512sum", OPTS, PathOperands::All);

crate::register_command!("md5sum", MD5SUM_SPEC, run_md5sum);
crate::register_command!("sha1sum", SHA1SUM_SPEC, run_sha1sum);
crate::register_command!("sha224sum", SHA224SUM_SPEC, run_sha224sum);
crate::register_command!("sha256sum", SHA256SUM_SPEC, run_sha256sum);
crate::register_command!("sha384sum", SHA384SUM_SPEC, run_sha384sum);
crate::register_command!("sha512sum", SHA512SUM_SPEC, run_sha512sum);

const MD5_OPTS: &[OptSpec] = &[
    OptSpec::flag("quiet", Some('q'), None),
    OptSpec::flag("reverse", Some('r'), None),
    OptSpec::value("string", Some('s'), None),
];

/// The spec of BSD `md5` (`-q` hash only, `-r` `HASH NAME`, `-s STRING`).
pub static MD5_SPEC: CommandSpec = CommandSpec::new("md5", MD5_OPTS, PathOperands::All);

crate::register_command!("md5", MD5_SPEC, run_md5);

/// The spec of `cksum`: POSIX CRC and byte count, as coreutils 9.1 `cksum`
/// prints them without `-a`.
pub static CKSUM_SPEC: CommandSpec = CommandSpec::new("cksum", &[], PathOperands::All);

crate::register_command!("cksum", CKSUM_SPEC, run_cksum);

/// A digest algorithm of the `*sum` family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    /// MD5 (128 bits).
    Md5,
    /// SHA-1 (160 bits).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algo {
    /// The name in `--tag` lines and messages (`MD5`, `SHA256`).
    pub fn tag(self) -> &'static str {
        match self {
            Algo::Md5 => "MD5",
            Algo::Sha1 => "SHA1",
            Algo::Sha224 => "SHA224",
            Algo::Sha256 => "SHA256",
            Algo::Sha384 => "SHA384",
            Algo::Sha512 => "SHA512",
        }
    }
    /// The digest length in hex digits.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Md5 => 32,
            Algo::Sha1 => 40,
            Algo::Sha224 => 56,
            Algo::Sha256 => 64,
            Algo::Sha384 => 96,
            Algo::Sha512 => 128,
        }
    }
    /// A fresh hasher.
    pub fn hasher(self) -> Hasher {
        match self {
            Algo::Md5 => Hasher::Md5(md5::Md5::new()),
            Algo::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algo::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            Algo::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algo::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Algo::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
}

/// A running digest of one [`Algo`].
pub enum Hasher {
    /// MD5.
    Md5(md5::Md5),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-224.
    Sha224(sha2::Sha224),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    /// The digest as lowercase hex.
    pub fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        let mut s = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// Hashes all of `src` chunk by chunk; the error is the read error.
async fn hash_source(algo: Algo, src: ByteSource) -> mirage_types::Result<String> {
    let mut h = algo.hasher();
    let mut stream = src.into_stream();
    while let Some(chunk) = stream.next().await {
        h.update(&chunk?);
    }
    Ok(h.hex())
}

/// `name` as GNU's `quotef` shows a file name in a diagnostic: as it is
/// when it needs no shell quoting, else in single quotes (`'standard input'`).
fn quotef(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-+,:@%^=".contains(&b) || b >= 0x80);
    if plain {
        name.to_string()
    } else {
        crate::util::quoteaf(name)
    }
}

/// `name` escaped as GNU's sum output does when it holds `\` or a newline:
/// `(escaped, true)`, the caller prefixing the line with `\`.
fn escape_name(name: &str, escape_backslash: bool) -> (String, bool) {
    let needs = name.contains('\n') || (escape_backslash && name.contains('\\'));
    if !needs {
        return (name.to_string(), false);
    }
    (name.replace('\\', "\\\\").replace('\n', "\\n"), true)
}

mirage_types::command_handler!(fn run_md5sum = body_md5sum);
mirage_types::command_handler!(fn run_sha1sum = body_sha1sum);
mirage_types::command_handler!(fn run_sha224sum = body_sha224sum);
mirage_types::command_handler!(fn run_sha256sum = body_sha256sum);
mirage_types::command_handler!(fn run_sha384sum = body_sha384sum);
mirage_types::command_handler!(fn run_sha512sum = body_sha512sum);

async fn body_md5sum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    sum_main(ctx, &MD5SUM_SPEC, Algo::Md5).await
}
async fn body_sha1sum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    sum_main(ctx, &SHA1SUM_SPEC, Algo::Sha1).await
}
async fn body_sha224sum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    sum_main(ctx, &SHA224SUM_SPEC, Algo::Sha224).await
}
async fn body_sha256sum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    sum_main(ctx, &SHA256SUM_SPEC, Algo::Sha256).await
}
async fn body_sha384sum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    sum_main(ctx, &SHA384SUM_SPEC, Algo::Sha384).await
}
async fn body_sha512sum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    sum_main(ctx, &SHA512SUM_SPEC, Algo::Sha512).await
}

/// Checks the option combinations GNU refuses, in GNU's order.
fn check_combinations(p: &ParsedArgs) -> Result<(), CmdError> {
    let check = p.has("check");
    let text_or_binary = p.has("binary") || p.has("text");
    if check && text_or_binary {
        return Err(CmdError::usage(
            "the --binary and --text options are meaningless when verifying checksums",
        ));
    }
    if p.has("ignore-missing") && !check {
        return Err(CmdError::usage(
            "the --ignore-missing option is meaningful only when verifying checksums",
        ));
    }
    if p.has("tag") && check {
        return Err(CmdError::usage(
            "the --tag option is meaningless when verifying checksums",
        ));
    }
    if p.has("tag") && p.last_of(&["binary", "text"]) == Some("text") {
        return Err(CmdError::usage("--tag does not support --text mode"));
    }
    if p.has("zero") && check {
        return Err(CmdError::usage(
            "the --zero option is not supported when verifying checksums",
        ));
    }
    for opt in ["warn", "status", "quiet", "strict"] {
        if p.has(opt) && !check {
            return Err(CmdError::usage(format!(
                "the --{opt} option is meaningful only when verifying checksums"
            )));
        }
    }
    Ok(())
}

/// The `*sum` commands.
async fn sum_main(ctx: &mut CommandCtx, spec: &CommandSpec, algo: Algo) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, spec)?;
    check_combinations(&p)?;
    if p.has("check") {
        return check_main(ctx, &p, algo).await;
    }
    let tag = p.has("tag");
    let binary = p.last_of(&["binary", "text"]) == Some("binary");
    let zero = p.has("zero");
    let mut status = 0;
    for operand in operands_or_stdin(&p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("{operand}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        let hex = match hash_source(algo, src).await {
            Ok(h) => h,
            Err(e) => {
                ctx.error(format!("{operand}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        let (name, escaped) = if zero {
            (operand.clone(), false)
        } else {
            escape_name(&operand, true)
        };
        let mut line = String::new();
        if escaped {
            line.push('\\');
        }
        if tag {
            line.push_str(&format!("{} ({name}) = {hex}", algo.tag()));
        } else {
            line.push_str(&hex);
            line.push_str(if binary { " *" } else { "  " });
            line.push_str(&name);
        }
        line.push(if zero { '\0' } else { '\n' });
        if let Err(e) = ctx
            .stdout
            .write(&mirage_types::bytestr::encode(&line))
            .await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Ok(status);
        }
    }
    Ok(status)
}

/// One line of a checksum file, parsed.
#[derive(Debug, PartialEq, Eq)]
struct CheckLine {
    /// The expected digest (hex, any case).
    hex: String,
    /// The file to check.
    name: String,
}

/// Whether the lines of one file use `HASH NAME` (BSD reversed) or the
/// `HASH  NAME` layout; GNU refuses to mix the two in one file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Unknown,
    Standard,
    Reversed,
}

/// Undoes the `\\` and `\n` escapes of an escaped line's name; `None` for
/// any other escape.
fn unescape(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut it = name.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Parses one checksum line as GNU 9.1's `md5sum -c` does; `None` for an
/// improperly formatted line. `layout` tracks the layout of the file.
fn parse_check_line(line: &str, algo: Algo, layout: &mut Layout) -> Option<CheckLine> {
    let s = line.trim_start_matches([' ', '\t']);
    let (escaped, s) = match s.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let fix = |n: &str| {
        if escaped {
            unescape(n)
        } else {
            Some(n.to_string())
        }
    };
    // BSD `--tag` layout: `ALGO (NAME) = HASH`.
    if let Some(rest) = s.strip_prefix(algo.tag()) {
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if let Some(rest) = rest.strip_prefix('(') {
            let close = rest.rfind(')')?;
            let name = &rest[..close];
            let after = rest[close + 1..].trim_start_matches([' ', '\t']);
            let hex = after.strip_prefix('=')?.trim_start_matches([' ', '\t']);
            if hex.len() != algo.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            return Some(CheckLine {
                hex: hex.to_string(),
                name: fix(name)?,
            });
        }
    }
    let n = algo.hex_len();
    let hex = s.get(..n)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let rest = &s[n..];
    let rest = rest.strip_prefix([' ', '\t'])?;
    let name = if rest.len() == 1 || !rest.starts_with([' ', '*']) {
        if *layout == Layout::Standard {
            return None;
        }
        *layout = Layout::Reversed;
        rest
    } else {
        if *layout == Layout::Reversed {
            return None;
        }
        *layout = Layout::Standard;
        &rest[1..]
    };
    if name.is_empty() {
        return None;
    }
    Some(CheckLine {
        hex: hex.to_string(),
        name: fix(name)?,
    })
}

/// `count` with GNU's singular or plural wording.
fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `md5sum -c` and friends: checks every checksum file operand.
async fn check_main(ctx: &mut CommandCtx, p: &ParsedArgs, algo: Algo) -> Result<i32, CmdError> {
    let quiet = p.has("quiet");
    let status_only = p.has("status");
    let strict = p.has("strict");
    let warn = p.has("warn");
    let ignore_missing = p.has("ignore-missing");
    let mut ok_all = true;
    for checkfile in operands_or_stdin(p) {
        let shown = if checkfile == "-" {
            "standard input".to_string()
        } else {
            checkfile.clone()
        };
        let src = match open_input_err(ctx, &checkfile).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("{checkfile}: {}", e.message())).await;
                ok_all = false;
                continue;
            }
        };
        let mut reader = RecordReader::new(src, b'\n');
        let mut layout = Layout::Unknown;
        let (mut improper, mut unread, mut mismatched, mut proper, mut matched) =
            (0usize, 0usize, 0usize, 0usize, 0usize);
        let mut line_no = 0usize;
        loop {
            let rec = match reader.next_record().await {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    ctx.error(format!("{}: {}", quotef(&shown), e.message()))
                        .await;
                    ok_all = false;
                    break;
                }
            };
            line_no += 1;
            let mut raw: &[u8] = &rec;
            raw = raw.strip_suffix(b"\n").unwrap_or(raw);
            raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let text = mirage_types::bytestr::decode(raw);
            let trimmed = text.trim_start_matches([' ', '\t']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some(cl) = parse_check_line(&text, algo, &mut layout) else {
                improper += 1;
                if warn {
                    ctx.error(format!(
                        "{}: {line_no}: improperly formatted {} checksum line",
                        quotef(&shown),
                        algo.tag()
                    ))
                    .await;
                }
                continue;
            };
            proper += 1;
            let (disp, escaped) = escape_name(&cl.name, false);
            let disp = if escaped { format!("\\{disp}") } else { disp };
            let result = match open_input_err(ctx, &cl.name).await {
                Ok(src) => hash_source(algo, src).await,
                Err(e) => Err(e),
            };
            let msg = match result {
                Err(e) => {
                    if ignore_missing && e.kind == ErrorKind::NotFound {
                        continue;
                    }
                    ctx.error(format!("{}: {}", cl.name, e.message())).await;
                    unread += 1;
                    (!status_only).then(|| format!("{disp}: FAILED open or read\n"))
                }
                Ok(hex) if hex.eq_ignore_ascii_case(&cl.hex) => {
                    matched += 1;
                    (!status_only && !quiet).then(|| format!("{disp}: OK\n"))
                }
                Ok(_) => {
                    mismatched += 1;
                    (!status_only).then(|| format!("{disp}: FAILED\n"))
                }
            };
            if let Some(m) = msg {
                let _ = ctx.stdout.write(&mirage_types::bytestr::encode(&m)).await;
            }
        }
        if proper == 0 {
            ctx.error(format!(
                "{}: no properly formatted checksum lines found",
                quotef(&shown)
            ))
            .await;
            ok_all = false;
            continue;
        }
        if !status_only {
            if improper > 0 {
                let w = plural(improper, "line is", "lines are");
                ctx.error(format!("WARNING: {w} improperly formatted"))
                    .await;
            }
            if unread > 0 {
                let w = plural(unread, "listed file", "listed files");
                ctx.error(format!("WARNING: {w} could not be read")).await;
            }
            if mismatched > 0 {
                let w = plural(mismatched, "computed checksum", "computed checksums");
                ctx.error(format!("WARNING: {w} did NOT match")).await;
            }
        }
        if ignore_missing && matched + mismatched + unread == 0 {
            ctx.error(format!("{}: no file was verified", quotef(&shown)))
                .await;
            ok_all = false;
        }
        if mismatched > 0 || unread > 0 || (strict && improper > 0) {
            ok_all = false;
        }
    }
    Ok(if ok_all { 0 } else { 1 })
}

mirage_types::command_handler!(fn run_md5 = body_md5);

/// BSD `md5`: `MD5 (NAME) = HASH` for files, the bare hash for stdin.
async fn body_md5(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &MD5_SPEC)?;
    let quiet = p.has("quiet");
    let reverse = p.has("reverse");
    let mut out = String::new();
    let mut status = 0;
    if let Some(s) = p.value("string") {
        let mut h = Algo::Md5.hasher();
        h.update(&mirage_types::bytestr::encode(s));
        let hex = h.hex();
        out.push_str(&if quiet {
            hex
        } else if reverse {
            format!("{hex} \"{s}\"")
        } else {
            format!("MD5 (\"{s}\") = {hex}")
        });
        out.push('\n');
    }
    let files = if p.operands.is_empty() && !p.has("string") {
        vec![None]
    } else {
        p.operands.iter().cloned().map(Some).collect()
    };
    for f in files {
        let operand = f.clone().unwrap_or_else(|| "-".into());
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) => {
                let _ = ctx
                    .stdout
                    .write(&mirage_types::bytestr::encode(&std::mem::take(&mut out)))
                    .await;
                ctx.error(format!("{operand}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        let hex = match hash_source(Algo::Md5, src).await {
            Ok(h) => h,
            Err(e) => {
                ctx.error(format!("{operand}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        out.push_str(&match f {
            None => hex,
            Some(_) if quiet => hex,
            Some(name) if reverse => format!("{hex} {name}"),
            Some(name) => format!("MD5 ({name}) = {hex}"),
        });
        out.push('\n');
    }
    let _ = ctx.stdout.write(&mirage_types::bytestr::encode(&out)).await;
    Ok(status)
}

/// The CRC-32 table of POSIX `cksum` (polynomial 0x04C11DB7, MSB first).
const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

/// Running POSIX `cksum` state: the CRC so far and the byte count.
#[derive(Default)]
struct Cksum {
    crc: u32,
    len: u64,
}

impl Cksum {
    fn update(&mut self, data: &[u8]) {
        let mut crc = self.crc;
        for &b in data {
            crc = (crc << 8) ^ CRC_TABLE[(((crc >> 24) as u8) ^ b) as usize];
        }
        self.crc = crc;
        self.len += data.len() as u64;
    }
    /// The final CRC: the length's bytes (least significant first) are fed
    /// in, then the CRC is complemented.
    fn finish(&self) -> u32 {
        let mut crc = self.crc;
        let mut n = self.len;
        while n > 0 {
            crc = (crc << 8) ^ CRC_TABLE[(((crc >> 24) as u8) ^ (n as u8)) as usize];
            n >>= 8;
        }
        !crc
    }
}

mirage_types::command_handler!(fn run_cksum = body_cksum);

/// `cksum [FILE]...`: `CRC LENGTH NAME` (no name for stdin without operands).
async fn body_cksum(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &CKSUM_SPEC)?;
    let mut status = 0;
    let named = !p.operands.is_empty();
    for operand in operands_or_stdin(&p) {
        let src = match open_input_err(ctx, &operand).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error(format!("{operand}: {}", e.message())).await;
                status = 1;
                continue;
            }
        };
        let mut c = Cksum::default();
        let mut stream = src.into_stream();
        let mut failed = false;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => c.update(&b),
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    status = 1;
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            continue;
        }
        let line = if named {
            format!("{} {} {operand}\n", c.finish(), c.len)
        } else {
            format!("{} {}\n", c.finish(), c.len)
        };
        if let Err(e) = ctx
            .stdout
            .write(&mirage_types::bytestr::encode(&line))
            .await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Ok(status);
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run};

    #[test]
    fn parses_both_layouts() {
        let h = "b1946ac92492d2347c6235b4d2611184";
        let mut l = Layout::Unknown;
        let want = |n: &str| {
            Some(CheckLine {
                hex: h.into(),
                name: n.into(),
            })
        };
        assert_eq!(
            parse_check_line(&format!("{h}  a"), Algo::Md5, &mut l),
            want("a")
        );
        assert_eq!(
            parse_check_line(&format!("{h} *b"), Algo::Md5, &mut l),
            want("b")
        );
        // a reversed line after standard ones is refused
        assert_eq!(parse_check_line(&format!("{h} a"), Algo::Md5, &mut l), None);
        let mut l = Layout::Unknown;
        assert_eq!(
            parse_check_line(&format!("{h} a"), Algo::Md5, &mut l),
            want("a")
        );
        assert_eq!(
            parse_check_line(&format!("MD5 (x y) = {h}"), Algo::Md5, &mut l),
            want("x y")
        );
        assert_eq!(
            parse_check_line(&format!("SHA1 (x) = {h}"), Algo::Md5, &mut l),
            None
        );
        assert_eq!(
            parse_check_line(
                &format!("\\{h}  b\\\\c\\nd"),
                Algo::Md5,
                &mut Layout::Unknown
            ),
            want("b\\c\nd")
        );
        assert_eq!(parse_check_line("garbage", Algo::Md5, &mut l), None);
    }

    #[test]
    fn cksum_matches_posix() {
        let mut c = Cksum::default();
        c.update(b"hello\n");
        assert_eq!((c.finish(), c.len), (3015617425, 6));
        let c = Cksum::default();
        assert_eq!(c.finish(), 4294967295);
    }

    #[test]
    fn bsd_md5_layouts() {
        let v = MemVfs::with(&[("/a", "hello\n")]);
        let h = "b1946ac92492d2347c6235b4d2611184";
        let (out, _, st) = run(&v, run_md5, "md5", &["/a"], "/", "");
        assert_eq!((out, st), (format!("MD5 (/a) = {h}\n"), 0));
        let (out, _, _) = run(&v, run_md5, "md5", &["-r", "/a"], "/", "");
        assert_eq!(out, format!("{h} /a\n"));
        let (out, _, _) = run(&v, run_md5, "md5", &["-q", "/a"], "/", "");
        assert_eq!(out, format!("{h}\n"));
        let (out, _, _) = run(&v, run_md5, "md5", &[], "/", "hello\n");
        assert_eq!(out, format!("{h}\n"));
        let (out, _, _) = run(&v, run_md5, "md5", &["-s", "abc"], "/", "");
        assert_eq!(out, "MD5 (\"abc\") = 900150983cd24fb0d6963f7d28e17f72\n");
        let (out, err, st) = run(&v, run_md5, "md5", &["/nosuch"], "/", "");
        assert_eq!((out.as_str(), st), ("", 1));
        assert_eq!(err, "md5: /nosuch: No such file or directory\n");
    }
}
