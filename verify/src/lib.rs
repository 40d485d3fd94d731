//! The loweq verifier: expands each rule through chained terms, instantiates
//! it at every type signature width inference accepts, encodes the
//! verification condition in z3, and explains counterexamples.
//!
//! This is the only crate that links z3.

mod agreement;
pub mod cache;
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
pub use report::{
    Counterexample, Excluded, InstanceReport, MacroReport, Report, RuleReport, Verdict,
};

/// Receives each verification query in SMT-LIB: `(rule, instantiation, text)`.
pub type SmtSink = std::sync::Arc<dyn Fn(&str, &str, &str) + Send + Sync>;

/// How to run.
#[derive(Clone)]
pub struct Options {
    /// Per-query solver timeout.
    pub timeout: Duration,
    /// Worker threads; `None` uses every core. Never more than [`max_jobs`],
    /// nor than the rules checked can keep busy.
    pub jobs: Option<usize>,
    /// Only verify rules with these names (all when empty).
    pub rules: Vec<String>,
    /// Where to send the queries, for debugging specs and the encoding.
    pub smt: Option<SmtSink>,
    /// How many expansions through chained terms one rule may have; a rule
    /// with more is reported as an error naming the limit.
    pub max_expansions: usize,
    /// Stops the run from another thread: queries not yet answered get the
    /// verdict `unknown` ([`solve::CANCELLED`]).
    pub cancel: Cancel,
    /// Where outcomes are kept between runs ([`cache`]); not used while
    /// queries go to `smt`, which must see every query.
    pub cache: Option<std::sync::Arc<dyn cache::Store>>,
    /// Only these of the selected rules (a shard's share of a run, see
    /// [`estimate`]); every selected rule when `None`. The rules left out
    /// of verification are reported all the same.
    pub subset: Option<Vec<RuleId>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("timeout", &self.timeout)
            .field("jobs", &self.jobs)
            .field("rules", &self.rules)
            .field("smt", &self.smt.is_some())
            .field("max_expansions", &self.max_expansions)
            .field("cancel", &self.cancel)
            .field("cache", &self.cache.is_some())
            .field("subset", &self.subset)
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
            max_expansions: expand::DEFAULT_MAX_EXPANSIONS,
            cancel: Cancel::default(),
            cache: None,
            subset: None,
        }
    }
}

/// What a run is busy with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Loading and checking the input files (reported by callers that load
    /// them; counts files).
    Loading,
    /// One stage of loading a group of files (counts files, as `Loading`).
    LoadingStage(loweq_dsl::Stage),
    /// Checking rules (counts instantiations).
    Checking,
}

/// Progress of a run: instantiations done out of those found so far
/// (expansions are enumerated while others are solved, so the total grows).
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// The phase.
    pub phase: Phase,
    /// Done so far.
    pub done: usize,
    /// Found so far.
    pub total: usize,
}

/// At most this many workers per core: more only cost memory, since each
/// worker keeps a z3 context of its own.
pub const JOBS_PER_CORE: usize = 4;

/// At most this many workers per rule checked (a rule has a few
/// instantiations per width): more would have nothing to do.
const JOBS_PER_RULE: usize = 16;

