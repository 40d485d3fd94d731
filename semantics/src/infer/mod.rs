//! Type and width inference over a formula graph.
//!
//! Types are unified (bitvector widths in their own union-find); operators
//! whose result width depends on an integer argument (`extract`, `zero_ext`,
//! `conv_to`, `int2bv`, `replicate`) wait until that argument is *static*:
//! a constant, a `widthof` of a bitvector whose width is known, arithmetic on
//! statics, or a variable that an assumed fact `(= v static)` pins down.
//! `if` and `switch` with a static condition are resolved to the chosen
//! branch, and the other branches are never typed, so specs can use
//! `(switch (widthof x) (16 ...) (32 ...))` with branches of different widths.

use std::collections::HashMap;

mod constrain;
mod propagate;
mod unify;

use crate::eval::{apply, literal_value, width_arg, MAX_WIDTH};
use crate::expr::VariantRef;
use crate::graph::{Graph, NodeId, NodeKind, VarId};
use crate::op::{Op, Typing as OpTyping};
use crate::span::Span;
use crate::ty::{EnumId, Enums, ModelType, Ty};
use crate::value::Value;

/// A type error, with the span of the expression it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// How much inference must establish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Checking one spec on its own: widths may stay unknown, branches of
    /// `if`/`switch` with non-static conditions are not unified.
    Generic,
    /// A verification condition: every reachable node must get a complete type.
    Complete,
}

/// The result of inference: a type for every reachable node, and the
/// static resolutions of `if`, `switch` and enum variants.
#[derive(Clone, Debug, Default)]
pub struct Typing {
    types: Vec<Option<Ty>>,
    redirects: HashMap<NodeId, NodeId>,
    variants: HashMap<NodeId, (EnumId, usize)>,
    arms: HashMap<NodeId, Vec<usize>>,
    statics: HashMap<VarId, Value>,
    static_args: HashMap<NodeId, Vec<u32>>,
}

impl Typing {
    /// The static integer arguments of a width-dependent operator:
    /// `[hi, lo]` for `extract`, `[width]` for `zero_ext`, `sign_ext`,
    /// `conv_to` and `int2bv`, `[count]` for `replicate`.
    pub fn static_args(&self, n: NodeId) -> Option<&[u32]> {
        self.static_args.get(&n).map(|v| v.as_slice())
    }

    /// The type of node `n`, if inference gave it one.
    pub fn ty(&self, n: NodeId) -> Option<&Ty> {
        self.types.get(n.0 as usize).and_then(|t| t.as_ref())
    }

    /// The branch a static `if`/`switch` resolved to.
    pub fn redirect(&self, n: NodeId) -> Option<NodeId> {
        self.redirects.get(&n).copied()
    }

    /// The enum and variant an `IsVariant` or `VariantField` node refers to.
    pub fn variant(&self, n: NodeId) -> Option<(EnumId, usize)> {
        self.variants.get(&n).copied()
    }

    /// The variant index of each arm of a `match` node.
    pub fn arms(&self, n: NodeId) -> &[usize] {
        self.arms.get(&n).map_or(&[], |v| v.as_slice())
    }

    /// Values of integer variables fixed by assumed equalities.
    pub fn static_var(&self, v: VarId) -> Option<&Value> {
        self.statics.get(&v)
    }

    /// How many variables assumed equalities fix.
    pub fn static_count(&self) -> usize {
        self.statics.len()
    }

    /// The same typing with only `statics` fixed: for reasoning under
    /// fewer facts than the ones inference assumed (the left-hand side's
    /// alone), where a variable pinned by another fact is free again.
    pub fn with_statics(&self, statics: HashMap<VarId, Value>) -> Typing {
        Typing {
            statics,
            ..self.clone()
        }
    }

    /// Writes everything the typing decides, maps in key order, so that
    /// equal typings write equal text in every run (the result cache keys
    /// queries by it).
    pub fn write_canonical(&self, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        fn sorted<K: Ord + Copy, V>(m: &HashMap<K, V>) -> Vec<(K, &V)> {
            let mut v: Vec<(K, &V)> = m.iter().map(|(k, v)| (*k, v)).collect();
            v.sort_by_key(|(k, _)| *k);
            v
        }
        write!(out, "types {:?}", self.types)?;
        write!(out, " redirects {:?}", sorted(&self.redirects))?;
        write!(out, " variants {:?}", sorted(&self.variants))?;
        write!(out, " arms {:?}", sorted(&self.arms))?;
        write!(out, " statics {:?}", sorted(&self.statics))?;
        write!(out, " static_args {:?}", sorted(&self.static_args))
    }
}

