//! `dirname` (not yet written).
