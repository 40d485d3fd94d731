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
//! folded while compiling, with the concrete evaluator's own [`apply`], and
//! an `if`, `match` or `switch` on a constant compiles only the branch
//! taken, so an instruction's spec at one operand size becomes the few
//! operations of that size.
//!
//! The tape computes what [`crate::eval::Evaluator`] computes for the same
//! nodes (tested against it); where it cannot (wider bitvectors, a
//! quantifier, an integer overflowing `i128`), compiling or running it says
//! so and the caller uses the evaluator.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use crate::eval::{apply, default_value, literal_value, EvalError};
use crate::graph::{Graph, NodeId, NodeKind, VarId};
use crate::infer::Typing;
use crate::op::Op;
use crate::ty::{EnumId, Enums, Ty};
use crate::value::{BitVec, Value};

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

/// A node compiled: a constant, or a place computed at run time.
#[derive(Clone, Debug)]
enum Compiled {
    Const(Value),
    Place(Place),
}

/// How a variable gets its value.
#[derive(Clone, Debug)]
enum VarDef {
    Input(Place),
    Fixed(Value),
    Node(NodeId, Option<(u32, u32)>),
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

/// Compiles nodes of one typed graph into a [`Tape`].
pub struct TapeBuilder<'a> {
    graph: &'a Graph,
    typing: &'a Typing,
    enums: &'a Enums,
    var_nodes: HashMap<VarId, NodeId>,
    defs: HashMap<VarId, VarDef>,
    var_memo: HashMap<VarId, Compiled>,
    memo: HashMap<NodeId, Compiled>,
    init: Vec<u128>,
    inputs: Vec<Place>,
    steps: Vec<Step>,
    outputs: Vec<Place>,
    consts: HashMap<u128, u32>,
}

