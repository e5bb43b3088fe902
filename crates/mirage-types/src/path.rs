//! Virtual paths and [`PathSpec`].

use serde::{Deserialize, Serialize};

/// A virtual path on its way through dispatch (seed 001, "PathSpec flow").
///
/// | stage | state |
/// |---|---|
/// | a shell word becomes a path | `original="/s3/data/*.txt"`, `pattern=Some("*.txt")`, `resolved=false` |
/// | the mount is found | `prefix="/s3"` |
/// | the glob is expanded | one resolved `PathSpec` per match |
/// | the resource is called | [`PathSpec::resource_path`] strips the prefix: `/data/file.txt` |
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PathSpec {
    /// The absolute virtual path (after cwd resolution), e.g. `/s3/data/a.txt`.
    pub original: String,
    /// The mount prefix that owns the path, e.g. `/s3` (`""` before resolution).
    pub prefix: String,
    /// The directory part of `original`, e.g. `/s3/data`.
    pub directory: String,
    /// The glob pattern in the last component, if any (`*.txt`).
    pub pattern: Option<String>,
    /// Whether the path names one concrete entry (no pattern left).
    pub resolved: bool,
}

impl PathSpec {
    /// A path from an absolute virtual path; `pattern` is set when the last
    /// component holds glob characters (`*`, `?`, `[`).
    pub fn new(original: impl Into<String>) -> Self {
        let original = normalize_path(&original.into());
        let directory = dirname(&original);
        let last = basename(&original);
        let pattern = if last.contains(['*', '?', '[']) {
            Some(last)
        } else {
            None
        };
        let resolved = pattern.is_none();
        PathSpec {
            original,
            prefix: String::new(),
            directory,
            pattern,
            resolved,
        }
    }
    /// The same path with its mount prefix set.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
    /// The path inside its resource: `original` without the prefix, always
    /// starting with `/` (`/s3/data/a` with prefix `/s3` gives `/data/a`).
    pub fn resource_path(&self) -> String {
        strip_mount_prefix(&self.original, &self.prefix)
    }
    /// The file extension of the last component, lower-cased (`csv`), used
    /// for filetype dispatch.
    pub fn filetype(&self) -> Option<String> {
        let name = basename(&self.original);
        let (stem, ext) = name.rsplit_once('.')?;
        if stem.is_empty() || ext.is_empty() {
            return None;
        }
        Some(ext.to_ascii_lowercase())
    }
}

/// `path` inside the mount at `prefix`: `/s3/a` under `/s3` is `/a`, and a
/// path equal to the prefix is `/`.
pub fn strip_mount_prefix(path: &str, prefix: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some("") => "/".to_string(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => path.to_string(),
    }
}

/// The most symlinks one path lookup follows before it fails with
/// `TooManyLinks` (`ELOOP`), as Linux's `MAXSYMLINKS` (40).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Normalises an absolute path lexically: collapses `//`, removes `.`,
/// applies `..` (never above `/`), drops a trailing `/`.
/// `"/a/./b/../c/"` gives `"/a/c"`.
pub fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Joins `path` onto `base` (the cwd) unless `path` is absolute, then
/// normalises. `join_path("/data", "x/../y")` gives `"/data/y"`.
pub fn join_path(base: &str, path: &str) -> String {
    if path.starts_with('/') {
        normalize_path(path)
    } else {
        normalize_path(&format!("{base}/{path}"))
    }
}

/// The last component, as coreutils `basename` (without suffix removal):
/// `"/a/b/"` gives `"b"`, `"/"` gives `"/"`.
pub fn basename(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.is_empty() {
            String::new()
        } else {
            "/".into()
        };
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// The directory part, as coreutils `dirname`: `"/a/b"` gives `"/a"`,
/// `"b"` gives `"."`, `"/"` gives `"/"`.
pub fn dirname(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.starts_with('/') {
            "/".into()
        } else {
            ".".into()
        };
    }
    match t.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = t[..i].trim_end_matches('/');
            if d.is_empty() {
                "/".into()
            } else {
                d.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_and_join() {
        assert_eq!(normalize_path("/a/./b/../c/"), "/a/c");
        assert_eq!(normalize_path("/../.."), "/");
        assert_eq!(join_path("/data", "x/../y"), "/data/y");
        assert_eq!(join_path("/data", "/tmp//z"), "/tmp/z");
    }

    #[test]
    fn gnu_basename_dirname() {
        assert_eq!(basename("/a/b/"), "b");
        assert_eq!(basename("/"), "/");
        assert_eq!(dirname("/a/b"), "/a");
        assert_eq!(dirname("b"), ".");
        assert_eq!(dirname("/a"), "/");
        assert_eq!(dirname("a/b//"), "a");
    }

    #[test]
    fn pathspec_flow() {
        let p = PathSpec::new("/s3/data/*.txt").with_prefix("/s3");
        assert_eq!(p.pattern.as_deref(), Some("*.txt"));
        assert!(!p.resolved);
        assert_eq!(p.directory, "/s3/data");
        assert_eq!(p.resource_path(), "/data/*.txt");
        assert_eq!(PathSpec::new("/s3").with_prefix("/s3").resource_path(), "/");
        assert_eq!(PathSpec::new("/x/a.CSV").filetype().as_deref(), Some("csv"));
        assert_eq!(PathSpec::new("/x/.bashrc").filetype(), None);
    }
}
