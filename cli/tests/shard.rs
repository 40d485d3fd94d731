//! Sharding a run (`loweq verify --shard I/N`) and putting it back together
//! (`loweq merge`): three shards merge into the unsharded report, in JSON
//! and in text; a shard with no share is not a failure; merge refuses
//! reports that are not the shards of one run; bad `--shard` values are
//! errors.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn loweq(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loweq"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("loweq runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `verify --arch x64 FILE --no-cache` with more arguments.
fn verify(dir: &Path, file: &str, more: &[&str]) -> Output {
    let mut args = vec!["verify", "--arch", "x64", file, "--no-cache"];
    args.extend(more);
    loweq(dir, &args)
}

#[test]
fn three_shards_merge_into_the_unsharded_report() {
    let dir = common::scratch("shards");
    let rules = data("ci/report.isle");
    let whole = verify(&dir, &rules, &["--format", "json"]);
    assert_eq!(whole.status.code(), Some(1));
    let whole_text = verify(&dir, &rules, &[]);
    let mut names = Vec::new();
    let mut shares = Vec::new();
    for i in 1..=3 {
        let name = format!("shard{i}.json");
        let shard = format!("{i}/3");
        let o = verify(
            &dir,
            &rules,
            &["--shard", &shard, "--output", &format!("json={name}")],
        );
        assert!(
            stderr(&o).contains(&format!("note: shard {i}/3: ")),
            "{}",
            stderr(&o)
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).expect("written"))
                .expect("JSON");
        let mut rules: Vec<String> = doc["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["rule"].as_str().unwrap_or_default().to_string())
            .collect();
        rules.dedup();
        assert!(!rules.is_empty(), "shard {i} has a share");
        shares.extend(rules);
        names.push(name);
    }
    // Every rule in exactly one share.
    shares.sort();
    assert_eq!(shares, ["$bnot.as.neg$", "byte", "iadd", "wide"]);
    let mut args = vec!["merge", "--format", "json"];
    args.extend(names.iter().map(String::as_str));
    let merged = loweq(&dir, &args);
    assert_eq!(merged.status.code(), whole.status.code());
    assert_eq!(
        common::redact(&stdout(&merged)),
        common::redact(&stdout(&whole))
    );
    // In any order, and in text.
    let merged = loweq(&dir, &["merge", &names[2], &names[0], &names[1]]);
    assert_eq!(
        common::redact(&stdout(&merged)),
        common::redact(&stdout(&whole_text))
    );
}

#[test]
fn shards_merge_the_macro_obligations_their_rules_relied_on() {
    let dir = common::scratch("macro_shards");
    let rules = format!(
        "{}/../tests/cases/verify/extractor_macro_spec_agrees.isle",
        env!("CARGO_MANIFEST_DIR")
    );
    let whole = verify(&dir, &rules, &["--format", "json"]);
    assert_eq!(whole.status.code(), Some(0), "{}", stdout(&whole));
    let doc: serde_json::Value = serde_json::from_slice(&whole.stdout).expect("JSON");
    assert_eq!(doc["macros"].as_array().map(Vec::len), Some(4), "{doc}");
    for i in 1..=2 {
        let o = verify(
            &dir,
            &rules,
            &[
                "--shard",
                &format!("{i}/2"),
                "--output",
                &format!("json=m{i}.json"),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // Each shard has one of the two rules, and the macro it relied on.
        let shard: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("m{i}.json"))).expect("written"),
        )
        .expect("JSON");
        let users = &shard["macros"][0]["relied_on_by"];
        assert_eq!(users.as_array().map(Vec::len), Some(1), "{shard}");
    }
    let merged = loweq(&dir, &["merge", "--format", "json", "m2.json", "m1.json"]);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert_eq!(
        common::redact(&stdout(&merged)),
        common::redact(&stdout(&whole))
    );
}

#[test]
fn a_shard_without_a_share_checks_nothing_and_passes() {
    let dir = common::scratch("empty_shard");
    let o = verify(
        &dir,
        &data("ci/report.isle"),
        &["--shard", "5/5", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: shard 5/5: 0 of 4 rules"),
        "{}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["results"], serde_json::json!([]));
    assert_eq!(doc["shard"]["rules"].as_array().map(Vec::len), Some(4));
}

#[test]
fn merge_refuses_reports_that_are_not_the_shards_of_one_run() {
    let dir = common::scratch("bad_merge");
    let rules = data("ci/report.isle");
    for i in 1..=2 {
        let o = verify(
            &dir,
            &rules,
            &[
                "--shard",
                &format!("{i}/2"),
                "--output",
                &format!("json=s{i}.json"),
            ],
        );
        assert!(o.status.code().is_some());
    }
    let o = verify(
        &dir,
        &data("ci/bad_name.isle"),
        &["--shard", "1/2", "--output", "json=other.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let o = verify(&dir, &rules, &["--output", "json=whole.json"]);
    assert_eq!(o.status.code(), Some(1));
    std::fs::write(dir.join("junk.json"), "{\"not\": \"a report\"}").expect("written");
    for (args, says) in [
        (vec!["s1.json"], "missing the report of shard 2/2"),
        (vec!["s1.json", "s1.json", "s2.json"], "are both shard 1/2"),
        (
            vec!["s1.json", "other.json"],
            "are shards of different runs",
        ),
        (
            vec!["s1.json", "whole.json"],
            "is the report of a whole run",
        ),
        (vec!["junk.json"], "is not a JSON report of `loweq verify`"),
        (vec!["no-such.json"], "cannot read `no-such.json`"),
    ] {
        let mut all = vec!["merge"];
        all.extend(&args);
        let o = loweq(&dir, &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    // One whole-run report merges into itself: another format of it.
    let o = loweq(&dir, &["merge", "whole.json", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("::error file="), "{}", stdout(&o));
}

#[test]
fn bad_shard_values_are_errors() {
    let dir = common::scratch("bad_shard");
    for bad in ["0/3", "4/3", "1/0", "x", "1/"] {
        let o = verify(&dir, &data("ci/report.isle"), &["--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("expected I/N"), "{bad}: {}", stderr(&o));
    }
}
