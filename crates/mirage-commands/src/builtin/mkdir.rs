//! `mkdir` (not yet written).
