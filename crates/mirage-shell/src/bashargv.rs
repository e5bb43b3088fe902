//! `BASH_ARGV` and `BASH_ARGC`: the argument stacks of bash 5.2's
//! debugger support, kept as bash keeps them.
//!
//! Both are ordinary indexed arrays in [`ShellState::vars`], created empty
//! with the shell, the newest entry at index 0. Only this module changes
//! them:
//!
//! - the first lookup of either name outside any function (and without
//!   `extdebug`) fills them, once per shell, from the positional
//!   parameters: `BASH_ARGV` gets them last first, `BASH_ARGC` their count
//!   (bash's "backwards compatibility" initialisation; a later `set --` or
//!   `shift` changes nothing);
//! - `shopt -s extdebug` does the same filling (once per shell; inside a
//!   function it takes the function's arguments), turns on `set -E` and
//!   `set -T` (`shopt -u extdebug` turns them off), and from then on every
//!   function call pushes its arguments (reversed on top of `BASH_ARGV`,
//!   their count on top of `BASH_ARGC`); the return pops what that call
//!   pushed, whatever `extdebug` is by then;
//! - `source FILE ARGS…` pushes `ARGS` under `extdebug` and pops as many as
//!   `BASH_ARGC[0]` says when it ends if `extdebug` is on then;
//!   `source FILE` with no arguments pushes `FILE` with a count of 1, with
//!   or without `extdebug`, and pops it at the end. At the top level,
//!   `source` is also a lookup that fills them (with the arguments of
//!   `source`, when it has some).
//! - the variables have bash's `noassign` and `nounset` attributes:
//!   `unset` refuses (`cannot unset`, status 1) and assignments to them
//!   change nothing ([`is_argv`] lets the assigning code tell: statement
//!   and prefix assignments, `declare` and friends, `ShellState::set`
//!   and `expand::set_element` (so `for`, `read`, `printf -v`, `let`,
//!   `(( ))`), `read -a` and `mapfile`, which fail with status 1).
//!   Still differing from bash: the status of `for`, `read NAME`,
//!   `printf -v`, `let` and `(( ))` into them (bash: 1, here 0) and
//!   `${BASH_ARGV:=x}` (bash abandons the line).
//!
//! A function call without `extdebug` costs one flag test here and no
//! allocation.

use std::collections::BTreeMap;

use crate::ast::{Assign, AssignValue};
use crate::exec::{Flow, Io};
use crate::state::{ShellState, Value, Var};

/// Per-shell state of the two arrays.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArgvState {
    /// The arrays were filled from the positional parameters (bash's
    /// `bash_argv_initialized`).
    initialized: bool,
    /// `shopt extdebug` is on (bash's `debugging_mode`).
    debugging: bool,
}

/// What entering a `source` pushed, for [`leave_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePush {
    /// `source FILE ARGS…`: popped at the end when `extdebug` is on then.
    Args,
    /// `source FILE`: the file name was pushed; always popped.
    File,
}

/// True for `BASH_ARGV` and `BASH_ARGC`.
#[inline]
pub fn is_argv(name: &str) -> bool {
    name.len() == 9 && (name == "BASH_ARGV" || name == "BASH_ARGC")
}

/// Creates the two (empty) arrays of a new shell.
pub fn install(st: &mut ShellState) {
    for name in ["BASH_ARGV", "BASH_ARGC"] {
        let mut v = Var::scalar("");
        v.value = Value::Indexed(BTreeMap::new());
        st.vars.insert(name.to_string(), v);
    }
    st.bashargv = ArgvState::default();
}

/// A new shell (`bash FILE`, `bash -c`, a script run by name) starts with
/// fresh arrays.
pub fn new_shell(st: &mut ShellState) {
    install(st);
    st.bashargv.debugging = st.shopt.is("extdebug");
}

/// A variable is looked up by `name` (which may carry a subscript,
/// `BASH_ARGC[0]`): the first lookup of `BASH_ARGV` or `BASH_ARGC`
/// outside any function fills them from the positional parameters
/// (unless `extdebug` did already).
#[inline]
pub fn on_lookup(st: &mut ShellState, name: &str) {
    if !st.bashargv.initialized
        && name.starts_with("BASH_ARG")
        && is_argv(name.split_once('[').map_or(name, |(b, _)| b))
    {
        touch(st);
    }
}

