//! Jobs: the mapping table checked against the program and expanded into
//! one job per (instruction term, variant), a variant being a choice of
//! every enum parameter (`x64_add` at `Size8`, ..., `Size64`).

use std::collections::BTreeMap;

use loweq_dsl::Program;
use loweq_semantics::ty::ModelType;
use loweq_semantics::value::{BitVec, Value};

use crate::isa::Isa;
use crate::map::{Inst, Table};
use crate::template::{Operand, Template};

/// How one parameter of the term is given to the machine.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// An enum parameter, fixed by the variant.
    Fixed(Value),
    /// A register operand: the index of its register in [`Job::regs`] and
    /// the width the code reads of it (the rest of the register is junk).
    Reg {
        /// Index into [`Job::regs`].
        reg: usize,
        /// The width the code names it at (the widest, if several).
        width: u32,
    },
    /// The flags the code starts with: a struct of Bools whose fields
    /// are bits of the machine's flags word.
    Flags(Vec<(String, u32)>),
    /// An immediate, written into the code.
    Imm {
        /// Its model type.
        ty: ModelType,
        /// The values to draw from, if the table limits them.
        values: Option<Vec<i64>>,
    },
}

/// Where an instruction's result is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A register: an index into [`Job::regs`].
    Reg(usize),
    /// The machine's flags: the spec's flags struct fields and their bits.
    Flags(Vec<(String, u32)>),
}

/// One instruction term at one variant.
#[derive(Clone, Debug)]
pub struct Job {
    /// The term.
    pub term: String,
    /// The variant's enum choices (`Size32`), empty without enums.
    pub variant: Vec<String>,
    /// The parameters, in the term's order.
    pub params: Vec<Param>,
    /// The parameter names.
    pub names: Vec<String>,
    /// Whether the table gives code for this variant; a variant without
    /// code must be excluded by the spec's `require` (never emitted).
    pub emitted: bool,
    /// The code templates.
    pub code: Vec<Template>,
    /// The template texts, for reports.
    pub code_text: Vec<String>,
    /// The variant's substitutions.
    pub subst: BTreeMap<String, String>,
    /// The registers each vector loads and stores (64-bit names).
    pub regs: Vec<String>,
    /// Where the result is read from.
    pub result: Output,
    /// Whether the result register holds no operand (its old value is junk).
    pub fresh_result: bool,
}

impl Job {
    /// The variant as a label: `Size32`, or `-` without enums.
    pub fn label(&self) -> String {
        if self.variant.is_empty() {
            "-".into()
        } else {
            self.variant.join(" ")
        }
    }

    /// Per parameter, its value when the variant fixes it.
    pub fn fixed(&self) -> Vec<Option<Value>> {
        self.params
            .iter()
            .map(|p| match p {
                Param::Fixed(v) => Some(v.clone()),
                _ => None,
            })
            .collect()
    }

    /// The indices of the immediate parameters.
    pub fn imms(&self) -> Vec<usize> {
        (0..self.params.len())
            .filter(|&i| matches!(self.params[i], Param::Imm { .. }))
            .collect()
    }

    /// The code for these immediates (one value per immediate parameter,
    /// in order).
    pub fn render(&self, isa: Isa, imms: &[Value]) -> Result<Vec<String>, String> {
        let operand = |name: &str| self.operand(name, imms);
        self.code
            .iter()
            .map(|t| t.render(isa, &self.subst, &operand))
            .collect()
    }

    /// What a template hole names, given the immediates.
    fn operand<'a>(&'a self, name: &str, imms: &'a [Value]) -> Option<Operand<'a>> {
        if name == "result" && !self.names.iter().any(|n| n == "result") {
            return match self.result {
                Output::Reg(r) => Some(Operand::Reg(&self.regs[r])),
                Output::Flags(_) => None,
            };
        }
        let i = self.names.iter().position(|n| n == name)?;
        match &self.params[i] {
            Param::Reg { reg, .. } => Some(Operand::Reg(&self.regs[*reg])),
            Param::Imm { .. } => {
                let k = self.imms().iter().position(|&j| j == i)?;
                imms.get(k).map(Operand::Imm)
            }
            Param::Fixed(_) | Param::Flags(_) => None,
        }
    }
}

