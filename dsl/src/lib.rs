//! The loweq front end: loads ISLE files with cranelift-isle (parse, type and
//! term environments, overlap check), then runs the spec pass that joins the
//! verification forms (`spec`, `model`, `form`, `instantiate`, `state`,
//! `macro`, `attr`) to terms and rules and checks them.
//!
//! The [`clif`] module parses CLIF text, for running Cranelift's runtest
//! files against the IR specs.
//!
//! Every problem is a [`Diagnostic`] with a span; nothing here prints, and no
//! input makes it panic.

pub mod clif;
pub mod diag;
pub mod load;
pub mod model;
pub mod pass;
pub mod program;
pub mod spec;

pub use diag::Diagnostic;
pub use program::{Program, RuleInfo, Signature, Template, TermInfo};

use loweq_semantics::span::SourceMap;

/// Loads and checks a set of ISLE files.
pub fn load(sources: SourceMap) -> Result<Program, Vec<Diagnostic>> {
    let (defs, diags) = load::parse(&sources);
    if !diags.is_empty() {
        return Err(diags);
    }
    let analysis = load::analyze(&sources, &defs)?;
    pass::spec_pass(sources, &defs, analysis)
}
