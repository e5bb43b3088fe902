#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The router's streamed listings and read options: mount points merged
//! into listings, recursive listings that go into nested mounts, range and
//! conditional reads passed to the resource.

use std::sync::Arc;

use futures::StreamExt;
use mirage_resource_ram::RamResource;
use mirage_types::{ByteRange, ListOptions, MountMode, ReadOptions, ReadResult, Vfs};
use mirage_workspace::{Mount, Router};

fn router() -> Router {
    let root = Arc::new(RamResource::new());
    root.insert_file("/top.txt", "t").unwrap();
    root.insert_file("/data/hidden", "shadowed by the /data mount")
        .unwrap();
    let data = Arc::new(RamResource::new());
    data.insert_file("/x/y.txt", "0123456789").unwrap();
    let deep = Arc::new(RamResource::new());
    deep.insert_file("/f", "f").unwrap();
    Router::new(vec![
        Mount::new("/", root, MountMode::Write),
        Mount::new("/data", data, MountMode::Read),
        Mount::new("/a/b/c", deep, MountMode::Write),
    ])
    .unwrap()
}

async fn names(r: &Router, path: &str, opts: ListOptions) -> Vec<String> {
    let mut s = r.list(path, &opts).await.unwrap();
    let mut out = Vec::new();
    while let Some(e) = s.next().await {
        out.push(e.unwrap().name);
    }
    out.sort();
    out
}

#[tokio::test]
async fn list_merges_mount_points() {
    let r = router();
    assert_eq!(
        names(&r, "/", ListOptions::default()).await,
        ["a", "data", "top.txt"]
    );
    assert_eq!(names(&r, "/a", ListOptions::default()).await, ["b"]);
    let after = ListOptions {
        start_after: Some("b".into()),
        ..ListOptions::default()
    };
    assert_eq!(names(&r, "/", after).await, ["data", "top.txt"]);
    assert_eq!(
        r.list("/nope", &ListOptions::default())
            .await
            .err()
            .unwrap()
            .kind,
        mirage_types::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn recursive_list_goes_into_mounts() {
    let r = router();
    let opts = ListOptions {
        recursive: true,
        page_size: Some(1),
        ..ListOptions::default()
    };
    assert_eq!(
        names(&r, "/", opts.clone()).await,
        [
            "a",
            "a/b",
            "a/b/c",
            "a/b/c/f",
            "data",
            "data/x",
            "data/x/y.txt",
            "top.txt"
        ]
    );
    // Natively (ram lists recursively) inside one mount.
    assert_eq!(names(&r, "/data", opts).await, ["x", "x/y.txt"]);
}

#[tokio::test]
async fn read_options_pass_through() {
    let r = router();
    let range = ReadOptions {
        range: Some(ByteRange::new(2, 3)),
        ..ReadOptions::default()
    };
    let ReadResult::Data { source, version } = r.read_with("/data/x/y.txt", &range).await.unwrap()
    else {
        panic!("unchanged without a condition")
    };
    assert_eq!(source.collect().await.unwrap(), "234");
    let cond = ReadOptions {
        if_none_match: Some(version),
        ..ReadOptions::default()
    };
    assert!(matches!(
        r.read_with("/data/x/y.txt", &cond).await.unwrap(),
        ReadResult::Unchanged
    ));
    let err = r
        .read_with("/a", &ReadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, mirage_types::ErrorKind::IsADirectory);
    assert_eq!(err.path.as_deref(), Some("/a"));
    // The plain read agrees (it said "No such file" for a directory that
    // exists only as the parent of a mount point).
    let err = r.read("/a/b").await.unwrap_err();
    assert_eq!(err.kind, mirage_types::ErrorKind::IsADirectory);
}
