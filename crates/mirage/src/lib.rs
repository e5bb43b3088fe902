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
    link_resources();
    mirage_ops::resource_types()
        .iter()
        .map(|r| r.name)
        .collect()
}

/// Makes sure the resource crates of the enabled features are linked into
/// the binary, so their `inventory` registrations are found, even when
/// nothing else names them (a binary that builds every mount from a config
/// through the registry). Call it once before looking up resource types;
/// it does nothing else.
pub fn link_resources() {
    #[cfg(feature = "ram")]
    std::hint::black_box(mirage_resource_ram::RamResource::new as fn() -> _);
    #[cfg(feature = "disk")]
    std::hint::black_box(mirage_resource_disk::DiskResource::open as fn(&_) -> _);
    #[cfg(feature = "s3")]
    std::hint::black_box(mirage_resource_s3::build as fn(&_) -> _);
    #[cfg(feature = "redis")]
    std::hint::black_box(mirage_resource_redis::build as fn(&_) -> _);
}
