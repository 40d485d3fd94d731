//! Solving one instantiated condition: the verification query, the
//! applicability check, and shrinking a counterexample to small values.
//!
//! Every query runs on a fresh solver with a single `check`. z3 answers a
//! single check of a pure bitvector problem by bit-blasting, in
//! milliseconds; after a first check on the same solver it switches to its
//! incremental core, which is up to a hundred times slower on the shifts
//! and multiplications that lowering rules are made of.

use std::time::Duration;

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::graph::{NodeKind, VarId};
use loweq_semantics::value::Value;
use z3::ast::{Bool, BV};
use z3::{Model, Params, SatResult, Solver, Tactic};

use crate::cancel::Cancel;
use crate::condition::{Condition, Origin, Side};
use crate::encode::{bv_const, read, EncodeError, Encoder, Z};
use crate::explain::explain;
use crate::instances::Instance;
use crate::report::{Counterexample, Verdict};

/// The outcome of checking one instantiated condition.
#[derive(Debug)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// Queries made.
    pub queries: u32,
    /// For counterexamples.
    pub counterexample: Option<Box<Counterexample>>,
    /// For unknown and inapplicable verdicts.
    pub reason: Option<String>,
    /// For errors.
    pub error: Option<Diagnostic>,
    /// For shadowed instantiations: the higher-priority rules that take
    /// every input this one matches.
    pub shadowed_by: Vec<String>,
    /// Whether every query it rests on was answered: an outcome that a
    /// timeout or a cancelled query shaped (a counterexample shrunk only
    /// part of the way, shadowing rules found only in part) is not kept
    /// in the result cache.
    pub exact: bool,
    /// For counterexamples: the values of the query's variables, which
    /// the result cache keeps to explain it again.
    pub model: Vec<crate::cache::Leaf>,
}

impl Outcome {
    /// An error outcome.
    pub fn error(d: Diagnostic) -> Outcome {
        let mut o = Outcome::new(Verdict::Error, 0, None);
        o.error = Some(d);
        o
    }

    /// An inapplicable outcome, with its reason, decided without a query.
    pub fn inapplicable(reason: String) -> Outcome {
        Outcome::new(Verdict::Inapplicable, 0, Some(reason))
    }

    fn new(verdict: Verdict, queries: u32, reason: Option<String>) -> Outcome {
        Outcome {
            verdict,
            queries,
            counterexample: None,
            reason,
            error: None,
            shadowed_by: Vec::new(),
            exact: verdict != Verdict::Unknown,
            model: Vec::new(),
        }
    }
}

/// The reason of an unknown verdict when the run was cancelled.
pub const CANCELLED: &str = "cancelled";

/// The answer to one query.
enum Answer {
    Sat(Model),
    Unsat,
    Unknown(String),
}

/// Runs queries over a fixed set of base facts.
struct Queries<'c> {
    base: Vec<Bool>,
    logic: Option<&'static str>,
    timeout: Duration,
    cancel: &'c Cancel,
    count: u32,
    /// Queries answered `unknown`.
    unknowns: u32,
}

