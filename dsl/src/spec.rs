//! Resolution of spec expressions: names to locals, states and enums;
//! macro calls expanded; operators checked for arity; floating point
//! rejected. The result is the spec IR of `loweq_semantics::expr`.

use std::collections::HashMap;
use std::rc::Rc;

use cranelift_isle::ast::{self, SpecExpr, SpecOp};
use cranelift_isle::lexer::Pos;
use loweq_semantics::expr::{Arm, Expr, ExprKind, Literal, Local, LocalId, LocalKind, VariantRef};
use loweq_semantics::op::Op;
use loweq_semantics::span::{SourceMap, Span};
use loweq_semantics::ty::{EnumId, Enums};

use crate::diag::{did_you_mean, Diagnostic};
use crate::load::pos_span;
use crate::model::ModelResolver;

/// How deep macro expansion may nest before it is taken for recursion.
const MACRO_DEPTH: usize = 64;

/// Everything global that spec expressions can refer to.
pub struct Globals<'a> {
    /// The sources, for spans.
    pub sources: &'a SourceMap,
    /// Enums by id.
    pub enums: &'a Enums,
    /// ISLE enum type name to enum id.
    pub enum_names: &'a HashMap<String, EnumId>,
    /// State names to ids.
    pub states: &'a HashMap<String, usize>,
    /// Macros by name.
    pub macros: &'a HashMap<String, &'a ast::SpecMacro>,
}

/// An inline macro, `(macro (params...) body)`: a value that only a macro
/// parameter or a `let` can hold, and only a macro call can use. Its body
/// sees only its parameters (and global state), like a declared macro's:
/// it captures nothing from where it is written.
struct InlineMacro {
    params: Vec<ast::Ident>,
    body: SpecExpr,
    span: Span,
}

/// The macro a call `(name! args...)` expands.
enum Callee<'g> {
    Declared(&'g ast::SpecMacro),
    Inline(Rc<InlineMacro>),
}

/// Resolves the expressions of one spec (or state default, or const model).
pub struct Resolver<'a, 'm> {
    globals: &'a Globals<'a>,
    models: &'a mut ModelResolver<'m>,
    /// The locals created so far.
    pub locals: Vec<Local>,
    scope: Vec<(String, LocalId)>,
    /// Names bound to inline macros (macro parameters and `let`s), innermost last.
    macro_scope: Vec<(String, Rc<InlineMacro>)>,
    /// The macro whose body is being resolved, if any.
    expanding: Option<String>,
    depth: usize,
    /// Problems found.
    pub diags: Vec<Diagnostic>,
}

/// Maps cranelift-isle's operator to ours; `None` for floating point and
/// for the structural `switch`, which is handled separately.
fn map_op(op: &SpecOp) -> Option<Op> {
    Some(match op {
        SpecOp::Eq => Op::Eq,
        SpecOp::And => Op::And,
        SpecOp::Or => Op::Or,
        SpecOp::Not => Op::Not,
        SpecOp::Imp => Op::Imp,
        SpecOp::Add => Op::Add,
        SpecOp::Sub => Op::Sub,
        SpecOp::Mul => Op::Mul,
        SpecOp::Lt => Op::Lt,
        SpecOp::Lte => Op::Lte,
        SpecOp::Gt => Op::Gt,
        SpecOp::Gte => Op::Gte,
        SpecOp::BVNot => Op::BvNot,
        SpecOp::BVAnd => Op::BvAnd,
        SpecOp::BVOr => Op::BvOr,
        SpecOp::BVXor => Op::BvXor,
        SpecOp::BVNeg => Op::BvNeg,
        SpecOp::BVAdd => Op::BvAdd,
        SpecOp::BVSub => Op::BvSub,
        SpecOp::BVMul => Op::BvMul,
        SpecOp::BVUdiv => Op::BvUdiv,
        SpecOp::BVUrem => Op::BvUrem,
        SpecOp::BVSdiv => Op::BvSdiv,
        SpecOp::BVSrem => Op::BvSrem,
        SpecOp::BVShl => Op::BvShl,
        SpecOp::BVLshr => Op::BvLshr,
        SpecOp::BVAshr => Op::BvAshr,
        SpecOp::BVUle => Op::BvUle,
        SpecOp::BVUlt => Op::BvUlt,
        SpecOp::BVUgt => Op::BvUgt,
        SpecOp::BVUge => Op::BvUge,
        SpecOp::BVSlt => Op::BvSlt,
        SpecOp::BVSle => Op::BvSle,
        SpecOp::BVSgt => Op::BvSgt,
        SpecOp::BVSge => Op::BvSge,
        SpecOp::BVSaddo => Op::BvSaddo,
        SpecOp::Rotr => Op::Rotr,
        SpecOp::Rotl => Op::Rotl,
        SpecOp::Extract => Op::Extract,
        SpecOp::ZeroExt => Op::ZeroExt,
        SpecOp::SignExt => Op::SignExt,
        SpecOp::Concat => Op::Concat,
        SpecOp::Replicate => Op::Replicate,
        SpecOp::Popcnt => Op::Popcnt,
        SpecOp::Clz => Op::Clz,
        SpecOp::Cls => Op::Cls,
        SpecOp::Rev => Op::Rev,
        SpecOp::ConvTo => Op::ConvTo,
        SpecOp::Int2BV => Op::Int2Bv,
        SpecOp::BV2Nat => Op::Bv2Nat,
        SpecOp::WidthOf => Op::WidthOf,
        SpecOp::If => Op::If,
        _ => return None,
    })
}

