#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Runs the whole public conformance corpus and holds it to
//! `fixtures/conformance/known-failures.txt`: a case outside the list must
//! pass, and a case on the list must still fail (so the list only shrinks).

use std::path::PathBuf;

use mirage_conformance::{KnownFailures, RenderOptions, RunOptions, load_cases, run_cases};

#[test]
fn corpus_matches_known_failures() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/conformance");
    let cases = load_cases(&[dir.join("cases")]).expect("loading fixtures/conformance/cases");
    assert!(
        cases.len() >= 570,
        "the public corpus has 570 cases, found {}",
        cases.len()
    );
    let known =
        KnownFailures::load(&dir.join("known-failures.txt")).expect("reading known-failures.txt");

    let report = run_cases(&cases, &RunOptions::default());
    let check = known.check(&report);

    // The table and the last line always; diffs only for the cases that
    // break the rule.
    print!(
        "{}",
        report.render(
            None,
            RenderOptions {
                diff_known: false,
                failures: false
            }
        )
    );
    if !check.is_clean() {
        for r in report
            .results
            .iter()
            .filter(|r| check.unexpected_failures.contains(&r.name))
        {
            eprintln!("FAIL {} [{}]", r.name, r.file);
            for line in r.short_diff().lines() {
                eprintln!("    {line}");
            }
        }
        panic!("\n{}", check.message());
    }
}
