//! Solving one instantiated condition: the applicability check, the
//! verification query, and shrinking a counterexample to small values.

use std::time::Duration;

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::graph::{NodeKind, VarId};
use loweq_semantics::value::Value;
use z3::ast::{Bool, BV};
use z3::{Model, Params, SatResult, Solver};

use crate::condition::Condition;
use crate::encode::{EncodeError, Encoder, Z};
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
}

impl Outcome {
    fn new(verdict: Verdict, queries: u32) -> Outcome {
        Outcome {
            verdict,
            queries,
            counterexample: None,
            reason: None,
            error: None,
        }
    }
}

struct Session<'a> {
    solver: Solver,
    queries: u32,
    encoder: Encoder<'a>,
}

impl Session<'_> {
    fn check(&mut self) -> SatResult {
        self.queries += 1;
        self.solver.check()
    }

    fn reason(&self) -> String {
        let r = self.solver.get_reason_unknown().unwrap_or_default();
        if r.contains("timeout") || r.contains("canceled") {
            "the solver timed out".into()
        } else if r.is_empty() {
            "the solver gave up".into()
        } else {
            format!("the solver gave up ({r})")
        }
    }
}

fn encode_error(cond: &Condition, e: EncodeError) -> Diagnostic {
    Diagnostic::new(
        format!(
            "internal error: cannot encode this expression: {}",
            e.message
        ),
        cond.graph.node(e.node).span,
    )
}

/// Checks one instantiation of one condition. `chain` names the rules this
/// expansion inlined.
pub fn check(
    program: &Program,
    cond: &Condition,
    chain: &[String],
    inst: &Instance,
    timeout: Duration,
) -> Outcome {
    let solver = Solver::new();
    let mut params = Params::new();
    params.set_u32(
        "timeout",
        u32::try_from(timeout.as_millis())
            .unwrap_or(u32::MAX)
            .max(1),
    );
    solver.set_params(&params);
    let mut s = Session {
        solver,
        queries: 0,
        encoder: Encoder::new(&cond.graph, &inst.typing, &program.enums),
    };
    let mut assumptions = Vec::new();
    let mut obligations = Vec::new();
    for c in &cond.assumptions {
        match s.encoder.bool(c.node) {
            Ok(b) => assumptions.push(b),
            Err(e) => return error(encode_error(cond, e)),
        }
    }
    for c in &cond.obligations {
        match s.encoder.bool(c.node) {
            Ok(b) => obligations.push(b),
            Err(e) => return error(encode_error(cond, e)),
        }
    }
    for w in &s.encoder.wellformed {
        s.solver.assert(w);
    }
    for a in &assumptions {
        s.solver.assert(a);
    }
    match s.check() {
        SatResult::Unsat => {
            let mut o = Outcome::new(Verdict::Inapplicable, s.queries);
            o.reason = Some("the left-hand side cannot match at this type".into());
            return o;
        }
        SatResult::Unknown => {
            let mut o = Outcome::new(Verdict::Unknown, s.queries);
            o.reason = Some(format!("{} checking that the rule applies", s.reason()));
            return o;
        }
        SatResult::Sat => {}
    }
    s.solver.assert(Bool::and(&obligations).not());
    match s.check() {
        SatResult::Unsat => Outcome::new(Verdict::Verified, s.queries),
        SatResult::Unknown => {
            let mut o = Outcome::new(Verdict::Unknown, s.queries);
            o.reason = Some(s.reason());
            o
        }
        SatResult::Sat => {
            let model = shrink(&mut s, cond);
            let cex = model.map(|m| explain(program, cond, chain, inst, &s.encoder, &m));
            let mut o = Outcome::new(Verdict::Counterexample, s.queries);
            match cex {
                Some(c) => o.counterexample = Some(Box::new(c)),
                None => {
                    o.reason =
                        Some("the solver found a counterexample but returned no model".into())
                }
            }
            o
        }
    }
}

