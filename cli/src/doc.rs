//! The report of a `loweq verify` run as plain data, which every output
//! format prints: places resolved to file, line and column, values written
//! out, and each counterexample and error block already rendered as the text
//! report shows it. Its JSON form is the `--format json` report, so a report
//! read back from JSON (`loweq merge`) prints in any format exactly as the
//! run that wrote it would have, without the sources.

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::span::{SourceMap, Span};
use loweq_verify::report::Counterexample;
use loweq_verify::{Report, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::render::Files;
use crate::run::{GroupOutcome, Run};
use crate::text;
use crate::values::show;

/// A whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// The counts.
    pub summary: Summary,
    /// One entry per (rule, instantiation), grouped by architecture, rules
    /// in source order.
    pub results: Vec<Entry>,
    /// Rules left out of verification, with the reason.
    pub excluded: Vec<Left>,
    /// Rules not checked in this run (`--changed-since`), with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Left>,
    /// Extractor macros whose specs rules relied on, one entry per
    /// (macro, instantiation) checked against the macro's expansion; their
    /// verdicts are already in the results of those rules, and are not
    /// counted in the summary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub macros: Vec<MacroEntry>,
    /// Problems of inputs that did not load, and of the run as a whole.
    pub diagnostics: Vec<Diag>,
    /// For a run of one shard (`--shard I/N`): which share it is, and the
    /// plan every shard shares, from which `loweq merge` puts the reports
    /// back together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Plan>,
}

/// The counts of a report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Rules verified (with at least one instantiation).
    pub rules: usize,
    /// (rule, instantiation) pairs.
    pub instantiations: usize,
    /// Verified instantiations.
    pub verified: usize,
    /// Counterexamples.
    pub counterexamples: usize,
    /// Inapplicable instantiations.
    pub inapplicable: usize,
    /// Shadowed instantiations.
    pub shadowed: usize,
    /// Unknowns.
    pub unknown: usize,
    /// Error verdicts plus diagnostics.
    pub errors: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The result for one (rule, instantiation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The rule's name.
    pub rule: String,
    /// The file of the rule.
    pub file: String,
    /// Its line (one-based).
    pub line: usize,
    /// Its column (one-based).
    #[serde(default = "one")]
    pub column: usize,
    /// The architecture (`None` for self-contained files).
    pub arch: Option<String>,
    /// The instantiation's name (`i8`, `i64->i8`).
    #[serde(rename = "type")]
    pub label: String,
    /// The verdict.
    #[serde(with = "verdict_name")]
    pub verdict: Verdict,
    /// Milliseconds spent.
    pub millis: u64,
    /// Solver queries made.
    pub queries: u32,
    /// For counterexamples: the values, and the text report's block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Cex>,
    /// For unknown, inapplicable and shadowed verdicts: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For shadowed verdicts: the higher-priority rules that take every
    /// input this instantiation matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shadowed_by: Vec<String>,
    /// For errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Diag>,
}

fn one() -> usize {
    1
}

/// The obligation of one extractor macro at one instantiation: that its
/// spec agrees with its expansion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacroEntry {
    /// The macro's name.
    #[serde(rename = "macro")]
    pub name: String,
    /// The file of its `extractor` definition.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// The architecture (`None` for self-contained files).
    pub arch: Option<String>,
    /// The instantiation's name (`i8`).
    #[serde(rename = "type")]
    pub label: String,
    /// The verdict.
    #[serde(with = "verdict_name")]
    pub verdict: Verdict,
    /// Milliseconds spent.
    pub millis: u64,
    /// Solver queries made.
    pub queries: u32,
    /// Where the spec disagrees: the values (the text block is that of the
    /// first rule relying on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Map<String, Json>>,
    /// For unknown and inapplicable verdicts: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Diag>,
    /// The rules that rely on it.
    pub relied_on_by: Vec<String>,
    /// The macros whose expansions use it.
    #[serde(default)]
    pub inside: Vec<String>,
}

