//! The `disk` mount's configuration.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

/// Config of a `disk` mount: `{ "root": "/host/dir" }`.
///
/// Unknown keys are refused (`deny_unknown_fields`), so a typo is an error
/// rather than a silently ignored setting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskConfig {
    /// The host directory the mount exposes; it must exist and be a
    /// directory. Nothing outside it is reachable through the mount.
    pub root: PathBuf,
}
