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

/// The text toolbox's case files (issue 5): every case of theirs left on
/// the known-failures list says why on its line (`name  # reason`).
#[test]
fn toolbox_failures_have_reasons() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/conformance");
    let known =
        KnownFailures::load(&dir.join("known-failures.txt")).expect("reading known-failures.txt");
    let mut missing = Vec::new();
    for file in [
        "cmd_text_awk.json",
        "cmd_text_sed.json",
        "cmd_jq.json",
        "cmd_diff_cmp_patch.json",
        "cmd_grep_rg.json",
        "cmd_text_misc.json",
        "cmd_text_sort_uniq_cut_tr.json",
    ] {
        let cases = load_cases(&[dir.join("cases").join(file)]).expect("loading a case file");
        for c in cases {
            if known.contains(&c.name) && known.reason(&c.name).is_none() {
                missing.push(c.name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "listed without a reason (add `  # why` after the name): {missing:?}"
    );
}
