//! The formula graph: spec expressions instantiated for one verification
//! condition, with fresh variables per term occurrence, `let` and macro
//! bindings shared rather than copied.
//!
//! Width inference, the concrete evaluator and the SMT encoder all work on
//! this graph, so that the three agree on what is being checked.

use crate::expr::{Expr, ExprKind, Literal, LocalId, Spec, VariantRef};
use crate::op::Op;
use crate::span::Span;
use crate::ty::{EnumId, ModelType};

/// Index of a node in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// Index of a variable in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VarId(pub u32);

/// What a node computes from its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A variable.
    Var(VarId),
    /// A constant.
    Const(Literal),
    /// An operator applied to the arguments.
    Op(Op),
    /// Field of the struct argument.
    Field(String),
    /// Whether the enum argument has the variant.
    IsVariant(VariantRef),
    /// Field `i` of the variant of the enum argument (a `match` arm binder).
    VariantField(VariantRef, usize),
    /// `match`: argument 0 is the scrutinee, then one body per arm.
    Match(Vec<VariantRef>),
    /// An enum value built from the arguments.
    MakeEnum(EnumId, usize),
    /// A struct value built from the arguments, one per field name.
    MakeStruct(Vec<String>),
    /// The argument, annotated with a type.
    As(ModelType),
    /// `switch`: argument 0 is the scrutinee, then `(case, value)` pairs,
    /// then the value when no case matches.
    Switch,
    /// The boolean argument holds for every value of the variables. Only the
    /// verifier builds these (for `(veri priority)`); specs cannot.
    Forall(Vec<VarId>),
}

/// A node of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What it computes.
    pub kind: NodeKind,
    /// Its arguments.
    pub args: Vec<NodeId>,
    /// The source expression it came from.
    pub span: Span,
    /// Where each argument was written here (an argument node shared with
    /// other uses has its own, first, span).
    pub arg_spans: Vec<Span>,
}

/// A variable of the graph: an unknown the solver chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarInfo {
    /// A readable, unique name (`iadd.result`, `x`, `with.t1@3`).
    pub name: String,
    /// Its declared type; `None` leaves it to inference.
    pub ty: Option<ModelType>,
    /// Where it was introduced.
    pub span: Span,
}

/// A spec instantiated into the graph.
#[derive(Clone, Debug, Default)]
pub struct SpecInstance {
    /// The nodes of its `provide` clauses.
    pub provides: Vec<NodeId>,
    /// The nodes of its `require` clauses.
    pub requires: Vec<NodeId>,
    /// The nodes of its `match` clauses.
    pub matches: Vec<NodeId>,
    /// Its `modifies` clauses: the state and the condition node (a constant
    /// `true` for unconditional modification).
    pub modifies: Vec<(crate::expr::StateId, NodeId)>,
}

impl SpecInstance {
    /// Every fact it states: its provides, matches and requires.
    pub fn facts(&self) -> Vec<NodeId> {
        let clauses = [&self.provides, &self.matches, &self.requires];
        clauses.into_iter().flatten().copied().collect()
    }
}

