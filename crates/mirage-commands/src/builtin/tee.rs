//! `tee` (not yet written).
