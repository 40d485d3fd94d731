//! Concrete values: what the evaluator computes and counterexamples show.

use std::fmt;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, ToPrimitive, Zero};

use crate::ty::EnumId;

/// A bitvector of any positive width.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BitVec {
    width: u32,
    bits: BigUint,
}

impl BitVec {
    /// `value` modulo 2^`width`.
    pub fn new(width: u32, value: BigUint) -> BitVec {
        let bits = value & Self::mask(width);
        BitVec { width, bits }
    }

    /// `value` modulo 2^`width`.
    pub fn from_u128(width: u32, value: u128) -> BitVec {
        BitVec::new(width, BigUint::from(value))
    }

    /// The two's complement encoding of `value` in `width` bits.
    pub fn from_int(width: u32, value: &BigInt) -> BitVec {
        let modulus = BigInt::one() << width;
        let v = ((value % &modulus) + &modulus) % &modulus;
        BitVec::new(width, v.to_biguint().unwrap_or_default())
    }

    /// All zeros.
    pub fn zero(width: u32) -> BitVec {
        BitVec::new(width, BigUint::zero())
    }

    /// All ones.
    pub fn ones(width: u32) -> BitVec {
        BitVec::new(width, Self::mask(width))
    }

    fn mask(width: u32) -> BigUint {
        (BigUint::one() << width) - BigUint::one()
    }

    /// The width in bits.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The unsigned value.
    pub fn unsigned(&self) -> &BigUint {
        &self.bits
    }

    /// The unsigned value, if it fits in 128 bits.
    pub fn to_u128(&self) -> Option<u128> {
        self.bits.to_u128()
    }

    /// The two's complement (signed) value.
    pub fn signed(&self) -> BigInt {
        let u = BigInt::from_biguint(Sign::Plus, self.bits.clone());
        if self.bit(self.width - 1) {
            u - (BigInt::one() << self.width)
        } else {
            u
        }
    }

    /// Bit `i` (0 is the least significant).
    pub fn bit(&self, i: u32) -> bool {
        self.bits.bit(u64::from(i))
    }

    /// Whether every bit is zero.
    pub fn is_zero(&self) -> bool {
        self.bits.is_zero()
    }

    /// Bits `hi..=lo`.
    pub fn extract(&self, hi: u32, lo: u32) -> BitVec {
        BitVec::new(hi - lo + 1, &self.bits >> lo)
    }

    /// Zero-extension (or truncation) to `width` bits.
    pub fn zext(&self, width: u32) -> BitVec {
        BitVec::new(width, self.bits.clone())
    }

    /// Sign-extension (or truncation) to `width` bits.
    pub fn sext(&self, width: u32) -> BitVec {
        BitVec::from_int(width, &self.signed())
    }

    /// `self` in the high bits, `low` in the low bits.
    pub fn concat(&self, low: &BitVec) -> BitVec {
        BitVec::new(
            self.width + low.width,
            (&self.bits << low.width) | &low.bits,
        )
    }

    /// Unsigned value as `u32`, saturating (for shift amounts).
    fn amount(&self) -> u32 {
        self.bits.to_u32().unwrap_or(u32::MAX)
    }

    /// Bitwise not.
    pub fn not(&self) -> BitVec {
        BitVec::new(self.width, &self.bits ^ Self::mask(self.width))
    }

    /// Modular negation.
    pub fn neg(&self) -> BitVec {
        self.not().add(&BitVec::from_u128(self.width, 1))
    }

    /// Bitwise and.
    pub fn and(&self, o: &BitVec) -> BitVec {
        BitVec::new(self.width, &self.bits & &o.bits)
    }

    /// Bitwise or.
    pub fn or(&self, o: &BitVec) -> BitVec {
        BitVec::new(self.width, &self.bits | &o.bits)
    }

    /// Bitwise exclusive or.
    pub fn xor(&self, o: &BitVec) -> BitVec {
        BitVec::new(self.width, &self.bits ^ &o.bits)
    }

