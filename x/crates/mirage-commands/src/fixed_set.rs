//! A set of fixed strings for `grep -F` with many patterns (`grep -F -f
//! words.txt`), whose memory is on the order of the pattern bytes.
//!
//! The patterns live in ONE contiguous buffer (the bytes of the `-f` file
//! itself, each pattern ended by `\n`). For each distinct pattern length
//! there is an open-addressing hash table of `u32` slots that hold the
//! pattern's offset in the buffer plus a few bits of its hash. Duplicates
//! are stored once. A million 3–12 letter words (9 MB) cost about 9 MB of
//! buffer and 8–12 MB of tables, where a `Vec<String>` plus an
//! Aho-Corasick automaton cost hundreds of megabytes.
//!
//! Matching is GNU grep's for `-F`: at the leftmost position where some
//! pattern occurs, the longest pattern there (`-o` prints it). At each
//! start position the hash is extended one byte at a time up to the longest
//! pattern length (never past a line terminator, which no pattern contains),
//! and the table of each length met on the way is probed. A table of first
//! bytes, a bitmap of first byte pairs and a Bloom filter of the prefixes
//! of 4, 8, 16, … bytes stop the extension early.
//!
//! `-w` (a match must not touch a word character, `[[:alnum:]_]` in UTF-8, on
//! either side; at each start the longest such match, else the next start),
//! `-x` (the whole line is looked up) and ASCII `-i` (patterns and haystack
//! folded to lower case) are supported. An empty pattern matches at every
//! position (every line, GNU), subject to `-w` and `-x`.
//!
//! Worst case: the work per start position is the longest pattern length
//! (bounded by the line length and cut short by the prefix filters), like a
//! naive search, not Aho-Corasick's linear time.

use grep_matcher::{LineTerminator, Match, Matcher, NoCaptures, NoError};

/// Where a pattern may match (grep's `-w` and `-x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Anywhere in a line (plain `grep -F`).
    Anywhere,
    /// Only as a whole word (`-w`): the characters before and after the
    /// match are not word constituents (letters, digits, `_`).
    Word,
    /// Only as a whole line (`-x`).
    Line,
}

/// How a [`FixedSet`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Fold ASCII case (`-i`); the patterns must then be ASCII
    /// ([`FixedSet::supports`] checks it).
    pub ignore_case: bool,
    /// `-w`, `-x` or neither.
    pub anchor: Anchor,
    /// The line terminator: `b'\n'`, or `0` with `-z`. No match spans it.
    pub eol: u8,
}

/// The hash table of the patterns of one length.
struct Group {
    /// The pattern length in bytes (at least 1).
    len: usize,
    /// `len(slots) - 1`; `len(slots)` is a power of two.
    mask: usize,
    /// 0 = empty; else `tag << off_bits | (offset + 1)`.
    slots: Vec<u32>,
}

/// A deduplicated set of fixed strings with GNU `grep -F` matching
/// (leftmost, then longest). Implements [`grep_matcher::Matcher`].
pub struct FixedSet {
    /// The patterns, each followed by `\n` (case-folded with `-i`).
    bytes: Vec<u8>,
    /// One table per distinct non-empty length, by ascending length.
    groups: Vec<Group>,
    /// Whether the empty pattern is in the set.
    has_empty: bool,
    /// The longest pattern length.
    max_len: usize,
    /// Number of distinct patterns (the empty one included).
    distinct: usize,
    /// Identity, or ASCII lower-casing with `-i`.
    fold: [u8; 256],
    /// `first[b]`: some non-empty pattern starts with (folded) byte `b`.
    first: [bool; 256],
    /// The raw bytes `b` with `first[fold[b]]`, when there are at most 3
    /// (then `memchr` finds candidates); empty otherwise.
    first_raw: Vec<u8>,
    /// Bit `b0 << 8 | b1`: some pattern of 2+ bytes starts with `b0 b1`.
    pairs: Vec<u64>,
    /// Bloom filter of the hashes of prefixes of 4, 8, 16, … bytes of the
    /// patterns longer than the prefix.
    bloom: Vec<u64>,
    /// `len(bloom) * 64 - 1`.
    bloom_mask: usize,
    /// Bits of a slot that hold `offset + 1`.
    off_bits: u32,
    /// Mask of the tag bits above `off_bits` (already shifted down).
    tag_mask: u64,
    opts: Options,
    /// The patterns longer than [`LONG`] bytes, when they are few (at most
    /// [`LONG_BUDGET`] bytes in all): an Aho-Corasick automaton, so that
    /// periodic text (`aaaa…` against `a…ab`) stays linear.
    long: Option<LongSet>,
}

