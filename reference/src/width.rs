//! The operations at each width, on Rust's own integer types: `u8`/`i8`
//! for i8 and so on, with the double-width type for the high half of
//! products.

use crate::Outcome;

macro_rules! width {
    ($module:ident, $u:ty, $s:ty, $wu:ty, $ws:ty) => {
        mod $module {
            use crate::Outcome::{self, Trap, Value};

            const BITS: u32 = <$u>::BITS;

            pub fn binary(op: &str, x: u64, y: u64) -> Option<Outcome> {
                let (x, y) = (x as $u, y as $u);
                let (sx, sy) = (x as $s, y as $s);
                let v: $u = match op {
                    "iadd" => x.wrapping_add(y),
                    "isub" => x.wrapping_sub(y),
                    "imul" => x.wrapping_mul(y),
                    "umulhi" => ((x as $wu * y as $wu) >> BITS) as $u,
                    "smulhi" => ((sx as $ws * sy as $ws) >> BITS) as $u,
                    "udiv" => match x.checked_div(y) {
                        Some(q) => q,
                        None => return Some(Trap),
                    },
                    // `checked_div` is `None` for a zero divisor and for
                    // MIN / -1, the two cases where CLIF traps.
                    "sdiv" => match sx.checked_div(sy) {
                        Some(q) => q as $u,
                        None => return Some(Trap),
                    },
                    "urem" => match x.checked_rem(y) {
                        Some(r) => r,
                        None => return Some(Trap),
                    },
                    // MIN % -1 is 0 in CLIF (`wrapping_rem`), not a trap.
                    "srem" => {
                        if y == 0 {
                            return Some(Trap);
                        }
                        sx.wrapping_rem(sy) as $u
                    }
                    "band" => x & y,
                    "bor" => x | y,
                    "bxor" => x ^ y,
                    "band_not" => x & !y,
                    "bor_not" => x | !y,
                    "bxor_not" => x ^ !y,
                    "smin" => sx.min(sy) as $u,
                    "smax" => sx.max(sy) as $u,
                    "umin" => x.min(y),
                    "umax" => x.max(y),
                    _ => return None,
                };
                Some(Value(v as u128))
            }

            /// `amount` is already reduced modulo the width.
            pub fn shift(op: &str, x: u64, amount: u32) -> Option<u128> {
                let x = x as $u;
                let v: $u = match op {
                    "ishl" => x.wrapping_shl(amount),
                    "ushr" => x.wrapping_shr(amount),
                    "sshr" => (x as $s).wrapping_shr(amount) as $u,
                    "rotl" => x.rotate_left(amount),
                    "rotr" => x.rotate_right(amount),
                    _ => return None,
                };
                Some(v as u128)
            }

            pub fn unary(op: &str, x: u64) -> Option<u128> {
                let x = x as $u;
                let v: $u = match op {
                    "ineg" => x.wrapping_neg(),
                    "iabs" => (x as $s).wrapping_abs() as $u,
                    "bnot" => !x,
                    "clz" => x.leading_zeros() as $u,
                    // Bits after the sign bit equal to it.
                    "cls" => {
                        let run = if (x as $s) < 0 {
                            x.leading_ones()
                        } else {
                            x.leading_zeros()
                        };
                        (run - 1) as $u
                    }
                    "ctz" => x.trailing_zeros() as $u,
                    "popcnt" => x.count_ones() as $u,
                    "bitrev" => x.reverse_bits(),
                    "bswap" => x.swap_bytes(),
                    _ => return None,
                };
                Some(v as u128)
            }

            pub fn icmp(cond: &str, x: u64, y: u64) -> Option<bool> {
                let (x, y) = (x as $u, y as $u);
                let (sx, sy) = (x as $s, y as $s);
                Some(match cond {
                    "eq" => x == y,
                    "ne" => x != y,
                    "slt" => sx < sy,
                    "sge" => sx >= sy,
                    "sgt" => sx > sy,
                    "sle" => sx <= sy,
                    "ult" => x < y,
                    "uge" => x >= y,
                    "ugt" => x > y,
                    "ule" => x <= y,
                    _ => return None,
                })
            }
        }
    };
}

width!(w8, u8, i8, u16, i16);
width!(w16, u16, i16, u32, i32);
width!(w32, u32, i32, u64, i64);
width!(w64, u64, i64, u128, i128);

pub fn binary(op: &str, width: u32, x: u64, y: u64) -> Option<Outcome> {
    match width {
        8 => w8::binary(op, x, y),
        16 => w16::binary(op, x, y),
        32 => w32::binary(op, x, y),
        64 => w64::binary(op, x, y),
        _ => None,
    }
}

pub fn shift(op: &str, width: u32, x: u64, amount: u32) -> Option<u128> {
    match width {
        8 => w8::shift(op, x, amount),
        16 => w16::shift(op, x, amount),
        32 => w32::shift(op, x, amount),
        64 => w64::shift(op, x, amount),
        _ => None,
    }
}

pub fn unary(op: &str, width: u32, x: u64) -> Option<u128> {
    match width {
        8 => w8::unary(op, x),
        16 => w16::unary(op, x),
        32 => w32::unary(op, x),
        64 => w64::unary(op, x),
        _ => None,
    }
}

pub fn icmp(cond: &str, width: u32, x: u64, y: u64) -> Option<bool> {
    match width {
        8 => w8::icmp(cond, x, y),
        16 => w16::icmp(cond, x, y),
        32 => w32::icmp(cond, x, y),
        64 => w64::icmp(cond, x, y),
        _ => None,
    }
}
