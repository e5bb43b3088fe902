//! Commands run without an allocated future.
//!
//! [`crate::exec::Interp::exec`] boxes a future of several kilobytes for
//! every command, and a loop body such as `s=$((s+i))` paid for that box
//! on each iteration. A command this module accepts is run synchronously
//! instead, with exactly the effects the general path has: the line number,
//! the command budget, the assignment (as `do_assign`), `$?`.
//!
//! Accepted today: a simple command that is one scalar assignment `NAME=WORD`
//! (no words, redirects, subscript or `+=`), whose word expands without I/O
//! (literals, quotes, `$name` of a set scalar, `$((…))` over those), to a
//! variable that is not readonly, integer, a name reference or one of
//! `BASH_ARGV`/`BASH_ARGC` (which drop assignments), while no
//! `DEBUG` trap, `set -x`, process substitution or yield is due. Anything
//! else returns `None` before any effect, and the general path runs.

use crate::ast::{AssignValue, Cmd};
use crate::state::ShellState;

/// What a command run here gave.
pub(crate) enum Now {
    /// Its status (`$?` is set already).
    Status(i32),
    /// An expansion error: print `message` (after `st.diag()`) on stderr and
    /// abandon the rest of the line with status 1, as the general path does.
    Error(String),
}

/// Runs `cmd` when it is a command this module accepts (see the module
/// documentation); `None` otherwise, with nothing changed.
pub(crate) fn try_run(cmd: &Cmd, st: &mut ShellState) -> Option<Now> {
    let Cmd::Simple(s) = cmd else { return None };
    let [a] = s.assigns.as_slice() else {
        return None;
    };
    if !s.words.is_empty()
        || !s.redirs.is_empty()
        || a.append
        || a.index.is_some()
        || st.options.xtrace
        || !st.procsubs.is_empty()
        || !st.exec_fds.outsubs.is_empty()
        || st.traps.contains_key("DEBUG")
    {
        return None;
    }
    let AssignValue::Scalar(w) = &a.value else {
        return None;
    };
    // BASH_ARGV/BASH_ARGC ignore assignments: do_assign decides
    if crate::bashargv::is_argv(&a.name) {
        return None;
    }
    if st
        .vars
        .get(&a.name)
        .is_some_and(|v| v.readonly || v.integer || v.nameref)
    {
        return None;
    }
    // the general path counts the command before it expands anything
    if !crate::expand::simple_word(w, st) || !crate::jobs::tick_command_now(st) {
        return None;
    }
    st.set_line(s.line);
    st.trace.eval_span = 0;
    st.last_subst_status = None;
    let v = match crate::expand::expand_single_now(w, st)? {
        Ok(v) => v,
        Err(msg) => return Some(Now::Error(msg)),
    };
    if v.len() > st.limits.max_value_bytes {
        return Some(Now::Error(format!(
            "{}: value exceeds the limit of {} bytes",
            a.name, st.limits.max_value_bytes
        )));
    }
    st.set(&a.name, v);
    crate::special::assigned(st, &a.name);
    if st.options.allexport
        && let Some(v) = st.vars.get_mut(&a.name)
    {
        v.exported = true;
    }
    st.last_status = 0;
    Some(Now::Status(0))
}
