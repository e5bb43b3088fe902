//! Session state: variables, functions, positional parameters, options.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ast::Cmd;

/// A variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Scalar(String),
    /// An indexed array (sparse, by index).
    Indexed(BTreeMap<i64, String>),
    /// An associative array (`declare -A`), in insertion order of keys.
    Assoc(Vec<(String, String)>),
}

impl Value {
    /// The value as `$name` gives it: a scalar, or element 0 of an array.
    pub fn scalar(&self) -> String {
        match self {
            Value::Scalar(s) => s.clone(),
            Value::Indexed(m) => m.get(&0).cloned().unwrap_or_default(),
            Value::Assoc(v) => v
                .iter()
                .find(|(k, _)| k == "0")
                .map(|(_, x)| x.clone())
                .unwrap_or_default(),
        }
    }
    /// All elements (`${a[@]}`).
    pub fn elements(&self) -> Vec<String> {
        match self {
            Value::Scalar(s) => vec![s.clone()],
            Value::Indexed(m) => m.values().cloned().collect(),
            Value::Assoc(v) => assoc_order(v).map(|(_, x)| x.clone()).collect(),
        }
    }
    /// All keys (`${!a[@]}`).
    pub fn keys(&self) -> Vec<String> {
        match self {
            Value::Scalar(_) => vec!["0".into()],
            Value::Indexed(m) => m.keys().map(std::string::ToString::to_string).collect(),
            Value::Assoc(v) => assoc_order(v).map(|(k, _)| k.clone()).collect(),
        }
    }
}

/// The pairs of an associative array (kept in insertion order) in the
/// order bash 5.2 lists them: by bucket of its 1024-bucket hash table
/// (32-bit FNV-1 of the key), the newest key first within a bucket.
pub fn assoc_order(pairs: &[(String, String)]) -> impl Iterator<Item = &(String, String)> {
    let bucket = |k: &str| {
        let mut h: u32 = 2_166_136_261;
        for b in mirage_types::bytestr::encode(k).iter() {
            h = h.wrapping_mul(16_777_619) ^ u32::from(*b);
        }
        h & 1023
    };
    let mut order: Vec<(u32, usize)> = pairs
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (bucket(k), usize::MAX - i))
        .collect();
    order.sort_unstable();
    order
        .into_iter()
        .filter_map(move |(_, i)| pairs.get(usize::MAX - i))
}

/// A map keyed by shell names (variables, functions, trap names), hashed
/// with `foldhash` (fast on short keys, seeded per process) instead of the
/// standard library's SipHash: a lookup per word expanded and per command
/// run made SipHash a tenth of a tight loop's time.
pub type NameMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// A shell variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// The value.
    pub value: Value,
    /// Exported to commands.
    pub exported: bool,
    /// `readonly`.
    pub readonly: bool,
    /// `declare -i`: assignments are evaluated arithmetically.
    pub integer: bool,
    /// `declare -u` (true) / `declare -l` (false): case conversion on assignment.
    pub case: Option<bool>,
    /// `declare -n`: a name reference; the value is the name it stands for.
    pub nameref: bool,
    /// Declared (`declare x`, `local x`, `declare -i n`) but never given a
    /// value: `declare -p` prints no `=`.
    pub no_value: bool,
}

impl Var {
    /// An unexported scalar.
    pub fn scalar(s: impl Into<String>) -> Self {
        Var {
            value: Value::Scalar(s.into()),
            exported: false,
            readonly: false,
            integer: false,
            case: None,
            nameref: false,
            no_value: false,
        }
    }
}

