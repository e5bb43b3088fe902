//! The sed executor: GNU sed 4.9's cycle (read a line, run the script,
//! auto-print, flush the append queue) over records read as they arrive.
//! Files (`r`, `R`, `w`, `-i`) go through the VFS router only.

use bytes::Bytes;
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};

use super::parse::{Addr, Addr2, CaseOp, Cmd, Kind, Repl, Rx, Script};
use crate::util::RecordReader;

/// The most the pattern and hold spaces may hold together (bytes): a
/// script that grows them without end (`:a;s/^/x/;ba`) stops here instead
/// of exhausting the host's memory.
#[cfg(not(test))]
pub(crate) const SPACE_LIMIT: usize = 1 << 30;
/// The limit in unit tests (1 MiB), so they can reach it cheaply.
#[cfg(test)]
pub(crate) const SPACE_LIMIT: usize = 1 << 20;

/// Run-time options.
pub(crate) struct Opts {
    /// `-n` (or `#n`).
    pub quiet: bool,
    /// `-s` (or `-i`).
    pub separate: bool,
    /// `-i[SUFFIX]`: the suffix (empty for no backup).
    pub in_place: Option<String>,
    /// `-z`: the record delimiter.
    pub delim: u8,
    /// `-l N`.
    pub line_len: usize,
    /// `-u`.
    pub unbuffered: bool,
    /// `--posix`.
    pub posix: bool,
}

/// One line read: its bytes (without the delimiter), whether it had one,
/// and the index of its file.
struct Line {
    data: Bytes,
    chomped: bool,
    file: usize,
}

/// The input: the operands in order, read record by record, one record
/// ahead so `$` is known.
struct Input {
    names: Vec<String>,
    next_name: usize,
    cur: Option<(RecordReader, usize)>,
    ahead: Option<Line>,
    primed: bool,
    delim: u8,
    /// 2 after a missing file.
    status: i32,
    /// A read error (`read error on X: Is a directory`), fatal with 4.
    fatal: Option<String>,
}

impl Input {
    /// Reads the next record of any file, opening files as needed.
    async fn fetch(&mut self, ctx: &mut CommandCtx, in_place: bool) -> Option<Line> {
        loop {
            if let Some((reader, idx)) = &mut self.cur {
                match reader.next_record().await {
                    Ok(Some(rec)) => {
                        let chomped = rec.last() == Some(&self.delim);
                        let data = if chomped {
                            rec.slice(..rec.len() - 1)
                        } else {
                            rec
                        };
                        return Some(Line {
                            data,
                            chomped,
                            file: *idx,
                        });
                    }
                    Ok(None) => self.cur = None,
                    Err(e) => {
                        if e.kind != ErrorKind::BrokenPipe {
                            self.fatal = Some(format!(
                                "read error on {}: {}",
                                display_name(&self.names[*idx]),
                                e.message()
                            ));
                        }
                        self.cur = None;
                        return None;
                    }
                }
            }
            if self.fatal.is_some() || self.next_name >= self.names.len() {
                return None;
            }
            let idx = self.next_name;
            self.next_name += 1;
            let name = self.names[idx].clone();
            match open(ctx, &name, in_place).await {
                Ok(src) => self.cur = Some((RecordReader::new(src, self.delim), idx)),
                Err(OpenErr::Soft(msg)) => {
                    ctx.error(msg).await;
                    self.status = 2;
                }
                Err(OpenErr::Fatal(msg)) => {
                    self.fatal = Some(msg);
                    return None;
                }
            }
        }
    }

    /// The next line and whether it is the last (of its file with `-s`).
    async fn next(&mut self, ctx: &mut CommandCtx, o: &Opts) -> Option<(Line, bool)> {
        let in_place = o.in_place.is_some();
        if !self.primed {
            self.primed = true;
            self.ahead = self.fetch(ctx, in_place).await;
        }
        let line = self.ahead.take()?;
        if o.separate && line.chomped {
            // `$` is the last line of each file.
            let next = self.fetch_same_file(ctx, line.file, in_place).await;
            let last = next.is_none();
            if next.is_some() {
                self.ahead = next;
            } else if self.ahead.is_none() {
                self.ahead = self.fetch(ctx, in_place).await;
            }
            return Some((line, last));
        }
        self.ahead = self.fetch(ctx, in_place).await;
        let last = match &self.ahead {
            None => true,
            Some(n) => o.separate && n.file != line.file,
        };
        Some((line, last))
    }

