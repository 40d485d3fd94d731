//! Running instructions on real machines, for checking instruction specs
//! against what the hardware does (`loweq conform`).
//!
//! A [`Machine`] runs a [`Batch`]: a list of machine registers, and groups
//! of test vectors that each run one short piece of assembly. For every
//! vector the machine loads the registers and the flags, runs the group's
//! code, and reads the registers, the flags and whether the code faulted.
//! Two machines implement it:
//!
//! - [`x64::Native`]: x86-64 on this processor. The code is encoded with
//!   `iced-x86` into an executable page and run in a child process (see the
//!   module for why and how faults are caught).
//! - [`aarch64::Qemu`]: AArch64 under user-mode QEMU (`qemu-aarch64`), with
//!   the code assembled by GNU `as`; one emulator process runs every batch.
//!
//! No spec knowledge lives here: the caller decides what to run and what
//! the results mean.

pub mod aarch64;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub mod x64;

use std::fmt;

/// Why a machine could not run a batch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// The machine is not available here; `install` says how to get it.
    #[error("{what} is not available: {reason}; {install}")]
    Unavailable {
        /// The machine.
        what: String,
        /// Why not.
        reason: String,
        /// How to install what is missing.
        install: String,
    },
    /// A line of code could not be assembled or encoded.
    #[error("cannot assemble `{line}`: {message}")]
    Assemble {
        /// The line as given.
        line: String,
        /// The assembler's message.
        message: String,
    },
    /// A register name the machine does not know or reserves for itself.
    #[error("register `{0}` cannot be used: {1}")]
    Register(String, String),
    /// The machine stopped unexpectedly (a crash, a hang, broken pipes).
    #[error("{0}")]
    Crashed(String),
}

/// A fault raised by the code under test, as the signal the kernel sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault(pub i32);

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            libc::SIGFPE => "SIGFPE (#DE: divide error)",
            libc::SIGSEGV => "SIGSEGV (memory access)",
            libc::SIGBUS => "SIGBUS (memory access)",
            libc::SIGILL => "SIGILL (undefined instruction)",
            libc::SIGTRAP => "SIGTRAP (breakpoint)",
            _ => return write!(f, "signal {}", self.0),
        };
        f.write_str(name)
    }
}

/// The memory vectors may access: [`MEMORY_BYTES`] bytes at this address,
/// the last bytes of a page that the next page, unmapped, follows, so that
/// an access running past the end of the window faults. Before each vector
/// the machine copies the vector's memory image into the window, and after
/// the code it copies the window back (see [`Batch::with_memory`]). The
/// address is fixed, so vectors can point registers into the window.
pub const MEMORY_WINDOW: u64 = MEMORY_PAGE + 4096 - MEMORY_BYTES as u64;

/// The page that holds [`MEMORY_WINDOW`]; the page after it is unmapped.
pub const MEMORY_PAGE: u64 = 0x0000_1e57_0000_0000;

/// The size of the memory window in bytes (a multiple of 8).
pub const MEMORY_BYTES: usize = 64;

/// Words of the memory window.
const MEMORY_WORDS: usize = MEMORY_BYTES / 8;

/// One group of vectors: they all run the same code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The code, one instruction per line, in the machine's syntax.
    pub code: Vec<String>,
    /// How many vectors run it.
    pub count: usize,
}

/// What to run: the registers every vector loads and stores, the groups,
/// and each vector's inputs.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    regs: Vec<String>,
    memory: bool,
    groups: Vec<Group>,
    /// Per vector: the register values, the flags, the memory image.
    inputs: Vec<u64>,
}

impl Batch {
    /// A batch that loads and stores the given registers (64-bit names of
    /// the machine: `rax`, `x0`).
    pub fn new(regs: Vec<String>) -> Batch {
        Batch {
            regs,
            ..Batch::default()
        }
    }

    /// A batch whose vectors also have a memory image: the
    /// [`MEMORY_BYTES`] bytes of the window at [`MEMORY_WINDOW`] before
    /// the code runs ([`Batch::push_with_memory`]), read back after it
    /// ([`Outcome::memory`]).
    pub fn with_memory(regs: Vec<String>) -> Batch {
        Batch {
            regs,
            memory: true,
            ..Batch::default()
        }
    }

    /// The registers.
    pub fn regs(&self) -> &[String] {
        &self.regs
    }

    /// Whether vectors have a memory image.
    pub fn has_memory(&self) -> bool {
        self.memory
    }

    /// The groups, in order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Words of input per vector: the registers, the flags and the memory
    /// image.
    pub fn input_words(&self) -> usize {
        self.regs.len() + 1 + self.memory_words()
    }

    fn memory_words(&self) -> usize {
        if self.memory {
            MEMORY_WORDS
        } else {
            0
        }
    }

    /// The inputs, [`Batch::input_words`] per vector, in group order.
    pub fn inputs(&self) -> &[u64] {
        &self.inputs
    }

