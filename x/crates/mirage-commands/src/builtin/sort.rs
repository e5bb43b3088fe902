//! `sort`: sort lines of text, as GNU coreutils 9.1 `sort` with
//! `LC_ALL=C.UTF-8` (byte-order collation): `-k POS1[,POS2]` with
//! per-key options, `-t`, `-b -d -f -i -n -g -h -M -V -r`, `-s`, `-u`, `-z`,
//! `-o FILE`, `-c`/`-C`, and GNU's last-resort whole-line comparison.

use std::cmp::Ordering;

use bytes::Bytes;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};

use crate::util::{open_input_err, operands_or_stdin, parse_cmd};

const OPTS: &[OptSpec] = &[
    OptSpec::flag("b", Some('b'), Some("ignore-leading-blanks")),
    OptSpec::flag("d", Some('d'), Some("dictionary-order")),
    OptSpec::flag("f", Some('f'), Some("ignore-case")),
    OptSpec::flag("g", Some('g'), Some("general-numeric-sort")),
    OptSpec::flag("i", Some('i'), Some("ignore-nonprinting")),
    OptSpec::flag("M", Some('M'), Some("month-sort")),
    OptSpec::flag("h", Some('h'), Some("human-numeric-sort")),
    OptSpec::flag("n", Some('n'), Some("numeric-sort")),
    OptSpec::flag("R", Some('R'), Some("random-sort")),
    OptSpec::flag("r", Some('r'), Some("reverse")),
    OptSpec::flag("V", Some('V'), Some("version-sort")),
    OptSpec::value("sort", None, Some("sort")),
    OptSpec::value("random-source", None, Some("random-source")),
    OptSpec::flag("c", Some('c'), None),
    OptSpec::optional("check", None, Some("check")),
    OptSpec::flag("C", Some('C'), None),
    OptSpec::value("key", Some('k'), Some("key")),
    OptSpec::flag("m", Some('m'), Some("merge")),
    OptSpec::value("output", Some('o'), Some("output")),
    OptSpec::flag("s", Some('s'), Some("stable")),
    OptSpec::value("t", Some('t'), Some("field-separator")),
    OptSpec::value("T", Some('T'), Some("temporary-directory")),
    OptSpec::value("S", Some('S'), Some("buffer-size")),
    OptSpec::value("parallel", None, Some("parallel")),
    OptSpec::flag("u", Some('u'), Some("unique")),
    OptSpec::flag("z", Some('z'), Some("zero-terminated")),
    OptSpec::value("batch-size", None, Some("batch-size")),
    OptSpec::value("compress-program", None, Some("compress-program")),
    OptSpec::flag("debug", None, Some("debug")),
    OptSpec::value("files0-from", None, Some("files0-from")),
];

/// The spec of `sort` (usage errors exit 2, as GNU sort).
pub static SPEC: CommandSpec = CommandSpec {
    usage_status: 2,
    ..CommandSpec::new("sort", OPTS, PathOperands::All)
};

crate::register_command!("sort", SPEC, run);

/// How a key's text is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    /// Bytes (with the optional ignore/fold translations).
    #[default]
    Text,
    /// `-n`.
    Numeric,
    /// `-g`.
    General,
    /// `-h`.
    Human,
    /// `-M`.
    Month,
    /// `-V`.
    Version,
}

/// One sort key (GNU's `struct keyfield`); also used for the global options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Key {
    /// Start field, 0-based.
    sword: usize,
    /// Start character within the field, 0-based.
    schar: usize,
    /// End field, 0-based; `None` = end of line.
    eword: Option<usize>,
    /// End character, 1-based; 0 = end of the field.
    echar: usize,
    skip_sblanks: bool,
    skip_eblanks: bool,
    dictionary: bool,
    nonprinting: bool,
    fold: bool,
    reverse: bool,
    mode: Mode,
    random: bool,
}

impl Key {
    /// Whether the key has no ordering option of its own (then it inherits the global ones).
    fn is_default(&self) -> bool {
        !(self.skip_sblanks
            || self.skip_eblanks
            || self.dictionary
            || self.nonprinting
            || self.fold
            || self.reverse
            || self.random
            || self.mode != Mode::Text)
    }
    /// Applies ordering letters (`bdfgiMhnRrV`); `end` says the letters follow POS2.
    fn set_ordering(&mut self, letters: &str, end: bool) -> Result<(), char> {
        for c in letters.chars() {
            match c {
                'b' => {
                    if end {
                        self.skip_eblanks = true;
                    } else {
                        self.skip_sblanks = true;
                    }
                }
                'd' => self.dictionary = true,
                'f' => self.fold = true,
                'g' => self.mode = Mode::General,
                'h' => self.mode = Mode::Human,
                'i' => self.nonprinting = true,
                'M' => self.mode = Mode::Month,
                'n' => self.mode = Mode::Numeric,
                'R' => self.random = true,
                'r' => self.reverse = true,
                'V' => self.mode = Mode::Version,
                other => return Err(other),
            }
        }
        Ok(())
    }
}

