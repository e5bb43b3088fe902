#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]
//! Test helpers shared by this crate's integration tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::{Capability, Resource};
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, Error, FileStat, MountMode, Result};
use mirage_workspace::Workspace;

/// A resource with one endless file, `/big`: `chunk` repeated for ever. It
/// counts the chunks it hands out in `pulled`.
pub struct Endless {
    /// The chunk the file repeats.
    pub chunk: Bytes,
    /// How many chunks readers have pulled so far.
    pub pulled: Arc<AtomicUsize>,
}

impl Endless {
    /// An endless file of `chunk`, with a fresh counter.
    pub fn new(chunk: impl Into<Bytes>) -> Self {
        Endless {
            chunk: chunk.into(),
            pulled: Arc::new(AtomicUsize::new(0)),
        }
    }
}

#[async_trait]
impl Resource for Endless {
    fn name(&self) -> &'static str {
        "endless"
    }
    fn capability(&self) -> Capability {
        Capability::default()
    }
    async fn stat(&self, path: &str) -> Result<FileStat> {
        if path == "/" {
            Ok(FileStat::dir("/"))
        } else {
            Ok(FileStat::file("big", u64::MAX))
        }
    }
    async fn readdir(&self, _path: &str) -> Result<Vec<FileStat>> {
        Ok(vec![FileStat::file("big", u64::MAX)])
    }
    async fn read(&self, _path: &str) -> Result<ByteSource> {
        let pulled = self.pulled.clone();
        let s = futures::stream::repeat(self.chunk.clone()).map(move |c| {
            pulled.fetch_add(1, Ordering::SeqCst);
            Ok::<Bytes, Error>(c)
        });
        Ok(ByteSource::Stream(s.boxed()))
    }
}

/// Runs `line` in session `default` of `ws`: (stdout, stderr, exit status);
/// the output must be UTF-8.
pub async fn run(ws: &Workspace, line: &str) -> (String, String, i32) {
    let o = ws.execute("default", line, None).await.unwrap();
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
        o.exit_code,
    )
}

/// A workspace with one writable RAM mount at `prefix`, which is also the
/// cwd.
pub fn ram_ws(prefix: &str) -> Workspace {
    Workspace::builder()
        .mount(prefix, Arc::new(RamResource::new()), MountMode::Write)
        .cwd(prefix)
        .build()
        .unwrap()
}

/// A workspace with a writable `/tmp` (the cwd) and a read-only `/etc`
/// holding `conf` (`keep\n`), for the awk/sed isolation tests.
pub async fn ro_etc_ws() -> Workspace {
    let ram = Arc::new(RamResource::new());
    let setup = Workspace::builder()
        .mount("/etc", ram.clone(), MountMode::Write)
        .build()
        .unwrap();
    run(&setup, "printf 'keep\\n' > /etc/conf").await;
    Workspace::builder()
        .mount("/tmp", Arc::new(RamResource::new()), MountMode::Write)
        .mount("/etc", ram, MountMode::Read)
        .cwd("/tmp")
        .build()
        .unwrap()
}
