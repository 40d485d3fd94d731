//! The front end's output: ISLE's own environments, and everything the spec
//! pass joined to them (models, specs, signatures, attributes, state).

use std::collections::HashMap;

use cranelift_isle::sema::{Pattern, RuleId, Sym, TermEnv, TermId, TypeEnv, TypeId, VarId};
use loweq_semantics::expr::{Spec, StateDecl};
use loweq_semantics::span::{SourceMap, Span};
use loweq_semantics::ty::{Enums, ModelType};
use loweq_semantics::Literal;

/// One type signature of a term: argument and result model types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Argument types.
    pub args: Vec<ModelType>,
    /// Result type.
    pub ret: ModelType,
    /// Where it was written.
    pub span: Span,
}

/// The tag (`(attr put_in_reg (tag shared_result))`) that says an external
/// converter from an IR value returns one result for one value however often
/// it is called (Cranelift's `put_in_reg`: the value's register), so that a
/// rule's conversions of one value share it. Without it each conversion is a
/// call of its own, with its own free bits. Allowed only on an external
/// constructor, in the file that declares it.
pub const SHARED_RESULT: &str = "shared_result";

/// The tag (`(attr def_inst (tag same_entity))`) that says an external
/// extractor converting between IR types yields the very entity its spec
/// equates with its input (`def_inst`: a value's defining instruction), so
/// that what patterns say of one's definition holds of the other. Without
/// it the output is another entity with an equal value. Allowed only on an
/// external extractor, in the file that declares it.
pub const SAME_ENTITY: &str = "same_entity";

/// The tag (`(attr my_add (tag describes_instruction))`) that says an
/// external extractor matches only instructions whose effects on the IR's
/// states (`clif_trap`, `clif_results`, `clif_load`, `clif_store`) its
/// spec declares: applied to the instruction being lowered, the states it
/// does not modify keep their defaults (no trap, one result, no memory
/// access). Without it, a user's extractor with a spec about values (a
/// width) says nothing of them, and they are free. Allowed only on an
/// external extractor, in the file that declares it.
pub const DESCRIBES_INSTRUCTION: &str = "describes_instruction";

/// What the spec pass knows about one term.
#[derive(Clone, Debug, Default)]
pub struct TermInfo {
    /// The term's name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Its spec, if it has one.
    pub spec: Option<Spec>,
    /// Its type instantiations (empty: widths come from inference alone).
    pub signatures: Vec<Signature>,
    /// Marked `(veri chain)`: inlined through its rules.
    pub chain: bool,
    /// `(tag ...)` attributes.
    pub tags: Vec<String>,
    /// Declared with `(convert ...)`: ISLE inserts it implicitly.
    pub converter: bool,
    /// For an extractor macro with a spec: what it expands to.
    pub template: Option<Template>,
    /// For an extractor macro with a spec whose expansion applies terms
    /// that have specs (`(iadd x y)` for `(extractor (my_iadd x y) (iadd x
    /// y))`): the spec must agree with its expansion, an obligation the
    /// verifier proves before any rule relies on the spec. Where the
    /// expansion has no term with a spec (`inst_data`, enum variants), the
    /// spec is what the macro means, and there is nothing to agree with.
    pub obligation: bool,
}

/// The expansion of an extractor macro that has a spec, one level deep, as
/// cranelift-isle resolved it in the verification environment: the pattern
/// the generated instruction selector runs on the macro's input, with the
/// macros that have specs in it kept as terms (each has a template of its
/// own). The spec says what the macro means for values; the template says
/// when it matches (`iadd` matches an instruction whose data is `Binary`
/// with opcode `Iadd`, whatever the values; a macro `(my x y)` over `(iadd
/// x (ishl y k))` matches where both instructions do).
#[derive(Clone, Debug)]
pub struct Template {
    /// The pattern, matched against the macro's input. Its variables are
    /// its own, numbered from 0, not those of any rule.
    pub pattern: Pattern,
    /// For each macro argument, the variable of `pattern` bound at its
    /// place (`None` if the expansion drops the argument).
    pub args: Vec<Option<VarId>>,
    /// How many variables `pattern` binds.
    pub vars: usize,
    /// Their names (the macro's parameter names at its arguments), by
    /// variable.
    pub names: Vec<String>,
    /// The macro's `extractor` definition.
    pub span: Span,
}

/// What the spec pass knows about one rule.
#[derive(Clone, Debug, Default)]
pub struct RuleInfo {
    /// The rule's name, or `<root>@<file>:<line>` for an unnamed rule.
    pub name: String,
    /// Whether the name was written in the source.
    pub named: bool,
    /// The whole rule.
    pub span: Span,
    /// Marked `(veri priority)`.
    pub priority: bool,
    /// `(tag ...)` attributes.
    pub tags: Vec<String>,
    /// Higher-priority rules marked `(veri priority)` that cranelift-isle's
    /// overlap analysis says may match an input this rule matches: the
    /// rules whose not matching this rule may assume.
    pub overlapped_by: Vec<RuleId>,
}

/// The model of an external constant (`(model $I8 (const 8))`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstModel {
    /// The constant's value.
    pub value: Literal,
    /// Where the model is.
    pub span: Span,
}

/// A loaded, checked program: ISLE rules with their specs.
pub struct Program {
    /// The source files.
    pub sources: SourceMap,
    /// cranelift-isle's type environment.
    pub types: TypeEnv,
    /// cranelift-isle's term environment (terms and rules).
    pub terms: TermEnv,
    /// Per ISLE type (indexed by [`TypeId`]): its model, if it has one.
    pub type_models: Vec<Option<ModelType>>,
    /// The enums the models mention.
    pub enums: Enums,
    /// Per term (indexed by [`TermId`]).
    pub term_info: Vec<TermInfo>,
    /// Per rule (indexed by [`RuleId`]).
    pub rule_info: Vec<RuleInfo>,
    /// Declared state, indexed by [`loweq_semantics::expr::StateId`].
    pub states: Vec<StateDecl>,
    /// Models of external constants, by name without the `$`.
    pub consts: HashMap<String, ConstModel>,
}

impl Program {
    /// The name of an interned ISLE symbol.
    pub fn sym(&self, sym: Sym) -> &str {
        &self.types.syms[sym.index()]
    }

    /// The model of an ISLE type.
    pub fn model(&self, ty: TypeId) -> Option<&ModelType> {
        self.type_models.get(ty.index()).and_then(|m| m.as_ref())
    }

    /// The name of an ISLE type.
    pub fn type_name(&self, ty: TypeId) -> &str {
        self.types.types[ty.index()].name(&self.types)
    }

    /// What the spec pass knows about a term.
    pub fn term(&self, id: TermId) -> &TermInfo {
        &self.term_info[id.index()]
    }

    /// Whether `span` is in the shipped semantics
    /// ([`SourceFile::semantics`](loweq_semantics::span::SourceFile::semantics)):
    /// the only place that may say what an instruction means (its fields,
    /// its operands).
    pub fn in_semantics(&self, span: Span) -> bool {
        self.sources.file(span.file).semantics
    }

    /// What the spec pass knows about a rule.
    pub fn rule(&self, id: RuleId) -> &RuleInfo {
        &self.rule_info[id.index()]
    }

    /// The term with the given name.
    pub fn term_by_name(&self, name: &str) -> Option<TermId> {
        self.term_info
            .iter()
            .position(|t| t.name == name)
            .map(TermId)
    }
}