/// Parses a `-k` KEYDEF (`F[.C][OPTS][,F[.C][OPTS]]`); the error is GNU's message.
fn parse_key(spec: &str) -> Result<Key, String> {
    let bad = |why: &str| format!("{why}: invalid field specification '{spec}'");
    let mut key = Key::default();
    let (pos1, pos2) = match spec.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (spec, None),
    };
    let (f, rest) = split_number(pos1);
    let f = f.ok_or_else(|| {
        format!("invalid number at field start: invalid count at start of '{pos1}'")
    })?;
    if f == 0 {
        return Err(bad("field number is zero"));
    }
    key.sword = f - 1;
    let rest = if let Some(r) = rest.strip_prefix('.') {
        let (c, r2) = split_number(r);
        let c =
            c.ok_or_else(|| format!("invalid number after '.': invalid count at start of '{r}'"))?;
        if c == 0 {
            return Err(bad("character offset is zero"));
        }
        key.schar = c - 1;
        r2
    } else {
        rest
    };
    key.set_ordering(rest, false).map_err(|_| {
        format!("stray character in field spec: invalid field specification '{spec}'")
    })?;
    if let Some(p2) = pos2 {
        let (f, rest) = split_number(p2);
        let f =
            f.ok_or_else(|| format!("invalid number after ',': invalid count at start of '{p2}'"))?;
        if f == 0 {
            return Err(bad("field number is zero"));
        }
        key.eword = Some(f - 1);
        let rest = if let Some(r) = rest.strip_prefix('.') {
            let (c, r2) = split_number(r);
            key.echar = c.ok_or_else(|| {
                format!("invalid number after '.': invalid count at start of '{r}'")
            })?;
            r2
        } else {
            rest
        };
        key.set_ordering(rest, true).map_err(|_| {
            format!("stray character in field spec: invalid field specification '{spec}'")
        })?;
    }
    Ok(key)
}