/// A counterexample: its values (schema in README.md) and its text block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cex {
    /// `through`, `inputs`, `paddings`, `lhs`, `rhs`, `failed`, `notes`.
    #[serde(flatten)]
    pub data: Map<String, Json>,
    /// The block the text report prints for it.
    pub text: String,
}

/// A rule left out of the run, with the reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Left {
    /// The rule's name.
    pub rule: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// Its architecture.
    pub arch: Option<String>,
    /// Why it is left out.
    pub reason: String,
}

/// A diagnostic, with its place and the text report's block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diag {
    /// The one-line message.
    pub message: String,
    /// Its file, when it has a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Its column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Hints and notes.
    pub notes: Vec<String>,
    /// For a diagnostic of an input that did not load: the architecture
    /// whose files it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// A problem of the run as a whole (it checked nothing), not of a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub run: bool,
    /// The block the text report prints for it.
    pub text: String,
}

/// Reads and writes a verdict as its name.
mod verdict_name {
    use loweq_verify::Verdict;
    use serde::{Deserialize, Deserializer, Serializer};

    const ALL: [Verdict; 6] = [
        Verdict::Verified,
        Verdict::Counterexample,
        Verdict::Inapplicable,
        Verdict::Shadowed,
        Verdict::Unknown,
        Verdict::Error,
    ];

    pub fn serialize<S: Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Verdict, D::Error> {
        let name = String::deserialize(d)?;
        ALL.into_iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown verdict `{name}`")))
    }
}

/// Where a span is: file name, line, column.
pub fn place(sources: &SourceMap, span: Span) -> (String, usize, usize) {
    let f = sources.file(span.file);
    let (line, col) = f.line_col(span.start);
    (f.name.clone(), line, col)
}

/// A diagnostic as data; `text` is its rendered block.
pub fn diag(sources: &SourceMap, d: &Diagnostic, text: String) -> Diag {
    let (file, line, column) = match d.span {
        Some(s) => {
            let (f, l, c) = place(sources, s);
            (Some(f), Some(l), Some(c))
        }
        None => (None, None, None),
    };
    Diag {
        message: d.message.clone(),
        file,
        line,
        column,
        notes: d.notes.clone(),
        arch: None,
        run: false,
        text,
    }
}

/// A term application of a counterexample: its value, whether it
/// trapped, and the values inside an IR operation's spec.
fn term(
    sources: &SourceMap,
    e: &loweq_semantics::ty::Enums,
    t: &loweq_verify::report::TermValue,
) -> Json {
    let mut v = json!({"term": t.text, "value": show(&t.value, e, false)});
    if t.traps {
        v["traps"] = json!(true);
    }
    if !t.parts.is_empty() {
        v["parts"] = t
            .parts
            .iter()
            .map(|(s, x)| json!({"expr": sources.snippet(*s), "value": show(x, e, false)}))
            .collect();
    }
    v
}

