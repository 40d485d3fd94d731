//! Building the verification condition of one rule expansion: every term
//! occurrence gets fresh variables and its spec instantiated into one
//! formula graph; the clauses are sorted into assumptions and obligations
//! following DESIGN.md ("What a rule is correct means").

use std::collections::HashMap;

use cranelift_isle::sema::{Expr, Pattern, Rule, RuleId, TermFlags, TermId, TermKind, TypeId};
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::expr::StateId;
use loweq_semantics::graph::{Graph, NodeId, NodeKind};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_semantics::Literal;

use crate::expand::{Choice, Plan};

mod agreement;
mod guards;
mod identity;
mod results;
mod skolem;
mod states;
mod text;

pub use agreement::agreement;
pub use identity::Structure;

/// Which side of the rule a term occurrence, or an assumption, is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The left-hand side pattern or an `if-let` guard: the IR.
    Lhs,
    /// The right-hand side: the machine code.
    Rhs,
    /// For assumptions only: whether the chosen rule of a chained term, or
    /// a partial right-hand-side term, applies in this expansion. These
    /// constrain values the right-hand side computes.
    Select,
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
    /// The facts its spec provides, as instantiated here (for showing the
    /// values inside an IR operation's spec).
    pub provides: Vec<NodeId>,
    /// For a term that modifies a `Bool` state (a trap): the condition under
    /// which it modifies it, and its own copy of the state. The term traps
    /// where both are true.
    pub trap: Option<(NodeId, NodeId)>,
}

/// A call on the right-hand side as written, with its arguments: the call
/// whose `require`, or whose coverage by a chained term's rules, a clause
/// is about.
#[derive(Clone, Debug)]
pub struct Call {
    /// The call (`(a64_movk ... 48)`).
    pub text: String,
    /// Each argument as written, and its node.
    pub args: Vec<(String, NodeId)>,
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
    /// How a state is combined from the terms that modify it.
    StateUpdate(String),
    /// An IR operation nested in the pattern, an operand of the instruction
    /// being lowered, did not trap: the instruction runs only after its
    /// operands were computed (see `states`).
    OperandComputed(String),
    /// Some rule of a chained term matches its arguments.
    Coverage(String),
    /// Part of an extractor macro's spec agreeing with its expansion (see
    /// [`agreement`]): what must hold, and where.
    Agreement(String),
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
    /// For assumptions: [`Side::Lhs`] for the conditions under which the
    /// rule applies (patterns, guards, the root's require, the matches of
    /// partial terms, priority), [`Side::Rhs`] for what the right-hand side
    /// defines (the provides of its terms). The rule is inapplicable when
    /// the first kind cannot hold; when only the second kind is
    /// contradictory, the right-hand side's specs are.
    pub side: Side,
    /// For a `require` of a right-hand-side term or the coverage of a
    /// chained call: that call.
    pub call: Option<Call>,
}

/// A term occurrence whose term has `instantiate` signatures: one choice
/// point of the instantiation search.
#[derive(Clone, Debug)]
pub struct Slot {
    /// Index into [`Condition::occurrences`].
    pub occurrence: usize,
    /// The term.
    pub term: TermId,
    /// Whether the occurrence is in a rule inlined through `(veri chain)`:
    /// its signature is a detail of the expansion, not an instantiation of
    /// the rule, and does not name one.
    pub chained: bool,
}

/// A variable of the rule, bound in the root rule's pattern.
#[derive(Clone, Debug)]
pub struct Input {
    /// Its name in the rule.
    pub name: String,
    /// Its node.
    pub node: NodeId,
}

