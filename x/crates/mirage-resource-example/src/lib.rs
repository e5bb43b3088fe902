//! The `example` resource: the worked example of
//! `docs/adding-a-resource.md`. It is shaped like an object store: a flat
//! map from key (`/dir/file`) to bytes, where a directory is only a prefix
//! of some key (no `mkdir`, no empty directories, no rename), so it shows
//! what the router and the defaults do for a resource without
//! `real_directories`: `append` and range/conditional reads come from the
//! `Resource` defaults, recursive listings from the router's walk.
#![deny(missing_docs)]

mod config;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use bytes::Bytes;
use mirage_ops::{Capability, Resource, ResourceRegistration, TestConfig};
use mirage_types::{
    ByteSource, Error, ErrorKind, FileStat, Result, VersionToken, basename, normalize_path,
};

pub use config::ExampleConfig;

/// A map of keys to bytes (registered as `example`).
///
/// Capability: `write` only. `stat` reports a
/// [`VersionToken::Generation`] that changes on every write.
#[derive(Debug, Default)]
pub struct ExampleResource {
    /// Key → (contents, generation).
    objects: RwLock<BTreeMap<String, (Bytes, u64)>>,
    generation: std::sync::atomic::AtomicU64,
}

impl ExampleResource {
    /// A resource holding `config.files`.
    pub fn new(config: &ExampleConfig) -> Self {
        let r = ExampleResource::default();
        for (k, v) in &config.files {
            r.put(&normalize_path(k), Bytes::from(v.clone()));
        }
        r
    }

    fn put(&self, key: &str, data: Bytes) {
        let g = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.map_mut().insert(key.to_string(), (data, g));
    }

    fn map(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, (Bytes, u64)>> {
        self.objects
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn map_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, (Bytes, u64)>> {
        self.objects
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether some key lies under `path` (so it is a directory).
    fn is_prefix(&self, path: &str) -> bool {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        path == "/"
            || self
                .map()
                .range(prefix.clone()..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

#[async_trait]
impl Resource for ExampleResource {
    fn name(&self) -> &'static str {
        "example"
    }

    fn capability(&self) -> Capability {
        Capability {
            write: true,
            ..Capability::default()
        }
    }

    async fn stat(&self, path: &str) -> Result<FileStat> {
        let path = normalize_path(path);
        if let Some((data, g)) = self.map().get(&path) {
            let mut st = FileStat::file(basename(&path), data.len() as u64);
            st.version = VersionToken::Generation(*g);
            return Ok(st);
        }
        if self.is_prefix(&path) {
            return Ok(FileStat::dir(basename(&path)));
        }
        Err(Error::not_found(path))
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        let path = normalize_path(path);
        if self.map().contains_key(&path) {
            return Err(Error::at(ErrorKind::NotADirectory, path));
        }
        if !self.is_prefix(&path) {
            return Err(Error::not_found(path));
        }
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let mut out: Vec<FileStat> = Vec::new();
        for (k, (data, g)) in self.map().range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else {
                break;
            };
            match rest.split_once('/') {
                // A deeper key: its first component is a directory.
                Some((dir, _)) => {
                    if out.last().is_none_or(|e| e.name != dir) {
                        out.push(FileStat::dir(dir));
                    }
                }
                None => {
                    let mut st = FileStat::file(rest, data.len() as u64);
                    st.version = VersionToken::Generation(*g);
                    out.push(st);
                }
            }
        }
        Ok(out)
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        let path = normalize_path(path);
        if let Some((data, _)) = self.map().get(&path) {
            return Ok(ByteSource::Bytes(data.clone()));
        }
        if self.is_prefix(&path) {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        Err(Error::not_found(path))
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        let path = normalize_path(path);
        if self.is_prefix(&path) {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        // Collect first: a failing stream leaves the old object in place.
        let data = data.collect().await?;
        self.put(&path, data);
        Ok(())
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        let path = normalize_path(path);
        if self.map_mut().remove(&path).is_some() {
            return Ok(());
        }
        if self.is_prefix(&path) {
            return Err(Error::at(ErrorKind::IsADirectory, path));
        }
        Err(Error::not_found(path))
    }
}

fn build(config: &serde_json::Value) -> Result<Arc<dyn Resource>> {
    let config: ExampleConfig = if config.is_null() {
        ExampleConfig::default()
    } else {
        serde_json::from_value(config.clone()).map_err(|e| {
            Error::msg(
                ErrorKind::InvalidInput,
                format!("example: invalid config: {e}"),
            )
        })?
    };
    Ok(Arc::new(ExampleResource::new(&config)))
}

/// A scratch instance for the behaviour suite: an empty map.
fn test_config() -> Result<TestConfig> {
    Ok(TestConfig::new(serde_json::json!({})))
}

inventory::submit! {
    ResourceRegistration {
        name: "example",
        summary: "an in-memory map of keys to bytes, shaped like an object store (the adding-a-resource example; config: {\"files\": {KEY: TEXT}})",
        build,
        config_schema: || schemars::schema_for!(ExampleConfig),
        test_config,
        main_key: None,
    }
}