    /// Starts a group that runs `code`; vectors pushed next belong to it.
    pub fn group(&mut self, code: Vec<String>) {
        self.groups.push(Group { code, count: 0 });
    }

    /// Adds a vector to the last group: a value per register, and the
    /// flags in the machine's own layout (see [`flags`]). In a batch with
    /// memory, the memory image is all zero.
    ///
    /// # Panics
    ///
    /// When no group was started or `regs` has the wrong length: both are
    /// bugs of the caller.
    pub fn push(&mut self, regs: &[u64], flags: u64) {
        self.push_with_memory(regs, flags, &[]);
    }

    /// Adds a vector with a memory image: the window's bytes, little-endian
    /// (zero past the end of `memory`; ignored in a batch without memory).
    ///
    /// # Panics
    ///
    /// As [`Batch::push`], and when `memory` is longer than the window.
    pub fn push_with_memory(&mut self, regs: &[u64], flags: u64, memory: &[u8]) {
        assert_eq!(regs.len(), self.regs.len(), "a value per register");
        assert!(memory.len() <= MEMORY_BYTES, "at most the window");
        let g = self.groups.last_mut().expect("a group was started");
        g.count += 1;
        self.inputs.extend_from_slice(regs);
        self.inputs.push(flags);
        if self.memory {
            let mut bytes = [0u8; MEMORY_BYTES];
            bytes[..memory.len()].copy_from_slice(memory);
            self.inputs.extend(
                bytes
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
            );
        }
    }

    /// The number of vectors.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.count).sum()
    }

    /// Whether there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record layout of this batch.
    fn layout(&self) -> Layout {
        Layout::of(self.regs.len(), self.memory_words())
    }

    /// The memory image the generated code reads and writes: per vector
    /// the inputs, then room for the outputs (registers, flags, memory,
    /// fault), with the fault word set to [`NOT_RUN`].
    fn records(&self) -> Vec<u64> {
        let words = self.input_words();
        let stride = self.layout().words();
        let mut out = vec![0u64; stride * self.len()];
        for (i, rec) in out.chunks_exact_mut(stride).enumerate() {
            rec[..words].copy_from_slice(&self.inputs[i * words..(i + 1) * words]);
            rec[stride - 1] = NOT_RUN;
        }
        out
    }
}

/// Byte offsets in a record of `n` registers and `m` words of memory, for
/// the generated code. A record is: registers, flags and memory in;
/// registers, flags and memory out; the fault word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// Bytes per record.
    stride: usize,
    /// The flags going in.
    flags_in: usize,
    /// The memory image going in (as long as `memory` words).
    memory_in: usize,
    /// The first register coming out.
    out: usize,
    /// The flags coming out.
    flags_out: usize,
    /// The memory coming out.
    memory_out: usize,
    /// The fault word.
    fault: usize,
    /// Words of memory image (0 without memory).
    memory: usize,
    /// Registers.
    regs: usize,
}

impl Layout {
    fn of(n: usize, m: usize) -> Layout {
        Layout {
            stride: 8 * (2 * n + 3 + 2 * m),
            flags_in: 8 * n,
            memory_in: 8 * (n + 1),
            out: 8 * (n + 1 + m),
            flags_out: 8 * (2 * n + 1 + m),
            memory_out: 8 * (2 * n + 2 + m),
            fault: 8 * (2 * n + 2 + 2 * m),
            memory: m,
            regs: n,
        }
    }

    /// Words per record.
    fn words(&self) -> usize {
        self.stride / 8
    }
}

/// The fault word of a vector whose code never ran to its end.
const NOT_RUN: u64 = u64::MAX;

/// Flag layouts: which bits of the flags word hold which flag.
pub mod flags {
    /// x86-64 RFLAGS: carry.
    pub const X64_CF: u64 = 1 << 0;
    /// x86-64 RFLAGS: parity.
    pub const X64_PF: u64 = 1 << 2;
    /// x86-64 RFLAGS: auxiliary carry.
    pub const X64_AF: u64 = 1 << 4;
    /// x86-64 RFLAGS: zero.
    pub const X64_ZF: u64 = 1 << 6;
    /// x86-64 RFLAGS: sign.
    pub const X64_SF: u64 = 1 << 7;
    /// x86-64 RFLAGS: overflow.
    pub const X64_OF: u64 = 1 << 11;
    /// The RFLAGS bits a vector loads and reads back; the others are left
    /// as the ABI wants them (DF clear, TF clear).
    pub const X64_STATUS: u64 = X64_CF | X64_PF | X64_AF | X64_ZF | X64_SF | X64_OF;
    /// AArch64 NZCV (as `mrs x, nzcv` reads it): negative.
    pub const A64_N: u64 = 1 << 31;
    /// AArch64 NZCV: zero.
    pub const A64_Z: u64 = 1 << 30;
    /// AArch64 NZCV: carry.
    pub const A64_C: u64 = 1 << 29;
    /// AArch64 NZCV: overflow.
    pub const A64_V: u64 = 1 << 28;
    /// The NZCV bits.
    pub const A64_NZCV: u64 = A64_N | A64_Z | A64_C | A64_V;
}

