//! Data-driven tests: every `.clif` file under `tests/data/` says in its
//! header what running it gives.
//!
//! - `; expect: N passed, N failed, N skipped` (files in `tests/data/`):
//!   the totals of running it through the IR specs, with a step limit of
//!   [`STEPS`] (`, N timed out` is added when a run reaches it);
//! - `; error: LINE:COL MESSAGE` (files in `tests/data/malformed/`): a
//!   diagnostic with that message at that place, one line per diagnostic,
//!   and no others.

mod common;

use std::path::Path;

use loweq_runtest::{Runner, Totals};

/// The step limit of the data-driven runs: far above what the files' short
/// runs need, far below what their long loops take.
const STEPS: usize = 10_000;

fn header(path: &Path, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("a readable test file");
    text.lines()
        .filter_map(|l| l.strip_prefix(key))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn expected_totals() {
    let program = common::program();
    let mut runner = Runner::new(&program).with_step_limit(STEPS);
    let files = common::clif_files(&common::root().join("runtest/tests/data"));
    assert!(files.len() >= 4, "the test data is missing");
    for path in files {
        let want = header(&path, "; expect:");
        assert_eq!(want.len(), 1, "{}: one `; expect:` line", path.display());
        let (sources, report) = common::run(&mut runner, &path);
        let report = match report {
            Ok(r) => r,
            Err(d) => panic!(
                "{} does not parse: {:?}",
                path.display(),
                (sources.len(), d)
            ),
        };
        let t = Totals::of([&report]);
        let mut got = format!(
            "{} passed, {} failed, {} skipped",
            t.passed, t.failed, t.skipped
        );
        if t.timeouts > 0 {
            got += &format!(", {} timed out", t.timeouts);
        }
        assert_eq!(got, want[0], "{}", path.display());
    }
}

#[test]
fn malformed_files_give_diagnostics_at_the_right_place() {
    let program = common::program();
    let mut runner = Runner::new(&program);
    let files = common::clif_files(&common::root().join("runtest/tests/data/malformed"));
    assert!(files.len() >= 4, "the test data is missing");
    for path in files {
        let mut want = header(&path, "; error:");
        assert!(!want.is_empty(), "{}: no `; error:` line", path.display());
        let (sources, report) = common::run(&mut runner, &path);
        let Err(diags) = report else {
            panic!("{} parsed, but should not", path.display());
        };
        let mut got: Vec<String> = diags
            .iter()
            .map(|d| {
                let span = d.span.expect("every diagnostic has a place");
                let (line, col) = sources.file(span.file).line_col(span.start);
                format!("{line}:{col} {}", d.message)
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{}", path.display());
    }
}
