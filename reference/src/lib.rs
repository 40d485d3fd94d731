//! CLIF's integer operations written directly in Rust, with Rust's own
//! integer methods (`wrapping_add`, `leading_zeros`, `rotate_left`, ...):
//! an oracle that shares nothing with the spec language, for tests that the
//! IR specs (through the concrete evaluator, and through their z3 encoding)
//! mean what CLIF means.
//!
//! A [`Case`] is one operation applied to operands of given widths;
//! [`reference()`] computes what CLIF gives; [`strategy::case`] generates
//! cases for proptest.

pub mod strategy;

mod width;

/// A condition code of `icmp`, by its CLIF name.
pub const CONDS: [&str; 10] = [
    "eq", "ne", "slt", "sge", "sgt", "sle", "ult", "uge", "ugt", "ule",
];

/// One application of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The CLIF opcode, which is also the spec term's name.
    pub op: &'static str,
    /// The condition code of `icmp`.
    pub cond: Option<&'static str>,
    /// The operands: width in bits and value (zero-extended).
    pub args: Vec<(u32, u128)>,
    /// The width of the result (for `isplit`, both results packed).
    pub ret: u32,
}

/// What an operation gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A value of the result width (for `isplit`: the low result in the
    /// low half, the high result in the high half).
    Value(u128),
    /// The operation traps.
    Trap,
}

/// The opcodes the oracle knows, by the shape of their operands.
pub mod ops {
    /// Two operands and a result of one width.
    pub const BINARY: &[&str] = &[
        "iadd", "isub", "imul", "umulhi", "smulhi", "udiv", "sdiv", "urem", "srem", "band", "bor",
        "bxor", "band_not", "bor_not", "bxor_not", "smin", "smax", "umin", "umax",
    ];
    /// A shifted operand and an amount of any width.
    pub const SHIFT: &[&str] = &["ishl", "ushr", "sshr", "rotl", "rotr"];
    /// One operand and a result of the same width.
    pub const UNARY: &[&str] = &[
        "ineg", "iabs", "bnot", "clz", "cls", "ctz", "popcnt", "bitrev", "bswap",
    ];
    /// The rest: each has its own shape.
    pub const OTHER: &[&str] = &[
        "iconst", "icmp", "select", "bmask", "uextend", "sextend", "ireduce", "iconcat", "isplit",
    ];

    /// Every opcode.
    pub fn all() -> impl Iterator<Item = &'static str> {
        BINARY
            .iter()
            .chain(SHIFT)
            .chain(UNARY)
            .chain(OTHER)
            .copied()
    }
}

/// Calls macro `$m` with `test_name: "opcode",` for every opcode, so that
/// suites can generate one test per operation from this one list (the
/// `every_op_is_tested` checks keep it in step with [`ops::all`]).
#[macro_export]
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            iconst: "iconst", iadd: "iadd", isub: "isub", imul: "imul", umulhi: "umulhi",
            smulhi: "smulhi", udiv: "udiv", sdiv: "sdiv", urem: "urem", srem: "srem",
            ineg: "ineg", iabs: "iabs", band: "band", bor: "bor", bxor: "bxor", bnot: "bnot",
            band_not: "band_not", bor_not: "bor_not", bxor_not: "bxor_not", ishl: "ishl",
            ushr: "ushr", sshr: "sshr", rotl: "rotl", rotr: "rotr", clz: "clz", cls: "cls",
            ctz: "ctz", popcnt: "popcnt", bitrev: "bitrev", bswap: "bswap", icmp: "icmp",
            select: "select", smin: "smin", smax: "smax", umin: "umin", umax: "umax",
            uextend: "uextend", sextend: "sextend", ireduce: "ireduce", bmask: "bmask",
            iconcat: "iconcat", isplit: "isplit",
        }
    };
}

