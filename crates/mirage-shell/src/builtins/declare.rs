//! `declare`, `typeset`, `local`, `export` and `readonly`: variable attributes
//! and assignments, as bash 5.2.
//!
//! Attributes: `-a` indexed array, `-A` associative array, `-i` integer
//! (assignments are evaluated arithmetically), `-l`/`-u` case conversion,
//! `-n` name reference, `-r` readonly, `-x` export, `-t` trace (accepted),
//! `-g` global inside a function; `+x`, `+i`, `+n`… remove one. `-p`
//! prints variables as bash does (`declare -a a=([0]="x")`), `-f`/`-F`
//! functions. `export -n` unexports, `export -p`/`readonly -p` list.
//! `local -` saves the `set` options until the function returns.

use std::collections::BTreeMap;

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out, valid_name};
use crate::ast::DeclArg;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::{ShellState, Value, Var};
use crate::transform::{attr_letters, print_var};

/// `declare`, `typeset`, `local`, `export` and `readonly`: variable attributes
/// and assignments.
pub struct Declare;

#[async_trait]
impl Builtin for Declare {
    fn names(&self) -> &'static [&'static str] {
        &["export", "local", "declare", "typeset", "readonly"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let name = argv.first().map_or("", String::as_str);
        let args = argv.get(1..).unwrap_or_default();
        let dargs: Vec<DeclArg> = args
            .iter()
            .map(|a| DeclArg::Word(crate::ast::Word::quoted(a.clone())))
            .collect();
        declare(interp, name, &dargs, st, io).await
    }
}

/// The option letters each keyword accepts.
fn valid_flags(kw: &str) -> &'static str {
    match kw {
        "export" => "fnp",
        "readonly" => "aAfp",
        _ => "aAfFgiIlnprtux",
    }
}

/// bash's usage line for `kw`.
fn usage(kw: &str) -> String {
    match kw {
        "export" => "export: usage: export [-fn] [name[=value] ...] or export -p\n".into(),
        "readonly" => {
            "readonly: usage: readonly [-aAf] [name[=value] ...] or readonly -p\n".into()
        }
        "typeset" => "typeset: usage: typeset [-aAfFgiIlnrtux] name[=value] ... or typeset -p [-aAfFilnrtux] [name ...]\n".into(),
        "local" => "local: usage: local [option] name[=value] ...\n".into(),
        _ => "declare: usage: declare [-aAfFgiIlnrtux] [name[=value] ...] or declare -p [-aAfFilnrtux] [name ...]\n".into(),
    }
}

/// The `set`/`declare` (no arguments) form of a variable: `name=value`.
pub(crate) fn print_plain(name: &str, v: &Var) -> String {
    match &v.value {
        Value::Scalar(s) => format!("{name}={}\n", set_quote(s)),
        _ => {
            let line = print_var(name, v);
            let rest = line.split_once(' ').map_or("", |x| x.1);
            let rest = rest.split_once(' ').map_or("", |x| x.1);
            rest.to_string()
        }
    }
}

