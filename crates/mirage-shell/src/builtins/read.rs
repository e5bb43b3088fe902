//! `read [-r] [-a ARRAY] [-d DELIM] [-n N] [NAME]...`: reads one record of
//! stdin into variables, split by `IFS`.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::Builtin;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::{ShellState, Value, Var};

/// `read [-r] [-a ARRAY] [-d DELIM] [-n N] [NAME]...`: reads one record of
/// stdin into variables, split by `IFS`.
pub struct Read;

#[async_trait]
impl Builtin for Read {
    fn names(&self) -> &'static [&'static str] {
        &["read"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        read(interp, args, st, io).await
    }
}

async fn read(_interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut raw = false;
    let mut array: Option<String> = None;
    let mut delim: Option<u8> = Some(b'\n');
    let mut nchars: Option<usize> = None;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        match a.as_str() {
            "-r" => raw = true,
            "-a" => {
                array = args.get(i + 1).cloned();
                i += 1;
            }
            "-d" => {
                delim = args
                    .get(i + 1)
                    .map(|d| bytestr::encode(d).first().copied().unwrap_or(0));
                i += 1;
            }
            "-p" | "-t" | "-u" => i += 1,
            "-n" | "-N" => {
                nchars = args.get(i + 1).and_then(|n| n.parse().ok());
                i += 1;
            }
            "-s" | "-e" => {}
            s if s.starts_with("-") && s.len() > 1 && s[1..].chars().all(|c| "rse".contains(c)) => {
                if s.contains('r') {
                    raw = true;
                }
            }
            _ => names.push(a.clone()),
        }
        i += 1;
    }
    let mut input = io.take_stdin();
    // read up to the delimiter, byte by byte from chunks
    let mut line: Vec<u8> = Vec::new();
    let mut got_delim = false;
    let mut eof = false;
    'outer: loop {
        let Ok(Some(chunk)) = input.chunk().await else {
            eof = true;
            break;
        };
        for (k, &b) in chunk.iter().enumerate() {
            if Some(b) == delim && !(b == b'\n' && !raw && line.last() == Some(&b'\\')) {
                got_delim = true;
                input.unread(chunk.slice(k + 1..));
                break 'outer;
            }
            if b == b'\n' && !raw && line.last() == Some(&b'\\') {
                line.pop();
                continue;
            }
            line.push(b);
            if nchars.is_some_and(|n| line.len() >= n) {
                got_delim = true;
                input.unread(chunk.slice(k + 1..));
                break 'outer;
            }
        }
    }
    io.put_stdin(input);
    let _ = eof;
    let text = bytestr::decode(&line).into_owned();
    let text = if raw {
        text
    } else {
        let mut s = String::new();
        let mut esc = false;
        for c in text.chars() {
            if esc {
                s.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                s.push(c);
            }
        }
        s
    };
    let ifs = st.ifs();
    let is_ws = |c: char| ifs.contains(c) && matches!(c, ' ' | '\t' | '\n');
    if let Some(arr) = array {
        let fields: Vec<String> = text
            .split(|c: char| ifs.contains(c))
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let mut v = Var::scalar("");
        v.value = Value::Indexed(
            fields
                .into_iter()
                .enumerate()
                .map(|(i, f)| (i as i64, f))
                .collect(),
        );
        st.vars.insert(arr, v);
    } else {
        if names.is_empty() {
            names.push("REPLY".into());
        }
        if names.len() == 1 && names[0] == "REPLY" && !args.iter().any(|a| a == "REPLY") {
            st.set("REPLY", text.clone());
        } else {
            // split into fields; the last name gets the rest
            let mut rest = text.trim_start_matches(is_ws).to_string();
            for (k, n) in names.iter().enumerate() {
                if k + 1 == names.len() {
                    let trimmed = rest.trim_end_matches(is_ws).to_string();
                    // a single trailing non-whitespace IFS delimiter is dropped
                    st.set(n, trimmed);
                } else {
                    let end = rest.find(|c: char| ifs.contains(c)).unwrap_or(rest.len());
                    let field = rest[..end].to_string();
                    let mut after = rest[end..].to_string();
                    // skip one delimiter (whitespace run + at most one non-ws)
                    after = after.trim_start_matches(is_ws).to_string();
                    if after.starts_with(|c: char| ifs.contains(c) && !is_ws(c)) {
                        after = after
                            .chars()
                            .skip(1)
                            .collect::<String>()
                            .trim_start_matches(is_ws)
                            .to_string();
                    }
                    st.set(n, field);
                    rest = after;
                }
            }
        }
    }
    Ok(if got_delim || !line.is_empty() && delim.is_none() {
        0
    } else {
        1
    })
}
