//! What a conformance run found. Data only: the CLI prints it.

use crate::coverage::Coverage;
use crate::isa::Isa;

/// One input of a vector, as shown in a disagreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The parameter (`a`), or `old <reg>` for the destination's old value,
    /// or `flags`.
    pub name: String,
    /// Where it is (`rax`, `immediate`), if anywhere.
    pub place: Option<String>,
    /// The value, in hex (a struct immediate as its fields).
    pub value: String,
}

/// What one side (spec or machine) gave for a vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// It trapped (the machine's fault, or "trap" for the spec).
    Trap(String),
    /// The destination register.
    Value(u64),
    /// The flags, by field (`c=1 n=0 v=0 z=1`).
    Flags(String),
    /// For an instruction that accesses memory: the destination register
    /// (if the mapping reads one) and what was written to the vector's
    /// memory (`[0x…0fc4] = cd ab`, or `nothing written`).
    Memory {
        /// The destination register.
        value: Option<u64>,
        /// The bytes written.
        writes: String,
    },
    /// The spec could not be evaluated (an inconsistent or incomplete spec).
    Error(String),
}

/// The first vector on which spec and machine disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The code as assembled (with its encoding).
    pub listing: String,
    /// The inputs.
    pub inputs: Vec<Input>,
    /// The register the result was read from (`flags`, or `memory` for a
    /// store).
    pub result_reg: String,
    /// What the spec says.
    pub spec: Observed,
    /// What the machine did.
    pub machine: Observed,
    /// What the disagreement means, where the harness can tell (a memory
    /// access the machine made elsewhere than the spec says).
    pub note: Option<String>,
}

/// One instruction term at one variant.
#[derive(Clone, Debug, PartialEq)]
pub struct InstResult {
    /// The term.
    pub term: String,
    /// The variant (`Size32`, `-`).
    pub variant: String,
    /// The code template.
    pub code: Vec<String>,
    /// Vectors run on the machine.
    pub vectors: usize,
    /// Vectors where spec and machine agree.
    pub agreed: usize,
    /// Vectors not run because the spec's `require` excludes them.
    pub outside: usize,
    /// The first disagreement.
    pub first: Option<Disagreement>,
    /// The flags register (`x64_flags`) the vectors checked the code
    /// leaves as it was, because the spec does not declare it modifies it;
    /// `None` when it declares so, or when no vector ran.
    pub keeps_flags: Option<String>,
    /// Why the check could not be done (the code does not assemble, the
    /// machine crashed).
    pub error: Option<String>,
    /// Whether the spec was evaluated by a compiled tape (else the slow
    /// way, with the reason).
    pub slow: Option<String>,
    /// Seconds spent evaluating the spec and generating vectors.
    pub spec_seconds: f64,
    /// Seconds spent on the machine (assembling and running).
    pub machine_seconds: f64,
}

impl InstResult {
    /// A result with nothing run yet.
    pub fn new(term: &str, variant: &str, code: Vec<String>) -> InstResult {
        InstResult {
            term: term.to_string(),
            variant: variant.to_string(),
            code,
            vectors: 0,
            agreed: 0,
            outside: 0,
            first: None,
            keeps_flags: None,
            error: None,
            slow: None,
            spec_seconds: 0.0,
            machine_seconds: 0.0,
        }
    }

    /// Whether spec and machine agreed on every vector.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.first.is_none() && self.agreed == self.vectors
    }
}

/// An instruction term that was not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRun {
    /// The term.
    pub term: String,
    /// Why.
    pub reason: String,
    /// Whether a shipped rule uses it.
    pub used_by_rules: bool,
}

/// The run of one architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchReport {
    /// The architecture.
    pub isa: Isa,
    /// The machine (`x86-64 (native)`).
    pub machine: String,
    /// Per (term, variant), in table order; then the mapping entries that
    /// do not fit their terms, each with the error.
    pub results: Vec<InstResult>,
    /// Spec terms the mapping does not cover, and its entries for terms
    /// without a spec (each an error; empty when `--inst` chose terms).
    pub coverage: Coverage,
    /// Instruction terms that cannot run, with the reason.
    pub not_run: Vec<NotRun>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl ArchReport {
    /// Vectors run.
    pub fn vectors(&self) -> usize {
        self.results.iter().map(|r| r.vectors).sum()
    }

    /// (term, variant) pairs with a disagreement.
    pub fn disagreements(&self) -> usize {
        self.results.iter().filter(|r| r.first.is_some()).count()
    }

    /// (term, variant) pairs whose vectors checked that the code leaves
    /// the flags as they were (their specs do not modify the flags).
    pub fn keeps_flags(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.keeps_flags.is_some() && r.vectors > 0)
            .count()
    }

    /// (term, variant) pairs that could not be checked, and terms the
    /// mapping does not cover as it must.
    pub fn errors(&self) -> usize {
        self.results.iter().filter(|r| r.error.is_some()).count() + self.coverage.len()
    }

    /// Instruction terms used by shipped rules that were not exercised.
    pub fn unexercised(&self) -> Vec<&NotRun> {
        self.not_run.iter().filter(|n| n.used_by_rules).collect()
    }
}
