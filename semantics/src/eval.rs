//! The concrete evaluator: the meaning of every operator on concrete values,
//! and evaluation of formula-graph nodes under an assignment of variables.
//!
//! This is the reference the SMT encoding is tested against, the engine of
//! the CLIF interpreter, and what recomputes every subterm of a
//! counterexample.

use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

use crate::graph::{Graph, NodeId, NodeKind, VarId};
use crate::infer::Typing;
use crate::op::Op;
use crate::ty::{Enums, Ty};
use crate::value::{BitVec, Value};
use crate::Literal;

/// The largest bitvector width the evaluator and inference accept.
pub const MAX_WIDTH: u32 = 1024;

/// Why a value could not be computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// A variable has no value.
    Unbound(VarId),
    /// The operands do not fit the operator (a type error inference missed,
    /// or a value of the wrong shape supplied from outside).
    Type(String),
    /// A width or index out of range.
    Range(String),
    /// A floating-point or otherwise unsupported construct.
    Unsupported(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Unbound(v) => write!(f, "variable #{} has no value", v.0),
            EvalError::Type(m) | EvalError::Range(m) | EvalError::Unsupported(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EvalError {}

fn bool_arg(op: Op, v: &Value) -> Result<bool, EvalError> {
    v.as_bool()
        .ok_or_else(|| EvalError::Type(format!("`{op}` expects Bool operands")))
}

fn int_arg(op: Op, v: &Value) -> Result<&BigInt, EvalError> {
    v.as_int()
        .ok_or_else(|| EvalError::Type(format!("`{op}` expects Int operands")))
}

fn bv_arg(op: Op, v: &Value) -> Result<&BitVec, EvalError> {
    v.as_bv()
        .ok_or_else(|| EvalError::Type(format!("`{op}` expects bitvector operands")))
}

/// A static width or index argument as `u32`, checked against [`MAX_WIDTH`].
pub fn width_arg(op: Op, v: &Value) -> Result<u32, EvalError> {
    let i = int_arg(op, v)?;
    match i.to_u32() {
        Some(w) if w <= MAX_WIDTH => Ok(w),
        _ => Err(EvalError::Range(format!(
            "`{op}`: {i} is not a width between 0 and {MAX_WIDTH}"
        ))),
    }
}

fn same_widths(op: Op, args: &[&BitVec]) -> Result<(), EvalError> {
    if args.windows(2).any(|w| w[0].width() != w[1].width()) {
        return Err(EvalError::Type(format!("`{op}` operands differ in width")));
    }
    Ok(())
}

fn fold_bv(
    op: Op,
    args: &[Value],
    f: impl Fn(&BitVec, &BitVec) -> BitVec,
) -> Result<Value, EvalError> {
    let bvs = args
        .iter()
        .map(|a| bv_arg(op, a))
        .collect::<Result<Vec<_>, _>>()?;
    same_widths(op, &bvs)?;
    let mut acc = bvs[0].clone();
    for b in &bvs[1..] {
        acc = f(&acc, b);
    }
    Ok(Value::Bv(acc))
}

fn compare_bv(
    op: Op,
    args: &[Value],
    f: impl Fn(&BitVec, &BitVec) -> bool,
) -> Result<Value, EvalError> {
    let (a, b) = (bv_arg(op, &args[0])?, bv_arg(op, &args[1])?);
    same_widths(op, &[a, b])?;
    Ok(Value::Bool(f(a, b)))
}

fn compare_int(
    op: Op,
    args: &[Value],
    f: impl Fn(&BigInt, &BigInt) -> bool,
) -> Result<Value, EvalError> {
    Ok(Value::Bool(f(
        int_arg(op, &args[0])?,
        int_arg(op, &args[1])?,
    )))
}

/// Applies an operator to concrete arguments. `If` is applied strictly here;
/// graph evaluation evaluates only the chosen branch.
pub fn apply(op: Op, args: &[Value]) -> Result<Value, EvalError> {
    if !op.node_arity().accepts(args.len()) {
        return Err(EvalError::Type(format!(
            "`{op}` takes {} arguments, got {}",
            op.arity(),
            args.len()
        )));
    }
    let unary = |f: fn(&BitVec) -> BitVec| -> Result<Value, EvalError> {
        Ok(Value::Bv(f(bv_arg(op, &args[0])?)))
    };
    match op {
        Op::Eq => Ok(Value::Bool(args.windows(2).all(|w| w[0] == w[1]))),
        Op::And => args
            .iter()
            .try_fold(true, |acc, a| Ok(bool_arg(op, a)? && acc))
            .map(Value::Bool),
        Op::Or => args
            .iter()
            .try_fold(false, |acc, a| Ok(bool_arg(op, a)? || acc))
            .map(Value::Bool),
        Op::Not => Ok(Value::Bool(!bool_arg(op, &args[0])?)),
        Op::Imp => Ok(Value::Bool(
            !bool_arg(op, &args[0])? || bool_arg(op, &args[1])?,
        )),
        Op::Add => args
            .iter()
            .try_fold(BigInt::zero(), |acc, a| Ok(acc + int_arg(op, a)?))
            .map(Value::Int),
        Op::Sub if args.len() == 1 => Ok(Value::Int(-int_arg(op, &args[0])?.clone())),
        Op::Sub => Ok(Value::Int(int_arg(op, &args[0])? - int_arg(op, &args[1])?)),
        Op::Mul => args
            .iter()
            .try_fold(BigInt::from(1), |acc, a| Ok(acc * int_arg(op, a)?))
            .map(Value::Int),
        Op::Lt => compare_int(op, args, |a, b| a < b),
        Op::Lte => compare_int(op, args, |a, b| a <= b),
        Op::Gt => compare_int(op, args, |a, b| a > b),
        Op::Gte => compare_int(op, args, |a, b| a >= b),
        Op::BvNot => unary(BitVec::not),
        Op::BvNeg => unary(BitVec::neg),
        Op::Popcnt => unary(BitVec::popcnt),
        Op::Clz => unary(BitVec::clz),
        Op::Cls => unary(BitVec::cls),
        Op::Rev => unary(BitVec::rev),
        Op::BvAnd => fold_bv(op, args, BitVec::and),
        Op::BvOr => fold_bv(op, args, BitVec::or),
        Op::BvXor => fold_bv(op, args, BitVec::xor),
        Op::BvAdd => fold_bv(op, args, BitVec::add),
        Op::BvSub => fold_bv(op, args, BitVec::sub),
        Op::BvMul => fold_bv(op, args, BitVec::mul),
        Op::BvUdiv => fold_bv(op, args, BitVec::udiv),
        Op::BvUrem => fold_bv(op, args, BitVec::urem),
        Op::BvSdiv => fold_bv(op, args, BitVec::sdiv),
        Op::BvSrem => fold_bv(op, args, BitVec::srem),
        Op::BvShl => fold_bv(op, args, BitVec::shl),
        Op::BvLshr => fold_bv(op, args, BitVec::lshr),
        Op::BvAshr => fold_bv(op, args, BitVec::ashr),
        Op::Rotl => fold_bv(op, args, BitVec::rotl),
        Op::Rotr => fold_bv(op, args, BitVec::rotr),
        Op::BvUle => compare_bv(op, args, |a, b| !b.ult(a)),
        Op::BvUlt => compare_bv(op, args, BitVec::ult),
        Op::BvUgt => compare_bv(op, args, |a, b| b.ult(a)),
        Op::BvUge => compare_bv(op, args, |a, b| !a.ult(b)),
        Op::BvSlt => compare_bv(op, args, BitVec::slt),
        Op::BvSle => compare_bv(op, args, |a, b| !b.slt(a)),
        Op::BvSgt => compare_bv(op, args, |a, b| b.slt(a)),
        Op::BvSge => compare_bv(op, args, |a, b| !a.slt(b)),
        Op::BvSaddo => compare_bv(op, args, BitVec::saddo),
        Op::Extract => {
            let hi = width_arg(op, &args[0])?;
            let lo = width_arg(op, &args[1])?;
            let x = bv_arg(op, &args[2])?;
            if lo > hi || hi >= x.width() {
                return Err(EvalError::Range(format!(
                    "`(extract {hi} {lo} _)` of a {}-bit value",
                    x.width()
                )));
            }
            Ok(Value::Bv(x.extract(hi, lo)))
        }
        Op::ZeroExt | Op::SignExt => {
            let w = width_arg(op, &args[0])?;
            let x = bv_arg(op, &args[1])?;
            if w < x.width() || w == 0 {
                return Err(EvalError::Range(format!(
                    "`{op}` to {w} bits of a {}-bit value",
                    x.width()
                )));
            }
            Ok(Value::Bv(if op == Op::ZeroExt {
                x.zext(w)
            } else {
                x.sext(w)
            }))
        }
        Op::ConvTo => {
            let w = width_arg(op, &args[0])?;
            if w == 0 {
                return Err(EvalError::Range("`conv_to` to 0 bits".into()));
            }
            let x = bv_arg(op, &args[1])?;
            if w <= x.width() {
                return Ok(Value::Bv(x.extract(w - 1, 0)));
            }
            // Widening: the bits above `x` come from the padding.
            let Some(pad) = args.get(2) else {
                return Err(EvalError::Range(
                    "a widening `conv_to` without its padding".into(),
                ));
            };
            let pad = bv_arg(op, pad)?;
            if pad.width() != w {
                return Err(EvalError::Type(format!(
                    "the padding of `conv_to {w}` has {} bits",
                    pad.width()
                )));
            }
            Ok(Value::Bv(pad.extract(w - 1, x.width()).concat(x)))
        }
        Op::Int2Bv => {
            let w = width_arg(op, &args[0])?;
            if w == 0 {
                return Err(EvalError::Range("`int2bv` to 0 bits".into()));
            }
            Ok(Value::Bv(BitVec::from_int(w, int_arg(op, &args[1])?)))
        }
        Op::Concat => {
            let mut acc = bv_arg(op, &args[0])?.clone();
            for a in &args[1..] {
                acc = acc.concat(bv_arg(op, a)?);
            }
            if acc.width() > MAX_WIDTH {
                return Err(EvalError::Range(format!(
                    "`concat` wider than {MAX_WIDTH} bits"
                )));
            }
            Ok(Value::Bv(acc))
        }
        Op::Replicate => {
            let x = bv_arg(op, &args[0])?;
            let k = width_arg(op, &args[1])?;
            if k == 0 || u64::from(k) * u64::from(x.width()) > u64::from(MAX_WIDTH) {
                return Err(EvalError::Range(format!("`replicate` {k} times")));
            }
            let mut acc = x.clone();
            for _ in 1..k {
                acc = acc.concat(x);
            }
            Ok(Value::Bv(acc))
        }
        Op::Bv2Nat => Ok(Value::Int(BigInt::from(
            bv_arg(op, &args[0])?.unsigned().clone(),
        ))),
        Op::WidthOf => Ok(Value::Int(BigInt::from(bv_arg(op, &args[0])?.width()))),
        Op::If => {
            if bool_arg(op, &args[0])? {
                Ok(args[1].clone())
            } else {
                Ok(args[2].clone())
            }
        }
    }
}

/// Evaluates nodes of a typed graph under an assignment of its variables,
/// memoizing every node's value.
pub struct Evaluator<'a> {
    graph: &'a Graph,
    typing: &'a Typing,
    enums: &'a Enums,
    memo: Vec<Option<Value>>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `graph` with the types inference gave it.
    pub fn new(graph: &'a Graph, typing: &'a Typing, enums: &'a Enums) -> Evaluator<'a> {
        Evaluator {
            graph,
            typing,
            enums,
            memo: vec![None; graph.nodes.len()],
        }
    }

    /// The value of node `n` with variables read from `env`.
    pub fn eval(
        &mut self,
        n: NodeId,
        env: &dyn Fn(VarId) -> Option<Value>,
    ) -> Result<Value, EvalError> {
        if let Some(v) = &self.memo[n.0 as usize] {
            return Ok(v.clone());
        }
        let v = self.compute(n, env)?;
        self.memo[n.0 as usize] = Some(v.clone());
        Ok(v)
    }

    fn compute(
        &mut self,
        n: NodeId,
        env: &dyn Fn(VarId) -> Option<Value>,
    ) -> Result<Value, EvalError> {
        if let Some(target) = self.typing.redirect(n) {
            return self.eval(target, env);
        }
        let node = self.graph.node(n);
        match &node.kind {
            NodeKind::Var(v) => env(*v).ok_or(EvalError::Unbound(*v)),
            NodeKind::Const(lit) => Ok(literal_value(lit)),
            NodeKind::Op(Op::WidthOf) => match self.typing.ty(node.args[0]) {
                Some(Ty::Bv(w)) => Ok(Value::Int(BigInt::from(*w))),
                _ => apply(Op::WidthOf, &[self.eval(node.args[0], env)?]),
            },
            NodeKind::Op(Op::If) => {
                let c = self.eval(node.args[0], env)?;
                let branch = if bool_arg(Op::If, &c)? { 1 } else { 2 };
                self.eval(node.args[branch], env)
            }
            NodeKind::Op(Op::ConvTo) if node.args.len() == 3 => {
                // The padding is read only when the conversion widens: a
                // narrowing one does not depend on it.
                let mut args = vec![self.eval(node.args[0], env)?, self.eval(node.args[1], env)?];
                let target = width_arg(Op::ConvTo, &args[0])?;
                if args[1].as_bv().is_some_and(|x| target > x.width()) {
                    args.push(self.eval(node.args[2], env)?);
                }
                apply(Op::ConvTo, &args)
            }
            NodeKind::Op(op) => {
                let args = node
                    .args
                    .iter()
                    .map(|&a| self.eval(a, env))
                    .collect::<Result<Vec<_>, _>>()?;
                apply(*op, &args)
            }
            NodeKind::Field(name) => match self.eval(node.args[0], env)? {
                Value::Struct(fields) => fields
                    .into_iter()
                    .find(|(f, _)| f == name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| EvalError::Type(format!("no field `{name}`"))),
                _ => Err(EvalError::Type(format!("`:{name}` of a non-struct"))),
            },
            NodeKind::IsVariant(_) => {
                let (_, want) = self.variant_of(n)?;
                let (variant, _) = self.enum_value(node.args[0], env)?;
                Ok(Value::Bool(variant == want))
            }
            NodeKind::VariantField(_, i) => {
                let (_, want) = self.variant_of(n)?;
                let (variant, fields) = self.enum_value(node.args[0], env)?;
                if variant == want {
                    Ok(fields[*i].clone())
                } else {
                    // The arm is not taken; its binders are never observed.
                    default_value(self.typing.ty(n), self.enums)
                }
            }
            NodeKind::Match(_) => {
                let (variant, _) = self.enum_value(node.args[0], env)?;
                let arms = self.typing.arms(n);
                match arms.iter().position(|&a| a == variant) {
                    Some(i) => self.eval(node.args[1 + i], env),
                    None => self.eval(*node.args.last().unwrap_or(&n), env),
                }
            }
            NodeKind::MakeEnum(enum_id, variant) => {
                let fields = node
                    .args
                    .iter()
                    .map(|&a| self.eval(a, env))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Enum {
                    enum_id: *enum_id,
                    variant: *variant,
                    fields,
                })
            }
            NodeKind::MakeStruct(names) => {
                let mut fields = Vec::new();
                for (name, &a) in names.iter().zip(&node.args) {
                    fields.push((name.clone(), self.eval(a, env)?));
                }
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Value::Struct(fields))
            }
            NodeKind::As(_) => self.eval(node.args[0], env),
            NodeKind::Forall(_) => Err(EvalError::Unsupported(
                "a quantified condition cannot be evaluated concretely".into(),
            )),
            NodeKind::Switch => {
                let x = self.eval(node.args[0], env)?;
                let pairs = (node.args.len() - 2) / 2;
                for i in 0..pairs {
                    if self.eval(node.args[1 + 2 * i], env)? == x {
                        return self.eval(node.args[2 + 2 * i], env);
                    }
                }
                self.eval(node.args[node.args.len() - 1], env)
            }
        }
    }

    fn variant_of(&self, n: NodeId) -> Result<(crate::ty::EnumId, usize), EvalError> {
        self.typing
            .variant(n)
            .ok_or_else(|| EvalError::Type("unresolved enum variant".into()))
    }

    fn enum_value(
        &mut self,
        n: NodeId,
        env: &dyn Fn(VarId) -> Option<Value>,
    ) -> Result<(usize, Vec<Value>), EvalError> {
        match self.eval(n, env)? {
            Value::Enum {
                variant, fields, ..
            } => Ok((variant, fields)),
            _ => Err(EvalError::Type("expected an enum value".into())),
        }
    }
}

