//! `file`: determine file type, as `file` 5.44 describes the common types
//! (`-b`, `-i`/`--mime`, `--mime-type`, `--mime-encoding`, `-L`, `-h`,
//! `-F SEP`, `-N`). Recognised: directories, symlinks, empty files, gzip,
//! zip, tar, PNG, JPEG, GIF, PDF, ELF, `#!` scripts (bash, sh, Python,
//! Perl, Ruby, Node.js, zsh, any other interpreter), JSON, XML, HTML, and
//! text as 5.44 words it (`ASCII text`, `Unicode text, UTF-8 text`,
//! `ISO-8859 text`, with `, with CRLF line terminators`, `, with no line
//! terminators`, `, with very long lines (N)`, `, with escape sequences`);
//! anything else is `data`. Names are padded to one column as `file` pads
//! them. A missing file is `NAME: cannot open `NAME' (No such file or
//! directory)` on stdout, status 0, as `file` does.
//!
//! Only the first 64 KiB are read (and for gzip the last four bytes).

use mirage_format::time::{Zone, strftime};
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteRange, FileType, ReadOptions, bytestr};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("brief", Some('b'), Some("brief")),
    OptSpec::flag("mime", Some('i'), Some("mime")),
    OptSpec::flag("mime-type", None, Some("mime-type")),
    OptSpec::flag("mime-encoding", None, Some("mime-encoding")),
    OptSpec::flag("dereference", Some('L'), Some("dereference")),
    OptSpec::flag("no-dereference", Some('h'), Some("no-dereference")),
    OptSpec::value("separator", Some('F'), Some("separator")),
    OptSpec::flag("no-pad", Some('N'), Some("no-pad")),
    OptSpec::flag("print0", Some('0'), Some("print0")),
    OptSpec::flag("keep-going", Some('k'), Some("keep-going")),
    OptSpec::flag("special-files", Some('s'), Some("special-files")),
    OptSpec::flag("uncompress", Some('z'), Some("uncompress")),
];

/// The spec of `file`.
pub static SPEC: CommandSpec = CommandSpec::new("file", OPTS, PathOperands::All);

crate::register_command!("file", SPEC, run);

/// How much of a file is looked at.
const HEAD: u64 = 64 * 1024;

/// A verdict: the description, the MIME type and the MIME encoding.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    /// `ASCII text`, `directory`, …
    pub desc: String,
    /// `text/plain`, …
    pub mime: &'static str,
    /// `us-ascii`, `utf-8`, `binary`, … (None: `--mime` prints no charset)
    pub charset: Option<&'static str>,
}

fn kind(desc: impl Into<String>, mime: &'static str, charset: Option<&'static str>) -> Kind {
    Kind {
        desc: desc.into(),
        mime,
        charset,
    }
}

/// The text class of `b`: (words, charset), or None for binary data.
fn text_class(b: &[u8]) -> Option<(&'static str, &'static str)> {
    let ascii_ok = |c: u8| matches!(c, 7..=13 | 27 | 0x20..=0x7e);
    if b.iter().all(|&c| ascii_ok(c)) {
        return Some(("ASCII text", "us-ascii"));
    }
    if b.contains(&0) {
        return None;
    }
    // a cut in the middle of a character at the 64 KiB mark is fine
    let valid = match std::str::from_utf8(b) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && b.len() as u64 >= HEAD,
    };
    if valid && b.iter().all(|&c| c >= 0x80 || ascii_ok(c)) {
        if b.starts_with(&[0xef, 0xbb, 0xbf]) {
            return Some(("Unicode text, UTF-8 (with BOM) text", "utf-8"));
        }
        return Some(("Unicode text, UTF-8 text", "utf-8"));
    }
    if b.iter().all(|&c| ascii_ok(c) || c >= 0xa0) {
        return Some(("ISO-8859 text", "iso-8859-1"));
    }
    None
}

