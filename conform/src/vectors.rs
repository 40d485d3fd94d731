//! Test vectors: operand values for one job, deterministic in the seed.
//!
//! Register operands take edge values at the width the code reads them
//! (0, 1, 2, -1, -2, the signed minimum and maximum and their neighbours,
//! single bits and low masks, the boundaries of every narrower width, and
//! the shift counts around the width and its multiples), with junk in the
//! bits above that width: first every edge value of every operand in an
//! interleaved product (so that even a short run sees each edge value of
//! each operand, with different partners), then random values with edge
//! values mixed in. The destination's old value, when the destination
//! holds no operand, is junk too. The flags going in cycle through every
//! combination of the four condition flags. Immediates come from a pool
//! of edge and random values that satisfy the spec's `require` (the code
//! is assembled once per pool entry), and the pool is cycled.

use loweq_semantics::ty::ModelType;
use loweq_semantics::value::{BitVec, Value};

/// SplitMix64: a small, fast generator whose sequence is fixed forever,
/// so a seed names the same vectors in every version of loweq.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`, specialized by `salt` (a job's name).
    pub fn new(seed: u64, salt: &str) -> Rng {
        // FNV-1a of the salt: stable, unlike std's hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in salt.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Rng(seed ^ h)
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n as u64) as usize
    }
}

fn mask(w: u32) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1u64 << w) - 1
    }
}

/// Edge values of a `w`-bit operand (at most 64 bits), distinct, in the
/// low `w` bits.
pub fn edges(w: u32) -> Vec<u64> {
    let m = mask(w);
    let min = 1u64 << (w - 1);
    let mut v = vec![
        0,
        1,
        2,
        m,
        m - 1,
        min,
        min - 1,
        min + 1,
        min.wrapping_sub(2),
        0x5555_5555_5555_5555,
        0xaaaa_aaaa_aaaa_aaaa,
    ];
    // Shift counts at, around and past the width, and the byte boundary
    // that x86 masks counts within.
    for c in [
        w - 1,
        w,
        w + 1,
        2 * w - 1,
        2 * w,
        7,
        8,
        9,
        31,
        32,
        33,
        63,
        64,
        65,
        255,
        256,
    ] {
        v.push(u64::from(c));
    }
    for k in [8u32, 16, 32] {
        if k < 64 {
            let b = 1u64 << k;
            v.extend([b - 1, b, b + 1, (b >> 1) - 1, b >> 1]);
        }
    }
    for k in 0..w.min(64) {
        v.push(1u64 << k);
        v.push(mask(k + 1));
    }
    let mut out = Vec::new();
    for x in v {
        let x = x & m;
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Junk for the bits above `w`: none, all ones, or random.
fn junk(rng: &mut Rng, w: u32, i: usize) -> u64 {
    if w >= 64 {
        return 0;
    }
    let j = match i % 4 {
        0 => 0,
        1 => u64::MAX,
        _ => rng.bits(),
    };
    j & !mask(w)
}

/// One register operand to generate: the width the code reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegSpec {
    /// The width read; bits above it are junk.
    pub width: u32,
}

/// The register values of `n` vectors: `regs[i][k]` for operand `k`.
pub fn registers(specs: &[RegSpec], n: usize, rng: &mut Rng) -> Vec<Vec<u64>> {
    let lists: Vec<Vec<u64>> = specs.iter().map(|s| edges(s.width)).collect();
    let product: usize = lists.iter().map(Vec::len).product();
    let edge_part = product
        .min(n / 2)
        .max(n.min(lists.iter().map(Vec::len).max().unwrap_or(0)));
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row = if i < edge_part {
            // Mixed-radix digits of i; operand k takes the sum of the digits
            // up to its own, so every operand runs through all its values
            // within the first pass of the first operand.
            let mut row = Vec::with_capacity(specs.len());
            let mut rest = i;
            let mut sum = 0;
            for (k, list) in lists.iter().enumerate() {
                sum += rest % list.len();
                rest /= list.len();
                let x = list[sum % list.len()];
                row.push(x | junk(rng, specs[k].width, i + k));
            }
            row
        } else {
            random_row(specs, &lists, i, rng)
        };
        out.push(row);
    }
    out
}

