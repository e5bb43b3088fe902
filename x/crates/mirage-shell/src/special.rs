//! bash's special and dynamic variables: `$RANDOM`, `$SECONDS`,
//! `$EPOCHSECONDS`, `$EPOCHREALTIME`, `$BASHPID`, `$PPID`, `$$`,
//! `$BASH_VERSION`, `BASH_VERSINFO`, `$HOSTNAME` and the rest, and the
//! function call stack behind `FUNCNAME`, `BASH_SOURCE` and `BASH_LINENO`.
//!
//! None of them touches the host: the process ids, user ids and host
//! names are fixed values (the shell plays a root user on host `mirage`,
//! as `ls -l` shows files owned by `root`):
//!
//! | variable | value |
//! |---|---|
//! | `$$` | 4242 (the session's shell) |
//! | `$PPID` | 4241 |
//! | `$BASHPID` | `$$` in the shell, a new number in each subshell |
//! | `$UID`, `$EUID` | 0 |
//! | `$HOSTNAME` | `mirage` |
//! | `$SHLVL` | 1 |
//! | `$BASH_VERSION` | `5.2.15(1)-release` |
//! | `$OSTYPE`, `$HOSTTYPE`, `$MACHTYPE` | `linux-gnu`, `x86_64`, `x86_64-pc-linux-gnu` |
//!
//! `$RANDOM` is bash 5.2's generator (the Park–Miller "minimal standard"
//! sequence, folded to 15 bits, never the same number twice in a row), so
//! `RANDOM=N` gives the same numbers as bash 5.2 after the same seed. An
//! unseeded shell starts from a seed taken from the clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::state::{ShellState, Value, Var};

/// `$$`: the session shell's process id.
pub const SHELL_PID: u32 = 4242;
/// `$PPID`.
pub const PARENT_PID: u32 = 4241;
/// `$UID` and `$EUID`.
pub const USER_ID: u32 = 0;
/// `$HOSTNAME`.
pub const HOST_NAME: &str = "mirage";
/// `$BASH_VERSION`.
pub const BASH_VERSION: &str = "5.2.15(1)-release";
/// `$MACHTYPE` and the last element of `BASH_VERSINFO`.
pub const MACHTYPE: &str = "x86_64-pc-linux-gnu";

/// The next `$BASHPID` a subshell gets.
static NEXT_PID: AtomicU32 = AtomicU32::new(SHELL_PID + 1);

/// The per-shell state of the dynamic variables. Cloning it (which is how
/// a subshell starts) gives the clone a new `$BASHPID`.
#[derive(Debug)]
pub struct Special {
    /// `$BASHPID`.
    pub bashpid: u32,
    /// The generator state of `$RANDOM`.
    seed: AtomicU32,
    /// The last `$RANDOM` value (bash never repeats it at once).
    last: AtomicU32,
    /// When `$SECONDS` was last 0, less the value it was set to.
    start: Instant,
    /// The value `SECONDS` was assigned.
    seconds_base: i64,
    /// Active function calls, innermost last.
    pub(crate) frames: Vec<Frame>,
    /// `local -`: the options to restore when the call at this depth returns.
    saved_options: Vec<(usize, crate::state::Options)>,
    /// `getopts`: the character position inside the current word and the
    /// `OPTIND` text it belongs to (another `OPTIND` restarts at 1).
    getopts: (usize, String),
    /// `$_`: the last word of the previous simple command.
    pub last_arg: String,
    /// Dynamic variables that `unset` took away (they are ordinary from then on).
    removed: Vec<String>,
}

/// One active function call.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// The function's name.
    name: String,
    /// The line it was called from.
    line: u32,
    /// Where it was defined (`environment` for `bash -c` text, else the file).
    source: String,
}

