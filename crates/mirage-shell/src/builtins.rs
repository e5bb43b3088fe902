//! Shell builtins (seed 004's table), with bash 5.2 behaviour and status.

use std::collections::BTreeMap;

use mirage_types::{Output, bytestr};

use crate::ast::DeclArg;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::{ShellState, Value, Var};

const BUILTINS: &[&str] = &[
    "echo",
    "printf",
    "cd",
    "pwd",
    "export",
    "unset",
    "true",
    "false",
    ":",
    "test",
    "[",
    "read",
    "local",
    "declare",
    "typeset",
    "readonly",
    "set",
    "shift",
    "return",
    "break",
    "continue",
    "exit",
    "eval",
    "source",
    ".",
    "printenv",
    "type",
    "command",
    "let",
    "xargs",
    "bash",
    "sh",
    "wait",
    "trap",
    "shopt",
    "mapfile",
    "readarray",
    "sleep",
    "builtin",
    "hash",
    "umask",
    "alias",
    "unalias",
    "jobs",
    "getopts",
    "exec",
    "timeout",
    "env",
];

/// The single-letter forms of `set` options (`set -e` is `set -o errexit`).
const SET_LETTERS: &[(char, &str)] = &[
    ('e', "errexit"),
    ('u', "nounset"),
    ('x', "xtrace"),
    ('f', "noglob"),
    ('a', "allexport"),
    ('C', "noclobber"),
];

/// Every option name bash 5.2's `set -o` accepts; the ones Mirage does not
/// model are accepted and ignored, any other name is `invalid option name`.
const SET_OPTION_NAMES: &[&str] = &[
    "allexport",
    "braceexpand",
    "emacs",
    "errexit",
    "errtrace",
    "functrace",
    "hashall",
    "histexpand",
    "history",
    "ignoreeof",
    "interactive-comments",
    "keyword",
    "monitor",
    "noclobber",
    "noexec",
    "noglob",
    "nolog",
    "notify",
    "nounset",
    "onecmd",
    "physical",
    "pipefail",
    "posix",
    "privileged",
    "verbose",
    "vi",
    "xtrace",
];

/// The single-letter options bash 5.2's `set` accepts (its usage line).
const SET_VALID_LETTERS: &str = "abefhkmnptuvxBCEHPT";

/// bash's usage line after `set: -Z: invalid option`.
const SET_USAGE: &str =
    "set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]\n";

/// The flag of the `set -o` option `name`, if Mirage has it.
fn option_flag<'a>(o: &'a mut crate::state::Options, name: &str) -> Option<&'a mut bool> {
    Some(match name {
        "pipefail" => &mut o.pipefail,
        "errexit" => &mut o.errexit,
        "nounset" => &mut o.nounset,
        "xtrace" => &mut o.xtrace,
        "noglob" => &mut o.noglob,
        "allexport" => &mut o.allexport,
        "noclobber" => &mut o.noclobber,
        _ => return None,
    })
}

/// Whether `name` is a shell builtin (run in the shell, not dispatched).
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

async fn out(io: &Io, data: &[u8]) -> Result<(), Flow> {
    let mut o = Output::new(io.stdout.clone());
    let r = async {
        o.write(data).await?;
        o.flush().await
    }
    .await;
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind == mirage_types::ErrorKind::BrokenPipe => Err(Flow::Exit(141)),
        Err(_) => Ok(()),
    }
}

fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

/// `unset 'NAME[KEY]'`: removes one element, as bash 5.2. An indexed
/// array's key is arithmetic (negative counts from the end; `@` and `*`
/// unset the whole array), an associative array's is the literal key, and
/// `NAME[0]` of a scalar unsets it. Errors give bash's message after `unset: `.
fn unset_element(st: &mut ShellState, base: &str, key: &str) -> Result<(), String> {
    let Some(var) = st.vars.get(base) else {
        return Ok(());
    };
    if var.readonly {
        return Err(format!("{base}: cannot unset: readonly variable"));
    }
    let is_indexed = matches!(var.value, Value::Indexed(_));
    if (key == "@" || key == "*") && is_indexed {
        st.vars.remove(base);
        return Ok(());
    }
    let idx = if matches!(var.value, Value::Assoc(_)) {
        None
    } else {
        Some(crate::arith::eval(key, st).map_err(|e| format!("{key}: {}", e.0))?)
    };
    let Some(var) = st.vars.get_mut(base) else {
        return Ok(());
    };
    match (&mut var.value, idx) {
        (Value::Assoc(p), _) => p.retain(|(k, _)| k != key),
        (Value::Indexed(m), Some(i)) => {
            let k = if i < 0 {
                m.keys().next_back().map_or(0, |last| last + 1) + i
            } else {
                i
            };
            if k < 0 {
                return Err(format!("[{i}]: bad array subscript"));
            }
            m.remove(&k);
        }
        (Value::Scalar(_), Some(0)) => {
            st.vars.remove(base);
        }
        (Value::Scalar(_), _) => return Err(format!("{base}: not an array variable")),
        (Value::Indexed(_), None) => {}
    }
    Ok(())
}

