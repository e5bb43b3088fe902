//! Mirage's `jq`: the command line, output format, error wording and exit
//! codes of jq 1.6 over the jaq interpreter (jaq-core, jaq-std, jaq-json).
//!
//! [`run`] is synchronous and touches no host resource: input arrives as
//! [`InputEvent`]s pulled from a closure (the command feeds it from the
//! VFS), output and diagnostics go to an [`Output`]. Values are parsed and
//! run one at a time as their bytes arrive ([`input::ValueReader`]).
//!
//! Differences from jaq that we adapt around (each named where it is done):
//! numbers print as jq 1.6's doubles ([`write::write_number`]); `env`,
//! `$ENV`, `debug`, `stderr`, `halt_error` and `input_filename` are ours
//! (jaq's read the host environment or log through the `log` crate);
//! runtime and compile errors are reworded as jq 1.6 words them.

#![deny(missing_docs)]

pub mod input;
pub mod write;

use std::cell::RefCell;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::native::{Filter as NativeFilter, Fun, bome, run as native_run, v};
use jaq_core::{Ctx, DataT, Exn, RunPtr, Vars};
use jaq_json::Val;
use jaq_std::input::{HasInputs, Inputs, RcIter};

pub use write::Format;

/// A `$name` given on the command line.
#[derive(Debug, Clone)]
pub enum NamedArg {
    /// `--arg name value`: a string.
    Str(String),
    /// `--argjson name text`: the JSON text.
    Json(String),
    /// `--slurpfile name file`: the file's bytes, bound to the array of its values.
    SlurpFile(String, Vec<u8>),
    /// `--rawfile name file`: the file's bytes, bound as one string.
    RawFile(Vec<u8>),
}

/// The settings of one `jq` run (its options, parsed by the command).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The jq program.
    pub filter: String,
    /// `--arg`, `--argjson`, `--slurpfile`, `--rawfile`, in order.
    pub named: Vec<(String, NamedArg)>,
    /// `-n`: run once with `null` as input.
    pub null_input: bool,
    /// `-s`: read all inputs into one array (one string with `-R`).
    pub slurp: bool,
    /// `-R`: each input line is a string.
    pub raw_input: bool,
    /// `-r`: strings print without quotes.
    pub raw_output: bool,
    /// `-j`: as `-r`, and no newline after each output.
    pub join_output: bool,
    /// `-e`: the exit status tells the last output (1 for `false`/`null`, 4 for none).
    pub exit_status: bool,
    /// Indentation, key order, ASCII output.
    pub format: Format,
    /// The environment for `$ENV` and `env`.
    pub env: Vec<(String, String)>,
    /// `--stream`: each input value arrives as jq's stream events
    /// (`[path, leaf]`, and `[path]` closing each non-empty container).
    pub stream: bool,
    /// `--args` / `--jsonargs` operands, for `$ARGS.positional`
    /// ([`NamedArg::Str`] or [`NamedArg::Json`]).
    pub positional: Vec<NamedArg>,
}

/// One piece of input, in order.
#[derive(Debug, Clone)]
pub enum InputEvent {
    /// The following data comes from this file (`<stdin>` for standard input).
    File(String),
    /// Bytes of the current file.
    Data(Vec<u8>),
    /// A file could not be opened: jq 1.6's message, printed in order; the
    /// exit status becomes 2.
    OpenError(String),
}

/// Where output goes.
pub trait Output {
    /// Writes bytes to standard output; `false` when the reader went away
    /// (then the run stops).
    fn stdout(&mut self, bytes: &[u8]) -> bool;
    /// Writes bytes to standard error.
    fn stderr(&mut self, bytes: &[u8]);
}

/// The usage hint jq 1.6 prints after a command-line error.
pub const USAGE_HINT: &str = "Use jq --help for help with command-line options,\nor see the jq manpage, or online docs  at https://stedolan.github.io/jq\n";

