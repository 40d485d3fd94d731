//! Extractors with specs applied in patterns: functions of their input,
//! memoized by (term, input) with whether the spec is assumed
//! ([`Applied`]); in a condition about another rule, Skolem outputs
//! constrained by the spec; a converter between IR types whose spec
//! equates an output with its input yields that entity itself.

use cranelift_isle::sema::{Pattern, Rule, TermId};
use loweq_dsl::Diagnostic;
use loweq_semantics::expr::{ExprKind, LocalId};
use loweq_semantics::graph::NodeId;
use loweq_semantics::op::Op;

use super::Applied;
use crate::condition::{Builder, Role, Side, Vars};

impl Builder<'_> {
    /// An extractor with a spec applied to `value`. Extractors are
    /// functions: a second application to the same input has the same
    /// outputs.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::condition) fn extractor_pattern(
        &mut self,
        rule: &Rule,
        tid: TermId,
        args: &[Pattern],
        value: NodeId,
        vars: &mut Vars,
        text: String,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        let key = (tid, self.ir_root(value));
        let outs = match self.applied.get(&key).cloned() {
            Some(memo) if self.in_condition() && memo.assumed => {
                // The rule matched this extractor on this input: so does
                // the other rule, with the same outputs.
                let inst = self.instantiate_spec(tid, &memo.outs, value)?;
                let list = self.collect.as_mut().expect("in a condition");
                list.extend(inst.provides);
                list.extend(inst.matches);
                list.extend(inst.requires);
                memo.outs
            }
            Some(memo) if !self.in_condition() => {
                if !memo.assumed {
                    // First made, with Skolem outputs, in a condition about
                    // another rule: the rule's own pattern applies it now.
                    self.apply(
                        tid,
                        memo.outs.clone(),
                        value,
                        Side::Lhs,
                        text,
                        Role::Callee,
                        span,
                    )?;
                    self.applied.insert(
                        key,
                        Applied {
                            outs: memo.outs.clone(),
                            assumed: true,
                        },
                    );
                }
                memo.outs
            }
            memo => {
                // In a condition, an extractor the rule did not apply here.
                let condition = self.in_condition();
                if condition {
                    if let Some(why) = self
                        .several_results(tid, value)
                        .or_else(|| self.unknown_match(tid, value))
                    {
                        self.cannot_match(why);
                        return Ok(());
                    }
                }
                let aliases = self.aliases(tid);
                let outs = match memo {
                    // Skolem outputs of an earlier condition.
                    Some(memo) => memo.outs,
                    None => {
                        let term = &self.p.terms.terms[tid.index()];
                        let mut outs = Vec::new();
                        for (i, &aty) in term.arg_tys.iter().enumerate() {
                            if aliases.contains(&i) {
                                outs.push(value);
                                continue;
                            }
                            self.counter += 1;
                            let name = format!("{}#{}.{}", self.p.term(tid).name, self.counter, i);
                            outs.push(self.fresh_typed(name, aty, span)?);
                        }
                        outs
                    }
                };
                if condition {
                    let mut spec = self.p.term(tid).spec.clone().expect("caller checked");
                    let free: Vec<LocalId> = spec
                        .params
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !aliases.contains(i))
                        .map(|(_, &l)| l)
                        .collect();
                    if !self.covering_collect {
                        // Whether an extractor matches is its `match`; a
                        // provide that mentions none of its outputs says
                        // what holds of its input where it matched, not
                        // where it matches, so a higher-priority rule's
                        // condition leaves it out (upstream's reading, its
                        // filetest `provide_only_if_match.isle`), clause
                        // by clause. A coverage condition, proved, keeps it.
                        crate::condition::skolem::output_clauses(&mut spec, &free);
                    }
                    let mut bindings = vec![None; spec.locals.len()];
                    for (&l, &a) in spec.params.iter().zip(&outs) {
                        bindings[l.0] = Some(a);
                    }
                    bindings[spec.result.0] = Some(value);
                    let constrained: Vec<LocalId> = spec
                        .params
                        .iter()
                        .zip(args)
                        .filter(|(l, sub)| free.contains(l) && self.constrains(rule, sub))
                        .map(|(&l, _)| l)
                        .collect();
                    self.skolem(tid, &spec, &bindings, &free, &constrained, span)?;
                } else {
                    self.apply(
                        tid,
                        outs.clone(),
                        value,
                        Side::Lhs,
                        text,
                        Role::Callee,
                        span,
                    )?;
                }
                self.applied.insert(
                    key,
                    Applied {
                        outs: outs.clone(),
                        assumed: !condition,
                    },
                );
                outs
            }
        };
        for (sub, &o) in args.iter().zip(&outs) {
            self.pattern(rule, sub, o, vars)?;
        }
        let assumed = self.applied.get(&key).is_some_and(|m| m.assumed);
        if self.in_condition() && !assumed && self.unmatchable.is_none() {
            // A converter between IR entities the rule did not apply: the
            // patterns under it decide first (they usually need a definition
            // the rule left open, the better reason to give).
            if let Some(why) = self.may_fail(tid) {
                self.cannot_match(why);
            }
        }
        Ok(())
    }

    /// The parameters of a converter between IR types tagged
    /// `same_entity` (`def_inst`) that its spec equates with `result`: its
    /// input itself. Any other term
    /// that equates values may yield another entity with an equal value.
    fn aliases(&self, tid: TermId) -> Vec<usize> {
        let term = &self.p.terms.terms[tid.index()];
        let Some(spec) = &self.p.term(tid).spec else {
            return Vec::new();
        };
        // Only a converter whose implementation is known to return its
        // input's entity (tagged `same_entity`, review 5): a spec equating
        // values says nothing of which instruction defines the output.
        let same = self
            .p
            .term(tid)
            .tags
            .iter()
            .any(|t| t == loweq_dsl::program::SAME_ENTITY);
        if !self.ir_converter(tid) || !same {
            return Vec::new();
        }
        (0..spec.params.len())
            .filter(|&i| {
                self.is_ir_type(term.arg_tys[i])
                    && spec
                        .provides
                        .iter()
                        .any(|p| equates(p, spec.result, spec.params[i]))
            })
            .collect()
    }

    /// Whether a sub-pattern constrains the value it matches: anything
    /// but a wildcard, or a variable that no other pattern or guard of
    /// the rule reads. Inside an expansion, every binding counts.
    fn constrains(&self, rule: &Rule, p: &Pattern) -> bool {
        match p {
            Pattern::Wildcard(_) => false,
            Pattern::BindPattern(_, v, sub) => {
                self.template.is_some() || self.constrains(rule, sub) || reads_var(rule, *v)
            }
            _ => true,
        }
    }
}

