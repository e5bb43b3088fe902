//! The `s3` resource and its S3-compatible presets (`r2`, `gcs`, `minio`,
//! `oci`, `supabase`, `backblaze`, `wasabi`, `digitalocean`, `ceph`), on
//! `object_store`.
//!
//! # Layout
//! * `config`: the mount configs ([`config::S3Config`] for `s3`,
//!   [`config::S3AliasConfig`] for the presets) and how a preset fills the
//!   endpoint, region and addressing style;
//! * `accessor`: the object_store client, the key mapping and the error
//!   mapping;
//! * `ops`: the VFS functions (stat, list, read, write, ...);
//! * this file: the [`Resource`] implementation and the registrations.
//!
//! # Keys and directories
//! The resource path `/a/b.txt` is the key `{key_prefix}a/b.txt`.
//! Directories are `/`-delimited key prefixes: a directory exists when any
//! key lies under it or when its marker does. `mkdir` writes the marker, a
//! zero-byte object whose key is the directory's key with a trailing `/`
//! (`{key_prefix}a/`), as the AWS console and boto-based tools do; `rmdir`
//! deletes it. The marker is never listed as a file. `stat` is one HEAD,
//! plus one listing request (`max-keys` 1) when the key is absent; the
//! root `/` is always a directory.
//!
//! # Requests
//! `ls` is one delimiter listing request per 1000 entries; a recursive
//! listing (`find`, `grep -r`) is one listing without a delimiter,
//! streamed page by page. A read is one streaming GET; a ranged read one
//! ranged GET; a conditional read sends `If-None-Match` and answers
//! `Unchanged` on 304. A write first checks, as a file system would, that
//! the target is not a directory and that its parent is one (a listing
//! request under the target and, below the root, one under the parent,
//! both at once); then up to 8 MiB is one PUT,
//! more a multipart upload in 8 MiB parts, streamed and aborted on error
//! (no partial object is ever visible). A conditional write (`If-Match`)
//! is one PUT of the whole content (S3 takes up to 5 GiB in one PUT), and
//! answers the new ETag. `append` rewrites the object (S3 has no append).
//! Rename is a copy and a delete per key: not atomic (a reader may see
//! both names for a moment, and a failure half-way leaves both).
//!
//! Capability: `write`, `rename` (copy + delete), `real_directories`
//! (through the markers), `remote`, `range_read`, `conditional_read`,
//! `recursive_list`, `conditional_write`.
#![deny(missing_docs)]

pub mod accessor;
pub mod config;
mod ops;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use mirage_ops::{Capability, Resource, ResourceRegistration, TestConfig};
use mirage_types::{
    ByteSource, EntryStream, Error, ErrorKind, FileStat, ListOptions, ReadOptions, ReadResult,
    Result, VersionToken, WriteOptions,
};
use object_store::PutMode;

use accessor::Accessor;
use config::{Preset, S3AliasConfig, S3Config, Settings};

pub use ops::{LIST_PAGE, PART_SIZE};

/// A mounted bucket (or key prefix of one).
#[derive(Debug)]
pub struct S3Resource {
    acc: Accessor,
}

impl S3Resource {
    /// The resource for resolved `settings`. Errors: `InvalidInput` when
    /// the client refuses them (a malformed endpoint or proxy URL).
    pub fn new(settings: &Settings) -> Result<Self> {
        Ok(S3Resource {
            acc: Accessor::new(settings)?,
        })
    }

    /// The key the resource path `path` maps to.
    pub fn key(&self, path: &str) -> String {
        self.acc.key(&mirage_types::normalize_path(path))
    }
}

