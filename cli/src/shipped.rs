//! The spec files and rules shipped with loweq, embedded at build time from
//! `semantics/spec/` and `rules/`.

use loweq_semantics::span::SourceFile;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// A target architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Arch {
    /// x86-64.
    X64,
    /// AArch64.
    Aarch64,
}

impl Arch {
    /// Every architecture, in report order.
    pub const ALL: [Arch; 2] = [Arch::X64, Arch::Aarch64];

    /// The architecture's name in paths and reports.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X64 => "x64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

fn files(table: &[(&str, &str, &str)], groups: &[&str]) -> Vec<SourceFile> {
    table
        .iter()
        .filter(|(g, _, _)| groups.contains(g))
        .map(|(_, name, text)| SourceFile::new(*name, *text))
        .collect()
}

/// The semantics a rule file for `arch` is checked against: the IR specs
/// (`semantics/spec/clif`), what lowering means (`semantics/spec/lower`)
/// and the instruction specs of the architecture.
pub fn specs(arch: Arch) -> Vec<SourceFile> {
    files(SPEC_FILES, &["clif", "lower", arch.name()])
}

/// The IR specs alone (`semantics/spec/clif`): what the CLIF interpreter
/// of `loweq runtest` evaluates.
pub fn ir_specs() -> Vec<SourceFile> {
    files(SPEC_FILES, &["clif"])
}

/// The shipped lowering rules of `arch`.
pub fn rules(arch: Arch) -> Vec<SourceFile> {
    files(RULE_FILES, &[arch.name()])
}

/// Whether a file of that name is one of the shipped files.
pub fn is_shipped(name: &str) -> bool {
    SPEC_FILES
        .iter()
        .chain(RULE_FILES)
        .any(|(_, n, _)| *n == name)
}
