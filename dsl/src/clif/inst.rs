//! Checking one instruction: its operands against its opcode's format, its
//! controlling type, the types of its operands and results.

use std::collections::{HashMap, HashSet};

use loweq_semantics::span::Span;

use super::ir::{Inst, InstKind, Operand, Unsupported, ValueId};
use super::literal::{int_bits, IntLiteral};
use super::opcode::{self, Extend, Format, IntCC, OpInfo, Typing, Width};
use super::syntax::{SynInst, Token, TokenKind};
use super::types::{Parsed, Type};
use crate::diag::Diagnostic;

/// What checking an instruction gave.
pub enum Checked {
    /// A typed instruction.
    Done(Inst),
    /// An operand's type is not known yet (its definition comes later in the
    /// text); try again once more values are typed.
    Wait,
    /// The instruction is outside the supported subset.
    Unsupported(Unsupported),
    /// It is wrong; the diagnostic says why.
    Error(Diagnostic),
}

/// The values of a function: which are defined anywhere, and the types
/// known so far.
pub struct Values {
    /// Every value some block parameter or instruction defines.
    pub defined: HashSet<u32>,
    /// Types known so far.
    pub types: HashMap<u32, Type>,
}

/// Reads a type name: a type, an unsupported-construct reason, or an error.
pub fn type_of(name: &str, span: Span) -> Result<Type, Checked> {
    match Type::parse(name) {
        Parsed::Type(Type::Int(w)) => Ok(Type::Int(w)),
        Parsed::Type(t) => Err(Checked::Unsupported(Unsupported {
            reason: t.unsupported_reason().unwrap_or_default(),
            span,
        })),
        Parsed::Unknown => Err(Checked::Error(Diagnostic::new(
            format!("unknown type `{name}`"),
            span,
        ))),
    }
}

fn usage(info: &OpInfo) -> String {
    let n = info.name;
    match info.format {
        Format::UnaryImm => format!("`{n}.i32 5`"),
        Format::Unary => format!("`{n} v0`"),
        Format::Binary => format!("`{n} v0, v1`"),
        Format::BinaryImm64 => format!("`{n} v0, 5`"),
        Format::IntCompare => format!("`{n} slt v0, v1`"),
        Format::IntCompareImm => format!("`{n} slt v0, 5`"),
        Format::Ternary => format!("`{n} v0, v1, v2`"),
    }
}

fn error(message: impl Into<String>, span: Span) -> Checked {
    Checked::Error(Diagnostic::new(message, span))
}

/// The operand kinds a format expects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Value,
    Imm,
    Cond,
}

fn kinds(format: Format) -> &'static [Kind] {
    use Kind::{Cond, Imm, Value};
    match format {
        Format::UnaryImm => &[Imm],
        Format::Unary => &[Value],
        Format::Binary => &[Value, Value],
        Format::BinaryImm64 => &[Value, Imm],
        Format::IntCompare => &[Cond, Value, Value],
        Format::IntCompareImm => &[Cond, Value, Imm],
        Format::Ternary => &[Value, Value, Value],
    }
}

/// The operands of an instruction, sorted by kind.
struct Parts<'a> {
    values: Vec<(u32, Span)>,
    imm: Option<(&'a str, Span)>,
    cond: Option<IntCC>,
}

fn parts<'a>(info: &OpInfo, inst: &'a SynInst) -> Result<Parts<'a>, Checked> {
    let want = kinds(info.format);
    let wrong = || {
        Checked::Error(
            Diagnostic::new(format!("wrong operands for `{}`", info.name), inst.span)
                .with_label(format!("expected {}", usage(info))),
        )
    };
    if inst.operands.len() != want.len() {
        return Err(wrong());
    }
    let mut p = Parts {
        values: Vec::new(),
        imm: None,
        cond: None,
    };
    for (t, k) in inst.operands.iter().zip(want) {
        match (&t.kind, k) {
            (TokenKind::Value(v), Kind::Value) => p.values.push((*v, t.span)),
            (TokenKind::Int(s), Kind::Imm) => p.imm = Some((s.as_str(), t.span)),
            (TokenKind::Word(w), Kind::Cond) => match IntCC::from_clif(w) {
                Some(cc) => p.cond = Some(cc),
                None => {
                    return Err(error(
                        format!("unknown condition code `{w}`; expected one of eq, ne, slt, sge, sgt, sle, ult, uge, ugt, ule"),
                        t.span,
                    ))
                }
            },
            (TokenKind::Word(w), Kind::Imm) => {
                return Err(error(
                    format!("`{w}` is not an integer immediate"),
                    t.span,
                ))
            }
            _ => return Err(wrong()),
        }
    }
    Ok(p)
}

