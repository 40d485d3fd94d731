//! The bitmask-immediate encoder against the specs that the rules are
//! proved with: `imm_logic_from_imm64` (what the helper computes and when
//! it matches) and the `require` of the logical instructions, evaluated by
//! loweq's concrete evaluator on every one of the 5,334 (64-bit) and 1,302
//! (32-bit) immediates and on values around them.

mod common;

use std::collections::BTreeSet;

use loweq_aarch64::bitmask::{decode_bit_masks, imm_logic_from_imm64};
use loweq_dsl::Program;
use loweq_runtest::{Clause, TermInstance};
use loweq_semantics::value::{BitVec, Value};
use num_bigint::BigInt;

fn bv(w: u32, v: u64) -> Value {
    Value::Bv(BitVec::from_u128(w, u128::from(v)))
}

fn size(program: &Program, name: &str) -> Value {
    let id = program.enums.by_name("OperandSize").expect("OperandSize");
    let variant = program.enums.get(id).variant_index(name).expect("a size");
    Value::Enum {
        enum_id: id,
        variant,
        fields: vec![],
    }
}

fn decoded(datasize: u32) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for n in [false, true] {
        for immr in 0..64 {
            for imms in 0..64 {
                if let Some(v) = decode_bit_masks(n, imms, immr, datasize) {
                    out.insert(v);
                }
            }
        }
    }
    out
}

/// The decoded values, and values one bit away from them, rotated, and a
/// few others: the candidates to check.
fn candidates(values: &BTreeSet<u64>, mask: u64) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for &v in values {
        out.insert(v);
        out.insert((v ^ 1) & mask);
        out.insert((v ^ (1 << 31)) & mask);
        out.insert(v.wrapping_add(1) & mask);
        out.insert(v.rotate_left(13) & mask);
    }
    out.extend([0, mask, 0x1234_5678 & mask, 0x0f0f_0f0f_0f0f_0f0e & mask]);
    out
}

/// `a64_and_imm`'s `require` holds exactly for the decoded values.
#[test]
fn the_logical_instructions_require_exactly_the_encodable_immediates() {
    let program = common::program();
    let inst = TermInstance::with_result(&program, "a64_and_imm", &[None, None, None], None)
        .expect("a64_and_imm instantiates");
    for (datasize, name, mask) in [(64, "Size64", u64::MAX), (32, "Size32", 0xffff_ffffu64)] {
        let values = decoded(datasize);
        for v in candidates(&values, mask) {
            let e = inst
                .evaluate(&program, &[size(&program, name), bv(64, 0), bv(64, v)])
                .expect("evaluates");
            let required = !e.violated.iter().any(|(c, _)| *c == Clause::Require);
            assert_eq!(
                required,
                values.contains(&v),
                "{name} immediate {v:#x}: the spec says {required}"
            );
        }
    }
}

/// `imm_logic_from_imm64 ty k` in the spec (its value and its `match`)
/// is the Rust encoder, at every type.
#[test]
fn the_helper_spec_is_the_rust_encoder() {
    let program = common::program();
    let inst = TermInstance::with_result(&program, "imm_logic_from_imm64", &[None, None], None)
        .expect("imm_logic_from_imm64 instantiates");
    let mut ks: BTreeSet<u64> = BTreeSet::new();
    for v in decoded(64) {
        ks.insert(v);
        ks.insert(v & 0xffff_ffff);
        ks.insert(v & 0xffff);
        ks.insert(v & 0xff);
        ks.insert((v ^ 4) & 0xffff);
    }
    let mut matched = 0;
    for ty in [8u32, 16, 32, 64] {
        let mask = if ty == 64 { u64::MAX } else { (1 << ty) - 1 };
        let these: BTreeSet<u64> = ks.iter().map(|k| k & mask).collect();
        for &k in &these {
            let e = inst
                .evaluate(&program, &[Value::Int(BigInt::from(ty)), bv(64, k)])
                .expect("evaluates");
            let matches = !e.violated.iter().any(|(c, _)| *c == Clause::Fact);
            let rust = imm_logic_from_imm64(ty, k);
            assert_eq!(
                matches,
                rust.is_some(),
                "ty {ty}, k {k:#x}: spec matches {matches}, encoder {rust:x?}"
            );
            if let Some(r) = rust {
                matched += 1;
                assert_eq!(e.result, Some(bv(64, r)), "ty {ty}, k {k:#x}");
            }
        }
    }
    assert!(matched > 6000, "only {matched} encodable constants checked");
}
