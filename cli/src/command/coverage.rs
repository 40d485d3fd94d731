//! `loweq coverage`: the rules verified, then which of them lower each IR
//! operation at each type, as text or JSON.

use std::process::ExitCode;

use loweq::doc::Doc;
use loweq::run;
use loweq::text;
use loweq_verify::Progress;

use super::{emit, fail, progress_bar, solver_options, target};
use crate::{CoverageArgs, TextOrJson};

/// Runs `loweq coverage`; its exit status is the one `loweq coverage --help` describes.
pub fn execute(args: CoverageArgs) -> ExitCode {
    use loweq::coverage::{self, report};
    if !args.files.is_empty() && args.arch.is_none() {
        return fail("coverage of rule files needs --arch: the IR operations and instruction specs are those of an architecture");
    }
    let options = match solver_options(args.timeout, args.max_expansions, args.jobs) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let bar = progress_bar(args.progress);
    let progress = |p: Progress| bar.update(p);
    let target = target(args.files, args.arch);
    let json = args.format == TextOrJson::Json;
    let run = match run::verify(&target, &options, None, &progress) {
        Ok(r) => r,
        Err(d) => {
            bar.finish();
            if json {
                let mut doc = Doc::default();
                doc.add_problems(std::slice::from_ref(&d));
                emit_json(&report::json_failed(&doc.diagnostics));
            }
            let mut msg = d.message;
            for n in d.notes {
                msg.push_str(&format!("\n  = {n}"));
            }
            return fail(&msg);
        }
    };
    bar.finish();
    let mut arches = Vec::new();
    for g in &run.groups {
        match (&g.outcome, g.arch) {
            (run::GroupOutcome::Verified(program, r), Some(arch)) => {
                arches.push(report::ArchCoverage {
                    arch,
                    sources: g.sources.clone(),
                    coverage: coverage::coverage(program, r),
                })
            }
            _ => {
                // Input that did not load: the verifier's report says why.
                match json {
                    true => emit_json(&report::json_failed(&Doc::of(&run).diagnostics)),
                    false => emit(&text::report(&run)),
                }
                return ExitCode::from(2);
            }
        }
    }
    match args.format {
        TextOrJson::Text => emit(&report::text(&arches)),
        TextOrJson::Json => emit_json(&report::json(&arches)),
    }
    match arches.iter().all(|a| a.coverage.complete()) {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}

/// Prints a JSON document on standard output.
fn emit_json(doc: &serde_json::Value) {
    // A `Value` always serializes.
    emit(&(serde_json::to_string_pretty(doc).unwrap_or_default() + "\n"));
}
