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
//! - An output of a converter between IR types tagged `same_entity`
//!   (`def_inst`) that its spec equates with `result` *is* its input: the
//!   same entity, the same node.
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
//!
//! The parts: structural extractors and their structures (`structure`),
//! extractor macros with specs (`macros`), other extractors with specs
//! (`extractor`), and why a condition about another rule cannot be shown
//! to match (`unmatchable`); this module owns the entities themselves
//! (their union-find and names).

use cranelift_isle::sema::TermId;
use loweq_semantics::graph::NodeId;
use loweq_semantics::span::Span;

use super::{Builder, Origin};

mod extractor;
mod macros;
mod structure;
mod unmatchable;

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

    /// Whether the condition being built is about another rule.
    fn in_condition(&self) -> bool {
        self.collect.is_some()
    }

    /// Whether `tid` is a converter between IR types (`def_inst`): its
    /// output is its input, one entity.
    fn ir_converter(&self, tid: TermId) -> bool {
        let term = &self.p.terms.terms[tid.index()];
        self.p.term(tid).converter
            && self.is_ir_type(term.ret_ty)
            && term.arg_tys.iter().all(|&t| self.is_ir_type(t))
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

    /// The name of `n`'s variable, which what is made from it is named
    /// after (`nN` for a node that is not a variable).
    pub(super) fn node_name(&self, n: NodeId) -> String {
        match self.c.graph.as_var(n) {
            Some(v) => self.c.graph.vars[v.0 as usize].name.clone(),
            None => format!("n{}", n.0),
        }
    }
}
