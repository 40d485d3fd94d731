//! Type and width inference over a formula graph.
//!
//! Types are unified (bitvector widths in their own union-find); operators
//! whose result width depends on an integer argument (`extract`, `zero_ext`,
//! `conv_to`, `int2bv`, `replicate`) wait until that argument is *static*:
//! a constant, a `widthof` of a bitvector whose width is known, arithmetic on
//! statics, or a variable that an assumed fact `(= v static)` pins down.
//! `if` and `switch` with a static condition are resolved to the chosen
//! branch, and the other branches are never typed, so specs can use
//! `(switch (widthof x) (16 ...) (32 ...))` with branches of different widths.

use std::collections::HashMap;

use crate::eval::{apply, literal_value, width_arg, MAX_WIDTH};
use crate::expr::VariantRef;
use crate::graph::{Graph, NodeId, NodeKind, VarId};
use crate::op::{Op, Typing as OpTyping};
use crate::span::Span;
use crate::ty::{EnumId, Enums, ModelType, Ty};
use crate::value::Value;

/// A type error, with the span of the expression it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// How much inference must establish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Checking one spec on its own: widths may stay unknown, branches of
    /// `if`/`switch` with non-static conditions are not unified.
    Generic,
    /// A verification condition: every reachable node must get a complete type.
    Complete,
}

/// The result of inference: a type for every reachable node, and the
/// static resolutions of `if`, `switch` and enum variants.
#[derive(Clone, Debug, Default)]
pub struct Typing {
    types: Vec<Option<Ty>>,
    redirects: HashMap<NodeId, NodeId>,
    variants: HashMap<NodeId, (EnumId, usize)>,
    arms: HashMap<NodeId, Vec<usize>>,
    statics: HashMap<VarId, Value>,
    static_args: HashMap<NodeId, Vec<u32>>,
}

impl Typing {
    /// The static integer arguments of a width-dependent operator:
    /// `[hi, lo]` for `extract`, `[width]` for `zero_ext`, `sign_ext`,
    /// `conv_to` and `int2bv`, `[count]` for `replicate`.
    pub fn static_args(&self, n: NodeId) -> Option<&[u32]> {
        self.static_args.get(&n).map(|v| v.as_slice())
    }

    /// The type of node `n`, if inference gave it one.
    pub fn ty(&self, n: NodeId) -> Option<&Ty> {
        self.types.get(n.0 as usize).and_then(|t| t.as_ref())
    }

    /// The branch a static `if`/`switch` resolved to.
    pub fn redirect(&self, n: NodeId) -> Option<NodeId> {
        self.redirects.get(&n).copied()
    }

    /// The enum and variant an `IsVariant` or `VariantField` node refers to.
    pub fn variant(&self, n: NodeId) -> Option<(EnumId, usize)> {
        self.variants.get(&n).copied()
    }

    /// The variant index of each arm of a `match` node.
    pub fn arms(&self, n: NodeId) -> &[usize] {
        self.arms.get(&n).map_or(&[], |v| v.as_slice())
    }

    /// Values of integer variables fixed by assumed equalities.
    pub fn static_var(&self, v: VarId) -> Option<&Value> {
        self.statics.get(&v)
    }
}

type T = usize;
type W = usize;

#[derive(Clone, Debug)]
enum Shape {
    Bool,
    Int,
    Unit,
    Unspecified,
    Bv(W),
    Struct(Vec<(String, T)>),
    Enum(EnumId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// An operator whose result width waits on static arguments.
    Width(NodeId),
    /// Field access waiting for a struct type.
    Field(NodeId),
    /// A variant reference waiting for an enum type.
    Variant(NodeId),
    /// `match` waiting for an enum type.
    Match(NodeId),
    /// `if` or `switch` waiting for a static condition.
    Branch(NodeId),
}

/// Inference state. Cloneable, so that a search over instantiations can try
/// a choice and back out of it.
#[derive(Clone, Debug)]
pub struct Inference {
    t_parent: Vec<T>,
    t_shape: Vec<Option<Shape>>,
    w_parent: Vec<W>,
    w_value: Vec<Option<u32>>,
    node_t: Vec<Option<T>>,
    var_t: Vec<Option<T>>,
    pending: Vec<Pending>,
    redirects: HashMap<NodeId, NodeId>,
    variants: HashMap<NodeId, (EnumId, usize)>,
    arms: HashMap<NodeId, Vec<usize>>,
    statics: HashMap<VarId, Value>,
    static_args: HashMap<NodeId, Vec<u32>>,
    facts: Vec<NodeId>,
    /// Checks that need widths to be known: `(node, kind)`.
    bounds: Vec<(NodeId, Bound)>,
    /// Nodes whose constraints have been generated.
    done: Vec<bool>,
}

#[derive(Clone, Copy, Debug)]
enum Bound {
    /// Argument 2 wider than the `hi` index.
    ExtractIndex(u32),
    /// Argument 1 no wider than the target width.
    ExtendTarget(u32),
}

fn conflict(span: Span, message: String) -> TypeError {
    TypeError { message, span }
}

impl Inference {
    /// Starts inference on `graph`: every node reachable from `roots` gets
    /// its typing constraints. `facts` are assumed boolean nodes whose
    /// top-level equalities may pin integer variables to static values.
    pub fn new(
        graph: &Graph,
        enums: &Enums,
        roots: &[NodeId],
        facts: &[NodeId],
    ) -> Result<Inference, TypeError> {
        let mut inf = Inference {
            t_parent: Vec::new(),
            t_shape: Vec::new(),
            w_parent: Vec::new(),
            w_value: Vec::new(),
            node_t: vec![None; graph.nodes.len()],
            var_t: vec![None; graph.vars.len()],
            pending: Vec::new(),
            redirects: HashMap::new(),
            variants: HashMap::new(),
            arms: HashMap::new(),
            statics: HashMap::new(),
            static_args: HashMap::new(),
            facts: facts.to_vec(),
            bounds: Vec::new(),
            done: vec![false; graph.nodes.len()],
        };
        for (i, var) in graph.vars.iter().enumerate() {
            let t = match &var.ty {
                Some(mt) => inf.instantiate_model(mt),
                None => inf.fresh(None),
            };
            inf.var_t[i] = Some(t);
        }
        inf.constrain_tree(graph, enums, roots)?;
        Ok(inf)
    }

