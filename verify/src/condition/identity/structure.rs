//! Structural extractors (`inst_data`, `result_type`): functions of an IR
//! entity's identity, their outputs made once per entity and shared; an
//! enum output is a [`Structure`], a discriminant and the fields patterns
//! looked at.

use cranelift_isle::sema::{ExtractorKind, Pattern, Rule, TermId, TermKind, Type};
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::NodeId;
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_semantics::Literal;

use super::{Output, Structure};
use crate::condition::{Builder, Origin, Vars};

impl Builder<'_> {
    /// Whether `tid` is a structural extractor (see the module doc).
    pub(in crate::condition) fn is_structural(&self, tid: TermId) -> bool {
        let term = &self.p.terms.terms[tid.index()];
        self.p.term(tid).spec.is_none()
            && matches!(
                term.kind,
                TermKind::Decl {
                    extractor_kind: Some(ExtractorKind::ExternalExtractor { .. }),
                    ..
                }
            )
            && self.is_ir_type(term.ret_ty)
    }

    /// A structural extractor `tid` applied to `value`, its outputs matched
    /// by `subs`. An output of enum type is a [`Structure`] (a variant and
    /// fields, made as patterns look at them); any other output is one
    /// variable.
    pub(in crate::condition) fn structure_pattern(
        &mut self,
        rule: &Rule,
        tid: TermId,
        subs: &[Pattern],
        value: NodeId,
        vars: &mut Vars,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        let key = (tid, self.ir_root(value));
        let outputs = match self.structural.get(&key) {
            Some(outputs) => outputs.clone(),
            None if self.in_condition() => {
                if let Some(outs) = self.defined_by_macro(tid, value, span)? {
                    // A function of the entity that the macro walked has
                    // a spec defining (see `macro_pattern`).
                    for (sub, n) in subs.iter().zip(outs) {
                        self.pattern(rule, sub, n, vars)?;
                    }
                    return Ok(());
                }
                // The rule left this definition open.
                self.open_definition(value);
                return Ok(());
            }
            None => {
                let mut outputs = Vec::new();
                let arg_tys = self.p.terms.terms[tid.index()].arg_tys.clone();
                for (i, ty) in arg_tys.into_iter().enumerate() {
                    let name = format!("{}.{}", self.node_name(value), self.p.term(tid).name);
                    let out = match &self.p.types.types[ty.index()] {
                        Type::Enum { variants, .. } => {
                            let n = variants.len().max(2);
                            let bits = usize::BITS - (n - 1).leading_zeros();
                            let count = variants.len();
                            let disc =
                                self.c
                                    .graph
                                    .var(name, Some(ModelType::BitVec(Some(bits))), span);
                            if count < (1 << bits) {
                                let limit = self.bv(count as u128, bits, span);
                                let wf = self.c.graph.op(Op::BvUlt, vec![disc, limit], span);
                                self.assume(wf, Origin::Pattern, span);
                            }
                            self.c.structures.push(Structure {
                                disc,
                                enum_ty: ty,
                                fields: Vec::new(),
                            });
                            Output::Enum(self.c.structures.len() - 1)
                        }
                        _ => Output::Plain(self.fresh_typed(format!("{name}.{i}"), ty, span)?),
                    };
                    outputs.push(out);
                }
                // An IR operation (a macro whose spec is its meaning)
                // inspecting the instruction's definition says which
                // instruction it is; a rule's own raw `inst_data`, or
                // `has_type`'s `result_type`, does not.
                let in_operation = self.template.is_some_and(|m| {
                    let info = self.p.term(m);
                    info.spec.is_some() && !info.obligation
                });
                if in_operation && outputs.iter().any(|o| matches!(o, Output::Enum(_))) {
                    self.defined_by_ir_operation.push(value);
                }
                self.structural.insert(key, outputs.clone());
                outputs
            }
        };
        for (sub, out) in subs.iter().zip(outputs) {
            match out {
                Output::Enum(index) => self.structure_match(rule, tid, index, sub, vars)?,
                Output::Plain(n) => self.pattern(rule, sub, n, vars)?,
            }
        }
        Ok(())
    }

    /// In a condition, walking the expansion of a macro whose spec is
    /// what it means (one without an obligation: `has_type` over
    /// `result_type`), a structural extractor the rule did not apply to
    /// `value` whose outputs are all plain values (no definition to
    /// inspect, such as the result type): fresh Skolem outputs, which the
    /// macro's spec must then define (else the definition is open after
    /// all; see [`Self::macro_pattern`]). `None` where that does not apply.
    fn defined_by_macro(
        &mut self,
        tid: TermId,
        value: NodeId,
        span: Span,
    ) -> Result<Option<Vec<NodeId>>, Diagnostic> {
        let Some(m) = self.template else {
            return Ok(None);
        };
        if self.p.term(m).obligation {
            return Ok(None);
        }
        let arg_tys = self.p.terms.terms[tid.index()].arg_tys.clone();
        if arg_tys
            .iter()
            .any(|ty| matches!(self.p.types.types[ty.index()], Type::Enum { .. }))
        {
            return Ok(None);
        }
        let mut outs = Vec::new();
        for (i, ty) in arg_tys.into_iter().enumerate() {
            let name = format!("{}.{}.{i}", self.node_name(value), self.p.term(tid).name);
            let n = self.fresh_typed(name, ty, span)?;
            self.macro_skolems.push(n);
            outs.push(n);
        }
        Ok(Some(outs))
    }

    fn structure_match(
        &mut self,
        rule: &Rule,
        tid: TermId,
        index: usize,
        sub: &Pattern,
        vars: &mut Vars,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        match sub {
            Pattern::Wildcard(_) => Ok(()),
            Pattern::And(_, subs) => {
                for s in subs {
                    self.structure_match(rule, tid, index, s, vars)?;
                }
                Ok(())
            }
            Pattern::Term(_, vt, fields)
                if matches!(
                    self.p.terms.terms[vt.index()].kind,
                    TermKind::EnumVariant { .. }
                ) =>
            {
                let TermKind::EnumVariant { variant } = self.p.terms.terms[vt.index()].kind else {
                    unreachable!()
                };
                let v = variant.index();
                let disc = self.c.structures[index].disc;
                let bits = self.bits_of(disc);
                let k = self.bv(v as u128, bits, span);
                let is = self.eq(disc, k, span);
                self.assume(is, Origin::Pattern, span);
                for (i, fp) in fields.iter().enumerate() {
                    if matches!(fp, Pattern::Wildcard(_)) {
                        continue;
                    }
                    let f = self.structure_field(index, v, i, span)?;
                    self.pattern(rule, fp, f, vars)?;
                }
                Ok(())
            }
            _ => Err(Diagnostic::new(
                format!(
                    "the output of `{}` can only be matched against its variants",
                    self.p.term(tid).name
                ),
                span,
            )
            .with_note(
                "it describes the instruction that defines a value; bind its fields, not the whole",
            )),
        }
    }

    /// The variable for field `i` of variant `v` of a structure.
    fn structure_field(
        &mut self,
        index: usize,
        v: usize,
        i: usize,
        span: Span,
    ) -> Result<NodeId, Diagnostic> {
        if let Some(&(_, n)) = self.c.structures[index]
            .fields
            .iter()
            .find(|(k, _)| *k == (v, i))
        {
            return Ok(n);
        }
        let enum_ty = self.c.structures[index].enum_ty;
        let Type::Enum { variants, .. } = &self.p.types.types[enum_ty.index()] else {
            unreachable!("structures are made for enum outputs")
        };
        let variant = &variants[v];
        let field_ty = variant.fields.types()[i];
        let field_name = match &variant.fields {
            cranelift_isle::sema::Fields::Struct(f) => self.p.sym(f.fields[i].name).to_string(),
            _ => i.to_string(),
        };
        let disc = self.c.structures[index].disc;
        let name = format!(
            "{}.{}.{field_name}",
            self.node_name(disc),
            self.p.sym(variant.name),
        );
        let n = self.fresh_typed(name, field_ty, span)?;
        self.c.structures[index].fields.push(((v, i), n));
        Ok(n)
    }

    fn bits_of(&self, n: NodeId) -> u32 {
        match self
            .c
            .graph
            .as_var(n)
            .and_then(|v| self.c.graph.vars[v.0 as usize].ty.clone())
        {
            Some(ModelType::BitVec(Some(w))) => w,
            _ => unreachable!("a structure's discriminant is a fixed-width bitvector"),
        }
    }

    fn bv(&mut self, value: u128, width: u32, span: Span) -> NodeId {
        self.c.graph.constant(Literal::Bv { value, width }, span)
    }
}
