//! Core types shared by every Mirage crate.
//!
//! The vocabulary follows the seed documents: [`PathSpec`] carries a virtual
//! path through dispatch, [`FileStat`] describes an entry, [`ByteSource`] is
//! the byte stream every op and command produces, [`IOResult`] records what a
//! command read and wrote, and [`MountMode`] is a mount's permission.
//! [`Vfs`] is the one door for bytes (implemented by the workspace router),
//! and [`command`] is the ABI between the shell, the command registry and
//! commands.
#![deny(missing_docs)]

pub mod args;
pub mod bytestr;
pub mod command;
mod error;
mod io;
pub mod net;
mod path;
pub mod signal;
mod stat;
mod vfs;

pub use error::{Error, ErrorKind, Result};
pub use io::{ByteSource, ByteStream, Input, Output, Sink};
pub use path::{
    MAX_SYMLINK_HOPS, PathSpec, basename, dirname, join_path, normalize_path, strip_mount_prefix,
};
pub use stat::{FileStat, FileType, VersionToken};
pub use vfs::{
    ByteRange, EntryStream, ListChildren, ListOptions, MountInfo, MountMode, ReadOptions,
    ReadResult, Vfs, WriteOptions, filter_start_after, list_from_vec, walk,
};

use serde::{Deserialize, Serialize};

/// What a command read, wrote and may cache, as in seed 001 (`IOResult`).
///
/// Paths are absolute virtual paths (`/data/a.txt`). `reads` and `writes`
/// keep the order in which the command touched them; a path may appear once.
/// Recording is O(1) per path (a hash index sits beside each list, rebuilt
/// if someone pushed to a list directly), so a walk over 100,000 files costs
/// linear time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IOResult {
    /// Paths whose bytes the command read.
    pub reads: Vec<String>,
    /// Paths the command created, changed or removed.
    pub writes: Vec<String>,
    /// Paths whose contents may be cached by Recall.
    pub cache: Vec<String>,
    #[serde(skip)]
    index: IoIndex,
}

/// The hash indexes of [`IOResult`]'s lists (not part of its value: equal
/// results compare equal whatever their indexes hold).
#[derive(Debug, Clone, Default)]
struct IoIndex {
    reads: std::collections::HashSet<String>,
    writes: std::collections::HashSet<String>,
    cache: std::collections::HashSet<String>,
}

impl PartialEq for IoIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for IoIndex {}

/// Pushes `path` onto `list` unless `index` has it; rebuilds `index` first
/// when it is out of step with `list` (a direct push or removal).
fn push_once(list: &mut Vec<String>, index: &mut std::collections::HashSet<String>, path: &str) {
    if index.len() != list.len() {
        *index = list.iter().cloned().collect();
    }
    if index.insert(path.to_string()) {
        list.push(path.to_string());
    }
}

impl IOResult {
    /// Records a read of `path` (once).
    pub fn read(&mut self, path: &str) {
        push_once(&mut self.reads, &mut self.index.reads, path);
    }
    /// Records a write of `path` (once).
    pub fn wrote(&mut self, path: &str) {
        push_once(&mut self.writes, &mut self.index.writes, path);
    }
    /// Records that `path`'s contents may be cached (once).
    pub fn cacheable(&mut self, path: &str) {
        push_once(&mut self.cache, &mut self.index.cache, path);
    }
    /// Appends another result, keeping first-seen order.
    pub fn merge(&mut self, other: IOResult) {
        for p in &other.reads {
            self.read(p);
        }
        for p in &other.writes {
            self.wrote(p);
        }
        for p in &other.cache {
            self.cacheable(p);
        }
    }
}

#[cfg(test)]
mod io_result_tests {
    use super::IOResult;

    #[test]
    fn records_each_path_once_in_first_seen_order() {
        let mut a = IOResult::default();
        for p in ["/a", "/b", "/a", "/c", "/b"] {
            a.read(p);
        }
        assert_eq!(a.reads, ["/a", "/b", "/c"]);
        // a direct push is seen by the next call
        a.reads.push("/d".into());
        a.read("/d");
        a.read("/e");
        assert_eq!(a.reads, ["/a", "/b", "/c", "/d", "/e"]);
        let mut b = IOResult::default();
        b.read("/e");
        b.read("/f");
        b.wrote("/w");
        b.cacheable("/f");
        a.merge(b);
        assert_eq!(a.reads, ["/a", "/b", "/c", "/d", "/e", "/f"]);
        assert_eq!(a.writes, ["/w"]);
        assert_eq!(a.cache, ["/f"]);
        let c = IOResult {
            reads: a.reads.clone(),
            writes: a.writes.clone(),
            cache: a.cache.clone(),
            ..IOResult::default()
        };
        assert_eq!(a, c, "the index is not part of the value");
    }
}
