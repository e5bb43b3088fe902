//! Unit tests of the sed compiler and executor. GNU's answers for the
//! same scripts are in the oracle cases (`cmd_text_sed.json`,
//! `mirage_regressions_sed.json`); these pin the pieces.

use super::parse::{self, Kind, Origin, Piece};
use super::run;
use crate::util::testing::{MemVfs, run as run_cmd};

fn sed(args: &[&str], stdin: &str) -> (String, String, i32) {
    let v = MemVfs::with(&[("/f.txt", "one\ntwo\nthree\n")]);
    run_cmd(&v, run, "sed", args, "/", stdin)
}

/// The message and location GNU gives for a bad script.
fn compile_err(script: &str) -> String {
    let pieces = [Piece {
        origin: Origin::Expr(1),
        text: script.to_string(),
    }];
    match parse::compile(script, false, false) {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("{}{}", parse::locate(&pieces, e.pos), e.msg),
    }
}

#[test]
fn compile_errors_carry_gnu_positions() {
    assert_eq!(
        compile_err("s/a/b"),
        "-e expression #1, char 5: unterminated `s' command"
    );
    assert_eq!(
        compile_err("k"),
        "-e expression #1, char 1: unknown command: `k'"
    );
    assert_eq!(
        compile_err("1,2,3p"),
        "-e expression #1, char 4: unknown command: `,'"
    );
    assert_eq!(compile_err("{p"), "-e expression #1, char 0: unmatched `{'");
    assert_eq!(
        compile_err("p}"),
        "-e expression #1, char 2: unexpected `}'"
    );
    assert_eq!(
        compile_err("pq"),
        "-e expression #1, char 2: extra characters after command"
    );
    assert_eq!(
        compile_err("s/x/y/gg"),
        "-e expression #1, char 8: multiple `g' options to `s' command"
    );
    assert_eq!(
        compile_err("s/x/\\1/"),
        "-e expression #1, char 7: invalid reference \\1 on `s' command's RHS"
    );
    assert_eq!(
        compile_err("b nowhere"),
        "can't find label for jump to `nowhere'"
    );
    assert_eq!(
        compile_err("0p"),
        "-e expression #1, char 2: invalid usage of line address 0"
    );
    assert_eq!(compile_err("0,/x/p"), "ok");
}

#[test]
fn error_location_in_a_later_expression_or_a_file() {
    let pieces = [
        Piece {
            origin: Origin::Expr(1),
            text: "p".into(),
        },
        Piece {
            origin: Origin::Expr(2),
            text: "s/a/b".into(),
        },
    ];
    assert_eq!(
        parse::locate(&pieces, Some(7)),
        "-e expression #2, char 5: "
    );
    let file = [Piece {
        origin: Origin::File("x.sed".into()),
        text: "p\ns/a/b".into(),
    }];
    assert_eq!(parse::locate(&file, Some(7)), "file x.sed line 2: ");
}

#[test]
fn e_is_refused_at_compile_time() {
    for s in ["e", "1e ls", "s/a/b/e"] {
        let e = compile_err(s);
        assert!(e.contains("disabled in mirage"), "{s}: {e}");
    }
}

#[test]
fn blocks_and_branches_know_their_targets() {
    let s = parse::compile(":a\n/x/{p;b a\n}\nd", false, false).unwrap();
    let kinds: Vec<String> = s
        .cmds
        .iter()
        .map(|c| match &c.kind {
            Kind::Block(t) => format!("{{->{t}"),
            Kind::Branch(_, t) => format!("b->{t}"),
            Kind::Nop => "nop".into(),
            Kind::Print => "p".into(),
            Kind::Delete => "d".into(),
            k => format!("{k:?}"),
        })
        .collect();
    assert_eq!(kinds, ["nop", "{->5", "p", "b->0", "nop", "d"]);
}

#[test]
fn hash_n_first_line_means_quiet() {
    assert!(parse::compile("#n\np", false, false).unwrap().hash_n);
    assert!(!parse::compile("#no\np", false, false).unwrap().hash_n);
    assert_eq!(sed(&["#n\n2p", "/f.txt"], "").0, "two\n");
}

