//! The two instruction sets: register names by width, and the machine
//! that runs each.

use loweq_machine::{Machine, MachineError};

/// An instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// x86-64.
    X64,
    /// AArch64.
    Aarch64,
}

/// x86-64 general registers: 64-, 32-, 16- and 8-bit names.
const X64_REGS: [[&str; 4]; 16] = [
    ["rax", "eax", "ax", "al"],
    ["rbx", "ebx", "bx", "bl"],
    ["rcx", "ecx", "cx", "cl"],
    ["rdx", "edx", "dx", "dl"],
    ["rsi", "esi", "si", "sil"],
    ["rdi", "edi", "di", "dil"],
    ["rbp", "ebp", "bp", "bpl"],
    ["rsp", "esp", "sp", "spl"],
    ["r8", "r8d", "r8w", "r8b"],
    ["r9", "r9d", "r9w", "r9b"],
    ["r10", "r10d", "r10w", "r10b"],
    ["r11", "r11d", "r11w", "r11b"],
    ["r12", "r12d", "r12w", "r12b"],
    ["r13", "r13d", "r13w", "r13b"],
    ["r14", "r14d", "r14w", "r14b"],
    ["r15", "r15d", "r15w", "r15b"],
];

impl Isa {
    /// Both, in report order.
    pub const ALL: [Isa; 2] = [Isa::X64, Isa::Aarch64];

    /// The name used in paths and reports (`x64`, `aarch64`).
    pub fn name(self) -> &'static str {
        match self {
            Isa::X64 => "x64",
            Isa::Aarch64 => "aarch64",
        }
    }

    /// The instruction set with the given name.
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The `width`-bit name of the register whose 64-bit name is `reg`.
    pub fn register(self, reg: &str, width: u32) -> Option<String> {
        match self {
            Isa::X64 => {
                let row = X64_REGS.iter().find(|r| r[0] == reg)?;
                let i = match width {
                    64 => 0,
                    32 => 1,
                    16 => 2,
                    8 => 3,
                    _ => return None,
                };
                Some(row[i].to_string())
            }
            Isa::Aarch64 => {
                let n: u32 = reg.strip_prefix('x')?.parse().ok()?;
                if n > 30 {
                    return None;
                }
                match width {
                    64 => Some(format!("x{n}")),
                    32 => Some(format!("w{n}")),
                    _ => None,
                }
            }
        }
    }

    /// A machine that runs this instruction set here.
    pub fn machine(self) -> Result<Box<dyn Machine>, MachineError> {
        match self {
            Isa::X64 => native_x64(),
            Isa::Aarch64 => Ok(Box::new(loweq_machine::aarch64::Qemu::new()?)),
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn native_x64() -> Result<Box<dyn Machine>, MachineError> {
    Ok(Box::new(loweq_machine::x64::Native::new()))
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn native_x64() -> Result<Box<dyn Machine>, MachineError> {
    Err(MachineError::Unavailable {
        what: "x86-64".into(),
        reason: "this is not an x86-64 Linux machine".into(),
        install: "run the x86-64 conformance on an x86-64 Linux machine".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_names_by_width() {
        assert_eq!(Isa::X64.register("r8", 8).as_deref(), Some("r8b"));
        assert_eq!(Isa::X64.register("rsi", 16).as_deref(), Some("si"));
        assert_eq!(Isa::X64.register("rax", 12), None);
        assert_eq!(Isa::Aarch64.register("x3", 32).as_deref(), Some("w3"));
        assert_eq!(Isa::Aarch64.register("x31", 64), None);
        assert_eq!(Isa::Aarch64.register("w3", 32), None);
    }
}
