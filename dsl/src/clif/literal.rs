//! Integer literals of CLIF text: decimal or `0x` hexadecimal, `_` between
//! digits, an optional `-`; and their bits at a given width.

use loweq_semantics::value::BitVec;

/// An integer literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntLiteral {
    /// Written with a `-`.
    pub negative: bool,
    /// The absolute value.
    pub magnitude: u128,
}

/// Why a literal is not an integer of the wanted type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiteralError {
    /// Not an integer literal at all (a float, `NaN`, a word).
    NotInteger,
    /// An integer that does not fit the type, signed or unsigned.
    OutOfRange,
}

impl IntLiteral {
    /// Reads `text`; `None` if it is not an integer literal or does not fit
    /// in 128 bits.
    pub fn parse(text: &str) -> Option<IntLiteral> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (radix, digits) = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            Some(d) => (16, d),
            None => (10, rest),
        };
        if digits.is_empty() || digits.starts_with('_') {
            return None;
        }
        let mut magnitude: u128 = 0;
        for c in digits.chars() {
            if c == '_' {
                continue;
            }
            let d = c.to_digit(radix)?;
            magnitude = magnitude
                .checked_mul(u128::from(radix))?
                .checked_add(u128::from(d))?;
        }
        Some(IntLiteral {
            negative,
            magnitude,
        })
    }

    /// The literal as a `width`-bit value, if it fits as a signed or an
    /// unsigned number (so `255` and `-1` are both the i8 `0xff`).
    pub fn bits(&self, width: u32) -> Option<BitVec> {
        if width == 0 || width > 128 {
            return None;
        }
        if self.negative {
            // Down to -2^(width-1).
            let limit = 1u128 << (width - 1);
            (self.magnitude <= limit)
                .then(|| BitVec::from_u128(width, self.magnitude.wrapping_neg()))
        } else {
            let fits = width == 128 || self.magnitude >> width == 0;
            fits.then(|| BitVec::from_u128(width, self.magnitude))
        }
    }
}

/// The bits of the literal `text` at `width`.
pub fn int_bits(text: &str, width: u32) -> Result<BitVec, LiteralError> {
    IntLiteral::parse(text)
        .ok_or(LiteralError::NotInteger)?
        .bits(width)
        .ok_or(LiteralError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str, width: u32) -> Option<u128> {
        int_bits(text, width).ok().and_then(|b| b.to_u128())
    }

    #[test]
    fn reads_and_fits() {
        assert_eq!(hex("0x7FFFFFFF_FFFFFFFF", 64), Some(0x7fff_ffff_ffff_ffff));
        assert_eq!(hex("-1", 8), Some(0xff));
        assert_eq!(hex("255", 8), Some(0xff));
        assert_eq!(hex("-128", 8), Some(0x80));
        assert_eq!(hex("-129", 8), None);
        assert_eq!(hex("256", 8), None);
        assert_eq!(hex("-0x80", 8), Some(0x80));
        assert_eq!(hex("18446744073709551615", 64), Some(u64::MAX.into()));
        assert_eq!(hex("-1", 128), Some(u128::MAX));
        assert_eq!(int_bits("0x1.0", 32), Err(LiteralError::NotInteger));
        assert_eq!(int_bits("NaN", 32), Err(LiteralError::NotInteger));
        assert_eq!(int_bits("0x", 32), Err(LiteralError::NotInteger));
        assert!(IntLiteral::parse("1_000").is_some());
        assert!(IntLiteral::parse("340282366920938463463374607431768211456").is_none());
    }
}