impl<'a> TapeBuilder<'a> {
    /// A builder for `graph` with the types inference gave it.
    pub fn new(graph: &'a Graph, typing: &'a Typing, enums: &'a Enums) -> TapeBuilder<'a> {
        let mut var_nodes = HashMap::new();
        for (i, n) in graph.nodes.iter().enumerate() {
            if let NodeKind::Var(v) = n.kind {
                var_nodes.entry(v).or_insert(NodeId(i as u32));
            }
        }
        TapeBuilder {
            graph,
            typing,
            enums,
            var_nodes,
            defs: HashMap::new(),
            var_memo: HashMap::new(),
            memo: HashMap::new(),
            init: Vec::new(),
            inputs: Vec::new(),
            steps: Vec::new(),
            outputs: Vec::new(),
            consts: HashMap::new(),
        }
    }

    fn shape(&self, n: NodeId) -> Result<Shape, TapeError> {
        let ty = self
            .typing
            .ty(n)
            .ok_or_else(|| TapeError::Unsupported("an untyped node".into()))?;
        Shape::of(ty, self.enums)
            .ok_or_else(|| TapeError::Unsupported("a bitvector wider than 128 bits".into()))
    }

    fn slot(&mut self) -> u32 {
        self.init.push(0);
        (self.init.len() - 1) as u32
    }

    fn place(&mut self, shape: Shape) -> Place {
        let slots = (0..shape.words()).map(|_| self.slot()).collect();
        Place { shape, slots }
    }

    /// Declares `v` an input; inputs are given to [`Tape::run`] in the
    /// order they are declared, flattened ([`Tape::input_shape`]).
    pub fn input(&mut self, v: VarId) -> Result<usize, TapeError> {
        let n = *self.var_nodes.get(&v).ok_or(TapeError::Unbound(v))?;
        let shape = self.shape(n)?;
        let p = self.place(shape);
        self.inputs.push(p.clone());
        self.defs.insert(v, VarDef::Input(p));
        Ok(self.inputs.len() - 1)
    }

    /// Fixes `v` to a constant.
    pub fn fix(&mut self, v: VarId, value: Value) {
        self.defs.insert(v, VarDef::Fixed(value));
    }

    /// Defines `v` as the value of `node`, or as its bits `hi..=lo`.
    pub fn define(&mut self, v: VarId, node: NodeId, slice: Option<(u32, u32)>) {
        self.defs.insert(v, VarDef::Node(node, slice));
    }

    /// Compiles `n` as an output; outputs are numbered in order.
    pub fn output(&mut self, n: NodeId) -> Result<usize, TapeError> {
        let c = self.compile(n)?;
        let p = self.materialize(n, c)?;
        self.outputs.push(p);
        Ok(self.outputs.len() - 1)
    }

    /// The finished tape.
    pub fn finish(self) -> Tape {
        let input_words = self.inputs.iter().map(|p| p.slots.len()).sum();
        Tape {
            init: self.init,
            inputs: self.inputs,
            input_words,
            steps: self.steps,
            outputs: self.outputs,
        }
    }

    /// A place holding a value (constants get slots initialized to them).
    fn materialize(&mut self, n: NodeId, c: Compiled) -> Result<Place, TapeError> {
        match c {
            Compiled::Place(p) => Ok(p),
            Compiled::Const(v) => {
                let shape = self.shape(n)?;
                self.const_place(shape, &v)
            }
        }
    }

    fn const_place(&mut self, shape: Shape, v: &Value) -> Result<Place, TapeError> {
        let mut words = Vec::new();
        shape
            .flatten(v, &mut words)
            .ok_or_else(|| TapeError::Unsupported("a constant that does not fit".into()))?;
        let slots = words.iter().map(|&w| self.const_slot(w)).collect();
        Ok(Place { shape, slots })
    }

    fn const_slot(&mut self, w: u128) -> u32 {
        if let Some(&s) = self.consts.get(&w) {
            return s;
        }
        let s = self.slot();
        self.init[s as usize] = w;
        self.consts.insert(w, s);
        s
    }

    fn word(&mut self, n: NodeId) -> Result<Result<u32, Value>, TapeError> {
        match self.compile(n)? {
            Compiled::Const(v) => Ok(Err(v)),
            Compiled::Place(p) if p.slots.len() == 1 => Ok(Ok(p.slots[0])),
            Compiled::Place(_) => unsupported("a word operand with several words"),
        }
    }

    /// The slot of a one-word operand, materializing constants.
    fn word_slot(&mut self, n: NodeId) -> Result<u32, TapeError> {
        match self.word(n)? {
            Ok(s) => Ok(s),
            Err(v) => {
                let shape = self.shape(n)?;
                Ok(self.const_place(shape, &v)?.slots[0])
            }
        }
    }

    fn emit(&mut self, shape: Shape, make: impl FnOnce(u32) -> Step) -> Compiled {
        let dst = self.slot();
        self.steps.push(make(dst));
        Compiled::Place(Place {
            shape,
            slots: vec![dst],
        })
    }

    fn compile_var(&mut self, v: VarId) -> Result<Compiled, TapeError> {
        if let Some(c) = self.var_memo.get(&v) {
            return Ok(c.clone());
        }
        let c = match self.defs.get(&v).cloned() {
            None => return Err(TapeError::Unbound(v)),
            Some(VarDef::Input(p)) => Compiled::Place(p),
            Some(VarDef::Fixed(val)) => Compiled::Const(val),
            Some(VarDef::Node(n, None)) => self.compile(n)?,
            Some(VarDef::Node(n, Some((hi, lo)))) => match self.compile(n)? {
                Compiled::Const(val) => {
                    let bits = val.as_bv().ok_or_else(|| {
                        TapeError::Unsupported("a slice of a non-bitvector".into())
                    })?;
                    Compiled::Const(Value::Bv(bits.extract(hi, lo)))
                }
                Compiled::Place(p) => {
                    let w = hi - lo + 1;
                    let a = p.slots[0];
                    self.emit(Shape::Word(Kind::Bv(w)), |dst| Step::Extract {
                        dst,
                        a,
                        lo,
                        w,
                    })
                }
            },
        };
        self.var_memo.insert(v, c.clone());
        Ok(c)
    }

    /// Compiles node `n`.
    fn compile(&mut self, n: NodeId) -> Result<Compiled, TapeError> {
        if let Some(c) = self.memo.get(&n) {
            return Ok(c.clone());
        }
        let c = self.compute(n)?;
        self.memo.insert(n, c.clone());
        Ok(c)
    }

    fn compute(&mut self, n: NodeId) -> Result<Compiled, TapeError> {
        if let Some(target) = self.typing.redirect(n) {
            return self.compile(target);
        }
        let graph = self.graph;
        let node = graph.node(n);
        match &node.kind {
            NodeKind::Var(v) => self.compile_var(*v),
            NodeKind::Const(lit) => Ok(Compiled::Const(literal_value(lit))),
            NodeKind::Op(Op::WidthOf) => match self.typing.ty(node.args[0]) {
                Some(Ty::Bv(w)) => Ok(Compiled::Const(Value::Int(BigInt::from(*w)))),
                _ => unsupported("`widthof` of an untyped node"),
            },
            NodeKind::Op(Op::If) => {
                let c = self.compile(node.args[0])?;
                match c {
                    Compiled::Const(v) => {
                        let b = v
                            .as_bool()
                            .ok_or_else(|| TapeError::Unsupported("`if` on a non-Bool".into()))?;
                        self.compile(node.args[if b { 1 } else { 2 }])
                    }
                    Compiled::Place(p) => {
                        let c = p.slots[0];
                        self.select(n, c, node.args[1], node.args[2])
                    }
                }
            }
            NodeKind::Op(op) => self.op(n, *op, &node.args),
            NodeKind::Field(name) => match self.compile(node.args[0])? {
                Compiled::Const(Value::Struct(fields)) => fields
                    .into_iter()
                    .find(|(f, _)| f == name)
                    .map(|(_, v)| Compiled::Const(v))
                    .ok_or_else(|| TapeError::Unsupported(format!("no field `{name}`"))),
                Compiled::Const(_) => unsupported("a field of a non-struct"),
                Compiled::Place(p) => field(&p, name).map(Compiled::Place),
            },
            NodeKind::IsVariant(_) => {
                let (_, want) = self.variant_of(n)?;
                match self.compile(node.args[0])? {
                    Compiled::Const(Value::Enum { variant, .. }) => {
                        Ok(Compiled::Const(Value::Bool(variant == want)))
                    }
                    Compiled::Const(_) => unsupported("a variant test of a non-enum"),
                    Compiled::Place(p) => {
                        let a = p.slots[0];
                        let b = self.const_slot(want as u128);
                        Ok(self.emit(Shape::Word(Kind::Bool), |dst| Step::Eq { dst, a, b }))
                    }
                }
            }
            NodeKind::VariantField(_, i) => {
                let (_, want) = self.variant_of(n)?;
                match self.compile(node.args[0])? {
                    Compiled::Const(Value::Enum {
                        variant, fields, ..
                    }) => {
                        if variant == want {
                            Ok(Compiled::Const(fields[*i].clone()))
                        } else {
                            Ok(Compiled::Const(default_value(
                                self.typing.ty(n),
                                self.enums,
                            )?))
                        }
                    }
                    Compiled::Const(_) => unsupported("a variant field of a non-enum"),
                    // Fields of the variants a value is not are zero, which is
                    // the default the evaluator gives there.
                    Compiled::Place(p) => variant_field(&p, want, *i).map(Compiled::Place),
                }
            }
            NodeKind::Match(_) => self.match_(n, &node.args),
            NodeKind::MakeEnum(id, variant) => {
                let args = node
                    .args
                    .iter()
                    .map(|&a| self.compile(a))
                    .collect::<Result<Vec<_>, _>>()?;
                if args.iter().all(|a| matches!(a, Compiled::Const(_))) {
                    let fields = args
                        .into_iter()
                        .map(|a| match a {
                            Compiled::Const(v) => v,
                            Compiled::Place(_) => unreachable!("all constant"),
                        })
                        .collect();
                    return Ok(Compiled::Const(Value::Enum {
                        enum_id: *id,
                        variant: *variant,
                        fields,
                    }));
                }
                let shape = self.shape(n)?;
                let Shape::Enum(_, variants) = &shape else {
                    return unsupported("an enum of a non-enum type");
                };
                let mut slots = vec![self.const_slot(*variant as u128)];
                for (k, shapes) in variants.clone().iter().enumerate() {
                    if k == *variant {
                        for (&a, c) in node.args.iter().zip(args.clone()) {
                            slots.extend(self.materialize(a, c)?.slots);
                        }
                    } else {
                        let zeros: usize = shapes.iter().map(Shape::words).sum();
                        for _ in 0..zeros {
                            slots.push(self.const_slot(0));
                        }
                    }
                }
                Ok(Compiled::Place(Place { shape, slots }))
            }
            NodeKind::MakeStruct(names) => {
                let args = node
                    .args
                    .iter()
                    .map(|&a| self.compile(a))
                    .collect::<Result<Vec<_>, _>>()?;
                if args.iter().all(|a| matches!(a, Compiled::Const(_))) {
                    let mut fields: Vec<(String, Value)> = names
                        .iter()
                        .cloned()
                        .zip(args.into_iter().map(|a| match a {
                            Compiled::Const(v) => v,
                            Compiled::Place(_) => unreachable!("all constant"),
                        }))
                        .collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    return Ok(Compiled::Const(Value::Struct(fields)));
                }
                let shape = self.shape(n)?;
                let mut parts: Vec<(String, Place)> = Vec::new();
                for ((name, &a), c) in names.iter().zip(&node.args).zip(args) {
                    parts.push((name.clone(), self.materialize(a, c)?));
                }
                parts.sort_by(|a, b| a.0.cmp(&b.0));
                let slots = parts.into_iter().flat_map(|(_, p)| p.slots).collect();
                Ok(Compiled::Place(Place { shape, slots }))
            }
            NodeKind::As(_) => self.compile(node.args[0]),
            NodeKind::Forall(_) => unsupported("a quantified condition"),
            NodeKind::Switch => self.switch(n, &node.args),
        }
    }

    fn variant_of(&self, n: NodeId) -> Result<(EnumId, usize), TapeError> {
        self.typing
            .variant(n)
            .ok_or_else(|| TapeError::Unsupported("an unresolved enum variant".into()))
    }

    /// `if c then a else b`, word by word.
    fn select(&mut self, n: NodeId, c: u32, a: NodeId, b: NodeId) -> Result<Compiled, TapeError> {
        let ca = self.compile(a)?;
        let pa = self.materialize(a, ca)?;
        let cb = self.compile(b)?;
        let pb = self.materialize(b, cb)?;
        let shape = self.shape(n)?;
        Ok(Compiled::Place(self.pick(c, &pa, &pb, shape)))
    }

    /// `if c then a else b` on places of one shape, word by word.
    fn pick(&mut self, c: u32, a: &Place, b: &Place, shape: Shape) -> Place {
        let mut slots = Vec::new();
        for (&x, &y) in a.slots.iter().zip(&b.slots) {
            let dst = self.slot();
            self.steps.push(Step::Select { dst, c, a: x, b: y });
            slots.push(dst);
        }
        Place { shape, slots }
    }

    /// Whether the values of two nodes are equal, as a slot.
    fn equal(&mut self, a: NodeId, b: NodeId) -> Result<Compiled, TapeError> {
        let ca = self.compile(a)?;
        let cb = self.compile(b)?;
        if let (Compiled::Const(x), Compiled::Const(y)) = (&ca, &cb) {
            return Ok(Compiled::Const(Value::Bool(x == y)));
        }
        let pa = self.materialize(a, ca)?;
        let pb = self.materialize(b, cb)?;
        if pa.slots.len() != pb.slots.len() {
            return unsupported("equality of differently shaped values");
        }
        let mut eqs = Vec::new();
        for (&x, &y) in pa.slots.iter().zip(&pb.slots) {
            let dst = self.slot();
            self.steps.push(Step::Eq { dst, a: x, b: y });
            eqs.push(dst);
        }
        Ok(self.all(eqs))
    }

    fn all(&mut self, slots: Vec<u32>) -> Compiled {
        if slots.len() == 1 {
            return Compiled::Place(Place {
                shape: Shape::Word(Kind::Bool),
                slots,
            });
        }
        let args = slots.into_boxed_slice();
        self.emit(Shape::Word(Kind::Bool), |dst| Step::All { dst, args })
    }

    fn match_(&mut self, n: NodeId, args: &[NodeId]) -> Result<Compiled, TapeError> {
        let arms = self.typing.arms(n).to_vec();
        let default = *args.last().expect("a match has a default");
        match self.compile(args[0])? {
            Compiled::Const(Value::Enum { variant, .. }) => {
                match arms.iter().position(|&a| a == variant) {
                    Some(i) => self.compile(args[1 + i]),
                    None => self.compile(default),
                }
            }
            Compiled::Const(_) => unsupported("a match on a non-enum"),
            Compiled::Place(p) => {
                let disc = p.slots[0];
                let Shape::Enum(_, variants) = &p.shape else {
                    return unsupported("a match on a non-enum");
                };
                let covered = (0..variants.len()).all(|v| arms.contains(&v));
                // Later arms first, so that the first matching arm wins.
                let mut acc = if covered {
                    None
                } else {
                    let c = self.compile(default)?;
                    Some(self.materialize(default, c)?)
                };
                for (i, &variant) in arms.iter().enumerate().rev() {
                    let body = args[1 + i];
                    let c = self.compile(body)?;
                    let pb = self.materialize(body, c)?;
                    acc = Some(match acc {
                        None => pb,
                        Some(rest) => {
                            let k = self.const_slot(variant as u128);
                            let cond = self.slot();
                            self.steps.push(Step::Eq {
                                dst: cond,
                                a: disc,
                                b: k,
                            });
                            let shape = pb.shape.clone();
                            self.pick(cond, &pb, &rest, shape)
                        }
                    });
                }
                match acc {
                    Some(p) => Ok(Compiled::Place(p)),
                    None => unsupported("a match without arms"),
                }
            }
        }
    }

    fn switch(&mut self, n: NodeId, args: &[NodeId]) -> Result<Compiled, TapeError> {
        let pairs = (args.len() - 2) / 2;
        let x = self.compile(args[0])?;
        // A constant scrutinee and constant cases pick one branch.
        if let Compiled::Const(xv) = &x {
            let mut all_const = true;
            for i in 0..pairs {
                match self.compile(args[1 + 2 * i])? {
                    Compiled::Const(cv) if &cv == xv => return self.compile(args[2 + 2 * i]),
                    Compiled::Const(_) => {}
                    Compiled::Place(_) => {
                        all_const = false;
                        break;
                    }
                }
            }
            if all_const {
                return self.compile(args[args.len() - 1]);
            }
        }
        let default = args[args.len() - 1];
        let c = self.compile(default)?;
        let mut acc = self.materialize(default, c)?;
        for i in (0..pairs).rev() {
            let cond = self.equal(args[0], args[1 + 2 * i])?;
            let cond = match cond {
                Compiled::Const(Value::Bool(false)) => continue,
                Compiled::Const(_) => {
                    let c = self.compile(args[2 + 2 * i])?;
                    acc = self.materialize(args[2 + 2 * i], c)?;
                    continue;
                }
                Compiled::Place(p) => p.slots[0],
            };
            let body = args[2 + 2 * i];
            let c = self.compile(body)?;
            let pb = self.materialize(body, c)?;
            let shape = self.shape(n)?;
            acc = self.pick(cond, &pb, &acc, shape);
        }
        Ok(Compiled::Place(acc))
    }

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

    fn op(&mut self, n: NodeId, op: Op, args: &[NodeId]) -> Result<Compiled, TapeError> {
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

fn field(p: &Place, name: &str) -> Result<Place, TapeError> {
    let Shape::Struct(fields) = &p.shape else {
        return unsupported("a field of a non-struct");
    };
    let mut at = 0;
    for (n, s) in fields {
        if n == name {
            return Ok(Place {
                shape: s.clone(),
                slots: p.slots[at..at + s.words()].to_vec(),
            });
        }
        at += s.words();
    }
    unsupported(format!("no field `{name}`"))
}

fn variant_field(p: &Place, want: usize, i: usize) -> Result<Place, TapeError> {
    let Shape::Enum(_, variants) = &p.shape else {
        return unsupported("a variant field of a non-enum");
    };
    let mut at = 1;
    for (k, shapes) in variants.iter().enumerate() {
        for (j, s) in shapes.iter().enumerate() {
            if k == want && j == i {
                return Ok(Place {
                    shape: s.clone(),
                    slots: p.slots[at..at + s.words()].to_vec(),
                });
            }
            at += s.words();
        }
    }
    unsupported("no such variant field")
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

fn mask(w: u32) -> u128 {
    if w >= 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    }
}

fn signed(x: u128, w: u32) -> i128 {
    if w >= 128 {
        x as i128
    } else if (x >> (w - 1)) & 1 == 1 {
        (x | !mask(w)) as i128
    } else {
        x as i128
    }
}

fn overflow() -> TapeError {
    TapeError::Unsupported("an integer outside the 128-bit range".into())
}

fn bin(op: Bin, w: u32, a: u128, b: u128) -> u128 {
    let m = mask(w);
    let shift = |b: u128| -> Option<u32> { u32::try_from(b).ok().filter(|&s| s < w) };
    match op {
        Bin::Add => a.wrapping_add(b) & m,
        Bin::Sub => a.wrapping_sub(b) & m,
        Bin::Mul => a.wrapping_mul(b) & m,
        Bin::Udiv => a.checked_div(b).unwrap_or(m),
        Bin::Urem => a.checked_rem(b).unwrap_or(a),
        Bin::Sdiv => {
            if b == 0 {
                if signed(a, w) < 0 {
                    1
                } else {
                    m
                }
            } else {
                (signed(a, w).wrapping_div(signed(b, w)) as u128) & m
            }
        }
        Bin::Srem => {
            if b == 0 {
                a
            } else {
                (signed(a, w).wrapping_rem(signed(b, w)) as u128) & m
            }
        }
        Bin::And => a & b,
        Bin::Or => a | b,
        Bin::Xor => a ^ b,
        Bin::Shl => shift(b).map_or(0, |s| (a << s) & m),
        Bin::Lshr => shift(b).map_or(0, |s| a >> s),
        Bin::Ashr => ((signed(a, w) >> shift(b).unwrap_or(w - 1)) as u128) & m,
        Bin::Rotl | Bin::Rotr => {
            let r = (b % u128::from(w)) as u32;
            let r = if op == Bin::Rotr { (w - r) % w } else { r };
            if r == 0 {
                a
            } else {
                ((a << r) | (a >> (w - r))) & m
            }
        }
        Bin::Ult => u128::from(a < b),
        Bin::Ule => u128::from(a <= b),
        Bin::Ugt => u128::from(a > b),
        Bin::Uge => u128::from(a >= b),
        Bin::Slt => u128::from(signed(a, w) < signed(b, w)),
        Bin::Sle => u128::from(signed(a, w) <= signed(b, w)),
        Bin::Sgt => u128::from(signed(a, w) > signed(b, w)),
        Bin::Sge => u128::from(signed(a, w) >= signed(b, w)),
        Bin::Saddo => {
            let (x, y) = (signed(a, w), signed(b, w));
            match x.checked_add(y) {
                None => 1,
                Some(s) => u128::from(signed((s as u128) & m, w) != s),
            }
        }
    }
}

fn un(op: Un, w: u32, a: u128) -> u128 {
    let m = mask(w);
    match op {
        Un::Not => !a & m,
        Un::Neg => a.wrapping_neg() & m,
        Un::Popcnt => u128::from(a.count_ones()),
        Un::Clz => u128::from(a.leading_zeros() - (128 - w)),
        Un::Cls => {
            let sign = (a >> (w - 1)) & 1;
            let flipped = if sign == 1 { !a & m } else { a };
            // Leading zeros of the bits below the sign bit.
            u128::from(flipped.leading_zeros() - (128 - w)) - 1
        }
        Un::Rev => a.reverse_bits() >> (128 - w),
    }
}

impl Tape {
    /// The number of input words [`Tape::run`] takes.
    pub fn input_words(&self) -> usize {
        self.input_words
    }

    /// The shape of input `i`.
    pub fn input_shape(&self, i: usize) -> &Shape {
        &self.inputs[i].shape
    }

    /// The number of steps (for benchmarks and tests).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the tape has no steps (its outputs are constants or inputs).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the tape on `inputs` (the inputs' words, in declaration
    /// order), leaving every slot in `slots`.
    pub fn run(&self, inputs: &[u128], slots: &mut Vec<u128>) -> Result<(), TapeError> {
        slots.clear();
        slots.extend_from_slice(&self.init);
        let mut k = 0;
        for p in &self.inputs {
            for &s in &p.slots {
                let v = *inputs.get(k).ok_or_else(|| {
                    TapeError::Unsupported("fewer input words than inputs".into())
                })?;
                slots[s as usize] = v;
                k += 1;
            }
        }
        let s = slots;
        for step in &self.steps {
            match *step {
                Step::Bin { op, w, dst, a, b } => {
                    s[dst as usize] = bin(op, w, s[a as usize], s[b as usize]);
                }
                Step::Un { op, w, dst, a } => s[dst as usize] = un(op, w, s[a as usize]),
                Step::Int { op, dst, a, b } => {
                    let (x, y) = (s[a as usize] as i128, s[b as usize] as i128);
                    s[dst as usize] = match op {
                        IntOp::Add => x.checked_add(y).ok_or_else(overflow)? as u128,
                        IntOp::Sub => x.checked_sub(y).ok_or_else(overflow)? as u128,
                        IntOp::Mul => x.checked_mul(y).ok_or_else(overflow)? as u128,
                        IntOp::Lt => u128::from(x < y),
                        IntOp::Lte => u128::from(x <= y),
                        IntOp::Gt => u128::from(x > y),
                        IntOp::Gte => u128::from(x >= y),
                    };
                }
                Step::IntNeg { dst, a } => {
                    s[dst as usize] =
                        (s[a as usize] as i128).checked_neg().ok_or_else(overflow)? as u128;
                }
                Step::Extract { dst, a, lo, w } => {
                    s[dst as usize] = (s[a as usize] >> lo) & mask(w);
                }
                Step::SignExt { dst, a, from, to } => {
                    s[dst as usize] = (signed(s[a as usize], from) as u128) & mask(to);
                }
                Step::Concat { dst, hi, lo, lo_w } => {
                    s[dst as usize] = (s[hi as usize] << lo_w) | s[lo as usize];
                }
                Step::Replicate { dst, a, w, k } => {
                    let x = s[a as usize];
                    let mut acc = 0u128;
                    for _ in 0..k {
                        acc = (acc << w) | x;
                    }
                    s[dst as usize] = acc;
                }
                Step::Int2Bv { dst, a, w } => s[dst as usize] = s[a as usize] & mask(w),
                Step::Bv2Nat { dst, a, w } => {
                    let x = s[a as usize];
                    if w >= 128 && x >> 127 == 1 {
                        return Err(overflow());
                    }
                    s[dst as usize] = x;
                }
                Step::Eq { dst, a, b } => {
                    s[dst as usize] = u128::from(s[a as usize] == s[b as usize])
                }
                Step::All { dst, ref args } => {
                    s[dst as usize] = u128::from(args.iter().all(|&x| s[x as usize] != 0));
                }
                Step::Any { dst, ref args } => {
                    s[dst as usize] = u128::from(args.iter().any(|&x| s[x as usize] != 0));
                }
                Step::Not { dst, a } => s[dst as usize] = u128::from(s[a as usize] == 0),
                Step::Imp { dst, a, b } => {
                    s[dst as usize] = u128::from(s[a as usize] == 0 || s[b as usize] != 0);
                }
                Step::Select { dst, c, a, b } => {
                    s[dst as usize] = if s[c as usize] != 0 {
                        s[a as usize]
                    } else {
                        s[b as usize]
                    };
                }
            }
        }
        Ok(())
    }

    /// Output `k`'s first word after a run (a Bool, a bitvector).
    pub fn word(&self, slots: &[u128], k: usize) -> u128 {
        slots[self.outputs[k].slots[0] as usize]
    }

    /// Output `k`'s value after a run.
    pub fn value(&self, slots: &[u128], k: usize) -> Value {
        let p = &self.outputs[k];
        let words: Vec<u128> = p.slots.iter().map(|&s| slots[s as usize]).collect();
        p.shape.value(&words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Evaluator;
    use crate::infer::{infer, Mode};
    use crate::span::Span;
    use crate::ty::ModelType;
    use crate::Literal;
    use proptest::prelude::*;

    const BINARY: [Op; 24] = [
        Op::BvAdd,
        Op::BvSub,
        Op::BvMul,
        Op::BvUdiv,
        Op::BvUrem,
        Op::BvSdiv,
        Op::BvSrem,
        Op::BvAnd,
        Op::BvOr,
        Op::BvXor,
        Op::BvShl,
        Op::BvLshr,
        Op::BvAshr,
        Op::Rotl,
        Op::Rotr,
        Op::BvUlt,
        Op::BvUle,
        Op::BvUgt,
        Op::BvUge,
        Op::BvSlt,
        Op::BvSle,
        Op::BvSgt,
        Op::BvSge,
        Op::BvSaddo,
    ];
    const UNARY: [Op; 6] = [Op::BvNot, Op::BvNeg, Op::Popcnt, Op::Clz, Op::Cls, Op::Rev];

    /// A graph over two `w`-bit variables whose root applies `build`.
    fn check(w: u32, x: u128, y: u128, build: impl Fn(&mut Graph, NodeId, NodeId) -> NodeId) {
        let s = Span::default();
        let mut g = Graph::new();
        let a = g.var("a", Some(ModelType::BitVec(Some(w))), s);
        let b = g.var("b", Some(ModelType::BitVec(Some(w))), s);
        let root = build(&mut g, a, b);
        let enums = Enums::default();
        let typing = infer(&g, &enums, &[root, a, b], &[], &[], Mode::Complete)
            .expect("the test graph types");
        let (va, vb) = (g.as_var(a).unwrap(), g.as_var(b).unwrap());
        let (x, y) = (x & mask(w), y & mask(w));
        let values: HashMap<VarId, Value> = [
            (va, Value::Bv(BitVec::from_u128(w, x))),
            (vb, Value::Bv(BitVec::from_u128(w, y))),
        ]
        .into();
        let want = Evaluator::new(&g, &typing, &enums).eval(root, &|v| values.get(&v).cloned());
        let mut tb = TapeBuilder::new(&g, &typing, &enums);
        tb.input(va).unwrap();
        tb.input(vb).unwrap();
        let out = tb.output(root).unwrap();
        let tape = tb.finish();
        let mut slots = Vec::new();
        tape.run(&[x, y], &mut slots).unwrap();
        assert_eq!(Ok(tape.value(&slots, out)), want, "w={w} x={x:#x} y={y:#x}");
    }

    fn int(g: &mut Graph, i: i128) -> NodeId {
        g.constant(Literal::Int(i), Span::default())
    }

    fn edgy(w: u32) -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            (0u32..130).prop_map(u128::from),
            Just(u128::MAX),
            (0u32..128).prop_map(move |k| 1u128 << k),
            (0u32..128).prop_map(move |k| (1u128 << k).wrapping_sub(1)),
            Just(1u128 << (w - 1)),
        ]
    }

    fn width() -> impl Strategy<Value = u32> {
        prop_oneof![
            Just(1u32),
            Just(8),
            Just(16),
            Just(32),
            Just(64),
            Just(128),
            1u32..=128
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn binary_and_unary_operators_agree_with_the_evaluator(
            w in width(),
            (x, y) in width().prop_flat_map(|w| (edgy(w), edgy(w))),
            i in 0usize..30,
        ) {
            let s = Span::default();
            if i < BINARY.len() {
                check(w, x, y, |g, a, b| g.op(BINARY[i], vec![a, b], s));
            } else {
                check(w, x, y, |g, a, _| g.op(UNARY[i - BINARY.len()], vec![a], s));
            }
        }

        #[test]
        fn width_changes_agree_with_the_evaluator(
            w in 2u32..=64,
            x in any::<u128>(),
            y in any::<u128>(),
            cut in 0u32..64,
            k in 1u32..3,
        ) {
            let s = Span::default();
            let lo = cut % w;
            check(w, x, y, |g, a, _| {
                let hi = int(g, i128::from(w - 1));
                let l = int(g, i128::from(lo));
                g.op(Op::Extract, vec![hi, l, a], s)
            });
            check(w, x, y, |g, a, _| {
                let to = int(g, i128::from(w + lo));
                g.op(Op::SignExt, vec![to, a], s)
            });
            check(w, x, y, |g, a, _| {
                let to = int(g, i128::from(w + lo));
                g.op(Op::ZeroExt, vec![to, a], s)
            });
            check(w, x, y, |g, a, _| {
                let to = int(g, i128::from(lo + 1));
                g.op(Op::ConvTo, vec![to, a], s)
            });
            // Widening: the bits above the operand come from the padding.
            check(w, x, y, |g, a, b| {
                let to = int(g, i128::from(w));
                let (hi, zero) = (int(g, i128::from(lo)), int(g, 0));
                let narrow = g.op(Op::Extract, vec![hi, zero, a], s);
                g.op(Op::ConvTo, vec![to, narrow, b], s)
            });
            check(w, x, y, |g, a, b| g.op(Op::Concat, vec![a, b], s));
            check(w, x, y, |g, a, _| {
                let kk = int(g, i128::from(k));
                g.op(Op::Replicate, vec![a, kk], s)
            });
            check(w, x, y, |g, a, b| {
                let c = g.op(Op::BvUlt, vec![a, b], s);
                let d = g.op(Op::BvNot, vec![b], s);
                g.op(Op::If, vec![c, a, d], s)
            });
            check(w, x, y, |g, a, b| {
                let n = g.op(Op::Bv2Nat, vec![a], s);
                let m = g.op(Op::Bv2Nat, vec![b], s);
                let sum = g.op(Op::Add, vec![n, m], s);
                let ww = int(g, i128::from(w));
                g.op(Op::Int2Bv, vec![ww, sum], s)
            });
        }
    }

    #[test]
    fn constants_fold_and_unbound_variables_are_reported() {
        let s = Span::default();
        let mut g = Graph::new();
        let a = g.var("a", Some(ModelType::BitVec(Some(8))), s);
        let f = g.var("f", Some(ModelType::Bool), s);
        let u = g.var("u", Some(ModelType::BitVec(Some(8))), s);
        let pick = g.op(Op::If, vec![f, a, u], s);
        let enums = Enums::default();
        let typing = infer(&g, &enums, &[pick, a, f, u], &[], &[], Mode::Complete).unwrap();
        let mut tb = TapeBuilder::new(&g, &typing, &enums);
        tb.input(g.as_var(a).unwrap()).unwrap();
        tb.fix(g.as_var(f).unwrap(), Value::Bool(true));
        // `u` is never needed: the condition is fixed.
        let out = tb.output(pick).unwrap();
        let tape = tb.finish();
        assert!(tape.is_empty());
        let mut slots = Vec::new();
        tape.run(&[7], &mut slots).unwrap();
        assert_eq!(tape.word(&slots, out), 7);
        let mut tb = TapeBuilder::new(&g, &typing, &enums);
        tb.input(g.as_var(a).unwrap()).unwrap();
        tb.fix(g.as_var(f).unwrap(), Value::Bool(false));
        assert_eq!(
            tb.output(pick),
            Err(TapeError::Unbound(g.as_var(u).unwrap()))
        );
    }
}
