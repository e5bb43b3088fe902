#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use mirage_ops::{Resource, resource_type};
use mirage_resource_disk::DiskResource;
use mirage_types::{ByteSource, Error, ErrorKind, FileType};

/// tempdir/{root/, outside/secret.txt, x}; the resource sees only root/.
struct Fixture {
    tmp: tempfile::TempDir,
    res: DiskResource,
    /// The host modes of `outside`, `outside/secret.txt` and `x` at the start.
    modes: Vec<u32>,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("root")).unwrap();
        std::fs::create_dir(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/secret.txt"), "secret").unwrap();
        std::fs::write(tmp.path().join("x"), "host x").unwrap();
        let res = DiskResource::open(&tmp.path().join("root")).unwrap();
        let modes = outside_modes(tmp.path());
        Fixture { tmp, res, modes }
    }
    fn host(&self, p: &str) -> std::path::PathBuf {
        self.tmp.path().join(p)
    }
    fn link(&self, target: impl AsRef<Path>, name: &str) {
        symlink(target, self.host("root").join(name)).unwrap();
    }
    /// A FIFO `name` in the root.
    fn fifo(&self, name: &str) {
        let root = std::fs::File::open(self.host("root")).unwrap();
        rustix::fs::mknodat(
            &root,
            name,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
    }
    /// The files outside the root are untouched.
    fn assert_outside_intact(&self) {
        assert_eq!(
            std::fs::read_to_string(self.host("outside/secret.txt")).unwrap(),
            "secret"
        );
        assert_eq!(std::fs::read_to_string(self.host("x")).unwrap(), "host x");
        let mut names: Vec<_> = std::fs::read_dir(self.host("outside"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["secret.txt"]);
        let mut top: Vec<_> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        top.sort();
        assert_eq!(top, ["outside", "root", "x"]);
        assert_eq!(
            outside_modes(self.tmp.path()),
            self.modes,
            "modes outside changed"
        );
    }
}

/// The permission bits of the entries outside the root.
fn outside_modes(tmp: &Path) -> Vec<u32> {
    use std::os::unix::fs::PermissionsExt;
    ["outside", "outside/secret.txt", "x"]
        .iter()
        .map(|p| std::fs::metadata(tmp.join(p)).unwrap().permissions().mode() & 0o7777)
        .collect()
}

fn refused<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) {
    match r {
        Ok(v) => panic!("{what}: escaped the root: {v:?}"),
        Err(e) => assert!(
            matches!(e.kind, ErrorKind::PermissionDenied | ErrorKind::NotFound),
            "{what}: unexpected error kind {:?} ({e})",
            e.kind
        ),
    }
}

fn data(s: &str) -> ByteSource {
    ByteSource::from(s.as_bytes().to_vec())
}

async fn read(res: &DiskResource, p: &str) -> Bytes {
    res.read(p).await.unwrap().collect().await.unwrap()
}

/// Every op on `path` is refused and nothing outside changes.
async fn all_ops_refused(f: &Fixture, path: &str) {
    let r = &f.res;
    refused(r.read(path).await, &format!("read {path}"));
    refused(r.stat(path).await, &format!("stat {path}"));
    refused(r.readdir(path).await, &format!("readdir {path}"));
    refused(r.write(path, data("pwned")).await, &format!("write {path}"));
    refused(
        r.append(path, data("pwned")).await,
        &format!("append {path}"),
    );
    refused(r.unlink(path).await, &format!("unlink {path}"));
    refused(r.rmdir(path).await, &format!("rmdir {path}"));
    refused(r.mkdir(path).await, &format!("mkdir {path}"));
    refused(r.rename(path, "/stolen").await, &format!("rename {path}"));
    refused(r.chmod(path, 0o777).await, &format!("chmod {path}"));
    refused(
        r.set_modified(path, std::time::UNIX_EPOCH).await,
        &format!("set_modified {path}"),
    );
    f.assert_outside_intact();
}

