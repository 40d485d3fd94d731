//! Tests: the tape against the concrete evaluator, operator by operator and
//! at edge values, and constant folding.

use std::collections::HashMap;

use super::run::mask;
use super::*;
use crate::eval::Evaluator;
use crate::graph::{Graph, NodeId};
use crate::infer::{infer, Mode};
use crate::op::Op;
use crate::span::Span;
use crate::ty::ModelType;
use crate::Literal;
use proptest::prelude::*;

const BINARY: [Op; 24] = [
    Op::BvAdd,
    Op::BvSub,
    Op::BvMul,
    Op::BvUdiv,
    Op::BvUrem,
    Op::BvSdiv,
    Op::BvSrem,
    Op::BvAnd,
    Op::BvOr,
    Op::BvXor,
    Op::BvShl,
    Op::BvLshr,
    Op::BvAshr,
    Op::Rotl,
    Op::Rotr,
    Op::BvUlt,
    Op::BvUle,
    Op::BvUgt,
    Op::BvUge,
    Op::BvSlt,
    Op::BvSle,
    Op::BvSgt,
    Op::BvSge,
    Op::BvSaddo,
];
const UNARY: [Op; 6] = [Op::BvNot, Op::BvNeg, Op::Popcnt, Op::Clz, Op::Cls, Op::Rev];

/// A graph over two `w`-bit variables whose root applies `build`.
fn check(w: u32, x: u128, y: u128, build: impl Fn(&mut Graph, NodeId, NodeId) -> NodeId) {
    let s = Span::default();
    let mut g = Graph::new();
    let a = g.var("a", Some(ModelType::BitVec(Some(w))), s);
    let b = g.var("b", Some(ModelType::BitVec(Some(w))), s);
    let root = build(&mut g, a, b);
    let enums = Enums::default();
    let typing =
        infer(&g, &enums, &[root, a, b], &[], &[], Mode::Complete).expect("the test graph types");
    let (va, vb) = (g.as_var(a).unwrap(), g.as_var(b).unwrap());
    let (x, y) = (x & mask(w), y & mask(w));
    let values: HashMap<VarId, Value> = [
        (va, Value::Bv(BitVec::from_u128(w, x))),
        (vb, Value::Bv(BitVec::from_u128(w, y))),
    ]
    .into();
    let want = Evaluator::new(&g, &typing, &enums).eval(root, &|v| values.get(&v).cloned());
    let mut tb = TapeBuilder::new(&g, &typing, &enums);
    tb.input(va).unwrap();
    tb.input(vb).unwrap();
    let out = tb.output(root).unwrap();
    let tape = tb.finish();
    let mut slots = Vec::new();
    tape.run(&[x, y], &mut slots).unwrap();
    assert_eq!(Ok(tape.value(&slots, out)), want, "w={w} x={x:#x} y={y:#x}");
}

fn int(g: &mut Graph, i: i128) -> NodeId {
    g.constant(Literal::Int(i), Span::default())
}

fn edgy(w: u32) -> impl Strategy<Value = u128> {
    prop_oneof![
        any::<u128>(),
        (0u32..130).prop_map(u128::from),
        Just(u128::MAX),
        (0u32..128).prop_map(move |k| 1u128 << k),
        (0u32..128).prop_map(move |k| (1u128 << k).wrapping_sub(1)),
        Just(1u128 << (w - 1)),
    ]
}

fn width() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(1u32),
        Just(8),
        Just(16),
        Just(32),
        Just(64),
        Just(128),
        1u32..=128
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn binary_and_unary_operators_agree_with_the_evaluator(
        w in width(),
        (x, y) in width().prop_flat_map(|w| (edgy(w), edgy(w))),
        i in 0usize..30,
    ) {
        let s = Span::default();
        if i < BINARY.len() {
            check(w, x, y, |g, a, b| g.op(BINARY[i], vec![a, b], s));
        } else {
            check(w, x, y, |g, a, _| g.op(UNARY[i - BINARY.len()], vec![a], s));
        }
    }

    #[test]
    fn width_changes_agree_with_the_evaluator(
        w in 2u32..=64,
        x in any::<u128>(),
        y in any::<u128>(),
        cut in 0u32..64,
        k in 1u32..3,
    ) {
        let s = Span::default();
        let lo = cut % w;
        check(w, x, y, |g, a, _| {
            let hi = int(g, i128::from(w - 1));
            let l = int(g, i128::from(lo));
            g.op(Op::Extract, vec![hi, l, a], s)
        });
        check(w, x, y, |g, a, _| {
            let to = int(g, i128::from(w + lo));
            g.op(Op::SignExt, vec![to, a], s)
        });
        check(w, x, y, |g, a, _| {
            let to = int(g, i128::from(w + lo));
            g.op(Op::ZeroExt, vec![to, a], s)
        });
        check(w, x, y, |g, a, _| {
            let to = int(g, i128::from(lo + 1));
            g.op(Op::ConvTo, vec![to, a], s)
        });
        // Widening: the bits above the operand come from the padding.
        check(w, x, y, |g, a, b| {
            let to = int(g, i128::from(w));
            let (hi, zero) = (int(g, i128::from(lo)), int(g, 0));
            let narrow = g.op(Op::Extract, vec![hi, zero, a], s);
            g.op(Op::ConvTo, vec![to, narrow, b], s)
        });
        check(w, x, y, |g, a, b| g.op(Op::Concat, vec![a, b], s));
        check(w, x, y, |g, a, _| {
            let kk = int(g, i128::from(k));
            g.op(Op::Replicate, vec![a, kk], s)
        });
        check(w, x, y, |g, a, b| {
            let c = g.op(Op::BvUlt, vec![a, b], s);
            let d = g.op(Op::BvNot, vec![b], s);
            g.op(Op::If, vec![c, a, d], s)
        });
        check(w, x, y, |g, a, b| {
            let n = g.op(Op::Bv2Nat, vec![a], s);
            let m = g.op(Op::Bv2Nat, vec![b], s);
            let sum = g.op(Op::Add, vec![n, m], s);
            let ww = int(g, i128::from(w));
            g.op(Op::Int2Bv, vec![ww, sum], s)
        });
    }
}

#[test]
fn constants_fold_and_unbound_variables_are_reported() {
    let s = Span::default();
    let mut g = Graph::new();
    let a = g.var("a", Some(ModelType::BitVec(Some(8))), s);
    let f = g.var("f", Some(ModelType::Bool), s);
    let u = g.var("u", Some(ModelType::BitVec(Some(8))), s);
    let pick = g.op(Op::If, vec![f, a, u], s);
    let enums = Enums::default();
    let typing = infer(&g, &enums, &[pick, a, f, u], &[], &[], Mode::Complete).unwrap();
    let mut tb = TapeBuilder::new(&g, &typing, &enums);
    tb.input(g.as_var(a).unwrap()).unwrap();
    tb.fix(g.as_var(f).unwrap(), Value::Bool(true));
    // `u` is never needed: the condition is fixed.
    let out = tb.output(pick).unwrap();
    let tape = tb.finish();
    assert!(tape.is_empty());
    let mut slots = Vec::new();
    tape.run(&[7], &mut slots).unwrap();
    assert_eq!(tape.word(&slots, out), 7);
    let mut tb = TapeBuilder::new(&g, &typing, &enums);
    tb.input(g.as_var(a).unwrap()).unwrap();
    tb.fix(g.as_var(f).unwrap(), Value::Bool(false));
    assert_eq!(
        tb.output(pick),
        Err(TapeError::Unbound(g.as_var(u).unwrap()))
    );
}
