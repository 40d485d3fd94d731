//! Instruction identity: what decides whether a pattern *matches*, kept
//! apart from what the matched values *are*.
//!
//! An IR entity (a node of ISLE type `Value` or `Inst`) has a value, a
//! bitvector, and a definition: the instruction that defines it, with its
//! opcode, immediates and operands. `(iconst 0)` on `y` says that `y` is
//! *defined by* an `iconst` with immediate 0; `y` can equal 0 without that
//! (`isub a a`), and then the generated instruction selector does not take
//! the rule. The verifier keeps the two facts apart:
//!
//! - A *structural extractor* (an external extractor without a spec whose
//!   input is an IR entity: `inst_data`, `result_type`) is a function of
//!   its input's identity. Its outputs are made once per input and shared
//!   by every pattern that inspects it; an enum output is a [`Structure`]:
//!   a discriminant variable and one variable per field.
//! - An extractor macro with a spec (the IR operations: `iadd` expands to
//!   `inst_data` with `Binary` and `Opcode.Iadd`) matches where its
//!   expansion ([`loweq_dsl::Template`], one level deep: macros with specs
//!   in it are walked the same way) matches; its spec says what the
//!   values are. Its arguments are the fields of the structure. Its own
//!   occurrence goes before those of its expansion.
//! - An output of a converter between IR types (`def_inst`) that its spec
//!   equates with `result` *is* its input: the same entity, the same node.
//!   (`has_type`'s is too, through its expansion `(and (result_type ty)
//!   inst)`.) Other terms that equate values yield other entities.
//! - A pattern variable repeated on IR entities (`(isub x x)`) means the
//!   same entity, not equal values: entities are merged in a union-find.
//!
//! The rule's own left-hand side, and the patterns of the chained rules an
//! expansion selects, *establish* structure and identity: they are assumed.
//! A condition about another rule (a higher-priority rule not matching,
//! some rule of a chained term matching) is built over what they
//! established. Where such a condition needs a definition the rule left
//! open (a higher-priority rule's `(iconst 0)` on an operand the rule
//! matched as a plain variable), the condition cannot be shown to hold:
//! any value of that operand may come from some other instruction, so the
//! higher-priority rule excludes nothing and the rule must be right for
//! every value; for coverage, that chained rule does not count as matching.
//! This is exact, not merely safe: the definition of an operand the rule
//! does not inspect is the counterexample's to choose.
//!
//! The same holds where the condition applies an extractor with a spec to
//! an IR entity the rule did not apply it to (it may look at the defining
//! instruction, which a spec about values cannot say), a fallible term
//! whose spec has no `match`, or a partial guard on an IR entity: none can
//! be shown to match (`unknown_match`, `guard_call_unknown`).
//!
//! Other extractors and the constructors of `if-let` guards, inside such a
//! condition, are functions of their inputs: their outputs are Skolem
//! variables shared by every condition, constrained by what their spec says
//! of *some* output (see [`Builder::skolem`]); every state their specs
//! mention is a fresh copy. Applications are memoized by (term, input)
//! with whether the spec is assumed ([`Applied`]): when the rule's own
//! pattern applies an extractor a condition applied first, its spec is
//! assumed then.

use cranelift_isle::sema::{ExtractorKind, Pattern, Rule, TermFlags, TermId, TermKind, Type};
use loweq_dsl::Diagnostic;
use loweq_semantics::expr::{ExprKind, LocalId};
use loweq_semantics::graph::NodeId;
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_semantics::Literal;

use super::{Builder, Origin, Role, Side, Vars};

/// An enum output of a structural extractor on one IR entity: which
/// variant it is, and the fields that patterns looked at.
#[derive(Clone, Debug)]
pub struct Structure {
    /// The variant's index, a bitvector.
    pub disc: NodeId,
    /// The enum's ISLE type.
    pub enum_ty: cranelift_isle::sema::TypeId,
    /// Field variables, by (variant, field).
    pub fields: Vec<((usize, usize), NodeId)>,
}

/// One output of a structural extractor.
#[derive(Clone, Copy, Debug)]
pub(super) enum Output {
    /// An enum: an index into [`super::Condition::structures`].
    Enum(usize),
    /// Any other value: its variable.
    Plain(NodeId),
}

/// An extractor applied to one input: its outputs, and whether its spec
/// is assumed of them. An application first made in a condition about
/// another rule has Skolem outputs (see [`Builder::skolem`]); when the
/// rule's own patterns apply the same extractor to the same input later,
/// its spec is assumed then, of the same outputs.
#[derive(Clone, Debug)]
pub(super) struct Applied {
    /// The outputs.
    pub outs: Vec<NodeId>,
    /// Whether the spec is assumed (the rule's own patterns applied it).
    pub assumed: bool,
}

