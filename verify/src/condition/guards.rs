//! Conditions about *other* rules: that a higher-priority `(veri priority)`
//! rule does not match (assumed), and that some rule of a chained term
//! matches its arguments (proved: otherwise the generated instruction
//! selector panics with "no rule matched").

use cranelift_isle::sema::{Pattern, RuleId, TermFlags, TermId, TermKind};
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::NodeId;
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::Literal;

use super::{Builder, Origin, Vars};

/// The sizes of what a condition about another rule may add to (see
/// [`Builder::rollback`]).
struct Mark {
    assumptions: usize,
    required: usize,
    occurrences: usize,
    slots: usize,
    /// Per structure, its number of fields.
    structures: Vec<usize>,
    notes: usize,
    applied: std::collections::HashMap<(TermId, NodeId), super::identity::Applied>,
}
use crate::expand::rules_of;

impl Builder<'_> {
    /// The condition under which rule `rid` matches `args`: its patterns,
    /// guards and the specs they use, over what this rule established (see
    /// `identity`). A constant `false` when the other rule needs more than
    /// that: then it cannot be shown to match, and everything built for it
    /// is rolled back (no assumption, memo or type requirement of a
    /// half-built condition stays).
    fn rule_condition(
        &mut self,
        rid: RuleId,
        args: &[NodeId],
    ) -> Result<(NodeId, Option<String>), Diagnostic> {
        let rule = &self.p.terms.rules[rid.index()];
        let span = self.rule_span(rule);
        let mark = self.mark();
        let saved = self.collect.replace(Vec::new());
        let blocked = self.unmatchable.take();
        let about = self.about.replace(rid);
        let mut vars: Vars = vec![None; rule.vars.len()];
        let mut result = Ok(());
        for (pat, &a) in rule.args.iter().zip(args) {
            if self.unmatchable.is_some() {
                break;
            }
            result = result.and_then(|_| self.pattern(rule, pat, a, &mut vars));
        }
        if self.unmatchable.is_none() {
            result = result.and_then(|_| self.iflets(rule, &mut vars));
        }
        let conds = std::mem::replace(&mut self.collect, saved).unwrap_or_default();
        let unmatchable = std::mem::replace(&mut self.unmatchable, blocked);
        self.about = about;
        // The condition's term applications are not part of the rule's
        // display and need no instantiation choice of their own: their
        // types follow from the arguments they share with the rule.
        self.c.occurrences.truncate(mark.occurrences);
        self.c.slots.truncate(mark.slots);
        result?;
        if unmatchable.is_some() || (self.covering_collect && self.inexpressible) {
            self.rollback(mark);
        }
        if unmatchable.is_some() {
            return Ok((
                self.c.graph.constant(Literal::Bool(false), span),
                unmatchable,
            ));
        }
        Ok((self.c.graph.op(Op::And, conds, span), None))
    }

    /// What a condition about another rule may add to, before it is built.
    fn mark(&self) -> Mark {
        Mark {
            assumptions: self.c.assumptions.len(),
            required: self.c.required.len(),
            occurrences: self.c.occurrences.len(),
            slots: self.c.slots.len(),
            structures: self.c.structures.iter().map(|s| s.fields.len()).collect(),
            notes: self.c.notes.len(),
            applied: self.applied.clone(),
        }
    }

    /// Forgets everything built since `mark`.
    fn rollback(&mut self, mark: Mark) {
        self.c.assumptions.truncate(mark.assumptions);
        self.c.required.truncate(mark.required);
        self.c.occurrences.truncate(mark.occurrences);
        self.c.slots.truncate(mark.slots);
        self.c.structures.truncate(mark.structures.len());
        for (s, n) in self.c.structures.iter_mut().zip(mark.structures) {
            s.fields.truncate(n);
        }
        self.c.notes.truncate(mark.notes);
        self.applied = mark.applied;
    }

    /// For every higher-priority rule marked `(veri priority)` that may
    /// match what this rule matches (cranelift-isle's overlap analysis),
    /// assume that it does not match these arguments.
    pub(super) fn priority_conditions(
        &mut self,
        rid: RuleId,
        args: &[NodeId],
    ) -> Result<(), Diagnostic> {
        for hid in self.p.rule(rid).overlapped_by.clone() {
            let span = self.rule_span(&self.p.terms.rules[hid.index()]);
            let (m, why) = self.rule_condition(hid, args)?;
            let name = self.p.rule(hid).name.clone();
            if let Some(why) = why {
                self.c.notes.push(format!(
                    "higher-priority rule `{name}` excludes nothing here: {why}"
                ));
                continue;
            }
            let negated = self.c.graph.op(Op::Not, vec![m], span);
            self.assume(negated, Origin::Priority(name), span);
        }
        Ok(())
    }

    /// Proves that some rule of the chained term `tid` matches `args`,
    /// unless the term is partial (then not matching is a way to fail).
    pub(super) fn coverage(
        &mut self,
        tid: TermId,
        args: &[NodeId],
        span: Span,
    ) -> Result<(), Diagnostic> {
        if matches!(
            self.p.terms.terms[tid.index()].kind,
            TermKind::Decl {
                flags: TermFlags { partial: true, .. },
                ..
            }
        ) {
            return Ok(());
        }
        let rules = rules_of(self.p, tid);
        if let Some(&rid) = rules.iter().find(|&&r| self.matches_anything(r)) {
            // `exists vars. true`: no need to build (and type) the others.
            let name = self.p.term(tid).name.clone();
            let t = self.c.graph.constant(
                loweq_semantics::Literal::Bool(true),
                self.rule_span(&self.p.terms.rules[rid.index()]),
            );
            self.oblige(t, Origin::Coverage(name), span);
            return Ok(());
        }
        let mut some_rule = Vec::new();
        for rid in rules {
            // A rule whose guard calls another chained term cannot be
            // expressed here; counting it as not matching is conservative.
            self.covering_collect = true;
            self.inexpressible = false;
            let condition = self.rule_condition(rid, args);
            self.covering_collect = false;
            let (m, why) = condition?;
            if let Some(why) = why {
                self.c.notes.push(format!(
                    "rule `{}` of `{}` cannot be shown to match: {why}",
                    self.p.rule(rid).name,
                    self.p.term(tid).name
                ));
            }
            if std::mem::take(&mut self.inexpressible) {
                let rule = self.p.rule(rid).name.clone();
                self.c.undecided.get_or_insert(format!(
                    "whether some rule of `{}` matches cannot be decided: the guard of rule `{rule}` calls a chained term",
                    self.p.term(tid).name
                ));
                continue;
            }
            some_rule.push(m);
        }
        // No source text says this; the failure message is the explanation.
        let covered = self.c.graph.op(Op::Or, some_rule, Span::default());
        let name = self.p.term(tid).name.clone();
        self.oblige(covered, Origin::Coverage(name), span);
        Ok(())
    }

    /// Whether a rule matches whatever its arguments are: each argument
    /// pattern binds a distinct variable or is a wildcard, and it has no
    /// guards. Such a rule covers every call of its term.
    fn matches_anything(&self, rid: RuleId) -> bool {
        let rule = &self.p.terms.rules[rid.index()];
        let mut seen = Vec::new();
        rule.iflets.is_empty()
            && rule.args.iter().all(|p| match p {
                Pattern::Wildcard(_) => true,
                Pattern::BindPattern(_, v, sub) if matches!(**sub, Pattern::Wildcard(_)) => {
                    let fresh = !seen.contains(v);
                    seen.push(*v);
                    fresh
                }
                _ => false,
            })
    }
}