/// Where values come from: the pulled events, split into JSON values (or
/// raw lines), with the location jq names in errors.
struct Source<'a> {
    pull: Box<dyn FnMut() -> Option<InputEvent> + 'a>,
    reader: input::ValueReader,
    raw: bool,
    raw_buf: Vec<u8>,
    raw_eof: bool,
    file: std::rc::Rc<RefCell<Option<String>>>,
    line: usize,
    messages: Vec<String>,
    open_failed: bool,
    done: bool,
    stream: bool,
    events: std::collections::VecDeque<Val>,
}

impl Source<'_> {
    /// Pulls one event; `false` at the end of input.
    fn pull(&mut self) -> bool {
        if self.done {
            return false;
        }
        match (self.pull)() {
            Some(InputEvent::File(f)) => *self.file.borrow_mut() = Some(f),
            Some(InputEvent::Data(d)) => {
                if self.raw {
                    self.raw_buf.extend_from_slice(&d);
                } else {
                    self.reader.push(&d);
                }
            }
            Some(InputEvent::OpenError(m)) => {
                self.messages.push(m);
                self.open_failed = true;
            }
            None => {
                self.done = true;
                self.reader.finish();
                self.raw_eof = true;
            }
        }
        true
    }

    /// The next input value, or a parse error (jq's `parse error: …` text).
    fn next_value(&mut self) -> Option<Result<Val, String>> {
        if self.raw {
            loop {
                if let Some(i) = self.raw_buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = self.raw_buf.drain(..=i).take(i).collect();
                    self.line += 1;
                    return Some(Ok(Val::utf8_str(line)));
                }
                if self.raw_eof {
                    if self.raw_buf.is_empty() {
                        return None;
                    }
                    return Some(Ok(Val::utf8_str(std::mem::take(&mut self.raw_buf))));
                }
                self.pull();
            }
        }
        if let Some(e) = self.events.pop_front() {
            return Some(Ok(e));
        }
        loop {
            match self.reader.next_value() {
                input::Next::Value(v, line) => {
                    self.line = line;
                    if self.stream {
                        stream_events(v, &mut Vec::new(), &mut self.events);
                        return self.events.pop_front().map(Ok);
                    }
                    return Some(Ok(v));
                }
                input::Next::NeedMore => {
                    self.pull();
                }
                input::Next::End => return None,
                input::Next::Error(e) => return Some(Err(e)),
            }
        }
    }

    /// Everything left, as `-s` reads it: one array, or one string with `-R`.
    fn slurp(&mut self) -> Result<Val, String> {
        if self.raw {
            while self.pull() {}
            return Ok(Val::utf8_str(std::mem::take(&mut self.raw_buf)));
        }
        let mut all = Vec::new();
        while let Some(v) = self.next_value() {
            all.push(v?);
        }
        Ok(all.into_iter().collect())
    }
}

/// Appends the `--stream` events of `v` at `path` (jq 1.6's order).
fn stream_events(v: Val, path: &mut Vec<Val>, out: &mut std::collections::VecDeque<Val>) {
    let children: Vec<(Val, Val)> = match v {
        Val::Arr(ref a) if !a.is_empty() => a
            .iter()
            .enumerate()
            .map(|(i, x)| (Val::from(i), x.clone()))
            .collect(),
        Val::Obj(ref o) if !o.is_empty() => o.iter().map(|(k, x)| (k.clone(), x.clone())).collect(),
        leaf => {
            out.push_back([path.iter().cloned().collect(), leaf].into_iter().collect());
            return;
        }
    };
    let mut last = Val::Null;
    for (k, x) in children {
        path.push(k.clone());
        stream_events(x, path, out);
        path.pop();
        last = k;
    }
    let mut closing: Vec<Val> = path.clone();
    closing.push(last);
    out.push_back([closing.into_iter().collect::<Val>()].into_iter().collect());
}

/// The data jaq's native filters see: the look-up table, the inputs for
/// `input`/`inputs`, and our own state (diagnostics, current file).
struct Globals<'a> {
    lut: &'a jaq_core::Lut<Data>,
    inputs: Inputs<'a, Val>,
    file: &'a RefCell<Option<String>>,
    log: &'a RefCell<Vec<u8>>,
}

