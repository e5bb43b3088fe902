//! `help [-dms] [PATTERN…]`: bash 5.2's help topics. With no pattern, the
//! two-column list of every topic's synopsis (cut to 37 characters and `>`
//! as bash cuts them); `-s` the synopsis (`cd: cd [-L|[-P [-e]] [-@]] [dir]`),
//! `-d` the one-line description (`cd - Change the shell working
//! directory.`). A pattern matching a topic exactly selects only it;
//! otherwise it selects every topic it is a prefix of, or, holding a glob
//! character, every topic it matches (after bash's `Shell commands
//! matching keyword` heading). Without `-d`/`-s`, a topic shows its
//! synopsis and its one-line description; bash's long help texts are not
//! reproduced.

use async_trait::async_trait;
use mirage_types::bytestr;

use super::getopt::{Getopt, Opt, usage_error};
use super::{Builtin, out};
use crate::exec::{ExecResult, Interp, Io};
use crate::state::ShellState;

/// The `help` builtin.
pub struct Help;

#[async_trait]
impl Builtin for Help {
    fn names(&self) -> &'static [&'static str] {
        &["help"]
    }

    async fn run(
        &self,
        interp: &Interp,
        argv: &[String],
        st: &mut ShellState,
        io: &Io,
    ) -> ExecResult {
        let args = argv.get(1..).unwrap_or_default();
        let (mut short_desc, mut synopsis) = (false, false);
        let mut opts = Getopt::new(args, "dms", "");
        while let Some(opt) = opts.next_opt() {
            match opt {
                Opt::Flag('d') => short_desc = true,
                Opt::Flag('s') => synopsis = true,
                Opt::Flag(_) => {}
                bad => {
                    const USAGE: &str = "help: usage: help [-dms] [pattern ...]\n";
                    return Ok(usage_error(&bad, "help", USAGE, st, io).await);
                }
            }
        }
        let patterns = opts.rest();
        if patterns.is_empty() {
            let mut text = listing();
            text.push_str(&command_listing(&interp.host.command_names()));
            out(io, text.as_bytes()).await?;
            return Ok(0);
        }
        let mut text = String::new();
        let mut found = false;
        for p in patterns {
            let glob = is_glob(p);
            let exact: Vec<_> = topics().filter(|t| t.0 == p).collect();
            let hits: Vec<_> = if !exact.is_empty() {
                exact
            } else {
                topics()
                    .filter(|t| {
                        t.0.starts_with(p.as_str()) || glob && crate::pattern::matches(p, t.0)
                    })
                    .collect()
            };
            if hits.is_empty() {
                continue;
            }
            found = true;
            if glob {
                text.push_str(&format!("Shell commands matching keyword `{p}'\n\n"));
            }
            for (topic, syn, desc) in hits {
                if short_desc {
                    text.push_str(&format!("{topic} - {desc}\n"));
                } else if synopsis {
                    text.push_str(&format!("{topic}: {syn}\n"));
                } else {
                    text.push_str(&format!("{topic}: {syn}\n    {desc}\n"));
                }
            }
        }
        out(io, &bytestr::encode(&text)).await?;
        if !found {
            let p = patterns.last().map_or("", String::as_str);
            io.err(&format!(
                "{}help: no help topics match `{p}'.  Try `help help' or `man -k {p}' or `info {p}'.\n",
                st.diag()
            ))
            .await;
            return Ok(1);
        }
        Ok(0)
    }
}

/// Whether `p` holds a glob pattern (`*`, `?`, or a `[` closed later).
fn is_glob(p: &str) -> bool {
    p.contains('*') || p.contains('?') || p.find('[').is_some_and(|i| p[i + 1..].contains(']'))
}

/// What `help` with no pattern prints: the heading and the synopses in two
/// columns of 40.
fn listing() -> String {
    let mut s = String::from(
        "GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)\n\
         These shell commands are defined internally.  Type `help' to see this list.\n\
         Type `help name' to find out more about the function `name'.\n\
         Use `info bash' to find out more about the shell in general.\n\
         Use `man -k' or `info' to find out more about commands not in this list.\n\
         \n\
         A star (*) next to a name means that the command is disabled.\n\
         \n",
    );
    // bash cuts the left column's synopses to 37 characters and the
    // right column's to 36, marking the cut with `>`
    let cut = |syn: &str, max: usize| -> String {
        if syn.chars().count() > max {
            let head: String = syn.chars().take(max).collect();
            format!("{head}>")
        } else {
            syn.to_string()
        }
    };
    let all: Vec<_> = topics().collect();
    let rows = all.len().div_ceil(2);
    for (r, topic) in all.iter().take(rows).enumerate() {
        let left = format!(" {}", cut(topic.1, 37));
        match all.get(r + rows) {
            Some(right) => s.push_str(&format!("{left:<40} {}\n", cut(right.1, 36))),
            None => s.push_str(&format!("{left}\n")),
        }
    }
    s
}

