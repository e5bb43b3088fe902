#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::{Resource, resource_type};
use mirage_resource_ram::RamResource;
use mirage_types::{ByteSource, Error, ErrorKind, FileType, VersionToken};

async fn read(r: &RamResource, p: &str) -> Bytes {
    r.read(p).await.unwrap().collect().await.unwrap()
}

fn kind<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorKind {
    r.unwrap_err().kind
}

#[tokio::test]
async fn read_is_zero_copy() {
    let r = RamResource::new();
    let data = Bytes::from(vec![7u8; 1 << 20]);
    r.insert_file("/a/b/c.bin", data.clone()).unwrap();
    match r.read("/a/b/c.bin").await.unwrap() {
        ByteSource::Bytes(b) => assert_eq!(b.as_ptr(), data.as_ptr()),
        other => panic!("expected bytes, got {other:?}"),
    }
    assert!(r.stat("/a/b").await.unwrap().is_dir());
}

#[tokio::test]
async fn failed_stream_keeps_old_data() {
    let r = RamResource::new();
    r.insert_file("/f", Bytes::from_static(b"old")).unwrap();
    let s = futures::stream::iter(vec![
        Ok(Bytes::from_static(b"new")),
        Err(Error::new(ErrorKind::Io)),
    ])
    .boxed();
    assert_eq!(
        kind(r.write("/f", ByteSource::Stream(s)).await),
        ErrorKind::Io
    );
    assert_eq!(read(&r, "/f").await, "old");
}

#[tokio::test]
async fn errors_follow_posix() {
    let r = RamResource::new();
    r.insert_file("/d/f", Bytes::from_static(b"x")).unwrap();
    assert_eq!(
        kind(r.write("/d", ByteSource::empty()).await),
        ErrorKind::IsADirectory
    );
    assert_eq!(
        kind(r.write("/", ByteSource::empty()).await),
        ErrorKind::IsADirectory
    );
    assert_eq!(
        kind(r.write("/nope/f", ByteSource::empty()).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(r.write("/d/f/g", ByteSource::empty()).await),
        ErrorKind::NotADirectory
    );
    assert_eq!(kind(r.stat("/d/f/g/h").await), ErrorKind::NotADirectory);
    assert_eq!(kind(r.mkdir("/d").await), ErrorKind::AlreadyExists);
    assert_eq!(kind(r.mkdir("/").await), ErrorKind::AlreadyExists);
    assert_eq!(kind(r.rmdir("/d").await), ErrorKind::DirectoryNotEmpty);
    assert_eq!(kind(r.rmdir("/d/f").await), ErrorKind::NotADirectory);
    assert_eq!(kind(r.unlink("/d").await), ErrorKind::IsADirectory);
    assert_eq!(kind(r.readdir("/d/f").await), ErrorKind::NotADirectory);
    assert_eq!(kind(r.read("/d").await), ErrorKind::IsADirectory);
    assert_eq!(
        kind(r.rename("/d", "/d/sub").await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(r.insert_file("/d/f/x", Bytes::new())),
        ErrorKind::NotADirectory
    );
}

#[tokio::test]
async fn rename_moves_subtree() {
    let r = RamResource::new();
    r.insert_file("/a/x/1", Bytes::from_static(b"1")).unwrap();
    r.insert_file("/a/2", Bytes::from_static(b"2")).unwrap();
    r.insert_file("/ab", Bytes::from_static(b"sibling"))
        .unwrap();
    r.insert_dir("/empty").unwrap();
    r.insert_dir("/full/y").unwrap();
    assert_eq!(
        kind(r.rename("/a", "/full").await),
        ErrorKind::DirectoryNotEmpty
    );
    assert_eq!(kind(r.rename("/a", "/ab").await), ErrorKind::NotADirectory);
    assert_eq!(kind(r.rename("/ab", "/a").await), ErrorKind::IsADirectory);
    r.rename("/a", "/empty").await.unwrap();
    assert_eq!(read(&r, "/empty/x/1").await, "1");
    assert_eq!(read(&r, "/empty/2").await, "2");
    assert_eq!(read(&r, "/ab").await, "sibling");
    assert_eq!(kind(r.stat("/a").await), ErrorKind::NotFound);
    assert_eq!(kind(r.stat("/a/x/1").await), ErrorKind::NotFound);
    let mut names: Vec<_> = r
        .readdir("/")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    assert_eq!(names, ["ab", "empty", "full"]);
}

#[tokio::test]
async fn append_and_generations() {
    let r = RamResource::new();
    r.append("/log", ByteSource::from(b"a".to_vec()))
        .await
        .unwrap();
    let g1 = r.stat("/log").await.unwrap().version;
    r.append("/log", ByteSource::from(b"b".to_vec()))
        .await
        .unwrap();
    let st = r.stat("/log").await.unwrap();
    assert_eq!(read(&r, "/log").await, "ab");
    assert_eq!(st.size, 2);
    assert_eq!(st.mode, Some(0o644));
    assert_eq!(st.file_type, FileType::File);
    assert!(matches!(st.version, VersionToken::Generation(_)));
    assert_ne!(st.version, g1);
    assert_eq!(r.stat("/").await.unwrap().mode, Some(0o755));
}

#[test]
fn registered_as_ram() {
    let reg = resource_type("ram").unwrap();
    let res: Arc<dyn Resource> = (reg.build)(&serde_json::json!({})).unwrap();
    assert_eq!(res.name(), "ram");
    assert!(res.capability().write && res.capability().rename && res.capability().real_directories);
}

/// A RAM resource whose append replaces instead of appending, and whose
/// rmdir removes non-empty directories: the suite must notice.
struct Broken(RamResource);

#[async_trait::async_trait]
impl Resource for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn capability(&self) -> mirage_ops::Capability {
        self.0.capability()
    }
    async fn stat(&self, p: &str) -> mirage_types::Result<mirage_types::FileStat> {
        self.0.stat(p).await
    }
    async fn readdir(&self, p: &str) -> mirage_types::Result<Vec<mirage_types::FileStat>> {
        self.0.readdir(p).await
    }
    async fn list<'a>(
        &'a self,
        p: &str,
        o: &mirage_types::ListOptions,
    ) -> mirage_types::Result<mirage_types::EntryStream<'a>> {
        self.0.list(p, o).await
    }
    async fn read(&self, p: &str) -> mirage_types::Result<ByteSource> {
        self.0.read(p).await
    }
    async fn write(&self, p: &str, d: ByteSource) -> mirage_types::Result<()> {
        self.0.write(p, d).await
    }
    async fn append(&self, p: &str, d: ByteSource) -> mirage_types::Result<()> {
        self.0.write(p, d).await
    }
    async fn mkdir(&self, p: &str) -> mirage_types::Result<()> {
        self.0.mkdir(p).await
    }
    async fn unlink(&self, p: &str) -> mirage_types::Result<()> {
        self.0.unlink(p).await
    }
    async fn rmdir(&self, p: &str) -> mirage_types::Result<()> {
        Err(Error::at(ErrorKind::PermissionDenied, p))
    }
}