/// `link` is a symlink in the root leading out: following it is refused
/// (read, stat, readdir, write, append); removing it removes only the link.
async fn link_refused(f: &Fixture, link: &str) {
    let r = &f.res;
    refused(r.read(link).await, &format!("read {link}"));
    refused(r.stat(link).await, &format!("stat {link}"));
    refused(r.readdir(link).await, &format!("readdir {link}"));
    refused(r.write(link, data("pwned")).await, &format!("write {link}"));
    refused(
        r.append(link, data("pwned")).await,
        &format!("append {link}"),
    );
    refused(r.chmod(link, 0o777).await, &format!("chmod {link}"));
    refused(r.chmod(link, 0o000).await, &format!("chmod {link}"));
    f.assert_outside_intact();
    r.unlink(link).await.unwrap();
    assert!(std::fs::symlink_metadata(f.host("root").join(link.trim_start_matches('/'))).is_err());
    f.assert_outside_intact();
}

#[tokio::test]
async fn dotdot_paths_are_refused() {
    let f = Fixture::new();
    for p in [
        "../x",
        "/../x",
        "/../../etc/passwd",
        "a/../../x",
        "/..",
        "../outside/secret.txt",
    ] {
        all_ops_refused(&f, p).await;
    }
    // Into the root from outside: rename target with `..`.
    f.res.write("/in", data("in")).await.unwrap();
    refused(f.res.rename("/in", "/../x").await, "rename to ../x");
    f.assert_outside_intact();
}

#[tokio::test]
async fn absolute_symlink_to_etc_is_refused() {
    let f = Fixture::new();
    f.link("/etc", "etc");
    for p in ["/etc/passwd", "/etc/hostname", "/etc/new-file"] {
        all_ops_refused(&f, p).await;
    }
    link_refused(&f, "/etc").await;
    assert!(!Path::new("/etc/new-file").exists());
    assert!(!Path::new("/stolen").exists());
}

#[tokio::test]
async fn absolute_symlink_to_outside_file_is_refused() {
    let f = Fixture::new();
    f.link(f.host("outside/secret.txt"), "abs");
    all_ops_refused(&f, "/abs/child").await;
    link_refused(&f, "/abs").await;
}

#[tokio::test]
async fn relative_symlink_climbing_out_is_refused() {
    let f = Fixture::new();
    f.link("../outside/secret.txt", "rel");
    f.link("../../outside", "deep");
    f.link("../x", "x");
    all_ops_refused(&f, "/deep/secret.txt").await;
    all_ops_refused(&f, "/deep/new").await;
    // The links themselves are listed, as symlinks.
    let entries = f.res.readdir("/").await.unwrap();
    assert!(
        entries.iter().all(|e| e.file_type == FileType::Symlink),
        "{entries:?}"
    );
    assert_eq!(entries.len(), 3);
    for p in ["/rel", "/x", "/deep"] {
        link_refused(&f, p).await;
    }
}

#[tokio::test]
async fn symlinked_directory_outside_is_refused() {
    let f = Fixture::new();
    f.link("../outside", "outdir");
    f.link(f.host("outside"), "absdir");
    f.res.write("/mine", data("mine")).await.unwrap();
    for d in ["/outdir", "/absdir"] {
        all_ops_refused(&f, &format!("{d}/secret.txt")).await;
        all_ops_refused(&f, &format!("{d}/new.txt")).await;
        refused(
            f.res.rename("/mine", &format!("{d}/mine")).await,
            "rename into linked dir",
        );
        refused(
            f.res.mkdir(&format!("{d}/sub")).await,
            "mkdir in linked dir",
        );
    }
    assert_eq!(read(&f.res, "/mine").await, "mine");
    f.assert_outside_intact();
    link_refused(&f, "/outdir").await;
    link_refused(&f, "/absdir").await;
}