/// The most workers a run uses: [`JOBS_PER_CORE`] per core.
pub fn max_jobs() -> usize {
    cores() * JOBS_PER_CORE
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The stack of each worker. Inputs are depth-limited by the front end,
/// but conditions nest chained rules inside one another; the default 2 MB
/// would be tight. Stacks cost address space until used.
const WORKER_STACK: usize = 32 << 20;

/// Verifies the program's rules. Fails only on bad options (an unknown
/// `--rule` name); problems with rules are reported per rule.
pub fn verify(
    program: &Program,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, Diagnostic> {
    let (mut selected, excluded) = select(program, &options.rules)?;
    if let Some(subset) = &options.subset {
        selected.retain(|r| subset.contains(r));
    }
    let pool = pool(options, selected.len())?;
    let agreements = agreement::Agreements::new(program, options);
    let (rules, checked, from_cache) =
        pool.install(|| run(program, &selected, options, &agreements, progress));
    Ok(Report {
        rules,
        excluded,
        checked,
        from_cache,
        macros: agreements.report(),
    })
}

/// The rules [`verify`] checks with these options (`subset` aside), in
/// report order.
pub fn selected(program: &Program, options: &Options) -> Result<Vec<RuleId>, Diagnostic> {
    select(program, &options.rules).map(|(selected, _)| selected)
}

/// The worker pool for checking `rules` rules.
fn pool(options: &Options, rules: usize) -> Result<rayon::ThreadPool, Diagnostic> {
    let workers = options
        .jobs
        .unwrap_or_else(cores)
        .min(max_jobs())
        .min(rules.saturating_mul(JOBS_PER_RULE))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|e| Diagnostic::global(format!("cannot start worker threads: {e}")))
}

/// The rules [`verify`] checks with these options (`subset` aside), in
/// report order, each with an estimate of the work: the size of the
/// circuits its queries bit-blast to (for every expansion and
/// instantiation, the bits of every typed node of the condition, squared
/// for multiplication and division). The estimate depends only on the program and the
/// options, never on timings or a cache, so that the shards of a run,
/// each on its own machine, share it out the same way.
pub fn estimate(program: &Program, options: &Options) -> Result<Vec<(RuleId, u64)>, Diagnostic> {
    let (selected, _) = select(program, &options.rules)?;
    let pool = pool(options, selected.len())?;
    Ok(pool.install(|| {
        selected
            .par_iter()
            .map(|&rule| (rule, cost(program, rule, options.max_expansions)))
            .collect()
    }))
}

/// The estimated work of checking one rule (at least 1).
fn cost(program: &Program, rule: RuleId, max_expansions: usize) -> u64 {
    let mut total: u64 = 0;
    for plan in expand::plans(program, rule, max_expansions) {
        let Ok(plan) = plan else {
            break;
        };
        let built = condition::build(program, rule, &plan)
            .and_then(|c| instances::instances(program, &c).map(|found| (c, found)));
        if let Ok((cond, found)) = built {
            for inst in &found.typed {
                total = total.saturating_add(bits(&cond, inst));
            }
        }
    }
    total.max(1)
}

/// The size of the circuit an instantiated condition bit-blasts to,
/// roughly: the bits of every typed node, squared for the operators whose
/// circuits are quadratic.
fn bits(cond: &condition::Condition, inst: &instances::Instance) -> u64 {
    use loweq_semantics::graph::{NodeId, NodeKind};
    use loweq_semantics::op::Op;
    use loweq_semantics::ty::Ty;
    let mut total: u64 = 0;
    for (i, n) in cond.graph.nodes.iter().enumerate() {
        let Some(ty) = inst.typing.ty(NodeId(i as u32)) else {
            continue;
        };
        let w = match ty {
            Ty::Bv(w) => u64::from(*w),
            _ => 1,
        };
        let quadratic = matches!(
            n.kind,
            NodeKind::Op(Op::BvMul | Op::BvUdiv | Op::BvSdiv | Op::BvUrem | Op::BvSrem)
        );
        total = total.saturating_add(if quadratic { w * w } else { w });
    }
    total
}

/// The rules to verify, and the ones left out with their reasons.
///
/// A rule of a `(veri chain)` term is verified through the rules that call
/// its term: naming it with `--rule` selects those callers (every rule,
/// through any depth of chaining, whose right-hand side or guards can reach
/// the term), so that asking for it never checks nothing.
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
            let mut reason = format!(
                "verified through the rules that call `{}` (veri chain)",
                term.name
            );
            if !names.is_empty() {
                let callers = callers(program, rule.root_term);
                if callers.is_empty() {
                    reason.push_str(", and no verified rule calls it");
                } else {
                    let shown: Vec<String> = callers
                        .iter()
                        .map(|&r| format!("`{}`", program.rule(r).name))
                        .collect();
                    reason.push_str(&format!(": checking {}", shown.join(", ")));
                }
                selected.extend(callers);
            }
            reason
        } else {
            format!("its root term `{}` has no spec", term.name)
        };
        excluded.push(Excluded {
            name: info.name.clone(),
            span: info.span,
            reason,
        });
    }
    selected.sort_by_key(|r| r.index());
    selected.dedup();
    Ok((selected, excluded))
}