/// The [`DataT`] of our filters.
struct Data;

impl DataT for Data {
    type V<'a> = Val;
    type Data<'a> = &'a Globals<'a>;
}

impl<'a> jaq_core::data::HasLut<'a, Data> for &'a Globals<'a> {
    fn lut(&self) -> &'a jaq_core::Lut<Data> {
        self.lut
    }
}

impl<'a> HasInputs<'a, Val> for &'a Globals<'a> {
    fn inputs(&self) -> Inputs<'a, Val> {
        self.inputs
    }
}

fn compact(v: &Val) -> Vec<u8> {
    let mut out = Vec::new();
    write::write_value(
        v,
        &Format {
            indent: None,
            ..Format::default()
        },
        0,
        &mut out,
    );
    out
}

/// Our replacements for jaq's host-touching filters.
fn own_funs() -> Vec<NativeFilter<RunPtr<Data>>> {
    vec![
        // jq 1.6 `debug`: `["DEBUG:",VALUE]` on stderr (jaq logs through `log`).
        ("debug_empty", v(0), |cv| {
            let mut line = b"[\"DEBUG:\",".to_vec();
            line.extend(compact(&cv.1));
            line.extend_from_slice(b"]\n");
            cv.0.data().log.borrow_mut().extend(line);
            Box::new(std::iter::empty())
        }),
        // jq 1.6 `stderr`: the value as compact JSON, no newline.
        ("stderr_empty", v(0), |cv| {
            cv.0.data().log.borrow_mut().extend(compact(&cv.1));
            Box::new(std::iter::empty())
        }),
        // jq 1.6 `halt_error`: a string as it is, anything else as JSON and a newline.
        ("halt_error_print", v(0), |cv| {
            let mut log = cv.0.data().log.borrow_mut();
            match &cv.1 {
                Val::TStr(s) | Val::BStr(s) => log.extend_from_slice(s),
                other => {
                    log.extend(compact(other));
                    log.push(b'\n');
                }
            }
            Box::new(std::iter::empty())
        }),
        // jq 1.6 prints numbers as doubles (`5`, not jaq's `5.0`) in
        // `tojson`, `@csv` and `@tsv` (our jaq-json patch does the same for
        // `tostring` and string interpolation).
        ("tojson", v(0), |cv| bome(Ok(Val::utf8_str(compact(&cv.1))))),
        // jaq defines these as `0 / 0` and `1 / 0`, an error in jq 1.6 (and in our jaq-json).
        ("_mirage_nan", v(0), |_| bome(Ok(Val::from(f64::NAN)))),
        ("_mirage_infinite", v(0), |_| {
            bome(Ok(Val::from(f64::INFINITY)))
        }),
        ("@csv", v(0), |cv| bome(row(&cv.1, true).map(Val::utf8_str))),
        ("@tsv", v(0), |cv| {
            bome(row(&cv.1, false).map(Val::utf8_str))
        }),
        ("input_filename", v(0), |cv| {
            let f = cv.0.data().file.borrow().clone();
            bome(Ok(f.map_or(Val::Null, Val::from)))
        }),
    ]
}

/// `@csv` (`csv`) or `@tsv` of an array, as jq 1.6 formats a row.
fn row(v: &Val, csv: bool) -> Result<Vec<u8>, jaq_core::Error<Val>> {
    let what = if csv { "csv" } else { "tsv" };
    let Val::Arr(a) = v else {
        return Err(jaq_core::Error::str(format!(
            "{} ({}) cannot be {what}-formatted, only an array can be",
            type_name(v),
            String::from_utf8_lossy(&compact(v))
        )));
    };
    let mut out = Vec::new();
    for (i, x) in a.iter().enumerate() {
        if i > 0 {
            out.push(if csv { b',' } else { b'\t' });
        }
        match x {
            Val::Null => {}
            Val::Bool(_) | Val::Num(_) => out.extend(compact(x)),
            Val::TStr(s) | Val::BStr(s) if csv => {
                out.push(b'"');
                for &b in s.iter() {
                    if b == b'"' {
                        out.push(b'"');
                    }
                    out.push(b);
                }
                out.push(b'"');
            }
            Val::TStr(s) | Val::BStr(s) => {
                for &b in s.iter() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
            }
            other => {
                return Err(jaq_core::Error::str(format!(
                    "{} ({}) is not valid in a {what} row",
                    type_name(other),
                    String::from_utf8_lossy(&compact(other))
                )));
            }
        }
    }
    Ok(out)
}