/// ISLE types whose values are IR entities, with an identity beyond their
/// value.
const IR_TYPES: [&str; 2] = ["Value", "Inst"];

impl Builder<'_> {
    /// Whether an ISLE type is an IR entity.
    pub(super) fn is_ir_type(&self, ty: cranelift_isle::sema::TypeId) -> bool {
        IR_TYPES.contains(&self.p.type_name(ty))
    }

    /// Whether `tid` is a structural extractor (see the module doc).
    pub(super) fn is_structural(&self, tid: TermId) -> bool {
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

    /// Whether the condition being built is about another rule.
    fn in_condition(&self) -> bool {
        self.collect.is_some()
    }

    /// A structural extractor `tid` applied to `value`, its outputs matched
    /// by `subs`. An output of enum type is a [`Structure`] (a variant and
    /// fields, made as patterns look at them); any other output is one
    /// variable.
    pub(super) fn structure_pattern(
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

    /// An extractor macro with a spec, applied to `value`: its expansion
    /// decides whether it matches, its spec what the values are.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn macro_pattern(
        &mut self,
        rule: &Rule,
        tid: TermId,
        args: &[Pattern],
        value: NodeId,
        vars: &mut Vars,
        text: String,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        let template = self.p.term(tid).template.clone().expect("caller checked");
        let mut tvars: Vars = vec![None; template.vars];
        // The macro's own application goes before those of its expansion
        // where that has no term with a spec (over `inst_data`): it is the
        // one that names the instantiations.
        let marks = (self.c.occurrences.len(), self.c.slots.len());
        let outer = self.template.replace(tid);
        let skolem_mark = self.macro_skolems.len();
        let walked = self.pattern(rule, &template.pattern, value, &mut tvars);
        self.template = outer;
        walked?;
        let term = &self.p.terms.terms[tid.index()];
        let mut outs = Vec::new();
        for (i, (arg, &ty)) in template.args.iter().zip(&term.arg_tys).enumerate() {
            match arg.and_then(|v| tvars[v.index()]) {
                Some(n) => outs.push(n),
                None => {
                    self.counter += 1;
                    let name = format!("{}#{}.{}", self.p.term(tid).name, self.counter, i);
                    outs.push(self.fresh_typed(name, ty, span)?);
                }
            }
        }
        if self.p.term(tid).obligation {
            // Its spec stands for its expansion here: an obligation.
            self.c.trusted.push(super::Trusted {
                term: tid,
                args: outs.clone(),
                result: value,
            });
        }
        let skolems = self.macro_skolems.split_off(skolem_mark);
        if self.in_condition() && !skolems.is_empty() {
            // The expansion applied a structural extractor the rule did
            // not (`result_type` of the instruction being lowered): its
            // outputs are Skolem functions of the entity, which this
            // macro's spec, its meaning, must define by equations (`(= ty
            // (widthof inst))`: the type of an instruction is the width
            // of its result, fixed by the instantiation); its `match` says
            // where the extractor succeeds (an instruction with a result).
            self.macro_skolem(tid, &outs, value, &skolems, span)?;
        } else if self.in_condition() {
            // Whether the macro matches is its expansion's business; its
            // provide says what the values are, which the rule's own
            // patterns established. Its match and require restrict it.
            let inst = self.instantiate_spec(tid, &outs, value)?;
            let list = self.collect.as_mut().expect("in a condition");
            list.extend(inst.matches);
            list.extend(inst.requires);
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
            // Where the expansion applies terms with signatures (`iadd`),
            // the first of those names the instantiations: every type the
            // generated code matches the expansion at is checked, and one
            // the macro's signatures leave out is an error ("no signature
            // of `my_iadd` fits"), never dropped.
            if !self.p.term(tid).obligation {
                self.hoist(marks);
            }
        }
        for (sub, &o) in args.iter().zip(&outs) {
            self.pattern(rule, sub, o, vars)?;
        }
        Ok(())
    }

    /// In a condition, the spec of macro `tid` (arguments `outs`, result
    /// `value`) where walking its expansion made the Skolem outputs
    /// `skolems` ([`Self::defined_by_macro`]): each must be an argument of
    /// the macro that its provide defines by an equation from what is not
    /// an output; then the definitions are assumed (they constrain only
    /// the Skolem variables) and the rest of the spec is part of the
    /// condition. Otherwise the definition is open, as for any structural
    /// extractor the rule did not apply.
    fn macro_skolem(
        &mut self,
        tid: TermId,
        outs: &[NodeId],
        value: NodeId,
        skolems: &[NodeId],
        span: Span,
    ) -> Result<(), Diagnostic> {
        let spec = self.p.term(tid).spec.clone().expect("caller checked");
        let mut free = Vec::new();
        for sk in skolems {
            match outs.iter().position(|o| o == sk) {
                Some(i) => free.push(spec.params[i]),
                None => {
                    self.open_definition(value);
                    return Ok(());
                }
            }
        }
        if super::skolem::definitions(&spec, &free).is_none() {
            self.open_definition(value);
            return Ok(());
        }
        let mut bindings = vec![None; spec.locals.len()];
        for (&l, &a) in spec.params.iter().zip(outs) {
            bindings[l.0] = Some(a);
        }
        bindings[spec.result.0] = Some(value);
        self.skolem(tid, &spec, &bindings, &free, &[], span)
    }

    /// Moves the last occurrence, and its slot if it has one, to the
    /// positions `marks` (occurrence, slot), after the ones before them.
    fn hoist(&mut self, (occurrence, slot): (usize, usize)) {
        let last = self.c.occurrences.len() - 1;
        if last == occurrence {
            return;
        }
        let moved = self.c.occurrences.remove(last);
        self.c.occurrences.insert(occurrence, moved);
        let own = self
            .c
            .slots
            .last()
            .is_some_and(|s| s.occurrence == last)
            .then(|| self.c.slots.pop())
            .flatten();
        for s in &mut self.c.slots[slot..] {
            if s.occurrence >= occurrence {
                s.occurrence += 1;
            }
        }
        if let Some(mut s) = own {
            s.occurrence = occurrence;
            self.c.slots.insert(slot, s);
        }
    }

    /// An extractor with a spec applied to `value`. Extractors are
    /// functions: a second application to the same input has the same
    /// outputs.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn extractor_pattern(
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
                    if let Some(why) = self.unknown_match(tid, value) {
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
                    let spec = self.p.term(tid).spec.clone().expect("caller checked");
                    let free: Vec<LocalId> = spec
                        .params
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !aliases.contains(i))
                        .map(|(_, &l)| l)
                        .collect();
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

    /// Why, in a condition about another rule, extractor `tid` applied to
    /// an input this rule did not apply it to cannot be shown to match or
    /// not to match, if it cannot: it looks at an IR entity (other than as
    /// a converter between IR types, which its patterns then decide), or
    /// it may fail where its spec does not say.
    fn unknown_match(&self, tid: TermId, value: NodeId) -> Option<String> {
        let term = &self.p.terms.terms[tid.index()];
        if self.infallible(tid) {
            // It matches every input (`value_type`): what it looks at
            // decides only its outputs, which are a function of the
            // entity (memoized by it) that its spec describes.
            return None;
        }
        if self.is_ir_type(term.ret_ty) && !self.ir_converter(tid) {
            return Some(format!(
                "it applies `{}` (declared at {}) to {}, which this rule does not: whether it matches may depend on the instruction that defines that value, which a spec about values cannot say",
                self.p.term(tid).name,
                self.location(tid),
                self.entity_name(value),
            ));
        }
        if self.ir_converter(tid) {
            return None;
        }
        self.may_fail(tid)
    }

    /// Why, in a condition about another rule, a call of `tid` in a guard
    /// cannot be shown to succeed or to fail, if it cannot: it is partial,
    /// and either its spec has no `match`, or it takes an IR entity
    /// (whether it succeeds may depend on the instruction that defines
    /// it).
    pub(super) fn guard_call_unknown(&self, tid: TermId) -> Option<String> {
        let term = &self.p.terms.terms[tid.index()];
        let partial = matches!(
            term.kind,
            TermKind::Decl {
                flags: TermFlags { partial: true, .. },
                ..
            }
        );
        if !partial {
            return None;
        }
        if term.arg_tys.iter().any(|&t| self.is_ir_type(t)) {
            return Some(format!(
                "its guard calls `{}` (declared at {}), a partial term on an IR value: whether it succeeds may depend on the instruction that defines the value, which a spec about values cannot say",
                self.p.term(tid).name,
                self.location(tid),
            ));
        }
        // A partial term with rules succeeds where one of its rules
        // matches. Its rules show its `match` where they fire, but nothing
        // shows that one fires wherever the `match` holds, so the `match`
        // says neither that the term succeeds nor that it fails.
        if matches!(
            term.kind,
            TermKind::Decl {
                constructor_kind: Some(cranelift_isle::sema::ConstructorKind::InternalConstructor),
                ..
            }
        ) {
            return Some(format!(
                "its guard calls `{}` (declared at {}), a partial term with rules: whether one of them matches is not what its spec's `match` says (its rules show the `match` where they fire, not that one fires wherever it holds)",
                self.p.term(tid).name,
                self.location(tid),
            ));
        }
        self.no_match(tid)
    }

    /// Whether `tid` is an external extractor declared `infallible`: the
    /// generated code never fails it (its `match`, if any, is an
    /// obligation wherever a rule uses it).
    pub(super) fn infallible(&self, tid: TermId) -> bool {
        matches!(
            self.p.terms.terms[tid.index()].kind,
            TermKind::Decl {
                extractor_kind: Some(ExtractorKind::ExternalExtractor {
                    infallible: true,
                    ..
                }),
                ..
            }
        )
    }

    /// Why extractor `tid`, if it is fallible (an external extractor not
    /// declared infallible), cannot be relied on to match in a condition:
    /// its spec has no `match` saying where it does.
    pub(super) fn may_fail(&self, tid: TermId) -> Option<String> {
        let fallible = matches!(
            self.p.terms.terms[tid.index()].kind,
            TermKind::Decl {
                extractor_kind: Some(ExtractorKind::ExternalExtractor {
                    infallible: false,
                    ..
                }),
                ..
            }
        );
        if fallible {
            self.no_match(tid)
        } else {
            None
        }
    }

    /// Why a fallible term `tid` cannot be relied on to succeed, if its
    /// spec has no `match` saying where it does.
    fn no_match(&self, tid: TermId) -> Option<String> {
        let spec = self.p.term(tid).spec.as_ref()?;
        spec.matches.is_empty().then(|| {
            format!(
                "`{}` (declared at {}) may fail, and its spec has no `match` saying where it succeeds",
                self.p.term(tid).name,
                self.location(tid),
            )
        })
    }

    /// Whether `tid` is a converter between IR types (`def_inst`): its
    /// output is its input, one entity.
    fn ir_converter(&self, tid: TermId) -> bool {
        let term = &self.p.terms.terms[tid.index()];
        self.p.term(tid).converter
            && self.is_ir_type(term.ret_ty)
            && term.arg_tys.iter().all(|&t| self.is_ir_type(t))
    }

    /// Where a term is declared, `file:line:col`.
    pub(super) fn location(&self, tid: TermId) -> String {
        self.p.sources.location(self.p.term(tid).span)
    }

    /// The condition being built needs more than the rule established.
    pub(super) fn cannot_match(&mut self, why: String) {
        if self.unmatchable.is_none() {
            self.unmatchable = Some(why);
        }
    }

    /// The parameters of a converter between IR types (`def_inst`) that
    /// its spec equates with `result`: its input itself. Any other term
    /// that equates values may yield another entity with an equal value.
    fn aliases(&self, tid: TermId) -> Vec<usize> {
        let term = &self.p.terms.terms[tid.index()];
        let Some(spec) = &self.p.term(tid).spec else {
            return Vec::new();
        };
        if !self.ir_converter(tid) {
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

    /// A repeated pattern variable on IR entities: the same entity.
    pub(super) fn same_entity(&mut self, value: NodeId, bound: NodeId, span: Span) {
        let (a, b) = (self.ir_root(value), self.ir_root(bound));
        if a == b {
            return;
        }
        if self.in_condition() {
            // The rule did not establish that these are one entity; two
            // entities may have equal values.
            if self.unmatchable.is_none() {
                self.unmatchable = Some(format!(
                    "it needs {} and {} to be the same value, which this rule does not establish (equal values may come from different instructions)",
                    self.entity_name(value),
                    self.entity_name(bound)
                ));
            }
            return;
        }
        self.ir_parent.insert(a, b);
        let e = self.eq(value, bound, span);
        self.assume(e, Origin::Pattern, span);
    }

    /// The representative of an IR entity's class in the union-find.
    pub(super) fn ir_root(&self, mut n: NodeId) -> NodeId {
        while let Some(&p) = self.ir_parent.get(&n) {
            n = p;
        }
        n
    }

    /// A condition needs the definition of `value`, which the rule left
    /// open.
    fn open_definition(&mut self, value: NodeId) {
        if self.unmatchable.is_none() {
            let who = self.entity_name(value);
            self.unmatchable = Some(format!(
                "it inspects the instruction that defines {who}, which this rule leaves open: any instruction may define it"
            ));
        }
    }

    /// How to refer to an IR entity in a note.
    pub(super) fn entity_name(&self, n: NodeId) -> String {
        let root = self.ir_root(n);
        if let Some(i) = self.c.inputs.iter().find(|i| self.ir_root(i.node) == root) {
            return format!("`{}`", i.name);
        }
        if self.c.root_args.iter().any(|&a| self.ir_root(a) == root) {
            return "the instruction being lowered".into();
        }
        "an operand".into()
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

    pub(super) fn node_name(&self, n: NodeId) -> String {
        match self.c.graph.as_var(n) {
            Some(v) => self.c.graph.vars[v.0 as usize].name.clone(),
            None => format!("n{}", n.0),
        }
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
