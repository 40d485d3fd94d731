//! Compiling the spec language's operators: Boolean connectives and
//! equality with constants folded, bitvector and integer operations, width
//! changes; whatever depends only on constants is computed by the concrete
//! evaluator's [`apply`].

use num_traits::ToPrimitive;

use super::{Compiled, TapeBuilder};
use crate::eval::apply;
use crate::graph::NodeId;
use crate::op::Op;
use crate::tape::{unsupported, Bin, IntOp, Kind, Place, Shape, Step, TapeError, Un};
use crate::ty::Ty;
use crate::value::Value;

impl TapeBuilder<'_> {
    fn width(&self, n: NodeId) -> Result<u32, TapeError> {
        match self.typing.ty(n) {
            Some(Ty::Bv(w)) if *w <= 128 => Ok(*w),
            _ => unsupported("an operand that is not a bitvector of at most 128 bits"),
        }
    }

    fn static_int(&mut self, n: NodeId) -> Result<u32, TapeError> {
        match self.compile(n)? {
            Compiled::Const(Value::Int(i)) => i
                .to_u32()
                .ok_or_else(|| TapeError::Unsupported(format!("width {i} out of range"))),
            _ => unsupported("a width or index that is not static"),
        }
    }

    pub(super) fn op(&mut self, n: NodeId, op: Op, args: &[NodeId]) -> Result<Compiled, TapeError> {
        // `conv_to` reads its padding (its third operand) only when it
        // widens: the bits above the operand come from it.
        let args = match (op, args) {
            (Op::ConvTo, [_, x, pad]) => {
                let (to, from) = (self.width(n)?, self.width(*x)?);
                if to <= from {
                    &args[..2]
                } else {
                    let pad = self.word_slot(*pad)?;
                    let lo = self.word_slot(*x)?;
                    let hi = self.slot();
                    self.steps.push(Step::Extract {
                        dst: hi,
                        a: pad,
                        lo: from,
                        w: to - from,
                    });
                    let dst = self.slot();
                    self.steps.push(Step::Concat {
                        dst,
                        hi,
                        lo,
                        lo_w: from,
                    });
                    return Ok(Compiled::Place(Place {
                        shape: Shape::Word(Kind::Bv(to)),
                        slots: vec![dst],
                    }));
                }
            }
            _ => args,
        };
        // Boolean connectives fold constants even when other operands are not.
        match op {
            Op::And | Op::Or => {
                let absorbing = op == Op::Or;
                let mut slots = Vec::new();
                for &a in args {
                    match self.compile(a)? {
                        Compiled::Const(Value::Bool(b)) if b == absorbing => {
                            return Ok(Compiled::Const(Value::Bool(absorbing)))
                        }
                        Compiled::Const(Value::Bool(_)) => {}
                        Compiled::Const(_) => return unsupported("a connective of non-Bools"),
                        Compiled::Place(p) => slots.push(p.slots[0]),
                    }
                }
                if slots.is_empty() {
                    return Ok(Compiled::Const(Value::Bool(!absorbing)));
                }
                if slots.len() == 1 {
                    return Ok(Compiled::Place(Place {
                        shape: Shape::Word(Kind::Bool),
                        slots,
                    }));
                }
                let args = slots.into_boxed_slice();
                return Ok(self.emit(Shape::Word(Kind::Bool), |dst| {
                    if op == Op::And {
                        Step::All { dst, args }
                    } else {
                        Step::Any { dst, args }
                    }
                }));
            }
            Op::Eq => {
                let mut parts = Vec::new();
                for w in args.windows(2) {
                    match self.equal(w[0], w[1])? {
                        Compiled::Const(Value::Bool(false)) => {
                            return Ok(Compiled::Const(Value::Bool(false)))
                        }
                        Compiled::Const(_) => {}
                        Compiled::Place(p) => parts.push(p.slots[0]),
                    }
                }
                if parts.is_empty() {
                    return Ok(Compiled::Const(Value::Bool(true)));
                }
                return Ok(self.all(parts));
            }
            _ => {}
        }
        let compiled = args
            .iter()
            .map(|&a| self.compile(a))
            .collect::<Result<Vec<_>, _>>()?;
        if compiled.iter().all(|c| matches!(c, Compiled::Const(_))) {
            let vals: Vec<Value> = compiled
                .into_iter()
                .map(|c| match c {
                    Compiled::Const(v) => v,
                    Compiled::Place(_) => unreachable!("all constant"),
                })
                .collect();
            return Ok(Compiled::Const(apply(op, &vals)?));
        }
        let bool_shape = Shape::Word(Kind::Bool);
        let bin = |op: Op| -> Option<Bin> {
            Some(match op {
                Op::BvAdd => Bin::Add,
                Op::BvSub => Bin::Sub,
                Op::BvMul => Bin::Mul,
                Op::BvUdiv => Bin::Udiv,
                Op::BvUrem => Bin::Urem,
                Op::BvSdiv => Bin::Sdiv,
                Op::BvSrem => Bin::Srem,
                Op::BvAnd => Bin::And,
                Op::BvOr => Bin::Or,
                Op::BvXor => Bin::Xor,
                Op::BvShl => Bin::Shl,
                Op::BvLshr => Bin::Lshr,
                Op::BvAshr => Bin::Ashr,
                Op::Rotl => Bin::Rotl,
                Op::Rotr => Bin::Rotr,
                Op::BvUlt => Bin::Ult,
                Op::BvUle => Bin::Ule,
                Op::BvUgt => Bin::Ugt,
                Op::BvUge => Bin::Uge,
                Op::BvSlt => Bin::Slt,
                Op::BvSle => Bin::Sle,
                Op::BvSgt => Bin::Sgt,
                Op::BvSge => Bin::Sge,
                Op::BvSaddo => Bin::Saddo,
                _ => return None,
            })
        };
        let un = |op: Op| -> Option<Un> {
            Some(match op {
                Op::BvNot => Un::Not,
                Op::BvNeg => Un::Neg,
                Op::Popcnt => Un::Popcnt,
                Op::Clz => Un::Clz,
                Op::Cls => Un::Cls,
                Op::Rev => Un::Rev,
                _ => return None,
            })
        };
        if let Some(b) = bin(op) {
            let w = self.width(args[0])?;
            let comparison = matches!(
                b,
                Bin::Ult
                    | Bin::Ule
                    | Bin::Ugt
                    | Bin::Uge
                    | Bin::Slt
                    | Bin::Sle
                    | Bin::Sgt
                    | Bin::Sge
                    | Bin::Saddo
            );
            let shape = if comparison {
                bool_shape
            } else {
                Shape::Word(Kind::Bv(w))
            };
            let mut acc = self.word_slot(args[0])?;
            for (i, &a) in args[1..].iter().enumerate() {
                let s = self.word_slot(a)?;
                let dst = self.slot();
                self.steps.push(Step::Bin {
                    op: b,
                    w,
                    dst,
                    a: acc,
                    b: s,
                });
                acc = dst;
                if comparison && i == 0 {
                    break;
                }
            }
            return Ok(Compiled::Place(Place {
                shape,
                slots: vec![acc],
            }));
        }
        if let Some(u) = un(op) {
            let w = self.width(args[0])?;
            let a = self.word_slot(args[0])?;
            return Ok(self.emit(Shape::Word(Kind::Bv(w)), |dst| Step::Un {
                op: u,
                w,
                dst,
                a,
            }));
        }
        match op {
            Op::Not => {
                let a = self.word_slot(args[0])?;
                Ok(self.emit(bool_shape, |dst| Step::Not { dst, a }))
            }
            Op::Imp => {
                let a = self.word_slot(args[0])?;
                let b = self.word_slot(args[1])?;
                Ok(self.emit(bool_shape, |dst| Step::Imp { dst, a, b }))
            }
            Op::Add | Op::Mul => {
                let iop = if op == Op::Add {
                    IntOp::Add
                } else {
                    IntOp::Mul
                };
                let mut acc = self.word_slot(args[0])?;
                for &a in &args[1..] {
                    let s = self.word_slot(a)?;
                    let dst = self.slot();
                    self.steps.push(Step::Int {
                        op: iop,
                        dst,
                        a: acc,
                        b: s,
                    });
                    acc = dst;
                }
                Ok(Compiled::Place(Place {
                    shape: Shape::Word(Kind::Int),
                    slots: vec![acc],
                }))
            }
            Op::Sub if args.len() == 1 => {
                let a = self.word_slot(args[0])?;
                Ok(self.emit(Shape::Word(Kind::Int), |dst| Step::IntNeg { dst, a }))
            }
            Op::Sub | Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
                let iop = match op {
                    Op::Sub => IntOp::Sub,
                    Op::Lt => IntOp::Lt,
                    Op::Lte => IntOp::Lte,
                    Op::Gt => IntOp::Gt,
                    _ => IntOp::Gte,
                };
                let shape = if op == Op::Sub {
                    Shape::Word(Kind::Int)
                } else {
                    bool_shape
                };
                let a = self.word_slot(args[0])?;
                let b = self.word_slot(args[1])?;
                Ok(self.emit(shape, |dst| Step::Int { op: iop, dst, a, b }))
            }
            Op::Extract => {
                let hi = self.static_int(args[0])?;
                let lo = self.static_int(args[1])?;
                let a = self.word_slot(args[2])?;
                let wa = self.width(args[2])?;
                if lo > hi || hi >= wa {
                    return unsupported("an extract out of range");
                }
                let w = hi - lo + 1;
                Ok(self.emit(Shape::Word(Kind::Bv(w)), |dst| Step::Extract {
                    dst,
                    a,
                    lo,
                    w,
                }))
            }
            Op::ZeroExt | Op::SignExt | Op::ConvTo => {
                let to = self.width(n)?;
                let from = self.width(args[1])?;
                let a = self.word_slot(args[1])?;
                if op == Op::ConvTo && to > from {
                    return unsupported("a widening `conv_to` without its padding");
                }
                if op == Op::SignExt && to > from {
                    Ok(self.emit(Shape::Word(Kind::Bv(to)), |dst| Step::SignExt {
                        dst,
                        a,
                        from,
                        to,
                    }))
                } else if to >= from {
                    // The bits above `from` are already zero.
                    Ok(Compiled::Place(Place {
                        shape: Shape::Word(Kind::Bv(to)),
                        slots: vec![a],
                    }))
                } else {
                    Ok(self.emit(Shape::Word(Kind::Bv(to)), |dst| Step::Extract {
                        dst,
                        a,
                        lo: 0,
                        w: to,
                    }))
                }
            }
            Op::Concat => {
                let mut acc = self.word_slot(args[0])?;
                for &a in &args[1..] {
                    let lo_w = self.width(a)?;
                    let lo = self.word_slot(a)?;
                    let dst = self.slot();
                    self.steps.push(Step::Concat {
                        dst,
                        hi: acc,
                        lo,
                        lo_w,
                    });
                    acc = dst;
                }
                Ok(Compiled::Place(Place {
                    shape: Shape::Word(Kind::Bv(self.width(n)?)),
                    slots: vec![acc],
                }))
            }
            Op::Replicate => {
                let w = self.width(args[0])?;
                let k = self.static_int(args[1])?;
                let a = self.word_slot(args[0])?;
                if u64::from(w) * u64::from(k) > 128 || k == 0 {
                    return unsupported("a replicate wider than 128 bits");
                }
                Ok(
                    self.emit(Shape::Word(Kind::Bv(w * k)), |dst| Step::Replicate {
                        dst,
                        a,
                        w,
                        k,
                    }),
                )
            }
            Op::Int2Bv => {
                let w = self.width(n)?;
                let a = self.word_slot(args[1])?;
                Ok(self.emit(Shape::Word(Kind::Bv(w)), |dst| Step::Int2Bv { dst, a, w }))
            }
            Op::Bv2Nat => {
                let w = self.width(args[0])?;
                let a = self.word_slot(args[0])?;
                Ok(self.emit(Shape::Word(Kind::Int), |dst| Step::Bv2Nat { dst, a, w }))
            }
            other => unsupported(format!("`{other}` on values known only at run time")),
        }
    }
}