/// What one vector gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// The registers after the code ran, in the batch's order (meaningless
    /// when it faulted).
    pub regs: &'a [u64],
    /// The flags after the code ran, in the machine's layout.
    pub flags: u64,
    /// The memory window after the code ran, 8 bytes per word,
    /// little-endian (empty in a batch without memory; meaningless when
    /// the code faulted).
    pub memory: &'a [u64],
    /// The fault, if the code faulted.
    pub fault: Option<Fault>,
}

impl Outcome<'_> {
    /// The memory window after the code ran, as bytes.
    pub fn memory_bytes(&self) -> Vec<u8> {
        self.memory.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

/// What a batch gave: an [`Outcome`] per vector.
#[derive(Clone, Debug)]
pub struct Outcomes {
    layout: Layout,
    records: Vec<u64>,
}

impl Outcomes {
    /// Reads the memory image back; a vector that never finished is an
    /// error (the machine stopped in the middle).
    fn from_records(layout: Layout, records: Vec<u64>) -> Result<Outcomes, MachineError> {
        let stride = layout.words();
        if let Some(i) = records
            .chunks_exact(stride)
            .position(|r| r[stride - 1] == NOT_RUN)
        {
            return Err(MachineError::Crashed(format!(
                "the machine stopped before vector {i} finished"
            )));
        }
        Ok(Outcomes { layout, records })
    }

    /// The number of vectors.
    pub fn len(&self) -> usize {
        self.records.len() / self.layout.words()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The outcome of vector `i`.
    pub fn get(&self, i: usize) -> Outcome<'_> {
        let l = self.layout;
        let stride = l.words();
        let rec = &self.records[i * stride..(i + 1) * stride];
        let fault = match rec[stride - 1] {
            0 => None,
            sig => Some(Fault(sig as i32)),
        };
        let out = l.out / 8;
        let mem = l.memory_out / 8;
        Outcome {
            regs: &rec[out..out + l.regs],
            flags: rec[l.flags_out / 8],
            memory: &rec[mem..mem + l.memory],
            fault,
        }
    }
}

/// A machine that runs batches.
pub trait Machine: Send {
    /// Its name in reports (`x86-64 (native)`, `AArch64 (qemu-aarch64)`).
    fn name(&self) -> String;

    /// Runs every vector of the batch.
    fn run(&mut self, batch: &Batch) -> Result<Outcomes, MachineError>;

    /// The code as the machine encodes it: each line with its encoding in
    /// hex, for reports.
    fn listing(&mut self, code: &[String]) -> Result<String, MachineError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_hold_inputs_and_mark_unrun_vectors() {
        let mut b = Batch::new(vec!["a".into(), "b".into()]);
        b.group(vec!["nop".into()]);
        b.push(&[1, 2], 3);
        b.push(&[4, 5], 6);
        let recs = b.records();
        assert_eq!(recs.len(), 2 * 7);
        assert_eq!(&recs[..3], &[1, 2, 3]);
        assert_eq!(recs[6], NOT_RUN);
        assert!(Outcomes::from_records(b.layout(), recs.clone()).is_err());
        let mut done = recs;
        done[6] = 0;
        done[13] = libc::SIGFPE as u64;
        done[3] = 10;
        done[5] = 7;
        let out = Outcomes::from_records(b.layout(), done).unwrap();
        assert_eq!(out.get(0).regs, &[10, 0]);
        assert_eq!(out.get(0).flags, 7);
        assert_eq!(out.get(0).fault, None);
        assert!(out.get(0).memory.is_empty());
        assert_eq!(out.get(1).fault, Some(Fault(libc::SIGFPE)));
    }

    #[test]
    fn records_with_memory_hold_the_image_in_and_out() {
        let mut b = Batch::with_memory(vec!["a".into()]);
        b.group(vec!["nop".into()]);
        b.push_with_memory(&[1], 2, &[0x11, 0x22]);
        let l = b.layout();
        assert_eq!(b.input_words(), 1 + 1 + MEMORY_WORDS);
        let mut recs = b.records();
        assert_eq!(recs.len(), l.words());
        assert_eq!(&recs[..3], &[1, 2, 0x2211]);
        assert!(recs[3..2 + MEMORY_WORDS].iter().all(|&w| w == 0));
        recs[l.memory_out / 8] = 0x4433;
        recs[l.out / 8] = 5;
        recs[l.fault / 8] = 0;
        let out = Outcomes::from_records(l, recs).unwrap();
        let o = out.get(0);
        assert_eq!(o.regs, &[5]);
        assert_eq!(o.memory.len(), MEMORY_WORDS);
        assert_eq!(&o.memory_bytes()[..3], &[0x33, 0x44, 0]);
        assert_eq!(l.fault, l.stride - 8);
        assert_eq!(MEMORY_WINDOW % 4096, 4096 - MEMORY_BYTES as u64);
    }
}
