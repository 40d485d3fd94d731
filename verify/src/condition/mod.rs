//! Building the verification condition of one rule expansion: every term
//! occurrence gets fresh variables and its spec instantiated into one
//! formula graph; the clauses are sorted into assumptions and obligations
//! following DESIGN.md ("What a rule is correct means").
//!
//! This module owns the builder: its state, the root rule, where clauses
//! go (assumed or obliged, on which side), and constants. The condition's
//! data types are in `types`; the builder's walk is split by what it
//! walks: `pattern` (patterns and `if-let` guards), `expr` (expressions
//! and the expansion plan's choices), `chain` (chained rules inlined),
//! `apply` (one term's spec instantiated); the other modules own the
//! conditions about other rules (`guards`, `identity`, `skolem`), states
//! (`states`), several results (`results`), display (`text`) and macro
//! agreement (`agreement`).

use std::collections::HashMap;

use cranelift_isle::sema::{Rule, RuleId, TermId, TypeId};
use loweq_dsl::{Diagnostic, Program};
use loweq_semantics::expr::StateId;
use loweq_semantics::graph::{NodeId, NodeKind};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;
use loweq_semantics::Literal;

use crate::expand::{Choice, Plan};

mod agreement;
mod apply;
mod chain;
mod expr;
mod guards;
mod identity;
mod pattern;
mod results;
mod skolem;
mod states;
mod text;
mod types;

pub use agreement::agreement;
pub use identity::Structure;
pub use types::{Call, Clause, Condition, Input, Occurrence, Origin, Side, Slot, Trusted};

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
    /// IR entities whose definition an IR operation inspected in the
    /// rule's own patterns (an extractor macro with a spec that is its
    /// meaning, walking `inst_data`'s enum output): the instruction there
    /// is known, with every state its spec modifies (see `states`).
    defined_by_ir_operation: Vec<NodeId>,
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
    /// The root term of the rule being checked (not set for an extractor
    /// macro's agreement).
    root_term: Option<TermId>,
}

/// One term's modification of a state.
struct Modification {
    state: StateId,
    cond: NodeId,
    copy: NodeId,
    side: Side,
    term: String,
    /// Where the term is applied.
    span: Span,
    /// For a term applied as a pattern: the value it matched (an IR
    /// entity, for an IR operation), which decides whether it is an
    /// operand of the instruction being lowered (see `states`).
    matched: Option<NodeId>,
    /// The term was called in an `if-let` guard (of the rule or of a
    /// chained rule).
    guard: bool,
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
            defined_by_ir_operation: Vec::new(),
            macro_skolems: Vec::new(),
            unmatchable: None,
            chain_depth: 0,
            about: None,
            context: None,
            call: None,
            root_term: None,
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
        self.root_term = Some(rule.root_term);
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
}

/// A constant in a rule.
enum ConstValue {
    Bool(bool),
    Int(i128),
    Prim(String),
}