/// Runs the builtin `argv[0]`.
pub async fn run(interp: &Interp, argv: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let name = argv[0].as_str();
    let args = &argv[1..];
    match name {
        ":" | "true" => Ok(0),
        "false" => Ok(1),
        "echo" => {
            let mut newline = true;
            let mut interpret = false;
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
                    for c in a[1..].chars() {
                        match c {
                            'n' => newline = false,
                            'e' => interpret = true,
                            _ => interpret = false,
                        }
                    }
                    i += 1;
                } else {
                    break;
                }
            }
            let mut buf: Vec<u8> = Vec::new();
            let mut stopped = false;
            for (k, a) in args[i..].iter().enumerate() {
                if k > 0 {
                    buf.push(b' ');
                }
                if interpret {
                    let (b, stop) = crate::printf::escapes(a, true);
                    buf.extend_from_slice(&b);
                    if stop {
                        stopped = true;
                        break;
                    }
                } else {
                    buf.extend_from_slice(&bytestr::encode(a));
                }
            }
            if newline && !stopped {
                buf.push(b'\n');
            }
            out(io, &buf).await?;
            Ok(0)
        }
        "printf" => {
            let mut args = args;
            let mut var: Option<String> = None;
            if args.first().map(std::string::String::as_str) == Some("-v") {
                var = args.get(1).cloned();
                args = &args[args.len().min(2)..];
            }
            if args.first().map(std::string::String::as_str) == Some("--") {
                args = &args[1..];
            }
            let Some(fmt) = args.first() else {
                io.err("bash: printf: usage: printf [-v var] format [arguments]\n")
                    .await;
                return Ok(2);
            };
            let p = crate::printf::printf(fmt, &args[1..]);
            for e in &p.errors {
                io.err(&format!("bash: printf: {e}\n")).await;
            }
            match var {
                Some(v) => crate::expand::assign_subscripted(st, &v, bytestr::decode_owned(p.out)),
                None => out(io, &p.out).await?,
            }
            Ok(if p.errors.is_empty() { 0 } else { 1 })
        }
        "pwd" => {
            out(io, &bytestr::encode(&format!("{}\n", st.cwd))).await?;
            Ok(0)
        }
        "cd" => {
            let target = match args.iter().find(|a| *a != "-L" && *a != "-P") {
                None => st.get("HOME").unwrap_or_else(|| "/".into()),
                Some(a) if a == "-" => {
                    let old = st.get("OLDPWD").unwrap_or_else(|| st.cwd.clone());
                    out(io, &bytestr::encode(&format!("{old}\n"))).await?;
                    old
                }
                Some(a) => a.clone(),
            };
            if args.len() > 1 && args.iter().filter(|a| !a.starts_with('-')).count() > 1 {
                io.err("bash: cd: too many arguments\n").await;
                return Ok(1);
            }
            let path = mirage_types::join_path(&st.cwd, &target);
            match interp.vfs.stat(&path).await {
                Ok(s) if s.is_dir() => {
                    let old = std::mem::replace(&mut st.cwd, path.clone());
                    st.set_exported("OLDPWD", old);
                    st.set_exported("PWD", path);
                    Ok(0)
                }
                Ok(_) => {
                    io.err(&format!("bash: cd: {target}: Not a directory\n"))
                        .await;
                    Ok(1)
                }
                Err(e) => {
                    io.err(&format!("bash: cd: {target}: {}\n", e.message()))
                        .await;
                    Ok(1)
                }
            }
        }
        "test" | "[" => {
            let mut a: Vec<String> = args.to_vec();
            if name == "[" {
                if a.last().map(std::string::String::as_str) != Some("]") {
                    io.err("bash: [: missing `]'\n").await;
                    return Ok(2);
                }
                a.pop();
            }
            Ok(crate::test::test(interp.vfs.as_ref(), st, &a, io, name).await)
        }
        "export" | "local" | "declare" | "typeset" | "readonly" => {
            let dargs: Vec<DeclArg> = args
                .iter()
                .map(|a| DeclArg::Word(crate::ast::Word::quoted(a.clone())))
                .collect();
            declare(interp, name, &dargs, st, io).await
        }
        "unset" => {
            let mut funcs = false;
            let mut status = 0;
            for a in args {
                match a.as_str() {
                    "-f" => funcs = true,
                    "-v" => funcs = false,
                    n => {
                        if funcs {
                            st.functions.remove(n);
                        } else if let Some((base, key)) =
                            n.strip_suffix(']').and_then(|n| n.split_once('['))
                        {
                            // one element: `unset 'b[0]'`, `unset 'b[i+1]'`, `unset 'b[-1]'`, `unset 'a[key]'`
                            if let Err(msg) = unset_element(st, base, key) {
                                io.err(&format!("bash: unset: {msg}\n")).await;
                                status = 1;
                            }
                        } else if st.vars.get(n).is_some_and(|v| v.readonly) {
                            io.err(&format!(
                                "bash: unset: {n}: cannot unset: readonly variable\n"
                            ))
                            .await;
                            return Ok(1);
                        } else if st.vars.remove(n).is_none() {
                            st.functions.remove(n);
                        }
                    }
                }
            }
            Ok(status)
        }
        "read" => read(interp, args, st, io).await,
        "mapfile" | "readarray" => {
            let mut strip = false;
            let mut var = "MAPFILE".to_string();
            for a in args {
                if a == "-t" {
                    strip = true;
                } else if !a.starts_with('-') {
                    var = a.clone();
                }
            }
            let mut input = io.take_stdin();
            let mut m = BTreeMap::new();
            let mut i = 0;
            while let Ok(Some(line)) = input.read_line().await {
                let mut s = bytestr::decode_owned(line);
                if strip && s.ends_with('\n') {
                    s.pop();
                }
                m.insert(i, s);
                i += 1;
            }
            io.put_stdin(input);
            let mut v = Var::scalar("");
            v.value = Value::Indexed(m);
            st.vars.insert(var, v);
            Ok(0)
        }
        "set" => {
            if args.is_empty() {
                let mut names: Vec<(&String, &Var)> = st.vars.iter().collect();
                names.sort_by(|a, b| a.0.cmp(b.0));
                let mut buf = String::new();
                for (k, v) in names {
                    buf.push_str(&format!(
                        "{k}={}\n",
                        crate::printf::shell_quote(&v.value.scalar())
                    ));
                }
                out(io, &bytestr::encode(&buf)).await?;
                return Ok(0);
            }
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if a == "--" {
                    st.positional = args[i + 1..].to_vec();
                    return Ok(0);
                }
                if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
                    let on = a.starts_with('-');
                    // bash checks every letter before it sets any
                    if let Some(bad) = a[1..]
                        .chars()
                        .find(|c| *c != 'o' && !SET_VALID_LETTERS.contains(*c))
                    {
                        let sign = if on { '-' } else { '+' };
                        io.err(&format!(
                            "bash: set: {sign}{bad}: invalid option\n{SET_USAGE}"
                        ))
                        .await;
                        return Ok(2);
                    }
                    i += 1;
                    for c in a[1..].chars() {
                        // `-o NAME` (also inside a group: `set -euo pipefail`)
                        let long = if c == 'o' {
                            let Some(name) = args.get(i) else {
                                // `set -o` / `set +o` alone list the options
                                let mut buf = String::new();
                                for n in SET_OPTION_NAMES {
                                    let value = match option_flag(&mut st.options, n) {
                                        Some(f) => *f,
                                        None => matches!(
                                            *n,
                                            "braceexpand" | "hashall" | "interactive-comments"
                                        ),
                                    };
                                    if on {
                                        buf.push_str(&format!(
                                            "{n:<15}\t{}\n",
                                            if value { "on" } else { "off" }
                                        ));
                                    } else {
                                        buf.push_str(&format!(
                                            "set {}o {n}\n",
                                            if value { '-' } else { '+' }
                                        ));
                                    }
                                }
                                out(io, buf.as_bytes()).await?;
                                continue;
                            };
                            i += 1;
                            if !SET_OPTION_NAMES.contains(&name.as_str()) {
                                io.err(&format!("bash: set: {name}: invalid option name\n"))
                                    .await;
                                return Ok(2);
                            }
                            Some(name.as_str())
                        } else {
                            SET_LETTERS
                                .iter()
                                .find(|(l, _)| *l == c)
                                .map(|(_, name)| *name)
                        };
                        if let Some(flag) = long.and_then(|name| option_flag(&mut st.options, name))
                        {
                            *flag = on;
                        }
                    }
                    continue;
                }
                st.positional = args[i..].to_vec();
                return Ok(0);
            }
            Ok(0)
        }
        "shift" => {
            let n: usize = match args.first() {
                Some(a) => match a.parse() {
                    Ok(n) => n,
                    Err(_) => {
                        io.err(&format!("bash: shift: {a}: numeric argument required\n"))
                            .await;
                        return Ok(1);
                    }
                },
                None => 1,
            };
            if n > st.positional.len() {
                return Ok(1);
            }
            st.positional.drain(..n);
            Ok(0)
        }
        "return" => {
            let s = match args.first() {
                Some(a) => a.parse::<i64>().map(|v| (v & 0xff) as i32).unwrap_or(2),
                None => st.last_status,
            };
            if st.local_frames.is_empty() {
                io.err("bash: return: can only `return' from a function or sourced script\n")
                    .await;
                return Ok(2);
            }
            Err(Flow::Return(s))
        }
        "break" | "continue" => {
            if st.loop_depth == 0 {
                io.err(&format!(
                    "bash: {name}: only meaningful in a `for', `while', or `until' loop\n"
                ))
                .await;
                return Ok(0);
            }
            if args.len() > 1 {
                // a usage error of a special builtin ends a non-interactive bash
                io.err(&format!("bash: {name}: too many arguments\n")).await;
                return Err(Flow::Exit(1));
            }
            let n: u32 = match args.first() {
                None => 1,
                Some(a) => match a.trim().parse::<i64>() {
                    Ok(n) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
                    Ok(_) => {
                        // bash leaves every enclosing loop and fails
                        io.err(&format!("bash: {name}: {a}: loop count out of range\n"))
                            .await;
                        st.last_status = 1;
                        return Err(Flow::Break(
                            u32::try_from(st.loop_depth).unwrap_or(u32::MAX),
                        ));
                    }
                    Err(_) => {
                        io.err(&format!("bash: {name}: {a}: numeric argument required\n"))
                            .await;
                        return Err(Flow::Exit(128));
                    }
                },
            };
            st.last_status = 0;
            Err(if name == "break" {
                Flow::Break(n)
            } else {
                Flow::Continue(n)
            })
        }
        "exit" => {
            let s = match args.first() {
                Some(a) => match a.parse::<i64>() {
                    Ok(v) => (v & 0xff) as i32,
                    Err(_) => {
                        io.err(&format!("bash: exit: {a}: numeric argument required\n"))
                            .await;
                        2
                    }
                },
                None => st.last_status,
            };
            Err(Flow::Exit(s))
        }
        "eval" => {
            let src = args.join(" ");
            run_source(interp, &src, st, io).await
        }
        "source" | "." => {
            let Some(file) = args.first() else {
                io.err(&format!("bash: {name}: filename argument required\n"))
                    .await;
                return Ok(2);
            };
            let path = mirage_types::join_path(&st.cwd, file);
            let data = match interp.vfs.read(&path).await {
                Ok(src) => match src.collect().await {
                    Ok(b) => b,
                    Err(e) => {
                        io.err(&format!("bash: {file}: {}\n", e.message())).await;
                        return Ok(1);
                    }
                },
                Err(e) => {
                    io.err(&format!("bash: {file}: {}\n", e.message())).await;
                    return Ok(1);
                }
            };
            let src = bytestr::decode(&data).into_owned();
            let saved = if args.len() > 1 {
                Some(std::mem::replace(&mut st.positional, args[1..].to_vec()))
            } else {
                None
            };
            st.local_frames.push(Vec::new());
            let r = run_source_named(interp, "source", &src, st, io).await;
            st.local_frames.pop();
            if let Some(p) = saved {
                st.positional = p;
            }
            match r {
                Err(Flow::Return(s)) => Ok(s),
                other => other,
            }
        }
        "printenv" => {
            let env = st.exported();
            if args.is_empty() {
                let mut buf = String::new();
                for (k, v) in &env {
                    buf.push_str(&format!("{k}={v}\n"));
                }
                out(io, &bytestr::encode(&buf)).await?;
                return Ok(0);
            }
            let mut status = 0;
            let mut buf = String::new();
            for a in args {
                match env.get(a) {
                    Some(v) => buf.push_str(&format!("{v}\n")),
                    None => status = 1,
                }
            }
            out(io, &bytestr::encode(&buf)).await?;
            Ok(status)
        }
        "env" => {
            // env [NAME=VALUE…] [COMMAND…]
            let mut env = st.exported();
            let mut i = 0;
            while i < args.len() {
                if let Some((k, v)) = args[i].split_once('=') {
                    env.insert(k.to_string(), v.to_string());
                    i += 1;
                } else if args[i] == "-i" {
                    env.clear();
                    i += 1;
                } else {
                    break;
                }
            }
            if i >= args.len() {
                let mut buf = String::new();
                for (k, v) in &env {
                    buf.push_str(&format!("{k}={v}\n"));
                }
                out(io, &bytestr::encode(&buf)).await?;
                return Ok(0);
            }
            let mut sub = st.clone();
            for (k, v) in &env {
                sub.set_exported(k, v.clone());
            }
            run_command_words(interp, &args[i..], &mut sub, io).await
        }
        "type" => {
            let mut status = 0;
            let mut buf = String::new();
            let terse = args.iter().any(|a| a == "-t");
            for a in args.iter().filter(|a| !a.starts_with('-')) {
                const KEYWORDS: &[&str] = &[
                    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until",
                    "do", "done", "in", "function", "select", "time", "{", "}", "!", "[[", "]]",
                ];
                if terse {
                    let kind = if st.functions.contains_key(a) {
                        "function"
                    } else if KEYWORDS.contains(&a.as_str()) {
                        "keyword"
                    } else if is_builtin(a) {
                        "builtin"
                    } else if interp.host.has_command(a) {
                        "file"
                    } else {
                        status = 1;
                        continue;
                    };
                    buf.push_str(kind);
                    buf.push('\n');
                    continue;
                }
                if KEYWORDS.contains(&a.as_str()) {
                    buf.push_str(&format!("{a} is a shell keyword\n"));
                } else if st.functions.contains_key(a) {
                    buf.push_str(&format!("{a} is a function\n"));
                } else if is_builtin(a) {
                    buf.push_str(&format!("{a} is a shell builtin\n"));
                } else if interp.host.has_command(a) {
                    buf.push_str(&format!("{a} is /usr/bin/{a}\n"));
                } else {
                    io.err(&format!("bash: type: {a}: not found\n")).await;
                    status = 1;
                }
            }
            out(io, &bytestr::encode(&buf)).await?;
            Ok(status)
        }
        "command" | "builtin" | "exec" => {
            let mut i = 0;
            let mut verbose = false;
            while i < args.len() && args[i].starts_with('-') {
                if args[i] == "-v" || args[i] == "-V" {
                    verbose = true;
                }
                i += 1;
            }
            if verbose {
                let mut status = 0;
                for a in &args[i..] {
                    if is_builtin(a) || st.functions.contains_key(a) {
                        out(io, &bytestr::encode(&format!("{a}\n"))).await?;
                    } else if interp.host.has_command(a) {
                        out(io, &bytestr::encode(&format!("/usr/bin/{a}\n"))).await?;
                    } else {
                        status = 1;
                    }
                }
                return Ok(status);
            }
            if i >= args.len() {
                return Ok(0);
            }
            let r = if name == "exec" {
                run_command_words(interp, &args[i..], st, io).await
            } else {
                run_command_words_nofunc(interp, &args[i..], st, io).await
            };
            if name == "exec" {
                return Err(Flow::Exit(r.unwrap_or(0)));
            }
            r
        }
        "let" => {
            let mut last = 0;
            for a in args {
                match crate::arith::eval(a, st) {
                    Ok(v) => last = v,
                    Err(e) => {
                        io.err(&format!("bash: let: {}\n", e.report(a))).await;
                        return Ok(1);
                    }
                }
            }
            Ok(if last != 0 { 0 } else { 1 })
        }
        "bash" | "sh" => {
            let mut i = 0;
            while i < args.len() {
                if args[i] == "-c" {
                    let Some(src) = args.get(i + 1) else {
                        io.err(&format!("{name}: -c: option requires an argument\n"))
                            .await;
                        return Ok(2);
                    };
                    let mut sub = st.clone();
                    sub.positional = args
                        .get(i + 3..)
                        .map(<[std::string::String]>::to_vec)
                        .unwrap_or_default();
                    if let Some(a0) = args.get(i + 2) {
                        sub.arg0 = a0.clone();
                    }
                    sub.functions.clear();
                    sub.vars.retain(|_, v| v.exported);
                    sub.local_frames.clear();
                    sub.loop_depth = 0;
                    return Ok(
                        match run_source_named(interp, "bash", src, &mut sub, io).await {
                            Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                            Err(_) => sub.last_status,
                        },
                    );
                }
                if args[i].starts_with('-') {
                    i += 1;
                    continue;
                }
                // bash FILE: run a script from the VFS
                let path = mirage_types::join_path(&st.cwd, &args[i]);
                let data = match interp.vfs.read(&path).await {
                    Ok(src) => src.collect().await.unwrap_or_default(),
                    Err(e) => {
                        io.err(&format!("{name}: {}: {}\n", args[i], e.message()))
                            .await;
                        return Ok(127);
                    }
                };
                let mut sub = st.clone();
                sub.positional = args[i + 1..].to_vec();
                sub.arg0 = args[i].clone();
                sub.functions.clear();
                sub.vars.retain(|_, v| v.exported);
                let src = bytestr::decode(&data).into_owned();
                return Ok(
                    match run_source_named(interp, "bash", &src, &mut sub, io).await {
                        Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                        Err(_) => sub.last_status,
                    },
                );
            }
            // bash reading a script from stdin
            let mut input = io.take_stdin();
            let data = input.read_all().await.unwrap_or_default();
            let mut sub = st.clone();
            let src = bytestr::decode(&data).into_owned();
            Ok(
                match run_source_named(interp, "bash", &src, &mut sub, io).await {
                    Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s,
                    Err(_) => sub.last_status,
                },
            )
        }
        "xargs" => crate::xargs::xargs(interp, args, st, io).await,
        "timeout" => timeout(interp, args, st, io).await,
        "sleep" => sleep(args, io).await,
        "wait" | "shopt" | "hash" | "umask" | "alias" | "unalias" | "jobs" => Ok(0),
        "getopts" => getopts(args, st),
        "trap" => {
            if args.len() >= 2 {
                for sig in &args[1..] {
                    let sig = sig.trim_start_matches("SIG").to_string();
                    let sig = if sig == "0" { "EXIT".to_string() } else { sig };
                    if args[0] == "-" {
                        st.traps.remove(&sig);
                    } else {
                        st.traps.insert(sig, args[0].clone());
                    }
                }
            }
            Ok(0)
        }
        _ => Ok(127),
    }
}

