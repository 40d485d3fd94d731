//! Tapes: a typed graph compiled once for evaluating the same formulas
//! many times, as conformance testing does (one instruction spec, thousands
//! of operand vectors).
//!
//! A [`TapeBuilder`] is told which variables are inputs (given per run),
//! which are fixed (constants, such as an instruction's operand size), and
//! how the others are defined (a node, or some bits of one: what
//! definitional evaluation, [`crate::derive`], found). It then compiles the
//! nodes asked for into a straight-line [`Tape`] over 128-bit words:
//! every value is flattened into words (a bitvector of up to 128 bits, a
//! Bool, an Int that fits in `i128`; a struct is its fields in name order;
//! an enum is a discriminant and the fields of every variant, zero for
//! the variants it is not). Everything that depends only on constants is
//! folded while compiling, with the concrete evaluator's own
//! [`apply`](crate::eval::apply), and an `if`, `match` or `switch` on a
//! constant compiles only the branch taken, so an instruction's spec at
//! one operand size becomes the few operations of that size.
//!
//! The tape computes what [`crate::eval::Evaluator`] computes for the same
//! nodes (tested against it); where it cannot (wider bitvectors, a
//! quantifier, an integer overflowing `i128`), compiling or running it says
//! so and the caller uses the evaluator.
//!
//! This module owns the flattened shapes of values ([`Shape`], [`Kind`]),
//! what a tape is made of (places, steps) and its errors ([`TapeError`]);
//! compiling a graph into a tape is `builder`'s, running it `run`'s.

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use crate::eval::EvalError;
use crate::graph::VarId;
use crate::ty::{EnumId, Enums, Ty};
use crate::value::{BitVec, Value};

mod builder;
mod run;
#[cfg(test)]
mod tests;

pub use builder::TapeBuilder;

/// The shape of a flattened value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One word: a Bool (0 or 1), an Int (`i128` bits), a bitvector of
    /// the given width, the unit value, an opaque value.
    Word(Kind),
    /// A struct: its fields, sorted by name.
    Struct(Vec<(String, Shape)>),
    /// An enum: a discriminant word, then every variant's fields.
    Enum(EnumId, Vec<Vec<Shape>>),
}

/// What one word holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Bool.
    Bool,
    /// An Int.
    Int,
    /// A bitvector of this width (at most 128).
    Bv(u32),
    /// The unit value.
    Unit,
    /// An opaque value.
    Opaque,
}

