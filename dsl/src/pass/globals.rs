//! Spec macros, state declarations and models of external constants.

use std::collections::HashMap;

use cranelift_isle::ast;
use loweq_semantics::expr::{Expr, ExprKind, LocalId, Spec, StateDecl};
use loweq_semantics::ty::ModelType;
use loweq_semantics::Literal;

use super::Ctx;
use crate::diag::Diagnostic;
use crate::model::ModelResolver;
use crate::program::ConstModel;
use crate::spec::{Globals, Resolver};

/// Macros by name; a second definition of a name is an error.
pub(super) fn macros<'a>(cx: &mut Ctx<'a>) -> HashMap<String, &'a ast::SpecMacro> {
    let mut macros: HashMap<String, &ast::SpecMacro> = HashMap::new();
    for m in &cx.forms.macros {
        if let Some(prev) = macros.insert(m.name.0.clone(), m) {
            cx.diags.push(
                Diagnostic::new(
                    format!("macro `{}` is defined twice", m.name.0),
                    cx.span(m.pos),
                )
                .with_secondary(cx.span(prev.pos), "first definition"),
            );
        }
    }
    macros
}

/// State names and their model types (specs and defaults may refer to any
/// state, so the names come first).
pub(super) fn state_types(
    cx: &mut Ctx<'_>,
    resolver: &mut ModelResolver<'_>,
) -> (HashMap<String, usize>, Vec<ModelType>) {
    let mut state_ids: HashMap<String, usize> = HashMap::new();
    let mut state_tys = Vec::new();
    for s in &cx.forms.states {
        if state_ids.contains_key(&s.name.0) {
            cx.diags.push(Diagnostic::new(
                format!("state `{}` is declared twice", s.name.0),
                cx.span(s.pos),
            ));
        }
        state_ids.insert(s.name.0.clone(), state_tys.len());
        let ty = resolver.resolve(&s.ty, s.name.clone()).unwrap_or_else(|d| {
            cx.diags.push(d);
            ModelType::Unspecified
        });
        state_tys.push(ty);
    }
    (state_ids, state_tys)
}

/// The declared states with their resolved defaults. A default may mention
/// only its own state: it is assumed in every rule where no term modifies
/// the state, so a default that mentioned another (`(not clif_trap)`) would
/// be an assumption about that state, made by a declaration no rule uses
/// (review 6).
pub(super) fn states(
    cx: &mut Ctx<'_>,
    globals: &Globals<'_>,
    resolver: &mut ModelResolver<'_>,
    state_tys: &[ModelType],
) -> Vec<StateDecl> {
    let mut states = Vec::new();
    for (i, (s, ty)) in cx.forms.states.iter().zip(state_tys).enumerate() {
        let mut r = Resolver::new(globals, resolver);
        let default = r.expr(&s.default);
        cx.diags.append(&mut r.diags);
        if let Some(e) = &default {
            if let Some(d) = default_mentions_other(cx, s, i, e) {
                cx.diags.push(d);
            }
        }
        let locals = r.locals;
        states.push(StateDecl {
            name: s.name.0.clone(),
            ty: ty.clone(),
            default: Spec {
                locals,
                params: Vec::new(),
                result: LocalId(usize::MAX),
                provides: default.into_iter().collect(),
                requires: Vec::new(),
                matches: Vec::new(),
                modifies: Vec::new(),
                span: cx.span(s.pos),
            },
            ordered: false,
            result_count: false,
            owner: None,
            span: cx.span(s.pos),
        });
    }
    states
}

/// The error for a default of the state numbered `own` that mentions
/// another state, if it does.
fn default_mentions_other(
    cx: &Ctx<'_>,
    s: &ast::State,
    own: usize,
    e: &Expr,
) -> Option<Diagnostic> {
    let mut other = None;
    e.walk(&mut |x| {
        if let ExprKind::State(id) = x.kind {
            if id.0 != own && other.is_none() {
                other = Some((id.0, x.span));
            }
        }
    });
    let (id, at) = other?;
    let name = &s.name.0;
    let other_name = cx.forms.states.get(id).map_or("?", |o| o.name.0.as_str());
    Some(
        Diagnostic::new(
            format!("the default of state `{name}` mentions state `{other_name}`"),
            at,
        )
        .with_secondary(cx.span(s.pos), "declared here")
        .with_note(format!(
            "a default is assumed in every rule where no term modifies `{name}`: mentioning `{other_name}` would make it an assumption about `{other_name}` (whether the IR or the machine trapped, say) that no term of the rule states; a default may mention only its own state"
        )),
    )
}

