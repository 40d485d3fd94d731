//! Why a condition about another rule cannot be shown to match: an
//! extractor or a guard's call that may look at the instruction defining
//! an IR entity, a fallible term whose spec has no `match`, a definition
//! the rule left open. The first reason found is kept
//! (`Builder::unmatchable`).

use cranelift_isle::sema::{ExtractorKind, TermFlags, TermId, TermKind};
use loweq_semantics::graph::NodeId;

use crate::condition::Builder;

impl Builder<'_> {
    /// Why, in a condition about another rule, extractor `tid` applied to
    /// an input this rule did not apply it to cannot be shown to match or
    /// not to match, if it cannot: it looks at an IR entity (other than as
    /// a converter between IR types, which its patterns then decide), or
    /// it may fail where its spec does not say.
    pub(super) fn unknown_match(&self, tid: TermId, value: NodeId) -> Option<String> {
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
    pub(in crate::condition) fn guard_call_unknown(&self, tid: TermId) -> Option<String> {
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
    pub(in crate::condition) fn infallible(&self, tid: TermId) -> bool {
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
    pub(in crate::condition) fn may_fail(&self, tid: TermId) -> Option<String> {
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

    /// Where a term is declared, `file:line:col`.
    pub(in crate::condition) fn location(&self, tid: TermId) -> String {
        self.p.sources.location(self.p.term(tid).span)
    }

    /// The condition being built needs more than the rule established.
    pub(in crate::condition) fn cannot_match(&mut self, why: String) {
        if self.unmatchable.is_none() {
            self.unmatchable = Some(why);
        }
    }

    /// A condition needs the definition of `value`, which the rule left
    /// open.
    pub(super) fn open_definition(&mut self, value: NodeId) {
        if self.unmatchable.is_none() {
            let who = self.entity_name(value);
            self.unmatchable = Some(format!(
                "it inspects the instruction that defines {who}, which this rule leaves open: any instruction may define it"
            ));
        }
    }
}
