//! Running a [`Tape`]: its inputs' words into the slots, every step in
//! order over 128-bit words, and its outputs read back.

use super::{Bin, IntOp, Shape, Step, Tape, TapeError, Un};
use crate::value::Value;

pub(super) fn mask(w: u32) -> u128 {
    if w >= 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    }
}

fn signed(x: u128, w: u32) -> i128 {
    if w >= 128 {
        x as i128
    } else if (x >> (w - 1)) & 1 == 1 {
        (x | !mask(w)) as i128
    } else {
        x as i128
    }
}

fn overflow() -> TapeError {
    TapeError::Unsupported("an integer outside the 128-bit range".into())
}

fn bin(op: Bin, w: u32, a: u128, b: u128) -> u128 {
    let m = mask(w);
    let shift = |b: u128| -> Option<u32> { u32::try_from(b).ok().filter(|&s| s < w) };
    match op {
        Bin::Add => a.wrapping_add(b) & m,
        Bin::Sub => a.wrapping_sub(b) & m,
        Bin::Mul => a.wrapping_mul(b) & m,
        Bin::Udiv => a.checked_div(b).unwrap_or(m),
        Bin::Urem => a.checked_rem(b).unwrap_or(a),
        Bin::Sdiv => {
            if b == 0 {
                if signed(a, w) < 0 {
                    1
                } else {
                    m
                }
            } else {
                (signed(a, w).wrapping_div(signed(b, w)) as u128) & m
            }
        }
        Bin::Srem => {
            if b == 0 {
                a
            } else {
                (signed(a, w).wrapping_rem(signed(b, w)) as u128) & m
            }
        }
        Bin::And => a & b,
        Bin::Or => a | b,
        Bin::Xor => a ^ b,
        Bin::Shl => shift(b).map_or(0, |s| (a << s) & m),
        Bin::Lshr => shift(b).map_or(0, |s| a >> s),
        Bin::Ashr => ((signed(a, w) >> shift(b).unwrap_or(w - 1)) as u128) & m,
        Bin::Rotl | Bin::Rotr => {
            let r = (b % u128::from(w)) as u32;
            let r = if op == Bin::Rotr { (w - r) % w } else { r };
            if r == 0 {
                a
            } else {
                ((a << r) | (a >> (w - r))) & m
            }
        }
        Bin::Ult => u128::from(a < b),
        Bin::Ule => u128::from(a <= b),
        Bin::Ugt => u128::from(a > b),
        Bin::Uge => u128::from(a >= b),
        Bin::Slt => u128::from(signed(a, w) < signed(b, w)),
        Bin::Sle => u128::from(signed(a, w) <= signed(b, w)),
        Bin::Sgt => u128::from(signed(a, w) > signed(b, w)),
        Bin::Sge => u128::from(signed(a, w) >= signed(b, w)),
        Bin::Saddo => {
            let (x, y) = (signed(a, w), signed(b, w));
            match x.checked_add(y) {
                None => 1,
                Some(s) => u128::from(signed((s as u128) & m, w) != s),
            }
        }
    }
}

fn un(op: Un, w: u32, a: u128) -> u128 {
    let m = mask(w);
    match op {
        Un::Not => !a & m,
        Un::Neg => a.wrapping_neg() & m,
        Un::Popcnt => u128::from(a.count_ones()),
        Un::Clz => u128::from(a.leading_zeros() - (128 - w)),
        Un::Cls => {
            let sign = (a >> (w - 1)) & 1;
            let flipped = if sign == 1 { !a & m } else { a };
            // Leading zeros of the bits below the sign bit.
            u128::from(flipped.leading_zeros() - (128 - w)) - 1
        }
        Un::Rev => a.reverse_bits() >> (128 - w),
    }
}

impl Tape {
    /// The number of input words [`Tape::run`] takes.
    pub fn input_words(&self) -> usize {
        self.input_words
    }

    /// The shape of input `i`.
    pub fn input_shape(&self, i: usize) -> &Shape {
        &self.inputs[i].shape
    }