/// The tag that makes a state written in emission order (loweq's
/// extension of the spec language: `(attr x64_flags (tag emission_order))`;
/// see [`StateDecl::ordered`]).
pub const EMISSION_ORDER: &str = "emission_order";

/// The tag of the state that says how many results the instruction being
/// lowered has (`(attr clif_results (tag result_count))`; see
/// [`StateDecl::result_count`]).
pub const RESULT_COUNT: &str = "result_count";

/// Applies the tags `emission_order` and `result_count`
/// (`(attr NAME (tag emission_order))`) to the declared state `NAME` (a
/// name that is a term is the term's; `rules::attributes` reads those).
/// Any other attribute of a state is an error, and so is either tag given
/// outside the file that declares the state.
pub(super) fn state_attributes(cx: &mut Ctx<'_>, states: &mut [StateDecl]) {
    for a in &cx.forms.attrs {
        let ast::AttrTarget::Term(name) = &a.target else {
            continue;
        };
        if cx.terms.get_term_by_name(cx.types, name).is_some() {
            continue;
        }
        let Some(state) = states.iter_mut().find(|s| s.name == name.0) else {
            continue;
        };
        let at = cx.span(a.pos);
        for k in &a.kinds {
            let tag = match k {
                ast::AttrKind::Tag(t) if t.0 == EMISSION_ORDER || t.0 == RESULT_COUNT => &t.0,
                _ => {
                    cx.diags.push(
                        Diagnostic::new(
                            format!("attribute of state `{}` that loweq does not know", name.0),
                            at,
                        )
                        .with_note(format!(
                            "a state takes the attributes `(attr {0} (tag {EMISSION_ORDER}))`, written in emission order, and `(attr {0} (tag {RESULT_COUNT}))`, how many results the instruction being lowered has",
                            name.0
                        )),
                    );
                    continue;
                }
            };
            // Only where the state is declared: from another file (a rule's,
            // loaded with the shipped semantics) it would change what the
            // state means to every rule, as a trap read as "the last write
            // wins" (review 5).
            if at.file != state.span.file {
                cx.diags.push(
                    Diagnostic::new(
                        format!(
                            "`(attr {} (tag {tag}))`, but `{}` is declared in another file",
                            name.0, name.0
                        ),
                        at,
                    )
                    .with_secondary(state.span, "declared here")
                    .with_note(format!(
                        "what `{tag}` says is part of what the state means: say it in the file that declares it"
                    )),
                );
            } else if tag == RESULT_COUNT && state.ty != ModelType::Int {
                cx.diags.push(
                    Diagnostic::new(
                        format!(
                            "`(attr {} (tag {RESULT_COUNT}))` on a state that is not an `Int`",
                            name.0
                        ),
                        at,
                    )
                    .with_secondary(state.span, "declared here")
                    .with_note("a count of results is an `Int`: `(state NAME (type Int) ...)`"),
                );
            } else if tag == RESULT_COUNT {
                state.result_count = true;
            } else {
                state.ordered = true;
            }
        }
    }
}

/// Models of external constants (`(model $I8 (const 8))`), by name.
pub(super) fn consts(cx: &mut Ctx<'_>) -> HashMap<String, ConstModel> {
    let mut consts = HashMap::new();
    for m in &cx.forms.models {
        let ast::ModelValue::ConstValue(e) = &m.val else {
            continue;
        };
        let name = m.name.0.trim_start_matches('$').to_string();
        if !cx.forms.extern_consts.contains(&name) {
            cx.diags.push(
                Diagnostic::new(
                    format!("model for undeclared constant `${name}`"),
                    cx.span(m.name.1),
                )
                .with_note(format!("declare it with `(extern const ${name} <type>)`")),
            );
            continue;
        }
        let value = match e {
            ast::SpecExpr::ConstInt { val, .. } => Literal::Int(*val),
            ast::SpecExpr::ConstBool { val, .. } => Literal::Bool(*val),
            ast::SpecExpr::ConstBitVec { val, width, .. } if *width > 0 => Literal::Bv {
                value: *val,
                width: *width as u32,
            },
            other => {
                cx.diags.push(Diagnostic::new(
                    "a constant's model must be a literal",
                    cx.span(other.pos()),
                ));
                continue;
            }
        };
        consts.insert(
            name,
            ConstModel {
                value,
                span: cx.span(m.name.1),
            },
        );
    }
    consts
}
