//! How entries are laid out in a tier: one format byte, the time the
//! entry was stored (milliseconds since the Unix epoch, little-endian
//! u64), then the body. File entries: the version token as JSON with its
//! length (u32) first, then the bytes. Index entries: JSON.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use mirage_types::{FileStat, VersionToken};

const FORMAT: u8 = 1;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whether an entry stored at `stored_ms` is younger than `trust`.
pub(crate) fn young(stored_ms: u64, trust: Duration) -> bool {
    let age = now_ms().saturating_sub(stored_ms);
    u128::from(age) < trust.as_millis()
}

/// A cached file (or byte range): the bytes and the version they are of.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    pub stored_ms: u64,
    pub version: VersionToken,
    pub data: Bytes,
}

impl FileEntry {
    pub fn encode(&self) -> Bytes {
        let tok = serde_json::to_vec(&self.version).unwrap_or_default();
        let mut b = BytesMut::with_capacity(13 + tok.len() + self.data.len());
        b.put_u8(FORMAT);
        b.put_u64_le(self.stored_ms);
        b.put_u32_le(u32::try_from(tok.len()).unwrap_or(0));
        b.put_slice(&tok);
        b.put_slice(&self.data);
        b.freeze()
    }

    /// Decodes without copying the bytes (a slice of `b`).
    pub fn decode(b: &Bytes) -> Option<FileEntry> {
        let (stored_ms, rest) = header(b)?;
        let n = usize::try_from(u32::from_le_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
        let tok = rest.get(4..4 + n)?;
        let version: VersionToken = serde_json::from_slice(tok).ok()?;
        let start = 13 + n;
        (b.len() >= start).then(|| FileEntry {
            stored_ms,
            version,
            data: b.slice(start..),
        })
    }
}

fn header(b: &[u8]) -> Option<(u64, &[u8])> {
    if *b.first()? != FORMAT {
        return None;
    }
    let ms = u64::from_le_bytes(b.get(1..9)?.try_into().ok()?);
    Some((ms, b.get(9..)?))
}

/// An index entry: a stat result (`None`: the path does not exist, a
/// negative entry) or a listing.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum IndexBody {
    Stat(Option<FileStat>),
    List(Vec<FileStat>),
}

pub(crate) fn encode_index(body: &IndexBody) -> Bytes {
    let json = serde_json::to_vec(body).unwrap_or_default();
    let mut b = BytesMut::with_capacity(9 + json.len());
    b.put_u8(FORMAT);
    b.put_u64_le(now_ms());
    b.put_slice(&json);
    b.freeze()
}

pub(crate) fn decode_index(b: &[u8]) -> Option<(u64, IndexBody)> {
    let (ms, rest) = header(b)?;
    Some((ms, serde_json::from_slice(rest).ok()?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entries_round_trip() {
        let e = FileEntry {
            stored_ms: 42,
            version: VersionToken::ETag("\"abc\"".into()),
            data: Bytes::from_static(b"hello"),
        };
        let d = FileEntry::decode(&e.encode()).unwrap();
        assert_eq!(
            (d.stored_ms, d.version, &d.data[..]),
            (42, e.version, &b"hello"[..])
        );
        let i = encode_index(&IndexBody::Stat(None));
        assert!(matches!(decode_index(&i).unwrap().1, IndexBody::Stat(None)));
        assert!(FileEntry::decode(&Bytes::from_static(b"\x09junk")).is_none());
    }
}
