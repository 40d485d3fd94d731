//! The loweq verifier: expands each rule through chained terms, instantiates
//! it at every type signature width inference accepts, encodes the
//! verification condition in z3, and explains counterexamples.
//!
//! This is the only crate that links z3.

pub mod cancel;
pub mod condition;
pub mod encode;
pub mod expand;
pub mod explain;
pub mod instances;
pub mod report;
pub mod solve;

use std::time::{Duration, Instant};

use cranelift_isle::sema::RuleId;
use loweq_dsl::{Diagnostic, Program};
use rayon::prelude::*;

pub use cancel::Cancel;
pub use report::{Counterexample, Excluded, InstanceReport, Report, RuleReport, Verdict};

/// Receives each verification query in SMT-LIB: `(rule, instantiation, text)`.
pub type SmtSink = std::sync::Arc<dyn Fn(&str, &str, &str) + Send + Sync>;

/// How to run.
#[derive(Clone)]
pub struct Options {
    /// Per-query solver timeout.
    pub timeout: Duration,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    /// Only verify rules with these names (all when empty).
    pub rules: Vec<String>,
    /// Where to send the queries, for debugging specs and the encoding.
    pub smt: Option<SmtSink>,
    /// Stops the run from another thread: queries not yet answered get the
    /// verdict `unknown` ([`solve::CANCELLED`]).
    pub cancel: Cancel,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("timeout", &self.timeout)
            .field("jobs", &self.jobs)
            .field("rules", &self.rules)
            .field("smt", &self.smt.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(10),
            jobs: None,
            rules: Vec::new(),
            smt: None,
            cancel: Cancel::default(),
        }
    }
}

/// Progress of a run: instantiations done out of the total.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Done so far.
    pub done: usize,
    /// Total.
    pub total: usize,
}

/// One prepared expansion of a rule.
struct Prepared {
    cond: condition::Condition,
    chain: Vec<String>,
    instances: Vec<instances::Instance>,
    /// Instantiations that do not type, with the error.
    failed: Vec<(String, Diagnostic)>,
    /// Whether this expansion only checks that a chained call is covered.
    covers: bool,
}

/// A rule ready to check, or the reason it cannot be.
struct RuleWork {
    rule: RuleId,
    expansions: Result<Vec<Prepared>, Diagnostic>,
}

/// Verifies the program's rules. Fails only on bad options (an unknown
/// `--rule` name); problems with rules are reported per rule.
pub fn verify(
    program: &Program,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, Diagnostic> {
    let (selected, excluded) = select(program, &options.rules)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Diagnostic::global(format!("cannot start worker threads: {e}")))?;
    let rules = pool.install(|| run(program, &selected, options, progress));
    Ok(Report { rules, excluded })
}

/// The rules to verify, and the ones left out with their reasons.
fn select(program: &Program, names: &[String]) -> Result<(Vec<RuleId>, Vec<Excluded>), Diagnostic> {
    for n in names {
        if !program.rule_info.iter().any(|r| &r.name == n) {
            let mut d = Diagnostic::global(format!("no rule named `{n}`"));
            if let Some(h) =
                loweq_dsl::diag::did_you_mean(n, program.rule_info.iter().map(|r| r.name.as_str()))
            {
                d = d.with_note(h);
            }
            return Err(d);
        }
    }
    let mut selected = Vec::new();
    let mut excluded = Vec::new();
    for rule in &program.terms.rules {
        let info = program.rule(rule.id);
        if !names.is_empty() && !names.contains(&info.name) {
            continue;
        }
        let term = program.term(rule.root_term);
        if term.spec.is_some() {
            selected.push(rule.id);
            continue;
        }
        let reason = if term.chain {
            format!(
                "verified through the rules that call `{}` (veri chain)",
                term.name
            )
        } else {
            format!("its root term `{}` has no spec", term.name)
        };
        excluded.push(Excluded {
            name: info.name.clone(),
            span: info.span,
            reason,
        });
    }
    Ok((selected, excluded))
}

fn prepare(program: &Program, rule: RuleId) -> RuleWork {
    let expansions = expand::plans(program, rule).and_then(|plans| {
        plans
            .iter()
            .map(|plan| {
                let cond = condition::build(program, rule, plan)?;
                let found = instances::instances(program, &cond)?;
                let chain = plan
                    .choices
                    .iter()
                    .map(|c| match c {
                        expand::Choice::Rule(r) => program.rule(*r).name.clone(),
                        expand::Choice::Cover(t) => {
                            format!(
                                "(checking that a rule of `{}` matches)",
                                program.term(*t).name
                            )
                        }
                    })
                    .collect();
                Ok(Prepared {
                    cond,
                    chain,
                    instances: found.typed,
                    failed: found.failed,
                    covers: plan.covers(),
                })
            })
            .collect()
    });
    RuleWork { rule, expansions }
}

