//! The directory stack, as bash 5.2 keeps it: `pushd [-n] [+N | -N | DIR]`,
//! `popd [-n] [+N | -N]` and `dirs [-clpv] [+N] [-N]`.
//!
//! Entry 0 of the stack is always the current directory; the entries below
//! it live in [`super::extra::Extra::dirstack`], top first. `+N` counts
//! from the left of `dirs`' listing (0 is the current directory), `-N`
//! from the right. After a successful `pushd` or `popd` the stack is
//! printed as `dirs` prints it; paths under `$HOME` are shown as `~…`
//! unless `dirs -l`. Errors use bash's wording and status: a bad number
//! or option is a usage error (2), an empty stack or an index out of range
//! is 1.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `pushd`, `popd` and `dirs`.
pub struct DirStack;

#[async_trait]
impl Builtin for DirStack {
    fn names(&self) -> &'static [&'static str] {
        &["pushd", "popd", "dirs"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        match argv.first().map(String::as_str) {
            Some("pushd") => pushd(interp, args, st, io).await,
            Some("popd") => popd(interp, args, st, io).await,
            _ => dirs(args, st, io).await,
        }
    }
}

const PUSHD_USAGE: &str = "pushd: usage: pushd [-n] [+N | -N | dir]\n";
const POPD_USAGE: &str = "popd: usage: popd [-n] [+N | -N]\n";
const DIRS_USAGE: &str = "dirs: usage: dirs [-clpv] [+N] [-N]\n";