/// The long patterns of a [`FixedSet`].
struct LongSet {
    ac: aho_corasick::AhoCorasick,
    /// The longest of them, in bytes.
    max_len: usize,
}

/// Patterns longer than this go to the automaton (when few).
const LONG: usize = 64;
/// At most this many bytes of long patterns go to the automaton; beyond,
/// they stay in the hash tables (memory first).
const LONG_BUDGET: usize = 1 << 20;

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// One step of the (FNV-1a) hash over folded bytes.
#[inline(always)]
fn step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(PRIME)
}

/// The murmur3 finaliser: spreads every input bit over the whole word.
#[inline(always)]
fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Whether `len` is a Bloom checkpoint (4, 8, 16, …).
#[inline(always)]
fn checkpoint(len: usize) -> bool {
    len >= 4 && len.is_power_of_two()
}

fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Whether the character that ends just before `pos` is a word character.
/// An invalid byte is not one.
fn word_before(h: &[u8], pos: usize) -> bool {
    if pos == 0 {
        return false;
    }
    let b = h[pos - 1];
    if b.is_ascii() {
        return b == b'_' || b.is_ascii_alphanumeric();
    }
    let lo = pos.saturating_sub(4);
    let mut start = pos - 1;
    while start > lo && (0x80..0xc0).contains(&h[start]) {
        start -= 1;
    }
    match std::str::from_utf8(&h[start..pos]) {
        Ok(s) => s.chars().next_back().is_some_and(is_word_char),
        Err(_) => false,
    }
}

/// Whether the character that starts at `pos` is a word character.
fn word_at(h: &[u8], pos: usize) -> bool {
    let Some(&b) = h.get(pos) else { return false };
    if b.is_ascii() {
        return b == b'_' || b.is_ascii_alphanumeric();
    }
    let width = match b {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return false,
    };
    match h.get(pos..pos + width).map(std::str::from_utf8) {
        Some(Ok(s)) => s.chars().next().is_some_and(is_word_char),
        _ => false,
    }
}

/// The patterns in `buf`: `(offset, len)` of each `\n`-terminated piece.
fn pieces(buf: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    memchr::memchr_iter(b'\n', buf).map(move |end| {
        let piece = (start, end - start);
        start = end + 1;
        piece
    })
}

/// Appends `-e`-style pattern text to a pattern buffer: `text` holds
/// patterns separated by `\n`, and each one is ended by `\n` in `buf`
/// (`""` is one empty pattern).
pub fn push_patterns(buf: &mut Vec<u8>, text: &[u8]) {
    buf.extend_from_slice(text);
    buf.push(b'\n');
}

/// Appends the contents of a `-f` file to a pattern buffer: one pattern per
/// line, a missing final newline added; an empty file adds no pattern
/// (GNU). The first file's bytes are taken over without a copy.
pub fn push_pattern_file(buf: &mut Vec<u8>, data: bytes::Bytes) {
    if data.is_empty() {
        return;
    }
    if buf.is_empty() {
        *buf = Vec::from(data);
        if buf.last() != Some(&b'\n') {
            buf.reserve_exact(1);
            buf.push(b'\n');
        }
    } else {
        buf.extend_from_slice(&data);
        if buf.last() != Some(&b'\n') {
            buf.push(b'\n');
        }
    }
}

/// The number of patterns in a pattern buffer (its `\n` count).
pub fn pattern_count(buf: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', buf).count()
}

impl FixedSet {
    /// Whether a set can be built from `buf` (patterns each ended by `\n`)
    /// with `opts`: the buffer is valid UTF-8 shorter than 4 GiB, ends with
    /// `\n`, holds no line terminator inside a pattern (with `-z`), and with
    /// `-i` is ASCII (GNU folds non-ASCII letters too: those sets keep the
    /// regex path).
    pub fn supports(buf: &[u8], opts: &Options) -> bool {
        (buf.is_empty() || buf.last() == Some(&b'\n'))
            && buf.len() < u32::MAX as usize
            && (opts.eol == b'\n' || !buf.contains(&opts.eol))
            && if opts.ignore_case {
                buf.is_ascii()
            } else {
                std::str::from_utf8(buf).is_ok()
            }
    }

