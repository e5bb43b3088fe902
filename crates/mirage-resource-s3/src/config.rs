//! The mount configs of the `s3` resource and its presets, with the model
//! product's key names, and how each resolves to one [`Settings`].
//!
//! `s3` takes [`S3Config`] (credentials spelled `aws_access_key_id`,
//! `aws_secret_access_key`, `aws_session_token`); every preset (`r2`, `gcs`,
//! `minio`, `oci`, `supabase`, `backblaze`, `wasabi`, `digitalocean`,
//! `ceph`) takes [`S3AliasConfig`] (spelled `access_key_id`,
//! `secret_access_key`, `session_token`). A preset only fills the
//! endpoint, the region and the addressing style ([`Preset::resolve`]).

use std::fmt;
use std::time::Duration;

use mirage_types::{Error, ErrorKind, Result};
use serde::Deserialize;

/// A secret string (a credential, a proxy URL that may hold a password):
/// `Debug` and `Display` print `***`, so it never reaches a log line or an
/// error message.
#[derive(Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret value; only for handing it to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

fn default_timeout() -> u64 {
    30
}

/// Config of an `s3` mount (the model product's `S3Config`; unknown keys
/// are refused).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The bucket name (required).
    pub bucket: String,
    /// The region (`us-east-1` when unset, or `AWS_REGION` from the
    /// environment when no credentials are given).
    #[serde(default)]
    pub region: Option<String>,
    /// A custom endpoint (`http://127.0.0.1:9000`); unset: AWS.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`https://endpoint/bucket/key`). Without an
    /// endpoint and with `false`, requests are virtual-hosted
    /// (`https://bucket.s3.region.amazonaws.com/key`); with a custom
    /// endpoint they are always path style (as botocore does).
    #[serde(default)]
    pub path_style: bool,
    /// Connect timeout and read timeout (the longest wait for data), in
    /// seconds (default 30).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// An HTTP(S) proxy URL.
    #[serde(default)]
    pub proxy: Option<Secret>,
    /// A prefix put before every key (`team/`): the mount's root is that
    /// "directory" of the bucket. Leading `/` stripped, one trailing `/`
    /// added; `""` or `"/"` means none.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// The `Content-Type` of written objects (default: none sent).
    #[serde(default)]
    pub default_content_type: Option<String>,
    /// Access key id; with the secret, requests are signed with these.
    /// Without both, the `AWS_*` environment variables are used, and
    /// without those, requests are unsigned (a public bucket).
    #[serde(default)]
    pub aws_access_key_id: Option<Secret>,
    /// Secret access key.
    #[serde(default)]
    pub aws_secret_access_key: Option<Secret>,
    /// Session token of temporary credentials.
    #[serde(default)]
    pub aws_session_token: Option<Secret>,
    /// A named profile of `~/.aws/config`: accepted for compatibility, but
    /// not supported (the mount is refused with a clear error when set).
    #[serde(default)]
    pub aws_profile: Option<String>,
}

/// Config of a preset mount (`r2`, `gcs`, `minio`, `oci`, `supabase`,
/// `backblaze`, `wasabi`, `digitalocean`, `ceph`): the model product's
/// `S3AliasConfig` plus each preset's own key (`account_id` for r2,
/// `namespace` for oci, `project_ref` for supabase; refused on the
/// others). Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3AliasConfig {
    /// The bucket name (required).
    pub bucket: String,
    /// The region (each preset's default, or required; see the docs).
    #[serde(default)]
    pub region: Option<String>,
    /// An explicit endpoint; it wins over the preset's.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Access key id.
    #[serde(default)]
    pub access_key_id: Option<Secret>,
    /// Secret access key.
    #[serde(default)]
    pub secret_access_key: Option<Secret>,
    /// Session token.
    #[serde(default)]
    pub session_token: Option<Secret>,
    /// Accepted, not supported (refused when set).
    #[serde(default)]
    pub aws_profile: Option<String>,
    /// Path-style addressing (presets always have an endpoint, so they
    /// are path style anyway).
    #[serde(default)]
    pub path_style: bool,
    /// A prefix put before every key.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Connect timeout and read timeout (the longest wait for data), in
    /// seconds (default 30).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// An HTTP(S) proxy URL.
    #[serde(default)]
    pub proxy: Option<Secret>,
    /// r2 only: the Cloudflare account id (endpoint
    /// `https://{account_id}.r2.cloudflarestorage.com`).
    #[serde(default)]
    pub account_id: Option<String>,
    /// oci only: the Object Storage namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// supabase only: the project reference.
    #[serde(default)]
    pub project_ref: Option<String>,
}

