//! The harness behind the data-driven tests: reads a case's header, runs
//! loweq on the case, checks every verdict against the header, and returns
//! the text report (with timings removed) for snapshotting.
//!
//! A case is an `.isle` file that starts with comment lines such as:
//!
//! ```text
//! ;; test: a narrow ushr without zero-extension is caught at i8 and i16
//! ;; arch: aarch64
//! ;; expect: ushr_bad i8* counterexample
//! ;; expect: * * inapplicable
//! ;; expect-error: unbound variable `z`
//! ;; expect-exit: 1
//! ;; rule: ushr_bad
//! ;; max-expansions: 100
//! ```
//!
//! - `arch:` checks the file against that architecture's shipped semantics
//!   (in place of its shipped rules); without it the file is self-contained.
//! - `expect: RULE TYPE VERDICT` gives the verdict of every result whose rule
//!   name and instantiation match; `*` matches anything and a trailing `*`
//!   matches a prefix; TYPE may contain spaces (`i64 (uextend i32->i64)`).
//!   The first matching line applies; every result must be
//!   matched, and every line must match some result.
//! - `expect-error: TEXT`: loading or verifying must report a diagnostic
//!   whose message contains TEXT.
//! - `expect-exit: N`: the exit status `loweq verify` gives the run.
//! - `rule: NAME`: verify only this rule, as `--rule NAME` does (repeatable).
//! - `max-expansions: N`: the limit on a rule's expansions, as
//!   `--max-expansions N` sets it.
//! - `timeout: SECS`: the per-query solver timeout, as `--timeout SECS`
//!   sets it (for cases whose counterexample takes many queries to make
//!   small, which a loaded machine running every case at once could cut
//!   short, changing the values shown).

use std::path::PathBuf;

use loweq::run::{self, GroupOutcome, Target};
use loweq::shipped::Arch;
use loweq_verify::Options;

/// What a case's header says.
#[derive(Debug, Default)]
pub struct Header {
    /// The description.
    pub test: String,
    /// The architecture to check against, if any.
    pub arch: Option<Arch>,
    /// `(rule, type, verdict)` patterns.
    pub expect: Vec<(String, String, String)>,
    /// Expected diagnostic substrings.
    pub errors: Vec<String>,
    /// The expected exit status.
    pub exit: Option<i32>,
    /// The rules to verify (all when empty).
    pub rules: Vec<String>,
    /// The limit on a rule's expansions, if not the default.
    pub max_expansions: Option<usize>,
    /// The per-query timeout in seconds, if not the default.
    pub timeout: Option<u64>,
}

/// Parses the header comment of a case.
pub fn header(text: &str) -> Header {
    let mut h = Header::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(";;") else {
            break;
        };
        let rest = rest.trim();
        if let Some(t) = rest.strip_prefix("test:") {
            h.test = t.trim().to_string();
        } else if let Some(a) = rest.strip_prefix("arch:") {
            h.arch = match a.trim() {
                "x64" => Some(Arch::X64),
                "aarch64" => Some(Arch::Aarch64),
                other => panic!("unknown arch `{other}` in case header"),
            };
        } else if let Some(e) = rest.strip_prefix("expect-exit:") {
            let code = e.trim().parse().expect("`expect-exit:` takes a number");
            h.exit = Some(code);
        } else if let Some(m) = rest.strip_prefix("max-expansions:") {
            let n = m.trim().parse().expect("`max-expansions:` takes a number");
            h.max_expansions = Some(n);
        } else if let Some(t) = rest.strip_prefix("timeout:") {
            let n = t
                .trim()
                .parse()
                .expect("`timeout:` takes a number of seconds");
            h.timeout = Some(n);
        } else if let Some(r) = rest.strip_prefix("rule:") {
            h.rules.push(r.trim().to_string());
        } else if let Some(e) = rest.strip_prefix("expect-error:") {
            h.errors.push(e.trim().to_string());
        } else if let Some(e) = rest.strip_prefix("expect:") {
            // The type may have spaces (`i64 (uextend i32->i64)`): it is
            // everything between the rule and the verdict.
            let parts: Vec<&str> = e.split_whitespace().collect();
            assert!(
                parts.len() >= 3,
                "`expect:` takes RULE TYPE VERDICT, got `{e}`"
            );
            let ty = parts[1..parts.len() - 1].join(" ");
            h.expect
                .push((parts[0].into(), ty, parts[parts.len() - 1].into()));
        }
    }
    assert!(
        !h.test.is_empty(),
        "a case needs a `;; test:` line saying what it checks"
    );
    assert!(
        !h.expect.is_empty() || !h.errors.is_empty(),
        "a case needs `;; expect:` or `;; expect-error:` lines"
    );
    h
}

