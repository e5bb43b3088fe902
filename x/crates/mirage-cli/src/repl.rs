//! `mirage shell` on a terminal: an interactive bash over the workspace.
//!
//! - An incomplete line (an open quote, `if` without `fi`, a trailing `|`
//!   or `&&`, a backslash-newline, a here-document before its delimiter)
//!   continues on the `PS2` prompt (`> `), as bash reads it
//!   ([`mirage::shell::parse::is_incomplete`]); a real syntax error is
//!   reported at once as interactive bash words it, with status 2.
//! - The prompt is `PS1` (`PS2`) expanded as bash expands it: the
//!   backslash escapes of the bash manual's PROMPTING section (`\u \h \w
//!   \W \$ \! \# \j \t \d \D{…}` …), then parameter, arithmetic and
//!   command expansion through the session's shell (`${x@P}`), leaving `$?`
//!   as it was; `mirage:{cwd}$ ` when `PS1` is unset.
//! - Ctrl-C while a line runs cancels the line (its cancellation token)
//!   and returns to the prompt with status 130; Ctrl-C at the prompt
//!   clears the line (status 130, as bash); Ctrl-D exits with the last
//!   status, printing `exit` as bash does.
//! - History is kept in `~/.mirage/history` (`HOME` of the host
//!   environment), loaded at start and appended after every line; a
//!   directory or file that cannot be written only loses the history.
//!   History is on (`set -o history`): the session's list starts with the
//!   loaded lines and gets every line typed, so `history`, `fc -l` and
//!   `fc -s` see them and `\!` counts them. `HISTFILE`, `HISTSIZE` and
//!   `HISTCONTROL` are ignored; `history -c`/`-d` change the session's
//!   list, not the line editor's recall (Up) or the file.
//! - Aliases expand (`expand_aliases` is on, as in an interactive bash).
//! - Tab completes the first word from the builtins, shell keywords,
//!   functions, aliases and registered commands, and later words as
//!   virtual paths through the workspace's VFS (directories get a `/`).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use mirage::Workspace;
use mirage::shell::ShellState;
use mirage::types::{FileType, Vfs};
use mirage::workspace::CancellationToken;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

/// The session the REPL runs in.
const SESSION: &str = "default";

/// How long a cancelled line may take to stop before its future is dropped.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Bash's reserved words, completed in command position.
const KEYWORDS: &[&str] = &[
    "!", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
    "function", "if", "in", "select", "then", "time", "until", "while", "{", "}",
];

