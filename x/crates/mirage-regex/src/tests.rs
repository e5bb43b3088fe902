//! Unit tests of the translation and of both engines.

use super::*;

fn bre(p: &str) -> String {
    translate(p, Syntax::Basic).unwrap()
}
fn ere(p: &str) -> String {
    translate(p, Syntax::Extended).unwrap()
}
fn is_match(re: &str, s: &str) -> bool {
    regex::Regex::new(re).unwrap().is_match(s)
}
fn err(p: &str, syntax: Syntax) -> String {
    translate(p, syntax).unwrap_err().message().to_string()
}

#[test]
fn bre_operators_and_literals() {
    assert_eq!(bre(r"fail\(ed\)\? to"), "fail(ed)? to");
    assert_eq!(bre(r"x\{2,\}"), "x{2,}");
    assert_eq!(bre("a+b"), r"a\+b");
    assert_eq!(bre("(a|b){2}"), r"\(a\|b\)\{2\}");
    assert_eq!(bre("*a"), r"\*a");
    assert_eq!(bre("a^b$c"), r"a\^b\$c");
    assert_eq!(bre("^ab$"), "^ab$");
    assert!(is_match(&bre(r"a.b*"), "axbbb"));
    assert!(!is_match(&bre("a+b"), "aab"));
    assert!(is_match(&bre("a+b"), "a+b"));
}

#[test]
fn ere_intervals_and_literal_braces() {
    assert_eq!(ere("x{"), r"x\{");
    assert_eq!(ere("a{,3}"), "a{0,3}");
    assert_eq!(ere("*a"), r"\*a");
    assert!(is_match(
        &ere(r"^[0-9]{1,3}(\.[0-9]{1,3}){3} "),
        "10.0.0.1 - -"
    ));
    assert!(is_match(&ere("WARN|ERROR"), "x ERROR y"));
}

#[test]
fn brackets_and_words() {
    assert_eq!(bre(r"[a\]"), r"[a\\]");
    assert!(is_match(&bre("[]x]"), "]"));
    assert!(is_match(&bre("[[:digit:]]+"), "5+"));
    assert!(is_match(&ere(r"\<ab\>"), "x ab y"));
    assert!(!is_match(&ere(r"\<ab\>"), "xab"));
    assert!(translate("[abc", Syntax::Basic).is_err());
}

#[test]
fn errors_are_gnu_messages() {
    assert_eq!(err(r"a\(", Syntax::Basic), r"Unmatched ( or \(");
    assert_eq!(err(r"x\{2", Syntax::Basic), r"Unmatched \{");
    assert_eq!(err("a(", Syntax::Extended), r"Unmatched ( or \(");
    assert_eq!(err(r"a\)", Syntax::Basic), r"Unmatched ) or \)");
    assert_eq!(
        err("[[:nope:]]", Syntax::Basic),
        "Invalid character class name"
    );
    assert_eq!(err("[ab", Syntax::Basic), "Unmatched [, [^, [:, [., or [=");
    assert_eq!(err("ab\\", Syntax::Basic), "Trailing backslash");
    let e = translate(r"\(a\)\1", Syntax::Basic).unwrap_err();
    assert_eq!(e.kind(), RegexErrorKind::BackReference);
    assert_eq!(e.to_string(), e.message());
}

#[test]
fn literal_matches_raw_bytes() {
    let re = regex::bytes::Regex::new(&literal("a.b*")).unwrap();
    assert!(re.is_match(b"xa.b*") && !re.is_match(b"axbbb"));
    // an escaped byte of the lossless string form matches the raw byte
    let pat = mirage_types::bytestr::decode(b"x\xffy").into_owned();
    let re = regex::bytes::Regex::new(&literal(&pat)).unwrap();
    assert!(re.is_match(b"-x\xffy-"));
    let re = PosixRegex::new(&pat, Syntax::Basic, &Options::default()).unwrap();
    assert_eq!(re.find_at(b"ax\xffy", 0), Some(1..4));
}

