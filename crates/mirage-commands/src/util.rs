//! Helpers shared by commands: argument parsing with GNU diagnostics,
//! iterating over input files (`-` is stdin), line splitting.

use bytes::Bytes;
use mirage_types::args::{CommandSpec, ParsedArgs, parse};
use mirage_types::command::CommandCtx;
use mirage_types::{ByteSource, ErrorKind, Input};

/// Parses the context's arguments by `spec`; on a usage error prints
/// `NAME: MSG` and `Try 'NAME --help' for more information.` on stderr and
/// returns `Err(spec.usage_status)`.
pub async fn parse_args(ctx: &mut CommandCtx, spec: &CommandSpec) -> Result<ParsedArgs, i32> {
    match parse(spec, &ctx.args) {
        Ok(p) => Ok(p),
        Err(msg) => Err(usage_error(ctx, &msg, spec.usage_status).await),
    }
}

/// Prints a usage error as GNU tools do, `NAME: MSG` then
/// `Try 'NAME --help' for more information.` on stderr, and returns `status`.
pub async fn usage_error(ctx: &mut CommandCtx, msg: &str, status: i32) -> i32 {
    ctx.error(msg).await;
    let hint = format!("Try '{} --help' for more information.\n", ctx.name);
    let _ = ctx.stderr.write_str(&hint).await;
    let _ = ctx.stderr.flush().await;
    status
}

/// Opens an input operand: `-` is stdin (taken once), anything else is read
/// through the router. The error is already GNU-shaped: `PATH: MESSAGE`,
/// with the operand as the user typed it.
pub async fn open_input(ctx: &mut CommandCtx, operand: &str) -> Result<ByteSource, String> {
    if operand == "-" {
        let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
        return Ok(stdin.into_source());
    }
    let abs = ctx.resolve(operand);
    match ctx.vfs.stat(&abs).await {
        Ok(st) if st.is_dir() => {
            return Err(format!(
                "{operand}: {}",
                ErrorKind::IsADirectory.gnu_message()
            ));
        }
        Ok(_) => {}
        Err(e) => return Err(format!("{operand}: {}", e.message())),
    }
    match ctx.read_path(operand).await {
        Ok(src) => Ok(src),
        Err(e) => Err(format!("{operand}: {}", e.message())),
    }
}

/// Opens an input operand and reads it whole (see [`open_input`]).
pub async fn read_input(ctx: &mut CommandCtx, operand: &str) -> Result<Bytes, String> {
    let src = open_input(ctx, operand).await?;
    src.collect()
        .await
        .map_err(|e| format!("{operand}: {}", e.message()))
}

/// The operands, or `["-"]` when there are none (read stdin).
pub fn operands_or_stdin(p: &ParsedArgs) -> Vec<String> {
    if p.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        p.operands.clone()
    }
}

/// Splits `data` into lines, each without its `\n`; a final line without
/// `\n` is included, an empty trailing piece is not (as GNU tools see lines).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    trimmed.split(|&b| b == b'\n').filter(move |_| !empty)
}

/// Opens an input operand like [`open_input`], but keeps the error as a
/// [`mirage_types::Error`] so a command can word it as its GNU original does
/// (`head: cannot open 'x' for reading: …`, `sort: cannot read: x: …`).
/// A directory gives [`ErrorKind::IsADirectory`].
pub async fn open_input_err(
    ctx: &mut CommandCtx,
    operand: &str,
) -> Result<ByteSource, mirage_types::Error> {
    if operand == "-" {
        let stdin = std::mem::replace(&mut ctx.stdin, Input::empty());
        return Ok(stdin.into_source());
    }
    let abs = ctx.resolve(operand);
    let st = ctx.vfs.stat(&abs).await?;
    if st.is_dir() {
        return Err(mirage_types::Error::new(ErrorKind::IsADirectory));
    }
    ctx.read_path(operand).await
}

/// Splits a stream of chunks into records ending with `delim` (`\n`, or
/// NUL for `-z`) without collecting the input: a record that lies inside
/// one chunk is handed out as a slice of it (no copy).
pub struct RecordReader {
    stream: mirage_types::ByteStream,
    cur: Bytes,
    pos: usize,
    carry: Vec<u8>,
    delim: u8,
    done: bool,
}