/// The type of a value operand, or what stops the check.
fn value_type(values: &Values, v: u32, span: Span) -> Result<Type, Checked> {
    if !values.defined.contains(&v) {
        return Err(error(format!("value `v{v}` is not defined"), span));
    }
    match values.types.get(&v) {
        None => Err(Checked::Wait),
        Some(t @ Type::Int(_)) => Ok(t.clone()),
        Some(t) => Err(Checked::Unsupported(Unsupported {
            reason: t.unsupported_reason().unwrap_or_default(),
            span,
        })),
    }
}

fn mismatch(v: u32, found: &Type, want: &str, span: Span) -> Checked {
    error(
        format!("value `v{v}` has type {found}, but {want} is expected here"),
        span,
    )
}

/// Checks one instruction with an opcode of the supported subset.
pub fn check_apply(info: &'static OpInfo, inst: &SynInst, values: &Values) -> Checked {
    match apply(info, inst, values) {
        Ok(i) => Checked::Done(i),
        Err(c) => c,
    }
}

fn apply(info: &'static OpInfo, inst: &SynInst, values: &Values) -> Result<Inst, Checked> {
    let p = parts(info, inst)?;
    let mut vtypes = Vec::new();
    for &(v, span) in &p.values {
        vtypes.push(value_type(values, v, span)?);
    }
    let suffix = match &inst.suffix {
        Some(s) => Some(type_of(&s.text, s.span)?),
        None => None,
    };
    // The controlling type: from the suffix, or from the operand that
    // determines it.
    let from_operand = match info.typing {
        Typing::Const | Typing::Convert(_) => None,
        Typing::Select => vtypes.get(1).cloned(),
        _ => vtypes.first().cloned(),
    };
    let ctrl = match (suffix, from_operand) {
        (Some(s), Some(o)) if s != o => {
            let at = inst.suffix.as_ref().map_or(inst.opcode.span, |x| x.span);
            return Err(Checked::Error(
                Diagnostic::new(
                    format!("`{}.{s}` does not match its operand of type {o}", info.name),
                    at,
                )
                .with_label(format!("the controlling type is {o}")),
            ));
        }
        (Some(s), _) => s,
        (None, Some(o)) => o,
        (None, None) => {
            return Err(Checked::Error(
                Diagnostic::new(
                    format!("`{}` needs a type suffix", info.name),
                    inst.opcode.span,
                )
                .with_label(format!("write `{}.i32`, say", info.name)),
            ))
        }
    };
    // Only integer types get this far (`type_of` and `value_type` stop
    // the others).
    let Some(w) = ctrl.int_width() else {
        return Err(error("internal error: a non-integer type", inst.span));
    };
    // Operand types.
    let same = |i: usize| -> Result<(), Checked> {
        match (p.values.get(i), vtypes.get(i)) {
            (Some(&(v, span)), Some(t)) if *t != ctrl => {
                Err(mismatch(v, t, &ctrl.to_string(), span))
            }
            _ => Ok(()),
        }
    };
    let results: Vec<Type> = match info.typing {
        Typing::Same => {
            (0..p.values.len()).try_for_each(same)?;
            vec![ctrl.clone()]
        }
        Typing::Shift => {
            same(0)?;
            vec![ctrl.clone()]
        }
        Typing::Compare => {
            (0..p.values.len()).try_for_each(same)?;
            vec![Type::Int(8)]
        }
        Typing::Select => {
            same(1)?;
            same(2)?;
            vec![ctrl.clone()]
        }
        Typing::Const => {
            if w > 64 {
                return Err(Checked::Unsupported(Unsupported {
                    reason: format!("`{}` wider than 64 bits", info.name),
                    span: inst.span,
                }));
            }
            vec![ctrl.clone()]
        }
        Typing::Convert(rule) => {
            let (v, span) = p.values[0];
            let from = vtypes[0].int_width().unwrap_or(0);
            let ok = match rule {
                Width::Narrower => from < w,
                Width::Wider => from > w,
                Width::Any => true,
            };
            if !ok {
                let want = match rule {
                    Width::Narrower => format!("a type narrower than {ctrl}"),
                    _ => format!("a type wider than {ctrl}"),
                };
                return Err(mismatch(v, &vtypes[0], &want, span));
            }
            vec![ctrl.clone()]
        }
        Typing::Concat => {
            (0..p.values.len()).try_for_each(same)?;
            if w > 64 {
                return Err(error(
                    format!("`iconcat` of {ctrl} halves: the result would be wider than i128"),
                    inst.span,
                ));
            }
            vec![Type::Int(2 * w)]
        }
        Typing::Split => {
            same(0)?;
            if w < 16 {
                return Err(error("`isplit` of an i8: there is no i4", inst.span));
            }
            vec![Type::Int(w / 2), Type::Int(w / 2)]
        }
    };
    // Results.
    if inst.results.len() != results.len() {
        return Err(error(
            format!(
                "`{}` defines {} value{}, but {} {} written",
                info.name,
                results.len(),
                if results.len() == 1 { "" } else { "s" },
                inst.results.len(),
                if inst.results.len() == 1 { "is" } else { "are" },
            ),
            inst.span,
        ));
    }
    let results = inst
        .results
        .iter()
        .zip(results)
        .map(|(&(v, _), t)| (ValueId(v), t))
        .collect();
    // Arguments of the spec term.
    let mut args: Vec<Operand> = p
        .values
        .iter()
        .zip(vtypes)
        .map(|(&(v, _), t)| Operand::Value(ValueId(v), t))
        .collect();
    if let Some(cc) = p.cond {
        args.insert(0, Operand::Cond(cc));
    }
    if let Some((text, span)) = p.imm {
        let operand = immediate(info, text, span, w)?;
        if info.swapped {
            args.insert(0, operand);
        } else {
            args.push(operand);
        }
    }
    let opcode = match &inst.suffix {
        Some(s) => format!("{}.{}", info.name, s.text),
        None => info.name.to_string(),
    };
    Ok(Inst {
        span: inst.span,
        opcode,
        kind: InstKind::Apply {
            term: info.term,
            args,
            results,
        },
    })
}

