//! A type check of every spec and state default on its own, before any rule
//! is instantiated.

use loweq_semantics::expr::{Local, LocalId};
use loweq_semantics::graph::{Graph, NodeId, SpecInstance};
use loweq_semantics::infer::{infer, Mode};
use loweq_semantics::ty::ModelType;

use crate::diag::Diagnostic;
use crate::program::Program;

/// Type-checks every spec and state default on its own, with parameter
/// widths left open: conflicts found here are wrong at every width.
pub(super) fn check_types(p: &Program, diags: &mut Vec<Diagnostic>) {
    for (tid, info) in p.term_info.iter().enumerate() {
        let Some(spec) = &info.spec else { continue };
        let term = &p.terms.terms[tid];
        let mut graph = Graph::new();
        let states = state_vars(p, &mut graph);
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
        let states = state_vars(p, &mut graph);
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

fn bool_roots(inst: &SpecInstance) -> Vec<(NodeId, ModelType)> {
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

/// A variable per declared state, in declaration order.
fn state_vars(p: &Program, graph: &mut Graph) -> Vec<NodeId> {
    p.states
        .iter()
        .map(|s| graph.var(s.name.clone(), Some(s.ty.clone()), s.span))
        .collect()
}
