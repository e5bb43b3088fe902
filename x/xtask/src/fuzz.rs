//! `cargo xtask fuzz --minutes N`: random bash, built from real fragments,
//! through the whole shell (parse, expand, execute, commands) on a fresh
//! workspace per input.
//!
//! The generator is a `proptest` strategy over a small bash grammar: leaf
//! commands taken from what agents and the conformance cases type (quotes,
//! every expansion, heredocs, redirects, arrays, arithmetic, pipelines into
//! real commands), combined by lists, pipelines, `&&`/`||`, `!`, groups,
//! subshells, `if`, `for`, bounded `while`, `case`, functions, command
//! substitution, background jobs, `time`, process substitution, `select`,
//! `set -x`, `EXIT` traps and extglob patterns (the leaves cover issue 12's
//! features too: `{var}>f`, `exec N<f`, `declare -f/-p/-n`, `history`,
//! traps, shopt options, `pushd`, `mapfile`, `getopts`, jobs); then sometimes cut short or salted
//! with a quote, `$`, a bracket or a newline, so the parser meets broken
//! input too. Loops are bounded by construction, even salted: `for` over
//! two words, `for ((…))` whose condition is false from the start (salt in
//! an arithmetic step could stop a counter), and `while read`
//! over a two-line here-string (any damage makes its condition fail, never
//! succeed forever); there is no `until`. So a run that does not end within
//! the timeout is a hang. No leaf reads an endless source (`/dev/zero`,
//! `yes`): salt could take away the `head` that bounds it. No leaf calls
//! a function, so a function never calls itself (`f(){ for …; do f | …;
//! done; }` is exponential work in bash too).
//!
//! Each input runs as a conformance case does
//! ([`mirage_conformance::fuzz::survives`]): its own
//! thread and runtime, a panic caught, under small execution limits
//! ([`mirage_conformance::fuzz::fuzz_limits`]: a wall time of 2 s, 100,000
//! loop iterations, …), so an endless loop salt made anyway (`while read
//! -<<r v; …`) ends on its own; an input still running long past its wall
//! time (the timeout, measured from outside) is a hang: a path that does not
//! check the limits. A panic, a hang or a failed set-up is a failure: proptest shrinks it to a
//! small input, which is saved under `fixtures/fuzz/regressions/` (the
//! `fuzz_regressions` test of mirage-conformance replays every file there)
//! and the run stops with status 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use mirage_conformance::fuzz::survives;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// `cargo xtask fuzz` options.
#[derive(Parser)]
pub struct Args {
    /// How long to run, in minutes.
    #[arg(long, default_value_t = 5.0)]
    pub minutes: f64,
    /// The first batch's seed (each batch adds one); a run is repeatable
    /// from its seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long one input may run, in seconds (measured from outside),
    /// before it counts as a hang; its own wall-time limit is 2 s.
    #[arg(long, default_value_t = mirage_conformance::fuzz::HANG_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Print each input before running it.
    #[arg(long)]
    pub verbose: bool,
}

/// Inputs per batch (one seed each).
const BATCH: u32 = 64;

/// The directory failing inputs are saved in.
pub fn regressions_dir() -> PathBuf {
    crate::repo_root().join("fixtures/fuzz/regressions")
}

