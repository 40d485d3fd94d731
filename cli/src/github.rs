//! GitHub Actions workflow commands: one annotation per problem, then the
//! summary.
//!
//! `::error` for a counterexample, an error verdict or a diagnostic,
//! `::warning` for an unknown, `::notice` for a shadowed instantiation
//! (not a problem, but worth seeing beside the rule), each at the rule's
//! (or the diagnostic's) file, line and column, titled with the one-line
//! verdict, with the text report's block as the message. The rules left
//! out and those not checked are listed in a collapsed log group. Every
//! value is escaped as the workflow commands require, so no text from a
//! rule or spec can end a command or start another.

use std::fmt::Write as _;

use loweq_verify::Verdict;

use crate::doc::{Doc, Entry};

/// A command's message: `%`, carriage return and newline escaped.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as [`escape_data`], and `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command.
fn command(
    out: &mut String,
    level: &str,
    place: Option<(&str, usize, usize)>,
    title: &str,
    message: &str,
) {
    let mut props = Vec::new();
    if let Some((file, line, col)) = place {
        props.push(format!("file={}", escape_property(file)));
        props.push(format!("line={line}"));
        props.push(format!("col={col}"));
    }
    props.push(format!("title={}", escape_property(title)));
    let _ = writeln!(
        out,
        "::{level} {}::{}",
        props.join(","),
        escape_data(message.trim_end())
    );
}

fn entry(out: &mut String, e: &Entry) {
    let tag = crate::text::tag(e.arch.as_deref());
    let at = Some((e.file.as_str(), e.line, e.column));
    match e.verdict {
        Verdict::Counterexample => {
            let title = format!("{tag}rule `{}` is wrong for {}", e.rule, e.label);
            let text = e
                .counterexample
                .as_ref()
                .map_or(title.as_str(), |c| c.text.as_str());
            command(out, "error", at, &title, text);
        }
        Verdict::Error => {
            let title = format!("{tag}rule `{}`: error at {}", e.rule, e.label);
            match &e.error {
                Some(d) => {
                    let place = match (&d.file, d.line) {
                        (Some(f), Some(l)) => Some((f.as_str(), l, d.column.unwrap_or(1))),
                        _ => at,
                    };
                    command(out, "error", place, &title, &d.text);
                }
                None => command(out, "error", at, &title, &title),
            }
        }
        Verdict::Unknown => {
            let title = format!("{tag}rule `{}`: unknown at {}", e.rule, e.label);
            let reason = e.reason.as_deref().unwrap_or("no reason given");
            command(out, "warning", at, &title, reason);
        }
        Verdict::Shadowed => {
            let by: Vec<String> = e.shadowed_by.iter().map(|n| format!("`{n}`")).collect();
            let title = format!(
                "{tag}rule `{}` is shadowed at {} by {}",
                e.rule,
                e.label,
                by.join(", ")
            );
            let reason = e.reason.as_deref().unwrap_or("");
            command(out, "notice", at, &title, reason);
        }
        Verdict::Verified | Verdict::Inapplicable => {}
    }
}

/// The workflow commands of a report, then its summary line.
pub fn render(doc: &Doc) -> String {
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for rule in doc.rules() {
        seen.clear();
        for e in rule {
            // An error shared by every instantiation is shown once.
            if let (Verdict::Error, Some(d)) = (e.verdict, &e.error) {
                if seen.contains(&d.text.as_str()) {
                    continue;
                }
                seen.push(&d.text);
            }
            entry(&mut out, e);
        }
    }
    for d in &doc.diagnostics {
        let place = match (&d.file, d.line) {
            (Some(f), Some(l)) => Some((f.as_str(), l, d.column.unwrap_or(1))),
            _ => None,
        };
        command(&mut out, "error", place, &d.message, &d.text);
    }
    for (what, list) in [("left out", &doc.excluded), ("not checked", &doc.skipped)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "::group::{} rules {what}", list.len());
        for l in list.iter() {
            // A log line, not a command: it starts with the rule's name,
            // never with `::`.
            let _ = writeln!(
                out,
                "{}{} ({}:{}): {}",
                crate::text::tag(l.arch.as_deref()),
                l.rule,
                l.file,
                l.line,
                l.reason.replace(['\r', '\n'], " ")
            );
        }
        let _ = writeln!(out, "::endgroup::");
    }
    out.push_str(&crate::text::summary(&doc.summary));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_escape_what_the_runner_would_read() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let mut out = String::new();
        command(
            &mut out,
            "error",
            Some(("x,y:z.isle", 3, 1)),
            "t,1",
            "line 1\n::error::injected",
        );
        assert_eq!(
            out,
            "::error file=x%2Cy%3Az.isle,line=3,col=1,title=t%2C1::line 1%0A::error::injected\n"
        );
    }
}
