//! The text report of `loweq verify`: a line per rule, then every
//! counterexample in full, then errors and unknowns, then the summary.

use std::fmt::Write as _;

use codespan_reporting::diagnostic::{Diagnostic as Cs, Label};
use loweq_dsl::Program;
use loweq_semantics::span::SourceMap;
use loweq_verify::report::{Counterexample, InstanceReport, RuleReport};
use loweq_verify::{Report, Verdict};

use crate::doc::{Doc, Entry, MacroEntry, Summary};
use crate::render::Files;
use crate::run::{Group, GroupOutcome, Run};
use crate::values::{hex, show};
use loweq_semantics::value::Value;

/// Counts over a whole run.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Rules verified.
    pub rules: usize,
    /// (rule, instantiation) pairs.
    pub instantiations: usize,
}

impl Totals {
    /// Counts a run.
    pub fn of(run: &Run) -> Totals {
        let mut t = Totals::default();
        for g in &run.groups {
            if let GroupOutcome::Verified(_, r) = &g.outcome {
                t.rules += r.rules.len();
                t.instantiations += r.instances().count();
            }
        }
        t
    }
}

/// The summary line.
pub fn summary(s: &Summary) -> String {
    format!(
        "{} rules, {} instantiations: {} verified, {} counterexamples, {} inapplicable, {}{} unknown, {} errors in {:.2} s",
        s.rules,
        s.instantiations,
        s.verified,
        s.counterexamples,
        s.inapplicable,
        if s.shadowed > 0 {
            format!("{} shadowed, ", s.shadowed)
        } else {
            String::new()
        },
        s.unknown,
        s.errors,
        s.seconds
    )
}

fn location(sources: &SourceMap, span: loweq_semantics::span::Span) -> String {
    let f = sources.file(span.file);
    let (line, _) = f.line_col(span.start);
    format!("{}:{line}", f.name)
}

/// `verified at i8, i16; inapplicable at i32`: instantiations grouped by
/// verdict (and, for shadowed ones, by the rules that shadow them), in
/// order of first appearance.
pub fn verdicts(rule: &RuleReport) -> String {
    verdict_groups(
        rule.instances
            .iter()
            .map(|i| (i.verdict, i.shadowed_by.as_slice(), i.label.as_str())),
    )
}

/// [`verdicts`] of (verdict, shadowed by, instantiation) triples.
pub fn verdict_groups<'a>(
    instances: impl Iterator<Item = (Verdict, &'a [String], &'a str)>,
) -> String {
    /// A verdict, with the rules that shadow it.
    type Key<'a> = (Verdict, &'a [String]);
    let mut groups: Vec<(Key, Vec<&str>)> = Vec::new();
    for (verdict, by, label) in instances {
        let key = (verdict, by);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, labels)) => labels.push(label),
            None => groups.push((key, vec![label])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|((v, by), labels)| {
            let by = if by.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = by.iter().map(|n| format!("`{n}`")).collect();
                format!(" (by {})", names.join(", "))
            };
            format!("{} at {}{by}", v.name(), labels.join(", "))
        })
        .collect();
    parts.join("; ")
}

/// The whole text report of a run.
pub fn report(run: &Run) -> String {
    render(&Doc::of(run))
}

/// The text report of a report: a line per rule and per rule left out,
/// then every counterexample in full, errors and unknowns, then the
/// summary.
pub fn render(doc: &Doc) -> String {
    let mut out = String::new();
    let groups = doc.groups();
    for &g in &groups {
        doc_rule_lines(&mut out, doc, g);
    }
    for &g in &groups {
        blocks(&mut out, doc, g, true);
    }
    for d in doc.diagnostics.iter().filter(|d| d.run) {
        out.push('\n');
        out.push_str(&d.text);
    }
    out.push('\n');
    out.push_str(&summary(&doc.summary));
    out.push('\n');
    out
}

/// A line per rule of a group, and one per rule left out, with the reason.
fn doc_rule_lines(out: &mut String, doc: &Doc, g: Option<&str>) {
    let tag = tag(g);
    for rule in doc.rules().iter().filter(|r| r[0].arch.as_deref() == g) {
        let e = &rule[0];
        let verdicts = verdict_groups(
            rule.iter()
                .map(|i| (i.verdict, i.shadowed_by.as_slice(), i.label.as_str())),
        );
        let _ = writeln!(out, "{tag}{} ({}:{}): {verdicts}", e.rule, e.file, e.line);
    }
    let macros: Vec<&MacroEntry> = doc
        .macros
        .iter()
        .filter(|m| m.arch.as_deref() == g)
        .collect();
    for m in macros.chunk_by(|a, b| a.name == b.name && a.file == b.file && a.line == b.line) {
        let e = m[0];
        let verdicts = verdict_groups(m.iter().map(|i| (i.verdict, &[][..], i.label.as_str())));
        let _ = writeln!(
            out,
            "{tag}macro {} ({}:{}): {verdicts} (its spec against its expansion; relied on by {})",
            e.name,
            e.file,
            e.line,
            relied_on_by(&e.relied_on_by, &e.inside)
        );
    }
    for (what, list) in [("excluded", &doc.excluded), ("skipped", &doc.skipped)] {
        for e in list.iter().filter(|e| e.arch.as_deref() == g) {
            let _ = writeln!(
                out,
                "{tag}{} ({}:{}): {what}: {}",
                e.rule, e.file, e.line, e.reason
            );
        }
    }
}