    /// Modular addition.
    pub fn add(&self, o: &BitVec) -> BitVec {
        BitVec::new(self.width, &self.bits + &o.bits)
    }

    /// Modular subtraction.
    pub fn sub(&self, o: &BitVec) -> BitVec {
        self.add(&o.neg())
    }

    /// Modular multiplication.
    pub fn mul(&self, o: &BitVec) -> BitVec {
        BitVec::new(self.width, &self.bits * &o.bits)
    }

    /// Unsigned division; division by zero gives all ones (SMT-LIB).
    pub fn udiv(&self, o: &BitVec) -> BitVec {
        if o.is_zero() {
            BitVec::ones(self.width)
        } else {
            BitVec::new(self.width, &self.bits / &o.bits)
        }
    }

    /// Unsigned remainder; by zero gives the dividend (SMT-LIB).
    pub fn urem(&self, o: &BitVec) -> BitVec {
        if o.is_zero() {
            self.clone()
        } else {
            BitVec::new(self.width, &self.bits % &o.bits)
        }
    }

    /// Signed division, truncating; by zero gives 1 for a negative dividend
    /// and all ones otherwise (SMT-LIB's definition through `bvudiv`).
    pub fn sdiv(&self, o: &BitVec) -> BitVec {
        if o.is_zero() {
            return if self.signed().sign() == Sign::Minus {
                BitVec::from_u128(self.width, 1)
            } else {
                BitVec::ones(self.width)
            };
        }
        BitVec::from_int(self.width, &(self.signed() / o.signed()))
    }

    /// Signed remainder with the sign of the dividend; by zero gives the dividend.
    pub fn srem(&self, o: &BitVec) -> BitVec {
        if o.is_zero() {
            return self.clone();
        }
        BitVec::from_int(self.width, &(self.signed() % o.signed()))
    }

    /// Shift left; amounts of the width or more give zero.
    pub fn shl(&self, amount: &BitVec) -> BitVec {
        let a = amount.amount();
        if a >= self.width {
            BitVec::zero(self.width)
        } else {
            BitVec::new(self.width, &self.bits << a)
        }
    }

    /// Logical shift right.
    pub fn lshr(&self, amount: &BitVec) -> BitVec {
        let a = amount.amount();
        if a >= self.width {
            BitVec::zero(self.width)
        } else {
            BitVec::new(self.width, &self.bits >> a)
        }
    }

    /// Arithmetic shift right.
    pub fn ashr(&self, amount: &BitVec) -> BitVec {
        let a = amount.amount().min(self.width);
        BitVec::from_int(self.width, &(self.signed() >> a))
    }

    /// Rotate left by `amount` modulo the width.
    pub fn rotl(&self, amount: &BitVec) -> BitVec {
        let w = BigUint::from(self.width);
        let a = (amount.unsigned() % w).to_u32().unwrap_or(0);
        if a == 0 {
            return self.clone();
        }
        BitVec::new(
            self.width,
            (&self.bits << a) | (&self.bits >> (self.width - a)),
        )
    }

    /// Rotate right by `amount` modulo the width.
    pub fn rotr(&self, amount: &BitVec) -> BitVec {
        let w = BigUint::from(self.width);
        let a = (amount.unsigned() % w).to_u32().unwrap_or(0);
        let left = BitVec::from_u128(32, u128::from((self.width - a) % self.width));
        self.rotl(&left)
    }

    /// Number of set bits.
    pub fn popcnt(&self) -> BitVec {
        BitVec::from_u128(self.width, u128::from(self.bits.count_ones()))
    }

    /// Number of leading zero bits.
    pub fn clz(&self) -> BitVec {
        let n = (0..self.width).rev().take_while(|&i| !self.bit(i)).count();
        BitVec::from_u128(self.width, n as u128)
    }

    /// Number of bits after the sign bit that equal it.
    pub fn cls(&self) -> BitVec {
        let sign = self.bit(self.width - 1);
        let n = (0..self.width - 1)
            .rev()
            .take_while(|&i| self.bit(i) == sign)
            .count();
        BitVec::from_u128(self.width, n as u128)
    }

