//! What the spec pass knows about terms: their specs and their type
//! instantiations.

use std::collections::HashMap;

use cranelift_isle::ast;
use cranelift_isle::lexer::Pos;
use cranelift_isle::sema::TermId;
use loweq_semantics::expr::{LocalId, LocalKind, Modifies, Spec, StateId};

use super::Ctx;
use crate::diag::{did_you_mean, Diagnostic};
use crate::model::ModelResolver;
use crate::program::{Signature, TermInfo};
use crate::spec::{Globals, Resolver};

/// A blank entry per term.
pub(super) fn term_infos(cx: &Ctx<'_>) -> Vec<TermInfo> {
    cx.terms
        .terms
        .iter()
        .map(|t| {
            let name = cx.types.syms[t.name.index()].clone();
            TermInfo {
                converter: cx.forms.converters.contains(&name),
                name,
                span: cx.span(t.decl_pos),
                ..TermInfo::default()
            }
        })
        .collect()
}

/// Looks a term up by name; reports an undeclared one.
pub(super) fn lookup_term(cx: &mut Ctx<'_>, ident: &ast::Ident, what: &str) -> Option<TermId> {
    let found = cx.terms.get_term_by_name(cx.types, ident);
    if found.is_none() {
        let mut d = Diagnostic::new(
            format!("{what} for undeclared term `{}`", ident.0),
            cx.span(ident.1),
        );
        let names = cx
            .terms
            .terms
            .iter()
            .map(|t| cx.types.syms[t.name.index()].as_str());
        if let Some(h) = did_you_mean(&ident.0, names) {
            d = d.with_note(h);
        }
        cx.diags.push(d);
    }
    found
}

/// Resolves every `spec` and attaches it to its term.
pub(super) fn specs(
    cx: &mut Ctx<'_>,
    globals: &Globals<'_>,
    resolver: &mut ModelResolver<'_>,
    term_info: &mut [TermInfo],
) {
    let state_ids = globals.states;
    for s in &cx.forms.specs {
        let Some(tid) = lookup_term(cx, &s.term, "spec") else {
            continue;
        };
        let term = &cx.terms.terms[tid.index()];
        if s.args.len() != term.arg_tys.len() {
            cx.diags.push(
                Diagnostic::new(
                    format!(
                        "spec of `{}` has {} parameters, but the term takes {}",
                        s.term.0,
                        s.args.len(),
                        term.arg_tys.len()
                    ),
                    cx.span(s.pos),
                )
                .with_secondary(term_info[tid.index()].span, "term declared here"),
            );
            continue;
        }
        if term_info[tid.index()].spec.is_some() {
            cx.diags.push(Diagnostic::new(
                format!("term `{}` has two specs", s.term.0),
                cx.span(s.pos),
            ));
            continue;
        }
        let mut r = Resolver::new(globals, resolver);
        let params: Vec<LocalId> = s
            .args
            .iter()
            .map(|a| r.declare(a, LocalKind::Param))
            .collect();
        let result = r.declare(&ast::Ident("result".into(), s.term.1), LocalKind::Result);
        let mut modifies = Vec::new();
        for m in &s.modifies {
            let Some(&sid) = state_ids.get(&m.state.0) else {
                let mut d =
                    Diagnostic::new(format!("unknown state `{}`", m.state.0), cx.span(m.state.1));
                if let Some(h) = did_you_mean(&m.state.0, state_ids.keys().map(|k| k.as_str())) {
                    d = d.with_note(h);
                }
                r.diags.push(d);
                continue;
            };
            let cond = m
                .cond
                .as_ref()
                .map(|c| r.declare(c, LocalKind::ModifiesCond));
            modifies.push(Modifies {
                state: StateId(sid),
                cond,
                span: cx.span(m.state.1),
            });
        }
        let provides = s.provides.iter().filter_map(|e| r.expr(e)).collect();
        let requires = s.requires.iter().filter_map(|e| r.expr(e)).collect();
        let matches = s.matches.iter().filter_map(|e| r.expr(e)).collect();
        let failed = !r.diags.is_empty();
        cx.diags.append(&mut r.diags);
        if failed {
            continue;
        }
        term_info[tid.index()].spec = Some(Spec {
            locals: r.locals,
            params,
            result,
            provides,
            requires,
            matches,
            modifies,
            span: cx.span(s.pos),
        });
    }
}

