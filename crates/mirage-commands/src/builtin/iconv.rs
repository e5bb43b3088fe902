//! `iconv`: convert text between character encodings, as glibc 2.36's
//! `iconv` (`-f FROM`, `-t TO`, `-c`, `-l`, `-o FILE`, `-s`; the `//IGNORE`
//! suffix is `-c`, `//TRANSLIT` writes `?` for a character the target
//! lacks).
//!
//! UTF-8, UTF-16 and UTF-32 (`LE`/`BE`, or with a BOM: glibc reads a BOM to
//! choose the byte order, assumes little endian without one, and writes
//! `FF FE` then little endian), ISO-8859-1 (Latin-1) and ASCII are done
//! here; every other encoding `encoding_rs` knows (the WHATWG set:
//! windows-125x, the other ISO-8859 parts, KOI8, Shift_JIS, EUC-JP,
//! EUC-KR, GBK, gb18030, Big5, …) goes through it.
//!
//! Errors are glibc's: `illegal input sequence at position N` (a byte
//! offset in the file; also for a character the target cannot encode),
//! `incomplete character or shift sequence at end of buffer`,
//! ``cannot open input file `F': …``; the output up to the error is written
//! and the status is 1. Conversion streams chunk by chunk.

use bytes::Bytes;
use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use tokio::sync::mpsc;

use super::xxd::{Emit, channel_source};
use crate::util::open_input_err;

const OPTS: &[OptSpec] = &[
    OptSpec::value("from-code", Some('f'), Some("from-code")),
    OptSpec::value("to-code", Some('t'), Some("to-code")),
    OptSpec::flag("c", Some('c'), None),
    OptSpec::flag("list", Some('l'), Some("list")),
    OptSpec::value("output", Some('o'), Some("output")),
    OptSpec::flag("silent", Some('s'), Some("silent")),
    OptSpec::flag("verbose", None, Some("verbose")),
];

/// The spec of `iconv`.
pub static SPEC: CommandSpec = CommandSpec::new("iconv", OPTS, PathOperands::All);

crate::register_command!("iconv", SPEC, run, true);

/// Byte order of a UTF-16 or UTF-32 charset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// Plain `UTF-16`/`UTF-32`: a BOM chooses on input (little endian
    /// without one); output gets a little-endian BOM.
    Bom,
    /// Little endian, no BOM.
    Le,
    /// Big endian, no BOM.
    Be,
}

