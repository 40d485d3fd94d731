//! Conformance mappings: for each instruction spec term of an architecture,
//! how to run it on the machine. They are data, one TOML file per
//! architecture (`conform/map/x64.toml`, `conform/map/aarch64.toml`);
//! `conform/map/README.md` describes the format.
//!
//! Every term with a spec in the architecture's spec files appears in its
//! table exactly once: as an `[[inst]]` (it is run), in `helpers` (it
//! computes operands and stands for no machine code), or as an
//! `[[unrunnable]]` with the reason. [`crate::coverage`] checks that.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The embedded table of an architecture (`x64` or `aarch64`).
pub fn shipped(arch: &str) -> Option<(&'static str, &'static str)> {
    match arch {
        "x64" => Some(("conform/map/x64.toml", include_str!("../map/x64.toml"))),
        "aarch64" => Some((
            "conform/map/aarch64.toml",
            include_str!("../map/aarch64.toml"),
        )),
        _ => None,
    }
}

/// A mapping table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The architecture: `x64` or `aarch64`.
    pub arch: String,
    /// The state that says the machine code trapped (`isa_trap`).
    pub trap: Option<String>,
    /// Terms with specs that compute operands and stand for no machine code.
    #[serde(default)]
    pub helpers: Vec<String>,
    /// Text substitutions per enum variant, for templates:
    /// `enums.OperandSize.Size32.w = "32"` makes `{w}` read `32` in
    /// variants where an `OperandSize` parameter is `Size32`.
    #[serde(default)]
    pub enums: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// The states that record memory accesses (docs/memory.md): structs
    /// with fields `active`, `addr`, `bits` and `value`.
    pub memory: Option<MemoryStates>,
    /// The machine's condition flags: a field of the spec's flags struct
    /// to its bit in the machine's flags word (x86-64 RFLAGS; AArch64 NZCV
    /// as `mrs x, nzcv` reads it, N at bit 31).
    #[serde(default)]
    pub flags: BTreeMap<String, u32>,
    /// The state that is the machine's flags register (`x64_flags`), a
    /// struct of the fields `flags` places: an instruction whose spec does
    /// not declare `(modifies ...)` of it is checked to leave those bits as
    /// they were. Given exactly when `flags` is.
    pub flags_state: Option<String>,
    /// The instructions that run.
    #[serde(default, rename = "inst")]
    pub insts: Vec<Inst>,
    /// Instruction terms that cannot run, with the reason.
    #[serde(default)]
    pub unrunnable: Vec<Unrunnable>,
}

/// The states that record the loads and stores an instruction makes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryStates {
    /// The state of a load (`isa_load`): the spec says where and how many
    /// bits; its `value` is seeded with what the vector's memory holds.
    pub load: Option<String>,
    /// The state of a store (`isa_store`): the spec says where, how many
    /// bits and what; the machine's memory must change exactly so.
    pub store: Option<String>,
}

/// How one instruction term runs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inst {
    /// The term.
    pub term: toml::Spanned<String>,
    /// Register operands: parameter name (or `param.field` for a field of
    /// an enum parameter's variant, `a.base`) to the (64-bit name of the)
    /// register that holds it. Parameters that are neither registers nor
    /// enums are immediates, written into the code.
    #[serde(default)]
    pub regs: BTreeMap<String, String>,
    /// The register the result is read from (its whole 64 bits), or
    /// `flags` for a result that is the machine's flags; absent for an
    /// instruction whose only outcome is its effect on memory (a store).
    /// When the register holds no operand, it is loaded with junk first
    /// (the destination's old value).
    pub result: Option<String>,
    /// For an instruction that accesses memory: the register operand that
    /// the harness sets, per vector, so that the access lands in the
    /// vector's memory (the base of the address, `a.base`).
    pub address: Option<String>,
    /// The parameter the machine's flags hold before the code runs (a
    /// flags struct; its fields are the table's `flags`).
    pub flags: Option<String>,
    /// The code: a template, or several lines, or a template per variant
    /// (keyed by the variant names joined by spaces, `Size8 Size32`, or by
    /// one of them), with `default` for the others. A variant without code
    /// must be one the spec's `require` excludes: it is never emitted.
    pub asm: Asm,
    /// Enum parameters limited to some variants (the others are not run):
    /// parameter name to variant names.
    #[serde(default)]
    pub variants: BTreeMap<String, Vec<String>>,
    /// Immediate parameters limited to some values: parameter name to the
    /// values (the generator otherwise draws edge and random values).
    #[serde(default)]
    pub values: BTreeMap<String, Vec<i64>>,
}

/// The code of an instruction.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Asm {
    /// One line.
    Line(String),
    /// Several lines.
    Lines(Vec<String>),
    /// Per variant: a key is one or more variant names joined by spaces,
    /// and applies to the variants that have all of them in that order
    /// (parameter order); `default` for the rest.
    ByVariant(BTreeMap<String, Code>),
}

/// The code of one variant.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Code {
    /// One line.
    Line(String),
    /// Several lines.
    Lines(Vec<String>),
}

impl Code {
    /// The lines.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Code::Line(l) => vec![l.clone()],
            Code::Lines(ls) => ls.clone(),
        }
    }
}

