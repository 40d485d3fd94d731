//! The reports of `loweq coverage`: a table of operations by type, the
//! cells that are not verified with the reason, and a summary; or one JSON
//! document (schema in README.md).

use std::fmt::Write as _;

use loweq_semantics::span::SourceMap;
use serde_json::{json, Value as Json};

use super::{Cell, Coverage, Status};
use crate::shipped::Arch;

/// The coverage of one architecture's program.
pub struct ArchCoverage {
    /// The architecture.
    pub arch: Arch,
    /// Its loaded files, for rule locations.
    pub sources: SourceMap,
    /// What it covers.
    pub coverage: Coverage,
}

fn type_name(width: u32) -> String {
    format!("i{width}")
}

/// What a cell shows in the table: how many rules apply, and the status.
fn entry(c: &Cell) -> String {
    let n = c.rules().len();
    match c.status() {
        Status::Verified => format!("{n} ok"),
        Status::Unverified => format!("{n} FAIL"),
        Status::Uncovered if n == 0 => "none".into(),
        Status::Uncovered => format!("{n} part"),
    }
}

fn location(sources: &SourceMap, span: loweq_semantics::span::Span) -> String {
    let f = sources.file(span.file);
    format!("{}:{}", f.name, f.line_col(span.start).0)
}

/// Why a cell is uncovered: each signature without a general verified
/// rule (named when the cell has several), and the rules that lower only
/// some of its instructions there.
fn uncovered_reason(c: &Cell) -> String {
    if c.rules().is_empty() {
        return "no rule".into();
    }
    let parts: Vec<String> = c
        .missing()
        .map(|s| {
            let partial: Vec<&str> = s.rules.iter().map(|r| r.rule.as_str()).collect();
            let why = if partial.is_empty() {
                "no rule".to_string()
            } else {
                format!(
                    "only rules that match some instructions ({})",
                    partial.join(", ")
                )
            };
            match c.sigs.len() {
                1 => why,
                _ => format!("at {}, {why}", s.label),
            }
        })
        .collect();
    parts.join("; ")
}

/// Lines `op at i8, i16: reason`, one per run of cells of one operation
/// with the same reason.
fn grouped<'c>(cells: impl Iterator<Item = (&'c str, u32, String)>) -> Vec<String> {
    let mut lines: Vec<(&str, String, Vec<String>)> = Vec::new();
    for (op, width, reason) in cells {
        match lines.last_mut() {
            Some((o, r, tys)) if *o == op && *r == reason => tys.push(type_name(width)),
            _ => lines.push((op, reason, vec![type_name(width)])),
        }
    }
    lines
        .into_iter()
        .map(|(op, reason, tys)| format!("{op} at {}: {reason}", tys.join(", ")))
        .collect()
}