/// Runs `words` as a command line (function, builtin or registered command).
pub async fn run_command_words(
    interp: &Interp,
    words: &[String],
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let name = &words[0];
    if st.functions.contains_key(name) {
        return interp.call_function(name, &words[1..], st, io).await;
    }
    if is_builtin(name) {
        return Box::pin(run(interp, words, st, io)).await;
    }
    let env = st.exported();
    Ok(interp.run_external(words.to_vec(), env, st, io).await)
}

/// As [`run_command_words`] but skipping functions (`command`, `builtin`).
pub async fn run_command_words_nofunc(
    interp: &Interp,
    words: &[String],
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    if is_builtin(&words[0]) {
        return Box::pin(run(interp, words, st, io)).await;
    }
    let env = st.exported();
    Ok(interp.run_external(words.to_vec(), env, st, io).await)
}

/// Parses and runs `src` in the current state (eval, source).
pub async fn run_source(interp: &Interp, src: &str, st: &mut ShellState, io: &Io) -> ExecResult {
    run_source_named(interp, "eval", src, st, io).await
}

/// As [`run_source`] for the builtin `what` (`eval`, `source`, `bash`): at
/// most `st.limits.max_source_depth` of these nest; one more fails with
/// `bash: WHAT: maximum WHAT nesting level exceeded (N)` (bash's wording
/// for its `EVALNEST_MAX`/`SOURCENEST_MAX`) and abandons the command.
pub async fn run_source_named(
    interp: &Interp,
    what: &str,
    src: &str,
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let max = st.limits.max_source_depth;
    if st.source_depth >= max {
        io.err(&format!(
            "bash: {what}: maximum {what} nesting level exceeded ({max})\n"
        ))
        .await;
        return Err(Flow::Abort(1));
    }
    st.source_depth += 1;
    let r = Box::pin(run_parsed(interp, src, st, io)).await;
    st.source_depth -= 1;
    r
}

