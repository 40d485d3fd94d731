//! The CLIF opcodes of the supported subset: for each, the spec term that
//! gives its meaning, how its operands are written, and how its result
//! types follow from its controlling type.

/// How an instruction's operands are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `iconst.i32 5`.
    UnaryImm,
    /// `bnot v0`.
    Unary,
    /// `iadd v0, v1`.
    Binary,
    /// `iadd_imm v0, 5`: a value and a 64-bit immediate.
    BinaryImm64,
    /// `icmp slt v0, v1`.
    IntCompare,
    /// `icmp_imm slt v0, 5`.
    IntCompareImm,
    /// `select v0, v1, v2`.
    Ternary,
}

/// How the result types follow from the controlling type `T`, and which
/// operand types are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typing {
    /// Operands and result of type `T`.
    Same,
    /// `T` comes from the type suffix, which is required; no value operands.
    Const,
    /// Shifts and rotates: the first operand and the result of type `T`,
    /// the amount of any integer type.
    Shift,
    /// `T` is the result type, from the required suffix; the operand is an
    /// integer related to it as the rule says.
    Convert(Width),
    /// Comparisons: operands of type `T`, an `i8` result.
    Compare,
    /// `select`: a condition of any integer type, values and result of `T`.
    Select,
    /// `iconcat`: two halves of type `T`, a result twice as wide.
    Concat,
    /// `isplit`: an operand of type `T`, two results half as wide.
    Split,
}

/// How the operand of a conversion relates to its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// Strictly narrower than the result (`uextend`, `sextend`).
    Narrower,
    /// Strictly wider than the result (`ireduce`).
    Wider,
    /// Any integer type (`bmask`).
    Any,
}

/// How a 64-bit immediate becomes an operand of the controlling type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extend {
    /// Sign-extended (or truncated).
    Sign,
    /// Zero-extended (or truncated).
    Zero,
    /// A shift amount: kept as an `i64` operand.
    Amount,
}

/// One supported opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// Its CLIF name.
    pub name: &'static str,
    /// The spec term that gives its meaning (the base operation of an
    /// `_imm` form).
    pub term: &'static str,
    /// How its operands are written.
    pub format: Format,
    /// How its types work.
    pub typing: Typing,
    /// For `_imm` forms: how the immediate is extended.
    pub extend: Extend,
    /// For `irsub_imm`: the immediate is the first operand of the term.
    pub swapped: bool,
}

const fn op(name: &'static str, format: Format, typing: Typing) -> OpInfo {
    OpInfo {
        name,
        term: name,
        format,
        typing,
        extend: Extend::Sign,
        swapped: false,
    }
}

const fn imm(name: &'static str, term: &'static str, typing: Typing, extend: Extend) -> OpInfo {
    OpInfo {
        name,
        term,
        format: Format::BinaryImm64,
        typing,
        extend,
        swapped: false,
    }
}

use Format::{Binary, IntCompare, IntCompareImm, Ternary, Unary, UnaryImm};
use Typing::{Compare, Concat, Const, Convert, Same, Select, Shift, Split};

