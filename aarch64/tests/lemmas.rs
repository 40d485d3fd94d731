//! The lemmas that instruction specs state to keep proofs fast (facts that
//! follow from the definitions, semantics/spec/aarch64/div.isle) hold: each
//! spec is evaluated by loweq's concrete evaluator on many operands, and no
//! `provide` of it may be false. The narrow signed-division lemma is
//! checked on every pair of sign-extended 8-bit values.

mod common;

use std::collections::HashMap;

use loweq_dsl::Program;
use loweq_runtest::{Clause, TermInstance};
use loweq_semantics::value::{BitVec, Value};

fn bv(v: u64) -> Value {
    Value::Bv(BitVec::from_u128(64, u128::from(v)))
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

/// Evaluates `term` (size, a, b) and fails on any false fact.
struct Check {
    program: Program,
    instances: HashMap<&'static str, TermInstance>,
}

impl Check {
    fn new() -> Check {
        let program = common::program();
        let mut instances = HashMap::new();
        for term in ["a64_udiv", "a64_sdiv", "a64_urem", "a64_srem"] {
            let inst = TermInstance::with_result(&program, term, &[None, None, None], None)
                .unwrap_or_else(|e| panic!("{term} instantiates: {e}"));
            instances.insert(term, inst);
        }
        Check { program, instances }
    }

    fn holds(&self, term: &str, size_name: &str, a: u64, b: u64) {
        let inst = &self.instances[term];
        let e = inst
            .evaluate(
                &self.program,
                &[size(&self.program, size_name), bv(a), bv(b)],
            )
            .unwrap_or_else(|e| panic!("{term} evaluates: {e}"));
        assert!(
            e.result.is_some(),
            "{term} {size_name} {a:#x} {b:#x}: no result"
        );
        let false_facts: Vec<_> = e
            .violated
            .iter()
            .filter(|(c, _)| *c == Clause::Fact)
            .collect();
        assert!(
            false_facts.is_empty(),
            "{term} {size_name} a={a:#x} b={b:#x}: a stated fact is false ({false_facts:?})"
        );
    }
}

fn sext(v: u64, from: u32) -> u64 {
    let shift = 64 - from;
    (((v << shift) as i64) >> shift) as u64 & 0xffff_ffff
}

/// SplitMix64, for reproducible operands.
fn rng(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn the_narrow_signed_division_lemma_holds_for_every_8_bit_pair() {
    let c = Check::new();
    for x in 0..256u64 {
        for y in 0..256u64 {
            let (a, b) = (sext(x, 8), sext(y, 8));
            c.holds("a64_sdiv", "Size32", a, b);
            c.holds("a64_srem", "Size32", a, b);
        }
    }
}

#[test]
fn the_narrow_signed_division_lemma_holds_for_16_bit_edges_and_random_pairs() {
    let c = Check::new();
    let edges = [
        0u64, 1, 2, 3, 0x7fff, 0x8000, 0x8001, 0xffff, 0xfffe, 0x100, 0xff,
    ];
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for &x in &edges {
        for &y in &edges {
            pairs.push((x, y));
        }
    }
    let mut s = 16;
    for _ in 0..4_000 {
        pairs.push((rng(&mut s) & 0xffff, rng(&mut s) & 0xffff));
    }
    for (x, y) in pairs {
        let (a, b) = (sext(x, 16), sext(y, 16));
        c.holds("a64_sdiv", "Size32", a, b);
        c.holds("a64_srem", "Size32", a, b);
    }
}

#[test]
fn the_division_identity_holds() {
    let c = Check::new();
    let edges = [
        0u64,
        1,
        2,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
        u64::MAX - 1,
    ];
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for &x in &edges {
        for &y in &edges {
            pairs.push((x, y));
        }
    }
    let mut s = 7;
    for _ in 0..1_000 {
        let (x, y) = (rng(&mut s), rng(&mut s));
        pairs.push((x, y));
        pairs.push((x, y >> (rng(&mut s) % 64)));
    }
    for (x, y) in pairs {
        for size in ["Size32", "Size64"] {
            c.holds("a64_urem", size, x, y);
            c.holds("a64_srem", size, x, y);
            c.holds("a64_udiv", size, x, y);
            c.holds("a64_sdiv", size, x, y);
        }
    }
}
