//! The inode table: FUSE speaks in inode numbers, the workspace in virtual
//! paths. A path gets a number when the kernel first learns of it, keeps
//! it across renames (a renamed subtree keeps its numbers), and loses it
//! when the path is removed or when the kernel forgets the number.
//!
//! The kernel counts the entries it is given (each `lookup`, `create`,
//! `mkdir` and `symlink` reply adds one) and gives them back with
//! `forget` when it drops the inode from its cache. A number whose count
//! falls to zero is dropped here too, so a long-lived mount remembers only
//! what the kernel still holds. Numbers handed out in a directory listing
//! (`d_ino`) are not counted by the kernel; the table keeps at most
//! [`MAX_UNCOUNTED`] of those, dropping the oldest first.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// The inode number of the mount's root, as FUSE fixes it.
pub(crate) const ROOT_INO: u64 = 1;

/// How many numbers the table keeps that the kernel holds no count of
/// (given in listings and never looked up).
pub(crate) const MAX_UNCOUNTED: usize = 65_536;

struct Entry {
    path: String,
    /// Entries the kernel was given and has not forgotten.
    lookups: u64,
}

/// Inode numbers ↔ virtual paths.
pub(crate) struct Inodes {
    by_ino: HashMap<u64, Entry>,
    /// Ordered, so a subtree is one range.
    by_path: BTreeMap<String, u64>,
    /// Numbers given without a count, oldest first (some may be counted
    /// or gone since).
    uncounted: VecDeque<u64>,
    next: u64,
}

impl Inodes {
    /// A table whose root (inode 1) is the virtual directory `root`.
    pub(crate) fn new(root: &str) -> Self {
        let mut t = Inodes {
            by_ino: HashMap::new(),
            by_path: BTreeMap::new(),
            uncounted: VecDeque::new(),
            next: ROOT_INO + 1,
        };
        t.by_ino.insert(
            ROOT_INO,
            Entry {
                path: root.to_string(),
                lookups: 1,
            },
        );
        t.by_path.insert(root.to_string(), ROOT_INO);
        t
    }

    /// The path of `ino`, if it is known.
    pub(crate) fn path(&self, ino: u64) -> Option<String> {
        self.by_ino.get(&ino).map(|e| e.path.clone())
    }

    /// How many numbers the table holds (the root included).
    pub(crate) fn len(&self) -> usize {
        self.by_ino.len()
    }

    /// The number of `path`, given one if it has none yet (a number the
    /// kernel does not count, as in a listing).
    pub(crate) fn ino(&mut self, path: &str) -> u64 {
        if let Some(i) = self.by_path.get(path) {
            return *i;
        }
        let i = self.next;
        self.next += 1;
        self.by_ino.insert(
            i,
            Entry {
                path: path.to_string(),
                lookups: 0,
            },
        );
        self.by_path.insert(path.to_string(), i);
        self.uncounted.push_back(i);
        while self.uncounted.len() > MAX_UNCOUNTED {
            let Some(old) = self.uncounted.pop_front() else {
                break;
            };
            if self.by_ino.get(&old).is_some_and(|e| e.lookups == 0) {
                self.drop_ino(old);
            }
        }
        i
    }

    /// The number of `path` for an entry reply: the kernel now holds one
    /// more count of it, given back by [`Inodes::forget`].
    pub(crate) fn entry(&mut self, path: &str) -> u64 {
        let i = self.ino(path);
        if let Some(e) = self.by_ino.get_mut(&i) {
            e.lookups += 1;
        }
        i
    }

    /// The kernel gave back `n` counts of `ino`; at none, the number is
    /// dropped (the root never is).
    pub(crate) fn forget(&mut self, ino: u64, n: u64) {
        if ino == ROOT_INO {
            return;
        }
        let Some(e) = self.by_ino.get_mut(&ino) else {
            return;
        };
        e.lookups = e.lookups.saturating_sub(n);
        if e.lookups == 0 {
            self.drop_ino(ino);
        }
    }

