//! The obligation of an extractor macro with a spec whose expansion uses
//! terms that have specs: the spec must agree with the expansion.
//!
//! A rule that uses `(my_iadd x y)`, defined as `(extractor (my_iadd x y)
//! (iadd x y))` with a spec of its own, is verified through that spec: the
//! spec is what the pattern means. What the pattern really means is its
//! expansion: the generated code matches an `iadd`, and `iadd`'s spec says
//! what the values are. So the spec is only as good as its agreement with
//! the expansion, which this module states as a condition of its own, over
//! the expansion's terms and the macro's arguments (the variables at its
//! parameters) and result (the value matched).
//!
//! The verifier walks the macro's whole expansion wherever the macro is
//! used, for its structure (which instruction defines what), and that walk
//! applies the specs of the extractors in it that are not macros
//! (`fits_in_32`, `simm32`, `def_inst`): their matches and requires hold in
//! every use. What no use applies are the specs of the macros in the
//! expansion (`iadd`; another macro of the user's), and the agreement is
//! about those. With `E` what the expansion says of the values (the
//! provides of its terms, its structure, and the matches of its other
//! extractors), `Em` and `Eo` the matches and requires of the macros in
//! it, and `P`, `M`, `R` the macro spec's provide, match and require, each
//! way a rule uses the spec needs its own direction:
//!
//! - A rule assumes `P` and `M` where its pattern matches, and proves `R`.
//!   The inputs it really gets satisfy `E` and `Em`, and inlining the
//!   expansion it would have to prove `Eo`. Sound when every real match is
//!   one the proof covered, `E ∧ Em ⇒ P ∧ M`, and proving `R` proves the
//!   expansion's requires, `E ∧ Em ∧ R ⇒ Eo`.
//! - A lower-priority rule assumes that a `(veri priority)` rule using the
//!   macro does not match, judged by `M ∧ R` (with the macro's structure);
//!   coverage of a chained term proves that some rule matches, judged the
//!   same way. Both are sound when the spec's match implies the real one,
//!   `E ∧ M ∧ R ⇒ Em` (and `Eo`, from above).
//!
//! These are the obligation, each clause on its own so that a failure
//! names the part of the spec that disagrees; `E` is assumed. Nothing more
//! is needed: a provide weaker than the expansion's, or a require stronger
//! than its requires, makes rules prove more than they must, which is not
//! unsound (a rule may then fail where inlining the expansion would pass;
//! the failure names the macro's clause). Where the expansion cannot match
//! at a type (`E` cannot hold), the obligation is inapplicable there, and
//! so is every rule that uses the macro in its pattern, by the same walk.
//! (Where a partial term in the expansion does not match, its provide may
//! not hold; it is assumed anyway, as it is in rules.)
//!
//! The expansion is walked by the same pattern code as a rule's left-hand
//! side, with a [`Context`] standing in for the rule: where clauses are and
//! what its variables are called. Macros with obligations inside the
//! expansion are recorded in [`Condition::trusted`] like a rule's, and the
//! caller checks those first.

use cranelift_isle::sema::{Expr, Rule, RuleId, TermId};
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::graph::NodeId;
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;

use super::{Builder, Condition, Input, Origin, Trusted, Vars};

/// What stands in for a rule while an expansion is walked on its own.
#[derive(Clone, Debug)]
pub(super) struct Context {
    /// The macro's `extractor` definition.
    pub span: Span,
    /// The expansion's variables, by index.
    pub names: Vec<String>,
}

/// The condition that the spec of extractor macro `tid` agrees with its
/// expansion ([`loweq_dsl::TermInfo::expansion`]), and the application of
/// the macro it is about: its arguments and result, whose types the caller
/// fixes to the instantiation being checked.
pub fn agreement(program: &Program, tid: TermId) -> Result<(Condition, Trusted), Diagnostic> {
    let mut b = Builder::new(program, Default::default());
    let subject = b.agreement(tid)?;
    Ok((b.c, subject))
}