/// A character set iconv can read or write.
#[derive(Clone, Copy, Debug)]
enum Charset {
    Utf8,
    Utf16(Order),
    Utf32(Order),
    Latin1,
    Ascii,
    Rs(&'static encoding_rs::Encoding),
}

/// The charset a name (any case, `//` suffixes removed) stands for.
fn lookup(name: &str) -> Option<Charset> {
    let n = name.to_ascii_uppercase();
    let n = n.as_str();
    Some(match n {
        "UTF-8" | "UTF8" => Charset::Utf8,
        "UTF-16" | "UTF16" => Charset::Utf16(Order::Bom),
        "UTF-16LE" | "UTF16LE" => Charset::Utf16(Order::Le),
        "UTF-16BE" | "UTF16BE" => Charset::Utf16(Order::Be),
        "UTF-32" | "UTF32" | "UCS-4" | "UCS4" => Charset::Utf32(Order::Bom),
        "UTF-32LE" | "UTF32LE" | "UCS-4LE" => Charset::Utf32(Order::Le),
        "UTF-32BE" | "UTF32BE" | "UCS-4BE" => Charset::Utf32(Order::Be),
        "ISO-8859-1" | "ISO8859-1" | "ISO_8859-1" | "ISO_8859-1:1987" | "LATIN1" | "LATIN-1"
        | "L1" | "CP819" | "IBM819" | "ISO-IR-100" | "CSISOLATIN1" | "8859_1" => Charset::Latin1,
        "ASCII" | "US-ASCII" | "ANSI_X3.4-1968" | "ANSI_X3.4-1986" | "ISO646-US" | "US" | "646"
        | "CP367" | "IBM367" | "CSASCII" | "ISO-IR-6" => Charset::Ascii,
        _ => {
            let e = encoding_rs::Encoding::for_label_no_replacement(n.as_bytes())
                .or_else(|| encoding_rs::Encoding::for_label(n.replace('_', "-").as_bytes()))?;
            if e == encoding_rs::UTF_8 {
                Charset::Utf8
            } else if e == encoding_rs::UTF_16LE {
                Charset::Utf16(Order::Le)
            } else if e == encoding_rs::UTF_16BE {
                Charset::Utf16(Order::Be)
            } else {
                Charset::Rs(e)
            }
        }
    })
}

/// The names `iconv -l` prints.
const LIST: &[&str] = &[
    "ANSI_X3.4-1968",
    "ASCII",
    "BIG5",
    "CP819",
    "CP866",
    "CP1250",
    "CP1251",
    "CP1252",
    "CP1253",
    "CP1254",
    "CP1255",
    "CP1256",
    "CP1257",
    "CP1258",
    "EUC-JP",
    "EUC-KR",
    "GB18030",
    "GBK",
    "IBM819",
    "ISO-2022-JP",
    "ISO-8859-1",
    "ISO-8859-2",
    "ISO-8859-3",
    "ISO-8859-4",
    "ISO-8859-5",
    "ISO-8859-6",
    "ISO-8859-7",
    "ISO-8859-8",
    "ISO-8859-10",
    "ISO-8859-13",
    "ISO-8859-14",
    "ISO-8859-15",
    "ISO-8859-16",
    "KOI8-R",
    "KOI8-U",
    "LATIN1",
    "MACINTOSH",
    "SHIFT_JIS",
    "US-ASCII",
    "UTF-16",
    "UTF-16BE",
    "UTF-16LE",
    "UTF-32",
    "UTF-32BE",
    "UTF-32LE",
    "UTF-8",
    "WINDOWS-874",
];

/// Why a conversion stopped.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// An invalid or unconvertible sequence at this input byte offset.
    Illegal(u64),
    /// The input ended inside a character.
    Incomplete,
}

/// Decodes input bytes to characters, each with the input offset it began at.
struct Reader {
    cs: Charset,
    /// Undecoded bytes carried from the previous chunk.
    carry: Vec<u8>,
    /// Input offset of `carry[0]`.
    pos: u64,
    /// UTF-16/32 with a BOM: the order once known (`true`: little endian).
    le: Option<bool>,
    rs: Option<encoding_rs::Decoder>,
    skip_invalid: bool,
    /// Whether an invalid sequence was skipped.
    skipped: bool,
}

impl Reader {
    fn new(cs: Charset, skip_invalid: bool) -> Self {
        Reader {
            cs,
            carry: Vec::new(),
            pos: 0,
            le: None,
            rs: match cs {
                Charset::Rs(e) => Some(e.new_decoder_without_bom_handling()),
                _ => None,
            },
            skip_invalid,
            skipped: false,
        }
    }

    /// Decodes `data` (the last piece when `last`), calling `f` per character.
    fn feed(
        &mut self,
        data: &[u8],
        last: bool,
        f: &mut impl FnMut(char, u64) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        self.carry.extend_from_slice(data);
        let buf = std::mem::take(&mut self.carry);
        let used = self.decode(&buf, last, f);
        let used = used?;
        self.pos += used as u64;
        self.carry = buf[used..].to_vec();
        if last && !self.carry.is_empty() {
            if self.skip_invalid {
                self.carry.clear();
                self.skipped = true;
                return Ok(());
            }
            return Err(Stop::Incomplete);
        }
        Ok(())
    }

