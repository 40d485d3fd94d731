//! The text of x86-64 instructions as conformance mappings write them:
//! an `iced-x86` `Code` name (the exact encoding form, as in the opcode
//! tables: `Add_rm32_r32` is `ADD r/m32, r32`) and its operands in Intel
//! syntax, `Add_rm32_r32 eax, ecx` or `Lea_r64_m rax, [rcx+rdx*4+8]`.
//! Naming the form rather than the mnemonic leaves no choice to an
//! assembler: the table says which encoding is tested.

use std::collections::HashMap;
use std::sync::OnceLock;

use iced_x86::{Code, Instruction, MemoryOperand, Register};

/// One operand.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Operand {
    Reg(Register),
    Imm(i128),
    Mem(MemoryOperand),
}

fn codes() -> &'static HashMap<String, Code> {
    static CODES: OnceLock<HashMap<String, Code>> = OnceLock::new();
    CODES.get_or_init(|| {
        Code::values()
            .map(|c| (format!("{c:?}").to_ascii_lowercase(), c))
            .collect()
    })
}

fn registers() -> &'static HashMap<String, Register> {
    static REGS: OnceLock<HashMap<String, Register>> = OnceLock::new();
    REGS.get_or_init(|| {
        let mut m: HashMap<String, Register> = Register::values()
            .filter(|r| *r != Register::None)
            .map(|r| (format!("{r:?}").to_ascii_lowercase(), r))
            .collect();
        // iced spells the low bytes of r8..r15 `R8L`; Intel syntax says `r8b`.
        for i in 8..16 {
            if let Some(r) = m.get(&format!("r{i}l")).copied() {
                m.insert(format!("r{i}b"), r);
            }
        }
        m
    })
}

/// The register with the given (case-insensitive) name.
pub(crate) fn register(name: &str) -> Option<Register> {
    registers().get(&name.trim().to_ascii_lowercase()).copied()
}

fn number(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, s),
    };
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(&hex.replace('_', ""), 16).ok()?,
        None => s.replace('_', "").parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// `[base + index*scale + disp]`, optionally after a size (`qword ptr`),