/// The operand an immediate becomes.
fn immediate(info: &OpInfo, text: &str, span: Span, width: u32) -> Result<Operand, Checked> {
    if info.format == Format::UnaryImm {
        // `iconst`: the constant in the type, zero-extended to 64 bits.
        let bits = int_bits(text, width).map_err(|_| {
            error(
                format!("`{text}` is not an integer that fits in i{width}"),
                span,
            )
        })?;
        return Ok(Operand::Imm64(bits.to_u128().unwrap_or(0) as u64));
    }
    let imm = IntLiteral::parse(text)
        .and_then(|l| l.bits(64))
        .ok_or_else(|| {
            error(
                format!("`{text}` is not an integer that fits in 64 bits"),
                span,
            )
        })?;
    Ok(Operand::Const(match info.extend {
        Extend::Amount => imm,
        Extend::Sign => imm.sext(width),
        Extend::Zero => imm.zext(width),
    }))
}

/// Whether `name` is an opcode of the subset (control flow included).
pub fn known(name: &str) -> bool {
    opcode::lookup(name).is_some() || matches!(name, "jump" | "brif" | "return")
}

/// Checks a control-flow instruction: `jump`, `brif` or `return`. Block
/// names resolve through `blocks`; `returns` are the function's types;
/// `params` gives each block's parameter types.
pub fn check_control(
    inst: &SynInst,
    values: &Values,
    blocks: &HashMap<String, usize>,
    params: &[Vec<Type>],
    returns: &[Type],
) -> Checked {
    match control(inst, values, blocks, params, returns) {
        Ok(i) => Checked::Done(i),
        Err(c) => c,
    }
}

