//! `base64`: encode or decode base64, as GNU coreutils 9.1 `base64`
//! (`-d`, `-i`, `-w COLS`; at most one FILE, `-` or none is stdin).
//!
//! Encoding wraps at 76 columns by default (`-w 0` never wraps) and ends a
//! non-empty output with a newline when wrapping. Decoding skips newlines
//! (with `-i` every byte outside the alphabet), decodes four characters at
//! a time as gnulib does, so a bad group still yields the bytes before the
//! bad character, then stops with `base64: invalid input` and status 1.
//!
//! Both directions stream: each input chunk is turned into output at once,
//! carrying at most a partial group (encoding: up to 2 bytes; decoding: up
//! to 3 characters) to the next chunk.

use base64::Engine;
use futures::StreamExt;
use mirage_types::ErrorKind;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, open_input_err, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("decode", Some('d'), Some("decode")),
    OptSpec::flag("ignore-garbage", Some('i'), Some("ignore-garbage")),
    OptSpec::value("wrap", Some('w'), Some("wrap")),
];

/// The spec of `base64`.
pub static SPEC: CommandSpec = CommandSpec::new("base64", OPTS, PathOperands::All);

crate::register_command!("base64", SPEC, run);

/// The default wrap column of GNU `base64`.
const DEFAULT_WRAP: usize = 76;

/// The value of base64 character `c`, or `None` outside the alphabet.
fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Streaming base64 encoder with GNU's line wrapping.
pub(crate) struct Encoder {
    /// Input bytes not yet making a full 3-byte group.
    pending: Vec<u8>,
    /// Wrap column (0: never).
    wrap: usize,
    /// Characters on the current output line.
    col: usize,
    /// Whether anything was written.
    any: bool,
}

impl Encoder {
    /// An encoder wrapping at `wrap` columns (0 for none).
    pub(crate) fn new(wrap: usize) -> Self {
        Encoder {
            pending: Vec::new(),
            wrap,
            col: 0,
            any: false,
        }
    }

    /// Appends `enc` (base64 text) to `out`, inserting newlines at the wrap column.
    fn emit(&mut self, enc: &[u8], out: &mut Vec<u8>) {
        if enc.is_empty() {
            return;
        }
        self.any = true;
        if self.wrap == 0 {
            out.extend_from_slice(enc);
            return;
        }
        let mut rest = enc;
        while !rest.is_empty() {
            let room = self.wrap - self.col;
            let n = room.min(rest.len());
            out.extend_from_slice(&rest[..n]);
            self.col += n;
            rest = &rest[n..];
            if self.col == self.wrap {
                out.push(b'\n');
                self.col = 0;
            }
        }
    }

    /// Encodes the whole 3-byte groups of `pending + data`, keeping the rest.
    pub(crate) fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let eng = &base64::engine::general_purpose::STANDARD;
        let mut data = data;
        if !self.pending.is_empty() {
            let need = 3 - self.pending.len();
            let take = need.min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < 3 {
                return;
            }
            let enc = eng.encode(&self.pending);
            self.pending.clear();
            self.emit(enc.as_bytes(), out);
        }
        let whole = data.len() / 3 * 3;
        if whole > 0 {
            let enc = eng.encode(&data[..whole]);
            self.emit(enc.as_bytes(), out);
        }
        self.pending.extend_from_slice(&data[whole..]);
    }

    /// Encodes the last partial group (with `=` padding) and ends the last line.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            let enc = base64::engine::general_purpose::STANDARD.encode(&self.pending);
            self.pending.clear();
            self.emit(enc.as_bytes(), out);
        }
        if self.wrap != 0 && self.col > 0 {
            out.push(b'\n');
            self.col = 0;
        }
        let _ = self.any;
    }
}

/// Streaming base64 decoder with gnulib's group-by-group semantics.
pub(crate) struct Decoder {
    /// Characters of the group being gathered (at most 4).
    group: Vec<u8>,
    /// Skip every byte outside the alphabet and `=` (`-i`).
    ignore_garbage: bool,
    /// Set once a group was invalid: nothing more is decoded.
    failed: bool,
}

impl Decoder {
    /// A decoder; `ignore_garbage` is `-i`.
    pub(crate) fn new(ignore_garbage: bool) -> Self {
        Decoder {
            group: Vec::with_capacity(4),
            ignore_garbage,
            failed: false,
        }
    }

    /// Decodes one group of 1 to 4 characters into `out`, as gnulib's
    /// `decode_4`: the bytes before a bad character are still written.
    /// Returns whether the group was valid.
    fn decode_group(g: &[u8], out: &mut Vec<u8>) -> bool {
        if g.len() < 2 {
            return false;
        }
        let (Some(a), Some(b)) = (sextet(g[0]), sextet(g[1])) else {
            return false;
        };
        out.push((a << 2) | (b >> 4));
        if g.len() == 2 {
            return false;
        }
        if g[2] == b'=' {
            return g.len() == 4 && g[3] == b'=';
        }
        let Some(c) = sextet(g[2]) else {
            return false;
        };
        out.push((b << 4) | (c >> 2));
        if g.len() == 3 {
            return false;
        }
        if g[3] == b'=' {
            return true;
        }
        let Some(d) = sextet(g[3]) else {
            return false;
        };
        out.push((c << 6) | d);
        true
    }

