//! VFS calls without a shell (as the model product's routers/vfs.py and
//! vfs_calls.py): `POST /v1/workspaces/{id}/vfs/{call}` with the
//! arguments by name in a JSON object, bytes as `<name>_base64`, and
//! `?session_id=` (relative paths are resolved against that session's
//! cwd). Every call goes through [`mirage::Workspace::vfs`], the router,
//! so mount modes apply exactly as they do to the shell.
//!
//! Calls and answers: `read {path, offset?, size?}` → `{data_base64}`;
//! `write`/`append {path, data_base64}` → `{}`; `pwrite {path,
//! data_base64, offset}`; `stat {path, nofollow?}` → `{stat}`; `readdir
//! {path}` → `{entries}` (full paths); `exists`, `is_dir`, `is_file` →
//! `{exists}` / `{is_dir}` / `{is_file}`; `list_files` → `{files}`
//! (names); `mkdir`, `rmdir`, `unlink`, `create {path}`; `rename {src,
//! dst}`; `symlink {path, target}`; `readlink` → `{target}`; `truncate
//! {path, length}`; `setattr {path, mode?}` → `{changed}`; the xattr calls
//! answer ENOTSUP. `read_stream {path, raw?}` answers the bytes as an
//! `application/octet-stream` stream. `POST …/glob {pattern}` → `{paths}`.
//!
//! A failed call answers `{"detail": GNU message, "errno": "ENOENT"}` with
//! its status (see [`ApiError::vfs`]); bad arguments answer 400.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures::StreamExt;
use mirage::types::{
    ByteRange, ByteSource, Error as VfsError, ErrorKind, FileStat, FileType, ReadOptions,
    VersionToken, Vfs,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, WsEntry};

/// The JSON type of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A string (a path or a name).
    Text,
    /// A base64 string.
    Bytes,
    /// An integer.
    Int,
    /// An integer or `null`.
    Size,
    /// A boolean.
    Flag,
    /// An integer or a string.
    Owner,
}

/// One call's arguments and the required ones.
struct CallSpec {
    name: &'static str,
    params: &'static [(&'static str, Kind)],
    required: &'static [&'static str],
}

const PATH_ONLY: &[(&str, Kind)] = &[("path", Kind::Text)];

/// The calls, as the model product's `VFS_CALLS`.
const CALLS: &[CallSpec] = &[
    CallSpec {
        name: "read",
        params: &[
            ("path", Kind::Text),
            ("offset", Kind::Int),
            ("size", Kind::Size),
        ],
        required: &["path"],
    },
    CallSpec {
        name: "write",
        params: &[("path", Kind::Text), ("data_base64", Kind::Bytes)],
        required: &["path", "data_base64"],
    },
    CallSpec {
        name: "append",
        params: &[("path", Kind::Text), ("data_base64", Kind::Bytes)],
        required: &["path", "data_base64"],
    },
    CallSpec {
        name: "pwrite",
        params: &[
            ("path", Kind::Text),
            ("data_base64", Kind::Bytes),
            ("offset", Kind::Int),
        ],
        required: &["path", "data_base64", "offset"],
    },
    CallSpec {
        name: "stat",
        params: &[("path", Kind::Text), ("nofollow", Kind::Flag)],
        required: &["path"],
    },
    CallSpec {
        name: "readdir",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "exists",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "is_dir",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "is_file",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "list_files",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "mkdir",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "rmdir",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "unlink",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "create",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "rename",
        params: &[("src", Kind::Text), ("dst", Kind::Text)],
        required: &["src", "dst"],
    },
    CallSpec {
        name: "symlink",
        params: &[("path", Kind::Text), ("target", Kind::Text)],
        required: &["path", "target"],
    },
    CallSpec {
        name: "readlink",
        params: PATH_ONLY,
        required: &["path"],
    },
    CallSpec {
        name: "setattr",
        params: &[
            ("path", Kind::Text),
            ("mode", Kind::Int),
            ("uid", Kind::Owner),
            ("gid", Kind::Owner),
            ("atime", Kind::Text),
            ("mtime", Kind::Text),
            ("nofollow", Kind::Flag),
        ],
        required: &["path"],
    },
    CallSpec {
        name: "getxattr",
        params: &[
            ("path", Kind::Text),
            ("name", Kind::Text),
            ("nofollow", Kind::Flag),
        ],
        required: &["path", "name"],
    },
    CallSpec {
        name: "listxattr",
        params: &[("path", Kind::Text), ("nofollow", Kind::Flag)],
        required: &["path"],
    },
    CallSpec {
        name: "setxattr",
        params: &[
            ("path", Kind::Text),
            ("name", Kind::Text),
            ("value_base64", Kind::Bytes),
            ("create", Kind::Flag),
            ("replace", Kind::Flag),
            ("nofollow", Kind::Flag),
        ],
        required: &["path", "name", "value_base64"],
    },
    CallSpec {
        name: "removexattr",
        params: &[
            ("path", Kind::Text),
            ("name", Kind::Text),
            ("nofollow", Kind::Flag),
        ],
        required: &["path", "name"],
    },
    CallSpec {
        name: "truncate",
        params: &[("path", Kind::Text), ("length", Kind::Int)],
        required: &["path", "length"],
    },
    CallSpec {
        name: "read_stream",
        params: &[("path", Kind::Text), ("raw", Kind::Flag)],
        required: &["path"],
    },
];

