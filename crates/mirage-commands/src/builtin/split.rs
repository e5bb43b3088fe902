//! `split`: split a file into pieces, as GNU coreutils 9.1 `split`
//! (`-l N`, `-b SIZE`, `-C SIZE`, `-n N|K/N|l/N|l/K/N|r/N|r/K/N`, `-a N`,
//! `-d`/`--numeric-suffixes[=FROM]`, `-x`/`--hex-suffixes[=FROM]`,
//! `--additional-suffix=S`, `-e`, `--verbose`; operands `[FILE [PREFIX]]`,
//! `-` or none is stdin, the prefix defaults to `x`).
//!
//! Suffixes widen as GNU's do when `-a` is not given: `aa`…`yz`, then
//! `zaaa`…; `00`…`89`, then `9000`…. With `-a`, running out is `split:
//! output file suffixes exhausted` (status 1). The input is streamed; one
//! piece at a time is held before it is written. `-n` needs the size of a
//! file, as GNU does (stdin: `cannot determine file size`).

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};

use crate::builtin::truncate::parse_size;
use crate::util::{gnu_quote, open_input, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::value("lines", Some('l'), Some("lines")),
    OptSpec::value("bytes", Some('b'), Some("bytes")),
    OptSpec::value("line-bytes", Some('C'), Some("line-bytes")),
    OptSpec::value("number", Some('n'), Some("number")),
    OptSpec::value("suffix-length", Some('a'), Some("suffix-length")),
    OptSpec::flag("d", Some('d'), None),
    OptSpec::optional("numeric-suffixes", None, Some("numeric-suffixes")),
    OptSpec::flag("x", Some('x'), None),
    OptSpec::optional("hex-suffixes", None, Some("hex-suffixes")),
    OptSpec::value("additional-suffix", None, Some("additional-suffix")),
    OptSpec::flag("elide-empty-files", Some('e'), Some("elide-empty-files")),
    OptSpec::flag("unbuffered", Some('u'), Some("unbuffered")),
    OptSpec::flag("verbose", None, Some("verbose")),
    OptSpec::value("separator", Some('t'), Some("separator")),
];

/// The spec of `split`.
pub static SPEC: CommandSpec = CommandSpec {
    numeric_key: Some("lines"),
    ..CommandSpec::new("split", OPTS, PathOperands::All)
};

crate::register_command!("split", SPEC, run, true);

/// The names of the output files, in order, as GNU makes them.
struct Namer {
    prefix: String,
    extra: String,
    alphabet: &'static [u8],
    /// The current suffix, as digit indexes into `alphabet`.
    digits: Vec<usize>,
    /// Whether the suffix widens when it runs out (no `-a`).
    auto: bool,
    started: bool,
}

impl Namer {
    /// The next file name, or None when the suffixes are exhausted.
    fn next(&mut self) -> Option<String> {
        if self.started {
            if self.digits.is_empty() {
                return None;
            }
            let base = self.alphabet.len();
            let mut i = self.digits.len();
            loop {
                if i == 0 {
                    self.digits.clear(); // exhausted for good
                    return None;
                }
                i -= 1;
                self.digits[i] += 1;
                if self.digits[i] < base {
                    break;
                }
                self.digits[i] = 0;
            }
            if self.auto && self.digits.first() == Some(&(base - 1)) {
                // widen: the last digit joins the prefix, one more digit
                self.prefix.push(char::from(self.alphabet[base - 1]));
                let n = self.digits.len() + 1;
                self.digits = vec![0; n];
            }
        }
        self.started = true;
        let suffix: String = self
            .digits
            .iter()
            .map(|&d| char::from(self.alphabet[d]))
            .collect();
        Some(format!("{}{suffix}{}", self.prefix, self.extra))
    }
}