/// Resolves `form`s and attaches `instantiate` signatures to terms.
pub(super) fn signatures(
    cx: &mut Ctx<'_>,
    resolver: &mut ModelResolver<'_>,
    term_info: &mut [TermInfo],
) {
    let mut form_sigs: HashMap<String, Vec<Signature>> = HashMap::new();
    for f in &cx.forms.forms {
        let sigs = f
            .signatures
            .iter()
            .filter_map(|s| resolve_sig(cx, resolver, s))
            .collect();
        if form_sigs.insert(f.name.0.clone(), sigs).is_some() {
            cx.diags.push(Diagnostic::new(
                format!("form `{}` is defined twice", f.name.0),
                cx.span(f.pos),
            ));
        }
    }
    let mut first: HashMap<usize, Pos> = HashMap::new();
    for inst in &cx.forms.instantiations {
        let Some(tid) = lookup_term(cx, &inst.term, "instantiation") else {
            continue;
        };
        // A second list would repeat or extend the first one silently
        // (and name instantiations `i32 #1`, `i32 #2`).
        if let Some(&prev) = first.get(&tid.index()) {
            cx.diags.push(
                Diagnostic::new(
                    format!("a second `instantiate` for `{}`", inst.term.0),
                    cx.span(inst.pos),
                )
                .with_secondary(cx.span(prev), "the first one")
                .with_note("give every signature of a term in one `instantiate` (or one `form`)"),
            );
            continue;
        }
        first.insert(tid.index(), inst.pos);
        let sigs = match &inst.form {
            Some(form) => match form_sigs.get(&form.0) {
                Some(s) => s.clone(),
                None => {
                    let mut d =
                        Diagnostic::new(format!("unknown form `{}`", form.0), cx.span(form.1));
                    if let Some(h) = did_you_mean(&form.0, form_sigs.keys().map(|k| k.as_str())) {
                        d = d.with_note(h);
                    }
                    cx.diags.push(d);
                    continue;
                }
            },
            None => inst
                .signatures
                .iter()
                .filter_map(|s| resolve_sig(cx, resolver, s))
                .collect(),
        };
        let arity = cx.terms.terms[tid.index()].arg_tys.len();
        for s in &sigs {
            if s.args.len() != arity {
                cx.diags.push(
                    Diagnostic::new(
                        format!(
                            "signature has {} argument types, but `{}` takes {arity}",
                            s.args.len(),
                            inst.term.0
                        ),
                        s.span,
                    )
                    .with_secondary(cx.span(inst.pos), "used by this instantiation"),
                );
            }
        }
        term_info[tid.index()].signatures.extend(sigs);
    }
}

/// Resolves one `((args ...) (ret ...))` signature.
fn resolve_sig(
    cx: &mut Ctx<'_>,
    resolver: &mut ModelResolver<'_>,
    sig: &ast::Signature,
) -> Option<Signature> {
    let at = ast::Ident(String::new(), sig.pos);
    let mut args = Vec::new();
    for a in &sig.args {
        match resolver.resolve(a, at.clone()) {
            Ok(t) => args.push(t),
            Err(d) => {
                cx.diags.push(d);
                return None;
            }
        }
    }
    match resolver.resolve(&sig.ret, at) {
        Ok(ret) => Some(Signature {
            args,
            ret,
            span: cx.span(sig.pos),
        }),
        Err(d) => {
            cx.diags.push(d);
            None
        }
    }
}
