#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `uniq INPUT OUTPUT` streams into the output file as it reads: the
//! resource's `write` gets its first bytes long before the input ends, and
//! nothing holds the whole output.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, Error, ErrorKind, FileStat, MountMode, Result};
use mirage_workspace::Workspace;

/// A resource whose files swallow what is written, recording its size and
/// how many chunks the source had handed out when the first bytes came.
struct Counting {
    source_pulled: Arc<AtomicUsize>,
    /// (bytes written, source chunks pulled at the first chunk)
    seen: Arc<Mutex<Option<(u64, usize)>>>,
}

#[async_trait]
impl Resource for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn capability(&self) -> Capability {
        Capability {
            write: true,
            ..Capability::default()
        }
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        if path == "/" {
            Ok(FileStat::dir("/"))
        } else {
            Err(Error::at(ErrorKind::NotFound, path))
        }
    }
    async fn readdir(&self, _path: &str) -> Result<Vec<FileStat>> {
        Ok(Vec::new())
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        Err(Error::at(ErrorKind::NotFound, path))
    }
    async fn write(&self, _path: &str, data: ByteSource) -> Result<()> {
        let mut s = data.into_stream();
        let (mut n, mut at_first) = (0u64, None);
        while let Some(b) = s.next().await {
            let b = b?;
            if at_first.is_none() && !b.is_empty() {
                at_first = Some(self.source_pulled.load(Ordering::SeqCst));
            }
            n += b.len() as u64;
        }
        *self.seen.lock().unwrap() = Some((n, at_first.unwrap_or(usize::MAX)));
        Ok(())
    }
}

#[tokio::test]
async fn uniq_to_a_file_streams() {
    // 64 KiB chunks of alternating 1000-byte lines: every line is kept
    let mut chunk = Vec::new();
    while chunk.len() + 2000 <= 64 * 1024 {
        chunk.extend_from_slice(&[b'a'; 999]);
        chunk.push(b'\n');
        chunk.extend_from_slice(&[b'b'; 999]);
        chunk.push(b'\n');
    }
    let len = chunk.len() as u64;
    let src = common::Endless::new(chunk);
    let pulled = src.pulled.clone();
    let seen = Arc::new(Mutex::new(None));
    let ws = Workspace::builder()
        .mount("/e", Arc::new(src), MountMode::Read)
        .mount(
            "/out",
            Arc::new(Counting {
                source_pulled: pulled.clone(),
                seen: seen.clone(),
            }),
            MountMode::Write,
        )
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .build()
        .unwrap();
    let chunks = 2048u64; // about 128 MiB
    let line = format!("head -c {} /e/big | uniq - /out/u", chunks * len);
    let out = ws.execute("default", &line, None).await.unwrap();
    assert_eq!(out.exit_code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    let (n, at_first) = seen.lock().unwrap().unwrap();
    assert_eq!(n, chunks * len);
    assert!(
        at_first < 64,
        "the file got its first bytes only after {at_first} of {chunks} input chunks"
    );
}

#[tokio::test]
async fn uniq_to_a_file_as_gnu() {
    let ws = Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .mount("/r", Arc::new(RamResource::new()), MountMode::Read)
        .cwd("/tmp")
        .build()
        .unwrap();
    let run = |line: &'static str| {
        let ws = ws.clone();
        async move {
            let o = ws.execute("default", line, None).await.unwrap();
            (
                String::from_utf8(o.stdout).unwrap(),
                String::from_utf8(o.stderr).unwrap(),
                o.exit_code,
            )
        }
    };
    assert_eq!(
        run("printf 'a\\na\\nb\\n' > in; uniq -c in out; cat out").await,
        ("      2 a\n      1 b\n".into(), String::new(), 0)
    );
    assert_eq!(
        run("uniq -du in out2; wc -c < out2").await,
        ("0\n".into(), String::new(), 0)
    );
    assert_eq!(
        run("uniq in /r/out").await,
        (
            String::new(),
            "uniq: /r/out: Read-only file system\n".into(),
            1
        )
    );
    assert_eq!(
        run("uniq nope out3; test -e out3 || echo none").await,
        (
            "none\n".into(),
            "uniq: nope: No such file or directory\n".into(),
            0
        )
    );
}