/// Definitions that replace jaq's (later definitions win; the ones that
/// call `tostring` are repeated so they call ours).
const OWN_DEFS: &str = r#"
def @text: tostring;
def @json: tojson;
def @html: tostring | escape_html;
def @uri: tostring | encode_uri;
def @base64: tostring | encode_base64;
def @base64d: tostring | decode_base64;
def join($x): reduce .[] as $i (null; (if . == null then "" else . + $x end) + ($i | if . == null then "" elif type == "string" then . else tojson end)) // "";
def env: $ENV;
def nan: _mirage_nan;
def infinite: _mirage_infinite;
def isnan: . < nan and nan < .;
def isinfinite: . == infinite or . == -infinite;
def isfinite: isnumber and (isinfinite | not);
def isnormal: isnumber and ((. == 0 or isnan or isinfinite) | not);
def logb: if . == 0.0 then -infinite elif isinfinite then infinite elif isnan then . else ilogb | . + 0.0 end;
def significand: if isinfinite or isnan then . elif . == 0.0 then 0.0 else scalbln(.; ilogb | -1 * .) end;
def finites: select(isfinite);
def normals: select(isnormal);
def ltrimstr($x): if type == "string" and ($x | type) == "string" and startswith($x) then .[($x | length):] else . end;
def rtrimstr($x): if type == "string" and ($x | type) == "string" and endswith($x) and ($x | length) > 0 then .[:length - ($x | length)] else . end;
def leaf_paths: paths(scalars);
def IN(s): any(s == .; .);
def IN(src; s): any(src == s; .);
def tostream: path(def r: (.[]? | r), .; r) as $p | getpath($p) | reduce path(.[]?) as $q ([$p, .]; [$p + $q]);
def fromstream(f): { x: null, e: false } as $init
  | foreach f as $i ($init;
      if .e then $init else . end
      | if $i | length == 2
        then setpath(["e"]; $i[0] | length == 0) | setpath(["x"] + $i[0]; $i[1])
        else setpath(["e"]; $i[0] | length == 1) end;
      if .e then .x else empty end);
def halt_error($exit_code): halt_error_print, halt($exit_code);
def halt_error: halt_error(5);
"#;