impl Queries<'_> {
    /// Checks the base facts together with `extra`, on a fresh solver.
    /// Pure bitvector queries try two strategies in turn (see
    /// [`QF_BV_STRATEGIES`]), each on a fresh solver, the last with the
    /// rest of the time.
    fn check(&mut self, extra: &[Bool]) -> Answer {
        self.count += 1;
        let answer = self.answer(extra);
        if matches!(answer, Answer::Unknown(_)) {
            self.unknowns += 1;
        }
        answer
    }

    /// The answer of [`Queries::check`].
    fn answer(&self, extra: &[Bool]) -> Answer {
        if self.logic != Some("QF_BV") {
            let solver = self
                .logic
                .and_then(Solver::new_for_logic)
                .unwrap_or_default();
            return self.run(&solver, extra, self.timeout, None);
        }
        let start = std::time::Instant::now();
        let mut answer = Answer::Unknown(String::new());
        for (i, (strategy, budget)) in QF_BV_STRATEGIES.iter().enumerate() {
            let left = self.timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            let last = i + 1 == QF_BV_STRATEGIES.len();
            answer = self.run(&strategy(), extra, left, *budget);
            match &answer {
                Answer::Unknown(r) if !last && r == OVER_BUDGET => continue,
                _ => break,
            }
        }
        if let Answer::Unknown(r) = &answer {
            if r.is_empty() || r == OVER_BUDGET {
                return Answer::Unknown(format!("the solver timed out after {:?}", self.timeout));
            }
        }
        answer
    }

    /// One check of the base facts and `extra` on `solver`, stopped after
    /// `time` or, with a budget, after that many of z3's resource units.
    fn run(&self, solver: &Solver, extra: &[Bool], time: Duration, budget: Option<u32>) -> Answer {
        let mut params = Params::new();
        let ms = u32::try_from(time.as_millis()).unwrap_or(u32::MAX).max(1);
        params.set_u32("timeout", ms);
        if let Some(units) = budget {
            params.set_u32("rlimit", units);
        }
        // z3 would otherwise take SIGINT for itself during a check, stopping
        // that one query; Ctrl-C belongs to the caller (see `Cancel`).
        params.set_bool("ctrl_c", false);
        solver.set_params(&params);
        for b in self.base.iter().chain(extra) {
            solver.assert(b);
        }
        let start = std::time::Instant::now();
        let Some(result) = self.cancel.run(Some(time), || solver.check()) else {
            return Answer::Unknown(CANCELLED.into());
        };
        // z3 says "canceled" both when the time is up and when the budget
        // is used up; the time tells which.
        let in_time = start.elapsed() < time;
        match result {
            SatResult::Unsat => Answer::Unsat,
            SatResult::Sat => match solver.get_model() {
                Some(m) => Answer::Sat(m),
                None => Answer::Unknown("the solver found a model but did not return it".into()),
            },
            SatResult::Unknown => {
                let r = solver.get_reason_unknown().unwrap_or_default();
                Answer::Unknown(if self.cancel.is_cancelled() {
                    CANCELLED.into()
                } else {
                    unknown_reason(&r, budget.is_some() && in_time, self.timeout)
                })
            }
        }
    }
}

/// Why a query that was not cancelled is unknown, from z3's reason `r`:
/// [`OVER_BUDGET`] when a budgeted query stopped before its time was up,
/// a timeout when its time was up (z3's timer says "timeout" or
/// "canceled"; the watchdog's interrupt, for a timer z3 missed,
/// "interrupted"), else z3 gave up.
fn unknown_reason(r: &str, budgeted_in_time: bool, timeout: Duration) -> String {
    if budgeted_in_time && (r.contains("resource") || r.contains("canceled")) {
        OVER_BUDGET.into()
    } else if r.contains("timeout") || r.contains("canceled") || r.contains("interrupted") {
        format!("the solver timed out after {timeout:?}")
    } else if r.is_empty() {
        "the solver gave up".into()
    } else {
        format!("the solver gave up ({r})")
    }
}

/// A way to make a solver.
type Strategy = fn() -> Solver;

/// The reason of an unknown answer from a strategy that used up its
/// budget (not reported: the next strategy runs).
const OVER_BUDGET: &str = "over budget";

/// The strategies a pure bitvector query tries, in turn, each with its
/// budget of z3's resource units (the last without one); all within the
/// query's timeout. Budgets count work, not time, so that the choice does
/// not depend on how loaded the machine is.
///
/// First z3's `qfbv` tactic after substituting away every variable that an
/// equation defines (`solve-eqs`). A rule's two sides often compute the
/// same term over different variables that the facts equate (a register
/// and the value it holds); substituting first makes the terms identical,
/// where `qfbv`'s own preprocessing (which solves only equations of
/// variables that occur rarely) may leave the solver to prove two 128-bit
/// multipliers equal: seconds against microseconds for a signed 64-bit
/// `smulhi`. Some queries go the other way (a narrow remainder: a third of
/// a second with `qfbv` alone, far longer after the substitution), hence
/// `qfbv` alone next. Two million units are about a second of z3's work.
const QF_BV_STRATEGIES: &[(Strategy, Option<u32>)] =
    &[(substituted_qf_bv, Some(2_000_000)), (plain_qf_bv, None)];

fn substituted_qf_bv() -> Solver {
    Tactic::new("simplify")
        .and_then(&Tactic::new("propagate-values"))
        .and_then(&Tactic::new("solve-eqs"))
        .and_then(&Tactic::new("qfbv"))
        .solver()
}

fn plain_qf_bv() -> Solver {
    Solver::new_for_logic("QF_BV").unwrap_or_default()
}

fn encode_error(cond: &Condition, e: EncodeError) -> Outcome {
    let mut o = Outcome::new(Verdict::Error, 0, None);
    // Found without the solver: nothing to keep (and the cache's error
    // entries are the contradictions of right-hand sides).
    o.exact = false;
    o.error = Some(Diagnostic::new(
        format!(
            "internal error: cannot encode this expression: {}",
            e.message
        ),
        cond.graph.node(e.node).span,
    ));
    o
}