/// `+N` / `-N` as (from the left?, N); `None` when not a number.
fn stack_index(arg: &str) -> Option<(bool, usize)> {
    let (left, digits) = match arg.as_bytes().first() {
        Some(b'+') => (true, &arg[1..]),
        Some(b'-') => (false, &arg[1..]),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(|n| (left, n))
}

/// `path` with a leading `$HOME` shown as `~` (bash's polite form; a HOME
/// of `/` is never abbreviated).
fn polite(st: &ShellState, path: &str) -> String {
    if let Some(home) = st.get("HOME")
        && home.len() > 1
        && let Some(rest) = path.strip_prefix(home.trim_end_matches('/'))
        && (rest.is_empty() || rest.starts_with('/'))
    {
        return format!("~{rest}");
    }
    path.to_string()
}

/// The whole stack as `dirs` numbers it: the current directory, then the
/// saved entries.
fn full(st: &ShellState) -> Vec<String> {
    let mut v = Vec::with_capacity(st.extra.dirstack.len() + 1);
    v.push(st.cwd.clone());
    v.extend(st.extra.dirstack.iter().cloned());
    v
}

/// The stack printed on one line, as after `pushd` and `popd`.
async fn print_line(st: &ShellState, io: &Io) -> Result<(), crate::exec::Flow> {
    let line: Vec<String> = full(st).iter().map(|d| polite(st, d)).collect();
    out(io, &bytestr::encode(&format!("{}\n", line.join(" ")))).await
}

/// Changes the current directory as `cd` does, for `pushd`/`popd`;
/// `Err(message)` when `dir` is not a directory.
async fn change_dir(interp: &Interp, st: &mut ShellState, dir: &str) -> Result<(), String> {
    let path = mirage_types::join_path(&st.cwd, dir);
    match interp.vfs.stat(&path).await {
        Ok(s) if s.is_dir() => {
            let old = std::mem::replace(&mut st.cwd, path.clone());
            st.set_exported("OLDPWD", old);
            st.set_exported("PWD", path);
            Ok(())
        }
        Ok(_) => Err("Not a directory".into()),
        Err(e) => Err(e.message().to_string()),
    }
}

async fn pushd(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut nocd = false;
    let mut rest = args;
    while let Some(a) = rest.first() {
        match a.as_str() {
            "-n" => nocd = true,
            "--" => {
                rest = &rest[1..];
                break;
            }
            s if s.len() > 1 && s.starts_with('-') && stack_index(s).is_none() => {
                io.err(&format!("{}pushd: {s}: invalid number\n", st.diag()))
                    .await;
                io.err(PUSHD_USAGE).await;
                return Ok(2);
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    if rest.len() > 1 {
        io.err(&format!("{}pushd: too many arguments\n", st.diag()))
            .await;
        return Ok(1);
    }
    let Some(arg) = rest.first() else {
        // swap the top two entries
        if nocd {
            return Ok(0);
        }
        let Some(top) = st.extra.dirstack.first().cloned() else {
            io.err(&format!("{}pushd: no other directory\n", st.diag()))
                .await;
            return Ok(1);
        };
        st.extra.dirstack[0] = st.cwd.clone();
        if let Err(e) = change_dir(interp, st, &top).await {
            io.err(&format!("{}pushd: {top}: {e}\n", st.diag())).await;
            return Ok(1);
        }
        print_line(st, io).await?;
        return Ok(0);
    };
    if let Some((left, n)) = stack_index(arg) {
        let len = st.extra.dirstack.len();
        if len == 0 && n > 0 {
            io.err(&format!("{}pushd: directory stack empty\n", st.diag()))
                .await;
            return Ok(1);
        }
        if n > len {
            io.err(&format!(
                "{}pushd: {arg}: directory stack index out of range\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        let j = if left { n } else { len - n };
        let mut all = full(st);
        all.rotate_left(j);
        let target = all.remove(0);
        st.extra.dirstack = all;
        if nocd {
            return Ok(0);
        }
        if let Err(e) = change_dir(interp, st, &target).await {
            io.err(&format!("{}pushd: {target}: {e}\n", st.diag()))
                .await;
            return Ok(1);
        }
        print_line(st, io).await?;
        return Ok(0);
    }
    if nocd {
        let dir = mirage_types::join_path(&st.cwd, arg);
        st.extra.dirstack.insert(0, dir);
    } else {
        let old = st.cwd.clone();
        if let Err(e) = change_dir(interp, st, arg).await {
            io.err(&format!("{}pushd: {arg}: {e}\n", st.diag())).await;
            return Ok(1);
        }
        st.extra.dirstack.insert(0, old);
    }
    print_line(st, io).await?;
    Ok(0)
}

async fn popd(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut nocd = false;
    let mut which: Option<(bool, usize, &str)> = None;
    for a in args {
        match a.as_str() {
            "-n" => nocd = true,
            "--" => break,
            s => match stack_index(s) {
                Some((left, n)) => which = Some((left, n, s)),
                None if s.starts_with('-') || s.starts_with('+') => {
                    io.err(&format!("{}popd: {s}: invalid number\n", st.diag()))
                        .await;
                    io.err(POPD_USAGE).await;
                    return Ok(2);
                }
                None => {
                    io.err(&format!("{}popd: {s}: invalid argument\n", st.diag()))
                        .await;
                    io.err(POPD_USAGE).await;
                    return Ok(2);
                }
            },
        }
    }
    let len = st.extra.dirstack.len();
    if len == 0 {
        io.err(&format!("{}popd: directory stack empty\n", st.diag()))
            .await;
        return Ok(1);
    }
    let (left, n, shown) = which.unwrap_or((true, 0, "+0"));
    if n > len {
        io.err(&format!(
            "{}popd: {shown}: directory stack index out of range\n",
            st.diag()
        ))
        .await;
        return Ok(1);
    }
    let entry = if left { n } else { len - n };
    if entry == 0 {
        // the top: change to it unless -n, then drop it
        if !nocd {
            let top = st.extra.dirstack[0].clone();
            if let Err(e) = change_dir(interp, st, &top).await {
                io.err(&format!("{}popd: {top}: {e}\n", st.diag())).await;
                return Ok(1);
            }
        }
        st.extra.dirstack.remove(0);
    } else {
        st.extra.dirstack.remove(entry - 1);
    }
    print_line(st, io).await?;
    Ok(0)
}

async fn dirs(args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let (mut long, mut per_line, mut verbose, mut clear) = (false, false, false, false);
    let mut index: Option<(bool, usize)> = None;
    for a in args {
        match a.as_str() {
            "-l" => long = true,
            "-p" => per_line = true,
            "-v" => verbose = true,
            "-c" => clear = true,
            "--" => break,
            s if s.starts_with('-') || s.starts_with('+') => match stack_index(s) {
                Some(i) => index = Some(i),
                None => {
                    io.err(&format!("{}dirs: {s}: invalid number\n", st.diag()))
                        .await;
                    io.err(DIRS_USAGE).await;
                    return Ok(2);
                }
            },
            s => {
                io.err(&format!("{}dirs: {s}: invalid option\n", st.diag()))
                    .await;
                io.err(DIRS_USAGE).await;
                return Ok(2);
            }
        }
    }
    if clear {
        st.extra.dirstack.clear();
        return Ok(0);
    }
    let all = full(st);
    let show = |d: &str| if long { d.to_string() } else { polite(st, d) };
    if let Some((left, n)) = index {
        let len = all.len() - 1;
        if n > len {
            let msg = if len == 0 {
                "directory stack empty".to_string()
            } else {
                format!("{n}: directory stack index out of range")
            };
            io.err(&format!("{}dirs: {msg}\n", st.diag())).await;
            return Ok(1);
        }
        let i = if left { n } else { len - n };
        let line = if verbose {
            format!("{i:2}  {}\n", show(&all[i]))
        } else {
            format!("{}\n", show(&all[i]))
        };
        out(io, &bytestr::encode(&line)).await?;
        return Ok(0);
    }
    let mut text = String::new();
    for (i, d) in all.iter().enumerate() {
        if verbose {
            text.push_str(&format!("{i:2}  {}\n", show(d)));
        } else if per_line {
            text.push_str(&show(d));
            text.push('\n');
        } else {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(&show(d));
        }
    }
    if !verbose && !per_line {
        text.push('\n');
    }
    out(io, &bytestr::encode(&text)).await?;
    Ok(0)
}
