//! Chained terms: inlining the rule of a `(veri chain)` term that the
//! expansion plan chose, or, in a coverage expansion, proving the call
//! covered and leaving what follows it opaque.

use cranelift_isle::sema::TermId;
use loweq_dsl::Diagnostic;
use loweq_semantics::graph::NodeId;
use loweq_semantics::span::Span;

use super::{Builder, Side, Vars};
use crate::expand::Choice;

impl Builder<'_> {
    /// A value nothing is known about (in a coverage expansion, what comes
    /// after the covered call); no formula mentions it.
    pub(super) fn unknown(&mut self, span: Span) -> NodeId {
        self.counter += 1;
        self.c
            .graph
            .var(format!("unknown#{}", self.counter), None, span)
    }

    /// Inlines one rule of a chained term, the one the plan chose; or, in
    /// a coverage expansion, proves the call covered and leaves its value
    /// opaque.
    fn chain_rule(
        &mut self,
        tid: TermId,
        args: Vec<NodeId>,
        span: Span,
    ) -> Result<NodeId, Diagnostic> {
        let choice = if self.covering {
            None
        } else {
            self.plan.pop_front()
        };
        let rid = match choice {
            Some(Choice::Rule(rid)) => rid,
            Some(Choice::Cover(t)) => {
                debug_assert_eq!(t, tid);
                self.coverage(tid, &args, span)?;
                self.covering = true;
                return Ok(self.unknown(span));
            }
            None if self.covering => return Ok(self.unknown(span)),
            Some(Choice::Assume(_)) | None => {
                return Err(Diagnostic::new(
                    "internal error: expansion plan exhausted or out of step",
                    span,
                ))
            }
        };
        let rule = &self.p.terms.rules[rid.index()];
        debug_assert_eq!(rule.root_term, tid);
        let mut vars: Vars = vec![None; rule.vars.len()];
        // Which rule of the chained term applies is a condition of this
        // expansion.
        let phase = std::mem::replace(&mut self.phase, Side::Select);
        let guard = std::mem::replace(&mut self.in_guard, false);
        let mut r = Ok(());
        for (pat, &a) in rule.args.iter().zip(&args) {
            r = r.and_then(|_| self.pattern(rule, pat, a, &mut vars));
        }
        r = r
            .and_then(|_| self.iflets(rule, &mut vars))
            .and_then(|_| self.priority_conditions(rid, &args));
        self.phase = phase;
        self.in_guard = guard;
        r?;
        self.expr(rule, &rule.rhs, &mut vars)
    }

    /// Inlines the chosen rule of a chained term (see [`Self::chain_rule`]),
    /// marking what it instantiates as part of the expansion.
    pub(super) fn chain(
        &mut self,
        tid: TermId,
        args: Vec<NodeId>,
        span: Span,
    ) -> Result<NodeId, Diagnostic> {
        self.chain_depth += 1;
        let r = self.chain_rule(tid, args, span);
        self.chain_depth -= 1;
        r
    }
}
