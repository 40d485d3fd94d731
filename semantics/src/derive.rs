//! Definitional evaluation: computing the variables of a formula graph from
//! a few given ones, by reading the assumed facts as definitions.
//!
//! A fact `(= v e)` (either way round) defines `v` once everything `e` needs
//! is known; `(=> c f)` and `(if c f g)` are followed once `c` is known;
//! `and` is split. When nothing more can be defined, the next variable in
//! the caller's order that is still unknown is taken from `seed` (for a
//! counterexample, the solver's model; for an interpreter, the inputs).
//! Variables the facts do not define (the junk upper bits of a register,
//! say) therefore come from the seed, and everything else is recomputed.

use std::collections::HashMap;

use crate::eval::{EvalError, Evaluator};
use crate::graph::{Graph, NodeId, NodeKind, VarId};
use crate::infer::Typing;
use crate::op::Op;
use crate::ty::Enums;
use crate::value::Value;

/// Derives variable values. `order` lists the variables to seed, most
/// preferred first; variables not listed are seeded last, in index order.
/// Returns the assignment and the variables that had to be seeded.
pub fn derive(
    graph: &Graph,
    typing: &Typing,
    enums: &Enums,
    facts: &[NodeId],
    order: &[VarId],
    seed: &dyn Fn(VarId) -> Option<Value>,
) -> (HashMap<VarId, Value>, Vec<VarId>) {
    let mut conj = Vec::new();
    for &f in facts {
        conjuncts(graph, typing, f, &mut conj);
    }
    let mut env = Env::default();
    let mut seeded = Vec::new();
    let mut queue: Vec<VarId> = order.to_vec();
    queue.extend(
        (0..graph.vars.len() as u32)
            .map(VarId)
            .filter(|v| !order.contains(v)),
    );
    let mut next_seed = 0;
    loop {
        // Define what can be defined.
        let mut progress = true;
        while progress {
            progress = false;
            for &c in &conj {
                if define(graph, typing, enums, c, &mut env) {
                    progress = true;
                }
            }
        }
        // Seed the next unknown variable.
        while next_seed < queue.len() && env.values.contains_key(&queue[next_seed]) {
            next_seed += 1;
        }
        let Some(&v) = queue.get(next_seed) else {
            break;
        };
        next_seed += 1;
        if let Some(val) = seed(v) {
            env.values.insert(v, val);
            seeded.push(v);
        }
    }
    (env.values, seeded)
}

/// The assignment built so far.
#[derive(Default)]
struct Env {
    values: HashMap<VarId, Value>,
}

impl Env {
    fn eval(
        &self,
        graph: &Graph,
        typing: &Typing,
        enums: &Enums,
        n: NodeId,
    ) -> Result<Value, EvalError> {
        evaluate(graph, typing, enums, &self.values, n)
    }
}

/// Splits a fact into its top-level conjuncts.
fn conjuncts(graph: &Graph, typing: &Typing, n: NodeId, out: &mut Vec<NodeId>) {
    let n = typing.redirect(n).unwrap_or(n);
    match graph.node(n).kind {
        NodeKind::Op(Op::And) => {
            for &a in &graph.node(n).args {
                conjuncts(graph, typing, a, out);
            }
        }
        _ => out.push(n),
    }
}

/// Tries to use one fact as a definition; true if a variable got a value.
fn define(graph: &Graph, typing: &Typing, enums: &Enums, c: NodeId, env: &mut Env) -> bool {
    let c = typing.redirect(c).unwrap_or(c);
    let node = graph.node(c);
    match &node.kind {
        NodeKind::Op(Op::Eq) if node.args.len() == 2 => {
            for (a, b) in [(node.args[0], node.args[1]), (node.args[1], node.args[0])] {
                let a = typing.redirect(a).unwrap_or(a);
                let Some(v) = graph.as_var(a) else { continue };
                if env.values.contains_key(&v) {
                    continue;
                }
                if let Ok(val) = env.eval(graph, typing, enums, b) {
                    env.values.insert(v, val);
                    return true;
                }
            }
            false
        }
        NodeKind::Op(Op::And) => {
            let mut any = false;
            for &a in &node.args {
                any |= define(graph, typing, enums, a, env);
            }
            any
        }
        NodeKind::Op(Op::Imp) => match env.eval(graph, typing, enums, node.args[0]) {
            Ok(Value::Bool(true)) => define(graph, typing, enums, node.args[1], env),
            _ => false,
        },
        NodeKind::Op(Op::If) => match env.eval(graph, typing, enums, node.args[0]) {
            Ok(Value::Bool(b)) => {
                define(graph, typing, enums, node.args[if b { 1 } else { 2 }], env)
            }
            _ => false,
        },
        _ => false,
    }
}

/// Evaluates nodes under a finished assignment.
pub fn evaluate(
    graph: &Graph,
    typing: &Typing,
    enums: &Enums,
    values: &HashMap<VarId, Value>,
    n: NodeId,
) -> Result<Value, EvalError> {
    let mut ev = Evaluator::new(graph, typing, enums);
    ev.eval(n, &|v| values.get(&v).cloned())
}