/// Credentials given in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id.
    pub key_id: Secret,
    /// Secret access key.
    pub secret: Secret,
    /// Session token.
    pub token: Option<Secret>,
}

/// A config resolved for the client: what [`crate::accessor::Accessor`]
/// is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The registered name the mount was built as (`s3`, `r2`...).
    pub resource: &'static str,
    /// Bucket name.
    pub bucket: String,
    /// Region (`None`: object_store's default `us-east-1`, or the env's).
    pub region: Option<String>,
    /// Endpoint (`None`: AWS).
    pub endpoint: Option<String>,
    /// Virtual-hosted addressing (only without an endpoint).
    pub virtual_hosted: bool,
    /// Connect and read timeout.
    pub timeout: Duration,
    /// Proxy URL.
    pub proxy: Option<Secret>,
    /// Normalised key prefix: `""` or ending with `/`.
    pub key_prefix: String,
    /// Content type of written objects.
    pub content_type: Option<String>,
    /// Credentials from the config, if both key id and secret are given.
    pub credentials: Option<Credentials>,
}

/// The key prefix as the model product normalises it: leading `/`
/// stripped, one trailing `/`; `""` or `"/"` is no prefix.
pub fn normalize_prefix(p: Option<&str>) -> String {
    let p = p.unwrap_or("").trim_start_matches('/');
    if p.is_empty() {
        return String::new();
    }
    format!("{}/", p.trim_end_matches('/'))
}

fn invalid(resource: &str, msg: impl fmt::Display) -> Error {
    Error::msg(
        ErrorKind::InvalidInput,
        format!("{resource}: invalid config: {msg}"),
    )
}