type T = usize;
type W = usize;

#[derive(Clone, Debug)]
enum Shape {
    Bool,
    Int,
    Unit,
    Unspecified,
    Bv(W),
    Struct(Vec<(String, T)>),
    Enum(EnumId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// An operator whose result width waits on static arguments.
    Width(NodeId),
    /// Field access waiting for a struct type.
    Field(NodeId),
    /// A variant reference waiting for an enum type.
    Variant(NodeId),
    /// `match` waiting for an enum type.
    Match(NodeId),
    /// `if` or `switch` waiting for a static condition.
    Branch(NodeId),
}

/// Inference state. Cloneable, so that a search over instantiations can try
/// a choice and back out of it.
#[derive(Clone, Debug)]
pub struct Inference {
    t_parent: Vec<T>,
    t_shape: Vec<Option<Shape>>,
    w_parent: Vec<W>,
    w_value: Vec<Option<u32>>,
    node_t: Vec<Option<T>>,
    var_t: Vec<Option<T>>,
    pending: Vec<Pending>,
    redirects: HashMap<NodeId, NodeId>,
    variants: HashMap<NodeId, (EnumId, usize)>,
    arms: HashMap<NodeId, Vec<usize>>,
    statics: HashMap<VarId, Value>,
    static_args: HashMap<NodeId, Vec<u32>>,
    facts: Vec<NodeId>,
    /// Checks that need widths to be known: `(node, kind)`.
    bounds: Vec<(NodeId, Bound)>,
    /// Nodes whose constraints have been generated.
    done: Vec<bool>,
}

#[derive(Clone, Copy, Debug)]
enum Bound {
    /// Argument 2 wider than the `hi` index.
    ExtractIndex(u32),
    /// Argument 1 no wider than the target width.
    ExtendTarget(u32),
}

fn conflict(span: Span, message: String) -> TypeError {
    TypeError { message, span }
}

impl Inference {
    /// Starts inference on `graph`: every node reachable from `roots` gets
    /// its typing constraints. `facts` are assumed boolean nodes whose
    /// top-level equalities may pin integer variables to static values.
    pub fn new(
        graph: &Graph,
        enums: &Enums,
        roots: &[NodeId],
        facts: &[NodeId],
    ) -> Result<Inference, TypeError> {
        let mut inf = Inference {
            t_parent: Vec::new(),
            t_shape: Vec::new(),
            w_parent: Vec::new(),
            w_value: Vec::new(),
            node_t: vec![None; graph.nodes.len()],
            var_t: vec![None; graph.vars.len()],
            pending: Vec::new(),
            redirects: HashMap::new(),
            variants: HashMap::new(),
            arms: HashMap::new(),
            statics: HashMap::new(),
            static_args: HashMap::new(),
            facts: facts.to_vec(),
            bounds: Vec::new(),
            done: vec![false; graph.nodes.len()],
        };
        for (i, var) in graph.vars.iter().enumerate() {
            let t = match &var.ty {
                Some(mt) => inf.instantiate_model(mt),
                None => inf.fresh(None),
            };
            inf.var_t[i] = Some(t);
        }
        inf.constrain_tree(graph, enums, roots)?;
        Ok(inf)
    }

    /// Requires node `n` to have model type `ty` (a term signature).
    pub fn require(&mut self, graph: &Graph, n: NodeId, ty: &ModelType) -> Result<(), TypeError> {
        let t = self.instantiate_model(ty);
        let nt = self.node_type(n);
        self.unify(nt, t)
            .map_err(|(a, b)| conflict(graph.node(n).span, format!("expected {b}, found {a}")))
    }

    /// Whether the facts are contradictory on their own at this
    /// instantiation: after propagating as far as typing allows, some
    /// conjunct of a fact has the static value `false`. A condition whose
    /// facts are refuted can never hold, whether or not the rest types.
    pub fn refutes_facts(self, graph: &Graph, enums: &Enums) -> bool {
        let facts = self.facts.clone();
        self.refutes(graph, enums, &facts)
    }

