use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The type of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (only reported by resources that keep links, never followed outside a mount).
    Symlink,
}

/// The version of an entry as its backend knows it, used by Recall to tell
/// whether a cached copy is still current.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VersionToken {
    /// An HTTP/S3 ETag.
    ETag(String),
    /// An S3 VersionId or another opaque backend version.
    VersionId(String),
    /// Modification time (nanoseconds since the Unix epoch) plus size in bytes.
    MtimeSize(i128, u64),
    /// A counter bumped on each change (RAM).
    Generation(u64),
    /// The backend gives nothing usable.
    Unknown,
}

/// Metadata of one entry (`stat(2)` reduced to what every resource can give).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    /// The entry's name (last path component; `/` for a root).
    pub name: String,
    /// File, directory or symlink.
    pub file_type: FileType,
    /// Size in bytes (0 for directories on resources that have no size).
    pub size: u64,
    /// Last modification time, if the backend keeps one.
    pub modified: Option<SystemTime>,
    /// Unix permission bits (`0o644`), if the backend keeps them.
    pub mode: Option<u32>,
    /// The backend's version of the entry.
    pub version: VersionToken,
}

impl FileStat {
    /// A directory entry named `name`.
    pub fn dir(name: impl Into<String>) -> Self {
        FileStat {
            name: name.into(),
            file_type: FileType::Directory,
            size: 0,
            modified: None,
            mode: Some(0o755),
            version: VersionToken::Unknown,
        }
    }
    /// A regular file named `name` of `size` bytes.
    pub fn file(name: impl Into<String>, size: u64) -> Self {
        FileStat {
            name: name.into(),
            file_type: FileType::File,
            size,
            modified: None,
            mode: Some(0o644),
            version: VersionToken::Unknown,
        }
    }
    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Directory
    }
    /// Whether the entry is a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type == FileType::File
    }
}