/// bash's lookup side effect: outside functions and without `extdebug`,
/// fill the arrays once.
fn touch(st: &mut ShellState) {
    if st.func_depth == 0 && !st.bashargv.debugging {
        init(st);
    }
}

/// Fills the arrays once from the positional parameters.
fn init(st: &mut ShellState) {
    if !st.bashargv.initialized {
        st.bashargv.initialized = true;
        let args = st.positional.clone();
        push(st, &args);
    }
}

/// `shopt -s/-u NAME` changed option `name` to `on`.
pub fn shopt_changed(st: &mut ShellState, name: &str, on: bool) {
    if name != "extdebug" {
        return;
    }
    st.bashargv.debugging = on;
    st.options.errtrace = on;
    st.options.functrace = on;
    if on {
        init(st);
    }
}

/// A function call with `args` begins: under `extdebug` its arguments are
/// pushed. Returns whether they were (pass it to [`leave_function`]).
#[inline]
pub fn enter_function(st: &mut ShellState, args: &[String]) -> bool {
    if !st.bashargv.debugging {
        return false;
    }
    push(st, args);
    true
}

/// A function call ends: pops what [`enter_function`] pushed.
#[inline]
pub fn leave_function(st: &mut ShellState, pushed: bool) {
    if pushed {
        pop(st);
    }
}

/// `source FILE [ARGS…]` begins, the positional parameters already set to
/// `ARGS` when `has_args`.
pub fn enter_source(st: &mut ShellState, file: &str, has_args: bool) -> SourcePush {
    if has_args {
        if st.bashargv.debugging {
            let args = st.positional.clone();
            push(st, &args);
        }
        touch(st);
        SourcePush::Args
    } else {
        touch(st);
        push(st, std::slice::from_ref(&file.to_string()));
        SourcePush::File
    }
}

/// `source` ends (before the positional parameters are restored).
pub fn leave_source(st: &mut ShellState, pushed: SourcePush) {
    if pushed == SourcePush::File || st.bashargv.debugging {
        pop(st);
    }
}

/// An assignment statement (or prefix assignment) to `BASH_ARGV` or
/// `BASH_ARGC`: bash's `noassign` drops a value (`BASH_ARGV=x`,
/// `BASH_ARGC[1]=2`: true, status 0, nothing changed), and refuses an
/// array value (`BASH_ARGV=(x y)`: false, which fails the line with status
/// 1, silently).
pub fn assign_allowed(a: &Assign) -> bool {
    !matches!(a.value, AssignValue::Array(_))
}

/// A `for` loop is about to assign its variable `var`: bash stops the
/// loop with status 1 when it cannot, before running the body: a
/// readonly variable (the message `NAME: readonly variable`, returned
/// with its `st.diag()` start) or `BASH_ARGV`/`BASH_ARGC` (silently: an
/// empty message). `None`: go on.
pub fn loop_var_refused(st: &ShellState, var: &str) -> Option<String> {
    if is_argv(var) {
        return Some(String::new());
    }
    st.vars
        .get(var)
        .is_some_and(|v| v.readonly)
        .then(|| format!("{}{var}: readonly variable\n", st.diag()))
}

/// `unset NAME` (or `unset 'NAME[I]'`) of `BASH_ARGV`/`BASH_ARGC`: bash's
/// message after `unset: ` (`BASH_ARGV: cannot unset`), or `None` for any
/// other name.
pub fn unset_refused(name: &str) -> Option<String> {
    let base = name.split_once('[').map_or(name, |(b, _)| b);
    is_argv(base).then(|| format!("{base}: cannot unset"))
}

