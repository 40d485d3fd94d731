//! Concrete values to and from z3: a model's value of an encoded term
//! read back, and a constant value encoded.

use loweq_semantics::value::{BitVec, Value};
use num_bigint::{BigInt, BigUint};
use z3::ast::{Bool, Int};

use super::{bv_const, Z};

/// Reads a z3 value back from a model.
pub fn read(model: &z3::Model, z: &Z) -> Option<Value> {
    Some(match z {
        Z::Bool(b) => Value::Bool(model.eval(b, true)?.as_bool()?),
        Z::Int(i) => Value::Int(parse_int(&model.eval(i, true)?.to_string())?),
        Z::Bv(b) => {
            let v = model.eval(b, true)?;
            Value::Bv(BitVec::new(b.get_size(), parse_bv(&v.to_string())?))
        }
        Z::Unit => Value::Unit,
        Z::Struct(fields) => Value::Struct(
            fields
                .iter()
                .map(|(n, f)| Some((n.clone(), read(model, f)?)))
                .collect::<Option<_>>()?,
        ),
        Z::Enum { id, disc, fields } => {
            let d = model.eval(disc, true)?;
            let variant: usize = parse_bv(&d.to_string())?.try_into().ok()?;
            let fs = fields
                .get(variant)?
                .iter()
                .map(|f| read(model, f))
                .collect::<Option<Vec<_>>>()?;
            Value::Enum {
                enum_id: *id,
                variant,
                fields: fs,
            }
        }
    })
}

/// Encodes a concrete value of a primitive or struct type (enums need their
/// definitions and are not supported here).
pub fn value(v: &Value) -> Option<Z> {
    Some(match v {
        Value::Bool(b) => Z::Bool(Bool::from_bool(*b)),
        Value::Int(i) => Z::Int(i.to_string().parse().ok()?),
        Value::Opaque(k) => Z::Int(Int::from_u64(*k)),
        Value::Bv(b) => Z::Bv(bv_const(b)),
        Value::Unit => Z::Unit,
        Value::Struct(fields) => Z::Struct(
            fields
                .iter()
                .map(|(n, f)| Some((n.clone(), value(f)?)))
                .collect::<Option<_>>()?,
        ),
        Value::Enum { .. } => return None,
    })
}

fn parse_bv(s: &str) -> Option<BigUint> {
    if let Some(h) = s.strip_prefix("#x") {
        BigUint::parse_bytes(h.as_bytes(), 16)
    } else if let Some(b) = s.strip_prefix("#b") {
        BigUint::parse_bytes(b.as_bytes(), 2)
    } else {
        BigUint::parse_bytes(s.as_bytes(), 10)
    }
}

fn parse_int(s: &str) -> Option<BigInt> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("(-").and_then(|r| r.strip_suffix(')')) {
        return Some(-BigInt::parse_bytes(inner.trim().as_bytes(), 10)?);
    }
    BigInt::parse_bytes(s.as_bytes(), 10)
}
