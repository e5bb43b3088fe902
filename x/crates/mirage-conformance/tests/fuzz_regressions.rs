//! Replays every input `cargo xtask fuzz` saved in
//! `fixtures/fuzz/regressions/`: each must now run to its end, under the
//! fuzzer's small limits, without a panic or a hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mirage_conformance::fuzz::HANG_TIMEOUT;

#[test]
fn saved_fuzz_inputs_survive() {
    let dir = mirage_conformance::fixtures_dir()
        .parent()
        .unwrap()
        .join("fuzz/regressions");
    let mut failures = Vec::new();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        n += 1;
        let script = std::fs::read_to_string(&path).unwrap();
        if let Err(why) = mirage_conformance::fuzz::survives(&script, HANG_TIMEOUT) {
            failures.push(format!("{}: {why}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{n} inputs, failing:\n{}",
        failures.join("\n")
    );
}
