//! Filetype overrides: handlers registered for `(name, filetype)`, which
//! dispatch tries before the general command when the first path operand
//! has that extension (seed 001's resolution order).

#[cfg(feature = "parquet")]
pub mod parquet;