/// `set -o` options that change execution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// `set -e`.
    pub errexit: bool,
    /// `set -u`.
    pub nounset: bool,
    /// `set -o pipefail`.
    pub pipefail: bool,
    /// `set -x` (accepted; traces go to stderr).
    pub xtrace: bool,
    /// `set -f`.
    pub noglob: bool,
    /// `set -a`.
    pub allexport: bool,
    /// `set -C`.
    pub noclobber: bool,
    /// `set -E`: `ERR` traps fire inside functions and subshells too.
    pub errtrace: bool,
    /// `set -T`: `DEBUG` and `RETURN` traps fire inside functions too.
    pub functrace: bool,
    /// `set -v`: input lines are echoed to stderr as they are read.
    pub verbose: bool,
    /// `set -o history`: lines read are added to the history list (off
    /// under `bash -c`, on in the interactive shell).
    pub history: bool,
    /// `set -o posix`: prefix assignments before a special builtin stay
    /// (exported); `export -p`/`readonly -p` list `export NAME=…` lines.
    pub posix: bool,
}

/// The bounds on the shell's own data and nesting. Past one, the shell
/// stops the command with a clear error instead of growing without end or
/// overflowing its stack. bash has (almost) none of these; it grows until
/// `malloc` fails or the process is killed. A later issue makes them
/// configurable per workspace; here they have fixed defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest value (a variable, a word, `printf` output) in bytes.
    /// Default 256 MiB.
    pub max_value_bytes: usize,
    /// The most words one brace expansion (`{1..N}`, `{a,b}{c,d}…`) makes.
    /// Default 1,000,000.
    pub max_brace_words: usize,
    /// The most bytes a command substitution `$(…)` keeps. Default 256 MiB.
    pub max_subst_bytes: usize,
    /// The largest here-string or here-document body, in bytes. Default 256 MiB.
    pub max_heredoc_bytes: usize,
    /// The most stages in one pipeline. Default 10,000.
    pub max_pipeline_stages: usize,
    /// How deep `eval`, `source`, `bash FILE` and `bash -c` may nest
    /// (bash's `EVALNEST_MAX`/`SOURCENEST_MAX` idea). Default 1,000.
    pub max_source_depth: usize,
    /// How deep arithmetic may nest through variables whose values are
    /// expressions (`a=b; b=a; $((a))`): bash's `MAX_EXPR_RECURSION_LEVEL`, 1024.
    pub max_arith_depth: usize,
    /// How deep arithmetic parentheses and unary operators may nest in one
    /// expression. Default 10,000 (bash has no limit and crashes on a million).
    pub max_arith_nesting: usize,
    /// The stack that must remain free before the interpreter nests one
    /// level deeper (a command, an expansion, an arithmetic level); below it
    /// the command fails with `maximum nesting level exceeded`. Default 256 KiB.
    pub min_free_stack: usize,
    /// How deep shell function calls may nest (bash's `FUNCNEST`); past it
    /// the call fails with `maximum function nesting level exceeded`.
    /// Default 200.
    pub max_call_depth: usize,
    /// The most loop iterations (`while`, `until`, `for`) one line may run,
    /// counted across its subshells. Default 100,000,000.
    pub max_loop_iterations: u64,
    /// The most simple commands one line may run. Default 100,000,000.
    pub max_commands: u64,
    /// The most background jobs running at once in a session. Default 256.
    pub max_jobs: usize,
    /// The longest one line may run (wall time) before it is stopped with
    /// status 124; `None`: no limit. Default 10 minutes.
    pub wall_time: Option<std::time::Duration>,
    /// The most bytes one line may write to its standard output and error
    /// together (enforced by the caller that owns the streams, the
    /// workspace). Default 1 GiB.
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: 256 << 20,
            max_brace_words: 1_000_000,
            max_subst_bytes: 256 << 20,
            max_heredoc_bytes: 256 << 20,
            max_pipeline_stages: 10_000,
            max_source_depth: 1000,
            max_arith_depth: 1024,
            max_arith_nesting: 10_000,
            min_free_stack: 256 << 10,
            max_call_depth: 200,
            max_loop_iterations: 100_000_000,
            max_commands: 100_000_000,
            max_jobs: 256,
            wall_time: Some(std::time::Duration::from_secs(600)),
            max_output_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// True when less than [`Limits::min_free_stack`] bytes of the current
    /// thread's stack remain (unknown stack size: false).
    pub fn stack_low(&self) -> bool {
        stacker::remaining_stack().is_some_and(|r| r < self.min_free_stack)
    }
}