/// The value of a literal.
pub fn literal_value(lit: &Literal) -> Value {
    match lit {
        Literal::Int(i) => Value::Int(BigInt::from(*i)),
        Literal::Bv { value, width } => Value::Bv(BitVec::from_u128(*width, *value)),
        Literal::Bool(b) => Value::Bool(*b),
    }
}

/// A value of the given type: zero, false, the first variant. Used for parts
/// of a value nobody can observe.
pub fn default_value(ty: Option<&Ty>, enums: &Enums) -> Result<Value, EvalError> {
    Ok(match ty {
        Some(Ty::Bool) => Value::Bool(false),
        Some(Ty::Int) => Value::Int(BigInt::zero()),
        Some(Ty::Unit) => Value::Unit,
        Some(Ty::Unspecified) => Value::Opaque(0),
        Some(Ty::Bv(w)) => Value::Bv(BitVec::zero(*w)),
        Some(Ty::Struct(fields)) => Value::Struct(
            fields
                .iter()
                .map(|(n, t)| Ok((n.clone(), default_value(Some(t), enums)?)))
                .collect::<Result<_, EvalError>>()?,
        ),
        Some(Ty::Enum(id)) => Value::Enum {
            enum_id: *id,
            variant: 0,
            fields: enums.get(*id).variants[0]
                .fields
                .iter()
                .map(|(_, t)| default_value(Ty::from_model(t).as_ref(), enums))
                .collect::<Result<_, _>>()?,
        },
        None => return Err(EvalError::Type("untyped node".into())),
    })
}
