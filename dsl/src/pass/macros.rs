//! Extractor macros with specs that loweq cannot read the way the generated
//! code runs them, rejected with an error at the construct (docs/spec-conventions.md,
//! "Extractor macros loweq rejects"):
//!
//! - a parameter that the template does not substitute (bound with `@` to a
//!   sub-pattern, or unused): cranelift-isle ignores the caller's pattern
//!   for it, which loweq would assume;
//! - a macro written straight over `inst_data` (no term with a spec in its
//!   expansion, so nothing to agree with) outside the shipped semantics
//!   (`semantics/spec/`): its spec would redefine what an instruction means;
//! - a macro whose expansion applies no term with a spec at all (a
//!   variable, a wildcard, an extern extractor without a spec), outside
//!   the shipped semantics: nothing checks its spec, which would be
//!   trusted as what the pattern means;
//! - a variable of a template that is not a parameter and is also a
//!   variable of a rule using the macro, or such a macro used twice in one
//!   rule: cranelift-isle expands the template in the rule's own scope, so
//!   the names are one variable, which loweq's private template variables
//!   do not model.

use std::collections::HashMap;

use cranelift_isle::sema::{Pattern, TermEnv, TermId, TypeEnv};
use loweq_semantics::span::SourceMap;

use crate::diag::Diagnostic;
use crate::program::{Template, TermInfo};

/// Whether a pattern applies `inst_data` (an instruction's fields, with no
/// spec of their own).
fn reaches_inst_data(p: &Pattern, terms: &TermEnv, types: &TypeEnv) -> bool {
    match p {
        Pattern::Term(_, tid, args) => {
            types.syms[terms.terms[tid.index()].name.index()] == "inst_data"
                || args.iter().any(|a| reaches_inst_data(a, terms, types))
        }
        Pattern::BindPattern(_, _, sub) => reaches_inst_data(sub, terms, types),
        Pattern::And(_, subs) => subs.iter().any(|a| reaches_inst_data(a, terms, types)),
        _ => false,
    }
}

/// The names of a template's variables that are not the macro's
/// parameters (nor the probe's own input).
fn free_names(t: &Template) -> Vec<&str> {
    (0..t.vars)
        .filter(|v| !t.args.contains(&Some(cranelift_isle::sema::VarId(*v))))
        .map(|v| t.names[v].as_str())
        .filter(|n| !n.starts_with("__loweq"))
        .collect()
}

/// Checks every extractor macro with a spec and template, and every rule
/// that uses one.
pub(super) fn check(
    sources: &SourceMap,
    types: &TypeEnv,
    terms: &TermEnv,
    info: &[TermInfo],
    diags: &mut Vec<Diagnostic>,
) {
    let mut params: HashMap<TermId, Vec<&str>> = HashMap::new();
    for (i, t) in info.iter().enumerate() {
        let Some(tpl) = &t.template else { continue };
        if let Some(i) = tpl.args.iter().position(Option::is_none) {
            diags.push(
                Diagnostic::new(
                    format!("extractor macro `{}` never substitutes its argument {}", t.name, i + 1),
                    tpl.span,
                )
                .with_label("the argument's pattern is dropped here")
                .with_note("cranelift-isle makes a parameter an argument slot only where the template uses it alone (`x`, not `x @ (and _ _)`); elsewhere the generated code ignores what the caller's pattern says of it, which loweq would assume")
                .with_note("bind the parameter alone and match the sub-pattern in an `and`: `(and x (my_pattern ...))`"),
            );
        }
        let tid = TermId(i);
        let shipped = sources.file(tpl.span.file).semantics;
        if !t.obligation && !shipped && !reaches_inst_data(&tpl.pattern, terms, types) {
            diags.push(
                Diagnostic::new(
                    format!("extractor macro `{}` has a spec, but its expansion applies no term with a spec", t.name),
                    tpl.span,
                )
                .with_label("its expansion has no term with a spec to agree with")
                .with_note("its spec would be trusted as what the pattern means, yet the generated code runs the expansion, which says nothing of it (`(extractor (small k) k)` with a `match` of `k < 256` matches every `k`)")
                .with_note("put the spec on the extractor the expansion applies (an `extern extractor` with a spec is trusted as the Rust code it stands for), or drop the macro's spec so that the expansion is used as written"),
            );
        }
        if !t.obligation && reaches_inst_data(&tpl.pattern, terms, types) && !shipped {
            diags.push(
                Diagnostic::new(
                    format!("extractor macro `{}` gives a spec to an instruction's fields (`inst_data`) outside the shipped semantics", t.name),
                    tpl.span,
                )
                .with_label("its expansion has no term with a spec to agree with")
                .with_note("its spec would say what the instruction means, and could contradict the shipped IR specs (an `iadd` read as a subtraction); write the macro over the IR operations (`(iadd x y)`), whose specs its spec must then agree with"),
            );
        }
        let free = free_names(tpl);
        if !free.is_empty() {
            params.insert(tid, free);
        }
    }
    if params.is_empty() {
        return;
    }
    for rule in &terms.rules {
        let mut uses = Vec::new();
        for p in rule.args.iter().chain(rule.iflets.iter().map(|l| &l.lhs)) {
            macro_uses(p, &params, &mut uses);
        }
        let span = super::rule_span(sources, rule.pos);
        let rule_vars: Vec<&str> = rule
            .vars
            .iter()
            .map(|v| types.syms[v.name.index()].as_str())
            .collect();
        for (k, tid) in uses.iter().enumerate() {
            let name = &info[tid.index()].name;
            let free = &params[tid];
            if let Some(v) = free.iter().find(|v| rule_vars.contains(v)) {
                diags.push(
                    Diagnostic::new(
                        format!("rule variable `{v}` is also a variable of extractor macro `{name}`'s template"),
                        span,
                    )
                    .with_label(format!("uses `{name}` and binds `{v}`"))
                    .with_secondary(info[tid.index()].template.as_ref().map_or(span, |t| t.span), "the template binds it here")
                    .with_note("cranelift-isle expands the template in the rule's scope: the two are one variable, so the generated code matches only where they are the same value; loweq gives template variables their own scope")
                    .with_note("rename the rule's variable, or the template's"),
                );
            } else if uses[..k].contains(tid) {
                diags.push(
                    Diagnostic::new(
                        format!("extractor macro `{name}`, whose template binds `{}`, is used twice in one rule", free[0]),
                        span,
                    )
                    .with_label(format!("uses `{name}` more than once"))
                    .with_note("cranelift-isle expands each use in the rule's scope: the template's variables of both uses are one variable, which loweq does not model"),
                );
            }
        }
    }
}

/// The macros of `params` a pattern applies, in order.
fn macro_uses(p: &Pattern, params: &HashMap<TermId, Vec<&str>>, out: &mut Vec<TermId>) {
    match p {
        Pattern::Term(_, tid, args) => {
            if params.contains_key(tid) {
                out.push(*tid);
            }
            for a in args {
                macro_uses(a, params, out);
            }
        }
        Pattern::BindPattern(_, _, sub) => macro_uses(sub, params, out),
        Pattern::And(_, subs) => {
            for a in subs {
                macro_uses(a, params, out);
            }
        }
        _ => {}
    }
}
