#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Real programs on a RAM mount through FUSE: git, python3, tar, cp, diff,
//! rg. A program that is not installed is skipped with a `SKIPPED:` line;
//! every program runs under `timeout 120` and its exit code is asserted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{ram_mount, skip};

/// The repository's root (two levels above this crate).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn installed(prog: &str) -> bool {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {prog}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: {prog} is not installed");
    }
    ok
}

/// Runs `prog args…` under `timeout 120` in `cwd`; panics unless it exits 0.
fn run(cwd: &Path, prog: &str, args: &[&str]) -> Output {
    let out = Command::new("timeout")
        .arg("120")
        .arg(prog)
        .args(args)
        .current_dir(cwd)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{prog} {args:?} in {} exited {:?}\nstdout: {}\nstderr: {}",
        cwd.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn sh(cwd: &Path, script: &str) -> Output {
    run(cwd, "sh", &["-c", script])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn git_init_add_commit_log_status() {
    if skip() || !installed("git") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[
        ("/README.md", "# hello\n"),
        ("/src/main.rs", "fn main() {}\n"),
        ("/src/lib/mod.rs", "pub fn f() -> u8 { 1 }\n"),
    ])
    .await;
    tokio::task::spawn_blocking(move || {
        let g = [
            "-c",
            "user.name=Mirage Test",
            "-c",
            "user.email=test@example.com",
        ];
        run(&data, "git", &["init", "-q"]);
        run(&data, "git", &["add", "-A"]);
        let mut commit = g.to_vec();
        commit.extend(["commit", "-q", "-m", "x"]);
        run(&data, "git", &commit);
        let log = run(&data, "git", &["log", "--oneline"]);
        let log = String::from_utf8_lossy(&log.stdout).into_owned();
        assert_eq!(log.lines().count(), 1, "one commit: {log}");
        assert!(
            log.trim_end().ends_with(" x"),
            "the commit's message: {log}"
        );
        let st = run(&data, "git", &["status", "--porcelain"]);
        assert_eq!(
            String::from_utf8_lossy(&st.stdout),
            "",
            "clean after commit"
        );
        let files = run(&data, "git", &["ls-files"]);
        assert_eq!(
            String::from_utf8_lossy(&files.stdout),
            "README.md\nsrc/lib/mod.rs\nsrc/main.rs\n"
        );
        // a change shows, and a second commit lands
        std::fs::write(data.join("README.md"), "# changed\n").unwrap();
        let st = run(&data, "git", &["status", "--porcelain"]);
        assert_eq!(String::from_utf8_lossy(&st.stdout), " M README.md\n");
        let mut commit = g.to_vec();
        commit.extend(["commit", "-q", "-am", "y"]);
        run(&data, "git", &commit);
        let log = run(&data, "git", &["log", "--oneline"]);
        assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 2);
        let st = run(&data, "git", &["status", "--porcelain"]);
        assert_eq!(String::from_utf8_lossy(&st.stdout), "");
        run(&data, "git", &["fsck", "--no-progress"]);
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn python_writes_appends_seeks_renames_lists() {
    if skip() || !installed("python3") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[("/keep.txt", "kept\n")]).await;
    tokio::task::spawn_blocking(move || {
        let script = r#"
import os
with open("a.txt", "w") as f:
    f.write("hello\n")
with open("a.txt", "a") as f:
    f.write("world\n")
assert open("a.txt").read() == "hello\nworld\n", open("a.txt").read()
with open("a.txt", "r+b") as f:
    f.seek(2)
    f.write(b"LL")
    f.seek(0)
    assert f.read() == b"heLLo\nworld\n"
    f.seek(-6, 2)
    assert f.read(5) == b"world"
    f.truncate(5)
assert os.path.getsize("a.txt") == 5
with open("a.txt", "ab") as f:
    f.write(b"!")
    assert f.tell() == 6, f.tell()
assert open("a.txt", "rb").read() == b"heLLo!"
with open("b.bin", "wb") as f:
    f.seek(100)
    f.write(b"x")
d = open("b.bin", "rb").read()
assert len(d) == 101 and d[:100] == bytes(100) and d[100:] == b"x"
os.mkdir("sub")
os.rename("a.txt", "sub/a.txt")
os.rename("sub", "sub2")
assert open("sub2/a.txt").read() == "heLLo!"
assert sorted(os.listdir(".")) == ["b.bin", "keep.txt", "sub2"], os.listdir(".")
assert os.listdir("sub2") == ["a.txt"]
os.replace("b.bin", "keep.txt")
assert sorted(os.listdir(".")) == ["keep.txt", "sub2"]
assert os.stat("keep.txt").st_size == 101
os.remove("sub2/a.txt")
os.rmdir("sub2")
print("ok")
"#;
        let out = run(&data, "python3", &["-c", script]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
        assert_eq!(std::fs::read(data.join("keep.txt")).unwrap().len(), 101);
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tar_lists_every_file_and_extracts_into_the_mount() {
    if skip() || !installed("tar") || !installed("diff") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[
        ("/t/one.txt", "1\n"),
        ("/t/two/three.txt", "3\n"),
        ("/t/two/four/five.txt", "5\n"),
    ])
    .await;
    let types = repo_root().join("crates/mirage-types");
    tokio::task::spawn_blocking(move || {
        let out = sh(&data, "tar -cf - t | tar -tf - | sort");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "t/\nt/one.txt\nt/two/\nt/two/four/\nt/two/four/five.txt\nt/two/three.txt\n"
        );
        // an archive made on the host, extracted into the mount
        let host = tempfile::tempdir().unwrap();
        let archive = host.path().join("types.tar");
        let parent = types.parent().unwrap();
        run(
            parent,
            "tar",
            &[
                "-cf",
                archive.to_str().unwrap(),
                "--exclude=target",
                "mirage-types",
            ],
        );
        std::fs::create_dir(data.join("x")).unwrap();
        run(&data.join("x"), "tar", &["-xf", archive.to_str().unwrap()]);
        run(
            &data,
            "diff",
            &[
                "-r",
                types.to_str().unwrap(),
                data.join("x/mirage-types").to_str().unwrap(),
            ],
        );
        // and made from the mount again, it lists the same files
        let a = sh(parent, "tar -cf - mirage-types | tar -tf - | sort");
        let b = sh(&data.join("x"), "tar -cf - mirage-types | tar -tf - | sort");
        assert_eq!(a.stdout, b.stdout);
        assert!(a.stdout.len() > 100);
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cp_r_of_crates_then_diff_r_and_rg_counts() {
    if skip() || !installed("cp") || !installed("diff") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[]).await;
    let crates = repo_root().join("crates");
    tokio::task::spawn_blocking(move || {
        // copy the sources only (no build output lives under crates/)
        let t = std::time::Instant::now();
        run(
            &data,
            "cp",
            &["-r", crates.to_str().unwrap(), data.to_str().unwrap()],
        );
        let copy = t.elapsed();
        let t = std::time::Instant::now();
        run(
            &data,
            "diff",
            &[
                "-r",
                crates.to_str().unwrap(),
                data.join("crates").to_str().unwrap(),
            ],
        );
        let diff = t.elapsed();
        let n = sh(&data, "find crates -type f | wc -l");
        let files: usize = String::from_utf8_lossy(&n.stdout).trim().parse().unwrap();
        let n0 = sh(crates.parent().unwrap(), "find crates -type f | wc -l");
        assert_eq!(
            String::from_utf8_lossy(&n0.stdout).trim(),
            files.to_string()
        );
        eprintln!("cp -r of {files} files: {copy:?}; diff -r: {diff:?}");
        assert!(files > 100, "crates/ has many files: {files}");
        if installed("rg") {
            let ours = sh(&data, "rg -c fn crates | sort");
            let theirs = sh(crates.parent().unwrap(), "rg -c fn crates | sort");
            assert!(!theirs.stdout.is_empty());
            assert_eq!(
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&theirs.stdout)
            );
        }
        if installed("git") {
            // the copy as a git repository: committed, then clean
            let c = data.join("crates");
            let id = ["-c", "user.name=T", "-c", "user.email=t@example.com"];
            run(&c, "git", &["init", "-q"]);
            run(&c, "git", &["add", "-A"]);
            let mut commit = id.to_vec();
            commit.extend(["commit", "-q", "-m", "copy"]);
            run(&c, "git", &commit);
            let st = run(&c, "git", &["status", "--porcelain"]);
            assert_eq!(String::from_utf8_lossy(&st.stdout), "");
            let n = run(&c, "git", &["ls-files"]);
            assert_eq!(String::from_utf8_lossy(&n.stdout).lines().count(), files);
        }
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shell_tools_sed_i_symlinks_exec_dd_mmap_mv() {
    if skip() || !installed("sed") || !installed("dd") || !installed("python3") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[]).await;
    tokio::task::spawn_blocking(move || {
        let script = r#"
set -e
printf 'a\nb\n' > s.txt
sed -i 's/a/A/' s.txt
test "$(cat s.txt)" = "$(printf 'A\nb')"
ln -s s.txt link
test "$(readlink link)" = s.txt
test "$(cat link)" = "$(printf 'A\nb')"
printf '#!/bin/sh\necho ran\n' > x.sh
chmod +x x.sh
test -x x.sh
test "$(./x.sh)" = ran
touch t
test -f t
test ! -s t
dd if=/dev/zero of=z bs=1k count=64 2>/dev/null
test "$(stat -c %s z)" = 65536
printf 'XY' | dd of=z bs=1 seek=10 conv=notrunc 2>/dev/null
test "$(stat -c %s z)" = 65536
python3 -c "import mmap; f = open('z', 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); assert m[8:14] == b'\0\0XY\0\0', m[8:14]"
mkdir -p p/q/r
echo deep > p/q/r/f
mv p p2
test "$(cat p2/q/r/f)" = deep
test ! -e p
cat p2/q/r/f >> s.txt
test "$(tail -n 1 s.txt)" = deep
ls -la > /dev/null
find . -type f | sort | tr '\n' ' '
"#;
        let out = sh(&data, script);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "./p2/q/r/f ./s.txt ./t ./x.sh ./z "
        );
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_64_mib_file_round_trips_with_cp_cmp_and_pread() {
    if skip() || !installed("cmp") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[]).await;
    tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::FileExt;
        let host = tempfile::tempdir().unwrap();
        let src = host.path().join("big");
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let bytes: Vec<u8> = (0..64 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(&src, &bytes).unwrap();
        let dst = data.join("big");
        run(&data, "cp", &[src.to_str().unwrap(), dst.to_str().unwrap()]);
        assert_eq!(std::fs::metadata(&dst).unwrap().len(), 64 << 20);
        run(
            &data,
            "cmp",
            &[src.to_str().unwrap(), dst.to_str().unwrap()],
        );
        // reads at scattered offsets through one descriptor
        let f = std::fs::File::open(&dst).unwrap();
        for off in [0u64, 5 << 20, 1, (64 << 20) - 10, 33 << 20, 7] {
            let mut buf = vec![0u8; 4096];
            let n = f.read_at(&mut buf, off).unwrap();
            let end = (off as usize + 4096).min(bytes.len());
            assert_eq!(&buf[..n], &bytes[off as usize..end], "pread at {off}");
        }
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_directory_of_3000_entries_lists_whole_while_it_changes() {
    if skip() || !installed("python3") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[]).await;
    tokio::task::spawn_blocking(move || {
        let script = r#"
import os
os.mkdir("many")
for i in range(3000):
    with open(f"many/f{i:05}-{'x' * (i % 40)}", "w") as f:
        f.write(str(i))
names = os.listdir("many")
assert len(names) == 3000 and len(set(names)) == 3000, len(names)
# removing while iterating one directory stream: every name seen once
seen = []
with os.scandir("many") as it:
    for e in it:
        seen.append(e.name)
        if len(seen) % 2 == 0:
            os.remove(os.path.join("many", e.name))
assert len(seen) == 3000 and len(set(seen)) == 3000, (len(seen), len(set(seen)))
assert len(os.listdir("many")) == 1500
print("ok")
"#;
        let out = run(&data, "python3", &["-c", script]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
        let ls = sh(&data, "ls many | wc -l");
        assert_eq!(String::from_utf8_lossy(&ls.stdout).trim(), "1500");
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn symlink_targets_read_back_as_written() {
    if skip() {
        return;
    }
    let (m, dir, data) = ram_mount(&[("/t.txt", "t\n")]).await;
    let mp = dir.path().canonicalize().unwrap();
    tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::symlink;
        let inside = mp.join("data/t.txt");
        for (name, target) in [
            ("rel", std::path::PathBuf::from("t.txt")),
            ("up", std::path::PathBuf::from("../data/t.txt")),
            ("abs_inside", inside.clone()),
            ("abs_host", std::path::PathBuf::from("/etc/hostname")),
        ] {
            symlink(&target, data.join(name)).unwrap();
            assert_eq!(
                std::fs::read_link(data.join(name)).unwrap(),
                target,
                "{name}"
            );
        }
        assert_eq!(std::fs::read_to_string(data.join("rel")).unwrap(), "t\n");
        assert_eq!(std::fs::read_to_string(data.join("up")).unwrap(), "t\n");
        assert_eq!(
            std::fs::read_to_string(data.join("abs_inside")).unwrap(),
            "t\n"
        );
        assert_eq!(
            std::fs::read(data.join("abs_host")).unwrap(),
            std::fs::read("/etc/hostname").unwrap()
        );
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_processes_write_and_read_at_once() {
    if skip() || !installed("python3") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[]).await;
    tokio::task::spawn_blocking(move || {
        let script = r#"
import os, sys
w = sys.argv[1]
os.makedirs(f"w{w}/a/b", exist_ok=True)
for i in range(150):
    p = f"w{w}/a/b/f{i}"
    with open(p, "w") as f:
        f.write(f"{w}:{i}\n" * (i + 1))
    with open("shared.log", "a") as f:
        f.write(f"{w} {i}\n")
    if i % 3 == 0:
        os.rename(p, p + ".r")
for i in range(150):
    p = f"w{w}/a/b/f{i}" + (".r" if i % 3 == 0 else "")
    assert open(p).read() == f"{w}:{i}\n" * (i + 1), p
print("ok")
"#;
        let kids: Vec<_> = (0..8)
            .map(|w| {
                Command::new("timeout")
                    .arg("120")
                    .arg("python3")
                    .arg("-c")
                    .arg(script)
                    .arg(w.to_string())
                    .current_dir(&data)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect::<Vec<_>>();
        // all eight run at once; now collect them
        for (w, k) in kids.into_iter().enumerate() {
            let k = k.wait_with_output().unwrap();
            assert!(
                k.status.success() && k.stdout == b"ok\n",
                "writer {w}: {:?} {}",
                k.status,
                String::from_utf8_lossy(&k.stderr)
            );
        }
        let log = std::fs::read_to_string(data.join("shared.log")).unwrap();
        assert_eq!(log.lines().count(), 8 * 150, "no append lost");
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unlinked_open_file_stays_usable_through_its_descriptor() {
    if skip() || !installed("python3") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[("/old.txt", "old bytes\n")]).await;
    tokio::task::spawn_blocking(move || {
        let script = r#"
import os, tempfile
# tempfile.TemporaryFile: O_TMPFILE, else mkstemp + unlink, then the fd
with tempfile.TemporaryFile(dir=".") as t:
    t.write(b"scratch data")
    t.seek(0)
    assert t.read() == b"scratch data"
    assert os.fstat(t.fileno()).st_size == 12
# an existing file opened, unlinked, then read and written through its fd
f = open("old.txt", "r+b")
os.remove("old.txt")
assert f.read() == b"old bytes\n"
f.write(b"more")
f.seek(0)
assert f.read() == b"old bytes\nmore"
assert os.fstat(f.fileno()).st_size == 14
f.close()
assert sorted(os.listdir(".")) == [], os.listdir(".")
# a file replaced by a rename (an editor's save) while open for reading
open("doc", "w").write("version 1\n")
r = open("doc", "rb")
open("doc.tmp", "w").write("version 2\n")
os.rename("doc.tmp", "doc")
assert r.read() == b"version 1\n"
r.close()
assert open("doc").read() == "version 2\n"
os.remove("doc")
print("ok")
"#;
        let out = run(&data, "python3", &["-c", script]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    })
    .await
    .unwrap();
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shared_mmap_write_lands_in_the_file() {
    if skip() || !installed("python3") {
        return;
    }
    let (m, _dir, data) = ram_mount(&[("/m.bin", "0123456789abcdef")]).await;
    tokio::task::spawn_blocking(move || {
        let script = r#"
import mmap, os
with open("m.bin", "r+b") as f:
    mm = mmap.mmap(f.fileno(), 0)
    mm[2:6] = b"WXYZ"
    mm.flush()
    mm.close()
assert open("m.bin", "rb").read() == b"01WXYZ6789abcdef", open("m.bin", "rb").read()
# unmapped after close
f = open("m.bin", "r+b")
mm = mmap.mmap(f.fileno(), 0)
f.close()
mm[0:2] = b"QQ"
mm.close()
print(open("m.bin", "rb").read().decode())
"#;
        let out = run(&data, "python3", &["-c", script]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "QQWXYZ6789abcdef\n");
    })
    .await
    .unwrap();
    drop(m);
}