/// Splits leading decimal digits off `s` (saturating).
fn split_number(s: &str) -> (Option<usize>, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 {
        return (None, s);
    }
    (Some(s[..end].parse().unwrap_or(usize::MAX)), &s[end..])
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Field layout: `None` = runs of blanks separate fields (blanks belong to
/// the following field), `Some(c)` = the byte `c` separates fields.
type Tab = Option<u8>;

/// Start of the key in `line` (GNU `begfield`).
fn begfield(line: &[u8], key: &Key, tab: Tab) -> usize {
    let lim = line.len();
    let mut ptr = 0;
    let mut sword = key.sword;
    match tab {
        Some(t) => {
            while ptr < lim && sword > 0 {
                sword -= 1;
                while ptr < lim && line[ptr] != t {
                    ptr += 1;
                }
                if ptr < lim {
                    ptr += 1;
                }
            }
        }
        None => {
            while ptr < lim && sword > 0 {
                sword -= 1;
                while ptr < lim && is_blank(line[ptr]) {
                    ptr += 1;
                }
                while ptr < lim && !is_blank(line[ptr]) {
                    ptr += 1;
                }
            }
        }
    }
    if key.skip_sblanks {
        while ptr < lim && is_blank(line[ptr]) {
            ptr += 1;
        }
    }
    lim.min(ptr.saturating_add(key.schar))
}

/// End of the key in `line` (GNU `limfield`).
fn limfield(line: &[u8], key: &Key, tab: Tab) -> usize {
    let lim = line.len();
    let Some(eword0) = key.eword else { return lim };
    let echar = key.echar;
    let mut eword = if echar == 0 {
        eword0.saturating_add(1)
    } else {
        eword0
    };
    let mut ptr = 0;
    match tab {
        Some(t) => {
            while ptr < lim && eword > 0 {
                eword -= 1;
                while ptr < lim && line[ptr] != t {
                    ptr += 1;
                }
                if ptr < lim && (eword > 0 || echar > 0) {
                    ptr += 1;
                }
            }
        }
        None => {
            while ptr < lim && eword > 0 {
                eword -= 1;
                while ptr < lim && is_blank(line[ptr]) {
                    ptr += 1;
                }
                while ptr < lim && !is_blank(line[ptr]) {
                    ptr += 1;
                }
            }
        }
    }
    if echar != 0 {
        if key.skip_eblanks {
            while ptr < lim && is_blank(line[ptr]) {
                ptr += 1;
            }
        }
        ptr = lim.min(ptr.saturating_add(echar));
    }
    ptr
}

/// A parsed decimal number for `-n`: sign, integer digits (no leading
/// zeros) and fraction digits (no trailing zeros).
fn parse_num(s: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut i = 0;
    while i < s.len() && (is_blank(s[i]) || s[i] == b'\n') {
        i += 1;
    }
    let neg = i < s.len() && s[i] == b'-';
    if neg {
        i += 1;
    }
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let mut int = &s[int_start..i];
    while int.first() == Some(&b'0') {
        int = &int[1..];
    }
    let mut frac: &[u8] = &[];
    if i < s.len() && s[i] == b'.' {
        let fs = i + 1;
        let mut j = fs;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        frac = &s[fs..j];
        while frac.last() == Some(&b'0') {
            frac = &frac[..frac.len() - 1];
        }
        i = j;
    }
    let _ = i;
    let zero = int.is_empty() && frac.is_empty();
    (neg && !zero, int, frac)
}

/// Compares two magnitudes given as integer and fraction digit strings.
fn cmp_magnitude(ai: &[u8], af: &[u8], bi: &[u8], bf: &[u8]) -> Ordering {
    ai.len()
        .cmp(&bi.len())
        .then_with(|| ai.cmp(bi))
        .then_with(|| af.cmp(bf))
}

/// GNU `-n` comparison (`strnumcmp` in the C locale).
fn numcompare(a: &[u8], b: &[u8]) -> Ordering {
    let (an, ai, af) = parse_num(a);
    let (bn, bi, bf) = parse_num(b);
    match (an, bn) {
        (false, false) => cmp_magnitude(ai, af, bi, bf),
        (true, true) => cmp_magnitude(bi, bf, ai, af),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// The SI power of a `-h` suffix after the number, 0 when none.
fn unit_order(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && is_blank(s[i]) {
        i += 1;
    }
    if i < s.len() && s[i] == b'-' {
        i += 1;
    }
    while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'.') {
        i += 1;
    }
    match s.get(i) {
        Some(b'k' | b'K') => 1,
        Some(b'M') => 2,
        Some(b'G') => 3,
        Some(b'T') => 4,
        Some(b'P') => 5,
        Some(b'E') => 6,
        Some(b'Z') => 7,
        Some(b'Y') => 8,
        Some(b'R') => 9,
        Some(b'Q') => 10,
        _ => 0,
    }
}

/// GNU `-h` comparison: sign, then unit, then number.
fn human_compare(a: &[u8], b: &[u8]) -> Ordering {
    let (an, ai, af) = parse_num(a);
    let (bn, bi, bf) = parse_num(b);
    let sa: i32 = if an {
        -1
    } else if ai.is_empty() && af.is_empty() {
        0
    } else {
        1
    };
    let sb: i32 = if bn {
        -1
    } else if bi.is_empty() && bf.is_empty() {
        0
    } else {
        1
    };
    if sa != sb {
        return sa.cmp(&sb);
    }
    let ua = unit_order(a) * sa;
    let ub = unit_order(b) * sb;
    ua.cmp(&ub).then_with(|| numcompare(a, b))
}

/// The longest floating-point prefix of `s` (as `strtod`), `None` if none.
fn parse_float(s: &[u8]) -> Option<f64> {
    let text = String::from_utf8_lossy(s);
    let t = text.trim_start();
    let mut best = None;
    for (i, c) in t.char_indices().take(64) {
        if let Ok(v) = t[..i + c.len_utf8()].parse::<f64>() {
            best = Some(v);
        }
    }
    best
}

/// GNU `-g` comparison: non-numbers first, then NaN, then by value.
fn general_compare(a: &[u8], b: &[u8]) -> Ordering {
    match (parse_float(a), parse_float(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        },
    }
}

/// The month number of the key for `-M` (0 when not a month).
fn month_of(s: &[u8]) -> u8 {
    const MONTHS: [&[u8]; 12] = [
        b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV",
        b"DEC",
    ];
    let mut i = 0;
    while i < s.len() && (is_blank(s[i]) || s[i] == b'\n') {
        i += 1;
    }
    let rest = &s[i..];
    if rest.len() < 3 {
        return 0;
    }
    let up = [
        rest[0].to_ascii_uppercase(),
        rest[1].to_ascii_uppercase(),
        rest[2].to_ascii_uppercase(),
    ];
    MONTHS
        .iter()
        .position(|m| **m == up)
        .map(|p| p as u8 + 1)
        .unwrap_or(0)
}

/// Character order for version comparison (Debian `order`).
fn ver_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// Debian-style version comparison of two strings (`verrevcmp`).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0i32;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = ver_order(a.get(i).copied());
            let bc = ver_order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && j < b.len() && a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

/// The length of `s` without its file suffix (`(\.[A-Za-z~][A-Za-z0-9~]*)*$`).
fn suffix_start(s: &[u8]) -> usize {
    let mut i = 0;
    let mut start: Option<usize> = None;
    while i < s.len() {
        let c = s[i];
        match start {
            Some(_) if c.is_ascii_alphanumeric() || c == b'~' => {}
            Some(st) if c == b'.' && st + 1 != i => {}
            _ if c == b'.'
                && i + 1 < s.len()
                && (s[i + 1].is_ascii_alphabetic() || s[i + 1] == b'~') =>
            {
                if start.is_none() {
                    start = Some(i);
                }
            }
            _ => start = None,
        }
        i += 1;
    }
    start.unwrap_or(s.len())
}

/// GNU `filevercmp` (used by `-V`).
fn filevercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    if a.is_empty() {
        return Ordering::Less;
    }
    if b.is_empty() {
        return Ordering::Greater;
    }
    for special in [&b"."[..], &b".."[..]] {
        if a == special {
            return Ordering::Less;
        }
        if b == special {
            return Ordering::Greater;
        }
    }
    let ah = a[0] == b'.';
    let bh = b[0] == b'.';
    if ah && !bh {
        return Ordering::Less;
    }
    if bh && !ah {
        return Ordering::Greater;
    }
    let (a2, b2) = if ah { (&a[1..], &b[1..]) } else { (a, b) };
    let ap = &a2[..suffix_start(a2)];
    let bp = &b2[..suffix_start(b2)];
    let r = if ap == bp {
        Ordering::Equal
    } else {
        verrevcmp(ap, bp)
    };
    if r == Ordering::Equal {
        verrevcmp(a2, b2)
    } else {
        r
    }
}

/// Compares key texts with `-d`, `-i` and `-f` applied.
fn translated_compare(a: &[u8], b: &[u8], key: &Key) -> Ordering {
    let keep = |c: u8| -> bool {
        if key.dictionary && !(is_blank(c) || c.is_ascii_alphanumeric()) {
            return false;
        }
        if key.nonprinting && !(0x20..0x7f).contains(&c) {
            return false;
        }
        true
    };
    let tr = |c: u8| if key.fold { c.to_ascii_uppercase() } else { c };
    let mut ia = a.iter().copied().filter(|c| keep(*c)).map(tr);
    let mut ib = b.iter().copied().filter(|c| keep(*c)).map(tr);
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
            }
        }
    }
}

