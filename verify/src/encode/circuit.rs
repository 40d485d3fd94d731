//! Bitvector circuits for operators z3 has no encoding of (population
//! count, leading zeros and sign bits, bit reversal), or none that it
//! solves quickly (a rotate by a variable amount).

use z3::ast::BV;

fn bit(x: &BV, i: u32) -> BV {
    x.extract(i, i)
}

/// The number of set bits, summed as a balanced tree of adders as narrow
/// as their sums (bits in pairs, then pairs of pairs...): a much smaller
/// circuit than a chain of `w` full-width additions, and one whose
/// bit-blasted form the SAT solver relates easily to the bit-twiddling
/// population counts that lowering rules use.
pub(super) fn popcnt(x: &BV) -> BV {
    let w = x.get_size();
    let mut parts: Vec<BV> = (0..w).map(|i| bit(x, i)).collect();
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        for pair in parts.chunks(2) {
            next.push(match pair {
                [a, b] => a.zero_ext(1).bvadd(b.zero_ext(1)),
                [a] => a.zero_ext(1),
                _ => unreachable!("chunks of two"),
            });
        }
        parts = next;
    }
    let sum = parts.pop().expect("a bitvector has at least one bit");
    let sw = sum.get_size();
    match sw.cmp(&w) {
        std::cmp::Ordering::Less => sum.zero_ext(w - sw),
        std::cmp::Ordering::Equal => sum,
        // One or two bits: the sum needs no more bits than the operand.
        std::cmp::Ordering::Greater => sum.extract(w - 1, 0),
    }
}

/// `a` rotated left (or right) by `b` modulo the width. At a power-of-two
/// width this is two shifts by the amount's low bits, ORed: z3 bit-blasts
/// its own rotate by a variable amount through a remainder circuit, and
/// relating two of those (a rotate left against a rotate right by the
/// negated amount, as a lowering does) took seconds where the shifts take
/// milliseconds.
pub(super) fn rotate(a: &BV, b: &BV, left: bool) -> BV {
    let w = a.get_size();
    if !w.is_power_of_two() || w == 1 {
        return if left { a.bvrotl(b) } else { a.bvrotr(b) };
    }
    let mask = BV::from_u64(u64::from(w - 1), w);
    let n = b.bvand(&mask);
    let m = n.bvneg().bvand(&mask);
    if left {
        a.bvshl(&n).bvor(a.bvlshr(&m))
    } else {
        a.bvlshr(&n).bvor(a.bvshl(&m))
    }
}

pub(super) fn clz(x: &BV) -> BV {
    let w = x.get_size();
    // From the least significant bit up: if bit i is set, the count is w-1-i.
    let mut acc = BV::from_u64(u64::from(w), w);
    for i in 0..w {
        let set = bit(x, i).eq(BV::from_u64(1, 1));
        acc = set.ite(&BV::from_u64(u64::from(w - 1 - i), w), &acc);
    }
    acc
}

pub(super) fn cls(x: &BV) -> BV {
    let w = x.get_size();
    let sign = bit(x, w - 1);
    let mut acc = BV::from_u64(u64::from(w - 1), w);
    for i in 0..w - 1 {
        let differs = bit(x, i).eq(&sign).not();
        acc = differs.ite(&BV::from_u64(u64::from(w - 2 - i), w), &acc);
    }
    acc
}

pub(super) fn rev(x: &BV) -> BV {
    let w = x.get_size();
    let mut acc = bit(x, 0);
    for i in 1..w {
        acc = acc.concat(bit(x, i));
    }
    acc
}
