//! Generating valid [`Case`]s for proptest: every opcode at every width it
//! takes from 8 to 64 bits (and the i128 of `iconcat`/`isplit`), with the
//! operands biased toward the values where implementations go wrong.

use proptest::prelude::*;

use crate::{mask, ops, Case, CONDS};

/// The widths of the scalar integer types up to 64 bits.
pub const WIDTHS: [u32; 4] = [8, 16, 32, 64];

/// A width from 8 to 64 bits.
pub fn width() -> impl Strategy<Value = u32> {
    prop::sample::select(WIDTHS.to_vec())
}

/// A `w`-bit value: half the time an edge (0, 1, -1, the minimum and
/// maximum signed values, small shift amounts around the widths), else
/// uniform.
pub fn value(w: u32) -> BoxedStrategy<u128> {
    let m = mask(w);
    let sign = 1u128 << (w - 1);
    let edges: Vec<u128> = [
        0,
        1,
        2,
        m,
        m - 1,
        sign,
        sign - 1,
        sign + 1,
        7,
        8,
        9,
        15,
        16,
        17,
    ]
    .into_iter()
    .chain([31, 32, 33, 63, 64, 65, 127, 128, 129])
    .map(|v| v & m)
    .collect();
    prop_oneof![
        prop::sample::select(edges),
        any::<u128>().prop_map(move |v| v & m),
    ]
    .boxed()
}

fn arg(w: u32) -> BoxedStrategy<(u32, u128)> {
    value(w).prop_map(move |v| (w, v)).boxed()
}

/// Two distinct widths, narrower first.
fn two_widths() -> impl Strategy<Value = (u32, u32)> {
    (width(), width())
        .prop_filter("distinct widths", |(a, b)| a != b)
        .prop_map(|(a, b)| (a.min(b), a.max(b)))
}

/// Cases of opcode `op`.
pub fn case(op: &'static str) -> BoxedStrategy<Case> {
    let mk = move |args: Vec<(u32, u128)>, ret: u32| Case {
        op,
        cond: None,
        args,
        ret,
    };
    if ops::BINARY.contains(&op) {
        return width()
            .prop_flat_map(move |w| (arg(w), arg(w)).prop_map(move |(x, y)| mk(vec![x, y], w)))
            .boxed();
    }
    if ops::SHIFT.contains(&op) {
        return (width(), width())
            .prop_flat_map(move |(w, a)| (arg(w), arg(a)).prop_map(move |(x, y)| mk(vec![x, y], w)))
            .boxed();
    }
    if ops::UNARY.contains(&op) {
        let widths = if op == "bswap" {
            WIDTHS[1..].to_vec()
        } else {
            WIDTHS.to_vec()
        };
        return prop::sample::select(widths)
            .prop_flat_map(move |w| arg(w).prop_map(move |x| mk(vec![x], w)))
            .boxed();
    }
    match op {
        "iconst" => width()
            .prop_flat_map(move |w| value(w).prop_map(move |v| mk(vec![(64, v)], w)))
            .boxed(),
        "icmp" => (prop::sample::select(CONDS.to_vec()), width())
            .prop_flat_map(move |(cond, w)| {
                (arg(w), arg(w)).prop_map(move |(x, y)| Case {
                    op,
                    cond: Some(cond),
                    args: vec![x, y],
                    ret: 8,
                })
            })
            .boxed(),
        "select" => (width(), width())
            .prop_flat_map(move |(c, w)| {
                (arg(c), arg(w), arg(w)).prop_map(move |(c, x, y)| mk(vec![c, x, y], w))
            })
            .boxed(),
        "bmask" => (width(), width())
            .prop_flat_map(move |(a, r)| arg(a).prop_map(move |x| mk(vec![x], r)))
            .boxed(),
        "uextend" | "sextend" => two_widths()
            .prop_flat_map(move |(from, to)| arg(from).prop_map(move |x| mk(vec![x], to)))
            .boxed(),
        "ireduce" => two_widths()
            .prop_flat_map(move |(to, from)| arg(from).prop_map(move |x| mk(vec![x], to)))
            .boxed(),
        "iconcat" => width()
            .prop_flat_map(move |w| {
                (arg(w), arg(w)).prop_map(move |(lo, hi)| mk(vec![lo, hi], 2 * w))
            })
            .boxed(),
        "isplit" => prop::sample::select(vec![16u32, 32, 64, 128])
            .prop_flat_map(move |w| arg(w).prop_map(move |x| mk(vec![x], w)))
            .boxed(),
        _ => Just(mk(Vec::new(), 0)).boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reference, Outcome};
    use proptest::test_runner::TestRunner;

    /// Every generated case is valid CLIF, so the oracle always answers.
    #[test]
    fn generated_cases_are_valid() {
        let mut runner = TestRunner::deterministic();
        for op in ops::all() {
            let s = case(op);
            for _ in 0..50 {
                let c = s.new_tree(&mut runner).expect("a case").current();
                assert!(reference(&c).is_some(), "{c:?}");
            }
        }
    }

    /// A few values worked out by hand, against the oracle itself.
    #[test]
    fn known_values() {
        let c = |op, args: Vec<(u32, u128)>, ret| Case {
            op,
            cond: None,
            args,
            ret,
        };
        let v = |x| Some(Outcome::Value(x));
        assert_eq!(
            reference(&c("sdiv", vec![(8, 0x80), (8, 0xff)], 8)),
            Some(Outcome::Trap)
        );
        assert_eq!(reference(&c("srem", vec![(8, 0x80), (8, 0xff)], 8)), v(0));
        assert_eq!(
            reference(&c("udiv", vec![(16, 1), (16, 0)], 16)),
            Some(Outcome::Trap)
        );
        assert_eq!(reference(&c("umulhi", vec![(8, 255), (8, 255)], 8)), v(254));
        assert_eq!(reference(&c("ishl", vec![(8, 1), (64, 9)], 8)), v(2));
        assert_eq!(reference(&c("cls", vec![(8, 0)], 8)), v(7));
        assert_eq!(reference(&c("cls", vec![(8, 0xff)], 8)), v(7));
        assert_eq!(reference(&c("iabs", vec![(8, 0x80)], 8)), v(0x80));
        assert_eq!(reference(&c("sextend", vec![(8, 0x80)], 16)), v(0xff80));
        assert_eq!(reference(&c("bswap", vec![(8, 1)], 8)), None);
        assert_eq!(
            reference(&c("isplit", vec![(128, 0x1_0000_0000_0000_0002)], 128)),
            v(0x1_0000_0000_0000_0002)
        );
    }
}
