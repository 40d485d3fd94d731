//! A condition encoded for z3 at one instantiation ([`Encoded`]): its
//! facts sorted by what the checks need of them, the left-hand side's
//! judged on its own typing ([`lhs_only_typing`]); and the outcomes the
//! encoding alone decides.

use std::time::Duration;

use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::graph::{NodeKind, VarId};
use loweq_semantics::value::Value;
use z3::ast::Bool;

use super::query::Queries;
use super::verdict::inapplicable;
use super::Outcome;
use crate::cancel::Cancel;
use crate::condition::{Condition, Origin, Side};
use crate::encode::{EncodeError, Encoder};
use crate::instances::Instance;
use crate::report::Verdict;

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
pub(super) struct Encoded<'a> {
    /// The encoder, which the explanation of a counterexample encodes
    /// more with.
    pub(super) encoder: Encoder<'a>,
    /// Every assumption.
    assumptions: Vec<Bool>,
    /// The left-hand side's assumptions, on their own (see
    /// [`lhs_only_typing`]).
    pub(super) lhs: Vec<Bool>,
    /// The left-hand side's assumptions but the priority ones.
    pub(super) plain: Vec<Bool>,
    /// That a higher-priority rule does not match, with the rule's name.
    pub(super) priority: Vec<(String, Bool)>,
    /// That every value the left-hand side's assumptions mention is well
    /// formed, and the logic of queries about them.
    pub(super) lhs_wellformed: Vec<Bool>,
    pub(super) lhs_logic: Option<&'static str>,
    /// The assumptions but those that select chained rules.
    pub(super) defined: Vec<Bool>,
    /// What must be proved.
    pub(super) obligations: Vec<Bool>,
    /// That every value is well formed.
    pub(super) wellformed: Vec<Bool>,
}

/// Encodes a condition at an instantiation; the outcome when that alone
/// decides it (an encoding error, or a condition that folds to false).
pub(super) fn encode<'a>(
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
    pub(super) fn queries<'c>(&self, timeout: Duration, cancel: &'c Cancel) -> Queries<'c> {
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
