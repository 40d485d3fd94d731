//! `loweq conform`: running the instruction specs against the machines,
//! and its text and JSON reports.

use std::fmt::Write as _;

use loweq_conform::report::{ArchReport, Disagreement, InstResult, Observed};
use loweq_conform::{ConformError, Isa, Options};
use loweq_dsl::Program;
use loweq_semantics::span::SourceMap;
use serde_json::{json, Value as Json};

use crate::shipped::{self, Arch};

/// What happened to one architecture.
pub enum ArchOutcome {
    /// It ran.
    Ran(ArchReport),
    /// It could not run: the machine is missing, or the specs or the
    /// mapping are broken.
    Failed(Isa, ConformError),
}

/// A whole run.
pub struct ConformRun {
    /// One outcome per architecture, in order.
    pub arches: Vec<ArchOutcome>,
}

impl ConformRun {
    /// 1 if the spec and a machine disagree anywhere, else 2 if a machine
    /// was unavailable, an input was bad or a check could not be done,
    /// else 0.
    pub fn exit_code(&self) -> u8 {
        let mut disagree = false;
        let mut bad = false;
        for a in &self.arches {
            match a {
                ArchOutcome::Ran(r) => {
                    disagree |= r.disagreements() > 0;
                    bad |= r.errors() > 0;
                }
                ArchOutcome::Failed(..) => bad = true,
            }
        }
        if disagree {
            1
        } else if bad {
            2
        } else {
            0
        }
    }
}

fn isa(arch: Arch) -> Isa {
    match arch {
        Arch::X64 => Isa::X64,
        Arch::Aarch64 => Isa::Aarch64,
    }
}

/// The shipped specs and rules of an architecture, loaded.
pub fn program(arch: Arch) -> Result<Program, String> {
    let mut sources = SourceMap::new();
    for f in shipped::specs(arch).into_iter().chain(shipped::rules(arch)) {
        sources.add(f);
    }
    loweq_dsl::load(sources).map_err(|diags| {
        let msgs: Vec<String> = diags.into_iter().map(|d| d.message).collect();
        format!(
            "the shipped {} specs do not load (a bug in loweq):\n  {}",
            arch.name(),
            msgs.join("\n  ")
        )
    })
}

/// Runs the conformance of each architecture.
pub fn run(arches: &[Arch], options: &Options) -> Result<ConformRun, String> {
    let mut out = Vec::new();
    for &arch in arches {
        let program = program(arch)?;
        let isa = isa(arch);
        let (file, text) =
            loweq_conform::map::shipped(isa.name()).ok_or("no mapping table for the arch")?;
        let make = move || isa.machine();
        let mut opts = options.clone();
        if arches.len() > 1 {
            // `--inst` names terms of either architecture.
            opts.insts.retain(|n| {
                loweq_conform::map::Table::parse(file, text)
                    .is_ok_and(|t| t.insts.iter().any(|i| i.term.get_ref() == n))
            });
            if !options.insts.is_empty() && opts.insts.is_empty() {
                continue;
            }
        }
        out.push(
            match loweq_conform::run(&program, isa, file, text, &opts, &make) {
                Ok(r) => ArchOutcome::Ran(r),
                Err(e) => ArchOutcome::Failed(isa, e),
            },
        );
    }
    if out.is_empty() {
        let mut names = Vec::new();
        for isa in arches {
            if let Some((file, text)) = loweq_conform::map::shipped(isa.name()) {
                if let Ok(t) = loweq_conform::map::Table::parse(file, text) {
                    names.extend(t.insts.iter().map(|i| i.term.get_ref().to_string()));
                }
            }
        }
        let hints: Vec<String> = options
            .insts
            .iter()
            .filter_map(|n| loweq_dsl::diag::did_you_mean(n, names.iter().map(String::as_str)))
            .collect();
        return Err(format!(
            "no instruction term named {} in either mapping{} (see `loweq conform --list`)",
            options.insts.join(", "),
            match hints.is_empty() {
                true => String::new(),
                false => format!("; {}", hints.join(" ")),
            }
        ));
    }
    Ok(ConformRun { arches: out })
}

fn observed(reg: &str, o: &Observed) -> String {
    let hex = |v: u64| loweq_semantics::value::BitVec::from_u128(64, u128::from(v)).hex_grouped();
    match o {
        Observed::Trap(t) => format!("trap ({t})"),
        Observed::Value(v) => format!("{reg} = {}", hex(*v)),
        Observed::Memory {
            value: Some(v),
            writes,
        } => format!("{reg} = {}; memory: {writes}", hex(*v)),
        Observed::Memory {
            value: None,
            writes,
        } => format!("memory: {writes}"),
        Observed::Flags(f) => format!("flags {f}"),
        Observed::Error(e) => format!("cannot be evaluated: {e}"),
    }
}

