//! Runs Cranelift's runtest files against loweq's IR specs.
//!
//! A `.clif` file parsed and checked by `loweq_dsl::clif` is run by an
//! interpreter ([`interp`]) that evaluates every operation through its
//! spec: the spec of the instruction's term is instantiated at the
//! instruction's types ([`instance`]), and its result and trap state are
//! computed from the operands by definitional evaluation ([`apply`]), so
//! that every runtest that passes is evidence the spec is right and every
//! one that fails points at a spec. Nothing here prints; the CLI formats
//! the [`report`].

pub mod apply;
pub mod instance;
pub mod interp;
pub mod report;
pub mod suite;

pub use apply::{Applied, ApplyError, Arg, Specs};
pub use instance::{Clause, Evaluation, InstanceError, TermInstance};
pub use report::{skip_reasons, FileReport, Outcome, RunResult, Totals};
pub use suite::Runner;
