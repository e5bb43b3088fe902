#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Programs run over an in-memory `Io`, against gawk 5.2's output.

use std::collections::HashMap;

use mirage_awk::{Interp, Io, Stream, WriteError};

#[derive(Default)]
struct MemIo {
    files: HashMap<Vec<u8>, Vec<u8>>,
    stdin: Vec<u8>,
    open: HashMap<u32, Option<Vec<u8>>>,
    next: u32,
    out: Vec<u8>,
    err: Vec<u8>,
}

impl Io for MemIo {
    fn open(&mut self, path: &[u8]) -> Result<u32, String> {
        let data = if path == b"-" {
            std::mem::take(&mut self.stdin)
        } else {
            self.files
                .get(path)
                .cloned()
                .ok_or("No such file or directory")?
        };
        self.next += 1;
        self.open.insert(self.next, Some(data));
        Ok(self.next)
    }
    fn read(&mut self, h: u32) -> Result<Option<Vec<u8>>, String> {
        // one small chunk at a time, to exercise record reassembly
        let Some(Some(d)) = self.open.get_mut(&h) else {
            return Ok(None);
        };
        if d.is_empty() {
            return Ok(None);
        }
        let n = d.len().min(7);
        Ok(Some(d.drain(..n).collect()))
    }
    fn close(&mut self, h: u32) {
        self.open.remove(&h);
    }
    fn write(&mut self, to: Stream, data: Vec<u8>) -> Result<(), WriteError> {
        match to {
            Stream::Stdout => self.out.extend(data),
            Stream::Stderr => self.err.extend(data),
        }
        Ok(())
    }
    fn write_file(&mut self, path: &[u8], append: bool, data: Vec<u8>) -> Result<(), String> {
        if path.starts_with(b"/ro/") {
            return Err("Read-only file system".into());
        }
        let f = self.files.entry(path.to_vec()).or_default();
        if !append {
            f.clear();
        }
        f.extend(data);
        Ok(())
    }
    fn run(&mut self, _: &[u8], _: Vec<u8>, _: bool) -> Result<(i32, Vec<u8>), String> {
        Err("not supported".into())
    }
}

