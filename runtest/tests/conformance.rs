//! Conformance with Cranelift's own runtests: every run command of
//! `../shared/clif-runtests/*.clif` (next to the repository; read in place)
//! whose function is in the supported subset must pass, and at least 95%
//! of the run commands of functions typed `i8` to `i64` must be executed
//! rather than skipped.
//!
//! Where the suite is missing the test says so and passes, except under CI
//! (`CI` set to anything but `false` or `0`), where a missing suite fails:
//! CI must not report conformance it did not check.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use loweq_runtest::report::{Actual, Outcome};
use loweq_runtest::{skip_reasons, Runner, Totals};

/// Says something that `cargo test` shows even when the test passes
/// (libtest captures `println!`, not writes to the stderr handle).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Whether the `CI` environment variable says this is a CI run.
fn on_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The suite's directory if it exists; else, under CI, the failure, and
/// elsewhere `None` after printing why the suite is skipped.
fn suite(dir: &Path, ci: bool) -> Result<Option<PathBuf>, String> {
    if dir.is_dir() {
        return Ok(Some(dir.to_path_buf()));
    }
    let why = format!(
        "{} does not exist, so Cranelift's runtests were not run",
        dir.display()
    );
    if ci {
        return Err(format!(
            "conformance: {why}; CI is set, and a CI run must check conformance (put the runtests there, or unset CI)"
        ));
    }
    say(&format!("conformance: SKIPPED: {why}"));
    Ok(None)
}

#[test]
fn a_missing_suite_fails_only_on_ci() {
    let missing = common::root().join("no/such/clif-runtests");
    assert!(suite(&missing, true).is_err());
    assert_eq!(suite(&missing, false), Ok(None));
    assert!(on_ci(Some("true")) && on_ci(Some("1")));
    assert!(!on_ci(None) && !on_ci(Some("false")) && !on_ci(Some("")));
}

#[test]
fn cranelift_runtests_pass() {
    let ci = on_ci(std::env::var("CI").ok().as_deref());
    let dir = match suite(&common::root().join("../shared/clif-runtests"), ci) {
        Ok(Some(dir)) => dir,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let program = common::program();
    let mut runner = Runner::new(&program);
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    let files = common::clif_files(&dir);
    assert!(!files.is_empty(), "no .clif files in {}", dir.display());
    for path in &files {
        let (sources, report) = common::run(&mut runner, path);
        match report {
            Err(diags) => {
                for d in diags {
                    let at = d.span.map(|s| sources.location(s)).unwrap_or_default();
                    problems.push(format!("{at}: {}", d.message));
                }
            }
            Ok(report) => {
                for run in &report.runs {
                    if let Outcome::Fail(f) = &run.outcome {
                        let actual = match &f.actual {
                            Actual::Values(v) => format!("{v:?}"),
                            Actual::Trapped { opcode, .. } => format!("trap in `{opcode}`"),
                            Actual::Error(e) => e.message.clone(),
                        };
                        problems.push(format!(
                            "{}: {} failed: got {actual}",
                            sources.location(run.span),
                            run.text
                        ));
                    }
                }
                reports.push(report);
            }
        }
    }
    let t = Totals::of(&reports);
    say(&format!(
        "conformance: {} files: {} passed, {} failed, {} skipped, {} timed out; {} of {} run lines of i8..i64 functions executed",
        files.len(),
        t.passed,
        t.failed,
        t.skipped,
        t.timeouts,
        t.narrow_executed,
        t.narrow
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        t.narrow_executed * 100 >= t.narrow * 95,
        "only {} of {} run lines of i8..i64 functions executed; skipped: {:?}",
        t.narrow_executed,
        t.narrow,
        skip_reasons(&reports)
    );
}
