//! The spec pass: joins the verification forms that cranelift-isle parses but
//! ignores (`spec`, `model`, `form`, `instantiate`, `state`, `macro`, `attr`)
//! to terms and rules, and checks them.
//!
//! The steps, in order: models of ISLE types (`crate::model`), macros, state
//! and constant models (`globals`), term specs and signatures (`terms`), the
//! side of a rule each state belongs to (`owners`), rule names and
//! attributes (`rules`), and last a type check of every spec on its own
//! (`check`).

mod check;
mod globals;
mod macros;
mod owners;
mod rules;
mod terms;

use std::collections::HashMap;

use cranelift_isle::ast::{self, Def};
use cranelift_isle::lexer::Pos;
use cranelift_isle::sema::{TermEnv, TypeEnv};

use crate::load::Analysis;
use loweq_semantics::span::{FileId, SourceMap, Span};
use loweq_semantics::ty::{EnumId, ModelType};

use crate::diag::Diagnostic;
use crate::load::pos_span;
use crate::model::{type_models, ModelResolver};
use crate::program::Program;
use crate::spec::Globals;

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

/// What every step reads, and where problems go.
struct Ctx<'a> {
    sources: &'a SourceMap,
    types: &'a TypeEnv,
    terms: &'a TermEnv,
    forms: &'a Forms<'a>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn span(&self, pos: Pos) -> Span {
        pos_span(self.sources, pos)
    }
}

/// Runs the spec pass over analyzed ISLE.
pub fn spec_pass(
    sources: SourceMap,
    defs: &[Def],
    analysis: Analysis,
) -> Result<Program, Vec<Diagnostic>> {
    let Analysis {
        types,
        terms,
        mut templates,
        overlaps,
    } = analysis;
    let forms = collect(defs);
    let mut cx = Ctx {
        sources: &sources,
        types: &types,
        terms: &terms,
        forms: &forms,
        diags: Vec::new(),
    };
    let tm = type_models(&types, &sources, &forms.models, &mut cx.diags);
    let (mut models, mut enums) = (tm.models, tm.enums);
    let enum_names: HashMap<String, EnumId> = models
        .iter()
        .flatten()
        .filter_map(|m| match m {
            ModelType::Enum(id) => Some((enums.get(*id).name.clone(), *id)),
            _ => None,
        })
        .collect();
    let explicit = HashMap::new();
    let mut resolver = ModelResolver {
        types: &types,
        sources: &sources,
        explicit: &explicit,
        models: &mut models,
        enums: &mut enums,
        in_progress: Vec::new(),
    };
    let macros = globals::macros(&mut cx);
    let (state_ids, state_tys) = globals::state_types(&mut cx, &mut resolver);
    let enums_snapshot = resolver.enums.clone();
    let globals = Globals {
        sources: &sources,
        enums: &enums_snapshot,
        enum_names: &enum_names,
        states: &state_ids,
        macros: &macros,
    };
    let mut states = globals::states(&mut cx, &globals, &mut resolver, &state_tys);
    globals::state_attributes(&mut cx, &mut states);
    let consts = globals::consts(&mut cx);
    let mut term_info = terms::term_infos(&cx);
    terms::specs(&mut cx, &globals, &mut resolver, &mut term_info);
    terms::signatures(&mut cx, &mut resolver, &mut term_info);
    owners::state_owners(&terms, &term_info, &mut states, &mut cx.diags);
    for (tid, template) in templates.drain() {
        let obligation =
            term_info[tid.index()].spec.is_some() && uses_specified(&template.pattern, &term_info);
        let info = &mut term_info[tid.index()];
        info.template = Some(template);
        info.obligation = obligation;
    }
    macros::check(&sources, &types, &terms, &term_info, &mut cx.diags);
    let mut rule_info = rules::rule_infos(&cx);
    for (low, high) in overlaps {
        rule_info[low.index()].overlapped_by.push(high);
    }
    rules::attributes(&mut cx, &mut term_info, &mut rule_info, &states);
    let mut diags = cx.diags;
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
        check::check_types(&program, &mut diags);
    }
    if diags.is_empty() {
        Ok(program)
    } else {
        Err(diags)
    }
}

/// Whether a pattern applies a term that has a spec, other than an
/// implicit conversion (`def_inst` between two instructions, which says
/// nothing of the values).
fn uses_specified(p: &cranelift_isle::sema::Pattern, info: &[crate::TermInfo]) -> bool {
    use cranelift_isle::sema::Pattern;
    match p {
        Pattern::Term(_, tid, args) => {
            let t = &info[tid.index()];
            (t.spec.is_some() && !t.converter) || args.iter().any(|a| uses_specified(a, info))
        }
        Pattern::BindPattern(_, _, sub) => uses_specified(sub, info),
        Pattern::And(_, subs) => subs.iter().any(|a| uses_specified(a, info)),
        _ => false,
    }
}

/// The span of a whole `(rule ...)` form, from the position cranelift-isle
/// records (the token after `rule`).
pub fn rule_span(sources: &SourceMap, pos: Pos) -> Span {
    if pos.file >= sources.len() {
        return Span::default();
    }
    let file = FileId(pos.file);
    let start = sources.file(file).form_start(pos.offset);
    sources.form_span(file, start)
}
