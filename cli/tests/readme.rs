//! The README works as written (issue 7): every `loweq` command of its
//! `sh` blocks runs and exits as documented, or is on the list below of
//! commands this test does not run, with the reason; and the rule of
//! "Adding a rule" verifies, also next to every shipped AArch64 rule (it
//! must not overlap one).
//!
//! Files a command names that are the reader's own (`my_rules.isle`) are
//! stood in for by the rule of "Adding a rule" or a test case; outputs go
//! to a scratch directory. Commands that verify all shipped rules run with
//! `--rule iadd` added, which checks their flags and output without the
//! minutes of a full run (the full run is `cli::shipped_rules_verify_and_exit_0`).

mod common;

use std::path::PathBuf;

use common::{loweq_limited, root, scratch};

/// Commands of the README this test does not run, with the reason.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo run --release -- verify",
        "a release build inside the test suite; `loweq verify` is run by cli::shipped_rules_verify_and_exit_0",
    ),
    ("cargo test", "this is the test suite"),
    (
        "loweq conform",
        "every instruction at 10,000 vectors, minutes; tests/conform_cli.rs runs conform",
    ),
    (
        "loweq conform --bench",
        "a benchmark of every instruction, minutes",
    ),
    (
        "loweq coverage --arch x64",
        "verifies every shipped x86-64 rule, minutes in a debug build; tests/coverage.rs runs coverage",
    ),
    (
        "loweq coverage --format json",
        "verifies every shipped rule, minutes in a debug build; tests/coverage.rs runs coverage",
    ),
];

/// The exit statuses a command documents: `coverage` exits 1 while some
/// operation is not covered, which a single rule's table always has.
fn documented_exits(args: &[String]) -> &'static [i32] {
    match args.first().map(String::as_str) {
        Some("coverage") => &[0, 1],
        _ => &[0],
    }
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The commands of the README's `sh` blocks: continuation lines joined,
/// comments dropped.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = t == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let code = t.split(" #").next().unwrap_or("").trim();
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head.trim());
            pending.push(' ');
            continue;
        }
        pending.push_str(code);
        if !pending.is_empty() {
            out.push(std::mem::take(&mut pending));
        }
    }
    out
}

/// The rule of "Adding a rule": the README's one `lisp` block.
fn example_rule(text: &str) -> String {
    let start = text.find("```lisp").expect("a lisp block") + "```lisp".len();
    let end = start + text[start..].find("```").expect("closed");
    text[start..end]
        .lines()
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n")
}

fn rule_name(rule: &str) -> String {
    rule.split_whitespace()
        .nth(1)
        .expect("a rule name")
        .to_string()
}

/// The example rule in a scratch file. Tests run in parallel and each
/// writes it: written beside and renamed into place, so that no test reads
/// it half written (an empty file has no rules).
fn example_file() -> PathBuf {
    let dir = scratch("readme");
    let path = dir.join("my_rules.isle");
    let tmp = dir.join(format!("my_rules.isle.{:?}", std::thread::current().id()));
    std::fs::write(&tmp, example_rule(&readme())).expect("writable scratch");
    std::fs::rename(&tmp, &path).expect("renamed into place");
    path
}

/// The arguments to run for a README command, or `None` for one that is
/// not a `loweq` command.
fn arguments(cmd: &str, example: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    if words.first() != Some(&"loweq") {
        return None;
    }
    let out_dir = scratch("readme");
    let mut args: Vec<String> = Vec::new();
    for w in &words[1..] {
        let w = match *w {
            "my_rules.isle" | "my.isle" | "my_rule.isle" => example.to_string(),
            "my_test.isle" => "tests/cases/verify/provide_pass.isle".to_string(),
            g if g.contains("clif-runtests") => "runtest/tests/data/control.clif".to_string(),
            o if o.contains('=') && o.contains("loweq.") => {
                let (format, file) = o.split_once('=').expect("FORMAT=FILE");
                format!("{format}={}", out_dir.join(file).display())
            }
            other => other.to_string(),
        };
        args.push(w);
    }
    let full_verify = args.first().map(String::as_str) == Some("verify")
        && !args.iter().any(|a| a.ends_with(".isle"));
    if full_verify {
        args.extend(["--rule".to_string(), "iadd".to_string()]);
    }
    Some(args)
}

#[test]
fn every_command_of_the_readme_runs_or_says_why_not() {
    let text = readme();
    let example = example_file().display().to_string();
    let mut ran = 0;
    for cmd in commands(&text) {
        if let Some((_, why)) = NOT_RUN.iter().find(|(c, _)| *c == cmd) {
            assert!(!why.is_empty());
            continue;
        }
        let args = arguments(&cmd, &example).unwrap_or_else(|| {
            panic!(
                "README command `{cmd}` is neither run here nor listed in NOT_RUN with the reason"
            )
        });
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = loweq_limited(&refs);
        let (out, err) = (o.stdout(), o.stderr());
        assert!(
            o.code()
                .is_some_and(|c| documented_exits(&args).contains(&c)),
            "README command `{cmd}` (run as loweq {args:?}) exited {:?}:\n{out}\n{err}",
            o.code()
        );
        assert!(!err.contains("panicked"), "`{cmd}`: {err}");
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} README commands ran");
}

#[test]
fn the_rule_of_adding_a_rule_verifies_alone_and_with_the_shipped_rules() {
    let text = readme();
    let rule = example_rule(&text);
    let name = rule_name(&rule);
    let file = example_file().display().to_string();
    // Alone, against AArch64's shipped semantics (step 3).
    let o = loweq_limited(&["verify", "--arch", "aarch64", &file]);
    let out = o.stdout();
    assert_eq!(o.code(), Some(0), "{out}{}", o.stderr());
    assert!(out.contains(&format!("[aarch64] {name} (")), "{out}");
    assert!(out.contains("verified at"), "{out}");
    // Put with the shipped rules (step 1), it overlaps none of them, and
    // `--rule` finds it (step 3's last command).
    let mut args: Vec<String> = vec!["verify".into(), "--arch".into(), "aarch64".into()];
    let mut shipped: Vec<PathBuf> = std::fs::read_dir(root().join("rules/aarch64"))
        .expect("rules/aarch64")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "isle"))
        .collect();
    shipped.sort();
    args.extend(shipped.iter().map(|p| p.display().to_string()));
    args.push(file);
    args.extend(["--rule".to_string(), name.clone()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = loweq_limited(&refs);
    let out = o.stdout();
    assert_eq!(o.code(), Some(0), "{out}{}", o.stderr());
    assert!(out.contains(&format!("[aarch64] {name} (")), "{out}");
    assert!(!out.contains("overlap"), "{out}");
}

#[test]
fn the_readme_names_the_binary_and_the_first_build() {
    let text = readme();
    for needle in [
        "target/release/loweq",
        "cargo install --path cli",
        "two-core machine",
        "`<rule>.N`",
        "`<term>@<file>:<line>`",
    ] {
        assert!(text.contains(needle), "README lacks {needle}");
    }
}