fn disagreement(out: &mut String, isa: Isa, r: &InstResult, d: &Disagreement) {
    let _ = writeln!(
        out,
        "error: [{}] `{}` at {} disagrees with the machine",
        isa.name(),
        r.term,
        r.variant
    );
    let mut lines = d.listing.lines();
    let _ = writeln!(out, "  = code:    {}", lines.next().unwrap_or(""));
    for l in lines {
        let _ = writeln!(out, "             {l}");
    }
    for (i, input) in d.inputs.iter().enumerate() {
        let head = if i == 0 {
            "  = inputs:  "
        } else {
            "             "
        };
        let place = input
            .place
            .as_ref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let _ = writeln!(out, "{head}{} = {}{place}", input.name, input.value);
    }
    let _ = writeln!(out, "  = spec:    {}", observed(&d.result_reg, &d.spec));
    let _ = writeln!(out, "  = machine: {}", observed(&d.result_reg, &d.machine));
    if let Some(n) = &d.note {
        let _ = writeln!(out, "  = note:    {n}");
    }
    let _ = writeln!(out, "  = {} of {} vectors agree", r.agreed, r.vectors);
}

fn per_second(vectors: usize, seconds: f64) -> String {
    if seconds > 0.0 {
        format!("{:.0} vectors/s", vectors as f64 / seconds)
    } else {
        "-".into()
    }
}

/// The text report: a line per (instruction, variant), the disagreements
/// in full, what was not run, and a summary per architecture.
pub fn text(run: &ConformRun) -> String {
    let mut out = String::new();
    for a in &run.arches {
        let r = match a {
            ArchOutcome::Ran(r) => r,
            ArchOutcome::Failed(isa, e) => {
                let _ = writeln!(out, "error: [{}] {e}\n", isa.name());
                continue;
            }
        };
        let name = r.isa.name();
        let _ = writeln!(out, "[{name}] on {}", r.machine);
        let width = r.results.iter().map(|x| x.term.len()).max().unwrap_or(0);
        let vwidth = r.results.iter().map(|x| x.variant.len()).max().unwrap_or(0);
        for x in &r.results {
            let status = if let Some(e) = &x.error {
                format!("ERROR: {e}")
            } else if x.first.is_some() {
                format!("DISAGREE ({} of {} agree)", x.agreed, x.vectors)
            } else if x.vectors == 0 {
                format!(
                    "not emitted: the spec's require excludes all {} vectors",
                    x.outside
                )
            } else {
                let mut s = format!("{} vectors agree", x.vectors);
                if x.outside > 0 {
                    let _ = write!(s, " ({} outside the require)", x.outside);
                }
                s
            };
            let _ = writeln!(out, "  {:width$}  {:vwidth$}  {status}", x.term, x.variant);
        }
        let _ = writeln!(out);
        for x in &r.results {
            if let Some(d) = &x.first {
                disagreement(&mut out, r.isa, x, d);
                let _ = writeln!(out);
            }
        }
        if !r.coverage.is_complete() {
            let _ = writeln!(out, "error: [{name}] the mapping does not cover the specs:");
            for l in r.coverage.to_string().lines() {
                let _ = writeln!(out, "  {l}");
            }
            let _ = writeln!(out);
        }
        if !r.not_run.is_empty() {
            let _ = writeln!(out, "[{name}] instruction terms not run:");
            for n in &r.not_run {
                let used = if n.used_by_rules {
                    " (used by shipped rules)"
                } else {
                    ""
                };
                let _ = writeln!(out, "  {}{used}: {}", n.term, n.reason);
            }
            let _ = writeln!(out);
        }
        let terms: std::collections::BTreeSet<&str> =
            r.results.iter().map(|x| x.term.as_str()).collect();
        let _ = writeln!(
            out,
            "[{name}] {} instructions, {} variants, {} vectors: {} disagree, {} errors; \
             {} variants checked to leave the flags unchanged; \
             {} shipped instruction terms unexercised; {:.2} s ({})\n",
            terms.len(),
            r.results.len(),
            r.vectors(),
            r.disagreements(),
            r.errors(),
            r.keeps_flags(),
            r.unexercised().len(),
            r.seconds,
            per_second(r.vectors(), r.seconds)
        );
    }
    out
}