impl Clone for Special {
    fn clone(&self) -> Self {
        Special {
            bashpid: NEXT_PID.fetch_add(1, Ordering::Relaxed),
            seed: AtomicU32::new(self.seed.load(Ordering::Relaxed)),
            last: AtomicU32::new(self.last.load(Ordering::Relaxed)),
            start: self.start,
            seconds_base: self.seconds_base,
            frames: self.frames.clone(),
            saved_options: self.saved_options.clone(),
            getopts: self.getopts.clone(),
            last_arg: self.last_arg.clone(),
            removed: self.removed.clone(),
        }
    }
}

impl Default for Special {
    fn default() -> Self {
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() ^ (d.as_secs() as u32));
        Special {
            bashpid: SHELL_PID,
            seed: AtomicU32::new(clock),
            last: AtomicU32::new(0),
            start: Instant::now(),
            seconds_base: 0,
            frames: Vec::new(),
            saved_options: Vec::new(),
            getopts: (1, String::new()),
            last_arg: String::new(),
            removed: Vec::new(),
        }
    }
}

/// One step of the Park–Miller minimal standard generator
/// (x ← 16807·x mod 2³¹−1; a zero state restarts from 123459876).
fn next_state(x: u32) -> u32 {
    let x = if x == 0 { 123_459_876 } else { x };
    ((u64::from(x) * 16807) % 0x7fff_ffff) as u32
}

impl Special {
    /// The next `$RANDOM` value, 0–32767.
    pub fn random(&self) -> u32 {
        let last = self.last.load(Ordering::Relaxed);
        let mut seed = self.seed.load(Ordering::Relaxed);
        let mut v;
        loop {
            seed = next_state(seed);
            v = ((seed >> 16) ^ (seed & 0xffff)) & 0x7fff;
            if v != last {
                break;
            }
        }
        self.seed.store(seed, Ordering::Relaxed);
        self.last.store(v, Ordering::Relaxed);
        v
    }
    /// `RANDOM=N`: restarts the sequence.
    pub fn seed_random(&self, n: i64) {
        self.seed.store(n as u32, Ordering::Relaxed);
        self.last.store(0, Ordering::Relaxed);
    }
    /// `$SRANDOM`: 32 random bits.
    fn srandom(&self) -> u32 {
        let a = self.random();
        let b = self.random();
        let c = self.random();
        (a << 17) ^ (b << 2) ^ (c & 3)
    }
    /// `local -` in the function call at `depth` (the number of active
    /// calls): keeps `options` to restore when that call returns.
    pub fn save_options(&mut self, depth: usize, options: crate::state::Options) {
        if !self.saved_options.iter().any(|(d, _)| *d == depth) {
            self.saved_options.push((depth, options));
        }
    }
    /// The position `getopts` reached inside the word at `OPTIND`
    /// (1: the first option letter), if `optind` is still the value it left.
    pub fn getopts_position(&self, optind: &str) -> usize {
        if self.getopts.1 == optind {
            self.getopts.0.max(1)
        } else {
            1
        }
    }
    /// Records where `getopts` stopped.
    pub fn set_getopts_position(&mut self, sub: usize, optind: &str) {
        self.getopts = (sub, optind.to_string());
    }
    /// `$SECONDS`.
    pub fn seconds(&self) -> i64 {
        self.seconds_base + self.start.elapsed().as_secs() as i64
    }
}

/// The value of a dynamic or fixed special variable `name` that the
/// session has not set itself, or `None` if `name` is not one.
pub fn get(st: &ShellState, name: &str) -> Option<String> {
    let s = &st.special;
    if !s.removed.is_empty() && s.removed.iter().any(|r| r == name) {
        return None;
    }
    Some(match name {
        "RANDOM" => s.random().to_string(),
        "SRANDOM" => s.srandom().to_string(),
        "SECONDS" => s.seconds().to_string(),
        "EPOCHSECONDS" => now().as_secs().to_string(),
        "EPOCHREALTIME" => {
            let d = now();
            format!("{}.{:06}", d.as_secs(), d.subsec_micros())
        }
        "BASHPID" => s.bashpid.to_string(),
        "LINENO" => st.lineno.to_string(),
        "_" => s.last_arg.clone(),
        _ => return None,
    })
}