    /// The next record of file `file` only (for `-s`/`-i`).
    async fn fetch_same_file(
        &mut self,
        ctx: &mut CommandCtx,
        file: usize,
        in_place: bool,
    ) -> Option<Line> {
        match &self.cur {
            Some((_, idx)) if *idx == file => {}
            _ => return None,
        }
        let l = self.fetch(ctx, in_place).await?;
        if l.file == file {
            Some(l)
        } else {
            // Cannot happen: a file's end clears `cur` before another opens.
            self.ahead = Some(l);
            None
        }
    }
}

/// How an open failed.
enum OpenErr {
    /// Reported; the run goes on with status 2.
    Soft(String),
    /// The run stops with status 4.
    Fatal(String),
}

fn display_name(n: &str) -> &str {
    n
}

async fn open(ctx: &mut CommandCtx, name: &str, in_place: bool) -> Result<ByteSource, OpenErr> {
    if name == "-" && !in_place {
        let stdin = std::mem::replace(&mut ctx.stdin, mirage_types::Input::empty());
        return Ok(stdin.into_source());
    }
    let abs = ctx.resolve(name);
    match ctx.vfs.stat(&abs).await {
        Ok(st) if st.is_dir() => {
            return Err(if in_place {
                OpenErr::Fatal(format!("couldn't edit {name}: not a regular file"))
            } else {
                OpenErr::Fatal(format!("read error on {name}: Is a directory"))
            });
        }
        Ok(_) => {}
        Err(e) => return Err(OpenErr::Soft(format!("can't read {name}: {}", e.message()))),
    }
    ctx.read_path(name)
        .await
        .map_err(|e| OpenErr::Soft(format!("can't read {name}: {}", e.message())))
}

/// Output with GNU's "missing newline" memory: a line printed without
/// its newline (the input's last line lacked one) gets it before the next
/// output.
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    missing_newline: bool,
}

impl Out {
    fn fix_newline(&mut self) {
        if self.missing_newline {
            self.buf.push(b'\n');
            self.missing_newline = false;
        }
    }

    fn line(&mut self, data: &[u8], newline: bool, delim: u8) {
        self.fix_newline();
        self.buf.extend_from_slice(data);
        if newline {
            self.buf.push(delim);
        } else {
            self.missing_newline = true;
        }
    }

    fn text(&mut self, data: &[u8]) {
        self.fix_newline();
        self.buf.extend_from_slice(data);
    }
}

/// A `w` file: its path and what was written to it.
struct WFile {
    name: String,
    out: Out,
    /// `/dev/stdout` (1), `/dev/stderr` (2), or a file (0).
    special: u8,
    /// The first write error.
    failed: Option<String>,
}

/// How much a `w` file gathers before it is appended to the file (bytes).
const WFILE_CHUNK: usize = 1 << 20;

/// What the append queue holds.
enum Appended {
    Text(Vec<u8>),
    File(String),
    Line(String),
}

/// How a pass over the script ended.
enum Flow {
    /// The end of the script (or `n`/`N` at the end of input): auto-print.
    End,
    /// `d`, `c`: no auto-print.
    Delete,
    /// `D` with a newline: restart without reading.
    Restart,
    /// `q` (auto-print) or `Q` (none) with the exit status.
    Quit(i32, bool),
}

/// The state of one run.
pub(crate) struct Exec<'s> {
    script: &'s Script,
    o: Opts,
    ps: Vec<u8>,
    hold: Vec<u8>,
    chomped: bool,
    line_no: u64,
    last: bool,
    file: usize,
    replaced: bool,
    range_active: Vec<bool>,
    range_end: Vec<u64>,
    last_re: Option<usize>,
    append: Vec<Appended>,
    out: Out,
    file_out: Out,
    wfiles: Vec<WFile>,
    rfiles: Vec<(String, Vec<u8>, usize)>,
    input: Input,
    caps: Vec<Option<(usize, usize)>>,
    spare: Vec<u8>,
    jumps: u64,
    write_error: Option<String>,
    names: Vec<String>,
    quit: Option<i32>,
    broken: bool,
}

