//! Compiling a typed graph into a [`Tape`]: the builder's state, the
//! variables given, fixed or defined, constants folded, structs and enums
//! flattened into places, and `if`, `match` and `switch` compiled to selects
//! (operators are `ops`'s).

use std::collections::HashMap;

use num_bigint::BigInt;

use super::{unsupported, Kind, Place, Shape, Step, Tape, TapeError};
use crate::eval::{default_value, literal_value};
use crate::graph::{Graph, NodeId, NodeKind, VarId};
use crate::infer::Typing;
use crate::op::Op;
use crate::ty::{EnumId, Enums, Ty};
use crate::value::Value;

mod ops;

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
