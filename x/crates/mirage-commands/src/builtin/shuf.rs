//! `shuf`: random permutations; behaviour as GNU coreutils 9.1 `shuf`
//! (`-e`, `-i LO-HI`, `-n COUNT`, `-o FILE`, `-r`, `-z`,
//! `--random-source FILE`), original code.
//!
//! The draws are textbook ones: whole numbers by rejection sampling over
//! a byte stream (`Entropy`), a partial Fisher–Yates shuffle, and
//! reservoir sampling for `-n` over an input. They use the bytes of
//! `--random-source FILE` (read through the VFS; `/dev/zero` works) the
//! way GNU does, so the output matches GNU's byte for byte, and a source
//! that runs out is GNU's `‘FILE’: end of file`. Without it the bytes come
//! from a splitmix64 generator seeded by `MIRAGE_SHUF_SEED` when that
//! variable is set (so tests are reproducible), else from the process's
//! random hash seed. shuf holds its input, as GNU does (except `-n` over
//! an input, which keeps only the sample).

use std::collections::HashMap;
use std::hash::{BuildHasher as _, Hasher as _};

use bytes::Bytes;
use futures::StreamExt as _;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ByteStream, bytestr};

use crate::util::{RecordReader, gnu_quote, open_input, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("echo", Some('e'), Some("echo")),
    OptSpec::value("input-range", Some('i'), Some("input-range")),
    OptSpec::value("head-count", Some('n'), Some("head-count")),
    OptSpec::value("output", Some('o'), Some("output")),
    OptSpec::value("random-source", None, Some("random-source")),
    OptSpec::flag("repeat", Some('r'), Some("repeat")),
    OptSpec::flag("zero-terminated", Some('z'), Some("zero-terminated")),
];

/// The spec of `shuf`.
pub static SPEC: CommandSpec = CommandSpec::new("shuf", OPTS, PathOperands::All);

crate::register_command!("shuf", SPEC, run);

/// Where random bytes come from.
enum Bytes8 {
    /// `--random-source`: the file's bytes in order.
    File {
        name: String,
        stream: ByteStream,
        cur: Bytes,
    },
    /// A splitmix64 generator.
    Gen(u64),
}

/// Uniform random numbers drawn from a byte source without wasting its
/// randomness: `value` is uniform over `0..=bound`, carried between draws.
///
/// A draw below `n` tops up the pool with whole bytes (big-endian) until
/// `bound` reaches `n - 1`, then splits the pool's `bound + 1` outcomes
/// into `q` full blocks of `n` plus a remainder `r`: a value in the blocks
/// gives `value % n` and leaves `value / n` (uniform over `0..q`) in the
/// pool; a value in the remainder is rejected, leaving its offset
/// (uniform over `0..r`) in the pool, and the draw starts again. This is
/// the classic rejection method; it consumes the bytes of
/// `--random-source` exactly as GNU shuf 9.1 does (checked against it).
struct Entropy {
    src: Bytes8,
    value: u64,
    bound: u64,
}

impl Entropy {
    async fn byte(&mut self) -> Result<u8, CmdError> {
        match &mut self.src {
            Bytes8::Gen(state) => {
                *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = *state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                Ok((z ^ (z >> 31)) as u8)
            }
            Bytes8::File { name, stream, cur } => {
                while cur.is_empty() {
                    match stream.next().await {
                        Some(Ok(b)) => *cur = b,
                        Some(Err(e)) => {
                            return Err(CmdError::new(
                                1,
                                format!("{}: {}", gnu_quote(name), e.message()),
                            ));
                        }
                        None => {
                            return Err(CmdError::new(
                                1,
                                format!("{}: end of file", gnu_quote(name)),
                            ));
                        }
                    }
                }
                let b = cur[0];
                *cur = cur.slice(1..);
                Ok(b)
            }
        }
    }

    /// A uniform number in `0..n` (`n >= 1`).
    async fn below(&mut self, n: u64) -> Result<u64, CmdError> {
        let n = u128::from(n.max(1));
        loop {
            // top up: the pool's bits shift left a byte at a time (bits
            // pushed past 64 are dropped, as GNU drops them)
            while u128::from(self.bound) + 1 < n {
                let b = self.byte().await?;
                self.value = (self.value << 8) | u64::from(b);
                self.bound = (self.bound << 8) | 0xff;
            }
            let outcomes = u128::from(self.bound) + 1;
            let blocks = outcomes / n;
            let value = u128::from(self.value);
            // all of these fit in u64: each is at most `bound`
            if value < blocks * n {
                self.value = (value / n) as u64;
                self.bound = (blocks - 1) as u64;
                return Ok((value % n) as u64);
            }
            let rest = outcomes % n;
            self.value = (value - blocks * n) as u64;
            self.bound = (rest - 1) as u64;
        }
    }
}

/// The most entries a permutation may have (1 GiB of `u64`s).
const MAX_PERM: u64 = 1 << 27;