/// An application of an extractor macro whose spec the condition uses in
/// place of its expansion (a pattern, or a pattern in a condition about
/// another rule): the spec must agree with the expansion at the types the
/// application gets ([`agreement`]).
#[derive(Clone, Debug)]
pub struct Trusted {
    /// The macro.
    pub term: TermId,
    /// Its argument nodes.
    pub args: Vec<NodeId>,
    /// Its result node (the value matched).
    pub result: NodeId,
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
    /// Why a coverage expansion cannot decide coverage, if it cannot.
    pub undecided: Option<String>,
    /// The definitions of IR entities that patterns established.
    pub structures: Vec<Structure>,
    /// What a counterexample should mention about the conditions on other
    /// rules (a priority rule that excludes nothing here, a chained rule
    /// that cannot be shown to match).
    pub notes: Vec<String>,
    /// The extractor macros whose specs stand for their expansions here.
    pub trusted: Vec<Trusted>,
    /// For an obligation that reads a state written in emission order (a
    /// flags consumer's `require`): which terms wrote the state before the
    /// reader, for the counterexample to say (see `states`).
    pub order_notes: Vec<(NodeId, String)>,
}

impl Condition {
    /// The assumptions on the given side.
    pub fn assumptions_on(&self, side: Side) -> impl Iterator<Item = &Clause> {
        self.assumptions.iter().filter(move |c| c.side == side)
    }

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
    let mut b = Builder::new(program, plan.choices.iter().copied().collect());
    b.root(rule)?;
    b.check_results(program.rule(rule).span)?;
    b.finish_states()?;
    if b.covering {
        // Everything else is checked by the other expansions.
        b.c.obligations
            .retain(|c| matches!(c.origin, Origin::Coverage(_)));
    }
    Ok(b.c)
}

struct Builder<'p> {
    p: &'p Program,
    c: Condition,
    states: Vec<NodeId>,
    /// For each state written in emission order: its version at the point
    /// of emission reached (the initial version, `states`, until a term
    /// writes it), and the terms that wrote it so far, in order.
    versions: Vec<NodeId>,
    writers: Vec<Vec<String>>,
    /// Every modification of a state: the state, the condition under which
    /// the term modifies it, the term's own copy of the state, and the side.
    modifies: Vec<Modification>,
    plan: std::collections::VecDeque<Choice>,
    /// This expansion checks coverage of a chained call: later chained
    /// calls are opaque, and only coverage is proved.
    covering: bool,
    counter: usize,
    /// When building a priority condition: where its clauses go.
    collect: Option<Vec<NodeId>>,
    /// Implicit conversions of IR values already applied, by (term, the
    /// argument's IR entity): a value converted twice, or under two names,
    /// is one register, with one set of upper bits.
    conversions: Vec<((TermId, NodeId), NodeId)>,
    /// Which side the clauses being built belong to.
    phase: Side,
    /// Building an `if-let` guard: partial constructors may fail there.
    in_guard: bool,
    /// Collecting a coverage condition: a chained call in it cannot be
    /// expressed, and makes the rule count as not matching.
    covering_collect: bool,
    /// Set when that happened.
    inexpressible: bool,
    /// Outputs of structural extractors, by (extractor, entity).
    structural: HashMap<(TermId, NodeId), Vec<identity::Output>>,
    /// Extractor applications so far, by (term, input): their outputs,
    /// and whether the rule's own patterns applied them (or only a
    /// condition about another rule did).
    applied: HashMap<(TermId, NodeId), identity::Applied>,
    /// Union-find of IR entities the patterns say are one.
    ir_parent: HashMap<NodeId, NodeId>,
    /// Walking the expansion of this extractor macro.
    template: Option<TermId>,
    /// Skolem outputs of structural extractors made while walking macro
    /// expansions in a condition, for the macro's spec to define (see
    /// `identity`).
    macro_skolems: Vec<NodeId>,
    /// Set, with the reason, when a condition about another rule needs more
    /// than the rule established (see `identity`): the other rule cannot be
    /// shown to match.
    unmatchable: Option<String>,
    /// How many chained rules are being inlined.
    chain_depth: usize,
    /// The rule a condition is being built about.
    about: Option<RuleId>,
    /// The right-hand-side call being applied: what its `require` and its
    /// coverage obligations are about.
    call: Option<Call>,
    /// Walking a macro's expansion on its own (see `agreement`), not a
    /// rule: where clauses are, and the names of its variables.
    context: Option<agreement::Context>,
}