/// How the input is cut.
enum Mode {
    Lines(u64),
    Bytes(u64),
    LineBytes(u64),
    /// `-n`: (kind `b`/`l`/`r`, K (only this chunk, to stdout), N).
    Chunks(char, Option<u64>, u64),
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.len() > 2 {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(&p.operands[2])
        )));
    }
    let input = p.operands.first().cloned().unwrap_or_else(|| "-".into());
    let prefix = p.operands.get(1).cloned().unwrap_or_else(|| "x".into());
    let num = |v: &str, what: &str| -> Result<u64, CmdError> {
        match parse_size(v).and_then(|n| u64::try_from(n).ok()) {
            Some(0) => Err(CmdError::new(
                1,
                format!(
                    "invalid number of {what}: {}: Numerical result out of range",
                    gnu_quote(v)
                ),
            )),
            Some(n) => Ok(n),
            None => Err(CmdError::new(
                1,
                format!("invalid number of {what}: {}", gnu_quote(v)),
            )),
        }
    };
    let mode = match p.last_of(&["lines", "bytes", "line-bytes", "number"]) {
        Some("bytes") => Mode::Bytes(num(p.value("bytes").unwrap_or(""), "bytes")?),
        Some("line-bytes") => Mode::LineBytes(num(p.value("line-bytes").unwrap_or(""), "bytes")?),
        Some("number") => parse_chunks(p.value("number").unwrap_or(""))?,
        Some(_) => Mode::Lines(num(p.value("lines").unwrap_or(""), "lines")?),
        None => Mode::Lines(1000),
    };
    let (alphabet, from): (&'static [u8], Option<&str>) =
        match p.last_of(&["d", "numeric-suffixes", "x", "hex-suffixes"]) {
            Some("d") => (b"0123456789", None),
            Some("numeric-suffixes") => (b"0123456789", p.value("numeric-suffixes")),
            Some("x") => (b"0123456789abcdef", None),
            Some("hex-suffixes") => (b"0123456789abcdef", p.value("hex-suffixes")),
            _ => (b"abcdefghijklmnopqrstuvwxyz", None),
        };
    let explicit_len = match p.value("suffix-length") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(CmdError::new(
                    1,
                    format!("invalid suffix length: {}", gnu_quote(v)),
                ));
            }
        },
        None => None,
    };
    let mut len = explicit_len.unwrap_or(2);
    if let Mode::Chunks(_, _, n) = mode {
        // enough digits for N chunks
        let mut need = 1;
        let mut cap = alphabet.len() as u64;
        while cap < n {
            need += 1;
            cap = cap.saturating_mul(alphabet.len() as u64);
        }
        if explicit_len.is_some_and(|l| l < need) {
            return Err(CmdError::new(
                1,
                format!("the suffix length needs to be at least {need}"),
            ));
        }
        len = len.max(need);
    }
    let mut digits = vec![0; len];
    if let Some(f) = from {
        let Some(mut v) = u64::from_str_radix(f, alphabet.len() as u32).ok() else {
            return Err(CmdError::new(
                1,
                format!("invalid start value for numerical suffix: {}", gnu_quote(f)),
            ));
        };
        for d in digits.iter_mut().rev() {
            *d = usize::try_from(v % alphabet.len() as u64).unwrap_or(0);
            v /= alphabet.len() as u64;
        }
    }
    let mut namer = Namer {
        prefix,
        extra: p.value("additional-suffix").unwrap_or("").to_string(),
        alphabet,
        digits,
        auto: explicit_len.is_none() && from.is_none() && !matches!(mode, Mode::Chunks(..)),
        started: false,
    };
    let mut out = Out {
        verbose: p.has("verbose"),
        elide: p.has("elide-empty-files"),
    };
    if let Mode::Chunks(kind, only, n) = mode {
        return chunks(ctx, &input, &mut namer, &mut out, kind, only, n).await;
    }
    let src = match open_input(ctx, &input).await {
        Ok(s) => s,
        Err(e) => {
            ctx.error(format!("cannot open {}", reading(&e, &input)))
                .await;
            return Ok(1);
        }
    };
    let mut stream = src.into_stream();
    let mut piece = BytesMut::new();
    let mut count: u64 = 0; // lines or bytes in `piece`
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| CmdError::new(1, format!("{input}: {}", e.message())))?;
        let mut data: &[u8] = &chunk;
        while !data.is_empty() {
            match mode {
                Mode::Lines(n) => {
                    // take up to the newline that completes the piece
                    let mut take = data.len();
                    for (i, &b) in data.iter().enumerate() {
                        if b == b'\n' {
                            count += 1;
                            if count == n {
                                take = i + 1;
                                break;
                            }
                        }
                    }
                    piece.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if count == n {
                        if !out.emit(ctx, &mut namer, piece.split().freeze()).await? {
                            return Ok(1);
                        }
                        count = 0;
                    }
                }
                Mode::Bytes(n) => {
                    let room = usize::try_from(n - count).unwrap_or(usize::MAX);
                    let take = room.min(data.len());
                    piece.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    count += take as u64;
                    if count == n {
                        if !out.emit(ctx, &mut namer, piece.split().freeze()).await? {
                            return Ok(1);
                        }
                        count = 0;
                    }
                }
                Mode::LineBytes(_) | Mode::Chunks(..) => {
                    piece.extend_from_slice(data);
                    data = &[];
                }
            }
        }
        if let Mode::LineBytes(n) = mode {
            // emit every full piece: whole lines up to n bytes, a longer line cut at n
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            while piece.len() > n {
                let cut = match piece[..n].iter().rposition(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None => n,
                };
                let part = piece.split_to(cut).freeze();
                if !out.emit(ctx, &mut namer, part).await? {
                    return Ok(1);
                }
            }
        }
    }
    if !piece.is_empty() && !out.emit(ctx, &mut namer, piece.freeze()).await? {
        return Ok(1);
    }
    Ok(0)
}

