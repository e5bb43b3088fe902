//! `tee`: copy standard input to standard output and to files, as GNU
//! coreutils 9.1 `tee` (`-a`, `-i`, `-p`; `-` is a file named `-`).
//! Streams: each chunk goes to stdout as it arrives and, through a bounded
//! channel, to one [`mirage_types::Vfs::write`] (or `append`) per file that
//! runs alongside, so memory stays at a few chunks.

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use mirage_types::{ByteSource, ErrorKind};
use tokio::sync::mpsc;

use crate::util::parse_cmd;

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
    let s = futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) },
    )
    .boxed();
    ByteSource::Stream(s)
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
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
            if append {
                vfs.append(&path, src).await
            } else {
                vfs.write(&path, src).await
            }
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
            for s in &mut senders {
                if let Some(tx) = s
                    && tx.send(chunk.clone()).await.is_err()
                {
                    *s = None;
                }
            }
            if stdout_ok
                && let Err(e) = stdout.write_bytes(chunk).await
                && e.kind == ErrorKind::BrokenPipe
            {
                stdout_ok = false;
                if !survive_pipe {
                    break;
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
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::MemVfs;

    use std::sync::Arc;

    use mirage_types::{FileStat, MountInfo, Result, Vfs};

    /// The test tree, with streamed writes collected first (as a resource does).
    struct Collecting(Arc<MemVfs>);

    #[async_trait::async_trait]
    impl Vfs for Collecting {
        async fn stat(&self, path: &str) -> Result<FileStat> {
            self.0.stat(path).await
        }
        async fn lstat(&self, path: &str) -> Result<FileStat> {
            self.0.lstat(path).await
        }
        async fn readlink(&self, path: &str) -> Result<String> {
            self.0.readlink(path).await
        }
        async fn symlink(&self, target: &str, path: &str) -> Result<()> {
            self.0.symlink(target, path).await
        }
        async fn realpath(&self, path: &str) -> Result<String> {
            self.0.realpath(path).await
        }
        async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
            self.0.readdir(path).await
        }
        async fn read(&self, path: &str) -> Result<ByteSource> {
            self.0.read(path).await
        }
        async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
            self.0
                .write(path, ByteSource::Bytes(data.collect().await?))
                .await
        }
        async fn append(&self, path: &str, data: ByteSource) -> Result<()> {
            self.0
                .append(path, ByteSource::Bytes(data.collect().await?))
                .await
        }
        async fn mkdir(&self, path: &str, parents: bool) -> Result<()> {
            self.0.mkdir(path, parents).await
        }
        async fn unlink(&self, path: &str) -> Result<()> {
            self.0.unlink(path).await
        }
        async fn rmdir(&self, path: &str) -> Result<()> {
            self.0.rmdir(path).await
        }
        async fn rename(&self, from: &str, to: &str) -> Result<()> {
            self.0.rename(from, to).await
        }
        fn mount_of(&self, path: &str) -> Option<MountInfo> {
            self.0.mount_of(path)
        }
        fn mounts(&self) -> Vec<MountInfo> {
            self.0.mounts()
        }
    }

    /// Runs tee over `Collecting(vfs)`.
    fn tee(vfs: &Arc<MemVfs>, args: &[&str], stdin: &str) -> (String, String, i32) {
        use mirage_types::{IOResult, Input, Output, Sink};
        let (out_sink, out) = Sink::capture();
        let (err_sink, err) = Sink::capture();
        let mut ctx = CommandCtx {
            name: "tee".into(),
            args: args.iter().map(std::string::ToString::to_string).collect(),
            cwd: "/d".into(),
            env: Default::default(),
            vfs: Arc::new(Collecting(vfs.clone())),
            stdin: Input::from_source(ByteSource::Bytes(Bytes::from(stdin.to_string()))),
            stdout: Output::new(out_sink),
            stderr: Output::new(err_sink),
            io: IOResult::default(),
            mount: None,
            runner: None,
            net: None,
        };
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
            return Default::default();
        };
        let code = rt.block_on(async {
            let c = run(&mut ctx).await;
            let _ = ctx.stdout.flush().await;
            let _ = ctx.stderr.flush().await;
            c
        });
        let get = |b: &std::sync::Mutex<Vec<u8>>| {
            String::from_utf8_lossy(&b.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
                .into_owned()
        };
        (get(&out), get(&err), code)
    }

    fn file(vfs: &MemVfs, path: &str) -> Option<String> {
        let t = vfs
            .tree
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.get(path)
            .cloned()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    #[test]
    fn writes_stdout_and_files() {
        let vfs = MemVfs::with(&[("/d/old.txt", "old\n")]);
        let (out, _, code) = tee(&vfs, &["a.txt", "/d/b.txt"], "1\n2\n3\n");
        assert_eq!((out.as_str(), code), ("1\n2\n3\n", 0));
        assert_eq!(file(&vfs, "/d/a.txt").as_deref(), Some("1\n2\n3\n"));
        assert_eq!(file(&vfs, "/d/b.txt").as_deref(), Some("1\n2\n3\n"));
        let (out, _, code) = tee(&vfs, &["-a", "old.txt"], "new\n");
        assert_eq!((out.as_str(), code), ("new\n", 0));
        assert_eq!(file(&vfs, "/d/old.txt").as_deref(), Some("old\nnew\n"));
        let (out, err, code) = tee(&vfs, &["/nodir/x", "ok.txt"], "x\n");
        assert_eq!((out.as_str(), code), ("x\n", 1));
        assert_eq!(err, "tee: /nodir/x: No such file or directory\n");
        assert_eq!(file(&vfs, "/d/ok.txt").as_deref(), Some("x\n"));
    }

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