/// One term's modification of a state.
struct Modification {
    state: StateId,
    cond: NodeId,
    copy: NodeId,
    side: Side,
    term: String,
    /// For a term applied as a pattern: the value it matched (an IR
    /// entity, for an IR operation), which decides whether it is an
    /// operand of the instruction being lowered (see `states`).
    matched: Option<NodeId>,
}

type Vars = Vec<Option<NodeId>>;

impl<'p> Builder<'p> {
    fn new(program: &'p Program, plan: std::collections::VecDeque<Choice>) -> Builder<'p> {
        let mut b = Builder {
            p: program,
            c: Condition::default(),
            states: Vec::new(),
            versions: Vec::new(),
            writers: Vec::new(),
            modifies: Vec::new(),
            plan,
            covering: false,
            counter: 0,
            collect: None,
            conversions: Vec::new(),
            phase: Side::Lhs,
            in_guard: false,
            covering_collect: false,
            inexpressible: false,
            structural: HashMap::new(),
            applied: HashMap::new(),
            ir_parent: HashMap::new(),
            template: None,
            macro_skolems: Vec::new(),
            unmatchable: None,
            chain_depth: 0,
            about: None,
            context: None,
            call: None,
        };
        for s in &program.states {
            let n = b.c.graph.var(s.name.clone(), Some(s.ty.clone()), s.span);
            b.states.push(n);
        }
        b.versions = b.states.clone();
        b.writers = vec![Vec::new(); b.states.len()];
        b
    }
}

impl Builder<'_> {
    fn rule_span(&self, rule: &Rule) -> Span {
        if let Some(c) = &self.context {
            return c.span;
        }
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
        self.phase = Side::Rhs;
        let result = self.expr(rule, &rule.rhs, &mut vars)?;
        self.phase = Side::Lhs;
        // After the right-hand side, so that the conditions see what its
        // chained rules established and applied. In a coverage expansion
        // nothing after the covered call is built, but these are about the
        // rule's own input: build them in full.
        let covering = std::mem::replace(&mut self.covering, false);
        let priority = self.priority_conditions(rid, &args);
        self.covering = covering;
        priority?;
        self.c.root_args = args.clone();
        self.c.root_result = Some(result);
        // In a coverage expansion the root's require and match still say
        // which inputs reach the call; its provide is dropped in `build`.
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
        let side = self.phase;
        self.assume_on(side, node, origin, span);
    }

    fn assume_on(&mut self, side: Side, node: NodeId, origin: Origin, span: Span) {
        match &mut self.collect {
            Some(list) => list.push(node),
            None => self.c.assumptions.push(Clause {
                node,
                origin,
                span,
                side,
                call: None,
            }),
        }
    }

    fn oblige(&mut self, node: NodeId, origin: Origin, span: Span) {
        match &mut self.collect {
            // Inside a priority condition, callee requirements are part of
            // the condition that is negated: the rule only "matches" where
            // its terms are defined.
            Some(list) => list.push(node),
            None => {
                let call = match origin {
                    Origin::Require(_) | Origin::Coverage(_) => self.call.clone(),
                    _ => None,
                };
                self.c.obligations.push(Clause {
                    node,
                    origin,
                    span,
                    side: self.phase,
                    call,
                })
            }
        }
    }

