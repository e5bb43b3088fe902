//! The behaviour suite for every resource linked into the facade: one test
//! per resource and check (`ram::write_read`, `disk::range_read`, …), each
//! on a fresh scratch instance made from the registration's `test_config`
//! and `build`. A registered resource cannot skip it, and a resource crate
//! in `crates/` that the facade does not link fails
//! `every_resource_crate_is_linked`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mirage_ops::Resource;
use mirage_types::{MountMode, Vfs};
use mirage_workspace::{Mount, Router};

fn mount_read_only(res: Arc<dyn Resource>) -> mirage_types::Result<Arc<dyn Vfs>> {
    Ok(Arc::new(Router::new(vec![Mount::new(
        "/",
        res,
        MountMode::Read,
    )])?))
}

/// Every `crates/mirage-resource-*` crate is a dependency of the facade, so
/// its registration is linked here and it runs the suite.
fn every_resource_crate_is_linked() -> Result<(), Failed> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))?;
    let mut missing = Vec::new();
    for e in std::fs::read_dir(dir.join(".."))? {
        let name = e?.file_name().to_string_lossy().into_owned();
        if name.starts_with("mirage-resource-") && !manifest.contains(&format!("{name} =")) {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "resource crates not linked into the facade (crates/mirage/Cargo.toml), so they skip the behaviour suite: {missing:?}"
        )
        .into())
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // The large-read check measures this process's peak memory: one check
    // at a time (nextest runs each test in its own process anyway).
    args.test_threads = Some(1);
    let mut trials = vec![Trial::test(
        "every_resource_crate_is_linked",
        every_resource_crate_is_linked,
    )];
    // Linking the facade links its resources (and so their registrations).
    mirage::link_resources();
    // the docs' worked example is a dev-dependency only (no facade feature)
    std::hint::black_box(mirage_resource_example::ExampleResource::new as fn(&_) -> _);
    let types = mirage_ops::resource_types();
    trials.push(Trial::test("some_resource_is_registered", move || {
        if types.is_empty() {
            Err("no resource registered".into())
        } else {
            Ok(())
        }
    }));
    for reg in mirage_ops::resource_types() {
        trials.extend(mirage_ops::testsuite::trials(reg, mount_read_only));
    }
    libtest_mimic::run(&args, trials).exit();
}