/// The exit status of a run, or the error that stopped it.
pub(crate) async fn run(
    ctx: &mut CommandCtx,
    script: &Script,
    o: Opts,
    files: Vec<String>,
) -> Result<i32, CmdError> {
    let n = script.cmds.len();
    let delim = o.delim;
    let mut ex = Exec {
        script,
        ps: Vec::new(),
        hold: Vec::new(),
        chomped: true,
        line_no: 0,
        last: false,
        file: 0,
        replaced: false,
        range_active: vec![false; n],
        range_end: vec![0; n],
        last_re: None,
        append: Vec::new(),
        out: Out::default(),
        file_out: Out::default(),
        wfiles: Vec::new(),
        rfiles: Vec::new(),
        input: Input {
            names: files.clone(),
            next_name: 0,
            cur: None,
            ahead: None,
            primed: false,
            delim,
            status: 0,
            fatal: None,
        },
        caps: Vec::new(),
        spare: Vec::new(),
        jumps: 0,
        write_error: None,
        names: files,
        quit: None,
        broken: false,
        o,
    };
    ex.open_wfiles(ctx).await?;
    let status = ex.main_loop(ctx).await;
    let wstatus = ex.close_wfiles(ctx).await;
    let status = status?;
    if ex.broken {
        return Ok(ex.input.status.max(status));
    }
    Ok(if wstatus != 0 { wstatus } else { status })
}

