//! Patterns: the left-hand side's patterns and `if-let` guards matched
//! against a value (constants, repeated variables, enum variants, term
//! applications), each constraint an assumption.

use cranelift_isle::sema::{Pattern, Rule, TermKind, TypeId};
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::{NodeId, NodeKind};
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;

use super::{Builder, ConstValue, Origin, Role, Side, Vars};

impl Builder<'_> {
    /// Matches `value` against the pattern `pat` of `rule`, binding its
    /// variables in `vars`; what the pattern requires is assumed.
    pub(super) fn pattern(
        &mut self,
        rule: &Rule,
        pat: &Pattern,
        value: NodeId,
        vars: &mut Vars,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        if self.covering {
            // Patterns after the covered call (later `if-let`s) do not run.
            return Ok(());
        }
        match pat {
            Pattern::BindPattern(_, v, sub) => {
                vars[v.index()] = Some(value);
                self.pattern(rule, sub, value, vars)
            }
            Pattern::Var(ty, v) => {
                let bound = vars[v.index()].expect("ISLE binds variables before reuse");
                if self.is_ir_type(*ty) {
                    self.same_entity(value, bound, span);
                    return Ok(());
                }
                let e = self.eq(value, bound, span);
                self.assume(e, Origin::Pattern, span);
                Ok(())
            }
            Pattern::ConstBool(ty, b) => self.pattern_const(*ty, ConstValue::Bool(*b), value, span),
            Pattern::ConstInt(ty, i) => self.pattern_const(*ty, ConstValue::Int(*i), value, span),
            Pattern::ConstPrim(ty, sym) => {
                let name = self.p.sym(*sym).to_string();
                self.pattern_const(*ty, ConstValue::Prim(name), value, span)
            }
            Pattern::Wildcard(_) => Ok(()),
            Pattern::And(_, subs) => {
                for s in subs {
                    self.pattern(rule, s, value, vars)?;
                }
                Ok(())
            }
            Pattern::Term(ty, tid, args) => {
                let text = match self.template {
                    Some(m) => format!(
                        "({} …) in the expansion of `{}`",
                        self.p.term(*tid).name,
                        self.p.term(m).name
                    ),
                    None => self.show_pattern(rule, pat),
                };
                let info = self.p.term(*tid);
                if info.template.is_some() && info.spec.is_some() {
                    return self.macro_pattern(rule, *tid, args, value, vars, text);
                }
                if self.is_structural(*tid) {
                    return self.structure_pattern(rule, *tid, args, value, vars);
                }
                if let (TermKind::EnumVariant { variant }, None) =
                    (&self.p.terms.terms[tid.index()].kind, &info.spec)
                {
                    return self.pattern_variant(rule, *ty, variant.index(), args, value, vars);
                }
                if info.spec.is_some() {
                    return self.extractor_pattern(rule, *tid, args, value, vars, text);
                }
                // No spec: `apply` says so.
                let term = &self.p.terms.terms[tid.index()];
                let mut outs = Vec::new();
                for &aty in &term.arg_tys {
                    outs.push(self.fresh_typed("unspecified".into(), aty, span)?);
                }
                self.apply(*tid, outs, value, Side::Lhs, text, Role::Callee, span)
            }
        }
    }

    fn pattern_const(
        &mut self,
        ty: TypeId,
        c: ConstValue,
        value: NodeId,
        span: Span,
    ) -> Result<(), Diagnostic> {
        if self.is_ir_type(ty) && self.collect.is_some() {
            // The generated code compares the entity (which value it is),
            // not the number it holds: a condition cannot tell.
            let why = format!(
                "it matches {} against a constant, which the generated code compares with the value's identity, not the number it holds",
                self.entity_name(value)
            );
            self.cannot_match(why);
            return Ok(());
        }
        let k = self.constant(ty, c, span)?;
        let e = self.eq(value, k, span);
        self.assume(e, Origin::Pattern, span);
        Ok(())
    }

    /// The variant numbered `variant` of the enum that models `ty`.
    pub(super) fn enum_variant(
        &self,
        ty: TypeId,
        variant: usize,
        span: Span,
    ) -> Result<loweq_semantics::expr::VariantRef, Diagnostic> {
        match self.model(ty, span)? {
            ModelType::Enum(id) => match self.p.enums.get(id).variants.get(variant) {
                Some(v) => Ok(loweq_semantics::expr::VariantRef {
                    enum_id: Some(id),
                    name: v.name.clone(),
                }),
                None => Err(Diagnostic::new(
                    format!(
                        "enum `{}` is modelled by an enum with fewer variants",
                        self.p.type_name(ty)
                    ),
                    span,
                )),
            },
            _ => Err(Diagnostic::new(
                format!(
                    "enum `{}` has a non-enum model, so its variants need specs",
                    self.p.type_name(ty)
                ),
                span,
            )),
        }
    }

    fn pattern_variant(
        &mut self,
        rule: &Rule,
        ty: TypeId,
        variant: usize,
        args: &[Pattern],
        value: NodeId,
        vars: &mut Vars,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        let vref = self.enum_variant(ty, variant, span)?;
        let is = self
            .c
            .graph
            .add(NodeKind::IsVariant(vref.clone()), vec![value], span);
        self.assume(is, Origin::Pattern, span);
        for (i, sub) in args.iter().enumerate() {
            let field =
                self.c
                    .graph
                    .add(NodeKind::VariantField(vref.clone(), i), vec![value], span);
            self.pattern(rule, sub, field, vars)?;
        }
        Ok(())
    }

    /// The `if-let` guards of `rule`, in order: each expression evaluated
    /// and matched against its pattern; stops at one that cannot be shown
    /// to match (see `identity`).
    pub(super) fn iflets(&mut self, rule: &Rule, vars: &mut Vars) -> Result<(), Diagnostic> {
        let (phase, guard) = (self.phase, self.in_guard);
        // A guard is a condition of the rule, or, inside a chained rule, of
        // the expansion.
        self.phase = if phase == Side::Select {
            Side::Select
        } else {
            Side::Lhs
        };
        self.in_guard = true;
        let mut r = Ok(());
        for il in &rule.iflets {
            r = self
                .expr(rule, &il.rhs, vars)
                .and_then(|v| self.pattern(rule, &il.lhs, v, vars));
            // A condition that cannot be shown to match is not built on.
            if r.is_err() || self.unmatchable.is_some() {
                break;
            }
        }
        self.phase = phase;
        self.in_guard = guard;
        r
    }
}