/// An instantiated condition encoded for z3: the facts, sorted by what the
/// checks need of them.
struct Encoded<'a> {
    encoder: Encoder<'a>,
    /// Every assumption.
    assumptions: Vec<Bool>,
    /// The left-hand side's assumptions, on their own (see
    /// [`lhs_only_typing`]).
    lhs: Vec<Bool>,
    /// The left-hand side's assumptions but the priority ones.
    plain: Vec<Bool>,
    /// That a higher-priority rule does not match, with the rule's name.
    priority: Vec<(String, Bool)>,
    /// That every value the left-hand side's assumptions mention is well
    /// formed, and the logic of queries about them.
    lhs_wellformed: Vec<Bool>,
    lhs_logic: Option<&'static str>,
    /// The assumptions but those that select chained rules.
    defined: Vec<Bool>,
    /// What must be proved.
    obligations: Vec<Bool>,
    /// That every value is well formed.
    wellformed: Vec<Bool>,
}

/// Encodes a condition at an instantiation; the outcome when that alone
/// decides it (an encoding error, or a condition that folds to false).
fn encode<'a>(
    program: &'a Program,
    cond: &'a Condition,
    inst: &'a Instance,
) -> Result<Encoded<'a>, Outcome> {
    let mut encoder = Encoder::new(&cond.graph, &inst.typing, &program.enums);
    // Whether the left-hand side can match is judged on its own facts:
    // integers that only the right-hand side's specs pin (`(= n 20)`) are
    // free there, or a contradiction between the sides would be taken for
    // a pattern that never matches.
    let lhs_typing = lhs_only_typing(program, cond, &inst.typing);
    let mut lhs_encoder = lhs_typing
        .as_ref()
        .map(|t| Encoder::new(&cond.graph, t, &program.enums));
    let mut assumptions = Vec::new();
    let mut lhs = Vec::new();
    // The left-hand side's assumptions that a higher-priority rule does
    // not match, apart: without them the rule may apply, only shadowed.
    let mut plain = Vec::new();
    let mut priority = Vec::new();
    let mut defined = Vec::new();
    for c in &cond.assumptions {
        match encoder.bool(c.node) {
            Ok(b) => {
                if c.side == Side::Select && b.as_bool() == Some(false) {
                    // The chosen chained rule cannot apply here.
                    return Err(inapplicable(0));
                }
                if c.side == Side::Lhs {
                    let alone = match lhs_encoder.as_mut().map(|e| e.bool(c.node)) {
                        None => b.clone(),
                        Some(Ok(alone)) => alone,
                        Some(Err(e)) => return Err(encode_error(cond, e)),
                    };
                    lhs.push(alone.clone());
                    match &c.origin {
                        Origin::Priority(name) => priority.push((name.clone(), alone)),
                        _ => plain.push(alone),
                    }
                }
                if c.side != Side::Select {
                    defined.push(b.clone());
                }
                assumptions.push(b);
            }
            Err(e) => return Err(encode_error(cond, e)),
        }
    }
    // A condition of the left-hand side that folds to false: inapplicable
    // without asking z3.
    if lhs.iter().any(|a| a.as_bool() == Some(false)) {
        return Err(inapplicable(0));
    }
    let mut obligations = Vec::new();
    for c in &cond.obligations {
        match encoder.bool(c.node) {
            Ok(b) => obligations.push(b),
            Err(e) => return Err(encode_error(cond, e)),
        }
    }
    let wellformed = encoder.wellformed();
    let lhs_wellformed: Vec<Bool> = wellformed
        .iter()
        .cloned()
        .chain(lhs_encoder.iter().flat_map(|e| e.wellformed()))
        .collect();
    let lhs_logic = match &lhs_encoder {
        Some(e) if e.beyond_bv => None,
        _ if encoder.beyond_bv => None,
        _ => Some("QF_BV"),
    };
    Ok(Encoded {
        encoder,
        assumptions,
        lhs,
        plain,
        priority,
        lhs_wellformed,
        lhs_logic,
        defined,
        obligations,
        wellformed,
    })
}

impl Encoded<'_> {
    /// Queries over the well-formedness facts and the assumptions.
    fn queries<'c>(&self, timeout: Duration, cancel: &'c Cancel) -> Queries<'c> {
        Queries {
            base: self
                .wellformed
                .iter()
                .cloned()
                .chain(self.assumptions.iter().cloned())
                .collect(),
            logic: if self.encoder.beyond_bv {
                None
            } else {
                Some("QF_BV")
            },
            timeout,
            cancel,
            count: 0,
            unknowns: 0,
        }
    }
}

