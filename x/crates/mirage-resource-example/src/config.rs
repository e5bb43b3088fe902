//! The `example` mount's configuration.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// Config of an `example` mount: `{ "files": { "/a/b.txt": "contents" } }`.
///
/// Unknown keys are refused (`deny_unknown_fields`), so a typo is an error
/// that names the key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleConfig {
    /// Files the mount starts with: absolute key → contents.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}
