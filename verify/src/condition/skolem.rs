//! Terms inside a condition about another rule (see `identity`): their
//! specs instantiated with fresh copies of every state they mention, and
//! the outputs of extractors and guard calls as Skolem variables, shared
//! by every condition, constrained by what the spec says of *some* output.

use cranelift_isle::sema::TermId;
use loweq_dsl::Diagnostic;
use loweq_semantics::expr::{ExprKind, LocalId, Spec, StateId};
use loweq_semantics::graph::{NodeId, NodeKind, VarId};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::Literal;

use super::{Builder, Origin, Side};

/// The spec instantiated with fresh outputs (see
/// [`Builder::instantiate_fresh`]): the conjunction of its clauses and the
/// fresh outputs, and every variable the instantiation created.
type Fresh = ((NodeId, Vec<NodeId>), Vec<VarId>);

impl Builder<'_> {
    /// The spec of `tid` instantiated with the given arguments and result,
    /// nothing assumed.
    pub(super) fn instantiate_spec(
        &mut self,
        tid: TermId,
        args: &[NodeId],
        result: NodeId,
    ) -> Result<loweq_semantics::graph::SpecInstance, Diagnostic> {
        let spec = self.p.term(tid).spec.clone().expect("caller checked");
        let mut bindings = vec![None; spec.locals.len()];
        for (&l, &a) in spec.params.iter().zip(args) {
            bindings[l.0] = Some(a);
        }
        bindings[spec.result.0] = Some(result);
        self.instantiate_bound(tid, &spec, &bindings)
    }

    /// The spec of `tid` instantiated in a condition about another rule.
    /// Every state it mentions is its own fresh copy: nothing in such a
    /// condition constrains the rule's own state. A spec that reads a state
    /// it does not modify cannot be part of a priority condition, which is
    /// negated and assumed: that would constrain the state the rule is
    /// checked against.
    fn instantiate_bound(
        &mut self,
        tid: TermId,
        spec: &Spec,
        bindings: &[Option<NodeId>],
    ) -> Result<loweq_semantics::graph::SpecInstance, Diagnostic> {
        if !self.covering_collect {
            if let Some((state, at)) = reads_state(spec) {
                let name = &self.p.states[state.0].name;
                let mut d = Diagnostic::new(
                    format!(
                        "the spec of `{}` reads state `{name}`, which a higher-priority rule's condition cannot use",
                        self.p.term(tid).name
                    ),
                    at,
                )
                .with_label(format!("reads `{name}`"));
                if let Some(rid) = self.about {
                    let rule = self.p.rule(rid);
                    d = d.with_secondary(
                        rule.span,
                        format!(
                            "`{}` is used by this `(veri priority)` rule",
                            self.p.term(tid).name
                        ),
                    );
                }
                return Err(d.with_note(
                    "a lower-priority rule assumes that this rule does not match, so the state would be constrained by a guard that never ran; check the state in the right-hand side instead",
                ));
            }
        }
        self.counter += 1;
        let prefix = format!("{}#{}", self.p.term(tid).name, self.counter);
        let mut states = self.states.clone();
        for s in mentioned_states(spec) {
            let decl = &self.p.states[s.0];
            states[s.0] = self.c.graph.var(
                format!("{}@{prefix}", decl.name),
                Some(decl.ty.clone()),
                decl.span,
            );
        }
        Ok(self.c.graph.instantiate(spec, bindings, &states, &prefix))
    }

    /// Inside a condition about another rule: the term `tid`, a function,
    /// applied with `bindings`; the locals `free` (its outputs) are bound
    /// to Skolem variables, shared by every condition, that stand for the
    /// real outputs.
    ///
    /// The condition gets the spec's clauses on the Skolem outputs. Where
    /// the provide defines each output by an equation (`(= ty (widthof
    /// inst))`), the definitions are assumed outright: they constrain only
    /// the Skolem variables. Otherwise the assumption is that the Skolem
    /// outputs satisfy the spec wherever some outputs do:
    /// `forall o. spec(o) => spec(skolem)`. Either way the real outputs
    /// are a possible choice of the Skolem variables, so a condition never
    /// holds where the real rule would not match: sound for any spec, and
    /// exact when the spec determines the outputs. In a coverage condition,
    /// which is proved rather than assumed, the outputs must also be unique
    /// (`forall o. spec(o) => o = skolem`) where the rule's patterns
    /// look at them (`constrained`), or the rule does not count.
    pub(super) fn skolem(
        &mut self,
        tid: TermId,
        spec: &Spec,
        bindings: &[Option<NodeId>],
        free: &[LocalId],
        constrained: &[LocalId],
        span: Span,
    ) -> Result<(), Diagnostic> {
        let name = self.p.term(tid).name.clone();
        let inst = self.instantiate_bound(tid, spec, bindings)?;
        if let Some(defs) = definitions(spec, free) {
            for (i, &p) in inst.provides.iter().enumerate() {
                match defs.iter().find(|(c, _)| *c == i).map(|(_, how)| *how) {
                    Some(Definition::Equation) => {
                        self.axiom(p, Origin::Skolem(name.clone()), spec.span)
                    }
                    Some(Definition::LowBits(l)) => {
                        let o = bindings[l.0].expect("outputs are bound");
                        let def = self.low_bits_definition(p, o, span);
                        self.axiom(def, Origin::Skolem(name.clone()), spec.span);
                        self.collect.as_mut().expect("in a condition").push(p);
                    }
                    None => self.collect.as_mut().expect("in a condition").push(p),
                }
            }
            let list = self.collect.as_mut().expect("in a condition");
            list.extend(inst.matches);
            list.extend(inst.requires);
            return Ok(());
        }
        let holds = inst.facts();
        let holds = self.c.graph.op(Op::And, holds, span);
        // Some outputs satisfy the spec: then the Skolem outputs do.
        let (other, bound) = self.instantiate_fresh(tid, spec, bindings, free, span)?;
        let imp = self.c.graph.op(Op::Imp, vec![other.0, holds], span);
        let guard = self.c.graph.add(NodeKind::Forall(bound), vec![imp], span);
        self.axiom(guard, Origin::Skolem(name), spec.span);
        self.collect.as_mut().expect("in a condition").push(holds);
        if self.covering_collect && !constrained.is_empty() {
            let (other, bound) = self.instantiate_fresh(tid, spec, bindings, free, span)?;
            let same: Vec<NodeId> = free
                .iter()
                .zip(&other.1)
                .filter(|(l, _)| constrained.contains(l))
                .map(|(l, &o)| {
                    let sk = bindings[l.0].expect("outputs are bound");
                    self.c.graph.op(Op::Eq, vec![o, sk], span)
                })
                .collect();
            let same = self.c.graph.op(Op::And, same, span);
            let imp = self.c.graph.op(Op::Imp, vec![other.0, same], span);
            let unique = self.c.graph.add(NodeKind::Forall(bound), vec![imp], span);
            self.collect.as_mut().expect("in a condition").push(unique);
        }
        Ok(())
    }

    /// For a clause `(= e (sign_ext W o))` (or `zero_ext`, either way
    /// round) instantiated as `clause`: `(= o (extract (widthof o)-1 0 e))`.
    fn low_bits_definition(&mut self, clause: NodeId, o: NodeId, span: Span) -> NodeId {
        let args = self.c.graph.node(clause).args.clone();
        let is_ext_of_o = |g: &loweq_semantics::graph::Graph, n: NodeId| {
            let node = g.node(n);
            matches!(node.kind, NodeKind::Op(Op::SignExt | Op::ZeroExt))
                && node.args.get(1) == Some(&o)
        };
        let other = if is_ext_of_o(&self.c.graph, args[1]) {
            args[0]
        } else {
            args[1]
        };
        let width = self.c.graph.op(Op::WidthOf, vec![o], span);
        let minus_one = self.c.graph.constant(Literal::Int(-1), span);
        let hi = self.c.graph.op(Op::Add, vec![width, minus_one], span);
        let lo = self.c.graph.constant(Literal::Int(0), span);
        let low = self.c.graph.op(Op::Extract, vec![hi, lo, other], span);
        self.c.graph.op(Op::Eq, vec![o, low], span)
    }

    /// The spec with the locals `free` bound to fresh variables: the
    /// conjunction of its clauses, the fresh outputs, and every variable
    /// the instantiation created (to quantify).
    fn instantiate_fresh(
        &mut self,
        tid: TermId,
        spec: &Spec,
        bindings: &[Option<NodeId>],
        free: &[LocalId],
        span: Span,
    ) -> Result<Fresh, Diagnostic> {
        let first = self.c.graph.vars.len();
        let mut b = bindings.to_vec();
        let mut outs = Vec::new();
        for &l in free {
            let sk = bindings[l.0].expect("outputs are bound");
            let ty = self.c.graph.vars[self.c.graph.as_var(sk).expect("a variable").0 as usize]
                .ty
                .clone();
            let name = format!("{}'", self.node_name(sk));
            let o = self.c.graph.var(name, ty, span);
            b[l.0] = Some(o);
            outs.push(o);
        }
        let inst = self.instantiate_bound(tid, spec, &b)?;
        let all = inst.facts();
        let conj = self.c.graph.op(Op::And, all, span);
        let bound = (first..self.c.graph.vars.len())
            .map(|i| VarId(i as u32))
            .collect();
        Ok(((conj, outs), bound))
    }

    /// Assumes a fact that only constrains Skolem variables, wherever the
    /// condition being built goes.
    fn axiom(&mut self, node: NodeId, origin: Origin, span: Span) {
        self.c.assumptions.push(super::Clause {
            node,
            origin,
            span,
            side: Side::Lhs,
            call: None,
        });
    }
}

