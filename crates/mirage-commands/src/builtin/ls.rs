//! `ls` (not yet written).