    /// Decodes `data` into `out`; returns `false` once the input is invalid.
    pub(crate) fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        if self.failed {
            return false;
        }
        for &c in data {
            if c == b'\n' || (self.ignore_garbage && c != b'=' && sextet(c).is_none()) {
                continue;
            }
            self.group.push(c);
            if self.group.len() == 4 {
                let ok = Self::decode_group(&self.group, out);
                self.group.clear();
                if !ok {
                    self.failed = true;
                    return false;
                }
            }
        }
        true
    }

    /// Decodes a last partial group; returns whether the input was valid.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> bool {
        if self.failed {
            return false;
        }
        if self.group.is_empty() {
            return true;
        }
        let g = std::mem::take(&mut self.group);
        Self::decode_group(&g, out)
    }
}

/// Parses `-w COLS` as GNU does: a non-negative decimal.
fn parse_wrap(v: &str) -> Result<usize, CmdError> {
    v.parse::<usize>()
        .map_err(|_| CmdError::new(1, format!("invalid wrap size: {}", gnu_quote(v))))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let wrap = match p.value("wrap") {
        Some(v) => parse_wrap(v)?,
        None => DEFAULT_WRAP,
    };
    if p.operands.len() > 1 {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(&p.operands[1])
        )));
    }
    let operand = p.operands.first().cloned().unwrap_or_else(|| "-".into());
    let src = match open_input_err(ctx, &operand).await {
        Ok(s) => s,
        Err(e) if e.kind == ErrorKind::IsADirectory => {
            return Err(CmdError::new(1, format!("read error: {}", e.message())));
        }
        Err(e) => return Err(CmdError::new(1, format!("{operand}: {}", e.message()))),
    };
    let decode = p.has("decode");
    let mut enc = Encoder::new(wrap);
    let mut dec = Decoder::new(p.has("ignore-garbage"));
    let mut stream = src.into_stream();
    let mut out = Vec::with_capacity(96 * 1024);
    let mut valid = true;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| CmdError::new(1, format!("read error: {}", e.message())))?;
        out.clear();
        if decode {
            valid = dec.feed(&chunk, &mut out);
        } else {
            enc.feed(&chunk, &mut out);
        }
        if let Err(e) = ctx.stdout.write(&out).await
            && e.kind == ErrorKind::BrokenPipe
        {
            return Ok(1);
        }
        if !valid {
            break;
        }
    }
    out.clear();
    if decode {
        valid = valid && dec.finish(&mut out);
    } else {
        enc.finish(&mut out);
    }
    let _ = ctx.stdout.write(&out).await;
    if !valid {
        return Err(CmdError::new(1, "invalid input"));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8], wrap: usize, split: usize) -> String {
        let mut e = Encoder::new(wrap);
        let mut out = Vec::new();
        for c in data.chunks(split.max(1)) {
            e.feed(c, &mut out);
        }
        e.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn dec(data: &[u8], garbage: bool, split: usize) -> (Vec<u8>, bool) {
        let mut d = Decoder::new(garbage);
        let mut out = Vec::new();
        let mut ok = true;
        for c in data.chunks(split.max(1)) {
            ok = ok && d.feed(c, &mut out);
        }
        ok = ok && d.finish(&mut out);
        (out, ok)
    }

    #[test]
    fn encodes_across_chunks_and_wraps() {
        for split in [1, 2, 3, 5, 100] {
            assert_eq!(enc(b"abcdefgh", 5, split), "YWJjZ\nGVmZ2\ng=\n");
            assert_eq!(enc(b"a", 0, split), "YQ==");
            assert_eq!(enc(b"", 76, split), "");
            assert_eq!(enc(b"hello", 76, split), "aGVsbG8=\n");
        }
    }

    #[test]
    fn decodes_like_gnulib() {
        for split in [1, 3, 100] {
            assert_eq!(dec(b"aGVsbG8=\n", false, split), (b"hello".to_vec(), true));
            assert_eq!(dec(b"YQ==YQ==\n", false, split), (b"aa".to_vec(), true));
            assert_eq!(dec(b"YWJjZ\n", false, split), (b"abc".to_vec(), false));
            assert_eq!(dec(b"YW Jj\n", false, split), (b"a".to_vec(), false));
            assert_eq!(dec(b"YWJj!ZGVm\n", false, split), (b"abc".to_vec(), false));
            assert_eq!(dec(b"YWJj!ZGVm\n", true, split), (b"abcdef".to_vec(), true));
        }
    }
}