    /// Requires node `n` to have model type `ty` (a term signature).
    pub fn require(&mut self, graph: &Graph, n: NodeId, ty: &ModelType) -> Result<(), TypeError> {
        let t = self.instantiate_model(ty);
        let nt = self.node_type(n);
        self.unify(nt, t)
            .map_err(|(a, b)| conflict(graph.node(n).span, format!("expected {b}, found {a}")))
    }

    /// Runs propagation to a fixpoint and returns the typing.
    pub fn solve(
        mut self,
        graph: &Graph,
        enums: &Enums,
        roots: &[NodeId],
        mode: Mode,
    ) -> Result<Typing, TypeError> {
        loop {
            while self.step(graph, enums)? {}
            if mode == Mode::Generic {
                break;
            }
            // Stalled: commit one undecided `if`/`switch` (ifs first) by
            // unifying its branches, then propagate again.
            let branch = self
                .pending
                .iter()
                .position(|p| matches!(p, Pending::Branch(n) if matches!(graph.node(*n).kind, NodeKind::Op(Op::If))))
                .or_else(|| self.pending.iter().position(|p| matches!(p, Pending::Branch(_))));
            let Some(i) = branch else { break };
            let Pending::Branch(n) = self.pending.remove(i) else {
                unreachable!("position found a branch")
            };
            self.unify_branches(graph, enums, n)?;
        }
        let reachable = self.reachable(graph, roots);
        let mut is_reachable = vec![false; graph.nodes.len()];
        reachable
            .iter()
            .for_each(|n| is_reachable[n.0 as usize] = true);
        self.check_bounds(graph, &is_reachable)?;
        if mode == Mode::Complete {
            let stuck = self.pending.iter().copied().find(|p| {
                let (Pending::Width(n)
                | Pending::Field(n)
                | Pending::Variant(n)
                | Pending::Match(n)
                | Pending::Branch(n)) = *p;
                is_reachable[n.0 as usize]
            });
            if let Some(p) = stuck {
                return Err(self.stuck(graph, p));
            }
        }
        let mut types = vec![None; graph.nodes.len()];
        for n in reachable {
            let Some(t) = self.node_t[n.0 as usize] else {
                continue;
            };
            match self.resolve(t) {
                Some(ty) => types[n.0 as usize] = Some(ty),
                None if mode == Mode::Complete => {
                    let what = self.show(t);
                    return Err(conflict(
                        graph.node(n).span,
                        format!("cannot infer the type of this expression (known so far: {what}); add an `as` annotation or an `instantiate` signature"),
                    ));
                }
                None => {}
            }
        }
        Ok(Typing {
            types,
            redirects: self.redirects,
            variants: self.variants,
            arms: self.arms,
            statics: self.statics,
            static_args: self.static_args,
        })
    }