/// The first `h` entries of a random permutation of `0..n`: a
/// Fisher–Yates shuffle stopped after `h` swaps (position `i` swaps with
/// a uniform pick from `i..n`), kept in a map of the displaced entries so
/// a huge `n` costs nothing.
///
/// Like GNU, which allocates the whole answer first, a result of more
/// than [`MAX_PERM`] entries is refused as `memory exhausted` before any
/// draw.
async fn randperm(r: &mut Entropy, h: u64, n: u64) -> Result<Vec<u64>, CmdError> {
    if h.min(n) > MAX_PERM {
        return Err(CmdError::new(1, "memory exhausted"));
    }
    let mut displaced: HashMap<u64, u64> = HashMap::new();
    let mut out = Vec::with_capacity(usize::try_from(h.min(n)).unwrap_or(0));
    for i in 0..h.min(n) {
        let j = i + r.below(n - i).await?;
        let at_j = displaced.get(&j).copied().unwrap_or(j);
        let at_i = displaced.remove(&i).unwrap_or(i);
        if j != i {
            displaced.insert(j, at_i);
        }
        out.push(at_j);
    }
    Ok(out)
}

/// Parses `LO-HI` for `-i`.
fn parse_range(s: &str) -> Option<(u64, u64)> {
    let (lo, hi) = s.split_once('-')?;
    let num = |v: &str| {
        (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<u64>().ok())
            .flatten()
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    // `5-4` is an empty range; the count must fit
    let empty = hi.checked_add(1) == Some(lo);
    (empty || hi.checked_sub(lo).is_some_and(|d| d < u64::MAX)).then_some((lo, hi))
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let echo = p.has("echo");
    let range = p.value("input-range").map(str::to_string);
    if echo && range.is_some() {
        return Err(CmdError::usage("cannot combine -e and -i options"));
    }
    let eol = if p.has("zero-terminated") { 0u8 } else { b'\n' };
    let repeat = p.has("repeat");
    let mut head: Option<u64> = None;
    for v in p.values("head-count") {
        let n = v
            .trim()
            .parse::<u64>()
            .map_err(|_| CmdError::new(1, format!("invalid line count: {}", gnu_quote(v))))?;
        head = Some(head.map_or(n, |h: u64| h.min(n)));
    }
    let range =
        match &range {
            Some(r) => Some(parse_range(r).ok_or_else(|| {
                CmdError::new(1, format!("invalid input range: {}", gnu_quote(r)))
            })?),
            None => None,
        };
    if range.is_some() && !p.operands.is_empty() {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(&p.operands[0])
        )));
    }
    if !echo && p.operands.len() > 1 {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(&p.operands[1])
        )));
    }
    let src = match p.value("random-source") {
        Some(name) => {
            let stream = ctx
                .read_path(name)
                .await
                .map_err(|e| CmdError::new(1, format!("{name}: {}", e.message())))?
                .into_stream();
            Bytes8::File {
                name: name.to_string(),
                stream,
                cur: Bytes::new(),
            }
        }
        None => Bytes8::Gen(match ctx.var("MIRAGE_SHUF_SEED") {
            Some(s) => {
                let mut h = std::hash::DefaultHasher::new();
                h.write(s.as_bytes());
                h.finish()
            }
            None => std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        }),
    };
    let mut r = Entropy {
        src,
        value: 0,
        bound: 0,
    };
    let mut out: Vec<u8> = Vec::new();
    let push = |out: &mut Vec<u8>, line: &[u8]| {
        out.extend_from_slice(line);
        out.push(eol);
    };

    if let Some((lo, hi)) = range {
        let n = hi.wrapping_sub(lo).wrapping_add(1);
        if repeat {
            if n > 0 {
                let count = head.unwrap_or(u64::MAX);
                let mut i = 0;
                while i < count {
                    let v = match r.below(n).await {
                        Ok(v) => lo + v,
                        // the lines drawn so far are out, as GNU's are
                        Err(e) => return finish(ctx, p.value("output"), out).await.and(Err(e)),
                    };
                    push(&mut out, v.to_string().as_bytes());
                    if out.len() >= 32 * 1024 && p.value("output").is_none() {
                        ctx.stdout.write(&out).await?;
                        out.clear();
                    }
                    i += 1;
                }
            }
        } else {
            let h = head.unwrap_or(n).min(n);
            for v in randperm(&mut r, h, n).await? {
                push(&mut out, (lo + v).to_string().as_bytes());
            }
        }
        return finish(ctx, p.value("output"), out).await;
    }

    // the lines: operands with -e, else the input's records
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut sampled = false;
    if echo {
        lines = p
            .operands
            .iter()
            .map(|o| bytestr::encode(o).into_owned())
            .collect();
    } else {
        let operand = p.operands.first().map_or("-", String::as_str).to_string();
        // GNU samples only an input of unknown or large size; a regular
        // file under 8 MiB is read whole and permuted like any input
        let known_small = if operand == "-" {
            false
        } else {
            let abs = ctx.resolve(&operand);
            match ctx.vfs.stat(&abs).await {
                Ok(st) => {
                    st.is_file()
                        && st.size > 0
                        && st.size < 8 * 1024 * 1024
                        && !abs.starts_with("/dev/")
                }
                Err(_) => false,
            }
        };
        let src: ByteSource = open_input(ctx, &operand)
            .await
            .map_err(|m| CmdError::new(1, m))?;
        let mut rd = RecordReader::new(src, eol);
        let read_err =
            |e: mirage_types::Error| CmdError::new(1, format!("{operand}: {}", e.message()));
        match head {
            Some(k) if !repeat && !known_small => {
                // reservoir sampling (Algorithm R): the first `k` records
                // fill the reservoir; before each later read a slot in
                // `0..=seen` is drawn (also when the read then meets the
                // end: that shows when `--random-source` runs out, and GNU
                // does the same), and a slot below `k` takes the record
                sampled = true;
                let mut seen: u64 = 0;
                while seen < k {
                    let Some(rec) = rd.next_record().await.map_err(read_err)? else {
                        break;
                    };
                    lines.push(strip(&rec, eol).to_vec());
                    seen += 1;
                }
                if k > 0 && seen == k {
                    loop {
                        let slot = r.below(seen + 1).await?;
                        let Some(rec) = rd.next_record().await.map_err(read_err)? else {
                            break;
                        };
                        if let Some(kept) =
                            usize::try_from(slot).ok().and_then(|i| lines.get_mut(i))
                        {
                            *kept = strip(&rec, eol).to_vec();
                        }
                        seen += 1;
                    }
                }
            }
            _ => {
                while let Some(rec) = rd.next_record().await.map_err(read_err)? {
                    lines.push(strip(&rec, eol).to_vec());
                }
            }
        }
    }
    let n = lines.len() as u64;
    if repeat {
        if n == 0 {
            if head != Some(0) {
                return Err(CmdError::new(1, "no lines to repeat"));
            }
            return finish(ctx, p.value("output"), out).await;
        }
        let count = head.unwrap_or(u64::MAX);
        let mut i = 0;
        while i < count {
            let j = match r.below(n).await {
                Ok(j) => j,
                Err(e) => return finish(ctx, p.value("output"), out).await.and(Err(e)),
            };
            push(&mut out, &lines[j as usize]);
            if out.len() >= 32 * 1024 && p.value("output").is_none() {
                ctx.stdout.write(&out).await?;
                out.clear();
            }
            i += 1;
        }
        return finish(ctx, p.value("output"), out).await;
    }
    let h = if sampled { n } else { head.unwrap_or(n).min(n) };
    for v in randperm(&mut r, h, n).await? {
        push(&mut out, &lines[v as usize]);
    }
    finish(ctx, p.value("output"), out).await
}

