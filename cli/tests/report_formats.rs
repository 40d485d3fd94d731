//! The report formats of `loweq verify`: every format from one run; SARIF
//! validated against the SARIF 2.1.0 schema (vendored in
//! `tests/sarif/`), JUnit parsed back, GitHub workflow commands and
//! Markdown checked for escaping against hostile comments, file names and
//! messages; unknowns and input problems in each format; the text printed
//! from the JSON report equal to the run's own.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use loweq::doc::Doc;
use loweq::format::Format;
use serde_json::Value as Json;

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `loweq ARGS` in `dir`.
fn loweq(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loweq"))
        .args(args)
        .arg("--no-cache")
        .current_dir(dir)
        .output()
        .expect("loweq runs")
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every format but text, written to `r.<format>` in `dir`.
const FILES: [&str; 10] = [
    "--output",
    "json=r.json",
    "--output",
    "sarif=r.sarif",
    "--output",
    "junit=r.xml",
    "--output",
    "github=r.github",
    "--output",
    "markdown=r.md",
];

/// The SARIF log, validated against the schema.
fn sarif(dir: &Path) -> Json {
    let schema: Json =
        serde_json::from_str(include_str!("../../tests/sarif/sarif-schema-2.1.0.json"))
            .expect("the schema is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let log: Json = serde_json::from_str(&read(dir, "r.sarif")).expect("SARIF is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}\n{log:#}");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    log
}

/// The JUnit XML, parsed: `(testsuites attributes, test cases as
/// (name, element of the outcome, its message, its text))`.
type Case = (String, Option<String>, String, String);

fn junit(dir: &Path) -> (Vec<(String, String)>, Vec<Case>) {
    let text = read(dir, "r.xml");
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attrs = root
        .attributes()
        .map(|a| (a.name().to_string(), a.value().to_string()))
        .collect();
    let mut cases = Vec::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let n: usize = suite
            .attribute("tests")
            .expect("tests")
            .parse()
            .expect("a count");
        let listed: Vec<_> = suite
            .children()
            .filter(|c| c.has_tag_name("testcase"))
            .collect();
        assert_eq!(n, listed.len(), "{text}");
        for case in listed {
            let time: f64 = case
                .attribute("time")
                .expect("time")
                .parse()
                .expect("seconds");
            assert!(time >= 0.0);
            assert!(case.attribute("classname").is_some());
            let outcome = case.children().find(|c| c.is_element());
            cases.push((
                case.attribute("name").expect("name").to_string(),
                outcome.map(|o| o.tag_name().name().to_string()),
                outcome
                    .and_then(|o| o.attribute("message"))
                    .unwrap_or_default()
                    .to_string(),
                outcome
                    .and_then(|o| o.text())
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
    }
    (attrs, cases)
}

/// A workflow command: level, properties (unescaped), message (unescaped).
type Annotation = (String, Vec<(String, String)>, String);

fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// The annotations of the GitHub output; every line that starts with `::`
/// must be one of the commands loweq writes, and parse.
fn github(dir: &Path) -> (Vec<Annotation>, Vec<String>) {
    let text = read(dir, "r.github");
    let mut out = Vec::new();
    let mut plain = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("::") else {
            plain.push(line.to_string());
            continue;
        };
        if rest.starts_with("group::") || rest == "endgroup::" {
            continue;
        }
        let (head, message) = rest
            .split_once("::")
            .expect("a command has `::` before its message");
        let (level, props) = head.split_once(' ').expect("a level and properties");
        assert!(["error", "warning", "notice"].contains(&level), "{line}");
        let props = props
            .split(',')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("key=value");
                assert!(!v.contains(':'), "an unescaped `:` in {line}");
                (k.to_string(), unescape(v))
            })
            .collect();
        out.push((level.to_string(), props, unescape(message)));
    }
    (out, plain)
}

fn prop<'a>(a: &'a Annotation, key: &str) -> &'a str {
    a.1.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// The Markdown with fenced blocks and `<code>` spans taken out, checked
/// on the way: fences close, code spans hold no raw markup. Returns the
/// text outside them and the fenced blocks' contents.
fn markdown(dir: &Path) -> (String, Vec<String>) {
    let text = read(dir, "r.md");
    let mut outside = String::new();
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        if ticks >= 3 {
            let mut block = Vec::new();
            let closed = lines.by_ref().any(|l| {
                let t = l.chars().take_while(|&c| c == '`').count();
                if t >= ticks && l[t..].trim().is_empty() {
                    return true;
                }
                block.push(l.to_string());
                false
            });
            assert!(closed, "an unclosed fence in\n{text}");
            blocks.push(block.join("\n"));
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("<code>") {
            outside.push_str(&rest[..at]);
            let end = rest[at..].find("</code>").expect("a closed <code>") + at;
            let inside = &rest[at + 6..end];
            assert!(
                !inside.contains(['<', '>', '"']),
                "raw markup in <code>: {inside}"
            );
            rest = &rest[end + 7..];
        }
        outside.push_str(rest);
        outside.push('\n');
    }
    (outside, blocks)
}

