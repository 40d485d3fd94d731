//! Building the verification condition of one rule expansion: every term
//! occurrence gets fresh variables and its spec instantiated into one
//! formula graph; the clauses are sorted into assumptions and obligations
//! following DESIGN.md ("What a rule is correct means").

use cranelift_isle::sema::{
    Expr, Pattern, Rule, RuleId, TermId, TermKind, TypeId, VarId as IsleVar,
};
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::expr::StateId;
use loweq_semantics::graph::{Graph, NodeId, NodeKind, VarId};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_semantics::Literal;

use crate::expand::Plan;

/// Which side of the rule a term occurrence is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The left-hand side pattern or an `if-let` guard: the IR.
    Lhs,
    /// The right-hand side: the machine code.
    Rhs,
}

/// One application of a term in the expanded rule.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// The term.
    pub term: TermId,
    /// The application as written (`(iadd x y)`).
    pub text: String,
    /// Its side.
    pub side: Side,
    /// Argument nodes.
    pub args: Vec<NodeId>,
    /// Result node.
    pub result: NodeId,
    /// Inserted implicitly by an ISLE `convert`.
    pub converter: bool,
}

/// Where a clause comes from, for explaining which condition failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `provide` of the named term.
    Provide(String),
    /// A `require` of the named term.
    Require(String),
    /// A `match` of the named term.
    Match(String),
    /// A pattern constraint (constant, repeated variable, enum variant).
    Pattern,
    /// The default of a state nobody modified.
    StateDefault(String),
    /// A higher-priority rule does not match.
    Priority(String),
}

/// A boolean node with its origin.
#[derive(Clone, Debug)]
pub struct Clause {
    /// The formula.
    pub node: NodeId,
    /// Where it comes from.
    pub origin: Origin,
    /// The source it was written at.
    pub span: Span,
}

/// A term occurrence whose term has `instantiate` signatures: one choice
/// point of the instantiation search.
#[derive(Clone, Debug)]
pub struct Slot {
    /// Index into [`Condition::occurrences`].
    pub occurrence: usize,
    /// The term.
    pub term: TermId,
}

/// A variable of the rule, bound in the root rule's pattern.
#[derive(Clone, Debug)]
pub struct Input {
    /// Its name in the rule.
    pub name: String,
    /// Its node.
    pub node: NodeId,
}

/// The verification condition of one expansion of a rule.
#[derive(Clone, Debug, Default)]
pub struct Condition {
    /// The formula graph.
    pub graph: Graph,
    /// Facts assumed.
    pub assumptions: Vec<Clause>,
    /// Facts to prove.
    pub obligations: Vec<Clause>,
    /// Every term application, LHS first.
    pub occurrences: Vec<Occurrence>,
    /// Instantiation choice points, in occurrence order.
    pub slots: Vec<Slot>,
    /// The root rule's variables.
    pub inputs: Vec<Input>,
    /// Types required by the ISLE signatures of the terms.
    pub required: Vec<(NodeId, ModelType)>,
    /// The root term's argument nodes.
    pub root_args: Vec<NodeId>,
    /// The root term's result node.
    pub root_result: Option<NodeId>,
}

impl Condition {
    /// All boolean roots: assumptions then obligations.
    pub fn roots(&self) -> Vec<NodeId> {
        self.assumptions
            .iter()
            .chain(&self.obligations)
            .map(|c| c.node)
            .collect()
    }
}

/// Whether clauses of a spec are assumed or asserted at this occurrence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A callee: provide and match assumed, require asserted.
    Callee,
    /// The root: require and match assumed, provide asserted.
    Root,
    /// Inside a negated priority condition: everything goes to one list.
    Condition,
}

/// Builds the condition for `rule` following `plan`.
pub fn build(program: &Program, rule: RuleId, plan: &Plan) -> Result<Condition, Diagnostic> {
    let mut b = Builder {
        p: program,
        c: Condition::default(),
        states: Vec::new(),
        modifies: Vec::new(),
        plan: plan.choices.iter().copied(),
        counter: 0,
        collect: None,
        conversions: Vec::new(),
    };
    for s in &program.states {
        let n = b.c.graph.var(s.name.clone(), Some(s.ty.clone()), s.span);
        b.states.push(n);
    }
    b.root(rule)?;
    b.finish_states();
    Ok(b.c)
}

