//! Vectors of instructions that access memory: where the access lands in
//! the memory window, what the spec says memory holds and becomes, and
//! how a disagreement about memory reads.
//!
//! The window is [`MEMORY_BYTES`] bytes at [`MEMORY_WINDOW`], the end of
//! a page that an unmapped page follows (`loweq-machine`). The base
//! register (the mapping's `address`) is placed by the spec itself: with
//! the register zero, the spec's address says where the access would be,
//! and the register is set to move it to the chosen offset. A spec whose
//! address is wrong then disagrees with where the machine accesses.

use loweq_machine::{MEMORY_BYTES, MEMORY_WINDOW};
use loweq_semantics::value::{BitVec, Value};

use crate::check::Vector;
use crate::oracle::{Access, Expected, Oracle, Seed};
use crate::plan::{AccessKind, Job, Param};
use crate::report::Observed;
use crate::vectors::{self, Rng};

/// The bytes `after` changed from `before` (the window at
/// [`MEMORY_WINDOW`]), as runs: `[0x…fc4] = cd ab`.
pub(crate) fn writes(before: &[u8], after: &[u8]) -> String {
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < after.len() {
        if before.get(i) == Some(&after[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < after.len() && before.get(i) != Some(&after[i]) {
            i += 1;
        }
        let bytes: Vec<String> = after[start..i].iter().map(|b| format!("{b:02x}")).collect();
        runs.push(format!(
            "[{}] = {}",
            BitVec::from_u128(64, u128::from(MEMORY_WINDOW + start as u64)).hex_grouped(),
            bytes.join(" ")
        ));
    }
    if runs.is_empty() {
        "nothing written".into()
    } else {
        runs.join(", ")
    }
}

/// The memory window's bytes, in groups of eight.
pub(crate) fn window_text(bytes: &[u8]) -> String {
    bytes
        .chunks(8)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a disagreement of an instruction that accesses memory means, when
/// one side faulted.
pub(crate) fn access_note(
    job: &Job,
    v: &Vector,
    spec: &Observed,
    machine: &Observed,
) -> Option<String> {
    let base = job
        .address
        .map(|r| format!("`{}` ({})", address_path(job), job.regs[r]))
        .unwrap_or_default();
    match (spec, machine) {
        (Observed::Memory { .. }, Observed::Trap(_)) => Some(format!(
            "the machine faulted: its access left the vector's memory. The harness chose \
             {base} so that the spec's access lands in it, so the machine accesses \
             another address than the spec says, or more bytes"
        )),
        (Observed::Trap(_), Observed::Memory { .. }) if v.fault.is_some() => Some(
            "the spec's access runs past the vector's memory, the machine's does not: \
             the machine accesses fewer bytes than the spec says, or elsewhere"
                .into(),
        ),
        _ => None,
    }
}

/// The path of the address register operand (`a.base`).
fn address_path(job: &Job) -> String {
    job.leaves()
        .into_iter()
        .find(|(_, p)| matches!(p, Param::Reg { reg, .. } if Some(*reg) == job.address))
        .map(|(path, _)| path)
        .unwrap_or_default()
}

/// The bytes an access of `bits` bits takes, if it is whole bytes and at
/// most 64 bits.
fn access_bytes(a: &Access, term: &str) -> Result<usize, String> {
    if a.bits == 0 || a.bits > 64 || !a.bits.is_multiple_of(8) {
        return Err(format!(
            "the spec of `{term}` accesses {} bits of memory: not 1 to 8 whole bytes",
            a.bits
        ));
    }
    Ok(a.bits as usize / 8)
}

/// A vector of an instruction that accesses memory: points the address
/// register into the memory window (where the spec's own address, with
/// that register zero, says to), reads the spec's accesses, seeds a load
/// with the window's bytes at its address (and junk above its bits),
/// applies a store to the expected window, and evaluates the spec.
#[allow(clippy::too_many_arguments)]
pub(crate) fn memory_vector(
    job: &Job,
    oracle: &mut Oracle<'_>,
    r: &mut [u64],
    args: &dyn Fn(&[u64]) -> Vec<Value>,
    v: &mut Vector,
    i: usize,
    rng: &mut Rng,
) -> Result<Expected, String> {
    let term = &job.term;
    v.expected_memory = v.memory.clone();
    let window_end = MEMORY_WINDOW + MEMORY_BYTES as u64;
    // Placement: the address with the register zero, then the register
    // set to land the access at the chosen offset.
    let mut target = None;
    if let Some(reg) = job.address {
        r[reg] = 0;
        let probe = oracle.accesses(&args(r))?;
        if let Some(a) = probe.iter().find(|a| a.active) {
            let bytes = access_bytes(a, term)?;
            let at = MEMORY_WINDOW + vectors::placement(i, bytes, rng) as u64;
            r[reg] = at.wrapping_sub(a.addr);
            target = Some(at);
        }
    }
    let args = args(r);
    let accesses = oracle.accesses(&args)?;
    let mut states = Vec::new();
    for (k, a) in accesses.iter().enumerate() {
        if !a.active {
            states.push(Seed::of(a, 0));
            continue;
        }
        let bytes = access_bytes(a, term)?;
        let verb = match a.kind {
            AccessKind::Load => "loads",
            AccessKind::Store => "stores",
        };
        let start = a.addr.wrapping_sub(MEMORY_WINDOW) as usize;
        if a.addr < MEMORY_WINDOW || a.addr >= window_end {
            let hex = |x: u64| BitVec::from_u128(64, u128::from(x)).hex_grouped();
            return Err(format!(
                "the spec {verb} {bytes} bytes at {} ({}), outside the vector's memory \
                 ({} to {}){}",
                hex(a.addr),
                oracle.state_name(k),
                hex(MEMORY_WINDOW),
                hex(window_end - 1),
                target
                    .map(|t| format!(
                        "; its address with the base zero put the access at {}",
                        hex(t)
                    ))
                    .unwrap_or_default()
            ));
        }
        let end = (start + bytes).min(MEMORY_BYTES);
        if start + bytes > MEMORY_BYTES && v.fault.is_none() {
            v.fault = Some(format!(
                "fault: the spec {verb} {bytes} bytes at {}, {} past the vector's memory,                  in the unmapped page",
                BitVec::from_u128(64, u128::from(a.addr)).hex_grouped(),
                start + bytes - MEMORY_BYTES
            ));
        }
        let value = match a.kind {
            AccessKind::Load => {
                let mut le = [0u8; 8];
                le[..end - start].copy_from_slice(&v.memory[start..end]);
                let held = u64::from_le_bytes(le);
                // Junk above the bits loaded: a spec that reads it is wrong.
                let junk = if bytes == 8 {
                    0
                } else {
                    rng.bits() << (8 * bytes)
                };
                held | junk
            }
            AccessKind::Store => {
                let w = a.value.unwrap_or(0);
                if bytes < 8 && w >> (8 * bytes) != 0 {
                    return Err(format!(
                        "the spec of `{term}` stores {}, which has bits set above its {}                          bits (a store's `value` is zero-extended: docs/memory.md)",
                        BitVec::from_u128(64, u128::from(w)).hex_grouped(),
                        a.bits
                    ));
                }
                let le = w.to_le_bytes();
                v.expected_memory[start..end].copy_from_slice(&le[..end - start]);
                w
            }
        };
        states.push(Seed::of(a, value));
    }
    oracle.eval(&args, &states)
}