fn matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// Replaces the run time in the summary line, which changes from run to run.
pub fn redact_time(report: &str) -> String {
    report
        .lines()
        .map(|l| match l.rfind(" errors in ") {
            Some(i) if l.ends_with(" s") => format!("{} errors in <time> s", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Runs the case at `path` (relative to this crate), checks it against its
/// header and returns the redacted text report.
pub fn run_case(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    let h = header(&text);
    let file = PathBuf::from(path);
    let target = match h.arch {
        Some(a) => Target::ArchFiles(a, vec![file]),
        None => Target::Files(vec![file]),
    };
    // The tests run in parallel already; one worker per case.
    let options = Options {
        jobs: Some(1),
        rules: h.rules.clone(),
        max_expansions: h
            .max_expansions
            .unwrap_or(loweq_verify::expand::DEFAULT_MAX_EXPANSIONS),
        ..Options::default()
    };
    let options = match h.timeout {
        Some(secs) => Options {
            timeout: std::time::Duration::from_secs(secs),
            ..options
        },
        None => options,
    };
    // Cargo runs integration tests in the package directory, so `path` is
    // both readable and what the report shows.
    let run = run::verify(&target, &options, None, &|_| {})
        .unwrap_or_else(|d| panic!("{path}: {}", d.message));
    let report = redact_time(&loweq::text::report(&run));

    if let Some(code) = h.exit {
        assert_eq!(
            run::exit_code(&run),
            code,
            "{path}: expected exit status {code}\n{report}"
        );
    }
    let mut messages: Vec<String> = run.problems.iter().map(|d| d.message.clone()).collect();
    let mut results = Vec::new();
    for g in &run.groups {
        match &g.outcome {
            GroupOutcome::Rejected(ds) => messages.extend(ds.iter().map(|d| d.message.clone())),
            GroupOutcome::Verified(_, r) => {
                for (rule, inst) in r.instances() {
                    if let Some(d) = &inst.error {
                        messages.push(d.message.clone());
                    }
                    results.push((rule.name.clone(), inst.label.clone(), inst.verdict.name()));
                }
            }
        }
    }
    for e in &h.errors {
        assert!(
            messages.iter().any(|m| m.contains(e.as_str())),
            "{path}: expected a diagnostic containing `{e}`, got {messages:#?}\n{report}"
        );
    }
    if h.errors.is_empty() {
        assert!(
            messages.is_empty(),
            "{path}: unexpected diagnostics {messages:#?}\n{report}"
        );
    }
    let mut used = vec![false; h.expect.len()];
    for (rule, label, verdict) in &results {
        let found = h
            .expect
            .iter()
            .position(|(r, t, _)| matches(r, rule) && matches(t, label));
        // An `error` verdict is what `expect-error:` lines are about.
        if found.is_none() && *verdict == "error" && !h.errors.is_empty() {
            continue;
        }
        let Some(i) = found else {
            panic!(
                "{path}: no `expect:` line covers rule `{rule}` at {label} ({verdict})\n{report}"
            );
        };
        used[i] = true;
        assert_eq!(
            h.expect[i].2, *verdict,
            "{path}: rule `{rule}` at {label}: expected {}, got {verdict}\n{report}",
            h.expect[i].2
        );
    }
    for (i, u) in used.iter().enumerate() {
        assert!(
            *u || !h.errors.is_empty(),
            "{path}: `expect: {} {} {}` matches no result\n{report}",
            h.expect[i].0,
            h.expect[i].1,
            h.expect[i].2
        );
    }
    report
}
