//! Definitional evaluation: computing the variables of a formula graph from
//! a few given ones, by reading the assumed facts as definitions.
//!
//! A fact `(= v e)` (either way round) defines `v` once everything `e` needs
//! is known; so does `(= p e)` where `p` is a pattern that can be undone:
//! `(zero_ext W v)`, `(sign_ext W v)` and `(conv_to W v)` that widen define
//! `v` as the low bits of `e` (and a widening `conv_to` defines its padding,
//! as the whole value), and `(concat a b ...)` defines each part from its slice of
//! `e`. A boolean variable `v` on its own as a fact is true,
//! `(not v)` false. `(=> c f)` and `(if c f g)` are followed once `c` is
//! known; `and` is split. Definitions are not checked against the facts:
//! a caller that needs the facts to hold (an interpreter) evaluates them
//! afterwards. When nothing more can be defined, the next variable in
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
    let (values, seeded, _) = derive_traced(graph, typing, enums, facts, order, seed);
    (values, seeded)
}

/// How [`derive_traced`] found a variable's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Def {
    /// From the seed.
    Seed,
    /// The value of a node, or bits `hi..=lo` of it (a pattern undone).
    Node {
        /// The node.
        node: NodeId,
        /// The bits taken, `(hi, lo)`; `None` for the whole value.
        slice: Option<(u32, u32)>,
    },
    /// A boolean fact on its own (`v` or `(not v)`).
    Bool(bool),
}

/// The definitions [`derive_traced`] used, in order, and the conditions it
/// followed to them. Replaying the definitions gives the same values for
/// any seed under which the guards evaluate the same way, because which
/// definition applies depends only on which variables are known and on
/// the guards; callers that replay check the guards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Each variable that got a value, and how, in order.
    pub defs: Vec<(VarId, Def)>,
    /// Conditions of `=>` and `if` facts that derivation follows, with
    /// the value they have under the final assignment.
    pub guards: Vec<(NodeId, bool)>,
}

/// [`derive`], also returning how each value was found.
pub fn derive_traced(
    graph: &Graph,
    typing: &Typing,
    enums: &Enums,
    facts: &[NodeId],
    order: &[VarId],
    seed: &dyn Fn(VarId) -> Option<Value>,
) -> (HashMap<VarId, Value>, Vec<VarId>, Trace) {
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
            env.trace.defs.push((v, Def::Seed));
            seeded.push(v);
        }
    }
    for &c in &conj {
        guards(graph, typing, enums, c, &mut env);
    }
    (env.values, seeded, env.trace)
}

/// Records the value of every `=>` and `if` condition that `define`
/// follows under the final assignment: with the same values, it takes the
/// same branches.
fn guards(graph: &Graph, typing: &Typing, enums: &Enums, c: NodeId, env: &mut Env) {
    let c = typing.redirect(c).unwrap_or(c);
    let node = graph.node(c);
    match &node.kind {
        NodeKind::Op(Op::And) => {
            for &a in &node.args {
                guards(graph, typing, enums, a, env);
            }
        }
        NodeKind::Op(Op::Imp | Op::If) => {
            if let Ok(Value::Bool(b)) = env.eval(graph, typing, enums, node.args[0]) {
                env.trace.guards.push((node.args[0], b));
                let next = match (&node.kind, b) {
                    (NodeKind::Op(Op::Imp), true) => Some(node.args[1]),
                    (NodeKind::Op(Op::Imp), false) => None,
                    (_, true) => Some(node.args[1]),
                    (_, false) => Some(node.args[2]),
                };
                if let Some(n) = next {
                    guards(graph, typing, enums, n, env);
                }
            }
        }
        _ => {}
    }
}

