//! `sort` (not yet written).