/// The graph.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// All nodes.
    pub nodes: Vec<Node>,
    /// All variables.
    pub vars: Vec<VarInfo>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Adds a node.
    pub fn add(&mut self, kind: NodeKind, args: Vec<NodeId>, span: Span) -> NodeId {
        let arg_spans = args.iter().map(|a| self.node(*a).span).collect();
        self.nodes.push(Node {
            kind,
            args,
            span,
            arg_spans,
        });
        NodeId((self.nodes.len() - 1) as u32)
    }

    /// Adds a node built from spec expressions, remembering where each
    /// argument was written.
    fn add_written(
        &mut self,
        kind: NodeKind,
        args: Vec<NodeId>,
        arg_spans: Vec<Span>,
        span: Span,
    ) -> NodeId {
        let n = self.add(kind, args, span);
        self.nodes[n.0 as usize].arg_spans = arg_spans;
        n
    }

    /// The node with the given id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// Adds a variable and returns the node that reads it.
    pub fn var(&mut self, name: impl Into<String>, ty: Option<ModelType>, span: Span) -> NodeId {
        self.vars.push(VarInfo {
            name: name.into(),
            ty,
            span,
        });
        let v = VarId((self.vars.len() - 1) as u32);
        self.add(NodeKind::Var(v), vec![], span)
    }

    /// The variable a node reads, if it is a variable node.
    pub fn as_var(&self, n: NodeId) -> Option<VarId> {
        match self.node(n).kind {
            NodeKind::Var(v) => Some(v),
            _ => None,
        }
    }

    /// A constant node.
    pub fn constant(&mut self, lit: Literal, span: Span) -> NodeId {
        self.add(NodeKind::Const(lit), vec![], span)
    }

    /// An operator node.
    pub fn op(&mut self, op: Op, args: Vec<NodeId>, span: Span) -> NodeId {
        self.add(NodeKind::Op(op), args, span)
    }

    /// `(conv_to w x)` with a padding variable of its own, named `name`:
    /// every conversion written in a spec, at every instantiation of the
    /// spec, gets fresh padding.
    pub fn conv_to(&mut self, w: NodeId, x: NodeId, name: String, span: Span) -> NodeId {
        let pad = self.var(name, None, span);
        self.op(Op::ConvTo, vec![w, x, pad], span)
    }

    /// Instantiates `spec`: `bindings[i]` is the node for local `i` where the
    /// caller provides it (parameters, `result`, modifies conditions);
    /// `states[s]` the node of state `s`. Locals without a binding that need
    /// a variable (`with` binders, unbound conditions) get fresh ones named
    /// with `prefix`.
    pub fn instantiate(
        &mut self,
        spec: &Spec,
        bindings: &[Option<NodeId>],
        states: &[NodeId],
        prefix: &str,
    ) -> SpecInstance {
        self.instantiate_ordered(spec, bindings, states, states, prefix)
    }

    /// [`Self::instantiate`] where the `require` clauses read the states
    /// as they were before the term (`before`) and the other clauses as
    /// the term leaves them (`states`): a precondition holds where the
    /// instruction is emitted, a provide describes what it wrote (states
    /// written in emission order, see [`crate::expr::StateDecl::ordered`]).
    pub fn instantiate_ordered(
        &mut self,
        spec: &Spec,
        bindings: &[Option<NodeId>],
        states: &[NodeId],
        before: &[NodeId],
        prefix: &str,
    ) -> SpecInstance {
        let mut env: Vec<Option<NodeId>> = bindings.to_vec();
        env.resize(spec.locals.len(), None);
        let mut inst = Instantiator {
            graph: self,
            spec,
            env,
            states,
            prefix,
            paddings: 0,
        };
        let provides = spec.provides.iter().map(|e| inst.expr(e)).collect();
        inst.states = before;
        let requires = spec.requires.iter().map(|e| inst.expr(e)).collect();
        inst.states = states;
        let matches = spec.matches.iter().map(|e| inst.expr(e)).collect();
        let modifies = spec
            .modifies
            .iter()
            .map(|m| {
                let cond = match m.cond {
                    Some(c) => inst.local(c),
                    None => inst.graph.constant(Literal::Bool(true), m.span),
                };
                (m.state, cond)
            })
            .collect();
        SpecInstance {
            provides,
            requires,
            matches,
            modifies,
        }
    }

    /// Instantiates one expression of `spec` with the given local bindings;
    /// used for state defaults.
    pub fn instantiate_expr(
        &mut self,
        spec: &Spec,
        expr: &Expr,
        bindings: &[Option<NodeId>],
        states: &[NodeId],
        prefix: &str,
    ) -> NodeId {
        let mut env: Vec<Option<NodeId>> = bindings.to_vec();
        env.resize(spec.locals.len(), None);
        Instantiator {
            graph: self,
            spec,
            env,
            states,
            prefix,
            paddings: 0,
        }
        .expr(expr)
    }
}

struct Instantiator<'a> {
    graph: &'a mut Graph,
    spec: &'a Spec,
    env: Vec<Option<NodeId>>,
    states: &'a [NodeId],
    prefix: &'a str,
    /// `conv_to` paddings created so far, to name them.
    paddings: usize,
}