#[tokio::test]
async fn symlinks_inside_the_root_work() {
    let f = Fixture::new();
    f.res.mkdir("/data").await.unwrap();
    f.res.write("/data/file", data("inside")).await.unwrap();
    f.link("data/file", "flink");
    f.link("data", "dlink");
    assert_eq!(read(&f.res, "/flink").await, "inside");
    assert_eq!(read(&f.res, "/dlink/file").await, "inside");
    // readdir and lstat see the links; stat follows them.
    let entries = f.res.readdir("/").await.unwrap();
    let dlink = entries.iter().find(|e| e.name == "dlink").unwrap();
    assert_eq!(dlink.file_type, FileType::Symlink);
    assert_eq!(
        f.res.lstat("/dlink").await.unwrap().file_type,
        FileType::Symlink
    );
    assert_eq!(
        f.res.lstat("/dlink/file").await.unwrap().file_type,
        FileType::File
    );
    assert_eq!(
        f.res.stat("/dlink").await.unwrap().file_type,
        FileType::Directory
    );
    assert_eq!(f.res.readlink("/dlink").await.unwrap(), "data");
    assert_eq!(
        f.res.readlink("/data").await.unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(f.res.realpath("/dlink/file").await.unwrap(), "/data/file");
    assert_eq!(f.res.realpath("/flink").await.unwrap(), "/data/file");
    assert_eq!(f.res.realpath("/").await.unwrap(), "/");
    // A link created through the resource is stored as given.
    f.res.symlink("data/file", "/made").await.unwrap();
    assert_eq!(
        std::fs::read_link(f.host("root/made")).unwrap(),
        Path::new("data/file")
    );
    assert_eq!(read(&f.res, "/made").await, "inside");
    assert_eq!(
        f.res.symlink("x", "/made").await.unwrap_err().kind,
        ErrorKind::AlreadyExists
    );
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .unwrap()
        .file_type()
        .is_symlink()
}

#[tokio::test]
async fn writing_a_symlink_writes_its_target() {
    let f = Fixture::new();
    f.res.mkdir("/data").await.unwrap();
    f.res.write("/data/file", data("old")).await.unwrap();
    f.link("data/file", "flink");
    f.link("flink", "chain");
    f.link("../data/new", "data/dangling");
    f.link("data", "dlink");
    f.res.write("/flink", data("via link")).await.unwrap();
    assert!(
        is_link(&f.host("root/flink")),
        "the link was replaced by a file"
    );
    assert_eq!(
        std::fs::read_to_string(f.host("root/data/file")).unwrap(),
        "via link"
    );
    f.res.write("/chain", data("via chain")).await.unwrap();
    assert!(is_link(&f.host("root/chain")));
    assert_eq!(
        std::fs::read_to_string(f.host("root/data/file")).unwrap(),
        "via chain"
    );
    f.res.append("/chain", data("+")).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(f.host("root/data/file")).unwrap(),
        "via chain+"
    );
    // A dangling link inside the root creates its target, as open(O_CREAT) does.
    f.res
        .write("/data/dangling", data("created"))
        .await
        .unwrap();
    assert!(is_link(&f.host("root/data/dangling")));
    assert_eq!(
        std::fs::read_to_string(f.host("root/data/new")).unwrap(),
        "created"
    );
    // Through a linked directory, and onto a link to a directory.
    f.res.write("/dlink/file", data("dir link")).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(f.host("root/data/file")).unwrap(),
        "dir link"
    );
    assert_eq!(
        f.res.write("/dlink", data("x")).await.unwrap_err().kind,
        ErrorKind::IsADirectory
    );
    assert!(is_link(&f.host("root/dlink")));
    // A link leading out is refused, and stays a link.
    f.link("../outside/secret.txt", "out");
    refused(
        f.res.write("/out", data("pwned")).await,
        "write through a link out",
    );
    assert!(is_link(&f.host("root/out")));
    f.assert_outside_intact();
}