    /// Whether some of the facts, `facts`, are contradictory on their own
    /// at this instantiation (see [`Inference::refutes_facts`]): the
    /// others still pin static integers while propagating, but only these
    /// are judged (a rule's left-hand side, not what its right-hand side's
    /// specs say).
    pub fn refutes(mut self, graph: &Graph, enums: &Enums, facts: &[NodeId]) -> bool {
        while let Ok(true) = self.step(graph, enums) {}
        let mut conjuncts = Vec::new();
        for &f in facts {
            Self::conjuncts(graph, f, &mut conjuncts);
        }
        conjuncts
            .into_iter()
            .any(|c| self.static_value(graph, c) == Some(Value::Bool(false)))
    }

    /// Runs propagation to a fixpoint and returns the typing.
    pub fn solve(
        mut self,
        graph: &Graph,
        enums: &Enums,
        roots: &[NodeId],
        mode: Mode,
    ) -> Result<Typing, TypeError> {
        loop {
            while self.step(graph, enums)? {}
            if mode == Mode::Generic {
                break;
            }
            // Stalled: commit one undecided `if`/`switch` (ifs first) by
            // unifying its branches, then propagate again.
            let branch = self
                .pending
                .iter()
                .position(|p| matches!(p, Pending::Branch(n) if matches!(graph.node(*n).kind, NodeKind::Op(Op::If))))
                .or_else(|| self.pending.iter().position(|p| matches!(p, Pending::Branch(_))));
            let Some(i) = branch else { break };
            let Pending::Branch(n) = self.pending.remove(i) else {
                unreachable!("position found a branch")
            };
            self.unify_branches(graph, enums, n)?;
        }
        let reachable = self.reachable(graph, roots);
        let mut is_reachable = vec![false; graph.nodes.len()];
        reachable
            .iter()
            .for_each(|n| is_reachable[n.0 as usize] = true);
        self.check_bounds(graph, &is_reachable)?;
        if mode == Mode::Complete {
            let stuck = self.pending.iter().copied().find(|p| {
                let (Pending::Width(n)
                | Pending::Field(n)
                | Pending::Variant(n)
                | Pending::Match(n)
                | Pending::Branch(n)) = *p;
                is_reachable[n.0 as usize]
            });
            if let Some(p) = stuck {
                return Err(self.stuck(graph, p));
            }
        }
        let mut types = vec![None; graph.nodes.len()];
        for n in reachable {
            let Some(t) = self.node_t[n.0 as usize] else {
                continue;
            };
            match self.resolve(t) {
                Some(ty) => types[n.0 as usize] = Some(ty),
                None if mode == Mode::Complete => {
                    let what = self.show(t);
                    return Err(conflict(
                        graph.node(n).span,
                        format!("cannot infer the type of this expression (known so far: {what}); add an `as` annotation or an `instantiate` signature"),
                    ));
                }
                None => {}
            }
        }
        Ok(Typing {
            types,
            redirects: self.redirects,
            variants: self.variants,
            arms: self.arms,
            statics: self.statics,
            static_args: self.static_args,
        })
    }

    fn reachable(&self, graph: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; graph.nodes.len()];
        let mut stack: Vec<NodeId> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n.0 as usize], true) {
                continue;
            }
            out.push(n);
            if let Some(&t) = self.redirects.get(&n) {
                stack.push(t);
            } else if self.done[n.0 as usize] {
                stack.extend(
                    graph
                        .node(n)
                        .args
                        .iter()
                        .copied()
                        .filter(|a| self.done[a.0 as usize]),
                );
            }
        }
        out
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Bv(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// Runs inference to completion in one call: constraints from `roots`, facts
/// from `facts`, extra required types, then [`Inference::solve`].
pub fn infer(
    graph: &Graph,
    enums: &Enums,
    roots: &[NodeId],
    facts: &[NodeId],
    required: &[(NodeId, ModelType)],
    mode: Mode,
) -> Result<Typing, TypeError> {
    let mut inf = Inference::new(graph, enums, roots, facts)?;
    for (n, ty) in required {
        inf.require(graph, *n, ty)?;
    }
    inf.solve(graph, enums, roots, mode)
}