impl Instantiator<'_> {
    fn local(&mut self, l: LocalId) -> NodeId {
        if let Some(n) = self.env[l.0] {
            return n;
        }
        let local = &self.spec.locals[l.0];
        let name = format!("{}.{}", self.prefix, local.name);
        let n = self.graph.var(name, None, local.span);
        self.env[l.0] = Some(n);
        n
    }

    fn fresh(&mut self, what: &str, span: Span) -> NodeId {
        let name = format!("{}.{what}", self.prefix);
        self.graph.var(name, None, span)
    }

    fn expr(&mut self, e: &Expr) -> NodeId {
        let span = e.span;
        match &e.kind {
            ExprKind::Const(lit) => self.graph.constant(lit.clone(), span),
            ExprKind::Local(l) => self.local(*l),
            ExprKind::State(s) => self.states[s.0],
            ExprKind::Op(op, args) => {
                let mut spans: Vec<Span> = args.iter().map(|a| a.span).collect();
                let mut args: Vec<NodeId> = args.iter().map(|a| self.expr(a)).collect();
                if *op == Op::ConvTo {
                    // Fresh padding for each conversion, as upstream's
                    // `conv_to`: two conversions of one value do not share
                    // it (a `let` binding one conversion does).
                    self.paddings += 1;
                    let name = match self.paddings {
                        1 => format!("{}.padding", self.prefix),
                        k => format!("{}.padding{k}", self.prefix),
                    };
                    args.push(self.graph.var(name, None, span));
                    spans.push(span);
                }
                self.graph.add_written(NodeKind::Op(*op), args, spans, span)
            }
            ExprKind::Let(defs, body) => {
                for (l, def) in defs {
                    let n = self.expr(def);
                    self.env[l.0] = Some(n);
                }
                self.expr(body)
            }
            ExprKind::With(locals, body) => {
                for l in locals {
                    // Each evaluation of a `with` gets fresh variables.
                    self.env[l.0] = None;
                    self.local(*l);
                }
                self.expr(body)
            }
            ExprKind::Field(name, x) => {
                let x = self.expr(x);
                self.graph.add(NodeKind::Field(name.clone()), vec![x], span)
            }
            ExprKind::IsVariant(v, x) => {
                let x = self.expr(x);
                self.graph
                    .add(NodeKind::IsVariant(v.clone()), vec![x], span)
            }
            ExprKind::Match(x, arms) => {
                let x = self.expr(x);
                let mut args = vec![x];
                let mut variants = Vec::new();
                for arm in arms {
                    for (i, b) in arm.binders.iter().enumerate() {
                        let field = self.graph.add(
                            NodeKind::VariantField(arm.variant.clone(), i),
                            vec![x],
                            arm.span,
                        );
                        self.env[b.0] = Some(field);
                    }
                    args.push(self.expr(&arm.body));
                    variants.push(arm.variant.clone());
                }
                // The value when no arm matches: unconstrained.
                let default = self.fresh("match.default", span);
                args.push(default);
                self.graph.add(NodeKind::Match(variants), args, span)
            }
            ExprKind::MakeEnum(id, variant, fields) => {
                let args = fields.iter().map(|a| self.expr(a)).collect();
                self.graph
                    .add(NodeKind::MakeEnum(*id, *variant), args, span)
            }
            ExprKind::MakeStruct(fields) => {
                let names = fields.iter().map(|(n, _)| n.clone()).collect();
                let args = fields.iter().map(|(_, e)| self.expr(e)).collect();
                self.graph.add(NodeKind::MakeStruct(names), args, span)
            }
            ExprKind::As(x, ty) => {
                let x = self.expr(x);
                self.graph.add(NodeKind::As(ty.clone()), vec![x], span)
            }
            ExprKind::Switch(x, cases) => {
                let mut args = vec![self.expr(x)];
                for (c, v) in cases {
                    args.push(self.expr(c));
                    args.push(self.expr(v));
                }
                // The value when no case matches: unconstrained.
                let default = self.fresh("switch.default", span);
                args.push(default);
                self.graph.add(NodeKind::Switch, args, span)
            }
        }
    }
}
