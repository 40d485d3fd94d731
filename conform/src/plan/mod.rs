//! Jobs: the mapping table checked against the program and expanded into
//! one job per (instruction term, variant), a variant being a choice of
//! every enum parameter (`x64_add` at `Size8`, ..., `Size64`; a load at
//! each operand size and each addressing mode).
//!
//! This module owns what a job is (its parameters, result, memory effects
//! and kept flags) and what it computes from a vector; how a table's
//! entries are checked and expanded into jobs is `expand`'s.

use std::collections::BTreeMap;

use loweq_semantics::ty::{EnumId, ModelType};
use loweq_semantics::value::{BitVec, Value};

use crate::isa::Isa;
use crate::template::{Operand, Template};

mod expand;

pub use expand::{flags_state, jobs};

/// How one parameter of the term (or one field of an enum parameter's
/// variant) is given to the machine.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// An enum parameter whose variants have no fields, fixed by the
    /// variant.
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
    /// An enum parameter whose variants have fields (an addressing mode),
    /// at the variant of the job: each field is a register or an
    /// immediate, named `param.field` ([`Job::leaves`]).
    Variant {
        /// The enum.
        enum_id: EnumId,
        /// The variant's index.
        variant: usize,
        /// Its fields, by name, in order.
        fields: Vec<(String, Param)>,
    },
}

/// Where an instruction's result is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A register: an index into [`Job::regs`].
    Reg(usize),
    /// The machine's flags: the spec's flags struct fields and their bits.
    Flags(Vec<(String, u32)>),
    /// Nothing: the instruction's outcome is its effect on memory.
    Nothing,
}

/// Which kind of memory access a state records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    /// A load: the spec's `value` is what memory holds.
    Load,
    /// A store: the spec's `value` is what is written.
    Store,
}

/// A memory state the term modifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    /// The state (`isa_load`).
    pub state: String,
    /// Load or store.
    pub kind: AccessKind,
}

/// The flags an instruction must leave as they were: the table's flags
/// register (`flags_state`), which the instruction's spec does not
/// declare it modifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptFlags {
    /// The state (`x64_flags`).
    pub state: String,
    /// Its fields, each with its bit in the machine's flags word.
    pub bits: Vec<(String, u32)>,
}

impl KeptFlags {
    /// The bits of the machine's flags word that the state models.
    pub fn mask(&self) -> u64 {
        self.bits.iter().fold(0, |m, (_, b)| m | 1 << b)
    }
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
    /// The variant's substitutions (of its enum parameters without fields).
    pub subst: BTreeMap<String, String>,
    /// The substitutions of each enum parameter with fields, by parameter:
    /// templates over the variant's fields (`mem`).
    pub variant_subst: BTreeMap<String, BTreeMap<String, String>>,
    /// The registers each vector loads and stores (64-bit names).
    pub regs: Vec<String>,
    /// Where the result is read from.
    pub result: Output,
    /// Whether the result register holds no operand (its old value is junk).
    pub fresh_result: bool,
    /// The memory states the term modifies (empty for an instruction that
    /// does not access memory).
    pub effects: Vec<Effect>,
    /// For an instruction that accesses memory, the register (an index
    /// into [`Job::regs`]) the harness sets so that the access lands in
    /// the vector's memory.
    pub address: Option<usize>,
    /// The flags the code must leave as they were, when the table names
    /// the flags register and the spec does not declare it modifies it.
    pub keeps_flags: Option<KeptFlags>,
}

impl Param {
    fn leaves<'a>(&'a self, path: String, out: &mut Vec<(String, &'a Param)>) {
        match self {
            Param::Fixed(_) => {}
            Param::Variant { fields, .. } => {
                for (f, p) in fields {
                    p.leaves(format!("{path}.{f}"), out);
                }
            }
            _ => out.push((path, self)),
        }
    }

    /// The value of this parameter from the leaf values, consuming them.
    fn build(&self, leaf: &mut std::slice::Iter<'_, Value>) -> Option<Value> {
        match self {
            Param::Fixed(_) => None,
            Param::Variant {
                enum_id,
                variant,
                fields,
            } => Some(Value::Enum {
                enum_id: *enum_id,
                variant: *variant,
                fields: fields
                    .iter()
                    .map(|(_, p)| p.build(leaf).unwrap_or(Value::Unit))
                    .collect(),
            }),
            _ => Some(leaf.next().cloned().unwrap_or(Value::Unit)),
        }
    }
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

    /// What each vector gives a value: the registers, flags and
    /// immediates, with their paths (`k`, `a.base`), depth first in
    /// parameter order.
    pub fn leaves(&self) -> Vec<(String, &Param)> {
        let mut out = Vec::new();
        for (p, n) in self.params.iter().zip(&self.names) {
            p.leaves(n.clone(), &mut out);
        }
        out
    }

    /// The indices (into [`Job::leaves`]) of the immediates.
    pub fn imms(&self) -> Vec<usize> {
        self.leaves()
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| matches!(p, Param::Imm { .. }))
            .map(|(i, _)| i)
            .collect()
    }

    /// The values of the parameters the variant does not fix, in order,
    /// from a value per leaf ([`Job::leaves`]).
    pub fn args(&self, leaves: &[Value]) -> Vec<Value> {
        let mut it = leaves.iter();
        self.params
            .iter()
            .filter_map(|p| p.build(&mut it))
            .collect()
    }

    /// The code for these immediates (one value per immediate leaf, in
    /// order).
    pub fn render(&self, isa: Isa, imms: &[Value]) -> Result<Vec<String>, String> {
        let leaves = self.leaves();
        let operand = |name: &str| self.operand(&leaves, name, imms);
        self.code
            .iter()
            .map(|t| t.render(isa, &self.subst, &operand))
            .collect()
    }

    /// What a template hole names, given the immediates.
    fn operand<'a>(
        &'a self,
        leaves: &[(String, &'a Param)],
        name: &str,
        imms: &'a [Value],
    ) -> Option<Operand<'a>> {
        if name == "result" && !self.names.iter().any(|n| n == "result") {
            return match self.result {
                Output::Reg(r) => Some(Operand::Reg(&self.regs[r])),
                Output::Flags(_) | Output::Nothing => None,
            };
        }
        if let Some(texts) = self.variant_subst.get(name) {
            return Some(Operand::Variant(texts));
        }
        let mut k = 0;
        for (path, p) in leaves {
            let here = path == name;
            match p {
                Param::Reg { reg, .. } if here => return Some(Operand::Reg(&self.regs[*reg])),
                Param::Imm { .. } if here => return imms.get(k).map(Operand::Imm),
                Param::Imm { .. } => k += 1,
                _ => {}
            }
        }
        None
    }

    /// The width at which the code names each register operand (the
    /// widest, 64 when it is not named).
    fn register_width(&self, path: &str) -> u32 {
        let leaves = self.leaves();
        let operand = |name: &str| self.operand(&leaves, name, &[]);
        self.code
            .iter()
            .flat_map(|t| t.register_widths(&self.subst, &operand))
            .filter(|(n, _)| n == path)
            .map(|(_, w)| w)
            .max()
            .unwrap_or(64)
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
