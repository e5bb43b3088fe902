//! The awk interpreter: runs a [`Program`] over records read through an
//! [`Io`], with gawk's semantics for fields, conversions and output.

use std::collections::HashMap;
use std::rc::Rc;

use mirage_regex::{Options, PosixRegex, Syntax};

use crate::parser::{self, BinOp, Expr, GetlineSrc, LValue, Pattern, Program, Redir, Stmt, Var};
use crate::value::{Array, Value, compare, num_to_str};

/// An output stream of the awk process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The reader has gone: stop quietly, as SIGPIPE stops gawk.
    BrokenPipe,
    /// Another error (its message).
    Other(String),
}

/// Everything the interpreter does outside itself. The command provides
/// it; nothing here touches the host.
pub trait Io {
    /// Opens `path` for reading (`-` and `/dev/stdin` are standard input);
    /// returns a handle. The error is the system message
    /// (`No such file or directory`).
    fn open(&mut self, path: &[u8]) -> Result<u32, String>;
    /// The next chunk of an open input; `None` at its end.
    fn read(&mut self, h: u32) -> Result<Option<Vec<u8>>, String>;
    /// Closes an input.
    fn close(&mut self, h: u32);
    /// Writes to standard output or error.
    fn write(&mut self, to: Stream, data: Vec<u8>) -> Result<(), WriteError>;
    /// Writes (`append == false`: truncates first) a file.
    fn write_file(&mut self, path: &[u8], append: bool, data: Vec<u8>) -> Result<(), String>;
    /// Runs a command line (`system()`, `print | cmd`, `cmd | getline`):
    /// `input` is its stdin; with `capture` its stdout is returned,
    /// otherwise it goes to our stdout. Returns the exit status. The error
    /// is a message (for example that commands are not supported).
    fn run(&mut self, cmd: &[u8], input: Vec<u8>, capture: bool) -> Result<(i32, Vec<u8>), String>;
    /// Whether the run was cancelled (the command was dropped).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Why the interpreter stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fatal {
    /// A fatal error (gawk's message after `fatal: `).
    Error(String),
    /// The output reader has gone.
    BrokenPipe,
    /// `exit` ran inside a function: unwinds to the rule (never returned
    /// by [`Interp::run`]).
    Exit,
}

type R<T> = Result<T, Fatal>;

/// The largest field number a program may create (`$N = v`, `NF = N`).
const MAX_FIELDS: usize = 1 << 24;

/// The largest printf width or precision honoured (bytes).
const MAX_WIDTH: usize = 1 << 24;

fn fatal<T>(msg: impl Into<String>) -> R<T> {
    Err(Fatal::Error(msg.into()))
}

enum Flow {
    Normal,
    Break,
    Continue,
    Next,
    NextFile,
    Exit,
    Return(Value),
}

enum Local {
    Val(Value),
    Arr(usize),
}

/// How records are separated.
#[derive(Clone)]
enum RsMode {
    Byte(u8),
    Para,
    Regex(Rc<PosixRegex>),
}

/// A buffered record reader over an [`Io`] input.
struct Reader {
    h: u32,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Reader {
    fn new(h: u32) -> Reader {
        Reader {
            h,
            buf: Vec::new(),
            pos: 0,
            eof: false,
        }
    }

    fn fill(&mut self, io: &mut dyn Io) -> R<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        match io.read(self.h) {
            Ok(Some(c)) => {
                if self.buf.is_empty() {
                    self.buf = c;
                } else {
                    self.buf.extend_from_slice(&c);
                }
                Ok(true)
            }
            Ok(None) => {
                self.eof = true;
                Ok(false)
            }
            Err(e) => {
                self.eof = true;
                fatal(e)
            }
        }
    }

    /// The next record into `out` (terminator dropped); `rt` gets the terminator.
    fn next(
        &mut self,
        io: &mut dyn Io,
        rs: &RsMode,
        out: &mut Vec<u8>,
        rt: &mut Vec<u8>,
    ) -> R<bool> {
        out.clear();
        rt.clear();
        match rs {
            RsMode::Byte(b) => {
                let mut from = self.pos;
                loop {
                    if let Some(i) = memchr::memchr(*b, &self.buf[from..]) {
                        let end = from + i;
                        out.extend_from_slice(&self.buf[self.pos..end]);
                        rt.push(*b);
                        self.pos = end + 1;
                        return Ok(true);
                    }
                    let seen = self.buf.len() - self.pos;
                    if !self.fill(io)? {
                        if self.pos < self.buf.len() {
                            out.extend_from_slice(&self.buf[self.pos..]);
                            self.pos = self.buf.len();
                            return Ok(true);
                        }
                        return Ok(false);
                    }
                    from = self.pos + seen;
                }
            }
            RsMode::Para => {
                loop {
                    while self.pos < self.buf.len() && self.buf[self.pos] == b'\n' {
                        self.pos += 1;
                    }
                    if self.pos < self.buf.len() || !self.fill(io)? {
                        break;
                    }
                }
                if self.pos >= self.buf.len() {
                    return Ok(false);
                }
                loop {
                    let hay = &self.buf[self.pos..];
                    if let Some(i) = memchr::memmem::find(hay, b"\n\n") {
                        let mut j = i;
                        while j < hay.len() && hay[j] == b'\n' {
                            j += 1;
                        }
                        if j < hay.len() || self.eof {
                            out.extend_from_slice(&hay[..i]);
                            rt.extend_from_slice(&hay[i..j]);
                            self.pos += j;
                            return Ok(true);
                        }
                    }
                    if !self.fill(io)? {
                        let hay = &self.buf[self.pos..];
                        let mut end = hay.len();
                        while end > 0 && hay[end - 1] == b'\n' {
                            end -= 1;
                        }
                        out.extend_from_slice(&hay[..end]);
                        rt.extend_from_slice(&hay[end..]);
                        self.pos = self.buf.len();
                        return Ok(true);
                    }
                }
            }
            RsMode::Regex(re) => loop {
                let hay = &self.buf[self.pos..];
                if let Some(m) = re.find_at(hay, 0).filter(|m| m.end > m.start)
                    && (m.end < hay.len() || self.eof)
                {
                    out.extend_from_slice(&hay[..m.start]);
                    rt.extend_from_slice(&hay[m.start..m.end]);
                    self.pos += m.end;
                    return Ok(true);
                }
                if !self.fill(io)? {
                    if self.pos < self.buf.len() {
                        out.extend_from_slice(&self.buf[self.pos..]);
                        self.pos = self.buf.len();
                        return Ok(true);
                    }
                    return Ok(false);
                }
            },
        }
    }
}

struct OutFile {
    buf: Vec<u8>,
    redir: Redir,
    order: usize,
}

/// The awk interpreter.
pub struct Interp<'a> {
    prog: Rc<Program>,
    io: &'a mut dyn Io,
    globals: Vec<Value>,
    arrays: Vec<Array>,
    locals: Vec<Local>,
    base: usize,
    record: Vec<u8>,
    scratch: Vec<u8>,
    fields: Vec<Vec<u8>>,
    nf: usize,
    split_done: bool,
    nr: f64,
    fnr: f64,
    fs: Vec<u8>,
    ofs: Vec<u8>,
    ors: Vec<u8>,
    subsep: Vec<u8>,
    convfmt: Vec<u8>,
    ofmt: Vec<u8>,
    rs: RsMode,
    fs_regex: Option<Rc<PosixRegex>>,
    lit_regex: Vec<Rc<PosixRegex>>,
    regex_cache: HashMap<Vec<u8>, Rc<PosixRegex>>,
    out: Vec<u8>,
    files: HashMap<Vec<u8>, OutFile>,
    readers: HashMap<Vec<u8>, Reader>,
    cmd_readers: HashMap<Vec<u8>, (Vec<u8>, usize)>,
    main: Option<Reader>,
    argi: usize,
    main_done: bool,
    used_file_operand: bool,
    range_on: Vec<bool>,
    exit_code: i32,
    exiting: bool,
    rand_seed: f64,
    rand_state: u64,
    rt: Vec<u8>,
    depth: usize,
    steps: u32,
}