#[async_trait]
impl Resource for S3Resource {
    fn name(&self) -> &'static str {
        self.acc.name
    }

    fn capability(&self) -> Capability {
        Capability {
            write: true,
            rename: true,
            remote: true,
            range_read: true,
            conditional_read: true,
            recursive_list: true,
            real_directories: true,
            conditional_write: true,
            ..Capability::default()
        }
    }

    async fn stat(&self, path: &str) -> Result<FileStat> {
        self.acc.stat(path).await
    }

    async fn readdir(&self, path: &str) -> Result<Vec<FileStat>> {
        mirage_ops::collect_list(self.acc.list(path, &ListOptions::default()).await?).await
    }

    async fn list<'a>(&'a self, path: &str, opts: &ListOptions) -> Result<EntryStream<'a>> {
        self.acc.list(path, opts).await
    }

    async fn read(&self, path: &str) -> Result<ByteSource> {
        self.acc.read(path).await
    }

    async fn read_with(&self, path: &str, opts: &ReadOptions) -> Result<ReadResult> {
        self.acc.read_with(path, opts).await
    }

    async fn write(&self, path: &str, data: ByteSource) -> Result<()> {
        self.acc
            .write(path, data, PutMode::Overwrite)
            .await
            .map(|_| ())
    }

    async fn write_with(
        &self,
        path: &str,
        data: ByteSource,
        opts: &WriteOptions,
    ) -> Result<VersionToken> {
        let mode = match &opts.if_match {
            Some(v) => Accessor::update_mode(&mirage_types::normalize_path(path), v)?,
            None => PutMode::Overwrite,
        };
        self.acc.write(path, data, mode).await
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        self.acc.mkdir(path).await
    }

    async fn unlink(&self, path: &str) -> Result<()> {
        self.acc.unlink(path).await
    }

    async fn rmdir(&self, path: &str) -> Result<()> {
        self.acc.rmdir(path).await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.acc.rename(from, to).await
    }
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, config: &serde_json::Value) -> Result<T> {
    serde_json::from_value::<T>(config.clone()).map_err(|e| {
        Error::msg(
            ErrorKind::InvalidInput,
            format!("{name}: invalid config: {e}"),
        )
    })
}

/// Builds an `s3` mount from its `config:` object ([`S3Config`]).
///
/// # Errors
/// `InvalidInput` for a bad config (unknown key, no bucket, half
/// credentials, a malformed URL); `Unsupported` for `aws_profile`.
pub fn build(config: &serde_json::Value) -> Result<Arc<dyn Resource>> {
    let settings = parse::<S3Config>("s3", config)?.resolve()?;
    Ok(Arc::new(S3Resource::new(&settings)?))
}

/// Builds a mount of `preset` from its `config:` object
/// ([`S3AliasConfig`]).
///
/// # Errors
/// As [`build`], and `InvalidInput` for a key the preset requires
/// (region, endpoint_url, account_id, namespace, project_ref).
pub fn build_preset(preset: Preset, config: &serde_json::Value) -> Result<Arc<dyn Resource>> {
    let settings = preset.resolve(parse::<S3AliasConfig>(preset.name(), config)?)?;
    Ok(Arc::new(S3Resource::new(&settings)?))
}

/// The environment variable naming the S3 test server's endpoint.
pub const TEST_ENDPOINT_VAR: &str = "MIRAGE_TEST_S3_ENDPOINT";
/// The environment variable naming the test bucket (default `mirage-test`).
pub const TEST_BUCKET_VAR: &str = "MIRAGE_TEST_S3_BUCKET";

static INSTANCE: AtomicUsize = AtomicUsize::new(0);

/// The test server's endpoint and bucket, and a fresh key prefix
/// (`suite-{pid}-{n}/`). Errors: `Unsupported` when
/// [`TEST_ENDPOINT_VAR`] is unset (the behaviour suite then skips).
pub fn test_server(resource: &str) -> Result<(String, String, String)> {
    let endpoint = std::env::var(TEST_ENDPOINT_VAR)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| no_server(resource, TEST_ENDPOINT_VAR))?;
    let bucket = std::env::var(TEST_BUCKET_VAR)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "mirage-test".into());
    let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
    let prefix = format!("suite-{}-{n}/", std::process::id());
    Ok((endpoint, bucket, prefix))
}

/// As `mirage_ops::testsuite::no_server` (which lives behind a feature
/// this library does not enable).
fn no_server(resource: &str, var: &str) -> Error {
    Error::msg(
        ErrorKind::Unsupported,
        format!(
            "no {resource} test server: {var} is not set (`cargo xtask test-resources` starts one and sets it)"
        ),
    )
}

/// Deletes every key under a test instance's key prefix when dropped (the
/// [`TestConfig::guard`] of the behaviour suite), so repeated runs do not
/// pile objects up in the test server. Runs on its own thread and
/// runtime, so it may be dropped anywhere; failures are only logged.
struct Cleanup(serde_json::Value, &'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (config, name) = (self.0.clone(), self.1);
        let job = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return tracing::warn!("{name}: test cleanup: {e}"),
            };
            if let Err(e) = rt.block_on(cleanup(&config, name)) {
                tracing::warn!("{name}: test cleanup: {e}");
            }
        });
        let _ = job.join();
    }
}

