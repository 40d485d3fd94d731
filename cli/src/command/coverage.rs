//! `loweq coverage`: the rules verified, then which of them lower each IR
//! operation at each type, as text or JSON.

use std::io::IsTerminal;
use std::process::ExitCode;

use loweq::run;
use loweq::{flags, progress, text};
use loweq_verify::{Options, Progress};

use super::{emit, fail, jobs, target};
use crate::{CoverageArgs, TextOrJson, When};

/// Runs `loweq coverage`; its exit status is the one `loweq coverage --help` describes.
pub fn execute(args: CoverageArgs) -> ExitCode {
    use loweq::coverage::{self, report};
    if !args.files.is_empty() && args.arch.is_none() {
        return fail("coverage of rule files needs --arch: the IR operations and instruction specs are those of an architecture");
    }
    let checked = flags::timeout(args.timeout).and_then(|t| Ok((t, jobs(args.jobs)?)));
    let (timeout, jobs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let options = Options {
        timeout,
        jobs,
        max_expansions: args.max_expansions,
        ..Options::default()
    };
    let show_progress = match args.progress {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    };
    let bar = progress::Reporter::new(show_progress, std::io::stderr().is_terminal());
    let progress = |p: Progress| bar.update(p);
    let target = target(args.files, args.arch);
    let run = match run::verify(&target, &options, None, &progress) {
        Ok(r) => r,
        Err(d) => {
            bar.finish();
            return fail(&d.message);
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
                emit(&text::report(&run));
                return ExitCode::from(2);
            }
        }
    }
    match args.format {
        TextOrJson::Text => emit(&report::text(&arches)),
        TextOrJson::Json => match serde_json::to_string_pretty(&report::json(&arches)) {
            Ok(s) => emit(&(s + "\n")),
            Err(e) => return fail(&format!("cannot write JSON: {e}")),
        },
    }
    match arches.iter().all(|a| a.coverage.complete()) {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    }
}