/// What `help` adds after bash's list: Mirage's commands (the workspace's
/// commands that are not shell builtins), in columns filled down to 80
/// characters as `ls -C` fills them. Bash lists only its builtins, since
/// its other commands are programs on `PATH`; in Mirage every command is
/// built in, so `help` names them too (issue 8: "`help` lists the
/// builtins and commands"; see docs/decisions.md).
fn command_listing(names: &[String]) -> String {
    let builtin: std::collections::HashSet<&str> = topics().map(|t| t.0).collect();
    let mut names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !builtin.contains(n))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nMirage commands (`NAME --help' or `man NAME' describes one):\n\n");
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(1) + 2;
    let cols = (80 / width).max(1);
    let rows = names.len().div_ceil(cols);
    for r in 0..rows {
        let mut line = String::from(" ");
        for c in 0..cols {
            if let Some(n) = names.get(c * rows + r) {
                if c + 1 < cols && names.get((c + 1) * rows + r).is_some() {
                    line.push_str(&format!("{n:<width$}"));
                } else {
                    line.push_str(n);
                }
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// bash 5.2's help topics, one a line in the order `help` lists them:
/// `topic -- synopsis -- one-line description`.
const TOPIC_TABLE: &str = r#"% -- job_spec [&] -- Resume job in foreground.
(( ... )) -- (( expression )) -- Evaluate arithmetic expression.
. -- . filename [arguments] -- Execute commands from a file in the current shell.
: -- : -- Null command.
[ -- [ arg... ] -- Evaluate conditional expression.
[[ ... ]] -- [[ expression ]] -- Execute conditional command.
alias -- alias [-p] [name[=value] ... ] -- Define or display aliases.
bg -- bg [job_spec ...] -- Move jobs to the background.
bind -- bind [-lpsvPSVX] [-m keymap] [-f filename] [-q name] [-u name] [-r keyseq] [-x keyseq:shell-command] [keyseq:readline-function or readline-command] -- Set Readline key bindings and variables.
break -- break [n] -- Exit for, while, or until loops.
builtin -- builtin [shell-builtin [arg ...]] -- Execute shell builtins.
caller -- caller [expr] -- Return the context of the current subroutine call.
case -- case WORD in [PATTERN [| PATTERN]...) COMMANDS ;;]... esac -- Execute commands based on pattern matching.
cd -- cd [-L|[-P [-e]] [-@]] [dir] -- Change the shell working directory.
command -- command [-pVv] command [arg ...] -- Execute a simple command or display information about commands.
compgen -- compgen [-abcdefgjksuv] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [word] -- Display possible completions depending on the options.
complete -- complete [-abcdefgjksuv] [-pr] [-DEI] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [name ...] -- Specify how arguments are to be completed by Readline.
compopt -- compopt [-o|+o option] [-DEI] [name ...] -- Modify or display completion options.
continue -- continue [n] -- Resume for, while, or until loops.
coproc -- coproc [NAME] command [redirections] -- Create a coprocess named NAME.
declare -- declare [-aAfFgiIlnrtux] [name[=value] ...] or declare -p [-aAfFilnrtux] [name ...] -- Set variable values and attributes.
dirs -- dirs [-clpv] [+N] [-N] -- Display directory stack.
disown -- disown [-h] [-ar] [jobspec ... | pid ...] -- Remove jobs from current shell.
echo -- echo [-neE] [arg ...] -- Write arguments to the standard output.
enable -- enable [-a] [-dnps] [-f filename] [name ...] -- Enable and disable shell builtins.
eval -- eval [arg ...] -- Execute arguments as a shell command.
exec -- exec [-cl] [-a name] [command [argument ...]] [redirection ...] -- Replace the shell with the given command.
exit -- exit [n] -- Exit the shell.
export -- export [-fn] [name[=value] ...] or export -p -- Set export attribute for shell variables.
false -- false -- Return an unsuccessful result.
fc -- fc [-e ename] [-lnr] [first] [last] or fc -s [pat=rep] [command] -- Display or execute commands from the history list.
fg -- fg [job_spec] -- Move job to the foreground.
for -- for NAME [in WORDS ... ] ; do COMMANDS; done -- Execute commands for each member in a list.
for (( -- for (( exp1; exp2; exp3 )); do COMMANDS; done -- Arithmetic for loop.
function -- function name { COMMANDS ; } or name () { COMMANDS ; } -- Define shell function.
getopts -- getopts optstring name [arg ...] -- Parse option arguments.
hash -- hash [-lr] [-p pathname] [-dt] [name ...] -- Remember or display program locations.
help -- help [-dms] [pattern ...] -- Display information about builtin commands.
history -- history [-c] [-d offset] [n] or history -anrw [filename] or history -ps arg [arg...] -- Display or manipulate the history list.
if -- if COMMANDS; then COMMANDS; [ elif COMMANDS; then COMMANDS; ]... [ else COMMANDS; ] fi -- Execute commands based on conditional.
jobs -- jobs [-lnprs] [jobspec ...] or jobs -x command [args] -- Display status of jobs.
kill -- kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec] -- Send a signal to a job.
let -- let arg [arg ...] -- Evaluate arithmetic expressions.
local -- local [option] name[=value] ... -- Define local variables.
logout -- logout [n] -- Exit a login shell.
mapfile -- mapfile [-d delim] [-n count] [-O origin] [-s count] [-t] [-u fd] [-C callback] [-c quantum] [array] -- Read lines from the standard input into an indexed array variable.
popd -- popd [-n] [+N | -N] -- Remove directories from stack.
printf -- printf [-v var] format [arguments] -- Formats and prints ARGUMENTS under control of the FORMAT.
pushd -- pushd [-n] [+N | -N | dir] -- Add directories to stack.
pwd -- pwd [-LP] -- Print the name of the current working directory.
read -- read [-ers] [-a array] [-d delim] [-i text] [-n nchars] [-N nchars] [-p prompt] [-t timeout] [-u fd] [name ...] -- Read a line from the standard input and split it into fields.
readarray -- readarray [-d delim] [-n count] [-O origin] [-s count] [-t] [-u fd] [-C callback] [-c quantum] [array] -- Read lines from a file into an array variable.
readonly -- readonly [-aAf] [name[=value] ...] or readonly -p -- Mark shell variables as unchangeable.
return -- return [n] -- Return from a shell function.
select -- select NAME [in WORDS ... ;] do COMMANDS; done -- Select words from a list and execute commands.
set -- set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...] -- Set or unset values of shell options and positional parameters.
shift -- shift [n] -- Shift positional parameters.
shopt -- shopt [-pqsu] [-o] [optname ...] -- Set and unset shell options.
source -- source filename [arguments] -- Execute commands from a file in the current shell.
suspend -- suspend [-f] -- Suspend shell execution.
test -- test [expr] -- Evaluate conditional expression.
time -- time [-p] pipeline -- Report time consumed by pipeline's execution.
times -- times -- Display process times.
trap -- trap [-lp] [[arg] signal_spec ...] -- Trap signals and other events.
true -- true -- Return a successful result.
type -- type [-afptP] name [name ...] -- Display information about command type.
typeset -- typeset [-aAfFgiIlnrtux] name[=value] ... or typeset -p [-aAfFilnrtux] [name ...] -- Set variable values and attributes.
ulimit -- ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit] -- Modify shell resource limits.
umask -- umask [-p] [-S] [mode] -- Display or set file mode mask.
unalias -- unalias [-a] name [name ...] -- Remove each NAME from the list of defined aliases.
unset -- unset [-f] [-v] [-n] [name ...] -- Unset values and attributes of shell variables and functions.
until -- until COMMANDS; do COMMANDS-2; done -- Execute commands as long as a test does not succeed.
variables -- variables - Names and meanings of some shell variables -- Common shell variable names and usage.
wait -- wait [-fn] [-p var] [id ...] -- Wait for job completion and return exit status.
while -- while COMMANDS; do COMMANDS-2; done -- Execute commands as long as a test succeeds.
{ ... } -- { COMMANDS ; } -- Group commands as a unit."#;

/// bash 5.2's help topics: (topic, synopsis, one-line description), in
/// the order `help` lists them.
pub(crate) fn topics() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    TOPIC_TABLE.lines().filter_map(|l| {
        let mut f = l.splitn(3, " -- ");
        Some((f.next()?, f.next()?, f.next()?))
    })
}

#[cfg(test)]
mod command_listing_tests {
    use super::command_listing;

    #[test]
    fn lists_the_commands_that_are_not_builtins_in_columns_filled_down() {
        let names: Vec<String> = ["grep", "echo", "awk", "cat", "cd", "zcat"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let text = command_listing(&names);
        let body: Vec<&str> = text.lines().skip(3).collect();
        // echo and cd are builtins; 4 names of width 4+2 fit in one row
        assert_eq!(body, [" awk   cat   grep  zcat"]);
        assert!(text.starts_with("\nMirage commands"));
        assert_eq!(command_listing(&[]), "");
    }

    #[test]
    fn a_long_list_fills_columns_top_to_bottom() {
        let names: Vec<String> = (0..30).map(|i| format!("command{i:02}")).collect();
        let text = command_listing(&names);
        let body: Vec<&str> = text.lines().skip(3).collect();
        // width 9+2 = 11 → 7 columns, 5 rows; the first column is 00..04
        assert_eq!(body.len(), 5);
        assert!(
            body[0].starts_with(" command00  command05"),
            "{:?}",
            body[0]
        );
        assert!(body.iter().all(|l| l.chars().count() <= 80));
    }
}
