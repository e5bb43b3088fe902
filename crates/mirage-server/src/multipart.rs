//! A small `multipart/form-data` reader (RFC 7578) for the two uploads the
//! model product's CLI sends: `workspace load FILE` (parts `request` and
//! `snapshot`) and a shell line with piped stdin (parts `request` and
//! `stdin`). The body is already in memory (under the body limit).

use bytes::Bytes;

use crate::error::{ApiError, ApiResult};

/// One part: its form field name and its bytes.
#[derive(Debug, Clone)]
pub struct Part {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// Its content.
    pub data: Bytes,
}

/// Whether a `Content-Type` value is multipart.
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    })
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn field_name(headers: &str) -> Option<String> {
    for line in headers.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if !k.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for p in v.split(';').skip(1) {
            if let Some((pk, pv)) = p.trim().split_once('=')
                && pk.trim().eq_ignore_ascii_case("name")
            {
                return Some(pv.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

/// The parts of a multipart `body`. Errors (400): no boundary in the
/// content type, or a body that is not multipart.
pub fn parse(content_type: &str, body: &Bytes) -> ApiResult<Vec<Part>> {
    let boundary = boundary_of(content_type)
        .ok_or_else(|| ApiError::bad_request("multipart body without a boundary"))?;
    let delim = format!("--{boundary}").into_bytes();
    let bad = || ApiError::bad_request("malformed multipart body");
    let mut pos = find(body, &delim, 0).ok_or_else(bad)? + delim.len();
    let mut parts = Vec::new();
    loop {
        // after a delimiter: "--" ends the body, else CRLF and a part
        if body[pos..].starts_with(b"--") {
            break;
        }
        if body[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else {
            return Err(bad());
        }
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(bad)?;
        let headers = mirage::types::bytestr::decode(&body[pos..head_end]).into_owned();
        let data_start = head_end + 4;
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(&delim);
        let data_end = find(body, &close, data_start).ok_or_else(bad)?;
        parts.push(Part {
            name: field_name(&headers).unwrap_or_default(),
            data: body.slice(data_start..data_end),
        });
        pos = data_end + close.len();
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_two_parts() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"request\"; filename=\"r.json\"\r\nContent-Type: application/json\r\n\r\n{\"id\":\"a\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"snapshot\"\r\n\r\nTAR\r\nBYTES\r\n--XyZ--\r\n",
        );
        let p = parse("multipart/form-data; boundary=XyZ", &body).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "request");
        assert_eq!(&p[0].data[..], b"{\"id\":\"a\"}");
        assert_eq!(p[1].name, "snapshot");
        assert_eq!(&p[1].data[..], b"TAR\r\nBYTES");
    }
}
