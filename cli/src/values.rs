//! How concrete values are written for people: hex with the unsigned and
//! signed readings, registers grouped by four digits, enums by name.

use loweq_semantics::ty::Enums;
use loweq_semantics::value::{BitVec, Value};

/// A bitvector in hex (grouped by four digits above 16 bits), zero-padded
/// to its width.
pub fn hex(b: &BitVec) -> String {
    if b.width() > 16 {
        return b.hex_grouped();
    }
    let digits = b.width().div_ceil(4) as usize;
    format!("0x{:0>digits$}", b.unsigned().to_str_radix(16))
}

/// A bitvector with its decimal readings: `0x80 (128, -128)`, `0x05 (5)`.
pub fn with_readings(b: &BitVec) -> String {
    let u = b.unsigned().to_string();
    let s = b.signed().to_string();
    if u == s {
        format!("{} ({u})", hex(b))
    } else {
        format!("{} ({u}, {s})", hex(b))
    }
}

/// Any value; bitvectors in hex, with decimal readings when `readings`.
pub fn show(v: &Value, enums: &Enums, readings: bool) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bv(b) if readings => with_readings(b),
        Value::Bv(b) => hex(b),
        Value::Unit => "()".into(),
        Value::Opaque(k) => format!("<opaque {k}>"),
        Value::Struct(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(n, f)| format!("{n}: {}", show(f, enums, readings)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Enum {
            enum_id,
            variant,
            fields,
        } => {
            let def = enums.get(*enum_id);
            let name = format!("{}.{}", def.name, def.variants[*variant].name);
            if fields.is_empty() {
                name
            } else {
                let parts: Vec<String> = fields.iter().map(|f| show(f, enums, readings)).collect();
                format!("{name}({})", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings() {
        assert_eq!(
            with_readings(&BitVec::from_u128(8, 0x80)),
            "0x80 (128, -128)"
        );
        assert_eq!(with_readings(&BitVec::from_u128(8, 5)), "0x05 (5)");
        assert_eq!(hex(&BitVec::from_u128(64, 0x180)), "0x0000_0000_0000_0180");
    }
}
