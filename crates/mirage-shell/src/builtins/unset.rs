//! `unset [-f|-v|-n] NAME...`, including one array element (`unset 'a[1]'`);
//! a name reference unsets the variable it refers to (`-n`: the reference).

use async_trait::async_trait;

use super::Builtin;
use crate::exec::{ExecResult, Flow, Interp, Io};
use crate::state::{ShellState, Value};

/// `unset [-f|-v] NAME...`, including one array element (`unset 'a[1]'`).
pub struct Unset;

#[async_trait]
impl Builtin for Unset {
    fn names(&self) -> &'static [&'static str] {
        &["unset"]
    }

    async fn run(
        &self,
        _interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let mut funcs = false;
        let mut vars_only = false;
        let mut nameref = false;
        let mut status = 0;
        let mut names = args.iter();
        let mut rest: Vec<&String> = Vec::new();
        for a in names.by_ref() {
            if a == "--" {
                break;
            }
            if a.len() > 1 && a.starts_with('-') {
                for c in a[1..].chars() {
                    match c {
                        'f' => funcs = true,
                        'v' => vars_only = true,
                        'n' => nameref = true,
                        c => {
                            io.err(&format!(
                                "{}unset: -{c}: invalid option\nunset: usage: unset [-f] [-v] [-n] [name ...]\n",
                                st.diag()
                            ))
                            .await;
                            return Ok(2);
                        }
                    }
                }
                continue;
            }
            rest.push(a);
            break;
        }
        rest.extend(names);
        if funcs && vars_only {
            io.err(&format!(
                "{}unset: cannot simultaneously unset a function and a variable\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        for n in rest {
            let n = n.as_str();
            if funcs {
                status |= super::declare::unset_function(st, io, n).await;
                continue;
            }
            // through a name reference, unless `-n`
            let target = if nameref {
                n.to_string()
            } else {
                st.resolve(n).into_owned()
            };
            let n = target.as_str();
            if let Some(msg) = crate::bashargv::unset_refused(n) {
                io.err(&format!("{}unset: {msg}\n", st.diag())).await;
                status = 1;
                continue;
            }
            if let Some((base, key)) = n.strip_suffix(']').and_then(|n| n.split_once('[')) {
                let resolved = if nameref {
                    base.to_string()
                } else {
                    st.resolve(base).into_owned()
                };
                let base = resolved.as_str();
                // one element: `unset 'b[0]'`, `unset 'b[i+1]'`, `unset 'b[-1]'`, `unset 'a[key]'`
                match unset_element(st, base, key) {
                    Ok(()) => {}
                    Err(ElementError::Msg(msg)) => {
                        io.err(&format!("{}unset: {msg}\n", st.diag())).await;
                        status = 1;
                    }
                    // bash 5.2: an arithmetic error in the subscript ends
                    // the shell (status 1), without `unset: `
                    Err(ElementError::Arith(msg)) => {
                        io.err(&format!("{}{msg}\n", st.diag())).await;
                        return Err(Flow::Exit(1));
                    }
                }
            } else if st.vars.get(n).is_some_and(|v| v.readonly) {
                io.err(&format!(
                    "{}unset: {n}: cannot unset: readonly variable\n",
                    st.diag()
                ))
                .await;
                status = 1;
            } else if st.vars.remove(n).is_none()
                && !crate::special::forget(st, n)
                && !vars_only
                && !nameref
            {
                st.functions.remove(n);
            }
        }
        Ok(status)
    }
}

/// Why `unset 'NAME[KEY]'` failed.
enum ElementError {
    /// Printed after `unset: `; the status is 1 and the shell goes on.
    Msg(String),
    /// An arithmetic error in the subscript: printed as is, and the
    /// shell ends.
    Arith(String),
}

/// `unset 'NAME[KEY]'`: removes one element, as bash 5.2. An indexed
/// array's key is arithmetic (negative counts from the end; `@` and `*`
/// unset the whole array), an associative array's is the literal key, and
/// `NAME[0]` of a scalar unsets it. Errors give bash's message.
fn unset_element(st: &mut ShellState, base: &str, key: &str) -> Result<(), ElementError> {
    let Some(var) = st.vars.get(base) else {
        return Ok(());
    };
    if var.readonly {
        return Err(ElementError::Msg(format!(
            "{base}: cannot unset: readonly variable"
        )));
    }
    let is_indexed = matches!(var.value, Value::Indexed(_));
    if (key == "@" || key == "*") && is_indexed {
        st.vars.remove(base);
        return Ok(());
    }
    let idx = if matches!(var.value, Value::Assoc(_)) {
        None
    } else {
        Some(crate::arith::eval(key, st).map_err(|e| ElementError::Arith(e.report(key)))?)
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
                return Err(ElementError::Msg(format!("[{i}]: bad array subscript")));
            }
            m.remove(&k);
        }
        (Value::Scalar(_), Some(0)) => {
            st.vars.remove(base);
        }
        (Value::Scalar(_), _) => {
            return Err(ElementError::Msg(format!("{base}: not an array variable")));
        }
        (Value::Indexed(_), None) => {}
    }
    Ok(())
}