const LEAVES: &[&str] = &[
    "echo hi",
    "echo \"$x\" '$y' $((1+2)) ${#x}",
    "printf '%s|%d\\n' a 1 b 2",
    "printf '%q %5.2f %x\\n' \"a b\" 3.14159 255",
    "x=1",
    "x=\"a b\"; y=$x",
    "n=0",
    "a=(1 \"2 3\" four); echo ${a[@]} ${#a[@]} ${a[1]}",
    "declare -A m=([k]=v); echo ${m[k]}",
    "echo ${x:-dflt} ${x:+alt} ${x/a/b} ${x%% *} ${x#?} ${x^^} ${x:1:2}",
    "echo ${!x} ${x@Q}",
    "cat /data/f.txt",
    "grep -c alpha /data/f.txt",
    "grep -rn a /data/d",
    "wc -l < /data/f.txt",
    "sort -n /data/n.txt | uniq -c",
    "printf 'ab\\0c' | od -c",
    "sed -n 's/alpha/A/p' /data/f.txt",
    "awk '{s+=$NF} END{print s, NR}' /data/n.txt",
    "jq -c '.b[2]' /data/j.json",
    "cut -d, -f2 /data/d/x.csv | tr a-z A-Z",
    "find /data -name '*.txt' | sort",
    "ls /data",
    "read -r v w <<< \"p q r\"; echo $v-$w",
    "set -- a b c; shift; echo $# $@",
    "local z=1",
    "[[ $x == a* && -n $x ]]",
    "[ -f /data/f.txt ] && test 1 -lt 2",
    "(( x += 1, x * 2 ))",
    "echo $((x / 0))",
    "echo $(( 2 ** 10 % 7 ))",
    "true",
    "false",
    ": > /data/out",
    "echo more >> /data/out; cat /data/out",
    "echo {1..4} {a,b}c",
    "echo ~ *.txt /data/*",
    "cd /data/d",
    "cd ..",
    "export E=1; env | grep -c E=",
    "unset x",
    "trap 'echo trapped' EXIT",
    "eval 'echo ev $x'",
    "echo $(echo sub $(echo nested))",
    "echo `echo back`",
    "cat <<EOF\nhere $x\nEOF",
    "cat <<'EOF'\nraw $x\nEOF",
    "break",
    "continue",
    "return 3",
    "exit 4",
    "source /data/s.sh arg",
    "bash /data/s.sh",
    "echo err >&2",
    "seq 5 | head -3",
    "seq 3 | tac",
    "diff /data/n.txt /data/f.txt",
    "type echo cd nosuch",
    "set -e; false; echo not-here",
    "set -u; echo $undefined_var",
    "shopt -s nullglob; echo /data/*.none",
    "readonly r=1; r=2",
    "nosuchcommand --flag",
    "echo ${x",
    "if then fi",
    "echo $(",
    ")",
    ";;",
    "done",
    "echo 'unterminated",
    // issue 12: descriptors, process substitution, `time`, `select`, …
    "exec {fd}>/data/fdf; echo via >&$fd; exec {fd}>&-; cat /data/fdf",
    "exec 3</data/f.txt; read -u 3 l; echo \"$l\"; exec 3<&-",
    "echo closed >&-; cat <&- /data/n.txt 2>&1",
    "echo 4 >&3",
    "echo ps > >(cat); tee >(wc -c) < /data/n.txt >/dev/null",
    "diff <(sort /data/n.txt) <(sort -n /data/n.txt)",
    "time echo t",
    "TIMEFORMAT=%R; time { true; }",
    "select s in a b; do echo \"$s $REPLY\"; break; done <<< 1",
    "g() { echo g; }; declare -f g; declare -F; unset -f g",
    "declare -p x a m 2>&1",
    "declare -i n=3+4; declare -u up=abc; declare -l lo=ABC; echo $n $up $lo",
    "history; history 2; fc -l",
    "trap 'echo err $?' ERR; false",
    "trap 'echo ret' RETURN; trap 'echo dbg' DEBUG; trap -p; trap - DEBUG RETURN",
    "trap -l | head -2; trap 'echo usr' USR1; kill -USR1 $$",
    "set -x; echo traced $x; set +x",
    "PS4='+ $LINENO: '; set -xv; echo v; set +xv",
    "set -eE -o pipefail; false | true; echo ok",
    "shopt -s extglob",
    "shopt -s extglob; echo /data/!(*.txt) /data/@(f|n).txt",
    "[[ abc == @(a|b)+(c|b)* ]]; case ab in +(a|b)) echo m;; esac",
    "shopt -s nullglob dotglob globstar nocaseglob; echo /data/** /data/*.TXT",
    "shopt -s failglob; echo /data/*.none",
    "shopt -s nocasematch; [[ ABC == abc ]] && echo nc",
    "shopt -s lastpipe; echo lp | read lv; echo $lv",
    "shopt -s expand_aliases; alias ll='ls /data'; ll; unalias ll",
    "declare -n ref=x; ref=5; echo $x ${!ref}; unset -n ref",
    "local -n lref=a; echo ${lref[1]}",
    "local -; set -f",
    "pushd /data/d; dirs -v; popd; dirs +0",
    "echo ${x@Q} ${x@A} ${x@U} ${x@L} ${x@E} ${x@P} ${a@K} ${!B*}",
    "echo $[1+2] $_",
    "mapfile -t -s 1 -n 2 arr < /data/f.txt; echo ${#arr[@]} \"${arr[@]}\"",
    "mapfile -O 3 -d ' ' arr <<< 'a b'; declare -p arr",
    "getopts ab: o -a -b v; echo $o $OPTIND; getopts ':x' o -y; echo $o $OPTARG",
    "printf -v pv '%05d' 42; echo $pv",
    "read -t 0.01 -n 2 -s rv <<< abc; echo $rv",
    "kill -l 9; jobs -l; wait -n; echo $?",
    "sleep 0.01 & echo $!; kill %1; wait; disown; fg; bg",
    "compgen -v B | head -2; complete -W 'a b' cmd; complete -p",
    "caller; help cd | head -2; type -a echo; hash; enable -a | head -2; ulimit -n",
    "coproc { echo co; }",
    "echo $BASHPID $PPID $RANDOM $SECONDS $LINENO $FUNCNAME $BASH_VERSION",
    "RANDOM=7; echo $RANDOM $EPOCHSECONDS ${BASH_VERSINFO[0]}",
    "x=$(( 1/0 )); echo after",
    "export -n E; declare +x E; readonly -p | head -2",
    "GLOBIGNORE='*.txt'; echo /data/*",
];

/// A leaf command.
fn leaf() -> impl Strategy<Value = String> {
    prop::sample::select(LEAVES).prop_map(str::to_string)
}