impl RecordReader {
    /// A reader over `src` splitting at `delim`.
    pub fn new(src: ByteSource, delim: u8) -> Self {
        RecordReader {
            stream: src.into_stream(),
            cur: Bytes::new(),
            pos: 0,
            carry: Vec::new(),
            delim,
            done: false,
        }
    }
    /// The next record including its delimiter (the last one may lack it),
    /// or `None` at end of input.
    pub async fn next_record(&mut self) -> mirage_types::Result<Option<Bytes>> {
        use futures::StreamExt;
        loop {
            if self.pos < self.cur.len() {
                let rest = &self.cur[self.pos..];
                if let Some(i) = memchr::memchr(self.delim, rest) {
                    let start = self.pos;
                    self.pos += i + 1;
                    if self.carry.is_empty() {
                        return Ok(Some(self.cur.slice(start..self.pos)));
                    }
                    self.carry.extend_from_slice(&self.cur[start..self.pos]);
                    return Ok(Some(Bytes::from(std::mem::take(&mut self.carry))));
                }
                self.carry.extend_from_slice(rest);
                self.pos = self.cur.len();
            }
            if self.done {
                return Ok(if self.carry.is_empty() {
                    None
                } else {
                    Some(Bytes::from(std::mem::take(&mut self.carry)))
                });
            }
            match self.stream.next().await {
                Some(Ok(b)) => {
                    self.cur = b;
                    self.pos = 0;
                }
                Some(Err(e)) => return Err(e),
                None => self.done = true,
            }
        }
    }
}

/// Test support: an in-memory [`mirage_types::Vfs`] and a runner that calls
/// a command handler with captured output.
/// The count options shared by `head` and `tail`: which of `-n`/`-c` was
/// given last, its parsed value (through `parse`), and the record delimiter
/// (`-z`). On a bad number prints GNU's `invalid number of lines: 'X'` (or
/// bytes) and returns `Err(1)`.
pub(crate) async fn parse_line_or_byte_count<C>(
    ctx: &mut CommandCtx,
    p: &ParsedArgs,
    parse: fn(&str) -> Option<C>,
    default: C,
) -> Result<(C, bool, u8), i32> {
    let bytes = p.last_of(&["lines", "bytes"]) == Some("bytes");
    let (raw, what) = if bytes {
        (Some(p.value("bytes").unwrap_or("")), "bytes")
    } else {
        (p.value("lines"), "lines")
    };
    let count = match raw {
        Some(v) => match parse(v) {
            Some(c) => c,
            None => {
                ctx.error(format!("invalid number of {what}: '{v}'")).await;
                return Err(1);
            }
        },
        None => default,
    };
    let delim = if p.has("zero") { 0 } else { b'\n' };
    Ok((count, bytes, delim))
}

/// How one file of a multi-file command ended.
pub(crate) enum FileEnd {
    /// Read to the end (or as far as needed).
    Done,
    /// The reader of stdout went away: stop quietly.
    BrokenPipe,
    /// A read failed with this message.
    ReadError(String),
}

/// Walks the operands of `head`/`tail` (`-` is stdin) with the
/// `==> NAME <==` headers of GNU coreutils 9.1: shown with `-v`, or for
/// more than one file unless `-q`; a blank line before every header but
/// the first. Open errors print `cannot open 'NAME' for reading: …`, read
/// errors `error reading 'NAME': …`; either makes [`FileWalk::status`] 1.
pub(crate) struct FileWalk {
    files: std::vec::IntoIter<String>,
    headers: bool,
    first: bool,
    name: String,
    /// The exit status so far.
    pub status: i32,
}

impl FileWalk {
    /// A walk over the operands of `p`.
    pub(crate) fn new(p: &ParsedArgs) -> Self {
        let files = operands_or_stdin(p);
        let headers = p.last_of(&["quiet", "verbose"]) == Some("verbose")
            || (files.len() > 1 && !p.has("quiet"));
        FileWalk {
            files: files.into_iter(),
            headers,
            first: true,
            name: String::new(),
            status: 0,
        }
    }

