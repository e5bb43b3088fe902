//! `declare`, `typeset`, `local`, `export` and `readonly`: variable attributes
//! and assignments.

use std::collections::BTreeMap;

use async_trait::async_trait;
use mirage_types::bytestr;

use super::{Builtin, out, valid_name};
use crate::ast::DeclArg;
use crate::exec::{ExecResult, Interp, Io};
use crate::state::{ShellState, Value, Var};

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
        io.err(&format!(
            "{}local: can only be used in a function\n",
            st.diag()
        ))
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
                        io.err(&format!(
                            "{}{kw}: `{v}': not a valid identifier\n",
                            st.diag()
                        ))
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
            io.err(&format!(
                "{}{kw}: `{name}': not a valid identifier\n",
                st.diag()
            ))
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
                    io.err(&format!("{}declare: {name}: not found\n", st.diag()))
                        .await;
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
                io.err(&format!("{}{name}: readonly variable\n", st.diag()))
                    .await;
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