/// `set`'s quoting: bare when safe (an empty value too), else `'…'` (or `$'…'`).
fn set_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./:,@%+=".contains(c))
    {
        s.to_string()
    } else {
        crate::transform::quote(s)
    }
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
    let mut targets: Vec<DeclArg> = Vec::new();
    let mut options_done = false;
    for a in args {
        match a {
            DeclArg::Word(w) => {
                for f in interp.expand_word(w, st, io).await? {
                    if !options_done && targets.is_empty() {
                        if f == "--" {
                            options_done = true;
                            continue;
                        }
                        if (f.starts_with('-') || f.starts_with('+')) && f.len() > 1 {
                            let (set, letters) = f.split_at(1);
                            for c in letters.chars() {
                                if !valid_flags(kw).contains(c) || (set == "+" && c == 'p') {
                                    let diag = st.diag();
                                    io.err(&format!(
                                        "{diag}{kw}: {set}{c}: invalid option\n{}",
                                        usage(kw)
                                    ))
                                    .await;
                                    return Ok(2);
                                }
                            }
                            if set == "-" {
                                flags.push_str(letters);
                            } else {
                                unflags.push_str(letters);
                            }
                            continue;
                        }
                    }
                    targets.push(DeclArg::Word(crate::ast::Word::quoted(f)));
                }
            }
            other => targets.push(other.clone()),
        }
    }
    if kw == "local" && st.local_frames.is_empty() {
        io.err(&format!(
            "{}local: can only be used in a function\n",
            st.diag()
        ))
        .await;
        return Ok(1);
    }
    let has = |c: char| flags.contains(c);
    // functions
    if has('f') || has('F') {
        return functions(kw, &flags, &unflags, &targets, st, io).await;
    }
    let print = has('p');
    if targets.is_empty() {
        if kw == "local" && !print && flags.is_empty() && unflags.is_empty() {
            return list_locals(st, io).await;
        }
        return list(kw, &flags, print, st, io).await;
    }
    // `export -n` unexports; elsewhere `-n` makes a name reference
    let nameref = has('n') && kw != "export";
    let export = kw == "export" && !has('n') || has('x');
    let unexport = kw == "export" && has('n') || unflags.contains('x');
    let readonly = kw == "readonly" || has('r');
    let in_function = !st.local_frames.is_empty();
    let is_local =
        kw == "local" || ((kw == "declare" || kw == "typeset") && in_function && !has('g'));
    for t in &targets {
        let (name, assign) = match t {
            DeclArg::Assign(a) => (a.name.clone(), Some(a.clone())),
            DeclArg::Word(w) => {
                let v = w.as_static().unwrap_or_default();
                if let Some((n, val)) = v.split_once('=') {
                    let (n, append) = match n.strip_suffix('+') {
                        Some(n) => (n, true),
                        None => (n, false),
                    };
                    let (base, index) = match n.split_once('[') {
                        Some((b, rest)) if rest.ends_with(']') => {
                            (b, Some(crate::ast::Word::quoted(&rest[..rest.len() - 1])))
                        }
                        _ => (n, None),
                    };
                    let a = crate::ast::Assign {
                        name: base.to_string(),
                        index,
                        append,
                        value: crate::ast::AssignValue::Scalar(crate::ast::Word::quoted(val)),
                    };
                    if !valid_name(base) {
                        io.err(&format!(
                            "{}{kw}: `{v}': not a valid identifier\n",
                            st.diag()
                        ))
                        .await;
                        status = 1;
                        continue;
                    }
                    (base.to_string(), Some(a))
                } else {
                    (v, None)
                }
            }
        };
        if name == "-" && kw == "local" {
            st.special.save_options(st.local_frames.len(), st.options);
            continue;
        }
        if !valid_name(&name) {
            io.err(&format!(
                "{}{kw}: `{name}': not a valid identifier\n",
                st.diag()
            ))
            .await;
            status = 1;
            continue;
        }
        crate::bashargv::on_lookup(st, &name);
        if print {
            match st.vars.get(&name) {
                Some(v) => out(io, &bytestr::encode(&print_var(&name, v))).await?,
                None if crate::special::attrs(&name).is_some()
                    && let Some(value) = crate::special::get(st, &name) =>
                {
                    let a = crate::special::attrs(&name).unwrap_or("--");
                    let line = format!("declare {a} {name}={}\n", crate::transform::dquote(&value));
                    out(io, &bytestr::encode(&line)).await?;
                }
                None => {
                    io.err(&format!("{}{kw}: {name}: not found\n", st.diag()))
                        .await;
                    status = 1;
                }
            }
            continue;
        }
        // a name reference's target must be a valid name
        if nameref
            && let Some(a) = &assign
            && let crate::ast::AssignValue::Scalar(w) = &a.value
        {
            let target = interp.expand_single(w, st, io).await?;
            let base = target.split_once('[').map_or(target.as_str(), |x| x.0);
            if !valid_name(base) || target == name {
                let msg = if target == name {
                    format!("{name}: nameref variable self references not allowed")
                } else {
                    format!("`{target}': invalid variable name for name reference")
                };
                io.err(&format!("{}{kw}: {msg}\n", st.diag())).await;
                status = 1;
                continue;
            }
            let v = st
                .vars
                .entry(name.clone())
                .or_insert_with(|| Var::scalar(""));
            if v.readonly {
                io.err(&format!("{}{kw}: {name}: readonly variable\n", st.diag()))
                    .await;
                status = 1;
                continue;
            }
        }
        // the variable an attribute or value goes to (through a name reference)
        let name = if nameref || unflags.contains('n') {
            name
        } else {
            st.resolve(&name).into_owned()
        };
        if crate::bashargv::is_argv(&name)
            && let Some(s) =
                crate::bashargv::declare_refused(kw, &name, assign.as_ref(), st, io).await?
        {
            status = s;
            continue;
        }
        if is_local
            && st.vars.get(&name).is_some_and(|v| v.readonly)
            && st
                .local_frames
                .last()
                .is_some_and(|f| !f.iter().any(|(n, _)| n == &name))
        {
            io.err(&format!("{}{kw}: {name}: readonly variable\n", st.diag()))
                .await;
            status = 1;
            continue;
        }
        if is_local {
            if let Some(frame) = st.local_frames.last_mut()
                && !frame.iter().any(|(n, _)| n == &name)
            {
                frame.push((name.clone(), st.vars.get(&name).cloned()));
                // a new local starts without a value and without the global's attributes
                let mut v = Var::scalar("");
                v.no_value = true;
                st.vars.insert(name.clone(), v);
            }
        } else if !st.vars.contains_key(&name) {
            let mut v = Var::scalar("");
            v.no_value = true;
            st.vars.insert(name.clone(), v);
        }
        // `declare a[2]=x` of a new name makes an array without element 0
        if assign.as_ref().is_some_and(|a| a.index.is_some())
            && let Some(v) = st.vars.get_mut(&name)
            && v.no_value
            && matches!(v.value, Value::Scalar(_))
        {
            v.value = Value::Indexed(BTreeMap::new());
        }
        let Some(var) = st.vars.get_mut(&name) else {
            continue;
        };
        if var.readonly && (assign.is_some() || unflags.contains('r')) {
            // `export`/`readonly NAME=v` report as a plain assignment does
            let who = if matches!(kw, "export" | "readonly") {
                String::new()
            } else {
                format!("{kw}: ")
            };
            io.err(&format!("{}{who}{name}: readonly variable\n", st.diag()))
                .await;
            status = 1;
            continue;
        }
        if has('A') {
            match &var.value {
                Value::Indexed(_) => {
                    io.err(&format!(
                        "{}{kw}: {name}: cannot convert indexed to associative array\n",
                        st.diag()
                    ))
                    .await;
                    status = 1;
                    continue;
                }
                Value::Scalar(s) => {
                    let pairs = if var.no_value {
                        Vec::new()
                    } else {
                        vec![("0".to_string(), s.clone())]
                    };
                    var.value = Value::Assoc(pairs);
                }
                Value::Assoc(_) => {}
            }
        } else if has('a') {
            match &var.value {
                Value::Assoc(_) => {
                    io.err(&format!(
                        "{}{kw}: {name}: cannot convert associative to indexed array\n",
                        st.diag()
                    ))
                    .await;
                    status = 1;
                    continue;
                }
                Value::Scalar(s) => {
                    let mut m = BTreeMap::new();
                    if !var.no_value {
                        m.insert(0, s.clone());
                    }
                    var.value = Value::Indexed(m);
                }
                Value::Indexed(_) => {}
            }
        }
        if has('i') {
            var.integer = true;
        }
        if unflags.contains('i') {
            var.integer = false;
        }
        if nameref {
            var.nameref = true;
        }
        if unflags.contains('n') {
            var.nameref = false;
        }
        if has('u') || has('l') {
            let upper = flags.rfind('u') > flags.rfind('l');
            // the value is converted at its next assignment, not now
            var.case = Some(upper);
        }
        if unflags.contains('u') || unflags.contains('l') {
            var.case = None;
        }
        if let Some(a) = &assign {
            let mut a = a.clone();
            a.name.clone_from(&name);
            if nameref {
                // the value is the name referred to, not assigned through it
                if let crate::ast::AssignValue::Scalar(w) = &a.value {
                    let target = interp.expand_single(w, st, io).await?;
                    if let Some(v) = st.vars.get_mut(&name) {
                        v.value = Value::Scalar(target);
                        v.no_value = false;
                    }
                }
            } else if !interp.do_assign(&a, st, io, false).await? {
                status = 1;
                continue;
            }
        }
        let Some(var) = st.vars.get_mut(&name) else {
            continue;
        };
        if export {
            var.exported = true;
        }
        if unexport {
            var.exported = false;
        }
        if readonly {
            var.readonly = true;
        }
    }
    Ok(status)
}