/// `n` more rows of register values after the `start` drawn by
/// [`registers`], all random (the edges came first there): for when the
/// spec's require excludes some of those.
pub fn more_registers(specs: &[RegSpec], start: usize, n: usize, rng: &mut Rng) -> Vec<Vec<u64>> {
    let lists: Vec<Vec<u64>> = specs.iter().map(|s| edges(s.width)).collect();
    (start..start + n)
        .map(|i| random_row(specs, &lists, i, rng))
        .collect()
}

/// A random row: per operand an edge value, a small value (a shift count
/// at or past the width), each with junk above its width, or any value.
fn random_row(specs: &[RegSpec], lists: &[Vec<u64>], i: usize, rng: &mut Rng) -> Vec<u64> {
    let mut row = Vec::with_capacity(specs.len());
    for (k, list) in lists.iter().enumerate() {
        let w = specs[k].width;
        let x = match rng.below(4) {
            0 => list[rng.below(list.len())] | junk(rng, w, i + k),
            1 => (rng.bits() % (4 * u64::from(w))) | junk(rng, w, i + k),
            _ => rng.bits(),
        };
        row.push(x);
    }
    row
}

/// The memory window's bytes before vector `i` runs: random bytes, and
/// now and then all zero, all ones, or every byte with only its sign bit
/// or all but its sign bit (so that extensions see both signs).
pub fn memory(i: usize, rng: &mut Rng) -> Vec<u8> {
    let fill = match i % 16 {
        3 => Some(0x00),
        5 => Some(0xff),
        7 => Some(0x80),
        11 => Some(0x7f),
        _ => None,
    };
    match fill {
        Some(b) => vec![b; loweq_machine::MEMORY_BYTES],
        None => (0..loweq_machine::MEMORY_BYTES.div_ceil(8))
            .flat_map(|_| rng.bits().to_le_bytes())
            .take(loweq_machine::MEMORY_BYTES)
            .collect(),
    }
}

/// Where in the memory window vector `i` places an access of `bytes`
/// bytes: an offset into the window. Mostly anywhere it fits (aligned or
/// not); one vector in eight flush against the window's end, and one in
/// eight running past it into the unmapped page by 1 to `bytes - 1`
/// bytes, so that a spec that says one byte more or less than the machine
/// accesses disagrees on whether it faults.
pub fn placement(i: usize, bytes: usize, rng: &mut Rng) -> usize {
    let last = loweq_machine::MEMORY_BYTES - bytes;
    match i % 8 {
        0 => last,
        1 if bytes > 1 => last + 1 + rng.below(bytes - 1),
        _ => rng.below(last + 1),
    }
}

/// Four condition flags (bits 0..3) for vector `i`: every combination in
/// each run of sixteen, in a shuffled order.
pub fn flag_bits(i: usize) -> u8 {
    ((i * 7 + i / 16) % 16) as u8
}

