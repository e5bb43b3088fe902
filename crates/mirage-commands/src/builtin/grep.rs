//! `grep` (not yet written).
