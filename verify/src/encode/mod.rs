//! The SMT encoding of a typed formula graph in z3. This is the only module
//! that builds z3 terms; its meaning must match the concrete evaluator of
//! `loweq_semantics::eval` (a property test checks that it does).
//!
//! Composite values (structs, enums) are flattened: a struct is its fields,
//! an enum a discriminant bitvector plus the fields of every variant.
//!
//! This module owns the encoder and the composite values' equality and
//! `if`; the circuits of operators that z3 has no (good) encoding of are
//! `circuit`'s, concrete values to and from z3 `model`'s.

use std::collections::HashMap;

use loweq_semantics::eval::Evaluator;
use loweq_semantics::graph::{Graph, NodeId, NodeKind, VarId};
use loweq_semantics::infer::Typing;
use loweq_semantics::op::Op;
use loweq_semantics::ty::{EnumId, Enums, Ty};
use loweq_semantics::value::BitVec;
use loweq_semantics::Literal;
use z3::ast::{Ast, Bool, Int, BV};

mod circuit;
mod model;

pub use model::{read, value};

use circuit::{cls, clz, popcnt, rev, rotate};

/// A z3 value of some model type.
#[derive(Clone, Debug)]
pub enum Z {
    /// Boolean.
    Bool(Bool),
    /// Integer (also the carrier of the unspecified type).
    Int(Int),
    /// Bitvector.
    Bv(BV),
    /// Unit.
    Unit,
    /// Struct fields, sorted by name.
    Struct(Vec<(String, Z)>),
    /// Enum: discriminant and per-variant fields.
    Enum {
        /// Which enum.
        id: EnumId,
        /// The variant index.
        disc: BV,
        /// Fields of each variant.
        fields: Vec<Vec<Z>>,
    },
}

/// Why a node could not be encoded.
#[derive(Clone, Debug)]
pub struct EncodeError {
    /// The node.
    pub node: NodeId,
    /// What went wrong.
    pub message: String,
}

type R<T> = Result<T, EncodeError>;

/// Encodes nodes of one graph under one typing.
pub struct Encoder<'a> {
    graph: &'a Graph,
    typing: &'a Typing,
    enums: &'a Enums,
    vars: HashMap<VarId, Z>,
    memo: HashMap<NodeId, Z>,
    statics: Evaluator<'a>,
    /// Well-formedness constraints (enum discriminants in range), by the
    /// variable they constrain.
    wf: Vec<(VarId, Bool)>,
    /// The variable being encoded, whose constraints `fresh` records.
    current: Option<VarId>,
    /// Variables bound by a quantifier: their constraints are inside it.
    bound: Vec<VarId>,
    /// Whether the formulas use integers or quantifiers (otherwise they are
    /// pure bitvector formulas, which z3's QF_BV solver is fastest on).
    pub beyond_bv: bool,
}

fn err(node: NodeId, message: impl Into<String>) -> EncodeError {
    EncodeError {
        node,
        message: message.into(),
    }
}