/// Candidate values of an immediate of model type `ty`: edge values first,
/// then random ones; `None` for types that are not immediates.
pub fn immediate_candidates(ty: &ModelType, n: usize, rng: &mut Rng) -> Option<Vec<Value>> {
    Some(match ty {
        ModelType::Bool => vec![Value::Bool(false), Value::Bool(true)],
        ModelType::BitVec(Some(w)) if *w <= 64 => {
            let mut vals: Vec<u64> = edges(*w);
            // Shifted masks (runs of ones anywhere) for logical immediates.
            for len in [1u32, 3, 8, 16, 31] {
                for at in [0u32, 1, 4, 12, 33, 60] {
                    if len + at <= *w {
                        vals.push(mask(len) << at);
                    }
                }
            }
            while vals.len() < n {
                vals.push(rng.bits() & mask(*w));
            }
            let mut out = Vec::new();
            for v in vals {
                let v = Value::Bv(BitVec::from_u128(*w, u128::from(v)));
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            out
        }
        ModelType::Struct(fields) => {
            let per: Vec<Vec<Value>> = fields
                .iter()
                .map(|(_, t)| immediate_candidates(t, n, rng))
                .collect::<Option<_>>()?;
            let count = per.iter().map(Vec::len).max().unwrap_or(0).max(n);
            let mut out = Vec::new();
            for i in 0..count {
                let mut fs: Vec<(String, Value)> = fields
                    .iter()
                    .zip(&per)
                    .enumerate()
                    .map(|(k, ((name, _), vals))| {
                        // Field k changes every (k+1)th step, so pairs mix.
                        let idx = (i / (k + 1) + i * k) % vals.len();
                        (name.clone(), vals[idx].clone())
                    })
                    .collect();
                fs.sort_by(|a, b| a.0.cmp(&b.0));
                let v = Value::Struct(fs);
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            out
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_include_boundaries_and_shift_counts() {
        let e = edges(8);
        for v in [0, 1, 0x7f, 0x80, 0xff, 7, 8, 9, 16, 0x81] {
            assert!(e.contains(&v), "{v:#x}");
        }
        assert!(e.iter().all(|&v| v <= 0xff));
        let e = edges(64);
        for v in [
            u64::MAX,
            1 << 63,
            (1 << 63) - 1,
            64,
            65,
            0xffff_ffff,
            1 << 32,
        ] {
            assert!(e.contains(&v), "{v:#x}");
        }
    }

    #[test]
    fn every_edge_of_every_operand_appears_early() {
        let specs = [RegSpec { width: 8 }, RegSpec { width: 8 }];
        let n = edges(8).len();
        let regs = registers(&specs, n, &mut Rng::new(1, "t"));
        for k in 0..2 {
            for e in edges(8) {
                assert!(
                    regs.iter().any(|r| r[k] & 0xff == e),
                    "operand {k} edge {e:#x}"
                );
            }
        }
        // Junk above the width shows up.
        assert!(regs.iter().any(|r| r[0] >> 8 != 0));
    }

    #[test]
    fn vectors_depend_on_seed_and_salt_only() {
        let specs = [RegSpec { width: 32 }];
        let a = registers(&specs, 500, &mut Rng::new(7, "x64_add Size32"));
        let b = registers(&specs, 500, &mut Rng::new(7, "x64_add Size32"));
        let c = registers(&specs, 500, &mut Rng::new(8, "x64_add Size32"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // SplitMix64's published first output for state 0.
        assert_eq!(Rng(0).bits(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn placements_fit_touch_and_cross_the_window_end() {
        let mut rng = Rng::new(0, "p");
        let n = loweq_machine::MEMORY_BYTES;
        for bytes in [1, 2, 4, 8] {
            let at: Vec<usize> = (0..64).map(|i| placement(i, bytes, &mut rng)).collect();
            assert!(at.iter().all(|&o| o < n));
            assert!(at.contains(&(n - bytes)), "flush at {bytes}");
            assert_eq!(at.iter().any(|&o| o + bytes > n), bytes > 1, "{bytes}");
            assert!(at.iter().any(|&o| o % bytes != 0) || bytes == 1);
        }
        let m = memory(0, &mut rng);
        assert_eq!(m.len(), n);
        assert_eq!(memory(7, &mut rng), vec![0x80; n]);
    }

    #[test]
    fn all_flag_combinations_in_sixteen() {
        let mut seen: Vec<u8> = (0..16).map(flag_bits).collect();
        seen.sort();
        assert_eq!(seen, (0..16).collect::<Vec<u8>>());
    }
}