    /// Opens the next file and prints its header; `None` at the end or
    /// when stdout's reader has gone.
    pub(crate) async fn next(&mut self, ctx: &mut CommandCtx) -> Option<ByteSource> {
        for operand in self.files.by_ref() {
            self.name = if operand == "-" {
                "standard input".to_string()
            } else {
                operand.clone()
            };
            let header = format!(
                "{}==> {} <==\n",
                if self.first { "" } else { "\n" },
                self.name
            );
            let src = match open_input_err(ctx, &operand).await {
                Ok(s) => s,
                Err(e) if e.kind == ErrorKind::IsADirectory => {
                    if self.headers {
                        self.first = false;
                        let _ = ctx.stdout.write_str(&header).await;
                    }
                    ctx.error(format!("error reading '{}': {}", self.name, e.message()))
                        .await;
                    self.status = 1;
                    continue;
                }
                Err(e) => {
                    ctx.error(format!(
                        "cannot open '{}' for reading: {}",
                        self.name,
                        e.message()
                    ))
                    .await;
                    self.status = 1;
                    continue;
                }
            };
            if self.headers
                && let Err(e) = ctx.stdout.write_str(&header).await
                && e.kind == ErrorKind::BrokenPipe
            {
                return None;
            }
            self.first = false;
            return Some(src);
        }
        None
    }

    /// Records how the current file ended; `false` means stop (broken pipe).
    pub(crate) async fn finish(&mut self, ctx: &mut CommandCtx, end: FileEnd) -> bool {
        match end {
            FileEnd::Done => true,
            FileEnd::BrokenPipe => false,
            FileEnd::ReadError(msg) => {
                ctx.error(format!("error reading '{}': {msg}", self.name))
                    .await;
                self.status = 1;
                true
            }
        }
    }
}

/// The operands of `cp`/`mv` as GNU coreutils 9.1 reads them:
/// `SOURCE… DEST`, `-t DIR SOURCE…` and `-T SOURCE DEST`. Returns the
/// sources, the destination, and whether the destination is a directory to
/// put the sources into. Usage errors (`missing destination file operand
/// after 'X'`, `target 'X' is not a directory`, …) are printed and give
/// `Err(1)`.
pub(crate) async fn copy_targets(
    ctx: &mut CommandCtx,
    mut ops: Vec<String>,
    target_dir: Option<String>,
    no_target: bool,
) -> Result<(Vec<String>, String, bool), i32> {
    let name = ctx.name.clone();
    if ops.is_empty() {
        ctx.error(format!(
            "missing file operand\nTry '{name} --help' for more information."
        ))
        .await;
        return Err(1);
    }
    if let Some(t) = target_dir {
        let tabs = ctx.resolve(&t);
        return match ctx.vfs.stat(&tabs).await {
            Ok(st) if st.is_dir() => Ok((ops, t, true)),
            Ok(_) => {
                ctx.error(format!("target directory '{t}' is not a directory"))
                    .await;
                Err(1)
            }
            Err(e) => {
                ctx.error(format!("target directory '{t}': {}", e.message()))
                    .await;
                Err(1)
            }
        };
    }
    if ops.len() == 1 {
        let only = &ops[0];
        ctx.error(format!("missing destination file operand after '{only}'\nTry '{name} --help' for more information."))
            .await;
        return Err(1);
    }
    let dest = ops.pop().unwrap_or_default();
    let dabs = ctx.resolve(&dest);
    let dstat = ctx.vfs.stat(&dabs).await;
    let dest_is_dir = matches!(&dstat, Ok(st) if st.is_dir());
    if no_target {
        if ops.len() > 1 {
            ctx.error(format!(
                "extra operand '{}'\nTry '{name} --help' for more information.",
                ops[1]
            ))
            .await;
            return Err(1);
        }
        return Ok((ops, dest, false));
    }
    if ops.len() > 1 && !dest_is_dir {
        match dstat {
            Ok(_) => {
                ctx.error(format!("target '{dest}' is not a directory"))
                    .await;
            }
            Err(e) => ctx.error(format!("target '{dest}': {}", e.message())).await,
        }
        return Err(1);
    }
    Ok((ops, dest, dest_is_dir))
}