/// The names of the VFS calls served.
pub fn call_names() -> Vec<&'static str> {
    CALLS.iter().map(|c| c.name).collect()
}

fn fits(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Text | Kind::Bytes => v.is_string(),
        Kind::Int => v.is_i64() || v.is_u64(),
        Kind::Size => v.is_null() || v.is_i64() || v.is_u64(),
        Kind::Flag => v.is_boolean(),
        Kind::Owner => v.is_string() || v.is_i64() || v.is_u64(),
    }
}

/// Holds `args` to the call's schema: 400 naming the extra, missing or
/// mistyped argument.
fn check(spec: &CallSpec, args: &Map<String, Value>) -> ApiResult<()> {
    let bad =
        |m: String| ApiError::bad_request(format!("invalid arguments for vfs/{}: {m}", spec.name));
    for (k, v) in args {
        match spec.params.iter().find(|(n, _)| n == k) {
            None => {
                return Err(bad(format!(
                    "Additional properties are not allowed ('{k}' was unexpected)"
                )));
            }
            Some((_, kind)) if !fits(*kind, v) => {
                return Err(bad(format!("{v} is not of the type of '{k}'")));
            }
            _ => {}
        }
    }
    for r in spec.required {
        if !args.contains_key(*r) {
            return Err(bad(format!("'{r}' is a required property")));
        }
    }
    Ok(())
}

/// The session query of a VFS call.
#[derive(Debug, Default, Deserialize)]
pub struct SessionQuery {
    /// The session whose cwd relative paths resolve against.
    #[serde(default)]
    pub session_id: Option<String>,
}

/// The cwd of the session a call acts as: 404 `session not found`.
async fn cwd_of(e: &WsEntry, session: Option<&str>) -> ApiResult<String> {
    let sid = session.map_or_else(|| e.default_session(), str::to_string);
    if !e.has_session(&sid) {
        return Err(ApiError::not_found("session not found"));
    }
    Ok(e.session_cwd(&sid).await.unwrap_or_else(|| "/".into()))
}

fn json_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::bad_request("the body is a JSON object")),
    }
}

fn text<'a>(args: &'a Map<String, Value>, k: &str) -> &'a str {
    args.get(k).and_then(Value::as_str).unwrap_or("")
}

fn int(args: &Map<String, Value>, k: &str) -> Option<u64> {
    args.get(k).and_then(Value::as_u64)
}

fn negative(args: &Map<String, Value>, k: &str) -> bool {
    args.get(k).and_then(Value::as_i64).is_some_and(|n| n < 0)
}

fn bytes_arg(args: &Map<String, Value>, k: &str) -> ApiResult<Bytes> {
    B64.decode(text(args, k))
        .map(Bytes::from)
        .map_err(|_| ApiError::bad_request(format!("{k} must be base64")))
}

/// A version as the model product's `fingerprint` (`null` when unknown).
fn fingerprint(v: &VersionToken) -> Value {
    match v {
        VersionToken::ETag(s) | VersionToken::VersionId(s) => json!(s),
        VersionToken::MtimeSize(t, n) => json!(format!("{t}-{n}")),
        VersionToken::Generation(g) => json!(format!("g{g}")),
        VersionToken::Unknown => Value::Null,
    }
}

/// A stat as the model product's `FileStat` JSON: `{name, size, modified
/// (RFC 3339), fingerprint, revision, type (file|directory|symlink),
/// content, mode, uid, gid, atime, ctime, birthtime, dev}`.
pub fn stat_json(s: &FileStat) -> Value {
    let modified = s
        .modified
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .map(|t| t.to_string());
    let ty = match s.file_type {
        FileType::Directory => "directory",
        FileType::Symlink => "symlink",
        _ => "file",
    };
    json!({
        "name": s.name,
        "size": if s.is_dir() { Value::Null } else { json!(s.size) },
        "modified": modified,
        "fingerprint": fingerprint(&s.version),
        "revision": null,
        "type": ty,
        "content": null,
        "mode": s.mode,
        "uid": null,
        "gid": null,
        "atime": null,
        "ctime": null,
        "birthtime": null,
        "dev": null,
    })
}