/// Whether a pattern or guard of `rule` reads variable `v` (beyond binding
/// it).
fn reads_var(rule: &Rule, v: cranelift_isle::sema::VarId) -> bool {
    fn in_pattern(p: &Pattern, v: cranelift_isle::sema::VarId) -> bool {
        match p {
            Pattern::Var(_, x) => *x == v,
            Pattern::BindPattern(_, _, sub) => in_pattern(sub, v),
            Pattern::Term(_, _, subs) | Pattern::And(_, subs) => {
                subs.iter().any(|s| in_pattern(s, v))
            }
            _ => false,
        }
    }
    fn in_expr(e: &cranelift_isle::sema::Expr, v: cranelift_isle::sema::VarId) -> bool {
        use cranelift_isle::sema::Expr;
        match e {
            Expr::Var(_, x) => *x == v,
            Expr::Term(_, _, args) => args.iter().any(|a| in_expr(a, v)),
            Expr::Let { bindings, body, .. } => {
                bindings.iter().any(|(_, _, b)| in_expr(b, v)) || in_expr(body, v)
            }
            _ => false,
        }
    }
    rule.args.iter().any(|p| in_pattern(p, v))
        || rule
            .iflets
            .iter()
            .any(|il| in_pattern(&il.lhs, v) || in_expr(&il.rhs, v))
}

/// Whether `e` is `(= a b)` or `(= b a)` for locals `a` and `b`.
fn equates(e: &loweq_semantics::expr::Expr, a: LocalId, b: LocalId) -> bool {
    let ExprKind::Op(Op::Eq, args) = &e.kind else {
        return false;
    };
    let local = |x: &loweq_semantics::expr::Expr| match x.kind {
        ExprKind::Local(l) => Some(l),
        _ => None,
    };
    matches!(
        (args.first().and_then(local), args.get(1).and_then(local)),
        (Some(x), Some(y)) if (x == a && y == b) || (x == b && y == a)
    )
}