/// awk's escapes in a regex (`\t`, `\n`, `\/`, `\"`, octal, gawk's
/// `\y`) turned into what the ERE engine reads; other escapes are kept.
fn regex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&n) = it.peek() else {
            out.push('\\');
            break;
        };
        let lit = match n {
            't' => Some('\t'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            'a' => Some('\x07'),
            '/' => Some('/'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(l) = lit {
            it.next();
            out.push(l);
        } else if n == 'y' {
            it.next();
            out.push_str("\\b");
        } else if n.is_digit(8) {
            let mut v = 0u32;
            let mut k = 0;
            while k < 3 && it.peek().is_some_and(|d| d.is_digit(8)) {
                v = v * 8 + it.next().and_then(|d| d.to_digit(8)).unwrap_or(0);
                k += 1;
            }
            let ch = char::from_u32(v).unwrap_or('\0');
            if "\\^$.[]|()*+?{}".contains(ch) {
                out.push('\\');
            }
            out.push(ch);
        } else {
            it.next();
            out.push('\\');
            out.push(n);
        }
    }
    out
}

fn regex(pat: &[u8]) -> R<PosixRegex> {
    let s = regex_escapes(&mirage_types::bytestr::decode(pat));
    PosixRegex::new(&s, Syntax::Extended, &Options::default())
        .map_err(|e| Fatal::Error(format!("{}: /{s}/", e.message())))
}

impl<'a> Interp<'a> {
    /// A fresh interpreter for `prog`: `argv` is `ARGV` (`argv[0]` is `awk`),
    /// `env` fills `ENVIRON`, `assigns` are the `-v` assignments (applied
    /// before `BEGIN`).
    ///
    /// # Errors
    /// A bad regex literal in the program.
    pub fn new(
        prog: Program,
        io: &'a mut dyn Io,
        argv: &[Vec<u8>],
        env: &[(Vec<u8>, Vec<u8>)],
        assigns: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<Interp<'a>, Fatal> {
        let n = prog.globals.len();
        let lit_regex = prog
            .regexes
            .iter()
            .map(|r| regex(r.as_bytes()).map(Rc::new))
            .collect::<R<Vec<_>>>()?;
        let ranges = prog.ranges;
        let mut it = Interp {
            prog: Rc::new(prog),
            io,
            globals: vec![Value::Uninit; n],
            arrays: (0..n).map(|_| Array::default()).collect(),
            locals: Vec::new(),
            base: 0,
            record: Vec::new(),
            scratch: Vec::new(),
            fields: Vec::new(),
            nf: 0,
            split_done: true,
            nr: 0.0,
            fnr: 0.0,
            fs: b" ".to_vec(),
            ofs: b" ".to_vec(),
            ors: b"\n".to_vec(),
            subsep: b"\x1c".to_vec(),
            convfmt: b"%.6g".to_vec(),
            ofmt: b"%.6g".to_vec(),
            rs: RsMode::Byte(b'\n'),
            fs_regex: None,
            lit_regex,
            regex_cache: HashMap::new(),
            out: Vec::with_capacity(64 * 1024),
            files: HashMap::new(),
            readers: HashMap::new(),
            cmd_readers: HashMap::new(),
            main: None,
            argi: 1,
            main_done: false,
            used_file_operand: false,
            range_on: vec![false; ranges],
            exit_code: 0,
            exiting: false,
            rand_seed: 0.0,
            rand_state: 0x2545_F491_4F6C_DD1D,
            rt: Vec::new(),
            depth: 0,
            steps: 0,
        };
        let s = |b: &[u8]| Value::Str(b.to_vec());
        it.globals[parser::NR] = Value::Num(0.0);
        it.globals[parser::FNR] = Value::Num(0.0);
        it.globals[parser::NF] = Value::Num(0.0);
        it.globals[parser::FS] = s(b" ");
        it.globals[parser::OFS] = s(b" ");
        it.globals[parser::ORS] = s(b"\n");
        it.globals[parser::RS] = s(b"\n");
        it.globals[parser::SUBSEP] = s(b"\x1c");
        it.globals[parser::CONVFMT] = s(b"%.6g");
        it.globals[parser::OFMT] = s(b"%.6g");
        it.globals[parser::RSTART] = Value::Num(0.0);
        it.globals[parser::RLENGTH] = Value::Num(-1.0);
        for (k, v) in env {
            it.arrays[parser::ENVIRON].set(k.clone(), Value::StrNum(v.clone()));
        }
        for (i, a) in argv.iter().enumerate() {
            it.arrays[parser::ARGV].set(i.to_string().into_bytes(), Value::StrNum(a.clone()));
        }
        #[allow(clippy::cast_precision_loss)]
        let argc = argv.len() as f64;
        it.globals[parser::ARGC] = Value::Num(argc);
        it.arrays[parser::PROCINFO].set(b"version".to_vec(), Value::Str(b"5.2.1".to_vec()));
        for (name, val) in assigns {
            it.assign_operand(name, val)?;
        }
        Ok(it)
    }

    /// Runs the program: `BEGIN`, the records, `END`. Returns the exit status.
    ///
    /// # Errors
    /// A fatal runtime error or a closed output.
    pub fn run(&mut self) -> R<i32> {
        let prog = self.prog.clone();
        let r = self.run_inner(&prog);
        let flushed = self.close_all();
        r?;
        flushed?;
        Ok(self.exit_code)
    }

    /// Runs an action; `exit` inside a function becomes [`Flow::Exit`].
    fn action(&mut self, body: &[Stmt]) -> R<Flow> {
        match self.block(body) {
            Err(Fatal::Exit) => Ok(Flow::Exit),
            other => other,
        }
    }

    /// Evaluates a pattern; `exit` inside a function sets `exiting` and
    /// gives `false`.
    fn pattern(&mut self, e: &Expr) -> R<bool> {
        match self.cond(e) {
            Err(Fatal::Exit) => {
                self.exiting = true;
                Ok(false)
            }
            other => other,
        }
    }

    /// Writes a gawk warning (`awk: cmd. line:1: warning: MSG`) to stderr.
    fn warn(&mut self, msg: &str) {
        let line = format!("awk: cmd. line:1: warning: {msg}\n");
        let _ = self.io.write(Stream::Stderr, line.into_bytes());
    }

    /// The context gawk adds to a fatal error once a record was read:
    /// `(FILENAME=f FNR=n) ` (`-` for standard input), else empty.
    #[must_use]
    pub fn error_context(&self) -> String {
        if self.nr <= 0.0 && self.fnr <= 0.0 {
            return String::new();
        }
        let f = self.globals[parser::FILENAME].to_bytes(&self.convfmt);
        let f = if f.is_empty() { b"-".to_vec() } else { f };
        format!(
            "(FILENAME={} FNR={}) ",
            String::from_utf8_lossy(&f),
            String::from_utf8_lossy(&num_to_str(self.fnr, b"%.6g"))
        )
    }

    fn run_inner(&mut self, prog: &Program) -> R<()> {
        for rule in &prog.rules {
            if let Pattern::Begin = rule.pattern
                && let Some(body) = &rule.action
                && let Flow::Exit = self.action(body)?
            {
                break;
            }
        }
        let needs_input = prog
            .rules
            .iter()
            .any(|r| !matches!(r.pattern, Pattern::Begin));
        if !self.exiting && needs_input {
            'records: while self.next_main_record()? {
                for rule in &prog.rules {
                    let run = match &rule.pattern {
                        Pattern::Begin | Pattern::End => false,
                        Pattern::All => true,
                        Pattern::Expr(e) => self.pattern(e)?,
                        Pattern::Range(a, b, i) => {
                            if self.range_on[*i] {
                                if self.pattern(b)? {
                                    self.range_on[*i] = false;
                                }
                                true
                            } else if self.pattern(a)? {
                                if !self.pattern(b)? {
                                    self.range_on[*i] = true;
                                }
                                true
                            } else {
                                false
                            }
                        }
                    };
                    if self.exiting {
                        break 'records;
                    }
                    if !run {
                        continue;
                    }
                    let flow = match &rule.action {
                        Some(body) => self.action(body)?,
                        None => {
                            self.print_record()?;
                            Flow::Normal
                        }
                    };
                    match flow {
                        Flow::Next => continue 'records,
                        Flow::NextFile => {
                            if let Some(r) = self.main.take() {
                                self.io.close(r.h);
                            }
                            continue 'records;
                        }
                        Flow::Exit => break 'records,
                        _ => {}
                    }
                }
            }
        }
        if self.exiting && !self.in_end_allowed() {
            return Ok(());
        }
        self.exiting = false;
        for rule in &prog.rules {
            if let Pattern::End = rule.pattern
                && let Some(body) = &rule.action
                && let Flow::Exit = self.action(body)?
            {
                break;
            }
        }
        Ok(())
    }

    fn in_end_allowed(&self) -> bool {
        true
    }

    fn print_record(&mut self) -> R<()> {
        self.out.extend_from_slice(&self.record);
        self.out.extend_from_slice(&self.ors);
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> R<()> {
        if self.out.len() >= 32 * 1024 {
            self.flush_stdout()?;
        }
        Ok(())
    }

    fn flush_stdout(&mut self) -> R<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.out, Vec::with_capacity(64 * 1024));
        self.io.write(Stream::Stdout, data).map_err(|e| match e {
            WriteError::BrokenPipe => Fatal::BrokenPipe,
            WriteError::Other(m) => Fatal::Error(m),
        })
    }

    fn close_all(&mut self) -> R<()> {
        // as gawk: the pipes and files are closed first, then stdout flushed
        let mut names: Vec<(usize, Vec<u8>)> = self
            .files
            .iter()
            .map(|(k, f)| (f.order, k.clone()))
            .collect();
        names.sort();
        let mut r = Ok(());
        for (_, n) in names {
            if let Err(e) = self.close_output(&n) {
                r = Err(e);
                break;
            }
        }
        let flushed = self.flush_stdout();
        let r = r.and(flushed);
        if let Some(r) = self.main.take() {
            self.io.close(r.h);
        }
        for (_, r) in self.readers.drain() {
            self.io.close(r.h);
        }
        r
    }

    /// Sets a variable from a `name=value` operand or `-v` (escapes processed, strnum).
    fn assign_operand(&mut self, name: &[u8], val: &[u8]) -> R<()> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < val.len() {
            if val[i] == b'\\' && i + 1 < val.len() {
                let c = val[i + 1];
                let m = match c {
                    b'n' => Some(b'\n'),
                    b't' => Some(b'\t'),
                    b'r' => Some(b'\r'),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    b'/' => Some(b'/'),
                    b'a' => Some(7),
                    b'b' => Some(8),
                    b'f' => Some(12),
                    b'v' => Some(11),
                    _ => None,
                };
                if let Some(m) = m {
                    v.push(m);
                    i += 2;
                    continue;
                }
            }
            v.push(val[i]);
            i += 1;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let idx = self.prog.globals.iter().position(|g| *g == name);
        if let Some(g) = idx {
            self.set_var(Var::Global(g), Value::StrNum(v))?;
        }
        Ok(())
    }

    // ---- main input ----

    fn next_main_record(&mut self) -> R<bool> {
        loop {
            if self.main.is_none() && !self.open_next_main()? {
                return Ok(false);
            }
            let rs = self.rs.clone();
            let mut rec = std::mem::take(&mut self.scratch);
            let mut rt = std::mem::take(&mut self.rt);
            let Some(reader) = self.main.as_mut() else {
                return Ok(false);
            };
            let got = reader.next(&mut *self.io, &rs, &mut rec, &mut rt);
            self.rt = rt;
            if got? {
                // the last record stays in $0 for END
                self.scratch = std::mem::replace(&mut self.record, rec);
                self.split_done = false;
                self.nr += 1.0;
                self.fnr += 1.0;
                self.globals[parser::NR] = Value::Num(self.nr);
                self.globals[parser::FNR] = Value::Num(self.fnr);
                return Ok(true);
            }
            self.scratch = rec;
            if let Some(r) = self.main.take() {
                self.io.close(r.h);
            }
        }
    }

    fn open_next_main(&mut self) -> R<bool> {
        if self.main_done {
            return Ok(false);
        }
        loop {
            let argc = self.globals[parser::ARGC].num();
            #[allow(clippy::cast_precision_loss)]
            if self.argi as f64 >= argc {
                self.main_done = true;
                if self.used_file_operand {
                    return Ok(false);
                }
                self.used_file_operand = true;
                let h = self.io.open(b"-").map_err(Fatal::Error)?;
                self.main = Some(Reader::new(h));
                self.fnr = 0.0;
                return Ok(true);
            }
            let key = self.argi.to_string().into_bytes();
            self.argi += 1;
            let arg = match self.arrays[parser::ARGV].get(&key) {
                Some(v) => v.to_bytes(&self.convfmt),
                None => continue,
            };
            if arg.is_empty() {
                continue;
            }
            if let Some(eq) = arg.iter().position(|&b| b == b'=')
                && eq > 0
                && (arg[0].is_ascii_alphabetic() || arg[0] == b'_')
                && arg[..eq]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                self.assign_operand(&arg[..eq], &arg[eq + 1..])?;
                continue;
            }
            self.used_file_operand = true;
            match self.io.open(&arg) {
                Ok(h) => {
                    self.main = Some(Reader::new(h));
                    self.fnr = 0.0;
                    self.globals[parser::FILENAME] = Value::Str(arg);
                    return Ok(true);
                }
                Err(e) => {
                    let name = String::from_utf8_lossy(&arg).into_owned();
                    if e == "Is a directory" {
                        // gawk: a warning, then the next operand
                        self.flush_stdout()?;
                        let msg = format!(
                            "awk: warning: command line argument `{name}' is a directory: skipped\n"
                        );
                        let _ = self.io.write(Stream::Stderr, msg.into_bytes());
                        continue;
                    }
                    // gawk stops at once, without the END rules
                    return fatal(format!(
                        "\0fatal: cannot open file `{name}' for reading: {e}"
                    ));
                }
            }
        }
    }

    // ---- fields ----

    fn split_record(&mut self) {
        if self.split_done {
            return;
        }
        self.split_done = true;
        let rec = std::mem::take(&mut self.record);
        let mut fields = std::mem::take(&mut self.fields);
        let n = self.split_into(&rec, &mut fields);
        self.nf = n;
        self.fields = fields;
        self.record = rec;
        #[allow(clippy::cast_precision_loss)]
        let nf = n as f64;
        self.globals[parser::NF] = Value::Num(nf);
    }

    /// Splits `s` by FS into `out` (reusing its buffers); returns the count.
    fn split_into(&self, s: &[u8], out: &mut Vec<Vec<u8>>) -> usize {
        let mut n = 0;
        let mut push = |f: &[u8], n: &mut usize| {
            if *n < out.len() {
                out[*n].clear();
                out[*n].extend_from_slice(f);
            } else {
                out.push(f.to_vec());
            }
            *n += 1;
        };
        if s.is_empty() {
            return 0;
        }
        split_with(s, &self.fs, self.fs_regex.as_deref(), |f| push(f, &mut n));
        n
    }

    fn get_field(&mut self, i: usize) -> Value {
        if i == 0 {
            return Value::StrNum(self.record.clone());
        }
        self.split_record();
        if i <= self.nf {
            Value::StrNum(self.fields[i - 1].clone())
        } else {
            Value::Uninit
        }
    }

    fn field_index(&mut self, e: &Expr) -> R<usize> {
        let v = self.eval_num(e)?;
        if v < 0.0 {
            return fatal(format!("attempt to access field {}", v as i64));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(v as usize)
    }

    fn set_field(&mut self, i: usize, v: Vec<u8>) -> R<()> {
        if i > MAX_FIELDS {
            return fatal(format!("attempt to access field {i}"));
        }
        if i == 0 {
            self.record = v;
            self.split_done = false;
            return Ok(());
        }
        self.split_record();
        while self.nf < i {
            if self.nf < self.fields.len() {
                self.fields[self.nf].clear();
            } else {
                self.fields.push(Vec::new());
            }
            self.nf += 1;
        }
        self.fields[i - 1] = v;
        self.rebuild_record();
        Ok(())
    }

    fn rebuild_record(&mut self) {
        let mut rec = Vec::with_capacity(self.record.len() + 16);
        for (k, f) in self.fields[..self.nf].iter().enumerate() {
            if k > 0 {
                rec.extend_from_slice(&self.ofs);
            }
            rec.extend_from_slice(f);
        }
        self.record = rec;
        #[allow(clippy::cast_precision_loss)]
        let nf = self.nf as f64;
        self.globals[parser::NF] = Value::Num(nf);
    }

    fn set_nf(&mut self, n: f64) -> R<()> {
        if n < 0.0 {
            return fatal("NF set to negative value");
        }
        #[allow(clippy::cast_precision_loss)]
        if n > MAX_FIELDS as f64 {
            return fatal(format!("NF set to too large a value {n}"));
        }
        self.split_record();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = n as usize;
        while self.fields.len() < n {
            self.fields.push(Vec::new());
        }
        for f in self.fields.iter_mut().take(n).skip(self.nf) {
            f.clear();
        }
        self.nf = n;
        self.rebuild_record();
        Ok(())
    }

    // ---- variables ----

    fn get_var(&mut self, v: Var) -> Value {
        match v {
            Var::Global(parser::NF) => {
                self.split_record();
                self.globals[parser::NF].clone()
            }
            Var::Global(g) => self.globals[g].clone(),
            Var::Local(i) => match &self.locals[self.base + i] {
                Local::Val(v) => v.clone(),
                Local::Arr(_) => Value::Uninit,
            },
        }
    }

    fn set_var(&mut self, v: Var, val: Value) -> R<()> {
        match v {
            Var::Local(i) => {
                self.locals[self.base + i] = Local::Val(val);
                Ok(())
            }
            Var::Global(g) => {
                if g < parser::SPECIALS.len() {
                    return self.set_special(g, val);
                }
                self.globals[g] = val;
                Ok(())
            }
        }
    }

    fn set_special(&mut self, g: usize, val: Value) -> R<()> {
        let cf = self.convfmt.clone();
        match g {
            parser::NF => {
                let n = val.num();
                self.set_nf(n)?;
                return Ok(());
            }
            parser::NR => self.nr = val.num().trunc(),
            parser::FNR => self.fnr = val.num().trunc(),
            parser::FS => {
                self.fs = val.to_bytes(&cf);
                self.fs_regex = if self.fs.len() > 1 && self.fs != b" " {
                    Some(self.regex_for(&self.fs.clone())?)
                } else {
                    None
                };
            }
            parser::OFS => self.ofs = val.to_bytes(&cf),
            parser::ORS => self.ors = val.to_bytes(&cf),
            parser::SUBSEP => self.subsep = val.to_bytes(&cf),
            parser::CONVFMT => self.convfmt = val.to_bytes(&cf),
            parser::OFMT => self.ofmt = val.to_bytes(&cf),
            parser::RS => {
                let rs = val.to_bytes(&cf);
                self.rs = match rs.len() {
                    0 => RsMode::Para,
                    1 => RsMode::Byte(rs[0]),
                    _ => RsMode::Regex(self.regex_for(&rs)?),
                };
            }
            _ => {}
        }
        self.globals[g] = val;
        Ok(())
    }

    fn array_id(&mut self, v: Var) -> usize {
        match v {
            Var::Global(g) => g,
            Var::Local(i) => match self.locals[self.base + i] {
                Local::Arr(id) => id,
                Local::Val(_) => {
                    let id = self.arrays.len();
                    self.arrays.push(Array::default());
                    self.locals[self.base + i] = Local::Arr(id);
                    id
                }
            },
        }
    }

    fn subscript(&mut self, subs: &[Expr]) -> R<Vec<u8>> {
        if subs.len() == 1 {
            return self.eval_str(&subs[0]);
        }
        let mut k = Vec::new();
        for (i, s) in subs.iter().enumerate() {
            if i > 0 {
                k.extend_from_slice(&self.subsep.clone());
            }
            let b = self.eval_str(s)?;
            k.extend_from_slice(&b);
        }
        Ok(k)
    }

    fn get_lv(&mut self, lv: &LValue) -> R<Value> {
        match lv {
            LValue::Var(v) => Ok(self.get_var(*v)),
            LValue::Field(e) => {
                let i = self.field_index(e)?;
                Ok(self.get_field(i))
            }
            LValue::Index(v, subs) => {
                let k = self.subscript(subs)?;
                let id = self.array_id(*v);
                Ok(self.arrays[id].entry(k).clone())
            }
        }
    }

    fn set_lv(&mut self, lv: &LValue, val: Value) -> R<()> {
        match lv {
            LValue::Var(v) => self.set_var(*v, val),
            LValue::Field(e) => {
                let i = self.field_index(e)?;
                let b = val.into_bytes(&self.convfmt);
                self.set_field(i, b)
            }
            LValue::Index(v, subs) => {
                let k = self.subscript(subs)?;
                let id = self.array_id(*v);
                self.arrays[id].set(k, val);
                Ok(())
            }
        }
    }

    // ---- regexes ----

    fn regex_for(&mut self, pat: &[u8]) -> R<Rc<PosixRegex>> {
        if let Some(r) = self.regex_cache.get(pat) {
            return Ok(r.clone());
        }
        let r = Rc::new(regex(pat)?);
        if self.regex_cache.len() > 500 {
            self.regex_cache.clear();
        }
        self.regex_cache.insert(pat.to_vec(), r.clone());
        Ok(r)
    }

    /// The regex an expression denotes (a literal, or its string value).
    fn regex_of(&mut self, e: &Expr) -> R<Rc<PosixRegex>> {
        match e {
            Expr::Regex(i) => Ok(self.lit_regex[*i].clone()),
            Expr::Group(g) => self.regex_of(g),
            _ => {
                let s = self.eval_str(e)?;
                self.regex_for(&s)
            }
        }
    }

    // ---- statements ----

    fn block(&mut self, stmts: &[Stmt]) -> R<Flow> {
        for s in stmts {
            match self.stmt(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn tick(&mut self) -> R<()> {
        self.steps = self.steps.wrapping_add(1);
        if self.steps.is_multiple_of(4096) && self.io.cancelled() {
            return Err(Fatal::BrokenPipe);
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> R<Flow> {
        match s {
            Stmt::Expr(e) => {
                self.eval_discard(e)?;
                Ok(Flow::Normal)
            }
            Stmt::Print(args, dest) => {
                let mut line = Vec::new();
                if args.is_empty() {
                    line.extend_from_slice(&self.record);
                } else {
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            line.extend_from_slice(&self.ofs);
                        }
                        let v = self.eval(a)?;
                        match v {
                            Value::Num(n) => line.extend_from_slice(&num_to_str(n, &self.ofmt)),
                            Value::Str(s) | Value::StrNum(s) => line.extend_from_slice(&s),
                            Value::Uninit => {}
                        }
                    }
                }
                line.extend_from_slice(&self.ors);
                self.emit(dest.as_ref(), line)?;
                Ok(Flow::Normal)
            }
            Stmt::Printf(args, dest) => {
                let fmt = self.eval_str(&args[0])?;
                let mut vals = Vec::with_capacity(args.len() - 1);
                for a in &args[1..] {
                    vals.push(self.eval(a)?);
                }
                let s = sprintf_values(&fmt, &vals)?;
                self.emit(dest.as_ref(), s)?;
                Ok(Flow::Normal)
            }
            Stmt::If(c, a, b) => {
                if self.cond(c)? {
                    self.stmt(a)
                } else if let Some(b) = b {
                    self.stmt(b)
                } else {
                    Ok(Flow::Normal)
                }
            }
            Stmt::While(c, body) => {
                while self.cond(c)? {
                    self.tick()?;
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                }
                Ok(Flow::Normal)
            }
            Stmt::Do(body, c) => {
                loop {
                    self.tick()?;
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                    if !self.cond(c)? {
                        break;
                    }
                }
                Ok(Flow::Normal)
            }
            Stmt::For(init, c, step, body) => {
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                loop {
                    if let Some(c) = c
                        && !self.cond(c)?
                    {
                        break;
                    }
                    self.tick()?;
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                    if let Some(s) = step {
                        self.stmt(s)?;
                    }
                }
                Ok(Flow::Normal)
            }
            Stmt::ForIn(var, arr, body) => {
                let id = self.array_id(*arr);
                let keys = self.sorted_keys(id);
                for k in keys {
                    if !self.arrays[id].contains(&k) {
                        continue;
                    }
                    self.set_lv(var, Value::StrNum(k))?;
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                }
                Ok(Flow::Normal)
            }
            Stmt::Block(b) => self.block(b),
            Stmt::Next => Ok(Flow::Next),
            Stmt::NextFile => Ok(Flow::NextFile),
            Stmt::Exit(e) => {
                if let Some(e) = e {
                    let n = self.eval_num(e)?;
                    #[allow(clippy::cast_possible_truncation)]
                    let code = (n as i64 & 0xff) as i32;
                    self.exit_code = code;
                }
                self.exiting = true;
                Ok(Flow::Exit)
            }
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::Uninit,
                };
                Ok(Flow::Return(v))
            }
            Stmt::Break => Ok(Flow::Break),
            Stmt::Continue => Ok(Flow::Continue),
            Stmt::Delete(v, subs) => {
                match subs {
                    Some(subs) => {
                        let k = self.subscript(subs)?;
                        let id = self.array_id(*v);
                        self.arrays[id].remove(&k);
                    }
                    None => {
                        let id = self.array_id(*v);
                        self.arrays[id].clear();
                    }
                }
                Ok(Flow::Normal)
            }
        }
    }

    fn sorted_keys(&mut self, id: usize) -> Vec<Vec<u8>> {
        let order = self.arrays[parser::PROCINFO]
            .get(b"sorted_in")
            .map(|v| v.to_bytes(&self.convfmt));
        let arr = &self.arrays[id];
        let mut keys = arr.keys();
        let Some(order) = order else {
            return gawk_like_order(keys);
        };
        let num = |k: &[u8]| crate::value::str_to_num(k);
        let cf = self.convfmt.clone();
        match &order[..] {
            b"@ind_str_asc" => keys.sort(),
            b"@ind_str_desc" => keys.sort_by(|a, b| b.cmp(a)),
            b"@ind_num_asc" => keys.sort_by(|a, b| num(a).total_cmp(&num(b)).then(a.cmp(b))),
            b"@ind_num_desc" => keys.sort_by(|a, b| num(b).total_cmp(&num(a)).then(b.cmp(a))),
            b"@val_num_asc" | b"@val_num_desc" | b"@val_str_asc" | b"@val_str_desc"
            | b"@val_type_asc" => {
                let by_num = order.starts_with(b"@val_num");
                let desc = order.ends_with(b"desc");
                keys.sort_by(|a, b| {
                    let va = arr.get(a).cloned().unwrap_or_default();
                    let vb = arr.get(b).cloned().unwrap_or_default();
                    let o = if by_num {
                        va.num().total_cmp(&vb.num())
                    } else {
                        va.to_bytes(&cf).cmp(&vb.to_bytes(&cf))
                    }
                    .then(a.cmp(b));
                    if desc { o.reverse() } else { o }
                });
            }
            _ => {}
        }
        keys
    }

    fn emit(&mut self, dest: Option<&(Redir, Expr)>, data: Vec<u8>) -> R<()> {
        let Some((redir, target)) = dest else {
            if self.out.is_empty() && data.len() >= 32 * 1024 {
                self.out = data;
            } else {
                self.out.extend_from_slice(&data);
            }
            return self.maybe_flush();
        };
        let name = self.eval_str(target)?;
        match (&name[..], redir) {
            (b"/dev/stdout" | b"-", Redir::Write | Redir::Append) => {
                self.out.extend_from_slice(&data);
                return self.maybe_flush();
            }
            (b"/dev/stderr", Redir::Write | Redir::Append) => {
                self.flush_stdout()?;
                let _ = self.io.write(Stream::Stderr, data);
                return Ok(());
            }
            _ => {}
        }
        if !self.files.contains_key(&name) {
            if *redir == Redir::Write {
                self.io.write_file(&name, false, Vec::new()).map_err(|e| {
                    Fatal::Error(format!(
                        "can't redirect to `{}' ({e})",
                        String::from_utf8_lossy(&name)
                    ))
                })?;
            }
            if *redir == Redir::Pipe {
                // gawk flushes its output when it starts a command
                self.flush_stdout()?;
            }
            let order = self.files.len();
            self.files.insert(
                name.clone(),
                OutFile {
                    buf: Vec::new(),
                    redir: *redir,
                    order,
                },
            );
        }
        let full = match self.files.get_mut(&name) {
            Some(f) => {
                f.buf.extend_from_slice(&data);
                f.buf.len() >= 32 * 1024 && f.redir != Redir::Pipe
            }
            None => false,
        };
        if full {
            self.flush_file(&name)?;
        }
        Ok(())
    }

    fn flush_file(&mut self, name: &[u8]) -> R<()> {
        let Some(f) = self.files.get_mut(name) else {
            return Ok(());
        };
        if f.redir == Redir::Pipe || f.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut f.buf);
        self.io.write_file(name, true, data).map_err(|e| {
            Fatal::Error(format!(
                "can't redirect to `{}' ({e})",
                String::from_utf8_lossy(name)
            ))
        })
    }

    /// Closes an output; returns the command's status for a pipe.
    fn close_output(&mut self, name: &[u8]) -> R<i32> {
        self.flush_file(name)?;
        let Some(f) = self.files.remove(name) else {
            return Ok(-1);
        };
        if f.redir == Redir::Pipe {
            let (st, _) = self.io.run(name, f.buf, false).map_err(Fatal::Error)?;
            return Ok(st);
        }
        Ok(0)
    }

    // ---- expressions ----

    fn cond(&mut self, e: &Expr) -> R<bool> {
        match e {
            Expr::Regex(i) => {
                let re = self.lit_regex[*i].clone();
                Ok(re.is_match(&self.record))
            }
            Expr::Bin(
                op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
                a,
                b,
            ) => self.compare_op(*op, a, b),
            Expr::And(a, b) => Ok(self.cond(a)? && self.cond(b)?),
            Expr::Or(a, b) => Ok(self.cond(a)? || self.cond(b)?),
            Expr::Not(a) => Ok(!self.cond(a)?),
            _ => Ok(self.eval(e)?.truthy()),
        }
    }

    fn compare_op(&mut self, op: BinOp, a: &Expr, b: &Expr) -> R<bool> {
        let x = self.eval(a)?;
        let y = self.eval(b)?;
        let o = compare(&x, &y, &self.convfmt);
        use std::cmp::Ordering::{Equal, Greater, Less};
        Ok(match op {
            BinOp::Lt => o == Less,
            BinOp::Le => o != Greater,
            BinOp::Gt => o == Greater,
            BinOp::Ge => o != Less,
            BinOp::Eq => o == Equal,
            _ => o != Equal,
        })
    }

    fn eval_str(&mut self, e: &Expr) -> R<Vec<u8>> {
        Ok(self.eval(e)?.into_bytes(&self.convfmt))
    }

    fn eval_num(&mut self, e: &Expr) -> R<f64> {
        match e {
            Expr::Num(n) => Ok(*n),
            Expr::Lv(LValue::Field(i)) => {
                if let Expr::Num(n) = **i
                    && n >= 1.0
                {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let k = n as usize;
                    self.split_record();
                    return Ok(if k <= self.nf {
                        crate::value::str_to_num(&self.fields[k - 1])
                    } else {
                        0.0
                    });
                }
                Ok(self.eval(e)?.num())
            }
            _ => Ok(self.eval(e)?.num()),
        }
    }

    fn eval_discard(&mut self, e: &Expr) -> R<()> {
        match e {
            Expr::PostInc(d, lv) | Expr::PreInc(d, lv) => {
                self.incr(*d, lv)?;
                Ok(())
            }
            _ => self.eval(e).map(|_| ()),
        }
    }

    fn incr(&mut self, d: f64, lv: &LValue) -> R<f64> {
        match lv {
            LValue::Var(Var::Global(g)) if *g >= parser::SPECIALS.len() => {
                let old = self.globals[*g].num();
                self.globals[*g] = Value::Num(old + d);
                Ok(old)
            }
            LValue::Index(v, subs) => {
                let k = self.subscript(subs)?;
                let id = self.array_id(*v);
                let slot = self.arrays[id].entry(k);
                let old = slot.num();
                *slot = Value::Num(old + d);
                Ok(old)
            }
            _ => {
                let old = self.get_lv(lv)?.num();
                self.set_lv(lv, Value::Num(old + d))?;
                Ok(old)
            }
        }
    }

    fn arith(op: BinOp, x: f64, y: f64) -> R<f64> {
        Ok(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => {
                if y == 0.0 {
                    return fatal("division by zero attempted");
                }
                x / y
            }
            BinOp::Mod => {
                if y == 0.0 {
                    return fatal("division by zero attempted in `%'");
                }
                x % y
            }
            BinOp::Pow => pow(x, y),
            _ => 0.0,
        })
    }

    /// Evaluates an expression.
    fn eval(&mut self, e: &Expr) -> R<Value> {
        Ok(match e {
            Expr::Num(n) => Value::Num(*n),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Regex(i) => {
                let re = self.lit_regex[*i].clone();
                Value::Num(if re.is_match(&self.record) { 1.0 } else { 0.0 })
            }
            Expr::Lv(lv) => self.get_lv(lv)?,
            Expr::Nf => {
                self.split_record();
                #[allow(clippy::cast_precision_loss)]
                let nf = self.nf as f64;
                Value::Num(nf)
            }
            Expr::Group(g) => self.eval(g)?,
            Expr::Assign(op, lv, rhs) => {
                let v = match op {
                    None => match self.eval(rhs)? {
                        Value::Uninit => Value::Uninit,
                        v => v,
                    },
                    Some(op) => {
                        let y = self.eval_num(rhs)?;
                        if let LValue::Var(Var::Global(g)) = **lv
                            && g >= parser::SPECIALS.len()
                        {
                            let x = self.globals[g].num();
                            let r = Value::Num(Self::arith(*op, x, y)?);
                            self.globals[g] = r.clone();
                            return Ok(r);
                        }
                        let x = self.get_lv(lv)?.num();
                        Value::Num(Self::arith(*op, x, y)?)
                    }
                };
                self.set_lv(lv, v.clone())?;
                v
            }
            Expr::Cond(c, a, b) => {
                if self.cond(c)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::And(..) | Expr::Or(..) | Expr::Not(_) => {
                Value::Num(f64::from(u8::from(self.cond(e)?)))
            }
            Expr::Neg(a) => Value::Num(-self.eval_num(a)?),
            Expr::Plus(a) => Value::Num(self.eval_num(a)?),
            Expr::Bin(op, a, b) => match op {
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                    Value::Num(f64::from(u8::from(self.compare_op(*op, a, b)?)))
                }
                _ => {
                    let x = self.eval_num(a)?;
                    let y = self.eval_num(b)?;
                    Value::Num(Self::arith(*op, x, y)?)
                }
            },
            Expr::Match(pos, a, b) => {
                let s = self.eval_str(a)?;
                let re = self.regex_of(b)?;
                Value::Num(f64::from(u8::from(re.is_match(&s) == *pos)))
            }
            Expr::Concat(a, b) => {
                let mut x = self.eval_str(a)?;
                let y = self.eval(b)?;
                match y {
                    Value::Str(s) | Value::StrNum(s) => x.extend_from_slice(&s),
                    other => x.extend_from_slice(&other.to_bytes(&self.convfmt)),
                }
                Value::Str(x)
            }
            Expr::In(subs, arr) => {
                let k = self.subscript(subs)?;
                let id = self.array_id(*arr);
                Value::Num(f64::from(u8::from(self.arrays[id].contains(&k))))
            }
            Expr::PreInc(d, lv) => Value::Num(self.incr(*d, lv)? + d),
            Expr::PostInc(d, lv) => Value::Num(self.incr(*d, lv)?),
            Expr::Call(f, args) => self.call(*f, args)?,
            Expr::Builtin(name, args) => self.builtin(name, args)?,
            Expr::Getline(src, var) => self.getline(src, var.as_deref())?,
        })
    }

    fn call(&mut self, f: usize, args: &[Expr]) -> R<Value> {
        let prog = self.prog.clone();
        let func = &prog.funcs[f];
        if args.len() > func.nparams {
            return fatal(format!(
                "function `{}' called with more arguments than declared",
                func.name
            ));
        }
        if self.depth > 50_000 {
            return fatal("function call nesting too deep");
        }
        let mut frame = Vec::with_capacity(func.nparams);
        for a in args {
            let bare = match a {
                Expr::Lv(LValue::Var(v)) => Some(*v),
                Expr::Group(g) => match **g {
                    Expr::Lv(LValue::Var(v)) => Some(v),
                    _ => None,
                },
                _ => None,
            };
            let local = match bare {
                Some(Var::Global(g))
                    if g >= parser::SPECIALS.len()
                        || g == parser::ENVIRON
                        || g == parser::ARGV
                        || g == parser::PROCINFO =>
                {
                    if matches!(self.globals[g], Value::Uninit) {
                        Local::Arr(g)
                    } else {
                        Local::Val(self.globals[g].clone())
                    }
                }
                Some(Var::Local(i)) => match &self.locals[self.base + i] {
                    Local::Arr(id) => Local::Arr(*id),
                    Local::Val(Value::Uninit) => {
                        let id = self.array_id(Var::Local(i));
                        Local::Arr(id)
                    }
                    Local::Val(v) => Local::Val(v.clone()),
                },
                _ => Local::Val(self.eval(a)?),
            };
            frame.push(local);
        }
        while frame.len() < func.nparams {
            frame.push(Local::Val(Value::Uninit));
        }
        let arena = self.arrays.len();
        let old_base = self.base;
        let old_len = self.locals.len();
        self.base = old_len;
        self.locals.extend(frame);
        self.depth += 1;
        // deep recursion grows the stack on the heap instead of overflowing it
        let r = stacker::maybe_grow(256 * 1024, 8 << 20, || self.block(&func.body));
        self.depth -= 1;
        self.locals.truncate(old_len);
        self.base = old_base;
        self.arrays.truncate(arena);
        match r? {
            Flow::Return(v) => Ok(v),
            Flow::Exit => {
                self.exiting = true;
                Err(Fatal::Exit)
            }
            _ => Ok(Value::Uninit),
        }
    }

    fn getline(&mut self, src: &GetlineSrc, var: Option<&LValue>) -> R<Value> {
        let mut rec = Vec::new();
        let mut rt = Vec::new();
        let rs = self.rs.clone();
        match src {
            GetlineSrc::Main => {
                let saved = std::mem::take(&mut self.record);
                let saved_split = self.split_done;
                let got = self.next_main_record()?;
                if !got {
                    self.record = saved;
                    self.split_done = saved_split;
                    return Ok(Value::Num(0.0));
                }
                if let Some(lv) = var {
                    let line = std::mem::replace(&mut self.record, saved);
                    self.split_done = saved_split;
                    self.set_lv(lv, Value::StrNum(line))?;
                }
                Ok(Value::Num(1.0))
            }
            GetlineSrc::File(f) => {
                let name = self.eval_str(f)?;
                if !self.readers.contains_key(&name) {
                    match self.io.open(&name) {
                        Ok(h) => {
                            self.readers.insert(name.clone(), Reader::new(h));
                        }
                        Err(_) => return Ok(Value::Num(-1.0)),
                    }
                }
                let Some(r) = self.readers.get_mut(&name) else {
                    return Ok(Value::Num(-1.0));
                };
                if !r.next(&mut *self.io, &rs, &mut rec, &mut rt)? {
                    return Ok(Value::Num(0.0));
                }
                self.getline_store(var, rec, false)?;
                Ok(Value::Num(1.0))
            }
            GetlineSrc::Cmd(c) => {
                let cmd = self.eval_str(c)?;
                if !self.cmd_readers.contains_key(&cmd) {
                    self.flush_stdout()?;
                    let (_, out) = self.io.run(&cmd, Vec::new(), true).map_err(Fatal::Error)?;
                    self.cmd_readers.insert(cmd.clone(), (out, 0));
                }
                let Some((data, pos)) = self.cmd_readers.get_mut(&cmd) else {
                    return Ok(Value::Num(-1.0));
                };
                if *pos >= data.len() {
                    return Ok(Value::Num(0.0));
                }
                let sep = match rs {
                    RsMode::Byte(b) => b,
                    _ => b'\n',
                };
                let end = memchr::memchr(sep, &data[*pos..]).map_or(data.len(), |i| *pos + i);
                let line = data[*pos..end].to_vec();
                *pos = (end + 1).min(data.len().max(end + 1));
                self.getline_store(var, line, false)?;
                Ok(Value::Num(1.0))
            }
        }
    }

    fn getline_store(&mut self, var: Option<&LValue>, line: Vec<u8>, count_nr: bool) -> R<()> {
        if count_nr {
            self.nr += 1.0;
            self.globals[parser::NR] = Value::Num(self.nr);
        }
        match var {
            Some(lv) => self.set_lv(lv, Value::StrNum(line)),
            None => {
                self.record = line;
                self.split_done = false;
                Ok(())
            }
        }
    }

    // ---- builtins ----

    fn arg_array(&mut self, e: &Expr) -> R<usize> {
        match e {
            Expr::Lv(LValue::Var(v)) => Ok(self.array_id(*v)),
            Expr::Group(g) => self.arg_array(g),
            _ => fatal("attempt to use scalar as array"),
        }
    }

    fn builtin(&mut self, name: &str, args: &[Expr]) -> R<Value> {
        let n = args.len();
        let num = |v: f64| Ok(Value::Num(v));
        match name {
            "length" => {
                if n == 0 {
                    return num(char_len(&self.record) as f64);
                }
                if let Expr::Lv(LValue::Var(v)) = &args[0] {
                    let is_arr = match v {
                        Var::Global(g) => {
                            matches!(self.globals[*g], Value::Uninit) && !self.arrays[*g].is_empty()
                        }
                        Var::Local(i) => matches!(self.locals[self.base + i], Local::Arr(_)),
                    };
                    if is_arr {
                        let id = self.array_id(*v);
                        return num(self.arrays[id].len() as f64);
                    }
                }
                let s = self.eval_str(&args[0])?;
                num(char_len(&s) as f64)
            }
            "substr" => {
                if n < 2 {
                    return fatal("substr: not enough arguments");
                }
                let s = self.eval_str(&args[0])?;
                let m = self.eval_num(&args[1])?;
                let len = if n > 2 {
                    Some(self.eval_num(&args[2])?)
                } else {
                    None
                };
                Ok(Value::Str(substr(&s, m, len)))
            }
            "index" => {
                if n < 2 {
                    return fatal("index: not enough arguments");
                }
                let s = self.eval_str(&args[0])?;
                let t = self.eval_str(args.get(1).unwrap_or(&Expr::Str(Vec::new())))?;
                let pos = if t.is_empty() {
                    1
                } else {
                    memchr::memmem::find(&s, &t).map_or(0, |i| char_len(&s[..i]) + 1)
                };
                num(pos as f64)
            }
            "split" => {
                if n < 2 {
                    return fatal("split: not enough arguments");
                }
                let s = self.eval_str(&args[0])?;
                let id = self.arg_array(&args[1])?;
                let mut parts: Vec<Vec<u8>> = Vec::new();
                if n > 2 {
                    let (fs, re) = match &args[2] {
                        Expr::Regex(i) => (b"\0re".to_vec(), Some(self.lit_regex[*i].clone())),
                        e => {
                            let fs = self.eval_str(e)?;
                            let re = if fs.len() > 1 && fs != b" " {
                                Some(self.regex_for(&fs)?)
                            } else {
                                None
                            };
                            (fs, re)
                        }
                    };
                    if !s.is_empty() {
                        split_with(&s, &fs, re.as_deref(), |f| parts.push(f.to_vec()));
                    }
                } else if !s.is_empty() {
                    let fs = self.fs.clone();
                    let re = self.fs_regex.clone();
                    split_with(&s, &fs, re.as_deref(), |f| parts.push(f.to_vec()));
                }
                let arr = &mut self.arrays[id];
                arr.clear();
                let count = parts.len();
                for (i, p) in parts.into_iter().enumerate() {
                    arr.set((i + 1).to_string().into_bytes(), Value::StrNum(p));
                }
                num(count as f64)
            }
            "sub" | "gsub" => {
                if n < 2 {
                    return fatal(format!("{name}: not enough arguments"));
                }
                let re = self.regex_of(&args[0])?;
                let repl = self.eval_str(&args[1])?;
                let target = match args.get(2) {
                    Some(e) => match crate::parser::to_lvalue(e) {
                        Some(lv) => lv,
                        None => {
                            // a non-lvalue target: gawk warns and computes anyway
                            let _ = self.eval(e)?;
                            return num(0.0);
                        }
                    },
                    None => LValue::Field(Box::new(Expr::Num(0.0))),
                };
                let s = self.get_lv(&target)?.into_bytes(&self.convfmt);
                let (out, count) = substitute(&re, &s, &repl, name == "gsub");
                if count > 0 {
                    self.set_lv(&target, Value::Str(out))?;
                }
                num(count as f64)
            }
            "gensub" => {
                if n < 3 {
                    return fatal("gensub: not enough arguments");
                }
                let re = self.regex_of(&args[0])?;
                let repl = self.eval_str(&args[1])?;
                let how = self.eval(&args[2])?;
                let s = match args.get(3) {
                    Some(e) => self.eval_str(e)?,
                    None => self.record.clone(),
                };
                let hb = how.to_bytes(&self.convfmt);
                let which = if hb.first().is_some_and(|c| *c == b'g' || *c == b'G') {
                    0
                } else {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let w = how.num().max(1.0) as usize;
                    w
                };
                Ok(Value::Str(gensub(&re, &s, &repl, which)))
            }
            "match" => {
                if n < 2 {
                    return fatal("match: not enough arguments");
                }
                let s = self.eval_str(&args[0])?;
                let re = self.regex_of(&args[1])?;
                let caps = re.captures_at(&s, 0);
                let (start, len) = match &caps {
                    Some(c) => match c.get(0) {
                        Some(m) => (
                            char_len(&s[..m.start]) + 1,
                            char_len(&s[m.start..m.end]) as f64,
                        ),
                        None => (0, -1.0),
                    },
                    None => (0, -1.0),
                };
                if n > 2 {
                    let id = self.arg_array(&args[2])?;
                    self.arrays[id].clear();
                    if let Some(c) = caps {
                        for i in 0..c.len() {
                            if let Some(m) = c.get(i) {
                                let key = i.to_string().into_bytes();
                                self.arrays[id].set(key, Value::StrNum(s[m.start..m.end].to_vec()));
                            }
                        }
                    }
                }
                self.globals[parser::RSTART] = Value::Num(start as f64);
                self.globals[parser::RLENGTH] = Value::Num(len);
                num(start as f64)
            }
            "sprintf" => {
                if n == 0 {
                    return fatal("sprintf: no arguments");
                }
                let fmt = self.eval_str(&args[0])?;
                let mut vals = Vec::with_capacity(n - 1);
                for a in &args[1..] {
                    vals.push(self.eval(a)?);
                }
                Ok(Value::Str(sprintf_values(&fmt, &vals)?))
            }
            "sin" | "cos" | "exp" | "log" | "sqrt" | "int" => {
                let x = match args.first() {
                    Some(a) => self.eval_num(a)?,
                    None => return fatal(format!("{name}: not enough arguments")),
                };
                let r = match name {
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "exp" => x.exp(),
                    "log" => x.ln(),
                    "sqrt" => x.sqrt(),
                    _ => x.trunc(),
                };
                let shown = || String::from_utf8_lossy(&num_to_str(x, b"%.6g")).into_owned();
                if matches!(name, "log" | "sqrt") && x < 0.0 {
                    self.warn(&format!("{name}: received negative argument {}", shown()));
                } else if name == "exp" && r.is_infinite() && x.is_finite() {
                    self.warn(&format!("exp: argument {} is out of range", shown()));
                }
                num(r)
            }
            "atan2" => {
                if n < 2 {
                    return fatal("atan2: not enough arguments");
                }
                let y = self.eval_num(&args[0])?;
                let x = self.eval_num(&args[1])?;
                num(y.atan2(x))
            }
            "rand" => {
                // xorshift64*: a fixed sequence, as gawk's is for a given seed
                let mut x = self.rand_state;
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                self.rand_state = x;
                let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
                #[allow(clippy::cast_precision_loss)]
                let f = r as f64 / (1u64 << 53) as f64;
                num(f)
            }
            "srand" => {
                let prev = self.rand_seed;
                let seed = match args.first() {
                    Some(a) => self.eval_num(a)?,
                    None => 0.0,
                };
                self.rand_seed = seed;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let s = seed as i64 as u64;
                self.rand_state = s.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                num(prev)
            }
            "tolower" | "toupper" => {
                let mut s = match args.first() {
                    Some(a) => self.eval_str(a)?,
                    None => return fatal(format!("{name}: not enough arguments")),
                };
                let upper = name == "toupper";
                if s.is_ascii() {
                    if upper {
                        s.make_ascii_uppercase();
                    } else {
                        s.make_ascii_lowercase();
                    }
                    return Ok(Value::Str(s));
                }
                Ok(Value::Str(map_case(&s, upper)))
            }
            "system" => {
                let cmd = match args.first() {
                    Some(a) => self.eval_str(a)?,
                    None => return fatal("system: not enough arguments"),
                };
                self.flush_stdout()?;
                let names: Vec<Vec<u8>> = self.files.keys().cloned().collect();
                for nm in names {
                    self.flush_file(&nm)?;
                }
                let (st, _) = self.io.run(&cmd, Vec::new(), false).map_err(Fatal::Error)?;
                num(f64::from(st))
            }
            "close" => {
                let name = match args.first() {
                    Some(a) => self.eval_str(a)?,
                    None => return fatal("close: not enough arguments"),
                };
                if let Some(r) = self.readers.remove(&name) {
                    self.io.close(r.h);
                    return num(0.0);
                }
                if self.cmd_readers.remove(&name).is_some() {
                    return num(0.0);
                }
                let st = self.close_output(&name)?;
                num(f64::from(st))
            }
            "fflush" => {
                self.flush_stdout()?;
                let names: Vec<Vec<u8>> = self.files.keys().cloned().collect();
                for nm in names {
                    self.flush_file(&nm)?;
                }
                num(0.0)
            }
            "systime" => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                #[allow(clippy::cast_precision_loss)]
                let t = t as f64;
                num(t)
            }
            "strftime" => {
                let fmt = match args.first() {
                    Some(a) => self.eval_str(a)?,
                    None => b"%a %b %e %H:%M:%S %Z %Y".to_vec(),
                };
                let t = match args.get(1) {
                    Some(a) => self.eval_num(a)?,
                    None => {
                        let t = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        #[allow(clippy::cast_precision_loss)]
                        let t = t as f64;
                        t
                    }
                };
                let utc = match args.get(2) {
                    Some(a) => self.eval(a)?.truthy(),
                    None => false,
                };
                let tz = self.arrays[parser::ENVIRON]
                    .get(b"TZ")
                    .map(|v| v.to_bytes(b"%.6g"));
                let zone = if utc {
                    mirage_format::time::Zone::utc()
                } else {
                    let tz = tz.map(|t| String::from_utf8_lossy(&t).into_owned());
                    mirage_format::time::Zone::from_tz(tz.as_deref())
                };
                let f = String::from_utf8_lossy(&fmt).into_owned();
                #[allow(clippy::cast_possible_truncation)]
                let out = mirage_format::time::strftime(&f, t as i64, &zone).unwrap_or_default();
                Ok(Value::Str(out.into_bytes()))
            }
            "asort" | "asorti" => {
                if n == 0 {
                    return fatal(format!("{name}: not enough arguments"));
                }
                let src = self.arg_array(&args[0])?;
                let dst = match args.get(1) {
                    Some(a) => self.arg_array(a)?,
                    None => src,
                };
                let cf = self.convfmt.clone();
                let mut vals: Vec<Value> = if name == "asorti" {
                    self.arrays[src]
                        .keys()
                        .into_iter()
                        .map(Value::StrNum)
                        .collect()
                } else {
                    self.arrays[src].iter().map(|(_, v)| v.clone()).collect()
                };
                vals.sort_by(|a, b| {
                    let an = !matches!(a, Value::Str(_))
                        && crate::value::looks_numeric(&a.to_bytes(&cf));
                    let bn = !matches!(b, Value::Str(_))
                        && crate::value::looks_numeric(&b.to_bytes(&cf));
                    match (an, bn) {
                        (true, true) => a.num().total_cmp(&b.num()),
                        (true, false) => std::cmp::Ordering::Less,
                        (false, true) => std::cmp::Ordering::Greater,
                        _ => a.to_bytes(&cf).cmp(&b.to_bytes(&cf)),
                    }
                });
                let count = vals.len();
                let arr = &mut self.arrays[dst];
                arr.clear();
                for (i, v) in vals.into_iter().enumerate() {
                    arr.set((i + 1).to_string().into_bytes(), v);
                }
                num(count as f64)
            }
            "\0list" => fatal("syntax error"),
            other => fatal(format!("function `{other}' is not supported")),
        }
    }
}