/// The largest file `pwrite` and `truncate` make (they rewrite it whole).
const MAX_EDIT_BYTES: usize = 1 << 30;

fn too_large() -> ApiError {
    ApiError {
        status: axum::http::StatusCode::BAD_REQUEST,
        detail: "File too large".into(),
        errno: Some("EFBIG"),
    }
}

async fn whole(vfs: &dyn Vfs, path: &str) -> Result<Vec<u8>, VfsError> {
    Ok(vfs.read(path).await?.collect().await?.to_vec())
}

/// Runs one call (not `read_stream`) and answers its JSON.
async fn run_call(
    vfs: Arc<dyn Vfs>,
    name: &str,
    cwd: &str,
    args: &Map<String, Value>,
) -> ApiResult<Value> {
    let p = |k: &str| mirage::types::join_path(cwd, text(args, k));
    let vfs = &*vfs;
    let e = |x: VfsError| ApiError::vfs(&x);
    let v = match name {
        "read" => {
            if negative(args, "offset") || negative(args, "size") {
                return Err(ApiError::bad_request(
                    "offset and size must not be negative",
                ));
            }
            let range = ByteRange {
                offset: int(args, "offset").unwrap_or(0),
                len: int(args, "size"),
            };
            let opts = ReadOptions {
                range: Some(range),
                if_none_match: None,
            };
            let src = vfs
                .read_with(&p("path"), &opts)
                .await
                .map_err(e)?
                .into_source()
                .unwrap_or_else(ByteSource::empty);
            let b = src.collect().await.map_err(e)?;
            json!({"data_base64": B64.encode(&b)})
        }
        "write" | "append" => {
            let data = ByteSource::Bytes(bytes_arg(args, "data_base64")?);
            if name == "write" {
                vfs.write(&p("path"), data).await.map_err(e)?;
            } else {
                vfs.append(&p("path"), data).await.map_err(e)?;
            }
            json!({})
        }
        "pwrite" => {
            let data = bytes_arg(args, "data_base64")?;
            let off = usize::try_from(int(args, "offset").unwrap_or(0))
                .ok()
                .filter(|o| o.saturating_add(data.len()) <= MAX_EDIT_BYTES)
                .ok_or_else(too_large)?;
            let path = p("path");
            let mut cur = match whole(vfs, &path).await {
                Ok(b) => b,
                Err(x) if x.kind == ErrorKind::NotFound => Vec::new(),
                Err(x) => return Err(e(x)),
            };
            if cur.len() < off + data.len() {
                cur.resize(off + data.len(), 0);
            }
            cur[off..off + data.len()].copy_from_slice(&data);
            vfs.write(&path, ByteSource::Bytes(cur.into()))
                .await
                .map_err(e)?;
            json!({})
        }
        "stat" => {
            let path = p("path");
            let st = if args.get("nofollow").and_then(Value::as_bool) == Some(true) {
                vfs.lstat(&path).await
            } else {
                vfs.stat(&path).await
            }
            .map_err(e)?;
            json!({"stat": stat_json(&st)})
        }
        "readdir" => {
            let path = p("path");
            let entries: Vec<String> = vfs
                .readdir(&path)
                .await
                .map_err(e)?
                .into_iter()
                .map(|s| mirage::types::join_path(&path, &s.name))
                .collect();
            json!({"entries": entries})
        }
        "list_files" => {
            let files: Vec<String> = vfs
                .readdir(&p("path"))
                .await
                .map_err(e)?
                .into_iter()
                .filter(|s| !s.is_dir())
                .map(|s| s.name)
                .collect();
            json!({"files": files})
        }
        "exists" | "is_dir" | "is_file" => {
            let got = match vfs.stat(&p("path")).await {
                Ok(s) => Some(s),
                Err(x) if matches!(x.kind, ErrorKind::NotFound | ErrorKind::NotADirectory) => None,
                Err(x) => return Err(e(x)),
            };
            let ans = match name {
                "exists" => got.is_some(),
                "is_dir" => got.is_some_and(|s| s.is_dir()),
                _ => got.is_some_and(|s| s.file_type == FileType::File),
            };
            json!({ name: ans })
        }
        "mkdir" => {
            vfs.mkdir(&p("path"), false).await.map_err(e)?;
            json!({})
        }
        "rmdir" => {
            vfs.rmdir(&p("path")).await.map_err(e)?;
            json!({})
        }
        "unlink" => {
            vfs.unlink(&p("path")).await.map_err(e)?;
            json!({})
        }
        "create" => {
            let path = p("path");
            match vfs.stat(&path).await {
                Ok(_) => {}
                Err(x) if x.kind == ErrorKind::NotFound => {
                    vfs.write(&path, ByteSource::empty()).await.map_err(e)?;
                }
                Err(x) => return Err(e(x)),
            }
            json!({})
        }
        "rename" => {
            vfs.rename(&p("src"), &p("dst")).await.map_err(e)?;
            json!({})
        }
        "symlink" => {
            vfs.symlink(text(args, "target"), &p("path"))
                .await
                .map_err(e)?;
            json!({})
        }
        "readlink" => {
            let t = vfs.readlink(&p("path")).await.map_err(e)?;
            json!({"target": t})
        }
        "truncate" => {
            if negative(args, "length") {
                return Err(ApiError::bad_request("length must not be negative"));
            }
            let len = usize::try_from(int(args, "length").unwrap_or(0))
                .ok()
                .filter(|l| *l <= MAX_EDIT_BYTES)
                .ok_or_else(too_large)?;
            let path = p("path");
            let mut cur = whole(vfs, &path).await.map_err(e)?;
            cur.resize(len, 0);
            vfs.write(&path, ByteSource::Bytes(cur.into()))
                .await
                .map_err(e)?;
            json!({})
        }
        "setattr" => {
            if ["uid", "gid", "atime", "mtime"]
                .iter()
                .any(|k| args.contains_key(*k))
            {
                return Err(ApiError::vfs(&VfsError::new(ErrorKind::Unsupported)));
            }
            let changed = match int(args, "mode") {
                Some(m) => {
                    let m =
                        u32::try_from(m).map_err(|_| ApiError::bad_request("mode too large"))?;
                    vfs.chmod(&p("path"), m).await.map_err(e)?;
                    true
                }
                None => false,
            };
            json!({"changed": changed})
        }
        "getxattr" | "listxattr" | "setxattr" | "removexattr" => {
            // no resource keeps extended attributes
            vfs.stat(&p("path")).await.map_err(e)?;
            return Err(ApiError::vfs(&VfsError::new(ErrorKind::Unsupported)));
        }
        _ => return Err(ApiError::not_found(format!("no VFS call named {name:?}"))),
    };
    Ok(v)
}

