#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The default `Resource::append` streams: appending 1 GiB to a 512 MiB
//! file through it never holds either in memory.

use std::sync::Mutex;

use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_types::{ByteSource, Error, FileStat, Result};

const CHUNK: usize = 1 << 20;

/// A one-file resource that keeps only the file's length: `write` counts
/// the bytes of its stream, `read` makes them
/// up again. `append` is the trait's default.
struct Counting {
    len: Mutex<Option<u64>>,
    largest_chunk: Mutex<usize>,
}

#[async_trait::async_trait]
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
    async fn stat(&self, _path: &str) -> Result<FileStat> {
        match *self.len.lock().unwrap() {
            Some(n) => Ok(FileStat::file("f", n)),
            None => Err(Error::not_found("/f")),
        }
    }
    async fn readdir(&self, _path: &str) -> Result<Vec<FileStat>> {
        Ok(Vec::new())
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        let n = self.stat(path).await?.size as usize;
        let block = Bytes::from(vec![b'a'; CHUNK]);
        let chunks = n.div_ceil(CHUNK);
        let s = futures::stream::iter((0..chunks).map(move |i| {
            let end = ((i + 1) * CHUNK).min(n);
            Ok(block.slice(0..end - i * CHUNK))
        }));
        Ok(ByteSource::Stream(s.boxed()))
    }
    async fn write(&self, _path: &str, data: ByteSource) -> Result<()> {
        let mut s = data.into_stream();
        let mut n = 0u64;
        while let Some(c) = s.next().await {
            let c = c?;
            assert!(c.first().is_none_or(|&b| b == b'a'));
            let mut big = self.largest_chunk.lock().unwrap();
            *big = (*big).max(c.len());
            n += c.len() as u64;
        }
        *self.len.lock().unwrap() = Some(n);
        Ok(())
    }
}

fn peak_rss(reset: bool) -> u64 {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").unwrap();
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

#[tokio::test]
async fn default_append_streams_1_gib() {
    let r = Counting {
        len: Mutex::new(Some(512 << 20)),
        largest_chunk: Mutex::new(0),
    };
    let before = peak_rss(true);
    let block = Bytes::from(vec![b'a'; CHUNK]);
    let new = futures::stream::iter((0..1024).map(move |_| Ok(block.clone())));
    r.append("/f", ByteSource::Stream(new.boxed()))
        .await
        .unwrap();
    let grew = peak_rss(false).saturating_sub(before);
    assert_eq!(*r.len.lock().unwrap(), Some((512 << 20) + (1 << 30)));
    assert!(*r.largest_chunk.lock().unwrap() <= CHUNK);
    assert!(
        grew < 64 << 20,
        "appending 1 GiB raised peak memory by {} MiB",
        grew >> 20
    );
}

#[tokio::test]
async fn default_append_creates_a_missing_file() {
    let r = Counting {
        len: Mutex::new(None),
        largest_chunk: Mutex::new(0),
    };
    r.append("/f", ByteSource::from(b"aaa".to_vec()))
        .await
        .unwrap();
    assert_eq!(*r.len.lock().unwrap(), Some(3));
}
