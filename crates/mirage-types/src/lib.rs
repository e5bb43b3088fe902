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
mod path;
mod stat;
mod vfs;

pub use error::{Error, ErrorKind, Result};
pub use io::{ByteSource, ByteStream, Input, Output, Sink};
pub use path::{PathSpec, basename, dirname, join_path, normalize_path, strip_mount_prefix};
pub use stat::{FileStat, FileType, VersionToken};
pub use vfs::{
    ByteRange, EntryStream, ListChildren, ListOptions, MountInfo, MountMode, ReadOptions,
    ReadResult, Vfs, filter_start_after, list_from_vec, walk,
};

use serde::{Deserialize, Serialize};

/// What a command read, wrote and may cache, as in seed 001 (`IOResult`).
///
/// Paths are absolute virtual paths (`/data/a.txt`). `reads` and `writes`
/// keep the order in which the command touched them; a path may appear once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IOResult {
    /// Paths whose bytes the command read.
    pub reads: Vec<String>,
    /// Paths the command created, changed or removed.
    pub writes: Vec<String>,
    /// Paths whose contents may be cached by Recall.
    pub cache: Vec<String>,
}

impl IOResult {
    /// Records a read of `path` (once).
    pub fn read(&mut self, path: &str) {
        if !self.reads.iter().any(|p| p == path) {
            self.reads.push(path.to_string());
        }
    }
    /// Records a write of `path` (once).
    pub fn wrote(&mut self, path: &str) {
        if !self.writes.iter().any(|p| p == path) {
            self.writes.push(path.to_string());
        }
    }
    /// Appends another result, keeping first-seen order.
    pub fn merge(&mut self, other: IOResult) {
        for p in other.reads {
            self.read(&p);
        }
        for p in other.writes {
            self.wrote(&p);
        }
        for p in other.cache {
            if !self.cache.contains(&p) {
                self.cache.push(p);
            }
        }
    }
}