/// `local` with no arguments: the current function's locals, `name=value`.
async fn list_locals(st: &ShellState, io: &Io) -> ExecResult {
    let mut buf = String::new();
    if let Some(frame) = st.local_frames.last() {
        let mut names: Vec<&String> = frame.iter().map(|(n, _)| n).collect();
        names.sort();
        for n in names {
            if let Some(v) = st.vars.get(n)
                && !v.no_value
            {
                buf.push_str(&print_var(n, v));
            }
        }
    }
    out(io, &bytestr::encode(&buf)).await?;
    Ok(0)
}

/// Lists variables: `declare -p` (all), `export -p`, `readonly -p`,
/// `declare -x` (those with the attributes in `flags`), and `declare`
/// alone (`name=value` lines, as `set` prints them).
async fn list(kw: &str, flags: &str, print: bool, st: &ShellState, io: &Io) -> ExecResult {
    let mut names: Vec<(&String, &Var)> = st.vars.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    let want: String = flags.chars().filter(|c| "aAinrxlu".contains(*c)).collect();
    let mut buf = String::new();
    for (k, v) in names {
        let attrs = attr_letters(v);
        let show = match kw {
            "export" => v.exported,
            "readonly" => v.readonly,
            _ => true,
        } && want.chars().all(|c| attrs.contains(c));
        if !show {
            continue;
        }
        if (kw == "export" || kw == "readonly") && st.options.posix {
            // POSIX mode lists `export NAME="v"` / `readonly -a NAME=(…)`:
            // the array attributes alone
            let line = print_var(k, v);
            let rest = line.splitn(3, ' ').nth(2).unwrap_or_default();
            let arr: String = attrs.chars().filter(|c| matches!(c, 'a' | 'A')).collect();
            let dash = if arr.is_empty() {
                String::new()
            } else {
                format!("-{arr} ")
            };
            buf.push_str(&format!("{kw} {dash}{rest}"));
        } else if kw == "export" || kw == "readonly" || print || !want.is_empty() {
            buf.push_str(&print_var(k, v));
        } else if !v.no_value {
            buf.push_str(&print_plain(k, v));
        }
    }
    out(io, &bytestr::encode(&buf)).await?;
    Ok(0)
}