fn counterexample(sources: &SourceMap, program: &Program, c: &Counterexample) -> Map<String, Json> {
    let e = &program.enums;
    let v = json!({
        "through": c.chain,
        "inputs": c.inputs.iter().map(|i| json!({
            "name": i.name,
            "value": show(&i.value, e, false),
            "register": i.register.as_ref().map(|r| show(r, e, false)),
        })).collect::<Vec<_>>(),
        "paddings": c.paddings.iter().map(|p| json!({
            "conversion": sources.snippet(p.span),
            "term": p.term,
            "value": show(&p.value, e, false),
            "operand_bits": p.operand_bits,
        })).collect::<Vec<_>>(),
        "lhs": c.lhs.iter().map(|t| term(sources, e, t)).collect::<Vec<_>>(),
        "rhs": c.rhs.iter().map(|t| term(sources, e, t)).collect::<Vec<_>>(),
        "failed": c.failures.iter().map(|f| {
            let (file, line, column) = place(sources, f.span);
            json!({
                "condition": f.what,
                "source": sources.snippet(f.span),
                "file": file, "line": line, "column": column,
                "parts": f.parts.iter().map(|(s, v)| json!({"expr": sources.snippet(*s), "value": show(v, e, false)})).collect::<Vec<_>>(),
                "call": f.call.as_ref().map(|c| json!({
                    "text": c.text,
                    "args": c.args.iter().map(|(t, v)| json!({"expr": t, "value": show(v, e, false)})).collect::<Vec<_>>(),
                })),
            })
        }).collect::<Vec<_>>(),
        "notes": c.notes,
        "macro": c.disagreement.as_ref().map(|d| {
            let (file, line, _) = place(sources, d.span);
            json!({"name": d.name, "type": d.label, "file": file, "line": line})
        }),
    });
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

/// The entries of one verified group: results and rules left out.
pub fn group_entries(
    arch: Option<&str>,
    sources: &SourceMap,
    program: &Program,
    report: &Report,
    files: &Files,
) -> (Vec<Entry>, Vec<Left>) {
    let tag = text::tag(arch);
    let mut results = Vec::new();
    for rule in &report.rules {
        let (file, line, column) = place(sources, rule.span);
        for i in &rule.instances {
            let counterexample = i.counterexample.as_ref().map(|c| Cex {
                data: counterexample(sources, program, c),
                text: text::counterexample(arch, sources, program, files, rule, i, c),
            });
            let error = i.error.as_ref().map(|d| {
                let mut shown = d.clone();
                shown.message = format!("{tag}rule `{}`: {}", rule.name, d.message);
                diag(sources, d, files.error(&shown))
            });
            results.push(Entry {
                rule: rule.name.clone(),
                file: file.clone(),
                line,
                column,
                arch: arch.map(str::to_string),
                label: i.label.clone(),
                verdict: i.verdict,
                millis: i.millis,
                queries: i.queries,
                counterexample,
                reason: i.reason.clone(),
                shadowed_by: i.shadowed_by.clone(),
                error,
            });
        }
    }
    let excluded = report
        .excluded
        .iter()
        .map(|e| {
            let (file, line, _) = place(sources, e.span);
            Left {
                rule: e.name.clone(),
                file,
                line,
                arch: arch.map(str::to_string),
                reason: e.reason.clone(),
            }
        })
        .collect();
    (results, excluded)
}

/// The macro obligations of one verified group.
pub fn group_macros(
    arch: Option<&str>,
    sources: &SourceMap,
    program: &Program,
    report: &Report,
    files: &Files,
) -> Vec<MacroEntry> {
    let mut out = Vec::new();
    for m in &report.macros {
        let (file, line, _) = place(sources, m.span);
        for i in &m.instances {
            out.push(MacroEntry {
                name: m.name.clone(),
                file: file.clone(),
                line,
                arch: arch.map(str::to_string),
                label: i.label.clone(),
                verdict: i.verdict,
                millis: i.millis,
                queries: i.queries,
                counterexample: i
                    .counterexample
                    .as_ref()
                    .map(|c| counterexample(sources, program, c)),
                reason: i.reason.clone(),
                error: i.error.as_ref().map(|d| {
                    let mut shown = d.clone();
                    shown.message = format!("{}macro `{}`: {}", text::tag(arch), m.name, d.message);
                    diag(sources, d, files.error(&shown))
                }),
                relied_on_by: m.used_by.clone(),
                inside: m.inside.clone(),
            });
        }
    }
    // By place, then width, as `loweq merge` orders the shards' entries.
    out.sort_by_key(|m| (m.file.clone(), m.line, widths(&m.label)));
    out
}

/// The numbers in an instantiation's name (`i8,i16->i8` is 8, 16, 8), to
/// order instantiations by width.
pub fn widths(label: &str) -> Vec<u64> {
    label
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| d.parse().ok())
        .collect()
}

