//! `loweq bench`: timing the full verification of the shipped rules, and
//! with `--cache` the result cache's cold and warm runs.

use std::process::ExitCode;
use std::sync::Arc;

use loweq::cache::DirStore;
use loweq::run::{self, Target};
use loweq::{flags, text};
use loweq_verify::cache::Store;
use loweq_verify::Options;

use super::{fail, solver_options, target};
use crate::BenchArgs;

/// Runs `loweq bench`: 0 unless a run could not be done (2).
pub fn execute(args: BenchArgs) -> ExitCode {
    let checked = solver_options(args.timeout, args.max_expansions, args.jobs)
        .and_then(|o| Ok((o, flags::runs(args.runs)?)));
    let (options, runs) = match checked {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let target = target(Vec::new(), args.arch);
    if args.cache {
        return bench_cache(&target, &options, runs);
    }
    let mut best = f64::INFINITY;
    // The slowest instantiations of the best run: (millis, arch, rule, label).
    let mut slowest_of_best: Vec<(u64, String, String, String)> = Vec::new();
    for i in 0..runs {
        let run = match run::verify(&target, &options, None, &|_| {}) {
            Ok(r) => r,
            Err(d) => return fail(&d.message),
        };
        let totals = text::Totals::of(&run);
        let mut queries = 0;
        let mut slowest: Option<(String, String, u64)> = None;
        for g in &run.groups {
            if let run::GroupOutcome::Verified(_, r) = &g.outcome {
                queries += r.queries();
                if let Some((rule, inst)) = r.slowest() {
                    if slowest.as_ref().is_none_or(|s| inst.millis > s.2) {
                        let arch = g.arch.map(|a| a.name()).unwrap_or("-");
                        slowest = Some((
                            format!("{arch} {}", rule.name),
                            inst.label.clone(),
                            inst.millis,
                        ));
                    }
                }
            }
        }
        if run.seconds < best {
            slowest_of_best = run
                .groups
                .iter()
                .filter_map(|g| match &g.outcome {
                    run::GroupOutcome::Verified(_, r) => Some((g.arch, r)),
                    run::GroupOutcome::Rejected(_) => None,
                })
                .flat_map(|(arch, r)| {
                    let arch = arch.map(|a| a.name()).unwrap_or("-");
                    r.instances().map(move |(rule, inst)| {
                        (
                            inst.millis,
                            arch.to_string(),
                            rule.name.clone(),
                            inst.label.clone(),
                        )
                    })
                })
                .collect();
            slowest_of_best.sort_by_key(|s| std::cmp::Reverse(s.0));
            slowest_of_best.truncate(5);
        }
        best = best.min(run.seconds);
        let slow = slowest
            .map(|(r, l, ms)| format!("{r} at {l}, {ms} ms"))
            .unwrap_or_else(|| "-".into());
        println!(
            "run {}: {} rules, {} instantiations, {} queries, {:.2} s (slowest: {slow})",
            i + 1,
            totals.rules,
            totals.instantiations,
            queries,
            run.seconds
        );
        if run::exit_code(&run) != 0 {
            eprintln!("warning: not everything verified; run `loweq verify` for details");
        }
    }
    println!("best: {best:.2} s");
    println!("slowest instantiations of the best run:");
    for (ms, arch, rule, label) in slowest_of_best {
        println!("  {ms:>6} ms  {arch} {rule} at {label}");
    }
    ExitCode::SUCCESS
}

/// `bench --cache`: a cold run into an empty cache, then warm runs.
fn bench_cache(target: &Target, options: &Options, runs: usize) -> ExitCode {
    let dir = std::env::temp_dir().join(format!("loweq-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = match DirStore::open(&dir) {
        Ok(s) => Arc::new(s),
        Err(e) => return fail(&e),
    };
    let options = Options {
        cache: Some(store.clone() as Arc<dyn Store>),
        ..options.clone()
    };
    let timed = |what: &str| -> Result<f64, ExitCode> {
        let run = run::verify(target, &options, None, &|_| {}).map_err(|d| fail(&d.message))?;
        let totals = text::Totals::of(&run);
        let (mut checks, mut hits) = (0, 0);
        for g in &run.groups {
            if let run::GroupOutcome::Verified(_, r) = &g.outcome {
                checks += r.checked;
                hits += r.from_cache;
            }
        }
        println!(
            "{what}: {} rules, {} instantiations, {checks} checks ({hits} from the cache), {:.2} s",
            totals.rules, totals.instantiations, run.seconds
        );
        if run::exit_code(&run) != 0 {
            eprintln!("warning: not everything verified; run `loweq verify` for details");
        }
        Ok(run.seconds)
    };
    let cold = match timed("cold") {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut warm = f64::INFINITY;
    for i in 0..runs {
        match timed(&format!("warm {}", i + 1)) {
            Ok(s) => warm = warm.min(s),
            Err(c) => return c,
        }
    }
    println!(
        "cold {cold:.2} s, warm {warm:.2} s (best of {runs}): warm is {:.1}% of cold",
        100.0 * warm / cold
    );
    let _ = std::fs::remove_dir_all(&dir);
    ExitCode::SUCCESS
}