/// A group's blocks: the diagnostics of its files, if they did not load;
/// else every counterexample in full, then its errors (once per rule and
/// diagnostic) and unknowns.
fn blocks(out: &mut String, doc: &Doc, g: Option<&str>, grouped: bool) {
    for d in doc
        .diagnostics
        .iter()
        .filter(|d| !d.run && d.arch.as_deref() == g)
    {
        out.push('\n');
        out.push_str(&d.text);
    }
    let rules: Vec<&[Entry]> = doc
        .rules()
        .into_iter()
        .filter(|r| r[0].arch.as_deref() == g)
        .collect();
    for rule in &rules {
        for group in failing_alike(rule) {
            if grouped {
                out.push('\n');
                out.push_str(&grouped_block(&group));
            } else {
                for e in group {
                    out.push('\n');
                    out.push_str(&grouped_block(&[e]));
                }
            }
        }
    }
    for rule in &rules {
        let mut seen: Vec<&str> = Vec::new();
        for d in rule.iter().filter_map(|e| e.error.as_ref()) {
            if !seen.contains(&d.text.as_str()) {
                seen.push(&d.text);
                out.push('\n');
                out.push_str(&d.text);
            }
        }
    }
    for e in rules.iter().flat_map(|r| r.iter()) {
        if e.verdict == Verdict::Unknown {
            let _ = write!(
                out,
                "\n{}unknown: rule `{}` at {}: {}\n",
                tag(g),
                e.rule,
                e.label,
                e.reason.as_deref().unwrap_or("no reason given")
            );
        }
    }
}