/// `declare -f`/`-F` (and `export -f`, `readonly -f`): lists functions,
/// prints them, or sets their attributes, as bash does.
///
/// With no name: every function (sorted by name) that has the attributes
/// asked for (`-x`, `-r`, or the keyword's own), as its text
/// ([`crate::funcprint`]) followed by `declare -fATTRS NAME` when it has
/// attributes; with `-F` only those `declare -f…` lines. With names:
/// `export`/`readonly`/`-x`/`-r`/`+x` set or clear the attribute; otherwise
/// each function's text (`-F`: its name; `-pF`: its `declare -f…` line).
/// A name that is no function gives status 1 (and, for `export` and
/// `readonly`, bash's `NAME: not a function`).
async fn functions(
    kw: &str,
    flags: &str,
    unflags: &str,
    targets: &[DeclArg],
    st: &mut ShellState,
    io: &Io,
) -> ExecResult {
    let set_x = kw == "export" && !flags.contains('n') || flags.contains('x');
    let clear_x = kw == "export" && flags.contains('n') || unflags.contains('x');
    let set_r = kw == "readonly" || flags.contains('r');
    let names_only = flags.contains('F');
    let mut buf = String::new();
    let mut status = 0;
    if targets.is_empty() {
        let mut names: Vec<(&String, &std::sync::Arc<crate::ast::Cmd>)> =
            st.functions.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (n, body) in names {
            let attrs = func_attrs(st, n);
            if set_x && !attrs.contains('x') || set_r && !attrs.contains('r') {
                continue;
            }
            if !names_only {
                buf.push_str(&crate::funcprint::print_function(n, body));
                buf.push('\n');
            }
            if names_only || !attrs.is_empty() {
                buf.push_str(&format!("declare -f{attrs} {n}\n"));
            }
        }
        out(io, &bytestr::encode(&buf)).await?;
        return Ok(0);
    }
    let setting = set_x || clear_x || set_r;
    for t in targets {
        let DeclArg::Word(w) = t else { continue };
        let n = w.as_static().unwrap_or_default();
        let Some(body) = st.functions.get(&n) else {
            if kw == "export" || kw == "readonly" {
                io.err(&format!("{}{kw}: {n}: not a function\n", st.diag()))
                    .await;
            }
            status = 1;
            continue;
        };
        if setting {
            let extra = &mut st.extra;
            if set_x {
                extra.func_exported.insert(n.clone());
            }
            if clear_x {
                extra.func_exported.remove(&n);
            }
            if set_r {
                extra.func_readonly.insert(n.clone());
            }
        } else if names_only && flags.contains('p') {
            buf.push_str(&format!("declare -f{} {n}\n", func_attrs(st, &n)));
        } else if names_only {
            buf.push_str(&format!("{n}\n"));
        } else {
            buf.push_str(&crate::funcprint::print_function(&n, body));
            buf.push('\n');
        }
    }
    out(io, &bytestr::encode(&buf)).await?;
    Ok(status)
}

