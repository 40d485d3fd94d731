//! What the AArch64 spec tests share: the shipped AArch64 program.

use loweq::shipped::{self, Arch};
use loweq_dsl::Program;
use loweq_semantics::span::SourceMap;

/// The shipped AArch64 specs and rules, loaded.
pub fn program() -> Program {
    let mut sources = SourceMap::new();
    for f in shipped::specs(Arch::Aarch64)
        .into_iter()
        .chain(shipped::rules(Arch::Aarch64))
    {
        sources.add(f);
    }
    loweq_dsl::load(sources).unwrap_or_else(|d| panic!("the AArch64 specs load: {d:?}"))
}
