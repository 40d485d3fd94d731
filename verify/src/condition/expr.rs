//! Expressions: the right-hand side and the guards' expressions, each term
//! application instantiated, chained terms inlined (see `chain`), and the
//! expansion plan's choice for each call of a term with a spec and rules:
//! assume its spec, or prove the call covered.

use cranelift_isle::sema::{Expr, Rule, TermId, TermKind};
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::{NodeId, NodeKind};

use super::{Builder, Call, ConstValue, Role, Side, Vars};
use crate::expand::Choice;

impl Builder<'_> {
    /// The value of the expression `e` of `rule`, with the variables bound
    /// so far in `vars` (a `let` binds more).
    pub(super) fn expr(
        &mut self,
        rule: &Rule,
        e: &Expr,
        vars: &mut Vars,
    ) -> Result<NodeId, Diagnostic> {
        let span = self.rule_span(rule);
        if self.covering {
            // After the covered call nothing is evaluated in this expansion.
            return Ok(self.unknown(span));
        }
        match e {
            Expr::Var(_, v) => Ok(vars[v.index()].expect("ISLE binds variables before use")),
            Expr::ConstBool(ty, b) => self.constant(*ty, ConstValue::Bool(*b), span),
            Expr::ConstInt(ty, i) => self.constant(*ty, ConstValue::Int(*i), span),
            Expr::ConstPrim(ty, sym) => {
                let name = self.p.sym(*sym).to_string();
                self.constant(*ty, ConstValue::Prim(name), span)
            }
            Expr::Let { bindings, body, .. } => {
                for (v, _, value) in bindings {
                    let n = self.expr(rule, value, vars)?;
                    vars[v.index()] = Some(n);
                }
                self.expr(rule, body, vars)
            }
            Expr::Term(ty, tid, args) => {
                let mut arg_nodes = Vec::new();
                for a in args {
                    arg_nodes.push(self.expr(rule, a, vars)?);
                }
                if self.covering {
                    // The covered call was among the arguments: this term
                    // runs after it.
                    return Ok(self.unknown(span));
                }
                let info = self.p.term(*tid);
                if info.chain {
                    if self.collect.is_some() && self.covering_collect {
                        self.inexpressible = true;
                        return Ok(self.unknown(span));
                    }
                    if self.collect.is_some() {
                        return Err(Diagnostic::new(
                            format!(
                                "chained term `{}` in the guard of a `(veri priority)` rule",
                                info.name
                            ),
                            span,
                        )
                        .with_note("priority conditions must be expressible through specs"));
                    }
                    let call = self.call_of(rule, *tid, e, args, &arg_nodes);
                    let outer = self.call.replace(call);
                    let r = self.chain(*tid, arg_nodes, span);
                    self.call = outer;
                    return r;
                }
                if self.collect.is_none() && crate::expand::needs_coverage(self.p, *tid) {
                    // A helper with a spec and rules: this expansion
                    // assumes its spec here, or proves the call covered.
                    match self.plan.pop_front() {
                        Some(Choice::Assume(t)) if t == *tid => {}
                        Some(Choice::Cover(t)) if t == *tid => {
                            let call = self.call_of(rule, *tid, e, args, &arg_nodes);
                            let outer = self.call.replace(call);
                            let covered = self.coverage(*tid, &arg_nodes, span);
                            self.call = outer;
                            covered?;
                            self.covering = true;
                            return Ok(self.unknown(span));
                        }
                        _ => {
                            return Err(Diagnostic::new(
                                "internal error: expansion plan out of step",
                                span,
                            ))
                        }
                    }
                }
                if let (TermKind::EnumVariant { variant }, None) =
                    (&self.p.terms.terms[tid.index()].kind, &info.spec)
                {
                    let vref = self.enum_variant(*ty, variant.index(), span)?;
                    let id = vref.enum_id.expect("resolved");
                    let n =
                        self.c
                            .graph
                            .add(NodeKind::MakeEnum(id, variant.index()), arg_nodes, span);
                    let m = self.model(*ty, span)?;
                    self.c.required.push((n, m));
                    return Ok(n);
                }
                // Converting an IR value with an external converter tagged
                // `shared_result` (`put_in_reg`) gives its one register,
                // however often and under whatever name the rule converts
                // it; any other converter is a call of its own each time
                // (cranelift-isle calls it at each use, and a user's spec
                // may leave bits free: review 5), and so is one whose spec
                // writes or reads a state written in emission order: the
                // generated code calls it at each use, where the state may
                // have another version.
                let shared = info.converter
                    && info
                        .tags
                        .iter()
                        .any(|t| t == loweq_dsl::program::SHARED_RESULT)
                    && arg_nodes.len() == 1
                    && self.collect.is_none()
                    && self.is_ir_type(self.p.terms.terms[tid.index()].arg_tys[0])
                    && !self.uses_ordered_state(*tid);
                let key = (
                    *tid,
                    self.ir_root(arg_nodes.first().copied().unwrap_or(NodeId(0))),
                );
                if shared {
                    if let Some(&(_, n)) = self.conversions.iter().find(|(k, _)| *k == key) {
                        return Ok(n);
                    }
                }
                let term = &self.p.terms.terms[tid.index()];
                self.counter += 1;
                let name = format!("{}#{}.result", info.name, self.counter);
                let result = self.fresh_typed(name, term.ret_ty, span)?;
                if self.collect.is_some() {
                    if let Some(mut spec) = info.spec.clone() {
                        // A guard's call inside a condition about another
                        // rule: a function of its arguments. Whether it
                        // succeeds is its `match`: in a higher-priority
                        // rule's condition, its provides about its
                        // arguments alone are left out, as an extractor's
                        // (`compat/provide_only_if_match_guard.isle`).
                        if !self.covering_collect {
                            let result = spec.result;
                            super::skolem::output_clauses(&mut spec, &[result]);
                        }
                        // Its spec would read the packed value of an
                        // instruction with several results, where the
                        // generated code's call reads the first result
                        // (review 6, as `has_type` in review 5).
                        let packed = arg_nodes
                            .iter()
                            .find_map(|&a| self.several_results(*tid, a));
                        if let Some(why) = self.guard_call_unknown(*tid).or(packed) {
                            self.cannot_match(why);
                            return Ok(result);
                        }
                        let mut bindings = vec![None; spec.locals.len()];
                        for (&l, &a) in spec.params.iter().zip(&arg_nodes) {
                            bindings[l.0] = Some(a);
                        }
                        bindings[spec.result.0] = Some(result);
                        self.skolem(*tid, &spec, &bindings, &[spec.result], &[spec.result], span)?;
                        return Ok(result);
                    }
                }
                let text = self.show_expr(rule, e);
                let call = self.call_of(rule, *tid, e, args, &arg_nodes);
                let outer = self.call.replace(call);
                let applied =
                    self.apply(*tid, arg_nodes, result, Side::Rhs, text, Role::Callee, span);
                self.call = outer;
                applied?;
                if shared {
                    self.conversions.push((key, result));
                }
                Ok(result)
            }
        }
    }

    /// The call `e` of `tid` as written, with its arguments, named as the
    /// callee's spec names its parameters (`hw`, not `2`), or as written
    /// when it has no spec.
    fn call_of(&self, rule: &Rule, tid: TermId, e: &Expr, args: &[Expr], nodes: &[NodeId]) -> Call {
        let params: Vec<String> = match &self.p.term(tid).spec {
            Some(spec) => spec
                .params
                .iter()
                .map(|l| spec.locals[l.0].name.clone())
                .collect(),
            None => Vec::new(),
        };
        Call {
            text: self.show_expr(rule, e),
            args: args
                .iter()
                .zip(nodes)
                .enumerate()
                .map(|(i, (a, &n))| {
                    let name = params
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| self.show_expr(rule, a));
                    (name, n)
                })
                .collect(),
        }
    }
}