    fn drop_ino(&mut self, ino: u64) {
        if let Some(e) = self.by_ino.remove(&ino)
            && self.by_path.get(&e.path) == Some(&ino)
        {
            self.by_path.remove(&e.path);
        }
    }

    /// The number of `path` if it has one (no new number is given).
    pub(crate) fn known(&self, path: &str) -> Option<u64> {
        self.by_path.get(path).copied()
    }

    /// `path` and the paths below it that have numbers.
    fn subtree(&self, path: &str) -> Vec<(String, u64)> {
        let below = format!("{}/", path.trim_end_matches('/'));
        let mut out: Vec<(String, u64)> = self
            .by_path
            .get_key_value(path)
            .map(|(p, i)| (p.clone(), *i))
            .into_iter()
            .collect();
        out.extend(
            self.by_path
                .range(below.clone()..)
                .take_while(|(p, _)| p.starts_with(&below))
                .map(|(p, i)| (p.clone(), *i)),
        );
        out
    }

    /// Forgets `path` and everything below it (it was removed): a new
    /// entry at the same path later gets a new number, so the kernel never
    /// mixes the two up.
    pub(crate) fn remove(&mut self, path: &str) {
        for (p, i) in self.subtree(path) {
            self.by_path.remove(&p);
            if i != ROOT_INO {
                self.by_ino.remove(&i);
            }
        }
    }

    /// `from` (and its subtree) is now at `to`: the numbers move along,
    /// and whatever `to` was before is forgotten.
    pub(crate) fn rename(&mut self, from: &str, to: &str) {
        self.remove(to);
        for (p, i) in self.subtree(from) {
            self.by_path.remove(&p);
            let np = format!("{to}{}", &p[from.len()..]);
            if let Some(e) = self.by_ino.get_mut(&i) {
                e.path.clone_from(&np);
            }
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
        let dash = t.ino("/data/a-b");
        assert_eq!(t.ino("/data/a"), a);
        t.rename("/data/a", "/data/b");
        assert_eq!(t.path(a).as_deref(), Some("/data/b"));
        assert_eq!(t.path(f).as_deref(), Some("/data/b/f"));
        assert_eq!(
            t.path(other).as_deref(),
            Some("/data/ab"),
            "a sibling with the same prefix stays"
        );
        assert_eq!(t.path(dash).as_deref(), Some("/data/a-b"));
        t.remove("/data/b");
        assert_eq!(t.path(f), None);
        assert_ne!(t.ino("/data/b/f"), f, "a new entry gets a new number");
        assert_eq!(t.known("/data/ab"), Some(other));
        assert_eq!(t.known("/data/a-b"), Some(dash));
    }

    #[test]
    fn a_number_lives_while_the_kernel_counts_it() {
        let mut t = Inodes::new("/");
        let f = t.entry("/f");
        assert_eq!(t.entry("/f"), f);
        t.forget(f, 1);
        assert_eq!(t.path(f).as_deref(), Some("/f"), "one count left");
        t.forget(f, 1);
        assert_eq!(t.path(f), None);
        assert_eq!(t.known("/f"), None);
        assert_ne!(t.entry("/f"), f, "a forgotten number is not reused");
        t.forget(ROOT_INO, 5);
        assert_eq!(t.path(ROOT_INO).as_deref(), Some("/"));
        t.forget(12345, 1);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn listed_numbers_are_bounded_but_counted_ones_stay() {
        let mut t = Inodes::new("/");
        let kept = t.entry("/kept");
        let first = t.ino("/listed0");
        for i in 1..=MAX_UNCOUNTED {
            t.ino(&format!("/listed{i}"));
        }
        assert_eq!(t.path(first), None, "the oldest listed number is dropped");
        assert_eq!(t.path(kept).as_deref(), Some("/kept"));
        assert!(t.len() <= MAX_UNCOUNTED + 2, "{}", t.len());
    }
}