fn control(
    inst: &SynInst,
    values: &Values,
    blocks: &HashMap<String, usize>,
    params: &[Vec<Type>],
    returns: &[Type],
) -> Result<Inst, Checked> {
    if !inst.results.is_empty() {
        return Err(error(
            format!("`{}` defines no values", inst.opcode.text),
            inst.span,
        ));
    }
    if let Some(s) = &inst.suffix {
        return Err(error(
            format!("`{}` takes no type suffix", inst.opcode.text),
            s.span,
        ));
    }
    let ops = &inst.operands;
    let kind = match inst.opcode.text.as_str() {
        "return" => {
            let mut vals = Vec::new();
            for t in ops {
                let TokenKind::Value(v) = t.kind else {
                    return Err(error("`return` takes values", t.span));
                };
                vals.push((v, value_type(values, v, t.span)?, t.span));
            }
            if vals.len() != returns.len() {
                return Err(error(
                    format!(
                        "`return` of {} values from a function that returns {}",
                        vals.len(),
                        returns.len()
                    ),
                    inst.span,
                ));
            }
            for ((v, t, span), want) in vals.iter().zip(returns) {
                if t != want {
                    return Err(mismatch(*v, t, &want.to_string(), *span));
                }
            }
            InstKind::Return(vals.iter().map(|(v, _, _)| ValueId(*v)).collect())
        }
        "jump" => match ops.as_slice() {
            [target] => InstKind::Jump(call(target, values, blocks, params)?),
            _ => return Err(error("expected `jump block1(v0, ...)`", inst.span)),
        },
        _ => match ops.as_slice() {
            [c, then_, else_] => {
                let TokenKind::Value(v) = c.kind else {
                    return Err(error("expected a condition value", c.span));
                };
                value_type(values, v, c.span)?;
                InstKind::Brif {
                    cond: ValueId(v),
                    then_: call(then_, values, blocks, params)?,
                    else_: call(else_, values, blocks, params)?,
                }
            }
            _ => {
                return Err(error(
                    "expected `brif v0, block1(...), block2(...)`",
                    inst.span,
                ))
            }
        },
    };
    Ok(Inst {
        span: inst.span,
        opcode: inst.opcode.text.clone(),
        kind,
    })
}

fn call(
    t: &Token,
    values: &Values,
    blocks: &HashMap<String, usize>,
    params: &[Vec<Type>],
) -> Result<super::ir::BlockCall, Checked> {
    let (name, args): (&str, &[Token]) = match &t.kind {
        TokenKind::BlockCall(name, args) => (name, args),
        TokenKind::Word(name) => (name, &[]),
        _ => return Err(error("expected a block", t.span)),
    };
    let Some(&block) = blocks.get(name) else {
        return Err(error(format!("no block `{name}` in this function"), t.span));
    };
    let want = params.get(block).map_or(&[][..], |p| p.as_slice());
    if args.len() != want.len() {
        return Err(error(
            format!(
                "`{name}` takes {} argument{}, {} given",
                want.len(),
                if want.len() == 1 { "" } else { "s" },
                args.len()
            ),
            t.span,
        ));
    }
    let mut out = Vec::new();
    for (a, w) in args.iter().zip(want) {
        let TokenKind::Value(v) = a.kind else {
            return Err(error("block arguments must be values", a.span));
        };
        let ty = value_type(values, v, a.span)?;
        if ty != *w {
            return Err(mismatch(v, &ty, &w.to_string(), a.span));
        }
        out.push(ValueId(v));
    }
    Ok(super::ir::BlockCall { block, args: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(name: &str, text: &str, width: u32) -> Option<u128> {
        let info = opcode::lookup(name)?;
        match immediate(info, text, Span::default(), width).ok()? {
            Operand::Const(b) => b.to_u128(),
            Operand::Imm64(v) => Some(u128::from(v)),
            _ => None,
        }
    }

    #[test]
    fn immediates_extend_as_documented() {
        assert_eq!(bits("iconst", "-1", 8), Some(0xff));
        assert_eq!(bits("iconst", "256", 8), None);
        assert_eq!(bits("iadd_imm", "-1", 8), Some(0xff));
        assert_eq!(bits("iadd_imm", "-1", 128), Some(u128::MAX));
        assert_eq!(bits("udiv_imm", "-1", 128), Some(u64::MAX.into()));
        assert_eq!(bits("ishl_imm", "3", 8), Some(3));
        assert_eq!(bits("iadd_imm", "0x1_0000_0000_0000_0000", 64), None);
    }
}
