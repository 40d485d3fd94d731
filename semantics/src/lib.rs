//! The semantics of loweq: the typed spec IR that term specifications are
//! lowered to, the formula graph that verification conditions are built in,
//! width inference per type instantiation, the concrete evaluator, and
//! tapes that evaluate one typed graph many times fast.
//!
//! The spec files themselves (IR semantics and the instruction semantics of
//! each ISA) live next to this crate in `spec/`; the CLI embeds them.

pub mod derive;
pub mod eval;
pub mod expr;
pub mod graph;
pub mod infer;
pub mod op;
pub mod span;
pub mod tape;
pub mod ty;
pub mod value;

pub use expr::Literal;