    fn reachable(&self, graph: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; graph.nodes.len()];
        let mut stack: Vec<NodeId> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n.0 as usize], true) {
                continue;
            }
            out.push(n);
            if let Some(&t) = self.redirects.get(&n) {
                stack.push(t);
            } else if self.done[n.0 as usize] {
                stack.extend(
                    graph
                        .node(n)
                        .args
                        .iter()
                        .copied()
                        .filter(|a| self.done[a.0 as usize]),
                );
            }
        }
        out
    }

    // ---- union-find -------------------------------------------------------

    fn fresh(&mut self, shape: Option<Shape>) -> T {
        self.t_parent.push(self.t_parent.len());
        self.t_shape.push(shape);
        self.t_parent.len() - 1
    }

    fn fresh_w(&mut self, value: Option<u32>) -> W {
        self.w_parent.push(self.w_parent.len());
        self.w_value.push(value);
        self.w_parent.len() - 1
    }

    fn find(&mut self, t: T) -> T {
        let mut r = t;
        while self.t_parent[r] != r {
            r = self.t_parent[r];
        }
        let mut c = t;
        while self.t_parent[c] != r {
            let next = self.t_parent[c];
            self.t_parent[c] = r;
            c = next;
        }
        r
    }

    fn find_w(&mut self, w: W) -> W {
        let mut r = w;
        while self.w_parent[r] != r {
            r = self.w_parent[r];
        }
        let mut c = w;
        while self.w_parent[c] != r {
            let next = self.w_parent[c];
            self.w_parent[c] = r;
            c = next;
        }
        r
    }

    fn width(&mut self, w: W) -> Option<u32> {
        let r = self.find_w(w);
        self.w_value[r]
    }

    fn shape(&mut self, t: T) -> Option<Shape> {
        let r = self.find(t);
        self.t_shape[r].clone()
    }

    fn unify_w(&mut self, a: W, b: W) -> Result<(), (String, String)> {
        let (ra, rb) = (self.find_w(a), self.find_w(b));
        if ra == rb {
            return Ok(());
        }
        match (self.w_value[ra], self.w_value[rb]) {
            (Some(x), Some(y)) if x != y => Err((format!("(bv {x})"), format!("(bv {y})"))),
            (va, vb) => {
                self.w_parent[ra] = rb;
                self.w_value[rb] = va.or(vb);
                Ok(())
            }
        }
    }

    fn set_width(&mut self, w: W, value: u32) -> Result<(), (String, String)> {
        let v = self.fresh_w(Some(value));
        self.unify_w(w, v)
    }

    fn unify(&mut self, a: T, b: T) -> Result<(), (String, String)> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        let (sa, sb) = (self.t_shape[ra].clone(), self.t_shape[rb].clone());
        let (show_a, show_b) = (self.show(ra), self.show(rb));
        let mismatch = || (show_a.clone(), show_b.clone());
        self.t_parent[ra] = rb;
        match (sa, sb) {
            (None, _) => Ok(()),
            (Some(s), None) => {
                self.t_shape[rb] = Some(s);
                Ok(())
            }
            (Some(Shape::Bool), Some(Shape::Bool))
            | (Some(Shape::Int), Some(Shape::Int))
            | (Some(Shape::Unit), Some(Shape::Unit))
            | (Some(Shape::Unspecified), Some(Shape::Unspecified)) => Ok(()),
            (Some(Shape::Bv(x)), Some(Shape::Bv(y))) => self.unify_w(x, y).map_err(|_| mismatch()),
            (Some(Shape::Enum(x)), Some(Shape::Enum(y))) if x == y => Ok(()),
            (Some(Shape::Struct(fa)), Some(Shape::Struct(fb))) => {
                if fa.len() != fb.len() || fa.iter().zip(&fb).any(|(x, y)| x.0 != y.0) {
                    return Err(mismatch());
                }
                for ((_, x), (_, y)) in fa.iter().zip(&fb) {
                    self.unify(*x, *y).map_err(|_| mismatch())?;
                }
                Ok(())
            }
            _ => Err(mismatch()),
        }
    }

    /// Renders a possibly incomplete type: unknown parts are `_`.
    fn show(&mut self, t: T) -> String {
        match self.shape(t) {
            None => "_".into(),
            Some(Shape::Bool) => "Bool".into(),
            Some(Shape::Int) => "Int".into(),
            Some(Shape::Unit) => "Unit".into(),
            Some(Shape::Unspecified) => "!".into(),
            Some(Shape::Bv(w)) => match self.width(w) {
                Some(w) => format!("(bv {w})"),
                None => "(bv _)".into(),
            },
            Some(Shape::Struct(fields)) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, t)| format!("({n} {})", self.show(*t)))
                    .collect();
                format!("(struct {})", parts.join(" "))
            }
            Some(Shape::Enum(id)) => format!("enum #{}", id.0),
        }
    }

    fn resolve(&mut self, t: T) -> Option<Ty> {
        Some(match self.shape(t)? {
            Shape::Bool => Ty::Bool,
            Shape::Int => Ty::Int,
            Shape::Unit => Ty::Unit,
            Shape::Unspecified => Ty::Unspecified,
            Shape::Bv(w) => Ty::Bv(self.width(w)?),
            Shape::Struct(fields) => Ty::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Some((n.clone(), self.resolve(*t)?)))
                    .collect::<Option<_>>()?,
            ),
            Shape::Enum(id) => Ty::Enum(id),
        })
    }

    fn instantiate_model(&mut self, mt: &ModelType) -> T {
        let shape = match mt {
            ModelType::Auto => None,
            ModelType::Bool => Some(Shape::Bool),
            ModelType::Int => Some(Shape::Int),
            ModelType::Unit => Some(Shape::Unit),
            ModelType::Unspecified => Some(Shape::Unspecified),
            ModelType::BitVec(w) => Some(Shape::Bv(self.fresh_w(*w))),
            ModelType::Struct(fields) => {
                let mut fs: Vec<(String, T)> = fields
                    .iter()
                    .map(|(n, t)| (n.clone(), self.instantiate_model(t)))
                    .collect();
                fs.sort_by(|a, b| a.0.cmp(&b.0));
                Some(Shape::Struct(fs))
            }
            ModelType::Enum(id) => Some(Shape::Enum(*id)),
        };
        self.fresh(shape)
    }

    fn node_type(&mut self, n: NodeId) -> T {
        if let Some(t) = self.node_t[n.0 as usize] {
            return t;
        }
        let t = self.fresh(None);
        self.node_t[n.0 as usize] = Some(t);
        t
    }

    fn expect(&mut self, graph: &Graph, n: NodeId, shape: Shape) -> Result<(), TypeError> {
        let want = self.fresh(Some(shape));
        let t = self.node_type(n);
        self.unify(t, want).map_err(|(found, expected)| {
            conflict(
                graph.node(n).span,
                format!("expected {expected}, found {found}"),
            )
        })
    }

    fn expect_bv(&mut self, graph: &Graph, n: NodeId) -> Result<W, TypeError> {
        let w = self.fresh_w(None);
        self.expect(graph, n, Shape::Bv(w))?;
        Ok(w)
    }

    fn same(&mut self, graph: &Graph, a: NodeId, b: NodeId, what: &str) -> Result<(), TypeError> {
        let (ta, tb) = (self.node_type(a), self.node_type(b));
        self.unify(tb, ta).map_err(|(found, expected)| {
            conflict(
                graph.node(b).span,
                format!("{what}: expected {expected}, found {found}"),
            )
        })
    }

    // ---- constraint generation ---------------------------------------------

    /// Generates constraints for the nodes under `roots`, leaving the
    /// branches of `if` and `switch` for when they are chosen or forced.
    fn constrain_tree(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        roots: &[NodeId],
    ) -> Result<(), TypeError> {
        let mut stack: Vec<(NodeId, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((n, expanded)) = stack.pop() {
            if expanded {
                self.constrain(graph, enums, n)?;
                continue;
            }
            if std::mem::replace(&mut self.done[n.0 as usize], true) {
                continue;
            }
            stack.push((n, true));
            let node = graph.node(n);
            let eager: Vec<NodeId> = match node.kind {
                NodeKind::Op(Op::If) => vec![node.args[0]],
                NodeKind::Switch => (0..node.args.len() - 1)
                    .filter(|&i| i == 0 || i % 2 == 1)
                    .map(|i| node.args[i])
                    .collect(),
                _ => node.args.clone(),
            };
            for a in eager.into_iter().rev() {
                stack.push((a, false));
            }
        }
        Ok(())
    }

    fn constrain(&mut self, graph: &Graph, enums: &Enums, n: NodeId) -> Result<(), TypeError> {
        let node = graph.node(n);
        let args = &node.args;
        match &node.kind {
            NodeKind::Var(v) => {
                let vt = self.var_t[v.0 as usize].expect("every variable is typed");
                let nt = self.node_type(n);
                self.unify(nt, vt)
                    .map_err(|(a, b)| conflict(node.span, format!("expected {b}, found {a}")))?;
            }
            NodeKind::Const(lit) => {
                let shape = match lit {
                    crate::Literal::Int(_) => Shape::Int,
                    crate::Literal::Bool(_) => Shape::Bool,
                    crate::Literal::Bv { width, .. } => Shape::Bv(self.fresh_w(Some(*width))),
                };
                self.expect(graph, n, shape)?;
            }
            NodeKind::Op(op) => self.constrain_op(graph, n, *op)?,
            NodeKind::Field(_) => {
                self.pending.push(Pending::Field(n));
            }
            NodeKind::IsVariant(v) => {
                self.expect(graph, n, Shape::Bool)?;
                self.variant_ref(graph, n, args[0], v)?;
            }
            NodeKind::VariantField(v, _) => self.variant_ref(graph, n, args[0], v)?,
            NodeKind::Match(variants) => {
                for &body in &args[1..] {
                    self.same(graph, n, body, "match arms must have one type")?;
                }
                if let Some(id) = variants.iter().find_map(|v| v.enum_id) {
                    self.expect(graph, args[0], Shape::Enum(id))?;
                }
                self.pending.push(Pending::Match(n));
            }
            NodeKind::MakeEnum(id, variant) => {
                self.expect(graph, n, Shape::Enum(*id))?;
                let fields = &enums.get(*id).variants[*variant].fields;
                if fields.len() != args.len() {
                    return Err(conflict(
                        node.span,
                        format!("variant takes {} fields, got {}", fields.len(), args.len()),
                    ));
                }
                for ((_, ft), &a) in fields.iter().zip(args) {
                    let t = self.instantiate_model(ft);
                    let at = self.node_type(a);
                    self.unify(at, t).map_err(|(found, exp)| {
                        conflict(graph.node(a).span, format!("expected {exp}, found {found}"))
                    })?;
                }
            }
            NodeKind::MakeStruct(names) => {
                let mut fields: Vec<(String, T)> = names
                    .iter()
                    .zip(args)
                    .map(|(name, &a)| (name.clone(), self.node_type(a)))
                    .collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                self.expect(graph, n, Shape::Struct(fields))?;
            }
            NodeKind::As(ty) => {
                let t = self.instantiate_model(ty);
                let nt = self.node_type(n);
                self.unify(nt, t).map_err(|(found, exp)| {
                    conflict(node.span, format!("`as`: expected {exp}, found {found}"))
                })?;
                self.same(graph, n, args[0], "`as`")?;
            }
            NodeKind::Forall(_) => {
                self.expect(graph, args[0], Shape::Bool)?;
                self.expect(graph, n, Shape::Bool)?;
            }
            NodeKind::Switch => {
                for i in (1..args.len() - 1).step_by(2) {
                    self.same(
                        graph,
                        args[0],
                        args[i],
                        "switch case and scrutinee must have one type",
                    )?;
                }
                self.pending.push(Pending::Branch(n));
            }
        }
        Ok(())
    }

    fn variant_ref(
        &mut self,
        graph: &Graph,
        n: NodeId,
        x: NodeId,
        v: &VariantRef,
    ) -> Result<(), TypeError> {
        if let Some(id) = v.enum_id {
            self.expect(graph, x, Shape::Enum(id))?;
        }
        self.pending.push(Pending::Variant(n));
        Ok(())
    }

    fn constrain_op(&mut self, graph: &Graph, n: NodeId, op: Op) -> Result<(), TypeError> {
        let args = &graph.node(n).args;
        match op.typing() {
            OpTyping::Bool => {
                for &a in args {
                    self.expect(graph, a, Shape::Bool)?;
                }
                self.expect(graph, n, Shape::Bool)?;
            }
            OpTyping::Equal => {
                for &a in &args[1..] {
                    self.same(graph, args[0], a, "`=` compares values of one type")?;
                }
                self.expect(graph, n, Shape::Bool)?;
            }
            OpTyping::IntArith | OpTyping::IntCompare => {
                for &a in args {
                    self.expect(graph, a, Shape::Int)?;
                }
                let r = if op.typing() == OpTyping::IntArith {
                    Shape::Int
                } else {
                    Shape::Bool
                };
                self.expect(graph, n, r)?;
            }
            OpTyping::BvSame => {
                self.expect_bv(graph, n)?;
                for &a in args {
                    self.same(graph, n, a, &format!("`{op}` operands must have one width"))?;
                }
            }
            OpTyping::BvCompare => {
                self.expect_bv(graph, args[0])?;
                self.same(
                    graph,
                    args[0],
                    args[1],
                    &format!("`{op}` operands must have one width"),
                )?;
                self.expect(graph, n, Shape::Bool)?;
            }
            OpTyping::Extract => {
                self.expect(graph, args[0], Shape::Int)?;
                self.expect(graph, args[1], Shape::Int)?;
                self.expect_bv(graph, args[2])?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::ToWidth => {
                self.expect(graph, args[0], Shape::Int)?;
                self.expect_bv(graph, args[1])?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::IntToBv => {
                self.expect(graph, args[0], Shape::Int)?;
                self.expect(graph, args[1], Shape::Int)?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::BvToInt => {
                self.expect_bv(graph, args[0])?;
                self.expect(graph, n, Shape::Int)?;
            }
            OpTyping::Concat => {
                for &a in args {
                    self.expect_bv(graph, a)?;
                }
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::Replicate => {
                self.expect_bv(graph, args[0])?;
                self.expect(graph, args[1], Shape::Int)?;
                self.expect_bv(graph, n)?;
                self.pending.push(Pending::Width(n));
            }
            OpTyping::If => {
                self.expect(graph, args[0], Shape::Bool)?;
                self.pending.push(Pending::Branch(n));
            }
        }
        Ok(())
    }

    // ---- propagation --------------------------------------------------------

    fn bv_width(&mut self, n: NodeId) -> Option<u32> {
        match self.shape(self.node_t[n.0 as usize]?)? {
            Shape::Bv(w) => self.width(w),
            _ => None,
        }
    }

    fn node_w(&mut self, n: NodeId) -> W {
        let t = self.node_type(n);
        match self.shape(t) {
            Some(Shape::Bv(w)) => w,
            _ => unreachable!("constrained as a bitvector"),
        }
    }

    /// The static value of a node, if it has one now.
    pub fn static_value(&mut self, graph: &Graph, n: NodeId) -> Option<Value> {
        self.static_depth(graph, n, 0)
    }

    fn static_depth(&mut self, graph: &Graph, n: NodeId, depth: u32) -> Option<Value> {
        if depth > 200 {
            return None;
        }
        if let Some(&t) = self.redirects.get(&n) {
            return self.static_depth(graph, t, depth + 1);
        }
        let node = graph.node(n);
        match &node.kind {
            NodeKind::Const(lit) => Some(literal_value(lit)),
            NodeKind::Var(v) => self.statics.get(v).cloned(),
            NodeKind::Op(Op::WidthOf) => {
                let w = self.bv_width(node.args[0])?;
                Some(Value::Int(w.into()))
            }
            NodeKind::Op(Op::If) => {
                let c = self
                    .static_depth(graph, node.args[0], depth + 1)?
                    .as_bool()?;
                self.static_depth(graph, node.args[if c { 1 } else { 2 }], depth + 1)
            }
            NodeKind::Op(op)
                if matches!(
                    op.typing(),
                    OpTyping::Bool | OpTyping::IntArith | OpTyping::IntCompare | OpTyping::Equal
                ) =>
            {
                let args = node
                    .args
                    .iter()
                    .map(|&a| self.static_depth(graph, a, depth + 1))
                    .collect::<Option<Vec<_>>>()?;
                if args.iter().any(|a| matches!(a, Value::Bv(_))) {
                    return None;
                }
                apply(*op, &args).ok()
            }
            NodeKind::Switch => {
                let x = self.static_depth(graph, node.args[0], depth + 1)?;
                for i in (1..node.args.len() - 1).step_by(2) {
                    if self.static_depth(graph, node.args[i], depth + 1)? == x {
                        return self.static_depth(graph, node.args[i + 1], depth + 1);
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn conjuncts(graph: &Graph, n: NodeId, out: &mut Vec<NodeId>) {
        match graph.node(n).kind {
            NodeKind::Op(Op::And) => graph
                .node(n)
                .args
                .iter()
                .for_each(|&a| Self::conjuncts(graph, a, out)),
            _ => out.push(n),
        }
    }

    /// Pins integer/boolean variables from assumed `(= v static)` facts.
    fn propagate_facts(&mut self, graph: &Graph) -> bool {
        let mut conj = Vec::new();
        for &f in &self.facts.clone() {
            Self::conjuncts(graph, f, &mut conj);
        }
        let mut progress = false;
        for c in conj {
            let node = graph.node(c);
            if node.kind != NodeKind::Op(Op::Eq) || node.args.len() != 2 {
                continue;
            }
            for (a, b) in [(node.args[0], node.args[1]), (node.args[1], node.args[0])] {
                let Some(v) = graph.as_var(a) else { continue };
                if self.statics.contains_key(&v) {
                    continue;
                }
                if let Some(val @ (Value::Int(_) | Value::Bool(_))) = self.static_value(graph, b) {
                    self.statics.insert(v, val);
                    progress = true;
                }
            }
        }
        progress
    }

    fn step(&mut self, graph: &Graph, enums: &Enums) -> Result<bool, TypeError> {
        let mut progress = self.propagate_facts(graph);
        let pending = std::mem::take(&mut self.pending);
        let mut keep = Vec::new();
        for p in pending {
            if self.try_resolve(graph, enums, p)? {
                progress = true;
            } else {
                keep.push(p);
            }
        }
        keep.append(&mut self.pending);
        self.pending = keep;
        Ok(progress)
    }

    fn static_width(&mut self, graph: &Graph, n: NodeId, op: Op) -> Result<Option<u32>, TypeError> {
        match self.static_value(graph, n) {
            None => Ok(None),
            Some(v) => width_arg(op, &v)
                .map(Some)
                .map_err(|e| conflict(graph.node(n).span, e.to_string())),
        }
    }

    fn try_resolve(&mut self, graph: &Graph, enums: &Enums, p: Pending) -> Result<bool, TypeError> {
        match p {
            Pending::Width(n) => self.resolve_width(graph, n),
            Pending::Field(n) => {
                let node = graph.node(n);
                let NodeKind::Field(name) = &node.kind else {
                    unreachable!()
                };
                let xt = self.node_type(node.args[0]);
                match self.shape(xt) {
                    None => Ok(false),
                    Some(Shape::Struct(fields)) => match fields.iter().find(|(f, _)| f == name) {
                        Some(&(_, ft)) => {
                            let nt = self.node_type(n);
                            self.unify(nt, ft).map_err(|(found, exp)| {
                                conflict(
                                    node.span,
                                    format!("field `{name}`: expected {exp}, found {found}"),
                                )
                            })?;
                            Ok(true)
                        }
                        None => {
                            let known: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                            Err(conflict(
                                node.span,
                                format!("no field `{name}`; the struct has {}", known.join(", ")),
                            ))
                        }
                    },
                    Some(_) => {
                        let shown = self.show(xt);
                        Err(conflict(
                            node.span,
                            format!("`:{name}` of a non-struct value of type {shown}"),
                        ))
                    }
                }
            }
            Pending::Variant(n) => {
                let node = graph.node(n);
                let v = match &node.kind {
                    NodeKind::IsVariant(v) | NodeKind::VariantField(v, _) => v,
                    _ => unreachable!(),
                };
                let Some(id) = self.enum_of(graph, node.args[0], node.span)? else {
                    return Ok(false);
                };
                let def = enums.get(id);
                let Some(idx) = def.variant_index(&v.name) else {
                    return Err(conflict(
                        node.span,
                        format!("enum `{}` has no variant `{}`", def.name, v.name),
                    ));
                };
                self.variants.insert(n, (id, idx));
                if let NodeKind::VariantField(_, i) = node.kind {
                    let fields = &def.variants[idx].fields;
                    let Some((_, ft)) = fields.get(i) else {
                        return Err(conflict(
                            node.span,
                            format!(
                                "variant `{}` has {} fields, the arm binds more",
                                v.name,
                                fields.len()
                            ),
                        ));
                    };
                    let t = self.instantiate_model(ft);
                    let nt = self.node_type(n);
                    self.unify(nt, t).map_err(|(found, exp)| {
                        conflict(
                            node.span,
                            format!("field of `{}`: expected {exp}, found {found}", v.name),
                        )
                    })?;
                }
                Ok(true)
            }
            Pending::Match(n) => {
                let node = graph.node(n);
                let NodeKind::Match(variants) = &node.kind else {
                    unreachable!()
                };
                let Some(id) = self.enum_of(graph, node.args[0], node.span)? else {
                    return Ok(false);
                };
                let def = enums.get(id);
                let mut idx = Vec::new();
                for v in variants {
                    match def.variant_index(&v.name) {
                        Some(i) => idx.push(i),
                        None => {
                            return Err(conflict(
                                node.span,
                                format!("enum `{}` has no variant `{}`", def.name, v.name),
                            ))
                        }
                    }
                }
                self.arms.insert(n, idx);
                Ok(true)
            }
            Pending::Branch(n) => self.resolve_branch(graph, enums, n),
        }
    }

    fn enum_of(
        &mut self,
        graph: &Graph,
        x: NodeId,
        span: Span,
    ) -> Result<Option<EnumId>, TypeError> {
        let t = self.node_type(x);
        match self.shape(t) {
            None => Ok(None),
            Some(Shape::Enum(id)) => Ok(Some(id)),
            Some(_) => {
                let shown = self.show(t);
                let _ = graph;
                Err(conflict(span, format!("expected an enum, found {shown}")))
            }
        }
    }

    fn resolve_width(&mut self, graph: &Graph, n: NodeId) -> Result<bool, TypeError> {
        let node = graph.node(n);
        let NodeKind::Op(op) = node.kind else {
            unreachable!()
        };
        let args = node.args.clone();
        let set = |this: &mut Self, w: u32| -> Result<(), TypeError> {
            if w == 0 || w > MAX_WIDTH {
                return Err(conflict(
                    node.span,
                    format!("`{op}` gives a width of {w} bits, outside 1..={MAX_WIDTH}"),
                ));
            }
            let nw = this.node_w(n);
            this.set_width(nw, w).map_err(|(exp, found)| {
                conflict(
                    node.span,
                    format!("`{op}` gives {exp}, but {found} is expected here"),
                )
            })
        };
        match op.typing() {
            OpTyping::Extract => {
                let (Some(hi), Some(lo)) = (
                    self.static_width(graph, args[0], op)?,
                    self.static_width(graph, args[1], op)?,
                ) else {
                    return Ok(false);
                };
                if lo > hi {
                    return Err(conflict(
                        node.span,
                        format!("`extract {hi} {lo}`: the high index is below the low one"),
                    ));
                }
                set(self, hi - lo + 1)?;
                self.static_args.insert(n, vec![hi, lo]);
                self.bounds.push((n, Bound::ExtractIndex(hi)));
                Ok(true)
            }
            OpTyping::ToWidth | OpTyping::IntToBv => {
                let Some(w) = self.static_width(graph, args[0], op)? else {
                    return Ok(false);
                };
                set(self, w)?;
                self.static_args.insert(n, vec![w]);
                if matches!(op, Op::ZeroExt | Op::SignExt) {
                    self.bounds.push((n, Bound::ExtendTarget(w)));
                }
                Ok(true)
            }
            OpTyping::Replicate => {
                let (Some(w), Some(k)) = (
                    self.bv_width(args[0]),
                    self.static_width(graph, args[1], op)?,
                ) else {
                    return Ok(false);
                };
                if k == 0 {
                    return Err(conflict(node.span, "`replicate` 0 times".into()));
                }
                set(self, w.saturating_mul(k))?;
                self.static_args.insert(n, vec![k]);
                Ok(true)
            }
            OpTyping::Concat => {
                let widths: Vec<Option<u32>> = args.iter().map(|&a| self.bv_width(a)).collect();
                let total = self.bv_width(n);
                let unknown: Vec<usize> =
                    (0..widths.len()).filter(|&i| widths[i].is_none()).collect();
                match (unknown.as_slice(), total) {
                    ([], _) => {
                        let sum = widths
                            .iter()
                            .map(|w| w.unwrap_or(0))
                            .fold(0u32, u32::saturating_add);
                        set(self, sum)?;
                        Ok(true)
                    }
                    ([i], Some(t)) => {
                        let known: u32 = widths.iter().map(|w| w.unwrap_or(0)).sum();
                        if known >= t {
                            return Err(conflict(
                                node.span,
                                format!("`concat` of {known}+ bits cannot be (bv {t})"),
                            ));
                        }
                        let w = self.node_w(args[*i]);
                        self.set_width(w, t - known).map_err(|(a, b)| {
                            conflict(node.span, format!("`concat`: {a} vs {b}"))
                        })?;
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            }
            _ => unreachable!("only width-dependent operators are pending"),
        }
    }

    fn resolve_branch(
        &mut self,
        graph: &Graph,
        enums: &Enums,
        n: NodeId,
    ) -> Result<bool, TypeError> {
        let node = graph.node(n);
        let chosen = match node.kind {
            NodeKind::Op(Op::If) => match self.static_value(graph, node.args[0]) {
                Some(Value::Bool(c)) => Some(node.args[if c { 1 } else { 2 }]),
                _ => return Ok(false),
            },
            NodeKind::Switch => {
                let Some(x) = self.static_value(graph, node.args[0]) else {
                    return Ok(false);
                };
                let mut chosen = None;
                for i in (1..node.args.len() - 1).step_by(2) {
                    match self.static_value(graph, node.args[i]) {
                        Some(c) if c == x => {
                            chosen = Some(node.args[i + 1]);
                            break;
                        }
                        Some(_) => {}
                        None => return Ok(false),
                    }
                }
                match chosen {
                    Some(c) => Some(c),
                    None => {
                        return Err(conflict(
                            node.span,
                            format!("`switch` has no case for {}", show_value(&x)),
                        ))
                    }
                }
            }
            _ => unreachable!(),
        };
        let Some(target) = chosen else {
            return Ok(false);
        };
        // Type the chosen branch now that it is known, and alias the node to it.
        self.constrain_tree(graph, enums, &[target])?;
        self.same(graph, n, target, "branch")?;
        self.redirects.insert(n, target);
        Ok(true)
    }

    fn unify_branches(&mut self, graph: &Graph, enums: &Enums, n: NodeId) -> Result<(), TypeError> {
        let node = graph.node(n);
        let arms: Vec<NodeId> = match node.kind {
            NodeKind::Op(Op::If) => node.args[1..].to_vec(),
            _ => node
                .args
                .iter()
                .copied()
                .enumerate()
                .filter(|&(i, _)| i > 0 && (i % 2 == 0 || i == node.args.len() - 1))
                .map(|(_, a)| a)
                .collect(),
        };
        self.constrain_tree(graph, enums, &arms)?;
        match node.kind {
            NodeKind::Op(Op::If) => {
                self.same(graph, n, node.args[1], "`if` branches must have one type")?;
                self.same(graph, n, node.args[2], "`if` branches must have one type")?;
            }
            NodeKind::Switch => {
                for i in (2..node.args.len()).step_by(2) {
                    self.same(
                        graph,
                        n,
                        node.args[i],
                        "`switch` branches must have one type",
                    )?;
                }
                let last = *node.args.last().expect("switch has a default");
                self.same(graph, n, last, "`switch` default")?;
            }
            _ => unreachable!(),
        }
        Ok(())
    }

    fn check_bounds(&mut self, graph: &Graph, reachable: &[bool]) -> Result<(), TypeError> {
        for (n, bound) in self.bounds.clone() {
            if !reachable[n.0 as usize] {
                continue;
            }
            let node = graph.node(n);
            match bound {
                Bound::ExtractIndex(hi) => {
                    if let Some(w) = self.bv_width(node.args[2]) {
                        if hi >= w {
                            return Err(conflict(
                                node.span,
                                format!("`extract` of bit {hi} from a {w}-bit value"),
                            ));
                        }
                    }
                }
                Bound::ExtendTarget(target) => {
                    if let Some(w) = self.bv_width(node.args[1]) {
                        if w > target {
                            let NodeKind::Op(op) = node.kind else {
                                unreachable!()
                            };
                            return Err(conflict(
                                node.span,
                                format!("`{op}` to {target} bits of a {w}-bit value; use `extract` or `conv_to` to narrow"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn stuck(&mut self, graph: &Graph, p: Pending) -> TypeError {
        let (n, message) = match p {
            Pending::Width(n) => (n, "this width or index must be a constant (a literal, `widthof`, or arithmetic on them)".to_string()),
            Pending::Field(n) => (n, "cannot tell which struct this field belongs to".to_string()),
            Pending::Variant(n) | Pending::Match(n) => (n, "cannot tell which enum this variant belongs to".to_string()),
            Pending::Branch(n) => (n, "cannot resolve this branch".to_string()),
        };
        conflict(graph.node(n).span, message)
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Bv(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// Runs inference to completion in one call: constraints from `roots`, facts
/// from `facts`, extra required types, then [`Inference::solve`].
pub fn infer(
    graph: &Graph,
    enums: &Enums,
    roots: &[NodeId],
    facts: &[NodeId],
    required: &[(NodeId, ModelType)],
    mode: Mode,
) -> Result<Typing, TypeError> {
    let mut inf = Inference::new(graph, enums, roots, facts)?;
    for (n, ty) in required {
        inf.require(graph, *n, ty)?;
    }
    inf.solve(graph, enums, roots, mode)
}
