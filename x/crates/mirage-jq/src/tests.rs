//! Runs of [`crate::run`] over in-memory input.

use super::*;

struct Capture {
    out: Vec<u8>,
    err: Vec<u8>,
}

impl Output for Capture {
    fn stdout(&mut self, bytes: &[u8]) -> bool {
        self.out.extend_from_slice(bytes);
        true
    }
    fn stderr(&mut self, bytes: &[u8]) {
        self.err.extend_from_slice(bytes);
    }
}

fn jq(cfg: &Config, input: &str) -> (String, String, i32) {
    let mut events = vec![
        InputEvent::File("<stdin>".to_string()),
        InputEvent::Data(input.as_bytes().to_vec()),
    ]
    .into_iter();
    let mut cap = Capture {
        out: Vec::new(),
        err: Vec::new(),
    };
    let status = run(cfg, Box::new(move || events.next()), &mut cap);
    (
        String::from_utf8_lossy(&cap.out).into_owned(),
        String::from_utf8_lossy(&cap.err).into_owned(),
        status,
    )
}

fn cfg(filter: &str) -> Config {
    Config {
        filter: filter.to_string(),
        ..Config::default()
    }
}

#[test]
fn pretty_and_compact() {
    let (out, _, st) = jq(&cfg("."), r#"{"a":[1,{"b":null}],"c":{}}"#);
    assert_eq!(
        out,
        "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {}\n}\n"
    );
    assert_eq!(st, 0);
    let mut c = cfg(".");
    c.format.indent = None;
    assert_eq!(jq(&c, "[1, 2.0]").0, "[1,2]\n");
}

#[test]
fn errors_and_statuses() {
    let (out, err, st) = jq(&cfg(".a"), "[1]\n");
    assert_eq!((out.as_str(), st), ("", 5));
    assert_eq!(
        err,
        "jq: error (at <stdin>:1): Cannot index array with string \"a\"\n"
    );
    let (_, err, st) = jq(&cfg("foo"), "1");
    assert_eq!(st, 3);
    assert_eq!(
        err,
        "jq: error: foo/0 is not defined at <top-level>, line 1:\nfoo\njq: 1 compile error\n"
    );
    let (_, err, st) = jq(&cfg("error(\"boom\")"), "\"x\"\n");
    assert_eq!((err.as_str(), st), ("jq: error (at <stdin>:1): boom\n", 5));
    let (out, err, st) = jq(&cfg("."), "1 {bad");
    assert_eq!((out.as_str(), st), ("1\n", 4));
    assert!(err.starts_with("parse error: "), "{err}");
    let mut e = cfg(".");
    e.exit_status = true;
    assert_eq!(jq(&e, "1 null").2, 1);
    assert_eq!(jq(&e, "").2, 4);
    assert_eq!(jq(&cfg("\"bye\\n\" | halt_error(3)"), "1").1, "bye\n");
    assert_eq!(jq(&cfg("halt_error(3)"), "1").2, 3);
}

#[test]
fn env_is_the_given_one() {
    let mut c = cfg("$ENV.HOME, env.HOME");
    c.env = vec![("HOME".to_string(), "/data".to_string())];
    assert_eq!(jq(&c, "null").0, "\"/data\"\n\"/data\"\n");
}

#[test]
fn inputs_and_slurp() {
    let mut c = cfg("[., input]");
    c.format.indent = None;
    assert_eq!(jq(&c, "1 2 3 4").0, "[1,2]\n[3,4]\n");
    let mut s = cfg("add");
    s.slurp = true;
    assert_eq!(jq(&s, "1 2 3").0, "6\n");
    let mut r = cfg(".");
    r.raw_input = true;
    assert_eq!(jq(&r, "a\nb").0, "\"a\"\n\"b\"\n");
}

#[test]
fn error_wording_as_jq_1_6() {
    // Each message was printed by jq 1.6.
    let err = |f: &str| {
        let mut c = cfg(f);
        c.null_input = true;
        jq(&c, "").1
    };
    assert_eq!(
        err("1 + \"a\""),
        "jq: error (at <unknown>): number (1) and string (\"a\") cannot be added\n"
    );
    assert_eq!(
        err("{} - 1"),
        "jq: error (at <unknown>): object ({}) and number (1) cannot be subtracted\n"
    );
    assert_eq!(
        err("\"abcdefghijklmnop\" | .[]"),
        "jq: error (at <unknown>): Cannot iterate over string (\"abcdefghij...)\n"
    );
    assert_eq!(
        err("1 | .[]"),
        "jq: error (at <unknown>): Cannot iterate over number (1)\n"
    );
}

#[test]
fn stream_events_as_jq_1_6() {
    let mut c = cfg(".");
    c.stream = true;
    c.format.indent = None;
    // Printed by jq 1.6 `--stream -c .`.
    assert_eq!(
        jq(&c, r#"{"a":[1,{"b":2}],"c":[]} 3 []"#).0,
        "[[\"a\",0],1]\n[[\"a\",1,\"b\"],2]\n[[\"a\",1,\"b\"]]\n[[\"a\",1]]\n[[\"c\"],[]]\n[[\"c\"]]\n[[],3]\n[[],[]]\n"
    );
}