/// A problem with a mapping entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: `{term}`: {message}")]
pub struct PlanError {
    /// The table's file.
    pub file: String,
    /// The line of the entry.
    pub line: usize,
    /// The term.
    pub term: String,
    /// What is wrong.
    pub message: String,
}

/// A zero value of a model type, for checking templates.
pub fn zero(ty: &ModelType) -> Option<Value> {
    Some(match ty {
        ModelType::Bool => Value::Bool(false),
        ModelType::BitVec(Some(w)) => Value::Bv(BitVec::zero(*w)),
        ModelType::Struct(fields) => {
            let mut fs = fields
                .iter()
                .map(|(n, t)| Some((n.clone(), zero(t)?)))
                .collect::<Option<Vec<_>>>()?;
            fs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Struct(fs)
        }
        _ => return None,
    })
}

/// Expands one entry.
fn expand(
    program: &Program,
    table: &Table,
    isa: Isa,
    inst: &Inst,
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
    for k in inst
        .regs
        .keys()
        .chain(inst.variants.keys())
        .chain(inst.values.keys())
    {
        if !names.contains(k) {
            return Err(err(format!(
                "`{k}` is not a parameter (the parameters are {})",
                names.join(", ")
            )));
        }
    }
    let mut regs: Vec<String> = Vec::new();
    let flags_result = inst.result == "flags";
    let result_reg = (!flags_result).then_some(&inst.result);
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
    // The fields of a flags struct, each with its machine bit.
    let flag_bits = |model: &ModelType, what: &str| -> Result<Vec<(String, u32)>, PlanError> {
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
    };
    let result = if flags_result {
        let model = program
            .model(decl.ret_ty)
            .cloned()
            .ok_or_else(|| err("the result's type has no model".into()))?;
        Output::Flags(flag_bits(&model, "the result")?)
    } else {
        Output::Reg(
            regs.iter()
                .position(|r| *r == inst.result)
                .expect("added above"),
        )
    };
    let fresh_result = !flags_result && !inst.regs.values().any(|r| *r == inst.result);
    if let Some(f) = &inst.flags {
        if !names.contains(f) {
            return Err(err(format!("`{f}` is not a parameter")));
        }
    }
    // Per parameter: its model, and the variants of enum parameters.
    let mut models = Vec::new();
    let mut choices: Vec<(usize, Vec<(String, Value)>)> = Vec::new();
    for (i, &ty) in decl.arg_tys.iter().enumerate() {
        let model = program.model(ty).cloned().ok_or_else(|| {
            err(format!(
                "parameter `{}` has type `{}`, which has no model",
                names[i],
                program.type_name(ty)
            ))
        })?;
        if let ModelType::Enum(id) = model {
            let def = program.enums.get(id);
            let allowed = inst.variants.get(&names[i]);
            if let Some(list) = allowed {
                for v in list {
                    if def.variant_index(v).is_none() {
                        return Err(err(format!("`{}` has no variant `{v}`", def.name)));
                    }
                }
            }
            let vs = def
                .variants
                .iter()
                .enumerate()
                .filter(|(_, v)| allowed.is_none_or(|l| l.contains(&v.name)))
                .map(|(k, v)| {
                    if !v.fields.is_empty() {
                        return Err(err(format!(
                            "enum parameter `{}` has variants with fields",
                            names[i]
                        )));
                    }
                    Ok((
                        v.name.clone(),
                        Value::Enum {
                            enum_id: id,
                            variant: k,
                            fields: Vec::new(),
                        },
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            choices.push((i, vs));
        } else if inst.flags.as_ref() == Some(&names[i]) {
            flag_bits(&model, &format!("`{}`", names[i]))?;
        } else if inst.regs.contains_key(&names[i]) {
            if model != ModelType::BitVec(Some(64)) {
                return Err(err(format!(
                    "register operand `{}` is {}, not (bv 64)",
                    names[i],
                    model.display(&program.enums)
                )));
            }
        } else if zero(&model).is_none() {
            return Err(err(format!(
                "immediate `{}` is {}: an immediate is a bitvector, a Bool or a struct of them",
                names[i],
                model.display(&program.enums)
            )));
        }
        models.push(model);
    }
    // The cartesian product of the enum choices.
    let mut variants: Vec<Vec<(usize, String, Value)>> = vec![Vec::new()];
    for (i, vs) in &choices {
        let mut next = Vec::new();
        for prefix in &variants {
            for (name, v) in vs {
                let mut p = prefix.clone();
                p.push((*i, name.clone(), v.clone()));
                next.push(p);
            }
        }
        variants = next;
    }
    let mut jobs = Vec::new();
    for variant in variants {
        let variant_names: Vec<String> = variant.iter().map(|(_, n, _)| n.clone()).collect();
        let mut subst = BTreeMap::new();
        for (i, name, _) in &variant {
            let ModelType::Enum(id) = &models[*i] else {
                continue;
            };
            let enum_name = &program.enums.get(*id).name;
            if let Some(s) = table.enums.get(enum_name).and_then(|m| m.get(name)) {
                subst.extend(s.clone());
            }
        }
        let lines = inst.asm.lines(&variant_names);
        let emitted = lines.is_some();
        let lines = lines.unwrap_or_default();
        let code = lines
            .iter()
            .map(|l| Template::parse(l).map_err(&err))
            .collect::<Result<Vec<_>, _>>()?;
        let is_reg = |n: &str| inst.regs.contains_key(n);
        let mut params = Vec::new();
        for (i, model) in models.iter().enumerate() {
            let p = if let Some((_, _, v)) = variant.iter().find(|(k, _, _)| *k == i) {
                Param::Fixed(v.clone())
            } else if inst.flags.as_ref() == Some(&names[i]) {
                Param::Flags(flag_bits(model, "flags")?)
            } else if let Some(r) = inst.regs.get(&names[i]) {
                let width = code
                    .iter()
                    .flat_map(|t| t.register_widths(&subst, &is_reg))
                    .filter(|(n, _)| *n == names[i])
                    .map(|(_, w)| w)
                    .max()
                    .unwrap_or(64);
                Param::Reg {
                    reg: regs.iter().position(|x| x == r).expect("added above"),
                    width,
                }
            } else {
                Param::Imm {
                    ty: model.clone(),
                    values: inst.values.get(&names[i]).cloned(),
                }
            };
            params.push(p);
        }
        let job = Job {
            term: term.clone(),
            variant: variant_names,
            emitted,
            params,
            names: names.clone(),
            code,
            code_text: lines,
            subst,
            regs: regs.clone(),
            result: result.clone(),
            fresh_result,
        };
        // The templates must render; immediates at zero.
        let zeros: Vec<Value> = job
            .imms()
            .iter()
            .filter_map(|&i| match &job.params[i] {
                Param::Imm { ty, .. } => zero(ty),
                _ => None,
            })
            .collect();
        job.render(isa, &zeros).map_err(&err)?;
        jobs.push(job);
    }
    Ok(jobs)
}

/// Every job of a table, in table order; `file` and `text` are the table's
/// name and text, for the lines of errors.
pub fn jobs(
    program: &Program,
    table: &Table,
    isa: Isa,
    file: &str,
    text: &str,
) -> Result<Vec<Job>, PlanError> {
    let mut out = Vec::new();
    for inst in &table.insts {
        let line = Table::line_of(text, inst.term.span().start);
        let err = |message: String| PlanError {
            file: file.to_string(),
            line,
            term: inst.term.get_ref().clone(),
            message,
        };
        out.extend(expand(program, table, isa, inst, &err)?);
    }
    Ok(out)
}