impl Builder<'_> {
    fn agreement(&mut self, tid: TermId) -> Result<Trusted, Diagnostic> {
        let info = self.p.term(tid);
        let name = info.name.clone();
        let (Some(body), Some(spec)) = (info.expansion.clone(), info.spec.clone()) else {
            return Err(Diagnostic::new(
                format!("internal error: `{name}` has no expansion to check its spec against"),
                info.span,
            ));
        };
        let span = body.span;
        if let Some(m) = spec.modifies.first() {
            return Err(stateful(&name, &name, m.span, span));
        }
        self.context = Some(Context {
            span,
            names: body.names.clone(),
        });
        let term = &self.p.terms.terms[tid.index()];
        let (arg_tys, ret_ty) = (term.arg_tys.clone(), term.ret_ty);
        // A stand-in rule: the context gives spans and names, and nothing
        // else of a rule is read while walking a pattern outside conditions.
        let rule = Rule {
            id: RuleId(0),
            root_term: tid,
            args: Vec::new(),
            iflets: Vec::new(),
            rhs: Expr::ConstBool(ret_ty, false),
            vars: Vec::new(),
            prio: 0,
            pos: Default::default(),
            name: None,
        };
        let input = self.fresh_typed("result".into(), ret_ty, span)?;
        let mut vars: Vars = vec![None; body.vars];
        self.pattern(&rule, &body.pattern, input, &mut vars)?;
        if let Some(m) = self.modifies.first() {
            return Err(stateful(&name, &m.term, span, span));
        }
        let mut args = Vec::new();
        for (i, (arg, &ty)) in body.args.iter().zip(&arg_tys).enumerate() {
            let node = match arg.and_then(|v| vars[v.index()]) {
                Some(n) => n,
                // A parameter the expansion drops: any value.
                None => self.fresh_typed(format!("{name}.arg{i}"), ty, span)?,
            };
            if let Some(v) = arg {
                self.c.inputs.push(Input {
                    name: body.names[v.index()].clone(),
                    node,
                });
            }
            args.push(node);
        }
        for (&n, &ty) in args.iter().zip(&arg_tys) {
            let m = self.model(ty, span)?;
            self.c.required.push((n, m));
        }
        let m = self.model(ret_ty, span)?;
        self.c.required.push((input, m));
        self.finish_states()?;

        // The matches and requires of the macros in the expansion, apart
        // from what it says the values are. Those of other extractors stay
        // as they are: every use enforces them (see the module doc), so
        // they are assumed here, and their requires are the rule's own
        // obligations.
        let mut matches = Vec::new();
        let assumptions = std::mem::take(&mut self.c.assumptions);
        for c in assumptions {
            match &c.origin {
                Origin::Match(t) if self.is_macro(t) => matches.push((c.node, t.clone(), c.span)),
                _ => self.c.assumptions.push(c),
            }
        }
        let requires: Vec<(NodeId, String, Span)> = std::mem::take(&mut self.c.obligations)
            .into_iter()
            .filter_map(|c| match c.origin {
                Origin::Require(t) if self.is_macro(&t) => Some((c.node, t, c.span)),
                _ => None,
            })
            .collect();
        let inst = self.instantiate_spec(tid, &args, input)?;
        let em: Vec<NodeId> = matches.iter().map(|m| m.0).collect();
        let spec_span = spec.span;
        // E ∧ Em ⇒ P, M.
        for &p in &inst.provides {
            let o = self.implies(&em, p, spec_span);
            self.agree(
                o,
                format!("the provide of `{name}`, where its expansion matches"),
                spec_span,
            );
        }
        for &m in &inst.matches {
            let o = self.implies(&em, m, spec_span);
            self.agree(
                o,
                format!("the match of `{name}`, where its expansion matches"),
                spec_span,
            );
        }
        // E ∧ M ∧ R ⇒ Em.
        let spec_matches: Vec<NodeId> = inst.matches.iter().chain(&inst.requires).copied().collect();
        for (n, t, s) in &matches {
            let o = self.implies(&spec_matches, *n, *s);
            self.agree(
                o,
                format!(
                    "the match of `{t}` in the expansion of `{name}`, where the spec of `{name}` says it matches"
                ),
                *s,
            );
        }
        // E ∧ Em ∧ R ⇒ Eo.
        let em_r: Vec<NodeId> = em.iter().chain(&inst.requires).copied().collect();
        for (n, t, s) in &requires {
            let o = self.implies(&em_r, *n, *s);
            self.agree(
                o,
                format!(
                    "the require of `{t}` in the expansion of `{name}`, where the require of `{name}` holds"
                ),
                *s,
            );
        }
        Ok(Trusted {
            term: tid,
            args,
            result: input,
        })
    }

    /// Whether the named term is an extractor macro with a spec.
    fn is_macro(&self, name: &str) -> bool {
        self.p
            .term_by_name(name)
            .is_some_and(|t| self.p.term(t).template.is_some() && self.p.term(t).spec.is_some())
    }

    /// `(=> (and premises) conclusion)`, or the conclusion alone.
    fn implies(&mut self, premises: &[NodeId], conclusion: NodeId, span: Span) -> NodeId {
        if premises.is_empty() {
            return conclusion;
        }
        let all = self.c.graph.op(Op::And, premises.to_vec(), span);
        self.c.graph.op(Op::Imp, vec![all, conclusion], span)
    }

    fn agree(&mut self, node: NodeId, what: String, span: Span) {
        self.oblige(node, Origin::Agreement(what), span);
    }
}

/// Specs that modify state are not compared.
fn stateful(name: &str, term: &str, at: Span, def: Span) -> Diagnostic {
    let mut d = Diagnostic::new(
        format!("cannot check the spec of extractor macro `{name}` against its expansion: `{term}` modifies state"),
        def,
    )
    .with_note("loweq checks a macro's spec against its expansion before rules rely on it, and does not compare effects on state; give the macro no spec to verify rules through its expansion");
    if at != def {
        d = d.with_secondary(at, "modifies state");
    }
    d
}