/// What the Markdown may hold outside code: no markup but loweq's own, no
/// mention, no backtick.
fn assert_clean(outside: &str) {
    for bad in ["<script", "<img", "<b>", "@", "`", "&amp;amp"] {
        assert!(!outside.contains(bad), "`{bad}` outside code:\n{outside}");
    }
    assert_eq!(
        outside.matches("<details>").count(),
        outside.matches("</details>").count(),
        "{outside}"
    );
}

#[test]
fn every_format_from_one_run_with_hostile_text() {
    let dir = common::scratch("every_format");
    // A file name that is a command, a URI and HTML all at once.
    let name = "a,b:c%0A<x>&`y`.isle";
    std::fs::copy(data("ci/report.isle"), dir.join(name)).expect("copied");
    let mut args = vec!["verify", "--arch", "x64", name, "--format", "text"];
    args.extend(FILES);
    let o = loweq(&dir, &args);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{text}");

    // The JSON report carries everything: printed again, it is the text.
    let doc: Doc = serde_json::from_str(&read(&dir, "r.json")).expect("the JSON report reads back");
    assert_eq!(Format::Text.render(&doc), text);
    let cex: Vec<&str> = doc
        .results
        .iter()
        .filter_map(|e| e.counterexample.as_ref().map(|c| c.text.trim_end()))
        .collect();
    assert_eq!(cex.len(), 4, "{text}");
    assert!(
        cex[0].contains("@everyone") && cex[0].contains("</details>"),
        "{}",
        cex[0]
    );

    // SARIF: a result per counterexample, at the rule, none for the
    // shadowed instantiation, which is in the run's properties.
    let log = sarif(&dir);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 4, "{log:#}");
    for (r, text) in results.iter().zip(&cex) {
        assert_eq!(r["ruleId"], "counterexample");
        assert_eq!(r["level"], "error");
        assert_eq!(r["properties"]["rule"], "$bnot.as.neg$");
        assert_eq!(r["message"]["text"], *text);
        let at = &r["locations"][0]["physicalLocation"];
        assert_eq!(
            at["artifactLocation"]["uri"],
            "a%2Cb%3Ac%250A%3Cx%3E%26%60y%60.isle"
        );
        assert_eq!(at["region"]["startLine"], 9);
    }
    let shadowed = &log["runs"][0]["properties"]["shadowed"];
    assert_eq!(shadowed[0]["rule"], "byte", "{log:#}");
    assert_eq!(shadowed[0]["shadowed_by"], serde_json::json!(["wide"]));

    // JUnit: a case per (rule, instantiation), failures with the
    // counterexample, inapplicable and shadowed ones skipped with why.
    let (attrs, cases) = junit(&dir);
    let attr = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(attr("tests"), Some("16"));
    assert_eq!(attr("failures"), Some("4"));
    assert_eq!(attr("skipped"), Some("4"));
    assert_eq!(attr("errors"), Some("0"));
    let failures: Vec<&Case> = cases
        .iter()
        .filter(|c| c.1.as_deref() == Some("failure"))
        .collect();
    for (c, text) in failures.iter().zip(&cex) {
        assert_eq!(c.3.trim_end(), *text);
        assert!(c.2.contains("is wrong for"), "{c:?}");
    }
    let byte = cases
        .iter()
        .find(|c| c.0 == "byte [i64]")
        .expect("byte at i64");
    assert_eq!(byte.1.as_deref(), Some("skipped"));
    assert!(byte.2.contains("shadowed by `wide`"), "{byte:?}");
    assert!(cases.iter().any(|c| c.0 == "iadd [i8]" && c.1.is_none()));

    // GitHub: an error per counterexample at the file and line, the
    // shadowed instantiation as a notice, then the summary.
    let (annotations, plain) = github(&dir);
    let errors: Vec<&Annotation> = annotations.iter().filter(|a| a.0 == "error").collect();
    assert_eq!(errors.len(), 4, "{annotations:#?}");
    for (a, text) in errors.iter().zip(&cex) {
        assert_eq!(prop(a, "file"), name);
        assert_eq!(prop(a, "line"), "9");
        assert!(prop(a, "title").contains("is wrong for"));
        assert_eq!(a.2, *text);
    }
    let notices: Vec<&Annotation> = annotations.iter().filter(|a| a.0 == "notice").collect();
    assert_eq!(notices.len(), 1);
    assert!(prop(notices[0], "title").contains("`byte` is shadowed at i64 by `wide`"));
    assert_eq!(plain.last().map(String::as_str), text.lines().last());

    // Markdown: the table, one block per failing rule, everything from
    // the files inside code.
    let md = read(&dir, "r.md");
    assert!(
        md.starts_with("### loweq verify: 4 counterexamples\n"),
        "{md}"
    );
    assert!(md.contains("| 4 | 16 | 8 | 4 | 3 | 1 | 0 | 0 |"), "{md}");
    let (outside, blocks) = markdown(&dir);
    assert_clean(&outside);
    assert_eq!(outside.matches("<details>").count(), 2, "{md}");
    assert_eq!(blocks[0].trim_end(), cex.join("\n\n"));
    assert!(blocks[1].contains("byte") && blocks[1].contains("shadowed by `wide`"));
}

