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
pub mod limits;
pub mod load;
pub mod model;
pub mod overlap;
mod parse_error;
pub mod pass;
pub mod program;
pub mod spec;

pub use diag::Diagnostic;
pub use program::{Program, RuleInfo, Signature, Template, TermInfo};

use loweq_semantics::span::SourceMap;

/// The stack the front end runs on: it recurses over spec expressions,
/// which nest up to [`limits::MAX_SPEC_DEPTH`] levels once macros are
/// expanded, more than the 2 MB of a spawned thread allows in a debug
/// build. It costs address space only.
const LOAD_STACK: usize = 64 << 20;

/// A stage of loading, for progress reports: each starts when reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading the text into definitions.
    Parsing,
    /// cranelift-isle's type and term analysis.
    Analysing,
    /// Whether rules of one priority overlap.
    Overlaps,
    /// Joining the spec forms to terms and rules, and checking them.
    Specs,
}

impl Stage {
    /// What the stage does, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Parsing => "parsing",
            Stage::Analysing => "analysing terms and rules",
            Stage::Overlaps => "checking rules for overlap",
            Stage::Specs => "checking specs",
        }
    }
}

/// Loads and checks a set of ISLE files, on a thread of its own with a
/// stack for the deepest input the limits admit.
pub fn load(sources: SourceMap) -> Result<Program, Vec<Diagnostic>> {
    load_with(sources, &|_| {})
}

/// [`load`], telling `stage` as each stage of loading starts.
pub fn load_with(
    sources: SourceMap,
    stage: &(dyn Fn(Stage) + Sync),
) -> Result<Program, Vec<Diagnostic>> {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("loweq-load".into())
            .stack_size(LOAD_STACK)
            .spawn_scoped(scope, || load_here(sources, stage));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err(vec![Diagnostic::global(format!(
                "cannot start the thread that loads the input: {e}"
            ))]),
        }
    })
}

/// [`load`] on the calling thread.
fn load_here(sources: SourceMap, stage: &dyn Fn(Stage)) -> Result<Program, Vec<Diagnostic>> {
    stage(Stage::Parsing);
    let (defs, diags) = load::parse(&sources);
    if !diags.is_empty() {
        return Err(diags);
    }
    let analysis = load::analyze(&sources, &defs, stage)?;
    stage(Stage::Specs);
    pass::spec_pass(sources, &defs, analysis)
}
