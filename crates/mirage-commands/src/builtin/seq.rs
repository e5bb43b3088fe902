//! `seq` (not yet written).
