//! The spec pass: joins the verification forms that cranelift-isle parses but
//! ignores (`spec`, `model`, `form`, `instantiate`, `state`, `macro`, `attr`)
//! to terms and rules, and checks them.

use std::collections::HashMap;

use cranelift_isle::ast::{self, Def};
use cranelift_isle::sema::{TermEnv, TermKind, TypeEnv};
use loweq_semantics::expr::{Local, LocalId, LocalKind, Modifies, Spec, StateDecl, StateId};
use loweq_semantics::graph::Graph;
use loweq_semantics::infer::{infer, Mode};
use loweq_semantics::span::SourceMap;
use loweq_semantics::ty::{EnumId, ModelType};
use loweq_semantics::Literal;

use crate::diag::{did_you_mean, Diagnostic};
use crate::load::pos_span;
use crate::model::{type_models, ModelResolver};
use crate::program::{ConstModel, Program, RuleInfo, Signature, TermInfo};
use crate::spec::{Globals, Resolver};

/// The verification forms of the input, grouped by kind.
#[derive(Default)]
struct Forms<'a> {
    models: Vec<&'a ast::Model>,
    states: Vec<&'a ast::State>,
    macros: Vec<&'a ast::SpecMacro>,
    specs: Vec<&'a ast::Spec>,
    forms: Vec<&'a ast::Form>,
    instantiations: Vec<&'a ast::Instantiation>,
    attrs: Vec<&'a ast::Attr>,
    extern_consts: Vec<String>,
    converters: Vec<String>,
}

fn collect(defs: &[Def]) -> Forms<'_> {
    let mut f = Forms::default();
    for d in defs {
        match d {
            Def::Model(m) => f.models.push(m),
            Def::State(s) => f.states.push(s),
            Def::SpecMacro(m) => f.macros.push(m),
            Def::Spec(s) => f.specs.push(s),
            Def::Form(x) => f.forms.push(x),
            Def::Instantiation(i) => f.instantiations.push(i),
            Def::Attr(a) => f.attrs.push(a),
            Def::Extern(ast::Extern::Const { name, .. }) => f.extern_consts.push(name.0.clone()),
            Def::Converter(c) => f.converters.push(c.term.0.clone()),
            _ => {}
        }
    }
    f
}

