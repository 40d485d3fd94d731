//! Solving one instantiated condition: the verification query, the
//! applicability check, and shrinking a counterexample to small values.
//!
//! This module owns the outcome and the checks a caller asks for (the
//! verification query, whether the left-hand side can apply, replaying a
//! kept outcome); `query` runs one query on a fresh solver, `encoded`
//! encodes a condition for the queries, `verdict` decides the verdict
//! when there is no counterexample, `shrink` makes a counterexample small.
//!
//! Every query runs on a fresh solver with a single `check`. z3 answers a
//! single check of a pure bitvector problem by bit-blasting, in
//! milliseconds; after a first check on the same solver it switches to its
//! incremental core, which is up to a hundred times slower on the shifts
//! and multiplications that lowering rules are made of.

use std::time::Duration;

use loweq_dsl::{Diagnostic, Program};
use z3::ast::Bool;
use z3::Model;

use crate::cancel::Cancel;
use crate::condition::{Condition, Side};
use crate::encode::{Encoder, Z};
use crate::explain::explain;
use crate::instances::Instance;
use crate::report::{Counterexample, Verdict};

mod encoded;
mod query;
mod shrink;
mod verdict;

use encoded::encode;
use query::{smt2, Answer, Queries};
use shrink::{free_vars, shrink};
use verdict::contradiction;

pub use shrink::preferred_order;

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
        Answer::Unsat => verdict::without_counterexample(cond, &e, &mut q, timeout, cancel),
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
