//! `mv` (not yet written).