fn error(d: Diagnostic) -> Outcome {
    let mut o = Outcome::new(Verdict::Error, 0);
    o.error = Some(d);
    o
}

/// The order in which counterexample variables are made small: the rule's
/// variables first, then the root's arguments, then everything else.
pub fn preferred_order(cond: &Condition) -> Vec<VarId> {
    let mut order = Vec::new();
    let nodes = cond
        .inputs
        .iter()
        .map(|i| i.node)
        .chain(cond.root_args.iter().copied());
    for n in nodes {
        if let Some(v) = cond.graph.as_var(n) {
            if !order.contains(&v) {
                order.push(v);
            }
        }
    }
    order
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
/// else a single set bit. Every step keeps the counterexample, and the
/// result depends only on the problem, not on z3's choices.
fn shrink(s: &mut Session<'_>, cond: &Condition) -> Option<Model> {
    let bound = quantified(cond);
    let mut order = preferred_order(cond);
    for i in 0..cond.graph.vars.len() as u32 {
        let v = VarId(i);
        if !order.contains(&v) {
            order.push(v);
        }
    }
    let mut model = s.solver.get_model()?;
    for v in order {
        if bound.contains(&v) {
            continue;
        }
        let Some(Z::Bv(x)) = s.encoder.var(v).cloned() else {
            continue;
        };
        let w = x.get_size();
        let Some(Value::Bv(cur)) = crate::encode::read(&model, &Z::Bv(x.clone())) else {
            continue;
        };
        if cur.is_zero() {
            s.solver.assert(x.eq(BV::from_u64(0, w)));
            continue;
        }
        // Determined by the rest? Then leave it.
        s.solver.push();
        s.solver.assert(x.eq(crate::encode::bv_const(&cur)).not());
        let free = s.check();
        s.solver.pop(1);
        match free {
            SatResult::Unsat => {
                s.solver.assert(x.eq(crate::encode::bv_const(&cur)));
                continue;
            }
            SatResult::Unknown => break,
            SatResult::Sat => {}
        }
        if try_assert(s, &x.eq(BV::from_u64(0, w))) == Some(true) {
            continue;
        }
        // Smallest k with x < 2^k, by binary search on k in 1..=w.
        let (mut lo, mut hi) = (1u32, w);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match try_fits(s, &x, mid) {
                Some(true) => hi = mid,
                Some(false) => lo = mid + 1,
                None => return s.solver.get_model().or(Some(model)),
            }
        }
        if lo < w {
            s.solver.assert(x.bvult(bit_bv(lo, w)));
        }
        let _ = try_assert(s, &x.eq(bit_bv(lo - 1, w)));
    }
    if s.check() == SatResult::Sat {
        if let Some(m) = s.solver.get_model() {
            model = m;
        }
    }
    Some(model)
}

fn bit_bv(i: u32, w: u32) -> BV {
    crate::encode::bv_const(&loweq_semantics::value::BitVec::new(
        w,
        num_bigint::BigUint::from(1u8) << i,
    ))
}

fn try_fits(s: &mut Session<'_>, x: &BV, k: u32) -> Option<bool> {
    let w = x.get_size();
    if k >= w {
        return Some(true);
    }
    s.solver.push();
    s.solver.assert(x.bvult(bit_bv(k, w)));
    let r = s.check();
    s.solver.pop(1);
    match r {
        SatResult::Sat => Some(true),
        SatResult::Unsat => Some(false),
        SatResult::Unknown => None,
    }
}

/// Asserts `c` if that keeps the problem satisfiable.
fn try_assert(s: &mut Session<'_>, c: &Bool) -> Option<bool> {
    s.solver.push();
    s.solver.assert(c);
    match s.check() {
        SatResult::Sat => {
            s.solver.pop(1);
            s.solver.assert(c);
            Some(true)
        }
        SatResult::Unsat => {
            s.solver.pop(1);
            Some(false)
        }
        SatResult::Unknown => {
            s.solver.pop(1);
            None
        }
    }
}