/// The program with `\uD83D\uDE00`-style surrogate pairs in string
/// literals turned into the character itself: jq accepts them, jaq's lexer
/// rejects a lone surrogate escape.
fn join_surrogates(prog: &str) -> String {
    let b = prog.as_bytes();
    let hex = |i: usize| -> Option<u32> {
        let h = b.get(i..i + 4)?;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let mut out = String::with_capacity(prog.len());
    let mut i = 0;
    let mut last = 0;
    while i + 12 <= b.len() {
        if b[i] == b'\\' && b[i + 1] == b'u' && b[i + 6] == b'\\' && b[i + 7] == b'u' {
            let escaped = b[..i].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1;
            if !escaped
                && let (Some(hi), Some(lo)) = (hex(i + 2), hex(i + 8))
                && (0xD800..0xDC00).contains(&hi)
                && (0xDC00..0xE000).contains(&lo)
                && let Some(c) = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
            {
                out.push_str(&prog[last..i]);
                out.push(c);
                i += 12;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&prog[last..]);
    out
}

/// A jq 1.6 compile error report: `jq: error: MSG at <top-level>, line 1:`,
/// the program, then `jq: N compile error(s)`.
fn compile_errors(prog: &str, msgs: &[String]) -> String {
    let mut out = String::new();
    for m in msgs {
        out.push_str(&format!("jq: error: {m} at <top-level>, line 1:\n{prog}\n"));
    }
    let n = msgs.len();
    out.push_str(&format!(
        "jq: {n} compile error{}\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// A JSON type name as jq 1.6 says it.
fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Num(_) => "number",
        Val::TStr(_) | Val::BStr(_) => "string",
        Val::Arr(_) => "array",
        Val::Obj(_) => "object",
    }
}

/// `v` as compact JSON cut as jq 1.6 cuts values in messages
/// (`jv_dump_string_trunc` into 15 bytes: past 14, the first 11 and `...`).
fn truncated(v: &Val) -> String {
    let s = String::from_utf8_lossy(&compact(v)).into_owned();
    if s.len() <= 14 {
        return s;
    }
    let mut end = 11;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The first value and its end in `s` (jaq prints values as JSON in messages).
fn leading_value(s: &str) -> Option<(Val, usize)> {
    let mut it = serde_json::Deserializer::from_str(s).into_iter::<Val>();
    let v = it.next()?.ok()?;
    Some((v, it.byte_offset()))
}

/// Rewords jaq's runtime error messages as jq 1.6 prints them, where the
/// pattern is known (jaq: `cannot index [1] with "a"`; jq: `Cannot index
/// array with string "a"`); others keep jaq's wording.
fn jq_message(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("cannot index ")
        && let Some((l, end)) = leading_value(rest)
        && let Some(r) = rest[end..].strip_prefix(" with ")
        && let Some((r, _)) = leading_value(r)
    {
        let lt = type_name(&l);
        let rs = String::from_utf8_lossy(&compact(&r)).into_owned();
        return match (&l, &r) {
            (_, Val::TStr(_)) => format!("Cannot index {lt} with string {rs}"),
            _ => format!("Cannot index {lt} with {}", type_name(&r)),
        };
    }
    if let Some(rest) = msg.strip_prefix("cannot calculate ")
        && let Some((l, end)) = leading_value(rest)
        && let Some((op, r)) = rest[end..].trim_start().split_once(' ')
        && let Some((r, _)) = leading_value(r)
    {
        let verb = match op {
            "+" => "added",
            "-" => "subtracted",
            "*" => "multiplied",
            "/" => "divided",
            "%" => "divided (remainder)",
            _ => return msg.to_string(),
        };
        return format!(
            "{} ({}) and {} ({}) cannot be {verb}",
            type_name(&l),
            truncated(&l),
            type_name(&r),
            truncated(&r)
        );
    }
    if let Some(rest) = msg.strip_prefix("cannot use ")
        && let Some((l, end)) = leading_value(rest)
        && rest[end..].starts_with(" as iterable")
    {
        return match l {
            Val::Null => "Cannot iterate over null".to_string(),
            other => format!(
                "Cannot iterate over {} ({})",
                type_name(&other),
                truncated(&other)
            ),
        };
    }
    msg.to_string()
}

/// Runs `cfg` over the input pulled from `pull`, writing to `out`; returns
/// jq 1.6's exit status: 0; 1 or 4 under `-e` (last output `false`/`null`,
/// or no output); 2 for a usage error or a file that could not be opened;
/// 3 for a compile error; 4 for bad input JSON; 5 when the last input
/// ended in a runtime error; or the status given to `halt`/`halt_error`.
pub fn run<'p>(
    cfg: &Config,
    pull: Box<dyn FnMut() -> Option<InputEvent> + 'p>,
    out: &mut dyn Output,
) -> i32 {
    // Named arguments.
    let mut names: Vec<String> = vec!["$ENV".to_string(), "$__loc__".to_string()];
    let env: Val = Val::obj(
        cfg.env
            .iter()
            .map(|(k, x)| (Val::from(k.clone()), Val::from(x.clone())))
            .collect(),
    );
    // `$__loc__`: jq's location of the token; programs here are one line.
    let loc = Val::obj(
        [
            (
                Val::from("file".to_string()),
                Val::from("<top-level>".to_string()),
            ),
            (Val::from("line".to_string()), Val::from(1usize)),
        ]
        .into_iter()
        .collect(),
    );
    let mut values: Vec<Val> = vec![env, loc];
    let mut named_obj = Vec::new();
    for (name, arg) in &cfg.named {
        let value = match arg {
            NamedArg::Str(s) => Val::from(s.clone()),
            NamedArg::RawFile(b) => Val::utf8_str(b.clone()),
            NamedArg::Json(text) => match input::parse_one(text.as_bytes()) {
                Some(v) => v,
                None => {
                    out.stderr(b"jq: invalid JSON text passed to --argjson\n");
                    out.stderr(USAGE_HINT.as_bytes());
                    return 2;
                }
            },
            NamedArg::SlurpFile(file, b) => {
                let mut r = input::ValueReader::new();
                r.push(b);
                r.finish();
                let mut all = Vec::new();
                loop {
                    match r.next_value() {
                        input::Next::Value(v, _) => all.push(v),
                        input::Next::Error(e) => {
                            let m = format!("jq: Bad JSON in --slurpfile {name} {file}: {e}\n");
                            out.stderr(m.as_bytes());
                            return 2;
                        }
                        _ => break,
                    }
                }
                all.into_iter().collect()
            }
        };
        named_obj.push((Val::from(name.clone()), value.clone()));
        names.push(format!("${name}"));
        values.push(value);
    }
    let mut positional = Vec::new();
    for arg in &cfg.positional {
        positional.push(match arg {
            NamedArg::Json(text) => match input::parse_one(text.as_bytes()) {
                Some(v) => v,
                None => {
                    out.stderr(b"jq: Invalid JSON text passed to --jsonargs\n");
                    out.stderr(USAGE_HINT.as_bytes());
                    return 2;
                }
            },
            NamedArg::Str(s) => Val::from(s.clone()),
            NamedArg::SlurpFile(_, b) | NamedArg::RawFile(b) => Val::utf8_str(b.clone()),
        });
    }
    // jq 1.6's `$ARGS`: `{"positional": [...], "named": {...}}`.
    names.push("$ARGS".to_string());
    values.push(Val::obj(
        [
            (
                Val::from("positional".to_string()),
                positional.into_iter().collect(),
            ),
            (
                Val::from("named".to_string()),
                Val::obj(named_obj.into_iter().collect()),
            ),
        ]
        .into_iter()
        .collect(),
    ));

    // Compile.
    let own_defs = jaq_core::load::parse(OWN_DEFS, |p| p.defs()).unwrap_or_default();
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(own_defs);
    let replaced = [
        "env",
        "debug_empty",
        "stderr_empty",
        "input",
        "inputs",
        "tojson",
    ];
    let funs: Vec<Fun<Data>> = jaq_core::funs::<Data>()
        .chain(jaq_std::funs::<Data>().filter(|f| !replaced.contains(&f.0)))
        .chain(jaq_json::funs::<Data>().filter(|f| !replaced.contains(&f.0)))
        .chain(
            jaq_std::input::funs::<Data>()
                .into_vec()
                .into_iter()
                .map(native_run::<Data>),
        )
        .chain(own_funs().into_iter().map(native_run::<Data>))
        .collect();
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let prog_text = join_surrogates(&cfg.filter);
    let prog = prog_text.as_str();
    let modules = match loader.load(
        &arena,
        File {
            code: prog,
            path: (),
        },
    ) {
        Ok(m) => m,
        Err(errs) => {
            let msgs: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, e)| syntax_messages(e))
                .collect();
            out.stderr(compile_errors(prog, &msgs).as_bytes());
            return 3;
        }
    };
    let var_names: Vec<&str> = names.iter().map(String::as_str).collect();
    let filter = match jaq_core::Compiler::default()
        .with_funs(funs)
        .with_global_vars(var_names.iter().copied())
        .compile(modules)
    {
        Ok(f) => f,
        Err(errs) => {
            let msgs: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, es)| es)
                .map(|(name, u)| match u {
                    jaq_core::compile::Undefined::Filter(arity) => {
                        format!("{name}/{arity} is not defined")
                    }
                    jaq_core::compile::Undefined::Var if !name.starts_with('$') => {
                        format!("${name} is not defined")
                    }
                    other => format!("{name} is not a defined {}", other.as_str()),
                })
                .map(|m| m.replace(" is not a defined variable", " is not defined"))
                .collect();
            out.stderr(compile_errors(prog, &msgs).as_bytes());
            return 3;
        }
    };

    // Run.
    let file = std::rc::Rc::new(RefCell::new(None));
    let source = RefCell::new(Source {
        pull,
        reader: input::ValueReader::new(),
        raw: cfg.raw_input,
        raw_buf: Vec::new(),
        raw_eof: false,
        file: file.clone(),
        line: 0,
        messages: Vec::new(),
        open_failed: false,
        done: false,
        stream: cfg.stream,
        events: std::collections::VecDeque::new(),
    });
    let parse_failed = RefCell::new(None::<String>);
    let iter = std::iter::from_fn(|| {
        if parse_failed.borrow().is_some() {
            return None;
        }
        let r = source.borrow_mut().next_value();
        if let Some(Err(e)) = &r {
            *parse_failed.borrow_mut() = Some(e.clone());
        }
        r
    });
    let inputs = RcIter::new(iter);
    let inputs_ref: Inputs<'_, Val> = &inputs;
    let log = RefCell::new(Vec::new());
    let globals = Globals {
        lut: &filter.lut,
        inputs: inputs_ref,
        file: &file,
        log: &log,
    };
    let mut runner = Runner {
        cfg,
        out,
        buf: Vec::with_capacity(64 * 1024),
        status: 0,
        gone: false,
    };
    let mut status: i32 = if cfg.exit_status { 14 } else { 0 };
    let mut halted = None;
    let run_one = |input: Val, runner: &mut Runner<'_>| -> (i32, Option<i32>) {
        let ctx = Ctx::<Data>::new(&globals, Vars::new(values.iter().cloned()));
        runner.run(&filter.id, ctx, input, &log, &source)
    };
    if cfg.null_input {
        (status, halted) = run_one(Val::Null, &mut runner);
    } else if cfg.slurp {
        let all = source.borrow_mut().slurp();
        match all {
            Ok(all) => (status, halted) = run_one(all, &mut runner),
            Err(e) => *parse_failed.borrow_mut() = Some(e),
        }
    } else {
        for item in &inputs {
            runner.flush_messages(&source);
            let Ok(v) = item else { break };
            (status, halted) = run_one(v, &mut runner);
            if halted.is_some() || runner.gone {
                break;
            }
        }
    }
    runner.flush_messages(&source);
    runner.flush();
    if let Some(code) = halted {
        return code;
    }
    if let Some(e) = parse_failed.borrow().as_ref() {
        runner.out.stderr(format!("parse error: {e}\n").as_bytes());
        // jq 1.6 exits 4 for bad input (`printf '1 {' | jq .` prints 1, then the error, status 4).
        return 4;
    }
    if source.borrow().open_failed {
        return 2;
    }
    if status >= 10 {
        return if cfg.exit_status { status - 10 } else { 0 };
    }
    status
}

