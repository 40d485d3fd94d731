//! Markdown for a pull-request comment: a headline, a summary table, then
//! one collapsed `<details>` block per failing rule with its
//! counterexamples, errors and unknowns in a fenced block, and blocks for
//! diagnostics, shadowed instantiations and the rules left out.
//!
//! Everything that comes from the user's files (rule and file names,
//! source text quoted in counterexamples, reasons that name rules) is
//! either HTML-escaped inside `<code>` or inside a fenced code block whose
//! fence is longer than any run of backticks in it, so no rule name or
//! comment can close the fence, inject HTML or markdown, or mention
//! anyone. The comment stays under GitHub's size limit: past
//! [`MAX_CHARS`], further blocks are counted, not shown.

use std::fmt::Write as _;

use loweq_verify::Verdict;

use crate::doc::{Doc, Entry};

/// GitHub refuses comments over 65,536 characters; leave room for the end.
pub const MAX_CHARS: usize = 60_000;

/// A single block is cut after this many characters.
const MAX_BLOCK: usize = 12_000;

/// HTML-escaped text (for inside `<code>` and `<summary>`).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Markdown does not reach inside an HTML block, but a line
            // break would end the block.
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `<code>` with escaped text.
fn code(s: &str) -> String {
    format!("<code>{}</code>", escape_html(s))
}

/// A fenced code block holding `text` verbatim: the fence is longer than
/// the longest run of backticks in it.
pub fn fenced(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut text = text.trim_end().to_string();
    if text.chars().count() > MAX_BLOCK {
        text = text.chars().take(MAX_BLOCK).collect();
        text.push_str("\n... (cut: see the full report)");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{text}\n{fence}\n")
}

/// A `<details>` block; `summary` is HTML (escaped by the caller).
fn details(summary: &str, body: &str) -> String {
    format!("<details><summary>{summary}</summary>\n\n{body}\n</details>\n\n")
}

/// Everything the text report shows about a rule's problems.
fn problems(rule: &[Entry]) -> String {
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for e in rule {
        if let Some(c) = &e.counterexample {
            out.push_str(c.text.trim_end());
            out.push_str("\n\n");
        }
    }
    for d in rule.iter().filter_map(|e| e.error.as_ref()) {
        if !seen.contains(&d.text.as_str()) {
            seen.push(&d.text);
            out.push_str(d.text.trim_end());
            out.push_str("\n\n");
        }
    }
    for e in rule.iter().filter(|e| e.verdict == Verdict::Unknown) {
        let _ = writeln!(
            out,
            "unknown at {}: {}",
            e.label,
            e.reason.as_deref().unwrap_or("no reason given")
        );
    }
    out
}

fn headline(doc: &Doc) -> String {
    let s = &doc.summary;
    let mut bad = Vec::new();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if s.counterexamples > 0 {
        bad.push(plural(
            s.counterexamples,
            "counterexample",
            "counterexamples",
        ));
    }
    if s.errors > 0 {
        bad.push(plural(s.errors, "error", "errors"));
    }
    if s.unknown > 0 {
        bad.push(plural(s.unknown, "unknown", "unknowns"));
    }
    if bad.is_empty() {
        format!("### loweq verify: all {} rules verified", s.rules)
    } else {
        format!("### loweq verify: {}", bad.join(", "))
    }
}

/// The Markdown comment of a report.
pub fn render(doc: &Doc) -> String {
    let s = &doc.summary;
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", headline(doc));
    out.push_str("| rules | instantiations | verified | counterexamples | inapplicable | shadowed | unknown | errors | seconds |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |\n",
        s.rules,
        s.instantiations,
        s.verified,
        s.counterexamples,
        s.inapplicable,
        s.shadowed,
        s.unknown,
        s.errors,
        s.seconds
    );
    let mut blocks: Vec<String> = Vec::new();
    for d in &doc.diagnostics {
        let place = match (&d.file, d.line) {
            (Some(f), Some(l)) => format!(" at {}", code(&format!("{f}:{l}"))),
            _ => String::new(),
        };
        blocks.push(details(
            &format!("❌ input problem{place}: {}", code(&d.message)),
            &fenced(&d.text),
        ));
    }
    for rule in doc.rules() {
        let bad: Vec<&Entry> = rule
            .iter()
            .filter(|e| {
                matches!(
                    e.verdict,
                    Verdict::Counterexample | Verdict::Error | Verdict::Unknown
                )
            })
            .collect();
        if bad.is_empty() {
            continue;
        }
        let e = &rule[0];
        let verdicts = crate::text::verdict_groups(
            bad.iter()
                .map(|i| (i.verdict, i.shadowed_by.as_slice(), i.label.as_str())),
        );
        let mark = if bad.iter().any(|e| e.verdict != Verdict::Unknown) {
            "❌"
        } else {
            "⚠️"
        };
        let summary = format!(
            "{mark} {} at {}: {}",
            code(&format!(
                "{}{}",
                crate::text::tag(e.arch.as_deref()),
                e.rule
            )),
            code(&format!("{}:{}", e.file, e.line)),
            code(&verdicts)
        );
        blocks.push(details(&summary, &fenced(&problems(rule))));
    }
    let shadowed: Vec<String> = doc
        .results
        .iter()
        .filter(|e| e.verdict == Verdict::Shadowed)
        .map(|e| {
            let by: Vec<String> = e.shadowed_by.iter().map(|n| format!("`{n}`")).collect();
            format!(
                "{}{} ({}:{}) at {}: shadowed by {}",
                crate::text::tag(e.arch.as_deref()),
                e.rule,
                e.file,
                e.line,
                e.label,
                by.join(", ")
            )
        })
        .collect();
    if !shadowed.is_empty() {
        blocks.push(details(
            &format!(
                "{} shadowed instantiations (higher-priority rules take every input)",
                shadowed.len()
            ),
            &fenced(&shadowed.join("\n")),
        ));
    }
    for (what, list) in [
        ("left out of verification", &doc.excluded),
        ("not checked in this run", &doc.skipped),
    ] {
        if list.is_empty() {
            continue;
        }
        let lines: Vec<String> = list
            .iter()
            .map(|l| {
                format!(
                    "{}{} ({}:{}): {}",
                    crate::text::tag(l.arch.as_deref()),
                    l.rule,
                    l.file,
                    l.line,
                    l.reason
                )
            })
            .collect();
        blocks.push(details(
            &format!("{} rules {what}", list.len()),
            &fenced(&lines.join("\n")),
        ));
    }
    let mut hidden = 0;
    for b in blocks {
        if hidden > 0 || out.len() + b.len() > MAX_CHARS {
            hidden += 1;
        } else {
            out.push_str(&b);
        }
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{hidden} more blocks are not shown, to keep this comment under GitHub's size limit: see the full report.\n"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outlast_backticks_and_html_is_escaped() {
        let f = fenced("a ```` b\n```\n</details>");
        assert!(f.starts_with("`````text\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
        assert_eq!(
            escape_html("<img src=x onerror=alert(1)> & \"q\"\nnext"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; next"
        );
    }
}