/// which the form already implies and is ignored.
fn memory(s: &str) -> Result<MemoryOperand, String> {
    let open = s.find('[').ok_or("a memory operand needs `[...]`")?;
    let inner = s[open + 1..]
        .strip_suffix(']')
        .ok_or("a memory operand ends with `]`")?;
    let mut base = Register::None;
    let mut index = Register::None;
    let mut scale = 1u32;
    let mut disp: i128 = 0;
    // Split into signed terms.
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut sign = 1i128;
    for c in inner.chars() {
        if c == '+' || c == '-' {
            if !cur.trim().is_empty() {
                terms.push((sign, std::mem::take(&mut cur)));
            }
            cur.clear();
            sign = if c == '-' { -1 } else { 1 };
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        terms.push((sign, cur));
    }
    for (sign, term) in terms {
        let term = term.trim();
        if let Some((r, k)) = term.split_once('*') {
            let r = register(r).ok_or_else(|| format!("unknown register `{}`", r.trim()))?;
            let k = number(k).ok_or_else(|| format!("bad scale `{}`", k.trim()))?;
            if sign < 0 || index != Register::None || ![1, 2, 4, 8].contains(&k) {
                return Err(format!("bad index term `{term}`"));
            }
            index = r;
            scale = k as u32;
        } else if let Some(r) = register(term) {
            if sign < 0 {
                return Err(format!("a register cannot be subtracted: `{term}`"));
            }
            if base == Register::None {
                base = r;
            } else if index == Register::None {
                index = r;
            } else {
                return Err("more than two registers in an address".into());
            }
        } else {
            let k = number(term).ok_or_else(|| format!("bad address term `{term}`"))?;
            disp += sign * k;
        }
    }
    let disp = i64::try_from(disp).map_err(|_| "displacement out of range".to_string())?;
    // 64-bit addressing: an 8-bit displacement where it fits (as
    // assemblers choose), else a 32-bit one (iced's size 8 for 64-bit
    // addresses), both sign-extended by the processor.
    let disp_size = if disp == 0 {
        0
    } else if i8::try_from(disp).is_ok() {
        1
    } else {
        8
    };
    Ok(MemoryOperand::with_base_index_scale_displ_size(
        base, index, scale, disp, disp_size,
    ))
}

fn operand(s: &str) -> Result<Operand, String> {
    let s = s.trim();
    if s.contains('[') {
        return memory(s).map(Operand::Mem);
    }
    if let Some(r) = register(s) {
        return Ok(Operand::Reg(r));
    }
    number(s)
        .map(Operand::Imm)
        .ok_or_else(|| format!("`{s}` is not a register, a number or a memory operand"))
}

fn imm32(v: i128) -> Result<i32, String> {
    i32::try_from(v)
        .or_else(|_| u32::try_from(v).map(|u| u as i32))
        .map_err(|_| format!("immediate {v} does not fit in 32 bits"))
}

/// Parses one line into an instruction.
pub(crate) fn parse(line: &str) -> Result<Instruction, String> {
    let line = line.trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let code = *codes()
        .get(&name.to_ascii_lowercase())
        .ok_or_else(|| format!("`{name}` is not an iced-x86 `Code` name"))?;
    let ops = if rest.trim().is_empty() {
        Vec::new()
    } else {
        rest.split(',')
            .map(operand)
            .collect::<Result<Vec<_>, _>>()?
    };
    // iced's constructors assert the operand count; check it first.
    let mut bare = Instruction::default();
    bare.set_code(code);
    if bare.op_count() as usize != ops.len() {
        return Err(format!(
            "`{name}` takes {} operands, got {}",
            bare.op_count(),
            ops.len()
        ));
    }
    use Operand::{Imm, Mem, Reg};
    let made = match ops.as_slice() {
        [] => Ok(bare),
        [Reg(a)] => Instruction::with1(code, *a),
        [Mem(m)] => Instruction::with1(code, *m),
        [Imm(i)] => Instruction::with1(code, imm32(*i)?),
        [Reg(a), Reg(b)] => Instruction::with2(code, *a, *b),
        [Reg(a), Mem(m)] => Instruction::with2(code, *a, *m),
        [Mem(m), Reg(b)] => Instruction::with2(code, *m, *b),
        [Reg(a), Imm(i)] => match i32::try_from(*i) {
            Ok(k) => Instruction::with2(code, *a, k),
            Err(_) => match i64::try_from(*i) {
                Ok(k) => Instruction::with2(code, *a, k),
                Err(_) => Instruction::with2(
                    code,
                    *a,
                    u64::try_from(*i).map_err(|_| format!("immediate {i} out of range"))?,
                ),
            },
        },
        [Mem(m), Imm(i)] => Instruction::with2(code, *m, imm32(*i)?),
        [Reg(a), Reg(b), Reg(c)] => Instruction::with3(code, *a, *b, *c),
        [Reg(a), Reg(b), Imm(i)] => Instruction::with3(code, *a, *b, imm32(*i)?),
        [Reg(a), Mem(m), Imm(i)] => Instruction::with3(code, *a, *m, imm32(*i)?),
        [Reg(a), Mem(m), Reg(c)] => Instruction::with3(code, *a, *m, *c),
        [Reg(a), Reg(b), Mem(m)] => Instruction::with3(code, *a, *b, *m),
        _ => return Err("unsupported combination of operands".into()),
    };
    made.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::Encoder;

    fn bytes(line: &str) -> Vec<u8> {
        let inst = parse(line).unwrap();
        let mut e = Encoder::new(64);
        e.encode(&inst, 0).unwrap();
        e.take_buffer()
    }

    #[test]
    fn forms_encode_as_the_manual_says() {
        assert_eq!(bytes("Add_rm32_r32 eax, ecx"), [0x01, 0xc8]);
        assert_eq!(bytes("Add_rm8_r8 al, cl"), [0x00, 0xc8]);
        assert_eq!(bytes("Shl_rm64_CL rax, cl"), [0x48, 0xd3, 0xe0]);
        assert_eq!(bytes("Add_rm8_imm8 al, -1"), [0x80, 0xc0, 0xff]);
        assert_eq!(
            bytes("Mov_r64_imm64 rax, 0x123456789"),
            [0x48, 0xb8, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0]
        );
        assert_eq!(
            bytes("Lea_r64_m rax, [rcx+rdx*4]"),
            [0x48, 0x8d, 0x04, 0x91]
        );
        assert_eq!(bytes("Add_rm8_r8 sil, r8b"), [0x44, 0x00, 0xc6]);
        assert_eq!(bytes("Mov_r64_rm64 rax, [rcx+8]"), [0x48, 0x8b, 0x41, 0x08]);
        assert_eq!(
            bytes("Mov_r64_rm64 rax, [rcx-0x80000000]"),
            [0x48, 0x8b, 0x81, 0, 0, 0, 0x80]
        );
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(parse("Frobnicate eax").is_err());
        assert!(parse("Add_rm32_r32 eax").is_err());
        assert!(parse("Add_rm32_r32 eax, foo").is_err());
        assert!(parse("Add_rm32_imm32 eax, 0x1_0000_0000_0").is_err());
        assert!(parse("Lea_r64_m rax, [rcx+rdx*3]").is_err());
    }
}
