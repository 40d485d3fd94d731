//! Applying an IR spec to concrete operands: the spec of the instruction's
//! term, instantiated at the instruction's types (cached per term and
//! types), its result and trap state computed from the operands
//! ([`TermInstance::evaluate`]), and its clauses checked against the values
//! found.

use std::collections::HashMap;

use loweq_dsl::clif::IntCC;
use loweq_dsl::Program;
use loweq_semantics::value::{BitVec, Value};

use crate::instance::{Clause, InstanceError, TermInstance};

/// A concrete operand of a term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A bitvector: a value, an immediate.
    Bits(BitVec),
    /// A condition code.
    Cond(IntCC),
}

impl Arg {
    /// The width the term's parameter must have: `Some` for values whose
    /// width the instruction decides.
    fn width(&self) -> Option<u32> {
        match self {
            Arg::Bits(b) => Some(b.width()),
            Arg::Cond(_) => None,
        }
    }
}

/// What applying a spec gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The result bitvector (several results packed, the first lowest).
    Value(BitVec),
    /// The spec says the instruction traps (`clif_trap`).
    Trap,
}

/// Why a spec could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// No spec, or none at these types: the instruction cannot be run.
    Instance(InstanceError),
    /// The spec does not determine a result, or its clauses do not hold
    /// for the values it determines: the spec is wrong for these operands.
    Spec(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Instance(e) => write!(f, "{e}"),
            ApplyError::Spec(m) => f.write_str(m),
        }
    }
}

/// Cache key: the term, its parameter widths, its result width.
type Key = (String, Vec<Option<u32>>, u32);

/// The IR specs of a program, ready to apply; instantiations are cached.
pub struct Specs<'p> {
    program: &'p Program,
    cache: HashMap<Key, Result<Prepared, InstanceError>>,
}

/// A cached instantiation, and the index of the trap state.
struct Prepared {
    inst: TermInstance,
    trap: Option<usize>,
}

impl<'p> Specs<'p> {
    /// The specs of `program` (the IR spec files, loaded).
    pub fn new(program: &'p Program) -> Specs<'p> {
        Specs {
            program,
            cache: HashMap::new(),
        }
    }

    /// The program.
    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// Instantiates `term` for operands of these kinds and a result of
    /// `ret` bits, or says why it cannot be.
    pub fn prepare(&mut self, term: &str, args: &[Arg], ret: u32) -> Result<(), InstanceError> {
        self.prepared(term, args, ret).map(|_| ())
    }

    fn prepared(&mut self, term: &str, args: &[Arg], ret: u32) -> Result<&Prepared, InstanceError> {
        let widths: Vec<Option<u32>> = args.iter().map(Arg::width).collect();
        let key = (term.to_string(), widths, ret);
        let program = self.program;
        let entry = self
            .cache
            .entry(key)
            .or_insert_with_key(|(term, widths, ret)| {
                let inst = TermInstance::new(program, term, widths, *ret)?;
                let trap = program.states.iter().position(|s| s.name == "clif_trap");
                Ok(Prepared { inst, trap })
            });
        entry.as_ref().map_err(Clone::clone)
    }

    /// Applies `term` to `args`, with a result of `ret` bits.
    pub fn apply(&mut self, term: &str, args: &[Arg], ret: u32) -> Result<Applied, ApplyError> {
        let program = self.program;
        let values = args
            .iter()
            .map(|a| arg_value(program, a))
            .collect::<Result<Vec<_>, _>>()?;
        let p = self
            .prepared(term, args, ret)
            .map_err(ApplyError::Instance)?;
        p.apply(program, &values)
    }
}

/// The spec-level value of an operand.
fn arg_value(program: &Program, a: &Arg) -> Result<Value, ApplyError> {
    match a {
        Arg::Bits(b) => Ok(Value::Bv(b.clone())),
        Arg::Cond(cc) => {
            let missing = || {
                ApplyError::Instance(InstanceError::NoSpec(format!(
                    "the IR specs have no `IntCC` enum with a variant `{}`",
                    cc.isle_name()
                )))
            };
            let id = program.enums.by_name("IntCC").ok_or_else(missing)?;
            let variant = program
                .enums
                .get(id)
                .variant_index(cc.isle_name())
                .ok_or_else(missing)?;
            Ok(Value::Enum {
                enum_id: id,
                variant,
                fields: Vec::new(),
            })
        }
    }
}

impl Prepared {
    fn apply(&self, program: &Program, args: &[Value]) -> Result<Applied, ApplyError> {
        let inst = &self.inst;
        let term = &inst.term;
        let e = inst.evaluate(program, args).map_err(ApplyError::Spec)?;
        let trapped = match self.trap {
            None => false,
            Some(t) => match e.states.get(t) {
                Some(Some(Value::Bool(b))) => *b,
                _ => {
                    return Err(ApplyError::Spec(format!(
                        "the spec of `{term}` does not say whether it traps"
                    )))
                }
            },
        };
        let result = e.result.as_ref().and_then(|v| v.as_bv()).cloned();
        if result.is_none() && !trapped {
            return Err(ApplyError::Spec(format!(
                "the spec of `{term}` does not determine its result"
            )));
        }
        if let Some((clause, span)) = e.violated.first() {
            let what = match clause {
                Clause::Fact => "a clause",
                Clause::Require => "a precondition",
            };
            return Err(ApplyError::Spec(format!(
                "{what} of the spec of `{term}` is false for these operands ({})",
                program.sources.location(*span)
            )));
        }
        Ok(match (trapped, result) {
            (false, Some(r)) => Applied::Value(r),
            _ => Applied::Trap,
        })
    }
}