#[tokio::test]
async fn behaviour_suite_catches_a_broken_resource() {
    let res: Arc<dyn Resource> = Arc::new(Broken(RamResource::new()));
    let err = mirage_ops::testsuite::run_all(res, None).await.unwrap_err();
    for check in [
        "append [broken]",
        "rmdir [broken]",
        "rename_file [broken]",
        "rename_dir [broken]",
    ] {
        assert!(err.contains(check), "suite missed {check}:\n{err}");
    }
    assert!(!err.contains("write_read"), "{err}");
}

/// Each entry keeps its own mode bits: new files 0644, directories 0755;
/// `chmod` changes them (and the generation, not the contents); a rewrite,
/// an append and a rename keep them; a missing path is `NotFound`.
#[tokio::test]
async fn chmod_keeps_mode_bits_per_entry() {
    let r = RamResource::new();
    r.insert_file("/d/s.sh", Bytes::from_static(b"echo hi\n"))
        .unwrap();
    assert_eq!(r.stat("/d/s.sh").await.unwrap().mode, Some(0o644));
    assert_eq!(r.stat("/d").await.unwrap().mode, Some(0o755));
    let before = r.stat("/d/s.sh").await.unwrap();
    r.chmod("/d/s.sh", 0o755).await.unwrap();
    let after = r.stat("/d/s.sh").await.unwrap();
    assert_eq!(after.mode, Some(0o755));
    assert_ne!(after.version, before.version);
    assert_eq!(after.modified, before.modified);
    assert_eq!(&read(&r, "/d/s.sh").await[..], b"echo hi\n");
    // only the permission bits are kept
    r.chmod("/d/s.sh", 0o107_4755).await.unwrap();
    assert_eq!(r.stat("/d/s.sh").await.unwrap().mode, Some(0o4755));
    r.write("/d/s.sh", ByteSource::from(b"new\n".to_vec()))
        .await
        .unwrap();
    r.append("/d/s.sh", ByteSource::from(b"more\n".to_vec()))
        .await
        .unwrap();
    r.rename("/d/s.sh", "/d/t.sh").await.unwrap();
    assert_eq!(r.stat("/d/t.sh").await.unwrap().mode, Some(0o4755));
    // the listing shows the same bits
    let listed = r.readdir("/d").await.unwrap();
    assert_eq!(listed[0].mode, Some(0o4755));
    // directories and the root
    r.chmod("/d", 0o700).await.unwrap();
    assert_eq!(r.stat("/d").await.unwrap().mode, Some(0o700));
    r.mkdir("/e").await.unwrap();
    assert_eq!(r.stat("/e").await.unwrap().mode, Some(0o755));
    r.chmod("/", 0o750).await.unwrap();
    assert_eq!(r.stat("/").await.unwrap().mode, Some(0o750));
    // a file newly written at the old name starts at 0644 again
    r.write("/d/s.sh", ByteSource::from(b"x".to_vec()))
        .await
        .unwrap();
    assert_eq!(r.stat("/d/s.sh").await.unwrap().mode, Some(0o644));
    assert_eq!(kind(r.chmod("/missing", 0o644).await), ErrorKind::NotFound);
    assert_eq!(
        kind(r.chmod("/d/t.sh/x", 0o644).await),
        ErrorKind::NotADirectory
    );
}
