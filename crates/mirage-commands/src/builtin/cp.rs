//! `cp` (not yet written).
