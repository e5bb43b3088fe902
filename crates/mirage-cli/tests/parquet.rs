#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `parquet` filetype override the CLI enables: `cat`, `head` and
//! `wc -l` on `*.parquet` read the file and print rows as JSON lines
//! (fixtures/parquet, written by pyarrow).

use std::path::Path;
use std::process::{Command, Output};

fn mirage(line: &str) -> (String, String, i32) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/parquet");
    let o: Output = Command::new(env!("CARGO_BIN_EXE_mirage"))
        .current_dir(root)
        .args(["execute", "-c", line])
        .output()
        .unwrap();
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
        o.status.code().unwrap_or(-1),
    )
}

#[test]
fn cat_head_and_wc_print_rows() {
    let (out, err, code) = mirage("cat users.parquet");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 25);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"id": 1, "name": "user1", "score": 1.5, "active": false})
    );
    let last: serde_json::Value = serde_json::from_str(lines[24]).unwrap();
    assert_eq!(last["id"], 25);
    assert_eq!(last["active"], false);

    let (out, _, code) = mirage("head -n 2 users.parquet");
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2);
    assert!(out.starts_with("{\"id\":1,"), "{out}");
    assert_eq!(mirage("head users.parquet | wc -l").0, "10\n");
    let third = mirage("head -3 small_gzip.parquet | tail -1").0;
    assert!(third.contains("\"user3\""), "{third}");

    assert_eq!(mirage("wc -l users.parquet").0, "25 users.parquet\n");
    assert_eq!(
        mirage("wc -l users.parquet small_gzip.parquet").0,
        "25 users.parquet\n 3 small_gzip.parquet\n28 total\n"
    );
    // other wc options count the file as bytes, as the general wc does
    assert_eq!(mirage("wc -c users.parquet").0, "1587 users.parquet\n");
    // a pipeline gets JSON it can query
    assert_eq!(
        mirage("cat users.parquet | jq -c 'select(.id == 4) | .name'").0,
        "\"user4\"\n"
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (out, err, code) = mirage("cat README.md > /tmp/x.parquet; cat /tmp/x.parquet");
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(err.contains("/tmp/x.parquet: not a parquet file"), "{err}");
    let (_, err, code) = mirage("cat -n users.parquet");
    assert_eq!(code, 1);
    assert!(err.contains("unsupported on a parquet file"), "{err}");
    let (_, err, code) = mirage("head -n 1 missing.parquet");
    assert_eq!(code, 1);
    assert!(err.contains("missing.parquet"), "{err}");
}
