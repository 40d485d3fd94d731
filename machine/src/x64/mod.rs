//! x86-64, natively on this processor.
//!
//! A batch becomes one function, encoded by `iced-x86`: for each group a
//! loop over its vectors that loads RFLAGS and the registers from the
//! vector's record, runs the group's instructions, and stores the
//! registers, RFLAGS and "no fault" back; in a batch with memory, the
//! vector's memory image is copied into the window at
//! [`crate::MEMORY_WINDOW`] first and back out after. The function runs in a child
//! process (`child`): a fault in the code under test (`#DE` from `div`,
//! a stray memory access) is caught there by a signal handler that marks
//! the vector as faulted and resumes at the next one, and anything worse
//! kills only the child, never the caller.
//!
//! Registers the code under test may use: `rax rbx rcx rdx rsi rdi rbp`
//! and `r8`..`r12` (any of their 8-, 16- and 32-bit names in the code;
//! the batch names their 64-bit form). `rsp`, `r13` (the resume address),
//! `r14` (the loop count) and `r15` (the record pointer) belong to the
//! harness.

mod child;
mod syntax;

use iced_x86::code_asm::{ptr, qword_ptr, r12, r13, r14, r15, rax, rbp, rbx, CodeAssembler};
use iced_x86::{Code, Encoder, Formatter, Instruction, IntelFormatter, MemoryOperand, Register};

use crate::{flags, Batch, Layout, Machine, MachineError, Outcomes, MEMORY_WINDOW};

/// The registers vectors may load.
const USABLE: [Register; 12] = [
    Register::RAX,
    Register::RBX,
    Register::RCX,
    Register::RDX,
    Register::RSI,
    Register::RDI,
    Register::RBP,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
    Register::R12,
];

/// x86-64 on this processor.
#[derive(Debug, Default)]
pub struct Native;

impl Native {
    /// The native machine.
    pub fn new() -> Native {
        Native
    }
}

fn asm_err(line: &str, message: impl ToString) -> MachineError {
    MachineError::Assemble {
        line: line.to_string(),
        message: message.to_string(),
    }
}

fn iced(e: iced_x86::IcedError) -> MachineError {
    MachineError::Crashed(format!("internal error encoding the harness: {e}"))
}

/// A 64-bit register the batch may load, by name.
fn batch_register(name: &str) -> Result<Register, MachineError> {
    let r = syntax::register(name)
        .ok_or_else(|| MachineError::Register(name.to_string(), "not an x86-64 register".into()))?;
    if !USABLE.contains(&r) {
        return Err(MachineError::Register(
            name.to_string(),
            "vectors may load rax, rbx, rcx, rdx, rsi, rdi, rbp and r8 to r12 \
             (the others belong to the harness)"
                .into(),
        ));
    }
    Ok(r)
}

fn mov_load(reg: Register, off: usize) -> Result<Instruction, MachineError> {
    Instruction::with2(
        Code::Mov_r64_rm64,
        reg,
        MemoryOperand::with_base_displ(Register::R15, off as i64),
    )
    .map_err(iced)
}

fn mov_store(reg: Register, off: usize) -> Result<Instruction, MachineError> {
    Instruction::with2(
        Code::Mov_rm64_r64,
        MemoryOperand::with_base_displ(Register::R15, off as i64),
        reg,
    )
    .map_err(iced)
}