/// Checks one instantiation of one condition. `chain` names the rules this
/// expansion inlined; `name` names the rule for `smt`, which receives the
/// query in SMT-LIB when given; `cancel` stops the queries (the verdict is
/// then `unknown`, [`CANCELLED`]).
#[allow(clippy::too_many_arguments)]
pub fn check(
    program: &Program,
    cond: &Condition,
    chain: &[String],
    inst: &Instance,
    timeout: Duration,
    cancel: &Cancel,
    name: &str,
    smt: Option<&crate::SmtSink>,
) -> Outcome {
    if let Some(why) = &cond.undecided {
        return Outcome::new(Verdict::Unknown, 0, Some(why.clone()));
    }
    let mut e = match encode(program, cond, inst) {
        Ok(e) => e,
        Err(o) => return o,
    };
    let mut q = e.queries(timeout, cancel);
    let violated = Bool::and(&e.obligations).not();
    if let Some(sink) = smt {
        sink(name, &inst.label, &smt2(&q.base, &violated));
    }
    match q.check(std::slice::from_ref(&violated)) {
        Answer::Unknown(r) => Outcome::new(Verdict::Unknown, q.count, Some(r)),
        Answer::Sat(model) => {
            let encoder = &e.encoder;
            let free = |m: &Model| free_vars(program, cond, inst, encoder, m);
            let model = shrink(&mut q, encoder, cond, violated.clone(), model, &free);
            let mut o = Outcome::new(Verdict::Counterexample, 0, None);
            // Kept before the explanation encodes more, so that a replay
            // pins the same variables.
            o.model = crate::cache::snapshot(cond, &e.encoder, &model);
            let mut clean = |enc: &mut Encoder<'_>, reg, value, sign| {
                holds_when_clean(&mut q, &violated, enc, reg, value, sign)
            };
            o.counterexample = Some(Box::new(explain(
                program,
                cond,
                chain,
                inst,
                &mut e.encoder,
                &model,
                &mut clean,
            )));
            o.queries = q.count;
            o.exact = q.unknowns == 0;
            o
        }
        // No counterexample; but do the assumptions hold anywhere?
        Answer::Unsat => match q.check(&[]) {
            Answer::Sat(_) => Outcome::new(Verdict::Verified, q.count, None),
            Answer::Unknown(r) => Outcome::new(
                Verdict::Unknown,
                q.count,
                Some(format!("{r} checking that the rule applies")),
            ),
            // Nowhere. Because the rule cannot match here, or this expansion's
            // choice of chained rules does not apply (inapplicable), or
            // because the right-hand side's specs contradict each other,
            // which would make anything "verified" (an error)?
            Answer::Unsat => {
                let again_with = |logic: Option<&'static str>, base: Vec<Bool>, count: u32| {
                    let mut q2 = Queries {
                        base,
                        logic,
                        timeout,
                        cancel,
                        count,
                        unknowns: 0,
                    };
                    (q2.check(&[]), q2.count)
                };
                let again = |base: Vec<Bool>, count: u32| again_with(e.lhs_logic, base, count);
                let wellformed = &e.wellformed;
                let (selected_away, count) = again_with(
                    q.logic,
                    wellformed
                        .iter()
                        .cloned()
                        .chain(e.defined.clone())
                        .collect(),
                    q.count,
                );
                match selected_away {
                    Answer::Sat(_) => inapplicable(count),
                    Answer::Unknown(r) => Outcome::new(
                        Verdict::Unknown,
                        count,
                        Some(format!("{r} checking that the rule applies")),
                    ),
                    Answer::Unsat => {
                        let base = |extra: Vec<Bool>| -> Vec<Bool> {
                            e.lhs_wellformed.iter().cloned().chain(extra).collect()
                        };
                        match again(base(e.lhs.clone()), count) {
                            (Answer::Unsat, count) if e.priority.is_empty() => inapplicable(count),
                            (Answer::Unsat, count) => shadowed(
                                &e.plain,
                                &e.priority,
                                |extra| again(base(extra), 0),
                                count,
                            ),
                            (Answer::Unknown(r), count) => Outcome::new(
                                Verdict::Unknown,
                                count,
                                Some(format!("{r} checking that the rule applies")),
                            ),
                            (Answer::Sat(_), count) => {
                                let mut o = Outcome::new(Verdict::Error, count, None);
                                o.error = Some(contradiction(cond));
                                o
                            }
                        }
                    }
                }
            }
        },
    }
}

