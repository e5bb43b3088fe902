//! `mapfile` / `readarray [-d delim] [-n count] [-O origin] [-s count] [-t]
//! [-u fd] [-C callback] [-c quantum] [ARRAY]`: reads records of stdin into an
//! indexed array, as bash 5.2.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;
use mirage_types::{Input, bytestr};

use super::{Builtin, valid_name};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::{ShellState, Value, Var};

/// `mapfile` / `readarray`: reads records of stdin into an indexed array.
pub struct Mapfile;

const USAGE: &str = "mapfile: usage: mapfile [-d delim] [-n count] [-O origin] [-s count] [-t] [-u fd] [-C callback] [-c quantum] [array]\n";

/// The parsed options.
struct Opts {
    delim: u8,
    count: usize,
    origin: Option<i64>,
    skip: usize,
    strip: bool,
    fd: i64,
    callback: Option<String>,
    quantum: usize,
    var: String,
}

#[async_trait]
impl Builtin for Mapfile {
    fn names(&self) -> &'static [&'static str] {
        &["mapfile", "readarray"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let kw = argv.first().map_or("mapfile", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        let o = match parse(kw, args) {
            Ok(o) => o,
            Err((status, msg)) => {
                io.err(&format!("{}{msg}", st.diag())).await;
                return Ok(status);
            }
        };
        if o.fd != 0 {
            io.err(&format!(
                "{}{kw}: {}: invalid file descriptor: Bad file descriptor\n",
                st.diag(),
                o.fd
            ))
            .await;
            return Ok(1);
        }
        if st.vars.get(&o.var).is_some_and(|v| v.readonly) {
            io.err(&format!("{}{}: readonly variable\n", st.diag(), o.var))
                .await;
            return Ok(1);
        }
        if crate::bashargv::is_argv(&o.var) {
            return Ok(1);
        }
        let mut input = io.take_stdin();
        let mut m: BTreeMap<i64, String> = match (o.origin, st.vars.get(&o.var)) {
            (
                Some(_),
                Some(Var {
                    value: Value::Indexed(old),
                    ..
                }),
            ) => old.clone(),
            (Some(_), Some(v)) if !v.no_value => {
                let mut m = BTreeMap::new();
                m.insert(0, v.value.scalar());
                m
            }
            _ => BTreeMap::new(),
        };
        let mut index = o.origin.unwrap_or(0);
        let mut read = 0usize;
        let mut skipped = 0usize;
        let mut status = 0;
        loop {
            if o.count > 0 && read >= o.count {
                break;
            }
            let rec = match read_record(&mut input, o.delim).await {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(_) => {
                    status = 1;
                    break;
                }
            };
            if skipped < o.skip {
                skipped += 1;
                continue;
            }
            let mut rec = rec;
            if (o.strip || o.delim == 0) && rec.last() == Some(&o.delim) {
                rec.pop();
            }
            let s = bytestr::decode_owned(rec);
            read += 1;
            if let Some(cb) = &o.callback
                && read.is_multiple_of(o.quantum)
            {
                // bash evaluates `CALLBACK INDEX LINE` before the element is assigned
                let cmd = format!("{cb} {index} {}", crate::transform::quote(&s));
                io.put_stdin(input);
                let r = super::run_source(interp, &cmd, st, io).await;
                input = io.take_stdin();
                r?;
            }
            m.insert(index, s);
            index += 1;
        }
        io.put_stdin(input);
        let value = Value::Indexed(m);
        match st.vars.get_mut(&o.var) {
            Some(v) => {
                v.value = value;
                v.no_value = false;
            }
            None => {
                let mut v = Var::scalar("");
                v.value = value;
                st.vars.insert(o.var.clone(), v);
            }
        }
        Ok(status)
    }
}

/// Parses the options; an error is the status and the message after the
/// `bash: line N: ` prefix.
fn parse(kw: &str, args: &[String]) -> Result<Opts, (i32, String)> {
    let mut o = Opts {
        delim: b'\n',
        count: 0,
        origin: None,
        skip: 0,
        strip: false,
        fd: 0,
        callback: None,
        quantum: 5000,
        var: "MAPFILE".into(),
    };
    let mut i = 0;
    let number = |opt: char, v: &str, what: &str| -> Result<i64, (i32, String)> {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 || opt == 'u')
            .ok_or_else(|| (1, format!("{kw}: {v}: invalid {what}\n")))
    };
    while let Some(a) = args.get(i) {
        i += 1;
        if a == "--" {
            break;
        }
        if !a.starts_with('-') || a.len() < 2 {
            i -= 1;
            break;
        }
        let letters: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while let Some(&c) = letters.get(j) {
            j += 1;
            if c == 't' {
                o.strip = true;
                continue;
            }
            if !"dnOsuCc".contains(c) {
                return Err((2, format!("{kw}: -{c}: invalid option\n{USAGE}")));
            }
            // the option's value: the rest of this word or the next word
            let rest: String = letters[j..].iter().collect();
            let v = if !rest.is_empty() {
                j = letters.len();
                rest
            } else if let Some(n) = args.get(i) {
                i += 1;
                n.clone()
            } else {
                return Err((
                    2,
                    format!("{kw}: -{c}: option requires an argument\n{USAGE}"),
                ));
            };
            match c {
                'd' => o.delim = bytestr::encode(&v).first().copied().unwrap_or(0),
                'n' => o.count = number(c, &v, "line count")? as usize,
                'O' => o.origin = Some(number(c, &v, "array origin")?),
                's' => o.skip = number(c, &v, "line count")? as usize,
                'u' => o.fd = number(c, &v, "file descriptor specification")?,
                'C' => o.callback = Some(v),
                _ => {
                    let q = number(c, &v, "callback quantum")?;
                    if q == 0 {
                        return Err((1, format!("{kw}: {v}: invalid callback quantum\n")));
                    }
                    o.quantum = q as usize;
                }
            }
        }
    }
    if let Some(v) = args.get(i) {
        if !valid_name(v) {
            return Err((1, format!("{kw}: `{v}': not a valid identifier\n")));
        }
        o.var = v.clone();
    }
    Ok(o)
}

/// Reads one record ending in `delim` (kept), or the last unterminated
/// one; `None` at end of input. Reads no further than the delimiter.
async fn read_record(input: &mut Input, delim: u8) -> mirage_types::Result<Option<Vec<u8>>> {
    if delim == b'\n' {
        return input.read_line().await;
    }
    let mut rec = Vec::new();
    loop {
        let Some(b) = input.chunk().await? else {
            return Ok(if rec.is_empty() { None } else { Some(rec) });
        };
        if let Some(i) = b.iter().position(|&x| x == delim) {
            rec.extend_from_slice(&b[..=i]);
            input.unread(Bytes::slice(&b, i + 1..));
            return Ok(Some(rec));
        }
        rec.extend_from_slice(&b);
    }
}
