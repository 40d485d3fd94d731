//! The verification condition's data, as `build` returns it: the formula
//! graph with its assumptions and obligations ([`Clause`], each with its
//! [`Origin`] and [`Side`]), the term applications ([`Occurrence`]), the
//! instantiation choice points ([`Slot`]), the rule's variables
//! ([`Input`]) and the extractor macros trusted in place of their
//! expansions ([`Trusted`]).

use cranelift_isle::sema::TermId;
use loweq_semantics::graph::{Graph, NodeId};
use loweq_semantics::span::Span;
use loweq_semantics::ty::ModelType;

use super::Structure;

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
    /// The code a rule of a term with callers emits leaves the named
    /// state (not written in emission order) as its default says: the
    /// term's spec, which its callers assume, cannot modify it (see
    /// `states`). The state, then the term.
    StateKept(String, String),
    /// Some rule of a chained term matches its arguments.
    Coverage(String),
    /// Part of an extractor macro's spec agreeing with its expansion (see
    /// [`agreement`](fn@super::agreement)): what must hold, and where.
    Agreement(String),
    /// What the spec of the named term says of its Skolem outputs, in a
    /// condition about another rule (see `skolem`): it constrains only
    /// those outputs, so it never says where the rule applies, nor at
    /// which widths.
    Skolem(String),
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
/// application gets ([`agreement`](fn@super::agreement)).
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
