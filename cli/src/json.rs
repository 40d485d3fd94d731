//! The JSON report of `loweq verify` (schema in README.md).

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::span::{SourceMap, Span};
use loweq_verify::report::Counterexample;
use serde_json::{json, Map, Value as Json};

use crate::run::{GroupOutcome, Run};
use crate::text::Totals;
use crate::values::show;

fn place(sources: &SourceMap, span: Span) -> (String, usize, usize) {
    let f = sources.file(span.file);
    let (line, col) = f.line_col(span.start);
    (f.name.clone(), line, col)
}

fn diagnostic(sources: &SourceMap, d: &Diagnostic) -> Json {
    let mut m = Map::new();
    m.insert("message".into(), json!(d.message));
    if let Some(s) = d.span {
        let (file, line, column) = place(sources, s);
        m.insert("file".into(), json!(file));
        m.insert("line".into(), json!(line));
        m.insert("column".into(), json!(column));
    }
    m.insert("notes".into(), json!(d.notes));
    Json::Object(m)
}

fn counterexample(sources: &SourceMap, program: &Program, c: &Counterexample) -> Json {
    let e = &program.enums;
    json!({
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
        "lhs": c.lhs.iter().map(|t| json!({"term": t.text, "value": show(&t.value, e, false)})).collect::<Vec<_>>(),
        "rhs": c.rhs.iter().map(|t| json!({"term": t.text, "value": show(&t.value, e, false)})).collect::<Vec<_>>(),
        "failed": c.failures.iter().map(|f| {
            let (file, line, column) = place(sources, f.span);
            json!({
                "condition": f.what,
                "source": sources.snippet(f.span),
                "file": file, "line": line, "column": column,
                "parts": f.parts.iter().map(|(s, v)| json!({"expr": sources.snippet(*s), "value": show(v, e, false)})).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
        "notes": c.notes,
        "macro": c.disagreement.as_ref().map(|d| {
            let (file, line, _) = place(sources, d.span);
            json!({"name": d.name, "type": d.label, "file": file, "line": line})
        }),
    })
}

/// One result: a (rule or macro, instantiation) pair.
fn instance(
    sources: &SourceMap,
    program: &Program,
    i: &loweq_verify::InstanceReport,
    m: &mut Map<String, Json>,
) {
    m.insert("type".into(), json!(i.label));
    m.insert("verdict".into(), json!(i.verdict.name()));
    m.insert("millis".into(), json!(i.millis));
    m.insert("queries".into(), json!(i.queries));
    if let Some(c) = &i.counterexample {
        m.insert("counterexample".into(), counterexample(sources, program, c));
    }
    if let Some(reason) = &i.reason {
        m.insert("reason".into(), json!(reason));
    }
    if !i.shadowed_by.is_empty() {
        m.insert("shadowed_by".into(), json!(i.shadowed_by));
    }
    if let Some(d) = &i.error {
        m.insert("error".into(), diagnostic(sources, d));
    }
}

/// The whole JSON report.
pub fn report(run: &Run) -> Json {
    let t = Totals::of(run);
    let mut results = Vec::new();
    let mut excluded = Vec::new();
    let mut macros = Vec::new();
    let mut diagnostics = Vec::new();
    for g in &run.groups {
        let arch = g.arch.map(|a| a.name());
        match &g.outcome {
            GroupOutcome::Rejected(ds) => {
                diagnostics.extend(ds.iter().map(|d| diagnostic(&g.sources, d)))
            }
            GroupOutcome::Verified(program, r) => {
                for rule in &r.rules {
                    let (file, line, _) = place(&g.sources, rule.span);
                    for i in &rule.instances {
                        let mut m = Map::new();
                        m.insert("rule".into(), json!(rule.name));
                        m.insert("file".into(), json!(file));
                        m.insert("line".into(), json!(line));
                        m.insert("arch".into(), json!(arch));
                        instance(&g.sources, program, i, &mut m);
                        results.push(Json::Object(m));
                    }
                }
                for mac in &r.macros {
                    let (file, line, _) = place(&g.sources, mac.span);
                    for i in &mac.instances {
                        let mut m = Map::new();
                        m.insert("macro".into(), json!(mac.name));
                        m.insert("file".into(), json!(file));
                        m.insert("line".into(), json!(line));
                        m.insert("arch".into(), json!(arch));
                        instance(&g.sources, program, i, &mut m);
                        m.insert("relied_on_by".into(), json!(mac.used_by));
                        m.insert("inside".into(), json!(mac.inside));
                        macros.push(Json::Object(m));
                    }
                }
                for e in &r.excluded {
                    let (file, line, _) = place(&g.sources, e.span);
                    excluded.push(json!({"rule": e.name, "file": file, "line": line, "arch": arch, "reason": e.reason}));
                }
            }
        }
    }
    let none = SourceMap::new();
    diagnostics.extend(run.problems.iter().map(|d| diagnostic(&none, d)));
    json!({
        "summary": {
            "rules": t.rules,
            "instantiations": t.instantiations,
            "verified": t.verified,
            "counterexamples": t.counterexamples,
            "inapplicable": t.inapplicable,
            "shadowed": t.shadowed,
            "unknown": t.unknown,
            "errors": t.errors,
            "seconds": run.seconds,
        },
        "results": results,
        "excluded": excluded,
        "macros": macros,
        "diagnostics": diagnostics,
    })
}
