//! Snapshots of the text report of `loweq runtest` on the test data of the
//! runtest crate: a failing run, skipped functions, a malformed file.

use std::path::Path;

use loweq::runtest::{ir_program, report, run_texts};

/// Runs files (paths relative to the workspace root, shown that way) and
/// returns the report and the exit code.
fn run(files: &[&str]) -> (String, u8) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the CLI crate is in the workspace");
    let program = match ir_program() {
        Ok(p) => p,
        Err(d) => panic!("the shipped IR specs do not load: {d:?}"),
    };
    let inputs = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(root.join(f)).map_err(|e| e.to_string());
            (f.to_string(), text)
        })
        .collect();
    let run = run_texts(&program, inputs);
    (report(&run, false), run.exit_code())
}

#[test]
fn failing_runs() {
    let (text, code) = run(&["runtest/tests/data/fail.clif"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(text);
}

#[test]
fn skipped_runs() {
    let (text, code) = run(&["runtest/tests/data/skips.clif"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn malformed_file() {
    let (text, code) = run(&[
        "runtest/tests/data/malformed/run_line.clif",
        "runtest/tests/data/malformed/semantic.clif",
        "runtest/tests/data/control.clif",
    ]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(text);
}

#[test]
fn unreadable_file() {
    let (text, code) = run(&["runtest/tests/data/no-such-file.clif"]);
    assert_eq!(code, 2);
    assert!(text.contains("error: cannot read `runtest/tests/data/no-such-file.clif`"));
    assert!(text.ends_with("0 passed, 0 failed, 0 skipped\n"), "{text}");
}
