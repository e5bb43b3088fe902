#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `--mount PREFIX=TYPE[:ARG][:MODE]` builds any registered resource
//! through the registry; `mirage resources` lists the types.

use std::path::Path;
use std::process::{Command, Output};

fn mirage(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mirage"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run mirage")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

#[test]
fn resources_lists_the_registered_types_sorted() {
    let d = tempfile::tempdir().unwrap();
    let o = mirage(d.path(), &["resources"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    let names: Vec<&str> = out.lines().map(|l| l.split_once('\t').unwrap().0).collect();
    assert_eq!(names, mirage::resource_names());
    assert!(names.contains(&"ram") && names.contains(&"disk"), "{out}");
    assert!(
        out.lines()
            .all(|l| !l.split_once('\t').unwrap().1.is_empty())
    );
}

#[test]
fn modes_and_arguments() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("docs")).unwrap();
    std::fs::write(d.path().join("docs/a.txt"), "hello\n").unwrap();
    let cases: &[(&str, &str, &str, i32)] = &[
        // ram: writable by default
        ("/s=ram", "echo x > /s/f && cat /s/f", "x\n", 0),
        ("/s=ram:read", "echo x > /s/f; echo $?", "1\n", 0),
        ("/s=ram:ro", "touch /s/f; echo $?", "1\n", 0),
        ("/s=ram:exec", "echo x > /s/f && cat /s/f", "x\n", 0),
        // disk: the ARG is its root, read-only by default
        (
            "/d=disk:./docs",
            "cat /d/a.txt; touch /d/b; echo $?",
            "hello\n1\n",
            0,
        ),
        ("/d=disk:docs:rw", "echo new > /d/b && cat /d/b", "new\n", 0),
        ("/d=disk:./docs:write", "ls /d", "a.txt\nb\n", 0),
    ];
    for (m, line, want, code) in cases {
        let o = mirage(d.path(), &["execute", "--mount", m, "-c", line]);
        assert_eq!(
            (text(&o.stdout).as_str(), o.status.code()),
            (*want, Some(*code)),
            "--mount {m} -c {line}: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn a_directory_named_like_a_mode_is_an_argument() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("write")).unwrap();
    std::fs::write(d.path().join("write/w.txt"), "w\n").unwrap();
    let o = mirage(
        d.path(),
        &["execute", "--mount", "/w=disk:write", "-c", "cat /w/w.txt"],
    );
    assert_eq!(text(&o.stdout), "w\n", "{}", text(&o.stderr));
    // with a colon in the path, the last word is the mode
    std::fs::create_dir(d.path().join("a:b")).unwrap();
    let o = mirage(
        d.path(),
        &[
            "execute",
            "--mount",
            "/c=disk:a:b:write",
            "-c",
            "echo in > /c/x; cat /c/x",
        ],
    );
    assert_eq!(text(&o.stdout), "in\n", "{}", text(&o.stderr));
    assert_eq!(std::fs::read(d.path().join("a:b/x")).unwrap(), b"in\n");
}
