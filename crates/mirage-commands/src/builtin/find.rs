//! `find` (not yet written).
