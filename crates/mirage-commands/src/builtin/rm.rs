//! `rm` (not yet written).
