//! CLIF text: a parser (pest) for the part of Cranelift's `.clif` format
//! that runtest files use, and the checks that turn it into typed
//! functions an interpreter can run.
//!
//! Supported: `test`/`target`/`set` header lines; functions with integer
//! signatures; blocks with parameters; the integer instructions that have
//! IR specs (`opcode::OPCODES`, including the `_imm` forms and type
//! suffixes); `jump`, `brif` and `return`; `; run:` commands with `==` or
//! `!=` and integer literals. A construct outside the subset (a float or
//! vector type, an unknown instruction, a stack slot) makes its function
//! unsupported, with the reason; a malformed file gives diagnostics with
//! spans. Nothing here panics on any input.

pub mod check;
pub mod inst;
pub mod ir;
pub mod literal;
pub mod opcode;
pub mod syntax;
pub mod types;

pub use ir::{
    Block, BlockCall, Body, ClifFile, Expect, Function, Inst, InstKind, Operand, Run, Unsupported,
    ValueId,
};
pub use opcode::IntCC;
pub use types::Type;

use loweq_semantics::span::{FileId, SourceMap};

use crate::diag::Diagnostic;

/// Parses and checks file `file` of `sources`.
pub fn parse(sources: &SourceMap, file: FileId) -> Result<ClifFile, Vec<Diagnostic>> {
    let syn = syntax::parse(sources, file)?;
    check::check(file, syn)
}
