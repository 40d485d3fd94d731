//! The operators of the spec language, with the facts about each that the
//! front end, inference, the evaluator and the encoder share: the spelling,
//! how many arguments it takes, and the shape of its typing rule.

use std::fmt;

/// How an operator's arguments and result are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typing {
    /// `Bool... -> Bool`.
    Bool,
    /// `T T... -> Bool` with every argument of one type.
    Equal,
    /// `Int... -> Int`.
    IntArith,
    /// `Int Int -> Bool`.
    IntCompare,
    /// `(bv N)... -> (bv N)`.
    BvSame,
    /// `(bv N) (bv N) -> Bool`.
    BvCompare,
    /// `Int Int (bv N) -> (bv hi-lo+1)`: `(extract hi lo x)`, both indices static.
    Extract,
    /// `Int (bv M) -> (bv W)`: the first argument is the static target width.
    ToWidth,
    /// `Int Int -> (bv W)`: `(int2bv W x)`.
    IntToBv,
    /// `(bv N) -> Int`.
    BvToInt,
    /// `(bv A) (bv B)... -> (bv A+B+...)`.
    Concat,
    /// `(bv N) Int -> (bv N*k)`: `(replicate x k)`, `k` static.
    Replicate,
    /// `Bool T T -> T`.
    If,
}

/// Number of arguments an operator accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
    /// Between the two bounds, inclusive.
    Between(usize, usize),
}

impl Arity {
    /// Whether `n` arguments are accepted.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Between(a, b) => (a..=b).contains(&n),
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Exactly(k) => write!(f, "{k}"),
            Arity::AtLeast(k) => write!(f, "at least {k}"),
            Arity::Between(a, b) => write!(f, "{a} to {b}"),
        }
    }
}