/// The rules with a specified root term that can reach a call of the
/// chained term `target`, directly or through other chained terms.
fn callers(program: &Program, target: cranelift_isle::sema::TermId) -> Vec<RuleId> {
    use cranelift_isle::sema::TermId;
    // Chained terms from which `target` can be reached, found to a fixpoint.
    let mut reach = vec![target];
    loop {
        let more: Vec<TermId> = program
            .terms
            .rules
            .iter()
            .filter(|r| program.term(r.root_term).chain && !reach.contains(&r.root_term))
            .filter(|r| expand::rule_calls(r, &reach))
            .map(|r| r.root_term)
            .collect();
        if more.is_empty() {
            break;
        }
        reach.extend(more);
        reach.sort_by_key(|t| t.index());
        reach.dedup();
    }
    program
        .terms
        .rules
        .iter()
        .filter(|r| program.term(r.root_term).spec.is_some() && expand::rule_calls(r, &reach))
        .map(|r| r.id)
        .collect()
}

/// What checking one expansion of a rule gave.
enum Found {
    /// The expansion could not be built (or there were too many): the
    /// rule's only result.
    Broken(Diagnostic),
    /// One instantiation's outcome.
    Checked {
        label: String,
        covers: bool,
        outcome: solve::Outcome,
        millis: u64,
    },
    /// An instantiation that does not type.
    Untyped(String, Diagnostic),
    /// An instantiation where a pattern term has no signature: inapplicable.
    Unmatchable(String, String),
}

/// The chained rules an expansion inlines, for the report.
fn chain_names(program: &Program, plan: &expand::Plan) -> Vec<String> {
    plan.choices
        .iter()
        .filter_map(|c| match c {
            expand::Choice::Rule(r) => Some(program.rule(*r).name.clone()),
            expand::Choice::Cover(t) => Some(format!(
                "(checking that a rule of `{}` matches)",
                program.term(*t).name
            )),
            expand::Choice::Assume(_) => None,
        })
        .collect()
}

/// Builds one expansion and checks every instantiation of it. The
/// condition lives only while its instantiations are solved.
fn check_expansion(
    program: &Program,
    rule: RuleId,
    index: usize,
    plan: &expand::Plan,
    options: &Options,
    agreements: &agreement::Agreements<'_>,
    counts: &Counts<'_>,
) -> Vec<Found> {
    let built = condition::build(program, rule, plan)
        .and_then(|cond| instances::instances(program, &cond).map(|found| (cond, found)));
    let (cond, found) = match built {
        Ok(b) => b,
        Err(d) => return vec![Found::Broken(d)],
    };
    let chain = chain_names(program, plan);
    let covers = plan.covers();
    let rule_name = &program.rule(rule).name;
    let name = if index == 0 {
        rule_name.clone()
    } else {
        format!("{rule_name}.{index}")
    };
    counts.found(found.typed.len());
    let mut out: Vec<Found> = found
        .typed
        .par_iter()
        .map(|inst| {
            let start = Instant::now();
            let (mut outcome, hit) = check_cached(
                program,
                &cond,
                &chain,
                inst,
                options,
                &counts.program,
                &name,
            );
            let millis = start.elapsed().as_millis() as u64;
            if hit {
                counts.hit();
            }
            // The specs of extractor macros this instantiation relied on
            // must agree with their expansions (after the cache, which
            // keeps the outcome of this query alone).
            agreements.settle(&cond, inst, &mut outcome, agreement::User::Rule(rule_name));
            counts.done();
            Found::Checked {
                label: inst.label.clone(),
                covers,
                outcome,
                millis,
            }
        })
        .collect();
    out.extend(
        found
            .failed
            .into_iter()
            .map(|(label, d)| Found::Untyped(label, d)),
    );
    out.extend(
        found
            .unmatchable
            .into_iter()
            .map(|(label, why)| Found::Unmatchable(label, why)),
    );
    out
}