fn credentials(
    resource: &str,
    key_id: Option<Secret>,
    secret: Option<Secret>,
    token: Option<Secret>,
    names: (&str, &str),
) -> Result<Option<Credentials>> {
    match (key_id, secret) {
        (Some(key_id), Some(secret)) => Ok(Some(Credentials {
            key_id,
            secret,
            token,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid(
            resource,
            format!("{} is set but {} is not", names.0, names.1),
        )),
        (None, Some(_)) => Err(invalid(
            resource,
            format!("{} is set but {} is not", names.1, names.0),
        )),
    }
}

fn no_profile(resource: &str, profile: Option<&String>) -> Result<()> {
    match profile {
        Some(_) => Err(Error::msg(
            ErrorKind::Unsupported,
            format!(
                "{resource}: aws_profile is not supported; give the keys in the config or in the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables"
            ),
        )),
        None => Ok(()),
    }
}

impl S3Config {
    /// The settings of an `s3` mount. Errors: `InvalidInput` for half
    /// credentials or an empty bucket, `Unsupported` for `aws_profile`.
    pub fn resolve(self) -> Result<Settings> {
        no_profile("s3", self.aws_profile.as_ref())?;
        if self.bucket.is_empty() {
            return Err(invalid("s3", "bucket is empty"));
        }
        let credentials = credentials(
            "s3",
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.aws_session_token,
            ("aws_access_key_id", "aws_secret_access_key"),
        )?;
        let endpoint = self.endpoint_url.filter(|e| !e.is_empty());
        Ok(Settings {
            resource: "s3",
            virtual_hosted: endpoint.is_none() && !self.path_style,
            bucket: self.bucket,
            region: self.region,
            endpoint,
            timeout: Duration::from_secs(self.timeout),
            proxy: self.proxy,
            key_prefix: normalize_prefix(self.key_prefix.as_deref()),
            content_type: self.default_content_type,
            credentials,
        })
    }
}

/// The S3-compatible presets registered besides `s3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Cloudflare R2: region `auto`, `https://{account_id}.r2.cloudflarestorage.com`.
    R2,
    /// Google Cloud Storage (S3 interoperability): region `auto`, `https://storage.googleapis.com`.
    Gcs,
    /// MinIO: `endpoint_url` required, region `us-east-1`, path style.
    Minio,
    /// Oracle Cloud: region and `namespace` required,
    /// `https://{namespace}.compat.objectstorage.{region}.oci.customer-oci.com`, path style.
    Oci,
    /// Supabase Storage: region required,
    /// `https://{project_ref}.storage.supabase.co/storage/v1/s3`, path style.
    Supabase,
    /// Backblaze B2: region required, `https://s3.{region}.backblazeb2.com`.
    Backblaze,
    /// Wasabi: region `us-east-1` (`https://s3.wasabisys.com`), else
    /// `https://s3.{region}.wasabisys.com`.
    Wasabi,
    /// DigitalOcean Spaces: region required, `https://{region}.digitaloceanspaces.com`.
    DigitalOcean,
    /// Ceph RGW: `endpoint_url` required, region `us-east-1`, path style.
    Ceph,
}

impl Preset {
    /// Every preset, in registration order.
    pub const ALL: [Preset; 9] = [
        Preset::R2,
        Preset::Gcs,
        Preset::Minio,
        Preset::Oci,
        Preset::Supabase,
        Preset::Backblaze,
        Preset::Wasabi,
        Preset::DigitalOcean,
        Preset::Ceph,
    ];

    /// The registered resource name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::R2 => "r2",
            Preset::Gcs => "gcs",
            Preset::Minio => "minio",
            Preset::Oci => "oci",
            Preset::Supabase => "supabase",
            Preset::Backblaze => "backblaze",
            Preset::Wasabi => "wasabi",
            Preset::DigitalOcean => "digitalocean",
            Preset::Ceph => "ceph",
        }
    }

    /// The settings of a mount of this preset: the endpoint, region and
    /// addressing style the preset fills, the rest as `s3`'s. Errors:
    /// `InvalidInput` for a missing required key (region, endpoint,
    /// account_id, namespace, project_ref), a key of another preset, or
    /// half credentials; `Unsupported` for `aws_profile`.
    pub fn resolve(self, c: S3AliasConfig) -> Result<Settings> {
        let name = self.name();
        no_profile(name, c.aws_profile.as_ref())?;
        if c.bucket.is_empty() {
            return Err(invalid(name, "bucket is empty"));
        }
        for (key, set, owner) in [
            ("account_id", c.account_id.is_some(), Preset::R2),
            ("namespace", c.namespace.is_some(), Preset::Oci),
            ("project_ref", c.project_ref.is_some(), Preset::Supabase),
        ] {
            if set && owner != self {
                return Err(invalid(name, format!("unknown field `{key}`")));
            }
        }
        let explicit = c.endpoint_url.clone().filter(|e| !e.is_empty());
        let need_region = |r: &Option<String>| {
            r.clone()
                .ok_or_else(|| invalid(name, "missing field `region`"))
        };
        let (region, endpoint, path_style) = match self {
            Preset::R2 => {
                let region = c.region.clone().unwrap_or_else(|| "auto".into());
                let ep = match (&explicit, &c.account_id) {
                    (Some(e), _) => e.clone(),
                    (None, Some(a)) => format!("https://{a}.r2.cloudflarestorage.com"),
                    (None, None) => {
                        return Err(invalid(name, "give account_id or endpoint_url"));
                    }
                };
                (region, ep, c.path_style)
            }
            Preset::Gcs => (
                c.region.clone().unwrap_or_else(|| "auto".into()),
                explicit.unwrap_or_else(|| "https://storage.googleapis.com".into()),
                c.path_style,
            ),
            Preset::Minio | Preset::Ceph => {
                let ep = explicit.ok_or_else(|| invalid(name, "missing field `endpoint_url`"))?;
                (
                    c.region.clone().unwrap_or_else(|| "us-east-1".into()),
                    ep,
                    true,
                )
            }
            Preset::Oci => {
                let region = need_region(&c.region)?;
                let ns = c
                    .namespace
                    .clone()
                    .ok_or_else(|| invalid(name, "missing field `namespace`"))?;
                let ep = explicit.unwrap_or_else(|| {
                    format!("https://{ns}.compat.objectstorage.{region}.oci.customer-oci.com")
                });
                (region, ep, true)
            }
            Preset::Supabase => {
                let region = need_region(&c.region)?;
                let ep = match (&explicit, &c.project_ref) {
                    (Some(e), _) => e.clone(),
                    (None, Some(p)) => format!("https://{p}.storage.supabase.co/storage/v1/s3"),
                    (None, None) => {
                        return Err(invalid(name, "give project_ref or endpoint_url"));
                    }
                };
                (region, ep, true)
            }
            Preset::Backblaze => {
                let region = need_region(&c.region)?;
                let ep = explicit.unwrap_or_else(|| format!("https://s3.{region}.backblazeb2.com"));
                (region, ep, c.path_style)
            }
            Preset::Wasabi => {
                let region = c.region.clone().unwrap_or_else(|| "us-east-1".into());
                let ep = explicit.unwrap_or_else(|| {
                    if region == "us-east-1" {
                        "https://s3.wasabisys.com".into()
                    } else {
                        format!("https://s3.{region}.wasabisys.com")
                    }
                });
                (region, ep, c.path_style)
            }
            Preset::DigitalOcean => {
                let region = need_region(&c.region)?;
                let ep =
                    explicit.unwrap_or_else(|| format!("https://{region}.digitaloceanspaces.com"));
                (region, ep, c.path_style)
            }
        };
        // Every preset has an endpoint, so requests are path style
        // (`path_style` only matters against AWS proper).
        let _ = path_style;
        let credentials = credentials(
            name,
            c.access_key_id,
            c.secret_access_key,
            c.session_token,
            ("access_key_id", "secret_access_key"),
        )?;
        Ok(Settings {
            resource: name,
            bucket: c.bucket,
            region: Some(region),
            endpoint: Some(endpoint),
            virtual_hosted: false,
            timeout: Duration::from_secs(c.timeout),
            proxy: c.proxy,
            key_prefix: normalize_prefix(c.key_prefix.as_deref()),
            content_type: None,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn alias(p: Preset, v: serde_json::Value) -> Result<Settings> {
        p.resolve(serde_json::from_value(v).unwrap())
    }

    fn endpoint(p: Preset, v: serde_json::Value) -> String {
        alias(p, v).unwrap().endpoint.unwrap()
    }

    #[test]
    fn prefix_normalised() {
        assert_eq!(normalize_prefix(None), "");
        assert_eq!(normalize_prefix(Some("/")), "");
        assert_eq!(normalize_prefix(Some("")), "");
        assert_eq!(normalize_prefix(Some("/a/b")), "a/b/");
        assert_eq!(normalize_prefix(Some("a/b//")), "a/b/");
    }

    #[test]
    fn s3_addressing() {
        let s: S3Config = serde_json::from_value(json!({"bucket": "b"})).unwrap();
        let s = s.resolve().unwrap();
        assert!(s.virtual_hosted);
        assert_eq!(s.timeout, Duration::from_secs(30));
        let s: S3Config =
            serde_json::from_value(json!({"bucket": "b", "path_style": true})).unwrap();
        assert!(!s.resolve().unwrap().virtual_hosted);
        let s: S3Config =
            serde_json::from_value(json!({"bucket": "b", "endpoint_url": "http://h:1"})).unwrap();
        assert!(!s.resolve().unwrap().virtual_hosted);
    }

    #[test]
    fn unknown_keys_refused() {
        assert!(serde_json::from_value::<S3Config>(json!({"bucket": "b", "bukket": 1})).is_err());
        assert!(
            serde_json::from_value::<S3Config>(json!({"bucket": "b", "access_key_id": "x"}))
                .is_err()
        );
        let e = alias(Preset::Gcs, json!({"bucket": "b", "namespace": "n"})).unwrap_err();
        assert!(e.to_string().contains("namespace"), "{e}");
    }

    #[test]
    fn secrets_never_printed() {
        let s: S3Config = serde_json::from_value(json!({
            "bucket": "b", "aws_access_key_id": "AKIDSECRET1", "aws_secret_access_key": "SSSECRET2",
            "aws_session_token": "TOKSECRET3", "proxy": "http://u:PWSECRET4@p"
        }))
        .unwrap();
        let dbg = format!("{s:?} {:?}", s.clone().resolve().unwrap());
        for bad in ["SECRET1", "SECRET2", "SECRET3", "SECRET4"] {
            assert!(!dbg.contains(bad), "{dbg}");
        }
        let e = serde_json::from_value::<S3Config>(
            json!({"bucket": "b", "aws_access_key_id": "AKIDSECRET1"}),
        )
        .unwrap()
        .resolve()
        .unwrap_err();
        assert!(!e.to_string().contains("SECRET1"));
        assert!(e.to_string().contains("aws_secret_access_key"), "{e}");
    }

    #[test]
    fn profile_refused() {
        let s: S3Config =
            serde_json::from_value(json!({"bucket": "b", "aws_profile": "dev"})).unwrap();
        assert_eq!(s.resolve().unwrap_err().kind, ErrorKind::Unsupported);
    }

    #[test]
    fn preset_endpoints() {
        assert_eq!(
            endpoint(Preset::R2, json!({"bucket": "b", "account_id": "acc"})),
            "https://acc.r2.cloudflarestorage.com"
        );
        assert!(alias(Preset::R2, json!({"bucket": "b"})).is_err());
        assert_eq!(
            alias(Preset::R2, json!({"bucket": "b", "account_id": "a"}))
                .unwrap()
                .region
                .unwrap(),
            "auto"
        );
        assert_eq!(
            endpoint(Preset::Gcs, json!({"bucket": "b"})),
            "https://storage.googleapis.com"
        );
        assert_eq!(
            endpoint(
                Preset::Minio,
                json!({"bucket": "b", "endpoint_url": "http://m:9000"})
            ),
            "http://m:9000"
        );
        assert!(alias(Preset::Minio, json!({"bucket": "b"})).is_err());
        assert!(alias(Preset::Ceph, json!({"bucket": "b"})).is_err());
        assert_eq!(
            alias(
                Preset::Ceph,
                json!({"bucket": "b", "endpoint_url": "http://c"})
            )
            .unwrap()
            .region
            .unwrap(),
            "us-east-1"
        );
        assert_eq!(
            endpoint(
                Preset::Oci,
                json!({"bucket": "b", "region": "eu-frankfurt-1", "namespace": "ns"})
            ),
            "https://ns.compat.objectstorage.eu-frankfurt-1.oci.customer-oci.com"
        );
        assert!(alias(Preset::Oci, json!({"bucket": "b", "namespace": "ns"})).is_err());
        assert!(alias(Preset::Oci, json!({"bucket": "b", "region": "r"})).is_err());
        assert_eq!(
            endpoint(
                Preset::Supabase,
                json!({"bucket": "b", "region": "us-east-1", "project_ref": "pr"})
            ),
            "https://pr.storage.supabase.co/storage/v1/s3"
        );
        assert!(alias(Preset::Supabase, json!({"bucket": "b", "region": "r"})).is_err());
        assert_eq!(
            endpoint(
                Preset::Backblaze,
                json!({"bucket": "b", "region": "us-west-004"})
            ),
            "https://s3.us-west-004.backblazeb2.com"
        );
        assert!(alias(Preset::Backblaze, json!({"bucket": "b"})).is_err());
        assert_eq!(
            endpoint(Preset::Wasabi, json!({"bucket": "b"})),
            "https://s3.wasabisys.com"
        );
        assert_eq!(
            endpoint(
                Preset::Wasabi,
                json!({"bucket": "b", "region": "eu-central-1"})
            ),
            "https://s3.eu-central-1.wasabisys.com"
        );
        assert_eq!(
            endpoint(
                Preset::DigitalOcean,
                json!({"bucket": "b", "region": "nyc3"})
            ),
            "https://nyc3.digitaloceanspaces.com"
        );
        assert!(alias(Preset::DigitalOcean, json!({"bucket": "b"})).is_err());
        // An explicit endpoint wins, and presets are path style.
        let s = alias(
            Preset::DigitalOcean,
            json!({"bucket": "b", "region": "nyc3", "endpoint_url": "http://x"}),
        )
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://x"));
        assert!(!s.virtual_hosted);
    }

    #[test]
    fn alias_credentials() {
        let s = alias(
            Preset::Minio,
            json!({"bucket": "b", "endpoint_url": "http://m", "access_key_id": "k", "secret_access_key": "s"}),
        )
        .unwrap();
        assert_eq!(s.credentials.unwrap().key_id.expose(), "k");
        assert!(
            serde_json::from_value::<S3AliasConfig>(
                json!({"bucket": "b", "aws_access_key_id": "k"})
            )
            .is_err()
        );
    }
}