async fn run_parsed(interp: &Interp, src: &str, st: &mut ShellState, io: &Io) -> ExecResult {
    let parsed = crate::parse::parse_input(src);
    let mut status = 0;
    for item in &parsed.script.items {
        status = interp.exec(item, st, io).await?;
        st.last_status = status;
    }
    if let Some(e) = parsed.error {
        io.err(&format!("bash: eval: {e}\n")).await;
        return Ok(2);
    }
    Ok(status)
}

fn getopts(args: &[String], st: &mut ShellState) -> ExecResult {
    let (Some(spec), Some(var)) = (args.first(), args.get(1)) else {
        return Ok(2);
    };
    let params: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        st.positional.clone()
    };
    let mut optind: usize = st
        .get("OPTIND")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut sub: usize = st
        .get("__MIRAGE_OPTSUB")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let Some(cur) = params.get(optind - 1) else {
        st.set(var, "?");
        return Ok(1);
    };
    if cur == "--" {
        st.set("OPTIND", (optind + 1).to_string());
        st.set(var, "?");
        return Ok(1);
    }
    if !cur.starts_with('-') || cur.len() < 2 {
        st.set(var, "?");
        return Ok(1);
    }
    let chars: Vec<char> = cur.chars().collect();
    let c = chars.get(sub).copied().unwrap_or('?');
    let pos = spec.find(c);
    let takes = pos.is_some_and(|p| spec[p + c.len_utf8()..].starts_with(':'));
    if pos.is_none() || c == ':' {
        st.set(var, "?");
        st.vars.remove("OPTARG");
    } else {
        st.set(var, c.to_string());
        if takes {
            let rest: String = chars[sub + 1..].iter().collect();
            if !rest.is_empty() {
                st.set("OPTARG", rest);
            } else if let Some(n) = params.get(optind) {
                st.set("OPTARG", n.clone());
                optind += 1;
            } else {
                st.set(var, "?");
            }
            optind += 1;
            sub = 1;
            st.set("OPTIND", optind.to_string());
            st.set("__MIRAGE_OPTSUB", sub.to_string());
            return Ok(0);
        }
    }
    if sub + 1 < chars.len() {
        sub += 1;
    } else {
        sub = 1;
        optind += 1;
    }
    st.set("OPTIND", optind.to_string());
    st.set("__MIRAGE_OPTSUB", sub.to_string());
    Ok(0)
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

