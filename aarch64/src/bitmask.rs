//! Logical (bitmask) immediates of AND, ORR, EOR and ANDS (immediate).
//!
//! An immediate is three fields, `N:immr:imms` (13 bits), which the Arm
//! ARM's `DecodeBitMasks` (J1 shared pseudocode,
//! `aarch64/instrs/integer/bitmasks`) turns into a value: an element of
//! `esize` bits (2, 4, ..., 64) holding a run of `S + 1` ones rotated right
//! by `R`, replicated to the operand size. There are 5,334 distinct 64-bit
//! values (`esize * (esize - 1)` per element size), and 1,302 for 32-bit
//! operations.
//!
//! [`decode_bit_masks`] transcribes the pseudocode; [`encode`] inverts it;
//! [`imm_logic_from_imm64`] is what the `imm_logic_from_imm64` helper of
//! the rules computes (`semantics/spec/aarch64/logical.isle`).

/// The fields of a bitmask immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitmaskEncoding {
    /// `N`: 1 for a 64-bit element.
    pub n: bool,
    /// `immr`: the rotation, 6 bits.
    pub immr: u8,
    /// `imms`: the element size (its high bits) and the run length minus
    /// one (its low bits), 6 bits.
    pub imms: u8,
}

fn ones(k: u32) -> u64 {
    if k >= 64 {
        u64::MAX
    } else {
        (1u64 << k) - 1
    }
}

/// Rotates the low `esize` bits of `x` right by `r`.
fn ror(x: u64, r: u32, esize: u32) -> u64 {
    let r = r % esize;
    if r == 0 {
        return x;
    }
    ((x >> r) | (x << (esize - r))) & ones(esize)
}

/// Replicates the low `esize` bits of `x` to `datasize` bits.
fn replicate(x: u64, esize: u32, datasize: u32) -> u64 {
    let mut out = 0u64;
    let mut at = 0;
    while at < datasize {
        out |= x << at;
        at += esize;
    }
    out & ones(datasize)
}

/// `DecodeBitMasks(immN, imms, immr, TRUE)` for an operation of
/// `datasize` bits (32 or 64), returning `wmask`, the immediate; `None`
/// where the pseudocode says UNDEFINED (a reserved encoding), and for
/// `N = 1` with 32-bit operations (which the instruction pages reserve).
///
/// Written from the pseudocode step by step: `len` is the highest set bit
/// of `immN:NOT(imms)`, the element is `2^len` bits, `S` and `R` are the
/// low `len` bits of `imms` and `immr`, an all-ones `S` is reserved.
pub fn decode_bit_masks(n: bool, imms: u8, immr: u8, datasize: u32) -> Option<u64> {
    if datasize != 32 && datasize != 64 {
        return None;
    }
    if n && datasize == 32 {
        return None;
    }
    let imms = u32::from(imms) & 0x3f;
    let immr = u32::from(immr) & 0x3f;
    // immN:NOT(imms), 7 bits.
    let combined = (u32::from(n) << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 {
        return None;
    }
    let esize = 1u32 << len;
    if esize > datasize {
        return None;
    }
    let levels = ones(len) as u32;
    if imms & levels == levels {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let welem = ones(s + 1);
    Some(replicate(ror(welem, r, esize), esize, datasize))
}

/// The canonical encoding of `value` as a bitmask immediate of a
/// `datasize`-bit operation (32 or 64), if it has one: the smallest
/// element size that repeats, `immr` below the element size. For 32-bit
/// operations only the low 32 bits of `value` count.
pub fn encode(value: u64, datasize: u32) -> Option<BitmaskEncoding> {
    let v = match datasize {
        32 => replicate(value & ones(32), 32, 64),
        64 => value,
        _ => return None,
    };
    if v == 0 || v == u64::MAX {
        return None;
    }
    // The smallest element size that the value repeats with.
    let mut esize = 64;
    while esize > 2 {
        let half = esize / 2;
        if v.rotate_right(half) != v {
            break;
        }
        esize = half;
    }
    let elem = v & ones(esize);
    // A rotated run of ones: exactly one place where a one follows a zero
    // (reading upwards, cyclically).
    let mut starts = 0;
    let mut start = 0;
    for i in 0..esize {
        let bit = (elem >> i) & 1;
        let below = (elem >> ((i + esize - 1) % esize)) & 1;
        if bit == 1 && below == 0 {
            starts += 1;
            start = i;
        }
    }
    if starts != 1 {
        return None;
    }
    let run = elem.count_ones();
    // ROR(Ones(run), R) puts the run's lowest bit at `esize - R`.
    let r = (esize - start) % esize;
    let imms = ((!(2 * esize - 1)) & 0x3f) | (run - 1);
    Some(BitmaskEncoding {
        n: esize == 64,
        immr: r as u8,
        imms: imms as u8,
    })
}

/// What the rules' `imm_logic_from_imm64 ty k` computes: the immediate a
/// logical instruction of type `ty` (8, 16, 32 or 64 bits) uses for the
/// constant `k` (zero-extended from `ty` bits, as `iconst` holds it), as
/// the 64-bit value the instruction's spec reads: for types of 32 bits or
/// fewer, the low `ty` bits of `k` replicated to 32 bits (a W operation,
/// whose result is right in its low `ty` bits), else `k`. `None` when that
/// value is not an encodable bitmask immediate.
pub fn imm_logic_from_imm64(ty: u32, k: u64) -> Option<u64> {
    let (value, datasize) = match ty {
        8 | 16 => (replicate(k & ones(ty), ty, 32), 32),
        32 => (k & ones(32), 32),
        64 => (k, 64),
        _ => return None,
    };
    encode(value, datasize).map(|_| value)
}