/// Whether the assumptions that say where the rule applies (its left-hand
/// side and the choices of its expansion) that `keep` keeps can hold
/// together at this instantiation: `Some(false)` when they cannot, `None`
/// when the solver cannot tell.
pub fn can_apply(
    program: &Program,
    cond: &Condition,
    inst: &Instance,
    timeout: Duration,
    cancel: &Cancel,
    keep: &dyn Fn(&crate::condition::Clause) -> bool,
) -> Option<bool> {
    let mut encoder = Encoder::new(&cond.graph, &inst.typing, &program.enums);
    let mut base = Vec::new();
    for c in &cond.assumptions {
        if c.side == Side::Rhs || !keep(c) {
            continue;
        }
        base.push(encoder.bool(c.node).ok()?);
    }
    let logic = if encoder.beyond_bv {
        None
    } else {
        Some("QF_BV")
    };
    base.extend(encoder.wellformed());
    let mut q = Queries {
        base,
        logic,
        timeout,
        cancel,
        count: 0,
        unknowns: 0,
    };
    match q.check(&[]) {
        Answer::Sat(_) => Some(true),
        Answer::Unsat => Some(false),
        Answer::Unknown(_) => None,
    }
}

/// The outcome of an instantiation from what the result cache kept of an
/// earlier check of the same query ([`crate::cache::Kept`]): verdicts as
/// kept, the contradiction error drawn again from the condition, and a
/// counterexample explained again from the kept values of its variables
/// (one query, every variable fixed), so that it reads exactly as the
/// first time. `None` when the kept values do not give a counterexample
/// (the entry is then ignored).
pub fn replay(
    program: &Program,
    cond: &Condition,
    chain: &[String],
    inst: &Instance,
    timeout: Duration,
    cancel: &Cancel,
    kept: &crate::cache::Kept,
) -> Option<Outcome> {
    let mut o = Outcome::new(kept.verdict, kept.queries, kept.reason.clone());
    o.shadowed_by = kept.shadowed_by.clone();
    match kept.verdict {
        Verdict::Verified | Verdict::Inapplicable | Verdict::Shadowed => Some(o),
        Verdict::Error => {
            o.error = Some(contradiction(cond));
            Some(o)
        }
        Verdict::Counterexample => {
            let mut e = encode(program, cond, inst).ok()?;
            let mut q = e.queries(timeout, cancel);
            let violated = Bool::and(&e.obligations).not();
            let mut fixed = vec![violated.clone()];
            fixed.extend(crate::cache::pins(cond, &e.encoder, &kept.model)?);
            let Answer::Sat(model) = q.check(&fixed) else {
                return None;
            };
            o.model = kept.model.clone();
            let mut clean = |enc: &mut Encoder<'_>, reg, value, sign| {
                holds_when_clean(&mut q, &violated, enc, reg, value, sign)
            };
            o.counterexample = Some(Box::new(explain(
                program,
                cond,
                chain,
                inst,
                &mut e.encoder,
                &model,
                &mut clean,
            )));
            Some(o)
        }
        Verdict::Unknown => None,
    }
}

/// Whether the rule holds for every input once the register `reg` holds
/// `value` zero-extended (sign-extended with `sign`): the query again, with
/// that register clean. Only a definite "no counterexample" says so.
fn holds_when_clean(
    q: &mut Queries<'_>,
    violated: &Bool,
    encoder: &mut Encoder<'_>,
    reg: loweq_semantics::graph::NodeId,
    value: loweq_semantics::graph::NodeId,
    sign: bool,
) -> bool {
    let (Ok(Z::Bv(r)), Ok(Z::Bv(v))) = (encoder.node(reg), encoder.node(value)) else {
        return false;
    };
    let (rw, vw) = (r.get_size(), v.get_size());
    if rw <= vw {
        return false;
    }
    let wide = if sign {
        v.sign_ext(rw - vw)
    } else {
        v.zero_ext(rw - vw)
    };
    matches!(q.check(&[violated.clone(), r.eq(&wide)]), Answer::Unsat)
}