/// The order of an unsorted `for (k in a)`: gawk keeps non-negative
/// integer subscripts in a separate structure it walks in ascending order
/// (after its other subscripts), so those come last and ascending here;
/// the others keep their insertion order (gawk's own is its hash order).
fn gawk_like_order(keys: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    fn int_key(k: &[u8]) -> Option<u64> {
        if k.is_empty() || k.len() > 18 || !k.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if k.len() > 1 && k[0] == b'0' {
            return None;
        }
        std::str::from_utf8(k).ok()?.parse().ok()
    }
    type Keyed = Vec<(u64, Vec<u8>)>;
    let (mut ints, others): (Keyed, Keyed) = keys
        .into_iter()
        .map(|k| (int_key(&k), k))
        .map(|(n, k)| (n.unwrap_or(u64::MAX), k))
        .partition(|(n, _)| *n != u64::MAX);
    ints.sort_by_key(|(n, _)| *n);
    others.into_iter().chain(ints).map(|(_, k)| k).collect()
}

/// `x ^ y` as gawk computes it (integer exponents by repeated multiplication).
fn pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// Maps the case of each UTF-8 character that maps to one character (as
/// `towupper`/`towlower`); other bytes are kept.
fn map_case(s: &[u8], upper: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut m = if upper {
                c.to_uppercase().collect::<Vec<char>>()
            } else {
                c.to_lowercase().collect::<Vec<char>>()
            };
            if m.len() != 1 {
                m = vec![c];
            }
            let mut buf = [0u8; 4];
            out.extend_from_slice(m[0].encode_utf8(&mut buf).as_bytes());
        }
        out.extend_from_slice(chunk.invalid());
    }
    out
}