/// The `declare -p` attribute word of a dynamic variable (`-i` for the
/// integer ones, `--` for the rest), or `None` if `name` is not one.
pub fn attrs(name: &str) -> Option<&'static str> {
    match name {
        "RANDOM" | "SECONDS" | "BASHPID" | "SRANDOM" => Some("-i"),
        "LINENO" | "EPOCHSECONDS" | "EPOCHREALTIME" | "_" => Some("--"),
        _ => None,
    }
}

/// `unset NAME` of a dynamic variable: it loses its special meaning.
/// Returns true if `name` was one.
pub fn forget(st: &mut ShellState, name: &str) -> bool {
    if attrs(name).is_some() && !st.special.removed.iter().any(|r| r == name) {
        st.special.removed.push(name.to_string());
        return true;
    }
    false
}

/// Sets the fixed special variables of a new shell: `BASH_VERSION`,
/// `BASH_VERSINFO`, `PPID`, `UID`, `EUID`, `HOSTNAME`, `SHLVL`, `OSTYPE`,
/// `HOSTTYPE`, `MACHTYPE`, `BASH`, `OPTIND` and `OPTERR`, with bash's
/// attributes.
pub fn install(st: &mut ShellState) {
    let mut put = |name: &str, value: String, integer: bool, readonly: bool| {
        let mut v = Var::scalar(value);
        v.integer = integer;
        v.readonly = readonly;
        st.vars.insert(name.to_string(), v);
    };
    put("BASH_VERSION", BASH_VERSION.into(), false, false);
    put("PPID", PARENT_PID.to_string(), true, true);
    put("UID", USER_ID.to_string(), true, true);
    put("EUID", USER_ID.to_string(), true, true);
    put("HOSTNAME", HOST_NAME.into(), false, false);
    put("SHLVL", "1".into(), false, false);
    put("OSTYPE", "linux-gnu".into(), false, false);
    put("HOSTTYPE", "x86_64".into(), false, false);
    put("MACHTYPE", MACHTYPE.into(), false, false);
    put("BASH", "/usr/bin/bash".into(), false, false);
    put("OPTIND", "1".into(), false, false);
    put("OPTERR", "1".into(), false, false);
    let mut v = Var::scalar("");
    v.readonly = true;
    v.value = Value::Indexed(
        ["5", "2", "15", "1", "release", MACHTYPE]
            .iter()
            .enumerate()
            .map(|(i, s)| (i as i64, (*s).to_string()))
            .collect(),
    );
    st.vars.insert("BASH_VERSINFO".into(), v);
}

/// Handles an assignment to a dynamic variable: `RANDOM=N` reseeds and
/// `SECONDS=N` restarts the count from N. Returns true when the value was
/// consumed (not stored as an ordinary variable).
pub fn set(st: &mut ShellState, name: &str, value: &str) -> bool {
    if !st.special.removed.is_empty() && st.special.removed.iter().any(|r| r == name) {
        return false;
    }
    match name {
        "RANDOM" if !st.vars.contains_key("RANDOM") => {
            let n = crate::arith::eval(value, st).unwrap_or(0);
            st.special.seed_random(n);
            true
        }
        "SECONDS" if !st.vars.contains_key("SECONDS") => {
            let n = crate::arith::eval(value, st).unwrap_or(0);
            st.special.seconds_base = n;
            st.special.start = Instant::now();
            true
        }
        _ => false,
    }
}

fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A function call begins: pushes its frame and updates `FUNCNAME`,
/// `BASH_SOURCE` and `BASH_LINENO` (bash 5.2: innermost first; `bash -c`
/// functions come from `environment`).
pub fn enter_function(st: &mut ShellState, name: &str) {
    let source = if st.script_name == "bash" {
        "environment".to_string()
    } else {
        st.script_name.clone()
    };
    st.special.frames.push(Frame {
        name: name.to_string(),
        line: st.lineno,
        source,
    });
    publish_frames(st);
}

/// A function call ends: pops its frame.
pub fn leave_function(st: &mut ShellState) {
    let depth = st.local_frames.len();
    while let Some((d, _)) = st.special.saved_options.last()
        && *d >= depth
    {
        if let Some((_, o)) = st.special.saved_options.pop() {
            st.options = o;
        }
    }
    st.special.frames.pop();
    publish_frames(st);
}

fn publish_frames(st: &mut ShellState) {
    let frames = &st.special.frames;
    if frames.is_empty() {
        for n in ["FUNCNAME", "BASH_SOURCE", "BASH_LINENO"] {
            st.vars.remove(n);
        }
        return;
    }
    let arr = |f: &dyn Fn(&Frame) -> String| {
        let mut v = Var::scalar("");
        v.value = Value::Indexed(
            frames
                .iter()
                .rev()
                .enumerate()
                .map(|(i, fr)| (i as i64, f(fr)))
                .collect(),
        );
        v
    };
    let names = arr(&|f| f.name.clone());
    let sources = arr(&|f| f.source.clone());
    let lines = arr(&|f| f.line.to_string());
    st.vars.insert("FUNCNAME".into(), names);
    st.vars.insert("BASH_SOURCE".into(), sources);
    st.vars.insert("BASH_LINENO".into(), lines);
}

/// What a `${…}` expansion names once indirection (`${!x}`) and name
/// references are followed.
#[derive(Debug)]
pub enum Target {
    /// A variable (or special parameter) and the subscript text to use.
    Name(String, Option<String>),
    /// The expansion is this one value (`${!ref}` of a name reference is
    /// the name it refers to, as in bash).
    Value(String),
    /// The words of `${!prefix@}` (false) or `${!prefix*}` (true): the
    /// names of the set variables starting with the prefix, sorted.
    Words(Vec<String>, bool),
}

/// Follows `${!name}` and name references for the expansion `pe`, whose
/// subscript expanded to `idx`. A target with its own subscript (`a[1]`,
/// `arr[@]`) gives that subscript.
pub fn param_target(st: &ShellState, pe: &crate::ast::ParamExp, idx: Option<String>) -> Target {
    use crate::ast::ParamOp;
    if pe.indirect
        && pe.index.is_none()
        && let ParamOp::Transform(c @ ('@' | '*')) = pe.op
    {
        let mut names: Vec<String> = st
            .vars
            .iter()
            .filter(|(k, v)| k.starts_with(pe.name.as_str()) && !v.no_value)
            .map(|(k, _)| k.clone())
            .collect();
        names.sort();
        return Target::Words(names, c == '*');
    }
    let mut name = if pe.indirect {
        match st.vars.get(&pe.name) {
            Some(v) if v.nameref => {
                if matches!(pe.op, ParamOp::Plain) {
                    return Target::Value(v.value.scalar());
                }
                st.resolve(&pe.name).into_owned()
            }
            _ => match pe.index.as_ref().and(idx.as_deref()) {
                Some(i) => crate::expand::lookup_subscripted(st, &format!("{}[{i}]", pe.name))
                    .unwrap_or_default(),
                None => st.get(&pe.name).unwrap_or_default(),
            },
        }
    } else if st.vars.get(&pe.name).is_some_and(|v| v.nameref) {
        st.resolve(&pe.name).into_owned()
    } else {
        return Target::Name(pe.name.clone(), idx);
    };
    let mut idx = if pe.indirect { None } else { idx };
    if let Some(open) = name.find('[')
        && name.ends_with(']')
        && idx.is_none()
    {
        idx = Some(name[open + 1..name.len() - 1].to_string());
        name.truncate(open);
    }
    Target::Name(name, idx)
}

