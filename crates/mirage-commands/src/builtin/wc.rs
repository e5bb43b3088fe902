//! `wc` (not yet written).