/// The number of characters (UTF-8 sequences; other bytes count one each).
fn char_len(s: &[u8]) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// Byte offsets of each character start, plus the end.
fn char_starts(s: &[u8]) -> Vec<usize> {
    let mut v: Vec<usize> = s
        .iter()
        .enumerate()
        .filter(|(_, b)| (**b & 0xC0) != 0x80)
        .map(|(i, _)| i)
        .collect();
    v.push(s.len());
    v
}

/// `substr(s, m, n)` as gawk 5.2 computes it (characters): the start and
/// length are truncated, a start below 1 becomes 1 (the length is kept).
fn substr(s: &[u8], m: f64, n: Option<f64>) -> Vec<u8> {
    #[allow(clippy::cast_precision_loss)]
    let len = char_len(s) as f64;
    if m.is_nan() || n.is_some_and(f64::is_nan) {
        return Vec::new();
    }
    let start = m.trunc().max(1.0);
    let mut end = match n {
        Some(n) => start + n.trunc(),
        None => f64::INFINITY,
    };
    if end > len + 1.0 {
        end = len + 1.0;
    }
    if end <= start {
        return Vec::new();
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (a, b) = (start as usize - 1, end as usize - 1);
    if s.is_ascii() {
        return s[a..b].to_vec();
    }
    let starts = char_starts(s);
    s[starts[a]..starts[b]].to_vec()
}

/// Splits `s` by an awk field separator: `" "` (runs of blanks, trimmed),
/// one other byte (literally), or a regex (`re`).
fn split_with(s: &[u8], fs: &[u8], re: Option<&PosixRegex>, mut f: impl FnMut(&[u8])) {
    if fs == b" " {
        let mut i = 0;
        let blank = |b: u8| b == b' ' || b == b'\t' || b == b'\n';
        loop {
            while i < s.len() && blank(s[i]) {
                i += 1;
            }
            if i >= s.len() {
                return;
            }
            let st = i;
            while i < s.len() && !blank(s[i]) {
                i += 1;
            }
            f(&s[st..i]);
        }
    }
    if let Some(re) = re {
        let mut start = 0;
        let mut at = 0;
        while at <= s.len() {
            match re.find_at(s, at) {
                Some(m) if m.end > m.start => {
                    f(&s[start..m.start]);
                    start = m.end;
                    at = m.end;
                }
                Some(m) => at = m.start + 1,
                None => break,
            }
        }
        f(&s[start..]);
        return;
    }
    if fs.is_empty() {
        let starts = char_starts(s);
        for w in starts.windows(2) {
            f(&s[w[0]..w[1]]);
        }
        return;
    }
    let sep = if fs == b"\\t" { b'\t' } else { fs[0] };
    for part in s.split(|&b| b == sep) {
        f(part);
    }
}

/// `sub`/`gsub`: replaces the first (or every) match of `re` in `s` by
/// `repl` (`&` is the match, `\&` a literal `&`, `\\` a backslash).
fn substitute(re: &PosixRegex, s: &[u8], repl: &[u8], global: bool) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(s.len());
    let mut count = 0;
    let mut at = 0;
    let mut copied = 0;
    let mut last_match_end: Option<usize> = None;
    while at <= s.len() {
        let Some(m) = re.find_at(s, at) else {
            break;
        };
        if m.start == m.end && last_match_end == Some(m.start) {
            // an empty match right after the previous match: skip a character
            if m.start >= s.len() {
                break;
            }
            at = m.start + 1;
            continue;
        }
        out.extend_from_slice(&s[copied..m.start]);
        let mut i = 0;
        while i < repl.len() {
            match repl[i] {
                b'\\' if i + 1 < repl.len() && (repl[i + 1] == b'&' || repl[i + 1] == b'\\') => {
                    out.push(repl[i + 1]);
                    i += 2;
                }
                b'&' => {
                    out.extend_from_slice(&s[m.start..m.end]);
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        copied = m.end;
        count += 1;
        last_match_end = Some(m.end);
        if !global {
            break;
        }
        if m.end == m.start {
            if m.start < s.len() {
                out.push(s[m.start]);
            }
            copied = m.start + 1;
            at = m.start + 1;
        } else {
            at = m.end;
        }
    }
    if copied <= s.len() {
        out.extend_from_slice(&s[copied.min(s.len())..]);
    }
    (out, count)
}

/// gawk's `gensub`: `which == 0` replaces all; `\N` is group N, `&`/`\0` the match.
fn gensub(re: &PosixRegex, s: &[u8], repl: &[u8], which: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut at = 0;
    let mut copied = 0;
    let mut k = 0;
    while at <= s.len() {
        let Some(c) = re.captures_at(s, at) else {
            break;
        };
        let Some(m) = c.get(0) else {
            break;
        };
        k += 1;
        if which == 0 || k == which {
            out.extend_from_slice(&s[copied..m.start]);
            let mut i = 0;
            while i < repl.len() {
                match repl[i] {
                    b'\\' if i + 1 < repl.len() && repl[i + 1].is_ascii_digit() => {
                        let g = usize::from(repl[i + 1] - b'0');
                        if let Some(r) = c.get(g) {
                            out.extend_from_slice(&s[r.start..r.end]);
                        }
                        i += 2;
                    }
                    b'\\'
                        if i + 1 < repl.len() && (repl[i + 1] == b'&' || repl[i + 1] == b'\\') =>
                    {
                        out.push(repl[i + 1]);
                        i += 2;
                    }
                    b'&' => {
                        out.extend_from_slice(&s[m.start..m.end]);
                        i += 1;
                    }
                    ch => {
                        out.push(ch);
                        i += 1;
                    }
                }
            }
            copied = m.end;
            if which != 0 {
                break;
            }
        }
        if m.end == m.start {
            if m.start < s.len() && copied <= m.start {
                out.extend_from_slice(&s[copied..=m.start]);
                copied = m.start + 1;
            }
            at = m.start + 1;
        } else {
            at = m.end;
        }
    }
    out.extend_from_slice(&s[copied.min(s.len())..]);
    out
}

/// Appends `s` padded with spaces to `width` characters (UTF-8 aware, as
/// gawk in a UTF-8 locale), on the right with `left`.
fn pad_chars(out: &mut Vec<u8>, s: &[u8], width: usize, left: bool) {
    let n = char_len(s);
    let pad = width.saturating_sub(n);
    if !left {
        out.resize(out.len() + pad, b' ');
    }
    out.extend_from_slice(s);
    if left {
        out.resize(out.len() + pad, b' ');
    }
}

/// Formats `vals` by an awk `printf` format (`%c %d %i %o %x %X %u %e %E
/// %f %F %g %G %a %A %s %%`, flags `-+ #0`, `*` width and precision).
///
/// # Errors
/// Too few arguments for the format (gawk's fatal error).
pub fn sprintf_values(fmt: &[u8], vals: &[Value]) -> R<Vec<u8>> {
    use mirage_format::number::{format_float, format_int, format_uint};
    use mirage_format::spec::{Flags, Spec};
    let mut out = Vec::new();
    let mut i = 0;
    let mut next = 0;
    let cf = b"%.6g";
    let take = |next: &mut usize, at: usize| -> R<Value> {
        let v = vals.get(*next).cloned();
        *next += 1;
        v.ok_or_else(|| {
            Fatal::Error(format!(
                "not enough arguments to satisfy format string\n\t`{}'\n\t{}^ ran out for this one",
                String::from_utf8_lossy(fmt),
                " ".repeat(at + 1)
            ))
        })
    };
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut flags = Flags::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => flags.left = true,
                b'+' => flags.plus = true,
                b' ' => flags.space = true,
                b'#' => flags.alt = true,
                b'0' => flags.zero = true,
                b'\'' => flags.grouping = true,
                _ => break,
            }
            i += 1;
        }
        let mut width = 0usize;
        if fmt.get(i) == Some(&b'*') {
            i += 1;
            let w = take(&mut next, start)?.num();
            if w < 0.0 {
                flags.left = true;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let w = w.abs() as usize;
            width = w;
        } else {
            while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
                width = width
                    .saturating_mul(10)
                    .saturating_add(usize::from(d - b'0'));
                i += 1;
            }
        }
        let mut precision = None;
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            if fmt.get(i) == Some(&b'*') {
                i += 1;
                let p = take(&mut next, start)?.num();
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let p = if p < 0.0 { None } else { Some(p as usize) };
                precision = p;
            } else {
                let mut p = 0usize;
                while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
                    p = p.saturating_mul(10).saturating_add(usize::from(d - b'0'));
                    i += 1;
                }
                precision = Some(p);
            }
        }
        while fmt.get(i).is_some_and(|c| b"hlLqjzt".contains(c)) {
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            out.extend_from_slice(&fmt[start..]);
            break;
        };
        i += 1;
        let spec = Spec {
            flags,
            width: width.min(MAX_WIDTH),
            precision: precision.map(|p| p.min(MAX_WIDTH)),
            conv: conv as char,
        };
        match conv {
            b'd' | b'i' => {
                let v = take(&mut next, start)?.num();
                if !v.is_finite() || v.abs() >= 1e30 {
                    let s = Spec {
                        conv: 'f',
                        precision: Some(0),
                        ..spec
                    };
                    out.extend_from_slice(format_float(&s, v).as_bytes());
                } else {
                    #[allow(clippy::cast_possible_truncation)]
                    let n = v.trunc() as i128;
                    out.extend_from_slice(format_int(&Spec { conv: 'd', ..spec }, n).as_bytes());
                }
            }
            b'o' | b'x' | b'X' | b'u' => {
                let v = take(&mut next, start)?.num().trunc();
                if v < 0.0 || !v.is_finite() {
                    let s = Spec {
                        conv: 'g',
                        precision: None,
                        ..spec
                    };
                    out.extend_from_slice(format_float(&s, v).as_bytes());
                } else {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let n = v as u128;
                    out.extend_from_slice(format_uint(&spec, n).as_bytes());
                }
            }
            b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => {
                let v = take(&mut next, start)?.num();
                out.extend_from_slice(format_float(&spec, v).as_bytes());
            }
            b'c' => {
                let v = take(&mut next, start)?;
                let v = match v {
                    Value::StrNum(b) if crate::value::looks_numeric(&b) => {
                        Value::Num(crate::value::str_to_num(&b))
                    }
                    other => other,
                };
                let bytes = match v {
                    Value::Num(n) => {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let code = n as u32;
                        if code < 128 {
                            vec![code as u8]
                        } else {
                            char::from_u32(code)
                                .map_or(vec![(code & 0xff) as u8], |c| c.to_string().into_bytes())
                        }
                    }
                    other => {
                        let s = other.to_bytes(cf);
                        let l = s.first().map_or(0, |&b| {
                            let n = match b {
                                0xC0..=0xDF => 2,
                                0xE0..=0xEF => 3,
                                0xF0..=0xF7 => 4,
                                _ => 1,
                            };
                            n.min(s.len())
                        });
                        s[..l].to_vec()
                    }
                };
                pad_chars(&mut out, &bytes, spec.width, spec.flags.left);
            }
            b's' => {
                let v = take(&mut next, start)?;
                let s = match v {
                    Value::Num(n) => num_to_str(n, cf),
                    other => other.into_bytes(cf),
                };
                let s = match spec.precision {
                    Some(p) if p < char_len(&s) => {
                        let starts = char_starts(&s);
                        s[..starts[p]].to_vec()
                    }
                    _ => s,
                };
                pad_chars(&mut out, &s, spec.width, spec.flags.left);
            }
            _ => {
                out.extend_from_slice(&fmt[start..i]);
            }
        }
    }
    Ok(out)
}
