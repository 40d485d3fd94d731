//! What verification found, as data. Printing it is the CLI's business.

use loweq_dsl::Diagnostic;
use loweq_semantics::span::Span;
use loweq_semantics::value::Value;

/// The verdict for one (rule, instantiation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Proved correct.
    Verified,
    /// Shown wrong.
    Counterexample,
    /// The rule's assumptions cannot hold at this instantiation.
    Inapplicable,
    /// The rule's left-hand side can match at this instantiation, but
    /// higher-priority `(veri priority)` rules take every such input.
    Shadowed,
    /// The solver gave up or timed out.
    Unknown,
    /// A spec or type problem.
    Error,
}

impl Verdict {
    /// The verdict's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Counterexample => "counterexample",
            Verdict::Inapplicable => "inapplicable",
            Verdict::Shadowed => "shadowed",
            Verdict::Unknown => "unknown",
            Verdict::Error => "error",
        }
    }
}

/// A rule variable's value in a counterexample.
#[derive(Clone, Debug)]
pub struct InputValue {
    /// Its name in the rule.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// The register it was put in by an implicit conversion, if any: its
    /// full contents, junk upper bits included.
    pub register: Option<Value>,
}

/// A widening `conv_to` in a counterexample: the operand in the low bits,
/// fresh padding the solver chose above, like the junk bits of a register.
#[derive(Clone, Debug)]
pub struct Padding {
    /// The conversion as written.
    pub span: Span,
    /// The term whose spec it is in (empty for a state default).
    pub term: String,
    /// The converted value.
    pub value: Value,
    /// How many low bits are the operand's; the rest are padding.
    pub operand_bits: u32,
}

/// A term application and its value.
#[derive(Clone, Debug)]
pub struct TermValue {
    /// The application as written.
    pub text: String,
    /// The values of its arguments.
    pub args: Vec<Value>,
    /// Its value.
    pub value: Value,
    /// Whether it trapped (then its value means nothing).
    pub traps: bool,
    /// For IR operations: the values inside its spec, the operands of what
    /// it provides its result to be (`(shift_amount! x y)` in `ushr`'s
    /// `(bvlshr x (shift_amount! x y))`), with their sources.
    pub parts: Vec<(Span, Value)>,
}

/// A call on the right-hand side, with the values of its arguments.
#[derive(Clone, Debug)]
pub struct CallValues {
    /// The call as written.
    pub text: String,
    /// Each argument as written, and its value.
    pub args: Vec<(String, Value)>,
}

/// A condition the counterexample violates.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What the condition is (`the provide of lower`, ...).
    pub what: String,
    /// Its source.
    pub span: Span,
    /// The values of its immediate subexpressions, with their sources.
    pub parts: Vec<(Span, Value)>,
    /// For the `require` of a right-hand-side term, or the coverage of a
    /// chained call: the call, with its arguments' values.
    pub call: Option<CallValues>,
}

/// A counterexample, with every subterm evaluated concretely.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// Rules inlined through `(veri chain)` in this expansion.
    pub chain: Vec<String>,
    /// The rule's variables.
    pub inputs: Vec<InputValue>,
    /// Widening `conv_to`s and the padding they got.
    pub paddings: Vec<Padding>,
    /// Left-hand side term applications (the IR), outermost first.
    pub lhs: Vec<TermValue>,
    /// Right-hand side term applications (the machine code), innermost first.
    pub rhs: Vec<TermValue>,
    /// The width of the value the rule lowers (its root's first argument),
    /// when it is a bitvector: how many low bits of the result count.
    pub result_width: Option<u32>,
    /// Violated obligations.
    pub failures: Vec<Failure>,
    /// Hints and caveats.
    pub notes: Vec<String>,
    /// Set when this is the counterexample of an extractor macro whose
    /// spec disagrees with its expansion, given to a rule that relies on
    /// that spec: then the inputs are the macro's arguments, the left-hand
    /// side its expansion, and the failures the parts of its spec that do
    /// not hold.
    pub disagreement: Option<Disagreement>,
}

/// An extractor macro whose spec disagrees with its expansion.
#[derive(Clone, Debug)]
pub struct Disagreement {
    /// The macro.
    pub name: String,
    /// The instantiation at which it disagrees (`i8`).
    pub label: String,
    /// Its `extractor` definition.
    pub span: Span,
}

/// The obligation of an extractor macro whose spec rules relied on: that
/// the spec agrees with the macro's expansion, per instantiation.
#[derive(Clone, Debug)]
pub struct MacroReport {
    /// The macro's name.
    pub name: String,
    /// Its `extractor` definition.
    pub span: Span,
    /// One entry per instantiation checked; `shadowed_by` is always empty.
    pub instances: Vec<InstanceReport>,
    /// The rules that rely on it.
    pub used_by: Vec<String>,
    /// The macros whose expansions use it, whose own obligations rely on it.
    pub inside: Vec<String>,
}

/// The result for one (rule, instantiation).
#[derive(Clone, Debug)]
pub struct InstanceReport {
    /// The instantiation's name (`i8`, `i64->i8`).
    pub label: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Wall-clock time spent, in milliseconds.
    pub millis: u64,
    /// Solver queries made.
    pub queries: u32,
    /// For counterexamples.
    pub counterexample: Option<Box<Counterexample>>,
    /// For unknowns and inapplicable instantiations: why.
    pub reason: Option<String>,
    /// For errors.
    pub error: Option<Diagnostic>,
    /// For shadowed instantiations: the higher-priority rules that take
    /// every input this one matches.
    pub shadowed_by: Vec<String>,
}

/// The result for one rule.
#[derive(Clone, Debug)]
pub struct RuleReport {
    /// The rule's name.
    pub name: String,
    /// The rule's source.
    pub span: Span,
    /// One entry per instantiation (one `error` entry if the rule could
    /// not be instantiated at all).
    pub instances: Vec<InstanceReport>,
}

/// A rule that was not verified, and why.
#[derive(Clone, Debug)]
pub struct Excluded {
    /// The rule's name.
    pub name: String,
    /// The rule's source.
    pub span: Span,
    /// Why it is not verified on its own.
    pub reason: String,
}

/// The result of a verification run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Verified rules, in source order.
    pub rules: Vec<RuleReport>,
    /// Rules not verified on their own.
    pub excluded: Vec<Excluded>,
    /// Instantiations of expansions checked (a rule's instantiation may
    /// be checked in several expansions).
    pub checked: usize,
    /// Of those, how many were answered from the result cache.
    pub from_cache: usize,
    /// Extractor macros whose specs the rules relied on, checked against
    /// their expansions. Their verdicts are already folded into the rules'.
    pub macros: Vec<MacroReport>,
}

impl Report {
    /// Every instance report.
    pub fn instances(&self) -> impl Iterator<Item = (&RuleReport, &InstanceReport)> {
        self.rules
            .iter()
            .flat_map(|r| r.instances.iter().map(move |i| (r, i)))
    }

    /// How many instances have the verdict.
    pub fn count(&self, v: Verdict) -> usize {
        self.instances().filter(|(_, i)| i.verdict == v).count()
    }

    /// Total solver queries, the macros' included.
    pub fn queries(&self) -> u64 {
        let macros = self.macros.iter().flat_map(|m| &m.instances);
        self.instances()
            .map(|(_, i)| i)
            .chain(macros)
            .map(|i| u64::from(i.queries))
            .sum()
    }

    /// The slowest instance.
    pub fn slowest(&self) -> Option<(&RuleReport, &InstanceReport)> {
        self.instances().max_by_key(|(_, i)| i.millis)
    }
}