    /// Decodes what it can of `buf`; returns how many bytes it used.
    fn decode(
        &mut self,
        buf: &[u8],
        last: bool,
        f: &mut impl FnMut(char, u64) -> Result<(), Stop>,
    ) -> Result<usize, Stop> {
        let base = self.pos;
        match self.cs {
            Charset::Latin1 => {
                for (i, &b) in buf.iter().enumerate() {
                    f(char::from(b), base + i as u64)?;
                }
                Ok(buf.len())
            }
            Charset::Ascii => {
                for (i, &b) in buf.iter().enumerate() {
                    if b < 0x80 {
                        f(char::from(b), base + i as u64)?;
                    } else if !self.skip_invalid {
                        return Err(Stop::Illegal(base + i as u64));
                    } else {
                        self.skipped = true;
                    }
                }
                Ok(buf.len())
            }
            Charset::Utf8 => {
                let mut i = 0;
                while i < buf.len() {
                    match std::str::from_utf8(&buf[i..]) {
                        Ok(s) => {
                            for (j, c) in s.char_indices() {
                                f(c, base + (i + j) as u64)?;
                            }
                            return Ok(buf.len());
                        }
                        Err(e) => {
                            let good = e.valid_up_to();
                            let s = std::str::from_utf8(&buf[i..i + good]).unwrap_or_default();
                            for (j, c) in s.char_indices() {
                                f(c, base + (i + j) as u64)?;
                            }
                            i += good;
                            match e.error_len() {
                                Some(n) => {
                                    if !self.skip_invalid {
                                        return Err(Stop::Illegal(base + i as u64));
                                    }
                                    self.skipped = true;
                                    i += n;
                                }
                                None => return Ok(i),
                            }
                        }
                    }
                }
                Ok(i)
            }
            Charset::Utf16(order) => {
                let mut i = 0;
                if order == Order::Bom && self.le.is_none() {
                    if buf.len() < 2 && !last {
                        return Ok(0);
                    }
                    match buf.get(..2) {
                        Some([0xff, 0xfe]) => {
                            self.le = Some(true);
                            i = 2;
                        }
                        Some([0xfe, 0xff]) => {
                            self.le = Some(false);
                            i = 2;
                        }
                        _ => self.le = Some(true),
                    }
                }
                let le = match order {
                    Order::Le => true,
                    Order::Be => false,
                    Order::Bom => self.le.unwrap_or(true),
                };
                let unit = |k: usize| {
                    let (a, b) = (buf[k], buf[k + 1]);
                    if le {
                        u16::from_le_bytes([a, b])
                    } else {
                        u16::from_be_bytes([a, b])
                    }
                };
                while i + 2 <= buf.len() {
                    let u = unit(i);
                    if (0xd800..0xdc00).contains(&u) {
                        if i + 4 > buf.len() {
                            return Ok(i);
                        }
                        let v = unit(i + 2);
                        if (0xdc00..0xe000).contains(&v) {
                            let cp =
                                0x10000 + ((u32::from(u) - 0xd800) << 10) + (u32::from(v) - 0xdc00);
                            if let Some(c) = char::from_u32(cp) {
                                f(c, base + i as u64)?;
                            }
                            i += 4;
                            continue;
                        }
                    }
                    match char::from_u32(u32::from(u)) {
                        Some(c) => f(c, base + i as u64)?,
                        None if self.skip_invalid => self.skipped = true,
                        None => return Err(Stop::Illegal(base + i as u64)),
                    }
                    i += 2;
                }
                Ok(i)
            }
            Charset::Utf32(order) => {
                let mut i = 0;
                if order == Order::Bom && self.le.is_none() {
                    if buf.len() < 4 && !last {
                        return Ok(0);
                    }
                    match buf.get(..4) {
                        Some([0xff, 0xfe, 0, 0]) => {
                            self.le = Some(true);
                            i = 4;
                        }
                        Some([0, 0, 0xfe, 0xff]) => {
                            self.le = Some(false);
                            i = 4;
                        }
                        _ => self.le = Some(true),
                    }
                }
                let le = match order {
                    Order::Le => true,
                    Order::Be => false,
                    Order::Bom => self.le.unwrap_or(true),
                };
                while i + 4 <= buf.len() {
                    let b = [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]];
                    let v = if le {
                        u32::from_le_bytes(b)
                    } else {
                        u32::from_be_bytes(b)
                    };
                    match char::from_u32(v) {
                        Some(c) => f(c, base + i as u64)?,
                        None if self.skip_invalid => self.skipped = true,
                        None => return Err(Stop::Illegal(base + i as u64)),
                    }
                    i += 4;
                }
                Ok(i)
            }
            Charset::Rs(_) => {
                let Some(dec) = self.rs.as_mut() else {
                    return Ok(buf.len());
                };
                let mut i = 0;
                loop {
                    let mut s = String::with_capacity(
                        dec.max_utf8_buffer_length_without_replacement(buf.len() - i)
                            .unwrap_or(buf.len() * 3 + 16),
                    );
                    let (res, read) =
                        dec.decode_to_string_without_replacement(&buf[i..], &mut s, last);
                    for c in s.chars() {
                        f(c, base + i as u64)?;
                    }
                    match res {
                        encoding_rs::DecoderResult::InputEmpty => return Ok(buf.len()),
                        encoding_rs::DecoderResult::OutputFull => i += read,
                        encoding_rs::DecoderResult::Malformed(bad, after) => {
                            let at = i + read - usize::from(after) - usize::from(bad);
                            if !self.skip_invalid {
                                return Err(Stop::Illegal(base + at as u64));
                            }
                            self.skipped = true;
                            i += read;
                        }
                    }
                }
            }
        }
    }
}