/// `declare`/`typeset`/`local`/`export`/`readonly` of `BASH_ARGV` or
/// `BASH_ARGC` (`name`), with the assignment `assign` if it has one:
/// `Some(status)` when bash refuses it (then the name is skipped), `None`
/// to go on (attributes only; `export`/`readonly NAME=v` set the
/// attribute and drop the value). As bash 5.2:
/// - `local NAME[=…]`: `local: NAME: variable may not be assigned value`,
///   status 1 (an array value adds the same message first, without the
///   `local: `);
/// - `declare NAME=v`: status 1, silently; `declare NAME=(…)` abandons the
///   line with status 1, silently.
pub async fn declare_refused(
    kw: &str,
    name: &str,
    assign: Option<&Assign>,
    st: &ShellState,
    io: &Io,
) -> Result<Option<i32>, Flow> {
    let compound = assign.is_some_and(|a| !assign_allowed(a));
    if kw == "local" {
        let diag = st.diag();
        let msg = format!("{name}: variable may not be assigned value\n");
        if compound {
            // bash names the function here when `local` is its first
            // command (its name is still the current command's)
            io.err(&format!("{diag}{msg}")).await;
        }
        io.err(&format!("{diag}local: {msg}")).await;
        return Ok(Some(1));
    }
    match (kw, assign) {
        (_, None) => Ok(None),
        _ if compound => Err(Flow::Abort(1)),
        ("declare" | "typeset", Some(_)) => Ok(Some(1)),
        _ => Ok(None),
    }
}

/// The indexed array `name`, if it is one.
fn array<'a>(st: &'a mut ShellState, name: &str) -> Option<&'a mut BTreeMap<i64, String>> {
    match st.vars.get_mut(name).map(|v| &mut v.value) {
        Some(Value::Indexed(m)) => Some(m),
        _ => None,
    }
}

/// bash's `array_rshift`: every index moves up by `items.len()` and
/// `items` fill 0.. (the last pushed at 0).
fn shift_in(m: &mut BTreeMap<i64, String>, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len() as i64;
    if n == 0 {
        return;
    }
    let old = std::mem::take(m);
    m.extend(old.into_iter().map(|(k, v)| (k.saturating_add(n), v)));
    m.extend(items.enumerate().map(|(i, v)| (i as i64, v)));
}

/// bash's `array_shift` of one element: the first element goes, the rest
/// are renumbered from 0. Returns the removed value.
fn shift_out(m: &mut BTreeMap<i64, String>) -> Option<String> {
    let old = std::mem::take(m);
    let mut it = old.into_values();
    let first = it.next();
    m.extend(it.enumerate().map(|(i, v)| (i as i64, v)));
    first
}

/// bash's `push_args`: `args` reversed on top of `BASH_ARGV`, their count
/// on top of `BASH_ARGC`.
fn push(st: &mut ShellState, args: &[String]) {
    if let Some(m) = array(st, "BASH_ARGV") {
        shift_in(m, args.iter().rev().cloned());
    }
    if let Some(m) = array(st, "BASH_ARGC") {
        shift_in(m, std::iter::once(args.len().to_string()));
    }
}

/// bash's `pop_args`: takes the count on top of `BASH_ARGC` and as many
/// entries off `BASH_ARGV`.
fn pop(st: &mut ShellState) {
    let n = array(st, "BASH_ARGC")
        .and_then(shift_out)
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0);
    if let Some(m) = array(st, "BASH_ARGV") {
        for _ in 0..n {
            if m.is_empty() {
                break;
            }
            shift_out(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(st: &ShellState, name: &str) -> Vec<(i64, String)> {
        match st.vars.get(name).map(|v| &v.value) {
            Some(Value::Indexed(m)) => m.iter().map(|(k, v)| (*k, v.clone())).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn push_and_pop() {
        let mut st = ShellState::new("/");
        st.positional = vec!["a".into(), "b".into()];
        on_lookup(&mut st, "BASH_ARGV");
        assert_eq!(
            argv(&st, "BASH_ARGV"),
            vec![(0, "b".into()), (1, "a".into())]
        );
        shopt_changed(&mut st, "extdebug", true);
        let pushed = enter_function(&mut st, &["x".into()]);
        assert!(pushed);
        assert_eq!(
            argv(&st, "BASH_ARGC"),
            vec![(0, "1".into()), (1, "2".into())]
        );
        assert_eq!(argv(&st, "BASH_ARGV")[0], (0, "x".into()));
        leave_function(&mut st, pushed);
        assert_eq!(argv(&st, "BASH_ARGC"), vec![(0, "2".into())]);
        assert_eq!(argv(&st, "BASH_ARGV").len(), 2);
    }

    #[test]
    fn no_extdebug_no_push() {
        let mut st = ShellState::new("/");
        assert!(!enter_function(&mut st, &["x".into()]));
        st.func_depth = 1;
        on_lookup(&mut st, "BASH_ARGC");
        assert!(argv(&st, "BASH_ARGC").is_empty());
    }
}
