//! A mapping table's entries checked against the program's terms, specs
//! and states, and expanded into one [`Job`] per variant; the table's
//! flags register checked.

use std::collections::BTreeMap;

use loweq_dsl::Program;
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::Value;

use super::{zero, AccessKind, Effect, Job, KeptFlags, Output, Param, PlanError};
use crate::isa::Isa;
use crate::map::{Inst, Table};
use crate::template::Template;

/// The table's flags register (`flags_state`) with the bits of its
/// fields, or `None` when the table names none; an error when it is not a
/// state of the program, or not a struct of Bools that `[flags]` places.
pub fn flags_state(program: &Program, table: &Table) -> Result<Option<KeptFlags>, String> {
    let Some(name) = &table.flags_state else {
        return Ok(None);
    };
    let state = program
        .states
        .iter()
        .find(|s| &s.name == name)
        .ok_or_else(|| format!("`flags_state` `{name}` is not a state the specs declare"))?;
    let bits = flag_bits(table, &state.ty, &format!("`flags_state` `{name}`"), &|m| {
        PlanError {
            file: String::new(),
            line: 0,
            term: name.clone(),
            message: m,
        }
    })
    .map_err(|e| e.message)?;
    Ok(Some(KeptFlags {
        state: name.clone(),
        bits,
    }))
}

/// The fields a memory state must have (docs/memory.md).
const EFFECT_FIELDS: [&str; 4] = ["active", "addr", "bits", "value"];

/// Whether `model` has the shape of a memory state.
fn effect_shaped(model: &ModelType) -> bool {
    let ModelType::Struct(fields) = model else {
        return false;
    };
    let mut names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names == EFFECT_FIELDS
        && fields.iter().all(|(n, t)| match n.as_str() {
            "active" => *t == ModelType::Bool,
            "bits" => matches!(t, ModelType::BitVec(Some(w)) if *w >= 7),
            _ => *t == ModelType::BitVec(Some(64)),
        })
}

/// The fields of a flags struct, each with its machine bit.
fn flag_bits(
    table: &Table,
    model: &ModelType,
    what: &str,
    err: &dyn Fn(String) -> PlanError,
) -> Result<Vec<(String, u32)>, PlanError> {
    let ModelType::Struct(fields) = model else {
        return Err(err(format!("{what} is not a flags struct")));
    };
    let mut out = Vec::new();
    for (f, t) in fields {
        let bit = table
            .flags
            .get(f)
            .copied()
            .filter(|_| *t == ModelType::Bool);
        let bit = bit.ok_or_else(|| {
            err(format!(
                "{what}: field `{f}` is not a Bool that the table's `flags` place"
            ))
        })?;
        out.push((f.clone(), bit));
    }
    out.sort();
    Ok(out)
}

/// One choice for an enum parameter: the variant's name and how the
/// parameter is given at it.
type Choice = (String, Param, Option<BTreeMap<String, String>>);

/// How a register or immediate operand at `path` of model `model` is
/// given: a register if the table names it in `regs` (the width is
/// settled once the code is known), else an immediate.
fn operand(
    inst: &Inst,
    regs: &[String],
    path: &str,
    model: &ModelType,
    program: &Program,
    err: &dyn Fn(String) -> PlanError,
) -> Result<Param, PlanError> {
    if let Some(r) = inst.regs.get(path) {
        if *model != ModelType::BitVec(Some(64)) {
            return Err(err(format!(
                "register operand `{path}` is {}, not (bv 64)",
                model.display(&program.enums)
            )));
        }
        return Ok(Param::Reg {
            reg: regs.iter().position(|x| x == r).expect("added before"),
            width: 64,
        });
    }
    if zero(model).is_none() {
        return Err(err(format!(
            "`{path}` is {}: name it in `regs`, or it is an immediate, which must be a \
             bitvector, a Bool or a struct of them",
            model.display(&program.enums)
        )));
    }
    Ok(Param::Imm {
        ty: model.clone(),
        values: inst.values.get(path).cloned(),
    })
}

