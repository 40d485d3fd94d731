//! Width inference on hand-built graphs: the behaviours spec authors rely on.

use loweq_semantics::graph::{Graph, NodeId, NodeKind};
use loweq_semantics::infer::{infer, Mode};
use loweq_semantics::op::Op;
use loweq_semantics::span::Span;
use loweq_semantics::ty::{Enums, ModelType, Ty};
use loweq_semantics::Literal;

fn int(g: &mut Graph, i: i128) -> NodeId {
    g.constant(Literal::Int(i), Span::default())
}

fn bv_var(g: &mut Graph, name: &str, w: Option<u32>) -> NodeId {
    g.var(name, Some(ModelType::BitVec(w)), Span::default())
}

#[test]
fn a_static_switch_types_only_the_chosen_branch() {
    // (switch (widthof x) (16 (extract 15 8 x)) (32 (extract 31 24 x))) with x : (bv 16)
    let mut g = Graph::new();
    let x = bv_var(&mut g, "x", Some(16));
    let w = g.op(Op::WidthOf, vec![x], Span::default());
    let (c16, c32) = (int(&mut g, 16), int(&mut g, 32));
    let (h15, h8, h31, h24) = (
        int(&mut g, 15),
        int(&mut g, 8),
        int(&mut g, 31),
        int(&mut g, 24),
    );
    let a = g.op(Op::Extract, vec![h15, h8, x], Span::default());
    let b = g.op(Op::Extract, vec![h31, h24, x], Span::default());
    let default = g.var("d", None, Span::default());
    let sw = g.add(
        NodeKind::Switch,
        vec![w, c16, a, c32, b, default],
        Span::default(),
    );
    let t = infer(&g, &Enums::default(), &[sw], &[], &[], Mode::Complete).expect("types");
    assert_eq!(t.ty(sw), Some(&Ty::Bv(8)));
    assert_eq!(t.redirect(sw), Some(a));
}

#[test]
fn concat_infers_a_missing_part() {
    // (= (concat hi lo) (bv 16)) with hi : (bv 8) and lo unknown.
    let mut g = Graph::new();
    let hi = bv_var(&mut g, "hi", Some(8));
    let lo = bv_var(&mut g, "lo", None);
    let whole = bv_var(&mut g, "whole", Some(16));
    let cat = g.op(Op::Concat, vec![hi, lo], Span::default());
    let eq = g.op(Op::Eq, vec![cat, whole], Span::default());
    let t = infer(&g, &Enums::default(), &[eq], &[], &[], Mode::Complete).expect("types");
    assert_eq!(t.ty(lo), Some(&Ty::Bv(8)));
}

#[test]
fn facts_pin_integers_that_widths_depend_on() {
    // fact (= ty 8); (extract (+ ty -1) 0 x) with x : (bv 64) has 8 bits.
    let mut g = Graph::new();
    let ty = g.var("ty", Some(ModelType::Int), Span::default());
    let eight = int(&mut g, 8);
    let fact = g.op(Op::Eq, vec![ty, eight], Span::default());
    let minus1 = int(&mut g, -1);
    let hi = g.op(Op::Add, vec![ty, minus1], Span::default());
    let zero = int(&mut g, 0);
    let x = bv_var(&mut g, "x", Some(64));
    let ext = g.op(Op::Extract, vec![hi, zero, x], Span::default());
    let t = infer(
        &g,
        &Enums::default(),
        &[fact, ext],
        &[fact],
        &[],
        Mode::Complete,
    )
    .expect("types");
    assert_eq!(t.ty(ext), Some(&Ty::Bv(8)));
    assert_eq!(t.static_args(ext), Some(&[7, 0][..]));
}

#[test]
fn out_of_range_and_narrowing_are_errors() {
    let mut g = Graph::new();
    let x = bv_var(&mut g, "x", Some(8));
    let (h, l) = (int(&mut g, 8), int(&mut g, 0));
    let ext = g.op(Op::Extract, vec![h, l, x], Span::default());
    let e = infer(&g, &Enums::default(), &[ext], &[], &[], Mode::Complete).unwrap_err();
    assert!(
        e.message.contains("`extract` of bit 8 from a 8-bit value"),
        "{}",
        e.message
    );

    let mut g = Graph::new();
    let x = bv_var(&mut g, "x", Some(16));
    let w = int(&mut g, 8);
    let z = g.op(Op::ZeroExt, vec![w, x], Span::default());
    let e = infer(&g, &Enums::default(), &[z], &[], &[], Mode::Complete).unwrap_err();
    assert!(
        e.message.contains("`zero_ext` to 8 bits of a 16-bit value"),
        "{}",
        e.message
    );
}

#[test]
fn unknown_widths_are_an_error_only_when_complete() {
    let mut g = Graph::new();
    let x = bv_var(&mut g, "x", None);
    let y = bv_var(&mut g, "y", None);
    let add = g.op(Op::BvAdd, vec![x, y], Span::default());
    assert!(infer(&g, &Enums::default(), &[add], &[], &[], Mode::Generic).is_ok());
    let e = infer(&g, &Enums::default(), &[add], &[], &[], Mode::Complete).unwrap_err();
    assert!(e.message.contains("cannot infer"), "{}", e.message);
    let t = infer(
        &g,
        &Enums::default(),
        &[add],
        &[],
        &[(x, ModelType::BitVec(Some(32)))],
        Mode::Complete,
    )
    .expect("a signature fixes it");
    assert_eq!(t.ty(y), Some(&Ty::Bv(32)));
}
