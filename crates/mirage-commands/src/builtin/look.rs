//! `look`: print the lines of a sorted file that begin with a string, as
//! util-linux 2.38 `look [-adf] [-t CHAR] STRING [FILE]`.
//!
//! The search is util-linux's: a binary search over the file's bytes, then
//! a linear scan, then the matching lines, so an unsorted file gives the
//! same (surprising) answer as the original. `-d` compares only
//! alphanumerics and blanks, `-f` ignores ASCII case, `-t CHAR` ends the
//! string after the first CHAR. With no FILE, `-d` and `-f` are on and the
//! file is `/usr/share/dict/words` (`-a`: `/usr/share/dict/web2`), read
//! through the VFS like any other. Exit status 0 when a line was found,
//! 1 when none was or on an error.

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

/// How a line compares with the string.
struct Key {
    string: Vec<u8>,
    dflag: bool,
    fflag: bool,
}

impl Key {
    /// `string` against the start of `line` (util-linux's `compare`):
    /// `Greater` when the string sorts after the line's prefix.
    fn compare(&self, line: &[u8]) -> Ordering {
        let mut buf = Vec::with_capacity(self.string.len());
        for &c in line {
            if c == b'\n' || buf.len() == self.string.len() {
                break;
            }
            if self.dflag && !c.is_ascii_alphanumeric() && c != b' ' && c != b'\t' {
                continue;
            }
            buf.push(c);
        }
        for (i, &s) in self.string.iter().enumerate() {
            let Some(&l) = buf.get(i) else {
                // the line's prefix is shorter: it ends first (NUL)
                return Ordering::Greater;
            };
            let (s, l) = if self.fflag {
                (s.to_ascii_lowercase(), l.to_ascii_lowercase())
            } else {
                (s, l)
            };
            match s.cmp(&l) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

/// The offset just past the newline at or after `p` (`SKIP_PAST_NEWLINE`).
fn skip_line(data: &[u8], mut p: usize, back: usize) -> usize {
    while p < back {
        p += 1;
        if data[p - 1] == b'\n' {
            break;
        }
    }
    p
}

/// The matching lines of `data`, found as util-linux's `look` finds them.
fn look(key: &Key, data: &[u8]) -> Option<Vec<u8>> {
    // binary search
    let mut front = 0usize;
    let mut back = data.len();
    let mut p = skip_line(data, front + (back - front) / 2, back);
    while p < back && back > front {
        if key.compare(&data[p..back]) == Ordering::Greater {
            front = p;
        } else {
            back = p;
        }
        p = skip_line(data, front + (back - front) / 2, back);
    }
    // linear search
    let back = data.len();
    let mut found = None;
    while front < back {
        match key.compare(&data[front..back]) {
            Ordering::Equal => {
                found = Some(front);
                break;
            }
            Ordering::Less => break,
            Ordering::Greater => {}
        }
        front = skip_line(data, front, back);
    }
    let mut front = found?;
    let mut out = Vec::new();
    while front < back && key.compare(&data[front..back]) == Ordering::Equal {
        let end = skip_line(data, front, back);
        out.extend_from_slice(&data[front..end]);
        front = end;
    }
    Some(out)
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
    let key = Key {
        string,
        dflag,
        fflag,
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

    fn k(s: &str, dflag: bool, fflag: bool) -> Key {
        Key {
            string: s.as_bytes().to_vec(),
            dflag,
            fflag,
        }
    }

    #[test]
    fn binary_search_as_util_linux() {
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