/// Runs the spec pass over analyzed ISLE.
pub fn spec_pass(
    sources: SourceMap,
    defs: &[Def],
    types: TypeEnv,
    terms: TermEnv,
) -> Result<Program, Vec<Diagnostic>> {
    let forms = collect(defs);
    let mut diags = Vec::new();
    let span = |pos| pos_span(&sources, pos);

    // Models of ISLE types, and the enums they define.
    let tm = type_models(&types, &sources, &forms.models, &mut diags);
    let mut models = tm.models;
    let mut enums = tm.enums;
    let mut enum_names: HashMap<String, EnumId> = HashMap::new();
    for m in models.iter().flatten() {
        if let ModelType::Enum(id) = m {
            enum_names.insert(enums.get(*id).name.clone(), *id);
        }
    }
    let explicit = HashMap::new();
    let mut resolver = ModelResolver {
        types: &types,
        sources: &sources,
        explicit: &explicit,
        models: &mut models,
        enums: &mut enums,
        in_progress: Vec::new(),
    };

    // Macros.
    let mut macros: HashMap<String, &ast::SpecMacro> = HashMap::new();
    for m in &forms.macros {
        if let Some(prev) = macros.insert(m.name.0.clone(), m) {
            diags.push(
                Diagnostic::new(
                    format!("macro `{}` is defined twice", m.name.0),
                    span(m.pos),
                )
                .with_secondary(span(prev.pos), "first definition"),
            );
        }
    }

    // State names first (specs and defaults may refer to any state).
    let mut state_ids: HashMap<String, usize> = HashMap::new();
    let mut state_tys = Vec::new();
    for s in &forms.states {
        if state_ids.contains_key(&s.name.0) {
            diags.push(Diagnostic::new(
                format!("state `{}` is declared twice", s.name.0),
                span(s.pos),
            ));
        }
        state_ids.insert(s.name.0.clone(), state_tys.len());
        let ty = resolver.resolve(&s.ty, s.name.clone()).unwrap_or_else(|d| {
            diags.push(d);
            ModelType::Unspecified
        });
        state_tys.push(ty);
    }
    let enums_snapshot = resolver.enums.clone();
    let globals = Globals {
        sources: &sources,
        enums: &enums_snapshot,
        enum_names: &enum_names,
        states: &state_ids,
        macros: &macros,
    };

    let mut states = Vec::new();
    for (s, ty) in forms.states.iter().zip(&state_tys) {
        let mut r = Resolver::new(&globals, &mut resolver);
        let default = r.expr(&s.default);
        diags.append(&mut r.diags);
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
                span: span(s.pos),
            },
            span: span(s.pos),
        });
    }

    // Constant models.
    let mut consts = HashMap::new();
    for m in &forms.models {
        let ast::ModelValue::ConstValue(e) = &m.val else {
            continue;
        };
        let name = m.name.0.trim_start_matches('$').to_string();
        if !forms.extern_consts.contains(&name) {
            diags.push(
                Diagnostic::new(
                    format!("model for undeclared constant `${name}`"),
                    span(m.name.1),
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
                diags.push(Diagnostic::new(
                    "a constant's model must be a literal",
                    span(other.pos()),
                ));
                continue;
            }
        };
        consts.insert(
            name,
            ConstModel {
                value,
                span: span(m.name.1),
            },
        );
    }

    // Terms.
    let mut term_info: Vec<TermInfo> = terms
        .terms
        .iter()
        .map(|t| {
            let name = types.syms[t.name.index()].clone();
            TermInfo {
                converter: forms.converters.contains(&name),
                name,
                span: span(t.decl_pos),
                ..TermInfo::default()
            }
        })
        .collect();
    let term_names: Vec<String> = term_info.iter().map(|t| t.name.clone()).collect();
    let lookup_term = |ident: &ast::Ident, what: &str, diags: &mut Vec<Diagnostic>| {
        let found = terms.get_term_by_name(&types, ident);
        if found.is_none() {
            let mut d = Diagnostic::new(
                format!("{what} for undeclared term `{}`", ident.0),
                span(ident.1),
            );
            if let Some(h) = did_you_mean(&ident.0, term_names.iter().map(|s| s.as_str())) {
                d = d.with_note(h);
            }
            diags.push(d);
        }
        found
    };

    // Specs.
    for s in &forms.specs {
        let Some(tid) = lookup_term(&s.term, "spec", &mut diags) else {
            continue;
        };
        let term = &terms.terms[tid.index()];
        if s.args.len() != term.arg_tys.len() {
            diags.push(
                Diagnostic::new(
                    format!(
                        "spec of `{}` has {} parameters, but the term takes {}",
                        s.term.0,
                        s.args.len(),
                        term.arg_tys.len()
                    ),
                    span(s.pos),
                )
                .with_secondary(term_info[tid.index()].span, "term declared here"),
            );
            continue;
        }
        if term_info[tid.index()].spec.is_some() {
            diags.push(Diagnostic::new(
                format!("term `{}` has two specs", s.term.0),
                span(s.pos),
            ));
            continue;
        }
        let mut r = Resolver::new(&globals, &mut resolver);
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
                    Diagnostic::new(format!("unknown state `{}`", m.state.0), span(m.state.1));
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
                span: span(m.state.1),
            });
        }
        let provides = s.provides.iter().filter_map(|e| r.expr(e)).collect();
        let requires = s.requires.iter().filter_map(|e| r.expr(e)).collect();
        let matches = s.matches.iter().filter_map(|e| r.expr(e)).collect();
        let failed = !r.diags.is_empty();
        diags.append(&mut r.diags);
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
            span: span(s.pos),
        });
    }

    // Forms and instantiations.
    let mut resolve_sig =
        |sig: &ast::Signature, diags: &mut Vec<Diagnostic>| -> Option<Signature> {
            let at = ast::Ident(String::new(), sig.pos);
            let mut args = Vec::new();
            for a in &sig.args {
                match resolver.resolve(a, at.clone()) {
                    Ok(t) => args.push(t),
                    Err(d) => {
                        diags.push(d);
                        return None;
                    }
                }
            }
            let ret = resolver
                .resolve(&sig.ret, at)
                .map_err(|d| diags.push(d))
                .ok()?;
            Some(Signature {
                args,
                ret,
                span: span(sig.pos),
            })
        };
    let mut form_sigs: HashMap<String, Vec<Signature>> = HashMap::new();
    for f in &forms.forms {
        let sigs = f
            .signatures
            .iter()
            .filter_map(|s| resolve_sig(s, &mut diags))
            .collect();
        if form_sigs.insert(f.name.0.clone(), sigs).is_some() {
            diags.push(Diagnostic::new(
                format!("form `{}` is defined twice", f.name.0),
                span(f.pos),
            ));
        }
    }
    for inst in &forms.instantiations {
        let Some(tid) = lookup_term(&inst.term, "instantiation", &mut diags) else {
            continue;
        };
        let sigs = match &inst.form {
            Some(form) => match form_sigs.get(&form.0) {
                Some(s) => s.clone(),
                None => {
                    let mut d = Diagnostic::new(format!("unknown form `{}`", form.0), span(form.1));
                    if let Some(h) = did_you_mean(&form.0, form_sigs.keys().map(|k| k.as_str())) {
                        d = d.with_note(h);
                    }
                    diags.push(d);
                    continue;
                }
            },
            None => inst
                .signatures
                .iter()
                .filter_map(|s| resolve_sig(s, &mut diags))
                .collect(),
        };
        let arity = terms.terms[tid.index()].arg_tys.len();
        for s in &sigs {
            if s.args.len() != arity {
                diags.push(
                    Diagnostic::new(
                        format!(
                            "signature has {} argument types, but `{}` takes {arity}",
                            s.args.len(),
                            inst.term.0
                        ),
                        s.span,
                    )
                    .with_secondary(span(inst.pos), "used by this instantiation"),
                );
            }
        }
        term_info[tid.index()].signatures.extend(sigs);
    }

    // Rules.
    let mut rule_info: Vec<RuleInfo> = terms
        .rules
        .iter()
        .map(|r| {
            let rspan = rule_span(&sources, r.pos);
            let (name, named) = match r.name {
                Some(sym) => (types.syms[sym.index()].clone(), true),
                None => {
                    let file = sources.file(rspan.file);
                    let (line, _) = file.line_col(rspan.start);
                    let base = file.name.rsplit('/').next().unwrap_or(&file.name);
                    (
                        format!(
                            "{}@{base}:{line}",
                            types.syms[terms.terms[r.root_term.index()].name.index()]
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
        .collect();

    // Attributes.
    for a in &forms.attrs {
        match &a.target {
            ast::AttrTarget::Term(name) => {
                let Some(tid) = lookup_term(name, "attribute", &mut diags) else {
                    continue;
                };
                for k in &a.kinds {
                    match k {
                        ast::AttrKind::Chain => {
                            let has_rules = terms.rules.iter().any(|r| r.root_term == tid);
                            let internal = matches!(
                                terms.terms[tid.index()].kind,
                                TermKind::Decl { constructor_kind: Some(cranelift_isle::sema::ConstructorKind::InternalConstructor), .. }
                            );
                            if !internal || !has_rules {
                                diags.push(
                                    Diagnostic::new(
                                        format!("`(veri chain)` on `{}`, which has no rules to chain through", name.0),
                                        span(a.pos),
                                    )
                                    .with_note("chaining inlines an internal constructor's rules into the rules that call it"),
                                );
                            }
                            term_info[tid.index()].chain = true;
                        }
                        ast::AttrKind::Priority => diags.push(Diagnostic::new(
                            "`(veri priority)` applies to rules: write `(attr rule NAME (veri priority))`",
                            span(a.pos),
                        )),
                        ast::AttrKind::Tag(t) => term_info[tid.index()].tags.push(t.0.clone()),
                    }
                }
            }
            ast::AttrTarget::Rule(name) => {
                let found = terms.get_rule_by_name(&types, name);
                let Some(rid) = found else {
                    let mut d = Diagnostic::new(
                        format!("attribute for unknown rule `{}`", name.0),
                        span(name.1),
                    );
                    let names = rule_info
                        .iter()
                        .filter(|r| r.named)
                        .map(|r| r.name.as_str());
                    if let Some(h) = did_you_mean(&name.0, names) {
                        d = d.with_note(h);
                    }
                    diags.push(d);
                    continue;
                };
                for k in &a.kinds {
                    match k {
                        ast::AttrKind::Priority => rule_info[rid.index()].priority = true,
                        ast::AttrKind::Tag(t) => rule_info[rid.index()].tags.push(t.0.clone()),
                        ast::AttrKind::Chain => diags.push(Diagnostic::new(
                            "`(veri chain)` applies to terms: write `(attr TERM (veri chain))`",
                            span(a.pos),
                        )),
                    }
                }
            }
        }
    }

    drop(resolver);
    let program = Program {
        sources,
        types,
        terms,
        type_models: models,
        enums,
        term_info,
        rule_info,
        states,
        consts,
    };
    if diags.is_empty() {
        check_types(&program, &mut diags);
    }
    if diags.is_empty() {
        Ok(program)
    } else {
        Err(diags)
    }
}

/// The span of a whole `(rule ...)` form, from the position cranelift-isle
/// records (the token after `rule`).
pub fn rule_span(
    sources: &SourceMap,
    pos: cranelift_isle::lexer::Pos,
) -> loweq_semantics::span::Span {
    if pos.file >= sources.len() {
        return loweq_semantics::span::Span::default();
    }
    let file = loweq_semantics::span::FileId(pos.file);
    let start = sources.file(file).form_start(pos.offset);
    sources.form_span(file, start)
}

/// Type-checks every spec and state default on its own, with parameter
/// widths left open: conflicts found here are wrong at every width.
fn check_types(p: &Program, diags: &mut Vec<Diagnostic>) {
    for (tid, info) in p.term_info.iter().enumerate() {
        let Some(spec) = &info.spec else { continue };
        let term = &p.terms.terms[tid];
        let mut graph = Graph::new();
        let states: Vec<_> = p
            .states
            .iter()
            .map(|s| graph.var(s.name.clone(), Some(s.ty.clone()), s.span))
            .collect();
        let mut bindings: Vec<Option<_>> = vec![None; spec.locals.len()];
        let mut missing = Vec::new();
        for (i, &l) in spec.params.iter().enumerate() {
            let ty = p.model(term.arg_tys[i]).cloned();
            if ty.is_none() {
                missing.push(term.arg_tys[i]);
            }
            bindings[l.0] = Some(graph.var(local_name(&spec.locals, l), ty, spec.locals[l.0].span));
        }
        let ret = p.model(term.ret_ty).cloned();
        if ret.is_none() {
            missing.push(term.ret_ty);
        }
        bindings[spec.result.0] = Some(graph.var("result", ret, spec.span));
        if let Some(&ty) = missing.first() {
            diags.push(
                Diagnostic::new(
                    format!(
                        "spec of `{}` uses type `{}`, which has no model",
                        info.name,
                        p.type_name(ty)
                    ),
                    spec.span,
                )
                .with_note(format!("add `(model {} (type ...))`", p.type_name(ty))),
            );
            continue;
        }
        let inst = graph.instantiate(spec, &bindings, &states, &info.name);
        let mut roots: Vec<_> = inst.provides.clone();
        roots.extend(&inst.requires);
        roots.extend(&inst.matches);
        roots.extend(inst.modifies.iter().map(|(_, c)| *c));
        if let Err(e) = infer(
            &graph,
            &p.enums,
            &roots,
            &[],
            &bool_roots(&inst),
            Mode::Generic,
        ) {
            diags.push(Diagnostic::new(
                format!("type error in spec of `{}`: {}", info.name, e.message),
                e.span,
            ));
        }
    }
    for s in &p.states {
        let mut graph = Graph::new();
        let states: Vec<_> = p
            .states
            .iter()
            .map(|s| graph.var(s.name.clone(), Some(s.ty.clone()), s.span))
            .collect();
        let roots: Vec<_> = s
            .default
            .provides
            .iter()
            .map(|e| graph.instantiate_expr(&s.default, e, &[], &states, &s.name))
            .collect();
        let required: Vec<_> = roots.iter().map(|&r| (r, ModelType::Bool)).collect();
        if let Err(e) = infer(&graph, &p.enums, &roots, &[], &required, Mode::Generic) {
            diags.push(Diagnostic::new(
                format!(
                    "type error in the default of state `{}`: {}",
                    s.name, e.message
                ),
                e.span,
            ));
        }
    }
}

fn bool_roots(
    inst: &loweq_semantics::graph::SpecInstance,
) -> Vec<(loweq_semantics::graph::NodeId, ModelType)> {
    inst.provides
        .iter()
        .chain(&inst.requires)
        .chain(&inst.matches)
        .chain(inst.modifies.iter().map(|(_, c)| c))
        .map(|&n| (n, ModelType::Bool))
        .collect()
}

fn local_name(locals: &[Local], l: LocalId) -> String {
    locals[l.0].name.clone()
}
