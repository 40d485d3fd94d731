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
//! Wherever the macro is used, the verifier walks its expansion (one level
//! deep: the macros with specs in it, such as `iadd`, are applied through
//! their own specs and expansions) for the structure, which instruction
//! defines what, and applies the specs of the terms in it; and it applies
//! the macro's spec. With `E` what the expansion says (the provides and
//! matches of its terms, its structure), and `P`, `M`, `R` the macro spec's
//! provide, match and require:
//!
//! - A rule assumes `E ∧ P ∧ M` where its pattern matches, and proves `R`
//!   and the requires of the expansion's terms. The inputs it really gets
//!   satisfy `E`. Sound when every real match is one the proof covered:
//!   `E ⇒ P ∧ M`. That is the obligation, each clause of `P` and `M` on its
//!   own so that a failure names the part of the spec that disagrees. The
//!   spec is instantiated on the state as the expansion leaves it, so what
//!   it says of a state it modifies (a trap) must be what the expansion
//!   does.
//! - A lower-priority rule assumes that a `(veri priority)` rule using the
//!   macro does not match, judged by the expansion's matches and requires
//!   and `M ∧ R`; coverage of a chained term proves that some rule matches,
//!   judged the same way. Both are stronger than the real match, so both
//!   are sound whatever the spec says (a spec stronger than its expansion
//!   only makes them conservative).
//!
//! Nothing more is needed: a provide weaker than the expansion's, or a
//! require stronger than the expansion's requires, makes rules prove more
//! than they must, which is not unsound (a rule may then fail where
//! inlining the expansion would pass; the failure names the macro's
//! clause). Where the expansion cannot match at a type (`E` cannot hold),
//! the obligation is inapplicable there, and so is every rule whose
//! pattern uses the macro, by the same walk.
//!
//! The expansion is walked by the same pattern code as a rule's left-hand
//! side, with a [`Context`] standing in for the rule: where clauses are and
//! what its variables are called. Macros with obligations inside the
//! expansion are recorded in [`Condition::trusted`] like a rule's, and the
//! caller checks those first.

use cranelift_isle::sema::{Expr, Rule, RuleId, TermId};
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::graph::NodeId;
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
/// expansion (its [`loweq_dsl::TermInfo::template`], where
/// [`loweq_dsl::TermInfo::obligation`] says there is one), and the application of
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
        let (Some(body), Some(spec), true) =
            (info.template.clone(), info.spec.clone(), info.obligation)
        else {
            return Err(Diagnostic::new(
                format!("internal error: `{name}` has no expansion to check its spec against"),
                info.span,
            ));
        };
        let span = body.span;
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

        // What the expansion says is assumed; its terms' requires are the
        // rules' own obligations wherever it is used.
        self.c.obligations.clear();
        // The macro's spec sees the state as the expansion leaves it: what
        // it says of a state it modifies (a trap) must be what the
        // expansion does to it.
        let mut bindings = vec![None; spec.locals.len()];
        for (&l, &a) in spec.params.iter().zip(&args) {
            bindings[l.0] = Some(a);
        }
        bindings[spec.result.0] = Some(input);
        self.counter += 1;
        let prefix = format!("{name}#{}", self.counter);
        let inst = self
            .c
            .graph
            .instantiate(&spec, &bindings, &self.states, &prefix);
        let spec_span = spec.span;
        // E ⇒ P, M.
        for &p in &inst.provides {
            self.agree(
                p,
                format!("the provide of `{name}`, where its expansion matches"),
                spec_span,
            );
        }
        for &m in &inst.matches {
            self.agree(
                m,
                format!("the match of `{name}`, where its expansion matches"),
                spec_span,
            );
        }
        Ok(Trusted {
            term: tid,
            args,
            result: input,
        })
    }

    fn agree(&mut self, node: NodeId, what: String, span: Span) {
        self.oblige(node, Origin::Agreement(what), span);
    }
}