struct Builder<'p, I: Iterator<Item = RuleId>> {
    p: &'p Program,
    c: Condition,
    states: Vec<NodeId>,
    modifies: Vec<(StateId, NodeId)>,
    plan: I,
    counter: usize,
    /// When building a priority condition: where its clauses go.
    collect: Option<Vec<NodeId>>,
    /// Implicit conversions already applied, by (term, argument): a value
    /// converted twice is one register, with one set of upper bits.
    conversions: Vec<((TermId, NodeId), NodeId)>,
}

type Vars = Vec<Option<NodeId>>;

impl<I: Iterator<Item = RuleId>> Builder<'_, I> {
    fn rule_span(&self, rule: &Rule) -> Span {
        self.p.rule(rule.id).span
    }

    fn root(&mut self, rid: RuleId) -> Result<(), Diagnostic> {
        let rule = &self.p.terms.rules[rid.index()];
        let span = self.rule_span(rule);
        let term = &self.p.terms.terms[rule.root_term.index()];
        let mut vars: Vars = vec![None; rule.vars.len()];
        let mut args = Vec::new();
        for (i, &ty) in term.arg_tys.iter().enumerate() {
            let name = format!("{}.arg{}", self.p.term(rule.root_term).name, i);
            let n = self.fresh_typed(name, ty, span)?;
            args.push(n);
        }
        for (pat, &a) in rule.args.iter().zip(&args) {
            self.pattern(rule, pat, a, &mut vars)?;
        }
        self.iflets(rule, &mut vars)?;
        self.c.inputs = rule
            .vars
            .iter()
            .filter_map(|v| {
                let node = vars[v.id.index()]?;
                Some(Input {
                    name: self.p.sym(v.name).to_string(),
                    node,
                })
            })
            .collect();
        self.priority_conditions(rid, &args)?;
        let result = self.expr(rule, &rule.rhs, &mut vars)?;
        self.c.root_args = args.clone();
        self.c.root_result = Some(result);
        let text = self.show_lhs_root(rule);
        self.apply(
            rule.root_term,
            args,
            result,
            Side::Lhs,
            text,
            Role::Root,
            span,
        )
    }

    fn fresh_typed(&mut self, name: String, ty: TypeId, span: Span) -> Result<NodeId, Diagnostic> {
        let model = self.model(ty, span)?;
        Ok(self.c.graph.var(name, Some(model), span))
    }

    fn model(&self, ty: TypeId, span: Span) -> Result<ModelType, Diagnostic> {
        self.p.model(ty).cloned().ok_or_else(|| {
            Diagnostic::new(
                format!("type `{}` has no model", self.p.type_name(ty)),
                span,
            )
            .with_note(format!("add `(model {} (type ...))`", self.p.type_name(ty)))
        })
    }

    fn assume(&mut self, node: NodeId, origin: Origin, span: Span) {
        match &mut self.collect {
            Some(list) => list.push(node),
            None => self.c.assumptions.push(Clause { node, origin, span }),
        }
    }

    fn oblige(&mut self, node: NodeId, origin: Origin, span: Span) {
        match &mut self.collect {
            // Inside a priority condition, callee requirements are part of
            // the condition that is negated: the rule only "matches" where
            // its terms are defined.
            Some(list) => list.push(node),
            None => self.c.obligations.push(Clause { node, origin, span }),
        }
    }

    fn eq(&mut self, a: NodeId, b: NodeId, span: Span) -> NodeId {
        self.c.graph.op(Op::Eq, vec![a, b], span)
    }

    /// Instantiates the spec of `tid` for one application.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        tid: TermId,
        args: Vec<NodeId>,
        result: NodeId,
        side: Side,
        text: String,
        role: Role,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let info = self.p.term(tid);
        let term = &self.p.terms.terms[tid.index()];
        let Some(spec) = &info.spec else {
            return Err(Diagnostic::new(format!("term `{}` has no spec", info.name), span)
                .with_label(format!("`{}` is used here", info.name))
                .with_secondary(info.span, "declared here")
                .with_note("give it a `(spec ...)`, or mark it `(veri chain)` to verify through its rules"));
        };
        for (&a, &ty) in args.iter().zip(&term.arg_tys) {
            let m = self.model(ty, span)?;
            self.c.required.push((a, m));
        }
        let m = self.model(term.ret_ty, span)?;
        self.c.required.push((result, m));
        let mut bindings = vec![None; spec.locals.len()];
        for (&l, &a) in spec.params.iter().zip(&args) {
            bindings[l.0] = Some(a);
        }
        bindings[spec.result.0] = Some(result);
        self.counter += 1;
        let prefix = format!("{}#{}", info.name, self.counter);
        let inst = self
            .c
            .graph
            .instantiate(spec, &bindings, &self.states, &prefix);
        let name = info.name.clone();
        let role = if self.collect.is_some() {
            Role::Condition
        } else {
            role
        };
        match role {
            Role::Root => {
                for n in inst.requires {
                    self.assume(n, Origin::Require(name.clone()), spec.span);
                }
                for n in inst.matches {
                    self.assume(n, Origin::Match(name.clone()), spec.span);
                }
                for n in inst.provides {
                    self.oblige(n, Origin::Provide(name.clone()), spec.span);
                }
            }
            Role::Callee | Role::Condition => {
                for n in inst.provides {
                    self.assume(n, Origin::Provide(name.clone()), spec.span);
                }
                for n in inst.matches {
                    self.assume(n, Origin::Match(name.clone()), spec.span);
                }
                for n in inst.requires {
                    self.oblige(n, Origin::Require(name.clone()), spec.span);
                }
            }
        }
        if self.collect.is_none() {
            self.modifies.extend(inst.modifies);
        }
        let occurrence = self.c.occurrences.len();
        self.c.occurrences.push(Occurrence {
            term: tid,
            text,
            side,
            args,
            result,
            converter: info.converter,
        });
        if !info.signatures.is_empty() {
            self.c.slots.push(Slot {
                occurrence,
                term: tid,
            });
        }
        Ok(())
    }

    fn constant(&mut self, ty: TypeId, lit: ConstValue, span: Span) -> Result<NodeId, Diagnostic> {
        let model = self.model(ty, span)?;
        let literal = match (lit, &model) {
            (ConstValue::Bool(b), _) => Literal::Bool(b),
            (ConstValue::Int(i), ModelType::Int) => Literal::Int(i),
            (ConstValue::Int(i), ModelType::BitVec(Some(w))) => {
                let bv = loweq_semantics::value::BitVec::from_int(*w, &i.into());
                Literal::Bv {
                    value: bv.to_u128().unwrap_or(0),
                    width: *w,
                }
            }
            (ConstValue::Int(_), other) => {
                return Err(Diagnostic::new(
                    format!(
                        "an integer constant of type `{}`, whose model {} is neither Int nor a fixed-width bitvector",
                        self.p.type_name(ty),
                        other.display(&self.p.enums)
                    ),
                    span,
                ))
            }
            (ConstValue::Prim(name), _) => match self.p.consts.get(&name) {
                Some(c) => c.value.clone(),
                None => {
                    return Err(Diagnostic::new(format!("constant `${name}` has no model"), span)
                        .with_note(format!("add `(model ${name} (const ...))`")))
                }
            },
        };
        let n = self.c.graph.constant(literal, span);
        self.c.required.push((n, model));
        Ok(n)
    }

    fn pattern(
        &mut self,
        rule: &Rule,
        pat: &Pattern,
        value: NodeId,
        vars: &mut Vars,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        match pat {
            Pattern::BindPattern(_, v, sub) => {
                vars[v.index()] = Some(value);
                self.pattern(rule, sub, value, vars)
            }
            Pattern::Var(_, v) => {
                let bound = vars[v.index()].expect("ISLE binds variables before reuse");
                let e = self.eq(value, bound, span);
                self.assume(e, Origin::Pattern, span);
                Ok(())
            }
            Pattern::ConstBool(ty, b) => self.pattern_const(*ty, ConstValue::Bool(*b), value, span),
            Pattern::ConstInt(ty, i) => self.pattern_const(*ty, ConstValue::Int(*i), value, span),
            Pattern::ConstPrim(ty, sym) => {
                let name = self.p.sym(*sym).to_string();
                self.pattern_const(*ty, ConstValue::Prim(name), value, span)
            }
            Pattern::Wildcard(_) => Ok(()),
            Pattern::And(_, subs) => {
                for s in subs {
                    self.pattern(rule, s, value, vars)?;
                }
                Ok(())
            }
            Pattern::Term(ty, tid, args) => {
                let text = self.show_pattern(rule, pat);
                if let (TermKind::EnumVariant { variant }, None) = (
                    &self.p.terms.terms[tid.index()].kind,
                    &self.p.term(*tid).spec,
                ) {
                    return self.pattern_variant(rule, *ty, variant.index(), args, value, vars);
                }
                let term = &self.p.terms.terms[tid.index()];
                let mut outs = Vec::new();
                for (i, &aty) in term.arg_tys.iter().enumerate() {
                    self.counter += 1;
                    let name = format!("{}#{}.{}", self.p.term(*tid).name, self.counter, i);
                    outs.push(self.fresh_typed(name, aty, span)?);
                }
                self.apply(
                    *tid,
                    outs.clone(),
                    value,
                    Side::Lhs,
                    text,
                    Role::Callee,
                    span,
                )?;
                for (sub, &o) in args.iter().zip(&outs) {
                    self.pattern(rule, sub, o, vars)?;
                }
                Ok(())
            }
        }
    }

    fn pattern_const(
        &mut self,
        ty: TypeId,
        c: ConstValue,
        value: NodeId,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let k = self.constant(ty, c, span)?;
        let e = self.eq(value, k, span);
        self.assume(e, Origin::Pattern, span);
        Ok(())
    }

    fn enum_variant(
        &self,
        ty: TypeId,
        variant: usize,
        span: Span,
    ) -> Result<loweq_semantics::expr::VariantRef, Diagnostic> {
        match self.model(ty, span)? {
            ModelType::Enum(id) => Ok(loweq_semantics::expr::VariantRef {
                enum_id: Some(id),
                name: self.p.enums.get(id).variants[variant].name.clone(),
            }),
            _ => Err(Diagnostic::new(
                format!(
                    "enum `{}` has a non-enum model, so its variants need specs",
                    self.p.type_name(ty)
                ),
                span,
            )),
        }
    }

    fn pattern_variant(
        &mut self,
        rule: &Rule,
        ty: TypeId,
        variant: usize,
        args: &[Pattern],
        value: NodeId,
        vars: &mut Vars,
    ) -> Result<(), Diagnostic> {
        let span = self.rule_span(rule);
        let vref = self.enum_variant(ty, variant, span)?;
        let is = self
            .c
            .graph
            .add(NodeKind::IsVariant(vref.clone()), vec![value], span);
        self.assume(is, Origin::Pattern, span);
        for (i, sub) in args.iter().enumerate() {
            let field =
                self.c
                    .graph
                    .add(NodeKind::VariantField(vref.clone(), i), vec![value], span);
            self.pattern(rule, sub, field, vars)?;
        }
        Ok(())
    }

    fn iflets(&mut self, rule: &Rule, vars: &mut Vars) -> Result<(), Diagnostic> {
        for il in &rule.iflets {
            let v = self.expr(rule, &il.rhs, vars)?;
            self.pattern(rule, &il.lhs, v, vars)?;
        }
        Ok(())
    }

    fn expr(&mut self, rule: &Rule, e: &Expr, vars: &mut Vars) -> Result<NodeId, Diagnostic> {
        let span = self.rule_span(rule);
        match e {
            Expr::Var(_, v) => Ok(vars[v.index()].expect("ISLE binds variables before use")),
            Expr::ConstBool(ty, b) => self.constant(*ty, ConstValue::Bool(*b), span),
            Expr::ConstInt(ty, i) => self.constant(*ty, ConstValue::Int(*i), span),
            Expr::ConstPrim(ty, sym) => {
                let name = self.p.sym(*sym).to_string();
                self.constant(*ty, ConstValue::Prim(name), span)
            }
            Expr::Let { bindings, body, .. } => {
                for (v, _, value) in bindings {
                    let n = self.expr(rule, value, vars)?;
                    vars[v.index()] = Some(n);
                }
                self.expr(rule, body, vars)
            }
            Expr::Term(ty, tid, args) => {
                let mut arg_nodes = Vec::new();
                for a in args {
                    arg_nodes.push(self.expr(rule, a, vars)?);
                }
                let info = self.p.term(*tid);
                if info.chain {
                    if self.collect.is_some() {
                        return Err(Diagnostic::new(
                            format!(
                                "chained term `{}` in the guard of a `(veri priority)` rule",
                                info.name
                            ),
                            span,
                        )
                        .with_note("priority conditions must be expressible through specs"));
                    }
                    return self.chain(*tid, arg_nodes, span);
                }
                if let (TermKind::EnumVariant { variant }, None) =
                    (&self.p.terms.terms[tid.index()].kind, &info.spec)
                {
                    let vref = self.enum_variant(*ty, variant.index(), span)?;
                    let id = vref.enum_id.expect("resolved");
                    let n =
                        self.c
                            .graph
                            .add(NodeKind::MakeEnum(id, variant.index()), arg_nodes, span);
                    let m = self.model(*ty, span)?;
                    self.c.required.push((n, m));
                    return Ok(n);
                }
                let key = (*tid, arg_nodes.first().copied().unwrap_or(NodeId(0)));
                if info.converter && arg_nodes.len() == 1 && self.collect.is_none() {
                    if let Some(&(_, n)) = self.conversions.iter().find(|(k, _)| *k == key) {
                        return Ok(n);
                    }
                }
                let term = &self.p.terms.terms[tid.index()];
                self.counter += 1;
                let name = format!("{}#{}.result", info.name, self.counter);
                let result = self.fresh_typed(name, term.ret_ty, span)?;
                let text = self.show_expr(rule, e);
                self.apply(*tid, arg_nodes, result, Side::Rhs, text, Role::Callee, span)?;
                if info.converter && self.collect.is_none() {
                    self.conversions.push((key, result));
                }
                Ok(result)
            }
        }
    }

    /// Inlines one rule of a chained term, the one the plan chose.
    fn chain(&mut self, tid: TermId, args: Vec<NodeId>, span: Span) -> Result<NodeId, Diagnostic> {
        let Some(rid) = self.plan.next() else {
            return Err(Diagnostic::new(
                "internal error: expansion plan exhausted",
                span,
            ));
        };
        let rule = &self.p.terms.rules[rid.index()];
        debug_assert_eq!(rule.root_term, tid);
        let mut vars: Vars = vec![None; rule.vars.len()];
        for (pat, &a) in rule.args.iter().zip(&args) {
            self.pattern(rule, pat, a, &mut vars)?;
        }
        self.iflets(rule, &mut vars)?;
        self.priority_conditions(rid, &args)?;
        self.expr(rule, &rule.rhs, &mut vars)
    }

    /// For every higher-priority rule of the same term marked
    /// `(veri priority)`, assume that it does not match these arguments:
    /// `forall fresh. not (its match conditions)`.
    fn priority_conditions(&mut self, rid: RuleId, args: &[NodeId]) -> Result<(), Diagnostic> {
        let rule = &self.p.terms.rules[rid.index()];
        let higher: Vec<RuleId> = self
            .p
            .terms
            .rules
            .iter()
            .filter(|r| {
                r.root_term == rule.root_term && r.prio > rule.prio && self.p.rule(r.id).priority
            })
            .map(|r| r.id)
            .collect();
        for hid in higher {
            let h = &self.p.terms.rules[hid.index()];
            let span = self.rule_span(h);
            let first_var = self.c.graph.vars.len();
            let saved = self.collect.replace(Vec::new());
            let saved_occurrences = self.c.occurrences.len();
            let saved_slots = self.c.slots.len();
            let mut vars: Vars = vec![None; h.vars.len()];
            let mut result = Ok(());
            for (pat, &a) in h.args.iter().zip(args) {
                result = result.and_then(|_| self.pattern(h, pat, a, &mut vars));
            }
            result = result.and_then(|_| self.iflets(h, &mut vars));
            let conds = std::mem::replace(&mut self.collect, saved).unwrap_or_default();
            // The condition's occurrences are not part of the rule's display
            // and need no instantiation choice of their own: their types
            // follow from the arguments they share with the rule.
            self.c.occurrences.truncate(saved_occurrences);
            self.c.slots.truncate(saved_slots);
            result?;
            let bound: Vec<VarId> = (first_var..self.c.graph.vars.len())
                .map(|i| VarId(i as u32))
                .collect();
            // not (exists v. M(v))  ==  forall v. not M(v)
            let body = self.c.graph.op(Op::And, conds, span);
            let not_body = self.c.graph.op(Op::Not, vec![body], span);
            let negated = if bound.is_empty() {
                not_body
            } else {
                self.c
                    .graph
                    .add(NodeKind::Forall(bound), vec![not_body], span)
            };
            let name = self.p.rule(hid).name.clone();
            self.assume(negated, Origin::Priority(name), span);
        }
        Ok(())
    }

    /// Adds each state's default where no term modified it unconditionally.
    fn finish_states(&mut self) {
        for (i, s) in self.p.states.iter().enumerate() {
            let conds: Vec<NodeId> = self
                .modifies
                .iter()
                .filter(|(st, _)| st.0 == i)
                .map(|(_, c)| *c)
                .collect();
            let default = self.c.graph.instantiate_expr(
                &s.default,
                &s.default.provides[0],
                &[],
                &self.states,
                &s.name,
            );
            let node = if conds.is_empty() {
                default
            } else {
                let any = self.c.graph.op(Op::Or, conds, s.span);
                let none = self.c.graph.op(Op::Not, vec![any], s.span);
                self.c.graph.op(Op::Imp, vec![none, default], s.span)
            };
            self.assume(node, Origin::StateDefault(s.name.clone()), s.span);
        }
    }

    // ---- rendering rule fragments for counterexamples ----------------------

    fn var_name(&self, rule: &Rule, v: IsleVar) -> String {
        self.p.sym(rule.vars[v.index()].name).to_string()
    }

    fn show_lhs_root(&self, rule: &Rule) -> String {
        let name = &self.p.term(rule.root_term).name;
        let args: Vec<String> = rule
            .args
            .iter()
            .map(|a| self.show_pattern(rule, a))
            .collect();
        format!("({name} {})", args.join(" "))
    }

    fn show_pattern(&self, rule: &Rule, p: &Pattern) -> String {
        match p {
            Pattern::BindPattern(_, v, sub) => match **sub {
                Pattern::Wildcard(_) => self.var_name(rule, *v),
                _ => format!(
                    "{} @ {}",
                    self.var_name(rule, *v),
                    self.show_pattern(rule, sub)
                ),
            },
            Pattern::Var(_, v) => self.var_name(rule, *v),
            Pattern::ConstBool(_, b) => b.to_string(),
            Pattern::ConstInt(_, i) => i.to_string(),
            Pattern::ConstPrim(_, s) => format!("${}", self.p.sym(*s)),
            Pattern::Wildcard(_) => "_".into(),
            Pattern::And(_, subs) => {
                let parts: Vec<String> = subs.iter().map(|s| self.show_pattern(rule, s)).collect();
                format!("(and {})", parts.join(" "))
            }
            Pattern::Term(_, tid, args) => {
                let name = &self.p.term(*tid).name;
                if args.is_empty() {
                    return format!("({name})");
                }
                let parts: Vec<String> = args.iter().map(|s| self.show_pattern(rule, s)).collect();
                format!("({name} {})", parts.join(" "))
            }
        }
    }

    fn show_expr(&self, rule: &Rule, e: &Expr) -> String {
        match e {
            Expr::Var(_, v) => self.var_name(rule, *v),
            Expr::ConstBool(_, b) => b.to_string(),
            Expr::ConstInt(_, i) => i.to_string(),
            Expr::ConstPrim(_, s) => format!("${}", self.p.sym(*s)),
            Expr::Let { body, .. } => self.show_expr(rule, body),
            Expr::Term(_, tid, args) => {
                let info = self.p.term(*tid);
                if info.converter && args.len() == 1 {
                    return self.show_expr(rule, &args[0]);
                }
                if args.is_empty() {
                    return format!("({})", info.name);
                }
                let parts: Vec<String> = args.iter().map(|a| self.show_expr(rule, a)).collect();
                format!("({} {})", info.name, parts.join(" "))
            }
        }
    }
}

/// A constant in a rule.
enum ConstValue {
    Bool(bool),
    Int(i128),
    Prim(String),
}
