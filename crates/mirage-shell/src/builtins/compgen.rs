//! `compgen` and `complete`, as bash 5.2 answers them without readline.
//!
//! `compgen [-abcdefkv] [-A ACTION] [-W WORDS] [-P PREFIX] [-S SUFFIX]
//! [-X FILTER] [WORD]` prints the candidates that start with WORD: aliases
//! (`-a`), builtins (`-b`), commands (`-c`: aliases, builtins, functions
//! and keywords, then the host's registered commands sorted and without
//! repeats, where bash lists each `PATH` directory's programs in its hash
//! table's order, a name once per directory), directories
//! (`-d`) and files (`-f`) through the VFS, exported (`-e`) and all (`-v`)
//! variables, keywords (`-k`), functions (`-A function`), the words of
//! `-W` split by `IFS`. `-X PAT` drops the candidates matching PAT (`!PAT`
//! keeps only them); `-P`/`-S` are added to each. Status 1 when nothing
//! matches. `complete` records specs and prints them back (`-p`), `-r`
//! removes them.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::getopt::Opt;
use super::{Builtin, lines_or_errors, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// `compgen` and `complete`.
pub struct Compgen;

#[derive(Default)]
struct Spec {
    actions: Vec<String>,
    options: Vec<String>,
    words: Option<String>,
    prefix: String,
    suffix: String,
    filter: Option<String>,
    func: Option<String>,
    command: Option<String>,
    glob: Option<String>,
    print: bool,
    remove: bool,
    names: Vec<String>,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Spec {
    /// The options as `complete -p` prints them.
    fn render(&self) -> String {
        let mut v: Vec<String> = Vec::new();
        for o in &self.options {
            v.push(format!("-o {o}"));
        }
        for a in &self.actions {
            match a.as_str() {
                "alias" => v.push("-a".into()),
                "builtin" => v.push("-b".into()),
                "command" => v.push("-c".into()),
                "directory" => v.push("-d".into()),
                "export" => v.push("-e".into()),
                "file" => v.push("-f".into()),
                "keyword" => v.push("-k".into()),
                "variable" => v.push("-v".into()),
                other => v.push(format!("-A {other}")),
            }
        }
        if let Some(g) = &self.glob {
            v.push(format!("-G {}", quote(g)));
        }
        if let Some(w) = &self.words {
            v.push(format!("-W {}", quote(w)));
        }
        if !self.prefix.is_empty() {
            v.push(format!("-P {}", quote(&self.prefix)));
        }
        if !self.suffix.is_empty() {
            v.push(format!("-S {}", quote(&self.suffix)));
        }
        if let Some(x) = &self.filter {
            v.push(format!("-X {}", quote(x)));
        }
        if let Some(f) = &self.func {
            v.push(format!("-F {f}"));
        }
        if let Some(c) = &self.command {
            v.push(format!("-C {}", quote(c)));
        }
        v.join(" ")
    }
}

async fn parse(name: &str, args: &[String], st: &ShellState, io: &Io) -> Result<Spec, i32> {
    let usage = if name == "compgen" {
        "compgen: usage: compgen [-abcdefgjksuv] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [word]\n"
    } else {
        "complete: usage: complete [-abcdefgjksuv] [-pr] [-DEI] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [name ...]\n"
    };
    let mut sp = Spec::default();
    let flags = if name == "compgen" {
        "abcdefkvgjsu"
    } else {
        "abcdefkvgjsuprDEI"
    };
    let mut opts = super::getopt::Getopt::new(args, flags, "oAGWFCXPS");
    while let Some(opt) = opts.next_opt() {
        match opt {
            Opt::Flag(c) => {
                let simple = match c {
                    'a' => "alias",
                    'b' => "builtin",
                    'c' => "command",
                    'd' => "directory",
                    'e' => "export",
                    'f' => "file",
                    'k' => "keyword",
                    'v' => "variable",
                    'g' => "group",
                    'j' => "job",
                    's' => "service",
                    'u' => "user",
                    'p' => {
                        sp.print = true;
                        continue;
                    }
                    'r' => {
                        sp.remove = true;
                        continue;
                    }
                    _ => continue,
                };
                sp.actions.push(simple.into());
            }
            Opt::Arg(c, v) => match c {
                'o' => sp.options.push(v),
                'A' => sp.actions.push(v),
                'G' => sp.glob = Some(v),
                'W' => sp.words = Some(v),
                'F' => sp.func = Some(v),
                'C' => sp.command = Some(v),
                'X' => sp.filter = Some(v),
                'P' => sp.prefix = v,
                _ => sp.suffix = v,
            },
            bad => return Err(super::getopt::usage_error(&bad, name, usage, st, io).await),
        }
    }
    sp.names = opts.rest().to_vec();
    Ok(sp)
}

async fn candidates(interp: &Interp, st: &ShellState, sp: &Spec, word: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for a in &sp.actions {
        match a.as_str() {
            "alias" => v.extend(st.parse.aliases.keys().cloned()),
            "builtin" | "enabled" => {
                v.extend(
                    super::enable::BASH_BUILTINS
                        .iter()
                        .map(|s| (*s).to_string()),
                );
            }
            "keyword" => v.extend(super::r#type::KEYWORDS.iter().map(|s| (*s).to_string())),
            "function" => {
                let mut f: Vec<String> = st.functions.keys().cloned().collect();
                f.sort();
                v.extend(f);
            }
            "variable" | "export" => {
                let mut names: Vec<String> = st
                    .vars
                    .iter()
                    .filter(|(_, x)| a == "variable" || x.exported)
                    .map(|(k, _)| k.clone())
                    .collect();
                names.sort();
                v.extend(names);
            }
            "command" => {
                v.extend(st.parse.aliases.keys().cloned());
                v.extend(
                    super::enable::BASH_BUILTINS
                        .iter()
                        .map(|s| (*s).to_string()),
                );
                let mut f: Vec<String> = st.functions.keys().cloned().collect();
                f.sort();
                v.extend(f);
                v.extend(super::r#type::KEYWORDS.iter().map(|s| (*s).to_string()));
                v.extend(interp.host.command_names());
            }
            "file" | "directory" => {
                let (dir, _) = match word.rfind('/') {
                    Some(i) => (&word[..=i], &word[i + 1..]),
                    None => ("", word),
                };
                let abs = mirage_types::join_path(&st.cwd, if dir.is_empty() { "." } else { dir });
                if let Ok(entries) = interp.vfs.readdir(&abs).await {
                    let mut names: Vec<String> = entries
                        .iter()
                        .filter(|e| a == "file" || e.is_dir())
                        .map(|e| format!("{dir}{}", e.name))
                        .collect();
                    names.sort();
                    v.extend(names);
                }
            }
            _ => {}
        }
    }
    if let Some(w) = &sp.words {
        let ifs = st.ifs();
        v.extend(
            w.split(|c: char| ifs.contains(c))
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
    }
    v.retain(|c| c.starts_with(word));
    if let Some(x) = &sp.filter {
        let (neg, pat) = match x.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, x.as_str()),
        };
        v.retain(|c| crate::pattern::matches(pat, c) == neg);
    }
    v.into_iter()
        .map(|c| format!("{}{c}{}", sp.prefix, sp.suffix))
        .collect()
}

#[async_trait]
impl Builtin for Compgen {
    fn names(&self) -> &'static [&'static str] {
        &["compgen", "complete"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("compgen", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        let sp = match parse(name, args, st, io).await {
            Ok(sp) => sp,
            Err(code) => return Ok(code),
        };
        if name == "compgen" {
            let word = sp.names.first().map_or("", String::as_str);
            let list = candidates(interp, st, &sp, word).await;
            let text: String = list.iter().map(|c| format!("{c}\n")).collect();
            out(io, &bytestr::encode(&text)).await?;
            return Ok(if list.is_empty() { 1 } else { 0 });
        }
        if sp.remove {
            if sp.names.is_empty() {
                st.extra.completions.clear();
            }
            // with no spec at all bash says nothing
            if st.extra.completions.is_empty() {
                return Ok(0);
            }
            let mut status = 0;
            for n in &sp.names {
                let before = st.extra.completions.len();
                st.extra.completions.retain(|(k, _)| k != n);
                if before == st.extra.completions.len() {
                    io.err(&format!(
                        "{}complete: {n}: no completion specification\n",
                        st.diag()
                    ))
                    .await;
                    status = 1;
                }
            }
            return Ok(status);
        }
        let defining = !sp.actions.is_empty()
            || !sp.options.is_empty()
            || sp.words.is_some()
            || sp.func.is_some()
            || sp.command.is_some()
            || sp.glob.is_some()
            || sp.filter.is_some()
            || !sp.prefix.is_empty()
            || !sp.suffix.is_empty();
        if sp.print || !defining {
            let mut items = Vec::new();
            if sp.names.is_empty() {
                for (n, spec) in &st.extra.completions {
                    items.push(Ok(format!("complete {spec} {n}\n")));
                }
            }
            for n in &sp.names {
                items.push(match st.extra.completions.iter().find(|(k, _)| k == n) {
                    Some((_, spec)) => Ok(format!("complete {spec} {n}\n")),
                    None => Err(format!(
                        "{}complete: {n}: no completion specification\n",
                        st.diag()
                    )),
                });
            }
            return lines_or_errors(io, items).await;
        }
        let spec = sp.render();
        for n in &sp.names {
            match st.extra.completions.iter_mut().find(|(k, _)| k == n) {
                Some(e) => e.1 = spec.clone(),
                None => st.extra.completions.push((n.clone(), spec.clone())),
            }
        }
        Ok(0)
    }
}