#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use mirage_types::command::{CommandCtx, CommandFn};
    use mirage_types::{
        ByteSource, Error, ErrorKind, FileStat, IOResult, Input, MountInfo, Output, Result, Sink,
        Vfs,
    };

    /// A tiny in-memory file tree; paths under `/ro` are read-only.
    #[derive(Default)]
    pub(crate) struct MemVfs {
        /// Files (bytes) and directories (`None`).
        pub(crate) tree: Mutex<BTreeMap<String, Option<Bytes>>>,
    }

    fn parent(p: &str) -> String {
        mirage_types::dirname(p)
    }

    impl MemVfs {
        /// A tree with `/` and the given files (parents created).
        pub(crate) fn with(files: &[(&str, &str)]) -> Arc<MemVfs> {
            let v = MemVfs::default();
            {
                let mut t = v
                    .tree
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                t.insert("/".into(), None);
                t.insert("/ro".into(), None);
                for (p, c) in files {
                    let mut d = parent(p);
                    while d != "/" {
                        t.insert(d.clone(), None);
                        d = parent(&d);
                    }
                    if p.ends_with('/') {
                        t.insert(p.trim_end_matches('/').to_string(), None);
                    } else {
                        t.insert(p.to_string(), Some(Bytes::from(c.to_string())));
                    }
                }
            }
            Arc::new(v)
        }
        fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Option<Bytes>>> {
            self.tree
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
        fn check_rw(path: &str) -> Result<()> {
            if path == "/ro" || path.starts_with("/ro/") {
                return Err(Error::at(ErrorKind::ReadOnly, path));
            }
            Ok(())
        }
        fn need_dir(t: &BTreeMap<String, Option<Bytes>>, d: &str) -> Result<()> {
            match t.get(d) {
                Some(None) => Ok(()),
                Some(Some(_)) => Err(Error::at(ErrorKind::NotADirectory, d)),
                None => Err(Error::not_found(d)),
            }
        }
        fn children(t: &BTreeMap<String, Option<Bytes>>, d: &str) -> Vec<String> {
            let pre = if d == "/" {
                "/".to_string()
            } else {
                format!("{d}/")
            };
            t.keys()
                .filter(|k| {
                    k.starts_with(&pre) && k.len() > pre.len() && !k[pre.len()..].contains('/')
                })
                .cloned()
                .collect()
        }
    }

    fn stat_of(path: &str, e: &Option<Bytes>) -> FileStat {
        let name = mirage_types::basename(path);
        let mut st = match e {
            None => FileStat::dir(name),
            Some(b) => FileStat::file(name, b.len() as u64),
        };
        st.modified = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
        st
    }

    impl MemVfs {
        fn stat_(&self, path: &str) -> Result<FileStat> {
            let t = self.lock();
            t.get(path)
                .map(|e| stat_of(path, e))
                .ok_or_else(|| Error::not_found(path))
        }
        fn readdir_(&self, path: &str) -> Result<Vec<FileStat>> {
            let t = self.lock();
            Self::need_dir(&t, path)?;
            Ok(Self::children(&t, path)
                .iter()
                .filter_map(|k| t.get(k).map(|e| stat_of(k, e)))
                .collect())
        }
        fn read_(&self, path: &str) -> Result<ByteSource> {
            let t = self.lock();
            match t.get(path) {
                Some(Some(b)) => Ok(ByteSource::Bytes(b.clone())),
                Some(None) => Err(Error::at(ErrorKind::IsADirectory, path)),
                None => Err(Error::not_found(path)),
            }
        }
        fn write_(&self, path: &str, b: Bytes, append: bool) -> Result<()> {
            Self::check_rw(path)?;
            let mut t = self.lock();
            Self::need_dir(&t, &parent(path))?;
            let mut old = match t.get(path) {
                Some(Some(o)) if append => o.to_vec(),
                Some(None) => return Err(Error::at(ErrorKind::IsADirectory, path)),
                _ => Vec::new(),
            };
            old.extend_from_slice(&b);
            t.insert(path.to_string(), Some(Bytes::from(old)));
            Ok(())
        }
        fn mkdir_(&self, path: &str, parents: bool) -> Result<()> {
            Self::check_rw(path)?;
            let mut t = self.lock();
            if t.contains_key(path) {
                return if parents && matches!(t.get(path), Some(None)) {
                    Ok(())
                } else {
                    Err(Error::at(ErrorKind::AlreadyExists, path))
                };
            }
            if parents {
                let mut d = parent(path);
                let mut todo = vec![];
                while !t.contains_key(&d) {
                    todo.push(d.clone());
                    d = parent(&d);
                }
                Self::need_dir(&t, &d)?;
                for x in todo {
                    t.insert(x, None);
                }
            } else {
                Self::need_dir(&t, &parent(path))?;
            }
            t.insert(path.to_string(), None);
            Ok(())
        }
        fn unlink_(&self, path: &str) -> Result<()> {
            Self::check_rw(path)?;
            let mut t = self.lock();
            match t.get(path) {
                Some(Some(_)) => {
                    t.remove(path);
                    Ok(())
                }
                Some(None) => Err(Error::at(ErrorKind::IsADirectory, path)),
                None => Err(Error::not_found(path)),
            }
        }
        fn rmdir_(&self, path: &str) -> Result<()> {
            Self::check_rw(path)?;
            let mut t = self.lock();
            Self::need_dir(&t, path)?;
            if !Self::children(&t, path).is_empty() {
                return Err(Error::at(ErrorKind::DirectoryNotEmpty, path));
            }
            t.remove(path);
            Ok(())
        }
        fn rename_(&self, from: &str, to: &str) -> Result<()> {
            Self::check_rw(from)?;
            Self::check_rw(to)?;
            let mut t = self.lock();
            if !t.contains_key(from) {
                return Err(Error::not_found(from));
            }
            Self::need_dir(&t, &parent(to))?;
            let pre = format!("{from}/");
            let keys: Vec<String> = t
                .keys()
                .filter(|k| *k == from || k.starts_with(&pre))
                .cloned()
                .collect();
            for k in keys {
                if let Some(v) = t.remove(&k) {
                    t.insert(format!("{to}{}", &k[from.len()..]), v);
                }
            }
            Ok(())
        }
    }

    fn bytes_of(data: ByteSource) -> Bytes {
        match data {
            ByteSource::Bytes(b) => b,
            ByteSource::Stream(_) => Bytes::new(),
        }
    }

    #[async_trait::async_trait]
    impl Vfs for MemVfs {
        async fn stat(&self, path: &str) -> Result<FileStat> {
            self.stat_(path)
        }
        async fn lstat(&self, path: &str) -> Result<FileStat> {
            // no links here: lstat is stat
            self.stat_(path)
        }
        async fn readlink(&self, path: &str) -> Result<String> {
            Err(Error::at(ErrorKind::Unsupported, path))
        }
        async fn symlink(&self, _target: &str, path: &str) -> Result<()> {
            Err(Error::at(ErrorKind::Unsupported, path))
        }
        async fn realpath(&self, path: &str) -> Result<String> {
            self.stat_(path).map(|_| mirage_types::normalize_path(path))
        }
        async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
            self.readdir_(path)
        }
        async fn read(&self, path: &str) -> Result<ByteSource> {
            self.read_(path)
        }
        async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
            self.write_(path, bytes_of(data), false)
        }
        async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
            self.write_(path, bytes_of(data), true)
        }
        async fn mkdir(&self, path: &str, parents: bool) -> Result<()> {
            self.mkdir_(path, parents)
        }
        async fn unlink(&self, path: &str) -> Result<()> {
            self.unlink_(path)
        }
        async fn rmdir(&self, path: &str) -> Result<()> {
            self.rmdir_(path)
        }
        async fn rename(&self, from: &str, to: &str) -> Result<()> {
            self.rename_(from, to)
        }
        fn mount_of(&self, _path: &str) -> Option<MountInfo> {
            None
        }
        fn mounts(&self) -> Vec<MountInfo> {
            Vec::new()
        }
    }

    /// Runs `handler` as `name args…` in `cwd` with `stdin`; returns
    /// (stdout, stderr, status).
    pub(crate) fn run(
        vfs: &Arc<MemVfs>,
        handler: CommandFn,
        name: &str,
        args: &[&str],
        cwd: &str,
        stdin: &str,
    ) -> (String, String, i32) {
        let (out_sink, out) = Sink::capture();
        let (err_sink, err) = Sink::capture();
        let mut ctx = CommandCtx {
            name: name.to_string(),
            args: args.iter().map(std::string::ToString::to_string).collect(),
            cwd: cwd.to_string(),
            env: BTreeMap::new(),
            vfs: vfs.clone(),
            stdin: Input::from_source(ByteSource::Bytes(Bytes::from(stdin.to_string()))),
            stdout: Output::new(out_sink),
            stderr: Output::new(err_sink),
            io: IOResult::default(),
            mount: None,
            runner: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread().build();
        let Ok(rt) = rt else {
            return (String::new(), "no runtime".into(), -1);
        };
        let status = rt.block_on(async {
            let s = handler(&mut ctx).await;
            let _ = ctx.stdout.flush().await;
            let _ = ctx.stderr.flush().await;
            s
        });
        let get = |b: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&b.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
                .into_owned()
        };
        (get(&out), get(&err), status)
    }
}
