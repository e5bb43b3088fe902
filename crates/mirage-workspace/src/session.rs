//! What a session keeps besides its shell state: the record of the lines it
//! ran ([`HistoryEntry`]), and the portable picture of it that a snapshot
//! carries ([`SessionSnapshot`]).

use std::collections::{BTreeMap, VecDeque};

use mirage_shell::ShellState;
use serde::{Deserialize, Serialize};

/// The most lines one session's history keeps; older ones are dropped.
pub const HISTORY_LIMIT: usize = 10_000;

/// One line a session ran, as the daemon's history reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The line (or script) as given.
    pub line: String,
    /// The session's working directory when the line started.
    pub cwd: String,
    /// Its exit status (0–255; 130 when cancelled, 124 past the wall time).
    pub exit_code: i32,
    /// Wall time from start to end, in milliseconds.
    pub duration_ms: f64,
    /// Bytes of stdout and stderr together, when counted (`None` for a
    /// streamed line whose caller did not report them through
    /// [`crate::Workspace::note_bytes_out`]).
    pub bytes_out: Option<u64>,
    /// When the line started, in seconds since the Unix epoch.
    pub started_at: f64,
}

/// A session's history: the last [`HISTORY_LIMIT`] lines, oldest first.
#[derive(Debug, Default)]
pub(crate) struct History {
    pub(crate) entries: VecDeque<HistoryEntry>,
}

impl History {
    pub(crate) fn push(&mut self, e: HistoryEntry) {
        if self.entries.len() >= HISTORY_LIMIT {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }
}

/// The portable picture of a session that a snapshot carries: enough to
/// start an equivalent session in another workspace or daemon. Shell
/// variables that are not exported, aliases, options, traps and
/// background jobs are not carried.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// The session id.
    pub id: String,
    /// Its working directory.
    pub cwd: String,
    /// Its exported variables, except `PWD` and `OLDPWD` (they follow `cwd`).
    pub env: BTreeMap<String, String>,
    /// Its shell functions as `declare -f` prints them (bash source text,
    /// sorted by name), run again by [`crate::Workspace::restore_session`].
    pub functions: String,
    /// The lines it ran, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// The variables a snapshot leaves out: they are derived from `cwd`.
const DERIVED: &[&str] = &["PWD", "OLDPWD"];

/// The snapshot of `st` (cwd, exported variables, functions) with
/// `history`, under `id`.
pub(crate) fn snapshot_of(id: &str, st: &ShellState, history: &History) -> SessionSnapshot {
    let env = st
        .exported()
        .into_iter()
        .filter(|(k, _)| !DERIVED.contains(&k.as_str()))
        .collect();
    let mut names: Vec<&String> = st.functions.keys().collect();
    names.sort();
    let mut functions = String::new();
    for n in names {
        if let Some(body) = st.functions.get(n) {
            functions.push_str(&mirage_shell::funcprint::print_function(n, body));
            functions.push('\n');
        }
    }
    SessionSnapshot {
        id: id.to_string(),
        cwd: st.cwd.clone(),
        env,
        functions,
        history: history.entries.iter().cloned().collect(),
    }
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