/// An assignment to a name reference assigns to the variable it refers
/// to: the assignment rewritten for that variable (a target `a[1]`
/// becomes an element assignment), or `None` to keep `a` as it is.
pub fn resolve_assign(st: &ShellState, a: &crate::ast::Assign) -> Option<crate::ast::Assign> {
    if !st.vars.get(&a.name).is_some_and(|v| v.nameref) {
        return None;
    }
    let target = st.resolve(&a.name);
    if target == a.name {
        return None;
    }
    let mut b = a.clone();
    match target.find('[') {
        Some(open) if target.ends_with(']') && a.index.is_none() => {
            b.name = target[..open].to_string();
            b.index = Some(crate::ast::Word::quoted(
                &target[open + 1..target.len() - 1],
            ));
        }
        _ => b.name = target.into_owned(),
    }
    Some(b)
}

/// After an assignment to `name`: it has a value now; an integer or
/// case-converting array gets its elements evaluated or converted, and a
/// case-converting scalar its appended text converted.
pub fn assigned(st: &mut ShellState, name: &str) {
    let Some(v) = st.vars.get_mut(name) else {
        return;
    };
    v.no_value = false;
    let case = v.case;
    let conv = |s: &mut String| match case {
        Some(true) => *s = s.to_uppercase(),
        Some(false) => *s = s.to_lowercase(),
        None => {}
    };
    match &mut v.value {
        Value::Scalar(s) => conv(s),
        Value::Indexed(m) => m.values_mut().for_each(conv),
        Value::Assoc(p) => p.iter_mut().for_each(|(_, x)| conv(x)),
    }
    if v.integer && !matches!(v.value, Value::Scalar(_)) {
        let mut value = v.value.clone();
        let mut eval = |s: &mut String| {
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                *s = crate::arith::eval(s, st).unwrap_or(0).to_string();
            }
        };
        match &mut value {
            Value::Indexed(m) => m.values_mut().for_each(&mut eval),
            Value::Assoc(p) => p.iter_mut().for_each(|(_, x)| eval(x)),
            Value::Scalar(_) => {}
        }
        if let Some(v) = st.vars.get_mut(name) {
            v.value = value;
        }
    }
}

/// Records the last word of a simple command about to run (`$_`).
pub fn set_last_arg(st: &mut ShellState, argv: &[String]) {
    if let Some(last) = argv.last() {
        st.special.last_arg.clone_from(last);
    }
}

/// `$-`: the single-letter options in effect, in bash's order, with `c`
/// for a `-c` shell (`hBc` by default).
pub fn dash_flags(st: &ShellState) -> String {
    let o = &st.options;
    let mut s = String::new();
    for (on, c) in [
        (o.allexport, 'a'),
        (o.errexit, 'e'),
        (o.noglob, 'f'),
        (true, 'h'),
        (o.nounset, 'u'),
        (o.verbose, 'v'),
        (o.xtrace, 'x'),
        (true, 'B'),
        (o.noclobber, 'C'),
        (o.errtrace, 'E'),
        (o.functrace, 'T'),
    ] {
        if on {
            s.push(c);
        }
    }
    if !st.interactive {
        s.push('c');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_matches_bash() {
        // bash 5.2: RANDOM=42; echo $RANDOM $RANDOM $RANDOM → 17772 26794 1435
        let s = Special::default();
        s.seed_random(42);
        assert_eq!([s.random(), s.random(), s.random()], [17772, 26794, 1435]);
        s.seed_random(1);
        assert_eq!([s.random(), s.random()], [16807, 10791]);
    }

    #[test]
    fn clone_is_a_new_process() {
        let s = Special::default();
        assert_eq!(s.bashpid, SHELL_PID);
        assert_ne!(s.clone().bashpid, SHELL_PID);
    }
}