/// Encodes the batch's function.
fn assemble(batch: &Batch) -> Result<Vec<u8>, MachineError> {
    let regs = batch
        .regs()
        .iter()
        .map(|r| batch_register(r))
        .collect::<Result<Vec<_>, _>>()?;
    let Layout {
        stride,
        flags_in,
        memory_in,
        out,
        flags_out,
        memory_out,
        fault,
        memory,
        ..
    } = batch.layout();
    let mut a = CodeAssembler::new(64).map_err(iced)?;
    let saved = [rbx, rbp, r12, r13, r14, r15];
    for r in saved {
        a.push(r).map_err(iced)?;
    }
    a.add_instruction(
        Instruction::with2(Code::Mov_r64_rm64, Register::R15, Register::RDI).map_err(iced)?,
    )
    .map_err(iced)?;
    for g in batch.groups() {
        if g.count == 0 {
            continue;
        }
        let code = g
            .code
            .iter()
            .map(|l| syntax::parse(l).map_err(|m| asm_err(l, m)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut top = a.create_label();
        let mut resume = a.create_label();
        a.mov(r14, g.count as u64).map_err(iced)?;
        a.lea(r13, ptr(resume)).map_err(iced)?;
        a.set_label(&mut top).map_err(iced)?;
        // The memory image into the window, through rax and rbx (loaded
        // from the record afterwards).
        if memory > 0 {
            a.mov(rbx, MEMORY_WINDOW).map_err(iced)?;
            for k in 0..memory {
                a.mov(rax, qword_ptr(r15 + (memory_in + 8 * k) as i32))
                    .map_err(iced)?;
                a.mov(qword_ptr(rbx + (8 * k) as i32), rax).map_err(iced)?;
            }
        }
        a.push(qword_ptr(r15 + flags_in as i32)).map_err(iced)?;
        a.popfq().map_err(iced)?;
        for (j, &r) in regs.iter().enumerate() {
            a.add_instruction(mov_load(r, 8 * j)?).map_err(iced)?;
        }
        for inst in code {
            a.add_instruction(inst).map_err(iced)?;
        }
        for (j, &r) in regs.iter().enumerate() {
            a.add_instruction(mov_store(r, out + 8 * j)?)
                .map_err(iced)?;
        }
        a.pushfq().map_err(iced)?;
        a.pop(qword_ptr(r15 + flags_out as i32)).map_err(iced)?;
        // The window back into the record.
        if memory > 0 {
            a.mov(rbx, MEMORY_WINDOW).map_err(iced)?;
            for k in 0..memory {
                a.mov(rax, qword_ptr(rbx + (8 * k) as i32)).map_err(iced)?;
                a.mov(qword_ptr(r15 + (memory_out + 8 * k) as i32), rax)
                    .map_err(iced)?;
            }
        }
        a.mov(qword_ptr(r15 + fault as i32), 0i32).map_err(iced)?;
        a.set_label(&mut resume).map_err(iced)?;
        a.lea(r15, qword_ptr(r15 + stride as i32)).map_err(iced)?;
        a.dec(r14).map_err(iced)?;
        a.jne(top).map_err(iced)?;
    }
    for r in saved.into_iter().rev() {
        a.pop(r).map_err(iced)?;
    }
    a.ret().map_err(iced)?;
    // Everything is relative to RIP or r15, so the bytes run anywhere.
    a.assemble(0).map_err(iced)
}

impl Machine for Native {
    fn name(&self) -> String {
        "x86-64 (native)".into()
    }

    fn run(&mut self, batch: &Batch) -> Result<Outcomes, MachineError> {
        let code = assemble(batch)?;
        let layout = batch.layout();
        let mut records = batch.records();
        let stride = layout.words();
        let (flags_in, flags_out) = (layout.flags_in / 8, layout.flags_out / 8);
        for rec in records.chunks_exact_mut(stride) {
            rec[flags_in] = (rec[flags_in] & flags::X64_STATUS) | 2;
        }
        child::run(&code, &mut records, stride - 1, batch.has_memory())?;
        for rec in records.chunks_exact_mut(stride) {
            rec[flags_out] &= flags::X64_STATUS;
        }
        Outcomes::from_records(layout, records)
    }

    fn listing(&mut self, code: &[String]) -> Result<String, MachineError> {
        let mut out = String::new();
        let mut formatter = IntelFormatter::new();
        for line in code {
            let inst = syntax::parse(line).map_err(|m| asm_err(line, m))?;
            let mut e = Encoder::new(64);
            e.encode(&inst, 0).map_err(|m| asm_err(line, m))?;
            let mut text = String::new();
            formatter.format(&inst, &mut text);
            let hex: Vec<String> = e.take_buffer().iter().map(|b| format!("{b:02x}")).collect();
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{text}  ({})", hex.join(" ")));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(regs: &[&str], code: &[&str], inputs: &[(&[u64], u64)]) -> Outcomes {
        let mut b = Batch::new(regs.iter().map(|s| s.to_string()).collect());
        b.group(code.iter().map(|s| s.to_string()).collect());
        for (r, f) in inputs {
            b.push(r, *f);
        }
        Native::new().run(&b).unwrap()
    }

    #[test]
    fn adds_and_keeps_upper_bits_of_narrow_destinations() {
        let out = run(
            &["rax", "rcx"],
            &["Add_rm8_r8 al, cl"],
            &[(&[0x1234_5678_9abc_def0, 0x11], 0), (&[0xff, 1], 0)],
        );
        assert_eq!(out.get(0).regs, &[0x1234_5678_9abc_de01, 0x11]);
        assert_eq!(out.get(1).regs[0], 0);
        assert!(out.get(1).flags & flags::X64_ZF != 0);
        assert!(out.get(1).flags & flags::X64_CF != 0);
        assert_eq!(out.get(0).fault, None);
    }

    #[test]
    fn flags_go_in_and_division_faults_are_caught() {
        let out = run(
            &["rax", "rcx", "rdx"],
            &["Div_rm32 ecx"],
            &[
                (&[7, 0, 0], 0),
                (&[7, 2, 0], 0),
                (&[0, 1, 1], 0),
                (&[9, 3, 0], 0),
            ],
        );
        assert_eq!(out.get(0).fault, Some(crate::Fault(libc::SIGFPE)));
        assert_eq!(out.get(1).fault, None);
        assert_eq!(out.get(1).regs, &[3, 2, 1]);
        // edx:eax = 2^32 divided by 1 does not fit in 32 bits.
        assert_eq!(out.get(2).fault, Some(crate::Fault(libc::SIGFPE)));
        assert_eq!(out.get(3).regs, &[3, 3, 0]);
        let carried = run(
            &["rax"],
            &["Adc_rm64_imm8 rax, 0"],
            &[(&[5], flags::X64_CF)],
        );
        assert_eq!(carried.get(0).regs, &[6]);
    }

    #[test]
    fn loads_and_stores_see_the_memory_window() {
        let mut b = Batch::with_memory(vec!["rax".into(), "rcx".into()]);
        b.group(vec!["Movsx_r64_rm8 rax, [rcx+1]".into()]);
        let w = crate::MEMORY_WINDOW;
        b.push_with_memory(&[0, w], 0, &[0, 0x80]);
        b.group(vec!["Mov_rm16_r16 [rcx-2], ax".into()]);
        b.push_with_memory(&[0xabcd, w + 4], 0, &[1, 2, 3, 4, 5, 6, 7, 8]);
        // Two bytes where one is left: the page after the window faults.
        b.push_with_memory(&[0xabcd, w + crate::MEMORY_BYTES as u64 + 1], 0, &[]);
        let out = Native::new().run(&b).unwrap();
        assert_eq!(out.get(0).regs[0], 0xffff_ffff_ffff_ff80);
        assert_eq!(out.get(0).fault, None);
        assert_eq!(
            &out.get(1).memory_bytes()[..8],
            &[1, 2, 0xcd, 0xab, 5, 6, 7, 8]
        );
        assert_eq!(out.get(2).fault, Some(crate::Fault(libc::SIGSEGV)));
    }

    #[test]
    fn harness_registers_are_refused() {
        let mut b = Batch::new(vec!["r15".into()]);
        b.group(vec![]);
        b.push(&[0], 0);
        assert!(matches!(
            Native::new().run(&b),
            Err(MachineError::Register(..))
        ));
    }

    #[test]
    fn listing_shows_text_and_bytes() {
        let l = Native::new()
            .listing(&["Add_rm32_r32 eax, ecx".into()])
            .unwrap();
        assert_eq!(l, "add eax,ecx  (01 c8)");
    }
}