#[test]
fn list_escapes_and_wraps() {
    assert_eq!(
        super::exec::list(b"a\tb\\\x01\n", 70),
        b"a\\tb\\\\\\001\\n$\n"
    );
    assert_eq!(super::exec::list(b"abcdefgh", 5), b"abcd\\\nefgh$\n");
    assert_eq!(super::exec::list(b"\xc3\xa9", 0), b"\\303\\251$\n");
}

#[test]
fn substitution_flags_and_case() {
    assert_eq!(sed(&["s/o/0/2"], "foo boo\n").0, "fo0 boo\n");
    assert_eq!(sed(&["s/o/0/2g"], "foo boo\n").0, "fo0 b00\n");
    assert_eq!(sed(&["s/x*/-/g"], "abc\n").0, "-a-b-c-\n");
    assert_eq!(
        sed(&["-E", r"s/(\w+) (\w+)/\u\2 \U\1/"], "ab cd\n").0,
        "Cd AB\n"
    );
    assert_eq!(sed(&[r"s/.*/\L\u&/"], "hELLO\n").0, "Hello\n");
    assert_eq!(sed(&["s/É/e/I"], "é\n").0, "e\n");
    assert_eq!(sed(&["N;s/a.b/X/"], "a\nb\n").0, "X\n");
}

#[test]
fn bytes_pass_through_unchanged() {
    let v = MemVfs::with(&[]);
    let (out, _, code) = run_cmd(&v, run, "sed", &["s/b/B/"], "/", "a\u{0}b\n");
    assert_eq!((out.as_str(), code), ("a\u{0}B\n", 0));
    assert_eq!(sed(&["p"], "x").0, "x\nx");
}

#[test]
fn in_place_and_exit_codes() {
    let v = MemVfs::with(&[("/f.txt", "one\ntwo\n")]);
    let r = run_cmd(&v, run, "sed", &["-i.bak", "s/one/1/", "/f.txt"], "/", "");
    assert_eq!(r, (String::new(), String::new(), 0));
    let r = run_cmd(
        &v,
        run,
        "sed",
        &["-n", "p", "/f.txt", "/f.txt.bak"],
        "/",
        "",
    );
    assert_eq!(r.0, "1\ntwo\none\ntwo\n");
    let r = run_cmd(&v, run, "sed", &["p", "/nope"], "/", "");
    assert_eq!(
        r,
        (
            String::new(),
            "sed: can't read /nope: No such file or directory\n".into(),
            2
        )
    );
    let r = run_cmd(&v, run, "sed", &["-i", "p", "/ro/x"], "/", "");
    assert_eq!(r.2, 2, "{}", r.1);
    assert_eq!(sed(&["2q7", "/f.txt"], "").2, 7);
    assert_eq!(sed(&["s/a/b"], "").2, 1);
}

#[test]
fn runaway_growth_stops_with_gnu_words() {
    let (out, err, code) = sed(&[":a;s/^.*$/&&/;ba"], "x\n");
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "sed: couldn't re-allocate memory\n", 4)
    );
    let (_, err, code) = sed(&["H;G;:a;x;H;x;ba"], "abc\n");
    assert_eq!(
        (err.as_str(), code),
        ("sed: couldn't re-allocate memory\n", 4)
    );
}

#[test]
fn a_large_w_file_is_written_in_pieces_and_whole() {
    let v = MemVfs::with(&[]);
    let line = "0123456789abcdef0123456789abcdef0123456789abcdef012345678\n";
    let input = line.repeat(40_000); // 2.3 MB, past the 1 MiB piece
    let r = run_cmd(&v, run, "sed", &["-n", "w /out"], "/", &input);
    assert_eq!(r, (String::new(), String::new(), 0));
    let r = run_cmd(&v, run, "sed", &["-n", "$=;1p", "/out"], "/", "");
    assert_eq!(r.0, format!("{line}40000\n"));
    let r = run_cmd(&v, run, "sed", &["-n", "w /ro/out"], "/", "x\n");
    assert_eq!(r.2, 4, "{}", r.1);
    assert!(r.1.contains("Read-only file system"), "{}", r.1);
}
