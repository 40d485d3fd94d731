//! What the spec pass knows about rules (names, places) and the attributes
//! of terms and rules.

use cranelift_isle::ast;
use cranelift_isle::sema::TermKind;

use super::terms::lookup_term;
use super::{rule_span, Ctx};
use crate::diag::{did_you_mean, Diagnostic};
use crate::program::{RuleInfo, TermInfo};

/// A name and place per rule; unnamed rules are named `root@file:line`.
pub(super) fn rule_infos(cx: &Ctx<'_>) -> Vec<RuleInfo> {
    cx.terms
        .rules
        .iter()
        .map(|r| {
            let rspan = rule_span(cx.sources, r.pos);
            let (name, named) = match r.name {
                Some(sym) => (cx.types.syms[sym.index()].clone(), true),
                None => {
                    let file = cx.sources.file(rspan.file);
                    let (line, _) = file.line_col(rspan.start);
                    let base = file.name.rsplit('/').next().unwrap_or(&file.name);
                    (
                        format!(
                            "{}@{base}:{line}",
                            cx.types.syms[cx.terms.terms[r.root_term.index()].name.index()]
                        ),
                        false,
                    )
                }
            };
            RuleInfo {
                name,
                named,
                span: rspan,
                ..RuleInfo::default()
            }
        })
        .collect()
}

/// Applies `(attr ...)` forms to terms and rules.
pub(super) fn attributes(
    cx: &mut Ctx<'_>,
    term_info: &mut [TermInfo],
    rule_info: &mut [RuleInfo],
    states: &[loweq_semantics::expr::StateDecl],
) {
    for a in &cx.forms.attrs {
        match &a.target {
            ast::AttrTarget::Term(name) => {
                let is_term = cx.terms.get_term_by_name(cx.types, name).is_some();
                if !is_term && states.iter().any(|s| s.name == name.0) {
                    // `globals::state_attributes` reads it.
                    continue;
                }
                let Some(tid) = lookup_term(cx, name, "attribute") else {
                    continue;
                };
                for k in &a.kinds {
                    match k {
                        ast::AttrKind::Chain => {
                            let has_rules = cx.terms.rules.iter().any(|r| r.root_term == tid);
                            let internal = matches!(
                                cx.terms.terms[tid.index()].kind,
                                TermKind::Decl { constructor_kind: Some(cranelift_isle::sema::ConstructorKind::InternalConstructor), .. }
                            );
                            if !internal || !has_rules {
                                cx.diags.push(
                                    Diagnostic::new(
                                        format!("`(veri chain)` on `{}`, which has no rules to chain through", name.0),
                                        cx.span(a.pos),
                                    )
                                    .with_note("chaining inlines an internal constructor's rules into the rules that call it"),
                                );
                            }
                            term_info[tid.index()].chain = true;
                        }
                        ast::AttrKind::Priority => cx.diags.push(Diagnostic::new(
                            "`(veri priority)` applies to rules: write `(attr rule NAME (veri priority))`",
                            cx.span(a.pos),
                        )),
                        ast::AttrKind::Tag(t) if trusted_tag(&t.0).is_some() => {
                            let (constructor, note) = trusted_tag(&t.0).expect("guarded");
                            let at = cx.span(a.pos);
                            let info = &mut term_info[tid.index()];
                            let kind = &cx.terms.terms[tid.index()].kind;
                            let external = if constructor {
                                matches!(kind, TermKind::Decl { constructor_kind: Some(cranelift_isle::sema::ConstructorKind::ExternalConstructor { .. }), .. })
                            } else {
                                matches!(kind, TermKind::Decl { extractor_kind: Some(cranelift_isle::sema::ExtractorKind::ExternalExtractor { .. }), .. })
                            };
                            // A claim about an external term's
                            // implementation, made where it is declared:
                            // from another file (a rule's) it would change
                            // what a shipped term means (review 5).
                            if !external || at.file != info.span.file {
                                cx.diags.push(
                                    Diagnostic::new(
                                        format!(
                                            "`(attr {} (tag {}))` on a term that is not an external {} declared in this file",
                                            name.0,
                                            t.0,
                                            if constructor { "constructor" } else { "extractor" }
                                        ),
                                        at,
                                    )
                                    .with_secondary(info.span, "declared here")
                                    .with_note(note),
                                );
                            } else {
                                info.tags.push(t.0.clone());
                            }
                        }
                        ast::AttrKind::Tag(t) => term_info[tid.index()].tags.push(t.0.clone()),
                    }
                }
            }
            ast::AttrTarget::Rule(name) => {
                let found = cx.terms.get_rule_by_name(cx.types, name);
                let Some(rid) = found else {
                    let mut d = Diagnostic::new(
                        format!("attribute for unknown rule `{}`", name.0),
                        cx.span(name.1),
                    );
                    let names = rule_info
                        .iter()
                        .filter(|r| r.named)
                        .map(|r| r.name.as_str());
                    if let Some(h) = did_you_mean(&name.0, names) {
                        d = d.with_note(h);
                    }
                    cx.diags.push(d);
                    continue;
                };
                for k in &a.kinds {
                    match k {
                        ast::AttrKind::Priority => rule_info[rid.index()].priority = true,
                        ast::AttrKind::Tag(t) => rule_info[rid.index()].tags.push(t.0.clone()),
                        ast::AttrKind::Chain => cx.diags.push(Diagnostic::new(
                            "`(veri chain)` applies to terms: write `(attr TERM (veri chain))`",
                            cx.span(a.pos),
                        )),
                    }
                }
            }
        }
    }
}

/// For a tag that is a claim about an external term's implementation:
/// whether it is one of a constructor (else of an extractor), and what it
/// says. Such a tag is accepted only in the file that declares the term.
fn trusted_tag(tag: &str) -> Option<(bool, &'static str)> {
    use crate::program::{DESCRIBES_INSTRUCTION, SAME_ENTITY, SHARED_RESULT};
    match tag {
        SHARED_RESULT => Some((true, "the tag says the implementation returns one result for one IR value however often it is called (`put_in_reg`: the value's register); say it in the file that declares the external constructor")),
        SAME_ENTITY => Some((false, "the tag says the extractor yields the IR entity its input is (`def_inst`: a value's defining instruction), not merely one with an equal value; say it in the file that declares the external extractor")),
        DESCRIBES_INSTRUCTION => Some((false, "the tag says the extractor matches only instructions whose effects on the IR's states (a trap, several results, a memory access) its spec declares, so that where it declares none there are none; say it in the file that declares the external extractor")),
        _ => None,
    }
}