/// `declare`/`local`/`export`/`readonly`/`typeset` with their arguments.
pub async fn declare(
    interp: &Interp,
    kw: &str,
    args: &[DeclArg],
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let mut flags = String::new();
    let mut unflags = String::new();
    let mut status = 0;
    let mut print = false;
    let mut targets: Vec<&DeclArg> = Vec::new();
    for a in args {
        if let DeclArg::Word(w) = a {
            let fields = interp.expand_word(w, st, io).await?;
            if let Some(f) = fields.first() {
                if f.starts_with('-') && f.len() > 1 && targets.is_empty() {
                    if f == "-p" {
                        print = true;
                    }
                    flags.push_str(&f[1..]);
                    continue;
                }
                if f.starts_with('+') && f.len() > 1 && targets.is_empty() {
                    unflags.push_str(&f[1..]);
                    continue;
                }
            }
        }
        targets.push(a);
    }
    if kw == "local" && st.local_frames.is_empty() {
        io.err("bash: local: can only be used in a function\n")
            .await;
        return Ok(1);
    }
    if targets.is_empty() && (print || kw != "local") {
        let mut names: Vec<(&String, &Var)> = st.vars.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let mut buf = String::new();
        for (k, v) in names {
            let show = match kw {
                "export" => v.exported,
                "readonly" => v.readonly,
                _ => true,
            };
            if show {
                let prefix = if v.exported {
                    "-x"
                } else if v.readonly {
                    "-r"
                } else {
                    "--"
                };
                buf.push_str(&format!("declare {prefix} {k}=\"{}\"\n", v.value.scalar()));
            }
        }
        out(io, &bytestr::encode(&buf)).await?;
        return Ok(0);
    }
    let export = kw == "export" || flags.contains('x');
    let readonly = kw == "readonly" || flags.contains('r');
    let is_local = kw == "local"
        || ((kw == "declare" || kw == "typeset")
            && !st.local_frames.is_empty()
            && !flags.contains('g'));
    for t in targets {
        let owned: Option<crate::ast::Assign>;
        let (name, assign) = match t {
            DeclArg::Assign(a) => (a.name.clone(), Some(a)),
            DeclArg::Word(w) => {
                let v = interp.expand_single(w, st, io).await?;
                if let Some((n, val)) = v.split_once('=') {
                    let a = crate::ast::Assign {
                        name: n.to_string(),
                        index: None,
                        append: false,
                        value: crate::ast::AssignValue::Scalar(crate::ast::Word::quoted(val)),
                    };
                    if !valid_name(n) {
                        io.err(&format!("bash: {kw}: `{v}': not a valid identifier\n"))
                            .await;
                        status = 1;
                        continue;
                    }
                    owned = Some(a);
                    (n.to_string(), owned.as_ref())
                } else {
                    (v, None)
                }
            }
        };
        if !valid_name(&name) {
            io.err(&format!("bash: {kw}: `{name}': not a valid identifier\n"))
                .await;
            status = 1;
            continue;
        }
        if print {
            match st.vars.get(&name) {
                Some(v) => {
                    let line = match &v.value {
                        Value::Scalar(s) => format!("declare -- {name}=\"{s}\"\n"),
                        Value::Indexed(m) => format!(
                            "declare -a {name}=({})\n",
                            m.iter()
                                .map(|(k, v)| format!("[{k}]=\"{v}\""))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                        Value::Assoc(p) => format!(
                            "declare -A {name}=({})\n",
                            p.iter()
                                .map(|(k, v)| format!("[{k}]=\"{v}\" "))
                                .collect::<String>()
                        ),
                    };
                    out(io, &bytestr::encode(&line)).await?;
                }
                None => {
                    io.err(&format!("bash: declare: {name}: not found\n")).await;
                    status = 1;
                }
            }
            continue;
        }
        if is_local {
            if let Some(frame) = st.local_frames.last_mut()
                && !frame.iter().any(|(n, _)| n == &name)
            {
                frame.push((name.clone(), st.vars.get(&name).cloned()));
            }
            if assign.is_none() {
                // `local x` makes x unset-but-declared (empty) in the function
                st.vars.insert(name.clone(), Var::scalar(""));
                st.vars.remove(&name);
            }
        }
        if flags.contains('A')
            && !st
                .vars
                .get(&name)
                .is_some_and(|v| matches!(v.value, Value::Assoc(_)))
        {
            let mut v = Var::scalar("");
            v.value = Value::Assoc(Vec::new());
            st.vars.insert(name.clone(), v);
        } else if flags.contains('a') && !st.vars.contains_key(&name) {
            let mut v = Var::scalar("");
            v.value = Value::Indexed(BTreeMap::new());
            st.vars.insert(name.clone(), v);
        }
        if flags.contains('i') {
            st.vars
                .entry(name.clone())
                .or_insert_with(|| Var::scalar(""))
                .integer = true;
        }
        if flags.contains('u') || flags.contains('l') {
            let v = st
                .vars
                .entry(name.clone())
                .or_insert_with(|| Var::scalar(""));
            v.case = Some(flags.contains('u'));
            if let Value::Scalar(s) = &mut v.value {
                *s = if flags.contains('u') {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                };
            }
        }
        if let Some(a) = assign {
            if st.vars.get(&name).is_some_and(|v| v.readonly) {
                io.err(&format!("bash: {name}: readonly variable\n")).await;
                status = 1;
                continue;
            }
            interp.do_assign(a, st, io, false).await?;
        }
        if export || readonly {
            let v = st.vars.entry(name.clone()).or_insert_with(|| {
                let mut v = Var::scalar("");
                v.value = Value::Scalar(String::new());
                v
            });
            if export {
                v.exported = true;
            }
            if readonly {
                v.readonly = true;
            }
            if assign.is_none()
                && st
                    .vars
                    .get(&name)
                    .is_none_or(|v| v.value.scalar().is_empty())
                && kw == "export"
            {
                // `export NAME` of an unset variable marks it for export
            }
        }
        if unflags.contains('x')
            && let Some(v) = st.vars.get_mut(&name)
        {
            v.exported = false;
        }
    }
    Ok(status)
}

/// Parses a GNU time interval (`sleep`, `timeout`): a floating-point number
/// as `strtod` reads it (leading blanks, `inf`, exponents) with an optional
/// suffix `s`, `m`, `h` or `d`. Returns seconds; `None` for NaN, a negative
/// value or anything else coreutils 9.1 calls an `invalid time interval`.
/// Overflow gives `f64::INFINITY` (GNU saturates).
pub fn parse_interval(arg: &str) -> Option<f64> {
    let t = arg.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (num, mult) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        Some('d') => (&t[..t.len() - 1], 86400.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    if v.is_nan() || v < 0.0 {
        return None;
    }
    Some(v * mult)
}

/// A `Duration` for `secs` seconds, saturating (`inf`, `1e30`) at about
/// 584 years instead of panicking as `Duration::from_secs_f64` does.
fn saturating_duration(secs: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(std::time::Duration::MAX)
}

/// The `-x` that GNU getopt rejects in `arg`: `invalid option -- 'x'`.
fn bad_short_option(arg: &str) -> Option<char> {
    arg.strip_prefix('-')
        .filter(|r| !r.is_empty() && !r.starts_with('-'))
        .and_then(|r| r.chars().next())
}

/// `sleep NUMBER[SUFFIX]...` as coreutils 9.1: the intervals add up; each
/// invalid one gets `invalid time interval 'X'`, then the `Try` hint and
/// status 1. Sleeps at most an hour (an agent's shell never needs more).
async fn sleep(args: &[String], io: &Io) -> ExecResult {
    let mut ops: &[String] = args;
    if let Some(a) = ops.first() {
        if a == "--" {
            ops = &ops[1..];
        } else if a.starts_with("--") {
            io.err(&format!(
                "sleep: unrecognized option '{a}'\nTry 'sleep --help' for more information.\n"
            ))
            .await;
            return Ok(1);
        } else if let Some(c) = bad_short_option(a) {
            io.err(&format!(
                "sleep: invalid option -- '{c}'\nTry 'sleep --help' for more information.\n"
            ))
            .await;
            return Ok(1);
        }
    }
    if ops.is_empty() {
        io.err("sleep: missing operand\nTry 'sleep --help' for more information.\n")
            .await;
        return Ok(1);
    }
    let mut total = 0.0;
    let mut bad = false;
    for a in ops {
        match parse_interval(a) {
            Some(v) => total += v,
            None => {
                io.err(&format!("sleep: invalid time interval '{a}'\n"))
                    .await;
                bad = true;
            }
        }
    }
    if bad {
        io.err("Try 'sleep --help' for more information.\n").await;
        return Ok(1);
    }
    tokio::time::sleep(saturating_duration(total.min(3600.0))).await;
    Ok(0)
}

/// The number of a signal name or number as `timeout -s` takes it.
fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    const NAMES: &[(&str, i32)] = &[
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("TRAP", 5),
        ("ABRT", 6),
        ("BUS", 7),
        ("FPE", 8),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("CHLD", 17),
        ("CONT", 18),
        ("STOP", 19),
        ("TSTP", 20),
        ("TTIN", 21),
        ("TTOU", 22),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// `timeout [OPTION] DURATION COMMAND [ARG]...` as coreutils 9.1: usage
/// errors and invalid intervals exit 125; a timed-out command gives 124
/// (128+9 with `-s KILL`, 128+SIG with `--preserve-status`). `inf` and huge
/// durations mean no limit.
async fn timeout(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let usage = |msg: String| {
        let mut m = msg;
        m.push_str("Try 'timeout --help' for more information.\n");
        m
    };
    let mut sig = 15;
    let mut preserve = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        // options taking a value: -s SIG, -k DUR (also --signal=, --kill-after=)
        let (opt, inline): (&str, Option<&str>) = if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            }
        } else {
            let c = &a[1..2.min(a.len())];
            let rest = &a[1 + c.len()..];
            (c, if rest.is_empty() { None } else { Some(rest) })
        };
        let long = a.starts_with("--");
        let takes_value =
            matches!(opt, "s" | "k") || (long && matches!(opt, "signal" | "kill-after"));
        let value = if takes_value {
            match inline {
                Some(v) => Some(v.to_string()),
                None => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => Some(v.clone()),
                        None => {
                            let m = if long {
                                format!("timeout: option '{a}' requires an argument\n")
                            } else {
                                format!("timeout: option requires an argument -- '{opt}'\n")
                            };
                            io.err(&usage(m)).await;
                            return Ok(125);
                        }
                    }
                }
            }
        } else {
            None
        };
        match (long, opt) {
            (false, "s") | (true, "signal") => {
                let v = value.unwrap_or_default();
                match signal_number(&v) {
                    Some(n) => sig = n,
                    None => {
                        io.err(&usage(format!("timeout: '{v}': invalid signal\n")))
                            .await;
                        return Ok(125);
                    }
                }
            }
            (false, "k") | (true, "kill-after") => {
                let v = value.unwrap_or_default();
                if parse_interval(&v).is_none() {
                    io.err(&usage(format!("timeout: invalid time interval '{v}'\n")))
                        .await;
                    return Ok(125);
                }
            }
            (true, "preserve-status") => preserve = true,
            (true, "foreground" | "verbose") | (false, "v") => {}
            (false, c) => {
                io.err(&usage(format!("timeout: invalid option -- '{c}'\n")))
                    .await;
                return Ok(125);
            }
            (true, _) => {
                io.err(&usage(format!("timeout: unrecognized option '{a}'\n")))
                    .await;
                return Ok(125);
            }
        }
        i += 1;
    }
    let (Some(dur), true) = (args.get(i), args.len() > i + 1) else {
        io.err(&usage(String::new())).await;
        return Ok(125);
    };
    let Some(secs) = parse_interval(dur) else {
        io.err(&usage(format!("timeout: invalid time interval '{dur}'\n")))
            .await;
        return Ok(125);
    };
    let fut = run_command_words(interp, &args[i + 1..], st, io);
    if secs == 0.0 || !secs.is_finite() {
        return fut.await;
    }
    match tokio::time::timeout(saturating_duration(secs), fut).await {
        Ok(r) => r,
        Err(_) if preserve => Ok(128 + sig),
        Err(_) if sig == 9 => Ok(137),
        Err(_) => Ok(124),
    }
}