/// Runs the interactive shell until `exit` or Ctrl-D; returns the exit
/// status (the last line's, or `exit`'s argument).
pub(crate) async fn interactive(ws: Workspace) -> Result<i32> {
    ws.with_session_state(SESSION, |st| {
        st.interactive = true;
        // an interactive bash expands aliases
        st.shopt.set("expand_aliases", true);
        st.parse.expand_aliases = true;
        st.parse.touch();
    })
    .await?;
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .build();
    let mut rl: Editor<ShellHelper, DefaultHistory> = Editor::with_config(config)?;
    let data = Arc::new(Mutex::new(CompletionData::default()));
    rl.set_helper(Some(ShellHelper {
        vfs: ws.vfs(),
        rt: tokio::runtime::Handle::current(),
        data: data.clone(),
    }));
    let history = history_path();
    if let Some(p) = &history {
        let _ = rl.load_history(p);
    }
    // the session's history list (`history`, `fc`) starts with the file's lines
    let loaded: Vec<String> = rl.history().iter().cloned().collect();
    ws.with_session_state(SESSION, move |st| {
        st.options.history = true;
        for line in &loaded {
            st.add_history(line);
        }
    })
    .await?;
    let mut count: u64 = 1;
    loop {
        let view = ws.with_session_state(SESSION, PromptView::of).await?;
        if let Ok(mut d) = data.lock() {
            *d = CompletionData {
                names: view.names.clone(),
                vars: view.vars.keys().cloned().collect(),
                cwd: view.cwd.clone(),
                home: view.home.clone(),
            };
        }
        let hist_no = view.hist_len as u64 + 1;
        let ps1 = match &view.ps1 {
            Some(p) => shell_prompt(&ws, &view, p, hist_no, count).await,
            None => view.ps1(hist_no, count),
        };
        let ps2 = match &view.ps2 {
            Some(p) => shell_prompt(&ws, &view, p, hist_no, count).await,
            None => view.ps2(hist_no, count),
        };
        // read lines until the command is complete
        let mut buf = String::new();
        let cmd = loop {
            let prompt = if buf.is_empty() { &ps1 } else { &ps2 };
            match tokio::task::block_in_place(|| rl.readline(prompt)) {
                Ok(line) => {
                    buf.push_str(&line);
                    buf.push('\n');
                    if !mirage::shell::parse::is_incomplete(&buf) {
                        break Some(buf);
                    }
                }
                Err(ReadlineError::Interrupted) => {
                    // the line is dropped; `$?` is 130, as bash's
                    set_status(&ws, 130).await?;
                    break None;
                }
                Err(ReadlineError::Eof) if buf.is_empty() => {
                    // as `exit` with the last status (the EXIT trap runs)
                    eprintln!("exit");
                    let status = run_line(&ws, "exit\n").await?;
                    end_session(&ws).await;
                    return Ok(status);
                }
                Err(ReadlineError::Eof) => {
                    // end of input inside a command: bash's EOF error
                    break Some(buf);
                }
                Err(e) => return Err(e.into()),
            }
        };
        let Some(cmd) = cmd else { continue };
        let entry = cmd.trim_end_matches('\n');
        if entry.trim().is_empty() {
            continue;
        }
        if rl.add_history_entry(entry).unwrap_or(false)
            && let Some(p) = &history
        {
            let _ = rl.append_history(p);
        }
        let typed = entry.to_string();
        ws.with_session_state(SESSION, move |st| st.add_history(&typed))
            .await?;
        count += 1;
        if let Err(e) = mirage::shell::parse::check_syntax(&cmd) {
            // interactive bash names no line: `bash: syntax error near …`
            eprintln!("bash: {}", e.message);
            set_status(&ws, 2).await?;
            continue;
        }
        ws.with_session_state(SESSION, |st| st.exited = false)
            .await?;
        let status = run_line(&ws, &cmd).await?;
        if ws.with_session_state(SESSION, |st| st.exited).await? {
            eprintln!("exit");
            end_session(&ws).await;
            return Ok(status);
        }
    }
}

/// Expands a prompt string through the session's shell, as bash expands
/// `PS1`: the escapes of `${x@P}`, then parameter, arithmetic and command
/// expansion. `$?` and `$_` are left as they were. Falls back to
/// [`PromptView::expand`] when the shell cannot run it.
async fn shell_prompt(
    ws: &Workspace,
    view: &PromptView,
    raw: &str,
    hist: u64,
    count: u64,
) -> String {
    const VAR: &str = "__mirage_prompt";
    let text = view.counters(raw, hist, count);
    let saved = ws
        .with_session_state(SESSION, |st| {
            let saved = (st.last_status, st.get("_"));
            st.set(VAR, text);
            saved
        })
        .await;
    let Ok((status, underscore)) = saved else {
        return view.expand(raw, hist, count);
    };
    let out = ws
        .execute(SESSION, &format!("printf '%s' \"${{{VAR}@P}}\""), None)
        .await;
    let _ = ws
        .with_session_state(SESSION, |st| {
            st.vars.remove(VAR);
            st.last_status = status;
            match underscore {
                Some(u) => st.set("_", u),
                None => {
                    st.vars.remove("_");
                }
            }
        })
        .await;
    match out {
        Ok(o) => {
            if !o.stderr.is_empty() {
                eprint!("{}", mirage::types::bytestr::decode(&o.stderr));
            }
            mirage::types::bytestr::decode_owned(o.stdout)
        }
        Err(_) => view.expand(raw, hist, count),
    }
}

