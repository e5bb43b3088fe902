//! `tail` (not yet written).
