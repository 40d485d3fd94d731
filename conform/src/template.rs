//! Code templates: the `asm` lines of a mapping with holes for operands
//! and substitutions, `Add_rm{w}_r{w} {a:w}, {c:w}` or `add {d:w}, {a:w}, #{k.bits}`.
//!
//! A hole is `{name}`, `{name:format}`, `{name.field}` or
//! `{name.field:format}`. A format that is a substitution key of the
//! variant (`w`) is replaced by its value first. Then:
//!
//! - a register operand renders as its register at the format's width in
//!   bits (64 without one): `{a:32}` is `eax` on x86-64, `w1` on AArch64;
//! - an immediate (a bitvector, or a field of a struct immediate) renders
//!   in hex (`0x2a`) without a format, with `sN` as the signed decimal
//!   value of its low N bits, with `uN` as the unsigned decimal value of
//!   its low N bits, with `mulN` as its value times N in decimal, with
//!   `scale` as 2 to its power;
//! - a `Bool` renders as `1` or `0`, with a number format as that number
//!   or `0` (`lsl #{k.shift12:12}`);
//! - `result` (unless a parameter has that name) is the register the
//!   result is read from, named like a register operand;
//! - `{a.base}` names field `base` of enum parameter `a`'s variant (a
//!   register or an immediate, as the mapping says);
//! - an enum parameter whose variants have fields, with a format, is the
//!   variant's substitution of that name rendered as a template over the
//!   variant's fields: `{a:mem}` with `ImmReg = { mem = "[{base}+{disp:s32}]" }`
//!   renders field `base` of `a` as a register, `disp` as an immediate;
//! - any other name is a substitution key of the variant (`{w}`).

use std::collections::BTreeMap;

use loweq_semantics::value::Value;

