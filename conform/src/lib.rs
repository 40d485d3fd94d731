//! `loweq conform`: the instruction specs checked against the machines.
//!
//! For every instruction spec term of an architecture, at every variant
//! (operand size, condition code, ...), a mapping table ([`map`], data in
//! `conform/map/<arch>.toml`) says which machine code stands for it and
//! where its operands go. [`check`] generates vectors ([`vectors`]): edge
//! and random operands with junk in the bits the code does not read,
//! evaluates the spec on each ([`oracle`], compiled once per variant),
//! runs the code on the machine (`loweq-machine`: natively for x86-64,
//! under QEMU for AArch64), and compares the whole 64-bit destination and
//! whether it trapped; where the spec does not declare it modifies the
//! table's flags register (`flags_state`), also that the code left the
//! condition flags as they were. [`coverage`] checks that every spec term of the
//! architecture is in its table. Nothing here prints: the CLI formats the
//! [`report`].

pub mod check;
pub mod coverage;
pub mod isa;
pub mod map;
mod memory;
pub mod oracle;
pub mod plan;
pub mod report;
pub mod template;
pub mod vectors;

pub use check::{run, ConformError, Options};
pub use isa::Isa;
pub use report::{ArchReport, InstResult};