/// Everything a session keeps between lines (seed 000's Session).
#[derive(Debug, Clone)]
pub struct ShellState {
    /// The current directory (absolute virtual path).
    pub cwd: String,
    /// Set when an expansion error (`set -u`, `${x?msg}`) ended the shell
    /// with status 127: a subshell that ends so gives its parent status 1,
    /// as bash's subshells do, where `( exit 127 )` gives 127.
    pub(crate) expansion_exit: bool,
    /// Variables.
    pub vars: NameMap<Var>,
    /// Functions.
    pub functions: NameMap<Arc<Cmd>>,
    /// `$1…`.
    pub positional: Vec<String>,
    /// `$0`.
    pub arg0: String,
    /// `$?`.
    pub last_status: i32,
    /// Options.
    pub options: Options,
    /// Saved variables of the active function calls (for `local`).
    pub(crate) local_frames: Vec<Vec<(String, Option<Var>)>>,
    /// Loop nesting depth (for `break`/`continue`).
    pub(crate) loop_depth: usize,
    /// >0 while running a condition (`if`, `while`, `&&` left side): no errexit.
    pub(crate) cond_depth: usize,
    /// The status of the last command substitution in the current command.
    pub(crate) last_subst_status: Option<i32>,
    /// `trap` actions by condition (`EXIT`).
    pub traps: NameMap<String>,
    /// Outputs of `<(…)` in the current command, by `/dev/fd/N` path.
    pub(crate) procsubs: HashMap<String, bytes::Bytes>,
    /// The bounds on the shell's data and nesting.
    pub limits: Limits,
    /// Active `eval`/`source`/`bash` levels (bounded by `limits.max_source_depth`).
    pub(crate) source_depth: usize,
    /// Where `exec 2>&1` and the like left the shell's stdout and stderr.
    pub(crate) exec_fds: crate::execfd::ExecFds,
    /// The line of the command being run (`$LINENO`; 0 before the first).
    pub lineno: u32,
    /// What bash's messages start with: `bash` for `bash -c` text, the
    /// script's name while a script file or `source`d file runs.
    pub script_name: String,
    /// An interactive shell (the REPL): messages carry no `line N:`.
    pub interactive: bool,
    /// `set -x` nesting and trap state ([`crate::trace`]).
    pub trace: crate::trace::TraceState,
    /// Set by the `exit` builtin (in this shell, not a subshell): an
    /// interactive front end that clears it before a line stops reading
    /// when the line sets it.
    pub exited: bool,
    /// Added to a command's own line: the line an `eval` string or a
    /// command substitution starts on, less one.
    pub(crate) line_base: u32,
    /// Active function calls.
    pub(crate) func_depth: usize,
    /// The session's background jobs (`cmd &`, `jobs`, `wait`).
    pub jobs: crate::jobs::Jobs,
    /// Cancels the running line (shared by its subshells and stages).
    pub cancel: crate::jobs::CancellationToken,
    /// What the running line has used of its limits.
    pub(crate) budget: std::sync::Arc<crate::jobs::LineBudget>,
    /// How much the running line has written (set by the caller that
    /// owns the streams; `None`: not limited).
    pub output_meter: Option<crate::jobs::OutputMeter>,
    /// `shopt` settings.
    pub shopt: crate::glob::Shopts,
    /// What the parser needs: `extglob`, `expand_aliases`, the aliases.
    pub parse: crate::alias::ParseSettings,
    /// The dynamic variables' state (`$RANDOM`, `$SECONDS`, `$BASHPID`, the call stack).
    pub special: crate::special::Special,
    /// `BASH_ARGV` / `BASH_ARGC` bookkeeping ([`crate::bashargv`]).
    pub(crate) bashargv: crate::bashargv::ArgvState,
    /// The directory stack, history, completion specs and hash table of
    /// the builtins that keep them (`pushd`, `history`, `complete`, `hash`).
    pub(crate) extra: crate::builtins::extra::Extra,
}

