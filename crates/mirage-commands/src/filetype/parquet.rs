//! `cat`, `head` and `wc -l` on `*.parquet` files (cargo feature
//! `parquet`): the rows, one JSON object per line, as the model product
//! shows a table to an agent.
//!
//! - `cat F.parquet…` prints every row of each file as one JSON line (the
//!   `parquet` crate's record API, columns in the file's order); an operand that
//!   is not a `.parquet` file is printed as it is.
//! - `head [-n N | -N] F.parquet…` prints the first N rows (default 10),
//!   with GNU's `==> F <==` headers between several files (`-q`, `-v`).
//! - `wc -l F.parquet…` prints the row count from the file's footer, in
//!   GNU wc's format (a `total` line for several files). Other `wc`
//!   options count the file's bytes as the general `wc` does.
//! - Any other option is refused with "unsupported on a parquet file"
//!   (exit 1) rather than applied to the JSON text.
//!
//! A file is read whole (the footer is at its end); rows are decoded on a
//! blocking thread and sent through a bounded channel, so `head -n 1`
//! decodes little and the output streams. A file that is not valid
//! Parquet gives `NAME: F: not a parquet file: REASON`, exit 1.

use bytes::Bytes;
use mirage_types::args::ParsedArgs;
use mirage_types::command::{CmdError, CommandCtx, CommandRegistration, Effect};
use parquet::file::reader::{FileReader, SerializedFileReader};
use tokio::sync::mpsc;

use crate::builtin::{cat, head, wc};
use crate::util::parse_cmd;

inventory::submit! {
    CommandRegistration {
        name: "cat",
        resource: None,
        filetype: Some("parquet"),
        spec: &cat::SPEC,
        effect: Effect::Read,
        handler: run_cat,
    }
}

inventory::submit! {
    CommandRegistration {
        name: "head",
        resource: None,
        filetype: Some("parquet"),
        spec: &head::SPEC,
        effect: Effect::Read,
        handler: run_head,
    }
}

inventory::submit! {
    CommandRegistration {
        name: "wc",
        resource: None,
        filetype: Some("parquet"),
        spec: &wc::SPEC,
        effect: Effect::Read,
        handler: run_wc,
    }
}

mirage_types::command_handler!(fn run_cat = cat_body);
mirage_types::command_handler!(fn run_head = head_body);
mirage_types::command_handler!(fn run_wc = wc_body);

fn is_parquet(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("parquet"))
}

/// Refuses every option but those in `allowed`.
fn only(p: &ParsedArgs, allowed: &[&str]) -> Result<(), CmdError> {
    match p.opts.iter().find(|(k, _)| !allowed.contains(k)) {
        Some((k, _)) => Err(CmdError::new(
            1,
            format!("option '{k}' is unsupported on a parquet file"),
        )),
        None => Ok(()),
    }
}

/// The bytes of `operand` (resolved against the cwd).
async fn read_file(ctx: &mut CommandCtx, operand: &str) -> Result<Bytes, CmdError> {
    let vfs = ctx.vfs.clone();
    let abs = ctx.resolve(operand);
    let src = vfs
        .read(&abs)
        .await
        .map_err(|e| CmdError::new(1, format!("{operand}: {}", e.message())))?;
    let data = src
        .collect()
        .await
        .map_err(|e| CmdError::new(1, format!("{operand}: {}", e.message())))?;
    ctx.io.read(&abs);
    Ok(data)
}

fn open(operand: &str, data: Bytes) -> Result<SerializedFileReader<Bytes>, CmdError> {
    SerializedFileReader::new(data)
        .map_err(|e| CmdError::new(1, format!("{operand}: not a parquet file: {e}")))
}

/// Prints up to `limit` rows of `data` as JSON lines.
async fn print_rows(
    ctx: &mut CommandCtx,
    operand: &str,
    data: Bytes,
    limit: Option<u64>,
) -> Result<(), CmdError> {
    let reader = open(operand, data)?;
    let (tx, mut rx) = mpsc::channel::<Result<Vec<u8>, String>>(64);
    let worker = tokio::task::spawn_blocking(move || {
        let rows = match reader.get_row_iter(None) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e.to_string()));
                return;
            }
        };
        for (n, row) in (0u64..).zip(rows) {
            if limit.is_some_and(|l| n >= l) {
                return;
            }
            let line = row.map_err(|e| e.to_string()).map(|r| row_json(&r));
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        match line {
            Ok(l) => ctx.stdout.write(&l).await?,
            Err(e) => return Err(CmdError::new(1, format!("{operand}: {e}"))),
        }
    }
    let _ = worker.await;
    Ok(())
}