#[tokio::test]
async fn symlink_loops_are_eloop() {
    let f = Fixture::new();
    f.link("b", "a");
    f.link("a", "b");
    f.link("self", "self");
    for p in ["/a", "/self", "/a/x"] {
        assert_eq!(
            f.res.stat(p).await.unwrap_err().kind,
            ErrorKind::TooManyLinks,
            "stat {p}"
        );
        assert_eq!(
            f.res.read(p).await.unwrap_err().kind,
            ErrorKind::TooManyLinks,
            "read {p}"
        );
        assert_eq!(
            f.res.write(p, data("x")).await.unwrap_err().kind,
            ErrorKind::TooManyLinks,
            "write {p}"
        );
    }
    assert_eq!(
        ErrorKind::TooManyLinks.gnu_message(),
        "Too many levels of symbolic links"
    );
    // The links themselves can be listed, read and removed.
    assert_eq!(
        f.res.lstat("/a").await.unwrap().file_type,
        FileType::Symlink
    );
    assert_eq!(f.res.readlink("/a").await.unwrap(), "b");
    f.res.unlink("/a").await.unwrap();
    f.res.unlink("/self").await.unwrap();
}

#[tokio::test]
async fn links_leading_out_can_be_moved_and_removed() {
    let f = Fixture::new();
    f.link(f.host("outside/secret.txt"), "abs");
    f.link("../outside", "rel");
    f.res.mkdir("/d").await.unwrap();
    f.res.rename("/abs", "/d/abs2").await.unwrap();
    f.res.rename("/rel", "/d/rel2").await.unwrap();
    assert_eq!(
        f.res.readlink("/d/abs2").await.unwrap(),
        f.host("outside/secret.txt").to_str().unwrap()
    );
    assert_eq!(f.res.readlink("/d/rel2").await.unwrap(), "../outside");
    assert_eq!(
        f.res.lstat("/d/abs2").await.unwrap().file_type,
        FileType::Symlink
    );
    refused(f.res.read("/d/abs2").await, "read moved link");
    f.res.unlink("/d/abs2").await.unwrap();
    f.res.unlink("/d/rel2").await.unwrap();
    f.assert_outside_intact();
}

#[tokio::test]
async fn temp_like_names_are_listed() {
    let f = Fixture::new();
    std::fs::write(f.host("root/.big.mirage-tmp-123-0"), "mine").unwrap();
    std::fs::write(f.host("root/a.mirage-tmp-b"), "mine too").unwrap();
    let names: Vec<_> = f
        .res
        .readdir("/")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&".big.mirage-tmp-123-0".to_string()));
    // A write next to them leaves them alone.
    f.res.write("/big", data("new")).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(f.host("root/.big.mirage-tmp-123-0")).unwrap(),
        "mine"
    );
}

fn host_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_write_leaves_nothing_behind() {
    let f = Fixture::new();
    f.res.write("/f", data("old")).await.unwrap();
    for target in ["/f", "/new"] {
        // A stream that gives 1 MB, then never ends.
        let first = futures::stream::iter(vec![Ok(Bytes::from(vec![b'n'; 1 << 20]))]);
        let src = ByteSource::Stream(first.chain(futures::stream::pending()).boxed());
        let fut = f.res.write(target, src);
        tokio::pin!(fut);
        // While the write is in progress, no name is visible (O_TMPFILE).
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), &mut fut)
                .await
                .is_err()
        );
        assert_eq!(
            host_names(&f.host("root")),
            ["f"],
            "a temporary name is visible during the write"
        );
        #[allow(clippy::drop_non_drop)] // cancels the write mid-way
        drop(fut);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(host_names(&f.host("root")), ["f"]);
        assert_eq!(read(&f.res, "/f").await, "old");
    }
}

