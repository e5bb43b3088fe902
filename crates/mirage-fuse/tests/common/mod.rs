//! Set-up shared by the FUSE test files.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use mirage_fuse::{FuseMount, FuseOptions, fuse_available, mount};
use mirage_resource_ram::RamResource;
use mirage_types::MountMode;
use mirage_workspace::Workspace;

/// Whether the test must be skipped: `/dev/fuse` cannot be opened (the
/// reason is printed as `SKIPPED: …`).
pub fn skip() -> bool {
    if let Err(why) = fuse_available() {
        eprintln!("SKIPPED: {why}");
        return true;
    }
    false
}

/// A workspace with one writable RAM mount at `/data` holding `files`
/// (path, contents), mounted with FUSE; answers the mount guard (unmounts
/// on drop), the mount point's directory and the host path of `/data`.
pub async fn ram_mount(files: &[(&str, &str)]) -> (FuseMount, tempfile::TempDir, PathBuf) {
    let ram = Arc::new(RamResource::new());
    for (p, c) in files {
        ram.insert_file(p, c.to_string()).unwrap();
    }
    let ws = Workspace::builder()
        .mount("/data", ram, MountMode::Write)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = mount(&ws, dir.path(), FuseOptions::default())
        .await
        .unwrap();
    let data = dir.path().join("data");
    (m, dir, data)
}