impl<'a> Encoder<'a> {
    /// An encoder.
    pub fn new(graph: &'a Graph, typing: &'a Typing, enums: &'a Enums) -> Encoder<'a> {
        Encoder {
            graph,
            typing,
            enums,
            vars: HashMap::new(),
            memo: HashMap::new(),
            statics: Evaluator::new(graph, typing, enums),
            wf: Vec::new(),
            current: None,
            bound: Vec::new(),
            beyond_bv: false,
        }
    }

    /// The well-formedness constraints of the free variables encoded so far.
    pub fn wellformed(&self) -> Vec<Bool> {
        self.wf
            .iter()
            .filter(|(v, _)| !self.bound.contains(v))
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// The z3 value of a variable, if it was encoded.
    pub fn var(&self, v: VarId) -> Option<&Z> {
        self.vars.get(&v)
    }

    /// Encodes a boolean node.
    pub fn bool(&mut self, n: NodeId) -> R<Bool> {
        match self.node(n)? {
            Z::Bool(b) => Ok(b),
            _ => Err(err(n, "expected a boolean")),
        }
    }

    fn ty(&self, n: NodeId) -> R<Ty> {
        self.typing
            .ty(n)
            .cloned()
            .ok_or_else(|| err(n, "node has no type"))
    }

    fn fresh(&mut self, name: &str, ty: &Ty) -> Z {
        match ty {
            Ty::Bool => Z::Bool(Bool::new_const(name)),
            Ty::Int | Ty::Unspecified => {
                self.beyond_bv = true;
                Z::Int(Int::new_const(name))
            }
            Ty::Unit => Z::Unit,
            Ty::Bv(w) => Z::Bv(BV::new_const(name, *w)),
            Ty::Struct(fields) => Z::Struct(
                fields
                    .iter()
                    .map(|(f, t)| (f.clone(), self.fresh(&format!("{name}.{f}"), t)))
                    .collect(),
            ),
            Ty::Enum(id) => {
                let def = self.enums.get(*id).clone();
                let bits = def.discriminant_bits();
                let disc = BV::new_const(format!("{name}.variant"), bits);
                let n = def.variants.len() as u64;
                if n < (1u64 << bits) {
                    let v = self.current.expect("constraints belong to a variable");
                    self.wf.push((v, disc.bvult(BV::from_u64(n, bits))));
                }
                let fields = def
                    .variants
                    .iter()
                    .map(|v| {
                        v.fields
                            .iter()
                            .map(|(f, t)| {
                                let t = Ty::from_model(t).unwrap_or(Ty::Unspecified);
                                self.fresh(&format!("{name}.{}.{f}", v.name), &t)
                            })
                            .collect()
                    })
                    .collect();
                Z::Enum {
                    id: *id,
                    disc,
                    fields,
                }
            }
        }
    }

    fn default(&self, ty: &Ty) -> Z {
        match ty {
            Ty::Bool => Z::Bool(Bool::from_bool(false)),
            Ty::Int | Ty::Unspecified => Z::Int(Int::from_i64(0)),
            Ty::Unit => Z::Unit,
            Ty::Bv(w) => Z::Bv(BV::from_u64(0, *w)),
            Ty::Struct(fields) => Z::Struct(
                fields
                    .iter()
                    .map(|(f, t)| (f.clone(), self.default(t)))
                    .collect(),
            ),
            Ty::Enum(id) => {
                let def = self.enums.get(*id);
                Z::Enum {
                    id: *id,
                    disc: BV::from_u64(0, def.discriminant_bits()),
                    fields: def
                        .variants
                        .iter()
                        .map(|v| {
                            v.fields
                                .iter()
                                .map(|(_, t)| {
                                    self.default(&Ty::from_model(t).unwrap_or(Ty::Unspecified))
                                })
                                .collect()
                        })
                        .collect(),
                }
            }
        }
    }

    /// Encodes a node (memoized).
    pub fn node(&mut self, n: NodeId) -> R<Z> {
        if let Some(z) = self.memo.get(&n) {
            return Ok(z.clone());
        }
        let z = match self.typing.redirect(n) {
            Some(t) => self.node(t)?,
            None => self.compute(n)?,
        };
        self.memo.insert(n, z.clone());
        Ok(z)
    }

    fn bv(&mut self, n: NodeId) -> R<BV> {
        match self.node(n)? {
            Z::Bv(b) => Ok(b),
            _ => Err(err(n, "expected a bitvector")),
        }
    }

    fn int(&mut self, n: NodeId) -> R<Int> {
        match self.node(n)? {
            Z::Int(i) => Ok(i),
            _ => Err(err(n, "expected an integer")),
        }
    }

    /// The value of a node that does not depend on any variable the solver
    /// chooses: constants, `widthof`, and integers pinned by assumed
    /// equalities. Folding these keeps integer arithmetic (and the costly
    /// `int2bv`) out of the formulas, so z3 sees pure bitvector problems.
    fn fold(&mut self, n: NodeId) -> Option<Z> {
        let ty = self.typing.ty(n)?;
        if !matches!(ty, Ty::Int | Ty::Bool | Ty::Bv(_)) {
            return None;
        }
        let typing = self.typing;
        let v = self
            .statics
            .eval(n, &|v| typing.static_var(v).cloned())
            .ok()?;
        value(&v)
    }

    fn compute(&mut self, n: NodeId) -> R<Z> {
        let node = self.graph.node(n).clone();
        let args = &node.args;
        if !matches!(node.kind, NodeKind::Const(_) | NodeKind::Forall(_)) {
            if let Some(z) = self.fold(n) {
                return Ok(z);
            }
        }
        Ok(match &node.kind {
            NodeKind::Var(v) => {
                if let Some(z) = self.vars.get(v) {
                    return Ok(z.clone());
                }
                let ty = self.ty(n)?;
                let name = format!("{}!{}", self.graph.vars[v.0 as usize].name, v.0);
                self.current = Some(*v);
                let z = self.fresh(&name, &ty);
                self.current = None;
                self.vars.insert(*v, z.clone());
                z
            }
            NodeKind::Const(lit) => match lit {
                Literal::Bool(b) => Z::Bool(Bool::from_bool(*b)),
                Literal::Int(i) => Z::Int(Int::from_i128(*i)),
                Literal::Bv { value, width } => Z::Bv(bv_const(&BitVec::from_u128(*width, *value))),
            },
            NodeKind::Op(op) => self.op(n, *op, args)?,
            NodeKind::Field(name) => match self.node(args[0])? {
                Z::Struct(fields) => fields
                    .into_iter()
                    .find(|(f, _)| f == name)
                    .map(|(_, z)| z)
                    .ok_or_else(|| err(n, format!("no field `{name}`")))?,
                _ => return Err(err(n, "field of a non-struct")),
            },
            NodeKind::IsVariant(_) => {
                let (_, idx) = self.variant(n)?;
                let Z::Enum { disc, .. } = self.node(args[0])? else {
                    return Err(err(n, "expected an enum"));
                };
                Z::Bool(disc.eq(BV::from_u64(idx as u64, disc.get_size())))
            }
            NodeKind::VariantField(_, i) => {
                let (_, idx) = self.variant(n)?;
                let Z::Enum { fields, .. } = self.node(args[0])? else {
                    return Err(err(n, "expected an enum"));
                };
                fields[idx][*i].clone()
            }
            NodeKind::Match(_) => {
                let Z::Enum { disc, .. } = self.node(args[0])? else {
                    return Err(err(n, "expected an enum"));
                };
                let arms = self.typing.arms(n).to_vec();
                let mut acc = self.node(*args.last().expect("match has a default"))?;
                for (i, &variant) in arms.iter().enumerate().rev() {
                    let body = self.node(args[1 + i])?;
                    let c = disc.eq(BV::from_u64(variant as u64, disc.get_size()));
                    acc = ite(&c, &body, &acc);
                }
                acc
            }
            NodeKind::MakeEnum(id, variant) => {
                let Z::Enum {
                    disc, mut fields, ..
                } = self.default(&Ty::Enum(*id))
                else {
                    unreachable!()
                };
                let size = disc.get_size();
                fields[*variant] = args.iter().map(|&a| self.node(a)).collect::<R<_>>()?;
                Z::Enum {
                    id: *id,
                    disc: BV::from_u64(*variant as u64, size),
                    fields,
                }
            }
            NodeKind::MakeStruct(names) => {
                let mut fields: Vec<(String, Z)> = Vec::new();
                for (name, &a) in names.iter().zip(args) {
                    fields.push((name.clone(), self.node(a)?));
                }
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Z::Struct(fields)
            }
            NodeKind::As(_) => self.node(args[0])?,
            NodeKind::Switch => {
                let x = self.node(args[0])?;
                let mut acc = self.node(*args.last().expect("switch has a default"))?;
                let pairs = (args.len() - 2) / 2;
                for i in (0..pairs).rev() {
                    let c = self.node(args[1 + 2 * i])?;
                    let v = self.node(args[2 + 2 * i])?;
                    acc = ite(&equal(&x, &c), &v, &acc);
                }
                acc
            }
            NodeKind::Forall(vs) => {
                self.beyond_bv = true;
                let body = self.bool(args[0])?;
                let mut bound: Vec<Box<dyn Ast>> = Vec::new();
                for v in vs {
                    if let Some(z) = self.vars.get(v) {
                        leaves(z, &mut bound);
                    }
                }
                // The bound variables range over well-formed values only:
                // forall v. wf(v) => body.
                self.bound.extend(vs.iter().copied());
                let wf: Vec<Bool> = self
                    .wf
                    .iter()
                    .filter(|(v, _)| vs.contains(v))
                    .map(|(_, c)| c.clone())
                    .collect();
                let body = if wf.is_empty() {
                    body
                } else {
                    Bool::and(&wf).implies(&body)
                };
                if bound.is_empty() {
                    Z::Bool(body)
                } else {
                    let refs: Vec<&dyn Ast> = bound.iter().map(|b| b.as_ref()).collect();
                    Z::Bool(z3::ast::forall_const(&refs, &[], &body))
                }
            }
        })
    }

    fn variant(&self, n: NodeId) -> R<(EnumId, usize)> {
        self.typing
            .variant(n)
            .ok_or_else(|| err(n, "unresolved variant"))
    }

    fn statics(&self, n: NodeId) -> R<Vec<u32>> {
        self.typing
            .static_args(n)
            .map(|a| a.to_vec())
            .ok_or_else(|| err(n, "width arguments were not resolved"))
    }

    fn op(&mut self, n: NodeId, op: Op, args: &[NodeId]) -> R<Z> {
        let bools = |s: &mut Self| args.iter().map(|&a| s.bool(a)).collect::<R<Vec<_>>>();
        let ints = |s: &mut Self| args.iter().map(|&a| s.int(a)).collect::<R<Vec<_>>>();
        let bvs = |s: &mut Self| args.iter().map(|&a| s.bv(a)).collect::<R<Vec<_>>>();
        Ok(match op {
            Op::Eq => {
                let zs = args.iter().map(|&a| self.node(a)).collect::<R<Vec<_>>>()?;
                let eqs: Vec<Bool> = zs.windows(2).map(|w| equal(&w[0], &w[1])).collect();
                Z::Bool(Bool::and(&eqs))
            }
            Op::And => Z::Bool(Bool::and(&bools(self)?)),
            Op::Or => Z::Bool(Bool::or(&bools(self)?)),
            Op::Not => Z::Bool(self.bool(args[0])?.not()),
            Op::Imp => Z::Bool(self.bool(args[0])?.implies(self.bool(args[1])?)),
            Op::Add => Z::Int(Int::add(&ints(self)?)),
            Op::Sub if args.len() == 1 => Z::Int(self.int(args[0])?.unary_minus()),
            Op::Sub => Z::Int(Int::sub(&ints(self)?)),
            Op::Mul => Z::Int(Int::mul(&ints(self)?)),
            Op::Lt => Z::Bool(self.int(args[0])?.lt(self.int(args[1])?)),
            Op::Lte => Z::Bool(self.int(args[0])?.le(self.int(args[1])?)),
            Op::Gt => Z::Bool(self.int(args[0])?.gt(self.int(args[1])?)),
            Op::Gte => Z::Bool(self.int(args[0])?.ge(self.int(args[1])?)),
            Op::BvNot => Z::Bv(self.bv(args[0])?.bvnot()),
            Op::BvNeg => Z::Bv(self.bv(args[0])?.bvneg()),
            Op::BvAnd | Op::BvOr | Op::BvXor | Op::BvAdd | Op::BvMul => {
                let xs = bvs(self)?;
                let mut acc = xs[0].clone();
                for x in &xs[1..] {
                    acc = match op {
                        Op::BvAnd => acc.bvand(x),
                        Op::BvOr => acc.bvor(x),
                        Op::BvXor => acc.bvxor(x),
                        Op::BvAdd => acc.bvadd(x),
                        _ => acc.bvmul(x),
                    };
                }
                Z::Bv(acc)
            }
            Op::BvSub
            | Op::BvUdiv
            | Op::BvUrem
            | Op::BvSdiv
            | Op::BvSrem
            | Op::BvShl
            | Op::BvLshr
            | Op::BvAshr
            | Op::Rotl
            | Op::Rotr => {
                let (a, b) = (self.bv(args[0])?, self.bv(args[1])?);
                Z::Bv(match op {
                    Op::BvSub => a.bvsub(&b),
                    Op::BvUdiv => a.bvudiv(&b),
                    Op::BvUrem => a.bvurem(&b),
                    Op::BvSdiv => a.bvsdiv(&b),
                    Op::BvSrem => a.bvsrem(&b),
                    Op::BvShl => a.bvshl(&b),
                    Op::BvLshr => a.bvlshr(&b),
                    Op::BvAshr => a.bvashr(&b),
                    Op::Rotl => rotate(&a, &b, true),
                    _ => rotate(&a, &b, false),
                })
            }
            Op::BvUle
            | Op::BvUlt
            | Op::BvUgt
            | Op::BvUge
            | Op::BvSlt
            | Op::BvSle
            | Op::BvSgt
            | Op::BvSge
            | Op::BvSaddo => {
                let (a, b) = (self.bv(args[0])?, self.bv(args[1])?);
                Z::Bool(match op {
                    Op::BvUle => a.bvule(&b),
                    Op::BvUlt => a.bvult(&b),
                    Op::BvUgt => a.bvugt(&b),
                    Op::BvUge => a.bvuge(&b),
                    Op::BvSlt => a.bvslt(&b),
                    Op::BvSle => a.bvsle(&b),
                    Op::BvSgt => a.bvsgt(&b),
                    Op::BvSge => a.bvsge(&b),
                    _ => {
                        Bool::and(&[a.bvadd_no_overflow(&b, true), a.bvadd_no_underflow(&b)]).not()
                    }
                })
            }
            Op::Extract => {
                let s = self.statics(n)?;
                Z::Bv(self.bv(args[2])?.extract(s[0], s[1]))
            }
            Op::ZeroExt | Op::SignExt | Op::ConvTo => {
                let w = self.statics(n)?[0];
                let x = self.bv(args[1])?;
                let xw = x.get_size();
                Z::Bv(match op {
                    Op::ZeroExt => x.zero_ext(w - xw),
                    Op::SignExt => x.sign_ext(w - xw),
                    _ if w <= xw => x.extract(w - 1, 0),
                    // Widening: fresh bits from the padding variable.
                    _ => {
                        let Some(&pad) = args.get(2) else {
                            return Err(err(n, "a widening `conv_to` without its padding"));
                        };
                        self.bv(pad)?.extract(w - 1, xw).concat(&x)
                    }
                })
            }
            Op::Int2Bv => {
                self.beyond_bv = true;
                let w = self.statics(n)?[0];
                Z::Bv(BV::from_int(&self.int(args[1])?, w))
            }
            Op::Bv2Nat => {
                self.beyond_bv = true;
                Z::Int(Int::from_bv(&self.bv(args[0])?, false))
            }
            Op::WidthOf => {
                let w = self
                    .ty(args[0])?
                    .width()
                    .ok_or_else(|| err(n, "widthof a non-bitvector"))?;
                Z::Int(Int::from_u64(u64::from(w)))
            }
            Op::Concat => {
                let xs = bvs(self)?;
                let mut acc = xs[0].clone();
                for x in &xs[1..] {
                    acc = acc.concat(x);
                }
                Z::Bv(acc)
            }
            Op::Replicate => {
                let k = self.statics(n)?[0];
                let x = self.bv(args[0])?;
                let mut acc = x.clone();
                for _ in 1..k {
                    acc = acc.concat(&x);
                }
                Z::Bv(acc)
            }
            Op::Popcnt => Z::Bv(popcnt(&self.bv(args[0])?)),
            Op::Clz => Z::Bv(clz(&self.bv(args[0])?)),
            Op::Cls => Z::Bv(cls(&self.bv(args[0])?)),
            Op::Rev => Z::Bv(rev(&self.bv(args[0])?)),
            Op::If => {
                let c = self.bool(args[0])?;
                let (a, b) = (self.node(args[1])?, self.node(args[2])?);
                ite(&c, &a, &b)
            }
        })
    }
}

/// Structural equality of two values of one type.
pub fn equal(a: &Z, b: &Z) -> Bool {
    match (a, b) {
        (Z::Bool(x), Z::Bool(y)) => x.eq(y),
        (Z::Int(x), Z::Int(y)) => x.eq(y),
        (Z::Bv(x), Z::Bv(y)) => x.eq(y),
        (Z::Unit, Z::Unit) => Bool::from_bool(true),
        (Z::Struct(x), Z::Struct(y)) => {
            let parts: Vec<Bool> = x
                .iter()
                .zip(y)
                .map(|((_, p), (_, q))| equal(p, q))
                .collect();
            Bool::and(&parts)
        }
        (
            Z::Enum {
                disc: d1,
                fields: f1,
                ..
            },
            Z::Enum {
                disc: d2,
                fields: f2,
                ..
            },
        ) => {
            let mut parts = vec![d1.eq(d2)];
            for (v, (a, b)) in f1.iter().zip(f2).enumerate() {
                if a.is_empty() {
                    continue;
                }
                let same: Vec<Bool> = a.iter().zip(b).map(|(p, q)| equal(p, q)).collect();
                let is_v = d1.eq(BV::from_u64(v as u64, d1.get_size()));
                parts.push(is_v.implies(Bool::and(&same)));
            }
            Bool::and(&parts)
        }
        _ => Bool::from_bool(false),
    }
}

/// `if c then a else b`, componentwise for composite values.
pub fn ite(c: &Bool, a: &Z, b: &Z) -> Z {
    match (a, b) {
        (Z::Bool(x), Z::Bool(y)) => Z::Bool(c.ite(x, y)),
        (Z::Int(x), Z::Int(y)) => Z::Int(c.ite(x, y)),
        (Z::Bv(x), Z::Bv(y)) => Z::Bv(c.ite(x, y)),
        (Z::Struct(x), Z::Struct(y)) => Z::Struct(
            x.iter()
                .zip(y)
                .map(|((n, p), (_, q))| (n.clone(), ite(c, p, q)))
                .collect(),
        ),
        (
            Z::Enum {
                id,
                disc: d1,
                fields: f1,
            },
            Z::Enum {
                disc: d2,
                fields: f2,
                ..
            },
        ) => Z::Enum {
            id: *id,
            disc: c.ite(d1, d2),
            fields: f1
                .iter()
                .zip(f2)
                .map(|(a, b)| a.iter().zip(b).map(|(p, q)| ite(c, p, q)).collect())
                .collect(),
        },
        _ => a.clone(),
    }
}

fn leaves(z: &Z, out: &mut Vec<Box<dyn Ast>>) {
    match z {
        Z::Bool(b) => out.push(Box::new(b.clone())),
        Z::Int(i) => out.push(Box::new(i.clone())),
        Z::Bv(b) => out.push(Box::new(b.clone())),
        Z::Unit => {}
        Z::Struct(fields) => fields.iter().for_each(|(_, f)| leaves(f, out)),
        Z::Enum { disc, fields, .. } => {
            out.push(Box::new(disc.clone()));
            fields.iter().flatten().for_each(|f| leaves(f, out));
        }
    }
}

/// A z3 bitvector constant.
pub fn bv_const(b: &BitVec) -> BV {
    match b.to_u128().and_then(|v| u64::try_from(v).ok()) {
        Some(v) if b.width() <= 64 => BV::from_u64(v, b.width()),
        _ => BV::from_str(b.width(), &b.unsigned().to_string()).expect("decimal numeral"),
    }
}