/// Compares the texts of one key.
fn compare_text(a: &[u8], b: &[u8], key: &Key) -> Ordering {
    let r = match key.mode {
        Mode::Numeric => numcompare(a, b),
        Mode::General => general_compare(a, b),
        Mode::Human => human_compare(a, b),
        Mode::Month => month_of(a).cmp(&month_of(b)),
        Mode::Version => filevercmp(a, b),
        Mode::Text if key.dictionary || key.nonprinting || key.fold => {
            translated_compare(a, b, key)
        }
        Mode::Text => a.cmp(b),
    };
    if key.reverse { r.reverse() } else { r }
}

/// The sort settings.
#[derive(Debug, Clone, Default)]
struct Settings {
    keys: Vec<Key>,
    tab: Tab,
    stable: bool,
    unique: bool,
    reverse: bool,
}

impl Settings {
    /// Compares by the keys only (the `-u` equality).
    fn key_compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        for key in &self.keys {
            let (sa, sb) = (begfield(a, key, self.tab), begfield(b, key, self.tab));
            let (ea, eb) = (
                limfield(a, key, self.tab).max(sa),
                limfield(b, key, self.tab).max(sb),
            );
            let r = compare_text(&a[sa..ea], &b[sb..eb], key);
            if r != Ordering::Equal {
                return r;
            }
        }
        Ordering::Equal
    }
    /// [`Settings::compare`] of two records, using their precomputed first
    /// keys: the same order, without locating the first key again.
    fn compare_recs(&self, data: &[u8], a: &Rec, b: &Rec) -> Ordering {
        let (Some(key), true, true) = (
            self.keys.first(),
            a.key_start <= a.key_end,
            b.key_start <= b.key_end,
        ) else {
            return self.compare(a.text(data), b.text(data));
        };
        let (ta, tb) = (a.text(data), b.text(data));
        let ka = &ta[a.key_start as usize..a.key_end as usize];
        let kb = &tb[b.key_start as usize..b.key_end as usize];
        let mut r = compare_text(ka, kb, key);
        if r == Ordering::Equal {
            for key in &self.keys[1..] {
                let (sa, sb) = (begfield(ta, key, self.tab), begfield(tb, key, self.tab));
                let (ea, eb) = (
                    limfield(ta, key, self.tab).max(sa),
                    limfield(tb, key, self.tab).max(sb),
                );
                r = compare_text(&ta[sa..ea], &tb[sb..eb], key);
                if r != Ordering::Equal {
                    break;
                }
            }
        }
        if r != Ordering::Equal || self.unique || self.stable {
            return r;
        }
        let r = ta.cmp(tb);
        if self.reverse { r.reverse() } else { r }
    }
    /// The full comparison, with GNU's last resort on the whole line.
    fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        if !self.keys.is_empty() {
            let r = self.key_compare(a, b);
            if r != Ordering::Equal || self.unique || self.stable {
                return r;
            }
        }
        let r = a.cmp(b);
        if self.reverse { r.reverse() } else { r }
    }
}

/// Builds the settings: keys without options inherit the global ones, and
/// global ordering options without `-k` make a whole-line key.
fn build_settings(
    mut keys: Vec<Key>,
    global: Key,
    tab: Tab,
    stable: bool,
    unique: bool,
) -> Settings {
    for k in &mut keys {
        if k.is_default() {
            let (sword, schar, eword, echar) = (k.sword, k.schar, k.eword, k.echar);
            *k = Key {
                sword,
                schar,
                eword,
                echar,
                ..global.clone()
            };
        }
    }
    if keys.is_empty()
        && !(global.is_default() || (global.reverse && global.clone_without_reverse().is_default()))
    {
        keys.push(Key {
            sword: 0,
            schar: 0,
            eword: None,
            echar: 0,
            ..global.clone()
        });
    }
    Settings {
        keys,
        reverse: global.reverse,
        tab,
        stable,
        unique,
    }
}

impl Key {
    fn clone_without_reverse(&self) -> Key {
        Key {
            reverse: false,
            ..self.clone()
        }
    }
}

/// One record of the input: `data[start..end]` without its delimiter, and
/// where its first key lies (`key_start..key_end`, relative to `start`),
/// found once instead of at every comparison (24 bytes a line, so a large
/// input costs little beyond its bytes). `key_end < key_start` means "not
/// precomputed" (no key, or a record over 4 GiB).
#[derive(Debug, Clone, Copy)]
struct Rec {
    start: usize,
    end: usize,
    key_start: u32,
    key_end: u32,
}