/// Deletes the keys (markers included) under the prefix of `config`.
async fn cleanup(config: &serde_json::Value, name: &'static str) -> Result<()> {
    let settings = match Preset::ALL.iter().find(|p| p.name() == name) {
        Some(p) => p.resolve(parse::<S3AliasConfig>(name, config)?)?,
        None => parse::<S3Config>(name, config)?.resolve()?,
    };
    if settings.key_prefix.is_empty() {
        return Ok(());
    }
    let acc = Accessor::new(&settings)?;
    acc.delete_prefix().await
}

fn s3_test_config() -> Result<TestConfig> {
    let (endpoint, bucket, prefix) = test_server("s3")?;
    with_cleanup(
        "s3",
        serde_json::json!({
            "bucket": bucket,
            "endpoint_url": endpoint,
            "region": "us-east-1",
            "key_prefix": prefix,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }),
    )
}

fn with_cleanup(name: &'static str, config: serde_json::Value) -> Result<TestConfig> {
    Ok(TestConfig {
        guard: Box::new(Cleanup(config.clone(), name)),
        config,
    })
}

/// A test config of `preset` against the test server (its endpoint given
/// explicitly, which every preset accepts), with the keys the preset
/// requires filled with dummies.
fn preset_test_config(preset: Preset) -> Result<TestConfig> {
    let (endpoint, bucket, prefix) = test_server(preset.name())?;
    let mut v = serde_json::json!({
        "bucket": bucket,
        "endpoint_url": endpoint,
        "region": "us-east-1",
        "key_prefix": prefix,
        "access_key_id": "test",
        "secret_access_key": "test",
    });
    let extra = match preset {
        Preset::Oci => Some(("namespace", "test")),
        _ => None,
    };
    if let (Some((k, val)), Some(o)) = (extra, v.as_object_mut()) {
        o.insert(k.into(), val.into());
    }
    with_cleanup(preset.name(), v)
}

fn s3_schema() -> mirage_ops::schemars::Schema {
    schemars::schema_for!(S3Config)
}

fn alias_schema() -> mirage_ops::schemars::Schema {
    schemars::schema_for!(S3AliasConfig)
}

inventory::submit! {
    ResourceRegistration {
        name: "s3",
        summary: "an S3 bucket (or S3-compatible endpoint) on object_store: streamed, ranged and conditional reads, multipart writes",
        build,
        config_schema: s3_schema,
        test_config: s3_test_config,
        main_key: Some("bucket"),
    }
}

macro_rules! preset {
    ($preset:expr, $name:literal, $summary:literal) => {
        inventory::submit! {
            ResourceRegistration {
                name: $name,
                summary: $summary,
                build: |c| build_preset($preset, c),
                config_schema: alias_schema,
                test_config: || preset_test_config($preset),
                main_key: Some("bucket"),
            }
        }
    };
}

preset!(
    Preset::R2,
    "r2",
    "a Cloudflare R2 bucket (S3 preset: account_id or endpoint_url)"
);
preset!(
    Preset::Gcs,
    "gcs",
    "a Google Cloud Storage bucket through its S3 interoperability API (S3 preset)"
);
preset!(
    Preset::Minio,
    "minio",
    "a MinIO bucket (S3 preset: endpoint_url required, path style)"
);
preset!(
    Preset::Oci,
    "oci",
    "an Oracle Cloud Object Storage bucket (S3 preset: region and namespace)"
);
preset!(
    Preset::Supabase,
    "supabase",
    "a Supabase Storage bucket (S3 preset: region and project_ref)"
);
preset!(
    Preset::Backblaze,
    "backblaze",
    "a Backblaze B2 bucket (S3 preset: region)"
);
preset!(Preset::Wasabi, "wasabi", "a Wasabi bucket (S3 preset)");
preset!(
    Preset::DigitalOcean,
    "digitalocean",
    "a DigitalOcean Spaces bucket (S3 preset: region)"
);
preset!(
    Preset::Ceph,
    "ceph",
    "a Ceph RGW bucket (S3 preset: endpoint_url required, path style)"
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_preset_registered() {
        for name in [
            "s3",
            "r2",
            "gcs",
            "minio",
            "oci",
            "supabase",
            "backblaze",
            "wasabi",
            "digitalocean",
            "ceph",
        ] {
            assert!(mirage_ops::resource_type(name).is_some(), "{name}");
        }
        for p in Preset::ALL {
            assert!(mirage_ops::resource_type(p.name()).is_some());
        }
    }

    #[test]
    fn bad_configs_refused() {
        let e = build(&serde_json::json!({"bucket": "b", "nope": 1}))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(build(&serde_json::json!({})).is_err());
        let e = build_preset(Preset::Minio, &serde_json::json!({"bucket": "b"}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("endpoint_url"), "{e}");
    }
}
