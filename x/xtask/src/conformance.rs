//! `cargo xtask conformance`.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use mirage_conformance::{KnownFailures, RenderOptions, RunOptions, load_cases, run_cases_with};

#[derive(clap::Args)]
pub struct Args {
    /// Case files or directories of `*.json` case files
    /// [default: fixtures/conformance/cases].
    paths: Vec<PathBuf>,
    /// Rewrite fixtures/conformance/known-failures.txt from this run: cases
    /// that ran take their new status, other entries stay.
    #[arg(long)]
    write_known_failures: bool,
    /// Only run cases whose name contains this text.
    #[arg(short = 'k', long)]
    filter: Option<String>,
    /// Only run cases with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Cases run at the same time [default: number of CPUs].
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Seconds one case may take.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Name failures on the known-failures list without their diffs.
    #[arg(long)]
    brief_known: bool,
    /// Print only the per-file table and the last line.
    #[arg(long)]
    summary: bool,
    /// Let panics inside cases print their messages and backtraces as they
    /// happen (by default the report shows the message).
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let fixtures = crate::repo_root().join("fixtures/conformance");
    let known_path = fixtures.join("known-failures.txt");
    let paths = if args.paths.is_empty() {
        vec![fixtures.join("cases")]
    } else {
        args.paths.clone()
    };
    let mut cases = load_cases(&paths)?;
    if let Some(f) = &args.filter {
        cases.retain(|c| c.name.contains(f.as_str()));
    }
    if let Some(t) = &args.tag {
        cases.retain(|c| c.tags.iter().any(|x| x == t));
    }
    let known = KnownFailures::load(&known_path)
        .with_context(|| format!("reading {}", known_path.display()))?;

    if !args.verbose {
        quiet_case_panics();
    }
    let mut opts = RunOptions {
        timeout: Duration::from_secs(args.timeout),
        ..RunOptions::default()
    };
    if let Some(j) = args.jobs {
        opts.jobs = j.max(1);
    }
    let total = cases.len();
    let show_progress = std::io::stderr().is_terminal();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_: &mirage_conformance::CaseResult| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if show_progress && (n.is_multiple_of(50) || n == total) {
            eprint!("\rconformance: {n}/{total} cases run");
            if n == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    };
    let report = run_cases_with(&cases, &opts, &progress);

    let render = RenderOptions {
        diff_known: !args.brief_known,
        failures: !args.summary,
    };
    print!("{}", report.render(Some(&known), render));

    if args.write_known_failures {
        let mut next = known.updated(&report);
        // Group entries by case file, looking names up in the whole corpus
        // so entries from files that did not run keep their heading; drop
        // names that no longer name a case.
        let mut file_of: BTreeMap<String, String> = BTreeMap::new();
        if let Ok(all) = load_cases(&[fixtures.join("cases")]) {
            for c in all {
                file_of.insert(c.name, c.file);
            }
            for c in &cases {
                file_of.insert(c.name.clone(), c.file.clone());
            }
            let gone: Vec<String> = next
                .names()
                .filter(|n| !file_of.contains_key(*n))
                .map(String::from)
                .collect();
            for n in gone {
                next.remove(&n);
            }
        }
        for c in &cases {
            file_of.insert(c.name.clone(), c.file.clone());
        }
        std::fs::write(&known_path, next.render(&file_of))
            .with_context(|| format!("writing {}", known_path.display()))?;
        eprintln!("wrote {} ({} cases)", known_path.display(), next.len());
        return Ok(ExitCode::SUCCESS);
    }

    let check = known.check(&report);
    Ok(if check.unexpected_failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Keeps panics on case threads (named `case …`) from printing: the report
/// carries their message.
fn quiet_case_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_case = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("case "));
        if !on_case {
            default(info);
        }
    }));
}
