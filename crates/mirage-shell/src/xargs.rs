//! `xargs`, as GNU findutils 4.9 `xargs`: builds command lines from stdin
//! and runs them in the shell (functions, builtins and registered commands;
//! never a host process).

use crate::builtins::run_command_words;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// Splits xargs input into items: blanks and newlines separate, quotes and
/// backslashes group (GNU default, without `-0`/`-d`).
pub fn split_items(s: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if have {
                    items.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            '\'' | '"' => {
                have = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\n') | None => {
                            let kind = if c == '\'' { "single" } else { "double" };
                            return Err(format!(
                                "unmatched {kind} quote; by default quotes are special to xargs unless you use the -0 option"
                            ));
                        }
                        Some(x) => cur.push(x),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    have = true;
                }
            }
            _ => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        items.push(cur);
    }
    Ok(items)
}

/// Runs `xargs ARGS…` with the shell's stdin.
pub async fn xargs(interp: &Interp, args: &[String], st: &mut ShellState, io: &Io) -> ExecResult {
    let mut max_args: Option<usize> = None;
    let mut max_lines: Option<usize> = None;
    let mut replace: Option<String> = None;
    let mut delim: Option<u8> = None;
    let mut no_empty = false;
    let mut trace = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let take = |i: &mut usize, inline: &str| -> Option<String> {
            if !inline.is_empty() {
                Some(inline.to_string())
            } else {
                *i += 1;
                args.get(*i).cloned()
            }
        };
        match a.as_str() {
            "--" => {
                i += 1;
                break;
            }
            "-0" | "--null" => delim = Some(0),
            "-r" | "--no-run-if-empty" => no_empty = true,
            "-t" | "--verbose" => trace = true,
            "-x" | "-p" => {}
            s if s.starts_with("-n") => {
                max_args = take(&mut i, &s[2..]).and_then(|v| v.parse().ok());
            }
            s if s.starts_with("-L") => {
                max_lines = take(&mut i, &s[2..]).and_then(|v| v.parse().ok());
            }
            s if s.starts_with("-P") || s.starts_with("-s") => {
                let _ = take(&mut i, &s[2..]);
            }
            s if s.starts_with("-I") => {
                replace = take(&mut i, &s[2..]);
                max_lines = Some(1);
            }
            "-i" => {
                replace = Some("{}".into());
                max_lines = Some(1);
            }
            s if s.starts_with("-d") => {
                let d = take(&mut i, &s[2..]).unwrap_or_default();
                let (b, _) = crate::printf::escapes(&d, false);
                delim = b.first().copied();
            }
            s => {
                io.err(&format!(
                    "xargs: invalid option -- '{}'\n",
                    s.trim_start_matches('-')
                ))
                .await;
                return Ok(1);
            }
        }
        i += 1;
    }
    let cmd: Vec<String> = if i < args.len() {
        args[i..].to_vec()
    } else {
        vec!["echo".into()]
    };
    let mut input = io.take_stdin();
    let data = input.read_all().await.unwrap_or_default();
    io.put_stdin(input);
    let text = mirage_types::bytestr::decode(&data).into_owned();
    // group items into invocations
    let mut groups: Vec<Vec<String>> = Vec::new();
    if let Some(d) = delim {
        let items: Vec<String> = text
            .split(d as char)
            .map(String::from)
            .collect::<Vec<_>>()
            .into_iter()
            .enumerate()
            .filter(|(k, s)| !s.is_empty() || *k == 0 || d == 0)
            .map(|(_, s)| s)
            .collect();
        let mut items = items;
        if items.last().is_some_and(std::string::String::is_empty) {
            items.pop();
        }
        let n = max_args.or(max_lines).unwrap_or(usize::MAX).max(1);
        for c in items.chunks(n.min(items.len().max(1))) {
            groups.push(c.to_vec());
        }
    } else if let Some(n) = max_lines {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for chunk in lines.chunks(n.max(1)) {
            let mut g = Vec::new();
            for l in chunk {
                if replace.is_some() {
                    g.push(l.trim_start().to_string());
                } else {
                    match split_items(l) {
                        Ok(v) => g.extend(v),
                        Err(e) => {
                            io.err(&format!("xargs: {e}\n")).await;
                            return Ok(1);
                        }
                    }
                }
            }
            groups.push(g);
        }
    } else {
        let items = match split_items(&text) {
            Ok(v) => v,
            Err(e) => {
                io.err(&format!("xargs: {e}\n")).await;
                return Ok(1);
            }
        };
        match max_args {
            Some(n) => {
                for c in items.chunks(n.max(1)) {
                    groups.push(c.to_vec());
                }
            }
            None => {
                if !items.is_empty() {
                    groups.push(items);
                }
            }
        }
    }
    if groups.is_empty() && !no_empty && replace.is_none() {
        groups.push(Vec::new());
    }
    let mut status = 0;
    for g in groups {
        let words: Vec<String> = match &replace {
            Some(r) => {
                let item = g.join(" ");
                cmd.iter().map(|w| w.replace(r.as_str(), &item)).collect()
            }
            None => cmd.iter().cloned().chain(g).collect(),
        };
        if trace {
            io.err(&format!("{}\n", words.join(" "))).await;
        }
        let s = run_command_words(interp, &words, st, io).await?;
        if s == 127 {
            return Ok(127);
        }
        if s == 255 {
            return Ok(124);
        }
        if s != 0 {
            status = 123;
        }
    }
    Ok(status)
}
