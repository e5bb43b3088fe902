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
        Err(msg) => {
            ctx.error(&msg).await;
            let hint = format!("Try '{} --help' for more information.\n", ctx.name);
            let _ = ctx.stderr.write(hint.as_bytes()).await;
            let _ = ctx.stderr.flush().await;
            Err(spec.usage_status)
        }
    }
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
        Ok(st) if st.is_dir() => return Err(format!("{operand}: {}", ErrorKind::IsADirectory.gnu_message())),
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
    src.collect().await.map_err(|e| format!("{operand}: {}", e.message()))
}

/// The operands, or `["-"]` when there are none (read stdin).
pub fn operands_or_stdin(p: &ParsedArgs) -> Vec<String> {
    if p.operands.is_empty() { vec!["-".to_string()] } else { p.operands.clone() }
}

/// Splits `data` into lines, each without its `\n`; a final line without
/// `\n` is included, an empty trailing piece is not (as GNU tools see lines).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    trimmed.split(|&b| b == b'\n').filter(move |_| !empty)
}