/// Expands one entry.
fn expand(
    program: &Program,
    table: &Table,
    isa: Isa,
    inst: &Inst,
    kept: Option<&KeptFlags>,
    err: &dyn Fn(String) -> PlanError,
) -> Result<Vec<Job>, PlanError> {
    let term = inst.term.get_ref();
    let tid = program
        .term_by_name(term)
        .ok_or_else(|| err("no such term".into()))?;
    let spec = program
        .term(tid)
        .spec
        .as_ref()
        .ok_or_else(|| err("the term has no spec".into()))?;
    let decl = &program.terms.terms[tid.index()];
    let names: Vec<String> = spec
        .params
        .iter()
        .map(|l| spec.locals[l.0].name.clone())
        .collect();
    // Per parameter: its model.
    let mut models = Vec::new();
    for (i, &ty) in decl.arg_tys.iter().enumerate() {
        let model = program.model(ty).cloned().ok_or_else(|| {
            err(format!(
                "parameter `{}` has type `{}`, which has no model",
                names[i],
                program.type_name(ty)
            ))
        })?;
        models.push(model);
    }
    // The paths operands may have: parameters, and fields of enum
    // parameters' variants.
    let mut paths: Vec<String> = names.clone();
    for (n, m) in names.iter().zip(&models) {
        if let ModelType::Enum(id) = m {
            for v in &program.enums.get(*id).variants {
                for (f, _) in &v.fields {
                    let p = format!("{n}.{f}");
                    if !paths.contains(&p) {
                        paths.push(p);
                    }
                }
            }
        }
    }
    for k in inst
        .regs
        .keys()
        .chain(inst.variants.keys())
        .chain(inst.values.keys())
        .chain(inst.address.iter())
    {
        if !paths.contains(k) {
            return Err(err(format!(
                "`{k}` is not a parameter or a field of one (they are {})",
                paths.join(", ")
            )));
        }
    }
    for k in inst.regs.keys() {
        if let Some(i) = names.iter().position(|n| n == k) {
            if matches!(models[i], ModelType::Enum(_)) {
                return Err(err(format!(
                    "`{k}` is an enum: its variant is chosen per job, its fields may be registers"
                )));
            }
        }
    }
    let mut regs: Vec<String> = Vec::new();
    let result_reg = inst.result.as_ref().filter(|r| *r != "flags");
    for r in inst.regs.values().chain(result_reg) {
        if isa.register(r, 64).as_deref() != Some(r.as_str()) {
            return Err(err(format!(
                "`{r}` is not a 64-bit {} register name",
                isa.name()
            )));
        }
        if !regs.contains(r) {
            regs.push(r.clone());
        }
    }
    // The memory states the spec modifies.
    let mut effects = Vec::new();
    for m in &spec.modifies {
        let state = &program.states[m.state.0];
        let kind = table.memory.as_ref().and_then(|t| {
            if t.load.as_ref() == Some(&state.name) {
                Some(AccessKind::Load)
            } else if t.store.as_ref() == Some(&state.name) {
                Some(AccessKind::Store)
            } else {
                None
            }
        });
        let Some(kind) = kind else { continue };
        if !effect_shaped(&state.ty) {
            return Err(err(format!(
                "memory state `{}` is {}, not a struct of `active` (Bool), `addr` (bv 64), \
                 `bits` and `value` (bv 64)",
                state.name,
                state.ty.display(&program.enums)
            )));
        }
        if !effects.iter().any(|e: &Effect| e.state == state.name) {
            effects.push(Effect {
                state: state.name.clone(),
                kind,
            });
        }
    }
    // Without `(modifies <flags register>)` the spec says the flags are
    // left as they were (whatever else it modifies).
    let keeps_flags = kept
        .filter(|k| {
            !spec
                .modifies
                .iter()
                .any(|m| program.states[m.state.0].name == k.state)
        })
        .cloned();
    let result = match inst.result.as_deref() {
        Some("flags") => {
            let model = program
                .model(decl.ret_ty)
                .cloned()
                .ok_or_else(|| err("the result's type has no model".into()))?;
            Output::Flags(flag_bits(table, &model, "the result", err)?)
        }
        Some(r) => Output::Reg(regs.iter().position(|x| x == r).expect("added above")),
        None => {
            if program.model(decl.ret_ty) != Some(&ModelType::Unit) || effects.is_empty() {
                return Err(err(
                    "no `result`: only an instruction whose result is Unit and that \
                     accesses memory (a store) has none"
                        .into(),
                ));
            }
            Output::Nothing
        }
    };
    let fresh_result = matches!(result, Output::Reg(_))
        && !inst.regs.values().any(|r| Some(r) == inst.result.as_ref());
    if let Some(f) = &inst.flags {
        if !names.contains(f) {
            return Err(err(format!("`{f}` is not a parameter")));
        }
    }
    match (&inst.address, effects.is_empty()) {
        (None, false) => {
            return Err(err(format!(
                "the spec modifies `{}`: name the register the harness points into the \
                 vector's memory in `address` (the base of the address)",
                effects[0].state
            )))
        }
        (Some(a), true) => {
            return Err(err(format!(
                "`address = \"{a}\"`, but the spec accesses no memory the table's \
                 `memory` names"
            )))
        }
        _ => {}
    }
    if let Some(a) = &inst.address {
        if !inst.regs.contains_key(a) {
            return Err(err(format!("`address` `{a}` is not a register operand")));
        }
    }
    // Per parameter: the choices of its variant (enum parameters), or
    // how it is given.
    let mut choices: Vec<Vec<Choice>> = Vec::new();
    for (i, model) in models.iter().enumerate() {
        let name = &names[i];
        let mut list = Vec::new();
        if let ModelType::Enum(id) = model {
            let def = program.enums.get(*id);
            let allowed = inst.variants.get(name);
            if let Some(l) = allowed {
                for v in l {
                    if def.variant_index(v).is_none() {
                        return Err(err(format!("`{}` has no variant `{v}`", def.name)));
                    }
                }
            }
            let with_fields = def.variants.iter().any(|v| !v.fields.is_empty());
            for (k, v) in def.variants.iter().enumerate() {
                if allowed.is_some_and(|l| !l.contains(&v.name)) {
                    continue;
                }
                let texts = table.enums.get(&def.name).and_then(|m| m.get(&v.name));
                if !with_fields {
                    let value = Value::Enum {
                        enum_id: *id,
                        variant: k,
                        fields: Vec::new(),
                    };
                    list.push((v.name.clone(), Param::Fixed(value), texts.cloned()));
                    continue;
                }
                let mut fields = Vec::new();
                for (f, t) in &v.fields {
                    let p = operand(inst, &regs, &format!("{name}.{f}"), t, program, err)?;
                    fields.push((f.clone(), p));
                }
                let param = Param::Variant {
                    enum_id: *id,
                    variant: k,
                    fields,
                };
                list.push((v.name.clone(), param, None));
            }
        } else if inst.flags.as_ref() == Some(name) {
            let bits = flag_bits(table, model, &format!("`{name}`"), err)?;
            list.push((String::new(), Param::Flags(bits), None));
        } else {
            list.push((
                String::new(),
                operand(inst, &regs, name, model, program, err)?,
                None,
            ));
        }
        choices.push(list);
    }
    // The cartesian product of the choices.
    let mut variants: Vec<Vec<&Choice>> = vec![Vec::new()];
    for list in &choices {
        let mut next = Vec::new();
        for prefix in &variants {
            for c in list {
                let mut p = prefix.clone();
                p.push(c);
                next.push(p);
            }
        }
        variants = next;
    }
    let mut jobs = Vec::new();
    for variant in variants {
        let variant_names: Vec<String> = variant
            .iter()
            .map(|(n, _, _)| n.clone())
            .filter(|n| !n.is_empty())
            .collect();
        let mut subst = BTreeMap::new();
        let mut variant_subst = BTreeMap::new();
        for (i, (vname, param, texts)) in variant.iter().enumerate() {
            match param {
                Param::Fixed(_) => subst.extend(texts.clone().unwrap_or_default()),
                Param::Variant { enum_id, .. } => {
                    let def = program.enums.get(*enum_id);
                    let texts = table
                        .enums
                        .get(&def.name)
                        .and_then(|m| m.get(vname))
                        .cloned()
                        .unwrap_or_default();
                    variant_subst.insert(names[i].clone(), texts);
                }
                _ => {}
            }
        }
        let lines = inst.asm.lines(&variant_names).map_err(err)?;
        let emitted = lines.is_some();
        let lines = lines.unwrap_or_default();
        let code = lines
            .iter()
            .map(|l| Template::parse(l).map_err(err))
            .collect::<Result<Vec<_>, _>>()?;
        let mut job = Job {
            term: term.clone(),
            variant: variant_names,
            emitted,
            params: variant.iter().map(|(_, p, _)| p.clone()).collect(),
            names: names.clone(),
            code,
            code_text: lines,
            subst,
            variant_subst,
            regs: regs.clone(),
            result: result.clone(),
            fresh_result,
            effects: effects.clone(),
            address: None,
            keeps_flags: keeps_flags.clone(),
        };
        // Register widths, from the code.
        let widths: Vec<(String, u32)> = job
            .leaves()
            .iter()
            .filter(|(_, p)| matches!(p, Param::Reg { .. }))
            .map(|(path, _)| (path.clone(), job.register_width(path)))
            .collect();
        for (i, n) in names.iter().enumerate() {
            let mut p = std::mem::replace(&mut job.params[i], Param::Fixed(Value::Unit));
            set_widths(&mut p, n, &widths);
            job.params[i] = p;
        }
        if let Some(a) = &inst.address {
            let leaves = job.leaves();
            let Some((_, Param::Reg { reg, width })) = leaves.iter().find(|(p, _)| p == a) else {
                return Err(err(format!(
                    "variant {} has no `{a}` for the harness to point into the vector's memory",
                    job.label()
                )));
            };
            if *width != 64 {
                return Err(err(format!(
                    "`address` `{a}` is read at {width} bits; the harness needs all 64"
                )));
            }
            job.address = Some(*reg);
        }
        // The templates must render; immediates at zero.
        let leaves = job.leaves();
        let zeros: Vec<Value> = job
            .imms()
            .iter()
            .filter_map(|&i| match leaves[i].1 {
                Param::Imm { ty, .. } => zero(ty),
                _ => None,
            })
            .collect();
        job.render(isa, &zeros).map_err(err)?;
        jobs.push(job);
    }
    Ok(jobs)
}

