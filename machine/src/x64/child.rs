//! Running generated code in a child process.
//!
//! Why a child: the code under test is machine code generated from tables
//! that people edit. A fault it is meant to raise (`#DE`) must become a
//! result, and a fault it is not meant to raise (a wrong table entry that
//! writes through a junk pointer) must not corrupt or kill the caller, which
//! may be a test harness running other tests in other threads.
//!
//! How: the code is copied into an executable page and the records into a
//! shared anonymous mapping; then `fork`. The child installs a handler for
//! SIGFPE, SIGSEGV, SIGBUS, SIGILL and SIGTRAP, calls the code and exits.
//! When the code faults, the handler writes the signal number into the
//! current record (r15 points at it) and resumes at the address in r13 (the
//! group's resume point, which skips to the next vector). A fault outside
//! the generated code restores the default action, so the child dies and
//! the parent reports it; an alarm bounds the child's run time. A batch
//! with memory has the child map the window's page and reserve the page
//! after it (`MAP_FIXED_NOREPLACE`, so nothing of the parent's is
//! replaced) before it runs the code. Between
//! `fork` and `_exit` the child only calls async-signal-safe functions and
//! allocates nothing, as a child of a multi-threaded process must.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::MachineError;

/// The generated code's address range, in the child.
static CODE_START: AtomicUsize = AtomicUsize::new(0);
static CODE_END: AtomicUsize = AtomicUsize::new(0);
/// The index of the fault word in a record, in the child.
static FAULT_WORD: AtomicUsize = AtomicUsize::new(0);

/// Seconds the child may run before it is killed.
const ALARM_SECS: u32 = 120;

const SIGNALS: [libc::c_int; 5] = [
    libc::SIGFPE,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGTRAP,
];

/// An anonymous mapping, unmapped on drop.
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    fn new(len: usize, shared: bool) -> Result<Mapping, MachineError> {
        let len = len.max(1).next_multiple_of(4096);
        let kind = if shared {
            libc::MAP_SHARED
        } else {
            libc::MAP_PRIVATE
        };
        // SAFETY: a fresh anonymous mapping; no existing memory is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                kind | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(MachineError::Crashed(format!(
                "mmap failed: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(Mapping { ptr, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `Mapping::new` and is not used
        // after this.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

extern "C" fn on_fault(sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for an SA_SIGINFO handler;
    // r15 points at the current record whenever RIP is in the generated
    // code, and r13 holds the resume address in the same code.
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let gregs = &mut uc.uc_mcontext.gregs;
        let rip = gregs[libc::REG_RIP as usize] as usize;
        if rip < CODE_START.load(Ordering::Relaxed) || rip >= CODE_END.load(Ordering::Relaxed) {
            libc::signal(sig, libc::SIG_DFL);
            return;
        }
        let rec = gregs[libc::REG_R15 as usize] as *mut u64;
        *rec.add(FAULT_WORD.load(Ordering::Relaxed)) = sig as u64;
        gregs[libc::REG_RIP as usize] = gregs[libc::REG_R13 as usize];
    }
}

/// The child's exit status when the memory window cannot be mapped.
const NO_WINDOW: i32 = 4;

/// In the child: maps the memory window's page (read-write) and reserves
/// the page after it (no access), at their fixed addresses; false if
/// either is taken.
///
/// # Safety
///
/// Only system calls: async-signal-safe.
unsafe fn map_window() -> bool {
    let page = crate::MEMORY_PAGE as *mut libc::c_void;
    let p = libc::mmap(
        page,
        2 * 4096,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
        -1,
        0,
    );
    if p != page {
        return false;
    }
    libc::mprotect(
        (crate::MEMORY_PAGE + 4096) as *mut libc::c_void,
        4096,
        libc::PROT_NONE,
    ) == 0
}

/// In the child: handlers, alarm, the memory window if asked for, run,
/// exit. Never returns.
///
/// # Safety
///
/// `code` must hold the generated function and `records` its records.
unsafe fn child(code: &Mapping, records: &Mapping, fault_word: usize, memory: bool) -> ! {
    CODE_START.store(code.ptr as usize, Ordering::Relaxed);
    CODE_END.store(code.ptr as usize + code.len, Ordering::Relaxed);
    FAULT_WORD.store(fault_word, Ordering::Relaxed);
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    for sig in SIGNALS {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_fault as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
            libc::_exit(3);
        }
        libc::sigaddset(&mut set, sig);
    }
    libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    if memory && !map_window() {
        libc::_exit(NO_WINDOW);
    }
    libc::alarm(ALARM_SECS);
    let f: extern "C" fn(*mut u64) = std::mem::transmute(code.ptr);
    f(records.ptr as *mut u64);
    libc::_exit(0)
}

/// Runs `code` (a function taking the records' address) over `records` in
/// a child process and copies the records back; with `memory`, the child
/// maps the memory window first.
pub(crate) fn run(
    code: &[u8],
    records: &mut [u64],
    fault_word: usize,
    memory: bool,
) -> Result<(), MachineError> {
    let exec = Mapping::new(code.len(), false)?;
    let shared = Mapping::new(std::mem::size_of_val(records), true)?;
    // SAFETY: both mappings are at least as large as what is copied in,
    // and the code mapping is made executable (and read-only) before use.
    unsafe {
        std::ptr::copy_nonoverlapping(code.as_ptr(), exec.ptr as *mut u8, code.len());
        std::ptr::copy_nonoverlapping(records.as_ptr(), shared.ptr as *mut u64, records.len());
        if libc::mprotect(exec.ptr, exec.len, libc::PROT_READ | libc::PROT_EXEC) != 0 {
            return Err(MachineError::Crashed(format!(
                "mprotect failed: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    // SAFETY: the child only runs `child`, which is async-signal-safe.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(MachineError::Crashed(format!(
            "fork failed: {}",
            std::io::Error::last_os_error()
        )));
    }
    if pid == 0 {
        // SAFETY: the mappings hold the code and its records.
        unsafe { child(&exec, &shared, fault_word, memory) }
    }
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(MachineError::Crashed(format!("waitpid failed: {err}")));
        }
    }
    // SAFETY: the shared mapping holds `records.len()` words.
    unsafe {
        std::ptr::copy_nonoverlapping(
            shared.ptr as *const u64,
            records.as_mut_ptr(),
            records.len(),
        );
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    let how = if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        if sig == libc::SIGALRM {
            format!("did not finish within {ALARM_SECS} s")
        } else {
            format!("died of {}", crate::Fault(sig))
        }
    } else if libc::WEXITSTATUS(status) == NO_WINDOW {
        return Err(MachineError::Crashed(format!(
            "the memory window cannot be mapped at {:#x} (something else is there)",
            crate::MEMORY_PAGE
        )));
    } else {
        format!("exited with status {}", libc::WEXITSTATUS(status))
    };
    let stride = fault_word + 1;
    let at = records
        .chunks_exact(stride)
        .position(|r| r[fault_word] == crate::NOT_RUN)
        .map(|i| format!(" at vector {i}"))
        .unwrap_or_default();
    Err(MachineError::Crashed(format!(
        "the process running the code {how}{at}"
    )))
}