#[test]
fn unknowns_and_input_problems_in_every_format() {
    let dir = common::scratch("problems");
    // An unknown: a warning, an error test case of type `unknown`. (A
    // timeout of 0.3 s, not less: z3 may miss a timer that fires while it
    // sets a query up, and then run on.)
    let hard = data("ci/unknown.isle");
    let mut args = vec!["verify", "--timeout", "0.3", &hard];
    args.extend(FILES);
    let o = loweq(&dir, &args);
    assert_eq!(o.status.code(), Some(3));
    let log = sarif(&dir);
    let r = &log["runs"][0]["results"][0];
    assert_eq!(
        (&r["ruleId"], &r["level"]),
        (&"unknown".into(), &"warning".into())
    );
    let (_, cases) = junit(&dir);
    assert!(cases
        .iter()
        .any(|c| c.1.as_deref() == Some("error") && c.2.starts_with("unknown: ")));
    let (annotations, _) = github(&dir);
    assert_eq!(annotations.len(), 1);
    assert_eq!(annotations[0].0, "warning");
    assert!(read(&dir, "r.md").contains("⚠️ <code>mba_identity</code>"));

    // A parse error that quotes hostile text back: a located error in
    // every format, escaped.
    let dir = common::scratch("parse_error");
    let bad = data("ci/bad_name.isle");
    let mut args = vec!["verify", "--arch", "x64", &bad];
    args.extend(FILES);
    let o = loweq(&dir, &args);
    assert_eq!(o.status.code(), Some(2));
    let log = sarif(&dir);
    let r = &log["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "error");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let (_, cases) = junit(&dir);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].0, "loading the input");
    assert!(cases[0].2.contains("</details><script>"), "{cases:?}");
    let (annotations, _) = github(&dir);
    assert_eq!((annotations.len(), annotations[0].0.as_str()), (1, "error"));
    assert_eq!(prop(&annotations[0], "line"), "2");
    assert!(annotations[0].2.contains("::</details>"));
    let (outside, blocks) = markdown(&dir);
    assert_clean(&outside);
    assert!(
        blocks[0].contains("<script>alert`1`</script>```"),
        "{blocks:?}"
    );

    // A file that cannot be read has no place: a SARIF notification.
    let dir = common::scratch("unreadable");
    let o = loweq(
        &dir,
        &["verify", "no/such.isle", "--output", "sarif=r.sarif"],
    );
    assert_eq!(o.status.code(), Some(2));
    let log = sarif(&dir);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    let n = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert!(
        n["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("cannot read")),
        "{log:#}"
    );
}

#[test]
fn bad_output_flags_are_errors_before_anything_runs() {
    let dir = common::scratch("bad_flags");
    let hard = data("ci/unknown.isle");
    for (args, says) in [
        (vec!["--output", "xml=r.xml"], "unknown format `xml`"),
        (vec!["--output", "r.sarif"], "FORMAT=FILE"),
        (vec!["--format", "xml"], "invalid value 'xml'"),
        (
            vec!["--output", "sarif=no/such/dir/r.sarif"],
            "the directory `no/such/dir` does not exist",
        ),
    ] {
        let mut all = vec!["verify", hard.as_str()];
        all.extend(args);
        let o = loweq(&dir, &all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {err}");
        assert!(err.contains(says), "{all:?}: {err}");
        assert!(o.stdout.is_empty(), "{all:?} ran");
    }
}
