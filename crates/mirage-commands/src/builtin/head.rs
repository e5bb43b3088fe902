//! `head` (not yet written).