/// Sets the width of the register operands under `p` (at `path`).
fn set_widths(p: &mut Param, path: &str, widths: &[(String, u32)]) {
    match p {
        Param::Reg { width, .. } => {
            if let Some((_, w)) = widths.iter().find(|(n, _)| n == path) {
                *width = *w;
            }
        }
        Param::Variant { fields, .. } => {
            for (f, q) in fields {
                set_widths(q, &format!("{path}.{f}"), widths);
            }
        }
        _ => {}
    }
}

/// Every job of a table, in table order, and the entries that do not fit
/// their terms (each stands for all its variants, which are not run);
/// `file` and `text` are the table's name and text, for the lines of
/// errors. When the table's `flags_state` is not a flags register of the
/// program ([`flags_state`], which [`crate::run`] checks first), every
/// entry is an error that says so.
pub fn jobs(
    program: &Program,
    table: &Table,
    isa: Isa,
    file: &str,
    text: &str,
) -> (Vec<Job>, Vec<PlanError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let kept = flags_state(program, table);
    for inst in &table.insts {
        let line = Table::line_of(text, inst.term.span().start);
        let err = |message: String| PlanError {
            file: file.to_string(),
            line,
            term: inst.term.get_ref().clone(),
            message,
        };
        let kept = match &kept {
            Ok(k) => k.as_ref(),
            Err(e) => {
                errors.push(err(e.clone()));
                continue;
            }
        };
        match expand(program, table, isa, inst, kept, &err) {
            Ok(jobs) => out.extend(jobs),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}