/// A function's attribute letters as `declare -F` shows them after `-f`
/// (`r`, `x`, `rx`).
fn func_attrs(st: &ShellState, name: &str) -> String {
    let mut a = String::new();
    if st.extra.func_readonly.contains(name) {
        a.push('r');
    }
    if st.extra.func_exported.contains(name) {
        a.push('x');
    }
    a
}

/// Whether `name` is a readonly function, which a definition may not
/// replace: then bash's `NAME: readonly function` is written (the
/// definition gives status 1).
pub(crate) async fn readonly_function(st: &ShellState, io: &Io, name: &str) -> bool {
    if st.extra.func_readonly.is_empty() || !st.extra.func_readonly.contains(name) {
        return false;
    }
    io.err(&format!("{}{name}: readonly function\n", st.diag()))
        .await;
    true
}

/// `unset -f NAME`: removes the function and its attributes; a readonly
/// one stays, with bash's `unset: NAME: cannot unset: readonly function`
/// (status 1).
pub(crate) async fn unset_function(st: &mut ShellState, io: &Io, name: &str) -> i32 {
    if st.extra.func_readonly.contains(name) && st.functions.contains_key(name) {
        io.err(&format!(
            "{}unset: {name}: cannot unset: readonly function\n",
            st.diag()
        ))
        .await;
        return 1;
    }
    st.functions.remove(name);
    st.extra.func_exported.remove(name);
    st.extra.func_readonly.remove(name);
    0
}