/// Turns jaq's lex/parse errors into jq-like `syntax error, …` messages.
fn syntax_messages(e: jaq_core::load::Error<&str>) -> Vec<String> {
    use jaq_core::load::Error;
    let unexpected = |found: &str| {
        if found.is_empty() {
            "$end".to_string()
        } else {
            let t: String = found.chars().take(10).collect();
            format!("'{t}'")
        }
    };
    match e {
        Error::Io(v) => v.into_iter().map(|(p, m)| format!("{p}: {m}")).collect(),
        Error::Lex(v) => v
            .into_iter()
            .map(|(_, found)| {
                format!(
                    "syntax error, unexpected {} (Unix shell quoting issues?)",
                    unexpected(found)
                )
            })
            .collect(),
        Error::Parse(v) => v
            .into_iter()
            .map(|(_, found)| {
                format!(
                    "syntax error, unexpected {} (Unix shell quoting issues?)",
                    unexpected(found)
                )
            })
            .collect(),
    }
}

/// Writes outputs and tracks the exit status.
struct Runner<'o> {
    cfg: &'o Config,
    out: &'o mut dyn Output,
    buf: Vec<u8>,
    status: i32,
    gone: bool,
}

impl Runner<'_> {
    fn flush(&mut self) {
        if !self.buf.is_empty() && !self.gone {
            if !self.out.stdout(&self.buf) {
                self.gone = true;
            }
            self.buf.clear();
        }
    }

    fn flush_log(&mut self, log: &RefCell<Vec<u8>>) {
        let mut l = log.borrow_mut();
        if !l.is_empty() {
            self.flush();
            self.out.stderr(&l);
            l.clear();
        }
    }

    fn flush_messages(&mut self, source: &RefCell<Source<'_>>) {
        let msgs = std::mem::take(&mut source.borrow_mut().messages);
        if !msgs.is_empty() {
            self.flush();
            for m in msgs {
                self.out.stderr(m.as_bytes());
            }
        }
    }

    /// Runs the filter on one input; returns the status after it and the
    /// `halt` status, if it halted.
    fn run<'a>(
        &mut self,
        id: &jaq_core::compile::TermId,
        ctx: Ctx<'a, Data>,
        input: Val,
        log: &RefCell<Vec<u8>>,
        source: &RefCell<Source<'_>>,
    ) -> (i32, Option<i32>) {
        let mut status = if self.cfg.exit_status { 14 } else { 0 };
        for r in id.run((ctx, input)) {
            self.flush_log(log);
            match r {
                Ok(v) => {
                    if self.cfg.exit_status {
                        status = if matches!(v, Val::Null | Val::Bool(false)) {
                            11
                        } else {
                            0
                        };
                    } else {
                        status = 0;
                    }
                    self.emit(&v);
                    if self.gone {
                        return (status, None);
                    }
                }
                Err(exn) => {
                    let exn: Exn<'_, Val> = exn;
                    match exn.get_err() {
                        // jq 1.6 treats `error(null)` as no error: the input just ends.
                        Ok(e) if matches!(e.clone().into_val(), Val::Null) => break,
                        Ok(e) => {
                            let loc = match &*source.borrow().file.borrow() {
                                _ if self.cfg.null_input => "<unknown>".to_string(),
                                Some(f) => format!("{f}:{}", source.borrow().line),
                                None => format!("<stdin>:{}", source.borrow().line),
                            };
                            let msg = match e.into_val() {
                                Val::TStr(s) => format!(
                                    "jq: error (at {loc}): {}\n",
                                    jq_message(&String::from_utf8_lossy(&s))
                                ),
                                other => format!(
                                    "jq: error (at {loc}) (not a string): {}\n",
                                    String::from_utf8_lossy(&compact(&other))
                                ),
                            };
                            self.flush();
                            self.out.stderr(msg.as_bytes());
                            status = 5;
                            break;
                        }
                        Err(exn) => match exn.get_halt() {
                            Ok(code) => {
                                self.flush_log(log);
                                return (status, Some(code));
                            }
                            Err(_) => break,
                        },
                    }
                }
            }
        }
        self.flush_log(log);
        self.status = status;
        (status, None)
    }

    fn emit(&mut self, v: &Val) {
        let raw = self.cfg.raw_output || self.cfg.join_output;
        match v {
            // jq 1.6 holds strings as UTF-8: invalid bytes come out as U+FFFD.
            Val::TStr(s) | Val::BStr(s) if raw => {
                for chunk in s.utf8_chunks() {
                    self.buf.extend_from_slice(chunk.valid().as_bytes());
                    if !chunk.invalid().is_empty() {
                        self.buf.extend_from_slice("\u{FFFD}".as_bytes());
                    }
                }
            }
            _ => write::write_value(v, &self.cfg.format, 0, &mut self.buf),
        }
        if !self.cfg.join_output {
            self.buf.push(b'\n');
        }
        if self.buf.len() >= 32 * 1024 {
            self.flush();
        }
    }
}

#[cfg(test)]
mod tests;