/// `cannot open 'X' for reading: WHY` from an [`open_input`] error.
fn reading(e: &str, input: &str) -> String {
    let why = e.strip_prefix(&format!("{input}: ")).unwrap_or(e);
    format!("'{input}' for reading: {why}")
}

/// Parses `-n`'s value.
fn parse_chunks(v: &str) -> Result<Mode, CmdError> {
    let bad = |what: &str| {
        CmdError::new(
            1,
            format!("invalid number of chunks: {}{what}", gnu_quote(v)),
        )
    };
    let (kind, rest) = match v.split_once('/') {
        Some(("l", r)) => ('l', r),
        Some(("r", r)) => ('r', r),
        _ => ('b', v),
    };
    let (k, n) = match rest.split_once('/') {
        Some((k, n)) => (Some(k), n),
        None => (None, rest),
    };
    let n = match parse_size(n).and_then(|x| u64::try_from(x).ok()) {
        Some(0) => return Err(bad(": Numerical result out of range")),
        Some(x) => x,
        None => return Err(bad("")),
    };
    let k = match k {
        Some(k) => match k.parse::<u64>() {
            Ok(x) if x >= 1 && x <= n => Some(x),
            _ => {
                return Err(CmdError::new(
                    1,
                    format!("invalid chunk number: {}", gnu_quote(k)),
                ));
            }
        },
        None => None,
    };
    Ok(Mode::Chunks(kind, k, n))
}

/// Where pieces go.
struct Out {
    verbose: bool,
    elide: bool,
}

impl Out {
    /// Writes `data` to the next file; false after reporting an error.
    async fn emit(
        &mut self,
        ctx: &mut CommandCtx,
        namer: &mut Namer,
        data: Bytes,
    ) -> Result<bool, CmdError> {
        if self.elide && data.is_empty() {
            return Ok(true);
        }
        let Some(name) = namer.next() else {
            ctx.error("output file suffixes exhausted").await;
            return Ok(false);
        };
        if self.verbose {
            let line = format!("creating file {}\n", crate::util::quoteaf(&name));
            ctx.stdout
                .write(&mirage_types::bytestr::encode(&line))
                .await?;
        }
        let abs = ctx.resolve(&name);
        match ctx.vfs.write(&abs, ByteSource::Bytes(data)).await {
            Ok(()) => {
                ctx.io.wrote(&abs);
                Ok(true)
            }
            Err(e) => {
                ctx.error(format!("{name}: {}", e.message())).await;
                Ok(false)
            }
        }
    }
}

