//! JUnit XML, for CI systems' test reports: a test suite per architecture
//! (`files` for self-contained files), a test case per (rule,
//! instantiation) named `RULE [TYPE]` with its time.
//!
//! A counterexample is a `failure` with the counterexample as its text; an
//! error verdict an `error`; an unknown an `error` of type `unknown` (the
//! check could not be done). Inapplicable and shadowed instantiations are
//! `skipped`, with the reason (and the rules that shadow them); so are the
//! rules left out of verification and those not checked in this run, one
//! test case each. Diagnostics of inputs that did not load, and problems of
//! the run, are test cases with an `error`.

use std::fmt::Write as _;

use loweq_verify::Verdict;

use crate::doc::{Diag, Doc, Entry};

/// Text safe in XML 1.0 content and attribute values: markup characters
/// escaped, characters XML cannot hold replaced by U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
    out
}

/// Text content: like [`escape`], but newlines kept as they are.
fn escape_text(s: &str) -> String {
    escape(s).replace("&#10;", "\n").replace("&#9;", "\t")
}

/// Whether XML 1.0 allows the character.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// A test case being written.
struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<usize>,
    millis: u64,
    /// `(element, type, message, text)`.
    outcome: Option<(&'static str, String, String, String)>,
}

impl Case {
    fn write(&self, out: &mut String) {
        let mut attrs = format!(
            "classname=\"{}\" name=\"{}\"",
            escape(&self.classname),
            escape(&self.name)
        );
        if let Some(f) = &self.file {
            let _ = write!(attrs, " file=\"{}\"", escape(f));
        }
        if let Some(l) = self.line {
            let _ = write!(attrs, " line=\"{l}\"");
        }
        let _ = write!(attrs, " time=\"{}\"", seconds(self.millis));
        match &self.outcome {
            None => {
                let _ = writeln!(out, "    <testcase {attrs}/>");
            }
            Some((element, kind, message, text)) => {
                let _ = writeln!(out, "    <testcase {attrs}>");
                let head = format!(
                    "      <{element} type=\"{}\" message=\"{}\"",
                    escape(kind),
                    escape(message)
                );
                if text.is_empty() {
                    let _ = writeln!(out, "{head}/>");
                } else {
                    let _ = writeln!(out, "{head}>{}</{element}>", escape_text(text));
                }
                let _ = writeln!(out, "    </testcase>");
            }
        }
    }

    fn element(&self) -> Option<&'static str> {
        self.outcome.as_ref().map(|o| o.0)
    }
}

fn seconds(millis: u64) -> String {
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

fn suite_name(arch: Option<&str>) -> String {
    arch.unwrap_or("files").to_string()
}

fn entry_case(e: &Entry) -> Case {
    let tag = crate::text::tag(e.arch.as_deref());
    let outcome = match e.verdict {
        Verdict::Verified => None,
        Verdict::Counterexample => Some((
            "failure",
            "counterexample".into(),
            format!("{tag}rule `{}` is wrong for {}", e.rule, e.label),
            e.counterexample
                .as_ref()
                .map(|c| c.text.clone())
                .unwrap_or_default(),
        )),
        Verdict::Error => Some((
            "error",
            "error".into(),
            e.error
                .as_ref()
                .map_or_else(|| "error".to_string(), |d| d.message.clone()),
            e.error.as_ref().map(|d| d.text.clone()).unwrap_or_default(),
        )),
        Verdict::Unknown => Some((
            "error",
            "unknown".into(),
            format!(
                "unknown: {}",
                e.reason.as_deref().unwrap_or("no reason given")
            ),
            String::new(),
        )),
        Verdict::Inapplicable => Some((
            "skipped",
            "inapplicable".into(),
            format!(
                "inapplicable: {}",
                e.reason
                    .as_deref()
                    .unwrap_or("the left-hand side cannot match")
            ),
            String::new(),
        )),
        Verdict::Shadowed => {
            let by: Vec<String> = e.shadowed_by.iter().map(|n| format!("`{n}`")).collect();
            Some((
                "skipped",
                "shadowed".into(),
                format!("shadowed by {}", by.join(", ")),
                e.reason.clone().unwrap_or_default(),
            ))
        }
    };
    Case {
        classname: suite_name(e.arch.as_deref()),
        name: format!("{} [{}]", e.rule, e.label),
        file: Some(e.file.clone()),
        line: Some(e.line),
        millis: e.millis,
        outcome,
    }
}

fn diag_case(d: &Diag, name: &str, arch: Option<&str>) -> Case {
    Case {
        classname: suite_name(arch),
        name: name.into(),
        file: d.file.clone(),
        line: d.line,
        millis: 0,
        outcome: Some(("error", "error".into(), d.message.clone(), d.text.clone())),
    }
}

/// The JUnit XML of a report.
pub fn render(doc: &Doc) -> String {
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    for g in doc.groups() {
        let mut cases: Vec<Case> = doc
            .results
            .iter()
            .filter(|e| e.arch.as_deref() == g)
            .map(entry_case)
            .collect();
        for (what, list) in [("excluded", &doc.excluded), ("not checked", &doc.skipped)] {
            for l in list.iter().filter(|l| l.arch.as_deref() == g) {
                cases.push(Case {
                    classname: suite_name(g),
                    name: l.rule.clone(),
                    file: Some(l.file.clone()),
                    line: Some(l.line),
                    millis: 0,
                    outcome: Some((
                        "skipped",
                        what.into(),
                        format!("{what}: {}", l.reason),
                        String::new(),
                    )),
                });
            }
        }
        for d in doc
            .diagnostics
            .iter()
            .filter(|d| !d.run && d.arch.as_deref() == g)
        {
            cases.push(diag_case(d, "loading the input", g));
        }
        suites.push((suite_name(g), cases));
    }
    let run: Vec<Case> = doc
        .diagnostics
        .iter()
        .filter(|d| d.run)
        .map(|d| diag_case(d, "the run", None))
        .collect();
    if !run.is_empty() {
        suites.push(("run".into(), run));
    }
    let count =
        |cases: &[Case], what: &str| cases.iter().filter(|c| c.element() == Some(what)).count();
    let all: Vec<&Case> = suites.iter().flat_map(|(_, c)| c).collect();
    let total = |what: &str| all.iter().filter(|c| c.element() == Some(what)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"loweq verify\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        all.len(),
        total("failure"),
        total("error"),
        total("skipped"),
        doc.summary.seconds
    );
    for (name, cases) in &suites {
        let millis: u64 = cases.iter().map(|c| c.millis).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(name),
            cases.len(),
            count(cases, "failure"),
            count(cases, "error"),
            count(cases, "skipped"),
            seconds(millis)
        );
        for c in cases {
            c.write(&mut out);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_characters_xml_cannot_hold_are_escaped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\u{1}y\u{fffe}"), "x\u{fffd}y\u{fffd}");
        assert_eq!(escape("l1\nl2"), "l1&#10;l2");
    }
}
