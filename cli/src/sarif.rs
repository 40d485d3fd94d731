//! SARIF 2.1.0, for code-scanning tools (GitHub code scanning and others).
//!
//! One result per counterexample (level `error`), per error verdict and
//! per diagnostic of an input with a place (`error`), and per unknown
//! (`warning`), located at the rule (or the diagnostic's place), with the
//! text report's block as the message and the lowering rule's name,
//! architecture and instantiation as result properties. Problems without
//! a place (a file that cannot be read, a run that checked nothing) are
//! tool execution notifications of the invocation.
//!
//! Shadowed instantiations are not results: a consumer like GitHub code
//! scanning turns every result, notes included, into an alert that stays
//! open until fixed, and a rule that a higher-priority rule shadows at some
//! types is working as written (one shadowed at every type is an error,
//! and a result). They are in the run's property bag with the rules that
//! shadow them, as are the rules left out and those skipped, with the
//! reasons, and the summary counts.

use serde_json::{json, Value as Json};

use crate::doc::{Diag, Doc, Entry, Left};
use loweq_verify::Verdict;

/// The analysis rules results refer to (`ruleId`), in `ruleIndex` order.
const RULES: [(&str, &str, &str); 3] = [
    (
        "counterexample",
        "A lowering rule is wrong: for some input the machine code computes something else than the IR.",
        "error",
    ),
    (
        "error",
        "A rule or spec could not be checked: a parse, type or spec problem.",
        "error",
    ),
    (
        "unknown",
        "The solver could not decide whether a rule is correct (a timeout).",
        "warning",
    ),
];

fn rule_index(id: &str) -> usize {
    RULES.iter().position(|r| r.0 == id).unwrap_or(0)
}

/// A file name as a URI reference: a relative path stays relative (to the
/// source root), an absolute one becomes a `file:` URI; characters a URI
/// may not hold are percent-encoded.
pub fn uri(file: &str) -> (String, bool) {
    let mut out = String::new();
    for b in file.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if file.starts_with('/') {
        (format!("file://{out}"), false)
    } else {
        (out, true)
    }
}

fn location(file: &str, line: usize, column: usize) -> Json {
    let (uri, relative) = uri(file);
    let mut artifact = json!({ "uri": uri });
    if relative {
        artifact["uriBaseId"] = json!("%SRCROOT%");
    }
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": { "startLine": line.max(1), "startColumn": column.max(1) },
        }
    })
}

fn result(id: &str, message: &str, location: Json, properties: Json, fingerprint: String) -> Json {
    let (_, _, level) = RULES[rule_index(id)];
    json!({
        "ruleId": id,
        "ruleIndex": rule_index(id),
        "level": level,
        "kind": "fail",
        "message": { "text": message.trim_end() },
        "locations": [location],
        "partialFingerprints": { "loweqResult/v1": fingerprint },
        "properties": properties,
    })
}

fn entry_result(e: &Entry) -> Option<Json> {
    let tag = crate::text::tag(e.arch.as_deref());
    let props = json!({
        "rule": e.rule,
        "arch": e.arch,
        "instantiation": e.label,
        "verdict": e.verdict.name(),
    });
    let print = format!(
        "{}/{}/{}/{}",
        e.arch.as_deref().unwrap_or("-"),
        e.rule,
        e.label,
        e.verdict.name()
    );
    let at_rule = location(&e.file, e.line, e.column);
    match e.verdict {
        Verdict::Counterexample => {
            let text = e.counterexample.as_ref().map_or_else(
                || format!("{tag}rule `{}` is wrong for {}", e.rule, e.label),
                |c| c.text.clone(),
            );
            Some(result("counterexample", &text, at_rule, props, print))
        }
        Verdict::Error => {
            let (text, at) = match &e.error {
                Some(d) => (d.text.clone(), diag_location(d).unwrap_or(at_rule)),
                None => (
                    format!("{tag}rule `{}`: error at {}", e.rule, e.label),
                    at_rule,
                ),
            };
            Some(result("error", &text, at, props, print))
        }
        Verdict::Unknown => {
            let text = format!(
                "{tag}unknown: rule `{}` at {}: {}",
                e.rule,
                e.label,
                e.reason.as_deref().unwrap_or("no reason given")
            );
            Some(result("unknown", &text, at_rule, props, print))
        }
        Verdict::Verified | Verdict::Inapplicable | Verdict::Shadowed => None,
    }
}

fn diag_location(d: &Diag) -> Option<Json> {
    Some(location(d.file.as_deref()?, d.line?, d.column.unwrap_or(1)))
}

fn left(l: &Left) -> Json {
    json!({"rule": l.rule, "arch": l.arch, "file": l.file, "line": l.line, "reason": l.reason})
}

/// The SARIF log of a report.
pub fn render(doc: &Doc) -> Json {
    let mut results: Vec<Json> = doc.results.iter().filter_map(entry_result).collect();
    let mut notifications = Vec::new();
    for d in &doc.diagnostics {
        match diag_location(d) {
            Some(at) => {
                let print = format!("{}/input/{}", d.arch.as_deref().unwrap_or("-"), d.message);
                let props = json!({ "arch": d.arch });
                results.push(result("error", &d.text, at, props, print));
            }
            None => notifications.push(json!({
                "level": "error",
                "message": { "text": d.text.trim_end() },
            })),
        }
    }
    let shadowed: Vec<Json> = doc
        .results
        .iter()
        .filter(|e| e.verdict == Verdict::Shadowed)
        .map(|e| {
            json!({
                "rule": e.rule, "arch": e.arch, "instantiation": e.label,
                "file": e.file, "line": e.line,
                "shadowed_by": e.shadowed_by, "reason": e.reason,
            })
        })
        .collect();
    let s = &doc.summary;
    let exit = doc.exit_code();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "loweq",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": RULES.iter().map(|(id, text, level)| json!({
                        "id": id,
                        "shortDescription": { "text": text },
                        "defaultConfiguration": { "level": level },
                    })).collect::<Vec<_>>(),
                }
            },
            "invocations": [{
                "executionSuccessful": true,
                "exitCode": exit,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "summary": {
                    "rules": s.rules, "instantiations": s.instantiations,
                    "verified": s.verified, "counterexamples": s.counterexamples,
                    "inapplicable": s.inapplicable, "shadowed": s.shadowed,
                    "unknown": s.unknown, "errors": s.errors, "seconds": s.seconds,
                },
                "shadowed": shadowed,
                "excluded": doc.excluded.iter().map(left).collect::<Vec<_>>(),
                "skipped": doc.skipped.iter().map(left).collect::<Vec<_>>(),
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(
            uri("rules/x64/arith.isle"),
            ("rules/x64/arith.isle".into(), true)
        );
        assert_eq!(uri("my rules.isle"), ("my%20rules.isle".into(), true));
        assert_eq!(
            uri("/tmp/a#b.isle"),
            ("file:///tmp/a%23b.isle".into(), false)
        );
    }
}