impl Asm {
    /// The template lines for a variant named by `names` (the variant
    /// names of its enum parameters), if the table has any for it: the
    /// entry with the most names that the variant all has, in order, else
    /// `default`. Two such entries with as many names are ambiguous (an
    /// error naming them).
    pub fn lines(&self, names: &[String]) -> Result<Option<Vec<String>>, String> {
        match self {
            Asm::Line(l) => Ok(Some(vec![l.clone()])),
            Asm::Lines(ls) => Ok(Some(ls.clone())),
            Asm::ByVariant(m) => {
                // The key's names, in order, among the variant's.
                let fits = |key: &str| {
                    let mut rest = names.iter();
                    key.split_whitespace().all(|k| rest.any(|n| n == k))
                };
                let mut best: Vec<(usize, &String)> = m
                    .keys()
                    .filter(|k| *k != "default" && fits(k))
                    .map(|k| (k.split_whitespace().count(), k))
                    .collect();
                best.sort_by_key(|b| std::cmp::Reverse(b.0));
                if let [(n, a), (m2, b), ..] = best.as_slice() {
                    if n == m2 {
                        return Err(format!(
                            "`asm` entries `{a}` and `{b}` both fit variant `{}`",
                            names.join(" ")
                        ));
                    }
                }
                Ok(best
                    .first()
                    .map(|(_, k)| &m[*k])
                    .or_else(|| m.get("default"))
                    .map(Code::lines))
            }
        }
    }
}

/// An instruction term that cannot run.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unrunnable {
    /// The term.
    pub term: String,
    /// Why it cannot run.
    pub reason: String,
}

/// A table that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TableError {
    /// The table's file name.
    pub file: String,
    /// What is wrong, with the line and column.
    pub message: String,
}

impl Table {
    /// Parses a table; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Table, TableError> {
        let table: Table = toml::from_str(text).map_err(|e| TableError {
            file: file.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        let message = match (&table.flags_state, table.flags.is_empty()) {
            (None, false) => {
                "`[flags]` places the flags, but `flags_state` does not name the \
                              state of the flags register: instructions whose spec does not \
                              modify it could not be checked to leave the flags as they were"
            }
            (Some(_), true) => {
                "`flags_state` names the flags register, but no `[flags]` \
                                places its fields in the machine's flags word"
            }
            _ => return Ok(table),
        };
        Err(TableError {
            file: file.to_string(),
            message: message.into(),
        })
    }

    /// The line (1-based) of a byte offset in `text`.
    pub fn line_of(text: &str, offset: usize) -> usize {
        text[..offset.min(text.len())].matches('\n').count() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_tables_parse() {
        for arch in ["x64", "aarch64"] {
            let (file, text) = shipped(arch).unwrap();
            let t = Table::parse(file, text).unwrap();
            assert_eq!(t.arch, arch);
            assert!(!t.insts.is_empty());
        }
    }

    #[test]
    fn variant_code_falls_back_to_default() {
        let t = Table::parse(
            "t.toml",
            "arch = \"x64\"\n[[inst]]\nterm = \"f\"\nresult = \"rax\"\n\
             asm = { Size64 = \"A\", default = [\"B\", \"C\"] }\n",
        )
        .unwrap();
        let asm = &t.insts[0].asm;
        assert_eq!(asm.lines(&["Size64".into()]), Ok(Some(vec!["A".into()])));
        assert_eq!(
            asm.lines(&["Size8".into()]),
            Ok(Some(vec!["B".into(), "C".into()]))
        );
    }

    #[test]
    fn the_most_specific_variant_code_applies() {
        let t = Table::parse(
            "t.toml",
            "arch = \"x64\"\n[[inst]]\nterm = \"f\"\nresult = \"rax\"\n\
             asm = { \"Size8 Size32\" = \"A\", Size8 = \"B\", Reg = \"C\" }\n",
        )
        .unwrap();
        let asm = &t.insts[0].asm;
        let names = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            asm.lines(&names("Size8 Size32 Imm")),
            Ok(Some(vec!["A".into()]))
        );
        assert_eq!(
            asm.lines(&names("Size8 Size64 Imm")),
            Ok(Some(vec!["B".into()]))
        );
        assert_eq!(asm.lines(&names("Size16 Size64 Imm")), Ok(None));
        assert_eq!(
            asm.lines(&names("Size32 Size8 Imm")),
            Ok(Some(vec!["B".into()]))
        );
        assert_eq!(asm.lines(&names("Size32 Size16 Imm")), Ok(None));
        assert!(asm.lines(&names("Size8 Size64 Reg")).is_err());
    }

    #[test]
    fn errors_say_where() {
        let e = Table::parse("t.toml", "arch = \"x64\"\n[[inst]]\nterm = 3\n").unwrap_err();
        assert!(e.message.contains("line 3"), "{}", e.message);
        let e = Table::parse("t.toml", "arch = \"x64\"\nfrobs = 1\n").unwrap_err();
        assert!(e.message.contains("frobs"), "{}", e.message);
        let e = Table::parse("t.toml", "arch = \"x64\"\n[flags]\ncf = 0\n").unwrap_err();
        assert!(e.message.contains("`flags_state`"), "{}", e.message);
        let e = Table::parse("t.toml", "arch = \"x64\"\nflags_state = \"f\"\n").unwrap_err();
        assert!(e.message.contains("no `[flags]`"), "{}", e.message);
    }
}