#[tokio::test]
async fn fifo_is_refused_without_blocking() {
    let f = Fixture::new();
    f.fifo("fifo");
    let quick = std::time::Duration::from_secs(5);
    let e = tokio::time::timeout(quick, f.res.read("/fifo"))
        .await
        .expect("read blocked on a FIFO")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    let e = tokio::time::timeout(quick, f.res.append("/fifo", data("x")))
        .await
        .expect("append blocked")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    let e = tokio::time::timeout(quick, f.res.write("/fifo", data("x")))
        .await
        .expect("write blocked")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        std::fs::symlink_metadata(f.host("root/fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[tokio::test]
async fn failed_stream_write_keeps_old_data_and_no_temp_file() {
    let f = Fixture::new();
    f.res.write("/f", data("old")).await.unwrap();
    let chunks = vec![
        Ok(Bytes::from(vec![b'n'; 200_000])),
        Ok(Bytes::from(vec![b'n'; 200_000])),
        Err(Error::new(ErrorKind::Io)),
    ];
    let err = f
        .res
        .write(
            "/f",
            ByteSource::Stream(futures::stream::iter(chunks).boxed()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Io);
    assert_eq!(read(&f.res, "/f").await, "old");
    let names: Vec<_> = std::fs::read_dir(f.host("root"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"]);
}

#[tokio::test]
async fn write_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    f.res.write("/script", data("#!/bin/sh\n")).await.unwrap();
    std::fs::set_permissions(
        f.host("root/script"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    f.res
        .write("/script", data("#!/bin/sh\necho hi\n"))
        .await
        .unwrap();
    assert_eq!(f.res.stat("/script").await.unwrap().mode, Some(0o750));
}

#[tokio::test]
async fn large_file_streams_in_64k_chunks() {
    let f = Fixture::new();
    let content: Vec<u8> = (0..3 * 1024 * 1024 + 123)
        .map(|i| (i % 251) as u8)
        .collect();
    std::fs::write(f.host("root/big"), &content).unwrap();
    let ByteSource::Stream(mut s) = f.res.read("/big").await.unwrap() else {
        panic!("expected a stream")
    };
    let mut got = Vec::new();
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        assert!(c.len() <= 64 * 1024);
        got.extend_from_slice(&c);
    }
    assert_eq!(got, content);
    // Dropping a stream early stops the reader (no hang, no error).
    let ByteSource::Stream(mut s) = f.res.read("/big").await.unwrap() else {
        panic!("expected a stream")
    };
    assert_eq!(s.next().await.unwrap().unwrap().len(), 64 * 1024);
    drop(s);
    // Small files come back whole.
    std::fs::write(f.host("root/small"), "abc").unwrap();
    assert!(matches!(
        f.res.read("/small").await.unwrap(),
        ByteSource::Bytes(_)
    ));
}

#[tokio::test]
async fn registered_as_disk_with_strict_config() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = resource_type("disk").unwrap();
    let res = (reg.build)(&serde_json::json!({ "root": tmp.path() })).unwrap();
    assert_eq!(res.name(), "disk");
    res.write("/a", data("a")).await.unwrap();
    assert_eq!(std::fs::read_to_string(tmp.path().join("a")).unwrap(), "a");
    let e = (reg.build)(&serde_json::json!({ "root": tmp.path(), "rooot": "/" }))
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    let e = (reg.build)(&serde_json::json!({})).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    let e = (reg.build)(&serde_json::json!({ "root": tmp.path().join("missing") }))
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = DiskResource::open(&tmp.path().join("a")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotADirectory);
}

/// `chmod` sets the bits `stat` reports, on files, directories and the
/// root; a link inside the root changes its target and stays a link; a
/// missing path is `NotFound`.
#[tokio::test]
async fn chmod_sets_mode_bits_inside_the_root() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let r = &f.res;
    r.write("/s.sh", data("echo hi\n")).await.unwrap();
    r.mkdir("/d").await.unwrap();
    r.chmod("/s.sh", 0o755).await.unwrap();
    assert_eq!(r.stat("/s.sh").await.unwrap().mode, Some(0o755));
    let host = std::fs::metadata(f.host("root/s.sh")).unwrap();
    assert_eq!(host.permissions().mode() & 0o7777, 0o755);
    r.chmod("/s.sh", 0o4711).await.unwrap();
    assert_eq!(r.stat("/s.sh").await.unwrap().mode, Some(0o4711));
    // bits above 0o7777 are ignored
    r.chmod("/s.sh", 0o100_640).await.unwrap();
    assert_eq!(r.stat("/s.sh").await.unwrap().mode, Some(0o640));
    r.chmod("/d", 0o700).await.unwrap();
    assert_eq!(r.stat("/d").await.unwrap().mode, Some(0o700));
    // a rewrite keeps the bits
    r.write("/s.sh", data("echo again\n")).await.unwrap();
    assert_eq!(r.stat("/s.sh").await.unwrap().mode, Some(0o640));
    // through a link inside the root: the target changes, the link stays
    f.link("s.sh", "ln");
    r.chmod("/ln", 0o751).await.unwrap();
    assert_eq!(r.stat("/s.sh").await.unwrap().mode, Some(0o751));
    assert_eq!(r.lstat("/ln").await.unwrap().file_type, FileType::Symlink);
    // the root itself
    r.chmod("/", 0o750).await.unwrap();
    assert_eq!(r.stat("/").await.unwrap().mode, Some(0o750));
    r.chmod("/", 0o755).await.unwrap();
    assert_eq!(
        r.chmod("/missing", 0o644).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        r.chmod("/d/../../x", 0o777).await.unwrap_err().kind,
        ErrorKind::PermissionDenied
    );
    f.assert_outside_intact();
}

#[tokio::test]
async fn set_modified_sets_mtime_inside_the_root_only() {
    use std::time::{Duration, UNIX_EPOCH};
    let f = Fixture::new();
    let r = &f.res;
    let t = UNIX_EPOCH + Duration::from_secs(1_577_836_800); // 2020-01-01
    r.write("/a.txt", data("a")).await.unwrap();
    r.mkdir("/d").await.unwrap();
    r.set_modified("/a.txt", t).await.unwrap();
    assert_eq!(r.stat("/a.txt").await.unwrap().modified, Some(t));
    assert_eq!(
        std::fs::metadata(f.host("root/a.txt"))
            .unwrap()
            .modified()
            .unwrap(),
        t
    );
    r.set_modified("/d", t).await.unwrap();
    assert_eq!(r.stat("/d").await.unwrap().modified, Some(t));
    r.set_modified("/", t).await.unwrap();
    assert_eq!(r.stat("/").await.unwrap().modified, Some(t));
    // a file that can be written but not read
    r.write("/wo", data("w")).await.unwrap();
    r.chmod("/wo", 0o200).await.unwrap();
    r.set_modified("/wo", t).await.unwrap();
    assert_eq!(r.stat("/wo").await.unwrap().modified, Some(t));
    // through a link inside the root: the target's time changes
    f.link("a.txt", "ln");
    let t2 = t + Duration::from_secs(60);
    r.set_modified("/ln", t2).await.unwrap();
    assert_eq!(r.stat("/a.txt").await.unwrap().modified, Some(t2));
    // a link leading out is refused, and the outside file keeps its time
    let before = std::fs::metadata(f.host("outside/secret.txt"))
        .unwrap()
        .modified()
        .unwrap();
    f.link(f.host("outside/secret.txt"), "out");
    assert!(r.set_modified("/out", t).await.is_err());
    assert!(r.set_modified("/../outside/secret.txt", t).await.is_err());
    assert_eq!(
        std::fs::metadata(f.host("outside/secret.txt"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    assert_eq!(
        r.set_modified("/missing", t).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    // a FIFO is not opened (that could block)
    f.fifo("fifo");
    let e = tokio::time::timeout(Duration::from_secs(5), r.set_modified("/fifo", t))
        .await
        .expect("set_modified blocked on a FIFO")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
}