/// A command, built recursively from [`leaf`]s.
fn command() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 40, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}; {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}\n{b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} | {b}")),
            inner.clone().prop_map(|a| format!("! {a}")),
            inner.clone().prop_map(|a| format!("{{ {a}; }}")),
            inner.clone().prop_map(|a| format!("( {a} )")),
            inner.clone().prop_map(|a| format!("x=$({a})")),
            inner
                .clone()
                .prop_map(|a| format!("{a} > /data/o 2>&1; cat /data/o")),
            inner.clone().prop_map(|a| format!("{a} <<< 'in put'")),
            inner.clone().prop_map(|a| format!("{a} &\nwait")),
            inner.clone().prop_map(|a| format!("f() {{ {a}; }}; f 1")),
            inner
                .clone()
                .prop_map(|a| format!("for i in 1 \"2 3\"; do {a}; done")),
            inner
                .clone()
                .prop_map(|a| format!("while read -r fz_l; do {a}; done <<< $'1\\n2'")),
            inner
                .clone()
                .prop_map(|a| format!("case $x in a*) {a};; *) echo other;; esac")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("if {a}; then {b}; else {c}; fi")),
            inner
                .clone()
                .prop_map(|a| format!("for ((j=0; j<0; j++)); do {a}; done")),
            inner.clone().prop_map(|a| format!("time {a}")),
            inner.clone().prop_map(|a| format!("cat <({a})")),
            inner.clone().prop_map(|a| format!("{a} > >(cat)")),
            inner
                .clone()
                .prop_map(|a| format!("select s in p q; do {a}; break; done <<< 2")),
            inner.clone().prop_map(|a| format!("set -x; {a}; set +x")),
            inner.clone().prop_map(|a| format!("trap '{a}' EXIT")),
            inner
                .clone()
                .prop_map(|a| format!("shopt -s extglob\ncase $x in @(a|b)*) {a};; esac")),
        ]
    })
}

/// Noise that breaks syntax in the places a parser finds hardest.
const SALT: &[&str] = &[
    "'", "\"", "$", "$(", "${", "`", "(", ")", "{", "}", "[[", "]]", "\\", "\n", ";", "&", "|",
    "<<", ">", "#",
];

/// A whole input: a command, sometimes cut short or salted.
fn input() -> impl Strategy<Value = String> {
    (
        command(),
        0u8..10,
        any::<prop::sample::Index>(),
        prop::sample::select(SALT),
    )
        .prop_map(|(s, how, at, salt)| {
            let cut = char_boundary(&s, at.index(s.len() + 1));
            match how {
                0 => s[..cut].to_string(),
                1 => format!("{}{salt}{}", &s[..cut], &s[cut..]),
                _ => s,
            }
        })
}

fn char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

/// `cargo xtask fuzz`: runs batches until the time is up; on a failure,
/// shrinks it, saves it and returns an error.
pub fn run(args: Args) -> Result<ExitCode> {
    let deadline = Instant::now() + Duration::from_secs_f64(args.minutes.max(0.0) * 60.0);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    let (mut inputs, mut batches) = (0u64, 0u64);
    let first = seed;
    eprintln!(
        "fuzz: {:.1} minutes from seed {first}, {}s per input",
        args.minutes,
        timeout.as_secs()
    );
    while Instant::now() < deadline {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let config = Config {
            cases: BATCH,
            failure_persistence: None,
            max_shrink_iters: 300,
            max_shrink_time: 120_000,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(config, rng);
        let verbose = args.verbose;
        let result = runner.run(&input(), |script| {
            if verbose {
                eprintln!("---\n{script}");
            }
            survives(&script, timeout).map_err(TestCaseError::fail)
        });
        batches += 1;
        inputs += u64::from(BATCH);
        if let Err(e) = result {
            let (script, why) = match e {
                proptest::test_runner::TestError::Fail(why, script) => (script, why.to_string()),
                proptest::test_runner::TestError::Abort(why) => {
                    anyhow::bail!("fuzz: batch {seed} aborted: {why}")
                }
            };
            let path = save(&script, &why)?;
            eprintln!(
                "fuzz: seed {seed} found a failure ({why}); shrunk input saved to {}:\n{script}",
                path.display()
            );
            return Ok(ExitCode::from(1));
        }
        seed = seed.wrapping_add(1);
        if batches % 10 == 0 {
            eprintln!("fuzz: {inputs} inputs, no failure (seed now {seed})");
        }
    }
    eprintln!(
        "fuzz: done: {inputs} inputs in {batches} batches from seed {first}, no panic, hang or failed run"
    );
    Ok(ExitCode::SUCCESS)
}

/// Saves a failing input as a regression file; returns its path.
fn save(script: &str, why: &str) -> Result<PathBuf> {
    let dir = regressions_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let h = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        script.hash(&mut hasher);
        hasher.finish()
    };
    let path = dir.join(format!("{h:016x}.sh"));
    let first = why.lines().next().unwrap_or("");
    std::fs::write(&path, format!("# fuzz: {first}\n{script}"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