/// The states a spec mentions or modifies.
fn mentioned_states(spec: &Spec) -> Vec<StateId> {
    let mut out: Vec<StateId> = spec.modifies.iter().map(|m| m.state).collect();
    for e in spec
        .provides
        .iter()
        .chain(&spec.matches)
        .chain(&spec.requires)
    {
        e.walk(&mut |x| {
            if let ExprKind::State(s) = x.kind {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        });
    }
    out
}

/// A state that a spec reads without modifying it, and where.
fn reads_state(spec: &Spec) -> Option<(StateId, Span)> {
    let mut found = None;
    for e in spec
        .provides
        .iter()
        .chain(&spec.matches)
        .chain(&spec.requires)
    {
        e.walk(&mut |x| {
            if let ExprKind::State(s) = x.kind {
                if found.is_none() && !spec.modifies.iter().any(|m| m.state == s) {
                    found = Some((s, x.span));
                }
            }
        });
    }
    found
}

/// How a provide clause defines an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Definition {
    /// The clause is `(= o e)` or `(= e o)`: it is the definition.
    Equation,
    /// The clause is `(= e (sign_ext W o))` or with `zero_ext` (either
    /// way round): `o` is the low bits of `e` wherever any `o` satisfies
    /// the clause, which stays a condition.
    LowBits(LocalId),
}

