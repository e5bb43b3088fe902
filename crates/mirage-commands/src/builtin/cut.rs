//! `cut` (not yet written).