use crate::isa::Isa;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Hole {
        name: String,
        field: Option<String>,
        format: Option<String>,
    },
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// What a hole can name.
pub enum Operand<'a> {
    /// A register operand: the 64-bit name of its register.
    Reg(&'a str),
    /// An immediate operand's value.
    Imm(&'a Value),
    /// An enum operand at a variant with fields: the variant's
    /// substitutions, templates over its fields.
    Variant(&'a BTreeMap<String, String>),
}

/// A hole's operand, found by its path (`a.base`) first, then by its name
/// (a struct immediate's field is taken by the caller).
fn resolve<'a>(
    name: &str,
    field: &Option<String>,
    operand: &dyn Fn(&str) -> Option<Operand<'a>>,
) -> (String, bool, Option<Operand<'a>>) {
    if let Some(f) = field {
        let path = format!("{name}.{f}");
        if let Some(op) = operand(&path) {
            return (path, true, Some(op));
        }
    }
    (name.to_string(), false, operand(name))
}

impl Template {
    /// Parses a template.
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("`{s}`: a `{{` without its `}}`"))?
                + open;
            let hole = &rest[open + 1..close];
            let (path, format) = match hole.split_once(':') {
                Some((p, f)) => (p, Some(f.trim().to_string())),
                None => (hole, None),
            };
            let (name, field) = match path.split_once('.') {
                Some((n, f)) => (n.trim(), Some(f.trim().to_string())),
                None => (path.trim(), None),
            };
            if name.is_empty() {
                return Err(format!("`{s}`: an empty hole"));
            }
            pieces.push(Piece::Hole {
                name: name.to_string(),
                field,
                format,
            });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("`{s}`: a `}}` without its `{{`"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    /// The widths at which each register operand is named, by operand
    /// path (`a`, `a.base`), through the templates of enum operands.
    pub fn register_widths<'a>(
        &self,
        subst: &BTreeMap<String, String>,
        operand: &dyn Fn(&str) -> Option<Operand<'a>>,
    ) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        for p in &self.pieces {
            let Piece::Hole {
                name,
                field,
                format,
            } = p
            else {
                continue;
            };
            let format = format.as_ref().map(|f| subst.get(f).unwrap_or(f));
            match resolve(name, field, operand) {
                (path, _, Some(Operand::Reg(_))) => {
                    let w = format.and_then(|f| f.parse().ok()).unwrap_or(64);
                    out.push((path, w));
                }
                (path, _, Some(Operand::Variant(texts))) => {
                    let inner = format
                        .and_then(|f| texts.get(f))
                        .and_then(|t| Template::parse(t).ok());
                    if let Some(t) = inner {
                        let nested = |n: &str| operand(&format!("{path}.{n}"));
                        for (p, w) in t.register_widths(subst, &nested) {
                            out.push((format!("{path}.{p}"), w));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Renders the template.
    pub fn render<'a>(
        &self,
        isa: Isa,
        subst: &BTreeMap<String, String>,
        operand: &dyn Fn(&str) -> Option<Operand<'a>>,
    ) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Hole {
                    name,
                    field,
                    format,
                } => {
                    let format = format.as_ref().map(|f| subst.get(f).unwrap_or(f).as_str());
                    let (path, by_path, op) = resolve(name, field, operand);
                    let field = if by_path { &None } else { field };
                    match op {
                        Some(Operand::Variant(texts)) => {
                            let Some(f) = format else {
                                return Err(format!(
                                    "`{{{path}}}`: an enum operand needs a format, the name of \
                                     one of its variant's substitutions"
                                ));
                            };
                            if field.is_some() {
                                return Err(format!("enum operand `{path}` has no such field"));
                            }
                            let text = texts.get(f).ok_or_else(|| {
                                format!("`{{{path}:{f}}}`: the variant has no substitution `{f}`")
                            })?;
                            let inner = Template::parse(text)?;
                            let nested = |n: &str| operand(&format!("{path}.{n}"));
                            out.push_str(&inner.render(isa, subst, &nested)?);
                        }
                        Some(Operand::Reg(reg)) => {
                            if field.is_some() {
                                return Err(format!("register operand `{name}` has no fields"));
                            }
                            let w = match format {
                                None => 64,
                                Some(f) => f.parse().map_err(|_| {
                                    format!("`{{{name}:{f}}}`: a register's format is its width")
                                })?,
                            };
                            out.push_str(&isa.register(reg, w).ok_or_else(|| {
                                format!("`{reg}` has no {w}-bit name on {}", isa.name())
                            })?);
                        }
                        Some(Operand::Imm(v)) => {
                            let v = match field {
                                None => v,
                                Some(f) => field_of(v, f).ok_or_else(|| {
                                    format!("immediate `{name}` has no field `{f}`")
                                })?,
                            };
                            out.push_str(
                                &immediate(v, format).map_err(|m| format!("`{{{name}}}`: {m}"))?,
                            );
                        }
                        None => {
                            if field.is_some() || format.is_some() {
                                return Err(format!("`{name}` is not an operand"));
                            }
                            out.push_str(subst.get(name).ok_or_else(|| {
                                format!("`{{{name}}}` is neither an operand nor a substitution of this variant")
                            })?);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn field_of<'a>(v: &'a Value, f: &str) -> Option<&'a Value> {
    match v {
        Value::Struct(fields) => fields.iter().find(|(n, _)| n == f).map(|(_, v)| v),
        _ => None,
    }
}

fn immediate(v: &Value, format: Option<&str>) -> Result<String, String> {
    match v {
        Value::Bool(b) => Ok(match format {
            None => u8::from(*b).to_string(),
            Some(f) => {
                let n: u64 = f
                    .parse()
                    .map_err(|_| format!("a Bool's format is a number, not `{f}`"))?;
                if *b { n } else { 0 }.to_string()
            }
        }),
        Value::Bv(bits) => {
            let u = bits.to_u128().ok_or("an immediate wider than 128 bits")?;
            let low = |n: u32| -> Result<u128, String> {
                if n == 0 || n > 128 {
                    return Err(format!("bad width {n}"));
                }
                Ok(if n == 128 { u } else { u & ((1u128 << n) - 1) })
            };
            match format {
                None => Ok(format!("{u:#x}")),
                Some("scale") => Ok(1u128
                    .checked_shl(u as u32)
                    .filter(|_| u < 64)
                    .ok_or("a scale above 2^63")?
                    .to_string()),
                Some(f) if f.starts_with("mul") => {
                    let k: u128 = f[3..].parse().map_err(|_| format!("bad format `{f}`"))?;
                    Ok(u.checked_mul(k).ok_or("a product above 2^128")?.to_string())
                }
                Some(f) if f.starts_with('s') => {
                    let n: u32 = f[1..].parse().map_err(|_| format!("bad format `{f}`"))?;
                    let x = low(n)?;
                    let signed = if n < 128 && x >> (n - 1) & 1 == 1 {
                        x as i128 - (1i128 << n)
                    } else {
                        x as i128
                    };
                    Ok(signed.to_string())
                }
                Some(f) if f.starts_with('u') => {
                    let n: u32 = f[1..].parse().map_err(|_| format!("bad format `{f}`"))?;
                    Ok(low(n)?.to_string())
                }
                Some(f) => Err(format!("unknown format `{f}` (sN, uN, mulN or scale)")),
            }
        }
        _ => Err("an immediate must be a bitvector or a Bool".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loweq_semantics::value::BitVec;

    fn subst(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn renders_registers_immediates_and_substitutions() {
        let t = Template::parse("Add_rm{w}_imm{w} {a:w}, {k:imm}").unwrap();
        let k = Value::Bv(BitVec::from_u128(32, 0xffff_fff0));
        let s = subst(&[("w", "8"), ("imm", "s8")]);
        let ops = |n: &str| match n {
            "a" => Some(Operand::Reg("rax")),
            "k" => Some(Operand::Imm(&k)),
            _ => None,
        };
        assert_eq!(
            t.render(Isa::X64, &s, &ops).unwrap(),
            "Add_rm8_imm8 al, -16"
        );
        let t = Template::parse("add {d:w}, {a:w}, #{k.bits}, lsl #{k.shift12:12}").unwrap();
        let k = Value::Struct(vec![
            ("bits".into(), Value::Bv(BitVec::from_u128(12, 0xfff))),
            ("shift12".into(), Value::Bool(true)),
        ]);
        let ops = |n: &str| match n {
            "d" => Some(Operand::Reg("x0")),
            "a" => Some(Operand::Reg("x1")),
            "k" => Some(Operand::Imm(&k)),
            _ => None,
        };
        assert_eq!(
            t.render(Isa::Aarch64, &subst(&[("w", "32")]), &ops)
                .unwrap(),
            "add w0, w1, #0xfff, lsl #12"
        );
        let widths = t.register_widths(&subst(&[("w", "32")]), &|n| match n {
            "d" | "a" => Some(Operand::Reg("x0")),
            _ => None,
        });
        assert_eq!(widths, vec![("d".to_string(), 32), ("a".to_string(), 32)]);
    }

    #[test]
    fn enum_operands_render_their_variant_over_its_fields() {
        let mut texts = BTreeMap::new();
        texts.insert(
            "mem".to_string(),
            "[{base}+{index:32}*{shift:scale}+{disp:s32}]".to_string(),
        );
        let disp = Value::Bv(BitVec::from_u128(32, 0xffff_fff8));
        let shift = Value::Bv(BitVec::from_u128(8, 3));
        let ops = |n: &str| match n {
            "a" => Some(Operand::Variant(&texts)),
            "a.base" => Some(Operand::Reg("rcx")),
            "a.index" => Some(Operand::Reg("rdx")),
            "a.disp" => Some(Operand::Imm(&disp)),
            "a.shift" => Some(Operand::Imm(&shift)),
            "d" => Some(Operand::Reg("rax")),
            _ => None,
        };
        let t = Template::parse("Mov_r64_rm64 {d}, {a:mem}").unwrap();
        assert_eq!(
            t.render(Isa::X64, &subst(&[]), &ops).unwrap(),
            "Mov_r64_rm64 rax, [rcx+edx*8+-8]"
        );
        assert_eq!(
            t.register_widths(&subst(&[]), &ops),
            vec![
                ("d".to_string(), 64),
                ("a.base".to_string(), 64),
                ("a.index".to_string(), 32)
            ]
        );
        let t = Template::parse("lea {d}, {a.base}").unwrap();
        assert_eq!(
            t.render(Isa::X64, &subst(&[]), &ops).unwrap(),
            "lea rax, rcx"
        );
        assert!(Template::parse("x {a}")
            .unwrap()
            .render(Isa::X64, &subst(&[]), &ops)
            .is_err());
        assert!(Template::parse("x {a:nope}")
            .unwrap()
            .render(Isa::X64, &subst(&[]), &ops)
            .is_err());
    }

    #[test]
    fn bad_templates_are_errors() {
        assert!(Template::parse("add {a").is_err());
        assert!(Template::parse("add a}").is_err());
        assert!(Template::parse("add {}").is_err());
        let t = Template::parse("add {nope}").unwrap();
        assert!(t.render(Isa::X64, &subst(&[]), &|_| None).is_err());
        let t = Template::parse("add {a:7}").unwrap();
        assert!(t
            .render(Isa::X64, &subst(&[]), &|_| Some(Operand::Reg("rax")))
            .is_err());
    }
}
