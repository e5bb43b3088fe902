//! Mirage: a unified virtual filesystem and bash-compatible shell for AI
//! agents. This facade re-exports the crates; each resource is a cargo
//! feature (`ram`, `disk`), and linking it registers it (no central list).
#![deny(missing_docs)]

pub use mirage_commands as commands;
pub use mirage_ops as ops;
pub use mirage_shell as shell;
pub use mirage_types as types;
pub use mirage_workspace as workspace;
pub use mirage_workspace::{ExecOutput, SessionOptions, Workspace, WorkspaceConfig};

#[cfg(feature = "disk")]
pub use mirage_resource_disk as disk;
#[cfg(feature = "ram")]
pub use mirage_resource_ram as ram;

/// Names of the resource types linked into this binary (from their
/// link-time registrations), sorted.
pub fn resource_names() -> Vec<&'static str> {
    mirage_ops::resource_types()
        .iter()
        .map(|r| r.name)
        .collect()
}
