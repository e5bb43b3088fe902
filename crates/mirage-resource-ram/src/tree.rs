//! The tree behind [`crate::RamResource`]: a flat ordered map from
//! normalised resource path to node, so a directory's descendants are one
//! contiguous key range (`/a/` .. keys starting with `/a/`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use mirage_types::{
    Error, ErrorKind, FileStat, FileType, MAX_SYMLINK_HOPS, Result, VersionToken, normalize_path,
};

/// One entry.
enum Node {
    File {
        data: Bytes,
        modified: SystemTime,
        generation: u64,
        /// Permission bits (`0o644` for a new file).
        mode: u32,
    },
    Dir {
        modified: SystemTime,
        generation: u64,
        /// Permission bits (`0o755` for a new directory).
        mode: u32,
    },
    /// A symbolic link: its target, stored as given.
    Symlink {
        target: String,
        modified: SystemTime,
        generation: u64,
    },
}

/// Where a lookup led ([`Tree::walk`]).
pub(crate) enum Walk {
    /// A path in this tree, with no link left on the way (the last
    /// component may be one when it was not to be followed).
    Here(String),
    /// A link with an absolute target was met: the virtual path to go on
    /// at (the target joined with the rest of the path).
    Out(String),
}

/// The permission bits of a new file, as GNU tools make one under umask 022.
const FILE_MODE: u32 = 0o644;
/// The permission bits of a new directory, as `mkdir` makes one under umask 022.
const DIR_MODE: u32 = 0o755;

impl Node {
    fn is_dir(&self) -> bool {
        matches!(self, Node::Dir { .. })
    }
}

/// The whole tree. All paths given to its methods are already normalised.
pub(crate) struct Tree {
    nodes: BTreeMap<String, Node>,
    /// Whether a symlink was ever made: until then a lookup is the path
    /// itself, with no walk.
    has_links: bool,
    /// The last generation handed out; grows on every change.
    generation: u64,
}

/// `/a/b` → `/a`, `/a` → `/`, `/` → `/`.
fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// `/a/b` → `b`, `/` → `/`.
fn name_of(path: &str) -> &str {
    if path == "/" {
        return "/";
    }
    path.rsplit('/').next().unwrap_or(path)
}

/// The key prefix shared by every descendant of `dir`: `/a` → `/a/`, `/` → `/`.
fn child_prefix(dir: &str) -> String {
    if dir == "/" {
        "/".to_string()
    } else {
        format!("{dir}/")
    }
}

/// `/a/b/c` with new prefix: descendants of `from` re-rooted at `to`.
fn reroot(key: &str, from: &str, to: &str) -> String {
    format!("{to}{}", &key[from.len()..])
}

fn concat(old: &Bytes, new: Bytes) -> Bytes {
    if old.is_empty() {
        return new;
    }
    if new.is_empty() {
        return old.clone();
    }
    let mut buf = BytesMut::with_capacity(old.len() + new.len());
    buf.extend_from_slice(old);
    buf.extend_from_slice(&new);
    buf.freeze()
}