    /// Bit reversal.
    pub fn rev(&self) -> BitVec {
        let mut out = BigUint::zero();
        for i in 0..self.width {
            if self.bit(i) {
                out.set_bit(u64::from(self.width - 1 - i), true);
            }
        }
        BitVec::new(self.width, out)
    }

    /// Unsigned comparison.
    pub fn ult(&self, o: &BitVec) -> bool {
        self.bits < o.bits
    }

    /// Signed comparison.
    pub fn slt(&self, o: &BitVec) -> bool {
        self.signed() < o.signed()
    }

    /// Whether signed addition overflows.
    pub fn saddo(&self, o: &BitVec) -> bool {
        let sum = self.signed() + o.signed();
        BitVec::from_int(self.width, &sum).signed() != sum
    }

    /// Hex digits with `_` every four digits, zero-padded to the width
    /// (`0x0000_00c0`), the way counterexamples show register contents.
    pub fn hex_grouped(&self) -> String {
        let digits = self.width.div_ceil(4) as usize;
        let raw = format!("{:0>digits$}", self.bits.to_str_radix(16));
        let mut out = String::from("0x");
        for (i, c) in raw.chars().enumerate() {
            if i > 0 && (raw.len() - i) % 4 == 0 {
                out.push('_');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for BitVec {
    /// Zero-padded hex (`#x0f`) for widths that are multiples of four,
    /// binary (`#b101`) otherwise: the spec language's literal syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.width.is_multiple_of(4) {
            let digits = (self.width / 4) as usize;
            write!(f, "#x{:0>digits$}", self.bits.to_str_radix(16))
        } else {
            let digits = self.width as usize;
            write!(f, "#b{:0>digits$}", self.bits.to_str_radix(2))
        }
    }
}

/// A concrete value of any model type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(BigInt),
    /// A bitvector.
    Bv(BitVec),
    /// The unit value.
    Unit,
    /// A value of the unspecified type (only equality is defined).
    Opaque(u64),
    /// A struct: field values in the type's field order.
    Struct(Vec<(String, Value)>),
    /// An enum value: the variant index and its fields.
    Enum {
        /// The enum.
        enum_id: EnumId,
        /// The variant index.
        variant: usize,
        /// The variant's field values.
        fields: Vec<Value>,
    },
}

impl Value {
    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The bitvector, if this is one.
    pub fn as_bv(&self) -> Option<&BitVec> {
        match self {
            Value::Bv(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<&BigInt> {
        match self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bv(w: u32, v: u128) -> BitVec {
        BitVec::from_u128(w, v)
    }

    #[test]
    fn arithmetic_wraps() {
        assert_eq!(bv(8, 0xff).add(&bv(8, 2)), bv(8, 1));
        assert_eq!(bv(8, 1).sub(&bv(8, 2)), bv(8, 0xff));
        assert_eq!(bv(8, 0x80).signed(), BigInt::from(-128));
        assert_eq!(bv(8, 0x80).sdiv(&bv(8, 0xff)), bv(8, 0x80));
        assert_eq!(bv(8, 0x80).ashr(&bv(8, 9)), bv(8, 0xff));
        assert_eq!(bv(8, 0x81).rotl(&bv(8, 9)), bv(8, 0x03));
        assert_eq!(bv(8, 0x81).rotr(&bv(8, 1)), bv(8, 0xc0));
        assert_eq!(bv(8, 0).cls(), bv(8, 7));
        assert_eq!(bv(8, 0).clz(), bv(8, 8));
        assert_eq!(bv(8, 1).rev(), bv(8, 0x80));
        assert!(bv(8, 0x7f).saddo(&bv(8, 1)));
        assert_eq!(bv(32, 0xc0).hex_grouped(), "0x0000_00c0");
        assert_eq!(bv(8, 0xc0).to_string(), "#xc0");
        assert_eq!(bv(3, 5).to_string(), "#b101");
    }
}
