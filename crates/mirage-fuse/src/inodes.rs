//! The inode table: FUSE speaks in inode numbers, the workspace in virtual
//! paths. Each path seen gets a number that stays until the path is
//! removed or renamed away; a renamed subtree keeps its numbers.

use std::collections::HashMap;

/// The inode number of the mount's root, as FUSE fixes it.
pub(crate) const ROOT_INO: u64 = 1;

/// Inode numbers ↔ virtual paths.
pub(crate) struct Inodes {
    by_ino: HashMap<u64, String>,
    by_path: HashMap<String, u64>,
    next: u64,
}

impl Inodes {
    /// A table whose root (inode 1) is the virtual directory `root`.
    pub(crate) fn new(root: &str) -> Self {
        let mut t = Inodes {
            by_ino: HashMap::new(),
            by_path: HashMap::new(),
            next: ROOT_INO + 1,
        };
        t.by_ino.insert(ROOT_INO, root.to_string());
        t.by_path.insert(root.to_string(), ROOT_INO);
        t
    }

    /// The path of `ino`, if it is known.
    pub(crate) fn path(&self, ino: u64) -> Option<String> {
        self.by_ino.get(&ino).cloned()
    }

    /// The number of `path`, given one if it has none yet.
    pub(crate) fn ino(&mut self, path: &str) -> u64 {
        if let Some(i) = self.by_path.get(path) {
            return *i;
        }
        let i = self.next;
        self.next += 1;
        self.by_ino.insert(i, path.to_string());
        self.by_path.insert(path.to_string(), i);
        i
    }

    /// The number of `path` if it has one (no new number is given).
    pub(crate) fn known(&self, path: &str) -> Option<u64> {
        self.by_path.get(path).copied()
    }

    /// Forgets `path` and everything below it (it was removed): a new
    /// entry at the same path later gets a new number, so the kernel never
    /// mixes the two up.
    pub(crate) fn remove(&mut self, path: &str) {
        let below = format!("{}/", path.trim_end_matches('/'));
        let gone: Vec<String> = self
            .by_path
            .keys()
            .filter(|p| *p == path || p.starts_with(&below))
            .cloned()
            .collect();
        for p in gone {
            if let Some(i) = self.by_path.remove(&p)
                && i != ROOT_INO
            {
                self.by_ino.remove(&i);
            }
        }
    }

    /// `from` (and its subtree) is now at `to`: the numbers move along,
    /// and whatever `to` was before is forgotten.
    pub(crate) fn rename(&mut self, from: &str, to: &str) {
        self.remove(to);
        let below = format!("{}/", from.trim_end_matches('/'));
        let moved: Vec<(String, u64)> = self
            .by_path
            .iter()
            .filter(|(p, _)| *p == from || p.starts_with(&below))
            .map(|(p, i)| (p.clone(), *i))
            .collect();
        for (p, i) in moved {
            self.by_path.remove(&p);
            let np = format!("{to}{}", &p[from.len()..]);
            self.by_ino.insert(i, np.clone());
            self.by_path.insert(np, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_renames_and_die_with_removals() {
        let mut t = Inodes::new("/data");
        assert_eq!(t.path(ROOT_INO).as_deref(), Some("/data"));
        let a = t.ino("/data/a");
        let f = t.ino("/data/a/f");
        let other = t.ino("/data/ab");
        assert_eq!(t.ino("/data/a"), a);
        t.rename("/data/a", "/data/b");
        assert_eq!(t.path(a).as_deref(), Some("/data/b"));
        assert_eq!(t.path(f).as_deref(), Some("/data/b/f"));
        assert_eq!(
            t.path(other).as_deref(),
            Some("/data/ab"),
            "a sibling with the same prefix stays"
        );
        t.remove("/data/b");
        assert_eq!(t.path(f), None);
        assert_ne!(t.ino("/data/b/f"), f, "a new entry gets a new number");
        assert_eq!(t.known("/data/ab"), Some(other));
    }
}
