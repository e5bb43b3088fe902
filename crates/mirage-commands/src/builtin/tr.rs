//! `tr` (not yet written).
