//! `tee`: copy standard input to standard output and to files, as GNU
//! coreutils 9.1 `tee` (`-a`, `-i`, `-p`; `-` is a file named `-`).
//! Streams: each chunk goes to stdout as it arrives and, through a bounded
//! channel, to one [`mirage_types::Vfs::write`] (or `append`) per file that
//! runs alongside, so memory stays at a few chunks.

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CommandCtx, CommandFuture};
use mirage_types::{ByteSource, ErrorKind};
use tokio::sync::mpsc;

use crate::util::parse_args;

const OPTS: &[OptSpec] = &[
    OptSpec::flag("append", Some('a'), Some("append")),
    OptSpec::flag("ignore-interrupts", Some('i'), Some("ignore-interrupts")),
    OptSpec::flag("p", Some('p'), None),
    OptSpec::optional("output-error", None, Some("output-error")),
];

/// The spec of `tee`.
pub static SPEC: CommandSpec = CommandSpec::new("tee", OPTS, PathOperands::All);

crate::register_command!("tee", SPEC, run, true);

/// How many chunks may wait in a file's channel before stdin reading pauses.
const CHANNEL_CHUNKS: usize = 16;

/// A byte source fed by the receiving end of a channel.
fn channel_source(rx: mpsc::Receiver<Bytes>) -> ByteSource {
    let s = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) }).boxed();
    ByteSource::Stream(s)
}

fn run(ctx: &mut CommandCtx) -> CommandFuture<'_> {
    Box::pin(async move {
        let p = match parse_args(ctx, &SPEC).await {
            Ok(p) => p,
            Err(code) => return code,
        };
        let append = p.has("append");
        // Without -p (or --output-error) a closed stdout ends tee, as SIGPIPE would.
        let survive_pipe = p.has("p") || p.has("output-error");
        let mut senders: Vec<Option<mpsc::Sender<Bytes>>> = Vec::new();
        let mut writers: Vec<BoxFuture<'static, mirage_types::Result<()>>> = Vec::new();
        let mut paths = Vec::new();
        for operand in &p.operands {
            let abs = ctx.resolve(operand);
            let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
            let vfs = ctx.vfs.clone();
            let path = abs.clone();
            writers.push(Box::pin(async move {
                let src = channel_source(rx);
                if append { vfs.append(&path, src).await } else { vfs.write(&path, src).await }
            }));
            senders.push(Some(tx));
            paths.push((operand.clone(), abs));
        }
        let stdin = &mut ctx.stdin;
        let stdout = &mut ctx.stdout;
        let pump = async move {
            let mut stdout_ok = true;
            let mut read_err = None;
            loop {
                let chunk = match stdin.chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        read_err = Some(e);
                        break;
                    }
                };
                for s in senders.iter_mut() {
                    if let Some(tx) = s {
                        if tx.send(chunk.clone()).await.is_err() {
                            *s = None;
                        }
                    }
                }
                if stdout_ok {
                    if let Err(e) = stdout.write_bytes(chunk).await {
                        if e.kind == ErrorKind::BrokenPipe {
                            stdout_ok = false;
                            if !survive_pipe {
                                break;
                            }
                        }
                    }
                }
                if !stdout_ok && senders.iter().all(Option::is_none) {
                    break;
                }
            }
            if stdout_ok {
                let _ = stdout.flush().await;
            }
            drop(senders);
            read_err
        };
        let (read_err, results) = futures::join!(pump, futures::future::join_all(writers));
        let mut status = 0;
        if let Some(e) = read_err {
            ctx.error(format!("read error: {}", e.message())).await;
            status = 1;
        }
        for ((operand, abs), res) in paths.into_iter().zip(results) {
            match res {
                Ok(()) => ctx.io.wrote(&abs),
                Err(e) => {
                    ctx.error(format!("{operand}: {}", e.message())).await;
                    status = 1;
                }
            }
        }
        status
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_source_yields_what_was_sent() {
        let (tx, rx) = mpsc::channel(2);
        let src = channel_source(rx);
        let feeder = async move {
            for part in ["ab", "cd", "e"] {
                let _ = tx.send(Bytes::from(part)).await;
            }
        };
        let (_, all) = futures::join!(feeder, src.collect());
        assert_eq!(all.ok().as_deref(), Some(&b"abcde"[..]));
    }
}