fn run(
    program: &Program,
    selected: &[RuleId],
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<RuleReport> {
    let work: Vec<RuleWork> = selected.par_iter().map(|&r| prepare(program, r)).collect();
    let tasks: Vec<(usize, usize, usize)> = work
        .iter()
        .enumerate()
        .flat_map(|(w, rw)| match &rw.expansions {
            Ok(exps) => exps
                .iter()
                .enumerate()
                .flat_map(|(e, p)| (0..p.instances.len()).map(move |i| (w, e, i)))
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        })
        .collect();
    let total = tasks.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    progress(Progress { done: 0, total });
    let outcomes: Vec<(usize, usize, usize, solve::Outcome, u64)> = tasks
        .par_iter()
        .map(|&(w, e, i)| {
            let Ok(exps) = &work[w].expansions else {
                unreachable!("tasks come from prepared rules")
            };
            let p = &exps[e];
            let start = Instant::now();
            let rule = &program.rule(work[w].rule).name;
            let name = if e == 0 {
                rule.clone()
            } else {
                format!("{rule}.{e}")
            };
            let outcome = solve::check(
                program,
                &p.cond,
                &p.chain,
                &p.instances[i],
                options.timeout,
                &options.cancel,
                &name,
                options.smt.as_ref(),
            );
            let millis = start.elapsed().as_millis() as u64;
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(Progress { done: d, total });
            (w, e, i, outcome, millis)
        })
        .collect();
    let mut reports: Vec<RuleReport> = work
        .iter()
        .map(|rw| {
            let info = program.rule(rw.rule);
            let instances = match &rw.expansions {
                Ok(_) => Vec::new(),
                Err(d) => vec![InstanceReport {
                    label: "-".into(),
                    verdict: Verdict::Error,
                    millis: 0,
                    queries: 0,
                    counterexample: None,
                    reason: None,
                    error: Some(d.clone()),
                }],
            };
            RuleReport {
                name: info.name.clone(),
                span: info.span,
                instances,
            }
        })
        .collect();
    // Rule expansions first; then coverage expansions, which can only add
    // bad news: that a coverage check holds does not make an inapplicable
    // instantiation verified.
    let (covers, rules): (Vec<_>, Vec<_>) = outcomes
        .into_iter()
        .partition(|(w, e, ..)| matches!(&work[*w].expansions, Ok(exps) if exps[*e].covers));
    for (w, e, i, outcome, millis) in rules.into_iter().chain(covers) {
        let Ok(exps) = &work[w].expansions else {
            continue;
        };
        let label = &exps[e].instances[i].label;
        if exps[e].covers && matches!(outcome.verdict, Verdict::Verified | Verdict::Inapplicable) {
            // Still count the work.
            if let Some(entry) = reports[w].instances.iter_mut().find(|x| &x.label == label) {
                entry.millis += millis;
                entry.queries += outcome.queries;
            }
            continue;
        }
        merge(
            &mut reports[w],
            &exps[e].instances[i].label,
            outcome,
            millis,
        );
    }
    for (w, rw) in work.iter().enumerate() {
        let Ok(exps) = &rw.expansions else { continue };
        for p in exps {
            for (label, d) in &p.failed {
                let mut o = solve::Outcome::error(d.clone());
                o.reason = Some("this instantiation does not type".into());
                merge(&mut reports[w], label, o, 0);
            }
        }
    }
    for r in &mut reports {
        r.instances.sort_by_cached_key(|i| widths_of(&i.label));
        flag_never_applicable(r);
    }
    reports
}

/// Folds one expansion's outcome into the rule's entry for that
/// instantiation: errors beat counterexamples beat unknowns beat verified
/// beat inapplicable.
fn merge(report: &mut RuleReport, label: &str, o: solve::Outcome, millis: u64) {
    let rank = |v: Verdict| match v {
        Verdict::Error => 4,
        Verdict::Counterexample => 3,
        Verdict::Unknown => 2,
        Verdict::Verified => 1,
        Verdict::Inapplicable => 0,
    };
    let existing = report.instances.iter().position(|i| i.label == label);
    let fresh = existing.is_none();
    let entry = match existing {
        Some(k) => &mut report.instances[k],
        None => {
            report.instances.push(InstanceReport {
                label: label.to_string(),
                verdict: Verdict::Inapplicable,
                millis: 0,
                queries: 0,
                counterexample: None,
                reason: None,
                error: None,
            });
            report.instances.last_mut().expect("just pushed")
        }
    };
    entry.millis += millis;
    entry.queries += o.queries;
    if fresh || rank(o.verdict) > rank(entry.verdict) {
        entry.verdict = o.verdict;
        entry.counterexample = o.counterexample;
        entry.reason = o.reason;
        entry.error = o.error;
    }
}

/// A rule that applies at no instantiation is an error.
fn flag_never_applicable(r: &mut RuleReport) {
    if !r.instances.is_empty()
        && r.instances
            .iter()
            .all(|i| i.verdict == Verdict::Inapplicable)
    {
        for i in &mut r.instances {
            i.verdict = Verdict::Error;
            i.error = Some(
                Diagnostic::new(
                    "the rule is inapplicable at every type instantiation",
                    r.span,
                )
                .with_label("its left-hand side can never match")
                .with_note("the specs of its patterns contradict each other, or no signature fits"),
            );
        }
    }
}

/// The numbers in a label (`i8,i16->i8` is 8, 16, 8), to order
/// instantiations by width.
fn widths_of(label: &str) -> Vec<u64> {
    label
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| d.parse().ok())
        .collect()
}