/// Checks one instantiation of a condition through the result cache, when
/// there is one (and no SMT sink, which wants every query): the outcome,
/// and whether the cache answered. `digest` is the program's part of the
/// key ([`cache::program_digest`]).
pub(crate) fn check_cached(
    program: &Program,
    cond: &condition::Condition,
    chain: &[String],
    inst: &instances::Instance,
    options: &Options,
    digest: &[u8; 32],
    name: &str,
) -> (solve::Outcome, bool) {
    let start = Instant::now();
    let store = options.cache.as_ref().filter(|_| options.smt.is_none());
    let key = store.map(|_| cache::key(digest, cond, inst, options.timeout));
    let kept = store.zip(key).and_then(|(s, k)| s.get(&k));
    let replayed = kept.and_then(|kept| {
        solve::replay(
            program,
            cond,
            chain,
            inst,
            options.timeout,
            &options.cancel,
            &kept,
        )
    });
    if let Some(o) = replayed {
        return (o, true);
    }
    let outcome = solve::check(
        program,
        cond,
        chain,
        inst,
        options.timeout,
        &options.cancel,
        name,
        options.smt.as_ref(),
    );
    if let (Some(s), Some(k)) = (store, key) {
        if cache::keepable(&outcome) && !options.cancel.is_cancelled() {
            s.put(
                &k,
                &cache::Kept {
                    verdict: outcome.verdict,
                    queries: outcome.queries,
                    millis: start.elapsed().as_millis() as u64,
                    reason: outcome.reason.clone(),
                    shadowed_by: outcome.shadowed_by.clone(),
                    model: outcome.model.clone(),
                },
            );
        }
    }
    (outcome, false)
}

/// Counts instantiations found, done and answered from the cache, for
/// progress reports; and the program's part of every cache key.
struct Counts<'a> {
    found: std::sync::atomic::AtomicUsize,
    done: std::sync::atomic::AtomicUsize,
    hits: std::sync::atomic::AtomicUsize,
    progress: &'a (dyn Fn(Progress) + Sync),
    program: [u8; 32],
}

