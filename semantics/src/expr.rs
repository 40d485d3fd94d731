//! The spec IR: term specifications after name resolution and macro
//! expansion, as the front end hands them to the verifier.

use crate::op::Op;
use crate::span::Span;
use crate::ty::{EnumId, ModelType};

/// Index of a variable local to one [`Spec`] (parameters, `result`, `let`,
/// `with` and match-arm binders).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalId(pub usize);

/// Index of a declared state variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateId(pub usize);

/// A constant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Literal {
    /// An integer.
    Int(i128),
    /// A bitvector of the given width.
    Bv {
        /// The bits, zero-extended.
        value: u128,
        /// The width.
        width: u32,
    },
    /// A boolean.
    Bool(bool),
}

/// A reference to an enum variant, as written: `Size32` or `OperandSize.Size32`.
/// Unqualified references are resolved against the scrutinee's type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VariantRef {
    /// The enum, when written qualified.
    pub enum_id: Option<EnumId>,
    /// The variant name.
    pub name: String,
}

/// One arm of a `match`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    /// The variant this arm matches.
    pub variant: VariantRef,
    /// Variables bound to the variant's fields, in order.
    pub binders: Vec<LocalId>,
    /// The arm's value.
    pub body: Expr,
    /// Where the arm is.
    pub span: Span,
}

/// A spec expression with its source span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of spec expressions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// A constant.
    Const(Literal),
    /// A local variable.
    Local(LocalId),
    /// A global state variable.
    State(StateId),
    /// An operator application.
    Op(Op, Vec<Expr>),
    /// `(let ((v e) ...) body)`: the bindings are evaluated in order.
    Let(Vec<(LocalId, Expr)>, Box<Expr>),
    /// `(with (v ...) body)`: fresh unconstrained variables.
    With(Vec<LocalId>, Box<Expr>),
    /// `(:field x)`.
    Field(String, Box<Expr>),
    /// `(Variant? x)`.
    IsVariant(VariantRef, Box<Expr>),
    /// `(match x arms...)`.
    Match(Box<Expr>, Vec<Arm>),
    /// `(Enum.Variant fields...)`.
    MakeEnum(EnumId, usize, Vec<Expr>),
    /// `(struct (f e) ...)`.
    MakeStruct(Vec<(String, Expr)>),
    /// `(as x T)`: `x`, with a type annotation.
    As(Box<Expr>, ModelType),
    /// `(switch x (c e) ...)`: the `e` of the first `c` equal to `x`.
    Switch(Box<Expr>, Vec<(Expr, Expr)>),
}

/// What a local variable is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalKind {
    /// A term parameter.
    Param,
    /// The term's `result`.
    Result,
    /// A `modifies` condition variable.
    ModifiesCond,
    /// Bound by `let` (or a macro parameter).
    Let,
    /// Bound by `with`.
    With,
    /// Bound by a `match` arm.
    ArmBinder,
}

/// A local variable of a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Local {
    /// Its name in the source.
    pub name: String,
    /// What binds it.
    pub kind: LocalKind,
    /// Where it is bound.
    pub span: Span,
}

/// A `(modifies state cond?)` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Modifies {
    /// The state modified.
    pub state: StateId,
    /// The condition variable, for conditional modification.
    pub cond: Option<LocalId>,
    /// Where the clause is.
    pub span: Span,
}

/// A term's specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Locals; parameters first, in order, then `result`.
    pub locals: Vec<Local>,
    /// The parameters.
    pub params: Vec<LocalId>,
    /// The `result` variable.
    pub result: LocalId,
    /// `provide` clauses (each boolean).
    pub provides: Vec<Expr>,
    /// `require` clauses.
    pub requires: Vec<Expr>,
    /// `match` clauses.
    pub matches: Vec<Expr>,
    /// `modifies` clauses.
    pub modifies: Vec<Modifies>,
    /// Where the spec is.
    pub span: Span,
}

/// A declared state variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDecl {
    /// Its name.
    pub name: String,
    /// Its model type.
    pub ty: ModelType,
    /// The default spec: a boolean over the state, with the state variable
    /// as local 0.
    pub default: Spec,
    /// Written in emission order (loweq's extension, `(attr NAME (tag
    /// emission_order))`): each term that modifies it makes a new version,
    /// which the terms emitted after it read; the default constrains the
    /// version before the first write. See docs/spec-conventions.md,
    /// "State written in emission order".
    pub ordered: bool,
    /// Says how many results the instruction being lowered has (loweq's
    /// extension, `(attr NAME (tag result_count))`; the shipped
    /// `clif_results`): only that instruction, matched directly as
    /// `lower`'s argument, may modify it. See docs/spec-conventions.md,
    /// "Instructions with several results".
    pub result_count: bool,
    /// The side of a lowering rule it belongs to, as the terms that modify
    /// it say (`None` when no term says: nobody modifies it, or only terms
    /// that are both matched and constructed). Only its side's terms may
    /// modify it in a rule. See docs/spec-conventions.md, "Traps and state".
    pub owner: Option<StateOwner>,
    /// Where it is declared.
    pub span: Span,
}

/// The side of a lowering rule a state belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateOwner {
    /// The IR's (`clif_trap`): modified by IR operations, terms that are
    /// only matched (extractors), so only a rule's patterns may modify it.
    Ir,
    /// The machine's (`isa_trap`, the flags): modified by instructions,
    /// terms that are only constructed, so only the code a rule emits may
    /// modify it.
    Machine,
}

impl Expr {
    /// Calls `f` on this expression and every subexpression, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Const(_) | ExprKind::Local(_) | ExprKind::State(_) => {}
            ExprKind::Op(_, args) | ExprKind::MakeEnum(_, _, args) => {
                args.iter().for_each(|a| a.walk(f))
            }
            ExprKind::Let(defs, body) => {
                defs.iter().for_each(|(_, e)| e.walk(f));
                body.walk(f);
            }
            ExprKind::With(_, body)
            | ExprKind::Field(_, body)
            | ExprKind::IsVariant(_, body)
            | ExprKind::As(body, _) => body.walk(f),
            ExprKind::Match(x, arms) => {
                x.walk(f);
                arms.iter().for_each(|a| a.body.walk(f));
            }
            ExprKind::MakeStruct(fields) => fields.iter().for_each(|(_, e)| e.walk(f)),
            ExprKind::Switch(x, cases) => {
                x.walk(f);
                for (c, e) in cases {
                    c.walk(f);
                    e.walk(f);
                }
            }
        }
    }
}
