//! `uniq` (not yet written).
