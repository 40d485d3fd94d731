//! CLIF value types: integers are supported, every other type makes its
//! function unsupported.

use std::fmt;

/// A CLIF type as the checker sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `i8`, `i16`, `i32`, `i64` or `i128`: the width in bits.
    Int(u32),
    /// A type CLIF has but this subset does not (floats, vectors); the name.
    Unsupported(String),
}

/// What a type name denotes.
pub enum Parsed {
    /// A type.
    Type(Type),
    /// Not a CLIF type at all.
    Unknown,
}

impl Type {
    /// Reads a type name.
    pub fn parse(name: &str) -> Parsed {
        match name {
            "i8" => Parsed::Type(Type::Int(8)),
            "i16" => Parsed::Type(Type::Int(16)),
            "i32" => Parsed::Type(Type::Int(32)),
            "i64" => Parsed::Type(Type::Int(64)),
            "i128" => Parsed::Type(Type::Int(128)),
            _ if is_scalar_float(name) || is_vector(name) => {
                Parsed::Type(Type::Unsupported(name.to_string()))
            }
            _ => Parsed::Unknown,
        }
    }

    /// The width of an integer type.
    pub fn int_width(&self) -> Option<u32> {
        match self {
            Type::Int(w) => Some(*w),
            Type::Unsupported(_) => None,
        }
    }

    /// Why a function with this type is not run, for unsupported types.
    pub fn unsupported_reason(&self) -> Option<String> {
        match self {
            Type::Int(_) => None,
            Type::Unsupported(name) if is_scalar_float(name) => {
                Some(format!("floating-point type `{name}`"))
            }
            Type::Unsupported(name) => Some(format!("vector type `{name}`")),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int(w) => write!(f, "i{w}"),
            Type::Unsupported(name) => f.write_str(name),
        }
    }
}

fn is_scalar_float(name: &str) -> bool {
    matches!(name, "f16" | "f32" | "f64" | "f128")
}

/// `i32x4`, `f64x2`: a lane type and a power-of-two lane count.
fn is_vector(name: &str) -> bool {
    let Some((lane, count)) = name.split_once('x') else {
        return false;
    };
    let lane_ok = matches!(
        lane,
        "i8" | "i16" | "i32" | "i64" | "i128" | "f16" | "f32" | "f64" | "f128"
    );
    lane_ok
        && count
            .parse::<u32>()
            .is_ok_and(|n| n >= 2 && n.is_power_of_two())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(matches!(Type::parse("i16"), Parsed::Type(Type::Int(16))));
        assert!(matches!(
            Type::parse("f32"),
            Parsed::Type(Type::Unsupported(_))
        ));
        assert!(matches!(
            Type::parse("i32x4"),
            Parsed::Type(Type::Unsupported(_))
        ));
        assert!(matches!(Type::parse("i7"), Parsed::Unknown));
        assert!(matches!(Type::parse("i32x3"), Parsed::Unknown));
        assert_eq!(Type::Int(128).to_string(), "i128");
    }
}