    /// Builds the set from `buf`, the patterns each ended by `\n` (see
    /// [`push_patterns`]). Gives the buffer back when
    /// [`FixedSet::supports`] is false.
    pub fn new(mut buf: Vec<u8>, opts: Options) -> Result<FixedSet, Vec<u8>> {
        if !Self::supports(&buf, &opts) {
            return Err(buf);
        }
        let mut fold = [0u8; 256];
        for (i, f) in fold.iter_mut().enumerate() {
            let b = i as u8;
            *f = if opts.ignore_case {
                b.to_ascii_lowercase()
            } else {
                b
            };
        }
        if opts.ignore_case {
            buf.make_ascii_lowercase();
        }
        if buf.capacity() > buf.len() + buf.len() / 4 + 64 {
            buf.shrink_to_fit();
        }

        // Pass 1: how many patterns of each length, and Bloom entries.
        // (a vector for the usual short lengths, a map for the rare long ones)
        const SHORT: usize = 4096;
        let mut short = vec![0usize; SHORT];
        let mut counts: std::collections::BTreeMap<usize, usize> =
            std::collections::BTreeMap::new();
        let mut has_empty = false;
        let mut bloom_entries = 0usize;
        let mut long_bytes = 0usize;
        for (_, len) in pieces(&buf) {
            if len == 0 {
                has_empty = true;
                continue;
            }
            if len > LONG {
                long_bytes = long_bytes.saturating_add(len);
            }
            if len < SHORT {
                short[len] += 1;
            } else {
                *counts.entry(len).or_insert(0) += 1;
            }
            let mut k = 4;
            while k < len {
                bloom_entries += 1;
                k *= 2;
            }
        }
        counts.extend(
            short
                .iter()
                .enumerate()
                .filter(|&(_, &n)| n > 0)
                .map(|(len, &n)| (len, n)),
        );
        drop(short);
        let use_ac = opts.anchor != Anchor::Line && long_bytes > 0 && long_bytes <= LONG_BUDGET;
        if use_ac {
            counts.retain(|&len, _| len <= LONG);
        }
        let max_len = counts.keys().next_back().copied().unwrap_or(0);

        let off_bits = (usize::BITS - buf.len().leading_zeros()).max(1);
        let tag_mask = if off_bits >= 32 {
            0
        } else {
            (1u64 << (32 - off_bits)) - 1
        };
        let mut groups: Vec<Group> = counts
            .iter()
            .map(|(&len, &n)| {
                let cap = (n + n / 2 + 1).next_power_of_two();
                Group {
                    len,
                    mask: cap - 1,
                    slots: vec![0u32; cap],
                }
            })
            .collect();
        let bloom_bits = (bloom_entries * 8).next_power_of_two().max(64);
        let mut set = FixedSet {
            bytes: Vec::new(),
            groups: Vec::new(),
            has_empty,
            max_len,
            distinct: usize::from(has_empty),
            fold,
            first: [false; 256],
            first_raw: Vec::new(),
            pairs: vec![0u64; 65536 / 64],
            bloom: vec![0u64; bloom_bits / 64],
            bloom_mask: bloom_bits - 1,
            off_bits,
            tag_mask,
            opts,
            long: None,
        };

        // Pass 2: insert each pattern once.
        let mut long_pats: Vec<&[u8]> = Vec::new();
        for (off, len) in pieces(&buf) {
            if len == 0 {
                continue;
            }
            if use_ac && len > LONG {
                long_pats.push(&buf[off..off + len]);
                continue;
            }
            let pat = &buf[off..off + len];
            let mut h = SEED;
            for (j, &b) in pat.iter().enumerate() {
                h = step(h, b);
                let n = j + 1;
                if checkpoint(n) && n < len {
                    let bit = mix(h) as usize & set.bloom_mask;
                    set.bloom[bit / 64] |= 1 << (bit % 64);
                }
            }
            let Ok(gi) = groups.binary_search_by_key(&len, |g| g.len) else {
                continue;
            };
            let g = &mut groups[gi];
            let m = mix(h);
            let tag = (m >> 32) & tag_mask;
            let mut idx = m as usize & g.mask;
            let mut dup = false;
            loop {
                let s = g.slots[idx];
                if s == 0 {
                    break;
                }
                if set.slot_tag(s) == tag {
                    let o = set.slot_offset(s);
                    if &buf[o..o + len] == pat {
                        dup = true;
                        break;
                    }
                }
                idx = (idx + 1) & g.mask;
            }
            if dup {
                continue;
            }
            g.slots[idx] = ((tag << off_bits) | (off as u64 + 1)) as u32;
            set.distinct += 1;
            set.first[pat[0] as usize] = true;
            if len >= 2 {
                let bit = (pat[0] as usize) << 8 | pat[1] as usize;
                set.pairs[bit / 64] |= 1 << (bit % 64);
            }
        }
        let raw: Vec<u8> = (0..=255u8)
            .filter(|&b| set.first[set.fold[b as usize] as usize])
            .collect();
        if raw.len() <= 3 {
            set.first_raw = raw;
        }
        if !long_pats.is_empty() {
            long_pats.sort_unstable();
            long_pats.dedup();
            set.distinct += long_pats.len();
            let max_len = long_pats.iter().map(|p| p.len()).max().unwrap_or(0);
            let built = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::Standard)
                .ascii_case_insensitive(opts.ignore_case)
                .build(&long_pats);
            drop(long_pats);
            match built {
                Ok(ac) => set.long = Some(LongSet { ac, max_len }),
                // (the buffer may be lower-cased: the same patterns under -i)
                Err(_) => return Err(buf),
            }
        }
        set.groups = groups;
        set.bytes = buf;
        Ok(set)
    }

    /// The number of distinct patterns (the empty one included).
    pub fn len(&self) -> usize {
        self.distinct
    }

    /// Whether the set has no pattern (then it matches nothing).
    pub fn is_empty(&self) -> bool {
        self.distinct == 0
    }

    /// Bytes held on the heap by the set (buffer, tables, filters).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self
                .groups
                .iter()
                .map(|g| g.slots.capacity() * 4)
                .sum::<usize>()
            + self.groups.capacity() * std::mem::size_of::<Group>()
            + (self.pairs.capacity() + self.bloom.capacity()) * 8
            + self.first_raw.capacity()
            + self.long.as_ref().map_or(0, |l| l.ac.memory_usage())
    }

    #[inline(always)]
    fn slot_offset(&self, s: u32) -> usize {
        let v = u64::from(s) & ((1u64 << self.off_bits) - 1);
        v as usize - 1
    }

    #[inline(always)]
    fn slot_tag(&self, s: u32) -> u64 {
        if self.off_bits >= 32 {
            0
        } else {
            (u64::from(s) >> self.off_bits) & self.tag_mask
        }
    }

    /// Whether `window` (raw haystack bytes, `len == g.len`, hash `h` of its
    /// folded bytes) is in group `g`.
    fn probe(&self, g: &Group, h: u64, window: &[u8]) -> bool {
        let m = mix(h);
        let tag = (m >> 32) & self.tag_mask;
        let mut idx = m as usize & g.mask;
        loop {
            let s = g.slots[idx];
            if s == 0 {
                return false;
            }
            if self.slot_tag(s) == tag {
                let o = self.slot_offset(s);
                let pat = &self.bytes[o..o + g.len];
                if self.opts.ignore_case {
                    if pat
                        .iter()
                        .zip(window)
                        .all(|(&p, &w)| p == self.fold[w as usize])
                    {
                        return true;
                    }
                } else if pat == window {
                    return true;
                }
            }
            idx = (idx + 1) & g.mask;
        }
    }

    /// Whether `line` (a whole line, raw bytes) is one of the patterns.
    fn contains_line(&self, line: &[u8]) -> bool {
        if line.is_empty() {
            return self.has_empty;
        }
        let Ok(gi) = self.groups.binary_search_by_key(&line.len(), |g| g.len) else {
            return false;
        };
        let h = line
            .iter()
            .fold(SEED, |h, &b| step(h, self.fold[b as usize]));
        self.probe(&self.groups[gi], h, line)
    }

    /// The length of the longest non-empty pattern that occurs at `pos`
    /// and passes the `-w` check (the first one found when `shortest`).
    fn match_at(&self, h: &[u8], pos: usize, shortest: bool) -> Option<usize> {
        let word = self.opts.anchor == Anchor::Word;
        if word && word_before(h, pos) {
            return None;
        }
        let eol = self.opts.eol;
        let mut hash = SEED;
        let mut best = None;
        let mut gi = 0;
        let mut len = 0;
        let mut prev = 0u8;
        while len < self.max_len {
            let Some(&raw) = h.get(pos + len) else { break };
            if raw == eol {
                break;
            }
            let b = self.fold[raw as usize];
            if len == 0 {
                if !self.first[b as usize] {
                    break;
                }
            } else if len == 1 {
                let bit = (prev as usize) << 8 | b as usize;
                if self.pairs[bit / 64] & (1 << (bit % 64)) == 0 {
                    break;
                }
            }
            prev = b;
            hash = step(hash, b);
            len += 1;
            while gi < self.groups.len() && self.groups[gi].len < len {
                gi += 1;
            }
            if let Some(g) = self.groups.get(gi).filter(|g| g.len == len)
                && self.probe(g, hash, &h[pos..pos + len])
                && (!word || !word_at(h, pos + len))
            {
                best = Some(len);
                if shortest {
                    break;
                }
            }
            if checkpoint(len) && len < self.max_len {
                let bit = mix(hash) as usize & self.bloom_mask;
                if self.bloom[bit / 64] & (1 << (bit % 64)) == 0 {
                    break;
                }
            }
        }
        best
    }

    /// Whether the empty pattern matches at `pos`.
    fn empty_at(&self, h: &[u8], pos: usize) -> bool {
        self.has_empty
            && (self.opts.anchor != Anchor::Word || (!word_before(h, pos) && !word_at(h, pos)))
    }

    /// The next position at or after `pos` where a non-empty pattern may
    /// start (the `first` byte filter), or `None`.
    #[inline(always)]
    fn candidate(&self, h: &[u8], pos: usize) -> Option<usize> {
        if self.groups.is_empty() {
            return None;
        }
        let rest = h.get(pos..)?;
        let i = match *self.first_raw.as_slice() {
            [a] => memchr::memchr(a, rest)?,
            [a, b] => memchr::memchr2(a, b, rest)?,
            [a, b, c] => memchr::memchr3(a, b, c, rest)?,
            _ => rest
                .iter()
                .position(|&b| self.first[self.fold[b as usize] as usize])?,
        };
        Some(pos + i)
    }

    /// The leftmost-longest match at or after `at`, as `(start, end)`
    /// (GNU `grep -F`, with `-w`/`-x` as set). With `shortest`, any match
    /// at the leftmost position (for a yes/no answer).
    pub fn find_span(&self, h: &[u8], at: usize, shortest: bool) -> Option<(usize, usize)> {
        if at > h.len() {
            return None;
        }
        if self.opts.anchor == Anchor::Line {
            return self.find_line(h, at);
        }
        let short = self.find_short(h, at, shortest);
        let Some(long) = &self.long else { return short };
        match (short, self.find_long(long, h, at, short.map(|m| m.0))) {
            (Some(a), Some(b)) if b.0 < a.0 || (b.0 == a.0 && b.1 > a.1) => Some(b),
            (a, b) => a.or(b),
        }
    }

    /// The leftmost-longest match of the long patterns at or after `at`
    /// that starts no later than `limit`.
    fn find_long(
        &self,
        long: &LongSet,
        h: &[u8],
        at: usize,
        limit: Option<usize>,
    ) -> Option<(usize, usize)> {
        let word = self.opts.anchor == Anchor::Word;
        let mut best: Option<(usize, usize)> = None;
        let input = aho_corasick::Input::new(h).span(at..h.len());
        for m in long.ac.find_overlapping_iter(input) {
            let (s, e) = (m.start(), m.end());
            // matches come by end: once one ends past the bound plus the
            // longest pattern, none can start at or before the bound
            if let Some(bound) = best.map(|b| b.0).or(limit)
                && e > bound + long.max_len
            {
                break;
            }
            if limit.is_some_and(|l| s > l) || (word && (word_before(h, s) || word_at(h, e))) {
                continue;
            }
            if best.is_none_or(|b| s < b.0 || (s == b.0 && e > b.1)) {
                best = Some((s, e));
            }
        }
        best
    }

    /// [`FixedSet::find_span`] over the patterns in the hash tables.
    fn find_short(&self, h: &[u8], at: usize, shortest: bool) -> Option<(usize, usize)> {
        let mut pos = at;
        while pos <= h.len() {
            if !self.has_empty {
                pos = self.candidate(h, pos)?;
            }
            if let Some(len) = self.match_at(h, pos, shortest) {
                return Some((pos, pos + len));
            }
            if self.empty_at(h, pos) {
                return Some((pos, pos));
            }
            pos += 1;
        }
        None
    }

    /// `-x`: the first whole line at or after `at` that is a pattern.
    fn find_line(&self, h: &[u8], at: usize) -> Option<(usize, usize)> {
        let eol = self.opts.eol;
        let mut pos = at;
        loop {
            if pos != 0 && h[pos - 1] != eol {
                pos += memchr::memchr(eol, &h[pos..])? + 1;
                continue;
            }
            let end = memchr::memchr(eol, &h[pos..]).map_or(h.len(), |i| pos + i);
            if self.contains_line(&h[pos..end]) {
                return Some((pos, end));
            }
            if end >= h.len() {
                return None;
            }
            pos = end + 1;
        }
    }
}