/// The counterexamples of one rule's entries, grouped by how they fail:
/// the same conditions violated, through the same chained rules. Groups in
/// the order of their first entry.
fn failing_alike(rule: &[Entry]) -> Vec<Vec<&Entry>> {
    let key = |e: &Entry| -> Option<String> {
        let c = e.counterexample.as_ref()?;
        let failed = c.data.get("failed").map(|f| {
            f.as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    format!(
                        "{}|{}|{}|{}",
                        x["condition"], x["file"], x["line"], x["column"]
                    )
                })
                .collect::<Vec<_>>()
                .join(";")
        });
        Some(format!(
            "{:?} {:?} {:?}",
            c.data.get("through").map(|t| t.to_string()),
            c.data.get("macro").map(|t| t.to_string()),
            failed
        ))
    };
    let mut groups: Vec<(String, Vec<&Entry>)> = Vec::new();
    for e in rule {
        let Some(k) = key(e) else { continue };
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(e),
            None => groups.push((k, vec![e])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// At most this many instantiations are named in a grouped block's title.
const NAMED_IN_TITLE: usize = 3;

/// The block of a group of counterexamples that fail alike: the first
/// one's, its title naming the others ("is wrong for i8, i16 and 6 more;
/// shown for i8"), plain widths first.
fn grouped_block(group: &[&Entry]) -> String {
    let first = group[0];
    let text = first
        .counterexample
        .as_ref()
        .map(|c| c.text.clone())
        .unwrap_or_default();
    if group.len() == 1 {
        return text;
    }
    // Plain widths (`i8`) say most: name those, or the first few labels
    // when there are none.
    let plain = |l: &str| !l.contains(',') && !l.contains('(') && !l.contains("->");
    let mut labels: Vec<&str> = group.iter().map(|e| e.label.as_str()).collect();
    labels.sort_by_key(|l| !plain(l));
    let plains = labels.iter().filter(|l| plain(l)).count();
    let shown = if plains > 0 { plains } else { labels.len() };
    // "and 1 more" says less than the one label it stands for.
    let mut shown = shown.min(NAMED_IN_TITLE);
    if labels.len() - shown == 1 {
        shown = labels.len();
    }
    let named = &labels[..shown];
    let rest = labels.len() - named.len();
    let list = match rest {
        0 => {
            let (last, init) = named.split_last().expect("two or more");
            format!("{} and {last}", init.join(", "))
        }
        n => format!("{} and {n} more", named.join(", ")),
    };
    text.replacen(
        &format!("is wrong for {}", first.label),
        &format!("is wrong for {list}; shown for {}", first.label),
        1,
    )
}

/// `` `rule`, macro `m` ``: who relies on a macro's spec.
fn relied_on_by(rules: &[String], macros: &[String]) -> String {
    let names: Vec<String> = rules
        .iter()
        .map(|u| format!("`{u}`"))
        .chain(macros.iter().map(|u| format!("macro `{u}`")))
        .collect();
    names.join(", ")
}

/// The `[arch] ` before a rule's name.
pub fn tag(arch: Option<&str>) -> String {
    arch.map(|a| format!("[{a}] ")).unwrap_or_default()
}

fn arch_tag(g: &Group) -> String {
    tag(g.arch.map(|a| a.name()))
}

/// A line per rule of a group's report (`[arch] name (file:line): verdicts`),
/// and one per rule left out, with the reason.
pub fn rule_lines(out: &mut String, g: &Group, r: &Report) {
    let tag = arch_tag(g);
    for rule in &r.rules {
        let _ = writeln!(
            out,
            "{tag}{} ({}): {}",
            rule.name,
            location(&g.sources, rule.span),
            verdicts(rule)
        );
    }
    for m in &r.macros {
        let _ = writeln!(
            out,
            "{tag}macro {} ({}): {} (its spec against its expansion; relied on by {})",
            m.name,
            location(&g.sources, m.span),
            verdict_groups(
                m.instances
                    .iter()
                    .map(|i| (i.verdict, &[][..], i.label.as_str()))
            ),
            relied_on_by(&m.used_by, &m.inside)
        );
    }
    for e in &r.excluded {
        let _ = writeln!(
            out,
            "{tag}{} ({}): excluded: {}",
            e.name,
            location(&g.sources, e.span),
            e.reason
        );
    }
}

/// Every counterexample of a group's report in full (one block for those
/// that fail alike), then its errors and unknowns (the text report's
/// middle, for one group).
pub fn details(out: &mut String, g: &Group, program: &Program, r: &Report, files: &Files) {
    details_as(out, g, program, r, files, true);
}

/// [`details`] with a block of its own for every counterexample, also
/// those that fail alike (the REPL's `:why`).
pub fn every_detail(out: &mut String, g: &Group, program: &Program, r: &Report, files: &Files) {
    details_as(out, g, program, r, files, false);
}

fn details_as(
    out: &mut String,
    g: &Group,
    program: &Program,
    r: &Report,
    files: &Files,
    grouped: bool,
) {
    let arch = g.arch.map(|a| a.name());
    let (results, _) = crate::doc::group_entries(arch, &g.sources, program, r, files);
    let doc = Doc {
        results,
        ..Doc::default()
    };
    blocks(out, &doc, arch, grouped);
}

/// Collapses whitespace and shortens long source text for one-line display.
fn one_line(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max - 3).collect();
        format!("{cut}...")
    }
}