impl Exec<'_> {
    async fn open_wfiles(&mut self, ctx: &mut CommandCtx) -> Result<(), CmdError> {
        for name in &self.script.wfiles {
            let special = match name.as_str() {
                "/dev/stdout" => 1,
                "/dev/stderr" => 2,
                _ => 0,
            };
            if special == 0 {
                let abs = ctx.resolve(name);
                if let Err(e) = ctx.vfs.write(&abs, ByteSource::empty()).await {
                    return Err(CmdError::new(
                        4,
                        format!("couldn't open file {name}: {}", e.message()),
                    ));
                }
            }
            self.wfiles.push(WFile {
                name: name.clone(),
                out: Out::default(),
                special,
                failed: None,
            });
        }
        Ok(())
    }

    /// Writes the rest of the `w` files' contents; the status is 4 after
    /// a failure.
    async fn close_wfiles(&mut self, ctx: &mut CommandCtx) -> i32 {
        let mut status = 0;
        for w in 0..self.wfiles.len() {
            if self.wfiles[w].special != 0 {
                continue;
            }
            self.flush_wfile(ctx, w).await;
            if let Some(msg) = self.wfiles[w].failed.take() {
                ctx.error(msg).await;
                status = 4;
            }
        }
        status
    }

    /// Sends the stdout buffer on when it is large (or always with `-u`).
    async fn flush(&mut self, ctx: &mut CommandCtx, force: bool) -> bool {
        if self.out.buf.len() >= 32 * 1024 || (force && !self.out.buf.is_empty()) {
            let data = std::mem::take(&mut self.out.buf);
            let mut res = ctx.stdout.write(&data).await;
            if res.is_ok() && self.o.unbuffered {
                res = ctx.stdout.flush().await;
            }
            if let Err(e) = res {
                if e.kind == ErrorKind::BrokenPipe {
                    self.broken = true;
                } else {
                    self.write_error = Some(format!("couldn't write to stdout: {}", e.message()));
                }
                return false;
            }
            let mut data = data;
            data.clear();
            self.out.buf = data;
        }
        true
    }

    fn cur_out(&mut self) -> &mut Out {
        if self.o.in_place.is_some() {
            &mut self.file_out
        } else {
            &mut self.out
        }
    }

    fn emit_ps(&mut self) {
        let (chomped, delim) = (self.chomped, self.o.delim);
        let ps = std::mem::take(&mut self.ps);
        self.cur_out().line(&ps, chomped, delim);
        self.ps = ps;
    }

    /// Writes the in-place result of the file just finished.
    async fn finish_in_place(&mut self, ctx: &mut CommandCtx, file: usize) -> Result<(), CmdError> {
        let Some(suffix) = self.o.in_place.clone() else {
            return Ok(());
        };
        let name = self.names[file].clone();
        let abs = ctx.resolve(&name);
        if !suffix.is_empty() {
            let backup = if suffix.contains('*') {
                let (dir, base) = match abs.rsplit_once('/') {
                    Some((d, b)) => (d.to_string(), b.to_string()),
                    None => (String::new(), abs.clone()),
                };
                let b = suffix.replace('*', &base);
                if b.contains('/') {
                    ctx.resolve(&b)
                } else {
                    format!("{dir}/{b}")
                }
            } else {
                format!("{abs}{suffix}")
            };
            if let Err(e) = ctx.vfs.rename(&abs, &backup).await {
                return Err(CmdError::new(
                    4,
                    format!("couldn't edit {name}: {}", e.message()),
                ));
            }
        }
        let data = std::mem::take(&mut self.file_out.buf);
        self.file_out.missing_newline = false;
        if let Err(e) = ctx
            .vfs
            .write(&abs, ByteSource::Bytes(Bytes::from(data)))
            .await
        {
            return Err(CmdError::new(
                4,
                format!("couldn't edit {name}: {}", e.message()),
            ));
        }
        Ok(())
    }

    async fn main_loop(&mut self, ctx: &mut CommandCtx) -> Result<i32, CmdError> {
        let mut restart = false;
        let mut cur_file: Option<usize> = None;
        loop {
            if !restart {
                let Some((line, last)) = self.input.next(ctx, &self.o).await else {
                    break;
                };
                if cur_file != Some(line.file) {
                    if let Some(f) = cur_file {
                        self.finish_in_place(ctx, f).await?;
                    }
                    if self.o.separate && cur_file.is_some() {
                        self.line_no = 0;
                    }
                    cur_file = Some(line.file);
                }
                self.file = line.file;
                self.ps.clear();
                self.ps.extend_from_slice(&line.data);
                self.chomped = line.chomped;
                self.last = last;
                self.line_no += 1;
                self.replaced = false;
            }
            restart = false;
            let flow = self.run_script(ctx).await?;
            self.size_check()?;
            match flow {
                Flow::End => {
                    if !self.o.quiet {
                        self.emit_ps();
                    }
                }
                Flow::Delete => {}
                Flow::Restart => restart = true,
                Flow::Quit(code, print) => {
                    // `q` prints and flushes the append queue; `Q` does neither.
                    if print {
                        if !self.o.quiet {
                            self.emit_ps();
                        }
                        self.dump_append(ctx).await;
                    }
                    self.quit = Some(code);
                    break;
                }
            }
            // `D` keeps the append queue for the next read, as GNU does.
            if !restart {
                self.dump_append(ctx).await;
            }
            if !self.flush(ctx, self.o.unbuffered).await {
                return self.after_write_failure();
            }
        }
        if let Some(msg) = self.input.fatal.take() {
            self.flush(ctx, true).await;
            return Err(CmdError::new(4, msg));
        }
        if let Some(f) = cur_file
            && self.o.in_place.is_some()
        {
            self.finish_in_place(ctx, f).await?;
        }
        if !self.flush(ctx, true).await {
            return self.after_write_failure();
        }
        // A missing input file's status 2 wins over `q`'s exit code.
        Ok(match self.quit {
            Some(c) if c != 0 && self.input.status == 0 => c,
            _ => self.input.status,
        })
    }

    /// The end of a run whose output could not be written: quiet for a
    /// closed pipe (the reader went away, as SIGPIPE ends GNU sed), else
    /// GNU's status 4.
    fn after_write_failure(&mut self) -> Result<i32, CmdError> {
        match self.write_error.take() {
            Some(m) => Err(CmdError::new(4, m)),
            None => Ok(self.input.status),
        }
    }

    async fn dump_append(&mut self, ctx: &mut CommandCtx) {
        if self.append.is_empty() {
            return;
        }
        for a in std::mem::take(&mut self.append) {
            match a {
                Appended::Text(t) => self.cur_out().text(&t),
                Appended::File(f) => {
                    if f == "/dev/stdin" {
                        let mut stdin =
                            std::mem::replace(&mut ctx.stdin, mirage_types::Input::empty());
                        if let Ok(b) = stdin.read_all().await {
                            self.cur_out().text(&b);
                        }
                        continue;
                    }
                    let abs = ctx.resolve(&f);
                    let Ok(src) = ctx.vfs.read(&abs).await else {
                        continue;
                    };
                    if let Ok(b) = src.collect().await
                        && !b.is_empty()
                    {
                        self.cur_out().text(&b);
                    }
                }
                Appended::Line(f) => {
                    if let Some(l) = self.read_rline(ctx, &f).await {
                        let delim = self.o.delim;
                        self.cur_out().line(&l, true, delim);
                    }
                }
            }
        }
    }

    /// The next line of `R FILE` (read whole on first use), if any.
    async fn read_rline(&mut self, ctx: &mut CommandCtx, f: &str) -> Option<Vec<u8>> {
        let i = match self.rfiles.iter().position(|(n, _, _)| n == f) {
            Some(i) => i,
            None => {
                let abs = ctx.resolve(f);
                let data = match ctx.vfs.read(&abs).await {
                    Ok(src) => src.collect().await.map(|b| b.to_vec()).unwrap_or_default(),
                    Err(_) => Vec::new(),
                };
                self.rfiles.push((f.to_string(), data, 0));
                self.rfiles.len() - 1
            }
        };
        let delim = self.o.delim;
        let (_, data, pos) = &mut self.rfiles[i];
        if *pos >= data.len() {
            return None;
        }
        let rest = &data[*pos..];
        let end = memchr::memchr(delim, rest).unwrap_or(rest.len());
        let l = rest[..end].to_vec();
        *pos += (end + 1).min(rest.len());
        Some(l)
    }

    fn regex(&mut self, r: Option<usize>) -> Result<&'_ Rx, CmdError> {
        let i = match r {
            Some(i) => {
                self.last_re = Some(i);
                i
            }
            None => self
                .last_re
                .ok_or_else(|| CmdError::new(1, "no previous regular expression"))?,
        };
        Ok(&self.script.regexes[i])
    }

    fn match_a1(&mut self, a: &Addr) -> Result<bool, CmdError> {
        Ok(match a {
            Addr::Line(n) => self.line_no == *n,
            Addr::Last => self.last,
            Addr::Zero => false,
            Addr::Step(first, step) => {
                if *step == 0 {
                    self.line_no == *first
                } else {
                    self.line_no >= *first && (self.line_no - first).is_multiple_of(*step)
                }
            }
            Addr::Re(r) => {
                let ps = std::mem::take(&mut self.ps);
                let m = self.regex(*r)?.is_match(&ps);
                self.ps = ps;
                m
            }
        })
    }

    fn match_re(&mut self, r: Option<usize>) -> Result<bool, CmdError> {
        let ps = std::mem::take(&mut self.ps);
        let m = self.regex(r)?.is_match(&ps);
        self.ps = ps;
        Ok(m)
    }

    /// Whether command `i` applies to the current line (before `!`).
    fn matches(&mut self, i: usize) -> Result<bool, CmdError> {
        let cmd: &Cmd = &self.script.cmds[i];
        let Some(a1) = &cmd.a1 else {
            return Ok(true);
        };
        let Some(a2) = &cmd.a2 else {
            return self.match_a1(a1);
        };
        let l = self.line_no;
        if self.range_active[i] {
            let end = match a2 {
                Addr2::Line(n) => {
                    if l >= *n {
                        self.range_active[i] = false;
                    }
                    return Ok(true);
                }
                Addr2::Plus(_) => l >= self.range_end[i],
                Addr2::Mult(n) => *n == 0 || l.is_multiple_of(*n),
                Addr2::Last => self.last,
                Addr2::Re(r) => self.match_re(*r)?,
            };
            if end {
                self.range_active[i] = false;
            }
            return Ok(true);
        }
        let start = match a1 {
            Addr::Zero => {
                if l == 1 {
                    if let Addr2::Re(r) = a2
                        && self.match_re(*r)?
                    {
                        return Ok(true);
                    }
                    self.range_active[i] = true;
                    return Ok(true);
                }
                false
            }
            a => self.match_a1(a)?,
        };
        if !start {
            return Ok(false);
        }
        let active = match a2 {
            Addr2::Line(n) => *n > l,
            Addr2::Plus(n) => {
                self.range_end[i] = l.saturating_add(*n);
                *n > 0
            }
            Addr2::Mult(n) => *n != 0 && !l.is_multiple_of(*n),
            Addr2::Last => !self.last,
            Addr2::Re(_) => true,
        };
        self.range_active[i] = active;
        Ok(true)
    }

    async fn run_script(&mut self, ctx: &mut CommandCtx) -> Result<Flow, CmdError> {
        let script = self.script;
        let mut pc = 0usize;
        while pc < script.cmds.len() {
            let cmd = &script.cmds[pc];
            let m = self.matches(pc)? != cmd.neg;
            if !m {
                pc = match cmd.kind {
                    Kind::Block(end) => end,
                    _ => pc + 1,
                };
                continue;
            }
            pc += 1;
            match &cmd.kind {
                Kind::Block(_) | Kind::Nop => {}
                Kind::Branch(kind, target) => {
                    let jump = match kind {
                        b't' => std::mem::take(&mut self.replaced),
                        b'T' => !std::mem::take(&mut self.replaced),
                        _ => true,
                    };
                    if jump {
                        if *target < pc {
                            self.loop_check().await?;
                        }
                        pc = *target;
                    }
                }
                Kind::LineNo => {
                    let s = format!("{}\n", self.line_no);
                    self.cur_out().text(s.as_bytes());
                }
                Kind::Append(t) => self.append.push(Appended::Text(t.clone())),
                Kind::Insert(t) => self.cur_out().text(t),
                Kind::Change(t) => {
                    // In a range, the text goes out at its end only.
                    if cmd.a2.is_none() || cmd.neg || !self.range_active[pc - 1] {
                        self.cur_out().text(t);
                    }
                    return Ok(Flow::Delete);
                }
                Kind::Delete => return Ok(Flow::Delete),
                Kind::DeleteFirst => match memchr::memchr(self.o.delim, &self.ps) {
                    None => return Ok(Flow::Delete),
                    Some(i) => {
                        self.ps.drain(..=i);
                        return Ok(Flow::Restart);
                    }
                },
                Kind::GetHold => self.ps.clone_from(&self.hold),
                Kind::GetHoldAppend => {
                    self.ps.push(self.o.delim);
                    self.ps.extend_from_slice(&self.hold);
                }
                Kind::Hold => self.hold.clone_from(&self.ps),
                Kind::HoldAppend => {
                    self.hold.push(self.o.delim);
                    self.hold.extend_from_slice(&self.ps);
                }
                Kind::Exchange => std::mem::swap(&mut self.ps, &mut self.hold),
                Kind::List(n) => {
                    let width = n.unwrap_or(self.o.line_len);
                    let s = list(&self.ps, width);
                    self.cur_out().text(&s);
                }
                Kind::Next => {
                    if self.last || self.input_exhausted() {
                        if self.o.separate && self.input.ahead.is_some() {
                            return Ok(Flow::End);
                        }
                        return Ok(Flow::Quit(0, !self.o.posix));
                    }
                    if !self.o.quiet {
                        self.emit_ps();
                    }
                    if !self.read_next(ctx, false).await {
                        return Ok(Flow::Delete);
                    }
                }
                Kind::NextAppend => {
                    if self.last || self.input_exhausted() {
                        if self.o.posix {
                            return Ok(Flow::Delete);
                        }
                        if self.o.separate && self.input.ahead.is_some() {
                            return Ok(Flow::End);
                        }
                        return Ok(Flow::Quit(0, true));
                    }
                    if !self.read_next(ctx, true).await {
                        return Ok(Flow::End);
                    }
                }
                Kind::Print => self.emit_ps(),
                Kind::PrintFirst => {
                    let end = memchr::memchr(self.o.delim, &self.ps).unwrap_or(self.ps.len());
                    let delim = self.o.delim;
                    let first = self.ps[..end].to_vec();
                    self.cur_out().line(&first, true, delim);
                }
                Kind::Quit(c) => return Ok(Flow::Quit(*c, true)),
                Kind::QuitSilent(c) => return Ok(Flow::Quit(*c, false)),
                Kind::ReadFile(f) => self.append.push(Appended::File(f.clone())),
                Kind::ReadLine(f) => self.append.push(Appended::Line(f.clone())),
                Kind::Write(w) => {
                    let ps = std::mem::take(&mut self.ps);
                    self.write_to(ctx, *w, &ps, self.chomped).await;
                    self.ps = ps;
                }
                Kind::WriteFirst(w) => {
                    let end = memchr::memchr(b'\n', &self.ps).unwrap_or(self.ps.len());
                    let first = self.ps[..end].to_vec();
                    self.write_to(ctx, *w, &first, true).await;
                }
                Kind::Subst(s) => {
                    if self.substitute(s)? {
                        self.replaced = true;
                        if s.print {
                            self.emit_ps();
                        }
                        if let Some(w) = s.wfile {
                            let ps = std::mem::take(&mut self.ps);
                            self.write_to(ctx, w, &ps, self.chomped).await;
                            self.ps = ps;
                        }
                    }
                }
                Kind::Translit(map) => {
                    for b in &mut self.ps {
                        *b = map[*b as usize];
                    }
                }
                Kind::TranslitChars(pairs) => {
                    let mut out = Vec::with_capacity(self.ps.len());
                    let mut i = 0;
                    'outer: while i < self.ps.len() {
                        for (f, t) in pairs {
                            if self.ps[i..].starts_with(f) {
                                out.extend_from_slice(t);
                                i += f.len();
                                continue 'outer;
                            }
                        }
                        out.push(self.ps[i]);
                        i += 1;
                    }
                    self.ps = out;
                }
                Kind::Zap => self.ps.clear(),
                Kind::FileName => {
                    let name = match self.names.get(self.file) {
                        Some(n) => n.clone(),
                        None => "-".to_string(),
                    };
                    let mut s = mirage_types::bytestr::encode(&name).into_owned();
                    s.push(b'\n');
                    self.cur_out().text(&s);
                }
            }
        }
        Ok(Flow::End)
    }

    /// At a backward jump: gives other tasks a turn now and then (so
    /// `timeout` can stop `:a;ba`) and bounds the buffers.
    async fn loop_check(&mut self) -> Result<(), CmdError> {
        self.jumps = self.jumps.wrapping_add(1);
        if self.jumps.is_multiple_of(1024) {
            tokio::task::yield_now().await;
        }
        self.size_check()
    }

    /// The pattern and hold spaces together stay under [`SPACE_LIMIT`];
    /// past it the run stops as GNU sed does when memory runs out.
    fn size_check(&self) -> Result<(), CmdError> {
        if self.ps.len() + self.hold.len() > SPACE_LIMIT {
            return Err(CmdError::new(4, "couldn't re-allocate memory"));
        }
        Ok(())
    }

    fn input_exhausted(&self) -> bool {
        self.input.primed && self.input.ahead.is_none()
    }

    /// Reads the next line into the pattern space (`n`) or after a newline
    /// (`N`); the append queue goes out first. False at the end of input.
    async fn read_next(&mut self, ctx: &mut CommandCtx, append: bool) -> bool {
        self.dump_append(ctx).await;
        let Some((line, last)) = self.input.next(ctx, &self.o).await else {
            return false;
        };
        if append {
            self.ps.push(self.o.delim);
        } else {
            self.ps.clear();
        }
        self.ps.extend_from_slice(&line.data);
        self.chomped = line.chomped;
        self.last = last;
        self.file = line.file;
        self.line_no += 1;
        // A new input line clears the flag `t` tests, as in GNU sed.
        self.replaced = false;
        true
    }

    async fn write_to(&mut self, ctx: &mut CommandCtx, w: usize, data: &[u8], newline: bool) {
        let delim = self.o.delim;
        match self.wfiles[w].special {
            1 => self.out.line(data, newline, delim),
            2 => {
                let mut v = data.to_vec();
                v.push(delim);
                let _ = ctx.stderr.write(&v).await;
            }
            _ => {
                self.wfiles[w].out.line(data, newline, delim);
                // Large outputs go to the file as they grow.
                if self.wfiles[w].out.buf.len() >= WFILE_CHUNK {
                    self.flush_wfile(ctx, w).await;
                }
            }
        }
    }

    /// Appends what `w` file `w` gathered to it; a failure is kept for
    /// the end of the run.
    async fn flush_wfile(&mut self, ctx: &mut CommandCtx, w: usize) {
        let data = std::mem::take(&mut self.wfiles[w].out.buf);
        if data.is_empty() || self.wfiles[w].failed.is_some() {
            return;
        }
        let abs = ctx.resolve(&self.wfiles[w].name);
        if let Err(e) = ctx
            .vfs
            .append(&abs, ByteSource::Bytes(Bytes::from(data)))
            .await
        {
            self.wfiles[w].failed = Some(format!(
                "couldn't write to {}: {}",
                self.wfiles[w].name,
                e.message()
            ));
        }
    }

    /// Runs `s`; true when a replacement was made.
    fn substitute(&mut self, s: &super::parse::Subst) -> Result<bool, CmdError> {
        let ps = std::mem::take(&mut self.ps);
        let mut caps = std::mem::take(&mut self.caps);
        // The result is built in a spare buffer kept between lines.
        let mut out = std::mem::take(&mut self.spare);
        out.clear();
        let re = match self.regex(s.re) {
            Ok(r) => r,
            Err(e) => {
                self.ps = ps;
                self.caps = caps;
                self.spare = out;
                return Err(e);
            }
        };

        let mut pos = 0usize;
        let mut copied = 0usize;
        let mut count = 0u64;
        let mut prev_end: Option<usize> = None;
        let mut did = false;
        while pos <= ps.len() {
            let found = if s.needs_groups {
                if re.captures_at(&ps, pos, &mut caps) {
                    caps[0]
                } else {
                    None
                }
            } else {
                re.find_at(&ps, pos)
            };
            let Some((ms, me)) = found else {
                break;
            };
            if ms == me && prev_end == Some(ms) {
                // An empty match right after a match does not count.
                if ms >= ps.len() {
                    break;
                }
                pos = ms + char_len(&ps[ms..]);
                continue;
            }
            count += 1;
            prev_end = Some(me);
            if count >= s.nth {
                out.extend_from_slice(&ps[copied..ms]);
                if s.needs_groups {
                    expand(&s.repl, &ps, &caps, &mut out);
                } else {
                    for r in &s.repl {
                        match r {
                            Repl::Lit(l) => out.extend_from_slice(l),
                            Repl::Group(_) => out.extend_from_slice(&ps[ms..me]),
                            Repl::Case(_) => {}
                        }
                    }
                }
                copied = me;
                did = true;
                if !s.global {
                    break;
                }
            }
            if ms == me {
                if ms >= ps.len() {
                    break;
                }
                pos = ms + char_len(&ps[ms..]);
            } else {
                pos = me;
            }
        }
        self.caps = caps;
        if did {
            out.extend_from_slice(&ps[copied..]);
            self.ps = out;
            self.spare = ps;
        } else {
            self.ps = ps;
            self.spare = out;
        }
        Ok(did)
    }
}

