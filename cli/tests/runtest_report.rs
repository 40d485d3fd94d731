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

/// Runs texts given inline, as files named `name`.
fn run_inline(files: &[(&str, &str)]) -> (String, u8) {
    let program = match ir_program() {
        Ok(p) => p,
        Err(d) => panic!("the shipped IR specs do not load: {d:?}"),
    };
    let inputs = files
        .iter()
        .map(|(name, text)| (name.to_string(), Ok(text.to_string())))
        .collect();
    let run = run_texts(&program, inputs);
    (report(&run, false), run.exit_code())
}

#[test]
fn a_file_without_run_commands_checks_nothing_and_is_not_a_success() {
    // A `; run` line missing its colon is a comment: the file ran nothing
    // and `loweq runtest` said `0 passed, 0 failed, 0 skipped`, exit 0.
    let text = "test interpret\nfunction %f(i8) -> i8 {\nblock0(v0: i8):\n    return v0\n}\n; run %f(1) == 1\n";
    let (text, code) = run_inline(&[("typo.clif", text)]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(
        text,
        "\nerror: nothing was run: the files have no `; run:` command\n0 passed, 0 failed, 0 skipped\n"
    );
}

#[test]
fn a_run_whose_commands_are_all_skipped_is_not_a_success() {
    let text = "test interpret\nfunction %f(f32) -> f32 {\nblock0(v0: f32):\n    return v0\n}\n; run: %f(0x1.0) == 0x1.0\n";
    let (text, code) = run_inline(&[("floats.clif", text)]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(
            "error: nothing was run: the one run command was skipped, for the reasons above"
        ),
        "{text}"
    );
    // One command that runs makes the run a success again.
    let fine = "test interpret\nfunction %g(i8) -> i8 {\nblock0(v0: i8):\n    return v0\n}\n; run: %g(1) == 1\n";
    let (text, code) = run_inline(&[
        ("floats.clif", "test interpret\nfunction %f(f32) -> f32 {\nblock0(v0: f32):\n    return v0\n}\n; run: %f(0x1.0) == 0x1.0\n"),
        ("fine.clif", fine),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("nothing was run"), "{text}");
}