/// `rec` without its terminator.
fn strip(rec: &[u8], eol: u8) -> &[u8] {
    rec.strip_suffix(&[eol]).unwrap_or(rec)
}

/// Writes `out` to stdout, or to `-o FILE` through the router.
async fn finish(ctx: &mut CommandCtx, output: Option<&str>, out: Vec<u8>) -> Result<i32, CmdError> {
    match output {
        Some(f) => {
            let abs = ctx.resolve(f);
            ctx.vfs
                .write(&abs, ByteSource::from(out))
                .await
                .map_err(|e| CmdError::new(1, format!("{f}: {}", e.message())))?;
            ctx.io.wrote(&abs);
        }
        None => ctx.stdout.write(&out).await?,
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use crate::util::testing::{MemVfs, run as run_cmd};

    fn shuf(vfs: &std::sync::Arc<MemVfs>, args: &[&str], stdin: &str) -> (String, String, i32) {
        run_cmd(vfs, super::run, "shuf", args, "/", stdin)
    }

    #[test]
    fn zero_source_draws_as_gnu() {
        let v = MemVfs::with(&[("/z", &"\0".repeat(64)), ("/e", "")]);
        // all-zero bytes: every draw is 0
        assert_eq!(
            shuf(&v, &["--random-source=/z", "-i", "1-5"], "").0,
            "1\n2\n3\n4\n5\n"
        );
        let seq: String = (1..=10).map(|i| format!("{i}\n")).collect();
        assert_eq!(
            shuf(&v, &["--random-source=/z", "-n", "3"], &seq).0,
            "10\n2\n3\n"
        );
        let (o, e, s) = shuf(&v, &["--random-source=/e", "-i", "1-5"], "");
        assert_eq!(
            (o.as_str(), e.as_str(), s),
            ("", "shuf: \u{2018}/e\u{2019}: end of file\n", 1)
        );
    }

    #[test]
    fn seeded_runs_repeat_and_permute() {
        let v = MemVfs::with(&[]);
        let a = shuf(&v, &["-i", "1-50"], "");
        let mut got: Vec<u32> = a.0.lines().map(|l| l.parse().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (1..=50).collect::<Vec<_>>());
        let (_, e, s) = shuf(&v, &["-i", "5-1"], "");
        assert_eq!(
            (e.as_str(), s),
            ("shuf: invalid input range: \u{2018}5-1\u{2019}\n", 1)
        );
    }
}