/// The `, with …` notes of a text.
fn text_notes(b: &[u8]) -> String {
    let mut notes = String::new();
    let (mut crlf, mut lf, mut cr) = (0, 0, 0);
    let mut longest = 0usize;
    let mut cur = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                crlf += 1;
                longest = longest.max(cur);
                cur = 0;
                i += 1;
            }
            b'\r' => {
                cr += 1;
                longest = longest.max(cur);
                cur = 0;
            }
            b'\n' => {
                lf += 1;
                longest = longest.max(cur);
                cur = 0;
            }
            _ => cur += 1,
        }
        i += 1;
    }
    longest = longest.max(cur);
    if longest > 300 {
        notes.push_str(&format!(", with very long lines ({longest})"));
    }
    if crlf + lf + cr == 0 {
        notes.push_str(", with no line terminators");
    } else if crlf > 0 && lf == 0 && cr == 0 {
        notes.push_str(", with CRLF line terminators");
    } else if cr > 0 && lf == 0 && crlf == 0 {
        notes.push_str(", with CR line terminators");
    } else if crlf > 0 || cr > 0 {
        let mut parts = Vec::new();
        if crlf > 0 {
            parts.push("CRLF");
        }
        if cr > 0 {
            parts.push("CR");
        }
        if lf > 0 {
            parts.push("LF");
        }
        notes.push_str(&format!(", with {} line terminators", parts.join(", ")));
    }
    if b.contains(&27) {
        notes.push_str(", with escape sequences");
    }
    notes
}

/// The interpreter named by a `#!` line, and its description and MIME type.
fn script(b: &[u8]) -> Option<(String, &'static str)> {
    let first = b.strip_prefix(b"#!")?;
    let line = first.split(|&c| c == b'\n').next().unwrap_or(first);
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let mut prog = words.next()?.to_string();
    if prog.ends_with("/env") {
        prog = words.find(|w| !w.starts_with('-'))?.to_string();
    }
    let base = prog.rsplit('/').next().unwrap_or(&prog).to_string();
    let name = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    Some(match name {
        "bash" => ("Bourne-Again shell script".into(), "text/x-shellscript"),
        "sh" | "dash" | "ash" => ("POSIX shell script".into(), "text/x-shellscript"),
        "zsh" => ("Paul Falstad's zsh script".into(), "text/x-shellscript"),
        "python" => ("Python script".into(), "text/x-script.python"),
        "perl" => ("Perl script text".into(), "text/x-perl"),
        "ruby" => ("Ruby script".into(), "text/x-ruby"),
        "node" | "nodejs" => ("Node.js script".into(), "application/javascript"),
        _ => (format!("a {prog} script"), "text/plain"),
    })
}

/// Whether `b` (all of a small file) is a JSON object or array, as 5.44's
/// JSON test accepts (a lone string or number is left to the text tests).
fn is_json(b: &[u8]) -> bool {
    let mut p = Json { b, i: 0 };
    p.ws();
    if !matches!(p.peek(), Some(b'{' | b'[')) {
        return false;
    }
    if !p.value(0) {
        return false;
    }
    p.ws();
    p.i == b.len()
}