fn observed_json(o: &Observed) -> Json {
    match o {
        Observed::Trap(t) => json!({"trap": t}),
        Observed::Value(v) => json!({"value": format!("{v:#018x}")}),
        Observed::Memory { value, writes } => json!({
            "value": value.map(|v| format!("{v:#018x}")),
            "memory": writes,
        }),
        Observed::Flags(f) => json!({"flags": f}),
        Observed::Error(e) => json!({"error": e}),
    }
}

/// The JSON report (schema in README.md).
pub fn json(run: &ConformRun) -> Json {
    let arches: Vec<Json> = run
        .arches
        .iter()
        .map(|a| match a {
            ArchOutcome::Failed(isa, e) => json!({"arch": isa.name(), "error": e.to_string()}),
            ArchOutcome::Ran(r) => json!({
                "arch": r.isa.name(),
                "machine": r.machine,
                "seconds": (r.seconds * 1000.0).round() / 1000.0,
                "vectors": r.vectors(),
                "disagreements": r.disagreements(),
                "errors": r.errors(),
                "keeps_flags": r.keeps_flags(),
                "unmapped": r.coverage.missing.iter().map(|t| json!({
                    "term": t.name, "spec": t.location,
                })).collect::<Vec<_>>(),
                "stale": r.coverage.stale,
                "duplicate": r.coverage.duplicate,
                "misfiled": r.coverage.misfiled.iter().map(|m| json!({
                    "term": m.name, "type": m.ty,
                })).collect::<Vec<_>>(),
                "results": r.results.iter().map(|x| json!({
                    "term": x.term,
                    "variant": x.variant,
                    "code": x.code,
                    "vectors": x.vectors,
                    "agreed": x.agreed,
                    "outside": x.outside,
                    "keeps_flags": x.keeps_flags,
                    "error": x.error,
                    "disagreement": x.first.as_ref().map(|d| json!({
                        "code": d.listing,
                        "inputs": d.inputs.iter().map(|i| json!({
                            "name": i.name, "place": i.place, "value": i.value,
                        })).collect::<Vec<_>>(),
                        "register": d.result_reg,
                        "spec": observed_json(&d.spec),
                        "machine": observed_json(&d.machine),
                        "note": d.note,
                    })),
                })).collect::<Vec<_>>(),
                "not_run": r.not_run.iter().map(|n| json!({
                    "term": n.term, "reason": n.reason, "used_by_rules": n.used_by_rules,
                })).collect::<Vec<_>>(),
                "unexercised": r.unexercised().iter().map(|n| n.term.clone()).collect::<Vec<_>>(),
            }),
        })
        .collect();
    json!({ "arches": arches })
}

/// The benchmark lines: vectors per second per architecture, end to end.
pub fn bench(run: &ConformRun) -> String {
    let mut out = String::new();
    let mut total = 0.0;
    for a in &run.arches {
        match a {
            ArchOutcome::Ran(r) => {
                total += r.seconds;
                let spec: f64 = r.results.iter().map(|x| x.spec_seconds).sum();
                let machine: f64 = r.results.iter().map(|x| x.machine_seconds).sum();
                let _ = writeln!(
                    out,
                    "{}: {} variants, {} vectors in {:.2} s: {} (summed over threads: \
                     vectors and spec evaluation {:.2} s, machine {:.2} s)",
                    r.isa.name(),
                    r.results.len(),
                    r.vectors(),
                    r.seconds,
                    per_second(r.vectors(), r.seconds),
                    spec,
                    machine
                );
            }
            ArchOutcome::Failed(isa, e) => {
                let _ = writeln!(out, "{}: did not run: {e}", isa.name());
            }
        }
    }
    let _ = writeln!(out, "total: {total:.2} s");
    out
}

/// Lists the mapped instruction terms of each architecture.
pub fn list(arches: &[Arch]) -> Result<String, String> {
    let mut out = String::new();
    for &arch in arches {
        let isa = isa(arch);
        let (file, text) =
            loweq_conform::map::shipped(isa.name()).ok_or("no mapping table for the arch")?;
        let table = loweq_conform::map::Table::parse(file, text).map_err(|e| e.to_string())?;
        let _ = writeln!(out, "[{}] ({file})", isa.name());
        for i in &table.insts {
            let _ = writeln!(out, "  {}", i.term.get_ref());
        }
        for u in &table.unrunnable {
            let _ = writeln!(out, "  {} (not run: {})", u.term, u.reason);
        }
    }
    Ok(out)
}