impl Rec {
    fn text<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.start..self.end]
    }
}

/// The records of `data`, split at `delim`, with the first key of
/// `settings` located in each.
fn split_records(data: &[u8], delim: u8, settings: &Settings) -> Vec<Rec> {
    let first = settings.keys.first();
    let rec = |start: usize, end: usize| {
        let line = &data[start..end];
        let located = first.and_then(|key| {
            let s = begfield(line, key, settings.tab);
            let e = limfield(line, key, settings.tab).max(s);
            Some((u32::try_from(s).ok()?, u32::try_from(e).ok()?))
        });
        let (key_start, key_end) = located.unwrap_or((1, 0));
        Rec {
            start,
            end,
            key_start,
            key_end,
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(delim, data) {
        out.push(rec(start, i));
        start = i + 1;
    }
    if start < data.len() {
        out.push(rec(start, data.len()));
    }
    out
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut global = Key::default();
    for (k, _) in &p.opts {
        let letter = match *k {
            "b" | "d" | "f" | "g" | "i" | "M" | "h" | "n" | "R" | "r" | "V" => *k,
            _ => continue,
        };
        let _ = global.set_ordering(letter, false);
        if letter == "b" {
            global.skip_eblanks = true;
        }
    }
    if let Some(s) = p.value("sort") {
        let letter = match s {
            "general-numeric" => "g",
            "human-numeric" => "h",
            "month" => "M",
            "numeric" => "n",
            "random" => "R",
            "version" => "V",
            _ => {
                ctx.error(format!("invalid argument '{s}' for '--sort'"))
                    .await;
                return Ok(2);
            }
        };
        let _ = global.set_ordering(letter, false);
    }
    let mut keys = Vec::new();
    for spec in p.values("key") {
        match parse_key(spec) {
            Ok(k) => keys.push(k),
            Err(msg) => {
                ctx.error(msg).await;
                return Ok(2);
            }
        }
    }
    let tab: Tab = match p.value("t") {
        None => None,
        Some(t) if mirage_types::bytestr::encode(t).len() == 1 => {
            Some(mirage_types::bytestr::encode(t)[0])
        }
        Some("\\0") => Some(0),
        Some("") => {
            ctx.error("empty tab").await;
            return Ok(2);
        }
        Some(t) => {
            ctx.error(format!("multi-character tab '{t}'")).await;
            return Ok(2);
        }
    };
    let delim = if p.has("z") { 0 } else { b'\n' };
    let settings = build_settings(keys, global, tab, p.has("s"), p.has("u"));
    let check = if p.has("C") || matches!(p.value("check"), Some("quiet" | "silent")) {
        Some(true)
    } else if p.has("c") || p.has("check") {
        Some(false)
    } else {
        None
    };
    let files = operands_or_stdin(&p);
    if let Some(quiet) = check {
        if files.len() > 1 {
            ctx.error(format!("extra operand '{}' not allowed with -c", files[1]))
                .await;
            return Ok(2);
        }
        let name = files[0].clone();
        let data = match read_whole(ctx, &name).await {
            Ok(d) => d,
            Err(code) => return Ok(code),
        };
        let recs = split_records(&data, delim, &settings);
        for i in 1..recs.len() {
            let b = recs[i].text(&data);
            let r = settings.compare_recs(&data, &recs[i - 1], &recs[i]);
            if r == Ordering::Greater || (settings.unique && r == Ordering::Equal) {
                if !quiet {
                    let line = String::from_utf8_lossy(b);
                    ctx.error(format!("{name}:{}: disorder: {line}", i + 1))
                        .await;
                }
                return Ok(1);
            }
        }
        return Ok(0);
    }
    let data: Bytes = if files.len() == 1 {
        match read_whole(ctx, &files[0]).await {
            Ok(d) => d,
            Err(code) => return Ok(code),
        }
    } else {
        let mut all = Vec::new();
        for f in &files {
            let d = match read_whole(ctx, f).await {
                Ok(d) => d,
                Err(code) => return Ok(code),
            };
            all.extend_from_slice(&d);
            if !d.is_empty() && d.last() != Some(&delim) {
                all.push(delim);
            }
        }
        Bytes::from(all)
    };
    let mut recs = split_records(&data, delim, &settings);
    let text = |r: &Rec| r.text(&data);
    recs.sort_by(|a, b| settings.compare_recs(&data, a, b));
    if settings.unique {
        recs.dedup_by(|b, a| settings.compare_recs(&data, a, b) == Ordering::Equal);
    }
    if let Some(path) = p.value("output") {
        let mut out = Vec::with_capacity(recs.iter().map(|r| r.end - r.start + 1).sum());
        for r in &recs {
            out.extend_from_slice(text(r));
            out.push(delim);
        }
        let abs = ctx.resolve(path);
        match ctx.vfs.write(&abs, ByteSource::from(out)).await {
            Ok(()) => ctx.io.wrote(&abs),
            Err(e) => {
                ctx.error(format!("open failed: {path}: {}", e.message()))
                    .await;
                return Ok(2);
            }
        }
        return Ok(0);
    }
    let mut out = Vec::with_capacity(64 * 1024);
    for r in &recs {
        out.extend_from_slice(text(r));
        out.push(delim);
        if out.len() >= 64 * 1024 {
            if let Err(e) = ctx
                .stdout
                .write_bytes(Bytes::from(std::mem::take(&mut out)))
                .await
                && e.kind == ErrorKind::BrokenPipe
            {
                return Ok(0);
            }
            out.reserve(64 * 1024);
        }
    }
    if let Err(e) = ctx.stdout.write_bytes(Bytes::from(out)).await
        && e.kind == ErrorKind::BrokenPipe
    {
        return Ok(0);
    }
    Ok(0)
}

/// Reads one input whole; on error prints GNU's message and gives exit status 2.
async fn read_whole(ctx: &mut CommandCtx, operand: &str) -> Result<Bytes, i32> {
    let res = match open_input_err(ctx, operand).await {
        Ok(src) => src.collect().await.map_err(|e| (true, e)),
        Err(e) => Err((e.kind == ErrorKind::IsADirectory, e)),
    };
    match res {
        Ok(d) => Ok(d),
        Err((true, e)) => {
            ctx.error(format!("read failed: {operand}: {}", e.message()))
                .await;
            Err(2)
        }
        Err((false, e)) => {
            ctx.error(format!("cannot read: {operand}: {}", e.message()))
                .await;
            Err(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{GNU_FILES, MemVfs, run as run_cmd};

    fn sorted(lines: &[&str], s: &Settings) -> Vec<String> {
        let mut v: Vec<&str> = lines.to_vec();
        v.sort_by(|a, b| s.compare(a.as_bytes(), b.as_bytes()));
        if s.unique {
            v.dedup_by(|b, a| s.compare(a.as_bytes(), b.as_bytes()) == Ordering::Equal);
        }
        v.into_iter().map(String::from).collect()
    }

    /// The precomputed-first-key comparison orders exactly as the plain one.
    #[test]
    fn record_compare_matches_line_compare() {
        let mut seed = 11u64;
        let mut rnd = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 33) % n
        };
        let mut data = Vec::new();
        for _ in 0..400 {
            for f in 0..4 {
                if f > 0 {
                    data.push(if rnd(5) == 0 { b' ' } else { b',' });
                }
                for _ in 0..rnd(4) {
                    data.push([b'a', b'b', b'1', b'9', b' ', b'-'][rnd(6) as usize]);
                }
            }
            data.push(b'\n');
        }
        let cases: &[(&[&str], &str, Tab)] = &[
            (&["2,2"], "", Some(b',')),
            (&["2,2", "1n"], "", Some(b',')),
            (&["3b,3", "1r"], "", None),
            (&["1"], "n", None),
            (&[], "r", None),
            (&["2"], "f", Some(b',')),
        ];
        for (keys, global, tab) in cases {
            for (stable, unique) in [(false, false), (true, false), (false, true)] {
                let mut st = settings(keys, global, *tab);
                st.stable = stable;
                st.unique = unique;
                let recs = split_records(&data, b'\n', &st);
                let mut by_rec = recs.clone();
                by_rec.sort_by(|a, b| st.compare_recs(&data, a, b));
                let mut by_line = recs;
                by_line.sort_by(|a, b| st.compare(a.text(&data), b.text(&data)));
                let text = |v: &[Rec]| v.iter().map(|r| r.text(&data).to_vec()).collect::<Vec<_>>();
                assert_eq!(
                    text(&by_rec),
                    text(&by_line),
                    "{keys:?} {global} {stable} {unique}"
                );
            }
        }
    }

    fn settings(keys: &[&str], global: &str, tab: Tab) -> Settings {
        let mut g = Key::default();
        let _ = g.set_ordering(global, false);
        if global.contains('b') {
            g.skip_eblanks = true;
        }
        let keys = keys.iter().filter_map(|k| parse_key(k).ok()).collect();
        build_settings(keys, g, tab, false, false)
    }

    #[test]
    fn key_parsing() {
        let k = parse_key("2,2n").unwrap();
        assert_eq!(
            (k.sword, k.eword, k.echar, k.mode),
            (1, Some(1), 0, Mode::Numeric)
        );
        let k = parse_key("1.3b,1.5r").unwrap();
        assert_eq!(
            (k.schar, k.echar, k.skip_sblanks, k.reverse),
            (2, 5, true, true)
        );
        assert!(parse_key("0").unwrap_err().contains("field number is zero"));
        assert!(parse_key("1x").is_err());
    }

    #[test]
    fn fields_and_keys() {
        let k = parse_key("2,2").unwrap();
        let line = b"a 10 x";
        assert_eq!(
            &line[begfield(line, &k, None)..limfield(line, &k, None)],
            b" 10"
        );
        let line = b"1,Alice,Eng,120";
        let k = parse_key("3,3").unwrap();
        assert_eq!(
            &line[begfield(line, &k, Some(b','))..limfield(line, &k, Some(b','))],
            b"Eng"
        );
        let k = parse_key("2").unwrap();
        assert_eq!(
            &line[begfield(line, &k, Some(b','))..limfield(line, &k, Some(b','))],
            b"Alice,Eng,120"
        );
    }

    #[test]
    fn gnu_orders() {
        let s = settings(&["2"], "", None);
        assert_eq!(
            sorted(&["a 10 x", "b 9 y", "c 100 z", "d 9 a"], &s),
            ["a 10 x", "c 100 z", "d 9 a", "b 9 y"]
        );
        let s = settings(&["2,2n"], "", None);
        assert_eq!(
            sorted(&["a 10 x", "b 9 y", "c 100 z", "d 9 a"], &s),
            ["b 9 y", "d 9 a", "a 10 x", "c 100 z"]
        );
        let s = settings(&["1,1nr", "2,2n"], "", None);
        assert_eq!(sorted(&["1 b", "2 a", "1 a"], &s), ["2 a", "1 a", "1 b"]);
        let s = settings(&[], "rn", None);
        assert_eq!(
            sorted(&["5", "-3", "10", "abc"], &s),
            ["10", "5", "abc", "-3"]
        );
        let s = settings(&[], "f", None);
        assert_eq!(
            sorted(&["banana", "Apple", "apple", "Banana"], &s),
            ["Apple", "apple", "Banana", "banana"]
        );
        let s = settings(&[], "", None);
        assert_eq!(
            sorted(&["banana", "Apple", "_x", "1z"], &s),
            ["1z", "Apple", "_x", "banana"]
        );
    }

    #[test]
    fn numbers_months_versions() {
        assert_eq!(numcompare(b" 10", b"9"), Ordering::Greater);
        assert_eq!(numcompare(b"-0", b"0"), Ordering::Equal);
        assert_eq!(numcompare(b"1.5", b"1.25"), Ordering::Greater);
        assert_eq!(numcompare(b"-2", b"-10"), Ordering::Greater);
        assert_eq!(human_compare(b"2K", b"1M"), Ordering::Less);
        assert_eq!(human_compare(b"10K", b"9K"), Ordering::Greater);
        assert_eq!(general_compare(b"1e3", b"999"), Ordering::Greater);
        assert_eq!(month_of(b" feb"), 2);
        assert_eq!(month_of(b"xyz"), 0);
        let mut v = vec!["v1.10.0", "v1.2.10", "v2.0.0", "v1.9.3", "v1.2.0"];
        v.sort_by(|a, b| filevercmp(a.as_bytes(), b.as_bytes()));
        assert_eq!(v, ["v1.2.0", "v1.2.10", "v1.9.3", "v1.10.0", "v2.0.0"]);
        assert_eq!(filevercmp(b"a.tar.gz", b"a-1.tar.gz"), Ordering::Less);
    }

    #[test]
    fn matches_gnu() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &[],
                "banana\nApple\napple\nBanana\n_x\n1z\n",
                "1z\nApple\nBanana\n_x\napple\nbanana\n",
                0,
            ),
            (
                &["-f"],
                "banana\nApple\napple\nBanana\n",
                "Apple\napple\nBanana\nbanana\n",
                0,
            ),
            (&["-k2", "s.txt"], "", "a 10 x\nc 100 z\nd 9 a\nb 9 y\n", 0),
            (
                &["-k2,2n", "s.txt"],
                "",
                "b 9 y\nd 9 a\na 10 x\nc 100 z\n",
                0,
            ),
            (
                &["-t,", "-k4,4n", "emp.csv"],
                "",
                "id,name,dept,salary\n4,Dan,Sales,70000\n2,Bob,Mkt,85000\n1,Alice,Eng,120000\n3,Carol,Eng,135000\n",
                0,
            ),
            (
                &["-t,", "-k3,3", "-k4,4nr", "emp.csv"],
                "",
                "3,Carol,Eng,135000\n1,Alice,Eng,120000\n2,Bob,Mkt,85000\n4,Dan,Sales,70000\nid,name,dept,salary\n",
                0,
            ),
            (
                &["-V", "v.txt"],
                "",
                "v1.2.0\nv1.2.10\nv1.9.3\nv1.10.0\nv2.0.0\n",
                0,
            ),
            (&["-s", "-k1,1", "st.txt"], "", "a 3\na 1\nb 2\nb 1\n", 0),
            (&["-k1,1", "st.txt"], "", "a 1\na 3\nb 1\nb 2\n", 0),
            (&["-c", "st.txt"], "", "", 1),
            (&["-c", "v.txt"], "", "", 1),
            (&[], "Mar\nJan\nDec\nFeb\n", "Dec\nFeb\nJan\nMar\n", 0),
            (&["-M"], "Mar\nJan\nDec\nFeb\n", "Jan\nFeb\nMar\nDec\n", 0),
            (
                &["-rn"],
                "3 the\n10 a\n2 and\n1 dog\n3 fox\n",
                "10 a\n3 the\n3 fox\n2 and\n1 dog\n",
                0,
            ),
            (&["-h", "h.txt"], "", "512\n2K\n10K\n1M\n1G\n", 0),
            (&["-u"], "b\na\nb\na\n", "a\nb\n", 0),
            (&["-fu"], "a\nA\nb\n", "a\nb\n", 0),
            (
                &["-n"],
                "10\n-1\n2.5\nabc\n\n-0\n0\n",
                "-1\n\n-0\n0\nabc\n2.5\n10\n",
                0,
            ),
            (
                &["-g"],
                "1e3\n5\nnan\nx\n-inf\n",
                "x\nnan\n-inf\n5\n1e3\n",
                0,
            ),
            (&["missing.txt"], "", "", 2),
            (&["-r"], "a\nc\nb\n", "c\nb\na\n", 0),
            (&["-z"], "b\0a\0", "a\0b\0", 0),
            (
                &["-k1,1nr", "-k2"],
                "3 login\n2 upload\n1 download\n1 logout\n3 alogin\n",
                "3 alogin\n3 login\n2 upload\n1 download\n1 logout\n",
                0,
            ),
            (&["-b", "-k2"], "x   b\ny  a\n", "y  a\nx   b\n", 0),
            (&["-k2b"], "x   b\ny  a\n", "y  a\nx   b\n", 0),
            (&["-d"], "b-c\na_z\nb.a\n", "a_z\nb.a\nb-c\n", 0),
            (&["-nr", "-k1"], "1\n2\n10\n", "10\n2\n1\n", 0),
            (&["-k1.2,1.3"], "xbc\nyab\nzaa\n", "zaa\nyab\nxbc\n", 0),
            (&["-t", ":", "-k2"], "a:b:c\nb:a:d\n", "b:a:d\na:b:c\n", 0),
            (&["-k", "0"], "x\n", "", 2),
            (&["-nu"], "1\n01\n2\n", "1\n2\n", 0),
            (&["a.txt", "b.txt"], "", "a1\na2\na3\nb1\nb2\n", 0),
            (&["-C", "v.txt"], "", "", 1),
            (
                &["-k2,2", "-k1,1r"],
                "b x\na x\nc y\n",
                "b x\na x\nc y\n",
                0,
            ),
            (&["-o", "out.txt", "a.txt"], "", "", 0),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "sort", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }

    #[test]
    fn matches_gnu_more() {
        let vfs = MemVfs::with(GNU_FILES);
        let cases: &[(&[&str], &str, &str, i32)] = &[
            (
                &["-t", " ", "-k2,2"],
                "x b\ny a\nz  c\n",
                "z  c\ny a\nx b\n",
                0,
            ),
            (
                &["-n"],
                "  5\n+3\n 10\n-2\n1e2\n",
                "-2\n+3\n1e2\n  5\n 10\n",
                0,
            ),
            (&["-u", "-k1,1"], "a 2\na 1\nb 3\n", "a 2\nb 3\n", 0),
            (&["-r", "-k2"], "a 1\nb 2\nc 1\n", "b 2\nc 1\na 1\n", 0),
            (&["-cu"], "a\na\n", "", 1),
            (&["-t", "\t", "-k2,2"], "a\tz\nb\ty\n", "b\ty\na\tz\n", 0),
            (&["-k1.2"], "ab\n ac\nbb\n", " ac\nab\nbb\n", 0),
            (
                &["-s", "-r", "-k1,1"],
                "a 1\nb 1\na 2\n",
                "b 1\na 1\na 2\n",
                0,
            ),
            (&["-i"], "b\na\n", "a\nb\n", 0),
            (
                &["-V"],
                "file10.txt\nfile9.txt\nfile1.txt\n1.0-rc1\n1.0\n",
                "1.0\n1.0-rc1\nfile1.txt\nfile9.txt\nfile10.txt\n",
                0,
            ),
            (
                &["-k1,1", "-k2,2n"],
                "b 10\nb 9\na 1\n",
                "a 1\nb 9\nb 10\n",
                0,
            ),
            (
                &["-n", "-k2"],
                "x 1.5\ny 1.25\nz -1\n",
                "z -1\ny 1.25\nx 1.5\n",
                0,
            ),
            (&["-nk2,2", "-t,"], "a,3\nb,1\nc,2\n", "b,1\nc,2\na,3\n", 0),
            (&["-bk2"], "a  y\nb x\n", "b x\na  y\n", 0),
            (&["-k2.2,2.2"], "a xb\nb ya\n", "a xb\nb ya\n", 0),
            (&["-fk1"], "B\na\nA\nb\n", "A\na\nB\nb\n", 0),
            (&["-M", "-r"], "Jan\nMar\nfeb\n", "Mar\nfeb\nJan\n", 0),
            (&["-hr"], "1K\n2M\n3\n", "2M\n1K\n3\n", 0),
            (&["-g", "-r"], "1.5\n10\n2e0\n", "10\n2e0\n1.5\n", 0),
            (&["-dk1"], "a.b\nab\naa\n", "aa\na.b\nab\n", 0),
            (&[], "b\n\na\n", "\na\nb\n", 0),
            (&["-k3"], "a b\nc\n", "a b\nc\n", 0),
            (
                &["-t:", "-k2n", "-k1"],
                "z:1\na:1\nm:0\n",
                "m:0\na:1\nz:1\n",
                0,
            ),
        ];
        for (args, stdin, want, code) in cases {
            let (out, err, status) = run_cmd(&vfs, run, "sort", args, "/d", stdin);
            assert_eq!((&out[..], status), (*want, *code), "{args:?} stderr={err}");
        }
    }
}
