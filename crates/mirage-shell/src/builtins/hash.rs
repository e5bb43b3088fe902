//! `hash [-lr] [-p PATH] [-dt] [NAME…]`: the table of commands the shell
//! has found, as bash 5.2 keeps it. Running a registered command by name
//! records it (`/usr/bin/NAME`, or the first of `/usr/bin` and `/bin` in
//! `PATH`) and counts a hit; `type` and `hash -t` count one too. `hash`
//! lists `hits\tcommand` in bash's order (its FNV-1 hash into 256
//! buckets, newest first within a bucket), `hash -l` as `builtin hash -p
//! PATH NAME` lines; `-r` empties it, `-d` forgets names, `-p` records a
//! path, `-t` prints where names are. Nothing on the host is looked at.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `hash` builtin.
pub struct Hash;

const USAGE: &str = "hash: usage: hash [-lr] [-p pathname] [-dt] [name ...]\n";

/// bash's `hash_string` (FNV-1, 32 bits) reduced to one of 256 buckets.
fn bucket(name: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in bytestr::encode(name).iter() {
        h = h.wrapping_mul(16_777_619);
        h ^= u32::from(b);
    }
    h & 255
}

/// The table in the order bash walks it.
fn ordered(st: &ShellState) -> Vec<(String, String, u32)> {
    let mut v: Vec<(usize, &(String, String, u32))> = st.extra.hashed.iter().enumerate().collect();
    v.sort_by_key(|(i, e)| (bucket(&e.0), std::cmp::Reverse(*i)));
    v.into_iter().map(|(_, e)| e.clone()).collect()
}

/// Where the registered command `name` is shown to live: the first of
/// `/usr/bin` and `/bin` in `PATH` (`/usr/bin` when neither is).
pub(crate) fn command_paths(st: &ShellState, name: &str) -> Vec<String> {
    let path = st.get("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let mut v: Vec<String> = path
        .split(':')
        .filter(|d| matches!(d.trim_end_matches('/'), "/usr/bin" | "/bin"))
        .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
        .collect();
    v.dedup();
    if v.is_empty() {
        v.push(format!("/usr/bin/{name}"));
    }
    v
}

/// Whether `name` is a program on the `PATH` of the machine bash runs
/// on: a registered command, or a builtin Debian also ships as a file
/// (`echo`, `printf`, `test`, `[`, `true`, `false`, `pwd`, `kill`).
pub(crate) fn has_file(interp: &Interp, name: &str) -> bool {
    const ALSO_FILES: &[&str] = &[
        "echo", "printf", "test", "[", "true", "false", "pwd", "kill",
    ];
    ALSO_FILES.contains(&name) || interp.host.has_command(name)
}

/// The hashed path of `name`, counting a hit.
pub(crate) fn hit(st: &mut ShellState, name: &str) -> Option<String> {
    let e = st.extra.hashed.iter_mut().find(|e| e.0 == name)?;
    e.2 += 1;
    Some(e.1.clone())
}

/// Records that the registered command `name` was looked up to run (the
/// interpreter calls this before running one by name): a hit if hashed,
/// else a new entry with one hit.
pub(crate) fn remember(interp: &Interp, st: &mut ShellState, name: &str) {
    if name.contains('/') || hit(st, name).is_some() || !has_file(interp, name) {
        return;
    }
    let path = command_paths(st, name).remove(0);
    st.extra.hashed.push((name.to_string(), path, 1));
}

fn insert(st: &mut ShellState, name: &str, path: String, hits: u32) {
    match st.extra.hashed.iter_mut().find(|e| e.0 == name) {
        Some(e) => e.1 = path,
        None => st.extra.hashed.push((name.to_string(), path, hits)),
    }
}

#[async_trait]
impl Builtin for Hash {
    fn names(&self) -> &'static [&'static str] {
        &["hash"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let (mut list, mut reset, mut delete, mut show) = (false, false, false, false);
        let mut given: Option<String> = None;
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
                break;
            };
            i += 1;
            for (k, c) in flags.char_indices() {
                match c {
                    'l' => list = true,
                    'r' => reset = true,
                    'd' => delete = true,
                    't' => show = true,
                    'p' => {
                        let rest = &flags[k + 1..];
                        let v = if rest.is_empty() {
                            i += 1;
                            args.get(i - 1).cloned()
                        } else {
                            Some(rest.to_string())
                        };
                        match v {
                            Some(v) => given = Some(v),
                            None => {
                                io.err(&format!(
                                    "{}hash: -p: option requires an argument\n{USAGE}",
                                    st.diag()
                                ))
                                .await;
                                return Ok(2);
                            }
                        }
                        break;
                    }
                    _ => {
                        io.err(&format!("{}hash: -{c}: invalid option\n{USAGE}", st.diag()))
                            .await;
                        return Ok(2);
                    }
                }
            }
        }
        let names = &args[i..];
        if reset {
            st.extra.hashed.clear();
        }
        if (delete || show) && names.is_empty() {
            let o = if delete { 'd' } else { 't' };
            io.err(&format!(
                "{}hash: -{o}: option requires an argument\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        if names.is_empty() && !reset {
            let table = ordered(st);
            let text = if list {
                table
                    .iter()
                    .map(|(n, p, _)| format!("builtin hash -p {p} {n}\n"))
                    .collect::<String>()
            } else if table.is_empty() {
                "hash: hash table empty\n".to_string()
            } else {
                let mut s = String::from("hits\tcommand\n");
                for (_, p, h) in &table {
                    s.push_str(&format!("{h:4}\t{p}\n"));
                }
                s
            };
            out(io, &bytestr::encode(&text)).await?;
            return Ok(0);
        }
        let mut status = 0;
        let mut text = String::new();
        for n in names {
            if delete {
                let before = st.extra.hashed.len();
                st.extra.hashed.retain(|e| &e.0 != n);
                if st.extra.hashed.len() == before {
                    io.err(&format!("{}hash: {n}: not found\n", st.diag()))
                        .await;
                    status = 1;
                }
            } else if show {
                match hit(st, n) {
                    Some(p) if list => text.push_str(&format!("builtin hash -p {p} {n}\n")),
                    Some(p) if names.len() > 1 => text.push_str(&format!("{n}\t{p}\n")),
                    Some(p) => text.push_str(&format!("{p}\n")),
                    None => {
                        io.err(&format!("{}hash: {n}: not found\n", st.diag()))
                            .await;
                        status = 1;
                    }
                }
            } else if let Some(p) = &given {
                insert(st, n, p.clone(), 0);
            } else if n.contains('/') || super::is_builtin(n) {
                // bash does not hash builtins or paths
            } else if has_file(interp, n) {
                let p = command_paths(st, n).remove(0);
                insert(st, n, p, 0);
            } else if let Some(p) = interp.path_lookup(n, st).await {
                insert(st, n, p, 0);
            } else {
                io.err(&format!("{}hash: {n}: not found\n", st.diag()))
                    .await;
                status = 1;
            }
        }
        out(io, &bytestr::encode(&text)).await?;
        Ok(status)
    }
}