impl Doc {
    /// The report of a run.
    pub fn of(run: &Run) -> Doc {
        let mut doc = Doc::default();
        for (i, g) in run.groups.iter().enumerate() {
            let arch = g.arch.map(|a| a.name());
            let files = Files::new(&g.sources);
            for e in run.skipped.get(i).into_iter().flatten() {
                let (file, line, _) = place(&g.sources, e.span);
                doc.skipped.push(Left {
                    rule: e.name.clone(),
                    file,
                    line,
                    arch: arch.map(str::to_string),
                    reason: e.reason.clone(),
                });
            }
            match &g.outcome {
                GroupOutcome::Rejected(ds) => doc.diagnostics.extend(ds.iter().map(|d| Diag {
                    arch: arch.map(str::to_string),
                    ..diag(&g.sources, d, files.error(d))
                })),
                GroupOutcome::Verified(program, r) => {
                    let (results, excluded) = group_entries(arch, &g.sources, program, r, &files);
                    doc.results.extend(results);
                    doc.excluded.extend(excluded);
                    doc.macros
                        .extend(group_macros(arch, &g.sources, program, r, &files));
                }
            }
        }
        doc.add_problems(&run.problems);
        doc.summary = doc.count(run.seconds);
        doc.shard = run.shard.clone();
        doc
    }

    /// Adds problems of the run as a whole.
    pub fn add_problems(&mut self, problems: &[Diagnostic]) {
        let none = SourceMap::new();
        let files = Files::new(&none);
        self.diagnostics.extend(problems.iter().map(|d| Diag {
            run: true,
            ..diag(&none, d, files.error(d))
        }));
    }

    /// The counts of the report, with the run's seconds.
    pub fn count(&self, seconds: f64) -> Summary {
        let n = |v: Verdict| self.results.iter().filter(|e| e.verdict == v).count();
        Summary {
            rules: self.rules().len(),
            instantiations: self.results.len(),
            verified: n(Verdict::Verified),
            counterexamples: n(Verdict::Counterexample),
            inapplicable: n(Verdict::Inapplicable),
            shadowed: n(Verdict::Shadowed),
            unknown: n(Verdict::Unknown),
            errors: n(Verdict::Error) + self.diagnostics.len(),
            seconds,
        }
    }

    /// The results grouped by rule, in order.
    pub fn rules(&self) -> Vec<&[Entry]> {
        let same = |a: &Entry, b: &Entry| {
            a.rule == b.rule && a.arch == b.arch && a.file == b.file && a.line == b.line
        };
        self.results.chunk_by(same).collect()
    }

    /// The process exit code: 1 if any rule is wrong, else 2 if any input
    /// was bad, else 3 if anything is unknown, else 0.
    pub fn exit_code(&self) -> i32 {
        let s = &self.summary;
        if s.counterexamples > 0 {
            1
        } else if s.errors > 0 {
            2
        } else if s.unknown > 0 {
            3
        } else {
            0
        }
    }

    /// The architectures of the report in report order (x64, aarch64, then
    /// self-contained files), each with its results, rules left out and
    /// diagnostics.
    pub fn groups(&self) -> Vec<Option<&str>> {
        let mut groups: Vec<Option<&str>> = self
            .results
            .iter()
            .map(|e| e.arch.as_deref())
            .chain(self.excluded.iter().map(|e| e.arch.as_deref()))
            .chain(self.skipped.iter().map(|e| e.arch.as_deref()))
            .chain(self.macros.iter().map(|e| e.arch.as_deref()))
            .chain(
                self.diagnostics
                    .iter()
                    .filter(|d| !d.run)
                    .map(|d| d.arch.as_deref()),
            )
            .collect();
        groups.sort_by_key(|a| group_rank(*a));
        groups.dedup();
        groups
    }
}

/// The order of groups in a report.
pub fn group_rank(arch: Option<&str>) -> (usize, String) {
    match arch {
        Some(a) => (
            crate::shipped::Arch::ALL
                .iter()
                .position(|x| x.name() == a)
                .unwrap_or(crate::shipped::Arch::ALL.len()),
            a.to_string(),
        ),
        None => (usize::MAX, String::new()),
    }
}