/// Sets `$?` of the session.
async fn set_status(ws: &Workspace, status: i32) -> Result<()> {
    ws.with_session_state(SESSION, |st| st.last_status = status)
        .await?;
    Ok(())
}

/// Ends the background jobs of the session, as bash sends its jobs
/// `SIGHUP` when an interactive shell exits.
async fn end_session(ws: &Workspace) {
    let _ = ws.kill_jobs(SESSION).await;
}

/// Runs one command, its output streamed to the terminal, under a
/// cancellation token that Ctrl-C (`SIGINT`) cancels. Returns its status
/// (130 when cancelled).
async fn run_line(ws: &Workspace, cmd: &str) -> Result<i32> {
    use mirage::types::{Input, Sink};
    let cancel = CancellationToken::new();
    let (out_tx, out_rx) = tokio::sync::mpsc::channel(crate::STREAM_CHUNKS);
    let (err_tx, err_rx) = tokio::sync::mpsc::channel(crate::STREAM_CHUNKS);
    let threads = [
        crate::forward(out_rx, false)?,
        crate::forward(err_rx, true)?,
    ];
    let (out_weak, err_weak) = (out_tx.downgrade(), err_tx.downgrade());
    let run = ws.execute_streaming_cancellable(
        SESSION,
        cmd,
        Input::empty(),
        Sink::Pipe(out_tx),
        Sink::Pipe(err_tx),
        cancel.clone(),
    );
    // boxed, so that a line that does not stop can be dropped (its
    // session lock released) before the status is set
    let mut run = Box::pin(run);
    let code = tokio::select! {
        r = &mut run => r.map_err(|e| anyhow::anyhow!("{e}"))?,
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            // the terminal echoed `^C`; the prompt starts on a new line
            eprintln!();
            match tokio::time::timeout(CANCEL_GRACE, &mut run).await {
                Ok(r) => r.map_err(|e| anyhow::anyhow!("{e}"))?,
                Err(_) => {
                    // it did not stop at an await point: drop it
                    drop(run);
                    set_status(ws, 130).await?;
                    130
                }
            }
        }
    };
    // wait for the forwarders to write everything out before the next
    // prompt; a background job the line started holds clones of the
    // senders and keeps its output going to the terminal: then wait only
    // for what is queued now
    let joined = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    });
    if out_weak.strong_count() + err_weak.strong_count() == 0 {
        let _ = joined.await;
    } else {
        for _ in 0..50 {
            let drained = [&out_weak, &err_weak].iter().all(|w| {
                w.upgrade()
                    .is_none_or(|tx| tx.capacity() == tx.max_capacity())
            });
            if drained {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Ok(code)
}

/// `~/.mirage/history`, its directory created; `None` without `HOME`.
fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let dir = PathBuf::from(home).join(".mirage");
    let _ = std::fs::create_dir_all(&dir);
    Some(dir.join("history"))
}

/// What the prompt and completion need from the shell state, read between
/// lines.
struct PromptView {
    ps1: Option<String>,
    ps2: Option<String>,
    cwd: String,
    home: Option<String>,
    user: Option<String>,
    host: Option<String>,
    euid: Option<String>,
    jobs: usize,
    /// Entries in the session's history list (`\!` is one more).
    hist_len: usize,
    vars: std::collections::HashMap<String, String>,
    /// Command names for completion: builtins, keywords, functions,
    /// aliases and registered commands, sorted and deduplicated.
    names: Vec<String>,
}

impl PromptView {
    fn of(st: &mut ShellState) -> PromptView {
        let mut names: Vec<String> = mirage::shell::builtins::BUILTINS
            .iter()
            .flat_map(|b| b.names().iter().map(ToString::to_string))
            .chain(KEYWORDS.iter().map(ToString::to_string))
            .chain(st.functions.keys().cloned())
            .chain(st.parse.aliases.keys().cloned())
            .chain(
                mirage::commands::registry::command_names()
                    .into_iter()
                    .map(str::to_string),
            )
            .collect();
        names.sort();
        names.dedup();
        let vars = st
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.value.scalar()))
            .collect();
        PromptView {
            ps1: st.get("PS1"),
            ps2: st.get("PS2"),
            cwd: st.cwd.clone(),
            home: st.get("HOME"),
            user: st.get("USER"),
            host: st.get("HOSTNAME"),
            euid: st.get("EUID"),
            jobs: st.jobs.running(),
            hist_len: st.history().len(),
            vars,
            names,
        }
    }

    /// The primary prompt: `PS1` expanded, or `mirage:{cwd}$ `.
    fn ps1(&self, hist: u64, count: u64) -> String {
        match &self.ps1 {
            Some(p) => self.expand(p, hist, count),
            None => format!("mirage:{}$ ", self.cwd),
        }
    }

    /// The continuation prompt: `PS2` expanded, or `> `.
    fn ps2(&self, hist: u64, count: u64) -> String {
        match &self.ps2 {
            Some(p) => self.expand(p, hist, count),
            None => "> ".into(),
        }
    }

    /// `\w`: the cwd with `$HOME` shown as `~`.
    fn tilde_cwd(&self) -> String {
        match self.home.as_deref() {
            Some(h) if !h.is_empty() && h != "/" => {
                if self.cwd == h {
                    "~".into()
                } else if let Some(rest) = self.cwd.strip_prefix(h)
                    && rest.starts_with('/')
                {
                    format!("~{rest}")
                } else {
                    self.cwd.clone()
                }
            }
            _ => self.cwd.clone(),
        }
    }

    /// Expands a prompt string as bash does: backslash escapes first, then
    /// `$NAME` and `${NAME}` (bash's `promptvars`; other expansions are
    /// left as they are).
    fn expand(&self, p: &str, hist: u64, count: u64) -> String {
        let esc = self.escapes(p, hist, count);
        expand_vars(&esc, &self.vars)
    }

    fn escapes(&self, p: &str, hist: u64, count: u64) -> String {
        self.escapes_of(p, hist, count, false)
    }

    /// Only the escapes the shell's `${x@P}` leaves alone (the history and
    /// command numbers, jobs, times and dates, the terminal); the others
    /// stay as written, for the shell to expand.
    fn counters(&self, p: &str, hist: u64, count: u64) -> String {
        self.escapes_of(p, hist, count, true)
    }

    fn escapes_of(&self, p: &str, hist: u64, count: u64, only_counters: bool) -> String {
        let mut out = String::new();
        let chars: Vec<char> = p.chars().collect();
        let mut i = 0;
        let now = jiff_now();
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '\\' || i >= chars.len() {
                out.push(c);
                continue;
            }
            let e = chars[i];
            i += 1;
            if only_counters
                && !matches!(e, '!' | '#' | 'j' | 'l' | 'd' | 't' | 'T' | '@' | 'A' | 'D')
            {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                'u' => out.push_str(self.user.as_deref().unwrap_or("mirage")),
                'h' => {
                    let h = self.host.as_deref().unwrap_or("mirage");
                    out.push_str(h.split('.').next().unwrap_or(h));
                }
                'H' => out.push_str(self.host.as_deref().unwrap_or("mirage")),
                'w' => out.push_str(&self.tilde_cwd()),
                'W' => {
                    let w = self.tilde_cwd();
                    if w == "/" || w == "~" {
                        out.push_str(&w);
                    } else {
                        out.push_str(w.rsplit('/').next().unwrap_or(&w));
                    }
                }
                '$' => out.push(if self.euid.as_deref() == Some("0") {
                    '#'
                } else {
                    '$'
                }),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'e' => out.push('\x1b'),
                '\\' => out.push('\\'),
                // non-printing brackets: rustyline measures the prompt itself
                '[' | ']' => {}
                's' => out.push_str("bash"),
                'v' => out.push_str("5.2"),
                'V' => out.push_str("5.2.15"),
                'j' => out.push_str(&self.jobs.to_string()),
                'l' => out.push_str("tty"),
                '!' => out.push_str(&hist.to_string()),
                '#' => out.push_str(&count.to_string()),
                'd' => out.push_str(&now.strftime("%a %b %d").to_string()),
                't' => out.push_str(&now.strftime("%H:%M:%S").to_string()),
                'T' => out.push_str(&now.strftime("%I:%M:%S").to_string()),
                '@' => out.push_str(&now.strftime("%I:%M %p").to_string()),
                'A' => out.push_str(&now.strftime("%H:%M").to_string()),
                'D' if chars.get(i) == Some(&'{') => {
                    let end = chars[i..].iter().position(|&c| c == '}').map(|p| p + i);
                    match end {
                        Some(end) => {
                            let fmt: String = chars[i + 1..end].iter().collect();
                            let fmt = if fmt.is_empty() { "%X".into() } else { fmt };
                            out.push_str(&now.strftime(&fmt).to_string());
                            i = end + 1;
                        }
                        None => {
                            out.push_str("\\D");
                        }
                    }
                }
                '0'..='7' => {
                    // `\nnn`: up to three octal digits
                    let mut v = e.to_digit(8).unwrap_or(0);
                    let mut n = 1;
                    while n < 3
                        && let Some(d) = chars.get(i).and_then(|c| c.to_digit(8))
                    {
                        v = v * 8 + d;
                        i += 1;
                        n += 1;
                    }
                    if let Some(ch) = char::from_u32(v & 0xff) {
                        out.push(ch);
                    }
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        out
    }
}

/// The local time, for the date escapes of a prompt.
fn jiff_now() -> jiff::Zoned {
    jiff::Zoned::now()
}

/// Replaces `$NAME` and `${NAME}` in `s` by the variables' values (unset:
/// empty); a `$` before anything else stays.
fn expand_vars(s: &str, vars: &std::collections::HashMap<String, String>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let is_name = |c: char| c == '_' || c.is_ascii_alphanumeric();
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            if chars.get(i + 1) == Some(&'{')
                && let Some(len) = chars[i + 2..].iter().position(|&c| c == '}')
            {
                let name: String = chars[i + 2..i + 2 + len].iter().collect();
                if !name.is_empty() && name.chars().all(is_name) {
                    out.push_str(vars.get(&name).map_or("", String::as_str));
                    i += len + 3;
                    continue;
                }
            } else if chars
                .get(i + 1)
                .is_some_and(|c| *c == '_' || c.is_ascii_alphabetic())
            {
                let mut j = i + 1;
                while j < chars.len() && is_name(chars[j]) {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                out.push_str(vars.get(&name).map_or("", String::as_str));
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// rustyline's helper: Tab completion over the workspace.
struct ShellHelper {
    vfs: Arc<dyn Vfs>,
    rt: tokio::runtime::Handle,
    data: Arc<Mutex<CompletionData>>,
}

/// What completion knows of the session, refreshed before each prompt.
#[derive(Default)]
struct CompletionData {
    /// Command names (builtins, keywords, functions, aliases, commands).
    names: Vec<String>,
    /// Variable names.
    vars: Vec<String>,
    /// The working directory.
    cwd: String,
    /// `$HOME`, for `~/`.
    home: Option<String>,
}

/// Where the word under the cursor starts: after the last unquoted blank
/// or command separator before `pos`.
fn word_start(line: &str, pos: usize) -> usize {
    let before = &line[..pos];
    before
        .char_indices()
        .rev()
        .find(|(_, c)| {
            matches!(
                c,
                ' ' | '\t' | ';' | '&' | '|' | '(' | ')' | '<' | '>' | '`'
            )
        })
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// Whether the word starting at `start` is in command position: only
/// blanks since the line start or a separator (`;`, `&`, `|`, `(`, `` ` ``).
fn in_command_position(line: &str, start: usize) -> bool {
    let before = line[..start].trim_end_matches([' ', '\t']);
    before.is_empty() || before.ends_with([';', '&', '|', '(', '`', '{']) || before.ends_with("$(")
}

impl ShellHelper {
    /// The names starting with `prefix`.
    fn complete_command(&self, prefix: &str) -> Vec<Pair> {
        let names = match self.data.lock() {
            Ok(d) => d.names.clone(),
            Err(_) => Vec::new(),
        };
        names
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .map(|n| Pair {
                display: n.clone(),
                replacement: format!("{n} "),
            })
            .collect()
    }

    /// The entries of the directory part of `word` whose names start with
    /// its last part, read through the VFS; directories end with `/`.
    fn complete_path(&self, word: &str) -> Vec<Pair> {
        let (dir, base) = match word.rfind('/') {
            Some(i) => (&word[..=i], &word[i + 1..]),
            None => ("", word),
        };
        let (cwd, home) = self
            .data
            .lock()
            .map(|d| (d.cwd.clone(), d.home.clone()))
            .unwrap_or_else(|_| ("/".into(), None));
        let abs = if dir.starts_with('/') {
            dir.to_string()
        } else if let Some(rest) = dir.strip_prefix("~/")
            && let Some(h) = home
        {
            format!("{}/{rest}", h.trim_end_matches('/'))
        } else if dir.is_empty() {
            cwd.clone()
        } else {
            format!("{}/{dir}", cwd.trim_end_matches('/'))
        };
        let vfs = self.vfs.clone();
        let abs_dir = abs.clone();
        let entries = tokio::task::block_in_place(|| {
            self.rt.block_on(async move {
                let list = vfs.readdir(&abs_dir).await.unwrap_or_default();
                let mut out = Vec::new();
                for e in list {
                    let mut is_dir = e.file_type == FileType::Directory;
                    if e.file_type == FileType::Symlink {
                        let p = format!("{}/{}", abs_dir.trim_end_matches('/'), e.name);
                        is_dir = vfs
                            .stat(&p)
                            .await
                            .is_ok_and(|s| s.file_type == FileType::Directory);
                    }
                    out.push((e.name, is_dir));
                }
                out
            })
        });
        let mut pairs: Vec<Pair> = entries
            .into_iter()
            .filter(|(name, _)| {
                name.starts_with(base) && (base.starts_with('.') || !name.starts_with('.'))
            })
            .map(|(name, is_dir)| {
                let shown = name.clone();
                Pair {
                    replacement: format!(
                        "{dir}{}{}",
                        escape_word(&name),
                        if is_dir { "/" } else { " " }
                    ),
                    display: if is_dir { format!("{shown}/") } else { shown },
                }
            })
            .collect();
        pairs.sort_by(|a, b| a.display.cmp(&b.display));
        pairs
    }
}

/// Backslash-escapes the characters of a file name that the shell would
/// otherwise split or expand.
fn escape_word(name: &str) -> Cow<'_, str> {
    const SPECIAL: &[char] = &[
        ' ', '\t', '\n', '\\', '\'', '"', '`', '$', '&', '|', ';', '(', ')', '<', '>', '*', '?',
        '[', ']', '#', '~', '!', '{', '}',
    ];
    if !name.contains(SPECIAL) {
        return Cow::Borrowed(name);
    }
    let mut s = String::new();
    for c in name.chars() {
        if SPECIAL.contains(&c) {
            s.push('\\');
        }
        s.push(c);
    }
    Cow::Owned(s)
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = word_start(line, pos);
        let word = &line[start..pos];
        if let Some(i) = word.rfind('$') {
            // `$NA` or `${NA`: a variable name
            let (lead, part) = match word[i + 1..].strip_prefix('{') {
                Some(p) => (&word[..i + 2], p),
                None => (&word[..i + 1], &word[i + 1..]),
            };
            if part.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                let close = if lead.ends_with('{') { "}" } else { "" };
                let mut vars = self.data.lock().map(|d| d.vars.clone()).unwrap_or_default();
                vars.sort();
                let pairs = vars
                    .into_iter()
                    .filter(|v| v.starts_with(part))
                    .map(|v| Pair {
                        replacement: format!("{lead}{v}{close}"),
                        display: v,
                    })
                    .collect();
                return Ok((start, pairs));
            }
        }
        if in_command_position(line, start) && !word.contains('/') {
            return Ok((start, self.complete_command(word)));
        }
        Ok((start, self.complete_path(word)))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mirage::shell::parse::is_incomplete;

    #[test]
    fn incomplete_lines_continue() {
        for src in [
            "echo \"abc\n",
            "echo 'abc\n",
            "if true; then\n",
            "if true; then echo a\n",
            "while true; do\n",
            "for x in a b; do echo $x\n",
            "{ echo a\n",
            "echo a |\n",
            "echo a &&\n",
            "echo a ||\n",
            "echo a \\\n",
            "cat <<EOF\n",
            "cat <<EOF\nline\n",
            "echo $(\n",
            "echo $(echo a\n",
            "echo ${x\n",
            "case x in\n",
            "f() {\n",
            "echo `a\n",
            "(echo a\n",
        ] {
            assert!(is_incomplete(src), "{src:?} should continue");
        }
    }

    #[test]
    fn complete_lines_and_errors_run() {
        for src in [
            "echo a\n",
            "",
            "\n",
            "fi\n",
            "echo )\n",
            "done\n",
            "if true; then echo a; fi\n",
            "cat <<EOF\nline\nEOF\n",
            "echo a # comment \\\n",
            "echo a\\\\\n",
            "echo \"a\nb\"\n",
            "echo a |\ncat\n",
            "f() { echo a; }\n",
        ] {
            assert!(!is_incomplete(src), "{src:?} should not continue");
        }
    }

    fn view(ps1: &str) -> PromptView {
        let mut st = ShellState::new("/workspace/sub/dir");
        st.set("PS1", ps1);
        st.set("HOME", "/workspace");
        st.set("USER", "ann");
        st.set("HOSTNAME", "box.example.com");
        st.set("X", "val");
        PromptView::of(&mut st)
    }

    #[test]
    fn prompt_escapes() {
        let mut v = view(r"\u@\h:\w\$ ");
        v.euid = Some("1000".into());
        assert_eq!(v.ps1(1, 1), "ann@box:~/sub/dir$ ");
        v.euid = Some("0".into());
        assert_eq!(v.ps1(1, 1), "ann@box:~/sub/dir# ");
        let v = view(r"[\H \W] \# \! \\ \101 $X ${X}!$ ");
        assert_eq!(v.ps1(7, 3), "[box.example.com dir] 3 7 \\ A val val!$ ");
        assert_eq!(v.ps2(1, 1), "> ");
        let mut st = ShellState::new("/tmp");
        st.vars.remove("PS1");
        assert_eq!(PromptView::of(&mut st).ps1(1, 1), "mirage:/tmp$ ");
    }

    #[test]
    fn words_and_positions() {
        assert_eq!(word_start("ls /tm", 6), 3);
        assert!(in_command_position("ec", 0));
        assert!(in_command_position("a | ec", 4));
        assert!(!in_command_position("ls /tm", 3));
        assert_eq!(escape_word("a b"), "a\\ b");
    }
}