impl Default for ShellState {
    fn default() -> Self {
        ShellState::new("/")
    }
}

impl ShellState {
    /// A fresh state with cwd `cwd` and `PWD` set.
    pub fn new(cwd: &str) -> Self {
        let mut s = ShellState {
            cwd: cwd.to_string(),
            vars: NameMap::default(),
            functions: NameMap::default(),
            positional: Vec::new(),
            arg0: "bash".into(),
            last_status: 0,
            options: Options::default(),
            local_frames: Vec::new(),
            loop_depth: 0,
            cond_depth: 0,
            last_subst_status: None,
            exec_fds: Default::default(),
            traps: NameMap::default(),
            expansion_exit: false,
            procsubs: HashMap::new(),
            limits: Limits::default(),
            source_depth: 0,
            lineno: 0,
            script_name: "bash".into(),
            interactive: false,
            trace: Default::default(),
            exited: false,
            line_base: 0,
            func_depth: 0,
            jobs: Default::default(),
            cancel: Default::default(),
            budget: Default::default(),
            output_meter: None,
            shopt: Default::default(),
            parse: Default::default(),
            special: Default::default(),
            bashargv: Default::default(),
            extra: Default::default(),
        };
        s.set_exported("PWD", cwd);
        s.vars.insert("PS4".into(), Var::scalar("+ "));
        s.vars.insert("IFS".into(), Var::scalar(" \t\n"));
        crate::special::install(&mut s);
        crate::bashargv::install(&mut s);
        s
    }
    /// Records the line of the command about to run (0 leaves it).
    pub fn set_line(&mut self, line: u32) {
        if line != 0 {
            self.lineno = self.line_base.saturating_add(line);
        }
    }

    /// The start of the shell's own messages, as bash 5.2 prints them
    /// under `bash -c`: `bash: line 3: `; inside a function defined by
    /// the `-c` text, `environment: line 3: ` (bash's name for where such
    /// functions come from); in a script file, `FILE: line 3: `; in an
    /// interactive shell, `bash: `.
    pub fn diag(&self) -> String {
        if self.interactive || self.lineno == 0 {
            return format!("{}: ", self.script_name);
        }
        let name = if self.script_name == "bash" && self.func_depth > 0 {
            "environment"
        } else {
            &self.script_name
        };
        format!("{name}: line {}: ", self.lineno)
    }

    /// Makes the next script's lines count from the current line (an
    /// `eval` string's line 1 is the `eval` command's line, as in bash);
    /// returns the base to restore afterwards.
    pub(crate) fn lines_from_here(&mut self) -> u32 {
        let saved = self.line_base;
        self.line_base = self.lineno.saturating_sub(1);
        saved
    }

    /// The variable a name stands for: `name` itself, or, when `name` is a
    /// name reference (`declare -n`), the name at the end of its chain
    /// (which may carry a subscript, `a[2]`). A chain that loops or is
    /// longer than bash's limit stops where it is.
    pub fn resolve<'a>(&'a self, name: &'a str) -> std::borrow::Cow<'a, str> {
        let mut cur = std::borrow::Cow::Borrowed(name);
        for _ in 0..8 {
            match self.vars.get(cur.as_ref()) {
                Some(v) if v.nameref && !v.no_value => {
                    let target = v.value.scalar();
                    if target.is_empty() || target == cur.as_ref() {
                        break;
                    }
                    cur = std::borrow::Cow::Owned(target);
                }
                _ => break,
            }
        }
        cur
    }