impl<'a, 'm> Resolver<'a, 'm> {
    /// A resolver with an empty scope.
    pub fn new(globals: &'a Globals<'a>, models: &'a mut ModelResolver<'m>) -> Self {
        Resolver {
            globals,
            models,
            locals: Vec::new(),
            scope: Vec::new(),
            macro_scope: Vec::new(),
            expanding: None,
            depth: 0,
            diags: Vec::new(),
        }
    }

    fn span(&self, pos: Pos) -> Span {
        pos_span(self.globals.sources, pos)
    }

    /// Declares a local in the current scope. Shadowing an outer name is an
    /// error (the upstream language reference forbids it).
    pub fn declare(&mut self, ident: &ast::Ident, kind: LocalKind) -> LocalId {
        let span = self.span(ident.1);
        self.check_unbound(ident, span);
        let id = LocalId(self.locals.len());
        self.locals.push(Local {
            name: ident.0.clone(),
            kind,
            span,
        });
        self.scope.push((ident.0.clone(), id));
        id
    }

    /// Reports `ident` if it is already bound in scope: spec variables and
    /// inline macros may not be shadowed.
    fn check_unbound(&mut self, ident: &ast::Ident, span: Span) {
        let prev = self
            .scope
            .iter()
            .rev()
            .find(|(n, _)| *n == ident.0)
            .map(|(_, l)| self.locals[l.0].span)
            .or_else(|| self.inline_macro(&ident.0).map(|m| m.span));
        if let Some(prev_span) = prev {
            self.diags.push(
                Diagnostic::new(format!("`{}` is already bound", ident.0), span)
                    .with_secondary(prev_span, "first bound here")
                    .with_note("spec variables may not be shadowed; pick another name"),
            );
        }
    }

