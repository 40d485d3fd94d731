//! Instructions with several results: where a rule may match one.
//!
//! The IR specs model an instruction by one bitvector that packs its
//! results, and say how many it has in the state tagged `result_count`
//! (`clif_results`, `semantics/spec/clif/prelude.isle`), which `lower`'s spec reads to
//! compare each result with a register of its own. The state describes the
//! instruction being lowered, so only that instruction may set it: matched
//! directly as the root's argument (`(lower (isplit x))`). Anywhere else
//! the packed value would stand for what is really one of its results: a
//! nested operand (`(iadd (isplit x) y)`, where the operand is `lo` or
//! `hi`, not `x`), or the input of another extractor (`has_type`, which
//! reads the type of the first result, not the packed width).
//!
//! The same holds in a condition about another rule (a higher-priority
//! rule not matching): an extractor with a spec that such a rule applies to
//! an instruction with several results (`has_type`), or a term its guard
//! calls on one, would read the packed value, so it cannot be shown to
//! match or not to match there.

use cranelift_isle::sema::TermId;
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::NodeId;
use loweq_semantics::span::Span;

use super::Builder;

impl Builder<'_> {
    /// The state tagged `result_count` that `tid`'s spec modifies, if any:
    /// `tid` says how many results the instruction it matches has.
    fn sets_result_count(&self, tid: TermId) -> Option<&str> {
        let spec = self.p.term(tid).spec.as_ref()?;
        spec.modifies
            .iter()
            .map(|m| &self.p.states[m.state.0])
            .find(|s| s.result_count)
            .map(|s| s.name.as_str())
    }

    /// Every term that sets a state tagged `result_count` matches the
    /// root's argument itself, and no other term (but the root and implicit
    /// conversions) takes the instruction it matches.
    pub(super) fn check_results(&self, span: Span) -> Result<(), Diagnostic> {
        for o in &self.c.occurrences {
            let Some(state) = self.sets_result_count(o.term) else {
                continue;
            };
            let info = self.p.term(o.term);
            // Every other term that looks at the instruction, but the root.
            let users: Vec<String> = self
                .c
                .occurrences
                .iter()
                .filter(|u| !std::ptr::eq(*u, o) && !u.converter)
                .filter(|u| !(Some(u.result) == self.c.root_result && u.args == self.c.root_args))
                .filter(|u| u.args.contains(&o.result) || u.result == o.result)
                .map(|u| format!("`{}`", self.p.term(u.term).name))
                .collect();
            if self.c.root_args.contains(&o.result) && users.is_empty() {
                continue;
            }
            let what = if users.is_empty() {
                String::new()
            } else {
                format!(", here the input of {}", users.join(" and "))
            };
            return Err(Diagnostic::new(
                format!(
                    "`{}` has several results (its spec sets `{state}`) and is not the instruction being lowered{what}",
                    info.name
                ),
                span,
            )
            .with_label(format!("{} is matched here", o.text))
            .with_note(format!(
                "an instruction with several results is modelled by one value packing them, which only `lower` can compare with its registers: match it directly, `(lower ({} ...))`; a nested operand is one of its results, and `has_type` reads the type of the first",
                info.name
            )));
        }
        Ok(())
    }

    /// Why, in a condition about another rule, extractor `tid` applied to
    /// `value` (or a guard's call of `tid` with `value` among its
    /// arguments) cannot be shown to match or not to match, if that is because
    /// `value` is an instruction with several results (a term of the rule's
    /// patterns that sets a state tagged `result_count` matched it) and `tid` is not
    /// such a term itself: its spec would read the packed value (`has_type`
    /// its width, where Cranelift's reads the first result's type).
    pub(super) fn several_results(&self, tid: TermId, value: NodeId) -> Option<String> {
        if self.sets_result_count(tid).is_some() {
            return None;
        }
        let root = self.ir_root(value);
        let m = self.modifies.iter().find(|m| {
            self.p.states[m.state.0].result_count
                && m.matched.is_some_and(|n| self.ir_root(n) == root)
        })?;
        Some(format!(
            "it applies `{}` (declared at {}) to the instruction `{}` matched, which has several results: the verifier models them by one value packing them, which `{}`'s spec would read where the generated code reads the first result",
            self.p.term(tid).name,
            self.location(tid),
            m.term,
            self.p.term(tid).name,
        ))
    }
}
