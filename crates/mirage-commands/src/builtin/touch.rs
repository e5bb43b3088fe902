//! `touch` (not yet written).
