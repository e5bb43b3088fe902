#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Requests are answered concurrently: a read that waits on a slow
//! resource (an S3 GET that takes its time) never holds up an `ls` or a
//! read of a RAM mount in the same FUSE mount.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mirage_fuse::{FuseOptions, fuse_available, mount};
use mirage_ops::{Capability, Resource};
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, FileStat, MountMode, Result};
use mirage_workspace::Workspace;

/// A RAM resource whose reads wait until `release` turns true.
struct Slow {
    ram: RamResource,
    release: tokio::sync::watch::Receiver<bool>,
    reading: Arc<AtomicBool>,
}

#[async_trait]
impl Resource for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn capability(&self) -> Capability {
        Capability {
            remote: false,
            ..self.ram.capability()
        }
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.ram.stat(path).await
    }
    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        self.ram.readdir(path).await
    }
    async fn read(&self, path: &str) -> Result<ByteSource> {
        self.reading.store(true, Ordering::Release);
        let _ = self.release.clone().wait_for(|go| *go).await;
        self.ram.read(path).await
    }
    async fn read_with(
        &self,
        path: &str,
        opts: &mirage_types::ReadOptions,
    ) -> Result<mirage_types::ReadResult> {
        self.reading.store(true, Ordering::Release);
        let _ = self.release.clone().wait_for(|go| *go).await;
        self.ram.read_with(path, opts).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_read_never_holds_up_a_ram_mount() {
    if let Err(why) = fuse_available() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let slow_ram = RamResource::new();
    slow_ram.insert_file("/big.bin", vec![7u8; 4096]).unwrap();
    let (release, gate) = tokio::sync::watch::channel(false);
    let reading = Arc::new(AtomicBool::new(false));
    let slow = Arc::new(Slow {
        ram: slow_ram,
        release: gate,
        reading: reading.clone(),
    });
    let ram = Arc::new(RamResource::new());
    ram.insert_file("/a.txt", "a\n").unwrap();
    let ws = Workspace::builder()
        .mount("/s3", slow, MountMode::Read)
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // one request thread: only answers that wait off that thread (on the
    // runtime) let the RAM requests through while the slow read waits
    let opts = FuseOptions {
        threads: 1,
        ..FuseOptions::default()
    };
    let m = mount(&ws, dir.path(), opts).await.unwrap();
    let root = dir.path().to_path_buf();
    // the slow read, on its own thread: it cannot finish before `release`
    let slow_path = root.join("s3/big.bin");
    let slow_done = Arc::new(AtomicBool::new(false));
    let done = slow_done.clone();
    let reader = std::thread::spawn(move || {
        let data = std::fs::read(&slow_path).unwrap();
        done.store(true, Ordering::Release);
        data.len()
    });
    // wait until the slow read has reached the resource
    let r = reading.clone();
    tokio::task::spawn_blocking(move || {
        while !r.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
    })
    .await
    .unwrap();
    // meanwhile the RAM mount answers: list, read, write, stat
    let d = root.join("data");
    let answered = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            let names: Vec<_> = std::fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names.len(), 1);
            assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "a\n");
            std::fs::write(d.join("b.txt"), "b\n").unwrap();
            std::fs::metadata(d.join("b.txt")).unwrap().len()
        }),
    )
    .await
    .expect("the RAM mount did not answer while a slow read was waiting")
    .unwrap();
    assert_eq!(answered, 2);
    assert!(
        !slow_done.load(Ordering::Acquire),
        "the slow read was still waiting the whole time"
    );
    release.send(true).unwrap();
    let n = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    assert_eq!(n, 4096);
    drop(m);
}