/// The IR specs (`semantics/spec/clif/*.isle`) read from the repository and
/// loaded: what the agreement tests compare with the oracle.
pub fn ir_program() -> loweq_dsl::Program {
    use loweq_semantics::span::{SourceFile, SourceMap};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../semantics/spec/clif");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("the IR spec directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "isle"))
        .collect();
    paths.sort();
    let mut sources = SourceMap::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("a spec file");
        sources.add(SourceFile::new(p.display().to_string(), text));
    }
    match loweq_dsl::load(sources) {
        Ok(p) => p,
        Err(d) => panic!("the IR specs do not load: {d:?}"),
    }
}

/// All ones in the low `w` bits.
pub fn mask(w: u32) -> u128 {
    if w >= 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    }
}

/// `x`, `w` bits wide, sign-extended to 128 bits.
fn sext(x: u128, w: u32) -> u128 {
    let shift = 128 - w;
    (((x << shift) as i128) >> shift) as u128
}

/// What CLIF gives for `case`; `None` if the case is not valid CLIF (an
/// unknown opcode, a width the opcode does not take, a missing operand).
pub fn reference(case: &Case) -> Option<Outcome> {
    use Outcome::Value;
    let a = &case.args;
    let op = case.op;
    let arg = |i: usize| a.get(i).map(|&(w, v)| (w, v & mask(w)));
    if ops::BINARY.contains(&op) {
        let ((w, x), (wy, y)) = (arg(0)?, arg(1)?);
        if w != wy || case.ret != w {
            return None;
        }
        return width::binary(op, w, x as u64, y as u64);
    }
    if ops::SHIFT.contains(&op) {
        let ((w, x), (_, y)) = (arg(0)?, arg(1)?);
        if case.ret != w {
            return None;
        }
        // Only the amount modulo the width counts, whatever its type.
        let amount = (y % u128::from(w)) as u32;
        return width::shift(op, w, x as u64, amount).map(Value);
    }
    if ops::UNARY.contains(&op) {
        let (w, x) = arg(0)?;
        if case.ret != w || (op == "bswap" && w == 8) {
            return None;
        }
        return width::unary(op, w, x as u64).map(Value);
    }
    let r = case.ret;
    Some(Value(match op {
        // The immediate holds the constant zero-extended to 64 bits.
        "iconst" => {
            let (w, imm) = arg(0)?;
            if w != 64 || r > 64 || imm >> r != 0 {
                return None;
            }
            imm
        }
        "icmp" => {
            let ((w, x), (wy, y)) = (arg(0)?, arg(1)?);
            if w != wy || r != 8 {
                return None;
            }
            u128::from(width::icmp(case.cond?, w, x as u64, y as u64)?)
        }
        "select" => {
            let ((_, c), (w, x), (wy, y)) = (arg(0)?, arg(1)?, arg(2)?);
            if w != wy || r != w {
                return None;
            }
            if c != 0 {
                x
            } else {
                y
            }
        }
        "bmask" => {
            let (_, x) = arg(0)?;
            if x != 0 {
                mask(r)
            } else {
                0
            }
        }
        "uextend" => {
            let (w, x) = arg(0)?;
            if w >= r {
                return None;
            }
            x
        }
        "sextend" => {
            let (w, x) = arg(0)?;
            if w >= r {
                return None;
            }
            sext(x, w) & mask(r)
        }
        "ireduce" => {
            let (w, x) = arg(0)?;
            if w <= r {
                return None;
            }
            x & mask(r)
        }
        "iconcat" => {
            let ((w, lo), (wh, hi)) = (arg(0)?, arg(1)?);
            if w != wh || r != 2 * w || w > 64 {
                return None;
            }
            (hi << w) | lo
        }
        "isplit" => {
            let (w, x) = arg(0)?;
            if r != w || w < 16 {
                return None;
            }
            let half = w / 2;
            let (lo, hi) = (x & mask(half), x >> half);
            (hi << half) | lo
        }
        _ => return None,
    }))
}
