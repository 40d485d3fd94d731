//! The result cache of `loweq verify`, end to end: a warm run prints
//! exactly what a cold run and a run without the cache print (timings
//! aside); damaged and foreign cache files are ignored and rewritten;
//! unknowns are not kept; runs sharing the directory at once agree; a
//! directory that cannot be used gives a warning and a run without it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// Verdicts of every kind: verified, counterexample, inapplicable, shadowed.
fn rules() -> String {
    format!("{}/tests/data/ci/report.isle", env!("CARGO_MANIFEST_DIR"))
}

fn loweq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loweq"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("loweq runs")
}

/// A run on the report rules with the cache in `dir`: its exit code,
/// stdout with timings taken out, and stderr.
fn run(dir: &Path, format: &str) -> (Option<i32>, String, String) {
    let rules = rules();
    let dir = dir.to_string_lossy();
    let o = loweq(&[
        "verify",
        "--arch",
        "x64",
        &rules,
        "--format",
        format,
        "--cache-dir",
        &dir,
    ]);
    (
        o.status.code(),
        common::redact(&String::from_utf8_lossy(&o.stdout)),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every cache file under `dir`.
fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn fresh(name: &str) -> std::path::PathBuf {
    let dir = common::scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn warm_cold_and_uncached_runs_print_the_same() {
    let dir = fresh("cache_same");
    for format in ["json", "text"] {
        let cold = run(&dir, format);
        let warm = run(&dir, format);
        let rules = rules();
        let o = loweq(&[
            "verify",
            "--arch",
            "x64",
            &rules,
            "--format",
            format,
            "--no-cache",
        ]);
        let none = common::redact(&String::from_utf8_lossy(&o.stdout));
        assert_eq!(cold.0, Some(1));
        assert_eq!(warm.0, Some(1));
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(warm.1, cold.1, "{format}");
        assert_eq!(none, cold.1, "{format}");
        assert!(
            warm.2.contains("checks answered from the cache"),
            "{}",
            warm.2
        );
    }
    // Verified, counterexample, inapplicable and shadowed outcomes kept.
    assert!(entries(&dir).len() >= 16, "{:?}", entries(&dir));
}

#[test]
fn damaged_or_foreign_cache_files_are_ignored_and_rewritten() {
    let dir = fresh("cache_damaged");
    let cold = run(&dir, "json");
    let files = entries(&dir);
    let foreign = std::fs::read(&files[0]).expect("a cache file");
    for (i, f) in files.iter().enumerate() {
        let text = std::fs::read(f).expect("a cache file");
        let damaged = match i % 4 {
            // Truncated.
            0 => text[..text.len() / 2].to_vec(),
            // One byte changed.
            1 => {
                let mut t = text.clone();
                let at = t.len() - 3;
                t[at] ^= 1;
                t
            }
            // Another query's file.
            2 => foreign.clone(),
            // Not ours at all.
            _ => b"{\"verdict\": \"verified\"}".to_vec(),
        };
        if damaged != text {
            std::fs::write(f, damaged).expect("written");
        }
    }
    let again = run(&dir, "json");
    assert_eq!(again.1, cold.1);
    assert!(
        again.2.contains("were damaged or not loweq's"),
        "{}",
        again.2
    );
    // Rewritten: the next run trusts every file again.
    let third = run(&dir, "json");
    assert_eq!(third.1, cold.1);
    assert!(!third.2.contains("were damaged"), "{}", third.2);
    assert!(
        third.2.contains("checks answered from the cache"),
        "{}",
        third.2
    );
}

#[test]
fn unknowns_are_not_kept() {
    let dir = fresh("cache_unknown");
    let hard = format!("{}/tests/data/ci/unknown.isle", env!("CARGO_MANIFEST_DIR"));
    let d = dir.to_string_lossy();
    for _ in 0..2 {
        let o = loweq(&["verify", "--timeout", "0.3", &hard, "--cache-dir", &d]);
        assert_eq!(o.status.code(), Some(3));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("from the cache"));
    }
    assert_eq!(entries(&dir), Vec::<std::path::PathBuf>::new());
}

#[test]
fn concurrent_runs_share_a_cache_safely() {
    let dir = fresh("cache_concurrent");
    let rules = rules();
    let d = dir.to_string_lossy().into_owned();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_loweq"))
                .args([
                    "verify",
                    "--arch",
                    "x64",
                    &rules,
                    "--format",
                    "json",
                    "--cache-dir",
                    &d,
                ])
                .current_dir(common::root())
                .output()
        })
        .collect();
    let outs: Vec<String> = runs
        .into_iter()
        .map(|o| common::redact(&String::from_utf8_lossy(&o.expect("runs").stdout)))
        .collect();
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    let after = run(&dir, "json");
    assert_eq!(after.1, outs[0]);
    assert!(!after.2.contains("were damaged"), "{}", after.2);
    // No temporary file is left behind.
    assert!(entries(&dir)
        .iter()
        .all(|p| !p.to_string_lossy().contains(".tmp")));
}

#[test]
fn an_unusable_cache_directory_warns_and_runs_without() {
    let dir = fresh("cache_unusable");
    std::fs::create_dir_all(&dir).expect("a directory");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").expect("written");
    let (code, out, err) = run(&file.join("cache"), "text");
    assert_eq!(code, Some(1));
    assert!(
        err.contains("warning: cannot use the cache directory")
            && err.contains("without the result cache"),
        "{err}"
    );
    assert!(out.contains("counterexample at i8"), "{out}");
}
