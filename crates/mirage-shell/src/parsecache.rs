//! Parsed inputs kept by their text, so a line run again (an agent's
//! repeated command, the body of an `eval` in a loop) is not parsed again.
//!
//! A parse depends only on the text and on the parse settings installed on
//! the thread ([`crate::alias`]: `extglob`, aliases), which the settings'
//! epoch names. One parse is kept per text, used only under the epoch it
//! was made with (a parse under other settings replaces it); the lookup
//! borrows the text, so a hit copies nothing. The cache is process-wide and bounded:
//! at most [`MAX_ENTRIES`] inputs and [`MAX_BYTES`] bytes of source text in
//! all; an input longer than [`MAX_INPUT`] is parsed every time and not
//! kept. When full, the least recently used entry goes.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use crate::parse::Parsed;

/// Inputs kept at most.
pub const MAX_ENTRIES: usize = 512;
/// Bytes of source text kept at most, over all entries.
pub const MAX_BYTES: usize = 4 << 20;
/// The longest input (bytes) that is kept.
pub const MAX_INPUT: usize = 64 << 10;

/// One kept parse (its settings epoch is [`Parsed::epoch`]) and its last use.
struct Entry {
    parsed: Arc<Parsed>,
    used: u64,
}

#[derive(Default)]
struct Cache {
    /// text → its latest parse (one per text: a parse under other settings
    /// replaces it), looked up by `&str` with no copy of the text.
    map: HashMap<Box<str>, Entry, foldhash::fast::RandomState>,
    bytes: usize,
    clock: u64,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(Cache::default()));

/// [`crate::parse::parse_input`] of `src` under the thread's current parse
/// settings, from the cache when this text was parsed before under the
/// same settings.
pub fn parse(src: &str) -> Arc<Parsed> {
    if src.len() > MAX_INPUT {
        return Arc::new(crate::parse::parse_input(src));
    }
    let epoch = crate::alias::current_epoch();
    if let Ok(mut c) = CACHE.lock() {
        c.clock += 1;
        let now = c.clock;
        if let Some(e) = c.map.get_mut(src)
            && e.parsed.epoch == epoch
        {
            e.used = now;
            return e.parsed.clone();
        }
    }
    let parsed = Arc::new(crate::parse::parse_input(src));
    // a parse under other settings than the key's (cannot happen on one
    // thread, but keep the cache exact) is not kept
    if parsed.epoch != epoch {
        return parsed;
    }
    if let Ok(mut c) = CACHE.lock() {
        let now = c.clock;
        if let Some(e) = c.map.get_mut(src) {
            *e = Entry {
                parsed: parsed.clone(),
                used: now,
            };
            return parsed;
        }
        while c.map.len() >= MAX_ENTRIES || c.bytes + src.len() > MAX_BYTES {
            let Some(oldest) = c
                .map
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            c.map.remove(&oldest);
            c.bytes -= oldest.len();
        }
        c.bytes += src.len();
        c.map.insert(
            src.into(),
            Entry {
                parsed: parsed.clone(),
                used: now,
            },
        );
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    // one test: the cache is process-wide, and tests of one process run
    // on several threads
    #[test]
    fn kept_by_text_and_settings_and_bounded() {
        let a = parse("echo cached-1; x=1");
        let b = parse("echo cached-1; x=1");
        assert!(Arc::ptr_eq(&a, &b));
        let e = parse("echo (");
        assert!(e.error.is_some());
        assert!(Arc::ptr_eq(&e, &parse("echo (")));
        let mut s = crate::alias::ParseSettings::default();
        s.define("ll", "ls -l");
        crate::alias::install(&s);
        let c = parse("echo cached-1; x=1");
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.epoch, s.epoch);
        crate::alias::install(&crate::alias::ParseSettings::default());
        for i in 0..MAX_ENTRIES + 10 {
            let _ = parse(&format!("echo bound-{i}"));
        }
        let c = CACHE.lock().unwrap();
        assert!(c.map.len() <= MAX_ENTRIES);
        assert!(c.bytes <= MAX_BYTES);
    }
}