/// Encodes characters into the target charset.
struct Writer {
    cs: Charset,
    rs: Option<encoding_rs::Encoder>,
    bom_done: bool,
}

impl Writer {
    fn new(cs: Charset) -> Self {
        Writer {
            cs,
            rs: match cs {
                Charset::Rs(e) => Some(e.new_encoder()),
                _ => None,
            },
            bom_done: false,
        }
    }

    /// Appends `c` to `out`; `false` when the charset has no such character.
    fn put(&mut self, c: char, out: &mut Vec<u8>) -> bool {
        match self.cs {
            Charset::Utf8 => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            Charset::Latin1 => match u8::try_from(u32::from(c)) {
                Ok(b) => out.push(b),
                Err(_) => return false,
            },
            Charset::Ascii => {
                if c.is_ascii() {
                    out.push(c as u8);
                } else {
                    return false;
                }
            }
            Charset::Utf16(order) => {
                if order == Order::Bom && !self.bom_done {
                    out.extend_from_slice(&[0xff, 0xfe]);
                    self.bom_done = true;
                }
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if order == Order::Be {
                        out.extend_from_slice(&u.to_be_bytes());
                    } else {
                        out.extend_from_slice(&u.to_le_bytes());
                    }
                }
            }
            Charset::Utf32(order) => {
                if order == Order::Bom && !self.bom_done {
                    out.extend_from_slice(&[0xff, 0xfe, 0, 0]);
                    self.bom_done = true;
                }
                let v = u32::from(c);
                if order == Order::Be {
                    out.extend_from_slice(&v.to_be_bytes());
                } else {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            Charset::Rs(_) => {
                let Some(enc) = self.rs.as_mut() else {
                    return false;
                };
                let mut b = [0u8; 4];
                let s = c.encode_utf8(&mut b);
                out.reserve(32);
                let (res, _) = enc.encode_from_utf8_to_vec_without_replacement(s, out, false);
                if let encoding_rs::EncoderResult::Unmappable(_) = res {
                    return false;
                }
            }
        }
        true
    }

    /// Ends the output (a stateful encoder returns to its initial state).
    fn finish(&mut self, out: &mut Vec<u8>) {
        if let Some(enc) = self.rs.as_mut() {
            out.reserve(16);
            let _ = enc.encode_from_utf8_to_vec_without_replacement("", out, true);
        }
    }
}

/// How a charset name is given: the name and its `//IGNORE`, `//TRANSLIT`.
fn split_suffix(spec: &str) -> (&str, bool, bool) {
    let mut parts = spec.split("//");
    let name = parts.next().unwrap_or("");
    let (mut ignore, mut translit) = (false, false);
    for p in parts {
        for w in p.split(',') {
            match w.to_ascii_uppercase().as_str() {
                "IGNORE" => ignore = true,
                "TRANSLIT" => translit = true,
                _ => {}
            }
        }
    }
    (name, ignore, translit)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = match mirage_types::args::parse(&SPEC, &ctx.args) {
        Ok(p) => p,
        Err(msg) => {
            ctx.error(&msg).await;
            let _ = ctx
                .stderr
                .write_str("Try `iconv --help' or `iconv --usage' for more information.\n")
                .await;
            return Ok(64);
        }
    };
    if p.has("list") {
        let mut s = String::new();
        for n in LIST {
            s.push_str(n);
            s.push_str("//\n");
        }
        let _ = ctx.stdout.write_str(&s).await;
        return Ok(0);
    }
    let from_spec = p.value("from-code").unwrap_or("UTF-8");
    let to_spec = p.value("to-code").unwrap_or("UTF-8");
    let (from_name, _, _) = split_suffix(from_spec);
    let (to_name, ignore, translit) = split_suffix(to_spec);
    let (Some(from), Some(to)) = (lookup(from_name), lookup(to_name)) else {
        return Err(CmdError::new(
            1,
            "failed to start conversion processing: No such file or directory",
        ));
    };
    let skip = p.has("c") || ignore;
    // glibc: `//IGNORE` without `-c` still fails once something was dropped
    let ignore_fails = ignore && !p.has("c");
    let operands: Vec<String> = if p.operands.is_empty() {
        vec!["-".into()]
    } else {
        p.operands.clone()
    };
    let out_abs = p.value("output").map(|f| ctx.resolve(f));
    let (tx, rx) = match out_abs {
        Some(_) => {
            let (tx, rx) = mpsc::channel::<Bytes>(16);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let vfs = ctx.vfs.clone();
    let writer = {
        let out_abs = out_abs.clone();
        async move {
            match (rx, out_abs) {
                (Some(rx), Some(path)) => vfs.write(&path, channel_source(rx)).await,
                _ => Ok(()),
            }
        }
    };
    let mut sources = Vec::new();
    let mut open_err = None;
    for operand in &operands {
        match open_input_err(ctx, operand).await {
            Ok(s) => sources.push((operand.clone(), s)),
            Err(e) => {
                open_err = Some(format!(
                    "cannot open input file `{operand}': {}",
                    e.message()
                ));
                break;
            }
        }
    }
    let emit = match tx {
        Some(tx) => Emit::File(tx),
        None => Emit::Stdout(&mut ctx.stdout),
    };
    let produce = async move {
        let mut emit = emit;
        let mut w = Writer::new(to);
        let mut out = Vec::with_capacity(64 * 1024);
        for (operand, src) in sources {
            let mut r = Reader::new(from, skip);
            let mut dropped = false;
            let mut stream = src.into_stream();
            loop {
                let next = stream.next().await;
                let (data, last) = match next {
                    Some(Ok(b)) => (b, false),
                    Some(Err(e)) => return Err(format!("{operand}: {}", e.message())),
                    None => (Bytes::new(), true),
                };
                out.clear();
                let res = r.feed(&data, last, &mut |c, at| {
                    if w.put(c, &mut out) {
                        Ok(())
                    } else if skip {
                        dropped = true;
                        Ok(())
                    } else if translit {
                        out.push(b'?');
                        Ok(())
                    } else {
                        Err(Stop::Illegal(at))
                    }
                });
                if last {
                    w.finish(&mut out);
                }
                if !emit.send(&out).await {
                    return Ok(());
                }
                match res {
                    Ok(()) => {}
                    Err(Stop::Illegal(at)) => {
                        return Err(format!("illegal input sequence at position {at}"));
                    }
                    Err(Stop::Incomplete) => {
                        return Err(
                            "incomplete character or shift sequence at end of buffer".into()
                        );
                    }
                }
                if last {
                    if ignore_fails && (dropped || r.skipped) {
                        return Err(format!("illegal input sequence at position {}", r.pos));
                    }
                    break;
                }
            }
        }
        Ok(())
    };
    let (res, wres) = futures::join!(produce, writer);
    if let Err(e) = wres {
        ctx.error(format!("cannot open output file: {}", e.message()))
            .await;
        return Ok(1);
    }
    if let Some(abs) = &out_abs {
        ctx.io.wrote(abs);
    }
    if let Some(m) = open_err {
        ctx.error(m).await;
        return Ok(1);
    }
    match res {
        Ok(()) => Ok(0),
        Err(m) => Err(CmdError::new(1, m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(from: &str, to: &str, input: &[u8], skip: bool) -> (Vec<u8>, Result<(), Stop>) {
        let (Some(f), Some(t)) = (lookup(from), lookup(to)) else {
            panic!("unknown charset");
        };
        let mut r = Reader::new(f, skip);
        let mut w = Writer::new(t);
        let mut out = Vec::new();
        // one byte at a time, to test the carried partial characters
        for b in input {
            let res = r.feed(std::slice::from_ref(b), false, &mut |c, at| {
                if w.put(c, &mut out) || skip {
                    Ok(())
                } else {
                    Err(Stop::Illegal(at))
                }
            });
            if res.is_err() {
                return (out, res);
            }
        }
        let res = r.feed(&[], true, &mut |c, at| {
            if w.put(c, &mut out) || skip {
                Ok(())
            } else {
                Err(Stop::Illegal(at))
            }
        });
        w.finish(&mut out);
        (out, res)
    }

    #[test]
    fn utf_and_latin1() {
        assert_eq!(
            conv("latin1", "utf-8", b"caf\xe9\n", false),
            (b"caf\xc3\xa9\n".to_vec(), Ok(()))
        );
        assert_eq!(
            conv("utf-8", "utf-16", "café\n".as_bytes(), false).0,
            b"\xff\xfec\0a\0f\0\xe9\0\n\0"
        );
        assert_eq!(
            conv("utf-8", "UTF-16BE", "xé".as_bytes(), false).0,
            b"\0x\0\xe9"
        );
        assert_eq!(conv("utf-16", "utf-8", b"\xfe\xff\0a", false).0, b"a");
        assert_eq!(conv("utf-16", "utf-8", b"a\0", false).0, b"a");
        assert_eq!(
            conv("utf-8", "utf-16le", "😀".as_bytes(), false).0,
            b"\x3d\xd8\x00\xde"
        );
        assert_eq!(
            conv("utf-16le", "utf-8", b"\x3d\xd8\x00\xde", false).0,
            "😀".as_bytes()
        );
        assert_eq!(conv("cp1252", "utf-8", b"\x80", false).0, "€".as_bytes());
        assert_eq!(
            conv("utf-8", "iso-8859-15", "€".as_bytes(), false).0,
            b"\xa4"
        );
    }

    #[test]
    fn errors_and_skips() {
        assert_eq!(
            conv("utf-8", "ascii", "café".as_bytes(), false),
            (b"caf".to_vec(), Err(Stop::Illegal(3)))
        );
        assert_eq!(
            conv("utf-8", "ascii", "café x".as_bytes(), true),
            (b"caf x".to_vec(), Ok(()))
        );
        assert_eq!(
            conv("utf-8", "latin1", b"ab\xffcd", false),
            (b"ab".to_vec(), Err(Stop::Illegal(2)))
        );
        assert_eq!(conv("utf-8", "latin1", b"ab\xffcd", true).0, b"abcd");
        assert_eq!(
            conv("utf-8", "latin1", b"ab\xc3", false),
            (b"ab".to_vec(), Err(Stop::Incomplete))
        );
        assert!(lookup("nosuch").is_none());
    }
}
