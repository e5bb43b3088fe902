//! `look`: print the lines of a sorted file that begin with a string;
//! behaviour as util-linux 2.38 `look [-adf] [-t CHAR] STRING [FILE]`,
//! original code.
//!
//! The file is searched as `look` searches it, which shows on unsorted
//! input: a bisection over byte offsets (each probe moved to the start of
//! the next line) narrows the window, a forward scan from its start finds
//! the first line whose prefix equals the string, and the run of equal
//! lines from there is printed. `-d` compares only alphanumerics and
//! blanks, `-f` ignores ASCII case, `-t CHAR` ends the string after the
//! first CHAR. With no FILE, `-d` and `-f` are on and the file is
//! `/usr/share/dict/words` (`-a`: `/usr/share/dict/web2`), read through
//! the VFS like any other. Exit status 0 when a line was found, 1 when
//! none was or on an error.

use std::cmp::Ordering;

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::bytestr;
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::parse_cmd;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("alternative", Some('a'), Some("alternative")),
    OptSpec::flag("alphanum", Some('d'), Some("alphanum")),
    OptSpec::flag("ignore-case", Some('f'), Some("ignore-case")),
    OptSpec::value("terminate", Some('t'), Some("terminate")),
];

/// The spec of `look` (the file is the second operand).
pub static SPEC: CommandSpec = CommandSpec::new("look", OPTS, PathOperands::SkipFirst);

crate::register_command!("look", SPEC, run);

/// The string looked for, and how lines are matched against it.
struct Key {
    string: Vec<u8>,
    /// `-d`: only alphanumerics and blanks of a line count.
    alnum_only: bool,
    /// `-f`: ASCII case is ignored.
    fold: bool,
}

impl Key {
    /// How the start of `line` (up to its newline) sorts against the
    /// string, looking at as many counted bytes as the string has: `Less`
    /// when the line sorts first (a line that runs out sorts first).
    fn order(&self, line: &[u8]) -> Ordering {
        let counted = line
            .iter()
            .take_while(|&&c| c != b'\n')
            .filter(|&&c| !self.alnum_only || c.is_ascii_alphanumeric() || c == b' ' || c == b'\t');
        let fold = |c: u8| if self.fold { c.to_ascii_lowercase() } else { c };
        let mut counted = counted.map(|&c| fold(c));
        for &want in &self.string {
            match counted.next() {
                None => return Ordering::Less,
                Some(got) => match got.cmp(&fold(want)) {
                    Ordering::Equal => {}
                    other => return other,
                },
            }
        }
        Ordering::Equal
    }
}

/// The offset just past the first newline at or after `from`, or `limit`.
fn past_newline(data: &[u8], from: usize, limit: usize) -> usize {
    data.get(from..limit)
        .and_then(|s| s.iter().position(|&c| c == b'\n'))
        .map_or(limit, |i| from + i + 1)
}

/// The lines of `data` that start with the key, found as `look` finds them.
fn look(key: &Key, data: &[u8]) -> Option<Vec<u8>> {
    let len = data.len();
    // bisect: `low` stays at a line sorting before the key (or 0), `high`
    // at a line that does not (or the end)
    let (mut low, mut high) = (0usize, len);
    loop {
        let probe = past_newline(data, low + (high - low) / 2, high);
        if probe >= high {
            break;
        }
        if key.order(&data[probe..]) == Ordering::Less {
            low = probe;
        } else {
            high = probe;
        }
    }
    // scan forward to the first line equal to the key
    let mut at = low;
    loop {
        if at >= len {
            return None;
        }
        match key.order(&data[at..]) {
            Ordering::Less => at = past_newline(data, at, len),
            Ordering::Equal => break,
            Ordering::Greater => return None,
        }
    }
    let start = at;
    while at < len && key.order(&data[at..]) == Ordering::Equal {
        at = past_newline(data, at, len);
    }
    Some(data[start..at].to_vec())
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let mut dflag = p.has("alphanum");
    let mut fflag = p.has("ignore-case");
    let default = if p.has("alternative") {
        "/usr/share/dict/web2"
    } else {
        "/usr/share/dict/words"
    };
    let (string, file) = match p.operands.as_slice() {
        [s, f] => (s.clone(), f.clone()),
        [s] => {
            dflag = true;
            fflag = true;
            (s.clone(), default.to_string())
        }
        _ => return Err(CmdError::usage("bad usage")),
    };
    let mut string = bytestr::encode(&string).into_owned();
    if let Some(t) = p.value("terminate").and_then(|t| t.bytes().next())
        && let Some(i) = string.iter().position(|&b| b == t)
    {
        string.truncate(i + 1);
    }
    if dflag {
        string.retain(|&c| c.is_ascii_alphanumeric() || c == b' ' || c == b'\t');
    }
    let data = match ctx.read_path(&file).await {
        Ok(src) => src.collect().await,
        Err(e) => Err(e),
    }
    .map_err(|e| CmdError::new(1, format!("{file}: {}", e.message())))?;
    // look maps the file into memory, which an empty file refuses
    if data.is_empty() {
        return Err(CmdError::new(1, format!("{file}: Invalid argument")));
    }
    let key = Key {
        string,
        alnum_only: dflag,
        fold: fflag,
    };
    match look(&key, &data) {
        Some(out) => {
            ctx.stdout.write(&out).await?;
            Ok(0)
        }
        None => Ok(1),
    }
}

#[cfg(test)]
mod tests {
    use super::{Key, look};

    fn k(s: &str, alnum_only: bool, fold: bool) -> Key {
        Key {
            string: s.as_bytes().to_vec(),
            alnum_only,
            fold,
        }
    }

    #[test]
    fn search_as_util_linux() {
        let sorted = b"apple\napricot\nbanana\ncherry\n";
        assert_eq!(
            look(&k("ap", false, false), sorted).unwrap(),
            b"apple\napricot\n"
        );
        assert!(look(&k("zz", false, false), sorted).is_none());
        // an unsorted file misses, as the original does
        let unsorted = b"apple\napricot\nBanana\nbanana\ncherry\n";
        assert!(look(&k("ap", false, false), unsorted).is_none());
        assert_eq!(
            look(&k("b", false, true), unsorted).unwrap(),
            b"Banana\nbanana\n"
        );
        assert_eq!(
            look(&k("ab", true, false), b"a-b\nab\nabc\n").unwrap(),
            b"a-b\nab\nabc\n"
        );
    }
}