#[test]
fn back_references() {
    let o = Options::default();
    let p = backref::Program::new("^\\(a\\|b\\)*\\1$", Syntax::Basic, &o).unwrap();
    assert_eq!(p.find_at(b"abb", 0), Some((0, 3)));
    assert_eq!(p.find_at(b"ab", 0), None);
    let re = PosixRegex::new("(.)\\1", Syntax::Extended, &o).unwrap();
    assert!(re.uses_backrefs());
    assert!(re.is_match(b"hello") && !re.is_match(b"world"));
    assert_eq!(re.find_at(b"book", 0), Some(1..3));
    let c = re.captures_at(b"book", 0).unwrap();
    assert_eq!((c.get(0), c.get(1), c.len()), (Some(1..3), Some(1..2), 2));
    let icase = Options {
        ignore_case: true,
        ..Options::default()
    };
    let re = PosixRegex::new("\\(O\\)\\1", Syntax::Basic, &icase).unwrap();
    assert!(re.is_match(b"bOok"));
    let err = PosixRegex::new("\\(a\\1", Syntax::Basic, &o).unwrap_err();
    assert_eq!(err.message(), r"Unmatched ( or \(");
}

#[test]
fn fast_engine_options_and_captures() {
    let o = Options::default();
    let re = PosixRegex::new(r"\([a-z]*\)=\([0-9]*\)", Syntax::Basic, &o).unwrap();
    assert!(!re.uses_backrefs());
    assert_eq!(re.group_count(), 3);
    let c = re.captures_at(b"  key=42;", 0).unwrap();
    assert_eq!(
        (c.get(0), c.get(1), c.get(2)),
        (Some(2..8), Some(2..5), Some(6..8))
    );
    let whole = Options {
        whole_line: true,
        ..o
    };
    let re = PosixRegex::new(".*/[0-9]+\\.txt", Syntax::Extended, &whole).unwrap();
    assert!(re.is_match(b"./d/12.txt") && !re.is_match(b"./d/12.txt~"));
    let word = Options { word: true, ..o };
    let re = PosixRegex::new("ab", Syntax::Basic, &word).unwrap();
    assert!(re.is_match(b"x ab y") && !re.is_match(b"xab"));
    let icase = Options {
        ignore_case: true,
        ..o
    };
    assert!(
        PosixRegex::new("ERROR", Syntax::Basic, &icase)
            .unwrap()
            .is_match(b"an error")
    );
    assert_eq!(
        PosixRegex::new("a{1,2", Syntax::Extended, &o)
            .unwrap()
            .find_at(b"xa{1,2", 0),
        Some(1..6)
    );
}

fn posix_find(p: &str, syntax: Syntax, h: &str) -> Option<(usize, usize)> {
    PosixRegex::new(p, syntax, &Options::default())
        .unwrap()
        .find_at(h.as_bytes(), 0)
        .map(|r| (r.start, r.end))
}

#[test]
fn leftmost_longest_ends_as_posix() {
    // the regex crate alone would stop at the first alternative
    assert_eq!(posix_find("a|ab", Syntax::Extended, "abcd"), Some((0, 2)));
    assert_eq!(posix_find(r"a\|ab", Syntax::Basic, "xabcd"), Some((1, 3)));
    assert_eq!(
        posix_find("(a*)(ab)*", Syntax::Extended, "aab"),
        Some((0, 3))
    );
    // the back-reference engine tries every path
    assert_eq!(
        posix_find(r"\(a\|ab\)\1*", Syntax::Basic, "abab"),
        Some((0, 4))
    );
    // a plain pattern gets no twin and keeps its match
    assert!(longest::Longest::new("foo", false).is_none());
    assert!(longest::Longest::new("a{3}", false).is_none());
    assert!(longest::Longest::new("a|ab", false).is_some());
    assert_eq!(posix_find("o+", Syntax::Extended, "foo"), Some((1, 3)));
}

#[test]
fn leftmost_longest_groups() {
    let re = PosixRegex::new("(abc|ab)(cab)?", Syntax::Extended, &Options::default()).unwrap();
    let c = re.captures_at(b"xyz abcabc", 0).unwrap();
    assert_eq!(c.get(0), Some(4..9));
    assert_eq!(c.get(1), Some(4..6));
    assert_eq!(c.get(2), Some(6..9));
    // when leftmost-first is already longest its groups stand
    let c = re.captures_at(b"abc", 0).unwrap();
    assert_eq!(
        (c.get(0), c.get(1), c.get(2)),
        (Some(0..3), Some(0..3), None)
    );
    // anchors still see the bytes before the start
    let re = PosixRegex::new(r"\<(a|ab)", Syntax::Extended, &Options::default()).unwrap();
    assert_eq!(re.find_at(b"cab ab", 1), Some(4..6));
}