/// A minimal JSON syntax checker (RFC 8259), for [`is_json`].
struct Json<'a> {
    b: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn lit(&mut self, w: &[u8]) -> bool {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            true
        } else {
            false
        }
    }
    fn string(&mut self) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return true,
                b'\\' => self.i += 1,
                0..=0x1f => return false,
                _ => {}
            }
        }
        false
    }
    fn number(&mut self) -> bool {
        let start = self.i;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        self.i > start
    }
    fn value(&mut self, depth: usize) -> bool {
        if depth > 256 {
            return false;
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                if self.eat(b'}') {
                    return true;
                }
                loop {
                    if !self.string() || !self.eat(b':') || !self.value(depth + 1) {
                        return false;
                    }
                    if self.eat(b'}') {
                        return true;
                    }
                    if !self.eat(b',') {
                        return false;
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                if self.eat(b']') {
                    return true;
                }
                loop {
                    if !self.value(depth + 1) {
                        return false;
                    }
                    if self.eat(b']') {
                        return true;
                    }
                    if !self.eat(b',') {
                        return false;
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(b't') => self.lit(b"true"),
            Some(b'f') => self.lit(b"false"),
            Some(b'n') => self.lit(b"null"),
            Some(_) => self.number(),
            None => false,
        }
    }
}

/// Classifies the bytes `b` (the head of a file of `size` bytes; `tail` is
/// its last four bytes, for gzip).
pub fn classify(b: &[u8], size: u64, tail: Option<[u8; 4]>) -> Kind {
    if size == 0 {
        return kind("empty", "inode/x-empty", Some("binary"));
    }
    if b.starts_with(&[0x1f, 0x8b]) {
        return kind(gzip_desc(b, tail), "application/gzip", Some("binary"));
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        let mut d = "PNG image data".to_string();
        if b.len() >= 29 && &b[12..16] == b"IHDR" {
            let be = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
            let (w, h, depth, color, interlace) =
                (be(&b[16..20]), be(&b[20..24]), b[24], b[25], b[28]);
            let color = match color {
                0 => "grayscale",
                2 => "RGB",
                3 => "colormap",
                4 => "gray+alpha",
                6 => "RGBA",
                _ => "unknown",
            };
            let il = if interlace == 0 {
                "non-interlaced"
            } else {
                "interlaced"
            };
            d = format!("{d}, {w} x {h}, {depth}-bit/color {color}, {il}");
        }
        return kind(d, "image/png", Some("binary"));
    }
    if b.starts_with(&[0xff, 0xd8, 0xff]) {
        let mut d = "JPEG image data".to_string();
        if b.len() >= 18 && &b[6..11] == b"JFIF\0" {
            d.push_str(&format!(", JFIF standard {}.{:02}", b[11], b[12]));
        }
        return kind(d, "image/jpeg", Some("binary"));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        let mut d = format!(
            "GIF image data, version {}",
            String::from_utf8_lossy(&b[3..6])
        );
        if b.len() >= 10 {
            let w = u16::from_le_bytes([b[6], b[7]]);
            let h = u16::from_le_bytes([b[8], b[9]]);
            d.push_str(&format!(", {w} x {h}"));
        }
        return kind(d, "image/gif", Some("binary"));
    }
    if b.starts_with(b"%PDF-") {
        let ver: String = b[5..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'.')
            .map(|&c| char::from(c))
            .collect();
        return kind(
            format!("PDF document, version {ver}"),
            "application/pdf",
            text_class(b).map(|(_, c)| c).or(Some("binary")),
        );
    }
    if b.starts_with(b"\x7fELF") && b.len() >= 20 {
        let bits = if b[4] == 2 { "64-bit" } else { "32-bit" };
        let le = b[5] == 1;
        let order = if le { "LSB" } else { "MSB" };
        let half = |i: usize| {
            if le {
                u16::from_le_bytes([b[i], b[i + 1]])
            } else {
                u16::from_be_bytes([b[i], b[i + 1]])
            }
        };
        let (ty, mime) = match half(16) {
            1 => ("relocatable", "application/x-object"),
            2 => ("executable", "application/x-executable"),
            3 => ("shared object", "application/x-sharedlib"),
            4 => ("core file", "application/x-coredump"),
            _ => ("unknown type", "application/octet-stream"),
        };
        let arch = match half(18) {
            3 => "Intel 80386",
            0x3e => "x86-64",
            0x28 => "ARM",
            0xb7 => "ARM aarch64",
            0xf3 => "UCB RISC-V",
            8 => "MIPS",
            0x14 => "PowerPC",
            0x15 => "64-bit PowerPC or cisco 7500",
            _ => "unknown arch",
        };
        return kind(
            format!("ELF {bits} {order} {ty}, {arch}, version {} (SYSV)", b[6]),
            mime,
            Some("binary"),
        );
    }
    if b.starts_with(b"PK\x03\x04") && b.len() >= 30 {
        let le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let ver = le(4);
        let method = match le(8) {
            0 => "store",
            8 => "deflate",
            12 => "bzip2",
            14 => "lzma",
            _ => "unknown",
        };
        return kind(
            format!(
                "Zip archive data, at least v{}.{} to extract, compression method={method}",
                ver / 10,
                ver % 10
            ),
            "application/zip",
            Some("binary"),
        );
    }
    if b.len() >= 262 && &b[257..262] == b"ustar" {
        let d = if &b[257..265] == b"ustar  \0" {
            "POSIX tar archive (GNU)"
        } else {
            "POSIX tar archive"
        };
        return kind(d, "application/x-tar", Some("binary"));
    }
    if size < 2 {
        return kind(
            "very short file (no magic)",
            "application/octet-stream",
            Some("binary"),
        );
    }
    let Some((words, charset)) = text_class(b) else {
        return kind("data", "application/octet-stream", Some("binary"));
    };
    let notes = text_notes(b);
    if let Some((desc, mime)) = script(b) {
        if desc.ends_with(" text") {
            return kind(format!("{desc} executable{notes}"), mime, Some(charset));
        }
        if mime == "application/javascript" {
            return kind(
                format!("{desc} executable, {words}{notes}"),
                mime,
                Some(charset),
            );
        }
        return kind(
            format!("{desc}, {words} executable{notes}"),
            mime,
            Some(charset),
        );
    }
    if size <= HEAD && is_json(b) {
        return kind("JSON text data", "application/json", Some(charset));
    }
    let t = b.trim_ascii_start();
    if t.starts_with(b"<?xml") {
        let ver: String = t
            .windows(9)
            .position(|w| w == b"version=\"")
            .map(|i| {
                t[i + 9..]
                    .iter()
                    .take_while(|c| **c != b'"')
                    .map(|&c| char::from(c))
                    .collect()
            })
            .unwrap_or_else(|| "1.0".into());
        return kind(
            format!("XML {ver} document, {words}{notes}"),
            "text/xml",
            Some(charset),
        );
    }
    let lower: Vec<u8> = t.iter().take(15).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        return kind(
            format!("HTML document, {words}{notes}"),
            "text/html",
            Some(charset),
        );
    }
    kind(format!("{words}{notes}"), "text/plain", Some(charset))
}

/// `gzip compressed data, was "a", last modified: …, from Unix, original
/// size modulo 2^32 N`, as 5.44 words it.
fn gzip_desc(b: &[u8], tail: Option<[u8; 4]>) -> String {
    let mut d = "gzip compressed data".to_string();
    if b.len() < 10 {
        return d;
    }
    let flags = b[3];
    let mtime = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    if flags & 0x08 != 0 {
        let mut at = 10;
        if flags & 0x04 != 0 && b.len() >= 12 {
            at += 2 + usize::from(u16::from_le_bytes([b[10], b[11]]));
        }
        if let Some(rest) = b.get(at..) {
            let name: Vec<u8> = rest.iter().take_while(|c| **c != 0).copied().collect();
            d.push_str(&format!(", was \"{}\"", bytestr::decode(&name)));
        }
    }
    if mtime != 0 {
        let t =
            strftime("%a %b %e %H:%M:%S %Y", i64::from(mtime), &Zone::utc()).unwrap_or_default();
        d.push_str(&format!(", last modified: {t}"));
    }
    match b[8] {
        2 => d.push_str(", max compression"),
        4 => d.push_str(", max speed"),
        _ => {}
    }
    let os = match b[9] {
        0 => "FAT filesystem (MS-DOS, OS/2, NT)",
        3 => "Unix",
        7 => "Macintosh",
        11 => "NTFS filesystem (NT)",
        _ => "",
    };
    if !os.is_empty() {
        d.push_str(&format!(", from {os}"));
    }
    if let Some(t) = tail {
        d.push_str(&format!(
            ", original size modulo 2^32 {}",
            u32::from_le_bytes(t)
        ));
    }
    d
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.is_empty() {
        ctx.stderr
            .write_str("Usage: file [-bcCdEhikLlNnprsSvzZ0] [--apple] [--extension] [--mime-encoding]\n            [--mime-type] [-e <testname>] [-F <separator>]  [-f <namefile>]\n            [-m <magicfiles>] [-P <parameter=value>] [--exclude-quiet]\n            <file> ...\n       file -C [-m <magicfiles>]\n       file [--help]\n")
            .await?;
        return Ok(1);
    }
    let brief = p.has("brief");
    let sep = p.value("separator").unwrap_or(":").to_string();
    let follow = p.last_of(&["dereference", "no-dereference"]) == Some("dereference");
    let out_mode = p.last_of(&["mime", "mime-type", "mime-encoding"]);
    let width = if p.has("no-pad") {
        0
    } else {
        p.operands
            .iter()
            .map(|o| o.chars().count())
            .max()
            .unwrap_or(0)
    };
    for op in p.operands.clone() {
        let abs = ctx.resolve(&op);
        let vfs = ctx.vfs.clone();
        let st = if follow {
            vfs.stat(&abs).await
        } else {
            vfs.lstat(&abs).await
        };
        let k = match st {
            Err(e) => {
                let msg = format!("cannot open `{op}' ({})", e.message());
                kind(msg, "", None)
            }
            Ok(st) if st.is_dir() => kind("directory", "inode/directory", Some("binary")),
            Ok(st) if st.file_type == FileType::Symlink => {
                let t = vfs.readlink(&abs).await.unwrap_or_default();
                let broken = vfs.stat(&abs).await.is_err();
                let d = if broken {
                    format!("broken symbolic link to {t}")
                } else {
                    format!("symbolic link to {t}")
                };
                kind(d, "inode/symlink", None)
            }
            Ok(st) => {
                let opts = ReadOptions {
                    range: Some(ByteRange::new(0, HEAD)),
                    ..Default::default()
                };
                let head = match vfs.read_with(&abs, &opts).await {
                    Ok(r) => match r.into_source() {
                        Some(s) => s.collect().await.ok(),
                        None => None,
                    },
                    Err(_) => None,
                };
                match head {
                    None => kind(format!("cannot open `{op}' (Permission denied)"), "", None),
                    Some(h) => {
                        let tail = if h.starts_with(&[0x1f, 0x8b]) && st.size >= 4 {
                            let o = ReadOptions {
                                range: Some(ByteRange::new(st.size - 4, 4)),
                                ..Default::default()
                            };
                            match vfs.read_with(&abs, &o).await {
                                Ok(r) => match r.into_source() {
                                    Some(s) => s
                                        .collect()
                                        .await
                                        .ok()
                                        .and_then(|b| <[u8; 4]>::try_from(&b[..]).ok()),
                                    None => None,
                                },
                                Err(_) => None,
                            }
                        } else {
                            None
                        };
                        classify(&h, st.size, tail)
                    }
                }
            }
        };
        let text = if k.mime.is_empty() {
            k.desc.clone()
        } else {
            match out_mode {
                Some("mime") => match k.charset {
                    Some(c) => format!("{}; charset={c}", k.mime),
                    None => k.mime.to_string(),
                },
                Some("mime-type") => k.mime.to_string(),
                Some(_) => k.charset.unwrap_or("binary").to_string(),
                None => k.desc.clone(),
            }
        };
        let line = if brief {
            format!("{text}\n")
        } else {
            let label = format!("{op}{sep}");
            let pad = (width + sep.chars().count() + 1).saturating_sub(label.chars().count());
            let pad = if width == 0 { 1 } else { pad };
            format!("{label}{}{text}\n", " ".repeat(pad))
        };
        ctx.stdout.write(&bytestr::encode(&line)).await?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn desc(b: &[u8]) -> String {
        classify(b, b.len() as u64, None).desc
    }

    #[test]
    fn magic_as_file_5_44() {
        assert_eq!(desc(b"plain text\n"), "ASCII text");
        assert_eq!(desc(b"ab"), "ASCII text, with no line terminators");
        assert_eq!(
            desc(b"a\r\nb\r\n"),
            "ASCII text, with CRLF line terminators"
        );
        assert_eq!(desc("h\u{e9}llo\n".as_bytes()), "Unicode text, UTF-8 text");
        assert_eq!(desc(b"\xe9t\xe9\n"), "ISO-8859 text");
        assert_eq!(desc(b"a\x00b\n"), "data");
        assert_eq!(desc(b"{\"a\": 1}\n"), "JSON text data");
        assert_eq!(desc(b"{\"a\":\n"), "ASCII text");
        assert_eq!(
            desc(b"#!/bin/bash\necho hi\n"),
            "Bourne-Again shell script, ASCII text executable"
        );
        assert_eq!(
            desc(b"#!/usr/bin/env python3\n"),
            "Python script, ASCII text executable"
        );
        assert_eq!(desc(b"#!/usr/bin/perl\n"), "Perl script text executable");
        assert_eq!(
            desc(b"#!/usr/bin/env node\n"),
            "Node.js script executable, ASCII text"
        );
        assert_eq!(
            desc(b"#!/usr/bin/foo\n"),
            "a /usr/bin/foo script, ASCII text executable"
        );
        assert_eq!(desc(b"%PDF-1.4\n"), "PDF document, version 1.4");
        assert_eq!(
            desc(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x20\x08\x06\0\0\0"),
            "PNG image data, 16 x 32, 8-bit/color RGBA, non-interlaced"
        );
        assert_eq!(
            desc(&format!("{}\n", "x".repeat(500)).into_bytes()),
            "ASCII text, with very long lines (500)"
        );
        assert_eq!(desc(b"a"), "very short file (no magic)");
        assert_eq!(classify(b"", 0, None).desc, "empty");
    }

    #[test]
    fn pads_names_and_prints_mime() {
        let v = MemVfs::with(&[
            ("/d/text.txt", "plain text\n"),
            ("/d/empty.txt", ""),
            ("/d/dir/", ""),
        ]);
        let r = |args: &[&str]| run_cmd(&v, run, "file", args, "/d", "");
        assert_eq!(
            r(&["text.txt", "empty.txt", "dir"]).0,
            "text.txt:  ASCII text\nempty.txt: empty\ndir:       directory\n"
        );
        assert_eq!(r(&["-b", "text.txt"]).0, "ASCII text\n");
        assert_eq!(
            r(&["-i", "text.txt"]).0,
            "text.txt: text/plain; charset=us-ascii\n"
        );
        assert_eq!(r(&["--mime-type", "dir"]).0, "dir: inode/directory\n");
        assert_eq!(
            r(&["nope"]),
            (
                "nope: cannot open `nope' (No such file or directory)\n".into(),
                String::new(),
                0
            )
        );
    }
}