    /// The scalar value of `name`, if set (through name references; the
    /// dynamic variables of [`crate::special`] when not set by the session).
    pub fn get(&self, name: &str) -> Option<String> {
        match self.vars.get(name) {
            Some(v) if v.nameref => {
                let target = self.resolve(name);
                if target.contains('[') {
                    crate::expand::lookup_subscripted(self, &target)
                } else if target != name {
                    self.get(&target)
                } else {
                    (!v.no_value).then(|| v.value.scalar())
                }
            }
            Some(v) if v.no_value => None,
            Some(v) => Some(v.value.scalar()),
            None => crate::special::get(self, name),
        }
    }
    /// Sets `name` to the decimal text of `v` in place when it is a plain
    /// scalar already set (the case [`ShellState::set`] takes in one
    /// lookup), reusing its buffer; false, changing nothing, otherwise.
    pub(crate) fn set_int_now(&mut self, name: &str, v: i64) -> bool {
        use std::fmt::Write as _;
        let allexport = self.options.allexport;
        if let Some(var) = self.vars.get_mut(name)
            && !var.nameref
            && !var.integer
            && var.case.is_none()
            && let Value::Scalar(s) = &mut var.value
        {
            s.clear();
            let _ = write!(s, "{v}");
            var.no_value = false;
            var.exported |= allexport;
            return true;
        }
        false
    }

    /// Sets `name` to a scalar, keeping its flags (through name
    /// references; `-i` evaluates the value, `-u`/`-l` convert its case).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let mut value = value.into();
        let allexport = self.options.allexport;
        if name == "HISTSIZE" {
            self.stifle_history(&value);
        }
        // the common case, in one lookup: a plain scalar already set
        if let Some(v) = self.vars.get_mut(name)
            && !v.nameref
            && !v.integer
            && v.case.is_none()
            && let Value::Scalar(s) = &mut v.value
        {
            *s = value;
            v.no_value = false;
            v.exported |= allexport;
            return;
        }
        if self.vars.get(name).is_some_and(|v| v.nameref) {
            let target = self.resolve(name).into_owned();
            if target != name {
                if target.contains('[') {
                    crate::expand::assign_subscripted(self, &target, value);
                } else {
                    self.set(&target, value);
                }
                return;
            }
        }
        if crate::special::set(self, name, &value) || crate::bashargv::is_argv(name) {
            return;
        }

        if self.vars.get(name).is_some_and(|v| v.integer) {
            value = crate::arith::eval(&value, self).unwrap_or(0).to_string();
        }
        match self.vars.get_mut(name) {
            Some(v) => {
                v.no_value = false;
                match v.case {
                    Some(true) => value = value.to_uppercase(),
                    Some(false) => value = value.to_lowercase(),
                    None => {}
                }
                // `arr=x` assigns element 0 (key "0" of an associative array)
                match &mut v.value {
                    Value::Indexed(m) => {
                        m.insert(0, value);
                    }
                    Value::Assoc(p) => match p.iter_mut().find(|(k, _)| k == "0") {
                        Some((_, x)) => *x = value,
                        None => p.push(("0".into(), value)),
                    },
                    Value::Scalar(s) => *s = value,
                }
                if allexport {
                    v.exported = true;
                }
            }
            None => {
                let mut v = Var::scalar(value);
                v.exported = allexport;
                self.vars.insert(name.to_string(), v);
            }
        }
    }
    /// Sets and exports `name`.
    pub fn set_exported(&mut self, name: &str, value: impl Into<String>) {
        self.set(name, value);
        if let Some(v) = self.vars.get_mut(name) {
            v.exported = true;
        }
    }
    /// The exported variables, for commands.
    pub fn exported(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(_, v)| v.exported)
            .map(|(k, v)| (k.clone(), v.value.scalar()))
            .collect()
    }
    /// `$IFS` (default blank, tab, newline).
    pub fn ifs(&self) -> String {
        self.get("IFS").unwrap_or_else(|| " \t\n".into())
    }
}