    /// The number of steps (for benchmarks and tests).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the tape has no steps (its outputs are constants or inputs).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the tape on `inputs` (the inputs' words, in declaration
    /// order), leaving every slot in `slots`.
    pub fn run(&self, inputs: &[u128], slots: &mut Vec<u128>) -> Result<(), TapeError> {
        slots.clear();
        slots.extend_from_slice(&self.init);
        let mut k = 0;
        for p in &self.inputs {
            for &s in &p.slots {
                let v = *inputs.get(k).ok_or_else(|| {
                    TapeError::Unsupported("fewer input words than inputs".into())
                })?;
                slots[s as usize] = v;
                k += 1;
            }
        }
        let s = slots;
        for step in &self.steps {
            match *step {
                Step::Bin { op, w, dst, a, b } => {
                    s[dst as usize] = bin(op, w, s[a as usize], s[b as usize]);
                }
                Step::Un { op, w, dst, a } => s[dst as usize] = un(op, w, s[a as usize]),
                Step::Int { op, dst, a, b } => {
                    let (x, y) = (s[a as usize] as i128, s[b as usize] as i128);
                    s[dst as usize] = match op {
                        IntOp::Add => x.checked_add(y).ok_or_else(overflow)? as u128,
                        IntOp::Sub => x.checked_sub(y).ok_or_else(overflow)? as u128,
                        IntOp::Mul => x.checked_mul(y).ok_or_else(overflow)? as u128,
                        IntOp::Lt => u128::from(x < y),
                        IntOp::Lte => u128::from(x <= y),
                        IntOp::Gt => u128::from(x > y),
                        IntOp::Gte => u128::from(x >= y),
                    };
                }
                Step::IntNeg { dst, a } => {
                    s[dst as usize] =
                        (s[a as usize] as i128).checked_neg().ok_or_else(overflow)? as u128;
                }
                Step::Extract { dst, a, lo, w } => {
                    s[dst as usize] = (s[a as usize] >> lo) & mask(w);
                }
                Step::SignExt { dst, a, from, to } => {
                    s[dst as usize] = (signed(s[a as usize], from) as u128) & mask(to);
                }
                Step::Concat { dst, hi, lo, lo_w } => {
                    s[dst as usize] = (s[hi as usize] << lo_w) | s[lo as usize];
                }
                Step::Replicate { dst, a, w, k } => {
                    let x = s[a as usize];
                    let mut acc = 0u128;
                    for _ in 0..k {
                        acc = (acc << w) | x;
                    }
                    s[dst as usize] = acc;
                }
                Step::Int2Bv { dst, a, w } => s[dst as usize] = s[a as usize] & mask(w),
                Step::Bv2Nat { dst, a, w } => {
                    let x = s[a as usize];
                    if w >= 128 && x >> 127 == 1 {
                        return Err(overflow());
                    }
                    s[dst as usize] = x;
                }
                Step::Eq { dst, a, b } => {
                    s[dst as usize] = u128::from(s[a as usize] == s[b as usize])
                }
                Step::All { dst, ref args } => {
                    s[dst as usize] = u128::from(args.iter().all(|&x| s[x as usize] != 0));
                }
                Step::Any { dst, ref args } => {
                    s[dst as usize] = u128::from(args.iter().any(|&x| s[x as usize] != 0));
                }
                Step::Not { dst, a } => s[dst as usize] = u128::from(s[a as usize] == 0),
                Step::Imp { dst, a, b } => {
                    s[dst as usize] = u128::from(s[a as usize] == 0 || s[b as usize] != 0);
                }
                Step::Select { dst, c, a, b } => {
                    s[dst as usize] = if s[c as usize] != 0 {
                        s[a as usize]
                    } else {
                        s[b as usize]
                    };
                }
            }
        }
        Ok(())
    }

    /// Output `k`'s first word after a run (a Bool, a bitvector).
    pub fn word(&self, slots: &[u128], k: usize) -> u128 {
        slots[self.outputs[k].slots[0] as usize]
    }

    /// Output `k`'s value after a run.
    pub fn value(&self, slots: &[u128], k: usize) -> Value {
        let p = &self.outputs[k];
        let words: Vec<u128> = p.slots.iter().map(|&s| slots[s as usize]).collect();
        p.shape.value(&words)
    }
}