/// `POST /v1/workspaces/{id}/vfs/{call}`: see the module docs. Errors: 404
/// an unknown workspace, session or call; 400 bad arguments; the call's
/// own error with its errno.
pub async fn call(
    State(state): State<Shared>,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<SessionQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let e = state.get(&id)?;
    let spec = CALLS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no VFS call named {name:?}")))?;
    let args = json_object(&body)?;
    check(spec, &args)?;
    let cwd = cwd_of(&e, q.session_id.as_deref()).await?;
    if name == "read_stream" {
        let path = mirage::types::join_path(&cwd, text(&args, "path"));
        let src =
            e.ws.vfs()
                .read(&path)
                .await
                .map_err(|x| ApiError::vfs(&x))?;
        let stream = src.into_stream().map(|r| r.map_err(std::io::Error::other));
        return Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Body::from_stream(stream),
        )
            .into_response());
    }
    let span = tracing::info_span!("vfs", workspace = %id, call = %name);
    let v = tracing::Instrument::instrument(run_call(e.ws.vfs(), &name, &cwd, &args), span).await?;
    if !matches!(
        name.as_str(),
        "read" | "stat" | "readdir" | "exists" | "is_dir" | "is_file" | "list_files" | "readlink"
    ) {
        e.touch();
    }
    Ok(Json(v).into_response())
}

/// `POST /v1/workspaces/{id}/glob {pattern}`: `{paths}`, every path the
/// pattern matches as the session sees them (relative to its cwd for a
/// relative pattern), sorted; `[]` for no match.
pub async fn glob(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<SessionQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let e = state.get(&id)?;
    let args = json_object(&body)?;
    let Some(pattern) = args.get("pattern").and_then(Value::as_str) else {
        return Err(ApiError::bad_request("pattern must be a string"));
    };
    let cwd = cwd_of(&e, q.session_id.as_deref()).await?;
    let vfs = e.ws.vfs();
    let paths = mirage::shell::glob::glob(&*vfs, &cwd, pattern).await;
    Ok(Json(json!({"paths": paths})))
}