/// `-n`: the input's size is needed first, as GNU needs it.
async fn chunks(
    ctx: &mut CommandCtx,
    input: &str,
    namer: &mut Namer,
    out: &mut Out,
    kind: char,
    only: Option<u64>,
    n: u64,
) -> Result<i32, CmdError> {
    if input == "-" && kind != 'r' {
        ctx.error("-: cannot determine file size").await;
        return Ok(1);
    }
    let abs = ctx.resolve(input);
    if input != "-"
        && let Ok(st) = ctx.vfs.stat(&abs).await
        && st.is_dir()
    {
        ctx.error(format!(
            "read error: {}",
            ErrorKind::IsADirectory.gnu_message()
        ))
        .await;
        return Ok(1);
    }
    let src = match open_input(ctx, input).await {
        Ok(s) => s,
        Err(e) => {
            ctx.error(format!("cannot open {}", reading(&e, input)))
                .await;
            return Ok(1);
        }
    };
    let data = src
        .collect()
        .await
        .map_err(|e| CmdError::new(1, format!("{input}: {}", e.message())))?;
    let size = data.len() as u64;
    let mut pieces: Vec<Bytes> = Vec::new();
    match kind {
        'r' => {
            let mut bufs = vec![BytesMut::new(); usize::try_from(n).unwrap_or(0)];
            let nb = bufs.len();
            for (i, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
                bufs[i % nb].extend_from_slice(line);
            }
            pieces = bufs.into_iter().map(BytesMut::freeze).collect();
        }
        _ => {
            let chunk = size / n;
            let mut pos = 0usize;
            for k in 1..=n {
                let end = if k == n { size } else { k * chunk };
                let end = usize::try_from(end).unwrap_or(data.len());
                let e = if kind == 'l' && k < n {
                    if end == 0 || pos >= end {
                        pos
                    } else {
                        match data[end - 1..].iter().position(|&b| b == b'\n') {
                            Some(i) => end + i,
                            None => data.len(),
                        }
                    }
                } else {
                    end.max(pos)
                };
                pieces.push(data.slice(pos..e));
                pos = e;
            }
        }
    }
    if let Some(k) = only {
        let idx = usize::try_from(k - 1).unwrap_or(0);
        if let Some(b) = pieces.get(idx) {
            ctx.stdout.write(b).await?;
        }
        return Ok(0);
    }
    for piece in pieces {
        if !out.emit(ctx, namer, piece).await? {
            return Ok(1);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn names(alphabet: &'static [u8], len: usize, auto: bool, count: usize) -> Vec<String> {
        let mut n = Namer {
            prefix: "x".into(),
            extra: String::new(),
            alphabet,
            digits: vec![0; len],
            auto,
            started: false,
        };
        (0..count).filter_map(|_| n.next()).collect()
    }

    #[test]
    fn suffixes_widen_as_gnu() {
        let a = names(b"abcdefghijklmnopqrstuvwxyz", 2, true, 652);
        assert_eq!(&a[648..], ["xyy", "xyz", "xzaaa", "xzaab"]);
        let d = names(b"0123456789", 2, true, 92);
        assert_eq!(&d[88..], ["x88", "x89", "x9000", "x9001"]);
        assert_eq!(names(b"0123456789", 1, false, 20).len(), 10);
    }

    #[test]
    fn splits_lines_bytes_and_chunks() {
        let v = MemVfs::with(&[("/d/s", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n")]);
        let get = |p: &str| {
            let t = v.tree.lock().unwrap();
            t.get(p)
                .cloned()
                .flatten()
                .map(|b| String::from_utf8(b.to_vec()).unwrap())
        };
        assert_eq!(run_cmd(&v, run, "split", &["-l", "4", "s"], "/d", "").2, 0);
        assert_eq!(get("/d/xac").as_deref(), Some("9\n10\n"));
        assert_eq!(
            run_cmd(&v, run, "split", &["-n", "l/3", "s", "l_"], "/d", "").2,
            0
        );
        assert_eq!(get("/d/l_aa").as_deref(), Some("1\n2\n3\n4\n"));
        assert_eq!(get("/d/l_ab").as_deref(), Some("5\n6\n7\n"));
        assert_eq!(
            run_cmd(&v, run, "split", &["-b", "7", "-d", "s", "b"], "/d", "").2,
            0
        );
        assert_eq!(get("/d/b02").as_deref(), Some("8\n9\n10\n"));
        let (o, _, s) = run_cmd(&v, run, "split", &["-n", "r/2/3", "s"], "/d", "");
        assert_eq!((o.as_str(), s), ("2\n5\n8\n", 0));
        let (o, _, _) = run_cmd(
            &v,
            run,
            "split",
            &["--verbose", "-l", "5", "s", "v"],
            "/d",
            "",
        );
        assert_eq!(o, "creating file 'vaa'\ncreating file 'vab'\n");
        let (_, e, s) = run_cmd(
            &v,
            run,
            "split",
            &["-a", "1", "-l", "1", "-"],
            "/d",
            &"x\n".repeat(30),
        );
        assert_eq!(
            (e.as_str(), s),
            ("split: output file suffixes exhausted\n", 1)
        );
        assert_eq!(
            run_cmd(&v, run, "split", &["nope"], "/d", "").1,
            "split: cannot open 'nope' for reading: No such file or directory\n"
        );
        assert_eq!(
            run_cmd(&v, run, "split", &["-l", "0", "s"], "/d", "").1,
            "split: invalid number of lines: \u{2018}0\u{2019}: Numerical result out of range\n"
        );
    }
}