    /// Whether a clause is `(= n n)`.
    fn tautology(&self, n: NodeId) -> bool {
        let node = self.c.graph.node(n);
        matches!(node.kind, NodeKind::Op(Op::Eq))
            && node.args.len() == 2
            && node.args[0] == node.args[1]
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
        let role = if self.collect.is_some() {
            Role::Condition
        } else {
            role
        };
        if role != Role::Root {
            self.check_state_use(tid, span)?;
        } else if let Some(m) = spec
            .modifies
            .iter()
            .find(|m| !self.p.states[m.state.0].ordered)
        {
            return Err(Diagnostic::new(
                format!("the root term `{}` declares `modifies`", info.name),
                m.span,
            )
            .with_note(
                "a root's provide is proved, not assumed: it reads state but cannot set it",
            ));
        }
        // The states this term modifies are its own copies; `finish_states`
        // combines the copies of every modifier into the state. A state
        // written in emission order is read at its current version instead
        // (`states::ordered_versions`).
        let (mut states, before) = self.ordered_versions(tid, role, &prefix, span)?;
        for m in &spec.modifies {
            let decl = &self.p.states[m.state.0];
            if decl.ordered && role != Role::Callee {
                // The root reads its final version; a condition a fresh one.
                continue;
            }
            let copy = self.c.graph.var(
                format!("{}@{prefix}", decl.name),
                Some(decl.ty.clone()),
                m.span,
            );
            states[m.state.0] = copy;
        }
        let inst = self
            .c
            .graph
            .instantiate_ordered(spec, &bindings, &states, &before, &prefix);
        let name = info.name.clone();
        let provides = inst.provides.clone();
        // A `Bool` state the term modifies is a trap (see `states`).
        let trap = inst
            .modifies
            .iter()
            .find(|(state, _)| {
                let decl = &self.p.states[state.0];
                decl.ty == ModelType::Bool && !decl.ordered
            })
            .map(|&(state, cond)| (cond, states[state.0]));
        if role == Role::Callee {
            self.order_notes(tid, &inst.requires);
        }
        // A term that cannot fail must not restrict where the rule applies:
        // on the right-hand side, outside guards, its `match` is an
        // obligation. A partial term's `match` says where the rule applies.
        let partial = matches!(
            term.kind,
            TermKind::Decl {
                flags: TermFlags { partial: true, .. },
                ..
            }
        );
        // An extractor declared `infallible` never fails in the generated
        // code: its `match` is not where the rule applies but an
        // obligation wherever the rule uses it.
        let infallible = self.infallible(tid);
        let match_is_obligation = role == Role::Callee
            && ((side == Side::Rhs && !partial) || (side == Side::Lhs && infallible));
        // On the left-hand side a `match` says where the rule applies; a
        // partial constructor's says whether this expansion does.
        let match_side = if side == Side::Lhs && self.phase == Side::Lhs {
            Side::Lhs
        } else {
            Side::Select
        };
        match role {
            Role::Root => {
                for n in inst.requires {
                    self.assume(n, Origin::Require(name.clone()), spec.span);
                }
                // A partial term's `match` says where it succeeds, and its
                // callers (`if-let` guards) assume it where it does: each of
                // its rules, which succeeds wherever it fires, must show it.
                // Any other term's is proved by its callers, like `require`.
                for n in inst.matches {
                    if partial {
                        self.oblige(n, Origin::Match(name.clone()), spec.span);
                    } else {
                        self.assume(n, Origin::Match(name.clone()), spec.span);
                    }
                }
                for n in inst.provides {
                    self.oblige(n, Origin::Provide(name.clone()), spec.span);
                }
            }
            Role::Callee | Role::Condition => {
                for n in inst.provides {
                    if self.tautology(n) {
                        // `(= result inst)` of an output that is its input
                        // (`def_inst`) says nothing, and would make the
                        // entity need a width that nothing else may give
                        // it (an operand between two instructions of an
                        // extractor macro written over `inst_data`).
                        continue;
                    }
                    self.assume(n, Origin::Provide(name.clone()), spec.span);
                }
                for n in inst.matches {
                    if match_is_obligation {
                        self.oblige(n, Origin::Match(name.clone()), spec.span);
                    } else {
                        // Where a partial term matches is where the rule applies.
                        self.assume_on(match_side, n, Origin::Match(name.clone()), spec.span);
                    }
                }
                for n in inst.requires {
                    self.oblige(n, Origin::Require(name.clone()), spec.span);
                }
            }
        }
        if self.collect.is_none() {
            for (state, cond) in inst.modifies {
                if self.p.states[state.0].ordered {
                    if role == Role::Callee {
                        self.write_version(tid, state, cond, states[state.0], &text, span)?;
                    }
                    continue;
                }
                self.modifies.push(Modification {
                    state,
                    cond,
                    copy: states[state.0],
                    side: self.phase,
                    term: name.clone(),
                    matched: (side == Side::Lhs).then_some(result),
                });
            }
        }
        let occurrence = self.c.occurrences.len();
        self.c.occurrences.push(Occurrence {
            term: tid,
            text,
            side,
            args,
            result,
            converter: info.converter,
            provides,
            trap,
        });
        if !info.signatures.is_empty() {
            self.c.slots.push(Slot {
                occurrence,
                term: tid,
                chained: self.chain_depth > 0,
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
                let v = num_bigint::BigInt::from(i);
                let fits = v >= num_bigint::BigInt::from(0)
                    && v < (num_bigint::BigInt::from(1) << *w)
                    || v < num_bigint::BigInt::from(0)
                        && v >= -(num_bigint::BigInt::from(1) << (*w - 1).min(*w));
                let bv = loweq_semantics::value::BitVec::from_int(*w, &v);
                match bv.to_u128() {
                    Some(value) if fits => Literal::Bv { value, width: *w },
                    _ => {
                        return Err(Diagnostic::new(
                            format!(
                                "the constant {i} does not fit type `{}`, modelled as (bv {w})",
                                self.p.type_name(ty)
                            ),
                            span,
                        ))
                    }
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
        if self.covering {
            // Patterns after the covered call (later `if-let`s) do not run.
            return Ok(());
        }
        match pat {
            Pattern::BindPattern(_, v, sub) => {
                vars[v.index()] = Some(value);
                self.pattern(rule, sub, value, vars)
            }
            Pattern::Var(ty, v) => {
                let bound = vars[v.index()].expect("ISLE binds variables before reuse");
                if self.is_ir_type(*ty) {
                    self.same_entity(value, bound, span);
                    return Ok(());
                }
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
                let text = match self.template {
                    Some(m) => format!(
                        "({} …) in the expansion of `{}`",
                        self.p.term(*tid).name,
                        self.p.term(m).name
                    ),
                    None => self.show_pattern(rule, pat),
                };
                let info = self.p.term(*tid);
                if info.template.is_some() && info.spec.is_some() {
                    return self.macro_pattern(rule, *tid, args, value, vars, text);
                }
                if self.is_structural(*tid) {
                    return self.structure_pattern(rule, *tid, args, value, vars);
                }
                if let (TermKind::EnumVariant { variant }, None) =
                    (&self.p.terms.terms[tid.index()].kind, &info.spec)
                {
                    return self.pattern_variant(rule, *ty, variant.index(), args, value, vars);
                }
                if info.spec.is_some() {
                    return self.extractor_pattern(rule, *tid, args, value, vars, text);
                }
                // No spec: `apply` says so.
                let term = &self.p.terms.terms[tid.index()];
                let mut outs = Vec::new();
                for &aty in &term.arg_tys {
                    outs.push(self.fresh_typed("unspecified".into(), aty, span)?);
                }
                self.apply(*tid, outs, value, Side::Lhs, text, Role::Callee, span)
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
        if self.is_ir_type(ty) && self.collect.is_some() {
            // The generated code compares the entity (which value it is),
            // not the number it holds: a condition cannot tell.
            let why = format!(
                "it matches {} against a constant, which the generated code compares with the value's identity, not the number it holds",
                self.entity_name(value)
            );
            self.cannot_match(why);
            return Ok(());
        }
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
            ModelType::Enum(id) => match self.p.enums.get(id).variants.get(variant) {
                Some(v) => Ok(loweq_semantics::expr::VariantRef {
                    enum_id: Some(id),
                    name: v.name.clone(),
                }),
                None => Err(Diagnostic::new(
                    format!(
                        "enum `{}` is modelled by an enum with fewer variants",
                        self.p.type_name(ty)
                    ),
                    span,
                )),
            },
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
        let (phase, guard) = (self.phase, self.in_guard);
        // A guard is a condition of the rule, or, inside a chained rule, of
        // the expansion.
        self.phase = if phase == Side::Select {
            Side::Select
        } else {
            Side::Lhs
        };
        self.in_guard = true;
        let mut r = Ok(());
        for il in &rule.iflets {
            r = self
                .expr(rule, &il.rhs, vars)
                .and_then(|v| self.pattern(rule, &il.lhs, v, vars));
            // A condition that cannot be shown to match is not built on.
            if r.is_err() || self.unmatchable.is_some() {
                break;
            }
        }
        self.phase = phase;
        self.in_guard = guard;
        r
    }

    fn expr(&mut self, rule: &Rule, e: &Expr, vars: &mut Vars) -> Result<NodeId, Diagnostic> {
        let span = self.rule_span(rule);
        if self.covering {
            // After the covered call nothing is evaluated in this expansion.
            return Ok(self.unknown(span));
        }
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
                if self.covering {
                    // The covered call was among the arguments: this term
                    // runs after it.
                    return Ok(self.unknown(span));
                }
                let info = self.p.term(*tid);
                if info.chain {
                    if self.collect.is_some() && self.covering_collect {
                        self.inexpressible = true;
                        return Ok(self.unknown(span));
                    }
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
                    let call = self.call_of(rule, *tid, e, args, &arg_nodes);
                    let outer = self.call.replace(call);
                    let r = self.chain(*tid, arg_nodes, span);
                    self.call = outer;
                    return r;
                }
                if self.collect.is_none() && crate::expand::needs_coverage(self.p, *tid) {
                    // A helper with a spec and rules: this expansion
                    // assumes its spec here, or proves the call covered.
                    match self.plan.pop_front() {
                        Some(Choice::Assume(t)) if t == *tid => {}
                        Some(Choice::Cover(t)) if t == *tid => {
                            let call = self.call_of(rule, *tid, e, args, &arg_nodes);
                            let outer = self.call.replace(call);
                            let covered = self.coverage(*tid, &arg_nodes, span);
                            self.call = outer;
                            covered?;
                            self.covering = true;
                            return Ok(self.unknown(span));
                        }
                        _ => {
                            return Err(Diagnostic::new(
                                "internal error: expansion plan out of step",
                                span,
                            ))
                        }
                    }
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
                // Converting an IR value (`put_in_reg`) gives its one
                // register, however often and under whatever name the
                // rule converts it; any other converter is a call of its
                // own each time (cranelift-isle shares only pure calls).
                let shared = info.converter
                    && arg_nodes.len() == 1
                    && self.collect.is_none()
                    && self.is_ir_type(self.p.terms.terms[tid.index()].arg_tys[0]);
                let key = (
                    *tid,
                    self.ir_root(arg_nodes.first().copied().unwrap_or(NodeId(0))),
                );
                if shared {
                    if let Some(&(_, n)) = self.conversions.iter().find(|(k, _)| *k == key) {
                        return Ok(n);
                    }
                }
                let term = &self.p.terms.terms[tid.index()];
                self.counter += 1;
                let name = format!("{}#{}.result", info.name, self.counter);
                let result = self.fresh_typed(name, term.ret_ty, span)?;
                if self.collect.is_some() {
                    if let Some(spec) = info.spec.clone() {
                        // A guard's call inside a condition about another
                        // rule: a function of its arguments.
                        if let Some(why) = self.guard_call_unknown(*tid) {
                            self.cannot_match(why);
                            return Ok(result);
                        }
                        let mut bindings = vec![None; spec.locals.len()];
                        for (&l, &a) in spec.params.iter().zip(&arg_nodes) {
                            bindings[l.0] = Some(a);
                        }
                        bindings[spec.result.0] = Some(result);
                        self.skolem(*tid, &spec, &bindings, &[spec.result], &[spec.result], span)?;
                        return Ok(result);
                    }
                }
                let text = self.show_expr(rule, e);
                let call = self.call_of(rule, *tid, e, args, &arg_nodes);
                let outer = self.call.replace(call);
                let applied =
                    self.apply(*tid, arg_nodes, result, Side::Rhs, text, Role::Callee, span);
                self.call = outer;
                applied?;
                if shared {
                    self.conversions.push((key, result));
                }
                Ok(result)
            }
        }
    }

    /// The call `e` of `tid` as written, with its arguments, named as the
    /// callee's spec names its parameters (`hw`, not `2`), or as written
    /// when it has no spec.
    fn call_of(&self, rule: &Rule, tid: TermId, e: &Expr, args: &[Expr], nodes: &[NodeId]) -> Call {
        let params: Vec<String> = match &self.p.term(tid).spec {
            Some(spec) => spec
                .params
                .iter()
                .map(|l| spec.locals[l.0].name.clone())
                .collect(),
            None => Vec::new(),
        };
        Call {
            text: self.show_expr(rule, e),
            args: args
                .iter()
                .zip(nodes)
                .enumerate()
                .map(|(i, (a, &n))| {
                    let name = params
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| self.show_expr(rule, a));
                    (name, n)
                })
                .collect(),
        }
    }

    /// A value nothing is known about (in a coverage expansion, what comes
    /// after the covered call); no formula mentions it.
    fn unknown(&mut self, span: Span) -> NodeId {
        self.counter += 1;
        self.c
            .graph
            .var(format!("unknown#{}", self.counter), None, span)
    }

    /// Inlines one rule of a chained term, the one the plan chose; or, in
    /// a coverage expansion, proves the call covered and leaves its value
    /// opaque.
    fn chain_rule(
        &mut self,
        tid: TermId,
        args: Vec<NodeId>,
        span: Span,
    ) -> Result<NodeId, Diagnostic> {
        let choice = if self.covering {
            None
        } else {
            self.plan.pop_front()
        };
        let rid = match choice {
            Some(Choice::Rule(rid)) => rid,
            Some(Choice::Cover(t)) => {
                debug_assert_eq!(t, tid);
                self.coverage(tid, &args, span)?;
                self.covering = true;
                return Ok(self.unknown(span));
            }
            None if self.covering => return Ok(self.unknown(span)),
            Some(Choice::Assume(_)) | None => {
                return Err(Diagnostic::new(
                    "internal error: expansion plan exhausted or out of step",
                    span,
                ))
            }
        };
        let rule = &self.p.terms.rules[rid.index()];
        debug_assert_eq!(rule.root_term, tid);
        let mut vars: Vars = vec![None; rule.vars.len()];
        // Which rule of the chained term applies is a condition of this
        // expansion.
        let phase = std::mem::replace(&mut self.phase, Side::Select);
        let guard = std::mem::replace(&mut self.in_guard, false);
        let mut r = Ok(());
        for (pat, &a) in rule.args.iter().zip(&args) {
            r = r.and_then(|_| self.pattern(rule, pat, a, &mut vars));
        }
        r = r
            .and_then(|_| self.iflets(rule, &mut vars))
            .and_then(|_| self.priority_conditions(rid, &args));
        self.phase = phase;
        self.in_guard = guard;
        r?;
        self.expr(rule, &rule.rhs, &mut vars)
    }

    /// Inlines the chosen rule of a chained term (see [`Self::chain_rule`]),
    /// marking what it instantiates as part of the expansion.
    fn chain(&mut self, tid: TermId, args: Vec<NodeId>, span: Span) -> Result<NodeId, Diagnostic> {
        self.chain_depth += 1;
        let r = self.chain_rule(tid, args, span);
        self.chain_depth -= 1;
        r
    }
}

/// A constant in a rule.
enum ConstValue {
    Bool(bool),
    Int(i128),
    Prim(String),
}