impl Matcher for FixedSet {
    type Captures = NoCaptures;
    type Error = NoError;

    fn find_at(&self, haystack: &[u8], at: usize) -> Result<Option<Match>, NoError> {
        Ok(self
            .find_span(haystack, at, false)
            .map(|(s, e)| Match::new(s, e)))
    }

    fn new_captures(&self) -> Result<NoCaptures, NoError> {
        Ok(NoCaptures::new())
    }

    fn shortest_match_at(&self, haystack: &[u8], at: usize) -> Result<Option<usize>, NoError> {
        Ok(self.find_span(haystack, at, true).map(|(_, e)| e))
    }

    fn line_terminator(&self) -> Option<LineTerminator> {
        Some(LineTerminator::byte(self.opts.eol))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(ignore_case: bool, anchor: Anchor) -> Options {
        Options {
            ignore_case,
            anchor,
            eol: b'\n',
        }
    }

    fn set(pats: &[&str], o: Options) -> FixedSet {
        let mut buf = Vec::new();
        for p in pats {
            push_patterns(&mut buf, p.as_bytes());
        }
        FixedSet::new(buf, o).unwrap_or_else(|_| panic!("unsupported"))
    }

    fn find(s: &FixedSet, h: &str, at: usize) -> Option<(usize, usize)> {
        s.find_span(h.as_bytes(), at, false)
    }

    /// The obvious leftmost-longest search, to compare with.
    fn naive(pats: &[&str], o: Options, h: &[u8], at: usize) -> Option<(usize, usize)> {
        let f = |b: u8| {
            if o.ignore_case {
                b.to_ascii_lowercase()
            } else {
                b
            }
        };
        let eq =
            |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| f(x) == f(y));
        for pos in at..=h.len() {
            if o.anchor == Anchor::Line {
                if pos != 0 && h[pos - 1] != o.eol {
                    continue;
                }
                let end = h[pos..]
                    .iter()
                    .position(|&b| b == o.eol)
                    .map_or(h.len(), |i| pos + i);
                if pats.iter().any(|p| eq(p.as_bytes(), &h[pos..end])) {
                    return Some((pos, end));
                }
                continue;
            }
            let mut best: Option<usize> = None;
            for p in pats {
                let p = p.as_bytes();
                let end = pos + p.len();
                if end > h.len() || h[pos..end].contains(&o.eol) || !eq(p, &h[pos..end]) {
                    continue;
                }
                if o.anchor == Anchor::Word && (word_before(h, pos) || word_at(h, end)) {
                    continue;
                }
                if best.is_none_or(|b| p.len() > b) {
                    best = Some(p.len());
                }
            }
            if let Some(l) = best {
                return Some((pos, pos + l));
            }
        }
        None
    }