impl Tree {
    pub(crate) fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            "/".to_string(),
            Node::Dir {
                modified: SystemTime::now(),
                generation: 0,
                mode: DIR_MODE,
            },
        );
        Tree {
            nodes,
            has_links: false,
            generation: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The bytes held by all files, and the bytes of the file at `path`
    /// (0 when it is not a file).
    pub(crate) fn usage(&self, path: &str) -> (u64, u64) {
        let mut total = 0u64;
        for n in self.nodes.values() {
            if let Node::File { data, .. } = n {
                total += data.len() as u64;
            }
        }
        let own = match self.nodes.get(path) {
            Some(Node::File { data, .. }) => data.len() as u64,
            _ => 0,
        };
        (total, own)
    }

    /// Whether `path` names an entry.
    pub(crate) fn exists(&self, path: &str) -> bool {
        self.nodes.contains_key(path)
    }

    fn bump(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    /// Records that the entries of `path`'s parent changed.
    fn touch_parent(&mut self, path: &str) {
        let g = self.bump();
        if let Some(Node::Dir {
            modified,
            generation,
            ..
        }) = self.nodes.get_mut(parent_of(path))
        {
            *modified = SystemTime::now();
            *generation = g;
        }
    }

    /// The error for a `path` that does not exist: `NotADirectory` when the
    /// nearest existing ancestor is a file (as POSIX `ENOTDIR`), else
    /// `NotFound`.
    fn missing(&self, path: &str) -> Error {
        let mut p = parent_of(path);
        loop {
            match self.nodes.get(p) {
                Some(Node::File { .. } | Node::Symlink { .. }) => {
                    return Error::at(ErrorKind::NotADirectory, path);
                }
                Some(Node::Dir { .. }) => return Error::not_found(path),
                None if p == "/" => return Error::not_found(path),
                None => p = parent_of(p),
            }
        }
    }

    fn get(&self, path: &str) -> Result<&Node> {
        self.nodes.get(path).ok_or_else(|| self.missing(path))
    }

    /// Ok when `path`'s parent exists and is a directory.
    fn check_parent(&self, path: &str) -> Result<()> {
        match self.nodes.get(parent_of(path)) {
            Some(Node::Dir { .. }) => Ok(()),
            Some(Node::File { .. } | Node::Symlink { .. }) => {
                Err(Error::at(ErrorKind::NotADirectory, path))
            }
            None => Err(self.missing(path)),
        }
    }

    /// Direct children of the directory `dir`, as (path, node).
    fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
        let prefix = child_prefix(dir);
        let plen = prefix.len();
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| k.len() > plen && !k[plen..].contains('/'))
    }

    fn has_children(&self, dir: &str) -> bool {
        self.children(dir).next().is_some()
    }

    fn stat_of(path: &str, node: &Node) -> FileStat {
        match node {
            Node::File {
                data,
                modified,
                generation,
                mode,
            } => FileStat {
                name: name_of(path).to_string(),
                file_type: FileType::File,
                size: data.len() as u64,
                modified: Some(*modified),
                mode: Some(*mode),
                version: VersionToken::Generation(*generation),
            },
            Node::Dir {
                modified,
                generation,
                mode,
            } => FileStat {
                name: name_of(path).to_string(),
                file_type: FileType::Directory,
                size: 0,
                modified: Some(*modified),
                mode: Some(*mode),
                version: VersionToken::Generation(*generation),
            },
            Node::Symlink {
                target,
                modified,
                generation,
            } => FileStat {
                name: name_of(path).to_string(),
                file_type: FileType::Symlink,
                size: target.len() as u64,
                modified: Some(*modified),
                mode: Some(0o777),
                version: VersionToken::Generation(*generation),
            },
        }
    }

    /// Follows the symlinks in `path` (the last component only with
    /// `follow_last`), at most [`MAX_SYMLINK_HOPS`] of them. A relative
    /// target is taken from the link's directory (`..` never climbs above
    /// this tree's root). An absolute target names a virtual path: with
    /// `stop_at_absolute` the walk ends there with [`Walk::Out`] (the
    /// router goes on from the workspace root); otherwise it is taken from
    /// this tree's root (a caller that holds the resource directly, with
    /// no router above it). Errors: `TooManyLinks` for a loop.
    pub(crate) fn walk(
        &self,
        path: &str,
        follow_last: bool,
        stop_at_absolute: bool,
    ) -> Result<Walk> {
        if !self.has_links {
            return Ok(Walk::Here(path.to_string()));
        }
        let mut path = path.to_string();
        let mut hops = 0usize;
        'lookup: loop {
            let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
            let mut cur = String::new();
            for (i, c) in comps.iter().enumerate() {
                let next = format!("{cur}/{c}");
                let last = i + 1 == comps.len();
                if let Some(Node::Symlink { target, .. }) = self.nodes.get(&next)
                    && (!last || follow_last)
                {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(Error::at(ErrorKind::TooManyLinks, path));
                    }
                    let rest = comps[i + 1..].join("/");
                    let joined = if target.starts_with('/') {
                        if stop_at_absolute {
                            return Ok(Walk::Out(normalize_path(&format!("{target}/{rest}"))));
                        }
                        normalize_path(&format!("{target}/{rest}"))
                    } else {
                        normalize_path(&format!("{cur}/{target}/{rest}"))
                    };
                    path = joined;
                    continue 'lookup;
                }
                cur = next;
            }
            return Ok(Walk::Here(if cur.is_empty() {
                "/".to_string()
            } else {
                cur
            }));
        }
    }

    /// `path` with its links followed within this tree ([`Tree::walk`]
    /// without stopping at absolute targets).
    pub(crate) fn lookup(&self, path: &str, follow_last: bool) -> Result<String> {
        match self.walk(path, follow_last, false)? {
            Walk::Here(p) | Walk::Out(p) => Ok(p),
        }
    }

    /// Creates the symlink `path` pointing at `target` (stored as given).
    pub(crate) fn symlink(&mut self, target: &str, path: &str) -> Result<()> {
        if self.nodes.contains_key(path) {
            return Err(Error::at(ErrorKind::AlreadyExists, path));
        }
        if target.is_empty() {
            return Err(Error::not_found(path));
        }
        self.check_parent(path)?;
        let generation = self.bump();
        self.nodes.insert(
            path.to_string(),
            Node::Symlink {
                target: target.to_string(),
                modified: SystemTime::now(),
                generation,
            },
        );
        self.has_links = true;
        self.touch_parent(path);
        Ok(())
    }

    /// The stored target of the link `path`. Errors: `InvalidInput` when
    /// `path` is not a link (`EINVAL`).
    pub(crate) fn readlink(&self, path: &str) -> Result<String> {
        match self.get(path)? {
            Node::Symlink { target, .. } => Ok(target.clone()),
            _ => Err(Error::at(ErrorKind::InvalidInput, path)),
        }
    }

    pub(crate) fn stat(&self, path: &str) -> Result<FileStat> {
        Ok(Self::stat_of(path, self.get(path)?))
    }

    pub(crate) fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        if !self.get(path)?.is_dir() {
            return Err(Error::at(ErrorKind::NotADirectory, path));
        }
        Ok(self
            .children(path)
            .map(|(k, n)| Self::stat_of(k, n))
            .collect())
    }

    /// One page of a listing of the directory `dir`: at most `limit`
    /// entries whose key comes after `after` (a full key; `None`: from the
    /// start), direct children only unless `recursive`. Entries are named
    /// by their path relative to `dir`. Also returns the last key scanned,
    /// to continue from, or `None` when the listing is complete.
    pub(crate) fn list_page(
        &self,
        dir: &str,
        recursive: bool,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<FileStat>, Option<String>) {
        use std::ops::Bound;
        let prefix = child_prefix(dir);
        let plen = prefix.len();
        let start = match after {
            Some(a) => Bound::Excluded(a.to_string()),
            None => Bound::Included(prefix.clone()),
        };
        let mut out = Vec::new();
        let mut last = None;
        for (k, n) in self
            .nodes
            .range::<String, _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            if out.len() >= limit {
                return (out, last);
            }
            last = Some(k.clone());
            if k.len() <= plen || (!recursive && k[plen..].contains('/')) {
                continue;
            }
            let mut st = Self::stat_of(k, n);
            st.name = k[plen..].to_string();
            out.push(st);
        }
        (out, None)
    }

    /// The bytes and version of the file `path`.
    pub(crate) fn read_versioned(&self, path: &str) -> Result<(Bytes, VersionToken)> {
        match self.get(path)? {
            Node::File {
                data, generation, ..
            } => Ok((data.clone(), VersionToken::Generation(*generation))),
            Node::Dir { .. } => Err(Error::at(ErrorKind::IsADirectory, path)),
            Node::Symlink { .. } => Err(Error::at(ErrorKind::TooManyLinks, path)),
        }
    }

    pub(crate) fn read(&self, path: &str) -> Result<Bytes> {
        match self.get(path)? {
            Node::File { data, .. } => Ok(data.clone()),
            Node::Dir { .. } => Err(Error::at(ErrorKind::IsADirectory, path)),
            Node::Symlink { .. } => Err(Error::at(ErrorKind::TooManyLinks, path)),
        }
    }

    /// Ok when a file may be written at `path`: it is not a directory and
    /// its parent is one.
    pub(crate) fn check_writable(&self, path: &str) -> Result<()> {
        match self.nodes.get(path) {
            Some(Node::Dir { .. }) => Err(Error::at(ErrorKind::IsADirectory, path)),
            Some(Node::File { .. }) => Ok(()),
            Some(Node::Symlink { .. }) => Err(Error::at(ErrorKind::TooManyLinks, path)),
            None => self.check_parent(path),
        }
    }

    /// Replaces or creates the file `path`; a file that exists keeps its
    /// mode bits (as `open(2)` with `O_TRUNC`).
    pub(crate) fn write(&mut self, path: &str, data: Bytes) -> Result<()> {
        self.check_writable(path)?;
        let generation = self.bump();
        if let Some(Node::File {
            data: old,
            modified,
            generation: g,
            ..
        }) = self.nodes.get_mut(path)
        {
            *old = data;
            *modified = SystemTime::now();
            *g = generation;
            return Ok(());
        }
        self.nodes.insert(
            path.to_string(),
            Node::File {
                data,
                modified: SystemTime::now(),
                generation,
                mode: FILE_MODE,
            },
        );
        self.touch_parent(path);
        Ok(())
    }

    /// Sets the permission bits of `path` (`mode & 0o7777`). Changes the
    /// entry's generation (its metadata changed) but not its modification
    /// time, as `chmod(2)` changes only the ctime.
    pub(crate) fn chmod(&mut self, path: &str, new_mode: u32) -> Result<()> {
        if !self.nodes.contains_key(path) {
            return Err(self.missing(path));
        }
        let generation = self.bump();
        if let Some(
            Node::File {
                generation: g,
                mode,
                ..
            }
            | Node::Dir {
                generation: g,
                mode,
                ..
            },
        ) = self.nodes.get_mut(path)
        {
            *mode = new_mode & 0o7777;
            *g = generation;
        }
        Ok(())
    }

    /// Sets the modification time of `path` (`touch -d`); the entry's
    /// generation changes with it.
    pub(crate) fn set_modified(&mut self, path: &str, time: SystemTime) -> Result<()> {
        if !self.nodes.contains_key(path) {
            return Err(self.missing(path));
        }
        let generation = self.bump();
        if let Some(
            Node::File {
                generation: g,
                modified,
                ..
            }
            | Node::Dir {
                generation: g,
                modified,
                ..
            }
            | Node::Symlink {
                generation: g,
                modified,
                ..
            },
        ) = self.nodes.get_mut(path)
        {
            *modified = time;
            *g = generation;
        }
        Ok(())
    }

    pub(crate) fn append(&mut self, path: &str, data: Bytes) -> Result<()> {
        self.check_writable(path)?;
        let generation = self.bump();
        match self.nodes.get_mut(path) {
            Some(Node::File {
                data: old,
                modified,
                generation: g,
                ..
            }) => {
                *old = concat(old, data);
                *modified = SystemTime::now();
                *g = generation;
                Ok(())
            }
            _ => self.write(path, data),
        }
    }

    pub(crate) fn mkdir(&mut self, path: &str) -> Result<()> {
        if self.nodes.contains_key(path) {
            return Err(Error::at(ErrorKind::AlreadyExists, path));
        }
        self.check_parent(path)?;
        self.insert_dir(path);
        Ok(())
    }

    fn insert_dir(&mut self, path: &str) {
        let generation = self.bump();
        self.nodes.insert(
            path.to_string(),
            Node::Dir {
                modified: SystemTime::now(),
                generation,
                mode: DIR_MODE,
            },
        );
        self.touch_parent(path);
    }

    /// Creates every missing ancestor of `path` (not `path` itself).
    pub(crate) fn create_parents(&mut self, path: &str) -> Result<()> {
        let mut ancestors = Vec::new();
        let mut p = parent_of(path);
        while p != "/" {
            ancestors.push(p);
            p = parent_of(p);
        }
        for a in ancestors.into_iter().rev() {
            match self.nodes.get(a) {
                Some(Node::Dir { .. }) => {}
                Some(Node::File { .. } | Node::Symlink { .. }) => {
                    return Err(Error::at(ErrorKind::NotADirectory, a));
                }
                None => {
                    let a = a.to_string();
                    self.insert_dir(&a);
                }
            }
        }
        Ok(())
    }

    /// `mkdir -p`'s last step: Ok when `path` is already a directory.
    pub(crate) fn mkdir_p_leaf(&mut self, path: &str) -> Result<()> {
        match self.nodes.get(path) {
            Some(Node::Dir { .. }) => Ok(()),
            Some(Node::File { .. } | Node::Symlink { .. }) => {
                Err(Error::at(ErrorKind::AlreadyExists, path))
            }
            None => self.mkdir(path),
        }
    }

    pub(crate) fn unlink(&mut self, path: &str) -> Result<()> {
        if self.get(path)?.is_dir() {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        self.nodes.remove(path);
        self.touch_parent(path);
        Ok(())
    }

    pub(crate) fn rmdir(&mut self, path: &str) -> Result<()> {
        if !self.get(path)?.is_dir() {
            return Err(Error::at(ErrorKind::NotADirectory, path));
        }
        if path == "/" {
            // rmdir(2) gives EBUSY for a mount point; the closest kind we have.
            return Err(Error::at(ErrorKind::PermissionDenied, path));
        }
        if self.has_children(path) {
            return Err(Error::at(ErrorKind::DirectoryNotEmpty, path));
        }
        self.nodes.remove(path);
        self.touch_parent(path);
        Ok(())
    }

    /// rename(2): a file replaces a file, a directory replaces an empty
    /// directory and takes its whole subtree along.
    pub(crate) fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let from_dir = self.get(from)?.is_dir();
        if from == "/" {
            return Err(Error::at(ErrorKind::InvalidInput, from));
        }
        if from == to {
            return Ok(());
        }
        if from_dir && to.starts_with(&child_prefix(from)) {
            // Moving a directory into itself.
            return Err(Error::at(ErrorKind::InvalidInput, to));
        }
        if to != "/" {
            self.check_parent(to)?;
        }
        match (from_dir, self.nodes.get(to)) {
            (false, Some(Node::Dir { .. })) => return Err(Error::at(ErrorKind::IsADirectory, to)),
            (true, Some(Node::File { .. } | Node::Symlink { .. })) => {
                return Err(Error::at(ErrorKind::NotADirectory, to));
            }
            (true, Some(Node::Dir { .. })) if self.has_children(to) => {
                return Err(Error::at(ErrorKind::DirectoryNotEmpty, to));
            }
            _ => {}
        }
        let Some(node) = self.nodes.remove(from) else {
            return Err(self.missing(from));
        };
        self.nodes.insert(to.to_string(), node);
        if from_dir {
            let prefix = child_prefix(from);
            let keys: Vec<String> = self
                .nodes
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                if let Some(n) = self.nodes.remove(&k) {
                    self.nodes.insert(reroot(&k, from, to), n);
                }
            }
        }
        self.touch_parent(from);
        self.touch_parent(to);
        Ok(())
    }
}
