//! An address-space limit for a child process, shared by the tests that
//! feed the binary hostile input (`common`) and the input benchmark
//! (`benches/inputs.rs`, which includes this file by path).

use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// Makes `cmd`'s child run with at most `bytes` of address space
/// (`RLIMIT_AS`), so that a runaway allocation fails instead of taking
/// the machine down.
pub fn limit_address_space(cmd: &mut Command, bytes: u64) {
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing
    // else of the parent.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