macro_rules! ops {
    ($($(#[$doc:meta])* $name:ident = $spelling:literal, $arity:expr, $typing:ident;)*) => {
        /// A spec-language operator (structural forms such as `let`, `match`
        /// and `switch` are expression kinds, not operators).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Op {
            $($(#[$doc])* $name,)*
        }

        impl Op {
            /// Every operator, in declaration order.
            pub const ALL: &'static [Op] = &[$(Op::$name,)*];

            /// The operator's spelling in spec files.
            pub fn name(self) -> &'static str {
                match self { $(Op::$name => $spelling,)* }
            }

            /// How many arguments it takes.
            pub fn arity(self) -> Arity {
                match self { $(Op::$name => $arity,)* }
            }

            /// Its typing rule.
            pub fn typing(self) -> Typing {
                match self { $(Op::$name => Typing::$typing,)* }
            }

            /// How many arguments a node of the formula graph with this
            /// operator has: as written, except `conv_to`, whose node also
            /// has its padding (a graph built by hand may leave it out when
            /// the conversion does not widen).
            pub fn node_arity(self) -> Arity {
                match self {
                    Op::ConvTo => Arity::Between(2, 3),
                    other => other.arity(),
                }
            }

            /// The operator with the given spelling.
            pub fn from_name(name: &str) -> Option<Op> {
                match name { $($spelling => Some(Op::$name),)* _ => None }
            }
        }
    };
}

use Arity::{AtLeast, Between, Exactly};

ops! {
    /// Equality of two values of one type.
    Eq = "=", AtLeast(2), Equal;
    /// Conjunction; `(and)` is true.
    And = "and", AtLeast(0), Bool;
    /// Disjunction; `(or)` is false.
    Or = "or", AtLeast(0), Bool;
    /// Negation.
    Not = "not", Exactly(1), Bool;
    /// Implication.
    Imp = "=>", Exactly(2), Bool;
    /// Integer addition.
    Add = "+", AtLeast(1), IntArith;
    /// Integer subtraction, or negation with one argument.
    Sub = "-", Between(1, 2), IntArith;
    /// Integer multiplication.
    Mul = "*", AtLeast(1), IntArith;
    /// Integer less-than.
    Lt = "<", Exactly(2), IntCompare;
    /// Integer less-or-equal.
    Lte = "<=", Exactly(2), IntCompare;
    /// Integer greater-than.
    Gt = ">", Exactly(2), IntCompare;
    /// Integer greater-or-equal.
    Gte = ">=", Exactly(2), IntCompare;
    /// Bitwise not.
    BvNot = "bvnot", Exactly(1), BvSame;
    /// Two's complement negation.
    BvNeg = "bvneg", Exactly(1), BvSame;
    /// Bitwise and.
    BvAnd = "bvand", AtLeast(2), BvSame;
    /// Bitwise or.
    BvOr = "bvor", AtLeast(2), BvSame;
    /// Bitwise exclusive or.
    BvXor = "bvxor", AtLeast(2), BvSame;
    /// Modular addition.
    BvAdd = "bvadd", AtLeast(2), BvSame;
    /// Modular subtraction.
    BvSub = "bvsub", Exactly(2), BvSame;
    /// Modular multiplication.
    BvMul = "bvmul", AtLeast(2), BvSame;
    /// Unsigned division; by zero gives all ones (SMT-LIB).
    BvUdiv = "bvudiv", Exactly(2), BvSame;
    /// Unsigned remainder; by zero gives the dividend (SMT-LIB).
    BvUrem = "bvurem", Exactly(2), BvSame;
    /// Signed division truncating toward zero (SMT-LIB at zero).
    BvSdiv = "bvsdiv", Exactly(2), BvSame;
    /// Signed remainder with the sign of the dividend (SMT-LIB at zero).
    BvSrem = "bvsrem", Exactly(2), BvSame;
    /// Shift left; amounts of the width or more give zero.
    BvShl = "bvshl", Exactly(2), BvSame;
    /// Logical shift right; amounts of the width or more give zero.
    BvLshr = "bvlshr", Exactly(2), BvSame;
    /// Arithmetic shift right; amounts of the width or more give the sign.
    BvAshr = "bvashr", Exactly(2), BvSame;
    /// Unsigned less-or-equal.
    BvUle = "bvule", Exactly(2), BvCompare;
    /// Unsigned less-than.
    BvUlt = "bvult", Exactly(2), BvCompare;
    /// Unsigned greater-than.
    BvUgt = "bvugt", Exactly(2), BvCompare;
    /// Unsigned greater-or-equal.
    BvUge = "bvuge", Exactly(2), BvCompare;
    /// Signed less-than.
    BvSlt = "bvslt", Exactly(2), BvCompare;
    /// Signed less-or-equal.
    BvSle = "bvsle", Exactly(2), BvCompare;
    /// Signed greater-than.
    BvSgt = "bvsgt", Exactly(2), BvCompare;
    /// Signed greater-or-equal.
    BvSge = "bvsge", Exactly(2), BvCompare;
    /// Whether signed addition overflows.
    BvSaddo = "bvsaddo", Exactly(2), BvCompare;
    /// Rotate right by the second operand, modulo the width.
    Rotr = "rotr", Exactly(2), BvSame;
    /// Rotate left by the second operand, modulo the width.
    Rotl = "rotl", Exactly(2), BvSame;
    /// `(extract hi lo x)`: bits `hi..=lo` of `x`.
    Extract = "extract", Exactly(3), Extract;
    /// `(zero_ext W x)`: zero-extend `x` to `W` bits.
    ZeroExt = "zero_ext", Exactly(2), ToWidth;
    /// `(sign_ext W x)`: sign-extend `x` to `W` bits.
    SignExt = "sign_ext", Exactly(2), ToWidth;
    /// `(concat hi ... lo)`: the first argument is the most significant.
    Concat = "concat", AtLeast(2), Concat;
    /// `(replicate x k)`: `k` copies of `x`.
    Replicate = "replicate", Exactly(2), Replicate;
    /// Number of set bits, as a bitvector of the operand's width.
    Popcnt = "popcnt", Exactly(1), BvSame;
    /// Number of leading zeros, as a bitvector of the operand's width.
    Clz = "clz", Exactly(1), BvSame;
    /// Number of bits after the sign bit equal to it.
    Cls = "cls", Exactly(1), BvSame;
    /// Bit reversal.
    Rev = "rev", Exactly(1), BvSame;
    /// `(conv_to W x)`: `x` truncated to `W` bits, or, when `W` is wider,
    /// `x` in the low bits and fresh, unconstrained bits above (upstream's
    /// meaning). In a formula graph the node has a third argument, its
    /// padding: a variable of the result's width whose bits above `x`'s
    /// width are the fresh bits (see [`Op::node_arity`]).
    ConvTo = "conv_to", Exactly(2), ToWidth;
    /// `(int2bv W x)`: `x` modulo 2^W.
    Int2Bv = "int2bv", Exactly(2), IntToBv;
    /// The unsigned value of a bitvector.
    Bv2Nat = "bv2nat", Exactly(1), BvToInt;
    /// The width of a bitvector, as an integer.
    WidthOf = "widthof", Exactly(1), BvToInt;
    /// `(if c a b)`.
    If = "if", Exactly(3), If;
}

/// Spellings of floating-point operators: parsed, but not supported here.
pub const FLOAT_OPS: &[&str] = &[
    "fp.eq",
    "fp.ne",
    "fp.lt",
    "fp.gt",
    "fp.le",
    "fp.ge",
    "fp.+oo",
    "fp.-oo",
    "fp.+zero",
    "fp.-zero",
    "fp.NaN",
    "fp.add",
    "fp.sub",
    "fp.mul",
    "fp.div",
    "fp.min",
    "fp.max",
    "fp.neg",
    "fp.ceil",
    "fp.floor",
    "fp.sqrt",
    "fp.trunc",
    "fp.nearest",
    "fp.isZero",
    "fp.isInfinite",
    "fp.isNaN",
    "fp.isNegative",
    "fp.isPositive",
    "to_fp",
    "to_fp_unsigned",
    "to_fp_from_fp",
    "fp.to_ubv",
    "fp.to_sbv",
];

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &op in Op::ALL {
            assert_eq!(Op::from_name(op.name()), Some(op));
        }
        assert_eq!(Op::from_name("bvfoo"), None);
    }
}