/// The typing for judging the left-hand side on its own, when it differs
/// from `typing`: only the integers that the left-hand side's equalities
/// pin (from constants and from each other) stay fixed. `None` when every
/// fixed integer is the left-hand side's own.
fn lhs_only_typing(
    program: &Program,
    cond: &Condition,
    typing: &loweq_semantics::infer::Typing,
) -> Option<loweq_semantics::infer::Typing> {
    use loweq_semantics::graph::NodeId;
    use loweq_semantics::op::Op;
    if typing.static_count() == 0 {
        return None;
    }
    let graph = &cond.graph;
    let mut equalities = Vec::new();
    let mut stack: Vec<NodeId> = cond.assumptions_on(Side::Lhs).map(|c| c.node).collect();
    while let Some(n) = stack.pop() {
        let node = graph.node(n);
        match node.kind {
            NodeKind::Op(Op::And) => stack.extend(node.args.iter().copied()),
            NodeKind::Op(Op::Eq) if node.args.len() == 2 => {
                let (a, b) = (node.args[0], node.args[1]);
                equalities.extend([(a, b), (b, a)]);
            }
            _ => {}
        }
    }
    let mut pinned: std::collections::HashMap<VarId, Value> = Default::default();
    let mut eval = loweq_semantics::eval::Evaluator::new(graph, typing, &program.enums);
    loop {
        let mut progress = false;
        for &(a, b) in &equalities {
            let Some(v) = graph.as_var(a) else { continue };
            if pinned.contains_key(&v) || typing.static_var(v).is_none() {
                continue;
            }
            let known = pinned.clone();
            if let Ok(val @ (Value::Int(_) | Value::Bool(_))) =
                eval.eval(b, &|u| known.get(&u).cloned())
            {
                pinned.insert(v, val);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    (pinned.len() < typing.static_count()).then(|| typing.with_statics(pinned))
}

/// The left-hand side cannot hold with the priority assumptions: without
/// them, is it only shadowed, and by which rules? The rules named are a
/// minimal set whose not matching leaves no input.
fn shadowed(
    plain: &[Bool],
    priority: &[(String, Bool)],
    mut check: impl FnMut(Vec<Bool>) -> (Answer, u32),
    mut count: u32,
) -> Outcome {
    let mut ask = |extra: Vec<Bool>| {
        let (a, n) = check(extra);
        count += n;
        a
    };
    match ask(plain.to_vec()) {
        Answer::Unsat => return inapplicable(count),
        Answer::Unknown(r) => {
            return Outcome::new(
                Verdict::Unknown,
                count,
                Some(format!("{r} checking that the rule applies")),
            )
        }
        Answer::Sat(_) => {}
    }
    let mut needed: Vec<&(String, Bool)> = priority.iter().collect();
    let mut exact = true;
    let mut i = 0;
    while i < needed.len() {
        let without: Vec<Bool> = plain
            .iter()
            .cloned()
            .chain(
                needed
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, (_, b))| b.clone()),
            )
            .collect();
        match ask(without) {
            Answer::Unsat => {
                needed.remove(i);
            }
            Answer::Unknown(_) => {
                exact = false;
                i += 1;
            }
            Answer::Sat(_) => i += 1,
        }
    }
    let mut names: Vec<String> = needed.iter().map(|(n, _)| n.clone()).collect();
    names.dedup();
    let mut o = Outcome::new(
        Verdict::Shadowed,
        count,
        Some(format!(
            "every input it matches here is taken by {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    );
    o.shadowed_by = names;
    o.exact = exact;
    o
}

fn inapplicable(queries: u32) -> Outcome {
    Outcome::new(
        Verdict::Inapplicable,
        queries,
        Some("the left-hand side cannot match at this type".into()),
    )
}

/// The right-hand side's specs admit no behaviour for inputs the rule
/// matches: a proof would be vacuous.
fn contradiction(cond: &Condition) -> Diagnostic {
    let span = cond
        .assumptions_on(Side::Rhs)
        .next()
        .or(cond.assumptions.first())
        .map(|c| c.span)
        .unwrap_or_default();
    let mut d = Diagnostic::new(
        "the specs of the right-hand side contradict each other where the rule applies",
        span,
    )
    .with_label("one of the specs involved")
    .with_note("no machine behaviour satisfies them, so nothing about the rule could be proved");
    let terms: Vec<String> = cond
        .assumptions_on(Side::Rhs)
        .filter_map(|c| match &c.origin {
            Origin::Provide(t) | Origin::Match(t) => Some(format!("`{t}`")),
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !terms.is_empty() {
        d = d.with_note(format!(
            "the terms on the right-hand side: {}",
            terms.join(", ")
        ));
    }
    d
}

/// The verification query in SMT-LIB, for debugging the encoding.
fn smt2(base: &[Bool], violated: &Bool) -> String {
    let solver = Solver::new();
    for b in base {
        solver.assert(b);
    }
    solver.assert(violated);
    solver.to_smt2()
}

/// The order in which counterexample variables are made small: the rule's
/// variables first, then the root's arguments, then everything else.
pub fn preferred_order(cond: &Condition) -> Vec<VarId> {
    let mut order = Vec::new();
    let mut listed = vec![false; cond.graph.vars.len()];
    let nodes = cond
        .inputs
        .iter()
        .map(|i| i.node)
        .chain(cond.root_args.iter().copied());
    for n in nodes {
        if let Some(v) = cond.graph.as_var(n) {
            if !std::mem::replace(&mut listed[v.0 as usize], true) {
                order.push(v);
            }
        }
    }
    for i in 0..cond.graph.vars.len() as u32 {
        if !listed[i as usize] {
            order.push(VarId(i));
        }
    }
    order
}

/// The variables the facts do not define from others under `model`, in
/// preferred order: those a derivation seeded from the model.
fn free_vars(
    program: &Program,
    cond: &Condition,
    inst: &Instance,
    encoder: &Encoder<'_>,
    model: &Model,
) -> Vec<VarId> {
    let facts: Vec<_> = cond
        .assumptions
        .iter()
        .map(|c| c.node)
        .filter(|&n| !matches!(cond.graph.node(n).kind, NodeKind::Forall(_)))
        .collect();
    let seed = |v: VarId| encoder.var(v).and_then(|z| read(model, z));
    loweq_semantics::derive::derive(
        &cond.graph,
        &inst.typing,
        &program.enums,
        &facts,
        &preferred_order(cond),
        &seed,
    )
    .1
}

fn quantified(cond: &Condition) -> Vec<VarId> {
    cond.graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Forall(vs) => Some(vs.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Makes the model's free bitvector variables small, one at a time in
/// preferred order: zero if possible, else the fewest significant bits,
/// else a single set bit. Every step keeps the counterexample, so the
/// result depends on the problem rather than on z3's first choice.
///
/// Only the variables that the facts do not define from others need it
/// (`free` lists them under a model, in preferred order): the rest follow,
/// and the explanation recomputes them. A deep rule has one variable per
/// term, but few free ones.
fn shrink(
    q: &mut Queries,
    encoder: &Encoder<'_>,
    cond: &Condition,
    violated: Bool,
    model: Model,
    free: &dyn Fn(&Model) -> Vec<VarId>,
) -> Model {
    let bound = quantified(cond);
    let mut fixed = vec![violated];
    let mut model = model;
    let keep =
        |q: &mut Queries, fixed: &mut Vec<Bool>, c: Bool, model: &mut Model| -> Option<bool> {
            fixed.push(c);
            match q.check(fixed) {
                Answer::Sat(m) => {
                    *model = m;
                    Some(true)
                }
                Answer::Unsat => {
                    fixed.pop();
                    Some(false)
                }
                Answer::Unknown(_) => {
                    fixed.pop();
                    None
                }
            }
        };
    let mut tried = vec![false; cond.graph.vars.len()];
    'more: loop {
        let next: Vec<VarId> = free(&model)
            .into_iter()
            .filter(|v| !std::mem::replace(&mut tried[v.0 as usize], true))
            .collect();
        if next.is_empty() {
            break;
        }
        for v in next {
            if bound.contains(&v) {
                continue;
            }
            let mut leaves = Vec::new();
            if let Some(z) = encoder.var(v) {
                leaves_of(z, &mut leaves);
            }
            for leaf in leaves {
                let kept = match leaf {
                    Leaf::Bv(x) => shrink_bv(q, &mut fixed, &mut model, x, &keep),
                    Leaf::Variant(x, n) => shrink_variant(q, &mut fixed, &mut model, x, n, &keep),
                    // Booleans prefer false.
                    Leaf::Bool(b) => keep(q, &mut fixed, b.not(), &mut model).is_some(),
                };
                if !kept {
                    break 'more;
                }
            }
        }
    }
    if let Answer::Sat(m) = q.check(&fixed) {
        model = m;
    }
    model
}

/// The answer-keeping step of [`shrink`]: adds `c` to the fixed
/// constraints if the counterexample survives it (updating the model).
type Keep = dyn Fn(&mut Queries, &mut Vec<Bool>, Bool, &mut Model) -> Option<bool>;

/// A part of a variable that shrinking makes small.
enum Leaf {
    Bv(BV),
    Bool(Bool),
    /// An enum's variant index, with the number of variants.
    Variant(BV, usize),
}

/// The bitvectors and booleans a variable is made of: itself, or the
/// fields of a struct or of an enum's variants. A variable that is a
/// boolean on its own is left to the solver: it is usually a condition.
fn leaves_of(z: &Z, out: &mut Vec<Leaf>) {
    fn fields(z: &Z, out: &mut Vec<Leaf>) {
        match z {
            Z::Bool(b) => out.push(Leaf::Bool(b.clone())),
            other => leaves_of(other, out),
        }
    }
    match z {
        Z::Bv(b) => out.push(Leaf::Bv(b.clone())),
        Z::Struct(fs) => fs.iter().for_each(|(_, f)| fields(f, out)),
        // The variant first (the earliest variant that still gives a
        // counterexample), then its fields.
        Z::Enum {
            disc, fields: fs, ..
        } => {
            out.push(Leaf::Variant(disc.clone(), fs.len()));
            fs.iter().flatten().for_each(|f| fields(f, out));
        }
        Z::Bool(_) | Z::Int(_) | Z::Unit => {}
    }
}

/// Makes one bitvector small (see [`shrink`]); false when the solver gave
/// up and shrinking should stop.
fn shrink_bv(
    q: &mut Queries,
    fixed: &mut Vec<Bool>,
    model: &mut Model,
    x: BV,
    keep: &Keep,
) -> bool {
    {
        let w = x.get_size();
        let Some(Value::Bv(cur)) = read(model, &Z::Bv(x.clone())) else {
            return true;
        };
        if cur.is_zero() {
            fixed.push(x.eq(BV::from_u64(0, w)));
            return true;
        }
        // Determined by the others? Then it stays.
        fixed.push(x.eq(bv_const(&cur)).not());
        let free = q.check(fixed);
        fixed.pop();
        match free {
            Answer::Unsat => {
                fixed.push(x.eq(bv_const(&cur)));
                return true;
            }
            Answer::Unknown(_) => return false,
            Answer::Sat(_) => {}
        }
        match keep(q, fixed, x.eq(BV::from_u64(0, w)), model) {
            Some(true) => return true,
            None => return false,
            Some(false) => {}
        }
        // The fewest significant bits: smallest k with x < 2^k.
        let (mut lo, mut hi) = (1u32, w);
        while lo < hi {
            let mid = (lo + hi) / 2;
            fixed.push(x.bvult(bit(mid, w)));
            let r = q.check(fixed);
            fixed.pop();
            match r {
                Answer::Sat(_) => hi = mid,
                Answer::Unsat => lo = mid + 1,
                Answer::Unknown(_) => return false,
            }
        }
        if lo < w {
            fixed.push(x.bvult(bit(lo, w)));
        }
        keep(q, fixed, x.eq(bit(lo - 1, w)), model).is_some()
    }
}

/// Makes an enum's variant the earliest that still gives a
/// counterexample (see [`shrink`]); false when the solver gave up.
fn shrink_variant(
    q: &mut Queries,
    fixed: &mut Vec<Bool>,
    model: &mut Model,
    x: BV,
    variants: usize,
    keep: &Keep,
) -> bool {
    let w = x.get_size();
    let Some(Value::Bv(cur)) = read(model, &Z::Bv(x.clone())) else {
        return true;
    };
    let Some(cur) = cur.to_u128() else {
        return true;
    };
    let fix = |fixed: &mut Vec<Bool>| fixed.push(x.eq(BV::from_u64(cur as u64, w)));
    if cur == 0 {
        fix(fixed);
        return true;
    }
    // Determined by the others (a pattern that matches one variant)? Then
    // one query says so, where trying the earlier variants takes one each.
    fixed.push(x.eq(BV::from_u64(cur as u64, w)).not());
    let free = q.check(fixed);
    fixed.pop();
    match free {
        Answer::Unsat => {
            fix(fixed);
            return true;
        }
        Answer::Unknown(_) => return false,
        Answer::Sat(_) => {}
    }
    for i in 0..(variants as u128).min(cur) {
        match keep(q, fixed, x.eq(BV::from_u64(i as u64, w)), model) {
            Some(true) => return true,
            None => return false,
            Some(false) => {}
        }
    }
    fix(fixed);
    true
}

/// The bitvector `1 << i` of width `w`.
fn bit(i: u32, w: u32) -> BV {
    bv_const(&loweq_semantics::value::BitVec::new(
        w,
        num_bigint::BigUint::from(1u8) << i,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupt_of_the_watchdog_is_a_timeout() {
        let t = Duration::from_millis(300);
        assert_eq!(
            unknown_reason("interrupted", false, t),
            "the solver timed out after 300ms"
        );
        assert_eq!(
            unknown_reason("canceled", false, t),
            "the solver timed out after 300ms"
        );
        assert_eq!(unknown_reason("canceled", true, t), OVER_BUDGET);
        assert_eq!(
            unknown_reason("max. resource limit exceeded", true, t),
            OVER_BUDGET
        );
        assert_eq!(
            unknown_reason("incomplete quantifiers", false, t),
            "the solver gave up (incomplete quantifiers)"
        );
        assert_eq!(unknown_reason("", false, t), "the solver gave up");
    }
}