/// The length of the UTF-8 character at the start of `b` (1 for a stray byte).
fn char_len(b: &[u8]) -> usize {
    let n = match b.first() {
        Some(&c) if c < 0x80 => 1,
        Some(&c) if c >= 0xf0 => 4,
        Some(&c) if c >= 0xe0 => 3,
        Some(&c) if c >= 0xc0 => 2,
        _ => 1,
    };
    if n > 1 && std::str::from_utf8(&b[..n.min(b.len())]).is_err() {
        1
    } else {
        n.min(b.len()).max(1)
    }
}

/// Expands a replacement with case conversions.
fn expand(repl: &[Repl], ps: &[u8], caps: &[Option<(usize, usize)>], out: &mut Vec<u8>) {
    let mut persistent: Option<CaseOp> = None;
    let mut one: Option<CaseOp> = None;
    for r in repl {
        let text: &[u8] = match r {
            Repl::Lit(l) => l,
            Repl::Group(g) => match caps.get(*g).copied().flatten() {
                Some((s, e)) => &ps[s..e],
                None => &[],
            },
            Repl::Case(c) => {
                match c {
                    CaseOp::Upper | CaseOp::Lower => {
                        persistent = Some(*c);
                        one = None;
                    }
                    CaseOp::UpperOne | CaseOp::LowerOne => one = Some(*c),
                    CaseOp::End => {
                        persistent = None;
                        one = None;
                    }
                }
                continue;
            }
        };
        if persistent.is_none() && one.is_none() {
            out.extend_from_slice(text);
            continue;
        }
        for chunk in text.utf8_chunks() {
            for ch in chunk.valid().chars() {
                let op = one.take().or(persistent);
                let mut buf = [0u8; 4];
                match op {
                    Some(CaseOp::Upper | CaseOp::UpperOne) => {
                        for u in ch.to_uppercase() {
                            out.extend_from_slice(u.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    Some(CaseOp::Lower | CaseOp::LowerOne) => {
                        for u in ch.to_lowercase() {
                            out.extend_from_slice(u.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    _ => out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes()),
                }
            }
            out.extend_from_slice(chunk.invalid());
        }
    }
}

/// The `l` command's rendering: C escapes, octal for other bytes, lines
/// wrapped with `\` before `width` columns (0 or 1: no wrapping), `$` at
/// the end.
pub(super) fn list(ps: &[u8], width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(ps.len() + 8);
    let mut col = 0usize;
    for &b in ps {
        let esc: Vec<u8> = match b {
            b'\\' => b"\\\\".to_vec(),
            0x07 => b"\\a".to_vec(),
            0x08 => b"\\b".to_vec(),
            0x0c => b"\\f".to_vec(),
            b'\n' => b"\\n".to_vec(),
            b'\r' => b"\\r".to_vec(),
            b'\t' => b"\\t".to_vec(),
            0x0b => b"\\v".to_vec(),
            0x20..=0x7e => vec![b],
            _ => format!("\\{b:03o}").into_bytes(),
        };
        if width > 1 && col + esc.len() > width - 1 {
            out.extend_from_slice(b"\\\n");
            col = 0;
        }
        col += esc.len();
        out.extend_from_slice(&esc);
    }
    out.extend_from_slice(b"$\n");
    out
}
