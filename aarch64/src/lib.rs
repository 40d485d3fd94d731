//! The Rust side of loweq's AArch64 backend.
//!
//! The shipped AArch64 rules (`rules/aarch64/`) call extern helpers whose
//! specs say what they compute; an instruction selector generated from the
//! rules calls Rust functions for them. This crate holds the ones with real
//! logic, the immediate encoders, so that each can be tested against the
//! Arm ARM's own pseudocode and against its spec:
//!
//! - [`bitmask`]: logical (bitmask) immediates: `DecodeBitMasks` as the
//!   Arm ARM writes it, and the encoder `imm_logic_from_imm64`, tested
//!   exhaustively against it (all 5,334 encodings) and against the spec's
//!   `bitmask_ok` predicate (`tests/spec_agreement.rs`).

pub mod bitmask;