    #[test]
    fn leftmost_then_longest() {
        let s = set(&["ab", "abc", "bcd", "c"], opts(false, Anchor::Anywhere));
        assert_eq!(find(&s, "xabcd", 0), Some((1, 4)));
        assert_eq!(find(&s, "xabcd", 2), Some((2, 5)));
        assert_eq!(find(&s, "xabcd", 4), None);
        assert_eq!(find(&s, "xab\ncd", 0), Some((1, 3)));
        assert_eq!(
            find(&s, "b\ncd", 0),
            Some((2, 3)),
            "never across the line terminator"
        );
        assert_eq!(s.find_span(b"zzabc", 0, true).map(|m| m.0), Some(2));
    }

    #[test]
    fn duplicates_are_stored_once() {
        let s = set(
            &["foo", "bar", "foo", "", "", "bar"],
            opts(false, Anchor::Anywhere),
        );
        assert_eq!(s.len(), 3);
        let s = set(&["Foo", "fOO"], opts(true, Anchor::Anywhere));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn empty_pattern_matches_everywhere() {
        let s = set(&["", "foo"], opts(false, Anchor::Anywhere));
        assert_eq!(find(&s, "xfoo", 0), Some((0, 0)));
        assert_eq!(find(&s, "xfoo", 1), Some((1, 4)));
        assert_eq!(find(&s, "", 0), Some((0, 0)));
        let s = set(&["", "zz"], opts(false, Anchor::Word));
        assert_eq!(find(&s, "a b", 0), None);
        assert_eq!(find(&s, " x", 0), Some((0, 0)));
        assert_eq!(find(&s, "ab ", 0), Some((3, 3)));
    }

    #[test]
    fn ignore_case_folds_ascii() {
        let s = set(&["Hello", "wORLD"], opts(true, Anchor::Anywhere));
        assert_eq!(find(&s, "say HELLO world", 0), Some((4, 9)));
        assert_eq!(find(&s, "say HELLO world", 5), Some((10, 15)));
        assert!(!FixedSet::supports(
            "école\n".as_bytes(),
            &opts(true, Anchor::Anywhere)
        ));
        assert!(FixedSet::supports(
            "école\n".as_bytes(),
            &opts(false, Anchor::Anywhere)
        ));
        assert!(!FixedSet::supports(
            b"\xff\n",
            &opts(false, Anchor::Anywhere)
        ));
    }

    #[test]
    fn whole_words() {
        let s = set(&["foo", "foob", "bar"], opts(false, Anchor::Word));
        assert_eq!(find(&s, "foobar foo", 0), Some((7, 10)));
        assert_eq!(find(&s, "foob-foo", 0), Some((0, 4)));
        assert_eq!(find(&s, "éfoo", 0), None, "é is a word character in UTF-8");
        assert_eq!(find(&s, "foo_ x", 0), None);
        assert_eq!(find(&s, "x\nfoo\n", 0), Some((2, 5)));
        let s = set(&["foo", "foox"], opts(false, Anchor::Word));
        assert_eq!(find(&s, "foox foo", 0), Some((0, 4)));
    }

    #[test]
    fn whole_lines() {
        let s = set(&["ab", "", "c d"], opts(false, Anchor::Line));
        assert_eq!(find(&s, "xab\nab\n", 0), Some((4, 6)));
        assert_eq!(find(&s, "xab\nc d", 1), Some((4, 7)));
        assert_eq!(find(&s, "x\n\ny", 0), Some((2, 2)));
        let s = set(&["AB", "q"], opts(true, Anchor::Line));
        assert_eq!(find(&s, "zz\naB\n", 0), Some((3, 5)));
    }

    #[test]
    fn null_data_terminator() {
        let o = Options {
            ignore_case: false,
            anchor: Anchor::Line,
            eol: 0,
        };
        let s = set(&["a\u{0}"[..1].as_ref(), "b c"], o);
        assert_eq!(s.find_span(b"x\0b c\0", 0, false), Some((2, 5)));
        assert!(!FixedSet::supports(b"a\0b\n", &o));
    }

    #[test]
    fn long_patterns_and_prefix_filters() {
        let long = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(3);
        let s = set(
            &[&long, "abcdefgh", "abcdefghijklmnopq"],
            opts(false, Anchor::Anywhere),
        );
        let h = format!("..{long}..");
        assert_eq!(find(&s, &h, 0), Some((2, 2 + long.len())));
        assert_eq!(find(&s, "abcdefghijklmnopqX", 0), Some((0, 17)));
        assert_eq!(find(&s, "abcdefghijklmnoX", 0), Some((0, 8)));
    }

    /// A tiny deterministic generator (xorshift), to avoid a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn word(&mut self, alphabet: &[&str], max: usize) -> String {
            let n = self.next(max + 1);
            (0..n)
                .map(|_| alphabet[self.next(alphabet.len())])
                .collect()
        }
    }

    #[test]
    fn agrees_with_the_naive_search() {
        let alphabet = ["a", "b", "A", "_", " ", "\n", "é", "c"];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..400 {
            let n = 1 + rng.next(8);
            let pats: Vec<String> = (0..n)
                .map(|_| rng.word(&alphabet[..5], 6).replace('\n', ""))
                .collect();
            let pats: Vec<&str> = pats.iter().map(String::as_str).collect();
            let h = rng.word(&alphabet, 40);
            for anchor in [Anchor::Anywhere, Anchor::Word, Anchor::Line] {
                for icase in [false, true] {
                    let o = opts(icase, anchor);
                    let s = set(&pats, o);
                    for at in 0..=h.len() {
                        let got = s.find_span(h.as_bytes(), at, false);
                        let want = naive(&pats, o, h.as_bytes(), at);
                        assert_eq!(
                            got, want,
                            "round {round} {pats:?} in {h:?} at {at} {anchor:?} icase {icase}"
                        );
                        let short = s.find_span(h.as_bytes(), at, true);
                        assert_eq!(short.map(|m| m.0), want.map(|m| m.0));
                    }
                }
            }
        }
    }

    #[test]
    fn long_patterns_agree_with_the_naive_search() {
        let mut rng = Rng(7);
        for round in 0..60 {
            let mut pats: Vec<String> = (0..1 + rng.next(4))
                .map(|_| {
                    let n = LONG - 4 + rng.next(12);
                    (0..n)
                        .map(|_| if rng.next(8) == 0 { 'b' } else { 'a' })
                        .collect()
                })
                .collect();
            pats.push(rng.word(&["a", "b", "_"], 4));
            let pats: Vec<&str> = pats.iter().map(String::as_str).collect();
            let h: String = (0..300)
                .map(|_| ["a", "a", "a", "b", "A", " ", "\n"][rng.next(7)])
                .collect();
            for anchor in [Anchor::Anywhere, Anchor::Word, Anchor::Line] {
                for icase in [false, true] {
                    let o = opts(icase, anchor);
                    let s = set(&pats, o);
                    assert_eq!(
                        s.long.is_some(),
                        anchor != Anchor::Line && pats.iter().any(|p| p.len() > LONG)
                    );
                    for at in (0..=h.len()).step_by(7) {
                        let want = naive(&pats, o, h.as_bytes(), at);
                        assert_eq!(
                            s.find_span(h.as_bytes(), at, false),
                            want,
                            "round {round} at {at} {anchor:?} {icase}"
                        );
                        assert_eq!(
                            s.find_span(h.as_bytes(), at, true).map(|m| m.0),
                            want.map(|m| m.0)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn periodic_text_against_a_long_pattern() {
        let long = format!("{}b", "a".repeat(1000));
        let s = set(&[&long, "x"], opts(false, Anchor::Anywhere));
        assert!(s.long.is_some());
        let h = "a".repeat(200_000);
        assert_eq!(s.find_span(h.as_bytes(), 0, false), None);
        let h = format!("{h}b");
        assert_eq!(
            s.find_span(h.as_bytes(), 0, false),
            Some((199_000, 200_001))
        );
    }

    #[test]
    fn memory_is_a_few_times_the_pattern_bytes() {
        let mut rng = Rng(42);
        let letters: Vec<String> = ('a'..='z').map(String::from).collect();
        let letters: Vec<&str> = letters.iter().map(String::as_str).collect();
        let mut buf = Vec::new();
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let mut w = rng.word(&letters, 9);
            w.push_str(&letters[..3].concat());
            push_patterns(&mut buf, w.as_bytes());
            distinct.insert(w);
        }
        let input = buf.len();
        let s = FixedSet::new(buf, opts(false, Anchor::Anywhere))
            .unwrap_or_else(|_| panic!("unsupported"));
        assert_eq!(s.len(), distinct.len());
        assert!(
            s.heap_bytes() < 4 * input,
            "{} bytes for {input} bytes of patterns",
            s.heap_bytes()
        );
        assert_eq!(s.find_span(b"--abc--", 0, false), Some((2, 5)));
    }
}