impl Shape {
    /// The shape of a type; `None` for bitvectors wider than 128 bits.
    pub fn of(ty: &Ty, enums: &Enums) -> Option<Shape> {
        Some(match ty {
            Ty::Bool => Shape::Word(Kind::Bool),
            Ty::Int => Shape::Word(Kind::Int),
            Ty::Unit => Shape::Word(Kind::Unit),
            Ty::Unspecified => Shape::Word(Kind::Opaque),
            Ty::Bv(w) if (1..=128).contains(w) => Shape::Word(Kind::Bv(*w)),
            Ty::Bv(_) => return None,
            Ty::Struct(fields) => Shape::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Some((n.clone(), Shape::of(t, enums)?)))
                    .collect::<Option<_>>()?,
            ),
            Ty::Enum(id) => Shape::Enum(
                *id,
                enums
                    .get(*id)
                    .variants
                    .iter()
                    .map(|v| {
                        v.fields
                            .iter()
                            .map(|(_, m)| Shape::of(&Ty::from_model(m)?, enums))
                            .collect::<Option<Vec<_>>>()
                    })
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// The number of words.
    pub fn words(&self) -> usize {
        match self {
            Shape::Word(_) => 1,
            Shape::Struct(fs) => fs.iter().map(|(_, s)| s.words()).sum(),
            Shape::Enum(_, vs) => 1 + vs.iter().flatten().map(Shape::words).sum::<usize>(),
        }
    }

    /// Appends the words of `v`; `None` if it does not have this shape or
    /// does not fit.
    pub fn flatten(&self, v: &Value, out: &mut Vec<u128>) -> Option<()> {
        match (self, v) {
            (Shape::Word(Kind::Bool), Value::Bool(b)) => out.push(u128::from(*b)),
            (Shape::Word(Kind::Int), Value::Int(i)) => out.push(i.to_i128()? as u128),
            (Shape::Word(Kind::Bv(w)), Value::Bv(b)) if b.width() == *w => out.push(b.to_u128()?),
            (Shape::Word(Kind::Unit), Value::Unit) => out.push(0),
            (Shape::Word(Kind::Opaque), Value::Opaque(o)) => out.push(u128::from(*o)),
            (Shape::Struct(fs), Value::Struct(vs)) if fs.len() == vs.len() => {
                for ((n, s), (m, v)) in fs.iter().zip(vs) {
                    if n != m {
                        return None;
                    }
                    s.flatten(v, out)?;
                }
            }
            (
                Shape::Enum(id, vs),
                Value::Enum {
                    enum_id,
                    variant,
                    fields,
                },
            ) if id == enum_id && *variant < vs.len() => {
                out.push(*variant as u128);
                for (k, shapes) in vs.iter().enumerate() {
                    if k == *variant {
                        if shapes.len() != fields.len() {
                            return None;
                        }
                        for (s, f) in shapes.iter().zip(fields) {
                            s.flatten(f, out)?;
                        }
                    } else {
                        out.extend(std::iter::repeat_n(
                            0,
                            shapes.iter().map(Shape::words).sum(),
                        ));
                    }
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// The value of the words (as many as [`Shape::words`]).
    pub fn value(&self, words: &[u128]) -> Value {
        match self {
            Shape::Word(Kind::Bool) => Value::Bool(words[0] != 0),
            Shape::Word(Kind::Int) => Value::Int(BigInt::from(words[0] as i128)),
            Shape::Word(Kind::Bv(w)) => Value::Bv(BitVec::from_u128(*w, words[0])),
            Shape::Word(Kind::Unit) => Value::Unit,
            Shape::Word(Kind::Opaque) => Value::Opaque(words[0] as u64),
            Shape::Struct(fs) => {
                let mut at = 0;
                Value::Struct(
                    fs.iter()
                        .map(|(n, s)| {
                            let v = s.value(&words[at..at + s.words()]);
                            at += s.words();
                            (n.clone(), v)
                        })
                        .collect(),
                )
            }
            Shape::Enum(id, vs) => {
                let variant = words[0] as usize;
                let mut at = 1;
                let mut fields = Vec::new();
                for (k, shapes) in vs.iter().enumerate() {
                    for s in shapes {
                        if k == variant {
                            fields.push(s.value(&words[at..at + s.words()]));
                        }
                        at += s.words();
                    }
                }
                Value::Enum {
                    enum_id: *id,
                    variant,
                    fields,
                }
            }
        }
    }
}

/// A flattened value in the slots of a tape.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    shape: Shape,
    slots: Vec<u32>,
}

/// Bitvector operations of two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bin {
    Add,
    Sub,
    Mul,
    Udiv,
    Urem,
    Sdiv,
    Srem,
    And,
    Or,
    Xor,
    Shl,
    Lshr,
    Ashr,
    Rotl,
    Rotr,
    Ult,
    Ule,
    Ugt,
    Uge,
    Slt,
    Sle,
    Sgt,
    Sge,
    Saddo,
}

/// Bitvector operations of one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Un {
    Not,
    Neg,
    Popcnt,
    Clz,
    Cls,
    Rev,
}

/// Integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IntOp {
    Add,
    Sub,
    Mul,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// One step of a tape: writes slot `dst` from other slots.
#[derive(Clone, Debug)]
enum Step {
    Bin {
        op: Bin,
        w: u32,
        dst: u32,
        a: u32,
        b: u32,
    },
    Un {
        op: Un,
        w: u32,
        dst: u32,
        a: u32,
    },
    Int {
        op: IntOp,
        dst: u32,
        a: u32,
        b: u32,
    },
    IntNeg {
        dst: u32,
        a: u32,
    },
    /// Bits `lo .. lo+w` of `a`.
    Extract {
        dst: u32,
        a: u32,
        lo: u32,
        w: u32,
    },
    /// Sign-extends the low `from` bits of `a` to `to` bits.
    SignExt {
        dst: u32,
        a: u32,
        from: u32,
        to: u32,
    },
    /// `hi` above the `lo_w` bits of `lo`.
    Concat {
        dst: u32,
        hi: u32,
        lo: u32,
        lo_w: u32,
    },
    Replicate {
        dst: u32,
        a: u32,
        w: u32,
        k: u32,
    },
    Int2Bv {
        dst: u32,
        a: u32,
        w: u32,
    },
    Bv2Nat {
        dst: u32,
        a: u32,
        w: u32,
    },
    Eq {
        dst: u32,
        a: u32,
        b: u32,
    },
    All {
        dst: u32,
        args: Box<[u32]>,
    },
    Any {
        dst: u32,
        args: Box<[u32]>,
    },
    Not {
        dst: u32,
        a: u32,
    },
    Imp {
        dst: u32,
        a: u32,
        b: u32,
    },
    Select {
        dst: u32,
        c: u32,
        a: u32,
        b: u32,
    },
}

/// Why a tape could not be built or run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapeError {
    /// A variable has no input, fixed value or definition.
    Unbound(VarId),
    /// Something the tape does not compute (the evaluator may).
    Unsupported(String),
    /// The concrete evaluator failed on constants.
    Eval(EvalError),
}

impl std::fmt::Display for TapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TapeError::Unbound(v) => write!(f, "variable #{} has no value", v.0),
            TapeError::Unsupported(m) => f.write_str(m),
            TapeError::Eval(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TapeError {}

impl From<EvalError> for TapeError {
    fn from(e: EvalError) -> TapeError {
        TapeError::Eval(e)
    }
}

fn unsupported<T>(m: impl Into<String>) -> Result<T, TapeError> {
    Err(TapeError::Unsupported(m.into()))
}

/// A compiled tape.
#[derive(Clone, Debug)]
pub struct Tape {
    init: Vec<u128>,
    inputs: Vec<Place>,
    input_words: usize,
    steps: Vec<Step>,
    outputs: Vec<Place>,
}