impl Counts<'_> {
    fn report(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.progress)(Progress {
            phase: Phase::Checking,
            done: self.done.load(Relaxed),
            total: self.found.load(Relaxed),
        });
    }

    fn found(&self, n: usize) {
        self.found
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        self.report();
    }

    fn done(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.report();
    }

    fn hit(&self) {
        self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Checks the selected rules. Expansions are enumerated lazily and handed
/// to the workers as they are found, each built, solved and dropped in
/// turn, so memory does not grow with the number of expansions; only the
/// (small) outcomes are kept, then merged per rule in a fixed order.
fn run(
    program: &Program,
    selected: &[RuleId],
    options: &Options,
    agreements: &agreement::Agreements<'_>,
    progress: &(dyn Fn(Progress) + Sync),
) -> (Vec<RuleReport>, usize, usize) {
    let counts = Counts {
        found: Default::default(),
        done: Default::default(),
        hits: Default::default(),
        progress,
        program: match options.cache {
            Some(_) => cache::program_digest(program),
            None => [0; 32],
        },
    };
    counts.report();
    let work = selected.iter().enumerate().flat_map(|(w, &rule)| {
        expand::plans(program, rule, options.max_expansions)
            .enumerate()
            .map(move |(e, plan)| (w, rule, e, plan))
    });
    let mut found: Vec<(usize, usize, usize, Found)> = work
        .par_bridge()
        .flat_map_iter(|(w, rule, e, plan)| {
            let results = match plan {
                Ok(plan) => check_expansion(program, rule, e, &plan, options, agreements, &counts),
                Err(d) => vec![Found::Broken(d)],
            };
            results
                .into_iter()
                .enumerate()
                .map(move |(i, f)| (w, e, i, f))
        })
        .collect();
    // A fixed order whatever order the workers finished in: by rule, rule
    // expansions before coverage expansions (which can only add bad news:
    // that a coverage check holds does not make an inapplicable
    // instantiation verified), then by expansion and instantiation; the
    // instantiations that do not type last.
    let rank = |f: &Found| match f {
        Found::Broken(_) => 0,
        Found::Checked { covers: false, .. } => 1,
        Found::Checked { covers: true, .. } => 2,
        Found::Untyped(..) | Found::Unmatchable(..) => 3,
    };
    found.sort_by_key(|(w, e, i, f)| (*w, rank(f), *e, *i));
    let mut reports: Vec<RuleReport> = selected
        .iter()
        .map(|&rule| {
            let info = program.rule(rule);
            RuleReport {
                name: info.name.clone(),
                span: info.span,
                instances: Vec::new(),
            }
        })
        .collect();
    let mut broken = vec![false; selected.len()];
    for (w, _, _, f) in found {
        if broken[w] {
            continue;
        }
        match f {
            Found::Broken(d) => {
                broken[w] = true;
                reports[w].instances = vec![InstanceReport {
                    // The error is found before any type is chosen: the rule is
                    // not verified at any of them.
                    label: "every type".into(),
                    verdict: Verdict::Error,
                    millis: 0,
                    queries: 0,
                    counterexample: None,
                    reason: None,
                    error: Some(d),
                    shadowed_by: Vec::new(),
                }];
            }
            Found::Checked {
                label,
                covers,
                outcome,
                millis,
            } => {
                if covers && matches!(outcome.verdict, Verdict::Verified | Verdict::Inapplicable) {
                    // Still count the work.
                    if let Some(entry) = reports[w].instances.iter_mut().find(|x| x.label == label)
                    {
                        entry.millis += millis;
                        entry.queries += outcome.queries;
                    }
                    continue;
                }
                merge(&mut reports[w], &label, outcome, millis);
            }
            Found::Untyped(label, d) => {
                let mut o = solve::Outcome::error(d);
                o.reason = Some("this instantiation does not type".into());
                merge(&mut reports[w], &label, o, 0);
            }
            Found::Unmatchable(label, why) => {
                merge(
                    &mut reports[w],
                    &label,
                    solve::Outcome::inapplicable(why),
                    0,
                );
            }
        }
    }
    for r in &mut reports {
        r.instances.sort_by_cached_key(|i| widths_of(&i.label));
        flag_never_applicable(r);
    }
    (reports, counts.done.into_inner(), counts.hits.into_inner())
}

/// Folds one expansion's outcome into the rule's entry for that
/// instantiation: errors beat counterexamples beat unknowns beat verified
/// beat shadowed beat inapplicable.
fn merge(report: &mut RuleReport, label: &str, o: solve::Outcome, millis: u64) {
    let rank = |v: Verdict| match v {
        Verdict::Error => 5,
        Verdict::Counterexample => 4,
        Verdict::Unknown => 3,
        Verdict::Verified => 2,
        Verdict::Shadowed => 1,
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
                shadowed_by: Vec::new(),
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
        entry.shadowed_by = o.shadowed_by;
    }
}

/// A rule that applies at no instantiation is an error; so is one that
/// higher-priority rules shadow wherever it applies: it never fires.
fn flag_never_applicable(r: &mut RuleReport) {
    let never = |v: Verdict| matches!(v, Verdict::Inapplicable | Verdict::Shadowed);
    if !r.instances.is_empty() && r.instances.iter().all(|i| never(i.verdict)) {
        let mut by: Vec<String> = r
            .instances
            .iter()
            .flat_map(|i| i.shadowed_by.iter().cloned())
            .collect();
        by.sort();
        by.dedup();
        if !by.is_empty() {
            let names: Vec<String> = by.iter().map(|n| format!("`{n}`")).collect();
            for i in &mut r.instances {
                i.verdict = Verdict::Error;
                i.shadowed_by.clear();
                i.error = Some(
                    Diagnostic::new(
                        "the rule never fires: higher-priority rules take every input it matches",
                        r.span,
                    )
                    .with_label("shadowed wherever it applies")
                    .with_note(format!("shadowed by {}", names.join(", "))),
                );
            }
            return;
        }
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
