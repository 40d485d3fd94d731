//! Conformance with Cranelift's own runtests: every run command of
//! `../shared/clif-runtests/*.clif` (next to the repository; read in place)
//! whose function is in the supported subset must pass, and at least 95%
//! of the run commands of functions typed `i8` to `i64` must be executed
//! rather than skipped.

mod common;

use std::io::Write as _;

use loweq_runtest::report::{Actual, Outcome};
use loweq_runtest::{skip_reasons, Runner, Totals};

/// Says something that `cargo test` shows even when the test passes
/// (libtest captures `println!`, not writes to the stderr handle).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn cranelift_runtests_pass() {
    let dir = common::root().join("../shared/clif-runtests");
    if !dir.is_dir() {
        say(&format!(
            "conformance: {} does not exist; Cranelift's runtests were NOT run",
            dir.display()
        ));
        return;
    }
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
        "conformance: {} files: {} passed, {} failed, {} skipped; {} of {} run lines of i8..i64 functions executed",
        files.len(),
        t.passed,
        t.failed,
        t.skipped,
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