/// One counterexample, as a codespan diagnostic with the values as notes.
pub fn counterexample(
    arch: Option<&str>,
    sources: &SourceMap,
    program: &Program,
    files: &Files,
    rule: &RuleReport,
    inst: &InstanceReport,
    cex: &Counterexample,
) -> String {
    let enums = &program.enums;
    let mut notes = Vec::new();
    if !cex.chain.is_empty() {
        notes.push(format!("through: {}", cex.chain.join(", ")));
    }
    let mut lines = Vec::new();
    for i in &cex.inputs {
        let mut s = format!("{} = {}", i.name, show(&i.value, enums, true));
        if let Some(reg) = &i.register {
            let _ = write!(s, ", held in register {}", show(reg, enums, false));
        }
        lines.push(s);
    }
    if !lines.is_empty() {
        notes.push(labelled("inputs:  ", &lines));
    }
    let pads: Vec<String> = cex
        .paddings
        .iter()
        .map(|p| {
            let place = if p.term.is_empty() {
                String::new()
            } else {
                format!(" in `{}`", p.term)
            };
            let width = match &p.value {
                Value::Bv(b) => b.width(),
                _ => p.operand_bits,
            };
            format!(
                "{}{place} = {}, bits {}..{} unconstrained",
                one_line(sources.snippet(p.span), 40),
                show(&p.value, enums, false),
                width - 1,
                p.operand_bits
            )
        })
        .collect();
    if !pads.is_empty() {
        notes.push(labelled("padding: ", &pads));
    }
    let terms = |ts: &[loweq_verify::report::TermValue]| -> Vec<String> {
        let width = ts
            .iter()
            .map(|t| one_line(&t.text, 56).chars().count())
            .max()
            .unwrap_or(0);
        let mut lines = Vec::new();
        for t in ts {
            let value = if t.traps {
                "traps".to_string()
            } else {
                show(&t.value, enums, false)
            };
            lines.push(format!("{:<width$} = {value}", one_line(&t.text, 56)));
            // What the IR operation computes on the way (the effective
            // shift amount of a shift).
            let parts: Vec<String> = t
                .parts
                .iter()
                .filter(|(s, _)| !is_literal(sources.snippet(*s)))
                .map(|(s, v)| {
                    format!(
                        "{} = {}",
                        one_line(sources.snippet(*s), 40),
                        show(v, enums, false)
                    )
                })
                .collect();
            if !parts.is_empty() && !t.traps {
                lines.push(format!("  where {}", parts.join(", ")));
            }
        }
        elide(lines)
    };
    if !cex.lhs.is_empty() {
        notes.push(labelled("IR:      ", &terms(&cex.lhs)));
    }
    if !cex.rhs.is_empty() {
        let mut lines = terms(&cex.rhs);
        // The machine result: say which of its bits count.
        if let (Some(last), Some(n), Some(Value::Bv(b)), Some(false)) = (
            lines.last_mut(),
            cex.result_width,
            cex.rhs.last().map(|t| &t.value),
            cex.rhs.last().map(|t| t.traps),
        ) {
            if b.width() > n {
                let _ = write!(last, ", low {n} bits {}", hex(&b.extract(n - 1, 0)));
            }
        }
        notes.push(labelled("machine: ", &lines));
    }
    for f in &cex.failures {
        let source = one_line(sources.snippet(f.span), 72);
        let mut lines = vec![if source.is_empty() {
            f.what.clone()
        } else {
            format!("{}: {source}", f.what)
        }];
        // Literals say nothing new: show only the parts that are computed.
        let parts: Vec<String> = f
            .parts
            .iter()
            .filter(|(s, _)| !is_literal(sources.snippet(*s)))
            .map(|(s, v)| {
                let text = one_line(sources.snippet(*s), 48);
                format!("{text} = {}", show(v, enums, false))
            })
            .collect();
        if !parts.is_empty() {
            lines.push(format!("  where {}", parts.join(", ")));
        }
        // Which call it is about, and with what.
        if let Some(call) = &f.call {
            lines.push(format!("  in the call {}", one_line(&call.text, 64)));
            let args: Vec<String> = call
                .args
                .iter()
                .map(|(text, v)| format!("{} = {}", one_line(text, 32), show(v, enums, false)))
                .collect();
            if !args.is_empty() {
                lines.push(format!("  with {}", args.join(", ")));
            }
        }
        notes.push(labelled("failed:  ", &lines));
    }
    notes.extend(cex.notes.iter().map(|n| format!("hint: {n}")));
    let mut message = format!(
        "{}rule `{}` is wrong for {}",
        tag(arch),
        rule.name,
        inst.label
    );
    let mut labels = vec![
        Label::primary(rule.span.file.0, rule.span.start..rule.span.end)
            .with_message(format!("wrong for {}", inst.label)),
    ];
    if let Some(d) = &cex.disagreement {
        let _ = write!(
            message,
            ": it relies on the spec of extractor macro `{}`, which disagrees with its expansion at {}",
            d.name, d.label
        );
        labels.push(
            Label::secondary(d.span.file.0, d.span.start..d.span.end).with_message(format!(
                "its spec disagrees with this expansion at {}",
                d.label
            )),
        );
        notes.insert(
            0,
            format!(
                "macro:   the proof takes the spec of `{}` as what the pattern means; the generated code matches its expansion, whose values below break that spec",
                d.name
            ),
        );
    }
    let d = Cs::error()
        .with_message(message)
        .with_labels(labels)
        .with_notes(notes);
    files.render_raw(&d)
}

/// At most this many term lines per side; a huge rule shows its first and
/// last ones.
const MAX_TERM_LINES: usize = 24;

fn elide(mut lines: Vec<String>) -> Vec<String> {
    if lines.len() > MAX_TERM_LINES {
        let keep = MAX_TERM_LINES / 2;
        let hidden = lines.len() - 2 * keep;
        lines.splice(
            keep..lines.len() - keep,
            [format!("... {hidden} more terms ...")],
        );
    }
    lines
}

fn is_literal(text: &str) -> bool {
    text.starts_with('#')
        || text.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        || text == "true"
        || text == "false"
}

fn labelled(head: &str, lines: &[String]) -> String {
    let pad = " ".repeat(head.len());
    let mut s = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            s.push('\n');
            s.push_str(&pad);
        } else {
            s.push_str(head);
        }
        s.push_str(l);
    }
    s
}