/// Every supported opcode.
pub const OPCODES: &[OpInfo] = &[
    op("iconst", UnaryImm, Const),
    op("iadd", Binary, Same),
    op("isub", Binary, Same),
    op("imul", Binary, Same),
    op("umulhi", Binary, Same),
    op("smulhi", Binary, Same),
    op("udiv", Binary, Same),
    op("sdiv", Binary, Same),
    op("urem", Binary, Same),
    op("srem", Binary, Same),
    op("ineg", Unary, Same),
    op("iabs", Unary, Same),
    op("band", Binary, Same),
    op("bor", Binary, Same),
    op("bxor", Binary, Same),
    op("bnot", Unary, Same),
    op("band_not", Binary, Same),
    op("bor_not", Binary, Same),
    op("bxor_not", Binary, Same),
    op("ishl", Binary, Shift),
    op("ushr", Binary, Shift),
    op("sshr", Binary, Shift),
    op("rotl", Binary, Shift),
    op("rotr", Binary, Shift),
    op("clz", Unary, Same),
    op("cls", Unary, Same),
    op("ctz", Unary, Same),
    op("popcnt", Unary, Same),
    op("bitrev", Unary, Same),
    op("bswap", Unary, Same),
    op("icmp", IntCompare, Compare),
    op("select", Ternary, Select),
    op("smin", Binary, Same),
    op("smax", Binary, Same),
    op("umin", Binary, Same),
    op("umax", Binary, Same),
    op("uextend", Unary, Convert(Width::Narrower)),
    op("sextend", Unary, Convert(Width::Narrower)),
    op("ireduce", Unary, Convert(Width::Wider)),
    op("bmask", Unary, Convert(Width::Any)),
    op("iconcat", Binary, Concat),
    op("isplit", Unary, Split),
    imm("iadd_imm", "iadd", Same, Extend::Sign),
    imm("imul_imm", "imul", Same, Extend::Sign),
    imm("sdiv_imm", "sdiv", Same, Extend::Sign),
    imm("srem_imm", "srem", Same, Extend::Sign),
    imm("udiv_imm", "udiv", Same, Extend::Zero),
    imm("urem_imm", "urem", Same, Extend::Zero),
    imm("band_imm", "band", Same, Extend::Zero),
    imm("bor_imm", "bor", Same, Extend::Zero),
    imm("bxor_imm", "bxor", Same, Extend::Zero),
    OpInfo {
        swapped: true,
        ..imm("irsub_imm", "isub", Same, Extend::Sign)
    },
    imm("ishl_imm", "ishl", Shift, Extend::Amount),
    imm("ushr_imm", "ushr", Shift, Extend::Amount),
    imm("sshr_imm", "sshr", Shift, Extend::Amount),
    imm("rotl_imm", "rotl", Shift, Extend::Amount),
    imm("rotr_imm", "rotr", Shift, Extend::Amount),
    OpInfo {
        format: IntCompareImm,
        ..imm("icmp_imm", "icmp", Compare, Extend::Sign)
    },
];

/// The supported opcode with this name.
pub fn lookup(name: &str) -> Option<&'static OpInfo> {
    OPCODES.iter().find(|o| o.name == name)
}

/// The condition codes of `icmp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntCC {
    /// `eq`.
    Equal,
    /// `ne`.
    NotEqual,
    /// `slt`.
    SignedLessThan,
    /// `sge`.
    SignedGreaterThanOrEqual,
    /// `sgt`.
    SignedGreaterThan,
    /// `sle`.
    SignedLessThanOrEqual,
    /// `ult`.
    UnsignedLessThan,
    /// `uge`.
    UnsignedGreaterThanOrEqual,
    /// `ugt`.
    UnsignedGreaterThan,
    /// `ule`.
    UnsignedLessThanOrEqual,
}

impl IntCC {
    /// Every condition code, with its CLIF spelling and the name of its
    /// variant in the `IntCC` enum of the IR specs.
    pub const ALL: [(IntCC, &'static str, &'static str); 10] = [
        (IntCC::Equal, "eq", "Equal"),
        (IntCC::NotEqual, "ne", "NotEqual"),
        (IntCC::SignedLessThan, "slt", "SignedLessThan"),
        (
            IntCC::SignedGreaterThanOrEqual,
            "sge",
            "SignedGreaterThanOrEqual",
        ),
        (IntCC::SignedGreaterThan, "sgt", "SignedGreaterThan"),
        (IntCC::SignedLessThanOrEqual, "sle", "SignedLessThanOrEqual"),
        (IntCC::UnsignedLessThan, "ult", "UnsignedLessThan"),
        (
            IntCC::UnsignedGreaterThanOrEqual,
            "uge",
            "UnsignedGreaterThanOrEqual",
        ),
        (IntCC::UnsignedGreaterThan, "ugt", "UnsignedGreaterThan"),
        (
            IntCC::UnsignedLessThanOrEqual,
            "ule",
            "UnsignedLessThanOrEqual",
        ),
    ];

    /// The condition code written `text` in CLIF.
    pub fn from_clif(text: &str) -> Option<IntCC> {
        IntCC::ALL
            .iter()
            .find(|(_, s, _)| *s == text)
            .map(|(c, _, _)| *c)
    }

    /// The name of its variant in the `IntCC` enum of the IR specs.
    pub fn isle_name(self) -> &'static str {
        IntCC::ALL
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, _, name)| *name)
            .expect("every condition code is in IntCC::ALL")
    }
}
