//! `read [-r] [-a ARRAY] [-d DELIM] [-n N] [NAME]...`: reads one record of
//! stdin into variables, split by `IFS`.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::Builtin;
use super::getopt::Opt;
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
    const USAGE: &str = "read: usage: read [-ers] [-a array] [-d delim] [-i text] [-n nchars] [-N nchars] [-p prompt] [-t timeout] [-u fd] [name ...]\n";
    let mut raw = false;
    let mut array: Option<String> = None;
    let mut delim: Option<u8> = Some(b'\n');
    let mut nchars: Option<usize> = None;
    let mut exact = false;
    let mut timeout: Option<f64> = None;
    let mut fd: u32 = 0;
    let mut names = Vec::new();
    let mut opts = super::getopt::Getopt::new(args, "rse", "adinNptu");
    while let Some(opt) = opts.next_opt() {
        let (c, v) = match opt {
            Opt::Flag(c) => {
                raw |= c == 'r';
                continue;
            }
            Opt::Arg(c, v) => (c, v),
            bad => return Ok(super::getopt::usage_error(&bad, "read", USAGE, st, io).await),
        };
        match c {
            'a' => array = Some(v),
            'd' => delim = Some(bytestr::encode(&v).first().copied().unwrap_or(0)),
            'n' | 'N' => match v.parse::<usize>() {
                Ok(n) => {
                    nchars = Some(n);
                    exact = c == 'N';
                }
                Err(_) => {
                    io.err(&format!("{}read: {v}: invalid number\n", st.diag()))
                        .await;
                    return Ok(1);
                }
            },
            't' => match v.parse::<f64>() {
                Ok(t) if t >= 0.0 && t.is_finite() => timeout = Some(t),
                _ => {
                    io.err(&format!(
                        "{}read: {v}: invalid timeout specification\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(1);
                }
            },
            'u' => match v.parse::<u32>() {
                Ok(n) => fd = n,
                Err(_) => {
                    io.err(&format!(
                        "{}read: {v}: invalid file descriptor specification\n",
                        st.diag()
                    ))
                    .await;
                    return Ok(1);
                }
            },
            // -p's prompt goes to a terminal only; -i needs readline
            _ => {}
        }
    }
    for n in opts.rest() {
        if !super::valid_name(n) {
            io.err(&format!(
                "{}read: `{n}': not a valid identifier\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        names.push(n.clone());
    }
    if let Some(a) = &array
        && !super::valid_name(a)
    {
        io.err(&format!(
            "{}read: `{a}': not a valid identifier\n",
            st.diag()
        ))
        .await;
        return Ok(1);
    }
    if exact {
        delim = None;
    }
    let fd_io;
    let io = if fd == 0 {
        io
    } else {
        match crate::execfd::in_fd(st, io, fd) {
            Some(slot) => {
                fd_io = Io {
                    stdin: slot,
                    stdout: io.stdout.clone(),
                    stderr: io.stderr.clone(),
                };
                &fd_io
            }
            None => {
                io.err(&format!(
                    "{}read: {fd}: invalid file descriptor: Bad file descriptor\n",
                    st.diag()
                ))
                .await;
                return Ok(1);
            }
        }
    };
    if timeout == Some(0.0) {
        // `-t 0`: whether input is ready; nothing is read
        return Ok(0);
    }
    let mut input = io.take_stdin();
    // read up to the delimiter, byte by byte from chunks
    let mut line: Vec<u8> = Vec::new();
    let mut got_delim = false;
    let deadline =
        timeout.map(|t| tokio::time::Instant::now() + std::time::Duration::from_secs_f64(t));
    let mut timed_out = false;
    'outer: loop {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, input.chunk()).await {
                Ok(r) => r,
                Err(_) => {
                    timed_out = true;
                    break;
                }
            },
            None => input.chunk().await,
        };
        let chunk = match next {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                // as bash 5.2: the variables keep their values
                io.err(&format!(
                    "{}read: read error: {fd}: {}\n",
                    st.diag(),
                    e.message()
                ))
                .await;
                return Ok(1);
            }
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
    if nchars == Some(0) {
        got_delim = true;
    }
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
    // `-N` takes the characters as they are: no field splitting
    let ifs = if exact { String::new() } else { st.ifs() };
    let is_ws = |c: char| ifs.contains(c) && matches!(c, ' ' | '\t' | '\n');
    if let Some(arr) = array {
        if crate::bashargv::is_argv(&arr) {
            return Ok(1);
        }
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
    if timed_out {
        // as bash: 128 + SIGALRM
        return Ok(142);
    }
    Ok(if got_delim || !line.is_empty() && delim.is_none() {
        0
    } else {
        1
    })
}
