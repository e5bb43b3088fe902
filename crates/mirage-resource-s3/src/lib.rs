//! (being written)
#![deny(missing_docs)]

use std::sync::Arc;

/// Builds the resource from its mount's `config:` object (placeholder).
///
/// # Errors
/// Always `Unsupported` until the crate is written.
pub fn build(config: &serde_json::Value) -> mirage_types::Result<Arc<dyn mirage_ops::Resource>> {
    let _ = config;
    Err(mirage_types::Error::new(
        mirage_types::ErrorKind::Unsupported,
    ))
}