/// If every local in `outputs` is defined by a provide clause whose other
/// side mentions no output (see [`Definition`]), the clauses and how.
pub(super) fn definitions(spec: &Spec, outputs: &[LocalId]) -> Option<Vec<(usize, Definition)>> {
    let mentions_output = |e: &loweq_semantics::expr::Expr| mentions_any(e, outputs);
    let mut defined = Vec::new();
    let mut clauses = Vec::new();
    for (i, p) in spec.provides.iter().enumerate() {
        let ExprKind::Op(Op::Eq, args) = &p.kind else {
            continue;
        };
        let [a, b] = args.as_slice() else { continue };
        for (lhs, rhs) in [(a, b), (b, a)] {
            if mentions_output(rhs) {
                continue;
            }
            let (local, how) = match &lhs.kind {
                ExprKind::Local(l) => (*l, Definition::Equation),
                ExprKind::Op(Op::SignExt | Op::ZeroExt, ext) => match ext.get(1).map(|x| &x.kind) {
                    Some(ExprKind::Local(l)) => (*l, Definition::LowBits(*l)),
                    _ => continue,
                },
                _ => continue,
            };
            if outputs.contains(&local) && !defined.contains(&local) {
                defined.push(local);
                clauses.push((i, how));
                break;
            }
        }
    }
    (defined.len() == outputs.len()).then_some(clauses)
}

/// In a higher-priority rule's condition: the clauses of `spec`'s provides
/// that mention one of `outputs`. A clause about the inputs alone says
/// what holds where the term matched, not where it matches (its `match`
/// says that), and is left out; a provide that is a conjunction is judged
/// clause by clause, so that `(provide (and a b))` reads as `(provide a
/// b)`.
pub(super) fn output_clauses(spec: &mut Spec, outputs: &[LocalId]) {
    fn clauses(e: &loweq_semantics::expr::Expr, out: &mut Vec<loweq_semantics::expr::Expr>) {
        match &e.kind {
            ExprKind::Op(Op::And, args) => args.iter().for_each(|a| clauses(a, out)),
            _ => out.push(e.clone()),
        }
    }
    let mut kept = Vec::new();
    for p in std::mem::take(&mut spec.provides) {
        let mut all = Vec::new();
        clauses(&p, &mut all);
        if all.iter().all(|c| mentions_any(c, outputs)) {
            // Unchanged: its shape may define an output.
            kept.push(p);
            continue;
        }
        kept.extend(all.into_iter().filter(|c| mentions_any(c, outputs)));
    }
    spec.provides = kept;
}

/// Whether `e` mentions one of the locals `locals`.
fn mentions_any(e: &loweq_semantics::expr::Expr, locals: &[LocalId]) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let ExprKind::Local(l) = x.kind {
            found |= locals.contains(&l);
        }
    });
    found
}
