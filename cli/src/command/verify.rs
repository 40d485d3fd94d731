//! `loweq verify`: checking the flags, the run (sharded, or only the rules
//! changed since a revision), its notes on stderr and its reports.

use std::process::ExitCode;
use std::sync::Arc;

use loweq::changed::Rev;
use loweq::doc::Doc;
use loweq::flags;
use loweq::format::{self, Format};
use loweq::run;
use loweq_verify::cache::Store;
use loweq_verify::{Options, Progress};

use super::cache::{cache_notes, open_cache};
use super::{emit, fail, progress_bar, solver_options, target};
use crate::VerifyArgs;

/// Runs `loweq verify`; its exit status is the one `loweq verify --help` describes.
pub fn execute(args: VerifyArgs) -> ExitCode {
    let base = match solver_options(args.timeout, args.max_expansions, args.jobs) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    if let Some(dir) = &args.smt_dir {
        if let Err(e) = flags::smt_dir(dir) {
            return fail(&e);
        }
    }
    if let Err(e) = format::check_outputs(&args.outputs) {
        return fail(&e);
    }
    let store = match (args.no_cache, &args.smt_dir) {
        (true, _) | (false, Some(_)) => None,
        (false, None) => open_cache(args.cache_dir.as_deref()),
    };
    let options = Options {
        rules: args.rules,
        cache: store.clone().map(|s| s as Arc<dyn Store>),
        ..base
    };
    let bar = progress_bar(args.progress);
    let progress = |p: Progress| bar.update(p);
    let target = target(args.files, args.arch);
    let changed_since = match args.changed_since.as_deref().map(Rev::open) {
        Some(Err(e)) => return fail(&e),
        Some(Ok(rev)) => Some(rev),
        None => None,
    };
    let how = run::How {
        shard: args.shard,
        changed_since,
    };
    let verified = run::verify_with(&target, &options, args.smt_dir.as_deref(), &progress, &how);
    let run = match verified {
        Ok(r) => r,
        Err(d) => {
            bar.finish();
            // The reports say it too, for the tools that read them.
            let mut doc = Doc::default();
            doc.add_problems(std::slice::from_ref(&d));
            doc.summary = doc.count(0.0);
            if args.format != Format::Text {
                emit(&args.format.render(&doc));
            }
            if let Err(e) = format::write_outputs(&doc, &args.outputs) {
                eprintln!("error: {e}");
            }
            let mut msg = d.message;
            for n in d.notes {
                msg.push_str(&format!("\n  = {n}"));
            }
            return fail(&msg);
        }
    };
    bar.finish();
    if let Some(store) = &store {
        cache_notes(store, &run);
    }
    for n in &run.notes {
        eprintln!("note: {n}");
    }
    if let Some(rev) = &how.changed_since {
        let skipped: usize = run.skipped.iter().map(Vec::len).sum();
        let checked: usize = run
            .groups
            .iter()
            .filter_map(|g| match &g.outcome {
                run::GroupOutcome::Verified(_, r) => Some(r.rules.len()),
                run::GroupOutcome::Rejected(_) => None,
            })
            .sum();
        eprintln!(
            "note: changed since `{}`: {checked} rules verified, {skipped} unchanged and skipped",
            rev.name
        );
    }
    if let Some(plan) = &run.shard {
        let (rules, work) = plan.share();
        eprintln!(
            "note: shard {}/{}: {rules} of {} rules, {:.0}% of the estimated work",
            plan.index,
            plan.count,
            plan.rules.len(),
            100.0 * work
        );
    }
    let doc = Doc::of(&run);
    emit(&args.format.render(&doc));
    if let Err(e) = format::write_outputs(&doc, &args.outputs) {
        return fail(&e);
    }
    ExitCode::from(doc.exit_code() as u8)
}
