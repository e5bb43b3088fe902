//! `basename` (not yet written).
