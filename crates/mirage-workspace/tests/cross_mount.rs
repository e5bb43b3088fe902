#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `cp` and `mv` across two mounts: the bytes stream from one resource to
//! the other, `mv` is copy then delete, and a copy that fails half-way
//! never deletes the source (nor leaves a torn destination).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, Error, ErrorKind, FileStat, MountMode, Result};
use mirage_workspace::Workspace;

/// A RAM resource whose writes fail once `limit` bytes have arrived
/// (a disk filling up), after reading them as a stream; it records the
/// largest chunk it was handed.
struct Flaky {
    ram: RamResource,
    limit: u64,
    largest_chunk: Arc<AtomicU64>,
}

#[async_trait]
impl Resource for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    fn capability(&self) -> Capability {
        self.ram.capability()
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.ram.stat(path).await
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        self.ram.readdir(path).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        self.ram.read(path).await
    }
    async fn mkdir(&self, path: &str) -> Result<()> {
        self.ram.mkdir(path).await
    }
    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let mut s = data.into_stream();
        let mut got = Vec::new();
        while let Some(chunk) = s.next().await {
            let chunk = chunk?;
            self.largest_chunk
                .fetch_max(chunk.len() as u64, Ordering::Relaxed);
            got.extend_from_slice(&chunk);
            if got.len() as u64 > self.limit {
                return Err(Error::msg(ErrorKind::Io, "No space left on device"));
            }
        }
        self.ram.write(path, ByteSource::Bytes(got.into())).await
    }
}

async fn ws(limit: u64) -> (Workspace, Arc<AtomicU64>) {
    let largest = Arc::new(AtomicU64::new(0));
    let ws = Workspace::builder()
        .mount("/src", Arc::new(RamResource::new()), MountMode::Write)
        .mount(
            "/dst",
            Arc::new(Flaky {
                ram: RamResource::new(),
                limit,
                largest_chunk: largest.clone(),
            }),
            MountMode::Write,
        )
        .cwd("/src")
        .build()
        .unwrap();
    (ws, largest)
}

async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let out = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.exit_code,
    )
}

#[tokio::test]
async fn a_failed_cross_mount_move_keeps_the_source() {
    let (ws, _) = ws(1000).await;
    run(
        &ws,
        "seq 1 2000 > /src/big; mkdir /src/d; seq 5 > /src/d/small",
    )
    .await;
    let (_, err, code) = run(&ws, "mv /src/big /dst/big").await;
    assert_eq!(code, 1);
    assert!(err.contains("No space left on device"), "{err}");
    // the source is whole, the destination was never created
    let (out, _, _) = run(&ws, "wc -l < /src/big; ls /dst").await;
    assert_eq!(out, "2000\n");
    // cp fails the same way and leaves the source too
    let (_, _, code) = run(&ws, "cp /src/big /dst/big").await;
    assert_eq!(code, 1);
    assert_eq!(run(&ws, "wc -l < /src/big").await.0, "2000\n");
    // a small tree moves: copied, then the source deleted
    let (_, err, code) = run(&ws, "mv /src/d /dst/d").await;
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = run(&ws, "cat /dst/d/small | wc -l; ls /src").await;
    assert_eq!(out, "5\nbig\n");
}

#[tokio::test]
async fn a_cross_mount_copy_streams_in_chunks() {
    // 8 MiB from one RAM mount to the other arrives as a stream of chunks,
    // never as one buffer of the whole file
    let (ws, largest) = ws(u64::MAX).await;
    let (_, err, code) = run(
        &ws,
        "head -c 8388608 /dev/zero > /src/z; cp /src/z /dst/z && mv /src/z /dst/z2 && wc -c < /dst/z2",
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        largest.load(Ordering::Relaxed) < 8 * 1024 * 1024,
        "largest chunk {}",
        largest.load(Ordering::Relaxed)
    );
}
