//! State: which states a term's spec may mention, and how the state of the
//! whole rule follows from the terms that modify it.
//!
//! Each modifying term constrains its own copy of the state. A state that
//! nobody modifies satisfies its default; one that some term modifies is
//! what that term says; a `Bool` state modified by several terms (a trap)
//! holds if any of them says so. Several modifications of any other state
//! cannot be combined yet and are an error.

use cranelift_isle::sema::TermId;
use loweq_dsl::Diagnostic;
use loweq_semantics::expr::ExprKind;
use loweq_semantics::graph::NodeId;
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;

use super::{Builder, Origin, Side};

impl Builder<'_> {
    /// A callee's provide and match may only mention states it modifies:
    /// what an assumption mentions it constrains, and an unmodified state
    /// is also constrained by its default.
    pub(super) fn check_state_use(&self, tid: TermId, span: Span) -> Result<(), Diagnostic> {
        let info = self.p.term(tid);
        let Some(spec) = &info.spec else {
            return Ok(());
        };
        let mut offending = None;
        for e in spec.provides.iter().chain(&spec.matches) {
            e.walk(&mut |x| {
                if let ExprKind::State(s) = x.kind {
                    if offending.is_none() && !spec.modifies.iter().any(|m| m.state == s) {
                        offending = Some((s, x.span));
                    }
                }
            });
        }
        match offending {
            None => Ok(()),
            Some((s, at)) => {
                let name = &self.p.states[s.0].name;
                Err(Diagnostic::new(
                    format!("the spec of `{}` mentions state `{name}` without `(modifies {name})`", info.name),
                    at,
                )
                .with_secondary(span, "used here")
                .with_note(format!(
                    "what a provide mentions, it constrains; a term that sets `{name}` must say `(modifies {name})`"
                )))
            }
        }
    }

    /// Assumes, for every state, its default or its combination from the
    /// terms that modify it.
    pub(super) fn finish_states(&mut self) -> Result<(), Diagnostic> {
        for (i, s) in self.p.states.iter().enumerate() {
            let state = self.states[i];
            let default = self.c.graph.instantiate_expr(
                &s.default,
                &s.default.provides[0],
                &[],
                &self.states,
                &s.name,
            );
            let mods: Vec<(NodeId, NodeId, Side, String)> = self
                .modifies
                .iter()
                .filter(|m| m.state.0 == i)
                .map(|m| (m.cond, m.copy, m.side, m.term.clone()))
                .collect();
            if mods.is_empty() {
                self.assume_on(
                    Side::Lhs,
                    default,
                    Origin::StateDefault(s.name.clone()),
                    s.span,
                );
                continue;
            }
            if mods.len() > 1 && s.ty != ModelType::Bool {
                let terms: Vec<String> = mods.iter().map(|m| format!("`{}`", m.3)).collect();
                return Err(Diagnostic::new(
                    format!("state `{}` is modified by {}", s.name, terms.join(" and ")),
                    s.span,
                )
                .with_note("loweq combines several modifications only of a Bool state (a trap happens if any term traps)"));
            }
            let on_lhs = mods.iter().any(|m| m.2 == Side::Lhs);
            let on_rhs = mods.iter().any(|m| m.2 != Side::Lhs);
            if on_lhs && on_rhs {
                let terms: Vec<String> = mods.iter().map(|m| format!("`{}`", m.3)).collect();
                return Err(Diagnostic::new(
                    format!(
                        "state `{}` is modified on both sides of the rule (by {})",
                        s.name,
                        terms.join(", ")
                    ),
                    s.span,
                )
                .with_note("IR state and machine state must be distinct, or the rule could set what it is checked against"));
            }
            let side = if on_rhs { Side::Rhs } else { Side::Lhs };
            let span = s.span;
            let g = &mut self.c.graph;
            let conds: Vec<NodeId> = mods.iter().map(|m| m.0).collect();
            let any = g.op(Op::Or, conds, span);
            let value = if let [(_, copy, _, _)] = mods.as_slice() {
                *copy
            } else {
                let parts = mods
                    .iter()
                    .map(|m| g.op(Op::And, vec![m.0, m.1], span))
                    .collect();
                g.op(Op::Or, parts, span)
            };
            let is = g.op(Op::Eq, vec![state, value], span);
            let set = g.op(Op::Imp, vec![any, is], span);
            let none = g.op(Op::Not, vec![any], span);
            let keep = g.op(Op::Imp, vec![none, default], span);
            self.assume_on(side, set, Origin::StateUpdate(s.name.clone()), span);
            self.assume_on(side, keep, Origin::StateDefault(s.name.clone()), span);
        }
        Ok(())
    }
}
