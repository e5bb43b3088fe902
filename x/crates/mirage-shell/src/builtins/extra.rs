//! Session data kept by the builtins that remember something between
//! commands: the directory stack (`pushd`), the history list (`history`),
//! completion specs (`complete`) and the hash table (`hash`).

/// The builtins' session data (a field of [`crate::ShellState`]).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// The directory stack below the current directory, top first: entry
    /// 1 of `dirs` is `dirstack[0]` (entry 0 is always the current directory).
    pub dirstack: Vec<String>,
    /// The hash table (`hash`): (name, path, hits) in insertion order.
    pub hashed: Vec<(String, String, u32)>,
    /// Limits changed with `ulimit`: option letter → (soft, hard), `None`
    /// meaning unlimited.
    pub ulimits: Vec<(char, Option<u64>, Option<u64>)>,
    /// Completion specs (`complete`): command name → the options as
    /// `complete -p` prints them, in the order they were defined.
    pub completions: Vec<(String, String)>,
    /// Builtins turned off with `enable -n`.
    pub disabled: Vec<String>,
    /// The history list (`history`, `fc`).
    pub history: super::history::HistoryList,
    /// Functions marked exported (`export -f`, `declare -fx`).
    pub func_exported: std::collections::BTreeSet<String>,
    /// Functions marked readonly (`readonly -f`, `declare -fr`).
    pub func_readonly: std::collections::BTreeSet<String>,
}
