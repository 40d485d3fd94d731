//! The bitmask-immediate encoder against `DecodeBitMasks`, exhaustively.

use std::collections::{HashMap, HashSet};

use loweq_aarch64::bitmask::{decode_bit_masks, encode, imm_logic_from_imm64, BitmaskEncoding};
use proptest::prelude::*;

/// Every field combination `N:immr:imms` and what it decodes to.
fn all_decodings(datasize: u32) -> Vec<(BitmaskEncoding, u64)> {
    let mut out = Vec::new();
    for n in [false, true] {
        for immr in 0..64u8 {
            for imms in 0..64u8 {
                if let Some(v) = decode_bit_masks(n, imms, immr, datasize) {
                    out.push((BitmaskEncoding { n, immr, imms }, v));
                }
            }
        }
    }
    out
}

fn esize_of(e: BitmaskEncoding) -> u32 {
    let combined = (u32::from(e.n) << 6) | (!u32::from(e.imms) & 0x3f);
    1 << (31 - combined.leading_zeros())
}

#[test]
fn there_are_5334_64_bit_and_1302_32_bit_immediates() {
    let values64: HashSet<u64> = all_decodings(64).into_iter().map(|(_, v)| v).collect();
    assert_eq!(values64.len(), 5334);
    let values32: HashSet<u64> = all_decodings(32).into_iter().map(|(_, v)| v).collect();
    assert_eq!(values32.len(), 1302);
    // The canonical encodings (rotation below the element size) are one
    // per value.
    let canonical: Vec<_> = all_decodings(64)
        .into_iter()
        .filter(|(e, _)| u32::from(e.immr) < esize_of(*e))
        .collect();
    assert_eq!(canonical.len(), 5334);
}

#[test]
fn every_encoding_round_trips_through_the_encoder() {
    for datasize in [32, 64] {
        let mut canonical: HashMap<u64, BitmaskEncoding> = HashMap::new();
        for (e, v) in all_decodings(datasize) {
            let enc = encode(v, datasize)
                .unwrap_or_else(|| panic!("{v:#x} ({e:?}) decodes but does not encode"));
            // The encoder's answer decodes to the same value ...
            assert_eq!(
                decode_bit_masks(enc.n, enc.imms, enc.immr, datasize),
                Some(v),
                "{v:#x}: {enc:?}"
            );
            // ... and is the canonical encoding.
            assert!(u32::from(enc.immr) < esize_of(enc), "{enc:?}");
            if u32::from(e.immr) < esize_of(e) {
                assert_eq!(enc, e, "{v:#x}");
                assert!(canonical.insert(v, e).is_none());
            }
        }
    }
}

/// Every value whose 16-bit pattern repeats (all 65,536 of them, and their
/// 8-bit and 32-bit relatives) is encodable exactly when it decodes from
/// some encoding.
#[test]
fn the_encoder_accepts_exactly_the_decoded_values() {
    let values64: HashSet<u64> = all_decodings(64).into_iter().map(|(_, v)| v).collect();
    let values32: HashSet<u64> = all_decodings(32).into_iter().map(|(_, v)| v).collect();
    let mut candidates: Vec<u64> = Vec::new();
    for p in 0..=u16::MAX {
        let p = u64::from(p);
        candidates.push(p * 0x0001_0001_0001_0001);
        candidates.push(p);
        candidates.push(p << 48);
        candidates.push(p.rotate_right(7) | (p << 20));
    }
    for &v in values64.iter() {
        for bit in 0..64 {
            candidates.push(v ^ (1 << bit));
        }
    }
    for v in candidates {
        assert_eq!(encode(v, 64).is_some(), values64.contains(&v), "{v:#x}");
        let w = v & 0xffff_ffff;
        assert_eq!(
            encode(w, 32).is_some(),
            values32.contains(&w),
            "{w:#x} (32-bit)"
        );
    }
}

#[test]
fn reserved_encodings_are_rejected() {
    // An all-ones run is reserved at every element size.
    assert_eq!(decode_bit_masks(true, 0b111111, 0, 64), None);
    assert_eq!(decode_bit_masks(false, 0b011111, 0, 32), None);
    assert_eq!(decode_bit_masks(false, 0b111101, 0, 64), None);
    // N = 1 is a 64-bit element: reserved for 32-bit operations.
    assert_eq!(decode_bit_masks(true, 0, 0, 32), None);
    // immN:NOT(imms) with no bit above bit 0 has no element size.
    assert_eq!(decode_bit_masks(false, 0b111110, 0, 64), None);
    assert_eq!(decode_bit_masks(false, 0b111111, 0, 64), None);
    assert_eq!(encode(0, 64), None);
    assert_eq!(encode(u64::MAX, 64), None);
    assert_eq!(encode(0xffff_ffff, 32), None);
}

#[test]
fn some_immediates_by_hand() {
    // Values the assembler also accepts.
    assert_eq!(decode_bit_masks(true, 0, 0, 64), Some(1));
    assert_eq!(decode_bit_masks(false, 0b000111, 0, 32), Some(0xff));
    assert_eq!(
        decode_bit_masks(false, 0b111100, 0, 64),
        Some(0x5555_5555_5555_5555)
    );
    assert_eq!(
        decode_bit_masks(true, 0, 1, 64),
        Some(0x8000_0000_0000_0000)
    );
    assert_eq!(imm_logic_from_imm64(8, 0x81), Some(0x8181_8181));
    assert_eq!(imm_logic_from_imm64(16, 0x00f0), Some(0x00f0_00f0));
    assert_eq!(imm_logic_from_imm64(32, 0xffff_fffe), Some(0xffff_fffe));
    assert_eq!(imm_logic_from_imm64(64, 0x1234), None);
    assert_eq!(imm_logic_from_imm64(8, 0xff), None);
}

proptest! {
    /// Random values: encodable exactly when some encoding decodes to them.
    #[test]
    fn random_values_encode_iff_they_decode(v: u64) {
        match encode(v, 64) {
            Some(e) => prop_assert_eq!(decode_bit_masks(e.n, e.imms, e.immr, 64), Some(v)),
            None => {
                let any = all_decodings_cached().contains(&v);
                prop_assert!(!any, "{:#x} decodes but was not encoded", v);
            }
        }
    }
}

fn all_decodings_cached() -> &'static HashSet<u64> {
    use std::sync::OnceLock;
    static SET: OnceLock<HashSet<u64>> = OnceLock::new();
    SET.get_or_init(|| all_decodings(64).into_iter().map(|(_, v)| v).collect())
}