/// One row as a JSON object with its columns in the file's order
/// (`Row::to_json_value` would sort them), and a newline.
fn row_json(row: &parquet::record::Row) -> Vec<u8> {
    let mut s = String::from("{");
    for (i, (name, field)) in row.get_column_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&serde_json::Value::String(name.clone()).to_string());
        s.push(':');
        s.push_str(&field.to_json_value().to_string());
    }
    s.push_str("}\n");
    s.into_bytes()
}

async fn cat_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &cat::SPEC)?;
    only(&p, &[])?;
    let mut status = 0;
    for op in p.operands.clone() {
        let data = match read_file(ctx, &op).await {
            Ok(d) => d,
            Err(e) => {
                ctx.error(e.message.unwrap_or_default()).await;
                status = 1;
                continue;
            }
        };
        let done = if is_parquet(&op) {
            print_rows(ctx, &op, data, None).await
        } else {
            ctx.stdout.write_bytes(data).await.map_err(CmdError::from)
        };
        if let Err(e) = done {
            if e.status == 141 {
                return Err(e);
            }
            ctx.error(e.message.unwrap_or_default()).await;
            status = 1;
        }
    }
    Ok(status)
}

async fn head_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &head::SPEC)?;
    only(&p, &["lines", "quiet", "verbose"])?;
    let n = match p.value("lines") {
        None => 10,
        Some(v) => v.parse::<u64>().map_err(|_| {
            CmdError::new(
                1,
                format!("invalid number of lines: {}", crate::util::gnu_quote(v)),
            )
        })?,
    };
    let ops = p.operands.clone();
    let headers = (ops.len() > 1 && !p.has("quiet")) || p.has("verbose");
    let mut status = 0;
    for (i, op) in ops.iter().enumerate() {
        let data = match read_file(ctx, op).await {
            Ok(d) => d,
            Err(e) => {
                ctx.error(format!(
                    "cannot open '{op}' for reading: {}",
                    e.message
                        .unwrap_or_default()
                        .split(": ")
                        .last()
                        .unwrap_or("")
                ))
                .await;
                status = 1;
                continue;
            }
        };
        if headers {
            let sep = if i == 0 { "" } else { "\n" };
            ctx.stdout
                .write_str(&format!("{sep}==> {op} <==\n"))
                .await?;
        }
        if let Err(e) = print_rows(ctx, op, data, Some(n)).await {
            if e.status == 141 {
                return Err(e);
            }
            ctx.error(e.message.unwrap_or_default()).await;
            status = 1;
        }
    }
    Ok(status)
}

async fn wc_body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &wc::SPEC)?;
    if !(p.opts.len() == 1 && p.has("lines")) {
        // not `wc -l`: the general wc counts the file's bytes
        let Some(general) = crate::resolve("wc", None, None) else {
            return Err(CmdError::new(1, "no general wc"));
        };
        return Ok((general.handler)(ctx).await);
    }
    let mut counts: Vec<(u64, String)> = Vec::new();
    let mut status = 0;
    for op in p.operands.clone() {
        let rows = match read_file(ctx, &op).await {
            Ok(data) if is_parquet(&op) => match open(&op, data) {
                Ok(r) => u64::try_from(r.metadata().file_metadata().num_rows()).unwrap_or(0),
                Err(e) => {
                    ctx.error(e.message.unwrap_or_default()).await;
                    status = 1;
                    continue;
                }
            },
            Ok(data) => data.iter().filter(|b| **b == b'\n').count() as u64,
            Err(e) => {
                ctx.error(e.message.unwrap_or_default()).await;
                status = 1;
                continue;
            }
        };
        counts.push((rows, op));
    }
    let total: u64 = counts.iter().map(|(n, _)| n).sum();
    let width = if counts.len() > 1 {
        total.to_string().len()
    } else {
        1
    };
    for (n, op) in &counts {
        ctx.stdout.write_str(&format!("{n:>width$} {op}\n")).await?;
    }
    if counts.len() > 1 {
        ctx.stdout
            .write_str(&format!("{total:>width$} total\n"))
            .await?;
    }
    Ok(status)
}