/// The assignment built so far, and how.
#[derive(Default)]
struct Env {
    values: HashMap<VarId, Value>,
    trace: Trace,
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
        NodeKind::Var(v) => assign_bool(env, *v, true),
        NodeKind::Op(Op::Not) => {
            let a = typing.redirect(node.args[0]).unwrap_or(node.args[0]);
            match graph.as_var(a) {
                Some(v) => assign_bool(env, v, false),
                None => false,
            }
        }
        NodeKind::Op(Op::Eq) if node.args.len() == 2 => {
            for (a, b) in [(node.args[0], node.args[1]), (node.args[1], node.args[0])] {
                if !has_unknown(graph, typing, a, env) {
                    continue;
                }
                if let Ok(val) = env.eval(graph, typing, enums, b) {
                    let full = val.as_bv().map(|v| v.width());
                    if undo(graph, typing, a, &val, (b, 0, full), env) {
                        return true;
                    }
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

/// Gives an unknown boolean variable a value; true if it had none.
fn assign_bool(env: &mut Env, v: VarId, b: bool) -> bool {
    if env.values.contains_key(&v) {
        return false;
    }
    env.values.insert(v, Value::Bool(b));
    env.trace.defs.push((v, Def::Bool(b)));
    true
}

/// Whether pattern `p` is a variable without a value, or an undoable
/// operator over patterns of which one is.
fn has_unknown(graph: &Graph, typing: &Typing, p: NodeId, env: &Env) -> bool {
    let p = typing.redirect(p).unwrap_or(p);
    let node = graph.node(p);
    match node.kind {
        NodeKind::Var(v) => !env.values.contains_key(&v),
        NodeKind::Op(Op::ZeroExt | Op::SignExt) => has_unknown(graph, typing, node.args[1], env),
        NodeKind::Op(Op::ConvTo) => node.args[1..]
            .iter()
            .any(|&a| has_unknown(graph, typing, a, env)),
        NodeKind::Op(Op::Concat) => node
            .args
            .iter()
            .any(|&a| has_unknown(graph, typing, a, env)),
        _ => false,
    }
}

/// Where a value being undone came from: the node, the offset of the
/// value's lowest bit in it, and the node's width (`None` when the node is
/// not a bitvector, so the value is all of it).
type Source = (NodeId, u32, Option<u32>);

/// Makes pattern `p` equal `value` by giving its unknown variables values;
/// true if any variable got one. Known parts are left alone (whether they
/// agree is for the caller to check). `src` says where `value` came from.
fn undo(
    graph: &Graph,
    typing: &Typing,
    p: NodeId,
    value: &Value,
    src: Source,
    env: &mut Env,
) -> bool {
    let p = typing.redirect(p).unwrap_or(p);
    let node = graph.node(p);
    match node.kind {
        NodeKind::Var(v) => {
            if env.values.contains_key(&v) {
                return false;
            }
            let (from, lo, full) = src;
            let slice = match (value.as_bv(), full) {
                (Some(bits), Some(full)) if lo > 0 || bits.width() != full => {
                    Some((lo + bits.width() - 1, lo))
                }
                _ => None,
            };
            env.values.insert(v, value.clone());
            env.trace.defs.push((v, Def::Node { node: from, slice }));
            true
        }
        NodeKind::Op(Op::ZeroExt | Op::SignExt | Op::ConvTo) => {
            let x = node.args[1];
            let (Some(bits), Some(w)) = (value.as_bv(), typing.ty(x).and_then(|t| t.width()))
            else {
                return false;
            };
            // Only a widening can be undone: narrowing loses bits.
            if w == 0 || w > bits.width() {
                return false;
            }
            let low = undo(
                graph,
                typing,
                x,
                &Value::Bv(bits.extract(w - 1, 0)),
                src,
                env,
            );
            // A widening `conv_to` also defines its padding, as the whole
            // value: only its bits above `x` are ever read.
            let pad = match node.args.get(2) {
                Some(&pad) if node.kind == NodeKind::Op(Op::ConvTo) && w < bits.width() => {
                    undo(graph, typing, pad, value, src, env)
                }
                _ => false,
            };
            low || pad
        }
        NodeKind::Op(Op::Concat) => {
            let Some(bits) = value.as_bv() else {
                return false;
            };
            let widths: Option<Vec<u32>> = node
                .args
                .iter()
                .map(|&a| typing.ty(a).and_then(|t| t.width()))
                .collect();
            let Some(widths) = widths else { return false };
            if widths.iter().sum::<u32>() != bits.width() || widths.contains(&0) {
                return false;
            }
            // The first argument is the most significant.
            let mut hi = bits.width();
            let mut any = false;
            for (&a, &w) in node.args.iter().zip(&widths) {
                let part = bits.extract(hi - 1, hi - w);
                let part_src = (src.0, src.1 + hi - w, src.2);
                any |= undo(graph, typing, a, &Value::Bv(part), part_src, env);
                hi -= w;
            }
            any
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::{infer, Mode};
    use crate::span::Span;
    use crate::ty::ModelType;
    use crate::value::BitVec;
    use crate::Literal;

    fn bv(w: u32) -> Option<ModelType> {
        Some(ModelType::BitVec(Some(w)))
    }

    fn int(g: &mut Graph, i: i128) -> NodeId {
        g.constant(Literal::Int(i), Span::default())
    }

    /// Types `g` from `facts` and derives with the given seeds.
    fn run(g: &Graph, facts: &[NodeId], seeds: &[(NodeId, Value)]) -> HashMap<VarId, Value> {
        let typing = infer(g, &Enums::default(), facts, facts, &[], Mode::Complete)
            .expect("the test graph types");
        let seeds: HashMap<VarId, Value> = seeds
            .iter()
            .map(|(n, v)| (g.as_var(*n).expect("a variable"), v.clone()))
            .collect();
        let order: Vec<VarId> = seeds.keys().copied().collect();
        let (values, _) = derive(g, &typing, &Enums::default(), facts, &order, &|v| {
            seeds.get(&v).cloned()
        });
        values
    }

    fn get(g: &Graph, values: &HashMap<VarId, Value>, n: NodeId) -> Option<Value> {
        values.get(&g.as_var(n).expect("a variable")).cloned()
    }

    fn bits(w: u32, v: u128) -> Value {
        Value::Bv(BitVec::from_u128(w, v))
    }

    #[test]
    fn concat_is_split_into_its_parts() {
        let mut g = Graph::new();
        let s = Span::default();
        let hi = g.var("hi", bv(8), s);
        let lo = g.var("lo", bv(24), s);
        let e = g.var("e", bv(32), s);
        let cat = g.op(Op::Concat, vec![hi, lo], s);
        let fact = g.op(Op::Eq, vec![e, cat], s);
        let values = run(&g, &[fact], &[(e, bits(32, 0x1234_5678))]);
        assert_eq!(get(&g, &values, hi), Some(bits(8, 0x12)));
        assert_eq!(get(&g, &values, lo), Some(bits(24, 0x34_5678)));
    }

    #[test]
    fn widening_is_undone_to_the_low_bits() {
        let mut g = Graph::new();
        let s = Span::default();
        let r = g.var("r", bv(8), s);
        let imm = g.var("imm", bv(64), s);
        let w = int(&mut g, 64);
        let ext = g.op(Op::ZeroExt, vec![w, r], s);
        let fact = g.op(Op::Eq, vec![ext, imm], s);
        let values = run(&g, &[fact], &[(imm, bits(64, 0xab))]);
        assert_eq!(get(&g, &values, r), Some(bits(8, 0xab)));
    }

    #[test]
    fn a_widening_conv_to_defines_its_operand_and_padding() {
        let mut g = Graph::new();
        let s = Span::default();
        let x = g.var("x", bv(8), s);
        let e = g.var("e", bv(16), s);
        let w = int(&mut g, 16);
        let conv = g.conv_to(w, x, "pad".into(), s);
        let pad = g.node(conv).args[2];
        let fact = g.op(Op::Eq, vec![conv, e], s);
        let values = run(&g, &[fact], &[(e, bits(16, 0xab12))]);
        assert_eq!(get(&g, &values, x), Some(bits(8, 0x12)));
        // The padding's low bits are never read; it holds the whole value.
        assert_eq!(get(&g, &values, pad), Some(bits(16, 0xab12)));
    }

    #[test]
    fn narrowing_is_not_undone() {
        let mut g = Graph::new();
        let s = Span::default();
        let x = g.var("x", bv(16), s);
        let y = g.var("y", bv(8), s);
        let w = int(&mut g, 8);
        let conv = g.op(Op::ConvTo, vec![w, x], s);
        let fact = g.op(Op::Eq, vec![conv, y], s);
        let values = run(&g, &[fact], &[(y, bits(8, 1))]);
        assert_eq!(get(&g, &values, x), None);
    }

    #[test]
    fn the_trace_says_how_each_value_was_found() {
        let mut g = Graph::new();
        let s = Span::default();
        let c = g.var("c", Some(ModelType::Bool), s);
        let hi = g.var("hi", bv(8), s);
        let lo = g.var("lo", bv(8), s);
        let e = g.var("e", bv(16), s);
        let cat = g.op(Op::Concat, vec![hi, lo], s);
        let def = g.op(Op::Eq, vec![cat, e], s);
        let imp = g.op(Op::Imp, vec![c, def], s);
        let facts = [c, imp];
        let typing = infer(&g, &Enums::default(), &facts, &facts, &[], Mode::Complete).unwrap();
        let ev = g.as_var(e).unwrap();
        let (_, _, trace) = derive_traced(&g, &typing, &Enums::default(), &facts, &[ev], &|v| {
            (v == ev).then(|| bits(16, 0x1234))
        });
        assert_eq!(
            trace.defs,
            vec![
                (g.as_var(c).unwrap(), Def::Bool(true)),
                (ev, Def::Seed),
                (
                    g.as_var(hi).unwrap(),
                    Def::Node {
                        node: e,
                        slice: Some((15, 8))
                    }
                ),
                (
                    g.as_var(lo).unwrap(),
                    Def::Node {
                        node: e,
                        slice: Some((7, 0))
                    }
                ),
            ]
        );
        assert_eq!(trace.guards, vec![(c, true)]);
    }

    #[test]
    fn boolean_facts_and_implications() {
        let mut g = Graph::new();
        let s = Span::default();
        let t = g.var("t", Some(ModelType::Bool), s);
        let u = g.var("u", Some(ModelType::Bool), s);
        let x = g.var("x", bv(8), s);
        let r = g.var("r", bv(8), s);
        let not_t = g.op(Op::Not, vec![t], s);
        let def = g.op(Op::Eq, vec![r, x], s);
        let imp = g.op(Op::Imp, vec![not_t, def], s);
        let values = run(&g, &[not_t, u, imp], &[(x, bits(8, 7))]);
        assert_eq!(get(&g, &values, t), Some(Value::Bool(false)));
        assert_eq!(get(&g, &values, u), Some(Value::Bool(true)));
        assert_eq!(get(&g, &values, r), Some(bits(8, 7)));
    }
}
