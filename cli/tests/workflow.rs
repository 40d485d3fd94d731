//! The CI recipe (`examples/github-workflow.yml`, `docs/ci.md`) works: the
//! `loweq` commands of the workflow, taken from the file and run as
//! written (GitHub's `${{ }}` expressions filled in), on a scratch git
//! repository with a base branch and a pull request that breaks one rule:
//! the pull-request job verifies only that rule, reports it in each
//! format, and answers from the cache the second time; the sharded full
//! run merges into the report of the unsharded run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WORKFLOW: &str = include_str!("../../examples/github-workflow.yml");
const RULES: &str = include_str!("data/changed/rules.isle");

/// The `loweq` commands of a job, continuation lines joined.
fn commands(job: &str) -> Vec<String> {
    let mut lines = WORKFLOW.lines().skip_while(|l| *l != format!("  {job}:"));
    lines
        .next()
        .unwrap_or_else(|| panic!("no job `{job}` in the workflow"));
    let body: Vec<&str> = lines
        .take_while(|l| !(l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':')))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i].trim();
        i += 1;
        if !line.starts_with("loweq ") {
            continue;
        }
        let mut cmd = line.to_string();
        while cmd.ends_with('\\') && i < body.len() {
            cmd.pop();
            cmd.push(' ');
            cmd.push_str(body[i].trim());
            i += 1;
        }
        out.push(cmd);
    }
    out
}

/// A command with GitHub's expressions filled in.
fn fill(cmd: &str, shard: usize) -> String {
    let filled = cmd
        .replace("${{ github.base_ref }}", "main")
        .replace("${{ matrix.shard }}", &shard.to_string());
    assert!(
        !filled.contains("${{"),
        "an expression the test does not fill: {filled}"
    );
    filled
}

/// Runs a command of the workflow with `sh`, as the runner would, with
/// the `loweq` under test first on the PATH.
fn sh(dir: &Path, cache: &Path, cmd: &str) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_loweq"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-c", cmd])
        .env("PATH", path)
        .env("LOWEQ_FILES", "rules.isle")
        .env("LOWEQ_CACHE", cache)
        .current_dir(dir)
        .output()
        .expect("sh runs")
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&read(dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A repository whose `main` has the rules and whose checked-out branch
/// makes the `macro` rule wrong; `origin/main` as after a fetch.
fn repository() -> PathBuf {
    let dir = common::scratch("workflow");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    common::git(&dir, &["init", "-q"]);
    common::git(&dir, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    std::fs::write(dir.join("rules.isle"), RULES).expect("written");
    common::git(&dir, &["add", "rules.isle"]);
    common::git(&dir, &["commit", "-q", "-m", "rules"]);
    common::git(&dir, &["update-ref", "refs/remotes/origin/main", "main"]);
    common::git(&dir, &["checkout", "-q", "-b", "pr"]);
    let broken = RULES.replace(
        "(macro (twice a) (bvadd a a))",
        "(macro (twice a) (bvmul a a))",
    );
    assert_ne!(broken, RULES);
    std::fs::write(dir.join("rules.isle"), broken).expect("written");
    common::git(&dir, &["commit", "-q", "-am", "square instead of double"]);
    dir
}

#[test]
fn the_workflow_commands_do_what_docs_ci_md_says() {
    let dir = repository();
    let cache = dir.join(".loweq-cache");

    // The pull-request job: the changed rule only, in every report.
    let pr = commands("pull-request");
    assert_eq!(pr.len(), 1, "{pr:?}");
    let o = sh(&dir, &cache, &fill(&pr[0], 0));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("::error file=rules.isle,line=42,"),
        "{stdout}"
    );
    assert!(
        stderr.contains("changed since `origin/main`: 1 rules verified, 4 unchanged"),
        "{stderr}"
    );
    let report = json(&dir, "loweq.json");
    assert!(report["results"]
        .as_array()
        .is_some_and(|r| r.iter().all(|e| e["rule"] == "macro")));
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(4));
    let sarif = json(&dir, "loweq.sarif");
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["rule"],
        "macro"
    );
    let md = read(&dir, "loweq.md");
    assert!(
        md.starts_with("### loweq verify: 1 counterexample\n"),
        "{md}"
    );
    assert!(md.contains("<code>macro</code>") && md.contains("4 rules not checked in this run"));
    // Again, as on the next push: from the restored cache.
    let o = sh(&dir, &cache, &fill(&pr[0], 0));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("answered from the cache"));

    // The full run: three shards, merged, as the unsharded run.
    let full = commands("full");
    assert_eq!(full.len(), 1, "{full:?}");
    for shard in 1..=3 {
        let o = sh(&dir, &cache, &fill(&full[0], shard));
        assert!(o.status.code().is_some());
        assert!(dir.join(format!("shard-{shard}.json")).exists());
    }
    let merge = commands("merge");
    assert_eq!(merge.len(), 1, "{merge:?}");
    let o = sh(&dir, &cache, &fill(&merge[0], 0));
    assert_eq!(o.status.code(), Some(1));
    let junit = read(&dir, "loweq.xml");
    let xml = roxmltree::Document::parse(&junit).expect("JUnit parses");
    let cases = xml
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(
        cases,
        6 + 2,
        "six instantiations and the two chained rules left out"
    );
    let merged = sh(
        &dir,
        &cache,
        "loweq merge shard-1.json shard-2.json shard-3.json --format json",
    );
    let whole = sh(
        &dir,
        &cache,
        "loweq verify $LOWEQ_FILES --no-cache --format json",
    );
    let strip = |o: &Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        v["summary"]["seconds"] = 0.into();
        for r in v["results"].as_array_mut().into_iter().flatten() {
            r["millis"] = 0.into();
        }
        v
    };
    assert_eq!(strip(&merged), strip(&whole));
}

#[test]
fn the_workflow_has_the_steps_docs_ci_md_describes() {
    for needed in [
        "github/codeql-action/upload-sarif",
        "actions/cache",
        "restore-keys: loweq-",
        "fetch-depth: 0",
        "gh pr comment",
        "GITHUB_STEP_SUMMARY",
        "shard: [1, 2, 3]",
        "actions/upload-artifact",
        "actions/download-artifact",
    ] {
        assert!(WORKFLOW.contains(needed), "the workflow lacks `{needed}`");
    }
}