/// The text report.
pub fn text(arches: &[ArchCoverage]) -> String {
    let mut out = String::new();
    for a in arches {
        let cov = &a.coverage;
        let arch = a.arch.name();
        let mut widths: Vec<u32> = cov.cells.iter().map(|c| c.width).collect();
        widths.sort_unstable();
        widths.dedup();
        let mut ops: Vec<&str> = Vec::new();
        for c in &cov.cells {
            if !ops.contains(&c.op.as_str()) {
                ops.push(&c.op);
            }
        }
        let op_w = ops.iter().map(|o| o.len()).max().unwrap_or(2).max(2) + 2;
        let _ = writeln!(
            out,
            "[{arch}] {} IR operations by type: rules that lower each, and whether all verified",
            ops.len()
        );
        let mut header = format!("{:op_w$}", "op");
        for w in &widths {
            let _ = write!(header, "{:10}", type_name(*w));
        }
        let _ = writeln!(out, "{}", header.trim_end());
        for op in &ops {
            let mut line = format!("{op:op_w$}");
            for w in &widths {
                let e = cov
                    .cells
                    .iter()
                    .find(|c| c.op == *op && c.width == *w)
                    .map(entry)
                    .unwrap_or_default();
                let _ = write!(line, "{e:10}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let mut failures = Vec::new();
        for c in &cov.cells {
            for r in c.failures() {
                let mut why = format!(
                    "rule `{}` ({}) {}",
                    r.rule,
                    location(&a.sources, r.span),
                    r.verdict.name(),
                );
                if r.label != type_name(c.width) {
                    let _ = write!(why, " at {}", r.label);
                }
                failures.push((c.op.as_str(), c.width, why));
            }
        }
        if !failures.is_empty() {
            let _ = writeln!(out, "\nunverified:");
            for line in grouped(failures.into_iter()) {
                let _ = writeln!(out, "  [{arch}] {line}");
            }
        }
        let uncovered = cov
            .cells
            .iter()
            .filter(|c| c.status() == Status::Uncovered)
            .map(|c| (c.op.as_str(), c.width, uncovered_reason(c)));
        let lines = grouped(uncovered);
        if !lines.is_empty() {
            let _ = writeln!(out, "\nuncovered:");
            for line in lines {
                let _ = writeln!(out, "  [{arch}] {line}");
            }
        }
        if !cov.other_rules.is_empty() {
            let _ = writeln!(
                out,
                "\n[{arch}] rules that lower no IR operation of {}: {}",
                super::IR_SPECS,
                cov.other_rules.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "\n[{arch}] {} cells: {} verified, {} unverified, {} uncovered\n",
            cov.cells.len(),
            cov.count(Status::Verified),
            cov.count(Status::Unverified),
            cov.count(Status::Uncovered)
        );
    }
    let n = out.trim_end().len();
    out.truncate(n);
    out.push('\n');
    out
}

/// The JSON report.
pub fn json(arches: &[ArchCoverage]) -> Json {
    let mut all = Vec::new();
    let (mut cells, mut verified, mut unverified, mut uncovered) = (0, 0, 0, 0);
    for a in arches {
        let cov = &a.coverage;
        cells += cov.cells.len();
        verified += cov.count(Status::Verified);
        unverified += cov.count(Status::Unverified);
        uncovered += cov.count(Status::Uncovered);
        let rows: Vec<Json> = cov
            .cells
            .iter()
            .map(|c| {
                let sigs: Vec<Json> = c
                    .sigs
                    .iter()
                    .map(|s| {
                        let rules: Vec<Json> = s
                            .rules
                            .iter()
                            .map(|r| {
                                let f = a.sources.file(r.span.file);
                                json!({
                                    "rule": r.rule,
                                    "file": f.name,
                                    "line": f.line_col(r.span.start).0,
                                    "general": r.general,
                                    "instantiation": r.label,
                                    "verdict": r.verdict.name(),
                                })
                            })
                            .collect();
                        json!({"instantiation": s.label, "rules": rules})
                    })
                    .collect();
                json!({
                    "op": c.op,
                    "type": type_name(c.width),
                    "status": c.status().name(),
                    "rules": c.rules(),
                    "signatures": sigs,
                })
            })
            .collect();
        all.push(json!({
            "arch": a.arch.name(),
            "cells": rows,
            "other_rules": cov.other_rules,
        }));
    }
    json!({
        "summary": {"cells": cells, "verified": verified, "unverified": unverified, "uncovered": uncovered},
        "arches": all,
        "diagnostics": [],
    })
}

/// The JSON document of a coverage run whose input did not load or that
/// could not run: no cells, and the problems as in the report of `loweq
/// verify` (`diagnostics`), so that a tool reading standard output always
/// gets JSON.
pub fn json_failed(diagnostics: &[crate::doc::Diag]) -> Json {
    json!({
        "summary": {"cells": 0, "verified": 0, "unverified": 0, "uncovered": 0},
        "arches": [],
        "diagnostics": diagnostics,
    })
}
