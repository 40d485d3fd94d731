//! Term application: instantiating a term's spec for one occurrence, and
//! sorting its clauses into assumptions and obligations by the term's role
//! (root, callee, or inside a condition about another rule) and side.

use cranelift_isle::sema::{TermFlags, TermId, TermKind};
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::NodeId;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;

use super::{Builder, Modification, Occurrence, Origin, Role, Side, Slot};

impl Builder<'_> {
    /// Instantiates the spec of `tid` for one application.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply(
        &mut self,
        tid: TermId,
        args: Vec<NodeId>,
        result: NodeId,
        side: Side,
        text: String,
        role: Role,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let info = self.p.term(tid);
        let term = &self.p.terms.terms[tid.index()];
        let Some(spec) = &info.spec else {
            return Err(Diagnostic::new(format!("term `{}` has no spec", info.name), span)
                .with_label(format!("`{}` is used here", info.name))
                .with_secondary(info.span, "declared here")
                .with_note("give it a `(spec ...)`, or mark it `(veri chain)` to verify through its rules"));
        };
        for (&a, &ty) in args.iter().zip(&term.arg_tys) {
            let m = self.model(ty, span)?;
            self.c.required.push((a, m));
        }
        let m = self.model(term.ret_ty, span)?;
        self.c.required.push((result, m));
        let mut bindings = vec![None; spec.locals.len()];
        for (&l, &a) in spec.params.iter().zip(&args) {
            bindings[l.0] = Some(a);
        }
        bindings[spec.result.0] = Some(result);
        self.counter += 1;
        let prefix = format!("{}#{}", info.name, self.counter);
        let role = if self.collect.is_some() {
            Role::Condition
        } else {
            role
        };
        if role != Role::Root {
            self.check_state_use(tid, span)?;
        } else if let Some(d) = self.root_require_reads_state(tid) {
            return Err(d);
        } else if let Some(m) = spec
            .modifies
            .iter()
            .find(|m| !self.p.states[m.state.0].ordered)
        {
            return Err(Diagnostic::new(
                format!("the root term `{}` declares `modifies`", info.name),
                m.span,
            )
            .with_note(
                "a root's provide is proved, not assumed: it reads state but cannot set it",
            ));
        }
        // The states this term modifies are its own copies; `finish_states`
        // combines the copies of every modifier into the state. A state
        // written in emission order is read at its current version instead
        // (`states::ordered_versions`).
        let (mut states, before) = self.ordered_versions(tid, role, &prefix, span)?;
        for m in &spec.modifies {
            let decl = &self.p.states[m.state.0];
            if decl.ordered && role != Role::Callee {
                // The root reads its final version; a condition a fresh one.
                continue;
            }
            let copy = self.c.graph.var(
                format!("{}@{prefix}", decl.name),
                Some(decl.ty.clone()),
                m.span,
            );
            states[m.state.0] = copy;
        }
        let inst = self
            .c
            .graph
            .instantiate_ordered(spec, &bindings, &states, &before, &prefix);
        let name = info.name.clone();
        let provides = inst.provides.clone();
        // A `Bool` state the term modifies is a trap (see `states`).
        let trap = inst
            .modifies
            .iter()
            .find(|(state, _)| {
                let decl = &self.p.states[state.0];
                decl.ty == ModelType::Bool && !decl.ordered
            })
            .map(|&(state, cond)| (cond, states[state.0]));
        if role == Role::Callee {
            self.order_notes(tid, &inst.requires);
        }
        // A term that cannot fail must not restrict where the rule applies:
        // on the right-hand side, outside guards, its `match` is an
        // obligation. A partial term's `match` says where the rule applies.
        let partial = matches!(
            term.kind,
            TermKind::Decl {
                flags: TermFlags { partial: true, .. },
                ..
            }
        );
        // An extractor declared `infallible` never fails in the generated
        // code: its `match` is not where the rule applies but an
        // obligation wherever the rule uses it.
        let infallible = self.infallible(tid);
        let match_is_obligation = role == Role::Callee
            && ((side == Side::Rhs && !partial) || (side == Side::Lhs && infallible));
        // On the left-hand side a `match` says where the rule applies; a
        // partial constructor's says whether this expansion does.
        let match_side = if side == Side::Lhs && self.phase == Side::Lhs {
            Side::Lhs
        } else {
            Side::Select
        };
        match role {
            Role::Root => {
                for n in inst.requires {
                    self.assume(n, Origin::Require(name.clone()), spec.span);
                }
                // A partial term's `match` says where it succeeds, and its
                // callers (`if-let` guards) assume it where it does: each of
                // its rules, which succeeds wherever it fires, must show it.
                // Any other term's is proved by its callers, like `require`.
                for n in inst.matches {
                    if partial {
                        self.oblige(n, Origin::Match(name.clone()), spec.span);
                    } else {
                        self.assume(n, Origin::Match(name.clone()), spec.span);
                    }
                }
                for n in inst.provides {
                    self.oblige(n, Origin::Provide(name.clone()), spec.span);
                }
            }
            Role::Callee | Role::Condition => {
                for n in inst.provides {
                    if self.tautology(n) {
                        // `(= result inst)` of an output that is its input
                        // (`def_inst`) says nothing, and would make the
                        // entity need a width that nothing else may give
                        // it (an operand between two instructions of an
                        // extractor macro written over `inst_data`).
                        continue;
                    }
                    self.assume(n, Origin::Provide(name.clone()), spec.span);
                }
                for n in inst.matches {
                    if match_is_obligation {
                        self.oblige(n, Origin::Match(name.clone()), spec.span);
                    } else {
                        // Where a partial term matches is where the rule applies.
                        self.assume_on(match_side, n, Origin::Match(name.clone()), spec.span);
                    }
                }
                for n in inst.requires {
                    self.oblige(n, Origin::Require(name.clone()), spec.span);
                }
            }
        }
        if self.collect.is_none() {
            for (state, cond) in inst.modifies {
                if self.p.states[state.0].ordered {
                    if role == Role::Callee {
                        self.write_version(tid, state, cond, states[state.0], &text, span)?;
                    }
                    continue;
                }
                self.modifies.push(Modification {
                    state,
                    cond,
                    copy: states[state.0],
                    side: self.phase,
                    term: name.clone(),
                    span,
                    matched: (side == Side::Lhs).then_some(result),
                    guard: self.in_guard,
                });
            }
        }
        let occurrence = self.c.occurrences.len();
        self.c.occurrences.push(Occurrence {
            term: tid,
            text,
            side,
            args,
            result,
            converter: info.converter,
            provides,
            trap,
        });
        if !info.signatures.is_empty() {
            self.c.slots.push(Slot {
                occurrence,
                term: tid,
                chained: self.chain_depth > 0,
            });
        }
        Ok(())
    }
}