fn awk_io(prog: &str, args: &[&str], stdin: &str, io: &mut MemIo) -> (String, i32) {
    io.stdin = stdin.as_bytes().to_vec();
    let p = mirage_awk::compile(prog).unwrap_or_else(|e| panic!("{prog}: {e:?}"));
    let mut argv = vec![b"awk".to_vec()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let st = {
        let mut it = Interp::new(p, io, &argv, &[], &[]).unwrap();
        match it.run() {
            Ok(s) => s,
            Err(e) => panic!("{prog}: {e:?}"),
        }
    };
    (String::from_utf8_lossy(&io.out).into_owned(), st)
}

fn awk(prog: &str, stdin: &str) -> String {
    let mut io = MemIo::default();
    awk_io(prog, &[], stdin, &mut io).0
}

#[test]
fn basics() {
    assert_eq!(awk("{print $2}", "a b\nc d\n"), "b\nd\n");
    assert_eq!(awk("{s+=$2} END{print s}", "x 1\ny 2.5\n"), "3.5\n");
    assert_eq!(
        awk(
            "BEGIN {print 10 / 3, 1e6, 2^53, 0.1 + 0.2, 1/4, 100000 * 100000, -0.0001234}",
            ""
        ),
        "3.33333 1000000 9007199254740992 0.3 0.25 10000000000 -0.0001234\n"
    );
    assert_eq!(
        awk(
            "BEGIN {print int(7.9), int(-7.9), 7 % 3, -7 % 3, 2 ** 3}",
            ""
        ),
        "7 -7 1 -1 8\n"
    );
    assert_eq!(
        awk(
            "BEGIN {print x + 0, \"[\" x \"]\", length(x); y = \"3\" + 4; print y; z = 1 \"2\" + 3; print z}",
            ""
        ),
        "0 [] 0\n7\n15\n"
    );
    assert_eq!(awk("$1 > 50", "10\n9\n100\nabc\n"), "100\nabc\n");
    assert_eq!(
        awk("{print ($1 > $2), (\"10\" > \"9\")}", "10 9\n"),
        "1 0\n"
    );
    assert_eq!(awk("!seen[$0]++", "a\nb\na\n"), "a\nb\n");
    assert_eq!(
        awk(
            "{n = split($0, p, \"-\"); print n, p[1], p[2] + 0, p[3]}",
            "2024-01-15\n"
        ),
        "3 2024 1 15\n"
    );
    assert_eq!(awk("{gsub(/o/, \"0\"); print}", "foo boo\n"), "f00 b00\n");
    assert_eq!(
        awk("{n = sub(/[0-9]+/, \"N\"); print n, $0}", "a12b34\n"),
        "1 aNb34\n"
    );
    assert_eq!(awk("NR==2, NR==3", "1\n2\n3\n4\n"), "2\n3\n");
    assert_eq!(
        awk(
            "BEGIN{a[\"x\"]=1; a[\"y\"]=2; delete a[\"x\"]; print (\"x\" in a), (\"y\" in a), length(a)}",
            ""
        ),
        "0 1 1\n"
    );
    assert_eq!(awk("{$1 = $1; print}", "  a   b  \n"), "a b\n");
    assert_eq!(
        awk("BEGIN{FS=\",\"} {print $2; NF=1; print}", "a,b,c\n"),
        "b\na\n"
    );
    assert_eq!(awk("{print NF}", "\n a b c\n"), "0\n3\n");
    assert_eq!(
        awk(
            "{if ($1 % 2) print $1, \"odd\"; else print $1, \"even\"}",
            "1\n2\n"
        ),
        "1 odd\n2 even\n"
    );
    assert_eq!(
        awk(
            "function f(a, b) { return a + b } { print f($1, 2) }",
            "40\n"
        ),
        "42\n"
    );
    assert_eq!(
        awk(
            "function fill(arr) { arr[1] = \"x\" } BEGIN { fill(z); print z[1] }",
            ""
        ),
        "x\n"
    );
    assert_eq!(
        awk(
            "BEGIN{printf \"%-5s|%5.2f|%d|%c|%x\\n\", \"ab\", 3.14159, 42.9, 65, 255}",
            ""
        ),
        "ab   | 3.14|42|A|ff\n"
    );
    assert_eq!(
        awk(
            "BEGIN{print substr(\"Hello\", 2, 3), substr(\"Hello\", 0), index(\"abc\", \"c\"), toupper(\"ab\")}",
            ""
        ),
        "ell Hello 3 AB\n"
    );
    assert_eq!(
        awk(
            "BEGIN{ if (match(\"foobar\", /o+/)) print RSTART, RLENGTH }",
            ""
        ),
        "2 2\n"
    );
    assert_eq!(
        awk(
            "{ while ((getline line) > 0) n++ } END { print n, NR }",
            "a\nb\nc\n"
        ),
        "2 3\n"
    );
    assert_eq!(
        awk(
            "BEGIN { RS = \"\" } { print NR\": \"$1 }",
            "a b\nc\n\n\nd\n"
        ),
        "1: a\n2: d\n"
    );
    assert_eq!(
        awk("{ print; exit } END { print \"end\" }", "1\n2\n"),
        "1\nend\n"
    );
    assert_eq!(
        awk(
            "BEGIN { x[1,2] = 3; for (k in x) { split(k, p, SUBSEP); print p[1], p[2] } }",
            ""
        ),
        "1 2\n"
    );
    assert_eq!(awk("BEGIN { print length() }", ""), "0\n");
    assert_eq!(
        awk(
            "BEGIN { printf \"%s %s\\n\", \"a\", \"b\" > \"/dev/stderr\" }",
            ""
        ),
        ""
    );
    assert_eq!(
        awk(
            "BEGIN { print gensub(/(a)(b)/, \"\\\\2\\\\1\", \"g\", \"abab\") }",
            ""
        ),
        "baba\n"
    );
    assert_eq!(awk("{ print $NF; print $(NF-1) }", "a b c\n"), "c\nb\n");
    assert_eq!(
        awk("BEGIN { OFS = \"-\" } { $3 = \"x\"; print }", "a\n"),
        "a--x\n"
    );
    assert_eq!(
        awk(
            "BEGIN { a = \"x\"; a = a a; print a; print 1==1.0, \"a\" < \"b\" }",
            ""
        ),
        "xx\n1 1\n"
    );
    assert_eq!(
        awk("BEGIN { do { i++ } while (i < 5); print i }", ""),
        "5\n"
    );
    assert_eq!(
        awk("/b/ { print \"has b:\", $0 }", "abc\nxyz\n"),
        "has b: abc\n"
    );
    assert_eq!(
        awk(
            "$2 ~ /^[0-9]+$/ { c++ } END { print c+0 }",
            "a 1\nb x\nc 22\n"
        ),
        "2\n"
    );
}

#[test]
fn files_and_operands() {
    let mut io = MemIo::default();
    io.files.insert(b"a".to_vec(), b"1\n2\n".to_vec());
    io.files.insert(b"b".to_vec(), b"3\n".to_vec());
    let (out, st) = awk_io(
        "{print FILENAME, FNR, NR, x}",
        &["a", "x=5", "b"],
        "",
        &mut io,
    );
    assert_eq!(out, "a 1 1 \na 2 2 \nb 1 3 5\n");
    assert_eq!(st, 0);
    let mut io = MemIo::default();
    let (_, st) = awk_io(
        "{print > \"out\"; print \"y\" >> \"out\"}",
        &[],
        "1\n2\n",
        &mut io,
    );
    assert_eq!(st, 0);
    assert_eq!(io.files.get(b"out".as_slice()).unwrap(), b"1\ny\n2\ny\n");
    let mut io = MemIo::default();
    io.files.insert(b"f".to_vec(), b"l1\nl2\n".to_vec());
    let (out, _) = awk_io(
        "BEGIN { while ((getline l < \"f\") > 0) print \"got\", l; print (getline x < \"nope\") }",
        &[],
        "",
        &mut io,
    );
    assert_eq!(out, "got l1\ngot l2\n-1\n");
}

#[test]
fn refused_and_read_only() {
    let mut io = MemIo::default();
    let p = mirage_awk::compile("BEGIN { system(\"id\") }").unwrap();
    let argv = vec![b"awk".to_vec()];
    let r = Interp::new(p, &mut io, &argv, &[], &[]).unwrap().run();
    assert!(matches!(r, Err(mirage_awk::Fatal::Error(_))));
    let p = mirage_awk::compile("BEGIN { print \"x\" > \"/ro/x\" }").unwrap();
    let r = Interp::new(p, &mut io, &argv, &[], &[]).unwrap().run();
    match r {
        Err(mirage_awk::Fatal::Error(m)) => assert!(m.contains("Read-only file system"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn syntax_errors_are_errors() {
    assert!(mirage_awk::compile("{ print ( }").is_err());
    assert!(mirage_awk::compile("BEGIN { f() }").is_err());
    assert!(mirage_awk::compile("{ print \"abc }").is_err());
}

#[test]
fn hostile_programs_fail_cleanly() {
    let argv = vec![b"awk".to_vec()];
    for prog in [
        "BEGIN { $100000000 = 1 }",
        "BEGIN { NF = 1e12 }",
        "BEGIN { print index() }",
        "BEGIN { x = 0; print 1 / x }",
        "BEGIN { printf \"%s %s\", 1 }",
    ] {
        let mut io = MemIo::default();
        let p = mirage_awk::compile(prog).unwrap();
        let r = Interp::new(p, &mut io, &argv, &[], &[]).unwrap().run();
        assert!(
            matches!(r, Err(mirage_awk::Fatal::Error(_))),
            "{prog}: {r:?}"
        );
    }
    // a huge width is clamped, not allocated
    let out = awk("BEGIN { printf \"%*d|\", 1e15, 1 }", "");
    assert_eq!(out.len(), (1 << 24) + 1);
    // a multibyte character after a backslash in a regex literal
    assert_eq!(awk("/a\\é/", "aéb\n"), "aéb\n");
}