    /// The inline macro a name is bound to, if it is bound to one.
    fn inline_macro(&self, name: &str) -> Option<Rc<InlineMacro>> {
        self.macro_scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.clone())
    }

    /// If `e` is a macro value (an inline `(macro ...)`, or a name bound
    /// to one), that macro.
    fn macro_value(&mut self, e: &SpecExpr) -> Option<Rc<InlineMacro>> {
        match e {
            SpecExpr::Macro { params, body, pos } => Some(Rc::new(InlineMacro {
                params: params.clone(),
                body: (**body).clone(),
                span: self.span(*pos),
            })),
            SpecExpr::Var { var, .. } if !self.scope.iter().any(|(n, _)| *n == var.0) => {
                self.inline_macro(&var.0)
            }
            _ => None,
        }
    }

    /// Binds `ident` to an inline macro in the current scope.
    fn bind_macro(&mut self, ident: &ast::Ident, m: Rc<InlineMacro>) {
        let span = self.span(ident.1);
        self.check_unbound(ident, span);
        self.macro_scope.push((ident.0.clone(), m));
    }

    fn error(&mut self, d: Diagnostic) -> Option<Expr> {
        self.diags.push(d);
        None
    }

    /// Resolves an expression; `None` when it has errors (already reported).
    pub fn expr(&mut self, e: &SpecExpr) -> Option<Expr> {
        let span = self.span(e.pos());
        let kind = match e {
            SpecExpr::ConstInt { val, .. } => ExprKind::Const(Literal::Int(*val)),
            SpecExpr::ConstBitVec { val, width, .. } => {
                if *width == 0 || *width > loweq_semantics::eval::MAX_WIDTH as usize {
                    return self.error(Diagnostic::new("bitvector literal has no bits", span));
                }
                ExprKind::Const(Literal::Bv {
                    value: *val,
                    width: *width as u32,
                })
            }
            SpecExpr::ConstBool { val, .. } => ExprKind::Const(Literal::Bool(*val)),
            SpecExpr::Var { var, .. } => return self.var(var, span),
            SpecExpr::As { x, ty, .. } => {
                let x = self.expr(x);
                let ty = match self.models.resolve(ty, ast::Ident(String::new(), e.pos())) {
                    Ok(t) => t,
                    Err(d) => return self.error(d),
                };
                ExprKind::As(Box::new(x?), ty)
            }
            SpecExpr::Field { field, x, .. } => {
                ExprKind::Field(field.0.clone(), Box::new(self.expr(x)?))
            }
            SpecExpr::Discriminator { variant, x, .. } => {
                let v = self.variant_ref(variant)?;
                ExprKind::IsVariant(v, Box::new(self.expr(x)?))
            }
            SpecExpr::Op { op, args, .. } => return self.op(op, args, span),
            SpecExpr::Match { x, arms, .. } => {
                let x = self.expr(x);
                let mut out = Vec::new();
                let mut ok = true;
                for arm in arms {
                    let Some(variant) = self.variant_ref(&arm.variant) else {
                        ok = false;
                        continue;
                    };
                    let mark = self.scope.len();
                    let binders = arm
                        .args
                        .iter()
                        .map(|a| self.declare(a, LocalKind::ArmBinder))
                        .collect();
                    let body = self.expr(&arm.body);
                    self.scope.truncate(mark);
                    match body {
                        Some(body) => out.push(Arm {
                            variant,
                            binders,
                            body,
                            span: self.span(arm.pos),
                        }),
                        None => ok = false,
                    }
                }
                if out.is_empty() && ok {
                    return self.error(Diagnostic::new("`match` has no arms", span));
                }
                if !ok {
                    return None;
                }
                ExprKind::Match(Box::new(x?), out)
            }
            SpecExpr::Let { defs, body, .. } => {
                let mark = self.scope.len();
                let macro_mark = self.macro_scope.len();
                let mut out = Vec::new();
                let mut ok = true;
                for (name, def) in defs {
                    if let Some(m) = self.macro_value(def) {
                        self.bind_macro(name, m);
                        continue;
                    }
                    let value = self.expr(def);
                    let id = self.declare(name, LocalKind::Let);
                    match value {
                        Some(v) => out.push((id, v)),
                        None => ok = false,
                    }
                }
                let body = self.expr(body);
                self.scope.truncate(mark);
                self.macro_scope.truncate(macro_mark);
                if !ok {
                    return None;
                }
                if out.is_empty() {
                    // Every binding was a macro: the `let` is its body.
                    return body;
                }
                ExprKind::Let(out, Box::new(body?))
            }
            SpecExpr::With { decls, body, .. } => {
                let mark = self.scope.len();
                let ids = decls
                    .iter()
                    .map(|d| self.declare(d, LocalKind::With))
                    .collect();
                let body = self.expr(body);
                self.scope.truncate(mark);
                ExprKind::With(ids, Box::new(body?))
            }
            SpecExpr::Macro { .. } => {
                return self.error(
                    Diagnostic::new("an inline macro is not a value", span)
                        .with_label("a `(macro ...)` here has nothing to be applied to")
                        .with_note(
                        "pass it to a macro, `(apply! (macro (a b) (bvadd a b)) x y)`, or bind it with `let` and call it as `(name! args...)`",
                    ),
                )
            }
            SpecExpr::Expand { name, args, .. } => return self.expand(name, args, span),
            SpecExpr::Pair { .. } => {
                return self.error(Diagnostic::new(
                    "a `(case value)` pair outside `switch`",
                    span,
                ))
            }
            SpecExpr::Enum {
                name,
                variant,
                args,
                ..
            } => {
                let Some(&id) = self.globals.enum_names.get(&name.0) else {
                    let mut d = Diagnostic::new(format!("unknown enum `{}`", name.0), span);
                    if let Some(h) =
                        did_you_mean(&name.0, self.globals.enum_names.keys().map(|s| s.as_str()))
                    {
                        d = d.with_note(h);
                    }
                    return self.error(d);
                };
                let def = self.globals.enums.get(id);
                let Some(vi) = def.variant_index(&variant.0) else {
                    let mut d = Diagnostic::new(
                        format!("enum `{}` has no variant `{}`", name.0, variant.0),
                        span,
                    );
                    if let Some(h) =
                        did_you_mean(&variant.0, def.variants.iter().map(|v| v.name.as_str()))
                    {
                        d = d.with_note(h);
                    }
                    return self.error(d);
                };
                let want = def.variants[vi].fields.len();
                if args.len() != want {
                    return self.error(Diagnostic::new(
                        format!(
                            "`{}.{}` takes {want} fields, got {}",
                            name.0,
                            variant.0,
                            args.len()
                        ),
                        span,
                    ));
                }
                let args = self.exprs(args)?;
                ExprKind::MakeEnum(id, vi, args)
            }
            SpecExpr::Struct { fields, .. } => {
                let mut out: Vec<(String, Expr)> = Vec::new();
                let mut ok = true;
                for f in fields {
                    if out.iter().any(|(n, _)| *n == f.name.0) {
                        self.diags.push(Diagnostic::new(
                            format!("field `{}` given twice", f.name.0),
                            self.span(f.pos),
                        ));
                        ok = false;
                    }
                    match self.expr(&f.value) {
                        Some(v) => out.push((f.name.0.clone(), v)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ExprKind::MakeStruct(out)
            }
        };
        Some(Expr { kind, span })
    }

    fn exprs(&mut self, es: &[SpecExpr]) -> Option<Vec<Expr>> {
        let out: Vec<Option<Expr>> = es.iter().map(|e| self.expr(e)).collect();
        out.into_iter().collect()
    }

    fn var(&mut self, var: &ast::Ident, span: Span) -> Option<Expr> {
        if let Some((_, id)) = self.scope.iter().rev().find(|(n, _)| *n == var.0) {
            return Some(Expr {
                kind: ExprKind::Local(*id),
                span,
            });
        }
        if let Some(m) = self.inline_macro(&var.0) {
            return self.error(
                Diagnostic::new(format!("`{}` is a macro, not a value", var.0), span)
                    .with_secondary(m.span, "the macro")
                    .with_note(format!("call it: `({}! args...)`", var.0)),
            );
        }
        if let Some(&s) = self.globals.states.get(&var.0) {
            return Some(Expr {
                kind: ExprKind::State(loweq_semantics::expr::StateId(s)),
                span,
            });
        }
        let mut d = Diagnostic::new(format!("unbound variable `{}`", var.0), span)
            .with_label("not a parameter, `result`, a `let`/`with`/arm binding or a state");
        let names = self
            .scope
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.globals.states.keys().map(|s| s.as_str()));
        if let Some(h) = did_you_mean(&var.0, names) {
            d = d.with_note(h);
        }
        if let Some(m) = &self.expanding {
            d = d.with_note(format!(
                "this is the body of macro `{m}!`, which sees only its parameters and global state"
            ));
        }
        self.error(d)
    }

    fn variant_ref(&mut self, ident: &ast::Ident) -> Option<VariantRef> {
        match ident.0.split_once('.') {
            None => Some(VariantRef {
                enum_id: None,
                name: ident.0.clone(),
            }),
            Some((enum_name, variant)) => {
                let Some(&id) = self.globals.enum_names.get(enum_name) else {
                    let span = self.span(ident.1);
                    self.diags
                        .push(Diagnostic::new(format!("unknown enum `{enum_name}`"), span));
                    return None;
                };
                if self.globals.enums.get(id).variant_index(variant).is_none() {
                    let span = self.span(ident.1);
                    self.diags.push(Diagnostic::new(
                        format!("enum `{enum_name}` has no variant `{variant}`"),
                        span,
                    ));
                    return None;
                }
                Some(VariantRef {
                    enum_id: Some(id),
                    name: variant.to_string(),
                })
            }
        }
    }

    fn op(&mut self, op: &SpecOp, args: &[SpecExpr], span: Span) -> Option<Expr> {
        if *op == SpecOp::Switch {
            let Some((x, cases)) = args.split_first() else {
                return self.error(Diagnostic::new("`switch` needs a value to switch on", span));
            };
            let x = self.expr(x);
            let mut out = Vec::new();
            let mut ok = true;
            for c in cases {
                let SpecExpr::Pair { l, r, .. } = c else {
                    ok = false;
                    self.diags.push(Diagnostic::new(
                        "expected a `(case value)` pair",
                        self.span(c.pos()),
                    ));
                    continue;
                };
                match (self.expr(l), self.expr(r)) {
                    (Some(l), Some(r)) => out.push((l, r)),
                    _ => ok = false,
                }
            }
            if out.is_empty() && ok {
                return self.error(Diagnostic::new("`switch` has no cases", span));
            }
            if !ok {
                return None;
            }
            return Some(Expr {
                kind: ExprKind::Switch(Box::new(x?), out),
                span,
            });
        }
        let Some(our) = map_op(op) else {
            return self.error(
                Diagnostic::new("floating-point operators are not supported", span)
                    .with_label("loweq verifies the integer subset of CLIF"),
            );
        };
        if !our.arity().accepts(args.len()) {
            return self.error(
                Diagnostic::new(
                    format!(
                        "`{our}` takes {} arguments, got {}",
                        our.arity(),
                        args.len()
                    ),
                    span,
                )
                .with_label("wrong number of arguments"),
            );
        }
        let args = self.exprs(args)?;
        Some(Expr {
            kind: ExprKind::Op(our, args),
            span,
        })
    }

    fn expand(&mut self, name: &ast::Ident, args: &[SpecExpr], span: Span) -> Option<Expr> {
        // A name bound to an inline macro (a parameter, a `let`) comes
        // before a declared macro of that name.
        let callee = match self.inline_macro(&name.0) {
            Some(m) => Callee::Inline(m),
            None => match self.globals.macros.get(&name.0).copied() {
                Some(m) => Callee::Declared(m),
                None => {
                    let mut d = Diagnostic::new(format!("unknown macro `{}!`", name.0), span);
                    let names = self
                        .globals
                        .macros
                        .keys()
                        .map(|s| s.as_str())
                        .chain(self.macro_scope.iter().map(|(n, _)| n.as_str()));
                    if let Some(h) = did_you_mean(&name.0, names) {
                        d = d.with_note(h);
                    }
                    if self.scope.iter().any(|(n, _)| *n == name.0) {
                        d = d.with_note(format!(
                            "`{}` is a variable here; only a macro can be called with `!`",
                            name.0
                        ));
                    }
                    return self.error(d);
                }
            },
        };
        let (params, body, decl_span) = match &callee {
            Callee::Declared(m) => (&m.params, &m.body, self.span(m.pos)),
            Callee::Inline(m) => (&m.params, &m.body, m.span),
        };
        if params.len() != args.len() {
            return self.error(
                Diagnostic::new(
                    format!(
                        "macro `{}!` takes {} arguments, got {}",
                        name.0,
                        params.len(),
                        args.len()
                    ),
                    span,
                )
                .with_secondary(decl_span, "macro declared here"),
            );
        }
        if self.depth >= MACRO_DEPTH {
            return self.error(
                Diagnostic::new(format!("macro `{}!` expands too deeply", name.0), span)
                    .with_note("a macro that calls itself never finishes expanding"),
            );
        }
        // Arguments that are macros are passed as macros; the others are
        // values, each bound once, like `let`.
        let mut macro_args = Vec::new();
        let mut values = Vec::new();
        let mut ok = true;
        for (p, a) in params.iter().zip(args) {
            match self.macro_value(a) {
                Some(m) => macro_args.push((p.0.clone(), m)),
                None => match self.expr(a) {
                    Some(v) => values.push((p, v)),
                    None => ok = false,
                },
            }
        }
        if !ok {
            return None;
        }
        // The body sees only its parameters (and global state): macros are
        // lexically scoped.
        let saved = std::mem::take(&mut self.scope);
        let saved_macros = std::mem::replace(&mut self.macro_scope, macro_args);
        let mut defs = Vec::new();
        for (p, v) in values {
            let id = LocalId(self.locals.len());
            self.locals.push(Local {
                name: format!("{}!{}", name.0, p.0),
                kind: LocalKind::Let,
                span: self.span(p.1),
            });
            self.scope.push((p.0.clone(), id));
            defs.push((id, v));
        }
        self.depth += 1;
        let outer = self.expanding.replace(name.0.clone());
        let body = self.expr(body);
        self.expanding = outer;
        self.depth -= 1;
        self.scope = saved;
        self.macro_scope = saved_macros;
        let body = body?;
        Some(Expr {
            kind: ExprKind::Let(defs, Box::new(body)),
            span,
        })
    }
}
