//! The interpreter: runs a checked CLIF function on concrete arguments.
//! Every operation is evaluated through its IR spec ([`Specs::apply`]);
//! only control flow (`jump`, `brif`, `return`) is interpreted here.

use std::collections::HashMap;

use loweq_dsl::clif::{Body, Function, Inst, InstKind, Operand, ValueId};
use loweq_semantics::span::Span;
use loweq_semantics::value::BitVec;

use crate::apply::{Applied, Arg, Specs};

/// How many instructions one call may execute before it is stopped, unless
/// the caller says otherwise.
pub const STEP_LIMIT: usize = 1_000_000;

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `return` with these values.
    Returned(Vec<BitVec>),
    /// An instruction trapped.
    Trapped {
        /// The instruction, as written (`sdiv.i32`).
        opcode: String,
        /// Where it is.
        span: Span,
    },
    /// The step limit was reached: the call may still be running (a long
    /// loop) or never end; either way it says nothing about the specs.
    StepLimit {
        /// The limit.
        limit: usize,
        /// The instruction that would have been one too many.
        span: Span,
    },
}

/// Why a call could not be completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    /// What went wrong.
    pub message: String,
    /// At which instruction, if any.
    pub span: Option<Span>,
}

fn error(message: impl Into<String>, span: Option<Span>) -> RunError {
    RunError {
        message: message.into(),
        span,
    }
}

/// The spec operands of an instruction, from the values computed so far.
fn operands(
    env: &HashMap<ValueId, BitVec>,
    inst: &Inst,
    ops: &[Operand],
) -> Result<Vec<Arg>, RunError> {
    ops.iter()
        .map(|o| match o {
            Operand::Value(v, _) => env.get(v).cloned().map(Arg::Bits).ok_or_else(|| {
                error(
                    format!("`{v}` is used before it is defined"),
                    Some(inst.span),
                )
            }),
            Operand::Imm64(i) => Ok(Arg::Bits(BitVec::from_u128(64, u128::from(*i)))),
            Operand::Const(b) => Ok(Arg::Bits(b.clone())),
            Operand::Cond(cc) => Ok(Arg::Cond(*cc)),
        })
        .collect()
}

/// The width of the bitvector packing an instruction's results.
fn packed_width(results: &[(ValueId, loweq_dsl::clif::Type)]) -> u32 {
    results.iter().filter_map(|(_, t)| t.int_width()).sum()
}

/// The spec operands an instruction would have, with placeholder values:
/// enough to instantiate its spec at the right types.
fn shape(inst: &Inst) -> Option<(&'static str, Vec<Arg>, u32)> {
    let InstKind::Apply {
        term,
        args,
        results,
    } = &inst.kind
    else {
        return None;
    };
    let args = args
        .iter()
        .map(|o| match o {
            Operand::Value(_, t) => Arg::Bits(BitVec::zero(t.int_width().unwrap_or(1))),
            Operand::Imm64(_) => Arg::Bits(BitVec::zero(64)),
            Operand::Const(b) => Arg::Bits(b.clone()),
            Operand::Cond(cc) => Arg::Cond(*cc),
        })
        .collect();
    Some((term, args, packed_width(results)))
}

/// Instantiates the spec of every operation of `body`; the first one that
/// cannot be is the reason the function cannot be run.
pub fn prepare(specs: &mut Specs<'_>, body: &Body) -> Result<(), String> {
    for inst in body.blocks.iter().flat_map(|b| &b.insts) {
        if let Some((term, args, ret)) = shape(inst) {
            specs
                .prepare(term, &args, ret)
                .map_err(|e| format!("`{}`: {e}", inst.opcode))?;
        }
    }
    Ok(())
}

/// Calls `f` (whose body was prepared) with `args`, stopping after
/// `limit` instructions.
pub fn call(
    specs: &mut Specs<'_>,
    f: &Function,
    args: &[BitVec],
    limit: usize,
) -> Result<Ended, RunError> {
    let body = f
        .body
        .as_ref()
        .map_err(|u| error(format!("the function is not supported: {u}"), None))?;
    let entry = body
        .blocks
        .first()
        .ok_or_else(|| error("the function has no blocks", None))?;
    if entry.params.len() != args.len() {
        return Err(error(
            format!(
                "{} takes {} arguments, got {}",
                f.name,
                entry.params.len(),
                args.len()
            ),
            None,
        ));
    }
    let mut env: HashMap<ValueId, BitVec> = HashMap::new();
    for ((v, _), a) in entry.params.iter().zip(args) {
        env.insert(*v, a.clone());
    }
    let mut block = 0;
    let mut steps = 0;
    loop {
        let b = body
            .blocks
            .get(block)
            .ok_or_else(|| error("a branch to a block that does not exist", None))?;
        let mut next = None;
        for inst in &b.insts {
            steps += 1;
            if steps > limit {
                return Ok(Ended::StepLimit {
                    limit,
                    span: inst.span,
                });
            }
            match &inst.kind {
                InstKind::Apply {
                    term,
                    args: ops,
                    results,
                } => {
                    let a = operands(&env, inst, ops)?;
                    let applied = specs
                        .apply(term, &a, packed_width(results))
                        .map_err(|e| error(format!("`{}`: {e}", inst.opcode), Some(inst.span)))?;
                    let bits = match applied {
                        Applied::Trap => {
                            return Ok(Ended::Trapped {
                                opcode: inst.opcode.clone(),
                                span: inst.span,
                            })
                        }
                        Applied::Value(bits) => bits,
                    };
                    // Unpack the results, the first in the lowest bits.
                    let mut lo = 0;
                    for (v, t) in results {
                        let w = t.int_width().unwrap_or(0);
                        if w == 0 || lo + w > bits.width() {
                            return Err(error(
                                format!("`{}` gave a result of the wrong width", inst.opcode),
                                Some(inst.span),
                            ));
                        }
                        env.insert(*v, bits.extract(lo + w - 1, lo));
                        lo += w;
                    }
                }
                InstKind::Return(vals) => {
                    let out = vals
                        .iter()
                        .map(|v| {
                            env.get(v).cloned().ok_or_else(|| {
                                error(
                                    format!("`{v}` is used before it is defined"),
                                    Some(inst.span),
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Ended::Returned(out));
                }
                InstKind::Jump(target) => {
                    next = Some(target);
                    break;
                }
                InstKind::Brif { cond, then_, else_ } => {
                    let c = env.get(cond).ok_or_else(|| {
                        error(
                            format!("`{cond}` is used before it is defined"),
                            Some(inst.span),
                        )
                    })?;
                    next = Some(if c.is_zero() { else_ } else { then_ });
                    break;
                }
            }
        }
        let target = next.ok_or_else(|| error("a block without a terminator", None))?;
        let params = &body
            .blocks
            .get(target.block)
            .ok_or_else(|| error("a branch to a block that does not exist", None))?
            .params;
        // Read every argument before binding any parameter: a block may
        // pass its own parameters around.
        let vals = target
            .args
            .iter()
            .map(|v| {
                env.get(v)
                    .cloned()
                    .ok_or_else(|| error(format!("`{v}` is used before it is defined"), None))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for ((p, _), val) in params.iter().zip(vals) {
            env.insert(*p, val);
        }
        block = target.block;
    }
}
